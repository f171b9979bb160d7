"""RMSProp, Adagrad, Adadelta, Adafactor and SM3, each a short chain."""

from __future__ import annotations

from typing import Any, Optional

import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx.optimizers import _sgd as _sgd
from gradtx.transforms import clipping as _clipping
from gradtx.transforms import decay as _decay
from gradtx.transforms import factored as _factored
from gradtx.transforms import momentum as _momentum
from gradtx.transforms import rms as _rms
from gradtx.transforms import scaling as _scaling
from gradtx import _masking as masking


def rmsprop(
    learning_rate: base.ScalarOrSchedule,
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    eps_in_sqrt: bool = True,
    centered: bool = False,
    momentum: Optional[float] = None,
    nesterov: bool = False,
    bias_correction: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""RMSProp: divide by the root of an EMA of ``g²``, optionally centred.

  .. code-block:: text

    d = √(v + eps) (eps_in_sqrt) or √v + eps, with v the EMA of g²
        (centred: v − m², m the EMA of g)
    no momentum:  u = −η_t·g / d
    momentum μ:   b ← −η_t·g / d + μ·b;  u = b   (nesterov: u = −η_t·g/d + μ·b)

  That is ``chain(scale_by_rms | scale_by_stddev, scale_by_learning_rate,
  trace(μ, nesterov))``; see :func:`gradtx.scale_by_rms` and
  :func:`gradtx.scale_by_stddev` for the scaling.

  **PyTorch** ``RMSprop(lr, alpha=ρ, eps, centered, momentum=μ)`` is
  ``rmsprop(lr, decay=ρ, eps=eps, eps_in_sqrt=False, centered=..., momentum=μ)``
  (PyTorch's default ``alpha`` is 0.99). Without momentum it agrees for any
  learning-rate schedule; with momentum PyTorch keeps ``g/d`` in its buffer
  and multiplies by the current ``η_t``, whereas here the buffer holds
  ``η·g/d`` from past steps, so the two agree only for a constant ``η``.
  **Keras** ``RMSprop(rho=ρ, epsilon)`` has ``eps`` inside the root (the
  default here) and its momentum form is this one.

  Args:
    learning_rate: a constant ``η ≥ 0`` or a schedule.
    decay, eps, initial_scale, eps_in_sqrt, bias_correction: see
      :func:`gradtx.scale_by_rms`.
    centered: divide by the root of the variance rather than of the second
      moment.
    momentum: ``μ`` in ``[0, 1]``, or None for no momentum.
    nesterov: use Nesterov's form of the momentum.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.rmsprop(0.1, decay=0.75, eps=0.0)
    >>> u, s = opt.update(jnp.array([2.0, -4.0]), opt.init(jnp.zeros(2)))
    >>> u
    Array([-0.2,  0.2], dtype=float32)

  References:
    Hinton, *Neural Networks for Machine Learning*, lecture 6e, 2012.
    Graves, *Generating Sequences With Recurrent Neural Networks*, 2013.
  """
  scale_by = _rms.scale_by_stddev if centered else _rms.scale_by_rms
  return base.chain(
      scale_by(decay, eps, initial_scale, eps_in_sqrt, bias_correction),
      _scaling.scale_by_learning_rate(learning_rate),
      _sgd.momentum_or_identity(momentum, nesterov),
  )


def adagrad(
    learning_rate: base.ScalarOrSchedule,
    initial_accumulator_value: float = 0.1,
    eps: float = 1e-7,
    *,
    eps_in_sqrt: bool = True,
    accumulator_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Adagrad: divide by the root of the sum of all squared gradients.

  .. code-block:: text

    s ← s + g²   (s₀ = initial_accumulator_value);   u = −η_t·g / √(s + eps)

  That is ``chain(scale_by_rss, scale_by_learning_rate)``; see
  :func:`gradtx.scale_by_rss`. The defaults are Optax's and Keras'.
  **PyTorch** ``Adagrad(lr, lr_decay=δ, initial_accumulator_value=s₀,
  eps=ε)`` is ``adagrad(lambda t: lr / (1 + t·δ), s₀, ε, eps_in_sqrt=False)``
  (PyTorch adds ``eps`` after the root and starts from 0 with ε = 1e-10).

  Args:
    learning_rate: a constant ``η ≥ 0`` or a schedule.
    initial_accumulator_value, eps, eps_in_sqrt, accumulator_dtype: see
      :func:`gradtx.scale_by_rss`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.adagrad(1.0, initial_accumulator_value=0.0, eps=0.0)
    >>> u, s = opt.update(jnp.array([3.0, -0.5]), opt.init(jnp.zeros(2)))
    >>> u
    Array([-1.,  1.], dtype=float32)

  References:
    Duchi et al., *Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization*, JMLR 2011.
  """
  return base.chain(
      _rms.scale_by_rss(
          initial_accumulator_value, eps, eps_in_sqrt=eps_in_sqrt,
          accumulator_dtype=accumulator_dtype,
      ),
      _scaling.scale_by_learning_rate(learning_rate),
  )


def adadelta(
    learning_rate: Optional[base.ScalarOrSchedule] = None,
    rho: float = 0.9,
    eps: float = 1e-6,
    weight_decay: base.ScalarOrSchedule = 0.0,
    weight_decay_mask: Optional[masking.MaskOrFn] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Adadelta, with optional L2 weight decay on the gradient.

  .. code-block:: text

    g ← g + λ·θ
    a ← ρ·a + (1 − ρ)·g²;   Δ = √(b + eps)/√(a + eps)·g;   b ← ρ·b + (1 − ρ)·Δ²
    u = −η_t·Δ

  That is ``chain(add_decayed_weights(λ, mask), scale_by_adadelta(ρ, eps),
  scale_by_learning_rate(η))``; see :func:`gradtx.scale_by_adadelta`. It is
  PyTorch's ``Adadelta(lr, rho, eps, weight_decay)`` exactly, for any
  learning-rate schedule. Keras' defaults differ (``rho=0.95``, ``lr=1e-3``,
  ``epsilon=1e-7``). It needs ``params`` in ``update``.

  Args:
    learning_rate: a constant ``η ≥ 0`` or a schedule; None means 1 (the
      paper's rule, and PyTorch's default).
    rho: the decay of both averages, in ``[0, 1)``.
    eps: the stabilising constant, ``≥ 0``.
    weight_decay: ``λ ≥ 0`` (a constant or a schedule), added to the
      gradient before the scaling.
    weight_decay_mask: a tree of booleans, or a function of the params
      returning one, selecting the parameters to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.adadelta(rho=0.0, eps=1.0)
    >>> p = jnp.zeros(1)
    >>> u, s = opt.update(jnp.array([0.0]), opt.init(p), p)
    >>> u
    Array([-0.], dtype=float32)

  References:
    Zeiler, *ADADELTA: An Adaptive Learning Rate Method*, 2012.
  """
  return base.chain(
      _decay.add_decayed_weights(weight_decay, weight_decay_mask),
      _rms.scale_by_adadelta(rho, eps),
      _scaling.scale_by_learning_rate(
          1.0 if learning_rate is None else learning_rate
      ),
  )


def adafactor(
    learning_rate: Optional[base.ScalarOrSchedule] = None,
    min_dim_size_to_factor: int = 128,
    decay_rate: float = 0.8,
    decay_offset: int = 0,
    multiply_by_parameter_scale: bool = True,
    clipping_threshold: Optional[float] = 1.0,
    momentum: Optional[float] = None,
    dtype_momentum: Any = jnp.float32,
    weight_decay_rate: Optional[base.ScalarOrSchedule] = None,
    eps: float = 1e-30,
    factored: bool = True,
    weight_decay_mask: Optional[masking.MaskOrFn] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Adafactor: a factored RMS scaling, clipped and relative to the params.

  .. code-block:: text

    d = scale_by_factored_rms(g)                     (see there)
    d ← d / max(1, RMS(d) / clipping_threshold)      (per array)
    d ← η_t·d
    d ← d · max(RMS(θ), 1e-3)                        (multiply_by_parameter_scale)
    d ← β·d_prev + (1 − β)·d                         (momentum β, no debiasing)
    d ← d + λ·θ                                      (weight_decay_rate λ)
    u = −d

  Each optional step is left out when its argument is None/False. Note that
  the weight decay is *not* multiplied by the learning rate. It needs
  ``params`` in ``update``.

  Args:
    learning_rate: a constant ``η ≥ 0``, a schedule, or None for none (the
      relative step of the paper is then the parameter scale alone).
    min_dim_size_to_factor: factor arrays whose second largest axis has at
      least this many entries.
    decay_rate: the exponent of the second-moment decay ``1 − (t+1)^(−c)``.
    decay_offset: subtracted from the step count for that decay.
    multiply_by_parameter_scale: multiply by the RMS of each parameter array.
    clipping_threshold: the clipping threshold ``> 0`` (1 in the paper), or
      None for no clipping.
    momentum: ``β`` in ``[0, 1]``, or None for no momentum.
    dtype_momentum: dtype of the momentum buffer.
    weight_decay_rate: ``λ ≥ 0`` (a constant or a schedule), or None.
    eps: added to ``g²``.
    factored: factor the second moment at all.
    weight_decay_mask: a tree of booleans, or a function of the params
      returning one, selecting the parameters to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.adafactor(learning_rate=0.1)
    >>> p = jnp.full((2, 3), 2.0)
    >>> u, s = opt.update(jnp.ones((2, 3)), opt.init(p), p)
    >>> u  # −η · sign(g) · RMS(θ) on the first step
    Array([[-0.2, -0.2, -0.2],
           [-0.2, -0.2, -0.2]], dtype=float32)

  References:
    Shazeer & Stern, *Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost*, ICML 2018.
  """
  # Checked here too so that messages name adafactor's own arguments.
  _checks.check_non_negative('decay_offset', decay_offset)
  _checks.check_non_negative('eps', eps)
  if clipping_threshold is not None:
    _checks.check_positive('clipping_threshold', clipping_threshold)
  if momentum is not None:
    _checks.check_unit_interval('momentum', momentum)
    dtype_momentum = _checks.check_dtype('dtype_momentum', dtype_momentum)
  if weight_decay_rate is not None:
    _checks.check_callable_or_number('weight_decay_rate', weight_decay_rate)
    _checks.check_non_negative('weight_decay_rate', weight_decay_rate)
  parts = [
      _factored.scale_by_factored_rms(
          factored, decay_rate, decay_offset, min_dim_size_to_factor, eps
      )
  ]
  if clipping_threshold is not None:
    parts.append(_clipping.clip_by_block_rms(clipping_threshold))
  if learning_rate is not None:
    parts.append(
        _scaling.scale_by_learning_rate(learning_rate, flip_sign=False)
    )
  if multiply_by_parameter_scale:
    parts.append(_rms.scale_by_param_block_rms())
  if momentum is not None:
    parts.append(
        _momentum.ema(momentum, debias=False, accumulator_dtype=dtype_momentum)
    )
  if weight_decay_rate is not None:
    parts.append(
        _decay.add_decayed_weights(weight_decay_rate, weight_decay_mask)
    )
  parts.append(_scaling.scale(-1.0))
  return base.chain(*parts)


def sm3(
    learning_rate: base.ScalarOrSchedule,
    momentum: float = 0.9,
) -> base.GradientTransformationExtraArgs:
  r"""SM3: Adagrad with one accumulator per row and per column.

  .. code-block:: text

    u = −η_t · sm3(g)       (see gradtx.scale_by_sm3, with b1 = momentum)

  That is ``chain(scale_by_sm3(momentum), scale_by_learning_rate(η))``. Unlike
  Optax 0.2.8, whose ``sm3`` takes a constant learning rate only, ``η`` may be
  a schedule.

  Args:
    learning_rate: a constant ``η ≥ 0`` or a schedule.
    momentum: the momentum ``b1`` of :func:`gradtx.scale_by_sm3`, in ``[0, 1]``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.sm3(0.5, momentum=0.0)
    >>> u, s = opt.update(jnp.full((2, 2), 4.0), opt.init(jnp.zeros((2, 2))))
    >>> u
    Array([[-0.5, -0.5],
           [-0.5, -0.5]], dtype=float32)

  References:
    Anil et al., *Memory-Efficient Adaptive Optimization*, NeurIPS 2019.
  """
  _checks.check_unit_interval('momentum', momentum)
  return base.chain(
      _factored.scale_by_sm3(momentum),
      _scaling.scale_by_learning_rate(learning_rate),
  )
