"""The truth of the synthetic demo data: the value of every estimand the notebooks report.

:func:`evalkit.data.demo.make_demo_panel` plants the effects; :func:`truth` computes from them what
each estimator should find (written to ``truth.json``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._shared.kernels import TwoWayAbsorber
from ._demo_constants import (
    BETA_FUND,
    FACTORS,
    FUND_START,
    GENERATOR_VERSION,
    PILOT_YEAR,
    START_YEAR,
    SYNTHETIC_NOTE,
    TECH_ATT_MAX,
    TECH_SCALE,
)


def rounded(x: float) -> float:
    """A truth value as written to ``truth.json``."""
    return float(round(float(x), 8))


def _truth_pilot(end_year: int, codes: list[str], wf: np.ndarray, years_all: np.ndarray,
                 parts: dict[str, np.ndarray]) -> dict[str, Any]:
    """The pilot-zone truth: the ATT of the package and what the other measures add to a DiD."""
    ny = end_year - START_YEAR + 1
    yrs = years_all[:ny]
    post = yrs >= PILOT_YEAR
    pil = parts["pilot"][:, :ny]
    fnd = parts["fund"][:, :ny]
    pz = pil + fnd
    by_year = {str(int(y)): rounded(pz[wf, k].mean()) for k, y in enumerate(yrs) if y >= PILOT_YEAR}
    logrev = parts["logrev"][:, :ny]
    agg = {}
    for k, y in enumerate(yrs):
        if y >= PILOT_YEAR:
            y1 = np.exp(logrev[wf, k])
            y0 = np.exp(logrev[wf, k] - pz[wf, k])
            agg[str(int(y))] = rounded(np.log(y1.sum()) - np.log(y0.sum()))
    other = parts["fu"][:, :ny] + parts["tech"][:, :ny]
    pre = ~post

    def did(a: np.ndarray) -> float:
        return float((a[wf][:, post].mean() - a[wf][:, pre].mean())
                     - (a[~wf][:, post].mean() - a[~wf][:, pre].mean()))

    contam_by_year = {str(int(y)): rounded((other[wf, k].mean() - other[wf][:, pre].mean())
                                      - (other[~wf, k].mean() - other[~wf][:, pre].mean()))
                      for k, y in enumerate(yrs) if y >= PILOT_YEAR}
    pilot = {
        "definition": ("ATT of the pilot-zone package on log_revenue: the mean over Weifang's 16 "
                       "units and the years 2021..end_year (equal weight per unit-year) of the "
                       "planted pilot-zone effect plus the factor-method fund effect "
                       "(BETA_FUND × factor_fund_wan / 1000), since the funds are a pilot-zone "
                       "measure that only Weifang receives. First-unit insurance and tech subsidies "
                       "happen in Weifang and elsewhere and are not part of it."),
        "outcome": "log_revenue",
        "treated_units": [c for c, w in zip(codes, wf) if w],
        "att": rounded(pz[wf][:, post].mean()),
        "by_year": by_year,
        "att_pilot_only": rounded(pil[wf][:, post].mean()),
        "att_factor_fund_part": rounded(fnd[wf][:, post].mean()),
        "att_aggregate_log_by_year": agg,
        "att_aggregate_log_definition": ("log(sum of Weifang revenue) minus log(sum of Weifang revenue "
                                         "without the pilot-zone package), by year: the effect on "
                                         "the city aggregate"),
        "other_measures_did_bias": rounded(did(other)),
        "other_measures_did_bias_by_year": contam_by_year,
        "other_measures_definition": ("difference-in-differences (Weifang mean minus rest-of-Shandong "
                                      "mean, post-year minus 2012..2020 mean) of the first-unit and "
                                      "tech-subsidy effects: what an equal-weight DiD of Weifang vs "
                                      "the rest picks up on top of 'att'"),
    }
    return pilot


def _cs_truth(mask: np.ndarray, first_year: np.ndarray, fu: np.ndarray, yrs: np.ndarray) -> dict[str, Any]:
    """Every Callaway-Sant'Anna aggregation of the planted first-unit effects ``fu`` in ``mask``."""
    # A cohort first treated after the panel's last year has no treated year inside the panel: it
    # counts as never treated, as R did counts it (no ATT(g, t) with t >= g exists in the panel).
    in_panel = (first_year > 0) & (first_year <= yrs[-1])
    gs = sorted(int(g) for g in np.unique(first_year[mask & in_panel]))
    att_gt = []
    ng = {}
    cell = {}
    for g in gs:
        members = mask & (first_year == g)
        ng[g] = int(members.sum())
        for k, t in enumerate(yrs):
            val = float(fu[members, k].mean())
            cell[(g, int(t))] = val
            att_gt.append({"group": g, "time": int(t), "event_time": int(t) - g,
                           "att": rounded(val), "n_units": ng[g]})
    post_cells = [(g, t) for (g, t) in cell if t >= g]
    simple = sum(ng[g] * cell[(g, t)] for g, t in post_cells) / sum(ng[g] for g, t in post_cells)
    dyn = []
    for ev in range(int(yrs[0]) - max(gs), int(yrs[-1]) - min(gs) + 1):
        gg = [g for g in gs if yrs[0] <= g + ev <= yrs[-1]]
        if not gg:
            continue
        val = sum(ng[g] * cell[(g, g + ev)] for g in gg) / sum(ng[g] for g in gg)
        dyn.append({"event_time": ev, "att": rounded(val), "groups": gg})
    grp = []
    for g in gs:
        ts = [t for t in yrs if t >= g]
        grp.append({"group": g, "att": rounded(np.mean([cell[(g, int(t))] for t in ts])),
                    "n_units": ng[g]})
    group_overall = sum(ng[x["group"]] * x["att"] for x in grp) / sum(ng.values())
    cal = []
    for t in yrs:
        gg = [g for g in gs if g <= t]
        if gg:
            cal.append({"time": int(t), "att": rounded(sum(ng[g] * cell[(g, int(t))] for g in gg)
                                                  / sum(ng[g] for g in gg))})
    D = (first_year[mask, None] > 0) & (yrs[None, :] >= first_year[mask, None])
    Df = D.astype(float)
    n_units, n_years = Df.shape
    absorber = TwoWayAbsorber(np.repeat(np.arange(n_units), n_years), np.tile(np.arange(n_years), n_units))
    Dt = absorber.absorb(Df.ravel()).reshape(n_units, n_years)
    twfe = float((Dt * fu[mask]).sum() / (Dt * Df).sum())
    return {"n_units": int(mask.sum()), "n_adopters": int((mask & in_panel).sum()),
            "twfe_estimand": rounded(twfe),
            "cohort_sizes": {str(g): ng[g] for g in gs}, "simple": rounded(simple),
            "group_overall": rounded(group_overall), "dynamic": dyn, "group": grp, "calendar": cal,
            "att_gt": att_gt}


