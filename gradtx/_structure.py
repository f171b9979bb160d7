"""Matching a mask or label tree against the params, with errors naming paths.

Masks and label trees may be a *prefix* of the params: a leaf of the mask
covers the whole subtree of the params under the same path. When the two do
not line up, the error names the first path where they part and the keys
found on each side, so that a user sees at once which name is misspelt.
"""

from __future__ import annotations

from typing import Any, Optional

import jax

from gradtx import tree as tu


class TreeMismatchError(TypeError, ValueError):
  """A mask or label tree that does not match the params.

  It is both a :class:`TypeError` (a structure mismatch, like the ones raised
  by ``update``) and a :class:`ValueError` (a bad argument).
  """


def _is_leaf(node: Any) -> bool:
  return jax.tree_util.treedef_is_leaf(jax.tree.structure(node))


def _children(node: Any) -> list[tuple[str, Any]]:
  """One level of ``(key name, child)`` pairs of a pytree node."""
  flat = jax.tree_util.tree_flatten_with_path(node, is_leaf=lambda x: x is not node)[0]
  return [(tu.path_to_str(p), c) for p, c in flat]


def _node_kind(node: Any) -> str:
  return type(node).__name__


def find_mismatch(prefix: Any, full: Any, path: tuple[str, ...] = ()) -> Optional[tuple[str, str]]:
  """The first place where ``prefix`` is not a tree prefix of ``full``.

  Returns:
    None when ``prefix`` is a prefix of ``full``; otherwise ``(path, detail)``
    with ``path`` a ``'a/b'`` string (``'<root>'`` for the root).
  """
  where = '/'.join(path) or '<root>'
  if _is_leaf(prefix) and prefix is not None:
    return None
  if _is_leaf(full):
    if prefix is None and full is None:
      return None
    return where, (
        f'a {_node_kind(prefix)} node, where the params have a leaf '
        f'({_node_kind(full)})'
    )
  if type(prefix) is not type(full):  # pylint: disable=unidiomatic-typecheck
    return where, (
        f'a {_node_kind(prefix)} node, where the params have a '
        f'{_node_kind(full)} node'
    )
  a, b = _children(prefix), _children(full)
  ka, kb = [k for k, _ in a], [k for k, _ in b]
  if ka != kb:
    only_a = [k for k in ka if k not in kb]
    only_b = [k for k in kb if k not in ka]
    detail = f'keys {ka}, where the params have keys {kb}'
    if only_a or only_b:
      detail += f' (only in it: {only_a}; only in the params: {only_b})'
    return where, detail
  for (k, ca), (_, cb) in zip(a, b):
    found = find_mismatch(ca, cb, path + (k,))
    if found is not None:
      return found
  return None


def check_prefix(prefix: Any, full: Any, *, what: str, owner: str, against: str = 'params') -> None:
  """Raises :class:`TreeMismatchError` unless ``prefix`` is a prefix of ``full``.

  Args:
    prefix: the mask or label tree.
    full: the params (or updates).
    what: the argument's name in messages, e.g. ``'mask'``.
    owner: the wrapper's name, e.g. ``'masked'``.
    against: what ``full`` is, in messages.
  """
  found = find_mismatch(prefix, full)
  if found is None:
    return
  where, detail = found
  detail = detail.replace('the params', f'the {against}')
  raise TreeMismatchError(
      f'{owner}: the {what} tree does not match the {against} at path '
      f"'{where}': the {what} has {detail}. The {what} must have the "
      f'structure of the {against} (or of a prefix of it), with one '
      f'{"boolean" if what == "mask" else "label"} per leaf.'
  )


def leaves_with_paths(tree: Any) -> list[tuple[str, Any]]:
  """``(path string, leaf)`` for every leaf of ``tree``."""
  return [
      (tu.path_to_str(p) or '<root>', x)
      for p, x in jax.tree_util.tree_flatten_with_path(tree)[0]
  ]
