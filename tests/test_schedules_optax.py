"""Optax 0.2.8 as the oracle for the Optax-named schedules (same signatures)."""

import inspect

import jax
import jax.numpy as jnp

import numpy as np
import pytest

optax = pytest.importorskip('optax')

import gradtx  # noqa: E402
from gradtx import schedules  # noqa: E402

N = 1200

CASES = [
    ('constant_schedule', dict(value=0.3)),
    ('polynomial_schedule', dict(init_value=1.0, end_value=0.01, power=2,
                                 transition_steps=800, transition_begin=50)),
    ('polynomial_schedule', dict(init_value=0.5, end_value=0.0, power=0.5,
                                 transition_steps=1000)),
    ('linear_schedule', dict(init_value=0.0, end_value=1.0,
                             transition_steps=300, transition_begin=7)),
    ('linear_schedule', dict(init_value=1.0, end_value=2.0, transition_steps=0)),
    ('piecewise_constant_schedule', dict(init_value=1.0, boundaries_and_scales={
        100: 0.5, 300: 0.1, 700: 2.0})),
    ('piecewise_interpolate_schedule', dict(
        interpolate_type='linear', init_value=1.0,
        boundaries_and_scales={100: 0.5, 300: 0.1, 900: 3.0})),
    ('piecewise_interpolate_schedule', dict(
        interpolate_type='cosine', init_value=2.0,
        boundaries_and_scales={200: 0.5, 201: 0.1, 1000: 0.01})),
    ('exponential_decay', dict(init_value=1.0, transition_steps=100,
                               decay_rate=0.5)),
    ('exponential_decay', dict(init_value=1.0, transition_steps=75,
                               decay_rate=0.9, transition_begin=40,
                               staircase=True, end_value=0.3)),
    ('exponential_decay', dict(init_value=0.1, transition_steps=200,
                               decay_rate=1.5, end_value=0.25)),
    ('cosine_decay_schedule', dict(init_value=1.0, decay_steps=1000)),
    ('cosine_decay_schedule', dict(init_value=0.5, decay_steps=700, alpha=0.1,
                                   exponent=2.0)),
    ('warmup_cosine_decay_schedule', dict(init_value=0.0, peak_value=1.0,
                                          warmup_steps=100, decay_steps=1000,
                                          end_value=0.01)),
    ('warmup_cosine_decay_schedule', dict(init_value=0.1, peak_value=0.5,
                                          warmup_steps=0, decay_steps=900,
                                          exponent=0.5)),
    ('warmup_constant_schedule', dict(init_value=0.0, peak_value=1.0,
                                      warmup_steps=250)),
    ('warmup_exponential_decay_schedule', dict(
        init_value=0.0, peak_value=1.0, warmup_steps=100, transition_steps=50,
        decay_rate=0.8, transition_begin=20, staircase=True, end_value=0.05)),
    ('sgdr_schedule', dict(cosine_kwargs=[
        dict(init_value=0.0, peak_value=1.0, warmup_steps=20, decay_steps=300),
        dict(init_value=0.0, peak_value=0.5, warmup_steps=10, decay_steps=400,
             end_value=0.1),
        dict(init_value=0.1, peak_value=0.3, warmup_steps=0, decay_steps=200)])),
    ('join_schedules', None),
    ('cosine_onecycle_schedule', dict(transition_steps=1000, peak_value=1.0)),
    ('cosine_onecycle_schedule', dict(transition_steps=777, peak_value=0.5,
                                      pct_start=0.2, div_factor=10.0,
                                      final_div_factor=100.0)),
    ('linear_onecycle_schedule', dict(transition_steps=1000, peak_value=1.0)),
    ('linear_onecycle_schedule', dict(transition_steps=600, peak_value=2.0,
                                      pct_start=0.1, pct_final=0.7)),
]


def _build(module, name, kwargs):
  if name == 'join_schedules':
    return module.join_schedules(
        [module.linear_schedule(0.0, 1.0, 100),
         module.cosine_decay_schedule(1.0, 500),
         module.constant_schedule(0.2)], [100, 600])
  return getattr(module, name)(**kwargs)


