"""MultiSteps: gradient accumulation."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx


def lr_schedule(step):
  return 0.1 / (1.0 + 0.5 * step.astype(jnp.float32))


def make_data(n=12):
  k1, k2 = jax.random.split(jax.random.PRNGKey(3))
  x = jax.random.normal(k1, (n, 3))
  y = x @ jnp.array([1.0, -2.0, 0.5]) + 0.1 * jax.random.normal(k2, (n,))
  return x, y


def loss(params, x, y):
  pred = jnp.tanh(x @ params['w'] + params['b'])
  return jnp.mean((pred - y) ** 2)


def init_params():
  return {'w': jnp.array([0.1, 0.2, -0.1]), 'b': jnp.array(0.05)}


def test_equals_one_step_on_the_concatenated_batch():
  x, y = make_data(12)
  k = 4
  acc = gradtx.MultiSteps(gradtx.adam(lr_schedule), every_k_schedule=k)
  big = gradtx.adam(lr_schedule)
  p_acc, s_acc = init_params(), acc.init(init_params())
  p_big, s_big = init_params(), big.init(init_params())
  acc_update, big_update = jax.jit(acc.update), jax.jit(big.update)
  for _ in range(5):
    for j in range(k):
      sl = slice(3 * j, 3 * (j + 1))
      g = jax.grad(loss)(p_acc, x[sl], y[sl])
      u, s_acc = acc_update(g, s_acc, p_acc)
      p_acc = gradtx.apply_updates(p_acc, u)
      if j < k - 1:
        assert not bool(acc.has_updated(s_acc))
    assert bool(acc.has_updated(s_acc))
    u, s_big = big_update(jax.grad(loss)(p_big, x, y), s_big, p_big)
    p_big = gradtx.apply_updates(p_big, u)
  for a, b in zip(jax.tree.leaves(p_acc), jax.tree.leaves(p_big)):
    np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-7)
  assert int(s_acc.gradient_step) == 5


def _counting(calls):
  """An identity transformation that counts (on the host) how often it runs."""
  def f(u, p):
    jax.debug.callback(lambda: calls.append(1))
    return u
  return gradtx.stateless(f)


def test_inner_optimizer_does_not_run_on_accumulate_only_steps():
  calls = []
  ms = gradtx.MultiSteps(gradtx.chain(_counting(calls), gradtx.adam(0.1)), every_k_schedule=3)
  step = jax.jit(ms.update)
  p = init_params()
  s = ms.init(p)
  for _ in range(6):
    _, s = step(jax.tree.map(jnp.ones_like, p), s, p)
  jax.effects_barrier()
  assert len(calls) == 2
  # Optax's MultiSteps runs the inner optimizer every time: the test can tell.
  calls.clear()
  oms = optax.MultiSteps(optax.chain(_counting(calls), optax.adam(0.1)), every_k_schedule=3)
  os_ = oms.init(p)
  for _ in range(6):
    _, os_ = jax.jit(oms.update)(jax.tree.map(jnp.ones_like, p), os_, p)
  jax.effects_barrier()
  assert len(calls) == 6


@pytest.mark.parametrize('use_grad_mean', [True, False])
def test_matches_optax_with_schedule_of_k_and_skipping(use_grad_mean):
  every_k = lambda step: jnp.where(step < 2, 2, 3)
  kw = dict(every_k_schedule=every_k, use_grad_mean=use_grad_mean,
            should_skip_update_fn=gradtx.skip_not_finite)
  ours = gradtx.MultiSteps(gradtx.adam(lr_schedule), **kw)
  theirs = optax.MultiSteps(optax.adam(lr_schedule),
                            **dict(kw, should_skip_update_fn=optax.skip_not_finite))
  x, y = make_data(24)
  pa = pb = init_params()
  sa, sb = ours.init(pa), theirs.init(pb)
  ours_update, theirs_update = jax.jit(ours.update), jax.jit(theirs.update)
  for i in range(12):
    sl = slice(2 * i, 2 * i + 2)
    g = jax.grad(loss)(pa, x[sl], y[sl])
    if i == 4:
      g = jax.tree.map(lambda v: v * jnp.nan, g)
    ua, sa = ours_update(g, sa, pa)
    ub, sb = theirs_update(jax.grad(loss)(pb, x[sl], y[sl]) if i != 4 else g, sb, pb)
    pa, pb = gradtx.apply_updates(pa, ua), optax.apply_updates(pb, ub)
    assert int(sa.mini_step) == int(sb.mini_step)
    assert int(sa.gradient_step) == int(sb.gradient_step)
  for a, b in zip(jax.tree.leaves(pa), jax.tree.leaves(pb)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
  assert int(sa.skip_state['num_not_finite']) == 0


def test_skipped_mini_step_is_as_if_it_never_happened():
  ms = gradtx.MultiSteps(gradtx.adam(0.1), 3, should_skip_update_fn=gradtx.skip_not_finite)
  p = init_params()
  s = ms.init(p)
  _, s = ms.update(jax.tree.map(jnp.ones_like, p), s, p)
  bad = {'w': jnp.array([1.0, jnp.inf, jnp.nan]), 'b': jnp.array(1.0)}
  u, s2 = ms.update(bad, s, p)
  assert int(s2.skip_state['num_not_finite']) == 2
  assert bool(s2.skip_state['should_skip'])
  for a, b in zip(jax.tree.leaves((s.mini_step, s.acc_grads, s.inner_opt_state)),
                  jax.tree.leaves((s2.mini_step, s2.acc_grads, s2.inner_opt_state))):
    np.testing.assert_array_equal(a, b)
  for leaf in jax.tree.leaves(u):
    assert not bool(jnp.any(leaf))


def test_skip_large_updates():
  skip = functools.partial(gradtx.skip_large_updates, max_squared_norm=4.0)
  ms = gradtx.MultiSteps(gradtx.scale(-1.0), 1, should_skip_update_fn=skip)
  s = ms.init(jnp.zeros(2))
  u, s = ms.update(jnp.array([1.0, 1.0]), s)
  np.testing.assert_array_equal(u, [-1.0, -1.0])
  u, s = ms.update(jnp.array([3.0, 0.0]), s)
  np.testing.assert_array_equal(u, [0.0, 0.0])
  assert float(s.skip_state['norm_squared']) == 9.0


@pytest.mark.parametrize('dtype', [jnp.bfloat16, jnp.float32, None])
def test_one_accumulator_in_the_chosen_dtype(dtype):
  p = {'w': jnp.ones(3, jnp.float16)}
  ms = gradtx.MultiSteps(gradtx.adam(1e-2), 2, accumulator_dtype=dtype)
  s = ms.init(p)
  assert s.acc_grads['w'].dtype == (dtype or jnp.float16)
  assert len(jax.tree.leaves(s.acc_grads)) == 1
  g = {'w': jnp.full(3, 0.5, jnp.float16)}
  u, s1 = jax.jit(ms.update)(g, s, p)
  assert s1.acc_grads['w'].dtype == s.acc_grads['w'].dtype
  assert u['w'].dtype == jnp.float16
  u, s2 = jax.jit(ms.update)(g, s1, p)
  assert float(jnp.abs(u['w'][0])) > 0


def test_accumulate_steps_leave_params_bit_for_bit():
  ms = gradtx.MultiSteps(gradtx.adam(1e-2), 3)
  p = {'w': jnp.array([-0.0, 0.0, jnp.nan, 1e-30])}
  u, _ = ms.update({'w': jnp.ones(4)}, ms.init(p), p)
  new = gradtx.apply_updates(p, u)
  assert np.asarray(new['w']).tobytes() == np.asarray(p['w']).tobytes()


def test_scan_and_pmap_match_eager():
  x, y = make_data(12)
  ms = gradtx.MultiSteps(gradtx.adam(lr_schedule), 3)
  def body(carry, batch):
    p, s = carry
    u, s = ms.update(jax.grad(loss)(p, *batch), s, p)
    return (gradtx.apply_updates(p, u), s), None
  batches = (x.reshape(6, 2, 3), y.reshape(6, 2))
  p = init_params()
  (scanned, _), _ = jax.jit(lambda c: jax.lax.scan(body, c, batches))((p, ms.init(p)))
  carry = (p, ms.init(p))
  for i in range(6):
    carry, _ = body(carry, (batches[0][i], batches[1][i]))
  for a, b in zip(jax.tree.leaves(scanned), jax.tree.leaves(carry[0])):
    np.testing.assert_allclose(a, b, rtol=1e-6)
  # pmap: each device accumulates its own shard; pmean inside the step.
  def dev(p, xb, yb):
    def b(carry, batch):
      p, s = carry
      g = jax.lax.pmean(jax.grad(loss)(p, *batch), 'd')
      u, s = ms.update(g, s, p)
      return (gradtx.apply_updates(p, u), s), None
    (p, _), _ = jax.lax.scan(b, (p, ms.init(p)), (xb, yb))
    return p
  n = 8
  xd = jnp.tile(x[None, :6].reshape(1, 3, 2, 3), (n, 1, 1, 1))
  yd = jnp.tile(y[None, :6].reshape(1, 3, 2), (n, 1, 1))
  pp = jax.tree.map(lambda v: jnp.broadcast_to(v, (n,) + v.shape), p)
  out = jax.pmap(dev, axis_name='d')(pp, xd, yd)
  (ref, _), _ = jax.lax.scan(body, (p, ms.init(p)), (x[:6].reshape(3, 2, 3), y[:6].reshape(3, 2)))
  for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(ref)):
    np.testing.assert_allclose(a[3], b, rtol=1e-6)


def test_bad_input_names_the_argument():
  with pytest.raises(ValueError, match='every_k_schedule'):
    gradtx.MultiSteps(gradtx.adam(0.1), 0)
  with pytest.raises(ValueError, match='accumulator_dtype'):
    gradtx.MultiSteps(gradtx.adam(0.1), 2, accumulator_dtype='float33')
  with pytest.raises(ValueError, match='should_skip_update_fn'):
    gradtx.MultiSteps(gradtx.adam(0.1), 2, should_skip_update_fn=3)
  bad = lambda u, step, p: (jnp.array(1), ())
  ms = gradtx.MultiSteps(gradtx.adam(0.1), 2, should_skip_update_fn=bad)
  with pytest.raises(ValueError, match='should_skip_update_fn'):
    ms.update(jnp.ones(2), ms.init(jnp.ones(2)))
