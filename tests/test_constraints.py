"""Hand-derived tests of centralize, zero_nans and keep_params_nonnegative."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx


def _apply(tx, updates, params=None):
  return tx.update(updates, tx.init(updates if params is None else params), params)


# ---------------------------------------------------------------------------
# centralize
# ---------------------------------------------------------------------------
def test_centralize_hand_values():
  rng = np.random.default_rng(0)
  g = {'vec': rng.normal(size=(5,)).astype(np.float32),
       'scalar': np.float32(2.5),
       'dense': rng.normal(size=(4, 3)).astype(np.float32),
       'conv': rng.normal(size=(3, 2, 2, 2)).astype(np.float32)}
  out, state = _apply(gradtx.centralize(), g)
  assert state == gradtx.CentralizeState()
  np.testing.assert_array_equal(out['vec'], g['vec'])  # rank < 2: unchanged
  np.testing.assert_array_equal(out['scalar'], g['scalar'])
  np.testing.assert_allclose(out['dense'], g['dense'] - g['dense'].mean(1, keepdims=True),
                             rtol=1e-6, atol=1e-7)
  np.testing.assert_allclose(
      out['conv'], g['conv'] - g['conv'].mean((1, 2, 3), keepdims=True),
      rtol=1e-6, atol=1e-7)
  # Each row (unit) now sums to zero.
  np.testing.assert_allclose(np.asarray(out['conv']).reshape(3, -1).sum(1), 0, atol=1e-6)
  theirs, _ = optax.centralize().update(g, optax.EmptyState())
  for k in g:
    np.testing.assert_allclose(out[k], theirs[k], rtol=1e-6, atol=1e-7)


def test_centralize_bf16_mean_in_float32():
  g = jnp.array([[256.0, 1.0, 1.0, 2.0]], jnp.bfloat16)
  out, _ = _apply(gradtx.centralize(), g)
  assert out.dtype == jnp.bfloat16
  np.testing.assert_allclose(np.asarray(out, np.float32), [[191.0, -64.0, -64.0, -63.0]],
                             rtol=1e-2)


# ---------------------------------------------------------------------------
# zero_nans
# ---------------------------------------------------------------------------
def test_zero_nans_replaces_nans_only_and_records_them_per_leaf():
  tx = gradtx.zero_nans()
  params = {'a': jnp.zeros(3), 'b': {'c': jnp.zeros((2, 2))}}
  state = tx.init(params)
  assert isinstance(state, gradtx.ZeroNansState)
  assert jax.tree.structure(state.found_nan) == jax.tree.structure(params)
  assert all(x.dtype == jnp.bool_ and x.shape == () and not bool(x)
             for x in jax.tree.leaves(state.found_nan))

  update = jax.jit(tx.update)
  g = {'a': jnp.array([1.0, jnp.nan, jnp.inf]), 'b': {'c': jnp.ones((2, 2))}}
  out, state = update(g, state)
  np.testing.assert_array_equal(out['a'], [1.0, 0.0, np.inf])  # inf is kept
  np.testing.assert_array_equal(out['b']['c'], np.ones((2, 2)))
  assert bool(state.found_nan['a']) and not bool(state.found_nan['b']['c'])

  # The flag describes the last update only.
  g2 = {'a': jnp.ones(3), 'b': {'c': jnp.array([[jnp.nan, 1.0], [1.0, 1.0]])}}
  out, state = update(g2, state)
  assert not bool(state.found_nan['a']) and bool(state.found_nan['b']['c'])
  np.testing.assert_array_equal(out['b']['c'], [[0.0, 1.0], [1.0, 1.0]])

  # Same as Optax.
  theirs, their_state = optax.zero_nans().update(g2, optax.zero_nans().init(params))
  assert jax.tree.map(bool, their_state.found_nan) == jax.tree.map(bool, state.found_nan)
  np.testing.assert_array_equal(theirs['b']['c'], out['b']['c'])


@pytest.mark.parametrize('dtype', [jnp.bfloat16, jnp.float16, jnp.complex64])
def test_zero_nans_keeps_dtype(dtype):
  g = jnp.array([jnp.nan, 2.0]).astype(dtype)
  out, state = _apply(gradtx.zero_nans(), g)
  assert out.dtype == dtype and bool(state.found_nan)
  np.testing.assert_array_equal(np.asarray(out.astype(jnp.complex64)), [0.0, 2.0])


def test_zero_nans_state_structure_error():
  tx = gradtx.zero_nans()
  state = tx.init({'a': jnp.zeros(1)})
  with pytest.raises(TypeError, match='state'):
    tx.update({'a': jnp.zeros(1), 'b': jnp.zeros(1)}, state)


# ---------------------------------------------------------------------------
# keep_params_nonnegative
# ---------------------------------------------------------------------------
def test_keep_params_nonnegative_hand_values():
  p = jnp.array([1.0, 1.0, 0.0, 2.0, -0.5])
  u = jnp.array([-2.0, -0.5, 0.3, -2.0, 0.2])
  out, state = _apply(gradtx.keep_params_nonnegative(), u, p)
  assert state == gradtx.NonNegativeParamsState()
  # p + u = [-1, .5, .3, 0, -.3]: below zero the update becomes -p.
  np.testing.assert_array_equal(out, np.float32([-1.0, -0.5, 0.3, -2.0, 0.5]))
  np.testing.assert_array_equal(gradtx.apply_updates(p, out),
                                np.float32([0.0, 0.5, 0.3, 0.0, 0.0]))


def test_keep_params_nonnegative_projected_sgd_many_steps():
  """Projected SGD with a changing learning rate, against a numpy loop."""
  target = np.array([1.0, -2.0, 0.5, -0.1], np.float32)
  lr = lambda t, xp=np: 0.2 / (1.0 + 0.1 * t)
  tx = gradtx.chain(gradtx.scale_by_learning_rate(lambda t: lr(t, jnp)),
                    gradtx.keep_params_nonnegative())
  p = jnp.array([0.5, 0.5, 0.5, 0.5])
  state = tx.init(p)
  step = jax.jit(lambda p, s: tx.update(2 * (p - target), s, p))
  p_np = np.array(p, np.float64)
  for t in range(40):
    u, state = step(p, state)
    p = gradtx.apply_updates(p, u)
    p_np = np.maximum(p_np - lr(t) * 2 * (p_np - target), 0.0)
    assert bool(jnp.all(p >= 0))
  np.testing.assert_allclose(p, p_np, rtol=1e-5, atol=1e-6)
  assert float(p[1]) == 0.0 and float(p[0]) == pytest.approx(1.0, abs=1e-3)


def test_keep_params_nonnegative_bf16_and_none_leaves():
  p = {'a': jnp.array([0.5], jnp.bfloat16), 'b': None}
  u = {'a': jnp.array([-1.0], jnp.bfloat16), 'b': None}
  out, _ = _apply(gradtx.keep_params_nonnegative(), u, p)
  assert out['b'] is None and out['a'].dtype == jnp.bfloat16
  np.testing.assert_array_equal(np.asarray(out['a'], np.float32), [-0.5])


def test_keep_params_nonnegative_needs_params():
  tx = gradtx.keep_params_nonnegative()
  with pytest.raises(ValueError, match='params'):
    tx.update(jnp.ones(2), tx.init(jnp.ones(2)))
