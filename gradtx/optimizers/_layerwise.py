"""Layer-wise optimizers: LAMB, LARS and Fromage, built on trust ratios."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx._masking import MaskOrFn
from gradtx.transforms import adam as _adam
from gradtx.transforms import decay as _decay
from gradtx.transforms import momentum as _momentum
from gradtx.transforms import scaling as _scaling
from gradtx.transforms import trust_ratio as _trust
from gradtx import _masking


def lamb(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-6,
    eps_root: float = 0.0,
    weight_decay: base.ScalarOrSchedule = 0.0,
    mask: Optional[MaskOrFn] = None,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """LAMB: AdamW's direction, rescaled per layer by ``‖θ‖ / ‖direction‖``.

  .. code-block:: text

    dₗ = m̂ₗ / (√(v̂ₗ + eps_root) + eps) + λ·θₗ
    uₗ = −η_t · ‖θₗ‖ / ‖dₗ‖ · dₗ        (uₗ = −η_t·dₗ if a norm is 0)

  ``chain(scale_by_adam, add_decayed_weights(λ, mask), scale_by_trust_ratio,
  scale_by_learning_rate)``. Keras' ``Lamb`` has the same rule with its own
  defaults (``eps = 1e-7``, no weight decay inside the ratio).

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root, mu_dtype, nu_dtype: see
      :func:`gradtx.scale_by_adam` (``eps`` defaults to 1e-6 here).
    weight_decay: ``λ ≥ 0``, a constant or a schedule.
    mask: which parameters to decay (a tree of booleans or a function of the
      params returning one).

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`. ``update`` needs
    ``params``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.lamb(0.1)
    >>> p = jnp.array([3.0, 4.0])
    >>> opt.update(jnp.array([1.0, 1.0]), opt.init(p), p)[0]
    Array([-0.3535534, -0.3535534], dtype=float32)

  References:
    You et al., *Large Batch Optimization for Deep Learning: Training BERT
    in 76 minutes*, ICLR 2020.
  """
  return base.chain(
      _adam.scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nu_dtype=nu_dtype),
      _decay.add_decayed_weights(weight_decay, mask),
      _trust.scale_by_trust_ratio(),
      _scaling.scale_by_learning_rate(learning_rate),
  )


def lars(
    learning_rate: base.ScalarOrSchedule,
    weight_decay: base.ScalarOrSchedule = 0.0,
    weight_decay_mask: MaskOrFn = True,
    trust_coefficient: float = 0.001,
    eps: float = 0.0,
    trust_ratio_mask: MaskOrFn = True,
    momentum: float = 0.9,
    nesterov: bool = False,
    *,
    accumulator_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """LARS: SGD with momentum on layer-wise trust-scaled gradients.

  .. code-block:: text

    dₗ = gₗ + λ·θₗ
    dₗ ← c·‖θₗ‖ / (‖dₗ‖ + eps) · dₗ        (unchanged if a norm is 0)
    m ← −η_t·d + μ·m ;  u = m              (Nesterov: u = −η_t·d + μ·m)

  ``chain(add_decayed_weights(λ, weight_decay_mask),
  masked(scale_by_trust_ratio(c, eps), trust_ratio_mask),
  scale_by_learning_rate, trace(μ, nesterov))``. The learning rate enters
  before the momentum, so a changing ``η`` does not rescale old momentum.
  Biases and normalisation scales are often excluded from both masks.

  Args:
    learning_rate: a constant or a schedule.
    weight_decay: ``λ ≥ 0``, a constant or a schedule.
    weight_decay_mask: which parameters to decay (True: all).
    trust_coefficient: ``c ≥ 0``, the trust coefficient of the paper.
    eps: added to the norm of ``d``, ``≥ 0``.
    trust_ratio_mask: which parameters get the trust ratio (True: all).
    momentum: ``μ`` in ``[0, 1]``.
    nesterov: use Nesterov momentum.
    accumulator_dtype: dtype of the momentum; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`. ``update`` needs
    ``params``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.lars(1.0, trust_coefficient=0.1)
    >>> p = jnp.array([3.0, 4.0])
    >>> opt.update(jnp.array([1.5, 2.0]), opt.init(p), p)[0]  # −0.1·5/2.5·g
    Array([-0.3, -0.4], dtype=float32)

  References:
    You et al., *Large Batch Training of Convolutional Networks*, 2017.
  """
  _checks.check_unit_interval('momentum', momentum)
  return base.chain(
      _decay.add_decayed_weights(weight_decay, mask=weight_decay_mask),
      _masking.masked(
          _trust.scale_by_trust_ratio(
              trust_coefficient=trust_coefficient, eps=eps),
          trust_ratio_mask,
      ),
      _scaling.scale_by_learning_rate(learning_rate),
      _momentum.trace(momentum, nesterov, accumulator_dtype),
  )


class FromageShrinkState(NamedTuple):
  """State of Fromage's learning-rate step."""

  count: jax.Array  # int32 scalar: number of updates seen so far.


