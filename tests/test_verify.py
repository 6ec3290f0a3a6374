"""`mdegen verify` (issue 12, first part): checksums recomputed, artifacts re-read, under git."""

from __future__ import annotations


import pytest

import scenarios
from gitcopy import GIT, commit_and_clone
from generator import cli, writer


@pytest.fixture
def kit(tmp_path):
    cfg = scenarios.materialise(scenarios.ROOT / "downlevel", tmp_path / "cfg")
    assert cli.main(["gpo", "-c", str(cfg), "-o", str(tmp_path / "out")]) == 0
    return tmp_path / "out" / "gpo"


def test_an_intact_kit_and_a_folder_of_kits_pass(kit, capsys):
    assert cli.main(["verify", str(kit)]) == 0
    assert cli.main(["verify", str(kit.parent)]) == 0
    assert "intact" in capsys.readouterr().out


def test_changed_missing_and_extra_files_are_named(kit, capsys):
    pol = next(kit.rglob("registry.pol"))
    pol.write_bytes(pol.read_bytes() + b"\x00")
    (kit / "share" / "README.txt").unlink()
    (kit / "share" / "planted.exe").write_bytes(b"MZ")
    assert cli.main(["verify", str(kit)]) == 1
    out = capsys.readouterr().out
    rel = pol.relative_to(kit).as_posix()
    assert f"changed: {rel}" in out and "missing: share/README.txt" in out and "extra: share/planted.exe" in out
    assert f"does not parse: {rel}" in out and "NOT intact" in out


def test_an_artifact_that_no_longer_parses_is_named_even_with_matching_sums(kit, capsys):
    xml = next(kit.rglob("ScheduledTasks.xml"))
    xml.write_bytes(b"<ScheduledTasks>")
    rel = xml.relative_to(kit).as_posix()
    lines = (kit / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    fixed = [f"{writer.sha256_hex(xml.read_bytes())}  {rel}" if line.endswith("  " + rel) else line for line in lines]
    (kit / "SHA256SUMS").write_text("\n".join(fixed) + "\n", encoding="utf-8")
    assert cli.main(["verify", str(kit)]) == 1
    out = capsys.readouterr().out
    assert f"does not parse: {rel}" in out and f"changed: {rel}" not in out


def test_a_folder_without_a_kit_exits_2(tmp_path, capsys):
    assert cli.main(["verify", str(tmp_path)]) == 2
    assert "holds no mdegen kit" in capsys.readouterr().err


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_a_kit_committed_and_cloned_with_autocrlf_verifies(kit, tmp_path, capsys):
    clone = commit_and_clone(kit.parent, tmp_path / "clone")
    assert cli.main(["verify", str(clone / "gpo")]) == 0, capsys.readouterr().out


def test_check_writes_nothing_and_exits_1_when_the_output_would_change(tmp_path, capsys):
    cfg = scenarios.materialise(scenarios.ROOT / "downlevel", tmp_path / "cfg")
    out = tmp_path / "out"
    assert cli.main(["gpo", "-c", str(cfg), "-o", str(out), "--check"]) == 1        # nothing there yet
    assert not out.exists()
    assert cli.main(["gpo", "-c", str(cfg), "-o", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["gpo", "-c", str(cfg), "-o", str(out), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("device_tag: Legacy", "device_tag: Legacy2"), encoding="utf-8")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert cli.main(["gpo", "-c", str(cfg), "-o", str(out), "--check"]) == 1
    printed = capsys.readouterr().out
    assert "--- a/HANDOFF.md" in printed and "+++ b/HANDOFF.md" in printed and "Legacy2" in printed
    assert "Binary files a/GPOs/" in printed and "registry.pol" in printed
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before      # nothing written
