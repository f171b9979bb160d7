"""gradtx.checkpoint.save / restore with Orbax's CheckpointManager.

* every battery state (NamedTuples, EmptyState, MaskedNode, typed PRNG keys,
  loss-scale dataclasses) round-trips bit for bit and with its classes, also
  through plain Orbax with an ``abstract_state`` target;
* a checkpoint of another optimizer fails before any array is read;
* a state saved sharded over 8 devices restores onto 4 (a subprocess);
* a save killed midway (SIGKILL, in a subprocess) leaves the previous steps
  intact; truncated and corrupt files give CheckpointError (plain Orbax
  restores the corrupt one silently, which the checksums catch).
"""

from __future__ import annotations

import os
import pathlib
import pickle
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

ocp = pytest.importorskip('orbax.checkpoint')

import gradtx  # noqa: E402
from gradtx import checkpoint  # noqa: E402
from tests import checkpoint_scenarios as scenarios  # noqa: E402
from tests.test_checkpoint_resume import run_worker, worker_env  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _same(a, b) -> bool:
  la, lb = scenarios.host_leaves(a), scenarios.host_leaves(b)
  return (jax.tree.structure(a) == jax.tree.structure(b)
          and all(x.dtype == y.dtype and x.tobytes() == y.tobytes()
                  for x, y in zip(la, lb)))


def random_values(tree, seed=0):
  """``tree`` with every number replaced by a random one of the same dtype.

  Round trips are then checked on values that are neither zeros nor shared
  between leaves; PRNG keys are kept.
  """
  rng = np.random.default_rng(seed)

  def leaf(x):
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
      return x
    if jnp.issubdtype(x.dtype, jnp.bool_):
      return jnp.asarray(rng.random(x.shape) < 0.5)
    if jnp.issubdtype(x.dtype, jnp.integer):
      return jnp.asarray(rng.integers(0, 1000, x.shape), x.dtype)
    return jnp.asarray(rng.uniform(0.5, 2.0, size=x.shape), x.dtype)  # valid loss scales too
  return jax.tree.map(leaf, tree)


# Battery cases whose state this file does not round-trip through Orbax.
NOT_THROUGH_ORBAX = {
    'galore': 'GaLore keeps zero-size projectors for leaves it does not '
              'project, and Orbax refuses zero-size arrays '
              '(docs/checkpointing.md)',
}
# gradtx.distributed wrappers: their states live on a device mesh; their
# restore targets are tested in tests/test_distributed.py.
MESH_CASES = ('zero_', 'agreed_')


def battery_states(exclude=()):
  """``params, {case name: (optimizer, state with random values)}``."""
  from tests.cases import all_cases  # pylint: disable=g-import-not-at-top
  params = scenarios.make_params()
  return params, {case.name: (opt, random_values(opt.init(params), i))
                  for i, case in enumerate(all_cases())
                  if case.name not in exclude
                  and not case.name.startswith(MESH_CASES)
                  for opt in [case.make(0.01)]}


def test_every_battery_state_round_trips_with_its_classes(tmp_path):
  params, states = battery_states(exclude=NOT_THROUGH_ORBAX)
  tree = {n: s for n, (_, s) in states.items()}
  mngr = ocp.CheckpointManager(tmp_path)
  assert checkpoint.save(mngr, 3, tree)
  mngr.wait_until_finished()
  target = {n: checkpoint.abstract_state(opt, params) for n, (opt, _) in states.items()}
  restored = checkpoint.restore(mngr, target)
  differ = [n for n in tree if not _same(tree[n], restored[n])]
  assert differ == []
  # The pieces the issue names are among them.
  flat = str(jax.tree.structure(tree))
  for cls in ('EmptyState', 'MaskedNode', 'MultiStepsState', 'DynamicLossScale',
              'InjectHyperparamsState', 'ReduceLROnPlateauState'):
    assert cls in flat, cls
  assert any(jnp.issubdtype(x.dtype, jax.dtypes.prng_key) for x in jax.tree.leaves(restored))
  # Plain Orbax restores them too, against the same target.
  plain = mngr.restore(3, args=ocp.args.Composite(
      state=ocp.args.StandardRestore(target)))['state']
  assert all(_same(tree[n], plain[n]) for n in tree)


