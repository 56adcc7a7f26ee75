"""The formula instrument: the allocation the published rule gives each unit, and its expectation
over the bureau's yearly shocks (Borusyak and Hull 2023).

This module is the adapter between :mod:`evalkit.allocation` (which computes allocations from
specs) and the IV estimator (:func:`evalkit.iv.panel_iv`, which takes the instrument as a column).
"""


from __future__ import annotations

import inspect
import itertools
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._shared.exceptions import (
    EvalkitError,
    SpecError,
)
from .._shared.options import refuse_unknown
from .._shared.validation import (
    check_option,
)
from .._shared.vocabulary import DEFAULT_SEED, keywords

SHOCK_ASSUMPTION = (
    "Assumed exogenous (as-good-as-random given the lagged factors): the bureau's yearly factor "
    "weight vectors{total}. The units' lagged factor levels are NOT assumed exogenous: the "
    "instrument is recentred by its expectation over the shocks (Borusyak and Hull 2023)."
)


# ============================================================================================
# formula instrument and its expectation over the bureau's shocks
# ============================================================================================
def load_specs(path: str | Path, pattern: str = r"spec_(\d{4})\.ya?ml$") -> dict[int, Any]:
    """Read every ``spec_<year>.yaml`` in a folder with :func:`evalkit.allocation.load_spec`.

    Parameters
    ----------
    path : str or Path
        Folder (e.g. ``data_raw/demo/allocation``).
    pattern : str
        Regular expression with the year as first group.

    Returns
    -------
    dict
        ``{year: AllocationSpec}`` sorted by year.

    Examples
    --------
    >>> from evalkit import iv
    >>> specs = iv.load_specs("data_raw/demo/allocation")
    >>> sorted(specs)
    [2022, 2023, 2024, 2025]
    """
    from .. import allocation

    p = Path(path)
    if not p.is_dir():
        raise EvalkitError(f"Allocation folder not found: {p}. Pass the folder holding "
                           "spec_<year>.yaml files.")
    out = {}
    for f in sorted(p.iterdir()):
        m = re.search(pattern, f.name)
        if m:
            out[int(m.group(1))] = allocation.load_spec(f)
    if not out:
        raise EvalkitError(f"No yearly spec files matching {pattern!r} in {p}.")
    return dict(sorted(out.items()))


def _spec_variant(spec, weights=None, total=None):
    """A copy of ``spec`` with other factor weights (percent) and/or total (万元)."""
    from ..allocation import spec_from_dict

    if weights is None and total is None:
        return spec
    data = spec.flat_data()  # first-level groups folded into effective weights
    if weights is not None:
        for f in data["factors"]:
            if f["id"] in weights:
                f["weight"] = str(weights[f["id"]])  # exact text (Fraction or decimal)
    if total is not None:
        t_old = int(data["total_wan"])
        data["total_wan"] = int(round(total))
        # keep the reserve share
        if data.get("reserve_wan"):
            data["reserve_wan"] = int(round(int(data["reserve_wan"]) * total / t_old))
    return spec_from_dict(data, source=f"{spec.source} (shock redraw)")


def _percent_weights(ids: list[str], shares: np.ndarray) -> dict[str, str]:
    """Shares summing to 1 as exact decimal percent strings (6 decimals) summing to 100."""
    micro = np.round(np.asarray(shares) * 1e8).astype(np.int64)  # 1e-6 percent units
    micro[-1] = 100_000_000 - micro[:-1].sum()
    return {f: f"{m // 1_000_000}.{m % 1_000_000:06d}" for f, m in zip(ids, micro, strict=True)}


def _alloc_amounts(spec, factors, last_year, amount: str) -> pd.Series:
    from .. import allocation

    a = allocation.allocate(spec, factors, last_year=last_year)
    s = a.continuous_series() if amount == "continuous" else a.amount_series().astype(float)
    s.index = s.index.astype(str)
    return s


