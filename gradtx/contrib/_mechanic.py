"""Mechanic: learns the scale of any optimizer's updates online."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class MechanicState(NamedTuple):
  """State of :func:`mechanize`."""

  base_optimizer_state: base.OptState  # the wrapped optimizer's state.
  count: jax.Array  # int32 scalar: number of updates seen so far.
  r: jax.Array  # float32, shape (num_betas,): discounted rewards.
  m: jax.Array  # float32, shape (num_betas,): discounted max of |h|.
  v: jax.Array  # float32, shape (num_betas,): discounted sum of h².
  s: jax.Array  # float32, shape (num_betas,): the learned scales.
  x0: base.Updates  # θ₀, the params at the first update (like params).


def mechanize(
    base_optimizer: base.GradientTransformation,
    weight_decay: float = 1e-2,
    eps: float = 1e-8,
    s_init: float = 1e-6,
    num_betas: int = 6,
) -> base.GradientTransformationExtraArgs:
  r"""Mechanic: wraps an optimizer and learns the scale of its steps.

  With ``Δ`` the wrapped optimizer's (descent) update, ``θ₀`` the params at
  the first step, ``S = Σⱼ sⱼ`` and ``βⱼ = 1 − 10⁻ʲ`` (``j = 1..num_betas``):

  .. code-block:: text

    g̃ = g + λ·S·‖g‖/(‖θ‖ + eps)·θ          δ = (θ₀ − θ)/(S + eps)
    h = ⟨g̃, δ⟩
    mⱼ ← max(βⱼ·mⱼ, |h| + eps)    vⱼ ← βⱼ²·vⱼ + h²
    rⱼ ← βⱼ·rⱼ + clip(h, −mⱼ_old, mⱼ_old)·sⱼ
    sⱼ ← (s_init/num_betas · mⱼ + max(rⱼ, 0)) / (√vⱼ + eps)
    θ_new = θ₀ − (Σⱼ sⱼ)·(δ − Δ)          u = θ_new − θ

  The wrapped optimizer keeps its own learning rate and schedule (1.0, or
  any constant, is fine); Mechanic learns the factor in front. Extra keyword
  arguments of ``update`` reach the wrapped optimizer.

  Args:
    base_optimizer: the optimizer whose updates are rescaled.
    weight_decay: Mechanic's own decay ``λ ≥ 0`` (not the wrapped
      optimizer's); it reduces the variance between runs.
    eps: small positive constant, ``≥ 0``.
    s_init: initial scale of each ``sⱼ``, ``> 0``.
    num_betas: number of discount factors ``βⱼ = 1 − 10⁻ʲ``, an integer
      ``≥ 1``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`MechanicState`. It needs ``params``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx import contrib
    >>> opt = contrib.mechanize(gradtx.sgd(1.0))
    >>> params = jnp.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> for _ in range(200):
    ...   g = jax.grad(lambda p: jnp.sum(p ** 2))(params)
    ...   u, state = opt.update(g, state, params)
    ...   params = gradtx.apply_updates(params, u)
    >>> bool(jnp.sum(params ** 2) < 1e-2)
    True

  References:
    Cutkosky, Defazio & Mehta, *Mechanic: A Learning Rate Tuner*, NeurIPS
    2023.
  """
  _checks.check_non_negative('weight_decay', weight_decay)
  _checks.check_non_negative('eps', eps)
  _checks.check_positive('s_init', s_init)
  _checks.check_int('num_betas', num_betas, low=1)
  inner = base.with_extra_args_support(base_optimizer)
  betas = jnp.asarray([1.0 - 0.1**j for j in range(1, num_betas + 1)],
                      jnp.float32)

  def init_fn(params):
    zeros = jnp.zeros([num_betas], jnp.float32)
    return MechanicState(
        base_optimizer_state=inner.init(params),
        count=_hyper.zero_count(),
        r=zeros, m=zeros, v=zeros,
        s=jnp.full([num_betas], s_init, jnp.float32),
        x0=params,
    )

  def update_fn(updates, state, params=None, **extra_args):
    _checks.require_params('mechanize', params)
    step, inner_state = inner.update(
        updates, state.base_optimizer_state, params, **extra_args)
    x0 = tu.where(state.count == 0, params, state.x0)
    g, p, x0_, step = tu.upcast((updates, params, x0, step))
    s_sum = jnp.sum(state.s)
    decay = weight_decay * s_sum * tu.norm(g) / (tu.norm(p) + eps)
    g = jax.tree.map(lambda gi, pi: gi + decay * pi, g, p)
    delta_prev = jax.tree.map(lambda xi, x0i: (x0i - xi) / (s_sum + eps),
                              p, x0_)
    delta = tu.sub(delta_prev, step)
    h = tu.vdot(g, delta_prev)
    clipped_h = jnp.clip(h, -state.m, state.m)
    m = jnp.maximum(betas * state.m, jnp.abs(h) + eps)
    v = betas**2 * state.v + h**2
    r = betas * state.r + clipped_h * state.s
    s = (s_init / num_betas * m + jnp.maximum(r, 0.0)) / (jnp.sqrt(v) + eps)
    s_total = jnp.sum(s)
    out = jax.tree.map(lambda x0i, di, xi: x0i - s_total * di - xi,
                       x0_, delta, p)
    return _leafwise.like_updates(out, updates), MechanicState(
        base_optimizer_state=inner_state,
        count=tu.safe_increment(state.count),
        r=r, m=m, v=v, s=s,
        x0=x0,
    )

  return base.transformation_with_extra_args('mechanize', init_fn, update_fn)
