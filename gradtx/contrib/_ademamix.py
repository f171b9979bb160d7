"""AdEMAMix: Adam with a second, much slower, momentum."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.optimizers import _adam as _adam_opt
from gradtx import _leafwise
from gradtx.transforms import adam as _adam
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling


class ScaleByAdemamixState(NamedTuple):
  """State of :func:`scale_by_ademamix`."""

  count: jax.Array  # int32 scalar: steps of the fast EMA and of nu.
  count_m2: jax.Array  # int32 scalar: steps of the slow EMA (b3, alpha).
  m1: base.Updates  # fast EMA of g, like params, in mu_dtype.
  m2: base.Updates  # slow EMA of g, like params, in mu_dtype.
  nu: base.Updates  # EMA of |g|², like params, in nu_dtype (real).


class ScaleBySimplifiedAdEMAMixState(NamedTuple):
  """State of :func:`scale_by_simplified_ademamix`."""

  t: jax.Array  # int32 scalar: number of updates seen so far.
  m: base.Updates  # accumulated momentum Σ b1ᵏ·g, like params, in mu_dtype.
  n: base.Updates  # EMA of |g|², like params, in nu_dtype (real).


def _check_beta_or_schedule(name, value):
  _checks.check_callable_or_number(name, value)
  _checks.check_beta(name, value)


def scale_by_ademamix(
    b1: float = 0.9,
    b2: float = 0.999,
    b3: base.ScalarOrSchedule = 0.9999,
    alpha: base.ScalarOrSchedule = 6.0,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    *,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Rescales updates by AdEMAMix: a fast and a slow momentum over Adam's ν.

  .. code-block:: text

    m1 ← b1·m1 + (1 − b1)·g          (fast, debiased: m̂1 = m1/(1 − b1ᵗ))
    m2 ← b3·m2 + (1 − b3)·g          (slow, not debiased)
    ν  ← b2·ν + (1 − b2)·|g|²        (ν̂ = ν/(1 − b2ᵗ))
    u = (m̂1 + α·m2) / (√(ν̂ + eps_root) + eps)

  ``b3`` and ``alpha`` may be schedules (the paper warms both up:
  ``b3`` towards 0.9999 and ``α`` towards its final value, over the whole
  run, since the slow EMA fills only after ~1/(1 − b3) steps).

  Args:
    b1: decay of the fast EMA, in ``[0, 1)``.
    b2: decay of the second moment, in ``[0, 1)``.
    b3: decay of the slow EMA, in ``[0, 1)``, or a schedule.
    alpha: weight ``α`` of the slow EMA, or a schedule.
    eps: added to the root, ``≥ 0``.
    eps_root: added inside the root, ``≥ 0``.
    mu_dtype: dtype of both EMAs; None keeps the params' dtype.
    nu_dtype: dtype of ``ν``; None keeps the params' dtype (Optax stores
      ``ν`` in ``mu_dtype``).

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByAdemamixState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.contrib import scale_by_ademamix
    >>> tx = scale_by_ademamix(b3=0.5, alpha=2.0)
    >>> u, _ = tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))
    >>> u  # (m̂1 + α·m2)/√ν̂ = (2 + 2·1)/2
    Array([2.], dtype=float32)

  References:
    Pagliardini et al., *The AdEMAMix Optimizer: Better, Faster, Older*,
    ICLR 2025 (arXiv:2409.03137).
  """
  _adam.check_adam_args(b1, b2, eps, eps_root)
  _check_beta_or_schedule('b3', b3)
  _checks.check_callable_or_number('alpha', alpha)
  mu_dtype = _checks.check_dtype('mu_dtype', mu_dtype)
  nu_dtype = _checks.check_dtype('nu_dtype', nu_dtype)

  def init_fn(params):
    return ScaleByAdemamixState(
        count=_hyper.zero_count(),
        count_m2=_hyper.zero_count(),
        m1=_leafwise.zeros_state(params, mu_dtype),
        m2=_leafwise.zeros_state(params, mu_dtype),
        nu=_leafwise.real_full_like(params, 0, nu_dtype),
    )

  def update_fn(updates, state, params=None):
    del params
    c_b3 = _hyper.value_at(b3, state.count_m2)
    c_alpha = _hyper.value_at(alpha, state.count_m2)
    g = tu.upcast(updates)
    m1 = tu.update_moment(g, tu.upcast(state.m1), b1, 1)
    m2 = tu.update_moment(g, tu.upcast(state.m2), c_b3, 1)
    nu = tu.update_moment_per_elem_norm(g, tu.upcast(state.nu), b2, 2)
    count = tu.safe_increment(state.count)
    out = jax.tree.map(
        lambda a, b, v: (a + c_alpha * b) / (jnp.sqrt(v + eps_root) + eps),
        tu.bias_correction(m1, b1, count), m2,
        tu.bias_correction(nu, b2, count))
    return _leafwise.like_updates(out, updates), ScaleByAdemamixState(
        count=count,
        count_m2=tu.safe_increment(state.count_m2),
        m1=_leafwise.store_like(m1, state.m1),
        m2=_leafwise.store_like(m2, state.m2),
        nu=_leafwise.store_like(nu, state.nu),
    )

  return base.transformation('scale_by_ademamix', init_fn, update_fn)


