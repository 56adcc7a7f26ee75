"""How many BLAS threads evalkit's dense products use, through threadpoolctl.

A few heavy dense products (Callaway--Sant'Anna's influence-function Gram matrix, its single
precision bootstrap product) and the many tiny LAPACK calls of the sensitivity and synthetic
control solvers run fastest with **one** BLAS thread on a machine that is also running other
jobs: a multi-threaded OpenBLAS spin-waits for its threads when the cores are oversubscribed
(measured in ``benchmarks/README.md``: the same 50,000 x 80 Gram product took 0.05 s to 4.9 s).
evalkit therefore limits the BLAS thread pool around those products only, via threadpoolctl
(OpenBLAS, MKL, BLIS and their OpenMP runtimes); everything else keeps the library default.

Override, most specific first:

1. :func:`blas_threads` as a context manager: ``with evalkit.blas_threads(4): ...`` (``None``
   = no limit, the BLAS library's own setting);
2. the environment variable ``EVALKIT_BLAS_THREADS`` (a positive integer, or ``default`` for no
   limit), read at each call;
3. evalkit's default: one thread inside the limited products.

Examples
--------
>>> from evalkit._shared.blas import blas_limit, blas_threads
>>> with blas_threads(None):      # let BLAS use its own thread count inside evalkit
...     with blas_limit():
...         pass
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from functools import wraps

from .exceptions import EvalkitError

#: Environment variable that sets the thread count of evalkit's limited BLAS products.
ENV_VAR = "EVALKIT_BLAS_THREADS"
#: evalkit's default inside the limited products (chosen by measurement, see the module doc).
DEFAULT_THREADS = 1
_UNSET = object()
_OVERRIDE: ContextVar = ContextVar("evalkit_blas_threads", default=_UNSET)
_LOCK = threading.Lock()
_CONTROLLER = None


def _parse(value, source: str) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "default", "none")):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if n < 1:
        raise EvalkitError(
            f"{source} must be a positive number of BLAS threads or 'default' (no limit); got {value!r}."
        )
    return n


def configured_threads() -> int | None:
    """Thread count evalkit's limited products use now (``None`` = no limit).

    Returns
    -------
    int or None
        From :func:`blas_threads` if active, else ``EVALKIT_BLAS_THREADS``, else ``1``.
    """
    over = _OVERRIDE.get()
    if over is not _UNSET:
        return over
    env = os.environ.get(ENV_VAR)
    if env is not None:
        return _parse(env, f"The environment variable {ENV_VAR}")
    return DEFAULT_THREADS


@contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Set the BLAS thread count of evalkit's limited products inside a block.

    Parameters
    ----------
    n : int or None
        Threads (>= 1), or ``None`` to leave the BLAS library's own setting untouched.

    Examples
    --------
    >>> import evalkit
    >>> with evalkit.blas_threads(2):
    ...     evalkit._shared.blas.configured_threads()
    2
    """
    token = _OVERRIDE.set(_parse(n, "blas_threads(n)"))
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def _controller():
    global _CONTROLLER
    with _LOCK:
        if _CONTROLLER is None:
            import scipy.linalg  # noqa: F401 - load SciPy's BLAS too, so the controller sees it
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER


def blas_limit():
    """Context manager limiting the BLAS thread pool to :func:`configured_threads`.

    A no-op when the configured count is ``None``.
    """
    n = configured_threads()
    if n is None:
        return nullcontext()
    return _controller().limit(limits=n, user_api="blas")


def single_threaded_blas():
    """Context manager around many tiny dense solves (sensitivity, synthetic control).

    Same as :func:`blas_limit`: one thread unless the user overrides it.
    """
    return blas_limit()


def limited_blas(func):
    """Decorator: run ``func`` inside :func:`blas_limit` (evalkit's dense least-squares steps).

    Examples
    --------
    >>> @limited_blas
    ... def gram(x):
    ...     return x.T @ x
    """

    @wraps(func)
    def wrapper(*args, **kwargs):
        with blas_limit():
            return func(*args, **kwargs)

    return wrapper
