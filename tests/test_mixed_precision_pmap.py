"""``with_loss_scale`` under ``pmap`` on 8 simulated CPU devices.

Each replica computes gradients on its own shard of the batch. An overflow on
one replica must make every replica skip the step, so that the replicas never
diverge.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx

N = 8
STEPS = 12
BAD = {3: (5, np.inf), 7: (2, np.nan)}  # step -> (replica, bad multiplier)


def _needs_devices():
  if jax.local_device_count() < N:
    pytest.skip(f'needs {N} devices (tests/conftest.py simulates them)')


def _data():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(N, 4, 3)).astype(np.float32)
  y = rng.normal(size=(N, 4)).astype(np.float32)
  return x, y


def _multipliers():
  m = np.ones((STEPS, N), np.float32)
  for step, (replica, bad) in BAD.items():
    m[step, replica] = bad
  return m


def _loss(w, x, y, mult):
  return jnp.mean((x @ w - y) ** 2) * mult


def _allreduce():
  """Averages gradients across replicas inside the optimizer (as ZeRO does)."""
  return gradtx.stateless(lambda u, p: jax.lax.pmean(u, 'i'))


def _make_opt(axis_name):
  return gradtx.with_loss_scale(
      gradtx.chain(_allreduce(), gradtx.adam(0.05)),
      gradtx.DynamicLossScale(init_scale=2.0**10, growth_interval=3),
      axis_name=axis_name)


def _train(axis_name):
  x, y = _data()
  opt = _make_opt(axis_name)
  w = jnp.zeros((N, 3), jnp.float32)
  state = jax.pmap(opt.init)(w)

  @functools.partial(jax.pmap, axis_name='i')
  def step(w, state, x, y, mult):
    grads = jax.grad(lambda w: state.loss_scale.scale(_loss(w, x, y, mult)))(w)
    updates, state = opt.update(grads, state, w)
    return gradtx.apply_updates(w, updates), state

  history = []
  for mult in _multipliers():
    w, state = step(w, state, x, y, jnp.asarray(mult))
    history.append((np.asarray(w), np.asarray(state.skipped_steps),
                    np.asarray(state.loss_scale.loss_scale)))
  return history


def _single_device_reference():
  """The same training on one device, skipping exactly the scripted steps."""
  x, y = _data()
  opt = gradtx.adam(0.05)
  w = jnp.zeros(3, jnp.float32)
  state = opt.init(w)
  out = []
  for t in range(STEPS):
    if t not in BAD:
      grads = jnp.mean(jnp.stack([jax.grad(_loss)(w, x[r], y[r], 1.0)
                                  for r in range(N)]), axis=0)
      updates, state = opt.update(grads, state, w)
      w = gradtx.apply_updates(w, updates)
    out.append(np.asarray(w))
  return out


def test_overflow_on_one_replica_skips_the_step_on_all():
  _needs_devices()
  history = _train(axis_name='i')
  ref = _single_device_reference()
  skipped_so_far = 0
  for t, (w, skipped, scale) in enumerate(history):
    skipped_so_far += t in BAD
    # Replicas are identical, bit for bit.
    assert all(np.array_equal(w[0], w[r]) for r in range(N)), f'step {t}'
    assert np.all(skipped == skipped_so_far), f'step {t}: {skipped}'
    assert np.all(scale == scale[0])
    if t in BAD:
      np.testing.assert_array_equal(w, history[t - 1][0])  # nothing moved
    np.testing.assert_allclose(w[0], ref[t], rtol=1e-5, atol=1e-6,
                               err_msg=f'step {t}')
  assert np.all(np.isfinite(history[-1][0]))


def test_without_axis_name_replicas_diverge():
  """Shows what the axis_name prevents: only the bad replica skips."""
  _needs_devices()
  history = _train(axis_name=None)
  w, skipped, _ = history[-1]
  expected = np.zeros(N, np.int32)
  for replica, _ in BAD.values():
    expected[replica] += 1
  np.testing.assert_array_equal(skipped, expected)
  assert not np.array_equal(w[0], w[5])


def test_agreed_all_finite_under_pmap():
  _needs_devices()
  trees = {'a': jnp.ones((N, 2)).at[6, 1].set(jnp.nan), 'b': jnp.ones((N,))}
  agreed = jax.pmap(lambda t: gradtx.mixed_precision.agreed_all_finite(t, 'i'),
                    axis_name='i')(trees)
  local = jax.pmap(gradtx.mixed_precision.agreed_all_finite)(trees)
  assert not np.any(np.asarray(agreed))
  np.testing.assert_array_equal(np.asarray(local), np.arange(N) != 6)
