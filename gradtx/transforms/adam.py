"""Adam and its relatives: the per-coordinate scalings built on two moments."""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class ScaleByAdamState(NamedTuple):
  """State of :func:`scale_by_adam`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  mu: base.Updates  # first moment, like params, in mu_dtype.
  nu: base.Updates  # like params, in nu_dtype (real): the second moment
  # (Adam, RAdam, Yogi) or the decayed infinity norm (Adamax).


def check_adam_args(b1, b2, eps, eps_root) -> None:
  """Validation shared by the Adam family."""
  _checks.check_beta('b1', b1)
  _checks.check_beta('b2', b2)
  _checks.check_non_negative('eps', eps)
  _checks.check_non_negative('eps_root', eps_root)


def _adam_like_init(mu_dtype, nu_dtype):
  """``init`` of a :class:`ScaleByAdamState` with zero moments."""
  def init_fn(params):
    return ScaleByAdamState(
        count=_hyper.zero_count(),
        mu=_leafwise.zeros_state(params, mu_dtype),
        nu=_leafwise.real_full_like(params, 0, nu_dtype),
    )

  return init_fn


def _check_moment_dtypes(mu_dtype, nu_dtype):
  return (_checks.check_dtype('mu_dtype', mu_dtype),
          _checks.check_dtype('nu_dtype', nu_dtype))


def _debiased_mu(mu, updates, b1, count, nesterov):
  """``m̂ = m / (1 − b1ᵗ)``, or its Nesterov look-ahead form.

  Nesterov: ``m̂ = b1·m / (1 − b1ᵗ⁺¹) + (1 − b1)·g / (1 − b1ᵗ)``. Both
  factors are float32 and the result is in the compute dtype.
  """
  if not nesterov:
    return tu.bias_correction(mu, b1, count)
  c_next = tu.bias_correction_factor(b1, tu.safe_increment(count))
  c_now = tu.bias_correction_factor(b1, count)
  return jax.tree.map(
      lambda m, g: b1 * (m.astype(tu.compute_dtype(m)) / c_next)
      + (1 - b1) * (g.astype(tu.compute_dtype(g)) / c_now),
      mu, updates,
  )


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
  mu_dtype, nu_dtype = _check_moment_dtypes(mu_dtype, nu_dtype)

  def update_fn(updates, state, params=None):
    del params
    mu = tu.update_moment(updates, state.mu, b1, 1)
    nu = tu.update_moment_per_elem_norm(updates, state.nu, b2, 2)
    count = tu.safe_increment(state.count)
    mu_hat = _debiased_mu(mu, updates, b1, count, nesterov)
    nu_hat = tu.bias_correction(nu, b2, count)
    out = jax.tree.map(
        lambda m, v: m / (jnp.sqrt(v + eps_root) + eps), mu_hat, nu_hat
    )
    return _leafwise.like_updates(out, updates), ScaleByAdamState(
        count=count,
        mu=_leafwise.store_like(mu, state.mu),
        nu=_leafwise.store_like(nu, state.nu),
    )

  return base.transformation(
      'scale_by_adam', _adam_like_init(mu_dtype, nu_dtype), update_fn
  )


# ---------------------------------------------------------------------------
# Variants of Adam: the same two moments, combined differently.
# ---------------------------------------------------------------------------
class ScaleByAmsgradState(NamedTuple):
  """State of :func:`scale_by_amsgrad`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  mu: base.Updates  # first moment, like params, in mu_dtype.
  nu: base.Updates  # second moment, like params, in nu_dtype (real).
  nu_max: base.Updates  # running max of (debiased) nu, like nu.


class ScaleByBeliefState(NamedTuple):
  """State of :func:`scale_by_belief`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  mu: base.Updates  # first moment, like params, in mu_dtype.
  nu: base.Updates  # EMA of (g − m)² plus eps_root, like params, in
  # nu_dtype (real).


class ScaleByNovogradState(NamedTuple):
  """State of :func:`scale_by_novograd`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  mu: base.Updates  # momentum buffer, like params, in mu_dtype.
  nu: base.Updates  # one scalar per leaf: EMA of ‖g‖², in nu_dtype (real).


