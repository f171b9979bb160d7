"""Optax-style training scripts run unchanged with ``import gradtx as optax``.

Each ``script_*`` function below is written the way Optax's own notebooks and
examples (getting started, MLP classifiers, L-BFGS, reduce-on-plateau, Flax
and Equinox training loops) use the library, against a module bound to the
name ``optax``. Every script runs once with the real Optax (the oracle) and
once with gradtx in its place; the final parameters, the recorded losses and
the values read back from the optimizer states must agree to float32
rounding. Data are small and synthetic, seeds fixed, step functions jitted.
"""

from __future__ import annotations

import functools
import inspect

import jax
import jax.numpy as jnp
import numpy as np
import optax as real_optax
import pytest

import gradtx

RTOL = 1e-5
ATOL = 1e-6


@pytest.fixture(autouse=True)
def _user_broadcasting():
  # User scripts broadcast as NumPy does (a bias added to a batch); the suite
  # otherwise raises on implicit rank promotion to catch it inside gradtx.
  with jax.numpy_rank_promotion('allow'):
    yield


# ---------------------------------------------------------------------------
# Shared synthetic data (no optimizer library involved).
# ---------------------------------------------------------------------------
def _classification(n=64, d=8, classes=4, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, d)).astype(np.float32)
  w = rng.normal(size=(d, classes)).astype(np.float32)
  y = np.argmax(x @ w + 0.3 * rng.normal(size=(n, classes)), axis=-1)
  return jnp.asarray(x), jnp.asarray(y, jnp.int32)


def _regression(n=48, d=5, seed=1):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, d)).astype(np.float32)
  w = rng.normal(size=(d, 1)).astype(np.float32)
  y = (np.sin(x @ w) + 0.05 * rng.normal(size=(n, 1))).astype(np.float32)
  return jnp.asarray(x), jnp.asarray(y)


def _mlp_init(key, sizes):
  params = []
  for k, (m, n) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
    params.append({'w': jax.random.normal(k, (m, n)) / np.sqrt(m), 'b': jnp.zeros(n)})
  return params


def _mlp_apply(params, x):
  for layer in params[:-1]:
    x = jax.nn.relu(x @ layer['w'] + layer['b'])
  return x @ params[-1]['w'] + params[-1]['b']


