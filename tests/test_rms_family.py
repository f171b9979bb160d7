"""Hand-derived tests of rmsprop, adagrad, adadelta and their transformations.

References are float64 NumPy transcriptions of the formulas, or PyTorch's
``RMSprop``/``Adagrad``/``Adadelta`` configured to the same rule; 25 steps with
a learning rate that changes every step on ``g_t = 0.5·θ_t + r_t``.
"""

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


def _torch_path(make_opt, rs, lr_of_step=lr_np):
  p = torch.tensor(THETA0, dtype=torch.float64, requires_grad=True)
  opt = make_opt([p])
  out = []
  for t, r in enumerate(rs):
    if lr_of_step is not None:
      for group in opt.param_groups:
        group['lr'] = lr_of_step(t)
    p.grad = 0.5 * p.detach() + torch.tensor(r)
    opt.step()
    out.append(p.detach().numpy().copy())
  return out


# ---------------------------------------------------------------------------
# RMSProp.
# ---------------------------------------------------------------------------
def _rmsprop_np(rs, decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=True,
                centered=False, momentum=None, nesterov=False,
                bias_correction=False, lr=lr_np):
  theta = THETA0.copy()
  v = np.full_like(theta, initial_scale)
  mg = np.zeros_like(theta)
  b = np.zeros_like(theta)
  out = []
  for t, r in enumerate(rs):
    g = grad_np(theta, r)
    v = decay * v + (1 - decay) * g * g
    mg = decay * mg + (1 - decay) * g
    corr = 1 - decay ** (t + 1) if bias_correction else 1.0
    den = v / corr - ((mg / corr) ** 2 if centered else 0.0)
    d = g / np.sqrt(den + eps) if eps_in_sqrt else g / (np.sqrt(den) + eps)
    step = -lr(t) * d
    if momentum is None:
      u = step
    else:
      b = step + momentum * b
      u = step + momentum * b if nesterov else b
    theta = theta + u
    out.append(theta)
  return out


RMSPROP_CONFIGS = [
    {},
    {'eps_in_sqrt': False, 'decay': 0.99},
    {'centered': True},
    {'centered': True, 'eps_in_sqrt': False, 'initial_scale': 1.0},
    {'momentum': 0.9},
    {'momentum': 0.7, 'nesterov': True, 'eps': 1e-3},
    {'bias_correction': True, 'eps_in_sqrt': False},
    # v̂ − m̂² = 0 on the first step without initial_scale: keep it well-posed.
    {'bias_correction': True, 'centered': True, 'momentum': 0.5,
     'initial_scale': 0.5},
]


@pytest.mark.parametrize('config', RMSPROP_CONFIGS, ids=lambda c: '-'.join(
    f'{k}={v}' for k, v in c.items()) or 'default')
def test_rmsprop_by_hand(config):
  rs = noise(THETA0.shape, seed=10)
  ours, _ = run_jax(gradtx.rmsprop(lr_jax, **config), THETA0, rs)
  _assert_path(ours, _rmsprop_np(rs, **config))


@pytest.mark.parametrize('centered', [False, True])
def test_rmsprop_matches_torch_with_changing_learning_rate(centered):
  rs = noise(THETA0.shape, seed=11)
  ref = _torch_path(lambda p: torch.optim.RMSprop(
      p, lr=0.1, alpha=0.95, eps=1e-6, centered=centered), rs)
  opt = gradtx.rmsprop(lr_jax, decay=0.95, eps=1e-6, eps_in_sqrt=False,
                       centered=centered)
  ours, _ = run_jax(opt, THETA0, rs)
  _assert_path(ours, ref)


@pytest.mark.parametrize('centered', [False, True])
def test_rmsprop_momentum_matches_torch_with_constant_learning_rate(centered):
  rs = noise(THETA0.shape, seed=12)
  ref = _torch_path(lambda p: torch.optim.RMSprop(
      p, lr=0.02, alpha=0.9, eps=1e-8, centered=centered, momentum=0.8), rs,
                    lr_of_step=None)
  opt = gradtx.rmsprop(0.02, decay=0.9, eps=1e-8, eps_in_sqrt=False,
                       centered=centered, momentum=0.8)
  ours, _ = run_jax(opt, THETA0, rs)
  _assert_path(ours, ref)


def test_rmsprop_momentum_differs_from_torch_when_the_rate_changes():
  """Documented difference: PyTorch scales its whole buffer by the current η."""
  rs = noise(THETA0.shape, seed=13)
  ref = _torch_path(lambda p: torch.optim.RMSprop(
      p, lr=0.1, alpha=0.9, momentum=0.8), rs)
  ours, _ = run_jax(gradtx.rmsprop(lr_jax, eps_in_sqrt=False, momentum=0.8),
                    THETA0, rs)
  assert not np.allclose(ours[-1], ref[-1], rtol=1e-3)


