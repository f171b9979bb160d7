"""Normalising the whole update to unit norm (SAM's adversarial direction)."""

from __future__ import annotations

from typing import NamedTuple

import jax

from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class NormalizeState(NamedTuple):
  """:func:`normalize` keeps no state."""


def normalize() -> base.GradientTransformation:
  r"""Divides the updates by their global norm: ``u = g / ‖g‖``.

  ``‖g‖`` is the 2-norm over all leaves, computed in float32. As in Optax
  there is no ``eps``: a zero update gives NaN (use
  :func:`~gradtx.normalize_by_update_norm` for a guarded version). It is the
  adversarial direction of SAM: ``chain(normalize(), sgd(ρ))`` moves the
  params by ``ρ`` along the gradient.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`NormalizeState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx import contrib
    >>> tx = contrib.normalize()
    >>> tx.update({'a': jnp.array([3.0]), 'b': jnp.array([4.0])},
    ...           tx.init(None))[0]
    {'a': Array([0.6], dtype=float32), 'b': Array([0.8], dtype=float32)}

  References:
    Foret, Kleiner, Mobahi & Neyshabur, *Sharpness-Aware Minimization for
    Efficiently Improving Generalization*, ICLR 2021.
  """

  def update_fn(updates, state, params=None):
    del params
    g_norm = tu.norm(updates)
    out = jax.tree.map(lambda g: g.astype(tu.compute_dtype(g)) / g_norm,
                       updates)
    return _leafwise.like_updates(out, updates), state

  return base.transformation(
      'normalize', lambda params: NormalizeState(), update_fn)
