"""gradtx.compat.mindspore against MindSpore 2.10 goldens (tests/golden/mindspore.npz).

MindSpore does not install in the test environment;
``tests/golden/make_mindspore.py`` ran it on CPU (see that file to
regenerate) for 200 steps per case with a per-step learning-rate list. Here
gradtx replays the same inputs and must follow the stored weights to 1e-5
relative at every step. ``Lamb`` and ``LARS`` (no CPU kernel in MindSpore
2.10: ``LARSUpdate`` fails to select one) and the decay filter are checked by
hand, LARS against ``lars_v2_update`` and ``nn.LARS.construct`` over 100
changing-lr steps.
"""

import json
import math
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from gradtx.compat import mindspore as msc
from tests.compat_runner import assert_paths_close, run_gradtx

GOLDEN = np.load(os.path.join(os.path.dirname(__file__), 'golden', 'mindspore.npz'))
NAMES = ['layer/bias', 'layer/weight']
CASES = sorted({k.split(':')[1] for k in GOLDEN.files if k.startswith('config:')})
STEPS = 200


def lr_list(lr):  # as tests/golden/make_mindspore.py
  return [float(np.float32(lr * min(1.0, (i + 1) / 10) * (0.55 + 0.45 * math.cos(math.pi * i / STEPS))))
          for i in range(STEPS)]


def _tree(prefix):
  return {'layer': {n.split('/')[1]: GOLDEN[f'{prefix}:{n}'] for n in NAMES}}


def test_goldens_are_mindspore_2_10():
  assert str(GOLDEN['mindspore_version']).startswith('2.10')
  assert len(CASES) >= 11


@pytest.mark.parametrize('case', CASES)
def test_optimizer_matches_mindspore_golden(case):
  config = json.loads(str(GOLDEN[f'config:{case}']))
  args = dict(config['args'])
  args['learning_rate'] = lr_list(args['learning_rate'])
  groups = args.pop('groups', None)
  if groups is not None:
    args['params'] = [dict(g, lr=lr_list(g['lr'])) if 'lr' in g else g for g in groups]
  ls = config['loss_scale']
  if ls != 1.0:
    args['loss_scale'] = ls
  tx = getattr(msc, config['cls'])(**args)
  if ls != 1.0:  # the gradients of a loss scaled by ls
    tx = gradtx.chain(gradtx.scale(ls), tx)
  path, _ = run_gradtx(tx, _tree('theta0'), _tree('coef'), _tree('noise'))
  # AdamWeightDecay's fused CPU kernel is ~5e-6 relative off its own formula
  # at each step (see its docstring); everything else agrees to 1e-5.
  tol = 3e-4 if config['cls'] == 'AdamWeightDecay' else 1e-5
  assert_paths_close(path, _tree(f'path:{case}'), rtol=tol, atol=tol)


def test_nesterov_uses_the_buffer_before_the_step():
  opt = msc.Momentum(learning_rate=0.1, momentum=0.9, use_nesterov=True)
  p, out = jnp.array([1.0]), []
  s = opt.init(p)
  for g in [3.0, -1.0, 2.0]:
    u, s = opt.update(jnp.array([g]), s, p)
    p = p + u
    out.append(float(p[0]))
  np.testing.assert_allclose(out, [0.7, 0.53, 0.177], rtol=1e-6)  # MindSpore 2.10 CPU


def test_default_filter_skips_beta_and_gamma():
  opt = msc.Momentum(learning_rate=0.1, momentum=0.0, weight_decay=0.5)
  p = {'bn': {'gamma': jnp.ones(2), 'beta': jnp.ones(2)}, 'dense': {'kernel': jnp.ones(2)}}
  g = jax.tree.map(jnp.zeros_like, p)
  u, _ = opt.update(g, opt.init(p), p)
  np.testing.assert_allclose(u['bn']['gamma'], 0.0)
  np.testing.assert_allclose(u['bn']['beta'], 0.0)
  np.testing.assert_allclose(u['dense']['kernel'], -0.05)


