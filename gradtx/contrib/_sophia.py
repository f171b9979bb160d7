"""Sophia: clipped Newton-like steps with a cheap Hessian-diagonal estimate."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, Union

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.contrib import _validation
from gradtx import _leafwise
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling


class HutchinsonState(NamedTuple):
  """State of :func:`hutchinson_estimator_diag_hessian`."""

  key: jax.Array  # the PRNG key of the next draw.


class SophiaState(NamedTuple):
  """State of :func:`sophia` (its ``scale_by_sophia`` member)."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  mu: base.Updates  # momentum of the gradients, like params, in mu_dtype.
  nu: base.Updates  # EMA of the Hessian-diagonal estimates, like params.
  hessian_fn_state: Any  # the state of hessian_diagonal_fn.


def hutchinson_estimator_diag_hessian(
    random_seed: Optional[jax.Array] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Estimates the Hessian diagonal of ``obj_fn`` at the params (Hutchinson).

  .. code-block:: text

    z ~ Rademacher (±1 per coordinate)       u = z ⊙ (∇²f(θ)·z)

  which is an unbiased estimate of ``diag ∇²f(θ)``. ``update`` ignores the
  incoming updates and needs ``params`` and ``obj_fn=f`` (a function of the
  params alone returning a scalar). The Hessian-vector product is a
  forward-over-reverse ``jax.jvp`` of ``jax.grad(f)``. The key is split as in
  Optax, so the same seed draws the same signs.

  Args:
    random_seed: a PRNG key; None uses ``jax.random.PRNGKey(0)``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`HutchinsonState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx import contrib
    >>> tx = contrib.hutchinson_estimator_diag_hessian()
    >>> f = lambda p: jnp.sum(jnp.array([1.0, 3.0]) * p ** 2)  # diag = [2, 6]
    >>> p = jnp.ones(2)
    >>> tx.update(p, tx.init(p), p, obj_fn=f)[0]  # exact for a diagonal Hessian
    Array([2., 6.], dtype=float32)

  References:
    Hutchinson, *A stochastic estimator of the trace of the influence matrix
    for Laplacian smoothing splines*, 1989; Liu et al., *Sophia*, ICLR 2024.
  """

  def init_fn(params):
    del params
    key = random_seed if random_seed is not None else jax.random.PRNGKey(0)
    return HutchinsonState(key=key)

  def update_fn(updates, state, params=None, obj_fn=None, **extra_args):
    del updates, extra_args
    _checks.require_params('hutchinson_estimator_diag_hessian', params)
    if obj_fn is None:
      raise ValueError(
          'hutchinson_estimator_diag_hessian needs obj_fn: call '
          'update(grads, state, params, obj_fn=lambda p: loss(p, batch)).'
      )
    key, subkey = jax.random.split(state.key)
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(subkey, len(leaves))
    signs = jax.tree.unflatten(treedef, [
        jax.random.rademacher(k, jnp.shape(p), jnp.float32).astype(
            jnp.result_type(p))
        for k, p in zip(keys, leaves)
    ])
    hvp = jax.jvp(jax.grad(obj_fn), (params,), (signs,))[1]
    return tu.mul(hvp, signs), HutchinsonState(key=key)

  return base.transformation_with_extra_args(
      'hutchinson_estimator_diag_hessian', init_fn, update_fn)


def _check_sophia_args(b1, b2, eps, gamma, clip_threshold, update_interval,
                       verbose, print_win_rate_every_n_steps):
  _checks.check_beta('b1', b1)
  _checks.check_beta('b2', b2)
  _checks.check_non_negative('eps', eps)
  _checks.check_non_negative('gamma', gamma)
  if clip_threshold is not None:
    _checks.check_positive('clip_threshold', clip_threshold)
  _validation.check_period('update_interval', update_interval)
  if verbose:
    _validation.check_period('print_win_rate_every_n_steps',
                             print_win_rate_every_n_steps)


def scale_by_sophia(
    b1: float = 0.965,
    b2: float = 0.99,
    eps: float = 1e-8,
    gamma: float = 0.01,
    clip_threshold: Optional[float] = 1.0,
    update_interval: int = 10,
    hessian_diagonal_fn: base.GradientTransformation = (
        hutchinson_estimator_diag_hessian()),
    mu_dtype: Optional[Any] = None,
    verbose: bool = False,
    print_win_rate_every_n_steps: int = 0,
) -> base.GradientTransformationExtraArgs:
  r"""Sophia's preconditioned, clipped momentum (see :func:`sophia`).

  .. code-block:: text

    m ← b1·m + (1 − b1)·g          u = clip(m̂ / max(γ·h, eps), ±clip_threshold)
    h ← b2·h + (1 − b2)·ĥ          every update_interval steps, after u

  with ``m̂ = m/(1 − b1ᵗ)`` and ``ĥ`` the output of ``hessian_diagonal_fn``
  (given the keyword arguments of ``update``) at steps 0, k, 2k, ...

  Args:
    b1: decay of the momentum, in ``[0, 1)``.
    b2: decay of the Hessian EMA, in ``[0, 1)`` (effectively
      ``1 − (1 − b2)/update_interval`` per step).
    eps: floor of the denominator, ``≥ 0``.
    gamma: scale ``γ ≥ 0`` of the Hessian in the denominator.
    clip_threshold: bound of each coordinate of the step; None for none.
    update_interval: steps between Hessian estimates, an integer ``≥ 1``.
    hessian_diagonal_fn: a transformation whose ``update`` returns the
      Hessian-diagonal estimate (default: Hutchinson's, which needs
      ``obj_fn``). Average it across devices yourself under ``pmap``.
    mu_dtype: dtype of the momentum; None keeps the params' dtype.
    verbose: print the fraction of unclipped coordinates (the "win rate").
    print_win_rate_every_n_steps: print period when ``verbose``, ``≥ 1``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`SophiaState`. It needs ``params``.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.contrib._sophia import scale_by_sophia
    >>> tx = scale_by_sophia()
    >>> p = jnp.ones(2)
    >>> u, s = tx.update(p, tx.init(p), p, obj_fn=lambda x: jnp.sum(x ** 2))
    >>> u  # h is still 0 at the first step: m̂/eps, clipped to 1
    Array([1., 1.], dtype=float32)
  """
  _check_sophia_args(b1, b2, eps, gamma, clip_threshold, update_interval,
                     verbose, print_win_rate_every_n_steps)
  mu_dtype = _checks.check_dtype('mu_dtype', mu_dtype)
  hess_fn = base.with_extra_args_support(hessian_diagonal_fn)

  def init_fn(params):
    return SophiaState(
        count=_hyper.zero_count(),
        mu=_leafwise.zeros_state(params, mu_dtype),
        nu=tu.zeros_like(params),
        hessian_fn_state=hess_fn.init(params),
    )

  def update_fn(updates, state, params=None, **hess_fn_kwargs):
    _checks.require_params('sophia', params)
    count = tu.safe_increment(state.count)
    mu = tu.update_moment(updates, state.mu, b1, 1)
    out = jax.tree.map(lambda m, h: m / jnp.maximum(gamma * h, eps),
                       tu.bias_correction(mu, b1, count), tu.upcast(state.nu))
    if clip_threshold is not None:
      if verbose:
        unclipped = sum(jnp.sum(jnp.abs(u) < clip_threshold)
                        for u in jax.tree.leaves(out))
        win_rate = unclipped / tu.size(out)
        jax.lax.cond(
            count % print_win_rate_every_n_steps == 0,
            lambda: jax.debug.print('Sophia optimizer win rate: {}', win_rate),
            lambda: None,
        )
      out = jax.tree.map(
          lambda u: jnp.clip(u, -clip_threshold, clip_threshold), out)

    def estimate(hess_state, nu):
      diag, hess_state = hess_fn.update(updates, hess_state, params=params,
                                        **hess_fn_kwargs)
      nu = tu.update_moment(tu.upcast(diag), nu, b2, 1)
      return hess_state, _leafwise.store_like(nu, state.nu)

    hess_state, nu = jax.lax.cond(
        state.count % update_interval == 0, estimate, lambda h, n: (h, n),
        state.hessian_fn_state, state.nu)
    return _leafwise.like_updates(out, updates), SophiaState(
        count=count,
        mu=_leafwise.store_like(mu, state.mu),
        nu=nu,
        hessian_fn_state=hess_state,
    )

  return base.transformation_with_extra_args('sophia', init_fn, update_fn)


def sophia(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.965,
    b2: float = 0.99,
    eps: float = 1e-8,
    weight_decay: base.ScalarOrSchedule = 1e-4,
    weight_decay_mask: Optional[
        Union[Any, Callable[[base.Params], Any]]] = None,
    gamma: float = 0.01,
    clip_threshold: Optional[float] = 1.0,
    update_interval: int = 10,
    hessian_diagonal_fn: base.GradientTransformation = (
        hutchinson_estimator_diag_hessian()),
    mu_dtype: Optional[Any] = None,
    verbose: bool = False,
    print_win_rate_every_n_steps: int = 0,
) -> base.GradientTransformationExtraArgs:
  r"""Sophia: a second-order clipped stochastic optimizer (Sophia-H).

  .. code-block:: text

    m ← b1·m + (1 − b1)·g
    u = −η_t·(clip(m̂ / max(γ·h, eps), ±clip_threshold) + λ·θ)
    h ← b2·h + (1 − b2)·ĥ    (every update_interval steps)

  ``ĥ`` is ``hessian_diagonal_fn``'s estimate, by default Hutchinson's
  ``z ⊙ ∇²f·z``, which needs the objective:
  ``update(grads, state, params, obj_fn=lambda p: loss(p, batch))``. The
  keyword arguments of ``update`` reach ``hessian_diagonal_fn``.
  ``chain(scale_by_sophia(...), add_decayed_weights(λ, weight_decay_mask),
  scale_by_learning_rate(η))``. As in Optax, the signs are Rademacher (the
  authors' code draws Gaussian vectors).

  Args:
    learning_rate: a constant or a schedule.
    b1, b2: the moment decays, in ``[0, 1)``.
    eps, gamma: see the formula; ``≥ 0``.
    clip_threshold: ``> 0``, or None for no clipping.
    update_interval: steps between Hessian estimates, ``≥ 1``.
    hessian_diagonal_fn: the estimator of the Hessian's diagonal.
    mu_dtype: the dtype of the first moment.
    verbose, print_win_rate_every_n_steps: logging, as in Optax.
    weight_decay: decoupled decay ``λ ≥ 0``, a constant or a schedule.
    weight_decay_mask: a tree of booleans (or a function of the params
      returning one) selecting the params to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`SophiaState` in its chain. It needs ``params``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx import contrib
    >>> f = lambda p: jnp.sum(jnp.array([1.0, 10.0]) * p ** 2)
    >>> opt = contrib.sophia(0.5, gamma=1.0, update_interval=1,
    ...                      weight_decay=0.0)
    >>> params = jnp.array([1.0, 1.0])
    >>> @jax.jit
    ... def step(params, state):
    ...   u, state = opt.update(jax.grad(f)(params), state, params, obj_fn=f)
    ...   return gradtx.apply_updates(params, u), state
    >>> state = opt.init(params)
    >>> for _ in range(50):
    ...   params, state = step(params, state)
    >>> params.round(4)  # curvatures 2 and 20, yet both coordinates move alike
    Array([-0.0714, -0.0714], dtype=float32)

  References:
    Liu, Li, Hall, Liang & Ma, *Sophia: A Scalable Stochastic Second-order
    Optimizer for Language Model Pre-training*, ICLR 2024; Levanter's
    implementation (https://github.com/stanford-crfm/levanter).
  """
  return base.chain(
      scale_by_sophia(
          b1=b1, b2=b2, eps=eps, gamma=gamma, clip_threshold=clip_threshold,
          update_interval=update_interval,
          hessian_diagonal_fn=hessian_diagonal_fn, mu_dtype=mu_dtype,
          verbose=verbose,
          print_win_rate_every_n_steps=print_win_rate_every_n_steps),
      _decay.add_decayed_weights(weight_decay, weight_decay_mask),
      _scaling.scale_by_learning_rate(learning_rate),
  )
