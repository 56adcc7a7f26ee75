"""maketables plug-in: evalkit results render in ``maketables.ETable`` beside pyfixest (issue 14).

The table's cells must carry exactly evalkit's coefficients and standard errors (to the printed
precision, 3 decimals) and pyfixest's for its own model; evalkit itself never imports
maketables (checked in a fresh interpreter).
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import evalkit.did as did

mt = pytest.importorskip("maketables")
pf = pytest.importorskip("pyfixest")


@pytest.fixture(scope="module")
def castle() -> pd.DataFrame:
    from causaldata import castle as c

    d = c.load_pandas().data
    first = d.loc[d["post"] > 0].groupby("sid")["year"].min()
    return d.assign(cohort=d["sid"].map(first).fillna(0).astype(int))


def _cell(table: pd.DataFrame, term: str, col: int) -> str:
    label = term.replace("::", "=")  # maketables writes factor levels as name=level
    row = table.loc[[k for k in table.index if k[1] == label][0]]
    return str(row.iloc[col])


def test_etable_of_evalkit_and_pyfixest(castle):
    tw = did.twfe(castle, outcome="l_homicide", unit="sid", time="year", treatment="post", covariates=["l_police"])
    es = did.event_study(castle, outcome="l_homicide", unit="sid", time="year", cohort="cohort", leads=2, lags=2,
                         bin_endpoints=True)
    cs = did.callaway_santanna(castle, outcome="l_homicide", unit="sid", time="year", cohort="cohort")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fx = pf.feols("l_homicide ~ post + l_police | sid + year", data=castle, vcov={"CRV1": "sid"})
    table = mt.ETable([tw, es, cs.aggregate("simple"), fx]).df
    for term in ("post", "l_police"):
        assert _cell(table, term, 0) == f"{tw.params[term]:.3f} \n ({tw.std_errors[term]:.3f})"
        assert _cell(table, term, 3) == f"{fx.coef()[term]:.3f} \n ({fx.se()[term]:.3f})"
    for term in es.params.index:
        assert _cell(table, term, 1) == f"{es.params[term]:.3f} \n ({es.std_errors[term]:.3f})"
    att = cs.aggregate("simple")
    assert _cell(table, "ATT", 2) == f"{att.estimate:.3f} \n ({att.std_error:.3f})"
    # a CS fit itself enters as its overall (simple) ATT
    alone = mt.ETable([cs]).df
    assert _cell(alone, "ATT", 0) == f"{att.estimate:.3f} \n ({att.std_error:.3f})"
    assert alone.columns.get_level_values(0).tolist() == ["l_homicide"]
    # depvar, fixed effects and observations come through the plug-in attributes too
    assert table.columns.get_level_values(0).tolist() == ["l_homicide"] * 4
    fe = table.loc["fe"]
    assert fe.loc["sid"].tolist()[:3] == ["x", "x", "-"]
    assert table.loc[("stats", "Observations")].tolist()[:3] == ["550", "550", "550"]


def test_coef_table_protocol(castle):
    tw = did.twfe(castle, outcome="l_homicide", unit="sid", time="year", treatment="post")
    ct = tw.__maketables_coef_table__
    assert ct.index.name == "Coefficient" and list(ct.columns) == ["b", "se", "t", "p", "ci95l", "ci95u"]
    assert ct.loc["post", "b"] == tw.estimate and ct.loc["post", "se"] == tw.std_error
    lo, hi = tw.conf_int()
    np.testing.assert_allclose(ct.loc["post", ["ci95l", "ci95u"]].to_numpy(float), [lo, hi], rtol=1e-12)
    assert tw.__maketables_stat__("N") == 550 and tw.__maketables_stat__("r2") is None
    assert tw.__maketables_depvar__ == "l_homicide"
    assert tw.__maketables_vcov_info__["clustervar"] == "sid"


def test_evalkit_does_not_import_maketables():
    code = "import sys, evalkit.did, evalkit.results; print('maketables' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
