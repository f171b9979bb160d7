"""Backtracking line search (Armijo) and the helpers shared by line searches.

A line search is a transformation whose ``update`` takes the objective as
extra keyword arguments: ``value`` (``f(w)``), ``grad`` (``∇f(w)``),
``value_fn`` (``f`` itself) and any further keyword that ``value_fn`` accepts
(a batch, say). It returns ``η·u`` for an accepted step size ``η``. The last
value and gradient it computed are kept in its state, where
:func:`value_and_grad_from_state` finds them for the next step.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx import tree as tu


# ---------------------------------------------------------------------------
# Shared helpers.
# ---------------------------------------------------------------------------
def scalar_dtype(params: base.Params) -> jnp.dtype:
  """The dtype of a line search's scalars: the real compute dtype of params.

  float32 for float32, bfloat16 and float16 params (Optax would use the
  low-precision dtype itself); float64 for float64; float32 for complex64.
  """
  d = tu.compute_dtype(jax.tree.leaves(params)[0])
  return jnp.finfo(d).dtype if jnp.issubdtype(d, jnp.complexfloating) else d


def split_fn_kwargs(
    name: str, value_fn: Callable[..., Any], extra_args: dict[str, Any]
) -> dict[str, Any]:
  """The extra keyword arguments that ``value_fn`` accepts.

  Raises a ``TypeError`` naming the keywords ``value_fn`` does not accept
  (as Optax does); a ``value_fn`` with ``**kwargs`` takes them all.
  """
  if not callable(value_fn):
    raise TypeError(
        f'{name}.update needs value_fn=<the objective>, a callable; got '
        f'{value_fn!r}'
    )
  params = inspect.signature(value_fn).parameters
  if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
    return dict(extra_args)
  unused = sorted(k for k in extra_args if k not in params)
  if unused:
    raise TypeError(
        f'Unexpected keyword arguments passed to `{name}.update`: {unused} '
        'are not arguments of value_fn. Pass only the objective\'s own '
        'keyword arguments (data, say) besides value, grad and value_fn.'
    )
  return dict(extra_args)


def print_if(pred: Any, message: str, **values: Any) -> None:
  """``jax.debug.print`` when ``pred`` holds (under ``jit`` too)."""
  jax.lax.cond(
      pred, lambda: jax.debug.print(message, ordered=True, **values),
      lambda: None,
  )


def slope_along(grad: base.Updates, updates: base.Updates) -> jax.Array:
  """``Re ⟨u, ∇f⟩``: the derivative of ``η ↦ f(w + η·u)``."""
  return jnp.real(tu.vdot(updates, jax.tree.map(jnp.conj, grad)))


# ---------------------------------------------------------------------------
# Backtracking.
# ---------------------------------------------------------------------------
class BacktrackingLinesearchInfo(NamedTuple):
  """Diagnostics of the last :func:`scale_by_backtracking_linesearch` round."""

  num_linesearch_steps: jax.Array  # int32 scalar: function evaluations.
  decrease_error: jax.Array  # scalar: > 0 when no step size satisfied the
  # sufficient-decrease condition, 0 when one did.


class ScaleByBacktrackingLinesearchState(NamedTuple):
  """State of :func:`scale_by_backtracking_linesearch` (names as in Optax)."""

  learning_rate: jax.Array  # scalar: the accepted step size η.
  value: jax.Array  # scalar: f at the accepted point (inf before any step).
  grad: Optional[base.Updates]  # ∇f there, like params, if store_grad;
  # None otherwise.
  info: BacktrackingLinesearchInfo


class _Backtrack(NamedTuple):
  """Carry of the backtracking loop."""

  learning_rate: jax.Array
  value: jax.Array
  grad: base.Updates
  decrease_error: jax.Array
  iter_num: jax.Array


def scale_by_backtracking_linesearch(
    max_backtracking_steps: int,
    slope_rtol: float = 1e-4,
    decrease_factor: float = 0.8,
    increase_factor: float = 1.5,
    max_learning_rate: float = 1.0,
    atol: float = 0.0,
    rtol: float = 0.0,
    store_grad: bool = False,
    verbose: bool = False,
) -> base.GradientTransformationExtraArgs:
  r"""Backtracking line search: shrink ``η`` until ``f`` decreases enough.

  .. code-block:: text

    η ← min(increase_factor·η_prev, max_learning_rate)
    while f(w + η·u) > (1 + rtol)·f(w) + slope_rtol·η·⟨u, ∇f(w)⟩ + atol
          and at most max_backtracking_steps times:
      η ← decrease_factor·η
    output η·u        (η = 0 when every trial was nan or inf)

  ``u`` (the incoming updates) must be a descent direction,
  ``⟨u, ∇f(w)⟩ < 0``: chain the line search after the direction, e.g.
  ``chain(sgd(1.0), scale_by_backtracking_linesearch(15))``.

  Args:
    max_backtracking_steps: the most times ``η`` is decreased, ``≥ 0``.
    slope_rtol: the fraction ``c`` of the linear decrease required, ``≥ 0``.
    decrease_factor: factor applied to ``η`` at each trial, in ``(0, 1]``.
    increase_factor: factor applied to the previous ``η`` to make the first
      guess, ``> 0`` (``math.inf`` starts at ``max_learning_rate``).
    max_learning_rate: the largest ``η``, ``> 0``.
    atol: absolute tolerance on the condition, ``≥ 0``.
    rtol: relative tolerance on ``f(w)``, ``≥ 0``.
    store_grad: also compute and keep ``∇f`` at the accepted point, for
      :func:`value_and_grad_from_state`.
    verbose: print diagnostics (``jax.debug.print``) when the search fails.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`ScaleByBacktrackingLinesearchState`. Its ``update`` needs
    ``params`` and the keywords ``value``, ``grad``, ``value_fn`` (plus any
    keyword ``value_fn`` takes).

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> f = lambda w: jnp.sum(w ** 2)
    >>> opt = gradtx.chain(gradtx.sgd(1.0),
    ...                    gradtx.scale_by_backtracking_linesearch(15))
    >>> w = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(w)
    >>> value, grad = jax.value_and_grad(f)(w)
    >>> u, state = opt.update(grad, state, w, value=value, grad=grad,
    ...                       value_fn=f)
    >>> state[1].learning_rate  # f(w − η·∇f) = 14·(1 − 2η)²: η = 1 fails
    Array(0.8, dtype=float32)

  References:
    Armijo, *Minimization of Functions Having Lipschitz Continuous First
    Partial Derivatives*, Pacific J. Math. 16, 1966.
    Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006, Algorithm 3.1.
    Vaswani et al., *Painless Stochastic Gradient: Interpolation, Line-Search,
    and Convergence Rates*, NeurIPS 2019.
  """
  _checks.check_int('max_backtracking_steps', max_backtracking_steps)
  _checks.check_non_negative('slope_rtol', slope_rtol)
  _checks.check_range('decrease_factor', decrease_factor, 0.0, 1.0,
                      low_inclusive=False)
  _checks.check_positive('increase_factor', increase_factor)
  _checks.check_positive('max_learning_rate', max_learning_rate)
  _checks.check_non_negative('atol', atol)
  _checks.check_non_negative('rtol', rtol)
  name = 'scale_by_backtracking_linesearch'

  def init_fn(params):
    dtype = scalar_dtype(params)
    return ScaleByBacktrackingLinesearchState(
        learning_rate=jnp.asarray(1.0, dtype),
        value=jnp.asarray(jnp.inf, dtype),
        grad=tu.zeros_like(params) if store_grad else None,
        info=BacktrackingLinesearchInfo(
            num_linesearch_steps=jnp.zeros([], jnp.int32),
            decrease_error=jnp.asarray(jnp.inf, dtype),
        ),
    )

  def update_fn(updates, state, params=None, *, value, grad, value_fn,
                **extra_args):
    _checks.require_params(name, params)
    f = functools.partial(value_fn, **split_fn_kwargs(name, value_fn,
                                                      extra_args))
    dtype = state.learning_rate.dtype
    value = jnp.asarray(value).astype(dtype)
    slope = slope_along(grad, updates).astype(dtype)

    def decrease_error(lr, new_value):
      err = new_value - (1.0 + rtol) * value - lr * slope_rtol * slope
      return jnp.maximum(jnp.where(jnp.isnan(err), jnp.inf, err), 0.0)

    def searching(c):
      return ~(c.decrease_error <= atol) & (c.iter_num <= max_backtracking_steps)

    def trial(c):
      lr = jnp.where(c.iter_num > 0, decrease_factor * c.learning_rate,
                     c.learning_rate)
      candidate = tu.add_scale(params, lr, updates)
      if store_grad:
        new_value, jvp = jax.linearize(f, candidate)
        err = decrease_error(lr, new_value)
        last = (err <= atol) | (c.iter_num == max_backtracking_steps)
        new_grad = jax.lax.cond(
            last,
            lambda: jax.linear_transpose(jvp, candidate)(
                jnp.ones([], jnp.result_type(new_value)))[0],
            lambda: c.grad,
        )
      else:
        new_value = f(candidate)
        err = decrease_error(lr, new_value)
        new_grad = c.grad
      return tu.cast_like(
          _Backtrack(lr, new_value, new_grad, err, c.iter_num + 1), c
      )

    first = jnp.minimum(increase_factor * state.learning_rate,
                        max_learning_rate).astype(dtype)
    final = jax.lax.while_loop(searching, trial, _Backtrack(
        learning_rate=first, value=value, grad=tu.zeros_like(params),
        decrease_error=jnp.asarray(jnp.inf, dtype),
        iter_num=jnp.zeros([], jnp.int32),
    ))
    failed = jnp.isinf(final.decrease_error)
    lr = jnp.where(failed, 0.0, final.learning_rate).astype(dtype)
    if verbose:
      print_if(
          final.decrease_error > atol,
          'gradtx.scale_by_backtracking_linesearch: no step size gave a '
          'sufficient decrease (value {v}, slope along the update {s}, last '
          'step size {lr}, decrease error {e}). Is the update a descent '
          'direction?', v=value, s=slope, lr=final.learning_rate,
          e=final.decrease_error)
      print_if(failed, 'gradtx.scale_by_backtracking_linesearch: every '
                'trial value was nan or inf; taking a zero step.')
    new_state = ScaleByBacktrackingLinesearchState(
        learning_rate=lr,
        value=final.value,
        grad=final.grad if store_grad else None,
        info=BacktrackingLinesearchInfo(final.iter_num, final.decrease_error),
    )
    return tu.scale(lr, updates), tu.cast_like(new_state, state)

  return base.transformation_with_extra_args(name, init_fn, update_fn)


# ---------------------------------------------------------------------------
# Reusing the line search's last evaluation.
# ---------------------------------------------------------------------------
def value_and_grad_from_state(
    value_fn: Callable[..., Any],
) -> Callable[..., tuple[jax.Array, base.Updates]]:
  """Like :func:`jax.value_and_grad`, reusing what a line search computed.

  A line search evaluates ``f`` and ``∇f`` at the point it accepts, which is
  the next step's params. The returned function reads ``value`` and ``grad``
  from the optimizer ``state`` instead of recomputing them, and falls back to
  ``jax.value_and_grad(value_fn)`` when the stored value is inf or nan (before
  the first step). The choice is a ``lax.cond``, so it compiles.

  Args:
    value_fn: the objective, ``value_fn(params, *args, **kwargs) -> scalar``.

  Returns:
    ``fn(params, *args, state, **kwargs) -> (value, grad)``. It raises a
    ``ValueError`` when ``state`` holds no ``value`` or no ``grad`` (a
    backtracking search needs ``store_grad=True``), and a ``KeyError`` when
    it holds several.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> f = lambda w: jnp.sum(w ** 2)
    >>> opt = gradtx.lbfgs()
    >>> value_and_grad = gradtx.value_and_grad_from_state(f)
    >>> w = jnp.array([1.0, 2.0, 3.0])
    >>> @jax.jit
    ... def step(w, state):
    ...   value, grad = value_and_grad(w, state=state)  # computed only once
    ...   u, state = opt.update(grad, state, w, value=value, grad=grad,
    ...                         value_fn=f)
    ...   return gradtx.apply_updates(w, u), state
    >>> state = opt.init(w)
    >>> for _ in range(3):
    ...   w, state = step(w, state)
    >>> float(f(w)) < 1e-10
    True
  """

  def value_and_grad(params, *args, state, **kwargs):
    value = tu.get(state, 'value')
    grad = tu.get(state, 'grad')
    if value is None or grad is None:
      raise ValueError(
          'value_and_grad_from_state: the optimizer state holds no value or '
          'no gradient. Use a line search that stores them (the zoom line '
          'search does; the backtracking one needs store_grad=True).'
      )
    return jax.lax.cond(
        jnp.isfinite(value),
        lambda p, a, kw: (value, grad),
        lambda p, a, kw: tu.cast_like(
            jax.value_and_grad(value_fn)(p, *a, **kw), (value, grad)),
        params, args, kwargs,
    )

  return value_and_grad
