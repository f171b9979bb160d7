"""gradtx.distributed on 8 simulated CPU devices (set by tests/conftest.py).

* State follows params: shardings and PartitionSpecs of every optimizer's
  state, ``init`` on ShapeDtypeStructs, sharded init and sharded steps equal
  to unsharded ones.
* ZeRO (``zero_sharded``): trajectories equal the unpartitioned optimizer fed
  the mean gradient (computed in float64 by numpy, an independent path), for
  chains with global-norm clipping, loss scaling with an overflow on one
  device, MultiSteps, param groups; per-device state bytes; padding; the
  collectives in the compiled step; pmap.
* Agreement: finiteness checks, reduce-on-plateau and early stopping agree
  across devices fed different values.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

import gradtx
from gradtx import distributed as gd

N = 8
AUTO = jax.sharding.AxisType.Auto


def _mesh(shape=(N,), names=('data',)):
  devices = np.asarray(jax.devices()[:int(np.prod(shape))]).reshape(shape)
  return jax.sharding.Mesh(devices, names, axis_types=(AUTO,) * len(shape))


def _params():
  """Leaf sizes 24, 6, 63 (9 x 7) and 5: three of them do not divide 8."""
  rng = np.random.default_rng(0)
  return {
      'enc': {'w': jnp.asarray(rng.normal(size=(4, 6)), jnp.float32),
              'b': jnp.asarray(rng.normal(size=(6,)), jnp.float32)},
      'head': {'w': jnp.asarray(rng.normal(size=(9, 7)), jnp.float32),
               'b': jnp.asarray(rng.normal(size=(5,)), jnp.float32)},
  }


def _rel_err(a, b) -> float:
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def _assert_trees_close(a, b, rtol, what=''):
  assert jax.tree.structure(a) == jax.tree.structure(b)
  for (path, x), y in zip(jax.tree_util.tree_flatten_with_path(a)[0], jax.tree.leaves(b)):
    err = _rel_err(x, y)
    assert err <= rtol, f'{what} {jax.tree_util.keystr(path)}: rel err {err:.2e}'


# ---------------------------------------------------------------------------
# State follows params.
# ---------------------------------------------------------------------------
PARAM_SPECS = {'enc': {'w': P('data', 'model'), 'b': P('model')},
               'head': {'w': P(None, None), 'b': P()}}


def _sharded_params(mesh):
  return jax.tree.map(lambda p, s: jax.device_put(p, NamedSharding(mesh, s)),
                      _params(), PARAM_SPECS)


OPTIMIZERS = {
    'adam': lambda: gradtx.adam(1e-2),
    'chain_clip_adamw': lambda: gradtx.chain(
        gradtx.clip_by_global_norm(1.0),
        gradtx.adamw(gradtx.linear_schedule(1e-2, 1e-3, 5), weight_decay=0.1)),
    'masked': lambda: gradtx.masked(
        gradtx.sgd(1e-2, momentum=0.9),
        {'enc': {'w': True, 'b': False}, 'head': {'w': True, 'b': False}}),
    'partition': lambda: gradtx.partition(
        {'fast': gradtx.adam(1e-2), 'frozen': gradtx.set_to_zero()},
        {'enc': {'w': 'fast', 'b': 'frozen'}, 'head': {'w': 'fast', 'b': 'fast'}}),
    'param_groups': lambda: gradtx.param_groups(
        [{'params': 'enc/.*', 'lr_mult': 0.1}, {'params': '.*/b', 'weight_decay': 0.0}],
        optimizer=gradtx.adamw, learning_rate=1e-2, weight_decay=0.1),
    'multisteps': lambda: gradtx.MultiSteps(gradtx.adam(1e-2), 2).gradient_transformation(),
    'loss_scale': lambda: gradtx.with_loss_scale(
        gradtx.lion(1e-3), gradtx.DynamicLossScale(init_scale=2.0**4, growth_interval=2)),
    'lookahead': lambda: gradtx.lookahead(gradtx.sgd(1e-2, momentum=0.5), 2, 0.5),
    'adafactor': lambda: gradtx.adafactor(1e-2),
    'inject': lambda: gradtx.inject_hyperparams(gradtx.rmsprop)(learning_rate=1e-2),
}


def _param_table():
  params = _params()
  flat = jax.tree_util.tree_flatten_with_path(params)[0]
  specs = jax.tree.leaves(PARAM_SPECS, is_leaf=lambda x: isinstance(x, P))
  return [(tuple(k.key for k in path), p.shape, s) for (path, p), s in zip(flat, specs)]


def _expected_spec(path, shape):
  """Hand rule: the leaf sits under a dict path ending in a param's keys."""
  keys = tuple(getattr(k, 'key', None) for k in path)
  for p_keys, p_shape, spec in _param_table():
    if keys[-2:] == p_keys and tuple(shape) == p_shape:
      return spec
  return P()


