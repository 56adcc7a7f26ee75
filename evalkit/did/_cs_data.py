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


@dataclass
class _Rows:
    """The row arrays of the estimation sample, subset together when rows are dropped."""

    g: np.ndarray  # cohort
    t: np.ndarray  # period
    y: np.ndarray
    x: np.ndarray
    w: np.ndarray
    t_idx: np.ndarray  # period index
    unit: np.ndarray  # unit code
    cluster: np.ndarray | None

    def keep(self, mask: np.ndarray) -> None:
        """Keep the rows where ``mask`` is true."""
        for name in ("g", "t", "y", "x", "w", "t_idx", "unit"):
            setattr(self, name, getattr(self, name)[mask])
        if self.cluster is not None:
            self.cluster = self.cluster[mask]


def _checked_columns(data, outcome, unit, time, cohort, covariates, weights, cluster, panel,
                     anticipation):
    """Check the columns; return cohort, period, weight, outcome and covariate arrays."""
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
    return g_raw, t_raw, wv, y_raw, x_raw


def _check_unit_attributes(data, unit_labels, u_codes, t_idx, n_times, cohort, g_raw, weights, wv,
                           unit, time, cluster) -> None:
    """Panels: one row per unit and period; cohort, weights and cluster constant within units."""
    n_units_all = len(unit_labels)
    key = u_codes.astype(np.int64) * n_times + t_idx
    if np.bincount(key, minlength=n_units_all * n_times).max() > 1:
        check_unique_panel(data, unit, time)  # raises, naming the duplicated pairs
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
            units = pd.unique(np.asarray(unit_labels)[u_codes[diff]])
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
    if cluster is not None:
        c_codes_row, _ = pd.factorize(data[cluster], sort=True)
        first = np.full(n_units_all, -1)
        first[u_codes[::-1]] = c_codes_row[::-1]
        diff = first[u_codes] != c_codes_row
        if diff.any():
            units = pd.unique(np.asarray(unit_labels)[u_codes[diff]])
            raise PanelDataError(
                [
                    f"column {cluster!r} (cluster) changes within units {_names(units)}; "
                    "clusters must nest units (cluster at the unit or a coarser level)"
                ],
                header="The cluster column varies within units",
            )


def _drop_early(rows: _Rows, times, u_labels, panel: bool, notes: list[str]) -> None:
    """Exclude units already treated in the first period (no pre-treatment period), with a warning."""
    early_row = (rows.g > 0) & (rows.g <= times[0])
    if not early_row.any():
        return
    early_units = pd.unique(np.asarray(u_labels)[rows.unit[early_row]])
    drop_row = np.isin(rows.unit, np.unique(rows.unit[early_row])) if panel else early_row
    warnings.warn(
        f"Excluded {len(early_units)} unit(s) already treated in the first period "
        f"({times[0]:g}), which have no pre-treatment period: {_names(early_units)}.",
        ExcludedUnitsWarning,
        stacklevel=4,
    )
    notes.append(f"{len(early_units)} unit(s) treated in the first period were excluded.")
    rows.keep(~drop_row)


def _check_cohorts(rows: _Rows, times, cohort: str, anticipation: int, control_group: str,
                   notes: list[str]):
    """Treated cohorts; without never-treated units the last cohort becomes the comparison group."""
    groups = np.sort(pd.unique(rows.g[rows.g > 0]))  # hash, not a sort of every row (O(n))
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
    if (rows.g == 0).any():
        return times, groups
    if control_group == "never_treated":
        raise NoControlUnitsError(
            f"control_group='never_treated' but no unit has {cohort} == 0 (never treated). "
            "Use control_group='not_yet_treated' (units treated later serve as controls) or "
            "add never-treated units."
        )
    g_last = groups[-1]
    cutoff = g_last - anticipation
    warnings.warn(
        f"No never-treated units: cohort {g_last:g} (the last treated) serves as the "
        f"comparison group and periods from {cutoff:g} on are dropped.",
        ExcludedUnitsWarning,
        stacklevel=4,
    )
    notes.append(
        f"No never-treated units: the last cohort ({g_last:g}) is the comparison group; "
        f"periods >= {cutoff:g} dropped."
    )
    rows.g = np.where(rows.g == g_last, 0.0, rows.g)
    rows.keep(rows.t < cutoff)  # the dropped periods are the last ones: indices stay valid
    times = times[times < cutoff]
    groups = groups[groups < g_last]
    if len(groups) == 0 or len(times) < 2:
        raise NoControlUnitsError(
            "No never-treated units and too few cohorts/periods remain when the last cohort "
            "serves as the comparison group; add never-treated units."
        )
    return times, groups


