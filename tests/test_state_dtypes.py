"""Moment dtypes: low-precision state stays low precision, bias correction is float32.

The reference is numpy in float64 with each moment rounded to its storage
dtype after every step, as the implementation stores it; each step is checked
from the previous stored state (rounding makes whole trajectories drift apart
by a few ulps, which would hide the point). As in Optax, a step's
update is computed from the new moments before they are rounded for storage:
``m_t = b1·m_{t-1} + (1-b1)·g`` (from the stored ``m_{t-1}``), the update uses
``m_t``, and ``round(m_t)`` is stored.
"""

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

import gradtx

NP = {jnp.bfloat16: ml_dtypes.bfloat16, jnp.float16: np.float16,
      jnp.float32: np.float32}
STEPS = 300


def lr_schedule(t):
  t = jnp.asarray(t, jnp.float32)
  return 1e-2 * (0.5 + 0.5 * jnp.cos(t / 50.0))


def lr_np(t):
  return 1e-2 * (0.5 + 0.5 * np.cos(np.float32(t) / np.float32(50.0)))


def _grads(seed=0, shape=(32,)):
  rng = np.random.default_rng(seed)
  scale = np.linspace(0.05, 3.0, shape[-1], dtype=np.float32)
  return (rng.normal(size=(STEPS,) + shape) * scale).astype(np.float32)


def _run(opt, grads):
  """Feeds a fixed gradient sequence; returns the stacked updates and states."""
  params = jnp.zeros(grads.shape[1:], jnp.float32)
  state = opt.init(params)

  def body(state, g):
    u, state = opt.update(g, state, params)
    return state, (u, state)

  _, (updates, states) = jax.jit(lambda s, g: jax.lax.scan(body, s, g))(
      state, jnp.asarray(grads))
  return np.asarray(updates, np.float64), states


def _ulp_close(actual, expected, np_dtype):
  """Stored in np_dtype, equal to the rounded reference up to double rounding.

  The implementation rounds float32 → storage dtype, the reference float64 →
  storage dtype; the two can differ by one storage ulp at near-ties only.
  """
  a = np.asarray(actual)
  assert np.array_equal(a.astype(np_dtype).astype(np.float64), a)  # representable
  e = np.asarray(expected, np.float64)
  if np_dtype is np.float32:  # float32 storage: a few roundings of float32 math
    np.testing.assert_allclose(a, e, rtol=4 * np.finfo(np.float32).eps, atol=1e-30)
    return
  ulp = np.abs(e) * float(ml_dtypes.finfo(np_dtype).eps)
  assert np.all(np.abs(a - e) <= ulp + float(ml_dtypes.finfo(np_dtype).smallest_subnormal))
  assert np.mean(a == e) >= 0.9




ADAM_DTYPES = [
    (jnp.bfloat16, jnp.float16),
    (jnp.bfloat16, jnp.bfloat16),
    (jnp.float16, jnp.float32),
]


def _eps(dtype):
  return float(ml_dtypes.finfo(NP[dtype]).eps)


def _check_adam(mu_dtype, nu_dtype, strict):
  b1, b2, eps = 0.9, 0.999, 1e-8
  grads = _grads()
  updates, states = _run(
      gradtx.adam(lr_schedule, b1, b2, eps, mu_dtype=mu_dtype, nu_dtype=nu_dtype), grads)
  adam_states = states[0]
  # The state stays in the requested dtypes over all the steps.
  assert adam_states.mu.dtype == mu_dtype and adam_states.nu.dtype == nu_dtype
  assert adam_states.count.dtype == jnp.int32
  # Rounding b2 = 0.999 to bfloat16 gives 1.0: a bias correction done in the
  # moment dtype would divide by zero. It must be done in float32.
  assert np.all(np.isfinite(updates))

  # Without strict: the rounding of the storage-dtype products b1·m and b2·v
  # (half an ulp of the moment dtype each) is tolerated, elementwise; the
  # errors of a bias correction in low precision are far larger.
  m_prev = v_prev = np.zeros(grads.shape[1:])
  for t in range(STEPS):
    g = grads[t].astype(np.float64)
    m_new = b1 * m_prev + (1 - b1) * g
    v_new = b2 * v_prev + (1 - b2) * g * g
    m_prev_used = m_prev
    m_got = np.asarray(adam_states.mu[t], np.float64)
    v_got = np.asarray(adam_states.nu[t], np.float64)
    if strict:  # stored = the new moment rounded once to the storage dtype
      _ulp_close(m_got, m_new.astype(NP[mu_dtype]), NP[mu_dtype])
      _ulp_close(v_got, v_new.astype(NP[nu_dtype]), NP[nu_dtype])
    m_prev, v_prev = m_got, v_got
    # The update: from the unrounded new moments, float64 bias corrections.
    c1 = 1 - b1 ** (t + 1)
    c2 = 1 - b2 ** (t + 1)
    denom = np.sqrt(v_new / c2) + eps
    expected = -lr_np(t) * (m_new / c1) / denom
    if strict:
      np.testing.assert_allclose(updates[t], expected, rtol=2e-5, atol=1e-9,
                                 err_msg=f'step {t}')
    else:
      m_err = _eps(mu_dtype) * np.abs(b1 * m_prev_used)
      tol = (lr_np(t) * (m_err / c1) / denom
             + np.abs(expected) * (_eps(nu_dtype) + 1e-5))
      assert np.all(np.abs(updates[t] - expected) <= 1.5 * tol + 1e-9), f'step {t}'


