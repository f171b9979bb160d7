"""``gradtx.losses`` where it is deliberately more robust than Optax.

Each difference is documented in the docstring it tests; the helpers and the
float64 references are those of ``test_losses.py``.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gradtx import losses
from tests.test_losses import (  # noqa: F401  pylint: disable=unused-import
    BF16, F32, _j, _jgrad, _np_simplex, _once, _onehot, _ref_dice,
    _ref_ntxent, _ref_ranking, _ref_triplet)


# ---------------------------------------------------------------------------
# Deliberate robustness (documented differences from Optax).
# ---------------------------------------------------------------------------
def test_safe_softmax_cross_entropy_with_minus_inf_logits():
  x = jnp.array([[0.0, 1.0, -jnp.inf], [2.0, -jnp.inf, -jnp.inf]])
  y = jnp.array([[0.3, 0.7, 0.0], [1.0, 0.0, 0.0]])
  ours = _j(losses.safe_softmax_cross_entropy)(x, y)
  ref = -(0.3 * np.log(1 / (1 + np.e)) + 0.7 * np.log(np.e / (1 + np.e)))
  np.testing.assert_allclose(ours, [ref, 0.0], rtol=1e-6)
  np.testing.assert_allclose(ours, _j(optax.losses.safe_softmax_cross_entropy, True)(x, y),
                             rtol=1e-6)
  assert np.all(np.isnan(_j(losses.softmax_cross_entropy)(x, y)[1:]))  # as Optax
  grad = _jgrad(lambda x: _j(losses.safe_softmax_cross_entropy)(x, y).sum())(x)
  np.testing.assert_allclose(grad, jax.nn.softmax(x) - y, atol=1e-6)


def test_kl_divergence_zero_targets_value_and_gradients():
  log_p = jnp.log(jnp.array([0.2, 0.3, 0.5]))
  y = jnp.array([0.0, 0.4, 0.6])
  ref = 0.4 * np.log(0.4 / 0.3) + 0.6 * np.log(0.6 / 0.5)
  np.testing.assert_allclose(_j(losses.kl_divergence)(log_p, y), ref, rtol=1e-6)
  g_p, g_y = _jgrad(lambda a, b: _j(losses.kl_divergence)(a, b), (0, 1))(log_p, y)
  np.testing.assert_allclose(g_p, -y, rtol=1e-6)
  # d/dy [y log y - y log p] = log y + 1 - log p; at y = 0 the y log y term
  # contributes 0 (Optax returns nan there).
  assert np.all(np.isfinite(g_y))
  np.testing.assert_allclose(g_y[1:], np.log(y[1:]) + 1 - log_p[1:], rtol=1e-5)
  g_optax = _jgrad(optax.losses.kl_divergence, 1)(log_p, y)
  assert np.isnan(g_optax[0])


def test_convex_kl_divergence_is_deprecated_alias():
  log_p, y = jnp.log(jnp.array([1.0, 2.0])), jnp.array([1.0, 1.0])
  with pytest.warns(DeprecationWarning, match='generalized_kl_divergence'):
    out = _j(losses.convex_kl_divergence)(log_p, y)
  np.testing.assert_allclose(out, 1 - np.log(2), rtol=1e-6)
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    np.testing.assert_allclose(out, _j(optax.losses.convex_kl_divergence, True)(log_p, y))


def test_ranking_softmax_loss_where_weights_reduce_fn():
  r = np.random.default_rng(5)
  s = r.normal(size=(3, 4)).astype(np.float32)
  y = r.integers(0, 3, (3, 4)).astype(np.float32)
  w = r.uniform(0.5, 2, (3, 4)).astype(np.float32)
  mask = np.array([[1, 1, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1]], bool)
  args = (jnp.asarray(s), jnp.asarray(y))
  where, empty = jnp.asarray(mask), jnp.zeros((3, 4), bool)
  options = ({}, {'where': where}, {'weights': jnp.asarray(w)},
             {'where': where, 'reduce_fn': jnp.sum},
             {'where': where, 'reduce_fn': None})

  def run(module):
    return lambda: [module.ranking_softmax_loss(*args, **kw) for kw in options]

  ours = _once(run(losses))
  for a, b in zip(ours, _once(run(optax.losses))):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
  np.testing.assert_allclose(ours[1], _ref_ranking(s.astype(float), y, mask),
                             rtol=1e-6)
  np.testing.assert_allclose(ours[2], _ref_ranking(s.astype(float), y, None, w),
                             rtol=1e-6)
  # No valid list at all: 0, with a zero (not nan) gradient; an empty list
  # gets a zero gradient.
  fn = losses.ranking_softmax_loss
  grads = _once(lambda: {
      'value': fn(*args, where=empty),
      'empty': jax.grad(lambda s: fn(s, args[1], where=empty))(args[0]),
      'mask': jax.grad(lambda s: fn(s, args[1], where=where))(args[0])})
  assert float(grads['value']) == 0.0
  np.testing.assert_array_equal(grads['empty'], 0.0)
  assert np.all(np.isfinite(grads['mask']))
  np.testing.assert_array_equal(grads['mask'][1], 0.0)


def test_ntxent_gradient_finite_and_no_positive_pairs():
  r = np.random.default_rng(6)
  e = jnp.asarray(r.normal(size=(6, 3)), F32)
  labels = jnp.array([0, 0, 1, 1, 2, 2])
  out = _once(lambda: {
      'loss': losses.ntxent(e, labels, temperature=0.01),
      'grad': jax.grad(lambda e: losses.ntxent(e, labels, 0.01))(e),
      # All labels different: no positive pair; 0 here, nan in Optax.
      'no_pairs': losses.ntxent(e, jnp.arange(6)),
      # All labels equal: no negatives, each pair's softmax is 1, loss 0.
      'no_negatives': losses.ntxent(e, jnp.zeros(6, int))})
  assert np.all(np.isfinite(out['grad']))
  np.testing.assert_allclose(
      out['loss'], _ref_ntxent(np.asarray(e, float), np.asarray(labels), 0.01),
      rtol=1e-4)
  assert float(out['no_pairs']) == 0.0
  np.testing.assert_allclose(out['no_negatives'], 0.0, atol=1e-6)
  with pytest.raises(ValueError, match='leading dimension'):
    losses.ntxent(e, jnp.arange(5))


def test_triplet_margin_loss_is_a_norm_for_odd_degrees():
  r = np.random.default_rng(7)
  a, p, n = (r.normal(size=(4, 3)).astype(np.float32) for _ in range(3))
  for degree in (1, 3):
    ours = _j(losses.triplet_margin_loss)(a, p, n, norm_degree=degree)
    np.testing.assert_allclose(
        ours, _ref_triplet(*(x.astype(float) for x in (a, p, n)),
                           norm_degree=degree), rtol=1e-5)
  ours = _j(losses.triplet_margin_loss)(a, p, n, axis=0, margin=0.3)
  np.testing.assert_allclose(
      ours, _j(optax.losses.triplet_margin_loss, True)(a, p, n, axis=0, margin=0.3),
      rtol=1e-6)


def test_multiclass_sparsemax_gradient_is_p_minus_onehot():
  r = np.random.default_rng(8)
  s = jnp.asarray(r.normal(size=(4, 5)), F32)
  y = jnp.asarray(r.integers(0, 5, (4,)))
  grad = _jgrad(lambda s: _j(losses.multiclass_sparsemax_loss)(s, y).sum())(s)
  p = np.stack([_np_simplex(row) for row in np.asarray(s, float)])
  np.testing.assert_allclose(grad, p - np.eye(5)[y], atol=1e-6)
  # Works on one example, and on several leading axes.
  np.testing.assert_allclose(_j(losses.multiclass_sparsemax_loss)(s[0], y[0]),
                             _j(losses.multiclass_sparsemax_loss)(s, y)[0])
  assert _j(losses.multiclass_sparsemax_loss)(s.reshape(2, 2, 5),
                                          y.reshape(2, 2)).shape == (2, 2)


def test_fenchel_young_loss_of_logsumexp_is_softmax_cross_entropy():
  r = np.random.default_rng(9)
  s = jnp.asarray(r.normal(size=(2, 3, 5)), F32)
  y = jnp.asarray(_onehot(r, (2, 3, 5)), F32)
  ours = losses.make_fenchel_young_loss(jax.scipy.special.logsumexp)
  theirs = optax.losses.make_fenchel_young_loss(jax.scipy.special.logsumexp)
  out = _once(lambda: {'ours': ours(s, y), 'theirs': theirs(s, y),
                       'ce': losses.softmax_cross_entropy(s, y)})
  np.testing.assert_allclose(out['ours'], out['ce'], rtol=1e-6)
  np.testing.assert_allclose(out['ours'], out['theirs'], rtol=1e-6)
  grad = _jgrad(lambda s: ours(s, y).sum())(s)
  np.testing.assert_allclose(grad, jax.nn.softmax(s) - y, atol=1e-6)


def test_dice_options_match_optax_and_errors():
  r = np.random.default_rng(10)
  x = jnp.asarray(2 * r.normal(size=(2, 3, 3, 4)), F32)
  t = jnp.asarray(_onehot(r, (2, 3, 3, 4)), F32)
  w = jnp.array([0.5, 1.0, 2.0, 1.0])
  options = ({'reduction': 'none'}, {'reduction': 'sum'}, {'class_weights': w},
             {'ignore_background': True}, {'axis': (1,), 'smooth': 0.1})

  def run(module):
    return lambda: [module.dice_loss(x, t, **kw) for kw in options]

  ours = _once(run(losses))
  for a, b in zip(ours, _once(run(optax.losses), True)):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
  np.testing.assert_allclose(
      ours[2], _ref_dice(np.asarray(x, float), np.asarray(t, float),
                         class_weights=np.asarray(w)), rtol=1e-5)
  # Probabilities with apply_softmax=False: the same loss. Under jit they
  # cannot be inspected, and are accepted rather than rejected.
  probs = jax.nn.softmax(x)
  np.testing.assert_allclose(
      _j(losses.dice_loss)(probs, t, apply_softmax=False),
      _j(losses.dice_loss)(x, t), rtol=1e-6)
  with pytest.raises(ValueError, match='probability distributions'):
    losses.dice_loss(x, t, apply_softmax=False)  # eager: inspected
  with pytest.raises(ValueError, match='reduction'):
    losses.dice_loss(x, t, reduction='max')
  with pytest.raises(ValueError, match='same shape'):
    losses.dice_loss(x, t[..., :3])


def test_type_and_shape_errors_name_the_argument():
  ints = jnp.arange(6).reshape(2, 3)
  floats = jnp.ones((2, 3))
  with pytest.raises(TypeError, match='logits'):
    _j(losses.softmax_cross_entropy)(ints, floats)
  with pytest.raises(TypeError, match='labels'):
    _j(losses.softmax_cross_entropy_with_integer_labels)(floats, jnp.ones(2))
  with pytest.raises(TypeError, match='predictions'):
    _j(losses.l2_loss)(ints)
  with pytest.raises(ValueError, match='same shape'):
    _j(losses.squared_error)(floats, jnp.ones((3,)))
  with pytest.raises(ValueError, match='same shape'):
    _j(losses.perceptron_loss)(floats, jnp.ones((2, 1)))
