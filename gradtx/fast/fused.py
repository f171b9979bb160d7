"""Running an optimizer on one flat buffer per dtype instead of on each leaf."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import base
from gradtx.fast import layout as _layout


class FusedState(NamedTuple):
  """State of :func:`fused` on tree params.

  Attributes:
    inner_state: the inner optimizer's state, built on the flat buffers.
    offsets: each leaf's start in its buffer (int32 scalars). They travel as
      data so that XLA compiles the split of the update into one kernel per
      leaf shape instead of one per leaf.
  """
  inner_state: Any
  offsets: tuple[jax.Array, ...]


def fused(
    inner: base.GradientTransformation,
    layout: Optional[_layout.FlatLayout] = None,
) -> base.GradientTransformationExtraArgs:
  """Runs ``inner`` on one flat buffer per dtype group: a handful of kernels.

  .. code-block:: text

    flat = {d: concat(ravel(g) for the leaves g of dtype d)}
    u    = unflatten(inner(flat))        (elementwise inner)
    u    = inner(g)                      (any other inner: the tree path)

  An elementwise optimizer (:func:`gradtx.base.is_elementwise`: Adam,
  AdamW, SGD with momentum, Lion, RMSProp, Adagrad, their clipped chains
  with :func:`gradtx.clip_by_global_norm`, ...) gives the same numbers on
  the flat buffers as on the leaves (bit for bit, except the global norm,
  whose sum runs in another order), in a few fused loops instead of a few
  per leaf. Anything else (LAMB, LARS, Adafactor, block RMS, centralize,
  masks, partitions, injected hyperparameters) runs on the tree unchanged:
  the fallback is silent and exact.

  Two ways to use it:

  * ``layout=None``: params and gradients are ordinary trees. The state is
    a :class:`FusedState`: the inner state on the flat buffers, and the
    leaves' offsets in them. Gradients are concatenated and updates split on
    every step, a copy per leaf each way; the offsets travel as data, so the
    split compiles to one kernel per leaf *shape*, not one per leaf.
  * ``layout=flat_layout(params)``: params and gradients are the flat dicts
    of :meth:`FlatLayout.flatten` (the model reads
    ``layout.unflatten(flat)`` inside the loss). Elementwise optimizers then
    run on the buffers directly (nothing to concatenate or split, a constant
    number of kernels whatever the leaf count); other optimizers unflatten,
    run on the tree and flatten back.

  Leaves keep their dtypes (one buffer per dtype; a leaf of more than
  ``2**18`` elements keeps a buffer of its own, see :func:`flat_layout`);
  ``mu_dtype`` and the like
  apply to the buffers as they would to the leaves. The state is a plain
  pytree of arrays: a :class:`FusedState` with tree params, the inner state
  itself with flat params.

  Args:
    inner: the optimizer or transformation to run.
    layout: None for tree params, or the :class:`FlatLayout` of the params
      when they are kept flat.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx, gradtx.fast
    >>> params = {'b': jnp.zeros(2), 'w': jnp.ones((2, 2))}
    >>> opt = gradtx.fast.fused(gradtx.adam(0.1))
    >>> state = opt.init(params)
    >>> list(state.inner_state[0].mu)  # one buffer per dtype
    ['float32']
    >>> u, state = opt.update(params, state)
    >>> u['w']
    Array([[-0.1, -0.1],
           [-0.1, -0.1]], dtype=float32)

  References:
    The multi-tensor ("foreach") and fused optimizers of PyTorch,
    ``torch.optim.AdamW(..., foreach=True | fused=True)``.
  """
  inner = base.with_extra_args_support(inner)
  if layout is not None and not isinstance(layout, _layout.FlatLayout):
    raise TypeError(
        'fused: layout must be a FlatLayout (from gradtx.fast.flat_layout) or '
        f'None, got {type(layout).__name__}.')
  elementwise = base.is_elementwise(inner)

  if elementwise and layout is not None:
    return inner  # The params are already flat buffers.

  if layout is None and not elementwise:
    return inner  # The tree path.

  if layout is None:

    def init_fn(params):
      tree_layout = _layout.flat_layout(params)
      # NumPy scalars (offsets() while tracing) become arrays of the state.
      offsets = tuple(jnp.asarray(o) if isinstance(o, np.generic) else o
                      for o in tree_layout.offsets())
      return FusedState(inner.init(tree_layout.flatten(params)), offsets)

    def update_fn(updates, state, params=None, **extra_args):
      tree_layout = _layout.flat_layout(updates)
      flat_params = None if params is None else tree_layout.flatten(params)
      flat, inner_state = inner.update(
          tree_layout.flatten(updates), state.inner_state, flat_params,
          **extra_args)
      return (tree_layout.split(flat, state.offsets),
              FusedState(inner_state, state.offsets))

    return base.transformation_with_extra_args(
        'fused', init_fn, update_fn, elementwise=True)

  # Flat params, a transformation that needs the leaves: unflatten, run on the
  # tree, flatten back.
  def tree_init_fn(flat_params):
    return inner.init(layout.unflatten(flat_params))

  def tree_update_fn(flat_updates, state, flat_params=None, **extra_args):
    params = None if flat_params is None else layout.unflatten(flat_params)
    updates, state = inner.update(
        layout.unflatten(flat_updates), state, params, **extra_args)
    return layout.flatten(updates), state

  return base.transformation_with_extra_args(
      'fused', tree_init_fn, tree_update_fn, elementwise=False)
