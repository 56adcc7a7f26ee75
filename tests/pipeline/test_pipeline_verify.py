"""Tests of evalkit.verify: an untouched pack verifies; any changed, added or removed file, or a
changed input, is named.

Tolerances: none (hash equality).
"""

from __future__ import annotations

import json
import shutil

import pytest

from evalkit._shared.exceptions import EvalkitError
from evalkit.verify import verify_pack


@pytest.fixture
def pack(good_pack, tmp_path):
    """A private copy of the session pack and of its input folder (manifest re-pointed)."""
    data = tmp_path / "data"
    shutil.copytree(good_pack.manifest["inputs"]["root"], data)
    out = tmp_path / "2025"
    shutil.copytree(good_pack.path, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["inputs"]["root"] = str(data)
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


def test_untouched_pack_verifies(pack):
    report = verify_pack(pack)
    assert report.ok, report.summary()
    assert report.checked == len(json.loads((pack / "manifest.json").read_text())["outputs"]) + 1
    assert report.summary().startswith("OK:")


def test_one_changed_byte_in_one_html_fails(pack):
    page = pack / "10_plain.html"
    raw = bytearray(page.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    page.write_bytes(bytes(raw))
    report = verify_pack(pack)
    assert not report.ok
    assert len(report.problems) == 1
    assert report.problems[0].startswith("output file changed: 10_plain.html (sha256 ")


def test_added_removed_and_input_changes_are_each_named(pack):
    (pack / "extra.html").write_text("<p>slipped in</p>")
    (pack / "results" / "00_plot.json").unlink()
    root = json.loads((pack / "manifest.json").read_text())["inputs"]["root"]
    with open(f"{root}/county_panel.csv", "a", encoding="utf-8") as fh:
        fh.write("370703,2025\n")
    (pack.parent / "data" / "new.csv").write_text("x\n")
    problems = verify_pack(pack).problems
    assert "output file added (not in the manifest): extra.html" in problems
    assert "output file missing: results/00_plot.json" in problems
    assert any(p.startswith("input file changed: ") and p.split()[3].endswith("county_panel.csv")
               for p in problems)
    assert any(p.startswith("input file added since the run: ") and p.endswith("new.csv")
               for p in problems)
    assert len(problems) == 4
    assert sorted(verify_pack(pack, check_inputs=False).problems) == sorted(
        p for p in problems if p.startswith("output")
    )


def test_missing_or_broken_manifest(tmp_path):
    with pytest.raises(EvalkitError, match="does not exist"):
        verify_pack(tmp_path / "nope")
    with pytest.raises(EvalkitError, match="has no manifest.json"):
        verify_pack(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(EvalkitError, match="not a valid evalkit manifest"):
        verify_pack(tmp_path)