@pytest.mark.parametrize('centered,momentum', [(False, 0.0), (True, 0.8)])
def test_rmsprop_matches_keras_with_changing_learning_rate(centered, momentum):
  """Keras keeps η inside its momentum buffer, as gradtx does."""
  rs = noise(THETA0.shape, seed=15)
  ref = keras_path(keras.optimizers.RMSprop(
      keras_lr(), rho=0.9, momentum=momentum, epsilon=1e-7, centered=centered),
                   THETA0, rs)
  opt = gradtx.rmsprop(lr_jax, decay=0.9, eps=1e-7, centered=centered,
                       momentum=momentum or None)
  ours, _ = run_jax(opt, THETA0, rs)
  _assert_path(ours, ref)


def test_scale_by_rms_with_bias_correction_is_adam_without_first_moment():
  g = jnp.array([[0.5, -2.0, 3.0], [1.0, 0.1, -0.3]])
  rms = gradtx.scale_by_rms(0.999, 1e-8, eps_in_sqrt=False, bias_correction=True)
  adam = gradtx.scale_by_adam(b1=0.0, b2=0.999)
  s1, s2 = rms.init(g), adam.init(g)
  for k in range(5):
    u1, s1 = rms.update(g * (k + 1), s1)
    u2, s2 = adam.update(g * (k + 1), s2)
  np.testing.assert_allclose(u1, u2, rtol=1e-6)
  assert int(s1.count) == 5


@pytest.mark.parametrize('dtype', [jnp.bfloat16, jnp.float16])
def test_rmsprop_low_precision(dtype):
  rs = noise(THETA0.shape, seed=14)
  ours, state = run_jax(gradtx.rmsprop(lr_jax, centered=True), THETA0, rs,
                        dtype=dtype)
  assert state[0].mu.dtype == dtype and state[0].nu.dtype == dtype
  _assert_path(ours, _rmsprop_np(rs, centered=True), rtol=5e-2, atol=5e-2)


def test_rms_moment_dtypes_can_be_set():
  p = jnp.zeros(3, jnp.bfloat16)
  s = gradtx.scale_by_stddev(mu_dtype=jnp.float32, nu_dtype=jnp.float32).init(p)
  assert s.mu.dtype == s.nu.dtype == jnp.float32
  s = gradtx.scale_by_rms(nu_dtype=jnp.float32).init(jnp.zeros(2, jnp.complex64))
  assert s.nu.dtype == jnp.float32


# ---------------------------------------------------------------------------
# Adagrad.
# ---------------------------------------------------------------------------
def _adagrad_np(rs, s0, eps, eps_in_sqrt, lr=lr_np):
  theta, s, out = THETA0.copy(), np.full_like(THETA0, s0), []
  for t, r in enumerate(rs):
    g = grad_np(theta, r)
    s = s + g * g
    d = g / np.sqrt(s + eps) if eps_in_sqrt else g / (np.sqrt(s) + eps)
    theta = theta - lr(t) * d
    out.append(theta)
  return out


@pytest.mark.parametrize('s0,eps,eps_in_sqrt', [
    (0.1, 1e-7, True), (0.0, 1e-10, False), (2.0, 0.5, True), (0.0, 0.5, False)])
def test_adagrad_by_hand(s0, eps, eps_in_sqrt):
  rs = noise(THETA0.shape, seed=20)
  opt = gradtx.adagrad(lr_jax, s0, eps, eps_in_sqrt=eps_in_sqrt)
  ours, state = run_jax(opt, THETA0, rs)
  _assert_path(ours, _adagrad_np(rs, s0, eps, eps_in_sqrt))
  assert state[0].sum_of_squares.dtype == jnp.float32


@pytest.mark.parametrize('s0', [0.0, 0.3])
def test_adagrad_matches_torch_with_lr_decay(s0):
  """PyTorch's lr_decay is the schedule η/(1 + t·δ); eps goes after the root."""
  rs = noise(THETA0.shape, seed=21)
  ref = _torch_path(lambda p: torch.optim.Adagrad(
      p, lr=0.3, lr_decay=0.05, initial_accumulator_value=s0, eps=1e-10), rs,
                    lr_of_step=None)
  opt = gradtx.adagrad(lambda t: 0.3 / (1 + t * 0.05), s0, 1e-10,
                       eps_in_sqrt=False)
  ours, _ = run_jax(opt, THETA0, rs)
  _assert_path(ours, ref)


def test_adagrad_defaults_match_keras():
  rs = noise(THETA0.shape, seed=22)
  ref = keras_path(keras.optimizers.Adagrad(keras_lr()), THETA0, rs)
  ours, _ = run_jax(gradtx.adagrad(lr_jax), THETA0, rs)
  _assert_path(ours, ref)


def test_adagrad_leaves_never_seen_coordinates_alone():
  opt = gradtx.adagrad(1.0, initial_accumulator_value=0.0, eps=0.0)
  g = jnp.array([0.0, 2.0])
  u, s = opt.update(g, opt.init(g))
  np.testing.assert_array_equal(u, [0.0, -1.0])
  assert bool(jnp.all(jnp.isfinite(u)))


def test_adagrad_accumulator_dtype():
  opt = gradtx.adagrad(0.1, accumulator_dtype=jnp.float32)
  p = jnp.ones(3, jnp.bfloat16)
  s = opt.init(p)
  u, s = opt.update(jnp.full(3, 0.5, jnp.bfloat16), s)
  assert s[0].sum_of_squares.dtype == jnp.float32 and u.dtype == jnp.bfloat16
  np.testing.assert_allclose(s[0].sum_of_squares, [0.35] * 3, rtol=1e-6)


