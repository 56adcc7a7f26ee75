"""Spec loading and validation: every problem at once, with file, line, field, zh + en.

Tolerances: none (messages and exact values).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from evalkit._shared.exceptions import SpecError
from evalkit.allocation import load_spec

GOOD = """\
fund: 技术改造专项资金
year: 2025
total_wan: 20000
reserve_wan: 1000
factors:
  - {id: rev,  name: 规上工业营业收入, weight: 30, direction: +, transform: share}
  - {id: inv,  name: 工业技改投资额,   weight: 30, direction: +, transform: share}
  - {id: ftt,  name: 首台套认定数, weight: 15, direction: +, transform: share}
  - {id: grw,  name: 规上工业增加值增速, weight: 15, direction: +, transform: minmax_shift}
  - {id: cap,  name: 人均财力, weight: 10, direction: -, transform: inverse_share}
performance:
  source_factor: grade
  map: {优: 1.10, 良: 1.00, 中: 0.90, 差: 0.80}
constraints:
  floor_wan: {default: 200, 370772: 300}
  cap_share: 0.25
  hold_harmless: 0.0
missing: {default: error, grw: carry_forward, ftt: zero}
rounding: {unit_wan: 1, method: largest_remainder, tie_break: code}
"""


def test_brief_example_loads_with_exact_numbers(tmp_path):
    p = tmp_path / "spec.yaml"
    p.write_text(GOOD, encoding="utf-8")
    s = load_spec(p)
    assert s.t_alloc == 19_000
    assert [f.weight for f in s.factors] == [30, 30, 15, 15, 10]
    assert s.performance.map["优"] == Fraction(11, 10)
    assert s.cap_share == Fraction(1, 4)
    assert s.factors[4].direction == "-"
    assert s.factors[3].missing == "carry_forward" and s.factors[0].missing == "error"
    # the YAML integer key 370772 is kept as the text "370772", with a note naming the line
    assert s.floor_units == {"370772": Fraction(300)}
    assert any("370772" in n and "spec.yaml:15" in n for n in s.notes)


def test_octal_looking_code_is_kept_as_typed():
    s = load_spec(GOOD.replace("370772: 300", "0370: 300"))
    assert "0370" in s.floor_units  # YAML 1.1 would read 0370 as octal 248


def test_all_problems_at_once_with_lines():
    bad = (GOOD.replace("weight: 30, direction: +, transform: share}\n  - {id: inv",
                        "weight: 31, direction: +, transform: shares}\n  - {id: inv")
           .replace("cap_share: 0.25", "cap_share: 25")
           .replace("grw: carry_forward", "grw: guess")
           .replace("method: largest_remainder", "method: bankers"))
    with pytest.raises(SpecError) as e:
        load_spec(bad)
    probs = e.value.problems
    text = "\n".join(probs)
    assert len(probs) == 5, text
    assert ":6 字段/field `factors[0].transform`" in text and "shares" in text
    assert "weights sum to 101" in text and "权重之和为 101" in text
    assert ":16 字段/field `constraints.cap_share`" in text and "0.25 = 25%" in text
    assert "`missing.grw`" in text and "guess" in text and "carry_forward" in text
    assert "`rounding.method`" in text and "largest_remainder" in text


def test_unknown_fields_and_direction_conflicts():
    bad = GOOD.replace("reserve_wan: 1000", "reserve_wan: 1000\nreserv: 5").replace(
        "direction: -, transform: inverse_share", "direction: -, transform: share")
    with pytest.raises(SpecError) as e:
        load_spec(bad)
    text = str(e.value)
    assert "unknown field `reserv`" in text and "未知字段" in text
    assert "cannot use transform share" in text


def test_missing_required_and_type_errors():
    with pytest.raises(SpecError) as e:
        load_spec("fund: x\nyear: twenty\nfactors: []\n")
    text = str(e.value)
    assert "total_wan" in text and "year" in text and "non-empty list" in text


def test_yaml_syntax_error_names_line():
    with pytest.raises(SpecError, match=r"started at line 4"):
        load_spec("fund: x\nyear: 2025\nfactors: [\n  {id: a\n")
    with pytest.raises(SpecError, match=r"<spec text>:3:10.*started at line 2"):
        load_spec("fund: x\nyear: [2025\ntotal_wan: 5\n")


def test_reserve_above_total_and_non_multiple_rounding():
    bad = GOOD.replace("reserve_wan: 1000", "reserve_wan: 30000")
    with pytest.raises(SpecError, match="reserve 30000 exceeds total_wan 20000"):
        load_spec(bad)
    bad = GOOD.replace("unit_wan: 1,", "unit_wan: 7,")
    with pytest.raises(SpecError, match="not a multiple of unit_wan 7"):
        load_spec(bad)


def test_units_list_with_numeric_codes_noted():
    s = load_spec(GOOD + "units: {include: [370702, \"WF-Z-GXQ\"]}\n")
    assert s.include == ("370702", "WF-Z-GXQ")
    assert any("370702" in n for n in s.notes)


def test_with_weights_revalidates():
    s = load_spec(GOOD)
    s2 = s.with_weights({"rev": 40, "inv": 20})
    assert [f.weight for f in s2.factors] == [40, 20, 15, 15, 10]
    with pytest.raises(SpecError, match="sum to 110"):
        s.with_weights({"rev": 40})


def test_json_schema_agrees_with_loader():
    jsonschema = pytest.importorskip("jsonschema")
    from importlib import resources

    import yaml

    from evalkit.allocation.spec import spec_schema
    schema = spec_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    template = resources.files("evalkit.allocation").joinpath("templates/spec_template.yaml")
    for text in (GOOD.replace("370772: 300", "\"370772\": 300"), template.read_text("utf-8")):
        data = yaml.safe_load(text)
        jsonschema.validate(data, schema)
        load_spec(text)
    bad = yaml.safe_load(GOOD.replace("transform: share}", "transform: shares}", 1))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(SpecError):
        load_spec(GOOD.replace("transform: share}", "transform: shares}", 1))
