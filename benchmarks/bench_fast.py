"""The fast path against Optax, side by side in one process.

    python benchmarks/bench_fast.py                 # the table and the plot
    python benchmarks/bench_fast.py --quick         # a smoke run, small sizes

Prints a Markdown table (paste it into benchmarks/README.md) and writes
docs/img/fast_path.png: step and compile time against the leaf count for
Optax, gradtx (ordinary, fused on tree params, and flat params) and PyTorch
CPU AdamW (foreach and fused).

Variants, all jitted with params and state donated:

* ``optax``: ``optax.<opt>``; ``gradtx``: the ordinary gradtx optimizer.
* ``fused``: ``gradtx.fast.fused(opt)`` on the same tree params (flat state,
  gradients concatenated, updates split).
* ``flat``: params kept flat (``gradtx.fast.flat_layout``), gradients taken
  with respect to the flat buffers, ``fused(opt, layout)``.

The timed runs of the variants are interleaved, repeat after repeat, and the
median is reported, so that a loaded machine slows them all alike.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
import gradtx  # noqa: E402  pylint: disable=g-import-not-at-top
import gradtx.fast  # noqa: E402  pylint: disable=g-import-not-at-top

OPTS = {
    'adam': (lambda m: m.adam(1e-3)),
    'adamw': (lambda m: m.adamw(1e-3, weight_decay=1e-2)),
    'sgd-momentum': (lambda m: m.sgd(1e-3, momentum=0.9)),
    'lion': (lambda m: m.lion(1e-4)),
    'rmsprop': (lambda m: m.rmsprop(1e-3)),
    'clip+adamw': (lambda m: m.chain(m.clip_by_global_norm(1.0),
                                     m.adamw(1e-3, weight_decay=1e-2))),
}


def uniform_tree(n, size):
  return {f'w{i:05d}': jnp.full((size,), 1e-3 * (i % 97), jnp.float32)
          for i in range(n)}


def mixed_tree(n):
  """Small leaves of varied shapes and two dtypes (a bf16 leaf in eight)."""
  shapes = [(8, 8), (16,), (4, 4, 4), (32,), (3, 5), (7,), (2, 9), (24,)]
  return {f'l{i:05d}': jnp.full(shapes[i % 8], 1e-3 * (i % 89),
                                jnp.bfloat16 if i % 8 == 5 else jnp.float32)
          for i in range(n)}


def _ready(x):
  jax.block_until_ready(x)
  return x


def timed_compile(jitted, *args):
  """Lowers and compiles; returns the executable and the seconds it took.

  The garbage collector is held off while timing, as timeit does: otherwise
  a collection of an earlier compile's garbage lands in this one's time
  (it moved train-step compiles by up to 30% from one to the next).
  """
  gc.collect()
  gc.disable()
  try:
    start = time.perf_counter()
    compiled = jitted.lower(*args).compile()
    return compiled, time.perf_counter() - start
  finally:
    gc.enable()


class Variant:
  """One jitted, donated update step: compile time, memory, step runner."""

  def __init__(self, name, opt, params, grads):
    self.name = name
    state = opt.init(params)

    def step(params, state, grads):
      updates, state = opt.update(grads, state, params)
      return gradtx.apply_updates(params, updates), state

    self.compiled, self.compile_s = timed_compile(
        jax.jit(step, donate_argnums=(0, 1)), params, state, grads)
    mem = self.compiled.memory_analysis()
    self.peak_bytes = (None if mem is None else
                       mem.argument_size_in_bytes + mem.output_size_in_bytes
                       + mem.temp_size_in_bytes - mem.alias_size_in_bytes)
    self.fusions = self.compiled.as_text().count(' fusion(')
    self.args = [jax.tree.map(jnp.copy, params), state, grads]
    self.times = []

  def run(self, timed=True):
    start = time.perf_counter()
    p, s = self.compiled(*self.args)
    _ready(p)
    if timed:
      self.times.append(time.perf_counter() - start)
    self.args[0], self.args[1] = p, s

  @property
  def step_s(self):
    return statistics.median(self.times)


def interleave(variants, repeats):
  for v in variants:
    v.run(timed=False)
    v.run(timed=False)
  for _ in range(repeats):
    for v in variants:
      v.run()
  return variants


def update_only(opt_name, params, which=('optax', 'gradtx', 'fused', 'flat'),
                repeats=10):
  grads = jax.tree.map(lambda p: (p * 0.5 + 1e-3).astype(p.dtype), params)
  layout = gradtx.fast.flat_layout(params)
  make = OPTS[opt_name]
  out = []
  for w in which:
    if w == 'optax':
      out.append(Variant(w, make(optax), params, grads))
    elif w == 'gradtx':
      out.append(Variant(w, make(gradtx), params, grads))
    elif w == 'fused':
      out.append(Variant(w, gradtx.fast.fused(make(gradtx)), params, grads))
    elif w == 'flat':
      out.append(Variant(w, gradtx.fast.fused(make(gradtx), layout),
                         layout.flatten(params), layout.flatten(grads)))
  return {v.name: v for v in interleave(out, repeats)}


# ---------------------------------------------------------------------------
# Whole train step of a deep, non-scanned MLP.
# ---------------------------------------------------------------------------
def mlp_params(depth, width):
  key = jax.random.PRNGKey(0)
  params = {}
  for i in range(depth):
    k = jax.random.fold_in(key, i)
    params[f'l{i:04d}'] = {
        'w': jax.random.normal(k, (width, width)) / np.sqrt(width),
        'b': jnp.zeros((width,))}
  return params


def mlp_loss(params, x):
  for i in range(len(params)):
    layer = params[f'l{i:04d}']
    x = jnp.tanh(x @ layer['w'] + layer['b'])
  return jnp.mean(x ** 2)


class TrainVariant(Variant):

  def __init__(self, name, opt, params, x, loss, extra=()):  # pylint: disable=super-init-not-called
    self.name = name
    state = opt.init(params)

    def step(params, state, x, *extra):
      grads = jax.grad(loss)(params, x, *extra)
      updates, state = opt.update(grads, state, params)
      return gradtx.apply_updates(params, updates), state

    self._step, self._example = step, (params, state, x) + tuple(extra)
    self.compile_times = []
    self.recompile()
    self.args = [jax.tree.map(jnp.copy, params), state, x] + list(extra)
    self.times = []

  def recompile(self):
    # A fresh jit object each time, so that nothing is served from a cache.
    self.compiled, seconds = timed_compile(jax.jit(
        lambda *a: self._step(*a), donate_argnums=(0, 1)), *self._example)
    self.compile_times.append(seconds)
    self.compile_s = statistics.median(self.compile_times)


def train_step(depth, width, batch, repeats, compiles=5):
  params = mlp_params(depth, width)
  x = jnp.ones((batch, width))
  layout = gradtx.fast.flat_layout(params)
  flat_loss = lambda flat, x: mlp_loss(layout.unflatten(flat), x)
  # The offsets as an argument of the step: no opaque loop in the program.
  offsets_loss = lambda flat, x, offsets: mlp_loss(
      layout.unflatten(flat, offsets), x)
  vs = [
      TrainVariant('optax', optax.adamw(1e-3, weight_decay=1e-2), params, x,
                   mlp_loss),
      TrainVariant('fused', gradtx.fast.fused(gradtx.adamw(1e-3, weight_decay=1e-2)),
                   params, x, mlp_loss),
      TrainVariant('flat', gradtx.fast.fused(
          gradtx.adamw(1e-3, weight_decay=1e-2), layout),
                   layout.flatten(params), x, flat_loss),
      TrainVariant('flat+offsets', gradtx.fast.fused(
          gradtx.adamw(1e-3, weight_decay=1e-2), layout),
                   layout.flatten(params), x, offsets_loss,
                   extra=(layout.offsets(),)),
  ]
  for _ in range(compiles - 1):  # interleaved, like the timed steps
    for v in vs:
      v.recompile()
  return {v.name: v for v in interleave(vs, repeats)}


class Triad(Variant):
  """A jitted, donated ``a + 0.5 * b`` over n float32: 3 arrays of traffic."""

  def __init__(self, n):  # pylint: disable=super-init-not-called
    self.name = 'triad'
    f = jax.jit(lambda a, b: (a + 0.5 * b, b), donate_argnums=(0, 1))
    self.compiled = f.lower(jnp.ones((n,)), jnp.ones((n,))).compile()
    self.args = [jnp.ones((n,)), jnp.ones((n,))]
    self.times = []
    self.gb_per_s = lambda: 3 * 4 * n / self.step_s / 1e9


# ---------------------------------------------------------------------------
# PyTorch CPU AdamW, the outside anchor.
# ---------------------------------------------------------------------------
def torch_adamw(n, size, repeats, mode):
  import torch  # pylint: disable=g-import-not-at-top
  torch.manual_seed(0)
  ps = [torch.nn.Parameter(torch.full((size,), 1e-3)) for _ in range(n)]
  for p in ps:
    p.grad = torch.full((size,), 1e-3)
  kw = {'foreach': True} if mode == 'foreach' else {'fused': True}
  opt = torch.optim.AdamW(ps, lr=1e-3, weight_decay=1e-2, **kw)
  opt.step(); opt.step()
  ts = []
  for _ in range(repeats):
    start = time.perf_counter(); opt.step(); ts.append(time.perf_counter() - start)
  return statistics.median(ts)


def ratio(a, b):
  return f'{a / b:.2f}'


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument('--quick', action='store_true')
  ap.add_argument('--repeats', type=int, default=10)
  ap.add_argument('--sweep', default='100,300,1000,3000,8000')
  ap.add_argument('--sections', default='update,train,large,sweep')
  ap.add_argument('--fused-opts', default=','.join(OPTS),
                  help='optimizers for which the update table also times '
                       'fused(opt) on tree params (all by default)')
  ap.add_argument('--png', default=os.path.join(
      os.path.dirname(__file__), '..', 'docs', 'img', 'fast_path.png'))
  args = ap.parse_args(argv)
  quick = args.quick
  reps = 3 if quick else args.repeats
  sections = args.sections.split(',')
  print(f'jax {jax.__version__}, optax {optax.__version__}, '
        f'{platform.machine()}, {os.cpu_count()} CPUs, '
        f'load {os.getloadavg()[0]:.1f}', flush=True)

  if 'update' in sections:
    print('\n### Update only (update + apply_updates, jitted, donated)\n')
    print('| tree | optimizer | optax step ms | fused step | flat step | '
          'fused/optax step | flat/optax step | optax compile s | '
          'fused compile | flat compile | fused/optax compile | '
          'flat/optax compile | fusions optax / flat | peak MB optax / fused / flat |')
    print('|---|---|' + '---:|' * 12)
    trees = [('1000 x 1k', uniform_tree(100 if quick else 1000, 1000)),
             ('2000 mixed small', mixed_tree(200 if quick else 2000))]
    for tree_name, params in trees:
      for opt_name in OPTS:
        with_fused = opt_name in args.fused_opts.split(',')
        r = update_only(opt_name, params, ('optax', 'flat') + (
            ('fused',) if with_fused else ()), reps)
        o, fl = r['optax'], r['flat']
        f = r.get('fused')
        mb = lambda v: '–' if v is None else f'{v.peak_bytes / 2**20:.1f}'
        ms = lambda v: '–' if v is None else f'{1e3 * v.step_s:.2f}'
        sec = lambda v: '–' if v is None else f'{v.compile_s:.2f}'
        rs = lambda v: '–' if v is None else ratio(v.step_s, o.step_s)
        rc = lambda v: '–' if v is None else ratio(v.compile_s, o.compile_s)
        print(f'| {tree_name} | {opt_name} | {ms(o)} | {ms(f)} | {ms(fl)} | '
              f'{rs(f)} | {rs(fl)} | {sec(o)} | {sec(f)} | {sec(fl)} | '
              f'{rc(f)} | {rc(fl)} | {o.fusions} / {fl.fusions} | '
              f'{mb(o)} / {mb(f)} / {mb(fl)} |', flush=True)

  if 'train' in sections:
    depth = 20 if quick else 300
    print(f'\n### Whole train step: MLP, {depth} dense layers of 64, '
          f'{2 * depth} leaves, batch 32, AdamW\n')
    r = train_step(depth, 64, 32, reps)
    print('Compile: the median of five compiles per variant, interleaved.\n')
    print('| variant | step ms | step / optax | compile s | compile / optax |')
    print('|---|---:|---:|---:|---:|')
    for v in r.values():
      print(f'| {v.name} | {1e3 * v.step_s:.2f} | '
            f'{ratio(v.step_s, r["optax"].step_s)} | {v.compile_s:.2f} | '
            f'{ratio(v.compile_s, r["optax"].compile_s)} |', flush=True)

  if 'large' in sections:
    size = 100_000 if quick else 1_000_000
    print(f'\n### Large leaves: 10 x {size:,} float32, AdamW\n')
    params = uniform_tree(10, size)
    r = update_only('adamw', params, ('optax', 'gradtx', 'fused', 'flat'), 0)
    # The triad runs interleaved with the variants, so that they all see
    # the same memory system.
    triad = Triad(10 * size)
    interleave(list(r.values()) + [triad], 4 * reps)
    bw = triad.gb_per_s()
    # AdamW moves 7 arrays: reads g, m, v, p; writes m, v, p.
    print(f'jitted triad: {bw:.1f} GB/s\n')
    print('| variant | step ms | step / optax | GB/s | of triad |')
    print('|---|---:|---:|---:|---:|')
    for v in r.values():
      gbs = 7 * 4 * 10 * size / v.step_s / 1e9
      print(f'| {v.name} | {1e3 * v.step_s:.2f} | '
            f'{ratio(v.step_s, r["optax"].step_s)} | {gbs:.1f} | '
            f'{100 * gbs / bw:.0f}% |', flush=True)

  if 'sweep' in sections:
    counts = [int(c) for c in args.sweep.split(',')]
    if quick:
      counts = [c for c in counts if c <= 300]
    print('\n### Sweep: AdamW on N leaves of 1k float32\n')
    print('| leaves | optax step ms | gradtx | fused | flat | torch foreach | '
          'torch fused | optax compile s | gradtx | fused | flat |')
    print('|---:|' + '---:|' * 10)
    rows = []
    for n in counts:
      which = ('optax', 'gradtx', 'fused', 'flat')
      r = update_only('adamw', uniform_tree(n, 1000), which, max(3, reps // 2))
      tf = torch_adamw(n, 1000, max(3, reps // 2), 'foreach')
      tfu = torch_adamw(n, 1000, max(3, reps // 2), 'fused')
      get = lambda k, a: getattr(r[k], a) if k in r else float('nan')
      row = dict(n=n, torch_foreach=tf, torch_fused=tfu,
                 **{f'{k}_step': get(k, 'step_s') for k in ('optax', 'gradtx', 'fused', 'flat')},
                 **{f'{k}_compile': get(k, 'compile_s') for k in ('optax', 'gradtx', 'fused', 'flat')})
      rows.append(row)
      print(f"| {n} | {1e3 * row['optax_step']:.2f} | {1e3 * row['gradtx_step']:.2f} | "
            f"{1e3 * row['fused_step']:.2f} | {1e3 * row['flat_step']:.2f} | "
            f'{1e3 * tf:.2f} | {1e3 * tfu:.2f} | {row["optax_compile"]:.2f} | '
            f"{row['gradtx_compile']:.2f} | {row['fused_compile']:.2f} | "
            f"{row['flat_compile']:.2f} |", flush=True)
    plot(rows, args.png)
    print(f'\nwrote {args.png}')


def plot(rows, path):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  n = [r['n'] for r in rows]
  fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
  styles = {'optax': 'Optax', 'gradtx': 'gradtx (ordinary)',
            'fused': 'gradtx fused(opt), tree params',
            'flat': 'gradtx fused(opt, layout), flat params'}
  for k, label in styles.items():
    a.plot(n, [1e3 * r[f'{k}_step'] for r in rows], 'o-', label=label)
    b.plot(n, [r[f'{k}_compile'] for r in rows], 'o-', label=label)
  a.plot(n, [1e3 * r['torch_foreach'] for r in rows], 's--',
         label='PyTorch AdamW foreach')
  a.plot(n, [1e3 * r['torch_fused'] for r in rows], 's--',
         label='PyTorch AdamW fused')
  for ax, title, unit in ((a, 'step time', 'ms'), (b, 'compile time', 's')):
    ax.set_xscale('log'); ax.set_yscale('log')
    ax.set_xlabel('leaves (1k float32 each)'); ax.set_ylabel(unit)
    ax.set_title(f'AdamW {title}, CPU'); ax.grid(True, which='both', alpha=.3)
  a.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=110)


if __name__ == '__main__':
  main()
