"""One evidence run: check the arguments, build the pack in a hidden folder, put it in place.

:func:`run_evidence` is the whole run; it is split along its phases: the arguments are checked
(:func:`_checked_arguments`), a build folder is made under the lock (:func:`_open_build`), the
notebooks are executed (:func:`_run_notebooks`), the index, fonts, PDFs and manifest are written
(:func:`_finish_pack`) and the pack is swapped into place.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._shared.exceptions import EvalkitError, PipelineError
from .._shared.validation import check_option
from .execute import DEFAULT_TIMEOUT, NotebookRun, execute_all, preload, say
from .manifest import (
    MANIFEST_NAME,
    MANIFEST_VERSION,
    PACK_SCHEMA,
    environment_summary,
    git_commit,
    hash_tree,
    manifest_sha256,
    package_versions,
)
from .pack import (
    BuildLock,
    PackFolderError,
    carry_user_files,
    check_out_location,
    hidden_name,
    inspect_out,
    new_token,
    recover,
    save_failures,
    set_modes,
    swap_into_place,
    unwritable,
    write_digest,
)
from .params import (
    LANGUAGES,
    check_reserved_parameter,
    default_notebooks_dir,
    discover_notebooks,
    make_tasks,
)
from .processes import BuildGroup, BuildStopped, StopSignals, build_environment, signal_name


@dataclass
class EvidencePack:
    """A finished evidence pack.

    Attributes
    ----------
    path : Path
        The pack folder (``out_dir``).
    runs : list of NotebookRun
        One entry per notebook, in number order.
    manifest : dict
        The content of ``manifest.json``.
    manifest_sha256 : str
        SHA-256 of ``manifest.json``, also written to ``<out_dir>.manifest.sha256``.
    notes : list of str
        What the run did besides building (a stale lock taken over, debris removed...).
    """

    path: Path
    runs: list[NotebookRun]
    manifest: dict[str, Any]
    manifest_sha256: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        """Path of ``index.html``."""
        return self.path / "index.html"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _inspect_data(data_dir: Path, year: int, synthetic: bool | None, check_data: bool,
                  allow_missing: bool = False) -> bool:
    """Validate the panel once before any kernel starts; return whether the data are synthetic."""
    if check_data:
        try:
            from ..data import load_panel
        except ImportError as exc:  # pragma: no cover - evalkit.data ships with evalkit
            raise EvalkitError(f"evalkit.data cannot be imported ({exc}).") from exc
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the report's warnings are printed once, below
            panel = load_panel(data_dir, year=year, allow_missing=allow_missing)
        for text in panel.attrs["validation"].warnings:
            print(f"evalkit: warning / 警告: {text}", file=sys.stderr)
        years = panel["year"]
        if int(years.max()) < year:
            raise EvalkitError(
                f"The data in {str(data_dir)!r} end in {int(years.max())}, but --year {year} was "
                f"asked for. Bring data through {year}, or make demo data with "
                f"`evalkit demo-data --end-year {year} --out DIR` and pass --data DIR."
            )
        if synthetic is None:
            synthetic = bool(panel.attrs.get("synthetic", False))
    if synthetic is None:
        from ..data import is_synthetic

        synthetic = is_synthetic(data_dir)
    return bool(synthetic)


def run_evidence(
    year: int,
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    language: str = "zh",
    notebooks: Sequence[str] | None = None,
    workers: int = 2,
    timeout: int = DEFAULT_TIMEOUT,
    progress: bool = True,
    *,
    notebooks_dir: str | os.PathLike | None = None,
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
    synthetic: bool | None = None,
    check_data: bool = True,
    pdf: bool = False,
    keep_extra: bool = False,
    allow_missing: bool = False,
) -> EvidencePack:
    """Run the evidence notebooks and write the evidence pack to ``out_dir`` atomically.

    Each notebook runs in a fresh ``python3`` kernel (over IPC) with the notebooks folder as its
    working directory and the parameters ``year``, ``data_dir`` (absolute), ``language`` and
    ``output_dir`` (the pack being built) plus its own extras. Notebooks run ``workers`` at a
    time; summary notebooks (numbered 90-98, which read the others' saved headlines) run after
    the rest. Everything is written to a temporary folder beside ``out_dir``, which replaces
    ``out_dir`` only when no notebook failed; otherwise the previous pack is left untouched, the
    partial executed notebooks and their HTML (with papermill's red error banner) are saved in
    ``<out_dir>.failed/<UTC time>/`` (the last five runs are kept), and :class:`PipelineError`
    is raised.

    The pack folder is guarded (see :mod:`evalkit.pipeline.pack`): ``out_dir`` is replaced only
    when it is an evidence pack evalkit wrote and holds no file its manifest does not list; one
    build at a time holds ``.NAME.lock`` beside it; SIGTERM, SIGINT and SIGHUP end the workers
    and kernels, remove the build folder and raise :class:`BuildStopped`; a build that died
    (SIGKILL, power cut) is cleaned up by the next one. The manifest lists every file of the pack
    but itself; its SHA-256 is returned and written to ``<out_dir>.manifest.sha256``.

    Parameters
    ----------
    year : int
        Last year of the evaluation (the data must reach it).
    data_dir : path-like
        Folder with the panel and the other input tables (``data_raw/demo`` for the demo).
    out_dir : path-like
        Pack folder to create or replace (e.g. ``reports/2025``). An existing non-empty folder
        that is not an evidence pack is refused.
    language : {"zh", "en"}
        Language of the notebooks' text and of the index page.
    notebooks : sequence of str, optional
        Notebook names or two-digit numbers to run; default every ``NN_*.ipynb``. The pack then
        holds only those notebooks.
    workers : int
        Notebooks executed at the same time (2 suits a 2-core machine).
    timeout : int
        Seconds any single cell may run before its notebook is stopped as failed.
    progress : bool
        Print a line on stderr when each notebook starts and finishes.
    notebooks_dir : path-like, optional
        Folder of the notebooks; default :func:`default_notebooks_dir`.
    parameters : mapping, optional
        Extra parameters per notebook, ``{"50_allocation_lab": {"spec": "..."}}``; names and
        types are checked against each notebook's parameters cell.
    synthetic : bool, optional
        Whether the data are synthetic (index banner); default: read from the panel's
        ``attrs["synthetic"]``.
    pdf : bool
        Also print every page to an A4 PDF and write the combined ``evidence_pack.pdf`` with
        headless Chromium (:func:`evalkit.report.pdf.write_pack_pdfs`); without Chromium no PDF
        is written and a line says so.
    check_data : bool
        Load and validate the panel with :func:`evalkit.data.load_panel` before starting any
        kernel, so bad data fail fast with the validation report.
    keep_extra : bool
        Accept a pack at ``out_dir`` holding files its manifest does not list: they are moved
        into the new pack's ``extra/`` folder and listed in its manifest as user files (kept in
        every later build). Without it such a pack is refused, naming the files.
    allow_missing : bool, default False
        Accept missing unit-years (expected: every unit active in a year, for every year from
        the data's first year to ``year``); the notebooks then run on the unbalanced panel and
        each page says so. Without it, missing unit-years are refused before any notebook runs.

    Returns
    -------
    EvidencePack
        The finished pack (with ``manifest_sha256``).

    Raises
    ------
    EvalkitError
        For bad arguments, unknown notebooks or parameters (``year``, ``data_dir``, ``language``
        and ``output_dir`` cannot be given per notebook), invalid data, or an ``out_dir`` that
        cannot take the pack (:class:`PackFolderError`: not a pack, user files, another build
        running, a mount point, not writable); all before any notebook runs.
    PipelineError
        When a notebook failed, timed out or its kernel died; the message names each failed
        notebook, the cell index and the exception, and where the partial notebook was saved.
    BuildStopped
        When a stop signal ended the build (a :class:`PipelineError`).

    Examples
    --------
    >>> pack = run_evidence(2025, "data_raw/demo", "reports/2025")  # doctest: +SKIP
    >>> pack.manifest_sha256  # doctest: +SKIP
    '9b1f...'
    """
    args = _checked_arguments(year, data_dir, out_dir, language, notebooks, workers, timeout,
                              notebooks_dir, parameters)
    # refuse a foreign --out, user files, a mount point or an unwritable place before anything
    # runs (checked again once the lock is held)
    inspect_out(args.out_path, keep_extra=keep_extra)
    check_out_location(args.out_path)
    build = _Build(args=args, token=new_token(), progress=progress, synthetic=synthetic,
                   check_data=check_data, pdf=pdf, keep_extra=keep_extra,
                   allow_missing=allow_missing)
    with StopSignals() as signals:
        try:
            _open_build(build)
            runs = _run_notebooks(build)
            manifest = _finish_pack(build, runs)
            return _place(build, signals, runs, manifest)
        except BuildStopped as exc:
            raise BuildStopped(exc.signum, _stopped_message(exc.signum, args.out_path)) from None
        except OSError as exc:
            if build.placed:
                raise
            raise _file_error(exc, args.out_path) from exc
        finally:
            signals.disarm()  # finish the clean-up whatever arrives now
            build.group.stop(kill=not build.placed)
            if build.work is not None:
                shutil.rmtree(build.work, ignore_errors=True)
            build.lock.release()


@dataclass
class _Arguments:
    """The checked arguments of one run."""

    year: int
    language: str
    workers: int
    timeout: float
    data_path: Path
    out_path: Path
    nb_dir: Path
    selected: list[Path]
    extras: dict[str, Mapping[str, Any]]


@dataclass
class _Build:
    """The state of one run while it builds: its lock, process group, folders and notes."""

    args: _Arguments
    token: str
    progress: bool
    synthetic: bool | None
    check_data: bool
    pdf: bool
    keep_extra: bool
    allow_missing: bool
    lock: BuildLock = field(init=False)
    group: BuildGroup = field(init=False)
    notes: list[str] = field(default_factory=list)
    work: Path | None = None
    placed: bool = False
    state: Any = None
    tasks: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    user_files: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = BuildLock(self.args.out_path)
        self.group = BuildGroup(self.token)

    @property
    def pack(self) -> Path:
        """The pack being built (inside the build folder)."""
        return self.work / "pack"

    def note(self, text: str) -> None:
        """Record what the run did besides building and say it on stderr."""
        self.notes.append(text)
        print(f"evalkit: note: {text}", file=sys.stderr, flush=True)


def _checked_arguments(
    year: int,
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    language: str,
    notebooks: Sequence[str] | None,
    workers: int,
    timeout: float,
    notebooks_dir: str | os.PathLike | None,
    parameters: Mapping[str, Mapping[str, Any]] | None,
) -> _Arguments:
    """Check the arguments of :func:`run_evidence` before anything is touched."""
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
        raise EvalkitError(f"year must be an integer year such as 2025, got {year!r}.")
    check_option("language", language, LANGUAGES)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise EvalkitError(f"workers must be a positive integer, got {workers!r}.")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise EvalkitError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    data_path = Path(data_dir).expanduser().resolve()
    if not data_path.is_dir():
        raise EvalkitError(
            f"Data folder {str(data_dir)!r} does not exist. Make the demo data with "
            "`evalkit demo-data --out data_raw/demo`, or pass --data with your data folder."
        )
    out_path = Path(out_dir).expanduser().resolve()
    nb_dir = Path(notebooks_dir).resolve() if notebooks_dir else default_notebooks_dir()
    selected = discover_notebooks(nb_dir, notebooks)
    extras = dict(parameters or {})
    unknown = sorted(set(extras) - {p.stem for p in selected})
    if unknown:
        raise EvalkitError(
            f"Parameters given for notebook(s) not in this run: {unknown}. "
            f"Running: {[p.stem for p in selected]}."
        )
    for name, values in extras.items():
        for key in values:
            check_reserved_parameter(name, key)
    return _Arguments(year=year, language=language, workers=workers, timeout=timeout,
                      data_path=data_path, out_path=out_path, nb_dir=nb_dir, selected=selected,
                      extras=extras)


def _open_build(build: _Build) -> None:
    """Take the lock, clean up after a dead build, check ``--out`` again, make the build folder."""
    out_path = build.args.out_path
    dead = build.lock.acquire({"pid": os.getpid(), "pgid": None, "token": build.token})
    recover(out_path, dead, build.note)
    build.state = inspect_out(out_path, keep_extra=build.keep_extra)
    try:
        build.work = Path(
            tempfile.mkdtemp(prefix=hidden_name(out_path, "building-"), dir=out_path.parent)
        )
        (build.work / ".evalkit-build").write_text(build.token, encoding="utf-8")
    except OSError as exc:
        raise unwritable(out_path.parent, exc) from exc
    build.lock.update(work=str(build.work))
    (build.pack / "notebooks").mkdir(parents=True)


def _run_notebooks(build: _Build) -> list[NotebookRun]:
    """Check the data, execute every notebook and refuse the pack when one failed."""
    args, pack = build.args, build.pack
    build.meta = {"started_at": _now(), "t0": time.perf_counter()}
    build.meta["synthetic"] = _inspect_data(args.data_path, args.year, build.synthetic,
                                            build.check_data, build.allow_missing)
    build.tasks = make_tasks(args.selected, args.extras, args.year, args.data_path, args.language,
                             pack, build.work, args.nb_dir, args.out_path, args.timeout)
    say(
        build.progress,
        f"evidence {args.year}: {len(build.tasks)} notebook(s) from {args.nb_dir}, data "
        f"{args.data_path}, {args.workers} worker(s)",
    )
    # the index page needs evalkit.report (matplotlib); import it while the kernels work
    threading.Thread(target=preload, args=("evalkit.report",), daemon=True).start()
    with build_environment(build.token):
        build.lock.update(pgid=build.group.start())
        outcomes = execute_all(build.tasks, args.workers, build.progress, build.group)
    build.group.stop(kill=False)
    runs = [NotebookRun(**outcomes[t["name"]]) for t in build.tasks]
    failed = [r for r in runs if r.status == "failed"]
    if failed:
        out_path = args.out_path
        failed_dir = save_failures(
            pack, [r.name for r in failed], [r.describe_failure() for r in failed], out_path,
        )
        kept = "the previous pack is unchanged" if out_path.exists() else "no pack written"
        raise PipelineError(
            f"{len(failed)} notebook(s) failed; {kept} ({out_path}). "
            f"Partial notebooks and their HTML are in {failed_dir}:\n"
            + "\n".join(f"  - {r.describe_failure()}" for r in failed)
        )
    return runs


def _finish_pack(build: _Build, runs: list[NotebookRun]) -> dict[str, Any]:
    """Carry the user's files over, write the index, fonts, PDFs and the manifest; set modes."""
    args, pack, state = build.args, build.pack, build.state
    if state.kind == "pack":
        build.user_files = carry_user_files(args.out_path, state, pack)
    if state.unlisted:
        build.note(f"moved {len(state.unlisted)} user file(s) into {args.out_path.name}/extra/: "
                   + ", ".join(state.unlisted))
    finished_at = _now()
    from .index import write_index

    meta = {
        "year": args.year,
        "language": args.language,
        "data_dir": str(args.data_path),
        "synthetic": build.meta["synthetic"],
        "evalkit_version": package_versions(("evalkit",))["evalkit"],
        "git": git_commit(),
        "started_at": build.meta["started_at"],
        "finished_at": finished_at,
        "seconds": round(time.perf_counter() - build.meta["t0"], 1),
    }
    build.meta = meta
    write_index(pack, runs, meta)
    # Chinese text must render on machines without CJK fonts: one shared subset web font
    # (only the characters the pages use) is embedded in every page before hashing.
    from ..report.webfont import embed_cjk_font_in_files

    embed_cjk_font_in_files(sorted(pack.rglob("*.html")))
    if build.pdf:
        from ..report.pdf import write_pack_pdfs

        say(True, write_pack_pdfs(pack)[1])
    manifest = _build_manifest(pack, args.data_path, runs, meta, build.tasks, args.workers,
                               args.timeout, build.user_files)
    (pack / MANIFEST_NAME).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    set_modes(pack)
    return manifest


def _place(build: _Build, signals: StopSignals, runs: list[NotebookRun],
           manifest: dict[str, Any]) -> EvidencePack:
    """Swap the finished pack into place and write its digest beside it."""
    out_path = build.args.out_path
    digest = manifest_sha256(build.pack)
    try:
        swap_into_place(build.pack, out_path, signals)
    except OSError as exc:
        raise _swap_error(out_path, exc) from exc
    build.placed = True
    signals.disarm()
    write_digest(out_path, digest)
    say(build.progress, f"pack written: {out_path / 'index.html'} ({build.meta['seconds']} s)")
    return EvidencePack(path=out_path, runs=runs, manifest=manifest,
                        manifest_sha256=digest, notes=build.notes)


def _stopped_message(signum: int, out_path: Path) -> str:
    """The one line a stopped build prints: what was stopped and what was kept."""
    kept = (
        f"the previous pack {out_path} is unchanged" if out_path.exists()
        else f"no pack was written at {out_path}"
    )
    return (
        f"stopped by {signal_name(signum)}: {kept}; notebooks, workers and kernels ended, the "
        f"build folder removed. (已中止:{'原有证据包保持不变' if out_path.exists() else '未写入证据包'},"
        "临时构建文件夹已删除。)"
    )


def _file_error(exc: OSError, out_path: Path) -> PackFolderError:
    """A file-system error during the build, as a message naming the file (no traceback)."""
    where = exc.filename or out_path
    kept = "the previous pack is unchanged" if out_path.exists() else "no pack was written"
    return PackFolderError(
        f"Cannot use {where}: {exc.strerror or exc}; {kept} ({out_path}). Check that the file "
        "or folder exists and can be read (and written, for --out) and that the disk has space.\n"
        f"无法使用 {where}:{exc.strerror or exc};原有内容未改动。请检查该文件或文件夹存在且可读"
        "(--out 需可写),并且磁盘有空余空间。"
    )


def _swap_error(out_path: Path, exc: OSError) -> PackFolderError:
    return PackFolderError(
        f"The new pack could not be put in place at {out_path} ({exc.strerror or exc}); "
        f"{'the previous pack is unchanged' if out_path.exists() else 'no pack was written'}. "
        "If --out is a mount point or on another disk than its parent folder, pass a folder "
        "inside it.\n"
        f"新证据包无法放到 {out_path}({exc.strerror or exc});原有内容未改动。若 --out 是挂载点,"
        "请改用其中的子文件夹。"
    )


def _build_manifest(
    pack: Path,
    data_path: Path,
    runs: list[NotebookRun],
    meta: dict[str, Any],
    tasks: list[dict[str, Any]],
    workers: int,
    timeout: float,
    user_files: list[str] = (),
) -> dict[str, Any]:
    git = meta["git"]
    return {
        "schema": PACK_SCHEMA,
        "manifest_version": MANIFEST_VERSION,
        "tool": "evalkit evidence",
        "evalkit_version": meta["evalkit_version"],
        "parameters": {
            "year": meta["year"],
            "language": meta["language"],
            "data_dir": str(data_path),
            "workers": workers,
            "timeout": timeout,
            "notebooks": {t["name"]: _portable(t["parameters"], pack) for t in tasks},
        },
        "synthetic_data": meta["synthetic"],
        "inputs": {"root": str(data_path), "files": hash_tree(data_path)},
        "outputs": hash_tree(pack, exclude=(MANIFEST_NAME, *user_files)),
        "user_files": {rel: digest for rel, digest in hash_tree(pack).items()
                       if rel in set(user_files)},
        "notebooks": [
            {k: v for k, v in asdict(r).items() if k != "parameters"} for r in runs
        ],
        "packages": package_versions(),
        "git_commit": git["commit"] if git else None,
        "git_dirty": git["dirty"] if git else None,
        "started_at": meta["started_at"],
        "finished_at": meta["finished_at"],
        "seconds": meta["seconds"],
        "environment": environment_summary(),
    }


def _portable(params: dict[str, Any], pack: Path) -> dict[str, Any]:
    """The notebook parameters with the temporary pack path replaced by ``"."``."""
    return {k: ("." if v == str(pack) else v) for k, v in params.items()}
