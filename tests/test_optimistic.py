"""Optimistic gradients: the hand formula, a bilinear game, optimistic Adam."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx


@pytest.mark.parametrize('alpha,beta', [(1.0, 1.0), (0.3, 0.7)])
def test_hand_formula_over_many_steps(alpha, beta):
  rng = np.random.RandomState(0)
  grads = [rng.randn(4) for _ in range(20)]
  tx = gradtx.scale_by_optimistic_gradient(alpha, beta)
  update = jax.jit(tx.update)
  state = tx.init(jnp.zeros(4))
  prev = grads[0]
  for g in grads:
    u, state = update(jnp.asarray(g, jnp.float32), state)
    np.testing.assert_allclose(u, (alpha + beta) * g - beta * prev, rtol=1e-5,
                               atol=1e-6)
    prev = g
  assert update._cache_size() == 1  # pylint: disable=protected-access


def bilinear_distance(opt, steps=400):
  """min_x max_y x·y from (1, 2): distance to the equilibrium (0, 0)."""
  params = (jnp.array(1.0), jnp.array(2.0))

  def step(carry, _):
    params, state = carry
    gx, gy = jax.grad(lambda x, y: x * y, argnums=(0, 1))(*params)
    u, state = opt.update((gx, -gy), state, params)
    return (gradtx.apply_updates(params, u), state), None

  (params, _), _ = jax.jit(lambda c: jax.lax.scan(step, c, None, length=steps))(
      (params, opt.init(params)))
  return float(jnp.hypot(*params))


def test_optimism_converges_on_a_bilinear_game_where_gda_does_not():
  start = float(np.hypot(1.0, 2.0))
  assert bilinear_distance(gradtx.sgd(0.1)) > start  # plain GDA spirals out
  assert bilinear_distance(gradtx.optimistic_gradient_descent(0.1)) < 0.5 * start


def test_optimistic_adam_is_v2_with_alpha_lr_and_beta_optimism():
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    old = gradtx.optimistic_adam(0.02, 0.5)
  new = gradtx.optimistic_adam_v2(1.0, alpha=0.02, beta=0.5)
  rng = np.random.RandomState(1)
  so, sn = old.init(jnp.zeros(3)), new.init(jnp.zeros(3))
  for _ in range(10):
    g = jnp.asarray(rng.randn(3), jnp.float32)
    uo, so = old.update(g, so)
    un, sn = new.update(g, sn)
    np.testing.assert_allclose(uo, un, rtol=1e-6)


def test_optimistic_adam_warns_and_refuses_schedules_like_optax():
  with pytest.warns(DeprecationWarning, match='optimistic_adam_v2'):
    gradtx.optimistic_adam(0.1)
  with pytest.raises(ValueError, match='optimistic_adam_v2'):
    with warnings.catch_warnings():
      warnings.simplefilter('ignore', DeprecationWarning)
      gradtx.optimistic_adam(lambda t: 0.1)


def test_optimistic_adam_v2_bfloat16_params_follow_the_float32_run():
  """bf16 params stay bf16 and track the float32 run (which the battery
  compares with Optax) to bf16 rounding."""
  results = []
  for dtype in (jnp.bfloat16, jnp.float32):
    opt = gradtx.optimistic_adam_v2(0.05, alpha=0.8, beta=0.4)
    p = jnp.array([1.0, -2.0, 0.5], dtype)
    s = opt.init(p)
    for _ in range(10):
      g = (2 * p.astype(jnp.float32)).astype(dtype)
      u, s = opt.update(g, s, p)
      p = gradtx.apply_updates(p, u)
    results.append(p)
  assert results[0].dtype == jnp.bfloat16
  np.testing.assert_allclose(results[0].astype(np.float32), results[1],
                             atol=1e-2)
  assert float(jnp.max(jnp.abs(results[1] - jnp.array([1.0, -2.0, 0.5])))) > 0.2


def test_schedules_for_alpha_are_refused():
  with pytest.raises(ValueError, match='alpha'):
    gradtx.scale_by_optimistic_gradient(alpha=lambda t: 1.0)
