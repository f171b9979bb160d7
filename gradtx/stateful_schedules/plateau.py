"""Reduce the learning rate when a monitored value stops improving.

Three transformations share one state, :class:`ReduceLROnPlateauState`, and
one mechanism: each ``update`` receives the monitored value (usually a loss)
as the keyword argument ``value``; every ``accumulation_size`` calls the mean
of the values received is *evaluated* against the best value seen so far, and
after too many evaluations without improvement the scale applied to the
updates is multiplied by ``factor``. They differ only in the rule that decides
what counts as an improvement and when to reduce:

* :func:`reduce_on_plateau`: Optax's rule (``rtol``/``atol``; reduce when the
  plateau count *reaches* ``patience``).
* :func:`torch_reduce_on_plateau`: PyTorch's
  ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (mode, rel/abs threshold;
  reduce when the count *exceeds* ``patience``; the ``eps`` rule).
* :func:`keras_reduce_on_plateau`: Keras's ``ReduceLROnPlateau`` callback
  (absolute ``min_delta``; reduce when the wait *reaches* ``patience``).

Everything is computed with ``jnp.where``: the transformations are jittable,
and their state can be carried through ``lax.scan``.

Put the transformation after the learning rate in a chain (or anywhere: it
only multiplies) and pass the value at each step::

  opt = gradtx.chain(gradtx.adam(1e-3), gradtx.reduce_on_plateau(patience=5))
  updates, state = opt.update(grads, state, params, value=loss)

Learning-rate floors are given as a *scale*: to reproduce a framework's
``min_lr`` with a base learning rate ``η``, pass ``min_scale = min_lr / η``
(and for PyTorch ``eps = eps_lr / η``).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu


class ReduceLROnPlateauState(NamedTuple):
  """State shared by :func:`reduce_on_plateau` and its framework variants."""

  scale: jax.Array  # float32 scalar: factor applied to the updates (starts at 1).
  best_value: jax.Array  # scalar, value dtype (float32 or wider): best evaluated value.
  plateau_count: jax.Array  # int32 scalar: evaluations without improvement (torch
  # ``num_bad_epochs``, keras ``wait``).
  cooldown_count: jax.Array  # int32 scalar: evaluations left in cooldown.
  count: jax.Array  # int32 scalar: values accumulated towards the next evaluation.
  avg_value: jax.Array  # scalar, value dtype: mean of the accumulated values.


# ---------------------------------------------------------------------------
# Validation.
# ---------------------------------------------------------------------------
def check_count_arg(name: str, value: Any, low: int) -> None:
  """An integer ``>= low``: a Python int or a concrete integer array.

  Traced values (for example when the transformation is built inside
  :func:`gradtx.inject_hyperparams`) are not checked.
  """
  if isinstance(value, jax.core.Tracer):
    return
  if isinstance(value, (jax.Array, np.ndarray, np.generic)):
    if np.ndim(value) != 0 or not jnp.issubdtype(jnp.result_type(value), jnp.integer):
      raise ValueError(f'{name} must be an integer >= {low}, got {value!r}')
    value = int(value)
  _checks.check_int(name, value, low)


def _check_factor(factor: Any) -> None:
  _checks.check_range('factor', factor, 0.0, 1.0, low_inclusive=False,
                      high_inclusive=False)


def _check_mode(name: str, value: Any, allowed: tuple[str, ...]) -> None:
  if value not in allowed:
    raise ValueError(
        f'{name} must be one of {", ".join(repr(a) for a in allowed)}, '
        f'got {value!r}'
    )


def _check_common(factor, patience, cooldown, accumulation_size, min_scale):
  _checks.check_callable_or_number('factor', factor)
  if callable(factor):
    raise ValueError(f'factor must be a number in (0, 1), got {factor!r}')
  _check_factor(factor)
  check_count_arg('patience', patience, 0)
  check_count_arg('cooldown', cooldown, 0)
  check_count_arg('accumulation_size', accumulation_size, 1)
  _checks.check_non_negative('min_scale', min_scale)


# ---------------------------------------------------------------------------
# The shared mechanism.
# ---------------------------------------------------------------------------
def _value_dtype(params: Any) -> jnp.dtype:
  """float32, or float64 when a parameter is (real part of) float64."""
  leaves = [x for x in jax.tree.leaves(params) if hasattr(x, 'dtype')]
  dtype = tu.compute_dtype(*leaves) if leaves else jnp.dtype(jnp.float32)
  if not jnp.issubdtype(dtype, jnp.inexact):
    return jnp.dtype(jnp.float32)
  return jnp.finfo(dtype).dtype


class _Decision(NamedTuple):
  scale: jax.Array
  best_value: jax.Array
  plateau_count: jax.Array
  cooldown_count: jax.Array


Rule = Callable[[ReduceLROnPlateauState, jax.Array], _Decision]


def _plateau(
    name: str, rule: Rule, worst: float, accumulation_size: Any
) -> base.GradientTransformationExtraArgs:
  """Builds a plateau transformation from an evaluation ``rule``.

  Args:
    name: name used in error messages.
    rule: ``rule(state, mean_value) -> _Decision``; jnp only.
    worst: initial best value (``+inf`` to minimise, ``-inf`` to maximise).
    accumulation_size: number of values averaged per evaluation.
  """

  def init_fn(params):
    dtype = _value_dtype(params)
    return ReduceLROnPlateauState(
        scale=jnp.ones([], jnp.float32),
        best_value=jnp.asarray(worst, dtype),
        plateau_count=_hyper.zero_count(),
        cooldown_count=_hyper.zero_count(),
        count=_hyper.zero_count(),
        avg_value=jnp.zeros([], dtype),
    )

  def update_fn(updates, state, params=None, *, value=None, **extra_args):
    del params, extra_args
    if value is None:
      raise TypeError(
          f'{name}.update needs the monitored value: call '
          'update(updates, state, params, value=loss). In a chain, pass '
          'value=... to the chain\'s update; it reaches every member.'
      )
    dtype = state.avg_value.dtype
    count = tu.safe_increment(state.count)
    mean = (state.count.astype(dtype) * state.avg_value
            + jnp.asarray(value).astype(dtype)) / count.astype(dtype)
    ready = count == accumulation_size
    d = rule(state, mean)
    pick = lambda new, old: jnp.where(ready, new, old).astype(old.dtype)
    new_state = ReduceLROnPlateauState(
        scale=pick(d.scale, state.scale),
        best_value=pick(d.best_value, state.best_value),
        plateau_count=pick(d.plateau_count, state.plateau_count),
        cooldown_count=pick(d.cooldown_count, state.cooldown_count),
        count=jnp.where(ready, 0, count).astype(jnp.int32),
        avg_value=jnp.where(ready, 0.0, mean).astype(dtype),
    )
    scaled = jax.tree.map(
        lambda g: (new_state.scale.astype(tu.compute_dtype(g)) * g).astype(g.dtype),
        updates,
    )
    return scaled, new_state

  return base.transformation_with_extra_args(name, init_fn, update_fn)


# ---------------------------------------------------------------------------
# Optax's rule.
# ---------------------------------------------------------------------------
def reduce_on_plateau(
    factor: float = 0.1,
    patience: int = 10,
    rtol: float = 1e-4,
    atol: float = 0.0,
    cooldown: int = 0,
    accumulation_size: int = 1,
    min_scale: float = 0.0,
) -> base.GradientTransformationExtraArgs:
  r"""Scales updates down when the monitored value stops improving (Optax rule).

  Each ``update(updates, state, params, value=v)`` adds ``v`` to a running
  mean; every ``accumulation_size`` calls the mean ``v̄`` is evaluated:

  .. code-block:: text

    improved  = v̄ < (1 − rtol)·best − atol
    best      ← v̄ if improved
    plateau   ← 0 if improved else plateau + 1
    in cooldown (cooldown_count > 0):  cooldown_count −= 1, plateau ← 0
    otherwise, when plateau == patience:
      scale ← max(scale·factor, min_scale), plateau ← 0, cooldown_count ← cooldown
    u = scale · g

  This is ``optax.contrib.reduce_on_plateau`` with the same arguments,
  defaults, state fields and values. Unlike PyTorch it reduces when the
  plateau count *reaches* ``patience`` (PyTorch: exceeds it; see
  :func:`torch_reduce_on_plateau`); with ``patience=0`` it therefore
  reduces at every *improving* evaluation and never at a bad one, as Optax
  does. The state's scalars are kept in float32
  (float64 for float64 params), where Optax uses the params' dtypes.

  Args:
    factor: multiplier applied at each reduction, in ``(0, 1)``.
    patience: evaluations without improvement before a reduction, ``≥ 0``.
    rtol: relative tolerance for an improvement, in ``[0, 1]``.
    atol: absolute tolerance for an improvement, ``≥ 0``. ``rtol`` and
      ``atol`` cannot both be 0.
    cooldown: evaluations after a reduction during which the plateau count
      stays at 0, ``≥ 0``.
    accumulation_size: number of values averaged into one evaluation, ``≥ 1``.
    min_scale: the scale never goes below this, ``≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`ReduceLROnPlateauState`; ``update`` requires ``value=``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.reduce_on_plateau(factor=0.5, patience=2)
    >>> state = tx.init(jnp.zeros(1))
    >>> for loss in [3.0, 2.0, 2.0, 2.0, 2.0]:
    ...   u, state = tx.update(jnp.ones(1), state, value=loss)
    >>> u, state.scale
    (Array([0.5], dtype=float32), Array(0.5, dtype=float32))
  """
  _check_common(factor, patience, cooldown, accumulation_size, min_scale)
  _checks.check_range('rtol', rtol, 0.0, 1.0)
  _checks.check_non_negative('atol', atol)
  concrete = _checks._is_concrete_number  # pylint: disable=protected-access
  if concrete(rtol) and concrete(atol) and float(rtol) == 0 and float(atol) == 0:
    raise ValueError(
        'rtol and atol cannot both be 0: at least one of them must be '
        f'positive, got rtol={rtol!r} and atol={atol!r}'
    )

  def rule(state, v):
    improved = v < (1 - rtol) * state.best_value - atol
    best = jnp.where(improved, v, state.best_value)
    plateau = jnp.where(improved, 0, tu.safe_increment(state.plateau_count))
    in_cooldown = state.cooldown_count > 0
    fire = jnp.logical_not(in_cooldown) & (plateau == patience)
    scale = jnp.maximum(
        jnp.where(fire, state.scale * factor, state.scale), min_scale)
    return _Decision(
        scale=jnp.where(in_cooldown, state.scale, scale),
        best_value=best,
        plateau_count=jnp.where(in_cooldown | fire, 0, plateau),
        cooldown_count=jnp.where(
            in_cooldown, state.cooldown_count - 1, jnp.where(fire, cooldown, 0)),
    )

  return _plateau('reduce_on_plateau', rule, float('inf'), accumulation_size)


# ---------------------------------------------------------------------------
# PyTorch's rule.
# ---------------------------------------------------------------------------
def torch_reduce_on_plateau(
    mode: str = 'min',
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = 'rel',
    cooldown: int = 0,
    min_scale: float = 0.0,
    eps: float = 1e-8,
    accumulation_size: int = 1,
) -> base.GradientTransformationExtraArgs:
  r"""PyTorch's ``ReduceLROnPlateau``, as a gradient transformation.

  Reproduces ``torch.optim.lr_scheduler.ReduceLROnPlateau`` step for step:
  one evaluation corresponds to one ``scheduler.step(metric)`` call.

  .. code-block:: text

    better(a) =  a < best·(1 − threshold)   mode='min', threshold_mode='rel'
                 a < best − threshold       mode='min', threshold_mode='abs'
                 a > best·(1 + threshold)   mode='max', threshold_mode='rel'
                 a > best + threshold       mode='max', threshold_mode='abs'
    best ← a and bad ← 0 if better(a), else bad ← bad + 1
    in cooldown (cooldown_count > 0):  cooldown_count −= 1, bad ← 0
    when bad > patience:
      new = max(scale·factor, min_scale); scale ← new if scale − new > eps
      cooldown_count ← cooldown, bad ← 0
    u = scale · g

  ``best`` starts at ``+inf`` (min) or ``−inf`` (max). PyTorch works on the
  learning rate itself; here the state holds a scale of the updates, so with a
  base learning rate ``η`` pass ``min_scale = min_lr / η`` and
  ``eps = eps_lr / η`` (the ``eps`` default 1e-8 is PyTorch's for ``η = 1``).

  Args:
    mode: ``'min'`` to reduce when the value stops decreasing, ``'max'`` when
      it stops increasing.
    factor: multiplier applied at each reduction, in ``(0, 1)``.
    patience: evaluations without improvement tolerated; the reduction comes
      at the ``patience + 1``-th, ``≥ 0``.
    threshold: the improvement threshold, ``≥ 0``.
    threshold_mode: ``'rel'`` (relative to ``best``) or ``'abs'``.
    cooldown: evaluations after a reduction during which bad evaluations are
      ignored, ``≥ 0``.
    min_scale: the scale never goes below this, ``≥ 0``.
    eps: a reduction smaller than this is skipped, ``≥ 0``.
    accumulation_size: number of values averaged into one evaluation, ``≥ 1``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`ReduceLROnPlateauState`; ``update`` requires ``value=``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.torch_reduce_on_plateau(mode='max', factor=0.5, patience=1)
    >>> state = tx.init(jnp.zeros(1))
    >>> for accuracy in [0.5, 0.6, 0.6, 0.6]:
    ...   u, state = tx.update(jnp.ones(1), state, value=accuracy)
    >>> state.scale
    Array(0.5, dtype=float32)
  """
  _check_mode('mode', mode, ('min', 'max'))
  _check_mode('threshold_mode', threshold_mode, ('rel', 'abs'))
  _check_common(factor, patience, cooldown, accumulation_size, min_scale)
  _checks.check_non_negative('threshold', threshold)
  _checks.check_non_negative('eps', eps)
  minimise = mode == 'min'

  def better(a, best):
    if threshold_mode == 'rel':
      ref = best * ((1.0 - threshold) if minimise else (1.0 + threshold))
    else:
      ref = best - threshold if minimise else best + threshold
    return a < ref if minimise else a > ref

  def rule(state, v):
    improved = better(v, state.best_value)
    best = jnp.where(improved, v, state.best_value)
    bad = jnp.where(improved, 0, tu.safe_increment(state.plateau_count))
    in_cooldown = state.cooldown_count > 0
    cooldown_count = jnp.where(in_cooldown, state.cooldown_count - 1,
                               state.cooldown_count)
    bad = jnp.where(in_cooldown, 0, bad)
    fire = bad > patience
    reduced = jnp.maximum(state.scale * factor, min_scale)
    apply = fire & (state.scale - reduced > eps)
    return _Decision(
        scale=jnp.where(apply, reduced, state.scale),
        best_value=best,
        plateau_count=jnp.where(fire, 0, bad),
        cooldown_count=jnp.where(fire, cooldown, cooldown_count),
    )

  worst = float('inf') if minimise else float('-inf')
  return _plateau('torch_reduce_on_plateau', rule, worst, accumulation_size)


# ---------------------------------------------------------------------------
# Keras's rule.
# ---------------------------------------------------------------------------
def keras_reduce_on_plateau(
    mode: str = 'min',
    factor: float = 0.1,
    patience: int = 10,
    min_delta: float = 1e-4,
    cooldown: int = 0,
    min_scale: float = 0.0,
    accumulation_size: int = 1,
) -> base.GradientTransformationExtraArgs:
  r"""Keras's ``ReduceLROnPlateau`` callback, as a gradient transformation.

  Reproduces ``keras.callbacks.ReduceLROnPlateau``: one evaluation
  corresponds to one ``on_epoch_end`` with the monitored value.

  .. code-block:: text

    in cooldown (cooldown_count > 0):  cooldown_count −= 1, wait ← 0
    improved = first evaluation, or a + min_delta < best   (mode='min')
                                    or a − min_delta > best   (mode='max')
    if improved:  best ← a, wait ← 0
    elif not in cooldown (after the decrement):
      wait ← wait + 1
      when wait ≥ patience and scale > min_scale:
        scale ← max(scale·factor, min_scale), cooldown_count ← cooldown, wait ← 0
    u = scale · g

  Compared with PyTorch: the threshold ``min_delta`` is absolute, the
  reduction fires when the wait *reaches* ``patience``, the cooldown counter
  is decremented before the wait is counted (so ``cooldown = c`` ignores
  ``c − 1`` evaluations after a reduction), and at the floor the wait is not
  reset. With a base learning rate ``η`` pass ``min_scale = min_lr / η``.

  Args:
    mode: ``'min'`` or ``'max'`` (Keras's ``'auto'`` is not supported: say
      which).
    factor: multiplier applied at each reduction, in ``(0, 1)``.
    patience: evaluations without improvement before a reduction, ``≥ 0``.
    min_delta: absolute threshold for an improvement, ``≥ 0``.
    cooldown: see above, ``≥ 0``.
    min_scale: the scale never goes below this, ``≥ 0``.
    accumulation_size: number of values averaged into one evaluation, ``≥ 1``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`ReduceLROnPlateauState`; ``update`` requires ``value=``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.keras_reduce_on_plateau(factor=0.5, patience=2)
    >>> state = tx.init(jnp.zeros(1))
    >>> for loss in [3.0, 2.0, 2.0, 2.0]:
    ...   u, state = tx.update(jnp.ones(1), state, value=loss)
    >>> state.scale
    Array(0.5, dtype=float32)
  """
  _check_mode('mode', mode, ('min', 'max'))
  _check_common(factor, patience, cooldown, accumulation_size, min_scale)
  _checks.check_non_negative('min_delta', min_delta)
  minimise = mode == 'min'
  worst = float('inf') if minimise else float('-inf')

  def rule(state, v):
    in_cooldown = state.cooldown_count > 0
    cooldown_count = jnp.where(in_cooldown, state.cooldown_count - 1,
                               state.cooldown_count)
    wait = jnp.where(in_cooldown, 0, state.plateau_count)
    # Keras starts from ``best = None``: the first evaluation always improves.
    # ``best`` still holding its initial ±inf plays that role here.
    first = state.best_value == worst
    if minimise:
      improved = first | (v + min_delta < state.best_value)
    else:
      improved = first | (v - min_delta > state.best_value)
    counted = jnp.logical_not(improved) & (cooldown_count <= 0)
    wait = jnp.where(improved, 0, jnp.where(counted, wait + 1, wait))
    reduce = counted & (wait >= patience) & (state.scale > min_scale)
    return _Decision(
        scale=jnp.where(
            reduce, jnp.maximum(state.scale * factor, min_scale), state.scale),
        best_value=jnp.where(improved, v, state.best_value),
        plateau_count=jnp.where(reduce, 0, wait),
        cooldown_count=jnp.where(reduce, cooldown, cooldown_count),
    )

  return _plateau('keras_reduce_on_plateau', rule, worst, accumulation_size)


# ---------------------------------------------------------------------------
# Reading the scale back.
# ---------------------------------------------------------------------------
def plateau_scale(state: base.OptState) -> jax.Array:
  """The product of the scales of every plateau transformation in ``state``.

  Works on the state of any optimizer (chains, wrappers, injected
  hyperparameters); returns 1.0 when there is no plateau transformation.
  Multiply by :func:`gradtx.current_learning_rate` to get the effective
  learning rate.

  Args:
    state: an optimizer state, as returned by ``init`` or ``update``.

  Returns:
    A float32 scalar.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.chain(gradtx.adam(1e-3), gradtx.reduce_on_plateau())
    >>> gradtx.plateau_scale(opt.init(jnp.zeros(2)))
    Array(1., dtype=float32)
  """
  is_plateau = lambda x: isinstance(x, ReduceLROnPlateauState)
  scale = jnp.ones([], jnp.float32)
  for node in jax.tree.leaves(state, is_leaf=is_plateau):
    if is_plateau(node):
      scale = scale * node.scale
  return scale

