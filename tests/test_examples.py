"""The examples run as a new user runs them (in a subprocess) and do their job."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / 'examples'


def run_example(name: str, *args: str, timeout: float = 240) -> tuple[str, str]:
  """Runs ``examples/<name> args...``; returns its stdout and stderr."""
  env = dict(os.environ)
  # A clean JAX environment like a user's shell: one CPU device, no test flags.
  env.pop('XLA_FLAGS', None)
  env['JAX_PLATFORMS'] = 'cpu'
  env['MPLBACKEND'] = 'Agg'
  env['PYTHONPATH'] = os.pathsep.join([str(ROOT), env.get('PYTHONPATH', '')])
  proc = subprocess.run(
      [sys.executable, str(EXAMPLES / name), *args],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
  )
  assert proc.returncode == 0, (
      f'{name} failed with exit code {proc.returncode}\n'
      f'--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}')
  return proc.stdout, proc.stderr


def accuracies(output: str) -> list[float]:
  return [float(a) for a in re.findall(r'test accuracy: ([0-9.]+)', output)]


def test_quickstart_default_run_reaches_95_percent(tmp_path):
  """The README's main job, with its default settings (about 10 s on a CPU)."""
  out = tmp_path / 'curves.png'
  output, errors = run_example('quickstart.py', '--out', str(out))
  assert '1500/1500' in errors  # tqdm's progress bar reached the end
  (acc,) = accuracies(output)
  assert acc >= 0.95, output
  assert out.exists() and out.stat().st_size > 10_000
  assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_flax_example_linen_and_nnx():
  pytest.importorskip('flax')
  output, _ = run_example('flax_train_state.py', '--steps', '200')
  assert 'linen + TrainState: step 200' in output
  assert 'nnx + nnx.Optimizer: step 200' in output
  accs = accuracies(output)
  assert len(accs) == 2 and min(accs) >= 0.9, output


def test_quickstart_fast_switch_trains_the_same_model():
  """``--fast`` (``fused(opt)``, one line) changes the speed, not the math."""
  import importlib.util  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  spec = importlib.util.spec_from_file_location(
      'quickstart_example', EXAMPLES / 'quickstart.py')
  quickstart = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(quickstart)
  with jax.numpy_rank_promotion('allow'):  # the example broadcasts biases
    runs = [quickstart.train(150, 128, 0, 3e-3, 1e-4, progress=False,
                             fast=fast) for fast in (False, True)]
  (plain, acc, losses, _), (fused, fast_acc, fast_losses, _) = runs
  for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(fused)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(losses, fast_losses, rtol=1e-4, atol=1e-6)
  assert min(acc, fast_acc) >= 0.9


def test_flax_example_switches_to_the_fast_path_with_one_flag():
  pytest.importorskip('flax')
  output, _ = run_example('flax_train_state.py', '--steps', '100', '--fast')
  assert "optimizer state: FusedState, buffers ['float32']" in output
  assert 'nnx + nnx.Optimizer: step 100' in output
  accs = accuracies(output)
  assert len(accs) == 2 and min(accs) >= 0.9, output


def test_checkpoint_resume_is_bit_identical_after_sigkill(tmp_path):
  pytest.importorskip('orbax.checkpoint')
  out = tmp_path / 'resume.png'
  output, _ = run_example('checkpoint_resume.py', '--steps', '60', '--crash-at', '40',
                          '--every', '15', '--out', str(out), '--dir', str(tmp_path / 'ckpt'))
  assert 'first child process: exit code -9' in output
  assert 'second child process: exit code 0' in output
  assert 'resumed from the checkpoint of step' in output
  assert 'largest difference from the uninterrupted run: 0.0\n' in output
  assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
