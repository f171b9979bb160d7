"""Hand-derived tests of sgd, noisy_sgd, sign_sgd, signum and lion.

Every reference is written out in float64 NumPy (or taken from PyTorch) and
run for 25 steps with a learning rate that changes every step, on gradients
``g_t = 0.5·θ_t + r_t`` that depend on the params.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import gradtx
import keras

from tests.cases.sgd_rms_sign import (STEPS, grad_np, keras_lr, keras_path,
                                     lr_jax, lr_np, noise, run_jax)

THETA0 = np.array([0.3, -1.2, 2.0, 0.7, -0.4, 1.5])


def _assert_path(ours, ref, rtol=2e-5, atol=2e-6):
  assert len(ours) == len(ref) == STEPS
  for t, (a, b) in enumerate(zip(ours, ref)):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f'step {t}')


# ---------------------------------------------------------------------------
# SGD with momentum.
# ---------------------------------------------------------------------------
def _sgd_np(momentum, nesterov, rs):
  theta, m, out = THETA0.copy(), np.zeros_like(THETA0), []
  for t, r in enumerate(rs):
    g = grad_np(theta, r)
    if momentum is None:
      d = g
    else:
      m = g + momentum * m
      d = g + momentum * m if nesterov else m
    theta = theta - lr_np(t) * d
    out.append(theta)
  return out


@pytest.mark.parametrize('momentum,nesterov', [
    (None, False), (0.9, False), (0.9, True), (0.5, True), (1.0, False)])
def test_sgd_by_hand(momentum, nesterov):
  rs = noise(THETA0.shape)
  ours, _ = run_jax(gradtx.sgd(lr_jax, momentum, nesterov), THETA0, rs)
  _assert_path(ours, _sgd_np(momentum, nesterov, rs))


@pytest.mark.parametrize('nesterov', [False, True])
def test_sgd_matches_torch_with_changing_learning_rate(nesterov):
  rs = noise(THETA0.shape, seed=1)
  p = torch.tensor(THETA0, dtype=torch.float64, requires_grad=True)
  opt = torch.optim.SGD([p], lr=lr_np(0), momentum=0.9, nesterov=nesterov)
  ref = []
  for t, r in enumerate(rs):
    for group in opt.param_groups:
      group['lr'] = lr_np(t)
    p.grad = 0.5 * p.detach() + torch.tensor(r)
    opt.step()
    ref.append(p.detach().numpy().copy())
  ours, _ = run_jax(gradtx.sgd(lr_jax, 0.9, nesterov), THETA0, rs)
  _assert_path(ours, ref)


@pytest.mark.parametrize('nesterov', [False, True])
def test_sgd_matches_keras_with_constant_learning_rate(nesterov):
  """Keras' velocity v = μv − ηg equals −η·m while η is constant."""
  rs = noise(THETA0.shape, seed=8)
  ref = keras_path(keras.optimizers.SGD(0.03, momentum=0.9, nesterov=nesterov),
                   THETA0, rs)
  ours, _ = run_jax(gradtx.sgd(0.03, 0.9, nesterov), THETA0, rs)
  _assert_path(ours, ref)


def test_sgd_momentum_differs_from_keras_when_the_rate_changes():
  rs = noise(THETA0.shape, seed=9)
  ref = keras_path(keras.optimizers.SGD(keras_lr(), momentum=0.9), THETA0, rs)
  ours, _ = run_jax(gradtx.sgd(lr_jax, 0.9), THETA0, rs)
  assert not np.allclose(ours[-1], ref[-1], rtol=1e-3)


def test_sgd_bfloat16_accumulator_stays_bfloat16_and_tracks_float32():
  rs = noise(THETA0.shape, seed=2)
  opt = gradtx.sgd(lr_jax, 0.9, accumulator_dtype=jnp.bfloat16)
  ours, state = run_jax(opt, THETA0, rs)
  assert state[0].trace.dtype == jnp.bfloat16
  _assert_path(ours, _sgd_np(0.9, False, rs), rtol=3e-2, atol=3e-2)


@pytest.mark.parametrize('dtype', [jnp.bfloat16, jnp.float16])
def test_sgd_low_precision_params(dtype):
  rs = noise(THETA0.shape, seed=3)
  ours, state = run_jax(gradtx.sgd(lr_jax, 0.9, True), THETA0, rs, dtype=dtype)
  assert state[0].trace.dtype == dtype
  _assert_path(ours, _sgd_np(0.9, True, rs), rtol=3e-2, atol=3e-2)


