"""The one helper for "a constant or a schedule of the step count"."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx import _checks


def value_at(x: Any, count: jax.Array) -> Any:
  """``x(count)`` if ``x`` is a schedule, else ``x``."""
  return x(count) if callable(x) else x


def check_learning_rate(learning_rate: Any, name: str = 'learning_rate') -> None:
  """A learning rate is a non-negative number or a schedule."""
  _checks.check_callable_or_number(name, learning_rate)
  _checks.check_non_negative(name, learning_rate)


def zero_count() -> jax.Array:
  """A fresh int32 step counter."""
  return jnp.zeros([], jnp.int32)
