"""Command-line entry points ``evalkit allocate`` and ``evalkit allocate-compare``.

``evalkit/cli.py`` calls :func:`add_subparsers` to register them. Both commands validate every
input first and write nothing unless everything succeeds (outputs go to a temporary folder that
is moved into ``--out`` at the end)::

    evalkit allocate spec.yaml --factors factors.csv [--last-year last.csv] --out out/
    evalkit allocate-compare spec_a.yaml spec_b.yaml --factors factors.csv --out out/
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

from .engine import allocate
from .export import _stable_zip, commit_dir, method_sheet, to_csv, to_excel, to_json
from .factors import read_factors
from .metrics import compare
from .spec import load_spec


def _slug(text: str) -> str:
    s = re.sub(r"[^\w\-]+", "_", text, flags=re.UNICODE).strip("_")
    return s or "scenario"


def run_allocate(args: argparse.Namespace) -> int:
    """Run ``evalkit allocate``; return 0 on success (errors raise EvalkitError)."""
    alloc = allocate(args.spec, args.factors, last_year=args.last_year)
    spec = alloc.spec
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".alloc-", dir=out.parent))
    try:
        stem = args.stem or f"allocation_{spec.year}"
        to_excel(alloc, tmp / f"{stem}.xlsx", sensitivity=not args.no_sensitivity)
        to_csv(alloc, tmp / f"{stem}.csv")
        to_json(alloc, tmp / f"{stem}.json")
        (tmp / f"{stem}_测算说明.txt").write_text(method_sheet(alloc, "zh"), encoding="utf-8")
        written = commit_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(alloc.summary())
    for note in alloc.audit["notes"]:
        print(f"  note: {note}", file=sys.stderr)
    for p in written:
        print(f"  wrote {p}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    """Run ``evalkit allocate-compare``; return 0 on success."""
    specs = [load_spec(s) for s in args.specs]
    factors = read_factors(args.factors)
    cmp = compare(specs, factors, last_year=args.last_year)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".alloc-", dir=out.parent))
    try:
        used: set[str] = set()
        for label, alloc in cmp.allocations.items():
            stem = _slug(label)
            while stem in used:
                stem += "_"
            used.add(stem)
            to_excel(alloc, tmp / f"{stem}.xlsx", sensitivity=False)
            to_csv(alloc, tmp / f"{stem}.csv")
            to_json(alloc, tmp / f"{stem}.json")
            (tmp / f"{stem}_测算说明.txt").write_text(method_sheet(alloc, "zh"), encoding="utf-8")
        (tmp / "comparison.csv").write_bytes(
            b"\xef\xbb\xbf" + cmp.amounts.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        (tmp / "comparison_metrics.csv").write_bytes(
            b"\xef\xbb\xbf" + cmp.metrics.to_csv(lineterminator="\n").encode("utf-8"))
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xw:
            cmp.amounts.to_excel(xw, sheet_name="方案对比", index=False)
            cmp.metrics.to_excel(xw, sheet_name="指标对比")
            for ws in xw.book.worksheets:
                ws.freeze_panes = "B2"
        (tmp / "comparison.xlsx").write_bytes(_stable_zip(buf.getvalue()))
        written = commit_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(cmp.amounts.to_string(index=False))
    for p in written:
        print(f"  wrote {p}")
    return 0


def add_subparsers(subparsers: argparse._SubParsersAction) -> None:
    """Register ``allocate`` and ``allocate-compare`` on an argparse subparsers object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``; each command sets ``func`` to its runner.
    """
    p = subparsers.add_parser(
        "allocate", help="factor-method allocation (因素法资金分配) from a spec and a factor table",
        description="Allocate a fund by the factor method; writes xlsx, csv, json and the 测算说明 "
                    "into --out only if every input validates.")
    p.add_argument("spec", help="formula spec YAML (分配方案)")
    p.add_argument("--factors", required=True, help="factor table CSV/XLSX (因素数据表)")
    p.add_argument("--last-year", dest="last_year", default=None,
                   help="last year's amounts (CSV/XLSX with unit_code, amount_wan)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--stem", default=None, help="file name stem (default allocation_<year>)")
    p.add_argument("--no-sensitivity", dest="no_sensitivity", action="store_true",
                   help="skip the Monte Carlo sensitivity sheet")
    p.set_defaults(func=run_allocate)
    q = subparsers.add_parser(
        "allocate-compare", help="compare allocation scenarios side by side",
        description="Allocate under several specs with the same factor table and compare.")
    q.add_argument("specs", nargs="+", help="two or more spec YAML files")
    q.add_argument("--factors", required=True, help="factor table CSV/XLSX")
    q.add_argument("--last-year", dest="last_year", default=None, help="last year's amounts")
    q.add_argument("--out", required=True, help="output folder")
    q.set_defaults(func=run_compare)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m evalkit.allocation.cli``) with the same commands."""
    from .._shared.exceptions import EvalkitError
    parser = argparse.ArgumentParser(prog="evalkit-allocation")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subparsers(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except EvalkitError as exc:
        print(f"evalkit {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
