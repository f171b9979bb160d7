"""PyTorch ``torch.optim.lr_scheduler`` policies as pure schedules.

Each function is named after the PyTorch class it reproduces, in snake case,
and takes the same arguments, with the optimizer's initial learning rate as
the first argument. ``f(t)`` is the learning rate PyTorch's optimizer uses
after ``t`` calls of ``scheduler.step()`` (``get_last_lr()`` at that point),
which is the learning rate gradtx uses for update number ``t`` (counting from
0). PyTorch updates most of these recursively in float64; here they are
closed forms in float32, equal to about 1e-7 relative.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import jax.numpy as jnp
import numpy as np

from gradtx import _checks
from gradtx import base
from gradtx.schedules import _validation as v

__all__ = [
    'step_lr', 'multi_step_lr', 'exponential_lr', 'linear_lr',
    'polynomial_lr', 'cosine_annealing_lr', 'cosine_annealing_warm_restarts',
    'cyclic_lr', 'one_cycle_lr',
]


def step_lr(learning_rate: Any, step_size: int,
            gamma: float = 0.1) -> base.Schedule:
  r"""Decays by ``gamma`` every ``step_size`` steps (PyTorch ``StepLR``).

  .. math:: f(t) = \eta_0\,\gamma^{\lfloor t / s \rfloor}

  Args:
    learning_rate: :math:`\eta_0`.
    step_size: :math:`s` (> 0).
    gamma: the factor (>= 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.step_lr(1.0, step_size=10, gamma=0.5)
    >>> print(f(9), f(10), f(25))
    1.0 0.5 0.25
  """
  v.check_steps('step_size', step_size)
  v.check_decay_rate('gamma', gamma)

  def schedule(count):
    return learning_rate * v.power(gamma, jnp.floor_divide(count, step_size))

  return schedule


def multi_step_lr(learning_rate: Any, milestones: Sequence[int],
                  gamma: float = 0.1) -> base.Schedule:
  r"""Decays by ``gamma`` at each milestone (PyTorch ``MultiStepLR``).

  .. math:: f(t) = \eta_0\,\gamma^{\#\{i:\ m_i \le t\}}

  A milestone listed twice decays twice, as in PyTorch.

  Args:
    learning_rate: :math:`\eta_0`.
    milestones: non-decreasing steps :math:`m_i` (>= 0).
    gamma: the factor (>= 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.multi_step_lr(1.0, milestones=[10, 20], gamma=0.5)
    >>> print(f(9), f(10), f(20))
    1.0 0.5 0.25
  """
  milestones = list(milestones)
  for i, m in enumerate(milestones):
    v.check_steps(f'milestones[{i}]', m, allow_zero=True)
  v.check_increasing('milestones', milestones, strict=False)
  v.check_decay_rate('gamma', gamma)
  marks = np.asarray(milestones, np.int32)

  def schedule(count):
    passed = jnp.sum(jnp.asarray(marks) <= jnp.asarray(count)[..., None],
                     axis=-1)
    return learning_rate * v.power(gamma, passed)

  return schedule


def exponential_lr(learning_rate: Any, gamma: float) -> base.Schedule:
  r"""Multiplies by ``gamma`` every step (PyTorch ``ExponentialLR``).

  .. math:: f(t) = \eta_0\,\gamma^{t}

  Args:
    learning_rate: :math:`\eta_0`.
    gamma: the factor (>= 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> print(gradtx.exponential_lr(1.0, gamma=0.5)(3))
    0.125
  """
  v.check_decay_rate('gamma', gamma)
  return lambda count: learning_rate * v.power(gamma, v.as_float(count))


def linear_lr(learning_rate: Any, start_factor: float = 1.0 / 3,
              end_factor: float = 1.0, total_iters: int = 5) -> base.Schedule:
  r"""Linear change of a multiplicative factor (PyTorch ``LinearLR``).

  .. math:: f(t) = \eta_0\bigl(a + (b - a)\min(t, T)/T\bigr)

  Args:
    learning_rate: :math:`\eta_0`.
    start_factor: :math:`a`, in (0, 1].
    end_factor: :math:`b`, in [0, 1].
    total_iters: :math:`T` (> 0).

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.linear_lr(1.0, start_factor=0.5, total_iters=5)
    >>> print(f(0), f(5))
    0.5 1.0
  """
  _checks.check_range('start_factor', start_factor, 0.0, 1.0,
                      low_inclusive=False)
  _checks.check_unit_interval('end_factor', end_factor)
  v.check_steps('total_iters', total_iters)

  def schedule(count):
    left = v.remaining(count, total_iters)
    return learning_rate * (end_factor - (end_factor - start_factor) * left)

  return schedule


def polynomial_lr(learning_rate: Any, total_iters: int = 5,
                  power: float = 1.0) -> base.Schedule:
  r"""Polynomial decay to zero (PyTorch ``PolynomialLR``).

  .. math:: f(t) = \eta_0\,(1 - \min(t, T)/T)^{p}

  Args:
    learning_rate: :math:`\eta_0`.
    total_iters: :math:`T` (> 0).
    power: :math:`p`.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> print(gradtx.polynomial_lr(1.0, total_iters=4, power=2.0)(2))
    0.25
  """
  v.check_steps('total_iters', total_iters)

  def schedule(count):
    left = v.remaining(count, total_iters)
    return learning_rate * left**power

  return schedule


def _cosine(eta_max, eta_min, left, period):
  # (1 + cos(pi t/T)) / 2 as sin(pi (T - t)/(2T))**2, with the steps left
  # T - t counted exactly in integers: accurate to a few ulps near the
  # minimum, where 1 + cos(.) or cos(.)**2 lose most of their digits.
  return eta_min + (eta_max - eta_min) * jnp.sin(
      0.5 * jnp.pi * (left / period))**2


def cosine_annealing_lr(learning_rate: Any, T_max: int,  # pylint: disable=invalid-name
                        eta_min: Any = 0.0) -> base.Schedule:
  r"""Cosine annealing (PyTorch ``CosineAnnealingLR``).

  .. math::
    f(t) = \eta_{min} + (\eta_0 - \eta_{min})\,\tfrac12(1 + \cos(\pi t/T))

  Past :math:`T` the cosine continues and the value rises again, as
  PyTorch's does.

  Args:
    learning_rate: :math:`\eta_0`.
    T_max: :math:`T`, half the period (> 0).
    eta_min: the minimum.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.cosine_annealing_lr(1.0, T_max=10)
    >>> print(f(5), f(10))
    0.5 0.0
  """
  v.check_steps('T_max', T_max)
  # The cosine has period 2 T_max: reduce the step exactly first.
  return lambda count: _cosine(
      learning_rate, eta_min,
      -v.elapsed(jnp.remainder(count, 2 * T_max), T_max), float(T_max))


def cosine_annealing_warm_restarts(learning_rate: Any, T_0: int,  # pylint: disable=invalid-name
                                   T_mult: int = 1,  # pylint: disable=invalid-name
                                   eta_min: Any = 0.0) -> base.Schedule:
  r"""Cosine annealing with warm restarts (PyTorch ``CosineAnnealingWarmRestarts``).

  Cycle :math:`i` lasts :math:`T_i = T_0 T_{mult}^i` steps; with
  :math:`t_i` the steps since its start,

  .. math::
    f(t) = \eta_{min} + (\eta_0 - \eta_{min})\,\tfrac12(1 + \cos(\pi t_i/T_i))

  The cycle of a step is found exactly, in integers, for every int32 step.

  Args:
    learning_rate: :math:`\eta_0`.
    T_0: length of the first cycle (> 0).
    T_mult: growth of the cycle length (an integer >= 1).
    eta_min: the minimum.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.cosine_annealing_warm_restarts(1.0, T_0=10, T_mult=2)
    >>> print(f(5), f(10), f(20))
    0.5 1.0 0.5

  References:
    Loshchilov & Hutter, SGDR: Stochastic Gradient Descent with Warm
    Restarts, 2017. https://arxiv.org/abs/1608.03983
  """
  v.check_steps('T_0', T_0)
  _checks.check_int('T_mult', T_mult, low=1)
  if T_mult == 1:

    def periodic(count):
      t_cur = jnp.remainder(count, T_0)
      return _cosine(learning_rate, eta_min, -v.elapsed(t_cur, T_0),
                     float(T_0))

    return periodic
  # Cycle starts and ends, exactly, up to the int32 range (the end of the
  # last cycle is clipped to it: no int32 step reaches it).
  starts, ends, lengths, start, length = [], [], [], 0, T_0
  while start < 2**31 - 1:
    starts.append(start)
    ends.append(min(start + length, 2**31 - 1))
    lengths.append(float(length))
    start += length
    length *= T_mult
  starts_np = np.asarray(starts, np.int32)
  ends_np = np.asarray(ends, np.int32)
  lengths_np = np.asarray(lengths, np.float32)

  def schedule(count):
    count = jnp.asarray(count)
    i = jnp.searchsorted(jnp.asarray(starts_np, jnp.int32), count,
                         side='right') - 1
    i = jnp.maximum(i, 0)
    ends = jnp.asarray(ends_np, jnp.int32)[i]
    period = jnp.asarray(lengths_np, jnp.float32)[i]
    return _cosine(learning_rate, eta_min, v.elapsed(ends - count), period)

  return schedule


def cyclic_lr(
    base_lr: Any,
    max_lr: Any,
    step_size_up: int = 2000,
    step_size_down: Optional[int] = None,
    mode: str = 'triangular',
    gamma: float = 1.0,
    scale_fn: Optional[Callable[[Any], Any]] = None,
    scale_mode: str = 'cycle',
) -> base.Schedule:
  r"""Cyclical learning rate (PyTorch ``CyclicLR``).

  With :math:`L` = up + down, :math:`r` = up / :math:`L`,
  :math:`c = \lfloor 1 + t/L\rfloor` and :math:`x = 1 + t/L - c`:

  .. math::
    f(t) = \eta_{base} + (\eta_{max} - \eta_{base})\,h(x)\,g(\cdot),\quad
    h(x) = \begin{cases} x/r & x \le r \\ (x - 1)/(r - 1) & x > r\end{cases}

  where :math:`g(c) = 1` (``'triangular'``), :math:`g(c) = 2^{1-c}`
  (``'triangular2'``), :math:`g(t) = \gamma^{t}` (``'exp_range'``), or a
  custom ``scale_fn`` of the cycle (``scale_mode='cycle'``) or of the step
  (``'iterations'``).

  Args:
    base_lr: the lower bound.
    max_lr: the upper bound of the first cycle.
    step_size_up: steps rising (> 0).
    step_size_down: steps falling (defaults to ``step_size_up``).
    mode: ``'triangular'``, ``'triangular2'`` or ``'exp_range'``.
    gamma: the factor of ``'exp_range'``.
    scale_fn: a jnp function replacing ``mode``'s scale.
    scale_mode: ``'cycle'`` or ``'iterations'``, the argument of ``scale_fn``.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.cyclic_lr(0.0, 1.0, step_size_up=10, mode='triangular2')
    >>> print(f(5), f(10), f(30))
    0.5 1.0 0.5

  References:
    Smith, Cyclical Learning Rates for Training Neural Networks, 2017.
    https://arxiv.org/abs/1506.01186
  """
  v.check_steps('step_size_up', step_size_up)
  if step_size_down is None:
    step_size_down = step_size_up
  v.check_steps('step_size_down', step_size_down, allow_zero=True)
  if scale_fn is None:
    v.check_choice('mode', mode, ('triangular', 'triangular2', 'exp_range'))
    v.check_decay_rate('gamma', gamma)
    if mode == 'triangular':
      scale_fn, scale_mode = (lambda c: 1.0), 'cycle'
    elif mode == 'triangular2':
      scale_fn, scale_mode = (lambda c: 1 / (2.0**(c - 1))), 'cycle'
    else:
      scale_fn, scale_mode = (lambda t: v.power(gamma, t)), 'iterations'
  else:
    v.check_choice('scale_mode', scale_mode, ('cycle', 'iterations'))
  up, down = step_size_up, step_size_down
  total = up + down

  def schedule(count):
    # In integers: cycle = floor(1 + t/L), and x*L = t mod L exactly.
    count = jnp.asarray(count)
    cycle = v.as_float(jnp.floor_divide(count, total) + 1)
    r = v.as_float(jnp.remainder(count, total))
    if down > 0:
      height = jnp.where(r <= up, r / up, (total - r) / max(down, 1))
    else:
      height = r / up
    scale = scale_fn(cycle if scale_mode == 'cycle' else v.as_float(count))
    return base_lr + (max_lr - base_lr) * height * scale

  return schedule


def one_cycle_lr(
    max_lr: Any,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = 'cos',
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> base.Schedule:
  r"""The one-cycle policy (PyTorch ``OneCycleLR``).

  With :math:`\eta_i = \eta_{max}/d` and :math:`\eta_{min} = \eta_i/d_f`,
  the phases are (each annealed by ``anneal_strategy`` between its end
  points, :math:`a` = ``pct_start``, :math:`T` = ``total_steps``):

  * two phases: :math:`\eta_i \to \eta_{max}` on :math:`[0, aT - 1]`,
    :math:`\eta_{max} \to \eta_{min}` on :math:`[aT - 1, T - 1]`;
  * ``three_phase``: :math:`\eta_i \to \eta_{max}` on :math:`[0, aT - 1]`,
    :math:`\eta_{max} \to \eta_i` on :math:`[aT - 1, 2aT - 2]`,
    :math:`\eta_i \to \eta_{min}` on :math:`[2aT - 2, T - 1]`.

  ``'cos'`` anneals as :math:`e + (s - e)(1 + \cos\pi p)/2`, ``'linear'`` as
  :math:`s + (e - s)p`. PyTorch raises past step :math:`T`; here the value
  stays at :math:`\eta_{min}`. Momentum cycling is not part of a schedule.

  Args:
    max_lr: :math:`\eta_{max}`.
    total_steps: :math:`T` (> 0).
    pct_start: :math:`a`, in [0, 1].
    anneal_strategy: ``'cos'`` or ``'linear'``.
    div_factor: :math:`d`.
    final_div_factor: :math:`d_f`.
    three_phase: use the three-phase form.

  Returns:
    A function of the step count.

  Example:
    >>> import gradtx
    >>> f = gradtx.one_cycle_lr(1.0, total_steps=100, pct_start=0.5,
    ...                         div_factor=2.0, final_div_factor=10.0)
    >>> print(f(0), f(49), f(99))
    0.5 1.0 0.05

  References:
    Smith & Topin, Super-Convergence: Very Fast Training of Neural
    Networks Using Large Learning Rates, 2017.
    https://arxiv.org/abs/1708.07120
  """
  v.check_steps('total_steps', total_steps)
  _checks.check_unit_interval('pct_start', pct_start)
  v.check_choice('anneal_strategy', anneal_strategy, ('cos', 'linear'))
  initial = max_lr / div_factor
  minimum = initial / final_div_factor
  first_end = float(pct_start * total_steps) - 1
  if three_phase:
    phases = [(first_end, initial, max_lr),
              (float(2 * pct_start * total_steps) - 2, max_lr, initial),
              (total_steps - 1, initial, minimum)]
  else:
    phases = [(first_end, initial, max_lr), (total_steps - 1, max_lr, minimum)]
  if anneal_strategy == 'cos':
    anneal = lambda s, e, p: e + (s - e) / 2.0 * (jnp.cos(jnp.pi * p) + 1)
  else:
    anneal = lambda s, e, p: (e - s) * p + s

  def schedule(count):
    t = v.as_float(count)
    out, start, done = None, 0.0, jnp.zeros(jnp.shape(t), bool)
    for i, (end, lo, hi) in enumerate(phases):
      span = end - start
      pct = (t - start) / span if span != 0 else jnp.ones_like(t)
      if i == len(phases) - 1:
        pct = jnp.minimum(pct, 1.0)
        here = ~done
      else:
        here = (~done) & (t <= end)
      value = anneal(lo, hi, pct)
      out = value if out is None else jnp.where(here, value, out)
      done = done | here
      start = end
    return out

  return schedule
