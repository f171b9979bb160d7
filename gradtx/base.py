"""The gradient-transformation protocol and the pieces every optimizer is built on.

A gradient transformation is a pair of pure functions:

* ``init(params) -> state`` builds the state (a pytree of arrays);
* ``update(updates, state, params=None) -> (updates, state)`` transforms a tree
  of updates (usually gradients) and returns the new state.

Because both are pure and the state is a pytree of arrays, a whole training
step can be compiled with :func:`jax.jit` and used under ``vmap``, ``pmap`` and
``lax.scan``.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, Protocol, Union

import jax
import jax.numpy as jnp

from gradtx import _checks

# ---------------------------------------------------------------------------
# Type aliases.
# ---------------------------------------------------------------------------
Params = Any
"""A pytree of arrays holding the parameters being optimised."""
Updates = Any
"""A pytree with the structure of :data:`Params` (gradients or updates)."""
OptState = Any
"""A pytree of arrays: the state of a gradient transformation."""
Numeric = Union[jax.Array, float, int]
Schedule = Callable[[Numeric], Numeric]
"""A function from the step count (an int32 array) to a scalar."""
ScalarOrSchedule = Union[float, jax.Array, Schedule]
"""A constant hyperparameter or a :data:`Schedule` of the step count."""


class TransformInitFn(Protocol):
  """``init(params) -> state``."""

  def __call__(self, params: Params) -> OptState:
    ...


class TransformUpdateFn(Protocol):
  """``update(updates, state, params=None) -> (updates, state)``."""

  def __call__(
      self, updates: Updates, state: OptState, params: Optional[Params] = None
  ) -> tuple[Updates, OptState]:
    ...


class TransformUpdateExtraArgsFn(Protocol):
  """``update(updates, state, params=None, **extra_args)``."""

  def __call__(
      self,
      updates: Updates,
      state: OptState,
      params: Optional[Params] = None,
      **extra_args: Any,
  ) -> tuple[Updates, OptState]:
    ...


class GradientTransformation(NamedTuple):
  """A pure pair of functions ``(init, update)``.

  Attributes:
    init: ``init(params) -> state``.
    update: ``update(updates, state, params=None) -> (updates, state)``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale(-0.1)
    >>> state = tx.init({'w': jnp.ones(2)})
    >>> updates, state = tx.update({'w': jnp.ones(2)}, state)
    >>> updates['w']
    Array([-0.1, -0.1], dtype=float32)
  """

  init: TransformInitFn
  update: TransformUpdateFn


class GradientTransformationExtraArgs(GradientTransformation):
  """A :class:`GradientTransformation` whose ``update`` takes keyword extras.

  Extra keyword arguments (a loss value for :func:`gradtx.reduce_on_plateau`,
  say) are passed by :func:`chain` to every member that accepts them.
  """

  update: TransformUpdateExtraArgsFn


class EmptyState(NamedTuple):
  """The state of a transformation that keeps no state."""


def init_empty_state(params: Params) -> EmptyState:
  """An ``init`` for stateless transformations: returns :class:`EmptyState`.

  Args:
    params: ignored.

  Returns:
    ``EmptyState()``.

  Example:
    >>> import gradtx
    >>> gradtx.init_empty_state(None)
    EmptyState()
  """
  del params
  return EmptyState()


# ---------------------------------------------------------------------------
# Elementwise marks: which transformations may run on flat buffers.
# ---------------------------------------------------------------------------
ELEMENTWISE_NAMES = frozenset({
    'identity', 'set_to_zero', 'scale', 'scale_by_schedule', 'clip',
    'clip_by_global_norm', 'scale_by_adam', 'scale_by_adamax',
    'scale_by_amsgrad', 'scale_by_belief', 'scale_by_yogi', 'scale_by_radam',
    'scale_by_rms', 'scale_by_stddev', 'scale_by_rss', 'scale_by_adadelta',
    'trace', 'ema', 'scale_by_sign', 'scale_by_lion', 'add_decayed_weights',
})
"""Names of the gradtx transformations whose result does not depend on how the
elements are grouped into leaves (elementwise rules, and the global norm, a
sum over all elements). :func:`gradtx.fast.fused` runs these on flat buffers;
anything else falls back to the tree path."""


def _mark(update: Callable[..., Any], elementwise: bool) -> Callable[..., Any]:
  """Records on ``update`` whether its transformation is elementwise."""
  update.elementwise = bool(elementwise)
  return update


def is_elementwise(tx: GradientTransformation) -> bool:
  """Whether ``tx`` gives the same result on any regrouping of the elements.

  True for transformations built with ``elementwise=True`` (or named in
  :data:`ELEMENTWISE_NAMES`), and for :func:`chain` of such; False for
  anything unknown.

  Args:
    tx: a gradient transformation.

  Returns:
    A Python bool.

  Example:
    >>> import gradtx
    >>> from gradtx.base import is_elementwise
    >>> is_elementwise(gradtx.adamw(1e-3)), is_elementwise(gradtx.lamb(1e-3))
    (True, False)
  """
  return bool(getattr(getattr(tx, 'update', None), 'elementwise', False))


# ---------------------------------------------------------------------------
# Structure checks shared by every transformation.
# ---------------------------------------------------------------------------
def _as_arrays(tree: Any) -> Any:
  """Python numbers among the leaves become arrays (ints and floats as float).

  Optax code passes updates such as ``{'w': 1}``; an integer Python scalar
  is a value, not a dtype request, so it is promoted to a (weakly typed)
  float. Arrays, ``None`` and bools are left as they are.
  """
  leaves = jax.tree.leaves(tree)
  if not any(type(x) in (int, float, complex) for x in leaves):
    return tree

  def convert(x):
    if type(x) in (int, float):
      return jnp.asarray(float(x))
    if type(x) is complex:
      return jnp.asarray(x)
    return x

  return jax.tree.map(convert, tree)


def _wrap(
    name: str,
    init_fn: Callable[..., OptState],
    update_fn: Callable[..., tuple[Updates, OptState]],
    extra_args: bool = False,
    elementwise: Optional[bool] = None,
) -> GradientTransformation:
  """Builds a transformation whose ``update`` checks its inputs' structure.

  The check runs in plain Python on tree structures (never on values), so it
  costs nothing inside a compiled step and never breaks ``jit``. As in Optax,
  a stateless transformation also accepts any empty state (``None``, ``()``,
  ``{}``, ``EmptyState()``) and returns it unchanged, and Python numbers as update leaves.
  """
  check = _checks.StructureCheck(name, init_fn)
  if elementwise is None:
    elementwise = name in ELEMENTWISE_NAMES

  def run(updates, state, params, extra):
    updates = _as_arrays(updates)
    if params is not None:
      params = _as_arrays(params)
    given = state
    if jax.tree.structure(state).num_leaves == 0:
      expected = check.expected(updates)
      if (expected is not None and expected.num_leaves == 0
          and jax.tree.structure(state) != expected):
        state = expected.unflatten([])
    check(updates, state, params)
    updates, new_state = update_fn(updates, state, params, **extra)
    if given is not state:
      new_state = given  # stateless: hand back what was given.
    return updates, new_state

  if extra_args:

    def update(updates, state, params=None, **extra):
      return run(updates, state, params, extra)

    return GradientTransformationExtraArgs(init_fn, _mark(update, elementwise))

  def update(updates, state, params=None):  # pylint: disable=function-redefined
    return run(updates, state, params, {})

  return GradientTransformation(init_fn, _mark(update, elementwise))


def transformation(
    name: str,
    init_fn: Callable[[Params], OptState],
    update_fn: Callable[..., tuple[Updates, OptState]],
    *,
    elementwise: Optional[bool] = None,
) -> GradientTransformation:
  """Builds a :class:`GradientTransformation` with input checking.

  This is how every transformation in gradtx is made. Use it for your own:
  ``update`` then raises a readable :class:`TypeError` when it receives a
  gradient tree that does not match the state, or the state of another
  transformation.

  Args:
    name: name shown in error messages.
    init_fn: ``init(params) -> state``.
    update_fn: ``update(updates, state, params) -> (updates, state)``.
    elementwise: True when ``update_fn`` gives the same result however the
      elements are grouped into leaves (so :func:`gradtx.fast.fused` may run
      it on flat buffers). None (default): True only for the gradtx names in
      :data:`ELEMENTWISE_NAMES`.

  Returns:
    A :class:`GradientTransformation`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from typing import NamedTuple
    >>> class CountState(NamedTuple):
    ...   count: jax.Array  # int32 scalar
    >>> def init_fn(params):
    ...   return CountState(jnp.zeros([], jnp.int32))
    >>> def update_fn(updates, state, params=None):
    ...   count = state.count + 1
    ...   return jax.tree.map(lambda g: g / count, updates), CountState(count)
    >>> tx = gradtx.transformation('scale_by_inverse_count', init_fn, update_fn)
    >>> state = tx.init(jnp.zeros(2))
    >>> u, state = tx.update(jnp.ones(2), state)
    >>> u, state = tx.update(jnp.ones(2), state)
    >>> u  # u = g / t at step t
    Array([0.5, 0.5], dtype=float32)
  """
  return _wrap(name, init_fn, update_fn, elementwise=elementwise)


def transformation_with_extra_args(
    name: str,
    init_fn: Callable[[Params], OptState],
    update_fn: Callable[..., tuple[Updates, OptState]],
    *,
    elementwise: Optional[bool] = None,
) -> GradientTransformationExtraArgs:
  """Like :func:`transformation`, for an ``update`` taking ``**extra_args``.

  The keyword arguments given to ``update`` (a loss value, say) reach
  ``update_fn``; :func:`chain` hands the same keywords to every member, so
  ``update_fn`` should accept (and ignore) the ones it does not use.

  Args:
    name: name shown in error messages.
    init_fn: ``init(params) -> state``.
    update_fn: ``update(updates, state, params, **extra_args) ->
      (updates, state)``.
    elementwise: as in :func:`transformation`.

  Returns:
    A :class:`GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> def update_fn(updates, state, params=None, *, loss, **extra_args):
    ...   del params, extra_args
    ...   return jax.tree.map(lambda g: g * loss, updates), state
    >>> tx = gradtx.transformation_with_extra_args(
    ...     'scale_by_loss', lambda params: gradtx.EmptyState(), update_fn)
    >>> tx.update(jnp.ones(2), tx.init(None), loss=0.5)[0]
    Array([0.5, 0.5], dtype=float32)
  """
  return _wrap(name, init_fn, update_fn, extra_args=True,
               elementwise=elementwise)


# ---------------------------------------------------------------------------
# Elementary transformations.
# ---------------------------------------------------------------------------
def identity() -> GradientTransformation:
  """Passes updates through unchanged: ``u ← g``.

  Returns:
    A :class:`GradientTransformation` with an :class:`EmptyState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.identity()
    >>> tx.update(jnp.ones(2), tx.init(jnp.ones(2)))[0]
    Array([1., 1.], dtype=float32)
  """
  return transformation(
      'identity', lambda params: EmptyState(), lambda u, s, p=None: (u, s)
  )


def set_to_zero() -> GradientTransformation:
  """Replaces every update with zeros: ``u ← 0``.

  Combined with :func:`gradtx.partition` this freezes parameters.

  Returns:
    A :class:`GradientTransformation` with an :class:`EmptyState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.set_to_zero()
    >>> tx.update(jnp.ones(2), tx.init(jnp.ones(2)))[0]
    Array([0., 0.], dtype=float32)
  """

  def update_fn(updates, state, params=None):
    del params
    return jax.tree.map(jnp.zeros_like, updates), state

  return transformation('set_to_zero', lambda params: EmptyState(), update_fn)


def stateless(
    f: Callable[[Updates, Optional[Params]], Updates],
) -> GradientTransformation:
  """Makes a transformation from a function ``f(updates, params) -> updates``.

  Args:
    f: a function of the whole update tree and the params (which may be None).

  Returns:
    A :class:`GradientTransformation` with an :class:`EmptyState`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> halve = gradtx.stateless(lambda u, p: jax.tree.map(lambda x: x / 2, u))
    >>> halve.update(jnp.ones(2), halve.init(None))[0]
    Array([0.5, 0.5], dtype=float32)
  """

  def update_fn(updates, state, params=None):
    return f(updates, params), state

  return transformation('stateless', lambda params: EmptyState(), update_fn)


def stateless_with_tree_map(
    f: Callable[[jax.Array, Optional[jax.Array]], jax.Array],
) -> GradientTransformation:
  """Makes a transformation from a leaf function ``f(update, param) -> update``.

  Args:
    f: applied to each leaf of the updates, with the matching parameter leaf
      (None when ``update`` is called without params).

  Returns:
    A :class:`GradientTransformation` with an :class:`EmptyState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.stateless_with_tree_map(lambda g, p: 2 * g)
    >>> tx.update(jnp.ones(2), tx.init(None))[0]
    Array([2., 2.], dtype=float32)
  """

  def update_fn(updates, state, params=None):
    if params is None:
      return jax.tree.map(lambda u: f(u, None), updates), state
    return jax.tree.map(f, updates, params), state

  return transformation(
      'stateless_with_tree_map', lambda params: EmptyState(), update_fn
  )


def with_extra_args_support(
    tx: GradientTransformation,
) -> GradientTransformationExtraArgs:
  """Lets ``tx.update`` accept (and ignore) extra keyword arguments.

  Args:
    tx: any transformation; one that already takes extra arguments is
      returned as it is.

  Returns:
    A :class:`GradientTransformationExtraArgs` with ``tx``'s state.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.with_extra_args_support(gradtx.scale(2.0))
    >>> tx.update(jnp.ones(1), tx.init(jnp.ones(1)), loss=3.0)[0]
    Array([2.], dtype=float32)
  """
  if isinstance(tx, GradientTransformationExtraArgs):
    return tx

  def update(updates, state, params=None, **extra_args):
    del extra_args
    return tx.update(updates, state, params)

  return GradientTransformationExtraArgs(
      tx.init, _mark(update, is_elementwise(tx)))


# ---------------------------------------------------------------------------
# Chaining.
# ---------------------------------------------------------------------------
def _chain_update(transforms):
  def update_fn(updates, state, params=None, **extra_args):
    if len(state) != len(transforms):
      raise TypeError(
          f'chain of {len(transforms)} transformations received a state with '
          f'{len(state)} entries. Pass the state returned by this chain\'s '
          'init (or by its previous update).'
      )
    new_state = []
    for tx, s in zip(transforms, state):
      updates, s = tx.update(updates, s, params, **extra_args)
      new_state.append(s)
    return updates, tuple(new_state)

  return update_fn


def chain(*transforms: GradientTransformation) -> GradientTransformationExtraArgs:
  """Applies transformations one after another.

  The state is a tuple holding each member's state in order. Extra keyword
  arguments given to ``update`` reach every member that accepts them.

  Args:
    *transforms: the transformations, applied left to right.

  Returns:
    A :class:`GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.chain(gradtx.clip(1.0), gradtx.scale(-0.5))
    >>> tx.update(jnp.array([4.0, -0.2]), tx.init(jnp.zeros(2)))[0]
    Array([-0.5,  0.1], dtype=float32)
  """
  for i, tx in enumerate(transforms):
    if not (hasattr(tx, 'init') and hasattr(tx, 'update')):
      raise TypeError(
          f'chain expects gradient transformations; argument {i} is '
          f'{type(tx).__name__}: {tx!r}'
      )
  transforms = tuple(with_extra_args_support(t) for t in transforms)

  def init_fn(params):
    return tuple(t.init(params) for t in transforms)

  return GradientTransformationExtraArgs(
      init_fn,
      _mark(_chain_update(transforms), all(map(is_elementwise, transforms))))


def named_chain(
    *transforms: tuple[str, GradientTransformation],
) -> GradientTransformationExtraArgs:
  """Like :func:`chain`, with the state a dict keyed by the given names.

  Args:
    *transforms: ``(name, transformation)`` pairs; names must be unique.

  Returns:
    A :class:`GradientTransformationExtraArgs` whose state maps each name to
    its transformation's state.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.named_chain(('clip', gradtx.clip(1.0)),
    ...                         ('lr', gradtx.scale(-0.1)))
    >>> sorted(tx.init(jnp.zeros(2)))
    ['clip', 'lr']
  """
  names = [n for n, _ in transforms]
  if len(set(names)) != len(names):
    raise ValueError(f'named_chain names must be unique, got {names}')
  txs = {n: with_extra_args_support(t) for n, t in transforms}

  def init_fn(params):
    return {n: t.init(params) for n, t in txs.items()}

  def update_fn(updates, state, params=None, **extra_args):
    if not isinstance(state, dict) or set(state) != set(names):
      got = sorted(state) if isinstance(state, dict) else type(state).__name__
      raise TypeError(
          f'named_chain with names {names} received a state with keys {got}.'
      )
    new_state = {}
    for n, t in txs.items():
      updates, new_state[n] = t.update(updates, state[n], params, **extra_args)
    return updates, new_state

  return GradientTransformationExtraArgs(
      init_fn, _mark(update_fn, all(map(is_elementwise, txs.values()))))
