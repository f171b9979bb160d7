"""Four modern optimizers train the same small transformer; one plot compares them.

The model is a two-block, causal, pre-LayerNorm transformer written in plain
JAX. The task is next-token prediction on sequences drawn from a random
second-order Markov chain (each token depends on the two before it), so the
best achievable loss is known: the chain's entropy, drawn as a dotted line.

The four optimizers, all from gradtx under Optax's names:

* AdamW with linear warmup and cosine decay (``gradtx.adamw``);
* Muon on the hidden weight matrices (attention and MLP), AdamW on the rest
  (embeddings, unembedding, LayerNorm scales), joined by ``gradtx.partition``
  (``gradtx.contrib.muon``);
* schedule-free AdamW, no decay schedule at all; it is evaluated at
  ``gradtx.contrib.schedule_free_eval_params`` (``schedule_free_adamw``);
* Prodigy, which estimates its own step size (``gradtx.contrib.prodigy``,
  learning rate 1 times a cosine decay without warmup).

Run ``python examples/modern_optimizers.py`` (one to two minutes on a laptop
CPU; ``--steps 100`` for a quick look). It prints the held-out loss of each
optimizer and saves the four curves to ``--out`` (default
``modern_optimizers.png``).
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

import gradtx
from gradtx import contrib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=g-import-not-at-top

VOCAB, SEQ, DIM, HEADS, BLOCKS = 16, 32, 64, 4, 2
HIDDEN_MATRICES = ('wq', 'wk', 'wv', 'wo', 'w1', 'w2')


# ---------------------------------------------------------------------------
# Data: a random second-order Markov chain over VOCAB tokens.
# ---------------------------------------------------------------------------
def make_chain(seed: int) -> np.ndarray:
  """``P[a, b]``: the distribution of the token after ``a, b`` (peaked)."""
  rng = np.random.RandomState(seed)
  logits = 3.0 * rng.randn(VOCAB, VOCAB, VOCAB)
  p = np.exp(logits - logits.max(-1, keepdims=True))
  return p / p.sum(-1, keepdims=True)


def chain_entropy(p: np.ndarray) -> float:
  """Mean next-token entropy (nats) under uniform pairs: the loss floor."""
  return float(-np.mean(np.sum(p * np.log(p + 1e-30), -1)))


def sample(p: np.ndarray, rng: np.random.RandomState, batch: int) -> np.ndarray:
  seqs = np.zeros((batch, SEQ + 1), np.int32)
  seqs[:, :2] = rng.randint(0, VOCAB, (batch, 2))
  cdf = np.cumsum(p, -1)
  for t in range(2, SEQ + 1):
    u = rng.rand(batch, 1)
    c = cdf[seqs[:, t - 2], seqs[:, t - 1]]
    seqs[:, t] = np.minimum((u > c).sum(-1), VOCAB - 1)
  return seqs


# ---------------------------------------------------------------------------
# Model: embeddings, BLOCKS x (attention + MLP), unembedding.
# ---------------------------------------------------------------------------
def init_params(key):
  ks = iter(jax.random.split(key, 3 + 6 * BLOCKS))
  dense = lambda k, n_in, n_out: (
      jax.random.normal(k, (n_in, n_out)) / jnp.sqrt(n_in))
  params = {
      'embed': 0.5 * jax.random.normal(next(ks), (VOCAB, DIM)),
      'pos': 0.1 * jax.random.normal(next(ks), (SEQ, DIM)),
      'unembed': dense(next(ks), DIM, VOCAB),
      'ln_f': jnp.ones(DIM),
  }
  for i in range(BLOCKS):
    params[f'block{i}'] = {
        'ln1': jnp.ones(DIM), 'ln2': jnp.ones(DIM),
        'wq': dense(next(ks), DIM, DIM), 'wk': dense(next(ks), DIM, DIM),
        'wv': dense(next(ks), DIM, DIM), 'wo': dense(next(ks), DIM, DIM),
        'w1': dense(next(ks), DIM, 4 * DIM), 'w2': dense(next(ks), 4 * DIM, DIM),
    }
  return params


def layer_norm(x, scale):
  x = x - x.mean(-1, keepdims=True)
  return scale * x * jax.lax.rsqrt((x * x).mean(-1, keepdims=True) + 1e-5)


def attention(p, x):
  b, t, _ = x.shape
  split = lambda y: y.reshape(b, t, HEADS, DIM // HEADS)
  q, k, v = split(x @ p['wq']), split(x @ p['wk']), split(x @ p['wv'])
  scores = jnp.einsum('bqhd,bkhd->bhqk', q, k) / jnp.sqrt(DIM // HEADS)
  causal = jnp.tril(jnp.ones((t, t), bool))
  weights = jax.nn.softmax(jnp.where(causal, scores, -1e9), -1)
  out = jnp.einsum('bhqk,bkhd->bqhd', weights, v).reshape(b, t, DIM)
  return out @ p['wo']


def model(params, tokens):
  x = params['embed'][tokens] + params['pos'][: tokens.shape[1]]
  for i in range(BLOCKS):
    p = params[f'block{i}']
    x = x + attention(p, layer_norm(x, p['ln1']))
    x = x + jax.nn.gelu(layer_norm(x, p['ln2']) @ p['w1']) @ p['w2']
  return layer_norm(x, params['ln_f']) @ params['unembed']


def loss_fn(params, seqs):
  logits = model(params, seqs[:, :-1])
  logp = jax.nn.log_softmax(logits)
  return -jnp.mean(jnp.take_along_axis(logp, seqs[:, 1:, None], -1))


# ---------------------------------------------------------------------------
# The four optimizers.
# ---------------------------------------------------------------------------
def labels(params):
  """'muon' for the hidden matrices, 'adamw' for everything else."""
  return {k: ({n: ('muon' if n in HIDDEN_MATRICES else 'adamw') for n in v}
              if isinstance(v, dict) else 'adamw')
          for k, v in params.items()}


def optimizers(steps: int):
  warmup = max(1, steps // 10)
  cosine = lambda peak: gradtx.warmup_cosine_decay_schedule(
      0.0, peak, warmup, steps, end_value=0.05 * peak)
  return {
      'AdamW': gradtx.adamw(cosine(3e-3), weight_decay=1e-2),
      'Muon + AdamW': gradtx.partition({
          'muon': contrib.muon(cosine(0.02), weight_decay=1e-2),
          'adamw': gradtx.adamw(cosine(3e-3), weight_decay=1e-2),
      }, labels),
      'schedule-free AdamW': contrib.schedule_free_adamw(
          3e-3, warmup_steps=warmup, weight_decay=1e-2),
      # Prodigy's step-size estimate divides by the learning rate, so its
      # schedule starts above 0: a plain cosine decay, as in the paper.
      'Prodigy': contrib.prodigy(
          gradtx.cosine_decay_schedule(1.0, steps, alpha=0.05),
          weight_decay=1e-2),
  }


def eval_params(name, state, params):
  """Schedule-free methods are evaluated at their averaged point x."""
  if name.startswith('schedule-free'):
    return contrib.schedule_free_eval_params(state, params)
  return params


def train(name, opt, params, batches, test, eval_every):
  state = opt.init(params)

  @jax.jit
  def step(params, state, seqs):
    loss, grads = jax.value_and_grad(loss_fn)(params, seqs)
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state, loss

  test_loss = jax.jit(lambda p, s: loss_fn(eval_params(name, s, p), test))
  curve = []
  for i, seqs in enumerate(batches):
    if i % eval_every == 0:
      curve.append((i, float(test_loss(params, state))))
    params, state, _ = step(params, state, seqs)
  curve.append((len(batches), float(test_loss(params, state))))
  return curve


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--steps', type=int, default=400)
  parser.add_argument('--batch', type=int, default=32)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--out', default='modern_optimizers.png')
  args = parser.parse_args()

  chain = make_chain(args.seed)
  floor = chain_entropy(chain)
  rng = np.random.RandomState(args.seed + 1)
  batches = [jnp.asarray(sample(chain, rng, args.batch))
             for _ in range(args.steps)]
  test = jnp.asarray(sample(chain, np.random.RandomState(12345), 256))
  params = init_params(jax.random.PRNGKey(args.seed))
  eval_every = max(1, args.steps // 30)

  curves = {}
  for name, opt in optimizers(args.steps).items():
    start = time.time()
    curves[name] = train(name, opt, params, batches, test, eval_every)
    print(f'{name:>20}: held-out loss {curves[name][-1][1]:.4f} '
          f'({time.time() - start:.1f} s)')
  print(f'{"entropy floor":>20}: {floor:.4f}')

  fig, ax = plt.subplots(figsize=(7, 4.5))
  for name, curve in curves.items():
    ax.plot(*zip(*curve), label=name)
  ax.axhline(floor, color='k', ls=':', lw=1, label='entropy of the chain')
  ax.set_xlabel('step')
  ax.set_ylabel('held-out cross-entropy (nats)')
  ax.set_title('A 2-block transformer on a 2nd-order Markov chain')
  ax.set_ylim(floor - 0.1, None)
  ax.legend()
  fig.tight_layout()
  fig.savefig(args.out, dpi=120)
  print(f'saved {args.out}')


if __name__ == '__main__':
  main()
