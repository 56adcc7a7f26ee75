"""The resampling executor: same seed, same draws, whatever the backend and worker count.

Tolerance: exact equality (draws are generated per fixed-size chunk from
``SeedSequence(seed, spawn_key=(chunk,))``, so serial, process and Dask runs are bit-identical).
"""

from __future__ import annotations

import numpy as np
import pytest

from evalkit._shared.exceptions import EvalkitError, InferenceError
from evalkit.inference.design import LinearDesign
from evalkit.inference.executor import Executor, get_executor, make_chunks
from evalkit.inference.wild import wild_cluster_bootstrap


def normal_sums(chunk, scale):
    """Module-level (picklable) chunk function."""
    return chunk.rng().standard_normal(chunk.size) * scale


def test_chunk_streams_are_seedsequence_spawn_children():
    chunks = make_chunks(2500, seed=42, chunk_size=1000)
    assert [(c.start, c.stop) for c in chunks] == [(0, 1000), (1000, 2000), (2000, 2500)]
    kids = np.random.SeedSequence(42).spawn(3)
    for c, kid in zip(chunks, kids):
        np.testing.assert_array_equal(c.rng().random(5), np.random.default_rng(kid).random(5))


def _design(n=3000, G=25):
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    cl = rng.integers(0, G, n)
    y = X @ [1.0, 0.05] + rng.normal(size=n) + rng.normal(size=G)[cl]
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    return LinearDesign(X=X, resid=y - X @ b, beta=b, names=["c", "x"], y=y, clusters=cl)


def test_serial_equals_processes():
    serial = np.concatenate(Executor("serial", chunk_size=100).map(normal_sums, 1000, seed=7, args=(2.0,)))
    d = _design()
    kw = dict(param="x", bootstrap_weights="webb", n_draws=2500, seed=11, level=None)
    wild_serial = wild_cluster_bootstrap(d, **kw, executor=Executor("serial", chunk_size=300))
    with Executor("processes", n_workers=2, chunk_size=100) as ex:
        par = np.concatenate(ex.map(normal_sums, 1000, seed=7, args=(2.0,)))
        ex.chunk_size = 300
        wild_par = wild_cluster_bootstrap(d, **kw, executor=ex)
    np.testing.assert_array_equal(serial, par)
    np.testing.assert_array_equal(wild_serial.t_boot, wild_par.t_boot)
    assert wild_serial.pvalue == wild_par.pvalue


@pytest.mark.slow
def test_dask_local_cluster_identical_to_serial():
    distributed = pytest.importorskip("distributed")
    d = _design()
    kw = dict(param="x", bootstrap_weights="webb", n_draws=4000, seed=5, level=0.95)
    serial = wild_cluster_bootstrap(d, **kw, executor=Executor("serial"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with Executor(cluster=cluster) as ex:
            assert ex.backend == "dask"
            dsk = wild_cluster_bootstrap(d, **kw, executor=ex)
            sums = np.concatenate(ex.map(normal_sums, 1000, seed=7, args=(2.0,), chunk_size=100))
        # an existing scheduler, by address (as with EVALKIT_DASK_ADDRESS)
        with Executor(address=cluster.scheduler_address) as ex:
            by_address = wild_cluster_bootstrap(d, **kw, executor=ex)
    np.testing.assert_array_equal(serial.t_boot, by_address.t_boot)
    np.testing.assert_array_equal(serial.t_boot, dsk.t_boot)
    assert serial.pvalue == dsk.pvalue and serial.interval == dsk.interval
    ref = np.concatenate(Executor("serial").map(normal_sums, 1000, seed=7, args=(2.0,), chunk_size=100))
    np.testing.assert_array_equal(sums, ref)


def test_configuration_from_environment_and_dict(monkeypatch):
    monkeypatch.setenv("EVALKIT_EXECUTOR", "processes")
    monkeypatch.setenv("EVALKIT_N_WORKERS", "3")
    ex = get_executor(None)
    assert ex.backend == "processes" and ex.n_workers == 3
    monkeypatch.delenv("EVALKIT_EXECUTOR")
    monkeypatch.setenv("EVALKIT_DASK_ADDRESS", "tcp://10.0.0.5:8786")
    ex = Executor()
    assert ex.backend == "dask" and ex.address == "tcp://10.0.0.5:8786"
    assert Executor("serial").backend == "serial"  # explicit argument wins
    ex = get_executor({"backend": "serial", "chunk_size": 50})
    assert ex.chunk_size == 50
    with pytest.raises(InferenceError, match="Unknown executor option"):
        get_executor({"backend": "serial", "workers": 2})
    with pytest.raises(EvalkitError, match="backend"):
        Executor("threads")
    monkeypatch.setenv("EVALKIT_N_WORKERS", "two")
    with pytest.raises(InferenceError, match="EVALKIT_N_WORKERS"):
        Executor("processes")
