r"""Hugging Face ``transformers`` warmup schedules as pure schedules.

Each function is named after the ``transformers.get_*`` function it
reproduces, without ``get_``, and takes the optimizer's initial learning rate
:math:`\eta_0` as its first argument instead of the optimizer. Hugging Face
returns a ``LambdaLR`` whose factor :math:`\lambda(s)` multiplies
:math:`\eta_0`; here ``f(s) = eta_0 * lambda(s)``, the learning rate of
update number ``s`` (counting from 0).

Notation: :math:`W` warmup steps, :math:`T` training steps,
warmup :math:`s/\max(1, W)` for :math:`s < W`, and progress
:math:`p = (s - W)/\max(1, T - W)`.
"""

from __future__ import annotations

from typing import Any, Optional

import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx.schedules import _validation as v

__all__ = [
    'constant_schedule_with_warmup', 'linear_schedule_with_warmup',
    'cosine_schedule_with_warmup',
    'cosine_with_hard_restarts_schedule_with_warmup',
    'polynomial_decay_schedule_with_warmup', 'inverse_sqrt_schedule',
    'cosine_with_min_lr_schedule_with_warmup', 'wsd_schedule',
]


def _check(num_warmup_steps, num_training_steps=None):
  v.check_steps('num_warmup_steps', num_warmup_steps, allow_zero=True)
  if num_training_steps is not None:
    v.check_steps('num_training_steps', num_training_steps)
    v.check_warmup('num_warmup_steps', num_warmup_steps, 'num_training_steps',
                   num_training_steps)


def _warmed(learning_rate, num_warmup_steps, after):
  """``eta_0 * (s / max(1, W) if s < W else after(s))``.

  ``after`` gets the step itself, to count steps from a boundary in integers
  with :func:`~gradtx.schedules._validation.elapsed` (exact at any step).
  """

  def schedule(count):
    warm = v.as_float(count) / float(max(1, num_warmup_steps))
    return learning_rate * jnp.where(
        jnp.asarray(count) < num_warmup_steps, warm, after(count))

  return schedule


def _half_cosine(x):
  """``(1 + cos(pi x)) / 2`` as ``cos(pi x / 2)**2``: no cancellation near 0."""
  return jnp.cos(0.5 * jnp.pi * x)**2


def _progress(count, num_warmup_steps, num_training_steps):
  return v.elapsed(count, num_warmup_steps) / float(
      max(1, num_training_steps - num_warmup_steps))


def constant_schedule_with_warmup(learning_rate: Any,
                                  num_warmup_steps: int) -> base.Schedule:
  r"""Linear warmup, then constant (HF ``get_constant_schedule_with_warmup``).

  .. math:: \lambda(s) = \min(s / \max(1, W), 1)

  Args:
    learning_rate: :math:`\eta_0`.
    num_warmup_steps: :math:`W` (>= 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.constant_schedule_with_warmup(1.0, 10)
    >>> print(f(5), f(10))
    0.5 1.0
  """
  _check(num_warmup_steps)
  return _warmed(learning_rate, num_warmup_steps, lambda c: jnp.ones_like(v.as_float(c)))


def linear_schedule_with_warmup(learning_rate: Any, num_warmup_steps: int,
                                num_training_steps: int) -> base.Schedule:
  r"""Linear warmup, then linear decay to 0 (HF ``get_linear_schedule_with_warmup``).

  .. math:: \lambda(s) = \max\bigl(0, (T - s)/\max(1, T - W)\bigr),\ s \ge W

  Args:
    learning_rate: :math:`\eta_0`.
    num_warmup_steps: :math:`W` (<= ``num_training_steps``).
    num_training_steps: :math:`T` (> 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.linear_schedule_with_warmup(1.0, 10, 110)
    >>> print(f(5), f(60), f(200))
    0.5 0.5 0.0
  """
  _check(num_warmup_steps, num_training_steps)
  span = float(max(1, num_training_steps - num_warmup_steps))
  return _warmed(learning_rate, num_warmup_steps,
                 lambda c: jnp.maximum(
                     0.0, -v.elapsed(c, num_training_steps) / span))


