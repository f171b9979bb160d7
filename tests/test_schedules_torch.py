"""PyTorch ``lr_scheduler`` (CPU torch) as the oracle for gradtx.schedules.torch.

A dummy SGD optimizer is driven for >= 1000 steps; the learning rate of
update ``t`` is ``get_last_lr()`` after ``t`` scheduler steps, which must equal
the gradtx schedule at ``t`` to 1e-6 relative.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip('torch')

import gradtx  # noqa: E402
from gradtx import schedules  # noqa: E402

N = 1200
LR = 0.1


def torch_lrs(make, n=N, lr=LR, momentum=0.9):
  p = torch.nn.Parameter(torch.zeros(1))
  opt = torch.optim.SGD([p], lr=lr, momentum=momentum)
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    sched = make(opt)
    out = []
    for _ in range(n):
      out.append(sched.get_last_lr()[0])
      opt.step()
      sched.step()
  return np.asarray(out)


def ours(schedule, n=N):
  eager = np.asarray([float(schedule(t)) for t in range(0, n, 97)])
  values = schedules.evaluate_schedule(schedule, n)
  np.testing.assert_allclose(values[::97], eager, rtol=2e-6, atol=1e-8)
  return values


def check(schedule, make, n=N, lr=LR, **kw):
  ref = torch_lrs(make, n, lr, **kw)
  got = ours(schedule, n)
  # 1e-6 relative; values that reach 0 get an absolute floor of 1e-7 * lr.
  np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7 * lr)


S = torch.optim.lr_scheduler


@pytest.mark.parametrize('step_size,gamma', [(30, 0.1), (7, 0.9), (1, 0.995)])
def test_step_lr(step_size, gamma):
  check(gradtx.step_lr(LR, step_size, gamma),
        lambda o: S.StepLR(o, step_size, gamma))


@pytest.mark.parametrize('milestones,gamma', [
    ([100, 300, 800], 0.1), ([5, 5, 600], 0.5), ([0, 1000], 0.3)])
def test_multi_step_lr(milestones, gamma):
  check(gradtx.multi_step_lr(LR, milestones, gamma),
        lambda o: S.MultiStepLR(o, milestones, gamma))


def test_exponential_lr():
  check(gradtx.exponential_lr(LR, 0.997), lambda o: S.ExponentialLR(o, 0.997))


@pytest.mark.parametrize('a,b,t', [(1 / 3, 1.0, 5), (1.0, 0.1, 700),
                                   (0.25, 0.75, 1000)])
def test_linear_lr(a, b, t):
  check(gradtx.linear_lr(LR, a, b, t),
        lambda o: S.LinearLR(o, start_factor=a, end_factor=b, total_iters=t))


@pytest.mark.parametrize('t,p', [(1000, 1.0), (600, 2.0), (900, 0.5)])
def test_polynomial_lr(t, p):
  check(gradtx.polynomial_lr(LR, t, p),
        lambda o: S.PolynomialLR(o, total_iters=t, power=p))


@pytest.mark.parametrize('t_max,eta_min', [(1000, 0.0), (250, 1e-3)])
def test_cosine_annealing_lr(t_max, eta_min):
  check(gradtx.cosine_annealing_lr(LR, t_max, eta_min),
        lambda o: S.CosineAnnealingLR(o, T_max=t_max, eta_min=eta_min))


@pytest.mark.parametrize('t0,mult,eta_min', [
    (100, 1, 0.0), (10, 2, 1e-3), (7, 3, 0.0), (50, 2, 0.0)])
def test_cosine_annealing_warm_restarts(t0, mult, eta_min):
  check(gradtx.cosine_annealing_warm_restarts(LR, t0, mult, eta_min),
        lambda o: S.CosineAnnealingWarmRestarts(o, T_0=t0, T_mult=mult,
                                                eta_min=eta_min))


@pytest.mark.parametrize('mode,up,down,gamma', [
    ('triangular', 100, None, 1.0), ('triangular2', 60, 140, 1.0),
    ('exp_range', 50, 75, 0.999), ('triangular', 1, 3, 1.0)])
def test_cyclic_lr(mode, up, down, gamma):
  check(gradtx.cyclic_lr(0.01, 0.1, up, down, mode, gamma),
        lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=up,
                             step_size_down=down, mode=mode, gamma=gamma))


def test_cyclic_lr_custom_scale_fn():
  fn = lambda x: 1 / (1.0 + 0.01 * x)
  for scale_mode in ('cycle', 'iterations'):
    check(gradtx.cyclic_lr(0.01, 0.1, 30, scale_fn=fn, scale_mode=scale_mode),
          lambda o, m=scale_mode: S.CyclicLR(
              o, 0.01, 0.1, step_size_up=30, scale_fn=fn, scale_mode=m))


@pytest.mark.parametrize('pct,strategy,three', [
    (0.3, 'cos', False), (0.25, 'linear', False), (0.3, 'cos', True),
    (0.4, 'linear', True), (0.137, 'cos', True)])
def test_one_cycle_lr(pct, strategy, three):
  total = N
  check(gradtx.one_cycle_lr(1.0, total, pct, strategy, 25.0, 1e4, three),
        lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=total,
                               pct_start=pct, anneal_strategy=strategy,
                               three_phase=three), lr=1.0)


def test_one_cycle_lr_holds_minimum_past_the_end():
  f = gradtx.one_cycle_lr(1.0, 100)
  np.testing.assert_allclose(f(jnp.arange(99, 140)), 1.0 / 25 / 1e4, rtol=1e-6)


def test_warm_restarts_exact_at_every_restart_for_large_steps():
  f = jax.jit(gradtx.cosine_annealing_warm_restarts(1.0, 3, 2))
  starts = [3 * (2**k - 1) for k in range(8, 29)]
  for s in starts:
    assert float(f(jnp.int32(s))) == pytest.approx(1.0, rel=1e-6)
    assert float(f(jnp.int32(s - 1))) < 1e-3


@pytest.mark.parametrize('fn,kwargs,arg', [
    (gradtx.step_lr, dict(learning_rate=0.1, step_size=0), 'step_size'),
    (gradtx.step_lr, dict(learning_rate=0.1, step_size=5, gamma=-0.1), 'gamma'),
    (gradtx.multi_step_lr, dict(learning_rate=0.1, milestones=[10, 5]),
     'milestones'),
    (gradtx.exponential_lr, dict(learning_rate=0.1, gamma=-1.0), 'gamma'),
    (gradtx.polynomial_lr, dict(learning_rate=0.1, total_iters=0),
     'total_iters'),
    (gradtx.cosine_annealing_lr, dict(learning_rate=0.1, T_max=0), 'T_max'),
    (gradtx.cosine_annealing_warm_restarts, dict(learning_rate=0.1, T_0=0),
     'T_0'),
    (gradtx.cyclic_lr, dict(base_lr=0.0, max_lr=1.0, step_size_up=0),
     'step_size_up'),
    (gradtx.cyclic_lr, dict(base_lr=0.0, max_lr=1.0, mode='sine'), 'mode'),
    (gradtx.cyclic_lr, dict(base_lr=0.0, max_lr=1.0, mode='exp_range',
                            gamma=-0.5), 'gamma'),
    (gradtx.one_cycle_lr, dict(max_lr=1.0, total_steps=0), 'total_steps'),
    (gradtx.one_cycle_lr, dict(max_lr=1.0, total_steps=10, pct_start=1.5),
     'pct_start'),
])
def test_bad_input(fn, kwargs, arg):
  with pytest.raises(ValueError, match=arg):
    fn(**kwargs)


def test_cosine_annealing_accurate_near_minimum_under_jit():
  # PyTorch's closed form in float64; the last steps of a long cycle are tiny
  # values that 1 + cos(.) (or cos(.)**2) computes with a large relative error.
  t_max = 1000
  t = np.arange(990, 1011)
  want = LR * (1 + np.cos(np.pi * t / t_max)) / 2
  f = jax.jit(jax.vmap(schedules.cosine_annealing_lr(LR, t_max)))
  np.testing.assert_allclose(f(jnp.asarray(t, jnp.int32)), want, rtol=1e-5)
  g = jax.jit(jax.vmap(schedules.cosine_annealing_warm_restarts(LR, t_max, 2)))
  t = np.arange(990, 1000)
  np.testing.assert_allclose(g(jnp.asarray(t, jnp.int32)), want[:10],
                             rtol=1e-5)


@pytest.mark.parametrize('name', ['polynomial_lr', 'cosine_annealing_lr'])
def test_steps_beyond_float32_integers(name):
  # 2**25 + 3 is not a float32; the step before the end is one step from 0.
  n = 2**25 + 3
  f = jax.jit(getattr(schedules, name)(1.0, n))
  want = {'polynomial_lr': 1 / n,
          'cosine_annealing_lr': np.sin(np.pi / (2 * n))**2}[name]
  np.testing.assert_allclose(float(f(jnp.int32(n - 1))), want, rtol=1e-4)
