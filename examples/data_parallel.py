"""Data-parallel training of the quickstart MLP on 1..N devices, one or many processes.

The model, data and optimizer are those of ``examples/quickstart.py`` (a
small MLP on scikit-learn's digits, ``chain(clip_by_global_norm, adamw)``).
Each step's global batch is split over a ``'data'`` mesh axis:

* by default with ``jax.jit`` and ``NamedSharding``: params and optimizer
  state replicated, the batch sharded, XLA inserts the gradient all-reduce;
* with ``--zero``: ``jax.shard_map`` and ``gradtx.distributed.zero_sharded``:
  params replicated, optimizer state partitioned over the devices (ZeRO),
  gradients reduce-scattered and updates all-gathered.

Run it on simulated CPU devices, as a new user would::

  python examples/data_parallel.py --devices 8
  python examples/data_parallel.py --devices 8 --zero
  python examples/data_parallel.py --devices 8 --processes 2 --zero

``--processes P`` starts ``P`` local processes (``jax.distributed`` on
localhost, gloo CPU collectives), each with ``devices / P`` devices; the
8-device mesh then spans both. The script prints the optimizer-state bytes
held by one device and the test accuracy. In one process it also trains on
1, 2, 4 and 8 devices (same global batch) and plots the loss curves on one
PNG (``--out``): data parallelism does not change the math, so the curves lie
on top of each other.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time


def _parse(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--devices', type=int, default=8,
                      help='devices in all (simulated CPU devices on a CPU host)')
  parser.add_argument('--processes', type=int, default=1,
                      help='local processes to start (jax.distributed)')
  parser.add_argument('--zero', action='store_true',
                      help='partition the optimizer state (ZeRO) with shard_map')
  parser.add_argument('--steps', type=int, default=600)
  parser.add_argument('--batch-size', type=int, default=128, help='global batch')
  parser.add_argument('--lr', type=float, default=3e-3)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--out', default='data_parallel.png',
                      help='plot of the loss curves on 1, 2, 4, 8 devices')
  parser.add_argument('--no-plot', action='store_true')
  # Set by the launcher for its workers.
  parser.add_argument('--process-id', type=int, default=None, help=argparse.SUPPRESS)
  parser.add_argument('--coordinator', default=None, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.devices % args.processes:
    parser.error(f'--devices {args.devices} must be a multiple of '
                 f'--processes {args.processes}')
  if args.batch_size % args.devices:
    parser.error(f'--batch-size {args.batch_size} must be a multiple of '
                 f'--devices {args.devices}')
  return args


def _launch(args) -> int:
  """Starts ``args.processes`` copies of this script and waits for them."""
  with socket.socket() as s:
    s.bind(('localhost', 0))
    port = s.getsockname()[1]
  argv = [a for a in sys.argv[1:]]
  procs = [
      subprocess.Popen(
          [sys.executable, __file__, *argv, '--process-id', str(i),
           '--coordinator', f'localhost:{port}'],
          stdout=None if i == 0 else subprocess.DEVNULL,
          stderr=None if i == 0 else subprocess.DEVNULL)
      for i in range(args.processes)
  ]
  codes = [p.wait() for p in procs]
  return max(codes, key=abs)


ARGS = _parse() if __name__ == '__main__' else None
if ARGS is not None and ARGS.processes > 1 and ARGS.process_id is None:
  sys.exit(_launch(ARGS))
if ARGS is not None:
  # Simulated CPU devices must be requested before JAX starts.
  local = ARGS.devices // ARGS.processes
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                             f' --xla_force_host_platform_device_count={local}')

# pylint: disable=g-import-not-at-top,wrong-import-position
import jax  # noqa: E402
import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import gradtx  # noqa: E402
from gradtx import distributed as gd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quickstart  # noqa: E402  (the model, the data and the optimizer)

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def state_bytes_per_device(state) -> int:
  """Bytes of ``state`` held by the first local device."""
  device = jax.local_devices()[0]
  return sum(shard.data.nbytes for leaf in jax.tree.leaves(state)
             for shard in leaf.addressable_shards if shard.device == device)


def make_step(opt, mesh, zero: bool, params, state):
  """The jitted train step: GSPMD (jit + shardings) or shard_map + ZeRO."""
  if not zero:
    @jax.jit
    def step(params, state, x, y):
      loss, grads = jax.value_and_grad(quickstart.loss_fn)(params, x, y)
      updates, state = opt.update(grads, state, params)
      return gradtx.apply_updates(params, updates), state, loss
    return step

  specs = gd.state_partition_specs(opt, params)

  def local_step(params, state, x, y):
    # Per-device ('varying') params keep each device's gradient local, so
    # zero_sharded reduce-scatters it instead of JAX all-reducing it.
    local_params = jax.lax.pcast(params, 'data', to='varying')
    loss, grads = jax.value_and_grad(quickstart.loss_fn)(local_params, x, y)
    updates, state = opt.update(grads, state, params)
    return (gradtx.apply_updates(params, updates), state,
            jax.lax.pmean(loss, 'data'))

  return jax.jit(jax.shard_map(
      local_step, mesh=mesh, in_specs=(P(), specs, P('data'), P('data')),
      out_specs=(P(), specs, P())))


def train(devices, zero: bool, steps: int, batch_size: int, lr: float, seed: int):
  """Trains on ``devices``; returns test accuracy, losses, state bytes, s/step."""
  mesh = jax.sharding.Mesh(np.asarray(devices), ('data',),
                           axis_types=(jax.sharding.AxisType.Auto,))
  replicated, split = NamedSharding(mesh, P()), NamedSharding(mesh, P('data'))
  x_train, x_test, y_train, y_test = quickstart.load_data(seed)
  params = quickstart.init_mlp(jax.random.PRNGKey(seed), [64, 128, 128, 10])
  params = jax.tree.map(
      lambda a: jax.make_array_from_callback(a.shape, replicated,
                                             lambda i, a=np.asarray(a): a[i]),
      params)
  opt, _ = quickstart.make_optimizer(steps, lr, 1e-4)
  if zero:
    opt = gd.zero_sharded(opt, 'data', num_shards=len(devices))
  state = gd.sharded_init(opt, params)
  step = make_step(opt, mesh, zero, params, state)

  rng = np.random.default_rng(seed)
  order, pos = rng.permutation(len(x_train)), 0
  losses = np.zeros(steps, np.float32)
  start = None
  for i in range(steps):
    if pos + batch_size > len(x_train):
      order, pos = rng.permutation(len(x_train)), 0
    idx = order[pos:pos + batch_size]
    pos += batch_size
    xb, yb = x_train[idx], y_train[idx]
    x = jax.make_array_from_callback(xb.shape, split, lambda j: xb[j])
    y = jax.make_array_from_callback(yb.shape, split, lambda j: yb[j])
    params, state, loss = step(params, state, x, y)
    losses[i] = np.asarray(loss.addressable_shards[0].data)
    if i == 0:
      start = time.perf_counter()  # after compilation
  per_step = (time.perf_counter() - start) / max(steps - 1, 1)
  local_params = jax.tree.map(lambda a: np.asarray(a.addressable_shards[0].data), params)
  acc = quickstart.accuracy(local_params, x_test, y_test)
  return acc, losses, state_bytes_per_device(state), per_step


def plot(curves: dict, out: str) -> None:
  fig, ax = plt.subplots(figsize=(7, 4))
  for n, losses in curves.items():
    window = max(1, len(losses) // 40)
    smooth = np.convolve(losses, np.ones(window) / window, mode='valid')
    ax.plot(np.arange(window - 1, len(losses)), smooth,
            lw=2.5 if n == 1 else 1.2, ls='-' if n == 1 else '--',
            label=f'{n} device{"s" if n > 1 else ""}')
  ax.set(xlabel='step', ylabel='cross-entropy (running mean)', yscale='log',
         title='Same global batch on 1, 2, 4, 8 devices')
  ax.legend()
  fig.tight_layout()
  fig.savefig(out, dpi=100)
  plt.close(fig)


def main(args) -> float:
  if args.processes > 1:
    jax.config.update('jax_cpu_collectives_implementation', 'gloo')
    jax.distributed.initialize(coordinator_address=args.coordinator,
                               num_processes=args.processes,
                               process_id=args.process_id)
  devices = jax.devices()[:args.devices]
  if len(devices) < args.devices:
    raise SystemExit(f'asked for {args.devices} devices, found {len(devices)}')
  mode = 'ZeRO (shard_map, state partitioned)' if args.zero else (
      'jit + NamedSharding (state replicated)')
  print(f'{jax.process_count()} process(es), {len(devices)} devices, {mode}')
  acc, losses, nbytes, per_step = train(devices, args.zero, args.steps,
                                        args.batch_size, args.lr, args.seed)
  print(f'optimizer state per device: {nbytes} bytes')
  print(f'step time: {per_step * 1e3:.2f} ms')
  print(f'final training loss: {losses[-10:].mean():.4f}')
  print(f'test accuracy: {acc:.4f}')

  if args.processes == 1 and not args.no_plot:
    curves = {}
    for n in (1, 2, 4, 8):
      if n <= len(devices):
        curves[n] = losses if n == len(devices) else train(
            devices[:n], args.zero, args.steps, args.batch_size, args.lr,
            args.seed)[1]
    spread = max(float(np.max(np.abs(c - curves[1]))) for c in curves.values())
    print(f'largest difference between the loss curves: {spread:.2e}')
    plot(curves, args.out)
    print(f'saved the loss curves to {args.out}')
  if args.processes > 1:
    jax.distributed.shutdown()
  return acc


if __name__ == '__main__':
  main(ARGS)
