"""Hand-derived tests of the Adam family: numpy references, PyTorch, bad inputs.

Each optimizer runs for 25 steps on a noisy quadratic with a changing learning
rate, next to an independent float64 numpy implementation of its published
update rule. The reference rounds what gradtx stores (params, gradients,
moments, updates) to the params' dtype, so bfloat16 runs are compared too.
PyTorch is the reference for the optimizers whose semantics agree exactly.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx

# ---------------------------------------------------------------------------
# The harness (also used by tests/test_layerwise.py).
# ---------------------------------------------------------------------------
STEPS = 25
SHAPES = {'a': (7,), 'b': (2, 3)}
_rng = np.random.RandomState(0)
THETA0 = {k: _rng.randn(*s) for k, s in SHAPES.items()}
TARGET = {k: _rng.randn(*s) for k, s in SHAPES.items()}
CURV = {k: 0.5 + 2.0 * _rng.rand(*s) for k, s in SHAPES.items()}
NOISE = [{k: 0.3 * _rng.randn(*s) for k, s in SHAPES.items()}
         for _ in range(STEPS)]


def lr_np(t):
  """The learning rate at (0-based) step t: up, then down; never constant."""
  return 0.02 * (1.0 + t) / (1.0 + 0.05 * t * t)


def lr_jax(count):
  t = jnp.asarray(count, jnp.float32)
  return 0.02 * (1.0 + t) / (1.0 + 0.05 * t * t)


def grad_np(theta, t):
  """Gradient of a quadratic plus fixed noise, in float64."""
  return {k: CURV[k] * (np.asarray(theta[k], np.float64) - TARGET[k])
          + NOISE[t][k] for k in SHAPES}


def rounder(dtype):
  """Rounds float64 arrays to ``dtype`` (and back to float64)."""
  return lambda x: np.asarray(x).astype(dtype).astype(np.float64)


def then_lr(direction, lr, rd):
  """What ``scale_by_learning_rate`` does to a direction in ``rd``'s dtype."""
  return rd(-lr * rd(direction))


def run_reference(init, step, dtype, steps=STEPS, theta0=THETA0):
  """Runs a per-leaf numpy reference optimizer.

  Args:
    init: ``init(theta) -> dict`` of float64 state buffers for one leaf.
    step: ``step(g, theta, state, t, lr, rd) -> (update, state)`` where ``t``
      counts from 1 and ``rd`` rounds to the params' dtype.
    dtype: the params' dtype.
    steps: number of steps.
    theta0: initial params.

  Returns:
    The final params (float64 values of ``dtype`` numbers).
  """
  rd = rounder(dtype)
  theta = {k: rd(v) for k, v in theta0.items()}
  state = {k: {n: rd(b) for n, b in init(theta[k]).items()} for k in theta}
  for i in range(steps):
    g = {k: rd(v) for k, v in grad_np(theta, i).items()}
    for k in theta:
      u, new = step(g[k], theta[k], state[k], i + 1, lr_np(i), rd)
      state[k] = {n: rd(b) for n, b in new.items()}
      theta[k] = rd(theta[k] + rd(u))
  return theta


def run_gradtx(opt, dtype, steps=STEPS, theta0=THETA0):
  """Runs ``opt`` on the same problem; returns the final params as float64."""
  theta = {k: jnp.asarray(v, dtype) for k, v in theta0.items()}
  state = opt.init(theta)
  update = jax.jit(opt.update)
  for i in range(steps):
    g = {k: jnp.asarray(v.astype(dtype)) for k, v in grad_np(
        {k: np.asarray(p, np.float64) for k, p in theta.items()}, i).items()}
    u, state = update(g, state, theta)
    theta = gradtx.apply_updates(theta, u)
  for p in jax.tree.leaves(theta):
    assert p.dtype == dtype
  return {k: np.asarray(v, np.float64) for k, v in theta.items()}


def assert_close(ours, ref, rtol, atol):
  for k in ref:
    np.testing.assert_allclose(ours[k], ref[k], rtol=rtol, atol=atol,
                               err_msg=f'leaf {k}')