@pytest.mark.parametrize('mu_dtype,nu_dtype', ADAM_DTYPES)
def test_adam_moment_dtypes_kept_and_bias_correction_in_float32(mu_dtype, nu_dtype):
  _check_adam(mu_dtype, nu_dtype, strict=False)


@pytest.mark.parametrize('mu_dtype,nu_dtype', ADAM_DTYPES)
def test_adam_low_precision_moments_rounded_once_per_step(mu_dtype, nu_dtype):
  _check_adam(mu_dtype, nu_dtype, strict=True)


def test_adam_default_dtypes_follow_params_and_mu_alone():
  opt = gradtx.adam(1e-3, mu_dtype=jnp.bfloat16)
  s = opt.init(jnp.zeros(3, jnp.float32))
  assert s[0].mu.dtype == jnp.bfloat16 and s[0].nu.dtype == jnp.float32
  s = gradtx.adam(1e-3).init(jnp.zeros(3, jnp.float16))
  assert s[0].mu.dtype == jnp.float16 and s[0].nu.dtype == jnp.float16


def _check_trace(nesterov, strict):
  mu = 0.9
  grads = _grads(seed=1)
  opt = gradtx.chain(gradtx.trace(mu, nesterov=nesterov, accumulator_dtype=jnp.bfloat16),
                     gradtx.scale_by_learning_rate(lr_schedule))
  updates, states = _run(opt, grads)
  traces = states[0].trace
  assert traces.dtype == jnp.bfloat16
  prev = np.zeros(grads.shape[1:])
  for t in range(STEPS):
    g = grads[t].astype(np.float64)
    new = g + mu * prev  # the unrounded new trace
    got_prev = prev
    got = np.asarray(traces[t], np.float64)
    if strict:
      _ulp_close(got, new.astype(ml_dtypes.bfloat16), ml_dtypes.bfloat16)
    prev = got
    out = g + mu * new if nesterov else new
    if strict:
      # atol: float32 cancellation in g + mu·trace (relative to |g|·lr).
      np.testing.assert_allclose(updates[t], -lr_np(t) * out, rtol=2e-5,
                                 atol=1e-8, err_msg=f'step {t}')
    else:  # tolerate half an ulp on the bfloat16 product mu·trace
      tol = lr_np(t) * _eps(jnp.bfloat16) * mu * np.abs(got_prev) * (2 if nesterov else 1)
      assert np.all(np.abs(updates[t] + lr_np(t) * out) <= 1.5 * tol + 1e-5 * np.abs(
          lr_np(t) * out) + 1e-9), f'step {t}'


@pytest.mark.parametrize('nesterov', [False, True])
def test_trace_accumulator_dtype_bfloat16(nesterov):
  _check_trace(nesterov, strict=False)


@pytest.mark.parametrize('nesterov', [False, True])
def test_trace_bfloat16_rounded_once_per_step(nesterov):
  _check_trace(nesterov, strict=True)


def test_ema_accumulator_dtype_and_debias_in_float32():
  decay = 0.999  # 0.999 is 1.0 in bfloat16: the debias must be float32
  grads = _grads(seed=2, shape=(8,))
  opt = gradtx.chain(gradtx.ema(decay, accumulator_dtype=jnp.bfloat16),
                     gradtx.scale_by_learning_rate(1.0))
  updates, states = _run(opt, grads)
  ema = states[0].ema
  assert ema.dtype == jnp.bfloat16
  assert np.all(np.isfinite(updates))
  # At t = 0 the debiased average is the gradient itself (1 - d**1 = 1e-3
  # computed in float32; in bfloat16 it would be 0).
  np.testing.assert_allclose(updates[0], -grads[0], rtol=2 * _eps(jnp.bfloat16))
