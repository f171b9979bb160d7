"""Casting policies for mixed precision, and small helpers for the train step.

A :class:`Policy` names three dtypes:

* ``param_dtype``: how parameters are stored (float32 master copies);
* ``compute_dtype``: what the forward and backward passes run in (float16 or
  bfloat16 for speed and memory);
* ``output_dtype``: what the model returns (float32, so the loss and its
  scaling are computed in full precision).

Casting touches floating-point leaves only; integer, boolean and complex
leaves pass unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import tree as tu

# Every spelling accepted by get_policy, and the dtype it means.
_DTYPE_NAMES = {
    'float16': jnp.float16, 'f16': jnp.float16, 'half': jnp.float16,
    'bfloat16': jnp.bfloat16, 'bf16': jnp.bfloat16,
    'float32': jnp.float32, 'f32': jnp.float32, 'single': jnp.float32,
    'full': jnp.float32,
    'float64': jnp.float64, 'f64': jnp.float64, 'double': jnp.float64,
}
_KEY_NAMES = {
    'params': 'param_dtype', 'param': 'param_dtype', 'p': 'param_dtype',
    'compute': 'compute_dtype', 'c': 'compute_dtype',
    'output': 'output_dtype', 'o': 'output_dtype',
}

all_finite = tu.all_finite


def cast_floating(tree: Any, dtype: Any) -> Any:
  """Casts every real floating-point leaf of ``tree`` to ``dtype``.

  Integer, boolean and complex leaves (and ``None``) are left as they are.

  Args:
    tree: a pytree of arrays.
    dtype: the floating dtype to cast to (a dtype or its name).

  Returns:
    A tree with the same structure.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> t = gradtx.mixed_precision.cast_floating(
    ...     {'w': jnp.ones(2), 'step': jnp.int32(3)}, jnp.bfloat16)
    >>> t['w'].dtype, t['step'].dtype
    (dtype(bfloat16), dtype('int32'))
  """
  return tu.cast(tree, _checks.check_dtype('dtype', dtype), kind=jnp.floating)


@dataclasses.dataclass(frozen=True)
class Policy:
  """Which dtypes parameters, computation and outputs use.

  Attributes:
    param_dtype: dtype of the stored parameters (typically float32).
    compute_dtype: dtype of the computation (float16, bfloat16 or float32).
    output_dtype: dtype of the model's outputs (typically float32).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> policy = gradtx.get_policy('params=float32,compute=float16,output=float32')
    >>> x = policy.cast_to_compute(jnp.ones(2))
    >>> x.dtype, policy.cast_to_output(x).dtype
    (dtype('float16'), dtype('float32'))
  """

  param_dtype: Any = jnp.float32
  compute_dtype: Any = jnp.float32
  output_dtype: Any = jnp.float32

  def __post_init__(self):
    for name in ('param_dtype', 'compute_dtype', 'output_dtype'):
      dtype = _checks.check_dtype(name, getattr(self, name))
      if dtype is None or not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(
            f'{name} must be a floating dtype, one of '
            f'{sorted(_DTYPE_NAMES)}, got {getattr(self, name)!r}'
        )
      object.__setattr__(self, name, dtype)

  def cast_to_param(self, tree: Any) -> Any:
    """Casts the floating leaves of ``tree`` to ``param_dtype``."""
    return cast_floating(tree, self.param_dtype)

  def cast_to_compute(self, tree: Any) -> Any:
    """Casts the floating leaves of ``tree`` to ``compute_dtype``."""
    return cast_floating(tree, self.compute_dtype)

  def cast_to_output(self, tree: Any) -> Any:
    """Casts the floating leaves of ``tree`` to ``output_dtype``."""
    return cast_floating(tree, self.output_dtype)

  def with_output_dtype(self, output_dtype: Any) -> 'Policy':
    """The same policy with another ``output_dtype``."""
    return dataclasses.replace(self, output_dtype=output_dtype)

  def __str__(self) -> str:
    return (
        f'params={self.param_dtype.name},compute={self.compute_dtype.name},'
        f'output={self.output_dtype.name}'
    )


def _parse_dtype(text: str, spec: str) -> Any:
  key = text.strip().lower()
  if key not in _DTYPE_NAMES:
    raise ValueError(
        f'policy {spec!r}: unknown dtype {text.strip()!r}; valid dtype names '
        f'are {sorted(_DTYPE_NAMES)}'
    )
  return _DTYPE_NAMES[key]


def get_policy(spec: Any) -> Policy:
  """Builds a :class:`Policy` from a string such as ``'params=float32,compute=float16,output=float32'``.

  Keys are ``params`` (or ``p``), ``compute`` (``c``) and ``output`` (``o``);
  keys left out default to float32. A bare dtype name (``'bfloat16'``) uses
  that dtype for all three. Dtype names: ``float16``/``f16``/``half``,
  ``bfloat16``/``bf16``, ``float32``/``f32``/``single``/``full``,
  ``float64``/``f64``/``double``. A :class:`Policy` is returned unchanged.

  Args:
    spec: the policy string, or a :class:`Policy`.

  Returns:
    A :class:`Policy`.

  Raises:
    ValueError: for an unknown key or dtype name; the valid ones are listed.

  Example:
    >>> import gradtx
    >>> str(gradtx.get_policy('p=f32,c=bf16'))
    'params=float32,compute=bfloat16,output=float32'
  """
  if isinstance(spec, Policy):
    return spec
  if not isinstance(spec, str):
    raise ValueError(
        "spec must be a string such as 'params=float32,compute=float16,"
        f"output=float32' or a Policy, got {spec!r}"
    )
  if '=' not in spec:
    dtype = _parse_dtype(spec, spec)
    return Policy(dtype, dtype, dtype)
  fields = {}
  for part in spec.split(','):
    if not part.strip():
      continue
    if '=' not in part:
      raise ValueError(
          f'policy {spec!r}: expected key=dtype, got {part.strip()!r}; valid '
          f'keys are {sorted(_KEY_NAMES)}'
      )
    key, value = part.split('=', 1)
    key = key.strip().lower()
    if key not in _KEY_NAMES:
      raise ValueError(
          f'policy {spec!r}: unknown key {key!r}; valid keys are '
          f'{sorted(_KEY_NAMES)}'
      )
    field = _KEY_NAMES[key]
    if field in fields:
      raise ValueError(f'policy {spec!r}: {field} is given twice')
    fields[field] = _parse_dtype(value, spec)
  return Policy(**fields)


def select_tree(pred: Any, a: Any, b: Any) -> Any:
  """``a`` where ``pred`` is True, else ``b``: a whole-tree ``jnp.where``.

  ``pred`` is a boolean scalar (an array, possibly traced), so this is safe
  under ``jit`` where a Python ``if`` is not. Both trees must have the same
  structure, shapes and dtypes; the result has them too.

  Args:
    pred: a boolean scalar.
    a: the tree chosen when ``pred`` is True.
    b: the tree chosen otherwise.

  Returns:
    A tree like ``a``.

  Raises:
    ValueError: if ``pred`` is not a scalar.
    TypeError: if ``a`` and ``b`` differ in structure or leaf dtypes.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.select_tree(jnp.array(False), {'w': jnp.ones(2)}, {'w': jnp.zeros(2)})
    {'w': Array([0., 0.], dtype=float32)}
  """
  if jnp.ndim(pred) != 0:
    raise ValueError(f'pred must be a boolean scalar, got shape {jnp.shape(pred)}')
  _checks.check_same_structure('select_tree(pred, a, b)', 'a', a, 'b', b)

  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    if jnp.result_type(x) != jnp.result_type(y):
      raise TypeError(
          'select_tree(pred, a, b): a leaf of a has dtype '
          f'{jnp.result_type(x)} but the matching leaf of b has dtype '
          f'{jnp.result_type(y)}'
      )
  return tu.where(jnp.asarray(pred, jnp.bool_), a, b)