def cosine_schedule_with_warmup(learning_rate: Any, num_warmup_steps: int,
                                num_training_steps: int,
                                num_cycles: float = 0.5) -> base.Schedule:
  r"""Linear warmup, then cosine (HF ``get_cosine_schedule_with_warmup``).

  .. math:: \lambda(s) = \max\bigl(0, \tfrac12(1 + \cos(2\pi c p))\bigr),
    \ s \ge W

  The default :math:`c = 0.5` is half a cosine down to 0 at :math:`T`; past
  :math:`T` the cosine continues.

  Args:
    learning_rate: :math:`\eta_0`.
    num_warmup_steps: :math:`W` (<= ``num_training_steps``).
    num_training_steps: :math:`T` (> 0).
    num_cycles: :math:`c`, the number of cosine periods.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.cosine_schedule_with_warmup(1.0, 10, 110)
    >>> print(f(5), f(60), f(110))
    0.5 0.5 0.0
  """
  _check(num_warmup_steps, num_training_steps)
  return _warmed(
      learning_rate, num_warmup_steps,
      lambda c: _half_cosine(2.0 * float(num_cycles) * _progress(
          c, num_warmup_steps, num_training_steps)))


def cosine_with_hard_restarts_schedule_with_warmup(
    learning_rate: Any, num_warmup_steps: int, num_training_steps: int,
    num_cycles: int = 1) -> base.Schedule:
  r"""Warmup, then cosines with hard restarts (HF ``get_cosine_with_hard_restarts_schedule_with_warmup``).

  .. math::
    \lambda(s) = \begin{cases}
      \tfrac12\bigl(1 + \cos(\pi\,((c\,p) \bmod 1))\bigr) & p < 1 \\
      0 & p \ge 1 \end{cases}

  Args:
    learning_rate: :math:`\eta_0`.
    num_warmup_steps: :math:`W` (<= ``num_training_steps``).
    num_training_steps: :math:`T` (> 0).
    num_cycles: :math:`c`, the number of cosines.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.cosine_with_hard_restarts_schedule_with_warmup(
    ...     1.0, 10, 110, num_cycles=2)
    >>> print(f(35), f(60), f(110))
    0.5 1.0 0.0
  """
  _check(num_warmup_steps, num_training_steps)

  def after(count):
    # (c p) mod 1 as ((c (s - W)) mod span) / span: exact for integer c.
    span = float(max(1, num_training_steps - num_warmup_steps))
    done = v.elapsed(count, num_warmup_steps)
    phase = jnp.remainder(float(num_cycles) * done, span) / span
    return jnp.where(done >= span, 0.0, _half_cosine(phase))

  return _warmed(learning_rate, num_warmup_steps, after)


def polynomial_decay_schedule_with_warmup(
    learning_rate: Any, num_warmup_steps: int, num_training_steps: int,
    lr_end: Any = 1e-7, power: float = 1.0) -> base.Schedule:
  r"""Warmup, then polynomial decay to ``lr_end`` (HF ``get_polynomial_decay_schedule_with_warmup``).

  .. math::
    f(s) = (\eta_0 - \eta_e)\bigl(1 - (s - W)/(T - W)\bigr)^{q} + \eta_e,
    \quad W \le s \le T

  and :math:`\eta_e` past :math:`T`.

  Args:
    learning_rate: :math:`\eta_0` (> ``lr_end``).
    num_warmup_steps: :math:`W` (< ``num_training_steps``).
    num_training_steps: :math:`T` (> 0).
    lr_end: :math:`\eta_e`.
    power: :math:`q`.

  Returns:
    A function of the step count.

  Raises:
    ValueError: if ``lr_end >= learning_rate`` (as Hugging Face does).

  Example:
    >>> import gradtx
    >>> f = gradtx.polynomial_decay_schedule_with_warmup(
    ...     1.0, 10, 110, lr_end=0.0, power=2.0)
    >>> print(f(5), f(60), f(200))
    0.5 0.25 0.0
  """
  _check(num_warmup_steps, num_training_steps)
  v.check_warmup('num_warmup_steps', num_warmup_steps, 'num_training_steps',
                 num_training_steps, strict=True)
  v.check_not_above('lr_end', lr_end, 'learning_rate', learning_rate,
                    strict=True)
  span = float(num_training_steps - num_warmup_steps)

  def schedule(count):
    s = v.as_float(count)
    warm = learning_rate * s / float(max(1, num_warmup_steps))
    remaining = jnp.clip(-v.elapsed(count, num_training_steps) / span, 0.0,
                         1.0)
    decay = (learning_rate - lr_end) * remaining**power + lr_end
    return jnp.where(jnp.asarray(count) < num_warmup_steps, warm, decay)

  return schedule


