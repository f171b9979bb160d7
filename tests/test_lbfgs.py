"""L-BFGS: a dense BFGS recursion in float64, and Optax driven side by side.

``scale_by_lbfgs`` is checked against the textbook inverse-Hessian recursion
built as a dense matrix in numpy; ``lbfgs`` (with its zoom line search, and
with a backtracking one) is run next to ``optax.lbfgs`` on Rosenbrock and on
an ill-conditioned quadratic, step for step, under ``jit``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx


def rosenbrock(w):
  return jnp.sum(100.0 * (w[1:] - w[:-1] ** 2) ** 2 + (1.0 - w[:-1]) ** 2)


_rng = np.random.RandomState(0)
_Q = np.linalg.qr(_rng.randn(6, 6))[0]
A = _Q @ np.diag([100.0, 30.0, 10.0, 3.0, 1.0, 0.1]) @ _Q.T  # cond 1000
B = _rng.randn(6)
W_STAR = np.linalg.solve(A, B)
F_STAR = -0.5 * B @ W_STAR


def assert_solved(w):
  """At the optimum to float32 resolution: f − f* is rounding noise."""
  gap = 0.5 * w @ A @ w - B @ w - F_STAR
  assert gap <= 1e-5 * abs(F_STAR), gap
  np.testing.assert_allclose(w, W_STAR, atol=2e-2)


def quadratic(w, a=jnp.asarray(A, jnp.float32), b=jnp.asarray(B, jnp.float32)):
  return 0.5 * w @ (a @ w) - b @ w


def drive(lib, opt, f, w, steps):
  """``steps`` jitted steps reusing the line search's value and gradient."""
  value_and_grad = lib.value_and_grad_from_state(f)

  @jax.jit
  def step(w, state):
    value, grad = value_and_grad(w, state=state)
    u, state = opt.update(grad, state, w, value=value, grad=grad, value_fn=f)
    return lib.apply_updates(w, u), state

  state = opt.init(w)
  path = []
  for _ in range(steps):
    w, state = step(w, state)
    path.append(np.asarray(w, np.float64))
  return np.array(path), state, step


# ---------------------------------------------------------------------------
# scale_by_lbfgs against the dense recursion.
# ---------------------------------------------------------------------------
def dense_lbfgs_directions(ws, gs, memory, scale_init):
  """``H_k g_k`` with ``H_k`` built as a matrix (Nocedal & Wright, eq. 7.19)."""
  out = []
  for k, g in enumerate(gs):
    pairs = [(ws[j + 1] - ws[j], gs[j + 1] - gs[j])
             for j in range(max(0, k - memory), k)]
    if not scale_init:
      gamma = 1.0
    elif k == 0:
      gamma = min(1.0, 1.0 / np.linalg.norm(g))
    else:
      s, y = pairs[-1]
      gamma = (s @ y) / (y @ y)
    h = gamma * np.eye(len(g))
    for s, y in pairs:
      rho = 1.0 / (y @ s)
      v = np.eye(len(g)) - rho * np.outer(y, s)
      h = v.T @ h @ v + rho * np.outer(s, s)
    out.append(h @ g)
  return out


@pytest.mark.parametrize('memory,scale_init', [(2, True), (10, True), (3, False)])
def test_scale_by_lbfgs_matches_dense_bfgs_recursion(memory, scale_init):
  rng = np.random.RandomState(1)
  ws = [rng.randn(6) for _ in range(7)]
  gs = [A @ w - B for w in ws]  # y·s > 0: A is positive definite
  expected = dense_lbfgs_directions(ws, gs, memory, scale_init)
  tx = gradtx.scale_by_lbfgs(memory_size=memory, scale_init_precond=scale_init)
  update = jax.jit(tx.update)
  state = tx.init(jnp.zeros(6))
  for w, g, e in zip(ws, gs, expected):
    u, state = update(jnp.asarray(g, jnp.float32), state,
                      jnp.asarray(w, jnp.float32))
    np.testing.assert_allclose(u, e, rtol=2e-4, atol=1e-5 * np.abs(e).max())
  assert update._cache_size() == 1  # pylint: disable=protected-access
  assert int(state.count) == len(ws)


def test_scale_by_lbfgs_first_step_is_capped_normalised_gradient():
  tx = gradtx.scale_by_lbfgs()
  update = jax.jit(tx.update)
  g = jnp.array([0.3, -0.4])  # ‖g‖ = 0.5 < 1: the cap keeps γ₀ = 1
  np.testing.assert_allclose(update(g, tx.init(g), g)[0], g)
  g = jnp.array([30.0, -40.0])  # γ₀ = 1/50
  np.testing.assert_allclose(update(g, tx.init(g), g)[0], g / 50.0)


