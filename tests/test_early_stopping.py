"""The early-stopping monitor: hand-traced sequences, Keras, compiled loops."""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx


def run_monitor(monitor, values):
  """Scans the monitor over ``values``; returns the stacked states."""
  def body(state, v):
    state = monitor.update(state, v)
    return state, state

  _, states = jax.jit(lambda vs: jax.lax.scan(body, monitor.init(), vs))(
      jnp.asarray(values, jnp.float32))
  return states


def first_stop(flags):
  flags = np.asarray(flags)
  return int(np.argmax(flags)) if flags.any() else None


# ---------------------------------------------------------------------------
# Hand-traced.
# ---------------------------------------------------------------------------
def test_patience_zero_stops_at_the_first_non_improvement():
  states = run_monitor(gradtx.early_stopping(), [3.0, 2.0, 1.0, 1.0, 0.5])
  np.testing.assert_array_equal(states.should_stop, [0, 0, 0, 1, 1])
  np.testing.assert_array_equal(states.best_value, [3, 2, 1, 1, 1])  # frozen
  np.testing.assert_array_equal(states.best_step, [0, 1, 2, 2, 2])


def test_patience_counts_consecutive_non_improvements():
  # patience=3: the wait reaches 3 at the third value in a row without
  # improvement; an improvement in between resets it.
  values = [5.0, 4.0, 4.5, 4.2, 3.9, 4.0, 4.1, 3.95, 3.0]
  states = run_monitor(gradtx.early_stopping(patience=3), values)
  np.testing.assert_array_equal(states.wait, [0, 0, 1, 2, 0, 1, 2, 3, 3])
  assert first_stop(states.should_stop) == 7
  np.testing.assert_allclose(states.best_value[-1], 3.9)
  assert int(states.best_step[-1]) == 4


def test_min_delta_and_max_mode():
  # mode='max', min_delta=0.05: 0.82 does not beat 0.8 by more than 0.05.
  values = [0.5, 0.8, 0.82, 0.84, 0.9, 0.91]
  states = run_monitor(
      gradtx.early_stopping(patience=2, mode='max', min_delta=0.05), values)
  np.testing.assert_array_equal(states.wait, [0, 0, 1, 2, 2, 2])
  np.testing.assert_array_equal(states.should_stop, [0, 0, 0, 1, 1, 1])
  np.testing.assert_allclose(states.best_value[-1], 0.8)


def test_start_from_step_ignores_the_warmup():
  values = [1.0, 2.0, 3.0, 4.0, 3.5, 3.6]
  states = run_monitor(gradtx.early_stopping(start_from_step=3), values)
  np.testing.assert_array_equal(states.should_stop, [0, 0, 0, 0, 0, 1])
  np.testing.assert_array_equal(states.best_step[-1], 4)
  np.testing.assert_array_equal(states.step, [1, 2, 3, 4, 5, 6])


def test_baseline_keeps_the_wait_growing_until_it_is_beaten():
  # Improvements that do not beat the baseline (2.0) do not reset the wait,
  # and the stop is checked only on non-improving values.
  values = [5.0, 4.0, 3.0, 3.5, 1.0]
  states = run_monitor(gradtx.early_stopping(patience=3, baseline=2.0), values)
  np.testing.assert_array_equal(states.wait, [1, 2, 3, 4, 4])
  np.testing.assert_array_equal(states.should_stop, [0, 0, 0, 1, 1])


# ---------------------------------------------------------------------------
# Against keras.callbacks.EarlyStopping itself.
# ---------------------------------------------------------------------------
def run_keras(values, **kwargs):
  keras = pytest.importorskip('keras')
  cb = keras.callbacks.EarlyStopping(monitor='val_loss', **kwargs)
  model = types.SimpleNamespace(stop_training=False)
  cb.set_model(model)
  cb.on_train_begin()
  trace = []
  for i, v in enumerate(values):
    cb.on_epoch_end(i, {'val_loss': float(v)})
    trace.append((model.stop_training, cb.wait, cb.best))
    if model.stop_training:
      break
  return trace


def noisy_values(seed, n=120, increasing=False):
  rng = np.random.default_rng(seed)
  v = 10.0 * np.exp(np.cumsum(-0.01 + 0.03 * rng.standard_normal(n)))
  v = v.astype(np.float32)
  return 1.0 / v if increasing else v


