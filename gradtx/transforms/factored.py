"""Memory-light second moments: Adafactor's factored RMS and SM3's covers.

Both keep, for an ``m × n`` matrix, statistics of size ``m + n`` rather than
``m·n``: Adafactor a row and a column moving average of ``g²``, SM3 a row and a
column maximum of the accumulated ``g²``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class FactoredState(NamedTuple):
  """State of :func:`scale_by_factored_rms`.

  For a factored leaf ``v`` is a ``(1,)`` placeholder; for any other leaf
  ``v_row`` and ``v_col`` are.
  """

  count: jax.Array  # int32 scalar: number of updates seen so far.
  v_row: base.Updates  # per leaf: EMA of g² averaged over the largest axis.
  v_col: base.Updates  # per leaf: EMA of g² averaged over the 2nd largest axis.
  v: base.Updates  # per leaf: elementwise EMA of g² (unfactored leaves).


class ScaleBySM3State(NamedTuple):
  """State of :func:`scale_by_sm3`."""

  mu: base.Updates  # per leaf: a tuple of one accumulator vector per axis.
  nu: base.Updates  # momentum of the scaled updates, like params.


# ---------------------------------------------------------------------------
# Adafactor's factored second moment.
# ---------------------------------------------------------------------------
def _decay_rate_pow(step: jax.Array, exponent: float = 0.8) -> jax.Array:
  """Adafactor's second-moment decay ``1 − (t + 1)^(−exponent)``."""
  t = jnp.asarray(step + 1, jnp.float32)
  return 1.0 - t ** (-exponent)


def factored_dims(
    shape: tuple[int, ...], factored: bool, min_dim_size_to_factor: int
) -> Optional[tuple[int, int]]:
  """The (second largest, largest) axes to factor over, or None.

  A shape is factored when ``factored`` is set, it has at least two axes and
  its second largest axis has at least ``min_dim_size_to_factor`` entries.
  """
  if not factored or len(shape) < 2:
    return None
  order = np.argsort(shape, kind='stable')
  if shape[order[-2]] < min_dim_size_to_factor:
    return None
  return int(order[-2]), int(order[-1])


