"""masked, partition, freeze, selective_transform and the conditional wrappers.

Checked against hand-written equivalents (the optimizer run on the selected
leaves alone), against Optax, inside jit / scan / pmap, and for every bad-input
rule.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx


def lr_schedule(step):
  return 0.05 / (1.0 + 0.1 * step.astype(jnp.float32))


def params0():
  k = jax.random.split(jax.random.PRNGKey(1), 3)
  return {'w': jax.random.normal(k[0], (3, 2)), 'b': jax.random.normal(k[1], (2,)),
          'c': {'s': jax.random.normal(k[2], (4,))}}


def grads_at(params, i):
  """Deterministic, step-dependent gradients."""
  return jax.tree.map(lambda p: jnp.sin(p * (1.0 + 0.1 * i)) + 0.01 * i, params)


def run(opt, params, steps=20):
  state = opt.init(params)
  update = jax.jit(opt.update)
  for i in range(steps):
    u, state = update(grads_at(params, i), state, params)
    params = gradtx.apply_updates(params, u)
  return params, state


# ---------------------------------------------------------------------------
# masked
# ---------------------------------------------------------------------------
def test_masked_equals_optimizer_on_the_unmasked_leaves_alone():
  p0 = params0()
  mask = {'w': True, 'b': False, 'c': {'s': True}}
  ours, _ = run(gradtx.masked(gradtx.adam(lr_schedule), mask), p0)
  # Hand-written: adam on {'w', 's'} only; 'b' receives the raw gradient.
  sub = {'w': p0['w'], 's': p0['c']['s']}
  opt = gradtx.adam(lr_schedule)
  state = opt.init(sub)
  b = p0['b']
  full = p0
  for i in range(20):
    g = grads_at(full, i)
    u, state = opt.update({'w': g['w'], 's': g['c']['s']}, state)
    sub = jax.tree.map(lambda p, x: p + x, sub, u)
    b = b + g['b']
    full = {'w': sub['w'], 'b': b, 'c': {'s': sub['s']}}
  for a, e in zip(jax.tree.leaves(ours), jax.tree.leaves(full)):
    np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-7)


def test_masked_state_only_holds_the_masked_in_leaves():
  state = gradtx.masked(gradtx.adam(0.1), {'w': True, 'b': False, 'c': False}).init(params0())
  mu = state.inner_state[0].mu
  assert isinstance(mu['b'], gradtx.MaskedNode) and isinstance(mu['c'], gradtx.MaskedNode)
  assert mu['w'].shape == (3, 2)


def test_masked_with_mask_function_and_prefix_matches_optax():
  p0 = params0()
  fn = lambda p: jax.tree.map(lambda x: x.ndim > 1, p)
  prefix = {'w': True, 'b': False, 'c': True}
  for mask in (fn, prefix):
    ours, _ = run(gradtx.masked(gradtx.adam(lr_schedule), mask), p0)
    theirs, _ = run(optax.masked(optax.adam(lr_schedule), mask), p0)
    for a, e in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
      np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


def test_mask_mismatch_names_the_path_and_keys():
  tx = gradtx.masked(gradtx.adam(0.1), {'w': True, 'b': False, 'c': {'z': True}})
  with pytest.raises(ValueError, match="mask") as info:
    tx.init(params0())
  msg = str(info.value)
  assert "'c'" in msg and "'z'" in msg and "'s'" in msg
  assert isinstance(info.value, TypeError)


# ---------------------------------------------------------------------------
# partition
# ---------------------------------------------------------------------------
LABELS = {'w': 'adam', 'b': 'sgd', 'c': {'s': 'adam'}}


def sgd(lr):
  return gradtx.chain(gradtx.trace(0.9), gradtx.scale_by_learning_rate(lr))


def test_partition_equals_each_optimizer_on_its_own_leaves():
  p0 = params0()
  ours, state = run(gradtx.partition({'adam': gradtx.adam(lr_schedule), 'sgd': sgd(0.1)}, LABELS), p0)
  # Hand-written: adam on {w, s}, sgd on {b}, stepped side by side.
  a_opt, s_opt = gradtx.adam(lr_schedule), sgd(0.1)
  a_par, s_par = {'w': p0['w'], 's': p0['c']['s']}, {'b': p0['b']}
  a_st, s_st = a_opt.init(a_par), s_opt.init(s_par)
  for i in range(20):
    g = grads_at({'w': a_par['w'], 'b': s_par['b'], 'c': {'s': a_par['s']}}, i)
    ua, a_st = a_opt.update({'w': g['w'], 's': g['c']['s']}, a_st)
    us, s_st = s_opt.update({'b': g['b']}, s_st)
    a_par = gradtx.apply_updates(a_par, ua)
    s_par = gradtx.apply_updates(s_par, us)
  np.testing.assert_allclose(ours['w'], a_par['w'], rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(ours['c']['s'], a_par['s'], rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(ours['b'], s_par['b'], rtol=1e-5, atol=1e-7)
  assert set(state.inner_states) == {'adam', 'sgd'}


def test_partition_label_function_matches_optax_and_multi_transform_alias():
  p0 = params0()
  label_fn = lambda p: jax.tree.map(lambda x: 'adam' if x.ndim > 1 else 'sgd', p)
  ours, _ = run(gradtx.multi_transform({'adam': gradtx.adam(lr_schedule), 'sgd': sgd(0.1)}, label_fn), p0)
  theirs, _ = run(optax.partition({'adam': optax.adam(lr_schedule), 'sgd': optax.sgd(0.1, 0.9)}, label_fn), p0)
  for a, e in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
    np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)
  assert gradtx.multi_transform is gradtx.partition


def test_partition_label_without_transformation_names_path_and_label():
  tx = gradtx.partition({'adam': gradtx.adam(0.1), 'sgd': sgd(0.1)},
                        {'w': 'adam', 'b': 'sgd', 'c': {'s': 'lion'}})
  with pytest.raises(ValueError) as info:
    tx.init(params0())
  msg = str(info.value)
  assert "'lion'" in msg and 'c/s' in msg and "'adam'" in msg


def test_partition_transformation_without_params_names_label():
  tx = gradtx.partition({'adam': gradtx.adam(0.1), 'sgd': sgd(0.1), 'unused': sgd(1.0)}, LABELS)
  with pytest.raises(ValueError, match="'unused'") as info:
    tx.init(params0())
  assert "'adam'" in str(info.value)
  ok = gradtx.partition({'adam': gradtx.adam(0.1), 'sgd': sgd(0.1), 'unused': sgd(1.0)}, LABELS,
                        allow_unused_transforms=True)
  ok.init(params0())


def test_partition_label_tree_mismatch_names_the_path():
  tx = gradtx.partition({'adam': gradtx.adam(0.1)}, {'w': 'adam', 'bias': 'adam', 'c': 'adam'})
  with pytest.raises(ValueError, match='param_labels') as info:
    tx.init(params0())
  assert "'bias'" in str(info.value) and "'b'" in str(info.value)


def test_partition_inside_jit_scan_and_pmap():
  p0 = params0()
  tx = gradtx.partition({'adam': gradtx.adam(lr_schedule), 'sgd': sgd(0.1)}, LABELS)
  eager, _ = run(tx, p0, steps=10)

  def body(carry, i):
    p, s = carry
    u, s = tx.update(grads_at(p, i), s, p)
    return (gradtx.apply_updates(p, u), s), None

  (scanned, _), _ = jax.jit(lambda c: jax.lax.scan(body, c, jnp.arange(10)))((p0, tx.init(p0)))
  for a, e in zip(jax.tree.leaves(scanned), jax.tree.leaves(eager)):
    np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)

  n = jax.local_device_count()
  assert n == 8
  shift = jnp.arange(n, dtype=jnp.float32)
  rep = jax.tree.map(lambda x: x[None] + 0.1 * shift.reshape((n,) + (1,) * x.ndim), p0)

  def device_run(p):
    (p, _), _ = jax.lax.scan(body, (p, tx.init(p)), jnp.arange(10))
    return p

  pm = jax.pmap(device_run)(rep)
  for d in (0, 5):
    one = jax.tree.map(lambda x: x[d], rep)
    expect, _ = run(tx, one, steps=10)
    for a, e in zip(jax.tree.leaves(jax.tree.map(lambda x: x[d], pm)), jax.tree.leaves(expect)):
      np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# freeze and selective_transform
# ---------------------------------------------------------------------------
def test_freeze_and_selective_transform_match_optax():
  p0 = params0()
  mask = {'w': True, 'b': False, 'c': {'s': False}}
  ours, _ = run(gradtx.chain(gradtx.freeze(mask), gradtx.adam(lr_schedule)), p0)
  theirs, _ = run(optax.chain(optax.freeze(mask), optax.adam(lr_schedule)), p0)
  for a, e in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
    np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(ours['w'], p0['w'])
  ours, state = run(gradtx.selective_transform(gradtx.adam(lr_schedule), freeze_mask=mask), p0)
  theirs, _ = run(optax.selective_transform(optax.adam(lr_schedule), freeze_mask=mask), p0)
  for a, e in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
    np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(ours['w'], p0['w'])
  # The frozen leaf has no Adam buffer.
  assert isinstance(state.inner_states['train'].inner_state[0].mu['w'], gradtx.MaskedNode)


def test_freeze_everything_or_nothing():
  p0 = params0()
  frozen, _ = run(gradtx.selective_transform(gradtx.adam(0.1), freeze_mask=True), p0, 3)
  for a, e in zip(jax.tree.leaves(frozen), jax.tree.leaves(p0)):
    np.testing.assert_array_equal(a, e)
  free, _ = run(gradtx.selective_transform(gradtx.adam(0.1), freeze_mask=False), p0, 3)
  plain, _ = run(gradtx.adam(0.1), p0, 3)
  for a, e in zip(jax.tree.leaves(free), jax.tree.leaves(plain)):
    np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# conditionally_transform, conditionally_mask, apply_every
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('which', ['conditionally_transform', 'conditionally_mask'])
def test_conditional_wrappers_match_optax_and_do_not_touch_state(which):
  p0 = params0()
  cond = lambda step: step % 3 == 0
  ours = getattr(gradtx, which)(gradtx.adam(lr_schedule), cond)
  theirs = getattr(optax, which)(optax.adam(lr_schedule), cond)
  a, sa = run(ours, p0, 10)
  b, _ = run(theirs, p0, 10)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
  assert int(sa.inner_state[0].count) == 4  # steps 0, 3, 6, 9
  assert int(sa.step) == 10


def test_apply_every_by_hand():
  tx = gradtx.apply_every(3)
  s = tx.init(jnp.zeros(2))
  outs = []
  for i in range(7):
    u, s = tx.update(jnp.full(2, float(i + 1)), s)
    outs.append(float(u[0]))
  assert outs == [0.0, 0.0, 6.0, 0.0, 0.0, 15.0, 0.0]


def test_bad_hyperparameters_name_the_argument():
  with pytest.raises(ValueError, match='k'):
    gradtx.apply_every(0)
  with pytest.raises(ValueError, match='should_transform_fn'):
    gradtx.conditionally_mask(gradtx.adam(0.1), 3)
  with pytest.raises(ValueError, match='transforms'):
    gradtx.partition({}, {})
  with pytest.raises(ValueError, match="transforms\\['a'\\]"):
    gradtx.partition({'a': 3}, {'w': 'a'})
