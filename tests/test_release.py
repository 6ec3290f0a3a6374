"""`mdegen build` (issue 12): a release folder per config that survives git."""

from __future__ import annotations

import shutil
import subprocess

import pytest

import scenarios
from gitcopy import GIT, commit_and_clone
from generator import cli, release

GOLDEN = scenarios.ROOT / "example" / "release"
TOP_LEVEL = (".gitattributes", "HANDOFF.md", "SHA256SUMS", "manifest.json", "mdegen.yaml")


@pytest.fixture
def example(tmp_path):
    assert cli.main(["init", "--example", str(tmp_path / "ex"), "--force"]) == 0
    return tmp_path / "ex" / "mdegen.yaml"


def _build(config, out, *extra):
    return cli.main(["build", "-c", str(config), "-o", str(out), *extra])


def test_the_example_release_is_pinned(example, tmp_path, file_regression, capsys):
    assert _build(example, tmp_path / "out") == 0
    folder = tmp_path / "out" / "Contoso-Example-Ltd-2026.1.0"
    # The top-level files byte for byte; SHA256SUMS pins every byte of every kit inside (the kits
    # themselves are pinned file by file in the example scenario).
    for name in TOP_LEVEL:
        file_regression.check((folder / name).read_bytes(), binary=True, fullpath=GOLDEN / name)
    assert "left out" not in capsys.readouterr().err             # the example builds every kit
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, check=True)


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_a_release_survives_git_with_autocrlf(example, tmp_path):
    out = tmp_path / "releases"
    assert _build(example, out) == 0
    folder = commit_and_clone(out, tmp_path / "clone") / "Contoso-Example-Ltd-2026.1.0"
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, check=True)
    assert cli.main(["verify", str(folder)]) == 0


def test_check_after_a_build_and_after_a_change(example, tmp_path, capsys):
    out = tmp_path / "out"
    assert _build(example, out) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert _build(example, out, "--check") == 0
    example.write_text(example.read_text(encoding="utf-8").replace("device_tag: Servers", "device_tag: Web"),
                       encoding="utf-8")
    capsys.readouterr()
    assert _build(example, out, "--check") == 1
    assert "would change" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_two_zips_of_the_same_inputs_are_identical(example, tmp_path):
    assert _build(example, tmp_path / "a", "--zip") == 0
    assert _build(example, tmp_path / "b", "--zip") == 0
    name = "Contoso-Example-Ltd-2026.1.0.zip"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_many_configs_in_one_run_a_failed_one_leaves_nothing(example, tmp_path, capsys):
    bad = example.parent / "bad.yaml"
    bad.write_text(example.read_text(encoding="utf-8").replace("organization: Contoso Example Ltd",
                                                                "organization: Bad Tenant\nunknown: 1"),
                   encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["build", "-c", str(bad), "-c", str(example), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"build {bad}: FAILED" in err and "1 of 2 config(s) built, 1 failed" in err
    assert sorted(p.name for p in out.iterdir()) == ["Contoso-Example-Ltd-2026.1.0"]


@pytest.mark.parametrize("organization, version, name", [
    ("Contoso Example Ltd", "2026.1.0", "Contoso-Example-Ltd-2026.1.0"),
    ("Fabrikam & Söhne <IT> 'Ops' $team", "2026.12.0", "Fabrikam-Sohne-IT-Ops-team-2026.12.0"),
])
def test_release_names_are_file_names(organization, version, name):
    assert release.release_name(organization, version) == name