@keywords
def formula_instrument(
    specs: dict[int, Any] | str | Path,
    factors: Any,
    *,
    amount: Literal["continuous", "rounded"] = "continuous",
    chain_last_year: bool = True,
) -> pd.DataFrame:
    """Formula-predicted allocation per unit and year (the instrument ``z``), in 万元.

    Each year's spec is applied to its lagged factors with :func:`evalkit.allocation.allocate`.
    The base part / hold-harmless rules that refer to last year's amounts use last year's
    *formula* amounts (``chain_last_year=True``), never the actual amounts, which contain the
    discretionary top-up.

    Parameters
    ----------
    specs : dict or path
        ``{year: spec}`` or a folder with ``spec_<year>.yaml``.
    factors : FactorTable, DataFrame or path
        Long factor table (``factors.csv``).
    amount : {"continuous", "rounded"}
        Pre-rounding amounts (default; smooth in the shocks) or the final integer amounts.
    chain_last_year : bool
        Feed each year's formula amounts to the next year's base/hold-harmless rules.

    Returns
    -------
    DataFrame
        Columns ``unit_code, year, z_wan``.

    Examples
    --------
    >>> from evalkit import iv
    >>> from evalkit.allocation import read_factors
    >>> specs = iv.load_specs("data_raw/demo/allocation")
    >>> z = iv.formula_instrument(specs, read_factors("data_raw/demo/allocation/factors.csv"))
    >>> z.columns.tolist()[:3], [int(y) for y in sorted(z.year.unique())]
    (['unit_code', 'year', 'z_wan'], [2022, 2023, 2024, 2025])
    """
    from .. import allocation

    check_option("amount", amount, ("continuous", "rounded"))
    specs = load_specs(specs) if isinstance(specs, (str, Path)) else dict(sorted(specs.items()))
    table = factors if isinstance(factors, allocation.FactorTable) else \
        allocation.read_factors(factors)
    rows, last = [], None
    for yr, sp in specs.items():
        s = _alloc_amounts(sp, table, last, amount)
        rows.append(pd.DataFrame({"unit_code": s.index, "year": int(yr), "z_wan": s.to_numpy()}))
        last = s if chain_last_year else None
    return pd.concat(rows, ignore_index=True)


@keywords
def expected_instrument(
    specs: dict[int, Any] | str | Path,
    factors: Any,
    *,
    shocks: tuple[str, ...] = ("weights", "total"),
    method: Literal["permute", "dirichlet"] = "permute",
    n_draws: int = 200,
    concentration: float = 200.0,
    seed: int | None = DEFAULT_SEED,
    weight_mean: dict[str, float] | None = None,
    total_support: list[float] | None = None,
    amount: Literal["continuous", "rounded"] = "continuous",
    chain_last_year: bool = True,
) -> pd.DataFrame:
    """Expected formula instrument ``E[z_it]`` over the bureau's yearly shocks.

    ``method="permute"`` treats the observed yearly weight vectors (and totals) as exchangeable
    across years: for each year it recomputes the formula on that year's lagged factors with every
    observed weight vector (× every observed total) and averages — the exact expectation under
    the permutation distribution. ``method="dirichlet"`` redraws weights from a Dirichlet centred
    at their mean (``concentration``) and totals from the observed ones, ``n_draws`` times.

    Parameters
    ----------
    specs : dict or path
        ``{year: spec}`` or a folder with ``spec_<year>.yaml``.
    factors : FactorTable, DataFrame or path
        Factor table.
    shocks : tuple of {"weights", "total"}
        Which parts of the rule are treated as random shocks.
    method : {"permute", "dirichlet"}
        Shock distribution.
    n_draws : int
        Draws for ``method="dirichlet"``.
    concentration : float
        Dirichlet concentration (larger = closer to the mean weights).
    weight_mean : dict, optional
        ``{factor_id: percent}`` centre of the Dirichlet when the bureau documents how weights are
        set (default: the mean of the observed yearly weights).
    total_support : list of float, optional
        Totals (万元) drawn uniformly in the ``dirichlet`` method when documented (default: the
        observed yearly totals).
    seed : int or None
        Random seed (dirichlet; default :data:`evalkit._shared.vocabulary.DEFAULT_SEED`).
    amount, chain_last_year : see :func:`formula_instrument`.

    Returns
    -------
    DataFrame
        Columns ``unit_code, year, ez_wan, n_draws``; ``attrs["iv_shock_assumption"]`` states the
        assumption in English; ``attrs["iv_shocks"]`` (the shocks, e.g. ``["weights", "total"]``) and
        ``attrs["iv_expectation"]`` (``method``, ``n_draws``, ``concentration``) give the same facts
        as data (:func:`evalkit.report.shock_assumption` words them in either language).

    Examples
    --------
    >>> from evalkit import iv
    >>> from evalkit.allocation import read_factors
    >>> specs = iv.load_specs("data_raw/demo/allocation")
    >>> fac = read_factors("data_raw/demo/allocation/factors.csv")
    >>> ez = iv.expected_instrument(specs, fac, n_draws=20, seed=1)
    >>> "ez_wan" in ez.columns, "iv_shock_assumption" in ez.attrs
    (True, True)
    """
    from .. import allocation

    check_option("method", method, ("permute", "dirichlet"))
    for s in shocks:
        check_option("shocks", s, ("weights", "total"))
    if not shocks:
        raise EvalkitError("shocks must name at least one of 'weights', 'total'.")
    specs = load_specs(specs) if isinstance(specs, (str, Path)) else dict(sorted(specs.items()))
    table = factors if isinstance(factors, allocation.FactorTable) else \
        allocation.read_factors(factors)
    years = list(specs)
    for sp in specs.values():
        allocation.require_redrawable(sp, "the recentred formula instrument / 重定心公式工具变量")
    ids = {yr: tuple(sp.factor_ids) for yr, sp in specs.items()}
    if "weights" in shocks and len(set(ids.values())) > 1:
        raise SpecError([f"year {yr}: factors {list(v)}" for yr, v in ids.items()],
                        header="Weight vectors can only be exchanged between years with the same "
                               "factors; the yearly specs use different factor sets")
    wvecs = {yr: {f.id: f.weight for f in sp.factors} for yr, sp in specs.items()}
    totals = {yr: float(sp.total_wan) for yr, sp in specs.items()}
    if len(years) < 2:
        raise EvalkitError("Recentring over yearly shocks needs specs for at least 2 years.")
    rng = np.random.default_rng(seed)
    if method == "permute":
        w_opts = [wvecs[y] for y in years] if "weights" in shocks else [None]
        t_opts = [totals[y] for y in years] if "total" in shocks else [None]
        draws = list(itertools.product(w_opts, t_opts))
    else:
        fid = list(wvecs[years[0]])
        if weight_mean is not None:
            unknown = sorted(set(weight_mean) ^ set(fid))
            if unknown:
                raise SpecError([f"weight_mean must name exactly the factors {fid}; "
                                 f"mismatched: {unknown}"], header="Invalid weight_mean")
            mean_w = np.array([float(weight_mean[f]) for f in fid])
        else:
            mean_w = np.mean([[float(wvecs[y][f]) for f in fid] for y in years], axis=0)
        if (mean_w <= 0).any():
            raise EvalkitError("Dirichlet centre weights must all be positive.")
        mean_w = mean_w / mean_w.sum()
        t_pool = (np.asarray(total_support, float) if total_support is not None
                  else np.array([totals[y] for y in years]))
        draws = []
        for _ in range(n_draws):
            w = None
            if "weights" in shocks:
                w = _percent_weights(fid, rng.dirichlet(concentration * mean_w))
            t = float(t_pool[rng.integers(len(t_pool))]) if "total" in shocks else None
            draws.append((w, t))
    rows = []
    last_obs = None
    for yr, sp in specs.items():
        acc = None
        for w, t in draws:
            s = _alloc_amounts(_spec_variant(sp, w, t), table, last_obs, amount)
            acc = s if acc is None else acc.add(s, fill_value=0.0)
        ez = acc / len(draws)
        rows.append(pd.DataFrame({"unit_code": ez.index, "year": int(yr), "ez_wan": ez.to_numpy(),
                                  "n_draws": len(draws)}))
        if chain_last_year:
            last_obs = _alloc_amounts(sp, table, last_obs, amount)
    out = pd.concat(rows, ignore_index=True)
    shock_txt = {("weights",): "", ("total",): "", ("total", "weights"): " and totals",
                 ("weights", "total"): " and totals"}[tuple(shocks)]
    text = SHOCK_ASSUMPTION.format(total=shock_txt)
    if shocks == ("total",):
        text = text.replace("yearly factor weight vectors", "yearly fund totals")
    if method == "permute":
        how = f"exact average over the {len(draws)} combinations of the observed yearly shocks"
    else:
        how = f"average over {n_draws} Dirichlet redraws (concentration {concentration:g})"
    text += f" Expectation: {how}."
    out.attrs["iv_shock_assumption"] = text
    # the same facts as data, for pages that state them in their own language
    out.attrs["iv_shocks"] = sorted(set(shocks), reverse=True)  # ["weights", "total"] order
    out.attrs["iv_expectation"] = {"method": method, "n_draws": len(draws) if method == "permute" else n_draws,
                                   "concentration": None if method == "permute" else float(concentration)}
    return out