KERAS_CONFIGS = {
    'p0': dict(mode='min'),
    'p4': dict(mode='min', patience=4),
    'p6_delta': dict(mode='min', patience=6, min_delta=0.02),
    'max_p5': dict(mode='max', patience=5),
    'baseline': dict(mode='min', patience=8, baseline=9.0),
    'start': dict(mode='min', patience=3, start_from_epoch=10),
}


@pytest.mark.parametrize('name', list(KERAS_CONFIGS))
def test_matches_keras_early_stopping(name):
  kwargs = dict(KERAS_CONFIGS[name])
  values = noisy_values(sum(map(ord, name)), increasing=kwargs['mode'] == 'max')
  trace = run_keras(values, **kwargs)
  ours_kwargs = dict(kwargs)
  ours_kwargs['start_from_step'] = ours_kwargs.pop('start_from_epoch', 0)
  states = run_monitor(gradtx.early_stopping(**ours_kwargs), values)
  stopped_keras = len(trace) - 1 if trace[-1][0] else None
  assert stopped_keras is not None, 'the script must trigger a stop'
  assert first_stop(states.should_stop) == stopped_keras
  for i, (_, wait, best) in enumerate(trace):
    assert int(states.wait[i]) == wait, i
    if best is not None:
      np.testing.assert_allclose(states.best_value[i], best, rtol=1e-7)


# ---------------------------------------------------------------------------
# Compiled loops.
# ---------------------------------------------------------------------------
def test_stops_a_while_loop_training_run():
  monitor = gradtx.early_stopping(patience=5, min_delta=1e-3)
  opt = gradtx.adam(0.5)
  target = jnp.array([1.0, -1.0])
  loss = lambda p: jnp.sum((p - target) ** 2)

  def cond(carry):
    _, _, es, i = carry
    return jnp.logical_not(es.should_stop) & (i < 10_000)

  def body(carry):
    params, state, es, i = carry
    value, grads = jax.value_and_grad(loss)(params)
    updates, state = opt.update(grads, state)
    return gradtx.apply_updates(params, updates), state, monitor.update(es, value), i + 1

  params = jnp.zeros(2)
  carry = (params, opt.init(params), monitor.init(), jnp.int32(0))
  params, _, es, steps = jax.jit(lambda c: jax.lax.while_loop(cond, body, c))(carry)
  assert bool(es.should_stop)
  assert 6 <= int(steps) < 10_000
  assert int(es.step) == int(steps)
  assert int(es.step) - int(es.best_step) - 1 == 5  # exactly `patience` misses
  assert float(es.best_value) < 1e-2


def test_jit_does_not_recompile_and_state_dtypes_are_stable():
  monitor = gradtx.early_stopping(patience=2)
  update = jax.jit(monitor.update)
  s0 = monitor.init()
  s = update(s0, jnp.float32(1.0))
  s = update(s, jnp.float32(2.0))
  s = update(s, jnp.float32(3.0))
  assert update._cache_size() == 1  # pylint: disable=protected-access
  assert bool(s.should_stop)
  dtypes = lambda t: jax.tree.map(lambda x: x.dtype, t)
  assert dtypes(s) == dtypes(s0)
  assert dtypes(update(s0, jnp.bfloat16(3.0))) == dtypes(s0)
  assert dtypes(update(s0, 3)) == dtypes(s0)


def test_vmap_over_independent_runs():
  monitor = gradtx.early_stopping(patience=1)
  values = jnp.array([[3.0, 2.0, 2.5], [3.0, 2.0, 1.0]])
  init = jax.vmap(lambda _: monitor.init())(jnp.arange(2))

  def run(state, vs):
    return jax.lax.scan(lambda s, v: (monitor.update(s, v), None), state, vs)[0]

  final = jax.vmap(run)(init, values)
  np.testing.assert_array_equal(final.should_stop, [True, False])


# ---------------------------------------------------------------------------
# Bad input.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('kwargs,arg', [
    (dict(patience=-1), 'patience'),
    (dict(patience=1.5), 'patience'),
    (dict(mode='auto'), 'mode'),
    (dict(min_delta=-0.1), 'min_delta'),
    (dict(start_from_step=-2), 'start_from_step'),
    (dict(baseline='low'), 'baseline'),
])
def test_bad_arguments_raise(kwargs, arg):
  with pytest.raises(ValueError, match=arg):
    gradtx.early_stopping(**kwargs)
