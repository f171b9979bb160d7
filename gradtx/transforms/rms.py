"""Scalings by the root of accumulated squared gradients: RMSProp and kin.

Each transformation here divides the update by a running estimate of the
gradient's magnitude:

* :func:`scale_by_rms` — an exponential moving average of ``g²`` (RMSProp);
* :func:`scale_by_stddev` — the same, centred by the average of ``g``;
* :func:`scale_by_rss` — the plain sum of every ``g²`` so far (Adagrad);
* :func:`scale_by_adadelta` — Adadelta's ratio of two moving averages;
* :func:`scale_by_param_block_rms` — the RMS of each parameter array.

Accumulators are computed in float32 (or wider) and stored in their state
dtype, which defaults to the params' (the real counterpart for complex
params).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import numerics
from gradtx import tree as tu
from gradtx import _leafwise


class ScaleByRmsState(NamedTuple):
  """State of :func:`scale_by_rms` without bias correction."""

  nu: base.Updates  # EMA of |g|², like params, in nu_dtype (real).


class ScaleByRmsWithCountState(NamedTuple):
  """State of :func:`scale_by_rms` with ``bias_correction=True``."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  nu: base.Updates  # EMA of |g|², like params, in nu_dtype (real).


class ScaleByRStdDevState(NamedTuple):
  """State of :func:`scale_by_stddev` without bias correction."""

  mu: base.Updates  # EMA of g, like params, in mu_dtype.
  nu: base.Updates  # EMA of |g|², like params, in nu_dtype (real).


class ScaleByRStdDevWithCountState(NamedTuple):
  """State of :func:`scale_by_stddev` with ``bias_correction=True``."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  mu: base.Updates  # EMA of g, like params, in mu_dtype.
  nu: base.Updates  # EMA of |g|², like params, in nu_dtype (real).


class ScaleByRssState(NamedTuple):
  """State of :func:`scale_by_rss`."""

  sum_of_squares: base.Updates  # Σ|g|², like params, in accumulator_dtype (real).


class ScaleByAdaDeltaState(NamedTuple):
  """State of :func:`scale_by_adadelta`."""

  e_g: base.Updates  # EMA of g², like params, in accumulator_dtype.
  e_x: base.Updates  # EMA of the squared updates, like params, same dtype.


# ---------------------------------------------------------------------------
# Shared pieces.
# ---------------------------------------------------------------------------
def inverse_root(v: jax.Array, eps: Any, eps_in_sqrt: bool) -> jax.Array:
  """``1/√(v + eps)`` when ``eps_in_sqrt``, else ``1/(√v + eps)``."""
  if eps_in_sqrt:
    return jax.lax.rsqrt(v + eps)
  return 1 / (jnp.sqrt(v) + eps)


def _check_rms_args(decay, eps, initial_scale) -> None:
  _checks.check_beta('decay', decay)
  _checks.check_non_negative('eps', eps)
  _checks.check_non_negative('initial_scale', initial_scale)


# ---------------------------------------------------------------------------
# RMSProp.
# ---------------------------------------------------------------------------
def scale_by_rms(
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    eps_in_sqrt: bool = True,
    bias_correction: bool = False,
    *,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Divides updates by the root of an EMA of the squared gradients.

  .. code-block:: text

    v ← ρ·v + (1 − ρ)·|g|²                   (v₀ = initial_scale)
    v̂ = v / (1 − ρᵗ)   if bias_correction, else v
    u = g / √(v̂ + eps)   (eps_in_sqrt)   or   g / (√v̂ + eps)

  ``eps_in_sqrt=False`` with ``initial_scale=0`` is PyTorch's ``RMSprop``
  denominator; ``eps_in_sqrt=True`` is Keras'. With ``eps_in_sqrt=False`` and
  ``bias_correction=True`` this is :func:`gradtx.scale_by_adam` with ``b1=0``,
  without the memory of a first moment.

  Args:
    decay: the decay ``ρ`` of the average, in ``[0, 1)``.
    eps: the stabilising constant, ``≥ 0``.
    initial_scale: the starting value of ``v``, ``≥ 0`` (PyTorch uses 0,
      TensorFlow 1 used 1).
    eps_in_sqrt: add ``eps`` inside the square root rather than after it.
    bias_correction: divide ``v`` by ``1 − ρᵗ`` (in float32).
    nu_dtype: dtype of ``v``; None keeps the params' (real) dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`ScaleByRmsState`
    (a :class:`ScaleByRmsWithCountState` with bias correction).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_rms(decay=0.75, eps=0.0)
    >>> u, s = tx.update(jnp.array([2.0, -4.0]), tx.init(jnp.zeros(2)))
    >>> u  # g / sqrt(0.25 g²) = 2·sign(g)
    Array([ 2., -2.], dtype=float32)

  References:
    Hinton, *Neural Networks for Machine Learning*, lecture 6e, 2012.
  """
  _check_rms_args(decay, eps, initial_scale)
  nu_dtype = _checks.check_dtype('nu_dtype', nu_dtype)

  def init_fn(params):
    nu = _leafwise.real_full_like(params, initial_scale, nu_dtype)
    if bias_correction:
      return ScaleByRmsWithCountState(count=_hyper.zero_count(), nu=nu)
    return ScaleByRmsState(nu=nu)

  def update_fn(updates, state, params=None):
    del params
    nu = tu.update_moment_per_elem_norm(tu.upcast(updates), tu.upcast(state.nu), decay, 2)
    if bias_correction:
      count = tu.safe_increment(state.count)
      nu_hat = tu.bias_correction(nu, decay, count)
    else:
      nu_hat = nu
    out = jax.tree.map(
        lambda g, v: g.astype(tu.compute_dtype(g)) * inverse_root(v, eps, eps_in_sqrt),
        updates, nu_hat,
    )
    nu = _leafwise.store_like(nu, state.nu)
    new_state = (
        ScaleByRmsWithCountState(count=count, nu=nu) if bias_correction
        else ScaleByRmsState(nu=nu)
    )
    return _leafwise.like_updates(out, updates), new_state

  return base.transformation('scale_by_rms', init_fn, update_fn)


