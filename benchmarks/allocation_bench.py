"""Allocation workbench speed: Monte Carlo over weights and exact Shapley attribution.

Usage::

    .venv/bin/python benchmarks/allocation_bench.py [--draws 10000] [--units 16] [--factors 8]
        [--shapley-factors 10] [--repeat 5] [--check]

Targets (issue 4): 10,000 Dirichlet weight draws for 16 units × 8 factors (with floors and a
cap, rounded by largest remainder, rank and floor/cap statistics) and exact Shapley attribution
over all 2^10 factor subsets for 16 units, each under 1 second on 2 cores. Prints the median
wall time of ``--repeat`` runs (after one warm-up); ``--check`` exits with status 1 when a target
is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import pandas as pd

from evalkit.allocation import allocate, read_factors, sensitivity, shapley, spec_from_dict


def make_case(n_units: int, n_factors: int, seed: int = 11):
    """A random allocation with floors and a 25% cap (feasible by construction)."""
    rng = np.random.default_rng(seed)
    codes = [f"U{i:02d}" for i in range(n_units)]
    rows = []
    for k in range(n_factors):
        vals = rng.lognormal(8, 1, n_units).round(2)
        for c, v in zip(codes, vals, strict=True):
            rows.append({"year": 2024, "unit_code": c, "factor_id": f"f{k}", "value": float(v)})
    base = 100 // n_factors
    weights = [base] * n_factors
    weights[0] += 100 - base * n_factors
    spec = spec_from_dict({
        "fund": "bench", "year": 2025, "total_wan": 100_000, "reserve_wan": 0,
        "factors": [{"id": f"f{k}", "name": f"f{k}", "weight": w, "transform": "share"}
                    for k, w in enumerate(weights)],
        "constraints": {"floor_wan": 100_000 // (4 * n_units), "cap_share": 0.25},
    })
    return allocate(spec, read_factors(pd.DataFrame(rows)))


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time of ``repeat`` runs after one warm-up call."""
    out = fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=10_000)
    p.add_argument("--units", type=int, default=16)
    p.add_argument("--factors", type=int, default=8)
    p.add_argument("--shapley-factors", type=int, default=10)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--check", action="store_true", help="exit 1 if a target (1 s) is missed")
    args = p.parse_args(argv)

    a = make_case(args.units, args.factors)
    t_mc, mc = timed(lambda: sensitivity.monte_carlo(a, n_draws=args.draws), args.repeat)
    ok_sum = bool((mc.amounts.sum(axis=1) == a.core.t_alloc).all())
    print(f"Monte Carlo: {args.draws} Dirichlet draws, {args.units} units x {args.factors} "
          f"factors: {t_mc:.3f} s (median of {args.repeat}); every draw sums to T_alloc: {ok_sum}")

    b = make_case(args.units, args.shapley_factors, seed=12)
    t_sh, sh = timed(lambda: shapley(b), args.repeat)
    print(f"Exact Shapley: {args.shapley_factors} factors (2^{args.shapley_factors} subsets), "
          f"{args.units} units: {t_sh:.3f} s (median of {args.repeat}); efficiency exact: "
          f"{sh.check()}")
    missed = [name for name, t in (("monte_carlo", t_mc), ("shapley", t_sh)) if t >= 1.0]
    if missed:
        print(f"targets missed (>= 1 s): {', '.join(missed)}")
    return 1 if (args.check and (missed or not ok_sum or not sh.check())) else 0


if __name__ == "__main__":
    sys.exit(main())
