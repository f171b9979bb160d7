"""Injected hyperparameters: values, no recompilation, schedules, Optax parity."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx


def make_params(dtype=jnp.float32):
  k1, k2 = jax.random.split(jax.random.PRNGKey(0))
  return {'w': jax.random.normal(k1, (3, 2)).astype(dtype),
          'b': jax.random.normal(k2, (2,)).astype(dtype)}


def loss(params):
  return sum(jnp.sum(jnp.sin(p.astype(jnp.float32)) + 0.5 * p.astype(jnp.float32) ** 2)
             for p in jax.tree.leaves(params))


def trajectory(opt, steps=25, params=None, jit=True, extra=None):
  """Params after each step of ``opt`` on ``loss``, and the final state."""
  params = make_params() if params is None else params
  state = opt.init(params)
  update = jax.jit(opt.update) if jit else opt.update
  out = []
  for _ in range(steps):
    grads = jax.grad(loss)(params)
    updates, state = update(grads, state, params, **(extra or {}))
    params = gradtx.apply_updates(params, updates)
    out.append(params)
  return out, state


def F(x):
  """A float32 hyperparameter, as injection stores it.

  Comparisons with the non-injected optimizer give it float32 arrays too:
  with a Python float ``b2``, ``1 − b2`` is 0.001 (computed in double), but
  0.00099998713 with a float32 ``b2``, and Adam's steps differ by ~1e-5
  relative, which Adam amplifies near a stationary point.
  """
  return jnp.asarray(x, jnp.float32)


ADAM_DEFAULTS = dict(b1=F(0.9), b2=F(0.999), eps=F(1e-8), eps_root=F(0.0))


def assert_trajectories_close(a, b, rtol=1e-6, atol=1e-7):
  assert len(a) == len(b)
  for pa, pb in zip(a, b):
    for x, y in zip(jax.tree.leaves(pa), jax.tree.leaves(pb)):
      np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------
# Same values as the optimizer without injection.
# ---------------------------------------------------------------------------
def test_injected_adam_equals_adam():
  kwargs = dict(b1=0.8, b2=0.99, eps=1e-6)
  ours, state = trajectory(gradtx.inject_hyperparams(gradtx.adam)(0.05, **kwargs))
  plain, _ = trajectory(gradtx.adam(
      F(0.05), **{k: F(v) for k, v in kwargs.items()}, eps_root=F(0.0)))
  assert_trajectories_close(ours, plain)
  np.testing.assert_allclose(state.hyperparams['b1'], 0.8)
  assert int(state.count) == 25


def test_injected_sgd_equals_sgd():
  sgd = getattr(gradtx, 'sgd', None)
  if sgd is None:
    pytest.skip('gradtx.sgd has not landed yet')
  ours, _ = trajectory(gradtx.inject_hyperparams(sgd)(0.1, momentum=0.9))
  plain, _ = trajectory(sgd(F(0.1), momentum=F(0.9)))
  assert_trajectories_close(ours, plain)


def test_injected_transformation_in_a_chain_equals_plain_chain():
  ours, state = trajectory(gradtx.chain(
      gradtx.inject_hyperparams(gradtx.scale_by_adam)(b1=0.7),
      gradtx.scale_by_learning_rate(0.02)))
  plain, _ = trajectory(gradtx.chain(
      gradtx.scale_by_adam(**dict(ADAM_DEFAULTS, b1=F(0.7))),
      gradtx.scale_by_learning_rate(0.02)))
  assert_trajectories_close(ours, plain)
  with pytest.raises(ValueError, match='learning_rate'):
    gradtx.current_learning_rate(state)  # b1 etc. are injected, not the rate


def test_eager_equals_jit():
  opt = gradtx.inject_hyperparams(gradtx.adam)(lambda t: 0.1 / (1.0 + t))
  a, _ = trajectory(opt, steps=5, jit=False)
  b, _ = trajectory(opt, steps=5, jit=True)
  assert_trajectories_close(a, b, rtol=2e-6)


# ---------------------------------------------------------------------------
# Changing hyperparameters between jitted steps.
# ---------------------------------------------------------------------------
def test_changing_hyperparams_between_jitted_steps_does_not_recompile():
  opt = gradtx.inject_hyperparams(gradtx.adam)(learning_rate=0.1)
  # Adam's direction does not depend on lr (injected too: same arithmetic).
  direction = gradtx.inject_hyperparams(gradtx.scale_by_adam)()
  params = make_params()
  state, dstate = opt.init(params), direction.init(params)
  step = jax.jit(opt.update)
  lrs = [0.1, 0.1, 0.05, 0.3, 0.3, 0.01, 0.2, 0.2]
  for i, lr in enumerate(lrs):
    if i:
      state = gradtx.set_hyperparams(state, learning_rate=lr)
    if i == 5:  # the in-place style of Optax's docs also works
      state.hyperparams['learning_rate'] = jnp.asarray(lr, jnp.float32)
    grads = jax.grad(loss)(params)
    updates, state = step(grads, state, params)
    d, dstate = direction.update(grads, dstate)
    for u, v in zip(jax.tree.leaves(updates), jax.tree.leaves(d)):
      np.testing.assert_allclose(u, -lr * v, rtol=1e-6)
    np.testing.assert_allclose(gradtx.current_learning_rate(state), lr)
    params = gradtx.apply_updates(params, updates)
  assert step._cache_size() == 1  # pylint: disable=protected-access


def test_changing_b1_takes_effect():
  opt = gradtx.inject_hyperparams(gradtx.adam)(0.1, b1=0.9)
  ref = gradtx.inject_hyperparams(gradtx.adam)(0.1, b1=0.5)
  params = make_params()
  s = gradtx.set_hyperparams(opt.init(params), b1=0.5)
  grads = jax.grad(loss)(params)
  u, _ = jax.jit(opt.update)(grads, s)
  v, _ = ref.update(grads, ref.init(params))
  for a, b in zip(jax.tree.leaves(u), jax.tree.leaves(v)):
    np.testing.assert_allclose(a, b, rtol=1e-6)


# ---------------------------------------------------------------------------
# Schedules as hyperparameters.
# ---------------------------------------------------------------------------
def lr_schedule(t):
  t = jnp.asarray(t, jnp.float32)
  return 0.1 * jnp.minimum(1.0, (t + 1) / 5) * 0.5 ** (t / 10)


def b1_schedule(t):
  return 0.5 + 0.4 * jnp.minimum(1.0, jnp.asarray(t, jnp.float32) / 20)


def test_schedule_learning_rate_equals_non_injected_schedule():
  ours, state = trajectory(gradtx.inject_hyperparams(gradtx.adam)(lr_schedule))
  plain, _ = trajectory(gradtx.adam(lr_schedule, **ADAM_DEFAULTS))
  assert_trajectories_close(ours, plain)
  np.testing.assert_allclose(gradtx.current_learning_rate(state), lr_schedule(24),
                             rtol=1e-6)


def test_schedule_b1_by_hand():
  """Adam with a scheduled b1, checked against a numpy implementation."""
  opt = gradtx.inject_hyperparams(gradtx.adam)(0.05, b1=b1_schedule)
  ours, _ = trajectory(opt, steps=22)
  params = jax.tree.map(np.asarray, make_params())
  m = jax.tree.map(np.zeros_like, params)
  v = jax.tree.map(np.zeros_like, params)
  for t in range(22):
    b1 = float(b1_schedule(t))
    g = jax.tree.map(np.asarray, jax.grad(loss)(params))
    m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
    v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
    params = jax.tree.map(
        lambda p, m, v: p - 0.05 * (m / (1 - b1 ** (t + 1)))
        / (np.sqrt(v / (1 - 0.999 ** (t + 1))) + 1e-8), params, m, v)
    for a, b in zip(jax.tree.leaves(ours[t]), jax.tree.leaves(params)):
      np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_overwriting_a_scheduled_hyperparameter_has_no_effect():
  opt = gradtx.inject_hyperparams(gradtx.adam)(lr_schedule)
  params = make_params()
  s = gradtx.set_hyperparams(opt.init(params), learning_rate=123.0)
  _, s = opt.update(jax.grad(loss)(params), s)
  np.testing.assert_allclose(s.hyperparams['learning_rate'], lr_schedule(0))


# ---------------------------------------------------------------------------
# Parity with Optax.
# ---------------------------------------------------------------------------
def test_matches_optax_inject_hyperparams_adam():
  optax = pytest.importorskip('optax')
  ours_opt = gradtx.inject_hyperparams(gradtx.adam)(lr_schedule, b1=b1_schedule,
                                                    b2=0.995)
  theirs_opt = optax.inject_hyperparams(optax.adam)(lr_schedule, b1=b1_schedule,
                                                    b2=0.995)
  params = make_params()
  s, t = ours_opt.init(params), theirs_opt.init(params)
  p, q = params, params
  step_ours, step_theirs = jax.jit(ours_opt.update), jax.jit(theirs_opt.update)
  for i in range(30):
    if i == 12:
      s = gradtx.set_hyperparams(s, b2=0.9)
      t.hyperparams['b2'] = jnp.asarray(0.9, jnp.float32)
    u, s = step_ours(jax.grad(loss)(p), s, p)
    v, t = step_theirs(jax.grad(loss)(q), t, q)
    p, q = gradtx.apply_updates(p, u), optax.apply_updates(q, v)
    assert set(s.hyperparams) == set(t.hyperparams)
    for k in s.hyperparams:
      np.testing.assert_allclose(s.hyperparams[k], t.hyperparams[k], rtol=1e-7,
                                 err_msg=k)
    for a, b in zip(jax.tree.leaves(p), jax.tree.leaves(q)):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  assert step_ours._cache_size() == 1  # pylint: disable=protected-access


# ---------------------------------------------------------------------------
# Reading the learning rate anywhere in a state.
# ---------------------------------------------------------------------------
def test_current_learning_rate_nested_in_chains_and_wrappers():
  inner = gradtx.inject_hyperparams(gradtx.adam)(learning_rate=2e-3)
  opt = gradtx.named_chain(
      ('decay', gradtx.add_decayed_weights(1e-4)),
      ('opt', gradtx.chain(gradtx.identity(),
                           gradtx.masked(inner, {'w': True, 'b': False}))),
  )
  state = opt.init(make_params())
  np.testing.assert_allclose(gradtx.current_learning_rate(state), 2e-3)
  found = gradtx.find_hyperparams(state)
  assert list(found) == ["['opt'][1].inner_state"]
  state = gradtx.set_hyperparams(state, learning_rate=5e-4)
  np.testing.assert_allclose(gradtx.current_learning_rate(state), 5e-4)
  _, state = jax.jit(opt.update)(make_params(), state, make_params())
  np.testing.assert_allclose(gradtx.current_learning_rate(state), 5e-4)


def test_nested_injection_is_found_inside_inner_state():
  opt = gradtx.inject_hyperparams(gradtx.add_decayed_weights)(1e-3)
  state = gradtx.chain(opt, gradtx.inject_hyperparams(gradtx.sgd)(0.1)
                       if hasattr(gradtx, 'sgd') else
                       gradtx.inject_hyperparams(gradtx.scale_by_learning_rate)(0.1)
                       ).init(make_params())
  assert set(gradtx.find_hyperparams(state)) == {'[0]', '[1]'}
  np.testing.assert_allclose(gradtx.current_learning_rate(state), 0.1)
  np.testing.assert_allclose(
      gradtx.current_learning_rate(state, name='weight_decay'), 1e-3)


def test_current_learning_rate_errors():
  params = make_params()
  with pytest.raises(ValueError, match='inject_hyperparams'):
    gradtx.current_learning_rate(gradtx.adam(1e-3).init(params))
  two = gradtx.chain(gradtx.inject_hyperparams(gradtx.adam)(1e-3),
                     gradtx.inject_hyperparams(gradtx.adam)(1e-2))
  with pytest.raises(ValueError, match='several'):
    gradtx.current_learning_rate(two.init(params))
  with pytest.raises(ValueError, match='learning_rate'):
    gradtx.set_hyperparams(gradtx.adam(1e-3).init(params), learning_rate=1.0)


def test_plateau_scale_times_learning_rate_is_the_effective_rate():
  opt = gradtx.chain(gradtx.inject_hyperparams(gradtx.adam)(0.1),
                     gradtx.reduce_on_plateau(factor=0.5, patience=1))
  params = make_params()
  state = opt.init(params)
  for _ in range(4):
    _, state = opt.update(jax.grad(loss)(params), state, params, value=1.0)
  effective = gradtx.current_learning_rate(state) * gradtx.plateau_scale(state)
  np.testing.assert_allclose(effective, 0.1 * 0.5 ** 3)


# ---------------------------------------------------------------------------
# Extra arguments, static arguments, dtypes, stateful schedules.
# ---------------------------------------------------------------------------
def test_injected_reduce_on_plateau_receives_the_value():
  values = [3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0]
  injected = gradtx.inject_hyperparams(gradtx.reduce_on_plateau)(
      factor=0.5, patience=2)
  plain = gradtx.reduce_on_plateau(factor=0.5, patience=2)
  s, p = injected.init(jnp.zeros(2)), plain.init(jnp.zeros(2))
  step = jax.jit(injected.update)
  for i, v in enumerate(values):
    if i == 5:  # halve the factor from now on, without recompiling
      s = gradtx.set_hyperparams(s, factor=0.25)
      plain = gradtx.reduce_on_plateau(factor=0.25, patience=2)
    u, s = step(jnp.ones(2), s, value=jnp.float32(v))
    w, p = plain.update(jnp.ones(2), p, value=v)
    np.testing.assert_allclose(u, w)
  assert s.hyperparams['patience'].dtype == jnp.int32
  assert step._cache_size() == 1  # pylint: disable=protected-access
  np.testing.assert_allclose(s.inner_state.scale, 0.5 * 0.25 * 0.25)


def test_static_args_and_non_schedule_callables():
  mask = lambda p: {'w': True, 'b': False}
  opt = gradtx.inject_hyperparams(gradtx.adamw, static_args='mask')(
      0.1, weight_decay=0.5, mask=mask)
  plain = gradtx.adamw(F(0.1), weight_decay=F(0.5), mask=mask, **ADAM_DEFAULTS)
  a, s = trajectory(opt, steps=5)
  b, _ = trajectory(plain, steps=5)
  assert_trajectories_close(a, b)
  assert 'mask' not in s.hyperparams and 'weight_decay' in s.hyperparams


def test_hyperparameter_dtypes():
  params = make_params(jnp.bfloat16)
  s = gradtx.inject_hyperparams(gradtx.adam)(0.1).init(params)
  # bfloat16 params keep float32 hyperparameters (b2 = 0.999 is 1.0 in bf16).
  assert all(v.dtype == jnp.float32 for v in s.hyperparams.values())
  opt = gradtx.inject_hyperparams(gradtx.adam, hyperparam_dtype=jnp.bfloat16)(
      lr_schedule, b2=0.99)  # 0.999 would round to 1.0 and be refused
  s0 = opt.init(make_params())
  assert all(v.dtype == jnp.bfloat16 for v in s0.hyperparams.values())
  _, s1 = jax.jit(opt.update)(make_params(), s0)
  assert jax.tree.map(lambda x: x.dtype, s1) == jax.tree.map(lambda x: x.dtype, s0)


def test_bf16_params_stay_bf16_and_state_dtypes_are_stable_under_cond():
  opt = gradtx.inject_hyperparams(gradtx.adam)(lr_schedule)
  params = make_params(jnp.bfloat16)
  s0 = opt.init(params)
  grads = jax.tree.map(lambda g: g.astype(jnp.bfloat16), jax.grad(loss)(params))

  @jax.jit
  def step(params, state, pred):
    u, state = jax.lax.cond(pred, lambda: opt.update(grads, state, params),
                            lambda: (jax.tree.map(jnp.zeros_like, grads), state))
    return gradtx.apply_updates(params, u), state

  s = s0
  for i in range(4):
    params, s = step(params, s, jnp.array(i != 2))
  assert jax.tree.map(lambda x: (x.dtype, x.shape), s) == jax.tree.map(
      lambda x: (x.dtype, x.shape), s0)
  assert all(p.dtype == jnp.bfloat16 for p in jax.tree.leaves(params))


class HalveOnSpike:
  """A stateful schedule: the value halves whenever ``loss > 1``."""

  def init(self):
    return jnp.asarray(0.2, jnp.float32)

  def update(self, s, loss=0.0, **extra):
    del extra
    return jnp.where(loss > 1.0, s / 2, s)

  def __call__(self, s, **extra):
    del extra
    return s


def test_stateful_schedules():
  opt = gradtx.inject_stateful_hyperparams(gradtx.adam)(HalveOnSpike(), b1=b1_schedule)
  params = make_params()
  s = opt.init(params)
  step = jax.jit(opt.update)
  used = []
  for loss_value in [0.5, 2.0, 0.5, 3.0, 3.0]:
    _, s = step(jax.grad(loss)(params), s, params, loss=jnp.float32(loss_value))
    used.append(float(gradtx.current_learning_rate(s)))
  # The rate used at a step is the one before that step's update of the state.
  np.testing.assert_allclose(used, [0.2, 0.2, 0.1, 0.1, 0.05])
  np.testing.assert_allclose(s.hyperparams['b1'], b1_schedule(4))
  assert step._cache_size() == 1  # pylint: disable=protected-access


def test_stateful_injection_with_plain_schedules_equals_inject_hyperparams():
  a, _ = trajectory(gradtx.inject_stateful_hyperparams(gradtx.adam)(
      lr_schedule, b1=b1_schedule))
  b, _ = trajectory(gradtx.inject_hyperparams(gradtx.adam)(
      lr_schedule, b1=b1_schedule))
  assert_trajectories_close(a, b, rtol=0, atol=0)


# ---------------------------------------------------------------------------
# Bad input.
# ---------------------------------------------------------------------------
def test_bad_arguments_raise():
  with pytest.raises(ValueError, match='static_args'):
    gradtx.inject_hyperparams(gradtx.adam, static_args=('learning_rat',))
  with pytest.raises(ValueError, match='hyperparam_dtype'):
    gradtx.inject_hyperparams(gradtx.adam, hyperparam_dtype='not-a-dtype')
  with pytest.raises(ValueError, match='hyperparam_dtype'):
    gradtx.inject_hyperparams(gradtx.adam, hyperparam_dtype=jnp.int32)
  with pytest.raises(ValueError, match='inner_factory'):
    gradtx.inject_hyperparams(3.0)
  with pytest.raises(ValueError, match='inject_stateful_hyperparams'):
    gradtx.inject_hyperparams(gradtx.adam)(HalveOnSpike())
  with pytest.raises(ValueError, match='learning_rate'):
    gradtx.inject_hyperparams(gradtx.adam)(-1.0)  # the factory's own check
  with pytest.raises(ValueError, match='transforms'):
    gradtx.inject_hyperparams(gradtx.chain)(gradtx.identity())
  with pytest.raises(TypeError):
    gradtx.inject_hyperparams(gradtx.adam)(0.1, not_an_argument=1.0)


class _HalveOnRise:
  """A stateful schedule: 0.1, halved each time the ``loss`` rises."""

  def init(self):
    return (jnp.asarray(1.0), jnp.asarray(jnp.inf))

  def update(self, state, *, loss, **extra_args):
    del extra_args
    value, best = state
    return jnp.where(loss > best, value / 2, value), jnp.minimum(best, loss)

  def __call__(self, state, **extra_args):
    del extra_args
    return 0.1 * state[0]


def test_stateful_schedule_protocol_is_optax_s_and_drives_injection():
  import optax  # pylint: disable=import-outside-toplevel
  assert gradtx.StatefulSchedule is gradtx.schedules.StatefulSchedule
  assert gradtx.stateful_schedules.StatefulSchedule is gradtx.StatefulSchedule
  assert isinstance(_HalveOnRise(), gradtx.StatefulSchedule)
  assert isinstance(gradtx.WrappedSchedule(lambda t: 0.1), gradtx.StatefulSchedule)
  assert not isinstance(lambda t: 0.1, gradtx.StatefulSchedule)
  assert (set(n for n in dir(optax.schedules.StatefulSchedule) if not n.startswith('_'))
          == set(n for n in dir(gradtx.StatefulSchedule) if not n.startswith('_')))
  opt = gradtx.inject_stateful_hyperparams(gradtx.sgd)(learning_rate=_HalveOnRise())
  ref = optax.inject_stateful_hyperparams(optax.sgd)(learning_rate=_HalveOnRise())
  s, r = opt.init(jnp.zeros(1)), ref.init(jnp.zeros(1))
  lrs = []
  for loss_value in (3.0, 2.0, 2.5, 2.6, 1.0):
    u, s = opt.update(jnp.ones(1), s, loss=loss_value)
    ur, r = ref.update(jnp.ones(1), r, loss=loss_value)
    np.testing.assert_allclose(u, ur)
    lrs.append(-float(u[0]))
  np.testing.assert_allclose(lrs, [0.1, 0.1, 0.1, 0.05, 0.025], rtol=1e-6)
def _radam_float64(b2, steps, g, b1=0.9, eps=1e-8, lr=1e-2, threshold=5.0):
  """RAdam on a constant-gradient sequence, in float64 NumPy (the paper's rule)."""
  m = v = 0.0
  theta = np.zeros_like(g, np.float64)
  rho_inf = 2.0 / (1.0 - b2) - 1.0
  out = []
  for t in range(1, steps + 1):
    gt = g * (1.0 + 0.1 * np.sin(t))
    m = b1 * m + (1 - b1) * gt
    v = b2 * v + (1 - b2) * gt * gt
    m_hat = m / (1 - b1**t)
    rho = rho_inf - 2.0 * t * b2**t / (1.0 - b2**t)
    if rho >= threshold:
      r = np.sqrt((rho - 4) * (rho - 2) * rho_inf
                  / ((rho_inf - 4) * (rho_inf - 2) * rho))
      u = r * m_hat / (np.sqrt(v / (1 - b2**t)) + eps)
    else:
      u = m_hat
    theta = theta - lr * u
    out.append(theta.copy())
  return np.array(out)


@pytest.mark.parametrize('b2', [0.95, 0.999])
def test_injected_radam_b2_is_traced_and_float32_accurate(b2):
  """inject_hyperparams(radam)(b2=...) runs under jit (the rectifier needs no
  concrete b2) and matches the float64 rule to float32 accuracy."""
  g = np.array([0.5, -2.0, 3.0])
  b2_32 = float(np.float32(b2))  # the value the state holds
  ref = _radam_float64(b2_32, 40, g)
  opt = gradtx.inject_hyperparams(gradtx.radam)(learning_rate=1e-2, b2=b2)
  state = opt.init(jnp.zeros(3))
  update = jax.jit(opt.update)
  theta = jnp.zeros(3)
  for t in range(1, 41):
    gt = jnp.asarray(g * (1.0 + 0.1 * np.sin(t)), jnp.float32)
    u, state = update(gt, state, theta)
    theta = theta + u
    np.testing.assert_allclose(theta, ref[t - 1], rtol=2e-5, atol=1e-6)
  # A new b2 takes effect without recompiling.
  state = gradtx.set_hyperparams(state, b2=0.99)
  with jax.log_compiles(False):
    before = update._cache_size()  # pylint: disable=protected-access
    update(jnp.ones(3), state, theta)
    assert update._cache_size() == before  # pylint: disable=protected-access
