"""Data-parallel training used by the distributed tests, in one or many processes.

``train(devices, mode)`` trains a small MLP on a fixed synthetic batch with
gradtx's ``chain(clip_by_global_norm, adamw)`` on the given devices:

* ``mode='replicated'``: ``jit`` with ``NamedSharding`` (params and state
  replicated, the batch split over the ``'data'`` axis);
* ``mode='zero'``: ``shard_map`` with :func:`gradtx.distributed.zero_sharded`
  (params replicated, state partitioned over ``'data'``).

Run as a script it is one process of a multi-process job (started by
``tests/test_distributed_multiprocess.py``)::

  python tests/distributed_worker.py PROCESS_ID NUM_PROCESSES PORT OUT.npz
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

import gradtx
from gradtx import distributed as gd

BATCH, FEATURES, HIDDEN, CLASSES, STEPS = 32, 12, 15, 10, 12


def make_data():
  """A fixed batch: inputs and the labels of a random linear teacher."""
  rng = np.random.default_rng(0)
  x = rng.normal(size=(BATCH, FEATURES)).astype(np.float32)
  teacher = rng.normal(size=(FEATURES, CLASSES)).astype(np.float32)
  return x, np.argmax(x @ teacher, -1).astype(np.int32)


def init_params():
  """Leaf sizes 180, 15, 150 and 10: none divides 8 (padding is exercised)."""
  rng = np.random.default_rng(1)
  return {
      'hidden': {'w': rng.normal(size=(FEATURES, HIDDEN)).astype(np.float32) * 0.4,
                 'b': np.zeros(HIDDEN, np.float32)},
      'out': {'w': rng.normal(size=(HIDDEN, CLASSES)).astype(np.float32) * 0.3,
              'b': np.zeros(CLASSES, np.float32)},
  }


def loss_fn(params, x, y):
  h = jnp.tanh(x @ params['hidden']['w'] + params['hidden']['b'][None, :])
  logits = h @ params['out']['w'] + params['out']['b'][None, :]
  return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], 1))


def make_optimizer():
  """Clipping by the global norm is active (norms are above 0.5)."""
  schedule = gradtx.warmup_cosine_decay_schedule(0.0, 0.05, 3, STEPS, 0.005)
  return gradtx.chain(gradtx.clip_by_global_norm(0.5),
                      gradtx.adamw(schedule, weight_decay=1e-2))


def _local(x: jax.Array) -> np.ndarray:
  """A replicated array's value, read from a local shard (works multi-process)."""
  return np.asarray(x.addressable_shards[0].data)


def per_device_bytes(tree) -> int:
  """Bytes the first local device holds of ``tree``."""
  device = jax.local_devices()[0]
  total = 0
  for leaf in jax.tree.leaves(tree):
    for shard in leaf.addressable_shards:
      if shard.device == device:
        total += shard.data.nbytes
  return total


def train(devices, mode: str, steps: int = STEPS) -> dict:
  """Trains on ``devices``; returns final params, the losses and state bytes."""
  mesh = jax.sharding.Mesh(np.asarray(devices), ('data',),
                           axis_types=(jax.sharding.AxisType.Auto,))
  replicated = NamedSharding(mesh, P())
  batch_sharding = NamedSharding(mesh, P('data'))
  x_np, y_np = make_data()
  x = jax.make_array_from_callback(x_np.shape, batch_sharding, lambda i: x_np[i])
  y = jax.make_array_from_callback(y_np.shape, batch_sharding, lambda i: y_np[i])
  params_np = init_params()
  params = jax.tree.map(
      lambda a: jax.make_array_from_callback(a.shape, replicated, lambda i: a[i]),
      params_np)
  inner = make_optimizer()

  if mode == 'replicated':
    opt = inner
    state = gd.sharded_init(opt, params)

    @jax.jit
    def step(params, state, x, y):
      loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
      updates, state = opt.update(grads, state, params)
      return gradtx.apply_updates(params, updates), state, loss
  elif mode == 'zero':
    opt = gd.zero_sharded(inner, 'data', num_shards=len(devices))
    state = gd.sharded_init(opt, params)
    specs = gd.state_partition_specs(opt, params)

    def local_step(params, state, x, y):
      # Differentiating with respect to the replicated params would make JAX
      # all-reduce the gradients; marked per-device ('varying') they stay
      # local and zero_sharded reduce-scatters them.
      local_params = jax.lax.pcast(params, 'data', to='varying')
      loss, grads = jax.value_and_grad(loss_fn)(local_params, x, y)
      updates, state = opt.update(grads, state, params)
      return (gradtx.apply_updates(params, updates), state,
              jax.lax.pmean(loss, 'data'))

    step = jax.jit(jax.shard_map(
        local_step, mesh=mesh, in_specs=(P(), specs, P('data'), P('data')),
        out_specs=(P(), specs, P())))
  else:
    raise ValueError(f'unknown mode {mode!r}')

  losses = []
  for _ in range(steps):
    params, state, loss = step(params, state, x, y)
    losses.append(_local(loss))
  return {
      'params': jax.tree.map(_local, params),
      'losses': np.asarray(losses),
      'state_bytes': per_device_bytes(state),
  }


def main(argv) -> None:
  process_id, num_processes, port, out = (
      int(argv[1]), int(argv[2]), argv[3], argv[4])
  jax.config.update('jax_cpu_collectives_implementation', 'gloo')
  jax.distributed.initialize(
      coordinator_address=f'localhost:{port}', num_processes=num_processes,
      process_id=process_id)
  results = {}
  for mode in ('replicated', 'zero'):
    r = train(jax.devices(), mode)
    for i, leaf in enumerate(jax.tree.leaves(r['params'])):
      results[f'{mode}/param{i}'] = leaf
    results[f'{mode}/losses'] = r['losses']
    results[f'{mode}/state_bytes'] = np.asarray(r['state_bytes'])
  results['device_count'] = np.asarray(jax.device_count())
  results['local_device_count'] = np.asarray(jax.local_device_count())
  if process_id == 0:
    np.savez(out, **results)
  jax.distributed.shutdown()


if __name__ == '__main__':
  main(sys.argv)
