"""Monte-Carlo size study of few-cluster inference for a TWFE difference-in-differences.

12 clusters (units), 3 treated from period 6 of 10, 1,000 replications under the null (no
effect), two designs:

(a) homoskedastic i.i.d. N(0, 1) errors;
(b) treated clusters' errors three times as noisy, AR(1) errors with rho = 0.7 (stationary).

For each replication the TWFE design is built the way ``evalkit.did.twfe`` builds it (unit and year
effects absorbed, clusters = units, the effects described in ``design.extra["fe_codes"]``) and the
5% two-sided test of beta = 0 is run with every method below. Rejection rates (and their
Monte-Carlo standard errors, sqrt(p(1-p)/1000) ~ 0.7 points at 5%) go to
``benchmarks/results/inference_size_study.csv`` and the table in ``benchmarks/README.md``.

Run once: ``.venv/bin/python benchmarks/inference_size_study.py`` (2 processes, a few minutes);
``... inference_size_study.py robustness`` re-checks the chosen default in two more designs:
(c) treated clusters 1/3 as noisy and (d) equal scales, both AR(1) with rho = 0.7.
"""

from __future__ import annotations

import itertools
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from evalkit.inference import covariance
from evalkit.inference.design import LinearDesign
from evalkit.inference.executor import Chunk, Executor
from evalkit.inference.randomization import conley_taber_matrix
from evalkit.inference.wild import wild_cluster_bootstrap

N, T, N1, T0 = 12, 10, 3, 5  # units, periods, treated units, pre-periods
REPS = 1000
SEED = 20240601
B_WILD = 9999
ALPHA = 0.05

METHODS = [
    "CR1 t(G-1)",
    "CR2 Bell-McCaffrey dof",
    "WCR Rademacher (full enumeration 4096)",
    "WCR Webb (9999), t",
    "WCU Webb (9999), t",
    "WCU Rademacher (full enumeration 4096)",
    "WCR Webb (9999), coefficient (score)",
    "WCR Rademacher subcluster=unit-period (9999)",
    "RI t-statistic (exact 220)",
    "RI coefficient (exact 220)",
    "Conley-Taber (exact 729)",
    "CR3 jackknife (leave-one-cluster-out TWFE refits), t(G-1)",
]
#: Decision rules combining the methods above (computed from their p-values, same replications).
COMBINED = {
    "max p of CR2-BM and WCR subcluster": ("CR2 Bell-McCaffrey dof", "WCR Rademacher subcluster=unit-period (9999)"),
    "max p of CR2-BM and RI t": ("CR2 Bell-McCaffrey dof", "RI t-statistic (exact 220)"),
    "max p of CR2-BM and WCR Rademacher": ("CR2 Bell-McCaffrey dof", "WCR Rademacher (full enumeration 4096)"),
}


def simulate(rng: np.random.Generator, design: str) -> np.ndarray:
    """One N x T outcome matrix under the null (fixed effects drawn, no treatment effect)."""
    alpha = rng.normal(size=(N, 1))
    gamma = rng.normal(size=(1, T))
    if design == "a":
        eps = rng.normal(size=(N, T))
    else:  # b: treated 3x noisier; c: treated 1/3 as noisy; d: equal scales; all AR(1) 0.7
        rho = 0.7
        e = np.empty((N, T))
        e[:, 0] = rng.normal(size=N) / np.sqrt(1 - rho**2)
        for t in range(1, T):
            e[:, t] = rho * e[:, t - 1] + rng.normal(size=N)
        e *= np.sqrt(1 - rho**2)  # unit stationary variance
        treated_scale = {"b": 3.0, "c": 1 / 3, "d": 1.0}[design]
        scale = np.where(np.arange(N) < N1, treated_scale, 1.0)[:, None]
        eps = e * scale
    return alpha + gamma + eps


def two_way(m: np.ndarray) -> np.ndarray:
    return m - m.mean(axis=1, keepdims=True) - m.mean(axis=0, keepdims=True) + m.mean()


TREATED = np.arange(N) < N1
POST = np.arange(T) >= T0
D = np.outer(TREATED, POST).astype(float)
UNIT = np.repeat(np.arange(N), T)
YEAR = np.tile(np.arange(T), N)
ASSIGN = np.array([np.isin(np.arange(N), c) for c in itertools.combinations(range(N), N1)], float)


