"""Input checks and array layout for :func:`evalkit.did.callaway_santanna`.

The long data frame is turned into numpy arrays once:

* balanced panels: an ``n_units x n_periods`` outcome matrix and per-unit cohort, weight and
  cluster vectors (covariates as ``n_periods x n_units x k``);
* unbalanced panels and repeated cross-sections: row arrays with a row -> unit map.

Conventions follow R ``did`` (``pre_process_did``): cohort 0 = never treated; a cohort after the
last period is never treated within the sample; units treated in the first period (cohort <= first
period) are excluded with a warning naming them; sampling weights are normalised to mean one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._shared.exceptions import (
    EvalkitError,
    ExcludedUnitsWarning,
    NoControlUnitsError,
    PanelDataError,
)
from .._shared.validation import check_columns, check_numeric_complete, check_unique_panel


def _names(values, limit: int = 20) -> str:
    vals = [str(v) for v in values]
    more = f" (and {len(vals) - limit} more)" if len(vals) > limit else ""
    return ", ".join(vals[:limit]) + more


def _time_index(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct periods and each row's period index (O(n) for integer-valued periods)."""
    lo, hi = float(t.min()), float(t.max())
    if hi - lo < 100_000 and np.all(t == np.round(t)):
        off = (t - lo).astype(np.int64)
        present = np.bincount(off, minlength=int(hi - lo) + 1) > 0
        lut = np.cumsum(present) - 1
        return np.nonzero(present)[0] + lo, lut[off]
    times = np.sort(pd.unique(t))
    return times, np.searchsorted(times, t)


