"""Shared builders for the allocation tests: small specs and factor tables made in code."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from evalkit.allocation import read_factors, spec_from_dict

WEIFANG = ["370702", "370703", "370704", "370705", "370724", "370725", "370781", "370782",
           "370783", "370784", "370785", "370786", "370772", "WF-Z-GXQ", "WF-Z-XSQ", "WF-Z-ZBQ"]


def make_table(values: dict[str, list[Any]], codes: list[str], year: int = 2024,
               uom: dict[str, str] | None = None) -> pd.DataFrame:
    """Long factor table: ``values[factor_id][i]`` for ``codes[i]`` (None = missing)."""
    rows = []
    for fid, vals in values.items():
        for c, v in zip(codes, vals, strict=True):
            rows.append({"year": year, "unit_code": c, "factor_id": fid, "value": v,
                         "unit_of_measure": (uom or {}).get(fid, ""), "source": "test",
                         "status": "missing" if v is None else "reported"})
    return pd.DataFrame(rows)


def make_spec(weights: dict[str, float], *, transforms: dict[str, str] | None = None,
              total: int = 10_000, reserve: int = 0, **extra: Any):
    """Spec mapping → AllocationSpec with the given weights (and optional extra top-level keys)."""
    transforms = transforms or {}
    factors = []
    for fid, w in weights.items():
        t = transforms.get(fid, "share")
        factors.append({"id": fid, "name": fid, "weight": w,
                        "direction": "-" if t == "inverse_share" else "+", "transform": t})
    data = {"fund": "测试资金", "year": 2025, "total_wan": total, "reserve_wan": reserve,
            "factors": factors, **extra}
    return spec_from_dict(data)


def table(values, codes, **kw):
    """FactorTable from :func:`make_table`."""
    return read_factors(make_table(values, codes, **kw))


@pytest.fixture
def demo_case():
    """A 16-unit Weifang-like case with five factors, grades, floors and a cap."""
    import numpy as np
    rng = np.random.default_rng(7)
    vals = {"rev": [int(v) for v in rng.integers(50_000, 2_000_000, 16)],
            "inv": [int(v) for v in rng.integers(5_000, 300_000, 16)],
            "ftt": [int(v) for v in rng.integers(0, 25, 16)],
            "grw": [round(float(v), 2) for v in rng.normal(5, 4, 16)],
            "cap": [round(float(v), 3) for v in rng.uniform(0.5, 4, 16)]}
    weights = {"rev": 30, "inv": 30, "ftt": 15, "grw": 15, "cap": 10}
    spec = make_spec(weights, transforms={"grw": "minmax_shift", "cap": "inverse_share"},
                     total=20_000, reserve=1_000,
                     constraints={"floor_wan": {"default": 200, "370772": 300},
                                  "cap_share": 0.25})
    return spec, table(vals, WEIFANG)


LABELS = list("ABCD") + [f"U{i:02d}" for i in range(100)]


@pytest.fixture(autouse=True)
def labelled_units(request, monkeypatch):
    """Arithmetic tests label units A, B, C … or U00, U01 …: let those be recipients too.

    Tests of the recipient rules themselves are marked ``real_master`` and see the package's
    unit master unchanged.
    """
    if request.node.get_closest_marker("real_master"):
        return
    from evalkit.allocation import _units
    real = _units.recipients
    monkeypatch.setattr(_units, "recipients", lambda year, **kw: real(year, **kw) + LABELS)


def pytest_configure(config):
    config.addinivalue_line("markers", "real_master: use the package unit master unchanged")
