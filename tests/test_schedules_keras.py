"""Keras 3 schedules (JAX backend) as the oracle for gradtx.schedules.keras."""

import math
import os

os.environ.setdefault('KERAS_BACKEND', 'jax')

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip('keras')

import gradtx  # noqa: E402
from gradtx import schedules  # noqa: E402

N = 1500
K = keras.optimizers.schedules


def check(ours, theirs, n=N, scale=0.1):
  steps = np.arange(n, dtype=np.int32)
  ref = np.asarray(jax.vmap(theirs)(steps), np.float64)
  got = schedules.evaluate_schedule(ours, steps)
  np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7 * scale)


@pytest.mark.parametrize('staircase', [False, True])
def test_exponential_decay_is_keras_exponential_decay(staircase):
  check(gradtx.exponential_decay(0.1, 100, 0.5, staircase=staircase),
        K.ExponentialDecay(0.1, 100, 0.5, staircase=staircase))


def test_piecewise_constant_decay():
  check(gradtx.piecewise_constant_decay([100, 400, 1000], [0.1, 0.05, 0.01, 1e-3]),
        K.PiecewiseConstantDecay([100, 400, 1000], [0.1, 0.05, 0.01, 1e-3]))


@pytest.mark.parametrize('staircase', [False, True])
@pytest.mark.parametrize('rate', [0.5, 3.0])
def test_inverse_time_decay(staircase, rate):
  check(gradtx.inverse_time_decay(0.1, 70, rate, staircase),
        K.InverseTimeDecay(0.1, 70, rate, staircase=staircase))


@pytest.mark.parametrize('cycle', [False, True])
@pytest.mark.parametrize('power', [1.0, 2.0, 0.5])
def test_polynomial_decay(cycle, power):
  ours = gradtx.polynomial_decay(0.1, 400, 1e-3, power, cycle)
  # Keras forms 1 - t/d in float32; near the end that cancellation costs it
  # up to ~1e-5 relative (values near the end). So: Keras to 1e-5, and the
  # exact float64 formula to 1e-6 everywhere.
  t = np.arange(N, dtype=np.float64)
  if cycle:
    d = 400 * np.where(t == 0, 1.0, np.ceil(t / 400))
  else:
    t, d = np.minimum(t, 400), 400.0
  exact = (0.1 - 1e-3) * ((d - t) / d)**power + 1e-3
  got = schedules.evaluate_schedule(ours, N)
  np.testing.assert_allclose(got, exact, rtol=1e-6)
  steps = np.arange(N, dtype=np.int32)
  keras_values = np.asarray(jax.vmap(K.PolynomialDecay(
      0.1, 400, 1e-3, power=power, cycle=cycle))(steps))
  np.testing.assert_allclose(got, keras_values,
                             rtol=1e-5)


@pytest.mark.parametrize('kwargs', [
    dict(alpha=0.0), dict(alpha=0.1),
    dict(alpha=0.05, warmup_target=0.5, warmup_steps=200),
    dict(warmup_target=1.0, warmup_steps=1)])
def test_cosine_decay(kwargs):
  check(gradtx.cosine_decay(0.1, 1000, **kwargs),
        K.CosineDecay(0.1, 1000, **kwargs),
        scale=kwargs.get('warmup_target', 0.1))


@pytest.mark.parametrize('t_mul,m_mul,alpha,first', [
    (2.0, 1.0, 0.0, 100), (1.0, 0.8, 0.1, 150), (2.0, 0.5, 0.0, 30),
    (1.5, 0.9, 0.05, 64), (3.0, 1.0, 0.0, 10)])
def test_cosine_decay_restarts(t_mul, m_mul, alpha, first):
  check(gradtx.cosine_decay_restarts(0.1, first, t_mul, m_mul, alpha),
        K.CosineDecayRestarts(0.1, first, t_mul=t_mul, m_mul=m_mul,
                              alpha=alpha))