@pytest.mark.parametrize('name,kwargs', CASES)
def test_matches_optax(name, kwargs):
  ours = _build(gradtx, name, kwargs)
  theirs = _build(optax, name, kwargs)
  steps = np.arange(N)
  ref = np.asarray([float(theirs(int(t))) for t in steps[::37]])
  np.testing.assert_allclose(
      np.asarray([float(ours(int(t))) for t in steps[::37]]), ref,
      rtol=1e-6, atol=1e-9)
  ref_all = schedules.evaluate_schedule(theirs, N)
  got_all = schedules.evaluate_schedule(ours, N)
  # Under jit, Optax's polynomial_schedule with a fractional power returns NaN
  # past the end (1 - T * (1/T) is a tiny negative number); gradtx clips it.
  finite = np.isfinite(ref_all)
  assert np.all(np.isfinite(got_all))
  np.testing.assert_allclose(got_all[finite], ref_all[finite], rtol=1e-6,
                             atol=1e-9)


@pytest.mark.parametrize('name', sorted({c[0] for c in CASES}))
def test_same_signature_as_optax(name):
  ours = inspect.signature(getattr(gradtx, name))
  theirs = inspect.signature(getattr(optax, name))
  assert list(ours.parameters) == list(theirs.parameters)
  for p in theirs.parameters.values():
    assert ours.parameters[p.name].default == p.default, p.name


@pytest.mark.parametrize('fn,kwargs,arg', [
    (gradtx.exponential_decay, dict(init_value=1.0, transition_steps=0,
                                    decay_rate=0.5), 'transition_steps'),
    (gradtx.exponential_decay, dict(init_value=1.0, transition_steps=10,
                                    decay_rate=-0.5), 'decay_rate'),
    (gradtx.exponential_decay, dict(init_value=1.0, transition_steps=10,
                                    decay_rate=0.5, end_value=2.0),
     'end_value'),
    (gradtx.cosine_decay_schedule, dict(init_value=1.0, decay_steps=0),
     'decay_steps'),
    (gradtx.warmup_cosine_decay_schedule, dict(
        init_value=0.0, peak_value=1.0, warmup_steps=200, decay_steps=100),
     'warmup_steps'),
    (gradtx.warmup_cosine_decay_schedule, dict(
        init_value=0.0, peak_value=1.0, warmup_steps=10, decay_steps=100,
        end_value=2.0), 'end_value'),
    (gradtx.warmup_exponential_decay_schedule, dict(
        init_value=0.0, peak_value=1.0, warmup_steps=10, transition_steps=-1,
        decay_rate=0.5), 'transition_steps'),
    (gradtx.polynomial_schedule, dict(init_value=1.0, end_value=0.0, power=1,
                                      transition_steps=-5), 'transition_steps'),
    (gradtx.piecewise_constant_schedule, dict(
        init_value=1.0, boundaries_and_scales={10: -0.5}),
     'boundaries_and_scales'),
    (gradtx.piecewise_interpolate_schedule, dict(
        interpolate_type='cubic', init_value=1.0), 'interpolate_type'),
    (gradtx.join_schedules, dict(schedules=[abs, abs], boundaries=[1, 2]),
     'boundaries'),
    (gradtx.join_schedules, dict(schedules=[abs, abs, abs],
                                 boundaries=[20, 10]), 'boundaries'),
    (gradtx.linear_onecycle_schedule, dict(transition_steps=0,
                                           peak_value=1.0), 'transition_steps'),
    # Optax silently returns a constant / accepts these (issue 8).
    (gradtx.exponential_decay, dict(init_value=1.0, transition_steps=10,
                                    decay_rate=0.0), 'decay_rate'),
    (gradtx.exponential_decay, dict(init_value=1.0, transition_steps=10,
                                    decay_rate=jnp.array(0.0)), 'decay_rate'),
    (gradtx.warmup_exponential_decay_schedule, dict(
        init_value=0.0, peak_value=1.0, warmup_steps=10, transition_steps=5,
        decay_rate=0.0), 'decay_rate'),
    (gradtx.piecewise_constant_schedule, dict(
        init_value=1.0, boundaries_and_scales={-5: 0.5, 10: 0.1}),
     'boundaries_and_scales'),
    (gradtx.piecewise_interpolate_schedule, dict(
        interpolate_type='linear', init_value=1.0,
        boundaries_and_scales={-1: 0.5}), 'boundaries_and_scales'),
])
def test_bad_input(fn, kwargs, arg):
  with pytest.raises(ValueError, match=arg):
    fn(**kwargs)


