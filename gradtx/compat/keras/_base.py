"""What every Keras 3 optimizer does around its own update rule.

Keras' ``BaseOptimizer.apply`` divides by ``loss_scale_factor``, accumulates
gradients, clips, applies weight decay to the variables, runs the optimizer's
``update_step``, updates the EMA of the variables and counts ``iterations``.
:func:`keras_optimizer` does the same around a :class:`UpdateRule`, the part
that differs between optimizers, and returns one gradtx transformation.
"""

from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise
from gradtx.transforms import clipping as _clipping

_is_none = lambda x: x is None


class UpdateRule(NamedTuple):
  """A Keras ``update_step`` as two pure functions.

  ``init(params) -> slots`` builds the optimizer's variables and
  ``step(grads, slots, params, lr, local_step) -> (delta, slots)`` gives the
  change of the params (``θ ← θ + delta``) for the learning rate ``lr`` and
  Keras' ``local_step = iterations + 1`` (a float32 scalar).
  """

  init: Callable[[Any], Any]
  step: Callable[..., tuple[Any, Any]]


class KerasState(NamedTuple):
  """State of a :mod:`gradtx.compat.keras` optimizer."""

  iterations: jax.Array  # int32 scalar: calls of ``update`` (Keras' ``_iterations``).
  slots: Any  # the optimizer's own variables (moments, accumulators, ...).
  accumulated_gradients: Any  # like params with gradient accumulation, else ().
  model_variables_moving_average: Any  # like params with use_ema, else ().


def _check_options(weight_decay, clipnorm, clipvalue, global_clipnorm,
                   use_ema, ema_momentum, ema_overwrite_frequency,
                   loss_scale_factor, gradient_accumulation_steps):
  given = [n for n, x in (('clipnorm', clipnorm), ('clipvalue', clipvalue),
                          ('global_clipnorm', global_clipnorm)) if x is not None]
  if len(given) > 1:
    raise ValueError(
        'Only one of clipnorm, clipvalue and global_clipnorm can be set, got '
        + ', '.join(f'{n}={x!r}' for n, x in (
            ('clipnorm', clipnorm), ('clipvalue', clipvalue),
            ('global_clipnorm', global_clipnorm)) if x is not None))
  for name, x in (('clipnorm', clipnorm), ('clipvalue', clipvalue),
                  ('global_clipnorm', global_clipnorm)):
    _checks.check_non_negative(name, x)
  if weight_decay is not None:
    _checks.check_callable_or_number('weight_decay', weight_decay)
    _checks.check_non_negative('weight_decay', weight_decay)
  if use_ema:
    _checks.check_unit_interval('ema_momentum', ema_momentum)
    if ema_overwrite_frequency is not None:
      _checks.check_int('ema_overwrite_frequency', ema_overwrite_frequency, 1)
  if loss_scale_factor is not None:
    _checks.check_positive('loss_scale_factor', loss_scale_factor)
  if gradient_accumulation_steps is not None:
    _checks.check_int('gradient_accumulation_steps',
                      gradient_accumulation_steps, 2)


def _clip_each(clipnorm):
  """Keras' per-variable ``clipnorm``: ``g·c / max(‖g‖, c)``."""
  def leaf(g):
    x = g.astype(tu.compute_dtype(g))
    norm = jnp.sqrt(jnp.sum(tu.abs_sq(x)))
    return (x * clipnorm) / jnp.maximum(norm, clipnorm)
  return lambda grads: jax.tree.map(leaf, grads)


def _clipper(clipnorm, clipvalue, global_clipnorm):
  if clipnorm:
    return _clip_each(clipnorm)
  if global_clipnorm:
    tx = _clipping.clip_by_global_norm(global_clipnorm)
  elif clipvalue:
    tx = _clipping.clip(clipvalue)
  else:
    return lambda grads: grads
  return lambda grads: tx.update(grads, tx.init(grads))[0]


def _decay_mask(params, patterns):
  if not patterns:
    return jax.tree.map(lambda _: True, params)
  regex = re.compile('|'.join(patterns))
  return jax.tree_util.tree_map_with_path(
      lambda path, _: regex.search(tu.path_to_str(path)) is None, params)


