"""Loss scales and ``with_loss_scale`` against PyTorch, Keras and MindSpore.

Overflow sequences are scripted: the loss is multiplied by inf or NaN at
chosen steps, and the scale sequence, the growth counter, the parameters and
the number of applied steps are compared step by step with the reference
framework fed the same pattern.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx

# 1 = finite step, 'inf' / 'nan' = the loss (so every gradient) is multiplied
# by inf / NaN. Covers: growth, a skip right before a growth is due, runs of
# skips, and a skip at the very first step.
PATTERN = (
    ['nan', 1, 1, 'inf', 1, 1, 1, 1, 1, 1, 1, 'inf', 'nan', 'inf', 1, 1]
    + [1] * 7 + ['nan'] + [1, 1, 'inf'] + [1] * 10
)
COEF = np.array([1.0, -2.0, 3.0, 0.5], np.float32)


def _multiplier(p):
  return {1: 1.0, 'inf': np.inf, 'nan': np.nan}[p]


def _loss(params, mult):
  return jnp.sum(params * COEF + 0.25 * params**2) * mult


def _run_gradtx(opt, pattern, params):
  """Runs the pattern under jit; returns per-step (scale, counter, params, skipped)."""
  state = opt.init(params)

  @jax.jit
  def step(params, state, mult):
    grads = jax.grad(lambda p: state.loss_scale.scale(_loss(p, mult)))(params)
    updates, state = opt.update(grads, state, params)
    return gradtx.apply_updates(params, updates), state

  out = []
  for p in pattern:
    params, state = step(params, state, jnp.float32(_multiplier(p)))
    out.append((float(state.loss_scale.loss_scale),
                int(state.loss_scale.counter), np.asarray(params),
                int(state.skipped_steps), bool(state.last_finite)))
  return out


def _sgd_momentum(lr, momentum):
  return gradtx.chain(gradtx.trace(momentum), gradtx.scale_by_learning_rate(lr))


# ---------------------------------------------------------------------------
# PyTorch GradScaler.
# ---------------------------------------------------------------------------
def _run_torch(pattern, params, init_scale, growth_interval, lr, momentum,
               growth_factor=2.0, backoff_factor=0.5):
  torch = pytest.importorskip('torch')
  p = torch.nn.Parameter(torch.tensor(params))
  opt = torch.optim.SGD([p], lr=lr, momentum=momentum)
  scaler = torch.amp.GradScaler(
      'cpu', init_scale=init_scale, growth_factor=growth_factor,
      backoff_factor=backoff_factor, growth_interval=growth_interval)
  coef = torch.tensor(COEF)
  out = []
  for pat in pattern:
    opt.zero_grad()
    loss = torch.sum(p * coef + 0.25 * p**2) * _multiplier(pat)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    out.append((scaler.get_scale(), scaler._get_growth_tracker(),  # pylint: disable=protected-access
                p.detach().numpy().copy()))
  return out


@pytest.mark.parametrize('init_scale,growth_interval,growth,backoff', [
    (2.0**4, 3, 2.0, 0.5),
    (2.0**16, 2000, 2.0, 0.5),   # PyTorch's defaults
    (3.0, 2, 4.0, 0.25),
])
def test_torch_grad_scaler_matches_torch_step_for_step(
    init_scale, growth_interval, growth, backoff):
  params = np.array([0.5, -1.0, 2.0, 0.0], np.float32)
  ours = _run_gradtx(
      gradtx.with_loss_scale(
          _sgd_momentum(0.05, 0.9),
          gradtx.torch_grad_scaler(init_scale, growth, backoff, growth_interval)),
      PATTERN, jnp.asarray(params))
  ref = _run_torch(PATTERN, params, init_scale, growth_interval, 0.05, 0.9,
                   growth, backoff)
  n_skipped = 0
  for t, (o, r, pat) in enumerate(zip(ours, ref, PATTERN)):
    scale, counter, p, skipped, finite = o
    n_skipped += pat != 1
    assert scale == r[0], f'step {t}: scale {scale} != torch {r[0]}'
    assert counter == r[1], f'step {t}: counter {counter} != torch {r[1]}'
    np.testing.assert_allclose(p, r[2], rtol=1e-6, atol=1e-7, err_msg=f'step {t}')
    assert skipped == n_skipped and finite == (pat == 1)
  # The pattern must actually exercise growth and backoff.
  scales = [o[0] for o in ours]
  if growth_interval < 100:
    assert max(scales) > init_scale and min(scales) < init_scale


def test_torch_preset_has_no_floor_and_keeps_scale_when_growth_overflows():
  ls = gradtx.torch_grad_scaler(init_scale=2.0, growth_interval=1)
  for _ in range(5):
    ls = ls.adjust(False)
  assert float(ls.loss_scale) == 2.0**-4          # no floor at 1
  big = gradtx.torch_grad_scaler(init_scale=2.0**127, growth_interval=1)
  assert float(big.adjust(True).loss_scale) == 2.0**127  # 2**128 is inf: kept
  assert int(big.adjust(True).counter) == 0


# ---------------------------------------------------------------------------
# Keras LossScaleOptimizer (the real one, through its stateless_apply).
# ---------------------------------------------------------------------------
def _run_keras(pattern, params, initial_scale, growth_steps, lr):
  keras = pytest.importorskip('keras')
  if keras.backend.backend() != 'jax':
    pytest.skip('needs KERAS_BACKEND=jax')
  v = keras.Variable(params)
  opt = keras.optimizers.LossScaleOptimizer(
      keras.optimizers.SGD(lr), initial_scale=initial_scale,
      dynamic_growth_steps=growth_steps)
  opt.build([v])
  ids = [id(x) for x in opt.variables]
  i_scale = ids.index(id(opt.dynamic_scale))
  i_count = ids.index(id(opt.step_counter))
  i_iter = ids.index(id(opt.inner_optimizer.iterations))
  opt_vars = [x.value for x in opt.variables]
  train_vars = [v.value]
  apply = jax.jit(opt.stateless_apply)
  out = []
  for pat in pattern:
    scale = opt_vars[i_scale]
    grads = jax.grad(lambda p: _loss(p, _multiplier(pat)) * scale)(train_vars[0])
    train_vars, opt_vars = apply(opt_vars, [grads], train_vars)
    out.append((float(opt_vars[i_scale]), int(opt_vars[i_count]),
                np.asarray(train_vars[0]), int(opt_vars[i_iter])))
  return out


@pytest.mark.parametrize('initial_scale,growth_steps', [(2.0**4, 3), (1.0, 1)])
def test_keras_preset_matches_keras_loss_scale_optimizer(initial_scale, growth_steps):
  params = np.array([0.5, -1.0, 2.0, 0.0], np.float32)
  ours = _run_gradtx(
      gradtx.with_loss_scale(gradtx.scale_by_learning_rate(0.05),
                             gradtx.keras_loss_scale(initial_scale, growth_steps)),
      PATTERN, jnp.asarray(params))
  ref = _run_keras(PATTERN, params, initial_scale, growth_steps, 0.05)
  for t, (o, r) in enumerate(zip(ours, ref)):
    assert o[0] == r[0], f'step {t}: scale {o[0]} != keras {r[0]}'
    assert o[1] == r[1], f'step {t}: counter {o[1]} != keras {r[1]}'
    np.testing.assert_allclose(o[2], r[2], rtol=1e-6, atol=1e-7, err_msg=f'step {t}')
    assert t + 1 - o[3] == r[3], f'step {t}: applied steps differ'


# ---------------------------------------------------------------------------
# MindSpore DynamicLossScaleManager, traced by hand from its update cell.
# ---------------------------------------------------------------------------
def _mindspore_reference(overflows, init, factor, window):
  """MindSpore's DynamicLossScaleUpdateCell: cur_iter / last_overflow_iter."""
  scale, cur_iter, last_overflow_iter = np.float32(init), 1, 0
  out = []
  for overflow in overflows:
    on_overflow = max(scale * np.float32(1.0 / factor), np.float32(1.0)) if overflow else scale
    should_inc = window <= cur_iter - last_overflow_iter
    if overflow or should_inc:
      last_overflow_iter = cur_iter
    scale = np.float32(on_overflow * factor) if (should_inc and not overflow) else np.float32(on_overflow)
    cur_iter += 1
    out.append(float(scale))
  return out


