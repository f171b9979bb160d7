"""The documentation site: a strict build, a page per public name, and a browser.

The site is built once per test session with the command the README gives
(``sphinx-build -W --keep-going``), so a warning anywhere (a broken
cross-reference, a malformed docstring) fails here. Then:

* every public name (the ``__all__`` of gradtx and of every subpackage) has an
  API page;
* every local link and image in the built HTML points at a file that exists;
* headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright)
  loads the index, the ``adamw`` API page and the schedules gallery, checks
  that every image decoded, that the search page finds ``adamw``, and saves a
  screenshot of each page.

Without Chromium the browser test is skipped, unless ``GRADTX_REQUIRE_BROWSER``
is set (``.ci/run`` sets it, so in CI a missing browser is a failure).
"""

from __future__ import annotations

import contextlib
import functools
import html.parser
import http.server
import os
import pathlib
import subprocess
import sys
import threading
import urllib.parse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / 'docs'
CHROMIUM = '/usr/bin/chromium'

pytest.importorskip('sphinx')
pytest.importorskip('myst_parser')


@contextlib.contextmanager
def _exclusive(path: pathlib.Path):
  """Holds an exclusive lock on ``path`` (POSIX; a no-op elsewhere)."""
  try:
    import fcntl  # pylint: disable=g-import-not-at-top
  except ImportError:  # not POSIX: no concurrent builds to guard against
    yield
    return
  with open(path, 'w') as handle:
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope='module')
def site(tmp_path_factory):
  """The built site, shared by every pytest-xdist worker of this session.

  The build writes its API pages into the source tree (docs/api/), so two
  concurrent builds would delete each other's pages: the first worker to
  need the site builds it under a lock, the others wait and reuse it (and
  its failure, if it failed).
  """
  if os.environ.get('GRADTX_DOCS_HTML'):  # a site already built, while editing tests
    return pathlib.Path(os.environ['GRADTX_DOCS_HTML'])
  root = tmp_path_factory.getbasetemp()
  if os.environ.get('PYTEST_XDIST_WORKER'):
    root = root.parent  # this session's directory, common to its workers
  out = root / 'docs-site'
  failed = out / 'build-failed.txt'
  with _exclusive(root / 'docs-site.lock'):
    if not failed.exists() and not (out / 'html' / 'index.html').exists():
      proc = subprocess.run(
          [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q', '-b',
           'html', '-d', str(out / 'doctrees'), str(DOCS), str(out / 'html')],
          capture_output=True, text=True, cwd=ROOT, timeout=900,
      )
      if proc.returncode != 0:
        out.mkdir(parents=True, exist_ok=True)
        failed.write_text(proc.stderr[-6000:])
  assert not failed.exists(), (
      f'the strict docs build failed:\n{failed.read_text()}')
  return out / 'html'


def test_every_public_name_has_an_api_page(site):
  sys.path.insert(0, str(DOCS / '_ext'))
  try:
    import api_pages  # pylint: disable=g-import-not-at-top
  finally:
    sys.path.pop(0)
  names = api_pages.public_objects()
  assert len(names) > 250
  assert 'gradtx.adamw' in names and 'gradtx.tree.norm' in names
  assert api_pages.missing_pages(str(site)) == []
  index = (site / 'api' / 'index.html').read_text()
  groups = sorted((site / 'api').glob('group-*.html'))
  assert len(groups) > 10
  for group in groups:
    assert group.name in index, group.name
  listed = ''.join(g.read_text() for g in groups)
  for qual in names:
    assert f'href="{qual}.html"' in listed, qual
  optimizers = (site / 'api' / 'group-optimizers.html').read_text()
  assert 'Adam with decoupled weight decay' in optimizers


def test_the_sidebar_lists_the_groups_not_every_name(site):
  # Every page carries the whole table of contents in its sidebar; with the
  # ~500 name pages in it the build took four times as long.
  page = (site / 'api' / 'gradtx.adamw.html').read_text()
  assert 'group-optimizers.html' in page
  assert 'href="gradtx.adam.html"' not in page


class _Links(html.parser.HTMLParser):

  def __init__(self):
    super().__init__()
    self.targets = []

  def handle_starttag(self, tag, attrs):
    attrs = dict(attrs)
    for key in ('href', 'src'):
      if tag in ('a', 'img', 'link', 'script') and attrs.get(key):
        self.targets.append(attrs[key])


def test_no_broken_internal_links_or_images(site):
  broken = []
  pages = sorted(site.rglob('*.html'))
  assert len(pages) > 250
  for page in pages:
    parser = _Links()
    parser.feed(page.read_text(errors='replace'))
    for target in parser.targets:
      url = urllib.parse.urlparse(target)
      if url.scheme or target.startswith(('#', '//', 'mailto:')):
        continue
      path = (page.parent / urllib.parse.unquote(url.path)).resolve()
      if not path.exists():
        broken.append(f'{page.relative_to(site)} -> {target}')
  assert not broken, 'broken links:\n' + '\n'.join(broken[:30])


@pytest.fixture(scope='module')
def server(site):
  class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # pylint: disable=arguments-differ
      del args

  handler = functools.partial(Quiet, directory=str(site))
  httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
  thread = threading.Thread(target=httpd.serve_forever, daemon=True)
  thread.start()
  yield f'http://127.0.0.1:{httpd.server_address[1]}'
  httpd.shutdown()


@pytest.fixture(scope='module')
def browser():
  if not os.path.exists(CHROMIUM):
    if os.environ.get('GRADTX_REQUIRE_BROWSER'):
      pytest.fail(f'{CHROMIUM} is missing (apt-get install chromium)')
    pytest.skip(f'{CHROMIUM} is not installed')
  sync_api = pytest.importorskip('playwright.sync_api')
  with sync_api.sync_playwright() as p:
    b = p.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=['--no-sandbox', '--disable-gpu', '--disable-quic',
              '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync'])
    yield b
    b.close()


def _images_decoded(page):
  return page.evaluate(
      '() => Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0])')


def test_site_in_headless_chromium(site, server, browser, tmp_path):
  shots = tmp_path / 'screenshots'
  shots.mkdir()
  page = browser.new_page(viewport={'width': 1280, 'height': 900})

  page.goto(f'{server}/index.html')
  assert 'gradtx' in page.title()
  assert page.locator('a[href="optimizers-adam.html"]').count() > 0
  page.screenshot(path=str(shots / 'index.png'))

  page.goto(f'{server}/api/gradtx.adamw.html')
  body = page.locator('article').first.text_content()
  for text in ('adamw(', 'weight_decay', 'Decoupled Weight Decay', '>>> opt'):
    assert text in body, text
  page.screenshot(path=str(shots / 'adamw.png'))

  page.goto(f'{server}/schedules.html')
  page.wait_for_load_state('load')
  images = _images_decoded(page)
  assert len(images) >= 8, images
  assert all(ok for _, ok in images), [src for src, ok in images if not ok]
  page.screenshot(path=str(shots / 'schedules.png'), full_page=True)

  page.goto(f'{server}/search.html?q=adamw')
  hit = page.locator('#search-results a[href*="gradtx.adamw.html"]')
  hit.first.wait_for(timeout=30_000)
  assert hit.count() >= 1
  page.screenshot(path=str(shots / 'search.png'))

  for name in ('index', 'adamw', 'schedules', 'search'):
    assert (shots / f'{name}.png').stat().st_size > 5_000
  page.close()
