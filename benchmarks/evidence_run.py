"""Wall time and peak memory of ``evalkit evidence`` on the demo data.

Runs the command line in a subprocess (as a user would) and samples, every 0.2 s, the resident
memory of the whole process tree (CLI, worker processes, kernels) from ``/proc``; reports the wall
time, the peak summed RSS and the per-notebook run times from the pack's manifest::

    .venv/bin/python benchmarks/evidence_run.py                       # 00_data_audit, 3 rounds
    .venv/bin/python benchmarks/evidence_run.py --notebooks all --rounds 1
    .venv/bin/python benchmarks/evidence_run.py --json results.json

Linux only (reads /proc). Results are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root_pid: int) -> int:
    """Summed resident bytes of ``root_pid`` and all its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * PAGE
    total, stack = 0, [root_pid]
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_once(year: int, data: str, notebooks: list[str] | None, workers: int) -> dict:
    """One ``evalkit evidence`` run into a temporary folder; returns time, memory, statuses."""
    exe = Path(sys.executable).with_name("evalkit")
    with tempfile.TemporaryDirectory(prefix="evalkit-bench-") as tmp:
        out = Path(tmp) / str(year)
        cmd = [str(exe), "evidence", "--year", str(year), "--data", data, "--out", str(out),
               "--workers", str(workers), "--quiet"]
        if notebooks:
            cmd += ["--notebooks", *notebooks]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.2)
        wall = time.perf_counter() - start
        stdout, stderr = proc.communicate()
        result = {"wall_s": round(wall, 1), "peak_rss_mb": round(peak / 2**20), "exit": proc.returncode}
        manifest = out / "manifest.json"
        if manifest.exists():
            m = json.loads(manifest.read_text(encoding="utf-8"))
            result["notebooks"] = {n["name"]: [n["status"], n["seconds"]] for n in m["notebooks"]}
        else:
            result["error"] = (stderr or stdout).strip().splitlines()[-12:]
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--data", default="data_raw/demo")
    parser.add_argument("--notebooks", nargs="+", default=["00_data_audit"],
                        help="notebook names, or 'all'")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    notebooks = None if args.notebooks == ["all"] else args.notebooks
    rounds = []
    for i in range(args.rounds):
        res = run_once(args.year, args.data, notebooks, args.workers)
        rounds.append(res)
        print(f"round {i + 1}: {json.dumps(res, ensure_ascii=False)}", flush=True)
    walls = [r["wall_s"] for r in rounds]
    summary = {
        "notebooks": args.notebooks,
        "workers": args.workers,
        "wall_s_median": statistics.median(walls),
        "wall_s_min_max": [min(walls), max(walls)],
        "peak_rss_mb_max": max(r["peak_rss_mb"] for r in rounds),
        "load_average_1min_at_end": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
        "rounds": rounds,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "rounds"}, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if all(r["exit"] == 0 for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
