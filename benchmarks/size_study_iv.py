"""Monte-Carlo size study of few-cluster inference for panel IV (2SLS with unit and year effects).

The design mimics the factor-fund evaluation (page 40): clusters = units, every unit receives
funds, one endogenous regressor and one instrument that varies within units over time, unit and
year effects absorbed, endogeneity through correlated structural and first-stage errors
(correlation 0.5). 5% two-sided tests of the true beta = 0.5 with each method below; rejection
rates with their Monte-Carlo standard errors sqrt(p(1-p)/reps) go to
``benchmarks/results/size_study_iv.csv`` and the IV section of ``benchmarks/README.md``.

Designs (units x years; first-stage coefficient pi on a unit-variance instrument):

* ``iv-12x14``: 12 x 14 (units < years), homoskedastic i.i.d. errors, pi = 0.6 (strong);
* ``iv-16x14``: 16 x 14 (Weifang's shape), a quarter of the clusters 3x noisier, AR(1) errors
  with rho = 0.5 within units, pi = 0.6;
* ``iv-16x14-weak``: as ``iv-16x14`` with pi = 0.35 (a weaker first stage; the median
  effective F is in the table);
* ``iv-16x4``: 16 x 4, the shape of the demo's factor-fund sample (16 Weifang units, 2022-2025),
  otherwise as ``iv-16x14``;
* ``iv-16x14-few``: as ``iv-16x14`` but only 4 units carry the instrument (the other 12 have
  z = 0, as units outside a formula's reach), and those 4 are the 3x noisier ones.

Methods: CR1 with t(G-1); CR2 with Bell-McCaffrey degrees of freedom (absorbed effects in the hat
matrix); the wild restricted efficient bootstrap (WRE, Rademacher; full enumeration for G = 12,
999 draws for G = 16); the Anderson-Rubin test (CR1, F(1, G-1)).

Run in the background: ``nohup .venv/bin/python benchmarks/size_study_iv.py [reps] [design ...] &``
(serial; about 0.05 s per replication and design; named designs replace their rows in the CSV).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from evalkit import iv
from evalkit._shared.exceptions import FewClustersWarning
from evalkit.inference import covariance
from evalkit.inference.wild_iv import wild_restricted_efficient

BETA = 0.5
ALPHA = 0.05
SEED = 20261203
DESIGNS = {
    "iv-12x14": dict(N=12, T=14, pi=0.6, noisy_share=0.0, rho=0.0),
    "iv-16x14": dict(N=16, T=14, pi=0.6, noisy_share=0.25, rho=0.5),
    "iv-16x14-weak": dict(N=16, T=14, pi=0.35, noisy_share=0.25, rho=0.5),
    "iv-16x4": dict(N=16, T=4, pi=0.6, noisy_share=0.25, rho=0.5),
    "iv-16x14-few": dict(N=16, T=14, pi=0.6, noisy_share=0.25, rho=0.5, instrumented=4),
}
METHODS = ["CR1 t(G-1)", "CR2 Bell-McCaffrey dof", "WRE Rademacher", "Anderson-Rubin (CR1, F(1,G-1))"]


def _ar1(rng, N, T, rho):
    e = np.empty((N, T))
    e[:, 0] = rng.normal(size=N) / np.sqrt(max(1 - rho**2, 1e-12))
    for t in range(1, T):
        e[:, t] = rho * e[:, t - 1] + rng.normal(size=N)
    return e * np.sqrt(1 - rho**2)


def simulate(rng: np.random.Generator, N: int, T: int, pi: float, noisy_share: float,
             rho: float, instrumented: int | None = None) -> pd.DataFrame:
    """One panel under the null beta = BETA (the first ``instrumented`` units carry z)."""
    a = rng.normal(size=(N, 1))
    lam = rng.normal(size=(1, T))
    z = rng.normal(size=(N, T)) + 0.5 * a
    if instrumented is not None:
        z[instrumented:] = 0.0
    scale = np.ones((N, 1))
    scale[: int(round(noisy_share * N))] = 3.0
    e1 = _ar1(rng, N, T, rho)
    e2 = 0.5 * e1 + np.sqrt(0.75) * _ar1(rng, N, T, rho)
    e1, e2 = e1 * scale, e2 * scale
    x = pi * z + a + e2
    y = BETA * x + a + lam + e1
    u = np.repeat(np.arange(N), T)
    t = np.tile(np.arange(T), N)
    return pd.DataFrame({"u": u, "t": t, "y": y.ravel(), "x": x.ravel(), "z": z.ravel()})


def one_rep(df: pd.DataFrame, n_draws: int) -> dict[str, float]:
    """P-values of every method for beta = BETA on one panel."""
    fit = iv.panel_iv(df, outcome="y", endog="x", instrument="z", unit="u", time="t",
                      endog_scale=1.0, level=1 - ALPHA)
    d = fit.design
    G = df.u.nunique()
    cr1 = covariance.compute(d, "clustered")
    t1 = (fit.estimate - BETA) / np.sqrt(cr1.cov[0, 0])
    cr2 = covariance.compute(d, "cr2", contrast=np.eye(d.k)[0])
    t2 = (fit.estimate - BETA) / np.sqrt(cr2.cov[0, 0])
    wre = wild_restricted_efficient(d, r=BETA, n_draws=n_draws, level=None, seed=None)
    ar = fit.ar_set["statistic"](BETA)
    return {
        "CR1 t(G-1)": float(2 * stats.t.sf(abs(t1), G - 1)),
        "CR2 Bell-McCaffrey dof": float(2 * stats.t.sf(abs(t2), cr2.details["contrast_dof"])),
        "WRE Rademacher": wre.pvalue,
        "Anderson-Rubin (CR1, F(1,G-1))": float(stats.f.sf(ar, 1, G - 1)),
        "F_eff": fit.effective_f,
    }


def run(reps: int, designs: list[str] | None = None, n_draws: int = 999) -> pd.DataFrame:
    """Rejection rates (%) and Monte-Carlo standard errors for the designs and every method."""
    rows = []
    for k, (name, spec) in enumerate(DESIGNS.items()):
        if designs and name not in designs:
            continue
        rng = np.random.default_rng([SEED, k])
        t0 = time.time()
        pv = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FewClustersWarning)
            for _ in range(reps):
                pv.append(one_rep(simulate(rng, **spec), n_draws))
        pv = pd.DataFrame(pv)
        for m in METHODS:
            p = float((pv[m] <= ALPHA).mean())
            rows.append({"design": name, "method": m, "reps": reps,
                         "reject_pct": 100 * p, "mc_se_pct": 100 * np.sqrt(p * (1 - p) / reps),
                         "median_F_eff": float(pv["F_eff"].median()),
                         "seconds": round(time.time() - t0, 1)})
        print(f"{name}: {time.time() - t0:.0f} s", flush=True)
    return pd.DataFrame(rows)


if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    chosen = sys.argv[2:] or None
    out = run(reps, chosen)
    path = Path(__file__).parent / "results" / "size_study_iv.csv"
    path.parent.mkdir(exist_ok=True)
    if chosen and path.exists():  # replace the rows of the designs run now, keep the others
        old = pd.read_csv(path)
        out = pd.concat([old[~old["design"].isin(chosen)], out], ignore_index=True)
    out.to_csv(path, index=False)
    wide = out.pivot(index="method", columns="design", values="reject_pct")
    print(wide.round(1).to_string())
