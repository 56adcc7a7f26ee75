"""Turn a long panel into the block matrices that synthetic-control estimators work on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._shared.exceptions import DesignError, NoControlUnitsError, PanelDataError
from .._shared.validation import check_columns, check_numeric_complete, check_unique_panel


@dataclass
class BlockPanel:
    """A balanced panel in block form: control units first, then treated units.

    Attributes
    ----------
    Y : ndarray, shape (N, T)
        Outcomes; rows ``0..N0-1`` are controls, rows ``N0..N-1`` treated units.
    X : ndarray, shape (N, T, K) or None
        Time-varying covariates in the same layout.
    units : ndarray
        Unit labels in row order.
    times : ndarray
        Sorted period labels.
    N0, T0 : int
        Number of control units and of pre-treatment periods.
    """

    Y: np.ndarray
    X: np.ndarray | None
    units: np.ndarray
    times: np.ndarray
    N0: int
    T0: int
    outcome: str
    covariates: list[str]

    @property
    def N1(self) -> int:
        return self.Y.shape[0] - self.N0

    @property
    def T1(self) -> int:
        return self.Y.shape[1] - self.T0

    @property
    def treated_units(self) -> np.ndarray:
        return self.units[self.N0 :]

    @property
    def control_units(self) -> np.ndarray:
        return self.units[: self.N0]

    @property
    def first_treated(self):
        return self.times[self.T0]


def _listing(items, limit: int = 12) -> str:
    items = [str(i) for i in items]
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def block_panel(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    covariates: list[str] | None = None,
    min_pre: int = 2,
    allow_more_treated: bool = False,
) -> BlockPanel:
    """Validate a long panel and return it in block form.

    Parameters
    ----------
    data : DataFrame
        One row per unit and period.
    outcome, unit, time, treatment : str
        Column names; ``treatment`` is a 0/1 absorbing indicator switched on at the same period for
        every treated unit.
    covariates : list of str, optional
        Time-varying covariates.
    min_pre : int
        Minimum number of pre-treatment periods.
    allow_more_treated : bool
        Accept more treated than control units (otherwise an error).

    Raises
    ------
    PanelDataError
        Missing columns, values or unit-periods; a treatment that is not 0/1 or switches off.
    DesignError
        No treated units, staggered adoption, too few pre-periods, more treated units than donors,
        a constant outcome.
    """
    covariates = list(covariates or [])
    check_columns(
        data, {"outcome": outcome, "unit": unit, "time": time, "treatment": treatment,
               "covariates": covariates}
    )
    df = data[[unit, time, outcome, treatment] + covariates]
    check_numeric_complete(df, [outcome, treatment] + covariates)
    check_unique_panel(df, unit, time)
    d = pd.to_numeric(df[treatment])
    bad = df.index[~d.isin([0, 1])]
    if len(bad):
        raise PanelDataError(
            [f"column {treatment!r} must be 0/1; rows {_listing(bad)} hold other values "
             f"({_listing(sorted(set(d.loc[bad])))}). Recode the treatment as 0/1."]
        )
    times = np.sort(df[time].unique())
    wide = df.pivot(index=unit, columns=time, values=outcome).reindex(columns=times)
    if wide.isna().any().any():
        miss = wide.isna()
        lines = [
            f"unit {u!r} has no row for {time} {_listing(list(times[miss.loc[u].to_numpy()]))}"
            for u in wide.index[miss.any(axis=1)]
        ]
        raise PanelDataError(
            lines[:20] + ([f"... and {len(lines) - 20} more units"] if len(lines) > 20 else [])
            + ["Synthetic control needs a balanced panel: drop these units (e.g. "
               "data[~data[unit].isin([...])]) or fill the missing years before estimating."],
            header="Unbalanced panel (units with missing years)",
        )
    dwide = df.pivot(index=unit, columns=time, values=treatment).reindex(columns=times).astype(int)
    ever = dwide.to_numpy().max(axis=1) == 1
    if not ever.any():
        raise DesignError(
            f"No unit has {treatment}=1: the treatment column marks no treated unit-periods."
        )
    dv = dwide.to_numpy()
    switch_off = (np.diff(dv, axis=1) < 0).any(axis=1)
    if switch_off.any():
        raise PanelDataError(
            [f"treatment {treatment!r} switches off for units "
             f"{_listing(dwide.index[switch_off])}; it must be absorbing (stay 1 once 1)."]
        )
    first = np.where(ever, dv.argmax(axis=1), -1)
    treated_first = first[ever]
    if len(set(treated_first)) > 1:
        cohorts = pd.Series(times[treated_first], index=dwide.index[ever])
        desc = "; ".join(
            f"{t}: {_listing(list(g.index), 5)}" for t, g in cohorts.groupby(cohorts)
        )
        raise DesignError(
            "Treated units adopt at different periods (" + desc + "). This estimator needs one "
            "adoption date: estimate each adoption cohort separately (subset the data to one "
            "cohort plus the never-treated units)."
        )
    T0 = int(treated_first[0])
    if T0 < min_pre:
        raise DesignError(
            f"Treated units {_listing(dwide.index[ever])} have {T0} pre-treatment period(s) "
            f"(first treated {time} = {times[T0]}, first {time} in the data = {times[0]}); at "
            f"least {min_pre} are needed. Add earlier periods to the data."
        )
    controls = list(dwide.index[~ever])
    treated = list(dwide.index[ever])
    if not controls:
        raise NoControlUnitsError(
            f"Every unit is treated ({_listing(treated)}): there are no donor units. Add "
            "untreated units to the data."
        )
    if len(treated) > len(controls) and not allow_more_treated:
        raise DesignError(
            f"More treated units ({len(treated)}) than donor units ({len(controls)}): the "
            "synthetic comparison and its placebo inference need more donors than treated units. "
            "Add donor units or aggregate the treated units."
        )
    order = controls + treated
    order_idx = pd.Index(wide.index).get_indexer(order)
    Y = wide.to_numpy(dtype=float)[order_idx]
    if np.nanstd(Y) == 0:
        raise DesignError(
            f"The outcome {outcome!r} is constant (every value is {Y.flat[0]!r}); there is no "
            "variation to fit. Check the outcome column."
        )
    X = None
    if covariates:
        mats = []
        for cov in covariates:
            w = df.pivot(index=unit, columns=time, values=cov).reindex(columns=times)
            mats.append(w.to_numpy(dtype=float)[order_idx])
        X = np.stack(mats, axis=2)
    return BlockPanel(
        Y=Y, X=X, units=np.asarray(order, dtype=object), times=times, N0=len(controls), T0=T0,
        outcome=outcome, covariates=covariates,
    )
