"""Render formulas offline: MathJax 2 from the ``jupyter-server-mathjax`` wheel, copied into the site.

Sphinx's default MathJax comes from a CDN, so formulas stay raw TeX on a machine without internet
access. The Jupyter project's ``jupyter-server-mathjax`` wheel ships MathJax 2.7 (Apache-2.0);
its static folder is copied to ``_static/mathjax/`` after the HTML build and ``conf.py`` points
``mathjax_path`` there, so the pages typeset formulas with nothing fetched from the network.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: Loaded by every page that has a formula (relative to ``_static``).
MATHJAX_PATH = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
#: MathJax 2 configuration: typeset only Sphinx's math elements (``\(..\)`` and ``\[..\]``).
MATHJAX2_CONFIG = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                "processEscapes": True, "ignoreClass": "document", "processClass": "math"},
    # the wheel ships the STIX-Web fonts only (no TeX fonts, no image fonts)
    "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web",
                 "imageFont": None},
    "messageStyle": "none",
    "menuSettings": {"zoom": "None"},
}


def mathjax_static() -> Path:
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).resolve().parent / "static"


def copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_static()
    target = Path(app.outdir) / "_static" / "mathjax"
    marker = target / "MathJax.js"
    if marker.exists() and marker.stat().st_size == (source / "MathJax.js").stat().st_size:
        return
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)


def setup(app):
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
