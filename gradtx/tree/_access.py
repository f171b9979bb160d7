"""Finding, reading and replacing parts of a pytree by name or by path."""

from __future__ import annotations

import builtins
import dataclasses
from typing import Any, Callable, Optional, Sequence

import jax
import jax.numpy as jnp

Tree = Any
KeyPath = tuple


@dataclasses.dataclass(frozen=True)
class NamedTupleKey:
  """The key of a named-tuple field in the paths of :func:`get_all_with_path`.

  JAX names a named-tuple field with a ``GetAttrKey``; the paths given to
  the ``filtering`` functions of :func:`get_all_with_path`, :func:`get` and
  :func:`set` use this key instead, as Optax does, so that a filter can ask
  which named tuple the field belongs to.

  Attributes:
    tuple_name: the class name of the named tuple (``'ScaleByAdamState'``).
    name: the field name (``'mu'``).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> state = gradtx.adam(1e-3).init({'w': jnp.zeros(2)})
    >>> path, _ = gradtx.tree.get_all_with_path(state, 'mu')[0]
    >>> path[-1], str(path[-1])
    (NamedTupleKey(tuple_name='ScaleByAdamState', name='mu'), 'ScaleByAdamState.mu')
  """

  tuple_name: str
  name: str

  def __str__(self) -> str:
    return f'{self.tuple_name}.{self.name}'


def _children_with_path(node: Any) -> list:
  """``[(key_path, child)]`` one level down; named-tuple fields get a
  :class:`NamedTupleKey`."""
  children = jax.tree_util.tree_flatten_with_path(
      node, is_leaf=lambda x: x is not node)[0]
  if isinstance(node, tuple) and hasattr(node, '_fields'):
    name = type(node).__name__
    children = [
        ((NamedTupleKey(name, p[0].name),) + tuple(p[1:])
         if isinstance(p[0], jax.tree_util.GetAttrKey) else p, c)
        for p, c in children]
  return children


def _key_name(key: Any) -> str:
  for attr in ('key', 'name', 'idx'):
    if hasattr(key, attr):
      return str(getattr(key, attr))
  return str(key)


def path_to_str(path: KeyPath, sep: str = '/') -> str:
  """Formats a JAX key path as ``'encoder/layer_0/kernel'``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> paths = jax.tree_util.tree_flatten_with_path({'a': {'b': 1}})[0]
    >>> gradtx.tree.path_to_str(paths[0][0])
    'a/b'
  """
  return sep.join(_key_name(k) for k in path)


def paths(tree: Tree, sep: str = '/', is_leaf: Optional[Callable[[Any], bool]] = None) -> Tree:
  """A tree of the same structure whose leaves are their own path strings."""
  return jax.tree_util.tree_map_with_path(
      lambda p, _: path_to_str(p, sep), tree, is_leaf=is_leaf
  )


def get_all_with_path(
    tree: Tree,
    key: Any,
    filtering: Optional[Callable[[KeyPath, Any], bool]] = None,
) -> list[tuple[KeyPath, Any]]:
  """Every ``(path, subtree)`` in ``tree`` whose last key is named ``key``.

  Named tuples are matched by field name, dicts by key, and a named tuple
  is also matched by its class name (``'ScaleByAdamState'``), as in Optax.
  ``filtering(path, value) -> bool``, when given, keeps only some of the matches (e.g.
  ``lambda path, value: isinstance(value, jax.Array)``); ``path`` is a JAX
  key path where named-tuple fields appear as :class:`NamedTupleKey`, as
  in Optax.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> state = gradtx.adam(1e-3).init({'w': jnp.zeros(2)})
    >>> [gradtx.tree.path_to_str(p) for p, _ in gradtx.tree.get_all_with_path(state, 'count')]
    ['0/count']
  """
  found = []

  def visit(path, node):
    if (path and _key_name(path[-1]) == str(key)) or _is_named_tuple_called(node, key):
      found.append((path, node))
      return
    children = _children_with_path(node) if not _is_leaf(node) else []
    for p, child in children:
      visit(path + p, child)

  visit((), tree)
  if filtering is not None:
    found = [(p, v) for p, v in found if filtering(p, v)]
  return found


def _is_named_tuple_called(node: Any, key: Any) -> bool:
  return (isinstance(node, tuple) and hasattr(node, '_fields')
          and type(node).__name__ == str(key))


def _is_leaf(node):
  leaves, treedef = jax.tree.flatten(node)
  return treedef.num_nodes == 1


def get(
    tree: Tree,
    key: Any,
    default: Any = None,
    filtering: Optional[Callable[[KeyPath, Any], bool]] = None,
) -> Any:
  """The unique subtree whose last key is ``key``; ``default`` if none.

  ``filtering`` selects among several matches, as in :func:`get_all_with_path`.

  Raises:
    KeyError: if ``key`` appears more than once; the paths are listed.
  """
  found = get_all_with_path(tree, key, filtering)
  if not found:
    return default
  if len(found) > 1:
    raise KeyError(
        f'{key!r} appears {len(found)} times in the tree, at '
        f'{[path_to_str(p) for p, _ in found]}; use get_by_path.'
    )
  return found[0][1]