def inverse_sqrt_schedule(learning_rate: Any, num_warmup_steps: int,
                          timescale: Optional[int] = None) -> base.Schedule:
  r"""Warmup, then inverse square root decay (HF ``get_inverse_sqrt_schedule``).

  .. math:: \lambda(s) = 1/\sqrt{(s + \tau - W)/\tau},\ s \ge W

  with :math:`\tau` = ``timescale``, by default :math:`W` (or 10,000 when
  :math:`W = 0`).

  Args:
    learning_rate: :math:`\eta_0`.
    num_warmup_steps: :math:`W` (>= 0).
    timescale: :math:`\tau` (> 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.inverse_sqrt_schedule(1.0, 10)
    >>> print(f(5), f(10), f(40))
    0.5 1.0 0.5

  References:
    Vaswani et al., Attention Is All You Need, NeurIPS 2017 (warmup, then
    decay as the inverse square root of the step).
    https://arxiv.org/abs/1706.03762
  """
  _check(num_warmup_steps)
  if timescale is None:
    timescale = num_warmup_steps or 10_000
  v.check_steps('timescale', timescale)
  shift = timescale - num_warmup_steps
  return _warmed(learning_rate, num_warmup_steps,
                 lambda c: jnp.sqrt(timescale / v.elapsed(c, -shift)))


def cosine_with_min_lr_schedule_with_warmup(
    learning_rate: Any, num_warmup_steps: int, num_training_steps: int,
    num_cycles: float = 0.5, min_lr: Optional[Any] = None,
    min_lr_rate: Optional[float] = None) -> base.Schedule:
  r"""Warmup, then cosine down to a minimum (HF ``get_cosine_with_min_lr_schedule_with_warmup``).

  With :math:`m` = ``min_lr_rate`` (or ``min_lr`` / :math:`\eta_0`):

  .. math::
    \lambda(s) = \max\bigl(0, m + (1 - m)\tfrac12(1 + \cos(2\pi c p))\bigr)

  Args:
    learning_rate: :math:`\eta_0`.
    num_warmup_steps: :math:`W` (<= ``num_training_steps``).
    num_training_steps: :math:`T` (> 0).
    num_cycles: :math:`c`.
    min_lr: the minimum as a learning rate (give this or ``min_lr_rate``).
    min_lr_rate: the minimum as a fraction of :math:`\eta_0`.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.cosine_with_min_lr_schedule_with_warmup(
    ...     1.0, 10, 110, min_lr=0.1)
    >>> print(f(60), f(110))
    0.55 0.1
  """
  _check(num_warmup_steps, num_training_steps)
  if (min_lr is None) == (min_lr_rate is None):
    raise ValueError(
        'give exactly one of min_lr and min_lr_rate, got '
        f'min_lr={min_lr!r} and min_lr_rate={min_lr_rate!r}')
  if min_lr is not None:
    v.check_not_above('min_lr', min_lr, 'learning_rate', learning_rate)
    rate = min_lr / learning_rate
  else:
    _checks.check_unit_interval('min_lr_rate', min_lr_rate)
    rate = min_lr_rate

  def after(count):
    p = _progress(count, num_warmup_steps, num_training_steps)
    wave = _half_cosine(2.0 * float(num_cycles) * p)
    return jnp.maximum(0.0, wave * (1 - rate) + rate)

  return _warmed(learning_rate, num_warmup_steps, after)


_SHAPES = ('linear', 'cosine', '1-sqrt')


