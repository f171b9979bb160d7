"""Hand-derived tests of gradtx.contrib, part B.

Each optimizer runs next to an independent float64 numpy implementation of
its published rule, on a quadratic whose gradient and Hessian are known in
closed form, with a changing learning rate. ``momo``/``momo_adam``/``sophia``
(whose ``update`` takes the loss or the objective) are compared with Optax
0.2.8 here, since the battery cannot pass those arguments. bfloat16/float16
params keep their dtype and follow the float32 run.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
from gradtx import contrib
from gradtx.transforms.dog import scale_by_distance_over_gradients

SHAPES = {'a': (4,), 'b': (2, 3)}
_rng = np.random.RandomState(0)
THETA0 = {k: _rng.randn(*s) for k, s in SHAPES.items()}
TARGET = {k: _rng.randn(*s) for k, s in SHAPES.items()}
CURV = {k: 0.5 + 2.0 * _rng.rand(*s) for k, s in SHAPES.items()}
STEPS = 20


def lr_np(t):
  return 0.05 * (1.0 + t) / (1.0 + 0.05 * t * t)


def lr_jax(count):
  t = jnp.asarray(count, jnp.float32)
  return 0.05 * (1.0 + t) / (1.0 + 0.05 * t * t)


def loss_jax(p):
  return sum(jnp.sum(0.5 * jnp.asarray(CURV[k], jnp.float32)
                     * (p[k].astype(jnp.float32) - TARGET[k]) ** 2)
             for k in SHAPES)


def grad_np(theta):
  return {k: CURV[k] * (theta[k] - TARGET[k]) for k in SHAPES}


def loss_np(theta):
  return sum(np.sum(0.5 * CURV[k] * (theta[k] - TARGET[k]) ** 2)
             for k in SHAPES)


def run(opt, steps=STEPS, dtype=jnp.float32, extra=None, init_dtype=None):
  """Runs ``opt`` under jit; ``extra(params, loss)`` gives update's keywords.

  ``init_dtype`` rounds the initial params to that dtype first.
  """
  params = {k: jnp.asarray(v, init_dtype or dtype).astype(dtype)
            for k, v in THETA0.items()}
  state = opt.init(params)

  @jax.jit
  def step(params, state):
    loss, g = jax.value_and_grad(loss_jax)(params)
    g = jax.tree.map(lambda x, p: x.astype(p.dtype), g, params)
    kw = extra(params, loss) if extra else {}
    u, state = opt.update(g, state, params, **kw)
    return gradtx.apply_updates(params, u), state

  for _ in range(steps):
    params, state = step(params, state)
  return params, state


def run_ref(step, state, steps=STEPS):
  theta = {k: v.copy() for k, v in THETA0.items()}
  for t in range(steps):
    theta, state = step(theta, grad_np(theta), t, state)
  return theta


def assert_close(ours, ref, rtol=2e-4, atol=2e-5):
  for k in SHAPES:
    np.testing.assert_allclose(np.asarray(ours[k], np.float64), ref[k],
                               rtol=rtol, atol=atol)
  moved = max(np.max(np.abs(ref[k] - THETA0[k])) for k in SHAPES)
  assert moved > 1e-2, 'the test must move the params'


def gnorm2(tree):
  return sum(np.sum(np.asarray(v) ** 2) for v in tree.values())


def vdot(x, y):
  return sum(np.sum(x[k] * y[k]) for k in SHAPES)


# ---------------------------------------------------------------------------
# Hand-derived references.
# ---------------------------------------------------------------------------
def test_cocob_matches_algorithm_2():
  alpha, wd = 20.0, 1e-2

  def step(theta, g, t, s):
    x0, L, G, R, C = s
    new = {}
    for k in SHAPES:
      gk = lr_np(t) * (g[k] + wd * theta[k])
      L[k] = np.maximum(L[k], np.abs(gk))
      G[k] = G[k] + np.abs(gk)
      R[k] = np.maximum(R[k] - gk * (theta[k] - x0[k]), 0.0)
      C[k] = C[k] - gk
      new[k] = x0[k] + C[k] / (L[k] * np.maximum(G[k] + L[k], alpha * L[k])) * (
          L[k] + R[k])
    return new, s

  zeros = lambda: {k: np.zeros(s) for k, s in SHAPES.items()}
  s0 = (THETA0, {k: np.full(s, 1e-8) for k, s in SHAPES.items()}, zeros(),
        zeros(), zeros())
  ours, _ = run(contrib.cocob(lr_jax, alpha=alpha, weight_decay=wd))
  assert_close(ours, run_ref(step, s0))


@pytest.mark.parametrize('init_step', [('heuristic', 1e-2), ('distance', 0.3),
                                       ('learning_rate', 0.05)])
def test_dog_matches_paper(init_step):
  tag, value = init_step
  eps = 1e-8

  def step(theta, g, t, s):
    first, rbar, gsum = s
    dist = np.sqrt(gnorm2({k: theta[k] - THETA0[k] for k in SHAPES}))
    rbar = max(rbar, dist)
    gsum += gnorm2(g)
    eta = rbar / np.sqrt(gsum + eps)
    if tag == 'learning_rate' and first:
      eta = value
    return {k: theta[k] - 10 * lr_np(t) * eta * g[k] for k in SHAPES}, (
        False, rbar, gsum)

  r0 = {'heuristic': value * (1 + np.sqrt(gnorm2(THETA0))),
        'distance': value, 'learning_rate': 0.0}[tag]
  ours, state = run(contrib.dog(lambda c: 10 * lr_jax(c), init_step=init_step))
  assert_close(ours, run_ref(step, (True, r0, 0.0)))
  assert state[1].max_dist.dtype == jnp.float32


def test_dowg_matches_paper():
  eps, r2_0 = 1e-4, 0.05

  def step(theta, g, t, s):
    r2, v = s
    r2 = max(r2, gnorm2({k: theta[k] - THETA0[k] for k in SHAPES}))
    v += r2 * gnorm2(g)
    eta = r2 / (np.sqrt(v) + eps)
    return {k: theta[k] - 10 * lr_np(t) * eta * g[k] for k in SHAPES}, (r2, v)

  ours, _ = run(contrib.dowg(lambda c: 10 * lr_jax(c), init_estim_sq_dist=r2_0,
                             eps=eps))
  assert_close(ours, run_ref(step, (r2_0, 0.0)))


def test_layerwise_dog_is_per_leaf():
  reps, eps = 1e-3, 1e-8

  def step(theta, g, t, s):
    rbar, gsum = s
    new = {}
    for k in SHAPES:
      rbar[k] = max(rbar[k], np.sqrt(np.sum((theta[k] - THETA0[k]) ** 2)))
      gsum[k] += np.sum(g[k] ** 2)
      new[k] = theta[k] - 10 * lr_np(t) * rbar[k] / np.sqrt(gsum[k] + eps) * g[k]
    return new, s

  r0 = {k: reps * (1 + np.sqrt(np.sum(v ** 2))) for k, v in THETA0.items()}
  opt = gradtx.chain(scale_by_distance_over_gradients(reps_rel=reps),
                     gradtx.scale_by_learning_rate(lambda c: 10 * lr_jax(c)))
  ours, state = run(opt)
  assert_close(ours, run_ref(step, (r0, {k: 0.0 for k in SHAPES})))
  assert state[0].grad_sum_of_squares['a'].shape == (1,)


def test_ldog_keeps_scalar_leaves_scalar():
  tx = scale_by_distance_over_gradients()
  p = {'s': jnp.array(2.0), 'v': jnp.ones(3)}
  u, _ = tx.update(p, tx.init(p), p)
  assert u['s'].shape == () and u['v'].shape == (3,)


def test_mechanize_matches_paper_algorithm():
  # A larger s_init than the default 1e-6 keeps the run short: from 1e-6 the
  # scales grow geometrically for ~40 steps, and float32 rounding in that
  # phase is amplified (gradtx and Optax agree to the last bit, both differ
  # from float64 by ~1% after 60 steps).
  wd, eps, s_init, nb = 1e-2, 1e-8, 1e-2, 4
  betas = np.array([1 - 0.1 ** j for j in range(1, nb + 1)])

  def step(theta, g, t, s):
    r, m, v, sv = s
    delta_base = {k: -lr_np(t) * g[k] for k in SHAPES}  # sgd's update
    S = sv.sum()
    gn, pn = np.sqrt(gnorm2(g)), np.sqrt(gnorm2(theta))
    gt = {k: g[k] + wd * S * gn / (pn + eps) * theta[k] for k in SHAPES}
    dprev = {k: (THETA0[k] - theta[k]) / (S + eps) for k in SHAPES}
    h = vdot(gt, dprev)
    clipped = np.clip(h, -m, m)
    m = np.maximum(betas * m, abs(h) + eps)
    v = betas ** 2 * v + h ** 2
    r = betas * r + clipped * sv
    sv = (s_init / nb * m + np.maximum(r, 0)) / (np.sqrt(v) + eps)
    new = {k: THETA0[k] - sv.sum() * (dprev[k] - delta_base[k]) for k in SHAPES}
    return new, (r, m, v, sv)

  z = np.zeros(nb)
  ours, state = run(contrib.mechanize(gradtx.sgd(lr_jax), num_betas=nb,
                                      s_init=s_init), steps=20)
  ref = run_ref(step, (z, z, z, np.full(nb, s_init)), steps=20)
  assert_close(ours, ref, rtol=2e-5, atol=2e-5)
  assert int(state.count) == 20


def _momo_ref(adam, beta_or_b1, b2=0.999, eps=1e-8, wd=0.0, adapt=False,
              lb0=0.0):
  def step(theta, g, t, s):
    d, v, fbar, gamma, lb = s
    f = loss_np(theta)
    alpha = lr_np(t)
    b = beta_or_b1 if (adam or t > 0) else 0.0
    fbar = b * fbar + (1 - b) * f
    d = {k: b * d[k] + (1 - b) * g[k] for k in SHAPES}
    gamma = b * gamma + (1 - b) * vdot(g, theta)
    if adam:
      c1, c2 = 1 - beta_or_b1 ** (t + 1), 1 - b2 ** (t + 1)
      v = {k: b2 * v[k] + (1 - b2) * g[k] ** 2 for k in SHAPES}
      D = {k: eps + np.sqrt(v[k] / c2) for k in SHAPES}
    else:
      c1, D = 1.0, {k: 1.0 for k in SHAPES}
    dw = {k: d[k] / D[k] for k in SHAPES}
    dnorm = vdot(d, dw)
    iprod = vdot(d, theta)
    dec = 1 + alpha * wd
    if adapt:
      cap = dec * (fbar - gamma) + iprod
      if cap < dec * c1 * lb:
        lb = max(cap / (2 * c1 * dec), lb0)
    t1 = max(dec * (fbar - c1 * lb - gamma) + iprod, 0.0) / dnorm
    tau = min(alpha / c1, t1)
    new = {k: theta[k] - alpha * wd / dec * theta[k] - tau * dw[k]
           for k in SHAPES}
    if adapt:
      lb = max((fbar + iprod - gamma - 0.5 * tau * dnorm) / c1, lb0)
    return new, (d, v, fbar, gamma, lb)

  zeros = {k: np.zeros(s) for k, s in SHAPES.items()}
  return step, (zeros, zeros, 0.0, 0.0, lb0)


_value = lambda params, loss: {'value': loss}


@pytest.mark.parametrize('adapt', [False, True])
def test_momo_matches_paper(adapt):
  step, s0 = _momo_ref(False, 0.9, wd=1e-2, adapt=adapt, lb0=-1.0)
  ours, _ = run(contrib.momo(lr_jax, weight_decay=1e-2, lower_bound=-1.0,
                             adapt_lower_bound=adapt), extra=_value)
  assert_close(ours, run_ref(step, s0), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize('adapt', [False, True])
def test_momo_adam_matches_paper(adapt):
  step, s0 = _momo_ref(True, 0.9, wd=1e-2, adapt=adapt)
  ours, _ = run(contrib.momo_adam(lr_jax, weight_decay=1e-2,
                                  adapt_lower_bound=adapt), extra=_value)
  assert_close(ours, run_ref(step, s0), rtol=1e-3, atol=1e-4)


def test_acprop_matches_paper():
  b1, b2, eps, eps_root = 0.9, 0.99, 1e-8, 1e-12

  def step(theta, g, t, s):
    m, v = s
    vhat = {k: (v[k] / (1 - b2 ** t) if t else 1.0) for k in SHAPES}
    new = {k: theta[k] - lr_np(t) * g[k] / (np.sqrt(vhat[k]) + eps)
           for k in SHAPES}
    v = {k: b2 * v[k] + (1 - b2) * (g[k] - m[k]) ** 2 + eps_root
         for k in SHAPES}
    m = {k: b1 * m[k] + (1 - b1) * g[k] for k in SHAPES}
    return new, (m, v)

  zeros = {k: np.zeros(s) for k, s in SHAPES.items()}
  ours, _ = run(contrib.acprop(lr_jax, b1, b2, eps, eps_root))
  assert_close(ours, run_ref(step, (zeros, zeros)))


def test_sophia_with_exact_hessian_diagonal():
  """On a separable quadratic Hutchinson's estimate is exact: z·(H z) = diag H."""
  b1, b2, gamma, clip, k_int = 0.9, 0.9, 0.5, 0.8, 3

  def step(theta, g, t, s):
    m, h = s
    m = {k: b1 * m[k] + (1 - b1) * g[k] for k in SHAPES}
    u = {k: np.clip(m[k] / (1 - b1 ** (t + 1)) / np.maximum(gamma * h[k], 1e-8),
                    -clip, clip) for k in SHAPES}
    if t % k_int == 0:
      h = {k: b2 * h[k] + (1 - b2) * CURV[k] for k in SHAPES}
    return {k: theta[k] - lr_np(t) * (u[k] + 1e-3 * theta[k])
            for k in SHAPES}, (m, h)

  zeros = {k: np.zeros(s) for k, s in SHAPES.items()}
  opt = contrib.sophia(lr_jax, b1=b1, b2=b2, gamma=gamma, clip_threshold=clip,
                       update_interval=k_int, weight_decay=1e-3)
  ours, _ = run(opt, extra=lambda p, loss: {'obj_fn': loss_jax})
  assert_close(ours, run_ref(step, (zeros, zeros)))


