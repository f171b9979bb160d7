"""Construction-time checks shared by every schedule.

Schedules validate their arguments once, in plain Python, when they are built.
Each message names the argument, shows the value received and says what is
valid. Values that are not concrete numbers (schedules, tracers) are skipped:
they are only known at run time.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import _checks


def _concrete(value: Any) -> bool:
  return _checks._is_concrete_number(value)  # pylint: disable=protected-access


def check_steps(name: str, value: Any, *, allow_zero: bool = False) -> None:
  """A number of steps: an integer > 0 (or >= 0 with ``allow_zero``)."""
  low = 0 if allow_zero else 1
  if isinstance(value, jax.core.Tracer):
    return  # known at run time only
  if isinstance(value, (np.ndarray, np.generic, jax.Array)) and np.ndim(value) == 0:
    value = value.item()
  if isinstance(value, (np.integer,)):
    value = int(value)
  if isinstance(value, bool) or not isinstance(value, numbers.Integral):
    if isinstance(value, numbers.Real) and float(value).is_integer():
      value = int(value)
    else:
      raise ValueError(
          f'{name} must be an integer >= {low}, got {value!r} '
          f'({type(value).__name__})')
  if value < low:
    what = 'a non-negative' if allow_zero else 'a positive'
    raise ValueError(
        f'{name} must be {what} number of steps (an integer >= {low}), '
        f'got {value!r}')


def check_decay_rate(name: str, value: Any) -> None:
  """A decay rate or multiplicative factor: ``>= 0``."""
  if _concrete(value) and float(value) < 0:
    raise ValueError(
        f'{name} must be a non-negative decay rate (>= 0), got {value!r}')


def check_warmup(warmup_name: str, warmup: int, total_name: str, total: int,
                 *, strict: bool = False) -> None:
  """The warmup fits in the total: ``warmup <= total`` (``<`` if strict)."""
  if not (_concrete(warmup) and _concrete(total)):
    return
  if strict and warmup >= total:
    raise ValueError(
        f'{warmup_name} must be smaller than {total_name} (the warmup is part '
        f'of the total), got {warmup_name}={warmup!r} and '
        f'{total_name}={total!r}')
  if warmup > total:
    raise ValueError(
        f'{warmup_name} must not be longer than {total_name} (the warmup is '
        f'part of the total), got {warmup_name}={warmup!r} and '
        f'{total_name}={total!r}')


def check_increasing(name: str, values: Sequence[Any], *,
                     strict: bool = True) -> None:
  """Boundaries or milestones that increase (strictly, unless told)."""
  values = list(values)
  if not all(_concrete(x) for x in values):
    return
  for i in range(1, len(values)):
    bad = values[i] <= values[i - 1] if strict else values[i] < values[i - 1]
    if bad:
      kind = 'strictly increasing' if strict else 'non-decreasing'
      raise ValueError(
          f'{name} must be {kind}, got {values!r} ({name}[{i}]={values[i]!r} '
          f'after {name}[{i - 1}]={values[i - 1]!r})')


def check_lengths(a_name: str, a: Sequence[Any], b_name: str,
                  b: Sequence[Any], *, extra: int = 0) -> None:
  """``len(b) == len(a) + extra``."""
  if len(b) != len(a) + extra:
    rule = (f'len({b_name}) == len({a_name})' if extra == 0 else
            f'len({b_name}) == len({a_name}) + {extra}')
    raise ValueError(
        f'{a_name} and {b_name} have the wrong lengths: need {rule}, got '
        f'len({a_name})={len(a)} and len({b_name})={len(b)}')


def check_not_above(end_name: str, end: Any, init_name: str, init: Any, *,
                    strict: bool = False) -> None:
  """A decaying schedule: ``end <= init`` (``<`` if strict)."""
  if end is None or not (_concrete(end) and _concrete(init)):
    return
  end_f, init_f = float(end), float(init)
  if end_f > init_f or (strict and end_f == init_f):
    rel = '<' if strict else '<='
    raise ValueError(
        f'{end_name} must be {rel} {init_name} for a decaying schedule, got '
        f'{end_name}={end!r} and {init_name}={init!r}')


def check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
  if value not in choices:
    raise ValueError(
        f'{name} must be one of {", ".join(repr(c) for c in choices)}, got '
        f'{value!r}')


def as_float(count: Any) -> jax.Array:
  """The step count as a float32 array (works on ints, arrays and tracers)."""
  return jnp.asarray(count, jnp.float32)


def power(base: Any, exponent: Any) -> jax.Array:
  """``base ** exponent`` in float32, accurate for a constant ``base``.

  ``jnp.power(0.995, 285.)`` rounds ``0.995`` to float32 first, an error that
  the exponent multiplies (about 3e-6 relative here). For a concrete positive
  ``base`` this takes ``log(base)`` in float64 instead, so the result is
  within a few float32 ulps of the exact value, as the float64 frameworks
  (PyTorch, MXNet, MindSpore) compute it.
  """
  exponent = jnp.asarray(exponent, jnp.float32)
  if _concrete(base):
    b = float(base)
    if b > 0:
      return jnp.exp(exponent * np.float32(math.log(b)))
    if b == 0:
      return jnp.where(exponent == 0, 1.0, 0.0).astype(jnp.float32)
  return jnp.power(base, exponent)


def elapsed(count: Any, start: int = 0) -> jax.Array:
  """``count - start`` as a float32 array, subtracted exactly first.

  An integer step is reduced in integers before the conversion: float32
  holds integers exactly only up to ``2**24``, so converting a large step
  first would round it (``2**25 + 3`` becomes ``2**25 + 4``).
  """
  count = jnp.asarray(count)
  if jnp.issubdtype(count.dtype, jnp.integer):
    return as_float(count - start)
  return as_float(count) - start


def remaining(count: Any, total: int) -> jax.Array:
  """``clip((total - count) / total, 0, 1)`` in float32.

  Formed as a difference of integers first (exact for every int32 step and
  no cancellation near the end, unlike ``1 - count / total``) and clipped,
  because under ``jit`` XLA may divide by a constant as a multiplication by
  its reciprocal, which can overshoot by an ulp.
  """
  return jnp.clip(-elapsed(count, total) / total, 0.0, 1.0)


def floor_ratio(count: Any, period: int) -> jax.Array:
  """``floor(count / period)`` as float32, in integers for an integer step.

  Rounding a large step to float32 first can move it across a multiple of
  ``period`` (``2**25 + 1`` becomes ``2**25``).
  """
  count = jnp.asarray(count)
  if jnp.issubdtype(count.dtype, jnp.integer):
    return as_float(jnp.floor_divide(count, period))
  return jnp.floor(as_float(count) / period)


def ratio(count: Any, period: int) -> jax.Array:
  """``count / period`` as float32, split as ``q + r / period`` for ints.

  The whole part and the remainder are exact integers, so the result keeps
  the phase within the period at any int32 step.
  """
  count = jnp.asarray(count)
  if jnp.issubdtype(count.dtype, jnp.integer):
    q = jnp.floor_divide(count, period)
    return as_float(q) + as_float(count - q * period) / period
  return as_float(count) / period
