"""Connectionist temporal classification (CTC)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gradtx.losses import _inputs
from gradtx.tree import compute_dtype



def ctc_loss_with_forward_probs(
    logits: jax.typing.ArrayLike,
    logit_paddings: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
    label_paddings: jax.typing.ArrayLike,
    *,
    blank_id: int = 0,
    log_epsilon: jax.typing.ArrayLike = -1e5,
) -> tuple[jax.Array, jax.Array, jax.Array]:
  r"""CTC loss, with the forward (alpha) log-probabilities of every frame.

  The loss is the negative log-probability of the label sequence,
  summed over all its alignments to the frames (blanks inserted, labels
  repeated; two equal labels in a row need a blank between them):

  .. math::
    \ell = -\log \sum_{\pi \in \mathcal{B}^{-1}(y)} \prod_t p_t(\pi_t)

  The forward pass keeps, for every frame ``t`` and every ``n``, the log
  probability ``log_alpha_blank[t, b, n]`` of having emitted the first
  ``n`` labels and being in a blank, and ``log_alpha_label[t, b, n]`` of
  being on label ``n`` (0-based, so ``n + 1`` labels emitted). ``log(0)``
  is replaced by ``log_epsilon``, which keeps every quantity finite.

  Args:
    logits: ``[B, T, K]`` logits of the ``K`` classes (blank included) for
      ``B`` sequences of up to ``T`` frames.
    logit_paddings: ``[B, T]``, 1.0 where a frame is padding, else 0.0.
    labels: ``[B, N]`` integer label sequences of up to ``N`` labels.
    label_paddings: ``[B, N]``, 1.0 where a label is padding, else 0.0;
      the padding must be at the end of each row.
    blank_id: the class index of the blank symbol.
    log_epsilon: the finite stand-in for ``log(0)``.

  Returns:
    ``(loss, log_alpha_blank, log_alpha_label)``: ``loss`` has shape
    ``[B]``, ``log_alpha_blank`` ``[T, B, N + 1]`` and ``log_alpha_label``
    ``[T, B, N]``.

  Raises:
    ValueError: if the ranks or the batch sizes do not match.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> logits = jnp.zeros((1, 3, 3))  # uniform over {blank, a, b}
    >>> loss, _, _ = gradtx.losses.ctc_loss_with_forward_probs(
    ...     logits, jnp.zeros((1, 3)), jnp.array([[1, 2]]), jnp.zeros((1, 2)))
    >>> print(loss)  # 5 alignments of "ab" in 3 frames, each 3**-3
    [1.686399]

  References:
    Graves et al., Connectionist Temporal Classification: Labelling
    Unsegmented Sequence Data with Recurrent Neural Networks, ICML 2006.
    Reproduces ``optax.ctc_loss_with_forward_probs``.
  """
  _inputs.check_rank('logits', logits, 3)
  _inputs.check_rank('labels', labels, 2)
  _inputs.check_same_shape('labels', labels, 'label_paddings', label_paddings)
  if _inputs.shape_of(logits)[:2] != _inputs.shape_of(logit_paddings):
    raise ValueError('logit_paddings must have shape [B, T] '
                     f'{_inputs.shape_of(logits)[:2]}, got '
                     f'{_inputs.shape_of(logit_paddings)}')
  batch, _, _ = _inputs.shape_of(logits)
  if _inputs.shape_of(labels)[0] != batch:
    raise ValueError(f'labels must have batch size {batch} (that of logits), '
                     f'got {_inputs.shape_of(labels)[0]}')
  dtype = compute_dtype(logits, jnp.float32)
  log_probs = jax.nn.log_softmax(jnp.asarray(logits).astype(dtype))
  labels = jnp.asarray(labels)
  max_labels = labels.shape[1]
  eps = jnp.asarray(log_epsilon, dtype)
  num_labels = max_labels - jnp.sum(label_paddings, axis=1).astype(jnp.int32)

  # 1 where label n equals label n + 1: going straight from one to the next
  # is forbidden, a blank must come between them.
  repeats = jnp.pad(labels[:, :-1] == labels[:, 1:], ((0, 0), (0, 1)))
  repeats = repeats.astype(dtype)
  # Per frame: [T, B, N] log-probabilities of each label, [T, B, 1] of blank.
  lp_label = jnp.take_along_axis(log_probs, labels[:, None, :], axis=2)
  lp_label = jnp.swapaxes(lp_label, 0, 1)
  lp_blank = jnp.swapaxes(log_probs[:, :, blank_id:blank_id + 1], 0, 1)
  padded = jnp.swapaxes(jnp.asarray(logit_paddings), 0, 1)[..., None] != 0

  def into_blank(blank, incoming):
    """``blank[:, n + 1] (+)= incoming[:, n]`` in log space."""
    return jnp.concatenate(
        [blank[:, :1], jnp.logaddexp(blank[:, 1:], incoming)], axis=1)

  def frame(carry, inputs):
    blank, label = carry
    lp_y, lp_b, pad = inputs
    # Leaving label n for "n + 1 labels emitted" without spending a frame,
    # so that the next frame may start label n + 1 (unless it repeats n).
    done = into_blank(blank, label + eps * repeats)
    new_label = jnp.logaddexp(done[:, :-1], label) + lp_y
    # A blank frame; after a repeated label it is the only way forward.
    new_blank = into_blank(done + lp_b, label + lp_b + eps * (1 - repeats))
    new_blank = jnp.where(pad, blank, new_blank)
    new_label = jnp.where(pad, label, new_label)
    return (new_blank, new_label), (new_blank, new_label)

  blank0 = jnp.full((batch, max_labels + 1), eps, dtype).at[:, 0].set(0)
  label0 = jnp.full((batch, max_labels), eps, dtype)
  (blank_t, label_t), (log_alpha_blank, log_alpha_label) = jax.lax.scan(
      frame, (blank0, label0), (lp_label, lp_blank, padded))
  # After the last frame, ending on the last label counts as well.
  final = into_blank(blank_t, label_t)
  log_alpha_blank = log_alpha_blank.at[-1].set(final)
  loss = -jnp.take_along_axis(final, num_labels[:, None], axis=1)[:, 0]
  return loss, log_alpha_blank, log_alpha_label


def ctc_loss(
    logits: jax.typing.ArrayLike,
    logit_paddings: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
    label_paddings: jax.typing.ArrayLike,
    *,
    blank_id: int = 0,
    log_epsilon: jax.typing.ArrayLike = -1e5,
) -> jax.Array:
  r"""CTC loss: negative log-probability of each label sequence.

  .. math::
    \ell = -\log \sum_{\pi \in \mathcal{B}^{-1}(y)} \prod_t p_t(\pi_t)

  See ``ctc_loss_with_forward_probs``, which also returns the forward
  probabilities.

  Args:
    logits: ``[B, T, K]`` logits of the ``K`` classes (blank included) for
      ``B`` sequences of up to ``T`` frames.
    logit_paddings: ``[B, T]``, 1.0 where a frame is padding, else 0.0.
    labels: ``[B, N]`` integer label sequences of up to ``N`` labels.
    label_paddings: ``[B, N]``, 1.0 where a label is padding, else 0.0;
      the padding must be at the end of each row.
    blank_id: the class index of the blank symbol.
    log_epsilon: the finite stand-in for ``log(0)``.

  Returns:
    The losses, shape ``[B]``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> logits = jnp.zeros((1, 3, 3))
    >>> print(gradtx.losses.ctc_loss(logits, jnp.zeros((1, 3)), jnp.array([[1, 2]]),
    ...                       jnp.zeros((1, 2))))
    [1.686399]

  References:
    Graves et al., Connectionist Temporal Classification, ICML 2006.
    Reproduces ``optax.ctc_loss``.
  """
  loss, _, _ = ctc_loss_with_forward_probs(
      logits, logit_paddings, labels, label_paddings, blank_id=blank_id,
      log_epsilon=log_epsilon)
  return loss