def test_hutchinson_is_unbiased_on_a_coupled_hessian():
  A = jnp.array([[2.0, 0.7, 0.0], [0.7, 1.0, -0.4], [0.0, -0.4, 3.0]])
  f = lambda p: 0.5 * p['x'] @ A @ p['x']
  tx = contrib.hutchinson_estimator_diag_hessian(jax.random.PRNGKey(4))
  params = {'x': jnp.ones(3)}

  def body(state, _):
    est, state = tx.update(params, state, params, obj_fn=f)
    return state, est['x']

  _, ests = jax.lax.scan(body, tx.init(params), None, length=4000)
  np.testing.assert_allclose(ests.mean(0), jnp.diag(A), atol=0.05)
  assert float(ests.std(0)[0]) > 0.5  # single draws are noisy: z₁z₂·A₁₂


@pytest.mark.parametrize('gap', [1, 100])
def test_galore_projects_onto_top_singular_vectors(gap):
  """With an identity base optimizer, GaLore's update is P·Pᵀ·G (or G·P·Pᵀ)
  with P the top-r singular vectors of the gradient at the last refresh."""
  rng = np.random.RandomState(1)
  shapes = {'tall': (6, 3), 'wide': (2, 5), 'vec': (4,)}
  grads = [{k: rng.randn(*s) for k, s in shapes.items()} for _ in range(3)]
  tx = contrib.scale_by_galore(rank=2, update_proj_gap=gap, scale=0.5,
                               base_optimizer=gradtx.identity())
  state = tx.init({k: jnp.zeros(s) for k, s in shapes.items()})
  basis = {}
  for t, g in enumerate(grads):
    u, state = tx.update(jax.tree.map(jnp.asarray, g), state)
    if t % gap == 0:
      basis = {k: np.linalg.svd(g[k]) for k in ('tall', 'wide')}
    uu, _, _ = basis['tall']
    np.testing.assert_allclose(
        u['tall'], 0.5 * uu[:, :2] @ uu[:, :2].T @ g['tall'], atol=1e-5)
    _, _, vh = basis['wide']
    np.testing.assert_allclose(
        u['wide'], 0.5 * g['wide'] @ vh[:2].T @ vh[:2], atol=1e-5)
    np.testing.assert_allclose(u['vec'], g['vec'], atol=1e-6)  # not projected
  assert state.projector['tall'].shape == (6, 2)
  assert state.projector['wide'].shape == (5, 2)


