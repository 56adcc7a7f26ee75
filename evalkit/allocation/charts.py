"""Charts of an allocation: per-unit waterfall, factor attribution and a map of amounts.

Drawing goes through matplotlib with the CJK font registered by ``evalkit.report``; the map is
``evalkit.report.unit_map`` (polygons when boundary data are installed, else a labelled tile grid,
with the development zones in a side table).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitError

_L = {
    "zh": {"baseline": "均分基准", "previous": "上年", "current": "本年", "rounding": "取整",
           "budget": "资金总额", "base": "基数", "weights": "权重", "coefficients": "绩效系数",
           "constraints": "保底/上限", "final": "分配额", "wan": "万元",
           "waterfall": "{name} 分配额构成", "change": "{name} 年度变动分解",
           "attribution": "各因素对分配额的贡献（Shapley，相对均分）", "net": "合计（与均分之差）",
           "ranges": "权重随机扰动下的金额区间（P5–P95）", "rule": "本方案",
           "amount_map": "分配金额（万元）", "data": "数据:"},
    "en": {"baseline": "equal split", "previous": "last year", "current": "this year",
           "rounding": "rounding", "budget": "budget", "base": "base", "weights": "weights",
           "coefficients": "coefficients", "constraints": "floors/caps", "final": "amount",
           "wan": "CNY 10k", "waterfall": "{name}: how the amount is built",
           "change": "{name}: change from last year",
           "attribution": "Factor contributions (Shapley, vs equal split)", "net": "net",
           "ranges": "Amounts under random weights (P5–P95)", "rule": "this rule",
           "amount_map": "Amount (CNY 10k)", "data": "data: "},
}


def _setup(language: str) -> dict[str, str]:
    if language not in _L:
        raise EvalkitError(f"Invalid argument language={language!r}. Expecting one of ('zh', 'en').")
    try:
        from ..report import register_cjk_font
    except ImportError:  # the report module is optional for charts
        return _L[language]
    family = register_cjk_font()
    fams = list(plt.rcParams["font.sans-serif"])
    if not fams or fams[0] != family:
        # same settings as evalkit.report.use(): the CJK family first, so labels render
        plt.rcParams["font.family"] = "sans-serif"
        plt.rcParams["font.sans-serif"] = [family] + [f for f in fams if f != family]
        plt.rcParams["axes.unicode_minus"] = False
    return _L[language]


def _titled(title: str, heading: str | None, language: str) -> str:
    """``heading：title`` (Chinese colon) or ``heading: title``; the title alone without one."""
    if not heading:
        return title
    return f"{heading}：{title}" if language == "zh" else f"{heading}: {title}"


def _mark(fig) -> None:
    """Add the synthetic-data mark of ``evalkit.report`` when the active report context asks."""
    try:
        from ..report import mark_synthetic
    except ImportError:  # pragma: no cover - the report module ships with evalkit
        return
    mark_synthetic(fig)


def _county_first(t: pd.DataFrame) -> pd.DataFrame:
    """Rows in the workbook's order: counties, then development zones, each in code order."""
    from ._units import ZONE, group_of
    key = [(group_of(c) == ZONE, c) for c in t["unit_code"]]
    order = sorted(range(len(t)), key=lambda i: key[i])
    return t.iloc[order].reset_index(drop=True)


def _component_label(c: str, alloc, lab: dict[str, str]) -> str:
    if c.startswith("data:"):
        fid = c[5:]
        f = next((f for f in alloc.spec.factors if f.id == fid), None)
        return lab["data"] + (f.name if f is not None and lab is _L["zh"] else fid)
    return lab.get(c, c)


