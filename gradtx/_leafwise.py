"""Small shared helpers for writing transformations."""

from __future__ import annotations

from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp

from gradtx import tree as tu


def _is_int_dtype(d: Any) -> bool:
  return jnp.issubdtype(d, jnp.integer) or jnp.issubdtype(d, jnp.bool_)


def check_floating(tree: Any, what: str = 'params') -> None:
  """Raises ``TypeError`` when a leaf of ``tree`` has an integer or bool dtype.

  Optimizers compute in floating point; storing their result in an integer
  leaf would round every update (usually to 0) without a word. Python
  scalars are accepted (they are promoted to float). Only dtypes are
  looked at, so this is free under ``jit``.
  """
  flat, _ = jax.tree_util.tree_flatten_with_path(
      tree, is_leaf=lambda x: x is None)
  for path, x in flat:
    if x is None or isinstance(x, (bool, int, float, complex)):
      continue
    d = getattr(x, 'dtype', None)
    if d is None or not _is_int_dtype(d):
      continue
    where = jax.tree_util.keystr(path) or '<root>'
    raise TypeError(
        f'{what}{where} has dtype {jnp.dtype(d).name}: gradient '
        'transformations compute in floating point, and an integer update '
        'would be rounded (usually to 0) without notice. Use floating-point '
        'params (e.g. jax.tree.map(lambda p: p.astype(jnp.float32), params)) '
        'or keep integer leaves out of the optimizer with gradtx.masked or '
        'gradtx.partition(..., set_to_zero()).')


def zeros_state(params: Any, dtype: Optional[Any]) -> Any:
  """Zero buffers shaped like ``params`` in ``dtype`` (default: the params')."""
  if dtype is None:
    check_floating(params)
  return tu.zeros_like(params, dtype=dtype)


def real_dtype(p: Any, dtype: Optional[Any]) -> jnp.dtype:
  """``dtype`` or the dtype of ``p``, made real (complex64 -> float32)."""
  d = dtype if dtype is not None else jnp.result_type(p)
  return jnp.finfo(d).dtype if jnp.issubdtype(d, jnp.complexfloating) else d


def real_full_like(
    params: Any, fill_value: Any, dtype: Optional[Any], shape_of=jnp.shape
) -> Any:
  """Buffers filled with ``fill_value`` in ``dtype`` or the params' real dtype.

  ``shape_of(p)`` gives each buffer's shape (the param's by default). Used for
  second moments, which are real even for complex params.
  """
  if dtype is None:
    check_floating(params)
  return jax.tree.map(
      lambda p: None if p is None
      else jnp.full(shape_of(p), fill_value, real_dtype(p, dtype)),
      params, is_leaf=lambda x: x is None,
  )


def store_like(new: Any, old: Any) -> Any:
  """Casts freshly computed state buffers to the dtypes of the old ones.

  This keeps a state's dtypes fixed from step to step (no recompilation, and
  bfloat16/float16 moments stay in the dtype that was asked for).
  """
  return jax.tree.map(
      lambda n, o: None if n is None else jnp.asarray(n).astype(
          jnp.result_type(o)),
      new, old, is_leaf=lambda x: x is None,
  )


def like_updates(new: Any, updates: Any) -> Any:
  """Casts outgoing updates to the dtypes of the incoming ones.

  Raises ``TypeError`` for integer updates (see :func:`check_floating`).
  """
  check_floating(updates, 'updates')
  return jax.tree.map(
      lambda n, u: None if n is None else jnp.asarray(n).astype(
          jnp.result_type(u)),
      new, updates, is_leaf=lambda x: x is None,
  )


def cond_update(
    pred: Any, inner: Any, updates: Any, inner_state: Any, params: Any,
    extra_args: dict, on_skip: Callable[[Any], Any],
) -> tuple[Any, Any]:
  """``inner.update`` when ``pred``, else ``(on_skip(updates), inner_state)``.

  The choice is made with ``lax.cond``, so ``inner`` costs nothing on a
  skipped step. The branch that runs ``inner`` casts its updates and state to
  the incoming dtypes, so that both branches agree.
  """
  def run(_):
    new, s = inner.update(updates, inner_state, params, **extra_args)
    return like_updates(new, updates), store_like(s, inner_state)

  def skip(_):
    return on_skip(updates), inner_state

  return jax.lax.cond(jnp.asarray(pred, jnp.bool_), run, skip, None)


def no_op_updates(updates: Any) -> Any:
  """Negative zeros shaped like ``updates``: ``p + u`` is bit for bit ``p``.

  ``x + (-0.0)`` is exactly ``x`` for every float ``x`` (``-0.0`` and NaN
  included), whereas ``(-0.0) + 0.0`` is ``+0.0``. Skipped steps (overflow in
  loss scaling, non-finite gradients, accumulation) return these so that
  applying them leaves every bit of the params unchanged. ``None`` leaves stay
  ``None``.
  """
  # full_like (not full) keeps a leaf's manual-axis type inside shard_map.
  return jax.tree.map(
      lambda u: None if u is None else jnp.full_like(u, -0.0),
      updates, is_leaf=lambda x: x is None,
  )
