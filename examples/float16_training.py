"""Train an MLP on sklearn's digits in float16 with dynamic loss scaling.

Parameters are kept in float32; the forward and backward passes run in
float16; the loss is computed in float32. The loss scale starts deliberately
too large (2**40), so the first steps overflow: they are skipped and the
scale backs off until the gradients fit in float16. Later, after every
``growth_interval`` finite steps, it doubles again (and backs off once more
when that overflows).

Run:  python examples/float16_training.py [--steps 600] [--plot loss_scale.png]
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import gradtx

POLICY = gradtx.get_policy('params=float32,compute=float16,output=float32')


def init_mlp(key, sizes=(64, 128, 128, 10)):
  params = []
  keys = jax.random.split(key, len(sizes) - 1)
  for k, m, n in zip(keys, sizes[:-1], sizes[1:]):
    params.append({'w': jax.random.normal(k, (m, n)) * jnp.sqrt(2.0 / m),
                   'b': jnp.zeros((n,))})
  return params


def logits_fn(params, x):
  params, h = POLICY.cast_to_compute((params, x))   # float16 compute
  for i, layer in enumerate(params):
    h = h @ layer['w'] + layer['b'][None, :]
    if i < len(params) - 1:
      h = jax.nn.relu(h)
  return POLICY.cast_to_output(h)                    # float32 logits


def loss_fn(params, x, y):
  logp = jax.nn.log_softmax(logits_fn(params, x))
  return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--steps', type=int, default=600)
  parser.add_argument('--batch', type=int, default=128)
  parser.add_argument('--init-scale', type=float, default=2.0**40)
  parser.add_argument('--growth-interval', type=int, default=100)
  parser.add_argument('--plot', default='loss_scale.png',
                      help='where to save the plot of the scale over time')
  args = parser.parse_args()

  x, y = load_digits(return_X_y=True)
  x = (x / 16.0).astype(np.float32)
  xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0)

  opt = gradtx.with_loss_scale(
      gradtx.adam(3e-3),
      gradtx.DynamicLossScale(init_scale=args.init_scale,
                              growth_interval=args.growth_interval))
  params = init_mlp(jax.random.PRNGKey(0))
  state = opt.init(params)

  @jax.jit
  def train_step(params, state, xb, yb):
    # 1. scale the loss with the current scale (held in the optimizer state);
    scaled_loss = lambda p: state.loss_scale.scale(loss_fn(p, xb, yb))
    # 2. differentiate the scaled loss: the float16 gradients are S times
    #    larger, so small ones do not underflow;
    grads = jax.grad(scaled_loss)(params)
    # 3. the wrapper unscales (in float32), skips the step if any gradient is
    #    inf/NaN, and adjusts the scale.
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state

  rng = np.random.default_rng(0)
  scales, skipped = [], []
  for _ in range(args.steps):
    idx = rng.choice(len(xtr), args.batch, replace=False)
    params, state = train_step(params, state, xtr[idx], ytr[idx])
    scales.append(float(state.loss_scale.loss_scale))
    skipped.append(not bool(state.last_finite))

  acc = float(jnp.mean(jnp.argmax(logits_fn(params, xte), -1) == yte))
  skipped_at = [i for i, s in enumerate(skipped) if s]
  print(f'steps: {args.steps}, skipped: {int(state.skipped_steps)} '
        f'(at steps {skipped_at[:12]}{" ..." if len(skipped_at) > 12 else ""})')
  print(f'loss scale: start 2**{np.log2(args.init_scale):.0f}, '
        f'final 2**{np.log2(scales[-1]):.0f}')
  print(f'test accuracy (float16 compute): {acc:.4f}')

  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(7, 3.5))
  ax.semilogy(np.arange(1, args.steps + 1), scales, base=2, label='loss scale')
  ax.scatter(np.array(skipped_at) + 1, np.array(scales)[skipped_at], color='red',
             s=12, zorder=3, label='skipped step (overflow)')
  ax.set_xlabel('step')
  ax.set_ylabel('loss scale')
  ax.set_title('Dynamic loss scaling, float16 MLP on digits')
  ax.legend()
  fig.tight_layout()
  fig.savefig(args.plot, dpi=120)
  print(f'plot of the loss scale saved to {args.plot}')


if __name__ == '__main__':
  main()
