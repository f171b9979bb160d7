"""Every function of ``gradtx.tree`` against values computed by hand in numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from gradtx import tree as tu


def _trees(seed=0):
  rng = np.random.default_rng(seed)
  a = {'w': rng.normal(size=(3, 2)).astype(np.float32),
       'b': [rng.normal(size=(4,)).astype(np.float32), np.float32(1.5)]}
  b = jax.tree.map(lambda x: (np.asarray(rng.normal(size=np.shape(x))) + 2.0)
                   .astype(np.float32), a)
  return a, b


def _leaves64(tree):
  return [np.asarray(x, np.float64) for x in jax.tree.leaves(tree)]


def _assert_tree_close(got, expected, rtol=1e-6, atol=1e-7):
  assert jax.tree.structure(got) == jax.tree.structure(expected)
  for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
    np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------
# Arithmetic.
# ---------------------------------------------------------------------------
def test_add_sub_mul_div():
  a, b = _trees()
  c = jax.tree.map(lambda x: np.full(np.shape(x), 0.5, np.float32), a)
  _assert_tree_close(tu.add(a, b), jax.tree.map(lambda x, y: x + y, a, b))
  _assert_tree_close(tu.add(a, b, c), jax.tree.map(lambda x, y, z: x + y + z, a, b, c))
  _assert_tree_close(tu.sub(a, b), jax.tree.map(lambda x, y: x - y, a, b))
  _assert_tree_close(tu.mul(a, b), jax.tree.map(lambda x, y: x * y, a, b))
  _assert_tree_close(tu.div(a, b), jax.tree.map(lambda x, y: x / y, a, b))
  with pytest.raises(ValueError):
    tu.add(a, {'w': a['w']})


def test_scale_and_add_scale_keep_dtype():
  a, b = _trees()
  _assert_tree_close(tu.scale(-2.5, a), jax.tree.map(lambda x: -2.5 * x, a))
  _assert_tree_close(tu.add_scale(a, 0.3, b), jax.tree.map(lambda x, y: x + 0.3 * y, a, b))
  h = {'x': jnp.array([1.0, 2.0], jnp.bfloat16), 'n': None}
  out = tu.scale(jnp.float32(0.5), h)
  assert out['x'].dtype == jnp.bfloat16 and out['n'] is None
  np.testing.assert_array_equal(np.asarray(out['x'], np.float32), [0.5, 1.0])
  out = tu.add_scale(jnp.ones(2, jnp.float16), jnp.float32(0.25), jnp.ones(2))
  assert out.dtype == jnp.float16
  np.testing.assert_array_equal(np.asarray(out, np.float32), [1.25, 1.25])


def test_vdot_and_sum():
  a, b = _trees()
  expected = sum(np.sum(x * y) for x, y in zip(_leaves64(a), _leaves64(b)))
  assert float(tu.vdot(a, b)) == pytest.approx(expected, rel=1e-6)
  assert float(tu.sum(a)) == pytest.approx(sum(x.sum() for x in _leaves64(a)), rel=1e-6)
  # vdot conjugates its first argument.
  za = {'z': jnp.array([1 + 2j, 3 - 1j], jnp.complex64)}
  zb = {'z': jnp.array([2 - 1j, 1j], jnp.complex64)}
  np.testing.assert_allclose(
      complex(tu.vdot(za, zb)),
      np.vdot(np.array([1 + 2j, 3 - 1j]), np.array([2 - 1j, 1j])), rtol=1e-6)
  assert float(tu.sum({})) == 0.0 and float(tu.vdot({}, {})) == 0.0


@pytest.mark.parametrize('ord_, npord', [(1, 1), (2, 2), (None, 2), (jnp.inf, np.inf),
                                          ('inf', np.inf)])
def test_norm_real(ord_, npord):
  a, _ = _trees()
  flat = np.concatenate([x.ravel() for x in _leaves64(a)])
  assert float(tu.norm(a, ord=ord_)) == pytest.approx(
      np.linalg.norm(flat, ord=npord), rel=1e-6)


@pytest.mark.parametrize('ord_, npord', [(1, 1), (2, 2), (np.inf, np.inf)])
def test_norm_complex(ord_, npord):
  z = {'z': jnp.array([3 + 4j, 1 - 1j], jnp.complex64), 'r': jnp.array([-2.0])}
  flat = np.array([3 + 4j, 1 - 1j, -2.0])
  got = tu.norm(z, ord=ord_)
  assert not jnp.iscomplexobj(got)
  assert float(got) == pytest.approx(np.linalg.norm(flat, ord=npord), rel=1e-6)


def test_norm_squared_empty_and_errors():
  a, _ = _trees()
  assert float(tu.norm(a, squared=True)) == pytest.approx(
      sum(np.sum(x ** 2) for x in _leaves64(a)), rel=1e-6)
  for o in (1, 2, np.inf):
    assert float(tu.norm({}, ord=o)) == 0.0
    assert float(tu.norm([jnp.zeros((0, 3))], ord=o)) == 0.0
  with pytest.raises(ValueError, match='ord'):
    tu.norm(a, ord=3)
  with pytest.raises(ValueError, match='squared'):
    tu.norm(a, ord=1, squared=True)


@pytest.mark.parametrize('dtype', [jnp.float16, jnp.bfloat16])
def test_norm_of_low_precision_leaves_is_accumulated_in_float32(dtype):
  x = jnp.array([300.0, 400.0], dtype)  # 300² overflows float16
  assert float(tu.norm(x)) == pytest.approx(500.0, rel=1e-6)
  assert float(tu.norm(x, ord=1)) == pytest.approx(700.0, rel=1e-6)
  many = jnp.full((4096,), 0.01, dtype)  # a bf16 running sum would stall
  assert float(tu.norm(many, squared=True)) == pytest.approx(
      4096 * float(many[0].astype(jnp.float32)) ** 2, rel=1e-4)


def test_zeros_ones_full_like():
  t = {'a': jnp.ones((2, 3), jnp.bfloat16), 'n': None, 'i': jnp.ones(2, jnp.int32)}
  z = tu.zeros_like(t)
  assert z['n'] is None and z['a'].dtype == jnp.bfloat16 and z['i'].dtype == jnp.int32
  np.testing.assert_array_equal(np.asarray(z['a'], np.float32), np.zeros((2, 3)))
  o = tu.ones_like(t, dtype=jnp.float32)
  assert o['a'].dtype == jnp.float32 and o['i'].dtype == jnp.float32
  np.testing.assert_array_equal(o['i'], [1.0, 1.0])
  f = tu.full_like(t, 7)
  np.testing.assert_array_equal(np.asarray(f['a'], np.float32), np.full((2, 3), 7.0))
  assert f['n'] is None and f['i'].dtype == jnp.int32


def test_cast_and_cast_like():
  t = {'f': jnp.ones(2), 'i': jnp.arange(2), 'b': jnp.array([True]), 'n': None}
  c = tu.cast(t, jnp.bfloat16)
  assert c['f'].dtype == jnp.bfloat16
  assert c['i'].dtype == t['i'].dtype and c['b'].dtype == jnp.bool_ and c['n'] is None
  assert tu.cast(t, None) is t
  assert tu.cast(t, 'float16')['f'].dtype == jnp.float16
  with pytest.raises(ValueError, match='dtype'):
    tu.cast(t, 'not-a-dtype')
  like = tu.cast_like({'a': jnp.array([1.7]), 'b': jnp.array([2.0])},
                      {'a': jnp.zeros(1, jnp.int32), 'b': jnp.zeros(1, jnp.float16)})
  assert like['a'].dtype == jnp.int32 and like['b'].dtype == jnp.float16
  np.testing.assert_array_equal(like['a'], [1])


def test_where_scalar_and_tree_condition():
  a = {'x': jnp.array([1.0, 2.0]), 'y': jnp.array(3.0)}
  b = {'x': jnp.array([-1.0, -2.0]), 'y': jnp.array(-3.0)}
  for cond in (True, np.bool_(True), jnp.array(True), 1):
    _assert_tree_close(tu.where(cond, a, b), a)
  for cond in (False, jnp.array(False), 0):
    _assert_tree_close(tu.where(cond, a, b), b)
  # Traced scalar condition (the point of where: no Python control flow).
  picked = jax.jit(lambda c: tu.where(c > 0, a, b))(jnp.array(-1))
  _assert_tree_close(picked, b)
  # Tree condition, including an array condition in a leaf.
  mixed = tu.where({'x': jnp.array([True, False]), 'y': True}, a, b)
  np.testing.assert_array_equal(mixed['x'], [1.0, -2.0])
  assert float(mixed['y']) == 3.0


def test_size_allclose_all_finite():
  a, b = _trees()
  assert tu.size(a) == 6 + 4 + 1
  assert tu.size({}) == 0
  assert tu.allclose(a, a)
  assert not tu.allclose(a, b)
  assert not tu.allclose(a, {'w': a['w']})  # different structure
  assert tu.allclose({'x': jnp.array([1.0, np.nan])}, {'x': jnp.array([1.0, np.nan])},
                     equal_nan=True)
  assert not tu.allclose({'x': jnp.array([1.0, np.nan])}, {'x': jnp.array([1.0, np.nan])})
  assert tu.allclose(jnp.array([1 + 1j]), jnp.array([1 + 1j + 1e-9]))
  assert not tu.allclose(jnp.array([1 + 1j]), jnp.array([1 - 1j]))
  assert tu.allclose(jnp.ones(2, jnp.bfloat16), jnp.ones(2))
  assert bool(tu.all_finite(a)) and bool(tu.all_finite({}))
  for bad in (np.inf, -np.inf, np.nan):
    assert not bool(tu.all_finite({'a': jnp.ones(2), 'b': jnp.array([1.0, bad])}))
  # Under jit: an array, not a Python bool.
  assert not bool(jax.jit(tu.all_finite)({'a': jnp.array([np.nan])}))


# ---------------------------------------------------------------------------
# Access by name and by path.
# ---------------------------------------------------------------------------
def _state():
  return gradtx.chain(gradtx.trace(0.9), gradtx.scale_by_adam()).init(
      {'enc': {'kernel': jnp.zeros((2, 3))}, 'bias': jnp.zeros(3)})


def test_paths_and_path_to_str():
  t = {'a': {'b': 1, 'c': [2, 3]}}
  assert tu.paths(t) == {'a': {'b': 'a/b', 'c': ['a/c/0', 'a/c/1']}}
  assert tu.paths(t, sep='.') == {'a': {'b': 'a.b', 'c': ['a.c.0', 'a.c.1']}}
  p = jax.tree_util.tree_flatten_with_path(_state())[0][0][0]
  assert tu.path_to_str(p) == '0/trace/bias'


def test_get_and_get_all_with_path():
  s = _state()
  found = tu.get_all_with_path(s, 'kernel')
  assert [tu.path_to_str(p) for p, _ in found] == [
      '0/trace/enc/kernel', '1/mu/enc/kernel', '1/nu/enc/kernel']
  assert all(v.shape == (2, 3) for _, v in found)
  assert int(tu.get(s, 'count')) == 0
  assert tu.get(s, 'missing') is None and tu.get(s, 'missing', 5) == 5
  with pytest.raises(KeyError, match='kernel') as info:
    tu.get(s, 'kernel')
  assert '1/mu/enc/kernel' in str(info.value)
  # A whole subtree can be returned.
  assert set(tu.get(s, 'mu')) == {'enc', 'bias'}


def test_get_by_path_set_and_set_by_path():
  s = _state()
  np.testing.assert_array_equal(tu.get_by_path(s, ('1', 'mu', 'bias')), np.zeros(3))
  np.testing.assert_array_equal(tu.get_by_path(s, '1/nu/enc/kernel'), np.zeros((2, 3)))
  with pytest.raises(KeyError, match='available'):
    tu.get_by_path(s, '1/mu/nope')

  s2 = tu.set(s, count=jnp.array(7, jnp.int32))
  assert int(s2[1].count) == 7 and int(s[1].count) == 0  # a copy
  assert jax.tree.structure(s2) == jax.tree.structure(s)
  with pytest.raises(KeyError, match='nope'):
    tu.set(s, nope=1)

  s3 = tu.set_by_path(s, '1/mu/bias', jnp.ones(3))
  np.testing.assert_array_equal(s3[1].mu['bias'], np.ones(3))
  np.testing.assert_array_equal(s3[0].trace['bias'], np.zeros(3))  # others untouched
  np.testing.assert_array_equal(s3[1].nu['bias'], np.zeros(3))
  with pytest.raises(KeyError):
    tu.set_by_path(s, '1/mu/nope', 1)


def test_map_params_touches_only_param_shaped_leaves():
  opt = gradtx.chain(gradtx.trace(0.9), gradtx.scale_by_adam())
  s = opt.init({'enc': {'kernel': jnp.zeros((2, 3))}, 'bias': jnp.zeros(3)})
  half = tu.map_params(opt, lambda x: x.astype(jnp.bfloat16), s)
  assert half[1].count.dtype == jnp.int32
  assert all(x.dtype == jnp.bfloat16 for x in jax.tree.leaves((half[0], half[1].mu, half[1].nu)))
  marked = tu.map_params(opt.init, lambda x: x, s,
                         transform_non_params=lambda x: x + 100)
  assert int(marked[1].count) == 100
  np.testing.assert_array_equal(marked[1].mu['bias'], np.zeros(3))


# ---------------------------------------------------------------------------
# Moments.
# ---------------------------------------------------------------------------
def test_bias_correction_factor_is_float32_even_for_bf16_moments():
  for count in (1, 2, 10, 1000):
    f = tu.bias_correction_factor(0.999, jnp.array(count, jnp.int32))
    assert f.dtype == jnp.float32
    # The factor is 1 - fl32(0.999)**count (what float32 decay gives).
    assert float(f) == pytest.approx(1 - float(np.float32(0.999)) ** count, rel=1e-5)
  m = {'a': jnp.array([0.001, 0.25], jnp.bfloat16), 'n': None}
  out = tu.bias_correction(m, 0.999, jnp.array(1, jnp.int32))
  assert out['n'] is None and out['a'].dtype == jnp.float32
  # 1 - 0.999 = 0.001 needs float32: in bfloat16 it would be 0.000999451.
  np.testing.assert_allclose(
      out['a'], np.asarray(m['a'], np.float32) / (1 - float(np.float32(0.999))), rtol=1e-5)


def test_update_moment_and_per_elem_norm():
  rng = np.random.default_rng(1)
  g = rng.normal(size=(5,)).astype(np.float32)
  m = rng.normal(size=(5,)).astype(np.float32)
  np.testing.assert_allclose(tu.update_moment(g, m, 0.9, 1), 0.1 * g + 0.9 * m, rtol=1e-6)
  np.testing.assert_allclose(tu.update_moment(g, m, 0.9, 2), 0.1 * g ** 2 + 0.9 * m,
                             rtol=1e-6)
  np.testing.assert_allclose(tu.update_moment(g, m, 0.5, 3), 0.5 * g ** 3 + 0.5 * m,
                             rtol=1e-5)
  np.testing.assert_allclose(tu.update_moment_per_elem_norm(g, m, 0.9, 2),
                             0.1 * g ** 2 + 0.9 * m, rtol=1e-6)
  np.testing.assert_allclose(tu.update_moment_per_elem_norm(g, m, 0.9, 1),
                             0.1 * np.abs(g) + 0.9 * m, rtol=1e-6)
  z = jnp.array([3 + 4j], jnp.complex64)
  out = tu.update_moment_per_elem_norm(z, jnp.zeros(1), 0.5, 2)
  assert not jnp.iscomplexobj(out)
  np.testing.assert_allclose(out, [12.5], rtol=1e-6)
  none = tu.update_moment({'a': None, 'b': g}, {'a': None, 'b': m}, 0.9, 1)
  assert none['a'] is None


def test_update_infinity_moment():
  g = np.array([-2.0, 0.5, 1.0], np.float32)
  u = np.array([3.0, 3.0, 0.1], np.float32)
  np.testing.assert_allclose(tu.update_infinity_moment(g, u, 0.5),
                             np.maximum(np.abs(g), 0.5 * u), rtol=1e-6)
  np.testing.assert_allclose(tu.update_infinity_moment(g, u, 0.5, eps=1.0),
                             np.maximum(np.abs(g) + 1.0, 0.5 * u), rtol=1e-6)


def test_compute_dtype():
  assert tu.compute_dtype(jnp.ones(1, jnp.bfloat16)) == jnp.float32
  assert tu.compute_dtype(jnp.ones(1, jnp.float16), jnp.ones(1, jnp.bfloat16)) == jnp.float32
  assert tu.compute_dtype(jnp.ones(1, jnp.complex64)) == jnp.complex64
  assert tu.compute_dtype(jnp.ones(1, jnp.int32)) == jnp.float32


def test_safe_increment_saturates():
  top = jnp.iinfo(jnp.int32).max
  assert int(tu.safe_increment(jnp.array(0, jnp.int32))) == 1
  assert int(tu.safe_increment(jnp.array(top - 1, jnp.int32))) == top
  out = tu.safe_increment(jnp.array(top, jnp.int32))
  assert int(out) == top and out.dtype == jnp.int32
  assert jax.jit(tu.safe_increment)(jnp.array(top, jnp.int32)) == top


# ---------------------------------------------------------------------------
# The helpers of optax.tree_utils that gradtx.tree lacked (issue 8).
# ---------------------------------------------------------------------------
def _mixed_tree():
  k = jax.random.split(jax.random.PRNGKey(4), 3)
  return {'a': jax.random.normal(k[0], (3, 2)),
          'b': (jax.random.normal(k[1], (4,)) * 3, jnp.array(-7.5)),
          'z': (jax.random.normal(k[2], (2,)) + 1j * jnp.arange(2.0)).astype(jnp.complex64)}


def _same(ours, theirs):
  assert jax.tree.structure(ours) == jax.tree.structure(theirs)
  for x, y in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
    assert jnp.result_type(x) == jnp.result_type(y)
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_new_tree_helpers_match_optax_tree_utils():
  otu = pytest.importorskip('optax.tree_utils')
  from gradtx import tree_utils as gtu  # pylint: disable=import-outside-toplevel
  t = _mixed_tree()
  real_t = {'a': t['a'], 'b': t['b']}
  _same(gtu.tree_conj(t), otu.tree_conj(t))
  _same(gtu.tree_real(t), otu.tree_real(t))
  _same(gtu.tree_clip(real_t, -0.5, 0.25), otu.tree_clip(real_t, -0.5, 0.25))
  _same(gtu.tree_clip(real_t, None, 0.0), otu.tree_clip(real_t, None, 0.0))
  _same(gtu.tree_batch_shape(t, (2, 3)), otu.tree_batch_shape(t, (2, 3)))
  for reduce in ('max', 'min'):
    ours = getattr(gtu, f'tree_{reduce}')(real_t)
    theirs = getattr(otu, f'tree_{reduce}')(real_t)
    np.testing.assert_array_equal(ours, theirs)
    # Empty leaves are skipped; an empty tree gives the identity element.
    with_empty = {'e': jnp.zeros((0,)), 'x': jnp.array([2.0, -1.0])}
    np.testing.assert_array_equal(getattr(gtu, f'tree_{reduce}')(with_empty),
                                  getattr(otu, f'tree_{reduce}')(with_empty))
    np.testing.assert_array_equal(getattr(gtu, f'tree_{reduce}')({}),
                                  getattr(otu, f'tree_{reduce}')({}))
  np.testing.assert_array_equal(gtu.tree_max(real_t), max(
      float(jnp.max(t['a'])), float(jnp.max(t['b'][0])), -7.5))
  key = jax.random.PRNGKey(5)
  _same(gtu.tree_split_key_like(key, t), otu.tree_split_key_like(key, t))
  _same(gtu.tree_random_like(key, real_t), otu.tree_random_like(key, real_t))
  _same(gtu.tree_random_like(key, real_t, jax.random.uniform, jnp.bfloat16),
        otu.tree_random_like(key, real_t, jax.random.uniform, jnp.bfloat16))
  typed = {'k': jax.random.key(3), 'x': jnp.ones(2)}
  _same(gtu.tree_unwrap_random_key_data(typed),
        otu.tree_unwrap_random_key_data(typed))


@pytest.mark.parametrize('handler', [None, 'promote', 'highest', 'lowest'])
def test_tree_dtype_matches_optax(handler):
  otu = pytest.importorskip('optax.tree_utils')
  trees = [
      {'a': jnp.ones(2), 'b': jnp.zeros(3)},
      {'a': jnp.ones(2, jnp.float16), 'b': jnp.zeros(3, jnp.float32)},
      {'a': jnp.ones(2, jnp.bfloat16), 'b': jnp.zeros(3, jnp.int8)},
      {'a': jnp.ones(2, jnp.int32), 'b': jnp.zeros(3, jnp.uint32)},
      {},
  ]
  for t in trees:
    try:
      theirs = otu.tree_dtype(t, handler)
    except ValueError:
      with pytest.raises(ValueError):
        tu.dtype(t, handler)
      continue
    assert tu.dtype(t, handler) == theirs, (t, handler)
  with pytest.raises(ValueError, match='mixed_dtype_handler'):
    tu.dtype(trees[0], 'widest')


def test_named_tuple_keys_in_filtering_paths_as_in_optax():
  optax = pytest.importorskip('optax')
  params = {'w': jnp.ones(2)}

  def only_adam(path, value):
    del value
    last = path[-1]
    return isinstance(last, (tu.NamedTupleKey, optax.tree_utils.NamedTupleKey)
                      ) and last.tuple_name == 'ScaleByAdamState'

  for lib, key_type in ((gradtx, tu.NamedTupleKey),
                        (optax, optax.tree_utils.NamedTupleKey)):
    state = lib.chain(lib.scale_by_adam(), lib.scale_by_rms()).init(params)
    getter = gradtx.tree.get_all_with_path if lib is gradtx else (
        optax.tree_utils.tree_get_all_with_path)
    found = getter(state, 'nu', only_adam)
    assert len(found) == 1 and isinstance(found[0][0][-1], key_type)
    assert str(found[0][0][-1]) == 'ScaleByAdamState.nu'
  state = gradtx.chain(gradtx.scale_by_adam(), gradtx.scale_by_rms()).init(params)
  new = tu.set(state, only_adam, nu={'w': jnp.full(2, 3.0)})
  np.testing.assert_array_equal(new[0].nu['w'], 3.0)
  np.testing.assert_array_equal(new[1].nu['w'], state[1].nu['w'])
