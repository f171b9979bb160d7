"""Skipping bad steps: non-finite gradients and oversized updates."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Protocol

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _shards
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class ApplyIfFiniteState(NamedTuple):
  """State of :func:`apply_if_finite`."""

  notfinite_count: jax.Array  # int32 scalar: consecutive non-finite steps.
  last_finite: jax.Array  # bool scalar: whether the last gradient was finite.
  total_notfinite: jax.Array  # int32 scalar: non-finite steps in all, never reset.
  inner_state: Any  # the inner state, untouched on skipped steps.


def apply_if_finite(
    inner: base.GradientTransformation, max_consecutive_errors: int
) -> base.GradientTransformationExtraArgs:
  """Skips the steps whose gradient holds a NaN or an infinity.

  .. code-block:: text

    finite = all(isfinite(g))
    n ← 0 if finite else n + 1                  (consecutive bad steps)
    (u, s) ← inner.update(g, s)   if finite or n > max_consecutive_errors
    (u, s) ← (−0, s)              otherwise

  On a skipped step the inner state is returned as it came in and the updates
  are negative zeros, so the params and the inner state are left bit-for-bit
  unchanged. ``inner`` runs under ``lax.cond`` and so costs nothing on a
  skipped step. After more than ``max_consecutive_errors`` bad steps in a row
  the wrapper gives up and applies the update anyway.

  Args:
    inner: the transformation to protect.
    max_consecutive_errors: how many consecutive bad steps to skip, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with an
    :class:`ApplyIfFiniteState` (counters ``notfinite_count``,
    ``total_notfinite`` and the flag ``last_finite``).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.apply_if_finite(gradtx.adam(0.1), max_consecutive_errors=3)
    >>> s = tx.init(jnp.ones(2))
    >>> u, s = tx.update(jnp.array([1.0, jnp.nan]), s)
    >>> u, int(s.total_notfinite), bool(s.last_finite)
    (Array([-0., -0.], dtype=float32), 1, False)
  """
  _checks.check_int('max_consecutive_errors', max_consecutive_errors, low=0)
  inner = base.with_extra_args_support(inner)

  def init_fn(params):
    return ApplyIfFiniteState(
        notfinite_count=_hyper.zero_count(),
        last_finite=jnp.array(True),
        total_notfinite=_hyper.zero_count(),
        inner_state=inner.init(params),
    )

  def update_fn(updates, state, params=None, **extra_args):
    finite = tu.all_finite(updates)
    notfinite_count = jnp.where(
        finite, jnp.zeros_like(state.notfinite_count),
        tu.safe_increment(state.notfinite_count))

    apply = jnp.logical_or(finite, notfinite_count > max_consecutive_errors)
    new_updates, inner_state = _leafwise.cond_update(
        apply, inner, updates, state.inner_state, params, extra_args,
        _leafwise.no_op_updates)
    return new_updates, ApplyIfFiniteState(
        notfinite_count=notfinite_count,
        last_finite=finite,
        total_notfinite=jnp.where(
            finite, state.total_notfinite,
            tu.safe_increment(state.total_notfinite)),
        inner_state=inner_state,
    )

  return base.transformation_with_extra_args(
      'apply_if_finite', init_fn, update_fn)


# ---------------------------------------------------------------------------
# Rules for MultiSteps(should_skip_update_fn=...).
# ---------------------------------------------------------------------------
class ShouldSkipUpdateFunction(Protocol):
  """``f(updates, gradient_step, params) -> (skip: bool scalar, info tree)``.

  ``info`` is stored in :attr:`gradtx.MultiStepsState.skip_state` for logging;
  its structure must not depend on the values.
  """

  def __call__(
      self, updates: base.Updates, gradient_step: jax.Array,
      params: Optional[base.Params],
  ) -> tuple[jax.Array, Any]:
    ...


def skip_not_finite(
    updates: base.Updates, gradient_step: jax.Array,
    params: Optional[base.Params],
) -> tuple[jax.Array, dict]:
  """Skips a mini-step whose updates hold a NaN or an infinity.

  Args:
    updates: the mini-step's gradients.
    gradient_step: unused.
    params: unused.

  Returns:
    ``(should_skip, {'should_skip': ..., 'num_not_finite': int32 count})``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> skip, info = gradtx.skip_not_finite(jnp.array([1.0, jnp.inf]), 0, None)
    >>> bool(skip), int(info['num_not_finite'])
    (True, 1)
  """
  del gradient_step, params
  counts = [jnp.sum(~jnp.isfinite(u)).astype(jnp.int32)
            for u in jax.tree.leaves(updates)]
  num = _shards.sum_over_shards(sum(counts, jnp.zeros([], jnp.int32)))
  should_skip = jnp.logical_not(_shards.all_agreed(num == 0))
  return should_skip, {'should_skip': should_skip, 'num_not_finite': num}


def skip_large_updates(
    updates: base.Updates, gradient_step: jax.Array,
    params: Optional[base.Params], max_squared_norm: float,
) -> tuple[jax.Array, dict]:
  """Skips a mini-step unless ``‖updates‖² < max_squared_norm``.

  A NaN norm is skipped too. Bind ``max_squared_norm`` with
  :func:`functools.partial` before passing it to :class:`gradtx.MultiSteps`.

  Args:
    updates: the mini-step's gradients.
    gradient_step: unused.
    params: unused.
    max_squared_norm: the largest accepted squared global norm.

  Returns:
    ``(should_skip, {'should_skip': ..., 'norm_squared': float32 scalar})``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> skip, info = gradtx.skip_large_updates(jnp.array([3.0, 4.0]), 0, None,
    ...                                        max_squared_norm=20.0)
    >>> bool(skip), float(info['norm_squared'])
    (True, 25.0)
  """
  del gradient_step, params
  norm_sq = tu.norm(updates, squared=True).astype(jnp.float32)
  should_skip = jnp.logical_not(_shards.all_agreed(norm_sq < max_squared_norm))
  return should_skip, {'should_skip': should_skip, 'norm_squared': norm_sq}
