"""``1 − bᵗ`` accurate in float32, for bias corrections computed in float64 elsewhere."""

from __future__ import annotations

import math

import jax.numpy as jnp

from gradtx import _checks


def one_minus_pow(b, count):
  """``1 − bᵗ`` in float32, accurate also when ``b`` is close to 1.

  PyTorch and MXNet compute their bias corrections in float64 from Python
  floats; the float32 ``1 − b**t`` of :func:`gradtx.bias_correction_factor`
  is off by up to 5e-5 relative for ``b = 0.999``, which this avoids.
  """
  t = jnp.asarray(count, jnp.float32)
  if callable(b) or not _checks._is_concrete_number(b):  # pylint: disable=protected-access
    b = jnp.asarray(b, jnp.float32)
    return -jnp.expm1(t * jnp.log(b))
  if float(b) == 0.0:
    return jnp.ones_like(t)
  return -jnp.expm1(t * jnp.float32(math.log(float(b))))