def scale_by_stddev(
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    eps_in_sqrt: bool = True,
    bias_correction: bool = False,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Divides updates by the root of a centred EMA of the squared gradients.

  .. code-block:: text

    m ← ρ·m + (1 − ρ)·g                      (m₀ = 0)
    v ← ρ·v + (1 − ρ)·|g|²                   (v₀ = initial_scale)
    m̂, v̂ = m / (1 − ρᵗ), v / (1 − ρᵗ)   if bias_correction
    u = g / √(v̂ − |m̂|² + eps)   (eps_in_sqrt)   or   g / (√(v̂ − |m̂|²) + eps)

  This is the centred RMSProp of Graves (2013).

  Args:
    decay, eps, initial_scale, eps_in_sqrt, bias_correction, nu_dtype: see
      :func:`scale_by_rms`.
    mu_dtype: dtype of ``m``; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByRStdDevState` (:class:`ScaleByRStdDevWithCountState` with
    bias correction).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_stddev(decay=0.5, eps=0.0)
    >>> u, s = tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))
    >>> u  # 2 / sqrt(0.5·4 − 1²) = 2
    Array([2.], dtype=float32)

  References:
    Graves, *Generating Sequences With Recurrent Neural Networks*, 2013.
  """
  _check_rms_args(decay, eps, initial_scale)
  mu_dtype = _checks.check_dtype('mu_dtype', mu_dtype)
  nu_dtype = _checks.check_dtype('nu_dtype', nu_dtype)

  def init_fn(params):
    mu = _leafwise.zeros_state(params, mu_dtype)
    nu = _leafwise.real_full_like(params, initial_scale, nu_dtype)
    if bias_correction:
      return ScaleByRStdDevWithCountState(
          count=_hyper.zero_count(), mu=mu, nu=nu
      )
    return ScaleByRStdDevState(mu=mu, nu=nu)

  def update_fn(updates, state, params=None):
    del params
    g = tu.upcast(updates)
    mu = tu.update_moment(g, tu.upcast(state.mu), decay, 1)
    nu = tu.update_moment_per_elem_norm(g, tu.upcast(state.nu), decay, 2)
    if bias_correction:
      count = tu.safe_increment(state.count)
      mu_hat = tu.bias_correction(mu, decay, count)
      nu_hat = tu.bias_correction(nu, decay, count)
    else:
      mu_hat, nu_hat = mu, nu
    out = jax.tree.map(
        lambda g, m, v: g * inverse_root(v - tu.abs_sq(m), eps, eps_in_sqrt),
        g, mu_hat, nu_hat,
    )
    mu = _leafwise.store_like(mu, state.mu)
    nu = _leafwise.store_like(nu, state.nu)
    new_state = (
        ScaleByRStdDevWithCountState(count=count, mu=mu, nu=nu)
        if bias_correction else ScaleByRStdDevState(mu=mu, nu=nu)
    )
    return _leafwise.like_updates(out, updates), new_state

  return base.transformation('scale_by_stddev', init_fn, update_fn)


# ---------------------------------------------------------------------------
# Adagrad.
# ---------------------------------------------------------------------------
def scale_by_rss(
    initial_accumulator_value: float = 0.1,
    eps: float = 1e-7,
    *,
    eps_in_sqrt: bool = True,
    accumulator_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Divides updates by the root of the sum of all squared gradients so far.

  .. code-block:: text

    s ← s + |g|²                              (s₀ = initial_accumulator_value)
    u = g / √(s + eps)   (eps_in_sqrt)   or   g / (√s + eps),   and u = 0 where s = 0

  The defaults (``s₀ = 0.1``, ``eps = 1e-7`` inside the root) are Optax's and
  Keras'. PyTorch's ``Adagrad`` is ``initial_accumulator_value=0``,
  ``eps=1e-10``, ``eps_in_sqrt=False``.

  Args:
    initial_accumulator_value: the starting value of ``s``, ``≥ 0``.
    eps: the stabilising constant, ``≥ 0``.
    eps_in_sqrt: add ``eps`` inside the square root rather than after it.
    accumulator_dtype: dtype of ``s``; None keeps the params' (real) dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`ScaleByRssState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_rss(initial_accumulator_value=0.0, eps=0.0)
    >>> s = tx.init(jnp.zeros(2))
    >>> u, s = tx.update(jnp.array([3.0, 0.0]), s)
    >>> u, s = tx.update(jnp.array([4.0, 0.0]), s)
    >>> u  # 4 / sqrt(3² + 4²); zero where nothing was accumulated
    Array([0.8, 0. ], dtype=float32)

  References:
    Duchi et al., *Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization*, JMLR 2011.
  """
  _checks.check_non_negative('initial_accumulator_value', initial_accumulator_value)
  _checks.check_non_negative('eps', eps)
  accumulator_dtype = _checks.check_dtype('accumulator_dtype', accumulator_dtype)

  def init_fn(params):
    return ScaleByRssState(
        sum_of_squares=_leafwise.real_full_like(
            params, initial_accumulator_value, accumulator_dtype
        )
    )

  def update_fn(updates, state, params=None):
    del params
    g = tu.upcast(updates)
    s = jax.tree.map(
        lambda g, s: tu.abs_sq(g) + s, g, tu.upcast(state.sum_of_squares)
    )
    out = jax.tree.map(
        lambda g, s: g * jnp.where(s > 0, inverse_root(s, eps, eps_in_sqrt), 0.0),
        g, s,
    )
    return _leafwise.like_updates(out, updates), ScaleByRssState(
        sum_of_squares=_leafwise.store_like(s, state.sum_of_squares)
    )

  return base.transformation('scale_by_rss', init_fn, update_fn)


# ---------------------------------------------------------------------------
# Adadelta.
# ---------------------------------------------------------------------------
def scale_by_adadelta(
    rho: float = 0.9,
    eps: float = 1e-6,
    *,
    accumulator_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Rescales updates as Adadelta does, by a ratio of two moving averages.

  .. code-block:: text

    a ← ρ·a + (1 − ρ)·g²
    u = √(b + eps) / √(a + eps) · g           (b from the previous step)
    b ← ρ·b + (1 − ρ)·u²

  This is PyTorch's ``Adadelta`` step before its learning rate.

  Args:
    rho: the decay ``ρ`` of both averages, in ``[0, 1)``.
    eps: the stabilising constant, ``≥ 0``.
    accumulator_dtype: dtype of both averages; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByAdaDeltaState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_adadelta(rho=0.0, eps=1.0)
    >>> u, s = tx.update(jnp.array([0.0]), tx.init(jnp.zeros(1)))
    >>> u
    Array([0.], dtype=float32)

  References:
    Zeiler, *ADADELTA: An Adaptive Learning Rate Method*, 2012.
  """
  _checks.check_beta('rho', rho)
  _checks.check_non_negative('eps', eps)
  accumulator_dtype = _checks.check_dtype('accumulator_dtype', accumulator_dtype)

  def init_fn(params):
    return ScaleByAdaDeltaState(
        e_g=_leafwise.zeros_state(params, accumulator_dtype),
        e_x=_leafwise.zeros_state(params, accumulator_dtype),
    )

  def update_fn(updates, state, params=None):
    del params
    e_g = tu.update_moment(tu.upcast(updates), tu.upcast(state.e_g), rho, 2)
    out = jax.tree.map(
        lambda g, a, b: jnp.sqrt(b + eps) / jnp.sqrt(a + eps) * g,
        tu.upcast(updates), e_g, tu.upcast(state.e_x),
    )
    e_x = tu.update_moment(out, tu.upcast(state.e_x), rho, 2)
    return _leafwise.like_updates(out, updates), ScaleByAdaDeltaState(
        e_g=_leafwise.store_like(e_g, state.e_g),
        e_x=_leafwise.store_like(e_x, state.e_x),
    )

  return base.transformation('scale_by_adadelta', init_fn, update_fn)


# ---------------------------------------------------------------------------
# Scaling by the size of each parameter array.
# ---------------------------------------------------------------------------
def _scale_by_param_block(name, measure, min_scale):
  """``u = g · measure(θ, min_scale)`` per parameter array (stateless)."""
  _checks.check_non_negative('min_scale', min_scale)

  def update_fn(updates, state, params=None):
    _checks.require_params(name, params)
    out = jax.tree.map(
        lambda g, p: None if g is None else g * measure(p, min_scale),
        updates, params, is_leaf=lambda x: x is None,
    )
    return _leafwise.like_updates(out, updates), state

  return base.transformation(name, lambda params: base.EmptyState(), update_fn)


def scale_by_param_block_rms(min_scale: float = 1e-3) -> base.GradientTransformation:
  r"""Multiplies each update array by the RMS of its parameter array.

  .. code-block:: text

    u = g · max(√mean(θ²), min_scale)          (per parameter array)

  Adafactor uses this to make its step relative to the parameters' scale.

  Args:
    min_scale: the smallest factor, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation` (stateless). It needs
    ``params`` in ``update``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_param_block_rms()
    >>> p = jnp.array([3.0, -3.0])
    >>> tx.update(jnp.ones(2), tx.init(p), p)[0]
    Array([3., 3.], dtype=float32)

  References:
    Shazeer & Stern, *Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost*, ICML 2018.
  """
  return _scale_by_param_block(
      'scale_by_param_block_rms', numerics.safe_root_mean_squares, min_scale)


def scale_by_param_block_norm(min_scale: float = 1e-3) -> base.GradientTransformation:
  r"""Multiplies each update array by the 2-norm of its parameter array.

  .. code-block:: text

    u = g · max(‖θ‖₂, min_scale)          (per parameter array)

  Args:
    min_scale: the smallest factor, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation` (stateless). It needs
    ``params`` in ``update``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_param_block_norm()
    >>> p = jnp.array([3.0, 4.0])
    >>> tx.update(jnp.ones(2), tx.init(p), p)[0]
    Array([5., 5.], dtype=float32)

  References:
    Shazeer & Stern, *Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost*, ICML 2018 (relative step sizes).
  """
  return _scale_by_param_block(
      'scale_by_param_block_norm', numerics.safe_norm, min_scale)
