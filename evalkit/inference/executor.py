"""One executor for every resampling method (wild bootstrap, randomization inference, placebo).

Work is split into chunks of draw indices of a **fixed size** (independent of the number of
workers). Chunk ``c`` gets its own random generator derived from
``numpy.random.SeedSequence(seed, spawn_key=(c,))`` -- the same child as
``SeedSequence(seed).spawn(n)[c]`` -- so a given seed produces the same draws whatever the backend
and however many workers run the chunks. Results come back in chunk order.

Backends
--------
``"serial"``
    In this process (the default).
``"processes"``
    A pool of local worker processes (``spawn`` start method; the mapped function and its
    arguments must be picklable, i.e. defined at module level).
``"dask"``
    A Dask distributed cluster: an existing scheduler (``address="tcp://host:8786"``), a cluster
    object (``cluster=LocalCluster(...)``), or a new local cluster with ``n_workers`` processes.

Pools are shared for the whole run: an executor that is not used as a context manager borrows
one process pool (or one Dask ``LocalCluster``) per worker count from a registry, so repeated
calls (a placebo test after a bootstrap, a size study's replications) pay the worker start-up once.
The shared workers are shut down at interpreter exit, on SIGTERM and SIGINT, or explicitly by
:func:`shutdown_workers`.

The backend can also be chosen without touching code, through environment variables
``EVALKIT_EXECUTOR`` (``serial``/``processes``/``dask``), ``EVALKIT_N_WORKERS`` and
``EVALKIT_DASK_ADDRESS``, or a configuration dict passed to :func:`get_executor`. Explicit
arguments win over the environment.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .._shared.exceptions import InferenceError
from .._shared.validation import check_option

Backend = Literal["serial", "processes", "dask"]
_BACKENDS = ("serial", "processes", "dask")

#: Default number of draws per chunk. Fixed so that draws do not depend on the worker count.
DEFAULT_CHUNK_SIZE = 1000


@dataclass(frozen=True)
class Chunk:
    """A contiguous block of draw indices ``[start, stop)`` with its own random stream.

    Parameters
    ----------
    index : int
        Chunk number (0, 1, ...); keys the random stream.
    start, stop : int
        Draw indices covered by the chunk.
    seed : int or None
        The run's seed; with ``index`` it defines :meth:`rng`.
    """

    index: int
    start: int
    stop: int
    seed: int | None

    @property
    def size(self) -> int:
        """Number of draws in the chunk."""
        return self.stop - self.start

    def rng(self) -> np.random.Generator:
        """The chunk's generator, ``default_rng(SeedSequence(seed, spawn_key=(index,)))``."""
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(self.index,)))


def make_chunks(n_draws: int, seed: int | None, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[Chunk]:
    """Split ``n_draws`` draw indices into chunks of ``chunk_size``.

    Parameters
    ----------
    n_draws : int
        Total number of draws.
    seed : int or None
        Seed of the run. ``None`` draws fresh entropy once so all chunks still share one root.
    chunk_size : int
        Draws per chunk (the last chunk may be shorter).
    """
    if n_draws < 1:
        raise InferenceError(f"n_draws must be a positive integer, got {n_draws!r}.")
    if chunk_size < 1:
        raise InferenceError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)  # one root for the whole run
    starts = range(0, n_draws, chunk_size)
    return [Chunk(i, s, min(s + chunk_size, n_draws), seed) for i, s in enumerate(starts)]


def _call(func: Callable, chunk: Chunk, args: tuple) -> Any:
    return func(chunk, *args)


#: Environment given to local worker processes: one BLAS/OpenMP thread each, so that n workers use
#: n cores instead of oversubscribing them (Dask's nanny does the same for its workers).
_WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


class _worker_env:
    """Temporarily set :data:`_WORKER_ENV` (unless the user set them) while workers start."""

    def __enter__(self):
        self._old = {k: os.environ.get(k) for k in _WORKER_ENV}
        for k, v in _WORKER_ENV.items():
            if self._old[k] is None:
                os.environ[k] = v
        return self

    def __exit__(self, *exc):
        for k, v in self._old.items():
            if v is None:
                os.environ.pop(k, None)


#: Pools and clusters shared by every executor of the run, keyed by (backend, workers).
_SHARED: dict[tuple[str, int], Any] = {}
_SHARED_LOCK = threading.RLock()  # re-entrant: a signal handler may run while it is held
_HOOKS_INSTALLED = False


