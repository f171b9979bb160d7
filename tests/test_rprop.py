"""Rprop against a float64 numpy transcription of Optax's iRprop⁻ rule."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx


def rprop_reference(grads, lr, eta_minus, eta_plus, lo, hi):
  """Per coordinate: Δ adapts to sign(g·p); the output is the delayed p."""
  delta = np.full_like(grads[0], lr)
  prev = np.zeros_like(grads[0])
  outs = []
  for g in grads:
    s = g * prev
    delta = np.where(s == 0, delta,
                     np.clip(delta * np.where(s > 0, eta_plus, eta_minus), lo, hi))
    out = np.where(s < 0, 0.0, prev)
    prev = np.where(s < 0, 0.0, delta * np.sign(g))
    outs.append(-out)
  return outs


@pytest.mark.parametrize('kw', [
    dict(),
    dict(eta_minus=0.3, eta_plus=1.5, min_step_size=0.02, max_step_size=0.2),
])
def test_rprop_matches_the_numpy_reference(kw):
  rng = np.random.RandomState(0)
  # signs that persist for a while and flip: a noisy oscillation
  grads = [np.sin(0.7 * t + np.arange(6)) + 0.3 * rng.randn(6) for t in range(40)]
  full = dict(eta_minus=0.5, eta_plus=1.2, min_step_size=1e-6, max_step_size=50.0)
  full.update(kw)
  expected = rprop_reference(grads, 0.1, full['eta_minus'], full['eta_plus'],
                             full['min_step_size'], full['max_step_size'])
  opt = gradtx.rprop(0.1, **kw)
  update = jax.jit(opt.update)
  state = opt.init(jnp.zeros(6))
  for g, e in zip(grads, expected):
    u, state = update(jnp.asarray(g, jnp.float32), state)
    np.testing.assert_allclose(u, e, rtol=1e-5, atol=1e-7)
  assert update._cache_size() == 1  # pylint: disable=protected-access
  assert np.any(np.asarray(expected) == 0.0) and np.any(np.asarray(expected) != 0.0)


def test_rprop_minimises_a_badly_scaled_quadratic():
  scales = jnp.array([1e-3, 1.0, 1e3])
  f = lambda x: jnp.sum(scales * (x - 1.0) ** 2)
  opt = gradtx.rprop(0.1)
  x, state = jnp.zeros(3), opt.init(jnp.zeros(3))
  for _ in range(60):
    u, state = opt.update(jax.grad(f)(x), state)
    x = gradtx.apply_updates(x, u)
  np.testing.assert_allclose(x, 1.0, atol=1e-3)  # the scale does not matter


def test_bfloat16_state():
  tx = gradtx.scale_by_rprop(0.1)
  p = jnp.zeros(2, jnp.bfloat16)
  state = tx.init(p)
  for g in ([1.0, -1.0], [1.0, 1.0], [1.0, 1.0]):
    u, state = tx.update(jnp.asarray(g, jnp.bfloat16), state)
  assert u.dtype == state.step_sizes.dtype == jnp.bfloat16
  np.testing.assert_allclose(state.step_sizes.astype(np.float32),
                             [0.1 * 1.2**2, 0.05], rtol=1e-2)  # flip, then s = 0


@pytest.mark.parametrize('kw,arg', [
    (dict(learning_rate=0.0), 'learning_rate'),
    (dict(learning_rate=lambda t: 0.1), 'learning_rate'),
    (dict(learning_rate=0.1, eta_minus=-0.5), 'eta_minus'),
    (dict(learning_rate=0.1, min_step_size=1.0, max_step_size=0.5), 'max_step_size'),
])
def test_bad_arguments_are_rejected(kw, arg):
  with pytest.raises(ValueError, match=arg):
    gradtx.scale_by_rprop(**kw)
