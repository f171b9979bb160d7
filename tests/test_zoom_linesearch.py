"""The zoom line search: hand-derived steps, the Wolfe conditions, Optax parity.

Optax's ``scale_by_zoom_linesearch`` is driven next to ours on Rosenbrock for
40 steps of gradient descent, with each variant of its options; the strong
Wolfe conditions are checked on every accepted step.
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


def zoom_sgd(lib, **kw):
  kw.setdefault('max_linesearch_steps', 15)
  return lib.chain(lib.sgd(1.0), lib.scale_by_zoom_linesearch(**kw))


def drive(lib, opt, f, w, steps):
  value_and_grad = lib.value_and_grad_from_state(f)

  @jax.jit
  def step(w, state):
    value, grad = value_and_grad(w, state=state)
    u, state = opt.update(grad, state, w, value=value, grad=grad, value_fn=f)
    return lib.apply_updates(w, u), state

  state = opt.init(w)
  path, lrs = [], []
  for _ in range(steps):
    w, state = step(w, state)
    path.append(np.asarray(w))
    lrs.append(float(state[1].learning_rate))
  return np.array(path), np.array(lrs), state, step


def test_exact_step_on_a_quadratic():
  """φ(η) = f(w − η·∇f) = 14·(1 − 2η)²: η = 1 overshoots (φ(1) = φ(0)), and
  the quadratic interpolation then lands on the minimiser η = 1/2 exactly."""
  f = lambda w: jnp.sum(w**2)
  opt = zoom_sgd(gradtx)
  w = jnp.array([1.0, 2.0, 3.0])
  value, grad = jax.value_and_grad(f)(w)
  u, state = opt.update(grad, opt.init(w), w, value=value, grad=grad,
                        value_fn=f)
  ls = state[1]
  assert float(ls.learning_rate) == 0.5
  assert int(ls.info.num_linesearch_steps) == 2
  assert float(ls.value) == 0.0
  np.testing.assert_array_equal(ls.grad, 0.0)
  np.testing.assert_array_equal(gradtx.apply_updates(w, u), 0.0)


@pytest.mark.parametrize('kw', [
    dict(),
    dict(approx_dec_rtol=None, increase_factor=3.0, slope_rtol=1e-3,
         curv_rtol=0.5, initial_guess_strategy='one'),
    dict(curv_rtol=jnp.inf, max_linesearch_steps=8, tol=1e-6,
         max_learning_rate=0.5),
])
def test_matches_optax_on_rosenbrock(kw):
  w0 = jnp.array([-1.2, 1.0, 0.5])
  ours, our_lrs, state, step = drive(gradtx, zoom_sgd(gradtx, **kw),
                                     rosenbrock, w0, 40)
  theirs, their_lrs, _, _ = drive(optax, zoom_sgd(optax, **kw), rosenbrock,
                                  w0, 40)
  np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(our_lrs, their_lrs, rtol=1e-4)
  assert float(rosenbrock(jnp.asarray(ours[-1]))) < 0.1 * float(rosenbrock(w0))
  assert step._cache_size() == 1  # pylint: disable=protected-access
  assert state[1].info.num_linesearch_steps.dtype == jnp.int32


def test_accepted_steps_satisfy_the_strong_wolfe_conditions():
  c1, c2 = 1e-4, 0.9
  opt = zoom_sgd(gradtx, max_linesearch_steps=30, approx_dec_rtol=None,
                 curv_rtol=c2, slope_rtol=c1)
  update = jax.jit(opt.update, static_argnames='value_fn')
  w = jnp.array([-1.2, 1.0])
  state = opt.init(w)
  for _ in range(15):
    value, grad = jax.value_and_grad(rosenbrock)(w)
    u, state = update(grad, state, w, value=value, grad=grad,
                      value_fn=rosenbrock)
    ls = state[1]
    assert float(ls.info.decrease_error) == 0.0
    assert float(ls.info.curvature_error) == 0.0
    eta, d = float(ls.learning_rate), -grad
    w_new = gradtx.apply_updates(w, u)
    slope0 = float(jnp.vdot(grad, d))
    assert float(rosenbrock(w_new)) <= float(value) + c1 * eta * slope0 + 1e-6
    slope = float(jnp.vdot(jax.grad(rosenbrock)(w_new), d))
    assert abs(slope) <= c2 * abs(slope0) * (1 + 1e-5)
    np.testing.assert_allclose(ls.grad, jax.grad(rosenbrock)(w_new), rtol=1e-4,
                               atol=1e-4)
    w = w_new
  assert float(rosenbrock(w)) < 0.5


def test_ascent_direction_falls_back_without_crashing():
  """Not a descent direction: no step decreases f; Optax and gradtx agree."""
  f = lambda w: jnp.sum(w**2)
  w = jnp.array([1.0, 2.0])
  grad = 2 * w
  out = []
  for lib in (gradtx, optax):
    ls = lib.scale_by_zoom_linesearch(max_linesearch_steps=6)
    u, state = ls.update(grad, ls.init(w), w, value=f(w), grad=grad,
                         value_fn=f)
    out.append((np.asarray(u), float(state.learning_rate)))
    assert float(state.info.decrease_error) > 0.0
  np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-6)
  assert out[0][1] == out[1][1]


def test_bfloat16_params():
  f = lambda w: jnp.sum(w.astype(jnp.float32) ** 2)
  w0 = jnp.array([1.0, 2.0, 3.0], jnp.bfloat16)
  opt = zoom_sgd(gradtx)
  path, lrs, state, _ = drive(gradtx, opt, f, w0, 2)
  assert path.dtype == jnp.bfloat16
  assert lrs[0] == 0.5
  np.testing.assert_array_equal(path[0].astype(np.float32), 0.0)
  assert state[1].learning_rate.dtype == jnp.float32
  assert state[1].grad.dtype == jnp.bfloat16
  kinds = lambda s: jax.tree.map(lambda x: (x.dtype, x.shape), s)
  assert kinds(state) == kinds(opt.init(w0))


def test_unexpected_keyword_is_a_clear_error():
  ls = gradtx.scale_by_zoom_linesearch(5)
  w = jnp.ones(2)
  with pytest.raises(TypeError, match='batch'):
    ls.update(w, ls.init(w), w, value=1.0, grad=w, value_fn=lambda p: 0.0,
              batch=3)


@pytest.mark.parametrize('arg,value', [
    ('max_linesearch_steps', 0), ('max_learning_rate', 0.0), ('tol', -1.0),
    ('increase_factor', 1.0), ('slope_rtol', -1.0), ('curv_rtol', -1.0),
    ('approx_dec_rtol', -1.0), ('stepsize_precision', -1.0),
    ('initial_guess_strategy', 'two'),
])
def test_bad_arguments_are_rejected(arg, value):
  kw = dict(max_linesearch_steps=5)
  kw[arg] = value
  with pytest.raises(ValueError, match=arg):
    gradtx.scale_by_zoom_linesearch(**kw)
