"""float16 training with dynamic loss scaling: accuracy, and underflow rescued."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx

POLICY16 = gradtx.get_policy('params=float32,compute=float16,output=float32')
POLICY32 = gradtx.get_policy('float32')


def _digits(n_train=600, n_test=300):
  datasets = pytest.importorskip('sklearn.datasets')
  x, y = datasets.load_digits(return_X_y=True)
  x = (x / 16.0).astype(np.float32)
  rng = np.random.default_rng(0)
  idx = rng.permutation(len(x))[: n_train + n_test]
  return (x[idx[:n_train]], y[idx[:n_train]]), (x[idx[n_train:]], y[idx[n_train:]])


def _init_mlp(key, sizes=(64, 64, 10)):
  params = []
  for k, (m, n) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
    params.append({'w': jax.random.normal(k, (m, n)) * jnp.sqrt(2.0 / m),
                   'b': jnp.zeros((n,))})
  return params


def _logits(params, x, policy):
  params, h = policy.cast_to_compute((params, x))
  for i, layer in enumerate(params):
    h = h @ layer['w'] + layer['b'][None, :]
    if i < len(params) - 1:
      h = jax.nn.relu(h)
  return policy.cast_to_output(h)


def _loss(params, x, y, policy):
  logp = jax.nn.log_softmax(_logits(params, x, policy))
  return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def _train(policy, loss_scale, steps=150):
  (xtr, ytr), (xte, yte) = _digits()
  params = _init_mlp(jax.random.PRNGKey(0))
  opt = gradtx.with_loss_scale(gradtx.adam(1e-2), loss_scale)
  state = opt.init(params)

  def step(carry, _):
    params, state = carry
    grads = jax.grad(lambda p: state.loss_scale.scale(
        _loss(p, xtr, ytr, policy)))(params)
    updates, state = opt.update(grads, state, params)
    return (gradtx.apply_updates(params, updates), state), state.loss_scale.loss_scale

  (params, state), scales = jax.jit(
      lambda c: jax.lax.scan(step, c, None, length=steps))((params, state))
  acc = jnp.mean(jnp.argmax(_logits(params, xte, policy), -1) == yte)
  return float(acc), state, np.asarray(scales)


def test_float16_with_dynamic_loss_scaling_matches_float32_accuracy():
  acc32, _, _ = _train(POLICY32, gradtx.NoOpLossScale())
  # A too-large initial scale: the first steps overflow and back off.
  acc16, state, scales = _train(
      POLICY16, gradtx.DynamicLossScale(init_scale=2.0**24, growth_interval=50))
  assert acc32 > 0.9
  assert abs(acc16 - acc32) <= 0.03, (acc16, acc32)
  assert int(state.skipped_steps) >= 1           # the backoff happened
  assert scales[-1] < 2.0**24 and np.all(np.isfinite(scales))
  for leaf in jax.tree.leaves(state.inner_state):
    assert bool(jnp.all(jnp.isfinite(leaf)))


def _tiny_grad_loss(w, policy):
  """d loss / d w = 1e-3 · 1e-5 = 1e-8: below float16's smallest subnormal."""
  x = jnp.full((4,), 1e-5, jnp.float32)
  w16, x16 = policy.cast_to_compute((w, x))
  return policy.cast_to_output(jnp.sum(w16 * x16) * jnp.asarray(1e-3, w16.dtype))


def test_float16_gradients_underflow_without_loss_scaling_but_not_with_it():
  w = jnp.ones((4,), jnp.float32)
  plain = jax.grad(_tiny_grad_loss)(w, POLICY16)
  assert plain.dtype == jnp.float32 and bool(jnp.all(plain == 0))  # lost
  exact = jax.grad(_tiny_grad_loss)(w, POLICY32)
  np.testing.assert_allclose(np.asarray(exact), 1e-8, rtol=1e-5)

  ls = gradtx.StaticLossScale(2.0**15)
  scaled = ls.unscale(jax.grad(lambda w: ls.scale(_tiny_grad_loss(w, POLICY16)))(w))
  np.testing.assert_allclose(np.asarray(scaled), 1e-8, rtol=2e-3)  # float16 precision

  # Through the optimizer: with the loss scale, SGD moves the weights.
  def train(loss_scale):
    opt = gradtx.with_loss_scale(gradtx.scale(-1e6), loss_scale)
    state = opt.init(w)
    grads = jax.grad(lambda p: state.loss_scale.scale(_tiny_grad_loss(p, POLICY16)))(w)
    updates, _ = opt.update(grads, state, w)
    return gradtx.apply_updates(w, updates)

  np.testing.assert_array_equal(np.asarray(train(gradtx.NoOpLossScale())), 1.0)
  np.testing.assert_allclose(np.asarray(train(gradtx.DynamicLossScale())), 1.0 - 1e-2,
                             rtol=1e-4)
