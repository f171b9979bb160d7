"""Hand-derived tests of the trust-ratio transformation, LAMB, LARS and Fromage.

Numpy float64 references of the published rules (per leaf = per layer), run
for 25 steps with a changing learning rate in float32 and bfloat16, plus Keras'
``Lamb`` as a reference library, edge cases of the trust ratio and bad inputs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from tests.test_adam_family import DTYPES
from tests.test_adam_family import DTYPE_IDS
from tests.test_adam_family import STEPS
from tests.test_adam_family import THETA0
from tests.test_adam_family import assert_close
from tests.test_adam_family import grad_np
from tests.test_adam_family import lr_jax
from tests.test_adam_family import lr_np
from tests.test_adam_family import run_gradtx
from tests.test_adam_family import run_reference
from tests.test_adam_family import tol


def norm(x):
  return np.sqrt(np.sum(np.square(x)))


def trust(d, theta, coeff=1.0, eps=0.0, min_norm=0.0):
  """Per-layer trust ratio c·‖θ‖/(‖d‖ + eps), 1 when a norm is 0."""
  pn, dn = max(norm(theta), min_norm), max(norm(d), min_norm)
  return 1.0 if pn == 0 or dn == 0 else coeff * pn / (dn + eps)


def lamb_ref(b1=0.9, b2=0.999, eps=1e-6, wd=0.0):
  def init(theta):
    return dict(m=np.zeros_like(theta), v=np.zeros_like(theta))

  def step(g, theta, s, t, lr, rd):
    m = b1 * s['m'] + (1 - b1) * g
    v = b2 * s['v'] + (1 - b2) * g * g
    adam = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    d = rd(rd(adam) + wd * theta)
    return rd(-lr * rd(trust(d, theta) * d)), dict(m=m, v=v)
  return init, step


def lars_ref(wd=0.0, coeff=0.001, eps=0.0, mu=0.9, nesterov=False):
  def init(theta):
    return dict(m=np.zeros_like(theta))

  def step(g, theta, s, t, lr, rd):
    d = rd(g + wd * theta)
    d = rd(-lr * rd(trust(d, theta, coeff, eps) * d))
    m = rd(d + rd(mu * s['m']))
    return (rd(d + rd(mu * m)) if nesterov else m), dict(m=m)
  return init, step


def fromage_ref(min_norm=1e-6):
  def init(theta):
    return {}

  def step(g, theta, s, t, lr, rd):
    d = rd(trust(g, theta, min_norm=min_norm) * g)
    c = 1 / np.sqrt(1 + lr * lr)
    new_theta = c * (theta - lr * d)   # the published rule
    return new_theta - theta, {}
  return init, step


REFERENCE_CASES = {
    'lamb': (lamb_ref(), lambda lr: gradtx.lamb(lr)),
    'lamb_wd': (lamb_ref(wd=0.05, eps=1e-8),
                lambda lr: gradtx.lamb(lr, eps=1e-8, weight_decay=0.05)),
    'lars': (lars_ref(coeff=0.05),
             lambda lr: gradtx.lars(lr, trust_coefficient=0.05)),
    'lars_nesterov_wd': (
        lars_ref(wd=0.1, coeff=0.05, mu=0.8, nesterov=True),
        lambda lr: gradtx.lars(lr, weight_decay=0.1, trust_coefficient=0.05,
                               momentum=0.8, nesterov=True)),
    'fromage': (fromage_ref(), lambda lr: gradtx.fromage(lr)),
}


@pytest.mark.parametrize('dtype', DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize('name', sorted(REFERENCE_CASES))
def test_matches_float64_reference(name, dtype):
  (init, step), make = REFERENCE_CASES[name]
  ref = run_reference(init, step, dtype)
  ours = run_gradtx(make(lr_jax), dtype)
  moved = max(np.max(np.abs(ours[k] - THETA0[k])) for k in ours)
  assert moved > 0.01, 'the test must move the params'
  assert_close(ours, ref, **tol(dtype))


def test_fromage_keeps_the_norm_from_growing():
  """‖θ − ηd‖² = ‖θ‖²(1 + η²) when d ⟂ θ and ‖d‖ = ‖θ‖; the shrink undoes it."""
  opt = gradtx.fromage(0.5)
  p = jnp.array([3.0, 4.0])
  u, _ = opt.update(jnp.array([-4.0, 3.0]), opt.init(p), p)
  np.testing.assert_allclose(norm(np.asarray(p + u)), 5.0, rtol=1e-6)


# ---------------------------------------------------------------------------
# Keras' Lamb: same rule (Adam direction, ratio ‖θ‖/‖d‖, decay outside).
# ---------------------------------------------------------------------------
def run_keras_lamb(eps, steps=STEPS):
  keras = pytest.importorskip('keras')
  names = sorted(THETA0)
  variables = [keras.Variable(THETA0[k].astype(np.float32)) for k in names]
  opt = keras.optimizers.Lamb(learning_rate=1e-3, epsilon=eps)
  opt.build(variables)
  for i in range(steps):
    g = grad_np({k: np.asarray(v, np.float64) for k, v in zip(names, variables)}, i)
    opt.learning_rate.assign(lr_np(i))
    opt.apply_gradients([(g[k].astype(np.float32), v)
                         for k, v in zip(names, variables)])
  return {k: np.asarray(v, np.float64) for k, v in zip(names, variables)}


def test_lamb_matches_keras():
  theirs = run_keras_lamb(eps=1e-7)
  ours = run_gradtx(gradtx.lamb(lr_jax, eps=1e-7), jnp.float32)
  assert_close(ours, theirs, **tol(jnp.float32))


# ---------------------------------------------------------------------------
# The trust ratio itself.
# ---------------------------------------------------------------------------
def test_trust_ratio_per_leaf_with_zero_norms():
  tx = gradtx.scale_by_trust_ratio(trust_coefficient=0.5, eps=1.0)
  p = {'w': jnp.array([[3.0, 4.0]]), 'b': jnp.zeros(2), 'z': jnp.ones(2)}
  g = {'w': jnp.array([[0.0, 4.0]]), 'b': jnp.array([1.0, -1.0]),
       'z': jnp.zeros(2)}
  u, state = tx.update(g, tx.init(p), p)
  assert state == gradtx.ScaleByTrustRatioState()
  np.testing.assert_allclose(u['w'], [[0.0, 4.0 * 0.5 * 5.0 / 5.0]])
  np.testing.assert_allclose(u['b'], [1.0, -1.0])  # ‖θ‖ = 0: unchanged
  np.testing.assert_allclose(u['z'], [0.0, 0.0])   # ‖u‖ = 0: unchanged


def test_trust_ratio_min_norm_bounds_both_norms():
  tx = gradtx.scale_by_trust_ratio(min_norm=2.0)
  p = jnp.array([0.0, 0.5])  # ‖θ‖ = 0.5 → 2
  u, _ = tx.update(jnp.array([0.0, 8.0]), tx.init(p), p)
  np.testing.assert_allclose(u, [0.0, 8.0 * 2.0 / 8.0])
  u, _ = tx.update(jnp.array([0.0, 0.1]), tx.init(p), p)  # ‖g‖ → 2
  np.testing.assert_allclose(u, [0.0, 0.1 * 2.0 / 2.0])


def test_trust_ratio_keeps_low_precision_and_computes_norms_in_float32():
  tx = gradtx.scale_by_trust_ratio()
  p = jnp.full((4096,), 300.0, jnp.bfloat16)  # ‖θ‖² overflows nothing in f32
  g = jnp.full((4096,), 1.0, jnp.bfloat16)
  u, _ = tx.update(g, tx.init(p), p)
  assert u.dtype == jnp.bfloat16
  np.testing.assert_allclose(np.asarray(u, np.float32), 300.0, rtol=4e-3)
  h = jnp.full((4096,), 300.0, jnp.float16)  # ‖θ‖² = 3.7e8 > float16 max
  u, _ = tx.update(jnp.ones(4096, jnp.float16), tx.init(h), h)
  assert u.dtype == jnp.float16
  np.testing.assert_allclose(np.asarray(u, np.float32), 300.0, rtol=1e-3)


def test_trust_ratio_gradient_is_finite_at_zero():
  from gradtx.numerics import safe_norm  # pylint: disable=g-import-not-at-top
  grad = jax.grad(lambda x: safe_norm(x, 1e-3))(jnp.zeros(3))
  np.testing.assert_array_equal(grad, jnp.zeros(3))
  grad = jax.grad(lambda x: safe_norm(x, 0.0))(jnp.array([3.0, 4.0]))
  np.testing.assert_allclose(grad, [0.6, 0.8])


def test_trust_ratio_needs_params():
  tx = gradtx.scale_by_trust_ratio()
  with pytest.raises(ValueError, match='params'):
    tx.update(jnp.ones(2), tx.init(jnp.ones(2)))


def test_lars_masks_exclude_leaves():
  """Excluded leaves get neither weight decay nor the trust ratio."""
  p = {'w': jnp.array([3.0, 4.0]), 'b': jnp.array([1.0, 1.0])}
  g = {'w': jnp.array([0.0, 1.0]), 'b': jnp.array([0.5, 0.5])}
  only_w = {'w': True, 'b': False}
  opt = gradtx.lars(0.1, weight_decay=0.5, weight_decay_mask=only_w,
                    trust_coefficient=0.01, trust_ratio_mask=only_w,
                    momentum=0.0)
  u, _ = opt.update(g, opt.init(p), p)
  d = np.array([1.5, 3.0])  # g + 0.5·θ
  np.testing.assert_allclose(u['w'], -0.1 * 0.01 * 5.0 / norm(d) * d, rtol=1e-6)
  np.testing.assert_allclose(u['b'], [-0.05, -0.05], rtol=1e-6)


def test_lamb_mask_excludes_leaves_from_decay():
  p = {'w': jnp.array([3.0, 4.0]), 'b': jnp.array([1.0, 1.0])}
  g = {'w': jnp.array([1.0, 1.0]), 'b': jnp.array([1.0, 1.0])}
  plain = gradtx.lamb(0.1, eps=0.0)
  masked = gradtx.lamb(0.1, eps=0.0, weight_decay=10.0,
                       mask={'w': False, 'b': False})
  u1, _ = plain.update(g, plain.init(p), p)
  u2, _ = masked.update(g, masked.init(p), p)
  np.testing.assert_allclose(u1['w'], u2['w'])
  np.testing.assert_allclose(u1['b'], u2['b'])


# ---------------------------------------------------------------------------
# Bad hyperparameters.
# ---------------------------------------------------------------------------
BAD_INPUTS = [
    ('min_norm', lambda: gradtx.scale_by_trust_ratio(min_norm=-1.0)),
    ('trust_coefficient',
     lambda: gradtx.scale_by_trust_ratio(trust_coefficient=-0.1)),
    ('eps', lambda: gradtx.scale_by_trust_ratio(eps=-1e-8)),
    ('learning_rate', lambda: gradtx.lamb(-0.1)),
    ('b1', lambda: gradtx.lamb(0.1, b1=1.0)),
    ('b2', lambda: gradtx.lamb(0.1, b2=2.0)),
    ('eps', lambda: gradtx.lamb(0.1, eps=-1.0)),
    ('weight_decay', lambda: gradtx.lamb(0.1, weight_decay=-0.01)),
    ('learning_rate', lambda: gradtx.lars(-1.0)),
    ('momentum', lambda: gradtx.lars(0.1, momentum=1.5)),
    ('trust_coefficient', lambda: gradtx.lars(0.1, trust_coefficient=-1e-3)),
    ('eps', lambda: gradtx.lars(0.1, eps=-1.0)),
    ('weight_decay', lambda: gradtx.lars(0.1, weight_decay=-1e-4)),
    ('learning_rate', lambda: gradtx.fromage(-0.1)),
    ('learning_rate', lambda: gradtx.fromage('fast')),
    ('min_norm', lambda: gradtx.fromage(0.1, min_norm=-1e-6)),
]


@pytest.mark.parametrize('arg,make', BAD_INPUTS,
                         ids=[f'{a}-{i}' for i, (a, _) in enumerate(BAD_INPUTS)])
def test_bad_hyperparameters_are_refused(arg, make):
  with pytest.raises(ValueError) as info:
    make()
  assert str(info.value).startswith(arg), str(info.value)


def test_layerwise_optimizers_need_params():
  for opt in (gradtx.lamb(0.1), gradtx.lars(0.1), gradtx.fromage(0.1)):
    with pytest.raises(ValueError, match='params'):
      opt.update(jnp.ones(2), opt.init(jnp.ones(2)))
