"""Kullback-Leibler divergences, normalized and generalized."""

from __future__ import annotations

import warnings
from typing import Union

import jax
import jax.numpy as jnp

from gradtx.losses import _inputs

_Axis = Union[int, tuple[int, ...], None]


def _safe_log(x: jax.Array) -> jax.Array:
  """``log(x)``, with 0 (and a zero gradient) where ``x == 0``."""
  positive = x != 0
  return jnp.where(positive, jnp.log(jnp.where(positive, x, 1)), 0)


def kl_divergence(
    log_predictions: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: _Axis = -1,
    where: Union[jax.typing.ArrayLike, None] = None,
) -> jax.Array:
  r"""Kullback-Leibler divergence of the predictions from the targets.

  .. math::
    D_{KL}(y \,\|\, p) = \sum_i y_i (\log y_i - \log p_i)

  with :math:`0 \log 0 = 0`; the gradient with respect to ``targets`` is
  finite at zero targets too.

  Args:
    log_predictions: predicted probabilities in log space, shape
      ``[..., dim]``, floating dtype.
    targets: target probabilities (non-negative), shape ``[..., dim]``,
      floating dtype.
    axis: the axis or axes of the distribution.
    where: optional mask of the entries to include.

  Returns:
    The divergences, with ``axis`` reduced away.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> log_p = jnp.log(jnp.array([0.5, 0.5]))
    >>> print(gradtx.losses.kl_divergence(log_p, jnp.array([1.0, 0.0])))
    0.6931472

  References:
    Kullback and Leibler, On Information and Sufficiency, Annals of
    Mathematical Statistics, 1951. Reproduces ``optax.losses.kl_divergence``.
  """
  _inputs.check_floating('log_predictions', log_predictions)
  _inputs.check_floating('targets', targets)
  dtype = _inputs.out_dtype(log_predictions, targets)
  log_p = _inputs.upcast(log_predictions, targets)
  y = jnp.asarray(targets).astype(log_p.dtype)
  loss = y * (_safe_log(y) - log_p)
  return jnp.sum(loss, axis=axis, where=where).astype(dtype)


def kl_divergence_with_log_targets(
    log_predictions: jax.typing.ArrayLike,
    log_targets: jax.typing.ArrayLike,
    axis: _Axis = -1,
    where: Union[jax.typing.ArrayLike, None] = None,
) -> jax.Array:
  r"""Kullback-Leibler divergence, with the targets given in log space.

  .. math::
    D_{KL}(y \,\|\, p) = \sum_i e^{\log y_i} (\log y_i - \log p_i)

  Args:
    log_predictions: predicted probabilities in log space, shape
      ``[..., dim]``, floating dtype.
    log_targets: target probabilities in log space, shape ``[..., dim]``,
      floating dtype.
    axis: the axis or axes of the distribution.
    where: optional mask of the entries to include.

  Returns:
    The divergences, with ``axis`` reduced away.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> log_p = jnp.log(jnp.array([0.5, 0.5]))
    >>> log_y = jnp.log(jnp.array([0.9, 0.1]))
    >>> print(gradtx.losses.kl_divergence_with_log_targets(log_p, log_y))
    0.368064

  References:
    Kullback and Leibler, On Information and Sufficiency, 1951.
    Reproduces ``optax.losses.kl_divergence_with_log_targets``.
  """
  _inputs.check_floating('log_predictions', log_predictions)
  _inputs.check_floating('log_targets', log_targets)
  dtype = _inputs.out_dtype(log_predictions, log_targets)
  log_p = _inputs.upcast(log_predictions, log_targets)
  log_y = jnp.asarray(log_targets).astype(log_p.dtype)
  loss = jnp.exp(log_y) * (log_y - log_p)
  return jnp.sum(loss, axis=axis, where=where).astype(dtype)


def generalized_kl_divergence(
    log_predictions: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: _Axis = -1,
    where: Union[jax.typing.ArrayLike, None] = None,
) -> jax.Array:
  r"""Generalized KL divergence, for unnormalized (non-negative) measures.

  .. math::
    D(y \,\|\, p) = \sum_i y_i (\log y_i - \log p_i) + p_i - y_i

  It is the Bregman divergence of :math:`f(x) = x \log x - x` and equals the
  KL divergence when both arguments sum to one.

  Args:
    log_predictions: predicted measure in log space, shape ``[..., dim]``,
      floating dtype.
    targets: target measure (non-negative), shape ``[..., dim]``, floating
      dtype.
    axis: the axis or axes to reduce.
    where: optional mask of the entries to include.

  Returns:
    The divergences, with ``axis`` reduced away.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> log_p = jnp.log(jnp.array([1.0, 2.0]))
    >>> print(gradtx.losses.generalized_kl_divergence(log_p, jnp.array([1.0, 1.0])))
    0.30685282

  References:
    Bregman, The Relaxation Method of Finding the Common Point of Convex
    Sets, 1967; Boyd and Vandenberghe, Convex Optimization, 2004 (p. 90).
    Reproduces ``optax.losses.generalized_kl_divergence``.
  """
  _inputs.check_floating('log_predictions', log_predictions)
  _inputs.check_floating('targets', targets)
  dtype = _inputs.out_dtype(log_predictions, targets)
  log_p = _inputs.upcast(log_predictions, targets)
  y = jnp.asarray(targets).astype(log_p.dtype)
  loss = y * (_safe_log(y) - log_p) + jnp.exp(log_p) - y
  return jnp.sum(loss, axis=axis, where=where).astype(dtype)


def convex_kl_divergence(
    log_predictions: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: _Axis = -1,
    where: Union[jax.typing.ArrayLike, None] = None,
) -> jax.Array:
  r"""Deprecated name of ``generalized_kl_divergence`` (as in Optax).

  .. math::
    D(y \,\|\, p) = \sum_i y_i (\log y_i - \log p_i) + p_i - y_i

  Emits a ``DeprecationWarning``, like Optax 0.2.8.

  Args:
    log_predictions: predicted measure in log space, shape ``[..., dim]``.
    targets: target measure (non-negative), shape ``[..., dim]``.
    axis: the axis or axes to reduce.
    where: optional mask of the entries to include.

  Returns:
    ``generalized_kl_divergence(log_predictions, targets, axis, where)``.

  Example:
    >>> import warnings, jax.numpy as jnp, gradtx
    >>> with warnings.catch_warnings():
    ...   warnings.simplefilter('ignore', DeprecationWarning)
    ...   print(gradtx.losses.convex_kl_divergence(jnp.zeros(2), jnp.ones(2)))
    0.0

  References:
    See ``generalized_kl_divergence``. Reproduces
    ``optax.losses.convex_kl_divergence``.
  """
  warnings.warn('convex_kl_divergence is deprecated; use '
                'generalized_kl_divergence instead.', DeprecationWarning,
                stacklevel=2)
  return generalized_kl_divergence(log_predictions, targets, axis=axis,
                                   where=where)