def scale_by_adamax(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Rescales updates by Adamax: Adam with an infinity norm.

  .. code-block:: text

    m ← b1·m + (1 − b1)·g          u∞ ← max(b2·u∞, |g| + eps)
    u = m / ((1 − b1ᵗ)·u∞)

  ``eps`` sits inside the max, as in PyTorch's ``Adamax`` (Keras adds it to
  the denominator instead). The infinity norm needs no bias correction.

  Args:
    b1: decay of the first moment, in ``[0, 1)``.
    b2: decay of the infinity norm, in ``[0, 1)``.
    eps: added to ``|g|`` before the max, ``≥ 0``.
    mu_dtype: dtype of the first moment; None keeps the params' dtype.
    nu_dtype: dtype of the infinity norm; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByAdamState` (``nu`` holds the infinity norm).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_adamax()
    >>> s = tx.init(jnp.zeros(2))
    >>> u, s = tx.update(jnp.array([2.0, -4.0]), s)
    >>> u, s = tx.update(jnp.array([1.0, -1.0]), s)
    >>> u  # m̂ = [0.28, -0.46]/0.19; u∞ = [1.998, 3.996]
    Array([ 0.73757946, -0.6058688 ], dtype=float32)

  References:
    Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015
    (section 7.1).
  """
  _checks.check_beta('b1', b1)
  _checks.check_beta('b2', b2)
  _checks.check_non_negative('eps', eps)
  mu_dtype, nu_dtype = _check_moment_dtypes(mu_dtype, nu_dtype)

  def update_fn(updates, state, params=None):
    del params
    g = tu.upcast(updates)
    mu = tu.update_moment(g, tu.upcast(state.mu), b1, 1)
    nu = tu.update_infinity_moment(g, tu.upcast(state.nu), b2, eps)
    count = tu.safe_increment(state.count)
    out = jax.tree.map(
        lambda m, v: m / v, tu.bias_correction(mu, b1, count), nu
    )
    return _leafwise.like_updates(out, updates), ScaleByAdamState(
        count=count,
        mu=_leafwise.store_like(mu, state.mu),
        nu=_leafwise.store_like(nu, state.nu),
    )

  return base.transformation(
      'scale_by_adamax', _adam_like_init(mu_dtype, nu_dtype), update_fn
  )


def scale_by_amsgrad(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    bias_correction_mu: bool = True,
    bias_correction_nu: bool = True,
    *,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Rescales updates by AMSGrad: Adam with a non-increasing step size.

  .. code-block:: text

    m ← b1·m + (1 − b1)·g          v ← b2·v + (1 − b2)·|g|²
    v_max ← max(v_max, v̂)          with v̂ = v / (1 − b2ᵗ)
    u = m̂ / (√(v_max + eps_root) + eps)

  The max is taken over the *debiased* ``v̂`` (Optax's rule). PyTorch's
  ``Adam(amsgrad=True)`` takes it over the raw ``v`` and divides by
  ``√(1 − b2ᵗ)`` afterwards, so the two differ while ``1 − b2ᵗ`` changes.
  ``bias_correction_mu=False`` and ``bias_correction_nu=False`` give the
  paper's rule (no debiasing).

  Args:
    b1: decay of the first moment, in ``[0, 1)``.
    b2: decay of the second moment, in ``[0, 1)``.
    eps: added to the root, ``≥ 0``.
    eps_root: added inside the root, ``≥ 0``.
    mu_dtype: dtype of the first moment; None keeps the params' dtype.
    bias_correction_mu: debias the first moment.
    bias_correction_nu: debias the second moment before the max.
    nu_dtype: dtype of ``nu`` and ``nu_max``; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByAmsgradState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_amsgrad()
    >>> s = tx.init(jnp.zeros(1))
    >>> u, s = tx.update(jnp.array([4.0]), s)
    >>> u, s = tx.update(jnp.array([1.0]), s)
    >>> s.nu_max  # v̂ fell from 16 to 8.5; the max keeps 16
    Array([16.], dtype=float32)

  References:
    Reddi et al., *On the Convergence of Adam and Beyond*, ICLR 2018.
  """
  check_adam_args(b1, b2, eps, eps_root)
  mu_dtype, nu_dtype = _check_moment_dtypes(mu_dtype, nu_dtype)

  def init_fn(params):
    return ScaleByAmsgradState(
        count=_hyper.zero_count(),
        mu=_leafwise.zeros_state(params, mu_dtype),
        nu=_leafwise.real_full_like(params, 0, nu_dtype),
        nu_max=_leafwise.real_full_like(params, 0, nu_dtype),
    )

  def update_fn(updates, state, params=None):
    del params
    g = tu.upcast(updates)
    mu = tu.update_moment(g, tu.upcast(state.mu), b1, 1)
    nu = tu.update_moment_per_elem_norm(g, tu.upcast(state.nu), b2, 2)
    count = tu.safe_increment(state.count)
    mu_hat = tu.bias_correction(mu, b1, count) if bias_correction_mu else mu
    nu_eff = tu.bias_correction(nu, b2, count) if bias_correction_nu else nu
    nu_max = jax.tree.map(jnp.maximum, tu.upcast(state.nu_max), nu_eff)
    out = jax.tree.map(
        lambda m, v: m / (jnp.sqrt(v + eps_root) + eps), mu_hat, nu_max
    )
    return _leafwise.like_updates(out, updates), ScaleByAmsgradState(
        count=count,
        mu=_leafwise.store_like(mu, state.mu),
        nu=_leafwise.store_like(nu, state.nu),
        nu_max=_leafwise.store_like(nu_max, state.nu_max),
    )

  return base.transformation('scale_by_amsgrad', init_fn, update_fn)


def scale_by_belief(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-16,
    eps_root: float = 1e-16,
    *,
    nesterov: bool = False,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Rescales updates by AdaBelief: Adam with the variance of the surprise.

  .. code-block:: text

    m ← b1·m + (1 − b1)·g
    s ← b2·s + (1 − b2)·|g − m|² + eps_root
    u = m̂ / (√ŝ + eps)              with ŝ = s / (1 − b2ᵗ)

  ``eps_root`` is added to ``s`` at every step and stays in the state (as in
  the paper and Optax). ``nesterov=True`` uses the look-ahead ``m̂`` of
  :func:`scale_by_adam`.

  Args:
    b1: decay of the first moment, in ``[0, 1)``.
    b2: decay of the second (central) moment, in ``[0, 1)``.
    eps: added to the root, ``≥ 0``.
    eps_root: added to ``s`` at each step, ``≥ 0``.
    nesterov: use Nesterov momentum.
    mu_dtype: dtype of the first moment; None keeps the params' dtype.
    nu_dtype: dtype of ``s``; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByBeliefState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_belief()
    >>> s = tx.init(jnp.zeros(1))
    >>> u, s = tx.update(jnp.array([1.0]), s)
    >>> u  # m̂ = 1, ŝ = 0.9² (eps_root is negligible)
    Array([1.1111], dtype=float32)

  References:
    Zhuang et al., *AdaBelief Optimizer: Adapting Stepsizes by the Belief in
    Observed Gradients*, NeurIPS 2020.
  """
  check_adam_args(b1, b2, eps, eps_root)
  mu_dtype, nu_dtype = _check_moment_dtypes(mu_dtype, nu_dtype)

  def init_fn(params):
    return ScaleByBeliefState(
        count=_hyper.zero_count(),
        mu=_leafwise.zeros_state(params, mu_dtype),
        nu=_leafwise.real_full_like(params, 0, nu_dtype),
    )

  def update_fn(updates, state, params=None):
    del params
    g = tu.upcast(updates)
    mu = tu.update_moment(g, tu.upcast(state.mu), b1, 1)
    nu = tu.update_moment_per_elem_norm(tu.sub(g, mu), tu.upcast(state.nu), b2, 2)
    nu = jax.tree.map(lambda v: v + eps_root, nu)
    count = tu.safe_increment(state.count)
    mu_hat = _debiased_mu(mu, g, b1, count, nesterov)
    nu_hat = tu.bias_correction(nu, b2, count)
    out = jax.tree.map(lambda m, v: m / (jnp.sqrt(v) + eps), mu_hat, nu_hat)
    return _leafwise.like_updates(out, updates), ScaleByBeliefState(
        count=count,
        mu=_leafwise.store_like(mu, state.mu),
        nu=_leafwise.store_like(nu, state.nu),
    )

  return base.transformation('scale_by_belief', init_fn, update_fn)


def scale_by_yogi(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-3,
    eps_root: float = 0.0,
    initial_accumulator_value: float = 1e-6,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Rescales updates by Yogi: Adam with an additive second-moment update.

  .. code-block:: text

    m ← b1·m + (1 − b1)·g
    v ← v − (1 − b2)·sign(v − |g|²)·|g|²
    u = m̂ / (√(v̂ + eps_root) + eps)

  ``v`` moves towards ``|g|²`` by a step proportional to ``|g|²`` alone, so
  it grows quickly and shrinks slowly. Both moments start at
  ``initial_accumulator_value`` and are debiased as in Adam.

  Args:
    b1: decay of the first moment, in ``[0, 1)``.
    b2: rate of the second moment, in ``[0, 1)``.
    eps: added to the root, ``≥ 0`` (default 1e-3, as in the paper).
    eps_root: added inside the root, ``≥ 0``.
    initial_accumulator_value: starting value of both moments, ``≥ 0``.
    mu_dtype: dtype of the first moment; None keeps the params' dtype.
    nu_dtype: dtype of the second moment; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByAdamState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_yogi(initial_accumulator_value=0.0)
    >>> u, s = tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))
    >>> s.nu  # 0 − 0.001·sign(0 − 4)·4
    Array([0.004], dtype=float32)

  References:
    Zaheer et al., *Adaptive Methods for Nonconvex Optimization*, NeurIPS
    2018.
  """
  check_adam_args(b1, b2, eps, eps_root)
  _checks.check_non_negative('initial_accumulator_value',
                             initial_accumulator_value)
  mu_dtype, nu_dtype = _check_moment_dtypes(mu_dtype, nu_dtype)

  def init_fn(params):
    return ScaleByAdamState(
        count=_hyper.zero_count(),
        mu=tu.full_like(params, initial_accumulator_value, dtype=mu_dtype),
        nu=_leafwise.real_full_like(params, initial_accumulator_value, nu_dtype),
    )

  def step_nu(g, v):
    g2 = tu.update_moment_per_elem_norm(g, v, 0.0, 2)  # |g|², real
    return v - (1 - b2) * jnp.sign(v - g2) * g2

  def update_fn(updates, state, params=None):
    del params
    g = tu.upcast(updates)
    mu = tu.update_moment(g, tu.upcast(state.mu), b1, 1)
    nu = jax.tree.map(step_nu, g, tu.upcast(state.nu))
    count = tu.safe_increment(state.count)
    out = jax.tree.map(
        lambda m, v: m / (jnp.sqrt(v + eps_root) + eps),
        tu.bias_correction(mu, b1, count), tu.bias_correction(nu, b2, count),
    )
    return _leafwise.like_updates(out, updates), ScaleByAdamState(
        count=count,
        mu=_leafwise.store_like(mu, state.mu),
        nu=_leafwise.store_like(nu, state.nu),
    )

  return base.transformation('scale_by_yogi', init_fn, update_fn)


def _radam_constants(b2):
  """``(ρ∞, C, L, K)`` for :func:`_radam_rectifier`.

  ``L = −log(b2)``, ``C = 2/(1 − b2) − 2/L`` (about 1; it is where the two
  large terms of ``ρₜ`` cancel) and ``K = ρ∞ / ((ρ∞ − 4)(ρ∞ − 2))``. A
  concrete ``b2`` is handled in float64; a traced one (``b2`` injected with
  :func:`gradtx.inject_hyperparams`) in float32, with ``C`` from its series
  in ``q = 1 − b2`` where the direct difference would cancel.
  """
  if not _checks._is_concrete_number(b2):  # pylint: disable=protected-access
    return _radam_constants_traced(b2)
  q = 1.0 - float(b2)
  rho_inf = 2.0 / q - 1.0
  big_l = math.inf if q == 1.0 else -math.log1p(-q)
  c = 2.0 / q - 2.0 / big_l
  denom = (rho_inf - 4.0) * (rho_inf - 2.0)
  k = rho_inf / denom if denom else 1.0  # ρ∞ ∈ {2, 4}: never rectified.
  return rho_inf, c, big_l, k


def _radam_constants_traced(b2):
  """:func:`_radam_constants` for a traced ``b2``, in float32.

  ``1 − b2`` is exact in float32 for ``b2 ≥ 0.5``. For ``q < 0.05``,
  ``C = 1 + q/6 + q²/12 + 19q³/360 + 3q⁴/80 + 863q⁵/30240 + …`` (from the
  Gregory coefficients of ``1/log(1 − q)``), truncated after a term below
  ``1e-9``; above it the direct difference loses under two digits.
  """
  f32 = jnp.float32
  q = 1.0 - jnp.asarray(b2, f32)
  safe_q = jnp.where(q > 0, q, 1.0)
  rho_inf = 2.0 / safe_q - 1.0
  big_l = -jnp.log1p(-q)
  series = 1.0 + q * (1 / 6 + q * (1 / 12 + q * (19 / 360 + q * (
      3 / 80 + q * (863 / 30240)))))
  direct = 2.0 / safe_q - 2.0 / jnp.where(q > 0, big_l, 1.0)
  c = jnp.where(q < 0.05, series, direct)
  denom = (rho_inf - 4.0) * (rho_inf - 2.0)
  k = jnp.where(denom != 0, rho_inf / jnp.where(denom != 0, denom, 1.0), 1.0)
  return rho_inf, c, big_l, k


def _radam_rectifier(b2, count, threshold):
  """``(rectify, r)``: whether the variance is tractable, and the factor.

  ``ρ∞ = 2/(1 − b2) − 1``, ``ρₜ = ρ∞ − 2t·b2ᵗ/(1 − b2ᵗ)`` and
  ``r = √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ))``.

  Evaluated naively in float32, ``ρₜ`` is the small difference of two
  numbers near ``ρ∞`` (2000 for b2 = 0.999) and loses three digits. With
  ``x = t·L``, ``L = −log b2`` and ``1/(eˣ − 1) = 1/x − 1/2 + f(x)``::

    ρₜ = C + (t − 1) − 2t·f(x)      for x < 1, f(x) ≈ x/12 − x³/720 + …
    ρₜ = ρ∞ − 2t/(eˣ − 1)           for x ≥ 1

  where ``C = 2/(1 − b2) − 2/L`` is computed once in double precision. Both
  branches are accurate to a few float32 ulps. ``r`` is 1 where it is not
  used, so that no NaN is ever computed.
  """
  rho_inf, c, big_l, k = _radam_constants(b2)
  f32 = jnp.float32
  t = jnp.asarray(count, f32)
  x = t * jnp.asarray(big_l, f32)
  xs = jnp.minimum(x, 1.0)
  xs2 = xs * xs
  series = xs * (1 / 12 - xs2 * (1 / 720 - xs2 * (1 / 30240
                                                   - xs2 / 1209600)))
  rho_small = jnp.asarray(c, f32) + (t - 1.0) - 2.0 * t * series
  rho_large = jnp.asarray(rho_inf, f32) - 2.0 * t / jnp.expm1(
      jnp.maximum(x, 1.0))
  rho = jnp.where(x < 1.0, rho_small, rho_large)
  rectify = rho >= threshold
  ratio = (rho - 4.0) * (rho - 2.0) * jnp.asarray(k, f32) / rho
  return rectify, jnp.sqrt(jnp.where(rectify, ratio, 1.0))


def scale_by_radam(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    threshold: float = 5.0,
    *,
    nesterov: bool = False,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Rescales updates by Rectified Adam (RAdam).

  .. code-block:: text

    ρ∞ = 2/(1 − b2) − 1          ρₜ = ρ∞ − 2t·b2ᵗ/(1 − b2ᵗ)
    if ρₜ ≥ threshold:  u = r·m̂ / (√(v̂ + eps_root) + eps)
                        r = √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ))
    else:               u = m̂                 (momentum SGD)

  ``ρₜ`` estimates the length of the moving average behind ``v̂``; while it
  is short the adaptive step is skipped. With the default ``b2 = 0.999``,
  steps 1 to 5 are un-rectified. PyTorch's ``RAdam`` uses ``ρₜ > 5`` and
  adds its ``eps`` to ``√v`` before debiasing (``eps/√(1−b2ᵗ)`` here), so
  the two agree exactly for ``eps = 0``.

  Args:
    b1: decay of the first moment, in ``[0, 1)``.
    b2: decay of the second moment, in ``[0, 1)``.
    eps: added to the root, ``≥ 0``.
    eps_root: added inside the root, ``≥ 0``.
    threshold: rectify when ``ρₜ ≥ threshold``; ``≥ 4`` (below 4 the
      rectifier is not a real number).
    nesterov: use the look-ahead ``m̂`` of :func:`scale_by_adam`.
    mu_dtype: dtype of the first moment; None keeps the params' dtype.
    nu_dtype: dtype of the second moment; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByAdamState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_radam()
    >>> u, s = tx.update(jnp.array([3.0]), tx.init(jnp.zeros(1)))
    >>> u  # ρ₁ = 1 < 5: the step is m̂ = g
    Array([3.], dtype=float32)

  References:
    Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*,
    ICLR 2020.
  """
  check_adam_args(b1, b2, eps, eps_root)
  _checks.check_range('threshold', threshold, 4.0, None)
  mu_dtype, nu_dtype = _check_moment_dtypes(mu_dtype, nu_dtype)

  def update_fn(updates, state, params=None):
    del params
    g = tu.upcast(updates)
    mu = tu.update_moment(g, tu.upcast(state.mu), b1, 1)
    nu = tu.update_moment_per_elem_norm(g, tu.upcast(state.nu), b2, 2)
    count = tu.safe_increment(state.count)
    rectify, r = _radam_rectifier(b2, count, threshold)
    mu_hat = _debiased_mu(mu, g, b1, count, nesterov)
    out = jax.tree.map(
        lambda m, v: jnp.where(
            rectify, r * m / (jnp.sqrt(v + eps_root) + eps), m),
        mu_hat, tu.bias_correction(nu, b2, count),
    )
    return _leafwise.like_updates(out, updates), ScaleByAdamState(
        count=count,
        mu=_leafwise.store_like(mu, state.mu),
        nu=_leafwise.store_like(nu, state.nu),
    )

  return base.transformation(
      'scale_by_radam', _adam_like_init(mu_dtype, nu_dtype), update_fn
  )


# ---------------------------------------------------------------------------
# NovoGrad: second moments per layer.
# ---------------------------------------------------------------------------
def scale_by_novograd(
    b1: float = 0.9,
    b2: float = 0.25,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    weight_decay: base.ScalarOrSchedule = 0.0,
    mu_dtype: Optional[Any] = None,
    *,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Computes NovoGrad updates: a second moment per layer (per leaf).

  .. code-block:: text

    vₗ ← ‖gₗ‖²                         at the first step
    vₗ ← b2·vₗ + (1 − b2)·‖gₗ‖²         afterwards
    mₗ ← b1·mₗ + gₗ / (√(vₗ + eps_root) + eps) + λ·θₗ
    u = m

  ``l`` runs over the leaves of the tree. There is no bias correction; the
  first step initialises ``v`` with ``‖g‖²``.

  Args:
    b1: momentum, in ``[0, 1)``.
    b2: decay of the per-layer second moment, in ``[0, 1)``.
    eps: added to the root, ``≥ 0``.
    eps_root: added inside the root, ``≥ 0``.
    weight_decay: ``λ ≥ 0``, a constant or a schedule of the step.
    mu_dtype: dtype of the momentum; None keeps the params' dtype.
    nu_dtype: dtype of the per-layer second moments; None keeps the params'.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByNovogradState`. It needs ``params`` in ``update``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_novograd()
    >>> p = jnp.zeros(2)
    >>> u, s = tx.update(jnp.array([3.0, 4.0]), tx.init(p), p)
    >>> u  # g / ‖g‖
    Array([0.6, 0.8], dtype=float32)

  References:
    Ginsburg et al., *Stochastic Gradient Methods with Layer-wise Adaptive
    Moments for Training of Deep Networks*, 2019.
  """
  check_adam_args(b1, b2, eps, eps_root)
  _checks.check_callable_or_number('weight_decay', weight_decay)
  _checks.check_non_negative('weight_decay', weight_decay)
  mu_dtype, nu_dtype = _check_moment_dtypes(mu_dtype, nu_dtype)

  def init_fn(params):
    return ScaleByNovogradState(
        count=_hyper.zero_count(),
        mu=_leafwise.zeros_state(params, mu_dtype),
        nu=_leafwise.real_full_like(params, 0, nu_dtype, shape_of=lambda p: ()),
    )

  def update_fn(updates, state, params=None):
    _checks.require_params('scale_by_novograd', params)
    first = state.count == 0
    wd = _hyper.value_at(weight_decay, state.count)
    g = tu.upcast(updates)
    sq = jax.tree.map(lambda x: tu.norm(x) ** 2, g)
    nu = jax.tree.map(
        lambda s, v: jnp.where(first, s, (1 - b2) * s + b2 * v),
        sq, tu.upcast(state.nu),
    )
    mu = jax.tree.map(
        lambda x, v, p, m: jnp.where(first, 0.0, b1 * m)
        + (x / (jnp.sqrt(v + eps_root) + eps) + wd * p),
        g, nu, tu.upcast(params), tu.upcast(state.mu),
    )
    return _leafwise.like_updates(mu, updates), ScaleByNovogradState(
        count=tu.safe_increment(state.count),
        mu=_leafwise.store_like(mu, state.mu),
        nu=_leafwise.store_like(nu, state.nu),
    )

  return base.transformation('scale_by_novograd', init_fn, update_fn)
