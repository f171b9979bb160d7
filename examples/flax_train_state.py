"""gradtx optimizers in Flax: ``TrainState`` (Linen) and ``nnx.Optimizer`` (NNX).

A gradtx optimizer is a ``(init, update)`` pair with the same signatures as an
Optax one, so Flax code takes it unchanged wherever it expects ``tx``:

* Linen: ``train_state.TrainState.create(apply_fn=..., params=..., tx=gradtx.adamw(...))``
  and ``state.apply_gradients(grads=grads)``.
* NNX: ``nnx.Optimizer(model, gradtx.adam(...), wrt=nnx.Param)`` and
  ``optimizer.update(model, grads)``.

Both models are small MLPs trained on scikit-learn's digits (no download).
Run with ``python examples/flax_train_state.py [--steps N] [--fast]``;
``--fast`` wraps both optimizers in ``gradtx.fast.fused`` (one flat buffer
per dtype for the optimizer state), and nothing else changes.
"""

from __future__ import annotations

import argparse

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from flax.training import train_state
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import gradtx
import gradtx.fast


def load_data(seed: int = 0):
  digits = load_digits()
  x = (digits.data / 16.0).astype(np.float32)
  y = digits.target.astype(np.int32)
  return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def cross_entropy(logits, y):
  return -jnp.mean(jnp.sum(jax.nn.log_softmax(logits) * jax.nn.one_hot(y, 10), -1))


def batches(x, y, batch_size: int, steps: int, seed: int = 0):
  """Yields ``steps`` shuffled minibatches, reshuffling every epoch."""
  rng = np.random.default_rng(seed)
  order, pos = rng.permutation(len(x)), 0
  for _ in range(steps):
    if pos + batch_size > len(x):
      order, pos = rng.permutation(len(x)), 0
    idx = order[pos:pos + batch_size]
    pos += batch_size
    yield x[idx], y[idx]


# ---------------------------------------------------------------------------
# Linen + TrainState.
# ---------------------------------------------------------------------------
class LinenMLP(nn.Module):
  hidden: int = 128

  @nn.compact
  def __call__(self, x):
    x = nn.relu(nn.Dense(self.hidden)(x))
    x = nn.relu(nn.Dense(self.hidden)(x))
    return nn.Dense(10)(x)


@jax.jit
def linen_step(state: train_state.TrainState, x, y):
  def loss_fn(params):
    return cross_entropy(state.apply_fn({'params': params}, x), y)

  loss, grads = jax.value_and_grad(loss_fn)(state.params)
  return state.apply_gradients(grads=grads), loss


def train_linen(steps: int, seed: int = 0, fast: bool = False) -> float:
  x_train, x_test, y_train, y_test = load_data(seed)
  model = LinenMLP()
  params = model.init(jax.random.PRNGKey(seed), x_train[:1])['params']
  schedule = gradtx.warmup_cosine_decay_schedule(
      0.0, 3e-3, warmup_steps=max(1, steps // 20), decay_steps=steps)
  tx = gradtx.chain(gradtx.clip_by_global_norm(1.0),
                    gradtx.adamw(schedule, weight_decay=1e-4))
  if fast:
    tx = gradtx.fast.fused(tx)  # the one-line switch to the fast path
  state = train_state.TrainState.create(apply_fn=model.apply, params=params, tx=tx)
  if fast:
    print(f'optimizer state: {type(state.opt_state).__name__}, buffers '
          f'{list(state.opt_state.inner_state[1][0].mu)}')
  for x, y in batches(x_train, y_train, 128, steps, seed):
    state, loss = linen_step(state, x, y)
  logits = model.apply({'params': state.params}, x_test)
  acc = float(jnp.mean(jnp.argmax(logits, -1) == y_test))
  print(f'linen + TrainState: step {int(state.step)}, '
        f'last loss {float(loss):.4f}, test accuracy: {acc:.4f}')
  return acc


# ---------------------------------------------------------------------------
# NNX + nnx.Optimizer.
# ---------------------------------------------------------------------------
class NnxMLP(nnx.Module):

  def __init__(self, rngs: nnx.Rngs, hidden: int = 128):
    self.l1 = nnx.Linear(64, hidden, rngs=rngs)
    self.l2 = nnx.Linear(hidden, hidden, rngs=rngs)
    self.l3 = nnx.Linear(hidden, 10, rngs=rngs)

  def __call__(self, x):
    x = nnx.relu(self.l1(x))
    x = nnx.relu(self.l2(x))
    return self.l3(x)


@nnx.jit
def nnx_step(model: NnxMLP, optimizer: nnx.Optimizer, x, y):
  def loss_fn(model):
    return cross_entropy(model(x), y)

  loss, grads = nnx.value_and_grad(loss_fn)(model)
  optimizer.update(model, grads)
  return loss


def train_nnx(steps: int, seed: int = 0, fast: bool = False) -> float:
  x_train, x_test, y_train, y_test = load_data(seed)
  model = NnxMLP(nnx.Rngs(seed))
  tx = gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adam(1e-3))
  if fast:
    tx = gradtx.fast.fused(tx)
  optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
  for x, y in batches(x_train, y_train, 128, steps, seed):
    loss = nnx_step(model, optimizer, x, y)
  acc = float(jnp.mean(jnp.argmax(model(x_test), -1) == y_test))
  print(f'nnx + nnx.Optimizer: step {int(optimizer.step[...])}, '
        f'last loss {float(loss):.4f}, test accuracy: {acc:.4f}')
  return acc


def main(argv=None) -> tuple[float, float]:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--steps', type=int, default=500)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--fast', action='store_true',
                      help='run the optimizers on flat buffers (gradtx.fast.fused)')
  args = parser.parse_args(argv)
  return (train_linen(args.steps, args.seed, args.fast),
          train_nnx(args.steps, args.seed, args.fast))


if __name__ == '__main__':
  main()
