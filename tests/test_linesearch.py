"""Backtracking line search and value_and_grad_from_state.

Hand-derived step sizes on ``‖w‖²``, the Armijo condition checked on the
accepted steps, and Optax's ``scale_by_backtracking_linesearch`` driven next to
ours on Rosenbrock for many steps.
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


def sq(w):
  return jnp.sum(w**2)


def drive(lib, opt, f, w, steps, from_state=True):
  """``steps`` jitted steps; returns the path, the states and the step."""
  value_and_grad = (lib.value_and_grad_from_state(f) if from_state
                    else lambda w, state: jax.value_and_grad(f)(w))

  @jax.jit
  def step(w, state):
    value, grad = value_and_grad(w, state=state)
    u, state = opt.update(grad, state, w, value=value, grad=grad, value_fn=f)
    return lib.apply_updates(w, u), state

  state = opt.init(w)
  path, states = [], []
  for _ in range(steps):
    w, state = step(w, state)
    path.append(np.asarray(w))
    states.append(state)
  return np.array(path), states, step


def backtracking(lib, **kw):
  return lib.chain(lib.sgd(1.0),
                   lib.scale_by_backtracking_linesearch(**kw))


def test_hand_derived_step_sizes_on_squared_norm():
  """f(w − η·2w) = (1 − 2η)²·f(w): η = 1 fails, η = 0.8 passes, then
  η = min(1.5·0.8, 1) = 1 fails again and 0.8 passes: w ← −0.6·w each step."""
  path, states, _ = drive(gradtx, backtracking(gradtx, max_backtracking_steps=15),
                          sq, jnp.array([1.0, 2.0, 3.0]), 4, from_state=False)
  expected = np.array([1.0, 2.0, 3.0]) * (-0.6) ** np.arange(1, 5)[:, None]
  np.testing.assert_allclose(path, expected, rtol=1e-5)
  for s in states:
    ls = s[1]
    np.testing.assert_allclose(ls.learning_rate, 0.8)
    assert int(ls.info.num_linesearch_steps) == 2
    assert float(ls.info.decrease_error) == 0.0


def test_max_learning_rate_and_increase_factor():
  # f = ‖w‖²/8 along −∇f: every η ≤ 1 decreases; η grows by 1.5 up to 0.9.
  f = lambda w: jnp.sum(w**2) / 8
  opt = backtracking(gradtx, max_backtracking_steps=5, max_learning_rate=0.9)
  _, states, _ = drive(gradtx, opt, f, jnp.ones(2), 2, from_state=False)
  np.testing.assert_allclose([s[1].learning_rate for s in states], [0.9, 0.9])


@pytest.mark.parametrize('kw', [
    dict(max_backtracking_steps=20),
    dict(max_backtracking_steps=20, store_grad=True, decrease_factor=0.5,
         increase_factor=2.0, slope_rtol=0.3),
    dict(max_backtracking_steps=30, atol=1e-3, rtol=1e-4),
])
def test_matches_optax_on_rosenbrock(kw):
  w0 = jnp.array([-1.2, 1.0, 0.5])
  from_state = kw.get('store_grad', False)
  ours, our_states, step = drive(gradtx, backtracking(gradtx, **kw), rosenbrock,
                                 w0, 60, from_state)
  theirs, their_states, _ = drive(optax, backtracking(optax, **kw), rosenbrock,
                                  w0, 60, from_state)
  np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose([s[1].learning_rate for s in our_states],
                             [s[1].learning_rate for s in their_states],
                             rtol=1e-5)
  assert float(rosenbrock(jnp.asarray(ours[-1]))) < 0.5 * float(rosenbrock(w0))
  assert step._cache_size() == 1  # pylint: disable=protected-access


def test_accepted_steps_satisfy_the_armijo_condition():
  c = 0.3
  opt = backtracking(gradtx, max_backtracking_steps=40, slope_rtol=c)
  update = jax.jit(opt.update, static_argnames='value_fn')
  w = jnp.array([-1.2, 1.0, 0.5])
  state = opt.init(w)
  for _ in range(20):
    value, grad = jax.value_and_grad(rosenbrock)(w)
    u, state = update(grad, state, w, value=value, grad=grad,
                      value_fn=rosenbrock)
    eta = state[1].learning_rate
    w_new = gradtx.apply_updates(w, u)
    bound = value + c * eta * jnp.vdot(-grad, grad)
    assert float(rosenbrock(w_new)) <= float(bound) + 1e-6
    w = w_new


def test_store_grad_keeps_the_gradient_at_the_accepted_point():
  opt = backtracking(gradtx, max_backtracking_steps=15, store_grad=True)
  w = jnp.array([-1.2, 1.0])
  value, grad = jax.value_and_grad(rosenbrock)(w)
  u, state = opt.update(grad, opt.init(w), w, value=value, grad=grad,
                        value_fn=rosenbrock)
  w = gradtx.apply_updates(w, u)
  v2, g2 = jax.value_and_grad(rosenbrock)(w)
  np.testing.assert_allclose(state[1].value, v2, rtol=1e-6)
  np.testing.assert_allclose(state[1].grad, g2, rtol=1e-5)


def test_nan_everywhere_gives_a_zero_step():
  f = lambda w: jnp.where(jnp.sum(w) > 0.5, jnp.nan, jnp.sum(w**2))
  opt = backtracking(gradtx, max_backtracking_steps=3)
  w = jnp.array([0.1, 0.1])
  g = jnp.array([-100.0, -100.0])  # a step of any tried size lands in the nan
  u, state = opt.update(g, opt.init(w), w, value=f(w), grad=-g, value_fn=f)
  assert float(state[1].learning_rate) == 0.0
  assert np.isinf(float(state[1].info.decrease_error))
  np.testing.assert_array_equal(u, 0.0)


def test_extra_keyword_arguments_reach_value_fn():
  def fn(params, x, y):
    return jnp.sum((x @ params - y) ** 2)
  x, y = jnp.array([[3.0, 2.0, 1.0]]), jnp.array([0.0])
  for lib in (gradtx, optax):
    opt = backtracking(lib, max_backtracking_steps=15)
    w = jnp.array([1.0, 2.0, 3.0])
    value, grad = jax.value_and_grad(fn)(w, x, y)
    u, _ = opt.update(grad, opt.init(w), w, value=value, grad=grad,
                      value_fn=fn, x=x, y=y)
    if lib is gradtx:
      ours = u
  np.testing.assert_allclose(ours, u, rtol=1e-6)
  with pytest.raises(TypeError, match='z'):
    backtracking(gradtx, max_backtracking_steps=3).update(
        grad, opt.init(w), w, value=value, grad=grad, value_fn=fn, x=x, y=y, z=1)


def test_bfloat16_params():
  f = lambda w: jnp.sum(w.astype(jnp.float32) ** 2)
  opt = backtracking(gradtx, max_backtracking_steps=15, store_grad=True)
  w0 = jnp.array([1.0, 2.0, 3.0], jnp.bfloat16)
  path, states, _ = drive(gradtx, opt, f, w0, 3)
  assert path.dtype == jnp.bfloat16
  np.testing.assert_allclose(path[0].astype(np.float32), [-0.6, -1.2, -1.8],
                             rtol=1e-2)
  assert states[-1][1].learning_rate.dtype == jnp.float32
  assert states[-1][1].grad.dtype == jnp.bfloat16


# ---------------------------------------------------------------------------
# value_and_grad_from_state.
# ---------------------------------------------------------------------------
def test_value_and_grad_from_state_computes_first_then_reads_the_state():
  opt = gradtx.lbfgs()
  vg = gradtx.value_and_grad_from_state(rosenbrock)
  w = jnp.array([-1.2, 1.0])
  state = opt.init(w)
  v, g = vg(w, state=state)  # stored value is inf: computed
  v_ref, g_ref = jax.value_and_grad(rosenbrock)(w)
  np.testing.assert_allclose(v, v_ref, rtol=1e-6)
  np.testing.assert_allclose(g, g_ref, rtol=1e-6)
  u, state = opt.update(g, state, w, value=v, grad=g, value_fn=rosenbrock)
  w = gradtx.apply_updates(w, u)
  decoy = gradtx.tree.set(state, value=jnp.asarray(123.0))
  v2, g2 = vg(w, state=decoy)  # a finite stored value is returned as it is
  assert float(v2) == 123.0
  np.testing.assert_array_equal(g2, state[2].grad)


def test_value_and_grad_from_state_passes_arguments():
  fn = lambda w, x, *, scale: scale * jnp.sum((w - x) ** 2)
  state = gradtx.chain(gradtx.sgd(1.0), gradtx.scale_by_zoom_linesearch(5)).init(
      jnp.zeros(2))
  v, g = gradtx.value_and_grad_from_state(fn)(
      jnp.zeros(2), jnp.ones(2), state=state, scale=3.0)
  assert float(v) == 6.0
  np.testing.assert_allclose(g, [-6.0, -6.0])


def test_value_and_grad_from_state_needs_a_stored_gradient():
  vg = gradtx.value_and_grad_from_state(sq)
  no_grad = backtracking(gradtx, max_backtracking_steps=3).init(jnp.zeros(2))
  with pytest.raises(ValueError, match='store_grad'):
    vg(jnp.zeros(2), state=no_grad)
  with pytest.raises(ValueError, match='value'):
    vg(jnp.zeros(2), state=gradtx.adam(0.1).init(jnp.zeros(2)))


@pytest.mark.parametrize('arg,value', [
    ('max_backtracking_steps', -1), ('max_backtracking_steps', 2.5),
    ('decrease_factor', 0.0), ('decrease_factor', 1.5),
    ('increase_factor', 0.0), ('max_learning_rate', 0.0),
    ('slope_rtol', -0.1), ('atol', -1.0), ('rtol', -1.0),
])
def test_bad_arguments_are_rejected(arg, value):
  kw = dict(max_backtracking_steps=5)
  kw[arg] = value
  with pytest.raises(ValueError, match=arg):
    gradtx.scale_by_backtracking_linesearch(**kw)


def test_verbose_searches_say_why_they_failed(capsys):
  """An ascent direction: both searches print a diagnostic under jit."""
  w = jnp.array([1.0, 2.0])
  for ls in (gradtx.scale_by_backtracking_linesearch(3, verbose=True),
             gradtx.scale_by_zoom_linesearch(4, verbose=True)):
    update = jax.jit(ls.update, static_argnames='value_fn')
    update(2 * w, ls.init(w), w, value=sq(w), grad=2 * w, value_fn=sq)
    jax.effects_barrier()
  out = capsys.readouterr().out
  assert 'backtracking_linesearch: no step size' in out
  assert 'zoom_linesearch: no step size' in out
  assert 'descent direction' in out