def _drop_incomplete(rows: _Rows, used, labels, n: int, n_times: int, notes: list[str]):
    """Balanced panels: exclude units not observed in every period, with a warning."""
    counts = np.bincount(rows.unit, minlength=n)
    incomplete = counts < n_times
    if not incomplete.any():
        return used, labels, n
    bad_units = labels[incomplete]
    warnings.warn(
        f"Excluded {len(bad_units)} unit(s) not observed in every period "
        f"(balanced panel required; pass allow_unbalanced=True to keep them): "
        f"{_names(bad_units)}.",
        ExcludedUnitsWarning,
        stacklevel=4,
    )
    notes.append(f"{len(bad_units)} unit(s) not observed in every period were excluded.")
    rows.keep(~incomplete[rows.unit])
    used, rows.unit = _compact(rows.unit, n)
    labels = labels[used]
    n = len(used)
    if n == 0:
        raise PanelDataError(["no unit is observed in every period"], header="Empty panel")
    return used, labels, n


def _unit_vectors(rows: _Rows, n: int, long_layout: bool, panel: bool):
    """Cohort, weight and cluster code per unit (per row for repeated cross-sections)."""
    if long_layout and not panel:
        G_unit, w_unit, c_unit = rows.g, rows.w, rows.cluster
    else:
        G_unit = np.zeros(n)
        G_unit[rows.unit] = rows.g
        w_unit = np.zeros(n)
        w_unit[rows.unit] = rows.w
        if rows.cluster is not None:
            c_unit = np.empty(n, dtype=object)
            c_unit[rows.unit] = rows.cluster
        else:
            c_unit = None
    c_codes = pd.factorize(pd.Series(c_unit), sort=True)[0] if c_unit is not None else None
    return G_unit, w_unit, c_codes


def _lay_out(out: CSData, rows: _Rows, n: int, panel: bool) -> None:
    """The outcome (and covariates) as an ``n x T`` matrix, or as row arrays for long layouts."""
    k = rows.x.shape[1]
    if out.layout == "balanced":
        T = len(out.times)
        Y = np.empty((n, T))
        Y[rows.unit, rows.t_idx] = rows.y
        out.Y = Y
        if k:
            X = np.empty((T, n, k + 1))
            X[:, :, 0] = 1.0
            X[rows.t_idx, rows.unit, 1:] = rows.x
            out.X = X
            out.x_invariant = bool(np.all(X == X[0]))
    else:
        n_rows = len(rows.y)
        out.row_y = rows.y
        out.row_t = rows.t_idx
        out.row_unit = rows.unit if panel else np.arange(n_rows)
        out.row_w = rows.w
        out.row_X = np.hstack([np.ones((n_rows, 1)), rows.x])


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
    g_raw, t_raw, wv, y_raw, x_raw = _checked_columns(
        data, outcome, unit, time, cohort, covariates, weights, cluster, panel, anticipation)
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
        _check_unit_attributes(data, u_labels, u_codes, t_idx, len(times), cohort, g_raw, weights,
                               wv, unit, time, cluster)
    else:
        u_codes, u_labels = np.arange(len(data)), np.asarray(data.index)
    n_units_all = len(u_labels)
    rows = _Rows(g=g_vals, t=t_raw, y=y_raw, x=x_raw, w=wv, t_idx=t_idx, unit=u_codes,
                 cluster=data[cluster].to_numpy() if cluster else None)
    _drop_early(rows, times, u_labels, panel, notes)
    times, groups = _check_cohorts(rows, times, cohort, anticipation, control_group, notes)
    used, rows.unit = _compact(rows.unit, n_units_all)  # compact unit codes
    labels = np.asarray(u_labels)[used]
    n = len(used)
    if panel and not allow_unbalanced:
        used, labels, n = _drop_incomplete(rows, used, labels, n, len(times), notes)
    rows.w = rows.w / rows.w.mean()
    G_unit, w_unit, c_codes = _unit_vectors(rows, n, (not panel) or allow_unbalanced, panel)
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
        n_obs=len(rows.y),
    )
    _lay_out(out, rows, n, panel)
    return out
