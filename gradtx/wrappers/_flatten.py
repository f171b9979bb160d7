"""Running a transformation on one flat vector of all the parameters."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import base
from gradtx import _leafwise


def _to_vector(tree):
  leaves = jax.tree.leaves(tree)
  if not leaves:
    return jnp.zeros((0,), jnp.float32)
  return jnp.concatenate([jnp.ravel(x) for x in leaves])


def _from_vector(vector, like):
  leaves, treedef = jax.tree.flatten(like)
  sizes = np.cumsum([np.size(x) for x in leaves])[:-1].tolist()
  parts = jnp.split(vector, sizes) if leaves else []
  return jax.tree.unflatten(
      treedef, [jnp.reshape(p, jnp.shape(x)) for p, x in zip(parts, leaves)])


def flatten(inner: base.GradientTransformation) -> base.GradientTransformationExtraArgs:
  """Runs ``inner`` on the concatenation of all the leaves, then splits back.

  .. code-block:: text

    u = unflatten(inner(concat(ravel(g_1), …, ravel(g_n))))

  One large vector instead of many small arrays cuts per-array overhead. The
  vector has the promoted dtype of the leaves; each returned leaf is cast back
  to its update's dtype. The state is the inner state, built on the vector.
  Leafwise transformations give the same result as without ``flatten``;
  transformations that look at an array's shape (factored moments, per-layer
  trust ratios, centralization) see a single vector instead.

  Args:
    inner: the transformation to run on the flat vector.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` whose state is
    ``inner``'s.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.flatten(gradtx.scale(2.0))
    >>> u, _ = tx.update({'a': jnp.ones(2), 'b': jnp.ones((1, 1))},
    ...                  tx.init({'a': jnp.ones(2), 'b': jnp.ones((1, 1))}))
    >>> u['b']
    Array([[2.]], dtype=float32)
  """
  inner = base.with_extra_args_support(inner)

  def init_fn(params):
    return inner.init(_to_vector(params))

  def update_fn(updates, state, params=None, **extra_args):
    flat_params = None if params is None else _to_vector(params)
    flat, state = inner.update(_to_vector(updates), state, flat_params,
                               **extra_args)
    return _leafwise.like_updates(_from_vector(flat, updates), updates), state

  return base.transformation_with_extra_args('flatten', init_fn, update_fn)
