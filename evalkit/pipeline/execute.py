"""Executing the evidence notebooks: kernels, worker processes and each notebook's outcome.

Each notebook runs with papermill in a fresh ``python3`` kernel that talks over IPC (no TCP port
races when two notebooks run at once), in a spawned worker process of the build's process
group. Cell timeouts and dead kernels are not wrapped by papermill and are caught here. A
notebook that cannot run in this installation calls :func:`skip_notebook`.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import importlib
import json
import logging
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from .._shared.exceptions import EvalkitError
from .processes import BUILD_ENV, BuildGroup

#: Seconds one cell may run before the notebook is stopped as timed out.
DEFAULT_TIMEOUT = 900
#: Seconds allowed for a kernel to start (raised from papermill's 60 s for loaded machines).
START_TIMEOUT = 180
KERNEL_NAME = "python3"
#: Environment variable through which :func:`skip_notebook` finds its status file.
STATUS_ENV = "EVALKIT_PIPELINE_STATUS_FILE"


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


def preload(module: str) -> None:
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
    threading.Thread(target=preload, args=("evalkit.pipeline.html",), daemon=True).start()
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
        from .html import export_html, notebook_title, strip_skip_traceback

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
                from .html import describe_problems, page_problems

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



def say(progress: bool, text: str) -> None:
    if progress:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        print(f"[{stamp}] {text}", file=sys.stderr, flush=True)


def execute_all(
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
                say(progress, f"[  -/{total}] not run {t['name']} (an earlier one failed)")
            continue
        running: dict[cf.Future, dict[str, Any]] = {}
        while queue or running:
            while queue and len(running) < workers:
                task = queue.pop(0)
                counter += 1
                task["number"] = counter
                say(progress, f"[{counter:>3}/{total}] start   {task['name']}")
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
                say(
                    progress,
                    f"[{task['number']:>3}/{total}] {outcome['status']:<7} {task['name']} "
                    f"{outcome.get('seconds', 0):.1f} s{detail}",
                )
    return outcomes
