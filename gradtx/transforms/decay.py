"""Weight decay and gradient noise."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise
from gradtx import _masking as masking


class AddDecayedWeightsState(NamedTuple):
  """State of :func:`add_decayed_weights` with a constant weight decay: empty.

  As in Optax, a constant decay keeps no counter, so ``tree.get(state,
  'count')`` on an ``adamw`` state finds only Adam's count.
  """


class WeightDecayScheduleState(NamedTuple):
  """State of :func:`add_decayed_weights` when ``weight_decay`` is a schedule."""

  count: jax.Array  # int32 scalar: steps seen (drives the weight-decay schedule).


class AddNoiseState(NamedTuple):
  """State of :func:`add_noise`."""

  count: jax.Array  # int32 scalar: steps seen.
  rng_key: jax.Array  # PRNG key for the next draw.


def add_decayed_weights(
    weight_decay: base.ScalarOrSchedule = 0.0,
    mask: Optional[masking.MaskOrFn] = None,
) -> base.GradientTransformation:
  """Adds decoupled weight decay: ``u ← g + λ_t·θ``.

  Placed before the learning-rate scaling this is AdamW's decoupled decay
  (``θ ← θ − η(… + λθ)``); placed first it is the L2 form of PyTorch's
  ``weight_decay`` argument.

  Args:
    weight_decay: ``λ ≥ 0``, a constant or a schedule of the step.
    mask: a tree of booleans (or a function of the params returning one);
      only True leaves are decayed.

  Returns:
    A :class:`~gradtx.GradientTransformation`. It needs ``params`` in
    ``update``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.add_decayed_weights(0.1)
    >>> p = jnp.array([2.0])
    >>> tx.update(jnp.zeros(1), tx.init(p), p)[0]
    Array([0.2], dtype=float32)

  References:
    Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.
  """
  _checks.check_callable_or_number('weight_decay', weight_decay)
  _checks.check_non_negative('weight_decay', weight_decay)

  scheduled = callable(weight_decay)
  # As Optax: a zero constant leaves the updates alone (decided once, here).
  is_zero = (not scheduled and isinstance(weight_decay, (int, float))
             and weight_decay == 0.0)

  def init_fn(params):
    del params
    if scheduled:
      return WeightDecayScheduleState(count=_hyper.zero_count())
    return AddDecayedWeightsState()

  def update_fn(updates, state, params=None):
    _checks.require_params('add_decayed_weights', params)
    if is_zero:
      return updates, state
    if not scheduled:
      wd = weight_decay
      new_state = state
    else:
      wd = _hyper.value_at(weight_decay, state.count)
      new_state = WeightDecayScheduleState(count=tu.safe_increment(state.count))
    new = jax.tree.map(
        lambda g, p: None if g is None else (g + wd * p).astype(g.dtype),
        updates, params, is_leaf=lambda x: x is None,
    )
    return new, new_state

  tx = base.transformation('add_decayed_weights', init_fn, update_fn)
  return masking.masked(tx, mask) if mask is not None else tx


def _canonical_key(key: Any) -> jax.Array:
  """A typed PRNG key from an int seed or an existing key."""
  if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
    return key
  if isinstance(key, jax.Array) and key.dtype == jnp.uint32:
    return jax.random.wrap_key_data(key)
  return jax.random.key(key)


def add_noise(
    eta: float,
    gamma: float,
    key: Optional[Any] = None,
    *,
    seed: Optional[int] = None,
) -> base.GradientTransformation:
  """Adds annealed Gaussian noise: ``u ← g + σ_t·ξ``, ``σ_t² = η / tᵞ``.

  ``t`` counts updates from 1, so the first step has variance ``η`` (this is
  the paper's ``η / (1 + t)ᵞ`` with its ``t`` starting at 0). The draws
  follow Optax: the key is split once per step, then once per leaf, so the
  same key gives the same noise as ``optax.add_noise``.

  Args:
    eta: initial variance, ``≥ 0``.
    gamma: decay exponent of the variance, ``≥ 0``.
    key: a PRNG key or an int seed (default 0).
    seed: alias of ``key`` for an int seed; give one or the other.

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`AddNoiseState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.add_noise(0.01, 0.55, key=0)
    >>> u, s = tx.update(jnp.zeros(3), tx.init(jnp.zeros(3)))
    >>> u.shape
    (3,)

  References:
    Neelakantan et al., *Adding Gradient Noise Improves Learning for Very
    Deep Networks*, 2015.
  """
  _checks.check_non_negative('eta', eta)
  _checks.check_non_negative('gamma', gamma)
  if key is not None and seed is not None:
    raise ValueError(
        f'add_noise takes key or seed, not both; got key={key!r}, seed={seed!r}'
    )
  key_name = 'seed' if seed is not None else 'key'
  key = seed if key is None else key
  key = 0 if key is None else key
  if not isinstance(key, jax.Array):
    _checks.check_int(key_name, key, low=-(2**63))

  def init_fn(params):
    del params
    return AddNoiseState(count=_hyper.zero_count(), rng_key=_canonical_key(key))

  def update_fn(updates, state, params=None):
    del params
    _leafwise.check_floating(updates, 'updates')
    count = tu.safe_increment(state.count)
    std = jnp.sqrt(eta / count.astype(jnp.float32) ** gamma)
    rng_key, sample_key = jax.random.split(state.rng_key)
    leaves, treedef = jax.tree.flatten(updates)
    keys = jax.random.split(sample_key, len(leaves))
    noisy = [
        (g + std * jax.random.normal(k, jnp.shape(g), g.dtype)).astype(g.dtype)
        for g, k in zip(leaves, keys)
    ]
    return jax.tree.unflatten(treedef, noisy), AddNoiseState(
        count=count, rng_key=rng_key
    )

  return base.transformation('add_noise', init_fn, update_fn)
