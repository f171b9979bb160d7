"""Shared driver of the framework-compat tests: one problem, two trajectories.

The gradient at step ``t`` is ``g = s·(c·(θ − ½) + r_t)`` with fixed
coefficients ``c``, noise ``r_t`` and sign ``s``, computed in float32 from the
current params on both sides, so that a framework and gradtx see the same
gradients as long as their params agree.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import gradtx

STEPS = 200
SHAPES = {'layer': {'bias': (4,), 'weight': (3, 4)}}


def problem(seed: int = 0, steps: int = STEPS):
  """``(theta0, coef, noise)`` as nested dicts of float32 NumPy arrays."""
  rng = np.random.default_rng(seed)
  make = lambda f: jax.tree.map(f, SHAPES, is_leaf=lambda x: isinstance(x, tuple))
  theta0 = make(lambda s: rng.normal(size=s).astype(np.float32))
  coef = make(lambda s: rng.uniform(0.5, 2.0, size=s).astype(np.float32))
  noise = make(lambda s: (0.5 * rng.normal(size=(steps,) + s)).astype(np.float32))
  return theta0, coef, noise


def grad_np(p, c, r, sign=1.0):
  return (np.float32(sign) * (c * (p - np.float32(0.5)) + r)).astype(np.float32)


def run_gradtx(tx, theta0, coef, noise, sign=1.0, dtype=jnp.float32):
  """The params after every step, stacked (leading axis: the step)."""
  p0 = jax.tree.map(lambda x: jnp.asarray(x, dtype), theta0)

  @jax.jit
  def run(p0, noise):
    def body(carry, r):
      p, s = carry
      g = jax.tree.map(
          lambda p_, c, r_: (sign * (c * (p_.astype(jnp.float32) - 0.5) + r_)
                             ).astype(p_.dtype), p, coef, r)
      u, s = tx.update(g, s, p)
      p = gradtx.apply_updates(p, u)
      return (p, s), p

    (_, state), path = jax.lax.scan(body, (p0, tx.init(p0)), noise)
    return path, state

  return run(p0, noise)


def assert_paths_close(ours, ref, rtol=1e-5, atol=1e-5):
  """Compares two stacked trajectories leaf by leaf, naming the first bad step."""
  for path, a in jax.tree_util.tree_flatten_with_path(ours)[0]:
    b = np.asarray(ref[path[0].key][path[1].key] if len(path) == 2 else ref[path[0].key])
    a = np.asarray(a, np.float64)
    assert a.shape == b.shape, (path, a.shape, b.shape)
    bad = ~np.isclose(a, b, rtol=rtol, atol=atol)
    if bad.any():
      t = int(np.argwhere(bad.reshape(len(a), -1).any(-1))[0, 0])
      np.testing.assert_allclose(
          a[t], b[t], rtol=rtol, atol=atol,
          err_msg=f'{jax.tree_util.keystr(path)} first differs at step {t}')
