"""Two processes on this machine, 4 simulated CPU devices each, one 8-device mesh.

The test starts both processes itself (``jax.distributed.initialize`` on
localhost, gloo CPU collectives), lets them train with
``tests/distributed_worker.py`` and compares their result with the same
training in this process on 8 devices, and with one device on the full batch
without any mesh (the plain single-device optimizer, an independent path).
"""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

import gradtx
from tests import distributed_worker as worker

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


def _single_device_full_batch() -> dict:
  """The reference: one device, the whole batch, no sharding anywhere."""
  x, y = worker.make_data()
  params = worker.init_params()
  opt = worker.make_optimizer()
  state = opt.init(params)

  @jax.jit
  def step(params, state):
    loss, grads = jax.value_and_grad(worker.loss_fn)(params, x, y)
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state, loss

  losses = []
  for _ in range(worker.STEPS):
    params, state, loss = step(params, state)
    losses.append(float(loss))
  return {'params': jax.tree.map(np.asarray, params), 'losses': np.asarray(losses)}


@pytest.fixture(scope='module')
def two_processes(tmp_path_factory):
  out = tmp_path_factory.mktemp('mp') / 'result.npz'
  port = _free_port()
  env = dict(os.environ)
  env['XLA_FLAGS'] = '--xla_force_host_platform_device_count=4'
  env['JAX_PLATFORMS'] = 'cpu'
  env['PYTHONPATH'] = str(ROOT) + os.pathsep + env.get('PYTHONPATH', '')
  procs = [
      subprocess.Popen(
          [sys.executable, str(ROOT / 'tests' / 'distributed_worker.py'),
           str(i), '2', str(port), str(out)],
          env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
          text=True)
      for i in range(2)
  ]
  logs = []
  try:
    for p in procs:
      logs.append(p.communicate(timeout=240)[0])
  finally:
    for p in procs:
      if p.poll() is None:
        p.kill()
  for p, log in zip(procs, logs):
    assert p.returncode == 0, log[-4000:]
  return dict(np.load(out))


def _close(a, b, rtol):
  """Max difference relative to the leaf's scale."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  return np.max(np.abs(a - b)) <= rtol * max(np.max(np.abs(b)), 1e-30)


@pytest.mark.parametrize('mode', ['replicated', 'zero'])
def test_two_processes_equal_one_process_and_one_device(two_processes, mode):
  r = two_processes
  assert int(r['device_count']) == 8 and int(r['local_device_count']) == 4
  in_process = worker.train(jax.devices()[:8], mode)
  reference = _single_device_full_batch()
  ref_leaves = jax.tree.leaves(reference['params'])
  one_proc_leaves = jax.tree.leaves(in_process['params'])
  for i, (ref, one) in enumerate(zip(ref_leaves, one_proc_leaves)):
    two = r[f'{mode}/param{i}']
    assert _close(two, one, 1e-6), (mode, i, np.max(np.abs(two - one)))
    assert _close(two, ref, 1e-6), (mode, i, np.max(np.abs(two - ref)))
  np.testing.assert_allclose(r[f'{mode}/losses'], reference['losses'], rtol=1e-6)
  # Training did something: the loss fell.
  assert reference['losses'][-1] < 0.8 * reference['losses'][0]


def test_two_processes_zero_state_is_partitioned(two_processes):
  r = two_processes
  replicated, zero = int(r['replicated/state_bytes']), int(r['zero/state_bytes'])
  n = 4 * (worker.FEATURES * worker.HIDDEN + worker.HIDDEN
           + worker.HIDDEN * worker.CLASSES + worker.CLASSES)
  # adamw: mu and nu (2 x params) + counters, replicated.
  assert replicated == 2 * n + 8  # + two int32 counters (adam, schedule)
  # Each device keeps ceil(n / 8) elements of each leaf of mu and nu.
  per_device = sum(gradtx.distributed.shard_size(s, 8) for s in (180, 15, 150, 10))
  assert per_device == 23 + 2 + 19 + 2
  assert zero == 2 * 4 * per_device + 8
