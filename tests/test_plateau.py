"""Plateau reduction against PyTorch, Keras and Optax, step for step."""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx


# ---------------------------------------------------------------------------
# Scripted monitored values.
# ---------------------------------------------------------------------------
def scripted_values(seed, n=240, increasing=False):
  """Decreasing runs, exact plateaus, noise and sub-threshold improvements.

  Values are float32-representable so that every framework sees the same
  numbers.
  """
  rng = np.random.default_rng(seed)
  v, out = 10.0, []
  while len(out) < n:
    kind = rng.integers(5)
    length = int(rng.integers(1, 9))
    for _ in range(length):
      if kind == 0:    # clear improvement
        v = v * 0.9
      elif kind == 1:  # exact plateau
        pass
      elif kind == 2:  # worse
        v = v * 1.05
      elif kind == 3:  # tiny improvement: below a 1e-4 relative threshold
        v = v * (1 - 3e-5)
      else:            # noise around the level
        v = v * (1 + 0.02 * rng.standard_normal())
      out.append(v)
  out = np.asarray(out[:n], np.float32)
  return (1.0 / out) if increasing else out


def _seed(name):
  return sum(map(ord, name))  # stable across processes, unlike hash()


def run_ours(tx, values, base_lr=1.0, jit=True):
  """Returns the learning rate after each value, and the final state."""
  state = tx.init({'w': jnp.zeros(3)})
  grads = {'w': jnp.ones(3)}

  def body(state, v):
    u, state = tx.update(grads, state, value=v)
    return state, (base_lr * u['w'][0], state)

  if jit:
    state, (lrs, states) = jax.jit(
        lambda s, vs: jax.lax.scan(body, s, vs))(state, jnp.asarray(values))
  else:
    lrs, states = [], []
    for v in values:
      state, (lr, s) = body(state, v)
      lrs.append(lr)
      states.append(s)
    lrs = jnp.stack(lrs)
    states = jax.tree.map(lambda *xs: jnp.stack(xs), *states)
  return np.asarray(lrs), states


# ---------------------------------------------------------------------------
# PyTorch.
# ---------------------------------------------------------------------------
def run_torch(values, lr=1.0, **kwargs):
  torch = pytest.importorskip('torch')
  opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
  sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
  lrs = []
  for v in values:
    sched.step(float(v))
    lrs.append(opt.param_groups[0]['lr'])
  return np.asarray(lrs)


TORCH_CONFIGS = {
    'min_rel_p3': dict(mode='min', factor=0.5, patience=3),
    'min_abs_p0': dict(mode='min', factor=0.5, patience=0, threshold=0.05,
                       threshold_mode='abs'),
    'min_rel_p3_cooldown2': dict(mode='min', factor=0.7, patience=3, cooldown=2),
    'max_rel_p3_cooldown1': dict(mode='max', factor=0.5, patience=3, cooldown=1),
    'max_abs_p0_cooldown3': dict(mode='max', factor=0.8, patience=0,
                                 threshold=1e-3, threshold_mode='abs', cooldown=3),
    'min_rel_p0': dict(mode='min', factor=0.9, patience=0),
    'default': dict(),
}


@pytest.mark.parametrize('name', list(TORCH_CONFIGS))
def test_matches_torch_step_for_step(name):
  kwargs = TORCH_CONFIGS[name]
  increasing = kwargs.get('mode') == 'max'
  values = scripted_values(_seed(name), increasing=increasing)
  expected = run_torch(values, **kwargs)
  ours, _ = run_ours(gradtx.torch_reduce_on_plateau(**kwargs), values)
  assert len(set(expected.tolist())) >= 3, 'the script must trigger reductions'
  np.testing.assert_allclose(ours, expected, rtol=1e-5)


def test_torch_min_lr_floor_and_eps_with_a_base_learning_rate():
  values = scripted_values(7)
  base_lr, min_lr = 0.5, 0.01
  expected = run_torch(values, lr=base_lr, factor=0.3, patience=2, min_lr=min_lr)
  assert expected[-1] == min_lr, 'the floor must be reached'
  tx = gradtx.torch_reduce_on_plateau(
      factor=0.3, patience=2, min_scale=min_lr / base_lr, eps=1e-8 / base_lr)
  ours, _ = run_ours(tx, values, base_lr=base_lr)
  np.testing.assert_allclose(ours, expected, rtol=1e-5)


