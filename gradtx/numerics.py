"""Numerically safe building blocks: norms with finite gradients, and friends.

These carry Optax's names (``optax.safe_norm``, ``optax.global_norm``, ...),
so code that uses them switches with the import too.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import jax
import jax.numpy as jnp

from gradtx import tree as tu
from gradtx.tree import safe_increment as safe_increment  # re-exported name


def safe_norm(
    x: jax.Array,
    min_norm: Union[float, jax.Array],
    ord: Optional[Union[int, float, str]] = None,  # pylint: disable=redefined-builtin
    axis: Optional[Union[int, tuple[int, ...]]] = None,
    keepdims: bool = False,
) -> jax.Array:
  """``max(‖x‖, min_norm)`` whose gradient is 0, not NaN, where ``‖x‖ ≤ min_norm``.

  ``jnp.maximum(jnp.linalg.norm(x), min_norm)`` has a NaN gradient at
  ``x = 0`` because both branches are differentiated. Here, where the norm is
  at most ``min_norm``, it is recomputed on ones, so that branch is smooth.
  The norm is computed in float32 (or wider) for low-precision ``x``.

  Args:
    x: an array.
    min_norm: the lower bound of the result.
    ord: the order of the norm, as in :func:`jnp.linalg.norm` (None: 2-norm
      of the flattened array, or Frobenius).
    axis: the axes to reduce, as in :func:`jnp.linalg.norm`.
    keepdims: keep the reduced axes with size one.

  Returns:
    The clipped norm.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> gradtx.safe_norm(jnp.array([3.0, 4.0]), 1.0)
    Array(5., dtype=float32)
    >>> jax.grad(lambda x: gradtx.safe_norm(x, 1.0))(jnp.zeros(2))
    Array([0., 0.], dtype=float32)
  """
  x = jnp.asarray(x)
  x = x.astype(tu.compute_dtype(x))
  norm = jnp.linalg.norm(x, ord=ord, axis=axis, keepdims=True)
  small = norm <= min_norm
  x_safe = jnp.where(small, jnp.ones_like(x), x)
  safe = jnp.linalg.norm(x_safe, ord=ord, axis=axis, keepdims=True)
  out = jnp.where(small, jnp.asarray(min_norm, safe.dtype), safe)
  if not keepdims:
    out = jnp.squeeze(out, axis=axis) if axis is not None else out.reshape(())
  return out


def safe_root_mean_squares(x: jax.Array, min_rms: Union[float, jax.Array]) -> jax.Array:
  """``max(√mean(|x|²), min_rms)`` with a gradient of 0, not NaN, at ``x = 0``.

  Args:
    x: an array (computed on in float32 or wider).
    min_rms: the lower bound of the result.

  Returns:
    A scalar.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.safe_root_mean_squares(jnp.array([3.0, -3.0]), 1e-3)
    Array(3., dtype=float32)
  """
  x = jnp.asarray(x)
  x = x.astype(tu.compute_dtype(x))
  small = jnp.sqrt(jnp.mean(tu.abs_sq(x))) <= min_rms
  x_safe = jnp.where(small, jnp.ones_like(x), x)
  rms = jnp.sqrt(jnp.mean(tu.abs_sq(x_safe)))
  return jnp.where(small, jnp.asarray(min_rms, rms.dtype), rms)


def global_norm(updates: Any) -> jax.Array:
  """The 2-norm of all leaves together: ``√(Σ_leaves Σ |x|²)``.

  Args:
    updates: a pytree of arrays.

  Returns:
    A float32 (or wider) scalar.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.global_norm({'a': jnp.array([3.0]), 'b': jnp.array([4.0])})
    Array(5., dtype=float32)
  """
  return tu.norm(updates)


@jax.custom_vjp
def _scale_gradient(inputs, scale):
  return inputs


def _scale_gradient_fwd(inputs, scale):
  return inputs, scale


def _scale_gradient_bwd(scale, g):
  return (jax.tree.map(lambda x: x * scale, g), None)


_scale_gradient.defvjp(_scale_gradient_fwd, _scale_gradient_bwd)


def scale_gradient(inputs: Any, scale: Union[float, jax.Array]) -> Any:
  """The identity on the forward pass; multiplies the gradient by ``scale``.

  ``scale = 0`` stops the gradient, ``scale = 1`` leaves it alone.

  Args:
    inputs: a pytree of arrays.
    scale: the factor applied to the cotangent.

  Returns:
    ``inputs``, unchanged.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> jax.grad(lambda x: gradtx.scale_gradient(x, 0.5) ** 2)(3.0)
    Array(3., dtype=float32, weak_type=True)
  """
  if isinstance(scale, (int, float)) and scale == 1:
    return inputs
  if isinstance(scale, (int, float)) and scale == 0:
    return jax.lax.stop_gradient(inputs)
  return _scale_gradient(inputs, scale)