def _truth_first_unit(end_year: int, codes: list[str], wf: np.ndarray, years_all: np.ndarray,
                      parts: dict[str, np.ndarray], first_year: np.ndarray) -> dict[str, Any]:
    """The first-unit insurance truth (every CS aggregation) in the full sample and outside Weifang."""
    ny = end_year - START_YEAR + 1
    yrs = years_all[:ny]
    fu = parts["fu"][:, :ny]
    late = sorted(int(g) for g in np.unique(first_year[first_year > yrs[-1]]))
    first_unit = {
        "definition": ("Effect of first-unit (首台套) insurance on log_revenue. att_gt: ATT(g,t) = mean "
                       "over the units of cohort g of the planted effect in year t (0 before g: no "
                       "anticipation). simple: R did's aggte(type='simple'): the average of ATT(g,t) "
                       "over post cells (t >= g) weighted by cohort size n_g (= mean over treated "
                       "unit-years). dynamic(e): sum_g n_g ATT(g,g+e) / sum_g n_g over cohorts with "
                       "g+e inside the panel. group(g): mean of ATT(g,t) over t = g..end_year; "
                       "group_overall weights them by n_g. calendar(t): n_g-weighted mean over "
                       "cohorts g <= t. twfe_estimand: the coefficient a static two-way fixed-effects regression "
                       "of the true effects on first_unit gives in this design (what TWFE estimates "
                       "without noise; its gap to 'simple' is TWFE's bias). Adoption is random "
                       "(parallel trends hold unconditionally)."
                       + (f" Cohorts {', '.join(map(str, late))} are first treated after end_year "
                          f"{int(yrs[-1])}: no treated year lies in the panel, so they count as never "
                          "treated here, as R did counts them (so do evalkit's callaway_santanna, "
                          "event_study and imputation)." if late else "")),
        "outcome": "log_revenue",
        "cohort_column": "first_unit_year",
        "full_sample": _cs_truth(np.ones(len(codes), dtype=bool), first_year, fu, yrs),
        "excluding_weifang": _cs_truth(~wf, first_year, fu, yrs),
        "note": ("In the full sample Weifang's adopters also carry the pilot-zone effect from 2021, "
                 "which biases CS estimates away from this truth; the first-unit notebook uses "
                 "the sample excluding Weifang units."),
    }
    return first_unit