def make_design(Y: np.ndarray) -> LinearDesign:
    yt, dt = two_way(Y).ravel(), two_way(D).ravel()
    beta = np.array([dt @ yt / (dt @ dt)])
    return LinearDesign(
        X=dt[:, None], resid=yt - dt * beta[0], beta=beta, names=["treat"], y=yt, clusters=UNIT,
        df_absorbed=N + T - 1, fe_nested_in_cluster=True, treated_clusters=np.arange(N1),
        extra={"fe_codes": np.column_stack([UNIT, YEAR])},
    )


def ri_pvalues(Y: np.ndarray) -> tuple[float, float]:
    """Exact randomization p-values (t with CR1 and coefficient) over all 220 treated sets."""
    Yt = two_way(Y)
    pc = POST - POST.mean()
    ac = ASSIGN - ASSIGN.mean(axis=1, keepdims=True)  # 220 x N
    sxx = (ac**2).sum(axis=1) * (pc @ pc)
    beta = (ac @ Yt @ pc) / sxx
    # residuals e_b = Yt - beta_b * outer(ac_b, pc); cluster scores s_bi = sum_t ac_bi pc_t e_bit
    yp = Yt @ pc  # N
    s = ac * (yp[None, :] - beta[:, None] * ac * (pc @ pc))
    n, k = N * T, 1 + (N + T - 1)
    var = (s**2).sum(axis=1) / sxx**2 * N / (N - 1) * (n - 1) / (n - k)
    t = beta / np.sqrt(var)
    obs = 0  # the first combination (0, 1, 2) is the actual treated set
    tol = 1e-9
    p_t = np.mean(np.abs(t) >= np.abs(t[obs]) * (1 - tol))
    p_b = np.mean(np.abs(beta) >= np.abs(beta[obs]) * (1 - tol))
    return float(p_t), float(p_b)


def cr3_pvalue(Y: np.ndarray) -> float:
    """Jackknife CV3 (MacKinnon, Nielsen and Webb 2023) with exact leave-one-cluster-out refits."""
    def beta_of(Ym, Dm):
        yt, dt = two_way(Ym), two_way(Dm)
        return float(np.sum(dt * yt) / np.sum(dt * dt))

    b = beta_of(Y, D)
    keep = np.ones(N, bool)
    jack = []
    for g in range(N):
        keep[:] = True
        keep[g] = False
        jack.append(beta_of(Y[keep], D[keep]))
    v3 = (N - 1) / N * np.sum((np.array(jack) - b) ** 2)
    return float(2 * stats.t.sf(abs(b) / np.sqrt(v3), N - 1))


def one_replication(Y: np.ndarray, seed: int) -> list[float]:
    """P-values of every method for one simulated panel."""
    des = make_design(Y)
    out = []
    c1 = covariance.compute(des, "clustered")
    t1 = des.beta[0] / np.sqrt(c1.cov[0, 0])
    out.append(2 * stats.t.sf(abs(t1), c1.dof))
    c2 = covariance.compute(des, "cr2")
    out.append(float(c2.pvalue[0]))
    kw = dict(param=0, level=None, seed=seed)
    out.append(wild_cluster_bootstrap(des, weights="rademacher", **kw).pvalue)
    out.append(wild_cluster_bootstrap(des, weights="webb", n_draws=B_WILD, **kw).pvalue)
    out.append(wild_cluster_bootstrap(des, weights="webb", n_draws=B_WILD, impose_null=False, **kw).pvalue)
    out.append(wild_cluster_bootstrap(des, weights="rademacher", impose_null=False, **kw).pvalue)
    out.append(wild_cluster_bootstrap(des, weights="webb", n_draws=B_WILD, statistic="coef", **kw).pvalue)
    out.append(
        wild_cluster_bootstrap(
            des, weights="rademacher", n_draws=B_WILD, bootcluster=np.arange(N * T), **kw
        ).pvalue
    )
    out.extend(ri_pvalues(Y))
    out.append(conley_taber_matrix(Y, D, level=0.95).pvalue)
    out.append(cr3_pvalue(Y))
    return out


#: Methods re-checked in the robustness designs (c), (d): CR1, CR2, WCR Rademacher, WCR
#: observation-level weights (the default chosen from (a), (b)), RI on t.
ROBUST_METHODS = [0, 1, 2, 7, 8]