def _fromage_step(learning_rate: base.ScalarOrSchedule):
  """``u ← −η·c·g + (c − 1)·θ`` with ``c = 1/√(1 + η²)``.

  So that ``θ + u = c·(θ − η·g)``: a step followed by a shrink that keeps
  ``‖θ‖`` from growing. (``add_decayed_weights`` refuses the negative
  coefficient ``c − 1``, so the shrink lives here.)
  """
  _hyper.check_learning_rate(learning_rate)

  def init_fn(params):
    del params
    return FromageShrinkState(count=_hyper.zero_count())

  def update_fn(updates, state, params=None):
    _checks.require_params('fromage', params)
    lr = jnp.asarray(_hyper.value_at(learning_rate, state.count), jnp.float32)
    c = 1.0 / (1.0 + lr**2) ** 0.5

    def leaf(g, p):
      if g is None:
        return None
      out = -(lr * c) * g.astype(tu.compute_dtype(g)) + (c - 1.0) * p.astype(
          tu.compute_dtype(p))
      return out.astype(g.dtype)

    out = jax.tree.map(leaf, updates, params, is_leaf=lambda x: x is None)
    return out, FromageShrinkState(count=tu.safe_increment(state.count))

  return base.transformation('fromage', init_fn, update_fn)


def fromage(
    learning_rate: base.ScalarOrSchedule, min_norm: float = 1e-6
) -> base.GradientTransformationExtraArgs:
  """Fromage: a trust-ratio step followed by a norm-preserving shrink.

  .. code-block:: text

    dₗ = max(‖θₗ‖, min_norm) / max(‖gₗ‖, min_norm) · gₗ
    θₗ ← (θₗ − η_t·dₗ) / √(1 + η_t²)

  Each layer moves by a fixed fraction ``η`` of its norm; the division by
  ``√(1 + η²)`` undoes the growth of ``‖θ‖`` that such a step would cause.
  ``update`` returns ``θ_new − θ``.

  Args:
    learning_rate: ``η ≥ 0``, a constant or a schedule.
    min_norm: lower bound on both norms, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`. ``update`` needs
    ``params``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.fromage(0.75)
    >>> p = jnp.array([3.0, 4.0])
    >>> u, _ = opt.update(jnp.array([0.0, 1.0]), opt.init(p), p)
    >>> [round(float(x), 4) for x in p + u]  # (θ − 0.75·5·[0, 1]) / 1.25
    [2.4, 0.2]

  References:
    Bernstein et al., *On the distance between two neural networks and the
    stability of learning*, NeurIPS 2020.
  """
  _checks.check_non_negative('min_norm', min_norm)
  return base.chain(
      _trust.scale_by_trust_ratio(min_norm),
      _fromage_step(learning_rate),
  )