# ---------------------------------------------------------------------------
# Sign-based.
# ---------------------------------------------------------------------------
def test_sign_sgd_by_hand():
  rs = noise(THETA0.shape, seed=4)
  theta, ref = THETA0.copy(), []
  for t, r in enumerate(rs):
    theta = theta - lr_np(t) * np.sign(grad_np(theta, r))
    ref.append(theta)
  ours, _ = run_jax(gradtx.sign_sgd(lr_jax), THETA0, rs)
  _assert_path(ours, ref)


def test_sign_of_zero_is_zero():
  opt = gradtx.sign_sgd(1.0)
  u, _ = opt.update(jnp.array([0.0, -0.0, 2.0]), opt.init(jnp.zeros(3)))
  np.testing.assert_array_equal(u, [0.0, 0.0, -1.0])


@pytest.mark.parametrize('beta', [0.9, 0.5, 0.0])
def test_signum_by_hand(beta):
  rs = noise(THETA0.shape, seed=5)
  theta, m, ref = THETA0.copy(), np.zeros_like(THETA0), []
  for t, r in enumerate(rs):
    m = beta * m + (1 - beta) * grad_np(theta, r)
    theta = theta - lr_np(t) * np.sign(m)
    ref.append(theta)
  ours, state = run_jax(gradtx.signum(lr_jax, beta), THETA0, rs)
  _assert_path(ours, ref)
  np.testing.assert_allclose(state[0].ema, m, rtol=1e-5, atol=1e-6)


def _lion_np(b1, b2, wd, rs, mask=None):
  theta, m, ref = THETA0.copy(), np.zeros_like(THETA0), []
  decay = np.ones_like(THETA0) if mask is None else mask
  for t, r in enumerate(rs):
    g = grad_np(theta, r)
    c = b1 * m + (1 - b1) * g
    theta = theta - lr_np(t) * (np.sign(c) + wd * decay * theta)
    m = b2 * m + (1 - b2) * g
    ref.append(theta)
  return ref, m


@pytest.mark.parametrize('b1,b2,wd', [(0.9, 0.99, 1e-3), (0.5, 0.9, 0.3),
                                      (0.0, 0.0, 0.0)])
def test_lion_by_hand(b1, b2, wd):
  rs = noise(THETA0.shape, seed=6)
  ref, m = _lion_np(b1, b2, wd, rs)
  ours, state = run_jax(gradtx.lion(lr_jax, b1, b2, weight_decay=wd), THETA0, rs)
  _assert_path(ours, ref)
  np.testing.assert_allclose(state[0].mu, m, rtol=1e-5, atol=1e-6)


def test_lion_matches_keras_with_changing_learning_rate():
  rs = noise(THETA0.shape, seed=10)
  ref = keras_path(keras.optimizers.Lion(keras_lr(), beta_1=0.8, beta_2=0.95),
                   THETA0, rs)
  ours, _ = run_jax(gradtx.lion(lr_jax, 0.8, 0.95, weight_decay=0.0), THETA0, rs)
  _assert_path(ours, ref)


def test_lion_weight_decay_mask_and_mu_dtype():
  params = {'w': jnp.array([1.0, -2.0]), 'b': jnp.array([3.0])}
  grads = {'w': jnp.array([0.1, 0.1]), 'b': jnp.array([-0.2])}
  opt = gradtx.lion(0.1, weight_decay=0.5, mask={'w': True, 'b': False},
                    mu_dtype=jnp.bfloat16)
  state = opt.init(params)
  u, state = opt.update(grads, state, params)
  # −η·(sign(0.1·g) + λθ) on w; no decay on b.
  np.testing.assert_allclose(u['w'], [-0.1 * (1 + 0.5), -0.1 * (1 - 1.0)])
  np.testing.assert_allclose(u['b'], [0.1])
  assert state[0].mu['w'].dtype == jnp.bfloat16
  np.testing.assert_allclose(state[0].mu['w'], [0.001, 0.001], rtol=1e-2)


@pytest.mark.parametrize('mode', ['smooth', 'refined'])
def test_lion_modes(mode):
  g = jnp.array([0.05, -3.0, 20.0, -0.5])
  tx = gradtx.scale_by_lion(b1=0.0, mode=mode, smooth_beta=2.0)
  u, _ = tx.update(g, tx.init(g))
  x = np.asarray(g, np.float64)
  want = np.tanh(2.0 * x) if mode == 'smooth' else np.where(
      np.abs(x) < 1, x, np.sign(x))
  np.testing.assert_allclose(u, want, rtol=1e-6)


