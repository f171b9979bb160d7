"""Dice (and Tversky) losses for segmentation."""

from __future__ import annotations

from typing import Optional

import jax
import jax.numpy as jnp

from gradtx.losses import _inputs

_REDUCTIONS = ('mean', 'sum', 'none')


def _check_probabilities(predictions: jax.Array) -> None:
  """With ``apply_softmax=False``, concrete rows must sum to 1.

  Traced predictions (under ``jit``) cannot be inspected and are accepted.
  """
  if isinstance(predictions, jax.core.Tracer):
    return
  sums = jnp.sum(predictions, axis=-1)
  if not bool(jnp.allclose(sums, 1.0, rtol=1e-5)):
    raise ValueError(
        'predictions must be probability distributions along the last axis '
        'when apply_softmax=False (or pass logits with apply_softmax=True); '
        f'their sums range over [{float(jnp.min(sums)):.6f}, '
        f'{float(jnp.max(sums)):.6f}]')


def dice_loss(
    predictions: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    *,
    class_weights: Optional[jax.typing.ArrayLike] = None,
    smooth: jax.typing.ArrayLike = 1.,
    alpha: jax.typing.ArrayLike = 0.5,
    beta: jax.typing.ArrayLike = 0.5,
    apply_softmax: bool = True,
    reduction: str = 'mean',
    ignore_background: bool = False,
    axis: Optional[jax.typing.ArrayLike] = None,
) -> jax.Array:
  r"""Soft Dice loss per class, with Tversky weights for FP and FN.

  With :math:`p` the class probabilities (softmax of the logits, or sigmoid
  for one channel), :math:`t` the one-hot targets, and sums over ``axis``
  (by default all axes but the first and the last):

  .. math::
    I_c = \sum p_c t_c, \quad
    \ell_c = 1 - \frac{I_c + s}{I_c + \alpha (\sum p_c - I_c)
    + \beta (\sum t_c - I_c) + s}

  :math:`\alpha = \beta = 1/2` is the Dice loss; other values give the
  Tversky loss. Per-class losses are weighted, optionally lose class 0,
  and are reduced over the classes.

  Args:
    predictions: logits (or probabilities), shape ``[..., num_classes]``,
      or ``[..., 1]`` / ``[...]`` for binary segmentation.
    targets: one-hot targets of the same shape (binary targets for one
      channel).
    class_weights: optional weights, shape ``[num_classes]``.
    smooth: added to numerator and denominator.
    alpha: weight of the false positives.
    beta: weight of the false negatives.
    apply_softmax: apply softmax (sigmoid for one channel) to
      ``predictions``; if False they must already be probabilities.
    reduction: ``'mean'``, ``'sum'`` or ``'none'`` over the classes.
    ignore_background: leave out class 0 (when there is more than one).
    axis: the axis or axes to sum over; default: all but the first and last.

  Returns:
    The losses, shape ``[batch]`` (``[batch, num_classes]`` for
    ``reduction='none'``).

  Raises:
    ValueError: for an unknown ``reduction``, shapes that differ, or
      (outside ``jit``) ``apply_softmax=False`` with rows not summing to 1.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> logits = jnp.array([[[4.0, -4.0], [-4.0, 4.0]]])  # [batch, pixels, 2]
    >>> targets = jnp.array([[[1.0, 0.0], [0.0, 1.0]]])
    >>> print(gradtx.losses.dice_loss(logits, targets))
    [0.00016767]

  References:
    Milletari, Navab and Ahmadi, V-Net: Fully Convolutional Neural Networks
    for Volumetric Medical Image Segmentation, 3DV 2016; Salehi et al.,
    Tversky Loss Function for Image Segmentation, 2017. Reproduces
    ``optax.losses.dice_loss``.
  """
  if reduction not in _REDUCTIONS:
    raise ValueError(f'reduction must be one of {_REDUCTIONS}, got '
                     f'{reduction!r}')
  predictions, targets = jnp.asarray(predictions), jnp.asarray(targets)
  if predictions.ndim == targets.ndim - 1:
    predictions = predictions[..., None]
  if targets.ndim == predictions.ndim - 1:
    targets = targets[..., None]
  _inputs.check_same_shape('predictions', predictions, 'targets', targets)
  if not apply_softmax:
    _check_probabilities(predictions)
  dtype = _inputs.out_dtype(predictions, targets, *(
      () if class_weights is None else (class_weights,)))
  x = _inputs.upcast(predictions, targets)
  t = targets.astype(x.dtype)
  probs = x
  if apply_softmax:
    probs = (jax.nn.sigmoid(x) if x.shape[-1] == 1
             else jax.nn.softmax(x, axis=-1))
  if axis is None:
    axis = tuple(range(1, x.ndim - 1))
  intersection = jnp.sum(probs * t, axis=axis)
  false_pos = jnp.sum(probs, axis=axis) - intersection
  false_neg = jnp.sum(t, axis=axis) - intersection
  score = (intersection + smooth) / (
      intersection + alpha * false_pos + beta * false_neg + smooth)
  loss = 1 - score
  if class_weights is not None:
    _inputs.check_rank('class_weights', class_weights, 1)
    loss = loss * jnp.broadcast_to(jnp.asarray(class_weights), loss.shape)
  if ignore_background and x.shape[-1] > 1:
    loss = loss[..., 1:]
  if reduction == 'mean':
    loss = jnp.mean(loss, axis=-1)
  elif reduction == 'sum':
    loss = jnp.sum(loss, axis=-1)
  return loss.astype(dtype)


