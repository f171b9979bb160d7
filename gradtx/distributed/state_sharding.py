"""State follows params: the shardings of an optimizer state, from the params'.

An optimizer state holds, besides scalars (step counters, loss scales), trees
shaped like the params: moments, accumulators, slow weights. Under
:func:`jax.jit` with sharded params, those trees should be sharded like the
params they follow, and the scalars replicated. The helpers here compute
that placement without running ``init`` (with :func:`jax.eval_shape`, so it
works on :class:`jax.ShapeDtypeStruct` params of any size) and without
relying on the state's layout being known: a state leaf follows the param
whose key path ends its own key path (``mu/'layer'/'w'`` follows
``'layer'/'w'``) and whose shape it has. That rule covers every gradtx
optimizer, masked and partitioned ones included (their states nest the
param tree, with empty placeholders for the leaves they leave out).
"""

from __future__ import annotations

import math
from typing import Any, Optional

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec
from jax.sharding import Sharding

from gradtx import base
from gradtx.distributed import zero as _zero

_REPLICATED = PartitionSpec()


def _is_spec(x: Any) -> bool:
  return isinstance(x, PartitionSpec) or x is None


def _broadcast(prefix: Any, tree: Any, is_leaf, what: str) -> list:
  """The leaves of ``prefix`` repeated over the leaves of ``tree`` below them."""
  try:
    full = jax.tree.map(
        lambda s, sub: jax.tree.map(lambda _: s, sub), prefix, tree,
        is_leaf=is_leaf)
  except ValueError as e:
    raise ValueError(
        f'{what} must be one value for all params, or a tree with the '
        f'structure of the params (or a prefix of it, like {{"layer": P()}}); '
        f'got {prefix!r} for params of structure {jax.tree.structure(tree)}.'
    ) from e
  return jax.tree.leaves(full, is_leaf=is_leaf)


def _abstract(params: Any) -> Any:
  return jax.tree.map(
      lambda p: p if isinstance(p, jax.ShapeDtypeStruct)
      else jax.ShapeDtypeStruct(jax.numpy.shape(p), jax.numpy.result_type(p)),
      params)


def _param_table(params: Any, placements: list) -> dict:
  """``{key path: (shape, placement)}`` for every param leaf."""
  flat, _ = jax.tree_util.tree_flatten_with_path(params)
  if len(flat) != len(placements):
    raise ValueError(
        f'the params have {len(flat)} leaves but {len(placements)} shardings '
        'or specs were given; give one per param leaf (or a prefix tree).')
  return {tuple(path): (tuple(jax.numpy.shape(p)), s)
          for (path, p), s in zip(flat, placements)}


def _follow(path: tuple, shape: tuple, table: dict, shape_of) -> Optional[Any]:
  """The placement of the param a state leaf follows, or None.

  The param is the one with the longest key path that ends ``path`` and
  whose shape (mapped by ``shape_of``) is the leaf's.
  """
  for start in range(len(path) + 1):
    found = table.get(path[start:])
    if found is not None and shape == shape_of(found[0]):
      return found[1]
  return None


def _padded_shape(num_shards: int):
  def shape_of(p_shape):
    size = math.prod(p_shape)
    return (num_shards * _zero.shard_size(size, num_shards),)
  return shape_of


def _placements(opt, params, placements, replicated, zero_placement):
  """Maps every state leaf to a placement; the shared core of the helpers."""
  abstract_params = _abstract(params)
  table = _param_table(abstract_params, placements)
  state = jax.eval_shape(opt.init, abstract_params)
  is_zero = lambda x: isinstance(x, _zero.ZeroState)

  def place(path, leaf, zero=None):
    shape = tuple(leaf.shape)
    if zero is None:
      found = _follow(tuple(path), shape, table, lambda s: s)
      return replicated if found is None else found
    found = _follow(tuple(path), shape, table, _padded_shape(zero.num_shards))
    return replicated if found is None else zero_placement(zero.axis_name)

  def visit(path, node):
    if is_zero(node):
      inner = jax.tree_util.tree_map_with_path(
          lambda p, leaf: place(path + tuple(p), leaf, node), node.inner_state)
      return _zero.ZeroState(inner, node.axis_name, node.num_shards)
    return place(path, node)

  return jax.tree_util.tree_map_with_path(visit, state, is_leaf=is_zero)


