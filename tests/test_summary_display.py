"""``summary()`` returns an object whose ``str()`` is the summary text and which displays itself in
notebooks (issue 14): no escaped repr as the last line of a cell."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit._summary import Summary
from evalkit.did import twfe
from evalkit.results import EffectVector


def _panel():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"u": np.repeat(np.arange(40), 6), "t": np.tile(np.arange(2000, 2006), 40)})
    df["d"] = ((df["u"] < 20) & (df["t"] >= 2003)).astype(float)
    df["y"] = df["d"] + rng.normal(size=len(df))
    return df


def test_summary_is_text_that_displays_itself():
    r = twfe(_panel(), outcome="y", unit="u", time="t", treatment="d", cov_type="clustered")
    s = r.summary()
    assert isinstance(s, Summary) and isinstance(s, str)
    assert str(s).startswith("Two-way fixed effects (TWFE)\n====")
    assert repr(s) == str(s)  # the REPL shows the text, not an escaped string
    html = s._repr_html_()
    assert html.startswith("<pre") and "Two-way fixed effects" in html and "\\n" not in html

    class Printer:
        def __init__(self):
            self.out = ""

        def text(self, t):
            self.out += t

    p = Printer()
    s._repr_pretty_(p, False)
    assert p.out == str(s)
    assert str(r) == str(s)


def test_vector_summary_escapes_html():
    v = EffectVector(params=pd.Series({"a<b": 1.0}), cov=np.eye(1), title="T & U")
    html = v.summary()._repr_html_()
    assert "a&lt;b" in html and "T &amp; U" in html