# Tolerances. float32 against float64: gradtx (like Optax) computes the
# bias corrections 1 − bᵗ in float32, which for b = 0.999 and small t is
# off by up to 6e-5 relative (1 − 0.999 loses four digits); that, not the
# rule, limits the agreement to ~1e-5 after 25 steps. bf16 against a float64
# reference that rounds like gradtx stores: a rare tie broken differently
# moves a value by one bf16 ulp (2**-8 relative).
TOL = {
    'float32': dict(rtol=1e-4, atol=1e-5),
    'bfloat16': dict(rtol=1.6e-2, atol=1.6e-2),
}
DTYPES = [jnp.float32, jnp.bfloat16]
DTYPE_IDS = ['f32', 'bf16']


def tol(dtype):
  return TOL[jnp.dtype(dtype).name]


# ---------------------------------------------------------------------------
# Independent float64 references, one leaf at a time.
# ---------------------------------------------------------------------------
B1, B2 = 0.9, 0.999


def zeros(*names, value=0.0):
  return lambda theta: {n: np.full_like(theta, value) for n in names}


def adamax_ref(b1=B1, b2=B2, eps=1e-8):
  def step(g, theta, s, t, lr, rd):
    m = b1 * s['m'] + (1 - b1) * g
    u = np.maximum(b2 * s['u'], np.abs(g) + eps)
    return then_lr(m / (1 - b1**t) / u, lr, rd), dict(m=m, u=u)
  return zeros('m', 'u'), step


def amsgrad_ref(b1=B1, b2=B2, eps=1e-8, debias=True):
  def step(g, theta, s, t, lr, rd):
    m = b1 * s['m'] + (1 - b1) * g
    v = b2 * s['v'] + (1 - b2) * g * g
    m_hat = m / (1 - b1**t) if debias else m
    v_hat = v / (1 - b2**t) if debias else v
    v_max = np.maximum(s['v_max'], v_hat)
    return then_lr(m_hat / (np.sqrt(v_max) + eps), lr, rd), dict(
        m=m, v=v, v_max=v_max)
  return zeros('m', 'v', 'v_max'), step


def radam_rho(b2, t):
  rho_inf = 2 / (1 - b2) - 1
  return rho_inf - 2 * t * b2**t / (1 - b2**t), rho_inf


def radam_ref(b1=B1, b2=B2, eps=1e-8, threshold=5.0):
  def step(g, theta, s, t, lr, rd):
    m = b1 * s['m'] + (1 - b1) * g
    v = b2 * s['v'] + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    rho, rho_inf = radam_rho(b2, t)
    if rho >= threshold:
      r = np.sqrt((rho - 4) * (rho - 2) * rho_inf
                  / ((rho_inf - 4) * (rho_inf - 2) * rho))
      d = r * m_hat / (np.sqrt(v_hat) + eps)
    else:
      d = m_hat
    return then_lr(d, lr, rd), dict(m=m, v=v)
  return zeros('m', 'v'), step


def yogi_ref(b1=B1, b2=B2, eps=1e-3, v0=1e-6):
  def step(g, theta, s, t, lr, rd):
    m = b1 * s['m'] + (1 - b1) * g
    v = s['v'] - (1 - b2) * np.sign(s['v'] - g * g) * g * g
    d = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return then_lr(d, lr, rd), dict(m=m, v=v)
  return zeros('m', 'v', value=v0), step


def belief_ref(b1=B1, b2=B2, eps=1e-16, eps_root=1e-16):
  def step(g, theta, s, t, lr, rd):
    m = b1 * s['m'] + (1 - b1) * g
    v = b2 * s['v'] + (1 - b2) * (g - m) ** 2 + eps_root
    d = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return then_lr(d, lr, rd), dict(m=m, v=v)
  return zeros('m', 'v'), step


