"""Scale run: evalkit against the fastest installed peer from 1k to 200k units, quiet or loaded.

Tasks (simulated balanced staggered panel, N units x 20 years, see ``did_twfe_family.simulate``):

* ``cs``: Callaway-Sant'Anna, never-treated comparison, analytic inference, overall ATT and the
  event-study aggregation (peer: diff-diff ``CallawaySantAnna``);
* ``twfe``, ``event_study``: static / dynamic TWFE clustered by unit (peer: pyfixest);
* ``sun_abraham``: interaction-weighted event study (peer: pyfixest with explicit interactions,
  only up to ``--peer-max-sa`` units: the peers need about 4 GB at 10k);
* ``imputation``: Borusyak-Jaravel-Spiess (peer: diff-diff ``ImputationDiD``).

For each (task, N) one worker process per tool is started; each worker builds the panel, runs
one warm-up call on a small panel (imports, JIT) and then, on request, one timed call. The tools
are called **alternately** (evalkit, peer, evalkit, peer, ...) ``--reps`` times, so both see the
same machine state; the figure is the median, the claim is the ratio evalkit / peer. Peak memory
is each worker's maximum resident set size (data and imports included). Growth exponents are the
log-log slopes of the median time between consecutive sizes.

``--loaded`` starts a fixed competing job first (two busy-loop processes, one per core, ended
when the run ends, also on Ctrl-C / SIGTERM), so anyone can repeat the loaded run. The machine
load average is recorded at the start and the end of every cell.

Usage::

    .venv/bin/python benchmarks/scale_run.py --sizes 1000 10000 50000 200000 \
        --out benchmarks/results/scale_run_quiet.csv
    .venv/bin/python benchmarks/scale_run.py --loaded --out benchmarks/results/scale_run_loaded.csv

BLAS threads are left at the defaults of each tool (evalkit limits its own heavy products, see
``evalkit._shared.blas``); set ``EVALKIT_BLAS_THREADS`` to change evalkit's choice.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import did_twfe_family as fam  # noqa: E402  (the shared simulation and tool runners)


def ev_cs(df):
    from evalkit.did import callaway_santanna

    r = callaway_santanna(df, outcome="y", unit="unit", time="year", cohort="cohort", n_draws=0)
    s = r.aggregate("simple")
    r.aggregate("dynamic")
    return float(s.estimate), float(s.std_error)


def dd_cs(df):
    from diff_diff import CallawaySantAnna

    res = CallawaySantAnna(n_bootstrap=0).fit(df, outcome="y", unit="unit", time="year", first_treat="ft",
                                              aggregate="event_study")
    return float(res.overall_att), float(res.overall_se)


TASKS = {
    "cs": {"evalkit": ev_cs, "diff-diff": dd_cs},
    "twfe": {"evalkit": fam.ev_twfe, "pyfixest": fam.pf_twfe},
    "event_study": {"evalkit": fam.ev_es, "pyfixest": fam.pf_es},
    "sun_abraham": {"evalkit": fam.ev_sa, "pyfixest": fam.pf_sa},
    "imputation": {"evalkit": fam.ev_imp, "diff-diff": fam.dd_imp},
}


# ------------------------------------------------------------------------------- worker side
def worker(task: str, tool: str, n: int) -> None:
    """Serve timed calls: one line "run" on stdin -> one JSON line on stdout."""
    warnings.simplefilter("ignore")
    fn = TASKS[task][tool]
    fn(fam.simulate(300, seed=2))
    df = fam.simulate(n)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0 = time.perf_counter()
        key = fn(df)
        sec = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB
        print(json.dumps({"seconds": sec, "peak_mib": peak, "key": float(key[0])}), flush=True)


# ------------------------------------------------------------------------------- driver side
def _busy() -> None:  # pragma: no cover - runs in the competing processes
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    x = 0
    while True:
        x += 1


class CompetingLoad:
    """Two busy-loop processes (one per core) for the loaded run; stopped on exit."""

    def __init__(self, n: int = 2) -> None:
        self.procs = [mp.get_context("spawn").Process(target=_busy, daemon=True) for _ in range(n)]

    def __enter__(self):
        for p in self.procs:
            p.start()
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.join(5)


def _start(task: str, tool: str, n: int) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, __file__, "--worker", task, tool, str(n)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if line != "ready":
        err = p.stderr.read().strip().splitlines()
        p.kill()
        raise RuntimeError(err[-1] if err else "worker did not start")
    return p


def _call(p: subprocess.Popen) -> dict:
    p.stdin.write("run\n")
    p.stdin.flush()
    line = p.stdout.readline()
    if not line:
        err = p.stderr.read().strip().splitlines()
        raise RuntimeError(err[-1][:160] if err else "worker died")
    return json.loads(line)


def run_cell(task: str, n: int, reps: int, with_peer: bool) -> list[dict]:
    """Alternate evalkit and its peer ``reps`` times on one (task, N); one row per tool."""
    tools = [t for t in TASKS[task] if t == "evalkit" or with_peer]
    load0 = os.getloadavg()[0]
    procs, rows = {}, {}
    for tool in tools:
        try:
            procs[tool] = _start(task, tool, n)
            rows[tool] = {"times": [], "peak_mib": np.nan, "key": np.nan, "note": ""}
        except RuntimeError as e:
            rows[tool] = {"times": [], "peak_mib": np.nan, "key": np.nan, "note": f"failed: {e}"}
    try:
        for _ in range(reps):
            for tool, p in procs.items():
                if rows[tool]["note"]:
                    continue
                try:
                    r = _call(p)
                except RuntimeError as e:
                    rows[tool]["note"] = f"failed: {e}"
                    continue
                rows[tool]["times"].append(r["seconds"])
                rows[tool]["peak_mib"], rows[tool]["key"] = r["peak_mib"], r["key"]
    finally:
        for p in procs.values():
            p.kill()
            p.wait()
    load1 = os.getloadavg()[0]
    out = []
    for tool, r in rows.items():
        med = statistics.median(r["times"]) if r["times"] else np.nan
        out.append({"task": task, "n_units": n, "tool": tool, "median_s": med,
                    "times": " ".join(f"{t:.3f}" for t in r["times"]), "peak_mib": r["peak_mib"],
                    "key": r["key"], "load_start": load0, "load_end": load1, "note": r["note"]})
    return out


def summarise(res: pd.DataFrame) -> pd.DataFrame:
    """Ratios evalkit / peer, key differences and growth exponents per task and tool."""
    ev = res.loc[res["tool"] == "evalkit", ["task", "n_units", "median_s", "key"]]
    peer = res.loc[res["tool"] != "evalkit", ["task", "n_units", "tool", "median_s", "key"]]
    m = ev.merge(peer, on=["task", "n_units"], how="left", suffixes=("_evalkit", "_peer"))
    m["ratio_evalkit_over_peer"] = m["median_s_evalkit"] / m["median_s_peer"]
    m["key_abs_diff"] = (m["key_evalkit"] - m["key_peer"]).abs()
    growth = []
    for (task, tool), g in res.groupby(["task", "tool"]):
        g = g.dropna(subset=["median_s"]).sort_values("n_units")
        for a, b in zip(g.itertuples(), list(g.itertuples())[1:], strict=False):
            growth.append({"task": task, "tool": tool, "from": a.n_units, "to": b.n_units,
                           "exponent": np.log(b.median_s / a.median_s) / np.log(b.n_units / a.n_units)})
    print(m.to_string(index=False))
    if growth:
        print(pd.DataFrame(growth).to_string(index=False))
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000, 200000])
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--loaded", action="store_true", help="start two busy-loop processes first")
    ap.add_argument("--peer-max-sa", type=int, default=10000,
                    help="largest N at which the Sun-Abraham peer is run (memory)")
    ap.add_argument("--no-peer", action="store_true", help="evalkit only")
    ap.add_argument("--out", default="")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(a.worker[0], a.worker[1], int(a.worker[2]))
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below
    rows = []
    load = CompetingLoad() if a.loaded else None
    try:
        if load:
            load.__enter__()
            time.sleep(2)
        for n in a.sizes:
            for task in a.tasks:
                peer = not a.no_peer and not (task == "sun_abraham" and n > a.peer_max_sa)
                for r in run_cell(task, n, a.reps, peer):
                    r["mode"] = "loaded" if a.loaded else "as-is"
                    rows.append(r)
                    print(r, flush=True)
    finally:
        if load:
            load.__exit__(None, None, None)
    res = pd.DataFrame(rows)
    if a.out:
        res.to_csv(a.out, index=False)
    summarise(res)


if __name__ == "__main__":
    main()
