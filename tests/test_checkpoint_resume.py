"""Exact resume in a fresh process, for every battery optimizer and stateful piece.

A first process trains every scenario of ``tests/checkpoint_scenarios.py``
for 12 steps and saves all of them at step 5 in one Orbax checkpoint; a
second, fresh process rebuilds the optimizers, restores the carries against targets built from ``opt.init`` (so the
state classes come back), checks them with ``check_state`` and continues to
step 12. Every leaf of the params, optimizer state and extra state must be
bit-identical to the uninterrupted run. The scenarios at step 5 are in the
middle of what they test (MultiSteps mid-accumulation, a loss scale
mid-growth, plateau and early stopping mid-patience, lookahead between syncs,
apply_if_finite between errors); the test checks that too.
"""

from __future__ import annotations

import os
import pathlib
import pickle
import subprocess
import sys

import pytest

pytest.importorskip('orbax.checkpoint')

from tests import checkpoint_scenarios  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def worker_env(devices: int = 8, **extra: str) -> dict:
  env = dict(os.environ)
  env['XLA_FLAGS'] = f'--xla_force_host_platform_device_count={devices}'
  env['JAX_PLATFORMS'] = 'cpu'
  env['PYTHONPATH'] = os.pathsep.join([str(ROOT), env.get('PYTHONPATH', '')])
  env.update(extra)
  return env


def run_worker(*args: str, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
  proc = subprocess.run(
      [sys.executable, str(ROOT / 'tests' / 'checkpoint_scenarios.py'), *args],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
  assert proc.returncode == 0, (
      f'worker {args[0]} failed ({proc.returncode})\n{proc.stdout[-3000:]}\n'
      f'{proc.stderr[-6000:]}')
  return proc


def _bits(a) -> tuple:
  return (str(a.dtype), a.shape, a.tobytes())


def test_resume_in_a_fresh_process_is_bit_identical(tmp_path):
  names = [s.name for s in checkpoint_scenarios.all_scenarios()]
  assert len([n for n in names if n.startswith('battery/')]) >= 80
  # Both processes share a persistent compilation cache, so that the second
  # one loads the ~160 step programs instead of compiling them again (the
  # test's cost halves). What it restores comes only from the checkpoint.
  env = worker_env(JAX_COMPILATION_CACHE_DIR=str(tmp_path / 'xla_cache'),
                   JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS='0',
                   JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES='0')
  ckpt = str(tmp_path / 'ckpt')
  run_worker('train', ckpt, str(tmp_path / 'first.pkl'), env=env)
  with open(tmp_path / 'first.pkl', 'rb') as f:
    first = pickle.load(f)
  assert first['not_mid'] == {}, first['not_mid']
  first = first['final']
  assert sorted(first) == sorted(names)

  run_worker('resume', ckpt, str(tmp_path / 'resumed.pkl'), env=env)
  with open(tmp_path / 'resumed.pkl', 'rb') as f:
    resumed = pickle.load(f)
  assert sorted(resumed) == sorted(names)
  differ = [n for n in names
            if [_bits(a) for a in first[n]] != [_bits(b) for b in resumed[n]]]
  assert differ == [], f'resumed runs differ from the uninterrupted ones: {differ}'


def test_scenario_gradients_are_the_battery_loss_gradients():
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  params = checkpoint_scenarios.make_params()
  want = jax.grad(checkpoint_scenarios.loss_fn)(params)
  got = checkpoint_scenarios._grads(params)  # pylint: disable=protected-access
  for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
