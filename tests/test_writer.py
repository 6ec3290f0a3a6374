"""The writer: whole kits or nothing, checksums that sha256sum accepts, refusal of foreign folders."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from generator import config, writer
from generator.artifacts import OutputFile
from generator.errors import OutputError

CFG = config.loads(
    "version: 1\norganization: Contoso\nrelease: {version: '1.0', date: 2026-11-28}\n"
    "packages: {onboarding: x.zip}\nshare: \\\\fs.contoso.com\\s\n", source="t")


def _kit(*files: OutputFile) -> list[OutputFile]:
    return writer.finish_kit("gpo", CFG, list(files))


def test_manifest_and_sums(tmp_path):
    files = _kit(OutputFile("b/two.bin", b"\x00\x01"), OutputFile("a.txt", b"one\r\n"))
    assert [f.path for f in files] == ["a.txt", "b/two.bin", "manifest.json", "SHA256SUMS"]
    folder = writer.write_kit(tmp_path, "gpo", files)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["generator"] == "mdegen" and manifest["release"] == {"version": "1.0", "date": "2026-11-28"}
    assert [(f["path"], f["size"]) for f in manifest["files"]] == [("a.txt", 5), ("b/two.bin", 2)]
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
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "manifest.json", "new.txt"]
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
