"""gradtx.compat.mxnet against MXNet 1.9.1 goldens (tests/golden/mxnet.npz).

MXNet does not install in the test environment; ``tests/golden/make_mxnet.py``
ran it on CPU (see that file to regenerate) for 200 updates per case with a
scheduler that changes the rate every step. Here gradtx replays the same
inputs and must follow the stored weights to 1e-5 relative at every step.
Hand-derived single steps check the quirks the goldens pin down.
"""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from gradtx.compat import mxnet as mc
from tests.compat_runner import assert_paths_close, run_gradtx

GOLDEN = np.load(os.path.join(os.path.dirname(__file__), 'golden', 'mxnet.npz'))
NAMES = ['layer/bias', 'layer/weight']
CASES = sorted({k.split(':')[1] for k in GOLDEN.files if k.startswith('config:')})


def _tree(prefix):
  return {'layer': {n.split('/')[1]: GOLDEN[f'{prefix}:{n}'] for n in NAMES}}


def _schedule(kind, lr, steps=200):
  if kind == 'poly':
    return gradtx.schedules.poly_scheduler(steps, base_lr=lr, pwr=2, final_lr=lr / 20,
                                           warmup_steps=10, warmup_begin_lr=lr / 10)
  return gradtx.schedules.cosine_scheduler(steps, base_lr=lr, final_lr=lr / 50,
                                           warmup_steps=5)


def test_goldens_are_mxnet_1_9_1():
  assert str(GOLDEN['mxnet_version']) == '1.9.1'
  assert len(CASES) >= 14


@pytest.mark.parametrize('case', CASES)
def test_optimizer_matches_mxnet_golden(case):
  config = json.loads(str(GOLDEN[f'config:{case}']))
  args = dict(config['args'])
  fp16 = args.get('multi_precision', False)
  tx = getattr(mc, config['cls'])(
      learning_rate=None, lr_scheduler=_schedule(config['schedule'], config['lr']),
      **args)
  path, _ = run_gradtx(tx, _tree('theta0'), _tree('coef'), _tree('noise'),
                       dtype=jnp.float16 if fp16 else jnp.float32)
  ref = _tree(f'path:{case}')
  if fp16:  # one float16 ulp of the weights
    assert all(x.dtype == jnp.float16 for x in jax.tree.leaves(path))
    assert_paths_close(jax.tree.map(lambda x: x.astype(jnp.float32), path), ref,
                       rtol=1e-3, atol=1e-3)
  else:
    assert_paths_close(path, ref)


def test_nag_momentum_uses_the_updated_weight():
  # MXNet's in-place nag_mom_update: m₁ = −η(c + wd·w₁), w₁ the new weight.
  opt = mc.NAG(momentum=0.9, learning_rate=0.1, wd=0.1, rescale_grad=0.5,
               clip_gradient=1.0)
  p = jnp.array([1.0])
  u, s = opt.update(jnp.array([3.0]), opt.init(p), p)
  np.testing.assert_allclose(p + u, [0.791], rtol=1e-6)
  np.testing.assert_allclose(s.slots[0], [-0.1 * (1.0 + 0.1 * 0.791)], rtol=1e-6)
  p = p + u
  u, s = opt.update(jnp.array([-1.0]), s, p)
  np.testing.assert_allclose(p + u, [0.7835639], rtol=1e-6)  # MXNet 1.9.1


def test_adadelta_ignores_the_learning_rate():
  p = jnp.array([1.0])
  a = mc.AdaDelta(learning_rate=0.5)
  b = mc.AdaDelta(learning_rate=5.0)
  ua, _ = a.update(jnp.array([2.0]), a.init(p), p)
  ub, _ = b.update(jnp.array([2.0]), b.init(p), p)
  np.testing.assert_array_equal(ua, ub)
  np.testing.assert_allclose(ua, -np.sqrt(1e-5) / np.sqrt(0.1 * 4 + 1e-5) * 2, rtol=1e-5)


def test_lr_scheduler_is_read_after_the_count():
  opt = mc.SGD(learning_rate=None, lr_scheduler=lambda n: 0.1 * n)
  p = jnp.zeros(1)
  u, s = opt.update(jnp.ones(1), opt.init(p), p)   # num_update = 1
  np.testing.assert_allclose(u, [-0.1])
  u, s = opt.update(jnp.ones(1), s, p)             # num_update = 2
  np.testing.assert_allclose(u, [-0.2])


@pytest.mark.parametrize('make,match', [
    (lambda: mc.SGD(momentum=-0.1), 'momentum'),
    (lambda: mc.Adam(beta1=1.0), 'beta1'),
    (lambda: mc.SGD(wd=-1.0), 'wd'),
    (lambda: mc.SGD(lr_mult=[1.0]), 'lr_mult'),
    (lambda: mc.SGD(foo=1), 'unknown arguments'),
    (lambda: mc.RMSProp(gamma1=1.0), 'gamma1'),
])
def test_invalid_arguments_name_themselves(make, match):
  with pytest.raises(ValueError, match=match):
    make()
