"""Schedule-free learning: interpolation and averaging instead of a schedule."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.contrib import _args
from gradtx.optimizers import _sgd as _sgd
from gradtx.schedules import cosine as _cosine
from gradtx.transforms import decay as _decay
from gradtx.transforms import rms as _rms
from gradtx.transforms import scaling as _scaling


class ScheduleFreeState(NamedTuple):
  """State of :func:`schedule_free`."""

  b1: jax.Array  # float32 scalar: the interpolation weight β.
  weight_sum: jax.Array  # float32 scalar: Σ of the averaging weights.
  step_count: jax.Array  # int32 scalar: starts at 1, as in Optax.
  max_lr: jax.Array  # float32 scalar: the largest learning rate so far.
  base_optimizer_state: base.OptState  # the wrapped optimizer's state.
  z: base.Params  # the base optimizer's iterate, like params, in state_dtype.


def _find_state(state: Any) -> ScheduleFreeState:
  """The one :class:`ScheduleFreeState` in ``state`` (which may be it)."""
  if isinstance(state, ScheduleFreeState):
    return state
  found = [s for s in jax.tree.leaves(
      state, is_leaf=lambda x: isinstance(x, ScheduleFreeState))
           if isinstance(s, ScheduleFreeState)]
  if len(found) != 1:
    raise ValueError(
        'schedule_free_eval_params needs the state of a schedule_free '
        f'optimizer (a ScheduleFreeState, possibly inside a chain); found '
        f'{len(found)} ScheduleFreeState in a {type(state).__name__}.')
  return found[0]


def schedule_free_eval_params(state: base.OptState, params: base.Params) -> base.Params:
  r"""The averaged iterate ``x`` at which to evaluate a schedule-free model.

  .. code-block:: text

    x = (y − (1 − β)·z) / β

  Training moves the params ``y = β·x + (1 − β)·z``; ``x`` is not stored, so
  it is recovered from ``y`` and the state's ``z``. This is the
  ``optimizer.eval()`` of the authors' PyTorch package.

  Args:
    state: the state of :func:`schedule_free` (or of a chain or wrapper
      holding exactly one).
    params: the current (training) params ``y``.

  Returns:
    The evaluation params ``x``, in the dtypes of ``params``.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.contrib import schedule_free_sgd, schedule_free_eval_params
    >>> opt = schedule_free_sgd(0.5, b1=0.5)
    >>> y = jnp.array([2.0])
    >>> u, state = opt.update(jnp.array([1.0]), opt.init(y), y)
    >>> y = y + u; y  # z = 1.5, x = z (first step), y = (x + z)/2
    Array([1.5], dtype=float32)
    >>> schedule_free_eval_params(state, y)
    Array([1.5], dtype=float32)

  References:
    Defazio et al., *The Road Less Scheduled*, NeurIPS 2024
    (arXiv:2405.15682).
  """
  s = _find_state(state)
  b1 = s.b1
  return jax.tree.map(
      lambda y, z: ((y.astype(tu.compute_dtype(y, z)) - (1 - b1) * z)
                    / b1).astype(y.dtype),
      params, s.z)


def schedule_free(
    base_optimizer: base.GradientTransformation,
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    weight_lr_power: float = 2.0,
    state_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Makes ``base_optimizer`` schedule-free.

  .. code-block:: text

    z ← z + base_optimizer(∇f(y))          (a step from y, without momentum)
    γ = max_{s ≤ t} η_s                     cₜ = γ^p / Σₛ γₛ^p
    x ← (1 − cₜ)·x + cₜ·z                    (x = (y − (1 − β)·z)/β)
    y ← β·x + (1 − β)·z                      u = y_new − y

  The gradients are taken at ``y`` (the params), the base optimizer steps
  ``z`` and the averaged ``x`` is the point to evaluate
  (:func:`schedule_free_eval_params`). ``η`` is the schedule evaluated at
  ``step_count``, which starts at 1 (Optax's convention); give the base
  optimizer the same schedule and no momentum (use ``b1=0`` in Adam).

  ``state_dtype`` sets the dtype of ``z``. The scalar statistics are kept in
  float32 (Optax keeps them in the params' lowest dtype, which in bfloat16
  rounds the weight sum after a few hundred steps).

  Args:
    base_optimizer: the optimizer that steps ``z``.
    learning_rate: the learning rate of ``base_optimizer`` (constant, or a
      warmup with no decay), used for the averaging weights.
    b1: the interpolation ``β``, in ``(0, 1]``.
    weight_lr_power: ``p ≥ 0``; 2 downweights the warmup steps.
    state_dtype: dtype of ``z``; None keeps the params' dtype.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`ScheduleFreeState`. It needs ``params`` in ``update``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.contrib import schedule_free, schedule_free_eval_params
    >>> opt = schedule_free(gradtx.sgd(0.1), 0.1)
    >>> params = jnp.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> for _ in range(50):
    ...   g = jax.grad(lambda p: jnp.sum(p ** 2))(params)
    ...   u, state = opt.update(g, state, params)
    ...   params = gradtx.apply_updates(params, u)
    >>> bool(jnp.all(jnp.abs(schedule_free_eval_params(state, params)) < 0.1))
    True

  References:
    Defazio et al., *The Road Less Scheduled*, NeurIPS 2024
    (arXiv:2405.15682).
  """
  _hyper.check_learning_rate(learning_rate)
  _checks.check_range('b1', b1, 0.0, 1.0, low_inclusive=False)
  _checks.check_non_negative('weight_lr_power', weight_lr_power)
  state_dtype = _checks.check_dtype('state_dtype', state_dtype)
  base_optimizer = base.with_extra_args_support(base_optimizer)
  f32 = jnp.float32

  def init_fn(params):
    z = params if state_dtype is None else tu.cast(params, state_dtype)
    return ScheduleFreeState(
        b1=jnp.asarray(b1, f32),
        weight_sum=jnp.zeros([], f32),
        step_count=jnp.ones([], jnp.int32),
        max_lr=jnp.zeros([], f32),
        base_optimizer_state=base_optimizer.init(params),
        # A copy, so that params and z can both be donated to a jitted step.
        z=jax.tree.map(lambda t: jnp.array(t, copy=True), z),
    )

  def update_fn(updates, state, params=None, **extra_args):
    _checks.require_params('schedule_free', params)
    lr = jnp.asarray(_hyper.value_at(learning_rate, state.step_count), f32)
    max_lr = jnp.maximum(state.max_lr, lr)
    weight = max_lr**weight_lr_power
    weight_sum = state.weight_sum + weight
    # 0/0 before the learning rate leaves zero: no averaging yet.
    ck = jnp.where(
        jnp.isnan(weight) | jnp.isnan(weight_sum), jnp.nan,
        jnp.nan_to_num(weight / weight_sum, nan=0.0, posinf=jnp.inf))
    base_updates, base_state = base_optimizer.update(
        updates, state.base_optimizer_state, params, **extra_args)
    beta = state.b1

    def step(y, z_old, u):
      cd = tu.compute_dtype(y, z_old, u)
      y32, z32 = y.astype(cd), z_old.astype(cd)
      z_new = (z32 + u.astype(cd)).astype(z_old.dtype)
      x_old = (y32 - (1 - beta) * z32) / beta
      x = (1 - ck) * x_old + ck * z_new.astype(cd)
      y_new = beta * x + (1 - beta) * z_new.astype(cd)
      return (y_new - y32).astype(y.dtype), z_new

    out = jax.tree.map(step, params, state.z, base_updates)
    treedef = jax.tree.structure(params)
    pairs = treedef.flatten_up_to(out)
    new_updates = treedef.unflatten([p[0] for p in pairs])
    z = treedef.unflatten([p[1] for p in pairs])
    return new_updates, ScheduleFreeState(
        b1=state.b1,
        weight_sum=weight_sum,
        step_count=tu.safe_increment(state.step_count),
        max_lr=max_lr,
        base_optimizer_state=base_state,
        z=z,
    )

  return base.transformation_with_extra_args('schedule_free', init_fn,
                                             update_fn)


