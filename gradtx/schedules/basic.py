"""Basic schedules with Optax's names: constant, polynomial, piecewise, joins.

Every schedule is a pure function of the step count. It uses only ``jnp``
operations on the step (no Python ``if`` on it), so it can be called with a
traced int32 step inside :func:`jax.jit` and mapped over steps with
:func:`jax.vmap`.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import jax.numpy as jnp

from gradtx import base
from gradtx.schedules import _validation as v

__all__ = [
    'constant_schedule', 'polynomial_schedule', 'linear_schedule',
    'piecewise_constant_schedule', 'piecewise_interpolate_schedule',
    'join_schedules', 'exponential_decay',
]


def constant_schedule(value: Any) -> base.Schedule:
  """A schedule that always returns ``value``.

  Reproduces ``optax.constant_schedule``: ``f(t) = value``.

  Args:
    value: the value returned at every step.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> gradtx.constant_schedule(0.1)(1000)
    0.1
  """
  return lambda count: value


def polynomial_schedule(
    init_value: Any,
    end_value: Any,
    power: Any,
    transition_steps: int,
    transition_begin: int = 0,
) -> base.Schedule:
  r"""A polynomial transition from ``init_value`` to ``end_value``.

  With :math:`I` = ``init_value``, :math:`E` = ``end_value``, :math:`P` =
  ``power``, :math:`B` = ``transition_begin`` and :math:`T` =
  ``transition_steps``:

  .. math::
    f(t) = (I - E)\,\bigl(1 - \min(\max(t - B, 0), T) / T\bigr)^P + E

  so :math:`f = I` before :math:`B` and :math:`f = E` from :math:`B + T` on.
  Reproduces ``optax.polynomial_schedule`` (and, with ``cycle=False``, Keras
  ``PolynomialDecay``). ``transition_steps=0`` gives the constant
  ``init_value`` as in Optax.

  Args:
    init_value: value before and at the start of the transition.
    end_value: value at and after the end of the transition.
    power: exponent of the polynomial.
    transition_steps: length of the transition (>= 0).
    transition_begin: steps held at ``init_value`` first (>= 0).

  Returns:
    A function of the step count.

  Raises:
    ValueError: if ``transition_steps`` or ``transition_begin`` is negative.

  Example:
    >>> import gradtx
    >>> f = gradtx.polynomial_schedule(1.0, 0.0, power=2, transition_steps=10)
    >>> print(f(5))
    0.25
  """
  v.check_steps('transition_steps', transition_steps, allow_zero=True)
  v.check_steps('transition_begin', transition_begin, allow_zero=True)
  if transition_steps == 0:
    return lambda count: init_value

  def schedule(count):
    done = jnp.clip(count - transition_begin, 0, transition_steps)
    # Optax's 1 - done / T, clipped, and exactly 0 at the end: under jit XLA
    # may divide by T as a multiplication by 1/T, which misses 1 by an ulp.
    remaining = jnp.where(done >= transition_steps, 0.0,
                          jnp.clip(1 - done / transition_steps, 0.0, 1.0))
    return (init_value - end_value) * remaining**power + end_value

  return schedule


def linear_schedule(
    init_value: Any,
    end_value: Any,
    transition_steps: int,
    transition_begin: int = 0,
) -> base.Schedule:
  r"""A linear transition from ``init_value`` to ``end_value``.

  .. math::
    f(t) = I + (E - I)\,\min(\max(t - B, 0), T) / T

  Reproduces ``optax.linear_schedule``; it is :func:`polynomial_schedule`
  with ``power=1``.

  Args:
    init_value: value before and at the start of the transition.
    end_value: value at and after the end of the transition.
    transition_steps: length of the transition (>= 0; 0 gives a constant).
    transition_begin: steps held at ``init_value`` first (>= 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> print(gradtx.linear_schedule(0.0, 1.0, transition_steps=4)(1))
    0.25
  """
  return polynomial_schedule(init_value, end_value, 1, transition_steps,
                             transition_begin)


def _sorted_scales(name: str, boundaries_and_scales: Optional[dict[int, float]]
                   ) -> tuple[tuple[int, ...], tuple[float, ...]]:
  if not boundaries_and_scales:
    return (), ()
  items = sorted(boundaries_and_scales.items())
  for b, s in items:
    if b < 0:
      raise ValueError(
          f'{name} must have non-negative step boundaries (the step count '
          f'starts at 0), got boundary {b!r}')
    if s < 0:
      raise ValueError(
          f'{name} must map steps to non-negative scale factors, got scale '
          f'{s!r} at step {b!r}')
  bounds, scales = zip(*items)
  return tuple(bounds), tuple(scales)


def piecewise_constant_schedule(
    init_value: Any,
    boundaries_and_scales: Optional[dict[int, float]] = None,
) -> base.Schedule:
  r"""A constant that is multiplied by a scale at each boundary step.

  .. math::
    f(t) = I \prod_{i:\ t \ge b_i} s_i

  Reproduces ``optax.piecewise_constant_schedule``.

  Args:
    init_value: value before the first boundary.
    boundaries_and_scales: ``{step: scale}``; from ``step`` on the value is
      multiplied by ``scale`` (>= 0).

  Returns:
    A function of the step count.

  Raises:
    ValueError: if a scale is negative.

  Example:
    >>> import gradtx
    >>> f = gradtx.piecewise_constant_schedule(1.0, {10: 0.1, 20: 0.5})
    >>> print(f(9), f(10), f(25))
    1.0 0.1 0.05
  """
  bounds, scales = _sorted_scales('boundaries_and_scales',
                                  boundaries_and_scales)

  def schedule(count):
    value = init_value
    for bound, scale in zip(bounds, scales):
      value = jnp.where(count < bound, value, value * scale)
    return value

  return schedule


def _linear_between(a, b, frac):
  return a + (b - a) * frac


def _cosine_between(a, b, frac):
  return b + (a - b) / 2.0 * (jnp.cos(jnp.pi * frac) + 1)


def piecewise_interpolate_schedule(
    interpolate_type: str,
    init_value: Any,
    boundaries_and_scales: Optional[dict[int, float]] = None,
) -> base.Schedule:
  r"""Interpolates between accumulated values at boundary steps.

  The knots are :math:`(0, v_0 = I)` and :math:`(b_k, v_k = v_{k-1} s_k)`.
  Between two knots the value moves from :math:`v_{k-1}` to :math:`v_k`,
  linearly or along half a cosine; after the last knot it stays at
  :math:`v_K`. Reproduces ``optax.piecewise_interpolate_schedule``.

  Args:
    interpolate_type: ``'linear'`` or ``'cosine'``.
    init_value: value at step 0.
    boundaries_and_scales: ``{step: scale}``; the value reached at ``step`` is
      the previous knot's value times ``scale`` (>= 0).

  Returns:
    A function of the step count.

  Raises:
    ValueError: for an unknown ``interpolate_type`` or a negative scale.

  Example:
    >>> import gradtx
    >>> f = gradtx.piecewise_interpolate_schedule('linear', 1.0, {10: 0.5})
    >>> print(f(5), f(10))
    0.75 0.5
  """
  v.check_choice('interpolate_type', interpolate_type, ('linear', 'cosine'))
  between = (_linear_between if interpolate_type == 'linear'
             else _cosine_between)
  bounds, scales = _sorted_scales('boundaries_and_scales',
                                  boundaries_and_scales)

  def schedule(count):
    knots = jnp.asarray((0,) + bounds)
    values = jnp.cumprod(jnp.stack([jnp.asarray(x) for x in
                                    (init_value,) + scales]))
    lo, hi = knots[:-1], knots[1:]
    inside = (lo <= count) & (count < hi)
    frac = (count - lo) / jnp.maximum(hi - lo, 1)
    pieces = between(values[:-1], values[1:], frac)
    return inside.dot(pieces) + (knots[-1] <= count) * values[-1]

  return schedule


def join_schedules(schedules: Sequence[base.Schedule],
                   boundaries: Sequence[int]) -> base.Schedule:
  r"""Runs ``schedules[k]`` from ``boundaries[k-1]`` to ``boundaries[k]``.

  .. math::
    f(t) = f_k(t - b_{k-1}) \quad\text{for } b_{k-1} \le t < b_k

  with :math:`b_{-1} = 0`. Each schedule sees the steps since its own start.
  Reproduces ``optax.join_schedules``.

  Args:
    schedules: ``K`` schedules.
    boundaries: ``K - 1`` strictly increasing steps where the next schedule
      takes over.

  Returns:
    A function of the step count.

  Raises:
    ValueError: if the lengths do not match or ``boundaries`` do not increase.

  Example:
    >>> import gradtx
    >>> f = gradtx.join_schedules(
    ...     [gradtx.constant_schedule(1.0), gradtx.constant_schedule(2.0)], [5])
    >>> print(f(4), f(5))
    1.0 2.0
  """
  schedules, boundaries = list(schedules), list(boundaries)
  v.check_lengths('boundaries', boundaries, 'schedules', schedules, extra=1)
  v.check_increasing('boundaries', boundaries)

  def schedule(count):
    out = schedules[0](count)
    for bound, fn in zip(boundaries, schedules[1:]):
      out = jnp.where(count < bound, out, fn(count - bound))
    return out

  return schedule


def exponential_decay(
    init_value: Any,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: Optional[Any] = None,
) -> base.Schedule:
  r"""Exponential decay, continuous or in stairs, with an optional bound.

  With :math:`p = (t - B) / T` (floored when ``staircase``):

  .. math::
    f(t) = I\, r^{p} \ \text{for } t > B, \qquad f(t) = I \ \text{for } t \le B

  clipped from below by ``end_value`` when :math:`r < 1` (from above when
  :math:`r > 1`). Reproduces ``optax.exponential_decay``; with
  ``transition_begin=0`` it is also Keras ``ExponentialDecay`` and, with
  ``transition_steps=1``, PyTorch ``ExponentialLR``.

  Args:
    init_value: the value at and before ``transition_begin``.
    transition_steps: steps per factor of ``decay_rate`` (> 0).
    decay_rate: the factor :math:`r` (> 0). Optax turns 0 into the constant
      ``init_value`` (with a logged warning); here 0 raises, since it is
      almost always a mistake: use :func:`constant_schedule` for a constant.
    transition_begin: steps held at ``init_value`` first (>= 0).
    staircase: floor the exponent so the value changes every
      ``transition_steps`` steps.
    end_value: optional bound, see above.

  Returns:
    A function of the step count.

  Raises:
    ValueError: if ``transition_steps <= 0``, ``decay_rate <= 0``,
      ``transition_begin < 0``, or ``end_value > init_value`` while decaying.

  Example:
    >>> import gradtx
    >>> f = gradtx.exponential_decay(1.0, transition_steps=10, decay_rate=0.5)
    >>> print(f(10), f(20))
    0.5 0.25
  """
  v.check_steps('transition_steps', transition_steps)
  v.check_decay_rate('decay_rate', decay_rate)
  v.check_steps('transition_begin', transition_begin, allow_zero=True)
  if v._concrete(decay_rate) and float(decay_rate) == 0:  # pylint: disable=protected-access
    raise ValueError(
        'decay_rate must be > 0 for exponential_decay, got 0: the schedule '
        'would be the constant init_value (Optax silently returns '
        'constant_schedule(init_value)). Use gradtx.constant_schedule for a '
        'constant value.')
  if v._concrete(decay_rate):  # pylint: disable=protected-access
    if end_value is not None and decay_rate < 1:
      v.check_not_above('end_value', end_value, 'init_value', init_value)
    clip = jnp.maximum if decay_rate < 1.0 else jnp.minimum
  else:  # traced: the direction of the bound is chosen at run time.
    def clip(x, bound):
      return jnp.where(decay_rate < 1.0, jnp.maximum(x, bound),
                       jnp.minimum(x, bound))

  def schedule(count):
    elapsed = count - transition_begin
    p = elapsed / transition_steps
    if staircase:
      p = jnp.floor(p)
    value = jnp.where(elapsed <= 0, init_value,
                      init_value * jnp.power(decay_rate, p))
    if end_value is not None:
      value = clip(value, end_value)
    return value

  return schedule
