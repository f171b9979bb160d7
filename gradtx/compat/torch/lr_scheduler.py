"""``torch.optim.lr_scheduler`` under PyTorch's class names.

A PyTorch scheduler takes the optimizer and rewrites its ``lr``; here each
takes the optimizer's initial learning rate ``lr`` in the optimizer's place
and returns a schedule, a pure function of the step, to pass as the ``lr`` of
an optimizer in :mod:`gradtx.compat.torch.optim`. ``f(t)`` is the learning
rate PyTorch uses for update ``t`` (counting from 0) when
``scheduler.step()`` is called once after every ``optimizer.step()``.

``StepLR`` ... ``CyclicLR``, ``OneCycleLR`` are the closed forms in
:mod:`gradtx.schedules.torch`; ``ConstantLR``, ``LambdaLR``,
``MultiplicativeLR``, ``SequentialLR``, ``ChainedScheduler`` and the momentum
cycling of ``CyclicLR`` / ``OneCycleLR`` are defined here. ``CyclicLR`` and
``OneCycleLR`` return a :class:`CycleSchedule`: call it for the learning
rate and pass its ``momentum`` as the optimizer's ``momentum`` (SGD, RMSprop)
or ``betas[0]`` (Adam family), as PyTorch's ``cycle_momentum=True`` does.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx.schedules import _validation as v
from gradtx.schedules import basic as _basic
from gradtx.schedules import torch as _torch

__all__ = ['StepLR', 'MultiStepLR', 'ExponentialLR', 'LinearLR', 'PolynomialLR',
           'CosineAnnealingLR', 'CosineAnnealingWarmRestarts', 'ConstantLR',
           'LambdaLR', 'MultiplicativeLR', 'SequentialLR', 'ChainedScheduler',
           'CycleSchedule', 'CyclicLR', 'OneCycleLR']

# Closed forms shared with gradtx.schedules (first argument: the initial lr).
StepLR = _torch.step_lr
MultiStepLR = _torch.multi_step_lr
ExponentialLR = _torch.exponential_lr
LinearLR = _torch.linear_lr
PolynomialLR = _torch.polynomial_lr
CosineAnnealingLR = _torch.cosine_annealing_lr
CosineAnnealingWarmRestarts = _torch.cosine_annealing_warm_restarts


def ConstantLR(lr: Any, factor: float = 1.0 / 3,  # pylint: disable=invalid-name
               total_iters: int = 5) -> base.Schedule:
  r"""``ConstantLR``: ``lr·factor`` for the first ``total_iters`` steps.

  .. math:: f(t) = \eta_0 \cdot (\text{factor if } t < T \text{ else } 1)

  Args:
    lr: the initial learning rate :math:`\eta_0`.
    factor: in ``[0, 1]``.
    total_iters: :math:`T \ge 0`.

  Returns:
    A function of the step count.

  Example:
    >>> from gradtx.compat.torch.lr_scheduler import ConstantLR
    >>> f = ConstantLR(1.0, factor=0.5, total_iters=2)
    >>> print(f(1), f(2))
    0.5 1.0

  References:
    ``torch.optim.lr_scheduler.ConstantLR``.
  """
  _checks.check_unit_interval('factor', factor)
  v.check_steps('total_iters', total_iters, allow_zero=True)
  return lambda count: lr * jnp.where(jnp.asarray(count) < total_iters,
                                      jnp.float32(factor), jnp.float32(1.0))


def LambdaLR(lr: Any, lr_lambda: Callable[[Any], Any]) -> base.Schedule:  # pylint: disable=invalid-name
  r"""``LambdaLR``: ``f(t) = lr·λ(t)``.

  Args:
    lr: the initial learning rate.
    lr_lambda: a jnp function of the step (an int32 array).

  Returns:
    A function of the step count.

  Example:
    >>> from gradtx.compat.torch.lr_scheduler import LambdaLR
    >>> print(LambdaLR(2.0, lambda t: 0.5 ** t)(3))
    0.25

  References:
    ``torch.optim.lr_scheduler.LambdaLR``.
  """
  if not callable(lr_lambda):
    raise ValueError(f'lr_lambda must be a function of the step, got {lr_lambda!r}')
  return lambda count: lr * lr_lambda(count)


def MultiplicativeLR(lr: Any, lr_lambda: Callable[[Any], Any]) -> base.Schedule:  # pylint: disable=invalid-name
  r"""``MultiplicativeLR``: ``f(t) = f(t − 1)·λ(t)``, so ``lr·λ(1)⋯λ(t)``.

  The product is a loop of ``t`` steps (a ``lax.fori_loop``), so each call
  costs ``O(t)``; prefer a closed form (:func:`LambdaLR`) for long runs.

  Args:
    lr: the initial learning rate.
    lr_lambda: a jnp function of the step (an int32 array).

  Returns:
    A function of the step count.

  Example:
    >>> from gradtx.compat.torch.lr_scheduler import MultiplicativeLR
    >>> print(MultiplicativeLR(1.0, lambda t: 0.5)(3))
    0.125

  References:
    ``torch.optim.lr_scheduler.MultiplicativeLR``.
  """
  if not callable(lr_lambda):
    raise ValueError(f'lr_lambda must be a function of the step, got {lr_lambda!r}')

  def schedule(count):
    count = jnp.asarray(count, jnp.int32)

    def one(c):
      return jax.lax.fori_loop(
          1, c + 1,
          lambda k, acc: acc * jnp.asarray(lr_lambda(k), jnp.float32),
          jnp.ones([], jnp.float32))

    prod = one(count) if count.ndim == 0 else jax.vmap(one)(count.ravel()).reshape(count.shape)
    return lr * prod

  return schedule


def SequentialLR(schedulers: Sequence[base.Schedule],  # pylint: disable=invalid-name
                 milestones: Sequence[int]) -> base.Schedule:
  r"""``SequentialLR``: scheduler ``k`` from milestone ``k − 1`` on.

  .. math:: f(t) = f_k(t - m_{k-1}) \quad (m_{k-1} \le t < m_k)

  This is :func:`gradtx.join_schedules`. Build every scheduler with the same
  initial ``lr``, as PyTorch's share one optimizer.

  Args:
    schedulers: ``K`` schedules.
    milestones: ``K − 1`` increasing steps.

  Returns:
    A function of the step count.

  Example:
    >>> from gradtx.compat.torch.lr_scheduler import (
    ...     ConstantLR, ExponentialLR, SequentialLR)
    >>> f = SequentialLR([ConstantLR(1.0, 0.1, 2), ExponentialLR(1.0, 0.5)], [2])
    >>> print(f(1), f(2), f(3))
    0.1 1.0 0.5

  References:
    ``torch.optim.lr_scheduler.SequentialLR``.
  """
  return _basic.join_schedules(schedulers, milestones)


def ChainedScheduler(schedulers: Sequence[base.Schedule],  # pylint: disable=invalid-name
                     lr: Any) -> base.Schedule:
  r"""``ChainedScheduler``: every scheduler's factor at once.

  .. math:: f(t) = \eta_0 \prod_k f_k(t)/\eta_0

  This equals PyTorch's chain for the schedulers whose step multiplies the
  current learning rate by a factor (``StepLR``, ``MultiStepLR``,
  ``ConstantLR``, ``LinearLR``, ``ExponentialLR``, ``PolynomialLR``,
  ``MultiplicativeLR``); chaining those that set the rate outright
  (``LambdaLR``, the cosine and cyclic ones) behaves differently in PyTorch.

  Args:
    schedulers: schedules built with the same initial ``lr``.
    lr: that initial learning rate :math:`\eta_0 > 0`.

  Returns:
    A function of the step count.

  Example:
    >>> from gradtx.compat.torch.lr_scheduler import (
    ...     ChainedScheduler, ConstantLR, ExponentialLR)
    >>> f = ChainedScheduler([ConstantLR(1.0, 0.1, 2), ExponentialLR(1.0, 0.5)], 1.0)
    >>> print(f(1), f(2))
    0.05 0.25

  References:
    ``torch.optim.lr_scheduler.ChainedScheduler``.
  """
  schedulers = list(schedulers)
  if not schedulers:
    raise ValueError('schedulers must hold at least one schedule, got none')
  _checks.check_positive('lr', lr)

  def schedule(count):
    out = schedulers[0](count)
    for s in schedulers[1:]:
      out = out * (s(count) / lr)
    return out

  return schedule


class CycleSchedule(NamedTuple):
  """A cyclic learning rate with its momentum: call it for the rate."""

  lr: base.Schedule  # the learning-rate schedule.
  momentum: Optional[base.Schedule]  # the cycled momentum (β₁), or None.

  def __call__(self, count):
    return self.lr(count)


def CyclicLR(  # pylint: disable=invalid-name
    base_lr: Any,
    max_lr: Any,
    step_size_up: int = 2000,
    step_size_down: Optional[int] = None,
    mode: str = 'triangular',
    gamma: float = 1.0,
    scale_fn: Optional[Callable[[Any], Any]] = None,
    scale_mode: str = 'cycle',
    cycle_momentum: bool = True,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
) -> CycleSchedule:
  r"""``CyclicLR``, with its momentum cycling.

  The rate is :func:`gradtx.cyclic_lr`; with ``cycle_momentum`` the momentum
  moves the other way, between the same points:

  .. math:: \mu(t) = \mu_{max} - (\mu_{max} - \mu_{base})\,h(t)\,g(\cdot)

  where :math:`\eta(t) = \eta_{base} + (\eta_{max} - \eta_{base})h(t)g(\cdot)`.

  Args:
    base_lr: as in :func:`gradtx.cyclic_lr`.
    max_lr: as in :func:`gradtx.cyclic_lr`.
    step_size_up: as in :func:`gradtx.cyclic_lr`.
    step_size_down: as in :func:`gradtx.cyclic_lr`.
    mode: as in :func:`gradtx.cyclic_lr`.
    gamma: as in :func:`gradtx.cyclic_lr`.
    scale_fn: as in :func:`gradtx.cyclic_lr`.
    scale_mode: as in :func:`gradtx.cyclic_lr`.
    cycle_momentum: also return the momentum schedule.
    base_momentum: the momentum at the top of the rate.
    max_momentum: the momentum at the bottom of the rate.

  Returns:
    A :class:`CycleSchedule`; pass ``.momentum`` as ``momentum`` or
    ``betas[0]``.

  Example:
    >>> from gradtx.compat.torch.lr_scheduler import CyclicLR
    >>> s = CyclicLR(0.0, 1.0, step_size_up=2)
    >>> print(s(1), s.momentum(1))
    0.5 0.85

  References:
    ``torch.optim.lr_scheduler.CyclicLR``.
  """
  args = dict(step_size_up=step_size_up, step_size_down=step_size_down,
              mode=mode, gamma=gamma, scale_fn=scale_fn, scale_mode=scale_mode)
  rate = _torch.cyclic_lr(base_lr, max_lr, **args)
  if not cycle_momentum:
    return CycleSchedule(rate, None)
  _checks.check_unit_interval('base_momentum', base_momentum)
  _checks.check_unit_interval('max_momentum', max_momentum)
  mirror = _torch.cyclic_lr(base_momentum, max_momentum, **args)
  return CycleSchedule(
      rate, lambda count: base_momentum + max_momentum - mirror(count))


def OneCycleLR(  # pylint: disable=invalid-name
    max_lr: Any,
    total_steps: Optional[int] = None,
    epochs: Optional[int] = None,
    steps_per_epoch: Optional[int] = None,
    pct_start: float = 0.3,
    anneal_strategy: str = 'cos',
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> CycleSchedule:
  r"""``OneCycleLR``, with its momentum cycling.

  The rate is :func:`gradtx.one_cycle_lr`. The momentum goes from
  ``max_momentum`` to ``base_momentum`` while the rate rises and back while
  it falls (three phases: down, up, then constant), with the same annealing.

  .. code-block:: text

    lr(t) = one_cycle_lr(max_lr, ...)(t)
    momentum(t) = max_momentum + (base_momentum − max_momentum) · a(t)   (rising phase)
    momentum(t) = base_momentum + (max_momentum − base_momentum) · a(t)  (falling phase)

  where ``a(t)`` goes from 0 to 1 over each phase (cosine or linear).

  Args:
    max_lr: the peak learning rate.
    total_steps: the number of steps; or give ``epochs`` and
      ``steps_per_epoch``.
    epochs: with ``steps_per_epoch``, ``total_steps = epochs·steps_per_epoch``.
    steps_per_epoch: see ``epochs``.
    pct_start, anneal_strategy, div_factor, final_div_factor, three_phase: as
      :func:`gradtx.one_cycle_lr`.
    cycle_momentum: also return the momentum schedule.
    base_momentum: the momentum at the peak rate.
    max_momentum: the momentum at the start.

  Returns:
    A :class:`CycleSchedule`; pass ``.momentum`` as ``momentum`` or
    ``betas[0]``.

  Example:
    >>> from gradtx.compat.torch.lr_scheduler import OneCycleLR
    >>> s = OneCycleLR(1.0, total_steps=11, pct_start=0.5, div_factor=2.0)
    >>> print(s(0), s.momentum(0), s(4), s.momentum(4))
    0.5 0.95 1.0 0.85

  References:
    ``torch.optim.lr_scheduler.OneCycleLR``.
  """
  if total_steps is None:
    if epochs is None or steps_per_epoch is None:
      raise ValueError(
          'OneCycleLR needs total_steps, or both epochs and steps_per_epoch; '
          f'got total_steps=None, epochs={epochs!r}, '
          f'steps_per_epoch={steps_per_epoch!r}')
    v.check_steps('epochs', epochs)
    v.check_steps('steps_per_epoch', steps_per_epoch)
    total_steps = epochs * steps_per_epoch
  common = dict(total_steps=total_steps, pct_start=pct_start,
                anneal_strategy=anneal_strategy, three_phase=three_phase)
  rate = _torch.one_cycle_lr(max_lr, div_factor=div_factor,
                             final_div_factor=final_div_factor, **common)
  if not cycle_momentum:
    return CycleSchedule(rate, None)
  _checks.check_unit_interval('base_momentum', base_momentum)
  _checks.check_unit_interval('max_momentum', max_momentum)
  # The same phases from 1 up to 2 and back to 1 (div_factor 2, no final
  # division): 0 → 1 → 0 is where the momentum leaves max for base and back.
  unit = _torch.one_cycle_lr(2.0, div_factor=2.0, final_div_factor=1.0,
                             **common)
  return CycleSchedule(
      rate, lambda count: max_momentum
      - (max_momentum - base_momentum) * (unit(count) - 1.0))