# ---------------------------------------------------------------------------
# 1. Getting started: MLP classifier, clipping + AdamW with warmup-cosine.
# ---------------------------------------------------------------------------
def script_getting_started(optax):  # pylint: disable=redefined-outer-name
  x, y = _classification()
  params = _mlp_init(jax.random.PRNGKey(0), [8, 16, 4])

  def loss_fn(params, x, y):
    logits = _mlp_apply(params, x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

  schedule = optax.warmup_cosine_decay_schedule(
      init_value=0.0, peak_value=5e-2, warmup_steps=6, decay_steps=40, end_value=1e-3)
  optimizer = optax.chain(
      optax.clip_by_global_norm(jnp.array(1.0)),
      optax.adamw(learning_rate=schedule, weight_decay=1e-3),
  )
  opt_state = optimizer.init(params)

  @jax.jit
  def step(params, opt_state, x, y):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss, optax.global_norm(grads)

  losses, norms = [], []
  for _ in range(40):
    params, opt_state, loss, gnorm = step(params, opt_state, x, y)
    losses.append(float(loss))
    norms.append(float(gnorm))

  # A zero bound (0-d array) is valid: it zeroes every update.
  frozen = optax.chain(optax.clip_by_global_norm(jnp.array(0.)), optax.sgd(0.1))
  grads = jax.grad(loss_fn)(params, x, y)
  zero_updates, _ = frozen.update(grads, frozen.init(params), params)
  return {
      'params': params,
      'losses': losses,
      'grad_norms': norms,
      'lr_at': [float(schedule(i)) for i in (0, 3, 6, 20, 39)],
      'counts': [int(c) for _, c in optax.tree_utils.tree_get_all_with_path(opt_state, 'count')],
      'zero_update_norm': float(optax.tree_utils.tree_norm(zero_updates)),
      'accuracy': float(jnp.mean(jnp.argmax(_mlp_apply(params, x), -1) == y)),
  }


# ---------------------------------------------------------------------------
# 2. Logistic regression: inject_hyperparams and reduce_on_plateau.
# ---------------------------------------------------------------------------
def script_plateau_and_inject(optax):  # pylint: disable=redefined-outer-name
  x, yc = _classification(seed=3)
  labels = (yc % 2).astype(jnp.float32)
  params = {'w': jnp.zeros(x.shape[1]), 'b': jnp.zeros(())}

  def loss_fn(params):
    logits = x @ params['w'] + params['b']
    return optax.sigmoid_binary_cross_entropy(logits, labels).mean()

  # (a) A learning rate held in the state, changed by hand mid-training.
  opt = optax.inject_hyperparams(optax.adam)(learning_rate=0.1, b1=0.8)
  state = opt.init(params)

  @jax.jit
  def step(params, state):
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, loss

  lrs, inject_losses = [], []
  p = params
  for i in range(25):
    if i == 12:
      state.hyperparams['learning_rate'] = jnp.array(0.02)
    p, state, loss = step(p, state)
    lrs.append(float(state.hyperparams['learning_rate']))
    inject_losses.append(float(loss))
  injected, inject_state = p, state

  # (b) reduce_on_plateau scales Adam's updates when the loss stops falling.
  opt = optax.chain(
      optax.adam(0.5),
      optax.contrib.reduce_on_plateau(factor=0.5, patience=2, cooldown=1, accumulation_size=2),
  )
  state = opt.init(params)

  @jax.jit
  def plateau_step(params, state):
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, state = opt.update(grads, state, params, value=loss)
    return optax.apply_updates(params, updates), state, loss

  scales, plateau_losses = [], []
  p = params
  for _ in range(40):
    p, state, loss = plateau_step(p, state)
    scales.append(float(optax.tree_utils.tree_get(state, 'scale')))
    plateau_losses.append(float(loss))
  return {
      'params': (injected, p),
      'losses': inject_losses + plateau_losses,
      'lrs': lrs,
      'b1': float(inject_state.hyperparams['b1']),
      'inject_count': int(inject_state.count),
      'scales': scales,
      'best_value': float(optax.tree_utils.tree_get(state, 'best_value')),
      'plateau_count': int(optax.tree_utils.tree_get(state, 'plateau_count')),
  }


# ---------------------------------------------------------------------------
# 3. Regression: freeze / multi_transform, MultiSteps, apply_if_finite.
# ---------------------------------------------------------------------------
def script_partition_accumulate_finite(optax):  # pylint: disable=redefined-outer-name
  x, y = _regression()
  params = {'backbone': {'w': 0.3 * jnp.ones((5, 8)), 'b': jnp.zeros(8)},
            'head': {'w': 0.1 * jnp.ones((8, 1)), 'b': jnp.zeros(1)}}

  def loss_fn(params, x, y):
    h = jnp.tanh(x @ params['backbone']['w'] + params['backbone']['b'])
    pred = h @ params['head']['w'] + params['head']['b']
    return optax.l2_loss(pred, y).mean() + 0.1 * optax.squared_error(pred, y).mean()

  grad_fn = jax.value_and_grad(loss_fn)

  def fit(tx, params, steps, batches=1, poison=None):
    state = tx.init(params)

    @jax.jit
    def step(params, state, xb, yb, scale):
      loss, grads = grad_fn(params, xb, yb)
      grads = jax.tree.map(lambda g: g * scale, grads)
      updates, state = tx.update(grads, state, params)
      return optax.apply_updates(params, updates), state, loss

    losses = []
    n = x.shape[0] // batches
    for i in range(steps):
      j = i % batches
      scale = jnp.float32(np.nan) if poison is not None and i in poison else jnp.float32(1.0)
      params, state, loss = step(params, state, x[j * n:(j + 1) * n], y[j * n:(j + 1) * n], scale)
      losses.append(float(loss))
    return params, state, losses

  out = {}
  # Fine-tune the head only: freeze the backbone.
  frozen = {'backbone': True, 'head': False}
  tx = optax.chain(optax.transforms.freeze(frozen), optax.adam(3e-2))
  out['freeze'], _, out['freeze_losses'] = fit(tx, params, 15)

  # Different optimizers per sub-tree.
  tx = optax.multi_transform(
      {'slow': optax.sgd(1e-2, momentum=0.9), 'fast': optax.adam(5e-2)},
      {'backbone': 'slow', 'head': 'fast'})
  out['multi'], _, out['multi_losses'] = fit(tx, params, 15)

  # Gradient accumulation over 4 mini-batches.
  tx = optax.MultiSteps(optax.adam(5e-2), every_k_schedule=4)
  out['multisteps'], state, out['multisteps_losses'] = fit(tx, params, 18, batches=4)
  out['mini_step'] = int(state.mini_step)
  out['gradient_step'] = int(state.gradient_step)

  # Skip non-finite steps (steps 3 and 4 get NaN gradients).
  tx = optax.apply_if_finite(optax.sgd(5e-2, momentum=0.5), max_consecutive_errors=3)
  out['finite'], state, out['finite_losses'] = fit(tx, params, 12, poison={3, 4})
  out['total_notfinite'] = int(state.total_notfinite)
  out['notfinite_count'] = int(state.notfinite_count)
  out['last_finite'] = bool(state.last_finite)
  out['losses'] = (out['freeze_losses'] + out['multi_losses'] + out['multisteps_losses']
                   + out['finite_losses'])
  out['params'] = (out.pop('freeze'), out.pop('multi'), out.pop('multisteps'),
                   out.pop('finite'))
  out['head_only_moved'] = float(optax.tree_utils.tree_norm(
      optax.tree_utils.tree_sub(out['params'][0]['backbone'], params['backbone'])))
  return out


# ---------------------------------------------------------------------------
# 4. L-BFGS with a line search and value_and_grad_from_state.
# ---------------------------------------------------------------------------
def script_lbfgs(optax):  # pylint: disable=redefined-outer-name
  x, y = _regression(n=32, d=4, seed=5)

  def fun(w):
    pred = jnp.tanh(x @ w['a']) @ w['b']
    return optax.l2_loss(pred, y).mean() + 1e-3 * optax.tree_utils.tree_norm(w, squared=True)

  params = {'a': 0.5 * jnp.ones((4, 3)), 'b': 0.1 * jnp.ones((3, 1))}
  opt = optax.lbfgs()
  value_and_grad = optax.value_and_grad_from_state(fun)

  @jax.jit
  def step(params, state):
    value, grad = value_and_grad(params, state=state)
    updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=fun)
    return optax.apply_updates(params, updates), state

  state = opt.init(params)
  values = []
  for _ in range(15):
    params, state = step(params, state)
    values.append(float(optax.tree_utils.tree_get(state, 'value')))
  return {
      'params': params,
      'losses': values,
      'count': int(optax.tree_utils.tree_get(state, 'count')),
      'grad_norm': float(optax.tree_utils.tree_norm(optax.tree_utils.tree_get(state, 'grad'))),
  }


