"""``with_master_weights``: float32 master copies of low-precision parameters."""

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

import gradtx

NP_DTYPE = {jnp.bfloat16: ml_dtypes.bfloat16, jnp.float16: np.float16}


def lr_schedule(t):
  return 1e-3 * (1.0 + 0.5 * jnp.cos(0.3 * jnp.asarray(t, jnp.float32)))


@pytest.mark.parametrize('dtype', [jnp.bfloat16, jnp.float16])
def test_sgd_on_master_matches_float32_numpy_and_params_are_rounded_master(dtype):
  """Numpy float32 reference: m ← m − η_t·g(round(m)); params = round(m)."""
  rng = np.random.default_rng(0)
  target = rng.normal(size=(5,)).astype(np.float32)
  params = jnp.asarray(rng.normal(size=(5,)), dtype)
  initial = np.asarray(params, np.float32)
  opt = gradtx.with_master_weights(gradtx.chain(
      gradtx.identity(), gradtx.scale_by_learning_rate(lr_schedule)))
  state = opt.init(params)

  def grad_fn(p):
    return (p.astype(jnp.float32) - target).astype(p.dtype)

  @jax.jit
  def step(params, state):
    updates, state = opt.update(grad_fn(params), state, params)
    return gradtx.apply_updates(params, updates), state

  master = np.asarray(params.astype(jnp.float32))
  np_dtype = NP_DTYPE[dtype]
  for t in range(200):
    p_np = master.astype(np_dtype)
    g = (p_np.astype(np.float32) - target).astype(np_dtype).astype(np.float32)
    lr = np.float32(1e-3 * (1.0 + 0.5 * np.cos(np.float32(0.3) * np.float32(t))))
    master = (master + (-lr) * g).astype(np.float32)
    params, state = step(params, state)
    assert params.dtype == dtype
    np.testing.assert_allclose(np.asarray(state.master_params), master,
                               rtol=2e-6, atol=1e-7, err_msg=f'step {t}')
    # The params are exactly the master copy rounded to their dtype.
    np.testing.assert_array_equal(
        np.asarray(params), np.asarray(state.master_params.astype(dtype)))
  # 200 steps of about 1e-3·|g| each moved the parameters towards the target.
  moved = np.abs(np.asarray(params, np.float32) - initial)
  assert np.all(moved > 0.05 * np.abs(initial - target))


def test_plain_bfloat16_stalls_where_master_weights_progress():
  params = jnp.ones(4, jnp.bfloat16)
  grads = jnp.ones(4, jnp.bfloat16)
  plain = gradtx.scale(-1e-3)
  p_plain = params
  s_plain = plain.init(params)
  wrapped = gradtx.with_master_weights(gradtx.scale(-1e-3))
  p_master, s_master = params, wrapped.init(params)
  for _ in range(10):
    u, s_plain = plain.update(grads, s_plain, p_plain)
    p_plain = gradtx.apply_updates(p_plain, u)
    u, s_master = wrapped.update(grads, s_master, p_master)
    p_master = gradtx.apply_updates(p_master, u)
  assert bool(jnp.all(p_plain == 1.0))  # each step is below half an ulp
  np.testing.assert_allclose(np.asarray(s_master.master_params), 0.99, rtol=1e-6)
  assert float(p_master[0]) == float(jnp.bfloat16(0.99))


@pytest.mark.parametrize('dtype', [jnp.bfloat16, jnp.float16])
def test_updates_land_exactly_on_rounded_master_for_random_steps(dtype):
  """Random update sizes over 6 orders of magnitude, with sign changes."""
  rng = np.random.default_rng(1)
  params = jnp.asarray(rng.normal(size=(64,)), dtype)
  opt = gradtx.with_master_weights(gradtx.identity())
  state = opt.init(params)
  step = jax.jit(opt.update)
  for _ in range(100):
    mag = 10.0 ** rng.uniform(-6, 0, size=(64,))
    grads = jnp.asarray(rng.normal(size=(64,)) * mag, jnp.float32)
    updates, state = step(grads, state, params)
    assert updates.dtype == jnp.float32
    params = gradtx.apply_updates(params, updates)
    np.testing.assert_array_equal(
        np.asarray(params).view(np.uint16),
        np.asarray(state.master_params.astype(dtype)).view(np.uint16))


