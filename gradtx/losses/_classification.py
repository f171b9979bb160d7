"""Cross-entropy losses: sigmoid (binary), focal, softmax (categorical), poly."""

from __future__ import annotations

from typing import Optional, Union

import jax
import jax.numpy as jnp

from gradtx.losses import _inputs
from gradtx.losses import _masked


def sigmoid_binary_cross_entropy(logits, labels):
  r"""Element-wise binary cross entropy of ``sigmoid(logits)`` and ``labels``.

  .. math::
    \ell = -y \log\sigma(x) - (1 - y) \log\sigma(-x)

  Both terms are computed with ``log_sigmoid``, so the loss and its gradient
  ``sigmoid(x) - y`` stay finite for any finite logit. Each element is an
  independent binary prediction (labels may be soft, in ``[0, 1]``).

  Args:
    logits: the logit of class 1, any shape, floating dtype.
    labels: labels or target probabilities broadcastable to ``logits``.

  Returns:
    The cross entropies, with the shape and dtype of ``logits``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.sigmoid_binary_cross_entropy(jnp.array([0.0, 2.0]),
    ...                                           jnp.array([1.0, 0.0])))
    [0.6931472 2.126928 ]

  References:
    Goodfellow et al., Deep Learning, 2016 (section 6.2.2.2).
    Reproduces ``optax.losses.sigmoid_binary_cross_entropy``.
  """
  _inputs.check_floating('logits', logits)
  dtype = _inputs.out_dtype(logits)
  x = _inputs.upcast(logits)
  y = jnp.asarray(labels).astype(x.dtype)
  loss = -y * jax.nn.log_sigmoid(x) - (1 - y) * jax.nn.log_sigmoid(-x)
  return loss.astype(dtype)


def sigmoid_focal_loss(
    logits: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
    *,
    alpha: Optional[jax.typing.ArrayLike] = None,
    gamma: jax.typing.ArrayLike = 2.0,
) -> jax.Array:
  r"""Element-wise sigmoid focal loss: cross entropy scaled by ``(1 - p_t)^gamma``.

  With :math:`p = \sigma(x)`, :math:`p_t = y p + (1-y)(1-p)` and
  :math:`\alpha_t = y\alpha + (1-y)(1-\alpha)`:

  .. math::
    \ell = -\alpha_t (1 - p_t)^\gamma \log p_t

  ``log(1 - p_t)`` is formed in log space from ``log_sigmoid(x)`` and
  ``log_sigmoid(-x)``, so the weight is accurate (and its gradient finite)
  for extreme logits and for ``gamma < 1``. ``alpha=None`` omits
  :math:`\alpha_t`.

  Args:
    logits: logits, any shape, floating dtype.
    labels: labels in ``{0, 1}`` or soft labels in ``[0, 1]``, broadcastable
      to ``logits``.
    alpha: optional weight of the positive class, in ``(0, 1)``.
    gamma: the focusing exponent; 0 gives the binary cross entropy.

  Returns:
    The focal losses, with the shape of ``logits``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.sigmoid_focal_loss(jnp.array([0.0, 3.0]),
    ...                                 jnp.array([1.0, 1.0]), gamma=2.0))
    [1.7329e-01 1.0928e-04]

  References:
    Lin et al., Focal Loss for Dense Object Detection, 2017.
    Reproduces ``optax.losses.sigmoid_focal_loss``.
  """
  _inputs.check_floating('logits', logits)
  dtype = _inputs.out_dtype(logits)
  x = _inputs.upcast(logits)
  y = jnp.asarray(labels).astype(x.dtype)
  x, y = jnp.broadcast_arrays(x, y)
  log_p, log_q = jax.nn.log_sigmoid(x), jax.nn.log_sigmoid(-x)
  cross_entropy = -y * log_p - (1 - y) * log_q
  # 1 - p_t = y * q + (1 - y) * p, summed in log space (weights may be 0).
  log_one_minus_pt = jax.scipy.special.logsumexp(
      jnp.stack([log_q, log_p]), axis=0, b=jnp.stack([y, 1 - y]))
  loss = jnp.exp(gamma * log_one_minus_pt) * cross_entropy
  if alpha is not None:
    loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
  return loss.astype(dtype)


