"""Run small dense optimisations with single-threaded OpenBLAS.

The sensitivity solvers call LAPACK/BLAS (through SciPy's L-BFGS-B and NumPy) on tiny matrices
thousands of times. On a busy machine a multi-threaded OpenBLAS spends most of that time waking
and synchronising threads (measured: 5x slower CPU time at load 10 on 2 cores). This context
manager sets the thread count of the OpenBLAS libraries loaded by NumPy and SciPy to one and
restores it afterwards; it does nothing when the libraries or their controls are not found.
"""

from __future__ import annotations

import ctypes
import threading
from contextlib import contextmanager

_LOCK = threading.Lock()
_NAMES = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)
_CONTROLS: list | None = None


def _controls() -> list:
    global _CONTROLS
    if _CONTROLS is None:
        found = []
        try:
            with open("/proc/self/maps", encoding="utf-8") as fh:
                paths = sorted({line.split()[-1] for line in fh if "openblas" in line.lower()
                                and line.split()[-1].startswith("/")})
        except OSError:
            paths = []
        for path in paths:
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for get_name, set_name in _NAMES:
                get = getattr(lib, get_name, None)
                put = getattr(lib, set_name, None)
                if get is not None and put is not None:
                    put.argtypes = [ctypes.c_int]
                    found.append((get, put))
                    break
        _CONTROLS = found
    return _CONTROLS


@contextmanager
def single_threaded_blas():
    """Context manager: OpenBLAS uses one thread inside the block."""
    with _LOCK:
        ctl = _controls()
        saved = []
        for get, put in ctl:
            try:
                saved.append((put, int(get())))
                put(1)
            except Exception:  # pragma: no cover - defensive: never fail an estimate on this
                pass
    try:
        yield
    finally:
        with _LOCK:
            for put, n in saved:
                try:
                    put(n)
                except Exception:  # pragma: no cover
                    pass
