"""Clipping: bounding updates element-wise, per block, globally or per example.

Every clipping transformation here is stateless; each has its own empty state
class so that a state can be recognised by its type. The norms are computed in
float32 (or wider) whatever the update dtype, so that bfloat16 and float16
gradients neither overflow (``300² > 65504``) nor lose the norm to rounding;
the clipped updates come back in the dtype they came in.

Complex updates are supported by the norm-based clips: the norm of ``z`` is
``sqrt(sum |z|²)``, so a complex leaf counts as two real coordinates.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple, Optional, Union

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise

Axis = Optional[Union[int, tuple[int, ...]]]


class ClipState(NamedTuple):
  """:func:`clip` keeps no state."""


class ClipByBlockRmsState(NamedTuple):
  """:func:`clip_by_block_rms` keeps no state."""


class ClipByGlobalNormState(NamedTuple):
  """:func:`clip_by_global_norm` keeps no state."""


class AdaptiveGradClipState(NamedTuple):
  """:func:`adaptive_grad_clip` keeps no state."""


# ---------------------------------------------------------------------------
# Norm helpers (float32 or wider, real for complex inputs).
# ---------------------------------------------------------------------------
# ---------------------------------------------------------------------------
# Element-wise and block-wise clipping.
# ---------------------------------------------------------------------------
def clip(max_delta: float) -> base.GradientTransformation:
  """Clips every element to ``[-max_delta, max_delta]``: ``u ← clamp(g, ±c)``.

  This is PyTorch's ``clip_grad_value_`` and Keras's ``clipvalue``. It is
  meant for real updates (the order ``<`` is not defined for complex ones).

  Args:
    max_delta: the bound ``c ≥ 0`` (0 zeroes the update).

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`ClipState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.clip(1.0)
    >>> tx.update(jnp.array([-3.0, 0.5, 2.0]), tx.init(jnp.zeros(3)))[0]
    Array([-1. ,  0.5,  1. ], dtype=float32)
  """
  _checks.check_non_negative('max_delta', max_delta)

  def update_fn(updates, state, params=None):
    del params
    out = jax.tree.map(
        lambda g: jnp.clip(g, -max_delta, max_delta), updates
    )
    return _leafwise.like_updates(out, updates), state

  return base.transformation('clip', lambda params: ClipState(), update_fn)


def clip_by_block_rms(threshold: float) -> base.GradientTransformation:
  """Bounds the RMS of each leaf ("block"): ``u ← g / max(1, rms(g) / c)``.

  ``rms(g) = sqrt(mean |g|²)`` over the elements of one leaf (a weight matrix,
  a bias vector, ...), so each leaf is rescaled on its own.

  Args:
    threshold: the largest RMS allowed for a leaf, ``c ≥ 0`` (0 zeroes the update).

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`ClipByBlockRmsState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.clip_by_block_rms(1.0)
    >>> g = {'a': jnp.array([1.0, 7.0]), 'b': jnp.array([0.5, 0.5])}
    >>> u, _ = tx.update(g, tx.init(g))
    >>> u['a'], u['b']  # rms(a) = 5, so a is divided by 5; b is left alone
    (Array([0.2, 1.4], dtype=float32), Array([0.5, 0.5], dtype=float32))
  """
  _checks.check_non_negative('threshold', threshold)

  def clip_leaf(g):
    rms = jnp.sqrt(jnp.mean(tu.abs_sq(g)))
    # A zero leaf stays zero, even with threshold 0 (no 0/0).
    denom = jnp.maximum(1.0, jnp.where(rms > 0, rms / threshold, 0.0))
    return g.astype(tu.compute_dtype(g)) / denom

  def update_fn(updates, state, params=None):
    del params
    out = jax.tree.map(clip_leaf, updates)
    return _leafwise.like_updates(out, updates), state

  return base.transformation(
      'clip_by_block_rms', lambda params: ClipByBlockRmsState(), update_fn
  )


# ---------------------------------------------------------------------------
# Global-norm clipping.
# ---------------------------------------------------------------------------
def clip_by_global_norm(max_norm: float) -> base.GradientTransformation:
  """Rescales all updates together so their global norm is at most ``max_norm``.

  .. code-block:: text

    N = sqrt(Σ_leaves Σ |g|²)
    u ← g                  if N < max_norm
    u ← g · max_norm / N   otherwise

  Where frameworks differ (see ``docs/clipping.md``): PyTorch's
  ``clip_grad_norm_`` multiplies by ``min(max_norm / (N + 1e-6), 1)``, so it
  always shrinks a little more (a relative ``1e-6 / N``) and it rescales by
  exactly that factor even when ``N`` is just below ``max_norm``. Keras's
  ``global_clipnorm`` and Optax match this transformation (no epsilon).

  Non-finite gradients do not raise (nothing is checked in Python): if ``N``
  is ``inf``, finite entries become ``0`` and infinite ones ``nan``; if ``N``
  is ``nan`` every entry becomes ``nan``. Chain :func:`gradtx.zero_nans` or
  skip such steps if that can happen.

  The norm is computed in float32 (or wider) for every input dtype.

  Args:
    max_norm: the largest global norm allowed, ``≥ 0`` (0 zeroes the update).

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ClipByGlobalNormState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.clip_by_global_norm(1.0)
    >>> g = {'a': jnp.array([3.0]), 'b': jnp.array([4.0])}  # N = 5
    >>> u, _ = tx.update(g, tx.init(g))
    >>> u['a'], u['b']
    (Array([0.6], dtype=float32), Array([0.8], dtype=float32))

  References:
    Pascanu et al., *On the difficulty of training recurrent neural
    networks*, ICML 2013.
  """
  _checks.check_non_negative('max_norm', max_norm)

  def update_fn(updates, state, params=None):
    del params
    g_norm = tu.norm(updates)
    keep = g_norm < max_norm
    # Dividing by 1 where the branch is not taken keeps the unused branch
    # finite, and its derivative too, when the norm is 0.
    # With max_norm = 0 a zero gradient stays zero (no 0/0).
    denom = jnp.where(keep | (g_norm == 0), jnp.ones_like(g_norm), g_norm)

    def clip_leaf(g):
      x = g.astype(tu.compute_dtype(g))
      return jnp.where(keep, x, (x / denom.astype(x.dtype)) * max_norm)

    out = jax.tree.map(clip_leaf, updates)
    return _leafwise.like_updates(out, updates), state

  return base.transformation(
      'clip_by_global_norm', lambda params: ClipByGlobalNormState(), update_fn
  )


# ---------------------------------------------------------------------------
# Adaptive gradient clipping (NFNets).
# ---------------------------------------------------------------------------
def _check_axis(axis: Axis) -> None:
  if axis is None or (
      isinstance(axis, numbers.Integral) and not isinstance(axis, bool)
  ):
    return
  if isinstance(axis, tuple) and all(
      isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis
  ):
    return
  raise ValueError(
      f'axis must be None, an int or a tuple of ints, got {axis!r}'
  )


def unitwise_norm(x: jax.Array, axis: Axis = None) -> jax.Array:
  """The L2 norm of each "unit" of ``x``, broadcast back to ``x.shape``.

  A unit is the slice that ``axis`` reduces over. With ``axis=None`` the axes
  follow the usual layouts (as in Optax): the whole array for scalars and
  vectors (after squeezing), axis 0 for a linear kernel ``(in, out)`` or a
  multi-head kernel ``(in, heads, out)``, axes ``(0, 1, 2)`` for a 2-D
  convolution ``HWIO`` and ``(0, 1, 2, 3)`` for a 3-D convolution ``DHWIO``.
  The sum of squares is taken in float32 (or wider).

  Args:
    x: an array (real or complex).
    axis: the axes to reduce; None infers them from the rank (1 to 5).

  Returns:
    ``‖x_unit‖`` for every element, with the shape of ``x``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> gradtx.unitwise_norm(jnp.array([[3.0, 1.0], [4.0, 0.0]]))  # per column
    Array([[5., 1.],
           [5., 1.]], dtype=float32)
  """
  sq = tu.abs_sq(x)
  if axis is not None:
    red = jnp.sum(sq, axis=axis, keepdims=True)
  elif jnp.squeeze(x).ndim <= 1:
    red = jnp.sum(sq, keepdims=True)
  elif x.ndim in (2, 3):
    red = jnp.sum(sq, axis=0, keepdims=True)
  elif x.ndim == 4:
    red = jnp.sum(sq, axis=(0, 1, 2), keepdims=True)
  elif x.ndim == 5:
    red = jnp.sum(sq, axis=(0, 1, 2, 3), keepdims=True)
  else:
    raise ValueError(
        f'unitwise_norm: cannot infer the unit axes of an array of shape '
        f'{x.shape} (rank {x.ndim}); pass axis=... to choose the axes to '
        'reduce over.'
    )
  return jnp.broadcast_to(jnp.sqrt(red), x.shape)


def unitwise_clip(
    g_norm: jax.Array,
    max_norm: jax.Array,
    grad: jax.Array,
    div_eps: float = 1e-6,
) -> jax.Array:
  """Rescales each unit of ``grad`` whose norm reaches ``max_norm``.

  .. code-block:: text

    u = g                                       where ‖g_unit‖ < max_norm
    u = g · max_norm / max(‖g_unit‖, div_eps)   elsewhere

  Args:
    g_norm: the unit norms of ``grad`` (see :func:`unitwise_norm`), with the
      shape of ``grad``.
    max_norm: the bound for each element's unit, with the shape of ``grad``.
    grad: the array to clip.
    div_eps: floor on the divisor.

  Returns:
    The clipped array, in the compute dtype of ``grad`` (float32 or wider).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> g = jnp.array([3.0, 4.0])
    >>> gradtx.unitwise_clip(gradtx.unitwise_norm(g), jnp.full(2, 1.0), g)
    Array([0.6, 0.8], dtype=float32)
  """
  shapes = {jnp.shape(g_norm), jnp.shape(max_norm), jnp.shape(grad)}
  if len(shapes) != 1:
    raise ValueError(
        'unitwise_clip: g_norm, max_norm and grad must have the same shape, '
        f'got {jnp.shape(g_norm)}, {jnp.shape(max_norm)} and {jnp.shape(grad)}'
    )
  x = grad.astype(tu.compute_dtype(grad))
  scaled = x * (max_norm / jnp.maximum(g_norm, div_eps)).astype(x.dtype)
  return jnp.where(g_norm < max_norm, x, scaled)


def adaptive_grad_clip(
    clipping: float,
    eps: float = 1e-3,
    axis: Axis = None,
) -> base.GradientTransformation:
  """Clips each unit's update relative to the unit's parameter norm (AGC).

  .. code-block:: text

    limit = clipping · max(‖θ_unit‖, eps)
    u ← g                           if ‖g_unit‖ < limit
    u ← g · limit / max(‖g_unit‖, 1e-6)   otherwise

  A unit is a slice of a leaf: by default one output column of a linear or
  convolution kernel (the norm runs over the input axes), or the whole leaf
  for vectors. ``eps`` keeps zero-initialised parameters trainable.

  Args:
    clipping: the largest ratio ``‖g‖ / ‖θ‖`` allowed, ``≥ 0`` (0 zeroes the update).
    eps: floor on the parameter norm, ``≥ 0``.
    axis: the axes to take the norm over; None infers them from the rank (1
      to 5 dimensions are understood).

  Returns:
    A :class:`~gradtx.GradientTransformation` with an
    :class:`AdaptiveGradClipState`. It needs ``params`` in ``update``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.adaptive_grad_clip(0.1)
    >>> p = jnp.array([3.0, 4.0])  # ‖θ‖ = 5, so ‖u‖ ≤ 0.5
    >>> tx.update(jnp.array([0.0, 2.0]), tx.init(p), p)[0]
    Array([0. , 0.5], dtype=float32)

  References:
    Brock et al., *High-Performance Large-Scale Image Recognition Without
    Normalization*, ICML 2021.
  """
  _checks.check_non_negative('clipping', clipping)
  _checks.check_non_negative('eps', eps)
  _check_axis(axis)

  def clip_leaf(g, p):
    limit = clipping * jnp.maximum(unitwise_norm(p, axis), eps)
    return unitwise_clip(unitwise_norm(g, axis), limit, g)

  def update_fn(updates, state, params=None):
    _checks.require_params('adaptive_grad_clip', params)
    out = jax.tree.map(clip_leaf, updates, params)
    return _leafwise.like_updates(out, updates), state

  return base.transformation(
      'adaptive_grad_clip', lambda params: AdaptiveGradClipState(), update_fn
  )


# ---------------------------------------------------------------------------
# Per-example clipping (differential privacy).
# ---------------------------------------------------------------------------
def _check_batched(grads: Any, name: str) -> list[jax.Array]:
  leaves = jax.tree.leaves(grads)
  if not leaves:
    raise ValueError(f'{name}: grads has no arrays.')
  if any(jnp.ndim(g) < 1 for g in leaves) or len(
      {jnp.shape(g)[0] for g in leaves}) != 1:
    raise ValueError(
        f'{name} expects every leaf of grads to have the same batch '
        'dimension in axis 0 (one row per example); got shapes '
        f'{[jnp.shape(g) for g in leaves]}.'
    )
  return leaves


def _sum_clipped(grads: Any, l2_norm_clip: Any) -> tuple[Any, jax.Array]:
  """Clips each example to ``l2_norm_clip`` and sums over examples."""
  norms = jax.vmap(tu.norm)(grads)
  # An example of norm 0 gives 0/0 or c/0 = inf: both mean "no clipping".
  multipliers = jnp.nan_to_num(
      jnp.minimum(l2_norm_clip / norms, 1.0), nan=1.0
  ).astype(jnp.float32)
  num_clipped = jnp.sum(multipliers < 1.0).astype(jnp.int32)

  def weighted_sum(g):
    x = g.astype(tu.compute_dtype(g))
    out = jnp.tensordot(multipliers.astype(x.dtype), x, axes=1)
    return out.astype(g.dtype) if jnp.issubdtype(g.dtype, jnp.inexact) else out

  return jax.tree.map(weighted_sum, grads), num_clipped


def per_example_global_norm_clip(
    grads: Any, l2_norm_clip: float
) -> tuple[Any, jax.Array]:
  """Clips each example's gradient to a global norm, then sums the examples.

  .. code-block:: text

    gᵢ ← gᵢ · min(1, C / ‖gᵢ‖)      (‖gᵢ‖ over all leaves of example i)
    result = Σᵢ gᵢ

  This is the clipping step of DP-SGD. Unlike the transformations above it is
  a plain function of a batched gradient tree (axis 0 indexes examples).

  Args:
    grads: a tree whose leaves all have the batch size as their first axis.
    l2_norm_clip: the per-example bound ``C ≥ 0`` (``inf`` disables it).

  Returns:
    ``(clipped_sum, num_clipped)``: the sum over examples of the clipped
    gradients (a tree without the batch axis) and the int32 number of
    examples that were clipped.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> g = [jnp.array([[0.0, 0.0], [3.0, 4.0]])]  # norms 0 and 5
    >>> gradtx.per_example_global_norm_clip(g, 1.0)
    ([Array([0.6, 0.8], dtype=float32)], Array(1, dtype=int32))

  References:
    Abadi et al., *Deep Learning with Differential Privacy*, CCS 2016.
  """
  _checks.check_non_negative('l2_norm_clip', l2_norm_clip)
  _check_batched(grads, 'per_example_global_norm_clip')
  return _sum_clipped(grads, l2_norm_clip)


def per_example_layer_norm_clip(
    grads: Any, global_l2_norm_clip: float, uniform: bool = True
) -> tuple[Any, Any]:
  """Clips each example's gradient layer by layer, then sums the examples.

  Each of the ``K`` leaves ("layers") gets its own bound ``Cₖ``, chosen so
  that the per-example global norm stays below ``C``:

  .. code-block:: text

    uniform=True:  Cₖ = C / sqrt(K)
    uniform=False: Cₖ = C · sqrt(Dₖ / D)   (Dₖ: elements per example in leaf k)

  With a single leaf this is :func:`per_example_global_norm_clip`.

  Args:
    grads: a tree whose leaves all have the batch size as their first axis.
    global_l2_norm_clip: the overall bound ``C ≥ 0``.
    uniform: split ``C`` equally between layers, or in proportion to the
      square root of their sizes.

  Returns:
    ``(clipped_sum, num_clipped)``: two trees with the structure of
    ``grads``; the sums of the clipped gradients and, per leaf, the int32
    number of examples clipped.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> g = [jnp.array([[3.0, 4.0]]), jnp.array([[0.1, 0.0]])]
    >>> s, n = gradtx.per_example_layer_norm_clip(g, 2.0 ** 0.5)  # Cₖ = 1
    >>> s[0], n
    (Array([0.6, 0.8], dtype=float32), [Array(1, dtype=int32), Array(0, dtype=int32)])

  References:
    McMahan et al., *Learning Differentially Private Recurrent Language
    Models*, ICLR 2018.
  """
  _checks.check_non_negative('global_l2_norm_clip', global_l2_norm_clip)
  if not isinstance(uniform, bool):
    raise ValueError(f'uniform must be True or False, got {uniform!r}')
  leaves = _check_batched(grads, 'per_example_layer_norm_clip')
  if uniform:
    bounds = [global_l2_norm_clip * (1.0 / len(leaves)) ** 0.5] * len(leaves)
  else:
    per_example = [g[0].size for g in leaves]
    total = sum(per_example)
    bounds = [global_l2_norm_clip * (d / total) ** 0.5 for d in per_example]
  treedef = jax.tree.structure(grads)
  pairs = [_sum_clipped(g, c) for g, c in zip(leaves, bounds)]
  return (
      jax.tree.unflatten(treedef, [s for s, _ in pairs]),
      jax.tree.unflatten(treedef, [n for _, n in pairs]),
  )
