"""Evaluating and plotting schedules (matplotlib is optional, imported lazily)."""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ['evaluate_schedule', 'plot']

Schedules = Union[Callable[[Any], Any], Mapping[str, Callable[[Any], Any]],
                  Sequence[Callable[[Any], Any]]]


def _steps(steps: Union[int, Sequence[int]]) -> np.ndarray:
  if isinstance(steps, (int, np.integer)):
    if steps <= 0:
      raise ValueError(f'steps must be a positive number of steps, got {steps}')
    return np.arange(int(steps), dtype=np.int32)
  out = np.asarray(steps)
  if out.ndim != 1 or out.size == 0 or not np.issubdtype(out.dtype, np.integer):
    raise ValueError(
        f'steps must be an int or a non-empty 1-d sequence of ints, got {steps!r}')
  return out.astype(np.int32)


def evaluate_schedule(schedule: Callable[[Any], Any],
                      steps: Union[int, Sequence[int]]) -> np.ndarray:
  """The values of ``schedule`` at ``steps`` as a float64 NumPy array.

  The schedule is mapped over an int32 array of steps with :func:`jax.vmap`
  under :func:`jax.jit`; a schedule that cannot be traced is called step by
  step instead.

  Args:
    schedule: a function of the step count.
    steps: a number of steps (``0 .. steps - 1``) or the steps themselves.

  Returns:
    An array with one value per step.

  Example:
    >>> import gradtx
    >>> evaluate_schedule(gradtx.linear_schedule(0.0, 1.0, 4), 5)
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
  """
  ts = _steps(steps)
  try:
    values = jax.jit(jax.vmap(lambda t: jnp.asarray(schedule(t))))(ts)
    values = np.broadcast_to(np.asarray(values, np.float64), ts.shape)
  except (jax.errors.JAXTypeError, TypeError, jax.errors.ConcretizationTypeError):
    values = np.asarray([float(schedule(int(t))) for t in ts], np.float64)
  return np.array(values)


def _named(schedules: Schedules) -> dict[str, Callable[[Any], Any]]:
  if callable(schedules):
    return {getattr(schedules, '__name__', 'schedule'): schedules}
  if isinstance(schedules, Mapping):
    return dict(schedules)
  return {f'schedule {i}': s for i, s in enumerate(schedules)}


def plot(schedules: Schedules, steps: Union[int, Sequence[int]],
         path: Union[str, os.PathLike], *, title: str | None = None,
         log_scale: bool = False) -> str:
  """Writes a PNG of one or several schedules against the step.

  Needs matplotlib (``pip install gradtx[plot]``); it is imported only
  here, and no global pyplot state is touched.

  Args:
    schedules: a schedule, a ``{label: schedule}`` mapping or a list.
    steps: a number of steps (``0 .. steps - 1``) or the steps themselves.
    path: where to write the PNG.
    title: an optional title.
    log_scale: use a logarithmic value axis.

  Returns:
    ``path`` as a string.

  Example:
    >>> import gradtx, os, tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), 'lr.png')
    >>> gradtx.schedules.plot(
    ...     {'cosine': gradtx.warmup_cosine_decay_schedule(0., 1., 20, 100)},
    ...     100, out) == out
    True
  """
  try:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # pylint: disable=g-import-not-at-top
    from matplotlib.figure import Figure  # pylint: disable=g-import-not-at-top
  except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        'gradtx.schedules.plot needs matplotlib: pip install "gradtx[plot]" '
        '(or pip install matplotlib)') from e
  named = _named(schedules)
  if not named:
    raise ValueError('schedules must hold at least one schedule, got none')
  ts = _steps(steps)
  fig = Figure(figsize=(7, 4.2), dpi=110)
  FigureCanvasAgg(fig)
  ax = fig.add_subplot(1, 1, 1)
  for label, schedule in named.items():
    ax.plot(ts, evaluate_schedule(schedule, ts), label=label, linewidth=1.6)
  ax.set_xlabel('step')
  ax.set_ylabel('value')
  if log_scale:
    ax.set_yscale('log')
  if title:
    ax.set_title(title)
  ax.grid(True, alpha=0.3)
  if len(named) > 1 or not callable(schedules):
    ax.legend(fontsize=8)
  fig.tight_layout()
  path = os.fspath(path)
  fig.savefig(path, format='png')
  return path