def wsd_schedule(
    learning_rate: Any,
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: Optional[int] = None,
    num_stable_steps: Optional[int] = None,
    warmup_type: str = 'linear',
    decay_type: str = 'cosine',
    min_lr_ratio: float = 0.0,
    num_cycles: float = 0.5,
) -> base.Schedule:
  r"""Warmup, stable, decay (HF ``get_wsd_schedule``).

  With :math:`m` = ``min_lr_ratio``, :math:`S` stable steps and :math:`D`
  decay steps, the factor is :math:`m + (1 - m)\,g`, where

  * warmup (:math:`s < W`, :math:`x = s/\max(1, W)`): :math:`g = x`
    (linear), :math:`\tfrac12(1 - \cos\pi x)` (cosine) or
    :math:`1 - \sqrt{1 - x}` (1-sqrt);
  * stable (:math:`W \le s < W + S`): factor 1;
  * decay (:math:`x = (s - W - S)/\max(1, D)`): :math:`g = 1 - x`
    (linear), :math:`\tfrac12(1 + \cos 2\pi c x)` (cosine) or
    :math:`1 - \sqrt{x}` (1-sqrt);
  * after :math:`W + S + D`: factor :math:`m`.

  Args:
    learning_rate: :math:`\eta_0`.
    num_warmup_steps: :math:`W` (>= 0).
    num_decay_steps: :math:`D` (> 0).
    num_training_steps: total; :math:`S = T - W - D` when
      ``num_stable_steps`` is not given.
    num_stable_steps: :math:`S` (takes precedence).
    warmup_type: ``'linear'``, ``'cosine'`` or ``'1-sqrt'``.
    decay_type: ``'linear'``, ``'cosine'`` or ``'1-sqrt'``.
    min_lr_ratio: :math:`m`, in [0, 1].
    num_cycles: :math:`c` of the cosine decay.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.wsd_schedule(1.0, 10, 20, num_training_steps=100,
    ...                         decay_type='linear')
    >>> print(f(5), f(50), f(90), f(100))
    0.5 1.0 0.5 0.0

  References:
    Hu et al., MiniCPM: Unveiling the Potential of Small Language Models with
    Scalable Training Strategies, 2024. https://arxiv.org/abs/2404.06395
  """
  v.check_steps('num_warmup_steps', num_warmup_steps, allow_zero=True)
  v.check_steps('num_decay_steps', num_decay_steps)
  v.check_choice('warmup_type', warmup_type, _SHAPES)
  v.check_choice('decay_type', decay_type, _SHAPES)
  _checks.check_unit_interval('min_lr_ratio', min_lr_ratio)
  if num_stable_steps is None:
    if num_training_steps is None:
      raise ValueError('give num_training_steps or num_stable_steps, got '
                       'neither')
    v.check_steps('num_training_steps', num_training_steps)
    v.check_warmup('num_warmup_steps', num_warmup_steps,
                   'num_training_steps - num_decay_steps',
                   num_training_steps - num_decay_steps)
    num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
  v.check_steps('num_stable_steps', num_stable_steps, allow_zero=True)
  w, stable_end = num_warmup_steps, num_warmup_steps + num_stable_steps
  decay_end = stable_end + num_decay_steps
  m = min_lr_ratio

  def schedule(count):
    s, c = v.as_float(count), jnp.asarray(count)
    x = jnp.clip(s / float(max(1, w)), 0.0, 1.0)
    if warmup_type == 'linear':
      up = x
    elif warmup_type == 'cosine':
      up = jnp.sin(0.5 * jnp.pi * x)**2
    else:
      up = 1.0 - jnp.sqrt(1.0 - x)
    y = jnp.clip(v.elapsed(count, stable_end) / float(max(1, num_decay_steps)),
                 0.0, 1.0)
    if decay_type == 'linear':
      # 1 - y, counted from the end in integers: exact near the end.
      down = jnp.clip(-v.elapsed(count, decay_end) /
                      float(max(1, num_decay_steps)), 0.0, 1.0)
    elif decay_type == 'cosine':
      down = _half_cosine(2.0 * float(num_cycles) * y)
    else:
      down = 1.0 - jnp.sqrt(y)
    factor = jnp.where(
        c < w, jnp.maximum(0.0, up * (1 - m) + m),
        jnp.where(c < stable_end, 1.0,
                  jnp.where(c < decay_end,
                            jnp.maximum(0.0, down * (1 - m) + m), m)))
    return learning_rate * factor

  return schedule
