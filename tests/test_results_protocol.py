"""The results protocol (issue 14): one set of members on every result class.

Every class returned by a public function of ``evalkit.did``, ``synth``, ``iv``, ``inference`` and
``sensitivity`` (found from the return annotations, ``result_classes.py``) must:

* be exported from its package (``evalkit.did.CSResult``);
* offer ``params``, ``std_errors``, ``pvalues`` (float Series on one unique index), ``conf_int(level)``
  (a ``(low, high)`` tuple of floats on ``result_kind == "scalar"`` results, a DataFrame with
  columns ``lower``, ``upper`` indexed like ``params`` on ``"vector"`` results), ``to_frame()``
  (the tidy columns) whose numbers are those of ``params`` etc., ``summary()`` (a ``Summary``),
  ``plot()`` (English outside the pack, the language of ``report.use()`` inside) and
  ``with_inference()`` (a new result for least-squares estimators, else an error saying why);
* spell the pre-trend test ``pretrend_test()``; the old spellings warn until 0.3.0.

Also: a dCDH result goes through ``honest_did`` (joint effect-placebo covariance checked against
the bootstrap), and an IV result's interval at another level comes from its own WRE draws.
Tolerances: exact equality (or 1e-12) for numbers read two ways from one result; 0.15 on
correlations between analytic and bootstrap (400 draws, Monte-Carlo s.e. about 0.05).
"""

from __future__ import annotations

import inspect
import re
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from result_classes import PACKAGES, qualname, result_classes
from scipy import stats

from evalkit import did, iv, report, sensitivity, synth
from evalkit._shared.exceptions import DesignError, EvalkitError, InferenceError
from evalkit._summary import Summary
from evalkit.inference import (
    conley_taber,
    few_cluster_report,
    permutation_test,
    placebo_in_space,
    wild_cluster_bootstrap,
)
from evalkit.inference.wild_iv import wild_restricted_efficient
from evalkit.results import TIDY_COLUMNS, EffectVector, ScalarEffect
from evalkit.sensitivity import honest_did

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff]")
#: Results whose estimator keeps a least-squares design.
WITH_INFERENCE = {"TWFEResult", "EventStudyResult", "SunAbrahamResult", "PanelIVResult"}
#: Tests that give a p-value but no interval: conf_int() raises, saying what gives one.
NO_INTERVAL = {"RandomizationResult", "PlaceboResult"}
#: Results whose intervals are fixed at the level of the call.
FIXED_LEVEL = {"Comparison", "HonestDiDResult", "FewClusterReport"}
#: Classes with pre-treatment periods.
PRETREND = {"EventStudyResult", "SunAbrahamResult", "ImputationResult", "CSResult", "GroupTimeEffects",
            "AggregatedEffects", "ContinuousResult", "DoseCurve", "DCDHResult", "EffectVector"}


