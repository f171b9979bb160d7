"""Hand-derived tests of Adafactor (factored RMS) and SM3.

The references follow the papers' formulations in float64 NumPy: Adafactor's
``V̂ = R·Cᵀ / ΣR`` with row and column *sums* (Shazeer & Stern, alg. 4),
generalised to higher ranks by treating the other axes as batch axes; SM3-II's
per-row and per-column maxima of ``min(μ_row, μ_col) + g²`` (Anil et al.).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from tests.cases.sgd_rms_sign import lr_jax, lr_np

STEPS = 25


def _grads(shape, seed):
  rng = np.random.default_rng(seed)
  return [rng.normal(size=shape) * (1 + 0.1 * t) for t in range(STEPS)]


def _run(tx, params, grads):
  """Applies ``tx`` (a full optimizer) on given gradients; returns θ_t, u_t."""
  params = jnp.asarray(params, jnp.float32)
  state = tx.init(params)
  update = jax.jit(tx.update)
  thetas, updates = [], []
  for g in grads:
    u, state = update(jnp.asarray(g, jnp.float32), state, params)
    params = gradtx.apply_updates(params, u)
    thetas.append(np.asarray(params, np.float64))
    updates.append(np.asarray(u, np.float64))
  return thetas, updates, state


# ---------------------------------------------------------------------------
# Factored second moment.
# ---------------------------------------------------------------------------
def _two_largest_axes(shape):
  order = sorted(range(len(shape)), key=lambda i: (shape[i], i))
  return order[-2], order[-1]  # (r, c): r indexes rows, c columns


class FactoredNp:
  """Adafactor's second-moment estimate, written the way the paper does."""

  def __init__(self, shape, factored, offset=0, exponent=0.8, eps=1e-30):
    self.factored, self.offset, self.exponent, self.eps = (
        factored, offset, exponent, eps)
    self.t = 0
    if factored:
      self.r, self.c = _two_largest_axes(shape)
      moved = np.moveaxis(np.zeros(shape), (self.r, self.c), (-2, -1))
      self.row = np.zeros(moved.shape[:-1])       # sums over columns
      self.col = np.zeros(moved.shape[:-2] + moved.shape[-1:])  # over rows
    else:
      self.v = np.zeros(shape)

  def scale(self, g):
    rho = 1.0 - (self.t - self.offset + 1.0) ** (-self.exponent)
    self.t += 1
    sq = g * g + self.eps
    if not self.factored:
      self.v = rho * self.v + (1 - rho) * sq
      return g / np.sqrt(self.v)
    sq = np.moveaxis(sq, (self.r, self.c), (-2, -1))
    # Exponential averages of the row and column sums (paper, eqs. 4–5).
    self.row = rho * self.row + (1 - rho) * sq.sum(-1)
    self.col = rho * self.col + (1 - rho) * sq.sum(-2)
    v_hat = (self.row[..., :, None] * self.col[..., None, :]
             / self.row.sum(-1)[..., None, None])
    return g / np.moveaxis(np.sqrt(v_hat), (-2, -1), (self.r, self.c))


@pytest.mark.parametrize('shape,min_dim,factored', [
    ((4, 6), 2, True),      # factored, largest axis last
    ((6, 4), 2, True),      # factored, largest axis first
    ((5, 2, 3), 2, True),   # rank 3: a batch axis between the factored ones
    ((3, 4, 2), 3, True),   # rank 3 with the batch axis last
    ((4, 6), 5, True),      # 2nd largest axis too short: unfactored
    ((7,), 2, True),        # vectors are never factored
    ((4, 6), 2, False),     # factoring switched off
])
def test_scale_by_factored_rms_by_hand(shape, min_dim, factored):
  grads = _grads(shape, seed=sum(shape))
  tx = gradtx.chain(
      gradtx.scale_by_factored_rms(factored, min_dim_size_to_factor=min_dim),
      gradtx.scale_by_learning_rate(lr_jax))
  _, ours, state = _run(tx, np.zeros(shape), grads)
  is_factored = factored and len(shape) > 1 and sorted(shape)[-2] >= min_dim
  ref = FactoredNp(shape, is_factored)
  for t, g in enumerate(grads):
    np.testing.assert_allclose(ours[t], -lr_np(t) * ref.scale(g), rtol=2e-5,
                               err_msg=f'step {t}')
  size = lambda x: int(np.prod(x.shape))
  if is_factored:
    assert size(state[0].v) == 1
    assert size(state[0].v_row) + size(state[0].v_col) < np.prod(shape)
  else:
    assert state[0].v.shape == shape


