"""Lookahead: fast weights explore, slow weights follow every k steps."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu


class LookaheadState(NamedTuple):
  """State of :func:`lookahead`."""

  fast_state: Any  # the fast optimizer's state.
  steps_since_sync: jax.Array  # int32 scalar: fast steps since the last sync, in [0, k).


class LookaheadParams(NamedTuple):
  """The fast and slow copies of the params used by :func:`lookahead`.

  Compute gradients at ``fast``; evaluate (and deploy) ``slow``.
  """

  fast: base.Params  # the params the gradients are computed at.
  slow: base.Params  # the slowly moving average used for evaluation.

  @classmethod
  def init_synced(cls, params: base.Params) -> 'LookaheadParams':
    """Both copies equal to ``params``."""
    return cls(fast=params, slow=params)


def _reset_leaf(sync: jax.Array, now: Any, new: Any) -> Any:
  """``new`` on a sync step, else ``now``, in ``now``'s dtype.

  Python scalars (a ``bool`` flag in the fast optimizer's state, say) that
  ``init`` gives back unchanged stay Python scalars; others become arrays.
  """
  if isinstance(now, (bool, int, float)) and type(now) is type(new) and now == new:
    return now
  return jnp.where(sync, new, now).astype(jnp.result_type(now))


def lookahead(
    fast_optimizer: base.GradientTransformation,
    sync_period: int,
    slow_step_size: float,
    reset_state: bool = False,
) -> base.GradientTransformation:
  """Wraps an optimizer in Lookahead's slow/fast scheme.

  .. code-block:: text

    φ ← φ + u                          (fast step, u from fast_optimizer)
    every k-th step:  θ ← θ + α·(φ − θ);  φ ← θ

  Both moves are returned as one :class:`LookaheadParams` of updates, so
  ``apply_updates(params, updates)`` performs them; do not alter the updates
  before applying them.

  Args:
    fast_optimizer: the optimizer of the fast weights.
    sync_period: ``k``, the number of fast steps between syncs, ``≥ 1``.
    slow_step_size: ``α`` in ``[0, 1]``.
    reset_state: re-initialise the fast optimizer's state at each sync.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`LookaheadState`.
    ``update(grads, state, params)`` takes the gradients at ``params.fast``
    and a :class:`LookaheadParams`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> opt = gradtx.lookahead(gradtx.scale(-0.5), sync_period=2,
    ...                        slow_step_size=0.5)
    >>> params = gradtx.LookaheadParams.init_synced(jnp.ones(1))
    >>> state = opt.init(params)
    >>> for _ in range(2):
    ...   grads = jnp.ones(1)
    ...   updates, state = opt.update(grads, state, params)
    ...   params = gradtx.apply_updates(params, updates)
    >>> params.fast, params.slow
    (Array([0.5], dtype=float32), Array([0.5], dtype=float32))

  References:
    Zhang et al., *Lookahead Optimizer: k steps forward, 1 step back*,
    NeurIPS 2019.
  """
  _checks.check_int('sync_period', sync_period, low=1)
  _checks.check_unit_interval('slow_step_size', slow_step_size)

  def fast_of(params):
    return params.fast if isinstance(params, LookaheadParams) else params

  def init_fn(params):
    return LookaheadState(
        fast_state=fast_optimizer.init(fast_of(params)),
        steps_since_sync=_hyper.zero_count(),
    )

  # The params are a LookaheadParams while the updates mirror params.fast, so
  # the shared structure check is run on (updates, params.fast) by hand.
  check = _checks.StructureCheck('lookahead', init_fn)

  def update_fn(updates, state, params=None):
    if not isinstance(params, LookaheadParams):
      raise ValueError(
          'lookahead.update needs params=LookaheadParams(fast=..., slow=...) '
          f'(see LookaheadParams.init_synced), got {type(params).__name__}')
    check(updates, state, params.fast)
    fast_updates, fast_state = fast_optimizer.update(
        updates, state.fast_state, params.fast)
    sync = state.steps_since_sync == sync_period - 1

    def moves(f, u, s):
      f, u, s = jnp.asarray(f), jnp.asarray(u), jnp.asarray(s)
      dt = tu.compute_dtype(f, u, s)
      diff = f.astype(dt) + u.astype(dt) - s.astype(dt)
      slow_u = jnp.where(sync, slow_step_size * diff, jnp.zeros_like(diff))
      fast_u = jnp.where(sync, u.astype(dt) - (1 - slow_step_size) * diff,
                         u.astype(dt))
      return fast_u.astype(u.dtype), slow_u.astype(jnp.result_type(s))

    pairs = jax.tree.map(moves, params.fast, fast_updates, params.slow)
    fast_u, slow_u = jax.tree.transpose(
        jax.tree.structure(params.fast), jax.tree.structure((0, 0)), pairs)
    out = LookaheadParams(fast=fast_u, slow=slow_u)
    if reset_state:
      fresh = fast_optimizer.init(params.fast)
      fast_state = jax.tree.map(
          functools.partial(_reset_leaf, sync), fast_state, fresh)
    return out, LookaheadState(
        fast_state=fast_state,
        steps_since_sync=(state.steps_since_sync + 1) % sync_period,
    )

  return base.GradientTransformation(init_fn, update_fn)
