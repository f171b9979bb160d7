"""``keras.optimizers`` (Keras 3) under their own names, arguments and defaults.

Each constructor returns a gradtx transformation that moves the params as
``optimizer.apply(grads, variables)`` moves Keras variables, step for step,
with Keras' learning-rate convention (a schedule is called with
``optimizer.iterations``) and all of Keras' common options:

* ``weight_decay``: ``θ ← θ − θ·λ·η`` before the step, for every optimizer
  (so ``Adam(weight_decay=λ)`` is decoupled, like ``AdamW``), except for the
  parameters whose path matches ``exclude_from_weight_decay`` (a list of
  regular expressions searched in paths such as ``'dense/bias'``; Keras' method
  of that name takes them as ``var_names``);
* ``clipnorm`` (per variable), ``global_clipnorm``, ``clipvalue``;
* ``use_ema``, ``ema_momentum``, ``ema_overwrite_frequency``;
* ``loss_scale_factor``, ``gradient_accumulation_steps``.

See :func:`gradtx.compat.keras.keras_optimizer` for the order in which they
apply. ``update`` needs the params. The state is a
:class:`~gradtx.compat.keras.KerasState`; the moving average of the params
(``use_ema``) is ``state.model_variables_moving_average``.
"""

from __future__ import annotations

from typing import Optional, Sequence

from gradtx import _checks
from gradtx import base
from gradtx.compat.keras import _rules
from gradtx.compat.keras._base import keras_optimizer
from gradtx.transforms import momentum as _momentum
from gradtx.transforms import rms as _rms
from gradtx.transforms import sign as _sign

__all__ = ['SGD', 'Adam', 'AdamW', 'Adamax', 'Nadam', 'RMSprop', 'Adagrad',
           'Adadelta', 'Lion', 'Lamb', 'Adafactor', 'Ftrl']

_OPTIONS = ('weight_decay', 'clipnorm', 'clipvalue', 'global_clipnorm',
            'use_ema', 'ema_momentum', 'ema_overwrite_frequency',
            'loss_scale_factor', 'gradient_accumulation_steps',
            'exclude_from_weight_decay')

_COMMON_ARGS = '\n    '.join(
    f"{k}: Keras' common option; see :func:`gradtx.compat.keras.keras_optimizer`."
    for k in _OPTIONS)


def _make(name: str, rule, learning_rate, args: dict) -> base.GradientTransformation:
  return keras_optimizer(name, rule, learning_rate,
                         **{k: args[k] for k in _OPTIONS})


def _doc(fn):
  fn.__doc__ = fn.__doc__.replace('COMMON_ARGS', _COMMON_ARGS)
  return fn


def _check_betas(beta_1, beta_2, epsilon=0.0):
  _checks.check_beta('beta_1', beta_1)
  _checks.check_beta('beta_2', beta_2)
  _checks.check_non_negative('epsilon', epsilon)


