"""Tests of ``gradtx.losses.ctc_loss`` and ``ctc_loss_with_forward_probs``.

The loss is checked against a brute-force float64 sum over every alignment
(every path of classes over the frames that collapses to the labels), and
the loss, its forward probabilities and its gradient against Optax 0.2.8.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gradtx import losses

F32 = jnp.float32
BF16 = jnp.bfloat16


def _log_softmax(x):
  m = np.max(x, -1, keepdims=True)
  return x - m - np.log(np.sum(np.exp(x - m), -1, keepdims=True))


# ---------------------------------------------------------------------------
def _collapse(path, blank):
  out, prev = [], None
  for k in path:
    if k != prev and k != blank:
      out.append(k)
    prev = k
  return out


def _ctc_brute_force(logits, n_frames, labels, blank):
  """-log of the summed probability of every path that collapses to labels."""
  log_p = _log_softmax(logits[:n_frames])
  total = -np.inf
  for path in itertools.product(range(logits.shape[-1]), repeat=n_frames):
    if _collapse(path, blank) == list(labels):
      total = np.logaddexp(total, sum(log_p[t, k] for t, k in enumerate(path)))
  return -total


def _ctc_inputs(seed=11):
  r = np.random.default_rng(seed)
  logits = r.normal(size=(4, 5, 3)).astype(np.float32)
  labels = np.array([[1, 2, 0], [1, 1, 0], [2, 1, 2], [1, 0, 0]])
  label_pad = np.array([[0, 0, 1], [0, 0, 1], [0, 0, 0], [0, 1, 1]], np.float32)
  logit_pad = np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0],
                        [0, 0, 0, 1, 1]], np.float32)
  return logits, logit_pad, labels, label_pad


_CTC = jax.jit(losses.ctc_loss_with_forward_probs, static_argnames='blank_id')
_OPTAX_CTC = jax.jit(optax.losses.ctc_loss_with_forward_probs,
                     static_argnames='blank_id')


def test_ctc_loss_matches_brute_force_and_optax():
  logits, logit_pad, labels, label_pad = _ctc_inputs()
  args = tuple(jnp.asarray(a) for a in (logits, logit_pad, labels, label_pad))
  ours = _CTC(*args)
  for b in range(4):
    n_frames = int(5 - logit_pad[b].sum())
    n_labels = int(3 - label_pad[b].sum())
    ref = _ctc_brute_force(logits[b].astype(float), n_frames,
                           labels[b, :n_labels], blank=0)
    np.testing.assert_allclose(ours[0][b], ref, rtol=2e-5)
  # The forward probabilities too (shapes [T, B, N + 1] and [T, B, N]).
  theirs = _OPTAX_CTC(*args)
  for a, b in zip(ours, theirs):
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-3)
  # Another blank id.
  labels2 = jnp.asarray([[0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]])
  ours = _CTC(*args[:2], labels2, args[3], blank_id=2)
  for b in range(4):
    n_frames = int(5 - logit_pad[b].sum())
    n_labels = int(3 - label_pad[b].sum())
    ref = _ctc_brute_force(logits[b].astype(float), n_frames,
                           np.asarray(labels2[b, :n_labels]), blank=2)
    np.testing.assert_allclose(ours[0][b], ref, rtol=2e-5)


def test_ctc_gradient_jit_and_bfloat16():
  logits, logit_pad, labels, label_pad = _ctc_inputs(12)
  args = [jnp.asarray(a) for a in (logits, logit_pad, labels, label_pad)]

  loss, grad = jax.jit(jax.value_and_grad(
      lambda x: losses.ctc_loss(x, *args[1:]).sum()))(args[0])
  theirs = jax.jit(jax.grad(lambda x: _OPTAX_CTC(x, *args[1:])[0].sum()))(
      args[0])
  np.testing.assert_allclose(loss, _CTC(*args)[0].sum(), rtol=1e-6)
  np.testing.assert_allclose(grad, theirs, rtol=1e-4, atol=1e-6)
  # Padded frames get no gradient.
  np.testing.assert_array_equal(grad[3, 3:], 0.0)
  bf = _CTC(args[0].astype(BF16), *args[1:])[0]
  assert bf.dtype == F32  # computed and returned in float32, as in Optax
  ref = _CTC(args[0].astype(BF16).astype(F32), *args[1:])[0]
  np.testing.assert_allclose(bf, ref, rtol=1e-6)
  with pytest.raises(ValueError, match='rank 3'):
    losses.ctc_loss(args[0][0], *args[1:])
  with pytest.raises(ValueError, match='batch size'):
    losses.ctc_loss(args[0], args[1], args[2][:2], args[3][:2])
