"""The protocol, chaining, the structure checks and applying updates."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from gradtx import base


def _params():
  return {'w': jnp.array([[1.0, -2.0], [0.5, 4.0]]), 'b': jnp.array([3.0, -1.0])}


class _CountState(NamedTuple):
  count: jax.Array  # int32 scalar


def _counting(name='counting'):
  """A test transformation: u = g * (count + 1); counts its calls."""

  def init_fn(params):
    del params
    return _CountState(jnp.zeros([], jnp.int32))

  def update_fn(updates, state, params=None):
    del params
    f = (state.count + 1).astype(jnp.float32)
    return jax.tree.map(lambda g: g * f, updates), _CountState(state.count + 1)

  return base.transformation(name, init_fn, update_fn)


# ---------------------------------------------------------------------------
# Elementary transformations.
# ---------------------------------------------------------------------------
def test_identity_and_set_to_zero():
  p = _params()
  for tx, expected in ((gradtx.identity(), p),
                       (gradtx.set_to_zero(), jax.tree.map(jnp.zeros_like, p))):
    out, state = tx.update(p, tx.init(p))
    assert state == gradtx.EmptyState()
    for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(expected)):
      np.testing.assert_array_equal(a, b)
  z = gradtx.set_to_zero().update(jnp.ones(2, jnp.bfloat16), gradtx.EmptyState())[0]
  assert z.dtype == jnp.bfloat16


def test_stateless_receives_params():
  seen = {}

  def f(updates, params):
    seen['params'] = params
    return jax.tree.map(lambda g, p: g - p, updates, params)

  tx = gradtx.stateless(f)
  p = _params()
  g = jax.tree.map(lambda x: 2 * x, p)
  out, _ = tx.update(g, tx.init(p), p)
  assert seen['params'] is p
  np.testing.assert_array_equal(out['w'], p['w'])
  out, _ = gradtx.stateless(lambda u, params: (u, params)[0]).update(g, gradtx.EmptyState())
  np.testing.assert_array_equal(out['b'], g['b'])


def test_stateless_with_tree_map_with_and_without_params():
  tx = gradtx.stateless_with_tree_map(
      lambda g, p: 3 * g if p is None else g * p)
  p = _params()
  g = jax.tree.map(jnp.ones_like, p)
  with_p, _ = tx.update(g, tx.init(p), p)
  np.testing.assert_array_equal(with_p['w'], p['w'])
  without, _ = tx.update(g, tx.init(p))
  np.testing.assert_array_equal(without['b'], [3.0, 3.0])


# ---------------------------------------------------------------------------
# Chaining.
# ---------------------------------------------------------------------------
def test_chain_applies_left_to_right_and_keeps_each_state():
  g = jnp.array([4.0, -0.2])
  clip_then_scale = gradtx.chain(gradtx.clip(1.0), gradtx.scale(-0.5))
  scale_then_clip = gradtx.chain(gradtx.scale(-0.5), gradtx.clip(1.0))
  np.testing.assert_allclose(clip_then_scale.update(g, clip_then_scale.init(g))[0],
                             [-0.5, 0.1])
  np.testing.assert_allclose(scale_then_clip.update(g, scale_then_clip.init(g))[0],
                             [-1.0, 0.1])

  tx = gradtx.chain(_counting(), gradtx.identity(), _counting())
  state = tx.init(g)
  assert isinstance(state, tuple) and len(state) == 3
  for step in range(1, 4):
    out, state = tx.update(jnp.ones(1), state)
    assert float(out[0]) == step * step  # both counters multiply
  assert int(state[0].count) == 3 and int(state[2].count) == 3
  assert gradtx.chain().update(g, gradtx.chain().init(g))[0] is g


def test_chain_rejects_non_transformations_and_wrong_states():
  with pytest.raises(TypeError, match='argument 1'):
    gradtx.chain(gradtx.identity(), 0.1)
  tx = gradtx.chain(gradtx.identity(), gradtx.scale(2.0))
  with pytest.raises(TypeError, match='2 transformations received a state with 3'):
    tx.update(jnp.ones(1), (gradtx.EmptyState(),) * 3)


def test_named_chain():
  tx = gradtx.named_chain(('count', _counting()), ('lr', gradtx.scale(-0.1)))
  state = tx.init(jnp.zeros(2))
  assert set(state) == {'count', 'lr'}
  out, state = tx.update(jnp.ones(2), state)
  out, state = tx.update(jnp.ones(2), state)
  np.testing.assert_allclose(out, [-0.2, -0.2])
  assert int(state['count'].count) == 2
  with pytest.raises(ValueError, match='unique') as info:
    gradtx.named_chain(('a', gradtx.identity()), ('a', gradtx.scale(1.0)))
  assert "'a'" in str(info.value)
  with pytest.raises(TypeError, match='keys'):
    tx.update(jnp.ones(2), {'count': state['count']})
  with pytest.raises(TypeError, match='tuple'):
    tx.update(jnp.ones(2), (state['count'], state['lr']))


def test_extra_args_pass_through_chain():
  seen = []

  def update_fn(updates, state, params=None, *, loss=None, **extra):
    seen.append((loss, extra))
    return jax.tree.map(lambda g: g * loss, updates), state

  needs_loss = base.transformation_with_extra_args(
      'needs_loss', lambda p: gradtx.EmptyState(), update_fn)
  assert isinstance(needs_loss, gradtx.GradientTransformationExtraArgs)
  tx = gradtx.chain(gradtx.scale(2.0), needs_loss, _counting())
  out, _ = tx.update(jnp.ones(1), tx.init(jnp.ones(1)), loss=3.0, tag='x')
  assert float(out[0]) == 6.0
  assert seen == [(3.0, {'tag': 'x'})]
  nested = gradtx.chain(gradtx.named_chain(('inner', needs_loss)), gradtx.identity())
  out, _ = nested.update(jnp.ones(1), nested.init(jnp.ones(1)), loss=0.5)
  assert float(out[0]) == 0.5
  # The plain transformation ignores the extras; wrapping is idempotent.
  plain = gradtx.with_extra_args_support(gradtx.scale(2.0))
  assert gradtx.with_extra_args_support(plain) is plain
  assert float(plain.update(jnp.ones(1), plain.init(jnp.ones(1)), loss=1.0)[0][0]) == 2.0


# ---------------------------------------------------------------------------
# Structure checks.
# ---------------------------------------------------------------------------
def test_mismatched_updates_and_state_show_both_structures():
  tx = gradtx.trace(0.9)
  state = tx.init({'w': jnp.zeros(2)})
  with pytest.raises(TypeError) as info:
    tx.update({'w': jnp.zeros(2), 'extra': jnp.zeros(1)}, state)
  msg = str(info.value)
  assert 'trace.update' in msg and 'do not belong together' in msg
  assert 'state expected' in msg and 'state received' in msg
  assert "'extra'" in msg  # the expected structure (built from the updates)
  assert msg.count("'w'") >= 2  # and the received state's


def test_updates_and_params_mismatch_shows_both():
  tx = gradtx.identity()
  with pytest.raises(TypeError) as info:
    tx.update({'a': jnp.ones(1)}, gradtx.EmptyState(), {'b': jnp.ones(1)})
  msg = str(info.value)
  assert 'differs from the params' in msg and "'a'" in msg and "'b'" in msg


def test_state_of_another_transformation_is_rejected():
  p = {'w': jnp.zeros(2)}
  with pytest.raises(TypeError, match='different optimizer'):
    gradtx.scale_by_adam().update(p, gradtx.trace(0.9).init(p))


def test_structure_check_is_skipped_when_init_cannot_be_traced():
  def init_fn(params):
    return {'n': float(jnp.sum(params))}  # needs a concrete value

  tx = base.transformation('concrete', init_fn, lambda u, s, p=None: (u, s))
  out, state = tx.update(jnp.ones(2), tx.init(jnp.ones(2)))
  assert state == {'n': 2.0}


def test_structure_check_does_not_break_jit_vmap_or_grad():
  tx = gradtx.chain(gradtx.trace(0.5), gradtx.scale(-1.0))
  p = _params()
  state = tx.init(p)
  eager = tx.update(p, state)[0]
  compiled = jax.jit(tx.update)(p, state)[0]
  for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(compiled)):
    np.testing.assert_array_equal(a, b)
  # vmap over a batch of independent optimizers.
  batch = jax.tree.map(lambda x: jnp.stack([x, 2 * x, 3 * x]), p)
  states = jax.vmap(tx.init)(batch)
  out, _ = jax.vmap(tx.update)(batch, states)
  np.testing.assert_allclose(out['w'][2], -3 * p['w'])
  # Differentiating through update.
  g = jax.grad(lambda x: jnp.sum(tx.update(x, tx.init(x))[0]['b']))(p)
  np.testing.assert_array_equal(g['b'], [-1.0, -1.0])
  # Errors still fire under jit (the check runs at trace time).
  with pytest.raises(TypeError, match='structure'):
    jax.jit(tx.update)({'w': p['w']}, state)


# ---------------------------------------------------------------------------
# Applying updates.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('dtype', [jnp.bfloat16, jnp.float16])
def test_apply_updates_rounds_once_to_the_param_dtype(dtype):
  p = {'a': jnp.array([1.0, 256.0], dtype), 'n': None}
  u = {'a': jnp.array([2 ** -9 + 2 ** -10, 1.5]), 'n': None}
  out = gradtx.apply_updates(p, u)
  assert out['a'].dtype == dtype and out['n'] is None
  # The sum is rounded once (float32 sum, then cast), as numpy would.
  expected = (np.asarray(p['a'], np.float32) + np.asarray(u['a'], np.float32))
  np.testing.assert_array_equal(np.asarray(out['a'], np.float32),
                                np.asarray(jnp.asarray(expected).astype(dtype), np.float32))


def test_apply_updates_float32_values_and_structure_error():
  p = _params()
  u = jax.tree.map(lambda x: 0.5 * jnp.ones_like(x), p)
  out = gradtx.apply_updates(p, u)
  np.testing.assert_array_equal(out['w'], np.asarray(p['w']) + 0.5)
  assert out['b'].dtype == jnp.float32
  with pytest.raises(TypeError) as info:
    gradtx.apply_updates(p, {'w': u['w']})
  msg = str(info.value)
  assert 'params' in msg and 'updates' in msg and "'b'" in msg


def test_incremental_update():
  new = {'a': jnp.array([1.0, 2.0]), 'h': jnp.array([4.0], jnp.bfloat16)}
  old = {'a': jnp.array([3.0, -2.0]), 'h': jnp.array([0.0], jnp.bfloat16)}
  out = gradtx.incremental_update(new, old, 0.25)
  np.testing.assert_allclose(out['a'], [0.25 * 1 + 0.75 * 3, 0.25 * 2 - 0.75 * 2])
  assert out['h'].dtype == jnp.bfloat16 and float(out['h'][0]) == 1.0
  # Many steps of Polyak averaging towards a fixed target.
  target, ema = jnp.array([2.0]), jnp.array([0.0])
  for _ in range(20):
    ema = gradtx.incremental_update(target, ema, 0.1)
  np.testing.assert_allclose(ema, [2.0 * (1 - 0.9 ** 20)], rtol=1e-6)
  for bad in (-0.1, 1.5):
    with pytest.raises(ValueError, match='step_size'):
      gradtx.incremental_update(new, old, bad)


def test_periodic_update_under_jit_with_traced_steps():
  f = jax.jit(lambda new, old, s: gradtx.periodic_update(new, old, s, 3))
  new, old = {'a': jnp.ones(2)}, {'a': jnp.zeros(2)}
  taken = [float(f(new, old, jnp.array(s))['a'][0]) for s in range(7)]
  assert taken == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
  assert f._cache_size() == 1  # pylint: disable=protected-access
  for bad in (0, -1, 1.5):
    with pytest.raises(ValueError, match='update_period'):
      gradtx.periodic_update(new, old, jnp.array(0), bad)


# ---------------------------------------------------------------------------
# Inputs Optax code passes (issue 8): empty states, Python scalars, None.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('empty', [None, (), {}, gradtx.EmptyState()],
                         ids=['None', 'tuple', 'dict', 'EmptyState'])
@pytest.mark.parametrize('make', [
    lambda: gradtx.scale(2.0),
    lambda: gradtx.clip_by_global_norm(1.0),
    lambda: gradtx.identity(),
    lambda: gradtx.add_decayed_weights(0.5),
], ids=['scale', 'clip_by_global_norm', 'identity', 'add_decayed_weights'])
def test_stateless_transformations_accept_an_empty_state(make, empty):
  tx = make()
  g = {'a': jnp.array([3.0, 4.0])}
  expected, _ = tx.update(g, tx.init(g), g)
  out, state = tx.update(g, empty, g)
  np.testing.assert_array_equal(out['a'], expected['a'])
  assert state is empty  # handed back unchanged, as Optax does
  out, _ = jax.jit(lambda g: tx.update(g, empty, g))(g)
  np.testing.assert_array_equal(out['a'], expected['a'])


def test_an_empty_state_is_still_rejected_by_a_stateful_transformation():
  with pytest.raises(TypeError, match='do not belong together'):
    gradtx.scale_by_adam().update({'a': jnp.ones(2)}, None)


@pytest.mark.parametrize('leaf', [1, 1.0, 2.5], ids=['int', 'float', 'float2'])
def test_python_scalars_as_update_leaves(leaf):
  """``{'w': 1}`` as updates runs, as in Optax, with the numbers of an array."""
  for make in (lambda: gradtx.sgd(0.1), lambda: gradtx.adam(0.1),
               lambda: gradtx.chain(gradtx.clip(0.5), gradtx.sgd(0.1, 0.9))):
    tx = make()
    params = {'w': 0.0}
    out, _ = tx.update({'w': leaf}, tx.init(params), params)
    ref, _ = tx.update({'w': jnp.float32(leaf)}, tx.init({'w': jnp.float32(0)}),
                       {'w': jnp.float32(0)})
    np.testing.assert_allclose(out['w'], ref['w'], rtol=1e-6)
    assert jnp.issubdtype(jnp.result_type(out['w']), jnp.floating)


def test_python_scalar_updates_match_optax():
  optax = pytest.importorskip('optax')
  out, _ = gradtx.adam(0.1).update({'w': 1.0}, gradtx.adam(0.1).init({'w': 1.0}))
  ref, _ = optax.adam(0.1).update({'w': 1.0}, optax.adam(0.1).init({'w': 1.0}))
  np.testing.assert_allclose(out['w'], ref['w'], rtol=1e-6)


def test_none_leaves_in_updates_of_add_decayed_weights_and_incremental_update():
  params = {'a': None, 'b': jnp.array([1.0, -2.0])}
  tx = gradtx.add_decayed_weights(0.1)
  out, _ = tx.update({'a': None, 'b': jnp.array([0.5, 0.5])}, tx.init(params),
                     params)
  assert out['a'] is None
  np.testing.assert_allclose(out['b'], [0.6, 0.3], rtol=1e-6)
  new = gradtx.incremental_update({'a': None, 'b': jnp.ones(2)},
                                  {'a': None, 'b': jnp.zeros(2)}, 0.25)
  assert new['a'] is None
  np.testing.assert_allclose(new['b'], [0.25, 0.25])


def test_periodic_update_with_a_traced_update_period():
  f = jax.jit(lambda step, period: gradtx.periodic_update(
      jnp.ones(2), jnp.zeros(2), step, period))
  for step, period, want in [(6, 3, 1.0), (7, 3, 0.0), (8, 4, 1.0), (9, 4, 0.0)]:
    np.testing.assert_array_equal(f(step, period), want)
  # A concrete array counts as an integer; a wrong value is still refused.
  np.testing.assert_array_equal(
      gradtx.periodic_update(jnp.ones(1), jnp.zeros(1), 4, jnp.array(2)), 1.0)
  with pytest.raises(ValueError, match='update_period'):
    gradtx.periodic_update(jnp.ones(1), jnp.zeros(1), 4, jnp.array(0))
  with pytest.raises(ValueError, match='update_period'):
    gradtx.periodic_update(jnp.ones(1), jnp.zeros(1), 4, 2.5)