def _factorize(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and labels of a unit column (direct offsets for compact integer ids)."""
    if pd.api.types.is_integer_dtype(col.dtype) and len(col):
        v = col.to_numpy()
        lo, hi = int(v.min()), int(v.max())
        if hi - lo < 4 * len(v) + 1000:
            used, codes = _compact(v - lo, hi - lo + 1)
            return codes, used + lo
    codes, labels = pd.factorize(col, sort=False)
    return codes, np.asarray(labels)


def _compact(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes present (sorted) and the codes renumbered 0..k-1 (no sort of the long array)."""
    present = np.zeros(n_codes, dtype=bool)
    present[codes] = True
    if present.all():
        return np.arange(n_codes), codes
    remap = np.cumsum(present) - 1
    return np.nonzero(present)[0], remap[codes]


@dataclass
class CSData:
    """Arrays used by the estimator (see module docstring)."""

    times: np.ndarray  # sorted distinct periods
    groups: np.ndarray  # sorted treated cohorts
    n: int  # number of independent units (rows for repeated cross-sections)
    unit_ids: np.ndarray  # label per unit
    G: np.ndarray  # cohort per unit (0 = never)
    w: np.ndarray  # sampling weight per unit (mean one)
    cluster: np.ndarray | None  # cluster code per unit (0..n_clusters-1) or None
    layout: str  # "balanced", "unbalanced" or "rcs"
    Y: np.ndarray | None = None  # balanced: n x T
    X: np.ndarray | None = None  # balanced: T x n x k (with intercept)
    row_y: np.ndarray | None = None  # long layouts
    row_t: np.ndarray | None = None  # period index per row
    row_unit: np.ndarray | None = None  # unit index per row
    row_w: np.ndarray | None = None
    row_X: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    n_obs: int = 0
    x_invariant: bool = False  # balanced panels: covariates constant over time


def prepare(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str | None,
    time: str,
    cohort: str,
    covariates: list[str],
    weights: str | None,
    cluster: str | None,
    panel: bool,
    allow_unbalanced: bool,
    anticipation: int,
    control_group: str,
) -> CSData:
    """Validate the long data and lay them out as arrays (see :class:`CSData`)."""
    if unit is None and panel:
        raise EvalkitError("unit=None is only allowed with panel=False (repeated cross-sections).")
    check_columns(
        data,
        {
            "outcome": outcome,
            "unit": unit,
            "time": time,
            "cohort": cohort,
            "covariates": covariates,
            "weights": weights,
            "cluster": cluster,
        },
    )
    if not isinstance(anticipation, int | np.integer) or anticipation < 0:
        raise EvalkitError(f"anticipation must be a non-negative integer, got {anticipation!r}.")
    g_col = pd.to_numeric(data[cohort], errors="coerce") if not pd.api.types.is_numeric_dtype(
        data[cohort]
    ) else data[cohort]
    g_bad = g_col.isna().to_numpy() | ~np.isfinite(g_col.to_numpy(dtype=float))
    if g_bad.any() and data[cohort][g_bad].notna().sum() == np.isinf(g_col[g_bad]).sum():
        raise PanelDataError(
            [
                f"column {cohort!r} (cohort) is missing or infinite in rows "
                f"{_names(data.index[g_bad], 10)}. The cohort holds the first treated period; code "
                "never-treated units as 0 (not NaN or inf)."
            ],
            header="Invalid cohort column",
        )
    numeric = [outcome, time, cohort, *covariates] + ([weights] if weights else [])
    check_numeric_complete(data, numeric)
    if unit is not None and data[unit].isna().any():
        bad = data.index[data[unit].isna()]
        raise PanelDataError(
            [f"column {unit!r} (unit) is missing in rows {_names(bad, 10)}: fill or drop them"],
            header="Estimation data are not usable",
        )
    if cluster is not None and data[cluster].isna().any():
        bad = data.index[data[cluster].isna()]
        raise PanelDataError(
            [f"column {cluster!r} (cluster) is missing in rows {_names(bad, 10)}: fill or drop them"],
            header="Estimation data are not usable",
        )
    g_raw = data[cohort].to_numpy(dtype=float)
    bad = (g_raw < 0) | (g_raw != np.round(g_raw))
    if bad.any():
        raise PanelDataError(
            [
                f"column {cohort!r} (cohort) must hold the first treated period, or 0 for units "
                f"never treated; rows {_names(data.index[bad], 10)} hold "
                f"{_names(np.unique(g_raw[bad]), 5)}. Code never-treated units as 0 "
                "(not NaN, inf or a negative number)."
            ],
            header="Invalid cohort column",
        )
    t_raw = data[time].to_numpy(dtype=float)
    if weights is not None:
        wv = data[weights].to_numpy(dtype=float)
        if (wv < 0).any() or wv.sum() <= 0:
            rows = data.index[wv < 0]
            raise PanelDataError(
                [f"column {weights!r} (weights) has negative values in rows {_names(rows, 10)}"],
                header="Invalid weights",
            )
    else:
        wv = np.ones(len(data))
    y_raw = data[outcome].to_numpy(dtype=float)
    x_raw = data[covariates].to_numpy(dtype=float) if covariates else np.empty((len(data), 0))

    times, t_idx = _time_index(t_raw)
    if len(times) < 2:
        raise PanelDataError(
            [f"column {time!r} has a single period ({_names(times)}); at least two are needed"],
            header="Too few periods",
        )
    notes: list[str] = []
    g_vals = g_raw.copy()
    late = g_vals > times[-1]
    if late.any():
        notes.append(
            f"Cohorts {_names(np.unique(g_vals[late]))} start after the last period "
            f"({times[-1]:g}) and are treated as never treated."
        )
        g_vals[late] = 0

    if panel:
        u_codes, u_labels = _factorize(data[unit])
    else:
        u_codes, u_labels = np.arange(len(data)), np.asarray(data.index)
    n_units_all = len(u_labels)

    long_layout = (not panel) or allow_unbalanced
    # unit-level attributes must be constant within a unit (panels)
    if panel:
        key = u_codes.astype(np.int64) * len(times) + t_idx
        if np.bincount(key, minlength=n_units_all * len(times)).max() > 1:
            check_unique_panel(data, unit, time)  # raises, naming the duplicated pairs
        unit_attr = {}
        for name, col, arr in (
            ("cohort", cohort, g_raw),
            ("weights", weights, wv if weights else None),
        ):
            if arr is None:
                continue
            first = np.full(n_units_all, np.nan)
            first[u_codes[::-1]] = arr[::-1]
            diff = first[u_codes] != arr
            if diff.any():
                units = pd.unique(np.asarray(u_labels)[u_codes[diff]])
                extra = (
                    " The cohort is the first treated period and cannot change within a unit; "
                    "fix the data (treatment is absorbing)."
                    if name == "cohort"
                    else " Sampling weights must be constant within a unit."
                )
                raise PanelDataError(
                    [f"column {col!r} ({name}) changes over time within units {_names(units)}.{extra}"],
                    header=f"The {name} column varies within units",
                )
            unit_attr[name] = first
        if cluster is not None:
            c_codes_row, _ = pd.factorize(data[cluster], sort=True)
            first = np.full(n_units_all, -1)
            first[u_codes[::-1]] = c_codes_row[::-1]
            diff = first[u_codes] != c_codes_row
            if diff.any():
                units = pd.unique(np.asarray(u_labels)[u_codes[diff]])
                raise PanelDataError(
                    [
                        f"column {cluster!r} (cluster) changes within units {_names(units)}; "
                        "clusters must nest units (cluster at the unit or a coarser level)"
                    ],
                    header="The cluster column varies within units",
                )
    # early-treated units (already treated in the first period)
    early_row = (g_vals > 0) & (g_vals <= times[0])
    if early_row.any():
        early_units = pd.unique(np.asarray(u_labels)[u_codes[early_row]])
        if panel:
            drop_row = np.isin(u_codes, np.unique(u_codes[early_row]))
        else:
            drop_row = early_row
        warnings.warn(
            f"Excluded {len(early_units)} unit(s) already treated in the first period "
            f"({times[0]:g}), which have no pre-treatment period: {_names(early_units)}.",
            ExcludedUnitsWarning,
            stacklevel=3,
        )
        notes.append(f"{len(early_units)} unit(s) treated in the first period were excluded.")
        keep = ~drop_row
        g_vals, t_raw, y_raw, x_raw, wv = g_vals[keep], t_raw[keep], y_raw[keep], x_raw[keep], wv[keep]
        t_idx = t_idx[keep]
        data_cluster = data[cluster].to_numpy()[keep] if cluster else None
        u_codes = u_codes[keep]
    else:
        data_cluster = data[cluster].to_numpy() if cluster else None
    groups = np.sort(pd.unique(g_vals[g_vals > 0]))  # hash, not a sort of every row (O(n))
    if len(groups) == 0:
        raise PanelDataError(
            [f"column {cohort!r} has no treated cohort (all values are 0 = never treated)"],
            header="No treated units",
        )
    nopre = groups[groups - anticipation <= times[0]]
    if len(nopre):
        raise EvalkitError(
            f"Cohort(s) {_names(nopre)} have no pre-treatment period: with anticipation="
            f"{anticipation} the last untreated period before {_names(nopre)} is not in the data "
            f"(first period {times[0]:g}). Reduce anticipation or drop these cohorts."
        )
    if not (g_vals == 0).any():
        if control_group == "never_treated":
            raise NoControlUnitsError(
                f"control_group='never_treated' but no unit has {cohort} == 0 (never treated). "
                "Use control_group='not_yet_treated' (units treated later serve as controls) or "
                "add never-treated units."
            )
        g_last = groups[-1]
        cutoff = g_last - anticipation
        keep = t_raw < cutoff
        warnings.warn(
            f"No never-treated units: cohort {g_last:g} (the last treated) serves as the "
            f"comparison group and periods from {cutoff:g} on are dropped.",
            ExcludedUnitsWarning,
            stacklevel=3,
        )
        notes.append(
            f"No never-treated units: the last cohort ({g_last:g}) is the comparison group; "
            f"periods >= {cutoff:g} dropped."
        )
        g_vals = np.where(g_vals == g_last, 0.0, g_vals)
        g_vals, t_raw, y_raw, x_raw, wv, u_codes = (
            g_vals[keep], t_raw[keep], y_raw[keep], x_raw[keep], wv[keep], u_codes[keep],
        )
        t_idx = t_idx[keep]  # the dropped periods are the last ones: indices stay valid
        if data_cluster is not None:
            data_cluster = data_cluster[keep]
        times = times[times < cutoff]
        groups = groups[groups < g_last]
        if len(groups) == 0 or len(times) < 2:
            raise NoControlUnitsError(
                "No never-treated units and too few cohorts/periods remain when the last cohort "
                "serves as the comparison group; add never-treated units."
            )
    # compact unit codes
    used, u_codes = _compact(u_codes, n_units_all)
    labels = np.asarray(u_labels)[used]
    n = len(used)
    k = x_raw.shape[1]

    if panel and not allow_unbalanced:
        counts = np.bincount(u_codes, minlength=n)
        incomplete = counts < len(times)
        if incomplete.any():
            bad_units = labels[incomplete]
            warnings.warn(
                f"Excluded {len(bad_units)} unit(s) not observed in every period "
                f"(balanced panel required; pass allow_unbalanced=True to keep them): "
                f"{_names(bad_units)}.",
                ExcludedUnitsWarning,
                stacklevel=3,
            )
            notes.append(f"{len(bad_units)} unit(s) not observed in every period were excluded.")
            keep = ~incomplete[u_codes]
            g_vals, t_idx, y_raw, x_raw, wv = g_vals[keep], t_idx[keep], y_raw[keep], x_raw[keep], wv[keep]
            if data_cluster is not None:
                data_cluster = data_cluster[keep]
            used, u_codes = _compact(u_codes[keep], n)
            labels = labels[used]
            n = len(used)
            if n == 0:
                raise PanelDataError(["no unit is observed in every period"], header="Empty panel")

    n_rows = len(y_raw)
    wv = wv / wv.mean()
    if long_layout and not panel:
        G_unit = g_vals
        w_unit = wv
        c_unit = data_cluster
    else:
        G_unit = np.zeros(n)
        G_unit[u_codes] = g_vals
        w_unit = np.zeros(n)
        w_unit[u_codes] = wv
        if data_cluster is not None:
            c_unit = np.empty(n, dtype=object)
            c_unit[u_codes] = data_cluster
        else:
            c_unit = None
    if c_unit is not None:
        c_codes, _ = pd.factorize(pd.Series(c_unit), sort=True)
    else:
        c_codes = None

    out = CSData(
        times=times,
        groups=groups,
        n=n,
        unit_ids=labels,
        G=G_unit,
        w=w_unit,
        cluster=c_codes,
        layout="rcs" if not panel else ("unbalanced" if allow_unbalanced else "balanced"),
        notes=notes,
        n_obs=n_rows,
    )
    if out.layout == "balanced":
        T = len(times)
        Y = np.empty((n, T))
        Y[u_codes, t_idx] = y_raw
        out.Y = Y
        if k:
            X = np.empty((T, n, k + 1))
            X[:, :, 0] = 1.0
            X[t_idx, u_codes, 1:] = x_raw
            out.X = X
            out.x_invariant = bool(np.all(X == X[0]))
    else:
        out.row_y = y_raw
        out.row_t = t_idx
        out.row_unit = u_codes if panel else np.arange(n_rows)
        out.row_w = wv
        out.row_X = np.hstack([np.ones((n_rows, 1)), x_raw])
    return out
