"""Running a transformation only at some steps."""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class ConditionFn(Protocol):
  """``should_transform_fn(step, **extra_args) -> bool scalar``."""

  def __call__(self, step: jax.Array, **extra_args: Any) -> jax.Array:
    ...


class ConditionallyTransformState(NamedTuple):
  """State of :func:`conditionally_transform`."""

  inner_state: Any  # the inner transformation's state.
  step: jax.Array  # int32 scalar: calls to update so far.


class ConditionallyMaskState(NamedTuple):
  """State of :func:`conditionally_mask`."""

  step: jax.Array  # int32 scalar: calls to update so far.
  inner_state: Any  # the inner transformation's state.


class ApplyEvery(NamedTuple):
  """State of :func:`apply_every`."""

  count: jax.Array  # int32 scalar: position in the current window, in [0, k).
  grad_acc: base.Updates  # sum of the window's updates, like the params.


def _check_condition(fn: Any) -> None:
  if not callable(fn):
    raise ValueError(
        'should_transform_fn must be a function of the step count returning '
        f'a boolean scalar, got {fn!r}'
    )


def _conditional(name, state_cls, inner, should_transform_fn,
                 forward_extra_args, on_skip):
  """Shared body: ``lax.cond`` between ``inner.update`` and ``on_skip``."""
  _check_condition(should_transform_fn)
  inner = base.with_extra_args_support(inner)

  def init_fn(params):
    return state_cls(inner_state=inner.init(params), step=_hyper.zero_count())

  def update_fn(updates, state, params=None, **extra_args):
    pred = should_transform_fn(
        state.step, **(extra_args if forward_extra_args else {}))
    new_updates, inner_state = _leafwise.cond_update(
        pred, inner, updates, state.inner_state, params, extra_args, on_skip)
    return new_updates, state_cls(
        inner_state=inner_state, step=tu.safe_increment(state.step))

  return base.transformation_with_extra_args(name, init_fn, update_fn)


def conditionally_transform(
    inner: base.GradientTransformation,
    should_transform_fn: ConditionFn,
    forward_extra_args: bool = False,
) -> base.GradientTransformationExtraArgs:
  """Runs ``inner`` only at the steps where a condition holds.

  .. code-block:: text

    (u, s) ← inner.update(g, s)   if should_transform_fn(t)
    (u, s) ← (g, s)               otherwise (updates pass through unchanged)

  ``t`` counts the calls to ``update`` (0 for the first). The choice is made
  with ``lax.cond``, so ``inner`` does not run on the other steps.

  Args:
    inner: the transformation to run.
    should_transform_fn: ``f(step, **extra_args) -> bool scalar``.
    forward_extra_args: pass ``update``'s extra keyword arguments to
      ``should_transform_fn`` as well.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`ConditionallyTransformState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.conditionally_transform(gradtx.scale(10.0),
    ...                                     lambda step: step >= 1)
    >>> s = tx.init(jnp.ones(1))
    >>> u0, s = tx.update(jnp.ones(1), s)
    >>> u1, s = tx.update(jnp.ones(1), s)
    >>> u0, u1
    (Array([1.], dtype=float32), Array([10.], dtype=float32))
  """
  return _conditional('conditionally_transform', ConditionallyTransformState,
                      inner, should_transform_fn, forward_extra_args,
                      on_skip=lambda u: u)


def conditionally_mask(
    inner: base.GradientTransformation,
    should_transform_fn: ConditionFn,
    forward_extra_args: bool = False,
) -> base.GradientTransformationExtraArgs:
  """Runs ``inner`` only where a condition holds; zero updates otherwise.

  .. code-block:: text

    (u, s) ← inner.update(g, s)   if should_transform_fn(t)
    (u, s) ← (0, s)               otherwise

  Args:
    inner: the transformation to run.
    should_transform_fn: ``f(step, **extra_args) -> bool scalar``.
    forward_extra_args: pass ``update``'s extra keyword arguments to
      ``should_transform_fn`` as well.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`ConditionallyMaskState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.conditionally_mask(gradtx.scale(10.0),
    ...                                lambda step: step % 2 == 1)
    >>> s = tx.init(jnp.ones(1))
    >>> u0, s = tx.update(jnp.ones(1), s)
    >>> u1, s = tx.update(jnp.ones(1), s)
    >>> u0, u1
    (Array([0.], dtype=float32), Array([10.], dtype=float32))
  """
  return _conditional('conditionally_mask', ConditionallyMaskState, inner,
                      should_transform_fn, forward_extra_args,
                      on_skip=tu.zeros_like)


def apply_every(k: int = 1) -> base.GradientTransformation:
  """Sums updates over windows of ``k`` steps and emits the sum at the last.

  .. code-block:: text

    a ← g + (a if t mod k ≠ 0 else 0)
    u ← a if t mod k = k − 1 else 0

  Unlike :class:`gradtx.MultiSteps`, the transformations chained before it
  still update their state at every step.

  Args:
    k: the window length, an integer ``≥ 1``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`ApplyEvery`
    state.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.apply_every(2)
    >>> s = tx.init(jnp.zeros(1))
    >>> u0, s = tx.update(jnp.ones(1), s)
    >>> u1, s = tx.update(jnp.full(1, 2.0), s)
    >>> u0, u1
    (Array([0.], dtype=float32), Array([3.], dtype=float32))
  """
  _checks.check_int('k', k, low=1)

  def init_fn(params):
    return ApplyEvery(count=_hyper.zero_count(), grad_acc=tu.zeros_like(params))

  def update_fn(updates, state, params=None):
    del params
    position = state.count % k
    keep = position != 0
    emit = position == k - 1
    acc = jax.tree.map(lambda g, a: g + jnp.where(keep, a, 0).astype(a.dtype),
                       updates, state.grad_acc)
    out = jax.tree.map(lambda a: jnp.where(emit, a, jnp.zeros_like(a)), acc)
    return _leafwise.like_updates(out, updates), ApplyEvery(
        count=tu.safe_increment(state.count) % k,
        grad_acc=_leafwise.store_like(acc, state.grad_acc),
    )

  return base.transformation('apply_every', init_fn, update_fn)
