"""Battery cases: the SGD family, the RMS family, sign-based and factored."""

import optax

import gradtx
from tests.cases import Case


def _lr(tx, lr, lib=gradtx):
  return lib.chain(tx, lib.scale_by_learning_rate(lr))


CASES = [
    # --- SGD family ---------------------------------------------------------
    Case('sgd', lambda lr: gradtx.sgd(lr), lambda lr: optax.sgd(lr),
         steps=500, needs_params=False, complex_ok=True),
    Case('sgd_momentum', lambda lr: gradtx.sgd(lr, momentum=0.9),
         lambda lr: optax.sgd(lr, momentum=0.9), lr=1e-2, steps=2000,
         needs_params=False),
    Case('sgd_nesterov', lambda lr: gradtx.sgd(lr, 0.9, nesterov=True),
         lambda lr: optax.sgd(lr, 0.9, nesterov=True), lr=1e-2, steps=2000,
         needs_params=False),
    Case('noisy_sgd', lambda lr: gradtx.noisy_sgd(lr, eta=1e-4, seed=3),
         None, steps=500, needs_params=False),
    Case('sign_sgd', lambda lr: gradtx.sign_sgd(lr),
         lambda lr: optax.sign_sgd(lr), lr=1e-2, needs_params=False),
    Case('signum', lambda lr: gradtx.signum(lr, beta=0.8),
         lambda lr: optax.signum(lr, beta=0.8), lr=1e-2, needs_params=False),
    # --- RMS family ---------------------------------------------------------
    Case('rmsprop', lambda lr: gradtx.rmsprop(lr),
         lambda lr: optax.rmsprop(lr), lr=1e-2, complex_ok=True),
    Case('rmsprop_torch_form',
         lambda lr: gradtx.rmsprop(lr, decay=0.99, eps_in_sqrt=False),
         lambda lr: optax.rmsprop(lr, decay=0.99, eps_in_sqrt=False), lr=1e-2),
    Case('rmsprop_centered', lambda lr: gradtx.rmsprop(lr, centered=True),
         lambda lr: optax.rmsprop(lr, centered=True), lr=1e-2),
    Case('rmsprop_momentum', lambda lr: gradtx.rmsprop(lr, momentum=0.9),
         lambda lr: optax.rmsprop(lr, momentum=0.9), lr=1e-3, steps=2000),
    Case('rmsprop_centered_nesterov_bias',
         lambda lr: gradtx.rmsprop(lr, centered=True, momentum=0.5,
                                   nesterov=True, bias_correction=True,
                                   initial_scale=0.1),
         lambda lr: optax.rmsprop(lr, centered=True, momentum=0.5,
                                  nesterov=True, bias_correction=True,
                                  initial_scale=0.1), lr=1e-2),
    Case('scale_by_rms_adam_like',
         lambda lr: _lr(gradtx.scale_by_rms(0.99, 1e-8, eps_in_sqrt=False,
                                            bias_correction=True), lr),
         lambda lr: _lr(optax.scale_by_rms(0.99, 1e-8, eps_in_sqrt=False,
                                           bias_correction=True), lr, optax),
         lr=1e-2),
    Case('adagrad', lambda lr: gradtx.adagrad(lr), lambda lr: optax.adagrad(lr),
         lr=0.5, complex_ok=True, rosenbrock_lr=0.05),
    Case('adagrad_torch_form',
         lambda lr: gradtx.adagrad(lr, 0.0, 1e-10, eps_in_sqrt=False), None,
         lr=0.5, rosenbrock_lr=0.05),
    Case('adadelta', lambda lr: gradtx.adadelta(lr),
         lambda lr: optax.adadelta(lr), lr=10.0, steps=2000,
         rosenbrock_lr=1.0),
    Case('adadelta_weight_decay',
         lambda lr: gradtx.adadelta(lr, rho=0.95, weight_decay=1e-2,
                                    weight_decay_mask={'b': False,
                                                       'layer': True}),
         lambda lr: optax.adadelta(lr, rho=0.95, weight_decay=1e-2,
                                   weight_decay_mask={'b': False,
                                                      'layer': True}),
         converges=False),
    # --- factored and sign --------------------------------------------------
    Case('adafactor', lambda lr: gradtx.adafactor(lr),
         lambda lr: optax.adafactor(lr), lr=1e-2, steps=2000),
    Case('adafactor_factored',
         lambda lr: gradtx.adafactor(lr, min_dim_size_to_factor=2),
         lambda lr: optax.adafactor(lr, min_dim_size_to_factor=2),
         converges=False),
    Case('adafactor_momentum_decay',
         lambda lr: gradtx.adafactor(lr, min_dim_size_to_factor=3,
                                     momentum=0.9, weight_decay_rate=1e-3,
                                     multiply_by_parameter_scale=False,
                                     clipping_threshold=None),
         lambda lr: optax.adafactor(lr, min_dim_size_to_factor=3,
                                    momentum=0.9, weight_decay_rate=1e-3,
                                    multiply_by_parameter_scale=False,
                                    clipping_threshold=None),
         lr=1e-2, steps=2000),
    Case('scale_by_factored_rms_unfactored',
         lambda lr: _lr(gradtx.scale_by_factored_rms(factored=False), lr),
         lambda lr: _lr(optax.scale_by_factored_rms(factored=False), lr, optax),
         lr=1e-2, steps=2000),
    Case('sm3', lambda lr: gradtx.sm3(lr),
         lambda lr: _lr(optax.scale_by_sm3(0.9), lr, optax), lr=0.5,
         rosenbrock_lr=0.05),
    Case('scale_by_sm3_decayed',
         lambda lr: _lr(gradtx.scale_by_sm3(0.5, 0.9, 1e-6), lr),
         lambda lr: _lr(optax.scale_by_sm3(0.5, 0.9, 1e-6), lr, optax),
         lr=1e-2),
    Case('lion', lambda lr: gradtx.lion(lr), lambda lr: optax.lion(lr),
         lr=1e-2),
    Case('lion_smooth',
         lambda lr: _lr(gradtx.scale_by_lion(0.8, 0.95, mode='smooth',
                                             smooth_beta=3.0), lr),
         lambda lr: _lr(optax.scale_by_lion(0.8, 0.95, mode='smooth',
                                            smooth_beta=3.0), lr, optax),
         lr=1e-2),
]