def _new_pool(n_workers: int):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=n_workers, mp_context=mp.get_context("spawn"))


def _new_local_cluster(n_workers: int):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True)
    return cluster, Client(cluster)


def _shared(backend: str, n_workers: int) -> Any:
    """The run's shared process pool or ``(LocalCluster, Client)`` for ``n_workers``."""
    key = (backend, n_workers)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _install_exit_hooks()
            _SHARED[key] = _new_pool(n_workers) if backend == "processes" else _new_local_cluster(n_workers)
        return _SHARED[key]


def shutdown_workers(*, wait: bool = True) -> None:
    """Shut down every worker pool and local Dask cluster shared within this run.

    Called automatically at interpreter exit and on SIGTERM/SIGINT; call it yourself to free
    the worker processes earlier. The next parallel :meth:`Executor.map` starts new ones.

    Parameters
    ----------
    wait : bool
        Let running chunks finish (default). ``False`` (used on signals) cancels queued chunks
        and terminates the pool's worker processes at once.

    Examples
    --------
    >>> from evalkit.inference.executor import shutdown_workers
    >>> shutdown_workers()  # nothing to do when no pool was started
    """
    with _SHARED_LOCK:
        items = list(_SHARED.items())
        _SHARED.clear()
    for (backend, _), obj in items:
        try:
            if backend == "processes":
                if not wait:
                    for proc in list((getattr(obj, "_processes", None) or {}).values()):
                        proc.terminate()
                obj.shutdown(wait=wait, cancel_futures=True)
            else:
                cluster, client = obj
                client.close()
                cluster.close()
        except Exception:  # pragma: no cover - best effort during shutdown
            pass


def _install_exit_hooks() -> None:
    """Shut the shared workers down at exit and on SIGTERM/SIGINT (chaining earlier handlers)."""
    global _HOOKS_INSTALLED
    if _HOOKS_INSTALLED:
        return
    _HOOKS_INSTALLED = True
    atexit.register(shutdown_workers)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit still applies
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        signal.signal(signum, _chained_handler(signum, previous))


def _chained_handler(signum: int, previous: Any) -> Callable:
    def handler(sig, frame):
        shutdown_workers(wait=False)
        if callable(previous):
            return previous(sig, frame)
        if previous == signal.SIG_IGN:
            return None
        signal.signal(signum, signal.SIG_DFL)  # default action: terminate as the signal asks
        os.kill(os.getpid(), signum)
        return None

    return handler


