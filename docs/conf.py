"""Sphinx configuration of the evalkit documentation site.

Build (no network needed once the ``docs`` extra is installed)::

    .venv/bin/sphinx-build -W --keep-going -j 2 -b html docs docs/_build/html

The API pages are written at build time from each package's ``__all__`` (``_ext/apigen.py``), the
tutorials are MyST notebooks executed by myst-nb, and the Chinese pages get a subset of the CJK
font shipped in the ``mplfonts`` wheel (``_ext/cjkfont.py``) and formulas are typeset by the
MathJax of the ``jupyter-server-mathjax`` wheel (``_ext/offline_math.py``): nothing depends on
the reader's fonts or network.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import evalkit  # noqa: E402

project = "evalkit"
author = "evalkit developers"
copyright = "evalkit developers"  # noqa: A001
release = version = evalkit.__version__
language = "en"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "apigen",
    "cjkfont",
    "offline_math",
]

exclude_patterns = ["_build", "README.md", "**/.ipynb_checkpoints", "jupyter_execute"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
root_doc = "index"

# --- API reference ---------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc "Parameters" sections carry the types
numpydoc_show_class_members = False  # class pages list their members through autosummary
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True
# Docstrings are rendered as written; numpydoc's style validation is the lint's job, not the
# site's (a docstring that numpydoc cannot parse still fails the build through -W).
numpydoc_validation_checks: set[str] = set()

# --- notebooks (tutorials) -------------------------------------------------------------------
# "force": every build runs the tutorials with the installed evalkit (what CI proves);
# EVALKIT_DOCS_EXECUTE=cache reuses outputs of unchanged notebooks while writing docs.
nb_execution_mode = os.environ.get("EVALKIT_DOCS_EXECUTE", "force")
nb_execution_cache_path = str(HERE / "_build" / ".jupyter_cache")
nb_execution_timeout = 180  # seconds per cell
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

# --- formulas: MathJax 2 shipped in the site (_ext/offline_math.py), never a CDN ---------------
from offline_math import MATHJAX2_CONFIG, MATHJAX_PATH  # noqa: E402

mathjax_path = MATHJAX_PATH
mathjax2_config = MATHJAX2_CONFIG
mathjax3_config = None
mathjax4_config = None
myst_update_mathjax = False  # MyST would add a MathJax 3 configuration

# --- HTML ------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"evalkit {release}"
html_static_path = ["_static"]
html_css_files = ["evalkit.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "coming_from": []}
html_last_updated_fmt = None
