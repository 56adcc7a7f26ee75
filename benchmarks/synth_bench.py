"""Synthetic DiD with placebo standard errors: evalkit vs diff-diff (and synthdid-py), one run.

Usage::

    .venv/bin/python benchmarks/synth_bench.py [--sizes 40 400] [--reps 200] [--repeat 3]
        [--synthdid-py]

Simulates a block-adoption panel (N units x 30 periods, 10% treated from period 21, factor model
with a true effect of 1.0), fits synthetic DiD with ``n_draws`` placebo draws with each package and
prints the median wall time of ``--repeat`` runs, the estimates and the standard errors. The first
evalkit call of the process also loads the compiled Frank-Wolfe kernel (numba cache); it is timed
separately as "warm-up". diff-diff and synthdid-py are benchmark-only peers.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd


def simulate(n_units: int, n_periods: int = 30, treat_share: float = 0.1, seed: int = 1):
    """Factor-model panel with block adoption and a true effect of 1.0."""
    rng = np.random.default_rng(seed)
    n_tr = max(1, int(round(treat_share * n_units)))
    t0 = n_periods - 10
    a = rng.normal(0, 1, n_units)
    f = rng.normal(0, 1, (n_periods, 2)).cumsum(axis=0) * 0.3
    load = rng.normal(0, 1, (n_units, 2))
    load[:n_tr] += 0.5
    y = a[:, None] + np.arange(n_periods)[None, :] * 0.05 + load @ f.T
    y += rng.normal(0, 0.5, y.shape)
    d = np.zeros_like(y)
    d[:n_tr, t0:] = 1
    y += d * 1.0
    units = np.repeat(np.arange(n_units), n_periods)
    years = np.tile(np.arange(2000, 2000 + n_periods), n_units)
    return pd.DataFrame({"unit": units, "year": years, "y": y.ravel(), "d": d.ravel().astype(int)})


def _median_time(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[40, 400])
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--synthdid-py", action="store_true", help="also time synthdid-py (slow)")
    args = p.parse_args(argv)

    from evalkit.synth import synthetic_did

    warm = simulate(20, 12)
    t = time.perf_counter()
    synthetic_did(warm, outcome="y", unit="unit", time="year", treatment="d", n_draws=5)
    print(f"evalkit warm-up (kernel load/compile): {time.perf_counter() - t:.2f} s")

    rows = []
    for n in args.sizes:
        df = simulate(n)
        post = sorted(df.loc[df["d"] == 1, "year"].unique())

        def run_evalkit(df=df):
            return synthetic_did(df, outcome="y", unit="unit", time="year", treatment="d",
                                 cov_type="placebo", n_draws=args.reps, seed=1)

        te, re = _median_time(run_evalkit, args.repeat)
        rows.append(("evalkit", n, te, re.estimate, re.std_error))

        try:
            from diff_diff import SyntheticDiD

            def run_dd(df=df, post=post):
                m = SyntheticDiD(variance_method="placebo", n_bootstrap=args.reps, seed=1)
                return m.fit(df.assign(treated=(df.groupby("unit")["d"].transform("max"))),
                             outcome="y", treatment="treated", unit="unit", time="year",
                             post_periods=post)

            td, rd = _median_time(run_dd, args.repeat)
            rows.append(("diff-diff", n, td, float(rd.att), float(rd.se)))
        except ImportError:  # pragma: no cover
            print("diff-diff not installed; skipped")

        if args.synthdid_py:
            try:
                from synthdid.estimate import synthdid_estimate  # type: ignore[import-not-found]

                def run_sp(df=df):
                    wide = df.pivot(index="unit", columns="year", values="y")
                    tr = df.groupby("unit")["d"].max()
                    order = list(tr.index[tr == 0]) + list(tr.index[tr == 1])
                    Y = wide.loc[order].to_numpy()
                    t0 = int(df.loc[df["d"] == 1, "year"].min() - df["year"].min())
                    est = synthdid_estimate(Y, int((tr == 0).sum()), t0)
                    se = float(np.sqrt(np.asarray(est.vcov(method="placebo",
                                                            replications=args.reps)).ravel()[0]))
                    return type("R", (), {"att": float(est), "se": se})

                ts, rs = _median_time(run_sp, 1)
                rows.append(("synthdid-py", n, ts, float(rs.att), float(rs.se)))
            except Exception as exc:  # pragma: no cover - optional peer
                print(f"synthdid-py skipped: {exc}")

    out = pd.DataFrame(rows, columns=["package", "n_units", "seconds", "estimate", "std_error"])
    print(out.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    return out


if __name__ == "__main__":
    main()
