"""The Adam family of optimizers, each a short chain of transformations."""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

from gradtx import base
from gradtx._masking import MaskOrFn
from gradtx.transforms import adam as _adam
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling



def _then_lr(learning_rate, *transforms):
  """``chain(*transforms, scale_by_learning_rate(learning_rate))``."""
  return base.chain(
      *transforms, _scaling.scale_by_learning_rate(learning_rate)
  )


def adam(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    *,
    nu_dtype: Optional[Any] = None,
    nesterov: bool = False,
) -> base.GradientTransformationExtraArgs:
  """Adam: ``chain(scale_by_adam(...), scale_by_learning_rate(lr))``.

  ``u = −η_t · m̂ / (√(v̂ + eps_root) + eps)``; see :func:`gradtx.scale_by_adam`.
  This is PyTorch's ``Adam`` (form P in the framework notes), with the
  weight decay left out: use :func:`adamw` for decoupled decay.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root, mu_dtype, nu_dtype, nesterov: see
      :func:`gradtx.scale_by_adam`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> opt = gradtx.adam(0.1)
    >>> params = jnp.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> for _ in range(3):
    ...   grads = jax.grad(lambda p: jnp.sum(p ** 2))(params)
    ...   updates, state = opt.update(grads, state)
    ...   params = gradtx.apply_updates(params, updates)
    >>> params
    Array([ 0.7015883, -1.7006254], dtype=float32)

  References:
    Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015.
  """
  return _then_lr(
      learning_rate,
      _adam.scale_by_adam(
          b1, b2, eps, eps_root, mu_dtype, nu_dtype=nu_dtype, nesterov=nesterov
      ),
  )


def adamw(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    weight_decay: base.ScalarOrSchedule = 1e-4,
    mask: Optional[MaskOrFn] = None,
    *,
    nu_dtype: Optional[Any] = None,
    nesterov: bool = False,
) -> base.GradientTransformationExtraArgs:
  """Adam with decoupled weight decay.

  ``u = −η_t · (m̂ / (√(v̂ + eps_root) + eps) + λ·θ)``, i.e.
  ``chain(scale_by_adam, add_decayed_weights(λ, mask), scale_by_learning_rate)``.
  The default ``λ = 1e-4`` follows Optax; PyTorch's ``AdamW`` uses 1e-2.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root, mu_dtype, nu_dtype, nesterov: see
      :func:`gradtx.scale_by_adam`.
    weight_decay: ``λ ≥ 0``, a constant or a schedule.
    mask: a tree of booleans, or a function of the params returning one, that
      selects the parameters to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.adamw(1e-3, weight_decay=1e-2)
    >>> state = opt.init({'w': jnp.ones(3)})

  References:
    Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.
  """
  return _then_lr(
      learning_rate,
      _adam.scale_by_adam(
          b1, b2, eps, eps_root, mu_dtype, nu_dtype=nu_dtype, nesterov=nesterov
      ),
      _decay.add_decayed_weights(weight_decay, mask),
  )


