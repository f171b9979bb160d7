"""Polyak's step size: the gap to the optimum over the squared gradient norm."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from gradtx import _checks
from gradtx import _leafwise
from gradtx import base
from gradtx import tree as tu

_VARIANTS = ('sps', 'sps+')


def scale_by_polyak(
    f_min: float = 0.0,
    max_learning_rate: float = 1.0,
    eps: float = 0.0,
    variant: str = 'sps',
) -> base.GradientTransformationExtraArgs:
  r"""Scales updates by Polyak's step size; ``update`` needs ``value=f(θ)``.

  .. code-block:: text

    gap = f(θ) − f_min               ('sps')
          max(f(θ) − f_min, 0)       ('sps+')
    γ = min(gap / (‖g‖² + eps), max_learning_rate)
    γ = 0 where ‖g‖² + eps ≤ 2.2e-16 (float64 machine epsilon, as in Optax)
    u = γ·g

  ``‖g‖²`` is the squared norm of the incoming updates (the whole tree).

  Args:
    f_min: a lower bound on the objective (0 for models that interpolate the
      data); may be a traced array.
    max_learning_rate: upper bound on ``γ``.
    eps: added to ``‖g‖²``, ``≥ 0``.
    variant: ``'sps'`` or ``'sps+'`` (clip a negative gap to 0).

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`; its ``update`` takes
    the keyword argument ``value``, the objective at the current params,
    and keeps an :class:`~gradtx.EmptyState` (as Optax does).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_polyak()
    >>> g = jnp.array([3.0, 4.0])  # ‖g‖² = 25
    >>> tx.update(g, tx.init(g), value=5.0)[0]  # γ = 5 / 25
    Array([0.6, 0.8], dtype=float32)

  References:
    Polyak, *Introduction to Optimization*, 1987.
    Loizou et al., *Stochastic Polyak Step-size for SGD: An Adaptive Learning
    Rate for Fast Convergence*, AISTATS 2021.
  """
  if variant not in _VARIANTS:
    raise ValueError(f"variant must be one of {_VARIANTS}, got {variant!r}")
  _checks.check_non_negative('max_learning_rate', max_learning_rate)
  _checks.check_non_negative('eps', eps)
  tiny = float(np.finfo(np.float64).eps)

  def update_fn(updates, state, params=None, *, value, **extra_args):
    del params, extra_args
    sq = tu.norm(updates, squared=True)
    gap = jnp.asarray(value - f_min).astype(sq.dtype)
    if variant == 'sps+':
      gap = jnp.maximum(gap, 0.0)
    step = jnp.where(
        sq + eps <= tiny, 0.0, jnp.minimum(gap / (sq + eps), max_learning_rate)
    )
    out = tu.scale(step, tu.upcast(updates))
    return _leafwise.like_updates(out, updates), state

  return base.transformation_with_extra_args(
      'scale_by_polyak', base.init_empty_state, update_fn
  )
