r"""MXNet ``mx.lr_scheduler`` policies as pure schedules.

Each function is named after the MXNet class it reproduces, in snake case,
with the same arguments. ``f(n)`` equals the MXNet scheduler called with
``num_update = n``. MXNet's optimizers call it with the update count
*after* incrementing it, so their first update uses ``n = 1``; to replay an
MXNet run step for step, evaluate ``f(count + 1)`` (for example with
``lambda count: f(count + 1)``).

All four share MXNet's warmup: for ``n < warmup_steps`` the value is
``warmup_begin_lr + (base_lr - warmup_begin_lr) * n / warmup_steps``
(``warmup_mode='linear'``) or ``warmup_begin_lr`` (``'constant'``).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax.numpy as jnp
import numpy as np

from gradtx import base
from gradtx.schedules import _validation as v

__all__ = [
    'factor_scheduler', 'multi_factor_scheduler', 'poly_scheduler',
    'cosine_scheduler',
]


def _check_warmup(base_lr, warmup_steps, warmup_begin_lr, warmup_mode):
  v.check_steps('warmup_steps', warmup_steps, allow_zero=True)
  v.check_not_above('warmup_begin_lr', warmup_begin_lr, 'base_lr', base_lr)
  v.check_choice('warmup_mode', warmup_mode, ('linear', 'constant'))


def _with_warmup(after, base_lr, warmup_steps, warmup_begin_lr, warmup_mode):
  """Wraps ``after(n)`` with MXNet's warmup for ``n < warmup_steps``."""
  if warmup_steps == 0:
    return after

  def schedule(count):
    n = v.ratio(count, warmup_steps)
    if warmup_mode == 'linear':
      warm = warmup_begin_lr + (base_lr - warmup_begin_lr) * n
    else:
      warm = warmup_begin_lr + 0.0 * n
    return jnp.where(jnp.asarray(count) < warmup_steps, warm, after(count))

  return schedule


def _check_factor(factor):
  v.check_decay_rate('factor', factor)
  if factor > 1.0:
    raise ValueError(f'factor must be in [0, 1] to reduce the rate, got '
                     f'{factor!r}')


def factor_scheduler(step: int, factor: float = 1, stop_factor_lr: Any = 1e-8,
                     base_lr: Any = 0.01, warmup_steps: int = 0,
                     warmup_begin_lr: Any = 0, warmup_mode: str = 'linear'
                     ) -> base.Schedule:
  r"""Reduce by ``factor`` every ``step`` updates (MXNet ``FactorScheduler``).

  After the warmup, with :math:`k = \max(\lceil n/s\rceil - 1, 0)` (the rate
  changes once ``n`` passes each multiple of :math:`s`):

  .. math::
    f(n) = \begin{cases} \eta_0 & k = 0 \\
      \max(\eta_0\,\gamma^{k}, \eta_{stop}) & k \ge 1 \end{cases}

  Args:
    step: :math:`s` (> 0).
    factor: :math:`\gamma`, in [0, 1].
    stop_factor_lr: :math:`\eta_{stop}`, the floor.
    base_lr: :math:`\eta_0`.
    warmup_steps: see the module docstring.
    warmup_begin_lr: start of the warmup (<= ``base_lr``).
    warmup_mode: ``'linear'`` or ``'constant'``.

  Returns:
    A function of ``num_update``.

  Example:
    >>> import gradtx
    >>> f = gradtx.factor_scheduler(10, factor=0.5, base_lr=1.0)
    >>> print(f(10), f(11), f(21))
    1.0 0.5 0.25
  """
  v.check_steps('step', step)
  _check_factor(factor)
  _check_warmup(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)

  def after(count):
    # ceil(n / s) - 1 in integers for an integer n (exact at any step).
    k = jnp.maximum(-v.floor_ratio(-jnp.asarray(count), step) - 1, 0.0)
    lr = base_lr * v.power(factor, k)
    return jnp.where(k >= 1, jnp.maximum(lr, stop_factor_lr), lr)

  return _with_warmup(after, base_lr, warmup_steps, warmup_begin_lr,
                      warmup_mode)


