r"""MindSpore learning-rate policies as pure schedules.

MindSpore has two forms. ``mindspore.nn.dynamic_lr`` functions return a
Python list with one value per step, computed from the epoch
:math:`E = \lfloor i / \text{step\_per\_epoch}\rfloor`; the functions here
with the same names return a schedule whose value at step ``i`` is element
``i`` of that list (and the last element past the end). The
``LearningRateSchedule`` classes are per-step formulas; their natural
exponential form is :func:`natural_exp_decay` (the others are
:func:`gradtx.exponential_decay`, :func:`gradtx.inverse_time_decay`,
:func:`gradtx.cosine_decay_schedule` and :func:`gradtx.polynomial_decay`).
Any list of per-step values becomes a schedule with :func:`schedule_from_values`.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax.numpy as jnp
import numpy as np

from gradtx import base
from gradtx.schedules import _validation as v

__all__ = [
    'schedule_from_values', 'natural_exp_decay', 'piecewise_constant_lr',
    'exponential_decay_lr', 'natural_exp_decay_lr', 'inverse_decay_lr',
    'cosine_decay_lr', 'polynomial_decay_lr', 'warmup_lr',
]


def schedule_from_values(values: Sequence[Any]) -> base.Schedule:
  r"""A schedule that reads a per-step list of values.

  .. math:: f(t) = v_{\min(\max(t, 0), N - 1)}

  This is how MindSpore optimizers use a ``dynamic_lr`` list; past the end of
  the list the last value is kept.

  Args:
    values: one value per step (at least one).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.schedule_from_values([0.1, 0.1, 0.05])
    >>> print(f(1), f(2), f(100))
    0.1 0.05 0.05
  """
  table = np.asarray(values, np.float32)
  if table.ndim != 1 or table.size == 0:
    raise ValueError(
        f'values must be a non-empty list of numbers, got shape {table.shape}')

  def schedule(count):
    index = jnp.clip(count, 0, table.size - 1)
    return jnp.asarray(table)[index]

  return schedule


def natural_exp_decay(learning_rate: Any, decay_rate: float, decay_steps: int,
                      is_stair: bool = False) -> base.Schedule:
  r"""Natural exponential decay (MindSpore ``nn.NaturalExpDecayLR``).

  .. math::
    f(t) = \eta_0\, e^{-r p},\qquad p = t/d\ (\lfloor t/d\rfloor
    \text{ if is\_stair})

  Args:
    learning_rate: :math:`\eta_0`.
    decay_rate: :math:`r` (>= 0).
    decay_steps: :math:`d` (> 0).
    is_stair: floor :math:`t/d`.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.natural_exp_decay(1.0, decay_rate=1.0, decay_steps=10)
    >>> print(f'{f(10):.5f}')
    0.36788
  """
  v.check_decay_rate('decay_rate', decay_rate)
  v.check_steps('decay_steps', decay_steps)

  def schedule(count):
    if is_stair:
      p = v.floor_ratio(count, decay_steps)
    else:
      p = v.ratio(count, decay_steps)
    return learning_rate * jnp.exp(-decay_rate * p)

  return schedule


def _check_epochs(total_step, step_per_epoch, **epochs):
  v.check_steps('total_step', total_step)
  v.check_steps('step_per_epoch', step_per_epoch)
  for name, value in epochs.items():
    v.check_steps(name, value)


def _epoch(count, total_step, step_per_epoch):
  """``floor(i / step_per_epoch)`` with ``i`` held at the list's last index.

  Kept in integers for an integer step: float32 does not hold every integer
  above ``2**24``, so the callers divide it with the helpers of
  ``_validation`` that work in integers.
  """
  i = jnp.clip(count, 0, total_step - 1)
  return jnp.floor_divide(i, step_per_epoch)


def _epochs_per(e, decay_epoch, is_stair):
  """``E / D`` (``floor(E / D)`` if ``is_stair``) as float32."""
  if is_stair:
    return v.floor_ratio(e, decay_epoch)
  return v.ratio(e, decay_epoch)


def piecewise_constant_lr(milestone: Sequence[int],
                          learning_rates: Sequence[Any]) -> base.Schedule:
  r"""Piecewise constant rates (MindSpore ``nn.piecewise_constant_lr``).

  .. math:: f(t) = x_k \quad\text{for } M_{k-1} \le t < M_k

  with :math:`M_{-1} = 0`; past :math:`M_N - 1` (the list's end) the last
  rate is kept.

  Args:
    milestone: strictly increasing positive steps :math:`M_k`.
    learning_rates: one rate per milestone.

  Returns:
    A function of the step count.

  Raises:
    ValueError: for wrong lengths or milestones that do not increase.

  Example:
    >>> import gradtx
    >>> f = gradtx.piecewise_constant_lr([2, 5], [0.1, 0.05])
    >>> print(f(1), f(2), f(9))
    0.1 0.05 0.05
  """
  milestone, learning_rates = list(milestone), list(learning_rates)
  v.check_lengths('milestone', milestone, 'learning_rates', learning_rates)
  if not milestone:
    raise ValueError('milestone must hold at least one step, got []')
  for i, m in enumerate(milestone):
    v.check_steps(f'milestone[{i}]', m)
  v.check_increasing('milestone', milestone)
  bounds = np.asarray(milestone[:-1], np.int32)
  last = milestone[-1] - 1

  def schedule(count):
    i = jnp.clip(count, 0, last)
    table = jnp.asarray(np.asarray(learning_rates, np.float32))
    return table[jnp.sum(jnp.asarray(i)[..., None] >= jnp.asarray(bounds),
                         axis=-1)]

  return schedule


def exponential_decay_lr(learning_rate: Any, decay_rate: float,
                         total_step: int, step_per_epoch: int,
                         decay_epoch: int,
                         is_stair: bool = False) -> base.Schedule:
  r"""Per-epoch exponential decay (MindSpore ``nn.exponential_decay_lr``).

  .. math::
    f(i) = \eta_0\, r^{E/D}\quad (r^{\lfloor E/D\rfloor}\text{ if is\_stair})

  Args:
    learning_rate: :math:`\eta_0`.
    decay_rate: :math:`r` (>= 0).
    total_step: length of MindSpore's list (> 0).
    step_per_epoch: steps per epoch (> 0).
    decay_epoch: :math:`D` (> 0).
    is_stair: floor :math:`E/D`.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.exponential_decay_lr(0.1, 0.9, 6, 2, 1)
    >>> print([round(float(f(i)), 4) for i in range(6)])
    [0.1, 0.1, 0.09, 0.09, 0.081, 0.081]
  """
  v.check_decay_rate('decay_rate', decay_rate)
  _check_epochs(total_step, step_per_epoch, decay_epoch=decay_epoch)

  def schedule(count):
    p = _epochs_per(_epoch(count, total_step, step_per_epoch), decay_epoch,
                    is_stair)
    return learning_rate * v.power(decay_rate, p)

  return schedule


def natural_exp_decay_lr(learning_rate: Any, decay_rate: float,
                         total_step: int, step_per_epoch: int,
                         decay_epoch: int,
                         is_stair: bool = False) -> base.Schedule:
  r"""Per-epoch natural exponential decay (MindSpore ``nn.natural_exp_decay_lr``).

  .. math::
    f(i) = \eta_0\, e^{-r E}\quad (e^{-r D\lfloor E/D\rfloor}
    \text{ if is\_stair})

  As in MindSpore's code (not its docstring), :math:`E` is not divided by
  :math:`D` without ``is_stair``.

  Args:
    learning_rate: :math:`\eta_0`.
    decay_rate: :math:`r` (>= 0).
    total_step: length of MindSpore's list (> 0).
    step_per_epoch: steps per epoch (> 0).
    decay_epoch: :math:`D` (> 0).
    is_stair: hold the rate for ``decay_epoch`` epochs.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.natural_exp_decay_lr(0.1, 0.9, 6, 2, 2, is_stair=True)
    >>> print([round(float(f(i)), 5) for i in range(6)])
    [0.1, 0.1, 0.1, 0.1, 0.01653, 0.01653]
  """
  v.check_decay_rate('decay_rate', decay_rate)
  _check_epochs(total_step, step_per_epoch, decay_epoch=decay_epoch)

  def schedule(count):
    e = _epoch(count, total_step, step_per_epoch)
    if is_stair:
      e = v.floor_ratio(e, decay_epoch) * decay_epoch
    else:
      e = v.as_float(e)
    return learning_rate * jnp.exp(-decay_rate * e)

  return schedule


def inverse_decay_lr(learning_rate: Any, decay_rate: float, total_step: int,
                     step_per_epoch: int, decay_epoch: int,
                     is_stair: bool = False) -> base.Schedule:
  r"""Per-epoch inverse-time decay (MindSpore ``nn.inverse_decay_lr``).

  .. math::
    f(i) = \frac{\eta_0}{1 + r E/D}\quad (\lfloor E/D\rfloor
    \text{ if is\_stair})

  Args:
    learning_rate: :math:`\eta_0`.
    decay_rate: :math:`r` (>= 0).
    total_step: length of MindSpore's list (> 0).
    step_per_epoch: steps per epoch (> 0).
    decay_epoch: :math:`D` (> 0).
    is_stair: floor :math:`E/D`.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.inverse_decay_lr(0.1, 0.5, 6, 1, 1, is_stair=True)
    >>> print(round(float(f(2)), 6))
    0.05
  """
  v.check_decay_rate('decay_rate', decay_rate)
  _check_epochs(total_step, step_per_epoch, decay_epoch=decay_epoch)

  def schedule(count):
    p = _epochs_per(_epoch(count, total_step, step_per_epoch), decay_epoch,
                    is_stair)
    return learning_rate / (1 + decay_rate * p)

  return schedule


def cosine_decay_lr(min_lr: Any, max_lr: Any, total_step: int,
                    step_per_epoch: int, decay_epoch: int) -> base.Schedule:
  r"""Per-epoch cosine decay (MindSpore ``nn.cosine_decay_lr``).

  .. math::
    f(i) = \eta_{min} + \tfrac12(\eta_{max} - \eta_{min})
    (1 + \cos(\pi \min(E, D)/D))

  Args:
    min_lr: :math:`\eta_{min}` (< ``max_lr``).
    max_lr: :math:`\eta_{max}`.
    total_step: length of MindSpore's list (> 0).
    step_per_epoch: steps per epoch (> 0).
    decay_epoch: :math:`D` (> 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.cosine_decay_lr(0.01, 0.1, 6, 2, 2)
    >>> print([round(float(f(i)), 4) for i in range(6)])
    [0.1, 0.1, 0.055, 0.055, 0.01, 0.01]
  """
  v.check_not_above('min_lr', min_lr, 'max_lr', max_lr, strict=True)
  _check_epochs(total_step, step_per_epoch, decay_epoch=decay_epoch)
  half = 0.5 * (max_lr - min_lr)

  def schedule(count):
    e = v.as_float(jnp.minimum(_epoch(count, total_step, step_per_epoch),
                               decay_epoch))
    return min_lr + 2 * half * jnp.cos(0.5 * jnp.pi * e / decay_epoch)**2

  return schedule


def polynomial_decay_lr(learning_rate: Any, end_learning_rate: Any,
                        total_step: int, step_per_epoch: int,
                        decay_epoch: int, power: float,
                        update_decay_epoch: bool = False) -> base.Schedule:
  r"""Per-epoch polynomial decay (MindSpore ``nn.polynomial_decay_lr``).

  .. math::
    f(i) = (\eta_0 - \eta_e)(1 - E'/D')^{p} + \eta_e

  with :math:`E' = \min(E, D)`, :math:`D' = D`; or, with
  ``update_decay_epoch``, :math:`E' = E` and
  :math:`D' = D\max(\lceil E/D\rceil, 1)`.

  Args:
    learning_rate: :math:`\eta_0`.
    end_learning_rate: :math:`\eta_e` (<= :math:`\eta_0`).
    total_step: length of MindSpore's list (> 0).
    step_per_epoch: steps per epoch (> 0).
    decay_epoch: :math:`D` (> 0).
    power: :math:`p` (> 0).
    update_decay_epoch: stretch the horizon every ``decay_epoch`` epochs.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.polynomial_decay_lr(0.1, 0.01, 6, 2, 2, 0.5)
    >>> print([round(float(f(i)), 5) for i in range(6)])
    [0.1, 0.1, 0.07364, 0.07364, 0.01, 0.01]
  """
  v.check_not_above('end_learning_rate', end_learning_rate, 'learning_rate',
                    learning_rate)
  _check_epochs(total_step, step_per_epoch, decay_epoch=decay_epoch)
  if not power > 0:
    raise ValueError(f'power must be > 0, got {power!r}')
  delta = learning_rate - end_learning_rate

  def schedule(count):
    e = _epoch(count, total_step, step_per_epoch)
    if update_decay_epoch:
      # D' - E is (-E) mod D (D at E = 0), exact in integers.
      periods = jnp.maximum(-v.floor_ratio(-e, decay_epoch), 1.0)
      to_go = jnp.where(e == 0, decay_epoch, jnp.remainder(-e, decay_epoch))
      left = jnp.clip(v.as_float(to_go) / (periods * decay_epoch), 0.0, 1.0)
    else:
      left = v.remaining(e, decay_epoch)
    return delta * left**power + end_learning_rate

  return schedule


def warmup_lr(learning_rate: Any, total_step: int, step_per_epoch: int,
              warmup_epoch: int) -> base.Schedule:
  r"""Per-epoch linear warmup (MindSpore ``nn.warmup_lr``).

  .. math:: f(i) = \eta_0 \min(E, W)/W

  Args:
    learning_rate: :math:`\eta_0`.
    total_step: length of MindSpore's list (> 0).
    step_per_epoch: steps per epoch (> 0).
    warmup_epoch: :math:`W` (> 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.warmup_lr(0.1, 6, 2, 2)
    >>> print([round(float(f(i)), 4) for i in range(6)])
    [0.0, 0.0, 0.05, 0.05, 0.1, 0.1]
  """
  _check_epochs(total_step, step_per_epoch, warmup_epoch=warmup_epoch)

  def schedule(count):
    e = jnp.minimum(_epoch(count, total_step, step_per_epoch), warmup_epoch)
    return learning_rate * v.as_float(e) / warmup_epoch

  return schedule
