"""Run the evidence notebooks with papermill and assemble an evidence pack.

:func:`run_evidence` executes every ``notebooks/NN_*.ipynb`` with typed parameters, renders each
executed notebook to two offline HTML pages (code hidden / code shown), writes ``index.html`` and
``manifest.json``, and moves the finished pack into place only when every notebook succeeded::

    reports/2025/
        index.html                      one row per notebook: status, run time, headline figures
        manifest.json                   parameters, SHA-256 of inputs and outputs, versions, times
        00_data_audit.html              the report without code
        00_data_audit.code.html         the same with code
        notebooks/00_data_audit.ipynb   the executed notebook
        results/00_data_audit.json      headline numbers saved by the notebook (evalkit.report)
        extra/                          the user's own files, only with keep_extra (listed)
    reports/2025.manifest.sha256        SHA-256 of manifest.json (the digest the build prints)
    reports/2025.failed/<UTC time>/     partial notebooks of a failed run (the last five kept)

The folders around the build (refusing a folder that is not an evalkit pack, the lock, stop
signals, clean-up after a killed build, file modes) are handled by :mod:`evalkit._pipeline_pack`.

The papermill pitfalls this module guards against (see the project's PIPELINE notes): parameter
*names* are pasted into the notebook as code, so they are whitelisted against the notebook's
``parameters`` cell with :mod:`ast`; types are checked against the declared annotations; cell
timeouts and dead kernels are not wrapped by papermill and are caught here; kernels talk over
IPC (no TCP port races when two notebooks run at once) and always use the ``python3`` kernel of
the running interpreter.

A notebook that cannot run in this installation (for instance the method-validation notebook
without the ``validation`` extra) calls :func:`skip_notebook`; the index then lists it as
skipped with the reason, and the pack is still written.
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import datetime as dt
import importlib
import json
import logging
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from ._pipeline_manifest import (
    MANIFEST_NAME,
    MANIFEST_VERSION,
    PACK_SCHEMA,
    environment_summary,
    git_commit,
    hash_tree,
    manifest_sha256,
    package_versions,
    project_root,
)
from ._pipeline_pack import (
    BUILD_ENV,
    BuildGroup,
    BuildLock,
    BuildStopped,
    PackFolderError,
    StopSignals,
    build_environment,
    carry_user_files,
    check_out_location,
    hidden_name,
    inspect_out,
    new_token,
    recover,
    save_failures,
    set_modes,
    signal_name,
    swap_into_place,
    unwritable,
    write_digest,
)
from ._shared.exceptions import EvalkitError, PipelineError
from ._shared.validation import check_option

__all__ = [
    "DEFAULT_TIMEOUT",
    "STANDARD_PARAMETERS",
    "BuildStopped",
    "EvidencePack",
    "IPCKernelManager",
    "NotebookRun",
    "NotebookSkipped",
    "PackFolderError",
    "PipelineError",
    "coerce_parameter",
    "default_notebooks_dir",
    "discover_notebooks",
    "notebook_parameters",
    "run_evidence",
    "skip_notebook",
]

#: Seconds one cell may run before the notebook is stopped as timed out.
DEFAULT_TIMEOUT = 900
#: Seconds allowed for a kernel to start (raised from papermill's 60 s for loaded machines).
START_TIMEOUT = 180
KERNEL_NAME = "python3"
#: Parameters every evidence notebook declares (DEVNOTES "Notebooks"), with their types.
STANDARD_PARAMETERS = {"year": "int", "data_dir": "str", "language": "str", "output_dir": "str"}
#: The command-line option each standard parameter comes from (never from ``-p``).
STANDARD_OPTIONS = {"year": "--year", "data_dir": "--data", "language": "--language",
                    "output_dir": "--out"}
#: Environment variable through which :func:`skip_notebook` finds its status file.
STATUS_ENV = "EVALKIT_PIPELINE_STATUS_FILE"
NOTEBOOK_RE = re.compile(r"^(\d{2})_[A-Za-z0-9][A-Za-z0-9_\-]*\.ipynb$")
#: Notebooks numbered 90-98 read the other notebooks' saved headlines and run after them.
SUMMARY_NUMBERS = range(90, 99)
LANGUAGES = ("zh", "en")


# --------------------------------------------------------------------------------------------
# Inside a notebook: declaring a skip
# --------------------------------------------------------------------------------------------
class NotebookSkipped(Exception):
    """Raised by :func:`skip_notebook` to end a notebook early without it counting as a failure."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def _render_traceback_(self) -> list[str]:  # IPython hook: a one-line message, no traceback
        return [f"Notebook skipped: {self.reason}"]


