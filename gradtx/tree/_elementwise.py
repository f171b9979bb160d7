"""Leafwise maps and whole-tree reductions: ``clip``, ``real``, ``max``, ``dtype``."""

from __future__ import annotations

import functools
from typing import Any, Optional

import jax
import jax.numpy as jnp

Tree = Any


def clip(tree: Tree, min_value: Optional[Any] = None,
         max_value: Optional[Any] = None) -> Tree:
  """Clips every leaf to ``[min_value, max_value]`` (a missing bound: none).

  Args:
    tree: a pytree of arrays.
    min_value: the lower bound, or None.
    max_value: the upper bound, or None.

  Returns:
    A tree like ``tree`` with ``min(max(x, min_value), max_value)`` leaves.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.clip({'a': jnp.array([-2.0, 0.5, 3.0])}, -1.0, 1.0)['a']
    Array([-1. ,  0.5,  1. ], dtype=float32)
  """
  return jax.tree.map(lambda x: jnp.clip(x, min_value, max_value), tree)


def conj(tree: Tree) -> Tree:
  """The complex conjugate of every leaf (real leaves are unchanged).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.conj({'z': jnp.array([1 + 2j])})['z']
    Array([1.-2.j], dtype=complex64)
  """
  return jax.tree.map(jnp.conj, tree)


def real(tree: Tree) -> Tree:
  """The real part of every leaf.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.real({'z': jnp.array([1 + 2j])})['z']
    Array([1.], dtype=float32)
  """
  return jax.tree.map(jnp.real, tree)


def _reduce(tree: Tree, leaf_fn, combine, empty: float) -> jax.Array:
  parts = [leaf_fn(x) for x in jax.tree.leaves(tree) if jnp.size(x) > 0]
  return functools.reduce(combine, parts, jnp.asarray(empty))


def max(tree: Tree) -> jax.Array:  # pylint: disable=redefined-builtin
  """The largest element over all leaves (``-inf`` for an empty tree).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.max({'a': jnp.array([1.0, 5.0]), 'b': jnp.array(-2.0)})
    Array(5., dtype=float32)
  """
  return _reduce(tree, jnp.max, jnp.maximum, -float('inf'))


def min(tree: Tree) -> jax.Array:  # pylint: disable=redefined-builtin
  """The smallest element over all leaves (``inf`` for an empty tree).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.min({'a': jnp.array([1.0, 5.0]), 'b': jnp.array(-2.0)})
    Array(-2., dtype=float32)
  """
  return _reduce(tree, jnp.min, jnp.minimum, float('inf'))


def batch_shape(tree: Tree, shape: tuple[int, ...] = ()) -> Tree:
  """Broadcasts every leaf to leading batch dimensions ``shape``.

  Args:
    tree: a pytree of arrays.
    shape: the batch dimensions to put in front of each leaf's shape.

  Returns:
    A tree whose leaf ``x`` has shape ``(*shape, *x.shape)``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.tree.batch_shape({'w': jnp.ones(3)}, (4, 2))['w'].shape
    (4, 2, 3)
  """
  shape = tuple(shape)
  return jax.tree.map(
      lambda x: jnp.broadcast_to(x, shape + tuple(jnp.shape(x))), tree)


_DTYPE_HANDLERS = (None, 'promote', 'highest', 'lowest')


def _ordered(d1: Any, d2: Any, want_high: bool) -> Any:
  """The higher (or lower) of two dtypes when one promotes to the other."""
  joined = jnp.promote_types(d1, d2)
  if joined not in (d1, d2):
    raise ValueError(
        f'the dtypes {d1} and {d2} are not ordered: neither promotes to the '
        "other (their promotion is {joined}); use mixed_dtype_handler="
        "'promote' for their common dtype.")
  high = joined
  low = d2 if high == d1 else d1
  return high if want_high else low


def dtype(tree: Tree, mixed_dtype_handler: Optional[str] = None) -> Any:
  """The dtype of the leaves of ``tree``.

  Args:
    tree: a pytree of arrays (or numbers).
    mixed_dtype_handler: what to do when the leaves differ: None raises a
      ``ValueError`` listing the odd leaves; ``'promote'`` gives their
      promoted dtype; ``'highest'`` / ``'lowest'`` the largest / smallest
      dtype when each pair promotes one to the other (else ``ValueError``).

  Returns:
    A NumPy dtype; JAX's default float dtype for an empty tree.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> t = {'a': jnp.ones(1, jnp.float16), 'b': jnp.ones(1, jnp.float32)}
    >>> gradtx.tree.dtype(t, 'lowest'), gradtx.tree.dtype(t, 'highest')
    (dtype('float16'), dtype('float32'))
  """
  if mixed_dtype_handler not in _DTYPE_HANDLERS:
    raise ValueError(
        'mixed_dtype_handler must be one of None, \'promote\', \'highest\', '
        f"'lowest', got {mixed_dtype_handler!r}")
  flat, _ = jax.tree_util.tree_flatten_with_path(tree)
  if not flat:
    return jnp.asarray([]).dtype
  dtypes = [jnp.asarray(x).dtype for _, x in flat]
  if mixed_dtype_handler is None:
    odd = [f'{jax.tree_util.keystr(p)}: {d}' for (p, _), d in zip(flat, dtypes)
           if d != dtypes[0]]
    if odd:
      raise ValueError(
          f'the tree mixes dtypes (first leaf: {dtypes[0]}); differing '
          f'leaves: {", ".join(odd)}. Pass mixed_dtype_handler=\'promote\', '
          "'highest' or 'lowest'.")
    return dtypes[0]
  if mixed_dtype_handler == 'promote':
    return functools.reduce(jnp.promote_types, dtypes)
  want_high = mixed_dtype_handler == 'highest'
  return functools.reduce(
      lambda a, b: _ordered(a, b, want_high), dtypes)