@pytest.mark.parametrize('name', sorted(OPTIMIZERS))
def test_state_partition_specs_follow_params(name):
  opt = OPTIMIZERS[name]()
  params = _params()
  specs = gd.state_partition_specs(opt, params, PARAM_SPECS)
  shapes = jax.eval_shape(opt.init, params)
  assert jax.tree.structure(specs, is_leaf=lambda x: isinstance(x, P)) == (
      jax.tree.structure(shapes))
  flat = jax.tree_util.tree_flatten_with_path(shapes)[0]
  spec_leaves = jax.tree.leaves(specs, is_leaf=lambda x: isinstance(x, P))
  followed = 0
  for (path, leaf), spec in zip(flat, spec_leaves):
    assert spec == _expected_spec(path, leaf.shape), jax.tree_util.keystr(path)
    followed += spec != P()
  # Every optimizer here keeps at least one sharded, param-shaped buffer.
  assert followed >= 1


def test_masked_and_partition_specs_by_hand():
  params = _params()
  specs = gd.state_partition_specs(OPTIMIZERS['masked'](), params, PARAM_SPECS)
  trace = specs.inner_state[0].trace
  assert trace['enc']['w'] == P('data', 'model') and trace['head']['w'] == P(None, None)
  assert isinstance(trace['enc']['b'], gradtx.MaskedNode)
  specs = gd.state_partition_specs(OPTIMIZERS['partition'](), params, PARAM_SPECS)
  mu = specs.inner_states['fast'].inner_state[0].mu
  assert mu['enc']['w'] == P('data', 'model') and mu['head']['b'] == P()
  assert specs.inner_states['fast'].inner_state[0].count == P()


@pytest.mark.parametrize('name', ['chain_clip_adamw', 'masked', 'param_groups',
                                  'adafactor'])
def test_sharded_init_and_steps_equal_unsharded(name):
  mesh = _mesh((4, 2), ('data', 'model'))
  opt = OPTIMIZERS[name]()
  params = _sharded_params(mesh)
  state = gd.sharded_init(opt, params)
  shardings = gd.state_shardings(opt, params)
  # Param-shaped leaves carry their param's sharding, the rest is replicated.
  for got, want in zip(jax.tree.leaves(state), jax.tree.leaves(shardings)):
    assert got.sharding.is_equivalent_to(want, got.ndim)
  ref_params = _params()
  ref_state = opt.init(ref_params)
  _assert_trees_close(state, ref_state, 0.0, 'init')

  step = jax.jit(
      lambda p, s, g: opt.update(g, s, p),
      out_shardings=(jax.tree.map(lambda x: x.sharding, params), shardings))
  rng = np.random.default_rng(1)
  for _ in range(2):
    grads = jax.tree.map(
        lambda p: jnp.asarray(rng.normal(size=p.shape), jnp.float32), ref_params)
    updates, state = step(params, state, jax.device_put(grads, jax.tree.map(
        lambda x: x.sharding, params)))
    ref_updates, ref_state = opt.update(grads, ref_state, ref_params)
    _assert_trees_close(updates, ref_updates, 1e-6, name)
  _assert_trees_close(state, ref_state, 1e-6, name)
  for got, want in zip(jax.tree.leaves(state), jax.tree.leaves(shardings)):
    assert got.sharding.is_equivalent_to(want, got.ndim)