@_doc
def SGD(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.01,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.SGD``: the learning rate inside the velocity.

  .. code-block:: text

    v ← μv − η_t·g;   θ ← θ + v          (nesterov: θ ← θ + μv − η_t·g)

  Past learning rates stay in ``v``: with a changing ``η_t`` this differs
  from PyTorch's and Optax's SGD, which rescale the whole buffer.

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    momentum: ``μ ≥ 0``.
    nesterov: Nesterov momentum.
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.SGD(0.1, momentum=0.9)
    >>> p = jnp.array([1.0])
    >>> s = opt.init(p)
    >>> for _ in range(2):
    ...   u, s = opt.update(2 * p, s, p)
    ...   p = gradtx.apply_updates(p, u)
    >>> p
    Array([0.46], dtype=float32)

  References:
    ``keras.optimizers.SGD``.
  """
  _checks.check_non_negative('momentum', momentum)
  return _make('keras.SGD', _rules.sgd_rule(momentum, nesterov),
               learning_rate, locals())


@_doc
def Adam(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
    amsgrad: bool = False,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.Adam``, with ``ε`` outside the debiasing.

  .. code-block:: text

    α = η_t·√(1 − β₂ᵗ)/(1 − β₁ᵗ);   θ ← θ − α·m/(√v + ε)     (amsgrad: v̂ = max(v̂, v))

  This is PyTorch's form with ``ε/√(1 − β₂ᵗ)`` in place of ``ε``; ``t`` is
  ``iterations + 1``.

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    beta_1: ``β₁`` in ``[0, 1)``.
    beta_2: ``β₂`` in ``[0, 1)``.
    epsilon: ``ε ≥ 0``.
    amsgrad: use the running max of ``v``.
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.Adam(0.1)
    >>> p = jnp.array([1.0, -1.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([-0.1,  0.1], dtype=float32)

  References:
    ``keras.optimizers.Adam``; Kingma & Ba, *Adam*, ICLR 2015.
  """
  _check_betas(beta_1, beta_2, epsilon)
  return _make('keras.Adam', _rules.adam_rule(beta_1, beta_2, epsilon, amsgrad),
               learning_rate, locals())


@_doc
def AdamW(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.001,
    weight_decay: base.ScalarOrSchedule = 0.004,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
    amsgrad: bool = False,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.AdamW``: :func:`Adam` with ``weight_decay=0.004``.

  .. code-block:: text

    θ ← θ − θ·λ·η_t;   then Keras' Adam step

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    beta_1: ``β₁`` in ``[0, 1)``.
    beta_2: ``β₂`` in ``[0, 1)``.
    epsilon: ``ε ≥ 0``.
    amsgrad: use the running max of ``v``.
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.AdamW(0.1, weight_decay=0.5)
    >>> p = jnp.array([2.0])
    >>> opt.update(jnp.zeros(1), opt.init(p), p)[0]   # −θλη only
    Array([-0.1], dtype=float32)

  References:
    ``keras.optimizers.AdamW``; Loshchilov & Hutter, *Decoupled Weight Decay
    Regularization*, ICLR 2019.
  """
  _check_betas(beta_1, beta_2, epsilon)
  return _make('keras.AdamW', _rules.adam_rule(beta_1, beta_2, epsilon, amsgrad),
               learning_rate, locals())


@_doc
def Adamax(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.Adamax``: ``ε`` added to the norm, not inside the max.

  .. code-block:: text

    u ← max(β₂u, |g|);   θ ← θ − η_t·m / ((1 − β₁ᵗ)(u + ε))

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    beta_1: ``β₁`` in ``[0, 1)``.
    beta_2: ``β₂`` in ``[0, 1)``.
    epsilon: ``ε ≥ 0``.
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.Adamax(0.1, epsilon=0.0)
    >>> p = jnp.array([-2.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([0.1], dtype=float32)

  References:
    ``keras.optimizers.Adamax``; Kingma & Ba, *Adam*, ICLR 2015, section 7.
  """
  _check_betas(beta_1, beta_2, epsilon)
  return _make('keras.Adamax', _rules.adamax_rule(beta_1, beta_2, epsilon),
               learning_rate, locals())


@_doc
def Nadam(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.Nadam``: ``μₜ = β₁(1 − ½·0.96ᵗ)``.

  .. code-block:: text

    m̂ = μₜ₊₁m/(1 − Πμ·μₜ₊₁) + (1 − μₜ)g/(1 − Πμ);   θ ← θ − η_t·m̂/(√(v/(1 − β₂ᵗ)) + ε)

  PyTorch's ``NAdam`` has ``0.96^(0.004·t)`` instead (``momentum_decay``).

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    beta_1: ``β₁`` in ``[0, 1)``.
    beta_2: ``β₂`` in ``[0, 1)``.
    epsilon: ``ε ≥ 0``.
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.Nadam(0.1, epsilon=0.0)
    >>> p = jnp.array([1.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([-0.1063], dtype=float32)

  References:
    ``keras.optimizers.Nadam``; Dozat, *Incorporating Nesterov Momentum into
    Adam*, 2016.
  """
  _check_betas(beta_1, beta_2, epsilon)
  return _make('keras.Nadam', _rules.nadam_rule(beta_1, beta_2, epsilon),
               learning_rate, locals())


@_doc
def RMSprop(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.001,
    rho: float = 0.9,
    momentum: float = 0.0,
    epsilon: float = 1e-7,
    centered: bool = False,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.RMSprop``: ``ε`` inside the root, lr inside momentum.

  .. code-block:: text

    v ← ρv + (1 − ρ)g²;   d = √(v + ε)   (centered: √(v − ḡ² + ε))
    m ← μm + η_t·g/d;     θ ← θ − m      (no momentum: θ ← θ − η_t·g/d)

  ``scale_by_rms`` (or ``scale_by_stddev``) with ``eps_in_sqrt=True``, the
  learning rate, then ``trace(μ)``: :func:`gradtx.rmsprop`'s form.

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    rho: ``ρ`` in ``[0, 1)``.
    momentum: ``μ`` in ``[0, 1]``.
    epsilon: ``ε ≥ 0``.
    centered: divide by the root of the variance.
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.RMSprop(0.1, rho=0.75, epsilon=0.0)
    >>> p = jnp.array([2.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([-0.2], dtype=float32)

  References:
    ``keras.optimizers.RMSprop``; Hinton, lecture 6e, 2012.
  """
  scale_by = _rms.scale_by_stddev if centered else _rms.scale_by_rms
  post = _momentum.trace(momentum) if momentum > 0 else None
  rule = _rules.transform_rule(scale_by(rho, epsilon, 0.0, eps_in_sqrt=True), post)
  return _make('keras.RMSprop', rule, learning_rate, locals())


@_doc
def Adagrad(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.001,
    initial_accumulator_value: float = 0.1,
    epsilon: float = 1e-7,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.Adagrad``: ``s₀ = 0.1``, ``ε`` inside the root.

  .. code-block:: text

    s ← s + g²;   θ ← θ − η_t·g/√(s + ε)

  ``scale_by_rss(s₀, ε)`` then the learning rate.

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    initial_accumulator_value: ``s₀ ≥ 0``.
    epsilon: ``ε ≥ 0``.
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.Adagrad(0.5, initial_accumulator_value=0.0, epsilon=0.0)
    >>> p = jnp.array([3.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([-0.5], dtype=float32)

  References:
    ``keras.optimizers.Adagrad``; Duchi et al., JMLR 2011.
  """
  rule = _rules.transform_rule(
      _rms.scale_by_rss(initial_accumulator_value, epsilon, eps_in_sqrt=True))
  return _make('keras.Adagrad', rule, learning_rate, locals())


@_doc
def Adadelta(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.001,
    rho: float = 0.95,
    epsilon: float = 1e-7,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.Adadelta`` (PyTorch's rule with Keras' defaults).

  .. code-block:: text

    a ← ρa + (1 − ρ)g²;  Δ = √(b + ε)/√(a + ε)·g;  b ← ρb + (1 − ρ)Δ²;  θ ← θ − η_t·Δ

  ``scale_by_adadelta(ρ, ε)`` then the learning rate.

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    rho: ``ρ`` in ``[0, 1)``.
    epsilon: ``ε ≥ 0``.
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.Adadelta(1.0, rho=0.0, epsilon=1.0)
    >>> p = jnp.array([3.0])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([-0.9486833], dtype=float32)

  References:
    ``keras.optimizers.Adadelta``; Zeiler, *ADADELTA*, 2012.
  """
  rule = _rules.transform_rule(_rms.scale_by_adadelta(rho, epsilon))
  return _make('keras.Adadelta', rule, learning_rate, locals())


@_doc
def Lion(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.99,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.Lion``.

  .. code-block:: text

    θ ← θ − η_t·sign(β₁m + (1 − β₁)g);   m ← β₂m + (1 − β₂)g

  ``scale_by_lion(β₁, β₂)`` then the learning rate.

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    beta_1: ``β₁`` in ``(0, 1]``.
    beta_2: ``β₂`` in ``[0, 1)``.
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.Lion(0.1)
    >>> p = jnp.array([3.0, -0.5])
    >>> opt.update(p, opt.init(p), p)[0]
    Array([-0.1,  0.1], dtype=float32)

  References:
    ``keras.optimizers.Lion``; Chen et al., *Symbolic Discovery of
    Optimization Algorithms*, 2023.
  """
  _checks.check_range('beta_1', beta_1, 0.0, 1.0, low_inclusive=False)
  rule = _rules.transform_rule(_sign.scale_by_lion(beta_1, beta_2))
  return _make('keras.Lion', rule, learning_rate, locals())


@_doc
def Lamb(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.Lamb``.

  .. code-block:: text

    u = m̂/(√v̂ + ε);   θ ← θ − η_t·(‖θ‖/‖u‖)·u      (ratio 1 if a norm is 0)

  Weight decay, when given, is Keras' (applied to ``θ`` before the step, so
  the trust ratio sees the decayed ``θ``), not inside ``u`` as in
  :func:`gradtx.lamb`.

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    beta_1: ``β₁`` in ``[0, 1)``.
    beta_2: ``β₂`` in ``[0, 1)``.
    epsilon: ``ε ≥ 0``.
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.Lamb(0.1, epsilon=0.0)
    >>> p = jnp.array([3.0, 4.0])
    >>> opt.update(p, opt.init(p), p)[0]   # ‖θ‖/‖u‖ = 5/√2
    Array([-0.35355338, -0.35355338], dtype=float32)

  References:
    ``keras.optimizers.Lamb``; You et al., *Large Batch Optimization for Deep
    Learning*, ICLR 2020.
  """
  _check_betas(beta_1, beta_2, epsilon)
  return _make('keras.Lamb', _rules.lamb_rule(beta_1, beta_2, epsilon),
               learning_rate, locals())


@_doc
def Adafactor(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.001,
    beta_2_decay: float = -0.8,
    epsilon_1: float = 1e-30,
    epsilon_2: float = 1e-3,
    clip_threshold: float = 1.0,
    relative_step: bool = True,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.Adafactor``: factored over the last two axes.

  .. code-block:: text

    ρₜ = min(η_t, 1/√t);  αₜ = max(ε₂, RMS(θ))·ρₜ;  β̂ₜ = 1 − t^decay
    ndim ≥ 2:  r ← β̂r + (1 − β̂)·mean_{-1}(g² + ε₁);  c ← β̂c + (1 − β̂)·mean_{-2}(g² + ε₁)
               v = (r/mean(r))[…, None]·c[…, None, :]
    else:      v ← β̂v + (1 − β̂)(g² + ε₁)
    u = g/√v;  θ ← θ − αₜ·u/max(1, RMS(u)/clip_threshold)

  Keras takes ``min(η, 1/√t)`` whatever ``relative_step`` is (the argument
  changes nothing in Keras 3), and so does this. For Hugging Face's
  Adafactor see :func:`gradtx.compat.hf.Adafactor`.

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    beta_2_decay: the exponent of ``t`` in ``β̂ₜ`` (``< 0``).
    epsilon_1: added to ``g²``.
    epsilon_2: the least parameter scale.
    clip_threshold: the update RMS clip, ``> 0``.
    relative_step: accepted for Keras' signature; no effect (as in Keras).
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.Adafactor(0.1)
    >>> p = jnp.array([1.0, -1.0])
    >>> opt.update(p, opt.init(p), p)[0]   # αₜ = 1·0.1, |u| = 1
    Array([-0.1,  0.1], dtype=float32)

  References:
    ``keras.optimizers.Adafactor``; Shazeer & Stern, *Adafactor*, ICML 2018.
  """
  del relative_step
  _checks.check_positive('clip_threshold', clip_threshold)
  _checks.check_non_negative('epsilon_1', epsilon_1)
  _checks.check_non_negative('epsilon_2', epsilon_2)
  rule = _rules.adafactor_rule(beta_2_decay, epsilon_1, epsilon_2, clip_threshold)
  return _make('keras.Adafactor', rule, learning_rate, locals())


@_doc
def Ftrl(  # pylint: disable=invalid-name
    learning_rate: base.ScalarOrSchedule = 0.001,
    learning_rate_power: float = -0.5,
    initial_accumulator_value: float = 0.1,
    l1_regularization_strength: float = 0.0,
    l2_regularization_strength: float = 0.0,
    l2_shrinkage_regularization_strength: float = 0.0,
    beta: float = 0.0,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    *,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""``keras.optimizers.Ftrl`` (FTRL-Proximal).

  .. code-block:: text

    n' = n + g²;   z ← z + g + 2λ₂ₛθ − (n'^{−p} − n^{−p})/η·θ
    θ ← (clip(z, ±λ₁) − z) / (n'^{−p}/η + 2(λ₂ + β/(2η)));   n ← n'

  Args:
    learning_rate: ``η``, a constant or a schedule of the iterations.
    learning_rate_power: ``p ≤ 0``.
    initial_accumulator_value: ``n₀ ≥ 0``.
    l1_regularization_strength: ``λ₁ ≥ 0``.
    l2_regularization_strength: ``λ₂ ≥ 0``.
    l2_shrinkage_regularization_strength: ``λ₂ₛ ≥ 0``.
    beta: ``β ≥ 0``.
    COMMON_ARGS

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.compat.keras.KerasState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import keras as kc
    >>> opt = kc.optimizers.Ftrl(0.1, initial_accumulator_value=0.0)
    >>> p = jnp.zeros(1)
    >>> opt.update(jnp.array([2.0]), opt.init(p), p)[0]   # −η·g/√n'
    Array([-0.1], dtype=float32)

  References:
    ``keras.optimizers.Ftrl``; McMahan et al., *Ad Click Prediction: a View
    from the Trenches*, KDD 2013.
  """
  _checks.check_range('learning_rate_power', learning_rate_power, None, 0.0)
  for name in ('initial_accumulator_value', 'l1_regularization_strength',
               'l2_regularization_strength',
               'l2_shrinkage_regularization_strength', 'beta'):
    _checks.check_non_negative(name, locals()[name])
  rule = _rules.ftrl_rule(learning_rate_power, initial_accumulator_value,
                          l1_regularization_strength, l2_regularization_strength,
                          l2_shrinkage_regularization_strength, beta)
  return _make('keras.Ftrl', rule, learning_rate, locals())