def nadam_ref(b1=B1, b2=B2, eps=1e-8):
  def step(g, theta, s, t, lr, rd):
    m = b1 * s['m'] + (1 - b1) * g
    v = b2 * s['v'] + (1 - b2) * g * g
    m_hat = b1 * m / (1 - b1**(t + 1)) + (1 - b1) * g / (1 - b1**t)
    d = m_hat / (np.sqrt(v / (1 - b2**t)) + eps)
    return then_lr(d, lr, rd), dict(m=m, v=v)
  return zeros('m', 'v'), step


def novograd_ref(b1=B1, b2=0.25, eps=1e-6, wd=0.0):
  def init(theta):
    return dict(m=np.zeros_like(theta), v=np.zeros(()))

  def step(g, theta, s, t, lr, rd):
    sq = np.sum(g * g)
    v = sq if t == 1 else b2 * s['v'] + (1 - b2) * sq
    m = b1 * s['m'] + g / (np.sqrt(v) + eps) + wd * theta
    return then_lr(m, lr, rd), dict(m=m, v=v)
  return init, step


REFERENCE_CASES = {
    'adamax': (adamax_ref(), lambda lr: gradtx.adamax(lr)),
    'adamax_b1_0': (adamax_ref(b1=0.0, b2=0.9),
                    lambda lr: gradtx.adamax(lr, b1=0.0, b2=0.9)),
    'amsgrad': (amsgrad_ref(), lambda lr: gradtx.amsgrad(lr)),
    'amsgrad_paper': (amsgrad_ref(b2=0.9, debias=False), lambda lr: gradtx.amsgrad(
        lr, b2=0.9, bias_correction_mu=False, bias_correction_nu=False)),
    'radam': (radam_ref(), lambda lr: gradtx.radam(lr)),
    'radam_b2_0.9': (radam_ref(b2=0.9, threshold=6.5),
                     lambda lr: gradtx.radam(lr, b2=0.9, threshold=6.5)),
    'yogi': (yogi_ref(), lambda lr: gradtx.yogi(lr)),
    'yogi_fast': (yogi_ref(b2=0.9, eps=1e-6, v0=0.5),
                  lambda lr: gradtx.chain(gradtx.scale_by_yogi(
                      b2=0.9, eps=1e-6, initial_accumulator_value=0.5),
                                          gradtx.scale_by_learning_rate(lr))),
    'adabelief': (belief_ref(), lambda lr: gradtx.adabelief(lr)),
    'nadam': (nadam_ref(), lambda lr: gradtx.nadam(lr)),
    'novograd': (novograd_ref(wd=0.01),
                 lambda lr: gradtx.novograd(lr, weight_decay=0.01)),
}


