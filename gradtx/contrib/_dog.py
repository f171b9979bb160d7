"""DoG and DoWG: parameter-free step sizes from the distance travelled."""

from __future__ import annotations

from typing import Any, Callable, Literal, NamedTuple, Optional, Union

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling

MaskOrFn = Optional[Union[Any, Callable[[base.Params], Any]]]
_INIT_STEP_TAGS = ('distance', 'learning_rate', 'heuristic')


class DoGState(NamedTuple):
  """State of :func:`dog` (its ``scale_by_dog`` member)."""

  is_init_step: jax.Array  # bool scalar: True until the first update.
  init_params: base.Params  # θ₀, like params.
  max_dist: jax.Array  # float32 scalar: r̄ = max(r_ε, max_k ‖θ_k − θ₀‖).
  sum_sq_norm_grads: jax.Array  # float32 scalar: G = Σ_k ‖g_k‖².


class DoWGState(NamedTuple):
  """State of :func:`dowg` (its ``scale_by_dowg`` member)."""

  init_params: base.Params  # θ₀, like params.
  weighted_sq_norm_grads: jax.Array  # float32 scalar: v = Σ_k r̄_k²·‖g_k‖².
  estim_sq_dist: jax.Array  # float32 scalar: r̄² = max_k ‖θ_k − θ₀‖².


def _scaled_like(lr, updates):
  """``lr · g`` per leaf, computed in float32 and returned in g's dtype."""
  out = jax.tree.map(lambda g: lr * g.astype(tu.compute_dtype(g)), updates)
  return _leafwise.like_updates(out, updates)


def _check_init_step(init_step):
  if (not isinstance(init_step, (tuple, list)) or len(init_step) != 2
      or init_step[0] not in _INIT_STEP_TAGS):
    raise ValueError(
        'init_step must be a pair (tag, value) with tag one of '
        f'{_INIT_STEP_TAGS}, got {init_step!r}'
    )
  _checks.check_callable_or_number('init_step value', init_step[1])
  _checks.check_non_negative('init_step value', init_step[1])


def scale_by_dog(
    init_step: tuple[Literal['distance', 'learning_rate', 'heuristic'], float],
    eps: float = 1e-8,
) -> base.GradientTransformation:
  r"""Scales updates by the DoG step size ``r̄ / √(G + eps)``.

  .. code-block:: text

    r̄ ← max(r̄, ‖θ − θ₀‖)      G ← G + ‖g‖²      u = r̄ / √(G + eps) · g

  over all leaves together. ``r̄`` starts at ``r_ε`` given by ``init_step``:
  ``('distance', r)`` sets ``r_ε = r``; ``('heuristic', α)`` sets
  ``r_ε = α·(1 + ‖θ₀‖)`` (so ``init`` needs the real params); and
  ``('learning_rate', η₀)`` makes the first step ``η₀·g`` (with ``r_ε = 0``).

  Args:
    init_step: ``(tag, value)`` as above.
    eps: added to ``G`` under the root, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`DoGState`. It
    needs ``params``.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.contrib._dog import scale_by_dog
    >>> tx = scale_by_dog(('distance', 0.5), eps=0.0)
    >>> p = jnp.zeros(2)
    >>> tx.update(jnp.array([3.0, 4.0]), tx.init(p), p)[0]  # 0.5/5 · g
    Array([0.3, 0.4], dtype=float32)

  References:
    Ivgi, Hinder & Carmon, *DoG is SGD's Best Friend: A Parameter-Free
    Dynamic Step Size Schedule*, ICML 2023.
  """
  _check_init_step(init_step)
  _checks.check_non_negative('eps', eps)
  tag, value = init_step

  def init_fn(params):
    if tag == 'distance':
      r_eps = jnp.asarray(value, jnp.float32)
    elif tag == 'heuristic':
      r_eps = value * (1 + tu.norm(params))
    else:
      r_eps = jnp.zeros([], jnp.float32)
    return DoGState(
        is_init_step=jnp.asarray(True),
        init_params=params,
        max_dist=jnp.asarray(r_eps, jnp.float32),
        sum_sq_norm_grads=jnp.zeros([], jnp.float32),
    )

  def update_fn(updates, state, params=None):
    _checks.require_params('scale_by_dog', params)
    dist = tu.norm(tu.sub(tu.upcast(state.init_params), tu.upcast(params)))
    max_dist = jnp.maximum(state.max_dist, dist).astype(jnp.float32)
    sum_sq = state.sum_sq_norm_grads + tu.norm(updates, squared=True)
    lr = max_dist / jnp.sqrt(sum_sq + eps)
    if tag == 'learning_rate':
      lr = jnp.where(state.is_init_step, value, lr)
    return _scaled_like(lr, updates), DoGState(
        is_init_step=jnp.asarray(False),
        init_params=state.init_params,
        max_dist=max_dist,
        sum_sq_norm_grads=sum_sq.astype(jnp.float32),
    )

  return base.transformation('scale_by_dog', init_fn, update_fn)


