"""Tests of ``gradtx.projections`` against float64 formulas and Optax.

The references are numpy formulas written here (the simplex projection by
bisection on its threshold, not by sorting), the optimality condition of a
Euclidean projection, and ``optax.projections`` 0.2.8 as a test-only oracle.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gradtx import projections

F32 = jnp.float32
BF16 = jnp.bfloat16


def _tree(seed=0, scale=1.0):
  r = np.random.default_rng(seed)
  return {'w': (scale * r.normal(size=(3, 4))).astype(np.float32),
          'b': (scale * r.normal(size=(4,))).astype(np.float32)}


def _flat(tree):
  return np.concatenate([np.ravel(np.asarray(tree[k], np.float64))
                         for k in ('b', 'w')])



def _np_simplex(v, s=1.0):
  """Projection onto {p >= 0, sum p = s} by bisection on the threshold."""
  lo, hi = np.min(v) - s, np.max(v)
  for _ in range(200):
    tau = (lo + hi) / 2
    if np.sum(np.maximum(v - tau, 0)) > s:
      lo = tau
    else:
      hi = tau
  return np.maximum(v - (lo + hi) / 2, 0)


def _np_l1_sphere(v, s):
  return np.sign(v) * _np_simplex(np.abs(v), s)


# name -> (call(module, x, a, lower, upper), float64 formula on flat vectors
# (x, a, lower, upper) -> flat result). ``x`` and ``a`` are trees; ``lower``
# and ``upper`` trees of bounds.
_B = 0.7  # hyperplane and halfspace offset
_SCALE = 1.3

_CASES = {
    'projection_non_negative': (
        lambda m, x, a, lo, hi: m.projection_non_negative(x),
        lambda x, a, lo, hi: np.maximum(x, 0)),
    'projection_box': (
        lambda m, x, a, lo, hi: m.projection_box(x, lo, hi),
        lambda x, a, lo, hi: np.clip(x, lo, hi)),
    'projection_hypercube': (
        lambda m, x, a, lo, hi: m.projection_hypercube(x, _SCALE),
        lambda x, a, lo, hi: np.clip(x, 0, _SCALE)),
    'projection_linf_ball': (
        lambda m, x, a, lo, hi: m.projection_linf_ball(x, _SCALE),
        lambda x, a, lo, hi: np.clip(x, -_SCALE, _SCALE)),
    'projection_simplex': (
        lambda m, x, a, lo, hi: m.projection_simplex(x, _SCALE),
        lambda x, a, lo, hi: _np_simplex(x, _SCALE)),
    'projection_l1_sphere': (
        lambda m, x, a, lo, hi: m.projection_l1_sphere(x, _SCALE),
        lambda x, a, lo, hi: _np_l1_sphere(x, _SCALE)),
    'projection_l1_ball': (
        lambda m, x, a, lo, hi: m.projection_l1_ball(x, _SCALE),
        lambda x, a, lo, hi: (x if np.sum(np.abs(x)) <= _SCALE
                              else _np_l1_sphere(x, _SCALE))),
    'projection_l2_sphere': (
        lambda m, x, a, lo, hi: m.projection_l2_sphere(x, _SCALE),
        lambda x, a, lo, hi: _SCALE * x / np.linalg.norm(x)),
    'projection_l2_ball': (
        lambda m, x, a, lo, hi: m.projection_l2_ball(x, _SCALE),
        lambda x, a, lo, hi: x * _SCALE / max(np.linalg.norm(x), _SCALE)),
    'projection_vector': (
        lambda m, x, a, lo, hi: m.projection_vector(x, a),
        lambda x, a, lo, hi: (x @ a) / (a @ a) * a),
    'projection_hyperplane': (
        lambda m, x, a, lo, hi: m.projection_hyperplane(x, a, _B),
        lambda x, a, lo, hi: x + (_B - a @ x) / (a @ a) * a),
    'projection_halfspace': (
        lambda m, x, a, lo, hi: m.projection_halfspace(x, a, _B),
        lambda x, a, lo, hi: x + min((_B - a @ x) / (a @ a), 0) * a),
}
_NAMES = sorted(_CASES)


def _all_projections(module):
  """Every projection of one set of inputs, in a single jitted function."""
  def run(x, a, lo, hi):
    out = {n: call(module, x, a, lo, hi) for n, (call, _) in _CASES.items()
           if not (module is optax.projections and n == 'projection_hypercube')}
    if module is optax.projections:  # scalar bounds only work leaf by leaf
      out['projection_hypercube'] = jax.tree.map(
          lambda v: module.projection_hypercube(v, _SCALE), x)
    return out
  return jax.jit(run)


def _inputs(seed, dtype):
  x = _tree(seed, scale=2.0)
  a = _tree(seed + 1)
  lo = jax.tree.map(lambda v: -np.abs(v) * 0.5, _tree(seed + 2))
  hi = jax.tree.map(lambda v: np.abs(v) * 0.5, _tree(seed + 3))
  return [jax.tree.map(lambda v: jnp.asarray(v, dtype), t)
          for t in (x, a, lo, hi)]


def test_same_public_names_and_signatures_as_optax():
  optax_names = {n for n in dir(optax.projections) if not n.startswith('_')}
  assert set(projections.__all__) == optax_names == set(_CASES)
  for name in projections.__all__:
    ours = inspect.signature(getattr(projections, name)).parameters
    theirs = inspect.signature(getattr(optax.projections, name)).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == [
        (p.name, p.kind, p.default) for p in theirs.values()], name


@pytest.fixture(scope='module')
def float32_results():
  inputs = _inputs(0, F32)
  return (inputs, _all_projections(projections)(*inputs),
          _all_projections(optax.projections)(*inputs))


@pytest.mark.parametrize('name', _NAMES)
def test_float32_matches_float64_formula_and_optax(name, float32_results):
  inputs, ours, theirs = float32_results
  flat = [_flat(t) for t in inputs]
  ref = _CASES[name][1](*flat)
  out = ours[name]
  assert jax.tree.structure(out) == jax.tree.structure(inputs[0])
  assert all(v.dtype == F32 for v in jax.tree.leaves(out))
  np.testing.assert_allclose(_flat(out), ref, rtol=2e-6, atol=2e-6)
  np.testing.assert_allclose(_flat(out), _flat(theirs[name]), rtol=2e-6,
                             atol=2e-6)


@pytest.mark.parametrize('name', _NAMES)
def test_bfloat16_leaves_stay_bfloat16(name):
  inputs = _inputs(4, BF16)
  out = _bf16_results()[name]
  assert all(v.dtype == BF16 for v in jax.tree.leaves(out)), name
  # The float64 projection of the rounded inputs, rounded once (2^-8), with
  # slack where the result is a difference (hyperplane, halfspace).
  ref = _CASES[name][1](*[_flat(t) for t in inputs])
  np.testing.assert_allclose(_flat(out), ref, rtol=2 ** -8,
                             atol=2e-2 * np.max(np.abs(ref)))


_BF16_CACHE = {}


def _bf16_results():
  if not _BF16_CACHE:
    _BF16_CACHE.update(_all_projections(projections)(*_inputs(4, BF16)))
  return _BF16_CACHE


def test_results_lie_in_their_sets_and_are_nearest():
  """The projection p of x onto a convex set C satisfies, for all z in C,
  <x - p, z - p> <= 0; z ranges over points of C made here."""
  r = np.random.default_rng(5)
  x = r.normal(size=8) * 2
  a = r.normal(size=8)
  proj = jax.jit(lambda x, a: {
      'simplex': projections.projection_simplex(x, _SCALE),
      'l1_ball': projections.projection_l1_ball(x, _SCALE),
      'l2_ball': projections.projection_l2_ball(x, _SCALE),
      'halfspace': projections.projection_halfspace(x, a, _B),
  })(jnp.asarray(x, F32), jnp.asarray(a, F32))
  p = {k: np.asarray(v, np.float64) for k, v in proj.items()}
  assert np.all(p['simplex'] >= 0)
  np.testing.assert_allclose(p['simplex'].sum(), _SCALE, rtol=1e-6)
  np.testing.assert_allclose(np.abs(p['l1_ball']).sum(), _SCALE, rtol=1e-6)
  np.testing.assert_allclose(np.linalg.norm(p['l2_ball']), _SCALE, rtol=1e-6)
  assert a @ p['halfspace'] <= _B + 1e-5
  for _ in range(50):
    z = r.dirichlet(np.ones(8)) * _SCALE
    assert (x - p['simplex']) @ (z - p['simplex']) <= 1e-5
    z = r.normal(size=8)
    z_l1 = z / np.abs(z).sum() * _SCALE * r.uniform()
    assert (x - p['l1_ball']) @ (z_l1 - p['l1_ball']) <= 1e-5
    z_l2 = z / np.linalg.norm(z) * _SCALE * r.uniform()
    assert (x - p['l2_ball']) @ (z_l2 - p['l2_ball']) <= 1e-5
    z_h = z - max(a @ z - _B, 0) / (a @ a) * a
    assert (x - p['halfspace']) @ (z_h - p['halfspace']) <= 1e-5


def test_box_bounds_scalar_or_tree():
  x = {'a': jnp.array([-2.0, 0.5]), 'b': jnp.array(3.0)}
  out = jax.jit(projections.projection_box)(x, -1.0, {'a': jnp.array([0.0, 0.2]),
                                                      'b': jnp.array(1.0)})
  np.testing.assert_allclose(out['a'], [-1.0, 0.2])
  np.testing.assert_allclose(out['b'], 1.0)
  with pytest.raises(ValueError, match='structure'):
    projections.projection_box(x, {'a': 0.0}, 1.0)


def test_points_inside_are_left_alone_and_traced_scale():
  x = jnp.array([0.2, -0.3, 0.1])
  a = jnp.array([1.0, 1.0, 1.0])

  @jax.jit
  def run(x, scale):
    return (projections.projection_l1_ball(x, scale),
            projections.projection_l2_ball(x, scale),
            projections.projection_linf_ball(x, scale),
            projections.projection_halfspace(x, a, scale))

  for out in run(x, jnp.asarray(1.0)):  # a traced radius
    np.testing.assert_array_equal(out, x)
  small = run(x, jnp.asarray(0.1))
  np.testing.assert_allclose(jnp.abs(small[0]).sum(), 0.1, rtol=1e-6)
  np.testing.assert_allclose(jnp.linalg.norm(small[1]), 0.1, rtol=1e-6)
  np.testing.assert_allclose(small[2], [0.1, -0.1, 0.1])


def test_simplex_jacobian_matches_optax_and_formula():
  r = np.random.default_rng(6)
  v = jnp.asarray(r.normal(size=6), F32)
  ours = jax.jit(jax.jacfwd(projections.projection_simplex))(v)
  theirs = jax.jit(jax.jacrev(optax.projections.projection_simplex))(v)
  np.testing.assert_allclose(ours, theirs, atol=1e-6)
  # Identity minus its mean on the support, zero off it.
  support = np.asarray(projections.projection_simplex(v)) > 0
  s = support.astype(np.float64)
  np.testing.assert_allclose(ours, np.diag(s) - np.outer(s, s) / s.sum(),
                             atol=1e-6)
  # Reverse mode and vmap agree with it.
  rev = jax.jit(jax.jacrev(projections.projection_simplex))(v)
  np.testing.assert_allclose(rev, ours, atol=1e-6)
  batch = jnp.stack([v, -v, 2 * v])
  rows = jax.jit(jax.vmap(projections.projection_simplex))(batch)
  for row, vec in zip(rows, batch):
    np.testing.assert_allclose(row, _np_simplex(np.asarray(vec, np.float64)),
                               atol=1e-6)
