"""The layout of a state: its leaves' paths, node classes, shapes and dtypes.

Two states fit each other when their layouts are equal. The layout is a flat
list of entries, one per leaf (or per ``None`` and per empty node such as
``EmptyState()``, which have no leaves but are part of the structure), so that
the first entry where two layouts part names the first path where the states
differ. Values are never part of the layout.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Sequence

import jax
import numpy as np


class Entry(NamedTuple):
  """One leaf (or ``None``, or empty node) of a tree."""

  keys: tuple[str, ...]  # keystr of each key from the root, e.g. ('[0]', '.mu', "['b']").
  nodes: tuple[str, ...]  # class name of each node from the root to the leaf's parent.
  what: str  # 'float32[4,5]', 'key<fry>[]', 'None' or 'empty EmptyState'.

  @property
  def path(self) -> str:
    return ''.join(self.keys)

  def to_json(self) -> list:
    return [list(self.keys), list(self.nodes), self.what]

  @classmethod
  def from_json(cls, obj: Sequence[Any]) -> 'Entry':
    keys, nodes, what = obj
    return cls(tuple(keys), tuple(nodes), what)


def _is_leaf(node: Any) -> bool:
  return jax.tree_util.treedef_is_leaf(jax.tree.structure(node))


def dtype_of(leaf: Any) -> Any:
  """The dtype of an array-like leaf, canonicalised as JAX stores it."""
  dtype = getattr(leaf, 'dtype', None)
  if dtype is None:
    dtype = np.result_type(leaf)
  if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
    return dtype
  return jax.dtypes.canonicalize_dtype(dtype)


def describe_leaf(leaf: Any) -> str:
  """``'float32[4,5]'`` for an array, a ShapeDtypeStruct or a number."""
  try:
    dtype = dtype_of(leaf)
  except TypeError:
    return f'a {type(leaf).__name__} object'
  shape = ','.join(str(d) for d in np.shape(leaf)) if not hasattr(
      leaf, 'shape') else ','.join(str(d) for d in leaf.shape)
  return f'{dtype}[{shape}]'


def layout(tree: Any) -> list[Entry]:
  """The entries of ``tree`` in flattening order."""
  out: list[Entry] = []

  def walk(node, keys, nodes):
    if node is None:
      out.append(Entry(keys, nodes, 'None'))
      return
    if _is_leaf(node):
      out.append(Entry(keys, nodes, describe_leaf(node)))
      return
    children = jax.tree_util.tree_flatten_with_path(
        node, is_leaf=lambda x: x is not node)[0]
    name = type(node).__name__
    if not children:
      out.append(Entry(keys, nodes + (name,), f'empty {name}'))
      return
    for path, child in children:
      walk(child, keys + (jax.tree_util.keystr(path),), nodes + (name,))

  walk(tree, (), ())
  return out


def _hint(e: Entry, g: Entry) -> str:
  ed, gd = e.what.split('[')[0], g.what.split('[')[0]
  if ed != gd and e.what.endswith(']') and g.what.endswith(']'):
    return ('a dtype changed: was mu_dtype / nu_dtype / accumulator_dtype '
            "or the params' dtype changed?")
  return ('a shape changed: the params differ from the ones the state was '
          'made for')


def first_difference(
    expected: Sequence[Entry],
    got: Sequence[Entry],
    expected_name: str,
    got_name: str,
    root: str = 'state',
) -> Optional[str]:
  """A message naming the first path where two layouts differ, or None."""
  width = max(len(expected_name), len(got_name)) + 1
  expected_name = f'{expected_name}:'.ljust(width)
  got_name = f'{got_name}:'.ljust(width)
  for i in range(max(len(expected), len(got))):
    e = expected[i] if i < len(expected) else None
    g = got[i] if i < len(got) else None
    if e == g:
      continue
    if e is not None and g is not None and e.keys == g.keys and e.nodes == g.nodes:
      return (f'first difference at {root}{e.path}:\n'
              f'  {expected_name} {e.what}\n'
              f'  {got_name} {g.what}\n'
              f'({_hint(e, g)})')
    if e is not None and g is not None:
      depth = min(len(e.nodes), len(g.nodes))
      for j in range(depth):
        if e.nodes[j] != g.nodes[j] and e.keys[:j] == g.keys[:j]:
          where = root + ''.join(e.keys[:j])
          return (f'first difference at {where}:\n'
                  f'  {expected_name} a {e.nodes[j]}\n'
                  f'  {got_name} a {g.nodes[j]}\n'
                  '(the state was made by another optimizer or '
                  'transformation)')
        if e.keys[j:j + 1] != g.keys[j:j + 1]:
          break
    got_paths = {x.path for x in got}
    expected_paths = {x.path for x in expected}
    if e is not None and e.path not in got_paths:
      return (f'first difference at {root}{e.path}:\n'
              f'  {expected_name} {e.what}\n'
              f'  {got_name} nothing at this path\n'
              '(a parameter was added or renamed, or the state was made by '
              'another optimizer)')
    if g is not None and g.path not in expected_paths:
      return (f'first difference at {root}{g.path}:\n'
              f'  {expected_name} nothing at this path\n'
              f'  {got_name} {g.what}\n'
              '(a parameter was removed or renamed, or the state was made by '
              'another optimizer)')
    # Same paths in another order or with other classes further down.
    e_desc = f'{root}{e.path} ({e.what})' if e else 'nothing'
    g_desc = f'{root}{g.path} ({g.what})' if g else 'nothing'
    return (f'first difference at entry {i}:\n'
            f'  {expected_name} {e_desc}\n'
            f'  {got_name} {g_desc}')
  return None
