"""Writes one API page per public gradtx name before Sphinx reads the sources.

The list of names is never kept by hand: it is the union of the ``__all__`` of
``gradtx`` and of every subpackage or module under it that declares one. Each
object gets one page, under the first public name that reaches it (the top
level first). The pages are grouped by the subpackage that defines them: one
group page per subpackage lists its names with their one-line summaries, and
``api/index`` lists the groups. ``missing_pages()`` is what the test suite
uses to fail when a public name has no page.

Only the group pages enter the site's table of contents; the name pages are
marked ``orphan`` and reached through their group. The theme renders the whole
table of contents into every page's sidebar, so putting ~500 name pages in it
made the build quadratic (four of its five minutes went to the sidebar).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from typing import Any

import gradtx

_OUT = 'api'

# Section titles for the defining subpackage (the module path under gradtx).
_SECTIONS = {
    'base': 'Core: the transformation protocol',
    'updates': 'Core: applying updates',
    'numerics': 'Core: numerics',
    'transforms': 'Transformations',
    'optimizers': 'Optimizers',
    'wrappers': 'Wrappers and parameter groups',
    'schedules': 'Schedules',
    'stateful_schedules': 'Stateful schedules and injected hyperparameters',
    'mixed_precision': 'Mixed precision',
    'tree': 'Tree arithmetic (gradtx.tree)',
    'losses': 'Losses',
    'projections': 'Projections',
    'contrib': 'Contributed optimizers (gradtx.contrib)',
    'compat': 'Framework-exact recipes (gradtx.compat)',
    'checkpoint': 'Checkpointing',
    'distributed': 'Distributed training',
    'fast': 'Fast path',
}


def namespaces() -> list[Any]:
  """``gradtx`` and every module under it with an ``__all__``, top first."""
  found = [gradtx]
  for info in pkgutil.walk_packages(gradtx.__path__, 'gradtx.'):
    if any(part.startswith('_') for part in info.name.split('.')):
      continue
    if info.name == 'gradtx.__main__':
      continue
    try:
      module = importlib.import_module(info.name)
    except ImportError:  # an optional extra (e.g. orbax) is not installed
      continue
    if hasattr(module, '__all__'):
      found.append(module)
  return found


def public_objects() -> dict[str, Any]:
  """``{page name: object}``: one entry per distinct public object."""
  pages, seen = {}, {}
  for ns in namespaces():
    for name in ns.__all__:
      obj = getattr(ns, name)
      if inspect.ismodule(obj):
        continue
      key = id(obj) if (inspect.isfunction(obj) or inspect.isclass(obj)) else (
          ns.__name__, name)
      if key in seen:
        continue
      qual = f'{ns.__name__}.{name}'
      seen[key] = qual
      pages[qual] = obj
  return pages


def _section(obj: Any, qual: str) -> str:
  module = getattr(obj, '__module__', None) or qual.rsplit('.', 1)[0]
  if not str(module).startswith('gradtx'):
    module = qual.rsplit('.', 1)[0]
  parts = str(module).split('.')
  key = parts[1].lstrip('_') if len(parts) > 1 else 'base'
  if key in ('leafwise', 'masking', 'structure', 'checks', 'hyper'):
    key = 'wrappers' if key in ('masking', 'structure') else 'base'
  return key if key in _SECTIONS else 'base'


def _directive(obj: Any, qual: str) -> str:
  if inspect.isclass(obj):
    return f'.. autoclass:: {qual}\n   :members:\n   :show-inheritance:'
  if inspect.isfunction(obj) or callable(obj):
    return f'.. autofunction:: {qual}'
  return f'.. autodata:: {qual}\n   :annotation:'


def _summary(obj: Any) -> str:
  """The first sentence line of a docstring, for the group pages."""
  doc = inspect.getdoc(obj) or ''
  first = doc.strip().split('\n\n', 1)[0]
  return ' '.join(first.split())


def write_pages(srcdir: str) -> list[str]:
  """Writes ``api/index.md``, the group pages and one page per object.

  Returns:
    The page names of the objects.
  """
  out = os.path.join(srcdir, _OUT)
  os.makedirs(out, exist_ok=True)
  for old in os.listdir(out):
    if old.endswith('.md'):
      os.remove(os.path.join(out, old))
  groups: dict[str, list[str]] = {}
  summaries = {}
  for qual, obj in public_objects().items():
    groups.setdefault(_section(obj, qual), []).append(qual)
    summaries[qual] = _summary(obj)
    with open(os.path.join(out, f'{qual}.md'), 'w') as f:
      f.write(f'---\norphan: true\n---\n\n# {qual.removeprefix("gradtx.")}\n\n'
              f'```{{eval-rst}}\n{_directive(obj, qual)}\n```\n')
  index = ['# API reference\n',
           'Every public name of gradtx, one page each, generated from its '
           'docstring. The pages are grouped by the subpackage that defines '
           'them; names re-exported elsewhere (``gradtx.transforms.freeze`` is '
           '``gradtx.freeze``) share one page.\n',
           '```{toctree}\n:maxdepth: 1\n']
  for key in _SECTIONS:
    if key not in groups:
      continue
    index.append(f'group-{key}')
    lines = [f'# {_SECTIONS[key]}\n']
    for qual in sorted(groups[key], key=str.lower):
      line = f'* [`{qual.removeprefix("gradtx.")}`]({qual}.md)'
      if summaries[qual]:
        line += f': {summaries[qual]}'
      lines.append(line)
    with open(os.path.join(out, f'group-{key}.md'), 'w') as f:
      f.write('\n'.join(lines) + '\n')
  index.append('```\n')
  with open(os.path.join(out, 'index.md'), 'w') as f:
    f.write('\n'.join(index))
  return sorted(q for qs in groups.values() for q in qs)


def missing_pages(html_dir: str) -> list[str]:
  """Public names whose page is missing from a built site."""
  return [q for q in public_objects()
          if not os.path.exists(os.path.join(html_dir, _OUT, f'{q}.html'))]


def setup(app):
  app.connect('builder-inited', lambda app: write_pages(app.srcdir))
  return {'parallel_read_safe': True, 'parallel_write_safe': True}
