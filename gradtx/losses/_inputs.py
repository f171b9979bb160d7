"""Input checks and dtype rules shared by the loss functions.

Every loss computes in float32 or wider (``gradtx.tree.compute_dtype``) and
returns the dtype Optax would: the promotion of its floating inputs. A
bfloat16 loss is therefore rounded once, at the end, instead of after every
intermediate step.
"""

from __future__ import annotations

import operator
from typing import Any, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

from gradtx.tree import compute_dtype

Axis = Union[int, Sequence[int], None]


def _dtype(x: Any) -> jnp.dtype:
  return jax.dtypes.result_type(x)


def check_floating(name: str, x: Any) -> None:
  """Raises ``TypeError`` unless ``x`` has a floating dtype."""
  dtype = _dtype(x)
  if not jnp.issubdtype(dtype, jnp.floating):
    raise TypeError(f'{name} must have a floating dtype, got {dtype}')


def check_integer(name: str, x: Any) -> None:
  """Raises ``TypeError`` unless ``x`` has an integer dtype."""
  dtype = _dtype(x)
  if not jnp.issubdtype(dtype, jnp.integer):
    raise TypeError(f'{name} must have an integer dtype, got {dtype}')


def shape_of(x: Any) -> tuple[int, ...]:
  return tuple(x.shape) if hasattr(x, 'shape') else np.shape(x)


def check_same_shape(name_a: str, a: Any, name_b: str, b: Any) -> None:
  """Raises ``ValueError`` unless ``a`` and ``b`` have the same shape."""
  if shape_of(a) != shape_of(b):
    raise ValueError(f'{name_a} and {name_b} must have the same shape, got '
                     f'{shape_of(a)} and {shape_of(b)}')


def check_rank(name: str, x: Any, rank: int) -> None:
  """Raises ``ValueError`` unless ``x`` has ``rank`` dimensions."""
  if len(shape_of(x)) != rank:
    raise ValueError(f'{name} must have rank {rank}, got shape {shape_of(x)}')


def out_dtype(*xs: Any) -> jnp.dtype:
  """The dtype of the result: the promotion of the inputs, as in Optax."""
  return jnp.result_type(*xs)


def upcast(x: Any, *others: Any) -> jax.Array:
  """``x`` as an array in the compute dtype of ``x`` and ``others``."""
  return jnp.asarray(x).astype(compute_dtype(x, *others))


def normalize_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
  """``axis`` as a tuple of non-negative axes, in the given order."""
  if axis is None:
    return tuple(range(ndim))
  axes = (axis,) if not isinstance(axis, (tuple, list)) else tuple(axis)
  result = []
  for a in axes:
    a = operator.index(a)
    if not -ndim <= a < ndim:
      raise ValueError(f'axis {a} is out of bounds for an array of rank {ndim}')
    result.append(a % ndim)
  return tuple(result)


def expand_where(where: Any, axis: Axis, ndim: int) -> Any:
  """A batch-shaped ``where`` gets size-1 dimensions at ``axis``."""
  if where is None:
    return None
  where = jnp.asarray(where)
  if where.ndim != ndim:
    where = jnp.expand_dims(where, axis)
  return where
