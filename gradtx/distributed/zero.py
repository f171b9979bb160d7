"""ZeRO-style optimizer-state partitioning over a data-parallel mesh axis."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Union

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _shards
from gradtx import base

_REDUCTIONS = ('mean', 'sum', 'none')


def _all_gather_invariant_fn():
  """JAX's all-gather whose result is typed as replicated, where it has one.

  Inside ``shard_map`` (with its replication checks on), ``lax.all_gather``
  types its result as varying across the axis, so a gathered update could
  not leave through ``out_specs=P()``; ``all_gather_invariant`` is the same
  collective typed as invariant. It is not yet exported by ``jax.lax`` in
  every version, hence the lookup.
  """
  fn = getattr(jax.lax, 'all_gather_invariant', None)
  if fn is None:
    try:
      from jax._src.lax import parallel  # pylint: disable=g-import-not-at-top
      fn = getattr(parallel, 'all_gather_invariant', None)
    except ImportError:
      fn = None
  return fn or jax.lax.all_gather


_ALL_GATHER = _all_gather_invariant_fn()


def _typed_varying(x: jax.Array, axis_name: Any) -> bool:
  """Whether ``x`` is typed as varying over ``axis_name`` (shard_map's checks).

  Under ``vmap``, ``pmap`` or ``shard_map(check_vma=False)`` no value carries
  that type, and the plain all-gather is the one to use.
  """
  typeof = getattr(jax, 'typeof', None)
  if typeof is None:
    return False
  aval = typeof(x)
  vma = getattr(aval, 'vma', None)  # JAX < 0.10: a frozenset of axis names.
  if vma is None:  # JAX 0.10: ManualAxisType(varying=..., ...).
    vma = getattr(getattr(aval, 'manual_axis_type', None), 'varying', None)
  if not vma:
    return False
  axes = axis_name if isinstance(axis_name, tuple) else (axis_name,)
  return all(a in vma for a in axes)


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=['inner_state'],
    meta_fields=['axis_name', 'num_shards'],
)
@dataclasses.dataclass(frozen=True)
class ZeroState:
  """State of :func:`zero_sharded`.

  ``inner_state`` is the wrapped optimizer's state built on the *partitioned
  layout* of the params: every param leaf of ``n`` elements is flattened,
  padded with zeros to ``num_shards · k`` elements (``k = ⌈n / num_shards⌉``)
  and split into ``num_shards`` slices of ``k``. Seen globally (outside
  ``shard_map``) a param-shaped state leaf is a vector of ``num_shards · k``
  elements, sharded over ``axis_name``; inside ``shard_map`` or ``pmap`` each
  device holds its slice of ``k``. Scalars (step counters) are replicated.
  ``axis_name`` and ``num_shards`` are static (part of the tree structure).
  """

  inner_state: Any  # the wrapped optimizer's state, on the partitioned layout.
  axis_name: Any  # static: the data-parallel mesh axis the state is split over.
  num_shards: int  # static: the size of that axis.


def shard_size(size: int, num_shards: int) -> int:
  """Elements per device for a leaf of ``size`` elements: ``⌈size / N⌉``.

  Args:
    size: the number of elements of the leaf.
    num_shards: the number of devices ``N`` the leaf is split over.

  Returns:
    ``k = ⌈size / N⌉``; the padded leaf has ``N · k`` elements.

  Example:
    >>> from gradtx.distributed import shard_size
    >>> shard_size(10, 4)  # 10 elements padded to 12, 3 per device
    3
  """
  return -(-size // num_shards)


def _flat_padded(x: jax.Array, num_shards: int) -> jax.Array:
  """``x`` flattened and zero-padded to ``num_shards · ⌈size / N⌉`` elements."""
  flat = jnp.ravel(x)
  pad = num_shards * shard_size(flat.size, num_shards) - flat.size
  return jnp.pad(flat, (0, pad)) if pad else flat


def _map(f, tree, *rest):
  return jax.tree.map(
      lambda x, *r: None if x is None else f(x, *r), tree, *rest,
      is_leaf=lambda x: x is None)


def partitioned_layout(params: Any, num_shards: int) -> Any:
  """The global layout of :func:`zero_sharded`: leaves flattened and padded.

  Works on arrays and on :class:`jax.ShapeDtypeStruct` leaves alike.

  Args:
    params: a pytree of arrays (or shape-dtype structs).
    num_shards: the number of devices ``N`` the state is split over.

  Returns:
    The same tree with each leaf of ``n`` elements replaced by a vector of
    ``N · ⌈n / N⌉`` elements: the leaf's elements in row-major order, then
    zeros.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.distributed import partitioned_layout
    >>> partitioned_layout({'b': jnp.arange(3.0)}, num_shards=2)['b']
    Array([0., 1., 2., 0.], dtype=float32)
  """
  def f(x):
    if isinstance(x, jax.ShapeDtypeStruct):
      n = math.prod(x.shape)
      return jax.ShapeDtypeStruct((num_shards * shard_size(n, num_shards),),
                                  x.dtype)
    return _flat_padded(x, num_shards)

  return _map(f, params)


def _bound_axis_size(axis_name: Any) -> Union[int, None]:
  """The size of ``axis_name`` if it is bound (inside shard_map/pmap), else None."""
  try:
    jax.lax.axis_index(axis_name)
  except NameError:
    return None
  return jax.lax.axis_size(axis_name)


def _local_slice(x: jax.Array, axis_name: Any, num_shards: int) -> jax.Array:
  """This device's slice of ``k`` elements of a leaf (no communication)."""
  flat = _flat_padded(x, num_shards)
  k = flat.size // num_shards
  return jax.lax.dynamic_slice_in_dim(flat, jax.lax.axis_index(axis_name) * k, k)


def zero_sharded(
    inner: base.GradientTransformation,
    axis_name: Any,
    num_shards: int,
    reduce: str = 'mean',
) -> base.GradientTransformationExtraArgs:
  r"""Partitions ``inner``'s state over a data-parallel axis (ZeRO stage 1/2).

  Params are replicated over ``axis_name``; the optimizer state is not: each
  of the ``N = num_shards`` devices keeps ``1/N`` of every param-shaped
  state leaf (scalars such as step counters are replicated). ``update`` runs
  inside :func:`jax.shard_map` or :func:`jax.pmap` over ``axis_name`` and
  receives each device's own gradients:

  .. code-block:: text

    g_i      ← reduce_scatter(g, axis_name)      (this device's slice, mean over devices)
    p_i      ← slice_i(p)                        (no communication)
    u_i, s_i ← inner.update(g_i, s_i, p_i)       (on 1/N of the elements)
    u        ← all_gather(u_i, axis_name)        (the whole update, on every device)

  Slices are taken from each leaf flattened and zero-padded to a multiple of
  ``N`` elements (see :func:`partitioned_layout`): a leaf whose size does not
  divide ``N`` costs at most ``N − 1`` padding elements of state, whose
  updates are computed on zero gradients and thrown away.

  While ``inner`` updates its slice, the reductions of :mod:`gradtx.tree`
  (``norm``, ``sum``, ``vdot``, ``all_finite``) and of the clipping
  transformations are completed over ``axis_name``, so
  :func:`gradtx.clip_by_global_norm` clips by the norm of the whole
  gradient, :func:`gradtx.apply_if_finite`, :func:`gradtx.with_loss_scale`
  and the :class:`gradtx.MultiSteps` skip rules decide the same on every
  device, and the trajectory is the unpartitioned one. Element-wise
  optimizers (SGD, momentum, Adam and its relatives, RMSProp, Lion, ...)
  with global-norm clipping, finiteness checks, loss scaling,
  :class:`gradtx.MultiSteps` (its gradient accumulator is partitioned too:
  ZeRO stage 2) and param groups selected by path are supported.
  Transformations that need a leaf's shape (factored second moments, as in
  Adafactor), its mean over elements (``clip_by_block_rms``) or labels
  computed from param shapes see a flat slice instead, and are not
  supported.

  ``init`` works in both places: called outside ``shard_map`` (under
  :func:`jax.jit` with ``out_shardings`` from
  :func:`gradtx.distributed.state_shardings`, say) it returns the global
  layout, each param-shaped leaf a vector of ``N · k`` elements to be
  sharded over ``axis_name``; called inside ``shard_map``/``pmap`` it returns
  this device's slice.

  Args:
    inner: the optimizer whose state is partitioned.
    axis_name: the data-parallel mesh axis (as named in ``shard_map``'s mesh
      or ``pmap``'s ``axis_name``).
    num_shards: the size ``N ≥ 1`` of that axis.
    reduce: how the per-device gradients are combined: ``'mean'`` (default;
      reduce-scatter then divide by ``N``), ``'sum'`` (reduce-scatter), or
      ``'none'`` (the gradients are already reduced and identical on every
      device, say after a ``pmean``: each device just takes its slice).

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` whose state is a
    :class:`ZeroState`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.distributed import zero_sharded
    >>> opt = zero_sharded(gradtx.adam(0.1), 'data', num_shards=2)
    >>> params = {'w': jnp.ones(3)}
    >>> opt.init(params).inner_state[0].mu['w'].shape  # global: 3 padded to 4
    (4,)
    >>> def step(grads):              # runs on each device (here: vmap)
    ...   state = opt.init(params)    # this device's slice of the state
    ...   return opt.update(grads, state, params)
    >>> grads = {'w': jnp.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])}
    >>> updates, state = jax.vmap(step, axis_name='data')(grads)
    >>> state.inner_state[0].mu['w'].shape  # 2 devices x 2 elements each
    (2, 2)
    >>> updates['w'][0]    # Adam's first step is -lr * sign(mean gradient)
    Array([-0.1, -0.1, -0.1], dtype=float32)

  References:
    Rajbhandari et al., *ZeRO: Memory Optimizations Toward Training Trillion
    Parameter Models*, SC 2020.
  """
  _checks.check_int('num_shards', num_shards, low=1)
  if reduce not in _REDUCTIONS:
    raise ValueError(
        f'reduce must be one of {_REDUCTIONS}, got {reduce!r}')
  if axis_name is None:
    raise ValueError('axis_name must name a mesh axis, got None')
  if isinstance(axis_name, list):
    axis_name = tuple(axis_name)
  inner = base.with_extra_args_support(inner)

  def check_axis():
    size = _bound_axis_size(axis_name)
    if size is not None and size != num_shards:
      raise ValueError(
          f'zero_sharded(num_shards={num_shards}) runs over axis '
          f'{axis_name!r} of size {size}; pass num_shards={size}.')
    return size

  def init_fn(params):
    if check_axis() is None:  # outside shard_map/pmap: the global layout.
      local = partitioned_layout(params, num_shards)
    else:
      local = _map(lambda p: _local_slice(p, axis_name, num_shards), params)
    return ZeroState(inner.init(local), axis_name, num_shards)

  def scatter(g):
    if reduce == 'none':
      return _local_slice(g, axis_name, num_shards)
    flat = _flat_padded(g, num_shards)
    out = jax.lax.psum_scatter(flat, axis_name, scatter_dimension=0,
                               tiled=True)
    return out / num_shards if reduce == 'mean' else out

  def gather(u, like):
    gather_fn = _ALL_GATHER if _typed_varying(u, axis_name) else jax.lax.all_gather
    full = gather_fn(u, axis_name, axis=0, tiled=True)
    return full[:like.size].reshape(like.shape)

  def update_fn(updates, state, params=None, **extra_args):
    if check_axis() is None:
      raise ValueError(
          f'zero_sharded.update must run inside jax.shard_map or jax.pmap '
          f'over the axis {axis_name!r}; call it from the mapped train step.')
    if (state.axis_name, state.num_shards) != (axis_name, num_shards):
      raise ValueError(
          f'this zero_sharded(axis_name={axis_name!r}, num_shards='
          f'{num_shards}) received the state of zero_sharded(axis_name='
          f'{state.axis_name!r}, num_shards={state.num_shards}).')
    grads = _map(scatter, updates)
    local_params = None if params is None else _map(
        lambda p: _local_slice(p, axis_name, num_shards), params)
    with _shards.over(axis_name, 'shards'):
      local_updates, inner_state = inner.update(
          grads, state.inner_state, local_params, **extra_args)
    new_updates = _map(gather, local_updates, updates)
    return new_updates, ZeroState(inner_state, axis_name, num_shards)

  return base.transformation_with_extra_args('zero_sharded', init_fn, update_fn)
