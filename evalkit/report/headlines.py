"""Headline numbers that a notebook saves for the index page and the acceptance summary.

Each detailed notebook saves its preferred estimates with :func:`save_headlines`; the acceptance
summary reads them back with :func:`load_headlines`, so its table is drawn from the detailed
notebooks' results, never retyped.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from .._shared.exceptions import EvalkitError

HEADLINE_FIELDS = (
    "evaluation",
    "estimator",
    "estimate",
    "conf_low",
    "conf_high",
    "p_value",
    "inference",
    "pretrend_p",
    "breakdown",
    "truth",
    "note",
)
RESULTS_SUBDIR = "results"


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def save_headlines(
    output_dir: str | os.PathLike | None,
    notebook: str,
    records: list[dict[str, Any]],
    *,
    title: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path | None:
    """Write ``records`` to ``<output_dir>/results/<notebook>.json`` atomically.

    Parameters
    ----------
    output_dir : path or None
        The evidence pack folder; empty or ``None`` means "do not save" (interactive runs).
    notebook : str
        Notebook name, e.g. ``"30_first_unit_insurance"``.
    records : list of dict
        Headline rows; keys from :data:`HEADLINE_FIELDS` (others are kept too).
    title : str, optional
        Human title of the notebook for the index page.
    extra : dict, optional
        Anything else to keep (e.g. the scorecard summary).

    Returns
    -------
    Path or None
        The file written.
    """
    if not output_dir:
        return None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise EvalkitError("records must be a list of dicts (one per headline estimate).")
    rows = [{k: _clean(v) for k, v in r.items()} for r in records]
    for row in rows:
        for k in HEADLINE_FIELDS:
            row.setdefault(k, None)
    payload = {"notebook": notebook, "title": title, "headlines": rows}
    if extra:
        payload["extra"] = {k: _clean(v) for k, v in extra.items()}
    folder = Path(output_dir) / RESULTS_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{notebook}.json"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, indent=2, sort_keys=True, default=_clean)
    os.replace(tmp, target)
    return target


def load_headlines(output_dir: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Read every saved headline file of a pack: ``{notebook: payload}``."""
    folder = Path(output_dir) / RESULTS_SUBDIR
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.glob("*.json")):
        with open(path, encoding="utf-8") as fh:
            payload = json.load(fh)
        out[payload.get("notebook", path.stem)] = payload
    return out
