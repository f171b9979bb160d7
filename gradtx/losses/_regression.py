"""Regression losses: squared error, Huber, log-cosh and cosine similarity."""

from __future__ import annotations

from typing import Optional, Union

import jax
import jax.numpy as jnp

from gradtx.losses import _inputs


def _error(predictions, targets) -> tuple[jax.Array, jnp.dtype]:
  r"""``predictions - targets`` in the compute dtype, and the output dtype."""
  _inputs.check_floating('predictions', predictions)
  if targets is None:
    return _inputs.upcast(predictions), _inputs.out_dtype(predictions)
  dtype = _inputs.out_dtype(predictions, targets)
  p = _inputs.upcast(predictions, targets)
  return p - jnp.asarray(targets).astype(p.dtype), dtype


def squared_error(
    predictions: jax.typing.ArrayLike,
    targets: Optional[jax.typing.ArrayLike] = None,
) -> jax.Array:
  r"""Element-wise squared error; its mean is the mean squared error.

  .. math::
    \ell = (\hat y - y)^2

  Args:
    predictions: predictions, any shape ``[...]``, floating dtype.
    targets: targets with the same shape as ``predictions``; zeros if
      ``None``.

  Returns:
    The squared errors, with the shape of ``predictions``.

  Raises:
    ValueError: if ``targets`` does not have the shape of ``predictions``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.squared_error(jnp.array([1.0, 3.0]),
    ...                                   jnp.array([0.0, 1.0])))
    [1. 4.]

  References:
    Reproduces ``optax.losses.squared_error`` (Optax 0.2.8).
  """
  if targets is not None:
    _inputs.check_same_shape('predictions', predictions, 'targets', targets)
  err, dtype = _error(predictions, targets)
  return jnp.square(err).astype(dtype)


def l2_loss(
    predictions: jax.typing.ArrayLike,
    targets: Optional[jax.typing.ArrayLike] = None,
) -> jax.Array:
  r"""Element-wise half squared error (the factor 1/2 follows Bishop, 2006).

  .. math::
    \ell = \tfrac12 (\hat y - y)^2

  Args:
    predictions: predictions, any shape ``[...]``, floating dtype.
    targets: targets with the same shape as ``predictions``; zeros if
      ``None``.

  Returns:
    Half the squared errors, with the shape of ``predictions``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.l2_loss(jnp.array([1.0, 3.0]),
    ...                             jnp.array([0.0, 1.0])))
    [0.5 2. ]

  References:
    Bishop, Pattern Recognition and Machine Learning, 2006 (eq. 1.2).
    Reproduces ``optax.losses.l2_loss``.
  """
  if targets is not None:
    _inputs.check_same_shape('predictions', predictions, 'targets', targets)
  err, dtype = _error(predictions, targets)
  return (0.5 * jnp.square(err)).astype(dtype)


def huber_loss(
    predictions: jax.typing.ArrayLike,
    targets: Optional[jax.typing.ArrayLike] = None,
    *,
    delta: jax.typing.ArrayLike = 1.0,
) -> jax.Array:
  r"""Element-wise Huber loss: quadratic near zero, linear beyond ``delta``.

  With ``e = predictions - targets``:

  .. math::
    \ell = \begin{cases} \tfrac12 e^2 & |e| \le \delta \\
    \delta (|e| - \tfrac12 \delta) & |e| > \delta \end{cases}

  Its gradient is the ``l2_loss`` gradient clipped to ``[-delta, delta]``.

  Args:
    predictions: predictions, any shape ``[...]``, floating dtype.
    targets: targets broadcastable to ``predictions``; zeros if ``None``.
    delta: where the loss turns from quadratic to linear.

  Returns:
    The Huber losses, with the shape of ``predictions``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.huber_loss(jnp.array([0.5, 3.0]), delta=1.0))
    [0.125 2.5  ]

  References:
    Huber, Robust Estimation of a Location Parameter, Annals of
    Mathematical Statistics, 1964. Reproduces ``optax.losses.huber_loss``.
  """
  err, dtype = _error(predictions, targets)
  abs_err = jnp.abs(err)
  inside = jnp.minimum(abs_err, delta)  # the quadratic part, |e| capped
  outside = abs_err - inside  # the linear part, max(|e| - delta, 0)
  return (0.5 * jnp.square(inside) + delta * outside).astype(dtype)


