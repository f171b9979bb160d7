"""Float32 master weights for low-precision parameters, kept in the optimizer state."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _masking
from gradtx import base
from gradtx.mixed_precision import policy as _policy
from gradtx import _leafwise


class MasterWeightsState(NamedTuple):
  """State of :func:`with_master_weights`."""

  master_params: base.Params  # like params; floating leaves in master_dtype.
  inner_state: Any  # the inner optimizer's state, built on master_params.


def _add_in_master(master, update):
  if master is None or isinstance(update, _masking.MaskedNode):
    return master
  return (master + update).astype(master.dtype)


def _floating(tree: Any) -> Any:
  """Mask: True for the floating (and None) leaves of ``tree``.

  Integer leaves (a step counter kept among the params, say) are kept out of
  the inner optimizer, which would refuse them, and get zero updates.
  """
  return jax.tree.map(
      lambda x: x is None or jnp.issubdtype(jnp.result_type(x), jnp.inexact),
      tree, is_leaf=lambda x: x is None)


def with_master_weights(
    inner: base.GradientTransformation,
    master_dtype: Any = jnp.float32,
    *,
    updates_in_master_dtype: bool = True,
) -> base.GradientTransformationExtraArgs:
  r"""Keeps a high-precision master copy of the parameters in the state.

  Parameters stored in bfloat16 or float16 cannot absorb updates much smaller
  than their own rounding step (about 0.4% for bfloat16), so small learning
  rates stall. This wrapper keeps a ``master_dtype`` copy ``θ_m`` of the
  parameters and lets ``inner`` optimise that copy:

  .. code-block:: text

    u_m, s ← inner.update(cast(g, master_dtype), s, θ_m)
    θ_m ← θ_m + u_m                              (in master_dtype)
    u ← cast(θ_m, dtype(θ)) − θ                   (in master_dtype)

  The emitted ``u`` is in ``master_dtype``; :func:`gradtx.apply_updates`
  computes ``θ + u`` in that dtype and rounds it to ``θ``'s dtype, which lands
  the low-precision parameters exactly on the rounded master copy. (The
  difference of two bfloat16/float16 numbers is exact in float32 whenever
  their exponents differ by less than 16 (bfloat16) or 13 (float16) binades;
  a single step never moves a parameter further than that in practice.)
  Because ``u`` is computed from the current ``θ``, parameters that drifted
  from the master copy are pulled back onto it.

  With ``updates_in_master_dtype=False`` the updates are cast to the
  incoming gradients' dtype instead, as most transformations do (so
  ``update`` fits code that expects updates shaped and typed like the
  gradients). ``θ + u`` is then computed in the low-precision dtype and is
  still exact whenever the old and new values are within a factor of two of
  each other (Sterbenz's lemma); a parameter that crosses zero or moves by
  more than that may land one ulp away from the rounded master copy.

  The inner optimizer is initialised on the master copy, so its moments are in
  ``master_dtype`` unless it asks for another dtype. Integer leaves pass
  through; the master copy holds them unchanged. ``update`` needs ``params``.

  Args:
    inner: the optimizer to run on the master copy.
    master_dtype: dtype of the master copy, a floating dtype (default
      float32).
    updates_in_master_dtype: emit the updates in ``master_dtype`` (default,
      exact) or in the gradients' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`MasterWeightsState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> params = jnp.ones(2, jnp.bfloat16)
    >>> opt = gradtx.with_master_weights(gradtx.scale(-1e-3))
    >>> state = opt.init(params)
    >>> for _ in range(3):   # each step alone is below bfloat16's resolution
    ...   updates, state = opt.update(jnp.ones(2, jnp.bfloat16), state, params)
    ...   params = gradtx.apply_updates(params, updates)
    >>> params, state.master_params
    (Array([0.996094, 0.996094], dtype=bfloat16), Array([0.997, 0.997], dtype=float32))

  References:
    Micikevicius et al., *Mixed Precision Training*, ICLR 2018.
  """
  master_dtype = _checks.check_dtype('master_dtype', master_dtype)
  if master_dtype is None or not jnp.issubdtype(master_dtype, jnp.floating):
    raise ValueError(
        'master_dtype must be a floating dtype such as jnp.float32, got '
        f'{master_dtype!r}'
    )
  inner = base.with_extra_args_support(inner)

  def init_fn(params):
    master = _policy.cast_floating(params, master_dtype)
    inner_state = inner.init(_masking.mask_tree(master, _floating(master)))
    return MasterWeightsState(master_params=master, inner_state=inner_state)

  def update_fn(updates, state, params=None, **extra_args):
    _checks.require_params('with_master_weights', params)
    grads = _policy.cast_floating(updates, master_dtype)
    fmask = _floating(state.master_params)
    master_updates, inner_state = inner.update(
        _masking.mask_tree(grads, fmask), state.inner_state,
        _masking.mask_tree(state.master_params, fmask), **extra_args
    )
    master = jax.tree.map(
        _add_in_master, state.master_params, master_updates,
        is_leaf=lambda x: x is None or isinstance(x, _masking.MaskedNode),
    )

    def emitted(m, p, g):
      if p is None:
        return None
      p = jnp.asarray(p)
      if not jnp.issubdtype(p.dtype, jnp.floating):
        return jnp.zeros_like(g)
      target = m.astype(p.dtype).astype(master_dtype)
      return target - p.astype(master_dtype)

    out = jax.tree.map(
        emitted, master, params, updates, is_leaf=lambda x: x is None
    )
    if not updates_in_master_dtype:
      out = _leafwise.like_updates(out, updates)
    return out, MasterWeightsState(master_params=master, inner_state=inner_state)

  return base.transformation_with_extra_args(
      'with_master_weights', init_fn, update_fn
  )
