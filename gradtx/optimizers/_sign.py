"""Lion: a signed momentum with decoupled weight decay."""

from __future__ import annotations

from typing import Any, Optional

from gradtx import base
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling
from gradtx.transforms import sign as _sign
from gradtx import _masking as masking


def lion(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.99,
    mu_dtype: Optional[Any] = None,
    weight_decay: base.ScalarOrSchedule = 1e-3,
    mask: Optional[masking.MaskOrFn] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Lion: step along the sign of an interpolated momentum.

  .. code-block:: text

    u = −η_t·(sign(b1·m + (1 − b1)·g) + λ·θ)
    m ← b2·m + (1 − b2)·g

  That is ``chain(scale_by_lion(b1, b2), add_decayed_weights(λ, mask),
  scale_by_learning_rate(η))``; see :func:`gradtx.scale_by_lion`. The decay is
  multiplied by the full learning rate, as in PyTorch implementations
  (``lion-pytorch``: ``θ ← θ(1 − ηλ)``, the same update). Every step has
  the same size per coordinate, so Lion typically wants a learning rate 3–10×
  smaller than AdamW's and a weight decay 3–10× larger.

  Args:
    learning_rate: a constant ``η ≥ 0`` or a schedule.
    b1, b2, mu_dtype: see :func:`gradtx.scale_by_lion`.
    weight_decay: ``λ ≥ 0``, a constant or a schedule.
    mask: a tree of booleans, or a function of the params returning one,
      selecting the parameters to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`. It needs ``params``
    in ``update``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.lion(0.1, weight_decay=0.0)
    >>> p = jnp.zeros(2)
    >>> u, s = opt.update(jnp.array([0.5, -2.0]), opt.init(p), p)
    >>> u
    Array([-0.1,  0.1], dtype=float32)

  References:
    Chen et al., *Symbolic Discovery of Optimization Algorithms*, NeurIPS
    2023.
  """
  return base.chain(
      _sign.scale_by_lion(b1, b2, mu_dtype),
      _decay.add_decayed_weights(weight_decay, mask),
      _scaling.scale_by_learning_rate(learning_rate),
  )
