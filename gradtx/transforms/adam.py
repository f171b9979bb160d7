"""Adam and its relatives: the per-coordinate scalings built on two moments."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.transforms import _leafwise


class ScaleByAdamState(NamedTuple):
  """State of :func:`scale_by_adam`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  mu: base.Updates  # first moment, like params, in mu_dtype.
  nu: base.Updates  # second moment, like params, in nu_dtype (real).


def check_adam_args(b1, b2, eps, eps_root) -> None:
  """Validation shared by the Adam family."""
  _checks.check_beta('b1', b1)
  _checks.check_beta('b2', b2)
  _checks.check_non_negative('eps', eps)
  _checks.check_non_negative('eps_root', eps_root)


def _real_zeros(params, dtype):
  """Second-moment buffers: real even for complex params."""
  def z(p):
    if p is None:
      return None
    d = dtype if dtype is not None else jnp.result_type(p)
    if jnp.issubdtype(d, jnp.complexfloating):
      d = jnp.finfo(d).dtype
    return jnp.zeros(jnp.shape(p), d)

  return jax.tree.map(z, params, is_leaf=lambda x: x is None)


def scale_by_adam(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    *,
    nu_dtype: Optional[Any] = None,
    nesterov: bool = False,
) -> base.GradientTransformation:
  r"""Rescales updates by Adam's moment estimates.

  .. code-block:: text

    m ← b1·m + (1 − b1)·g          v ← b2·v + (1 − b2)·|g|²
    m̂ = m / (1 − b1ᵗ)              v̂ = v / (1 − b2ᵗ)
    u = m̂ / (√(v̂ + eps_root) + eps)

  With ``nesterov=True`` (NAdam as in Optax),
  ``m̂ = b1·m / (1 − b1ᵗ⁺¹) + (1 − b1)·g / (1 − b1ᵗ)``.

  The bias corrections are computed in float32 whatever the moment dtypes, and
  the moments are stored in ``mu_dtype`` / ``nu_dtype`` step after step.

  Args:
    b1: decay of the first moment, in ``[0, 1)``.
    b2: decay of the second moment, in ``[0, 1)``.
    eps: added to the root of the second moment, ``≥ 0``.
    eps_root: added inside the root, ``≥ 0`` (useful when differentiating
      through the optimizer).
    mu_dtype: dtype of the first moment; None keeps the params' dtype.
    nu_dtype: dtype of the second moment; None keeps the params' dtype (its
      real counterpart for complex params).
    nesterov: use Nesterov momentum (NAdam).

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`ScaleByAdamState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_adam()
    >>> u, s = tx.update(jnp.array([2.0, -3.0]), tx.init(jnp.zeros(2)))
    >>> u  # the first Adam step is sign(g), up to eps
    Array([ 1., -1.], dtype=float32)

  References:
    Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015.
    Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR workshop 2016.
  """
  check_adam_args(b1, b2, eps, eps_root)
  mu_dtype = _checks.check_dtype('mu_dtype', mu_dtype)
  nu_dtype = _checks.check_dtype('nu_dtype', nu_dtype)

  def init_fn(params):
    return ScaleByAdamState(
        count=_hyper.zero_count(),
        mu=_leafwise.zeros_state(params, mu_dtype),
        nu=_real_zeros(params, nu_dtype),
    )

  def update_fn(updates, state, params=None):
    del params
    mu = tu.update_moment(updates, state.mu, b1, 1)
    nu = tu.update_moment_per_elem_norm(updates, state.nu, b2, 2)
    count = tu.safe_increment(state.count)
    if nesterov:
      c_next = tu.bias_correction_factor(b1, tu.safe_increment(count))
      c_now = tu.bias_correction_factor(b1, count)
      mu_hat = jax.tree.map(
          lambda m, g: b1 * (m.astype(tu.compute_dtype(m)) / c_next)
          + (1 - b1) * (g.astype(tu.compute_dtype(g)) / c_now),
          mu, updates,
      )
    else:
      mu_hat = tu.bias_correction(mu, b1, count)
    nu_hat = tu.bias_correction(nu, b2, count)
    out = jax.tree.map(
        lambda m, v: m / (jnp.sqrt(v + eps_root) + eps), mu_hat, nu_hat
    )
    return _leafwise.like_updates(out, updates), ScaleByAdamState(
        count=count,
        mu=_leafwise.store_like(mu, state.mu),
        nu=_leafwise.store_like(nu, state.nu),
    )

  return base.transformation('scale_by_adam', init_fn, update_fn)
