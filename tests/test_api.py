"""The public surface: every name is tested, documented and listed once.

Each check fails (it does not print) when:

* a public name that builds a gradient transformation is called by no case
  of the battery (``tests/cases``) and has no entry in ``NO_BATTERY_CASE``;
* a public name has no docstring;
* a subpackage face's ``__all__`` differs from the names its ``__init__``
  imports or defines;
* a name in ``__all__`` appears nowhere in ``docs/*.md``.

Exemptions are explicit dicts, each with its reason.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pathlib
import re

import pytest

import gradtx
from tests.cases import all_cases

ROOT = pathlib.Path(__file__).resolve().parents[1]

FACES = [
    'gradtx.mixed_precision', 'gradtx.optimizers', 'gradtx.schedules',
    'gradtx.stateful_schedules', 'gradtx.transforms', 'gradtx.tree',
    'gradtx.wrappers',
]

# Public names that build a transformation but have no battery case.
NO_BATTERY_CASE = {
    'scale_by_backtracking_linesearch': 'needs value_fn and value/grad extra '
        'arguments the battery cannot pass; tests/test_linesearch.py compares '
        'it with Optax',
    'scale_by_zoom_linesearch': 'needs value_fn and value/grad extra '
        'arguments; tests/test_zoom_linesearch.py compares it with Optax',
    'transformation_with_extra_args': 'the same builder for an update with '
                                      'keyword extras; tests/test_base.py',
    'lookahead': 'its params and updates are LookaheadParams, not the '
                 "battery's tree; tests/test_lookahead_flatten_monitor.py "
                 'compares it with Optax',
    'param_groups': 'PyTorch param groups select params by path patterns of '
                    "a given tree, not the battery's; tests/test_param_groups"
                    '.py compares it with torch.optim',
    'stateless': 'a builder for user functions; tests/test_base.py',
    'stateless_with_tree_map': 'a builder for user leaf functions; '
                               'tests/test_base.py',
    'with_extra_args_support': 'an adapter that changes no number; '
                               'tests/test_base.py',
    'named_chain': 'chain with a dict state; tests/test_base.py and '
                   'tests/test_inject.py',
    'freeze': 'tests/test_masking_partition.py compares it with Optax',
    'selective_transform': 'tests/test_masking_partition.py compares it with '
                           'Optax',
    'monitor': "Optax's monitor changes its state structure on the first "
               'update (an empty dict at init), so it cannot be an oracle '
               'under scan; tests/test_lookahead_flatten_monitor.py checks '
               'it by hand',
    'snapshot': 'tests/test_lookahead_flatten_monitor.py',
    'inject_stateful_hyperparams': 'tests/test_inject.py (Optax parity with '
                                   'a stateful schedule)',
}

# Public names without a docstring of their own.
NO_DOCSTRING = {
    'MaskOrFn': 'a typing alias (Union), which cannot carry a docstring; '
                'documented in docs/wrappers.md',
    'ScalarOrSchedule': 'a typing alias; documented in docs/concepts.md',
    'Schedule': 'a typing alias; documented in docs/concepts.md',
    'Params': 'a typing alias (Any); documented in docs/concepts.md',
    'Updates': 'a typing alias (Any); documented in docs/concepts.md',
    'OptState': 'a typing alias (Any); documented in docs/concepts.md',
    'LossScale': 'a typing alias (Union of the loss-scale classes); '
                 'documented in docs/api.md',
}

# Names in __all__ that the docs need not mention.
NOT_IN_DOCS: dict[str, str] = {}


def _public(module) -> list[tuple[str, object]]:
  return [(n, getattr(module, n)) for n in module.__all__]


def _builds_transformation(obj) -> bool:
  if inspect.isclass(obj):
    return hasattr(obj, 'gradient_transformation')
  if not callable(obj):
    return False
  try:
    annotation = inspect.signature(obj).return_annotation
  except (TypeError, ValueError):
    return False
  return 'GradientTransformation' in str(annotation)


@functools.lru_cache(maxsize=None)
def _names_called_by_cases() -> frozenset:
  """The top-level names each case's ``make`` calls (recorded by wrapping)."""
  called = set()
  originals = {n: o for n, o in _public(gradtx)
               if callable(o) and not inspect.ismodule(o)}

  def recording(name, fn):
    if inspect.isclass(fn):
      def make(*args, **kwargs):
        called.add(name)
        return fn(*args, **kwargs)
      return make

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
      called.add(name)
      return fn(*args, **kwargs)
    return wrapper

  try:
    for name, fn in originals.items():
      setattr(gradtx, name, recording(name, fn))
    for case in all_cases():
      case.make(0.1)
  finally:
    for name, fn in originals.items():
      setattr(gradtx, name, fn)
  return frozenset(called)