def multi_factor_scheduler(step: Sequence[int], factor: float = 1,
                           base_lr: Any = 0.01, warmup_steps: int = 0,
                           warmup_begin_lr: Any = 0,
                           warmup_mode: str = 'linear') -> base.Schedule:
  r"""Reduce by ``factor`` after each listed step (MXNet ``MultiFactorScheduler``).

  .. math:: f(n) = \eta_0\,\gamma^{\#\{i:\ s_i < n\}}

  Args:
    step: strictly increasing steps :math:`s_i` (>= 1).
    factor: :math:`\gamma`, in [0, 1].
    base_lr: :math:`\eta_0`.
    warmup_steps: see the module docstring.
    warmup_begin_lr: start of the warmup (<= ``base_lr``).
    warmup_mode: ``'linear'`` or ``'constant'``.

  Returns:
    A function of ``num_update``.

  Example:
    >>> import gradtx
    >>> f = gradtx.multi_factor_scheduler([10, 20], factor=0.5, base_lr=1.0)
    >>> print(f(10), f(11), f(21))
    1.0 0.5 0.25
  """
  step = list(step)
  if not step:
    raise ValueError('step must list at least one step, got []')
  for i, s in enumerate(step):
    v.check_steps(f'step[{i}]', s)
  v.check_increasing('step', step)
  _check_factor(factor)
  _check_warmup(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
  marks = np.asarray(step, np.int32)

  def after(count):
    passed = jnp.sum(jnp.asarray(marks) < jnp.asarray(count)[..., None],
                     axis=-1)
    return base_lr * v.power(factor, passed)

  return _with_warmup(after, base_lr, warmup_steps, warmup_begin_lr,
                      warmup_mode)


def _check_horizon(max_update, warmup_steps, final_lr, base_lr):
  v.check_steps('max_update', max_update)
  v.check_warmup('warmup_steps', warmup_steps, 'max_update', max_update,
                 strict=True)
  v.check_not_above('final_lr', final_lr, 'base_lr', base_lr)


def poly_scheduler(max_update: int, base_lr: Any = 0.01, pwr: float = 2,
                   final_lr: Any = 0, warmup_steps: int = 0,
                   warmup_begin_lr: Any = 0, warmup_mode: str = 'linear'
                   ) -> base.Schedule:
  r"""Polynomial decay after warmup (MXNet ``PolyScheduler``).

  With :math:`W` = ``warmup_steps`` and :math:`M` = ``max_update``, for
  :math:`n \ge W`:

  .. math::
    f(n) = \eta_f + (\eta_0 - \eta_f)
    \bigl(1 - (\min(n, M) - W)/(M - W)\bigr)^{p}

  Args:
    max_update: :math:`M` (> ``warmup_steps``).
    base_lr: :math:`\eta_0`.
    pwr: :math:`p`.
    final_lr: :math:`\eta_f` (<= ``base_lr``).
    warmup_steps: :math:`W`, see the module docstring.
    warmup_begin_lr: start of the warmup (<= ``base_lr``).
    warmup_mode: ``'linear'`` or ``'constant'``.

  Returns:
    A function of ``num_update``.

  Example:
    >>> import gradtx
    >>> f = gradtx.poly_scheduler(110, base_lr=1.0, pwr=1, warmup_steps=10)
    >>> print(f(5), f(60), f(200))
    0.5 0.5 0.0
  """
  _check_horizon(max_update, warmup_steps, final_lr, base_lr)
  _check_warmup(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
  span = float(max_update - warmup_steps)

  def after(count):
    left = jnp.clip(-v.elapsed(count, max_update) / span, 0.0, 1.0)
    return final_lr + (base_lr - final_lr) * left**pwr

  return _with_warmup(after, base_lr, warmup_steps, warmup_begin_lr,
                      warmup_mode)


def cosine_scheduler(max_update: int, base_lr: Any = 0.01, final_lr: Any = 0,
                     warmup_steps: int = 0, warmup_begin_lr: Any = 0,
                     warmup_mode: str = 'linear') -> base.Schedule:
  r"""Cosine decay after warmup (MXNet ``CosineScheduler``).

  For :math:`n \ge W`:

  .. math::
    f(n) = \eta_f + (\eta_0 - \eta_f)
    \tfrac12\bigl(1 + \cos(\pi(\min(n, M) - W)/(M - W))\bigr)

  Args:
    max_update: :math:`M` (> ``warmup_steps``).
    base_lr: :math:`\eta_0`.
    final_lr: :math:`\eta_f` (<= ``base_lr``).
    warmup_steps: :math:`W`, see the module docstring.
    warmup_begin_lr: start of the warmup (<= ``base_lr``).
    warmup_mode: ``'linear'`` or ``'constant'``.

  Returns:
    A function of ``num_update``.

  Example:
    >>> import gradtx
    >>> f = gradtx.cosine_scheduler(110, base_lr=1.0, warmup_steps=10)
    >>> print(f(5), f(60), f(200))
    0.5 0.5 0.0
  """
  _check_horizon(max_update, warmup_steps, final_lr, base_lr)
  _check_warmup(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
  span = float(max_update - warmup_steps)

  def after(count):
    done = jnp.minimum(v.elapsed(count, warmup_steps), span)
    # (1 + cos x) / 2 as cos(x/2)**2: accurate near the end.
    return final_lr + (base_lr - final_lr) * jnp.cos(
        0.5 * math.pi * done / span)**2

  return _with_warmup(after, base_lr, warmup_steps, warmup_begin_lr,
                      warmup_mode)
