"""Seeded synthetic demo data with known true effects (SYNTHETIC — not real statistics).

:func:`make_demo_panel` builds, and :func:`write_demo` writes, a county-year panel of Shandong's
136 county-level units plus Weifang's four development-zone units for 2012..``end_year``,
calibrated to the magnitudes of ``data_raw/README.md`` (section "Units") (Weifang city above-scale
industrial revenue ≈ 1.0 万亿元 in 2021, 1.2+ 万亿 in 2024, split across its 16 units by GDP share ×
an industry-intensity multiplier), with four planted effects on log revenue:

* **pilot zone** — Weifang's 16 units from 2021, an effect rising from 0.02 to 0.06 (unit
  heterogeneity ±30 %); the rest of Shandong is never treated;
* **first-unit insurance** (首台套) — 45 counties (5 of them Weifang's) in nine cohorts 2016..2024
  of five; effects grow with exposure and are larger and steeper for early cohorts, so static TWFE
  is biased; assignment is random (independent of untreated outcomes);
* **technology-upgrade subsidy** — 30 % of units never subsidised; the others start in 2014..2022
  with a fixed intensity ``d`` (‰ of the previous year's revenue) and a concave dose response
  ``ATT(d) = 0.10 (1 - exp(-d / 1.5))``; ``d`` and start year are random;
* **factor-method funds** — Weifang's 16 units from 2022: a formula amount from lagged factors
  that are not the outcome (projects filed, employment, new industrial land, R&D staff) with
  yearly weights and total drawn at random, plus a discretionary top-up that goes to units with
  bad revenue shocks (so naive OLS is biased and the formula amount is a valid instrument);
  effect ``BETA_FUND`` on log revenue per 1,000 万元.

All draws come from :class:`numpy.random.SeedSequence` children of ``seed`` (PCG64 streams are
stable across numpy versions) and are made for the years 2012..2040 whatever ``end_year`` is,
so a longer panel repeats the shorter one's years exactly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._shared.exceptions import EvalkitError
from ._demo_constants import (
    BALANCE_TOL,
    BETA_FUND,
    DEMO_SEED,
    FACTORS,
    FUND_START,
    GENERATOR_VERSION,
    GROWTH_AFTER,
    INTENSITY,
    MAX_REDRAWS,
    MAX_YEAR,
    PANEL_FORMATS,
    PILOT_YEAR,
    START_YEAR,
    SYNTHETIC_NOTE,
    TECH_ATT_MAX,
    TECH_SCALE,
    WEIFANG_REVENUE_YI,
)
from ._demo_truth import truth as compute_truth
from .masters import unit_master, weifang_units


@dataclass
class DemoData:
    """Everything the generator makes.

    Attributes
    ----------
    panel : DataFrame
        The county-year panel (canonical columns, money in 万元).
    city_indicators : DataFrame
        ``year, indicator_id, value, unit`` for the plan's targets.
    factors : DataFrame
        Long factor table ``year, unit_code, factor_id, value, unit_of_measure, source, status``
        (``year`` = data year, one before the allocation year).
    specs : dict
        Allocation year → allocation spec (a dict in the ``docs/allocation.md`` §1 format).
    truth : dict
        True values of the estimands (see the ``definition`` fields).
    fund_parts : DataFrame
        ``unit_code, year, formula_wan, topup_wan`` of the factor-method funds (in memory only:
        the written data let :mod:`evalkit.allocation` recompute the formula amount).
    true_effects : DataFrame
        ``unit_code, year`` and the planted effect of each measure on log revenue in that
        unit-year (``pilot_zone, factor_fund, first_unit, tech_subsidy``); written as
        ``true_effects.csv`` so that any weighting (e.g. synthetic-control weights) can be
        applied to the truth.

    Examples
    --------
    >>> from evalkit.data import make_demo_panel
    >>> demo = make_demo_panel(end_year=2022)
    >>> sorted(demo.specs)
    [2022]
    """

    panel: pd.DataFrame
    city_indicators: pd.DataFrame
    factors: pd.DataFrame
    specs: dict[int, dict[str, Any]] = field(default_factory=dict)
    truth: dict[str, Any] = field(default_factory=dict)
    fund_parts: pd.DataFrame | None = None
    true_effects: pd.DataFrame | None = None


def _streams(seed: int, n: int = 12) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def _largest_remainder(quotas: list[Fraction], codes: list[str], total: int) -> list[int]:
    """Hamilton rounding: floors, then +1 to the largest remainders (ties: larger quota, code)."""
    floors = [math.floor(q) for q in quotas]
    left = total - sum(floors)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), -quotas[i], codes[i]))
    for i in order[:left]:
        floors[i] += 1
    return floors


def _formula_amounts(x: dict[str, np.ndarray], weights: dict[str, int], t_alloc: int,
                     codes: list[str]) -> list[int]:
    """Exact factor-method amounts: T × Σ_k w_k x_ik / Σ_j x_jk, rounded by largest remainder."""
    n = len(codes)
    quotas = [Fraction(0)] * n
    for fid, w in weights.items():
        col = [int(v) for v in x[fid]]
        tot = sum(col)
        for i in range(n):
            quotas[i] += Fraction(w, 100) * Fraction(col[i], tot)
    quotas = [q * t_alloc for q in quotas]
    return _largest_remainder(quotas, codes, t_alloc)


def _int_weights(rng: np.random.Generator) -> dict[str, int]:
    base = np.array([f[3] for f in FACTORS], dtype=float)
    w = rng.dirichlet(base * 0.5)  # wide year-to-year changes: the bureau's random shock
    pct = np.maximum(np.round(w * 100), 5)
    pct[int(np.argmax(pct))] += 100 - pct.sum()
    return {f[0]: int(p) for f, p in zip(FACTORS, pct)}


def _sizes(r_size: np.random.Generator, units: pd.DataFrame, codes: list[str]) -> np.ndarray:
    """2021 revenue (万元) of every unit; Weifang's units split the city total by GDP and industry."""
    n = len(codes)
    gdp = weifang_units().set_index("unit_code")["gdp2021_100m_cny"]
    rev21 = np.exp(r_size.normal(np.log(6.0e6), 0.8, n)).clip(4e5, 4e7)
    wf_codes = [c for c in codes if units.set_index("unit_code").loc[c, "in_weifang"] == 1]
    raw = np.array([gdp[c] * INTENSITY[c] for c in wf_codes])
    wf_share = raw / raw.sum()
    for c, s in zip(wf_codes, wf_share):
        rev21[codes.index(c)] = 1.0e8 * s
    return rev21