def test_init_on_shape_dtype_structs_allocates_nothing():
  mesh = _mesh((4, 2), ('data', 'model'))
  big = {'w': jax.ShapeDtypeStruct((1 << 20, 4096), jnp.bfloat16,
                                   sharding=NamedSharding(mesh, P('data', 'model'))),
         'b': jax.ShapeDtypeStruct((4096,), jnp.float32,
                                   sharding=NamedSharding(mesh, P('model')))}
  opt = gradtx.adamw(1e-3, mu_dtype=jnp.float32)
  abstract = gd.abstract_state(opt, big)
  mu, nu = abstract[0].mu, abstract[0].nu
  assert mu['w'].shape == (1 << 20, 4096) and mu['w'].dtype == jnp.float32
  assert mu['w'].sharding.spec == P('data', 'model')
  assert nu['b'].sharding.spec == P('model')
  assert abstract[0].count.sharding.spec == P()
  assert jax.eval_shape(opt.init, big)[0].nu['w'].dtype == jnp.bfloat16


def test_state_shardings_reads_param_shardings_and_validates():
  with pytest.raises(ValueError, match='param_shardings'):
    gd.state_shardings(gradtx.adam(1e-3), {'w': np.ones(3)})
  with pytest.raises(ValueError, match='param_specs must be one value'):
    gd.state_partition_specs(gradtx.adam(1e-3), {'a': jnp.ones(1), 'b': jnp.ones(1),
                                                 'c': jnp.ones(1)}, [P(), P()])


# ---------------------------------------------------------------------------
# ZeRO.
# ---------------------------------------------------------------------------
def _grads_sequence(steps, scales, rng_seed=2, dtype=jnp.float32):
  """Per-device gradients, shape (8, *param.shape), one tree per step."""
  rng = np.random.default_rng(rng_seed)
  params = _params()
  seq = []
  for t in range(steps):
    seq.append(jax.tree.map(
        lambda p: (rng.normal(size=(N,) + p.shape) * scales[t % len(scales)]),
        params))
  return seq


def _zero_run(inner, grads_seq, extra_seq=None, reduce='mean', dtype=jnp.float32):
  mesh = _mesh()
  opt = gd.zero_sharded(inner, 'data', N, reduce=reduce)
  params = jax.tree.map(lambda p: jax.device_put(p.astype(dtype), NamedSharding(mesh, P())),
                        _params())
  specs = gd.state_partition_specs(opt, params)
  state = gd.sharded_init(opt, params)

  def local_step(params, state, grads, extra):
    grads = jax.tree.map(lambda g: g[0], grads)
    updates, state = opt.update(grads, state, params, **extra)
    return gradtx.apply_updates(params, updates), state

  step = jax.jit(jax.shard_map(
      local_step, mesh=mesh, in_specs=(P(), specs, P('data'), P()),
      out_specs=(P(), specs)))
  history = []
  for t, grads in enumerate(grads_seq):
    extra = {} if extra_seq is None else extra_seq[t]
    grads = jax.device_put(jax.tree.map(lambda g: jnp.asarray(g, dtype), grads),
                           NamedSharding(mesh, P('data')))
    params, state = step(params, state, grads, extra)
    history.append(params)
  return history, state, step, (params, specs)


def _reference_run(inner, grads_seq, extra_seq=None, dtype=jnp.float32):
  """The unpartitioned optimizer on one device, fed the float64 mean gradient."""
  params = jax.tree.map(lambda p: p.astype(dtype), _params())
  state = inner.init(params)
  update = jax.jit(inner.update)
  history = []
  for t, grads in enumerate(grads_seq):
    mean = jax.tree.map(lambda g: jnp.asarray(np.mean(g, 0), dtype), grads)
    extra = {} if extra_seq is None else extra_seq[t]
    updates, state = update(mean, state, params, **extra)
    params = gradtx.apply_updates(params, updates)
    history.append(params)
  return history, state


ZERO_CASES = {
    # Clipping active on steps 0, 1, 4, 5 and inactive on 2, 3.
    'clip_adamw_schedule': (lambda: gradtx.chain(
        gradtx.clip_by_global_norm(1.0),
        gradtx.adamw(gradtx.warmup_cosine_decay_schedule(0.0, 0.1, 2, 8, 0.01),
                     weight_decay=0.05)), (3.0, 3.0, 0.02, 0.02)),
    'sgd_nesterov': (lambda: gradtx.sgd(gradtx.exponential_decay(0.1, 2, 0.5),
                                        momentum=0.9, nesterov=True), (1.0,)),
    'multisteps': (lambda: gradtx.MultiSteps(
        gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adam(0.05)), 3
    ).gradient_transformation(), (1.0, 0.05)),
    'param_groups': (lambda: gradtx.param_groups(
        [{'params': 'enc/.*', 'lr_mult': 0.1}, {'params': '.*/b', 'weight_decay': 0.0}],
        optimizer=gradtx.adamw, learning_rate=0.05, weight_decay=0.1), (1.0,)),
    'rmsprop_momentum': (lambda: gradtx.rmsprop(0.01, momentum=0.5), (1.0,)),
}