def test_galore_dimension_numbers_for_3d_weights():
  """(embed, heads, head_dim) projected as embed × (heads·head_dim)."""
  rng = np.random.RandomState(2)
  g = rng.randn(3, 2, 4)
  dn = contrib.GaLoreDimensionNumbers(reduction_axis=0, output_axis=(1, 2))
  tx = contrib.scale_by_galore(rank=1, base_optimizer=gradtx.identity(),
                               weight_dimension_numbers={'w': dn})
  u, s = tx.update({'w': jnp.asarray(g)}, tx.init({'w': jnp.zeros((3, 2, 4))}))
  _, _, vh = np.linalg.svd(g.reshape(3, 8))
  np.testing.assert_allclose(u['w'], (g.reshape(3, 8) @ vh[:1].T @ vh[:1])
                             .reshape(3, 2, 4), atol=1e-5)
  assert s.projector['w'].shape == (8, 1)
  with pytest.raises(ValueError, match='disjoint'):
    bad = contrib.scale_by_galore(weight_dimension_numbers={
        'w': contrib.GaLoreDimensionNumbers(0, (0, 1))})
    bad.init({'w': jnp.zeros((3, 2, 4))})


def test_dp_aggregate_clips_sums_and_adds_calibrated_noise():
  g = {'w': jnp.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]]),
       'b': jnp.array([[0.0], [1.2], [0.0]])}
  tx = contrib.differentially_private_aggregate(1.0, 0.0, key=0)
  u, _ = tx.update(g, tx.init(None))
  # norms 5, 1.3, 0 → factors 0.2, 1/1.3, 1; then / 3.
  np.testing.assert_allclose(u['w'], (np.array([0.6, 0.8]) + np.array(
      [0.3, 0.4]) / 1.3) / 3, rtol=1e-6)
  np.testing.assert_allclose(u['b'], [1.2 / 1.3 / 3], rtol=1e-6)
  # The noise: std C·σ/B per coordinate, fresh at each step.
  big = {'w': jnp.zeros((2, 5000))}
  tx = contrib.differentially_private_aggregate(2.0, 1.5, key=1)
  u1, s = tx.update(big, tx.init(None))
  u2, _ = tx.update(big, s)
  np.testing.assert_allclose(np.std(u1['w']), 2.0 * 1.5 / 2, rtol=0.05)
  assert abs(float(np.mean(u1['w']))) < 0.05
  assert not np.allclose(u1['w'], u2['w'])


