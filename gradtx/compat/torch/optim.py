"""``torch.optim`` optimizers under their own names, arguments and defaults.

Each constructor returns a gradtx transformation whose updates, applied with
:func:`gradtx.apply_updates`, follow PyTorch's parameter trajectory step for
step, also when the learning rate (or ``momentum`` / ``betas[0]``) is a
schedule that changes every step (see :mod:`gradtx.compat.torch.lr_scheduler`).

Differences from PyTorch's call: there is no tensor list. ``params`` is None
(one group, all parameters) or a list of dicts in PyTorch's form whose
``'params'`` are regular expressions on parameter paths (``'head/.*'``), with
per-group overrides of any argument (``'lr'``, ``'weight_decay'``,
``'momentum'``, ``'betas'``, ...); see :class:`gradtx.ParamGroups`.
Parameters that no group matches use the constructor's arguments (PyTorch
requires every parameter to be listed). ``foreach``, ``fused``,
``capturable`` and ``differentiable`` select kernels and have no
counterpart.

Every optimizer applies, in PyTorch's order: ``g ← −g`` when ``maximize``;
``g ← g + λθ`` (L2 weight decay, unless decoupled); the optimizer's own
step; ``θ ← θ(1 − ηλ)`` when decoupled (``AdamW``).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx.compat.torch import _adam
from gradtx.compat.torch import _momentum
from gradtx.transforms import adam as _gadam
from gradtx.transforms import decay as _decay
from gradtx.transforms import rms as _rms
from gradtx.transforms import scaling as _scaling
from gradtx.wrappers import param_groups as _param_groups

__all__ = ['SGD', 'Adam', 'AdamW', 'NAdam', 'RAdam', 'Adamax', 'Adagrad',
           'Adadelta', 'RMSprop', 'Rprop', 'ASGD']

Groups = Optional[Sequence[dict]]


def _is_zero(x: Any) -> bool:
  return not callable(x) and _checks._is_concrete_number(x) and float(x) == 0.0  # pylint: disable=protected-access


def _grad_preprocessing(maximize: bool, weight_decay: Any) -> list:
  """``g ← −g`` if maximize; then ``g ← g + λθ`` (PyTorch's L2 decay)."""
  _checks.check_callable_or_number('weight_decay', weight_decay)
  _checks.check_non_negative('weight_decay', weight_decay)
  parts = [_scaling.scale(-1.0)] if maximize else []
  if not _is_zero(weight_decay):
    parts.append(_decay.add_decayed_weights(weight_decay))
  return parts


def _decoupled(weight_decay: Any) -> list:
  return [] if _is_zero(weight_decay) else [
      _decay.add_decayed_weights(weight_decay)]


def _grouped(ctor: Callable[..., Any], params: Groups, kwargs: dict):
  """``ctor`` once per group of ``params``, or None when there are no groups."""
  if params is None:
    return None

  def factory(learning_rate, **overrides):
    return ctor(None, **{**kwargs, 'lr': learning_rate, **overrides})

  return _param_groups(params, factory, learning_rate=kwargs['lr'])


def _finish(parts: list, lr: Any) -> base.GradientTransformationExtraArgs:
  _hyper.check_learning_rate(lr, 'lr')
  return base.chain(*parts, _scaling.scale_by_learning_rate(lr))


def SGD(  # pylint: disable=invalid-name
    params: Groups = None,
    lr: base.ScalarOrSchedule = 1e-3,
    momentum: base.ScalarOrSchedule = 0.0,
    dampening: float = 0.0,
    weight_decay: base.ScalarOrSchedule = 0.0,
    nesterov: bool = False,
    *,
    maximize: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""``torch.optim.SGD``.

  .. code-block:: text

    g ← g + λθ;   b ← g at step 1, else μ_t·b + (1 − τ)·g
    θ ← θ − η_t·b            (nesterov: θ ← θ − η_t·(g + μ_t·b))

  ``chain(add_decayed_weights(λ), torch_momentum(μ, τ, nesterov),
  scale_by_learning_rate(η))``. The buffer holds no learning rate, so a
  changing ``η_t`` rescales all of it (unlike Keras' ``SGD``).

  Args:
    params: None, or PyTorch-style groups keyed by path patterns.
    lr: ``η``, a constant or a schedule.
    momentum: ``μ`` in ``[0, 1]``, a constant or a schedule.
    dampening: ``τ`` in ``[0, 1]``.
    weight_decay: ``λ ≥ 0`` (L2, added to the gradient).
    nesterov: Nesterov momentum (needs ``μ > 0`` and ``τ = 0``).
    maximize: ascend instead of descend.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from gradtx.compat import torch as tc
    >>> opt = tc.optim.SGD(lr=0.1, momentum=0.9)
    >>> p = jnp.array([1.0])
    >>> s = opt.init(p)
    >>> for _ in range(2):
    ...   u, s = opt.update(2 * p, s, p)
    ...   p = gradtx.apply_updates(p, u)
    >>> p
    Array([0.46], dtype=float32)

  References:
    ``torch.optim.SGD``.
  """
  kwargs = dict(lr=lr, momentum=momentum, dampening=dampening,
                weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
  grouped = _grouped(SGD, params, kwargs)
  if grouped is not None:
    return grouped
  if nesterov and (_is_zero(momentum) or dampening != 0):
    raise ValueError(
        f'nesterov=True needs momentum > 0 and dampening = 0, got '
        f'momentum={momentum!r}, dampening={dampening!r}')
  parts = _grad_preprocessing(maximize, weight_decay)
  if not _is_zero(momentum):
    parts.append(_momentum.torch_momentum(momentum, dampening, nesterov))
  return _finish(parts, lr)


def Adam(  # pylint: disable=invalid-name
    params: Groups = None,
    lr: base.ScalarOrSchedule = 1e-3,
    betas: tuple = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: base.ScalarOrSchedule = 0.0,
    amsgrad: bool = False,
    *,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""``torch.optim.Adam``.

  .. code-block:: text

    g ← g + λθ (unless decoupled);  m, v: EMAs of g and |g|² (β₁, β₂)
    θ ← θ − η_t·m/(1 − β₁ᵗ) / (√v/√(1 − β₂ᵗ) + ε)     (amsgrad: max of v)
    decoupled: θ ← θ(1 − η_t·λ) as well

  See :func:`~gradtx.compat.torch.scale_by_torch_adam`.

  Args:
    params: None, or PyTorch-style groups keyed by path patterns.
    lr: ``η``, a constant or a schedule.
    betas: ``(β₁, β₂)``; ``β₁`` may be a schedule (momentum cycling).
    eps: ``ε ≥ 0``.
    weight_decay: ``λ ≥ 0``.
    amsgrad: use the running max of ``v``.
    maximize: ascend instead of descend.
    decoupled_weight_decay: AdamW's decay instead of L2.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import torch as tc
    >>> opt = tc.optim.Adam(lr=0.1)
    >>> p = jnp.array([1.0, -1.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([-0.1,  0.1], dtype=float32)

  References:
    ``torch.optim.Adam``; Kingma & Ba, *Adam*, ICLR 2015.
  """
  kwargs = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                amsgrad=amsgrad, maximize=maximize,
                decoupled_weight_decay=decoupled_weight_decay)
  grouped = _grouped(Adam, params, kwargs)
  if grouped is not None:
    return grouped
  l2 = 0.0 if decoupled_weight_decay else weight_decay
  parts = _grad_preprocessing(maximize, l2)
  parts.append(_adam.scale_by_torch_adam(betas, eps, amsgrad))
  if decoupled_weight_decay:
    parts += _decoupled(weight_decay)
  return _finish(parts, lr)


def AdamW(  # pylint: disable=invalid-name
    params: Groups = None,
    lr: base.ScalarOrSchedule = 1e-3,
    betas: tuple = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: base.ScalarOrSchedule = 1e-2,
    amsgrad: bool = False,
    *,
    maximize: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""``torch.optim.AdamW``: :func:`Adam` with decoupled decay, ``λ = 1e-2``.

  .. code-block:: text

    θ ← θ(1 − η_t·λ) − η_t·m/(1 − β₁ᵗ) / (√v/√(1 − β₂ᵗ) + ε)

  Args:
    params: None, or PyTorch-style groups keyed by path patterns.
    lr: ``η``, a constant or a schedule.
    betas: ``(β₁, β₂)``; ``β₁`` may be a schedule.
    eps: ``ε ≥ 0``.
    weight_decay: ``λ ≥ 0``, multiplied by the current ``η_t``.
    amsgrad: use the running max of ``v``.
    maximize: ascend instead of descend.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import torch as tc
    >>> opt = tc.optim.AdamW(lr=0.1, weight_decay=0.5)
    >>> p = jnp.array([2.0])
    >>> opt.update(jnp.zeros(1), opt.init(p), p)[0]   # −ηλθ only
    Array([-0.1], dtype=float32)

  References:
    ``torch.optim.AdamW``; Loshchilov & Hutter, *Decoupled Weight Decay
    Regularization*, ICLR 2019.
  """
  kwargs = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                amsgrad=amsgrad, maximize=maximize)
  grouped = _grouped(AdamW, params, kwargs)
  if grouped is not None:
    return grouped
  return Adam(None, decoupled_weight_decay=True, **kwargs)


def NAdam(  # pylint: disable=invalid-name
    params: Groups = None,
    lr: base.ScalarOrSchedule = 2e-3,
    betas: tuple = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: base.ScalarOrSchedule = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
    *,
    maximize: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""``torch.optim.NAdam``.

  .. code-block:: text

    μₜ = β₁(1 − ½·0.96^(tψ));  d = √(v/(1 − β₂ᵗ)) + ε
    θ ← θ − η_t·[(1 − μₜ)/(1 − Πμ)·g + μₜ₊₁/(1 − Πμ·μₜ₊₁)·m]/d

  See :func:`~gradtx.compat.torch.scale_by_torch_nadam`.

  Args:
    params: None, or PyTorch-style groups keyed by path patterns.
    lr: ``η``, a constant or a schedule.
    betas: ``(β₁, β₂)``; ``β₁`` may be a schedule.
    eps: ``ε ≥ 0``.
    weight_decay: ``λ ≥ 0``.
    momentum_decay: ``ψ ≥ 0``.
    decoupled_weight_decay: ``θ ← θ(1 − ηλ)`` instead of L2.
    maximize: ascend instead of descend.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import torch as tc
    >>> opt = tc.optim.NAdam(lr=0.1, eps=0.0)
    >>> p = jnp.array([1.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([-0.1], dtype=float32)

  References:
    ``torch.optim.NAdam``; Dozat, *Incorporating Nesterov Momentum into
    Adam*, 2016.
  """
  kwargs = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                momentum_decay=momentum_decay,
                decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
  grouped = _grouped(NAdam, params, kwargs)
  if grouped is not None:
    return grouped
  parts = _grad_preprocessing(
      maximize, 0.0 if decoupled_weight_decay else weight_decay)
  parts.append(_adam.scale_by_torch_nadam(betas, eps, momentum_decay))
  if decoupled_weight_decay:
    parts += _decoupled(weight_decay)
  return _finish(parts, lr)


def RAdam(  # pylint: disable=invalid-name
    params: Groups = None,
    lr: base.ScalarOrSchedule = 1e-3,
    betas: tuple = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: base.ScalarOrSchedule = 0.0,
    decoupled_weight_decay: bool = False,
    *,
    maximize: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""``torch.optim.RAdam``.

  .. code-block:: text

    θ ← θ − η_t·r·m̂·√(1 − β₂ᵗ)/(√v + ε)   when ρₜ > 5,   else θ − η_t·m̂

  See :func:`~gradtx.compat.torch.scale_by_torch_radam`.

  Args:
    params: None, or PyTorch-style groups keyed by path patterns.
    lr: ``η``, a constant or a schedule.
    betas: ``(β₁, β₂)``; ``β₁`` may be a schedule.
    eps: ``ε ≥ 0``.
    weight_decay: ``λ ≥ 0``.
    decoupled_weight_decay: ``θ ← θ(1 − ηλ)`` instead of L2.
    maximize: ascend instead of descend.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import torch as tc
    >>> opt = tc.optim.RAdam(lr=0.1)
    >>> p = jnp.array([3.0])
    >>> opt.update(p, opt.init(p), p)[0]   # the first steps are SGD with momentum
    Array([-0.3], dtype=float32)

  References:
    ``torch.optim.RAdam``; Liu et al., *On the Variance of the Adaptive
    Learning Rate and Beyond*, ICLR 2020.
  """
  kwargs = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
  grouped = _grouped(RAdam, params, kwargs)
  if grouped is not None:
    return grouped
  parts = _grad_preprocessing(
      maximize, 0.0 if decoupled_weight_decay else weight_decay)
  parts.append(_adam.scale_by_torch_radam(betas, eps))
  if decoupled_weight_decay:
    parts += _decoupled(weight_decay)
  return _finish(parts, lr)


def Adamax(  # pylint: disable=invalid-name
    params: Groups = None,
    lr: base.ScalarOrSchedule = 2e-3,
    betas: tuple = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: base.ScalarOrSchedule = 0.0,
    *,
    maximize: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""``torch.optim.Adamax``.

  .. code-block:: text

    g ← g + λθ;  m ← β₁m + (1 − β₁)g;  u ← max(β₂u, |g| + ε)
    θ ← θ − η_t/(1 − β₁ᵗ)·m/u

  ``chain(add_decayed_weights(λ), scale_by_adamax(β₁, β₂, ε),
  scale_by_learning_rate(η))``. ``betas`` are constants here.

  Args:
    params: None, or PyTorch-style groups keyed by path patterns.
    lr: ``η``, a constant or a schedule.
    betas: ``(β₁, β₂)``, constants in ``[0, 1)``.
    eps: ``ε ≥ 0``, inside the max.
    weight_decay: ``λ ≥ 0``.
    maximize: ascend instead of descend.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import torch as tc
    >>> opt = tc.optim.Adamax(lr=0.1, eps=0.0)
    >>> p = jnp.array([-2.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([0.1], dtype=float32)

  References:
    ``torch.optim.Adamax``; Kingma & Ba, *Adam*, ICLR 2015, section 7.
  """
  kwargs = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                maximize=maximize)
  grouped = _grouped(Adamax, params, kwargs)
  if grouped is not None:
    return grouped
  b1, b2 = _adam._check_betas(betas, eps)  # pylint: disable=protected-access
  if callable(b1):
    raise ValueError('Adamax takes constant betas, got a schedule for betas[0]')
  parts = _grad_preprocessing(maximize, weight_decay)
  parts.append(_gadam.scale_by_adamax(b1, b2, eps))
  return _finish(parts, lr)


def Adagrad(  # pylint: disable=invalid-name
    params: Groups = None,
    lr: base.ScalarOrSchedule = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: base.ScalarOrSchedule = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
    *,
    maximize: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""``torch.optim.Adagrad``.

  .. code-block:: text

    g ← g + λθ;   s ← s + g²   (s₀ = initial_accumulator_value)
    θ ← θ − η_t/(1 + (t − 1)·δ) · g/(√s + ε)

  ``chain(add_decayed_weights(λ), scale_by_rss(s₀, ε, eps_in_sqrt=False),
  scale_by_learning_rate(η_t/(1 + (t−1)δ)))``.

  Args:
    params: None, or PyTorch-style groups keyed by path patterns.
    lr: ``η``, a constant or a schedule.
    lr_decay: ``δ ≥ 0``.
    weight_decay: ``λ ≥ 0``.
    initial_accumulator_value: ``s₀ ≥ 0``.
    eps: ``ε ≥ 0``, outside the root.
    maximize: ascend instead of descend.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import torch as tc
    >>> opt = tc.optim.Adagrad(lr=0.5, eps=0.0)
    >>> p = jnp.array([3.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([-0.5], dtype=float32)

  References:
    ``torch.optim.Adagrad``; Duchi et al., *Adaptive Subgradient Methods*,
    JMLR 2011.
  """
  kwargs = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value, eps=eps,
                maximize=maximize)
  grouped = _grouped(Adagrad, params, kwargs)
  if grouped is not None:
    return grouped
  _hyper.check_learning_rate(lr, 'lr')
  _checks.check_non_negative('lr_decay', lr_decay)
  parts = _grad_preprocessing(maximize, weight_decay)
  parts.append(_rms.scale_by_rss(initial_accumulator_value, eps,
                                 eps_in_sqrt=False))
  if lr_decay == 0:
    return _finish(parts, lr)
  return _finish(
      parts,
      lambda count: _hyper.value_at(lr, count) / (1 + count * lr_decay))


def Adadelta(  # pylint: disable=invalid-name
    params: Groups = None,
    lr: base.ScalarOrSchedule = 1.0,
    rho: float = 0.9,
    eps: float = 1e-6,
    weight_decay: base.ScalarOrSchedule = 0.0,
    *,
    maximize: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""``torch.optim.Adadelta``.

  .. code-block:: text

    g ← g + λθ;  a ← ρa + (1 − ρ)g²;  Δ = √(b + ε)/√(a + ε)·g;
    b ← ρb + (1 − ρ)Δ²;  θ ← θ − η_t·Δ

  ``chain(add_decayed_weights(λ), scale_by_adadelta(ρ, ε),
  scale_by_learning_rate(η))``.

  Args:
    params: None, or PyTorch-style groups keyed by path patterns.
    lr: ``η``, a constant or a schedule.
    rho: ``ρ`` in ``[0, 1)``.
    eps: ``ε ≥ 0``.
    weight_decay: ``λ ≥ 0``.
    maximize: ascend instead of descend.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import torch as tc
    >>> opt = tc.optim.Adadelta(rho=0.0, eps=1.0)
    >>> p = jnp.array([3.0])
    >>> opt.update(p, opt.init(p), p)[0]   # √1/√(9 + 1)·3
    Array([-0.9486833], dtype=float32)

  References:
    ``torch.optim.Adadelta``; Zeiler, *ADADELTA*, 2012.
  """
  kwargs = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                maximize=maximize)
  grouped = _grouped(Adadelta, params, kwargs)
  if grouped is not None:
    return grouped
  parts = _grad_preprocessing(maximize, weight_decay)
  parts.append(_rms.scale_by_adadelta(rho, eps))
  return _finish(parts, lr)


def RMSprop(  # pylint: disable=invalid-name
    params: Groups = None,
    lr: base.ScalarOrSchedule = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: base.ScalarOrSchedule = 0.0,
    momentum: base.ScalarOrSchedule = 0.0,
    centered: bool = False,
    *,
    maximize: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""``torch.optim.RMSprop``.

  .. code-block:: text

    g ← g + λθ;  v ← αv + (1 − α)g²;  d = √v + ε   (centered: √(v − ḡ²) + ε)
    no momentum:  θ ← θ − η_t·g/d
    momentum μ:   b ← μ_t·b + g/d;   θ ← θ − η_t·b

  The momentum buffer holds ``g/d`` without the learning rate, unlike Keras'
  and :func:`gradtx.rmsprop`'s.

  Args:
    params: None, or PyTorch-style groups keyed by path patterns.
    lr: ``η``, a constant or a schedule.
    alpha: ``α`` in ``[0, 1)``.
    eps: ``ε ≥ 0``, outside the root.
    weight_decay: ``λ ≥ 0``.
    momentum: ``μ`` in ``[0, 1]``, a constant or a schedule.
    centered: divide by the root of the variance.
    maximize: ascend instead of descend.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import torch as tc
    >>> opt = tc.optim.RMSprop(lr=0.1, alpha=0.75, eps=0.0)
    >>> p = jnp.array([2.0])
    >>> opt.update(p, opt.init(p), p)[0]   # 2/√(0.25·4)
    Array([-0.2], dtype=float32)

  References:
    ``torch.optim.RMSprop``; Hinton, lecture 6e, 2012.
  """
  kwargs = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                momentum=momentum, centered=centered, maximize=maximize)
  grouped = _grouped(RMSprop, params, kwargs)
  if grouped is not None:
    return grouped
  parts = _grad_preprocessing(maximize, weight_decay)
  scale_by = _rms.scale_by_stddev if centered else _rms.scale_by_rms
  parts.append(scale_by(alpha, eps, 0.0, eps_in_sqrt=False))
  if not _is_zero(momentum):
    parts.append(_momentum.torch_momentum(momentum))
  return _finish(parts, lr)


def Rprop(  # pylint: disable=invalid-name
    params: Groups = None,
    lr: float = 1e-2,
    etas: tuple = (0.5, 1.2),
    step_sizes: tuple = (1e-6, 50.0),
    *,
    maximize: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""``torch.optim.Rprop``: see :func:`~gradtx.compat.torch.rprop_step`.

  .. code-block:: text

    step ← clip(step·η±, min, max) by the sign of g·g_prev;  θ ← θ − sign(g)·step

  ``lr`` is only the initial step size: a schedule is not accepted, as a
  PyTorch scheduler has no effect on ``Rprop`` after its first step.

  Args:
    params: None, or PyTorch-style groups keyed by path patterns.
    lr: the initial step size, ``> 0``.
    etas: ``(η₋, η₊)``.
    step_sizes: ``(min, max)``.
    maximize: ascend instead of descend.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import torch as tc
    >>> opt = tc.optim.Rprop(lr=0.1)
    >>> p = jnp.array([5.0, -1.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([-0.1,  0.1], dtype=float32)

  References:
    ``torch.optim.Rprop``; Riedmiller & Braun, 1993.
  """
  kwargs = dict(lr=lr, etas=etas, step_sizes=step_sizes, maximize=maximize)
  grouped = _grouped(Rprop, params, kwargs)
  if grouped is not None:
    return grouped
  if callable(lr):
    raise ValueError('Rprop takes a constant lr (the initial step size), '
                     'got a schedule')
  return base.chain(*_grad_preprocessing(maximize, 0.0),
                    _momentum.rprop_step(lr, etas, step_sizes))


def ASGD(  # pylint: disable=invalid-name
    params: Groups = None,
    lr: base.ScalarOrSchedule = 1e-2,
    lambd: float = 1e-4,
    alpha: float = 0.75,
    t0: float = 1e6,
    weight_decay: base.ScalarOrSchedule = 0.0,
    *,
    maximize: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""``torch.optim.ASGD``: see :func:`~gradtx.compat.torch.asgd_step`.

  .. code-block:: text

    g ← g + λ_w·θ;   θ ← θ(1 − λη) − η·g;   η ← lr_t/(1 + λ·lr_t·t)^α

  The averaged parameters are in the state (``ASGDState.ax``).

  Args:
    params: None, or PyTorch-style groups keyed by path patterns.
    lr: a constant or a schedule.
    lambd: ``λ ≥ 0``.
    alpha: ``α``.
    t0: the step at which averaging starts.
    weight_decay: ``λ_w ≥ 0`` (L2).
    maximize: ascend instead of descend.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import torch as tc
    >>> opt = tc.optim.ASGD(lr=0.1, lambd=0.0)
    >>> p = jnp.array([2.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([-0.2], dtype=float32)

  References:
    ``torch.optim.ASGD``; Polyak & Juditsky, 1992.
  """
  kwargs = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                weight_decay=weight_decay, maximize=maximize)
  grouped = _grouped(ASGD, params, kwargs)
  if grouped is not None:
    return grouped
  return base.chain(*_grad_preprocessing(maximize, weight_decay),
                    _momentum.asgd_step(lr, lambd, alpha, t0))