def test_lamb_follows_its_formula_by_hand():
  b1, b2, eps, lr, wd = 0.9, 0.999, 1e-6, 0.1, 0.01
  w = np.array([1.0, -2.0, 0.5])
  gs = [np.array([0.3, -0.1, 2.0]), np.array([-1.0, 0.4, 0.2]), np.array([0.5, 0.5, -0.5])]
  m = v = np.zeros(3)
  opt = msc.Lamb(learning_rate=lr, weight_decay=wd)
  p = jnp.asarray(w, jnp.float32)
  s = opt.init(p)
  for t, g in enumerate(gs, 1):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    u = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps) + wd * w
    w = w - lr * np.linalg.norm(w) / np.linalg.norm(u) * u
    d, s = opt.update(jnp.asarray(g, jnp.float32), s, p)
    p = p + d
  np.testing.assert_allclose(p, w, rtol=1e-5)


@pytest.mark.parametrize('make,match', [
    (lambda: msc.SGD(nesterov=True), 'nesterov'),
    (lambda: msc.Momentum(weight_decay=-1.0), 'weight_decay'),
    (lambda: msc.Adam(loss_scale=0.0), 'loss_scale'),
    (lambda: msc.Adam(beta1=1.0), 'beta1'),
    (lambda: msc.Momentum([{'params': '.*', 'momentum': 0.5}]), 'group keys'),
    (lambda: msc.Momentum(learning_rate=[[0.1]]), 'learning_rate'),
])
def test_invalid_arguments_name_themselves(make, match):
  with pytest.raises(ValueError, match=match):
    make()


def test_grad_centralization_only_when_shape1_is_a_multiple_of_16():
  opt = msc.SGD([{'params': '.*', 'grad_centralization': True}], learning_rate=1.0)
  p = {'a': jnp.zeros((2, 16)), 'b': jnp.zeros((2, 4))}
  g = {'a': jnp.arange(32.0).reshape(2, 16), 'b': jnp.arange(8.0).reshape(2, 4)}
  u, _ = opt.update(g, opt.init(p), p)
  np.testing.assert_allclose(u['a'], -(g['a'] - g['a'].mean(axis=1, keepdims=True)))
  np.testing.assert_allclose(u['b'], -g['b'])   # MindSpore skips it


def _lars_by_hand(kind, steps, lr, wd, eps, coef, use_clip, loss_scale, momentum=0.9,
                  decayed=lambda n: True, lars_on=lambda n: 'bias' not in n):
  """MindSpore's nn.LARS (lars_v2_update + nn.LARS.construct) in float64 NumPy."""
  theta0, coef_, noise = (jax.tree.map(np.asarray, t) for t in
                          (_tree('theta0'), _tree('coef'), _tree('noise')))
  w = {n: theta0['layer'][n].astype(np.float64) for n in ('bias', 'weight')}
  state = {n: np.zeros_like(v) for n, v in w.items()}
  m2 = {n: np.zeros_like(v) for n, v in w.items()}
  out = {n: [] for n in w}
  clipped = []
  for t in range(steps):
    for n in w:
      g = loss_scale * (coef_['layer'][n] * (w[n] - 0.5) + noise['layer'][n][t])
      g = g / loss_scale
      if lars_on(n):
        lam = wd if decayed(n) else 0.0
        wn, gn = np.linalg.norm(w[n]), np.linalg.norm(g)
        c = coef * wn / (gn + lam * wn + eps)
        if use_clip:
          clipped.append(c / lr[t] > 1.0)
          c = min(max(c / lr[t], 0.0), 1.0)
        g = c * (g + lam * w[n])
      if kind == 'Momentum':
        state[n] = momentum * state[n] + g
        w[n] = w[n] - lr[t] * state[n]
      else:  # Adam, MindSpore's form
        b1, b2, e = 0.9, 0.999, 1e-8
        state[n] = b1 * state[n] + (1 - b1) * g
        m2[n] = b2 * m2[n] + (1 - b2) * g * g
        k = t + 1
        w[n] = w[n] - lr[t] * np.sqrt(1 - b2**k) / (1 - b1**k) * state[n] / (np.sqrt(m2[n]) + e)
      out[n].append(w[n].copy())
  return {'layer': {n: np.stack(v) for n, v in out.items()}}, np.mean(clipped or [0.0])


@pytest.mark.parametrize('kind,use_clip,loss_scale', [
    ('Momentum', False, 1.0), ('Momentum', True, 8.0), ('Adam', True, 1.0)])
