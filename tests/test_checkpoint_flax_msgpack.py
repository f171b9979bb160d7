"""Every battery state round-trips through flax.serialization (msgpack) and pickle.

Without :func:`gradtx.checkpoint.register_flax_serialization`, msgpack fails
on the loss-scale dataclasses and on typed PRNG keys (checked below, so the
registration is known to be needed); with it, every state comes back with
its classes and bit-identical values.
"""

from __future__ import annotations

import pickle

import jax
import jax.numpy as jnp
import pytest

serialization = pytest.importorskip('flax.serialization')

import gradtx  # noqa: E402
from gradtx import checkpoint  # noqa: E402
from tests.test_checkpoint_orbax import _same, battery_states  # noqa: E402

STATES = battery_states()[1]


def _extra_states():
  """States outside the battery: lookahead, early stopping, stateful schedules."""
  params = {'w': jnp.arange(3.0)}
  look = gradtx.lookahead(gradtx.adam(1e-3), 2, 0.5)
  sched = gradtx.inject_stateful_hyperparams(gradtx.sgd)(
      learning_rate=gradtx.WrappedSchedule(gradtx.linear_schedule(1.0, 0.0, 4)))
  return {
      'lookahead': look.init(gradtx.LookaheadParams.init_synced(params)),
      'early_stopping': gradtx.early_stopping(patience=3).init(),
      'inject_stateful': sched.init(params),
      'static_loss_scale': gradtx.with_loss_scale(
          gradtx.sgd(0.1), gradtx.StaticLossScale(8.0)).init(params),
      'noop_loss_scale': gradtx.with_loss_scale(
          gradtx.sgd(0.1), gradtx.NoOpLossScale()).init(params),
  }


def test_msgpack_needs_the_registration_for_loss_scales_and_keys():
  # Run in a clean registry state: undo a registration made by another test.
  registry = serialization._STATE_DICT_REGISTRY  # pylint: disable=protected-access
  saved = dict(registry)
  for cls in (gradtx.DynamicLossScale, type(jax.random.key(0))):
    registry.pop(cls, None)
  try:
    for name in ('with_loss_scale', 'noisy_sgd'):
      with pytest.raises(TypeError):
        serialization.to_bytes(STATES[name][1])
  finally:
    registry.clear()
    registry.update(saved)


@pytest.mark.parametrize('how', ['msgpack', 'pickle'])
def test_every_state_round_trips(how):
  checkpoint.register_flax_serialization()
  checkpoint.register_flax_serialization()  # a second call does nothing
  states = {n: s for n, (_, s) in STATES.items()}
  states.update(_extra_states())
  differ = []
  for name, state in states.items():
    if how == 'msgpack':
      data = serialization.to_bytes(state)
      # The target is a state of another value: only its structure is used.
      target = jax.tree.map(lambda x: x, state)
      back = serialization.from_bytes(target, data)
    else:
      back = pickle.loads(pickle.dumps(state))
    back = jax.tree.map(jnp.asarray, back)
    if not _same(state, back):
      differ.append(name)
  assert differ == []
  # The classes come back, not dicts.
  back = serialization.from_bytes(states['with_loss_scale'],
                                  serialization.to_bytes(states['with_loss_scale']))
  assert type(back.loss_scale).__name__ == 'DynamicLossScale'
  assert back.loss_scale.growth_interval == 10**6  # configuration from the target


def test_msgpack_restore_checks_key_implementation():
  checkpoint.register_flax_serialization()
  opt = gradtx.noisy_sgd(0.1, key=jax.random.key(0, impl='rbg'))
  target = gradtx.noisy_sgd(0.1, seed=0).init(jnp.zeros(2))
  data = serialization.to_bytes(opt.init(jnp.zeros(2)))
  with pytest.raises(ValueError, match="implementation 'rbg'"):
    serialization.from_bytes(target, data)


def test_restored_state_continues_training():
  checkpoint.register_flax_serialization()
  opt = gradtx.with_loss_scale(gradtx.noisy_sgd(0.1, seed=3),
                               gradtx.DynamicLossScale(init_scale=4.0, growth_interval=2))
  params = jnp.array([1.0, -2.0])
  state = opt.init(params)
  for _ in range(3):
    _, state = opt.update(params, state, params)
  back = serialization.from_bytes(opt.init(params), serialization.to_bytes(state))
  u1, s1 = opt.update(params, state, params)
  u2, s2 = opt.update(params, back, params)
  assert _same((u1, s1), (u2, s2))
  assert float(back.loss_scale.loss_scale) == 8.0
  assert float(s2.loss_scale.loss_scale) == 16.0  # it grows after the restore