def keras_optimizer(
    name: str,
    rule: UpdateRule,
    learning_rate: base.ScalarOrSchedule,
    *,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    clipnorm: Optional[float] = None,
    clipvalue: Optional[float] = None,
    global_clipnorm: Optional[float] = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: Optional[int] = None,
    loss_scale_factor: Optional[float] = None,
    gradient_accumulation_steps: Optional[int] = None,
    exclude_from_weight_decay: Optional[Sequence[str]] = None,
) -> base.GradientTransformation:
  r"""Keras' ``apply`` around an :class:`UpdateRule`.

  With ``i`` the number of earlier calls, ``η = lr(i)`` and ``k = i`` (with
  accumulation: ``k = ⌊i/N⌋``, the number of earlier updates; Keras'
  ``optimizer.iterations``):

  .. code-block:: text

    g ← g / loss_scale_factor
    accumulation N:  update only when (i + 1) mod N = 0, with g ← (g + acc)/N;
                     otherwise acc ← acc + g and θ, slots stay
    g ← clip(g)                       (clipnorm | global_clipnorm | clipvalue)
    θ ← θ − θ·λ·η                     (weight_decay, unless excluded)
    θ ← θ + rule.step(g, slots, θ, η, k + 1)
    use_ema:  a ← μ·a + (1 − μ)·θ  (μ = 0 while k = 0);  θ ← a when (k + 1) mod f = 0
    i ← i + 1

  The update returned is the sum of the decay and the rule's ``delta`` (or
  ``a − θ`` on an EMA overwrite, 0 on an accumulation-only step).

  Args:
    name: the name shown in errors.
    rule: the optimizer's own step.
    learning_rate: a constant or a schedule of ``iterations``.
    weight_decay: ``λ``, or None.
    clipnorm: clip each variable's gradient to this norm.
    clipvalue: clip each gradient element to ``±clipvalue``.
    global_clipnorm: clip all gradients together to this global norm.
    use_ema: keep an exponential moving average of the params.
    ema_momentum: ``μ`` of that average.
    ema_overwrite_frequency: ``f``: overwrite the params with the average
      every ``f`` iterations; None never does.
    loss_scale_factor: divide the gradients by this first.
    gradient_accumulation_steps: ``N ≥ 2``, or None.
    exclude_from_weight_decay: regular expressions; parameters whose path
      (``'dense/bias'``) contains a match (``re.search``) are not decayed, as
      Keras' ``exclude_from_weight_decay(var_names=...)``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`KerasState`; its
    ``update`` needs the params.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from gradtx.compat.keras import UpdateRule, keras_optimizer
    >>> sgd = UpdateRule(lambda params: (),
    ...                  lambda g, slots, params, lr, t: (
    ...                      jax.tree.map(lambda x: -lr * x, g), slots))
    >>> opt = keras_optimizer('sgd', sgd, 0.1, weight_decay=0.5)
    >>> p = jnp.array([2.0])
    >>> opt.update(jnp.array([1.0]), opt.init(p), p)[0]   # −2·0.5·0.1 − 0.1
    Array([-0.2], dtype=float32)

  References:
    ``keras.optimizers.Optimizer.apply`` (Keras 3's ``BaseOptimizer``).
  """
  _hyper.check_learning_rate(learning_rate)
  _check_options(weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
                 ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                 gradient_accumulation_steps)
  if isinstance(exclude_from_weight_decay, str):
    exclude_from_weight_decay = [exclude_from_weight_decay]
  patterns = list(exclude_from_weight_decay or [])
  clip = _clipper(clipnorm, clipvalue, global_clipnorm)
  n_acc = gradient_accumulation_steps

  def init_fn(params):
    return KerasState(
        iterations=_hyper.zero_count(),
        slots=rule.init(params),
        accumulated_gradients=(
            _leafwise.zeros_state(params, None) if n_acc else ()),
        model_variables_moving_average=(
            jax.tree.map(jnp.asarray, params) if use_ema else ()))

  def update_fn(updates, state, params=None):
    _checks.require_params(name, params)
    i = state.iterations
    lr = jnp.asarray(_hyper.value_at(learning_rate, i), jnp.float32)
    g = updates
    if loss_scale_factor is not None:
      g = jax.tree.map(lambda x: x / jnp.asarray(loss_scale_factor, x.dtype), g)
    if n_acc:
      is_update = (i + 1) % n_acc == 0
      summed = jax.tree.map(lambda x, a: x + a.astype(x.dtype), g,
                            state.accumulated_gradients)
      g = jax.tree.map(lambda s: s / n_acc, summed)
      new_acc = jax.tree.map(lambda s, a: jnp.where(is_update, 0, s).astype(a.dtype),
                             summed, state.accumulated_gradients)
    else:
      new_acc = ()
    g = clip(g)
    theta, out = params, jax.tree.map(jnp.zeros_like, params)
    if weight_decay is not None:
      wd = jnp.asarray(_hyper.value_at(weight_decay, i), jnp.float32)
      mask = _decay_mask(params, patterns)
      out = jax.tree.map(
          lambda p, m: -(p * (wd * lr).astype(p.dtype)) if m else jnp.zeros_like(p),
          params, mask)
      theta = jax.tree.map(lambda p, d: p + d, params, out)
    # Keras' ``iterations`` counts updates, not calls, when accumulating.
    k = i // n_acc if n_acc else i
    delta, slots = rule.step(g, state.slots, theta, lr,
                             (k + 1).astype(jnp.float32))
    slots = _leafwise.store_like(slots, state.slots)
    out = jax.tree.map(lambda o, d: o + d.astype(o.dtype), out, delta)
    if n_acc:
      out = jax.tree.map(lambda o: jnp.where(is_update, o, 0), out)
      slots = jax.tree.map(lambda a, b: jnp.where(is_update, a, b), slots,
                           state.slots)
    if use_ema:
      mom = jnp.where(k != 0, ema_momentum, 0.0).astype(jnp.float32)
      avg = jax.tree.map(
          lambda a, p, o: (mom * a + (1 - mom) * (p + o)).astype(a.dtype),
          state.model_variables_moving_average, params, out)
      if ema_overwrite_frequency is not None:
        overwrite = (k + 1) % ema_overwrite_frequency == 0
        out = jax.tree.map(
            lambda a, p, o: jnp.where(overwrite, a.astype(p.dtype) - p, o),
            avg, params, out)
    else:
      avg = ()
    return _leafwise.like_updates(out, updates), KerasState(
        iterations=tu.safe_increment(i), slots=slots,
        accumulated_gradients=new_acc, model_variables_moving_average=avg)

  return base.transformation(name, init_fn, update_fn)
