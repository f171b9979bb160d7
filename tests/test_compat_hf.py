"""gradtx.compat.hf against Hugging Face ``transformers`` executed here.

Every ``get_scheduler`` name is compared with the learning rates of the
``LambdaLR`` that transformers builds, and ``Adafactor`` (every mode) with
``transformers.Adafactor`` run by PyTorch for 200 steps on the shared problem
(``tests/compat_runner.py``).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

pytest.importorskip('transformers')
from transformers import optimization as hf_opt  # noqa: E402  pylint: disable=g-import-not-at-top

from gradtx.compat import hf  # noqa: E402
from gradtx.compat.torch import lr_scheduler as gls  # noqa: E402
from tests.compat_runner import (assert_paths_close, grad_np, problem,  # noqa: E402
                                 run_gradtx)

SCHEDULES = [
    ('constant', None, None, {}),
    ('constant_with_warmup', 10, None, {}),
    ('linear', 10, 100, {}),
    ('cosine', 10, 100, {'num_cycles': 0.7}),
    ('cosine_with_restarts', 5, 100, {'num_cycles': 3}),
    ('polynomial', 10, 100, {'lr_end': 1e-3, 'power': 2.0}),
    ('inverse_sqrt', 10, None, {'timescale': 7}),
    ('cosine_with_min_lr', 10, 100, {'min_lr_rate': 0.1}),
    ('cosine_warmup_with_min_lr', 10, 100, {'min_lr': 0.02}),
    ('cosine_warmup_with_min_lr', 10, 100, {'min_lr_rate': 0.05, 'warmup_lr_rate': 0.2}),
    ('warmup_stable_decay', 10, 100, {'num_decay_steps': 30, 'decay_type': 'linear',
                                      'min_lr_ratio': 0.1}),
    ('warmup_stable_decay', 10, None, {'num_decay_steps': 20, 'num_stable_steps': 50,
                                       'warmup_type': 'cosine', 'decay_type': '1-sqrt'}),
]


@pytest.mark.parametrize('name,warmup,total,kwargs', SCHEDULES,
                         ids=[f'{s[0]}-{i}' for i, s in enumerate(SCHEDULES)])
def test_schedules_match_transformers(name, warmup, total, kwargs):
  lr = 0.2
  p = torch.zeros(1, requires_grad=True)
  opt = torch.optim.SGD([p], lr=lr)
  sched = hf_opt.get_scheduler(name, opt, warmup, total, dict(kwargs))
  ref = []
  for _ in range(120):
    ref.append(opt.param_groups[0]['lr'])
    opt.step()
    sched.step()
  ours = hf.get_scheduler(name, lr, warmup, total, dict(kwargs))
  np.testing.assert_allclose(jax.vmap(ours)(jnp.arange(120)), ref, rtol=1e-5, atol=1e-8)


ADAFACTOR = [
    {},
    {'warmup_init': True},
    {'scale_parameter': False, 'beta1': 0.9, 'weight_decay': 0.1},
    {'relative_step': False, 'lr': 0.05, 'clip_threshold': 0.5, 'decay_rate': -0.5},
    {'relative_step': False, 'lr': 0.05, 'scale_parameter': False, 'beta1': 0.5,
     'weight_decay': 0.05, 'eps': (1e-20, 1e-2)},
]


@pytest.mark.parametrize('options', ADAFACTOR, ids=[str(i) for i in range(len(ADAFACTOR))])
def test_adafactor_matches_transformers(options):
  theta0, coef, noise = problem(seed=20 + len(options))
  names = [('layer', 'bias'), ('layer', 'weight')]
  ps = [torch.tensor(theta0[a][b], requires_grad=True) for a, b in names]
  opt = hf_opt.Adafactor(ps, **options)
  scheduled = not options.get('relative_step', True)
  sched = torch.optim.lr_scheduler.ExponentialLR(opt, 0.99) if scheduled else None
  out = {b: [] for _, b in names}
  for t in range(len(noise['layer']['bias'])):
    for (a, b), p in zip(names, ps):
      p.grad = torch.from_numpy(grad_np(p.detach().numpy(), coef[a][b], noise[a][b][t]))
    opt.step()
    if sched is not None:
      sched.step()
    for (_, b), p in zip(names, ps):
      out[b].append(p.detach().numpy().copy())
  ref = {'layer': {k: np.stack(x) for k, x in out.items()}}
  ours_options = dict(options)
  if scheduled:
    ours_options['lr'] = gls.ExponentialLR(options['lr'], 0.99)
  path, _ = run_gradtx(hf.Adafactor(**ours_options), theta0, coef, noise)
  assert_paths_close(path, ref)


PLATEAU = [
    {},
    {'mode': 'max', 'factor': 0.5, 'patience': 2, 'cooldown': 3, 'min_lr': 0.01},
    {'threshold': 0.05, 'threshold_mode': 'abs', 'patience': 0, 'eps': 0.005},
]


@pytest.mark.parametrize('kwargs', PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_on_plateau_matches_torch(kwargs):
  # One metric per scheduler.step(metric): noisy plateaus and improvements.
  rng = np.random.default_rng(len(kwargs))
  trend = np.repeat(rng.uniform(-1.0, 1.0, size=20), 10).cumsum() / 10
  metrics = (trend + 0.3 * rng.normal(size=trend.size)).astype(np.float32)
  lr = 0.2
  p = torch.zeros(1, requires_grad=True)
  opt = torch.optim.SGD([p], lr=lr)
  sched = hf_opt.get_scheduler('reduce_lr_on_plateau', opt,
                               scheduler_specific_kwargs=dict(kwargs))
  ref = []
  for m in metrics:
    opt.step()
    sched.step(float(m))
    ref.append(opt.param_groups[0]['lr'])
  assert len(set(ref)) >= 3, ref   # at least two reductions
  for tx in (hf.get_reduce_on_plateau_schedule(lr, **kwargs),
             hf.get_scheduler('reduce_lr_on_plateau', lr,
                              scheduler_specific_kwargs=dict(kwargs))):
    @jax.jit
    def run(metrics, tx=tx):
      def body(s, m):
        _, s = tx.update(jnp.ones(1), s, value=m)
        return s, lr * s.scale
      return jax.lax.scan(body, tx.init(jnp.zeros(1)), metrics)[1]
    np.testing.assert_allclose(run(jnp.asarray(metrics)), ref, rtol=1e-6)


def test_reduce_on_plateau_defaults_are_torch():
  import inspect
  ours = inspect.signature(hf.get_reduce_on_plateau_schedule).parameters
  theirs = inspect.signature(torch.optim.lr_scheduler.ReduceLROnPlateau).parameters
  for arg in ('mode', 'factor', 'patience', 'threshold', 'threshold_mode', 'cooldown',
              'min_lr', 'eps'):
    assert ours[arg].default == theirs[arg].default, arg


@pytest.mark.parametrize('make,match', [
    (lambda: hf.Adafactor(lr=0.1), 'relative_step'),
    (lambda: hf.Adafactor(relative_step=False), 'lr'),
    (lambda: hf.Adafactor(relative_step=False, lr=0.1, warmup_init=True), 'warmup_init'),
    (lambda: hf.Adafactor(beta1=1.0), 'beta1'),
    (lambda: hf.get_scheduler('linear', 0.1, 10), 'num_training_steps'),
    (lambda: hf.get_scheduler('greedy', 0.1), 'not ported'),
    (lambda: hf.get_reduce_on_plateau_schedule(0.0), 'lr'),
    (lambda: hf.get_reduce_on_plateau_schedule(0.1, mode='up'), 'mode'),
    (lambda: hf.get_reduce_on_plateau_schedule(0.1, factor=1.0), 'factor'),
    (lambda: hf.get_scheduler('cosine_with_min_lr', 0.1, 1, 10), 'min_lr'),
])
def test_invalid_arguments_name_themselves(make, match):
  with pytest.raises(ValueError, match=match):
    make()
