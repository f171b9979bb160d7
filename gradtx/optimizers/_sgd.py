"""Stochastic gradient descent and its plain variants, each a short chain."""

from __future__ import annotations

from typing import Any, Optional

from gradtx import _checks
from gradtx import base
from gradtx.transforms import decay as _decay
from gradtx.transforms import momentum as _momentum
from gradtx.transforms import scaling as _scaling
from gradtx.transforms import sign as _sign


def momentum_or_identity(
    momentum: Optional[float],
    nesterov: bool = False,
    accumulator_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  """``trace(momentum, nesterov)``, or the identity when momentum is None.

  Validates ``momentum`` under its own name (``[0, 1]``).
  """
  if momentum is None:
    return base.identity()
  _checks.check_unit_interval('momentum', momentum)
  return _momentum.trace(momentum, nesterov, accumulator_dtype)


def sgd(
    learning_rate: base.ScalarOrSchedule,
    momentum: Optional[float] = None,
    nesterov: bool = False,
    accumulator_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Stochastic gradient descent, with optional heavy-ball or Nesterov momentum.

  .. code-block:: text

    no momentum:   u = −η_t·g
    momentum μ:    m ← g + μ·m   (m₀ = 0);   u = −η_t·m
    nesterov:      m ← g + μ·m;               u = −η_t·(g + μ·m)

  That is ``chain(trace(μ, nesterov), scale_by_learning_rate(η))``. It is
  PyTorch's ``SGD`` with ``dampening=0`` exactly, also when the learning rate
  changes (the whole buffer is rescaled by the current ``η_t``); Keras' ``SGD``
  keeps old learning rates inside its velocity and agrees only for a constant
  ``η``.

  Args:
    learning_rate: a constant ``η ≥ 0`` or a schedule.
    momentum: ``μ`` in ``[0, 1]``, or None for no momentum (and no state).
    nesterov: use Nesterov's look-ahead form.
    accumulator_dtype: dtype of the momentum buffer; None keeps the params'.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> opt = gradtx.sgd(0.1, momentum=0.9)
    >>> params = jnp.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> for _ in range(2):
    ...   grads = jax.grad(lambda p: jnp.sum(p ** 2))(params)
    ...   updates, state = opt.update(grads, state)
    ...   params = gradtx.apply_updates(params, updates)
    >>> params
    Array([ 0.46, -0.92], dtype=float32)

  References:
    Polyak, *Some methods of speeding up the convergence of iteration
    methods*, 1964. Sutskever et al., *On the importance of initialization
    and momentum in deep learning*, ICML 2013.
  """
  return base.chain(
      momentum_or_identity(momentum, nesterov, accumulator_dtype),
      _scaling.scale_by_learning_rate(learning_rate),
  )


def noisy_sgd(
    learning_rate: base.ScalarOrSchedule,
    eta: float = 0.01,
    gamma: float = 0.55,
    key: Optional[Any] = None,
    *,
    seed: Optional[int] = None,
) -> base.GradientTransformationExtraArgs:
  r"""SGD on gradients with annealed Gaussian noise added.

  .. code-block:: text

    u = −η_t·(g + n),   n ~ N(0, eta / t^gamma),  t = 1, 2, ...

  That is ``chain(add_noise(eta, gamma, key), scale_by_learning_rate(η))``;
  see :func:`gradtx.add_noise`. With the same key the noise equals Optax's.

  Args:
    learning_rate: a constant ``η ≥ 0`` or a schedule.
    eta: the initial noise variance, ``≥ 0``.
    gamma: the decay exponent of the variance, ``≥ 0``.
    key: a PRNG key or an int seed (default 0).
    seed: alias of ``key`` for an int seed.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.noisy_sgd(0.1, eta=0.0)  # no noise: plain SGD
    >>> u, s = opt.update(jnp.ones(2), opt.init(jnp.zeros(2)))
    >>> u
    Array([-0.1, -0.1], dtype=float32)

  References:
    Neelakantan et al., *Adding Gradient Noise Improves Learning for Very
    Deep Networks*, 2015.
  """
  return base.chain(
      _decay.add_noise(eta, gamma, key, seed=seed),
      _scaling.scale_by_learning_rate(learning_rate),
  )


def sign_sgd(learning_rate: base.ScalarOrSchedule) -> base.GradientTransformationExtraArgs:
  r"""SGD on the signs of the gradient: ``u = −η_t·sign(g)``.

  That is ``chain(scale_by_sign(), scale_by_learning_rate(η))``.

  Args:
    learning_rate: a constant ``η ≥ 0`` or a schedule.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.sign_sgd(0.5)
    >>> opt.update(jnp.array([3.0, -1e-6]), opt.init(jnp.zeros(2)))[0]
    Array([-0.5,  0.5], dtype=float32)

  References:
    Bernstein et al., *signSGD: Compressed Optimisation for Non-Convex
    Problems*, ICML 2018.
  """
  return base.chain(
      _sign.scale_by_sign(), _scaling.scale_by_learning_rate(learning_rate)
  )


def signum(
    learning_rate: base.ScalarOrSchedule,
    beta: float = 0.9,
    accumulator_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Signum: SGD on the sign of a momentum (an EMA of the gradients).

  .. code-block:: text

    m ← β·m + (1 − β)·g   (m₀ = 0);   u = −η_t·sign(m)

  That is ``chain(ema(β, debias=False), scale_by_sign(),
  scale_by_learning_rate(η))``; debiasing would not change the sign.

  Args:
    learning_rate: a constant ``η ≥ 0`` or a schedule.
    beta: the EMA decay ``β`` in ``[0, 1)``.
    accumulator_dtype: dtype of the EMA; None keeps the params'.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.signum(0.1, beta=0.5)
    >>> s = opt.init(jnp.zeros(1))
    >>> u, s = opt.update(jnp.array([2.0]), s)    # m = 1
    >>> u, s = opt.update(jnp.array([-3.0]), s)   # m = 0.5·1 − 0.5·3 = −1
    >>> u
    Array([0.1], dtype=float32)

  References:
    Bernstein et al., *signSGD: Compressed Optimisation for Non-Convex
    Problems*, ICML 2018.
  """
  _checks.check_beta('beta', beta)
  return base.chain(
      _momentum.ema(beta, debias=False, accumulator_dtype=accumulator_dtype),
      _sign.scale_by_sign(),
      _scaling.scale_by_learning_rate(learning_rate),
  )