def softmax_cross_entropy(
    logits: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
    axis: Union[int, tuple[int, ...], None] = -1,
    where: Union[jax.typing.ArrayLike, None] = None,
) -> jax.Array:
  r"""Cross entropy of ``softmax(logits)`` against target distributions.

  .. math::
    \ell = -\sum_j y_j \log \frac{e^{x_j}}{\sum_k e^{x_k}}

  The sums run over ``axis`` and over the entries ``where`` selects. A
  ``where`` of the batch shape (without ``axis``) selects whole rows.
  ``0 * log(0)`` (a ``-inf`` logit with a zero label) is ``nan`` here, as in
  Optax; use ``safe_softmax_cross_entropy`` for that case.

  Args:
    logits: unnormalized log probabilities, shape ``[..., num_classes]``.
    labels: target distributions (e.g. one-hot), broadcastable to
      ``logits``.
    axis: the class axis or axes.
    where: optional mask of the entries to include, of the shape of
      ``logits`` or of the batch shape.

  Returns:
    The cross entropies, with ``axis`` reduced away.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> logits = jnp.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]])
    >>> labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> with jnp.printoptions(precision=4):
    ...   print(gradtx.losses.softmax_cross_entropy(logits, labels))
    [0.2761 2.9518]

  References:
    Bishop, Pattern Recognition and Machine Learning, 2006 (eq. 4.108).
    Reproduces ``optax.losses.softmax_cross_entropy``.
  """
  _inputs.check_floating('logits', logits)
  dtype = _inputs.out_dtype(logits, labels)
  x = _inputs.upcast(logits, labels)
  where = _inputs.expand_where(where, axis, x.ndim)
  log_probs = _masked.log_softmax(x, axis, where)
  y = jnp.asarray(labels).astype(x.dtype)
  return (-jnp.sum(y * log_probs, axis=axis, where=where)).astype(dtype)


def safe_softmax_cross_entropy(
    logits: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
) -> jax.Array:
  r"""Softmax cross entropy that treats ``0 * log(0)`` as 0.

  .. math::
    \ell = -\sum_{j:\, y_j \ne 0} y_j \log \mathrm{softmax}(x)_j

  Classes with a zero label contribute nothing, even when their logit is
  ``-inf`` (masked classes); the gradient with respect to ``logits`` stays
  finite there too. Reduces over the last axis.

  Args:
    logits: unnormalized log probabilities, shape ``[..., num_classes]``;
      ``-inf`` marks impossible classes.
    labels: target distributions broadcastable to ``logits``.

  Returns:
    The cross entropies, shape ``[...]``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> logits = jnp.array([0.0, 0.0, -jnp.inf])
    >>> print(gradtx.losses.safe_softmax_cross_entropy(logits,
    ...                                         jnp.array([1.0, 0.0, 0.0])))
    0.6931472

  References:
    Reproduces ``optax.losses.safe_softmax_cross_entropy`` (Optax 0.2.8).
  """
  _inputs.check_floating('logits', logits)
  dtype = _inputs.out_dtype(logits, labels)
  x = _inputs.upcast(logits, labels)
  y = jnp.asarray(labels).astype(x.dtype)
  log_probs = _masked.log_softmax(x, -1)
  y, log_probs = jnp.broadcast_arrays(y, log_probs)
  terms = jnp.where(y != 0, y * log_probs, 0)
  return (-jnp.sum(terms, axis=-1)).astype(dtype)


def _classes_last(x, axes: tuple[int, ...]):
  """Moves ``axes`` to the end (in the given order) and flattens them."""
  batch = tuple(a for a in range(x.ndim) if a not in axes)
  x = jnp.transpose(x, batch + axes)
  return x.reshape(x.shape[:len(batch)] + (-1,))


