"""check_state: one clear error naming the first differing path and both sides."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from gradtx.checkpoint import StateMismatchError, abstract_state, check_state
from tests import checkpoint_scenarios as scenarios
from tests.test_checkpoint_orbax import battery_states

PARAMS = scenarios.make_params()


def _message(opt, params, state) -> str:
  with pytest.raises(StateMismatchError) as e:
    check_state(opt, params, state)
  return str(e.value)


def test_adam_state_into_lion():
  msg = _message(gradtx.lion(1e-4), PARAMS, gradtx.adam(1e-3).init(PARAMS))
  assert msg == (
      'the state does not fit the optimizer and params: first difference at '
      'state[0]:\n'
      '  opt.init(params): a ScaleByLionState\n'
      '  state given:      a ScaleByAdamState\n'
      '(the state was made by another optimizer or transformation)')


def test_layer_added_to_the_model():
  bigger = dict(PARAMS, head={'w': jnp.zeros((5, 2))})
  state = gradtx.adamw(1e-3).init(PARAMS)
  msg = _message(gradtx.adamw(1e-3), bigger, state)
  assert "first difference at state[0].mu['head']['w']:" in msg
  assert 'opt.init(params): float32[5,2]' in msg
  assert 'state given:      nothing at this path' in msg
  # The other way round: a layer removed.
  msg = _message(gradtx.adamw(1e-3), PARAMS, gradtx.adamw(1e-3).init(bigger))
  assert "first difference at state[0].mu['head']['w']:" in msg
  assert 'opt.init(params): nothing at this path' in msg


def test_mu_dtype_changed():
  state = gradtx.adam(1e-3, mu_dtype=jnp.bfloat16).init(PARAMS)
  msg = _message(gradtx.adam(1e-3), PARAMS, state)
  assert "first difference at state[0].mu['b']:" in msg
  assert 'opt.init(params): float32[3]' in msg
  assert 'state given:      bfloat16[3]' in msg
  assert 'a dtype changed' in msg


def test_shape_changed():
  wider = dict(PARAMS, layer=dict(PARAMS['layer'], kernel=jnp.zeros((4, 6))))
  msg = _message(gradtx.sgd(0.1, momentum=0.9), wider,
                 gradtx.sgd(0.1, momentum=0.9).init(PARAMS))
  assert "first difference at state[0].trace['layer']['kernel']:" in msg
  assert 'float32[4,6]' in msg and 'float32[4,5]' in msg
  assert 'a shape changed' in msg


def test_empty_states_and_wrappers_are_compared_too():
  # Same leaves, other empty states: sign_sgd vs sgd without momentum.
  msg = _message(gradtx.sign_sgd(0.1), PARAMS, gradtx.sgd(0.1).init(PARAMS))
  assert 'first difference at state[0]' in msg
  assert 'ScaleBySignState' in msg and 'EmptyState' in msg
  # A state restored without a target (plain dicts) is not accepted.
  state = gradtx.adam(1e-3).init(PARAMS)
  as_lists = [state[0]._asdict(), ()]
  msg = _message(gradtx.adam(1e-3), PARAMS, as_lists)
  assert 'a tuple' in msg and 'a list' in msg


def test_changed_injected_hyperparameters_are_allowed():
  """Documented: values of inject_hyperparams may change; the state's win."""
  old = gradtx.inject_hyperparams(gradtx.adam)(learning_rate=1e-3, b1=0.9)
  new = gradtx.inject_hyperparams(gradtx.adam)(learning_rate=1e-2, b1=0.8)
  state = old.init(PARAMS)
  _, state = old.update(PARAMS, state, PARAMS)
  check_state(new, PARAMS, state)  # no error
  # The next update of `new` uses the restored constants ...
  u_new, _ = new.update(PARAMS, state, PARAMS)
  u_old, _ = old.update(PARAMS, state, PARAMS)
  np.testing.assert_array_equal(u_new['b'], u_old['b'])
  # ... until they are set from the new optimizer's init.
  fresh = new.init(PARAMS).hyperparams
  state = gradtx.set_hyperparams(state, **fresh)
  u_set, _ = new.update(PARAMS, state, PARAMS)
  assert not np.array_equal(u_set['b'], u_old['b'])
  # A schedule is recomputed from the count, whatever the state holds.
  sched = gradtx.inject_hyperparams(gradtx.adam)(learning_rate=lambda t: 0.5 / (t + 1))
  check_state(sched, PARAMS, state)


def _to_numpy(x):
  """A NumPy copy of an array leaf; typed PRNG keys have no NumPy form."""
  if jax.dtypes.issubdtype(jax.numpy.result_type(x), jax.dtypes.prng_key):
    return x
  return np.asarray(x)


def test_every_battery_state_fits_its_optimizer_and_not_its_neighbour():
  """Agrees with JAX's own structure comparison on every pair of neighbours."""
  params, states = battery_states()
  names = list(states)
  for name in names:
    opt, state = states[name]
    check_state(opt, params, state)
    check_state(opt, params, jax.tree.map(_to_numpy, state))  # NumPy leaves fit too
    check_state(opt, params, abstract_state(opt, params))
  rejected = 0
  for a, b in zip(names, names[1:] + names[:1]):
    opt, _ = states[a]
    other = states[b][1]
    expected = jax.eval_shape(opt.init, params)
    same = (jax.tree.structure(expected) == jax.tree.structure(other) and all(
        x.shape == y.shape and x.dtype == y.dtype
        for x, y in zip(jax.tree.leaves(expected), jax.tree.leaves(other))))
    if same:
      check_state(opt, params, other)
    else:
      rejected += 1
      with pytest.raises(StateMismatchError, match=re.escape('first difference at state')):
        check_state(opt, params, other)
  assert rejected > 60


def test_bfloat16_params():
  half = jax.tree.map(lambda x: x.astype(jnp.bfloat16), PARAMS)
  opt = gradtx.adam(1e-3, mu_dtype=jnp.float32)
  check_state(opt, half, opt.init(half))
  msg = _message(opt, half, opt.init(PARAMS))
  assert 'nu' in msg and 'bfloat16' in msg and 'float32' in msg
