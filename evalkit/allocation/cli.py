"""Command-line entry points ``evalkit allocate`` and ``evalkit allocate-compare``.

``evalkit/cli.py`` calls :func:`add_subparsers` to register them. Both commands validate every
input first and write nothing unless everything succeeds (outputs go to a temporary folder that
is moved into ``--out`` at the end)::

    evalkit allocate spec.yaml --factors factors.csv [--last-year last.csv] [--year 2024]
                     [--stage 送审稿] [--history amounts.csv] --out out/
    evalkit allocate-compare spec_a.yaml spec_b.yaml --factors factors.csv --out out/

``allocate`` writes the 测算表 workbook (``<stem>.xlsx``), its 公开版, CSV, JSON, the 测算说明 text
and PNG charts with a text explaining each; ``allocate-compare`` writes each scenario and
``comparison.xlsx`` (A, B, B−A and % per unit, 小计 and 合计).
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .._shared.exceptions import SpecError
from ._format import stable_zip
from ._spec_model import STAGES
from .engine import allocate
from .export import commit_dir, method_sheet, to_csv, to_excel, to_json
from .factors import read_factors
from .scenarios import compare
from .settlement import has_advance


def _slug(text: str) -> str:
    s = re.sub(r"[^\w\-]+", "_", text, flags=re.UNICODE).strip("_")
    return s or "scenario"


def _charts(parts, tmp: Path, stem: str, which: str, ranges: bool) -> None:
    """Write the PNG charts and one text file explaining each (``which``: all, summary, none).

    ``parts`` is ``[(file-name infix, pool name or None, allocation)]``: one entry for a plain
    spec, one per pool for a spec with pools (each pool's charts carry its id in the file name
    and its name in the titles). ``ranges`` adds the Monte Carlo range chart.
    """
    if which == "none":
        return
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .charts import plot_attribution, plot_ranges, plot_waterfall
    from .explain import explain
    from .sensitivity import monte_carlo
    from .shapley import shapley

    notes: list[str] = []
    seen: set[str] = set()
    for infix, heading, alloc in parts:
        pre = f"{stem}{infix}"
        figs = [(f"{pre}_图1_因素贡献.png",
                 plot_attribution(alloc, shapley_result=shapley(alloc), heading=heading),
                 explain("attribution_chart"))]
        if ranges:
            mc = monte_carlo(alloc, n_draws=10_000, keep_draws=False)
            figs.append((f"{pre}_图2_金额区间.png", plot_ranges(alloc, mc, heading=heading),
                         explain("range_chart")))
        if which == "all":
            for c in alloc.codes:
                figs.append((f"{pre}_图3_构成_{_slug(alloc.name(c))}.png",
                             plot_waterfall(alloc, c, heading=heading), explain("waterfall")))
        if heading:
            notes.append(f"【{heading}】\n")
        for name, fig, text in figs:
            fig.savefig(tmp / name, dpi=150, metadata={"Software": None})
            plt.close(fig)
            key = text[:20]
            notes.append(f"{name}\n{text if key not in seen else '（同上）'}\n")
            seen.add(key)
    (tmp / f"{stem}_图表说明.txt").write_text("\n".join(notes), encoding="utf-8")


def run_allocate(args: argparse.Namespace) -> int:
    """Run ``evalkit allocate``; return 0 on success (errors raise EvalkitError)."""
    factors = read_factors(args.factors, year=args.year)
    alloc = allocate(args.spec, factors, last_year=args.last_year)
    spec = alloc.spec
    settled = None
    if args.preliminary or has_advance(spec):
        if not args.preliminary:
            raise SpecError(["方案写了 advance（预拨比例），请用 --preliminary 给出初步数据 / the spec has "
                             "advance: give the preliminary factor table with --preliminary"],
                            header="缺少初步数据 / Preliminary data missing")
        from .settlement import settle
        settled = settle(spec, read_factors(args.preliminary, year=args.year), factors,
                         last_year=args.last_year)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".alloc-", dir=out.parent))
    try:
        stem = args.stem or f"allocation_{spec.year}"
        pooled = getattr(alloc, "pools", None)
        # one workbook (and one set of charts) per pool; csv, json, 测算说明 and the multi-year
        # view of the pools together (小计 per pool and 合计)
        parts = [(f"_{pid}", pname, a) for pid, pname, a in pooled] if pooled else \
            [("", None, alloc)]
        for suffix, _, one in parts:
            to_excel(one, tmp / f"{stem}{suffix}.xlsx", sensitivity=not args.no_sensitivity,
                     stage=args.stage, date=args.date)
            to_excel(one, tmp / f"{stem}{suffix}_公开版.xlsx", public=True, stage=args.stage,
                     date=args.date)
        alloc.to_csv(tmp / f"{stem}.csv")
        alloc.to_json(tmp / f"{stem}.json")
        (tmp / f"{stem}_测算说明.txt").write_text(alloc.method_sheet("zh"), encoding="utf-8")
        if args.history:
            _years_workbook(alloc, args.history, args.history_years, tmp / f"{stem}_多年对比.xlsx")
        _charts(parts, tmp, stem, args.charts, ranges=not args.no_sensitivity)
        if settled is not None:  # 预拨与清算: the settlement table and the method sheet section
            settled.table.to_csv(tmp / f"{stem}_预拨清算.csv", index=False, lineterminator="\n",
                                 encoding="utf-8-sig")
            (tmp / f"{stem}_测算说明.txt").write_text(settled.method_sheet("zh"), encoding="utf-8")
        written = commit_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(alloc.summary())
    for note in alloc.audit["notes"]:
        print(f"  note: {note}", file=sys.stderr)
    for p in written:
        print(f"  wrote {p}")
    return 0


def _save(wb, path: Path) -> None:
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(stable_zip(buf.getvalue()))


def _years_workbook(alloc, history: str, n_years: int, path: Path) -> None:
    from openpyxl import Workbook

    from . import workbook as wbk
    from .explain import explain
    from .metrics import years_view
    df = years_view(alloc, history, n_years=n_years)
    rows = [{**r, "_strong": r["row_kind"] != "unit"} for r in df.to_dict(orient="records")]
    years = [c for c in df.columns if c.isdigit()]
    cols = [wbk.Column("单位名称", wbk._get("name_zh"), None, 10)]
    cols += [wbk.Column(f"{y}年", wbk._get(y), wbk.WAN, 8) for y in years]
    cols += [wbk.Column(f"{alloc.spec.year}年\n（本年）", wbk._get("this_year"), wbk.WAN, 9),
             wbk.Column("比上年增减", wbk._get("change_last"), wbk.WAN, 8),
             wbk.Column("比上年增减(%)", wbk._get("change_last_pct", 0.01), wbk.PCT, 8),
             wbk.Column(f"前{len(years)}年平均", wbk._get("mean_past"), wbk.WAN, 8),
             wbk.Column("比平均增减(%)", wbk._get("change_mean_pct", 0.01), wbk.PCT, 8)]
    wb = Workbook()
    wb.remove(wb.active)
    footer = f"校验码 SHA-256：{alloc.inputs_hash[:16]}…"
    wbk.data_sheet(wb, "多年对比", cols, rows, footer=footer, note=explain("years"),
                   caption=f"{alloc.spec.fund}分配金额多年对比")
    _save(wb, path)


def _compare_workbook(cmp, path: Path) -> None:
    from openpyxl import Workbook

    from . import workbook as wbk
    from .explain import explain
    labels = list(cmp.allocations)
    ref = labels[0]
    df = cmp.differences()
    rows = [{**r, "_strong": r["row_kind"] != "unit",
             "unit_code": "" if r["row_kind"] == "total" else r["unit_code"]}
            for r in df.to_dict(orient="records")]
    cols = [wbk.Column("单位代码", wbk._get("unit_code"), None, 8),
            wbk.Column("单位名称", wbk._get("name_zh"), None, 10),
            wbk.Column(f"A：{ref}", wbk._get(ref), wbk.WAN, 10)]
    for lab in labels[1:]:
        cols += [wbk.Column(f"B：{lab}", wbk._get(lab), wbk.WAN, 10),
                 wbk.Column("B−A", wbk._get(f"{lab}−{ref}"), wbk.WAN, 8),
                 wbk.Column("增减(%)", wbk._get(f"{lab}−{ref} %", 0.01), wbk.PCT, 7)]
    wb = Workbook()
    wb.remove(wb.active)
    footer = "evalkit allocate-compare"
    wbk.data_sheet(wb, "方案对比", cols, rows, footer=footer, note=explain("compare"),
                   caption="分配方案对比")
    met = cmp.metrics
    mrows = [{"metric": wbk.METRIC_ZH.get(m, (m, ""))[0], **met.loc[m].to_dict()}
             for m in met.index]
    mcols = [wbk.Column("指标", wbk._get("metric"), None, 14)] + [
        wbk.Column(lab, wbk._get(lab), "0.000", 10) for lab in labels]
    wbk.data_sheet(wb, "指标对比", mcols, mrows, footer=footer, note=explain("metrics"),
                   unit=None, caption="公平与集中度指标对比")
    _save(wb, path)


def run_compare(args: argparse.Namespace) -> int:
    """Run ``evalkit allocate-compare``; return 0 on success."""
    factors = read_factors(args.factors, year=args.year)
    cmp = compare(list(args.specs), factors, last_year=args.last_year)
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
            to_excel(alloc, tmp / f"{stem}.xlsx", sensitivity=False, date=args.date)
            to_csv(alloc, tmp / f"{stem}.csv")
            to_json(alloc, tmp / f"{stem}.json")
            (tmp / f"{stem}_测算说明.txt").write_text(method_sheet(alloc, "zh"), encoding="utf-8")
        diff = cmp.differences()
        (tmp / "comparison.csv").write_bytes(
            b"\xef\xbb\xbf" + diff.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        (tmp / "comparison_metrics.csv").write_bytes(
            b"\xef\xbb\xbf" + cmp.metrics.to_csv(lineterminator="\n").encode("utf-8"))
        _compare_workbook(cmp, tmp / "comparison.xlsx")
        if args.history:
            first = next(iter(cmp.allocations.values()))
            _years_workbook(first, args.history, args.history_years, tmp / "多年对比.xlsx")
        written = commit_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(diff.drop(columns="row_kind").to_string(index=False))
    for p in written:
        print(f"  wrote {p}")
    return 0


def run_template(args: argparse.Namespace) -> int:
    """Run ``evalkit allocate-template``: write the factor-table template XLSX."""
    from .._shared.exceptions import EvalkitError
    from .template import write_factor_template
    out = Path(args.out)
    if out.exists():
        raise EvalkitError(f"{out} 已存在，未覆盖；请换一个文件名 / {out} exists and was not "
                           "overwritten; choose another file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        write_factor_template(tmp, args.spec, year=args.year, example=args.example)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"  wrote {out}")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--factors", required=True,
                   help="factor table CSV/XLSX (因素数据表; UTF-8, GB18030 or XLSX with title rows)")
    p.add_argument("--year", type=int, default=None,
                   help="data year of a wide factor table that has no year column (因素数据年度)")
    p.add_argument("--last-year", dest="last_year", default=None,
                   help="last year's amounts (CSV/XLSX with unit_code, amount_wan)")
    p.add_argument("--history", default=None,
                   help="past years' amounts (CSV/XLSX: year, unit_code, amount_wan) for a "
                        "multi-year view (多年对比)")
    p.add_argument("--history-years", dest="history_years", type=int, default=3,
                   help="how many past years the multi-year view shows (default 3)")
    p.add_argument("--date", default=None,
                   help="date printed under the title, e.g. 2025年3月1日 (default today)")
    p.add_argument("--out", required=True, help="output folder")


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
    _common(p)
    p.add_argument("--stem", default=None, help="file name stem (default allocation_<year>)")
    p.add_argument("--stage", choices=STAGES, default=None,
                   help="draft stage in the title (稿别; default the spec's stage)")
    p.add_argument("--charts", choices=("summary", "all", "none"), default="summary",
                   help="PNG charts beside the workbook: summary (factor attribution, "
                        "sensitivity ranges), all (also a waterfall per unit) or none")
    p.add_argument("--preliminary", help="preliminary factor table for the advance (预拨初步数据); "
                   "the spec needs advance: {share: ...}; --factors then holds the final data")
    p.add_argument("--no-sensitivity", dest="no_sensitivity", action="store_true",
                   help="skip the Monte Carlo sensitivity sheet")
    p.set_defaults(func=run_allocate)
    q = subparsers.add_parser(
        "allocate-compare", help="compare allocation scenarios side by side",
        description="Allocate under several specs with the same factor table and compare.")
    q.add_argument("specs", nargs="+", help="two or more spec YAML files (A first)")
    _common(q)
    q.set_defaults(func=run_compare)
    t = subparsers.add_parser(
        "allocate-template", help="write the factor-table template XLSX (因素数据表模板)",
        description="Write an XLSX factor-table template with Chinese headers, the units of the "
                    "unit master and data validation, for the factors of a spec.")
    t.add_argument("--spec", default=None,
                   help="spec YAML whose factors the template lists (default the packaged "
                        "spec template)")
    t.add_argument("--year", type=int, default=None, help="data year (default the spec's)")
    t.add_argument("--example", action="store_true", help="fill in made-up example values")
    t.add_argument("--out", required=True, help="XLSX file to write (never overwritten)")
    t.set_defaults(func=run_template)


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
