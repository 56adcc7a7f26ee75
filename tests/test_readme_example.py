"""The README's library example runs as written on the shipped demo data (keeps the README true)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # ~100 s on 2 cores: every estimator of the README on the demo panel
def test_readme_library_example_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using the library", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    cwd = os.getcwd()
    out = io.StringIO()
    try:
        os.chdir(ROOT)
        with warnings.catch_warnings(), contextlib.redirect_stdout(out):
            warnings.simplefilter("ignore")
            exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    finally:
        os.chdir(cwd)
    printed = out.getvalue()
    assert "overall ATT" in printed and "relative_magnitude" in printed and "合计" in printed
