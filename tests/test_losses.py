"""Tests of ``gradtx.losses`` against float64 formulas written here and Optax.

Each loss is checked three ways on random inputs (fixed seeds):

* against an independent numpy/float64 formula (``_REFERENCES``), in
  float32 and with bfloat16 inputs (the bfloat16 loss must be the float64
  value of the rounded inputs, rounded once);
* against ``optax.losses`` 0.2.8 as a test-only oracle, eagerly and under
  ``jit``;
* for finiteness of the loss and its gradient at extreme logits.

Then come the arguments one by one: ``axis`` and ``where`` variants, masks
that empty a row. The edge cases where gradtx is deliberately more robust
than Optax are in ``test_losses_robust.py``. CTC is tested in
``test_losses_ctc.py``.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gradtx import losses

F32 = jnp.float32
BF16 = jnp.bfloat16


# ---------------------------------------------------------------------------
# Float64 references.
# ---------------------------------------------------------------------------
def _lse(x, axis=-1, keepdims=False):
  m = np.max(x, axis=axis, keepdims=True)
  out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
  return out if keepdims else np.squeeze(out, axis=axis)


def _log_softmax(x, axis=-1):
  return x - _lse(x, axis, keepdims=True)


def _sigmoid_ce(x, y):
  # -y log s(x) - (1-y) log s(-x), with log s(x) = -log(1 + e^-x).
  return y * np.logaddexp(0, -x) + (1 - y) * np.logaddexp(0, x)


def _sparse_plus(z):
  return np.where(z <= -1, 0.0, np.where(z >= 1, z, (z + 1) ** 2 / 4))


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


def _ref_multiclass_sparsemax(s, y):
  out = []
  for row, label in zip(s, y):
    p = _np_simplex(row)
    out.append(p @ row - row[label] + 0.5 * (1 - p @ p))
  return np.array(out)


def _ref_cosine(a, b, epsilon=0.0, axis=-1):
  na = np.sqrt(np.maximum(np.sum(a * a, axis, keepdims=True), epsilon))
  nb = np.sqrt(np.maximum(np.sum(b * b, axis, keepdims=True), epsilon))
  return np.sum(a / na * b / nb, axis)


def _ref_focal(x, y, alpha=None, gamma=2.0):
  p = 1 / (1 + np.exp(-x))
  one_minus_pt = y * (1 - p) + (1 - y) * p
  loss = _sigmoid_ce(x, y) * one_minus_pt ** gamma
  if alpha is not None:
    loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
  return loss


def _xlogx_minus(y, log_p):
  with np.errstate(divide='ignore', invalid='ignore'):
    return np.where(y == 0, 0.0, y * (np.log(np.where(y == 0, 1, y)) - log_p))


def _ref_ntxent(e, labels, temperature=0.07):
  n = len(labels)
  norms = np.sqrt(np.maximum(np.sum(e * e, 1), np.finfo(np.float32).eps))
  sims = (e / norms[:, None]) @ (e / norms[:, None]).T / temperature
  total, count = 0.0, 0
  for i in range(n):
    neg = [sims[i, k] for k in range(n) if labels[k] != labels[i]]
    for j in range(n):
      if j != i and labels[j] == labels[i]:
        denom = np.exp(sims[i, j]) + np.sum(np.exp(neg))
        total -= np.log(np.exp(sims[i, j]) / denom)
        count += 1
  return total / max(count, 1)


def _ref_triplet(a, p, n, axis=-1, norm_degree=2, margin=1.0, eps=1e-6):
  def d(u, v):
    return (np.sum(np.abs(u - v) ** norm_degree, axis) + eps) ** (
        1 / norm_degree)
  return np.maximum(d(a, p) - d(a, n) + margin, 0)


def _ref_ranking(s, y, where=None, weights=None):
  where = np.ones_like(s, bool) if where is None else where
  weights = np.ones_like(s) if weights is None else weights
  out = []
  for row_s, row_y, row_m, row_w in zip(s, y, where, weights):
    if not row_m.any():
      continue
    ls = _log_softmax(row_s[row_m])
    out.append(-np.sum(row_y[row_m] * row_w[row_m] * ls))
  return np.mean(out) if out else 0.0


def _ref_dice(x, t, smooth=1.0, alpha=0.5, beta=0.5, class_weights=None):
  p = np.exp(_log_softmax(x))  # [B, H, W, C]
  axes = tuple(range(1, x.ndim - 1))
  inter = np.sum(p * t, axes)
  fp, fn = np.sum(p, axes) - inter, np.sum(t, axes) - inter
  loss = 1 - (inter + smooth) / (inter + alpha * fp + beta * fn + smooth)
  if class_weights is not None:
    loss = loss * class_weights
  return loss.mean(-1)


def _ref_binary_dice(x, t, smooth=1.0):
  p = 1 / (1 + np.exp(-x))
  axes = tuple(range(1, x.ndim))
  inter = np.sum(p * t, axes)
  return 1 - (inter + smooth) / ((np.sum(p, axes) + np.sum(t, axes)) / 2
                                 + smooth)


def _ref_generalized_dice(x, t, smooth=1.0):
  freq = np.sum(t, axis=tuple(range(t.ndim - 1)))
  w = 1 / (freq ** 2 + 1e-7)
  w = w / w.sum() * len(w)
  p = np.exp(_log_softmax(x))
  axes = tuple(range(1, x.ndim - 1))
  inter = np.sum(p * t, axes)
  dice = 1 - (inter + smooth) / ((np.sum(p, axes) + np.sum(t, axes)) / 2
                                 + smooth)
  return np.mean(dice * w)


# name -> (make_inputs(rng) -> (args, kwargs), float64 reference)
# Arrays that are float in args get cast to the dtype under test; integer
# arrays (labels) stay integer.
def _probs(rng, shape):
  p = rng.uniform(0.05, 1.0, size=shape)
  return p / p.sum(-1, keepdims=True)


def _onehot(rng, shape):
  return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]


_CASES = {
    'squared_error': (lambda r: ((r.normal(size=(3, 4)), r.normal(size=(3, 4))), {}),
                      lambda p, t: (p - t) ** 2),
    'l2_loss': (lambda r: ((r.normal(size=(3, 4)), r.normal(size=(3, 4))), {}),
                lambda p, t: 0.5 * (p - t) ** 2),
    'huber_loss': (
        lambda r: ((3 * r.normal(size=(3, 4)), r.normal(size=(3, 4))),
                   {'delta': 1.5}),
        lambda p, t, delta: np.where(np.abs(p - t) <= delta,
                                     0.5 * (p - t) ** 2,
                                     delta * (np.abs(p - t) - 0.5 * delta))),
    'log_cosh': (lambda r: ((5 * r.normal(size=(3, 4)), r.normal(size=(3, 4))), {}),
                 lambda p, t: np.logaddexp(p - t, t - p) - np.log(2)),
    'cosine_similarity': (
        lambda r: ((r.normal(size=(3, 5)), r.normal(size=(3, 5))), {}),
        _ref_cosine),
    'cosine_distance': (
        lambda r: ((r.normal(size=(3, 5)), r.normal(size=(3, 5))), {}),
        lambda a, b: 1 - _ref_cosine(a, b)),
    'sigmoid_binary_cross_entropy': (
        lambda r: ((4 * r.normal(size=(3, 4)), r.uniform(size=(3, 4))), {}),
        _sigmoid_ce),
    'sigmoid_focal_loss': (
        lambda r: ((4 * r.normal(size=(3, 4)),
                    r.integers(0, 2, (3, 4)).astype(np.float64)),
                   {'alpha': 0.25, 'gamma': 1.5}),
        _ref_focal),
    'softmax_cross_entropy': (
        lambda r: ((3 * r.normal(size=(3, 5)), _probs(r, (3, 5))), {}),
        lambda x, y: -np.sum(y * _log_softmax(x), -1)),
    'softmax_cross_entropy_with_integer_labels': (
        lambda r: ((3 * r.normal(size=(3, 5)), r.integers(0, 5, (3,))), {}),
        lambda x, y: _lse(x) - np.take_along_axis(x, y[:, None], 1)[:, 0]),
    'safe_softmax_cross_entropy': (
        lambda r: ((3 * r.normal(size=(3, 5)), _probs(r, (3, 5))), {}),
        lambda x, y: -np.sum(y * _log_softmax(x), -1)),
    'poly_loss_cross_entropy': (
        lambda r: ((3 * r.normal(size=(3, 5)), _onehot(r, (3, 5))),
                   {'epsilon': 1.5}),
        lambda x, y, epsilon: (-np.sum(y * _log_softmax(x), -1) + epsilon
                               * np.sum(y * (1 - np.exp(_log_softmax(x))), -1))),
    'smooth_labels': (
        lambda r: ((_onehot(r, (3, 5)), 0.1), {}),
        lambda y, a: (1 - a) * y + a / 5),
    'hinge_loss': (
        lambda r: ((2 * r.normal(size=(6,)), np.array([1., -1., 1., -1., 1., -1.])), {}),
        lambda s, t: np.maximum(0, 1 - s * t)),
    'perceptron_loss': (
        lambda r: ((2 * r.normal(size=(6,)), np.array([1., -1., 1., -1., 1., -1.])), {}),
        lambda s, t: np.maximum(0, -s * t)),
    'sparsemax_loss': (
        lambda r: ((2 * r.normal(size=(8,)), r.integers(0, 2, (8,))), {}),
        lambda x, y: _sparse_plus(np.where(y == 1, -x, x))),
    'multiclass_hinge_loss': (
        lambda r: ((2 * r.normal(size=(4, 5)), r.integers(0, 5, (4,))), {}),
        lambda s, y: (np.max(s + 1 - np.eye(5)[y], -1)
                      - np.take_along_axis(s, y[:, None], 1)[:, 0])),
    'multiclass_perceptron_loss': (
        lambda r: ((2 * r.normal(size=(4, 5)), r.integers(0, 5, (4,))), {}),
        lambda s, y: np.max(s, -1) - np.take_along_axis(s, y[:, None], 1)[:, 0]),
    'multiclass_sparsemax_loss': (
        lambda r: ((r.normal(size=(4, 5)), r.integers(0, 5, (4,))), {}),
        _ref_multiclass_sparsemax),
    'kl_divergence': (
        lambda r: ((_log_softmax(r.normal(size=(3, 5))), _probs(r, (3, 5))), {}),
        lambda lp, y: np.sum(_xlogx_minus(y, lp), -1)),
    'kl_divergence_with_log_targets': (
        lambda r: ((_log_softmax(r.normal(size=(3, 5))),
                    _log_softmax(r.normal(size=(3, 5)))), {}),
        lambda lp, ly: np.sum(np.exp(ly) * (ly - lp), -1)),
    'generalized_kl_divergence': (
        lambda r: ((r.normal(size=(3, 5)), r.uniform(0.1, 2, size=(3, 5))), {}),
        lambda lp, y: np.sum(_xlogx_minus(y, lp) + np.exp(lp) - y, -1)),
    'ntxent': (
        lambda r: ((r.normal(size=(6, 3)), np.array([0, 0, 1, 1, 2, 2])),
                   {'temperature': 0.5}),
        _ref_ntxent),
    'triplet_margin_loss': (
        lambda r: ((r.normal(size=(4, 3)), r.normal(size=(4, 3)),
                    r.normal(size=(4, 3))), {'margin': 0.5}),
        _ref_triplet),
    'ranking_softmax_loss': (
        lambda r: ((r.normal(size=(3, 5)), r.integers(0, 3, (3, 5)).astype(float)),
                   {}),
        _ref_ranking),
    'dice_loss': (
        lambda r: ((2 * r.normal(size=(2, 3, 3, 4)), _onehot(r, (2, 3, 3, 4))),
                   {'alpha': 0.3, 'beta': 0.7}),
        _ref_dice),
    'binary_dice_loss': (
        lambda r: ((2 * r.normal(size=(2, 3, 3)),
                    r.integers(0, 2, (2, 3, 3)).astype(float)), {}),
        _ref_binary_dice),
    'multiclass_generalized_dice_loss': (
        lambda r: ((2 * r.normal(size=(2, 3, 3, 4)), _onehot(r, (2, 3, 3, 4))), {}),
        _ref_generalized_dice),
}

_NAMES = sorted(_CASES)


def _inputs(name, seed=0):
  args, kwargs = _CASES[name][0](np.random.default_rng(seed))
  return args, kwargs


def _cast(x, dtype):
  x = np.asarray(x)
  if np.issubdtype(x.dtype, np.floating) and x.ndim > 0:
    return jnp.asarray(x, dtype)
  if np.issubdtype(x.dtype, np.floating):
    return float(x)
  return jnp.asarray(x)


def _as64(x):
  x = np.asarray(x)
  return x.astype(np.float64) if np.issubdtype(x.dtype, np.floating) or (
      x.dtype == jnp.bfloat16) else x


# ---------------------------------------------------------------------------
# The public surface.
# ---------------------------------------------------------------------------
def test_same_public_names_as_optax_losses():
  optax_names = {n for n in dir(optax.losses) if not n.startswith('_')}
  assert set(losses.__all__) == optax_names
  for name in losses.__all__:
    assert getattr(losses, name).__module__.startswith('gradtx.losses.')


@pytest.mark.parametrize('name', sorted(losses.__all__))
def test_same_signature_as_optax(name):
  def params(f):
    return [(p.name, p.kind, p.default)
            for p in inspect.signature(f).parameters.values()]
  assert params(getattr(losses, name)) == params(getattr(optax.losses, name))


def test_every_loss_has_a_reference_here():
  covered = set(_CASES) | {'convex_kl_divergence', 'make_fenchel_young_loss',
                           # in test_losses_ctc.py
                           'ctc_loss', 'ctc_loss_with_forward_probs'}
  assert covered == set(losses.__all__)


# ---------------------------------------------------------------------------
# Every loss: float64 formula, Optax, jit, bfloat16.
# ---------------------------------------------------------------------------
# Losses whose Optax output is float32 for bfloat16 inputs, while gradtx keeps
# the input dtype (a float32 one-hot, constant or projection promotes).
_OPTAX_PROMOTES = {'multiclass_hinge_loss', 'multiclass_perceptron_loss',
                   'multiclass_sparsemax_loss',
                   'multiclass_generalized_dice_loss', 'smooth_labels'}


def _both_dtypes(fn, args, kwargs):
  """In one jitted call: ``fn`` on float32 and on bfloat16 inputs, and the
  float32 gradient of ``sum(fn)`` with respect to the first argument."""
  f32 = [_cast(a, F32) for a in args]
  bf16 = [_cast(a, BF16) for a in args]
  arrays = [i for i, a in enumerate(f32) if hasattr(a, 'dtype')]

  def call(vals, base):
    full = list(base)
    for i, v in zip(arrays, vals):
      full[i] = v
    return fn(*full, **kwargs)

  def run(xs, ys):
    grad = jax.grad(lambda first: jnp.sum(call([first] + xs[1:], f32)))(xs[0])
    return call(xs, f32), call(ys, bf16), grad

  with jax.numpy_rank_promotion('allow'):  # Optax relies on it here and there
    return jax.jit(run)([f32[i] for i in arrays], [bf16[i] for i in arrays])


def _numerical_gradient(reference, args, kwargs, h=1e-6):
  """Central differences of ``sum(reference)`` in the first argument."""
  x = _as64(args[0])
  grad = np.zeros_like(x)
  for i in np.ndindex(x.shape):
    up, down = x.copy(), x.copy()
    up[i] += h
    down[i] -= h
    grad[i] = (np.sum(reference(up, *args[1:], **kwargs))
               - np.sum(reference(down, *args[1:], **kwargs))) / (2 * h)
  return grad


@pytest.mark.parametrize('name', _NAMES)
def test_matches_float64_formula_and_optax_in_float32_and_bfloat16(name):
  args, kwargs = _inputs(name)
  reference = _CASES[name][1]
  ours32, ours16, our_grad = _both_dtypes(getattr(losses, name), args, kwargs)
  theirs32, theirs16, their_grad = _both_dtypes(getattr(optax.losses, name),
                                                args, kwargs)

  # float32: the float64 formula and Optax, to float32 rounding; gradients
  # against central differences of the formula, and against Optax.
  assert ours32.dtype == F32
  args64 = [_as64(a) for a in args]
  ref = reference(*args64, **kwargs)
  np.testing.assert_allclose(ours32, ref, rtol=2e-5, atol=2e-6)
  np.testing.assert_allclose(ours32, theirs32, rtol=2e-5, atol=2e-6)
  np.testing.assert_allclose(our_grad, _numerical_gradient(reference, args64,
                                                           kwargs),
                             rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(our_grad, their_grad, rtol=1e-5, atol=1e-6)

  # bfloat16 inputs: the exact (float64) loss of the rounded inputs, rounded
  # once (relative error <= 2^-8), in bfloat16; Optax to bfloat16 accuracy.
  bf_args = [_cast(a, BF16) for a in args]
  ref = np.asarray(reference(*[_as64(a) for a in bf_args], **kwargs))
  assert ours16.dtype == BF16, ours16.dtype
  scale = max(1.0, float(np.max(np.abs(ref))))
  np.testing.assert_allclose(np.asarray(ours16, np.float64), ref,
                             rtol=2 ** -8, atol=4e-3 * scale)
  if name not in _OPTAX_PROMOTES:
    assert theirs16.dtype == BF16
  np.testing.assert_allclose(np.asarray(ours16, np.float64),
                             np.asarray(theirs16, np.float64), rtol=5e-2,
                             atol=5e-2 * scale)


@pytest.mark.parametrize('name', ['softmax_cross_entropy_with_integer_labels',
                                  'ranking_softmax_loss', 'log_cosh'])
def test_eager_equals_jit(name):
  args, kwargs = _inputs(name, seed=1)
  args = [_cast(a, F32) for a in args]
  fn = getattr(losses, name)
  jitted = jax.jit(lambda *a: fn(*a, **kwargs))(*args)
  np.testing.assert_allclose(fn(*args, **kwargs), jitted, rtol=1e-6, atol=1e-7)


def _j(fn, allow_rank_promotion=False):
  """``fn`` under ``jit`` (one compilation instead of one per operation).

  Array keyword arguments are traced; the others (``axis``, ``reduce_fn``,
  ...) are bound statically.
  """
  def call(*args, **kwargs):
    dynamic = {k: v for k, v in kwargs.items()
               if isinstance(v, (jax.Array, np.ndarray))}
    static = {k: v for k, v in kwargs.items() if k not in dynamic}
    jitted = jax.jit(lambda a, d: fn(*a, **d, **static))
    with jax.numpy_rank_promotion(
        'allow' if allow_rank_promotion else 'raise'):
      return jitted(args, dynamic)
  return call


def _once(thunk, allow_rank_promotion=False):
  """Evaluates ``thunk()`` (a dict of losses) in one jitted call."""
  with jax.numpy_rank_promotion('allow' if allow_rank_promotion else 'raise'):
    return jax.jit(thunk)()


def _jgrad(fn, argnums=0):
  return jax.jit(jax.grad(fn, argnums))


# ---------------------------------------------------------------------------
# Extreme logits: finite losses and the exact gradients.
# ---------------------------------------------------------------------------
_EXTREME = np.array([[-1e4, 0.0, 1e4], [80.0, -80.0, 3.0]], np.float32)


def _value_and_grad(fn, x):
  return jax.value_and_grad(lambda x: fn(x).astype(F32).sum())(x)


@pytest.mark.parametrize('dtype', [F32, BF16])
def test_classification_losses_at_extreme_logits(dtype):
  x = jnp.asarray(_EXTREME, dtype)
  y_bin = jnp.asarray([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype)
  y_cls = jnp.asarray([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype)
  labels = jnp.array([2, 1])
  L = losses  # pylint: disable=invalid-name
  out = _once(lambda: {
      'sigmoid': _value_and_grad(
          lambda x: L.sigmoid_binary_cross_entropy(x, y_bin), x),
      'focal_0.5': _value_and_grad(
          lambda x: L.sigmoid_focal_loss(x, y_bin, gamma=0.5), x),
      'focal_2': _value_and_grad(
          lambda x: L.sigmoid_focal_loss(x, y_bin, alpha=0.25), x),
      'softmax': _value_and_grad(lambda x: L.softmax_cross_entropy(x, y_cls), x),
      'safe': _value_and_grad(
          lambda x: L.safe_softmax_cross_entropy(x, y_cls), x),
      'integer': _value_and_grad(
          lambda x: L.softmax_cross_entropy_with_integer_labels(x, labels), x),
      'poly': _value_and_grad(lambda x: L.poly_loss_cross_entropy(x, y_cls), x),
  })
  for name, (value, grad) in out.items():
    assert np.isfinite(float(value)) and np.all(np.isfinite(grad)), name
    assert grad.dtype == dtype
  x64 = np.asarray(x, np.float64)
  np.testing.assert_allclose(
      out['sigmoid'][0], _sigmoid_ce(x64, np.asarray(y_bin, float)).sum(),
      rtol=1e-6)
  sig = 1 / (1 + np.exp(-np.clip(x64, -500, 500)))
  soft = np.exp(_log_softmax(x64))
  tol = 1e-6 if dtype == F32 else 2 ** -8
  np.testing.assert_allclose(out['sigmoid'][1], sig - np.asarray(y_bin, float),
                             atol=tol)
  for name in ('softmax', 'safe', 'integer'):
    # Row 0 is confidently right (loss 0), row 1 wrong by 160.
    np.testing.assert_allclose(out[name][0], 160.0, rtol=1e-6)
    np.testing.assert_allclose(out[name][1], soft - np.asarray(y_cls, float),
                               atol=tol)
  # Right and confident: the focal loss and its gradient vanish.
  for name in ('focal_0.5', 'focal_2'):
    assert abs(float(out[name][1][0, 2])) < 1e-30


def test_log_cosh_accurate_for_tiny_and_huge_errors():
  e = np.array([1e-6, 1e-4, 0.3, 0.999, 1.0, 5.0, 1e3, 1e5], np.float32)
  ours = np.asarray(_j(losses.log_cosh)(jnp.asarray(e)), np.float64)
  e64 = e.astype(np.float64)
  small = np.where(np.abs(e64) < 1, e64, 0)  # cosh(e) - 1 = expm1(e)^2/(2e^e)
  ref = np.where(np.abs(e64) < 1,
                 np.log1p(np.expm1(small) ** 2 / (2 * np.exp(small))),
                 np.abs(e64) + np.log1p(np.exp(-2 * np.abs(e64))) - np.log(2))
  np.testing.assert_allclose(ours, ref, rtol=3e-7)
  # Optax's logaddexp(e, -e) - log 2 loses all digits at 1e-4 (e^2/2 < eps).
  theirs = np.asarray(_j(optax.losses.log_cosh, True)(jnp.asarray(e)), np.float64)
  np.testing.assert_allclose(ours[2:], theirs[2:], rtol=2e-6)
  assert abs(theirs[0] - ref[0]) > 1e3 * abs(ours[0] - ref[0])
  grad = _jgrad(lambda x: _j(losses.log_cosh)(x).sum())(jnp.asarray(e))
  np.testing.assert_allclose(grad, np.tanh(e64), rtol=1e-6)


def test_huber_gradient_is_clipped_l2_gradient():
  e = jnp.array([-3.0, -0.5, 0.0, 0.4, 2.0])
  grad = _jgrad(lambda x: _j(losses.huber_loss)(x, delta=1.0).sum())(e)
  np.testing.assert_allclose(grad, np.clip(e, -1, 1))


# ---------------------------------------------------------------------------
# axis and where.
# ---------------------------------------------------------------------------
_AXIS_WHERE_LOSSES = ['softmax_cross_entropy', 'poly_loss_cross_entropy',
                      'kl_divergence', 'kl_divergence_with_log_targets',
                      'generalized_kl_divergence', 'cosine_similarity',
                      'cosine_distance']


def _axis_where_inputs(seed=3):
  r = np.random.default_rng(seed)
  x = r.normal(size=(4, 3, 5)).astype(np.float32)
  y = _probs(r, (4, 3, 5)).astype(np.float32)
  mask = r.uniform(size=(4, 3, 5)) > 0.3
  return x, y, mask


_ROWS = [(0, 0), (1, 2), (3, 1)]


@pytest.mark.parametrize('name', _AXIS_WHERE_LOSSES)
def test_axis_and_where_match_optax_moveaxis_and_dropping_entries(name):
  x, y, mask = _axis_where_inputs()
  if name == 'kl_divergence_with_log_targets':
    y = np.log(y)
  x, y, where = jnp.asarray(x), jnp.asarray(y), jnp.asarray(mask)

  def run(module):
    fn = getattr(module, name)
    return lambda: {'axis1': fn(x, y, axis=1), 'axis12': fn(x, y, axis=(1, 2)),
                    'where': fn(x, y, where=where)}

  ours, theirs = _once(run(losses)), _once(run(optax.losses))
  for key in ours:
    np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6)
  fn = getattr(losses, name)
  # axis=1 is the same as moving that axis last; a mask, row by row, is the
  # same as leaving the masked entries out.
  independent = _once(lambda: {
      'last': fn(jnp.moveaxis(x, 1, -1), jnp.moveaxis(y, 1, -1)),
      'rows': [fn(x[i, j][mask[i, j]], y[i, j][mask[i, j]]) for i, j in _ROWS]})
  np.testing.assert_allclose(ours['axis1'], independent['last'], rtol=1e-6,
                             atol=1e-7)
  for (i, j), alone in zip(_ROWS, independent['rows']):
    np.testing.assert_allclose(ours['where'][i, j], alone, rtol=1e-5,
                               atol=1e-6)


def test_softmax_cross_entropy_batch_shaped_where_and_empty_rows():
  x, y, _ = _axis_where_inputs()
  rows = jnp.array([[True, False, True]] * 4)  # batch-shaped: whole rows
  ours = _j(losses.softmax_cross_entropy)(jnp.asarray(x), jnp.asarray(y),
                                      where=rows)
  theirs = _j(optax.losses.softmax_cross_entropy, True)(jnp.asarray(x), jnp.asarray(y),
                                              where=rows)
  np.testing.assert_allclose(ours, theirs, rtol=1e-6)
  np.testing.assert_array_equal(ours[:, 1], 0.0)
  # An element mask that empties a row: loss 0, and no nan in the gradient.
  mask = np.ones((2, 5), bool)
  mask[1] = False
  for fn in (losses.softmax_cross_entropy, losses.poly_loss_cross_entropy):
    grad = _jgrad(lambda x: fn(x, jnp.asarray(y[0, :2]),
                                 where=jnp.asarray(mask)).sum())(
                                     jnp.asarray(x[0, :2]))
    assert np.all(np.isfinite(grad)), (fn.__name__, grad)
    np.testing.assert_array_equal(grad[1], 0.0)


def test_integer_labels_axis_and_where():
  r = np.random.default_rng(4)
  x = jnp.asarray(r.normal(size=(2, 3, 4, 5)), F32)
  labels = jnp.asarray(r.integers(0, 4, (2, 3, 5)))
  flat = jnp.asarray(r.integers(0, 12, (2, 5)))
  mask = np.ones((2, 3, 4, 5), bool)
  mask[:, :, 3] = False
  mask[1, 2] = False
  mask = jnp.asarray(mask)

  def run(module):
    fn = module.softmax_cross_entropy_with_integer_labels
    return lambda: {'axis': fn(x, labels, axis=2),
                    'tuple': fn(x, flat, axis=(1, 2)),
                    'where': fn(x, labels % 3, axis=2, where=mask)}

  ours, theirs = _once(run(losses)), _once(run(optax.losses))
  for key in ours:
    np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-6)
  x64 = np.asarray(x, float)
  np.testing.assert_allclose(
      ours['axis'], _lse(x64, 2) - np.take_along_axis(
          x64, np.asarray(labels)[:, :, None], 2)[:, :, 0], rtol=1e-5)
  # A tuple of axes: the classes are the flattened (3, 4) slice.
  x2 = np.moveaxis(x64, 3, 1).reshape(2, 5, 12)
  ref = _lse(x2) - np.take_along_axis(x2, np.asarray(flat)[..., None], 2)[..., 0]
  np.testing.assert_allclose(ours['tuple'], ref, rtol=1e-5)
  # where: a masked class leaves the normalizer; an empty row gives 0, and
  # the gradient is 0 there (and for the masked class), not nan.
  np.testing.assert_array_equal(ours['where'][1, 2], 0.0)
  grad = _jgrad(lambda x: losses.softmax_cross_entropy_with_integer_labels(
      x, labels % 3, axis=2, where=mask).sum())(x)
  assert np.all(np.isfinite(grad))
  np.testing.assert_array_equal(grad[1, 2], 0.0)
  np.testing.assert_array_equal(grad[:, :, 3], 0.0)
  with pytest.raises(ValueError, match='axis'):
    losses.softmax_cross_entropy_with_integer_labels(x, labels, axis=[2])


def test_smooth_labels_axis_and_where():
  y = jnp.asarray(np.eye(4, dtype=np.float32)[[0, 3, 1]])
  np.testing.assert_allclose(_j(losses.smooth_labels)(y, 0.2),
                             _j(optax.smooth_labels, True)(y, 0.2), rtol=1e-7)
  np.testing.assert_allclose(_j(losses.smooth_labels)(y, 0.2, axis=0),
                             0.8 * y + 0.2 / 3, rtol=1e-6)
  where = jnp.asarray([[True, True, False, False]] * 3)
  ours = _j(losses.smooth_labels)(y, 0.2, where=where)
  np.testing.assert_allclose(ours, 0.8 * y + 0.1, rtol=1e-6)
  np.testing.assert_allclose(ours, _j(optax.smooth_labels, True)(y, 0.2, where=where),
                             rtol=1e-6)
  assert _j(losses.smooth_labels)(y.astype(BF16), 0.2, where=where).dtype == BF16