@pytest.mark.parametrize('init,factor,window', [(2.0**24, 2, 2000), (8.0, 2, 3), (4.0, 4, 2)])
def test_mindspore_preset_matches_hand_traced_update_cell(init, factor, window):
  overflows = [p != 1 for p in PATTERN] + [True] * 30 + [False] * 9
  ours = _run_gradtx(
      gradtx.with_loss_scale(gradtx.scale_by_learning_rate(0.01),
                             gradtx.mindspore_loss_scale(init, factor, window)),
      ['inf' if o else 1 for o in overflows], jnp.ones(4))
  ref = _mindspore_reference(overflows, init, factor, window)
  assert [o[0] for o in ours] == ref
  assert min(ref) >= 1.0
  if window < 100:
    assert min(ref) == 1.0 and ref[-1] > 1.0  # floored, then grows again


# ---------------------------------------------------------------------------
# Skipped steps leave everything bit for bit unchanged.
# ---------------------------------------------------------------------------
def _bits(tree):
  return [np.asarray(x).tobytes() for x in jax.tree.leaves(tree)]


@pytest.mark.parametrize('dtype', [jnp.float32, jnp.bfloat16, jnp.float16])
@pytest.mark.parametrize('bad', [np.inf, -np.inf, np.nan])
def test_skipped_step_leaves_params_and_inner_state_bit_for_bit(dtype, bad):
  params = {'w': jnp.array([0.0, -0.0, 1.5, -3.25], dtype),
            'b': jnp.array([[1e-3, -7.0]], dtype)}
  opt = gradtx.with_loss_scale(gradtx.adam(lambda t: 0.1 / (t + 1)),
                               gradtx.DynamicLossScale(init_scale=2.0**8))
  state = opt.init(params)
  step = jax.jit(opt.update)
  good = jax.tree.map(lambda p: jnp.full(p.shape, 3.0, dtype), params)
  for _ in range(3):  # a few real steps so the inner state is not all zeros
    updates, state = step(good, state, params)
    params = gradtx.apply_updates(params, updates)
  params = {'w': params['w'].at[:2].set(jnp.array([0.0, -0.0], dtype)), 'b': params['b']}
  bad_grads = {'w': good['w'].at[2].set(bad), 'b': good['b']}
  updates, new_state = step(bad_grads, state, params)
  new_params = gradtx.apply_updates(params, updates)
  assert _bits(new_params) == _bits(params)
  assert _bits(new_state.inner_state) == _bits(state.inner_state)
  assert int(new_state.skipped_steps) == 1 and not bool(new_state.last_finite)
  assert float(new_state.loss_scale.loss_scale) == 2.0**7
  assert all(bool(jnp.all(u == 0)) for u in jax.tree.leaves(updates))
  # A finite step afterwards moves the params again.
  updates, _ = step(good, new_state, new_params)
  assert not bool(jnp.all(updates['w'] == 0))