def nadam(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    *,
    nesterov: bool = True,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """NAdam as in Optax: :func:`adam` with ``nesterov=True``.

  ``m̂ = b1·m / (1 − b1ᵗ⁺¹) + (1 − b1)·g / (1 − b1ᵗ)``;
  ``u = −η_t · m̂ / (√(v̂ + eps_root) + eps)``.

  This is not PyTorch's or Keras' ``NAdam``: those multiply ``b1`` by a
  warming-up schedule ``μₜ = b1(1 − ½·0.96^(t·ψ))`` and debias with the
  product of the ``μₜ``; the updates differ at every step.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root, mu_dtype, nu_dtype: see :func:`gradtx.scale_by_adam`.
    nesterov: kept for Optax compatibility (``nadam`` is ``adam`` with
      ``nesterov=True``); False gives plain Adam.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.nadam(0.1)
    >>> u, _ = opt.update(jnp.array([2.0]), opt.init(jnp.zeros(1)))
    >>> u  # first step: −η·(0.9·0.2/0.19 + 0.2/0.1)/(2 + eps)
    Array([-0.14736743], dtype=float32)

  References:
    Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR workshop 2016.
  """
  return adam(learning_rate, b1, b2, eps, eps_root, mu_dtype,
              nu_dtype=nu_dtype, nesterov=nesterov)


def nadamw(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    weight_decay: base.ScalarOrSchedule = 1e-4,
    mask: Optional[MaskOrFn] = None,
    *,
    nesterov: bool = True,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """NAdam with decoupled weight decay: :func:`adamw` with ``nesterov=True``.

  ``u = −η_t · (m̂_nesterov / (√(v̂ + eps_root) + eps) + λ·θ)``; see
  :func:`nadam` and :func:`adamw`.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root, mu_dtype, nu_dtype: see :func:`gradtx.scale_by_adam`.
    weight_decay, mask: see :func:`adamw`.
    nesterov: kept for Optax compatibility; False gives plain AdamW.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.nadamw(1e-3, weight_decay=1e-2)
    >>> state = opt.init({'w': jnp.ones(3)})

  References:
    Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR workshop 2016.
    Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.
  """
  return adamw(learning_rate, b1, b2, eps, eps_root, mu_dtype, weight_decay,
               mask, nu_dtype=nu_dtype, nesterov=nesterov)


def adamax(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """Adamax: ``u = −η_t · m / ((1 − b1ᵗ)·u∞)``, ``u∞ = max(b2·u∞, |g| + eps)``.

  ``chain(scale_by_adamax(...), scale_by_learning_rate(lr))``; identical to
  PyTorch's ``Adamax`` (without its L2 ``weight_decay``; put
  :func:`gradtx.add_decayed_weights` first for that). Keras adds ``eps``
  to the denominator instead of inside the max.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, mu_dtype, nu_dtype: see :func:`gradtx.scale_by_adamax`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.adamax(0.1)
    >>> u, _ = opt.update(jnp.array([2.0]), opt.init(jnp.zeros(1)))
    >>> u  # first step: −η·g/(|g| + eps)
    Array([-0.1], dtype=float32)

  References:
    Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015.
  """
  return _then_lr(
      learning_rate,
      _adam.scale_by_adamax(b1, b2, eps, mu_dtype=mu_dtype, nu_dtype=nu_dtype),
  )


def adamaxw(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: base.ScalarOrSchedule = 1e-4,
    mask: Optional[MaskOrFn] = None,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """Adamax with decoupled weight decay: ``u = −η_t·(adamax(g) + λ·θ)``.

  ``chain(scale_by_adamax, add_decayed_weights(λ, mask),
  scale_by_learning_rate)``. PyTorch's ``Adamax`` has only the L2 form.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, mu_dtype, nu_dtype: see :func:`gradtx.scale_by_adamax`.
    weight_decay, mask: see :func:`adamw`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.adamaxw(0.1, weight_decay=0.5)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([2.0]), opt.init(p), p)[0]  # −0.1·(1 + 0.5·1)
    Array([-0.15], dtype=float32)

  References:
    Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.
  """
  return _then_lr(
      learning_rate,
      _adam.scale_by_adamax(b1, b2, eps, mu_dtype=mu_dtype, nu_dtype=nu_dtype),
      _decay.add_decayed_weights(weight_decay, mask),
  )


def amsgrad(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    bias_correction_mu: bool = True,
    bias_correction_nu: bool = True,
    *,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """AMSGrad: ``u = −η_t · m̂ / (√(v_max + eps_root) + eps)``.

  ``v_max = max(v_max, v̂)``; see :func:`gradtx.scale_by_amsgrad` (and
  there, why PyTorch's ``Adam(amsgrad=True)`` differs).

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root: see :func:`gradtx.scale_by_amsgrad`.
    mu_dtype, nu_dtype: see :func:`gradtx.scale_by_amsgrad`.
    bias_correction_mu, bias_correction_nu: see :func:`gradtx.scale_by_amsgrad`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.amsgrad(0.1)
    >>> state = opt.init({'w': jnp.ones(3)})

  References:
    Reddi et al., *On the Convergence of Adam and Beyond*, ICLR 2018.
  """
  return _then_lr(
      learning_rate,
      _adam.scale_by_amsgrad(b1, b2, eps, eps_root, mu_dtype,
                             bias_correction_mu, bias_correction_nu,
                             nu_dtype=nu_dtype),
  )


def adabelief(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-16,
    eps_root: float = 1e-16,
    *,
    nesterov: bool = False,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """AdaBelief: ``u = −η_t · m̂ / (√ŝ + eps)``, ``s`` = EMA of ``(g − m)²``.

  See :func:`gradtx.scale_by_belief`. The tiny default ``eps = 1e-16``
  follows the paper and Optax.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root, nesterov, mu_dtype, nu_dtype: see
      :func:`gradtx.scale_by_belief`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.adabelief(1e-3)
    >>> state = opt.init({'w': jnp.ones(3)})

  References:
    Zhuang et al., *AdaBelief Optimizer*, NeurIPS 2020.
  """
  return _then_lr(
      learning_rate,
      _adam.scale_by_belief(b1, b2, eps, eps_root, nesterov=nesterov,
                            mu_dtype=mu_dtype, nu_dtype=nu_dtype),
  )


def radam(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    threshold: float = 5.0,
    *,
    nesterov: bool = False,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """Rectified Adam: ``u = −η_t · r_t·m̂ / (√(v̂ + eps_root) + eps)``.

  While the rectifier is undefined (``ρₜ < threshold``) the step is
  ``−η_t·m̂``. See :func:`gradtx.scale_by_radam` for ``ρₜ`` and ``r_t``
  and for how PyTorch's ``RAdam`` places ``eps``.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root, threshold, nesterov, mu_dtype, nu_dtype: see
      :func:`gradtx.scale_by_radam`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.radam(0.1)
    >>> opt.update(jnp.array([3.0]), opt.init(jnp.zeros(1)))[0]  # −η·g
    Array([-0.3], dtype=float32)

  References:
    Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*,
    ICLR 2020.
  """
  return _then_lr(
      learning_rate,
      _adam.scale_by_radam(b1, b2, eps, eps_root, threshold,
                           nesterov=nesterov, mu_dtype=mu_dtype,
                           nu_dtype=nu_dtype),
  )


def yogi(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-3,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """Yogi: ``u = −η_t · m̂ / (√v̂ + eps)``, ``v ← v − (1−b2)·sign(v−g²)·g²``.

  See :func:`gradtx.scale_by_yogi` (the moments start at 1e-6).

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, mu_dtype, nu_dtype: see :func:`gradtx.scale_by_yogi`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.yogi(1e-2)
    >>> state = opt.init({'w': jnp.ones(3)})

  References:
    Zaheer et al., *Adaptive Methods for Nonconvex Optimization*, NeurIPS
    2018.
  """
  return _then_lr(
      learning_rate,
      _adam.scale_by_yogi(b1, b2, eps, mu_dtype=mu_dtype, nu_dtype=nu_dtype),
  )


def novograd(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.25,
    eps: float = 1e-6,
    eps_root: float = 0.0,
    weight_decay: base.ScalarOrSchedule = 0.0,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """NovoGrad: ``u = −η_t·m``, ``m ← b1·m + g/(√vₗ + eps) + λθ`` per layer.

  See :func:`gradtx.scale_by_novograd`; ``vₗ`` is one scalar per leaf.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root, weight_decay, mu_dtype, nu_dtype: see
      :func:`gradtx.scale_by_novograd`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`. ``update`` needs
    ``params``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.novograd(0.1)
    >>> p = jnp.zeros(2)
    >>> opt.update(jnp.array([3.0, 4.0]), opt.init(p), p)[0]
    Array([-0.06, -0.08], dtype=float32)

  References:
    Ginsburg et al., *Stochastic Gradient Methods with Layer-wise Adaptive
    Moments for Training of Deep Networks*, 2019.
  """
  return _then_lr(
      learning_rate,
      _adam.scale_by_novograd(b1, b2, eps, eps_root, weight_decay, mu_dtype,
                              nu_dtype=nu_dtype),
  )
