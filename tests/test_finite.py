"""apply_if_finite, and nested wrappers."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx


def _bits(tree):
  return [np.asarray(x).tobytes() for x in jax.tree.leaves(tree)]


def test_non_finite_step_leaves_params_and_inner_state_bit_for_bit():
  opt = gradtx.apply_if_finite(gradtx.adam(0.1), max_consecutive_errors=2)
  p = {'w': jnp.array([-0.0, 1.5, 3.0]), 'h': jnp.array([0.0, -2.0], jnp.bfloat16)}
  s = opt.init(p)
  u, s = opt.update(jax.tree.map(jnp.ones_like, p), s, p)
  p = gradtx.apply_updates(p, u)
  p = {'w': p['w'].at[0].set(-0.0), 'h': p['h']}
  bad = {'w': jnp.array([1.0, jnp.nan, 0.0]), 'h': jnp.array([jnp.inf, 0.0], jnp.bfloat16)}
  step = jax.jit(opt.update)
  u, s2 = step(bad, s, p)
  new = gradtx.apply_updates(p, u)
  assert _bits(new) == _bits(p)
  assert _bits(s2.inner_state) == _bits(s.inner_state)
  assert int(s2.notfinite_count) == 1 and int(s2.total_notfinite) == 1
  assert not bool(s2.last_finite)


def test_counters_and_giving_up_match_optax():
  ours = gradtx.apply_if_finite(gradtx.adam(0.1), 2)
  theirs = optax.apply_if_finite(optax.adam(0.1), 2)
  p = jnp.array([1.0, 2.0])
  pa = pb = p
  sa, sb = ours.init(p), theirs.init(p)
  pattern = [1, 0, 0, 0, 1, 0, 1, 1]  # 0: non-finite
  for i, ok in enumerate(pattern):
    g = jnp.array([0.5 + i, -1.0]) if ok else jnp.array([jnp.nan, 1.0])
    ua, sa = ours.update(g, sa, pa)
    ub, sb = theirs.update(g, sb, pb)
    pa, pb = gradtx.apply_updates(pa, ua), optax.apply_updates(pb, ub)
    assert int(sa.notfinite_count) == int(sb.notfinite_count)
    assert int(sa.total_notfinite) == int(sb.total_notfinite)
    assert bool(sa.last_finite) == bool(sb.last_finite)
  # The third consecutive NaN (> 2) was applied, so both are NaN now.
  assert bool(jnp.isnan(pa[0])) and bool(jnp.isnan(pb[0]))
  np.testing.assert_allclose(pa[1], pb[1], rtol=1e-6)
  assert int(sa.total_notfinite) == 4


def test_inner_does_not_run_on_bad_steps():
  calls = []
  def f(u, p):
    jax.debug.callback(lambda: calls.append(1))
    return u
  opt = gradtx.apply_if_finite(gradtx.stateless(f), 5)
  s = opt.init(jnp.ones(2))
  step = jax.jit(opt.update)
  for g in ([1.0, 1.0], [jnp.nan, 1.0], [1.0, 2.0]):
    _, s = step(jnp.array(g), s)
  jax.effects_barrier()
  assert len(calls) == 2


def test_nested_partition_in_multisteps_in_apply_if_finite():
  labels = {'w': 'adam', 'b': 'frozen'}
  def make():
    part = gradtx.partition({'adam': gradtx.adam(0.1), 'frozen': gradtx.set_to_zero()}, labels)
    return gradtx.apply_if_finite(gradtx.MultiSteps(part, 2).gradient_transformation(), 3)
  opt = make()
  p0 = {'w': jnp.array([1.0, -1.0]), 'b': jnp.array([0.5])}
  grads = [{'w': jnp.array([1.0, 2.0]), 'b': jnp.array([1.0])},
           {'w': jnp.array([jnp.nan, 2.0]), 'b': jnp.array([1.0])},
           {'w': jnp.array([3.0, -2.0]), 'b': jnp.array([1.0])}]

  def body(carry, g):
    p, s = carry
    u, s = opt.update(g, s, p)
    return (gradtx.apply_updates(p, u), s), None

  stacked = jax.tree.map(lambda *x: jnp.stack(x), *grads)
  (p, s), _ = jax.jit(lambda c: jax.lax.scan(body, c, stacked))((p0, opt.init(p0)))
  # Hand-written: the NaN step is dropped; Adam sees mean([1,2],[3,-2]) once.
  adam = gradtx.adam(0.1)
  u, _ = adam.update({'w': jnp.array([2.0, 0.0])}, adam.init({'w': p0['w']}))
  np.testing.assert_allclose(p['w'], p0['w'] + u['w'], rtol=1e-6)
  np.testing.assert_array_equal(p['b'], p0['b'])
  assert int(s.total_notfinite) == 1
  ms_state = s.inner_state
  assert int(ms_state.gradient_step) == 1
  # pmap: the same nested optimizer on 8 devices.
  n = 8
  pp = jax.tree.map(lambda v: jnp.broadcast_to(v, (n,) + v.shape), p0)
  gg = jax.tree.map(lambda v: jnp.broadcast_to(v, (n,) + v.shape), stacked)
  def dev(p, g):
    (p, _), _ = jax.lax.scan(body, (p, opt.init(p)), g)
    return p
  out = jax.pmap(dev)(pp, gg)
  np.testing.assert_allclose(out['w'][7], p['w'], rtol=1e-6)


def test_bad_input_names_the_argument():
  with pytest.raises(ValueError, match='max_consecutive_errors'):
    gradtx.apply_if_finite(gradtx.adam(0.1), -1)
  with pytest.raises(ValueError, match='max_consecutive_errors'):
    gradtx.apply_if_finite(gradtx.adam(0.1), 1.5)