@pytest.mark.parametrize('dtype', DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize('name', sorted(REFERENCE_CASES))
def test_matches_float64_reference(name, dtype):
  (init, step), make = REFERENCE_CASES[name]
  ref = run_reference(init, step, dtype)
  ours = run_gradtx(make(lr_jax), dtype)
  moved = max(np.max(np.abs(ours[k] - THETA0[k])) for k in ours)
  assert moved > 0.05, 'the test must move the params'
  assert_close(ours, ref, **tol(dtype))


def test_reference_catches_a_wrong_rule():
  """The comparison has teeth: Adam is not within tolerance of Adamax."""
  (init, step), _ = REFERENCE_CASES['adamax']
  ref = run_reference(init, step, jnp.float32)
  ours = run_gradtx(gradtx.adam(lr_jax), jnp.float32)
  with pytest.raises(AssertionError):
    assert_close(ours, ref, **tol(jnp.float32))


@pytest.mark.parametrize('b2,threshold', [(0.999, 5.0), (0.9, 6.5)])
def test_radam_runs_in_both_regimes(b2, threshold):
  """The 25-step reference runs cover un-rectified and rectified steps."""
  rect = [radam_rho(b2, t)[0] >= threshold for t in range(1, STEPS + 1)]
  assert not rect[0] and rect[-1]
  assert 3 <= rect.index(True) <= 15


def test_radam_unrectified_steps_are_momentum_sgd():
  opt = gradtx.scale_by_radam()  # ρₜ < 5 for t ≤ 5
  state = opt.init(jnp.zeros(3))
  m = np.zeros(3)
  for t in range(1, 6):
    g = np.random.RandomState(t).randn(3).astype(np.float32)
    u, state = opt.update(jnp.asarray(g), state)
    m = 0.9 * m + 0.1 * g
    np.testing.assert_allclose(u, m / (1 - 0.9**t), rtol=1e-6)
  g = np.ones(3, np.float32)
  u, state = opt.update(jnp.asarray(g), state)
  m = 0.9 * m + 0.1 * g
  assert not np.allclose(u, m / (1 - 0.9**6), rtol=1e-3)  # now rectified


@pytest.mark.parametrize('b2', [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999])
def test_radam_rectifier_is_accurate_in_float32(b2):
  """ρₜ and r agree with float64 at every step, where a naive float32
  evaluation of ρₜ = ρ∞ − 2t·b2ᵗ/(1 − b2ᵗ) loses three digits."""
  from gradtx.transforms.adam import _radam_rectifier  # pylint: disable=g-import-not-at-top
  steps = list(range(1, 300)) + [10**4, 10**6, 2**31 - 1]
  for t in steps:
    rectify, r = _radam_rectifier(b2, jnp.int32(t), 5.0)
    rho, rho_inf = radam_rho(b2, float(t))
    assert bool(rectify) == (rho >= 5.0), t
    if rho >= 5.0:
      want = np.sqrt((rho - 4) * (rho - 2) * rho_inf
                     / ((rho_inf - 4) * (rho_inf - 2) * rho))
      np.testing.assert_allclose(float(r), want, rtol=1e-6, err_msg=str(t))


def test_amsgrad_max_is_over_debiased_second_moment():
  """A large then a small gradient: ν̂ falls, the max keeps the old value."""
  opt = gradtx.scale_by_amsgrad(eps=0.0)
  state = opt.init(jnp.zeros(1))
  _, state = opt.update(jnp.array([4.0]), state)
  u, state = opt.update(jnp.array([1.0]), state)
  v_hat = (0.999 * 0.001 * 16 + 0.001) / (1 - 0.999**2)
  assert v_hat < 16.0
  # rtol: 1 − 0.999 in float32 is 0.99998713e-3 (see TOL).
  np.testing.assert_allclose(state.nu_max, [16.0], rtol=2e-5)
  m_hat = (0.9 * 0.4 + 0.1) / (1 - 0.81)
  np.testing.assert_allclose(u, [m_hat / 4.0], rtol=2e-5)


def test_moment_dtypes_are_kept():
  params = {'w': jnp.ones(3, jnp.bfloat16)}
  grads = {'w': jnp.full(3, 0.5, jnp.bfloat16)}
  makers = [
      lambda **k: gradtx.scale_by_adamax(**k),
      lambda **k: gradtx.scale_by_amsgrad(**k),
      lambda **k: gradtx.scale_by_belief(**k),
      lambda **k: gradtx.scale_by_radam(**k),
      lambda **k: gradtx.scale_by_yogi(**k),
      lambda **k: gradtx.scale_by_novograd(**k),
  ]
  for make in makers:
    tx = make(mu_dtype=jnp.float32, nu_dtype=jnp.float16)
    state = tx.init(params)
    for _ in range(3):
      u, state = tx.update(grads, state, params)
    assert u['w'].dtype == jnp.bfloat16
    assert state.mu['w'].dtype == jnp.float32
    assert state.nu['w'].dtype == jnp.float16
    if hasattr(state, 'nu_max'):
      assert state.nu_max['w'].dtype == jnp.float16


def test_novograd_second_moment_is_per_leaf():
  tx = gradtx.scale_by_novograd(eps=0.0)
  params = {'a': jnp.zeros((2, 2)), 'b': jnp.zeros(3)}
  g = {'a': jnp.full((2, 2), 2.0), 'b': jnp.array([0.0, 3.0, 4.0])}
  u, state = tx.update(g, tx.init(params), params)
  assert state.nu['a'].shape == () and state.nu['b'].shape == ()
  np.testing.assert_allclose(state.nu['a'], 16.0)
  np.testing.assert_allclose(u['b'], [0.0, 0.6, 0.8], rtol=1e-6)
  np.testing.assert_allclose(u['a'], jnp.full((2, 2), 0.5), rtol=1e-6)


def test_novograd_needs_params():
  tx = gradtx.scale_by_novograd()
  with pytest.raises(ValueError, match='params'):
    tx.update(jnp.ones(2), tx.init(jnp.ones(2)))


# ---------------------------------------------------------------------------
# PyTorch, where its semantics are the same as gradtx's.
# ---------------------------------------------------------------------------
try:
  import torch  # pylint: disable=g-import-not-at-top
except ImportError:  # pragma: no cover
  torch = None
needs_torch = pytest.mark.skipif(torch is None, reason='needs PyTorch')


def run_torch(make_opt, steps=STEPS):
  params = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True)
            for k, v in THETA0.items()}
  opt = make_opt(list(params.values()))
  for i in range(steps):
    g = grad_np({k: p.detach().numpy().astype(np.float64)
                 for k, p in params.items()}, i)
    for k, p in params.items():
      p.grad = torch.tensor(g[k], dtype=torch.float32)
    for group in opt.param_groups:
      group['lr'] = lr_np(i)
    opt.step()
  return {k: p.detach().numpy().astype(np.float64) for k, p in params.items()}


