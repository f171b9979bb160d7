"""The parametrised battery that every optimizer and transformation joins.

Checks, for each case in ``tests/cases``:
* parity with Optax over 100 steps with a changing learning rate;
* convergence on a quadratic and on Rosenbrock;
* jit equals eager;
* no recompilation on the second ``update``;
* state dtypes and shapes stable across steps, including under ``lax.cond``;
* bfloat16 params stay bfloat16 and finite;
* a clear error for a mismatched gradient tree and for another optimizer's
  state.
"""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from tests.cases import all_cases

CASES = all_cases()
IDS = [c.name for c in CASES]


def changing_lr(step):
  """Warmup for 10 steps, then a cosine: the learning rate changes each step."""
  step = jnp.asarray(step, jnp.float32)
  warm = (step + 1.0) / 10.0
  cos = 0.5 * (1.0 + jnp.cos(jnp.pi * jnp.minimum(step, 150.0) / 150.0))
  return 0.05 * jnp.minimum(warm, 1.0) * (0.1 + 0.9 * cos)


def make_params(dtype=jnp.float32):
  k = jax.random.split(jax.random.PRNGKey(0), 3)
  return {
      'b': jax.random.normal(k[0], (3,), jnp.float32).astype(dtype),
      'layer': {
          'kernel': jax.random.normal(k[1], (4, 5), jnp.float32).astype(dtype),
          'scale': (1.0 + 0.1 * jax.random.normal(k[2], (2, 3, 2))).astype(dtype),
      },
  }


def loss_fn(params):
  """A smooth loss with different curvature per coordinate."""
  def leaf(i, p):
    p = p.astype(jnp.float32)
    c = 1.0 + jnp.arange(p.size, dtype=jnp.float32).reshape(p.shape) / p.size
    return jnp.sum(0.5 * c * (p - 0.3 * i) ** 2 + 0.1 * jnp.sin(3.0 * p))
  return sum(leaf(i, p) for i, p in enumerate(jax.tree.leaves(params)))


def run(opt, params, steps, jit=True):
  grad_fn = jax.grad(loss_fn)

  def step(carry, _):
    params, state = carry
    grads = jax.tree.map(lambda g, p: g.astype(p.dtype), grad_fn(params), params)
    updates, state = opt.update(grads, state, params)
    return (gradtx.apply_updates(params, updates), state), None

  state = opt.init(params)
  if jit:
    (params, state), _ = jax.jit(
        lambda c: jax.lax.scan(step, c, None, length=steps))((params, state))
  else:
    carry = (params, state)
    for _ in range(steps):
      carry, _ = step(carry, None)
    params, state = carry
  return params, state


@pytest.mark.parametrize('case', [c for c in CASES if c.oracle], ids=[
    c.name for c in CASES if c.oracle])
def test_matches_optax_with_changing_learning_rate(case):
  params = make_params()
  ours, _ = run(case.make(changing_lr), params, 100)
  theirs, _ = run(case.oracle(changing_lr), params, 100)
  moved = jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b))), ours, params)
  assert max(jax.tree.leaves(moved)) > 1e-3, 'the test must move the params'
  for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
    np.testing.assert_allclose(a, b, rtol=case.rtol, atol=case.rtol * 0.1)


def _quadratic(p):
  target = jnp.array([1.0, -2.0, 3.0])
  return jnp.sum(jnp.array([1.0, 2.0, 0.5]) * (p['x'] - target) ** 2)


def _rosenbrock(p):
  x, y = p['x'][0], p['x'][1]
  return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _minimise(opt, fun, x0, steps):
  params = {'x': x0}
  state = opt.init(params)

  def step(carry, _):
    params, state = carry
    updates, state = opt.update(jax.grad(fun)(params), state, params)
    return (gradtx.apply_updates(params, updates), state), None

  (params, _), _ = jax.jit(
      lambda c: jax.lax.scan(step, c, None, length=steps))((params, state))
  return params


@pytest.mark.parametrize('case', [c for c in CASES if c.converges], ids=[
    c.name for c in CASES if c.converges])
def test_converges_on_quadratic(case):
  x0 = jnp.zeros(3)
  final = _minimise(case.make(case.lr), _quadratic, x0, case.steps)
  assert float(_quadratic(final)) < 1e-2 * float(_quadratic({'x': x0}))


