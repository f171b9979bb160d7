"""Layer-wise trust ratios: rescaling each leaf by ‖θ‖ / ‖u‖ (LARS, LAMB)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx import numerics
from gradtx import tree as tu
from gradtx import _leafwise


class ScaleByTrustRatioState(NamedTuple):
  """:func:`scale_by_trust_ratio` keeps no state."""


def scale_by_trust_ratio(
    min_norm: float = 0.0,
    trust_coefficient: float = 1.0,
    eps: float = 0.0,
) -> base.GradientTransformation:
  r"""Rescales each leaf by its trust ratio ``c·‖θ‖ / (‖u‖ + eps)``.

  .. code-block:: text

    n_θ = max(‖θₗ‖, min_norm)      n_u = max(‖uₗ‖, min_norm)
    uₗ ← uₗ · c·n_θ / (n_u + eps)   (uₗ unchanged if n_θ = 0 or n_u = 0)

  Norms are Frobenius norms over each leaf (a layer's weight matrix, say),
  computed in float32. A zero norm leaves the update as it is, so freshly
  zero-initialised biases still move.

  Args:
    min_norm: lower bound on both norms, ``≥ 0`` (0: no bound).
    trust_coefficient: the multiplier ``c``, ``≥ 0``.
    eps: added to the update norm, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation`. It needs ``params`` in
    ``update``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_trust_ratio()
    >>> p = {'w': jnp.array([3.0, 4.0]), 'b': jnp.zeros(1)}
    >>> g = {'w': jnp.array([0.0, 0.5]), 'b': jnp.array([2.0])}
    >>> u, _ = tx.update(g, tx.init(p), p)
    >>> u['w'], u['b']  # ‖θ‖/‖g‖ = 10; b has ‖θ‖ = 0 and is left alone
    (Array([0., 5.], dtype=float32), Array([2.], dtype=float32))

  References:
    You et al., *Large Batch Training of Convolutional Networks*, 2017.
    You et al., *Large Batch Optimization for Deep Learning: Training BERT
    in 76 minutes*, ICLR 2020.
  """
  _checks.check_non_negative('min_norm', min_norm)
  _checks.check_non_negative('trust_coefficient', trust_coefficient)
  _checks.check_non_negative('eps', eps)

  def scale_leaf(u, p):
    if u is None:
      return None
    p_norm = numerics.safe_norm(p, min_norm)
    u_norm = numerics.safe_norm(u, min_norm)
    ratio = trust_coefficient * p_norm / (u_norm + eps)
    ratio = jnp.where((p_norm == 0) | (u_norm == 0), 1.0, ratio)
    return u.astype(tu.compute_dtype(u)) * ratio

  def update_fn(updates, state, params=None):
    _checks.require_params('scale_by_trust_ratio', params)
    out = jax.tree.map(scale_leaf, updates, params,
                       is_leaf=lambda x: x is None)
    return _leafwise.like_updates(out, updates), state

  return base.transformation(
      'scale_by_trust_ratio', lambda params: ScaleByTrustRatioState(),
      update_fn,
  )
