"""Sign-based scalings: signSGD's sign and Lion's signed interpolation."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class ScaleBySignState(NamedTuple):
  """:func:`scale_by_sign` keeps no state."""


class ScaleByLionState(NamedTuple):
  """State of :func:`scale_by_lion`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  mu: base.Updates  # momentum, like params, in mu_dtype.


_LION_MODES = ('hard', 'smooth', 'refined')


def scale_by_sign() -> base.GradientTransformation:
  """Replaces each update by its sign: ``u = sign(g)`` (``sign(0) = 0``).

  Returns:
    A :class:`~gradtx.GradientTransformation` (stateless).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_sign()
    >>> tx.update(jnp.array([0.3, 0.0, -7.0]), tx.init(jnp.zeros(3)))[0]
    Array([ 1.,  0., -1.], dtype=float32)

  References:
    Bernstein et al., *signSGD: Compressed Optimisation for Non-Convex
    Problems*, ICML 2018.
  """

  def update_fn(updates, state, params=None):
    del params
    return jax.tree.map(jnp.sign, updates), state

  return base.transformation(
      'scale_by_sign', lambda params: ScaleBySignState(), update_fn
  )


def _lion_direction(x: jax.Array, mode: str, smooth_beta: float) -> jax.Array:
  if mode == 'hard':
    return jnp.sign(x)
  if mode == 'smooth':
    return jnp.tanh(smooth_beta * x)
  return jnp.where(jnp.abs(x) < 1.0, x, jnp.sign(x))  # 'refined'


def scale_by_lion(
    b1: float = 0.9,
    b2: float = 0.99,
    mu_dtype: Optional[Any] = None,
    *,
    mode: Literal['hard', 'smooth', 'refined'] = 'hard',
    smooth_beta: float = 1.0,
) -> base.GradientTransformation:
  r"""Rescales updates as Lion does: the sign of an interpolated momentum.

  .. code-block:: text

    c = b1·m + (1 − b1)·g
    u = sign(c)                      ('hard', the paper's rule)
        tanh(smooth_beta·c)          ('smooth')
        c if |c| < 1 else sign(c)    ('refined')
    m ← b2·m + (1 − b2)·g

  The momentum used for the step (``b1``) differs from the one that is
  stored (``b2``).

  Args:
    b1: interpolation between the momentum and the gradient, in ``[0, 1]``.
    b2: decay of the stored momentum, in ``[0, 1)``.
    mu_dtype: dtype of the momentum; None keeps the params' dtype.
    mode: ``'hard'``, ``'smooth'`` or ``'refined'``.
    smooth_beta: the tanh sharpness for ``mode='smooth'``, ``> 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`ScaleByLionState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_lion()
    >>> u, s = tx.update(jnp.array([0.5, -2.0]), tx.init(jnp.zeros(2)))
    >>> u
    Array([ 1., -1.], dtype=float32)

  References:
    Chen et al., *Symbolic Discovery of Optimization Algorithms*, NeurIPS
    2023.
  """
  _checks.check_unit_interval('b1', b1)
  _checks.check_beta('b2', b2)
  _checks.check_positive('smooth_beta', smooth_beta)
  if mode not in _LION_MODES:
    raise ValueError(f'mode must be one of {_LION_MODES}, got {mode!r}')
  mu_dtype = _checks.check_dtype('mu_dtype', mu_dtype)

  def init_fn(params):
    return ScaleByLionState(
        count=_hyper.zero_count(),
        mu=_leafwise.zeros_state(params, mu_dtype),
    )

  def update_fn(updates, state, params=None):
    del params
    wide = lambda x: x.astype(tu.compute_dtype(x))
    out = jax.tree.map(
        lambda g, m: _lion_direction(
            (1.0 - b1) * wide(g) + b1 * wide(m), mode, smooth_beta
        ),
        updates, state.mu,
    )
    mu = tu.update_moment(tu.upcast(updates), tu.upcast(state.mu), b2, 1)
    return _leafwise.like_updates(out, updates), ScaleByLionState(
        count=tu.safe_increment(state.count),
        mu=_leafwise.store_like(mu, state.mu),
    )

  return base.transformation('scale_by_lion', init_fn, update_fn)