@pytest.mark.parametrize('fn,kwargs,arg', [
    (gradtx.piecewise_constant_decay, dict(boundaries=[1, 2], values=[1.0]),
     'boundaries'),
    (gradtx.piecewise_constant_decay,
     dict(boundaries=[5, 2], values=[1.0, 0.5, 0.1]), 'boundaries'),
    (gradtx.inverse_time_decay,
     dict(initial_learning_rate=0.1, decay_steps=0, decay_rate=1.0),
     'decay_steps'),
    (gradtx.inverse_time_decay,
     dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=-1.0),
     'decay_rate'),
    (gradtx.polynomial_decay,
     dict(initial_learning_rate=0.1, decay_steps=-3), 'decay_steps'),
    (gradtx.polynomial_decay,
     dict(initial_learning_rate=0.1, decay_steps=10, end_learning_rate=0.2),
     'end_learning_rate'),
    (gradtx.cosine_decay, dict(initial_learning_rate=0.1, decay_steps=0),
     'decay_steps'),
    (gradtx.cosine_decay_restarts,
     dict(initial_learning_rate=0.1, first_decay_steps=0), 'first_decay_steps'),
    (gradtx.cosine_decay_restarts,
     dict(initial_learning_rate=0.1, first_decay_steps=5, m_mul=-1.0),
     'm_mul'),
])
def test_bad_input(fn, kwargs, arg):
  with pytest.raises(ValueError, match=arg):
    fn(**kwargs)


# Steps above 2**24, where float32 does not hold every integer: each schedule
# is evaluated under jit with an int32 step and compared with its formula in
# float64 (Keras itself rounds the step to float32 there).
BIG = 2**25 + 3


def _poly(t, d, power, cycle):
  t = np.float64(t)
  if cycle:
    h = d * (1.0 if t == 0 else math.ceil(t / d))
  else:
    t, h = min(t, d), d
  return ((h - t) / h)**power


def _cos(x):  # 0.5 (1 + cos(pi x)), x in [0, 1]
  return math.sin(0.5 * math.pi * (1.0 - x))**2


def _restart(t, d, t_mul):
  if t_mul == 1.0:
    return _cos((t % d) / d)
  i, start = 0, 0
  while start + d * t_mul**i <= t:
    start, i = start + d * t_mul**i, i + 1
  return _cos((t - start) / (d * t_mul**i))


_S2 = 10 * (2**22 - 1)  # a restart of (d=10, t_mul=2) above 2**25

LARGE_STEP_CASES = [
    ('inverse_time_staircase',
     lambda: gradtx.inverse_time_decay(1.0, BIG - 1, 1.0, staircase=True),
     lambda t: 1.0 / (1.0 + t // (BIG - 1)), [BIG - 2, BIG - 1, BIG]),
    ('polynomial', lambda: gradtx.polynomial_decay(1.0, BIG, 0.0, 1.0),
     lambda t: _poly(t, BIG, 1.0, False), [BIG - 1, BIG, BIG + 1]),
    ('polynomial_sqrt', lambda: gradtx.polynomial_decay(1.0, BIG, 0.0, 0.5),
     lambda t: _poly(t, BIG, 0.5, False), [BIG - 2, BIG - 1, BIG]),
    ('polynomial_cycle',
     lambda: gradtx.polynomial_decay(1.0, 10, 0.0, 1.0, cycle=True),
     lambda t: _poly(t, 10, 1.0, True), [BIG - 1, BIG, BIG + 1, BIG + 7]),
    ('cosine', lambda: gradtx.cosine_decay(1.0, BIG),
     lambda t: _cos(min(t, BIG) / BIG), [BIG - 1, BIG, BIG + 1]),
    ('cosine_warmup',
     lambda: gradtx.cosine_decay(0.0, 10, warmup_target=1.0,
                                 warmup_steps=BIG),
     lambda t: t / BIG if t < BIG else _cos(min(t - BIG, 10) / 10),
     [BIG - 1, BIG, BIG + 1, BIG + 5, BIG + 9, BIG + 11]),
    ('cosine_restarts_t_mul_1',
     lambda: gradtx.cosine_decay_restarts(1.0, 10, t_mul=1.0),
     lambda t: _restart(t, 10, 1.0), [BIG - 1, BIG, BIG + 1, BIG + 3]),
    ('cosine_restarts_t_mul_2',
     lambda: gradtx.cosine_decay_restarts(1.0, 10, t_mul=2.0),
     lambda t: _restart(t, 10, 2.0), [_S2 - 1, _S2, _S2 + 1, _S2 + 3]),
]


@pytest.mark.parametrize('make,exact,steps',
                         [c[1:] for c in LARGE_STEP_CASES],
                         ids=[c[0] for c in LARGE_STEP_CASES])
def test_steps_beyond_float32_integers(make, exact, steps):
  f = jax.jit(make())
  got = [float(f(jnp.int32(t))) for t in steps]
  np.testing.assert_allclose(got, [exact(t) for t in steps], rtol=1e-5,
                             atol=1e-12)
