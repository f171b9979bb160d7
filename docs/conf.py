"""Sphinx configuration for the gradtx documentation site.

Build it with ``pip install -e '.[docs]' && sphinx-build -W --keep-going -b html docs docs/_build/html``.
The build is strict: any warning (a broken link, a bad docstring) fails it.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '_ext'))

project = 'gradtx'
author = 'The gradtx authors'
copyright = '2026, the gradtx authors'  # pylint: disable=redefined-builtin

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.mathjax',
    'api_pages',
]

source_suffix = {'.md': 'markdown', '.rst': 'restructuredtext'}
exclude_patterns = ['_build', 'README.md']
myst_enable_extensions = ['colon_fence', 'dollarmath']
myst_heading_anchors = 3

autodoc_typehints = 'none'  # the signature shows them; docstrings say more
autodoc_member_order = 'bysource'
autodoc_default_options = {'exclude-members': '__init__, __new__'}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # NamedTuple fields are documented once, by autodoc
add_module_names = False

html_theme = 'furo'
html_title = 'gradtx'
html_static_path = []
