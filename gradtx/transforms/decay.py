"""Weight decay and gradient noise."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.wrappers import masking


class AddDecayedWeightsState(NamedTuple):
  """State of :func:`add_decayed_weights`."""

  count: jax.Array  # int32 scalar: steps seen (drives a weight-decay schedule).


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

  def init_fn(params):
    del params
    return AddDecayedWeightsState(count=_hyper.zero_count())

  def update_fn(updates, state, params=None):
    if params is None:
      raise ValueError(
          'add_decayed_weights needs the params: call '
          'update(updates, state, params).'
      )
    wd = _hyper.value_at(weight_decay, state.count)
    new = jax.tree.map(
        lambda g, p: None if g is None else (g + wd * p).astype(g.dtype),
        updates, params, is_leaf=lambda x: x is None,
    )
    return new, AddDecayedWeightsState(count=tu.safe_increment(state.count))

  tx = base.transformation('add_decayed_weights', init_fn, update_fn)
  return masking.masked(tx, mask) if mask is not None else tx


def add_noise(eta: float, gamma: float, seed: int) -> base.GradientTransformation:
  """Adds annealed Gaussian noise: ``u ← g + N(0, η / (1 + t)^γ)``.

  ``t`` starts at 1 for the first update; the noise has variance
  ``η / (1 + t)^γ``.

  Args:
    eta: initial variance, ``≥ 0``.
    gamma: decay exponent of the variance, ``≥ 0``.
    seed: seed of the PRNG.

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`AddNoiseState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.add_noise(0.01, 0.55, seed=0)
    >>> u, s = tx.update(jnp.zeros(3), tx.init(jnp.zeros(3)))
    >>> u.shape
    (3,)

  References:
    Neelakantan et al., *Adding Gradient Noise Improves Learning for Very
    Deep Networks*, 2015.
  """
  _checks.check_non_negative('eta', eta)
  _checks.check_non_negative('gamma', gamma)
  _checks.check_int('seed', seed, low=-(2**63))

  def init_fn(params):
    del params
    return AddNoiseState(
        count=_hyper.zero_count(), rng_key=jax.random.PRNGKey(seed)
    )

  def update_fn(updates, state, params=None):
    del params
    leaves, treedef = jax.tree.flatten(updates)
    count = tu.safe_increment(state.count)
    variance = eta / jnp.power(1.0 + count.astype(jnp.float32), gamma)
    std = jnp.sqrt(variance)
    keys = jax.random.split(state.rng_key, len(leaves) + 1)
    noisy = [
        (g + std * jax.random.normal(k, jnp.shape(g), tu.compute_dtype(g))).astype(g.dtype)
        for g, k in zip(leaves, keys[1:])
    ]
    return jax.tree.unflatten(treedef, noisy), AddNoiseState(
        count=count, rng_key=keys[0]
    )

  return base.transformation('add_noise', init_fn, update_fn)
