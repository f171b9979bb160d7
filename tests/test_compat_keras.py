"""gradtx.compat.keras against Keras 3 (JAX backend) executed here.

Each optimizer × option runs 200 steps in Keras (``optimizer.apply`` on
``keras.Variable``s, float32) and in gradtx on the same problem
(``tests/compat_runner.py``), with a Keras learning-rate schedule that changes
every step and its gradtx counterpart; the trajectories must agree to 1e-5
relative at every step.
"""

import os

os.environ.setdefault('KERAS_BACKEND', 'jax')

import inspect  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gradtx  # noqa: E402
from gradtx.compat import keras as kc  # noqa: E402
from tests.compat_runner import (assert_paths_close, grad_np, problem,  # noqa: E402
                                 run_gradtx)

NAMES = [('layer', 'bias'), ('layer', 'weight')]


def _keras_path(opt, theta0, coef, noise, sign=1.0, exclude=None):
  """Keras' trajectory: ``stateless_apply`` under one jitted ``lax.scan``."""
  vs = {n: keras.Variable(theta0[n[0]][n[1]], name=n[1]) for n in NAMES}
  if exclude:
    opt.exclude_from_weight_decay(var_names=exclude)
  variables = [vs[n] for n in NAMES]
  opt.build(variables)
  cs = [jnp.asarray(coef[a][b]) for a, b in NAMES]

  @jax.jit
  def run(opt_vars, train, noise):
    def body(carry, r):
      opt_vars, train = carry
      grads = [(sign * (c * (w - 0.5) + r_)).astype(jnp.float32)
               for w, c, r_ in zip(train, cs, r)]
      train, opt_vars = opt.stateless_apply(opt_vars, grads, train)
      return (opt_vars, train), train
    return jax.lax.scan(body, (opt_vars, train), noise)[1]

  path = run([v.value for v in opt.variables], [v.value for v in variables],
             [jnp.asarray(noise[a][b]) for a, b in NAMES])
  return {'layer': {b: np.asarray(p) for (_, b), p in zip(NAMES, path)}}


def _schedules(kind, lr):
  sch = keras.optimizers.schedules
  if kind == 'exp':
    return sch.ExponentialDecay(lr, 10, 0.8), gradtx.exponential_decay(lr, 10, 0.8)
  if kind == 'cosine':
    return (sch.CosineDecay(lr / 10, 150, 0.1, warmup_target=lr, warmup_steps=20),
            gradtx.schedules.cosine_decay(lr / 10, 150, 0.1, warmup_target=lr,
                                          warmup_steps=20))
  assert kind == 'restarts'
  return (sch.CosineDecayRestarts(lr, 30, 1.5, 0.8, 0.05),
          gradtx.schedules.cosine_decay_restarts(lr, 30, 1.5, 0.8, 0.05))


BASE_LR = {'SGD': 0.05, 'Adam': 0.02, 'AdamW': 0.02, 'Adamax': 0.02,
           'Nadam': 0.02, 'RMSprop': 0.01, 'Adagrad': 0.1, 'Adadelta': 1.0,
           'Lion': 0.005, 'Lamb': 0.01, 'Adafactor': 0.05, 'Ftrl': 0.1}

CONFIGS = [
    ('SGD', {'momentum': 0.9}, 'cosine'),
    ('SGD', {'momentum': 0.9, 'nesterov': True, 'weight_decay': 0.1}, 'restarts'),
    ('Adam', {'amsgrad': True, 'clipnorm': 0.5}, 'exp'),
    ('Adam', {'weight_decay': 0.05, 'global_clipnorm': 1.0}, 'restarts'),
    ('AdamW', {'exclude_from_weight_decay': ['bias']}, 'cosine'),
    ('AdamW', {'clipvalue': 0.4, 'use_ema': True, 'ema_overwrite_frequency': 7},
     'exp'),
    ('Adamax', {}, 'restarts'),
    ('Nadam', {'weight_decay': 0.1}, 'cosine'),
    ('RMSprop', {}, 'exp'),
    ('RMSprop', {'momentum': 0.9, 'centered': True}, 'restarts'),
    ('Adagrad', {}, 'cosine'),
    ('Adadelta', {'weight_decay': 0.05}, 'exp'),
    ('Lion', {'weight_decay': 0.1, 'loss_scale_factor': 128.0}, 'restarts'),
    ('Lamb', {'weight_decay': 0.1}, 'cosine'),
    ('Adafactor', {}, 'exp'),
    ('Adafactor', {'weight_decay': 0.05, 'clip_threshold': 0.5}, 'restarts'),
    ('Ftrl', {'l1_regularization_strength': 0.01, 'l2_regularization_strength': 0.1,
              'l2_shrinkage_regularization_strength': 0.05, 'beta': 0.1}, 'cosine'),
    ('SGD', {'momentum': 0.9, 'gradient_accumulation_steps': 3}, 'exp'),
    ('Adam', {'gradient_accumulation_steps': 4, 'use_ema': True}, 'cosine'),
]