def _l2(weight_decay, opt):
  """PyTorch's ``weight_decay`` argument of Adam/Adamax/RAdam: ``g + λθ``."""
  return gradtx.chain(gradtx.add_decayed_weights(weight_decay), opt)


TORCH_CASES = {
    'adam': (lambda p: torch.optim.Adam(p, lr=1e-3),
             lambda lr: gradtx.adam(lr)),
    'adam_l2': (lambda p: torch.optim.Adam(p, lr=1e-3, weight_decay=0.1),
                lambda lr: _l2(0.1, gradtx.adam(lr))),
    'adamw': (lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=0.1),
              lambda lr: gradtx.adamw(lr, weight_decay=0.1)),
    'adamax': (lambda p: torch.optim.Adamax(p, lr=1e-3),
               lambda lr: gradtx.adamax(lr)),
    'adamax_l2': (lambda p: torch.optim.Adamax(p, lr=1e-3, weight_decay=0.05),
                  lambda lr: _l2(0.05, gradtx.adamax(lr))),
    # PyTorch adds eps to √v before debiasing (eps/√(1−b2ᵗ) here), so the two
    # RAdams agree exactly only for eps = 0.
    'radam_eps0': (lambda p: torch.optim.RAdam(p, lr=1e-3, eps=0.0),
                   lambda lr: gradtx.radam(lr, eps=0.0)),
    'radam_decoupled': (
        lambda p: torch.optim.RAdam(p, lr=1e-3, eps=0.0, weight_decay=0.1,
                                    decoupled_weight_decay=True),
        lambda lr: gradtx.chain(gradtx.scale_by_radam(eps=0.0),
                                gradtx.add_decayed_weights(0.1),
                                gradtx.scale_by_learning_rate(lr))),
}


@needs_torch
@pytest.mark.parametrize('name', sorted(TORCH_CASES))
def test_matches_pytorch(name):
  make_torch, make_ours = TORCH_CASES[name]
  theirs = run_torch(make_torch)
  ours = run_gradtx(make_ours(lr_jax), jnp.float32)
  moved = max(np.max(np.abs(ours[k] - THETA0[k])) for k in ours)
  assert moved > 0.05
  assert_close(ours, theirs, **tol(jnp.float32))  # PyTorch debiases in float64


