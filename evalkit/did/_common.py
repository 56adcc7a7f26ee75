"""Shared input checks and result plumbing of the TWFE family (twfe, event study, SA, BJS)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._shared.blas import limited_blas
from .._shared.exceptions import (
    EvalkitError,
    ExcludedUnitsWarning,
    NoControlUnitsError,
    PanelDataError,
)
from .._shared.validation import check_columns, check_numeric_complete, check_unique_panel
from ..inference import covariance
from ..inference.design import LinearDesign


def as_list(cols: str | Sequence[str] | None) -> list[str]:
    """``None`` -> ``[]``, a string -> ``[string]``, a sequence -> list."""
    if cols is None:
        return []
    if isinstance(cols, str):
        return [cols]
    return list(cols)


def prepare_panel(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    numeric: Sequence[str] = (),
    extra: dict[str, str | Sequence[str] | None] | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    return_codes: bool = False,
):
    """Check columns, completeness and uniqueness; return the columns needed, sorted by unit/time.

    With ``return_codes=True`` also returns the unit and time codes (``0..N-1``, ``0..T-1``) of
    the rows (kept out of ``DataFrame.attrs``, which pandas deep-copies on every operation).

    Parameters
    ----------
    data : DataFrame
    outcome, unit, time : str
        Column names.
    numeric : sequence of str
        Further columns that must be numeric and complete.
    extra : dict, optional
        Further ``{argument: column(s)}`` that must exist (for the error message).
    weights, cluster : str, optional
        Weight and cluster columns.
    """
    cols = {"outcome": outcome, "unit": unit, "time": time, "weights": weights, "cluster": cluster}
    cols.update(extra or {})
    check_columns(data, cols)
    need = [outcome, *numeric] + ([weights] if weights else [])
    check_numeric_complete(data, list(dict.fromkeys(need)))
    for c in (unit, time) + ((cluster,) if cluster else ()):
        if data[c].isna().any():
            rows = list(data.index[data[c].isna()][:10])
            raise PanelDataError(f"column {c!r} has missing values in rows {rows}; fill or drop them")
    if weights:
        w = np.asarray(data[weights], dtype=float)
        if (w <= 0).any():
            rows = list(data.index[w <= 0][:10])
            raise PanelDataError(
                f"weights column {weights!r} must be positive; rows {rows} are <= 0. Drop those rows "
                "or fix the weights."
            )
    if not pd.api.types.is_numeric_dtype(data[time]):
        raise PanelDataError(f"time column {time!r} must be numeric (e.g. the year as an integer).")
    keep = list(dict.fromkeys([unit, time, outcome, *need] + ([cluster] if cluster else [])))
    for v in (extra or {}).values():
        keep += [c for c in as_list(v) if c not in keep]
    # one pass: unit/time codes give sortedness and uniqueness of (unit, time) at once
    u, _ = pd.factorize(data[unit], sort=True)
    t, times = pd.factorize(data[time], sort=True)
    key = u.astype(np.int64) * max(len(times), 1) + t
    d = np.diff(key)
    if len(d) and (d <= 0).any():
        order = np.argsort(key, kind="stable")
        if (np.diff(key[order]) == 0).any():
            check_unique_panel(data, unit, time)  # raises with the offending pairs and rows
        out = data.iloc[order][keep].reset_index(drop=True)
        u, t = u[order], t[order]
    else:
        out = data[keep].reset_index(drop=True)
    if return_codes:
        return out, (u.astype(np.int64), t.astype(np.int64))
    return out


def unit_clusters(df: pd.DataFrame, unit: str, cluster: str | None, units) -> np.ndarray | None:
    """Cluster of each unit in ``units`` order (``None`` without a cluster column).

    Raises
    ------
    PanelDataError
        If the cluster changes within a unit.
    """
    if cluster is None:
        return None
    cn = df.groupby(unit)[cluster].nunique()
    if (cn > 1).any():
        raise PanelDataError(
            [f"cluster column {cluster!r} varies within unit(s) "
             f"{', '.join(map(str, cn.index[cn > 1][:10]))}; clusters must contain whole units"],
            header="Invalid cluster",
        )
    return df.groupby(unit, sort=False)[cluster].first().reindex(units).to_numpy()


def check_cohort(df: pd.DataFrame, unit: str, time: str, cohort: str) -> pd.Series:
    """Validate a cohort column (first treated period, 0 = never) and return it by unit.

    Raises
    ------
    PanelDataError
        If the cohort is missing, not numeric, or changes within a unit.
    """
    check_numeric_complete(df, [cohort])
    nun = df.groupby(unit, sort=False)[cohort].nunique()
    bad = nun.index[nun > 1]
    if len(bad):
        raise PanelDataError(
            f"cohort column {cohort!r} changes within unit(s) {list(bad[:10])}: a cohort is the "
            "first treated period of a unit and must be the same in all its rows. Fix the cohort "
            "of those units."
        )
    g = df.groupby(unit, sort=True)[cohort].first()
    neg = g.index[g < 0]
    if len(neg):
        raise PanelDataError(f"cohort column {cohort!r} is negative for units {list(neg[:10])}; use 0 for never.")
    return g


def drop_always_treated(
    df: pd.DataFrame, unit: str, time: str, cohort: str, anticipation: int = 0
) -> pd.DataFrame:
    """Drop units treated in (or before) their first observed period, warning with their names."""
    first = df.groupby(unit)[time].transform("min")
    g = df[cohort]
    bad = (g > 0) & (g - anticipation <= first)
    if bad.any():
        units = sorted(df.loc[bad, unit].unique().tolist(), key=str)
        warnings.warn(
            f"{len(units)} unit(s) are treated from their first observed period and have no "
            f"pre-treatment period, so they are excluded: {units[:20]}"
            + (" ..." if len(units) > 20 else ""),
            ExcludedUnitsWarning,
            stacklevel=3,
        )
        df = df.loc[~df[unit].isin(units)].reset_index(drop=True)
    return df


def require_never_treated(g_by_unit: pd.Series, cohort: str, control_group: str, alternative: str) -> None:
    """Raise :class:`NoControlUnitsError` if no unit has cohort 0."""
    if not (g_by_unit == 0).any():
        raise NoControlUnitsError(
            f"control_group={control_group!r} needs never-treated units (cohort {cohort!r} == 0), but every unit "
            f"is treated at some point. Use {alternative} instead."
        )


@limited_blas
def compute_inference(design: LinearDesign, cov_type: str, options: dict):
    """Covariance from the registry, with the design's clusters as default."""
    return covariance.compute(design, cov_type, **options)


