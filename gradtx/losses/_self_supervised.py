"""Contrastive and metric-learning losses: NT-Xent and the triplet loss."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gradtx.losses import _inputs
from gradtx.losses import _masked
from gradtx.losses._regression import cosine_similarity


def ntxent(
    embeddings: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
    temperature: jax.typing.ArrayLike = 0.07,
) -> jax.Array:
  r"""Normalized temperature-scaled cross entropy (NT-Xent, SimCLR).

  With :math:`s_{ij}` the cosine similarity of embeddings ``i`` and ``j``
  divided by the temperature :math:`\tau`, :math:`P` the positive pairs
  (same label, :math:`i \ne j`) and :math:`N(i)` the negatives of ``i``
  (different label):

  .. math::
    \ell = \frac{1}{|P|} \sum_{(i,j) \in P}
    -\log \frac{e^{s_{ij}}}{e^{s_{ij}} + \sum_{k \in N(i)} e^{s_{ik}}}

  The log-sum-exp over the negatives is computed stably, so large
  similarities over small temperatures do not overflow. A batch without any
  positive pair gives 0 (Optax gives ``nan``).

  Args:
    embeddings: a batch of embeddings, shape ``[batch, dim]``, floating
      dtype.
    labels: group labels, shape ``[batch]``; embeddings with equal labels
      are positive pairs.
    temperature: the temperature :math:`\tau`.

  Returns:
    The scalar loss, averaged over the positive pairs.

  Raises:
    ValueError: if ``labels`` and ``embeddings`` differ in batch size.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> emb = jnp.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> loss = gradtx.losses.ntxent(emb, jnp.array([0, 0, 1, 1]), temperature=0.5)
    >>> print(f'{loss:.4f}')
    0.2965

  References:
    Chen et al., A Simple Framework for Contrastive Learning of Visual
    Representations (SimCLR), ICML 2020. Reproduces ``optax.losses.ntxent``.
  """
  _inputs.check_floating('embeddings', embeddings)
  n_labels = _inputs.shape_of(labels)[0]
  n_embeddings = _inputs.shape_of(embeddings)[0]
  if n_labels != n_embeddings:
    raise ValueError('labels and embeddings must have the same leading '
                     f'dimension, got {n_labels} for labels and '
                     f'{n_embeddings} for embeddings')
  dtype = _inputs.out_dtype(embeddings)
  e = _inputs.upcast(embeddings)
  eps = jnp.finfo(jnp.asarray(embeddings).dtype).eps
  sims = cosine_similarity(e[None, :, :], e[:, None, :], epsilon=eps)
  sims = sims / temperature
  labels = jnp.asarray(labels)
  same = labels[:, None] == labels[None, :]
  positive = same & ~jnp.eye(n_labels, dtype=bool)
  negative = ~same
  lse_negatives = _masked.logsumexp(sims, -1, negative, keepdims=True)
  # -log(e^s / (e^s + sum_neg e^s_k)), for every candidate pair.
  pair_loss = jnp.logaddexp(sims, lse_negatives) - sims
  total = jnp.sum(jnp.where(positive, pair_loss, 0))
  count = jnp.maximum(jnp.sum(positive), 1)
  return (total / count).astype(dtype)


def triplet_margin_loss(
    anchors: jax.typing.ArrayLike,
    positives: jax.typing.ArrayLike,
    negatives: jax.typing.ArrayLike,
    axis: int = -1,
    norm_degree: jax.typing.ArrayLike = 2,
    margin: jax.typing.ArrayLike = 1.0,
    eps: jax.typing.ArrayLike = 1e-6,
) -> jax.Array:
  r"""Triplet margin loss: the positive must be nearer than the negative.

  With :math:`d(u, v) = (\sum_i |u_i - v_i|^p + \epsilon)^{1/p}` along
  ``axis``:

  .. math::
    \ell = \max\big(d(a, p) - d(a, n) + \mathrm{margin}, 0\big)

  The distance uses :math:`|u_i - v_i|`, so it is a norm for every degree
  (Optax raises the signed difference to the power; the two agree for even
  degrees, including the default 2).

  Args:
    anchors: anchor embeddings, shape ``[batch, dim]``, floating dtype.
    positives: embeddings similar to the anchors, same shape.
    negatives: embeddings dissimilar to the anchors, same shape.
    axis: the axis holding the embedding components.
    norm_degree: the degree :math:`p` of the distance.
    margin: the margin by which ``d(a, p)`` should undercut ``d(a, n)``.
    eps: added inside the root, keeping the gradient finite at ``u = v``.

  Returns:
    The losses, with ``axis`` reduced away.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> anchors = jnp.array([[0.0, 0.0], [1.0, 1.0]])
    >>> positives = jnp.array([[0.1, 0.1], [1.1, 1.1]])
    >>> negatives = jnp.array([[1.0, 0.0], [0.0, 1.0]])
    >>> print(gradtx.losses.triplet_margin_loss(anchors, positives, negatives))
    [0.14142 0.14142]

  References:
    Balntas et al., Learning Local Feature Descriptors with Triplets and
    Shallow Convolutional Neural Networks, BMVC 2016. Reproduces
    ``optax.losses.triplet_margin_loss``.
  """
  for name, x in (('anchors', anchors), ('positives', positives),
                  ('negatives', negatives)):
    _inputs.check_floating(name, x)
  dtype = _inputs.out_dtype(anchors, positives, negatives)
  a = _inputs.upcast(anchors, positives, negatives)

  def distance(other):
    diff = jnp.abs(a - jnp.asarray(other).astype(a.dtype))
    return jnp.power(jnp.sum(jnp.power(diff, norm_degree), axis) + eps,
                     1 / norm_degree)

  loss = jnp.maximum(distance(positives) - distance(negatives) + margin, 0)
  return loss.astype(dtype)
