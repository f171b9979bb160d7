"""gradtx next to Optax: compile time and step time of the same optimizers.

Both libraries run in one process on the same parameters and gradients. For
each model and optimizer it measures

* ``init``: wall time of the first call of ``jax.jit(opt.init)`` (trace,
  compile and run);
* ``compile``: wall time to trace and compile the jitted training step
  ``(params, state, grads) -> (params, state)`` (``update`` + ``apply_updates``);
* ``step``: the median wall time of the compiled step over ``--repeats`` runs,
  the two libraries' runs interleaved so that machine noise hits both alike;

and prints the gradtx/Optax ratio of each (below 1 means gradtx is faster).

Models: ``many-leaves`` has thousands of small leaves (per-leaf overhead in
tracing and compiling dominates); ``big-leaves`` has a few large ones (memory
bandwidth dominates the step).

Usage::

  python benchmarks/bench_vs_optax.py [--leaves 2000] [--repeats 50] [--quick]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import optax

import gradtx


def optimizers():
  """name -> (gradtx optimizer, Optax optimizer)."""
  return {
      'adam': (gradtx.adam(1e-3), optax.adam(1e-3)),
      'adamw': (gradtx.adamw(1e-3, weight_decay=1e-2),
                optax.adamw(1e-3, weight_decay=1e-2)),
      'sgd-momentum': (gradtx.sgd(1e-2, momentum=0.9),
                        optax.sgd(1e-2, momentum=0.9)),
      'clip+adamw': (
          gradtx.chain(gradtx.clip_by_global_norm(1.0),
                       gradtx.adamw(1e-3, weight_decay=1e-2)),
          optax.chain(optax.clip_by_global_norm(1.0),
                      optax.adamw(1e-3, weight_decay=1e-2))),
  }


def models(n_leaves: int, big_size: int):
  """name -> params. Shapes vary so leaves are not all alike."""
  key = jax.random.PRNGKey(0)
  shapes = [(8, 8), (16,), (4, 4, 4), (32,)]
  many = {f'layer_{i:05d}': jax.random.normal(jax.random.fold_in(key, i),
                                              shapes[i % len(shapes)])
          for i in range(n_leaves)}
  big = {f'w{i}': jax.random.normal(jax.random.fold_in(key, i), (big_size, big_size))
         for i in range(4)}
  return {f'many-leaves ({n_leaves})': many,
          f'big-leaves (4 x {big_size}x{big_size})': big}


def _block(tree):
  jax.block_until_ready(tree)
  return tree


def _timed(fn, *args):
  start = time.perf_counter()
  out = _block(fn(*args))
  return out, time.perf_counter() - start


def prepare(opt, params, grads):
  """Returns (init seconds, compile seconds, compiled step, state)."""
  state, t_init = _timed(jax.jit(opt.init), params)

  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state

  start = time.perf_counter()
  compiled = jax.jit(step).lower(params, state, grads).compile()
  t_compile = time.perf_counter() - start
  return t_init, t_compile, compiled, state


def bench_pair(pair, params, grads, repeats: int):
  """Times gradtx and Optax on the same inputs; returns two result dicts."""
  prepared = [prepare(opt, params, grads) for opt in pair]
  times = [[], []]
  for _ in range(2):  # warm-up
    for i, (_, _, compiled, state) in enumerate(prepared):
      _block(compiled(params, state, grads))
  for _ in range(repeats):
    for i, (_, _, compiled, state) in enumerate(prepared):
      times[i].append(_timed(compiled, params, state, grads)[1])
  return [
      {'init': t_init, 'compile': t_compile, 'step': statistics.median(t)}
      for (t_init, t_compile, _, _), t in zip(prepared, times)
  ]


def fmt_ms(seconds: float) -> str:
  return f'{seconds * 1e3:9.2f}'


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--leaves', type=int, default=2000)
  parser.add_argument('--big-size', type=int, default=1024)
  parser.add_argument('--repeats', type=int, default=50)
  parser.add_argument('--optimizers', default=','.join(optimizers()),
                      help='comma-separated subset of: ' + ', '.join(optimizers()))
  parser.add_argument('--models', default='many,big', help='subset of: many, big')
  parser.add_argument('--quick', action='store_true',
                      help='small sizes, few repeats (a smoke test)')
  args = parser.parse_args(argv)
  if args.quick:
    args.leaves, args.big_size, args.repeats = 100, 64, 5

  print(f'jax {jax.__version__}, optax {optax.__version__}, gradtx {gradtx.__version__}, '
        f'{jax.devices()[0].platform} ({jax.devices()[0].device_kind}), '
        f'python {platform.python_version()}')
  print('times in ms; ratio = gradtx / optax (< 1: gradtx faster)\n')
  header = (f'{"model":<28} {"optimizer":<20} {"init gx":>9} {"init ox":>9} {"ratio":>6} '
            f'{"compile gx":>10} {"compile ox":>10} {"ratio":>6} '
            f'{"step gx":>9} {"step ox":>9} {"ratio":>6}')
  print(header)
  print('-' * len(header))
  wanted_opts = [o.strip() for o in args.optimizers.split(',')]
  wanted_models = [m.strip() for m in args.models.split(',')]
  for model_name, params in models(args.leaves, args.big_size).items():
    if model_name.split('-')[0] not in wanted_models:
      continue
    grads = jax.tree.map(lambda p: 1e-2 * jnp.cos(p), params)
    for opt_name, pair in optimizers().items():
      if opt_name not in wanted_opts:
        continue
      ours, theirs = bench_pair(pair, params, grads, args.repeats)
      ratio = {k: ours[k] / theirs[k] for k in ours}
      print(f'{model_name:<28} {opt_name:<20} '
            f'{fmt_ms(ours["init"])} {fmt_ms(theirs["init"])} {ratio["init"]:6.2f} '
            f'{fmt_ms(ours["compile"]):>10} {fmt_ms(theirs["compile"]):>10} '
            f'{ratio["compile"]:6.2f} '
            f'{fmt_ms(ours["step"])} {fmt_ms(theirs["step"])} {ratio["step"]:6.2f}',
            flush=True)


if __name__ == '__main__':
  main()