def _untreated(r_y0: np.random.Generator, r_noise: np.random.Generator, rev21: np.ndarray,
               years_all: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Untreated log revenue: systematic part (level, trend, cycle, 2018 break) and AR(1) noise."""
    n, T = len(rev21), len(years_all)
    ti = years_all - PILOT_YEAR
    trend = r_y0.normal(0.0, 0.004, n)
    loading = r_y0.normal(1.0, 0.3, n)
    cycle = np.zeros(T)
    shocks = r_y0.normal(0.0, 0.025, T)
    for k in range(1, T):
        cycle[k] = 0.6 * cycle[k - 1] + shocks[k]
    step = r_y0.normal(-0.10, 0.06, n)  # 2018 fourth-census revision break
    post18 = (years_all >= 2018).astype(float)
    eps = np.zeros((n, T))
    innov = r_noise.normal(0.0, 0.035, (n, T))
    eps[:, 0] = innov[:, 0] / math.sqrt(1 - 0.25)
    for k in range(1, T):
        eps[:, k] = 0.5 * eps[:, k - 1] + innov[:, k]
    k21 = PILOT_YEAR - START_YEAR
    level = np.log(rev21) - loading * cycle[k21] - step
    y0_sys = (level[:, None] + trend[:, None] * ti[None, :] + loading[:, None] * cycle[None, :]
              + step[:, None] * post18[None, :])
    return y0_sys, eps


def _assignments(r_fu: np.random.Generator, r_tech: np.random.Generator, units: pd.DataFrame,
                 wf: np.ndarray, years_all: np.ndarray):
    """First-unit insurance and tech subsidy, redrawn until balanced between Weifang and the rest.

    Both are redrawn (at most ``MAX_REDRAWS`` times, never looking at outcomes) until Weifang's
    and the rest's exposure to them is balanced over 2012..2025, so that they do not contaminate
    the pilot-zone comparison.
    """
    n = len(units)
    is_county = (units["unit_type"] != "zone").to_numpy()
    wf_c = np.flatnonzero(wf & is_county)
    rest_c = np.flatnonzero(~wf & is_county)
    pre_m = years_all < PILOT_YEAR
    post_m = (years_all >= PILOT_YEAR) & (years_all <= 2025)
    for _ in range(MAX_REDRAWS):
        first_year, fu_on, fu_eff = _draw_first_unit(r_fu, n, wf_c, rest_c, years_all)
        start, dose, tech_on, tech_eff = _draw_tech(r_tech, n, years_all)
        other = fu_eff + tech_eff
        bias = ((other[wf][:, post_m].mean() - other[wf][:, pre_m].mean())
                - (other[~wf][:, post_m].mean() - other[~wf][:, pre_m].mean()))
        if abs(bias) < BALANCE_TOL:
            break
    return is_county, first_year, fu_on, fu_eff, start, dose, tech_on, tech_eff


def _employment_population(r_emp: np.random.Generator, r_pop: np.random.Generator, rev21: np.ndarray,
                           is_county: np.ndarray, years_all: np.ndarray):
    """Employment and population paths (independent of the revenue shocks)."""
    n, T = len(rev21), len(years_all)
    ti = years_all - PILOT_YEAR
    prod = np.exp(r_emp.normal(np.log(170.0), 0.25, n))
    emp_noise = np.zeros((n, T))
    ei = r_emp.normal(0, 0.02, (n, T))
    for k in range(1, T):
        emp_noise[:, k] = 0.7 * emp_noise[:, k - 1] + ei[:, k]
    emp_trend = r_emp.normal(-0.01, 0.01, n)
    employment = np.round(rev21[:, None] / prod[:, None] * np.exp(emp_trend[:, None] * ti + emp_noise))
    pop21 = np.where(is_county, np.exp(r_pop.normal(np.log(60.0), 0.45, n)).clip(12, 190),
                     r_pop.uniform(5.0, 40.0, n))
    pop_g = r_pop.normal(0.002, 0.004, n)
    population = np.round(pop21[:, None] * np.exp(pop_g[:, None] * ti
                                                    + r_pop.normal(0, 0.003, (n, T))), 2)
    return employment, population


def _factor_funds(r_fac: np.random.Generator, r_fund: np.random.Generator, codes: list[str],
                  wf: np.ndarray, rev21: np.ndarray, employment: np.ndarray, eps: np.ndarray,
                  years_all: np.ndarray, end_year: int):
    """Factor-method funds of Weifang's units: factor table, yearly specs, formula and top-ups."""
    n, T = len(codes), len(years_all)
    wf_idx = np.flatnonzero(wf)
    wf_codes_sorted = [codes[i] for i in wf_idx]
    fac_rows = []
    specs: dict[int, dict[str, Any]] = {}
    formula = np.zeros((n, T))
    topup = np.zeros((n, T))
    size_wf = rev21[wf_idx] / rev21[wf_idx].mean()
    rd_share = r_fac.uniform(0.6, 1.6, len(wf_idx))
    for k, yr in enumerate(years_all):
        if yr < FUND_START:
            continue
        dy = yr - 1
        kd = k - 1
        x = {
            "proj": r_fac.poisson(12 * size_wf ** 0.7 * np.exp(r_fac.normal(0, 0.6, len(wf_idx)))) + 1,
            "emp": employment[wf_idx, kd].astype(int),
            "land": np.round(r_fac.gamma(0.5, 300 * size_wf ** 0.5)).astype(int) + 1,
            "rdstaff": np.round(employment[wf_idx, kd] * 0.04 * rd_share
                                * np.exp(r_fac.normal(0, 0.25, len(wf_idx)))).astype(int) + 1,
        }
        weights = _int_weights(r_fac)
        total = int(r_fac.integers(20, 81)) * 1000
        reserve = int(r_fac.integers(0, 5)) * 500
        amounts = _formula_amounts(x, weights, total - reserve, wf_codes_sorted)
        formula[wf_idx, k] = amounts
        # discretionary top-up: money to units whose revenue is doing badly this year
        z = -eps[wf_idx, k] / 0.04
        topup[wf_idx, k] = np.maximum(0.0, np.round(2000 * z + 300 * r_fund.normal(0, 1, len(wf_idx))))
        if yr <= end_year:
            for fid, _name, uom, _, src in FACTORS:
                for j, i in enumerate(wf_idx):
                    fac_rows.append((dy, codes[i], fid, int(x[fid][j]), uom, src, "reported"))
            specs[int(yr)] = _spec_dict(int(yr), weights, total, reserve)
    fund = formula + topup
    fund_eff = BETA_FUND * fund / 1000.0
    return wf_idx, fac_rows, specs, formula, topup, fund, fund_eff


def _other_outcomes(r_other: np.random.Generator, revenue: np.ndarray, wf: np.ndarray,
                    years_all: np.ndarray):
    """Value added, firm counts, R&D and energy around the revenue path."""
    n, T = revenue.shape
    ti = years_all - PILOT_YEAR
    va_ratio = r_other.uniform(0.22, 0.30, n)
    value_added = np.round(revenue * va_ratio[:, None] * np.exp(r_other.normal(0, 0.02, (n, T))), 2)
    firm_size = np.exp(r_other.normal(np.log(3.0e4), 0.3, n))
    fs_path = firm_size[:, None] * np.exp(0.012 * ti[None, :] + r_other.normal(0, 0.03, (n, T)))
    k25 = 2025 - START_YEAR
    wf_firms25 = (revenue[wf, k25] / fs_path[wf, k25]).sum()
    fs_path[wf] *= wf_firms25 / 3960.0  # Weifang ≈ 3,960 above-scale firms in 2025
    n_firms = np.maximum(np.round(revenue / fs_path), 1)
    rd_int = r_other.uniform(0.008, 0.025, n)
    rd = np.round(revenue * rd_int[:, None] * np.exp(0.03 * ti[None, :] + r_other.normal(0, 0.05, (n, T))), 2)
    e_int = np.exp(r_other.normal(np.log(0.2), 0.4, n))
    energy = np.round(revenue * e_int[:, None] * np.exp(-0.035 * (years_all - START_YEAR)[None, :]
                                                       + r_other.normal(0, 0.03, (n, T))), 1)
    return value_added, n_firms, rd, energy


def make_demo_panel(end_year: int = 2025, seed: int = DEMO_SEED) -> DemoData:
    """Build the synthetic demo data in memory.

    Parameters
    ----------
    end_year : int, default 2025
        Last year of the panel (2022..2040; factor-method funds start in 2022).
    seed : int, default 20210514
        Seed of all draws.

    Returns
    -------
    DemoData
        Panel, city indicators, factor table, yearly allocation specs and the truth.

    Examples
    --------
    >>> from evalkit.data import make_demo_panel
    >>> demo = make_demo_panel(end_year=2022)
    >>> int(demo.panel.year.min()), int(demo.panel.year.max()), demo.panel.unit_code.nunique()
    (2012, 2022, 140)
    """
    if not isinstance(end_year, (int, np.integer)) or not FUND_START <= end_year <= MAX_YEAR:
        raise EvalkitError(f"end_year must be a whole year in {FUND_START}..{MAX_YEAR}; got {end_year!r}")
    end_year = int(end_year)
    (r_size, r_y0, r_noise, r_pilot, r_fu, r_tech, r_fund, r_other, r_city, r_pop,
     r_emp, r_fac) = _streams(seed)

    units = unit_master()
    codes = units["unit_code"].tolist()
    n = len(codes)
    wf = units["in_weifang"].to_numpy() == 1
    years_all = np.arange(START_YEAR, MAX_YEAR + 1)
    T = len(years_all)
    ti = years_all - PILOT_YEAR  # time index, 0 in 2021

    # ---- sizes, untreated paths, treatments ----------------------------------------------
    rev21 = _sizes(r_size, units, codes)
    y0_sys, eps = _untreated(r_y0, r_noise, rev21, years_all)
    tau_year = np.clip(0.02 + 0.01 * ti, 0.0, 0.06) * (years_all >= PILOT_YEAR)
    h_pilot = r_pilot.uniform(-0.3, 0.3, n)
    pilot_eff = np.where(wf[:, None], tau_year[None, :] * (1 + h_pilot[:, None]), 0.0)

    is_county, first_year, fu_on, fu_eff, start, dose, tech_on, tech_eff = _assignments(
        r_fu, r_tech, units, wf, years_all)
    employment, population = _employment_population(r_emp, r_pop, rev21, is_county, years_all)
    wf_idx, fac_rows, specs, formula, topup, fund, fund_eff = _factor_funds(
        r_fac, r_fund, codes, wf, rev21, employment, eps, years_all, end_year)

    # ---- assemble log revenue and calibrate the common year effect --------------------
    effects = pilot_eff + fu_eff + tech_eff + fund_eff
    logrev_nodelta = y0_sys + eps + effects
    target = np.array([_weifang_target(int(y)) for y in years_all])
    delta = np.log(target) - np.log(np.exp(logrev_nodelta[wf]).sum(axis=0))
    logrev = logrev_nodelta + delta[None, :]
    revenue = np.round(np.exp(logrev), 2)

    value_added, n_firms, rd, energy = _other_outcomes(r_other, revenue, wf, years_all)

    # ---- tech subsidy amounts from the written previous-year revenue --------------------
    tech = np.zeros((n, T))
    tech[:, 1:] = np.where(tech_on[:, 1:], np.round(dose[:, None] / 1000.0 * revenue[:, :-1], 2), 0.0)

    # ---- panel frame ------------------------------------------------------------------
    ny = end_year - START_YEAR + 1
    sl = slice(0, ny)
    yrs = years_all[sl]
    rep = lambda a: np.repeat(a, ny)  # noqa: E731
    k15 = 2015 - START_YEAR
    panel = pd.DataFrame({
        "unit_code": rep(np.array(codes, dtype=object)),
        "name_zh": rep(units["name_zh"].to_numpy()),
        "name_en": rep(units["name_en"].to_numpy()),
        "prefecture_code": rep(units["prefecture_code"].to_numpy()),
        "prefecture_zh": rep(units["prefecture_zh"].to_numpy()),
        "unit_type": rep(units["unit_type"].to_numpy()),
        "in_weifang": rep(wf.astype(int)),
        "year": np.tile(yrs, n),
        "revenue_wan": revenue[:, sl].ravel(),
        "value_added_wan": value_added[:, sl].ravel(),
        "n_firms": n_firms[:, sl].ravel().astype(int),
        "rd_wan": rd[:, sl].ravel(),
        "energy_tce": energy[:, sl].ravel(),
        "employment": employment[:, sl].ravel().astype(int),
        "population_10k": population[:, sl].ravel(),
        "log_pop_2015": rep(np.log(population[:, k15])),
        "pilot_zone": (wf[:, None] & (years_all[None, sl] >= PILOT_YEAR)).ravel().astype(int),
        "first_unit_year": rep(first_year),
        "first_unit": fu_on[:, sl].ravel().astype(int),
        "tech_subsidy_wan": tech[:, sl].ravel(),
        "factor_fund_wan": fund[:, sl].ravel(),
    })
    panel.attrs["synthetic"] = True

    factors = pd.DataFrame(fac_rows, columns=["year", "unit_code", "factor_id", "value",
                                              "unit_of_measure", "source", "status"])
    parts = dict(pilot=pilot_eff, fund=fund_eff, fu=fu_eff, tech=tech_eff, logrev=logrev)
    truth = compute_truth(end_year, seed, codes, wf, years_all, parts, first_year, dose, start, formula,
                   topup)
    city = _city_indicators(end_year, r_city, revenue[wf].sum(axis=0), n_firms[wf].sum(axis=0),
                            years_all)
    kk = [k for k in range(ny) if years_all[k] >= FUND_START]
    fund_parts = pd.DataFrame({
        "unit_code": np.repeat(np.array([codes[i] for i in wf_idx], dtype=object), len(kk)),
        "year": np.tile(years_all[kk], len(wf_idx)),
        "formula_wan": formula[np.ix_(wf_idx, kk)].ravel().astype(int),
        "topup_wan": topup[np.ix_(wf_idx, kk)].ravel().astype(int),
    })
    true_effects = pd.DataFrame({
        "unit_code": panel["unit_code"], "year": panel["year"],
        "pilot_zone": pilot_eff[:, sl].ravel(), "factor_fund": fund_eff[:, sl].ravel(),
        "first_unit": fu_eff[:, sl].ravel(), "tech_subsidy": tech_eff[:, sl].ravel(),
    })
    return DemoData(panel=panel, city_indicators=city, factors=factors, specs=specs, truth=truth,
                    fund_parts=fund_parts, true_effects=true_effects)


def _draw_first_unit(rng: np.random.Generator, n: int, wf_c: np.ndarray, rest_c: np.ndarray,
                     years_all: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """45 adopting counties (5 in Weifang), cohorts 2016..2024 of five, growing effects."""
    adopters = np.concatenate([rng.choice(wf_c, 5, replace=False), rng.choice(rest_c, 40, replace=False)])
    cohorts = rng.permutation(np.repeat(np.arange(2016, 2025), 5))
    first_year = np.zeros(n, dtype=int)
    first_year[adopters] = cohorts
    h = rng.uniform(-0.25, 0.25, n)
    e = years_all[None, :] - first_year[:, None]
    gap = (2024 - first_year)[:, None]
    alpha = 0.015 + 0.002 * gap
    slope = 0.008 + 0.003 * gap
    on = (first_year[:, None] > 0) & (e >= 0)
    eff = np.where(on, (alpha + slope * e) * (1 + h[:, None]), 0.0)
    return first_year, on, eff


def _draw_tech(rng: np.random.Generator, n: int, years_all: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """30 % never subsidised; others start 2014..2022 with a fixed dose d (‰), ATT(d) concave."""
    never = rng.permutation(n) < round(0.3 * n)
    start = np.where(never, 0, rng.integers(2014, 2023, n))
    dose = np.where(never, 0.0, np.round(rng.uniform(0.3, 4.0, n), 2))
    on = (start[:, None] > 0) & (years_all[None, :] >= start[:, None])
    curve = TECH_ATT_MAX * (1 - np.exp(-dose / TECH_SCALE))
    return start, dose, on, np.where(on, curve[:, None], 0.0)


def _weifang_target(year: int) -> float:
    """Weifang city above-scale industrial revenue in 万元 that the demo reproduces."""
    if year in WEIFANG_REVENUE_YI:
        return WEIFANG_REVENUE_YI[year] * 1e4
    last = max(WEIFANG_REVENUE_YI)
    return WEIFANG_REVENUE_YI[last] * 1e4 * (1 + GROWTH_AFTER) ** (year - last)


def _spec_dict(year: int, weights: dict[str, int], total: int, reserve: int) -> dict[str, Any]:
    return {
        "fund": "试验区因素法资金",
        "name": f"演示方案 {year}（合成演示数据，非潍坊真实方案）",
        "year": year,
        "data_year": year - 1,
        "total_wan": total,
        "reserve_wan": reserve,
        "factors": [{"id": fid, "name": name, "weight": weights[fid], "direction": "+",
                     "transform": "share", "unit_of_measure": uom} for fid, name, uom, _, _ in FACTORS],
        "missing": {"default": "error"},
        "rounding": {"unit_wan": 1, "method": "largest_remainder", "tie_break": "code"},
        "notes": "合成演示数据：权重与总额由 evalkit 演示数据生成器随机抽取，不是潍坊的真实方案。",
    }


def spec_yaml(spec: dict[str, Any]) -> str:
    """Render an allocation spec dict as the YAML text written to ``spec_<year>.yaml``.

    Parameters
    ----------
    spec : dict
        A spec from :attr:`DemoData.specs`.

    Returns
    -------
    str
    """
    lines = [
        "# SYNTHETIC demo allocation spec written by evalkit.data.demo — not a real Weifang rule.",
        "# 合成演示方案：权重与总额为随机抽取，仅用于演示。",
        f"fund: {spec['fund']}",
        f"name: \"{spec['name']}\"",
        f"year: {spec['year']}",
        f"data_year: {spec['data_year']}",
        f"total_wan: {spec['total_wan']}",
        f"reserve_wan: {spec['reserve_wan']}",
        "factors:                 # weights in %, sum to 100",
    ]
    for f in spec["factors"]:
        lines.append(f"  - {{id: {f['id']}, name: {f['name']}, weight: {f['weight']}, direction: \"+\", "
                     f"transform: share, unit_of_measure: {f['unit_of_measure']}}}")
    lines += [
        "missing: {default: error}",
        "rounding: {unit_wan: 1, method: largest_remainder, tie_break: code}",
        f"notes: \"{spec['notes']}\"",
    ]
    return "\n".join(lines) + "\n"


_CITY = (
    # id, unit, first year
    ("industrial_revenue_yi", "亿元", START_YEAR),
    ("above_scale_firms", "家", START_YEAR),
    ("new_above_scale_firms", "家", 2016),
    ("firms_rev_ge_1000yi", "家", START_YEAR),
    ("firms_rev_ge_500yi", "家", START_YEAR),
    ("firms_rev_ge_100yi", "家", START_YEAR),
    ("new_gazelle_unicorn", "家", 2016),
    ("champions_little_giants", "家", 2016),
    ("clusters_1000yi", "个", START_YEAR),
    ("clusters_500yi", "个", START_YEAR),
    ("power_equipment_cluster_yi", "亿元", START_YEAR),
    ("chain_chief_chains", "条", PILOT_YEAR),
    ("innovation_platforms_new", "个", 2018),
    ("promotion_events", "场", 2018),
    ("jiebang_fields", "个", PILOT_YEAR),
    ("rd_institution_coverage", "%", 2016),
)


def _city_indicators(end_year: int, rng: np.random.Generator, wf_revenue: np.ndarray,
                     wf_firms: np.ndarray, years_all: np.ndarray) -> pd.DataFrame:
    T = len(years_all)
    s = years_all - PILOT_YEAR
    noise = {cid: rng.normal(0, 1, T) for cid, _, _ in _CITY}
    after = (s >= 0)
    val = {
        "industrial_revenue_yi": np.round(wf_revenue / 1e4, 1),
        "above_scale_firms": wf_firms,
        "new_above_scale_firms": np.round(np.where(after, 318, 240) + 25 * noise["new_above_scale_firms"]),
        "firms_rev_ge_1000yi": np.where(years_all >= 2023, 2, 1),
        "firms_rev_ge_500yi": np.clip(np.floor(2 + 0.5 * np.maximum(s + 2, 0)), 2, 4),
        "firms_rev_ge_100yi": np.clip(np.round(12 + 1.8 * np.maximum(s + 1, 0)), 0, None),
        "new_gazelle_unicorn": np.round(np.where(after, 11, 6) + 1.5 * noise["new_gazelle_unicorn"]),
        "champions_little_giants": np.round(8 + 9 * np.maximum(years_all - 2016, 0)
                                            + 2 * np.maximum(s, 0) ** 1.2),
        "clusters_1000yi": np.clip(1 + np.floor(np.maximum(s + 3, 0) / 2), 1, 4),
        "clusters_500yi": np.clip(4 + np.floor(np.maximum(s + 2, 0) * 0.9), 4, 10),
        "power_equipment_cluster_yi": np.round(2000 * np.exp(0.07 * (years_all - 2018))
                                               * (1 + 0.02 * noise["power_equipment_cluster_yi"])),
        "chain_chief_chains": np.clip(11 + 2 * s, 11, 15),
        "innovation_platforms_new": np.round(np.where(after, 10, 6) + 1.2 * noise["innovation_platforms_new"]),
        "promotion_events": np.round(np.where(after, 13, 7) + 1.5 * noise["promotion_events"]),
        "jiebang_fields": np.round(10 + 1.0 * noise["jiebang_fields"]),
        "rd_institution_coverage": np.clip(np.round(55 + 4.5 * (years_all - 2016)
                                                    + 0.5 * noise["rd_institution_coverage"], 1), 0, 99),
    }
    rows = []
    for cid, unit, first in _CITY:
        for k, y in enumerate(years_all):
            if first <= y <= end_year:
                v = float(val[cid][k])
                rows.append((int(y), cid, v, unit))
    df = pd.DataFrame(rows, columns=["year", "indicator_id", "value", "unit"])
    return df.sort_values(["indicator_id", "year"], kind="mergesort").reset_index(drop=True)


def _fmt(v: float) -> str:
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.1f}"


def _panel_csv(panel: pd.DataFrame) -> str:
    out = panel.copy()
    for c, f in PANEL_FORMATS.items():
        out[c] = [f.format(v) for v in out[c].to_numpy(dtype=float)]
    return out.to_csv(index=False, lineterminator="\n")


def _readme(end_year: int, seed: int, specs: dict[int, dict[str, Any]]) -> str:
    yrs = ", ".join(f"spec_{y}.yaml" for y in sorted(specs))
    return f"""# SYNTHETIC demo data — 合成演示数据（非真实统计数据）

Everything in this folder was generated by `evalkit.data.demo.write_demo(out_dir,
end_year={end_year}, seed={seed})` (command line: `evalkit demo-data --end-year {end_year} --out DIR`).
**None of these numbers are real statistics of Shandong or Weifang.** They have the magnitudes of
the real data (Weifang above-scale industrial revenue ≈ 1.0 万亿元 in 2021, 1.2+ 万亿 in 2024) and
effects planted on purpose, with their true values in `truth.json`, so that every estimator of
evalkit can be checked against a known answer. `SYNTHETIC` marks the folder;
`evalkit.data.load_panel` sets `df.attrs["synthetic"] = True` when it finds it, and the report
figures then carry a synthetic-data watermark.

| file | content |
|---|---|
| `county_panel.csv` | 140 units (Shandong's 136 counties + Weifang's zones 370772, WF-Z-GXQ, WF-Z-XSQ, WF-Z-ZBQ) × {START_YEAR}..{end_year}; columns as in `data_raw/README.md`. Weifang county figures exclude zone output. |
| `city_indicators.csv` | Weifang city indicators for the plan's targets: `year, indicator_id, value, unit` |
| `truth.json` | true values and definitions of every estimand the notebooks report |
| `true_effects.csv` | the planted effect of each measure on `log_revenue` for every unit-year |
| `allocation/factors.csv` | long factor table of the factor-method funds (data year = allocation year − 1) |
| `allocation/{yrs}` | one allocation spec per allocation year (weights and total drawn at random) |
| `allocation/spec.yaml` | the spec of {end_year} |

Planted effects on `log_revenue` (additive): pilot zone (Weifang units from {PILOT_YEAR}, 0.02 rising
to 0.06); first-unit insurance (45 counties in 9 cohorts 2016–2024, growing, cohort-specific
effects); technology-upgrade subsidy (dose response {TECH_ATT_MAX}·(1−exp(−d/{TECH_SCALE})), d in ‰ of the previous
year's revenue; 30 % never subsidised); factor-method funds ({BETA_FUND} per 1,000 万元; formula
amount + a discretionary top-up correlated with the revenue shock). See `truth.json`.
"""


def write_demo(out_dir: str | Path, end_year: int = 2025, seed: int = DEMO_SEED) -> Path:
    """Generate the demo data and write them to ``out_dir``.

    Writes ``county_panel.csv``, ``city_indicators.csv``, ``truth.json``,
    ``allocation/factors.csv``, ``allocation/spec_<year>.yaml`` for every allocation year
    2022..``end_year``, ``allocation/spec.yaml`` (= ``end_year``'s), ``README.md`` and a
    ``SYNTHETIC`` marker. The bytes are identical on every run with the same numpy.

    Parameters
    ----------
    out_dir : str or Path
        Target folder (created if needed; existing demo files are overwritten).
    end_year : int, default 2025
        Last year of the panel.
    seed : int, default 20210514
        Seed of all draws.

    Returns
    -------
    Path
        ``out_dir``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from evalkit.data import is_synthetic, write_demo
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_demo(Path(tmp) / "demo", end_year=2022)
    ...     print((out / "county_panel.csv").exists(), is_synthetic(out))
    ...
    True True
    """
    demo = make_demo_panel(end_year=end_year, seed=seed)
    out = Path(out_dir)
    (out / "allocation").mkdir(parents=True, exist_ok=True)
    for old in (out / "allocation").glob("spec_*.yaml"):
        old.unlink()

    def write(path: Path, text: str) -> None:
        path.write_bytes(text.encode("utf-8"))

    write(out / "county_panel.csv", _panel_csv(demo.panel))
    city = demo.city_indicators.copy()
    city["value"] = [_fmt(v) for v in city["value"]]
    write(out / "city_indicators.csv", city.to_csv(index=False, lineterminator="\n"))
    write(out / "truth.json", json.dumps(demo.truth, ensure_ascii=False, indent=1) + "\n")
    eff = demo.true_effects.copy()
    for c in ("pilot_zone", "factor_fund", "first_unit", "tech_subsidy"):
        eff[c] = [f"{v:.8f}" for v in eff[c].to_numpy(dtype=float)]
    write(out / "true_effects.csv", eff.to_csv(index=False, lineterminator="\n"))
    write(out / "allocation" / "factors.csv", demo.factors.to_csv(index=False, lineterminator="\n"))
    for y, spec in demo.specs.items():
        write(out / "allocation" / f"spec_{y}.yaml", spec_yaml(spec))
    write(out / "allocation" / "spec.yaml", spec_yaml(demo.specs[end_year]))
    from ..allocation.template import formula_examples  # worked formula examples (issue 15)
    for name, text in formula_examples().items():
        write(out / "allocation" / name, text)
    write(out / "README.md", _readme(end_year, seed, demo.specs))
    write(out / "SYNTHETIC", SYNTHETIC_NOTE + f"\nseed={seed} end_year={end_year} {GENERATOR_VERSION}\n")
    return out
