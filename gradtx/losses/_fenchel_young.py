"""Fenchel-Young losses built from a regularized max function."""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp


def make_fenchel_young_loss(max_fun: Callable[..., Any]) -> Callable[..., jax.Array]:
  r"""Builds the Fenchel-Young loss of a (regularized) max function.

  For a convex ``max_fun`` :math:`\Omega^*` (e.g. ``logsumexp``, giving the
  softmax cross entropy):

  .. math::
    \ell(s, y) = \Omega^*(s) - \langle y, s \rangle

  (up to the constant :math:`\Omega(y)`). The returned loss works on the last
  axis and maps over any leading axes; extra arguments go to ``max_fun``.

  Args:
    max_fun: a function from a score vector ``[n]`` to a scalar.

  Returns:
    A loss ``fy_loss(scores, targets, *args, **kwargs)`` returning one value
    per row of ``scores``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from jax.scipy.special import logsumexp
    >>> fy_loss = gradtx.losses.make_fenchel_young_loss(logsumexp)
    >>> print(fy_loss(jnp.array([[0.0, 0.0]]), jnp.array([[1.0, 0.0]])))
    [0.6931472]

  References:
    Blondel, Martins and Niculae, Learning with Fenchel-Young Losses,
    JMLR 2020. Reproduces ``optax.losses.make_fenchel_young_loss``.
  """
  row_max = jnp.vectorize(max_fun, signature='(n)->()')
  row_dot = jnp.vectorize(jnp.vdot, signature='(n),(n)->()')

  def fenchel_young_loss(scores, targets, *args, **kwargs):
    return row_max(scores, *args, **kwargs) - row_dot(targets, scores)

  return fenchel_young_loss
