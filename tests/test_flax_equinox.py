"""gradtx optimizers where Flax and Equinox expect an Optax one.

Each test trains the same model twice from the same initialisation, once with
a gradtx optimizer and once with the Optax optimizer of the same name (the
oracle), through the framework's own training API, and checks that the
parameters agree after many steps with a changing learning rate.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

STEPS = 40
RTOL = 1e-5
ATOL = 1e-6


def changing_lr(step):
  """A learning rate that changes every step (warmup then cosine)."""
  step = jnp.asarray(step, jnp.float32)
  warm = jnp.minimum((step + 1.0) / 8.0, 1.0)
  return 3e-2 * warm * (0.55 + 0.45 * jnp.cos(jnp.pi * step / STEPS))


def data(n=32, d_in=6, d_out=3, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, d_in)).astype(np.float32)
  w = rng.normal(size=(d_in, d_out)).astype(np.float32)
  y = np.tanh(x @ w).astype(np.float32)
  return jnp.asarray(x), jnp.asarray(y)


def assert_trees_close(a, b, rtol=RTOL, atol=ATOL):
  la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
  assert jax.tree.structure(a) == jax.tree.structure(b)
  assert len(la) > 0
  for x, y in zip(la, lb):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


def assert_moved(before, after):
  """The parameters changed (so a parity check is not vacuous)."""
  diffs = [float(jnp.max(jnp.abs(x - y)))
           for x, y in zip(jax.tree.leaves(before), jax.tree.leaves(after))]
  assert max(diffs) > 1e-2, diffs


# ---------------------------------------------------------------------------
# Flax Linen: train_state.TrainState.
# ---------------------------------------------------------------------------
def _linen_run(tx):
  import flax.linen as nn  # pylint: disable=g-import-not-at-top
  from flax.training import train_state  # pylint: disable=g-import-not-at-top

  class MLP(nn.Module):

    @nn.compact
    def __call__(self, x):
      x = nn.tanh(nn.Dense(16)(x))
      return nn.Dense(3)(x)

  x, y = data()
  model = MLP()
  params = model.init(jax.random.PRNGKey(0), x)['params']
  state = train_state.TrainState.create(apply_fn=model.apply, params=params, tx=tx)

  @jax.jit
  def step(state):
    def loss_fn(p):
      return jnp.mean((state.apply_fn({'params': p}, x) - y) ** 2)
    grads = jax.grad(loss_fn)(state.params)
    return state.apply_gradients(grads=grads)

  for _ in range(STEPS):
    state = step(state)
  return params, state


def test_linen_train_state_adamw_matches_optax():
  p0, ours = _linen_run(gradtx.adamw(changing_lr, weight_decay=1e-2))
  _, oracle = _linen_run(optax.adamw(changing_lr, weight_decay=1e-2))
  assert int(ours.step) == STEPS
  assert_moved(p0, ours.params)
  assert_trees_close(ours.params, oracle.params)


def test_linen_train_state_chain_with_clipping_matches_optax():
  ours_tx = gradtx.chain(gradtx.clip_by_global_norm(0.5),
                         gradtx.adamw(changing_lr, weight_decay=1e-2))
  oracle_tx = optax.chain(optax.clip_by_global_norm(0.5),
                          optax.adamw(changing_lr, weight_decay=1e-2))
  p0, ours = _linen_run(ours_tx)
  _, oracle = _linen_run(oracle_tx)
  assert_moved(p0, ours.params)
  assert_trees_close(ours.params, oracle.params)


def test_linen_train_state_opt_state_is_gradtx_state():
  """The TrainState carries gradtx's own state (a pytree), not Optax's."""
  _, ours = _linen_run(gradtx.adam(1e-3))
  adam_states = [s for s in jax.tree.leaves(
      ours.opt_state, is_leaf=lambda s: isinstance(s, gradtx.ScaleByAdamState))
                 if isinstance(s, gradtx.ScaleByAdamState)]
  assert len(adam_states) == 1
  assert int(adam_states[0].count) == STEPS


# ---------------------------------------------------------------------------
# Flax NNX: nnx.Optimizer.
# ---------------------------------------------------------------------------
def _nnx_run(tx):
  from flax import nnx  # pylint: disable=g-import-not-at-top

  class MLP(nnx.Module):

    def __init__(self, rngs):
      self.l1 = nnx.Linear(6, 16, rngs=rngs)
      self.l2 = nnx.Linear(16, 3, rngs=rngs)

    def __call__(self, x):
      return self.l2(nnx.tanh(self.l1(x)))

  x, y = data(seed=1)
  model = MLP(nnx.Rngs(0))
  p0 = jax.tree.map(jnp.copy, nnx.state(model, nnx.Param))
  optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)

  @nnx.jit
  def step(model, optimizer):
    loss_fn = lambda m: jnp.mean((m(x) - y) ** 2)
    grads = nnx.grad(loss_fn)(model)
    optimizer.update(model, grads)

  for _ in range(STEPS):
    step(model, optimizer)
  return p0, nnx.state(model, nnx.Param), optimizer


def test_nnx_optimizer_adam_matches_optax():
  p0, ours, opt = _nnx_run(gradtx.adam(changing_lr))
  _, oracle, _ = _nnx_run(optax.adam(changing_lr))
  assert int(opt.step[...]) == STEPS
  assert_moved(p0, ours)
  assert_trees_close(ours, oracle)


def test_nnx_optimizer_sgd_momentum_matches_optax():
  p0, ours, _ = _nnx_run(gradtx.sgd(changing_lr, momentum=0.9, nesterov=True))
  _, oracle, _ = _nnx_run(optax.sgd(changing_lr, momentum=0.9, nesterov=True))
  assert_moved(p0, ours)
  assert_trees_close(ours, oracle)


# ---------------------------------------------------------------------------
# Equinox: eqx.filter-based training.
# ---------------------------------------------------------------------------
def _eqx_run(tx):
  eqx = pytest.importorskip(
      'equinox', reason='equinox is not installed (pip install -e ".[test]")')

  x, y = data(seed=2)
  model = eqx.nn.MLP(6, 3, width_size=16, depth=2, activation=jnp.tanh,
                     key=jax.random.PRNGKey(0))
  p0 = eqx.filter(model, eqx.is_inexact_array)
  # The parameter tree has None where the model holds non-arrays (the
  # activation function): the optimizer must pass those through.
  state = tx.init(eqx.filter(model, eqx.is_inexact_array))

  @eqx.filter_jit
  def step(model, state):
    @eqx.filter_grad
    def grad_fn(m):
      return jnp.mean((jax.vmap(m)(x) - y) ** 2)

    grads = grad_fn(model)
    updates, state = tx.update(grads, state, eqx.filter(model, eqx.is_inexact_array))
    return eqx.apply_updates(model, updates), state

  for _ in range(STEPS):
    model, state = step(model, state)
  return p0, eqx.filter(model, eqx.is_inexact_array)


def test_equinox_adamw_matches_optax():
  p0, ours = _eqx_run(gradtx.adamw(changing_lr, weight_decay=1e-2))
  _, oracle = _eqx_run(optax.adamw(changing_lr, weight_decay=1e-2))
  assert_moved(p0, ours)
  assert_trees_close(ours, oracle)


def test_equinox_gradtx_apply_updates_matches_eqx():
  """gradtx.apply_updates accepts Equinox's None-holed trees like eqx.apply_updates."""
  eqx = pytest.importorskip('equinox')
  model = eqx.nn.MLP(3, 2, width_size=4, depth=1, key=jax.random.PRNGKey(1))
  params = eqx.filter(model, eqx.is_inexact_array)
  updates = jax.tree.map(lambda p: jnp.full_like(p, 0.25), params)
  ours = gradtx.apply_updates(params, updates)
  theirs = eqx.filter(eqx.apply_updates(model, updates), eqx.is_inexact_array)
  assert_trees_close(ours, theirs, rtol=0, atol=0)
