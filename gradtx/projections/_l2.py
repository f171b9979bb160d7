"""Projections onto l2 spheres and balls."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx import tree as tree_lib


def projection_l2_sphere(tree: Any, scale: jax.typing.ArrayLike = 1) -> Any:
  r"""Euclidean projection onto the l2 sphere of radius ``scale``.

  .. math::
    \operatorname*{argmin}_{\|p\|_2 = s} \|x - p\|_2^2 = \frac{s}{\|x\|_2} x

  The norm is of all leaves together, accumulated in float32 or wider; the
  leaves keep their dtypes.

  Args:
    tree: the pytree to project (not zero).
    scale: the radius of the sphere.

  Returns:
    The projected tree, with the structure of ``tree``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.projections.projection_l2_sphere(jnp.array([3.0, 4.0])))
    [0.6 0.8]

  References:
    Boyd and Vandenberghe, Convex Optimization, 2004 (section 8.1).
    Reproduces ``optax.projections.projection_l2_sphere``.
  """
  return tree_lib.scale(scale / tree_lib.norm(tree), tree)


def projection_l2_ball(tree: Any, scale: jax.typing.ArrayLike = 1) -> Any:
  r"""Euclidean projection onto the l2 ball of radius ``scale``.

  .. math::
    \operatorname*{argmin}_{\|p\|_2 \le s} \|x - p\|_2^2
    = \frac{s}{\max(\|x\|_2, s)} x

  Args:
    tree: the pytree to project.
    scale: the radius of the ball.

  Returns:
    The projected tree, with the structure of ``tree``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.projections.projection_l2_ball(jnp.array([3.0, 4.0]),
    ...                                             scale=2.0))
    [1.2 1.6]

  References:
    Boyd and Vandenberghe, Convex Optimization, 2004 (section 8.1).
    Reproduces ``optax.projections.projection_l2_ball``.
  """
  squared_norm = tree_lib.norm(tree, squared=True)
  factor = scale / jnp.sqrt(jnp.maximum(squared_norm, jnp.square(scale)))
  return tree_lib.scale(factor, tree)
