"""Fine-tuning with a frozen backbone and no weight decay on biases.

Run: python examples/finetune_param_groups.py
"""

import jax
import jax.numpy as jnp

import gradtx


def init_params(key):
  k = jax.random.split(key, 4)
  return {
      'backbone': {
          'dense_0': {'kernel': jax.random.normal(k[0], (8, 16)) / 3, 'bias': jnp.zeros(16)},
          'dense_1': {'kernel': jax.random.normal(k[1], (16, 16)) / 4, 'bias': jnp.zeros(16)},
      },
      'head': {'kernel': jax.random.normal(k[2], (16, 1)) / 4, 'bias': jnp.zeros(1)},
  }


def model(params, x):
  h = x
  for name in ('dense_0', 'dense_1'):
    layer = params['backbone'][name]
    h = jnp.tanh(h @ layer['kernel'] + layer['bias'])
  return (h @ params['head']['kernel'] + params['head']['bias'])[:, 0]


def loss_fn(params, x, y):
  return jnp.mean((model(params, x) - y) ** 2)


def main():
  params = init_params(jax.random.PRNGKey(0))
  x = jax.random.normal(jax.random.PRNGKey(1), (64, 8))
  y = jnp.sin(x[:, 0]) + 0.5 * x[:, 1]

  groups = gradtx.ParamGroups(
      [
          {'name': 'backbone', 'params': 'backbone/.*', 'frozen': True},
          {'name': 'no_decay', 'params': r'.*bias', 'weight_decay': 0.0},
      ],
      optimizer=gradtx.adamw, learning_rate=1e-2, weight_decay=1e-2,
      strict=True,  # a misspelt pattern raises instead of matching nothing
  )
  print(groups.describe(params))
  opt = groups.transformation()

  @jax.jit
  def step(params, state):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state, loss

  state = opt.init(params)
  start = params
  for i in range(200):
    params, state, loss = step(params, state)
    if i % 50 == 0:
      print(f'step {i:3d}  loss {float(loss):.4f}')
  print(f'final loss {float(loss_fn(params, x, y)):.4f}')
  same = jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)),
                      start['backbone'], params['backbone'])
  assert all(jax.tree.leaves(same)), 'the backbone must not move'
  print('backbone unchanged:', all(jax.tree.leaves(same)))


if __name__ == '__main__':
  main()
