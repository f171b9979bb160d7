"""Hugging Face, MindSpore and MXNet schedules against hand-computed values.

Values are computed here with Python floats from the frameworks' published
formulas, at the boundaries: step 0, the last warmup step, the first decay
step, restart points, the end and beyond.
"""

import math

import jax
import jax.numpy as jnp

import numpy as np
import pytest

import gradtx


def at(schedule, steps):
  return np.asarray([float(schedule(s)) for s in steps])


def close(schedule, expected: dict):
  steps = list(expected)
  np.testing.assert_allclose(at(schedule, steps), [expected[s] for s in steps],
                             rtol=1e-6, atol=1e-9)


# --- Hugging Face (W = 10, T = 110, lr0 = 0.5) --------------------------------
LR, W, T = 0.5, 10, 110


def test_hf_constant_with_warmup():
  close(gradtx.constant_schedule_with_warmup(LR, W),
        {0: 0.0, 1: 0.05, 9: 0.45, 10: 0.5, 11: 0.5, 10_000: 0.5})


def test_hf_linear_with_warmup():
  close(gradtx.linear_schedule_with_warmup(LR, W, T),
        {0: 0.0, 9: 0.45, 10: 0.5, 11: LR * 99 / 100, 60: 0.25, 109: 0.005,
         110: 0.0, 500: 0.0})


@pytest.mark.parametrize('cycles', [0.5, 1.5])
def test_hf_cosine_with_warmup(cycles):
  f = lambda s: LR * max(0.0, 0.5 * (1 + math.cos(
      math.pi * cycles * 2 * (s - W) / (T - W))))
  close(gradtx.cosine_schedule_with_warmup(LR, W, T, cycles),
        {0: 0.0, 9: 0.45, 10: 0.5, 11: f(11), 60: f(60), 110: f(110),
         150: f(150)})


def test_hf_cosine_hard_restarts():
  # 4 cycles of 25 steps: restarts at 35, 60, 85; 0 from 110 on.
  f = gradtx.cosine_with_hard_restarts_schedule_with_warmup(LR, W, T, 4)
  close(f, {0: 0.0, 9: 0.45, 10: 0.5, 34: LR * 0.5 * (1 + math.cos(
      math.pi * 24 / 25)), 35: 0.5, 60: 0.5, 85: 0.5, 72: LR * 0.5 * (
          1 + math.cos(math.pi * 12 / 25)), 109: LR * 0.5 * (
              1 + math.cos(math.pi * 24 / 25)), 110: 0.0, 300: 0.0})


def test_hf_polynomial():
  f = gradtx.polynomial_decay_schedule_with_warmup(LR, W, T, lr_end=0.01,
                                                   power=2.0)
  p = lambda s: (LR - 0.01) * (1 - (s - W) / (T - W))**2 + 0.01
  close(f, {0: 0.0, 9: 0.45, 10: 0.5, 11: p(11), 60: p(60), 110: 0.01,
            111: 0.01, 10**6: 0.01})


def test_hf_inverse_sqrt():
  close(gradtx.inverse_sqrt_schedule(LR, W),
        {0: 0.0, 9: 0.45, 10: 0.5, 11: LR / math.sqrt(11 / 10),
         40: 0.25, 1000: LR / math.sqrt(1000 / 10)})
  close(gradtx.inverse_sqrt_schedule(LR, 0),
        {0: 0.5, 30_000: LR / math.sqrt(4.0)})
  close(gradtx.inverse_sqrt_schedule(LR, W, timescale=100),
        {10: 0.5, 100: LR / math.sqrt(190 / 100)})


def test_hf_cosine_with_min_lr():
  f = lambda s, m: LR * max(0.0, m + (1 - m) * 0.5 * (
      1 + math.cos(math.pi * (s - W) / (T - W))))
  close(gradtx.cosine_with_min_lr_schedule_with_warmup(LR, W, T, min_lr=0.05),
        {0: 0.0, 9: 0.45, 10: 0.5, 60: f(60, 0.1), 110: 0.05, 111: f(111, 0.1)})
  close(gradtx.cosine_with_min_lr_schedule_with_warmup(LR, W, T,
                                                       min_lr_rate=0.2),
        {10: 0.5, 110: 0.1})


