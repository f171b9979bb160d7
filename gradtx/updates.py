"""Applying updates to parameters."""

from __future__ import annotations

from typing import Any, Union

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx.base import Params, Updates


def apply_updates(params: Params, updates: Updates) -> Params:
  """Returns ``params + updates``, each result in its parameter's dtype.

  The sum is computed in the promoted dtype and rounded once to the
  parameter's dtype, so bfloat16 and float16 params stay in their dtype.
  ``None`` params are left as ``None``.

  Args:
    params: the current parameters.
    updates: a tree with the same structure (the output of ``update``).

  Returns:
    The new parameters.

  Raises:
    TypeError: when the two trees have different structures; both are shown.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.apply_updates({'w': jnp.ones(2, jnp.bfloat16)},
    ...                      {'w': jnp.full(2, 0.5)})['w']
    Array([1.5, 1.5], dtype=bfloat16)
  """
  is_none = lambda x: x is None
  if jax.tree.structure(params, is_leaf=is_none) != jax.tree.structure(
      updates, is_leaf=is_none
  ):
    _checks.check_same_structure(
        'apply_updates(params, updates)', 'params', params, 'updates', updates
    )

  def add(p, u):
    if p is None:
      return None
    p = jnp.asarray(p)
    return (p + u).astype(p.dtype)

  return jax.tree.map(add, params, updates, is_leaf=is_none)


def incremental_update(
    new_tensors: Any, old_tensors: Any, step_size: Union[float, jax.Array]
) -> Any:
  """Polyak averaging: ``step_size * new + (1 - step_size) * old``.

  Used for target networks and EMA copies of the weights.

  Args:
    new_tensors: the latest values (e.g. the online network's params).
    old_tensors: the running average, same structure; the result keeps its
      dtypes.
    step_size: the weight of ``new_tensors``, in ``[0, 1]``.

  Returns:
    The new running average.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.incremental_update(jnp.ones(2), jnp.zeros(2), 0.25)
    Array([0.25, 0.25], dtype=float32)
  """
  _checks.check_unit_interval('step_size', step_size)
  return jax.tree.map(
      lambda n, o: (step_size * n + (1.0 - step_size) * o).astype(
          jnp.result_type(o)
      ),
      new_tensors, old_tensors,
  )


def periodic_update(
    new_tensors: Any, old_tensors: Any, steps: jax.Array, update_period: int
) -> Any:
  """Returns ``new_tensors`` when ``steps % update_period == 0``, else the old.

  The choice uses ``jnp.where``, so it is safe under ``jit`` with a traced
  ``steps``.

  Args:
    new_tensors: the latest values (e.g. the online network's params).
    old_tensors: the current copy (e.g. a target network), same structure.
    steps: the step count, an integer scalar (may be traced).
    update_period: copy every ``update_period`` steps, ``≥ 1``.

  Returns:
    ``new_tensors`` or ``old_tensors``, leaf by leaf.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.periodic_update(jnp.ones(1), jnp.zeros(1), jnp.array(4), 2)
    Array([1.], dtype=float32)
  """
  _checks.check_int('update_period', update_period, low=1)
  take_new = (steps % update_period) == 0
  return jax.tree.map(lambda n, o: jnp.where(take_new, n, o), new_tensors, old_tensors)
