"""Polyak's step size: the hand formula and Optax, with a real objective."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

_rng = np.random.RandomState(0)
X = jnp.asarray(_rng.randn(20, 4), jnp.float32)
Y = X @ jnp.array([1.0, -2.0, 0.5, 3.0])  # interpolation: f* = 0


def loss(w):
  return 0.5 * jnp.mean((X @ w - Y) ** 2)


@pytest.mark.parametrize('kw', [
    dict(),
    dict(max_learning_rate=0.5, f_min=0.1, eps=1e-3, variant='sps+'),
])
def test_hand_formula_and_optax_over_many_steps(kw):
  fmin, gmax, eps = kw.get('f_min', 0.0), kw.get('max_learning_rate', 1.0), kw.get('eps', 0.0)
  ours, theirs = gradtx.polyak_sgd(**kw), optax.polyak_sgd(**kw)
  w = jnp.zeros(4)
  so, st = ours.init(w), theirs.init(w)
  update = jax.jit(ours.update)
  for _ in range(50):
    value, g = jax.value_and_grad(loss)(w)
    u, so = update(g, so, w, value=value)
    ut, st = theirs.update(g, st, w, value=value)
    gap = float(value) - fmin
    if kw.get('variant') == 'sps+':
      gap = max(gap, 0.0)
    sq = float(jnp.sum(g * g))
    gamma = min(gap / (sq + eps), gmax)
    np.testing.assert_allclose(u, -gamma * g, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(u, ut, rtol=1e-5, atol=1e-8)
    w = gradtx.apply_updates(w, u)
  assert update._cache_size() == 1  # pylint: disable=protected-access
  if not kw:
    assert float(loss(w)) < 1e-4 * float(loss(jnp.zeros(4)))


def test_sps_plus_clips_a_negative_gap_and_zero_gradient_gives_zero():
  tx = gradtx.scale_by_polyak(f_min=1.0, variant='sps+')
  g = jnp.array([1.0, 2.0])
  np.testing.assert_array_equal(tx.update(g, tx.init(g), value=0.5)[0], 0.0)
  sps = gradtx.scale_by_polyak(f_min=1.0)
  np.testing.assert_allclose(sps.update(g, sps.init(g), value=0.5)[0], -0.1 * g)
  zero = jnp.zeros(2)
  np.testing.assert_array_equal(sps.update(zero, sps.init(zero), value=3.0)[0], 0.0)


def test_bfloat16_updates_and_traced_value():
  tx = gradtx.scale_by_polyak()
  g = jnp.array([3.0, 4.0], jnp.bfloat16)
  u, _ = jax.jit(tx.update)(g, tx.init(g), value=jnp.asarray(5.0))
  assert u.dtype == jnp.bfloat16
  np.testing.assert_allclose(u.astype(np.float32), [0.6, 0.8], rtol=1e-2)


def test_value_is_required_and_variant_is_checked():
  tx = gradtx.scale_by_polyak()
  with pytest.raises(TypeError, match='value'):
    tx.update(jnp.ones(2), tx.init(jnp.ones(2)))
  with pytest.raises(ValueError, match='variant'):
    gradtx.scale_by_polyak(variant='sps++')
