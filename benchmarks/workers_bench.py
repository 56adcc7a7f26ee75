"""A resampling job that pays on workers: synthetic-DiD placebo re-fits with covariates.

Usage::

    .venv/bin/python benchmarks/workers_bench.py [--units 100] [--periods 30] [--covariates 2]
        [--reps 200] [--repeat 3] [--workers 2]

Each placebo draw of synthetic DiD with time-varying covariates is a full re-fit (weights and
covariate coefficients by the joint Frank--Wolfe / gradient loop), so the job is made of
fit-level tasks of tens of milliseconds, shipped in chunks of ``REFIT_CHUNK`` re-fits. The same
job runs serially, on a two-process pool and on a two-worker Dask ``LocalCluster``; the backends
alternate in each round and every run must return the identical placebo estimates (the script
stops otherwise). Worker start-up is paid once per run (the pools are warmed up first with a
small job, then reused: the executor's run-wide pools), and is timed separately. The load
average is recorded before and after every round, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.inference.executor import Executor, shutdown_workers
from evalkit.synth import synthetic_did

RESULTS = Path(__file__).parent / "results" / "workers_bench.csv"


def simulate(n_units: int, n_periods: int, n_cov: int, seed: int = 1) -> pd.DataFrame:
    """Factor-model panel, 10 % of units treated for the last third, covariates that confound."""
    rng = np.random.default_rng(seed)
    n_tr = max(1, n_units // 10)
    t0 = n_periods - n_periods // 3
    f = rng.normal(0, 1, (n_periods, 2)).cumsum(axis=0) * 0.3
    load = rng.normal(0, 1, (n_units, 2))
    y = rng.normal(0, 1, n_units)[:, None] + load @ f.T + rng.normal(0, 0.5, (n_units, n_periods))
    d = np.zeros((n_units, n_periods))
    d[:n_tr, t0:] = 1
    cols = {}
    for k in range(n_cov):
        x = rng.normal(0, 0.5, (n_units, n_periods)) + 0.1 * (k + 1) * d.cumsum(axis=1)
        y = y + 0.7 * x
        cols[f"x{k}"] = x.ravel()
    y = y + d
    return pd.DataFrame({
        "unit": np.repeat(np.arange(n_units), n_periods),
        "year": np.tile(np.arange(2000, 2000 + n_periods), n_units),
        "y": y.ravel(), "d": d.ravel().astype(int), **cols,
    })


def _job(df, n_cov, reps, executor):
    kw = dict(outcome="y", unit="unit", time="year", treatment="d",
              covariates=[f"x{k}" for k in range(n_cov)], cov_type="placebo", seed=7)
    t = time.perf_counter()
    r = synthetic_did(df, n_draws=reps, executor=executor, **kw)
    return time.perf_counter() - t, r


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=100)
    p.add_argument("--periods", type=int, default=30)
    p.add_argument("--covariates", type=int, default=2)
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    df = simulate(args.units, args.periods, args.covariates)
    backends = {
        "serial": Executor("serial"),
        f"{args.workers} local processes": Executor("processes", n_workers=args.workers),
        f"Dask LocalCluster, {args.workers} workers": Executor("dask", n_workers=args.workers),
    }
    warm = {}
    for name, ex in backends.items():  # start workers, import evalkit there, load numba kernels
        warm[name], _ = _job(df, args.covariates, 4 * args.workers * 10, ex)
    times = {name: [] for name in backends}
    loads, reference = [], None
    names = list(backends)
    for rnd in range(args.repeat):
        load_before = os.getloadavg()[0]
        for name in names[rnd % len(names):] + names[: rnd % len(names)]:
            sec, res = _job(df, args.covariates, args.reps, backends[name])
            if reference is None:
                reference = res
            elif not np.array_equal(res.placebo_estimates, reference.placebo_estimates):
                raise SystemExit(f"{name}: placebo estimates differ from the first run")
            times[name].append(sec)
        loads.append((load_before, os.getloadavg()[0]))
    shutdown_workers()
    serial = statistics.median(times["serial"])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = []
    for name in names:
        med = statistics.median(times[name])
        rows.append({"measured": stamp, "job": f"SDID placebo, {args.units}x{args.periods}, "
                     f"{args.covariates} covariates, {args.reps} re-fits", "backend": name,
                     "median_s": round(med, 2), "runs_s": " ".join(f"{t:.2f}" for t in times[name]),
                     "warm_up_s": round(warm[name], 2), "speed_up": round(serial / med, 2),
                     "estimate": reference.estimate, "std_error": reference.std_error,
                     "load_avg_1min": " ".join(f"{a:.1f}->{b:.1f}" for a, b in loads),
                     "cpus": os.cpu_count()})
    RESULTS.parent.mkdir(exist_ok=True)
    new = not RESULTS.exists()
    with RESULTS.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        if new:
            w.writeheader()
        w.writerows(rows)
    print(f"{rows[0]['job']}; {stamp}; 1-min load average per round {rows[0]['load_avg_1min']}")
    print("| backend | median (s) | runs (s) | speed-up | warm-up (s) |")
    print("|---|---:|---|---:|---:|")
    for r in rows:
        print(f"| {r['backend']} | {r['median_s']} | {r['runs_s']} | {r['speed_up']} | {r['warm_up_s']} |")
    print(f"identical placebo estimates in every run; estimate {reference.estimate:.6f}, "
          f"s.e. {reference.std_error:.6f}")


if __name__ == "__main__":
    main()