def test_scale_by_lbfgs_tree_params_equal_flat_params():
  rng = np.random.RandomState(2)
  ws = [rng.randn(6).astype(np.float32) for _ in range(4)]
  split = lambda x: {'a': jnp.asarray(x[:2]), 'b': jnp.asarray(x[2:]).reshape(2, 2)}
  tx = gradtx.scale_by_lbfgs(3)
  update = jax.jit(tx.update)
  sf, st = tx.init(jnp.zeros(6)), tx.init(split(np.zeros(6)))
  for w in ws:
    g = (A @ w - B).astype(np.float32)
    uf, sf = update(jnp.asarray(g), sf, jnp.asarray(w))
    ut, st = update(split(g), st, split(w))
    np.testing.assert_allclose(
        np.concatenate([ut['a'], ut['b'].ravel()]), uf, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# lbfgs next to optax.lbfgs.
# ---------------------------------------------------------------------------
def test_lbfgs_matches_optax_on_rosenbrock_and_converges():
  w0 = jnp.array([-1.2, 1.0])
  ours, state, step = drive(gradtx, gradtx.lbfgs(), rosenbrock, w0, 40)
  theirs, _, _ = drive(optax, optax.lbfgs(), rosenbrock, w0, 40)
  np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(ours[-1], [1.0, 1.0], atol=1e-4)
  assert float(rosenbrock(w0)) > 1.0
  assert step._cache_size() == 1  # pylint: disable=protected-access
  ls_state = state[2]
  assert isinstance(ls_state, gradtx.ScaleByZoomLinesearchState)
  assert ls_state.info.num_linesearch_steps.dtype == jnp.int32


def test_lbfgs_with_backtracking_matches_optax_on_quadratic():
  def make(lib):
    return lib.lbfgs(memory_size=4, linesearch=lib.scale_by_backtracking_linesearch(
        max_backtracking_steps=30, store_grad=True))
  w0 = jnp.zeros(6)
  ours, _, _ = drive(gradtx, make(gradtx), quadratic, w0, 60)
  theirs, _, _ = drive(optax, make(optax), quadratic, w0, 60)
  np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
  assert_solved(ours[-1])


def test_lbfgs_bfloat16_params_stay_bfloat16_and_descend():
  f = lambda w: quadratic(w.astype(jnp.float32))
  w0 = jnp.full(6, 0.5, jnp.bfloat16)
  opt = gradtx.lbfgs()
  state0 = opt.init(w0)
  path, state, _ = drive(gradtx, opt, f, w0, 8)
  kinds = lambda s: jax.tree.map(lambda x: (x.dtype, x.shape), s)
  assert kinds(state) == kinds(state0)
  assert state[0].params.dtype == jnp.bfloat16
  assert state[2].learning_rate.dtype == jnp.float32  # scalars in float32
  assert np.all(np.isfinite(path))
  assert float(f(jnp.asarray(path[-1]))) < float(f(w0)) - 1.0


def test_lbfgs_without_linesearch_is_chain_with_learning_rate():
  g = jnp.array([3.0, 4.0])
  opt = gradtx.lbfgs(0.1, linesearch=None)
  u, _ = jax.jit(opt.update)(g, opt.init(g), g)
  np.testing.assert_allclose(u, -0.1 * g / 5.0, rtol=1e-6)


def test_bad_memory_size_is_rejected():
  with pytest.raises(ValueError, match='memory_size'):
    gradtx.scale_by_lbfgs(memory_size=0)


def test_update_without_params_is_a_clear_error():
  tx = gradtx.scale_by_lbfgs()
  with pytest.raises(ValueError, match='params'):
    tx.update(jnp.ones(2), tx.init(jnp.ones(2)))


def test_training_loop_of_the_docs_runs_and_solves_the_problem(capsys):
  """The example of docs/line-search.md, as a user would paste it."""
  import pathlib, re  # pylint: disable=import-outside-toplevel,multiple-imports
  page = pathlib.Path(__file__).resolve().parents[1] / 'docs' / 'line-search.md'
  code = re.search(r'```python\n(.*?)```', page.read_text(), re.S).group(1)
  namespace = {}
  exec(compile(code, str(page), 'exec'), namespace)  # pylint: disable=exec-used
  assert 'gradient norm' in capsys.readouterr().out
  w, x, y, loss = (namespace[k] for k in ('w', 'x', 'y', 'loss'))
  assert float(gradtx.tree.norm(jax.grad(loss)(w, x, y))) < 1e-5
  assert namespace['step']._cache_size() == 1  # pylint: disable=protected-access