def test_normalize_and_split_real_and_imaginary():
  tx = contrib.normalize()
  u, _ = tx.update({'a': jnp.array([1.0, 2.0]), 'b': jnp.array([[2.0]])},
                   tx.init(None))
  np.testing.assert_allclose(u['a'], [1 / 3, 2 / 3], rtol=1e-6)
  np.testing.assert_allclose(u['b'], [[2 / 3]], rtol=1e-6)
  # Adam's first step is sign(g); on split parts, sign of each part.
  opt = contrib.split_real_and_imaginary(gradtx.adam(0.1))
  z = {'z': jnp.array([1.0 + 1.0j, -2.0 + 0.5j]), 'r': jnp.array([3.0])}
  g = {'z': jnp.array([3.0 - 0.01j, -0.2 + 5.0j]), 'r': jnp.array([-1.0])}
  u, state = opt.update(g, opt.init(z), z)
  np.testing.assert_allclose(u['z'], [-0.1 + 0.1j, 0.1 - 0.1j], rtol=1e-5)
  np.testing.assert_allclose(u['r'], [0.1], rtol=1e-5)
  assert u['z'].dtype == jnp.complex64
  assert state.inner_state[0].mu['z'].real.dtype == jnp.float32


# ---------------------------------------------------------------------------
# Optax parity where the battery cannot reach (loss / objective arguments).
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('name,kw', [
    ('momo', dict(weight_decay=1e-2)),
    ('momo', dict(adapt_lower_bound=True, lower_bound=-2.0)),
    ('momo_adam', dict(weight_decay=1e-2, adapt_lower_bound=True)),
])
def test_momo_matches_optax_over_100_steps(name, kw):
  ours, _ = run(getattr(contrib, name)(lr_jax, **kw), steps=100, extra=_value)
  theirs, _ = run(getattr(optax.contrib, name)(lr_jax, **kw), steps=100,
                  extra=_value)
  for k in SHAPES:
    np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-5, atol=1e-6)
    assert np.max(np.abs(np.asarray(ours[k]) - THETA0[k])) > 1e-2