@pytest.mark.parametrize('name', sorted(ZERO_CASES))
def test_zero_trajectory_equals_unpartitioned(name):
  make, scales = ZERO_CASES[name]
  grads_seq = _grads_sequence(8, scales)
  zero, zero_state, _, _ = _zero_run(make(), grads_seq)
  ref, ref_state = _reference_run(make(), grads_seq)
  for t, (z, r) in enumerate(zip(zero, ref)):
    _assert_trees_close(z, r, 1e-6, f'{name} step {t}')
  # And the params did move (the comparison is not of two frozen trees).
  assert _rel_err(ref[-1]['head']['w'], _params()['head']['w']) > 1e-3


def test_zero_clipping_uses_the_norm_of_the_whole_gradient():
  # One step of SGD(1) after clipping: the update is -g * 1/‖g‖ (norm >> 1).
  grads_seq = _grads_sequence(1, (5.0,))
  zero, _, _, _ = _zero_run(
      gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.sgd(1.0)), grads_seq)
  mean = jax.tree.map(lambda g: np.mean(g, 0), grads_seq[0])
  norm = np.sqrt(sum(np.sum(m ** 2) for m in jax.tree.leaves(mean)))
  assert norm > 2.0
  want = jax.tree.map(lambda p, m: np.asarray(p, np.float64) - m / norm, _params(), mean)
  _assert_trees_close(zero[0], want, 1e-6)


def test_zero_loss_scale_overflow_on_one_device_is_skipped_everywhere():
  grads_seq = _grads_sequence(6, (1.0,))
  # Step 2: device 3 alone overflows in one element of one leaf; after the
  # reduce-scatter only one device holds the inf.
  grads_seq[2]['head']['w'][3, 8, 6] = np.inf
  make = lambda: gradtx.with_loss_scale(
      gradtx.adam(0.05), gradtx.DynamicLossScale(init_scale=4.0, growth_interval=2))
  zero, zero_state, _, _ = _zero_run(make(), grads_seq)
  ref, ref_state = _reference_run(make(), grads_seq)
  for t, (z, r) in enumerate(zip(zero, ref)):
    _assert_trees_close(z, r, 1e-6, f'step {t}')
  _assert_trees_close(zero[2], zero[1], 0.0, 'skipped step')
  inner = zero_state.inner_state
  assert int(inner.skipped_steps) == int(ref_state.skipped_steps) == 1
  assert float(inner.loss_scale.loss_scale) == float(ref_state.loss_scale.loss_scale)


def test_zero_apply_if_finite_nan_on_one_device():
  grads_seq = _grads_sequence(4, (1.0,))
  grads_seq[1]['enc']['b'][5, 0] = np.nan
  make = lambda: gradtx.apply_if_finite(gradtx.adam(0.05), 3)
  zero, zero_state, _, _ = _zero_run(make(), grads_seq)
  ref, ref_state = _reference_run(make(), grads_seq)
  for z, r in zip(zero, ref):
    _assert_trees_close(z, r, 1e-6)
  _assert_trees_close(zero[1], zero[0], 0.0, 'skipped step')
  assert int(zero_state.inner_state.total_notfinite) == 1


def test_zero_bfloat16_params_and_gradients():
  grads_seq = _grads_sequence(1, (1.0,))
  make = lambda: gradtx.adam(0.05, mu_dtype=jnp.float32)
  zero, zero_state, _, _ = _zero_run(make(), grads_seq, dtype=jnp.bfloat16)
  ref, _ = _reference_run(make(), grads_seq, dtype=jnp.bfloat16)
  assert all(x.dtype == jnp.bfloat16 for x in jax.tree.leaves(zero[-1]))
  assert zero_state.inner_state[0].mu['enc']['w'].dtype == jnp.float32
  # bf16 gradients are averaged in bf16 on both paths, in different orders.
  _assert_trees_close(zero[-1], ref[-1], 2e-2)