# ---------------------------------------------------------------------------
# 5. Schedules, schedule-free AdamW and Muon.
# ---------------------------------------------------------------------------
def script_schedules_schedule_free_muon(optax):  # pylint: disable=redefined-outer-name
  x, y = _classification(n=48, d=6, classes=3, seed=7)
  params = _mlp_init(jax.random.PRNGKey(1), [6, 12, 3])

  def loss_fn(params):
    return optax.softmax_cross_entropy(_mlp_apply(params, x), jax.nn.one_hot(y, 3)).mean()

  sched = optax.schedules.join_schedules(
      [optax.schedules.linear_schedule(0.0, 2e-2, 5),
       optax.schedules.cosine_decay_schedule(2e-2, 20, alpha=0.1)], boundaries=[5])
  onecycle = optax.schedules.cosine_onecycle_schedule(30, 1e-1)
  values = {
      'join': [float(sched(i)) for i in (0, 2, 5, 9, 24, 30)],
      'onecycle': [float(onecycle(i)) for i in (0, 7, 15, 29)],
      'piecewise': [float(optax.schedules.piecewise_constant_schedule(1.0, {3: 0.5, 6: 0.1})(i))
                    for i in (0, 3, 6, 9)],
      'exp': [float(optax.schedules.exponential_decay(1.0, 4, 0.5, staircase=True)(i))
              for i in (0, 4, 7, 8)],
  }

  def train(opt, steps=25):
    state = opt.init(params)

    @jax.jit
    def step(p, state):
      loss, grads = jax.value_and_grad(loss_fn)(p)
      updates, state = opt.update(grads, state, p)
      return optax.apply_updates(p, updates), state, loss

    p, losses = params, []
    for _ in range(steps):
      p, state, loss = step(p, state)
      losses.append(float(loss))
    return p, state, losses

  sf_params, sf_state, sf_losses = train(optax.contrib.schedule_free_adamw(1e-2, warmup_steps=5))
  eval_params = optax.contrib.schedule_free_eval_params(sf_state, sf_params)
  mu_params, _, mu_losses = train(optax.contrib.muon(learning_rate=sched))
  return {
      'params': (sf_params, eval_params, mu_params),
      'losses': sf_losses + mu_losses,
      **values,
  }


