"""Applying a transformation to a subset of the parameters."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Union

import jax

from gradtx import base
from gradtx import _structure


class MaskedState(NamedTuple):
  """State of :func:`masked`."""

  inner_state: Any  # the inner state, built on the masked-in leaves only.


class MaskedNode(NamedTuple):
  """Stands in for a masked-out leaf inside the inner transformation.

  It is an empty pytree node, so ``jax.tree.map`` skips it.
  """


MaskOrFn = Union[Any, Callable[[base.Params], Any]]


def resolve(mask_or_fn: Any, tree: Any) -> Any:
  """``mask_or_fn(tree)`` if it is a function, else the mask itself."""
  return mask_or_fn(tree) if callable(mask_or_fn) else mask_or_fn


def mask_tree(tree: Any, mask: Any) -> Any:
  """Replaces the subtrees of ``tree`` where ``mask`` is False by MaskedNode."""
  return jax.tree.map(
      lambda m, x: x if m else MaskedNode(), mask, tree,
      is_leaf=lambda x: x is None,
  )


def merge(mask: Any, new: Any, old: Any) -> Any:
  """Takes ``new`` where ``mask`` is True and ``old`` elsewhere."""
  return jax.tree.map(
      lambda m, n, o: n if m else o, mask, new, old,
      is_leaf=lambda x: isinstance(x, MaskedNode) or x is None,
  )


def init_masked(inner: base.GradientTransformation, mask: Any, params: Any) -> MaskedState:
  """``init`` of :func:`masked` for an already resolved and checked mask."""
  return MaskedState(inner_state=inner.init(mask_tree(params, mask)))


def update_masked(
    inner: base.GradientTransformationExtraArgs,
    mask: Any,
    updates: Any,
    state: MaskedState,
    params: Any = None,
    mask_compatible_extra_args: bool = False,
    **extra_args: Any,
) -> tuple[Any, MaskedState]:
  """``update`` of :func:`masked` for an already resolved and checked mask."""
  if mask_compatible_extra_args:
    structure = jax.tree.structure(updates)
    extra_args = {
        k: mask_tree(v, mask) if jax.tree.structure(v) == structure else v
        for k, v in extra_args.items()
    }
  new_masked, inner_state = inner.update(
      mask_tree(updates, mask), state.inner_state,
      None if params is None else mask_tree(params, mask), **extra_args
  )
  return merge(mask, new_masked, updates), MaskedState(inner_state=inner_state)


def masked(
    inner: base.GradientTransformation,
    mask: MaskOrFn,
    *,
    mask_compatible_extra_args: bool = False,
) -> base.GradientTransformationExtraArgs:
  """Applies ``inner`` where ``mask`` is True; other updates pass unchanged.

  .. code-block:: text

    u_i ← inner(g)_i   where mask_i
    u_i ← g_i          elsewhere

  The inner transformation sees only the masked-in leaves (the others are
  replaced by an empty :class:`MaskedNode`), so its state holds buffers for
  those leaves alone, and a statistic it computes over the whole tree (a
  global norm, say) covers the masked-in leaves only.

  Args:
    inner: the transformation to apply.
    mask: a tree of booleans with the params' structure (or a prefix of it),
      or a function from the params to such a tree. It must be static (plain
      Python booleans), not traced arrays.
    mask_compatible_extra_args: also mask the extra keyword arguments of
      ``update`` whose tree structure is that of the updates.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`MaskedState`.

  Raises:
    TypeError: (also a ValueError) when the mask does not match the params;
      the message names the first path where they differ.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> params = {'w': jnp.ones(2), 'b': jnp.ones(2)}
    >>> tx = gradtx.masked(gradtx.scale(0.0), {'w': True, 'b': False})
    >>> u, _ = tx.update(params, tx.init(params))
    >>> u['w'], u['b']
    (Array([0., 0.], dtype=float32), Array([1., 1.], dtype=float32))
  """
  inner = base.with_extra_args_support(inner)

  def init_fn(params):
    m = resolve(mask, params)
    _structure.check_prefix(m, params, what='mask', owner='masked')
    return init_masked(inner, m, params)

  def update_fn(updates, state, params=None, **extra_args):
    m = resolve(mask, updates if params is None else params)
    _structure.check_prefix(m, updates, what='mask', owner='masked',
                            against='updates')
    return update_masked(
        inner, m, updates, state, params,
        mask_compatible_extra_args=mask_compatible_extra_args, **extra_args
    )

  return base.transformation_with_extra_args('masked', init_fn, update_fn)