def multiclass_generalized_dice_loss(
    predictions: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    *,
    smooth: jax.typing.ArrayLike = 1.,
    apply_softmax: bool = True,
    ignore_background: bool = False,
) -> jax.Array:
  r"""Generalized Dice loss: classes weighted by inverse squared frequency.

  With :math:`F_c` the number of pixels of class :math:`c` in the whole
  batch, the weights are

  .. math::
    w_c \propto \frac{1}{F_c^2 + 10^{-7}}, \quad \sum_c w_c = C

  and the loss is the mean over batch and classes of :math:`w_c` times the
  per-class Dice loss (see ``dice_loss``).

  Args:
    predictions: logits, shape ``[..., num_classes]``.
    targets: one-hot targets, same shape.
    smooth: added to numerator and denominator of each Dice score.
    apply_softmax: apply softmax to ``predictions``.
    ignore_background: leave out class 0.

  Returns:
    The scalar loss.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> logits = jnp.array([[[4.0, -4.0], [-4.0, 4.0], [4.0, -4.0]]])
    >>> targets = jax.nn.one_hot(jnp.array([[0, 1, 0]]), 2)
    >>> loss = gradtx.losses.multiclass_generalized_dice_loss(logits, targets)
    >>> print(f'{loss:.5f}')
    0.00023

  References:
    Sudre et al., Generalised Dice Overlap as a Deep Learning Loss Function
    for Highly Unbalanced Segmentations, 2017. Reproduces
    ``optax.losses.multiclass_generalized_dice_loss``.
  """
  _inputs.check_same_shape('predictions', predictions, 'targets', targets)
  t = jnp.asarray(targets)
  frequencies = jnp.sum(t, axis=tuple(range(t.ndim - 1)))
  weights = 1.0 / (jnp.square(frequencies) + 1e-7)
  weights = weights / jnp.sum(weights) * weights.shape[0]
  per_class = dice_loss(predictions, targets, class_weights=weights,
                        smooth=smooth, apply_softmax=apply_softmax,
                        reduction='none', ignore_background=ignore_background)
  return jnp.mean(per_class)


def binary_dice_loss(
    predictions: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    *,
    smooth: jax.typing.ArrayLike = 1.,
    apply_sigmoid: bool = True,
) -> jax.Array:
  r"""Dice loss for binary segmentation, from one logit per pixel.

  .. math::
    \ell = 1 - \frac{\sum p t + s}{(\sum p + \sum t)/2 + s},
    \quad p = \sigma(x)

  Args:
    predictions: logits, shape ``[batch, ...]`` or ``[batch, ..., 1]``.
    targets: binary targets of the same shape.
    smooth: added to numerator and denominator.
    apply_sigmoid: apply the sigmoid to ``predictions``.

  Returns:
    The losses, shape ``[batch]``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> logits = jnp.array([[6.0, -6.0, 6.0]])
    >>> targets = jnp.array([[1.0, 0.0, 1.0]])
    >>> print(gradtx.losses.binary_dice_loss(logits, targets))
    [0.00123686]

  References:
    Milletari, Navab and Ahmadi, V-Net, 3DV 2016. Reproduces
    ``optax.losses.binary_dice_loss``.
  """
  predictions, targets = jnp.asarray(predictions), jnp.asarray(targets)
  if predictions.ndim == targets.ndim and predictions.shape[-1] != 1:
    predictions, targets = predictions[..., None], targets[..., None]
  return dice_loss(predictions, targets, smooth=smooth,
                   apply_softmax=apply_sigmoid, reduction='mean')
