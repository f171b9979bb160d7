"""Margin losses: hinge, perceptron and sparsemax, binary and multiclass."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gradtx.losses import _inputs
from gradtx.projections import projection_simplex


def hinge_loss(
    predictor_outputs: jax.typing.ArrayLike, targets: jax.typing.ArrayLike
) -> jax.Array:
  r"""Binary hinge loss, for targets in ``{-1, 1}``.

  .. math::
    \ell = \max(0, 1 - s\, t)

  Args:
    predictor_outputs: outputs ``s`` of the decision function.
    targets: targets ``t`` in ``{-1, 1}``, broadcastable to
      ``predictor_outputs``.

  Returns:
    The hinge losses, element-wise.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.hinge_loss(jnp.array([2.0, 0.3, -1.0]),
    ...                         jnp.array([1.0, 1.0, 1.0])))
    [0.  0.7 2. ]

  References:
    Cortes and Vapnik, Support-Vector Networks, Machine Learning, 1995.
    Reproduces ``optax.losses.hinge_loss``.
  """
  return jnp.maximum(0, 1 - predictor_outputs * targets)


def perceptron_loss(
    predictor_outputs: jax.typing.ArrayLike, targets: jax.typing.ArrayLike
) -> jax.Array:
  r"""Binary perceptron loss, for targets in ``{-1, 1}``.

  .. math::
    \ell = \max(0, -s\, t)

  Args:
    predictor_outputs: scores ``s`` produced by the model.
    targets: targets ``t`` in ``{-1, 1}``, of the same shape.

  Returns:
    The perceptron losses, element-wise.

  Raises:
    ValueError: if the two shapes differ.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.perceptron_loss(jnp.array([2.0, -0.5]),
    ...                                     jnp.array([1.0, 1.0])))
    [0.  0.5]

  References:
    Rosenblatt, The Perceptron, Psychological Review, 1958.
    Reproduces ``optax.losses.perceptron_loss``.
  """
  _inputs.check_same_shape('predictor_outputs', predictor_outputs,
                           'targets', targets)
  return jnp.maximum(0, -predictor_outputs * targets)


def _sparse_plus(x: jax.Array) -> jax.Array:
  """0 below -1, ``(x + 1)^2 / 4`` on ``[-1, 1]``, ``x`` above 1."""
  middle = jnp.square(jnp.clip(x, -1, 1) + 1) / 4
  return jnp.where(x >= 1, x, jnp.where(x <= -1, 0, middle))


def sparsemax_loss(
    logits: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
) -> jax.Array:
  r"""Binary sparsemax loss: zero if and only if ``sparse_sigmoid(x) == y``.

  With :math:`z = -x` for label 1 and :math:`z = x` for label 0:

  .. math::
    \ell = \begin{cases} 0 & z \le -1 \\ (z + 1)^2 / 4 & -1 < z < 1 \\
    z & z \ge 1 \end{cases}

  Args:
    logits: scores produced by the model, floating dtype.
    labels: labels in ``{0, 1}``, broadcastable to ``logits``.

  Returns:
    The losses, element-wise.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.sparsemax_loss(jnp.array([2.0, 0.0, -3.0]),
    ...                                    jnp.array([1, 1, 1])))
    [0.   0.25 3.  ]

  References:
    Blondel, Martins and Niculae, Learning with Fenchel-Young Losses,
    JMLR 2020 (section 4.4). Reproduces ``optax.losses.sparsemax_loss``.
  """
  x = jnp.asarray(logits)
  return _sparse_plus(jnp.where(jnp.asarray(labels) != 0, -x, x))


def _one_hot_score(scores: jax.Array, labels: jax.Array) -> jax.Array:
  """``scores[..., labels]``, the score of the true class."""
  return jnp.squeeze(jnp.take_along_axis(
      scores, jnp.asarray(labels)[..., None], axis=-1), -1)


def multiclass_hinge_loss(
    scores: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
) -> jax.Array:
  r"""Multiclass hinge loss (Crammer-Singer).

  .. math::
    \ell = \max_j \big(s_j + [j \ne y]\big) - s_y

  Args:
    scores: scores produced by the model, shape ``[..., num_classes]``.
    labels: integer labels, shape ``[...]``.

  Returns:
    The losses, shape ``[...]``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.multiclass_hinge_loss(
    ...     jnp.array([[2.0, 1.5, 0.0], [3.0, 0.0, 0.0]]), jnp.array([0, 0])))
    [0.5 0. ]

  References:
    Crammer and Singer, On the Algorithmic Implementation of Multiclass
    Kernel-based Vector Machines, JMLR 2001. Reproduces
    ``optax.losses.multiclass_hinge_loss``.
  """
  s = jnp.asarray(scores)
  margins = s + (1 - jax.nn.one_hot(labels, s.shape[-1], dtype=s.dtype))
  return jnp.max(margins, axis=-1) - _one_hot_score(s, labels)


def multiclass_perceptron_loss(
    scores: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
) -> jax.Array:
  r"""Multiclass perceptron loss.

  .. math::
    \ell = \max_j s_j - s_y

  Args:
    scores: scores produced by the model, shape ``[..., num_classes]``.
    labels: integer labels, shape ``[...]``.

  Returns:
    The losses, shape ``[...]``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.multiclass_perceptron_loss(
    ...     jnp.array([[2.0, 1.5, 0.0]]), jnp.array([1])))
    [0.5]

  References:
    Collins, Discriminative Training Methods for Hidden Markov Models,
    EMNLP 2002. Reproduces ``optax.losses.multiclass_perceptron_loss``.
  """
  s = jnp.asarray(scores)
  return jnp.max(s, axis=-1) - _one_hot_score(s, labels)


def _sparsemax_loss_1d(scores: jax.Array, label: jax.Array) -> jax.Array:
  proba = projection_simplex(scores)
  gap = scores - scores[label]
  # <p, s - s_y> over the support (0 * -inf is excluded), plus the Gini
  # entropy term (1 - ||p||^2) / 2.
  inner = jnp.sum(jnp.where(proba > 0, proba * gap, 0))
  return inner + 0.5 * (1 - jnp.sum(jnp.square(proba)))


def multiclass_sparsemax_loss(
    scores: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
) -> jax.Array:
  r"""Multiclass sparsemax loss, the Fenchel-Young loss of sparsemax.

  With :math:`p = \mathrm{sparsemax}(s)`, the Euclidean projection of the
  scores onto the probability simplex:

  .. math::
    \ell = \langle p, s \rangle - s_y + \tfrac12 (1 - \|p\|^2)

  Its gradient is :math:`p - e_y`; it is zero exactly when :math:`p = e_y`.

  Args:
    scores: scores produced by the model, shape ``[..., num_classes]``.
    labels: integer labels, shape ``[...]``.

  Returns:
    The losses, shape ``[...]``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.multiclass_sparsemax_loss(
    ...     jnp.array([[1.0, 0.5, -2.0]]), jnp.array([1])))
    [0.5]

  References:
    Martins and Astudillo, From Softmax to Sparsemax: A Sparse Model of
    Attention and Multi-Label Classification, ICML 2016. Reproduces
    ``optax.losses.multiclass_sparsemax_loss``.
  """
  return jnp.vectorize(_sparsemax_loss_1d, signature='(n),()->()')(
      jnp.asarray(scores), jnp.asarray(labels))