# ---------------------------------------------------------------------------
# 6. Flax: linen TrainState and nnx.Optimizer.
# ---------------------------------------------------------------------------
def script_flax(optax):  # pylint: disable=redefined-outer-name
  import flax.linen as nn  # pylint: disable=g-import-not-at-top
  from flax import nnx  # pylint: disable=g-import-not-at-top
  from flax.training import train_state  # pylint: disable=g-import-not-at-top

  x, y = _classification(n=32, d=6, classes=3, seed=11)

  class MLP(nn.Module):

    @nn.compact
    def __call__(self, x):
      x = nn.relu(nn.Dense(16)(x))
      return nn.Dense(3)(x)

  model = MLP()
  variables = model.init(jax.random.PRNGKey(0), x)
  schedule = optax.warmup_cosine_decay_schedule(0.0, 1e-2, 4, 30)
  tx = optax.chain(optax.clip_by_global_norm(1.0),
                   optax.adamw(schedule, weight_decay=1e-4))
  state = train_state.TrainState.create(apply_fn=model.apply, params=variables['params'], tx=tx)

  @jax.jit
  def train_step(state, x, y):
    def loss_fn(params):
      logits = state.apply_fn({'params': params}, x)
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    return state.apply_gradients(grads=grads), loss

  linen_losses = []
  for _ in range(30):
    state, loss = train_step(state, x, y)
    linen_losses.append(float(loss))

  class NnxMLP(nnx.Module):

    def __init__(self, rngs):
      self.l1 = nnx.Linear(6, 16, rngs=rngs)
      self.l2 = nnx.Linear(16, 3, rngs=rngs)

    def __call__(self, x):
      return self.l2(nnx.relu(self.l1(x)))

  net = NnxMLP(nnx.Rngs(0))
  optimizer = nnx.Optimizer(net, optax.sgd(5e-2, momentum=0.9), wrt=nnx.Param)

  @nnx.jit
  def nnx_step(net, optimizer, x, y):
    def loss_fn(net):
      return optax.softmax_cross_entropy_with_integer_labels(net(x), y).mean()
    loss, grads = nnx.value_and_grad(loss_fn)(net)
    optimizer.update(net, grads)
    return loss

  nnx_losses = [float(nnx_step(net, optimizer, x, y)) for _ in range(20)]
  return {
      'params': (state.params, nnx.state(net, nnx.Param).to_pure_dict()),
      'losses': linen_losses + nnx_losses,
      'step': int(state.step),
      'counts': [int(c) for _, c in
                 optax.tree_utils.tree_get_all_with_path(state.opt_state, 'count')],
  }


# ---------------------------------------------------------------------------
# 7. Equinox: filtered model, optax.adam.
# ---------------------------------------------------------------------------
def script_equinox(optax):  # pylint: disable=redefined-outer-name
  import equinox as eqx  # pylint: disable=g-import-not-at-top

  x, y = _regression(n=40, d=3, seed=13)
  model = eqx.nn.MLP(in_size=3, out_size=1, width_size=16, depth=2,
                     activation=jax.nn.tanh, key=jax.random.PRNGKey(2))
  optim = optax.adam(learning_rate=optax.exponential_decay(1e-2, 10, 0.7))
  opt_state = optim.init(eqx.filter(model, eqx.is_array))

  @eqx.filter_value_and_grad
  def compute_loss(model, x, y):
    pred = jax.vmap(model)(x)
    return optax.squared_error(pred, y).mean()

  @eqx.filter_jit
  def make_step(model, opt_state, x, y):
    loss, grads = compute_loss(model, x, y)
    updates, opt_state = optim.update(grads, opt_state, eqx.filter(model, eqx.is_array))
    model = eqx.apply_updates(model, updates)
    return model, opt_state, loss

  losses = []
  for _ in range(40):
    model, opt_state, loss = make_step(model, opt_state, x, y)
    losses.append(float(loss))
  return {
      'params': eqx.filter(model, eqx.is_array),
      'losses': losses,
      'counts': [int(c) for _, c in optax.tree_utils.tree_get_all_with_path(opt_state, 'count')],
  }


