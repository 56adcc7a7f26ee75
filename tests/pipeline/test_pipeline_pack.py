"""The pack folder is safe: user files, the lock, stops and kills, the digest, parameters, modes.

Each test repeats a case of issue 19 the way a user meets it (mostly through ``evalkit.cli.main``
or a real ``evalkit`` process) and checks what is left on disk and in the process table.
Notebooks are tiny throwaway notebooks (``tests/conftest.py``), so a build takes seconds; the
slow cell of the stop tests sleeps until the build is stopped.

Tolerances: none (exact files, bytes, hashes, exit codes); waits are bounded (10 s after a stop,
as the issue asks; 120 s for a build to reach its first cell on a loaded machine).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evalkit._shared.exceptions import EvalkitError
from evalkit.cli import main
from evalkit.pipeline import pack as packmod
from evalkit.pipeline import run_evidence, verify_pack
from evalkit.pipeline.manifest import PACK_SCHEMA, load_manifest
from evalkit.pipeline.pack import (
    BuildLock,
    PackFolderError,
    inspect_out,
    is_mount_point,
    recover,
    save_failures,
)
from evalkit.pipeline.processes import BUILD_ENV, alive, processes_of

#: Seconds a stopped build may take to leave no process and no folder behind (issue 19).
STOP_GRACE = 10
#: Seconds a build may take to start its first cell on a loaded 2-core machine.
START_WAIT = 120

SLOW_CELL = (
    "import os, pathlib, time\n"
    "pathlib.Path(mark).write_text(str(os.getpid()))\n"
    "time.sleep(300)"
)
#: Runs the command line in a child process with the panel check switched off (tiny test data).
RUNNER = (
    "import sys\n"
    "import evalkit.pipeline.build as p\n"
    "p._inspect_data = lambda d, y, s, c, *rest: True\n"
    "from evalkit.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _debris(parent: Path) -> list[str]:
    return sorted(
        p.name for p in parent.iterdir()
        if ".building-" in p.name or ".old-" in p.name or p.name.endswith(".lock")
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli(tmp_path: Path, data_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["evidence", "--year", "2025", "--data", str(data_dir), "--quiet",
            "--notebooks-dir", str(tmp_path / "notebooks"), "--out", str(out), *extra]


@pytest.fixture
def no_data_check(monkeypatch):
    monkeypatch.setattr("evalkit.pipeline.build._inspect_data", lambda d, y, s, c, *rest: True)


@pytest.fixture
def old_pack(good_pack, tmp_path) -> Path:
    """A copy of the session's finished pack at ``<tmp>/reports/2025`` (its previous pack)."""
    out = tmp_path / "reports" / "2025"
    shutil.copytree(good_pack.path, out)
    return out