def ademamix(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    b3: base.ScalarOrSchedule = 0.9999,
    alpha: base.ScalarOrSchedule = 5.0,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    weight_decay: base.ScalarOrSchedule = 0.0,
    mask: _adam_opt.MaskOrFn = None,
    *,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  r"""AdEMAMix with decoupled weight decay.

  .. code-block:: text

    u = −η_t·((m̂1 + α·m2)/(√(ν̂ + eps_root) + eps) + λ·θ)

  That is ``chain(scale_by_ademamix, add_decayed_weights(λ, mask),
  scale_by_learning_rate(η))``; see :func:`scale_by_ademamix`. Note the
  default ``alpha = 5`` here and 6 in :func:`scale_by_ademamix`, as in Optax.

  Args:
    learning_rate: ``η``, a constant or a schedule.
    b1, b2, b3, alpha, eps, eps_root, mu_dtype, nu_dtype: see
      :func:`scale_by_ademamix`.
    weight_decay: ``λ ≥ 0``, a constant or a schedule.
    mask: which params to decay (a tree of booleans or a function of the
      params).

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.contrib import ademamix
    >>> opt = ademamix(0.01)
    >>> params = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(params)
    >>> for _ in range(5):
    ...   g = jax.grad(lambda p: jnp.sum(p ** 2))(params)
    ...   u, state = opt.update(g, state, params)
    ...   params = gradtx.apply_updates(params, u)
    >>> params
    Array([0.94997156, 1.9499477 , 2.94994   ], dtype=float32)

  References:
    Pagliardini et al., *The AdEMAMix Optimizer: Better, Faster, Older*,
    ICLR 2025 (arXiv:2409.03137).
  """
  return base.chain(
      scale_by_ademamix(b1, b2, b3, alpha, eps, eps_root, mu_dtype,
                        nu_dtype=nu_dtype),
      _decay.add_decayed_weights(weight_decay, mask),
      _scaling.scale_by_learning_rate(learning_rate),
  )


def scale_by_simplified_ademamix(
    b1: float = 0.99,
    b2: float = 0.95,
    alpha: base.ScalarOrSchedule = 0.0,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Rescales updates by simplified AdEMAMix: one undamped momentum.

  .. code-block:: text

    m ← b1·m + g                      (no (1 − b1) factor, no debiasing)
    n ← b2·n + (1 − b2)·|g|²          n̂ = n/(1 − b2ᵗ)
    u = (m + α·g) / (√(n̂ + eps_root) + eps)

  With ``α = 0`` this is Adam with learning rate ``η/(1 − b1)`` (up to the
  first moment's debiasing). The long memory ``b1 = 0.99`` plays the part of
  AdEMAMix's slow EMA, and ``α·g`` of its fast one.

  Args:
    b1: decay of the momentum, in ``[0, 1)``.
    b2: decay of the second moment, in ``[0, 1)``.
    alpha: weight ``α`` of the current gradient, or a schedule.
    eps: added to the root, ``≥ 0``.
    eps_root: added inside the root, ``≥ 0``.
    mu_dtype: dtype of ``m``; None keeps the params' dtype.
    nu_dtype: dtype of ``n``; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleBySimplifiedAdEMAMixState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.contrib import scale_by_simplified_ademamix
    >>> tx = scale_by_simplified_ademamix(alpha=1.0)
    >>> s = tx.init(jnp.zeros(1))
    >>> u, s = tx.update(jnp.array([2.0]), s)
    >>> u, s = tx.update(jnp.array([2.0]), s)
    >>> u  # m = 0.99·2 + 2, n̂ = 4: (3.98 + 2)/2
    Array([2.99], dtype=float32)

  References:
    Morwani et al., *Connections between Schedule-Free Optimizers, AdEMAMix,
    and Accelerated SGD Variants*, 2025 (arXiv:2502.02431).
  """
  _adam.check_adam_args(b1, b2, eps, eps_root)
  _checks.check_callable_or_number('alpha', alpha)
  mu_dtype = _checks.check_dtype('mu_dtype', mu_dtype)
  nu_dtype = _checks.check_dtype('nu_dtype', nu_dtype)

  def init_fn(params):
    return ScaleBySimplifiedAdEMAMixState(
        t=_hyper.zero_count(),
        m=_leafwise.zeros_state(params, mu_dtype),
        n=_leafwise.real_full_like(params, 0, nu_dtype),
    )

  def update_fn(updates, state, params=None):
    del params
    c_alpha = _hyper.value_at(alpha, state.t)
    g = tu.upcast(updates)
    m = jax.tree.map(lambda x, m_: x + b1 * m_, g, tu.upcast(state.m))
    n = tu.update_moment_per_elem_norm(g, tu.upcast(state.n), b2, 2)
    t = tu.safe_increment(state.t)
    out = jax.tree.map(
        lambda m_, x, v: (m_ + c_alpha * x) / (jnp.sqrt(v + eps_root) + eps),
        m, g, tu.bias_correction(n, b2, t))
    return _leafwise.like_updates(out, updates), ScaleBySimplifiedAdEMAMixState(
        t=t,
        m=_leafwise.store_like(m, state.m),
        n=_leafwise.store_like(n, state.n),
    )

  return base.transformation('scale_by_simplified_ademamix', init_fn,
                             update_fn)


def simplified_ademamix(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.99,
    b2: float = 0.95,
    alpha: base.ScalarOrSchedule = 0.0,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    weight_decay: base.ScalarOrSchedule = 0.0,
    mask: _adam_opt.MaskOrFn = None,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Simplified AdEMAMix with decoupled weight decay.

  .. code-block:: text

    u = −η_t·((m + α·g)/(√(n̂ + eps_root) + eps) + λ·θ)

  That is ``chain(scale_by_simplified_ademamix, add_decayed_weights(λ,
  mask), scale_by_learning_rate(η))``; see
  :func:`scale_by_simplified_ademamix`.

  Args:
    learning_rate: ``η``, a constant or a schedule.
    b1, b2, alpha, eps, eps_root, mu_dtype, nu_dtype: see
      :func:`scale_by_simplified_ademamix`.
    weight_decay: ``λ ≥ 0``, a constant or a schedule.
    mask: which params to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.contrib import simplified_ademamix
    >>> opt = simplified_ademamix(0.01)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([3.0]), opt.init(p), p)[0]  # −η·g/|g|
    Array([-0.01], dtype=float32)

  References:
    Morwani et al., *Connections between Schedule-Free Optimizers, AdEMAMix,
    and Accelerated SGD Variants*, 2025 (arXiv:2502.02431).
  """
  return base.chain(
      scale_by_simplified_ademamix(b1, b2, alpha, eps, eps_root,
                                   mu_dtype=mu_dtype, nu_dtype=nu_dtype),
      _decay.add_decayed_weights(weight_decay, mask),
      _scaling.scale_by_learning_rate(learning_rate),
  )
