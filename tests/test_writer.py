"""The writer: whole kits or nothing, checksums that sha256sum accepts, refusal of foreign folders."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from generator import config, writer
from gitcopy import GIT, commit_and_clone
from generator.artifacts import OutputFile
from generator.errors import OutputError

CFG = config.loads(
    "version: 1\norganization: Contoso\nrelease: {version: '1.0', date: 2026-11-28}\n"
    "packages: {onboarding: x.zip}\nshare: \\\\fs.contoso.com\\s\n", source="t")


def _kit(*files: OutputFile) -> list[OutputFile]:
    return writer.finish_kit("gpo", CFG, list(files))


def test_manifest_and_sums(tmp_path):
    files = _kit(OutputFile("b/two.bin", b"\x00\x01"), OutputFile("a.txt", b"one\r\n"))
    assert [f.path for f in files] == [".gitattributes", "a.txt", "b/two.bin", "manifest.json", "SHA256SUMS"]
    folder = writer.write_kit(tmp_path, "gpo", files)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["generator"] == "mdegen" and manifest["release"] == {"version": "1.0", "date": "2026-11-28"}
    assert [(f["path"], f["size"]) for f in manifest["files"]] == [
        (".gitattributes", len(writer.GITATTRIBUTES)), ("a.txt", 5), ("b/two.bin", 2)]
    assert (folder / "a.txt").read_bytes() == b"one\r\n"
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, check=True)
    # A changed byte is caught, so the sums really cover the files.
    (folder / "a.txt").write_bytes(b"one\n")
    if shutil.which("sha256sum"):
        assert subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder,
                              capture_output=True).returncode != 0


def test_same_input_same_bytes():
    a = _kit(OutputFile("x", b"1"), OutputFile("y", b"2"))
    b = _kit(OutputFile("y", b"2"), OutputFile("x", b"1"))
    assert a == b


def test_rewrite_replaces_previous_kit_whole(tmp_path):
    writer.write_kit(tmp_path, "gpo", _kit(OutputFile("old.txt", b"old")))
    folder = writer.write_kit(tmp_path, "gpo", _kit(OutputFile("new.txt", b"new")))
    assert sorted(p.name for p in folder.iterdir()) == [".gitattributes", "SHA256SUMS", "manifest.json", "new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpo"]     # no staging leftovers


def test_foreign_folder_refused_unless_forced(tmp_path):
    (tmp_path / "gpo").mkdir()
    (tmp_path / "gpo" / "precious.txt").write_text("mine")
    with pytest.raises(OutputError, match="not written by mdegen"):
        writer.write_kit(tmp_path, "gpo", _kit(OutputFile("a", b"a")))
    assert (tmp_path / "gpo" / "precious.txt").exists()
    writer.write_kit(tmp_path, "gpo", _kit(OutputFile("a", b"a")), force=True)
    assert not (tmp_path / "gpo" / "precious.txt").exists()


def test_other_content_of_output_root_is_left_alone(tmp_path):
    (tmp_path / "README.md").write_text("keep")
    writer.write_kit(tmp_path, "gpo", _kit(OutputFile("a", b"a")))
    assert (tmp_path / "README.md").read_text() == "keep"


def test_failure_leaves_nothing_half_written(tmp_path, monkeypatch):
    files = _kit(OutputFile("a", b"a"), OutputFile("b", b"b"))
    real_open = open
    calls = {"n": 0}

    def failing_open(path, mode="r", *args, **kwargs):
        if "w" in mode:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(28, "No space left on device")
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(OutputError, match="No space left"):
        writer.write_kit(tmp_path, "gpo", files)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_case_insensitive_duplicates_refused():
    with pytest.raises(OutputError, match="two files"):
        _kit(OutputFile("Machine/registry.pol", b"1"), OutputFile("machine/Registry.pol", b"2"))


@pytest.mark.parametrize("bad", ["/abs", "../up", "a/../../b", "back\\slash", ""])
def test_output_paths_stay_inside_the_kit(bad):
    with pytest.raises(ValueError):
        OutputFile(bad, b"")


# --- a kit folder someone added to --------------------------------------------------------------


def test_files_added_to_a_kit_are_not_removed_silently(tmp_path):
    writer.write_kit(tmp_path, "gpo", _kit(OutputFile("a.txt", b"a")))
    (tmp_path / "gpo" / "notes").mkdir()
    (tmp_path / "gpo" / "notes" / "change-ticket.txt").write_text("CHG0001")
    with pytest.raises(OutputError, match=r"holds files mdegen did not write \(notes/change-ticket\.txt\).*--force"):
        writer.write_kit(tmp_path, "gpo", _kit(OutputFile("b.txt", b"b")))
    assert (tmp_path / "gpo" / "notes" / "change-ticket.txt").exists()
    assert (tmp_path / "gpo" / "a.txt").exists()                      # the previous kit, untouched
    writer.write_kit(tmp_path, "gpo", _kit(OutputFile("b.txt", b"b")), force=True)
    assert not (tmp_path / "gpo" / "notes").exists()


# --- interrupted runs: the previous kit or the new one, whole; leftovers removed ------------------


def _state(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


OLD = _kit(OutputFile("old.txt", b"old"))
NEW = _kit(OutputFile("new.txt", b"new"))


def test_leftovers_of_an_interrupted_run_are_removed_and_never_output(tmp_path):
    writer.write_kit(tmp_path, "gpo", OLD)
    for name in (".gpo.partial-abc", ".gpo.old-def"):
        (tmp_path / name / "gpo").mkdir(parents=True)
        (tmp_path / name / "gpo" / "WindowsDefenderATPOnboardingScript.cmd").write_text("tenant data")
    (tmp_path / ".sccm.partial-xyz").mkdir()                        # another kit's: not this run's business
    writer.write_kit(tmp_path, "gpo", NEW)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sccm.partial-xyz", "gpo"]
    assert _state(tmp_path / "gpo") == {f.path: f.data for f in NEW}


def test_fallback_killed_between_its_renames_is_repaired_by_the_next_run(tmp_path):
    """Where the system cannot swap folders in one call, a kill between the two renames leaves the
    previous kit set aside and no kit folder (the state built here, as a kill leaves it); the next
    run puts the previous kit back before it does anything else."""
    writer.write_kit(tmp_path, "gpo", OLD)
    aside = tmp_path / ".gpo.old-k1ll"
    aside.mkdir()
    (tmp_path / "gpo").rename(aside / "gpo")
    staging = tmp_path / ".gpo.partial-k1ll"
    staging.mkdir()
    (staging / "new.txt").write_bytes(b"half")
    writer._recover(tmp_path, "gpo")
    assert _state(tmp_path / "gpo") == {f.path: f.data for f in OLD}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpo"]


@pytest.mark.skipif(not writer.sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_linux_swaps_the_folders_in_one_call(tmp_path, monkeypatch):
    writer.write_kit(tmp_path, "gpo", OLD)
    replaced = []
    real_replace = writer.os.replace
    monkeypatch.setattr(writer.os, "replace", lambda a, b: (replaced.append(b), real_replace(a, b)))
    writer.write_kit(tmp_path, "gpo", NEW)
    assert replaced == []                                          # no rename at all: one exchange
    assert _state(tmp_path / "gpo") == {f.path: f.data for f in NEW}


def test_a_second_run_at_the_same_time_fails_with_a_message(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    import os

    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)                              # another mdegen, mid-run
        with pytest.raises(OutputError, match="another mdegen is writing"):
            writer.write_kit(tmp_path, "gpo", NEW)
    finally:
        os.close(fd)
    writer.write_kit(tmp_path, "gpo", NEW)                          # free again


# --- real kills, at system calls, under strace --------------------------------------------------

_STRACE = shutil.which("strace")


@pytest.mark.skipif(_STRACE is None, reason="strace is not installed")
def test_a_kill_at_any_system_call_leaves_a_whole_kit(tmp_path):
    import sys

    from scenarios import kit_files, materialise, ROOT

    # A small kit keeps the seven traced runs quick; the writer is the same for every kit.
    config = materialise(ROOT / "two-targets", tmp_path / "cfg")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "generator", "gpo", "-c", str(config), "-o", str(out)]
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    before = kit_files(out / "gpo")
    # Kills at the system calls that change the output folder: staging (mkdir, the writes), the
    # swap (renameat2), removing the previous kit (unlinkat, rmdir). Each probe must really be
    # killed (strace's --seccomp-bpf would skip the injection on this strace: not used). The probes
    # run side by side, each on its own copy of the output folder: they are independent, and one
    # after another they were the slowest part of the suite.
    probes = [("mkdir", 3), ("write", 3), ("renameat2", 1), ("unlinkat", 1), ("rmdir", 1)]
    running = []
    for i, (syscall, nth) in enumerate(probes):
        probe_out = tmp_path / f"out-{i}"
        shutil.copytree(out, probe_out)
        probe_cmd = [*cmd[:-1], str(probe_out)]
        running.append((syscall, nth, probe_out, subprocess.Popen(
            [_STRACE, "-f", "-o", "/dev/null", "-e", f"trace={syscall}", "-e", f"inject={syscall}:signal=KILL:when={nth}",
             *probe_cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    reruns = []
    for syscall, nth, probe_out, process in running:
        assert process.wait(timeout=60) == -9, (syscall, nth, "the probe was not killed", process.returncode)
        assert (probe_out / "gpo").is_dir(), (syscall, nth)
        assert kit_files(probe_out / "gpo") == before, (syscall, nth, "the kit in place is not whole")
        reruns.append((syscall, nth, probe_out, subprocess.Popen([*cmd[:-1], str(probe_out)],
                                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    for syscall, nth, probe_out, process in reruns:
        assert process.wait(timeout=60) == 0, (syscall, nth, "the next run failed")
        assert sorted(p.name for p in probe_out.iterdir()) == ["gpo"], (syscall, nth, "leftovers after the next run")
        assert kit_files(probe_out / "gpo") == before


def test_fallback_error_between_its_renames_puts_the_previous_kit_back(tmp_path, monkeypatch):
    """An ordinary error (not a kill) in the fallback's second rename: the previous kit is back at once."""
    writer.write_kit(tmp_path, "gpo", OLD)
    monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
    real_replace = writer.os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise PermissionError(13, "Access is denied")      # a scanner holding a fresh file
        real_replace(src, dst)

    monkeypatch.setattr(writer.os, "replace", failing_replace)
    with pytest.raises(OutputError, match="Access is denied"):
        writer.write_kit(tmp_path, "gpo", NEW)
    assert _state(tmp_path / "gpo") == {f.path: f.data for f in OLD}


