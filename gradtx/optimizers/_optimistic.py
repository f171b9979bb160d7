"""Optimistic optimizers for min-max games: OGD and optimistic Adam."""

from __future__ import annotations

from typing import Any, Optional
import warnings

from gradtx import base
from gradtx.transforms import adam as _adam
from gradtx.transforms import optimistic as _optimistic
from gradtx.transforms import scaling as _scaling


def optimistic_gradient_descent(
    learning_rate: base.ScalarOrSchedule,
    alpha: float = 1.0,
    beta: float = 1.0,
) -> base.GradientTransformationExtraArgs:
  """Optimistic gradient descent: ``u_t = −η_t·((α + β)·g_t − β·g_{t−1})``.

  ``chain(scale_by_optimistic_gradient(alpha, beta),
  scale_by_learning_rate(learning_rate))``. The correction ``−β·(g_t −
  g_{t−1})`` approximates the extra-gradient step, which converges in the last
  iterate on bilinear games where plain gradient descent-ascent cycles.

  Args:
    learning_rate: a constant or a schedule.
    alpha: weight of the current gradient (a number).
    beta: weight of the gradient change (a number).

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> # min over x, max over y of x·y: descend in x, ascend in y.
    >>> opt = gradtx.optimistic_gradient_descent(0.1)
    >>> params = (jnp.array(1.0), jnp.array(2.0))
    >>> state = opt.init(params)
    >>> @jax.jit
    ... def step(params, state):
    ...   gx, gy = jax.grad(lambda x, y: x * y, argnums=(0, 1))(*params)
    ...   updates, state = opt.update((gx, -gy), state, params)
    ...   return gradtx.apply_updates(params, updates), state
    >>> for _ in range(300):
    ...   params, state = step(params, state)
    >>> print(f'{float(jnp.hypot(*params)):.2f}')  # spirals in from 2.24
    0.49

  References:
    Daskalakis et al., *Training GANs with Optimism*, ICLR 2018.
    Mokhtari et al., *A Unified Analysis of Extra-gradient and Optimistic
    Gradient Methods for Saddle Point Problems*, AISTATS 2020.
  """
  return base.chain(
      _optimistic.scale_by_optimistic_gradient(alpha=alpha, beta=beta),
      _scaling.scale_by_learning_rate(learning_rate),
  )


def optimistic_adam_v2(
    learning_rate: base.ScalarOrSchedule,
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    nesterov: bool = True,
) -> base.GradientTransformationExtraArgs:
  """Optimistic Adam: the optimistic correction applied to Adam's direction.

  ``a_t = scale_by_adam(...)(g_t)`` (Nesterov by default), then
  ``u_t = −η_t·((α + β)·a_t − β·a_{t−1})``; that is
  ``chain(scale_by_adam, scale_by_optimistic_gradient(alpha, beta),
  scale_by_learning_rate(learning_rate))``.

  Args:
    learning_rate: a constant or a schedule.
    alpha: weight of the current direction (a number).
    beta: weight of the direction's change (a number).
    b1, b2, eps, eps_root, mu_dtype, nesterov: see
      :func:`gradtx.scale_by_adam` (``nesterov=True`` by default here).

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> opt = gradtx.optimistic_adam_v2(1.0, alpha=1e-2, beta=1.0)
    >>> params = (jnp.array(1.0), jnp.array(2.0))
    >>> state = opt.init(params)
    >>> @jax.jit
    ... def step(params, state):
    ...   gx, gy = jax.grad(lambda x, y: x * y, argnums=(0, 1))(*params)
    ...   updates, state = opt.update((gx, -gy), state, params)
    ...   return gradtx.apply_updates(params, updates), state
    >>> for _ in range(1000):
    ...   params, state = step(params, state)
    >>> float(jnp.hypot(*params)) < 0.1  # from 2.24
    True

  References:
    Daskalakis et al., *Training GANs with Optimism*, ICLR 2018.
  """
  return base.chain(
      _adam.scale_by_adam(b1=b1, b2=b2, eps=eps, eps_root=eps_root,
                          mu_dtype=mu_dtype, nesterov=nesterov),
      _optimistic.scale_by_optimistic_gradient(alpha=alpha, beta=beta),
      _scaling.scale_by_learning_rate(learning_rate),
  )


def optimistic_adam(
    learning_rate: float,
    optimism: Optional[float] = None,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    *,
    nesterov: bool = True,
) -> base.GradientTransformationExtraArgs:
  """Optimistic Adam, Optax's first form (deprecated: use :func:`optimistic_adam_v2`).

  ``u_t = −((η + o)·a_t − o·a_{t−1})`` with ``a_t`` Adam's direction and
  ``o = optimism`` (``η`` when None): ``optimistic_adam_v2(1.0, alpha=η,
  beta=o, ...)``. Emits a ``DeprecationWarning``, as Optax does.

  Args:
    learning_rate: ``η``, a number (schedules are refused, as in Optax).
    optimism: ``o``; None means ``η``.
    b1, b2, eps, eps_root, mu_dtype, nesterov: see
      :func:`gradtx.scale_by_adam`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import warnings, jax.numpy as jnp, gradtx
    >>> with warnings.catch_warnings():
    ...   warnings.simplefilter('ignore', DeprecationWarning)
    ...   opt = gradtx.optimistic_adam(1e-2, 1.0)
    >>> u, _ = opt.update(jnp.ones(2), opt.init(jnp.zeros(2)))
    >>> u  # first step: −η·a_0 with a_0 = Nesterov-Adam of g ≈ 1
    Array([-0.01, -0.01], dtype=float32)

  References:
    Daskalakis et al., *Training GANs with Optimism*, ICLR 2018.
  """
  warnings.warn('`optimistic_adam` is deprecated, please use'
                ' `optimistic_adam_v2` instead.', category=DeprecationWarning,
                stacklevel=2)
  if callable(learning_rate):
    raise ValueError(
        'optimistic_adam takes a constant learning_rate; use '
        'optimistic_adam_v2 for a schedule, got {learning_rate!r}'
    )
  return base.chain(
      _adam.scale_by_adam(b1=b1, b2=b2, eps=eps, eps_root=eps_root,
                          mu_dtype=mu_dtype, nesterov=nesterov),
      _optimistic.scale_by_optimistic_gradient(
          alpha=learning_rate,
          beta=learning_rate if optimism is None else optimism),
      _scaling.scale_by_learning_rate(1.0),
  )