def state_partition_specs(
    opt: base.GradientTransformation,
    params: Any,
    param_specs: Any = None,
) -> Any:
  """The :class:`~jax.sharding.PartitionSpec` of every leaf of ``opt``'s state.

  .. code-block:: text

    spec(state leaf) = spec(p)      if the leaf follows param p (same key-path
                                    tail, same shape)
                     = P(axis)      for a param-shaped leaf of zero_sharded
                     = P()          otherwise (counters, scalars, other shapes)

  Use the result as ``in_specs``/``out_specs`` of :func:`jax.shard_map`, or
  build :class:`~jax.sharding.NamedSharding` s from it.

  Args:
    opt: any gradient transformation (masked, partitioned and
      :func:`~gradtx.distributed.zero_sharded` ones included).
    params: the params, as arrays or :class:`jax.ShapeDtypeStruct` s; only
      shapes and dtypes are used (``init`` is traced with
      :func:`jax.eval_shape`, never run).
    param_specs: a ``PartitionSpec`` per param leaf (or a prefix tree of
      them, or a single one for all); None means every param is replicated.

  Returns:
    A tree with the structure of ``opt.init(params)`` whose leaves are
    ``PartitionSpec`` s.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from jax.sharding import PartitionSpec as P
    >>> from gradtx.distributed import state_partition_specs
    >>> params = {'w': jax.ShapeDtypeStruct((8, 4), jnp.float32),
    ...           'b': jax.ShapeDtypeStruct((4,), jnp.float32)}
    >>> specs = state_partition_specs(gradtx.adam(1e-3), params,
    ...                               {'w': P('data', None), 'b': P()})
    >>> specs[0].count, specs[0].mu['w'], specs[0].nu['b']
    (P(), P('data', None), P())
  """
  if param_specs is None:
    param_specs = _REPLICATED
  specs = _broadcast(param_specs, _abstract(params), _is_spec, 'param_specs')
  specs = [_REPLICATED if s is None else s for s in specs]
  return _placements(opt, params, specs, _REPLICATED, PartitionSpec)


def _replicated_like(sharding: Sharding) -> Sharding:
  """A sharding that replicates over the devices of ``sharding``."""
  if isinstance(sharding, NamedSharding):
    return NamedSharding(sharding.mesh, _REPLICATED)
  if len(sharding.device_set) == 1:
    return sharding
  devices = np.array(sorted(sharding.device_set, key=lambda d: d.id))
  return NamedSharding(jax.sharding.Mesh(devices, ('devices',)), _REPLICATED)


def _shardings_of(params: Any, param_shardings: Any) -> list:
  is_sharding = lambda x: isinstance(x, Sharding)
  if param_shardings is not None:
    return _broadcast(param_shardings, _abstract(params), is_sharding,
                      'param_shardings')
  out = []
  for p in jax.tree.leaves(params):
    sharding = getattr(p, 'sharding', None)
    if sharding is None:
      raise ValueError(
          'param_shardings is None and a param leaf carries no sharding '
          f'({type(p).__name__} of shape {jax.numpy.shape(p)}); pass '
          'param_shardings, or ShapeDtypeStructs built with sharding=...')
    out.append(sharding)
  return out


