"""Adan against a float64 numpy transcription of Algorithm 1 (Optax's form)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx

_rng = np.random.RandomState(0)
GRADS = [_rng.randn(5) for _ in range(30)]


def lr(t):
  return 0.05 * (1 + t) / (1 + 0.1 * t * t)


def adan_reference(grads, theta, b1, b2, b3, eps, eps_root, wd):
  """θ ← θ − η_t·((m̂ + (1 − b2)·v̂) / (√(n̂ + eps_root) + eps) + λ·θ)."""
  m = v = n = np.zeros_like(theta)
  prev = None
  out = []
  for t, g in enumerate(grads, start=1):
    diff = np.zeros_like(g) if prev is None else g - prev
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * diff
    n = b3 * n + (1 - b3) * (g + (1 - b2) * diff) ** 2
    mh, vh, nh = m / (1 - b1**t), v / (1 - b2**t), n / (1 - b3**t)
    u = (mh + (1 - b2) * vh) / (np.sqrt(nh + eps_root) + eps) + wd * theta
    theta = theta - lr(t - 1) * u
    prev = g
    out.append(theta)
  return out


@pytest.mark.parametrize('kw', [
    dict(),
    dict(b1=0.9, b2=0.7, b3=0.95, eps=1e-3, eps_root=1e-4, weight_decay=0.1),
])
def test_adan_matches_the_numpy_reference(kw):
  full = dict(b1=0.98, b2=0.92, b3=0.99, eps=1e-8, eps_root=1e-8,
              weight_decay=0.0)
  full.update(kw)
  theta0 = _rng.randn(5)
  expected = adan_reference(GRADS, theta0, full['b1'], full['b2'], full['b3'],
                            full['eps'], full['eps_root'], full['weight_decay'])
  opt = gradtx.adan(lambda c: lr(jnp.asarray(c, jnp.float32)), **kw)
  update = jax.jit(opt.update)
  theta = jnp.asarray(theta0, jnp.float32)
  state = opt.init(theta)
  for g, e in zip(GRADS, expected):
    u, state = update(jnp.asarray(g, jnp.float32), state, theta)
    theta = gradtx.apply_updates(theta, u)
    np.testing.assert_allclose(theta, e, rtol=1e-5, atol=1e-6)
  assert update._cache_size() == 1  # pylint: disable=protected-access


def test_first_step_is_the_sign_and_difference_starts_at_zero():
  tx = gradtx.scale_by_adan()
  g = jnp.array([2.0, -3.0, 0.5])
  u, state = tx.update(g, tx.init(g))
  np.testing.assert_allclose(u, jnp.sign(g), rtol=1e-6)
  np.testing.assert_array_equal(state.v, 0.0)
  np.testing.assert_array_equal(state.g, g)
  assert int(state.t) == 1


def test_bfloat16_state_and_updates():
  tx = gradtx.scale_by_adan()
  p = jnp.ones(3, jnp.bfloat16)
  state = tx.init(p)
  for g in ([1.0, -2.0, 3.0], [0.5, 0.5, -1.0]):
    u, state = tx.update(jnp.asarray(g, jnp.bfloat16), state)
  assert u.dtype == jnp.bfloat16
  assert all(x.dtype == jnp.bfloat16 for x in (state.m, state.v, state.n, state.g))
  expected = adan_reference([np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.5, -1.0])],
                            np.zeros(3), 0.98, 0.92, 0.99, 1e-8, 0.0, 0.0)
  # the reference's last step divided by −η: the update itself
  prev = adan_reference([np.array([1.0, -2.0, 3.0])], np.zeros(3), 0.98, 0.92,
                        0.99, 1e-8, 0.0, 0.0)[0]
  np.testing.assert_allclose(u.astype(np.float32),
                             (prev - expected[1]) / lr(1), rtol=2e-2)


@pytest.mark.parametrize('arg,value', [
    ('b1', 1.0), ('b2', -0.1), ('b3', 1.5), ('eps', -1.0), ('eps_root', -1.0)])
def test_bad_arguments_are_rejected(arg, value):
  with pytest.raises(ValueError, match=arg):
    gradtx.scale_by_adan(**{arg: value})
