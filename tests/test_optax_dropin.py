"""A typical Optax user script runs unchanged with ``import gradtx as optax``.

``user_script`` below is written exactly as an Optax user would write it,
against a module bound to the name ``optax``. It is run once with the real
Optax and once with gradtx in its place; the final parameters (and the values
read back from the optimizer states) must agree to 1e-5.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax as real_optax
import pytest

import gradtx


def _data():
  k1, k2, k3 = jax.random.split(jax.random.PRNGKey(42), 3)
  x = jax.random.normal(k1, (16, 3))
  y = jnp.sin(x @ jnp.array([1.0, -2.0, 0.5]))[:, None]
  params = {
      'hidden': {'kernel': 0.5 * jax.random.normal(k2, (3, 8)), 'bias': jnp.zeros(8)},
      'out': {'kernel': 0.5 * jax.random.normal(k3, (8, 1)), 'bias': jnp.zeros(1)},
  }
  return x, y, params


def _loss(params, x, y):
  h = jnp.tanh(x @ params['hidden']['kernel'] + params['hidden']['bias'][None, :])
  pred = h @ params['out']['kernel'] + params['out']['bias'][None, :]
  return jnp.mean((pred - y) ** 2)


def user_script(optax):  # pylint: disable=redefined-outer-name
  """Optax-style training code; ``optax`` is whichever module is passed in."""
  x, y, params0 = _data()
  grad_fn = jax.jit(jax.grad(_loss))
  results = {}

  def train(tx, params, steps, on_step=None):
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state):
      grads = grad_fn(params, x, y)
      updates, opt_state = tx.update(grads, opt_state, params)
      return optax.apply_updates(params, updates), opt_state

    for i in range(steps):
      if on_step is not None:
        opt_state = on_step(i, opt_state)
      params, opt_state = step(params, opt_state)
    return params, opt_state

  # 1. Clipping + AdamW with a warmup-cosine schedule and a weight-decay mask.
  schedule = optax.warmup_cosine_decay_schedule(
      init_value=0.0, peak_value=3e-2, warmup_steps=5, decay_steps=30, end_value=1e-3)
  decay_mask = lambda p: jax.tree.map(lambda a: a.ndim > 1, p)
  tx = optax.chain(
      optax.clip_by_global_norm(1.0),
      optax.adamw(learning_rate=schedule, b1=0.9, b2=0.99, weight_decay=1e-2,
                  mask=decay_mask),
  )
  results['adamw'], _ = train(tx, params0, 30)
  results['schedule'] = [float(schedule(i)) for i in (0, 3, 5, 17, 29, 40)]

  # 2. inject_hyperparams: read and change the learning rate in the state.
  tx = optax.inject_hyperparams(optax.adam)(learning_rate=1e-2, b1=0.8)
  lrs = []

  def halve_lr_at_10(i, opt_state):
    if i == 10:
      opt_state.hyperparams['learning_rate'] = opt_state.hyperparams['learning_rate'] / 2
    lrs.append(float(opt_state.hyperparams['learning_rate']))
    return opt_state

  results['inject'], state = train(tx, params0, 20, halve_lr_at_10)
  results['inject_lrs'] = lrs
  results['inject_b1'] = float(state.hyperparams['b1'])

  # 3. Gradient accumulation with MultiSteps.
  ms = optax.MultiSteps(optax.sgd(learning_rate=0.1, momentum=0.9), every_k_schedule=3)
  results['multisteps'], ms_state = train(ms, params0, 14)
  results['multisteps_mini_step'] = int(ms_state.mini_step)
  results['multisteps_gradient_step'] = int(ms_state.gradient_step)
  results['multisteps_has_updated'] = bool(ms.has_updated(ms_state))
  results['multisteps_gt'], _ = train(ms.gradient_transformation(), params0, 6)

  # 4. masked: only the biases get an extra weight decay, then SGD on everything.
  bias_mask = {'hidden': {'kernel': False, 'bias': True}, 'out': {'kernel': False, 'bias': True}}
  tx = optax.chain(optax.masked(optax.add_decayed_weights(0.1), bias_mask),
                   optax.sgd(learning_rate=optax.exponential_decay(0.1, 5, 0.5)))
  results['masked'], _ = train(tx, params0, 12)

  # 5. multi_transform: Adam for the hidden layer, SGD for the output, frozen biases.
  labels = {'hidden': {'kernel': 'adam', 'bias': 'frozen'}, 'out': {'kernel': 'sgd', 'bias': 'frozen'}}
  tx = optax.multi_transform(
      {'adam': optax.adam(1e-2), 'sgd': optax.sgd(5e-2, nesterov=True, momentum=0.5),
       'frozen': optax.set_to_zero()},
      labels)
  results['multi_transform'], _ = train(tx, params0, 12)

  # 6. Building blocks by hand, a piecewise schedule and tree helpers.
  lr = optax.piecewise_constant_schedule(1e-2, {5: 0.5, 10: 0.1})
  tx = optax.chain(optax.scale_by_adam(b2=0.95), optax.add_decayed_weights(1e-3),
                   optax.scale_by_learning_rate(lr))
  results['blocks'], state = train(tx, params0, 12)
  results['blocks_count'] = int(optax.tree.get(state[0], 'count'))
  results['blocks_counts'] = [int(c) for _, c in optax.tree.get_all_with_path(state, 'count')]
  results['grad_norm'] = float(optax.tree.norm(grad_fn(params0, x, y)))
  return results


@pytest.fixture(scope='module')
def both():
  return user_script(real_optax), user_script(gradtx)


@pytest.mark.parametrize('key', ['adamw', 'inject', 'multisteps', 'multisteps_gt', 'masked',
                                 'multi_transform', 'blocks'])
def test_final_params_match(both, key):
  want, got = both[0][key], both[1][key]
  assert jax.tree.structure(want) == jax.tree.structure(got)
  for w, g in zip(jax.tree.leaves(want), jax.tree.leaves(got)):
    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
  moved = max(float(jnp.max(jnp.abs(a - b)))
              for a, b in zip(jax.tree.leaves(want), jax.tree.leaves(_data()[2])))
  assert moved > 1e-3, 'the script must actually train, or the comparison is vacuous'


@pytest.mark.parametrize('key', ['schedule', 'inject_lrs', 'inject_b1', 'multisteps_mini_step',
                                 'multisteps_gradient_step', 'multisteps_has_updated',
                                 'blocks_count', 'blocks_counts', 'grad_norm'])
def test_values_read_from_states_match(both, key):
  np.testing.assert_allclose(both[1][key], both[0][key], rtol=1e-5, atol=1e-7)


def test_inject_lr_really_changed(both):
  lrs = both[1]['inject_lrs']
  assert lrs[9] == pytest.approx(1e-2) and lrs[10] == pytest.approx(5e-3)


def test_gradtx_module_can_stand_in_for_optax():
  """The script never touched Optax when given gradtx (it imports no optax)."""
  import inspect  # pylint: disable=import-outside-toplevel
  src = inspect.getsource(user_script)
  assert 'real_optax' not in src and 'gradtx' not in src.split('"""')[-1]
