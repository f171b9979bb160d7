"""Cosine, warmup and one-cycle schedules with Optax's names and values."""

from __future__ import annotations

from typing import Any, Iterable, Optional

import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx.schedules import _validation as v
from gradtx.schedules.basic import exponential_decay
from gradtx.schedules.basic import join_schedules
from gradtx.schedules.basic import linear_schedule
from gradtx.schedules.basic import piecewise_interpolate_schedule

__all__ = [
    'cosine_decay_schedule', 'warmup_cosine_decay_schedule',
    'warmup_constant_schedule', 'warmup_exponential_decay_schedule',
    'sgdr_schedule', 'cosine_onecycle_schedule', 'linear_onecycle_schedule',
]

def cosine_decay_schedule(
    init_value: Any,
    decay_steps: int,
    alpha: Any = 0.0,
    exponent: Any = 1.0,
) -> base.Schedule:
  r"""Half a cosine from ``init_value`` down to ``alpha * init_value``.

  .. math::
    f(t) = I\Bigl[(1 - \alpha)\bigl(\tfrac12(1 + \cos(\pi \min(t, T)/T))
    \bigr)^{p} + \alpha\Bigr]

  Reproduces ``optax.cosine_decay_schedule`` and, with ``exponent=1``, Keras
  ``CosineDecay`` without warmup.

  Args:
    init_value: the value at step 0.
    decay_steps: :math:`T`, the length of the decay (> 0).
    alpha: the final value as a fraction of ``init_value``.
    exponent: :math:`p`, applied to the cosine factor.

  Returns:
    A function of the step count.

  Raises:
    ValueError: if ``decay_steps <= 0``.

  Example:
    >>> import gradtx
    >>> f = gradtx.cosine_decay_schedule(1.0, decay_steps=100)
    >>> print(f(0), f(50), f(100))
    1.0 0.5 0.0

  References:
    Loshchilov & Hutter, SGDR: Stochastic Gradient Descent with Warm
    Restarts, 2017. https://arxiv.org/abs/1608.03983
  """
  v.check_steps('decay_steps', decay_steps)
  total = float(decay_steps)

  def schedule(count):
    t = jnp.minimum(v.as_float(count), total)
    cosine = 0.5 * (1 + jnp.cos(jnp.pi * t / total))
    return init_value * ((1 - alpha) * cosine**exponent + alpha)

  return schedule


def warmup_constant_schedule(init_value: Any, peak_value: Any,
                             warmup_steps: int) -> base.Schedule:
  r"""Linear warmup from ``init_value`` to ``peak_value``, then constant.

  .. math::
    f(t) = I + (P - I)\min(t, W)/W

  Reproduces ``optax.warmup_constant_schedule``.

  Args:
    init_value: value at step 0.
    peak_value: value from ``warmup_steps`` on.
    warmup_steps: :math:`W` (>= 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> print(gradtx.warmup_constant_schedule(0.0, 1.0, 10)(5))
    0.5
  """
  return linear_schedule(init_value, peak_value, warmup_steps)


def warmup_cosine_decay_schedule(
    init_value: Any,
    peak_value: Any,
    warmup_steps: int,
    decay_steps: int,
    end_value: Any = 0.0,
    exponent: Any = 1.0,
) -> base.Schedule:
  r"""Linear warmup to ``peak_value``, then cosine decay to ``end_value``.

  .. math::
    f(t) = \begin{cases}
      I + (P - I)\,t/W & t < W \\
      E + (P - E)\bigl(\tfrac12(1 + \cos(\pi \min(t - W, D - W)/(D - W)))
      \bigr)^{p} & t \ge W
    \end{cases}

  ``decay_steps`` (:math:`D`) is the total length, warmup included.
  Reproduces ``optax.warmup_cosine_decay_schedule``.

  Args:
    init_value: value at step 0.
    peak_value: value at the end of the warmup.
    warmup_steps: :math:`W` (>= 0 and < ``decay_steps``).
    decay_steps: :math:`D`, the total length including the warmup.
    end_value: value at step :math:`D` and after (<= ``peak_value``).
    exponent: :math:`p`, applied to the cosine factor.

  Returns:
    A function of the step count.

  Raises:
    ValueError: if the warmup is not shorter than ``decay_steps`` or
      ``end_value > peak_value``.

  Example:
    >>> import gradtx
    >>> f = gradtx.warmup_cosine_decay_schedule(0.0, 1.0, 10, 110)
    >>> print(f(5), f(10), f(60), f(110))
    0.5 1.0 0.5 0.0

  References:
    Loshchilov & Hutter, SGDR: Stochastic Gradient Descent with Warm
    Restarts, 2017. https://arxiv.org/abs/1608.03983
  """
  v.check_steps('warmup_steps', warmup_steps, allow_zero=True)
  v.check_steps('decay_steps', decay_steps)
  v.check_warmup('warmup_steps', warmup_steps, 'decay_steps', decay_steps,
                 strict=True)
  v.check_not_above('end_value', end_value, 'peak_value', peak_value)
  if _checks._is_concrete_number(peak_value) and float(peak_value) == 0.0:  # pylint: disable=protected-access
    alpha = 0.0
  else:
    alpha = end_value / peak_value
  return join_schedules(
      [linear_schedule(init_value, peak_value, warmup_steps),
       cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha,
                             exponent)],
      [warmup_steps])


