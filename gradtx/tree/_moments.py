"""Moment estimates and bias correction, shared by every adaptive optimizer.

Moment updates are computed in float32 or wider and rounded once, when the
transformation that owns the moment stores it in its state dtype.
Bias-correction factors are always computed in float32.
"""

from __future__ import annotations

from typing import Any, Union

import jax
import jax.numpy as jnp

Tree = Any


def safe_increment(count: jax.Array) -> jax.Array:
  """``count + 1`` for an int32 step counter, saturating at the int32 maximum.

  Args:
    count: an integer scalar array.

  Returns:
    ``count + 1`` in the same dtype, or ``count`` when it is the maximum.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.safe_increment(jnp.asarray(2**31 - 1, jnp.int32))
    Array(2147483647, dtype=int32)
  """
  count = jnp.asarray(count)
  max_value = jnp.iinfo(count.dtype).max
  return jnp.where(count < max_value, count + 1, max_value).astype(count.dtype)


def compute_dtype(*xs: Any) -> jnp.dtype:
  """The dtype to compute in: the promotion of ``xs`` and float32."""
  return jnp.result_type(jnp.float32, *[jnp.result_type(x) for x in xs])


def _power(g, order):
  if order == 1:
    return g
  if order == 2:
    return g * g
  return g**order


def upcast(tree: Tree) -> Tree:
  """Casts every leaf to its compute dtype: float32 or wider, never narrower.

  Transformations call this on their inputs so that bfloat16/float16 values
  are computed on in float32 and rounded only once, when stored.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.upcast({'w': jnp.ones(2, jnp.bfloat16)})['w'].dtype
    dtype('float32')
  """
  return jax.tree.map(
      lambda x: None if x is None else jnp.asarray(x).astype(compute_dtype(x)),
      tree, is_leaf=lambda x: x is None,
  )


def abs_sq(x: jax.Array) -> jax.Array:
  """``|x|²`` of one array in its compute dtype (real for complex ``x``).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.abs_sq(jnp.array([3 + 4j], jnp.complex64))
    Array([25.], dtype=float32)
  """
  x = jnp.asarray(x)
  x = x.astype(compute_dtype(x))
  return jnp.real(x * jnp.conj(x)) if jnp.iscomplexobj(x) else x * x


def _up(*xs):
  """``xs`` cast to their common compute dtype (float32 or wider)."""
  d = compute_dtype(*xs)
  return [jnp.asarray(x).astype(d) for x in xs]


def update_moment(updates: Tree, moments: Tree, decay: Union[float, jax.Array], order: int) -> Tree:
  """Exponential moving average of ``g**order``: ``m ← (1 - d)·g^k + d·m``.

  Args:
    updates: the new values ``g`` (a pytree).
    moments: the running averages ``m`` (same structure).
    decay: ``d``.
    order: ``k``.

  Returns:
    The new averages.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.update_moment(jnp.array([2.0]), jnp.array([1.0]), 0.5, 2)
    Array([2.5], dtype=float32)

  Each leaf is computed in float32 or wider (the promotion of float32, the
  gradient and the moment), so a bfloat16 moment is rounded once, when the
  owning transformation stores it, not at every operation.
  """
  return jax.tree.map(
      lambda g, m: None if g is None else (
          (1 - decay) * _power(*_up(g)[:1], order) + decay * _up(g, m)[1]
      ),
      updates, moments, is_leaf=lambda x: x is None,
  )


def _elem_norm(g, order):
  if order == 2:
    return abs_sq(g)
  return jnp.abs(g) ** order


def update_moment_per_elem_norm(updates: Tree, moments: Tree, decay: Union[float, jax.Array], order: int) -> Tree:
  """EMA of ``|g|**order`` elementwise: ``v ← (1 - d)·|g|^k + d·v``.

  Args:
    updates: the new values ``g`` (a pytree, real or complex).
    moments: the running averages ``v`` (same structure, real).
    decay: ``d``.
    order: ``k``.

  Returns:
    The new averages.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.update_moment_per_elem_norm(jnp.array([3 + 4j]), jnp.zeros(1), 0.5, 2)
    Array([12.5], dtype=float32)

  For complex ``g`` and ``order=2`` this is ``|g|² = g·conj(g)``, so second
  moments stay real.
  """
  return jax.tree.map(
      lambda g, m: None if g is None else (
          (1 - decay) * _elem_norm(_up(g)[0], order) + decay * _up(m)[0]
      ),
      updates, moments, is_leaf=lambda x: x is None,
  )


def update_infinity_moment(updates: Tree, moments: Tree, decay: Union[float, jax.Array], eps: float = 0.0) -> Tree:
  """Exponentially weighted infinity norm: ``u ← max(d·u, |g| + eps)``.

  Args:
    updates: the new values ``g`` (a pytree).
    moments: the running norms ``u`` (same structure).
    decay: ``d``.
    eps: added to ``|g|``.

  Returns:
    The new norms.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.update_infinity_moment(jnp.array([-2.0]), jnp.array([3.0]), 0.5)
    Array([2.], dtype=float32)
  """
  return jax.tree.map(
      lambda g, m: None if g is None else jnp.maximum(
          jnp.abs(g) + eps, decay * m
      ),
      updates, moments, is_leaf=lambda x: x is None,
  )


def bias_correction_factor(decay: Union[float, jax.Array], count: jax.Array) -> jax.Array:
  """``1 - decay**count`` computed in float32."""
  decay = jnp.asarray(decay, jnp.float32)
  return 1 - decay ** jnp.asarray(count, jnp.float32)


def bias_correction(moment: Tree, decay: Union[float, jax.Array], count: jax.Array) -> Tree:
  """Debiases an EMA: ``m̂ = m / (1 - decay**count)``.

  Args:
    moment: the running average (a pytree).
    decay: its decay rate.
    count: the number of updates it has seen (``≥ 1``).

  Returns:
    The debiased average (float32 or wider).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.bias_correction(jnp.array([0.1]), 0.9, jnp.asarray(1))
    Array([1.], dtype=float32)

  The factor is computed in float32 and the division is done in the wider of
  float32 and the moment dtype, so the result is float32 (or wider) even for
  bfloat16 or float16 moments. Cast it back yourself where you need to.
  """
  factor = bias_correction_factor(decay, count)
  return jax.tree.map(
      lambda m: None if m is None else m.astype(compute_dtype(m)) / factor,
      moment, is_leaf=lambda x: x is None,
  )