def _spawn_build(tmp_path: Path, data_dir: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop(BUILD_ENV, None)
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, *_cli(tmp_path, data_dir, out, *extra)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _wait_for(path: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_WAIT
    while not (path.exists() and path.read_text().strip()):
        if proc.poll() is not None:
            raise AssertionError(f"the build ended early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the build did not reach its slow cell in time")
        time.sleep(0.1)


def _lock_record(out: Path) -> dict:
    return json.loads(out.with_name(f".{out.name}.lock").read_text(encoding="utf-8"))


def _gone_within(pids: list[int], token: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not processes_of(token) and not any(alive(p) for p in pids):
            return True
        time.sleep(0.2)
    return False


# ------------------------------------------------------------------ 1. user files
def test_foreign_folder_with_a_manifest_is_refused_and_left_intact(
    tmp_path, notebook_factory, data_dir, capsys
):
    """Issue 19, case 1: `s/` with thesis.docx, src/app.js and a `{}` manifest.json."""
    notebook_factory("00_x")
    s = tmp_path / "s"
    (s / "src").mkdir(parents=True)
    (s / "thesis.docx").write_text("a")
    (s / "src" / "app.js").write_text("b")
    (s / "manifest.json").write_text("{}")
    before = _snapshot(s)
    assert main(_cli(tmp_path, data_dir, s)) == 2
    err = capsys.readouterr().err
    assert "is not an evalkit evidence pack" in err and "不是 evalkit 证据包" in err
    assert "manifest.json, src/, thesis.docx" in err and f'"schema": "{PACK_SCHEMA}"' in err
    assert "Choose a new or empty folder" in err and "Traceback" not in err
    assert _snapshot(s) == before
    assert _debris(tmp_path) == [] and not (tmp_path / "s.failed").exists()


def test_pack_marker_and_unlisted_files(old_pack, tmp_path):
    assert inspect_out(tmp_path / "new").kind == "new"
    (tmp_path / "empty").mkdir()
    assert inspect_out(tmp_path / "empty").kind == "empty"
    assert inspect_out(old_pack).kind == "pack"
    manifest = json.loads((old_pack / "manifest.json").read_text(encoding="utf-8"))
    for forged in ({**manifest, "schema": "someone.else"}, {"outputs": {}, "inputs": {}}):
        (old_pack / "manifest.json").write_text(json.dumps(forged), encoding="utf-8")
        with pytest.raises(PackFolderError, match="not an evalkit evidence pack"):
            inspect_out(old_pack)
    legacy = {k: v for k, v in manifest.items() if k != "schema"} | {"manifest_version": 1}
    (old_pack / "manifest.json").write_text(json.dumps(legacy), encoding="utf-8")
    assert inspect_out(old_pack).kind == "pack"  # a pack of an earlier evalkit is still one
    (old_pack / "专家评审意见.docx").write_text("review")
    (old_pack / "results" / "mine.csv").write_text("x")
    (old_pack / "empty_folder").mkdir()
    with pytest.raises(PackFolderError) as info:
        inspect_out(old_pack)
    text = str(info.value)
    assert "3 file(s) its manifest.json does not list" in text
    assert "empty_folder/, results/mine.csv, 专家评审意见.docx" in text
    assert "--keep-extra" in text and "未做任何改动" in text
    kept = inspect_out(old_pack, keep_extra=True)
    assert kept.unlisted == ["empty_folder/", "results/mine.csv", "专家评审意见.docx"]


def test_a_file_is_not_a_pack_folder(tmp_path):
    (tmp_path / "2025").write_text("mine")
    with pytest.raises(PackFolderError, match="is a file, not a folder"):
        inspect_out(tmp_path / "2025")
    (tmp_path / "x.manifest.sha256").write_text("my notes")
    with pytest.raises(PackFolderError, match="not a digest file evalkit wrote"):
        inspect_out(tmp_path / "x")


@pytest.fixture(scope="module")
def kept_pack(tmp_path_factory, good_pack, make_test_notebooks):
    """A pack with user files: refused without --keep-extra, built with it, then rebuilt.

    The previous pack is a copy of the session's pack; the two builds run under umask 077 so
    that the modes the pack gets are evalkit's own. The last build goes through the command
    line, whose output is kept.
    """
    root = tmp_path_factory.mktemp("kept")
    data = root / "data"
    data.mkdir()
    (data / "county_panel.csv").write_text("unit_code,year\n370702,2025\n", encoding="utf-8")
    notebooks = make_test_notebooks(root / "notebooks")
    out = root / "reports" / "2025"
    shutil.copytree(good_pack.path, out)
    common = dict(notebooks=["00_plot"], notebooks_dir=notebooks, check_data=False,
                  synthetic=True, progress=False, workers=1)
    (out / "专家评审意见.docx").write_bytes(b"expert review \xe4\xb8\xad")
    (out / "notes").mkdir()
    (out / "notes" / "x.txt").write_text("note")
    with_files = _snapshot(out)
    with pytest.raises(PackFolderError) as refused:
        run_evidence(2025, data, out, **common)
    after_refusal = _snapshot(out)
    old_umask = os.umask(0o077)
    try:
        second = run_evidence(2025, data, out, keep_extra=True, **common)
        (out / "extra" / "later.txt").write_text("added after --keep-extra")
        with pytest.raises(PackFolderError, match="extra/later.txt"):
            run_evidence(2025, data, out, **common)  # new unlisted files are refused again
        (out / "extra" / "later.txt").unlink()
        printed = io.StringIO()
        with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
            mp.setattr("evalkit.pipeline.build._inspect_data", lambda d, y, s, c, *rest: True)
            code = main(["evidence", "--year", "2025", "--data", str(data), "--quiet",
                         "--notebooks-dir", str(notebooks), "--notebooks", "00_plot",
                         "--workers", "1", "--out", str(out)])  # user files carried along
    finally:
        os.umask(old_umask)
    assert code == 0
    return {"out": out, "second": second, "refused": str(refused.value),
            "with_files": with_files, "after_refusal": after_refusal,
            "printed": printed.getvalue(),
            "manifest": json.loads((out / "manifest.json").read_text(encoding="utf-8"))}


def test_user_files_refused_then_kept_in_extra(kept_pack):
    out = kept_pack["out"]
    assert "2 file(s) its manifest.json does not list" in kept_pack["refused"]
    assert "notes/x.txt, 专家评审意见.docx" in kept_pack["refused"]
    assert kept_pack["after_refusal"] == kept_pack["with_files"]  # refusal changed nothing
    for manifest in (kept_pack["second"].manifest, kept_pack["manifest"]):
        assert sorted(manifest["user_files"]) == ["extra/notes/x.txt", "extra/专家评审意见.docx"]
        assert not set(manifest["user_files"]) & set(manifest["outputs"])
    assert (out / "extra" / "专家评审意见.docx").read_bytes() == b"expert review \xe4\xb8\xad"
    assert (out / "extra" / "notes" / "x.txt").read_text() == "note"
    assert not (out / "专家评审意见.docx").exists() and not (out / "notes").exists()
    assert kept_pack["second"].notes and "moved 2 user file(s)" in kept_pack["second"].notes[-1]
    report = verify_pack(out)
    assert report.ok, report.summary()
    (out / "extra" / "notes" / "x.txt").write_text("edited")
    problems = verify_pack(out).problems
    (out / "extra" / "notes" / "x.txt").write_text("note")
    assert len(problems) == 1 and problems[0].startswith("user file changed: extra/notes/x.txt")


def test_pack_files_are_0644_and_folders_0755(kept_pack):
    out = kept_pack["out"]
    digest_file = out.with_name("2025.manifest.sha256")
    for path in [out, *out.rglob("*"), digest_file]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


# ------------------------------------------------------------------ 4. the digest
def test_manifest_lists_every_file_and_digest_is_written_beside(kept_pack):
    out, manifest = kept_pack["out"], kept_pack["manifest"]
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert sorted([*manifest["outputs"], *manifest["user_files"]]) == [
        f for f in files if f != "manifest.json"
    ]
    assert "index.html" in manifest["outputs"]
    digest = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    assert out.with_name("2025.manifest.sha256").read_text() == f"{digest}  2025/manifest.json\n"
    assert load_manifest(out / "manifest.json")["schema"] == PACK_SCHEMA


def test_build_prints_digest_last_and_verify_holds_manifest_to_it(kept_pack, tmp_path, capsys):
    out = tmp_path / "2025"
    shutil.copytree(kept_pack["out"], out)
    shutil.copy2(kept_pack["out"].with_name("2025.manifest.sha256"), tmp_path)
    printed = kept_pack["printed"].strip().splitlines()
    digest = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    assert re.fullmatch(rf"manifest\.json SHA-256 \(also in .*2025\.manifest\.sha256\): {digest}",
                        printed[-1])
    assert main(["verify", str(out), "--sha256", digest.upper()]) == 0
    said = capsys.readouterr().out
    assert said.strip().splitlines()[-1] == f"manifest.json SHA-256: {digest}"
    assert "--sha256" in said
    # a forged manifest: the synthetic flag flipped, nothing else touched
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["synthetic_data"] is True
    forged = json.dumps({**manifest, "synthetic_data": False}, ensure_ascii=False, indent=2)
    (out / "manifest.json").write_text(forged, encoding="utf-8")
    assert verify_pack(out, check_inputs=False, sha256=None).problems != []  # digest file beside
    assert main(["verify", str(out), "--sha256", digest]) == 1
    err = capsys.readouterr().err
    assert "manifest.json changed after the build: it hashes to " in err and digest in err
    # an estimate changed and its hash in the manifest updated to match: still caught
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                       encoding="utf-8")
    index = out / "index.html"
    index.write_text(index.read_text(encoding="utf-8") + "<!-- 0.999 -->", encoding="utf-8")
    manifest["outputs"]["index.html"] = hashlib.sha256(index.read_bytes()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert verify_pack(out, check_inputs=False).ok is False
    assert main(["verify", str(out), "--sha256", digest, "--skip-inputs"]) == 1
    capsys.readouterr()
    assert main(["verify", str(out), "--sha256", "abc"]) == 2
    assert "is not a SHA-256 digest" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "the top level is a list"),
        ("{}", 'no "schema": "evalkit.evidence-pack" marker'),
        (json.dumps({"schema": PACK_SCHEMA, "manifest_version": 2, "inputs": {}}),
         "missing key(s) 'outputs'"),
        (json.dumps({"schema": PACK_SCHEMA, "manifest_version": 2, "outputs": [],
                     "inputs": {"root": "/x", "files": {}}}), "'outputs' must be an object"),
        (json.dumps({"schema": PACK_SCHEMA, "manifest_version": 2, "outputs": {"a": "0" * 64},
                     "inputs": {"root": "/x"}}), "missing key 'inputs.files'"),
        (json.dumps({"schema": PACK_SCHEMA, "manifest_version": 2,
                     "outputs": {"../../etc/passwd": "0" * 64},
                     "inputs": {"root": "/x", "files": {}}}), "unsafe path '../../etc/passwd'"),
        (json.dumps({"schema": PACK_SCHEMA, "manifest_version": 99, "outputs": {},
                     "inputs": {"root": "/x", "files": {}}}), "newer than this evalkit reads"),
    ],
)
def test_malformed_manifest_gets_a_clear_error(tmp_path, capsys, text, message):
    (tmp_path / "manifest.json").write_text(text, encoding="utf-8")
    with pytest.raises(EvalkitError, match=re.escape(message)):
        verify_pack(tmp_path)
    assert main(["verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# ------------------------------------------------------------------ 5. parameters
@pytest.mark.parametrize(
    ("name", "value", "option"),
    [("year", "2024", "--year"), ("output_dir", "/elsewhere", "--out"),
     ("data_dir", "/other", "--data"), ("language", "en", "--language")],
)
def test_standard_parameters_cannot_come_from_p(
    tmp_path, notebook_factory, data_dir, capsys, name, value, option
):
    notebook_factory("00_x")
    out = tmp_path / "out"
    assert main(_cli(tmp_path, data_dir, out, "-p", f"00_x:{name}={value}")) == 2
    err = capsys.readouterr().err
    assert f"the parameter {name!r} comes from the command ({option})" in err
    assert "Traceback" not in err and not out.exists()
    with pytest.raises(EvalkitError, match=f"parameter {name!r} comes from the command"):
        run_evidence(2025, data_dir, out, notebooks_dir=tmp_path / "notebooks",
                     parameters={"00_x": {name: value}}, check_data=False, progress=False)


# ------------------------------------------------------------------ 6. where the pack goes
def test_mount_point_refused_before_any_notebook(
    tmp_path, notebook_factory, data_dir, capsys, monkeypatch
):
    assert is_mount_point(Path("/")) and not is_mount_point(tmp_path)
    mark = tmp_path / "ran"
    notebook_factory("00_x", [f"open({str(mark)!r}, 'w').write('ran')"])
    out = tmp_path / "mnt"
    out.mkdir()
    monkeypatch.setattr(packmod, "is_mount_point", lambda p: p == out)
    assert main(_cli(tmp_path, data_dir, out)) == 2
    err = capsys.readouterr().err
    assert "is a mount point" in err and f"--out {out / 'mnt'}" in err and "挂载点" in err
    assert not mark.exists() and _debris(tmp_path) == []


def test_unwritable_out_exits_2_without_traceback(
    tmp_path, notebook_factory, data_dir, capsys, monkeypatch
):
    notebook_factory("00_x")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / "ro"))

    monkeypatch.setattr("evalkit.pipeline.build.tempfile.mkdtemp", read_only)
    out = tmp_path / "ro" / "2025"
    assert main(_cli(tmp_path, data_dir, out)) == 2
    err = capsys.readouterr().err
    assert "Cannot write the evidence pack" in err and "Read-only file system" in err
    assert "无法在" in err and "Traceback" not in err
    assert _debris(tmp_path / "ro") == []  # the lock was released
    assert main(["--debug", *_cli(tmp_path, data_dir, out)]) == 2
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setattr(packmod.os, "access", lambda path, mode: False)
    assert main(_cli(tmp_path, data_dir, out)) == 2
    assert "Permission denied" in capsys.readouterr().err