def test_inner_optimizer_never_sees_non_finite_gradients():
  seen = []

  def record(updates, params):
    jax.debug.callback(lambda x: seen.append(np.asarray(x)), updates)
    return updates

  opt = gradtx.with_loss_scale(gradtx.stateless(record), gradtx.StaticLossScale(4.0))
  state = opt.init(jnp.zeros(2))
  jax.jit(opt.update)(jnp.array([jnp.nan, 8.0]), state)
  jax.effects_barrier()
  assert np.array_equal(seen[-1], [0.0, 0.0])


# ---------------------------------------------------------------------------
# Loss scales as pytrees under jit.
# ---------------------------------------------------------------------------
ALL_SCALES = [
    gradtx.NoOpLossScale(),
    gradtx.StaticLossScale(2.0**10),
    gradtx.DynamicLossScale(init_scale=2.0**12, growth_interval=3,
                            growth_factor=4.0, backoff_factor=0.25,
                            min_scale=2.0, max_scale=2.0**14),
    gradtx.torch_grad_scaler(),
    gradtx.keras_loss_scale(),
    gradtx.mindspore_loss_scale(),
]


def _fields(ls):
  return {f.name: getattr(ls, f.name) for f in dataclasses.fields(ls)}


@pytest.mark.parametrize('ls', ALL_SCALES, ids=lambda x: type(x).__name__)
def test_loss_scales_survive_jit_round_trip_with_every_field(ls):
  back = jax.jit(lambda x: x)(ls)
  assert type(back) is type(ls)
  before, after = _fields(ls), _fields(back)
  assert before.keys() == after.keys()
  for k in before:
    if isinstance(before[k], jax.Array):
      assert np.asarray(before[k]) == np.asarray(after[k])
      assert before[k].dtype == after[k].dtype
    else:
      assert before[k] == after[k], k
  # And through a scan of adjustments.
  def body(s, finite):
    s = s.adjust(finite)
    return s, s.loss_scale
  final, trace = jax.jit(lambda s: jax.lax.scan(
      body, s, jnp.array([True, True, True, False, True])))(ls)
  assert _fields(final).keys() == before.keys()
  for k, v in before.items():
    if not isinstance(v, jax.Array):
      assert _fields(final)[k] == v, k
  assert trace.dtype == jnp.float32


def test_dynamic_rule_with_min_and_max_scale():
  ls = ALL_SCALES[2]  # 4096, interval 3, x4 growth, /4 backoff, min 2, max 16384
  seq = []
  for finite in [True] * 3 + [True] * 3 + [False] * 8 + [True] * 2:
    ls = jax.jit(lambda s, f: s.adjust(f))(ls, jnp.array(finite))
    seq.append(float(ls.loss_scale))
  assert seq[:6] == [4096.0] * 2 + [16384.0] + [16384.0] * 3  # capped at max
  assert seq[6:14] == [4096.0, 1024.0, 256.0, 64.0, 16.0, 4.0, 2.0, 2.0]  # floor
  assert seq[14:] == [2.0, 2.0]


