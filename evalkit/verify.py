"""Check that an evidence pack is exactly what its run produced.

``evalkit verify reports/2025`` recomputes the SHA-256 of every file of the pack and of every
input data file and compares them with ``manifest.json``. Any changed, added or removed file is a
mismatch, named in the report; the command exits non-zero when there is one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ._pipeline_manifest import MANIFEST_NAME, hash_tree, list_files, sha256_file
from ._shared.exceptions import EvalkitError

__all__ = ["VerifyReport", "verify_pack"]


@dataclass
class VerifyReport:
    """The outcome of :func:`verify_pack`.

    Attributes
    ----------
    pack : Path
        The pack checked.
    checked : int
        Number of files whose hash was compared.
    problems : list of str
        One line per mismatch (empty when the pack verifies).
    """

    pack: Path
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing differs from the manifest."""
        return not self.problems

    def summary(self) -> str:
        """A readable verdict listing every mismatch."""
        if self.ok:
            return f"OK: {self.checked} files in {self.pack} match {MANIFEST_NAME}."
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return (
            f"FAILED: {len(self.problems)} mismatch(es) in {self.pack} "
            f"({self.checked} files checked):\n{lines}"
        )


def _compare(kind: str, expected: dict[str, str], root: Path, report: VerifyReport) -> None:
    actual = hash_tree(root, exclude=(MANIFEST_NAME,)) if kind == "output" else None
    if actual is not None:
        for rel in sorted(set(actual) - set(expected)):
            report.problems.append(f"output file added (not in the manifest): {rel}")
    for rel, digest in expected.items():
        path = root / rel
        if not path.is_file():
            report.problems.append(f"{kind} file missing: {path if kind == 'input' else rel}")
            continue
        got = actual[rel] if actual is not None else sha256_file(path)
        report.checked += 1
        if got != digest:
            where = path if kind == "input" else rel
            report.problems.append(
                f"{kind} file changed: {where} (sha256 {got[:12]}…, manifest {digest[:12]}…)"
            )


def verify_pack(pack_dir: str | os.PathLike, *, check_inputs: bool = True) -> VerifyReport:
    """Compare an evidence pack and its input data with the hashes in ``manifest.json``.

    Parameters
    ----------
    pack_dir : path-like
        The pack folder, e.g. ``reports/2025``.
    check_inputs : bool
        Also re-hash the input data files at the path recorded in the manifest, and report input
        files added since the run.

    Returns
    -------
    VerifyReport
        ``report.ok`` is False when any output file changed, was added or removed, or an input
        file changed or disappeared.

    Raises
    ------
    EvalkitError
        When the folder or its manifest is missing or unreadable.
    """
    pack = Path(pack_dir)
    manifest_path = pack / MANIFEST_NAME
    if not pack.is_dir():
        raise EvalkitError(f"Pack folder {str(pack)!r} does not exist.")
    if not manifest_path.is_file():
        raise EvalkitError(
            f"{str(pack)!r} has no {MANIFEST_NAME}, so it is not an evidence pack (or the "
            "manifest was deleted). Rebuild it with `evalkit evidence`."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        outputs = manifest["outputs"]
        inputs = manifest["inputs"]
    except (json.JSONDecodeError, KeyError, UnicodeDecodeError) as exc:
        raise EvalkitError(
            f"{manifest_path} is not a valid evalkit manifest ({exc}). Rebuild the pack."
        ) from exc
    report = VerifyReport(pack=pack)
    _compare("output", outputs, pack, report)
    if check_inputs:
        root = Path(inputs["root"])
        if not root.is_dir():
            report.problems.append(f"input folder missing: {root}")
        else:
            _compare("input", inputs["files"], root, report)
            now = set(list_files(root))
            for rel in sorted(now - set(inputs["files"])):
                report.problems.append(f"input file added since the run: {root / rel}")
    return report
