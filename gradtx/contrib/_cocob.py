"""COCOB: learning-rate-free SGD by continuous coin betting."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, Union

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling


class COCOBState(NamedTuple):
  """State of :func:`scale_by_cocob`; every field is like params."""

  init_particles: base.Updates  # θ₀, the params given to init.
  cumulative_gradients: base.Updates  # C = −Σ g (the negated gradient sum).
  scale: base.Updates  # L = max(eps, max |g|), the largest gradient seen.
  subgradients: base.Updates  # G = Σ |g|.
  reward: base.Updates  # R = max(0, R − g·(θ − θ₀)), the gambler's winnings.


def scale_by_cocob(
    alpha: float = 100.0, eps: float = 1e-8
) -> base.GradientTransformation:
  r"""Replaces updates by the COCOB-Backprop bet (Orabona & Tommasi, Alg. 2).

  Per coordinate, with ``θ`` the params and ``θ₀`` the params given to init:

  .. code-block:: text

    L ← max(L, |g|)          G ← G + |g|
    R ← max(R − g·(θ − θ₀), 0)           C ← C − g
    u = θ₀ + C·(L + R) / (L·max(G + L, α·L)) − θ

  so that ``θ + u`` is the new bet. ``L`` starts at ``eps``. The update is
  already a step (no learning rate, no sign flip): apply it as it is.

  Args:
    alpha: the fraction-to-bet parameter ``α > 0`` (it caps the first bets).
    eps: the initial value of ``L``, ``> 0`` (avoids 0/0 on the first step).

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`COCOBState`. It
    needs ``params`` in ``update``.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx import contrib
    >>> tx = contrib.scale_by_cocob()
    >>> p = jnp.array([1.0])
    >>> u, s = tx.update(jnp.array([2.0]), tx.init(p), p)
    >>> u  # C·(L + R)/(L·max(G + L, αL)) = −2·2/(2·200)
    Array([-0.01], dtype=float32)

  References:
    Orabona & Tommasi, *Training Deep Networks without Learning Rates
    Through Coin Betting*, NeurIPS 2017 (Algorithm 2).
  """
  _checks.check_positive('alpha', alpha)
  _checks.check_positive('eps', eps)

  def init_fn(params):
    zeros = tu.zeros_like(params)
    return COCOBState(
        init_particles=params,
        cumulative_gradients=zeros,
        scale=tu.full_like(params, eps),
        subgradients=zeros,
        reward=zeros,
    )

  def update_fn(updates, state, params=None):
    _checks.require_params('scale_by_cocob', params)
    g, p, p0 = tu.upcast(updates), tu.upcast(params), tu.upcast(
        state.init_particles)
    lmax = jax.tree.map(lambda l, c: jnp.maximum(l, jnp.abs(c)),
                        tu.upcast(state.scale), g)
    gsum = jax.tree.map(lambda s, c: s + jnp.abs(c),
                        tu.upcast(state.subgradients), g)
    reward = jax.tree.map(
        lambda r, c, x, x0: jnp.maximum(r - c * (x - x0), 0),
        tu.upcast(state.reward), g, p, p0,
    )
    csum = tu.sub(tu.upcast(state.cumulative_gradients), g)
    out = jax.tree.map(
        lambda x, x0, c, l, s, r: -x + (
            x0 + c / (l * jnp.maximum(s + l, alpha * l)) * (l + r)),
        p, p0, csum, lmax, gsum, reward,
    )
    new_state = COCOBState(
        init_particles=state.init_particles,
        cumulative_gradients=_leafwise.store_like(
            csum, state.cumulative_gradients),
        scale=_leafwise.store_like(lmax, state.scale),
        subgradients=_leafwise.store_like(gsum, state.subgradients),
        reward=_leafwise.store_like(reward, state.reward),
    )
    return _leafwise.like_updates(out, updates), new_state

  return base.transformation('scale_by_cocob', init_fn, update_fn)


def cocob(
    learning_rate: base.ScalarOrSchedule = 1.0,
    alpha: float = 100.0,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    mask: Optional[Union[Any, Callable[[base.Params], Any]]] = None,
) -> base.GradientTransformationExtraArgs:
  r"""COCOB-Backprop: SGD without a learning rate, by coin betting.

  ``chain(add_decayed_weights(λ, mask), scale_by_learning_rate(η,
  flip_sign=False), scale_by_cocob(α, eps))``: the (decayed) gradient is
  multiplied by ``η`` (default 1, so only a schedule's shape matters) and fed
  to :func:`scale_by_cocob`, whose output is the step
  ``u = θ₀ + C·(L + R)/(L·max(G + L, α·L)) − θ``.

  Args:
    learning_rate: multiplies the gradients before the bet; 1 by default.
    alpha: fraction to bet, ``> 0``.
    eps: initial gradient scale ``L``, ``> 0``.
    weight_decay: L2 penalty ``λ ≥ 0`` added to the gradient.
    mask: a tree of booleans (or a function of the params returning one)
      selecting the params to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` (needs ``params``).

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx import contrib
    >>> opt = contrib.cocob()
    >>> params = jnp.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> for _ in range(50):
    ...   g = jax.grad(lambda p: jnp.sum(p ** 2))(params)
    ...   u, state = opt.update(g, state, params)
    ...   params = gradtx.apply_updates(params, u)
    >>> bool(jnp.sum(params ** 2) < 0.5)
    True

  References:
    Orabona & Tommasi, *Training Deep Networks without Learning Rates
    Through Coin Betting*, NeurIPS 2017.
  """
  return base.chain(
      _decay.add_decayed_weights(weight_decay, mask),
      _scaling.scale_by_learning_rate(learning_rate, flip_sign=False),
      scale_by_cocob(alpha, eps),
  )
