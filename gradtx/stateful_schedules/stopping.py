"""An early-stopping monitor whose state can live inside a compiled loop.

The monitor is a pair of pure functions, like a gradient transformation:
``init() -> state`` and ``update(state, value) -> state``. The state is a
small pytree of scalars, so it can be carried through :func:`jax.lax.scan`,
:func:`jax.lax.while_loop` or a jitted step, and the loop reads
``state.should_stop``.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import tree as tu
from gradtx.stateful_schedules import plateau as _plateau


class EarlyStoppingState(NamedTuple):
  """State of an :func:`early_stopping` monitor."""

  best_value: jax.Array  # float32 scalar: best monitored value (±inf before any).
  best_step: jax.Array  # int32 scalar: index of the value that set best_value.
  wait: jax.Array  # int32 scalar: values seen since the last counted improvement.
  step: jax.Array  # int32 scalar: number of values given to update so far.
  should_stop: jax.Array  # bool scalar: True once stopping was triggered (sticky).


class EarlyStopping(NamedTuple):
  """An early-stopping monitor: a pair of pure functions.

  Attributes:
    init: ``init() -> EarlyStoppingState``.
    update: ``update(state, value) -> EarlyStoppingState``; jittable.
  """

  init: Callable[[], EarlyStoppingState]
  update: Callable[[EarlyStoppingState, Any], EarlyStoppingState]


def early_stopping(
    patience: int = 0,
    mode: str = 'min',
    min_delta: float = 0.0,
    baseline: Optional[float] = None,
    start_from_step: int = 0,
) -> EarlyStopping:
  r"""Monitors a value and raises a flag when it stops improving.

  Follows Keras's ``EarlyStopping`` callback; step ``i`` is the ``i``-th call
  of ``update`` (Keras's epoch ``i``):

  .. code-block:: text

    steps i < start_from_step are ignored (only the step counter moves)
    wait ← wait + 1
    improved = first value, or v + min_delta < best   (mode='min')
                           or v − min_delta > best   (mode='max')
    if improved:
      best ← v, best_step ← i
      wait ← 0 unless a baseline is given and v does not improve on it
    elif wait ≥ patience and i > 0:
      should_stop ← True

  Once ``should_stop`` is True the state is frozen (only ``step`` keeps
  counting), so in a loop that cannot break (``lax.scan``) ``best_value`` and
  ``best_step`` still describe the run up to the stop.

  So with ``patience = p`` the flag goes up at the ``p``-th consecutive
  value without improvement (the first one for the default ``p = 0``). With a
  ``baseline``, values that do not beat it keep the wait growing, and the
  flag goes up at the first non-improving value once ``wait ≥ patience``.

  Everything is computed with ``jnp.where``, so ``update`` can be called on
  traced values inside ``jit``, ``lax.scan`` or ``lax.while_loop``.

  Args:
    patience: values without improvement tolerated before stopping, ``≥ 0``.
    mode: ``'min'`` (a loss) or ``'max'`` (an accuracy).
    min_delta: an improvement must beat the best by more than this
      (absolute), ``≥ 0``.
    baseline: optional value the monitored quantity must beat for the wait to
      be reset.
    start_from_step: number of initial values to ignore (a warmup), ``≥ 0``.

  Returns:
    An :class:`EarlyStopping` monitor ``(init, update)``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> monitor = gradtx.early_stopping(patience=2)
    >>> losses = jnp.array([3.0, 2.0, 2.5, 2.2, 1.0])
    >>> def body(state, loss):
    ...   state = monitor.update(state, loss)
    ...   return state, state.should_stop
    >>> state, flags = jax.lax.scan(body, monitor.init(), losses)
    >>> flags
    Array([False, False, False,  True,  True], dtype=bool)
    >>> state.best_value, state.best_step
    (Array(2., dtype=float32), Array(1, dtype=int32))
  """
  _plateau.check_count_arg('patience', patience, 0)
  _plateau.check_count_arg('start_from_step', start_from_step, 0)
  if mode not in ('min', 'max'):
    raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
  _checks.check_callable_or_number('min_delta', min_delta)
  _checks.check_non_negative('min_delta', min_delta)
  if baseline is not None:
    _checks.check_callable_or_number('baseline', baseline)
    if callable(baseline):
      raise ValueError(f'baseline must be a number or None, got {baseline!r}')
  minimise = mode == 'min'
  worst = float('inf') if minimise else float('-inf')

  def beats(v, ref):
    return v + min_delta < ref if minimise else v - min_delta > ref

  def init_fn() -> EarlyStoppingState:
    return EarlyStoppingState(
        best_value=jnp.asarray(worst, jnp.float32),
        best_step=_hyper.zero_count(),
        wait=_hyper.zero_count(),
        step=_hyper.zero_count(),
        should_stop=jnp.zeros([], jnp.bool_),
    )

  def update_fn(state: EarlyStoppingState, value: Any) -> EarlyStoppingState:
    v = jnp.asarray(value).astype(jnp.float32)
    i = state.step
    active = (i >= start_from_step) & jnp.logical_not(state.should_stop)
    wait = tu.safe_increment(state.wait)
    # Keras starts from ``best = None``; the initial ±inf plays that role.
    improved = (state.best_value == worst) | beats(v, state.best_value)
    reset = improved if baseline is None else improved & beats(v, baseline)
    stop = jnp.logical_not(improved) & (wait >= patience) & (i > 0)
    keep = lambda new, old: jnp.where(active, new, old).astype(old.dtype)
    return EarlyStoppingState(
        best_value=keep(jnp.where(improved, v, state.best_value), state.best_value),
        best_step=keep(jnp.where(improved, i, state.best_step), state.best_step),
        wait=keep(jnp.where(reset, 0, wait), state.wait),
        step=tu.safe_increment(i),
        should_stop=state.should_stop | (active & stop),
    )

  return EarlyStopping(init_fn, update_fn)
