"""Quickstart: train a small MLP on scikit-learn's digits with a gradtx optimizer.

The model is plain JAX (no neural-network library). The optimizer is a chain:
clip the gradients to a global norm of 1, then AdamW with a learning rate that
warms up linearly and decays along a cosine::

  opt = gradtx.chain(
      gradtx.clip_by_global_norm(1.0),
      gradtx.adamw(gradtx.warmup_cosine_decay_schedule(...), weight_decay=1e-4),
  )

Run it with ``python examples/quickstart.py``. It shows a progress bar, prints
the test accuracy and saves a plot of the loss and learning-rate curves to
``--out`` (default ``quickstart.png``). The digits dataset ships with
scikit-learn, so nothing is downloaded.

``--fast`` switches to the fast path with one line,
``opt = gradtx.fast.fused(opt)``: the optimizer state lives in one flat
buffer per dtype and the update runs as a handful of fused loops (see
``docs/performance-fast-path.md``). The numbers are the same.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import gradtx
import gradtx.fast

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=g-import-not-at-top


def load_data(seed: int):
  """Digits (8x8 images, 10 classes), scaled to [0, 1], split 75/25."""
  digits = load_digits()
  x = (digits.data / 16.0).astype(np.float32)
  y = digits.target.astype(np.int32)
  return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def init_mlp(key, sizes):
  """He-initialised dense layers: a list of ``{'w': (in, out), 'b': (out,)}``."""
  params = []
  for k, (n_in, n_out) in zip(jax.random.split(key, len(sizes) - 1),
                              zip(sizes[:-1], sizes[1:])):
    w = jax.random.normal(k, (n_in, n_out), jnp.float32) * jnp.sqrt(2.0 / n_in)
    params.append({'w': w, 'b': jnp.zeros((n_out,), jnp.float32)})
  return params


def mlp(params, x):
  for layer in params[:-1]:
    x = jax.nn.relu(x @ layer['w'] + layer['b'])
  return x @ params[-1]['w'] + params[-1]['b']


def loss_fn(params, x, y):
  logits = mlp(params, x)
  return -jnp.mean(jnp.sum(jax.nn.log_softmax(logits) * jax.nn.one_hot(y, 10), -1))


def accuracy(params, x, y) -> float:
  return float(jnp.mean(jnp.argmax(mlp(params, x), -1) == y))


def make_optimizer(steps: int, peak_lr: float, weight_decay: float):
  """Clip to global norm 1, then AdamW with warmup + cosine decay.

  Returns the optimizer and its learning-rate schedule (for the plot).
  """
  schedule = gradtx.warmup_cosine_decay_schedule(
      init_value=0.0,
      peak_value=peak_lr,
      warmup_steps=max(1, steps // 20),
      decay_steps=steps,
      end_value=peak_lr * 0.01,
  )
  opt = gradtx.chain(
      gradtx.clip_by_global_norm(1.0),
      gradtx.adamw(schedule, weight_decay=weight_decay),
  )
  return opt, schedule


def train(steps: int, batch_size: int, seed: int, peak_lr: float,
          weight_decay: float, progress: bool = True, fast: bool = False):
  """Trains the MLP; returns params, the test accuracy and the curves."""
  x_train, x_test, y_train, y_test = load_data(seed)
  params = init_mlp(jax.random.PRNGKey(seed), [64, 128, 128, 10])
  opt, schedule = make_optimizer(steps, peak_lr, weight_decay)
  if fast:
    opt = gradtx.fast.fused(opt)  # the one-line switch to the fast path
  state = opt.init(params)

  @jax.jit
  def step(params, state, x, y):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state, loss

  rng = np.random.default_rng(seed)
  n = len(x_train)
  order = rng.permutation(n)
  pos = 0
  losses = np.zeros(steps, np.float32)
  bar = tqdm(range(steps), desc='training', disable=not progress)
  for i in bar:
    if pos + batch_size > n:  # a new epoch: reshuffle
      order, pos = rng.permutation(n), 0
    idx = order[pos:pos + batch_size]
    pos += batch_size
    params, state, loss = step(params, state, x_train[idx], y_train[idx])
    losses[i] = loss
    if i % 50 == 0 or i == steps - 1:
      bar.set_postfix(loss=f'{float(loss):.4f}')
  lrs = np.asarray(jax.vmap(schedule)(jnp.arange(steps)))
  return params, accuracy(params, x_test, y_test), losses, lrs


def plot(losses, lrs, out: str) -> None:
  fig, (ax_loss, ax_lr) = plt.subplots(1, 2, figsize=(10, 4))
  ax_loss.plot(losses, lw=0.6, alpha=0.5, label='per batch')
  window = max(1, len(losses) // 50)
  smooth = np.convolve(losses, np.ones(window) / window, mode='valid')
  ax_loss.plot(np.arange(window - 1, len(losses)), smooth, label=f'mean of {window}')
  ax_loss.set(xlabel='step', ylabel='cross-entropy', yscale='log', title='Training loss')
  ax_loss.legend()
  ax_lr.plot(lrs)
  ax_lr.set(xlabel='step', ylabel='learning rate', title='Warmup + cosine decay')
  fig.tight_layout()
  fig.savefig(out, dpi=100)
  plt.close(fig)


def main(argv=None) -> float:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--steps', type=int, default=1500, help='training steps')
  parser.add_argument('--batch-size', type=int, default=128)
  parser.add_argument('--lr', type=float, default=3e-3, help='peak learning rate')
  parser.add_argument('--weight-decay', type=float, default=1e-4)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--out', default='quickstart.png', help='where to save the plot')
  parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
  parser.add_argument('--fast', action='store_true',
                      help='run the optimizer on flat buffers (gradtx.fast.fused)')
  args = parser.parse_args(argv)

  start = time.perf_counter()
  _, acc, losses, lrs = train(args.steps, args.batch_size, args.seed, args.lr,
                              args.weight_decay, progress=not args.no_progress,
                              fast=args.fast)
  plot(losses, lrs, args.out)
  print(f'test accuracy: {acc:.4f}')
  print(f'final training loss: {losses[-10:].mean():.4f}')
  print(f'saved loss and learning-rate curves to {args.out}')
  print(f'took {time.perf_counter() - start:.1f} s')
  return acc


if __name__ == '__main__':
  main()
