"""Saving and restoring gradtx states with Orbax's ``CheckpointManager``.

Orbax saves any pytree of arrays, gradtx states included; these two
functions add what a resumed run needs on top of it:

* the state comes back with its classes (``ScaleByAdamState``,
  ``EmptyState``, ``MaskedNode``, ...) and on the devices of a *target*
  (see :func:`gradtx.checkpoint.abstract_state`), also when the checkpoint
  was written from another number of devices;
* the layout of the saved tree (paths, classes, shapes, dtypes) and a CRC32
  of every leaf are stored next to the arrays, so a checkpoint written by
  another optimizer or for another model fails with an error naming the first
  differing path, and a corrupt or truncated checkpoint fails with
  :class:`CheckpointError` instead of restoring wrong numbers.

Orbax writes each step into a temporary directory and renames it when the
step is complete, so a save killed midway leaves the earlier steps intact.
"""

from __future__ import annotations

import zlib
from typing import Any, Optional

import jax
import numpy as np

from gradtx.checkpoint import _layout
from gradtx.checkpoint.validate import StateMismatchError

_FORMAT = 'gradtx-checkpoint-1'
_STATE = 'state'
_DIGEST = 'gradtx_digest'


class CheckpointError(RuntimeError):
  """A checkpoint that is missing, truncated or corrupt."""


def _ocp():
  try:
    import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        'gradtx.checkpoint.save and restore need Orbax: '
        "pip install 'gradtx[checkpoint]' (or orbax-checkpoint)") from e
  return ocp


def _host_bytes(leaf: Any) -> Optional[bytes]:
  """The bytes of a leaf's value, or None when this process cannot see it all."""
  if leaf is None:
    return None
  if isinstance(leaf, jax.Array):
    if not leaf.is_fully_addressable:
      return None
    if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
      leaf = jax.random.key_data(leaf)
  return np.ascontiguousarray(np.asarray(leaf)).tobytes()


def _crcs(tree: Any) -> list[Optional[int]]:
  out = []
  for leaf in jax.tree.leaves(tree):
    data = _host_bytes(leaf)
    out.append(None if data is None else zlib.crc32(data))
  return out


def _abstract(tree: Any) -> Any:
  """Arrays become ShapeDtypeStructs with their sharding; structs stay."""
  def leaf(x):
    if isinstance(x, jax.ShapeDtypeStruct):
      if x.sharding is None:
        return jax.ShapeDtypeStruct(
            x.shape, x.dtype, sharding=jax.sharding.SingleDeviceSharding(
                jax.devices()[0]))
      return x
    if isinstance(x, jax.Array):
      return jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding)
    x = np.asarray(x)
    return jax.ShapeDtypeStruct(
        x.shape, x.dtype,
        sharding=jax.sharding.SingleDeviceSharding(jax.devices()[0]))
  return jax.tree.map(leaf, tree)


def save(manager: Any, step: int, tree: Any, *, force: bool = False,
         metrics: Optional[Any] = None) -> bool:
  """Saves ``tree`` (an optimizer state, or a dict holding one) as ``step``.

  The arrays go through Orbax's ``StandardSave``; the tree's layout and a
  CRC32 of each leaf go into a JSON item next to them, for :func:`restore`.
  Like ``manager.save`` this may return before the files are written (Orbax
  saves asynchronously); call ``manager.wait_until_finished()`` before the
  process exits.

  Args:
    manager: an ``orbax.checkpoint.CheckpointManager``.
    step: the step number.
    tree: a pytree of arrays (params, optimizer state, step counters, ...).
    force: save even if the manager's ``save_interval_steps`` says not to.
    metrics: passed to ``manager.save`` (for ``best_fn`` policies).

  Returns:
    Whether a save was started (``manager.save``'s result).

  Example:
    >>> import tempfile, jax.numpy as jnp, gradtx
    >>> import orbax.checkpoint as ocp
    >>> from gradtx import checkpoint
    >>> opt, params = gradtx.adam(1e-3), {'w': jnp.ones(3)}
    >>> mngr = ocp.CheckpointManager(tempfile.mkdtemp())
    >>> checkpoint.save(mngr, 0, {'params': params, 'opt_state': opt.init(params)})
    True
    >>> mngr.wait_until_finished()
  """
  ocp = _ocp()
  digest = {
      'format': _FORMAT,
      'layout': [e.to_json() for e in _layout.layout(tree)],
      'crc32': _crcs(tree),
  }
  return manager.save(
      step,
      args=ocp.args.Composite(**{
          _STATE: ocp.args.StandardSave(tree),
          _DIGEST: ocp.args.JsonSave(digest),
      }),
      force=force, metrics=metrics)


