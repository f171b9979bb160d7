"""Hand-derived and cross-framework tests of gradtx's clipping transformations.

The references are numpy formulas written here, PyTorch's
``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``, Keras's
``global_clipnorm`` and (for the per-example clips) Optax.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

import gradtx

RNG = np.random.default_rng(0)


def _tree(scale=1.0, seed=0):
  rng = np.random.default_rng(seed)
  return {
      'w': (scale * rng.normal(size=(4, 3))).astype(np.float32),
      'b': (scale * rng.normal(size=(3,))).astype(np.float32),
      'conv': (scale * rng.normal(size=(2, 2, 3, 4))).astype(np.float32),
  }


def _apply(tx, updates, params=None):
  state = tx.init(updates if params is None else params)
  return tx.update(updates, state, params)[0]


def _np_global_norm(tree):
  return np.sqrt(sum(np.sum(np.abs(np.asarray(x, np.float64)) ** 2)
                     for x in jax.tree.leaves(tree)))


# ---------------------------------------------------------------------------
# clip
# ---------------------------------------------------------------------------
def test_clip_matches_numpy_and_torch_clip_grad_value():
  g = _tree(scale=2.0)
  out = _apply(gradtx.clip(0.7), g)
  for k in g:
    np.testing.assert_array_equal(out[k], np.clip(g[k], -0.7, 0.7))
    t = torch.tensor(g[k], requires_grad=True)
    t.grad = torch.tensor(g[k])
    torch.nn.utils.clip_grad_value_([t], 0.7)
    np.testing.assert_array_equal(out[k], t.grad.numpy())


@pytest.mark.parametrize('dtype', [jnp.bfloat16, jnp.float16])
def test_clip_keeps_low_precision_dtype(dtype):
  g = jnp.array([-3.0, 0.25, 5.0], dtype)
  out = _apply(gradtx.clip(1.0), g)
  assert out.dtype == dtype
  np.testing.assert_array_equal(np.asarray(out, np.float32), [-1.0, 0.25, 1.0])


# ---------------------------------------------------------------------------
# clip_by_global_norm
# ---------------------------------------------------------------------------
def _np_clip_global(tree, max_norm):
  n = _np_global_norm(tree)
  f = 1.0 if n < max_norm else max_norm / n
  return {k: np.asarray(v, np.float64) * f for k, v in tree.items()}, n


@pytest.mark.parametrize('max_norm', [0.5, 3.0, 100.0])
def test_clip_by_global_norm_hand_values(max_norm):
  g = _tree()
  expected, n = _np_clip_global(g, max_norm)
  out = _apply(gradtx.clip_by_global_norm(max_norm), g)
  for k in g:
    np.testing.assert_allclose(out[k], expected[k], rtol=2e-6, atol=1e-7)
  assert float(gradtx.tree.norm(out)) == pytest.approx(min(n, max_norm), rel=1e-5)
  if max_norm > n:  # below the bound nothing changes, bit for bit
    for k in g:
      np.testing.assert_array_equal(out[k], g[k])


def test_clip_by_global_norm_sgd_many_steps_changing_lr():
  """30 steps of clipped SGD on a quadratic, against a numpy loop."""
  c = np.linspace(0.5, 4.0, 7)
  target = np.linspace(-3.0, 3.0, 7)
  lr = lambda t, xp=np: 0.3 * (1.0 + xp.cos(np.pi * t / 30)) / 2 + 0.01
  tx = gradtx.chain(gradtx.clip_by_global_norm(1.5),
                    gradtx.scale_by_learning_rate(lambda t: lr(t, jnp)))
  p = jnp.zeros(7)
  state = tx.init(p)
  step = jax.jit(lambda p, s: tx.update(c * (p - target), s, p))
  p_np = np.zeros(7)
  clipped_steps = 0
  for t in range(30):
    u, state = step(p, state)
    p = gradtx.apply_updates(p, u)
    g = c * (p_np - target)
    n = np.linalg.norm(g)
    clipped_steps += n >= 1.5
    p_np = p_np - lr(t) * (g if n < 1.5 else g * 1.5 / n)
  assert 5 < clipped_steps < 30  # both regimes are exercised
  np.testing.assert_allclose(p, p_np, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('max_norm', [0.1, 1.0, 7.0])
def test_clip_by_global_norm_agrees_with_torch_clip_grad_norm(max_norm):
  """PyTorch multiplies by min(max_norm / (N + 1e-6), 1).

  So wherever N ≥ max_norm the two differ by the relative factor
  N / (N + 1e-6), i.e. by at most 1e-6 / N, and they are equal when
  N < max_norm − 1e-6.
  """
  g = _tree(seed=1)
  tensors = []
  for k in sorted(g):
    t = torch.zeros(g[k].shape, dtype=torch.float64, requires_grad=True)
    t.grad = torch.tensor(g[k], dtype=torch.float64)
    tensors.append(t)
  torch_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
  ours = _apply(gradtx.clip_by_global_norm(max_norm), g)
  n = float(torch_norm)
  assert n == pytest.approx(_np_global_norm(g), rel=1e-12)
  rel = 1e-6 / n if n >= max_norm else 0.0
  for k, t in zip(sorted(g), tensors):
    np.testing.assert_allclose(ours[k], t.grad.numpy(), rtol=rel + 1e-6, atol=1e-7)


def test_torch_epsilon_difference_is_visible_just_below_max_norm():
  """Just below max_norm PyTorch still shrinks the gradient; gradtx does not."""
  g = np.array([3.0, 4.0])  # N = 5
  max_norm = 5.0 + 5e-7  # N < max_norm < N + 1e-6
  t = torch.zeros(2, dtype=torch.float64, requires_grad=True)
  t.grad = torch.tensor(g)
  torch.nn.utils.clip_grad_norm_([t], max_norm)
  torch_factor = t.grad.numpy()[0] / 3.0
  assert torch_factor == pytest.approx(max_norm / (5.0 + 1e-6), rel=1e-12)
  assert torch_factor < 1.0
  ours = _apply(gradtx.clip_by_global_norm(max_norm), jnp.asarray(g, jnp.float32))
  np.testing.assert_array_equal(ours, [3.0, 4.0])


def test_clip_by_global_norm_agrees_with_keras_global_clipnorm():
  import keras  # pylint: disable=g-import-not-at-top
  for max_norm in (0.5, 50.0):
    g = _tree(seed=2)
    keys = sorted(g)
    variables = [keras.Variable(np.zeros_like(g[k])) for k in keys]
    opt = keras.optimizers.SGD(learning_rate=1.0, global_clipnorm=max_norm)
    opt.apply_gradients([(jnp.asarray(g[k]), v) for k, v in zip(keys, variables)])
    ours = _apply(gradtx.clip_by_global_norm(max_norm), g)
    for k, v in zip(keys, variables):
      np.testing.assert_allclose(ours[k], -np.asarray(v.value), rtol=2e-6, atol=1e-7)


def test_documented_torch_one_liner_matches_torch_exactly():
  c = 5.0 + 5e-7
  torch_like_clip = gradtx.stateless(lambda g, p: gradtx.tree.scale(
      jnp.minimum(c / (gradtx.tree.norm(g) + 1e-6), 1.0), g))
  for g in (np.array([3.0, 4.0]), np.array([30.0, 40.0])):
    t = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    t.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_([t], c)
    ours = _apply(torch_like_clip, jnp.asarray(g, jnp.float32))
    np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-7)


def test_block_rms_reproduces_keras_per_variable_clipnorm():
  """Keras clipnorm=c is clip_by_block_rms(c / sqrt(n)) for a leaf of n elements."""
  import keras  # pylint: disable=g-import-not-at-top
  g = _tree(seed=8)
  keys = sorted(g)
  variables = [keras.Variable(np.zeros_like(g[k])) for k in keys]
  opt = keras.optimizers.SGD(learning_rate=1.0, clipnorm=2.0)
  opt.apply_gradients([(jnp.asarray(g[k]), v) for k, v in zip(keys, variables)])
  n_clipped = 0
  for k, v in zip(keys, variables):
    ours = _apply(gradtx.clip_by_block_rms(2.0 / np.sqrt(g[k].size)), g[k])
    n_clipped += np.linalg.norm(g[k]) > 2.0
    np.testing.assert_allclose(ours, -np.asarray(v.value), rtol=2e-6, atol=1e-7)
  assert 0 < n_clipped < len(keys)


def test_clip_by_global_norm_complex():
  """The norm of a complex leaf is sqrt(Σ|z|²): it counts as two reals."""
  rng = np.random.default_rng(3)
  z = (rng.normal(size=(5,)) + 1j * rng.normal(size=(5,))).astype(np.complex64)
  r = rng.normal(size=(2, 2)).astype(np.float32)
  tree = {'z': z, 'r': r}
  n = np.sqrt(np.sum(z.real ** 2 + z.imag ** 2) + np.sum(r ** 2))
  out = _apply(gradtx.clip_by_global_norm(1.0), tree)
  assert out['z'].dtype == jnp.complex64 and out['r'].dtype == jnp.float32
  np.testing.assert_allclose(out['z'], z / n, rtol=2e-6)
  np.testing.assert_allclose(out['r'], r / n, rtol=2e-6)
  # Optax agrees.
  theirs, _ = optax.clip_by_global_norm(1.0).update(tree, optax.EmptyState())
  np.testing.assert_allclose(out['z'], theirs['z'], rtol=2e-6)


@pytest.mark.parametrize('dtype', [jnp.float16, jnp.bfloat16])
def test_clip_by_global_norm_low_precision_norm_does_not_overflow(dtype):
  """300² overflows float16; the norm is taken in float32."""
  g = jnp.array([300.0, 400.0, 0.0], dtype)  # N = 500
  out = _apply(gradtx.clip_by_global_norm(5.0), g)
  assert out.dtype == dtype
  np.testing.assert_allclose(np.asarray(out, np.float32), [3.0, 4.0, 0.0], rtol=1e-2)


def test_clip_by_global_norm_zero_gradient_and_its_derivative_are_finite():
  tx = gradtx.clip_by_global_norm(1.0)
  zero = jnp.zeros(3)
  np.testing.assert_array_equal(_apply(tx, zero), zero)
  weights = jnp.array([1.0, 2.0, 3.0])
  f = lambda g: jnp.sum(weights * tx.update(g, tx.init(g))[0])
  np.testing.assert_array_equal(jax.grad(f)(zero), weights)  # identity there
  # Above the bound, d/dg (g / |g|) · w for g = (3, 4, 0):
  g = jnp.array([3.0, 4.0, 0.0])
  expected = (weights - g * jnp.dot(weights, g) / 25.0) / 5.0
  np.testing.assert_allclose(jax.grad(f)(g), expected, rtol=1e-6, atol=1e-7)


def test_clip_by_global_norm_non_finite_under_jit_does_not_crash():
  """inf: finite entries → 0, inf entries → nan; nan: everything → nan."""
  tx = gradtx.clip_by_global_norm(1.0)
  g = {'a': jnp.array([1.0, jnp.inf]), 'b': jnp.array([2.0])}
  update = jax.jit(tx.update)
  out, _ = update(g, tx.init(g))
  np.testing.assert_array_equal(out['a'], [0.0, np.nan])
  np.testing.assert_array_equal(out['b'], [0.0])
  g_nan = {'a': jnp.array([1.0, jnp.nan]), 'b': jnp.array([2.0])}
  out, _ = update(g_nan, tx.init(g))
  assert bool(jnp.all(jnp.isnan(out['a']))) and bool(jnp.all(jnp.isnan(out['b'])))
  # zero_nans first keeps a nan step finite.
  safe = gradtx.chain(gradtx.zero_nans(), tx)
  out, _ = jax.jit(safe.update)(g_nan, safe.init(g))
  np.testing.assert_allclose(out['a'], [1 / 5 ** 0.5, 0.0], rtol=1e-6)
  # PyTorch does the same as gradtx for inf (coefficient max_norm / inf = 0).
  t = torch.zeros(2, requires_grad=True)
  t.grad = torch.tensor([1.0, float('inf')])
  torch.nn.utils.clip_grad_norm_([t], 1.0)
  np.testing.assert_array_equal(t.grad.numpy(), [0.0, np.nan])


# ---------------------------------------------------------------------------
# clip_by_block_rms
# ---------------------------------------------------------------------------
def test_clip_by_block_rms_hand_values():
  g = _tree(scale=2.0)
  out = _apply(gradtx.clip_by_block_rms(1.0), g)
  clipped = 0
  for k in g:
    rms = np.sqrt(np.mean(np.asarray(g[k], np.float64) ** 2))
    clipped += rms > 1.0
    np.testing.assert_allclose(out[k], g[k] / max(1.0, rms), rtol=2e-6)
    assert np.sqrt(np.mean(np.asarray(out[k], np.float64) ** 2)) <= 1.0 + 1e-6
  assert clipped >= 1


def test_clip_by_block_rms_complex_and_bf16():
  z = jnp.array([3.0 + 4.0j, 0.0 + 0.0j], jnp.complex64)  # rms = sqrt(25/2)
  out = _apply(gradtx.clip_by_block_rms(1.0), z)
  np.testing.assert_allclose(out, np.asarray(z) / np.sqrt(12.5), rtol=1e-6)
  b = jnp.array([30.0, 40.0], jnp.bfloat16)
  out = _apply(gradtx.clip_by_block_rms(1.0), b)
  assert out.dtype == jnp.bfloat16
  np.testing.assert_allclose(np.asarray(out, np.float32),
                             np.array([30.0, 40.0]) / np.sqrt(1250.0), rtol=1e-2)


# ---------------------------------------------------------------------------
# adaptive_grad_clip
# ---------------------------------------------------------------------------
def _np_unit_norm(x, axes):
  return np.sqrt(np.sum(np.asarray(x, np.float64) ** 2, axis=axes, keepdims=True))


def _np_agc(g, p, clipping, eps, axes):
  gn, pn = _np_unit_norm(g, axes), _np_unit_norm(p, axes)
  limit = clipping * np.maximum(pn, eps)
  return np.where(gn < limit, g, g * limit / np.maximum(gn, 1e-6))


def test_adaptive_grad_clip_default_axes_hand_values():
  rng = np.random.default_rng(4)
  shapes_axes = {'vec': ((6,), None), 'dense': ((4, 5), 0), 'heads': ((4, 2, 3), 0),
                 'conv': ((3, 3, 2, 4), (0, 1, 2)),
                 'conv3d': ((2, 2, 2, 2, 3), (0, 1, 2, 3))}
  params = {k: rng.normal(size=s).astype(np.float32) for k, (s, _) in shapes_axes.items()}
  grads = {k: (rng.normal(size=s) * rng.uniform(0.01, 1.0, size=s[-1:])).astype(np.float32)
           for k, (s, _) in shapes_axes.items()}
  out = _apply(gradtx.adaptive_grad_clip(0.2), grads, params)
  n_clipped = n_kept = 0
  for k, (_, axes) in shapes_axes.items():
    expected = _np_agc(grads[k], params[k], 0.2, 1e-3, axes)
    np.testing.assert_allclose(out[k], expected, rtol=2e-6, atol=1e-7)
    changed = ~np.isclose(expected, grads[k])
    n_clipped += changed.sum()
    n_kept += (~changed).sum()
  assert n_clipped > 0 and n_kept > 0  # both branches are exercised
  theirs, _ = optax.adaptive_grad_clip(0.2).update(grads, optax.EmptyState(), params)
  for k in grads:
    np.testing.assert_allclose(out[k], theirs[k], rtol=2e-6, atol=1e-7)


def test_adaptive_grad_clip_explicit_axis_and_zero_params():
  rng = np.random.default_rng(5)
  g = rng.normal(size=(3, 4, 2, 2, 2, 2)).astype(np.float32)  # rank 6
  p = rng.normal(size=g.shape).astype(np.float32)
  out = _apply(gradtx.adaptive_grad_clip(0.1, axis=(1, 2)), g, p)
  np.testing.assert_allclose(out, _np_agc(g, p, 0.1, 1e-3, (1, 2)), rtol=2e-6, atol=1e-7)
  with pytest.raises(ValueError, match='axis'):
    _apply(gradtx.adaptive_grad_clip(0.1), g, p)
  # Zero params: the bound is clipping * eps per unit.
  z = np.zeros((4,), np.float32)
  out = _apply(gradtx.adaptive_grad_clip(0.5, eps=0.1), np.full(4, 3.0, np.float32), z)
  np.testing.assert_allclose(np.linalg.norm(out), 0.05, rtol=1e-6)


def test_adaptive_grad_clip_needs_params():
  tx = gradtx.adaptive_grad_clip(0.1)
  with pytest.raises(ValueError, match='params'):
    tx.update(jnp.ones(2), tx.init(jnp.ones(2)))


# ---------------------------------------------------------------------------
# Per-example clipping.
# ---------------------------------------------------------------------------
def test_per_example_global_norm_clip_hand_values():
  rng = np.random.default_rng(6)
  grads = {'a': rng.normal(size=(5, 3)).astype(np.float32),
           'b': rng.normal(size=(5, 2, 2)).astype(np.float32)}
  grads['a'][2] = 0.0
  grads['b'][2] = 0.0  # an all-zero example
  c = 1.5
  norms = np.sqrt((grads['a'].astype(np.float64) ** 2).sum(1)
                  + (grads['b'].astype(np.float64) ** 2).sum((1, 2)))
  mult = np.where(norms > 0, np.minimum(1.0, c / np.where(norms > 0, norms, 1)), 1.0)
  total, n = jax.jit(gradtx.per_example_global_norm_clip)(grads, c)
  np.testing.assert_allclose(total['a'], np.tensordot(mult, grads['a'], 1), rtol=2e-6, atol=1e-6)
  np.testing.assert_allclose(total['b'], np.tensordot(mult, grads['b'], 1), rtol=2e-6, atol=1e-6)
  assert int(n) == int(np.sum(mult < 1.0)) and 0 < int(n) < 5
  assert n.dtype == jnp.int32


@pytest.mark.parametrize('clip_value, expected_sum, expected_n', [
    (np.inf, 7.0, 0), (0.0, 0.0, 3), (1.25, 1.75, 3)])
def test_per_example_global_norm_clip_edge_values(clip_value, expected_sum, expected_n):
  grads = [jnp.array([[0, 0, 0], [0, 3, 4], [4, 0, 3], [3, 4, 0]])]
  total, n = gradtx.per_example_global_norm_clip(grads, clip_value)
  np.testing.assert_allclose(total[0], [expected_sum] * 3, rtol=1e-6)
  assert int(n) == expected_n


@pytest.mark.parametrize('uniform', [True, False])
def test_per_example_layer_norm_clip(uniform):
  rng = np.random.default_rng(7)
  grads = [rng.normal(size=(4, 3)).astype(np.float32),
           rng.normal(size=(4, 5, 2)).astype(np.float32)]
  c = 2.0
  sizes = np.array([3, 10])
  bounds = c / np.sqrt(2) * np.ones(2) if uniform else c * np.sqrt(sizes / sizes.sum())
  total, n = gradtx.per_example_layer_norm_clip(grads, c, uniform=uniform)
  for i, g in enumerate(grads):
    norms = np.sqrt((g.astype(np.float64) ** 2).reshape(4, -1).sum(1))
    mult = np.minimum(1.0, bounds[i] / norms)
    np.testing.assert_allclose(total[i], np.tensordot(mult, g, 1), rtol=2e-6)
    assert int(n[i]) == int(np.sum(mult < 1.0))
  theirs, their_n = optax.per_example_layer_norm_clip(grads, c, uniform=uniform)
  for a, b in zip(total, theirs):
    np.testing.assert_allclose(a, b, rtol=2e-6)
  assert [int(x) for x in n] == [int(x) for x in their_n]


def test_per_example_clips_reject_unbatched_grads():
  for fn in (gradtx.per_example_global_norm_clip, gradtx.per_example_layer_norm_clip):
    with pytest.raises(ValueError, match='batch'):
      fn([jnp.ones((3, 2)), jnp.ones((4, 2))], 1.0)
    with pytest.raises(ValueError, match='batch'):
      fn([jnp.ones(())], 1.0)
    with pytest.raises(ValueError, match='no arrays'):
      fn([], 1.0)


# ---------------------------------------------------------------------------
# Every transformation: jit, vmap and the bad-input rules.
# ---------------------------------------------------------------------------
STATELESS = [
    lambda: gradtx.clip(0.3),
    lambda: gradtx.clip_by_global_norm(0.3),
    lambda: gradtx.clip_by_block_rms(0.3),
    lambda: gradtx.adaptive_grad_clip(0.3),
]


@pytest.mark.parametrize('make', STATELESS, ids=['clip', 'global', 'block_rms', 'agc'])
def test_jit_equals_eager_and_state_is_its_own_empty_type(make):
  tx = make()
  g, p = _tree(scale=3.0), _tree(seed=9)
  state = tx.init(p)
  assert state == type(state)() and type(state).__name__.endswith('State')
  eager, _ = tx.update(g, state, p)
  compiled, _ = jax.jit(tx.update)(g, state, p)
  for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(compiled)):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_clip_by_global_norm_under_vmap_clips_each_row():
  tx = gradtx.clip_by_global_norm(1.0)
  g = jnp.array([[3.0, 4.0], [0.3, 0.4]])
  out = jax.vmap(lambda x: tx.update(x, tx.init(x))[0])(g)
  np.testing.assert_allclose(out, [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)


_BOUNDS = [
    (lambda v: gradtx.clip(v), 'max_delta'),
    (lambda v: gradtx.clip_by_global_norm(v), 'max_norm'),
    (lambda v: gradtx.clip_by_block_rms(v), 'threshold'),
    (lambda v: gradtx.adaptive_grad_clip(v), 'clipping'),
]


@pytest.mark.parametrize('make, arg', _BOUNDS)
@pytest.mark.parametrize('value', [-1.0, float('nan'), jnp.array(-1.0)])
def test_negative_bounds_are_rejected(make, arg, value):
  with pytest.raises(ValueError, match=arg):
    make(value)


@pytest.mark.parametrize('make, arg', _BOUNDS, ids=[a for _, a in _BOUNDS])
@pytest.mark.parametrize('value', [0.0, jnp.array(0.0)], ids=['float', '0-d'])
def test_a_zero_bound_zeroes_the_update_as_in_optax(make, arg, value):
  """Optax's getting-started notebook calls clip_by_global_norm(jnp.array(0.))."""
  del arg
  params = {'a': jnp.array([1.0, -2.0]), 'z': jnp.zeros(3)}
  grads = {'a': jnp.array([3.0, -4.0]), 'z': jnp.zeros(3)}
  tx = make(value)
  out, _ = tx.update(grads, tx.init(params), params)
  for leaf in jax.tree.leaves(out):
    np.testing.assert_array_equal(leaf, 0.0)  # zero, and never 0/0 = nan