@pytest.mark.parametrize('warm', ['linear', 'cosine', '1-sqrt'])
@pytest.mark.parametrize('decay', ['linear', 'cosine', '1-sqrt'])
def test_hf_wsd(warm, decay):
  m, w, d, total = 0.1, 10, 40, 100   # stable from 10 to 60, decay to 100
  up = {'linear': lambda x: x, 'cosine': lambda x: 0.5 * (1 - math.cos(
      math.pi * x)), '1-sqrt': lambda x: 1 - math.sqrt(1 - x)}[warm]
  down = {'linear': lambda x: 1 - x, 'cosine': lambda x: 0.5 * (1 + math.cos(
      math.pi * x)), '1-sqrt': lambda x: 1 - math.sqrt(x)}[decay]
  g = lambda f, x: LR * (m + (1 - m) * f(x))
  sched = gradtx.wsd_schedule(LR, w, d, num_training_steps=total,
                              warmup_type=warm, decay_type=decay,
                              min_lr_ratio=m)
  close(sched, {0: g(up, 0.0), 5: g(up, 0.5), 9: g(up, 0.9), 10: LR, 59: LR,
                60: g(down, 0.0), 61: g(down, 1 / 40), 80: g(down, 0.5),
                99: g(down, 39 / 40), 100: LR * m, 5000: LR * m})
  same = gradtx.wsd_schedule(LR, w, d, num_stable_steps=50, warmup_type=warm,
                             decay_type=decay, min_lr_ratio=m)
  np.testing.assert_allclose(at(same, range(120)), at(sched, range(120)))


# --- MindSpore -----------------------------------------------------------------
def test_mindspore_docstring_lists():
  """The examples printed in MindSpore's dynamic_lr docstrings."""
  close(gradtx.piecewise_constant_lr([2, 5, 10], [0.1, 0.05, 0.01]),
        dict(enumerate([0.1, 0.1, 0.05, 0.05, 0.05, 0.01, 0.01, 0.01, 0.01,
                        0.01])) | {10: 0.01, 99: 0.01})
  close(gradtx.exponential_decay_lr(0.1, 0.9, 6, 2, 1),
        dict(enumerate([0.1, 0.1, 0.09, 0.09, 0.081, 0.081])) | {50: 0.081})
  close(gradtx.natural_exp_decay_lr(0.1, 0.9, 6, 2, 2, True),
        dict(enumerate([0.1, 0.1, 0.1, 0.1, 0.016529888822158657,
                        0.016529888822158657])))
  close(gradtx.inverse_decay_lr(0.1, 0.5, 6, 1, 1, True),
        dict(enumerate([0.1, 0.06666666666666667, 0.05, 0.04,
                        0.03333333333333333, 0.028571428571428574])))
  close(gradtx.cosine_decay_lr(0.01, 0.1, 6, 2, 2),
        dict(enumerate([0.1, 0.1, 0.055, 0.055, 0.01, 0.01])))
  close(gradtx.polynomial_decay_lr(0.1, 0.01, 6, 2, 2, 0.5),
        dict(enumerate([0.1, 0.1, 0.07363961030678928, 0.07363961030678928,
                        0.01, 0.01])))
  close(gradtx.warmup_lr(0.1, 6, 2, 2),
        dict(enumerate([0.0, 0.0, 0.05, 0.05, 0.1, 0.1])) | {7: 0.1})


def test_mindspore_natural_exp_without_stair_ignores_decay_epoch():
  # MindSpore's code uses e^(-r E), not e^(-r E / D).
  close(gradtx.natural_exp_decay_lr(0.1, 0.5, 100, 10, 4),
        {0: 0.1, 9: 0.1, 10: 0.1 * math.exp(-0.5), 35: 0.1 * math.exp(-1.5),
         99: 0.1 * math.exp(-4.5), 1000: 0.1 * math.exp(-4.5)})