# ---------------------------------------------------------------------------
# 8. Mixed precision: bfloat16 parameters, float32 first moment.
# ---------------------------------------------------------------------------
def script_bfloat16(optax):  # pylint: disable=redefined-outer-name
  x, y = _classification(seed=17)
  params = jax.tree.map(lambda a: a.astype(jnp.bfloat16),
                        _mlp_init(jax.random.PRNGKey(3), [8, 16, 4]))

  def loss_fn(params):
    logits = _mlp_apply(params, x.astype(jnp.bfloat16)).astype(jnp.float32)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

  tx = optax.chain(
      optax.clip_by_global_norm(1.0),
      optax.adamw(optax.cosine_decay_schedule(1e-2, 30), weight_decay=1e-3, mu_dtype=jnp.float32))
  opt_state = tx.init(params)

  @jax.jit
  def step(params, opt_state):
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  losses = []
  for _ in range(30):
    params, opt_state, loss = step(params, opt_state)
    losses.append(float(loss))
  return {
      'params': params,
      'losses': losses,
      'dtypes': [str(a.dtype) for a in jax.tree.leaves((params, opt_state))],
  }


SCRIPTS = {
    'getting_started': script_getting_started,
    'plateau_and_inject': script_plateau_and_inject,
    'partition_accumulate_finite': script_partition_accumulate_finite,
    'lbfgs': script_lbfgs,
    'schedules_schedule_free_muon': script_schedules_schedule_free_muon,
    'flax': script_flax,
    'equinox': script_equinox,
    'bfloat16': script_bfloat16,
}

# bfloat16 results may differ by one bfloat16 rounding (2**-7 relative), which
# the two libraries are free to place differently; float32 ones agree to 1e-5.
TOLERANCES = {'bfloat16': (1e-2, 1e-2)}


def _assert_close(got, want, what, rtol=RTOL, atol=ATOL):
  assert jax.tree.structure(got) == jax.tree.structure(want), what
  leaves = jax.tree.leaves(want)
  assert leaves, what
  for g, w in zip(jax.tree.leaves(got), leaves):
    if isinstance(w, str):
      assert g == w, what
      continue
    assert np.asarray(g).dtype == np.asarray(w).dtype, what
    np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(w, np.float64),
                               rtol=rtol, atol=atol, err_msg=what)


@functools.lru_cache(maxsize=None)
def _run(name, module_name):
  return SCRIPTS[name]({'optax': real_optax, 'gradtx': gradtx}[module_name])


@pytest.mark.parametrize('name', list(SCRIPTS))
def test_script_matches_optax(name):
  want = _run(name, 'optax')
  got = _run(name, 'gradtx')
  assert sorted(got) == sorted(want)
  for key in want:
    _assert_close(got[key], want[key], f'{name}: {key}', *TOLERANCES.get(name, (RTOL, ATOL)))
  # The script trained (otherwise the comparison is vacuous).
  losses = want['losses']
  assert min(losses[1:]) < losses[0] * 0.98, losses


def test_scripts_behave_as_written():
  """Spot checks that the scripts exercise what they claim (gradtx run)."""
  r = _run('plateau_and_inject', 'gradtx')
  assert r['lrs'][11] == pytest.approx(0.1) and r['lrs'][12] == pytest.approx(0.02)
  assert min(r['scales']) < 1.0  # the plateau rule fired
  r = _run('partition_accumulate_finite', 'gradtx')
  assert r['head_only_moved'] == 0.0
  assert r['total_notfinite'] == 2 and r['last_finite']
  assert r['gradient_step'] == 4 and r['mini_step'] == 2
  r = _run('getting_started', 'gradtx')
  assert r['zero_update_norm'] == 0.0


def test_scripts_do_not_name_a_library():
  for script in SCRIPTS.values():
    body = inspect.getsource(script).split('\n', 1)[1]
    assert 'gradtx' not in body and 'real_optax' not in body