def test_scale_and_unscale_dtypes_and_values():
  ls = gradtx.DynamicLossScale(init_scale=2.0**30)
  loss16 = jnp.float16(3.0)
  scaled = ls.scale(loss16)
  assert scaled.dtype == jnp.float32 and float(scaled) == 3.0 * 2**30
  # 1/2**30 underflows in float16: the unscale must be computed in float32.
  g = {'a': jnp.array([2.0**-10], jnp.float32), 'b': jnp.array([2.0**15], jnp.float16)}
  out = ls.unscale(g)
  assert out['a'].dtype == jnp.float32 and out['b'].dtype == jnp.float16
  assert float(out['a'][0]) == 2.0**-40
  assert float(out['b'][0]) == 2.0**-15  # a float16 subnormal
  s = gradtx.StaticLossScale(5.0)
  np.testing.assert_allclose(np.asarray(s.unscale(jnp.array([10.0]))), [2.0], rtol=1e-7)
  assert s.adjust(False) is s
  noop = gradtx.NoOpLossScale()
  x = jnp.array([1.0, np.inf])
  assert noop.scale(x) is x and noop.unscale(x) is x and noop.adjust(False) is noop


def test_with_loss_scale_default_and_noop_scale():
  opt = gradtx.with_loss_scale(gradtx.scale(-1.0))
  state = opt.init(jnp.zeros(2))
  assert float(state.loss_scale.loss_scale) == 2.0**15
  assert state.loss_scale.growth_interval == 2000
  opt = gradtx.with_loss_scale(gradtx.scale(-1.0), gradtx.NoOpLossScale())
  state = opt.init(jnp.zeros(2))
  u, state = jax.jit(opt.update)(jnp.array([1.0, 2.0]), state)
  np.testing.assert_array_equal(np.asarray(u), [-1.0, -2.0])
  u, state = jax.jit(opt.update)(jnp.array([1.0, np.nan]), state)
  assert int(state.skipped_steps) == 1 and bool(jnp.all(u == 0))


def test_no_recompilation_across_steps():
  opt = gradtx.with_loss_scale(gradtx.adam(1e-2), gradtx.DynamicLossScale(growth_interval=2))
  state = opt.init(jnp.ones(3))
  traces = []

  @jax.jit
  def step(g, s):
    traces.append(1)
    return opt.update(g, s)

  for g in [jnp.ones(3), jnp.full(3, jnp.inf, jnp.float32), jnp.ones(3), jnp.ones(3)]:
    _, state = step(g, state)
  assert len(traces) == 1


# ---------------------------------------------------------------------------
# Bad input.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('kwargs,name', [
    (dict(growth_interval=0), 'growth_interval'),
    (dict(growth_interval=2.5), 'growth_interval'),
    (dict(growth_factor=0.5), 'growth_factor'),
    (dict(backoff_factor=0.0), 'backoff_factor'),
    (dict(backoff_factor=1.5), 'backoff_factor'),
    (dict(min_scale=-1.0), 'min_scale'),
    (dict(max_scale=0.0), 'max_scale'),
    (dict(min_scale=4.0, max_scale=2.0), 'max_scale'),
    (dict(init_scale=0.0), 'init_scale'),
    (dict(init_scale=float('inf')), 'init_scale'),
    (dict(init_scale=lambda t: 1.0), 'init_scale'),
])
def test_dynamic_loss_scale_rejects_bad_arguments(kwargs, name):
  with pytest.raises(ValueError, match=name):
    gradtx.DynamicLossScale(**kwargs)


def test_other_bad_arguments():
  with pytest.raises(ValueError, match='loss_scale'):
    gradtx.StaticLossScale(-2.0)
  with pytest.raises(ValueError, match='loss_scale'):
    gradtx.with_loss_scale(gradtx.adam(1e-3), 1024.0)
  with pytest.raises(ValueError, match='init_loss_scale'):
    gradtx.mindspore_loss_scale(init_loss_scale=0.5)
  with pytest.raises(ValueError, match='scale_factor'):
    gradtx.mindspore_loss_scale(scale_factor=1)
  with pytest.raises(ValueError, match='growth_interval'):
    gradtx.torch_grad_scaler(growth_interval=0)
  with pytest.raises(ValueError, match='backoff_factor'):
    gradtx.torch_grad_scaler(backoff_factor=2.0)
