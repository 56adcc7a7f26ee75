"""Display tables: tidy result frames with readable, translated headers."""

from __future__ import annotations

import pandas as pd

from .labels import translate_columns
from .style import resolve_language

DISPLAY_COLUMNS = ["term", "group", "time", "event_time", "estimate", "std_error", "p_value", "conf_low", "conf_high"]


def display_table(frame: pd.DataFrame, language: str | None = None, digits: int = 4, columns=None) -> pd.DataFrame:
    """Round numbers, drop all-missing columns and translate the headers of a tidy frame."""
    lang = resolve_language(language)
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    out = frame[cols].dropna(axis=1, how="all").copy()
    num = out.select_dtypes("number").columns
    out[num] = out[num].round(digits)
    return translate_columns(out, lang)
