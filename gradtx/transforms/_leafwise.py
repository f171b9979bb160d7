"""Small shared helpers for writing transformations."""

from __future__ import annotations

from typing import Any, Optional

import jax
import jax.numpy as jnp

from gradtx import tree as tu


def zeros_state(params: Any, dtype: Optional[Any]) -> Any:
  """Zero buffers shaped like ``params`` in ``dtype`` (default: the params')."""
  return tu.zeros_like(params, dtype=dtype)


def store_like(new: Any, old: Any) -> Any:
  """Casts freshly computed state buffers to the dtypes of the old ones.

  This keeps a state's dtypes fixed from step to step (no recompilation, and
  bfloat16/float16 moments stay in the dtype that was asked for).
  """
  return jax.tree.map(
      lambda n, o: None if n is None else jnp.asarray(n).astype(o.dtype),
      new, old, is_leaf=lambda x: x is None,
  )


def like_updates(new: Any, updates: Any) -> Any:
  """Casts outgoing updates to the dtypes of the incoming ones."""
  return jax.tree.map(
      lambda n, u: None if n is None else jnp.asarray(n).astype(u.dtype),
      new, updates, is_leaf=lambda x: x is None,
  )