def _waterfall(ax, start_label: str, start: float, steps: list[tuple[str, float]],
               end_label: str, end: float, unit: str) -> None:
    xs = [start_label] + [s[0] for s in steps] + [end_label]
    ax.bar(0, start, color="#7f8c8d")
    level = start
    for j, (_, v) in enumerate(steps, start=1):
        ax.bar(j, v, bottom=level, color="#2e86c1" if v >= 0 else "#c0392b")
        ax.text(j, level + v + (0.01 * abs(start) if v >= 0 else -0.01 * abs(start)),
                f"{v:+,.0f}", ha="center", va="bottom" if v >= 0 else "top", fontsize=7)
        level += v
    ax.bar(len(xs) - 1, end, color="#1e8449")
    ax.text(0, start, f"{start:,.0f}", ha="center", va="bottom", fontsize=8)
    ax.text(len(xs) - 1, end, f"{end:,.0f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels(xs, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel(unit)
    ax.axhline(0, color="black", linewidth=0.6)
    # headroom above the tallest bar so its value label stays clear of the title
    tops = [start, end] + list(np.cumsum([start] + [v for _, v in steps]))
    lo, hi = min(0.0, *tops), max(0.0, *tops)
    span = (hi - lo) or 1.0
    ax.set_ylim(lo - (0.08 * span if lo < 0 else 0), hi + 0.16 * span)


def plot_waterfall(alloc, unit: str, *, change: Any = None, language: str = "zh", ax=None,
                   heading: str | None = None):
    """Waterfall chart for one unit.

    Without ``change``: equal split → each factor's Shapley contribution → rounding → amount.
    With ``change`` (a :class:`~evalkit.allocation.shapley.ChangeDecomposition`): last year →
    budget, base, weights, each factor's data, coefficients, floors/caps, rounding → this year.

    Parameters
    ----------
    alloc : Allocation
    unit : str
        Unit code.
    change : ChangeDecomposition, optional
    language : {"zh", "en"}
    ax : matplotlib Axes, optional
    heading : str, optional
        Put before the title (e.g. the pool's name when a spec has separate pools).

    Returns
    -------
    Figure
    """
    lab = _setup(language)
    if unit not in alloc.codes:
        raise EvalkitError(f"unit {unit!r} is not in this allocation; units: {alloc.codes}.")
    i = alloc.codes.index(unit)
    name = _unit_name(alloc, unit, language)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4.5))
    else:
        fig = ax.figure
    if change is not None:
        row = change.table.set_index("unit_code").loc[unit]
        steps = [(_component_label(c, alloc, lab), float(row[c])) for c in change.components]
        _waterfall(ax, lab["previous"], float(row["previous_wan"]), steps, lab["current"],
                   float(row["amount_wan"]), lab["wan"])
        ax.set_title(_titled(lab["change"].format(name=name), heading, language), pad=12)
    else:
        from .shapley import shapley
        sh = shapley(alloc)
        row = sh.table.iloc[i]
        # the spec file's own names in either language (a name from the user's files may stay as written)
        steps = [((sh.names.get(k, k) if k != "coefficients" else lab["coefficients"]), float(row[k]))
                 for k in sh.exact]
        steps.append((lab["rounding"], float(alloc.core.amounts[i] - alloc.core.continuous[i])))
        _waterfall(ax, lab["baseline"], float(row["baseline_wan"]), steps, lab["final"],
                   float(alloc.core.amounts[i]), lab["wan"])
        ax.set_title(_titled(lab["waterfall"].format(name=name), heading, language), pad=12)
    fig.tight_layout()
    _mark(fig)
    return fig