def _ids(c):
  return f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[1].items()) or 'defaults'}-{c[2]}"


@pytest.mark.parametrize('name,options,kind', CONFIGS, ids=[_ids(c) for c in CONFIGS])
def test_optimizer_matches_keras(name, options, kind):
  lr = BASE_LR[name]
  theta0, coef, noise = problem(seed=len(name) + 3 * len(options))
  theta0 = jax.tree.map(np.abs, theta0) if name == 'Ftrl' else theta0
  k_sched, g_sched = _schedules(kind, lr)
  k_options = {k: v for k, v in options.items() if k != 'exclude_from_weight_decay'}
  ref = _keras_path(getattr(keras.optimizers, name)(learning_rate=k_sched, **k_options),
                    theta0, coef, noise, exclude=options.get('exclude_from_weight_decay'))
  tx = getattr(kc.optimizers, name)(learning_rate=g_sched, **options)
  path, _ = run_gradtx(tx, theta0, coef, noise)
  assert_paths_close(path, ref)


def test_defaults_match_keras():
  for name in BASE_LR:
    ours = inspect.signature(getattr(kc.optimizers, name)).parameters
    theirs = inspect.signature(getattr(keras.optimizers, name)).parameters
    for arg, p in ours.items():
      if arg == 'exclude_from_weight_decay':
        continue
      assert arg in theirs, (name, arg)
      assert p.default == theirs[arg].default, (name, arg, p.default, theirs[arg].default)


def test_ema_average_matches_keras():
  theta0, coef, noise = problem(seed=11, steps=40)
  opt = keras.optimizers.SGD(0.05, momentum=0.5, use_ema=True, ema_momentum=0.9)
  vs = [keras.Variable(theta0[a][b]) for a, b in NAMES]
  for t in range(40):
    opt.apply([grad_np(np.asarray(v.value), coef[a][b], noise[a][b][t])
               for v, (a, b) in zip(vs, NAMES)], vs)
  _, state = run_gradtx(kc.optimizers.SGD(0.05, momentum=0.5, use_ema=True,
                                          ema_momentum=0.9), theta0, coef, noise)
  avg = state.model_variables_moving_average
  for v, (a, b) in zip(opt._model_variables_moving_average, NAMES):  # pylint: disable=protected-access
    np.testing.assert_allclose(avg[a][b], np.asarray(v.value), rtol=1e-5, atol=1e-6)


def test_bfloat16_params_stay_bfloat16():
  theta0, coef, noise = problem(seed=12, steps=30)
  tx = kc.optimizers.Adam(0.02, weight_decay=0.01)
  p32, _ = run_gradtx(tx, theta0, coef, noise)
  p16, state = run_gradtx(tx, theta0, coef, noise, dtype=jnp.bfloat16)
  assert all(x.dtype == jnp.bfloat16 for x in jax.tree.leaves(p16))
  assert all(x.dtype == jnp.bfloat16 for x in jax.tree.leaves(state.slots.momentums))
  for a, b in zip(jax.tree.leaves(p16), jax.tree.leaves(p32)):
    np.testing.assert_allclose(np.asarray(a, np.float32)[-1], b[-1], atol=0.1)


@pytest.mark.parametrize('make,match', [
    (lambda: kc.optimizers.SGD(clipnorm=1.0, clipvalue=1.0), 'Only one'),
    (lambda: kc.optimizers.Adam(beta_1=1.0), 'beta_1'),
    (lambda: kc.optimizers.Adam(gradient_accumulation_steps=1),
     'gradient_accumulation_steps'),
    (lambda: kc.optimizers.Adam(use_ema=True, ema_momentum=1.5), 'ema_momentum'),
    (lambda: kc.optimizers.Lion(beta_1=0.0), 'beta_1'),
    (lambda: kc.optimizers.SGD(learning_rate=-1.0), 'learning_rate'),
    (lambda: kc.optimizers.Ftrl(learning_rate_power=0.5), 'learning_rate_power'),
])
def test_invalid_arguments_name_themselves(make, match):
  with pytest.raises(ValueError, match=match):
    make()