def test_linear_schedule_reaches_end_value_exactly_under_jit():
  f = jax.jit(gradtx.linear_schedule(1.0, 0.0, transition_steps=100))
  assert float(f(jnp.int32(100))) == 0.0
  assert float(f(jnp.int32(99))) == pytest.approx(0.01, rel=1e-5)



def test_optax_turns_these_mistakes_into_silent_results():
  """Why gradtx raises above: Optax's results are quietly not what was asked."""
  optax = pytest.importorskip('optax')
  assert float(optax.exponential_decay(1.0, 10, 0.0)(50)) == 1.0  # no decay
  assert float(optax.piecewise_constant_schedule(1.0, {-5: 0.5})(0)) == 0.5


_TRACED = {
    'linear_schedule': dict(init_value=1.0, end_value=0.1, transition_steps=10),
    'polynomial_schedule': dict(init_value=1.0, end_value=0.1, power=2.0,
                                transition_steps=10),
    'exponential_decay': dict(init_value=1.0, transition_steps=10,
                              decay_rate=0.5, end_value=0.2),
    'cosine_decay_schedule': dict(init_value=1.0, decay_steps=10, alpha=0.1,
                                  exponent=1.5),
    'warmup_cosine_decay_schedule': dict(
        init_value=0.0, peak_value=1.0, warmup_steps=3, decay_steps=10,
        end_value=0.1, exponent=1.0),
    'warmup_constant_schedule': dict(init_value=0.0, peak_value=1.0,
                                     warmup_steps=3),
    'piecewise_interpolate_schedule': dict(
        interpolate_type='linear', init_value=1.0,
        boundaries_and_scales={3: 0.5}),
}


@pytest.mark.parametrize('name', sorted(_TRACED))
def test_traced_float_arguments_where_optax_accepts_them(name):
  """Float arguments given as tracers (Optax accepts them, or gradtx more)."""
  kwargs = _TRACED[name]
  floats = [k for k, v in kwargs.items() if type(v) is float]

  def curve(values):
    kw = dict(kwargs, **dict(zip(floats, values)))
    return jnp.stack([jnp.asarray(getattr(gradtx, name)(**kw)(t), jnp.float32)
                      for t in (0, 2, 5, 9, 12)])

  traced = jax.jit(curve)([jnp.float32(kwargs[k]) for k in floats])
  np.testing.assert_allclose(traced, curve([kwargs[k] for k in floats]),
                             rtol=2e-6, atol=1e-7)


def test_step_counts_given_as_0d_integer_arrays():
  """``transition_steps=jnp.array(10)`` is an integer, as in Optax."""
  ours = gradtx.exponential_decay(1.0, jnp.array(10), 0.5)
  np.testing.assert_allclose(ours(20), 0.25, rtol=1e-6)
  np.testing.assert_allclose(
      gradtx.linear_schedule(1.0, 0.0, np.int64(4))(1), 0.75, rtol=1e-6)
  with pytest.raises(ValueError, match='transition_steps'):
    gradtx.exponential_decay(1.0, jnp.array(0), 0.5)
  with pytest.raises(ValueError, match='transition_steps'):
    gradtx.exponential_decay(1.0, jnp.array(2.5), 0.5)