def warmup_exponential_decay_schedule(
    init_value: Any,
    peak_value: Any,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: Any,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: Optional[Any] = None,
) -> base.Schedule:
  r"""Linear warmup to ``peak_value``, then :func:`exponential_decay`.

  .. math::
    f(t) = \begin{cases}
      I + (P - I)\,t/W & t < W \\
      \mathrm{exponential\_decay}(P, T, r, B)(t - W) & t \ge W
    \end{cases}

  Reproduces ``optax.warmup_exponential_decay_schedule``.

  Args:
    init_value: value at step 0.
    peak_value: value at the end of the warmup.
    warmup_steps: :math:`W` (>= 0).
    transition_steps: steps per factor of ``decay_rate`` (> 0).
    decay_rate: :math:`r` (>= 0).
    transition_begin: steps held at ``peak_value`` after the warmup.
    staircase: decay in stairs.
    end_value: lower bound of the decay (upper bound if ``decay_rate > 1``).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.warmup_exponential_decay_schedule(0.0, 1.0, 10, 10, 0.5)
    >>> print(f(5), f(10), f(20))
    0.5 1.0 0.5
  """
  v.check_steps('warmup_steps', warmup_steps, allow_zero=True)
  if end_value is not None and decay_rate < 1:
    v.check_not_above('end_value', end_value, 'peak_value', peak_value)
  return join_schedules(
      [linear_schedule(init_value, peak_value, warmup_steps),
       exponential_decay(peak_value, transition_steps, decay_rate,
                         transition_begin, staircase, end_value)],
      [warmup_steps])


def sgdr_schedule(cosine_kwargs: Iterable[dict[str, Any]]) -> base.Schedule:
  r"""Warm restarts: several :func:`warmup_cosine_decay_schedule` in a row.

  Cycle :math:`k` starts at :math:`\sum_{j<k} D_j` and runs
  ``warmup_cosine_decay_schedule(**cosine_kwargs[k])`` for :math:`D_k` =
  ``decay_steps`` steps. Reproduces ``optax.sgdr_schedule``.

  Args:
    cosine_kwargs: one dict of :func:`warmup_cosine_decay_schedule` arguments
      per cycle.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> cycle = dict(init_value=0.0, peak_value=1.0, warmup_steps=2,
    ...              decay_steps=10)
    >>> f = gradtx.sgdr_schedule([cycle, cycle])
    >>> print(f(2), f(10), f(12))
    1.0 0.0 1.0

  References:
    Loshchilov & Hutter, SGDR: Stochastic Gradient Descent with Warm
    Restarts, 2017. https://arxiv.org/abs/1608.03983
  """
  schedules, boundaries, start = [], [], 0
  for kwargs in cosine_kwargs:
    schedules.append(warmup_cosine_decay_schedule(**kwargs))
    start += kwargs['decay_steps']
    boundaries.append(start)
  if not schedules:
    raise ValueError('cosine_kwargs must hold at least one cycle, got none')
  return join_schedules(schedules, boundaries[:-1])


def _check_onecycle(transition_steps, pct_start):
  v.check_steps('transition_steps', transition_steps)
  _checks.check_unit_interval('pct_start', pct_start)


def linear_onecycle_schedule(
    transition_steps: int,
    peak_value: Any,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> base.Schedule:
  r"""One cycle with three linear phases.

  Knots, with :math:`T` = ``transition_steps`` and :math:`P` = ``peak_value``:
  :math:`(0, P/d)`, :math:`(\lfloor a T\rfloor, P)`,
  :math:`(\lfloor b T\rfloor, P/d)`, :math:`(T, P/(d\,d_f))`, linear in
  between, constant after. Reproduces ``optax.linear_onecycle_schedule``.

  Args:
    transition_steps: :math:`T` (> 0).
    peak_value: :math:`P`.
    pct_start: :math:`a`, fraction of the steps spent rising.
    pct_final: :math:`b`, fraction of the steps at which the value is back to
      the initial one.
    div_factor: :math:`d`; the initial value is :math:`P/d`.
    final_div_factor: :math:`d_f`; the final value is :math:`P/(d\,d_f)`.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.linear_onecycle_schedule(100, 1.0)
    >>> print(f(30))
    1.0

  References:
    Smith & Topin, Super-Convergence: Very Fast Training of Neural
    Networks Using Large Learning Rates, 2017.
    https://arxiv.org/abs/1708.07120
  """
  _check_onecycle(transition_steps, pct_start)
  _checks.check_unit_interval('pct_final', pct_final)
  return piecewise_interpolate_schedule(
      'linear', peak_value / div_factor,
      {int(pct_start * transition_steps): div_factor,
       int(pct_final * transition_steps): 1.0 / div_factor,
       transition_steps: 1.0 / final_div_factor})


def cosine_onecycle_schedule(
    transition_steps: int,
    peak_value: Any,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> base.Schedule:
  r"""One cycle with two cosine phases (Optax's form).

  Knots :math:`(0, P/d)`, :math:`(\lfloor a T\rfloor, P)`,
  :math:`(T, P/(d\,d_f))`, joined by half cosines, constant after.
  Reproduces ``optax.cosine_onecycle_schedule``. For PyTorch's
  ``OneCycleLR`` (whose phases end one step earlier) use
  :func:`gradtx.schedules.one_cycle_lr`.

  Args:
    transition_steps: :math:`T` (> 0).
    peak_value: :math:`P`.
    pct_start: :math:`a`, fraction of the steps spent rising.
    div_factor: :math:`d`; the initial value is :math:`P/d`.
    final_div_factor: :math:`d_f`; the final value is :math:`P/(d\,d_f)`.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.cosine_onecycle_schedule(100, 1.0)
    >>> print(f(30))
    1.0

  References:
    Smith & Topin, Super-Convergence: Very Fast Training of Neural
    Networks Using Large Learning Rates, 2017.
    https://arxiv.org/abs/1708.07120
  """
  _check_onecycle(transition_steps, pct_start)
  return piecewise_interpolate_schedule(
      'cosine', peak_value / div_factor,
      {int(pct_start * transition_steps): div_factor,
       int(transition_steps): 1.0 / (div_factor * final_div_factor)})
