"""Argument helpers shared by the contrib modules."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from gradtx import _checks


def static_int(name: str, value: Any, low: int) -> int:
  """``value`` as a Python int ``>= low``, also from a concrete 0-d integer array.

  Counts that shape the computation (loop lengths, periods) must be known
  when the transformation is built; Optax accepts a 0-d array for them, so
  this does too, and raises ``ValueError`` naming the argument otherwise.
  """
  if (isinstance(value, (np.ndarray, np.generic, jax.Array))
      and not isinstance(value, jax.core.Tracer) and np.ndim(value) == 0
      and np.issubdtype(np.asarray(value).dtype, np.integer)):
    value = int(value)
  _checks.check_int(name, value, low)
  return value
