"""Hugging Face ``transformers.optimization`` under its own names.

* The ``get_*_schedule*`` functions and :func:`get_scheduler`: each takes the
  optimizer's learning rate ``lr`` where Hugging Face takes the optimizer and
  returns a schedule, ``f(s) = lr·λ(s)`` for update ``s`` (counting from 0),
  where ``λ`` is the factor of Hugging Face's ``LambdaLR``. Most are the
  closed forms of :mod:`gradtx.schedules.huggingface`.
* :func:`Adafactor`: ``transformers.Adafactor`` with ``relative_step``,
  ``scale_parameter`` and ``warmup_init``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.compat import _factored
from gradtx.schedules import _validation as v
from gradtx.schedules import basic as _basic
from gradtx.schedules import huggingface as _hf
from gradtx import _leafwise

get_constant_schedule_with_warmup = _hf.constant_schedule_with_warmup
get_linear_schedule_with_warmup = _hf.linear_schedule_with_warmup
get_cosine_schedule_with_warmup = _hf.cosine_schedule_with_warmup
get_cosine_with_hard_restarts_schedule_with_warmup = (
    _hf.cosine_with_hard_restarts_schedule_with_warmup)
get_polynomial_decay_schedule_with_warmup = _hf.polynomial_decay_schedule_with_warmup
get_inverse_sqrt_schedule = _hf.inverse_sqrt_schedule
get_cosine_with_min_lr_schedule_with_warmup = _hf.cosine_with_min_lr_schedule_with_warmup
get_wsd_schedule = _hf.wsd_schedule


def get_constant_schedule(lr: Any) -> base.Schedule:
  """``get_constant_schedule``: ``f(s) = lr``.

  Args:
    lr: the learning rate.

  Returns:
    A function of the step count.

  Example:
    >>> from gradtx.compat.hf import get_constant_schedule
    >>> print(get_constant_schedule(0.1)(100))
    0.1

  References:
    ``transformers.get_constant_schedule``.
  """
  return _basic.constant_schedule(lr)


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    lr: Any,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    min_lr: Optional[Any] = None,
    min_lr_rate: Optional[float] = None,
    warmup_lr_rate: Optional[float] = None,
) -> base.Schedule:
  r"""``get_cosine_with_min_lr_schedule_with_warmup_lr_rate``.

  The variant whose warmup and progress are one step ahead of
  :func:`get_cosine_with_min_lr_schedule_with_warmup`:

  .. code-block:: text

    s < W:  λ = (s + 1)/max(1, W)                 (warmup_lr_rate None)
            λ = w + (1 − w)·s/max(1, W − 1)       (warmup_lr_rate w)
    else:   p = (s − W + 1)/max(1, T − W)
            λ = max(0, m + (1 − m)·½(1 + cos(2πcp)))

  Args:
    lr: the initial learning rate.
    num_warmup_steps: ``W``.
    num_training_steps: ``T``.
    num_cycles: ``c``.
    min_lr: the floor ``m·lr`` (give this or ``min_lr_rate``).
    min_lr_rate: the floor ``m`` as a fraction of ``lr``.
    warmup_lr_rate: ``w``, the warmup's starting fraction.

  Returns:
    A function of the step count.

  Example:
    >>> from gradtx.compat.hf import get_cosine_with_min_lr_schedule_with_warmup_lr_rate as f
    >>> s = f(1.0, 2, 10, min_lr_rate=0.1)
    >>> print(s(0), s(1), s(9))
    0.5 1.0 0.1

  References:
    ``transformers.get_cosine_with_min_lr_schedule_with_warmup_lr_rate``.
  """
  v.check_steps('num_warmup_steps', num_warmup_steps, allow_zero=True)
  v.check_steps('num_training_steps', num_training_steps)
  if min_lr is not None and min_lr_rate is not None:
    raise ValueError('Only one of min_lr or min_lr_rate should be set, got '
                     f'min_lr={min_lr!r} and min_lr_rate={min_lr_rate!r}')
  if min_lr is not None:
    min_lr_rate = min_lr / lr
  elif min_lr_rate is None:
    raise ValueError('One of min_lr or min_lr_rate must be set, got neither')
  w_steps, span = float(num_warmup_steps), float(max(1, num_training_steps - num_warmup_steps))

  def schedule(count):
    s = v.as_float(count)
    if warmup_lr_rate is None:
      warm = (s + 1.0) / max(1.0, w_steps)
    else:
      warm = warmup_lr_rate + (1.0 - warmup_lr_rate) * s / max(1, num_warmup_steps - 1)
    progress = (s - w_steps + 1.0) / span
    factor = 0.5 * (1.0 + jnp.cos(math.pi * num_cycles * 2.0 * progress))
    factor = jnp.maximum(0.0, factor * (1 - min_lr_rate) + min_lr_rate)
    return lr * jnp.where(s < w_steps, warm, factor)

  return schedule


_BY_NAME = {
    'linear': (get_linear_schedule_with_warmup, True, True),
    'cosine': (get_cosine_schedule_with_warmup, True, True),
    'cosine_with_restarts': (get_cosine_with_hard_restarts_schedule_with_warmup, True, True),
    'polynomial': (get_polynomial_decay_schedule_with_warmup, True, True),
    'constant': (get_constant_schedule, False, False),
    'constant_with_warmup': (get_constant_schedule_with_warmup, True, False),
    'inverse_sqrt': (get_inverse_sqrt_schedule, True, False),
    'cosine_with_min_lr': (get_cosine_with_min_lr_schedule_with_warmup, True, True),
    'cosine_warmup_with_min_lr': (
        get_cosine_with_min_lr_schedule_with_warmup_lr_rate, True, True),
    'warmup_stable_decay': (get_wsd_schedule, True, None),
}


def get_reduce_on_plateau_schedule(
    lr: float = 1.0,
    mode: str = 'min',
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = 'rel',
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
) -> base.GradientTransformationExtraArgs:
  r"""``get_reduce_on_plateau_schedule``: PyTorch's ``ReduceLROnPlateau``.

  Hugging Face returns ``torch.optim.lr_scheduler.ReduceLROnPlateau`` with
  its defaults; here it is
  :func:`gradtx.stateful_schedules.torch_reduce_on_plateau`, a transformation
  that multiplies the updates by a scale starting at 1. Chain it after an
  optimizer whose learning rate is ``lr`` and pass the monitored metric as
  ``value=`` to ``update`` (one call per ``scheduler.step(metric)``):

  .. code-block:: text

    best, bad: as ReduceLROnPlateau (mode, threshold, threshold_mode, cooldown)
    when bad > patience:  η ← max(η·factor, min_lr) unless that changes η by ≤ eps
    η = lr·scale;   u = scale·u_optimizer

  ``min_lr`` and ``eps`` are learning rates, as in PyTorch; they become the
  scales ``min_lr/lr`` and ``eps/lr``.

  Args:
    lr: the optimizer's learning rate (``> 0``), which ``min_lr`` and ``eps``
      are measured against.
    mode: ``'min'`` or ``'max'``.
    factor: ``(0, 1)``, the reduction.
    patience: bad evaluations tolerated, ``≥ 0``.
    threshold: the improvement threshold, ``≥ 0``.
    threshold_mode: ``'rel'`` or ``'abs'``.
    cooldown: evaluations ignored after a reduction, ``≥ 0``.
    min_lr: the lowest learning rate, ``≥ 0`` (one number: one group).
    eps: reductions of the learning rate by at most this are skipped.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` whose state is a
    :class:`~gradtx.ReduceLROnPlateauState`; ``update`` needs ``value=``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from gradtx.compat import hf
    >>> opt = gradtx.chain(gradtx.sgd(0.1),
    ...                    hf.get_reduce_on_plateau_schedule(0.1, patience=1))
    >>> p = jnp.zeros(1)
    >>> s = opt.init(p)
    >>> for loss in [1.0, 1.0, 1.0]:
    ...   u, s = opt.update(jnp.ones(1), s, p, value=loss)
    >>> u   # the rate is now 0.1·0.1
    Array([-0.01], dtype=float32)

  References:
    ``transformers.get_reduce_on_plateau_schedule``,
    ``torch.optim.lr_scheduler.ReduceLROnPlateau``.
  """
  from gradtx.stateful_schedules import plateau as _plateau  # pylint: disable=g-import-not-at-top
  _checks.check_positive('lr', lr)
  _checks.check_non_negative('min_lr', min_lr)
  _checks.check_non_negative('eps', eps)
  return _plateau.torch_reduce_on_plateau(
      mode=mode, factor=factor, patience=patience, threshold=threshold,
      threshold_mode=threshold_mode, cooldown=cooldown, min_scale=min_lr / lr,
      eps=eps / lr)


def get_scheduler(
    name: str,
    lr: Any,
    num_warmup_steps: Optional[int] = None,
    num_training_steps: Optional[int] = None,
    scheduler_specific_kwargs: Optional[dict] = None,
) -> Any:
  """``get_scheduler``: a schedule by its ``lr_scheduler_type`` name.

  The names are those of ``transformers.SchedulerType``: ``'linear'``,
  ``'cosine'``, ``'cosine_with_restarts'``, ``'polynomial'``, ``'constant'``,
  ``'constant_with_warmup'``, ``'inverse_sqrt'``, ``'cosine_with_min_lr'``,
  ``'cosine_warmup_with_min_lr'``, ``'warmup_stable_decay'``.
  ``'reduce_lr_on_plateau'`` reacts to the loss, so, as in transformers (which
  returns a ``ReduceLROnPlateau`` for it), it gives something else: the
  transformation of :func:`get_reduce_on_plateau_schedule` (built with ``lr``
  and ``scheduler_specific_kwargs``), to chain after the optimizer.
  ``'greedy'`` (a layer-wise greedy search) is not ported.

  The rule is that of the named schedule: ``get_scheduler(name, lr, ...)(t)
  = lr · λ_name(t)``, with ``λ_name`` the multiplier of
  ``transformers.get_<name>_schedule`` (see the functions of this module).

  Args:
    name: the scheduler's name.
    lr: the optimizer's learning rate.
    num_warmup_steps: needed by every name but ``'constant'``.
    num_training_steps: needed by the decaying ones (``'warmup_stable_decay'``
      takes it or ``num_stable_steps``).
    scheduler_specific_kwargs: further arguments (``num_cycles``, ``power``,
      ``lr_end``, ``min_lr_rate``, ...).

  Returns:
    A function of the step count (for ``'reduce_lr_on_plateau'``, a
    transformation updated with ``value=``).

  Example:
    >>> from gradtx.compat.hf import get_scheduler
    >>> f = get_scheduler('linear', 1.0, num_warmup_steps=2, num_training_steps=10)
    >>> print(f(1), f(2), f(6))
    0.5 1.0 0.5

  References:
    ``transformers.get_scheduler``.
  """
  name = getattr(name, 'value', name)
  if name == 'reduce_lr_on_plateau':
    return get_reduce_on_plateau_schedule(lr, **(scheduler_specific_kwargs or {}))
  if name == 'greedy':
    raise ValueError(
        "'greedy' reacts to the loss layer by layer and is not ported; "
        "'reduce_lr_on_plateau' gives a transformation (get_reduce_on_plateau_schedule)")
  if name not in _BY_NAME:
    raise ValueError(f'name must be one of {sorted(_BY_NAME)}, got {name!r}')
  fn, warmup, training = _BY_NAME[name]
  kwargs = dict(scheduler_specific_kwargs or {})
  if warmup:
    if num_warmup_steps is None:
      raise ValueError(f'{name} requires `num_warmup_steps`, got None')
    kwargs['num_warmup_steps'] = num_warmup_steps
  if training is None:
    kwargs['num_training_steps'] = num_training_steps
  elif training:
    if num_training_steps is None:
      raise ValueError(f'{name} requires `num_training_steps`, got None')
    kwargs['num_training_steps'] = num_training_steps
  return fn(lr, **kwargs)


class AdafactorState(NamedTuple):
  """State of :func:`Adafactor`."""

  count: jax.Array  # int32 scalar: Hugging Face's ``step`` before this update.
  exp_avg: Any  # like params with beta1, else ().
  exp_avg_sq_row: Any  # per leaf: row statistics for ndim ≥ 2, else a 0-d zero.
  exp_avg_sq_col: Any  # per leaf: column statistics for ndim ≥ 2, else a 0-d zero.
  exp_avg_sq: Any  # per leaf: the full second moment for ndim < 2, else a 0-d zero.


def Adafactor(  # pylint: disable=invalid-name
    lr: Optional[base.ScalarOrSchedule] = None,
    eps: tuple = (1e-30, 1e-3),
    clip_threshold: float = 1.0,
    decay_rate: float = -0.8,
    beta1: Optional[float] = None,
    weight_decay: float = 0.0,
    scale_parameter: bool = True,
    relative_step: bool = True,
    warmup_init: bool = False,
) -> base.GradientTransformation:
  r"""``transformers.Adafactor`` (the fairseq rule).

  With ``t`` the step (from 1), ``RMS(θ)`` before the update, ``ε = eps``:

  .. code-block:: text

    ρ = min(1e-6·t if warmup_init else 1e-2, 1/√t)   (relative_step)
    ρ = lr_t                                          (otherwise)
    η = max(ε₂, RMS(θ))·ρ  (scale_parameter)   or   η = ρ
    β̂ = 1 − t^decay_rate
    u = factored g/√v, clipped to RMS ≤ clip_threshold; u ← η·u
    beta1: m ← β₁m + (1 − β₁)u;  u = m
    θ ← θ − η·λ·θ − u

  The second moment factors the last two axes of every parameter with two
  or more axes. Keras' ``Adafactor`` (:func:`gradtx.compat.keras.Adafactor`)
  and :func:`gradtx.adafactor` (Optax's) differ in the step size, the
  factored axes and where ``ε₁`` goes.

  Args:
    lr: ``None`` with ``relative_step``; otherwise a constant or a schedule.
    eps: ``(ε₁, ε₂)``: added to ``g²``, and the least parameter scale.
    clip_threshold: the update-RMS clip, ``> 0``.
    decay_rate: the exponent of ``t`` in ``β̂``.
    beta1: the momentum ``β₁`` in ``[0, 1)``, or None for none.
    weight_decay: ``λ ≥ 0``.
    scale_parameter: scale the step by the RMS of the parameter.
    relative_step: use the time-dependent step size instead of ``lr``.
    warmup_init: with ``relative_step``, warm up as ``1e-6·t``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with an
    :class:`AdafactorState`; ``update`` needs the params.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.hf import Adafactor
    >>> opt = Adafactor(scale_parameter=False)
    >>> p = jnp.array([1.0, -1.0])
    >>> opt.update(p, opt.init(p), p)[0]   # ρ = min(1e-2, 1) = 0.01
    Array([-0.01,  0.01], dtype=float32)

  References:
    Shazeer & Stern, *Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost*, ICML 2018. ``transformers.Adafactor``.
  """
  if lr is not None and relative_step:
    raise ValueError(
        f'Cannot combine manual `lr` and `relative_step=True` options, got lr={lr!r}')
  if warmup_init and not relative_step:
    raise ValueError('`warmup_init=True` requires `relative_step=True`')
  if not relative_step:
    if lr is None:
      raise ValueError('lr must be given when relative_step=False, got None')
    _hyper.check_learning_rate(lr, 'lr')
  if not isinstance(eps, (tuple, list)) or len(eps) != 2:
    raise ValueError(f'eps must be a pair (eps1, eps2), got {eps!r}')
  eps1, eps2 = eps
  _checks.check_non_negative('eps[0]', eps1)
  _checks.check_non_negative('eps[1]', eps2)
  _checks.check_positive('clip_threshold', clip_threshold)
  if beta1 is not None:
    _checks.check_beta('beta1', beta1)
  _checks.check_non_negative('weight_decay', weight_decay)

  def init_fn(params):
    stats = jax.tree.map(_factored.init_leaf, params)
    treedef = jax.tree.structure(params)
    row, col, full = (jax.tree.unflatten(treedef, [x[k] for x in treedef.flatten_up_to(stats)])
                      for k in range(3))
    return AdafactorState(
        count=_hyper.zero_count(),
        exp_avg=_leafwise.zeros_state(params, None) if beta1 is not None else (),
        exp_avg_sq_row=row, exp_avg_sq_col=col, exp_avg_sq=full)

  def update_fn(updates, state, params=None):
    _checks.require_params('Adafactor', params)
    count = tu.safe_increment(state.count)
    t = count.astype(jnp.float32)
    if relative_step:
      min_step = 1e-6 * t if warmup_init else 1e-2
      rho = jnp.minimum(min_step, 1.0 / jnp.sqrt(t))
    else:
      rho = jnp.asarray(_hyper.value_at(lr, state.count), jnp.float32)
    beta2_t = 1.0 - jnp.power(t, decay_rate)

    def leaf(g, p, row, col, full):
      d = tu.compute_dtype(g, p)
      g, p = g.astype(d), p.astype(d)
      step = rho * (jnp.maximum(eps2, _factored.rms(p)) if scale_parameter else 1.0)
      u, row, col, full, _ = _factored.factored_update(
          g, row.astype(d), col.astype(d), full.astype(d), beta2_t, eps1,
          clip_threshold)
      return step * u, row, col, full, -(weight_decay * step) * p

    out = jax.tree.map(leaf, updates, params, state.exp_avg_sq_row,
                       state.exp_avg_sq_col, state.exp_avg_sq)
    treedef = jax.tree.structure(updates)
    u, row, col, full, decay = (
        jax.tree.unflatten(treedef, [x[k] for x in treedef.flatten_up_to(out)])
        for k in range(5))
    if beta1 is not None:
      m = tu.update_moment(u, state.exp_avg, beta1, 1)
      u, exp_avg = m, _leafwise.store_like(m, state.exp_avg)
    else:
      exp_avg = ()
    final = jax.tree.map(lambda d_, u_: d_ - u_, decay, u)
    return _leafwise.like_updates(final, updates), AdafactorState(
        count=count, exp_avg=exp_avg,
        exp_avg_sq_row=_leafwise.store_like(row, state.exp_avg_sq_row),
        exp_avg_sq_col=_leafwise.store_like(col, state.exp_avg_sq_col),
        exp_avg_sq=_leafwise.store_like(full, state.exp_avg_sq))

  return base.transformation('hf.Adafactor', init_fn, update_fn)