def test_torch_eps_rule_skips_small_reductions():
  values = scripted_values(11)
  expected = run_torch(values, factor=0.5, patience=1, eps=0.05)
  # Reductions stop once lr − lr·factor ≤ eps, i.e. at lr = 0.0625.
  assert expected.min() == 0.0625
  ours, _ = run_ours(gradtx.torch_reduce_on_plateau(
      factor=0.5, patience=1, eps=0.05), values)
  np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_torch_with_accumulation_matches_torch_on_means():
  values = scripted_values(3, n=240)
  means = values.reshape(-1, 4).astype(np.float64).mean(axis=1)
  expected = run_torch(means, factor=0.5, patience=2)
  ours, _ = run_ours(gradtx.torch_reduce_on_plateau(
      factor=0.5, patience=2, accumulation_size=4), values)
  # The scale changes only on every 4th value.
  np.testing.assert_allclose(ours[3::4], expected, rtol=1e-5)
  np.testing.assert_allclose(ours[::4][1:], expected[:-1], rtol=1e-5)


def test_torch_rule_hand_traced():
  # mode=min rel 0.1, patience=1, cooldown=1, factor=0.5.
  values = [10.0, 9.5, 9.5, 9.5, 9.5, 9.5, 9.5, 8.0]
  # best=10; 9.5 is not < 9.0 → bad 1; bad 2 > 1 → reduce (0.5), cooldown 1;
  # cooldown step: bad reset; bad 1; bad 2 → reduce (0.25); cooldown; 8 < 9.
  expected = [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
  ours, states = run_ours(gradtx.torch_reduce_on_plateau(
      factor=0.5, patience=1, threshold=0.1, cooldown=1), values)
  np.testing.assert_allclose(ours, expected)
  np.testing.assert_array_equal(states.best_value, [10] * 7 + [8])


# ---------------------------------------------------------------------------
# Keras.
# ---------------------------------------------------------------------------
def run_keras(values, lr=1.0, **kwargs):
  keras = pytest.importorskip('keras')
  opt = keras.optimizers.SGD(learning_rate=lr)
  cb = keras.callbacks.ReduceLROnPlateau(monitor='val_loss', **kwargs)
  cb.set_model(types.SimpleNamespace(optimizer=opt))
  cb.on_train_begin()
  lrs = []
  for i, v in enumerate(values):
    cb.on_epoch_end(i, {'val_loss': float(v)})
    lrs.append(float(np.asarray(opt.learning_rate)))
  return np.asarray(lrs)


KERAS_CONFIGS = {
    'min_p3_cooldown2': dict(mode='min', factor=0.5, patience=3, cooldown=2,
                             min_delta=0.05),
    'min_p0': dict(mode='min', factor=0.8, patience=0, min_delta=1e-3),
    'max_p2_cooldown1': dict(mode='max', factor=0.5, patience=2, cooldown=1,
                             min_delta=1e-3),
    'max_p0_cooldown3': dict(mode='max', factor=0.7, patience=0, cooldown=3,
                             min_delta=0.0),
    'default': dict(mode='min'),
}


@pytest.mark.parametrize('name', list(KERAS_CONFIGS))
def test_matches_keras_callback_step_for_step(name):
  kwargs = KERAS_CONFIGS[name]
  values = scripted_values(_seed(name), increasing=kwargs['mode'] == 'max')
  expected = run_keras(values, **kwargs)
  ours, _ = run_ours(gradtx.keras_reduce_on_plateau(**kwargs), values)
  assert len(set(expected.tolist())) >= 3, 'the script must trigger reductions'
  np.testing.assert_allclose(ours, expected, rtol=1e-5)


def test_keras_min_lr_floor():
  values = scripted_values(5)
  base_lr, min_lr = 0.2, 0.005
  expected = run_keras(values, lr=base_lr, mode='min', factor=0.3, patience=2,
                       min_lr=min_lr)
  assert abs(expected[-1] - min_lr) < 1e-9, 'the floor must be reached'
  ours, _ = run_ours(gradtx.keras_reduce_on_plateau(
      factor=0.3, patience=2, min_scale=min_lr / base_lr), values, base_lr=base_lr)
  np.testing.assert_allclose(ours, expected, rtol=1e-5)


def test_keras_rule_hand_traced():
  # patience=2, cooldown=2, min_delta=0.5, factor=0.5 (min mode).
  values = [5.0, 4.8, 4.7, 4.6, 4.9, 4.8, 4.7, 4.6, 3.0]
  # 5 first; 4.8+0.5 ≮ 5 → wait 1; wait 2 → reduce, cooldown 2;
  # 4.6: cooldown→1, wait 0, still in cooldown: not counted;
  # 4.9: cooldown→0, wait 0 then counted → 1; 4.8 → wait 2 → reduce;
  # 4.7: cooldown→1; 4.6: cooldown→0, wait 1; 3.0 + 0.5 < 5 → improved.
  expected = [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]
  ours, states = run_ours(gradtx.keras_reduce_on_plateau(
      factor=0.5, patience=2, cooldown=2, min_delta=0.5), values)
  np.testing.assert_allclose(ours, expected)
  np.testing.assert_array_equal(states.plateau_count, [0, 1, 0, 0, 1, 0, 0, 1, 0])
  np.testing.assert_allclose(run_keras(values, mode='min', factor=0.5,
                                       patience=2, cooldown=2, min_delta=0.5),
                             expected)


def test_keras_and_torch_differ_as_documented():
  values = [5.0, 5.0, 5.0, 5.0]
  keras_like, _ = run_ours(gradtx.keras_reduce_on_plateau(
      factor=0.5, patience=2, min_delta=0.0), values)
  torch_like, _ = run_ours(gradtx.torch_reduce_on_plateau(
      factor=0.5, patience=2, threshold=0.0), values)
  np.testing.assert_allclose(keras_like, [1, 1, 0.5, 0.5])  # wait ≥ patience
  np.testing.assert_allclose(torch_like, [1, 1, 1, 0.5])    # bad > patience


# ---------------------------------------------------------------------------
# Optax.
# ---------------------------------------------------------------------------
OPTAX_CONFIGS = {
    'p3': dict(factor=0.5, patience=3),
    'p0': dict(factor=0.5, patience=0, rtol=0.0, atol=0.01),
    'cooldown_atol': dict(factor=0.7, patience=2, cooldown=3, atol=0.05),
    'accumulate_min_scale': dict(factor=0.5, patience=1, accumulation_size=3,
                                 min_scale=0.05),
    'default': dict(),
}


@pytest.mark.parametrize('name', list(OPTAX_CONFIGS))
def test_matches_optax_state_for_state(name):
  optax = pytest.importorskip('optax')
  kwargs = OPTAX_CONFIGS[name]
  values = scripted_values(_seed(name))
  theirs_tx = optax.contrib.reduce_on_plateau(**kwargs)

  def body(state, v):
    _, state = theirs_tx.update({'w': jnp.ones(3)}, state, value=v)
    return state, state

  _, expected = jax.jit(lambda vs: jax.lax.scan(
      body, theirs_tx.init({'w': jnp.zeros(3)}), vs))(jnp.asarray(values))
  _, ours = run_ours(gradtx.reduce_on_plateau(**kwargs), values)
  assert len(set(np.asarray(expected.scale).tolist())) >= 3
  for field in ours._fields:
    np.testing.assert_allclose(
        getattr(ours, field), getattr(expected, field), rtol=1e-6,
        err_msg=field)


def test_optax_rule_hand_traced():
  # patience=2: reduce when the plateau count reaches 2 (PyTorch would wait 3).
  values = [3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0]
  ours, states = run_ours(gradtx.reduce_on_plateau(factor=0.5, patience=2), values)
  np.testing.assert_allclose(ours, [1, 1, 1, 0.5, 0.5, 0.25, 0.25])
  np.testing.assert_array_equal(states.plateau_count, [0, 0, 1, 0, 1, 0, 0])


# ---------------------------------------------------------------------------
# Use in an optimizer.
# ---------------------------------------------------------------------------
def test_in_a_chain_the_value_reaches_the_plateau_and_scales_adam():
  opt = gradtx.chain(gradtx.adam(0.1),
                     gradtx.reduce_on_plateau(factor=0.5, patience=1, atol=1.0))
  plain = gradtx.adam(0.1)
  params = jnp.array([1.0, -2.0])
  s, p = opt.init(params), plain.init(params)
  step = jax.jit(opt.update)
  for i in range(6):
    g = jnp.array([0.3, -0.1]) * (i + 1)
    u, s = step(g, s, params, value=jnp.float32(5.0))  # never improves by 1
    v, p = plain.update(g, p)
    # The first value improves on +inf; then each step reaches patience 1.
    np.testing.assert_allclose(u, v * 0.5 ** i, rtol=1e-6)
  assert step._cache_size() == 1  # pylint: disable=protected-access
  np.testing.assert_allclose(gradtx.plateau_scale(s), 0.5 ** 5)


def test_low_precision_updates_keep_their_dtype_and_state_is_stable():
  tx = gradtx.torch_reduce_on_plateau(factor=0.5, patience=0)
  params = {'a': jnp.zeros(2, jnp.bfloat16), 'b': jnp.zeros(2, jnp.float16)}
  s0 = tx.init(params)
  s = s0
  for v in [3.0, 3.0, 3.0]:
    u, s = jax.jit(tx.update)(jax.tree.map(jnp.ones_like, params), s,
                              value=jnp.bfloat16(v))
  assert u['a'].dtype == jnp.bfloat16 and u['b'].dtype == jnp.float16
  np.testing.assert_allclose(u['a'].astype(jnp.float32), [0.25, 0.25])
  assert jax.tree.map(lambda x: x.dtype, s) == jax.tree.map(lambda x: x.dtype, s0)
  assert s.best_value.dtype == jnp.float32


def test_eager_equals_jit():
  values = scripted_values(1, n=40)
  tx = gradtx.keras_reduce_on_plateau(factor=0.5, patience=1, cooldown=1)
  a, _ = run_ours(tx, values, jit=True)
  b, _ = run_ours(tx, values, jit=False)
  np.testing.assert_array_equal(a, b)


def test_missing_value_is_a_clear_error():
  tx = gradtx.reduce_on_plateau()
  with pytest.raises(TypeError, match='value='):
    tx.update(jnp.ones(2), tx.init(jnp.zeros(2)))


# ---------------------------------------------------------------------------
# Bad input.
# ---------------------------------------------------------------------------
FACTORIES = [gradtx.reduce_on_plateau, gradtx.torch_reduce_on_plateau,
             gradtx.keras_reduce_on_plateau]


@pytest.mark.parametrize('factory', FACTORIES)
@pytest.mark.parametrize('factor', [1.0, 1.5, 0.0, -0.1])
def test_factor_outside_open_unit_interval_raises(factory, factor):
  with pytest.raises(ValueError, match='factor'):
    factory(factor=factor)


@pytest.mark.parametrize('factory', FACTORIES)
@pytest.mark.parametrize('arg,value', [
    ('patience', -1), ('patience', 2.5), ('cooldown', -1),
    ('accumulation_size', 0), ('min_scale', -0.1)])
def test_bad_counts_and_floor_raise(factory, arg, value):
  with pytest.raises(ValueError, match=arg):
    factory(**{arg: value})


@pytest.mark.parametrize('factory,kwargs,arg', [
    (gradtx.reduce_on_plateau, dict(rtol=-1e-3), 'rtol'),
    (gradtx.reduce_on_plateau, dict(rtol=1.5), 'rtol'),
    (gradtx.reduce_on_plateau, dict(atol=-1.0), 'atol'),
    (gradtx.reduce_on_plateau, dict(rtol=0.0, atol=0.0), 'rtol'),
    (gradtx.torch_reduce_on_plateau, dict(mode='auto'), 'mode'),
    (gradtx.torch_reduce_on_plateau, dict(threshold_mode='relative'),
     'threshold_mode'),
    (gradtx.torch_reduce_on_plateau, dict(threshold=-1e-4), 'threshold'),
    (gradtx.torch_reduce_on_plateau, dict(eps=-1.0), 'eps'),
    (gradtx.keras_reduce_on_plateau, dict(mode='auto'), 'mode'),
    (gradtx.keras_reduce_on_plateau, dict(min_delta=-1.0), 'min_delta'),
])
def test_other_bad_arguments_raise(factory, kwargs, arg):
  with pytest.raises(ValueError, match=arg):
    factory(**kwargs)
