"""The run-wide worker pool: reused across calls, shut down on request, at exit and on SIGTERM.

Tolerance: exact equality of draws (fixed chunks seeded from ``SeedSequence``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np

from evalkit.inference import executor as exmod
from evalkit.inference.executor import Executor, shutdown_workers


def worker_pid_draws(chunk):
    """Module-level chunk function: the worker's pid and the chunk's draws."""
    return os.getpid(), chunk.rng().standard_normal(chunk.size)


def _run(ex):
    parts = ex.map(worker_pid_draws, 400, seed=3, chunk_size=50)
    return {p for p, _ in parts}, np.concatenate([d for _, d in parts])


def test_processes_pool_is_shared_across_calls_and_shut_down_on_request():
    shutdown_workers()
    serial_pids, serial = _run(Executor("serial"))
    pids1, first = _run(Executor("processes", n_workers=2))
    pids2, second = _run(Executor("processes", n_workers=2))
    assert ("processes", 2) in exmod._SHARED
    pool = exmod._SHARED[("processes", 2)]
    assert os.getpid() not in pids1 | pids2 and serial_pids == {os.getpid()}
    assert pids2 <= pids1 | pids2 and len(pids1 | pids2) <= 2  # the same two workers served both
    np.testing.assert_array_equal(first, serial)
    np.testing.assert_array_equal(second, serial)
    shutdown_workers()
    assert exmod._SHARED == {}
    assert pool._shutdown_thread  # the pool itself was shut down
    _, again = _run(Executor("processes", n_workers=2))  # a new pool starts on demand
    np.testing.assert_array_equal(again, serial)
    shutdown_workers()


def test_context_manager_pool_is_private():
    shutdown_workers()
    with Executor("processes", n_workers=1) as ex:
        _run(ex)
        assert exmod._SHARED == {}
    assert ex._pool is None


def test_sigterm_shuts_the_shared_workers_down(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_executor_pool import worker_pid_draws
        from evalkit.inference.executor import Executor
        parts = Executor("processes", n_workers=2).map(worker_pid_draws, 100, seed=1, chunk_size=10)
        print(" ".join(str(p) for p in {{p for p, _ in parts}}), flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert pids and all(_alive(p) for p in pids)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGTERM  # the default action still happens
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(p) for p in pids)
    finally:
        if proc.poll() is None:
            proc.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