def skip_notebook(reason: str) -> None:
    """End the running notebook as *skipped*, with a reason the index page shows.

    Call it from a notebook cell when the notebook cannot run in this installation, e.g.::

        try:
            import moderndid
        except ImportError:
            pipeline.skip_notebook("needs the 'validation' extra: pip install -e '.[validation]'")

    Under :func:`run_evidence` the reason is recorded in a status file and the notebook's page and
    index row say "skipped"; the rest of the pack is written normally. Run interactively, the
    notebook simply stops with the message.

    Parameters
    ----------
    reason : str
        Why the notebook does not run and how to enable it.

    Raises
    ------
    NotebookSkipped
        Always: it stops the execution of the remaining cells.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise EvalkitError("skip_notebook(reason) needs a non-empty reason string.")
    status_file = os.environ.get(STATUS_ENV)
    if status_file:
        path = Path(status_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"status": "skipped", "reason": reason}, ensure_ascii=False),
            encoding="utf-8",
        )
    try:  # show the reason as the notebook's last output
        from IPython.display import Markdown, display

        display(Markdown(f"**Skipped / 已跳过:** {reason}"))
    except ImportError:  # pragma: no cover - IPython is a dependency of ipykernel
        pass
    raise NotebookSkipped(reason)


# --------------------------------------------------------------------------------------------
# Kernel
# --------------------------------------------------------------------------------------------
class IPCKernelManager(AsyncKernelManager):
    """Kernel manager whose kernel talks over IPC sockets instead of TCP ports.

    Two notebooks started at the same moment over TCP can race for the same port
    (``ZMQError: Address already in use``); IPC sockets live in the Jupyter runtime folder and do
    not collide. It also silences ipykernel's "running over TCP without encryption" warning.
    """

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("transport", "ipc")
        # jupyter_client's default IPC path is the *relative* "kernel-ipc" whenever the
        # connection file is not yet known, so two kernels started from the same folder share
        # sockets ("Invalid Signature" errors, then a kernel that never answers). Give each
        # kernel its own socket prefix in the temporary folder (short: sockets are limited to
        # ~100 characters).
        # The build's token in the name lets a later build remove the sockets of a killed one.
        build = os.environ.get(BUILD_ENV, "")[:8] or "nobuild0"
        kwargs.setdefault(
            "ip",
            os.path.join(tempfile.gettempdir(), f"evalkit-{build}-{uuid.uuid4().hex[:8]}-ipc"),
        )
        super().__init__(**kwargs)


# --------------------------------------------------------------------------------------------
# Discovery and parameters
# --------------------------------------------------------------------------------------------
def default_notebooks_dir() -> Path:
    """Return ``./notebooks`` if it exists, else the ``notebooks/`` folder beside the package."""
    here = Path.cwd() / "notebooks"
    if here.is_dir():
        return here.resolve()
    return project_root() / "notebooks"


def discover_notebooks(
    notebooks_dir: str | os.PathLike, select: Sequence[str] | None = None
) -> list[Path]:
    """List the evidence notebooks ``NN_name.ipynb`` of a folder, in number order.

    Parameters
    ----------
    notebooks_dir : path-like
        Folder holding the output-free ``.ipynb`` files.
    select : sequence of str, optional
        Notebook names (``"00_data_audit"``, with or without ``.ipynb``) or two-digit numbers
        (``"00"``); ``None`` selects every notebook.

    Returns
    -------
    list of Path
        The selected notebooks.

    Raises
    ------
    EvalkitError
        When the folder does not exist, holds no notebook, or a selected name matches none.
    """
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise EvalkitError(
            f"Notebook folder {str(folder)!r} does not exist. Pass --notebooks-dir, or run from "
            "the evalkit repository root (which has notebooks/)."
        )
    found = sorted(p for p in folder.iterdir() if NOTEBOOK_RE.match(p.name))
    if not found:
        raise EvalkitError(
            f"No notebooks named NN_name.ipynb in {str(folder)!r}. Generate them from the "
            "jupytext .py files: jupytext --to ipynb notebooks/NN_name.py"
        )
    if select is None:
        return found
    chosen: list[Path] = []
    unknown = []
    for item in select:
        key = str(item).removesuffix(".ipynb")
        hits = [p for p in found if p.stem == key or (len(key) == 2 and p.name[:2] == key)]
        if not hits:
            unknown.append(str(item))
        chosen.extend(h for h in hits if h not in chosen)
    if unknown:
        names = ", ".join(p.stem for p in found)
        raise EvalkitError(
            f"Unknown notebook(s): {', '.join(unknown)}. Available in {str(folder)!r}: {names}."
        )
    return sorted(chosen)


def notebook_parameters(path: str | os.PathLike) -> dict[str, str | None]:
    """Read the declared parameters of a notebook's ``parameters`` cell with :mod:`ast`.

    Parameters
    ----------
    path : path-like
        An ``.ipynb`` file.

    Returns
    -------
    dict
        ``{name: annotation}`` where annotation is the source text of the type (``"int"``,
        ``"str"``...) or ``None`` for an un-annotated ``name = value`` line.

    Raises
    ------
    EvalkitError
        When the notebook has no cell tagged ``parameters`` (papermill would then inject the
        values at the top, where the notebook's own assignments silently override them), or the
        cell is not valid Python.
    """
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise EvalkitError(
            f"Notebook {path.name} has no cell tagged 'parameters'. Mark its first code cell "
            '`# %% tags=["parameters"]` in the jupytext .py file and regenerate the .ipynb.'
        )
    declared: dict[str, str | None] = {}
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as exc:
            raise EvalkitError(
                f"The parameters cell of {path.name} is not valid Python ({exc.msg}, line "
                f"{exc.lineno}). Keep it to lines `name: type = literal  # help`."
            ) from exc
        for node in tree.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                declared[node.target.id] = ast.unparse(node.annotation)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        declared[target.id] = None
    return declared


_TYPE_CHECKS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict),
}
_LITERAL_TYPES = (str, int, float, bool, type(None), list, dict)


def _check_literal(value: Any) -> bool:
    if isinstance(value, list):
        return all(_check_literal(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _check_literal(v) for k, v in value.items())
    return isinstance(value, _LITERAL_TYPES)


def check_parameters(
    notebook: str | os.PathLike, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """Check parameter names and types against a notebook's ``parameters`` cell.

    Papermill pastes parameter *names* verbatim into the notebook as code, so a name such as
    ``'y = 0; import os; z'`` would run. Only names declared in the parameters cell pass.

    Parameters
    ----------
    notebook : path-like
        The ``.ipynb`` file.
    parameters : mapping
        Proposed ``{name: value}``.

    Returns
    -------
    dict
        The parameters, unchanged, once checked.

    Raises
    ------
    EvalkitError
        Naming every unknown parameter, and every value whose type contradicts the declared
        annotation (``int``, ``float``, ``str``, ``bool``, ``list``, ``dict``).
    """
    path = Path(notebook)
    declared = notebook_parameters(path)
    problems = []
    unknown = [name for name in parameters if name not in declared]
    if unknown:
        problems.append(
            f"unknown parameter(s) {unknown!r}; {path.name} declares: {sorted(declared)}"
        )
    for name, value in parameters.items():
        if name in unknown:
            continue
        if not _check_literal(value):
            problems.append(
                f"{name}={value!r} is a {type(value).__name__}; pass str, int, float, bool, "
                "None, or lists/dicts of those"
            )
            continue
        annotation = declared.get(name)
        check = _TYPE_CHECKS.get(annotation or "")
        if check is not None and not check(value):
            problems.append(
                f"{name}={value!r} is a {type(value).__name__}, but the parameters cell "
                f"declares `{name}: {annotation}`"
            )
    if problems:
        raise EvalkitError(
            f"Bad parameters for notebook {path.name}:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return dict(parameters)


def coerce_parameter(notebook: str | os.PathLike, name: str, text: str) -> Any:
    """Convert a command-line parameter value to the type the notebook declares for it.

    Unlike papermill's ``-p`` guessing, ``"01234"`` stays a string when the parameter is a
    ``str`` and ``"false"`` becomes ``False`` for a ``bool``.

    Parameters
    ----------
    notebook : path-like
        The ``.ipynb`` file.
    name : str
        Parameter name (must be declared in the parameters cell).
    text : str
        The value as typed.

    Returns
    -------
    object
        The typed value.

    Raises
    ------
    EvalkitError
        When the name is not declared or the text cannot be read as the declared type.
    """
    path = Path(notebook)
    declared = notebook_parameters(path)
    if name not in declared:
        raise EvalkitError(
            f"unknown parameter {name!r} for {path.name}; it declares: {sorted(declared)}"
        )
    annotation = declared[name] or ""
    try:
        if annotation == "str":
            return text
        if annotation == "int":
            return int(text)
        if annotation == "float":
            return float(text)
        if annotation == "bool":
            low = text.strip().lower()
            if low in {"true", "1", "yes"}:
                return True
            if low in {"false", "0", "no"}:
                return False
            raise ValueError(text)
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise EvalkitError(
            f"Cannot read {text!r} as the {annotation or 'Python literal'} that {path.name} "
            f"declares for parameter {name!r}."
        ) from exc


def check_reserved_parameter(notebook: str, name: str) -> None:
    """Refuse a ``-p`` value for a parameter that must come from the command itself.

    ``year``, ``data_dir``, ``language`` and ``output_dir`` say what the pack is; a notebook
    given another value would show a page that contradicts the pack (a 2024 page in a 2025
    pack) or write its results outside the pack.

    Parameters
    ----------
    notebook : str
        Notebook name (for the message).
    name : str
        Parameter name.

    Raises
    ------
    EvalkitError
        When ``name`` is one of :data:`STANDARD_PARAMETERS`.

    Examples
    --------
    >>> check_reserved_parameter("50_allocation_lab", "spec")  # fine: a notebook's own parameter
    """
    if name in STANDARD_PARAMETERS:
        option = STANDARD_OPTIONS[name]
        raise EvalkitError(
            f"-p {notebook}:{name}=...: the parameter {name!r} comes from the command ({option}), "
            "never from -p, so that no page can contradict its pack (another year, data or "
            f"language) or write outside it. Use {option} for the whole run.\n"
            f"-p {notebook}:{name}=...:参数 {name!r} 只能由命令本身的 {option} 给出,不能用 -p 修改,"
            f"以免某一页与证据包的年份、数据、语言或位置不一致。请对整个运行使用 {option}。"
        )


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass
class NotebookRun:
    """The outcome of one notebook of an evidence run.

    Attributes
    ----------
    name : str
        Notebook name without ``.ipynb``.
    status : {"ok", "failed", "skipped", "not run"}
        ``"not run"``: a summary notebook left out because an earlier notebook failed.
    seconds : float
        Wall time of the execution.
    title : str
        First markdown heading of the notebook.
    reason : str or None
        Skip reason, or the failure in one line.
    cell_index, exec_count, ename, evalue : optional
        Where and how a failed notebook stopped: the cell's index in the executed notebook
        (counting the injected parameters cell), its ``In [n]`` execution count, the exception
        class and message.
    parameters : dict
        The parameters it ran with.
    """

    name: str
    status: str
    seconds: float = 0.0
    title: str = ""
    reason: str | None = None
    cell_index: int | None = None
    exec_count: int | None = None
    ename: str | None = None
    evalue: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    def describe_failure(self) -> str:
        """One line naming the notebook, the cell and the exception."""
        if self.cell_index is None:
            where = "an unknown cell (the kernel did not get that far)"
        else:
            where = f"cell {self.cell_index}"
            if self.exec_count is not None:
                where += f" (In [{self.exec_count}])"
        return f"{self.name}.ipynb failed at {where}: {self.ename}: {self.evalue}"


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


# --------------------------------------------------------------------------------------------
# Executing one notebook (runs in a worker process)
# --------------------------------------------------------------------------------------------
def _running_cell_index(output_path: Path) -> int | None:
    """Index of the last cell papermill started (the one that timed out or killed the kernel).

    Papermill saves the output notebook when each cell starts and marks it completed even when
    nbclient raised a timeout, so the stopped cell is the last one with a start time.
    """
    import nbformat

    try:
        nb = nbformat.read(output_path, as_version=4)
    except (OSError, ValueError):
        return None
    started = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.get("metadata", {}).get("papermill", {}).get("start_time")
    ]
    return started[-1] if started else None


def _preload(module: str) -> None:
    """Import ``module`` (in a background thread) so that its later import is instant."""
    try:
        importlib.import_module(module)
    except Exception:  # noqa: BLE001 - the real import later reports any problem
        pass


def _execute_task(task: dict[str, Any]) -> dict[str, Any]:
    """Execute one notebook and export its HTML; never raises (the outcome is returned)."""
    import nbformat
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    # Parameter names and types were checked with ast (check_parameters); papermill's own
    # regex-based reading of the parameters cell only adds misleading "unknown parameter" noise.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    # Import the HTML exporter while the kernel runs the notebook: nbconvert's import costs
    # about a second on an idle machine (far more on a loaded one) and this process only waits.
    threading.Thread(target=_preload, args=("evalkit._pipeline_html",), daemon=True).start()
    name = task["name"]
    output_ipynb = Path(task["output_ipynb"])
    status_file = Path(task["status_file"])
    os.environ[STATUS_ENV] = str(status_file)
    outcome: dict[str, Any] = {"name": name, "status": "ok", "parameters": task["parameters"]}
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            task["input"],
            str(output_ipynb),
            parameters=task["parameters"],
            kernel_name=KERNEL_NAME,
            kernel_manager_class=IPCKernelManager,
            cwd=task["cwd"],
            progress_bar=False,
            log_output=False,
            execution_timeout=task["timeout"],
            start_timeout=START_TIMEOUT,
            report_mode=False,
        )
    except pm.PapermillExecutionError as exc:
        outcome.update(
            status="failed",
            cell_index=exc.cell_index,
            exec_count=exc.exec_count,
            ename=exc.ename,
            evalue=exc.evalue,
        )
    except CellTimeoutError:
        outcome.update(
            status="failed",
            cell_index=_running_cell_index(output_ipynb),
            ename="CellTimeoutError",
            evalue=f"the cell ran longer than the {task['timeout']} s timeout",
        )
    except DeadKernelError as exc:
        outcome.update(
            status="failed",
            cell_index=_running_cell_index(output_ipynb),
            ename="DeadKernelError",
            evalue=f"the kernel died while running the cell (out of memory?): {exc}",
        )
    except Exception as exc:  # kernel missing, unreadable notebook...: report, do not crash the pool
        outcome.update(
            status="failed",
            cell_index=_running_cell_index(output_ipynb) if output_ipynb.exists() else None,
            ename=type(exc).__name__,
            evalue=str(exc),
        )
    outcome["seconds"] = round(time.perf_counter() - start, 2)
    if status_file.exists():
        status = json.loads(status_file.read_text(encoding="utf-8"))
        if status.get("status") == "skipped":
            outcome.update(
                status="skipped",
                reason=status.get("reason"),
                cell_index=None,
                exec_count=None,
                ename=None,
                evalue=None,
            )
    if outcome["status"] == "failed":
        outcome["reason"] = f"{outcome['ename']}: {outcome['evalue']}"
    outcome["title"] = name
    if output_ipynb.exists():
        from ._pipeline_html import export_html, notebook_title, strip_skip_traceback

        try:
            nb = nbformat.read(output_ipynb, as_version=4)
            outcome["title"] = notebook_title(nb, name)
            if outcome["status"] == "skipped":
                nb = strip_skip_traceback(nb)
            # show the pack's final place, not the temporary build folder, in the parameters
            for cell in nb.cells:
                if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                    cell.source = cell.source.replace(
                        repr(task["parameters"]["output_dir"]), repr(task["final_out"])
                    ).replace(json.dumps(task["parameters"]["output_dir"]), json.dumps(task["final_out"]))
            nbformat.write(nb, output_ipynb)
            export_html(
                nb,
                Path(task["html"]),
                title=outcome["title"],
                language=task["parameters"].get("language", "zh"),
            )
            if outcome["status"] == "ok":  # nothing from Python may reach a page (issue 12)
                from ._pipeline_html import describe_problems, page_problems

                found = page_problems(nb, task["parameters"].get("language", "zh"),
                                      figure_log=status_file.with_suffix(".figures.jsonl"))
                mode = os.environ.get("EVALKIT_PAGE_CHECK", "fail")  # "warn": report on stderr, keep the page
                if found and mode == "warn":
                    print(describe_problems(name, found), file=sys.stderr, flush=True)
                elif found:
                    message = describe_problems(name, found)
                    outcome.update(status="failed", cell_index=found[0].cell_index, exec_count=found[0].exec_count,
                                   ename="PageHygieneError", evalue=message, reason=message)
        except Exception as exc:  # an export failure is a failure of this notebook
            if outcome["status"] != "failed":
                outcome.update(
                    status="failed",
                    cell_index=None,
                    ename=type(exc).__name__,
                    evalue=f"HTML export failed: {exc}",
                    reason=f"HTML export failed: {exc}",
                )
    return outcome


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------
def _say(progress: bool, text: str) -> None:
    if progress:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        print(f"[{stamp}] {text}", file=sys.stderr, flush=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _stage(path: Path) -> int:
    return 1 if int(path.name[:2]) in SUMMARY_NUMBERS else 0


def _inspect_data(data_dir: Path, year: int, synthetic: bool | None, check_data: bool,
                  allow_missing: bool = False) -> bool:
    """Validate the panel once before any kernel starts; return whether the data are synthetic."""
    if check_data:
        try:
            from .data import load_panel
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
        from .data import is_synthetic

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

    The pack folder is guarded (see :mod:`evalkit._pipeline_pack`): ``out_dir`` is replaced only
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
    # refuse a foreign --out, user files, a mount point or an unwritable place before anything
    # runs (checked again once the lock is held)
    inspect_out(out_path, keep_extra=keep_extra)
    check_out_location(out_path)

    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(text)
        print(f"evalkit: note: {text}", file=sys.stderr, flush=True)

    token = new_token()
    lock = BuildLock(out_path)
    group = BuildGroup(token)
    work: Path | None = None
    placed = False
    with StopSignals() as signals:
        try:
            dead = lock.acquire({"pid": os.getpid(), "pgid": None, "token": token})
            recover(out_path, dead, note)
            state = inspect_out(out_path, keep_extra=keep_extra)
            try:
                work = Path(
                    tempfile.mkdtemp(prefix=hidden_name(out_path, "building-"), dir=out_path.parent)
                )
                (work / ".evalkit-build").write_text(token, encoding="utf-8")
            except OSError as exc:
                raise unwritable(out_path.parent, exc) from exc
            lock.update(work=str(work))
            pack = work / "pack"
            (pack / "notebooks").mkdir(parents=True)
            started_at = _now()
            t0 = time.perf_counter()
            is_synthetic = _inspect_data(data_path, year, synthetic, check_data, allow_missing)
            tasks = _make_tasks(selected, extras, year, data_path, language, pack, work, nb_dir,
                                out_path, timeout)
            _say(
                progress,
                f"evidence {year}: {len(tasks)} notebook(s) from {nb_dir}, data {data_path}, "
                f"{workers} worker(s)",
            )
            # the index page needs evalkit.report (matplotlib); import it while the kernels work
            threading.Thread(target=_preload, args=("evalkit.report",), daemon=True).start()
            with build_environment(token):
                lock.update(pgid=group.start())
                outcomes = _execute_all(tasks, workers, progress, group)
            group.stop(kill=False)
            runs = [NotebookRun(**outcomes[t["name"]]) for t in tasks]
            failed = [r for r in runs if r.status == "failed"]
            if failed:
                failed_dir = save_failures(
                    pack, [r.name for r in failed], [r.describe_failure() for r in failed],
                    out_path,
                )
                kept = "the previous pack is unchanged" if out_path.exists() else "no pack written"
                raise PipelineError(
                    f"{len(failed)} notebook(s) failed; {kept} ({out_path}). "
                    f"Partial notebooks and their HTML are in {failed_dir}:\n"
                    + "\n".join(f"  - {r.describe_failure()}" for r in failed)
                )
            user_files = carry_user_files(out_path, state, pack) if state.kind == "pack" else []
            if state.unlisted:
                note(f"moved {len(state.unlisted)} user file(s) into {out_path.name}/extra/: "
                     + ", ".join(state.unlisted))
            finished_at = _now()
            from ._pipeline_index import write_index

            meta = {
                "year": year,
                "language": language,
                "data_dir": str(data_path),
                "synthetic": is_synthetic,
                "evalkit_version": package_versions(("evalkit",))["evalkit"],
                "git": git_commit(),
                "started_at": started_at,
                "finished_at": finished_at,
                "seconds": round(time.perf_counter() - t0, 1),
            }
            write_index(pack, runs, meta)
            # Chinese text must render on machines without CJK fonts: one shared subset web font
            # (only the characters the pages use) is embedded in every page before hashing.
            from .report.webfont import embed_cjk_font_in_files

            embed_cjk_font_in_files(sorted(pack.rglob("*.html")))
            if pdf:
                from .report.pdf import write_pack_pdfs

                _say(True, write_pack_pdfs(pack)[1])
            manifest = _build_manifest(pack, data_path, runs, meta, tasks, workers, timeout,
                                       user_files)
            (pack / MANIFEST_NAME).write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
            )
            set_modes(pack)
            digest = manifest_sha256(pack)
            try:
                swap_into_place(pack, out_path, signals)
            except OSError as exc:
                raise _swap_error(out_path, exc) from exc
            placed = True
            signals.disarm()
            write_digest(out_path, digest)
            _say(progress, f"pack written: {out_path / 'index.html'} ({meta['seconds']} s)")
            return EvidencePack(path=out_path, runs=runs, manifest=manifest,
                                manifest_sha256=digest, notes=notes)
        except BuildStopped as exc:
            raise BuildStopped(exc.signum, _stopped_message(exc.signum, out_path)) from None
        except OSError as exc:
            if placed:
                raise
            raise _file_error(exc, out_path) from exc
        finally:
            signals.disarm()  # finish the clean-up whatever arrives now
            group.stop(kill=not placed)
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)
            lock.release()


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


def _make_tasks(
    selected: list[Path],
    extras: dict[str, Mapping[str, Any]],
    year: int,
    data_path: Path,
    language: str,
    pack: Path,
    work: Path,
    nb_dir: Path,
    out_path: Path,
    timeout: float,
) -> list[dict[str, Any]]:
    """One task per notebook: its checked parameters and where its outputs go."""
    tasks = []
    for path in selected:
        params = {
            "year": year,
            "data_dir": str(data_path),
            "language": language,
            "output_dir": str(pack),
        }
        declared = notebook_parameters(path)
        missing = [f"{k}: {v}" for k, v in STANDARD_PARAMETERS.items() if k not in declared]
        if missing:
            raise EvalkitError(
                f"Notebook {path.name} does not declare the standard parameter(s) "
                f"{missing} in its parameters cell; every evidence notebook declares "
                "year, data_dir, language and output_dir (DEVNOTES 'Notebooks')."
            )
        params.update(extras.get(path.stem, {}))
        check_parameters(path, params)
        tasks.append(
            {
                "name": path.stem,
                "stage": _stage(path),
                "input": str(path),
                "output_ipynb": str(pack / "notebooks" / path.name),
                "html": str(pack / f"{path.stem}.html"),
                "status_file": str(work / "status" / f"{path.stem}.json"),
                "cwd": str(nb_dir),
                "final_out": str(out_path),
                "timeout": timeout,
                "parameters": params,
            }
        )
    return tasks


def _execute_all(
    tasks: list[dict[str, Any]], workers: int, progress: bool, group: BuildGroup | None = None
) -> dict[str, dict[str, Any]]:
    """Run the tasks in stage order, at most ``workers`` at a time, in spawned processes.

    The workers join ``group`` (the build's process group); if anything interrupts the run (a
    stop signal), the group is ended before the pool is let go, so no worker finishes its
    notebook behind the build's back.
    """
    ctx = multiprocessing.get_context("spawn")
    join = {"initializer": BuildGroup.join, "initargs": (group.pgid,)} if group else {}
    pool = cf.ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx, **join)
    try:
        outcomes = _run_stages(pool, tasks, workers, progress)
    except BaseException:
        if group is not None:
            group.stop(kill=True)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return outcomes


def _run_stages(
    pool: cf.ProcessPoolExecutor, tasks: list[dict[str, Any]], workers: int, progress: bool
) -> dict[str, dict[str, Any]]:
    """Submit the tasks stage by stage and collect their outcomes as they finish."""
    outcomes: dict[str, dict[str, Any]] = {}
    total = len(tasks)
    counter = 0
    for stage in (0, 1):
        queue = [t for t in tasks if t["stage"] == stage]
        if stage == 1 and any(o["status"] == "failed" for o in outcomes.values()):
            for t in queue:
                outcomes[t["name"]] = {
                    "name": t["name"],
                    "status": "not run",
                    "reason": "not run: an earlier notebook failed",
                    "parameters": t["parameters"],
                }
                _say(progress, f"[  -/{total}] not run {t['name']} (an earlier one failed)")
            continue
        running: dict[cf.Future, dict[str, Any]] = {}
        while queue or running:
            while queue and len(running) < workers:
                task = queue.pop(0)
                counter += 1
                task["number"] = counter
                _say(progress, f"[{counter:>3}/{total}] start   {task['name']}")
                running[pool.submit(_execute_task, task)] = task
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in done:
                task = running.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker process itself died
                    outcome = {
                        "name": task["name"],
                        "status": "failed",
                        "ename": type(exc).__name__,
                        "evalue": f"worker process failed: {exc}",
                        "reason": f"worker process failed: {exc}",
                        "parameters": task["parameters"],
                    }
                outcomes[task["name"]] = outcome
                detail = f" ({outcome.get('reason')})" if outcome["status"] != "ok" else ""
                _say(
                    progress,
                    f"[{task['number']:>3}/{total}] {outcome['status']:<7} {task['name']} "
                    f"{outcome.get('seconds', 0):.1f} s{detail}",
                )
    return outcomes


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