def test_file_system_error_during_the_build_exits_2(tmp_path, notebook_factory, data_dir,
                                                    capsys, monkeypatch):
    notebook_factory("00_x")

    def unreadable(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(data_dir / "x.csv"))

    monkeypatch.setattr("evalkit.pipeline.build._inspect_data", unreadable)
    out = tmp_path / "reports" / "2025"
    assert main(_cli(tmp_path, data_dir, out)) == 2
    err = capsys.readouterr().err
    assert f"Cannot use {data_dir / 'x.csv'}: Permission denied; no pack was written" in err
    assert "Traceback" not in err and _debris(out.parent) == []


# ------------------------------------------------------------------ 2. the lock
def test_second_build_is_refused_at_once_while_first_holds_the_lock(
    tmp_path, notebook_factory, data_dir, capsys
):
    notebook_factory("00_x")
    out = tmp_path / "reports" / "2025"
    out.parent.mkdir(parents=True)
    holder = BuildLock(out)
    assert holder.acquire({"pid": 4242, "pgid": 4243, "token": "t"}) is None
    try:
        start = time.monotonic()
        assert main(_cli(tmp_path, data_dir, out)) == 2
        assert time.monotonic() - start < 10  # at once: no notebook, no waiting for the lock
        err = capsys.readouterr().err
        assert "Another evalkit build is writing" in err and "PID 4242, process group 4243" in err
        assert "另一个 evalkit 构建" in err and not out.exists()
    finally:
        holder.release()
    assert _debris(out.parent) == []


