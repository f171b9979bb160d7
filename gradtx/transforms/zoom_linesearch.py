"""The zoom line search: sufficient decrease and small curvature (strong Wolfe).

Nocedal & Wright's Algorithms 3.5 (bracket a good step size) and 3.6 (zoom
into the bracket with cubic, quadratic or bisection steps), with Hager and
Zhang's approximate decrease condition for flat objectives, as in Optax.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx import tree as tu
from gradtx.transforms import linesearch as _ls


class ZoomLinesearchInfo(NamedTuple):
  """Diagnostics of the last :func:`scale_by_zoom_linesearch` round.

  A positive ``curvature_error`` is mild (``max_learning_rate`` may be too
  small); a positive ``decrease_error`` means the step did not decrease the
  objective enough.
  """

  num_linesearch_steps: jax.Array  # int32 scalar: function evaluations.
  decrease_error: jax.Array  # scalar ≥ 0: 0 when sufficient decrease holds.
  curvature_error: jax.Array  # scalar ≥ 0: 0 when small curvature holds.


class ScaleByZoomLinesearchState(NamedTuple):
  """State of :func:`scale_by_zoom_linesearch` (names as in Optax)."""

  learning_rate: jax.Array  # scalar: the accepted step size η.
  value: jax.Array  # scalar: f at the accepted point (inf before any step).
  grad: base.Updates  # ∇f at the accepted point, like params.
  info: ZoomLinesearchInfo


class _Point(NamedTuple):
  """A step size with the value and slope of ``η ↦ f(w + η·u)`` there."""

  stepsize: jax.Array
  value: jax.Array
  slope: jax.Array


class _Zoom(NamedTuple):
  """Carry of the zoom loop."""

  count: jax.Array  # int32: evaluations so far.
  current: _Point  # the last point evaluated,
  grad: base.Updates  # and its gradient.
  decrease_error: jax.Array
  curvature_error: jax.Array
  interval_found: jax.Array  # bool: phase 2 (zoom) has started.
  done: jax.Array  # bool: both conditions hold at ``current``.
  failed: jax.Array  # bool: stop without both conditions.
  low: _Point  # the bracket's end with the lower value,
  high: _Point  # its other end,
  cubic_ref: _Point  # and the previous end, for cubic interpolation.
  safe: _Point  # the best point with sufficient decrease (stepsize 0: none),
  safe_grad: base.Updates  # and its gradient.


def _cubic_minimiser(a: _Point, b: _Point, c: _Point) -> jax.Array:
  """The critical point of the cubic through ``a`` (value, slope), ``b``, ``c``.

  The coefficients solve a 2×2 system, written as a matrix product as in
  scipy (and Optax) so that the rounding, and hence the choice of steps,
  agrees with theirs. nan when the cubic has none; the caller then falls
  back.
  """
  db, dc = b.stepsize - a.stepsize, c.stepsize - a.stepsize
  rb = b.value - a.value - a.slope * db
  rc = c.value - a.value - a.slope * dc
  denom = (db * dc) ** 2 * (db - dc)
  c3, c2 = jnp.dot(
      jnp.array([[dc**2, -(db**2)], [-(dc**3), db**3]]), jnp.array([rb, rc]),
      precision=jax.lax.Precision.HIGHEST,
  ) / denom
  return a.stepsize + (-c2 + jnp.sqrt(c2 * c2 - 3.0 * c3 * a.slope)) / (3.0 * c3)


def _quadratic_minimiser(a: _Point, b: _Point) -> jax.Array:
  """The critical point of the parabola through ``a`` (value, slope) and ``b``."""
  db = b.stepsize - a.stepsize
  curv = (b.value - a.value - a.slope * db) / db**2
  return a.stepsize - a.slope / (2.0 * curv)


def _select(pred, if_true, if_false):
  return tu.where(pred, if_true, if_false)


def scale_by_zoom_linesearch(
    max_linesearch_steps: int,
    max_learning_rate: Optional[float] = None,
    tol: float = 0.0,
    increase_factor: float = 2.0,
    slope_rtol: float = 1e-4,
    curv_rtol: float = 0.9,
    approx_dec_rtol: Optional[float] = 1e-6,
    stepsize_precision: float = 1e-5,
    initial_guess_strategy: str = 'keep',
    verbose: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""Line search for a step size with sufficient decrease and small curvature.

  Finds ``η`` such that, with ``φ(η) = f(w + η·u)``,

  .. code-block:: text

    sufficient decrease:  φ(η) ≤ φ(0) + slope_rtol·η·φ'(0) + tol
    small curvature:      |φ'(η)| ≤ curv_rtol·|φ'(0)| + tol

  where ``φ'(η) = ⟨∇f(w + η·u), u⟩``. Where ``φ(η) ≤ φ(0) +
  approx_dec_rtol·|φ(0)|``, the decrease condition may instead be met by Hager
  and Zhang's approximate form ``φ'(η) ≤ (2·slope_rtol − 1)·φ'(0) + tol``,
  which resolves flat objectives to machine precision (``None`` disables it).

  Phase 1 tries ``η₀`` (1, or the previous ``η`` with ``'keep'``), then
  ``increase_factor`` times larger steps until a bracket holds a good step;
  phase 2 zooms into the bracket by cubic, then quadratic interpolation,
  then bisection. After ``max_linesearch_steps`` evaluations, or once the
  bracket is shorter than ``stepsize_precision``, the best step with
  sufficient decrease is taken (the last one tried if there is none). The
  output is ``η·u``; ``u`` must be a descent direction, ``φ'(0) < 0``.

  Args:
    max_linesearch_steps: the most function evaluations per call, ``≥ 1``.
    max_learning_rate: the largest ``η`` (``None``: no bound).
    tol: tolerance on both conditions, ``≥ 0``.
    increase_factor: growth of ``η`` in phase 1, ``> 1``.
    slope_rtol: ``c₁`` of the decrease condition, ``≥ 0``.
    curv_rtol: ``c₂`` of the curvature condition, ``≥ 0`` (``jnp.inf``
      drops the curvature condition).
    approx_dec_rtol: ``c₃`` of the approximate decrease condition, ``≥ 0``,
      or ``None``.
    stepsize_precision: the bracket length below which a step with
      sufficient decrease is accepted, ``≥ 0``.
    initial_guess_strategy: ``'keep'`` (start at the previous ``η``; for
      gradient descent) or ``'one'`` (start at 1; for quasi-Newton methods).
    verbose: print diagnostics (``jax.debug.print``) when the search fails.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`ScaleByZoomLinesearchState`. Its ``update`` needs ``params`` and
    the keywords ``value``, ``grad``, ``value_fn`` (plus any keyword
    ``value_fn`` takes).

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> f = lambda w: jnp.sum(w ** 2)
    >>> opt = gradtx.chain(gradtx.sgd(1.0),
    ...                    gradtx.scale_by_zoom_linesearch(15))
    >>> w = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(w)
    >>> value, grad = jax.value_and_grad(f)(w)
    >>> u, state = opt.update(grad, state, w, value=value, grad=grad,
    ...                       value_fn=f)
    >>> state[1].learning_rate  # the exact minimiser along −∇f
    Array(0.5, dtype=float32)

  References:
    Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006, Algorithms
    3.5 and 3.6.
    Hager & Zhang, *Algorithm 851: CG_DESCENT, a Conjugate Gradient Method
    with Guaranteed Descent*, ACM TOMS 32, 2006.
  """
  _checks.check_int('max_linesearch_steps', max_linesearch_steps, low=1)
  _checks.check_positive('max_learning_rate', max_learning_rate)
  _checks.check_non_negative('tol', tol)
  _checks.check_range('increase_factor', increase_factor, 1.0, None,
                      low_inclusive=False)
  _checks.check_non_negative('slope_rtol', slope_rtol)
  _checks.check_non_negative('curv_rtol', curv_rtol)
  _checks.check_non_negative('approx_dec_rtol', approx_dec_rtol)
  _checks.check_non_negative('stepsize_precision', stepsize_precision)
  if initial_guess_strategy not in ('one', 'keep'):
    raise ValueError(
        "initial_guess_strategy must be 'one' or 'keep', got "
        f'{initial_guess_strategy!r}'
    )
  name = 'scale_by_zoom_linesearch'

  def init_fn(params):
    dtype = _ls.scalar_dtype(params)
    inf = jnp.asarray(jnp.inf, dtype)
    return ScaleByZoomLinesearchState(
        learning_rate=jnp.asarray(1.0, dtype),
        value=inf,
        grad=tu.zeros_like(params),
        info=ZoomLinesearchInfo(jnp.zeros([], jnp.int32), inf, inf),
    )

  def update_fn(updates, state, params=None, *, value, grad, value_fn,
                **extra_args):
    _checks.require_params(name, params)
    f = functools.partial(value_fn, **_ls.split_fn_kwargs(name, value_fn,
                                                          extra_args))
    value_and_grad = jax.value_and_grad(f)
    dtype = state.learning_rate.dtype
    scalar = lambda x: jnp.asarray(x).astype(dtype)
    grad = tu.cast_like(grad, params)
    origin = _Point(scalar(0.0), scalar(value),
                    scalar(_ls.slope_along(grad, updates)))

    def evaluate(stepsize):
      v, g = value_and_grad(tu.add_scale(params, stepsize, updates))
      g = tu.cast_like(g, params)
      return _Point(stepsize, scalar(v), scalar(_ls.slope_along(g, updates))), g

    def errors(p):
      dec = p.value - origin.value - slope_rtol * p.stepsize * origin.slope
      if approx_dec_rtol is not None:
        approx = jnp.maximum(
            p.slope - (2 * slope_rtol - 1.0) * origin.slope,
            p.value - origin.value - approx_dec_rtol * jnp.abs(origin.value),
        )
        dec = jnp.minimum(approx, dec)
      curv = jnp.abs(p.slope) - curv_rtol * jnp.abs(origin.slope)
      nan_to_inf = lambda e: jnp.where(jnp.isnan(e), jnp.inf, e)
      return (nan_to_inf(jnp.maximum(dec, 0.0)),
              nan_to_inf(jnp.maximum(curv, 0.0)))

    def bracket(c: _Zoom) -> _Zoom:
      """Algorithm 3.5: grow the step until a bracket is found."""
      prev = c.current
      eta = jnp.where(c.count == 0, guess, increase_factor * prev.stepsize)
      at_max = jnp.asarray(False)
      if max_learning_rate is not None:
        at_max = eta >= max_learning_rate
        eta = jnp.minimum(eta, max_learning_rate)
      new, g = evaluate(scalar(eta))
      dec, curv = errors(new)
      error = jnp.maximum(dec, curv)
      safe, safe_grad = _select(dec <= tol, (new, g), (c.safe, c.safe_grad))
      high_is_new = (dec > 0.0) | ((new.value >= prev.value) & (c.count > 0))
      low_is_new = (new.slope >= 0.0) & ~high_is_new
      low, high = _select(low_is_new, (new, prev), (prev, new))
      found = high_is_new | low_is_new | (error <= tol)
      done = (error <= tol) | (at_max & ~found)
      if verbose:
        _ls.print_if(at_max & ~found,
                  'gradtx.scale_by_zoom_linesearch: no bracket below '
                  'max_learning_rate={m}; taking it without the curvature '
                  'condition.', m=new.stepsize)
      return _Zoom(
          count=tu.safe_increment(c.count), current=new, grad=g,
          decrease_error=dec, curvature_error=curv,
          interval_found=found, done=done,
          failed=(c.count + 1 >= max_linesearch_steps) & ~done,
          low=low, high=high, cubic_ref=low, safe=safe, safe_grad=safe_grad,
      )

    def zoom(c: _Zoom) -> _Zoom:
      """Algorithm 3.6: shrink the bracket around a good step."""
      low, high, ref = c.low, c.high, c.cubic_ref
      width = jnp.abs(high.stepsize - low.stepsize)
      left = jnp.minimum(low.stepsize, high.stepsize)
      right = jnp.maximum(low.stepsize, high.stepsize)
      inside = lambda x, margin: (x > left + margin) & (x < right - margin)
      cubic = _cubic_minimiser(low, high, ref)
      quad = _quadratic_minimiser(low, high)
      eta = jnp.where(
          inside(cubic, 0.2 * width), cubic,
          jnp.where(inside(quad, 0.1 * width), quad,
                    (low.stepsize + high.stepsize) / 2.0),
      )
      mid, g = evaluate(eta)
      dec, curv = errors(mid)
      error = jnp.maximum(dec, curv)
      better = (dec <= tol) & (mid.value < c.safe.value)
      safe, safe_grad = _select(better, (mid, g), (c.safe, c.safe_grad))
      high_is_mid = (dec > 0.0) | (mid.value >= low.value)
      high_is_low = (mid.slope * (high.stepsize - low.stepsize) >= 0.0) & (
          ~high_is_mid)
      new_high = _select(high_is_low, low, _select(high_is_mid, mid, high))
      new_low = _select(high_is_mid, low, mid)
      new_ref = _select(high_is_mid | high_is_low, high, low)
      done = error <= tol
      stuck = (c.count + 1 >= max_linesearch_steps) | (
          (width <= stepsize_precision) & (safe.stepsize > 0.0))
      return _Zoom(
          count=tu.safe_increment(c.count), current=mid, grad=g,
          decrease_error=dec, curvature_error=curv,
          interval_found=c.interval_found, done=done, failed=stuck & ~done,
          low=new_low, high=new_high, cubic_ref=new_ref, safe=safe,
          safe_grad=safe_grad,
      )

    def fall_back(c: _Zoom) -> _Zoom:
      """Out of steps: the best safe step, else the last one tried."""
      use_safe = (c.safe.stepsize > 0.0) | jnp.isinf(c.decrease_error)
      if verbose:
        _ls.print_if(
            c.safe.stepsize <= 0.0,
            'gradtx.scale_by_zoom_linesearch: no step size with sufficient '
            'decrease found (slope at 0: {s}, last step size: {eta}, decrease '
            'error: {d}). Is the update a descent direction?',
            s=origin.slope, eta=c.current.stepsize, d=c.decrease_error)
      point, g = _select(use_safe, (c.safe, c.safe_grad), (c.current, c.grad))
      return c._replace(current=point, grad=g)

    def step(c: _Zoom) -> _Zoom:
      c2 = jax.lax.cond(c.interval_found, zoom, bracket, c)
      c2 = jax.lax.cond(c2.failed, fall_back, lambda x: x, c2)
      return tu.cast_like(c2, c)

    guess = (jnp.ones([], dtype) if initial_guess_strategy == 'one'
             else scalar(state.learning_rate))
    false = jnp.asarray(False)
    inf = jnp.asarray(jnp.inf, dtype)
    start = _Zoom(
        count=jnp.zeros([], jnp.int32),
        current=origin,
        grad=grad, decrease_error=inf, curvature_error=inf,
        interval_found=false, done=false, failed=false,
        low=origin, high=origin, cubic_ref=origin, safe=origin,
        safe_grad=grad,
    )
    final = jax.lax.while_loop(lambda c: ~(c.done | c.failed), step, start)
    lr = final.current.stepsize
    new_state = ScaleByZoomLinesearchState(
        learning_rate=lr,
        value=final.current.value,
        grad=final.grad,
        info=ZoomLinesearchInfo(final.count, final.decrease_error,
                                final.curvature_error),
    )
    return tu.scale(lr, updates), tu.cast_like(new_state, state)

  return base.transformation_with_extra_args(name, init_fn, update_fn)

