"""Recording measurements of the updates inside the optimizer state."""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple, Optional, Union

import jax

from gradtx import base
from gradtx import _leafwise
from gradtx.transforms import momentum


class SnapshotState(NamedTuple):
  """State of :func:`snapshot`."""

  measurement: dict  # {measure_name: the last measurement (zeros before the first update)}.


class MonitorState(NamedTuple):
  """State of :func:`monitor`."""

  measurements: dict  # {name: last measurement (zeros before the first update)}.
  measure_states: tuple  # the state of each stateful measure, in order.


Measure = Callable[[base.Updates], Any]


def _zeros_of(shapes: Any) -> Any:
  return jax.tree.map(lambda s: jax.numpy.zeros(s.shape, s.dtype), shapes)


def snapshot(measure_name: str, measure: Measure) -> base.GradientTransformation:
  """Stores ``measure(updates)`` in the state and passes the updates on.

  Placed inside a :func:`chain`, it records the updates as they are at that
  point (e.g. the norm before clipping). Read it back with
  ``gradtx.tree.get(state, measure_name)``. Before the first update the stored
  value is zeros of the measurement's shape, so the state's structure never
  changes (safe under ``lax.scan``); later values are cast to that dtype.

  Args:
    measure_name: the key the measurement is stored under.
    measure: a function of the updates returning a tree of arrays.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`SnapshotState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.chain(gradtx.snapshot('norm', gradtx.tree.norm),
    ...                   gradtx.scale(0.5))
    >>> u, s = tx.update(jnp.array([3.0, 4.0]), tx.init(jnp.zeros(2)))
    >>> gradtx.tree.get(s, 'norm')
    Array(5., dtype=float32)
  """
  if not isinstance(measure_name, str):
    raise ValueError(f'measure_name must be a string, got {measure_name!r}')
  if not callable(measure):
    raise ValueError(f'measure must be a function of the updates, got {measure!r}')

  def init_fn(params):
    return SnapshotState({measure_name: _zeros_of(jax.eval_shape(measure, params))})

  def update_fn(updates, state, params=None):
    del params
    value = _leafwise.store_like(measure(updates), state.measurement[measure_name])
    return updates, SnapshotState({measure_name: value})

  return base.transformation('snapshot', init_fn, update_fn)


def monitor(
    measures: Mapping[str, Union[Measure, base.GradientTransformation]],
) -> base.GradientTransformationExtraArgs:
  """Records several measurements, some of them stateful, in the state.

  Each measure is either a function of the updates (like :func:`snapshot`) or
  a transformation whose *output* is the measurement (e.g.
  :func:`measure_with_ema`). The updates pass through unchanged.

  Args:
    measures: a mapping from name to measure.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`MonitorState`; read a value with ``gradtx.tree.get(state, name)``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.monitor({
    ...     'norm': gradtx.tree.norm,
    ...     'norm_ema': gradtx.measure_with_ema(gradtx.tree.norm, decay=0.5)})
    >>> s = tx.init(jnp.zeros(2))
    >>> _, s = tx.update(jnp.array([3.0, 4.0]), s)
    >>> gradtx.tree.get(s, 'norm'), gradtx.tree.get(s, 'norm_ema')
    (Array(5., dtype=float32), Array(5., dtype=float32))
  """
  if not isinstance(measures, Mapping) or not measures:
    raise ValueError(
        f'measures must be a non-empty mapping from name to measure, got {measures!r}')
  txs = {}
  for name, m in measures.items():
    if hasattr(m, 'init') and hasattr(m, 'update'):
      txs[name] = base.with_extra_args_support(m)
    elif callable(m):
      txs[name] = base.with_extra_args_support(
          base.stateless(lambda u, p, m=m: m(u)))
    else:
      raise ValueError(
          f'measures[{name!r}] must be a function of the updates or a '
          f'transformation, got {m!r}')

  def first_measurement(tx, params):
    return _zeros_of(jax.eval_shape(
        lambda p: tx.update(p, tx.init(p), p)[0], params))

  def init_fn(params):
    return MonitorState(
        measurements={n: first_measurement(t, params) for n, t in txs.items()},
        measure_states=tuple(t.init(params) for t in txs.values()),
    )

  def update_fn(updates, state, params=None, **extra_args):
    values, states = {}, []
    for (name, tx), s in zip(txs.items(), state.measure_states):
      value, s = tx.update(updates, s, params, **extra_args)
      values[name] = _leafwise.store_like(value, state.measurements[name])
      states.append(s)
    return updates, MonitorState(measurements=values, measure_states=tuple(states))

  return base.transformation_with_extra_args('monitor', init_fn, update_fn)


def measure_with_ema(
    measure: Measure,
    decay: float,
    debias: bool = True,
    accumulator_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  """A stateful measure for :func:`monitor`: an EMA of ``measure(updates)``.

  ``m ← d·m + (1 − d)·measure(g)``, returned debiased (``m / (1 − dᵗ)``) by
  default; see :func:`gradtx.ema`.

  Args:
    measure: a function of the updates.
    decay: ``d`` in ``[0, 1]``.
    debias: divide by ``1 − dᵗ``.
    accumulator_dtype: dtype of the average; None keeps the measurement's.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` whose output is the
    average (not the updates): use it inside :func:`monitor`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> m = gradtx.measure_with_ema(gradtx.tree.norm, decay=0.9)
    >>> out, s = m.update(jnp.array([3.0, 4.0]), m.init(jnp.zeros(2)))
    >>> out
    Array(5., dtype=float32)
  """
  if not callable(measure):
    raise ValueError(f'measure must be a function of the updates, got {measure!r}')
  average = momentum.ema(decay, debias, accumulator_dtype)

  def init_measured(params):
    return average.init(_zeros_of(jax.eval_shape(measure, params)))

  return base.chain(
      base.stateless(lambda u, p: measure(u)),
      base.GradientTransformation(init_measured, average.update),
  )
