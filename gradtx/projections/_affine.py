"""Projections onto a line, a hyperplane and a halfspace."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx import tree as tree_lib


def _inner(x: Any, y: Any) -> jax.Array:
  """``<x, y>`` over all leaves, accumulated in float32 or wider."""
  return tree_lib.vdot(tree_lib.upcast(x), tree_lib.upcast(y))


def projection_vector(x: Any, a: Any) -> Any:
  r"""Orthogonal projection of ``x`` onto the line spanned by ``a``.

  .. math::
    \operatorname{proj}_a x = \frac{\langle x, a \rangle}{\langle a, a \rangle} a

  Args:
    x: the pytree to project.
    a: a non-zero pytree with the structure of ``x``.

  Returns:
    A multiple of ``a``, with the structure and dtypes of ``a``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.projections.projection_vector(jnp.array([2.0, 1.0]),
    ...                                            jnp.array([1.0, 0.0])))
    [2. 0.]

  References:
    Boyd and Vandenberghe, Convex Optimization, 2004 (section 8.1).
    Reproduces ``optax.projections.projection_vector``.
  """
  return tree_lib.scale(_inner(x, a) / _inner(a, a), a)


def _hyperplane_step(x: Any, a: Any, b: jax.typing.ArrayLike) -> jax.Array:
  """``(b - <a, x>) / <a, a>``: the multiple of ``a`` that reaches the plane."""
  return (b - _inner(x, a)) / _inner(a, a)


def projection_hyperplane(x: Any, a: Any, b: jax.typing.ArrayLike) -> Any:
  r"""Euclidean projection onto the hyperplane ``<a, y> = b``.

  .. math::
    \operatorname*{argmin}_{\langle a, y \rangle = b} \|x - y\|_2^2
    = x + \frac{b - \langle a, x \rangle}{\langle a, a \rangle} a

  Args:
    x: the pytree to project.
    a: the (non-zero) normal of the hyperplane, a pytree with the structure
      of ``x``.
    b: the offset, a scalar.

  Returns:
    The projected tree, with the structure and dtypes of ``x``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.projections.projection_hyperplane(
    ...     jnp.array([2.0, 1.0]), jnp.array([1.0, 1.0]), 1.0))
    [1. 0.]

  References:
    Boyd and Vandenberghe, Convex Optimization, 2004 (section 8.1).
    Reproduces ``optax.projections.projection_hyperplane``.
  """
  return tree_lib.add_scale(x, _hyperplane_step(x, a, b), a)


def projection_halfspace(x: Any, a: Any, b: jax.typing.ArrayLike) -> Any:
  r"""Euclidean projection onto the halfspace ``<a, y> <= b``.

  .. math::
    \operatorname*{argmin}_{\langle a, y \rangle \le b} \|x - y\|_2^2
    = x + \min\Big(\frac{b - \langle a, x \rangle}{\langle a, a \rangle},
    0\Big) a

  Args:
    x: the pytree to project.
    a: the (non-zero) normal of the halfspace, a pytree with the structure
      of ``x``.
    b: the offset, a scalar.

  Returns:
    The projected tree, with the structure and dtypes of ``x``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> a = jnp.array([1.0, 1.0])
    >>> print(gradtx.projections.projection_halfspace(jnp.array([2.0, 1.0]), a, 1.0))
    [1. 0.]
    >>> print(gradtx.projections.projection_halfspace(jnp.array([0.0, 0.5]), a, 1.0))
    [0.  0.5]

  References:
    Boyd and Vandenberghe, Convex Optimization, 2004 (section 8.1).
    Reproduces ``optax.projections.projection_halfspace``.
  """
  step = jnp.minimum(_hyperplane_step(x, a, b), 0)
  return tree_lib.add_scale(x, step, a)