class Executor:
    """Maps a function over chunks of draws, serially, in local processes or on Dask.

    Parameters
    ----------
    backend : {"serial", "processes", "dask"}, optional
        Where chunks run. ``None`` reads ``EVALKIT_EXECUTOR`` (default ``"serial"``); giving an
        ``address`` or ``cluster`` implies ``"dask"``.
    n_workers : int, optional
        Worker processes for ``"processes"`` (default: CPU count) or for a new Dask
        ``LocalCluster``. ``None`` reads ``EVALKIT_N_WORKERS``.
    address : str, optional
        Address of an existing Dask scheduler (e.g. ``"tcp://10.0.0.5:8786"``). ``None`` reads
        ``EVALKIT_DASK_ADDRESS``.
    cluster : object, optional
        A Dask cluster object (e.g. ``distributed.LocalCluster``); evalkit connects a client to it
        and never closes the cluster.
    chunk_size : int
        Draws per chunk. Keep it fixed to reproduce draws across runs; it does not depend on
        ``n_workers``.
    progress : bool or None
        Show a tqdm progress bar. ``None`` shows it for runs of at least 20 chunks on a terminal.

    Notes
    -----
    Without a context manager the ``"processes"`` backend and a new Dask ``LocalCluster`` use the
    run's shared workers (one pool per worker count, started on first use, reused by every later
    call and shut down at exit, on SIGTERM/SIGINT or by :func:`shutdown_workers`). As a context
    manager (``with Executor("processes", n_workers=2) as ex: ...``) the executor owns a private
    pool that is shut down when the block ends.

    Examples
    --------
    >>> ex = Executor("serial")
    >>> ex.map(lambda chunk: chunk.rng().random(chunk.size).sum(), n_draws=10, seed=1,
    ...        chunk_size=5)  # doctest: +SKIP
    """

    def __init__(
        self,
        backend: Backend | None = None,
        n_workers: int | None = None,
        address: str | None = None,
        cluster: Any = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: bool | None = None,
    ) -> None:
        env_backend = os.environ.get("EVALKIT_EXECUTOR") or None
        env_address = os.environ.get("EVALKIT_DASK_ADDRESS") or None
        env_workers = os.environ.get("EVALKIT_N_WORKERS") or None
        if address is None and cluster is None and backend in (None, "dask"):
            address = env_address
        if backend is None:
            backend = "dask" if (address is not None or cluster is not None) else (env_backend or "serial")
        self.backend = check_option("backend", backend, _BACKENDS)
        if n_workers is None and env_workers is not None:
            try:
                n_workers = int(env_workers)
            except ValueError as err:
                raise InferenceError(
                    f"EVALKIT_N_WORKERS must be an integer, got {env_workers!r}."
                ) from err
        if n_workers is not None and n_workers < 1:
            raise InferenceError(f"n_workers must be at least 1, got {n_workers!r}.")
        if backend != "dask" and (address is not None or cluster is not None):
            raise InferenceError(
                f"address/cluster are only used with backend='dask' (got backend={backend!r})."
            )
        self.n_workers = n_workers
        self.address = address
        self.cluster = cluster
        self.chunk_size = int(chunk_size)
        self.progress = progress
        self._pool = None
        self._client = None
        self._own_cluster = None
        self._entered = False

    # ------------------------------------------------------------------ configuration
    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Executor:
        """Build from a dict with any of the constructor's keys (e.g. from a YAML file)."""
        allowed = {"backend", "n_workers", "address", "cluster", "chunk_size", "progress"}
        bad = set(config) - allowed
        if bad:
            raise InferenceError(
                f"Unknown executor option(s) {sorted(bad)}; allowed: {', '.join(sorted(allowed))}."
            )
        return cls(**config)

    def __repr__(self) -> str:
        where = self.address or (type(self.cluster).__name__ if self.cluster is not None else "")
        return (
            f"Executor(backend={self.backend!r}, n_workers={self.n_workers!r}"
            + (f", at={where!r}" if where else "")
            + f", chunk_size={self.chunk_size})"
        )

    def describe(self) -> str:
        """The executor in words (for result notes)."""
        if self.backend == "serial":
            return "serial"
        if self.backend == "processes":
            return f"{self.n_workers or os.cpu_count()} local processes"
        if self.address is not None:
            return f"Dask scheduler at {self.address}"
        return "Dask (cluster object)" if self.cluster is not None else "Dask (new LocalCluster)"

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Executor:
        self._entered = True
        self._start()
        return self

    def __exit__(self, *exc) -> None:
        self._entered = False
        self.close()

    def _start(self) -> None:
        if self.backend == "processes" and self._pool is None:
            n = self.n_workers or os.cpu_count() or 1
            self._pool = _new_pool(n) if self._entered else _shared("processes", n)
        elif self.backend == "dask" and self._client is None:
            try:
                from distributed import Client
            except ImportError as err:  # pragma: no cover - dask is a dependency
                raise InferenceError(
                    "backend='dask' needs the 'distributed' package (pip install 'dask[distributed]')."
                ) from err
            if self.address is not None:
                self._client = Client(self.address)
            elif self.cluster is not None:
                self._client = Client(self.cluster)
            elif self._entered:
                self._own_cluster, self._client = _new_local_cluster(self.n_workers or 2)
            else:
                _, self._client = _shared("dask", self.n_workers or 2)

    def close(self) -> None:
        """Release the workers: shut down a private pool, client or cluster; leave shared ones."""
        shared = {id(v) for v in _SHARED.values()} | {id(v[1]) for k, v in _SHARED.items() if k[0] == "dask"}
        if self._pool is not None:
            if id(self._pool) not in shared:
                self._pool.shutdown()
            self._pool = None
        if self._client is not None:
            if id(self._client) not in shared:
                self._client.close()
            self._client = None
        if self._own_cluster is not None:
            self._own_cluster.close()
            self._own_cluster = None

    # ------------------------------------------------------------------ mapping
    def map(
        self,
        func: Callable[..., Any],
        n_draws: int,
        *,
        seed: int | None,
        args: Sequence[Any] = (),
        chunk_size: int | None = None,
        desc: str = "resampling",
    ) -> list[Any]:
        """Apply ``func(chunk, *args)`` to every chunk of ``n_draws`` draws.

        Parameters
        ----------
        func : callable
            ``func(chunk: Chunk, *args)``; must be picklable (module level) for the
            ``"processes"`` and ``"dask"`` backends.
        n_draws : int
            Total number of draws.
        seed : int or None
            Seed of the run (see :class:`Chunk`).
        args : sequence
            Extra arguments, shipped once per chunk (processes) or scattered once (Dask).
        chunk_size : int, optional
            Overrides the executor's chunk size for this call.
        desc : str
            Label of the progress bar.

        Returns
        -------
        list
            One result per chunk, in chunk order.
        """
        chunks = make_chunks(n_draws, seed, chunk_size or self.chunk_size)
        args = tuple(args)
        show = self.progress if self.progress is not None else len(chunks) >= 20
        bar = _progress(len(chunks), desc, show)
        try:
            if self.backend == "serial" or len(chunks) == 1 and self.backend != "dask":
                out = []
                for ch in chunks:
                    out.append(func(ch, *args))
                    bar.update(1)
                return out
            if self.backend == "processes":
                _check_picklable(func, args)
            self._start()
            try:
                if self.backend == "processes":
                    return self._map_processes(func, chunks, args, bar)
                return self._map_dask(func, chunks, args, bar)
            finally:
                if not self._entered:
                    self.close()
        finally:
            bar.close()

    def _map_processes(self, func, chunks, args, bar) -> list[Any]:
        # map() has checked with _check_picklable that func and args pickle
        with _worker_env():  # workers are spawned on submit and inherit this environment
            futures = [self._pool.submit(_call, func, ch, args) for ch in chunks]
        for f in futures:
            f.add_done_callback(lambda _f: bar.update(1))
        return [f.result() for f in futures]

    def _map_dask(self, func, chunks, args, bar) -> list[Any]:
        from distributed import as_completed

        client = self._client
        scattered = tuple(client.scatter(a, broadcast=True) if _is_big(a) else a for a in args)
        futures = [
            client.submit(_call, func, ch, scattered, pure=False, key=f"evalkit-chunk-{ch.index}-{id(chunks)}")
            for ch in chunks
        ]
        for _ in as_completed(futures):
            bar.update(1)
        return client.gather(futures)


