"""Projections onto boxes: the non-negative orthant, hypercubes, l-inf balls."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp



def _bound_tree(bound: Any, tree: Any) -> Any:
  """``bound`` as a tree like ``tree``: a scalar is repeated for every leaf."""
  bound_def = jax.tree.structure(bound)
  if bound_def == jax.tree.structure(tree):
    return bound
  if jax.tree_util.treedef_is_leaf(bound_def) and bound_def.num_leaves == 1:
    return jax.tree.map(lambda _: bound, tree)
  raise ValueError('a bound must be a scalar or a tree with the structure of '
                   f'tree ({jax.tree.structure(tree)}), got {bound_def}')


def projection_non_negative(tree: Any) -> Any:
  r"""Euclidean projection onto the non-negative orthant.

  .. math::
    \operatorname*{argmin}_{p \ge 0} \|x - p\|_2^2 = \max(x, 0)

  Args:
    tree: the pytree to project.

  Returns:
    The projected tree, with the structure and dtypes of ``tree``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.projections.projection_non_negative(jnp.array([-1.0, 2.0])))
    [0. 2.]

  References:
    Boyd and Vandenberghe, Convex Optimization, 2004 (section 8.1).
    Reproduces ``optax.projections.projection_non_negative``.
  """
  return jax.tree.map(jax.nn.relu, tree)


def projection_box(tree: Any, lower: Any, upper: Any) -> Any:
  r"""Euclidean projection onto the box ``lower <= p <= upper``.

  .. math::
    \operatorname*{argmin}_{l \le p \le u} \|x - p\|_2^2 = \min(\max(x, l), u)

  Args:
    tree: the pytree to project.
    lower: the lower bound: a scalar (for every leaf), or a tree with the
      structure of ``tree``.
    upper: the upper bound: a scalar (for every leaf), or a tree with the
      structure of ``tree``.

  Returns:
    The projected tree, with the structure of ``tree``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.projections.projection_box(jnp.array([-2.0, 0.5, 3.0]),
    ...                                         -1.0, 1.0))
    [-1.   0.5  1. ]

  References:
    Boyd and Vandenberghe, Convex Optimization, 2004 (section 8.1).
    Reproduces ``optax.projections.projection_box``.
  """
  return jax.tree.map(jnp.clip, tree, _bound_tree(lower, tree),
                      _bound_tree(upper, tree))


def projection_hypercube(tree: Any, scale: Any = 1) -> Any:
  r"""Euclidean projection onto the hypercube ``0 <= p <= scale``.

  .. math::
    \operatorname*{argmin}_{0 \le p \le s} \|x - p\|_2^2

  Scalar bounds apply to every leaf of a pytree (in Optax 0.2.8 they only
  work when ``tree`` is a single array).

  Args:
    tree: the pytree to project.
    scale: the side of the cube: a scalar or a tree (default 1, the unit
      cube).

  Returns:
    The projected tree, with the structure of ``tree``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.projections.projection_hypercube(jnp.array([-2.0, 0.5, 3.0])))
    [0.  0.5 1. ]

  References:
    Boyd and Vandenberghe, Convex Optimization, 2004 (section 8.1).
    Reproduces ``optax.projections.projection_hypercube``.
  """
  return projection_box(tree, lower=0, upper=scale)


def projection_linf_ball(tree: Any, scale: Any = 1) -> Any:
  r"""Euclidean projection onto the l-infinity ball of radius ``scale``.

  .. math::
    \operatorname*{argmin}_{\|p\|_\infty \le s} \|x - p\|_2^2
    = \min(\max(x, -s), s)

  Args:
    tree: the pytree to project.
    scale: the radius of the ball.

  Returns:
    The projected tree, with the structure of ``tree``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.projections.projection_linf_ball(jnp.array([-2.0, 0.5]),
    ...                                               scale=1.0))
    [-1.   0.5]

  References:
    Boyd and Vandenberghe, Convex Optimization, 2004 (section 8.1).
    Reproduces ``optax.projections.projection_linf_ball``.
  """
  return projection_box(tree, lower=-scale, upper=scale)
