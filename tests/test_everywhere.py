"""gradtx optimizers work everywhere JAX does.

``jit``, ``lax.scan`` over steps, ``vmap`` over a batch of optimizers (learning
rates as a traced argument, or injected into a stacked state) and over a batch
of models, ``pmap`` data parallelism over 8 simulated CPU devices, donated
state buffers, float32/bfloat16/float16 parameters and complex parameters.

Results are checked against independent values: Optax run on the same inputs
(the oracle), a single-device run on the full batch for ``pmap``, and a
float32 run for the low-precision dtypes.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

# name -> (gradtx factory, Optax factory); each takes the learning rate.
OPTIMIZERS = {
    'adam': (lambda lr: gradtx.adam(lr), lambda lr: optax.adam(lr)),
    'adamw': (lambda lr: gradtx.adamw(lr, weight_decay=1e-2),
              lambda lr: optax.adamw(lr, weight_decay=1e-2)),
    'sgd_nesterov': (lambda lr: gradtx.sgd(lr, momentum=0.9, nesterov=True),
                     lambda lr: optax.sgd(lr, momentum=0.9, nesterov=True)),
    'clip_adamw': (
        lambda lr: gradtx.chain(gradtx.clip_by_global_norm(0.5),
                                gradtx.adamw(lr, weight_decay=1e-2)),
        lambda lr: optax.chain(optax.clip_by_global_norm(0.5),
                               optax.adamw(lr, weight_decay=1e-2)),
    ),
}
NAMES = sorted(OPTIMIZERS)
LR = 0.03
STEPS = 20


def changing_lr(step):
  """A learning rate that changes every step."""
  step = jnp.asarray(step, jnp.float32)
  return LR * jnp.minimum((step + 1.0) / 5.0, 1.0) * (0.6 + 0.4 * jnp.cos(0.2 * step))


def make_problem(seed=0, n=64, dtype=jnp.float32):
  """A least-squares problem with a dict of params and a dataset."""
  k = jax.random.split(jax.random.PRNGKey(seed), 5)
  params = {
      'w': jax.random.normal(k[0], (4, 3)).astype(dtype),
      'b': (0.1 * jax.random.normal(k[1], (3,))).astype(dtype),
  }
  x = jax.random.normal(k[2], (n, 4))
  y = x @ jax.random.normal(k[3], (4, 3)) + 0.5 + 0.1 * jax.random.normal(k[4], (n, 3))
  return params, x, y


def loss_fn(params, x, y):
  pred = x @ params['w'].astype(jnp.float32) + params['b'].astype(jnp.float32)[None, :]
  return jnp.mean((pred - y) ** 2)


def make_step(opt):
  def step(params, state, x, y):
    grads = jax.grad(loss_fn)(params, x, y)
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state
  return step


def run_scan(opt, params, x, y, steps=STEPS):
  step = make_step(opt)

  def body(carry, _):
    return step(*carry, x, y), None

  (params, state), _ = jax.lax.scan(body, (params, opt.init(params)), None, length=steps)
  return params, state


def run_loop(opt, params, x, y, steps=STEPS, jit=True):
  step = make_step(opt)
  if jit:
    step = jax.jit(step)
  state = opt.init(params)
  for _ in range(steps):
    params, state = step(params, state, x, y)
  return params, state


def assert_close(a, b, rtol=1e-5, atol=1e-6):
  assert jax.tree.structure(a) == jax.tree.structure(b)
  for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(np.asarray(u, np.float64) if not jnp.iscomplexobj(u)
                               else np.asarray(u), np.asarray(v), rtol=rtol, atol=atol)


def assert_moved(before, after, min_change=1e-2):
  change = max(float(np.max(np.abs(np.asarray(u).astype(np.complex128)
                                   - np.asarray(v).astype(np.complex128))))
               for u, v in zip(jax.tree.leaves(before), jax.tree.leaves(after)))
  assert change > min_change, change


# ---------------------------------------------------------------------------
# jit and scan.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('name', NAMES)
def test_jit_eager_scan_agree_with_optax(name):
  make, oracle = OPTIMIZERS[name]
  params, x, y = make_problem()
  eager, _ = run_loop(make(changing_lr), params, x, y, steps=8, jit=False)
  jitted, _ = run_loop(make(changing_lr), params, x, y, steps=8)
  scanned, _ = jax.jit(lambda p: run_scan(make(changing_lr), p, x, y, steps=8))(params)
  expected, _ = run_loop(oracle(changing_lr), params, x, y, steps=8)
  assert_moved(params, jitted)
  assert_close(eager, jitted, rtol=1e-6, atol=1e-7)
  assert_close(scanned, jitted, rtol=1e-6, atol=1e-7)
  assert_close(jitted, expected)


# ---------------------------------------------------------------------------
# vmap over a batch of optimizers and over a batch of models.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('name', NAMES)
def test_vmap_over_learning_rates(name):
  """One optimizer per lane, the learning rate a traced (vmapped) argument."""
  make, oracle = OPTIMIZERS[name]
  params, x, y = make_problem()
  lrs = jnp.array([0.003, 0.01, 0.03, 0.1])
  batched, _ = jax.jit(jax.vmap(lambda lr: run_scan(make(lr), params, x, y)))(lrs)
  for i, lr in enumerate([0.003, 0.01, 0.03, 0.1]):
    expected, _ = run_loop(oracle(lr), params, x, y)
    assert_close(jax.tree.map(lambda p: p[i], batched), expected)
  # Different learning rates really gave different results.
  assert not np.allclose(batched['w'][0], batched['w'][-1], atol=1e-3)


def test_vmap_over_injected_learning_rates_in_a_stacked_state():
  """A batch of optimizers as one stacked state with injected hyperparameters."""
  opt = gradtx.inject_hyperparams(gradtx.adam)(learning_rate=0.01, b1=0.9)
  params, x, y = make_problem()
  lrs = jnp.array([0.01, 0.05, 0.2])
  b1s = jnp.array([0.5, 0.9, 0.95])
  state = opt.init(params)
  stacked = jax.tree.map(lambda a: jnp.broadcast_to(a, (3,) + a.shape), state)
  stacked = stacked._replace(
      hyperparams={**stacked.hyperparams, 'learning_rate': lrs, 'b1': b1s})
  stacked_params = jax.tree.map(lambda a: jnp.broadcast_to(a, (3,) + a.shape), params)
  step = jax.jit(jax.vmap(make_step(opt), in_axes=(0, 0, None, None)))
  for _ in range(STEPS):
    stacked_params, stacked = step(stacked_params, stacked, x, y)
  for i in range(3):
    # Optax's own injected Adam (array hyperparameters, as here) is the oracle;
    # plain Python-float hyperparameters round differently in float32.
    oracle = optax.inject_hyperparams(optax.adam)(learning_rate=lrs[i], b1=b1s[i])
    expected, _ = run_loop(oracle, params, x, y)
    assert_close(jax.tree.map(lambda p: p[i], stacked_params), expected)
  np.testing.assert_array_equal(stacked.hyperparams['learning_rate'], lrs)


@pytest.mark.parametrize('name', NAMES)
def test_vmap_over_a_batch_of_models(name):
  """An ensemble: each member has its own params, data and optimizer state."""
  make, oracle = OPTIMIZERS[name]
  problems = [make_problem(seed) for seed in range(4)]
  params, x, y = (jax.tree.map(lambda *a: jnp.stack(a), *parts) for parts in zip(*problems))
  opt = make(changing_lr)
  state = jax.vmap(opt.init)(params)
  step = jax.jit(jax.vmap(make_step(opt)))
  for _ in range(STEPS):
    params, state = step(params, state, x, y)
  for i, (p0, xi, yi) in enumerate(problems):
    expected, _ = run_loop(oracle(changing_lr), p0, xi, yi)
    assert_close(jax.tree.map(lambda p: p[i], params), expected)


# ---------------------------------------------------------------------------
# pmap: data parallelism over 8 simulated CPU devices.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('name', NAMES)
def test_pmap_data_parallel_matches_single_device(name):
  make, _ = OPTIMIZERS[name]
  n_dev = jax.local_device_count()
  assert n_dev == 8, 'tests/conftest.py simulates 8 CPU devices'
  params, x, y = make_problem(n=64)
  opt = make(changing_lr)

  def dp_step(params, state, x, y):
    grads = jax.grad(loss_fn)(params, x, y)
    grads = jax.lax.pmean(grads, axis_name='devices')
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state

  p_step = jax.pmap(dp_step, axis_name='devices')
  replicate = lambda t: jax.tree.map(lambda a: jnp.broadcast_to(a, (n_dev,) + a.shape), t)
  shard = lambda a: a.reshape((n_dev, -1) + a.shape[1:])
  p_params, p_state = replicate(params), replicate(opt.init(params))
  xs, ys = shard(x), shard(y)
  for _ in range(STEPS):
    p_params, p_state = p_step(p_params, p_state, xs, ys)

  # Replicas stay bitwise identical (params and every state leaf).
  for leaf in jax.tree.leaves((p_params, p_state)):
    leaf = np.asarray(leaf)
    for r in range(1, n_dev):
      np.testing.assert_array_equal(leaf[r], leaf[0])
  # And equal a single-device run on the full batch (the mean of the shard
  # means is the full-batch mean, up to the order of the float32 sums).
  single, _ = run_loop(make(changing_lr), params, x, y)
  assert_moved(params, single)
  assert_close(jax.tree.map(lambda a: a[0], p_params), single, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------
# Donated state buffers.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('name', NAMES)
def test_donated_state_buffers(name):
  make, _ = OPTIMIZERS[name]
  params, x, y = make_problem()
  opt = make(changing_lr)
  step = make_step(opt)
  donating = jax.jit(step, donate_argnums=(0, 1))
  plain = jax.jit(step)

  p_d, s_d = jax.tree.map(jnp.copy, (params, opt.init(params)))
  p_p, s_p = params, opt.init(params)
  with warnings.catch_warnings():
    # Backends that cannot reuse a buffer warn and copy instead.
    warnings.filterwarnings('ignore', message='Some donated buffers were not usable')
    for _ in range(STEPS):
      old_leaves = jax.tree.leaves((p_d, s_d))
      p_d, s_d = donating(p_d, s_d, x, y)
      p_p, s_p = plain(p_p, s_p, x, y)
  if jax.default_backend() == 'cpu' and jax.__version_info__ >= (0, 4, 30):
    # The last donated inputs were consumed: they can no longer be read.
    assert any(leaf.is_deleted() for leaf in old_leaves)
  assert_close(p_d, p_p, rtol=0, atol=0)
  assert_close(s_d, s_p, rtol=0, atol=0)


# ---------------------------------------------------------------------------
# Parameter dtypes.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('dtype,tol', [(jnp.float32, 1e-6), (jnp.bfloat16, 6e-2),
                                       (jnp.float16, 1e-2)],
                         ids=['float32', 'bfloat16', 'float16'])
@pytest.mark.parametrize('name', NAMES)
def test_param_dtypes(name, dtype, tol):
  make, _ = OPTIMIZERS[name]
  params32, x, y = make_problem()
  params = jax.tree.map(lambda a: a.astype(dtype), params32)
  opt = make(changing_lr)
  step = jax.jit(make_step(opt))
  state = opt.init(params)
  state_sig = jax.tree.map(lambda a: (a.shape, a.dtype), state)
  params, state = step(params, state, x, y)
  # One compiled step is reused: the shapes and dtypes never drift.
  assert jax.tree.map(lambda a: (a.shape, a.dtype), state) == state_sig
  for _ in range(STEPS - 1):
    params, state = step(params, state, x, y)
  assert jax.tree.map(lambda a: (a.shape, a.dtype), state) == state_sig
  assert all(p.dtype == dtype for p in jax.tree.leaves(params))
  assert all(bool(jnp.all(jnp.isfinite(p))) for p in jax.tree.leaves(params))
  assert float(loss_fn(params, x, y)) < float(loss_fn(params32, x, y))
  # Same trajectory as float32 up to the dtype's rounding.
  reference, _ = run_loop(make(changing_lr), params32, x, y)
  for p, r in zip(jax.tree.leaves(params), jax.tree.leaves(reference)):
    np.testing.assert_allclose(np.asarray(p, np.float32), np.asarray(r), rtol=tol, atol=tol)


# ---------------------------------------------------------------------------
# Complex parameters.
# ---------------------------------------------------------------------------
COMPLEX = {
    'adam': (lambda lr: gradtx.adam(lr), lambda lr: optax.adam(lr)),
    'sgd_momentum': (lambda lr: gradtx.sgd(lr, momentum=0.9),
                     lambda lr: optax.sgd(lr, momentum=0.9)),
}


def complex_problem():
  k1, k2 = jax.random.split(jax.random.PRNGKey(3))
  z0 = (jax.random.normal(k1, (5,)) + 1j * jax.random.normal(k2, (5,))).astype(jnp.complex64)
  target = jnp.array([1 + 2j, -1j, 0.5, -2 + 1j, 3 - 3j], jnp.complex64)
  weights = jnp.array([1.0, 2.0, 0.5, 1.5, 1.0], jnp.float32)

  def loss(z):
    return jnp.sum(weights * jnp.abs(z - target) ** 2)

  def grads(z):
    # jax.grad of a real loss of a complex z is the conjugate of the
    # steepest-ascent direction; conjugate it to get a descent direction.
    return jnp.conj(jax.grad(loss)(z))

  return z0, target, loss, grads


@pytest.mark.parametrize('name', sorted(COMPLEX))
def test_complex_params(name):
  make, oracle = COMPLEX[name]
  z0, target, loss, grads = complex_problem()

  def run(opt, steps):
    def step(carry, _):
      z, state = carry
      updates, state = opt.update(grads(z), state, z)
      return (gradtx.apply_updates(z, updates), state), None

    (z, _), _ = jax.lax.scan(step, (z0, opt.init(z0)), None, length=steps)
    return z

  ours = run(make(changing_lr), STEPS)
  expected = run(oracle(changing_lr), STEPS)
  assert ours.dtype == jnp.complex64
  assert_moved(z0, ours)
  np.testing.assert_allclose(np.asarray(ours), np.asarray(expected), rtol=1e-5, atol=1e-6)
  # Hand check of the first step: sgd moves by -lr*g, adam by -lr*g/|g|.
  g = np.asarray(grads(z0))
  lr0 = float(changing_lr(0))
  first = np.asarray(run(make(changing_lr), 1))
  step = -lr0 * (g / np.abs(g) if name == 'adam' else g)
  np.testing.assert_allclose(first, np.asarray(z0) + step, rtol=1e-5, atol=1e-6)
  # And it converges to the target.
  final = run(make(0.05), 400)
  assert float(loss(final)) < 1e-4 * float(loss(z0))
