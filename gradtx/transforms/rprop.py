"""Rprop: per-coordinate step sizes driven by the sign of the gradient."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _leafwise
from gradtx import base
from gradtx import tree as tu


class ScaleByRpropState(NamedTuple):
  """State of :func:`scale_by_rprop` (field names as in Optax)."""

  step_sizes: base.Updates  # per-coordinate step size Δ, like params.
  prev_updates: base.Updates  # Δ·sign(g) of the last step (0 after a sign
  # change), like params.


def _check_rprop_args(learning_rate, eta_minus, eta_plus, min_step_size,
                      max_step_size) -> None:
  if callable(learning_rate):
    raise ValueError(
        'rprop: learning_rate is the initial step size and must be a number, '
        f'not a schedule; got {learning_rate!r}'
    )
  _checks.check_positive('learning_rate', learning_rate)
  _checks.check_non_negative('eta_minus', eta_minus)
  _checks.check_non_negative('eta_plus', eta_plus)
  _checks.check_non_negative('min_step_size', min_step_size)
  _checks.check_non_negative('max_step_size', max_step_size)
  if (_checks._is_concrete_number(min_step_size)  # pylint: disable=protected-access
      and _checks._is_concrete_number(max_step_size)  # pylint: disable=protected-access
      and float(max_step_size) < float(min_step_size)):
    raise ValueError(
        f'max_step_size must be >= min_step_size, got max_step_size='
        f'{max_step_size!r} < min_step_size={min_step_size!r}'
    )


def scale_by_rprop(
    learning_rate: float,
    eta_minus: float = 0.5,
    eta_plus: float = 1.2,
    min_step_size: float = 1e-6,
    max_step_size: float = 50.0,
) -> base.GradientTransformation:
  """Rescales updates by Rprop's sign-adapted step sizes (iRprop⁻ as in Optax).

  .. code-block:: text

    s = g_t · p_{t−1}        (p: the previous output, 0 after a sign change)
    Δ ← Δ                                 if s = 0
        clip(Δ·eta_plus,  min, max)       if s > 0
        clip(Δ·eta_minus, min, max)       if s < 0
    p_t = 0 if s < 0 else Δ·sign(g_t)
    u = 0 if s < 0 else p_{t−1}

  ``Δ`` starts at ``learning_rate``. The output is the *previous* step's
  ``Δ·sign(g)`` (zero after a sign change), exactly as Optax computes it; the
  first output is zero. Chain a sign flip (:func:`rprop` does) to descend.

  Args:
    learning_rate: the initial step size ``Δ₀ > 0`` (a number).
    eta_minus: factor applied to ``Δ`` when the gradient changes sign, ``≥ 0``
      (usually in ``(0, 1)``).
    eta_plus: factor applied when it keeps its sign, ``≥ 0`` (usually ``> 1``).
    min_step_size: lower clip on ``Δ``, ``≥ 0``.
    max_step_size: upper clip on ``Δ``, ``≥ min_step_size``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`ScaleByRpropState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_rprop(0.1)
    >>> s = tx.init(jnp.zeros(2))
    >>> u, s = tx.update(jnp.array([1.0, -2.0]), s)
    >>> u, s = tx.update(jnp.array([3.0, 2.0]), s)
    >>> u  # last step's 0.1·sign(g); the sign change of g[1] zeroes it
    Array([0.1, 0. ], dtype=float32)
    >>> s.step_sizes  # grown by 1.2 where the sign held, halved where not
    Array([0.12, 0.05], dtype=float32)

  References:
    Riedmiller & Braun, *A Direct Adaptive Method for Faster Backpropagation
    Learning: The RPROP Algorithm*, ICNN 1993.
    Igel & Hüsken, *Empirical Evaluation of the Improved Rprop Learning
    Algorithms*, Neurocomputing 2003.
  """
  _check_rprop_args(learning_rate, eta_minus, eta_plus, min_step_size,
                    max_step_size)

  def init_fn(params):
    return ScaleByRpropState(
        step_sizes=tu.full_like(params, learning_rate),
        prev_updates=tu.zeros_like(params),
    )

  def update_fn(updates, state, params=None):
    del params
    g = tu.upcast(updates)
    prev = tu.upcast(state.prev_updates)
    s = jax.tree.map(jnp.multiply, g, prev)

    def new_step_size(s, delta):
      factor = jnp.where(s > 0, eta_plus, eta_minus)
      grown = jnp.clip(delta * factor, min_step_size, max_step_size)
      return jnp.where(s == 0, delta, grown)

    step_sizes = jax.tree.map(
        new_step_size, s, tu.upcast(state.step_sizes)
    )
    new_prev = jax.tree.map(
        lambda s, g, d: jnp.where(s < 0, 0.0, d * jnp.sign(g)).astype(g.dtype),
        s, g, step_sizes,
    )
    out = jax.tree.map(
        lambda s, p: jnp.where(s < 0, jnp.zeros_like(p), p), s, prev
    )
    return _leafwise.like_updates(out, updates), ScaleByRpropState(
        step_sizes=_leafwise.store_like(step_sizes, state.step_sizes),
        prev_updates=_leafwise.store_like(new_prev, state.prev_updates),
    )

  return base.transformation('scale_by_rprop', init_fn, update_fn)
