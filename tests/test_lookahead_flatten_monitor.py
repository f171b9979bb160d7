"""lookahead, flatten, snapshot and monitor."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx


def loss(p):
  return jnp.sum((p['a'] - 1.0) ** 2) + jnp.sum(jnp.sin(p['b']) * p['b'])


def params0():
  return {'a': jnp.array([0.5, -1.0, 2.0]), 'b': jnp.array([[0.1, 0.2], [0.3, -0.4]])}


@pytest.mark.parametrize('reset_state', [False, True])
def test_lookahead_by_hand_and_against_optax(reset_state):
  k, alpha, lr = 3, 0.4, 0.1
  ours = gradtx.lookahead(gradtx.chain(gradtx.trace(0.5), gradtx.scale(-lr)), k, alpha, reset_state)
  theirs = optax.lookahead(optax.sgd(lr, 0.5), k, alpha, reset_state)
  pa = pb = gradtx.LookaheadParams.init_synced(params0())
  pb = optax.LookaheadParams.init_synced(params0())
  sa, sb = ours.init(pa), theirs.init(pb)
  # Hand-written two-loop Lookahead.
  slow = params0()
  fast = params0()
  m = jax.tree.map(jnp.zeros_like, fast)
  for t in range(7):
    g = jax.grad(loss)(fast)
    m = jax.tree.map(lambda mi, gi: gi + 0.5 * mi, m, g)
    fast = jax.tree.map(lambda f, mi: f - lr * mi, fast, m)
    if (t + 1) % k == 0:
      slow = jax.tree.map(lambda s, f: s + alpha * (f - s), slow, fast)
      fast = slow
      if reset_state:
        m = jax.tree.map(jnp.zeros_like, m)
    ua, sa = jax.jit(ours.update)(jax.grad(loss)(pa.fast), sa, pa)
    ub, sb = theirs.update(jax.grad(loss)(pb.fast), sb, pb)
    pa, pb = gradtx.apply_updates(pa, ua), optax.apply_updates(pb, ub)
  for x, y, z in zip(jax.tree.leaves((pa.fast, pa.slow)), jax.tree.leaves((pb.fast, pb.slow)),
                     jax.tree.leaves((fast, slow))):
    np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x, z, rtol=1e-5, atol=1e-6)


def test_lookahead_bad_input():
  with pytest.raises(ValueError, match='sync_period'):
    gradtx.lookahead(gradtx.scale(-1.0), 0, 0.5)
  with pytest.raises(ValueError, match='slow_step_size'):
    gradtx.lookahead(gradtx.scale(-1.0), 2, 1.5)
  opt = gradtx.lookahead(gradtx.scale(-1.0), 2, 0.5)
  with pytest.raises(ValueError, match='LookaheadParams'):
    opt.update(jnp.ones(2), opt.init(jnp.ones(2)), jnp.ones(2))


def test_flatten_equals_unflattened_leafwise_optimizer_and_optax():
  p = params0()
  def run(opt, lib):
    s = opt.init(p)
    q = p
    for _ in range(5):
      u, s = opt.update(jax.grad(loss)(q), s, q)
      q = lib.apply_updates(q, u)
    return q, s
  a, s = run(gradtx.flatten(gradtx.adam(0.1)), gradtx)
  b, _ = run(gradtx.adam(0.1), gradtx)
  c, _ = run(optax.flatten(optax.adam(0.1)), optax)
  for x, y, z in zip(jax.tree.leaves(a), jax.tree.leaves(b), jax.tree.leaves(c)):
    np.testing.assert_allclose(x, y, rtol=1e-6)
    np.testing.assert_allclose(x, z, rtol=1e-6)
  assert s[0].mu.shape == (7,)
  # Mixed dtypes come back in their own dtypes.
  mixed = {'h': jnp.ones(2, jnp.bfloat16), 'f': jnp.ones(3)}
  tx = gradtx.flatten(gradtx.scale(0.5))
  u, _ = jax.jit(tx.update)(mixed, tx.init(mixed))
  assert u['h'].dtype == jnp.bfloat16 and u['f'].dtype == jnp.float32


def test_snapshot_records_the_norm_before_clipping():
  tx = gradtx.chain(gradtx.snapshot('raw_norm', gradtx.tree.norm), gradtx.scale(0.1),
                    gradtx.snapshot('update', lambda u: u))
  p = params0()
  s = tx.init(p)
  assert float(gradtx.tree.get(s, 'raw_norm')) == 0.0
  g = jax.grad(loss)(p)
  u, s = jax.jit(tx.update)(g, s)
  expect = np.sqrt(sum(np.sum(np.asarray(x, np.float64) ** 2) for x in jax.tree.leaves(g)))
  np.testing.assert_allclose(gradtx.tree.get(s, 'raw_norm'), expect, rtol=1e-6)
  np.testing.assert_allclose(gradtx.tree.get(s, 'update')['b'], 0.1 * g['b'], rtol=1e-6)


def test_monitor_with_ema_in_scan_matches_hand_computed():
  tx = gradtx.chain(gradtx.monitor({'norm': gradtx.tree.norm,
                                    'norm_ema': gradtx.measure_with_ema(gradtx.tree.norm, 0.5)}),
                    gradtx.scale(-0.1))
  gs = jnp.array([[3.0, 4.0], [0.0, 1.0], [6.0, 8.0]])
  def body(s, g):
    _, s = tx.update(g, s)
    return s, (gradtx.tree.get(s, 'norm'), gradtx.tree.get(s, 'norm_ema'))
  _, (norms, emas) = jax.jit(lambda s: jax.lax.scan(body, s, gs))(tx.init(jnp.zeros(2)))
  np.testing.assert_allclose(norms, [5.0, 1.0, 10.0], rtol=1e-6)
  m, out = 0.0, []
  for t, n in enumerate([5.0, 1.0, 10.0], start=1):
    m = 0.5 * m + 0.5 * n
    out.append(m / (1 - 0.5 ** t))
  np.testing.assert_allclose(emas, out, rtol=1e-6)


def test_monitor_bad_input():
  with pytest.raises(ValueError, match='measures'):
    gradtx.monitor({})
  with pytest.raises(ValueError, match="measures\\['x'\\]"):
    gradtx.monitor({'x': 3})
  with pytest.raises(ValueError, match='measure'):
    gradtx.snapshot('x', 3)


def test_lookahead_reset_state_keeps_python_bool_leaves():
  """A fast optimizer whose state holds a Python bool (Optax accepts it)."""
  from typing import NamedTuple  # pylint: disable=import-outside-toplevel

  class FlagState(NamedTuple):
    flag: bool
    n: jax.Array

  def flagged(lib):
    return lib.GradientTransformation(
        lambda p: FlagState(True, jnp.zeros([], jnp.int32)),
        lambda u, s, p=None: (u, FlagState(s.flag, s.n + 1)))

  finals = []
  for lib in (gradtx, optax):
    params = lib.LookaheadParams.init_synced({'w': jnp.array([1.0, -1.0])})
    tx = lib.lookahead(lib.chain(flagged(lib), lib.sgd(0.1)), 2, 0.5,
                       reset_state=True)
    state = tx.init(params)
    for _ in range(5):
      updates, state = tx.update({'w': params.fast['w'] * 2.0}, state, params)
      params = lib.apply_updates(params, updates)
    finals.append(params)
    if lib is gradtx:
      assert state.fast_state[0].flag is True  # still a Python bool
  np.testing.assert_allclose(finals[0].fast['w'], finals[1].fast['w'], rtol=1e-6)
  np.testing.assert_allclose(finals[0].slow['w'], finals[1].slow['w'], rtol=1e-6)
