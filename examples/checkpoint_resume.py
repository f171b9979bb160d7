"""Train, get killed, resume in a new process: the same run, bit for bit.

An MLP on sklearn's digits with ``chain(clip_by_global_norm, adamw)`` and a
warmup-cosine learning rate, checkpointed with Orbax through
``gradtx.checkpoint`` every ``--every`` steps. The script runs the training
three times:

1. uninterrupted, in this process (the reference curve);
2. in a child process that is killed with SIGKILL right after step
   ``--crash-at`` (a checkpoint may be half written at that moment);
3. in a new child process, which restores the latest complete checkpoint,
   checks it against the optimizer, and trains to the end.

The mini-batch of each step is a function of the step number, so the
resumed run sees the same data. Both loss curves are plotted on one PNG;
they overlap exactly.

Run:  python examples/checkpoint_resume.py [--steps 300] [--crash-at 170]
          [--every 50] [--out checkpoint_resume.png]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from sklearn.datasets import load_digits

import gradtx
from gradtx import checkpoint


def make_optimizer(steps: int):
  schedule = gradtx.warmup_cosine_decay_schedule(0.0, 3e-3, steps // 10, steps)
  return gradtx.chain(gradtx.clip_by_global_norm(1.0),
                      gradtx.adamw(schedule, weight_decay=1e-4))


def init_params(sizes=(64, 64, 10)):
  keys = jax.random.split(jax.random.PRNGKey(0), len(sizes) - 1)
  return [{'w': jax.random.normal(k, (m, n)) * jnp.sqrt(2.0 / m), 'b': jnp.zeros((n,))}
          for k, m, n in zip(keys, sizes[:-1], sizes[1:])]


def loss_fn(params, x, y):
  h = x
  for i, layer in enumerate(params):
    h = h @ layer['w'] + layer['b'][None, :]
    if i < len(params) - 1:
      h = jax.nn.relu(h)
  logp = jax.nn.log_softmax(h)
  return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def batch(x, y, step: int, size: int = 64):
  """The mini-batch of a step depends only on the step: resumable data."""
  idx = jax.random.choice(jax.random.fold_in(jax.random.PRNGKey(1), step),
                          len(x), (size,), replace=False)
  return x[idx], y[idx]


def train(steps: int, directory=None, every: int = 50, crash_at=None, log=None):
  """Trains to ``steps``; checkpoints into ``directory`` and resumes from it."""
  x, y = load_digits(return_X_y=True)
  x, y = jnp.asarray(x / 16.0, jnp.float32), jnp.asarray(y)
  opt = make_optimizer(steps)
  params = init_params()
  state = opt.init(params)
  start = 0
  mngr = ocp.CheckpointManager(directory) if directory else None
  if mngr is not None and mngr.latest_step() is not None:
    # Restore against a target built from the optimizer: the state comes back
    # as gradtx's classes, and a checkpoint of another optimizer or model
    # fails with an error naming the first differing path.
    target = {'params': params, 'opt_state': checkpoint.abstract_state(opt, params)}
    restored = checkpoint.restore(mngr, target)
    params, state = restored['params'], restored['opt_state']
    checkpoint.check_state(opt, params, state)
    start = mngr.latest_step()
    print(f'resumed from the checkpoint of step {start}', flush=True)

  @jax.jit
  def step_fn(params, state, t):
    xb, yb = batch(x, y, t)
    loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state, loss

  losses = {}
  for t in range(start, steps):
    params, state, loss = step_fn(params, state, t)
    losses[t] = float(loss)
    if log is not None:
      log.write(json.dumps([t, losses[t]]) + '\n')
      log.flush()
    if mngr is not None and (t + 1) % every == 0:
      checkpoint.save(mngr, t + 1, {'params': params, 'opt_state': state})
    if crash_at is not None and t + 1 == crash_at:
      os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, like a lost machine
  if mngr is not None:
    mngr.wait_until_finished()
  return losses


def child(args) -> int:
  cmd = [sys.executable, __file__, '--role', 'child', '--steps', str(args.steps),
         '--every', str(args.every), '--dir', args.dir]
  if args.crash_at is not None:
    cmd += ['--crash-at', str(args.crash_at)]
  return subprocess.run(cmd, check=False).returncode


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--steps', type=int, default=300)
  parser.add_argument('--crash-at', type=int, default=170)
  parser.add_argument('--every', type=int, default=50)
  parser.add_argument('--out', default='checkpoint_resume.png')
  parser.add_argument('--dir', default=None, help='checkpoint directory (default: a new temporary one)')
  parser.add_argument('--role', default='main', choices=['main', 'child'], help=argparse.SUPPRESS)
  args = parser.parse_args()

  if args.role == 'child':
    with open(pathlib.Path(args.dir) / 'losses.jsonl', 'a') as log:
      train(args.steps, args.dir, args.every, args.crash_at, log)
    return

  args.dir = args.dir or tempfile.mkdtemp(prefix='gradtx_ckpt_')
  pathlib.Path(args.dir).mkdir(parents=True, exist_ok=True)
  reference = train(args.steps)
  print(f'uninterrupted run: final loss {reference[args.steps - 1]:.4f}')

  crash_at = args.crash_at
  code = child(args)  # killed at --crash-at
  print(f'first child process: exit code {code} (killed with SIGKILL after '
        f'step {args.crash_at})')
  args.crash_at = None
  code = child(args)  # a new process resumes from the latest checkpoint
  print(f'second child process: exit code {code}')

  resumed = {}
  with open(pathlib.Path(args.dir) / 'losses.jsonl') as f:
    runs, last = [[]], -1
    for line in f:
      t, loss = json.loads(line)
      if t <= last:
        runs.append([])  # a new process started over from a checkpoint
      runs[-1].append((t, loss))
      last = t
  for run in runs:
    resumed.update(dict(run))
  diff = max(abs(resumed[t] - reference[t]) for t in reference)
  print(f'resumed run: final loss {resumed[args.steps - 1]:.4f}; '
        f'largest difference from the uninterrupted run: {diff}')

  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(7, 3.8))
  steps = np.arange(args.steps)
  ax.plot(steps, [reference[t] for t in steps], lw=4, alpha=0.35, color='k',
          label='uninterrupted')
  for i, run in enumerate(runs):
    t, loss = zip(*run)
    last = i == len(runs) - 1
    ax.plot(t, loss, lw=1.2, ls='-' if last else '--', zorder=2 if last else 3,
            color='tab:blue' if last else 'tab:red',
            label=f'process {i + 1} ({"resumed in a new process" if last else "killed"})')
  ax.axvline(runs[-1][0][0], ls=':', color='gray')
  ax.set_yscale('log')
  ax.set_xlabel('step')
  ax.set_ylabel('training loss')
  ax.set_title(f'Killed after step {crash_at}, resumed from step '
               f'{runs[-1][0][0]}: max difference {diff:g}')
  ax.legend()
  fig.tight_layout()
  fig.savefig(args.out, dpi=120)
  print(f'plot saved to {args.out}')


if __name__ == '__main__':
  main()
