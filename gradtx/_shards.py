"""Reductions that agree across devices while a transformation sees shards.

Inside :func:`gradtx.distributed.zero_sharded` every device updates only its
own slice of each leaf, so a reduction over the elements of the updates (a
global norm, a finiteness check) computed on the slice is only a partial
result. While such an update is traced, this module holds the names of the
mapped axes over which the leaves are split, and the reduction helpers of
:mod:`gradtx.tree` (and the clipping norms) complete their partial results
with a collective over those axes.

The context is kept during tracing only (a Python-level stack, like JAX's own
axis environment): it costs nothing at run time and nothing outside it. A
function jitted on its own and first traced inside the context keeps the
collectives in its cached trace; gradtx's transformations jit nothing
internally, so this only concerns user code called from an inner update.

Two kinds of context:

* ``'shards'``: the leaves are disjoint slices of one whole. Sums add up over
  the axes (``psum``), maxima are ``pmax``-ed, flags are AND-ed (``pmin``).
* ``'replicas'``: each device holds its own copy of the whole. Only decisions
  (flags) are made to agree (AND over the axes); sums and norms stay local.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator, Optional, Sequence, Union

import jax
import jax.numpy as jnp

AxisName = Union[str, Sequence[str]]

_STACK = threading.local()


def _frames() -> list:
  if not hasattr(_STACK, 'frames'):
    _STACK.frames = []
  return _STACK.frames


@contextlib.contextmanager
def over(axis_name: Optional[AxisName], kind: str) -> Iterator[None]:
  """While tracing inside, reductions agree across ``axis_name``.

  Args:
    axis_name: a mapped axis name (or a tuple of names); None does nothing.
    kind: ``'shards'`` or ``'replicas'`` (see the module docstring).

  Yields:
    Nothing.
  """
  if kind not in ('shards', 'replicas'):
    raise ValueError(f"kind must be 'shards' or 'replicas', got {kind!r}")
  if axis_name is None:
    yield
    return
  _frames().append((axis_name, kind))
  try:
    yield
  finally:
    _frames().pop()


def _axes(kinds: tuple[str, ...]) -> tuple:
  axes = []
  for name, kind in _frames():
    if kind in kinds:
      axes.extend(name if isinstance(name, (tuple, list)) else (name,))
  return tuple(axes)


def sum_over_shards(x: jax.Array) -> jax.Array:
  """A partial sum over a shard's elements, completed over the shard axes."""
  axes = _axes(('shards',))
  return jax.lax.psum(x, axes) if axes else x


def max_over_shards(x: jax.Array) -> jax.Array:
  """A partial maximum over a shard's elements, completed over the shard axes."""
  axes = _axes(('shards',))
  return jax.lax.pmax(x, axes) if axes else x


def all_agreed(flag: Any) -> jax.Array:
  """A boolean decision, AND-ed over every shard and replica axis in context."""
  axes = _axes(('shards', 'replicas'))
  if not axes:
    return flag
  return jax.lax.pmin(jnp.asarray(flag).astype(jnp.int32), axes) > 0
