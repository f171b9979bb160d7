"""Arithmetic on whole pytrees: the building blocks of every transformation."""

from __future__ import annotations

import functools
import numbers
import operator
from typing import Any, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import _checks
from gradtx import _shards
from gradtx.tree import _moments

Tree = Any


def _map(f, *trees):
  """``jax.tree.map`` that keeps ``None`` leaves of the first tree as ``None``."""
  return jax.tree.map(f, *trees, is_leaf=lambda x: x is None)


def _none_safe(f):
  def g(x, *rest):
    return None if x is None else f(x, *rest)

  return g


def add(tree_x: Tree, tree_y: Tree, *other_trees: Tree) -> Tree:
  """Leafwise sum of two or more trees with the same structure.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.add({'a': jnp.ones(2)}, {'a': jnp.ones(2)})['a']
    Array([2., 2.], dtype=float32)
  """
  return jax.tree.map(
      lambda *xs: functools.reduce(operator.add, xs), tree_x, tree_y, *other_trees
  )


def sub(tree_x: Tree, tree_y: Tree) -> Tree:
  """Leafwise ``tree_x - tree_y``."""
  return jax.tree.map(operator.sub, tree_x, tree_y)


def mul(tree_x: Tree, tree_y: Tree) -> Tree:
  """Leafwise ``tree_x * tree_y``."""
  return jax.tree.map(operator.mul, tree_x, tree_y)


def div(tree_x: Tree, tree_y: Tree) -> Tree:
  """Leafwise ``tree_x / tree_y``."""
  return jax.tree.map(operator.truediv, tree_x, tree_y)


def scale(scalar: Union[float, jax.Array], tree: Tree) -> Tree:
  """Multiplies every leaf by a scalar, keeping each leaf's dtype.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.scale(0.5, jnp.ones(2, jnp.bfloat16))
    Array([0.5, 0.5], dtype=bfloat16)
  """
  return _map(_none_safe(lambda x: (scalar * x).astype(x.dtype)), tree)


def add_scale(tree_x: Tree, scalar: Union[float, jax.Array], tree_y: Tree) -> Tree:
  """Leafwise ``tree_x + scalar * tree_y``, in the dtype of ``tree_x``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.add_scale(jnp.ones(2), -0.5, jnp.ones(2))
    Array([0.5, 0.5], dtype=float32)
  """
  return jax.tree.map(
      lambda x, y: (x + scalar * y).astype(jnp.result_type(x)), tree_x, tree_y
  )


def vdot(tree_x: Tree, tree_y: Tree) -> jax.Array:
  """Inner product ``sum_i <x_i, y_i>`` (complex conjugating ``tree_x``)."""
  parts = jax.tree.leaves(jax.tree.map(jnp.vdot, tree_x, tree_y))
  return _shards.sum_over_shards(
      functools.reduce(operator.add, parts, jnp.array(0.0)))


def sum(tree: Tree, associative_reduction: bool = False) -> jax.Array:  # pylint: disable=redefined-builtin
  """Sum of every element of every leaf.

  Args:
    tree: a pytree of arrays.
    associative_reduction: add the per-leaf sums as a balanced tree rather
      than left to right (fewer sequential additions for very many leaves;
      the result may differ in the last bits).

  Returns:
    A scalar; 0 for an empty tree.
  """
  parts = [jnp.sum(x) for x in jax.tree.leaves(tree)]
  if associative_reduction:
    while len(parts) > 1:
      pairs = [parts[i] + parts[i + 1] for i in range(0, len(parts) - 1, 2)]
      parts = pairs + parts[len(pairs) * 2:]
  return _shards.sum_over_shards(
      functools.reduce(operator.add, parts, jnp.array(0.0)))


def _widen(x):
  """``x`` in float32 or wider, so that norms of float16/bfloat16 leaves
  neither overflow (``300² > 65504``) nor lose precision in the sum."""
  x = jnp.asarray(x)
  return x.astype(jnp.result_type(jnp.float32, x.dtype))


def _abs_sq(x):
  return _moments.abs_sq(x)


@jax.custom_jvp
def _sqrt_zero_safe(x: jax.Array) -> jax.Array:
  """``sqrt(x)`` whose derivative at ``x = 0`` is 0 instead of ``inf``.

  The derivative of the norm of a zero tree is then 0 rather than ``nan``
  (differentiating through a clip, for meta-learning, stays finite). This is
  a custom JVP, not a ``where`` on the total: selects on the total make XLA
  duplicate the reduction into every leaf's fusion, and compile time then
  grows with the square of the number of leaves.
  """
  return jnp.sqrt(x)


@_sqrt_zero_safe.defjvp
def _sqrt_zero_safe_jvp(primals, tangents):
  (x,), (t,) = primals, tangents
  y = jnp.sqrt(x)
  positive = x > 0
  return y, jnp.where(positive, t / (2 * jnp.where(positive, y, 1.0)), 0.0)


