"""Input validation shared by every constructor and ``update``.

Hyperparameters are checked once, in plain Python, when a transformation is
built. Tree structures are checked when ``update`` is called; that check looks
only at structures, so it never touches traced values and never breaks ``jit``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np


# ---------------------------------------------------------------------------
# Hyperparameter checks.
# ---------------------------------------------------------------------------
def _is_concrete_number(value: Any) -> bool:
  """True for Python/NumPy numbers and concrete 0-d arrays (not tracers)."""
  if isinstance(value, bool):
    return False
  if isinstance(value, numbers.Real):
    return True
  if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
    return True
  if isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer):
    return value.ndim == 0
  return False


def check_range(
    name: str,
    value: Any,
    low: Optional[float] = None,
    high: Optional[float] = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> None:
  """Raises ``ValueError`` if a constant hyperparameter lies outside a range.

  Schedules (callables), ``None`` and traced values are not checked: they are
  only known at run time.

  Args:
    name: the argument's name, used in the message.
    value: the value to check.
    low: lower bound, or None for no lower bound.
    high: upper bound, or None for no upper bound.
    low_inclusive: whether ``low`` itself is allowed.
    high_inclusive: whether ``high`` itself is allowed.
  """
  if value is None or callable(value) or not _is_concrete_number(value):
    return
  v = float(value)
  lo = '-inf' if low is None else f'{low:g}'
  hi = 'inf' if high is None else f'{high:g}'
  interval = (
      ('[' if low_inclusive and low is not None else '(')
      + f'{lo}, {hi}'
      + (']' if high_inclusive and high is not None else ')')
  )
  bad = math.isnan(v)
  if low is not None:
    bad |= v < low if low_inclusive else v <= low
  if high is not None:
    bad |= v > high if high_inclusive else v >= high
  if bad:
    raise ValueError(f'{name} must be in {interval}, got {value!r}')


def check_non_negative(name: str, value: Any) -> None:
  """``value >= 0``."""
  check_range(name, value, 0.0, None)


def check_positive(name: str, value: Any) -> None:
  """``value > 0``."""
  check_range(name, value, 0.0, None, low_inclusive=False)


def check_beta(name: str, value: Any) -> None:
  """An exponential decay rate in ``[0, 1)``."""
  check_range(name, value, 0.0, 1.0, high_inclusive=False)


def check_unit_interval(name: str, value: Any) -> None:
  """A value in ``[0, 1]``."""
  check_range(name, value, 0.0, 1.0)


def check_int(name: str, value: Any, low: int = 0) -> None:
  """An integer ``>= low``: a Python or NumPy integer, or an integer array.

  A concrete 0-d integer array is checked like a Python int; a traced integer
  value is accepted unchecked (it is only known at run time).
  """
  if isinstance(value, (np.ndarray, np.generic, jax.Array)) and jnp.issubdtype(
      jnp.result_type(value), jnp.integer) and np.ndim(value) == 0:
    if isinstance(value, jax.core.Tracer):
      return
    value = int(value)
  if isinstance(value, bool) or not isinstance(value, numbers.Integral):
    raise ValueError(
        f'{name} must be an integer >= {low}, got {value!r} '
        f'({type(value).__name__})'
    )
  if value < low:
    raise ValueError(f'{name} must be an integer >= {low}, got {value!r}')


def check_callable_or_number(name: str, value: Any) -> None:
  """A float hyperparameter that may also be a schedule."""
  if callable(value) or isinstance(value, (numbers.Real, np.generic, jax.Array, np.ndarray)):
    if isinstance(value, bool):
      raise ValueError(f'{name} must be a number or a schedule, got {value!r}')
    return
  raise ValueError(
      f'{name} must be a number or a schedule (a function of the step), got '
      f'{value!r} ({type(value).__name__})'
  )


def check_dtype(name: str, value: Any) -> Optional[jnp.dtype]:
  """Canonicalises an optional dtype argument, listing the valid names."""
  if value is None:
    return None
  try:
    return jnp.dtype(value)
  except TypeError as e:
    raise ValueError(
        f'{name} must be None or a floating dtype such as jnp.float32, '
        f"jnp.bfloat16, jnp.float16 or 'float32', got {value!r}"
    ) from e


def require_params(name: str, params: Any) -> None:
  """Raises ``ValueError`` when a transformation that needs params got none."""
  if params is None:
    raise ValueError(
        f'{name} needs the params: call update(updates, state, params).'
    )


# ---------------------------------------------------------------------------
# Tree-structure checks at update time.
# ---------------------------------------------------------------------------
def _short(treedef: Any, limit: int = 600) -> str:
  s = str(treedef)
  return s if len(s) <= limit else s[:limit] + ' ...'


def describe_mismatch(expected_name: str, expected: Any, got_name: str, got: Any) -> str:
  """A side-by-side description of two tree structures."""
  return (
      f'  {expected_name}: {_short(expected)}\n'
      f'  {got_name}: {_short(got)}'
  )


def check_same_structure(
    what: str, a_name: str, a: Any, b_name: str, b: Any
) -> None:
  """Raises ``TypeError`` showing both structures when two trees differ."""
  sa, sb = jax.tree.structure(a), jax.tree.structure(b)
  if sa != sb:
    raise TypeError(
        f'{what}: the tree structures differ.\n'
        + describe_mismatch(a_name, sa, b_name, sb)
    )


class StructureCheck:
  """Checks that ``update`` receives updates and a state that belong together.

  The expected state structure for a given update tree is what ``init`` would
  build for it; it is computed once per update structure with
  :func:`jax.eval_shape` (no FLOPs) and cached.
  """

  def __init__(self, name: str, init_fn: Callable[[Any], Any]):
    self.name = name
    self.init_fn = init_fn
    self._cache: dict[Any, Any] = {}

  def expected(self, updates: Any) -> Any:
    """The state structure ``init`` builds for ``updates`` (None if unknown)."""
    leaves, treedef = jax.tree.flatten(updates)
    key = (treedef, tuple(np.shape(x) for x in leaves))
    try:
      return self._cache[key]
    except KeyError:
      pass
    try:
      expected = jax.tree.structure(jax.eval_shape(self.init_fn, updates))
    except Exception:  # pylint: disable=broad-except
      expected = None  # init cannot be traced abstractly: skip the check.
    if len(self._cache) > 64:
      self._cache.clear()
    self._cache[key] = expected
    return expected

  def __call__(self, updates: Any, state: Any, params: Any = None) -> None:
    if params is not None:
      is_none = lambda x: x is None
      if jax.tree.structure(params, is_leaf=is_none) != jax.tree.structure(
          updates, is_leaf=is_none):
        raise TypeError(
            f'{self.name}.update received updates whose tree structure '
            'differs from the params.\n'
            + describe_mismatch('params ', jax.tree.structure(params),
                                'updates', jax.tree.structure(updates))
        )
    expected = self.expected(updates)
    if expected is None:
      return
    got = jax.tree.structure(state)
    if got == expected:
      return
    raise TypeError(
        f'{self.name}.update received updates and a state that do not '
        'belong together: either the gradient tree does not have the '
        'structure of the params given to init, or the state comes from a '
        'different optimizer.\n'
        f'  state expected for these updates: {_short(expected)}\n'
        f'  state received:                   {_short(got)}\n'
        f'  updates received:                 '
        f'{_short(jax.tree.structure(updates))}'
    )
