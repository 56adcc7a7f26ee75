"""evalkit: evidence for Weifang's manufacturing high-quality development pilot zone.

Subpackages are imported lazily so that ``import evalkit`` stays fast::

    from evalkit import data, did, synth, sensitivity, allocation, inference, report
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

_SUBMODULES = {
    "data",
    "did",
    "synth",
    "sensitivity",
    "allocation",
    "inference",
    "report",
    "iv",
    "targets",
    "pipeline",
    "results",
}

__all__ = sorted(_SUBMODULES) + ["__version__", "blas_threads"]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "blas_threads":  # context manager: BLAS threads of evalkit's heavy dense products
        return importlib.import_module(f"{__name__}._shared.blas").blas_threads
    raise AttributeError(f"module 'evalkit' has no attribute {name!r}")
