"""gradtx.compat.torch against PyTorch executed here, 200 steps, changing lr.

Every optimizer × option is run by PyTorch (CPU, float32) and by gradtx on the
same problem (``tests/compat_runner.py``), with a PyTorch scheduler that
changes the learning rate at every step and its gradtx counterpart; the
parameter trajectories must agree to 1e-5 relative at every step.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import gradtx
from gradtx.compat import torch as tc
from gradtx.compat.torch import lr_scheduler as gls
from tests.compat_runner import (STEPS, assert_paths_close, grad_np, problem,
                                 run_gradtx)

LRS = torch.optim.lr_scheduler


def _torch_path(make_opt, make_sched, theta0, coef, noise, sign=1.0,
                groups=None, clip=None):
  names = [('layer', 'bias'), ('layer', 'weight')]
  ps = {n: torch.tensor(theta0[n[0]][n[1]], requires_grad=True) for n in names}
  if groups is None:
    opt = make_opt([ps[n] for n in names])
  else:
    opt = make_opt([{'params': [ps[n] for n in names if g['match'](n)],
                     **g['options']} for g in groups])
  sched = make_sched(opt) if make_sched else None
  out = {n: [] for n in names}
  for t in range(len(noise['layer']['bias'])):
    for n in names:
      p = ps[n]
      p.grad = torch.from_numpy(grad_np(
          p.detach().numpy(), coef[n[0]][n[1]], noise[n[0]][n[1]][t], sign))
    if clip is not None:
      clip([ps[n] for n in names])
    opt.step()
    if sched is not None:
      sched.step()
    for n in names:
      out[n].append(ps[n].detach().numpy().copy())
  return {'layer': {k[1]: np.stack(v) for k, v in out.items()}}


# Schedulers: (PyTorch scheduler of an optimizer, gradtx (lr, momentum)).
def _sched(kind, lr, cycle_momentum):
  if kind == 'exp':
    return (lambda o: LRS.ExponentialLR(o, 0.99)), (gls.ExponentialLR(lr, 0.99), None)
  if kind == 'warm_restarts':
    return ((lambda o: LRS.CosineAnnealingWarmRestarts(o, 20, 2, lr / 50)),
            (gls.CosineAnnealingWarmRestarts(lr, 20, 2, lr / 50), None))
  if kind == 'onecycle':
    s = gls.OneCycleLR(lr, STEPS, cycle_momentum=cycle_momentum)
    return ((lambda o: LRS.OneCycleLR(o, lr, STEPS, cycle_momentum=cycle_momentum)),
            (s, s.momentum))
  if kind == 'cyclic':
    s = gls.CyclicLR(lr / 10, lr, 15, mode='triangular2',
                     cycle_momentum=cycle_momentum)
    return ((lambda o: LRS.CyclicLR(o, lr / 10, lr, 15, mode='triangular2',
                                    cycle_momentum=cycle_momentum)),
            (s, s.momentum))
  assert kind == 'lambda'
  return ((lambda o: LRS.LambdaLR(o, lambda t: 1 / (1 + 0.05 * t))),
          (gls.LambdaLR(lr, lambda t: 1 / (1 + 0.05 * t)), None))


MOMENTUM_KEY = {'SGD': 'momentum', 'RMSprop': 'momentum', 'Adam': 'betas',
                'AdamW': 'betas', 'NAdam': 'betas', 'RAdam': 'betas'}
BASE_LR = {'SGD': 0.05, 'Adam': 0.02, 'AdamW': 0.02, 'NAdam': 0.02,
           'RAdam': 0.02, 'Adamax': 0.02, 'Adagrad': 0.1, 'Adadelta': 1.0,
           'RMSprop': 0.01, 'Rprop': 0.01, 'ASGD': 0.05}

CONFIGS = [
    ('SGD', {}, 'exp'),
    ('SGD', {'momentum': 0.9, 'dampening': 0.3}, 'lambda'),
    ('SGD', {'momentum': 0.9, 'nesterov': True}, 'exp'),
    ('SGD', {'momentum': 0.9, 'weight_decay': 0.1}, 'onecycle'),
    ('SGD', {'momentum': 0.5, 'maximize': True}, 'cyclic'),
    ('Adam', {}, 'onecycle'),
    ('Adam', {'amsgrad': True}, 'warm_restarts'),
    ('Adam', {'weight_decay': 0.1}, 'cyclic'),
    ('AdamW', {}, 'lambda'),
    ('AdamW', {'amsgrad': True, 'weight_decay': 0.05, 'maximize': True}, 'onecycle'),
    ('NAdam', {}, 'exp'),
    ('NAdam', {'weight_decay': 0.1, 'decoupled_weight_decay': True}, 'warm_restarts'),
    ('RAdam', {}, 'lambda'),
    ('RAdam', {'weight_decay': 0.1, 'decoupled_weight_decay': True}, 'cyclic'),
    ('Adamax', {}, 'onecycle'),
    ('Adagrad', {}, 'cyclic'),
    ('Adagrad', {'lr_decay': 0.01, 'initial_accumulator_value': 0.1,
                 'weight_decay': 0.1}, 'exp'),
    ('Adadelta', {'weight_decay': 0.1, 'maximize': True}, 'warm_restarts'),
    ('RMSprop', {}, 'exp'),
    ('RMSprop', {'momentum': 0.9}, 'onecycle'),
    ('RMSprop', {'centered': True, 'momentum': 0.9, 'weight_decay': 0.1}, 'cyclic'),
    ('Rprop', {}, None),
    ('Rprop', {'etas': (0.3, 1.5), 'step_sizes': (1e-4, 0.2), 'maximize': True}, None),
    ('ASGD', {}, 'exp'),
    ('ASGD', {'t0': 50, 'lambd': 1e-2, 'weight_decay': 0.1}, 'lambda'),
]


def _ids(c):
  return f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[1].items()) or 'defaults'}-{c[2]}"


@pytest.mark.parametrize('name,options,kind', CONFIGS, ids=[_ids(c) for c in CONFIGS])
def test_optimizer_matches_torch(name, options, kind):
  lr = BASE_LR[name]
  theta0, coef, noise = problem(seed=len(name) + len(options))
  sign = -1.0 if options.get('maximize') else 1.0
  mkey = MOMENTUM_KEY.get(name)
  if kind is None:
    t_sched, (g_lr, g_mom) = None, (lr, None)
  else:
    t_sched, (g_lr, g_mom) = _sched(kind, lr, cycle_momentum=mkey is not None)
  ref = _torch_path(lambda p: getattr(torch.optim, name)(p, lr=lr, **options),
                    t_sched, theta0, coef, noise, sign)
  ours_options = dict(options)
  if g_mom is not None:
    ours_options[mkey] = g_mom if mkey == 'momentum' else (g_mom, 0.999)
  tx = getattr(tc.optim, name)(lr=g_lr, **ours_options)
  path, _ = run_gradtx(tx, theta0, coef, noise, sign)
  assert_paths_close(path, ref)


def test_defaults_match_torch():
  import inspect
  for name in BASE_LR:
    ours = inspect.signature(getattr(tc.optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    for arg, p in ours.items():
      if arg == 'params':
        continue
      assert arg in theirs, (name, arg)
      want = theirs[arg].default
      want = tuple(want) if isinstance(want, (tuple, list)) else want
      got = tuple(p.default) if isinstance(p.default, (tuple, list)) else p.default
      assert got == want, (name, arg, got, want)


def test_param_groups_match_torch():
  theta0, coef, noise = problem(seed=3)
  groups = [
      {'match': lambda n: n[1] == 'bias', 'options': {'lr': 0.2, 'momentum': 0.5}},
      {'match': lambda n: n[1] == 'weight', 'options': {'weight_decay': 0.1}},
  ]
  ref = _torch_path(
      lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
      lambda o: LRS.StepLR(o, 30, 0.5), theta0, coef, noise, groups=groups)
  tx = tc.optim.SGD(
      [{'params': '.*/bias', 'lr': gls.StepLR(0.2, 30, 0.5), 'momentum': 0.5},
       {'params': '.*/weight', 'weight_decay': 0.1}],
      lr=gls.StepLR(0.05, 30, 0.5), momentum=0.9)
  path, _ = run_gradtx(tx, theta0, coef, noise)
  assert_paths_close(path, ref)


@pytest.mark.parametrize('norm_type', [2.0, 1.0, math.inf])
def test_clip_grad_norm_matches_torch(norm_type):
  theta0, coef, noise = problem(seed=4)
  ref = _torch_path(
      lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
      lambda o: LRS.ExponentialLR(o, 0.99), theta0, coef, noise,
      clip=lambda ps: torch.nn.utils.clip_grad_norm_(ps, 1.5, norm_type))
  tx = gradtx.chain(tc.clip_grad_norm_(1.5, norm_type),
                    tc.optim.SGD(lr=gls.ExponentialLR(0.1, 0.99), momentum=0.9))
  path, _ = run_gradtx(tx, theta0, coef, noise)
  assert_paths_close(path, ref)


def test_clip_grad_value_matches_torch():
  theta0, coef, noise = problem(seed=5)
  ref = _torch_path(
      lambda p: torch.optim.Adam(p, lr=0.05), None, theta0, coef, noise,
      clip=lambda ps: torch.nn.utils.clip_grad_value_(ps, 0.3))
  tx = gradtx.chain(tc.clip_grad_value_(0.3), tc.optim.Adam(lr=0.05))
  path, _ = run_gradtx(tx, theta0, coef, noise)
  assert_paths_close(path, ref)


def test_asgd_average_matches_torch():
  theta0, coef, noise = problem(seed=6)
  names = [('layer', 'bias'), ('layer', 'weight')]
  ps = [torch.tensor(theta0[a][b], requires_grad=True) for a, b in names]
  opt = torch.optim.ASGD(ps, lr=0.05, t0=20)
  for t in range(STEPS):
    for (a, b), p in zip(names, ps):
      p.grad = torch.from_numpy(grad_np(p.detach().numpy(), coef[a][b], noise[a][b][t]))
    opt.step()
  _, state = run_gradtx(tc.optim.ASGD(lr=0.05, t0=20), theta0, coef, noise)
  ax = state[-1].ax
  for (a, b), p in zip(names, ps):
    np.testing.assert_allclose(ax[a][b], opt.state[p]['ax'].numpy(), rtol=1e-5, atol=1e-6)


def _torch_lrs(make_sched, steps=60, lr=1.0):
  p = torch.zeros(1, requires_grad=True)
  opt = torch.optim.SGD([p], lr=lr)
  sched = make_sched(opt)
  out = []
  for _ in range(steps):
    out.append(opt.param_groups[0]['lr'])
    opt.step()
    sched.step()
  return np.array(out)


@pytest.mark.parametrize('kind', ['constant', 'multiplicative', 'sequential', 'chained'])
def test_new_schedulers_match_torch(kind):
  if kind == 'constant':
    ref = _torch_lrs(lambda o: LRS.ConstantLR(o, 0.25, 7), lr=0.3)
    ours = gls.ConstantLR(0.3, 0.25, 7)
  elif kind == 'multiplicative':
    ref = _torch_lrs(lambda o: LRS.MultiplicativeLR(o, lambda t: 0.99 if t % 3 else 0.9))
    ours = gls.MultiplicativeLR(1.0, lambda t: jnp.where(t % 3 == 0, 0.9, 0.99))
  elif kind == 'sequential':
    ref = _torch_lrs(lambda o: LRS.SequentialLR(
        o, [LRS.LinearLR(o, 0.1, total_iters=10), LRS.ExponentialLR(o, 0.95),
            LRS.StepLR(o, 7, 0.5)], milestones=[10, 35]), lr=0.5)
    ours = gls.SequentialLR([gls.LinearLR(0.5, 0.1, total_iters=10),
                             gls.ExponentialLR(0.5, 0.95), gls.StepLR(0.5, 7, 0.5)],
                            [10, 35])
  else:
    ref = _torch_lrs(lambda o: LRS.ChainedScheduler(
        [LRS.ConstantLR(o, 0.5, 12), LRS.ExponentialLR(o, 0.97),
         LRS.MultiStepLR(o, [20, 40], 0.3)]), lr=0.5)
    ours = gls.ChainedScheduler([gls.ConstantLR(0.5, 0.5, 12), gls.ExponentialLR(0.5, 0.97),
                                 gls.MultiStepLR(0.5, [20, 40], 0.3)], 0.5)
  got = jax.vmap(ours)(jnp.arange(len(ref)))
  np.testing.assert_allclose(got, ref, rtol=2e-6)
  assert float(jax.jit(ours)(5)) == pytest.approx(ref[5], rel=2e-6)


@pytest.mark.parametrize('three_phase,strategy', [(False, 'cos'), (True, 'linear')])
def test_one_cycle_momentum_matches_torch(three_phase, strategy):
  p = torch.zeros(1, requires_grad=True)
  opt = torch.optim.Adam([p], lr=0.1)
  sched = LRS.OneCycleLR(opt, 0.1, epochs=5, steps_per_epoch=10, three_phase=three_phase,
                         anneal_strategy=strategy)
  ours = gls.OneCycleLR(0.1, epochs=5, steps_per_epoch=10, three_phase=three_phase,
                        anneal_strategy=strategy)
  lrs, moms = [], []
  for _ in range(50):
    lrs.append(opt.param_groups[0]['lr'])
    moms.append(opt.param_groups[0]['betas'][0])
    opt.step()
    sched.step()
  t = jnp.arange(50)
  np.testing.assert_allclose(jax.vmap(ours)(t), lrs, rtol=1e-5)
  np.testing.assert_allclose(jax.vmap(ours.momentum)(t), moms, rtol=1e-6)


def test_bfloat16_params_follow_float32_run():
  theta0, coef, noise = problem(seed=7, steps=50)
  tx = tc.optim.AdamW(lr=gls.ExponentialLR(0.02, 0.99), amsgrad=True)
  p32, _ = run_gradtx(tx, theta0, coef, noise)
  p16, state = run_gradtx(tx, theta0, coef, noise, dtype=jnp.bfloat16)
  assert all(x.dtype == jnp.bfloat16 for x in jax.tree.leaves(p16))
  assert all(x.dtype == jnp.bfloat16 for x in jax.tree.leaves(state[0].exp_avg))
  for a, b in zip(jax.tree.leaves(p16), jax.tree.leaves(p32)):
    np.testing.assert_allclose(np.asarray(a, np.float32)[-1], b[-1], atol=0.05)


@pytest.mark.parametrize('make,match', [
    (lambda: tc.optim.SGD(lr=-1.0), 'lr'),
    (lambda: tc.optim.SGD(momentum=1.5), 'momentum'),
    (lambda: tc.optim.SGD(nesterov=True), 'nesterov'),
    (lambda: tc.optim.Adam(betas=(0.9, 1.0)), r'betas\[1\]'),
    (lambda: tc.optim.Adam(betas=0.9), 'betas'),
    (lambda: tc.optim.RMSprop(weight_decay=-0.1), 'weight_decay'),
    (lambda: tc.optim.Rprop(etas=(1.5, 1.2)), r'etas\[0\]'),
    (lambda: tc.optim.Rprop(lr=lambda t: 0.1), 'Rprop'),
    (lambda: tc.optim.Adagrad(lr_decay=-1.0), 'lr_decay'),
    (lambda: tc.clip_grad_norm_(1.0, norm_type=0.5), 'norm_type'),
    (lambda: gls.OneCycleLR(1.0), 'total_steps'),
])
def test_invalid_arguments_name_themselves(make, match):
  with pytest.raises(ValueError, match=match):
    make()
