"""Constraints on updates: centring, NaN removal, non-negative parameters."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class CentralizeState(NamedTuple):
  """:func:`centralize` keeps no state."""


class NonNegativeParamsState(NamedTuple):
  """:func:`keep_params_nonnegative` keeps no state."""


class ZeroNansState(NamedTuple):
  """State of :func:`zero_nans`."""

  found_nan: base.Updates  # like params: a bool scalar per leaf, True when
  #                          that leaf's last update held a NaN.


def centralize() -> base.GradientTransformation:
  """Gradient centralization: subtracts each row's mean from multi-axis leaves.

  .. code-block:: text

    u[i, ...] ← g[i, ...] − mean(g[i, ...])    for leaves of rank ≥ 2
    u ← g                                      for scalars and vectors

  The mean runs over every axis but the first (axis 0 indexes the units).

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`CentralizeState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.centralize()
    >>> g = jnp.array([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]])
    >>> tx.update(g, tx.init(g))[0]
    Array([[-1.,  0.,  1.],
           [-2.,  0.,  2.]], dtype=float32)

  References:
    Yong et al., *Gradient Centralization: A New Optimization Technique for
    Deep Neural Networks*, ECCV 2020.
  """

  def centre(g):
    if g.ndim < 2:
      return g
    x = g.astype(tu.compute_dtype(g))
    return x - jnp.mean(x, axis=tuple(range(1, g.ndim)), keepdims=True)

  def update_fn(updates, state, params=None):
    del params
    out = jax.tree.map(centre, updates)
    return _leafwise.like_updates(out, updates), state

  return base.transformation(
      'centralize', lambda params: CentralizeState(), update_fn
  )


def zero_nans() -> base.GradientTransformation:
  """Replaces NaNs in the updates with zeros: ``u ← where(isnan(g), 0, g)``.

  Infinities are left as they are. The state records, for each leaf, whether
  the last update held a NaN, so that a training loop can log it; the
  transformation itself never reads it.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`ZeroNansState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.zero_nans()
    >>> g = {'a': jnp.array([1.0, jnp.nan]), 'b': jnp.array([2.0])}
    >>> u, s = tx.update(g, tx.init(g))
    >>> u['a'], s.found_nan['a'], s.found_nan['b']
    (Array([1., 0.], dtype=float32), Array(True, dtype=bool), Array(False, dtype=bool))
  """

  def init_fn(params):
    return ZeroNansState(
        found_nan=jax.tree.map(lambda _: jnp.zeros([], jnp.bool_), params)
    )

  def update_fn(updates, state, params=None):
    del params, state
    found = jax.tree.map(lambda g: jnp.any(jnp.isnan(g)), updates)
    out = jax.tree.map(
        lambda g: jnp.where(jnp.isnan(g), jnp.zeros_like(g), g), updates
    )
    return out, ZeroNansState(found_nan=found)

  return base.transformation('zero_nans', init_fn, update_fn)


def keep_params_nonnegative() -> base.GradientTransformation:
  """Stops updates from taking parameters below zero.

  .. code-block:: text

    u ← −θ   where θ + g < 0
    u ← g    elsewhere

  so that ``θ + u = max(θ + g, 0)`` for non-negative ``θ``. Put it last in a
  chain (after the learning rate), since it bounds the final update. A
  parameter that is already negative is moved to exactly 0.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`NonNegativeParamsState`. It needs ``params`` in ``update``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.keep_params_nonnegative()
    >>> p = jnp.array([1.0, 1.0])
    >>> tx.update(jnp.array([-2.0, -0.5]), tx.init(p), p)[0]
    Array([-1. , -0.5], dtype=float32)
  """

  def update_fn(updates, state, params=None):
    _checks.require_params('keep_params_nonnegative', params)
    out = jax.tree.map(
        lambda u, p: None if p is None or u is None else jnp.where(
            (p + u) < 0, -p, u),
        updates, params, is_leaf=lambda x: x is None,
    )
    return _leafwise.like_updates(out, updates), state

  return base.transformation(
      'keep_params_nonnegative', lambda params: NonNegativeParamsState(),
      update_fn,
  )