def test_restore_into_another_optimizer_names_the_first_difference(tmp_path):
  params = scenarios.make_params()
  adam = gradtx.adam(1e-3)
  mngr = ocp.CheckpointManager(tmp_path)
  checkpoint.save(mngr, 1, {'params': params, 'opt_state': adam.init(params)})
  mngr.wait_until_finished()
  target = {'params': params,
            'opt_state': checkpoint.abstract_state(gradtx.lion(1e-4), params)}
  with pytest.raises(checkpoint.StateMismatchError) as e:
    checkpoint.restore(mngr, target)
  msg = str(e.value)
  assert "first difference at tree['opt_state'][0]:" in msg
  assert 'target:     a ScaleByLionState' in msg
  assert 'checkpoint: a ScaleByAdamState' in msg
  # A layer added to the model since the save.
  bigger = dict(params, extra={'w': jnp.zeros((2, 2))})
  with pytest.raises(checkpoint.StateMismatchError, match=r"tree\['opt_state'\]\[0\]\.mu\['extra'\]\['w'\]"):
    checkpoint.restore(mngr, {'params': bigger,
                              'opt_state': checkpoint.abstract_state(adam, bigger)})


def test_missing_steps_are_a_checkpoint_error(tmp_path):
  mngr = ocp.CheckpointManager(tmp_path)
  with pytest.raises(checkpoint.CheckpointError, match='no checkpoint found'):
    checkpoint.restore(mngr, {'w': jnp.zeros(2)})
  checkpoint.save(mngr, 4, {'w': jnp.ones(2)})
  mngr.wait_until_finished()
  with pytest.raises(checkpoint.CheckpointError, match=r'no checkpoint for step 5.*\[4\]'):
    checkpoint.restore(mngr, {'w': jnp.zeros(2)}, step=5)


def _saved_copy(tmp_path, name):
  """A fresh copy of one saved checkpoint, and its largest data file."""
  src = tmp_path / 'src'
  if not src.exists():
    mngr = ocp.CheckpointManager(src)
    checkpoint.save(mngr, 1, scenarios.fault_tree(1))
    mngr.wait_until_finished()
  import shutil  # pylint: disable=g-import-not-at-top
  dst = tmp_path / name
  shutil.copytree(src, dst)
  files = [p for p in dst.rglob('*') if p.is_file() and '/d/' in str(p)]
  return dst, max(files, key=lambda p: p.stat().st_size)


