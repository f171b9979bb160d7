"""Multiplying updates by a constant or a schedule."""

from __future__ import annotations

from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class ScaleState(NamedTuple):
  """``scale`` keeps no state."""


class ScaleByScheduleState(NamedTuple):
  """State of :func:`scale_by_schedule`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.


def scale(step_size: float) -> base.GradientTransformation:
  """Multiplies every update by a constant: ``u ← step_size · g``.

  Args:
    step_size: the constant factor (may be negative).

  Returns:
    A :class:`~gradtx.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale(-0.1)
    >>> tx.update(jnp.ones(2), tx.init(jnp.ones(2)))[0]
    Array([-0.1, -0.1], dtype=float32)
  """
  _checks.check_callable_or_number('step_size', step_size)
  if callable(step_size):
    raise ValueError(
        'scale takes a constant step_size; use scale_by_schedule for a '
        f'schedule, got {step_size!r}'
    )

  def update_fn(updates, state, params=None):
    _leafwise.check_floating(updates, 'updates')
    _leafwise.check_floating(params, 'params')
    return tu.scale(step_size, updates), state

  return base.transformation('scale', lambda params: ScaleState(), update_fn)


def scale_by_schedule(step_size_fn: base.Schedule) -> base.GradientTransformation:
  """Multiplies updates by a schedule of the step: ``u ← s(t) · g``.

  ``t`` counts the updates seen so far, starting at 0 for the first one.

  Args:
    step_size_fn: a function of the int32 step count.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`ScaleByScheduleState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_schedule(lambda t: 1.0 / (t + 1))
    >>> s = tx.init(jnp.ones(1))
    >>> u, s = tx.update(jnp.ones(1), s)
    >>> u, s = tx.update(jnp.ones(1), s)
    >>> u
    Array([0.5], dtype=float32)
  """
  if not callable(step_size_fn):
    raise ValueError(
        f'step_size_fn must be a schedule (a function of the step), got '
        f'{step_size_fn!r}'
    )

  def init_fn(params):
    del params
    return ScaleByScheduleState(count=_hyper.zero_count())

  def update_fn(updates, state, params=None):
    _leafwise.check_floating(updates, 'updates')
    _leafwise.check_floating(params, 'params')
    step_size = step_size_fn(state.count)
    updates = jax.tree.map(
        lambda g: (jnp.asarray(step_size, tu.compute_dtype(g)) * g).astype(g.dtype),
        updates,
    )
    return updates, ScaleByScheduleState(count=tu.safe_increment(state.count))

  return base.transformation('scale_by_schedule', init_fn, update_fn)


def scale_by_learning_rate(
    learning_rate: Optional[base.ScalarOrSchedule] = None, *, flip_sign: bool = True
) -> base.GradientTransformation:
  """Scales by a learning rate: ``u ← -η_t · g`` (``+η_t · g`` if not flipped).

  Args:
    learning_rate: a constant ``η ≥ 0`` or a schedule ``η(t)``; ``None`` (the
      default) means no scaling at all: :func:`~gradtx.identity`, whatever
      ``flip_sign`` is.
    flip_sign: negate, so that the result is a descent direction.

  Returns:
    A :class:`~gradtx.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_learning_rate(0.1)
    >>> tx.update(jnp.ones(1), tx.init(jnp.ones(1)))[0]
    Array([-0.1], dtype=float32)
  """
  if learning_rate is None:
    return base.identity()
  _hyper.check_learning_rate(learning_rate)
  sign = -1 if flip_sign else 1
  if callable(learning_rate):
    return scale_by_schedule(lambda count: sign * learning_rate(count))
  return scale(sign * learning_rate)


def normalize_by_update_norm(
    scale_factor: float = 1.0, eps: float = 1e-6
) -> base.GradientTransformation:
  """Divides all updates by their global norm: ``u ← s · g / (‖g‖ + eps)``.

  Args:
    scale_factor: the norm ``s`` of the result (up to eps).
    eps: added to the norm, ``≥ 0``, so a zero update stays finite.

  Returns:
    A stateless :class:`~gradtx.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.normalize_by_update_norm(eps=0.0)
    >>> tx.update(jnp.array([3.0, 4.0]), tx.init(None))[0]
    Array([0.6, 0.8], dtype=float32)

  References:
    Nesterov, *Introductory Lectures on Convex Optimization*, 2004
    (normalized gradient descent).
  """
  _checks.check_callable_or_number('scale_factor', scale_factor)
  _checks.check_non_negative('eps', eps)

  def update_fn(updates, state, params=None):
    del params
    g_norm = (tu.norm(updates) + eps) / scale_factor
    out = jax.tree.map(lambda g: g / g_norm.astype(tu.compute_dtype(g)), updates)
    return _leafwise.like_updates(out, updates), state

  return base.transformation(
      'normalize_by_update_norm', lambda params: base.EmptyState(), update_fn
  )