def test_sophia_matches_optax_over_100_steps():
  """Same key, same Rademacher draws: parity of the full Sophia-H."""
  f = lambda p: loss_jax(p) + 0.1 * sum(
      jnp.sum(jnp.sin(2 * x) * x ** 2) for x in p.values())
  extra = lambda p, loss: {'obj_fn': f}
  kw = dict(update_interval=3, gamma=0.05, weight_decay=1e-3)
  ours, _ = run(contrib.sophia(lr_jax, **kw), steps=100, extra=extra)
  theirs, _ = run(optax.contrib.sophia(lr_jax, **kw), steps=100, extra=extra)
  for k in SHAPES:
    np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('make,extra', [
    (lambda: contrib.momo_adam(0.1), _value),
    (lambda: contrib.sophia(0.1, update_interval=2),
     lambda p, loss: {'obj_fn': loss_jax}),
], ids=['momo_adam', 'sophia'])
def test_extra_arg_optimizers_jit_once_and_keep_dtypes(make, extra):
  opt = make()
  params = {k: jnp.asarray(v, jnp.bfloat16) for k, v in THETA0.items()}
  state0 = state = opt.init(params)
  update = jax.jit(lambda g, s, p: opt.update(g, s, p, **extra(p, 1.0)))
  for _ in range(3):
    g = jax.tree.map(lambda x: x.astype(jnp.bfloat16), jax.grad(loss_jax)(params))
    u, state = update(g, state, params)
    params = gradtx.apply_updates(params, u)
  assert update._cache_size() == 1  # pylint: disable=protected-access
  sig = lambda t: jax.tree.map(lambda x: (x.dtype, x.shape), t)
  assert sig(state) == sig(state0)
  assert all(p.dtype == jnp.bfloat16 for p in jax.tree.leaves(params))
  with pytest.raises(TypeError, match='structure'):
    opt.update({'a': g['a']}, state, {'a': params['a']}, **extra(params, 1.0))


def test_missing_loss_or_objective_is_a_clear_error():
  p = jnp.ones(2)
  for opt in (contrib.momo(), contrib.momo_adam()):
    with pytest.raises(ValueError, match='value=loss'):
      opt.update(p, opt.init(p), p)
  opt = contrib.sophia(0.1)
  with pytest.raises(ValueError, match='obj_fn'):
    opt.update(p, opt.init(p), p)
  with pytest.raises(ValueError, match='needs the params'):
    contrib.cocob().update(p, contrib.cocob().init(p))


# ---------------------------------------------------------------------------
# Low-precision params.
# ---------------------------------------------------------------------------
LOW_PRECISION = {
    'cocob': (lambda: contrib.cocob(), None),
    'dog': (lambda: contrib.dog(init_step=('distance', 0.1)), None),
    # From the default r̄² = 1e-4 DoWG's first steps grow geometrically and
    # bfloat16 rounding of θ − θ₀ changes them by ~20% (Optax's too).
    'dowg': (lambda: contrib.dowg(init_estim_sq_dist=0.1), None),
    'ldog': (lambda: gradtx.chain(scale_by_distance_over_gradients(1e-2),
                                  gradtx.scale_by_learning_rate(1.0)), None),
    'mechanize': (lambda: contrib.mechanize(gradtx.adam(0.1)), None),
    'momo': (lambda: contrib.momo(0.5), _value),
    'momo_adam': (lambda: contrib.momo_adam(0.1), _value),
    'acprop': (lambda: contrib.acprop(0.05, eps=1e-8), None),
    'sophia': (lambda: contrib.sophia(0.05),
               lambda p, loss: {'obj_fn': loss_jax}),
    'galore': (lambda: contrib.galore(0.05, rank=1), None),
    'normalize': (lambda: gradtx.chain(contrib.normalize(), gradtx.sgd(0.1)),
                  None),
}


@pytest.mark.parametrize('dtype', [jnp.bfloat16, jnp.float16],
                         ids=['bf16', 'f16'])
