"""Prodigy: AdamW whose step size estimates the distance to the solution."""

from __future__ import annotations

from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class ProdigyState(NamedTuple):
  """State of :func:`prodigy`."""

  exp_avg: base.Updates  # m, like params (params' dtype).
  exp_avg_sq: base.Updates  # v, like params (params' dtype).
  grad_sum: base.Updates  # s: weighted sum of the gradients, like params.
  params0: base.Updates  # θ₀: the params at init.
  estim_lr: jax.Array  # float32 scalar: d, the distance estimate.
  numerator_weighted: jax.Array  # float32 scalar: r, the numerator of d̂.
  count: jax.Array  # int32 scalar: number of updates seen so far.


def check_d_adaptation_args(betas, eps, estim_lr0, weight_decay) -> None:
  """Validation shared by :func:`prodigy` and :func:`dadapt_adamw`."""
  if not isinstance(betas, (tuple, list)) or len(betas) != 2:
    raise ValueError(f'betas must be a pair (b1, b2), got {betas!r}')
  _checks.check_beta('betas[0]', betas[0])
  _checks.check_beta('betas[1]', betas[1])
  _checks.check_non_negative('eps', eps)
  _checks.check_positive('estim_lr0', estim_lr0)
  _checks.check_non_negative('weight_decay', weight_decay)


def adam_step_factor(b1, b2, count) -> jax.Array:
  """``√(1 − b2ᵗ) / (1 − b1ᵗ)``: Adam's bias corrections folded into the step."""
  return (jnp.sqrt(tu.bias_correction_factor(b2, count))
          / tu.bias_correction_factor(b1, count))


def prodigy(
    learning_rate: base.ScalarOrSchedule = 1.0,
    betas: tuple[float, float] = (0.9, 0.999),
    beta3: Optional[float] = None,
    eps: float = 1e-8,
    estim_lr0: float = 1e-6,
    estim_lr_coef: float = 1.0,
    weight_decay: float = 0.0,
    safeguard_warmup: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""Prodigy: AdamW with a learning rate estimated on the fly.

  .. code-block:: text

    ηₜ = d·lr_t·√(1 − b2ᵗ)/(1 − b1ᵗ)             (d: estim_lr, d₀ = estim_lr0)
    m ← b1·m + (1 − b1)·d·g                     v ← b2·v + (1 − b2)·d²·g²
    r ← b3·r + (d/d₀)·ηₜ·⟨g, θ₀ − θ⟩
    s ← b3·s + (d/d₀)·ηₜ·g                      (d/d₀)·d·g if safeguard_warmup
    d ← max(d, estim_lr_coef·r/‖s‖₁)
    u = −ηₜ·(m/(√v + d·eps) + λ·θ)

  ``d`` grows from ``d₀`` towards the distance ``‖θ₀ − θ*‖`` and never
  shrinks, so ``learning_rate`` is a multiplier around 1 (a decaying schedule
  from 1 to 0 works well). This is the authors' ``prodigyopt.Prodigy`` with
  ``use_bias_correction=True`` (its default is False), ``decouple=True`` and
  ``growth_rate=inf``; it skips the whole step when ``‖s‖₁ = 0`` (all
  gradients zero so far), while here ``d`` is just left unchanged.

  Args:
    learning_rate: ``lr_t``, a constant or a schedule.
    betas: ``(b1, b2)`` of Adam, each in ``[0, 1)``.
    beta3: decay of ``r`` and ``s``, in ``[0, 1)``; None uses ``√b2``.
    eps: Adam's ``eps`` (scaled by ``d``), ``≥ 0``.
    estim_lr0: ``d₀ > 0``, an underestimate of the distance.
    estim_lr_coef: multiplies the estimate ``d̂``.
    weight_decay: decoupled decay ``λ ≥ 0``.
    safeguard_warmup: leave ``lr_t`` out of ``s`` (helps with a warmup).

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`ProdigyState`. It needs ``params`` in ``update``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.contrib import prodigy
    >>> f = lambda p: jnp.sum((p - 3.0) ** 2)
    >>> opt = prodigy()
    >>> params = jnp.zeros(2)
    >>> state = opt.init(params)
    >>> for _ in range(100):
    ...   u, state = opt.update(jax.grad(f)(params), state, params)
    ...   params = gradtx.apply_updates(params, u)
    >>> bool(state.estim_lr > 1.0)  # d grew from 1e-6 to the distance scale
    True

  References:
    Mishchenko & Defazio, *Prodigy: An Expeditiously Adaptive Parameter-Free
    Learner*, ICML 2024 (arXiv:2306.06101).
  """
  _hyper.check_learning_rate(learning_rate)
  check_d_adaptation_args(betas, eps, estim_lr0, weight_decay)
  beta1, beta2 = betas
  if beta3 is None:
    beta3 = beta2**0.5
  _checks.check_beta('beta3', beta3)
  f32 = jnp.float32

  def init_fn(params):
    zeros = lambda: tu.zeros_like(params)
    return ProdigyState(
        exp_avg=zeros(), exp_avg_sq=zeros(), grad_sum=zeros(),
        params0=jax.tree.map(lambda p: jnp.array(p, copy=True), params),
        estim_lr=jnp.asarray(estim_lr0, f32),
        numerator_weighted=jnp.zeros([], f32),
        count=_hyper.zero_count(),
    )

  def update_fn(updates, state, params=None, **extra_args):
    del extra_args
    _checks.require_params('prodigy', params)
    g, p = tu.upcast(updates), tu.upcast(params)
    d = state.estim_lr
    count = tu.safe_increment(state.count)
    lr = jnp.asarray(_hyper.value_at(learning_rate, state.count), f32)
    dlr = d * lr * adam_step_factor(beta1, beta2, count)
    dg = tu.scale(d, g)
    m = tu.update_moment(dg, tu.upcast(state.exp_avg), beta1, 1)
    v = tu.update_moment_per_elem_norm(dg, tu.upcast(state.exp_avg_sq), beta2, 2)
    s_scale = (d / estim_lr0) * (d if safeguard_warmup else dlr)
    s = jax.tree.map(lambda s_, x: beta3 * s_ + s_scale * x,
                     tu.upcast(state.grad_sum), g)
    numerator = beta3 * state.numerator_weighted + (d / estim_lr0) * dlr * tu.vdot(
        g, tu.sub(tu.upcast(state.params0), p))
    denominator = tu.norm(s, ord=1)
    estimate = estim_lr_coef * numerator / jnp.where(denominator > 0,
                                                     denominator, 1.0)
    d_new = jnp.where(denominator > 0, jnp.maximum(d, estimate), d)
    out = jax.tree.map(
        lambda m_, v_, x: -weight_decay * dlr * x
        - dlr * m_ / (jnp.sqrt(v_) + d_new * eps), m, v, p)
    return _leafwise.like_updates(out, updates), ProdigyState(
        exp_avg=_leafwise.store_like(m, state.exp_avg),
        exp_avg_sq=_leafwise.store_like(v, state.exp_avg_sq),
        grad_sum=_leafwise.store_like(s, state.grad_sum),
        params0=state.params0,
        estim_lr=d_new.astype(f32),
        numerator_weighted=numerator.astype(f32),
        count=count,
    )

  return base.transformation_with_extra_args('prodigy', init_fn, update_fn)