def _then_lr(learning_rate, weight_decay, mask, scaler):
  if weight_decay is not None:
    _checks.check_non_negative('weight_decay', weight_decay)
  return base.chain(
      _decay.add_decayed_weights(weight_decay, mask)
      if weight_decay is not None else base.identity(),
      scaler,
      _scaling.scale_by_learning_rate(learning_rate),
  )


def dog(
    learning_rate: base.ScalarOrSchedule = 1.0,
    init_step: tuple[
        Literal['distance', 'learning_rate', 'heuristic'], float
    ] = ('heuristic', 1e-6),
    eps: float = 1e-8,
    weight_decay: Optional[float] = None,
    mask: MaskOrFn = None,
) -> base.GradientTransformationExtraArgs:
  r"""DoG (Distance over Gradients): SGD with a parameter-free step size.

  .. code-block:: text

    r̄_t = max(r_ε, max_{k≤t} ‖θ_k − θ₀‖)      G_t = Σ_{k≤t} ‖g_k‖²
    θ_{t+1} = θ_t − η_t · r̄_t / √(G_t + eps) · (g_t + λ·θ_t)

  ``η_t`` (``learning_rate``, 1 by default) is an optional multiplier, such
  as a decaying schedule. ``chain([add_decayed_weights(λ, mask)],
  scale_by_dog(init_step, eps), scale_by_learning_rate(η))``.

  Args:
    learning_rate: a multiplier of the DoG step, constant or schedule.
    init_step: ``(tag, value)``: ``('heuristic', α)`` (default, ``α = 1e-6``;
      1e-4 with batch normalisation) sets ``r_ε = α·(1 + ‖θ₀‖)``;
      ``('distance', r)`` sets ``r_ε = r``; ``('learning_rate', η₀)`` makes
      the first step ``η₀·g``. ``init`` must get the real params for the
      heuristic.
    eps: added to ``G`` under the root, ``≥ 0``.
    weight_decay: ``λ ≥ 0`` added to the gradient before DoG; None for none.
    mask: a tree of booleans (or a function of the params returning one)
      selecting the params to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`DoGState` in its chain. It needs ``params``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx import contrib
    >>> opt = contrib.dog(init_step=('distance', 0.1))
    >>> params = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(params)
    >>> for _ in range(30):
    ...   g = jax.grad(lambda p: jnp.sum(p ** 2))(params)
    ...   u, state = opt.update(g, state, params)
    ...   params = gradtx.apply_updates(params, u)
    >>> bool(jnp.sum(params ** 2) < 1e-5)  # from 14
    True

  References:
    Ivgi, Hinder & Carmon, *DoG is SGD's Best Friend: A Parameter-Free
    Dynamic Step Size Schedule*, ICML 2023.
  """
  return _then_lr(learning_rate, weight_decay, mask,
                  scale_by_dog(init_step, eps))


