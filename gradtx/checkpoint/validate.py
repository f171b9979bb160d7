"""Checking a restored optimizer state against the optimizer and the params."""

from __future__ import annotations

from typing import Any

import jax

from gradtx import base
from gradtx.checkpoint import _layout


class StateMismatchError(ValueError):
  """A state that does not fit the optimizer and params it is used with.

  The message names the first path where the two differ and what each side
  has there (a class, a shape and dtype, or nothing).
  """


def check_state(
    opt: base.GradientTransformation, params: base.Params, state: base.OptState
) -> None:
  """Raises :class:`StateMismatchError` unless ``state`` fits ``opt`` and ``params``.

  The state fits when it has the layout of ``opt.init(params)``: the same
  tree structure, the same state classes (``ScaleByAdamState``,
  ``EmptyState``, ...), and leaves of the same shapes and dtypes.
  ``opt.init`` is traced with :func:`jax.eval_shape`, so no array is
  allocated. Values are not compared, so a state whose
  :func:`gradtx.inject_hyperparams` values differ from the ones ``opt`` was
  built with fits (the state's values are the ones the next update uses for
  constant hyperparameters; see ``docs/checkpointing.md``). The static
  configuration of dataclass states (a loss scale's ``growth_interval``, say)
  is not compared either.

  Typical mismatches: a state written by another optimizer (Adam's state
  given to Lion), a layer added to the model since the state was saved, a
  changed ``mu_dtype``.

  Args:
    opt: the optimizer the state will be used with.
    params: the params (arrays or :class:`jax.ShapeDtypeStruct`) it will be
      used with.
    state: the state to check (arrays, NumPy arrays or
      :class:`jax.ShapeDtypeStruct`).

  Returns:
    None.

  Raises:
    StateMismatchError: naming the first differing path and both sides.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from gradtx.checkpoint import check_state
    >>> params = {'w': jnp.zeros(3)}
    >>> check_state(gradtx.adam(1e-3), params, gradtx.adam(1e-3).init(params))
    >>> check_state(gradtx.lion(1e-3), params, gradtx.adam(1e-3).init(params))
    Traceback (most recent call last):
    ...
    gradtx.checkpoint.validate.StateMismatchError: the state does not fit the optimizer and params: first difference at state[0]:
      opt.init(params): a ScaleByLionState
      state given:      a ScaleByAdamState
    (the state was made by another optimizer or transformation)
  """
  expected = jax.eval_shape(opt.init, params)
  message = _layout.first_difference(
      _layout.layout(expected), _layout.layout(state),
      'opt.init(params)', 'state given')
  if message is not None:
    raise StateMismatchError(
        f'the state does not fit the optimizer and params: {message}')


def _keys(path) -> tuple[str, ...]:
  return tuple(jax.tree_util.keystr((k,)) for k in path)


def abstract_state(opt: base.GradientTransformation, params: base.Params) -> Any:
  """The shapes, dtypes and shardings of ``opt.init(params)``, with no arrays.

  Restore a checkpoint against this target (with Orbax, or with
  :func:`gradtx.checkpoint.restore`) to get the state back with its classes
  (``ScaleByAdamState``, ``EmptyState``, ...) and laid out on the devices of
  ``params``: a state leaf that mirrors a parameter (its path ends with the
  parameter's path, and it has the parameter's shape, like Adam's ``mu`` and
  ``nu``) gets the parameter's sharding; every other leaf (counts, keys,
  factored moments) is replicated over the params' mesh. Restoring onto
  another device count is then a matter of passing params sharded over the
  new devices.

  Args:
    opt: the optimizer.
    params: the params, as arrays (their shardings are followed) or as
      :class:`jax.ShapeDtypeStruct` (with or without a ``sharding``).

  Returns:
    A tree like ``opt.init(params)`` of :class:`jax.ShapeDtypeStruct`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from gradtx.checkpoint import abstract_state
    >>> target = abstract_state(gradtx.adam(1e-3), {'w': jnp.zeros(3)})
    >>> type(target[0]).__name__, target[0].mu['w'].shape
    ('ScaleByAdamState', (3,))
  """
  shapes = jax.eval_shape(opt.init, params)
  param_leaves = [
      (_keys(path), leaf.shape, leaf.sharding)
      for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]
      if getattr(leaf, 'sharding', None) is not None]
  devices = set()
  for _, _, sharding in param_leaves:
    devices |= set(sharding.device_set)
  if len(devices) <= 1:
    one = jax.sharding.SingleDeviceSharding(
        devices.pop() if devices else jax.devices()[0])
    return jax.tree.map(
        lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=one), shapes)
  meshes = [sh.mesh for _, _, sh in param_leaves
            if isinstance(sh, jax.sharding.NamedSharding)]
  if meshes:
    replicated = jax.sharding.NamedSharding(meshes[0], jax.sharding.PartitionSpec())
    fallback = jax.tree.map(lambda _: replicated, shapes)
  else:  # no mesh to replicate over: ask the compiler
    fallback = jax.jit(opt.init).lower(params).compile().output_shardings
  by_length = sorted(param_leaves, key=lambda p: -len(p[0]))

  def leaf(path, s, default):
    keys = _keys(path)
    for pkeys, shape, sharding in by_length:
      if keys[len(keys) - len(pkeys):] == pkeys and tuple(s.shape) == tuple(shape):
        return jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sharding)
    return jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=default)

  return jax.tree_util.tree_map_with_path(leaf, shapes, fallback)