# ---------------------------------------------------------------------------
# Helpers for the hand-derived tests (test_sgd_family, test_rms_family,
# test_factored): the same changing learning rate and gradient sequence,
# once in JAX and once in float64 NumPy.
# ---------------------------------------------------------------------------
import jax  # noqa: E402  pylint: disable=g-import-not-at-top
import jax.numpy as jnp  # noqa: E402  pylint: disable=g-import-not-at-top
import numpy as np  # noqa: E402  pylint: disable=g-import-not-at-top

STEPS = 25


def lr_jax(t):
  """A learning rate that changes every step (t counts from 0)."""
  return 0.05 * (1.0 + 0.5 * jnp.sin(0.7 * jnp.asarray(t, jnp.float32)))


def lr_np(t):
  return 0.05 * (1.0 + 0.5 * np.sin(0.7 * t))


def noise(shape, steps=STEPS, seed=0):
  """The fixed random part r_t of every gradient."""
  return np.random.default_rng(seed).normal(size=(steps,) + tuple(shape))


def grad_np(theta, r):
  """The gradient at step t: g = 0.5·θ + r_t (depends on the params)."""
  return 0.5 * theta + r


def run_jax(opt, theta0, rs, dtype=jnp.float32):
  """Runs ``opt`` on g_t = 0.5·θ + r_t; returns every θ_t as float64."""
  theta = jnp.asarray(theta0, dtype)
  state = opt.init(theta)
  step = jax.jit(opt.update)
  out = []
  for r in rs:
    g = (0.5 * theta.astype(jnp.float32) + jnp.asarray(r, jnp.float32)).astype(dtype)
    u, state = step(g, state, theta)
    theta = gradtx.apply_updates(theta, u)
    out.append(np.asarray(theta.astype(jnp.float32), np.float64))
  return out, state


def keras_path(opt, theta0, rs):
  """Runs a Keras 3 optimizer on g_t = 0.5·θ_t + r_t; returns every θ_t."""
  import keras  # pylint: disable=g-import-not-at-top
  var = keras.Variable(np.asarray(theta0, np.float32))
  out = []
  for r in rs:
    g = 0.5 * np.asarray(var.value, np.float32) + np.asarray(r, np.float32)
    opt.apply_gradients([(jnp.asarray(g), var)])
    out.append(np.asarray(var.value, np.float64))
  return out


def keras_lr():
  """:func:`lr_jax` as a Keras schedule (Keras counts iterations from 0)."""
  import keras  # pylint: disable=g-import-not-at-top

  class _Schedule(keras.optimizers.schedules.LearningRateSchedule):

    def __call__(self, step):
      return lr_jax(step)

  return _Schedule()
