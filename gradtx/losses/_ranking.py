"""Listwise ranking losses."""

from __future__ import annotations

from typing import Callable, Optional

import jax
import jax.numpy as jnp

from gradtx.losses import _inputs
from gradtx.losses import _masked


def _reduce(loss: jax.Array, where: Optional[jax.Array],
            reduce_fn: Optional[Callable[..., jax.Array]]) -> jax.Array:
  """Reduces the per-list losses; lists that ``where`` empties count as 0.

  A mean over no valid list is 0 rather than ``nan`` (unless a loss itself
  is ``nan``, which is passed on); without ``reduce_fn`` the losses of the
  empty lists are set to 0, so that summing them by hand agrees.
  """
  if reduce_fn is None:
    return loss if where is None else jnp.where(where, loss, 0)
  out = reduce_fn(loss, where=where)
  if reduce_fn is jnp.mean:
    hidden = jnp.isnan(out) & ~jnp.any(jnp.isnan(loss))
    out = jnp.where(hidden, 0, out)
  return out


def ranking_softmax_loss(
    logits: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
    *,
    where: Optional[jax.typing.ArrayLike] = None,
    weights: Optional[jax.typing.ArrayLike] = None,
    reduce_fn: Optional[Callable[..., jax.typing.ArrayLike]] = jnp.mean,
) -> jax.Array:
  r"""Listwise softmax ranking loss: relevance-weighted softmax cross entropy.

  For each list (the last axis), with relevance labels :math:`y` (times the
  optional ``weights``):

  .. math::
    \ell(s, y) = -\sum_i y_i \log \frac{e^{s_i}}{\sum_j e^{s_j}}

  Items that ``where`` excludes take no part, neither in the sum nor in the
  normalizer; lists with no valid item are left out of the reduction (a mean
  over none is 0) and have zero gradient.

  Args:
    logits: item scores, shape ``[..., list_size]``, floating dtype.
    labels: relevance labels, shape ``[..., list_size]``.
    where: optional mask of the valid items, shape ``[..., list_size]``.
    weights: optional per-item weights, shape ``[..., list_size]``.
    reduce_fn: ``jnp.mean`` (default), ``jnp.sum``, or ``None`` for the
      per-list losses.

  Returns:
    The reduced loss, or the per-list losses when ``reduce_fn`` is ``None``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> scores = jnp.array([2.0, 1.0, 3.0])
    >>> labels = jnp.array([1.0, 0.0, 0.0])
    >>> print(f'{gradtx.losses.ranking_softmax_loss(scores, labels):.3f}')
    1.408

  References:
    Cao et al., Learning to Rank: From Pairwise Approach to Listwise
    Approach, ICML 2007; Bruch et al., An Analysis of the Softmax Cross
    Entropy Loss for Learning-to-Rank with Binary Relevance, ICTIR 2019.
    Reproduces ``optax.losses.ranking_softmax_loss``.
  """
  _inputs.check_floating('logits', logits)
  dtype = _inputs.out_dtype(logits)
  s = _inputs.upcast(logits)
  y = jnp.asarray(labels).astype(s.dtype)
  if where is not None:
    where = jnp.asarray(where, bool)
    y = jnp.where(where, y, 0)
  if weights is not None:
    y = y * jnp.asarray(weights).astype(s.dtype)
  log_probs = _masked.log_softmax(s, -1, where)
  loss = -jnp.sum(y * log_probs, axis=-1, where=where)
  valid_lists = None if where is None else jnp.any(where, axis=-1)
  return _reduce(loss, valid_lists, reduce_fn).astype(dtype)
