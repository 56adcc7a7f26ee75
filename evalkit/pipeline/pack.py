"""The pack folder of an evidence run: recognising it, locking it, replacing it, cleaning up.

:func:`evalkit.pipeline.run_evidence` builds a pack in a hidden folder beside ``--out`` and moves
it into place only when every notebook succeeded. This module holds everything that touches the
folders around that build, so that no file a user put there is ever lost:

- :func:`inspect_out` recognises an evidence pack only by the manifest evalkit writes (its
  ``schema`` and format version) and lists the files in it that the manifest does not list
  (user files); anything else that is not empty is refused.
- :class:`BuildLock` is one lock per ``--out`` (``.NAME.lock`` beside it, held with ``flock`` so
  that it dies with its process); it records the build's PID, process-group id, start time and
  host. A lock left by a build that no longer runs is taken over: :func:`recover` ends what is
  left of that build's processes, removes its ``.NAME.building-*`` folders and puts back a pack
  left in ``.NAME.old-*`` by a crash between the two renames of :func:`swap_into_place`.
- The build's processes (its process group, stop signals, ending what a dead build left) are
  in :mod:`evalkit.pipeline.processes`.
- :func:`save_failures` keeps the partial notebooks of each failed run in a timestamped folder of
  ``<out>.failed/`` (the last :data:`FAILED_KEPT`); :func:`set_modes` makes pack files 0644 and
  folders 0755.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import re
import shutil
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._shared.exceptions import EvalkitError
from .manifest import (
    DIGEST_SUFFIX,
    MANIFEST_NAME,
    USER_DIR,
    load_manifest,
)
from .processes import StopSignals, boot_id, end_processes, remove_ipc_sockets

#: Failed runs kept in ``<out>.failed/`` (older ones are removed, newest first kept).
FAILED_KEPT = 5
FILE_MODE = 0o644
DIR_MODE = 0o755
_FAILED_RE = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


class PackFolderError(EvalkitError):
    """``--out`` cannot be used as it is (not a pack, user files, busy, unwritable...)."""


def _bilingual(en: str, zh: str) -> str:
    return f"{en}\n{zh}"


def hidden_name(out: Path, kind: str) -> str:
    """Prefix of the hidden folders and files beside ``out``: ``.NAME.building-``, ``.NAME.lock``."""
    return f".{out.name}.{kind}"


# --------------------------------------------------------------------------------------------
# What is at --out
# --------------------------------------------------------------------------------------------
@dataclass
class OutState:
    """What :func:`inspect_out` found at ``--out``.

    Attributes
    ----------
    kind : {"new", "empty", "pack"}
        Nothing there, an empty folder, or an evidence pack evalkit wrote.
    user_files : list of str
        Files the pack's manifest lists as user files (kept in ``extra/``; carried forward).
    unlisted : list of str
        Files (and empty folders, with a trailing ``/``) the manifest does not list at all.
    """

    kind: str
    user_files: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)


def _describe_entries(folder: Path, limit: int = 8) -> str:
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    names = [p.name + ("/" if p.is_dir() else "") for p in entries[:limit]]
    more = len(entries) - len(names)
    return ", ".join(names) + (f" … (+{more})" if more > 0 else "")


def _pack_contents(root: Path) -> tuple[list[str], list[str]]:
    """Files (relative POSIX paths) and empty folders (with ``/``) below ``root``."""
    files, empty = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        here = Path(dirpath)
        for name in filenames:
            files.append((here / name).relative_to(root).as_posix())
        if here != root and not dirnames and not filenames:
            empty.append(here.relative_to(root).as_posix() + "/")
    return sorted(files), sorted(empty)


def inspect_out(out: Path, *, keep_extra: bool = False) -> OutState:
    """Decide whether ``out`` may receive a new pack, and what in it must be carried over.

    Parameters
    ----------
    out : Path
        The resolved ``--out`` folder.
    keep_extra : bool
        Accept a pack holding files its manifest does not list (they will be moved into the new
        pack's ``extra/``); without it such a pack is refused.

    Returns
    -------
    OutState
        ``kind`` and the user files to carry into the new pack.

    Raises
    ------
    PackFolderError
        When ``out`` is a file, a non-empty folder without an evalkit manifest, a pack whose
        manifest is damaged, or a pack holding unlisted files without ``keep_extra``. The message
        says what is there and what to do, in English and Chinese.

    Examples
    --------
    >>> import tempfile
    >>> inspect_out(Path(tempfile.mkdtemp()) / "2025").kind
    'new'
    """
    if out.parent == out:
        raise PackFolderError(f"--out {str(out)!r} is a file-system root; pass a folder below it.")
    _check_digest_file(out)
    if not out.exists() and not out.is_symlink():
        return OutState("new")
    if not out.is_dir():
        raise PackFolderError(
            _bilingual(
                f"--out {str(out)!r} is a file, not a folder; evalkit will not replace it. "
                "Pass a folder for the pack (e.g. reports/2025).",
                f"--out {str(out)!r} 是一个文件而不是文件夹,evalkit 不会替换它。请为证据包指定一个文件夹"
                "(例如 reports/2025)。",
            )
        )
    if not any(out.iterdir()):
        return OutState("empty")
    manifest_path = out / MANIFEST_NAME
    problem = None
    manifest: dict[str, Any] | None = None
    if manifest_path.is_file():
        try:
            manifest = load_manifest(manifest_path)
        except EvalkitError as exc:
            problem = getattr(exc, "what", None) or str(exc)
    if manifest is None:
        why = (
            f"its {MANIFEST_NAME} was not written by evalkit ({problem})"
            if problem
            else f"it has no {MANIFEST_NAME} written by evalkit"
        )
        raise PackFolderError(
            _bilingual(
                f"--out {str(out)!r} is not an evalkit evidence pack: {why}. It holds: "
                f"{_describe_entries(out)}. evalkit never replaces a folder it did not write. "
                "Choose a new or empty folder for --out (e.g. reports/2025), or move these files "
                "elsewhere first.",
                f"--out {str(out)!r} 不是 evalkit 证据包(缺少 evalkit 写入的 {MANIFEST_NAME}),"
                f"其中有:{_describe_entries(out)}。evalkit 不会替换不是它写的文件夹。请为 --out "
                "选择新的或空的文件夹,或先把这些文件移走。",
            )
        )
    listed = set(manifest["outputs"]) | set(manifest.get("user_files", {})) | {MANIFEST_NAME}
    files, empty = _pack_contents(out)
    user_files = sorted(f for f in manifest.get("user_files", {}) if f in files)
    unlisted = sorted([f for f in files if f not in listed] + empty)
    if unlisted and not keep_extra:
        shown = ", ".join(unlisted[:12]) + (f" … (+{len(unlisted) - 12})" if len(unlisted) > 12 else "")
        raise PackFolderError(
            _bilingual(
                f"The pack {str(out)!r} holds {len(unlisted)} file(s) its {MANIFEST_NAME} does not "
                f"list, so evalkit did not write them: {shown}. Nothing was changed. Rerun with "
                f"--keep-extra to move them into the new pack's {USER_DIR}/ folder (listed in the "
                "manifest as user files and kept in later builds), or move them out of the pack.",
                f"证据包 {str(out)!r} 中有 {len(unlisted)} 个清单({MANIFEST_NAME})未列出的文件,"
                f"不是 evalkit 写的:{shown}。未做任何改动。加上 --keep-extra 重新运行可将它们移入新证据包"
                f"的 {USER_DIR}/ 文件夹(在清单中记为用户文件,以后每次构建都会保留),或先把它们移出证据包。",
            )
        )
    return OutState("pack", user_files=user_files, unlisted=unlisted)


def _check_digest_file(out: Path) -> None:
    side = digest_path(out)
    if side.is_symlink() or (side.exists() and not side.is_file()):
        raise PackFolderError(f"{side} is not a file evalkit wrote; move it away and rerun.")
    if side.is_file():
        try:
            text = side.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        if not re.fullmatch(r"[0-9a-f]{64}  \S.*\n?", text):
            raise PackFolderError(
                _bilingual(
                    f"{side} exists but is not a digest file evalkit wrote; evalkit will not "
                    "overwrite it. Move it away and rerun.",
                    f"{side} 已存在,但不是 evalkit 写的摘要文件;evalkit 不会覆盖它。请先移走再运行。",
                )
            )


def carry_user_files(old_pack: Path, state: OutState, new_pack: Path) -> list[str]:
    """Copy the user files of the old pack into ``new_pack/extra/``; return their new paths.

    Files already listed as user files keep their place; unlisted files ``a/b.docx`` go to
    ``extra/a/b.docx`` (or stay where they are when already under ``extra/``). Copies, never
    moves: the originals stay in the old pack until the new one has replaced it.

    Parameters
    ----------
    old_pack : Path
        The current pack at ``--out``.
    state : OutState
        What :func:`inspect_out` found.
    new_pack : Path
        The pack being built.

    Returns
    -------
    list of str
        Relative paths of the user files in the new pack.

    Raises
    ------
    PackFolderError
        When two user files would land on the same path, or a user file would overwrite a file
        the build wrote.
    """
    plan: dict[str, str] = {}
    for rel in state.user_files + state.unlisted:
        target = rel if rel.startswith(f"{USER_DIR}/") else f"{USER_DIR}/{rel}"
        if target in plan or (new_pack / target.rstrip("/")).exists():
            raise PackFolderError(
                f"User file {rel!r} of {str(old_pack)!r} would land on {target!r}, which is "
                "already taken. Rename one of them and rerun."
            )
        plan[target] = rel
    for target, rel in plan.items():
        src, dst = old_pack / rel.rstrip("/"), new_pack / target.rstrip("/")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith("/"):
            dst.mkdir(exist_ok=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)
    return sorted(t for t in plan if not t.endswith("/"))


# --------------------------------------------------------------------------------------------
# Where the pack may go
# --------------------------------------------------------------------------------------------
def _mount_points() -> set[str]:
    try:
        text = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    points = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) > 4:
            points.add(parts[4].replace("\\040", " ").replace("\\011", "\t"))
    return points


def is_mount_point(path: Path) -> bool:
    """Whether ``path`` is a mount point (bind mounts included, read from ``/proc``).

    Examples
    --------
    >>> is_mount_point(Path("/"))
    True
    """
    try:
        if os.path.ismount(path):
            return True
    except OSError:
        return False
    return str(path) in _mount_points()


def check_out_location(out: Path) -> None:
    """Refuse, before any notebook runs, an ``--out`` the pack could not be moved into.

    Parameters
    ----------
    out : Path
        The resolved ``--out`` folder.

    Raises
    ------
    PackFolderError
        When ``out`` is a mount point (a mount point cannot be renamed: the finished pack could
        not replace it) or its parent folder cannot be created or written.
    """
    if out.is_dir() and is_mount_point(out):
        raise PackFolderError(
            _bilingual(
                f"--out {str(out)!r} is a mount point. evalkit replaces a pack by renaming folders, "
                "which a mount point does not allow, so the pack could not be put in place after "
                f"the run. Pass a folder inside it instead, e.g. --out {out / out.name}.",
                f"--out {str(out)!r} 是一个挂载点。evalkit 通过重命名文件夹来替换证据包,挂载点不能被"
                f"重命名,运行结束后证据包将无法放到位。请改用其中的子文件夹,例如 --out {out / out.name}。",
            )
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unwritable(out.parent, exc) from exc
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise unwritable(out.parent, OSError(errno.EACCES, os.strerror(errno.EACCES)))


def unwritable(path: Path, exc: OSError) -> PackFolderError:
    """The error for a folder evalkit cannot write (read-only, no permission, disk full...)."""
    reason = exc.strerror or str(exc)
    return PackFolderError(
        _bilingual(
            f"Cannot write the evidence pack at {str(path)!r}: {reason}. Nothing was changed. "
            "Pass --out a folder on a writable disk with free space (e.g. reports/2025).",
            f"无法在 {str(path)!r} 写入证据包:{reason}。未做任何改动。请让 --out 指向可写且有空余空间的"
            "磁盘上的文件夹(例如 reports/2025)。",
        )
    )


def digest_path(out: Path) -> Path:
    """``<out>.manifest.sha256``, the digest file written beside the pack."""
    return out.with_name(out.name + DIGEST_SUFFIX)


def write_digest(out: Path, digest: str) -> Path:
    """Write ``<out>.manifest.sha256`` (``sha256sum`` format) atomically; return its path."""
    side = digest_path(out)
    tmp = side.with_name(f".{side.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(f"{digest}  {out.name}/{MANIFEST_NAME}\n", encoding="utf-8")
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, side)
    return side


def set_modes(root: Path) -> None:
    """Make every file below ``root`` mode 0644 and every folder 0755 (symlinks untouched)."""
    os.chmod(root, DIR_MODE)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, DIR_MODE)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, FILE_MODE)


def swap_into_place(new: Path, out: Path, signals: StopSignals | None = None) -> None:
    """Replace ``out`` by ``new`` with two renames, stop signals held back in between.

    The old pack goes to ``.NAME.old-*`` first and is removed once the new one is in place; if
    the second rename fails the old pack is put back. A crash between the renames leaves the old
    pack in ``.NAME.old-*``, which the next build puts back (:func:`recover`).

    Parameters
    ----------
    new : Path
        The finished pack (beside ``out``, same file system).
    out : Path
        Where it goes.
    signals : StopSignals, optional
        Stop signals arriving during the renames are deferred until both are done.
    """
    guard = signals.deferred() if signals is not None else contextlib.nullcontext()
    with guard:
        if out.exists() or out.is_symlink():
            old = out.with_name(f"{hidden_name(out, 'old-')}{uuid.uuid4().hex[:8]}")
            os.rename(out, old)
            try:
                os.rename(new, out)
            except OSError:
                os.rename(old, out)
                raise
        else:
            old = None
            os.rename(new, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Failed runs
# --------------------------------------------------------------------------------------------
def failed_root(out: Path) -> Path:
    """``<out>.failed``, the folder of the failed runs' partial notebooks."""
    return out.with_name(out.name + ".failed")


def save_failures(
    pack: Path, names: list[str], lines: list[str], out: Path, *, keep: int = FAILED_KEPT
) -> Path:
    """Copy the failed notebooks' partial ``.ipynb`` and HTML into ``<out>.failed/<UTC time>/``.

    Only the newest ``keep`` run folders (named by time, holding ``FAILED.txt``) are kept; other
    content of ``<out>.failed/`` is never touched.

    Parameters
    ----------
    pack : Path
        The pack being built (holding the partial notebooks).
    names : list of str
        The failed notebooks.
    lines : list of str
        One line per failure, written to ``FAILED.txt``.
    out : Path
        The ``--out`` folder.
    keep : int
        Run folders kept.

    Returns
    -------
    Path
        The new run folder.
    """
    root = failed_root(out)
    root.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    taken = [_run_order(p) for p in root.glob(stamp + "*") if _FAILED_RE.match(p.name)]
    n = max((order[1] for order in taken), default=0) + 1  # later than any run of this second
    folder = root / (stamp if n == 1 else f"{stamp}-{n}")
    folder.mkdir()
    for name in names:
        for src in (
            pack / "notebooks" / f"{name}.ipynb",
            pack / f"{name}.html",
            pack / f"{name}.code.html",
        ):
            if src.exists():
                shutil.copy2(src, folder / src.name)
    (folder / "FAILED.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    set_modes(folder)
    os.chmod(root, DIR_MODE)
    runs = sorted(
        (p for p in root.iterdir() if p.is_dir() and _FAILED_RE.match(p.name)
         and (p / "FAILED.txt").is_file()),
        key=_run_order,
    )
    for stale in runs[:-keep] if keep > 0 else runs:
        shutil.rmtree(stale, ignore_errors=True)
    return folder


def _run_order(path: Path) -> tuple[str, int]:
    """Sort key of a failed-run folder ``YYYYmmddTHHMMSSZ[-n]``: time, then ``n``."""
    return path.name[:16], int(path.name[17:] or 1)


# --------------------------------------------------------------------------------------------
# The lock and recovery after a dead build
# --------------------------------------------------------------------------------------------
def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class BuildLock:
    """One lock per ``--out``: the file ``.NAME.lock`` beside it, held with ``flock``.

    ``flock`` ends with its process, however it dies, so a lock is never "held" by a dead
    build; the file's content (PID, process-group id, start time, host, token, build folder)
    says who holds it and, after a crash, what that build left behind.

    Parameters
    ----------
    out : Path
        The resolved ``--out`` folder.
    """

    def __init__(self, out: Path):
        self.out = out
        self.path = out.with_name(hidden_name(out, "lock"))
        self._fd: int | None = None
        self.info: dict[str, Any] = {}

    def acquire(self, info: dict[str, Any]) -> dict[str, Any] | None:
        """Take the lock or refuse at once.

        Parameters
        ----------
        info : dict
            What to record (``pid``, ``pgid``, ``token``, ``work``...); the host, boot id and
            start time are added.

        Returns
        -------
        dict or None
            The record a dead build left in the lock file (to :func:`recover` from), or ``None``.

        Raises
        ------
        PackFolderError
            When another build holds the lock (naming its PID, process group, start time and
            host), or the lock file cannot be created.
        """
        import fcntl

        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
            except OSError as exc:
                raise unwritable(self.path.parent, exc) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise unwritable(self.path.parent, exc) from exc
                raise self._busy() from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the holder released (and removed) it meanwhile: try again
                os.close(fd)
                continue
            self._fd = fd
            break
        else:  # pragma: no cover - five removals in a row
            raise self._busy()
        previous = self._read_fd()
        self.info = {
            "tool": "evalkit evidence",
            "host": socket.gethostname(),
            "boot_id": boot_id(),
            "started_at": _now(),
            "out": str(self.out),
            **info,
        }
        self.update()
        return previous

    def update(self, **changes: Any) -> None:
        """Rewrite the lock's record (e.g. once the process group exists)."""
        self.info.update(changes)
        data = json.dumps(self.info, ensure_ascii=False, indent=1).encode("utf-8")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        os.fsync(self._fd)

    def _read_fd(self) -> dict[str, Any] | None:
        raw = os.pread(self._fd, 1 << 16, 0)
        if not raw.strip():
            return None
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return {}
        return record if isinstance(record, dict) else {}

    def _busy(self) -> PackFolderError:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        who = (
            f"PID {record.get('pid', '?')}, process group {record.get('pgid', '?')}, started "
            f"{record.get('started_at', '?')} on host {record.get('host', '?')}"
        )
        return PackFolderError(
            _bilingual(
                f"Another evalkit build is writing {str(self.out)!r} ({who}); two builds into one "
                "folder would overwrite each other, so this one stops here and changes nothing. "
                f"Wait for it to finish, or stop it (kill {record.get('pid', 'PID')}), then rerun.",
                f"另一个 evalkit 构建正在写入 {str(self.out)!r}({who});同一文件夹的两个构建会相互覆盖,"
                f"本次构建未做任何改动。请等它结束或先停止它(kill {record.get('pid', 'PID')}),再重新运行。",
            )
        )

    def release(self) -> None:
        """Remove the lock file and let go of the lock."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None


def recover(out: Path, dead: dict[str, Any] | None, note: Callable[[str], None]) -> None:
    """Clean up after builds that died: processes, build folders, a pack left mid-swap.

    Runs with the lock held, so no live build owns any of these.

    Parameters
    ----------
    out : Path
        The ``--out`` folder.
    dead : dict or None
        The record of the lock's previous holder, which no longer runs (``None``: the lock was
        released normally).
    note : callable
        Receives one line per thing done.
    """
    if dead is not None:
        who = f"PID {dead.get('pid', '?')}, started {dead.get('started_at', '?')}"
        note(f"took over the lock of an earlier build that is no longer running ({who}).")
        token = dead.get("token")
        same_boot = dead.get("boot_id") in (None, boot_id())
        if isinstance(token, str) and token and same_boot and dead.get("host") == socket.gethostname():
            group = dead.get("pgid") if isinstance(dead.get("pgid"), int) else None
            ended = end_processes(token, group)
            if ended:
                note(f"ended {len(ended)} leftover process(es) of that build: {ended}.")
            remove_ipc_sockets(token)
    for debris in sorted(out.parent.glob(hidden_name(out, "building-") + "*")):
        if debris.is_dir() and not debris.is_symlink() and _is_build_folder(debris):
            shutil.rmtree(debris, ignore_errors=True)
            note(f"removed the build folder {debris.name} left by a stopped build.")
    olds = sorted(
        (p for p in out.parent.glob(hidden_name(out, "old-") + "*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
    )
    if olds and not out.exists():
        back = olds.pop()
        os.rename(back, out)
        note(f"put back the previous pack from {back.name} (a build died while replacing it).")
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
        note(f"removed {old.name}, a replaced pack a stopped build had not yet deleted.")


def _is_build_folder(path: Path) -> bool:
    """A ``.NAME.building-*`` folder evalkit made: empty or holding ``pack``/``status``/marker."""
    try:
        names = {p.name for p in path.iterdir()}
    except OSError:
        return False
    return not names or bool(names & {"pack", "status", ".evalkit-build"})


def new_token() -> str:
    """A fresh random build token."""
    return uuid.uuid4().hex