def log_cosh(
    predictions: jax.typing.ArrayLike,
    targets: Optional[jax.typing.ArrayLike] = None,
) -> jax.Array:
  r"""Element-wise ``log(cosh(predictions - targets))``.

  .. math::
    \ell = \log\cosh(e) \approx \begin{cases} e^2 / 2 & |e| \ll 1 \\
    |e| - \log 2 & |e| \gg 1 \end{cases}

  Computed as ``log1p(2 sinh(e/2)^2)`` for ``|e| < 1`` (accurate to relative
  rounding even where ``e^2/2`` is below float32 epsilon) and as
  ``|e| + log1p(exp(-2|e|)) - log 2`` otherwise (no overflow). The gradient
  is ``tanh(e)``.

  Args:
    predictions: predictions, any shape ``[...]``, floating dtype.
    targets: targets broadcastable to ``predictions``; zeros if ``None``.

  Returns:
    The log-cosh losses, with the shape of ``predictions``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.log_cosh(jnp.array([1e-4, 1.0, 100.0])))
    [5.0000e-09 4.3378e-01 9.9307e+01]

  References:
    Chen et al., Log Hyperbolic Cosine Loss Improves Variational
    Auto-Encoder, 2019. Reproduces ``optax.losses.log_cosh``.
  """
  err, dtype = _error(predictions, targets)
  abs_err = jnp.abs(err)
  small = abs_err < 1
  e_small = jnp.where(small, err, 0)  # keeps sinh finite in the other branch
  near = jnp.log1p(2 * jnp.square(jnp.sinh(e_small / 2)))
  far = abs_err + jnp.log1p(jnp.exp(-2 * abs_err)) - jnp.log(2.0).astype(
      abs_err.dtype)
  return jnp.where(small, near, far).astype(dtype)


def cosine_similarity(
    predictions: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    *,
    epsilon: jax.typing.ArrayLike = 0.0,
    axis: Union[int, tuple[int, ...], None] = -1,
    where: Union[jax.typing.ArrayLike, None] = None,
) -> jax.Array:
  r"""Cosine of the angle between predictions and targets, along ``axis``.

  .. math::
    s = \sum_i \frac{\hat y_i}{\max(\|\hat y\|^2, \epsilon)^{1/2}}
    \frac{y_i}{\max(\|y\|^2, \epsilon)^{1/2}}

  As in Optax, ``epsilon`` bounds the *squared* norms from below.

  Args:
    predictions: predicted vectors, shape ``[..., dim]``, floating dtype.
    targets: target vectors, shape ``[..., dim]``, floating dtype.
    epsilon: lower bound on each squared norm in the denominator.
    axis: the axis or axes holding the vector components.
    where: optional mask of the components to include.

  Returns:
    The cosine similarities, with ``axis`` reduced away.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.cosine_similarity(jnp.array([[1.0, 0.0]]),
    ...                                       jnp.array([[1.0, 1.0]])))
    [0.70710677]

  References:
    Reproduces ``optax.losses.cosine_similarity`` (Optax 0.2.8).
  """
  _inputs.check_floating('predictions', predictions)
  _inputs.check_floating('targets', targets)
  dtype = _inputs.out_dtype(predictions, targets)
  a = _inputs.upcast(predictions, targets)
  b = jnp.asarray(targets).astype(a.dtype)

  def unit(v):
    sq = jnp.sum(jnp.square(v), axis=axis, where=where, keepdims=True)
    return v / jnp.sqrt(jnp.maximum(sq, epsilon))

  return jnp.sum(unit(a) * unit(b), axis=axis, where=where).astype(dtype)


def cosine_distance(
    predictions: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    *,
    epsilon: jax.typing.ArrayLike = 0.0,
    axis: Union[int, tuple[int, ...], None] = -1,
    where: Union[jax.typing.ArrayLike, None] = None,
) -> jax.Array:
  r"""One minus the cosine similarity, along ``axis``.

  .. math::
    d = 1 - \cos\theta(\hat y, y)

  Args:
    predictions: predicted vectors, shape ``[..., dim]``, floating dtype.
    targets: target vectors, shape ``[..., dim]``, floating dtype.
    epsilon: lower bound on each squared norm (see ``cosine_similarity``).
    axis: the axis or axes holding the vector components.
    where: optional mask of the components to include.

  Returns:
    The cosine distances, with ``axis`` reduced away.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.cosine_distance(jnp.array([[1.0, 0.0]]),
    ...                                     jnp.array([[0.0, 2.0]])))
    [1.]

  References:
    Reproduces ``optax.losses.cosine_distance`` (Optax 0.2.8).
  """
  sim = cosine_similarity(predictions, targets, epsilon=epsilon, axis=axis,
                          where=where)
  return (1 - _inputs.upcast(sim)).astype(sim.dtype)
