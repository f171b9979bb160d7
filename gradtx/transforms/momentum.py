"""Momentum: heavy-ball and Nesterov traces, and exponential moving averages."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class TraceState(NamedTuple):
  """State of :func:`trace`."""

  trace: base.Params  # like params, in accumulator_dtype (default params').


class EmaState(NamedTuple):
  """State of :func:`ema`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  ema: base.Params  # like params, in accumulator_dtype (default params').


def trace(
    decay: float,
    nesterov: bool = False,
    accumulator_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  """Heavy-ball momentum: ``m ← g + μ·m``; ``u ← m`` (Nesterov: ``u ← g + μ·m``).

  This is the PyTorch/Optax form with zero dampening: the learning rate is
  applied after the trace, so a changing learning rate rescales the whole
  buffer.

  Args:
    decay: the momentum ``μ`` in ``[0, 1]``.
    nesterov: use Nesterov's look-ahead form.
    accumulator_dtype: dtype of the trace; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`TraceState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.trace(0.9)
    >>> s = tx.init(jnp.zeros(1))
    >>> u, s = tx.update(jnp.ones(1), s)
    >>> u, s = tx.update(jnp.ones(1), s)
    >>> u
    Array([1.9], dtype=float32)

  References:
    Polyak, *Some methods of speeding up the convergence of iteration
    methods*, 1964. Sutskever et al., *On the importance of initialization
    and momentum in deep learning*, ICML 2013.
  """
  _checks.check_unit_interval('decay', decay)
  accumulator_dtype = _checks.check_dtype('accumulator_dtype', accumulator_dtype)

  def init_fn(params):
    return TraceState(trace=_leafwise.zeros_state(params, accumulator_dtype))

  def update_fn(updates, state, params=None):
    del params
    def step(g, t):
      if g is None:
        return None
      d = tu.compute_dtype(g, t)  # round once, when the trace is stored
      return g.astype(d) + decay * t.astype(d)
    new_trace = jax.tree.map(
        step, updates, state.trace, is_leaf=lambda x: x is None
    )
    out = (
        jax.tree.map(step, updates, new_trace, is_leaf=lambda x: x is None)
        if nesterov else new_trace
    )
    return _leafwise.like_updates(out, updates), TraceState(
        trace=_leafwise.store_like(new_trace, state.trace)
    )

  return base.transformation('trace', init_fn, update_fn)


def ema(
    decay: float,
    debias: bool = True,
    accumulator_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  """Exponential moving average: ``m ← (1 − d)·g + d·m``; ``u ← m / (1 − dᵗ)``.

  Args:
    decay: the decay ``d`` in ``[0, 1]``.
    debias: divide by ``1 − dᵗ`` (computed in float32) to remove the bias
      towards the zero initial value.
    accumulator_dtype: dtype of the average; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`EmaState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.ema(0.9)
    >>> u, s = tx.update(jnp.ones(1), tx.init(jnp.zeros(1)))
    >>> u
    Array([1.], dtype=float32)
  """
  _checks.check_unit_interval('decay', decay)
  accumulator_dtype = _checks.check_dtype('accumulator_dtype', accumulator_dtype)

  def init_fn(params):
    return EmaState(
        count=_hyper.zero_count(),
        ema=_leafwise.zeros_state(params, accumulator_dtype),
    )

  def update_fn(updates, state, params=None):
    del params
    new_ema = tu.update_moment(updates, state.ema, decay, order=1)
    count = tu.safe_increment(state.count)
    out = tu.bias_correction(new_ema, decay, count) if debias else new_ema
    return _leafwise.like_updates(out, updates), EmaState(
        count=count, ema=_leafwise.store_like(new_ema, state.ema)
    )

  return base.transformation('ema', init_fn, update_fn)