def get_by_path(tree: Tree, path: Sequence[Any]) -> Any:
  """The subtree at a path of key names, e.g. ``('encoder', 'kernel')``."""
  if isinstance(path, str):
    path = tuple(path.split('/'))
  node = tree
  for i, name in enumerate(path):
    children = dict(
        (_key_name(p[0]), c)
        for p, c in jax.tree_util.tree_flatten_with_path(
            node, is_leaf=lambda x: x is not node
        )[0]
    ) if not _is_leaf(node) else {}
    if str(name) not in children:
      raise KeyError(
          f'no key {name!r} at {"/".join(map(str, path[:i])) or "the root"}; '
          f'available: {sorted(children)}'
      )
    node = children[str(name)]
  return node


def set(  # pylint: disable=redefined-builtin
    tree: Tree,
    filtering: Optional[Callable[[KeyPath, Any], bool]] = None,
    /,
    **values: Any,
) -> Tree:
  """Returns a copy of ``tree`` where every subtree named ``k`` is ``values[k]``.

  ``filtering(path, value) -> bool``, when given, restricts the replacement
  to the matches it accepts, as in :func:`get_all_with_path`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> s = gradtx.tree.set({'lr': jnp.array(1.0), 'x': 2}, lr=jnp.array(0.5))
    >>> float(s['lr'])
    0.5
  """
  missing = [k for k in values if not get_all_with_path(tree, k, filtering)]
  if missing:
    raise KeyError(
        f'keys {missing} do not appear in the tree'
        + (' (among the values accepted by `filtering`)' if filtering else '')
    )
  targets = {
      tuple(p): v for k, v in values.items()
      for p, _ in get_all_with_path(tree, k, filtering)
  }
  return _map_subtrees(
      tree, lambda p: tuple(p) in targets, lambda p, n: targets[tuple(p)]
  )


def set_by_path(tree: Tree, path: Sequence[Any], value: Any) -> Tree:
  """Returns a copy of ``tree`` with the subtree at ``path`` replaced."""
  if isinstance(path, str):
    path = tuple(path.split('/'))
  get_by_path(tree, path)  # raises a helpful KeyError when absent
  target = tuple(str(p) for p in path)
  return _map_subtrees(
      tree,
      lambda p: tuple(_key_name(k) for k in p) == target,
      lambda p, n: value,
  )


def _map_subtrees(tree, is_target, fn):
  def rec(path, node):
    if is_target(path):
      return fn(path, node)
    if _is_leaf(node):
      return node
    children = _children_with_path(node)
    new = [rec(path + p, c) for p, c in children]
    return jax.tree.unflatten(jax.tree.structure(node, is_leaf=lambda x: x is not node), new)

  return rec((), tree)


def map_params(
    initable: Any,
    f: Callable[[Any], Any],
    state: Tree,
    /,
    *rest: Tree,
    is_leaf: Optional[Callable[[Any], bool]] = None,
    transform_non_params: Optional[Callable[[Any], Any]] = None,
) -> Tree:
  """Maps ``f`` over the parts of an optimizer state shaped like the params.

  This is how to shard or cast the moment buffers of a state without touching
  its counters. The positions that mirror the params are found by building,
  with :func:`jax.eval_shape` (no FLOPs), the state of ``initable`` for a
  single placeholder parameter of a distinctive shape. Optimizers whose
  ``init`` needs the real tree structure (:func:`gradtx.masked`,
  :func:`gradtx.partition`, :func:`gradtx.param_groups`, with a mask or label
  tree) are probed instead with a params tree recovered from the state
  itself: a subtree of the state whose ``init`` rebuilds exactly the state's
  structure.

  Args:
    initable: a transformation or its ``init`` function.
    f: applied to each state leaf that mirrors a parameter.
    state: the state to map over.
    *rest: more trees shaped like the params (e.g. their partition specs),
      passed to ``f`` as extra arguments: ``f(state_leaf, *rest_leaves)``.
      When ``init`` needs the params' structure, theirs is tried first.
    is_leaf: passed to the tree traversal of the param-shaped subtrees.
    transform_non_params: optional function for every other leaf.

  Returns:
    The mapped state.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.adam(1e-3)
    >>> state = opt.init({'w': jnp.zeros(3)})
    >>> half = gradtx.tree.map_params(opt, lambda x: x.astype(jnp.bfloat16), state)
    >>> half[0].mu['w'].dtype, half[0].count.dtype
    (dtype(bfloat16), dtype('int32'))
  """
  init = getattr(initable, 'init', initable)
  marker_shape = (7, 11, 13)
  try:
    probe = jax.eval_shape(init, jax.ShapeDtypeStruct(marker_shape, 'float32'))
    probe_leaves, probe_def = jax.tree.flatten(probe)
    subtrees = probe_def.flatten_up_to(state)
  except Exception as e:  # pylint: disable=broad-except
    return _map_params_by_search(
        init, f, state, rest, is_leaf, transform_non_params, e)
  # Masked-out params leave an empty node (MaskedNode()) in the state where
  # ``rest`` has a leaf: such nodes are kept as they are.
  def user_leaf(x):
    return is_leaf is not None and is_leaf(x)

  def apply(x, *r):
    return x if _is_empty_node(x) and not user_leaf(x) else f(x, *r)

  new = []
  for p, sub in zip(probe_leaves, subtrees):
    if getattr(p, 'shape', None) == marker_shape:
      new.append(jax.tree.map(
          apply, sub, *rest,
          is_leaf=lambda x: user_leaf(x) or _is_empty_node(x)))
    elif transform_non_params is not None:
      new.append(jax.tree.map(transform_non_params, sub, is_leaf=is_leaf))
    else:
      new.append(sub)
  return probe_def.unflatten(new)


