"""Per-device optimizer-state bytes and step time: replicated vs ZeRO state.

The params are a ResNet-50-shaped tree (161 leaves, 25.6M parameters: the
convolution kernels, batch-norm scales and offsets and the 2048x1000 head of
He et al. 2016), the optimizer ``chain(clip_by_global_norm(1), adamw)``. For
1, 2, 4 and 8 devices it times one data-parallel optimizer step inside
``shard_map``:

* ``replicated``: ``pmean`` of the per-device gradients, the whole update on
  every device, every device holds the whole state;
* ``zero``: :func:`gradtx.distributed.zero_sharded`: reduce-scatter, the
  update of a 1/N slice, all-gather; every device holds 1/N of the state.

The per-device gradients are made inside the step from the params (no host
transfer). Bytes are read from the state's shards on the first device.
Simulated CPU devices share the host's cores, so step times measure the
collectives' and the update's work as a whole, not a speed-up.

  python benchmarks/bench_distributed.py            # 1, 2, 4, 8 devices
  python benchmarks/bench_distributed.py --devices 1,8 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import time

if __name__ == '__main__':
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                             ' --xla_force_host_platform_device_count=8')

# pylint: disable=g-import-not-at-top,wrong-import-position
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import gradtx  # noqa: E402
from gradtx import distributed as gd  # noqa: E402


def resnet50_shapes() -> dict:
  """Leaf shapes of a ResNet-50 (bottleneck blocks 3, 4, 6, 3)."""
  shapes = {'stem/conv': (7, 7, 3, 64), 'stem/bn_scale': (64,), 'stem/bn_bias': (64,)}
  c_in = 64
  for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512))):
    for b in range(blocks):
      name = f'stage{stage}/block{b}'
      convs = [(1, 1, c_in, width), (3, 3, width, width), (1, 1, width, 4 * width)]
      for i, k in enumerate(convs):
        shapes[f'{name}/conv{i}'] = k
        shapes[f'{name}/bn{i}_scale'] = (k[-1],)
        shapes[f'{name}/bn{i}_bias'] = (k[-1],)
      if b == 0:
        shapes[f'{name}/proj'] = (1, 1, c_in, 4 * width)
        shapes[f'{name}/proj_bn_scale'] = (4 * width,)
        shapes[f'{name}/proj_bn_bias'] = (4 * width,)
      c_in = 4 * width
  shapes['head/w'] = (2048, 1000)
  shapes['head/b'] = (1000,)
  return shapes


def make_params(mesh):
  replicated = NamedSharding(mesh, P())
  keys = jax.random.split(jax.random.PRNGKey(0), len(resnet50_shapes()))
  return {
      name: jax.device_put(0.01 * jax.random.normal(k, shape, jnp.float32), replicated)
      for k, (name, shape) in zip(keys, resnet50_shapes().items())
  }


def state_bytes(state) -> int:
  device = jax.devices()[0]
  return sum(s.data.nbytes for leaf in jax.tree.leaves(state)
             for s in leaf.addressable_shards if s.device == device)


def build(n: int, mode: str):
  mesh = jax.sharding.Mesh(np.asarray(jax.devices()[:n]), ('data',),
                           axis_types=(jax.sharding.AxisType.Auto,))
  params = make_params(mesh)
  inner = gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adamw(1e-3, weight_decay=1e-4))
  opt = gd.zero_sharded(inner, 'data', n) if mode == 'zero' else inner
  state = gd.sharded_init(opt, params)
  specs = gd.state_partition_specs(opt, params)

  def local_step(params, state):
    scale = (jax.lax.axis_index('data') + 1).astype(jnp.float32)
    local = jax.lax.pcast(params, 'data', to='varying')
    grads = jax.tree.map(lambda p: p * scale, local)  # differs per device
    if mode == 'replicated':
      grads = jax.lax.pmean(grads, 'data')
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state

  step = jax.jit(jax.shard_map(local_step, mesh=mesh, in_specs=(P(), specs),
                               out_specs=(P(), specs)), donate_argnums=(0, 1))
  return step, params, state


def run(n: int, mode: str, repeats: int) -> tuple[int, float, float]:
  step, params, state = build(n, mode)
  t0 = time.perf_counter()
  params, state = step(params, state)
  jax.block_until_ready(params)
  compile_s = time.perf_counter() - t0
  times = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    params, state = step(params, state)
    jax.block_until_ready(params)
    times.append(time.perf_counter() - t0)
  return state_bytes(state), float(np.median(times)), compile_s


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--devices', default='1,2,4,8')
  parser.add_argument('--repeats', type=int, default=5)
  args = parser.parse_args(argv)
  n_params = sum(int(np.prod(s)) for s in resnet50_shapes().values())
  print(f'ResNet-50-shaped params: {len(resnet50_shapes())} leaves, '
        f'{n_params / 1e6:.2f}M parameters; chain(clip_by_global_norm, adamw); '
        f'jax {jax.__version__}, {jax.devices()[0].platform}')
  print('| devices | state | state bytes / device | vs replicated | step (ms) | compile (s) |')
  print('|---:|---|---:|---:|---:|---:|')
  for n in [int(d) for d in args.devices.split(',')]:
    base = None
    for mode in ('replicated', 'zero'):
      nbytes, step_s, compile_s = run(n, mode, args.repeats)
      base = base or nbytes
      print(f'| {n} | {mode} | {nbytes / 2**20:.2f} MiB | {nbytes / base:.3f} | '
            f'{step_s * 1e3:.1f} | {compile_s:.1f} |', flush=True)


if __name__ == '__main__':
  main()
