"""PyTorch's own buffers: SGD's dampened momentum, Rprop and ASGD.

These are the parts of ``torch.optim`` whose arithmetic no gradtx transform
has: SGD's first step copies the gradient into the buffer and later steps
dampen it, Rprop keeps a step size per coordinate, and ASGD keeps its step
size and the running average of the params in its state.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise

_is_none = lambda x: x is None


class TorchMomentumState(NamedTuple):
  """State of :func:`torch_momentum`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  momentum_buffer: base.Params  # like params: PyTorch's momentum_buffer.


def torch_momentum(
    momentum: base.ScalarOrSchedule,
    dampening: float = 0.0,
    nesterov: bool = False,
) -> base.GradientTransformation:
  r"""PyTorch's SGD momentum buffer, with dampening and a schedulable ``μ``.

  .. code-block:: text

    step 1:      b = g
    later:       b ← μ_t·b + (1 − τ)·g
    u = b   (nesterov: u = g + μ_t·b)

  With ``τ = 0`` and a constant ``μ`` this is :func:`gradtx.trace`. ``μ`` may
  be a schedule, which is how PyTorch's ``CyclicLR`` and ``OneCycleLR``
  cycle the momentum.

  Args:
    momentum: ``μ``, a constant in ``[0, 1]`` or a schedule.
    dampening: ``τ`` in ``[0, 1]``.
    nesterov: use the Nesterov form.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`TorchMomentumState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.torch import torch_momentum
    >>> tx = torch_momentum(0.9, dampening=0.5)
    >>> s = tx.init(jnp.zeros(1))
    >>> u, s = tx.update(jnp.ones(1), s)   # b = g
    >>> u, s = tx.update(jnp.ones(1), s)   # b = 0.9 + 0.5
    >>> u
    Array([1.4], dtype=float32)

  References:
    ``torch.optim.SGD`` (``momentum``, ``dampening``, ``nesterov``).
  """
  _checks.check_callable_or_number('momentum', momentum)
  _checks.check_unit_interval('momentum', momentum)
  _checks.check_unit_interval('dampening', dampening)

  def init_fn(params):
    return TorchMomentumState(
        count=_hyper.zero_count(),
        momentum_buffer=_leafwise.zeros_state(params, None))

  def update_fn(updates, state, params=None):
    del params
    mu = _hyper.value_at(momentum, state.count)
    first = state.count == 0

    def step(g, b):
      if g is None:
        return None
      d = tu.compute_dtype(g, b)
      g = g.astype(d)
      return jnp.where(first, g, mu * b.astype(d) + (1 - dampening) * g)

    buf = jax.tree.map(step, updates, state.momentum_buffer, is_leaf=_is_none)
    if nesterov:
      out = jax.tree.map(
          lambda g, b: None if g is None else g.astype(b.dtype) + mu * b,
          updates, buf, is_leaf=_is_none)
    else:
      out = buf
    return _leafwise.like_updates(out, updates), TorchMomentumState(
        count=tu.safe_increment(state.count),
        momentum_buffer=_leafwise.store_like(buf, state.momentum_buffer))

  return base.transformation('torch_momentum', init_fn, update_fn)


class RpropState(NamedTuple):
  """State of :func:`rprop_step`."""

  prev: base.Params  # like params: the previous (masked) gradient.
  step_size: base.Params  # like params: the per-coordinate step size.


def rprop_step(
    lr: float = 1e-2,
    etas: tuple[float, float] = (0.5, 1.2),
    step_sizes: tuple[float, float] = (1e-6, 50.0),
) -> base.GradientTransformation:
  r"""Resilient backpropagation (PyTorch ``Rprop``), already signed for descent.

  .. code-block:: text

    s = sign(g·g_prev)
    step ← clip(step·(η₊ if s > 0, η₋ if s < 0, 1 otherwise), min, max)
    g ← 0 where s < 0
    u = −sign(g)·step;   g_prev ← g      (step₀ = lr)

  The learning rate only sets the initial step size, as in PyTorch, where a
  learning-rate scheduler has no effect on ``Rprop`` once it has started.

  Args:
    lr: the initial step size, ``> 0``.
    etas: ``(η₋, η₊)`` with ``0 < η₋ < 1 < η₊``.
    step_sizes: ``(min, max)`` step sizes, ``0 ≤ min ≤ max``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`RpropState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.torch import rprop_step
    >>> tx = rprop_step(0.1)
    >>> s = tx.init(jnp.zeros(2))
    >>> u, s = tx.update(jnp.array([1.0, -1.0]), s)
    >>> u, s = tx.update(jnp.array([1.0, 1.0]), s)
    >>> u
    Array([-0.12,  0.  ], dtype=float32)

  References:
    Riedmiller & Braun, *A direct adaptive method for faster backpropagation
    learning: the RPROP algorithm*, 1993. ``torch.optim.Rprop``.
  """
  _checks.check_positive('lr', lr)
  eta_minus, eta_plus = etas
  _checks.check_range('etas[0]', eta_minus, 0.0, 1.0, low_inclusive=False,
                      high_inclusive=False)
  _checks.check_range('etas[1]', eta_plus, 1.0, None, low_inclusive=False)
  lo, hi = step_sizes
  _checks.check_non_negative('step_sizes[0]', lo)
  _checks.check_range('step_sizes[1]', hi, float(lo), None)

  def init_fn(params):
    return RpropState(
        prev=_leafwise.zeros_state(params, None),
        step_size=tu.full_like(params, lr))

  def update_fn(updates, state, params=None):
    del params

    def leaf(g, prev, step):
      d = tu.compute_dtype(g, step)
      g, prev, step = g.astype(d), prev.astype(d), step.astype(d)
      s = jnp.sign(g * prev)
      factor = jnp.where(s > 0, eta_plus, jnp.where(s < 0, eta_minus, 1.0))
      step = jnp.clip(step * factor.astype(d), lo, hi)
      g = jnp.where(s < 0, 0.0, g).astype(d)
      return -jnp.sign(g) * step, g, step

    triples = jax.tree.map(leaf, updates, state.prev, state.step_size)
    treedef = jax.tree.structure(updates)
    out, prev, step = (
        jax.tree.unflatten(treedef, [t[i] for t in treedef.flatten_up_to(triples)])
        for i in range(3))
    return _leafwise.like_updates(out, updates), RpropState(
        prev=_leafwise.store_like(prev, state.prev),
        step_size=_leafwise.store_like(step, state.step_size))

  return base.transformation('rprop_step', init_fn, update_fn)


