"""Sharpness-aware minimisation: step to a nearby worst point, then descend."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx import tree as tu
from gradtx.contrib import _args
from gradtx import updates as _updates
from gradtx import _leafwise


class SAMState(NamedTuple):
  """State of :func:`sam`."""

  steps_since_sync: jax.Array  # int32 scalar in [0, sync_period).
  opt_state: base.OptState  # the outer optimizer's state.
  adv_state: base.OptState  # the adversarial optimizer's state.
  cache: Optional[base.Params]  # the outer params (None in opaque mode).


def _negate(tree):
  return jax.tree.map(lambda x: -x, tree)


def sam(
    optimizer: base.GradientTransformation,
    adv_optimizer: base.GradientTransformation,
    sync_period: int = 2,
    reset_state: bool = True,
    opaque_mode: bool = False,
    batch_axis_name: Optional[str] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Sharpness-aware minimisation (SAM) around an outer optimizer.

  .. code-block:: text

    θ̃₀ = θ
    θ̃ₖ = θ̃ₖ₋₁ − adv_optimizer(∇f(θ̃ₖ₋₁))       k = 1 … sync_period − 1
    θ ← θ + optimizer(∇f(θ̃ₖ))                 (at k = sync_period − 1)

  ``adv_optimizer`` is a *descent* optimizer whose update is negated, so
  ``chain(normalize, sgd(ρ))`` gives SAM's ascent step
  ``θ̃ = θ + ρ·g/‖g‖``; with ``sync_period = 2`` this is the paper's SAM.

  Two modes:

  * transparent (``opaque_mode=False``): each call to ``update`` is one
    step. The first ``sync_period − 1`` calls return the adversarial
    updates; the last returns ``cache − θ̃ + optimizer(g)``, which puts the
    params back on the outer iterate and takes the outer step. The outer
    optimizer sees the cached outer params.
  * opaque (``opaque_mode=True``): one call does all the steps.
    ``update(g, state, params, grad_fn=grad_fn)`` calls
    ``grad_fn(θ̃ₖ, k)`` for the adversarial points and returns only the
    outer update, so the training loop never sees ``θ̃`` (needed when other
    state, such as batch-norm statistics, changes at each step).

  With ``reset_state`` the adversarial optimizer's state is re-initialised
  after each outer step.

  Args:
    optimizer: the outer optimizer.
    adv_optimizer: the adversarial optimizer (its update is negated).
    sync_period: number of steps per outer step, ``≥ 1``.
    reset_state: re-initialise ``adv_optimizer`` after each outer step.
    opaque_mode: run the adversarial steps inside ``update``.
    batch_axis_name: in opaque mode under ``pmap``, the axis to
      ``pmean`` the adversarial gradients over.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`SAMState`. It needs ``params`` in ``update``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.contrib import sam
    >>> rho, lr = 0.1, 0.5
    >>> adv = gradtx.chain(gradtx.normalize_by_update_norm(eps=0.0),
    ...                    gradtx.sgd(rho))
    >>> opt = sam(gradtx.sgd(lr), adv)
    >>> f = lambda p: jnp.sum(p ** 2)
    >>> p = jnp.array([3.0, 4.0])
    >>> state = opt.init(p)
    >>> u, state = opt.update(jax.grad(f)(p), state, p)
    >>> p = p + u; p  # ascent: θ + ρ·g/‖g‖
    Array([3.06, 4.08], dtype=float32)
    >>> u, state = opt.update(jax.grad(f)(p), state, p)
    >>> p + u  # θ − lr·∇f(θ̃) from the cached θ
    Array([-0.06, -0.08], dtype=float32)

  References:
    Foret et al., *Sharpness-Aware Minimization for Efficiently Improving
    Generalization*, ICLR 2021 (arXiv:2010.01412).
  """
  sync_period = _args.static_int('sync_period', sync_period, 1)
  optimizer = base.with_extra_args_support(optimizer)
  adv_optimizer = base.with_extra_args_support(adv_optimizer)

  def init_fn(params):
    return SAMState(
        steps_since_sync=jnp.zeros([], jnp.int32),
        opt_state=optimizer.init(params),
        adv_state=adv_optimizer.init(params),
        cache=None if opaque_mode else jax.tree.map(
            lambda p: jnp.array(p, copy=True), params),
    )

  def transparent_update(updates, state, params=None, *, grad_fn=None,
                         **extra_args):
    del grad_fn, extra_args
    _checks.require_params('sam', params)
    first = state.steps_since_sync == 0
    last = state.steps_since_sync == sync_period - 1
    adv_updates, adv_state = adv_optimizer.update(updates, state.adv_state,
                                                  params)
    adv_updates = _negate(adv_updates)
    opt_updates, opt_state = optimizer.update(updates, state.opt_state,
                                              state.cache)
    opt_updates = jax.tree.map(
        lambda c, p, u: (c.astype(tu.compute_dtype(c)) - p + u).astype(p.dtype),
        state.cache, params, opt_updates)
    new_updates = tu.where(last, opt_updates, adv_updates)
    if reset_state:
      adv_state = tu.where(last, adv_optimizer.init(params), adv_state)
    else:
      adv_state = tu.where(last, state.adv_state, adv_state)
    return _leafwise.like_updates(new_updates, updates), SAMState(
        steps_since_sync=(state.steps_since_sync + 1) % sync_period,
        opt_state=tu.where(last, opt_state, state.opt_state),
        adv_state=_leafwise.store_like(adv_state, state.adv_state),
        cache=_leafwise.store_like(tu.where(first, params, state.cache),
                                   state.cache),
    )

  def opaque_update(updates, state, params=None, *,
                    grad_fn: Optional[Callable[[Any, int], Any]] = None,
                    **extra_args):
    del extra_args
    _checks.require_params('sam', params)
    if grad_fn is None:
      raise ValueError(
          'sam(opaque_mode=True) needs the gradient function: call '
          'update(grads, state, params, grad_fn=grad_fn) with '
          'grad_fn(params, k) returning the gradients at params.')
    adv_params, grads, adv_state = params, updates, state.adv_state
    for k in range(sync_period - 1):
      adv_updates, adv_state = adv_optimizer.update(grads, adv_state,
                                                    adv_params)
      adv_params = _updates.apply_updates(adv_params, _negate(adv_updates))
      grads = grad_fn(adv_params, k)
      if batch_axis_name is not None:
        grads = jax.lax.pmean(grads, axis_name=batch_axis_name)
    if reset_state:
      adv_state = adv_optimizer.init(params)
    new_updates, opt_state = optimizer.update(grads, state.opt_state, params)
    return new_updates, SAMState(
        steps_since_sync=jnp.zeros([], jnp.int32),
        opt_state=opt_state,
        adv_state=_leafwise.store_like(adv_state, state.adv_state),
        cache=None,
    )

  return base.transformation_with_extra_args(
      'sam', init_fn, opaque_update if opaque_mode else transparent_update)
