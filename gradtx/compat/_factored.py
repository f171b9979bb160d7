"""Adafactor's factored second moment as Keras 3 and Hugging Face write it.

Both factor the last two axes of every parameter with two or more axes (Optax
and :func:`gradtx.scale_by_factored_rms` pick the two largest ones, above a
minimum size), keep a full second moment for the others, and clip the
update's RMS. One leaf at a time, in the compute dtype.
"""

from __future__ import annotations

import jax.numpy as jnp


def rms(x):
  """``√mean(x²)`` of one array."""
  return jnp.sqrt(jnp.mean(jnp.square(x)))


def init_leaf(p):
  """``(row, col, full)`` statistics of one param; unused ones are 0-d zeros."""
  zero = jnp.zeros([], p.dtype)
  if p.ndim >= 2:
    return (jnp.zeros(p.shape[:-1], p.dtype),
            jnp.zeros(p.shape[:-2] + p.shape[-1:], p.dtype), zero)
  return zero, zero, jnp.zeros(p.shape, p.dtype)


def factored_update(g, row, col, full, beta2_t, eps1, clip_threshold):
  r"""One step of the statistics and the clipped direction.

  .. code-block:: text

    q = g² + ε₁
    ndim ≥ 2:  row ← β·row + (1 − β)·mean_{-1} q;  col ← β·col + (1 − β)·mean_{-2} q
               v = (row/mean(row))[…, None]·col[…, None, :]
    else:      full ← β·full + (1 − β)·q;  v = full
    u = g/√v;  u ← u / max(1, RMS(u)/clip_threshold)

  Returns:
    ``(u, row, col, full, v)``.
  """
  sq = jnp.square(g) + eps1
  if g.ndim >= 2:
    row = beta2_t * row + (1 - beta2_t) * jnp.mean(sq, axis=-1)
    col = beta2_t * col + (1 - beta2_t) * jnp.mean(sq, axis=-2)
    v = (row / jnp.mean(row, axis=-1, keepdims=True))[..., None] * col[..., None, :]
  else:
    full = beta2_t * full + (1 - beta2_t) * sq
    v = full
  u = g / jnp.sqrt(v)
  u = u / jnp.maximum(1.0, rms(u) / clip_threshold)
  return u, row, col, full, v
