"""The ``evalkit`` command line.

::

    evalkit evidence --year 2025 --data data_raw/demo --out reports/2025
    evalkit demo-data --end-year 2026 --out data_raw/demo2026
    evalkit verify reports/2025
    evalkit allocate ... / evalkit allocate-compare ...   (when evalkit.allocation provides them)

Exit codes: 0 success; 1 a notebook of the evidence run failed or the pack does not verify;
2 bad input (an :class:`~evalkit._shared.exceptions.EvalkitError` or a file-system error: the
message says what to fix); 128 + N when an evidence run was stopped by signal N (130 for
Ctrl-C, 143 for SIGTERM). No traceback is shown unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from ._shared.exceptions import EvalkitError, PipelineError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _year(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a year such as 2025, got {text!r}") from None
    if not 1990 <= value <= 2100:
        raise argparse.ArgumentTypeError(f"expected a year such as 2025, got {text!r}")
    return value


def _add_debug(p: argparse.ArgumentParser) -> None:
    """``--debug`` after the subcommand too (``evalkit evidence ... --debug``)."""
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the Python traceback of an error")


def _add_evidence(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evidence",
        help="run the evidence notebooks and write the pack (HTML, index, manifest)",
        description=(
            "Run every notebooks/NN_*.ipynb with papermill for one year and write the evidence "
            "pack. The previous pack in --out is replaced only when every notebook succeeded; "
            "failed notebooks are saved in <out>.failed/."
        ),
    )
    p.add_argument("--year", type=_year, required=True, help="last year of the evaluation")
    p.add_argument(
        "--data",
        default="data_raw/demo",
        help="folder with the panel and other inputs (default: data_raw/demo, the demo data)",
    )
    p.add_argument("--out", default=None, help="pack folder (default: reports/<year>)")
    p.add_argument("--language", choices=("zh", "en"), default="zh", help="report language")
    p.add_argument(
        "--notebooks",
        nargs="+",
        metavar="NAME",
        help="run only these notebooks (names such as 00_data_audit, or numbers such as 00)",
    )
    p.add_argument("--workers", type=_positive_int, default=2, help="notebooks run at once")
    p.add_argument(
        "--timeout",
        type=_positive_int,
        default=None,
        help="seconds any one cell may run (default: %(default)s = the pipeline default, 900)",
    )
    p.add_argument("--notebooks-dir", default=None, help="folder of the notebooks")
    p.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NOTEBOOK:NAME=VALUE",
        help="extra notebook parameter, converted to the type its parameters cell declares",
    )
    p.add_argument(
        "--keep-extra",
        action="store_true",
        help="move files in the existing pack that its manifest does not list (your own files) "
        "into the new pack's extra/ folder instead of refusing to replace the pack",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also write each page as an A4 PDF and a combined evidence_pack.pdf (needs chromium)",
    )
    p.add_argument(
        "--allow-missing",
        action="store_true",
        help="run on an unbalanced panel when expected unit-years are missing (each page says so)",
    )
    _add_debug(p)
    p.set_defaults(func=_cmd_evidence)


def _cmd_evidence(args: argparse.Namespace) -> int:
    from .pipeline import DEFAULT_TIMEOUT, default_notebooks_dir, parse_param_items, run_evidence

    nb_dir = Path(args.notebooks_dir) if args.notebooks_dir else default_notebooks_dir()
    params = parse_param_items(args.param, nb_dir)
    out = args.out or str(Path("reports") / str(args.year))
    pack = run_evidence(
        args.year,
        args.data,
        out,
        language=args.language,
        notebooks=args.notebooks,
        workers=args.workers,
        timeout=args.timeout or DEFAULT_TIMEOUT,
        progress=not args.quiet,
        notebooks_dir=nb_dir,
        parameters=params,
        pdf=args.pdf,
        keep_extra=args.keep_extra,
        allow_missing=args.allow_missing,
    )
    counts: dict[str, int] = {}
    for run in pack.runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"Evidence pack: {pack.index} ({detail})")
    side = Path(out).with_name(Path(out).name + ".manifest.sha256")
    print(f"Check it later with: evalkit verify {out} --sha256 {pack.manifest_sha256}")
    # the digest is the last line, so that scripts can take it with `tail -n 1`
    print(f"manifest.json SHA-256 (also in {side}): {pack.manifest_sha256}")
    return EXIT_OK


def _add_demo_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo-data",
        help="write the seeded synthetic demo data (with its true effects)",
        description="Write the synthetic demo panel and its truth file to --out.",
    )
    p.add_argument("--end-year", type=_year, default=2025, help="last year of the panel")
    p.add_argument("--out", required=True, help="folder to write (e.g. data_raw/demo2026)")
    p.set_defaults(func=_cmd_demo_data)


def _cmd_demo_data(args: argparse.Namespace) -> int:
    try:
        from .data import write_demo
    except ImportError as exc:
        raise EvalkitError(f"evalkit.data cannot be imported ({exc}); reinstall evalkit.") from exc
    written = write_demo(args.out, end_year=args.end_year)
    print(f"Demo data (synthetic, 2012-{args.end_year}) written to {args.out}")
    if isinstance(written, (list, tuple)):
        for path in written:
            print(f"  {path}")
    return EXIT_OK


def _add_verify(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="check a pack's files and inputs against its manifest hashes",
        description=(
            "Recompute the SHA-256 of every file of the pack and of the input data and compare "
            "them with manifest.json; exit 1 naming each mismatch."
        ),
    )
    p.add_argument("pack", help="pack folder, e.g. reports/2025")
    p.add_argument(
        "--skip-inputs", action="store_true", help="do not re-hash the input data files"
    )
    p.add_argument(
        "--sha256",
        metavar="HEX",
        default=None,
        help="the manifest digest the build printed; fail when manifest.json does not hash to "
        "it (default: the digest in <pack>.manifest.sha256 beside the pack, when present)",
    )
    _add_debug(p)
    p.set_defaults(func=_cmd_verify)


def _cmd_verify(args: argparse.Namespace) -> int:
    from .pipeline.verify import verify_pack

    report = verify_pack(args.pack, check_inputs=not args.skip_inputs, sha256=args.sha256)
    if report.ok:
        print(report.summary())
        return EXIT_OK
    print(report.summary(), file=sys.stderr)
    return EXIT_FAILED


def _add_optional(sub: argparse._SubParsersAction) -> None:
    """Add subcommands other modules provide (``evalkit.allocation.cli.add_subparsers``)."""
    try:
        module = importlib.import_module("evalkit.allocation.cli")
    except ModuleNotFoundError as exc:
        if exc.name in {"evalkit.allocation.cli", "evalkit.allocation"}:
            return  # not built yet: the allocate commands are simply absent
        raise
    module.add_subparsers(sub)


def build_parser() -> argparse.ArgumentParser:
    """Build the ``evalkit`` argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="evalkit",
        description="Evaluation toolkit for Weifang's manufacturing pilot zone (2021-2025).",
    )
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the Python traceback of an error"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_evidence(sub)
    _add_demo_data(sub)
    _add_verify(sub)
    _add_optional(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 when a notebook failed or a pack does not verify, 2 for bad input.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except PipelineError as exc:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"evalkit {args.command}: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", EXIT_FAILED))
    except (EvalkitError, OSError) as exc:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"evalkit {args.command}: error: {_error_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK if code is None else int(code)


def _error_text(exc: Exception) -> str:
    """The message of an error; a file-system error names the file and the reason."""
    if isinstance(exc, OSError) and not isinstance(exc, EvalkitError):
        where = f" ({exc.filename})" if exc.filename else ""
        return (
            f"{exc.strerror or exc}{where}. Check that the path exists, is readable (and "
            "writable for outputs) and the disk has space; --debug shows the details."
        )
    return str(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