def test_clip_by_global_norm_with_a_traced_bound():
  g = {'a': jnp.array([3.0]), 'b': jnp.array([4.0])}
  f = jax.jit(lambda m: gradtx.clip_by_global_norm(m).update(g, None)[0])
  out = f(1.0)
  np.testing.assert_allclose([out['a'][0], out['b'][0]], [0.6, 0.8], rtol=1e-6)
  np.testing.assert_array_equal(f(0.0)['a'], 0.0)


@pytest.mark.parametrize('make, arg', [
    (lambda: gradtx.adaptive_grad_clip(0.1, eps=-1e-3), 'eps'),
    (lambda: gradtx.adaptive_grad_clip(0.1, axis='rows'), 'axis'),
    (lambda: gradtx.adaptive_grad_clip(0.1, axis=(0, 1.5)), 'axis'),
    (lambda: gradtx.per_example_global_norm_clip([jnp.ones((2, 1))], -1.0), 'l2_norm_clip'),
    (lambda: gradtx.per_example_layer_norm_clip([jnp.ones((2, 1))], -1.0),
     'global_l2_norm_clip'),
    (lambda: gradtx.per_example_layer_norm_clip([jnp.ones((2, 1))], 1.0, uniform='no'),
     'uniform'),
])
def test_other_bad_arguments_are_rejected(make, arg):
  with pytest.raises(ValueError, match=arg) as info:
    make()
  assert arg in str(info.value)