def norm(tree: Tree, ord: Union[int, float, str, None] = None, squared: bool = False) -> jax.Array:  # pylint: disable=redefined-builtin
  """The norm of the flattened tree: ``ord`` 1, 2 (default, also None) or ``inf``.

  Args:
    tree: a pytree of arrays.
    ord: 1, 2 (or None, the default), or ``inf`` (also ``'inf'``).
    squared: return the squared norm (only for ``ord=2``).

  Returns:
    A scalar; 0 for an empty tree. Orders 1 and 2 are accumulated in
    float32 (or wider) even for float16/bfloat16 leaves.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.norm({'a': jnp.array([3.0]), 'b': jnp.array([4.0])})
    Array(5., dtype=float32)
  """
  leaves = jax.tree.leaves(tree)
  if ord is None or ord == 2:
    sq = jnp.zeros([], jnp.float32)
    for x in leaves:
      sq = sq + jnp.sum(_abs_sq(x))
    sq = _shards.sum_over_shards(sq)
    return sq if squared else _sqrt_zero_safe(sq)
  if squared:
    raise ValueError(f'squared=True requires ord=2, got ord={ord!r}')
  if ord == 1:
    return _shards.sum_over_shards(functools.reduce(
        operator.add, [jnp.sum(jnp.abs(_widen(x))) for x in leaves],
        jnp.array(0.0),
    ))
  if ord in (jnp.inf, 'inf', np.inf):
    return _shards.max_over_shards(functools.reduce(
        jnp.maximum, [jnp.max(jnp.abs(x)) for x in leaves if x.size],
        jnp.array(0.0),
    ))
  raise ValueError(f"ord must be one of 1, 2, inf, got {ord!r}")


def zeros_like(tree: Tree, dtype: Optional[Any] = None) -> Tree:
  """A tree of zeros with the structure and shapes of ``tree``."""
  return _map(_none_safe(lambda x: jnp.zeros_like(x, dtype=dtype)), tree)


def ones_like(tree: Tree, dtype: Optional[Any] = None) -> Tree:
  """A tree of ones with the structure and shapes of ``tree``."""
  return _map(_none_safe(lambda x: jnp.ones_like(x, dtype=dtype)), tree)


def full_like(tree: Tree, fill_value: Any, dtype: Optional[Any] = None) -> Tree:
  """A tree filled with ``fill_value``, with the shapes of ``tree``."""
  return _map(
      _none_safe(lambda x: jnp.full_like(x, fill_value, dtype=dtype)), tree
  )


def cast(tree: Tree, dtype: Optional[Any], *, kind: Any = jnp.inexact) -> Tree:
  """Casts every floating leaf to ``dtype``; ``dtype=None`` is a no-op.

  Integer and boolean leaves are left alone; so are complex leaves when
  ``kind=jnp.floating`` (real floating leaves only, as mixed-precision
  policies cast).
  """
  if dtype is None:
    return tree
  dtype = _checks.check_dtype('dtype', dtype)

  def f(x):
    if x is None:
      return None
    if jnp.issubdtype(jnp.result_type(x), kind):
      return jnp.asarray(x).astype(dtype)
    return x

  return _map(f, tree)


def cast_like(tree: Tree, other_tree: Tree) -> Tree:
  """Casts each leaf of ``tree`` to the dtype of the matching leaf of ``other_tree``."""
  return jax.tree.map(
      lambda x, y: jnp.asarray(x).astype(jnp.result_type(y)), tree, other_tree
  )


def where(condition: Any, tree_x: Tree, tree_y: Tree) -> Tree:
  """Leafwise ``jnp.where(condition, tree_x, tree_y)``; ``condition`` is a scalar or a tree.

  With a scalar condition this selects a whole tree without Python control
  flow, so it is safe under ``jit``.
  """
  if isinstance(condition, (numbers.Number, jax.Array, np.ndarray, np.generic)) and not (
      jax.tree.structure(condition).num_leaves != 1
  ) and jnp.ndim(condition) == 0:
    return jax.tree.map(lambda x, y: jnp.where(condition, x, y), tree_x, tree_y)
  return jax.tree.map(jnp.where, condition, tree_x, tree_y)


def size(tree: Tree) -> int:
  """Total number of elements in the tree."""
  return int(np.sum([np.size(x) for x in jax.tree.leaves(tree)], dtype=np.int64))


def allclose(a: Tree, b: Tree, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
  """True when the trees have the same structure and all leaves are close."""
  if jax.tree.structure(a) != jax.tree.structure(b):
    return False
  return all(
      bool(np.allclose(np.asarray(x, np.float64) if not np.iscomplexobj(x) else np.asarray(x),
                       np.asarray(y, np.float64) if not np.iscomplexobj(y) else np.asarray(y),
                       rtol=rtol, atol=atol, equal_nan=equal_nan))
      for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b))
  )


def all_finite(tree: Tree) -> jax.Array:
  """A scalar boolean: True when every element of every leaf is finite.

  Safe under ``jit``: the result is an array, never a Python bool.

  Args:
    tree: a pytree of arrays.

  Returns:
    A boolean scalar array; True for an empty tree.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.all_finite({'w': jnp.ones(2), 'b': jnp.array([jnp.nan])})
    Array(False, dtype=bool)
  """
  leaves = jax.tree.leaves(tree)
  if not leaves:
    return _shards.all_agreed(jnp.array(True))
  return _shards.all_agreed(functools.reduce(
      jnp.logical_and, [jnp.all(jnp.isfinite(x)) for x in leaves]
  ))
