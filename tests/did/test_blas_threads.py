"""BLAS thread limits of evalkit's dense products (threadpoolctl) and how a user overrides them.

No numeric tolerance: these tests check thread counts and error messages exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import evalkit
from evalkit._shared import blas
from evalkit._shared.exceptions import EvalkitError


def _blas_threads_now() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_default_is_one_thread_inside_limited_products(monkeypatch):
    monkeypatch.delenv(blas.ENV_VAR, raising=False)
    assert blas.configured_threads() == 1
    np.ones((2, 2)) @ np.ones((2, 2))  # make sure NumPy's BLAS is loaded
    with blas.blas_limit():
        assert _blas_threads_now() == {1}


def test_environment_variable_and_context_manager(monkeypatch):
    monkeypatch.setenv(blas.ENV_VAR, "2")
    assert blas.configured_threads() == 2
    monkeypatch.setenv(blas.ENV_VAR, "default")
    assert blas.configured_threads() is None
    before = _blas_threads_now()
    with blas.blas_limit():  # no limit: the library's own setting stays
        assert _blas_threads_now() == before
    with evalkit.blas_threads(1):  # the context manager wins over the environment
        assert blas.configured_threads() == 1
        with blas.blas_limit():
            assert _blas_threads_now() == {1}
    assert blas.configured_threads() is None


@pytest.mark.parametrize("bad", ["0", "two", "-3"])
def test_bad_setting_names_the_variable(monkeypatch, bad):
    monkeypatch.setenv(blas.ENV_VAR, bad)
    with pytest.raises(EvalkitError, match="EVALKIT_BLAS_THREADS"):
        blas.configured_threads()
    with pytest.raises(EvalkitError, match="blas_threads"):
        with evalkit.blas_threads(0):
            pass


def test_limit_does_not_change_cs_numbers(monkeypatch):
    from evalkit.did._cs_inference import analytic_cov

    monkeypatch.delenv(blas.ENV_VAR, raising=False)
    s = np.random.default_rng(0).normal(size=(3000, 12))
    one = analytic_cov(s, 3000)
    with evalkit.blas_threads(None):
        free = analytic_cov(s, 3000)
    np.testing.assert_allclose(one, free, rtol=1e-12, atol=0)