@pytest.mark.parametrize('case', [c for c in CASES if c.converges and c.rosenbrock],
                         ids=[c.name for c in CASES if c.converges and c.rosenbrock])
def test_makes_progress_on_rosenbrock(case):
  x0 = jnp.array([-1.2, 1.0])
  final = _minimise(case.make(case.rosenbrock_lr), _rosenbrock, x0, 2000)
  assert bool(jnp.all(jnp.isfinite(final['x'])))
  assert float(_rosenbrock(final)) < 0.5 * float(_rosenbrock({'x': x0}))


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_jit_equals_eager(case):
  params = make_params()
  eager, _ = run(case.make(changing_lr), params, 5, jit=False)
  compiled, _ = run(case.make(changing_lr), params, 5, jit=True)
  for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(compiled)):
    np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_second_update_does_not_recompile(case):
  opt = case.make(changing_lr)
  params = make_params()
  state = opt.init(params)
  update = jax.jit(opt.update)
  grads = jax.grad(loss_fn)(params)
  _, state = update(grads, state, params)
  _, state = update(jax.tree.map(lambda g: 2 * g, grads), state, params)
  assert update._cache_size() == 1  # pylint: disable=protected-access


def _dtypes_shapes(tree):
  return jax.tree.map(lambda x: (jnp.result_type(x), jnp.shape(x)), tree)


@pytest.mark.parametrize('dtype', [jnp.float32, jnp.bfloat16], ids=['f32', 'bf16'])
@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_state_dtypes_stable_and_low_precision_params_kept(case, dtype):
  opt = case.make(1e-2)
  params = make_params(dtype)
  state0 = opt.init(params)
  grads = jax.tree.map(lambda g, p: g.astype(p.dtype), jax.grad(loss_fn)(params), params)

  @jax.jit
  def step(params, state, pred):
    updates, new_state = jax.lax.cond(
        pred,
        lambda: opt.update(grads, state, params),
        lambda: (jax.tree.map(jnp.zeros_like, grads), state),
    )
    return gradtx.apply_updates(params, updates), new_state

  state = state0
  for i in range(4):
    params, state = step(params, state, jnp.array(i % 3 != 2))
  assert _dtypes_shapes(state) == _dtypes_shapes(state0)
  for p in jax.tree.leaves(params):
    assert p.dtype == dtype
    assert bool(jnp.all(jnp.isfinite(p.astype(jnp.float32))))


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_mismatched_gradient_tree_is_a_clear_error(case):
  opt = case.make(1e-2)
  params = make_params()
  state = opt.init(params)
  bad = {'b': params['b'], 'other': params['layer']}
  with pytest.raises(TypeError, match='structure') as info:
    opt.update(bad, state, params)
  assert 'other' in str(info.value)


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_state_of_another_optimizer_is_a_clear_error(case):
  opt = case.make(1e-2)
  params = make_params()
  foreign = gradtx.chain(gradtx.identity(), gradtx.trace(0.5), gradtx.ema(0.3),
                         gradtx.identity()).init(params)
  with pytest.raises(TypeError) as info:
    opt.update(jax.grad(loss_fn)(params), foreign, params)
  assert 'state' in str(info.value)


@pytest.mark.parametrize('case', [c for c in CASES if c.complex_ok], ids=[
    c.name for c in CASES if c.complex_ok])
def test_complex_params(case):
  """Minimising |z - z*|² with complex params reaches z*."""
  target = jnp.array([1.0 + 2.0j, -0.5 - 1.0j])
  fun = lambda p: jnp.sum(jnp.abs(p['z'] - target) ** 2)
  opt = case.make(case.lr)
  params = {'z': jnp.zeros(2, jnp.complex64)}
  state = opt.init(params)

  @jax.jit
  def step(params, state):
    g = jax.tree.map(jnp.conj, jax.grad(fun)(params))
    u, state = opt.update(g, state, params)
    return gradtx.apply_updates(params, u), state

  for _ in range(case.steps):
    params, state = step(params, state)
  assert params['z'].dtype == jnp.complex64
  assert float(fun(params)) < 1e-2 * float(fun({'z': jnp.zeros(2)}))