@pytest.mark.slow  # ~40 s: two real builds
def test_two_concurrent_builds_one_refused_pack_verifies(tmp_path, nb_writer, data_dir, capsys):
    """Issue 19, case 2, with two real `evalkit evidence` processes into one --out."""
    mark = tmp_path / "first-is-running"
    nb_writer(tmp_path / "notebooks" / "00_x.ipynb",
              ["import pathlib, time\npathlib.Path(mark).write_text('1')\ntime.sleep(4)"],
              extra_parameters='mark: str = ""\n')
    out = tmp_path / "reports" / "2025"
    first = _spawn_build(tmp_path, data_dir, out, "--workers", "1", "-p", f"00_x:mark={mark}")
    _wait_for(mark, first)
    second = subprocess.run(
        [sys.executable, "-c", RUNNER,
         *_cli(tmp_path, data_dir, out, "-p", f"00_x:mark={tmp_path / 'second'}")],
        capture_output=True, text=True, timeout=300,  # a loaded machine starts Python slowly
    )
    assert second.returncode == 2, second.stderr
    assert f"PID {first.pid}" in second.stderr and "Another evalkit build" in second.stderr
    stdout, stderr = first.communicate(timeout=START_WAIT)
    assert first.returncode == 0, stderr
    assert not (tmp_path / "second").exists()
    assert verify_pack(out).ok
    assert _debris(out.parent) == []


