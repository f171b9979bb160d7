"""Hyperparameters moved into the optimizer state.

:func:`inject_hyperparams` wraps an optimizer factory (``gradtx.adam``,
``gradtx.scale_by_adam``, ...) so that its numeric hyperparameters are arrays
in the state rather than constants baked into the compiled step. They can be
read for logging, changed between steps without recompiling, and any of them
may be a schedule of the step.

Helpers read and write them in the state of any optimizer, however deeply the
injected part is nested in chains and wrappers: :func:`current_learning_rate`,
:func:`find_hyperparams` and :func:`set_hyperparams`.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from typing import Any, Callable, Iterable, NamedTuple, Optional, Protocol, Union, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu


class InjectHyperparamsState(NamedTuple):
  """State of a transformation built by :func:`inject_hyperparams`."""

  count: jax.Array  # int32 scalar: number of updates seen (the schedules' step).
  hyperparams: dict[str, jax.Array]  # name -> array (float scalars in the
  # hyperparameter dtype, int32 for integers): the values used by the last update.
  inner_state: base.OptState  # the wrapped transformation's state.


class InjectStatefulHyperparamsState(NamedTuple):
  """State of a transformation built by :func:`inject_stateful_hyperparams`."""

  count: jax.Array  # int32 scalar: number of updates seen.
  hyperparams: dict[str, jax.Array]  # name -> array, as in InjectHyperparamsState.
  hyperparams_states: dict[str, Any]  # name -> state of that hyperparameter's
  # stateful schedule (a WrappedScheduleState for a plain schedule).
  inner_state: base.OptState  # the wrapped transformation's state.


_INJECTED = (InjectHyperparamsState, InjectStatefulHyperparamsState)


@runtime_checkable
class StatefulSchedule(Protocol):
  """The interface of a stateful schedule (Optax's ``optax.schedules.StatefulSchedule``).

  A stateful schedule is a hyperparameter policy that keeps state of its own:
  ``init() -> state``, ``update(state, **extra_args) -> state`` and
  ``__call__(state, **extra_args) -> value``. The extra keyword arguments are
  those given to the optimizer's ``update`` (a loss, say), so the value may
  react to training. :func:`inject_stateful_hyperparams` accepts any object
  with these three methods; :class:`WrappedSchedule` makes one from a
  schedule of the step. The protocol is runtime-checkable:
  ``isinstance(x, StatefulSchedule)`` tests for the three methods.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> class HalveOnRise:  # halves the value each time the loss rises
    ...   def init(self):
    ...     return (jnp.asarray(1.0), jnp.asarray(jnp.inf))
    ...   def update(self, state, *, loss, **extra_args):
    ...     value, best = state
    ...     return (jnp.where(loss > best, value / 2, value),
    ...             jnp.minimum(best, loss))
    ...   def __call__(self, state, **extra_args):
    ...     return 0.1 * state[0]
    >>> isinstance(HalveOnRise(), gradtx.StatefulSchedule)
    True
    >>> opt = gradtx.inject_stateful_hyperparams(gradtx.sgd)(
    ...     learning_rate=HalveOnRise())
    >>> state = opt.init(jnp.zeros(1))
    >>> for loss in (3.0, 2.0, 2.5):
    ...   u, state = opt.update(jnp.ones(1), state, loss=loss)
    >>> u  # the rise to 2.5 halved the learning rate, used from the next step
    Array([-0.1], dtype=float32)
  """

  def init(self) -> Any:
    """The initial state."""

  def update(self, state: Any, **extra_args: Any) -> Any:
    """The next state, given the extra arguments of the optimizer's update."""

  def __call__(self, state: Any, **extra_args: Any) -> Any:
    """The hyperparameter's value in ``state``."""


class WrappedScheduleState(NamedTuple):
  """State of a :class:`WrappedSchedule`."""

  count: jax.Array  # int32 scalar: the step the schedule is evaluated at.


class WrappedSchedule:
  """A stateful schedule made from a schedule of the step count.

  Stateful schedules are objects with ``init() -> state``,
  ``update(state, **extra_args) -> state`` and
  ``__call__(state, **extra_args) -> value``; they let a hyperparameter
  depend on more than the step (on a loss passed as an extra argument, say).

  Args:
    schedule_fn: a function of the int32 step count.

  Example:
    >>> import gradtx
    >>> sched = gradtx.WrappedSchedule(gradtx.linear_schedule(1.0, 0.0, 4))
    >>> state = sched.init()
    >>> state = sched.update(sched.update(state))
    >>> float(sched(state))  # the value at step 2
    0.5
    >>> opt = gradtx.inject_stateful_hyperparams(gradtx.sgd)(learning_rate=sched)
  """

  def __init__(self, schedule_fn: base.Schedule):
    self.schedule_fn = schedule_fn

  def init(self) -> WrappedScheduleState:
    return WrappedScheduleState(count=_hyper.zero_count())

  def update(self, state: WrappedScheduleState, **extra_args) -> WrappedScheduleState:
    del extra_args
    return WrappedScheduleState(count=tu.safe_increment(state.count))

  def __call__(self, state: WrappedScheduleState, **extra_args) -> Any:
    del extra_args
    return self.schedule_fn(state.count)


def _is_stateful_schedule(x: Any) -> bool:
  return callable(x) and hasattr(x, 'init') and hasattr(x, 'update')


# ---------------------------------------------------------------------------
# Sorting the factory's arguments.
# ---------------------------------------------------------------------------
def _is_numeric(value: Any) -> bool:
  if isinstance(value, bool):
    return False
  if isinstance(value, (numbers.Real, np.generic, np.ndarray, jax.Array)):
    return jnp.issubdtype(jnp.result_type(value), jnp.number) and not (
        jnp.issubdtype(jnp.result_type(value), jnp.bool_))
  return False


def _is_static(value: Any) -> bool:
  """Values that are never hyperparameters: flags, dtypes, types, None."""
  return (
      value is None
      or isinstance(value, (bool, str, type, np.dtype))
      or (isinstance(value, (np.ndarray, jax.Array))
          and jnp.issubdtype(value.dtype, jnp.bool_))
  )


def _bind(signature: inspect.Signature, args, kwargs) -> dict[str, Any]:
  """The factory's arguments by name, defaults applied, ``**kwargs`` spread."""
  bound = signature.bind(*args, **kwargs)
  bound.apply_defaults()
  out = {}
  for name, value in bound.arguments.items():
    kind = signature.parameters[name].kind
    if kind is inspect.Parameter.VAR_KEYWORD:
      out.update(value)
    elif kind is inspect.Parameter.VAR_POSITIONAL:
      if value:
        raise ValueError(
            f'inject_hyperparams cannot inject the variadic argument *{name}; '
            'wrap the factory in a function with named arguments.'
        )
    else:
      out[name] = value
  return out


def _split(arguments: dict[str, Any], static_args: set[str], stateful: bool):
  """Sorts arguments into (schedules, numeric hyperparams, static args)."""
  schedules, numeric, static = {}, {}, {}
  for name, value in arguments.items():
    if name in static_args or _is_static(value):
      static[name] = value
    elif _is_stateful_schedule(value):
      if not stateful:
        raise ValueError(
            f'{name} is a stateful schedule (it has init and update); use '
            'gradtx.inject_stateful_hyperparams for those.'
        )
      schedules[name] = value
    elif callable(value):
      schedules[name] = WrappedSchedule(value) if stateful else value
    elif _is_numeric(value):
      numeric[name] = value
    else:
      static[name] = value
  return schedules, numeric, static


# ---------------------------------------------------------------------------
# Dtypes.
# ---------------------------------------------------------------------------
def _default_dtype(tree: Any) -> jnp.dtype:
  """float32, or wider when the params are (float64 / complex128)."""
  dtypes = [jnp.result_type(x) for x in jax.tree.leaves(tree)
            if hasattr(x, 'dtype')]
  dtypes = [d for d in dtypes if jnp.issubdtype(d, jnp.inexact)]
  return jnp.finfo(jnp.result_type(jnp.float32, *dtypes)).dtype


def _convert(value: Any, dtype: jnp.dtype, force: bool) -> Any:
  """Float hyperparameters to ``dtype``; integers to strong int32.

  Without ``force``, a value that is already a strongly typed array keeps its
  dtype (as in Optax), so a state's dtypes never change from step to step.
  """
  if not hasattr(value, 'dtype') and not isinstance(value, numbers.Number):
    return value
  strong = isinstance(value, jax.Array) and not getattr(value, 'weak_type', False)
  kind = jnp.result_type(value)
  if jnp.issubdtype(kind, jnp.floating):
    return value if strong and not force else jnp.asarray(value, dtype)
  if jnp.issubdtype(kind, jnp.integer) and not strong:
    return jnp.asarray(value, jnp.int32 if kind.itemsize <= 4 else kind)
  return jnp.asarray(value)


def _dtype_for(hyperparam_dtype, params, updates) -> jnp.dtype:
  if hyperparam_dtype is not None:
    return hyperparam_dtype
  return _default_dtype(params if params is not None else updates)


def _factory_name(factory: Callable[..., Any]) -> str:
  return getattr(factory, '__name__', type(factory).__name__)


def _prepare(inner_factory, static_args, hyperparam_dtype):
  static_args = {static_args} if isinstance(static_args, str) else set(static_args)
  if not callable(inner_factory):
    raise ValueError(
        'inner_factory must be a function returning a gradient '
        f'transformation (such as gradtx.adam), got {inner_factory!r}'
    )
  signature = inspect.signature(inner_factory)
  unknown = static_args - set(signature.parameters)
  if unknown:
    raise ValueError(
        f'static_args must name arguments of {_factory_name(inner_factory)}; '
        f'unknown: {sorted(unknown)}. Its arguments are '
        f'{list(signature.parameters)}.'
    )
  hyperparam_dtype = _checks.check_dtype('hyperparam_dtype', hyperparam_dtype)
  if hyperparam_dtype is not None and not jnp.issubdtype(
      hyperparam_dtype, jnp.floating):
    raise ValueError(
        'hyperparam_dtype must be None or a floating dtype, got '
        f'{hyperparam_dtype!r}'
    )
  return static_args, signature, hyperparam_dtype


# ---------------------------------------------------------------------------
# inject_hyperparams.
# ---------------------------------------------------------------------------
def inject_hyperparams(
    inner_factory: Callable[..., base.GradientTransformation],
    static_args: Union[str, Iterable[str]] = (),
    hyperparam_dtype: Optional[Any] = None,
) -> Callable[..., base.GradientTransformationExtraArgs]:
  r"""Moves the numeric hyperparameters of a transformation into its state.

  ``inject_hyperparams(factory)(*args, **kwargs)`` accepts the arguments of
  ``factory``, where any numeric argument may also be a schedule (a function
  of the step). At each update:

  .. code-block:: text

    h_k = schedule_k(count)  if argument k is a schedule
          state.hyperparams[k] otherwise (as set at init, or by you)
    updates, inner_state = factory(**h, **static).update(updates, inner_state)
    count ← count + 1

  Every numeric value is an array in ``state.hyperparams``: it can be logged,
  and a constant one can be changed between steps (use
  :func:`set_hyperparams`, which keeps its dtype) with no recompilation of a
  jitted step. A value given as a schedule is recomputed at every step, so
  overwriting it has no effect.

  Arguments are sorted as in Optax: names listed in ``static_args``,
  booleans, strings, dtypes and None are passed through unchanged; other
  callables are schedules; numbers and numeric arrays are injected. Float
  hyperparameters are stored in ``hyperparam_dtype``, by default float32 (or
  float64 for float64 params) — Optax uses the params' widest dtype, which
  for bfloat16 params rounds ``b2 = 0.999`` to 1.

  The wrapped factory is called inside ``update`` with array
  hyperparameters; constructors validate them only when they are concrete.

  Args:
    inner_factory: a function returning a gradient transformation, such as
      :func:`gradtx.adam` or :func:`gradtx.scale_by_adam`.
    static_args: names of arguments never to inject (callables that are not
      schedules, such as a ``mask`` function; integers a factory needs as
      Python ints).
    hyperparam_dtype: dtype of the float hyperparameters; when given, every
      float hyperparameter (schedule outputs included) is cast to it.

  Returns:
    A factory with the signature of ``inner_factory`` returning a
    :class:`~gradtx.GradientTransformationExtraArgs` whose state is an
    :class:`InjectHyperparamsState`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> opt = gradtx.inject_hyperparams(gradtx.adam)(
    ...     learning_rate=lambda step: 0.1 / (1.0 + step), b1=0.8)
    >>> params = jnp.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> updates, state = opt.update(jnp.array([0.5, 0.5]), state)
    >>> updates, state = opt.update(jnp.array([0.5, 0.5]), state)
    >>> gradtx.current_learning_rate(state)  # the rate used by the last update
    Array(0.05, dtype=float32)
    >>> state = gradtx.set_hyperparams(state, b1=0.9)  # no recompilation
    >>> state.hyperparams['b1']
    Array(0.9, dtype=float32)
  """
  static_args, signature, hyperparam_dtype = _prepare(
      inner_factory, static_args, hyperparam_dtype)
  force = hyperparam_dtype is not None
  name = f'inject_hyperparams({_factory_name(inner_factory)})'

  @functools.wraps(inner_factory)
  def wrapped(*args, **kwargs) -> base.GradientTransformationExtraArgs:
    arguments = _bind(signature, args, kwargs)
    schedules, numeric, static = _split(arguments, static_args, stateful=False)
    # Build once now so that the factory validates constant arguments at once.
    inner_factory(**static, **numeric,
                  **{k: f(_hyper.zero_count()) for k, f in schedules.items()})

    def values_at(stored, count, dtype):
      h = {k: _convert(v, dtype, force) for k, v in stored.items()}
      h.update({k: _convert(f(count), dtype, force) for k, f in schedules.items()})
      return h

    def init_fn(params):
      count = _hyper.zero_count()
      h = values_at(numeric, count, _dtype_for(hyperparam_dtype, params, None))
      inner = inner_factory(**static, **h)
      return InjectHyperparamsState(count, h, inner.init(params))

    def update_fn(updates, state, params=None, **extra_args):
      dtype = _dtype_for(hyperparam_dtype, params, updates)
      h = values_at(state.hyperparams, state.count, dtype)
      inner = base.with_extra_args_support(inner_factory(**static, **h))
      updates, inner_state = inner.update(
          updates, state.inner_state, params, **extra_args)
      return updates, InjectHyperparamsState(
          tu.safe_increment(state.count), h, inner_state)

    return base.transformation_with_extra_args(name, init_fn, update_fn)

  return wrapped


def inject_stateful_hyperparams(
    inner_factory: Callable[..., base.GradientTransformation],
    static_args: Union[str, Iterable[str]] = (),
    hyperparam_dtype: Optional[Any] = None,
) -> Callable[..., base.GradientTransformationExtraArgs]:
  r"""Like :func:`inject_hyperparams`, also accepting stateful schedules.

  A stateful schedule is an object with ``init() -> s``,
  ``update(s, **extra_args) -> s`` and ``__call__(s, **extra_args) ->
  value`` (see :class:`WrappedSchedule`); the extra keyword arguments given
  to ``update`` (a loss, say) reach it. At each update the hyperparameter is
  ``schedule(s, **extra_args)``, then ``s ← schedule.update(s, **extra_args)``.
  Plain schedules are wrapped in :class:`WrappedSchedule`, so they give the
  same values as with :func:`inject_hyperparams`.

  Args:
    inner_factory, static_args, hyperparam_dtype: as for
      :func:`inject_hyperparams`.

  Returns:
    A factory with the signature of ``inner_factory`` returning a
    :class:`~gradtx.GradientTransformationExtraArgs` whose state is an
    :class:`InjectStatefulHyperparamsState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> class HalveOnSpike:  # lr halves whenever the loss exceeds 1
    ...   def init(self): return jnp.asarray(0.1)
    ...   def update(self, s, loss=0.0, **kw): return jnp.where(loss > 1, s / 2, s)
    ...   def __call__(self, s, **kw): return s
    >>> opt = gradtx.inject_stateful_hyperparams(gradtx.scale_by_learning_rate)(
    ...     HalveOnSpike())
    >>> state = opt.init(jnp.zeros(1))
    >>> _, state = opt.update(jnp.ones(1), state, loss=3.0)
    >>> _, state = opt.update(jnp.ones(1), state, loss=3.0)
    >>> gradtx.current_learning_rate(state)
    Array(0.05, dtype=float32)
  """
  static_args, signature, hyperparam_dtype = _prepare(
      inner_factory, static_args, hyperparam_dtype)
  force = hyperparam_dtype is not None
  name = f'inject_stateful_hyperparams({_factory_name(inner_factory)})'

  @functools.wraps(inner_factory)
  def wrapped(*args, **kwargs) -> base.GradientTransformationExtraArgs:
    arguments = _bind(signature, args, kwargs)
    schedules, numeric, static = _split(arguments, static_args, stateful=True)
    inner_factory(**static, **numeric,
                  **{k: f(f.init()) for k, f in schedules.items()})

    def init_fn(params):
      dtype = _dtype_for(hyperparam_dtype, params, None)
      h = {k: _convert(v, dtype, force) for k, v in numeric.items()}
      sched_states = {k: f.init() for k, f in schedules.items()}
      h.update({k: _convert(f(sched_states[k]), dtype, force)
                for k, f in schedules.items()})
      inner = inner_factory(**static, **h)
      return InjectStatefulHyperparamsState(
          _hyper.zero_count(), h, sched_states, inner.init(params))

    def update_fn(updates, state, params=None, **extra_args):
      dtype = _dtype_for(hyperparam_dtype, params, updates)
      h = {k: _convert(v, dtype, force) for k, v in state.hyperparams.items()}
      h.update({
          k: _convert(f(state.hyperparams_states[k], **extra_args), dtype, force)
          for k, f in schedules.items()
      })
      sched_states = {
          k: f.update(state.hyperparams_states[k], **extra_args)
          for k, f in schedules.items()
      }
      inner = base.with_extra_args_support(inner_factory(**static, **h))
      updates, inner_state = inner.update(
          updates, state.inner_state, params, **extra_args)
      return updates, InjectStatefulHyperparamsState(
          tu.safe_increment(state.count), h, sched_states, inner_state)

    return base.transformation_with_extra_args(name, init_fn, update_fn)

  return wrapped


# ---------------------------------------------------------------------------
# Reading and writing injected hyperparameters in any state.
# ---------------------------------------------------------------------------
def _is_injected(x: Any) -> bool:
  return isinstance(x, _INJECTED)


def _walk(state: Any, prefix: str = ''):
  """Yields ``(path, node)`` for every injected state, outermost first."""
  with_path, _ = jax.tree_util.tree_flatten_with_path(state, is_leaf=_is_injected)
  for path, node in with_path:
    if _is_injected(node):
      here = prefix + jax.tree_util.keystr(path)
      yield here, node
      yield from _walk(node.inner_state, here + '.inner_state')


def find_hyperparams(state: base.OptState) -> dict[str, dict[str, jax.Array]]:
  """The injected hyperparameters found anywhere in an optimizer state.

  Args:
    state: the state of any optimizer, possibly with several injected parts
      nested in chains and wrappers.

  Returns:
    A dict from the path of each injected state (``''`` at the root, e.g.
    ``'[0]'`` for the first member of a chain) to its ``hyperparams``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.chain(gradtx.add_decayed_weights(1e-4),
    ...                    gradtx.inject_hyperparams(gradtx.adam)(1e-3))
    >>> sorted(gradtx.find_hyperparams(opt.init(jnp.zeros(2)))['[1]'])
    ['b1', 'b2', 'eps', 'eps_root', 'learning_rate']
  """
  return {path: node.hyperparams for path, node in _walk(state)}


def current_learning_rate(
    state: base.OptState, name: str = 'learning_rate'
) -> jax.Array:
  """The learning rate held in an optimizer state built with injection.

  The rate is the value used by the most recent ``update`` (the initial value
  before any). Multiply by :func:`gradtx.plateau_scale` to include the scale
  of a plateau transformation.

  Args:
    state: the state of any optimizer containing exactly one
      :func:`inject_hyperparams` part with this hyperparameter, anywhere in
      chains and wrappers.
    name: the hyperparameter's name.

  Returns:
    The scalar array.

  Raises:
    ValueError: when no injected state holds ``name``, or several do.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.inject_hyperparams(gradtx.adam)(learning_rate=3e-4)
    >>> gradtx.current_learning_rate(opt.init(jnp.zeros(2)))
    Array(0.0003, dtype=float32)
  """
  found = find_hyperparams(state)
  holders = {p: h[name] for p, h in found.items() if name in h}
  if len(holders) == 1:
    return next(iter(holders.values()))
  if not found:
    raise ValueError(
        f'no {name} found: this optimizer state contains no injected '
        'hyperparameters. Build the optimizer with '
        'gradtx.inject_hyperparams(factory)(...), e.g. '
        'gradtx.inject_hyperparams(gradtx.adam)(learning_rate=1e-3), to keep '
        'its hyperparameters in the state.'
    )
  if not holders:
    names = sorted({k for h in found.values() for k in h})
    raise ValueError(
        f'no hyperparameter named {name!r} in the injected state(s); found '
        f'{names}. Pass name=... to choose one.'
    )
  paths = ', '.join(repr(p) for p in holders)
  raise ValueError(
      f'several injected states hold {name!r} (at {paths}); read the one you '
      'want with gradtx.find_hyperparams(state)[path].'
  )


def set_hyperparams(state: base.OptState, **values: Any) -> base.OptState:
  """Returns ``state`` with injected hyperparameters replaced.

  Each new value is cast to the dtype and shape of the value it replaces, so
  a jitted step that receives the new state is not recompiled. Every injected
  state holding a given name is changed. Values set for a hyperparameter
  that was given as a schedule are overwritten by the schedule at the next
  update.

  Args:
    state: the state of any optimizer built with injected hyperparameters.
    **values: new values by hyperparameter name.

  Returns:
    The new state (the input is not modified).

  Raises:
    ValueError: when a name is held by no injected state.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.inject_hyperparams(gradtx.adam)(learning_rate=1e-3)
    >>> state = gradtx.set_hyperparams(opt.init(jnp.zeros(2)), learning_rate=1e-4)
    >>> gradtx.current_learning_rate(state)
    Array(1.e-04, dtype=float32)
  """
  present = {k for h in find_hyperparams(state).values() for k in h}
  missing = sorted(set(values) - present)
  if missing:
    raise ValueError(
        f'set_hyperparams: no injected hyperparameter named {missing}; the '
        f'state holds {sorted(present)}.'
    )

  def replace(node):
    if not _is_injected(node):
      return node
    h = dict(node.hyperparams)
    for k, v in values.items():
      if k in h:
        old = jnp.asarray(h[k])
        new = jnp.asarray(v, old.dtype)
        if new.shape != old.shape:
          raise ValueError(
              f'set_hyperparams: {k} must have shape {old.shape}, got '
              f'{new.shape}'
          )
        h[k] = new
    return node._replace(hyperparams=h, inner_state=_set(node.inner_state))

  def _set(tree):
    return jax.tree.map(replace, tree, is_leaf=_is_injected)

  return _set(state)
