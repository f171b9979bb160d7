"""Layer-wise DoG: a learning-rate-free step size from distance over gradients."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise


class ScaleByDistanceOverGradientsState(NamedTuple):
  """State of :func:`scale_by_distance_over_gradients`; one entry per leaf."""

  max_dist: base.OptState  # per leaf, a float32 scalar: r̄ = max_k ‖θ_k − θ₀‖.
  grad_sum_of_squares: base.OptState  # per leaf, float32 of shape (1,):
  # G = Σ_k ‖g_k‖² (shape (1,) as in Optax).
  init_params: base.OptState  # θ₀, cast to param_dtype.


def scale_by_distance_over_gradients(
    reps_rel: float = 1e-6,
    eps: float = 1e-8,
    param_dtype: Any = jnp.float32,
    global_scale: float = 1.0,
) -> base.GradientTransformation:
  r"""Layer-wise DoG (LDoG): each leaf's step is its distance over gradients.

  For each leaf (parameter array) separately, with ``θ₀`` its initial value:

  .. code-block:: text

    r̄ ← max(r̄, ‖θ − θ₀‖)          (r̄ starts at reps_rel·(1 + ‖θ₀‖))
    G ← G + ‖g‖²
    u = global_scale · r̄ / √(G + eps) · g

  The result is an ascent direction scaled by the step size, like
  :func:`~gradtx.scale_by_adam`'s: use ``global_scale=-1`` (or chain
  ``scale_by_learning_rate``) for descent. The norms are taken in float32 and
  the distances and sums are float32 whatever the params' dtype (Optax keeps
  the initial distance in the params' dtype); ``init_params`` is stored in
  ``param_dtype``. The authors recommend averaging the iterates.

  Args:
    reps_rel: relative initial distance ``> 0``: 1e-6 for most models, 1e-4
      for models with batch normalisation.
    eps: added to ``G`` under the root, ``≥ 0``.
    param_dtype: dtype in which the initial params are stored.
    global_scale: factor applied to every step (typically 1 or −1).

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByDistanceOverGradientsState`. It needs ``params``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from gradtx.transforms.dog import scale_by_distance_over_gradients
    >>> tx = scale_by_distance_over_gradients(reps_rel=0.1, eps=0.0)
    >>> p = jnp.array([3.0, 4.0])  # ‖θ₀‖ = 5, so r̄ = 0.6
    >>> u, s = tx.update(jnp.array([0.0, 2.0]), tx.init(p), p)
    >>> u  # 0.6 / √4 · g
    Array([0. , 0.6], dtype=float32)

  References:
    Ivgi, Hinder & Carmon, *DoG is SGD's Best Friend: A Parameter-Free
    Dynamic Step Size Schedule*, ICML 2023 (LDoG, section 3).
  """
  _checks.check_positive('reps_rel', reps_rel)
  _checks.check_non_negative('eps', eps)
  _checks.check_callable_or_number('global_scale', global_scale)
  param_dtype = _checks.check_dtype('param_dtype', param_dtype)

  def init_fn(params):
    return ScaleByDistanceOverGradientsState(
        max_dist=jax.tree.map(
            lambda x: (reps_rel * (1 + tu.norm(x))).astype(jnp.float32),
            params),
        grad_sum_of_squares=jax.tree.map(
            lambda x: jnp.zeros((1,), jnp.float32), params),
        init_params=tu.cast(params, param_dtype),
    )

  def update_fn(updates, state, params=None):
    _checks.require_params('scale_by_distance_over_gradients', params)
    max_dist = jax.tree.map(
        lambda d, x, x0: jnp.maximum(d, tu.norm(tu.sub(*tu.upcast((x, x0))))),
        state.max_dist, params, state.init_params,
    )
    g_sos = jax.tree.map(
        lambda s, g: s + jnp.sum(tu.abs_sq(g)), state.grad_sum_of_squares,
        updates,
    )
    out = jax.tree.map(
        lambda g, d, s: global_scale * (d / jnp.sqrt(s[0] + eps))
        * g.astype(tu.compute_dtype(g)),
        updates, max_dist, g_sos,
    )
    return _leafwise.like_updates(out, updates), (
        ScaleByDistanceOverGradientsState(
            max_dist=_leafwise.store_like(max_dist, state.max_dist),
            grad_sum_of_squares=g_sos,
            init_params=state.init_params,
        ))

  return base.transformation(
      'scale_by_distance_over_gradients', init_fn, update_fn)
