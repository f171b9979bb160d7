"""MADGRAD: momentumised, adaptive, dual-averaged gradients."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise
from gradtx.transforms import decay as _decay


class MadgradState(NamedTuple):
  """State of :func:`scale_by_madgrad`."""

  count: jax.Array  # int32 scalar: number of updates seen so far (k).
  grad_sum_sq: base.Updates  # G = Σ λₖ·g², like params (params' dtype).
  s: base.Updates  # s = Σ λₖ·g, like params (params' dtype).
  x0: base.Params  # the params at init.


def scale_by_madgrad(
    learning_rate: base.ScalarOrSchedule,
    momentum: float = 0.9,
    eps: float = 1e-6,
) -> base.GradientTransformation:
  r"""MADGRAD's update: dual averaging with a cube-root scaling and momentum.

  .. code-block:: text

    λₖ = (η_k + eps)·√(k + 1)                 (k = 0, 1, …)
    G ← G + λₖ·g²          s ← s + λₖ·g
    z = x₀ − s / (∛G + eps)
    u = (1 − μ)·(z − x)        i.e. x ← μ·x + (1 − μ)·z

  The learning rate is part of the rule (it weights the gradients in the
  dual average), so this transformation takes it and returns the whole
  update; chain nothing after it. ``eps`` is added to ``η`` as in the
  authors' PyTorch ``MADGRAD``.

  Args:
    learning_rate: ``η``, a constant or a schedule.
    momentum: ``μ`` in ``[0, 1)``.
    eps: added to ``η`` and to ``∛G``, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`MadgradState`.
    It needs ``params`` in ``update``.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.contrib import scale_by_madgrad
    >>> tx = scale_by_madgrad(1.0, momentum=0.0, eps=0.0)
    >>> x = jnp.array([5.0])
    >>> tx.update(jnp.array([8.0]), tx.init(x), x)[0]  # −s/∛G = −8/4
    Array([-2.], dtype=float32)

  References:
    Defazio & Jelassi, *Adaptivity without Compromise: A Momentumized,
    Adaptive, Dual Averaged Gradient Method for Stochastic Optimization*,
    JMLR 2022 (arXiv:2101.11075).
  """
  _hyper.check_learning_rate(learning_rate)
  _checks.check_beta('momentum', momentum)
  _checks.check_non_negative('eps', eps)

  def init_fn(params):
    return MadgradState(
        count=_hyper.zero_count(),
        grad_sum_sq=tu.zeros_like(params),
        s=tu.zeros_like(params),
        x0=jax.tree.map(lambda p: jnp.array(p, copy=True), params),
    )

  def update_fn(updates, state, params=None):
    _checks.require_params('scale_by_madgrad', params)
    lr = _hyper.value_at(learning_rate, state.count)
    lamb = (lr + eps) * jnp.sqrt(jnp.asarray(state.count, jnp.float32) + 1)
    g, x = tu.upcast(updates), tu.upcast(params)
    big_g = jax.tree.map(lambda a, y: a + lamb * y * y,
                         tu.upcast(state.grad_sum_sq), g)
    s = jax.tree.map(lambda a, y: a + lamb * y, tu.upcast(state.s), g)
    out = jax.tree.map(
        lambda x0, s_, gg, x_: (1 - momentum) * (
            x0 - s_ / (jnp.cbrt(gg) + eps) - x_),
        tu.upcast(state.x0), s, big_g, x)
    return _leafwise.like_updates(out, updates), MadgradState(
        count=tu.safe_increment(state.count),
        grad_sum_sq=_leafwise.store_like(big_g, state.grad_sum_sq),
        s=_leafwise.store_like(s, state.s),
        x0=state.x0,
    )

  return base.transformation('scale_by_madgrad', init_fn, update_fn)


def madgrad(
    learning_rate: base.ScalarOrSchedule,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    eps: float = 1e-6,
) -> base.GradientTransformationExtraArgs:
  r"""MADGRAD with L2 weight decay: ``chain(add_decayed_weights(λ), scale_by_madgrad)``.

  ``g ← g + λ·x``, then :func:`scale_by_madgrad`. This is the authors'
  ``madgrad.MADGRAD`` with ``decouple_decay=False`` (its default).

  Args:
    learning_rate: ``η``, a constant or a schedule.
    momentum: ``μ`` in ``[0, 1)``.
    weight_decay: ``λ ≥ 0``, added to the gradient.
    eps: see :func:`scale_by_madgrad`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`. It needs ``params``
    in ``update``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.contrib import madgrad
    >>> f = lambda p: jnp.sum((p - 1.0) ** 2)
    >>> opt = madgrad(0.1)
    >>> params = jnp.zeros(2)
    >>> state = opt.init(params)
    >>> for _ in range(200):
    ...   u, state = opt.update(jax.grad(f)(params), state, params)
    ...   params = gradtx.apply_updates(params, u)
    >>> bool(f(params) < 1e-2)
    True

  References:
    Defazio & Jelassi, *Adaptivity without Compromise: A Momentumized,
    Adaptive, Dual Averaged Gradient Method for Stochastic Optimization*,
    JMLR 2022 (arXiv:2101.11075).
  """
  return base.chain(
      _decay.add_decayed_weights(weight_decay),
      scale_by_madgrad(learning_rate, momentum, eps),
  )