def softmax_cross_entropy_with_integer_labels(
    logits: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
    axis: Union[int, tuple[int, ...]] = -1,
    where: Union[jax.typing.ArrayLike, None] = None,
) -> jax.Array:
  r"""Softmax cross entropy with integer class labels.

  .. math::
    \ell = \log \sum_k e^{x_k} - x_{y}

  Only the label's logit is read, so no full ``log_softmax`` is formed. With
  a tuple ``axis``, the classes are the flattened slice over those axes (in
  the given order) and a label is a flat index into it. Rows that ``where``
  leaves empty have loss 0 and zero gradient.

  Args:
    logits: unnormalized log probabilities, shape ``[..., num_classes]``.
    labels: integer labels in ``[0, num_classes)``, of the batch shape.
    axis: the class axis, or a tuple of axes.
    where: optional mask of the classes to include, of the shape of
      ``logits`` or of the batch shape.

  Returns:
    The cross entropies, of the batch shape.

  Raises:
    TypeError: if ``labels`` are not integers.
    ValueError: if ``axis`` is neither an int nor a tuple of ints.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> logits = jnp.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]])
    >>> loss = gradtx.losses.softmax_cross_entropy_with_integer_labels(
    ...     logits, jnp.array([0, 1]))
    >>> with jnp.printoptions(precision=4):
    ...   print(loss)
    [0.2761 2.9518]

  References:
    Bishop, Pattern Recognition and Machine Learning, 2006 (eq. 4.108).
    Reproduces ``optax.losses.softmax_cross_entropy_with_integer_labels``.
  """
  _inputs.check_floating('logits', logits)
  _inputs.check_integer('labels', labels)
  if not isinstance(axis, (int, tuple)) or isinstance(axis, bool):
    raise ValueError(f'axis must be an int or a tuple of ints, got {axis!r} '
                     f'of type {type(axis).__name__}')
  dtype = _inputs.out_dtype(logits)
  x = _inputs.upcast(logits)
  where = _inputs.expand_where(where, axis, x.ndim)
  axes = _inputs.normalize_axes(axis, x.ndim)
  if isinstance(axis, tuple):
    if where is not None:
      where = _classes_last(jnp.broadcast_to(where, x.shape), axes)
    x = _classes_last(x, axes)
    class_axis = x.ndim - 1
  else:
    class_axis = axes[0]
  labels = jnp.expand_dims(jnp.asarray(labels), class_axis)
  label_logits = jnp.squeeze(
      jnp.take_along_axis(x, labels, axis=class_axis), class_axis)
  out = _masked.logsumexp(x, class_axis, where) - label_logits
  if where is not None:
    nonempty = jnp.any(jnp.broadcast_to(where, x.shape), axis=class_axis)
    out = jnp.where(nonempty, out, 0)
  return out.astype(dtype)


def poly_loss_cross_entropy(
    logits: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
    *,
    epsilon: jax.typing.ArrayLike = 2.0,
    axis: Union[int, tuple[int, ...], None] = -1,
    where: Union[jax.typing.ArrayLike, None] = None,
) -> jax.Array:
  r"""Poly-1 loss: softmax cross entropy plus ``epsilon * (1 - p_t)``.

  .. math::
    \ell = -\sum_j y_j \log p_j + \epsilon \sum_j y_j (1 - p_j),
    \qquad p = \mathrm{softmax}(x)

  The paper recommends ``epsilon=2`` for ImageNet classification and
  ``epsilon=-1`` for detection and instance segmentation.

  Args:
    logits: unnormalized log probabilities, shape ``[..., num_classes]``.
    labels: target distributions broadcastable to ``logits``, floating
      dtype.
    epsilon: the coefficient of the first polynomial term.
    axis: the class axis or axes.
    where: optional mask of the entries to include, of the shape of
      ``logits`` or of the batch shape.

  Returns:
    The poly losses, with ``axis`` reduced away.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> logits = jnp.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]])
    >>> labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> print(gradtx.losses.poly_loss_cross_entropy(logits, labels))
    [0.7587 4.8473]

  References:
    Leng et al., PolyLoss: A Polynomial Expansion Perspective of
    Classification Loss Functions, ICLR 2022. Reproduces
    ``optax.losses.poly_loss_cross_entropy``.
  """
  _inputs.check_floating('logits', logits)
  _inputs.check_floating('labels', labels)
  dtype = _inputs.out_dtype(logits, labels)
  x = _inputs.upcast(logits, labels)
  y = jnp.asarray(labels).astype(x.dtype)
  where = _inputs.expand_where(where, axis, x.ndim)
  log_probs = _masked.log_softmax(x, axis, where)
  probs = jnp.exp(log_probs)  # masked entries are left out of the sums below
  cross_entropy = -jnp.sum(y * log_probs, axis=axis, where=where)
  one_minus_pt = jnp.sum(y * (1 - probs), axis=axis, where=where)
  return (cross_entropy + epsilon * one_minus_pt).astype(dtype)


