"""The synthetic demo: determinism, calibration, and that the planted effects are identifiable.

Tolerances
----------
* determinism: byte equality with ``data_raw/demo`` and a SHA-256 of raw PCG64 draws;
* calibration: Weifang revenue 2021 within 0.1 % of 1.0 万亿元 (the generator rescales to it);
* pilot-zone DiD: 0.03 in log points = about 2 Monte-Carlo standard deviations of an
  equal-weight DiD of 16 treated units with AR(1) errors (σ ≈ 0.04) and unit trends
  (sd 0.006/yr), once the documented contamination by the other measures is removed;
* IV: the 95 % CI of the unit+year FE 2SLS must contain β and exclude 0, effective first-stage
  F > 50;
* TWFE: the noise-free TWFE estimand of the design must be below 0.8 × the true simple ATT.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.data import (
    DEMO_SEED,
    load_city_indicators,
    load_panel,
    load_truth,
    make_demo_panel,
    unit_master,
    validate_panel,
    write_demo,
)
from evalkit.data.demo import BETA_FUND, TECH_ATT_MAX, TECH_SCALE, _streams
from evalkit.data.schema import SCHEMA, dictionary_markdown

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "data_raw" / "demo"
DRAWS_SHA256 = "8ac39011aa4ea5ab050a7f6c6c1855028edfb83bb773b26a0b2fb53574911b95"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    return write_demo(tmp_path_factory.mktemp("demo"), end_year=2025)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return load_panel(DEMO)


@pytest.fixture(scope="module")
def truth() -> dict:
    return load_truth(DEMO)


def test_draw_streams_are_stable():
    g = _streams(DEMO_SEED)
    parts = [g[0].normal(size=4).tobytes(), g[4].integers(0, 1000, 4).tobytes(),
             g[5].uniform(size=4).tobytes(), g[10].poisson(12.0, 4).tobytes(),
             g[10].gamma(0.5, 300.0, 4).tobytes(), g[10].dirichlet([1.0, 2.0, 3.0]).tobytes()]
    assert hashlib.sha256(b"".join(parts)).hexdigest() == DRAWS_SHA256, (
        "numpy's random streams changed: pin numpy or regenerate data_raw/demo and the truth")


def test_regenerated_files_identical_to_committed(written):
    mine = sorted(p.relative_to(written) for p in written.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(DEMO) for p in DEMO.rglob("*") if p.is_file())
    assert mine == committed
    for rel in mine:
        assert (written / rel).read_bytes() == (DEMO / rel).read_bytes(), f"{rel} differs"
    assert sum((DEMO / r).stat().st_size for r in committed) < 2_000_000


def test_everything_says_synthetic(written, panel):
    assert (written / "SYNTHETIC").exists()
    assert "SYNTHETIC" in (written / "README.md").read_text(encoding="utf-8")
    assert json.loads((written / "truth.json").read_text(encoding="utf-8"))["synthetic"] is True
    for spec in (written / "allocation").glob("spec*.yaml"):
        assert spec.read_text(encoding="utf-8").startswith("# SYNTHETIC")
    assert panel.attrs["synthetic"] is True
    assert load_city_indicators(written).attrs["synthetic"] is True
    assert sorted(p.name for p in (written / "allocation").glob("spec_*.yaml")) == [
        f"spec_{y}.yaml" for y in range(2022, 2026)]
    assert (written / "allocation" / "spec.yaml").read_bytes() == (
        written / "allocation" / "spec_2025.yaml").read_bytes()


def test_panel_shape_and_units(panel):
    assert panel.attrs["validation"].ok
    assert panel.shape[0] == 140 * 14
    assert set(panel["unit_code"]) == set(unit_master()["unit_code"])
    wf = set(panel.loc[panel.in_weifang == 1, "unit_code"])
    assert len(wf) == 16 and {"370772", "WF-Z-GXQ", "WF-Z-XSQ", "WF-Z-ZBQ"} <= wf
    assert "WF-Z-JKQ" not in set(panel["unit_code"])
    assert (panel.groupby("unit_code")["year"].agg(["min", "max"]) == [2012, 2025]).all().all()


def test_calibration_weifang_revenue(panel):
    tot = panel[panel.in_weifang == 1].groupby("year")["revenue_wan"].sum() / 1e8  # 万亿元
    assert tot[2021] == pytest.approx(1.0, rel=1e-3)
    assert tot[2022] == pytest.approx(1.13, rel=1e-3)
    assert tot[2024] >= 1.2
    share = panel[panel.year == 2021].groupby("in_weifang")["revenue_wan"].sum()
    assert 0.06 < share[1] / share.sum() < 0.12  # Weifang ≈ 1/10 of Shandong


def test_treatment_designs(panel, truth):
    u = panel.groupby("unit_code").first()
    # pilot zone: Weifang from 2021, rest never
    assert (panel["pilot_zone"] == ((panel.in_weifang == 1) & (panel.year >= 2021))).all()
    # first-unit cohorts
    coh = u.loc[u.first_unit_year > 0, "first_unit_year"]
    assert len(coh) == 45 and coh.value_counts().min() >= 5
    assert set(coh) == set(range(2016, 2025))
    assert u.loc[coh.index, "in_weifang"].sum() >= 1
    # tech subsidy: about 30 % never; start years 2014..2022; dose fixed and derived exactly
    start = u["tech_subsidy_start"]
    assert (start == 0).mean() == pytest.approx(0.3, abs=0.01)
    assert set(start[start > 0]) <= set(range(2014, 2023))
    sub = panel[panel.tech_subsidy_wan > 0]
    np.testing.assert_allclose(sub["tech_subsidy_intensity"], sub["tech_subsidy_dose"], atol=0.006)
    # factor funds: Weifang units from 2022 only
    ff = panel["factor_fund_wan"] > 0
    assert not (ff & ((panel.in_weifang == 0) | (panel.year < 2022))).any()
    assert ff[(panel.in_weifang == 1) & (panel.year >= 2022)].all()


def test_formula_amount_recomputed_by_allocation(panel):
    from evalkit import allocation

    demo = make_demo_panel(2025)
    fac = allocation.read_factors(DEMO / "allocation" / "factors.csv")
    for y in range(2022, 2026):
        spec = allocation.load_spec(DEMO / "allocation" / f"spec_{y}.yaml")
        t = allocation.allocate(spec, fac).table
        got = t.set_index("unit_code")["amount_wan"].astype(int)
        want = demo.fund_parts[demo.fund_parts.year == y].set_index("unit_code")["formula_wan"]
        pd.testing.assert_series_equal(got.loc[want.index], want, check_names=False)
        paid = panel[(panel.year == y) & (panel.in_weifang == 1)].set_index("unit_code")["factor_fund_wan"]
        assert (paid.loc[want.index] >= want).all()  # formula amount + top-up >= 0


def test_pilot_zone_did_recovers_truth(panel, truth):
    post = panel.year >= 2021
    m = panel.groupby([panel.in_weifang, post])["log_revenue"].mean()
    did = (m[1, True] - m[1, False]) - (m[0, True] - m[0, False])
    pz = truth["pilot_zone"]
    assert abs(did - pz["other_measures_did_bias"] - pz["att"]) < 0.03
    assert abs(pz["other_measures_did_bias"]) < 0.01  # assignments balanced by design
    assert pz["att"] == pytest.approx(np.mean(list(pz["by_year"].values())), abs=1e-7)


def test_first_unit_twfe_biased(panel, truth):
    from linearmodels import PanelOLS

    fu = truth["first_unit"]["excluding_weifang"]
    assert fu["twfe_estimand"] < 0.8 * fu["simple"]
    d = panel[panel.in_weifang == 0].set_index(["unit_code", "year"])
    r = PanelOLS(d["log_revenue"], d[["first_unit"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True)
    est, se = float(r.params.iloc[0]), float(r.std_errors.iloc[0])
    assert est < fu["simple"]
    assert abs(est - fu["twfe_estimand"]) < 2 * se
    # truth aggregations are internally consistent
    cells = [c for c in fu["att_gt"] if c["time"] >= c["group"]]
    w = np.array([c["n_units"] for c in cells], dtype=float)
    simple = float(np.sum(w * [c["att"] for c in cells]) / w.sum())
    assert simple == pytest.approx(fu["simple"], abs=1e-7)
    assert all(c["att"] == 0 for c in fu["att_gt"] if c["time"] < c["group"])
    e0 = next(x for x in fu["dynamic"] if x["event_time"] == 0)
    g0 = [c for c in cells if c["event_time"] == 0]
    assert e0["att"] == pytest.approx(sum(c["n_units"] * c["att"] for c in g0)
                                      / sum(c["n_units"] for c in g0), abs=1e-7)


def test_factor_fund_iv_recovers_beta(panel, truth):
    from linearmodels.iv import IV2SLS

    demo = make_demo_panel(2025)
    w = panel[(panel.in_weifang == 1) & (panel.year >= 2022)].merge(demo.fund_parts, on=["unit_code", "year"])
    fe = pd.get_dummies(w["unit_code"], drop_first=True, dtype=float).join(
        pd.get_dummies(w["year"], prefix="y", drop_first=True, dtype=float))
    fe["const"] = 1.0
    endog = (w[["factor_fund_wan"]] / 1000).rename(columns={"factor_fund_wan": "fund"})
    instr = (w[["formula_wan"]] / 1000).rename(columns={"formula_wan": "formula"})
    iv = IV2SLS(w["log_revenue"], fe, endog, instr).fit(cov_type="clustered", clusters=w["unit_code"])
    lo, hi = iv.conf_int().loc["fund"]
    beta = truth["factor_fund"]["beta_per_1000_wan"]
    assert beta == BETA_FUND
    assert lo < beta < hi and lo > 0
    assert float(iv.first_stage.diagnostics["f.stat"].iloc[0]) > 50
    ols = IV2SLS(w["log_revenue"], fe.join(endog), None, None).fit(cov_type="clustered",
                                                                     clusters=w["unit_code"])
    assert ols.params["fund"] < beta - 0.003  # top-ups chase bad shocks: naive OLS biased down


def test_tech_truth_curve(truth):
    t = truth["tech_subsidy"]
    grid = pd.DataFrame(t["grid"])
    assert (np.diff(grid["att"]) > 0).all() and (np.diff(grid["acrt"]) < 0).all()  # concave
    np.testing.assert_allclose(grid["att"], TECH_ATT_MAX * (1 - np.exp(-grid["dose"] / TECH_SCALE)),
                               atol=1e-8)
    assert 0 < t["acrt_avg"] < TECH_ATT_MAX / TECH_SCALE and 0 < t["att_avg"] < TECH_ATT_MAX


def test_end_year_2026_validates_and_extends():
    d25, d26 = make_demo_panel(2025), make_demo_panel(2026)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = validate_panel(d26.panel, start_year=2012, end_year=2026)
    assert v.attrs["validation"].ok and v["year"].max() == 2026
    a = d25.panel.reset_index(drop=True)
    b = d26.panel[d26.panel.year <= 2025].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert sorted(d26.specs) == list(range(2022, 2027))
    assert d26.truth["pilot_zone"]["by_year"]["2025"] == d25.truth["pilot_zone"]["by_year"]["2025"]


def test_bad_end_year():
    from evalkit._shared.exceptions import EvalkitError

    with pytest.raises(EvalkitError, match=r"end_year must be a whole year in 2022\.\.2040; got 2019"):
        make_demo_panel(2019)


@pytest.mark.parametrize("end_year", range(2021, 2027))
def test_demo_panel_emits_no_warning(end_year):
    # 2021 is before the first fund year (2022): a clear error, not a warning
    from evalkit._shared.exceptions import EvalkitError

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if end_year < 2022:
            with pytest.raises(EvalkitError, match=r"end_year must be a whole year in 2022"):
                make_demo_panel(end_year)
            return
        demo = make_demo_panel(end_year)
    # cohorts first treated after end_year have no post period in the panel: the truth counts
    # them as never treated (as R did does), so no estimand is undefined
    text = json.dumps(demo.truth, allow_nan=False)
    fu = demo.truth["first_unit"]
    for sample in ("full_sample", "excluding_weifang"):
        t = fu[sample]
        assert all(int(g) <= end_year for g in t["cohort_sizes"])
        assert [g["group"] for g in t["group"]] == [int(g) for g in t["cohort_sizes"]]
        assert t["n_adopters"] == sum(t["cohort_sizes"].values())
        assert all(set(d["groups"]) <= {int(g) for g in t["cohort_sizes"]} for d in t["dynamic"])
    late = sorted({int(g) for g in demo.panel["first_unit_year"] if g > end_year})
    assert ("after end_year" in fu["definition"]) == bool(late)
    assert all(str(g) in fu["definition"] for g in late)
    assert "NaN" not in text


def test_city_indicators_cover_the_targets(written):
    ind = load_city_indicators(written)
    targets = pd.read_csv(ROOT / "evalkit" / "plan_targets.csv")
    assert set(targets["indicator_id"]) <= set(ind["indicator_id"])
    v25 = ind[ind.year == 2025].set_index("indicator_id")["value"]
    assert v25["above_scale_firms"] == pytest.approx(4000, rel=0.05)  # met
    assert v25["firms_rev_ge_1000yi"] < 5 and v25["power_equipment_cluster_yi"] < 5000  # missed
    assert not ind.duplicated(["year", "indicator_id"]).any()
    readme = (ROOT / "data_raw" / "README.md").read_text(encoding="utf-8")
    for cid in ind["indicator_id"].unique():
        assert f"`{cid}`" in readme


def test_readme_dictionary_matches_schema():
    text = (ROOT / "data_raw" / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- BEGIN SCHEMA -->\n", 1)[1].split("<!-- END SCHEMA -->", 1)[0]
    assert block == dictionary_markdown(), "regenerate the block from evalkit.data.schema.dictionary_markdown()"
    for c in SCHEMA:
        assert f"`{c.name}`" in block
    assert "exclude the output of these zones" in text


def test_true_effects_file_matches_truth(panel, truth):
    te = pd.read_csv(DEMO / "true_effects.csv", dtype={"unit_code": str})
    te = te.merge(panel[["unit_code", "year", "in_weifang", "first_unit", "tech_subsidy_dose",
                         "tech_subsidy_start"]].rename(columns={"first_unit": "fu_on"}),
                  on=["unit_code", "year"])
    wpost = te[(te.in_weifang == 1) & (te.year >= 2021)]
    assert (wpost.pilot_zone + wpost.factor_fund).mean() == pytest.approx(truth["pilot_zone"]["att"], abs=1e-7)
    rest = te[te.in_weifang == 0]
    assert rest.loc[rest.fu_on == 1, "first_unit"].mean() == pytest.approx(
        truth["first_unit"]["excluding_weifang"]["simple"], abs=1e-7)
    assert (te.loc[te.fu_on == 0, "first_unit"] == 0).all()
    on = te.tech_subsidy_start.gt(0) & te.year.ge(te.tech_subsidy_start)
    np.testing.assert_allclose(te.loc[on, "tech_subsidy"],
                               TECH_ATT_MAX * (1 - np.exp(-te.loc[on, "tech_subsidy_dose"] / TECH_SCALE)),
                               atol=1e-7)
    assert (te.loc[~on, "tech_subsidy"] == 0).all()


def test_weifang_inside_donor_hull(panel):
    lr = panel.pivot(index="year", columns="unit_code", values="log_revenue")
    wf = panel.loc[panel.in_weifang == 1, "unit_code"].unique()
    pre = lr.index < 2021
    dm = lr - lr[pre].mean()
    donors = dm.drop(columns=wf)
    y = dm[wf].mean(axis=1)
    rank = donors[pre].lt(y[pre], axis=0).mean(axis=1)
    assert rank.between(0.2, 0.8).all()  # Weifang's pre-trend is ordinary among the donors
    lv = lr.loc[2020]
    inside = lv[wf].between(lv.drop(wf).min(), lv.drop(wf).max())
    # only the two tiny zones (峡山, 综保) are smaller than every county, as in reality
    assert sorted(inside.index[~inside]) == ["WF-Z-XSQ", "WF-Z-ZBQ"]