def one_replication_robust(Y: np.ndarray, seed: int) -> list[float]:
    """P-values of :data:`ROBUST_METHODS` for one panel."""
    des = make_design(Y)
    c1 = covariance.compute(des, "clustered")
    t1 = des.beta[0] / np.sqrt(c1.cov[0, 0])
    kw = dict(param=0, level=None, seed=seed)
    return [
        2 * stats.t.sf(abs(t1), c1.dof),
        float(covariance.compute(des, "cr2").pvalue[0]),
        wild_cluster_bootstrap(des, weights="rademacher", **kw).pvalue,
        wild_cluster_bootstrap(des, weights="rademacher", n_draws=B_WILD, bootcluster="observation", **kw).pvalue,
        ri_pvalues(Y)[0],
    ]


def run_chunk_robust(chunk: Chunk, design: str) -> np.ndarray:
    """Robustness replications (designs c, d) for :data:`ROBUST_METHODS`."""
    rng = chunk.rng()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(chunk.size):
            Y = simulate(rng, design)
            rows.append(one_replication_robust(Y, int(rng.integers(2**31))))
    return np.array(rows)


def robustness(reps: int = REPS) -> pd.DataFrame:
    """Designs (c) treated clusters 1/3 as noisy and (d) equal scales, both AR(1) 0.7."""
    out_dir = Path(__file__).parent / "results"
    rows = []
    t0 = time.perf_counter()
    with Executor("processes", n_workers=2, chunk_size=25, progress=False) as ex:
        for design, seed in (("c", SEED + 2), ("d", SEED + 3)):
            pv = np.vstack(ex.map(run_chunk_robust, reps, seed=seed, args=(design,)))
            np.save(out_dir / f"inference_size_pvalues_{design}.npy", pv)
            for j, m in zip(range(pv.shape[1]), [METHODS[i] for i in ROBUST_METHODS]):
                rows.append({"design": design, "method": m, "rejection_rate": float(np.mean(pv[:, j] <= ALPHA))})
            print(f"design {design} done at {time.perf_counter() - t0:.0f}s", flush=True)
    table = pd.DataFrame(rows).pivot(index="method", columns="design", values="rejection_rate")
    table = table.loc[[METHODS[i] for i in ROBUST_METHODS]]
    table.columns = ["(c) treated 1/3 as noisy, AR(1) 0.7", "(d) equal scales, AR(1) 0.7"]
    table.to_csv(out_dir / "inference_size_study_robustness.csv")
    print((table * 100).round(1).to_markdown())
    return table


def run_chunk(chunk: Chunk, design: str) -> np.ndarray:
    """Replications ``chunk.start..chunk.stop`` of ``design`` (seeded by the chunk)."""
    rng = chunk.rng()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(chunk.size):
            Y = simulate(rng, design)
            rows.append(one_replication(Y, int(rng.integers(2**31))))
    return np.array(rows)


def main(reps: int = REPS) -> pd.DataFrame:
    out_dir = Path(__file__).parent / "results"
    out_dir.mkdir(exist_ok=True)
    rows = []
    t0 = time.perf_counter()
    with Executor("processes", n_workers=2, chunk_size=25, progress=False) as ex:
        for design, seed in (("a", SEED), ("b", SEED + 1)):
            pv = np.vstack(ex.map(run_chunk, reps, seed=seed, args=(design,)))
            np.save(out_dir / f"inference_size_pvalues_{design}.npy", pv)
            cols = {m: pv[:, j] for j, m in enumerate(METHODS)}
            for name, (m1, m2) in COMBINED.items():
                cols[name] = np.maximum(cols[m1], cols[m2])
            for m, p in cols.items():
                rate = float(np.mean(p <= ALPHA))
                rows.append({"design": design, "method": m, "rejection_rate": rate,
                             "mc_se": float(np.sqrt(rate * (1 - rate) / reps))})
            print(f"design {design} done at {time.perf_counter() - t0:.0f}s", flush=True)
    table = pd.DataFrame(rows).pivot(index="method", columns="design", values="rejection_rate")
    table = table.loc[METHODS + list(COMBINED)]
    table.columns = ["(a) homoskedastic", "(b) treated 3x noisier, AR(1) 0.7"]
    table.to_csv(out_dir / "inference_size_study.csv")
    print(f"total {time.perf_counter() - t0:.0f}s, {reps} replications per design")
    print((table * 100).round(1).to_markdown())
    return table


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "robustness":
        robustness()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else REPS)
