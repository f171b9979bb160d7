"""Log-sum-exp and log-softmax over the entries a mask selects.

These give the values of ``jax.nn.logsumexp`` and ``jax.nn.log_softmax``
(with ``where``), but their gradients stay finite when a mask selects
nothing or when logits are ``-inf``: no ``0 * inf`` is ever formed, in the
forward pass or in the backward pass.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx.losses._inputs import Axis


def logsumexp(x: jax.Array, axis: Axis, where: Any = None,
              keepdims: bool = False) -> jax.Array:
  """``log(sum(exp(x)))`` over ``axis`` and ``where``; ``-inf`` if empty.

  Args:
    x: the values, already in the dtype to compute in.
    axis: the axis or axes to reduce.
    where: optional mask broadcastable to ``x``; unselected entries count
      as ``-inf``.
    keepdims: keep the reduced axes with size 1.

  Returns:
    The reduced log-sum-exp.
  """
  if where is not None:
    mask = jnp.broadcast_to(jnp.asarray(where, bool), x.shape)
    x = jnp.where(mask, x, -jnp.inf)
  shift = jnp.max(x, axis=axis, keepdims=True)
  shift = jax.lax.stop_gradient(jnp.where(jnp.isfinite(shift), shift, 0))
  total = jnp.sum(jnp.exp(x - shift), axis=axis, keepdims=True)
  nonzero = total > 0
  out = jnp.where(nonzero, jnp.log(jnp.where(nonzero, total, 1)) + shift,
                  -jnp.inf)
  return out if keepdims else jnp.squeeze(out, axis=axis)


def log_softmax(x: jax.Array, axis: Axis, where: Any = None) -> jax.Array:
  """``x - logsumexp(x)`` over ``axis``; 0 (not ``-inf``) where masked out."""
  out = x - logsumexp(x, axis, where, keepdims=True)
  if where is None:
    return out
  return jnp.where(where, out, 0)