def test_mindspore_polynomial_update_decay_epoch():
  # E = i // 2; D' = 2 * max(ceil(E / 2), 1).
  f = gradtx.polynomial_decay_lr(0.1, 0.01, 20, 2, 2, 1.0, True)
  exp = lambda e: 0.09 * (1 - e / (2 * max(math.ceil(e / 2), 1))) + 0.01
  close(f, {i: exp(i // 2) for i in (0, 1, 2, 3, 4, 5, 6, 10, 19)})


def test_mindspore_natural_exp_decay_per_step():
  close(gradtx.natural_exp_decay(0.1, 0.2, 10),
        {0: 0.1, 5: 0.1 * math.exp(-0.1), 10: 0.1 * math.exp(-0.2)})
  close(gradtx.natural_exp_decay(0.1, 0.2, 10, is_stair=True),
        {9: 0.1, 10: 0.1 * math.exp(-0.2), 25: 0.1 * math.exp(-0.4)})


def test_schedule_from_values():
  lst = [0.5 * 0.9**i for i in range(50)]
  close(gradtx.schedule_from_values(lst),
        {0: lst[0], 17: lst[17], 49: lst[49], 50: lst[49], 10**6: lst[49]})


# --- MXNet ---------------------------------------------------------------------
def test_mxnet_factor():
  f = gradtx.factor_scheduler(10, factor=0.5, stop_factor_lr=0.02,
                              base_lr=0.1, warmup_steps=5, warmup_begin_lr=0.0)
  # Warmup for n < 5; then k = ceil(n/10) - 1; floored at 0.02 once k >= 1.
  close(f, {0: 0.0, 4: 0.08, 5: 0.1, 10: 0.1, 11: 0.05, 20: 0.05, 21: 0.025,
            31: 0.02, 1000: 0.02})
  g = gradtx.factor_scheduler(3, factor=0.9, base_lr=1.0,
                              warmup_steps=2, warmup_begin_lr=0.5,
                              warmup_mode='constant')
  close(g, {0: 0.5, 1: 0.5, 2: 1.0, 3: 1.0, 4: 0.9, 7: 0.81, 301: 0.9**100})


def test_mxnet_multi_factor():
  f = gradtx.multi_factor_scheduler([10, 25, 40], factor=0.1, base_lr=1.0,
                                    warmup_steps=4, warmup_begin_lr=0.2)
  close(f, {0: 0.2, 2: 0.6, 3: 0.8, 4: 1.0, 10: 1.0, 11: 0.1, 25: 0.1,
            26: 0.01, 41: 0.001, 10**5: 0.001})


def test_mxnet_poly_and_cosine():
  p = gradtx.poly_scheduler(110, base_lr=1.0, pwr=2, final_lr=0.1,
                            warmup_steps=10, warmup_begin_lr=0.0)
  poly = lambda n: 0.1 + 0.9 * (1 - (n - 10) / 100)**2
  close(p, {0: 0.0, 9: 0.9, 10: 1.0, 11: poly(11), 60: poly(60), 110: 0.1,
            111: 0.1, 5000: 0.1})
  c = gradtx.cosine_scheduler(110, base_lr=1.0, final_lr=0.1,
                              warmup_steps=10, warmup_begin_lr=0.0)
  cos = lambda n: 0.1 + 0.9 * (1 + math.cos(math.pi * (n - 10) / 100)) / 2
  close(c, {0: 0.0, 9: 0.9, 10: 1.0, 11: cos(11), 60: 0.55, 110: 0.1,
            111: 0.1})


@pytest.mark.parametrize('fn,kwargs,arg', [
    (gradtx.linear_schedule_with_warmup, dict(
        learning_rate=0.1, num_warmup_steps=200, num_training_steps=100),
     'num_warmup_steps'),
    (gradtx.cosine_schedule_with_warmup, dict(
        learning_rate=0.1, num_warmup_steps=10, num_training_steps=0),
     'num_training_steps'),
    (gradtx.polynomial_decay_schedule_with_warmup, dict(
        learning_rate=0.1, num_warmup_steps=10, num_training_steps=100,
        lr_end=0.5), 'lr_end'),
    (gradtx.wsd_schedule, dict(learning_rate=0.1, num_warmup_steps=10,
                               num_decay_steps=0, num_training_steps=100),
     'num_decay_steps'),
    (gradtx.wsd_schedule, dict(learning_rate=0.1, num_warmup_steps=90,
                               num_decay_steps=20, num_training_steps=100),
     'num_warmup_steps'),
    (gradtx.wsd_schedule, dict(learning_rate=0.1, num_warmup_steps=9,
                               num_decay_steps=20, num_training_steps=100,
                               decay_type='exp'), 'decay_type'),
    (gradtx.cosine_with_min_lr_schedule_with_warmup, dict(
        learning_rate=0.1, num_warmup_steps=1, num_training_steps=10),
     'min_lr'),
    (gradtx.natural_exp_decay, dict(learning_rate=0.1, decay_rate=-1.0,
                                    decay_steps=10), 'decay_rate'),
    (gradtx.natural_exp_decay, dict(learning_rate=0.1, decay_rate=1.0,
                                    decay_steps=0), 'decay_steps'),
    (gradtx.piecewise_constant_lr, dict(milestone=[5, 2],
                                        learning_rates=[0.1, 0.2]),
     'milestone'),
    (gradtx.piecewise_constant_lr, dict(milestone=[5, 10],
                                        learning_rates=[0.1]), 'milestone'),
    (gradtx.exponential_decay_lr, dict(learning_rate=0.1, decay_rate=-0.9,
                                       total_step=6, step_per_epoch=2,
                                       decay_epoch=1), 'decay_rate'),
    (gradtx.exponential_decay_lr, dict(learning_rate=0.1, decay_rate=0.9,
                                       total_step=6, step_per_epoch=2,
                                       decay_epoch=0), 'decay_epoch'),
    (gradtx.cosine_decay_lr, dict(min_lr=0.2, max_lr=0.1, total_step=6,
                                  step_per_epoch=2, decay_epoch=1), 'min_lr'),
    (gradtx.polynomial_decay_lr, dict(
        learning_rate=0.1, end_learning_rate=0.2, total_step=6,
        step_per_epoch=2, decay_epoch=2, power=1.0), 'end_learning_rate'),
    (gradtx.factor_scheduler, dict(step=0), 'step'),
    (gradtx.factor_scheduler, dict(step=5, factor=-0.5), 'factor'),
    (gradtx.multi_factor_scheduler, dict(step=[10, 10]), 'step'),
    (gradtx.poly_scheduler, dict(max_update=0), 'max_update'),
    (gradtx.poly_scheduler, dict(max_update=100, warmup_steps=200),
     'warmup_steps'),
    (gradtx.cosine_scheduler, dict(max_update=100, base_lr=0.1,
                                   final_lr=0.5), 'final_lr'),
    (gradtx.schedule_from_values, dict(values=[]), 'values'),
])
def test_bad_input(fn, kwargs, arg):
  with pytest.raises(ValueError, match=arg):
    fn(**kwargs)


@pytest.mark.parametrize('make', [
    lambda n: gradtx.linear_schedule_with_warmup(1.0, 5, n),
    lambda n: gradtx.polynomial_decay_schedule_with_warmup(1.0, 5, n, 0.0),
    lambda n: gradtx.wsd_schedule(1.0, 5, n - 5, n, decay_type='linear'),
])
def test_hf_steps_beyond_float32_integers(make):
  # n = 2**25 + 3 is not a float32; one step before the end the factor is
  # 1 / (n - 5) (transformers computes it in float64 from Python ints).
  n = 2**25 + 3
  got = float(jax.jit(make(n))(jnp.int32(n - 1)))
  np.testing.assert_allclose(got, 1 / (n - 5), rtol=1e-5)


# MXNet and MindSpore above 2**24 (float32 does not hold every integer):
# evaluated under jit with an int32 step against the formula in float64.
BIG = 2**25 + 3


def _cos_to_end(x):  # (1 + cos(pi x)) / 2
  return math.sin(0.5 * math.pi * (1.0 - x))**2


LARGE_STEP_CASES = [
    ('mxnet_factor',
     lambda: gradtx.factor_scheduler(BIG, factor=0.5, base_lr=1.0),
     lambda n: 0.5**max(math.ceil(n / BIG) - 1, 0), [BIG - 1, BIG, BIG + 1]),
    ('mxnet_poly',
     lambda: gradtx.poly_scheduler(BIG + 10, base_lr=1.0, pwr=2,
                                   warmup_steps=BIG),
     lambda n: n / BIG if n < BIG else (1 - (min(n, BIG + 10) - BIG) / 10)**2,
     [BIG - 1, BIG, BIG + 1, BIG + 5, BIG + 9, BIG + 11]),
    ('mxnet_poly_end',
     lambda: gradtx.poly_scheduler(BIG, base_lr=1.0, pwr=1),
     lambda n: max(BIG - n, 0) / BIG, [BIG - 2, BIG - 1, BIG, BIG + 1]),
    ('mxnet_cosine',
     lambda: gradtx.cosine_scheduler(BIG + 10, base_lr=1.0, warmup_steps=BIG),
     lambda n: n / BIG if n < BIG else _cos_to_end((min(n, BIG + 10) - BIG) / 10),
     [BIG - 1, BIG, BIG + 1, BIG + 5, BIG + 9, BIG + 11]),
    ('mindspore_natural_exp_stair',
     lambda: gradtx.natural_exp_decay(1.0, 1.0, BIG - 1, is_stair=True),
     lambda t: math.exp(-(t // (BIG - 1))), [BIG - 2, BIG - 1, BIG]),
    ('mindspore_exponential_decay_lr_stair',
     lambda: gradtx.exponential_decay_lr(1.0, 0.5, 2**26, 1, BIG - 1, True),
     lambda t: 0.5**(t // (BIG - 1)), [BIG - 2, BIG - 1, BIG]),
    ('mindspore_inverse_decay_lr_stair',
     lambda: gradtx.inverse_decay_lr(1.0, 1.0, 2**26, 1, BIG - 1, True),
     lambda t: 1 / (1 + t // (BIG - 1)), [BIG - 2, BIG - 1, BIG]),
    ('mindspore_natural_exp_decay_lr_stair',
     lambda: gradtx.natural_exp_decay_lr(1.0, 1e-7, 2**26, 1, BIG - 1, True),
     lambda t: math.exp(-1e-7 * (BIG - 1) * (t // (BIG - 1))),
     [BIG - 2, BIG - 1, BIG]),
    ('mindspore_polynomial_decay_lr',
     lambda: gradtx.polynomial_decay_lr(1.0, 0.0, 2**26, 1, BIG, 1.0),
     lambda t: (BIG - min(t, BIG)) / BIG, [BIG - 2, BIG - 1, BIG, BIG + 1]),
    ('mindspore_polynomial_decay_lr_update',
     lambda: gradtx.polynomial_decay_lr(1.0, 0.0, 2**26, 1, 10, 1.0, True),
     lambda t: (10 * math.ceil(t / 10) - t) / (10 * math.ceil(t / 10)),
     [BIG - 1, BIG, BIG + 1, BIG + 7]),
    ('mindspore_cosine_decay_lr',
     lambda: gradtx.cosine_decay_lr(0.0, 1.0, 2**26, 1, BIG),
     lambda t: _cos_to_end(min(t, BIG) / BIG), [BIG - 1, BIG, BIG + 1]),
]


@pytest.mark.parametrize('make,exact,steps',
                         [c[1:] for c in LARGE_STEP_CASES],
                         ids=[c[0] for c in LARGE_STEP_CASES])
def test_steps_beyond_float32_integers(make, exact, steps):
  f = jax.jit(make())
  got = [float(f(jnp.int32(t))) for t in steps]
  np.testing.assert_allclose(got, [exact(t) for t in steps], rtol=1e-5,
                             atol=1e-12)
