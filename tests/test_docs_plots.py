"""The schedule figures of the docs: the script draws them, the links resolve."""

from __future__ import annotations

import importlib.util
import pathlib
import re

import pytest

pytest.importorskip('matplotlib')

DOCS = pathlib.Path(__file__).resolve().parent.parent / 'docs'
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
# ![alt](target) or ![alt](target "title"); HTML <img src="..."> too.
IMAGE_LINK = re.compile(r'!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)'
                        r'|<img\s[^>]*src="([^"]+)"')


def _script():
  spec = importlib.util.spec_from_file_location(
      '_make_schedule_plots', DOCS / 'make_schedule_plots.py')
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _png_size(path: pathlib.Path) -> tuple[int, int]:
  data = path.read_bytes()
  assert data[:8] == PNG_MAGIC, f'{path} is not a PNG'
  return int.from_bytes(data[16:20], 'big'), int.from_bytes(data[20:24], 'big')


def test_main_writes_requested_figures(tmp_path, capsys):
  script = _script()
  paths = script.main(['mxnet', 'plateau', '--out', str(tmp_path)])
  assert [pathlib.Path(p).name for p in paths] == ['mxnet.png', 'plateau.png']
  assert sorted(p.name for p in tmp_path.iterdir()) == ['mxnet.png',
                                                         'plateau.png']
  for path in map(pathlib.Path, paths):
    width, height = _png_size(path)
    assert width > 200 and height > 100
    assert 1_000 < path.stat().st_size < 60_000
  assert 'wrote' in capsys.readouterr().out


def test_unknown_figure_is_rejected(tmp_path):
  with pytest.raises(ValueError, match='nosuch'):
    _script().render(['nosuch'], str(tmp_path))


def test_every_figure_name_is_a_committed_image():
  script = _script()
  for name in script.NAMES:
    path = DOCS / 'img' / 'schedules' / f'{name}.png'
    assert path.is_file(), f'run python docs/make_schedule_plots.py ({path})'
    assert path.stat().st_size < 60_000


def _image_links():
  for page in sorted(DOCS.glob('*.md')):
    for match in IMAGE_LINK.finditer(page.read_text(encoding='utf-8')):
      yield page, match.group(1) or match.group(2)


def test_image_links_in_docs_point_to_files():
  links = list(_image_links())
  assert any(target.startswith('img/schedules/') for _, target in links)
  missing = [f'{page.name}: {target}' for page, target in links
             if not re.match(r'[a-z]+://', target)
             and not (page.parent / target.split('#')[0]).is_file()]
  assert not missing, f'image links to missing files: {missing}'


def test_every_schedule_figure_is_embedded():
  embedded = {target for page, target in _image_links()
              if page.name == 'schedules.md'}
  for name in _script().NAMES:
    assert f'img/schedules/{name}.png' in embedded, name


def test_link_pattern_finds_links():
  found = [m.group(1) or m.group(2) for m in IMAGE_LINK.finditer(
      '![a](img/x.png) text ![c](img/z.png "t") <img src="img/w.png">')]
  assert found == ['img/x.png', 'img/z.png', 'img/w.png']


def test_every_schedule_has_a_panel():
  from gradtx.schedules import (basic, cosine, huggingface, keras, mindspore,  # pylint: disable=g-import-not-at-top
                                mxnet, torch)
  expected = {
      name for module in (basic, cosine, huggingface, keras, mindspore, mxnet,
                          torch)
      for name, obj in vars(module).items()
      if callable(obj) and not name.startswith('_')
      and getattr(obj, '__module__', None) == module.__name__
  }
  missing = expected - _script().covered()
  assert not missing, f'schedules without a figure panel: {sorted(missing)}'
