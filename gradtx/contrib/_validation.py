"""Checks for integer hyperparameters that may also be (traced) int arrays."""

from __future__ import annotations

import numbers
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def check_period(name: str, value: Any) -> None:
  """A step period ``≥ 1``: a Python int, or an integer array.

  Concrete 0-d integer arrays are range-checked; traced ones (from
  ``inject_hyperparams`` or ``jit``) are accepted as they are, as in Optax.
  """
  if isinstance(value, bool):
    raise ValueError(f'{name} must be an integer >= 1, got {value!r}')
  if isinstance(value, numbers.Integral):
    if value < 1:
      raise ValueError(f'{name} must be an integer >= 1, got {value!r}')
    return
  if isinstance(value, (jax.Array, np.ndarray, np.generic)) and (
      jnp.issubdtype(jnp.result_type(value), jnp.integer)
      and jnp.ndim(value) == 0):
    if not isinstance(value, jax.core.Tracer) and int(value) < 1:
      raise ValueError(f'{name} must be an integer >= 1, got {value!r}')
    return
  raise ValueError(
      f'{name} must be an integer >= 1 (or a 0-d integer array), got '
      f'{value!r} ({type(value).__name__})')
