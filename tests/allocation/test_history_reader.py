"""read_history reads past amounts through evalkit's one input reader and refuses bad cells."""

from __future__ import annotations

import pytest

from evalkit._shared.exceptions import EvalkitError
from evalkit.allocation import read_history


def test_title_rows_gbk_and_chinese_headers(tmp_path):
    p = tmp_path / "history.csv"
    text = "潍坊市历年因素法分配表\n年份,单位代码,分配金额（万元）\n2023,370702,1000\n2024,370702,1100\n合计,,2100\n"
    p.write_bytes(text.encode("gb18030"))
    assert read_history(p) == {2023: {"370702": 1000.0}, 2024: {"370702": 1100.0}}


def test_blank_or_text_amount_is_refused_naming_the_row(tmp_path):
    p = tmp_path / "history.csv"
    p.write_text("year,unit_code,amount_wan\n2023,370702,1000\n2023,370703,\n2024,370702,一千\n", encoding="utf-8")
    with pytest.raises(EvalkitError, match=r"370703.*370702.*未分配填 0"):
        read_history(p)