class ASGDState(NamedTuple):
  """State of :func:`asgd_step`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  eta: jax.Array  # float32 scalar: the step size of the next update.
  mu: jax.Array  # float32 scalar: the averaging weight of the next update.
  ax: base.Params  # like params: the averaged params (PyTorch's ``ax``).


def asgd_step(
    lr: base.ScalarOrSchedule = 1e-2,
    lambd: float = 1e-4,
    alpha: float = 0.75,
    t0: float = 1e6,
) -> base.GradientTransformation:
  r"""Averaged SGD (PyTorch ``ASGD``): the whole step, learning rate included.

  .. code-block:: text

    u = −η·λ·θ − η·g                        (η, μ from the state)
    ax ← θ + u          if μ = 1
    ax ← ax + μ·(θ + u − ax)   otherwise
    η ← lr_t/(1 + λ·lr_t·t)^α;   μ ← 1/max(1, t − t0)     (t = 1, 2, ...)

  ``η₀ = lr₀`` and ``μ₀ = 1``. ``lr_t`` is the learning rate of the update
  being made (``lr`` may be a schedule): PyTorch reads the group's current
  ``lr`` when it computes the next ``η``, so a scheduler acts one step late.
  The averaged params are ``state.ax``.

  Args:
    lr: a constant ``> 0`` or a schedule.
    lambd: the decay term ``λ ≥ 0``.
    alpha: the power of the ``η`` update.
    t0: the step at which averaging starts.

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`ASGDState`;
    ``update`` needs the params.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.torch import asgd_step
    >>> tx = asgd_step(0.1, lambd=0.0)
    >>> p = jnp.ones(1)
    >>> u, s = tx.update(jnp.ones(1), tx.init(p), p)
    >>> u, s.ax
    (Array([-0.1], dtype=float32), Array([0.9], dtype=float32))

  References:
    Polyak & Juditsky, *Acceleration of stochastic approximation by
    averaging*, 1992. ``torch.optim.ASGD``.
  """
  _hyper.check_learning_rate(lr, 'lr')
  _checks.check_non_negative('lambd', lambd)

  def init_fn(params):
    return ASGDState(
        count=_hyper.zero_count(),
        eta=jnp.asarray(_hyper.value_at(lr, _hyper.zero_count()), jnp.float32),
        mu=jnp.ones([], jnp.float32),
        ax=_leafwise.zeros_state(params, None))

  def update_fn(updates, state, params=None):
    _checks.require_params('ASGD', params)
    eta, mu = state.eta, state.mu

    def leaf(g, p, ax):
      d = tu.compute_dtype(g, p)
      g, p = g.astype(d), p.astype(d)
      u = -(lambd * eta) * p - eta * g
      new_p, ax = p + u, ax.astype(d)
      return u, jnp.where(mu != 1, ax + (new_p - ax) * mu, new_p)

    pairs = jax.tree.map(leaf, updates, params, state.ax)
    treedef = jax.tree.structure(updates)
    flat = treedef.flatten_up_to(pairs)
    out = jax.tree.unflatten(treedef, [x[0] for x in flat])
    ax = jax.tree.unflatten(treedef, [x[1] for x in flat])
    count = tu.safe_increment(state.count)
    t = count.astype(jnp.float32)
    lr_t = jnp.asarray(_hyper.value_at(lr, state.count), jnp.float32)
    new_eta = lr_t / (1 + lambd * lr_t * t)**alpha
    new_mu = 1 / jnp.maximum(1.0, t - t0)
    return _leafwise.like_updates(out, updates), ASGDState(
        count=count, eta=new_eta, mu=new_mu,
        ax=_leafwise.store_like(ax, state.ax))

  return base.transformation('asgd_step', init_fn, update_fn)