def state_shardings(
    opt: base.GradientTransformation,
    params: Any,
    param_shardings: Any = None,
) -> Any:
  """The :class:`~jax.sharding.Sharding` of every leaf of ``opt``'s state.

  A state leaf that follows a param (same key-path tail, same shape) gets
  that param's sharding; a param-shaped leaf of
  :func:`~gradtx.distributed.zero_sharded` gets ``NamedSharding(mesh,
  P(axis_name))``; every other leaf (counters, scalars) is replicated over
  the params' devices. Pass the result as ``out_shardings`` of a jitted
  ``init`` (that is what :func:`sharded_init` does) or of the train step,
  and to a checkpoint restore (see :func:`abstract_state`).

  Args:
    opt: any gradient transformation.
    params: the params, as arrays or :class:`jax.ShapeDtypeStruct` s.
    param_shardings: a sharding per param leaf (or a prefix tree of them, or
      a single one for all); None reads ``.sharding`` off each param.

  Returns:
    A tree with the structure of ``opt.init(params)`` whose leaves are
    shardings.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from jax.sharding import NamedSharding, PartitionSpec as P
    >>> from gradtx.distributed import state_shardings
    >>> mesh = jax.make_mesh((1,), ('data',))  # any number of devices
    >>> w = jax.device_put(jnp.zeros((4, 2)), NamedSharding(mesh, P('data')))
    >>> sh = state_shardings(gradtx.sgd(0.1, momentum=0.9), {'w': w})
    >>> sh[0].trace['w'].spec
    P('data',)
  """
  shardings = _shardings_of(params, param_shardings)
  if not shardings:
    return jax.tree.map(lambda _: None, jax.eval_shape(opt.init, _abstract(params)))
  replicated = _replicated_like(shardings[0])
  mesh = getattr(shardings[0], 'mesh', None)

  def zero_placement(axis_name):
    if mesh is None:
      raise ValueError('zero_sharded state needs params with NamedShardings on '
                       f'a mesh that has the axis {axis_name!r}.')
    return NamedSharding(mesh, PartitionSpec(axis_name))

  return _placements(opt, params, shardings, replicated, zero_placement)


def abstract_state(
    opt: base.GradientTransformation,
    params: Any,
    param_shardings: Any = None,
) -> Any:
  """``opt.init(params)`` as :class:`jax.ShapeDtypeStruct` s with shardings.

  Nothing is computed or allocated: this is the target to hand a checkpoint
  library (Orbax's ``restore`` takes such a tree) to restore a state directly
  into its sharded placement, for params too large to materialise.

  Args:
    opt: any gradient transformation.
    params: the params, as arrays or :class:`jax.ShapeDtypeStruct` s.
    param_shardings: as in :func:`state_shardings`.

  Returns:
    A tree with the structure of ``opt.init(params)`` whose leaves are
    ``jax.ShapeDtypeStruct(shape, dtype, sharding=...)``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from jax.sharding import NamedSharding, PartitionSpec as P
    >>> from gradtx.distributed import abstract_state
    >>> mesh = jax.make_mesh((1,), ('data',))  # any number of devices
    >>> w = jax.ShapeDtypeStruct((10**6, 1024), jnp.float32,
    ...                          sharding=NamedSharding(mesh, P('data')))
    >>> mu = abstract_state(gradtx.adam(1e-3), {'w': w})[0].mu['w']
    >>> mu.shape, mu.sharding.spec
    ((1000000, 1024), P('data',))
  """
  shapes = jax.eval_shape(opt.init, _abstract(params))
  shardings = state_shardings(opt, params, param_shardings)
  return jax.tree.map(
      lambda s, sh: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sh),
      shapes, shardings)


def sharded_init(
    opt: base.GradientTransformation,
    params: Any,
    param_shardings: Any = None,
) -> Any:
  """``opt.init(params)`` under :func:`jax.jit`, each leaf placed where it belongs.

  Param-shaped state leaves are created directly with their param's
  sharding (never gathered on one device), counters replicated; see
  :func:`state_shardings` for the rule.

  Args:
    opt: any gradient transformation.
    params: the params (arrays, usually sharded).
    param_shardings: as in :func:`state_shardings`.

  Returns:
    The initial state, a tree of :class:`jax.Array` s.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from jax.sharding import NamedSharding, PartitionSpec as P
    >>> from gradtx.distributed import sharded_init
    >>> mesh = jax.make_mesh((1,), ('data',))  # any number of devices
    >>> w = jax.device_put(jnp.ones((4, 3)), NamedSharding(mesh, P('data')))
    >>> state = sharded_init(gradtx.adam(1e-3), {'w': w})
    >>> state[0].nu['w'].sharding.spec, state[0].count.sharding.spec
    (P('data',), P())
  """
  shardings = state_shardings(opt, params, param_shardings)
  return jax.jit(opt.init, out_shardings=shardings)(params)
