"""report.table and the number formats: labelled headers, "—" with a footnote, no row index.

Tolerances: none (text output compared exactly).
"""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit import report
from evalkit._shared.exceptions import EvalkitError
from evalkit.report.labels import LABELS


def test_every_label_has_both_languages():
    bad = [k for k, v in LABELS.items() if set(v) != {"zh", "en"} or not all(isinstance(x, str) for x in v.values())]
    assert bad == []


def test_english_labels_hold_no_chinese_and_vice_versa_for_units():
    cjk = [k for k, v in LABELS.items() if any("\u4e00" <= ch <= "\u9fff" for ch in v["en"])]
    assert cjk == []
    assert report.unit_of_measure("亿元", "en") == "CNY 100m"
    assert report.unit_of_measure("家", "en") == "firms"


def test_table_labels_formats_and_footnote():
    frame = pd.DataFrame({"unit_type": ["county_city", "zone"], "amount_wan": [12345.6, None],
                          "p_value": [0.0002, 0.51234], "share": [0.1234, 0.5], "year": [2025, 2024]})
    tab = report.table(frame, language="zh")
    assert list(tab.data.columns) == ["单位类型", "分配金额（万元）", "p 值", "份额", "年份"]
    assert tab.data.iloc[0].tolist() == ["县级市", "12,346", "<0.001", "12.3%", "2025"]
    assert tab.data.iloc[1].tolist() == ["市属开发区", "—", "0.512", "50.0%", "2024"]
    assert tab.footnotes == ["“—”表示不适用或无数据。"]
    page = tab._repr_html_()
    assert "nan" not in page.lower().replace("nan-", "") and "<th" in page
    # no row index: the only header cells are the column labels
    assert page.count("<th class") == 5


def test_table_refuses_raw_column_names():
    with pytest.raises(EvalkitError, match="pre_fit_thing.*has no label"):
        report.table(pd.DataFrame({"pre_fit_thing": [1.0]}), language="en")
    tab = report.table(pd.DataFrame({"pre_fit_thing": [1.0]}), language="en", labels={"pre_fit_thing": "Fit"})
    assert list(tab.data.columns) == ["Fit"]


def test_no_footnote_without_missing_values():
    tab = report.table(pd.DataFrame({"estimate": [0.1234]}), language="en")
    assert tab.footnotes == [] and tab.data.iloc[0, 0] == "0.123"


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [(1234.4, "zh", "1,234 万元"), (123456, "zh", "12.35 亿元"), (123456, "en", "12.35 CNY 100m"),
     (float("nan"), "zh", "—")],
)
def test_format_money(value, language, expected):
    assert report.format_money(value, language) == expected


def test_format_pvalue_and_share():
    assert report.format_pvalue(0.0004) == "<0.001"
    assert report.format_pvalue(0.0641) == "0.064"
    assert report.format_pvalue(None) == "—"
    assert report.format_share(0.5) == "50.0%"


def test_unit_names_by_language():
    assert report.unit_names(["370702", "WF-Z-GXQ"], "zh")[0] == "潍城区"
    en = report.unit_names(["370702", "WF-Z-GXQ"], "en")
    assert en[0] == "Weicheng District" and not any("\u4e00" <= ch <= "\u9fff" for ch in en[1])