def test_every_transformation_builder_has_a_battery_case():
  builders = {n for n, o in _public(gradtx) if _builds_transformation(o)}
  assert len(builders) > 50, 'the detection of builders is broken'
  missing = sorted(builders - _names_called_by_cases() - set(NO_BATTERY_CASE))
  assert not missing, (
      f'public transformations with no battery case: {missing}. Add a line '
      'to a tests/cases module (see CONTRIBUTING.md) or an exemption with '
      'its reason to NO_BATTERY_CASE.')


def test_exemptions_are_still_needed():
  stale = sorted(n for n in NO_BATTERY_CASE
                 if n in _names_called_by_cases() or n not in gradtx.__all__)
  assert not stale, f'NO_BATTERY_CASE lists covered or unknown names: {stale}'
  stale = sorted(n for n in {**NO_DOCSTRING, **NOT_IN_DOCS}
                 if n not in gradtx.__all__)
  assert not stale, f'exemptions name non-public names: {stale}'


@pytest.mark.parametrize('module', ['gradtx'] + FACES + ['gradtx.tree_utils'])
def test_every_public_name_has_a_docstring(module):
  mod = importlib.import_module(module)
  missing = []
  for name, obj in _public(mod):
    if name in NO_DOCSTRING or inspect.ismodule(obj):
      continue
    doc = inspect.getdoc(obj) if (inspect.isclass(obj) or callable(obj)) else None
    if getattr(obj, '__module__', None) == 'typing':
      doc = None  # typing's own docstring says nothing about this name
    if not doc or not doc.strip():
      missing.append(name)
  assert not missing, f'{module}: public names without a docstring: {missing}'


def _face_names(module: str) -> set[str]:
  """Public names a face's source imports or defines at module level."""
  path = pathlib.Path(importlib.import_module(module).__file__)
  tree = ast.parse(path.read_text())
  names = set()
  for node in tree.body:
    if isinstance(node, ast.ImportFrom) and node.module != '__future__':
      names.update(a.asname or a.name for a in node.names)
    elif isinstance(node, ast.Import):
      names.update(a.asname or a.name.split('.')[0] for a in node.names)
    elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
      names.add(node.name)
    elif isinstance(node, ast.Assign):
      names.update(t.id for t in node.targets if isinstance(t, ast.Name))
  return {n for n in names if not n.startswith('_') and n != '__all__'}


@pytest.mark.parametrize('module', FACES)
def test_face_all_matches_its_imports(module):
  mod = importlib.import_module(module)
  listed = list(mod.__all__)
  assert len(listed) == len(set(listed)), f'{module}.__all__ repeats names'
  imported = _face_names(module)
  assert set(listed) == imported, (
      f'{module}: __all__ and the imports disagree.\n'
      f'  imported, not in __all__: {sorted(imported - set(listed))}\n'
      f'  in __all__, not imported: {sorted(set(listed) - imported)}')
  assert all(hasattr(mod, n) for n in listed)


def test_top_level_gathers_every_face():
  """``gradtx.__all__`` is the union of the faces (less the face-only tools)."""
  faces = set()
  for module in FACES:
    if module != 'gradtx.tree':
      faces.update(importlib.import_module(module).__all__)
  face_only = set(gradtx._FACE_ONLY)  # pylint: disable=protected-access
  assert faces - face_only <= set(gradtx.__all__)
  assert all(hasattr(gradtx, n) for n in gradtx.__all__)


def test_tree_utils_spells_every_tree_helper_the_optax_way():
  from gradtx import tree_utils  # pylint: disable=import-outside-toplevel
  for name in tree_utils.__all__:
    assert hasattr(tree_utils, name)
  # The Optax spelling of each gradtx.tree helper Optax has.
  for name in ('batch_shape', 'clip', 'conj', 'real', 'dtype', 'max', 'min',
               'random_like', 'split_key_like', 'unwrap_random_key_data'):
    assert getattr(tree_utils, f'tree_{name}') is getattr(gradtx.tree, name)


def _docs_text() -> str:
  return '\n'.join(p.read_text() for p in sorted((ROOT / 'docs').glob('*.md')))


@pytest.mark.parametrize('module', ['gradtx', 'gradtx.tree'])
def test_every_public_name_is_mentioned_in_the_docs(module):
  text = _docs_text()
  mod = importlib.import_module(module)
  missing = [n for n in mod.__all__ if n not in NOT_IN_DOCS
             and not re.search(rf'(?<![\w]){re.escape(n)}(?![\w])', text)]
  assert not missing, (
      f'{module}: public names the docs never mention: {missing}. Document '
      'them (docs/api.md lists every name) or exempt them in NOT_IN_DOCS.')