# ---------------------------------------------------------------------------------------------
# one small instance of every result class
# ---------------------------------------------------------------------------------------------
def _staggered(seed=0, n=40):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(u, t) for u in range(n) for t in range(2015, 2022)], columns=["unit", "year"])
    df["cohort"] = np.select([df.unit < n // 4, df.unit < n // 2], [2018, 2020], 0)
    df["treated"] = ((df.cohort > 0) & (df.year >= df.cohort)).astype(int)
    df["y"] = 0.1 * df.unit + df.treated + rng.normal(0, 0.1, len(df))
    return df


def _dose():
    rng = np.random.default_rng(0)
    df = pd.DataFrame([(u, t) for u in range(60) for t in range(2016, 2022)], columns=["unit", "year"])
    df["cohort"] = np.where(df.unit < 40, 2019, 0)
    df["dose"] = np.where(df.cohort > 0, 1 + (df.unit % 40) / 10, 0.0)
    df["y"] = 0.1 * df.unit + 0.5 * df.dose * (df.year >= 2019) + rng.normal(0, 0.1, len(df))
    return df


def _switching(n=30, seed=0, years=range(2015, 2021)):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(u, t) for u in range(n) for t in years], columns=["unit", "year"])
    first = min(years)
    df["d"] = np.where((df.unit < n // 2) & (df.year >= first + 2 + df.unit % 3), 1.0, 0.0)
    df["y"] = 0.1 * df.unit + 2.0 * df.d + rng.normal(0, 0.1 if n < 100 else 1.0, len(df))
    return df


def _n_draws(func, n: int) -> dict:
    """The number-of-draws keyword of ``func``: ``n_draws`` in the 0.2.0 vocabulary, ``bootstrap``
    in dCDH's signature before it (either way the same draws)."""
    return {"n_draws": n} if "n_draws" in inspect.signature(func).parameters else {"bootstrap": n}


def _iv_panel(n=40):
    rng = np.random.default_rng(0)
    df = pd.DataFrame([(u, t) for u in range(n) for t in range(2016, 2022)], columns=["unit", "year"])
    df["z"] = rng.gamma(2.0, 500.0, len(df))
    df["x"] = 0.8 * df.z + rng.normal(0, 100, len(df))
    df["y"] = 0.5 * df.x / 1000 + rng.normal(0, 0.1, len(df))
    return df


def _build() -> dict[str, object]:
    out: dict[str, object] = {}
    df = _staggered()
    kw = dict(outcome="y", unit="unit", time="year")
    tw = did.twfe(df, treatment="treated", cov_type="clustered", **kw)
    out["TWFEResult"] = tw
    out["EventStudyResult"] = did.event_study(df, cohort="cohort", leads=2, lags=1, cov_type="clustered", **kw)
    out["SunAbrahamResult"] = did.sun_abraham(df, cohort="cohort", leads=2, lags=1, cov_type="clustered", **kw)
    cs = did.callaway_santanna(df, cohort="cohort", **kw)
    out["CSResult"] = cs
    out["GroupTimeEffects"] = cs.att_gt
    out["AggregatedEffects"] = cs.aggregate("dynamic")
    out["ScalarEffect"] = cs.aggregate("simple")
    out["ImputationResult"] = did.imputation(df, cohort="cohort", horizons=[0, 1], **kw)
    out["BaconResult"] = did.bacon_decomposition(df, treatment="treated", **kw)
    out["Comparison"] = did.compare(df, estimators=("twfe", "event_study", "imputation", "callaway_santanna"),
                                    cohort="cohort", leads=2, lags=1, **kw)
    cont = did.continuous(_dose(), dose="dose", cohort="cohort", degree=1, **kw)
    out["ContinuousResult"] = cont
    out["DoseCurve"] = cont.att_d
    dc = did.dcdh(_switching(), treatment="d", effects=2, placebo=2, **kw)
    out["DCDHResult"] = dc
    out["EffectVector"] = dc.event_study()
    ivr = iv.panel_iv(_iv_panel(), endog="x", instrument="z", cov_type="clustered", **kw)
    out["PanelIVResult"] = ivr
    out["WREResult"] = wild_restricted_efficient(ivr.design, n_draws=199, seed=1)
    sd = _staggered(n=12)
    sd["treated"] = ((sd.unit < 2) & (sd.year >= 2019)).astype(int)
    out["SynthResult"] = synth.synthetic_did(sd, treatment="treated", **kw)
    out["SCResult"] = synth.synthetic_control(sd, treatment="treated", **kw)
    out["WildBootstrapResult"] = wild_cluster_bootstrap(tw.design, param="treated", n_draws=199, seed=1)
    y = np.array([3.1, 2.9, 3.4, 1.0, 1.2, 0.9])
    out["RandomizationResult"] = permutation_test(lambda a: float(y[a == 1].mean() - y[a == 0].mean()),
                                                  np.array([1, 1, 0, 0, 0, 0]), statistic="estimate")
    pl = pd.DataFrame({"unit": range(6), "cohort": [2018, 0, 0, 0, 0, 0], "y": [5.0, 1.0, 1.2, 0.8, 1.1, 0.9]})
    out["PlaceboResult"] = placebo_in_space(
        pl, lambda d: float(d.loc[d.cohort > 0, "y"].mean() - d.loc[d.cohort == 0, "y"].mean()),
        unit="unit", cohort="cohort")
    ct = _staggered(n=20)
    ct["treated"] = ((ct.unit < 2) & (ct.year >= 2018)).astype(int)
    out["ConleyTaberResult"] = conley_taber(ct, treatment="treated", n_draws=499, **kw)
    small = _staggered(n=12)
    small["treated"] = ((small.unit < 3) & (small.year >= 2018)).astype(int)
    out["FewClusterReport"] = few_cluster_report(
        did.twfe(small, treatment="treated", cov_type="clustered", **kw), n_draws=99)
    out["HonestDiDResult"] = honest_did(out["EventStudyResult"], restriction="smoothness", m=[0.0, 0.05])
    return out


@pytest.fixture(scope="module")
def results():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few-cluster and small-cohort warnings of tiny panels
        return _build()


CLASSES = sorted(qualname(c) for c in result_classes())
NAMES = [q.rsplit(".", 1)[1] for q in CLASSES]


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def _figure(drawn):
    return drawn if isinstance(drawn, matplotlib.figure.Figure) else drawn.figure


# ---------------------------------------------------------------------------------------------
# the classes
# ---------------------------------------------------------------------------------------------
def test_every_returned_result_class_has_an_instance_here(results):
    """The discovery finds the classes; each has an instance in this file (a new result class
    fails here until it is added and checked)."""
    assert set(NAMES) == set(results), sorted(set(NAMES) ^ set(results))
    assert len(NAMES) == len(set(NAMES))


@pytest.mark.parametrize("qual", CLASSES)
def test_result_class_is_exported_from_its_package(qual):
    module, name = qual.rsplit(".", 1)
    parts = module.split(".")
    if parts[1] == "results":
        pkg = __import__("evalkit.results", fromlist=["x"])
    else:
        assert parts[1] in PACKAGES, qual
        pkg = __import__(f"evalkit.{parts[1]}", fromlist=["x"])
        assert name in pkg.__all__, f"{name} is not in evalkit.{parts[1]}.__all__"
    assert getattr(pkg, name).__name__ == name


@pytest.mark.parametrize("name", NAMES)
def test_protocol_members_and_types(results, name):
    r = results[name]
    assert type(r).__name__ == name
    assert r.result_kind in ("scalar", "vector")
    params, se, pv = r.params, r.std_errors, r.pvalues
    for s in (params, se, pv):
        assert isinstance(s, pd.Series) and s.dtype == float
        assert s.index.equals(params.index)
    assert params.index.is_unique and len(params) >= 1
    if name in NO_INTERVAL:
        with pytest.raises(InferenceError, match="interval"):
            r.conf_int()
    elif r.result_kind == "scalar":
        ci = r.conf_int()
        assert type(ci) is tuple and len(ci) == 2 and all(type(v) is float for v in ci)
    else:
        ci = r.conf_int()
        assert isinstance(ci, pd.DataFrame) and list(ci.columns) == ["lower", "upper"]
        assert ci.index.equals(params.index)
    frame = r.to_frame()
    assert isinstance(frame, pd.DataFrame) and set(TIDY_COLUMNS) <= set(frame.columns)
    s = r.summary()
    assert isinstance(s, Summary) and len(str(s)) > 20 and str(r) == str(s)
    assert isinstance(r._repr_html_(), str)


@pytest.mark.parametrize("name", NAMES)
def test_params_std_errors_pvalues_and_intervals_are_the_numbers_of_to_frame(results, name):
    r = results[name]
    frame = r.to_frame()
    if r.result_kind == "vector":
        assert len(frame) == len(r.params)
        rows = frame
    else:
        rows = frame.iloc[[0]]
        assert str(rows["term"].iloc[0]) == str(r.params.index[0])
        assert r.params.iloc[0] == r.estimate and r.std_errors.iloc[0] == pytest.approx(r.std_error, nan_ok=True)
        assert r.pvalues.iloc[0] == pytest.approx(r.pvalue, nan_ok=True)
    n = len(rows)
    np.testing.assert_array_equal(rows["estimate"].to_numpy(float), r.params.to_numpy()[:n])
    np.testing.assert_allclose(rows["std_error"].to_numpy(float), r.std_errors.to_numpy()[:n], rtol=1e-12)
    np.testing.assert_allclose(rows["p_value"].to_numpy(float), r.pvalues.to_numpy()[:n], rtol=1e-12)
    if name in NO_INTERVAL:
        assert rows[["conf_low", "conf_high"]].isna().all().all()
        return
    ci = r.conf_int()
    lo, hi = (np.array([ci[0]]), np.array([ci[1]])) if r.result_kind == "scalar" else (
        ci["lower"].to_numpy(), ci["upper"].to_numpy())
    np.testing.assert_allclose(rows["conf_low"].to_numpy(float), lo, rtol=1e-12)
    np.testing.assert_allclose(rows["conf_high"].to_numpy(float), hi, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_conf_int_at_another_level_by_the_results_own_method(results, name):
    r = results[name]
    if name in NO_INTERVAL:
        with pytest.raises(InferenceError, match="90%"):
            r.conf_int(0.9)
        return
    if name in FIXED_LEVEL:
        with pytest.raises(EvalkitError, match=r"level=0\.9"):
            r.conf_int(0.9)
        return
    ci90, ci95 = r.conf_int(0.9), r.conf_int(0.95)
    if r.result_kind == "vector":
        ci90, ci95 = ci90.to_numpy(), ci95.to_numpy()
    ci90, ci95 = np.asarray(ci90, float), np.asarray(ci95, float)
    if name in ("BaconResult",) or name == "SCResult":  # no sampling interval: nan at every level
        assert np.isnan(ci90).all() and np.isnan(ci95).all()
        return
    ok = np.isfinite(ci95).all(axis=-1)
    width90 = np.diff(ci90.reshape(-1, 2), axis=1)[ok.reshape(-1)]
    width95 = np.diff(ci95.reshape(-1, 2), axis=1)[ok.reshape(-1)]
    assert (width90 <= width95 + 1e-12).all() and (width90 < width95).any()
    with pytest.raises(EvalkitError, match="level"):
        r.conf_int(1.5)


@pytest.mark.parametrize("name", NAMES)
def test_with_inference_or_a_reason(results, name):
    r = results[name]
    if name in WITH_INFERENCE:
        other = r.with_inference("cr2")
        assert type(other) is type(r) and other.params.equals(r.params)
        assert "CR2" in other.inference and other.std_errors.iloc[0] != r.std_errors.iloc[0]
    else:
        with pytest.raises(InferenceError, match=rf"{name}\.with_inference\(\) is not available: \w+"):
            r.with_inference("cr2")


@pytest.mark.parametrize("name", NAMES)
def test_plot_is_english_outside_the_pack_and_follows_report_use(results, name, monkeypatch):
    from evalkit.report import style

    r = results[name]
    monkeypatch.setattr(style.current(), "language_chosen", False)
    monkeypatch.setattr(style.current(), "language", "zh")  # a pack run before: still English here
    fig = _figure(r.plot())
    en = _texts(fig)
    plt.close("all")
    assert en and not any(CJK.search(t) for t in en), [t for t in en if CJK.search(t)]
    monkeypatch.setattr(style.current(), "synthetic", False)
    report.use(language="zh")
    fig = _figure(r.plot())
    zh = _texts(fig)
    plt.close("all")
    assert any(CJK.search(t) for t in zh), zh


OTHER_PLOTS = [("SynthResult", "plot", {"kind": k}) for k in ("gap", "weights", "placebo")] + [
    ("SCResult", "plot", {"kind": k}) for k in ("spaghetti", "rmspe")] + [
    ("PanelIVResult", "plot_first_stage", {}), ("PanelIVResult", "plot_reduced_form", {}),
    ("SunAbrahamResult", "plot", {"uniform": False}), ("ContinuousResult", "plot", {"uniform": False})]


@pytest.mark.parametrize(("name", "method", "kw"), OTHER_PLOTS, ids=lambda v: str(v))
def test_other_plots_follow_the_same_language_rule(results, name, method, kw, monkeypatch):
    from evalkit.report import style

    draw = getattr(results[name], method)
    monkeypatch.setattr(style.current(), "language_chosen", False)
    monkeypatch.setattr(style.current(), "language", "zh")
    en = _texts(_figure(draw(**kw)))
    plt.close("all")
    assert en and not any(CJK.search(t) for t in en)
    monkeypatch.setattr(style.current(), "language_chosen", True)
    zh = _texts(_figure(draw(**kw)))
    plt.close("all")
    assert any(CJK.search(t) for t in zh)


# ---------------------------------------------------------------------------------------------
# scalar vs vector, TWFE and IV plots
# ---------------------------------------------------------------------------------------------
def test_scalar_results_have_float_headline_members(results):
    for name, r in results.items():
        if r.result_kind != "scalar":
            continue
        for attr in ("estimate", "std_error", "pvalue"):
            assert isinstance(getattr(r, attr), float), (name, attr)
        assert r.params.index[0] == str(r.term)


def test_twfe_params_cover_every_coefficient_and_coef_table_has_their_intervals():
    df = _staggered()
    df["x"] = np.random.default_rng(1).normal(size=len(df))
    r = did.twfe(df, outcome="y", unit="unit", time="year", treatment="treated", covariates="x",
                 cov_type="clustered")
    assert r.params.index.tolist() == ["treated", "x"] and r.params["treated"] == r.estimate
    table = r.coef_table(0.9).set_index("term")
    assert (table["estimate"] == r.params).all() and (table["p_value"] == r.pvalues).all()
    assert table.loc["treated", ["conf_low", "conf_high"]].tolist() == list(r.conf_int(0.9))
    ax = r.plot(language="en")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["treated"]
    plt.close("all")


def test_iv_plot_shows_2sls_beside_ols(results):
    r = results["PanelIVResult"]
    ax = r.plot(level=0.9, language="en")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2SLS", "OLS"]
    # the error bars end at each estimate's own 90% interval
    segs = [c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)][0].get_segments()
    lows = sorted(min(s[:, 1]) for s in segs)
    assert lows == pytest.approx(sorted([r.conf_int(0.9)[0], r.ols.conf_int(0.9)[0]]), rel=1e-12)
    plt.close("all")


def test_iv_interval_at_another_level_comes_from_the_wre_draws():
    """Before: with_inference('wild') kept the WRE interval at its level only and answered any
    other level with CR1's t interval."""
    fit = iv.panel_iv(_iv_panel(14), outcome="y", endog="x", instrument="z", unit="unit", time="year",
                      cov_type="clustered")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = fit.with_inference("wild", n_draws=399, seed=3)
        native = wild_restricted_efficient(fit.design, n_draws=399, seed=3, level=0.9)
    assert w.resampled_by and "WRE" in w.resampled_by
    assert w.conf_int(0.9) == pytest.approx(native.interval, rel=1e-9)
    cr1 = fit.with_inference("clustered")
    assert not np.allclose(w.conf_int(0.9), cr1.conf_int(0.9), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# the pre-trend test: one name
# ---------------------------------------------------------------------------------------------
def test_pretrend_test_is_on_every_result_with_pre_periods(results):
    have = {name for name, r in results.items() if callable(getattr(r, "pretrend_test", None))}
    assert have == PRETREND
    for name in PRETREND - {"GroupTimeEffects", "DoseCurve"}:  # these two: no negative event times
        if name == "EffectVector":
            continue
        pt = results[name].pretrend_test()
        assert set(pt) == {"statistic", "df", "p_value"} and 0 <= pt["p_value"] <= 1, name


def test_vector_pretrend_test_is_the_wald_test_of_the_estimated_leads(results):
    dyn = results["AggregatedEffects"]  # CS dynamic, varying base: every lead estimated
    et = dyn.labels["event_time"].to_numpy()
    assert dyn.pretrend_test() == dyn.wald_test(list(dyn.params.index[et < 0]))
    uni = did.callaway_santanna(_staggered(), outcome="y", unit="unit", time="year", cohort="cohort",
                                base_period="universal").aggregate("dynamic")
    et = uni.labels["event_time"].to_numpy()
    leads = [t for t, e, s in zip(uni.params.index, et, uni.std_errors, strict=True) if e < 0 and s > 0]
    assert len(leads) == (et < 0).sum() - 1  # the reference e = -1 (at zero) is left out
    assert uni.pretrend_test() == uni.wald_test(leads)
    es = results["EventStudyResult"]
    assert es.pretrend_test() == es.wald_test(["event_time::-2"])
    assert es.pretrend_test(terms=[-2])["df"] == 1
    dc = results["DCDHResult"]
    assert dc.pretrend_test() == dc.placebos.wald_test()
    cont = results["ContinuousResult"]
    assert cont.pretrend_test() == cont.event_study.pretrend_test()
    with pytest.raises(DesignError, match="event times"):
        EffectVector(params=pd.Series({"a": 1.0}), cov=np.eye(1)).pretrend_test()


def test_old_pretrend_names_warn_until_0_3_0_and_agree(results):
    cs, cont, dc = results["CSResult"], results["ContinuousResult"], results["DCDHResult"]
    with pytest.warns(FutureWarning, match=r"pretest\(\) is deprecated.*0\.3\.0.*pretrend_test\(\)"):
        assert cs.pretest() == cs.pretrend_test()
    with pytest.warns(FutureWarning, match=r"ContinuousResult\.pretrend is deprecated"):
        assert cont.pretrend == cont.pretrend_test()
    with pytest.warns(FutureWarning, match=r"DCDHResult\.placebo_test is deprecated"):
        assert dc.placebo_test == dc.pretrend_test()
    no_placebo = did.dcdh(_switching(), outcome="y", unit="unit", time="year", treatment="d")
    with pytest.raises(DesignError, match="placebo=k"):
        no_placebo.pretrend_test()


def test_old_conf_int_attribute_is_the_tuple_with_a_warning(results):
    for name in ("WildBootstrapResult", "WREResult", "ConleyTaberResult"):
        r = results[name]
        with pytest.warns(FutureWarning, match=rf"{name}\.conf_int is a method now"):
            lo, hi = r.conf_int
        assert (lo, hi) == r.interval == r.conf_int(r.level)
        assert r.conf_int(0.8)[0] > lo


def test_test_results_to_frame_is_tidy_and_draws_frame_keeps_the_draws(results):
    ri, pl = results["RandomizationResult"], results["PlaceboResult"]
    assert ri.to_frame()["term"].tolist() == ["effect"] and len(ri.draws_frame()) == ri.n_draws + 1
    assert pl.draws_frame()["is_observed"].sum() == 1 and pl.to_frame()["estimate"].iloc[0] == pl.estimate
    wb = results["WildBootstrapResult"]
    assert wb.term == "treated" and wb.to_frame()["n_draws"].iloc[0] == wb.n_draws


# ---------------------------------------------------------------------------------------------
# dCDH through honest_did
# ---------------------------------------------------------------------------------------------
def test_dcdh_event_study_has_reference_zero_and_the_joint_covariance(results):
    dc = results["DCDHResult"]
    es = dc.event_study()
    assert es.reference == [0] and es.labels["event_time"].tolist() == [-2, -1, 1, 2]
    cross = es.cov.loc[dc.effects.params.index, dc.placebos.params.index]
    assert cross.equals(dc.effects_placebos_cov.loc[cross.index, cross.columns])
    IF = dc.extra["influence_effects"]
    assert np.allclose(IF.T @ IF, dc.effects.cov.to_numpy(), rtol=1e-12)
    assert (np.linalg.eigvalsh(es.cov.to_numpy()) > -1e-12).all()


def test_dcdh_effect_placebo_covariance_matches_the_bootstrap():
    df = _switching(n=200, years=range(2010, 2021))
    kw = dict(outcome="y", unit="unit", time="year", treatment="d", effects=2, placebo=2)
    an = did.dcdh(df, **kw).event_study().cov.to_numpy()
    bs = did.dcdh(df, **kw, **_n_draws(did.dcdh, 400), seed=5).event_study().cov.to_numpy()

    def corr(c):
        s = np.sqrt(np.diag(c))
        return c / np.outer(s, s)

    cross_an, cross_bs = corr(an)[2:, :2], corr(bs)[2:, :2]
    assert np.abs(cross_an).min() > 0.2  # placebos and effects share the base period: not independent
    np.testing.assert_allclose(cross_an, cross_bs, atol=0.15)


def test_honest_did_on_a_dcdh_result_works_and_targets_the_first_effect(results):
    dc = results["DCDHResult"]
    h = honest_did(dc, restriction="smoothness", m=[0.0])
    e1 = dc.effects
    assert h.original["estimate"] == e1.params["Effect_1"]
    assert h.original["std_error"] == pytest.approx(e1.std_errors["Effect_1"], rel=1e-12)
    assert list(h.extra["pre_times"]) == [-2, -1] and list(h.extra["post_times"]) == [1, 2]
    assert honest_did(dc, restriction="smoothness", m=[0.0], event_time=2).original["estimate"] == \
        e1.params["Effect_2"]
    # the standard event study still targets e = 0 by default
    es = results["EventStudyResult"]
    assert honest_did(es, restriction="smoothness", m=[0.0]).original["estimate"] == es.params["event_time::0"]


def test_honest_did_on_dcdh_without_placebos_says_what_to_do():
    dc = did.dcdh(_switching(), outcome="y", unit="unit", time="year", treatment="d", effects=2)
    for call in (honest_did, sensitivity.pretrend_power):
        with pytest.raises(DesignError, match=r"dcdh\(\.\.\., placebo=k\)") as err:
            call(dc)
        assert "base_period" not in str(err.value) and "Callaway" not in str(err.value)


def test_pretrend_power_reads_a_dcdh_result_like_its_event_study(results):
    dc = results["DCDHResult"]
    a = sensitivity.pretrend_power(dc, power=[0.8])
    b = sensitivity.pretrend_power(dc.event_study(), power=[0.8])
    pd.testing.assert_frame_equal(a, b)
    assert [c for c in a.columns if c.startswith("bias_")] == ["bias_e1", "bias_e2"]


# ---------------------------------------------------------------------------------------------
# maketables
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_maketables_coef_table_of_every_result(results, name):
    r = results[name]
    ct = r.__maketables_coef_table__
    assert list(ct.columns) == ["b", "se", "t", "p", "ci95l", "ci95u"] and ct.index.is_unique
    assert ct.index.name == "Coefficient"
    if name == "CSResult":  # enters a table as its overall ATT
        assert ct["b"].tolist() == [r.aggregate("simple").estimate]
    elif name not in ("TWFEResult",) and r.result_kind == "vector":
        np.testing.assert_array_equal(ct["b"].to_numpy(), r.params.to_numpy())


def test_etable_of_protocol_results(results):
    mt = pytest.importorskip("maketables")
    table = mt.ETable([results["TWFEResult"], results["ImputationResult"], results["DCDHResult"]]).df
    cells = table.to_string()
    assert "Effect_1" in cells and "event_time=0" in cells.replace("::", "=") and "treated" in cells


def test_scalar_effect_is_the_scalar_kind():
    eff = ScalarEffect(estimate=1.0, std_error=0.5, term="b")
    assert eff.params.to_dict() == {"b": 1.0} and eff.std_errors.to_dict() == {"b": 0.5}
    z = stats.norm.ppf(0.95)
    assert eff.pvalues["b"] == eff.pvalue
    assert eff.conf_int(0.9) == pytest.approx((1 - z * 0.5, 1 + z * 0.5), rel=1e-12)
