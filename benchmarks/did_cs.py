"""Callaway-Sant'Anna speed benchmark: evalkit vs diff-diff on the same simulated panels.

Simulated staggered panel: N units x 20 years (2001-2020), four cohorts (2006, 2009, 2012, 2015)
plus never-treated (20% each), unit effects, common trend, dynamic effects. For each size and
tool: median wall time of 3 runs of "fit ATT(g,t) + overall ATT + event-study aggregation", with
analytic SEs and with a 999-draw multiplier bootstrap. Each (tool, size, inference) runs in a
fresh subprocess so its peak resident memory (ru_maxrss, data included) is measured separately.

Usage::

    .venv/bin/python benchmarks/did_cs.py            # N = 500, 5000, 50000
    .venv/bin/python benchmarks/did_cs.py 500 5000   # chosen sizes
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SIZES = [500, 5_000, 50_000]

CHILD = textwrap.dedent(
    r"""
    import json, resource, statistics, sys, time, warnings
    import numpy as np, pandas as pd
    warnings.simplefilter("ignore")
    tool, n, boot = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"

    def simulate(n_units, seed=42):
        rng = np.random.default_rng(seed)
        years = np.arange(2001, 2021)
        g = rng.choice(np.array([0, 2006, 2009, 2012, 2015]), size=n_units)
        alpha = rng.normal(size=n_units)
        t = np.tile(years, n_units)
        gg = np.repeat(g, len(years))
        e = t - gg
        eff = np.where((gg > 0) & (e >= 0), 0.5 + 0.1 * e, 0.0)
        y = np.repeat(alpha, len(years)) + 0.05 * (t - 2001) + eff + rng.normal(size=t.size)
        return pd.DataFrame({"unit": np.repeat(np.arange(n_units), len(years)), "year": t,
                             "cohort": gg, "y": y})

    df = simulate(n)

    def run_evalkit():
        from evalkit.did.callaway_santanna import callaway_santanna
        r = callaway_santanna(df, outcome="y", unit="unit", time="year", cohort="cohort",
                              n_draws=999 if boot else 0, seed=1)
        s = r.aggregate("simple")
        d = r.aggregate("dynamic")
        return s.estimate, s.std_error, d.params.to_numpy()

    def run_diffdiff():
        from diff_diff import CallawaySantAnna
        est = CallawaySantAnna(n_bootstrap=999 if boot else 0, seed=1)
        res = est.fit(df, outcome="y", unit="unit", time="year", first_treat="cohort",
                      aggregate="event_study")
        es = res.event_study_effects
        dyn = np.array([es[k]["effect"] for k in sorted(es)])
        return res.overall_att, res.overall_se, dyn

    fn = run_evalkit if tool == "evalkit" else run_diffdiff
    times, out = [], None
    for _ in range(3):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"tool": tool, "n": n, "boot": boot, "median_s": statistics.median(times),
                      "times": times, "att": float(out[0]), "se": float(out[1]),
                      "dyn": [float(v) for v in out[2]],
                      "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """
)


def measure(tool: str, n: int, boot: bool) -> dict:
    """Run one (tool, size, inference) measurement in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, tool, str(n), "1" if boot else "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return {"tool": tool, "n": n, "boot": boot, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(sizes: list[int]) -> None:
    """Print a Markdown table of medians, ratios, peak memory and agreement."""
    rows = []
    print("| N units | inference | evalkit (s) | diff-diff (s) | ratio ek/dd | peak MiB ek / dd | "
          "|ATT diff| | |SE diff| |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        for boot in (False, True):
            ek = measure("evalkit", n, boot)
            dd = measure("diffdiff", n, boot)
            rows.append((ek, dd))
            if "error" in ek or "error" in dd:
                print(f"| {n} | {'bootstrap 999' if boot else 'analytic'} | {ek.get('error', '')} "
                      f"| {dd.get('error', '')} | | | | |")
                continue
            print(
                f"| {n:,} | {'bootstrap 999' if boot else 'analytic'} | {ek['median_s']:.3f} | "
                f"{dd['median_s']:.3f} | {ek['median_s'] / dd['median_s']:.2f} | "
                f"{ek['maxrss_mib']:.0f} / {dd['maxrss_mib']:.0f} | {abs(ek['att'] - dd['att']):.1e} | "
                f"{abs(ek['se'] - dd['se']):.1e} |",
                flush=True,
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or SIZES)
