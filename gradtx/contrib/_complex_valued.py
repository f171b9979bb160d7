"""Running a real optimizer on complex params as pairs of real ones."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx import base


class SplitRealAndImaginaryArrays(NamedTuple):
  """The real and imaginary parts of one complex leaf, as two real arrays."""

  real: jax.Array
  imaginary: jax.Array


class SplitRealAndImaginaryState(NamedTuple):
  """State of :func:`split_real_and_imaginary`."""

  inner_state: base.OptState  # the inner transformation's state, built on
  # the split (real) params.


def _split(x):
  if x is not None and jnp.iscomplexobj(x):
    return SplitRealAndImaginaryArrays(jnp.real(x), jnp.imag(x))
  return x


def _merge(x):
  if isinstance(x, SplitRealAndImaginaryArrays):
    return jax.lax.complex(x.real, x.imaginary)
  return x


def _split_tree(tree: Any) -> Any:
  return jax.tree.map(_split, tree, is_leaf=lambda x: x is None)


def split_real_and_imaginary(
    inner: base.GradientTransformation,
) -> base.GradientTransformationExtraArgs:
  r"""Runs ``inner`` on the real and imaginary parts as separate real leaves.

  .. code-block:: text

    z = x + i·y   →   inner sees (x, y)   →   u = u_x + i·u_y

  Every complex leaf of the params and updates becomes a pair of real
  leaves before ``inner`` and is merged back afterwards; real leaves pass
  unchanged. So an optimizer whose rule is not defined for complex numbers
  (or whose complex rule you do not want, e.g. Adam's ``|g|²`` coupling the
  two parts) treats ``z`` as two independent real params. Remember JAX's
  convention: pass ``conj(jax.grad(f)(z))`` as the gradient of a real loss.
  Extra keyword arguments of ``update`` reach ``inner``.

  Args:
    inner: the transformation to run on real numbers.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`SplitRealAndImaginaryState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from gradtx import contrib
    >>> tx = contrib.split_real_and_imaginary(gradtx.scale_by_sign())
    >>> z = jnp.array([3.0 - 0.5j])
    >>> tx.update(z, tx.init(z))[0]  # sign of each part, not z/|z|
    Array([1.-1.j], dtype=complex64)

  References:
    Optax issue 196 (https://github.com/google-deepmind/optax/issues/196):
    complex optimisation as optimisation over pairs of reals.
  """
  inner = base.with_extra_args_support(inner)

  def init_fn(params):
    return SplitRealAndImaginaryState(inner.init(_split_tree(params)))

  def update_fn(updates, state, params=None, **extra_args):
    new, inner_state = inner.update(
        _split_tree(updates), state.inner_state, _split_tree(params),
        **extra_args)
    merged = jax.tree.map(
        _merge, new,
        is_leaf=lambda x: isinstance(x, SplitRealAndImaginaryArrays))
    return merged, SplitRealAndImaginaryState(inner_state)

  return base.transformation_with_extra_args(
      'split_real_and_imaginary', init_fn, update_fn)
