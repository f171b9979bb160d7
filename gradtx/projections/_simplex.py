"""Projections onto the simplex and onto l1 spheres and balls."""

from __future__ import annotations

from typing import Any

import jax
from jax import flatten_util
import jax.numpy as jnp

from gradtx import tree as tree_lib


def _unit_simplex(v: jax.Array) -> jax.Array:
  """Projection of a vector onto ``{p >= 0, sum(p) = 1}`` by sorting.

  The result is ``max(v - tau, 0)``, where ``tau`` makes it sum to 1; with
  ``u`` sorted in decreasing order, the support is the ``rho`` largest
  entries, ``rho`` the number of ``k`` with ``u_k > (sum_{j<=k} u_j - 1) / k``.
  Differentiating through the sort gives the Jacobian of the projection:
  identity minus its mean on the support, zero off it.
  """
  u = jnp.sort(v)[::-1]
  partial_sums = jnp.cumsum(u)
  k = jnp.arange(1, v.shape[0] + 1, dtype=v.dtype)
  rho = jnp.sum(u * k > partial_sums - 1)
  tau = (partial_sums[rho - 1] - 1) / rho.astype(v.dtype)
  return jax.nn.relu(v - tau)


def projection_simplex(tree: Any, scale: jax.typing.ArrayLike = 1) -> Any:
  r"""Euclidean projection of a whole pytree onto the simplex of sum ``scale``.

  .. math::
    \operatorname*{argmin}_{p \ge 0,\ \sum p = s} \|x - p\|_2^2
    = \max(x - \tau, 0)

  with :math:`\tau` the threshold that makes the result sum to :math:`s`,
  found by sorting (all leaves together, as one vector). Computed in
  float32 or wider; the leaves keep their dtypes.

  Args:
    tree: the pytree to project.
    scale: the value the projection sums to (default 1, the probability
      simplex).

  Returns:
    The projected tree, with the structure of ``tree``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.projections.projection_simplex(jnp.array([2.5, 3.2, 0.5])))
    [0.15 0.85 0.  ]

  References:
    Held, Wolfe and Crowder, Validation of Subgradient Optimization, 1974;
    Duchi et al., Efficient Projections onto the l1-Ball for Learning in
    High Dimensions, ICML 2008. Reproduces
    ``optax.projections.projection_simplex``.
  """
  values, unravel = flatten_util.ravel_pytree(tree)
  v = tree_lib.upcast(values)
  projected = scale * _unit_simplex(v / scale)
  return unravel(projected.astype(values.dtype))


def projection_l1_sphere(tree: Any, scale: jax.typing.ArrayLike = 1) -> Any:
  r"""Euclidean projection onto the l1 sphere of radius ``scale``.

  .. math::
    \operatorname*{argmin}_{\|p\|_1 = s} \|x - p\|_2^2
    = \mathrm{sign}(x) \odot \Pi_{\Delta_s}(|x|)

  where :math:`\Pi_{\Delta_s}` is ``projection_simplex`` with sum ``s``.

  Args:
    tree: the pytree to project.
    scale: the radius of the sphere.

  Returns:
    The projected tree, with the structure of ``tree``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.projections.projection_l1_sphere(jnp.array([0.2, -0.3])))
    [ 0.45 -0.55]

  References:
    Duchi et al., Efficient Projections onto the l1-Ball for Learning in
    High Dimensions, ICML 2008. Reproduces
    ``optax.projections.projection_l1_sphere``.
  """
  magnitudes = projection_simplex(jax.tree.map(jnp.abs, tree), scale)
  return tree_lib.mul(jax.tree.map(jnp.sign, tree), magnitudes)


def projection_l1_ball(tree: Any, scale: jax.typing.ArrayLike = 1) -> Any:
  r"""Euclidean projection onto the l1 ball of radius ``scale``.

  .. math::
    \operatorname*{argmin}_{\|p\|_1 \le s} \|x - p\|_2^2 =
    \begin{cases} x & \|x\|_1 \le s \\
    \text{projection onto the l1 sphere} & \text{otherwise} \end{cases}

  Args:
    tree: the pytree to project.
    scale: the radius of the ball.

  Returns:
    The projected tree, with the structure of ``tree``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> data = {'w': jnp.array([2.5, 3.2]), 'b': jnp.array(0.5)}
    >>> out = gradtx.projections.projection_l1_ball(data)
    >>> print(gradtx.tree.norm(out, ord=1))
    1.0

  References:
    Duchi et al., Efficient Projections onto the l1-Ball for Learning in
    High Dimensions, ICML 2008. Reproduces
    ``optax.projections.projection_l1_ball``.
  """
  inside = tree_lib.norm(tree, ord=1) <= scale
  return jax.lax.cond(inside, lambda t: t,
                      lambda t: projection_l1_sphere(t, scale), tree)