def _truth_tech(wf: np.ndarray, dose: np.ndarray, start: np.ndarray) -> dict[str, Any]:
    """The tech-subsidy truth: the dose-response curve and its averages outside Weifang."""
    grid = [round(0.25 * i, 2) for i in range(1, 17)]
    sub = (~wf) & (start > 0)
    d_sub = dose[sub]
    att_fun = lambda d: TECH_ATT_MAX * (1 - math.exp(-d / TECH_SCALE))  # noqa: E731
    acrt_fun = lambda d: TECH_ATT_MAX / TECH_SCALE * math.exp(-d / TECH_SCALE)  # noqa: E731
    tech = {
        "definition": ("Dose response of the technology-upgrade subsidy on log_revenue. Dose d = "
                       "subsidy intensity in ‰ of the previous year's revenue (tech_subsidy_dose; "
                       "fixed per unit from its first subsidised year tech_subsidy_start). "
                       f"ATT(d) = {TECH_ATT_MAX} × (1 − exp(−d / {TECH_SCALE})) in every year from the start year on "
                       "(no dynamics, no unit heterogeneity, 0 for never-subsidised units); "
                       f"ACRT(d) = dATT/dd = {TECH_ATT_MAX / TECH_SCALE:.6g} × exp(−d / {TECH_SCALE}). att_avg = mean of ATT(d_i) over "
                       "the subsidised units of the sample (each unit weighted equally; = "
                       "E[ATT(D) | D > 0]); acrt_avg = mean of ACRT(d_i) over the same units. "
                       "Sample: units outside Weifang (Weifang's units carry the pilot zone)."),
        "outcome": "log_revenue",
        "dose_column": "tech_subsidy_dose",
        "dose_unit": "‰",
        "curve": f"{TECH_ATT_MAX}*(1-exp(-d/{TECH_SCALE}))",
        "sample": "excluding_weifang",
        "n_subsidised": int(sub.sum()),
        "n_never": int(((~wf) & (start == 0)).sum()),
        "dose_range": [rounded(d_sub.min()), rounded(d_sub.max())],
        "att_avg": rounded(np.mean([att_fun(d) for d in d_sub])),
        "acrt_avg": rounded(np.mean([acrt_fun(d) for d in d_sub])),
        "grid": [{"dose": d, "att": rounded(att_fun(d)), "acrt": rounded(acrt_fun(d))} for d in grid],
        "start_years": sorted({int(s) for s in start[start > 0]}),
    }
    return tech


def _truth_fund(end_year: int, wf: np.ndarray, years_all: np.ndarray, formula: np.ndarray,
                topup: np.ndarray) -> dict[str, Any]:
    """The factor-fund truth: the effect per 1,000 万元 and the instrument's shock distribution."""
    ny = end_year - START_YEAR + 1
    yrs = years_all[:ny]
    wf_post = np.flatnonzero(wf)
    kk = [k for k, y in enumerate(yrs) if y >= FUND_START]
    fund = {
        "definition": ("beta: effect on log_revenue of 1,000 万元 more factor-method funds received in "
                       "the same year (linear, homogeneous). factor_fund_wan = formula amount "
                       "(recomputed exactly by evalkit.allocation from allocation/spec_<year>.yaml and "
                       "factors.csv) + a discretionary top-up that is larger when the unit's revenue "
                       "shock is negative; the formula amount is a valid instrument (its factors and "
                       "the yearly weights/total are independent of the revenue errors)."),
        "outcome": "log_revenue",
        "beta_per_1000_wan": BETA_FUND,
        "sample": f"Weifang's 16 units, {FUND_START}..{end_year}",
        "mean_fund_wan": rounded(formula[wf_post][:, kk].mean() + topup[wf_post][:, kk].mean()),
        "mean_formula_wan": rounded(formula[wf_post][:, kk].mean()),
        "mean_topup_wan": rounded(topup[wf_post][:, kk].mean()),
        "shock_distribution": {
            "weights_pct": ("Dirichlet(0.5 × base) with base = "
                            + ", ".join(f"{f[0]} {f[3]}" for f in FACTORS)
                            + "; × 100, rounded, each at least 5, rounding residue on the largest"),
            "total_wan": "uniform on {20000, 21000, ..., 80000}",
            "reserve_wan": "uniform on {0, 500, 1000, 1500, 2000}",
            "independent_of": "revenue errors, factor values, other years",
        },
        "topup_rule": ("top-up = max(0, round(2000 × (−e_it / 0.04) + 300 × N(0,1))) 万元, e_it = the "
                       "unit-year revenue error (AR(1), innovation sd 0.035)"),
    }
    return fund


def truth(end_year: int, seed: int, codes: list[str], wf: np.ndarray, years_all: np.ndarray,
           parts: dict[str, np.ndarray], first_year: np.ndarray, dose: np.ndarray, start: np.ndarray,
           formula: np.ndarray, topup: np.ndarray) -> dict[str, Any]:
    """The true value of every estimand a notebook reports (``truth.json``)."""
    pilot = _truth_pilot(end_year, codes, wf, years_all, parts)
    first_unit = _truth_first_unit(end_year, codes, wf, years_all, parts, first_year)
    tech = _truth_tech(wf, dose, start)
    fund = _truth_fund(end_year, wf, years_all, formula, topup)
    return {
        "synthetic": True,
        "note": SYNTHETIC_NOTE,
        "generator": GENERATOR_VERSION,
        "seed": seed,
        "start_year": START_YEAR,
        "end_year": end_year,
        "pilot_zone": pilot,
        "first_unit": first_unit,
        "tech_subsidy": tech,
        "factor_fund": fund,
        "unit_effects_file": ("true_effects.csv: the planted effect of each measure on log_revenue "
                              "for every unit-year (apply any estimator's weights to it)"),
    }