def test_corrupt_and_truncated_checkpoints_raise(tmp_path):
  target = scenarios.fault_tree(0)
  # A flipped byte in the middle of the data.
  d, big = _saved_copy(tmp_path, 'flipped')
  data = bytearray(big.read_bytes())
  data[len(data) // 2] ^= 0x5A
  big.write_bytes(bytes(data))
  with pytest.raises(checkpoint.CheckpointError, match=r'is corrupt: the data of tree\[') as e:
    checkpoint.restore(ocp.CheckpointManager(d), target)
  assert 'crc32' in str(e.value)
  # Plain Orbax reads it without complaint and gets other numbers.
  plain = ocp.CheckpointManager(d).restore(1, args=ocp.args.Composite(
      state=ocp.args.StandardRestore(jax.tree.map(
          lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding),
          target))))['state']
  assert not _same(plain, scenarios.fault_tree(1))
  # A truncated data file.
  d, big = _saved_copy(tmp_path, 'truncated')
  os.truncate(big, big.stat().st_size // 3)
  with pytest.raises(checkpoint.CheckpointError, match='could not be read; it is truncated or corrupt'):
    checkpoint.restore(ocp.CheckpointManager(d), target)
  # A truncated layout record.
  d, _ = _saved_copy(tmp_path, 'no_layout')
  (meta,) = [p for p in (d / '1' / 'gradtx_digest').iterdir() if p.name == 'metadata']
  meta.write_text(meta.read_text()[:20])
  with pytest.raises(checkpoint.CheckpointError, match='no readable gradtx layout record'):
    checkpoint.restore(ocp.CheckpointManager(d), target)
  # The intact copy restores.
  d, _ = _saved_copy(tmp_path, 'intact')
  assert _same(checkpoint.restore(ocp.CheckpointManager(d), target), scenarios.fault_tree(1))


def test_save_killed_before_commit_leaves_previous_step(tmp_path):
  env = worker_env()
  proc = subprocess.run(
      [sys.executable, str(ROOT / 'tests' / 'checkpoint_scenarios.py'),
       'save_and_die', str(tmp_path), 'hook'],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
  assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
  assert 'NOT KILLED' not in proc.stdout
  leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith('2')]
  assert leftovers and all('tmp' in n for n in leftovers), leftovers  # step 2 was written
  mngr = ocp.CheckpointManager(tmp_path)
  assert mngr.all_steps() == [1]
  restored = checkpoint.restore(mngr, scenarios.fault_tree(0))
  assert _same(restored, scenarios.fault_tree(1))


def test_save_killed_while_writing_leaves_committed_steps_intact(tmp_path):
  proc = subprocess.Popen(
      [sys.executable, str(ROOT / 'tests' / 'checkpoint_scenarios.py'),
       'save_and_die', str(tmp_path), 'forever'],
      cwd=ROOT, env=worker_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
      text=True)
  try:
    assert proc.stdout.readline().strip() == 'READY'
    deadline = time.time() + 300
    # Let step 2 commit, then kill during the write of a later step.
    while not (any(p.name == '2' for p in tmp_path.iterdir())
               and any('tmp' in p.name for p in tmp_path.iterdir())):
      assert time.time() < deadline and proc.poll() is None
      time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
  finally:
    if proc.poll() is None:
      proc.kill()
    proc.communicate()
  assert proc.returncode == -signal.SIGKILL
  mngr = ocp.CheckpointManager(tmp_path)
  steps = mngr.all_steps()
  assert steps[:2] == [1, 2]
  for step in steps:  # every committed step is complete and verifies
    assert _same(checkpoint.restore(mngr, scenarios.fault_tree(0, size=1024 if step > 1 else 64), step),
                 scenarios.fault_tree(step, size=1024 if step > 1 else 64))


def test_sharded_state_restores_onto_four_devices(tmp_path):
  from jax.sharding import Mesh, PartitionSpec as P  # pylint: disable=g-import-not-at-top
  assert len(jax.devices()) == 8
  mesh = Mesh(np.array(jax.devices()), ('data',))
  params = scenarios.sharded_params(mesh)
  opt = scenarios.sharded_optimizer()
  shardings = jax.tree.map(lambda s: s.sharding, checkpoint.abstract_state(opt, params))
  state = jax.jit(opt.init, out_shardings=shardings)(params)
  for _ in range(3):
    updates, state = jax.jit(opt.update)(params, state, params)
    params = gradtx.apply_updates(params, updates)
  mu = state[0].mu['w']
  assert len(mu.sharding.device_set) == 8 and mu.sharding.spec == P('data')
  assert len(mu.addressable_shards) == 8 and mu.addressable_shards[0].data.shape == (4, 3)
  mngr = ocp.CheckpointManager(tmp_path / 'ckpt')
  checkpoint.save(mngr, 3, {'params': params, 'opt_state': state})
  mngr.wait_until_finished()

  run_worker('restore_sharded', str(tmp_path / 'ckpt'), str(tmp_path / 'out.pkl'),
             env=worker_env(devices=4))
  with open(tmp_path / 'out.pkl', 'rb') as f:
    info = pickle.load(f)
  assert info['devices'] == 4 and info['mu_devices'] == 4
  assert info['mu_spec'] == str(P('data'))
  saved = scenarios.host_leaves({'params': params, 'opt_state': state})
  assert [x.tobytes() for x in info['leaves']] == [x.tobytes() for x in saved]
  updates, _ = jax.jit(opt.update)(params, state, params)
  np.testing.assert_allclose(
      np.concatenate([np.ravel(x) for x in info['after_step']]),
      np.concatenate([np.ravel(x) for x in scenarios.host_leaves(updates)]),
      rtol=1e-6)
