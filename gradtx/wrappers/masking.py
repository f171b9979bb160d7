"""Applying a transformation to a subset of the parameters."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Union

import jax

from gradtx import _checks
from gradtx import base


class MaskedState(NamedTuple):
  """State of :func:`masked`."""

  inner_state: Any  # the inner state, built on the masked-in leaves only.


class MaskedNode(NamedTuple):
  """Stands in for a masked-out leaf inside the inner transformation."""


MaskOrFn = Union[Any, Callable[[base.Params], Any]]


def _resolve_mask(mask, params):
  return mask(params) if callable(mask) else mask


def _check_mask(mask_tree, tree, what):
  try:
    jax.tree.map(lambda m, _: m, mask_tree, tree)
  except ValueError as e:
    raise TypeError(
        f'masked: the mask does not match the {what}.\n'
        + _checks.describe_mismatch(
            'mask', jax.tree.structure(mask_tree), what, jax.tree.structure(tree)
        )
    ) from e


def _mask_tree(tree, mask_tree):
  """Replaces masked-out subtrees of ``tree`` with :class:`MaskedNode`."""
  return jax.tree.map(
      lambda m, x: x if m else MaskedNode(), mask_tree, tree,
      is_leaf=lambda x: x is None,
  )


def masked(
    inner: base.GradientTransformation, mask: MaskOrFn
) -> base.GradientTransformationExtraArgs:
  """Applies ``inner`` where ``mask`` is True; other updates pass unchanged.

  The inner transformation sees only the masked-in leaves (the others are
  replaced by an empty :class:`MaskedNode`), so its state holds buffers for
  those leaves alone.

  Args:
    inner: the transformation to apply.
    mask: a tree of booleans with the params' structure (or a prefix of it),
      or a function from the params to such a tree.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`MaskedState`.

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
    mask_tree = _resolve_mask(mask, params)
    _check_mask(mask_tree, params, 'params')
    return MaskedState(inner_state=inner.init(_mask_tree(params, mask_tree)))

  def update_fn(updates, state, params=None, **extra_args):
    mask_tree = _resolve_mask(mask, updates if params is None else params)
    _check_mask(mask_tree, updates, 'updates')
    masked_updates = _mask_tree(updates, mask_tree)
    masked_params = None if params is None else _mask_tree(params, mask_tree)
    new_masked, inner_state = inner.update(
        masked_updates, state.inner_state, masked_params, **extra_args
    )
    out = jax.tree.map(
        lambda m, new, old: new if m else old,
        mask_tree, new_masked, updates,
        is_leaf=lambda x: isinstance(x, MaskedNode) or x is None,
    )
    return out, MaskedState(inner_state=inner_state)

  return base.transformation_with_extra_args('masked', init_fn, update_fn)
