"""D-Adaptation for AdamW: a learning rate estimated from the iterates."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.contrib import _prodigy
from gradtx import _leafwise


class DAdaptAdamWState(NamedTuple):
  """State of :func:`dadapt_adamw`."""

  exp_avg: base.Updates  # m (already scaled by the step size), like params.
  exp_avg_sq: base.Updates  # v, like params (params' dtype).
  grad_sum: base.Updates  # s: EMA of the step-scaled gradients, like params.
  estim_lr: jax.Array  # float32 scalar: d, the distance estimate.
  numerator_weighted: jax.Array  # float32 scalar: r, the numerator of d̂.
  count: jax.Array  # int32 scalar: number of updates seen so far.


def dadapt_adamw(
    learning_rate: base.ScalarOrSchedule = 1.0,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    estim_lr0: float = 1e-6,
    weight_decay: float = 0.0,
) -> base.GradientTransformationExtraArgs:
  r"""D-Adapted AdamW: the learning rate is a running lower bound on the distance.

  .. code-block:: text

    ηₜ = d·lr_t·√(1 − b2ᵗ)/(1 − b1ᵗ)          (d: estim_lr, d₀ = estim_lr0)
    r ← √b2·r + (1 − √b2)·ηₜ·⟨g, s/(√v + eps)⟩    (old s and v)
    m ← b1·m + (1 − b1)·ηₜ·g                v ← b2·v + (1 − b2)·g²
    s ← √b2·s + (1 − √b2)·ηₜ·g
    d ← max(d, r / ((1 − √b2)·‖s‖₁))
    u = −m/(√v + eps) − λ·ηₜ·θ

  ``d`` is the distance estimate of D-Adaptation in the Adam geometry; it only
  grows. ``learning_rate`` is a multiplier around 1. This is the authors'
  ``dadaptation.DAdaptAdam`` with ``decouple=True``,
  ``use_bias_correction=True`` (their defaults are False) and
  ``growth_rate=inf``. As in :func:`prodigy`, ``d`` is left unchanged while
  ``‖s‖₁ = 0``.

  Args:
    learning_rate: ``lr_t``, a constant or a schedule.
    betas: ``(b1, b2)`` of Adam, each in ``[0, 1)``.
    eps: Adam's ``eps``, ``≥ 0``.
    estim_lr0: ``d₀ > 0``, an underestimate of the distance.
    weight_decay: decoupled decay ``λ ≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`DAdaptAdamWState`. It needs ``params`` in ``update``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.contrib import dadapt_adamw
    >>> f = lambda p: jnp.sum((p - 3.0) ** 2)
    >>> opt = dadapt_adamw()
    >>> params = jnp.zeros(2)
    >>> state = opt.init(params)
    >>> for _ in range(200):
    ...   u, state = opt.update(jax.grad(f)(params), state, params)
    ...   params = gradtx.apply_updates(params, u)
    >>> bool(state.estim_lr > 1e-3)  # d grew by orders of magnitude
    True

  References:
    Defazio & Mishchenko, *Learning-Rate-Free Learning by D-Adaptation*,
    ICML 2023 (arXiv:2301.07733).
  """
  _hyper.check_learning_rate(learning_rate)
  _prodigy.check_d_adaptation_args(betas, eps, estim_lr0, weight_decay)
  beta1, beta2 = betas
  sb2 = beta2**0.5
  f32 = jnp.float32

  def init_fn(params):
    zeros = lambda: tu.zeros_like(params)
    return DAdaptAdamWState(
        exp_avg=zeros(), exp_avg_sq=zeros(), grad_sum=zeros(),
        estim_lr=jnp.asarray(estim_lr0, f32),
        numerator_weighted=jnp.zeros([], f32),
        count=_hyper.zero_count(),
    )

  def update_fn(updates, state, params=None, **extra_args):
    del extra_args
    _checks.require_params('dadapt_adamw', params)
    g, p = tu.upcast(updates), tu.upcast(params)
    v_old, s_old = tu.upcast(state.exp_avg_sq), tu.upcast(state.grad_sum)
    d = state.estim_lr
    count = tu.safe_increment(state.count)
    lr = jnp.asarray(_hyper.value_at(learning_rate, state.count), f32)
    dlr = d * lr * _prodigy.adam_step_factor(beta1, beta2, count)
    acc = tu.vdot(g, jax.tree.map(lambda s, v: s / (jnp.sqrt(v) + eps),
                                  s_old, v_old))
    m = tu.update_moment(tu.scale(dlr, g), tu.upcast(state.exp_avg), beta1, 1)
    v = tu.update_moment_per_elem_norm(g, v_old, beta2, 2)
    s = tu.update_moment(tu.scale(dlr, g), s_old, sb2, 1)
    numerator = sb2 * state.numerator_weighted + (1 - sb2) * dlr * acc
    s_l1 = tu.norm(s, ord=1)
    estimate = numerator / ((1 - sb2) * jnp.where(s_l1 > 0, s_l1, 1.0))
    d_new = jnp.where(s_l1 > 0, jnp.maximum(d, estimate), d)
    out = jax.tree.map(
        lambda m_, v_, x: -weight_decay * dlr * x - m_ / (jnp.sqrt(v_) + eps),
        m, v, p)
    return _leafwise.like_updates(out, updates), DAdaptAdamWState(
        exp_avg=_leafwise.store_like(m, state.exp_avg),
        exp_avg_sq=_leafwise.store_like(v, state.exp_avg_sq),
        grad_sum=_leafwise.store_like(s, state.grad_sum),
        estim_lr=d_new.astype(f32),
        numerator_weighted=numerator.astype(f32),
        count=count,
    )

  return base.transformation_with_extra_args('dadapt_adamw', init_fn,
                                             update_fn)
