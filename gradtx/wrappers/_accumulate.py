"""Gradient accumulation: one optimizer step every k mini-batches."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, Union

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise
from gradtx.wrappers import _finite as finite

class MultiStepsState(NamedTuple):
  """State of :class:`MultiSteps`."""

  mini_step: jax.Array  # int32 scalar: accepted mini-steps in this window.
  gradient_step: jax.Array  # int32 scalar: inner optimizer steps taken.
  inner_opt_state: Any  # the inner optimizer's state.
  acc_grads: Any  # running mean (or sum) of the window, like params, in accumulator_dtype.
  skip_state: Any = ()  # what should_skip_update_fn returned last (for logging).


def _never_skip(updates, gradient_step, params):
  del updates, gradient_step, params
  return jnp.array(False), ()


class MultiSteps:
  """Accumulates gradients over ``k`` mini-steps, then takes one inner step.

  .. code-block:: text

    a ← a + (g − a)/(n + 1)   (use_grad_mean; a ← a + g otherwise)
    n ← n + 1
    if n = k(t):  u, s ← opt.update(a, s);  a ← 0;  n ← 0;  t ← t + 1
    else:         u ← 0                     (opt does not run)

  With equal mini-batches and ``use_grad_mean=True`` the emitted step equals
  one step of ``opt`` on the concatenated batch. The choice between
  accumulating and stepping is a ``lax.switch``, so the inner optimizer's
  computation only runs on the k-th mini-step; its extra memory is the one
  accumulator ``a``, in ``accumulator_dtype``. The zero updates of the other
  steps are negative zeros, so applying them leaves the params bit-for-bit
  unchanged.

  A mini-step for which ``should_skip_update_fn`` returns True is dropped as if
  it never happened (the counters and ``a`` are unchanged), e.g.
  :func:`gradtx.skip_not_finite` or
  ``functools.partial(gradtx.skip_large_updates, max_squared_norm=...)``.

  Args:
    opt: the inner optimizer.
    every_k_schedule: ``k``, an integer ``≥ 1``, or a function of the
      gradient step returning it (to grow the batch during training).
    use_grad_mean: average the mini-step gradients (True) or sum them.
    should_skip_update_fn: optional ``f(updates, gradient_step, params) ->
      (bool scalar, info)``; ``info`` is kept in ``state.skip_state``.
    accumulator_dtype: dtype of the accumulator, default float32 (as in
      Optax); None keeps the params' dtype.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.MultiSteps(gradtx.scale(-1.0), every_k_schedule=2)
    >>> s = opt.init(jnp.zeros(1))
    >>> u0, s = opt.update(jnp.array([1.0]), s)
    >>> u1, s = opt.update(jnp.array([3.0]), s)
    >>> u0, u1, bool(opt.has_updated(s))
    (Array([-0.], dtype=float32), Array([-2.], dtype=float32), True)
  """

  def __init__(
      self,
      opt: base.GradientTransformation,
      every_k_schedule: Union[int, Callable[[jax.Array], Any]],
      use_grad_mean: bool = True,
      should_skip_update_fn: Optional[finite.ShouldSkipUpdateFunction] = None,
      accumulator_dtype: Optional[Any] = jnp.float32,
  ):
    if not (hasattr(opt, 'init') and hasattr(opt, 'update')):
      raise ValueError(
          f'opt must be a gradient transformation, got {type(opt).__name__}')
    if callable(every_k_schedule):
      self._every_k = every_k_schedule
    else:
      _checks.check_int('every_k_schedule', every_k_schedule, low=1)
      self._every_k = lambda step, k=every_k_schedule: k
    if should_skip_update_fn is not None and not callable(should_skip_update_fn):
      raise ValueError(
          'should_skip_update_fn must be None or a function, got '
          f'{should_skip_update_fn!r}')
    self._opt = base.with_extra_args_support(opt)
    self._use_grad_mean = bool(use_grad_mean)
    self._should_skip = should_skip_update_fn or _never_skip
    self._accumulator_dtype = _checks.check_dtype(
        'accumulator_dtype', accumulator_dtype)
    self._tx = base.transformation_with_extra_args(
        'MultiSteps', self._init, self._update)

  @property
  def inner_opt(self) -> base.GradientTransformationExtraArgs:
    """The wrapped optimizer."""
    return self._opt

  def _init(self, params):
    gradient_step = _hyper.zero_count()
    _, skip_state = self._should_skip(tu.zeros_like(params), gradient_step, params)
    return MultiStepsState(
        mini_step=_hyper.zero_count(),
        gradient_step=gradient_step,
        inner_opt_state=self._opt.init(params),
        acc_grads=_leafwise.zeros_state(params, self._accumulator_dtype),
        skip_state=skip_state,
    )

  def _accumulate(self, updates, acc, n):
    if self._use_grad_mean:
      def step(g, a):
        a32 = a.astype(tu.compute_dtype(g, a))
        return a32 + (g - a32) / (n + 1).astype(a32.dtype)
    else:
      step = lambda g, a: a + g
    return jax.tree.map(step, updates, acc)

  def _update(self, updates, state, params=None, **extra_args):
    k = self._every_k(state.gradient_step)
    skip, skip_state = self._should_skip(updates, state.gradient_step, params)
    skip = jnp.asarray(skip)
    if skip.dtype != jnp.bool_ or skip.shape != ():
      raise ValueError(
          'should_skip_update_fn must return a boolean scalar first, got an '
          f'array of dtype {skip.dtype} and shape {skip.shape}')
    acc = self._accumulate(updates, state.acc_grads, state.mini_step)
    emit = state.mini_step >= jnp.asarray(k, jnp.int32) - 1
    branch = jnp.where(skip, 0, jnp.where(emit, 2, 1))

    def drop(_):
      return _leafwise.no_op_updates(updates), state._replace(skip_state=skip_state)

    def accumulate(_):
      return _leafwise.no_op_updates(updates), state._replace(
          mini_step=tu.safe_increment(state.mini_step),
          acc_grads=_leafwise.store_like(acc, state.acc_grads),
          skip_state=skip_state,
      )

    def step(_):
      new, inner_state = self._opt.update(
          tu.cast_like(acc, updates), state.inner_opt_state, params,
          **extra_args)
      return _leafwise.like_updates(new, updates), MultiStepsState(
          mini_step=jnp.zeros_like(state.mini_step),
          gradient_step=tu.safe_increment(state.gradient_step),
          inner_opt_state=_leafwise.store_like(
              inner_state, state.inner_opt_state),
          acc_grads=tu.zeros_like(state.acc_grads),
          skip_state=skip_state,
      )

    return jax.lax.switch(branch, (drop, accumulate, step), None)

  def init(self, params: base.Params) -> MultiStepsState:
    """Builds the initial :class:`MultiStepsState`."""
    return self._tx.init(params)

  def update(
      self,
      updates: base.Updates,
      state: MultiStepsState,
      params: Optional[base.Params] = None,
      **extra_args: Any,
  ) -> tuple[base.Updates, MultiStepsState]:
    """Accumulates ``updates``; every k-th accepted call runs the inner step."""
    return self._tx.update(updates, state, params, **extra_args)

  def has_updated(self, state: MultiStepsState) -> jax.Array:
    """True right after a step of the inner optimizer (a bool scalar)."""
    return jnp.logical_and(state.mini_step == 0, state.gradient_step > 0)

  def gradient_transformation(self) -> base.GradientTransformationExtraArgs:
    """This wrapper as a plain ``(init, update)`` pair, e.g. for :func:`chain`."""
    return self._tx
