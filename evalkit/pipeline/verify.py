"""Check that an evidence pack is exactly what its run produced.

``evalkit verify reports/2025`` recomputes the SHA-256 of every file of the pack and of every
input data file and compares them with ``manifest.json``. Any changed, added or removed file is a
mismatch, named in the report; the command exits non-zero when there is one.

The manifest cannot hash itself, so it is held to a digest kept outside the pack: the build
prints the manifest's SHA-256 and writes it to ``<pack>.manifest.sha256`` beside the pack.
``verify`` prints the digest it finds, compares it with ``--sha256 HEX`` when given (else with
the digest file, when present) and fails when they differ: a manifest edited after the build (a
changed hash, ``synthetic_data`` set to false...) cannot pass against the digest the builder
published.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .._shared.exceptions import EvalkitError
from .manifest import (
    DIGEST_SUFFIX,
    MANIFEST_NAME,
    hash_tree,
    list_files,
    load_manifest,
    sha256_file,
)

__all__ = ["VerifyReport", "digest_file", "verify_pack"]


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
    manifest_sha256 : str
        SHA-256 of the pack's ``manifest.json``.
    digest_source : str or None
        What the manifest's digest was compared with (``"--sha256"`` or the digest file's path),
        ``None`` when it was not compared.
    """

    pack: Path
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    manifest_sha256: str = ""
    digest_source: str | None = None

    @property
    def ok(self) -> bool:
        """True when nothing differs from the manifest."""
        return not self.problems

    def summary(self) -> str:
        """A readable verdict listing every mismatch."""
        held = f" (and the digest from {self.digest_source})" if self.digest_source else ""
        digest = f"{MANIFEST_NAME} SHA-256: {self.manifest_sha256}"
        if self.ok:
            return f"OK: {self.checked} files in {self.pack} match {MANIFEST_NAME}{held}.\n{digest}"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return (
            f"FAILED: {len(self.problems)} mismatch(es) in {self.pack} "
            f"({self.checked} files checked):\n{lines}\n{digest}"
        )


def _compare(
    kind: str,
    expected: dict[str, str],
    root: Path,
    report: VerifyReport,
    also_listed: set[str] = frozenset(),
) -> None:
    actual = hash_tree(root, exclude=(MANIFEST_NAME,)) if kind == "output" else None
    if actual is not None:
        for rel in sorted(set(actual) - set(expected) - also_listed):
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


def digest_file(pack_dir: str | os.PathLike) -> Path:
    """``<pack>.manifest.sha256``: where the build writes the manifest's digest."""
    pack = Path(pack_dir).resolve()
    return pack.with_name(pack.name + DIGEST_SUFFIX)


def read_digest_file(path: Path) -> str:
    """The hexadecimal digest on the first line of a ``sha256sum``-style file."""
    try:
        first = path.read_text(encoding="utf-8").split()[0].lower()
    except (OSError, UnicodeDecodeError, IndexError) as exc:
        raise EvalkitError(f"Cannot read the digest file {path} ({exc}).") from exc
    if not re.fullmatch(r"[0-9a-f]{64}", first):
        raise EvalkitError(f"{path} does not start with a SHA-256 digest (64 hexadecimal digits).")
    return first


def check_digest_text(text: str) -> str:
    """Normalise a ``--sha256`` value, refusing anything that is not 64 hexadecimal digits."""
    value = text.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise EvalkitError(
            f"--sha256 {text!r} is not a SHA-256 digest: give the 64 hexadecimal digits the build "
            "printed (also in <pack>.manifest.sha256)."
        )
    return value


def verify_pack(
    pack_dir: str | os.PathLike, *, check_inputs: bool = True, sha256: str | None = None
) -> VerifyReport:
    """Compare an evidence pack and its input data with the hashes in ``manifest.json``.

    Parameters
    ----------
    pack_dir : path-like
        The pack folder, e.g. ``reports/2025``.
    check_inputs : bool
        Also re-hash the input data files at the path recorded in the manifest, and report input
        files added since the run.
    sha256 : str, optional
        The manifest digest the build printed; the pack fails when ``manifest.json`` does not
        hash to it. Default: the digest in ``<pack>.manifest.sha256`` when that file exists.

    Returns
    -------
    VerifyReport
        ``report.ok`` is False when the manifest does not hash to the expected digest, any output
        or user file changed, was added or removed, or an input file changed or disappeared.

    Raises
    ------
    EvalkitError
        When the folder or its manifest is missing, unreadable or malformed (naming what is
        wrong), or ``sha256`` is not a digest.

    Examples
    --------
    >>> report = verify_pack("reports/2025")  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
    OK: 41 files in reports/2025 match manifest.json (and the digest from reports/2025.manifest.sha256).
    manifest.json SHA-256: 3f0c...
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
    expected = check_digest_text(sha256) if sha256 is not None else None
    manifest = load_manifest(manifest_path)
    report = VerifyReport(pack=pack, manifest_sha256=sha256_file(manifest_path))
    if expected is not None:
        report.digest_source = "--sha256"
    elif digest_file(pack).is_file():
        expected = read_digest_file(digest_file(pack))
        report.digest_source = str(digest_file(pack))
    if expected is not None and report.manifest_sha256 != expected:
        report.problems.append(
            f"{MANIFEST_NAME} changed after the build: it hashes to {report.manifest_sha256}, "
            f"not to {expected} (from {report.digest_source})"
        )
    outputs = dict(manifest["outputs"])
    user_files = manifest.get("user_files", {})
    _compare("output", outputs, pack, report, also_listed=set(user_files))
    _compare("user", user_files, pack, report, also_listed=set(outputs))
    if check_inputs:
        inputs = manifest["inputs"]
        root = Path(inputs["root"])
        if not root.is_dir():
            report.problems.append(f"input folder missing: {root}")
        else:
            _compare("input", inputs["files"], root, report)
            now = set(list_files(root))
            for rel in sorted(now - set(inputs["files"])):
                report.problems.append(f"input file added since the run: {root / rel}")
    return report
