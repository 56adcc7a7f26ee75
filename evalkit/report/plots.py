"""Figures drawn from tidy frames (``to_frame()`` of any evalkit result).

Every function takes a tidy DataFrame, draws on a given or new axis, labels in the active
language, marks synthetic data, and returns the matplotlib ``Axes``. No estimator is imported
here: results hand their frames to these functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitError
from .context import plot_language
from .labels import label_or_name, t
from .style import mark_synthetic, register_cjk_font

PALETTE = ["#1f4e79", "#c0504d", "#4f8f3a", "#8064a2", "#d98c1f", "#2e9fa3", "#7f7f7f"]


def _new_ax(ax, figsize=(8, 4.5)):
    register_cjk_font()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        mark_synthetic(fig)
    return ax


def _contiguous_segments(x: np.ndarray) -> list[np.ndarray]:
    """Index runs of ``x`` without gaps wider than its usual step (bands stop at omitted periods)."""
    if len(x) < 2:
        return [np.arange(len(x))]
    step = np.diff(x)
    usual = np.median(step)
    breaks = np.flatnonzero(step > 1.5 * usual) + 1
    return np.split(np.arange(len(x)), breaks)


def _x_column(frame: pd.DataFrame) -> str:
    for col in ("event_time", "dose", "time"):
        if col in frame.columns and frame[col].notna().any():
            return col
    return "term"


def plot_effects(
    frame: pd.DataFrame,
    ax=None,
    *,
    uniform: bool = True,
    reference: Sequence = (),
    title: str | None = None,
    language: str | None = None,
    color: str = PALETTE[0],
    label: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    offset: float = 0.0,
):
    """Point estimates with pointwise intervals, optional uniform bands and a zero line.

    Parameters
    ----------
    frame : DataFrame
        Tidy effects (``estimate``, ``conf_low``, ``conf_high``; optional
        ``conf_low_uniform``/``conf_high_uniform``; x from ``event_time``, ``dose``, ``time`` or
        ``term``).
    ax : Axes, optional
        Where to draw.
    uniform : bool
        Draw simultaneous bands when the frame has them.
    reference : sequence
        Normalised periods drawn as hollow points at zero.
    title, xlabel, ylabel, label : str, optional
        Text; defaults come from the labels table.
    language : {"zh", "en"}, optional
        Label language (default: the one set by ``report.use()``, else English).
    color : str
        Colour of this series.
    offset : float
        Horizontal shift (for overlays of several estimators).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> from evalkit.report import plot_effects
    >>> frame = pd.DataFrame({"event_time": [-2, 0, 1], "estimate": [0.0, 0.5, 0.6],
    ...                       "conf_low": [-0.1, 0.3, 0.4], "conf_high": [0.1, 0.7, 0.8]})
    >>> ax = plot_effects(frame, language="en")
    >>> len(ax.lines) > 0
    True
    >>> plt.close("all")
    """
    lang = plot_language(language)
    need = {"estimate", "conf_low", "conf_high"}
    if not need <= set(frame.columns):
        raise EvalkitError(f"plot_effects needs columns {sorted(need)}; got {list(frame.columns)}.")
    ax = _new_ax(ax)
    xcol = _x_column(frame)
    data = frame.copy()
    if xcol == "term":
        data["_x"] = np.arange(len(data), dtype=float)
        ax.set_xticks(data["_x"], data["term"], rotation=45, ha="right")
    else:
        data["_x"] = data[xcol].astype(float)
    data = data.sort_values("_x")
    x = data["_x"].to_numpy() + offset
    if uniform and {"conf_low_uniform", "conf_high_uniform"} <= set(data.columns):
        lows, highs = data["conf_low_uniform"].to_numpy(), data["conf_high_uniform"].to_numpy()
        for k, seg in enumerate(_contiguous_segments(x)):
            ax.fill_between(
                x[seg],
                lows[seg],
                highs[seg],
                color=color,
                alpha=0.12,
                label=t("ci_uniform", lang) if (label is None and k == 0) else None,
            )
    est = data["estimate"].to_numpy(float)
    ax.errorbar(
        x,
        est,
        yerr=[est - data["conf_low"].to_numpy(float), data["conf_high"].to_numpy(float) - est],
        fmt="o",
        color=color,
        ecolor=color,
        capsize=3,
        ms=5,
        lw=1.4,
        label=label if label is not None else t("ci_pointwise", lang),
    )
    if len(reference):
        ref = np.asarray(list(reference), dtype=float)
        ax.scatter(ref + offset, np.zeros_like(ref), facecolors="white", edgecolors=color, s=40,
                   zorder=3, label=t("reference_period", lang) if label is None else None)
    ax.axhline(0, color="black", lw=0.8)
    if xcol == "event_time":
        ax.axvline(-0.5, color="grey", lw=0.8, ls="--")
    ax.set_xlabel(xlabel or label_or_name(xcol, lang))
    ax.set_ylabel(ylabel or t("estimate", lang))
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return ax


def overlay_effects(
    frame: pd.DataFrame,
    by: str = "estimator",
    ax=None,
    *,
    title: str | None = None,
    language: str | None = None,
    uniform: bool = False,
    truth: pd.Series | None = None,
):
    """Several estimators' event studies on one axis (``frame`` has a ``by`` column).

    ``truth`` (indexed by event time) is drawn as a line when given (synthetic data).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> from evalkit.report import overlay_effects
    >>> frame = pd.DataFrame({"estimator": ["TWFE"] * 2 + ["Imputation (BJS)"] * 2, "event_time": [0, 1] * 2,
    ...                       "estimate": [0.5, 0.6, 0.55, 0.62], "conf_low": [0.3, 0.4, 0.35, 0.4],
    ...                       "conf_high": [0.7, 0.8, 0.75, 0.84]})
    >>> ax = overlay_effects(frame, language="en")
    >>> len(ax.get_legend().get_texts())
    2
    >>> plt.close("all")
    """
    lang = plot_language(language)
    if by not in frame.columns:
        raise EvalkitError(f"overlay_effects needs a {by!r} column to tell the series apart.")
    ax = _new_ax(ax, figsize=(9, 5))
    groups = list(dict.fromkeys(frame[by]))
    width = 0.6 / max(len(groups), 1)
    for i, name in enumerate(groups):
        sub = frame[frame[by] == name]
        plot_effects(
            sub,
            ax=ax,
            uniform=uniform,
            language=lang,
            color=PALETTE[i % len(PALETTE)],
            label=str(name),
            offset=(i - (len(groups) - 1) / 2) * width,
        )
    if truth is not None:
        tr = pd.Series(truth).sort_index()
        ax.plot(tr.index.astype(float), tr.to_numpy(), color="black", ls=":", lw=1.5,
                label=t("true_effect_line", lang))
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return ax


def trend_plot(
    frame: pd.DataFrame,
    *,
    time: str,
    value: str,
    group: str,
    ax=None,
    title: str | None = None,
    language: str | None = None,
    vline: float | None = None,
    ylabel: str | None = None,
):
    """Lines of ``value`` over ``time`` for each ``group`` (e.g. Weifang vs rest of Shandong).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> from evalkit.report import trend_plot
    >>> frame = pd.DataFrame({"year": [2019, 2020, 2021] * 2, "revenue_wan": [1.0, 1.1, 1.3, 1.0, 1.05, 1.1],
    ...                       "group": ["Weifang"] * 3 + ["Rest of Shandong"] * 3})
    >>> ax = trend_plot(frame, time="year", value="revenue_wan", group="group", vline=2021, language="en")
    >>> len(ax.lines) >= 2
    True
    >>> plt.close("all")
    """
    lang = plot_language(language)
    ax = _new_ax(ax)
    for i, (name, sub) in enumerate(frame.groupby(group, sort=False)):
        sub = sub.sort_values(time)
        ax.plot(sub[time], sub[value], marker="o", ms=3, color=PALETTE[i % len(PALETTE)], label=str(name))
    if vline is not None:
        ax.axvline(vline, color="grey", ls="--", lw=0.8)
    ax.set_xlabel(label_or_name(time, lang))
    ax.set_ylabel(ylabel or label_or_name(value, lang))
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return ax


def timing_heatmap(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    treatment: str,
    label: str | None = None,
    ax=None,
    title: str | None = None,
    language: str | None = None,
    sort_by_first: bool = True,
    max_units: int | None = None,
    only_treated: bool = False,
):
    """Units x years heat map of a treatment (binary or amount), units ordered by first treatment.

    Tick labels are drawn at 8 points with one row per 0.2 inch, so they stay readable when the page
    is printed; pass ``max_units`` or ``only_treated`` to keep long panels to a readable height.

    Parameters
    ----------
    data : DataFrame
        Long panel.
    unit, time, treatment : str
        Column names.
    label : str, optional
        Column used as the row label (e.g. ``name_zh`` / ``name_en``); defaults to ``unit``.
    max_units : int, optional
        Show at most this many units (the treated ones first); the title says how many are hidden.
    only_treated : bool
        Leave out the units never treated (the title says how many).

    Returns
    -------
    Axes
        The heat map's axes.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> from evalkit.report import timing_heatmap
    >>> df = pd.DataFrame([(u, t) for u in ["A", "B", "C"] for t in range(2019, 2023)], columns=["unit", "year"])
    >>> df["treated"] = ((df.unit == "A") & (df.year >= 2021)).astype(int)
    >>> ax = timing_heatmap(df, unit="unit", time="year", treatment="treated", language="en")
    >>> type(ax).__name__
    'Axes'
    >>> plt.close("all")
    """
    lang = plot_language(language)
    lab = label or unit
    wide = data.pivot_table(index=[unit, lab] if lab != unit else unit, columns=time, values=treatment,
                            aggfunc="first")
    treated = wide.fillna(0).gt(0).to_numpy()
    first_pos = np.where(treated.any(axis=1), treated.argmax(axis=1), treated.shape[1])
    order = wide.index[np.argsort(first_pos, kind="stable")] if sort_by_first else wide.index
    wide = wide.loc[order]
    never = int((~treated.any(axis=1)).sum())
    hidden = 0
    if only_treated and never:
        wide = wide[wide.fillna(0).gt(0).any(axis=1)]
    if max_units is not None and len(wide) > max_units:
        hidden = len(wide) - max_units
        wide = wide.iloc[:max_units]
    height = max(3.0, 0.2 * len(wide) + 1.6)
    ax = _new_ax(ax, figsize=(9, height))
    values = wide.to_numpy(dtype=float)
    binary = np.isin(values[~np.isnan(values)], [0, 1]).all()
    cmap = plt.get_cmap("Blues" if binary else "viridis").with_extremes(bad="#dddddd")
    im = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap=cmap, interpolation="nearest")
    ax.set_xticks(range(wide.shape[1]), [str(c) for c in wide.columns], rotation=90, fontsize=8)
    names = [idx[1] if isinstance(idx, tuple) else idx for idx in wide.index]
    ax.set_yticks(range(len(names)), names, fontsize=8)
    if not binary:
        cbar = plt.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
        cbar.set_label(label_or_name(treatment, lang), fontsize=9)
        cbar.ax.tick_params(labelsize=8)
    head = title or label_or_name(treatment, lang)
    notes = []
    if only_treated and never:
        notes.append(t("never_treated_hidden", lang).format(n=never))
    if hidden:
        notes.append(t("more_units_hidden", lang).format(n=hidden))
    if notes:
        head = t("name_with_note", lang).format(name=head, note=t("clause_separator", lang).join(notes))
    ax.set_title(head, fontsize=10)
    ax.set_xlabel(label_or_name(time, lang))
    ax.grid(False)
    return ax