def _warmup(learning_rate, warmup_steps):
  if warmup_steps is None:
    return learning_rate
  warmup_steps = _args.static_int('warmup_steps', warmup_steps, 0)
  return _cosine.warmup_constant_schedule(0.0, learning_rate, warmup_steps)


def schedule_free_sgd(
    learning_rate: float = 1.0,
    warmup_steps: Optional[int] = None,
    b1: float = 0.9,
    weight_decay: Optional[float] = None,
    weight_lr_power: float = 2.0,
    state_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Schedule-free SGD: :func:`schedule_free` around plain SGD.

  .. code-block:: text

    z ← z − η_t·(∇f(y) + λ·y)        then x and y as in schedule_free

  With ``warmup_steps = W`` the learning rate is Optax's
  ``warmup_constant_schedule(0, η, W)``: ``η·t/W`` at the base optimizer's
  step ``t = 0, 1, …``. The authors' ``SGDScheduleFree`` uses
  ``η·(t + 1)/W``; without warmup the two agree to rounding.

  Args:
    learning_rate: ``η ≥ 0`` (a number: the warmup makes the schedule).
    warmup_steps: length ``W`` of the linear warmup, or None.
    b1: the interpolation ``β``, in ``(0, 1]``.
    weight_decay: ``λ`` (L2, applied at ``y`` and scaled by ``η``), or None.
    weight_lr_power: see :func:`schedule_free`.
    state_dtype: dtype of ``z``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`ScheduleFreeState`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.contrib import schedule_free_sgd, schedule_free_eval_params
    >>> f = lambda x: jnp.sum(x ** 2)
    >>> opt = schedule_free_sgd(0.4)
    >>> params = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(params)
    >>> for _ in range(30):
    ...   u, state = opt.update(jax.grad(f)(params), state, params)
    ...   params = gradtx.apply_updates(params, u)
    >>> bool(f(schedule_free_eval_params(state, params)) < 1e-3)
    True

  References:
    Defazio et al., *The Road Less Scheduled*, NeurIPS 2024
    (arXiv:2405.15682).
  """
  learning_rate = _warmup(learning_rate, warmup_steps)
  optimizer = _sgd.sgd(learning_rate)
  if weight_decay is not None:
    optimizer = base.chain(_decay.add_decayed_weights(weight_decay), optimizer)
  return schedule_free(optimizer, learning_rate, b1, weight_lr_power,
                       state_dtype)


def schedule_free_adamw(
    learning_rate: float = 0.0025,
    warmup_steps: Optional[int] = None,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    weight_lr_power: float = 2.0,
    state_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Schedule-free AdamW: :func:`schedule_free` around AdamW without momentum.

  .. code-block:: text

    v ← b2·v + (1 − b2)·g²           v̂ = v/(1 − b2ᵗ)        (g = ∇f(y))
    z ← z − η_t·(g/(√v̂ + eps) + λ·y)      then x and y as in schedule_free

  The base optimizer is ``scale_by_rms(b2, eps, eps_in_sqrt=False,
  bias_correction=True)``: Adam with ``b1 = 0`` without storing a zero
  first moment. This is the authors' ``AdamWScheduleFree`` (with ``r = 0``);
  without warmup the two agree to rounding, with warmup see
  :func:`schedule_free_sgd`.

  Args:
    learning_rate: ``η ≥ 0``.
    warmup_steps: length of the linear warmup, or None.
    b1: the interpolation ``β``, in ``(0, 1]``.
    b2: decay of the second moment, in ``[0, 1)``.
    eps: added to the root, ``≥ 0``.
    weight_decay: decoupled decay ``λ`` at ``y`` (scaled by ``η``).
    weight_lr_power: see :func:`schedule_free`.
    state_dtype: dtype of ``z``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`ScheduleFreeState`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.contrib import schedule_free_adamw
    >>> opt = schedule_free_adamw(0.1)
    >>> params = jnp.array([1.0, 2.0])
    >>> u, state = opt.update(jnp.array([0.5, -0.5]), opt.init(params), params)
    >>> u  # z moves by −η·sign(g), and c₁ = 1 makes x = y = z
    Array([-0.09999937,  0.09999943], dtype=float32)

  References:
    Defazio et al., *The Road Less Scheduled*, NeurIPS 2024
    (arXiv:2405.15682).
  """
  learning_rate = _warmup(learning_rate, warmup_steps)
  optimizer = base.chain(
      _rms.scale_by_rms(decay=b2, eps=eps, eps_in_sqrt=False,
                        bias_correction=True),
      _decay.add_decayed_weights(weight_decay),
      _scaling.scale_by_learning_rate(learning_rate),
  )
  return schedule_free(optimizer, learning_rate, b1, weight_lr_power,
                       state_dtype)