@needs_torch
def test_radam_default_eps_is_close_to_pytorch():
  """With eps = 1e-8 the placements differ by eps·(1/√(1−b2ᵗ) − 1): tiny."""
  theirs = run_torch(lambda p: torch.optim.RAdam(p, lr=1e-3))
  ours = run_gradtx(gradtx.radam(lr_jax), jnp.float32)
  assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


@needs_torch
@pytest.mark.parametrize('ours,torch_opt', [
    (lambda lr: gradtx.nadam(lr), lambda p: torch.optim.NAdam(p, lr=1e-3)),
    (lambda lr: gradtx.amsgrad(lr),
     lambda p: torch.optim.Adam(p, lr=1e-3, amsgrad=True)),
], ids=['nadam', 'amsgrad'])
def test_documented_differences_from_pytorch(ours, torch_opt):
  """NAdam's μₜ schedule and AMSGrad's max over the raw v differ (docs)."""
  theirs = run_torch(torch_opt)
  mine = run_gradtx(ours(lr_jax), jnp.float32)
  with pytest.raises(AssertionError):
    assert_close(mine, theirs, **tol(jnp.float32))


# ---------------------------------------------------------------------------
# Bad hyperparameters are refused at construction, naming the argument.
# ---------------------------------------------------------------------------
BAD_INPUTS = [
    ('b1', lambda: gradtx.scale_by_adamax(b1=1.0)),
    ('b2', lambda: gradtx.adamax(0.1, b2=-0.1)),
    ('eps', lambda: gradtx.scale_by_adamax(eps=-1e-8)),
    ('learning_rate', lambda: gradtx.adamax(-0.1)),
    ('mu_dtype', lambda: gradtx.scale_by_adamax(mu_dtype='not-a-dtype')),
    ('nu_dtype', lambda: gradtx.scale_by_radam(nu_dtype='not-a-dtype')),
    ('weight_decay', lambda: gradtx.adamaxw(0.1, weight_decay=-1e-4)),
    ('b1', lambda: gradtx.amsgrad(0.1, b1=1.0)),
    ('eps_root', lambda: gradtx.scale_by_amsgrad(eps_root=-1.0)),
    ('learning_rate', lambda: gradtx.amsgrad(-1e-3)),
    ('b2', lambda: gradtx.scale_by_belief(b2=1.0)),
    ('eps', lambda: gradtx.adabelief(0.1, eps=-1.0)),
    ('b1', lambda: gradtx.radam(0.1, b1=float('nan'))),
    ('threshold', lambda: gradtx.radam(0.1, threshold=3.0)),
    ('learning_rate', lambda: gradtx.radam(-0.1)),
    ('b2', lambda: gradtx.yogi(0.1, b2=1.5)),
    ('initial_accumulator_value',
     lambda: gradtx.scale_by_yogi(initial_accumulator_value=-1.0)),
    ('eps', lambda: gradtx.yogi(0.1, eps=-1e-3)),
    ('b1', lambda: gradtx.nadam(0.1, b1=1.0)),
    ('learning_rate', lambda: gradtx.nadam(-0.1)),
    ('weight_decay', lambda: gradtx.nadamw(0.1, weight_decay=-1.0)),
    ('b2', lambda: gradtx.novograd(0.1, b2=1.0)),
    ('weight_decay', lambda: gradtx.scale_by_novograd(weight_decay=-0.1)),
    ('weight_decay', lambda: gradtx.novograd(0.1, weight_decay='big')),
    ('learning_rate', lambda: gradtx.novograd('fast')),
]


@pytest.mark.parametrize('arg,make', BAD_INPUTS,
                         ids=[f'{a}-{i}' for i, (a, _) in enumerate(BAD_INPUTS)])
def test_bad_hyperparameters_are_refused(arg, make):
  with pytest.raises(ValueError) as info:
    make()
  assert str(info.value).startswith(arg), str(info.value)


def test_schedules_are_not_range_checked_at_construction():
  gradtx.novograd(lambda t: -1.0, weight_decay=lambda t: 0.1)
  gradtx.adamaxw(lambda t: 0.1, weight_decay=lambda t: 0.0)
