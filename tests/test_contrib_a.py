"""Hand-derived and reference-package checks of gradtx.contrib, part A.

The battery (tests/cases/contrib_a.py) checks every name against Optax over
100 steps; here each rule is checked against values derived by hand (the
polar factor for Newton–Schulz, the schedule-free recurrences, SAM's two
steps), against the authors' PyTorch packages (schedulefree, prodigyopt,
dadaptation, madgrad), and with float16/bfloat16 inputs.
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

import gradtx
from gradtx import contrib
from tests.test_battery import make_params, run


def _rand(shape, seed=0, dtype=jnp.float32):
  return jax.random.normal(jax.random.PRNGKey(seed), shape, jnp.float32).astype(dtype)


def _assert_trees_close(a, b, rtol, atol=0.0):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(np.asarray(x, np.float64),
                               np.asarray(y, np.float64), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------
# Newton–Schulz and Muon.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('shape', [(6, 10), (10, 6)], ids=['wide', 'tall'])
def test_newton_schulz_output_is_nearly_orthogonal_with_the_same_singular_vectors(shape):
  g = _rand(shape)
  o = contrib.orthogonalize_via_newton_schulz(g)
  u, s, vt = np.linalg.svd(np.asarray(g, np.float64), full_matrices=False)
  so = np.linalg.svd(np.asarray(o, np.float64), compute_uv=False)
  # The default quintic maps every singular value into about [0.7, 1.2].
  assert so.min() > 0.6 and so.max() < 1.25, so
  # Same singular vectors: Uᵀ·O·V is diagonal.
  core = u.T @ np.asarray(o, np.float64) @ vt.T
  off = core - np.diag(np.diag(core))
  assert np.abs(off).max() < 1e-4 * np.abs(np.diag(core)).max()


def test_newton_schulz_with_the_cubic_iteration_converges_to_the_polar_factor():
  """(1.5, −0.5, 0) is the classical cubic iteration X ← (3X − XXᵀX)/2."""
  g = _rand((5, 8), seed=1)
  o = contrib.orthogonalize_via_newton_schulz(
      g, ns_coeffs=(1.5, -0.5, 0.0), ns_steps=25)
  u, _, vt = np.linalg.svd(np.asarray(g, np.float64), full_matrices=False)
  np.testing.assert_allclose(o, u @ vt, atol=2e-5)
  np.testing.assert_allclose(np.asarray(o) @ np.asarray(o).T, np.eye(5),
                             atol=5e-5)


@pytest.mark.parametrize('preconditioning', ['aol', 'schatten', 'spectral'])
def test_preconditionings_also_orthogonalise(preconditioning):
  o = contrib.orthogonalize_via_newton_schulz(
      _rand((6, 9), seed=2), preconditioning=preconditioning)
  s = np.linalg.svd(np.asarray(o, np.float64), compute_uv=False)
  assert s.min() > 0.5 and s.max() < 1.3, s


def test_dimension_numbers_stacked_conv_and_transposed():
  ns = contrib.orthogonalize_via_newton_schulz
  dn = contrib.MuonDimensionNumbers
  stacked = _rand((3, 4, 6), seed=3)
  out = ns(stacked, dimension_numbers=dn(1, 2))
  for i in range(3):
    np.testing.assert_allclose(out[i], ns(stacked[i]), rtol=1e-5, atol=1e-6)
  conv = _rand((3, 3, 2, 5), seed=4)
  out = ns(conv, dimension_numbers=dn((0, 1, 2), -1))
  np.testing.assert_allclose(out.reshape(18, 5), ns(conv.reshape(18, 5)),
                             rtol=1e-5, atol=1e-6)
  w = _rand((4, 7), seed=5)
  np.testing.assert_allclose(ns(w, dimension_numbers=dn(1, 0)), ns(w.T).T,
                             rtol=1e-5, atol=1e-6)
  with pytest.raises(ValueError, match='matrix'):
    ns(stacked)
  with pytest.raises(ValueError, match='distinct'):
    ns(stacked, dimension_numbers=dn(1, 1))


@pytest.mark.parametrize('nesterov', [True, False])
def test_scale_by_muon_first_step_is_the_orthogonalised_gradient(nesterov):
  """m̂ is a multiple of g at step 1, and NS ignores the scale."""
  g = _rand((4, 6), seed=6)
  tx = contrib.scale_by_muon(nesterov=nesterov)
  u, state = tx.update(g, tx.init(g))
  np.testing.assert_allclose(u, contrib.orthogonalize_via_newton_schulz(g),
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(state.mu, 0.05 * g, rtol=1e-6)
  # Step 2 orthogonalises m̂ = m/(1 − β²) (or its Nesterov form).
  g2 = _rand((4, 6), seed=7)
  u2, _ = tx.update(g2, state)
  m = 0.95 * 0.05 * g + 0.05 * g2
  m_hat = (0.95 * m / (1 - 0.95**3) + 0.05 * g2 / (1 - 0.95**2)
           if nesterov else m / (1 - 0.95**2))
  np.testing.assert_allclose(u2, contrib.orthogonalize_via_newton_schulz(m_hat),
                             rtol=1e-4, atol=1e-5)


def _keller_jordan_muon_update(grad, momentum, beta, nesterov):
  """Keller Jordan's ``muon_update`` (github.com/KellerJordan/Muon), in NumPy float64.

  ``momentum.lerp_(grad, 1 − β)``; Nesterov ``grad.lerp_(momentum, β)``; five
  quintic Newton–Schulz steps on ``X/(‖X‖ + 1e-7)`` (in bfloat16 there; in
  float64 here); no debiasing and no shape scaling (checked separately).
  """
  momentum = momentum + (1 - beta) * (grad - momentum)
  x = grad + beta * (momentum - grad) if nesterov else momentum
  a, b, c = 3.4445, -4.7750, 2.0315
  tall = x.shape[0] > x.shape[1]
  x = x.T if tall else x
  x = x / (np.linalg.norm(x) + 1e-7)
  for _ in range(5):
    big_a = x @ x.T
    x = a * x + (b * big_a + c * big_a @ big_a) @ x
  return (x.T if tall else x), momentum


def test_scale_by_muon_matches_keller_jordans_reference():
  """Without Nesterov, debiasing only rescales m, which NS ignores: equal updates.

  With Nesterov, Optax's debiasing weights g and m by factors that differ by
  (1 − βᵗ)/(1 − βᵗ⁺¹), so the two part in the first steps and agree later.
  """
  tx = contrib.scale_by_muon(beta=0.9, nesterov=False, eps=1e-7)
  update = jax.jit(tx.update)
  state = tx.init(jnp.zeros((5, 3)))
  momentum = np.zeros((5, 3))
  for i in range(8):
    g = np.asarray(_rand((5, 3), seed=30 + i), np.float64)
    u, state = update(jnp.asarray(g, jnp.float32), state)
    want, momentum = _keller_jordan_muon_update(g, momentum, 0.9, False)
    np.testing.assert_allclose(u, want, rtol=2e-4, atol=2e-5)
  tx = contrib.scale_by_muon(beta=0.9, eps=1e-7)
  update = jax.jit(tx.update)
  state, momentum, gaps = tx.init(jnp.zeros((5, 3))), np.zeros((5, 3)), []
  for i in range(60):
    g = np.asarray(_rand((5, 3), seed=30 + i), np.float64)
    u, state = update(jnp.asarray(g, jnp.float32), state)
    want, momentum = _keller_jordan_muon_update(g, momentum, 0.9, True)
    gaps.append(np.abs(np.asarray(u) - want).max())
  assert max(gaps[:10]) > 1e-2 and max(gaps[-10:]) < 1e-3, gaps


def test_muon_width_scaling_and_consistent_rms():
  params = {'w': jnp.zeros((3, 4)), 'b': jnp.zeros(4)}
  grads = {'w': _rand((3, 4), seed=8), 'b': jnp.ones(4)}
  o = contrib.orthogonalize_via_newton_schulz(grads['w'])
  for rms, factor in [(None, np.sqrt(4 / 3)), (0.2, 0.2 * 2.0)]:
    opt = contrib.muon(0.1, consistent_rms=rms, nesterov=False)
    u, state = opt.update(grads, opt.init(params), params)
    np.testing.assert_allclose(u['w'], -0.1 * factor * o, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(u['b'], -0.1 * np.ones(4), rtol=1e-5)
  assert set(state.inner_states) == {'muon', 'adam'}


def _mlp_params():
  k = jax.random.split(jax.random.PRNGKey(9), 2)
  return {'dense1': {'kernel': 0.5 * jax.random.normal(k[0], (4, 16)),
                     'bias': jnp.zeros(16)},
          'dense2': {'kernel': 0.5 * jax.random.normal(k[1], (16, 1)),
                     'bias': jnp.zeros(1)}}


def _mlp_loss(params, x, y):
  h = jnp.tanh(x @ params['dense1']['kernel'] + params['dense1']['bias'][None])
  return jnp.mean((h @ params['dense2']['kernel']
                   + params['dense2']['bias'][None] - y) ** 2)


def test_muon_on_matrices_adamw_on_the_rest_recipe_with_partition():
  """The recipe of docs/contrib.md: partition by rank."""
  x = _rand((64, 4), seed=10)
  y = jnp.sin(x.sum(axis=1, keepdims=True))
  params = _mlp_params()
  labels = lambda p: jax.tree.map(lambda a: 'muon' if a.ndim == 2 else 'adamw', p)
  opt = gradtx.partition(
      {'muon': gradtx.chain(contrib.scale_by_muon(),
                            gradtx.scale_by_learning_rate(0.02)),
       'adamw': gradtx.adamw(0.02, weight_decay=0.0)},
      labels)
  state = opt.init(params)
  # The first update: −η·NS(g) on the kernels, AdamW's −η·sign(g) on biases.
  g = jax.grad(_mlp_loss)(params, x, y)
  u, _ = opt.update(g, state, params)
  np.testing.assert_allclose(
      u['dense1']['kernel'],
      -0.02 * contrib.orthogonalize_via_newton_schulz(g['dense1']['kernel']),
      rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(u['dense1']['bias'],
                             -0.02 * jnp.sign(g['dense1']['bias']), atol=1e-6)
  # The Muon state holds the kernels only.
  muon_mu = state.inner_states['muon'].inner_state[0].mu
  assert [a.shape for a in jax.tree.leaves(muon_mu)] == [(4, 16), (16, 1)]

  @jax.jit
  def step(params, state):
    loss, g = jax.value_and_grad(_mlp_loss)(params, x, y)
    u, state = opt.update(g, state, params)
    return gradtx.apply_updates(params, u), state, loss

  first = None
  for _ in range(150):
    params, state, loss = step(params, state)
    first = loss if first is None else first
  assert float(loss) < 0.3 * float(first)


def test_muon_with_multisteps_and_bfloat16_momentum():
  params = _mlp_params()
  opt = gradtx.MultiSteps(contrib.muon(0.02, mu_dtype=jnp.bfloat16), 2)
  state = opt.init(params)
  update = jax.jit(opt.update)
  x = _rand((8, 4), seed=11)
  g = jax.grad(_mlp_loss)(params, x, x[:, :1])
  u1, state = update(g, state, params)
  assert all(float(jnp.abs(a).max()) == 0 for a in jax.tree.leaves(u1))
  u2, state = update(g, state, params)
  assert float(jnp.abs(u2['dense1']['kernel']).max()) > 1e-3
  mus = [a.dtype for a in jax.tree.leaves(state) if a.ndim == 2]
  assert jnp.bfloat16 in mus


@pytest.mark.parametrize('preconditioning, coeffs', [
    ('frobenius', 'standard'), ('spectral', 'dion'), ('aol', 'dion'),
    ('schatten', 'standard')])
def test_newton_schulz_matches_optax_for_each_preconditioning(preconditioning,
                                                              coeffs):
  from optax.contrib import _muon as optax_muon  # pylint: disable=g-import-not-at-top
  coeffs = contrib._muon._NS_PRESETS[coeffs]  # pylint: disable=protected-access
  x = _rand((2, 5, 3), seed=14)
  ours = contrib.orthogonalize_via_newton_schulz(
      x, coeffs, 5, preconditioning,
      dimension_numbers=contrib.MuonDimensionNumbers(1, 2))
  theirs = jax.jit(lambda x: optax_muon.orthogonalize_via_newton_schulz(
      x, jnp.asarray(coeffs), 5, preconditioning,
      dimension_numbers=optax.contrib.MuonDimensionNumbers(1, 2)))(x)
  np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_muon_bad_arguments():
  with pytest.raises(ValueError, match='ns_coeffs preset'):
    contrib.muon(0.1, ns_coeffs='bogus')
  with pytest.raises(ValueError, match=r'ns_coeffs must have shape'):
    contrib.scale_by_muon(ns_coeffs=(1.0, 2.0))
  with pytest.raises(ValueError, match='more than ns_steps'):
    contrib.scale_by_muon(ns_coeffs='dion', ns_steps=3)
  with pytest.raises(ValueError, match=r'beta must be in \[0, 1\)'):
    contrib.scale_by_muon(beta=1.5)
  with pytest.raises(ValueError, match='preconditioning'):
    contrib.scale_by_muon(preconditioning='newton')
  with pytest.raises(ValueError, match='learning_rate'):
    contrib.muon(-1.0)
  with pytest.raises(ValueError, match='ns_steps must be an integer'):
    contrib.scale_by_muon(ns_steps=2.5)
  contrib.scale_by_muon(ns_steps=jnp.asarray(3))  # a 0-d array, as in Optax
  tx = contrib.scale_by_muon()
  with pytest.raises(ValueError, match='rank 1'):
    tx.update(jnp.ones(3), tx.init(jnp.ones(3)))


# ---------------------------------------------------------------------------
# Schedule-free.
# ---------------------------------------------------------------------------
def test_schedule_free_sgd_follows_the_paper_recurrences():
  """y, z, x by hand: z ← z − γ∇f(y), x ← (1 − c)x + c·z, y = βx + (1 − β)z."""
  a = np.array([1.0, 3.0])
  grad = lambda p: a * (p - 1.0)
  lr, b1, steps = 0.2, 0.8, 25
  opt = contrib.schedule_free_sgd(lr, b1=b1)
  y = jnp.array([3.0, -2.0])
  state = opt.init(y)
  z = x = np.array([3.0, -2.0])
  yy = x.copy()
  for t in range(1, steps + 1):
    u, state = opt.update(jnp.asarray(grad(np.asarray(y)), jnp.float32), state, y)
    y = y + u
    z = z - lr * grad(yy)
    c = lr**2 / (t * lr**2)  # weights γ² of equal steps: c = 1/t
    x = (1 - c) * x + c * z
    yy = b1 * x + (1 - b1) * z
  np.testing.assert_allclose(y, yy, rtol=1e-5)
  np.testing.assert_allclose(state.z, z, rtol=1e-5)
  np.testing.assert_allclose(contrib.schedule_free_eval_params(state, y), x,
                             rtol=1e-5)


def test_schedule_free_eval_params_finds_the_state_inside_a_chain():
  opt = gradtx.chain(gradtx.clip_by_global_norm(10.0),
                     contrib.schedule_free_adamw(0.1, b1=0.5))
  p = jnp.array([1.0, -1.0])
  state = opt.init(p)
  u, state = opt.update(jnp.array([0.3, 0.1]), state, p)
  p = p + u
  u, state = opt.update(jnp.array([0.2, -0.4]), state, p)
  p = p + u
  z = state[1].z
  np.testing.assert_allclose(contrib.schedule_free_eval_params(state, p),
                             (p - 0.5 * z) / 0.5, rtol=1e-6)
  with pytest.raises(ValueError, match='ScheduleFreeState'):
    contrib.schedule_free_eval_params(gradtx.adam(0.1).init(p), p)


def test_schedule_free_weights_follow_the_largest_learning_rate():
  """c_t = γ_max,t² / Σ γ_max,s²: a warmup gives the later iterates more weight."""
  sched = lambda t: 0.1 * jnp.minimum(t, 4) / 4
  opt = contrib.schedule_free(gradtx.sgd(sched), sched, b1=0.9)
  p = jnp.zeros(1)
  state = opt.init(p)
  weights = []
  for t in range(1, 7):
    u, state = opt.update(jnp.ones(1), state, p)
    p = p + u
    weights.append((0.1 * min(t, 4) / 4) ** 2)
    np.testing.assert_allclose(state.weight_sum, sum(weights), rtol=1e-6)
    np.testing.assert_allclose(state.max_lr, 0.1 * min(t, 4) / 4, rtol=1e-6)


def _torch_run(opt_cls, params0, grad_fn, steps, **kw):
  p = torch.tensor(np.asarray(params0, np.float32), requires_grad=True)
  opt = opt_cls([p], **kw)
  if hasattr(opt, 'train'):
    opt.train()
  for _ in range(steps):
    p.grad = torch.tensor(grad_fn(p.detach().numpy()))
    opt.step()
  return opt, p


def _quad_grad(p):
  c = 1.0 + np.arange(p.size, dtype=np.float32) / p.size
  return (c * (p - 0.5) + 0.3 * np.cos(3.0 * p)).astype(np.float32)


def _jax_run(opt, params0, steps):
  p = jnp.asarray(params0, jnp.float32)
  state = opt.init(p)
  update = jax.jit(opt.update)
  for _ in range(steps):
    u, state = update(jnp.asarray(_quad_grad(np.asarray(p))), state, p)
    p = gradtx.apply_updates(p, u)
  return p, state


_P0 = np.linspace(-2.0, 2.0, 7).astype(np.float32)


def test_schedule_free_adamw_matches_the_authors_package():
  schedulefree = pytest.importorskip('schedulefree')
  kw = dict(lr=0.05, betas=(0.9, 0.99), weight_decay=0.01)
  ref, p_ref = _torch_run(schedulefree.AdamWScheduleFree, _P0, _quad_grad, 40,
                          **kw, foreach=False)
  p, state = _jax_run(contrib.schedule_free_adamw(
      0.05, b2=0.99, weight_decay=0.01), _P0, 40)
  np.testing.assert_allclose(p, p_ref.detach().numpy(), rtol=1e-5, atol=1e-6)
  ref.eval()  # the package swaps the params to x
  np.testing.assert_allclose(contrib.schedule_free_eval_params(state, p),
                             p_ref.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_schedule_free_sgd_matches_the_authors_package():
  schedulefree = pytest.importorskip('schedulefree')
  _, p_ref = _torch_run(schedulefree.SGDScheduleFree, _P0, _quad_grad, 40,
                        lr=0.3, momentum=0.8, weight_decay=0.01, foreach=False)
  p, _ = _jax_run(contrib.schedule_free_sgd(0.3, b1=0.8, weight_decay=0.01),
                  _P0, 40)
  np.testing.assert_allclose(p, p_ref.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_schedule_free_warmup_is_one_step_behind_the_authors_package():
  """Optax's warmup gives η·t/W at base step t = 0, 1, …; the package η·(t+1)/W.

  Shifting the base optimizer's schedule by one step reproduces the package.
  """
  schedulefree = pytest.importorskip('schedulefree')
  _, p_ref = _torch_run(schedulefree.SGDScheduleFree, _P0, _quad_grad, 20,
                        lr=0.3, momentum=0.9, warmup_steps=5, foreach=False)
  warm = lambda t: 0.3 * jnp.minimum(t, 5) / 5
  shifted = contrib.schedule_free(gradtx.sgd(lambda t: warm(t + 1)), warm, b1=0.9)
  p, _ = _jax_run(shifted, _P0, 20)
  np.testing.assert_allclose(p, p_ref.detach().numpy(), rtol=1e-5, atol=1e-6)
  p_optax_rule, _ = _jax_run(contrib.schedule_free_sgd(0.3, warmup_steps=5),
                             _P0, 20)
  assert np.abs(np.asarray(p_optax_rule) - p_ref.detach().numpy()).max() > 1e-3
  p_optax, _ = _jax_run(optax.contrib.schedule_free_sgd(0.3, warmup_steps=5),
                        _P0, 20)
  np.testing.assert_allclose(p_optax_rule, p_optax, rtol=1e-5, atol=1e-6)


def test_schedule_free_state_dtype_and_bad_arguments():
  p = {'w': jnp.ones(3, jnp.bfloat16)}
  opt = contrib.schedule_free_adamw(0.1, state_dtype=jnp.float32)
  state = opt.init(p)
  assert state.z['w'].dtype == jnp.float32
  u, state = opt.update({'w': jnp.ones(3, jnp.bfloat16)}, state, p)
  assert u['w'].dtype == jnp.bfloat16 and state.z['w'].dtype == jnp.float32
  with pytest.raises(ValueError, match=r'b1 must be in \(0, 1\]'):
    contrib.schedule_free_sgd(b1=0.0)
  with pytest.raises(ValueError, match='warmup_steps'):
    contrib.schedule_free_adamw(warmup_steps=-1)
  with pytest.raises(ValueError, match='needs the params'):
    opt.update({'w': jnp.ones(3, jnp.bfloat16)}, state)


# ---------------------------------------------------------------------------
# Prodigy and D-Adaptation.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('safeguard_warmup', [False, True])
def test_prodigy_matches_prodigyopt(safeguard_warmup):
  prodigyopt = pytest.importorskip('prodigyopt')
  # The second run also changes beta3 and the estimate's coefficient.
  extra = dict(beta3=0.9, d_coef=0.5) if safeguard_warmup else {}
  ref, p_ref = _torch_run(prodigyopt.Prodigy, _P0, _quad_grad, 40, lr=1.0,
                          weight_decay=0.01, use_bias_correction=True,
                          safeguard_warmup=safeguard_warmup, d0=1e-3, **extra)
  if 'd_coef' in extra:
    extra['estim_lr_coef'] = extra.pop('d_coef')
  p, state = _jax_run(contrib.prodigy(weight_decay=0.01, estim_lr0=1e-3,
                                      safeguard_warmup=safeguard_warmup,
                                      **extra), _P0, 40)
  d_ref = ref.param_groups[0]['d']
  assert d_ref > 5e-3  # d grew from 1e-3: the test exercises the estimate
  np.testing.assert_allclose(state.estim_lr, d_ref, rtol=1e-4)
  np.testing.assert_allclose(p, p_ref.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_dadapt_adamw_matches_dadaptation():
  dadaptation = pytest.importorskip('dadaptation')
  ref, p_ref = _torch_run(dadaptation.DAdaptAdam, _P0, _quad_grad, 40, lr=1.0,
                          weight_decay=0.01, decouple=True,
                          use_bias_correction=True, d0=1e-3)
  p, state = _jax_run(contrib.dadapt_adamw(weight_decay=0.01, estim_lr0=1e-3),
                      _P0, 40)
  d_ref = ref.param_groups[0]['d']
  assert d_ref > 1e-2
  np.testing.assert_allclose(state.estim_lr, d_ref, rtol=1e-4)
  np.testing.assert_allclose(p, p_ref.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_prodigy_first_step_by_hand_and_zero_gradients():
  """Step 1: d = d₀, θ = θ₀, so r = 0 and d stays; u = −d₀·lr·sign-like."""
  p = jnp.array([1.0, -2.0])
  opt = contrib.prodigy(0.5, estim_lr0=0.1, eps=0.0)
  u, state = opt.update(jnp.array([2.0, 4.0]), opt.init(p), p)
  # m̂/√v̂ = sign(g): ηₜ = d·lr·√(1 − b2)/(1 − b1), m = (1 − b1)·d·g, √v = √(1 − b2)·d·|g|
  np.testing.assert_allclose(u, -0.1 * 0.5 * np.array([1.0, 1.0]), rtol=1e-5)
  np.testing.assert_allclose(state.estim_lr, 0.1)
  zero = contrib.prodigy()
  u, state = zero.update(jnp.zeros(2), zero.init(p), p)
  assert bool(jnp.all(jnp.isfinite(u))) and float(state.estim_lr) == pytest.approx(1e-6)
  with pytest.raises(ValueError, match='estim_lr0'):
    contrib.prodigy(estim_lr0=0.0)
  with pytest.raises(ValueError, match='betas'):
    contrib.dadapt_adamw(betas=(0.9,))


# ---------------------------------------------------------------------------
# SAM.
# ---------------------------------------------------------------------------
def _sam_parts(rho=0.1, lr=0.5):
  adv = gradtx.chain(gradtx.normalize_by_update_norm(eps=0.0), gradtx.sgd(rho))
  return gradtx.sgd(lr), adv


def _f(p):
  return jnp.sum(jnp.array([1.0, 3.0]) * p**2) + jnp.sum(jnp.sin(p))


def test_sam_transparent_mode_by_hand():
  rho, lr = 0.1, 0.5
  opt = contrib.sam(*_sam_parts(rho, lr), sync_period=2)
  theta = jnp.array([1.0, -0.5])
  state = opt.init(theta)
  for _ in range(3):
    g = jax.grad(_f)(theta)
    u, state = opt.update(g, state, theta)
    adv = theta + u
    np.testing.assert_allclose(adv, theta + rho * g / jnp.linalg.norm(g),
                               rtol=1e-6)
    u, state = opt.update(jax.grad(_f)(adv), state, adv)
    new = adv + u
    np.testing.assert_allclose(new, theta - lr * jax.grad(_f)(adv), rtol=1e-5)
    theta = new
  assert int(state.steps_since_sync) == 0


def test_sam_opaque_mode_equals_transparent_mode_and_optax():
  """Period 3, and an adversary with momentum kept across periods."""
  theta = jnp.array([1.0, -0.5])
  grad_fn = lambda p, _: jax.grad(_f)(p)
  adv = lambda: gradtx.chain(gradtx.normalize_by_update_norm(eps=0.0),
                             gradtx.sgd(0.1, momentum=0.5))
  kw = dict(sync_period=3, reset_state=False)
  transparent = contrib.sam(gradtx.adam(0.1), adv(), **kw)
  opaque = contrib.sam(gradtx.adam(0.1), adv(), opaque_mode=True, **kw)
  oracle = optax.contrib.sam(
      optax.adam(0.1), optax.chain(optax.contrib.normalize(),
                                   optax.sgd(0.1, momentum=0.5)),
      opaque_mode=True, **kw)
  p_t, s_t = theta, transparent.init(theta)
  p_o, s_o = theta, opaque.init(theta)
  p_x, s_x = theta, oracle.init(theta)
  for _ in range(4):
    for _ in range(3):
      u, s_t = transparent.update(jax.grad(_f)(p_t), s_t, p_t)
      p_t = p_t + u
    u, s_o = opaque.update(jax.grad(_f)(p_o), s_o, p_o, grad_fn=grad_fn)
    p_o = p_o + u
    u, s_x = oracle.update(jax.grad(_f)(p_x), s_x, p_x, grad_fn=grad_fn)
    p_x = p_x + u
  assert s_o.cache is None
  np.testing.assert_allclose(p_o, p_t, rtol=1e-5)
  np.testing.assert_allclose(p_o, p_x, rtol=1e-6)
  with pytest.raises(ValueError, match='grad_fn'):
    opaque.update(jax.grad(_f)(p_o), s_o, p_o)
  with pytest.raises(ValueError, match='sync_period'):
    contrib.sam(*_sam_parts(), sync_period=0)
  contrib.sam(*_sam_parts(), sync_period=jnp.asarray(2))


# ---------------------------------------------------------------------------
# AdEMAMix, ADOPT, MADGRAD.
# ---------------------------------------------------------------------------
def test_ademamix_two_steps_by_hand():
  b1, b2, b3, alpha = 0.9, 0.999, 0.99, 5.0
  tx = contrib.scale_by_ademamix(b1, b2, b3, alpha, eps=0.0)
  g1, g2 = np.array([1.0, -2.0]), np.array([3.0, 0.5])
  s = tx.init(jnp.zeros(2))
  _, s = tx.update(jnp.asarray(g1, jnp.float32), s)
  u, s = tx.update(jnp.asarray(g2, jnp.float32), s)
  m1 = (1 - b1) * (b1 * g1 + g2)
  m2 = (1 - b3) * (b3 * g1 + g2)
  nu = (1 - b2) * (b2 * g1**2 + g2**2)
  want = (m1 / (1 - b1**2) + alpha * m2) / np.sqrt(nu / (1 - b2**2))
  np.testing.assert_allclose(u, want, rtol=3e-5)
  assert int(s.count) == int(s.count_m2) == 2


def test_adopt_normalises_by_the_previous_second_moment():
  b1, b2, eps = 0.9, 0.99, 1e-6
  tx = contrib.scale_by_adopt(b1, b2, eps, use_clipping=False)
  gs = [np.array([2.0, -1.0]), np.array([1.0, 3.0]), np.array([-4.0, 0.5])]
  s = tx.init(jnp.zeros(2))
  v, m = gs[0] ** 2, np.zeros(2)
  u, s = tx.update(jnp.asarray(gs[0], jnp.float32), s)
  np.testing.assert_allclose(u, 0.0)
  for g in gs[1:]:
    m = b1 * m + (1 - b1) * g / np.maximum(np.sqrt(v), eps)
    v = b2 * v + (1 - b2) * g**2
    u, s = tx.update(jnp.asarray(g, jnp.float32), s)
    np.testing.assert_allclose(u, m, rtol=1e-6)
  # With clipping, step t clips to ±t^¼: a huge gradient at step 1 gives 1.
  tx = contrib.scale_by_adopt(b1=0.0)
  s = tx.init(jnp.zeros(1))
  _, s = tx.update(jnp.ones(1), s)
  u, s = tx.update(jnp.array([100.0]), s)
  np.testing.assert_allclose(u, 1.0)


def test_madgrad_matches_the_authors_package():
  madgrad = pytest.importorskip('madgrad')
  _, p_ref = _torch_run(madgrad.MADGRAD, _P0, _quad_grad, 40, lr=0.05,
                        momentum=0.9, weight_decay=1e-3)
  p, _ = _jax_run(contrib.madgrad(0.05, weight_decay=1e-3), _P0, 40)
  np.testing.assert_allclose(p, p_ref.detach().numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# With the rest of gradtx: loss scaling.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('name', ['schedule_free_adamw', 'prodigy', 'muon'])
def test_loss_scaling_skips_overflow_and_otherwise_matches(name):
  """A power-of-two scale unscales exactly; an inf step changes nothing."""
  make = {'schedule_free_adamw': lambda: contrib.schedule_free_adamw(0.05),
          'prodigy': lambda: contrib.prodigy(estim_lr0=1e-2),
          'muon': lambda: contrib.muon(0.05)}[name]
  params = {'w': _rand((3, 4), seed=12), 'b': jnp.zeros(4)}
  grads = [{'w': _rand((3, 4), seed=13 + i), 'b': _rand((4,), seed=20 + i)}
           for i in range(3)]
  plain, scaled = make(), gradtx.with_loss_scale(
      make(), gradtx.StaticLossScale(2.0**10))
  p1, s1 = params, plain.init(params)
  p2, s2 = params, scaled.init(params)
  for i, g in enumerate(grads):
    u, s1 = plain.update(g, s1, p1)
    p1 = gradtx.apply_updates(p1, u)
    if i == 1:  # an overflowing step in between: skipped bit for bit
      bad = jax.tree.map(lambda x: x.at[0].set(jnp.inf), g)
      u, s_bad = scaled.update(bad, s2, p2)
      assert all(bool(jnp.array_equal(a, b)) for a, b in zip(
          jax.tree.leaves(gradtx.apply_updates(p2, u)), jax.tree.leaves(p2)))
      for a, b in zip(jax.tree.leaves(s_bad.inner_state),
                      jax.tree.leaves(s2.inner_state)):
        assert bool(jnp.array_equal(a, b))
      s2 = s_bad
    u, s2 = scaled.update(jax.tree.map(lambda x: x * 2.0**10, g), s2, p2)
    p2 = gradtx.apply_updates(p2, u)
  _assert_trees_close(p2, p1, rtol=1e-6, atol=1e-7)
  assert int(s2.skipped_steps) == 1


# ---------------------------------------------------------------------------
# Float16 and bfloat16 inputs.
# ---------------------------------------------------------------------------
_LOW_PRECISION = {
    'muon': lambda: contrib.muon(0.02),
    'schedule_free_adamw': lambda: contrib.schedule_free_adamw(0.02),
    'schedule_free_sgd': lambda: contrib.schedule_free_sgd(0.05),
    # d₀ large enough that the first steps exceed a bfloat16 ulp (with d₀ = 1e-3
    # bfloat16 params never move, θ₀ − θ stays 0 and d never grows).
    'prodigy': lambda: contrib.prodigy(estim_lr0=0.05),
    'dadapt_adamw': lambda: contrib.dadapt_adamw(estim_lr0=1e-3),
    'sam': lambda: contrib.sam(gradtx.adam(0.02), _sam_parts(0.02)[1]),
    'ademamix': lambda: contrib.ademamix(0.02),
    'simplified_ademamix': lambda: contrib.simplified_ademamix(0.002),
    'adopt': lambda: contrib.adopt(0.02),
    'madgrad': lambda: contrib.madgrad(0.02),
}


@pytest.mark.parametrize('name', sorted(_LOW_PRECISION))
def test_low_precision_inputs_stay_low_precision_and_track_float32(name):
  """20 steps in bf16 and f16 land near the float32 run.

  The tolerance is a few ulps of the dtype, times the distance moved when
  that exceeds 1 (D-Adaptation amplifies early rounding into its estimate).
  """
  params32 = make_params()
  opt = _LOW_PRECISION[name]()
  ref, _ = run(opt, params32, 20)
  moved = max(float(jnp.max(jnp.abs(a - b))) for a, b in
              zip(jax.tree.leaves(ref), jax.tree.leaves(params32)))
  assert moved > 0.1
  for dtype, tol in [(jnp.bfloat16, 0.1), (jnp.float16, 0.02)]:
    low, state = run(opt, jax.tree.map(lambda p: p.astype(dtype), params32), 20)
    for a, b in zip(jax.tree.leaves(low), jax.tree.leaves(ref)):
      assert a.dtype == dtype
      assert bool(jnp.all(jnp.isfinite(a.astype(jnp.float32))))
      np.testing.assert_allclose(np.asarray(a, np.float32), b,
                                 atol=tol * max(1.0, moved), err_msg=str(dtype))
    for leaf in jax.tree.leaves(state):
      if jnp.issubdtype(leaf.dtype, jnp.floating) and leaf.ndim > 0:
        assert leaf.dtype in (dtype, jnp.float32), leaf.dtype
