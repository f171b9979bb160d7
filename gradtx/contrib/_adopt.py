"""ADOPT: Adam that normalises by the previous second moment."""

from __future__ import annotations

from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise
from gradtx.transforms import adam as _adam
from gradtx.transforms import scaling as _scaling


def _default_clip(count):
  """``t^(1/4)``, the clipping bound of the ADOPT paper."""
  return count**0.25


def scale_by_adopt(
    b1: float = 0.9,
    b2: float = 0.9999,
    eps: float = 1e-6,
    mu_dtype: Optional[Any] = None,
    *,
    nesterov: bool = False,
    use_clipping: bool = True,
    clip_value_fn: Callable[[jax.Array], jax.Array] = _default_clip,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Rescales updates by ADOPT: normalise first, then average.

  .. code-block:: text

    step 0:   v ← |g|²,  m ← 0,  u = 0          (initialisation only)
    step t:   n = clip(g / max(√v, eps), ±c(t))  v is the *previous* v
              m ← b1·m + (1 − b1)·n
              v ← b2·v + (1 − b2)·|g|²
              u = m        (nesterov: u = b1·m + (1 − b1)·n)

  Normalising by the previous ``v`` makes the step independent of the
  current gradient, which gives convergence for any ``b2``. The clip
  ``c(t) = t^¼`` (``clip_value_fn`` of the step count) bounds the first
  steps; there is no bias correction.

  Args:
    b1: decay of the first moment, in ``[0, 1)``.
    b2: decay of the second moment, in ``[0, 1)``.
    eps: floor of ``√v``, ``≥ 0``.
    mu_dtype: dtype of ``m``; None keeps the params' dtype.
    nesterov: use the Nesterov look-ahead momentum.
    use_clipping: clip the normalised gradient to ``±clip_value_fn(t)``.
    clip_value_fn: the clipping bound as a function of the step count
      ``t`` (0 at the first step).
    nu_dtype: dtype of ``v``; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.ScaleByAdamState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.contrib import scale_by_adopt
    >>> tx = scale_by_adopt()
    >>> s = tx.init(jnp.zeros(1))
    >>> u, s = tx.update(jnp.array([2.0]), s)
    >>> u, s.nu  # the first step only records v = g²
    (Array([0.], dtype=float32), Array([4.], dtype=float32))
    >>> u, s = tx.update(jnp.array([4.0]), s)
    >>> u  # (1 − b1)·clip(4/2, ±1)
    Array([0.1], dtype=float32)

  References:
    Taniguchi et al., *ADOPT: Modified Adam Can Converge with Any β2 with
    the Optimal Rate*, NeurIPS 2024 (arXiv:2411.02853).
  """
  _adam.check_adam_args(b1, b2, eps, 0.0)
  if not callable(clip_value_fn):
    raise ValueError(
        f'clip_value_fn must be a function of the step count, got '
        f'{clip_value_fn!r}')
  mu_dtype = _checks.check_dtype('mu_dtype', mu_dtype)
  nu_dtype = _checks.check_dtype('nu_dtype', nu_dtype)
  init_fn = _adam._adam_like_init(mu_dtype, nu_dtype)  # pylint: disable=protected-access

  def update_fn(updates, state, params=None):
    del params
    started = state.count > 0
    b1_ = jnp.where(started, b1, 1.0)
    b2_ = jnp.where(started, b2, 0.0)
    g = tu.upcast(updates)
    nu_old = tu.upcast(state.nu)
    normed = jax.tree.map(lambda x, v: x / jnp.maximum(jnp.sqrt(v), eps),
                          g, nu_old)
    if use_clipping:
      c = clip_value_fn(state.count)
      normed = jax.tree.map(lambda x: jnp.clip(x, -c, c), normed)
    nu = tu.update_moment_per_elem_norm(g, nu_old, b2_, 2)
    mu = tu.update_moment(normed, tu.upcast(state.mu), b1_, 1)
    out = tu.update_moment(normed, mu, b1_, 1) if nesterov else mu
    return _leafwise.like_updates(out, updates), _adam.ScaleByAdamState(
        count=tu.safe_increment(state.count),
        mu=_leafwise.store_like(mu, state.mu),
        nu=_leafwise.store_like(nu, state.nu),
    )

  return base.transformation('scale_by_adopt', init_fn, update_fn)


def adopt(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.9999,
    eps: float = 1e-6,
    mu_dtype: Optional[Any] = None,
    *,
    nesterov: bool = False,
    use_clipping: bool = True,
    clip_value_fn: Callable[[jax.Array], jax.Array] = _default_clip,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  r"""ADOPT: ``chain(scale_by_adopt(...), scale_by_learning_rate(η))``.

  ``u = −η_t·m`` with ``m`` the average of clipped, normalised gradients;
  see :func:`scale_by_adopt`. The first step leaves the params unchanged.

  Args:
    learning_rate: ``η``, a constant or a schedule.
    b1, b2, eps, mu_dtype, nesterov, use_clipping, clip_value_fn, nu_dtype:
      see :func:`scale_by_adopt`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.contrib import adopt
    >>> opt = adopt(0.1)
    >>> params = jnp.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> for _ in range(3):
    ...   g = jax.grad(lambda p: jnp.sum(p ** 2))(params)
    ...   u, state = opt.update(g, state, params)
    ...   params = gradtx.apply_updates(params, u)
    >>> params  # step 1 is only an initialisation
    Array([ 0.97110003, -1.97105   ], dtype=float32)

  References:
    Taniguchi et al., *ADOPT: Modified Adam Can Converge with Any β2 with
    the Optimal Rate*, NeurIPS 2024 (arXiv:2411.02853).
  """
  return base.chain(
      scale_by_adopt(b1, b2, eps, mu_dtype, nesterov=nesterov,
                     use_clipping=use_clipping, clip_value_fn=clip_value_fn,
                     nu_dtype=nu_dtype),
      _scaling.scale_by_learning_rate(learning_rate),
  )