def test_a_malformed_manifest_is_a_foreign_folder_not_a_traceback(tmp_path):
    (tmp_path / "gpo").mkdir()
    (tmp_path / "gpo" / "manifest.json").write_text('{"generator": "mdegen", "files": [{"path": ["x"]}]}')
    with pytest.raises(OutputError, match="not written by mdegen"):
        writer.write_kit(tmp_path, "gpo", NEW)


def test_a_file_system_without_locks_is_no_reason_to_refuse(tmp_path, monkeypatch):
    fcntl = pytest.importorskip("fcntl")
    import errno

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    writer.write_kit(tmp_path, "gpo", NEW)
    assert _state(tmp_path / "gpo") == {f.path: f.data for f in NEW}


def test_read_only_leftovers_are_removed_too(tmp_path):
    import os
    import stat

    leftover = tmp_path / ".gpo.partial-ro" / "gpo"
    leftover.mkdir(parents=True)
    (leftover / "WindowsDefenderATPOnboardingScript.cmd").write_text("tenant data")
    for p in (leftover / "WindowsDefenderATPOnboardingScript.cmd", leftover, leftover.parent):
        os.chmod(p, stat.S_IRUSR | stat.S_IXUSR)
    writer.write_kit(tmp_path, "gpo", NEW)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpo"]


@pytest.mark.skipif(GIT is None, reason="git is not installed")
@pytest.mark.parametrize("with_attributes", [True, False])
def test_a_kit_survives_git_with_autocrlf(tmp_path, with_attributes):
    """Committed and checked out again with core.autocrlf=true (Git for Windows' default), a kit
    still matches its SHA256SUMS; without its .gitattributes it does not (the test can fail)."""
    files = _kit(OutputFile("unix.txt", b"lf\n"), OutputFile("win.cmd", b"crlf\r\n"), OutputFile("mixed.cmd", b"a\r\nb\n"))
    if not with_attributes:
        files = [f for f in files if f.path != writer.GITATTRIBUTES_NAME]
    repo = tmp_path / "repo"
    writer.write_kit(repo, "gpo", files)
    kit = commit_and_clone(repo, tmp_path / "clone") / "gpo"
    lines = (kit / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    intact = all(writer.sha256_hex((kit / line.split("  ", 1)[1]).read_bytes()) == line.split("  ", 1)[0]
                 for line in lines if line.split("  ", 1)[1] != writer.GITATTRIBUTES_NAME or with_attributes)
    assert intact is with_attributes
