"""Tests of gradtx.fast: fused optimizers on flat buffers and flat layouts.

The ordinary (tree) path is the oracle here; it is itself checked against
Optax in the battery, and one case below also runs Optax directly.
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
import gradtx.fast
from gradtx.fast import flat_layout, fused

STEPS = 100


def _schedule(count):
  # A changing learning rate: warm up, then decay.
  c = jnp.asarray(count, jnp.float32)
  return 1e-2 * jnp.minimum(1.0, (c + 1) / 10) * jnp.exp(-c / 50)


def _params(dtypes=(jnp.float32,)):
  shapes = [(3,), (2, 3), (), (4, 1, 2), (5,), (1,)]
  rng = np.random.default_rng(0)
  tree = {}
  for i, shape in enumerate(shapes):
    dtype = dtypes[i % len(dtypes)]
    tree[f'p{i}'] = jnp.asarray(rng.normal(size=shape), dtype)
  return tree


def _grads(params, t):
  # Deterministic gradients that change with the params and the step.
  return jax.tree.map(
      lambda p: (jnp.sin(3.0 * p.astype(jnp.float32) + t) + 0.1 * t / STEPS
                 ).astype(p.dtype), params)


_grads_jit = jax.jit(_grads)


def _run(opt, params, steps=STEPS):
  # The gradients come from their own jitted function, so that both paths
  # receive the same bits (fused into the update, XLA may vectorise the sine
  # differently, an ulp apart).
  state = opt.init(params)

  @jax.jit
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state

  for t in range(steps):
    params, state = step(params, state, _grads_jit(params, jnp.float32(t)))
  return params, state


# name: (make, bit_identical). Adam's two divisions by the bias corrections
# are reassociated by XLA's algebraic simplifier in a way that depends on
# the fusion around them, so the flat and the tree programs can round one
# ulp apart there; the other rules compile to the same arithmetic.
ELEMENTWISE = {
    'adam': (lambda: gradtx.adam(_schedule), False),
    'adamw': (lambda: gradtx.adamw(_schedule, weight_decay=1e-2), False),
    'sgd_momentum': (lambda: gradtx.sgd(_schedule, momentum=0.9), True),
    'sgd_nesterov': (lambda: gradtx.sgd(_schedule, 0.9, nesterov=True), True),
    'lion': (lambda: gradtx.lion(_schedule), True),
    'rmsprop': (lambda: gradtx.rmsprop(_schedule), True),
    'rmsprop_centered': (lambda: gradtx.rmsprop(
        _schedule, centered=True, momentum=0.5), True),
}


@pytest.mark.parametrize('name', sorted(ELEMENTWISE))
def test_elementwise_matches_tree_path(name):
  make, bit_identical = ELEMENTWISE[name]
  assert gradtx.fast.is_elementwise(make())
  params = _params()
  want, want_state = _run(make(), params)
  got, got_state = _run(fused(make()), params)
  for k in params:
    if bit_identical:
      np.testing.assert_array_equal(np.asarray(got[k]), np.asarray(want[k]))
    else:
      np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=1e-7)
  assert not np.array_equal(np.asarray(got['p1']), np.asarray(params['p1']))
  # The state is flat: one buffer per dtype, the same numbers in tree order.
  layout = flat_layout(params)
  flat_want = jax.tree.map(
      lambda x: x, jax.tree.leaves(want_state))
  assert isinstance(got_state, gradtx.fast.FusedState)
  flat_got = jax.tree.leaves(got_state.inner_state)
  assert len(flat_got) <= len(flat_want)
  assert any(x.shape == (layout.sizes[0],) for x in flat_got)
  # The offsets travel as data and come back unchanged.
  assert [int(o) for o in got_state.offsets] == [
      offset for _, offset, _ in layout.leaves]


def test_clip_then_adamw_matches_to_1e6():
  make = lambda: gradtx.chain(gradtx.clip_by_global_norm(0.5),
                              gradtx.adamw(_schedule, weight_decay=1e-2))
  assert gradtx.fast.is_elementwise(make())
  params = _params()
  want, _ = _run(make(), params)
  got, _ = _run(fused(make()), params)
  oracle, _ = _run(optax.chain(optax.clip_by_global_norm(0.5),
                               optax.adamw(_schedule, weight_decay=1e-2)),
                   params)
  for k in params:
    np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got[k], oracle[k], rtol=1e-6, atol=1e-7)
  # The clip is active: without it the result differs.
  free, _ = _run(fused(gradtx.adamw(_schedule, weight_decay=1e-2)), params)
  assert not np.allclose(free['p1'], got['p1'], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('name', ['lamb', 'adafactor', 'adamw_masked'])
def test_fallbacks_match_tree_path(name):
  make = {
      'lamb': lambda: gradtx.lamb(_schedule),
      'adafactor': lambda: gradtx.adafactor(_schedule),
      'adamw_masked': lambda: gradtx.adamw(
          _schedule, weight_decay=0.1,
          mask=lambda p: jax.tree.map(lambda x: x.ndim > 1, p)),
  }[name]
  assert not gradtx.fast.is_elementwise(make())
  params = _params()
  want, want_state = _run(make(), params)
  got, got_state = _run(fused(make()), params)
  assert (jax.tree.structure(got_state) == jax.tree.structure(want_state))
  for k in params:
    np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=1e-7)
  # With the params kept flat (the norms of LAMB's trust ratio then sum in
  # another fusion: 1e-6 absolute on params of order 1), the fallback unflattens, runs, flattens back.
  layout = flat_layout(params)
  opt = fused(make(), layout)
  flat = layout.flatten(params)
  state = opt.init(flat)

  @jax.jit
  def step(flat, state, t):
    grads = layout.flatten(_grads(layout.unflatten(flat), t))
    updates, state = opt.update(grads, state, flat)
    return gradtx.apply_updates(flat, updates), state

  for t in range(STEPS):
    flat, state = step(flat, state, jnp.float32(t))
  got = layout.unflatten(flat)
  for k in params:
    np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=1e-6)


def test_flat_params_with_elementwise_optimizer_equal_tree_path():
  params = _params()
  layout = flat_layout(params)
  opt = fused(gradtx.adamw(_schedule, weight_decay=1e-2), layout)
  flat = layout.flatten(params)
  state = opt.init(flat)

  def loss(flat, t):
    tree = layout.unflatten(flat)
    return sum(jnp.sum(jnp.cos(3.0 * p + t) / 3.0 + 0.1 * t / STEPS * p)
               for p in jax.tree.leaves(tree))

  @jax.jit
  def step(flat, state, t):
    updates, state = opt.update(jax.grad(loss)(flat, t), state, flat)
    return gradtx.apply_updates(flat, updates), state

  for t in range(STEPS):
    flat, state = step(flat, state, jnp.float32(t))
  # d/dp [cos(3p + t)/3 + c p] = -sin(3p + t) + c: minus _grads, so compare
  # against the tree path fed with the negated gradients.
  tree_opt = gradtx.adamw(_schedule, weight_decay=1e-2)
  tstate = tree_opt.init(params)

  @jax.jit
  def tree_step(params, tstate, t):
    g = jax.tree.map(lambda p: -jnp.sin(3.0 * p + t) + 0.1 * t / STEPS,
                     params)
    updates, tstate = tree_opt.update(g, tstate, params)
    return gradtx.apply_updates(params, updates), tstate

  want = params
  for t in range(STEPS):
    want, tstate = tree_step(want, tstate, jnp.float32(t))
  got = layout.unflatten(flat)
  for k in params:
    np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=1e-7)


def test_mixed_dtypes_keep_their_dtypes_and_match():
  dtypes = (jnp.float32, jnp.bfloat16, jnp.float16)
  params = _params(dtypes)
  make = lambda: gradtx.adam(_schedule, mu_dtype=jnp.float32)
  want, _ = _run(make(), params)
  got, state = _run(fused(make()), params)
  for k in params:
    assert got[k].dtype == params[k].dtype
    np.testing.assert_array_equal(np.asarray(got[k], np.float32),
                                  np.asarray(want[k], np.float32))
  mu = state.inner_state[0].mu
  assert sorted(mu) == ['bfloat16', 'float16', 'float32']
  assert all(v.dtype == jnp.float32 for v in mu.values())  # mu_dtype applies
  nu = state.inner_state[0].nu
  assert {k: v.dtype.name for k, v in nu.items()} == {
      'float32': 'float32', 'bfloat16': 'bfloat16', 'float16': 'float16'}
  layout = flat_layout(params)
  assert layout.groups == ('float32', 'bfloat16', 'float16')
  assert nu['bfloat16'].shape == (layout.sizes[1],)


def _fusions(fn, *args):
  text = jax.jit(fn).lower(*args).compile().as_text()
  return len(re.findall(r'= \S+ fusion\(', text))


def _uniform(n):
  return {f'w{i:04d}': jnp.full((8,), 0.01 * i, jnp.float32) for i in range(n)}


def _update_step(opt):
  def step(params, state, grads):
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state
  return step


def _update_fusions(opt, params):
  return _fusions(_update_step(opt), params, opt.init(params), params)


def test_kernel_count_is_constant_in_the_leaf_count():
  counts = {}
  for n in (10, 200):
    tree = _uniform(n)
    tree['h'] = jnp.ones((3,), jnp.bfloat16)  # a second dtype group
    layout = flat_layout(tree)
    opt = fused(gradtx.chain(gradtx.clip_by_global_norm(1.0),
                             gradtx.adamw(1e-3)), layout)
    counts[n] = _update_fusions(opt, layout.flatten(tree))
  # XLA picks another reduction strategy for the norm of a longer buffer,
  # so the count may move by one; it does not grow with the leaves.
  assert abs(counts[10] - counts[200]) <= 1
  assert max(counts.values()) <= 8 * 2  # a small constant per dtype group
  ordinary = {n: _update_fusions(gradtx.adamw(1e-3), _uniform(n))
              for n in (10, 80)}
  assert ordinary[80] >= 8 * ordinary[10] * 3 // 4  # grows with the leaves
  assert ordinary[80] > 10 * counts[200]


def test_no_recompile_on_second_update():
  params = _params((jnp.float32, jnp.bfloat16))
  opt = fused(gradtx.adamw(_schedule))
  state = opt.init(params)

  @jax.jit
  def step(params, state):
    updates, state = opt.update(params, state, params)
    return gradtx.apply_updates(params, updates), state

  params, state = step(params, state)
  params, state = step(params, state)
  assert step._cache_size() == 1  # pylint: disable=protected-access


def test_state_is_a_plain_checkpointable_pytree():
  params = _params((jnp.float32, jnp.bfloat16))
  opt = fused(gradtx.adamw(1e-2))
  state = opt.init(params)
  _, state = opt.update(params, state, params)
  leaves, treedef = jax.tree.flatten(state)
  assert all(isinstance(x, jax.Array) for x in leaves)
  restored = jax.tree.unflatten(treedef, [np.asarray(x) for x in leaves])
  u1, _ = opt.update(params, state, params)
  u2, _ = opt.update(params, restored, params)
  for k in params:
    np.testing.assert_array_equal(np.asarray(u1[k], np.float32),
                                  np.asarray(u2[k], np.float32))


def test_composes_with_multisteps_partition_and_inject():
  params = _params()
  labels = {k: ('a' if i % 2 else 'b') for i, k in enumerate(params)}
  cases = [
      (lambda: gradtx.MultiSteps(gradtx.adam(_schedule), 2),
       lambda: gradtx.MultiSteps(fused(gradtx.adam(_schedule)), 2)),
      (lambda: gradtx.partition({'a': gradtx.adam(_schedule),
                                 'b': gradtx.sgd(_schedule, 0.9)}, labels),
       lambda: gradtx.partition({'a': fused(gradtx.adam(_schedule)),
                                 'b': fused(gradtx.sgd(_schedule, 0.9))},
                                labels)),
      (lambda: gradtx.inject_hyperparams(gradtx.adamw)(learning_rate=1e-2),
       lambda: gradtx.inject_hyperparams(
           lambda learning_rate: fused(gradtx.adamw(learning_rate)))(
               learning_rate=1e-2)),
  ]
  for make_tree, make_fast in cases:
    want, _ = _run(make_tree(), params, steps=20)
    got, _ = _run(make_fast(), params, steps=20)
    moved = False
    for k in params:
      np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=1e-6)
      moved |= not np.allclose(want[k], params[k])
    assert moved


def test_pmap():
  n = min(2, jax.local_device_count())
  params = _params()
  opt = fused(gradtx.adam(1e-2))
  rep = jax.tree.map(lambda x: jnp.stack([x] * n), params)
  state = jax.pmap(opt.init)(rep)

  def step(params, state):
    g = jax.lax.pmean(_grads(params, 0.0), 'i')
    updates, state = opt.update(g, state, params)
    return gradtx.apply_updates(params, updates), state

  got, _ = jax.pmap(step, axis_name='i')(rep, state)
  want, _ = _run(gradtx.adam(1e-2), params, steps=1)
  want = jax.tree.map(lambda p: p, want)
  for k in params:
    for d in range(n):
      np.testing.assert_allclose(got[k][d], want[k], rtol=1e-6, atol=1e-7)


def test_layout_roundtrip_and_errors():
  params = _params((jnp.float32, jnp.bfloat16))
  layout = flat_layout(params)
  assert hash(layout) == hash(flat_layout(params))
  flat = layout.flatten(params)
  assert flat['float32'].shape == (layout.sizes[0],)
  back = layout.unflatten(flat)
  for k in params:
    assert back[k].dtype == params[k].dtype
    np.testing.assert_array_equal(np.asarray(back[k], np.float32),
                                  np.asarray(params[k], np.float32))
  with pytest.raises(TypeError, match='structure'):
    layout.flatten({'x': jnp.ones(2)})
  wrong = dict(params, p0=jnp.ones((4,)))
  with pytest.raises(TypeError, match='shape'):
    layout.flatten(wrong)
  with pytest.raises(TypeError, match='keys'):
    layout.unflatten({'float32': flat['float32']})
  with pytest.raises(TypeError, match='FlatLayout'):
    fused(gradtx.adam(1e-3), layout='float32')


def test_large_leaves_keep_their_own_buffers():
  params = _params((jnp.float32, jnp.bfloat16))  # sizes 3, 6, 1, 8, 5, 1
  layout = flat_layout(params, own_buffer_above=5)
  # p0..p5 alternate float32/bfloat16; p1 (6) and p3 (8) are large.
  assert layout.groups == ('float32', 'bfloat16#1', 'bfloat16#3', 'bfloat16')
  assert layout.sizes == (9, 6, 8, 1)
  flat = layout.flatten(params)
  np.testing.assert_array_equal(np.asarray(flat['bfloat16#3'], np.float32),
                                np.asarray(params['p3'], np.float32).ravel())
  back = layout.unflatten(flat)
  for k in params:
    np.testing.assert_array_equal(np.asarray(back[k], np.float32),
                                  np.asarray(params[k], np.float32))
  # A default layout keeps these small leaves together.
  assert flat_layout(params).groups == ('float32', 'bfloat16')
  with pytest.raises(ValueError, match='own_buffer_above'):
    flat_layout(params, own_buffer_above=-1)


def _distinct_kernels(fn, *args):
  """Kernels XLA:CPU has to compile: fused computations, up to renaming."""
  text = jax.jit(fn).lower(*args).compile().as_text()
  bodies = re.findall(r'\n%(?:fused|wrapped)_\w+[^\n]*\{\n(.*?)\n\}', text,
                      re.S)
  assert bodies
  return len({re.sub(r'%[\w.\-]+', '%x',
                     re.sub(r', metadata=\{[^}]*\}', '', b)) for b in bodies})


def _mlp(n):
  return {f'l{i:03d}': {'w': jnp.full((4, 4), 0.1 * i), 'b': jnp.zeros(4)}
          for i in range(n)}


def _mlp_loss(params, x):
  for i in range(len(params)):
    x = jnp.tanh(x @ params[f'l{i:03d}']['w'] + params[f'l{i:03d}']['b'][None])
  return jnp.sum(x)


def test_views_and_split_share_one_kernel_per_shape():
  # Compile time on XLA:CPU grows with the number of distinct kernels. The
  # views of a flat layout and the split of fused(opt) slice at runtime
  # offsets, so the distinct kernels do not grow with the leaf count.
  x = jnp.ones((2, 4))
  views, split, static = {}, {}, {}
  for n in (6, 30):
    params = _mlp(n)
    layout = flat_layout(params)
    flat = layout.flatten(params)
    views[n] = _distinct_kernels(
        jax.grad(lambda f, x: _mlp_loss(layout.unflatten(f), x)), flat, x)
    # The contrast: slices at constant offsets are one kernel each.
    static[n] = _distinct_kernels(
        jax.grad(lambda f, x: _mlp_loss(_static_views(layout, f), x)), flat, x)
    opt = fused(gradtx.adamw(1e-3))
    split[n] = _update_fusions_distinct(opt, params)
  assert views[30] == views[6], views
  assert split[30] == split[6], split
  assert static[30] >= static[6] + 24, static


def _static_views(layout, flat):
  leaves = [flat[g][o:o + int(np.prod(shape))].reshape(shape)
            for g, o, shape in layout.leaves]
  return jax.tree.unflatten(layout.treedef, leaves)


def _update_fusions_distinct(opt, params):
  return _distinct_kernels(_update_step(opt), params, opt.init(params), params)


@pytest.mark.parametrize('first', [-1.0, -0.0, float('nan'), -float('inf'),
                                   3.0e38])
def test_views_are_exact_whatever_the_data(first):
  # The views' offsets pass through a loop guarded by the first element's
  # bits; any value there (sign bit set, NaN, infinities) leaves them exact.
  params = _params((jnp.float32, jnp.bfloat16))
  layout = flat_layout(params)
  flat = layout.flatten(params)
  flat['float32'] = flat['float32'].at[0].set(first)
  got = jax.jit(layout.unflatten)(flat)
  for (group, offset, shape), leaf in zip(layout.leaves, jax.tree.leaves(got)):
    size = int(np.prod(shape))
    want = np.asarray(flat[group][offset:offset + size], np.float32)
    np.testing.assert_array_equal(np.asarray(leaf, np.float32).ravel(), want)


def test_offsets_are_static_for_buffers_beyond_int32():
  tree = {'a': jax.ShapeDtypeStruct((2**31,), jnp.int8),
          'b': jax.ShapeDtypeStruct((3,), jnp.int8)}
  layout = flat_layout(tree, own_buffer_above=None)
  assert layout.offsets() == (0, 2**31)
  # Views and their gradient trace with static slices there (shapes only:
  # nothing of that size is allocated).
  big = flat_layout({'a': jax.ShapeDtypeStruct((2**31,), jnp.float16),
                     'b': jax.ShapeDtypeStruct((3,), jnp.float16)},
                    own_buffer_above=None)
  buf = {'float16': jax.ShapeDtypeStruct((2**31 + 3,), jnp.float16)}
  total = lambda f: sum(jnp.sum(x, dtype=jnp.float32)
                        for x in jax.tree.leaves(big.unflatten(f)))
  views = jax.eval_shape(big.unflatten, buf)
  assert views['a'].shape == (2**31,) and views['b'].shape == (3,)
  assert jax.eval_shape(jax.grad(total), buf)['float16'].shape == (2**31 + 3,)
  assert 'dynamic_slice' not in str(jax.make_jaxpr(big.unflatten)(buf))
  small = flat_layout(_params())
  assert all(o.dtype == jnp.int32 for o in small.offsets())
  with pytest.raises(TypeError, match='offsets'):
    small.split(small.flatten(_params()), small.offsets()[:2])


def test_views_at_offsets_passed_to_the_step_train_identically():
  # unflatten(flat, offsets), the offsets an argument of the jitted step,
  # slices without the opaque loop; values, gradients and 100 steps of
  # training are bit-identical to the default views.
  params = _params((jnp.float32, jnp.bfloat16))
  layout = flat_layout(params)
  opt = fused(gradtx.adamw(_schedule, weight_decay=1e-2), layout)

  def loss(tree, t):
    return sum(jnp.sum(jnp.cos(3.0 * p.astype(jnp.float32) + t) / 3.0)
               for p in jax.tree.leaves(tree))

  def make_step(read):
    @jax.jit
    def step(flat, state, t, offsets):
      grads = jax.grad(lambda f: loss(read(f, offsets), t))(flat)
      updates, state = opt.update(grads, state, flat)
      return gradtx.apply_updates(flat, updates), state
    return step

  with_args = make_step(layout.unflatten)
  default = make_step(lambda f, _: layout.unflatten(f))
  flat = layout.flatten(params)
  runs = {'args': (flat, opt.init(flat)), 'default': (flat, opt.init(flat))}
  offsets = layout.offsets()
  for t in range(STEPS):
    for name, step in (('args', with_args), ('default', default)):
      runs[name] = step(*runs[name], jnp.float32(t), offsets)
  for group in layout.groups:
    np.testing.assert_array_equal(
        np.asarray(runs['args'][0][group], np.float32),
        np.asarray(runs['default'][0][group], np.float32))
  assert 'while' not in with_args.lower(
      flat, opt.init(flat), jnp.float32(0), offsets).compile().as_text()
  assert 'while' in default.lower(
      flat, opt.init(flat), jnp.float32(0), offsets).compile().as_text()


def test_views_at_offsets_keep_one_kernel_per_shape_and_check_length():
  x = jnp.ones((2, 4))
  kernels = {}
  for n in (6, 30):
    layout = flat_layout(_mlp(n))
    flat = layout.flatten(_mlp(n))
    kernels[n] = _distinct_kernels(
        jax.grad(lambda f, x, o: _mlp_loss(layout.unflatten(f, o), x)),
        flat, x, layout.offsets())
    # Offsets closed over would reach XLA as constants: they are ignored in
    # favour of the default views, so the kernels stay bounded there too.
    kernels[n, 'closed'] = _distinct_kernels(
        jax.grad(lambda f, x: _mlp_loss(
            layout.unflatten(f, layout.offsets()), x)), flat, x)
  assert kernels[30] == kernels[6], kernels
  assert kernels[30, 'closed'] == kernels[6, 'closed'], kernels
  with pytest.raises(TypeError, match='expects 60 offsets'):
    layout.unflatten(flat, layout.offsets()[:3])


def test_jit_with_shardings_data_parallel_and_sharded_flat_state():
  # Flat params replicated over an 8-device mesh, the batch split along it:
  # the same training as on one device. Then the flat buffers (params and
  # state) split along the mesh: the elementwise update runs on each
  # device's slice, the views in the loss gather what they read.
  from jax.sharding import Mesh, NamedSharding, PartitionSpec as P  # pylint: disable=g-import-not-at-top
  n = 8
  assert jax.device_count() >= n
  mesh = Mesh(np.array(jax.devices()[:n]), ('d',))
  params = {'w': jnp.asarray(np.random.default_rng(1).normal(size=(4, 6)),
                             jnp.float32),
            'b': jnp.zeros((6,)), 'c': jnp.ones((6,)),
            'd': jnp.full((4,), 0.5)}  # 40 floats: 8 devices divide them
  layout = flat_layout(params)
  opt = fused(gradtx.adamw(_schedule, weight_decay=1e-2), layout)
  x = jnp.asarray(np.random.default_rng(2).normal(size=(16, 4)), jnp.float32)

  def step(flat, state, x, t):
    def loss(flat):
      p = layout.unflatten(flat)
      h = jnp.tanh(x @ p['w'] + p['b'][None]) * p['c'][None]
      return jnp.mean(h) + jnp.sum(p['d'] ** 2) + 0.01 * t
    updates, state = opt.update(jax.grad(loss)(flat), state, flat)
    return gradtx.apply_updates(flat, updates), state

  def train(flat_spec):
    put = lambda tree, spec: jax.device_put(tree, NamedSharding(mesh, spec))
    flat = put(layout.flatten(params), flat_spec)
    state = jax.tree.map(
        lambda a: put(a, flat_spec if a.ndim else P()), opt.init(flat))
    xs = put(x, P('d'))
    fn = jax.jit(step, donate_argnums=(0, 1))
    for t in range(20):
      flat, state = fn(flat, state, xs, jnp.float32(t))
    return flat, state

  single = jax.jit(step)
  flat, state = layout.flatten(params), opt.init(layout.flatten(params))
  for t in range(20):
    flat, state = single(flat, state, x, jnp.float32(t))
  for spec in (P(), P('d')):
    got, got_state = train(spec)
    assert got['float32'].sharding.spec == spec, got['float32'].sharding
    np.testing.assert_allclose(got['float32'], flat['float32'], rtol=1e-5,
                               atol=1e-6)
    assert not np.allclose(got['float32'], layout.flatten(params)['float32'])
    mu = jax.tree.leaves(got_state)[1]
    assert mu.shape == (40,) and mu.sharding.spec in (spec, P(None))
