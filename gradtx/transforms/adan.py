"""Adan: Adam-style moments of the gradient and of its change (Nesterov)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import _leafwise
from gradtx import base
from gradtx import tree as tu


class ScaleByAdanState(NamedTuple):
  """State of :func:`scale_by_adan` (field names as in Optax)."""

  m: base.Updates  # EMA of gradients, like params.
  v: base.Updates  # EMA of gradient differences g_t − g_{t−1}, like params.
  n: base.Updates  # EMA of |g + (1 − b2)·Δg|², like params (real).
  g: base.Updates  # the previous gradient, like params.
  t: jax.Array  # int32 scalar: number of updates seen so far.


def scale_by_adan(
    b1: float = 0.98,
    b2: float = 0.92,
    b3: float = 0.99,
    eps: float = 1e-8,
    eps_root: float = 0.0,
) -> base.GradientTransformation:
  r"""Rescales updates by Adan's three moments (Nesterov momentum estimation).

  .. code-block:: text

    Δg = g_t − g_{t−1}   (0 at the first step)
    m ← b1·m + (1 − b1)·g          v ← b2·v + (1 − b2)·Δg
    n ← b3·n + (1 − b3)·|g + (1 − b2)·Δg|²
    m̂, v̂, n̂ = m, v, n divided by (1 − b1ᵗ), (1 − b2ᵗ), (1 − b3ᵗ)
    u = (m̂ + (1 − b2)·v̂) / (√(n̂ + eps_root) + eps)

  The ``b``'s weigh the *old* average, as in Optax's code (the paper writes
  ``1 − b``). Moments are computed in float32 and stored in the params' dtype.

  Args:
    b1: decay of the gradient average, in ``[0, 1)``.
    b2: decay of the gradient-difference average, in ``[0, 1)``.
    b3: decay of the squared term, in ``[0, 1)``.
    eps: added to the root of ``n̂``, ``≥ 0``.
    eps_root: added inside the root, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`ScaleByAdanState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_adan()
    >>> u, s = tx.update(jnp.array([2.0, -3.0]), tx.init(jnp.zeros(2)))
    >>> u  # the first step is sign(g), up to eps
    Array([ 1., -1.], dtype=float32)

  References:
    Xie et al., *Adan: Adaptive Nesterov Momentum Algorithm for Faster
    Optimizing Deep Models*, IEEE TPAMI 2024 (arXiv:2208.06677, Algorithm 1).
  """
  for name, b in (('b1', b1), ('b2', b2), ('b3', b3)):
    _checks.check_beta(name, b)
  _checks.check_non_negative('eps', eps)
  _checks.check_non_negative('eps_root', eps_root)

  def init_fn(params):
    zeros = _leafwise.zeros_state(params, None)
    return ScaleByAdanState(
        m=zeros, v=zeros, n=_leafwise.real_full_like(params, 0, None),
        g=zeros, t=_hyper.zero_count(),
    )

  def update_fn(updates, state, params=None):
    del params
    g = tu.upcast(updates)
    diff = tu.where(
        state.t == 0, tu.zeros_like(g), tu.sub(g, tu.upcast(state.g))
    )
    m = tu.update_moment(g, state.m, b1, 1)
    v = tu.update_moment(diff, state.v, b2, 1)
    n = tu.update_moment_per_elem_norm(
        tu.add_scale(g, 1 - b2, diff), state.n, b3, 2
    )
    t = tu.safe_increment(state.t)
    numer = tu.add_scale(
        tu.bias_correction(m, b1, t), 1 - b2, tu.bias_correction(v, b2, t)
    )
    out = jax.tree.map(
        lambda x, nh: x / (jnp.sqrt(nh + eps_root) + eps),
        numer, tu.bias_correction(n, b3, t),
    )
    return _leafwise.like_updates(out, updates), ScaleByAdanState(
        m=_leafwise.store_like(m, state.m),
        v=_leafwise.store_like(v, state.v),
        n=_leafwise.store_like(n, state.n),
        g=_leafwise.store_like(g, state.g),
        t=t,
    )

  return base.transformation('scale_by_adan', init_fn, update_fn)