def recentred_instrument(specs, factors, **kwargs) -> pd.DataFrame:
    """Formula instrument, its expectation over the shocks, and the recentred instrument.

    Parameters
    ----------
    specs, factors
        See :func:`formula_instrument`.
    **kwargs
        Passed to :func:`expected_instrument` (``amount`` and ``chain_last_year`` also to
        :func:`formula_instrument`).

    Returns
    -------
    DataFrame
        ``unit_code, year, z_wan, ez_wan, z_recentred_wan`` with
        ``attrs["iv_shock_assumption"]``.

    Examples
    --------
    >>> from evalkit import iv
    >>> from evalkit.allocation import read_factors
    >>> specs = iv.load_specs("data_raw/demo/allocation")
    >>> fac = read_factors("data_raw/demo/allocation/factors.csv")
    >>> rc = iv.recentred_instrument(specs, fac, n_draws=20, seed=1)
    >>> "z_recentred_wan" in rc.columns
    True
    """
    refuse_unknown(recentred_instrument, kwargs, passes_to="arguments of expected_instrument",
                   accepted=list(inspect.signature(expected_instrument).parameters)[2:])
    fkw = {k: kwargs[k] for k in ("amount", "chain_last_year") if k in kwargs}
    z = formula_instrument(specs, factors, **fkw)
    ez = expected_instrument(specs, factors, **kwargs)
    out = z.merge(ez[["unit_code", "year", "ez_wan"]], on=["unit_code", "year"], how="left")
    out["z_recentred_wan"] = out["z_wan"] - out["ez_wan"]
    out.attrs["iv_shock_assumption"] = ez.attrs["iv_shock_assumption"]
    return out