@pytest.mark.parametrize('name', sorted(LOW_PRECISION))
def test_low_precision_params_follow_float32(name, dtype):
  make, extra = LOW_PRECISION[name]
  ref, _ = run(make(), steps=8, extra=extra, init_dtype=dtype)
  low, state = run(make(), steps=8, dtype=dtype, extra=extra)
  for k in SHAPES:
    assert low[k].dtype == dtype
    assert bool(jnp.all(jnp.isfinite(low[k].astype(jnp.float32))))
    np.testing.assert_allclose(low[k].astype(jnp.float32), ref[k],
                               atol=0.08, rtol=0.05)
  assert not any(x.dtype == jnp.float64 for x in jax.tree.leaves(state)
                 if hasattr(x, 'dtype'))


def test_dp_aggregate_keeps_bfloat16():
  g = {'w': jnp.ones((3, 4), jnp.bfloat16)}
  tx = contrib.dpsgd(0.1, 1.0, 0.5, seed=0, momentum=0.9)
  u, state = tx.update(g, tx.init({'w': jnp.ones(4, jnp.bfloat16)}),
                       {'w': jnp.ones(4, jnp.bfloat16)})
  assert u['w'].dtype == jnp.bfloat16
  assert state[1].trace['w'].dtype == jnp.bfloat16


# ---------------------------------------------------------------------------
# Validation.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('build,match', [
    (lambda: contrib.cocob(alpha=0.0), 'alpha'),
    (lambda: contrib.cocob(eps=-1.0), 'eps'),
    (lambda: contrib.dog(init_step=('nope', 1.0)), 'init_step'),
    (lambda: contrib.dog(init_step=('distance', -1.0)), 'init_step'),
    (lambda: contrib.dog(weight_decay=-1.0), 'weight_decay'),
    (lambda: contrib.dowg(init_estim_sq_dist=-1.0), 'init_estim_sq_dist'),
    (lambda: scale_by_distance_over_gradients(reps_rel=0.0), 'reps_rel'),
    (lambda: contrib.mechanize(gradtx.sgd(1.0), num_betas=0), 'num_betas'),
    (lambda: contrib.mechanize(gradtx.sgd(1.0), s_init=0.0), 's_init'),
    (lambda: contrib.momo(beta=1.0), 'beta'),
    (lambda: contrib.momo_adam(b2=1.5), 'b2'),
    (lambda: contrib.momo(learning_rate=-1.0), 'learning_rate'),
    (lambda: contrib.acprop(0.1, b1=-0.1), 'b1'),
    (lambda: contrib.sophia(0.1, update_interval=0), 'update_interval'),
    (lambda: contrib.sophia(0.1, clip_threshold=0.0), 'clip_threshold'),
    (lambda: contrib.sophia(0.1, verbose=True), 'print_win_rate'),
    (lambda: contrib.galore(0.1, rank=0), 'rank'),
    (lambda: contrib.galore(0.1, update_proj_gap=0), 'update_proj_gap'),
    (lambda: contrib.dpsgd(0.1, -1.0, 1.0, seed=0), 'l2_norm_clip'),
    (lambda: contrib.differentially_private_aggregate(1.0, -1.0, key=0),
     'noise_multiplier'),
])
def test_bad_hyperparameters_name_the_argument(build, match):
  with pytest.raises(ValueError, match=match):
    build()


def test_rank_must_be_an_int():
  with pytest.raises(TypeError, match='rank'):
    contrib.galore(0.1, rank=2.0)


def test_arrays_and_traced_hyperparameters_are_accepted():
  p = jnp.ones(3)
  for opt in (contrib.cocob(alpha=jnp.asarray(50.0)),
              contrib.dowg(eps=jnp.asarray(1e-4)),
              contrib.momo(jnp.asarray(0.5), beta=jnp.asarray(0.8))):
    u, _ = opt.update(p, opt.init(p), p, value=1.0)
    assert bool(jnp.all(jnp.isfinite(u)))

  @jax.jit
  def traced(alpha, beta):
    out = []
    for opt in (contrib.cocob(alpha=alpha), contrib.momo(beta=beta)):
      u, _ = opt.update(p, opt.init(p), p, value=1.0)
      out.append(u)
    return out

  assert all(bool(jnp.all(jnp.isfinite(u))) for u in traced(50.0, 0.9))


# ---------------------------------------------------------------------------
# The authors' PyTorch implementations (dog-optimizer, momo-opt), float64.
# ---------------------------------------------------------------------------
def _torch_run(make_opt, steps, lr_of_step=None):
  """Runs a torch optimizer on the quadratic; returns the params as numpy."""
  torch = pytest.importorskip('torch')
  ps = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for k, v in THETA0.items()}
  opt = make_opt(list(ps.values()))
  for t in range(steps):
    if lr_of_step is not None:
      for group in opt.param_groups:
        group['lr'] = lr_of_step(t)

    def closure():
      opt.zero_grad()
      loss = sum((0.5 * torch.tensor(CURV[k]) * (ps[k] - torch.tensor(
          TARGET[k])) ** 2).sum() for k in SHAPES)
      loss.backward()
      return loss

    opt.step(closure)
  return {k: v.detach().numpy() for k, v in ps.items()}