def _check_picklable(func: Callable, args: tuple) -> None:
    import pickle

    try:
        pickle.dumps((func, args))
    except Exception as err:
        raise InferenceError(
            "backend='processes' needs a picklable function and arguments (define the "
            f"statistic at module level, not as a lambda or closure): {err}"
        ) from err


def _is_big(a: Any) -> bool:
    if isinstance(a, np.ndarray):
        return a.nbytes > 1_000_000
    nbytes = getattr(a, "nbytes", None)
    if isinstance(nbytes, int | np.integer):
        return nbytes > 1_000_000
    memory_usage = getattr(a, "memory_usage", None)
    if callable(memory_usage):
        try:
            return int(np.sum(memory_usage(deep=False))) > 1_000_000
        except Exception:  # pragma: no cover - odd objects
            return False
    return False


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, desc: str, show: bool):
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="chunk", disable=None)


def get_executor(executor: Executor | str | dict | None = None) -> Executor:
    """Normalise the ``executor=`` argument every resampling function accepts.

    Parameters
    ----------
    executor : Executor, str, dict or None
        An :class:`Executor`; a backend name; a configuration dict (see
        :meth:`Executor.from_config`); or ``None`` for the environment/default (serial).

    Returns
    -------
    Executor

    Examples
    --------
    >>> get_executor("serial").backend
    'serial'
    >>> get_executor({"backend": "processes", "n_workers": 2})
    Executor(backend='processes', n_workers=2, chunk_size=1000)
    """
    if isinstance(executor, Executor):
        return executor
    if executor is None:
        return Executor()
    if isinstance(executor, str):
        return Executor(backend=executor)  # type: ignore[arg-type]
    if isinstance(executor, dict):
        return Executor.from_config(executor)
    raise InferenceError(
        "executor must be an Executor, a backend name ('serial', 'processes', 'dask'), a config "
        f"dict or None; got {type(executor).__name__}."
    )
