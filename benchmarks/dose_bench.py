"""Speed benchmark of the dose estimators: evalkit vs the peers on the same simulated data.

* Continuous DiD (CGBS 2024): 5,000 units x 20 years, 6 adoption cohorts + 30% never treated,
  dose ~ U(0.5, 3), cubic B-spline (no interior knots), never-treated comparison, 999 multiplier
  bootstrap draws (evalkit: sup-t bands; diff-diff: bootstrap SEs), vs diff-diff 3.13
  ``ContinuousDiD``. Target: evalkit < 30 s on 2 cores.
* dCDH (2024) ``did_multiplegt_dyn`` on 5,000 units x 20 years with on/off non-binary switches,
  5 effects and 3 placebos, analytic SEs, vs moderndid 0.2.0 ``did_multiplegt``.
* Panel IV with the exact Anderson-Rubin set: 5,000 units x 20 years.

Each (task, tool) runs in a fresh subprocess; median wall time of 3 runs (1 for slow peers) and
peak resident memory (ru_maxrss). Usage::

    .venv/bin/python benchmarks/dose_bench.py          # all tasks
    .venv/bin/python benchmarks/dose_bench.py continuous
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    r"""
    import json, resource, statistics, sys, time, warnings
    import numpy as np, pandas as pd
    warnings.simplefilter("ignore")
    task, tool = sys.argv[1], sys.argv[2]
    N, T = 5000, 20

    def sim_dose(seed=42):
        rng = np.random.default_rng(seed)
        never = rng.random(N) < 0.3
        g = np.where(never, 0, rng.choice([5, 7, 9, 11, 13, 15], N))
        d = np.where(never, 0.0, rng.uniform(0.5, 3.0, N))
        t = np.arange(1, T + 1)
        post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
        y = (rng.normal(size=N)[:, None] + 0.1 * t[None, :] + post * (0.5 * d + 0.1 * d**2)[:, None]
             + rng.normal(size=(N, T)))
        return pd.DataFrame({"unit": np.repeat(np.arange(N), T), "time": np.tile(t, N),
                             "y": y.ravel(), "dose": np.repeat(d, T), "cohort": np.repeat(g, T)})

    def sim_switch(seed=42):
        rng = np.random.default_rng(seed)
        base = np.where(rng.random(N) < 0.3, 1.0, 0.0)
        sw = rng.random(N) < 0.6
        F = rng.integers(4, 17, N)
        new = np.where(base == 0, np.round(rng.uniform(0.5, 2.0, N), 1), 0.0)
        t = np.arange(1, T + 1)
        D = np.where(sw[:, None] & (t[None, :] >= F[:, None]), new[:, None], base[:, None])
        Y = rng.normal(size=N)[:, None] + 0.1 * t + 0.5 * D + rng.normal(size=(N, T))
        return pd.DataFrame({"g": np.repeat(np.arange(N), T), "t": np.tile(t, N), "y": Y.ravel(),
                             "d": D.ravel()})

    def sim_iv(seed=42):
        rng = np.random.default_rng(seed)
        u = np.repeat(np.arange(N), T); tt = np.tile(np.arange(T), N)
        z = rng.gamma(2.0, 500.0, N * T); e = rng.normal(size=N * T)
        x = 0.8 * z + 300 * e + 100 * rng.normal(size=N * T)
        y = rng.normal(size=N)[u] + rng.normal(size=T)[tt] + 0.5 * x / 1000 + e
        return pd.DataFrame({"unit": u, "year": tt, "y": y, "x": x, "z": z})

    if task == "continuous":
        df = sim_dose()
        if tool == "evalkit":
            from evalkit.did.continuous import continuous
            def run():
                r = continuous(df, outcome="y", unit="unit", time="time", dose="dose",
                               cohort="cohort", n_draws=999, seed=1)
                return [r.att_overall.estimate, r.acrt_overall.estimate]
        else:
            from diff_diff import ContinuousDiD
            def run():
                r = ContinuousDiD(degree=3, num_knots=0, n_bootstrap=999, seed=1).fit(
                    df, outcome="y", unit="unit", time="time", first_treat="cohort", dose="dose")
                return [r.overall_att, r.overall_acrt]
    elif task == "dcdh":
        df = sim_switch()
        if tool == "evalkit":
            from evalkit.did.dcdh import dcdh
            def run():
                r = dcdh(df, outcome="y", unit="g", time="t", treatment="d", effects=5, placebo=3)
                return list(r.effects.params)
        else:
            import moderndid as md
            import polars as pl
            pdf = pl.from_pandas(df)
            def run():
                r = md.did_multiplegt(data=pdf, yname="y", idname="g", tname="t", dname="d",
                                      effects=5, placebo=3)
                return list(r.effects.estimates)
    else:
        df = sim_iv()
        from evalkit.iv import panel_iv
        def run():
            r = panel_iv(df, outcome="y", endog="x", instrument="z", unit="unit", time="year")
            return [r.estimate]

    times = []
    reps = 3 if tool == "evalkit" else 1
    for _ in range(reps):
        t0 = time.perf_counter(); out = run(); times.append(time.perf_counter() - t0)
    print(json.dumps({"task": task, "tool": tool, "seconds": statistics.median(times),
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "estimates": [float(v) for v in out[:3]]}))
    """
)

TASKS = {"continuous": ["evalkit", "diff-diff"], "dcdh": ["evalkit", "moderndid"],
         "iv": ["evalkit"]}


def main(argv: list[str]) -> list[dict]:
    """Run the chosen tasks (all by default) and print one JSON line per (task, tool)."""
    chosen = argv or list(TASKS)
    rows = []
    for task in chosen:
        for tool in TASKS[task]:
            p = subprocess.run([sys.executable, "-c", CHILD, task, tool], capture_output=True,
                               text=True, timeout=1800)
            if p.returncode != 0:
                row = {"task": task, "tool": tool, "error": p.stderr.strip().splitlines()[-1]}
            else:
                row = json.loads(p.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
