"""Random trees: one key per leaf, and noise shaped like a tree."""

from __future__ import annotations

from typing import Any, Callable, Optional

import jax

Tree = Any


def split_key_like(rng_key: jax.Array, target_tree: Tree) -> Tree:
  """Splits ``rng_key`` into one key per leaf of ``target_tree``.

  Args:
    rng_key: a PRNG key (``jax.random.key`` or ``jax.random.PRNGKey``).
    target_tree: the tree whose structure the keys take.

  Returns:
    A tree with the structure of ``target_tree`` and a distinct key at each
    leaf (``jax.random.split(rng_key, n)`` in leaf order).

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> keys = gradtx.tree.split_key_like(jax.random.PRNGKey(0),
    ...                                   {'a': jnp.ones(2), 'b': jnp.ones(3)})
    >>> keys['a'].shape
    (2,)
  """
  treedef = jax.tree.structure(target_tree)
  return treedef.unflatten(list(jax.random.split(rng_key, treedef.num_leaves)))


def random_like(
    rng_key: jax.Array,
    target_tree: Tree,
    sampler: Callable[..., jax.Array] = jax.random.normal,
    dtype: Optional[Any] = None,
) -> Tree:
  """A tree of random arrays shaped like ``target_tree``.

  Each leaf ``x`` becomes ``sampler(key, x.shape, dtype or x.dtype)`` with
  its own key from :func:`split_key_like`.

  Args:
    rng_key: a PRNG key.
    target_tree: the tree whose structure and shapes to copy (array leaves).
    sampler: ``sampler(key, shape, dtype)``, by default
      ``jax.random.normal``.
    dtype: the dtype to sample in; None uses each leaf's dtype.

  Returns:
    A random tree with the structure of ``target_tree``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> noise = gradtx.tree.random_like(jax.random.PRNGKey(0),
    ...                                 {'w': jnp.zeros((2, 3), jnp.bfloat16)})
    >>> noise['w'].shape, noise['w'].dtype
    ((2, 3), dtype(bfloat16))
  """
  keys = split_key_like(rng_key, target_tree)
  return jax.tree.map(
      lambda x, k: sampler(k, x.shape, dtype or x.dtype), target_tree, keys)


def unwrap_random_key_data(input_tree: Tree) -> Tree:
  """Replaces typed PRNG keys (``jax.random.key``) by their raw key data.

  Useful to compare states holding keys with ``allclose`` or NumPy; other
  leaves are returned unchanged.

  Args:
    input_tree: a tree of arrays and typed keys.

  Returns:
    The tree with each typed key replaced by ``jax.random.key_data(key)``.

  Example:
    >>> import jax, gradtx
    >>> t = gradtx.tree.unwrap_random_key_data({'k': jax.random.key(0)})
    >>> t['k'].dtype
    dtype('uint32')
  """
  def unwrap(x):
    if isinstance(x, jax.Array) and jax.dtypes.issubdtype(
        x.dtype, jax.dtypes.prng_key):
      return jax.random.key_data(x)
    return x

  return jax.tree.map(unwrap, input_tree)
