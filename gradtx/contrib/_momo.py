"""MoMo: SGD and Adam with a Polyak-type step size from a momentum model."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise

# Optax compares ‖d‖² with the float64 machine epsilon (``jnp.finfo(float)``).
_TINY = float(jnp.finfo(float).eps)


class MomoState(NamedTuple):
  """State of :func:`momo`."""

  exp_avg: base.Updates  # d, the momentum of the gradients, like params.
  barf: jax.Array  # float32 scalar: f̄, the momentum of the loss values.
  gamma: jax.Array  # float32 scalar: γ, the momentum of ⟨g, θ⟩.
  lb: jax.Array  # float32 scalar: the (estimated) lower bound of the loss.
  count: jax.Array  # int32 scalar: number of updates seen so far.


class MomoAdamState(NamedTuple):
  """State of :func:`momo_adam`."""

  exp_avg: base.Updates  # d, the first moment, like params.
  exp_avg_sq: base.Updates  # v, the second moment, like params.
  barf: jax.Array  # float32 scalar: f̄, the momentum of the loss values.
  gamma: jax.Array  # float32 scalar: γ, the momentum of ⟨g, θ⟩.
  lb: jax.Array  # float32 scalar: the (estimated) lower bound of the loss.
  count: jax.Array  # int32 scalar: number of updates seen so far.


def _check_value(value):
  if value is None:
    raise ValueError(
        'momo needs the loss value: call update(grads, state, params, '
        'value=loss), with loss, grads = jax.value_and_grad(loss_fn)(params).'
    )


def _lower_bound(adapt, cap, scale_lb, lb, lower_bound, denom_scale):
  """The lower bound used this step (Optax's online estimate when adapting)."""
  if not adapt:
    return lb
  return jnp.where(cap < scale_lb * lb,
                   jnp.maximum(cap / (2 * denom_scale), lower_bound), lb)


def _check_common(beta_name, beta, lower_bound, weight_decay, learning_rate):
  _hyper.check_learning_rate(learning_rate)
  _checks.check_beta(beta_name, beta)
  _checks.check_callable_or_number('lower_bound', lower_bound)
  _checks.check_non_negative('weight_decay', weight_decay)


def momo(
    learning_rate: base.ScalarOrSchedule = 1.0,
    beta: float = 0.9,
    lower_bound: float = 0.0,
    weight_decay: float = 0.0,
    adapt_lower_bound: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""MoMo: SGD with momentum and a Polyak-type adaptive step size.

  ``update`` needs the loss ``f`` at ``θ`` as ``value=``. With ``α_t`` the
  learning rate, ``λ`` the weight decay and ``β`` replaced by 0 at the first
  step:

  .. code-block:: text

    f̄ ← β·f̄ + (1 − β)·f      d ← β·d + (1 − β)·g      γ ← β·γ + (1 − β)·⟨g, θ⟩
    τ = min(α_t, max((1 + α_tλ)(f̄ − f* − γ) + ⟨d, θ⟩, 0) / ‖d‖²)
    u = −α_tλ/(1 + α_tλ)·θ − τ·d

  (``τ = 0`` when ``‖d‖² ≤ 2.2e-16``). ``f*`` is ``lower_bound``, or with
  ``adapt_lower_bound`` an online estimate that starts there (MoMo*). The
  result is the whole step: no learning rate to chain.

  Args:
    learning_rate: the largest step ``α_t ≥ 0``, a constant or a schedule;
      MoMo is robust to large values (default 1).
    beta: momentum of the gradients, the loss and ``⟨g, θ⟩``, in ``[0, 1)``.
    lower_bound: a lower bound ``f*`` of the loss (0 for most losses).
    weight_decay: ``λ ≥ 0``, applied as a proximal step.
    adapt_lower_bound: estimate ``f*`` on the fly (MoMo*), starting from
      ``lower_bound`` and never going below it.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`MomoState`; ``update(grads, state, params, value=loss)``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx import contrib
    >>> f = lambda x: jnp.sum(x ** 2)
    >>> opt = contrib.momo()
    >>> params = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(params)
    >>> loss, g = jax.value_and_grad(f)(params)
    >>> u, state = opt.update(g, state, params, value=loss)
    >>> f(gradtx.apply_updates(params, u))  # τ = min(1, 14/56): half-way
    Array(3.5, dtype=float32)

  References:
    Schaipp, Ohana, Eickenberg, Defazio & Gower, *MoMo: Momentum Models for
    Adaptive Learning Rates*, ICML 2024.
  """
  _check_common('beta', beta, lower_bound, weight_decay, learning_rate)

  def init_fn(params):
    zero = jnp.zeros([], jnp.float32)
    return MomoState(
        exp_avg=tu.zeros_like(params), barf=zero, gamma=zero,
        lb=jnp.asarray(lower_bound, jnp.float32), count=_hyper.zero_count())

  def update_fn(updates, state, params=None, *, value=None, **extra_args):
    del extra_args
    _checks.require_params('momo', params)
    _check_value(value)
    bt = jnp.where(state.count == 0, 0.0, beta)
    g, p = tu.upcast(updates), tu.upcast(params)
    barf = bt * state.barf + (1 - bt) * jnp.asarray(value, jnp.float32)
    d = jax.tree.map(lambda m, gi: bt * m + (1 - bt) * gi,
                     tu.upcast(state.exp_avg), g)
    gamma = bt * state.gamma + (1 - bt) * tu.vdot(g, p)
    d_sq = tu.norm(d, squared=True)
    iprod = tu.vdot(d, p)
    alpha = _hyper.value_at(learning_rate, state.count)
    decay = 1 + alpha * weight_decay
    lb = _lower_bound(adapt_lower_bound, decay * (barf - gamma) + iprod,
                      decay, state.lb, lower_bound, decay)
    t1 = jnp.maximum(decay * (barf - lb - gamma) + iprod, 0.0) / d_sq
    t1 = jnp.where(d_sq <= _TINY, 0.0, t1)
    tau = jnp.minimum(alpha, t1)
    out = jax.tree.map(
        lambda m, x: -(alpha * weight_decay) / decay * x - tau * m, d, p)
    new_lb = (jnp.maximum(barf + iprod - gamma - 0.5 * tau * d_sq,
                          lower_bound) if adapt_lower_bound else state.lb)
    return _leafwise.like_updates(out, updates), MomoState(
        exp_avg=_leafwise.store_like(d, state.exp_avg),
        barf=barf.astype(jnp.float32), gamma=gamma.astype(jnp.float32),
        lb=jnp.asarray(new_lb, jnp.float32),
        count=tu.safe_increment(state.count))

  return base.transformation_with_extra_args('momo', init_fn, update_fn)


def momo_adam(
    learning_rate: base.ScalarOrSchedule = 1e-2,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    lower_bound: float = 0.0,
    weight_decay: float = 0.0,
    adapt_lower_bound: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""MoMo-Adam: Adam(W) with a Polyak-type adaptive step size.

  ``update`` needs the loss ``f`` at ``θ`` as ``value=``. With ``t`` counting
  from 1, ``c₁ = 1 − b1ᵗ`` and ``c₂ = 1 − b2ᵗ``:

  .. code-block:: text

    f̄ ← b1·f̄ + (1 − b1)·f     d ← b1·d + (1 − b1)·g     γ ← b1·γ + (1 − b1)·⟨g, θ⟩
    v ← b2·v + (1 − b2)·g²     D = eps + √(v/c₂)
    τ = min(α_t/c₁, max((1 + α_tλ)(f̄ − c₁·f* − γ) + ⟨d, θ⟩, 0) / ⟨d, d/D⟩)
    u = −α_tλ/(1 + α_tλ)·θ − τ·d/D

  (``τ = 0`` when ``⟨d, d/D⟩ ≤ 2.2e-16``). ``f*`` is ``lower_bound`` or, with
  ``adapt_lower_bound``, an online estimate that never goes below it.

  Args:
    learning_rate: the largest step ``α_t ≥ 0``, a constant or a schedule.
    b1: decay of the first moment (and of ``f̄``, ``γ``), in ``[0, 1)``.
    b2: decay of the second moment, in ``[0, 1)``.
    eps: added to the root of the second moment, ``≥ 0``.
    lower_bound: a lower bound ``f*`` of the loss (0 for most losses).
    weight_decay: ``λ ≥ 0``, applied as a proximal step (AdamW-like).
    adapt_lower_bound: estimate ``f*`` on the fly, starting from
      ``lower_bound``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`MomoAdamState`; ``update(grads, state, params, value=loss)``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx import contrib
    >>> f = lambda x: jnp.sum(x ** 2)
    >>> opt = contrib.momo_adam(learning_rate=1.0)
    >>> params = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(params)
    >>> for _ in range(20):
    ...   loss, g = jax.value_and_grad(f)(params)
    ...   u, state = opt.update(g, state, params, value=loss)
    ...   params = gradtx.apply_updates(params, u)
    >>> bool(f(params) < 0.5)  # from 14
    True

  References:
    Schaipp, Ohana, Eickenberg, Defazio & Gower, *MoMo: Momentum Models for
    Adaptive Learning Rates*, ICML 2024.
  """
  _check_common('b1', b1, lower_bound, weight_decay, learning_rate)
  _checks.check_beta('b2', b2)
  _checks.check_non_negative('eps', eps)

  def init_fn(params):
    zero = jnp.zeros([], jnp.float32)
    return MomoAdamState(
        exp_avg=tu.zeros_like(params), exp_avg_sq=tu.zeros_like(params),
        barf=zero, gamma=zero, lb=jnp.asarray(lower_bound, jnp.float32),
        count=_hyper.zero_count())

  def update_fn(updates, state, params=None, *, value=None, **extra_args):
    del extra_args
    _checks.require_params('momo_adam', params)
    _check_value(value)
    count = tu.safe_increment(state.count)
    g, p = tu.upcast(updates), tu.upcast(params)
    barf = b1 * state.barf + (1 - b1) * jnp.asarray(value, jnp.float32)
    d = tu.update_moment(g, state.exp_avg, b1, 1)
    v = tu.update_moment(g, state.exp_avg_sq, b2, 2)
    c1 = tu.bias_correction_factor(b1, count)
    c2 = tu.bias_correction_factor(b2, count)
    precond = jax.tree.map(lambda vi: eps + jnp.sqrt(vi / c2), v)
    d_weighted = tu.div(d, precond)
    d_norm = tu.vdot(d, d_weighted)
    gamma = b1 * state.gamma + (1 - b1) * tu.vdot(g, p)
    iprod = tu.vdot(d, p)
    alpha = _hyper.value_at(learning_rate, state.count)
    decay = 1 + alpha * weight_decay
    lb = _lower_bound(adapt_lower_bound, decay * (barf - gamma) + iprod,
                      decay * c1, state.lb, lower_bound, c1 * decay)
    t1 = jnp.maximum(decay * (barf - c1 * lb - gamma) + iprod, 0.0) / d_norm
    t1 = jnp.where(d_norm <= _TINY, 0.0, t1)
    tau = jnp.minimum(alpha / c1, t1)
    out = jax.tree.map(
        lambda dw, x: -(alpha * weight_decay) / decay * x - tau * dw,
        d_weighted, p)
    if adapt_lower_bound:
      new_lb = jnp.maximum(
          (barf + iprod - gamma - 0.5 * tau * d_norm) / c1, lower_bound)
    else:
      new_lb = state.lb
    return _leafwise.like_updates(out, updates), MomoAdamState(
        exp_avg=_leafwise.store_like(d, state.exp_avg),
        exp_avg_sq=_leafwise.store_like(v, state.exp_avg_sq),
        barf=barf.astype(jnp.float32), gamma=gamma.astype(jnp.float32),
        lb=jnp.asarray(new_lb, jnp.float32), count=count)

  return base.transformation_with_extra_args('momo_adam', init_fn, update_fn)