# ---------------------------------------------------------------------------
# Adadelta.
# ---------------------------------------------------------------------------
def _adadelta_np(rs, rho, eps, wd, lr=lr_np):
  theta = THETA0.copy()
  a, b, out = np.zeros_like(theta), np.zeros_like(theta), []
  for t, r in enumerate(rs):
    g = grad_np(theta, r) + wd * theta
    a = rho * a + (1 - rho) * g * g
    delta = np.sqrt(b + eps) / np.sqrt(a + eps) * g
    b = rho * b + (1 - rho) * delta * delta
    theta = theta - lr(t) * delta
    out.append(theta)
  return out


@pytest.mark.parametrize('rho,eps,wd', [(0.9, 1e-6, 0.0), (0.5, 1e-2, 0.1)])
def test_adadelta_by_hand(rho, eps, wd):
  rs = noise(THETA0.shape, seed=30)
  lr = lambda t: 20 * lr_jax(t)
  ours, _ = run_jax(gradtx.adadelta(lr, rho, eps, weight_decay=wd), THETA0, rs)
  _assert_path(ours, _adadelta_np(rs, rho, eps, wd, lr=lambda t: 20 * lr_np(t)))


def test_adadelta_matches_torch_with_weight_decay_and_changing_rate():
  rs = noise(THETA0.shape, seed=31)
  lr = lambda t: 20 * lr_np(t)
  ref = _torch_path(lambda p: torch.optim.Adadelta(
      p, lr=1.0, rho=0.8, eps=1e-4, weight_decay=0.05), rs, lr_of_step=lr)
  opt = gradtx.adadelta(lambda t: 20 * lr_jax(t), rho=0.8, eps=1e-4,
                        weight_decay=0.05)
  ours, _ = run_jax(opt, THETA0, rs)
  _assert_path(ours, ref)


def test_adadelta_default_learning_rate_is_one():
  rs = noise(THETA0.shape, seed=32)
  ours, _ = run_jax(gradtx.adadelta(), THETA0, rs)
  _assert_path(ours, _adadelta_np(rs, 0.9, 1e-6, 0.0, lr=lambda t: 1.0))


# ---------------------------------------------------------------------------
# Parameter-scale and bad inputs.
# ---------------------------------------------------------------------------
def test_scale_by_param_block_rms():
  params = {'a': jnp.array([3.0, -4.0]), 'z': jnp.zeros(2)}
  tx = gradtx.scale_by_param_block_rms(min_scale=0.01)
  u, _ = tx.update({'a': jnp.ones(2), 'z': jnp.ones(2)}, tx.init(params), params)
  np.testing.assert_allclose(u['a'], [np.sqrt(12.5)] * 2, rtol=1e-6)
  np.testing.assert_allclose(u['z'], [0.01, 0.01], rtol=1e-6)
  with pytest.raises(ValueError, match='params'):
    tx.update(params, tx.init(params))


BAD = [
    ('learning_rate', lambda: gradtx.rmsprop(-1.0)),
    ('decay', lambda: gradtx.rmsprop(0.1, decay=1.0)),
    ('decay', lambda: gradtx.rmsprop(0.1, decay=-0.1)),
    ('eps', lambda: gradtx.rmsprop(0.1, eps=-1e-8)),
    ('initial_scale', lambda: gradtx.rmsprop(0.1, initial_scale=-1.0)),
    ('momentum', lambda: gradtx.rmsprop(0.1, momentum=1.2)),
    ('decay', lambda: gradtx.rmsprop(0.1, centered=True, decay=2.0)),
    ('nu_dtype', lambda: gradtx.scale_by_rms(nu_dtype='bad')),
    ('mu_dtype', lambda: gradtx.scale_by_stddev(mu_dtype='bad')),
    ('learning_rate', lambda: gradtx.adagrad(-0.1)),
    ('initial_accumulator_value', lambda: gradtx.adagrad(0.1, -0.1)),
    ('eps', lambda: gradtx.adagrad(0.1, eps=-1.0)),
    ('accumulator_dtype', lambda: gradtx.adagrad(0.1, accumulator_dtype='x')),
    ('learning_rate', lambda: gradtx.adadelta(-1.0)),
    ('rho', lambda: gradtx.adadelta(1.0, rho=1.0)),
    ('rho', lambda: gradtx.adadelta(1.0, rho=-0.5)),
    ('eps', lambda: gradtx.adadelta(1.0, eps=-1e-6)),
    ('weight_decay', lambda: gradtx.adadelta(1.0, weight_decay=-0.1)),
    ('min_scale', lambda: gradtx.scale_by_param_block_rms(-1.0)),
]


@pytest.mark.parametrize('name,make', BAD, ids=[f'{n}-{i}' for i, (n, _) in enumerate(BAD)])
def test_bad_arguments_raise_value_error_naming_them(name, make):
  with pytest.raises(ValueError, match=name):
    make()
