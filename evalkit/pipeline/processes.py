"""The processes of an evidence build: its process group, stop signals and clean-up.

:class:`BuildGroup` runs the notebook workers in a process group of their own, led by a small
watchdog that ends the group when the build dies (even by SIGKILL); :class:`StopSignals` turns
SIGTERM, SIGINT and SIGHUP into :class:`BuildStopped` so the build can end its workers and
kernels and remove its folder; :func:`end_processes` finds and ends what a dead build left
(every process carrying its token in ``EVALKIT_BUILD_TOKEN``). Used by
:mod:`evalkit.pipeline.pack` (recovery) and :mod:`evalkit.pipeline.build` (the run).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._shared.exceptions import PipelineError

#: Environment variable carrying a build's token into its workers, kernels and watchdog, so that
#: a later build can find (and end) exactly the processes a dead build left behind.
BUILD_ENV = "EVALKIT_BUILD_TOKEN"
#: Seconds to wait for killed processes to disappear.
KILL_WAIT = 5.0
_STOP_SIGNALS = tuple(
    s for s in (getattr(signal, n, None) for n in ("SIGTERM", "SIGINT", "SIGHUP")) if s
)


class BuildStopped(PipelineError):
    """The build was stopped by a signal; its workers, kernels and build folder are gone.

    Attributes
    ----------
    signum : int
        The signal received.
    exit_code : int
        ``128 + signum``, the shell's convention for a process ended by a signal.
    """

    def __init__(self, signum: int, message: str = ""):
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        super().__init__(message or f"stopped by {signal_name(signum)}")


def signal_name(signum: int) -> str:
    """``"SIGTERM"`` for 15 and so on."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"



# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------
def _proc_start_ticks(pid: int) -> int | None:
    """Start time of a process in clock ticks since boot (Linux), to tell a reused PID apart."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(text.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def boot_id() -> str | None:
    """This boot's id (Linux), to tell whether a recorded process can still be running."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def processes_of(token: str, exclude: set[int] = frozenset()) -> list[int]:
    """PIDs of the live processes started with ``EVALKIT_BUILD_TOKEN=token`` (Linux ``/proc``).

    Parameters
    ----------
    token : str
        A build's token.
    exclude : set of int
        PIDs to leave out.

    Returns
    -------
    list of int
        Sorted PIDs (empty where ``/proc`` is not available).
    """
    needle = b"\0" + f"{BUILD_ENV}={token}".encode() + b"\0"
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) in exclude:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read()
        except OSError:
            continue
        if needle in b"\0" + env + b"\0":
            found.append(int(entry))
    return sorted(found)


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _own_helpers() -> set[int]:
    """This process and its multiprocessing resource tracker (never killed by a scan)."""
    keep = {os.getpid()}
    try:
        from multiprocessing import resource_tracker

        pid = getattr(resource_tracker._resource_tracker, "_pid", None)
        if pid:
            keep.add(int(pid))
    except Exception:  # noqa: BLE001 - best effort
        pass
    return keep


def end_processes(token: str, group: int | None) -> list[int]:
    """End (SIGKILL) a build's process group and every process carrying its token.

    The group is signalled only when one of its members carries the token (a reused group id
    is left alone). Waits up to :data:`KILL_WAIT` seconds for them to disappear.

    Parameters
    ----------
    token : str
        The build's token.
    group : int or None
        The build's process-group id.

    Returns
    -------
    list of int
        The PIDs that were ended.
    """
    exclude = _own_helpers()
    pids = processes_of(token, exclude)
    own_group = os.getpgrp()
    if group and group > 1 and group != own_group:
        members = [p for p in pids if _pgid(p) == group]
        if members or not Path("/proc").is_dir():
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + KILL_WAIT
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return pids


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def remove_ipc_sockets(token: str) -> None:
    """Remove the kernel IPC socket files a build's kernels left in the temporary folder."""
    prefix = f"evalkit-{token[:8]}-"
    tmp = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for path in tmp.glob(prefix + "*"):
            if not path.is_dir():
                with contextlib.suppress(OSError):
                    path.unlink()


_WATCHDOG = (
    "import os, signal, sys\n"
    "for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
    "    signal.signal(s, signal.SIG_IGN)\n"
    "sys.stdin.buffer.read()\n"  # returns when the build closes the pipe or dies
    "os.killpg(0, signal.SIGKILL)\n"
)


class BuildGroup:
    """The process group of a build's workers, led by a watchdog that ends it with the build.

    The watchdog is a tiny Python process in a new process group; workers join that group
    (:meth:`join`, a pool initializer). It reads its stdin, a pipe from the build, and kills the
    whole group when the pipe closes: when the build finishes, stops, or is killed (even with
    SIGKILL). Kernels, which Jupyter starts in sessions of their own, leave when their worker
    does (ipykernel polls its parent) and carry the build's token for :func:`end_processes`.

    Parameters
    ----------
    token : str
        The build's token (``EVALKIT_BUILD_TOKEN`` of every process it starts).
    """

    def __init__(self, token: str):
        self.token = token
        self._proc: subprocess.Popen | None = None

    @property
    def pgid(self) -> int | None:
        """The group id (the watchdog's PID), or ``None`` before :meth:`start`."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> int:
        """Start the watchdog; return the group id."""
        env = dict(os.environ, **{BUILD_ENV: self.token})
        self._proc = subprocess.Popen(
            [sys.executable, "-S", "-c", _WATCHDOG],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            process_group=0,
        )
        return self._proc.pid

    @staticmethod
    def join(pgid: int) -> None:
        """Move the calling process (a pool worker) into the build's group."""
        with contextlib.suppress(OSError):
            os.setpgid(0, pgid)

    def stop(self, *, kill: bool) -> list[int]:
        """End the group: at once (``kill=True``, a stop) or after the workers left (finish)."""
        ended: list[int] = []
        if kill:
            ended = end_processes(self.token, self.pgid)
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=KILL_WAIT)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        remove_ipc_sockets(self.token)
        return ended


@contextlib.contextmanager
def build_environment(token: str) -> Iterator[None]:
    """Set ``EVALKIT_BUILD_TOKEN`` while the build starts its workers, then restore it."""
    previous = os.environ.get(BUILD_ENV)
    os.environ[BUILD_ENV] = token
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(BUILD_ENV, None)
        else:
            os.environ[BUILD_ENV] = previous


class StopSignals:
    """Turn SIGTERM, SIGINT and SIGHUP into :class:`BuildStopped` while a build runs.

    Outside the main thread (where Python cannot handle signals) it does nothing. The first
    signal raises; later ones are only recorded, so the clean-up is not cut short. Inside
    :meth:`deferred` a signal is recorded and raised when the block ends.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._armed = True
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in _STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: object) -> None:
        first = self.received is None
        if first:
            self.received = signum
        if first and self._armed:
            self._armed = False
            raise BuildStopped(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold stop signals back for the duration of the block (raise afterwards)."""
        armed, self._armed = self._armed, False
        try:
            yield
        finally:
            self._armed = armed
        if self.received is not None and armed:
            self._armed = False
            raise BuildStopped(self.received)

    def disarm(self) -> None:
        """From now on only record signals (the pack is in place; finish quietly)."""
        self._armed = False