# ------------------------------------------------------------------ 3. stops and kills
@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)]
)
def test_stop_signal_ends_everything_within_10_s(old_pack, tmp_path, nb_writer, data_dir,
                                                 signum):
    mark = tmp_path / "kernel-pid"
    nb_writer(tmp_path / "notebooks" / "00_slow.ipynb", [SLOW_CELL],
              extra_parameters='mark: str = ""\n')
    nb_writer(tmp_path / "notebooks" / "10_other.ipynb", ["import time\ntime.sleep(300)"])
    before = _snapshot(old_pack)
    build = _spawn_build(tmp_path, data_dir, old_pack, "-p", f"00_slow:mark={mark}")
    _wait_for(mark, build)
    record = _lock_record(old_pack)
    kernel = int(mark.read_text())
    assert record["pid"] == build.pid and record["pgid"] and kernel in processes_of(record["token"])
    assert os.getpgid(kernel) != os.getpgid(build.pid)  # kernels: their own session (Jupyter)
    build.send_signal(signum)
    _, stderr = build.communicate(timeout=STOP_GRACE)
    assert build.returncode == 128 + signum
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"evalkit evidence: stopped by {signal.Signals(signum).name}: "
                           f"the previous pack {old_pack} is unchanged")
    assert "Traceback" not in stderr
    assert _gone_within([kernel, record["pgid"]], record["token"], STOP_GRACE)
    assert _debris(old_pack.parent) == []
    assert _snapshot(old_pack) == before and verify_pack(old_pack, check_inputs=False).ok


