"""Default inference by evidence and the few-cluster report (behaviour and messages).

Tolerances: the report's CR1/CR2 rows equal the registry's own numbers to 1e-12; bootstrap rows
are checked for consistency (p in [0, 1], estimate inside the interval).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from evalkit._shared.exceptions import FewClustersWarning, InferenceError
from evalkit.inference import covariance
from evalkit.inference.design import LinearDesign
from evalkit.inference.recommend import (
    MIN_CLUSTERS,
    few_cluster_report,
    recommend_inference,
)


def _twfe(N=12, T=10, n_treated=3, seed=0):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(N), T)
    year = np.tile(np.arange(T), N)
    D = ((unit < n_treated) & (year >= T // 2)).astype(float)
    Y = rng.normal(size=N)[unit] + rng.normal(size=T)[year] + rng.normal(size=N * T) + 0.3 * D

    def tw(v):
        m = v.reshape(N, T)
        return (m - m.mean(1, keepdims=True) - m.mean(0, keepdims=True) + m.mean()).ravel()

    yt, dt = tw(Y), tw(D)
    b = np.array([dt @ yt / (dt @ dt)])
    return LinearDesign(
        X=dt[:, None], resid=yt - dt * b[0], beta=b, names=["treat"], y=yt, clusters=unit,
        df_absorbed=N + T - 1, fe_nested_in_cluster=True, treated_clusters=np.arange(n_treated),
        extra={"fe_codes": np.column_stack([unit, year]), "target_param": "treat"},
    )


class _Result:
    def __init__(self, design):
        self.design = design


def test_many_clusters_use_cr1():
    rec = recommend_inference(_twfe(N=60, n_treated=20))
    assert rec.cov_type == "clustered" and rec.n_clusters == 60 >= MIN_CLUSTERS


def test_few_clusters_use_the_size_study_choice():
    rec = recommend_inference(_Result(_twfe()))
    assert rec.n_clusters == 12 and rec.n_treated_clusters == 3
    assert rec.cov_type == "cr2" and rec.options == {"working_model": "treatment_groups"}
    # the default held 3.5-6.5% in every design of the size study: no range needed
    assert not rec.report_range and "every design" in rec.reason
    assert "12 clusters" in rec.reason and "size study" in rec.reason
    res = covariance.compute(_twfe(), rec.cov_type, **rec.options)
    assert "treated and untreated clusters" in res.description and 0 <= res.pvalue[0] <= 1


def test_the_default_holds_the_band_in_the_size_study_table():
    """The constants the pages quote are the table's: the default's row is inside the band in
    every design, and it is the only row that is."""
    from evalkit.inference.recommend import SIZE_BAND, SIZE_STUDY, SIZE_STUDY_DESIGNS

    inside = [m for m, rates in SIZE_STUDY.items()
              if len(rates) == len(SIZE_STUDY_DESIGNS) and all(SIZE_BAND[0] <= r <= SIZE_BAND[1] for r in rates)]
    assert inside == [m for m in SIZE_STUDY if m.endswith("(default)")]


def test_few_clusters_without_treatment_information_fall_back_to_the_subcluster_bootstrap():
    d = _twfe()
    d.treated_clusters = None
    rec = recommend_inference(d)
    assert rec.cov_type == "wild" and rec.options["bootcluster"] == "observation"
    assert rec.report_range and "treated clusters unknown" in rec.reason
    res = covariance.compute(d, rec.cov_type, n_draws=999, **rec.options)
    assert res.details.n_boot_clusters == 120 and 0 <= res.pvalue <= 1


def test_one_treated_cluster_warns_with_alternatives():
    with pytest.warns(FewClustersWarning, match="Conley-Taber"):
        rec = recommend_inference(_twfe(n_treated=1))
    assert rec.report_range


def test_errors():
    d = _twfe()
    with pytest.raises(InferenceError, match="Only 1 cluster"):
        recommend_inference(d, cluster=np.zeros(d.nobs))
    with pytest.raises(InferenceError, match="LinearDesign"):
        recommend_inference(object())


def test_few_cluster_report_rows():
    d = _twfe(seed=3)
    rep = few_cluster_report(d, n_draws=999)
    assert list(rep.table["method"].str.split(",").str[0]) == ["CR1", "CR2", "CR2", "WCR", "WCR", "WCU", "WCR"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        cr2 = covariance.compute(d, "cr2")
        cr2g = covariance.compute(d, "cr2", working_model="treatment_groups")
    assert rep.table["p_value"].iloc[1] == pytest.approx(cr2.pvalue[0], abs=1e-12)
    assert rep.table["p_value"].iloc[2] == pytest.approx(cr2g.pvalue[0], abs=1e-12)
    assert ((rep.table["conf_low"] < rep.estimate) & (rep.estimate < rep.table["conf_high"])).all()
    lo, hi = rep.pvalue_range
    assert 0 <= lo <= hi <= 1
    assert "p-value ranges" in rep.inference and "Few-cluster report" in rep.summary()
    assert len(rep.to_frame()) == 7