@pytest.mark.parametrize('dtype', [jnp.bfloat16, jnp.float16])
def test_updates_in_gradient_dtype_land_exactly_for_small_steps(dtype):
  """updates_in_master_dtype=False: exact within a factor of two (Sterbenz)."""
  rng = np.random.default_rng(2)
  params = jnp.asarray(rng.uniform(0.5, 2.0, size=(64,)), dtype)
  opt = gradtx.with_master_weights(gradtx.identity(), updates_in_master_dtype=False)
  state = opt.init(params)
  step = jax.jit(opt.update)
  for _ in range(50):
    grads = jnp.asarray(rng.normal(size=(64,)) * 10.0 ** rng.uniform(-5, -1, size=(64,)), dtype)
    updates, state = step(grads, state, params)
    assert updates.dtype == dtype
    params = gradtx.apply_updates(params, updates)
    np.testing.assert_array_equal(
        np.asarray(params).view(np.uint16),
        np.asarray(state.master_params.astype(dtype)).view(np.uint16))


def test_adam_inner_state_is_float32_and_drifted_params_are_pulled_back():
  params = {'w': jnp.full((3,), 0.5, jnp.bfloat16), 'step': jnp.array(2, jnp.int32)}
  opt = gradtx.with_master_weights(gradtx.adam(1e-2))
  state = opt.init(params)
  adam_state = state.inner_state[0]
  assert adam_state.mu['w'].dtype == jnp.float32
  assert state.master_params['w'].dtype == jnp.float32
  assert state.master_params['step'].dtype == jnp.int32
  grads = {'w': jnp.ones(3, jnp.bfloat16), 'step': jnp.array(0, jnp.int32)}
  updates, state = opt.update(grads, state, params)
  assert int(updates['step']) == 0
  drifted = {'w': jnp.full((3,), 7.0, jnp.bfloat16), 'step': params['step']}
  updates, state = opt.update(grads, state, drifted)
  new = gradtx.apply_updates(drifted, updates)
  np.testing.assert_array_equal(np.asarray(new['w']),
                                np.asarray(state.master_params['w'].astype(jnp.bfloat16)))


def test_skipped_loss_scale_step_leaves_master_copy_unchanged():
  params = jnp.array([1.0, -0.0, 3.0], jnp.bfloat16)
  opt = gradtx.with_loss_scale(gradtx.with_master_weights(gradtx.adam(1e-2)),
                               gradtx.DynamicLossScale(init_scale=4.0))
  state = opt.init(params)
  updates, state = opt.update(jnp.ones(3, jnp.bfloat16), state, params)
  params = gradtx.apply_updates(params, updates)
  before = (np.asarray(params).tobytes(),
            np.asarray(state.inner_state.master_params).tobytes())
  updates, state = opt.update(jnp.array([1.0, jnp.inf, 1.0], jnp.bfloat16), state, params)
  params = gradtx.apply_updates(params, updates)
  after = (np.asarray(params).tobytes(),
           np.asarray(state.inner_state.master_params).tobytes())
  assert before == after and int(state.skipped_steps) == 1


def test_bad_input():
  with pytest.raises(ValueError, match='master_dtype'):
    gradtx.with_master_weights(gradtx.adam(1e-3), master_dtype=jnp.int32)
  with pytest.raises(ValueError, match='master_dtype'):
    gradtx.with_master_weights(gradtx.adam(1e-3), master_dtype='floaty')
  opt = gradtx.with_master_weights(gradtx.adam(1e-3))
  state = opt.init(jnp.ones(2, jnp.bfloat16))
  with pytest.raises(ValueError, match='params'):
    opt.update(jnp.ones(2, jnp.bfloat16), state)
  with pytest.raises(TypeError):
    opt.update({'x': jnp.ones(2)}, state, {'x': jnp.ones(2)})