def test_zero_state_memory_is_one_nth_plus_counters():
  grads_seq = _grads_sequence(1, (1.0,))
  _, state, _, _ = _zero_run(gradtx.adam(0.01), grads_seq)
  device = jax.devices()[0]
  per_device = sum(s.data.nbytes for leaf in jax.tree.leaves(state)
                   for s in leaf.addressable_shards if s.device == device)
  sizes = [24, 6, 63, 5]
  k = [gd.shard_size(n, N) for n in sizes]
  assert k == [3, 1, 8, 1]
  assert per_device == 2 * 4 * sum(k) + 4  # mu, nu slices + the int32 count
  replicated = 2 * 4 * sum(sizes) + 4
  assert per_device < replicated / 5
  # The global layout pads each leaf to a multiple of 8 elements.
  mu = state.inner_state[0].mu
  assert mu['head']['w'].shape == (64,) and mu['head']['w'].sharding.spec == P('data')


def test_partitioned_layout_pads_with_zeros():
  layout = gd.partitioned_layout({'a': jnp.arange(6.0).reshape(2, 3)}, 4)
  np.testing.assert_array_equal(layout['a'], [0, 1, 2, 3, 4, 5, 0, 0])
  sds = gd.partitioned_layout({'a': jax.ShapeDtypeStruct((5, 3), jnp.bfloat16)}, 4)
  assert sds['a'].shape == (16,) and sds['a'].dtype == jnp.bfloat16


def test_zero_compiled_step_reduce_scatters_and_all_gathers():
  grads_seq = _grads_sequence(1, (1.0,))
  _, state, step, (params, _) = _zero_run(gradtx.adam(0.01), grads_seq)
  grads = jax.device_put(jax.tree.map(jnp.asarray, grads_seq[0]),
                         NamedSharding(_mesh(), P('data')))
  hlo = step.lower(params, state, grads, {}).compile().as_text()
  assert 'reduce-scatter' in hlo and 'all-gather' in hlo


def test_zero_reduce_none_takes_slices_of_reduced_gradients():
  grads_seq = _grads_sequence(3, (1.0,))
  same = [jax.tree.map(lambda g: np.broadcast_to(np.mean(g, 0), g.shape).copy(), gs)
          for gs in grads_seq]
  zero, _, _, _ = _zero_run(gradtx.adam(0.05), same, reduce='none')
  ref, _ = _reference_run(gradtx.adam(0.05), grads_seq)
  _assert_trees_close(zero[-1], ref[-1], 1e-6)


def test_zero_under_pmap():
  inner = gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.sgd(0.1, momentum=0.9))
  opt = gd.zero_sharded(inner, 'batch', N)
  x = np.random.default_rng(3).normal(size=(N, 4, 4)).astype(np.float32)
  params = {'w': jnp.ones((4, 3)), 'b': jnp.zeros(3)}

  def loss(p, x):
    return jnp.mean((x @ p['w'] + p['b'][None, :]) ** 2)

  @functools.partial(jax.pmap, axis_name='batch', in_axes=(None, 0))
  def train(params, x):
    state = opt.init(params)  # this device's slice
    for _ in range(2):
      grads = jax.grad(loss)(params, x)
      updates, state = opt.update(grads, state, params)
      params = gradtx.apply_updates(params, updates)
    return params, state

  out, state = train(params, x)
  assert state.inner_state[1][0].trace['w'].shape == (N, 2)  # 12 elements / 8
  ref_state = inner.init(params)
  ref = params
  for _ in range(2):
    grads = jax.grad(loss)(ref, jnp.asarray(x.reshape(-1, 4)))
    updates, ref_state = inner.update(grads, ref_state, ref)
    ref = gradtx.apply_updates(ref, updates)
  for d in range(N):
    _assert_trees_close(jax.tree.map(lambda a: a[d], out), ref, 1e-6)


