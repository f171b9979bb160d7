"""Keras 3 ``keras.optimizers.schedules`` policies as pure schedules.

Each function is named after the Keras class it reproduces, in snake case,
with the same arguments. ``f(t)`` equals the Keras schedule called with
``optimizer.iterations == t``, which is the learning rate gradtx uses for
update number ``t``. Keras ``ExponentialDecay`` is
:func:`gradtx.exponential_decay` with the same ``staircase``.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import jax.numpy as jnp
import numpy as np

from gradtx import base
from gradtx.schedules import _validation as v

__all__ = [
    'piecewise_constant_decay', 'inverse_time_decay', 'polynomial_decay',
    'cosine_decay', 'cosine_decay_restarts',
]


def piecewise_constant_decay(boundaries: Sequence[int],
                             values: Sequence[Any]) -> base.Schedule:
  r"""Piecewise constant values (Keras ``PiecewiseConstantDecay``).

  .. math::
    f(t) = v_k \quad\text{for } b_{k-1} < t \le b_k

  with :math:`b_{-1} = -\infty` and :math:`b_K = \infty`: the value changes
  one step *after* each boundary.

  Args:
    boundaries: strictly increasing steps.
    values: one more value than boundaries.

  Returns:
    A function of the step count.

  Raises:
    ValueError: for wrong lengths or boundaries that do not increase.

  Example:
    >>> import gradtx
    >>> f = gradtx.piecewise_constant_decay([10, 20], [1.0, 0.5, 0.1])
    >>> print(f(10), f(11), f(21))
    1.0 0.5 0.1
  """
  boundaries, values = list(boundaries), list(values)
  v.check_lengths('boundaries', boundaries, 'values', values, extra=1)
  v.check_increasing('boundaries', boundaries)
  bounds = np.asarray(boundaries)

  def schedule(count):
    table = jnp.stack([jnp.asarray(x) for x in values])
    index = jnp.sum(jnp.asarray(count)[..., None] > jnp.asarray(bounds),
                    axis=-1)
    return table[index]

  return schedule


def inverse_time_decay(initial_learning_rate: Any, decay_steps: int,
                       decay_rate: float,
                       staircase: bool = False) -> base.Schedule:
  r"""Inverse-time decay (Keras ``InverseTimeDecay``).

  .. math::
    f(t) = \frac{\eta_0}{1 + r\,p},\qquad p = t/d
    \ (\lfloor t/d \rfloor \text{ if staircase})

  Args:
    initial_learning_rate: :math:`\eta_0`.
    decay_steps: :math:`d` (> 0).
    decay_rate: :math:`r` (>= 0).
    staircase: floor :math:`t/d`.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.inverse_time_decay(1.0, decay_steps=10, decay_rate=1.0)
    >>> print(f(10), f(30))
    0.5 0.25
  """
  v.check_steps('decay_steps', decay_steps)
  v.check_decay_rate('decay_rate', decay_rate)

  def schedule(count):
    if staircase:
      p = v.floor_ratio(count, decay_steps)
    else:
      p = v.ratio(count, decay_steps)
    return initial_learning_rate / (1.0 + decay_rate * p)

  return schedule


def polynomial_decay(initial_learning_rate: Any, decay_steps: int,
                     end_learning_rate: Any = 0.0001, power: float = 1.0,
                     cycle: bool = False) -> base.Schedule:
  r"""Polynomial decay, optionally cycling (Keras ``PolynomialDecay``).

  .. math::
    f(t) = (\eta_0 - \eta_e)(1 - t'/d')^{p} + \eta_e

  Without ``cycle``: :math:`t' = \min(t, d)`, :math:`d' = d`. With
  ``cycle``: :math:`t' = t` and :math:`d' = d\lceil t/d\rceil` (:math:`d` at
  step 0), so the decay restarts from :math:`\eta_0`'s curve with a longer
  horizon after each multiple of :math:`d`.

  Args:
    initial_learning_rate: :math:`\eta_0`.
    decay_steps: :math:`d` (> 0).
    end_learning_rate: :math:`\eta_e` (<= :math:`\eta_0`).
    power: :math:`p`.
    cycle: restart past ``decay_steps``.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.polynomial_decay(1.0, 10, end_learning_rate=0.0)
    >>> print(f(5), f(20))
    0.5 0.0
  """
  v.check_steps('decay_steps', decay_steps)
  v.check_not_above('end_learning_rate', end_learning_rate,
                    'initial_learning_rate', initial_learning_rate)
  d = float(decay_steps)

  def cycled(count):
    count = jnp.asarray(count)
    if not jnp.issubdtype(count.dtype, jnp.integer):
      t = v.as_float(count)
      horizon = d * jnp.where(t == 0, 1.0, jnp.ceil(t / d))
      return jnp.clip((horizon - t) / horizon, 0.0, 1.0)
    # horizon - t is (-t) mod d (d at t = 0): exact in integers.
    periods = jnp.where(count == 0, 1, -jnp.floor_divide(-count, decay_steps))
    to_go = jnp.where(count == 0, decay_steps,
                      jnp.remainder(-count, decay_steps))
    return jnp.clip(v.as_float(to_go) / (v.as_float(periods) * d), 0.0, 1.0)

  def schedule(count):
    left = cycled(count) if cycle else v.remaining(count, decay_steps)
    return ((initial_learning_rate - end_learning_rate) * left**power
            + end_learning_rate)

  return schedule


def cosine_decay(initial_learning_rate: Any, decay_steps: int,
                 alpha: Any = 0.0, warmup_target: Optional[Any] = None,
                 warmup_steps: int = 0) -> base.Schedule:
  r"""Cosine decay with an optional linear warmup (Keras ``CosineDecay``).

  Without ``warmup_target``:
  :math:`f(t) = \eta_0[(1-\alpha)\tfrac12(1 + \cos(\pi\min(t,D)/D)) + \alpha]`.
  With it (:math:`\eta_w`, :math:`W` = ``warmup_steps``):

  .. math::
    f(t) = \begin{cases}
      \eta_0 + (\eta_w - \eta_0)\,t/W & t < W \\
      \eta_w[(1-\alpha)\tfrac12(1 + \cos(\pi \min(t - W, D)/D)) + \alpha]
        & t \ge W
    \end{cases}

  Note that :math:`D` = ``decay_steps`` counts the decay only, so the
  schedule ends at :math:`W + D`.

  Args:
    initial_learning_rate: :math:`\eta_0`, the start (of the warmup if any).
    decay_steps: :math:`D` (> 0).
    alpha: the final value as a fraction of the decay's start.
    warmup_target: :math:`\eta_w`, the value reached after the warmup, or
      None for no warmup.
    warmup_steps: :math:`W` (>= 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.cosine_decay(0.0, 100, warmup_target=1.0, warmup_steps=10)
    >>> print(f(5), f(10), f(60), f(110))
    0.5 1.0 0.5 0.0
  """
  v.check_steps('decay_steps', decay_steps)
  v.check_steps('warmup_steps', warmup_steps, allow_zero=True)
  d = float(decay_steps)

  def decay(t, peak):
    return peak * ((1 - alpha) * 0.5 * (1.0 + jnp.cos(jnp.pi * t / d))
                   + alpha)

  if warmup_target is None:
    return lambda count: decay(jnp.minimum(v.elapsed(count), d),
                               initial_learning_rate)

  def schedule(count):
    warm = ((warmup_target - initial_learning_rate)
            * v.ratio(count, max(warmup_steps, 1)) + initial_learning_rate)
    done = jnp.minimum(v.elapsed(count, warmup_steps), d)
    return jnp.where(jnp.asarray(count) < warmup_steps, warm,
                     decay(done, warmup_target))

  return schedule


def cosine_decay_restarts(initial_learning_rate: Any, first_decay_steps: int,
                          t_mul: float = 2.0, m_mul: float = 1.0,
                          alpha: Any = 0.0) -> base.Schedule:
  r"""Cosine decay with warm restarts (Keras ``CosineDecayRestarts``).

  Restart :math:`i` starts at :math:`D\sum_{j<i} t_{mul}^j`, lasts
  :math:`D t_{mul}^i` steps and has amplitude :math:`m_{mul}^i`; with
  :math:`x` the fraction of the current period done,

  .. math::
    f(t) = \eta_0\bigl[(1-\alpha)\,m_{mul}^i\,\tfrac12(1 + \cos\pi x)
    + \alpha\bigr]

  Keras finds :math:`i` with a float32 logarithm; here the result is
  corrected so the restart lands exactly on its step.

  Args:
    initial_learning_rate: :math:`\eta_0`.
    first_decay_steps: :math:`D` (> 0).
    t_mul: growth of the period (> 0).
    m_mul: factor of the amplitude at each restart (>= 0).
    alpha: the floor as a fraction of :math:`\eta_0`.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.cosine_decay_restarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    >>> print(f(5), f(10), f(20))
    0.5 0.5 0.25

  References:
    Loshchilov & Hutter, SGDR: Stochastic Gradient Descent with Warm
    Restarts, 2017. https://arxiv.org/abs/1608.03983
  """
  v.check_steps('first_decay_steps', first_decay_steps)
  v.check_decay_rate('t_mul', t_mul)
  if t_mul == 0:
    raise ValueError(f't_mul must be > 0, got {t_mul!r}')
  v.check_decay_rate('m_mul', m_mul)
  d = float(first_decay_steps)

  def schedule(count):
    frac = v.as_float(count) / d
    integer = jnp.issubdtype(jnp.asarray(count).dtype, jnp.integer)
    if t_mul == 1.0 and integer:
      # Whole periods and the phase in integers: exact at any int32 step.
      i = v.floor_ratio(count, first_decay_steps)
      x = v.as_float(jnp.remainder(count, first_decay_steps)) / d
    elif t_mul == 1.0:
      i = jnp.floor(frac)
      x = frac - i
    else:
      i = jnp.floor(jnp.log(1.0 - frac * (1.0 - t_mul)) / jnp.log(t_mul))
      start = lambda k: (1.0 - t_mul**k) / (1.0 - t_mul)
      # Correct a float32 rounding of the logarithm by one restart.
      i = jnp.where(frac < start(i), i - 1, i)
      i = jnp.where(frac >= start(i + 1), i + 1, i)
      x = (frac - start(i)) / t_mul**i
    amplitude = m_mul**i * 0.5 * (1.0 + jnp.cos(jnp.pi * x))
    return initial_learning_rate * ((1 - alpha) * amplitude + alpha)

  return schedule