def test_derivative_through_clip_by_global_norm_of_zero_tree_is_finite():
  """The norm's square root has derivative 0 at 0 (custom JVP), not nan."""
  tx = gradtx.clip_by_global_norm(1.0)
  f = lambda g: jnp.sum(tx.update(g, tx.init(g))[0]['a'] ** 2 + tx.update(
      g, tx.init(g))[0]['a'])
  grad = jax.grad(f)({'a': jnp.zeros(3)})
  np.testing.assert_array_equal(grad['a'], np.ones(3))
  # Above the threshold the derivative is that of g·c/‖g‖.
  g = jnp.array([3.0, 4.0])
  jac = jax.jacobian(lambda g: tx.update({'a': g}, tx.init({'a': g}))[0]['a'])(g)
  n = 5.0
  want = (np.eye(2) / n - np.outer(g, g) / n**3)
  np.testing.assert_allclose(jac, want, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------
# unitwise_norm / unitwise_clip (the public helpers behind adaptive_grad_clip).
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('shape,axes', [
    ((5,), None), ((1, 5), None), ((4, 3), (0,)), ((4, 2, 3), (0,)),
    ((2, 2, 3, 4), (0, 1, 2)), ((2, 2, 2, 3, 4), (0, 1, 2, 3))])
def test_unitwise_norm_default_axes_by_rank(shape, axes):
  x = RNG.normal(size=shape).astype(np.float32)
  expected = np.sqrt(np.sum(x.astype(np.float64) ** 2, axis=axes, keepdims=True))
  got = gradtx.unitwise_norm(jnp.asarray(x))
  assert got.shape == x.shape
  np.testing.assert_allclose(got, np.broadcast_to(expected, shape), rtol=1e-6)
  np.testing.assert_allclose(got, optax.transforms.unitwise_norm(x), rtol=1e-6)


def test_unitwise_norm_explicit_axis_complex_and_bad_rank():
  z = jnp.array([[3 + 4j, 0j], [0j, 1j]], jnp.complex64)
  np.testing.assert_allclose(gradtx.unitwise_norm(z, axis=1), [[5, 5], [1, 1]])
  with pytest.raises(ValueError, match='axis'):
    gradtx.unitwise_norm(jnp.zeros((1, 2, 1, 2, 1, 2)))


def test_unitwise_clip_hand_values_and_optax():
  g = jnp.array([[3.0, 0.1], [4.0, 0.0]])
  norm = gradtx.unitwise_norm(g)  # columns: 5 and 0.1
  limit = jnp.full_like(g, 1.0)
  got = gradtx.unitwise_clip(norm, limit, g)
  np.testing.assert_allclose(got, [[0.6, 0.1], [0.8, 0.0]], rtol=1e-6)
  np.testing.assert_allclose(got, optax.transforms.unitwise_clip(norm, limit, g))
  with pytest.raises(ValueError, match='shape'):
    gradtx.unitwise_clip(norm, jnp.ones(2), g)


def test_adaptive_grad_clip_is_unitwise_clip_of_unitwise_norms():
  g, p = _tree(3.0, seed=1), _tree(1.0, seed=2)
  got = _apply(gradtx.adaptive_grad_clip(0.05, eps=1e-3), g, p)
  for k in g:
    limit = 0.05 * jnp.maximum(gradtx.unitwise_norm(jnp.asarray(p[k])), 1e-3)
    want = gradtx.unitwise_clip(gradtx.unitwise_norm(jnp.asarray(g[k])), limit,
                                jnp.asarray(g[k]))
    np.testing.assert_array_equal(got[k], want)
    assert not np.allclose(got[k], g[k])  # the bound is active