def test_zero_specs_of_composite_optimizer():
  opt = gd.zero_sharded(OPTIMIZERS['partition'](), 'data', N)
  specs = gd.state_partition_specs(opt, _params())
  fast = specs.inner_state.inner_states['fast'].inner_state[0]
  assert fast.mu['enc']['w'] == P('data') and fast.count == P()
  assert isinstance(fast.mu['enc']['b'], gradtx.MaskedNode)


def test_zero_validation():
  with pytest.raises(ValueError, match='num_shards'):
    gd.zero_sharded(gradtx.adam(0.1), 'data', 0)
  with pytest.raises(ValueError, match='reduce'):
    gd.zero_sharded(gradtx.adam(0.1), 'data', 2, reduce='avg')
  with pytest.raises(ValueError, match='axis_name'):
    gd.zero_sharded(gradtx.adam(0.1), None, 2)
  opt = gd.zero_sharded(gradtx.adam(0.1), 'data', 4)
  state = opt.init({'w': jnp.ones(3)})
  with pytest.raises(ValueError, match='inside jax.shard_map or jax.pmap'):
    opt.update({'w': jnp.ones(3)}, state)
  with pytest.raises(ValueError, match='num_shards=8'):
    jax.pmap(lambda p: opt.init(p), axis_name='data')(jnp.ones((8, 3)))


# ---------------------------------------------------------------------------
# Agreement across replicas (shard_map with per-device values).
# ---------------------------------------------------------------------------
def _per_device(f, *args):
  mesh = _mesh()
  return jax.jit(jax.shard_map(f, mesh=mesh, in_specs=P('data'), out_specs=P('data'),
                               check_vma=False))(*args)


@pytest.mark.parametrize('wrap', [False, True])
def test_agreed_apply_if_finite(wrap):
  tx = gradtx.apply_if_finite(gradtx.sgd(0.1), 3)
  if wrap:
    tx = gd.agreed(tx, 'data')
  g = np.ones((N, 2), np.float32)
  g[6, 1] = np.inf

  def f(g):
    state = tx.init(jnp.zeros(2))
    updates, state = tx.update(g[0], state)
    return state.last_finite[None], updates[None]

  finite, updates = _per_device(f, jnp.asarray(g))
  if wrap:
    assert not np.any(finite)
    assert np.all(np.asarray(updates) == 0)
  else:  # without agreement the replicas disagree: the test can fail.
    assert np.sum(~np.asarray(finite)) == 1


def test_agreed_reduce_on_plateau_and_early_stopping():
  rng = np.random.default_rng(4)
  # Per-device losses that differ: the mean plateaus from step 3 on.
  mean_losses = np.array([1.0, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7], np.float32)
  noise = rng.normal(size=(N, len(mean_losses))).astype(np.float32) * 0.3
  noise -= noise.mean(0, keepdims=True)
  losses = mean_losses[None, :] + noise
  plateau = lambda: gradtx.reduce_on_plateau(factor=0.5, patience=1, rtol=1e-3)
  stop = gradtx.early_stopping(patience=2, min_delta=1e-3)

  def run(tx, es, per_device_losses):
    state, es_state = tx.init(jnp.zeros(1)), es.init()
    scales, stops = [], []
    for t in range(per_device_losses.shape[0]):
      _, state = tx.update(jnp.zeros(1), state, value=per_device_losses[t])
      es_state = es.update(es_state, per_device_losses[t])
      scales.append(state.scale)
      stops.append(es_state.should_stop)
    return jnp.stack(scales), jnp.stack(stops)

  def f(l):
    return jax.tree.map(lambda x: x[None],
                        run(gd.agreed(plateau(), 'data'),
                            gd.agreed_early_stopping(stop, 'data'), l[0]))

  scales, stops = _per_device(f, jnp.asarray(losses))
  ref_scales, ref_stops = run(plateau(), stop, jnp.asarray(mean_losses))
  for d in range(N):
    np.testing.assert_allclose(scales[d], ref_scales, rtol=1e-6)
    np.testing.assert_array_equal(stops[d], ref_stops)
  assert float(ref_scales[-1]) < 1.0 and bool(ref_stops[-1])

  def g(l):  # without agreement: per-device decisions differ.
    return jax.tree.map(lambda x: x[None], run(plateau(), stop, l[0]))

  scales, _ = _per_device(g, jnp.asarray(losses))
  assert len({tuple(np.asarray(s)) for s in scales}) > 1