def scale_by_factored_rms(
    factored: bool = True,
    decay_rate: float = 0.8,
    step_offset: int = 0,
    min_dim_size_to_factor: int = 128,
    epsilon: float = 1e-30,
    decay_rate_fn: Callable[[jax.Array, Any], jax.Array] = _decay_rate_pow,
    *,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Divides updates by a factored estimate of the gradients' RMS (Adafactor).

  With ``ρ_t = decay_rate_fn(t − step_offset, decay_rate)`` (by default
  ``1 − (t + 1)^(−0.8)``, so ``ρ₀ = 0``) and ``G = g² + epsilon``:

  .. code-block:: text

    factored leaf (axes r = 2nd largest, c = largest):
      R ← ρ_t·R + (1 − ρ_t)·mean_c(G)         C ← ρ_t·C + (1 − ρ_t)·mean_r(G)
      u = g / √(R / mean(R) ⊗ C)
    other leaves:
      V ← ρ_t·V + (1 − ρ_t)·G                 u = g / √V

  A leaf is factored when ``factored`` is set and its two largest axes have at
  least ``min_dim_size_to_factor`` entries; its statistics then take
  ``O(m + n)`` memory instead of ``O(m·n)``.

  Args:
    factored: factor the second moment of matrices and higher-rank arrays.
    decay_rate: the exponent given to ``decay_rate_fn``, ``≥ 0``.
    step_offset: subtracted from the step count (for fine-tuning), ``≥ 0``.
    min_dim_size_to_factor: factor only when the second largest axis is at
      least this long.
    epsilon: added to ``g²``, ``≥ 0``.
    decay_rate_fn: ``f(step, decay_rate) -> ρ_t``.
    nu_dtype: dtype of the statistics; None keeps the params' (real) dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`FactoredState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_factored_rms(min_dim_size_to_factor=2)
    >>> s = tx.init(jnp.zeros((2, 3)))
    >>> s.v_row.shape, s.v_col.shape, s.v.shape
    ((2,), (3,), (1,))
    >>> u, s = tx.update(jnp.full((2, 3), 2.0), s)
    >>> u  # the first step divides by |g|
    Array([[1., 1., 1.],
           [1., 1., 1.]], dtype=float32)

  References:
    Shazeer & Stern, *Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost*, ICML 2018.
  """
  _checks.check_non_negative('decay_rate', decay_rate)
  _checks.check_non_negative('step_offset', step_offset)
  _checks.check_int('min_dim_size_to_factor', min_dim_size_to_factor)
  _checks.check_non_negative('epsilon', epsilon)
  if not callable(decay_rate_fn):
    raise ValueError(
        'decay_rate_fn must be a function (step, decay_rate) -> decay, got '
        f'{decay_rate_fn!r}'
    )
  nu_dtype = _checks.check_dtype('nu_dtype', nu_dtype)

  def dims(x):
    return factored_dims(jnp.shape(x), factored, min_dim_size_to_factor)

  def init_fn(params):
    def one(p, part):
      d = _leafwise.real_dtype(p, nu_dtype)
      fd = dims(p)
      shape = {'v': (1,), 'v_row': (1,), 'v_col': (1,)}
      if fd is None:
        shape['v'] = jnp.shape(p)
      else:
        r, c = fd
        shape['v_row'] = tuple(n for i, n in enumerate(jnp.shape(p)) if i != c)
        shape['v_col'] = tuple(n for i, n in enumerate(jnp.shape(p)) if i != r)
      return jnp.zeros(shape[part], d)

    return FactoredState(
        count=_hyper.zero_count(),
        v_row=jax.tree.map(lambda p: one(p, 'v_row'), params),
        v_col=jax.tree.map(lambda p: one(p, 'v_col'), params),
        v=jax.tree.map(lambda p: one(p, 'v'), params),
    )

  def update_fn(updates, state, params=None):
    del params
    rho = decay_rate_fn(state.count - step_offset, decay_rate)

    def one(g, v_row, v_col, v):
      fd = dims(g)
      g = g.astype(tu.compute_dtype(g))
      sq = tu.abs_sq(g) + epsilon
      if fd is None:
        v = rho * v.astype(sq.dtype) + (1.0 - rho) * sq
        return g * v ** -0.5, v_row, v_col, v
      r, c = fd
      v_row = rho * v_row.astype(sq.dtype) + (1.0 - rho) * jnp.mean(sq, axis=c)
      v_col = rho * v_col.astype(sq.dtype) + (1.0 - rho) * jnp.mean(sq, axis=r)
      r_in_row = r - 1 if r > c else r  # axis r of v_row, which lacks axis c.
      row_factor = (v_row / jnp.mean(v_row, axis=r_in_row, keepdims=True)) ** -0.5
      col_factor = v_col ** -0.5
      u = g * jnp.expand_dims(row_factor, c) * jnp.expand_dims(col_factor, r)
      return u, v_row, v_col, v

    results = jax.tree.map(one, updates, state.v_row, state.v_col, state.v)
    # ``results`` holds a 4-tuple where ``updates`` holds a leaf.
    pick = lambda i: jax.tree.map(lambda _, res: res[i], updates, results)
    new_state = FactoredState(
        count=tu.safe_increment(state.count),
        v_row=_leafwise.store_like(pick(1), state.v_row),
        v_col=_leafwise.store_like(pick(2), state.v_col),
        v=_leafwise.store_like(pick(3), state.v),
    )
    return _leafwise.like_updates(pick(0), updates), new_state

  return base.transformation('scale_by_factored_rms', init_fn, update_fn)


# ---------------------------------------------------------------------------
# SM3.
# ---------------------------------------------------------------------------
def _axis_shape(shape, axis):
  """``[1, …, shape[axis], …, 1]``: broadcasts an axis accumulator back."""
  return [1] * axis + [shape[axis]] + [1] * (len(shape) - axis - 1)


def scale_by_sm3(
    b1: float = 0.9,
    b2: float = 1.0,
    eps: float = 1e-8,
) -> base.GradientTransformation:
  r"""Rescales updates as SM3 does, with one accumulator per axis slice.

  For an array of rank ``k ≥ 2`` with per-axis accumulators ``μ₁ … μ_k``
  (``μ_i`` has the length of axis ``i``):

  .. code-block:: text

    ν = c·g² + b2·min_i μ_i (broadcast)       (c = 1 if b2 = 1, else 1 − b2)
    μ_i ← max of ν over every axis but i
    m ← b1·m + (1 − b1)·g / √(ν + eps)        (0 where ν = 0)
    u = m

  Vectors and scalars keep a full accumulator (this is then Adagrad).
  With the default ``b2 = 1`` the accumulators are sums (SM3-II).

  Args:
    b1: the momentum of the scaled updates, in ``[0, 1]``.
    b2: the decay of the accumulators, in ``(0, 1]``.
    eps: the stabilising constant, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`ScaleBySM3State`.
    Complex params are rejected.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_sm3(b1=0.0, eps=0.0)
    >>> s = tx.init(jnp.zeros((2, 3)))
    >>> [m.shape for m in s.mu]
    [(2,), (3,)]
    >>> u, s = tx.update(jnp.full((2, 3), -3.0), s)
    >>> u
    Array([[-1., -1., -1.],
           [-1., -1., -1.]], dtype=float32)

  References:
    Anil et al., *Memory-Efficient Adaptive Optimization*, NeurIPS 2019.
  """
  _checks.check_unit_interval('b1', b1)
  _checks.check_range('b2', b2, 0.0, 1.0, low_inclusive=False)
  _checks.check_non_negative('eps', eps)
  # b2 = 1 accumulates without decay (the paper's rule): the weight of g is 1.
  c = jnp.where(jnp.asarray(b2) == 1.0, 1.0, 1.0 - jnp.asarray(b2))

  def init_fn(params):
    if any(jnp.iscomplexobj(p) for p in jax.tree.leaves(params)):
      raise ValueError('scale_by_sm3 does not support complex parameters.')

    def covers(p):
      if jnp.ndim(p) < 2:  # one full accumulator
        return (jnp.zeros(jnp.shape(p), jnp.result_type(p)),)
      return tuple(
          jnp.zeros((n,), jnp.result_type(p)) for n in jnp.shape(p)
      )

    return ScaleBySM3State(
        mu=jax.tree.map(covers, params),
        nu=_leafwise.zeros_state(params, None),
    )

  def update_fn(updates, state, params=None):
    del params

    def accumulate(g, mu):
      g = g.astype(tu.compute_dtype(g))
      wide = [m.astype(g.dtype) for m in mu]
      if g.ndim < 2:
        nu = c * g * g + b2 * wide[0]
        return nu, (nu,)
      bound = functools.reduce(
          jnp.minimum,
          [jnp.reshape(m, _axis_shape(g.shape, i)) for i, m in enumerate(wide)],
      )
      nu = c * g * g + b2 * bound
      others = lambda i: tuple(j for j in range(g.ndim) if j != i)
      return nu, tuple(jnp.max(nu, axis=others(i)) for i in range(g.ndim))

    # ``state.mu`` and ``results`` hold a tuple where ``updates`` holds a leaf.
    results = jax.tree.map(accumulate, updates, state.mu)
    acc = jax.tree.map(lambda _, r: r[0], updates, results)
    mu = jax.tree.map(lambda _, r: r[1], updates, results)
    scaled = jax.tree.map(
        lambda g, a: g.astype(a.dtype) * jnp.where(
            a > 0, jax.lax.rsqrt(a + eps), 0.0),
        updates, acc,
    )
    nu = jax.tree.map(
        lambda u, m: (1.0 - b1) * u + b1 * m.astype(u.dtype), scaled, state.nu
    )
    return _leafwise.like_updates(nu, updates), ScaleBySM3State(
        mu=_leafwise.store_like(mu, state.mu),
        nu=_leafwise.store_like(nu, state.nu),
    )

  return base.transformation('scale_by_sm3', init_fn, update_fn)
