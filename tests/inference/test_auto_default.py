"""cov_type="auto": CR1 with many clusters, the size study's few-cluster choice otherwise."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from evalkit.did import twfe


def _panel(n_units, n_treated, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"u": np.repeat(np.arange(n_units), 10), "t": np.tile(np.arange(10), n_units)})
    df["d"] = ((df["u"] < n_treated) & (df["t"] >= 5)).astype(float)
    df["y"] = rng.normal(size=len(df)) + 0.2 * df["d"]
    return df


def test_few_clusters_default_is_cr2_with_the_treated_untreated_working_model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = twfe(_panel(12, 3), outcome="y", unit="u", time="t", treatment="d", seed=4)
        cr2 = r.with_inference("cr2", working_model="treatment_groups")
        bm = r.with_inference("cr2")
    assert r.inference.startswith("bias-reduced cluster-robust (CR2)") and "size study" in r.inference
    assert "treated and untreated clusters" in r.inference
    assert r.estimate == cr2.estimate and r.std_error == cr2.std_error == bm.std_error
    assert r.pvalue == cr2.pvalue and r.dof == cr2.dof != bm.dof  # same variance, other dof
    lo, hi = r.conf_int()
    assert lo < r.estimate < hi


def test_few_clusters_all_treated_fall_back_to_the_subcluster_wild_bootstrap():
    df = _panel(12, 3)
    df["d"] = df["d"] + (df["t"] >= 3) * 0.5  # a dose every unit receives
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = twfe(df, outcome="y", unit="u", time="t", treatment="d", seed=4)
        cr1 = r.with_inference("clustered")
    assert r.inference.startswith("wild cluster bootstrap") and "every cluster treated" in r.inference
    assert r.pvalue != cr1.pvalue  # bootstrap p-value, not the t(G-1) one


def test_many_clusters_default_is_cr1():
    r = twfe(_panel(60, 20), outcome="y", unit="u", time="t", treatment="d")
    explicit = r.with_inference("clustered")
    assert "CR1" in r.inference and "default" in r.inference
    assert np.isclose(r.std_error, explicit.std_error) and np.isclose(r.pvalue, explicit.pvalue)


def test_few_treated_clusters_also_trigger_the_default():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = twfe(_panel(60, 4), outcome="y", unit="u", time="t", treatment="d", seed=1)
    assert r.inference.startswith("bias-reduced cluster-robust (CR2)")