# ---------------------------------------------------------------------------
# Noisy SGD.
# ---------------------------------------------------------------------------
def test_noisy_sgd_without_noise_is_sgd():
  rs = noise(THETA0.shape, seed=7)
  ours, _ = run_jax(gradtx.noisy_sgd(lr_jax, eta=0.0, seed=1), THETA0, rs)
  _assert_path(ours, _sgd_np(None, False, rs))


def test_noisy_sgd_noise_variance_is_annealed():
  """With g = 0 the update is −η·n; its variance is eta/t^gamma, t from 1."""
  n, eta, gamma = 40_000, 0.3, 0.55
  opt = gradtx.noisy_sgd(0.5, eta=eta, gamma=gamma, seed=11)
  state = opt.init(jnp.zeros(n))
  update = jax.jit(opt.update)
  for t in range(1, 5):
    u, state = update(jnp.zeros(n), state)
    sample = np.asarray(u, np.float64) / -0.5
    want = eta / float(t) ** gamma  # t counts updates from 1, as in Optax
    assert abs(sample.mean()) < 4 * np.sqrt(want / n)
    # The sample variance of n normals has a relative std of sqrt(2/n) ~ 0.7%.
    np.testing.assert_allclose(sample.var(), want, rtol=0.04)


def test_noisy_sgd_draws_equal_optax_with_the_same_key():
  import optax  # pylint: disable=g-import-not-at-top
  params = {'a': jnp.zeros(5), 'b': jnp.zeros((2, 3))}
  ours, theirs = gradtx.noisy_sgd(0.3, key=7), optax.noisy_sgd(0.3, key=7)
  s1, s2 = ours.init(params), theirs.init(params)
  for _ in range(4):
    u1, s1 = ours.update(params, s1)
    u2, s2 = theirs.update(params, s2)
    for a, b in zip(jax.tree.leaves(u1), jax.tree.leaves(u2)):
      np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_noisy_sgd_is_reproducible_and_depends_on_seed():
  def first(seed):
    opt = gradtx.noisy_sgd(1.0, seed=seed)
    return np.asarray(opt.update(jnp.zeros(8), opt.init(jnp.zeros(8)))[0])

  np.testing.assert_array_equal(first(3), first(3))
  assert not np.allclose(first(3), first(4))


# ---------------------------------------------------------------------------
# Bad inputs.
# ---------------------------------------------------------------------------
BAD = [
    ('learning_rate', lambda: gradtx.sgd(-0.1)),
    ('learning_rate', lambda: gradtx.sgd('fast')),
    ('momentum', lambda: gradtx.sgd(0.1, momentum=1.5)),
    ('momentum', lambda: gradtx.sgd(0.1, momentum=-0.1)),
    ('accumulator_dtype', lambda: gradtx.sgd(0.1, 0.9, accumulator_dtype='f33')),
    ('learning_rate', lambda: gradtx.sign_sgd(-1.0)),
    ('beta', lambda: gradtx.signum(0.1, beta=1.0)),
    ('beta', lambda: gradtx.signum(0.1, beta=-0.5)),
    ('eta', lambda: gradtx.noisy_sgd(0.1, eta=-1.0)),
    ('gamma', lambda: gradtx.noisy_sgd(0.1, gamma=-1.0)),
    ('seed', lambda: gradtx.noisy_sgd(0.1, seed=1.5)),
    ('b1', lambda: gradtx.lion(0.1, b1=1.1)),
    ('b2', lambda: gradtx.lion(0.1, b2=1.0)),
    ('weight_decay', lambda: gradtx.lion(0.1, weight_decay=-1e-3)),
    ('learning_rate', lambda: gradtx.lion(-0.1)),
    ('mode', lambda: gradtx.scale_by_lion(mode='soft')),
    ('smooth_beta', lambda: gradtx.scale_by_lion(smooth_beta=0.0)),
    ('mu_dtype', lambda: gradtx.scale_by_lion(mu_dtype='nope')),
]


@pytest.mark.parametrize('name,make', BAD, ids=[f'{n}-{i}' for i, (n, _) in enumerate(BAD)])
def test_bad_arguments_raise_value_error_naming_them(name, make):
  with pytest.raises(ValueError, match=name):
    make()
