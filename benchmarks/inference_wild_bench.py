"""Scale benchmark of the wild cluster bootstrap: 9,999 draws, 50,000 observations, 500 clusters.

evalkit serial, evalkit on 2 local processes, evalkit on a Dask ``LocalCluster`` (2 workers), and
the wildboottest package (WCR, Rademacher, "11" type, ``parallel=False`` and ``True``), on the same
regression (constant + 5 regressors). Wall-clock seconds, median of 3 runs (wildboottest: its
numba kernel is compiled inside each call, so every call pays it; we report that as users see it).

Run once: ``.venv/bin/python benchmarks/inference_wild_bench.py``; results go to
``benchmarks/results/inference_wild_bench.csv`` and ``benchmarks/README.md``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.inference.design import LinearDesign
from evalkit.inference.executor import Executor
from evalkit.inference.wild import wild_cluster_bootstrap

N_OBS, G, K, B = 50_000, 500, 6, 9999
REPEATS = 3


def make_design(seed: int = 1) -> LinearDesign:
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(N_OBS), rng.normal(size=(N_OBS, K - 1))])
    cl = rng.integers(0, G, N_OBS)
    y = X @ np.r_[1.0, 0.02, np.ones(K - 2) * 0.1] + rng.normal(size=N_OBS) + rng.normal(size=G)[cl]
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    return LinearDesign(X=X, resid=y - X @ b, beta=b, names=[f"x{j}" for j in range(K)], y=y, clusters=cl)


def timed(fn, repeats=REPEATS):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def main() -> pd.DataFrame:
    d = make_design()
    kw = dict(param="x1", bootstrap_weights="rademacher", n_draws=B, seed=123, full_enumeration=False)
    rows = []
    for label, level in (("p-value only", None), ("p-value + 95% CI (test inversion)", 0.95)):
        t, res = timed(lambda level=level: wild_cluster_bootstrap(d, **kw, level=level, executor=Executor("serial")))
        rows.append({"run": f"evalkit serial, {label}", "seconds": t, "p_value": res.pvalue})
    with Executor("processes", n_workers=2) as ex:
        wild_cluster_bootstrap(d, **kw, level=None, executor=ex)  # start the workers once
        t, res = timed(lambda: wild_cluster_bootstrap(d, **kw, level=None, executor=ex))
    rows.append({"run": "evalkit 2 processes (pool warm), p-value only", "seconds": t, "p_value": res.pvalue})
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Executor(cluster=cluster) as ex:
            wild_cluster_bootstrap(d, **kw, level=None, executor=ex)
            t, res = timed(lambda: wild_cluster_bootstrap(d, **kw, level=None, executor=ex))
    rows.append({"run": "evalkit Dask LocalCluster (2 workers), p-value only", "seconds": t, "p_value": res.pvalue})

    from wildboottest.wildboottest import WildboottestCL

    R = np.zeros(K)
    R[1] = 1.0

    def peer(parallel):
        wb = WildboottestCL(X=d.X, Y=d.y, cluster=d.clusters, R=R, B=B, seed=123, parallel=parallel)
        wb.get_scores(bootstrap_type="11", impose_null=True)
        wb.get_weights("rademacher")
        wb.get_numer()
        wb.get_denom()
        wb.get_tboot()
        wb.get_vcov()
        wb.get_tstat()
        wb.get_pvalue()
        return wb

    for parallel in (False, True):
        t, wb = timed(lambda parallel=parallel: peer(parallel))
        rows.append({"run": f"wildboottest parallel={parallel}, p-value only", "seconds": t,
                     "p_value": float(wb.pvalue)})
    table = pd.DataFrame(rows)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    table.to_csv(out / "inference_wild_bench.csv", index=False)
    print(table.to_markdown(index=False, floatfmt=".3f"))
    return table


if __name__ == "__main__":
    main()