def plot_attribution(alloc, *, shapley_result: Any = None, language: str = "zh", ax=None,
                     heading: str | None = None):
    """Horizontal stacked bars: each factor's Shapley contribution per unit (vs equal split).

    Parameters
    ----------
    alloc : Allocation
    shapley_result : ShapleyResult, optional
        Reuse a computed attribution.
    language : {"zh", "en"}
    ax : matplotlib Axes, optional
    heading : str, optional
        Put before the title (e.g. the pool's name when a spec has separate pools).

    Returns
    -------
    Figure
    """
    lab = _setup(language)
    from .shapley import shapley
    sh = shapley_result if shapley_result is not None else shapley(alloc)
    t = _county_first(sh.table)
    fids = list(sh.exact)
    names = dict(sh.player_names())  # the spec file's own names, in either language
    ylab = [_unit_name(alloc, c, language) for c in t["unit_code"]]
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 0.38 * len(t) + 1.8))
    else:
        fig = ax.figure
    y = np.arange(len(t))
    pos = np.zeros(len(t))
    neg = np.zeros(len(t))
    colors = plt.get_cmap("tab10")
    for k, f in enumerate(fids):
        v = t[f].to_numpy(dtype=float)
        left = np.where(v >= 0, pos, neg)
        ax.barh(y, v, left=left, color=colors(k % 10), label=names[f], height=0.7)
        pos += np.where(v >= 0, v, 0)
        neg += np.where(v < 0, v, 0)
    net = t[fids].sum(axis=1).to_numpy(dtype=float)
    ax.scatter(net, y, color="black", marker="D", s=14, zorder=3, label=lab["net"])
    ax.set_yticks(y)
    ax.set_yticklabels(ylab, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel(lab["wan"])
    ax.set_title(_titled(lab["attribution"], heading, language))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    _mark(fig)
    return fig


def plot_ranges(alloc, mc: Any, *, language: str = "zh", ax=None,
                heading: str | None = None):
    """P5–P95 range of each unit's amount under random weights, with the rule's amount.

    Parameters
    ----------
    alloc : Allocation
    mc : MonteCarloResult
        From :func:`evalkit.allocation.sensitivity.monte_carlo`.
    language : {"zh", "en"}
    ax : matplotlib Axes, optional
    heading : str, optional
        Put before the title (e.g. the pool's name when a spec has separate pools).

    Returns
    -------
    Figure
    """
    lab = _setup(language)
    t = _county_first(mc.summary)
    ylab = [alloc.name(c) if language == "zh" else c for c in t["unit_code"]]
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 0.36 * len(t) + 1.6))
    else:
        fig = ax.figure
    y = np.arange(len(t))
    ax.hlines(y, t["p5"], t["p95"], color="#2e86c1", linewidth=3, label="P5–P95")
    ax.scatter(t["amount_wan"], y, color="black", s=16, zorder=3, label=lab["rule"])
    ax.set_yticks(y)
    ax.set_yticklabels(ylab, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(lab["wan"])
    ax.set_title(_titled(lab["ranges"], heading, language), pad=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    _mark(fig)
    return fig


def plot_map(alloc, *, value: str = "amount_wan", language: str = "zh"):
    """Map of amounts (or another table column) with the zones in a side table.

    Uses ``evalkit.report.unit_map``; the figure carries the 示意图 (schematic map) note.

    Parameters
    ----------
    alloc : Allocation
    value : str
        Column of ``alloc.table`` to map (``amount_wan``, ``change_pct`` ...).
    language : {"zh", "en"}

    Returns
    -------
    Figure
    """
    lab = _setup(language)
    try:
        from ..report import unit_map
    except ImportError as exc:  # pragma: no cover - the report module ships with evalkit
        raise EvalkitError("evalkit.report.unit_map is not available; cannot draw the map.") from exc
    frame = alloc.table[alloc.table["unit_code"] != "合计"][["unit_code", "name_zh", value]]
    frame = pd.DataFrame(frame).reset_index(drop=True)
    frame["name"] = [_unit_name(alloc, c, language) for c in frame["unit_code"]]
    title = lab["amount_map"] if value == "amount_wan" else None
    return unit_map(frame, value, name_col="name", language=language, title=title)


def _unit_name(alloc, unit: str, language: str) -> str:
    """A unit's name in the chart language (the unit master's English name, else the code)."""
    if language == "zh":
        return alloc.name(unit)
    from ..report.labels import unit_names

    return unit_names([unit], "en")[0]
