"""PyTorch's ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``."""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx import _leafwise
from gradtx.transforms import clipping as _clipping


class ClipGradNormState(NamedTuple):
  """State of :func:`clip_grad_norm_` (empty)."""


def _leaf_norm(g, p):
  g = jnp.abs(jnp.asarray(g).astype(jnp.result_type(jnp.float32, g)))
  if p == math.inf:
    return jnp.max(g, initial=0.0)
  return jnp.sum(g**p)**(1.0 / p)


def clip_grad_norm_(
    max_norm: float, norm_type: float = 2.0,
) -> base.GradientTransformation:
  r"""Rescales the gradients as ``torch.nn.utils.clip_grad_norm_`` does.

  .. code-block:: text

    N = ‖(‖g₁‖_p, ‖g₂‖_p, …)‖_p
    g ← g · min(max_norm/(N + 1e-6), 1)

  The ``1e-6`` makes the factor slightly below 1 even when ``N`` is just
  under ``max_norm``; :func:`gradtx.clip_by_global_norm` (Optax's rule) has
  no such term. Put it first in a chain, where PyTorch calls it between
  ``backward()`` and ``step()``. PyTorch's ``error_if_nonfinite`` cannot be
  raised inside ``jit``; wrap the chain in :func:`gradtx.apply_if_finite`
  to skip such steps instead.

  Args:
    max_norm: the bound, ``≥ 0``.
    norm_type: ``p ≥ 1``, or ``math.inf`` / ``'inf'`` for the max norm.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ClipGradNormState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.torch import clip_grad_norm_
    >>> tx = clip_grad_norm_(1.0)
    >>> u, _ = tx.update(jnp.array([3.0, 4.0]), tx.init(jnp.zeros(2)))
    >>> u.round(5)   # 5 ≥ 1: scaled by 1/(5 + 1e-6)
    Array([0.6, 0.8], dtype=float32)

  References:
    ``torch.nn.utils.clip_grad_norm_``.
  """
  _checks.check_non_negative('max_norm', max_norm)
  if norm_type in ('inf', float('inf')):
    p = math.inf
  else:
    _checks.check_range('norm_type', norm_type, 1.0, None)
    p = float(norm_type)

  def update_fn(updates, state, params=None):
    del params
    norms = jnp.stack([_leaf_norm(g, p) for g in jax.tree.leaves(updates)])
    total = _leaf_norm(norms, p)
    factor = jnp.minimum(max_norm / (total + 1e-6), 1.0)
    out = jax.tree.map(lambda g: g * factor.astype(g.dtype), updates)
    return _leafwise.like_updates(out, updates), state

  return base.transformation(
      'clip_grad_norm_', lambda params: ClipGradNormState(), update_fn)


def clip_grad_value_(clip_value: float) -> base.GradientTransformation:
  r"""Clamps every gradient element to ``[−c, c]`` (``clip_grad_value_``).

  This is :func:`gradtx.clip` under PyTorch's name and argument name.

  Args:
    clip_value: ``c > 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.torch import clip_grad_value_
    >>> tx = clip_grad_value_(1.0)
    >>> tx.update(jnp.array([-3.0, 0.5]), tx.init(jnp.zeros(2)))[0]
    Array([-1. ,  0.5], dtype=float32)

  References:
    ``torch.nn.utils.clip_grad_value_``.
  """
  return _clipping.clip(clip_value)