@pytest.mark.parametrize('variant', ['DoG', 'DoG_init_eta', 'LDoG'])
def test_dog_matches_the_authors_pytorch_package(variant):
  dog_pkg = pytest.importorskip('dog')
  if variant == 'DoG':
    theirs = _torch_run(lambda p: dog_pkg.DoG(p, reps_rel=1e-2,
                                              weight_decay=1e-3), 30)
    ours, _ = run(contrib.dog(init_step=('heuristic', 1e-2),
                              weight_decay=1e-3), steps=30)
  elif variant == 'DoG_init_eta':
    theirs = _torch_run(lambda p: dog_pkg.DoG(p, init_eta=0.05), 30)
    ours, _ = run(contrib.dog(init_step=('learning_rate', 0.05)), steps=30)
  else:
    theirs = _torch_run(lambda p: dog_pkg.LDoG(p, reps_rel=1e-2), 30)
    ours, _ = run(gradtx.chain(scale_by_distance_over_gradients(1e-2),
                               gradtx.scale_by_learning_rate(1.0)), steps=30)
  assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('use_fstar', [False, True])
def test_momo_matches_the_authors_pytorch_package(use_fstar):
  """Without weight decay the authors' Momo and gradtx's (= Optax's) agree."""
  momo_pkg = pytest.importorskip('momo')
  theirs = _torch_run(
      lambda p: momo_pkg.Momo(p, lr=0.05, lb=-1.0, use_fstar=use_fstar),
      STEPS, lr_of_step=lr_np)
  ours, _ = run(contrib.momo(lr_jax, lower_bound=-1.0,
                             adapt_lower_bound=use_fstar), extra=_value)
  assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_momo_weight_decay_differs_from_the_authors_as_documented():
  """Optax (so gradtx) shrinks only θ: θ/(1 + αλ) − τ·d; the authors' code
  (and the paper's proximal step) shrinks the whole step: (θ − τ·d)/(1 + αλ)."""
  momo_pkg = pytest.importorskip('momo')
  lr, wd = 0.5, 0.1
  theirs = _torch_run(lambda p: momo_pkg.Momo(p, lr=lr, weight_decay=wd), 1)
  ours, _ = run(contrib.momo(lr, weight_decay=wd), steps=1, extra=_value)
  g = grad_np(THETA0)  # first step: d = g, f̄ = f, γ = ⟨g, θ⟩
  dec = 1 + lr * wd
  gamma = vdot(g, THETA0)  # = ⟨d, θ⟩ at the first step
  tau = min(lr, max(dec * (loss_np(THETA0) - gamma) + gamma, 0) / gnorm2(g))
  for k in SHAPES:
    np.testing.assert_allclose(ours[k], THETA0[k] / dec - tau * g[k],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(theirs[k], (THETA0[k] - tau * g[k]) / dec,
                               rtol=1e-9)


# ---------------------------------------------------------------------------
# With the rest of gradtx: injection, partition, MultiSteps, moment dtypes.
# ---------------------------------------------------------------------------
_OBJ = lambda p, loss: {'obj_fn': loss_jax}
INJECTABLE = {
    # name: (factory, float arguments to inject, extra update args, static)
    'cocob': (contrib.cocob, dict(learning_rate=1.0, alpha=50.0,
                                  weight_decay=1e-2), None, ()),
    'dog': (contrib.dog, dict(learning_rate=1.0, eps=1e-8, weight_decay=1e-2),
            None, ()),
    'dowg': (contrib.dowg, dict(learning_rate=1.0, init_estim_sq_dist=0.1,
                                weight_decay=1e-2), None, ()),
    'momo': (contrib.momo, dict(learning_rate=0.5, beta=0.8, lower_bound=-1.0,
                                weight_decay=1e-2), _value, ()),
    'momo_adam': (contrib.momo_adam, dict(learning_rate=0.1, b1=0.8, b2=0.99,
                                          eps=1e-8, weight_decay=1e-2),
                  _value, ()),
    'acprop': (contrib.acprop, dict(learning_rate=0.05, b1=0.8, b2=0.99,
                                    eps=1e-8, weight_decay=1e-2), None, ()),
    'sophia': (contrib.sophia, dict(learning_rate=0.05, b1=0.9, gamma=0.05,
                                    clip_threshold=0.5, update_interval=2),
               _OBJ, ()),
    'galore': (contrib.galore, dict(learning_rate=0.05, scale=0.5, rank=1,
                                    update_proj_gap=3), None, ('rank',)),
}


@pytest.mark.parametrize('name', sorted(INJECTABLE))
def test_every_float_hyperparameter_is_injectable(name):
  """inject_hyperparams turns every numeric argument (defaults included)
  into a traced state entry; the run is the one with plain constants."""
  factory, kw, extra, static = INJECTABLE[name]
  plain, _ = run(factory(**kw), steps=5, extra=extra)
  injected = gradtx.inject_hyperparams(factory, static_args=static)(**kw)
  ours, state = run(injected, steps=5, extra=extra)
  for k in SHAPES:
    np.testing.assert_allclose(ours[k], plain[k], rtol=1e-5, atol=1e-6)
  assert set(kw) - set(static) <= set(state.hyperparams)


def test_partition_gives_dog_its_own_group():
  """Under partition, DoG's norms cover its group only: the 'a' leaf moves
  as DoG alone on {'a'} would."""
  labels = {'a': 'dog', 'b': 'sgd'}
  opt = gradtx.partition({'dog': contrib.dog(init_step=('distance', 0.1)),
                          'sgd': gradtx.sgd(0.1)}, labels)
  ours, _ = run(opt, steps=10)
  theta = THETA0['a'].copy()
  rbar, gsum = 0.1, 0.0
  for _ in range(10):
    g = CURV['a'] * (theta - TARGET['a'])
    rbar = max(rbar, np.sqrt(np.sum((theta - THETA0['a']) ** 2)))
    gsum += np.sum(g ** 2)
    theta = theta - rbar / np.sqrt(gsum + 1e-8) * g
  np.testing.assert_allclose(ours['a'], theta, rtol=1e-5)


def test_multisteps_passes_the_loss_to_momo():
  """MultiSteps(momo, 2) applies momo to the mean of two gradients; the
  loss value reaches it through MultiSteps' extra arguments."""
  opt = gradtx.MultiSteps(contrib.momo(0.5), every_k_schedule=2)
  params = {k: jnp.asarray(v, jnp.float32) for k, v in THETA0.items()}
  state = opt.init(params)
  g1 = jax.grad(loss_jax)(params)
  u1, state = opt.update(g1, state, params, value=1.0)
  assert all(float(jnp.max(jnp.abs(x))) == 0 for x in jax.tree.leaves(u1))
  g2 = jax.tree.map(lambda x: 3 * x, g1)
  u2, state = opt.update(g2, state, params, value=2.0)
  inner = contrib.momo(0.5)
  ref, _ = inner.update(jax.tree.map(lambda x: 2 * x, g1), inner.init(params),
                        params, value=2.0)
  for k in SHAPES:
    np.testing.assert_allclose(u2[k], ref[k], rtol=1e-6)


def test_acprop_and_sophia_moment_dtypes():
  p = {k: jnp.asarray(v, jnp.float32) for k, v in THETA0.items()}
  s = contrib.scale_by_acprop(mu_dtype=jnp.bfloat16, nu_dtype=jnp.float16
                              ).init(p)
  assert s.mu['a'].dtype == jnp.bfloat16 and s.nu['a'].dtype == jnp.float16
  opt = contrib.sophia(0.1, mu_dtype=jnp.bfloat16)
  state = opt.init(p)
  _, state = jax.jit(lambda g, s: opt.update(g, s, p, obj_fn=loss_jax))(
      jax.grad(loss_jax)(p), state)
  assert state[0].mu['a'].dtype == jnp.bfloat16
  assert state[0].nu['a'].dtype == jnp.float32


def test_traced_periods_are_accepted_as_in_optax():
  p = {'w': jnp.ones((3, 2))}

  @jax.jit
  def step(gap):
    tx = contrib.scale_by_galore(rank=1, update_proj_gap=gap)
    return tx.update(p, tx.init(p))[0]

  assert step(jnp.asarray(5))['w'].shape == (3, 2)
  with pytest.raises(ValueError, match='update_interval'):
    contrib.sophia(0.1, update_interval=jnp.asarray(0))


# ---------------------------------------------------------------------------
# The example, run as a user runs it.
# ---------------------------------------------------------------------------
def test_modern_optimizers_example_runs(tmp_path):
  """Needs muon, schedule_free_adamw and prodigy (contrib part A)."""
  import os  # pylint: disable=g-import-not-at-top
  import pathlib  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  needed = ('muon', 'schedule_free_adamw', 'schedule_free_eval_params',
            'prodigy')
  missing = [n for n in needed if not hasattr(contrib, n)]
  if missing:
    pytest.skip(f'gradtx.contrib lacks {missing} on this branch')
  root = pathlib.Path(__file__).resolve().parents[1]
  env = dict(os.environ, JAX_PLATFORMS='cpu', MPLBACKEND='Agg',
             PYTHONPATH=os.pathsep.join([str(root),
                                         os.environ.get('PYTHONPATH', '')]))
  env.pop('XLA_FLAGS', None)
  out = tmp_path / 'curves.png'
  proc = subprocess.run(
      [sys.executable, str(root / 'examples' / 'modern_optimizers.py'),
       '--steps', '40', '--out', str(out)],
      cwd=root, env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr
  losses = {line.split(':')[0].strip(): float(line.split()[-3])
            for line in proc.stdout.splitlines() if 'held-out loss' in line}
  assert sorted(losses) == sorted(['AdamW', 'Muon + AdamW',
                                   'schedule-free AdamW', 'Prodigy'])
  assert all(np.isfinite(v) and v < 4.0 for v in losses.values())
  assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
