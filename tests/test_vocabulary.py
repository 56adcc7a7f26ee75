"""One vocabulary for one idea (issue 14): names, retired names, unknown keywords, defaults.

* Every public function and result method uses only the vocabulary's names for the ideas it
  shares (:data:`evalkit._shared.vocabulary.VOCABULARY`): none of the retired names
  (:data:`~evalkit._shared.vocabulary.RETIRED`) appears in a signature or a covariance option.
* Each retired name still works until 0.3.0, with a ``FutureWarning`` naming the new one, and
  gives exactly the numbers of the new name (tolerance 0: the same value reaches the same code).
* Unknown keywords are refused with "did you mean ...?".
* Defaults: one seed; ``cov_type="auto"`` for every least-squares estimator; what ``"auto"``
  means for a vector of effects; ``panel_iv`` fits every registered ``cov_type``.
* The README, the docs and ``CHANGELOG.md`` list the vocabulary and every rename.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalkit
from evalkit import did, iv, synth
from evalkit._shared.exceptions import EvalkitError, RenamedArgumentWarning
from evalkit._shared.vocabulary import (
    DEFAULT_SEED,
    REMOVED_IN,
    RETIRED,
    RETIRED_OPTIONS,
    VOCABULARY,
)
from evalkit.inference import covariance, wild_iv
from evalkit.inference.wild import draw_plan

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("did", "synth", "iv", "inference", "sensitivity", "allocation", "data", "report")


# ------------------------------------------------------------------------------ introspection
def _modules():
    seen = []
    for pkg in PACKAGES:
        mod = importlib.import_module(f"evalkit.{pkg}")
        seen.append(mod)
        if hasattr(mod, "__path__"):
            for info in pkgutil.iter_modules(mod.__path__, f"{mod.__name__}."):
                if not info.name.rsplit(".", 1)[1].startswith("_"):
                    seen.append(importlib.import_module(info.name))
    return seen


def _public_callables():
    """``(qualified name, callable)`` of every function and class method in an ``__all__``."""
    out = {}
    for mod in _modules():
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if inspect.isfunction(obj):
                out[f"{obj.__module__}.{obj.__qualname__}"] = obj
            elif inspect.isclass(obj) and obj.__module__.startswith("evalkit"):
                for klass in obj.__mro__:
                    if not klass.__module__.startswith("evalkit"):
                        continue
                    for attr, fn in vars(klass).items():
                        if inspect.isfunction(fn) and not attr.startswith("_"):
                            out[f"{klass.__module__}.{klass.__qualname__}.{attr}"] = fn
    return out


PUBLIC = _public_callables()


def test_the_scan_sees_the_estimators():
    names = set(PUBLIC)
    for expected in ("evalkit.did.event_study.event_study", "evalkit.iv.panel.panel_iv",
                     "evalkit.synth.sdid.synthetic_did", "evalkit.inference.wild.wild_cluster_bootstrap",
                     "evalkit.did.callaway_santanna.CSResult.aggregate"):
        assert expected in names
    assert len(names) > 150


def test_no_public_signature_uses_a_retired_name():
    offenders = []
    for qual, fn in PUBLIC.items():
        params = set(inspect.signature(fn).parameters)
        bad = sorted(params & set(RETIRED))
        if bad:
            offenders.append(f"{qual}: {bad}")
    assert not offenders, "retired names in public signatures: " + "; ".join(offenders)


def test_covariance_options_use_the_vocabulary():
    for name, entry in covariance._REGISTRY.items():
        bad = set(entry.allowed_kwargs) & (set(RETIRED) | set(RETIRED_OPTIONS))
        assert not bad, f"cov_type={name!r} accepts retired option(s) {sorted(bad)}"
    assert "cluster" in covariance._REGISTRY["clustered"].allowed_kwargs
    assert "bootstrap_weights" in covariance._REGISTRY["wild"].allowed_kwargs


def test_every_seed_defaults_to_the_one_seed():
    wrong = [f"{q}: {p.default!r}" for q, fn in PUBLIC.items()
             for n, p in inspect.signature(fn).parameters.items()
             if n == "seed" and p.default is not inspect.Parameter.empty and p.default != DEFAULT_SEED]
    assert not wrong, "seed defaults other than DEFAULT_SEED: " + "; ".join(wrong)
    assert inspect.signature(evalkit.allocation.sensitivity.monte_carlo).parameters["seed"].default == DEFAULT_SEED


@pytest.mark.parametrize("fn", [did.twfe, did.two_by_two, did.event_study, did.sun_abraham, iv.panel_iv])
def test_least_squares_estimators_default_to_auto(fn):
    assert inspect.signature(fn).parameters["cov_type"].default == "auto"


def test_with_inference_defaults_to_auto():
    for qual, fn in PUBLIC.items():
        if qual.endswith(".with_inference"):
            assert inspect.signature(fn).parameters["cov_type"].default == "auto", qual


# ------------------------------------------------------------------------------ data
def _staggered(n_units=24, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(u, t) for u in range(n_units) for t in range(2014, 2022)], columns=["unit", "year"])
    df["cohort"] = np.select([df.unit < n_units // 4, df.unit < n_units // 2], [2017, 2019], 0)
    df["d"] = ((df.cohort > 0) & (df.year >= df.cohort)).astype(float)
    df["x"] = rng.normal(size=len(df))
    df["y"] = 0.1 * df.unit + df.d + 0.2 * df.x + rng.normal(0, 0.1, len(df))
    df["region"] = df.unit % 6
    return df


def _dose(seed=0):
    df = _staggered(40, seed)
    df["dose"] = np.where(df.cohort > 0, 1 + (df.unit % 10) / 10, 0.0)
    df["y"] = df["y"] + 0.5 * df["dose"] * (df.year >= df.cohort) * (df.cohort > 0)
    return df


def _block(seed=0):
    rng = np.random.default_rng(seed)
    rows = [(u, t, u % 3 + 0.1 * t + rng.normal(0, 0.05) + (0.5 if u < 2 and t >= 8 else 0),
             int(u < 2 and t >= 8)) for u in range(14) for t in range(10)]
    return pd.DataFrame(rows, columns=["unit", "year", "y", "d"])


def _iv_panel(seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(u, t) for u in range(30) for t in range(2016, 2022)], columns=["unit", "year"])
    df["z"] = rng.gamma(2.0, 500.0, len(df))
    df["w"] = rng.normal(size=len(df))
    u = rng.normal(size=len(df))
    df["x"] = 0.8 * df.z + 300 * u + rng.normal(0, 100, len(df))
    df["y"] = 0.1 * df.unit + 0.5 * df.x / 1000 + 0.3 * df.w + u + rng.normal(0, 0.1, len(df))
    return df


ES = {"outcome": "y", "unit": "unit", "time": "year", "cohort": "cohort"}
DD = {"outcome": "y", "unit": "unit", "time": "year", "treatment": "d"}


def _design():
    r = did.twfe(_staggered(), **DD, cov_type="clustered")
    return r.design


def _numbers(res):
    """What must not change when a retired name is used."""
    if isinstance(res, tuple):
        return [_numbers(r) for r in res]
    if isinstance(res, dict):
        return {k: _numbers(v) for k, v in res.items() if not callable(v)}
    if isinstance(res, (float, int, np.ndarray, list, str, pd.DataFrame)):
        return res
    for attr in ("to_frame",):
        if hasattr(res, attr):
            try:
                return getattr(res, attr)()
            except TypeError:
                pass
    for attr in ("pvalue", "estimate"):
        if hasattr(res, attr):
            return (getattr(res, attr), getattr(res, "std_error", None))
    raise AssertionError(f"no numbers for {type(res).__name__}")


def _same(a, b):
    a, b = _numbers(a), _numbers(b)
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        np.testing.assert_equal(a, b)


# (id, call with the retired name, call with the new name, retired name, new name)
CASES = [
    ("event_study control", lambda: did.event_study(_staggered(), **ES, control="last_treated"),
     lambda: did.event_study(_staggered(), **ES, control_group="last_treated"), "control", "control_group"),
    ("sun_abraham control", lambda: did.sun_abraham(_staggered(), **ES, control="last_treated"),
     lambda: did.sun_abraham(_staggered(), **ES, control_group="last_treated"), "control", "control_group"),
    ("compare control", lambda: did.compare(_staggered(), **ES, estimators=("event_study",), control="last_treated").table,
     lambda: did.compare(_staggered(), **ES, estimators=("event_study",), control_group="last_treated").table,
     "control", "control_group"),
    ("callaway_santanna bootstrap", lambda: did.callaway_santanna(_staggered(), **ES, bootstrap=True, n_bootstrap=99).att_gt,
     lambda: did.callaway_santanna(_staggered(), **ES, n_draws=99).att_gt, "bootstrap", "n_draws"),
    ("callaway_santanna bootstrap=False", lambda: did.callaway_santanna(_staggered(), **ES, bootstrap=False).att_gt,
     lambda: did.callaway_santanna(_staggered(), **ES, n_draws=0).att_gt, "bootstrap", "n_draws"),
    ("CSResult.aggregate bootstrap", lambda: did.callaway_santanna(_staggered(), **ES).aggregate("dynamic", bootstrap=True),
     lambda: did.callaway_santanna(_staggered(), **ES).aggregate("dynamic", n_draws=999), "bootstrap", "n_draws"),
    ("continuous n_bootstrap", lambda: did.continuous(_dose(), **ES, dose="dose", degree=1, twfe=False, n_bootstrap=99).att_overall,
     lambda: did.continuous(_dose(), **ES, dose="dose", degree=1, twfe=False, n_draws=99).att_overall,
     "n_bootstrap", "n_draws"),
    ("continuous bootstrap", lambda: did.continuous(_dose(), **ES, dose="dose", degree=1, twfe=False, bootstrap=False).att_overall,
     lambda: did.continuous(_dose(), **ES, dose="dose", degree=1, twfe=False, n_draws=0).att_overall,
     "bootstrap", "n_draws"),
    ("dcdh controls", lambda: did.dcdh(_staggered(), **DD, controls=["x"]).effects,
     lambda: did.dcdh(_staggered(), **DD, covariates=["x"]).effects, "controls", "covariates"),
    ("dcdh bootstrap", lambda: did.dcdh(_staggered(), **DD, bootstrap=19, seed=1).effects,
     lambda: did.dcdh(_staggered(), **DD, n_draws=19, seed=1).effects, "bootstrap", "n_draws"),
    ("synthetic_control n_placebo", lambda: synth.synthetic_control(_block(), **DD, n_placebo=20),
     lambda: synth.synthetic_control(_block(), **DD, n_draws=20), "n_placebo", "n_draws"),
    ("synthetic_did n_reps", lambda: synth.synthetic_did(_block(), **DD, n_reps=20),
     lambda: synth.synthetic_did(_block(), **DD, n_draws=20), "n_reps", "n_draws"),
    ("synthetic_did se_method", lambda: synth.synthetic_did(_block(), **DD, se_method="none"),
     lambda: synth.synthetic_did(_block(), **DD, cov_type="none"), "se_method", "cov_type"),
    ("compare_estimators n_reps", lambda: synth.compare_estimators(_block(), **DD, n_reps=20)[0],
     lambda: synth.compare_estimators(_block(), **DD, n_draws=20)[0], "n_reps", "n_draws"),
    ("panel_iv exog", lambda: iv.panel_iv(_iv_panel(), outcome="y", endog="x", instrument="z", unit="unit",
                                          time="year", exog=["w"], cov_type="clustered"),
     lambda: iv.panel_iv(_iv_panel(), outcome="y", endog="x", instrument="z", unit="unit", time="year",
                         covariates=["w"], cov_type="clustered"), "exog", "covariates"),
    ("mop_critical_value alpha", lambda: iv.mop_critical_value(np.array([[2.5]]), alpha=0.10),
     lambda: iv.mop_critical_value(np.array([[2.5]]), level=0.90), "alpha", "level"),
    ("effective_f clusters", lambda: iv.effective_f(*_fx()[:2], clusters=np.arange(60) % 12, controls=_fx()[2]),
     lambda: iv.effective_f(*_fx()[:2], cluster=np.arange(60) % 12, covariates=_fx()[2]), "clusters", "cluster"),
    ("anderson_rubin_set clusters", lambda: iv.anderson_rubin_set(*_fy(), clusters=np.arange(60) % 12),
     lambda: iv.anderson_rubin_set(*_fy(), cluster=np.arange(60) % 12), "clusters", "cluster"),
    ("wild_cluster_bootstrap weights", lambda: evalkit.inference.wild_cluster_bootstrap(
        _design(), param="d", weights="webb", clusters=_design().clusters, n_draws=99, level=None),
     lambda: evalkit.inference.wild_cluster_bootstrap(
        _design(), param="d", bootstrap_weights="webb", cluster=_design().clusters, n_draws=99, level=None),
     "weights", "bootstrap_weights"),
    ("recommend_inference clusters", lambda: evalkit.inference.recommend_inference(_design(), clusters=_design().clusters).cov_type,
     lambda: evalkit.inference.recommend_inference(_design(), cluster=_design().clusters).cov_type,
     "clusters", "cluster"),
    ("compute clusters", lambda: covariance.compute(_design(), "clustered", clusters=np.arange(_design().nobs) % 6).cov,
     lambda: covariance.compute(_design(), "clustered", cluster=np.arange(_design().nobs) % 6).cov,
     "clusters", "cluster"),
    ("with_inference weights", lambda: did.twfe(_staggered(), **DD).with_inference("wild", weights="webb", n_draws=99),
     lambda: did.twfe(_staggered(), **DD).with_inference("wild", bootstrap_weights="webb", n_draws=99),
     "weights", "bootstrap_weights"),
    ("wild_restricted_efficient weights", lambda: wild_iv.wild_restricted_efficient(
        _ivd(), weights="webb", clusters=_ivd().clusters, n_draws=99, level=None),
     lambda: wild_iv.wild_restricted_efficient(_ivd(), bootstrap_weights="webb", cluster=_ivd().clusters,
                                               n_draws=99, level=None), "weights", "bootstrap_weights"),
]


def _fx():
    rng = np.random.default_rng(1)
    z = rng.normal(size=60)
    return 0.5 * z + rng.normal(size=60), z, rng.normal(size=(60, 1))


def _fy():
    rng = np.random.default_rng(2)
    z = rng.normal(size=60)
    x = z + rng.normal(size=60)
    return 0.5 * x + rng.normal(size=60), x, z


def _ivd():
    return iv.panel_iv(_iv_panel(), outcome="y", endog="x", instrument="z", unit="unit", time="year",
                       cov_type="clustered").design


@pytest.mark.parametrize(("old", "new", "old_name", "new_name"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_retired_name_warns_and_gives_the_same_numbers(old, new, old_name, new_name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # estimator warnings about the toy data are not the point
        warnings.simplefilter("error", RenamedArgumentWarning)
        expected = new()
    with pytest.warns(FutureWarning) as caught:
        got = old()
    retired = [w for w in caught if issubclass(w.category, RenamedArgumentWarning)]
    assert retired, "no RenamedArgumentWarning"
    text = str(retired[0].message)
    assert f"{old_name}=" in text and new_name in text and REMOVED_IN in text
    assert retired[0].filename == __file__  # points at the caller's line, not into evalkit
    _same(got, expected)


def test_retired_warning_is_an_error_under_the_test_configuration():
    with pytest.raises(RenamedArgumentWarning, match="control_group"):
        did.event_study(_staggered(), **ES, control="never_treated")


def test_retired_and_new_name_together_are_refused():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RenamedArgumentWarning)
        with pytest.raises(EvalkitError, match="pass only the new name"):
            did.event_study(_staggered(), **ES, control="never_treated", control_group="never_treated")
        with pytest.raises(EvalkitError, match="pass only cluster="):
            covariance.compute(_design(), "clustered", clusters=_design().clusters, cluster=_design().clusters)


# ------------------------------------------------------------------------------ unknown keywords
@pytest.mark.parametrize(
    ("call", "bad", "suggestion"),
    [
        (lambda **k: did.callaway_santanna(_staggered(), **ES, **k), "sed", "seed"),
        (lambda **k: did.callaway_santanna(_staggered(), **ES, **k), "n_bootstrp", "n_draws"),
        (lambda **k: did.dcdh(_staggered(), **DD, **k), "covariate", "covariates"),
        (lambda **k: did.bacon_decomposition(_staggered(), **DD, **k), "weights", None),
        (lambda **k: did.imputation(_staggered(), **ES, **k), "horizon", "horizons"),
        (lambda **k: did.continuous(_dose(), **ES, dose="dose", **k), "n_boot", None),
        (lambda **k: did.event_study(_staggered(), **ES, **k), "contrl_group", "control_group"),
        (lambda **k: synth.synthetic_control(_block(), **DD, **k), "n_placebos", "n_draws"),
        (lambda **k: synth.synthetic_did(_block(), **DD, **k), "se_methods", "cov_type"),
        (lambda **k: iv.effective_f(*_fx()[:2], **k), "cluster_labels", None),
        (lambda **k: evalkit.inference.wild_cluster_bootstrap(_design(), **k), "weight", "bootstrap_weights"),
        (lambda **k: evalkit.sensitivity.honest_did(did.event_study(_staggered(), **ES), **k), "levle", "level"),
    ],
)
def test_unknown_keywords_are_refused_with_did_you_mean(call, bad, suggestion):
    with pytest.raises(EvalkitError) as err:
        call(**{bad: 1})
    msg = str(err.value)
    assert f"unknown keyword argument {bad!r}" in msg
    if suggestion is not None:
        assert f"Did you mean {suggestion!r}" in msg
    assert "Its arguments are" in msg


def test_a_retired_name_of_another_function_is_answered_with_its_replacement():
    with pytest.raises(EvalkitError, match=r"'control'\. Did you mean 'control_group'\?"):
        did.callaway_santanna(_staggered(), **ES, control="never_treated")
    with pytest.raises(EvalkitError, match=r"'clusters'\. Did you mean 'cluster'\?"):
        did.callaway_santanna(_staggered(), **ES, clusters="region")


# ------------------------------------------------------------------------------ defaults
def _no_bootstrap(monkeypatch):
    from evalkit.inference import wild

    def refuse(*a, **k):
        raise AssertionError("the wild bootstrap ran for a vector of effects")

    monkeypatch.setattr(wild, "wild_cluster_bootstrap", refuse)


def test_auto_for_a_vector_with_few_clusters_is_the_rules_covariance(monkeypatch):
    _no_bootstrap(monkeypatch)
    df = _staggered(16)  # 16 clusters, 8 treated: few
    es = did.event_study(df, **ES)
    cr2 = es.with_inference("cr2", working_model="treatment_groups")
    np.testing.assert_array_equal(es.std_errors, cr2.std_errors)
    np.testing.assert_array_equal(es.cov, cr2.cov)
    assert "CR2" in es.inference and "default chosen for" in es.inference
    sa = did.sun_abraham(df, **ES)
    np.testing.assert_array_equal(sa.cov, sa.with_inference("cr2", working_model="treatment_groups").cov)
    sa._coef_cov = None  # recomputed on demand, the same way
    assert np.isfinite(sa.cohort_effects["std_error"]).all()


def test_auto_for_a_vector_is_cr1_where_the_rule_picks_the_bootstrap(monkeypatch):
    import dataclasses

    from evalkit.did._common import vector_inference

    _no_bootstrap(monkeypatch)
    es = did.event_study(_staggered(16), **ES)
    unknown = dataclasses.replace(es.design, treated_clusters=None)  # which clusters are treated?
    assert evalkit.inference.recommend_inference(unknown).cov_type == "wild"
    res = vector_inference(unknown, "auto", {})
    np.testing.assert_array_equal(res.cov, covariance.compute(unknown, "clustered").cov)
    assert res.dof == 15 and "default for a vector of effects" in res.description


def test_auto_for_a_vector_with_many_clusters_says_so():
    es = did.event_study(_staggered(60), **ES)
    assert "CR1" in es.inference and "[default: 60 clusters" in es.inference


def test_scalar_auto_with_few_clusters_and_many_observations_runs():
    # the observation-level wild bootstrap of the few-cluster default: 2**n must not overflow
    assert draw_plan("rademacher", 5000, 999, None, max_enumerated=24) == (False, 999)


@pytest.mark.parametrize("cov_type", sorted(evalkit.inference.available()))
def test_panel_iv_fits_every_registered_cov_type(cov_type):
    opts = {"n_draws": 99} if cov_type in ("wild",) else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = iv.panel_iv(_iv_panel(), outcome="y", endog="x", instrument="z", unit="unit", time="year",
                        cov_type=cov_type, **opts)
    assert np.isfinite(r.std_error) and r.std_error > 0
    lo, hi = r.conf_int()
    assert lo < r.estimate < hi


# ------------------------------------------------------------------------------ documentation
def _table_names(text: str) -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.M))


def test_readme_and_docs_show_the_vocabulary_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docs = (ROOT / "docs" / "coming_from.md").read_text(encoding="utf-8")
    for text in (readme, docs):
        assert set(VOCABULARY) <= _table_names(text)
        assert REMOVED_IN in text and "FutureWarning" in text


def test_changelog_lists_every_rename_and_default_change():
    log = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {evalkit.__version__}" in log
    rows = [line for line in log.splitlines() if line.startswith("| `") and " → " in line]

    def listed(old, new, name):
        return any(f"`{old}`" in r.split(" → ")[0] and r.split(" → ")[1].startswith(f"`{new}`")
                   and re.search(rf"[.`]{name}`", r) for r in rows)

    pairs = [(fn.__name__, o) for fn in PUBLIC.values() for o in getattr(fn, "__renamed__", {})]
    assert len(set(pairs)) >= 20  # the scan sees the decorated functions
    missing = []
    for _qual, fn in PUBLIC.items():
        for old, new in getattr(fn, "__renamed__", {}).items():
            if not listed(old, new, fn.__name__):
                missing.append(f"{fn.__name__}: {old} → {new}")
    for old, new in RETIRED_OPTIONS.items():
        if f"`{old}` → `{new}`" not in log:
            missing.append(f"covariance option {old} → {new}")
    assert not missing, "CHANGELOG.md lacks: " + "; ".join(sorted(set(missing)))
    assert str(DEFAULT_SEED) in log and 'cov_type="auto"' in log


def test_the_vocabulary_module_examples_run():
    import doctest

    from evalkit._shared import options, vocabulary

    for mod in (vocabulary, options):
        res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert res.attempted > 0 and res.failed == 0


def test_version_is_one_number():
    toml = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{evalkit.__version__}"' in toml