@pytest.mark.slow  # ~35 s: a build killed, then a full rebuild
def test_next_build_cleans_up_after_sigkill(old_pack, tmp_path, nb_writer, data_dir, capsys,
                                            no_data_check):
    mark = tmp_path / "kernel-pid"
    nb_writer(tmp_path / "notebooks" / "00_slow.ipynb", [SLOW_CELL],
              extra_parameters='mark: str = ""\n')
    build = _spawn_build(tmp_path, data_dir, old_pack, "--workers", "1",
                         "-p", f"00_slow:mark={mark}")
    _wait_for(mark, build)
    record = _lock_record(old_pack)
    build.kill()
    build.communicate(timeout=30)
    assert [p.name for p in old_pack.parent.glob(".2025.building-*")]  # debris left by the kill
    # the slow notebook replaced by a quick one: the next build must clean up and succeed
    nb_writer(tmp_path / "notebooks" / "00_slow.ipynb", ["print('quick')"],
              extra_parameters='mark: str = ""\n')
    assert main(_cli(tmp_path, data_dir, old_pack, "--workers", "1")) == 0
    err = capsys.readouterr().err
    assert f"took over the lock of an earlier build that is no longer running (PID {build.pid}" in err
    assert "removed the build folder .2025.building-" in err
    assert not processes_of(record["token"])
    assert _debris(old_pack.parent) == []
    assert verify_pack(old_pack).ok