def _children(x: Any) -> list:
  """The direct children of a pytree node (``[]`` for a leaf)."""
  kids, _ = jax.tree.flatten(x, is_leaf=lambda y: y is not x)
  return [] if len(kids) == 1 and kids[0] is x else kids


def _is_empty_node(x: Any) -> bool:
  """A node with no children that is not None (``MaskedNode()``, ``{}``)."""
  if x is None:
    return False
  treedef = jax.tree.structure(x)
  return treedef.num_leaves == 0 and treedef.num_nodes == 1


def _param_candidates(state: Any, limit: int = 64) -> list:
  """Params-like trees read off the subtrees of ``state``, largest first.

  A subtree of a state that mirrors the params may hold ``MaskedNode()``
  where a param is masked out; each such empty node is read as a param leaf
  (and, in a second candidate, kept as it is).
  """
  seen, out, stack = builtins.set(), [], [state]
  while stack:
    x = stack.pop()
    stack.extend(_children(x))
    for empty_is_param in (True, False):
      leaf_test = _is_empty_node if empty_is_param else (lambda y: False)
      leaves, cand_def = jax.tree.flatten(x, is_leaf=leaf_test)
      if cand_def.num_leaves == 0 or cand_def in seen:
        continue
      seen.add(cand_def)
      out.append((cand_def, leaves))
  out.sort(key=lambda c: -c[0].num_leaves)
  return out[:limit]


def _rank4_markers(cand_leaves):
  """A distinctive rank-4 shape per param leaf, as the single probe uses."""
  return [(7, 11, 13, i + 1) for i in range(len(cand_leaves))]


def _rank_preserving_markers(cand_leaves):
  """``(1009 + i,) * rank`` per param leaf, for states whose structure
  depends on the params' ranks (SM3 keeps one accumulator per dimension).
  Scalar params get no marker (they cannot be told from counters)."""
  return [(1009 + i,) * jnp.ndim(x) if jnp.ndim(x) else None
          for i, x in enumerate(cand_leaves)]


def _map_params_by_search(init, f, state, rest, is_leaf, transform_non_params,
                          error):
  """:func:`map_params` for an ``init`` that needs the params' structure."""
  state_leaves, state_def = jax.tree.flatten(state, is_leaf=is_leaf)
  candidates = _param_candidates(state)
  if rest:  # The extra trees show the params' structure: try it first.
    leaves, treedef = jax.tree.flatten(rest[0], is_leaf=is_leaf)
    candidates.insert(0, (treedef, leaves))
  for marker_fn in (_rank4_markers, _rank_preserving_markers):
    for cand_def, cand_leaves in candidates:
      try:
        shapes = marker_fn(cand_leaves)
      except TypeError:  # leaves of ``rest`` that have no rank
        continue
      index = {s: i for i, s in enumerate(shapes) if s is not None}
      markers = [jax.ShapeDtypeStruct(s if s is not None else (), 'float32')
                 for s in shapes]
      try:
        probe = jax.eval_shape(init, cand_def.unflatten(markers))
      except Exception:  # pylint: disable=broad-except
        continue
      probe_leaves, probe_def = jax.tree.flatten(probe, is_leaf=is_leaf)
      if probe_def != state_def:
        continue
      try:  # The extra trees (labels, ...) have the params' structure.
        rest_leaves = [cand_def.flatten_up_to(r) for r in rest]
      except (ValueError, TypeError):
        continue
      new = []
      for p, x in zip(probe_leaves, state_leaves):
        i = index.get(getattr(p, 'shape', None)) if isinstance(
            p, jax.ShapeDtypeStruct) else None
        if i is not None:
          new.append(f(x, *[r[i] for r in rest_leaves]))
        elif transform_non_params is not None:
          new.append(transform_non_params(x))
        else:
          new.append(x)
      return state_def.unflatten(new)
  raise ValueError(
      'map_params could not find which parts of the state mirror the params: '
      'init fails on a single placeholder parameter '
      f'({type(error).__name__}: {error}) and no subtree of the state '
      'rebuilds the state when given to init.') from error
