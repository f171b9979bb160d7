"""gradtx.numerics against hand values and Optax's functions of the same name."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

X = np.array([[3.0, -4.0, 0.0], [1.0, 2.0, -2.0]], np.float32)


@pytest.mark.parametrize('kwargs', [
    dict(), dict(ord=1), dict(axis=0), dict(axis=1, keepdims=True),
    dict(ord=np.inf, axis=1), dict(ord='fro'),
])
def test_safe_norm_matches_numpy_and_optax(kwargs):
  want = np.linalg.norm(X.astype(np.float64), **kwargs)
  got = gradtx.safe_norm(jnp.asarray(X), 0.5, **kwargs)
  np.testing.assert_allclose(got, np.maximum(want, 0.5), rtol=1e-6)
  np.testing.assert_allclose(got, optax.safe_norm(jnp.asarray(X), 0.5, **kwargs),
                             rtol=1e-6)


def test_safe_norm_floor_and_zero_gradient():
  assert float(gradtx.safe_norm(jnp.zeros(3), 2.0)) == 2.0
  np.testing.assert_array_equal(
      jax.grad(lambda x: gradtx.safe_norm(x, 1e-3))(jnp.zeros(3)), np.zeros(3))
  # Above the floor: d‖x‖/dx = x/‖x‖.
  np.testing.assert_allclose(
      jax.grad(lambda x: gradtx.safe_norm(x, 1e-3))(jnp.array([3.0, 4.0])),
      [0.6, 0.8], rtol=1e-6)
  # float16 input is normed in float32 (300² would overflow float16).
  assert gradtx.safe_norm(jnp.array([300.0, 400.0], jnp.float16), 0.0) == 500.0


def test_safe_root_mean_squares():
  x = jnp.array([3.0, -3.0, 3.0, 3.0])
  assert float(gradtx.safe_root_mean_squares(x, 1e-3)) == 3.0
  assert float(gradtx.safe_root_mean_squares(jnp.zeros(4), 0.25)) == 0.25
  np.testing.assert_array_equal(
      jax.grad(lambda x: gradtx.safe_root_mean_squares(x, 0.1))(jnp.zeros(4)),
      np.zeros(4))
  np.testing.assert_allclose(gradtx.safe_root_mean_squares(x, 1e-3),
                             optax.safe_root_mean_squares(x, 1e-3))


def test_global_norm_and_safe_increment():
  tree = {'a': jnp.array([3.0]), 'b': {'c': jnp.array([[4.0, 12.0]])}}
  assert float(gradtx.global_norm(tree)) == 13.0
  top = jnp.asarray(np.iinfo(np.int32).max, jnp.int32)
  assert int(gradtx.safe_increment(top)) == np.iinfo(np.int32).max
  assert int(gradtx.safe_increment(jnp.asarray(4, jnp.int32))) == 5


@pytest.mark.parametrize('scale', [0.0, 0.5, 1.0, 3.0])
def test_scale_gradient(scale):
  f = lambda x: jnp.sum(gradtx.scale_gradient(x, scale) ** 2)
  x = jnp.array([1.0, -2.0])
  np.testing.assert_allclose(f(x), 5.0)
  np.testing.assert_allclose(jax.grad(f)(x), scale * 2 * np.asarray(x))
  # A traced scale works too.
  g = jax.jit(jax.grad(lambda x, s: jnp.sum(gradtx.scale_gradient(x, s) ** 2)))(
      x, jnp.asarray(scale))
  np.testing.assert_allclose(g, scale * 2 * np.asarray(x))


def test_scale_by_param_block_norm_and_normalize_by_update_norm_by_hand():
  p = {'w': jnp.array([[3.0, 4.0]]), 'b': jnp.array([1e-5])}
  g = {'w': jnp.array([[1.0, 1.0]]), 'b': jnp.array([2.0])}
  tx = gradtx.scale_by_param_block_norm(min_scale=1e-3)
  u, _ = tx.update(g, tx.init(p), p)
  np.testing.assert_allclose(u['w'], [[5.0, 5.0]])
  np.testing.assert_allclose(u['b'], [2e-3])  # floored at min_scale
  tx = gradtx.normalize_by_update_norm(scale_factor=2.0, eps=0.0)
  u, _ = tx.update(g, tx.init(p))
  n = np.sqrt(1 + 1 + 4)
  np.testing.assert_allclose(u['w'], [[2 / n, 2 / n]], rtol=1e-6)
  np.testing.assert_allclose(u['b'], [4 / n], rtol=1e-6)


@pytest.mark.parametrize('make,arg', [
    (lambda: gradtx.scale_by_param_block_norm(min_scale=-1.0), 'min_scale'),
    (lambda: gradtx.normalize_by_update_norm(eps=-1.0), 'eps'),
])
def test_bad_arguments(make, arg):
  with pytest.raises(ValueError, match=arg):
    make()
