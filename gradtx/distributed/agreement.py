"""Cross-device agreement: replicas take the same decisions, so they never diverge.

Under :func:`jax.jit` with sharded arrays every reduction is global and there
is nothing to agree on: the loss, the gradient norm and the finiteness flag
are single values. Under :func:`jax.shard_map` or :func:`jax.pmap` each
device computes its own, and a decision taken on a per-device value (skip
this step? reduce the learning rate? stop?) can differ between devices. The
wrappers here make such decisions collective.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

from gradtx import _shards
from gradtx import base
from gradtx.stateful_schedules import stopping as _stopping


def _pmean(value: Any, axis_name: Any) -> Any:
  value = jnp.asarray(value)
  if not jnp.issubdtype(value.dtype, jnp.inexact):
    value = value.astype(jnp.float32)
  return jax.lax.pmean(value, axis_name)


def agreed(
    inner: base.GradientTransformation,
    axis_name: Any,
    metrics: Sequence[str] = ('value', 'loss'),
) -> base.GradientTransformationExtraArgs:
  r"""Makes ``inner``'s decisions and monitored metrics agree across replicas.

  .. code-block:: text

    m ← pmean(m, axis_name)        for each keyword metric m in ``metrics``
    finite ← AND over devices of all_finite(g)     (inside inner)
    skip   ← OR  over devices of each skip rule's verdict (MultiSteps rules)
    u, s ← inner.update(g, s, p, **metrics)

  With it, :func:`gradtx.reduce_on_plateau` sees the mean of the losses of
  all devices (the loss of the whole batch when the per-device batches are
  equal), and :func:`gradtx.apply_if_finite`, :func:`gradtx.with_loss_scale`
  and the :class:`gradtx.MultiSteps` skip rules skip a step on every device
  as soon as one device sees a non-finite gradient. Norms are not averaged:
  average the gradients (``lax.pmean``) before clipping by their norm, as a
  data-parallel step does anyway.

  Args:
    inner: the transformation whose decisions must agree.
    axis_name: the mapped axis (or tuple of axes) of ``shard_map``/``pmap``.
    metrics: the names of the keyword arguments of ``update`` that are
      per-device metrics to average (``value`` for ``reduce_on_plateau``).

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with ``inner``'s state.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.distributed import agreed
    >>> opt = agreed(gradtx.apply_if_finite(gradtx.sgd(0.1), 5), 'i')
    >>> g = jnp.array([[1.0], [jnp.nan]])   # device 1 overflows
    >>> def step(g):
    ...   state = opt.init(jnp.zeros(1))
    ...   return opt.update(g, state)[1].last_finite
    >>> jax.vmap(step, axis_name='i')(g)    # both skip
    Array([False, False], dtype=bool)
  """
  if axis_name is None:
    raise ValueError('axis_name must name a mapped axis, got None')
  inner = base.with_extra_args_support(inner)
  metrics = tuple(metrics)

  def update_fn(updates, state, params=None, **extra_args):
    extra_args = {
        k: (_pmean(v, axis_name) if k in metrics and v is not None else v)
        for k, v in extra_args.items()}
    with _shards.over(axis_name, 'replicas'):
      return inner.update(updates, state, params, **extra_args)

  return base.GradientTransformationExtraArgs(inner.init, update_fn)


def agreed_early_stopping(
    monitor: _stopping.EarlyStopping, axis_name: Any
) -> _stopping.EarlyStopping:
  """An early-stopping monitor fed the mean of the per-device values.

  .. code-block:: text

    state ← monitor.update(state, pmean(value, axis_name))

  Every device then holds the same state and raises ``should_stop`` at the
  same step, so a loop that stops on it stops everywhere.

  Args:
    monitor: an :func:`gradtx.early_stopping` monitor.
    axis_name: the mapped axis (or tuple of axes) of ``shard_map``/``pmap``.

  Returns:
    An :class:`gradtx.EarlyStopping` whose ``update`` must run inside the
    mapped computation.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.distributed import agreed_early_stopping
    >>> es = agreed_early_stopping(gradtx.early_stopping(patience=0), 'i')
    >>> def run(losses):          # one device's losses over two epochs
    ...   s = es.init()
    ...   for v in losses:
    ...     s = es.update(s, v)
    ...   return s.should_stop
    >>> losses = jnp.array([[1.0, 0.9], [1.0, 1.2]])  # the mean went up
    >>> jax.vmap(run, axis_name='i')(losses)
    Array([ True,  True], dtype=bool)
  """
  if axis_name is None:
    raise ValueError('axis_name must name a mapped axis, got None')

  def update(state, value):
    return monitor.update(state, _pmean(value, axis_name))

  return _stopping.EarlyStopping(monitor.init, update)