def test_lars_follows_mindspore_source_by_hand(kind, use_clip, loss_scale):
  # MindSpore 2.10 has no CPU kernel for LARSUpdate: the oracle is its source.
  steps, wd, eps = 100, 0.01, 1e-5
  base_lr = 0.5 if kind == 'Momentum' else 0.05
  coef = base_lr if use_clip else 0.02   # with the clip binding at 35-50% of steps
  lr = lr_list(base_lr)[:steps]
  inner = getattr(msc, kind)
  tx = msc.LARS(lambda: inner(learning_rate=lr, weight_decay=wd, loss_scale=loss_scale),
                epsilon=eps, coefficient=coef, use_clip=use_clip)
  if loss_scale != 1.0:
    tx = gradtx.chain(gradtx.scale(loss_scale), tx)
  ref, clipped = _lars_by_hand(kind, steps, lr, wd, eps, coef, use_clip, loss_scale)
  if use_clip:  # the clip binds at some steps and not at others
    assert 0.05 < clipped < 0.95, clipped
  noise = jax.tree.map(lambda x: x[:steps], _tree('noise'))
  path, _ = run_gradtx(tx, _tree('theta0'), _tree('coef'), noise)
  assert_paths_close(path, ref, rtol=2e-5, atol=2e-5)


def test_lars_groups_filter_and_decay_flags():
  # Group decay: λ per group (0 for bias); lars_filter keeps only 'weight';
  # the rejected leaf gets no decay at all (nn.LARS turns the optimizer's off).
  steps = 60
  lr = lr_list(0.5)[:steps]
  tx = msc.LARS(lambda: msc.Momentum(
      [{'params': 'layer/bias', 'weight_decay': 0.0},
       {'params': 'layer/weight', 'weight_decay': 0.05}], learning_rate=lr),
      coefficient=0.02, lars_filter=lambda name: name.endswith('weight'))
  ref, _ = _lars_by_hand('Momentum', steps, lr, 0.05, 1e-5, 0.02, False, 1.0,
                      decayed=lambda n: n == 'weight', lars_on=lambda n: n == 'weight')
  noise = jax.tree.map(lambda x: x[:steps], _tree('noise'))
  path, _ = run_gradtx(tx, _tree('theta0'), _tree('coef'), noise)
  assert_paths_close(path, ref, rtol=2e-5, atol=2e-5)
  # Without LARS the bias would be decayed by the default filter: a different run.
  plain, _ = run_gradtx(msc.Momentum(learning_rate=lr, weight_decay=0.05),
                        _tree('theta0'), _tree('coef'), noise)
  assert not np.allclose(plain['layer']['weight'], ref['layer']['weight'], rtol=1e-3)


def test_lars_zero_weight_gives_zero_step():
  tx = msc.LARS(lambda: msc.SGD(learning_rate=0.1))
  p = {'w': jnp.zeros(3)}
  u, _ = tx.update({'w': jnp.ones(3)}, tx.init(p), p)
  np.testing.assert_array_equal(u['w'], 0.0)   # c = κ·0/(‖g‖ + ε), not a trust ratio of 1


@pytest.mark.parametrize('make,match', [
    (lambda: msc.LARS(msc.Momentum()), 'function that builds'),
    (lambda: msc.LARS(lambda: None), 'exactly one'),
    (lambda: msc.LARS(msc.Momentum, coefficient=0.0), 'coefficient'),
    (lambda: msc.LARS(msc.Momentum, epsilon=-1.0), 'epsilon'),
    (lambda: msc.LARS(msc.Momentum, use_clip=1), 'use_clip'),
])
def test_lars_invalid_arguments_name_themselves(make, match):
  with pytest.raises(ValueError, match=match):
    make()


def test_lars_bfloat16_params_follow_float32_run():
  lr = lr_list(0.5)[:40]
  tx = msc.LARS(lambda: msc.Momentum(learning_rate=lr, weight_decay=0.01), coefficient=0.02)
  noise = jax.tree.map(lambda x: x[:40], _tree('noise'))
  p32, _ = run_gradtx(tx, _tree('theta0'), _tree('coef'), noise)
  p16, _ = run_gradtx(tx, _tree('theta0'), _tree('coef'), noise, dtype=jnp.bfloat16)
  assert all(x.dtype == jnp.bfloat16 for x in jax.tree.leaves(p16))
  for a, b in zip(jax.tree.leaves(p16), jax.tree.leaves(p32)):
    assert not np.allclose(b[-1], b[0], atol=0.05)   # the run moves the weights
    np.testing.assert_allclose(np.asarray(a, np.float32)[-1], b[-1], atol=0.05)
