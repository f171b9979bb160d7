"""Adan: adaptive Nesterov momentum, with decoupled weight decay."""

from __future__ import annotations

from typing import Optional

from gradtx import base
from gradtx._masking import MaskOrFn
from gradtx.transforms import adan as _adan
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling


def adan(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.98,
    b2: float = 0.92,
    b3: float = 0.99,
    eps: float = 1e-8,
    eps_root: float = 1e-8,
    weight_decay: base.ScalarOrSchedule = 0.0,
    mask: Optional[MaskOrFn] = None,
) -> base.GradientTransformationExtraArgs:
  """Adan: ``chain(scale_by_adan, add_decayed_weights, scale_by_learning_rate)``.

  ``u = −η_t·((m̂ + (1 − b2)·v̂) / (√(n̂ + eps_root) + eps) + λ·θ)``; see
  :func:`gradtx.scale_by_adan` for the moments. Note ``eps_root = 1e-8`` by
  default here (0 in :func:`gradtx.scale_by_adan`), as in Optax.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, b3, eps, eps_root: see :func:`gradtx.scale_by_adan`.
    weight_decay: ``λ ≥ 0``, a constant or a schedule.
    mask: a tree of booleans, or a function of the params returning one, that
      selects the parameters to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> f = lambda x: x @ x
    >>> opt = gradtx.adan(0.1)
    >>> params = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(params)
    >>> for _ in range(5):
    ...   updates, state = opt.update(jax.grad(f)(params), state, params)
    ...   params = gradtx.apply_updates(params, updates)
    >>> print(f'{f(params):.2f}')  # from 14.00
    8.76

  References:
    Xie et al., *Adan: Adaptive Nesterov Momentum Algorithm for Faster
    Optimizing Deep Models*, IEEE TPAMI 2024 (arXiv:2208.06677).
  """
  return base.chain(
      _adan.scale_by_adan(b1=b1, b2=b2, b3=b3, eps=eps, eps_root=eps_root),
      _decay.add_decayed_weights(weight_decay, mask),
      _scaling.scale_by_learning_rate(learning_rate),
  )