def _first_line(e: BaseException) -> str:
  text = str(e).strip().splitlines()
  return f'{type(e).__name__}: {text[0][:300] if text else ""}'


def restore(manager: Any, target: Any, step: Optional[int] = None, *,
            verify: bool = True) -> Any:
  """Restores a tree saved by :func:`save`, with the classes of ``target``.

  Before any array is read, the saved layout is compared with the target's
  (paths, state classes, shapes, dtypes): a checkpoint of another optimizer
  or of another model raises :class:`StateMismatchError` naming the first
  differing path. After reading, each leaf's CRC32 is compared with the one
  computed at save time.

  Args:
    manager: an ``orbax.checkpoint.CheckpointManager``.
    target: a tree like the saved one, of arrays or
      :class:`jax.ShapeDtypeStruct`; the restored arrays get its classes,
      dtypes and shardings (leaves without a sharding go to the first
      device). :func:`gradtx.checkpoint.abstract_state` builds one for an
      optimizer state.
    step: the step to restore; None for the latest.
    verify: compare the layout and checksums (True); False restores without
      (for checkpoints not written by :func:`save`).

  Returns:
    The restored tree.

  Raises:
    CheckpointError: no checkpoint, or a checkpoint that cannot be read or
      whose contents do not match their checksums (truncated or corrupt).
    StateMismatchError: the checkpoint holds another tree than ``target``.

  Example:
    >>> import tempfile, jax.numpy as jnp, gradtx
    >>> import orbax.checkpoint as ocp
    >>> from gradtx import checkpoint
    >>> opt, params = gradtx.adam(1e-3), {'w': jnp.ones(3)}
    >>> mngr = ocp.CheckpointManager(tempfile.mkdtemp())
    >>> _ = checkpoint.save(mngr, 7, opt.init(params)); mngr.wait_until_finished()
    >>> state = checkpoint.restore(mngr, checkpoint.abstract_state(opt, params))
    >>> type(state[0]).__name__, int(state[0].count)
    ('ScaleByAdamState', 0)
  """
  ocp = _ocp()
  where = f'{manager.directory}'
  if step is None:
    step = manager.latest_step()
    if step is None:
      raise CheckpointError(f'no checkpoint found in {where}')
  elif step not in manager.all_steps():
    raise CheckpointError(
        f'no checkpoint for step {step} in {where}; the steps there are '
        f'{sorted(manager.all_steps())}')
  where = f'checkpoint step {step} in {where}'
  abstract = _abstract(target)
  digest = None
  if verify:
    try:
      digest = manager.restore(step, args=ocp.args.Composite(
          **{_DIGEST: ocp.args.JsonRestore()}))[_DIGEST]
    except Exception as e:  # pylint: disable=broad-except
      raise CheckpointError(
          f'{where} has no readable gradtx layout record ({_first_line(e)}); '
          'it is truncated, or was not written by gradtx.checkpoint.save '
          '(then restore it with verify=False)') from e
    if not isinstance(digest, dict) or digest.get('format') != _FORMAT:
      raise CheckpointError(f'{where}: unknown layout record {str(digest)[:200]}')
    saved = [_layout.Entry.from_json(e) for e in digest['layout']]
    message = _layout.first_difference(
        _layout.layout(target), saved, 'target', 'checkpoint', root='tree')
    if message is not None:
      raise StateMismatchError(
          f'{where} does not fit the target: {message}')
  try:
    restored = manager.restore(step, args=ocp.args.Composite(
        **{_STATE: ocp.args.StandardRestore(abstract)}))[_STATE]
  except Exception as e:  # pylint: disable=broad-except
    raise CheckpointError(
        f'{where} could not be read; it is truncated or corrupt '
        f'({_first_line(e)})') from e
  if digest is not None:
    paths = [e.path for e in saved if not (e.what == 'None' or e.what.startswith('empty '))]
    for path, want, got in zip(paths, digest['crc32'], _crcs(restored)):
      if want is not None and got is not None and want != got:
        raise CheckpointError(
            f'{where} is corrupt: the data of tree{path} does not match '
            f'the checksum written when it was saved (crc32 {got:#010x}, '
            f'saved {want:#010x})')
  return restored