def test_factored_estimate_is_exact_for_rank_one_squares():
  """If g² = a·bᵀ every step, the factored and full estimates coincide."""
  a, b = np.array([1.0, 4.0, 0.25]), np.array([2.0, 0.5, 1.0, 9.0])
  g = np.sqrt(np.outer(a, b)) * np.array([[1, -1, 1, 1]] * 3)
  full = gradtx.scale_by_factored_rms(factored=False)
  fact = gradtx.scale_by_factored_rms(min_dim_size_to_factor=3, epsilon=0.0)
  sf, sp = full.init(jnp.zeros((3, 4))), fact.init(jnp.zeros((3, 4)))
  for k in range(4):
    uf, sf = full.update(jnp.asarray(g * (k + 1), jnp.float32), sf)
    up, sp = fact.update(jnp.asarray(g * (k + 1), jnp.float32), sp)
    np.testing.assert_allclose(up, uf, rtol=1e-5)


def test_step_offset_restarts_the_decay_schedule():
  """Fine-tuning from step 10 with step_offset=10 decays as from step 0."""
  grads = _grads((3, 5), seed=1)
  tx = gradtx.scale_by_factored_rms(
      min_dim_size_to_factor=3, step_offset=10, decay_rate=0.5)
  state = tx.init(jnp.zeros((3, 5)))
  state = state._replace(count=jnp.asarray(10, jnp.int32))
  ref = FactoredNp((3, 5), True, exponent=0.5)
  for t, g in enumerate(grads[:8]):
    u, state = tx.update(jnp.asarray(g, jnp.float32), state)
    np.testing.assert_allclose(u, ref.scale(g), rtol=2e-5, err_msg=f'step {t}')


def test_custom_decay_rate_fn():
  constant = gradtx.scale_by_factored_rms(
      factored=False, decay_rate_fn=lambda step, rate: 0.5)
  s = constant.init(jnp.zeros(2))
  u, s = constant.update(jnp.array([2.0, 2.0]), s)
  u, s = constant.update(jnp.array([4.0, 4.0]), s)
  # v₁ = 0.5·4 (v₀ = 0), v₂ = 0.5·v₁ + 0.5·16.
  np.testing.assert_allclose(u, 4.0 / np.sqrt(0.5 * 2 + 0.5 * 16), rtol=1e-6)


def _adafactor_np(shape, grads, lr, clip, scale_param, momentum, wd, min_dim):
  theta = np.linspace(-1.0, 2.0, int(np.prod(shape))).reshape(shape)
  is_factored = len(shape) > 1 and sorted(shape)[-2] >= min_dim
  est = FactoredNp(shape, is_factored)
  m, out = np.zeros(shape), []
  for t, g in enumerate(grads):
    d = est.scale(g)
    if clip is not None:
      d = d / max(1.0, np.sqrt(np.mean(d * d)) / clip)
    if lr is not None:
      d = d * lr(t)
    if scale_param:
      d = d * max(np.sqrt(np.mean(theta * theta)), 1e-3)
    if momentum is not None:
      m = momentum * m + (1 - momentum) * d
      d = m
    if wd is not None:
      d = d + wd * theta
    theta = theta - d
    out.append(theta)
  return out


@pytest.mark.parametrize('lr,clip,scale_param,momentum,wd', [
    (True, 1.0, True, None, None),        # the defaults
    (True, 0.5, False, 0.9, 1e-2),
    (False, None, True, 0.5, None),       # no learning rate at all
])
def test_adafactor_by_hand(lr, clip, scale_param, momentum, wd):
  shape = (4, 5)
  grads = _grads(shape, seed=3)
  opt = gradtx.adafactor(
      lr_jax if lr else None, min_dim_size_to_factor=3,
      multiply_by_parameter_scale=scale_param, clipping_threshold=clip,
      momentum=momentum, weight_decay_rate=wd)
  theta0 = np.linspace(-1.0, 2.0, 20).reshape(shape)
  ours, _, state = _run(opt, theta0, grads)
  ref = _adafactor_np(shape, grads, lr_np if lr else None, clip, scale_param,
                      momentum, wd, 3)
  for t in range(STEPS):
    np.testing.assert_allclose(ours[t], ref[t], rtol=2e-5, atol=2e-6,
                               err_msg=f'step {t}')


def test_adafactor_momentum_dtype():
  opt = gradtx.adafactor(0.1, momentum=0.9, dtype_momentum=jnp.bfloat16)
  state = opt.init(jnp.zeros((2, 3)))
  emas = [s for s in state if isinstance(s, gradtx.EmaState)]
  assert emas and emas[0].ema.dtype == jnp.bfloat16


# ---------------------------------------------------------------------------
# SM3.
# ---------------------------------------------------------------------------
def _sm3_np(shape, grads, b1, b2, eps, lr):
  k = 1.0 if b2 == 1.0 else 1.0 - b2
  if len(shape) >= 2:
    covers = [np.zeros(n) for n in shape]
  else:
    acc = np.zeros(shape)
  m, out = np.zeros(shape), []
  for t, g in enumerate(grads):
    if len(shape) >= 2:
      # ν(i) = min over the covers S_r ∋ i of μ(r), then + g².
      grids = np.meshgrid(*covers, indexing='ij')
      nu = k * g * g + b2 * np.minimum.reduce(grids)
      # μ(r) = max over i ∈ S_r of ν(i): for axis a, fix index j along a.
      covers = [
          np.array([np.max(np.take(nu, j, axis=a)) for j in range(n)])
          for a, n in enumerate(shape)
      ]
    else:
      acc = nu = k * g * g + b2 * acc
    scaled = np.where(nu > 0, g / np.sqrt(nu + eps), 0.0)
    m = b1 * m + (1 - b1) * scaled
    out.append(-lr(t) * m)
  return out