def test_recovery_ends_leftovers_and_restores_a_pack_caught_between_renames(old_pack, tmp_path):
    """A build killed between the two renames: its lock, its processes, its folders."""
    token = "deadbeef" * 4
    leftover = subprocess.Popen(  # a kernel/worker of the dead build, still running
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env=dict(os.environ, **{BUILD_ENV: token}), process_group=0,
    )
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        parent = old_pack.parent
        lock = parent / ".2025.lock"
        lock.write_text(json.dumps({"pid": gone.pid, "pgid": leftover.pid, "token": token,
                                    "host": os.uname().nodename, "started_at": "earlier"}))
        moved = parent / ".2025.old-1a2b3c4d"
        os.rename(old_pack, moved)  # the first rename happened, the second did not
        (parent / ".2025.building-x1y2z3" / "pack").mkdir(parents=True)
        user = parent / ".2025.building-notmine"  # not evalkit's: left alone
        user.mkdir()
        (user / "keep.txt").write_text("k")
        notes: list[str] = []
        holder = BuildLock(old_pack)
        dead = holder.acquire({"pid": os.getpid(), "token": "new"})
        try:
            assert dead["pid"] == gone.pid
            recover(old_pack, dead, notes.append)
        finally:
            holder.release()
        assert leftover.wait(timeout=STOP_GRACE) == -signal.SIGKILL
        assert inspect_out(old_pack).kind == "pack" and verify_pack(old_pack).ok
        assert sorted(p.name for p in parent.iterdir()) == [".2025.building-notmine", "2025"]
        assert any("took over the lock" in n and str(gone.pid) in n for n in notes)
        assert any(f"ended 1 leftover process(es) of that build: [{leftover.pid}]" in n
                   for n in notes)
        assert any("put back the previous pack from .2025.old-1a2b3c4d" in n for n in notes)
    finally:
        leftover.kill()
        leftover.wait()


def test_recovery_leaves_a_reused_process_group_alone(tmp_path):
    """A dead build's group id now used by an unrelated process: nothing is killed."""
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                 process_group=0)
    try:
        out = tmp_path / "2025"
        notes: list[str] = []
        recover(out, {"pid": 999999, "pgid": bystander.pid, "token": "f" * 32,
                      "host": os.uname().nodename}, notes.append)
        time.sleep(0.3)
        assert bystander.poll() is None
        assert notes == ["took over the lock of an earlier build that is no longer running "
                         "(PID 999999, started ?)."]
    finally:
        bystander.kill()
        bystander.wait()


# ------------------------------------------------------------------ failed runs
def test_failed_runs_are_timestamped_and_the_last_five_kept(tmp_path):
    pack = tmp_path / "pack"
    (pack / "notebooks").mkdir(parents=True)
    (pack / "notebooks" / "10_x.ipynb").write_text("{}")
    out = tmp_path / "2025"
    mine = tmp_path / "2025.failed" / "my-notes.txt"
    mine.parent.mkdir()
    mine.write_text("user file")
    folders = [save_failures(pack, ["10_x"], [f"run {i}"], out) for i in range(7)]
    kept = sorted((p.name for p in mine.parent.iterdir() if p.is_dir()), key=lambda n: (n[:16], int(n[17:] or 1)))
    assert kept == [f.name for f in folders[-5:]]
    assert all(re.fullmatch(r"\d{8}T\d{6}Z(-\d+)?", name) for name in kept)
    assert (folders[-1] / "FAILED.txt").read_text() == "run 6\n"
    assert (folders[-1] / "10_x.ipynb").is_file() and mine.read_text() == "user file"


def test_a_failed_second_rename_puts_the_old_pack_back(tmp_path, monkeypatch):
    out, new = tmp_path / "2025", tmp_path / ".2025.building-x" / "pack"
    out.mkdir()
    (out / "index.html").write_text("old")
    new.mkdir(parents=True)
    (new / "index.html").write_text("new")
    real_rename = os.rename

    def busy(src, dst):
        if Path(src) == new:
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(dst))
        real_rename(src, dst)

    monkeypatch.setattr(packmod.os, "rename", busy)
    with pytest.raises(OSError, match="busy"):
        packmod.swap_into_place(new, out)
    assert (out / "index.html").read_text() == "old" and (new / "index.html").is_file()
    assert not list(tmp_path.glob(".2025.old-*"))
