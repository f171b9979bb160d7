"""DP-SGD: per-example clipping and Gaussian noise for differential privacy."""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple, Optional

import jax

from gradtx import _checks
from gradtx import base
from gradtx import tree as tu
from gradtx.transforms import clipping as _clipping
from gradtx.transforms import decay as _decay
from gradtx.transforms import momentum as _momentum
from gradtx.transforms import scaling as _scaling


class DifferentiallyPrivateAggregateState(NamedTuple):
  """State of :func:`differentially_private_aggregate`."""

  rng_key: jax.Array  # typed PRNG key of the next draw.


def differentially_private_aggregate(
    l2_norm_clip: float,
    noise_multiplier: float,
    key: Optional[Any] = None,
    *,
    seed: Optional[int] = None,
) -> base.GradientTransformation:
  r"""Aggregates per-example gradients as DP-SGD does: clip, sum, add noise.

  The updates must carry the batch in axis 0 of every leaf (per-example
  gradients, e.g. from ``jax.vmap(jax.grad(loss), in_axes=(None, 0))``):

  .. code-block:: text

    gᵢ ← gᵢ · min(1, C/‖gᵢ‖)         (‖gᵢ‖ over all leaves of example i)
    u = (Σᵢ gᵢ + C·σ·ξ) / B           ξ ~ N(0, I) per leaf, B the batch size

  The key is split once per step into one key per leaf, as in Optax, so the
  same key gives the same noise. Put it first in a chain; gradient
  accumulation (``MultiSteps``) defeats its purpose.

  Args:
    l2_norm_clip: the per-example bound ``C ≥ 0``.
    noise_multiplier: ``σ ≥ 0``, the noise standard deviation over ``C``.
    key: a PRNG key or an int seed; None uses seed 0 with a warning.
    seed: deprecated spelling of an int ``key``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`DifferentiallyPrivateAggregateState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx import contrib
    >>> tx = contrib.differentially_private_aggregate(1.0, 0.0, key=0)
    >>> g = {'w': jnp.array([[3.0, 4.0], [0.3, 0.4]])}  # norms 5 and 0.5
    >>> tx.update(g, tx.init(None))[0]['w']  # ([0.6, 0.8] + [0.3, 0.4]) / 2
    Array([0.45, 0.6 ], dtype=float32)

  References:
    Abadi et al., *Deep Learning with Differential Privacy*, CCS 2016.
  """
  _checks.check_non_negative('l2_norm_clip', l2_norm_clip)
  _checks.check_non_negative('noise_multiplier', noise_multiplier)
  if seed is not None:
    if key is not None:
      raise ValueError(
          f'give key or seed, not both (got key={key!r}, seed={seed!r})')
    warnings.warn('seed is deprecated: pass key=', DeprecationWarning,
                  stacklevel=2)
    key = seed
  if key is None:
    warnings.warn('differentially_private_aggregate: no key given, using 0; '
                  'pass key= to choose the noise.', stacklevel=2)
    key = 0
  key = _decay._canonical_key(key)  # pylint: disable=protected-access
  noise_std = l2_norm_clip * noise_multiplier

  def init_fn(params):
    del params
    return DifferentiallyPrivateAggregateState(rng_key=key)

  def update_fn(updates, state, params=None):
    del params
    leaves, treedef = jax.tree.flatten(updates)
    batch = _clipping._check_batched(  # pylint: disable=protected-access
        updates, 'differentially_private_aggregate')[0].shape[0]
    clipped, _ = _clipping.per_example_global_norm_clip(leaves, l2_norm_clip)
    new_key, *keys = jax.random.split(state.rng_key, len(leaves) + 1)
    noised = [
        ((c.astype(tu.compute_dtype(c)) + noise_std * jax.random.normal(
            k, c.shape, c.dtype)) / batch).astype(c.dtype)
        for c, k in zip(clipped, keys)
    ]
    return (jax.tree.unflatten(treedef, noised),
            DifferentiallyPrivateAggregateState(rng_key=new_key))

  return base.transformation(
      'differentially_private_aggregate', init_fn, update_fn)


def dpsgd(
    learning_rate: base.ScalarOrSchedule,
    l2_norm_clip: float,
    noise_multiplier: float,
    seed: int,
    momentum: Optional[float] = None,
    nesterov: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""DP-SGD: SGD on clipped, noised, averaged per-example gradients.

  ``u = −η_t · trace(differentially_private_aggregate(g))``: the updates must
  be per-example gradients (batch in axis 0); see
  :func:`differentially_private_aggregate`. With ``momentum=None`` there is
  no trace.

  Args:
    learning_rate: a constant or a schedule.
    l2_norm_clip: per-example bound ``C ≥ 0``.
    noise_multiplier: ``σ ≥ 0``.
    seed: the int seed (or key) of the noise.
    momentum: heavy-ball momentum in ``[0, 1]``, or None for plain SGD.
    nesterov: Nesterov momentum.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx import contrib
    >>> opt = contrib.dpsgd(0.1, l2_norm_clip=1.0, noise_multiplier=0.5,
    ...                     seed=0)
    >>> params = jnp.zeros(2)
    >>> per_example = jnp.array([[3.0, 4.0], [0.3, 0.4], [0.0, 1.0]])
    >>> u, state = opt.update(per_example, opt.init(params), params)
    >>> u.shape
    (2,)

  References:
    Abadi et al., *Deep Learning with Differential Privacy*, CCS 2016.
  """
  return base.chain(
      differentially_private_aggregate(
          l2_norm_clip=l2_norm_clip, noise_multiplier=noise_multiplier,
          key=seed),
      _momentum.trace(decay=momentum, nesterov=nesterov)
      if momentum is not None else base.identity(),
      _scaling.scale_by_learning_rate(learning_rate),
  )
