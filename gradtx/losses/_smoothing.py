"""Label smoothing."""

from __future__ import annotations

import math
from typing import Union

import jax
import jax.numpy as jnp

from gradtx.losses import _inputs


def smooth_labels(
    labels: jax.typing.ArrayLike,
    alpha: jax.typing.ArrayLike,
    *,
    axis: Union[int, tuple[int, ...], None] = -1,
    where: Union[jax.typing.ArrayLike, None] = None,
) -> jax.Array:
  r"""Mixes one-hot labels with the uniform distribution over the classes.

  .. math::
    \tilde y = (1 - \alpha)\, y + \alpha / K

  where :math:`K` is the number of classes along ``axis`` (or, with
  ``where``, the number of selected classes in each row).

  Args:
    labels: one-hot (or soft) labels, floating dtype.
    alpha: the smoothing factor, in ``[0, 1]``.
    axis: the class axis or axes.
    where: optional mask of the classes that count in :math:`K`.

  Returns:
    The smoothed labels, with the shape and dtype of ``labels``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> print(gradtx.losses.smooth_labels(jnp.array([0.0, 1.0, 0.0, 0.0]), 0.2))
    [0.05 0.85 0.05 0.05]

  References:
    Szegedy et al., Rethinking the Inception Architecture for Computer
    Vision, 2016; Müller et al., When Does Label Smoothing Help?, 2019.
    Reproduces ``optax.smooth_labels``.
  """
  _inputs.check_floating('labels', labels)
  dtype = _inputs.out_dtype(labels)
  y = _inputs.upcast(labels)
  if where is None:
    axes = _inputs.normalize_axes(axis, y.ndim)
    num_classes = math.prod(y.shape[a] for a in axes)
  else:
    num_classes = jnp.sum(jnp.asarray(where), axis=axis, keepdims=True)
  return ((1 - alpha) * y + alpha / num_classes).astype(dtype)
