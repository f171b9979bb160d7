"""Optimistic gradients: extrapolate with the previous gradient (min-max games)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _leafwise
from gradtx import base
from gradtx import tree as tu


class ScaleByOptimisticGradientState(NamedTuple):
  """State of :func:`scale_by_optimistic_gradient` (names as in Optax)."""

  is_initial_step: jax.Array  # bool scalar: no gradient seen yet.
  previous_gradient: base.Updates  # the last incoming update, like params.


def scale_by_optimistic_gradient(
    alpha: float = 1.0, beta: float = 1.0
) -> base.GradientTransformation:
  """Computes generalised optimistic gradients.

  .. code-block:: text

    u_t = (alpha + beta)·g_t − beta·g_{t−1}        (g_0 stands in for g_{−1})

  ``alpha = beta = 1`` is optimistic gradient descent ``2·g_t − g_{t−1}``;
  ``beta`` alone acts as a negative momentum.

  Args:
    alpha: weight of the current gradient (a number; may be a traced array).
    beta: weight of the gradient change (a number; may be a traced array).

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByOptimisticGradientState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_optimistic_gradient()
    >>> s = tx.init(jnp.zeros(2))
    >>> u, s = tx.update(jnp.array([1.0, 2.0]), s)
    >>> u  # the first step has no previous gradient: u = alpha·g
    Array([1., 2.], dtype=float32)
    >>> tx.update(jnp.array([3.0, 0.0]), s)[0]  # 2·g − g_prev
    Array([ 5., -2.], dtype=float32)

  References:
    Daskalakis et al., *Training GANs with Optimism*, ICLR 2018.
    Mokhtari et al., *A Unified Analysis of Extra-gradient and Optimistic
    Gradient Methods for Saddle Point Problems*, AISTATS 2020.
  """
  for name, value in (('alpha', alpha), ('beta', beta)):
    _checks.check_callable_or_number(name, value)
    if callable(value):
      raise ValueError(
          f'scale_by_optimistic_gradient takes a number for {name} (Optax '
          f'does not evaluate schedules here), got {value!r}'
      )

  def init_fn(params):
    return ScaleByOptimisticGradientState(
        is_initial_step=jnp.array(True),
        previous_gradient=tu.zeros_like(params),
    )

  def update_fn(updates, state, params=None):
    del params

    def leaf(g, prev):
      g, prev = g.astype(tu.compute_dtype(g)), prev.astype(tu.compute_dtype(g))
      prev = jnp.where(state.is_initial_step, g, prev)
      return (alpha + beta) * g - beta * prev

    out = jax.tree.map(leaf, updates, state.previous_gradient)
    return _leafwise.like_updates(out, updates), ScaleByOptimisticGradientState(
        is_initial_step=jnp.array(False),
        previous_gradient=_leafwise.store_like(updates, state.previous_gradient),
    )

  return base.transformation('scale_by_optimistic_gradient', init_fn, update_fn)