@pytest.mark.parametrize('shape', [(3, 4), (2, 3, 4), (5,), ()])
@pytest.mark.parametrize('b1,b2,eps', [(0.9, 1.0, 1e-8), (0.0, 0.8, 1e-3)])
def test_sm3_by_hand(shape, b1, b2, eps):
  grads = _grads(shape, seed=7)
  grads[3] = grads[3] * 0  # a zero gradient: 0/0 must give 0
  tx = gradtx.chain(gradtx.scale_by_sm3(b1, b2, eps),
                    gradtx.scale_by_learning_rate(lr_jax))
  _, ours, state = _run(tx, np.zeros(shape), grads)
  ref = _sm3_np(shape, grads, b1, b2, eps, lr_np)
  for t in range(STEPS):
    np.testing.assert_allclose(ours[t], ref[t], rtol=2e-5, atol=1e-7,
                               err_msg=f'step {t}')
  if len(shape) >= 2:
    assert [m.shape for m in state[0].mu] == [(n,) for n in shape]


def test_sm3_alias_and_memory():
  grads = _grads((3, 4), seed=8)
  _, ours, state = _run(gradtx.sm3(lr_jax, momentum=0.5), np.zeros((3, 4)), grads)
  ref = _sm3_np((3, 4), grads, 0.5, 1.0, 1e-8, lr_np)
  np.testing.assert_allclose(ours[-1], ref[-1], rtol=2e-5)
  assert sum(m.size for m in state[0].mu) == 3 + 4


def test_sm3_rejects_complex_params():
  with pytest.raises(ValueError, match='complex'):
    gradtx.scale_by_sm3().init(jnp.zeros(2, jnp.complex64))


@pytest.mark.parametrize('dtype', [jnp.bfloat16, jnp.float16])
def test_low_precision_state_stays_put(dtype):
  p = jnp.ones((3, 4), dtype)
  for opt in (gradtx.sm3(0.1), gradtx.adafactor(0.1, min_dim_size_to_factor=2)):
    state = opt.init(p)
    shapes = jax.tree.map(lambda x: (x.dtype, x.shape), state)
    u, state = jax.jit(opt.update)(jnp.full((3, 4), 0.5, dtype), state, p)
    assert u.dtype == dtype
    assert jax.tree.map(lambda x: (x.dtype, x.shape), state) == shapes
    assert bool(jnp.all(jnp.isfinite(u.astype(jnp.float32))))


# ---------------------------------------------------------------------------
# Bad inputs.
# ---------------------------------------------------------------------------
BAD = [
    ('learning_rate', lambda: gradtx.adafactor(-1.0)),
    ('min_dim_size_to_factor', lambda: gradtx.adafactor(min_dim_size_to_factor=2.5)),
    ('decay_rate', lambda: gradtx.adafactor(decay_rate=-0.8)),
    ('decay_offset', lambda: gradtx.adafactor(decay_offset=-1)),
    ('step_offset', lambda: gradtx.scale_by_factored_rms(step_offset=-1)),
    ('clipping_threshold', lambda: gradtx.adafactor(clipping_threshold=0.0)),
    ('momentum', lambda: gradtx.adafactor(momentum=1.5)),
    ('dtype_momentum', lambda: gradtx.adafactor(momentum=0.9, dtype_momentum='nope')),
    ('weight_decay_rate', lambda: gradtx.adafactor(weight_decay_rate=-0.1)),
    ('eps', lambda: gradtx.adafactor(eps=-1e-30)),
    ('epsilon', lambda: gradtx.scale_by_factored_rms(epsilon=-1.0)),
    ('decay_rate_fn', lambda: gradtx.scale_by_factored_rms(decay_rate_fn=0.8)),
    ('learning_rate', lambda: gradtx.sm3(-0.1)),
    ('momentum', lambda: gradtx.sm3(0.1, momentum=2.0)),
    ('b2', lambda: gradtx.scale_by_sm3(b2=0.0)),
    ('b2', lambda: gradtx.scale_by_sm3(b2=1.5)),
    ('eps', lambda: gradtx.scale_by_sm3(eps=-1.0)),
]


@pytest.mark.parametrize('name,make', BAD, ids=[f'{n}-{i}' for i, (n, _) in enumerate(BAD)])
def test_bad_arguments_raise_value_error_naming_them(name, make):
  with pytest.raises(ValueError, match=name):
    make()