#: Options of ``cov_type="auto"`` that a vector of effects uses when the rule picks a bootstrap.
_VECTOR_AUTO_OPTIONS = ("cluster", "small_sample")


@limited_blas
def vector_inference(design: LinearDesign, cov_type: str, options: dict):
    """Covariance of a vector of effects (event studies, their aggregations).

    Every name is the registry's. ``"auto"`` follows the registry's rule
    (:func:`evalkit.inference.recommend_inference`) when that rule picks an analytic covariance:
    CR1 with many clusters, CR2 with the treatment-group working model with few. When it picks
    the wild bootstrap (few clusters, and the design does not say which are treated, or all are),
    the vector gets CR1 with a t(G-1) reference instead, and its description says why: the
    bootstrap gives p-values and intervals one coefficient at a time but no covariance, which the
    vector's ``std_errors``, ``cov`` (what HonestDiD reads) and uniform bands need, so it is not
    run (:func:`evalkit.inference.few_cluster_report` runs it for one coefficient or contrast).
    """
    if cov_type != "auto":
        return compute_inference(design, cov_type, options)
    from .._shared.exceptions import FewClustersWarning
    from .._shared.vocabulary import renamed_options
    from ..inference.recommend import recommend_inference

    opts = renamed_options("auto", options, covariance._REGISTRY["auto"].allowed_kwargs)
    with warnings.catch_warnings():  # "auto" itself warns, once
        warnings.simplefilter("ignore", FewClustersWarning)
        rec = recommend_inference(design, cluster=opts.get("cluster"))
    if rec.cov_type != "wild":
        return compute_inference(design, "auto", opts)
    res = compute_inference(design, "clustered", {k: v for k, v in opts.items() if k in _VECTOR_AUTO_OPTIONS})
    res.description = (
        f"{res.description} [default for a vector of effects: {rec.n_clusters} clusters, "
        f"{rec.n_treated_clusters if rec.n_treated_clusters is not None else 'unknown'} treated; "
        "the few-cluster bootstrap tests one coefficient at a time "
        "(evalkit.inference.few_cluster_report)]"
    )
    return res


def dof_for(dof, idx: int | None = None):
    """Pick a scalar dof from a registry result (scalar, ``None`` or per-coefficient array)."""
    if dof is None:
        return None
    arr = np.atleast_1d(np.asarray(dof, dtype=float))
    if arr.size == 1:
        return float(arr[0])
    if idx is None:
        return float(arr.min())
    return float(arr[idx])


def check_weights_arg(weights) -> None:
    """Weights are given as a column name."""
    if weights is not None and not isinstance(weights, str):
        raise EvalkitError("weights must be the name of a column holding positive weights, or None.")
