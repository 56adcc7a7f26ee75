"""Side-by-side speed and memory of evalkit's TWFE family against the fastest installed peers.

Simulated staggered panel: N units x 20 years (2000-2019), four cohorts (2006, 2009, 2012, 2015)
plus never-treated units, effects growing with exposure. Tasks:

* ``twfe``: static TWFE, cluster-robust by unit (evalkit, pyfixest, linearmodels);
* ``event_study``: dynamic TWFE with 28 event-time coefficients, never-treated controls
  (evalkit, pyfixest ``i(rel, ref=-1)``, linearmodels with explicit dummies);
* ``sun_abraham``: interaction-weighted event study (evalkit, diff-diff ``SunAbraham``,
  pyfixest with explicit cohort x event-time interactions; the peers are run where they fit);
* ``imputation``: Borusyak-Jaravel-Spiess (evalkit, diff-diff ``ImputationDiD``);
* ``bacon``: Goodman-Bacon decomposition (evalkit, diff-diff ``BaconDecomposition``).

Each (task, tool, N) runs in a fresh subprocess: one warm-up call on a small panel (pyfixest's
JIT), then the median wall time of ``--reps`` calls; peak memory is the subprocess's maximum RSS
(data included). The key number (treatment coefficient / first post-period effect / overall ATT)
is printed for each tool so the "same numbers" claim can be checked in the same run.

Usage::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/did_twfe_family.py --sizes 500 5000 50000 \
        --out benchmarks/results/did_twfe_family.csv
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

YEARS = np.arange(2000, 2020)
COHORTS = (0, 2006, 2009, 2012, 2015)


def simulate(n_units: int, seed: int = 1) -> pd.DataFrame:
    """Balanced staggered panel with growing effects (deterministic)."""
    rng = np.random.default_rng(seed)
    g = rng.choice(COHORTS, n_units)
    n_t = len(YEARS)
    unit = np.repeat(np.arange(n_units), n_t)
    year = np.tile(YEARS, n_units)
    cohort = np.repeat(g, n_t)
    rel = np.where(cohort > 0, year - cohort, -1000)
    treat = ((cohort > 0) & (rel >= 0)).astype(float)
    y = (rng.normal(size=n_units)[unit] + 0.1 * (year - 2000) + treat * (1 + 0.2 * np.clip(rel, 0, None))
         + rng.normal(size=len(unit)))
    return pd.DataFrame({"unit": unit, "year": year, "cohort": cohort, "rel": rel, "treat": treat, "y": y,
                         "ft": cohort.astype(int)})


# ---------------------------------------------------------------- tool runners (return key number)

def ev_twfe(df):
    from evalkit.did import twfe

    r = twfe(df, outcome="y", unit="unit", time="year", treatment="treat")
    return r.estimate, r.std_error


def pf_twfe(df):
    import pyfixest as pf

    m = pf.feols("y ~ treat | unit + year", data=df, vcov={"CRV1": "unit"})
    return float(m.coef()["treat"]), float(m.se()["treat"])


def lm_twfe(df):
    from linearmodels import PanelOLS

    p = df.set_index(["unit", "year"])
    m = PanelOLS(p["y"], p[["treat"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, group_debias=True, auto_df=False, count_effects=False)
    return float(m.params["treat"]), float(m.std_errors["treat"])


def ev_es(df):
    from evalkit.did import event_study

    r = event_study(df, outcome="y", unit="unit", time="year", cohort="cohort")
    assert len(r.params) == 28
    return float(r.params["event_time::0"]), float(r.std_errors["event_time::0"])


def pf_es(df):
    import pyfixest as pf

    m = pf.feols("y ~ i(rel, ref=-1.0) | unit + year", data=df.assign(rel=df["rel"].astype(float)),
                 vcov={"CRV1": "unit"})
    # the never-treated sentinel rel = -1000 is collinear with the unit effects and dropped
    return float(m.coef()["rel::0.0"]), float(m.se()["rel::0.0"])


def _dummies(df, events):
    out = {}
    rel = df["rel"].to_numpy()
    for e in events:
        out[f"e{e}"] = (rel == e).astype(float)
    return pd.DataFrame(out, index=df.index)


def lm_es(df):
    from linearmodels import PanelOLS

    events = sorted(set(df.loc[df["cohort"] > 0, "rel"]) - {-1})
    x = _dummies(df, events)
    p = pd.concat([df[["unit", "year", "y"]], x], axis=1).set_index(["unit", "year"])
    m = PanelOLS(p["y"], p[x.columns], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, group_debias=True, auto_df=False, count_effects=False)
    return float(m.params["e0"]), float(m.std_errors["e0"])


def ev_sa(df):
    from evalkit.did import sun_abraham

    r = sun_abraham(df, outcome="y", unit="unit", time="year", cohort="cohort")
    return float(r.params["event_time::0"]), float(r.std_errors["event_time::0"])


def dd_sa(df):
    from diff_diff import SunAbraham

    r = SunAbraham(cluster="unit").fit(df, outcome="y", unit="unit", time="year", first_treat="ft")
    e = r.event_study_effects[0]
    return float(e["effect"]), float(e["se"])


def pf_sa(df):
    import pyfixest as pf

    d = df.assign(cr=np.where(df["cohort"] > 0, df["cohort"].astype(str) + "_" + df["rel"].astype(str), "ref"))
    d.loc[d["rel"] == -1, "cr"] = "ref"
    m = pf.feols("y ~ i(cr, ref='ref') | unit + year", data=d, vcov={"CRV1": "unit"})
    c = m.coef()
    # interaction weights at e = 0: cohort shares
    num = den = 0.0
    for g in COHORTS[1:]:
        n = int(((d["cohort"] == g) & (d["rel"] == 0)).sum())
        num += n * float(c[f"cr::{g}_0"])
        den += n
    return num / den, float("nan")


def ev_imp(df):
    from evalkit.did import imputation

    r = imputation(df, outcome="y", unit="unit", time="year", cohort="cohort")
    return r.att.estimate, r.att.std_error


def dd_imp(df):
    from diff_diff import ImputationDiD

    r = ImputationDiD(cluster="unit").fit(df, outcome="y", unit="unit", time="year", first_treat="ft")
    return float(r.overall_att), float(r.overall_se)


def ev_bacon(df):
    from evalkit.did import bacon_decomposition

    r = bacon_decomposition(df, outcome="y", unit="unit", time="year", treatment="treat")
    return r.twfe_estimate, float(r.by_type["weight"].iloc[0])


def dd_bacon(df):
    from diff_diff import BaconDecomposition

    r = BaconDecomposition().fit(df, outcome="y", unit="unit", time="year", first_treat="ft")
    return float(r.twfe_estimate), float(r.total_weight_earlier_vs_later)


TASKS = {
    "twfe": {"evalkit": ev_twfe, "pyfixest": pf_twfe, "linearmodels": lm_twfe},
    "event_study": {"evalkit": ev_es, "pyfixest": pf_es, "linearmodels": lm_es},
    "sun_abraham": {"evalkit": ev_sa, "pyfixest": pf_sa, "diff-diff": dd_sa},
    "imputation": {"evalkit": ev_imp, "diff-diff": dd_imp},
    "bacon": {"evalkit": ev_bacon, "diff-diff": dd_bacon},
}


def run_one(task: str, tool: str, n: int, reps: int) -> dict:
    """Time one tool on one task in this process (called in a fresh subprocess)."""
    warnings.simplefilter("ignore")
    fn = TASKS[task][tool]
    fn(simulate(300, seed=2))  # warm-up (imports, JIT)
    df = simulate(n)
    times, key = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        key = fn(df)
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # GiB (ru_maxrss in KiB)
    return {"task": task, "tool": tool, "n_units": n, "seconds": statistics.median(times), "reps": reps,
            "peak_gib": peak, "key": key[0], "key2": key[1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 5000])
    ap.add_argument("--tasks", nargs="+", default=list(TASKS))
    ap.add_argument("--tools", nargs="+", default=None, help="only these tools (default: all)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--skip", nargs="*", default=[], help="task:tool:n triples to skip (too slow / too big)")
    ap.add_argument("--timeout", type=float, default=400)
    ap.add_argument("--out", default="")
    ap.add_argument("--one", nargs=4, metavar=("TASK", "TOOL", "N", "REPS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(run_one(a.one[0], a.one[1], int(a.one[2]), int(a.one[3]))))
        return
    rows = []
    for n in a.sizes:
        for task in a.tasks:
            for tool in TASKS[task]:
                if a.tools and tool not in a.tools:
                    continue
                if f"{task}:{tool}:{n}" in a.skip:
                    rows.append({"task": task, "tool": tool, "n_units": n, "seconds": np.nan, "note": "skipped"})
                    continue
                cmd = [sys.executable, __file__, "--one", task, tool, str(n), str(a.reps)]
                try:
                    p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
                    if p.returncode != 0:
                        rows.append({"task": task, "tool": tool, "n_units": n, "seconds": np.nan,
                                     "note": "failed: " + p.stderr.strip().splitlines()[-1][:120]})
                    else:
                        rows.append(json.loads(p.stdout.strip().splitlines()[-1]))
                except subprocess.TimeoutExpired:
                    rows.append({"task": task, "tool": tool, "n_units": n, "seconds": np.nan,
                                 "note": f"timeout > {a.timeout:.0f} s"})
                print(rows[-1], flush=True)
    res = pd.DataFrame(rows)
    if a.out:
        res.to_csv(a.out, index=False)
    if "evalkit" not in set(res["tool"]):
        return
    ev = res.loc[res["tool"] == "evalkit", ["task", "n_units", "seconds"]].rename(columns={"seconds": "evalkit_s"})
    m = res.merge(ev, on=["task", "n_units"])
    m["ratio_peer_over_evalkit"] = m["seconds"] / m["evalkit_s"]
    print(m.to_string(index=False))


if __name__ == "__main__":
    main()