def scale_by_dowg(
    init_estim_sq_dist: Optional[float] = None,
    eps: float = 1e-4,
) -> base.GradientTransformation:
  r"""Scales updates by the DoWG step size ``r̄² / (√v + eps)``.

  .. code-block:: text

    r̄² ← max(r̄², ‖θ − θ₀‖²)      v ← v + r̄²·‖g‖²      u = r̄² / (√v + eps) · g

  over all leaves together; ``r̄²`` starts at ``init_estim_sq_dist`` (``eps``
  when None).

  Args:
    init_estim_sq_dist: initial guess of the squared distance to the
      solution, ``≥ 0``; None uses ``eps``.
    eps: added to ``√v``, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`DoWGState`. It
    needs ``params``.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.contrib._dog import scale_by_dowg
    >>> tx = scale_by_dowg(init_estim_sq_dist=4.0, eps=0.0)
    >>> p = jnp.zeros(2)
    >>> tx.update(jnp.array([3.0, 4.0]), tx.init(p), p)[0]  # 4/(2·5) · g
    Array([1.2, 1.6], dtype=float32)

  References:
    Khaled, Mishchenko & Jin, *DoWG Unleashed: An Efficient Universal
    Parameter-Free Gradient Descent Method*, NeurIPS 2023.
  """
  _checks.check_non_negative('init_estim_sq_dist', init_estim_sq_dist)
  _checks.check_non_negative('eps', eps)
  init_sq = eps if init_estim_sq_dist is None else init_estim_sq_dist

  def init_fn(params):
    return DoWGState(
        init_params=params,
        weighted_sq_norm_grads=jnp.zeros([], jnp.float32),
        estim_sq_dist=jnp.asarray(init_sq, jnp.float32),
    )

  def update_fn(updates, state, params=None):
    _checks.require_params('scale_by_dowg', params)
    sq_dist = tu.norm(tu.sub(tu.upcast(state.init_params), tu.upcast(params)),
                      squared=True)
    estim = jnp.maximum(state.estim_sq_dist, sq_dist).astype(jnp.float32)
    weighted = (estim * tu.norm(updates, squared=True)
                + state.weighted_sq_norm_grads).astype(jnp.float32)
    lr = estim / (jnp.sqrt(weighted) + eps)
    return _scaled_like(lr, updates), state._replace(
        weighted_sq_norm_grads=weighted, estim_sq_dist=estim)

  return base.transformation('scale_by_dowg', init_fn, update_fn)


def dowg(
    learning_rate: base.ScalarOrSchedule = 1.0,
    init_estim_sq_dist: Optional[float] = None,
    eps: float = 1e-4,
    weight_decay: Optional[float] = None,
    mask: MaskOrFn = None,
) -> base.GradientTransformationExtraArgs:
  r"""DoWG (Distance over Weighted Gradients): parameter-free gradient descent.

  .. code-block:: text

    r̄_t² = max(r̄²_{t−1}, ‖θ_t − θ₀‖²)      v_t = v_{t−1} + r̄_t²·‖g_t‖²
    θ_{t+1} = θ_t − η_t · r̄_t² / (√v_t + eps) · (g_t + λ·θ_t)

  ``chain([add_decayed_weights(λ, mask)], scale_by_dowg(init_estim_sq_dist,
  eps), scale_by_learning_rate(η))``; ``η_t`` is 1 by default.

  Args:
    learning_rate: a multiplier of the DoWG step, constant or schedule.
    init_estim_sq_dist: initial guess of ``r̄²``, ``≥ 0``; None uses ``eps``.
    eps: added to ``√v``, ``≥ 0``; also the default initial ``r̄²``.
    weight_decay: ``λ ≥ 0`` added to the gradient; None for none.
    mask: a tree of booleans (or a function of the params returning one)
      selecting the params to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`DoWGState` in its chain. It needs ``params``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx import contrib
    >>> opt = contrib.dowg()
    >>> params = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(params)
    >>> g = jax.grad(lambda p: jnp.sum(p ** 2))(params)
    >>> u, state = opt.update(g, state, params)
    >>> gradtx.apply_updates(params, u)  # θ − eps/(√(eps·‖g‖²) + eps)·g
    Array([0.99733096, 1.9946619 , 2.991993  ], dtype=float32)

  References:
    Khaled, Mishchenko & Jin, *DoWG Unleashed: An Efficient Universal
    Parameter-Free Gradient Descent Method*, NeurIPS 2023.
  """
  return _then_lr(learning_rate, weight_decay, mask,
                  scale_by_dowg(init_estim_sq_dist, eps))
