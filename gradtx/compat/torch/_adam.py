"""PyTorch's Adam, NAdam and RAdam steps, with PyTorch's placement of ``eps``.

They differ from :func:`gradtx.scale_by_adam` and friends in rounding-level
details that grow over a run (``eps`` added to ``√v/√(1−β₂ᵗ)``, AMSGrad's max
over the raw ``v``, RAdam's ``eps`` before debiasing, NAdam's momentum
schedule) and in that ``β₁`` may be a schedule: PyTorch's ``CyclicLR`` and
``OneCycleLR`` cycle it.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.compat._powers import one_minus_pow
from gradtx import _leafwise


class TorchAdamState(NamedTuple):
  """State of :func:`scale_by_torch_adam` and :func:`scale_by_torch_radam`."""

  count: jax.Array  # int32 scalar: PyTorch's ``step`` before this update.
  exp_avg: base.Updates  # like params: the first moment.
  exp_avg_sq: base.Updates  # like params (real): the second moment.
  max_exp_avg_sq: base.Updates  # like exp_avg_sq with amsgrad, else ().


class TorchNAdamState(NamedTuple):
  """State of :func:`scale_by_torch_nadam`."""

  count: jax.Array  # int32 scalar: PyTorch's ``step`` before this update.
  mu_product: jax.Array  # float32 scalar: the product of the μ_t so far.
  exp_avg: base.Updates  # like params: the first moment.
  exp_avg_sq: base.Updates  # like params (real): the second moment.


def _check_betas(betas, eps):
  if not isinstance(betas, (tuple, list)) or len(betas) != 2:
    raise ValueError(f'betas must be a pair (beta1, beta2), got {betas!r}')
  b1, b2 = betas
  _checks.check_callable_or_number('betas[0]', b1)
  _checks.check_beta('betas[0]', b1)
  _checks.check_beta('betas[1]', b2)
  _checks.check_non_negative('eps', eps)
  return b1, b2


def _init(amsgrad):
  def init_fn(params):
    nu = _leafwise.real_full_like(params, 0, None)
    return TorchAdamState(
        count=_hyper.zero_count(),
        exp_avg=_leafwise.zeros_state(params, None),
        exp_avg_sq=nu,
        max_exp_avg_sq=_leafwise.real_full_like(params, 0, None) if amsgrad else ())

  return init_fn


def _moments(updates, state, b1, b2):
  """New ``(m, v)`` in the compute dtype and the new count (PyTorch's ``step``)."""
  m = tu.update_moment(updates, state.exp_avg, b1, 1)
  v = tu.update_moment_per_elem_norm(updates, state.exp_avg_sq, b2, 2)
  count = tu.safe_increment(state.count)
  return m, v, count


def scale_by_torch_adam(
    betas=(0.9, 0.999), eps: float = 1e-8, amsgrad: bool = False,
) -> base.GradientTransformation:
  r"""PyTorch's Adam step before the learning rate.

  .. code-block:: text

    m ← β₁m + (1 − β₁)g;   v ← β₂v + (1 − β₂)|g|²;   (amsgrad: v_max ← max(v_max, v))
    u = m/(1 − β₁ᵗ) / (√v/√(1 − β₂ᵗ) + eps)         (amsgrad: v_max for v)

  ``β₁`` is read at each step (it may be a schedule), and so is its bias
  correction, as in PyTorch when a scheduler cycles ``betas``.

  Args:
    betas: ``(β₁, β₂)``; ``β₁`` may be a schedule.
    eps: added to the debiased root, ``≥ 0``.
    amsgrad: keep the running max of ``v`` (of the raw ``v``, as PyTorch).

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`TorchAdamState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.torch import scale_by_torch_adam
    >>> tx = scale_by_torch_adam(eps=0.0)
    >>> tx.update(jnp.array([2.0, -3.0]), tx.init(jnp.zeros(2)))[0].round(5)
    Array([ 1., -1.], dtype=float32)

  References:
    ``torch.optim.Adam``; Kingma & Ba, *Adam*, ICLR 2015; Reddi et al., *On
    the Convergence of Adam and Beyond*, ICLR 2018.
  """
  b1_arg, b2 = _check_betas(betas, eps)

  def update_fn(updates, state, params=None):
    del params
    b1 = _hyper.value_at(b1_arg, state.count)
    m, v, count = _moments(updates, state, b1, b2)
    vmax = (jax.tree.map(lambda a, b: jnp.maximum(a.astype(b.dtype), b),
                         state.max_exp_avg_sq, v) if amsgrad else ())
    bc1 = one_minus_pow(b1, count)
    root_bc2 = jnp.sqrt(one_minus_pow(b2, count))
    out = jax.tree.map(
        lambda m_, v_: (m_ / bc1) / (jnp.sqrt(v_) / root_bc2 + eps),
        m, vmax if amsgrad else v)
    return _leafwise.like_updates(out, updates), TorchAdamState(
        count=count,
        exp_avg=_leafwise.store_like(m, state.exp_avg),
        exp_avg_sq=_leafwise.store_like(v, state.exp_avg_sq),
        max_exp_avg_sq=(_leafwise.store_like(vmax, state.max_exp_avg_sq)
                        if amsgrad else ()))

  return base.transformation('scale_by_torch_adam', _init(amsgrad), update_fn)


def scale_by_torch_radam(
    betas=(0.9, 0.999), eps: float = 1e-8,
) -> base.GradientTransformation:
  r"""PyTorch's RAdam step before the learning rate.

  .. code-block:: text

    ρ∞ = 2/(1 − β₂) − 1;   ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)
    ρₜ > 5:  u = r·m/(1 − β₁ᵗ) · √(1 − β₂ᵗ)/(√v + eps),
             r = √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ))
    else:    u = m/(1 − β₁ᵗ)

  ``eps`` is added to ``√v`` before debiasing, unlike
  :func:`gradtx.scale_by_radam`.

  Args:
    betas: ``(β₁, β₂)``; ``β₁`` may be a schedule.
    eps: added to ``√v``, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`TorchAdamState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.torch import scale_by_torch_radam
    >>> tx = scale_by_torch_radam()
    >>> tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))[0]  # ρ₁ ≤ 5: m̂
    Array([2.], dtype=float32)

  References:
    Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*,
    ICLR 2020. ``torch.optim.RAdam``.
  """
  b1_arg, b2 = _check_betas(betas, eps)
  rho_inf = 2 / (1 - b2) - 1

  def update_fn(updates, state, params=None):
    del params
    b1 = _hyper.value_at(b1_arg, state.count)
    m, v, count = _moments(updates, state, b1, b2)
    t = count.astype(jnp.float32)
    bc1 = one_minus_pow(b1, count)
    bc2 = one_minus_pow(b2, count)
    rho_t = rho_inf - 2 * t * jnp.asarray(b2, jnp.float32)**t / bc2
    rect = jnp.sqrt(jnp.maximum(
        (rho_t - 4) * (rho_t - 2) * rho_inf
        / ((rho_inf - 4) * (rho_inf - 2) * rho_t), 0.0))
    out = jax.tree.map(
        lambda m_, v_: jnp.where(
            rho_t > 5, (m_ / bc1) * (jnp.sqrt(bc2) / (jnp.sqrt(v_) + eps)) * rect,
            m_ / bc1), m, v)
    return _leafwise.like_updates(out, updates), TorchAdamState(
        count=count,
        exp_avg=_leafwise.store_like(m, state.exp_avg),
        exp_avg_sq=_leafwise.store_like(v, state.exp_avg_sq),
        max_exp_avg_sq=())

  return base.transformation('scale_by_torch_radam', _init(False), update_fn)


def scale_by_torch_nadam(
    betas=(0.9, 0.999), eps: float = 1e-8, momentum_decay: float = 4e-3,
) -> base.GradientTransformation:
  r"""PyTorch's NAdam step before the learning rate.

  .. code-block:: text

    μₜ = β₁(1 − ½·0.96^(t·ψ));   Πₜ = μ₁⋯μₜ
    d = √(v/(1 − β₂ᵗ)) + eps
    u = (1 − μₜ)/(1 − Πₜ)·g/d + μₜ₊₁/(1 − Πₜμₜ₊₁)·m/d

  Args:
    betas: ``(β₁, β₂)``; ``β₁`` may be a schedule.
    eps: added to the debiased root, ``≥ 0``.
    momentum_decay: ``ψ ≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`TorchNAdamState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.torch import scale_by_torch_nadam
    >>> tx = scale_by_torch_nadam(eps=0.0)
    >>> u, _ = tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))
    >>> u   # 1 + μ₂·0.1/(1 − μ₁μ₂), μ ≈ 0.45
    Array([1.056], dtype=float32)

  References:
    Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR workshop 2016.
    ``torch.optim.NAdam``.
  """
  b1_arg, b2 = _check_betas(betas, eps)
  _checks.check_non_negative('momentum_decay', momentum_decay)

  def init_fn(params):
    return TorchNAdamState(
        count=_hyper.zero_count(), mu_product=jnp.ones([], jnp.float32),
        exp_avg=_leafwise.zeros_state(params, None),
        exp_avg_sq=_leafwise.real_full_like(params, 0, None))

  def update_fn(updates, state, params=None):
    del params
    b1 = _hyper.value_at(b1_arg, state.count)
    m, v, count = _moments(updates, state, b1, b2)
    t = count.astype(jnp.float32)
    mu = b1 * (1 - 0.5 * 0.96**(t * momentum_decay))
    mu_next = b1 * (1 - 0.5 * 0.96**((t + 1) * momentum_decay))
    mu_product = state.mu_product * mu
    bc2 = one_minus_pow(b2, count)
    c_g = (1 - mu) / (1 - mu_product)
    c_m = mu_next / (1 - mu_product * mu_next)
    out = jax.tree.map(
        lambda g, m_, v_: (c_g * g.astype(m_.dtype) + c_m * m_)
        / (jnp.sqrt(v_ / bc2) + eps), updates, m, v)
    return _leafwise.like_updates(out, updates), TorchNAdamState(
        count=count, mu_product=jnp.asarray(mu_product, jnp.float32),
        exp_avg=_leafwise.store_like(m, state.exp_avg),
        exp_avg_sq=_leafwise.store_like(v, state.exp_avg_sq))

  return base.transformation('scale_by_torch_nadam', init_fn, update_fn)
