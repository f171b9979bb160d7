"""Casting policies, ``select_tree`` and ``all_finite``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from gradtx import mixed_precision as mp


@pytest.mark.parametrize('spec,expected', [
    ('params=float32,compute=float16,output=float32',
     (jnp.float32, jnp.float16, jnp.float32)),
    ('p=f32,c=bf16,o=f32', (jnp.float32, jnp.bfloat16, jnp.float32)),
    ('compute=half', (jnp.float32, jnp.float16, jnp.float32)),
    ('  Params = FULL , Compute = BFloat16 ', (jnp.float32, jnp.bfloat16, jnp.float32)),
    ('bfloat16', (jnp.bfloat16, jnp.bfloat16, jnp.bfloat16)),
    ('c=f16,o=f16', (jnp.float32, jnp.float16, jnp.float16)),
])
def test_get_policy_parses(spec, expected):
  policy = gradtx.get_policy(spec)
  got = (policy.param_dtype, policy.compute_dtype, policy.output_dtype)
  assert got == tuple(jnp.dtype(d) for d in expected)
  assert gradtx.get_policy(str(policy)) == policy
  assert gradtx.get_policy(policy) is policy


@pytest.mark.parametrize('spec,words', [
    ('params=float32,compute=float8', ['float8', 'bfloat16', 'float16', 'float32']),
    ('params=f32,compte=f16', ['compte', 'compute', 'params', 'output']),
    ('params=f32,f16', ['key=dtype']),
    ('params=f32,p=f16', ['twice']),
    ('int32', ['int32', 'float32']),
])
def test_get_policy_errors_list_valid_names(spec, words):
  with pytest.raises(ValueError) as e:
    gradtx.get_policy(spec)
  for w in words:
    assert w in str(e.value)


def test_policy_rejects_non_float_dtype_and_non_string():
  with pytest.raises(ValueError, match='compute_dtype'):
    gradtx.Policy(jnp.float32, jnp.int32, jnp.float32)
  with pytest.raises(ValueError, match='spec'):
    gradtx.get_policy(16)


def test_casts_only_real_floating_leaves():
  policy = gradtx.get_policy('params=float32,compute=bfloat16,output=float32')
  tree = {'w': jnp.ones(2, jnp.float32), 'n': jnp.arange(2), 'mask': jnp.array([True]),
          'z': jnp.ones(1, jnp.complex64), 'none': None}
  c = policy.cast_to_compute(tree)
  assert c['w'].dtype == jnp.bfloat16
  assert c['n'].dtype == tree['n'].dtype and c['mask'].dtype == jnp.bool_
  assert c['z'].dtype == jnp.complex64 and c['none'] is None
  assert policy.cast_to_output(c)['w'].dtype == jnp.float32
  assert policy.cast_to_param(c)['w'].dtype == jnp.float32
  assert policy.with_output_dtype(jnp.float16).cast_to_output(c)['w'].dtype == jnp.float16


def test_policy_in_a_forward_pass_gives_float32_loss_from_float16_compute():
  policy = gradtx.get_policy('params=float32,compute=float16,output=float32')
  params = {'w': jnp.full((3, 2), 0.1), 'b': jnp.zeros(2)}

  def loss_fn(params, x):
    p, x = policy.cast_to_compute((params, x))
    out = jnp.tanh(x @ p['w'] + p['b'][None, :])
    assert out.dtype == jnp.float16
    return jnp.sum(policy.cast_to_output(out) ** 2)

  loss, grads = jax.value_and_grad(loss_fn)(params, jnp.ones((4, 3)))
  assert loss.dtype == jnp.float32
  assert grads['w'].dtype == jnp.float32  # grads follow the (float32) params
  expected = 4 * 2 * np.tanh(0.3) ** 2
  np.testing.assert_allclose(float(loss), expected, rtol=5e-3)  # float16 tanh


def test_select_tree():
  a = {'x': jnp.array([1.0, 2.0]), 'n': jnp.array(3)}
  b = {'x': jnp.array([5.0, 6.0]), 'n': jnp.array(4)}
  sel = jax.jit(gradtx.select_tree)
  out = sel(jnp.array(True), a, b)
  np.testing.assert_array_equal(np.asarray(out['x']), [1.0, 2.0])
  out = sel(jnp.array(False), a, b)
  np.testing.assert_array_equal(np.asarray(out['x']), [5.0, 6.0])
  assert int(out['n']) == 4
  with pytest.raises(ValueError, match='pred'):
    gradtx.select_tree(jnp.array([True, False]), a, b)
  with pytest.raises(TypeError, match='structures differ'):
    gradtx.select_tree(True, a, {'x': b['x']})
  with pytest.raises(TypeError, match='dtype'):
    gradtx.select_tree(True, a, {'x': b['x'].astype(jnp.float16), 'n': b['n']})


def test_all_finite_reuses_tree_all_finite():
  assert mp.all_finite is gradtx.tree.all_finite
  assert gradtx.all_finite is gradtx.tree.all_finite
  f = jax.jit(gradtx.all_finite)
  assert bool(f({'a': jnp.ones(3), 'b': jnp.arange(2)}))
  assert not bool(f({'a': jnp.ones(3).at[1].set(jnp.inf)}))
  assert not bool(f({'a': jnp.ones(3, jnp.float16).at[0].set(jnp.nan)}))
  assert bool(f({}))
