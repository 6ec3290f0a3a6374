"""The command line end to end: the example, golden kits, and every kind of bad input."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import scenarios
from generator import cli, starter, synthetic
from generator.errors import MdegenError
from samba_preg import samba_available, samba_read

def run(*args: str) -> int:
    return cli.main(list(args))


@pytest.fixture
def example(tmp_path) -> Path:
    assert run("init", "--example", str(tmp_path / "example")) == 0
    return tmp_path / "example"


def _kit_files(folder: Path) -> dict[str, bytes]:
    return scenarios.kit_files(folder)


def test_sccm_two_runs_identical_bytes(example, tmp_path):
    for out in ("one", "two"):
        assert run("sccm-package", "-c", str(example / "mdegen.yaml"), "-o", str(tmp_path / out)) == 0
    assert _kit_files(tmp_path / "one" / "sccm") == _kit_files(tmp_path / "two" / "sccm")


def test_kits_share_an_output_folder(example, tmp_path):
    out = tmp_path / "out"
    assert run("gpo", "-c", str(example / "mdegen.yaml"), "-o", str(out)) == 0
    assert run("sccm-package", "-c", str(example / "mdegen.yaml"), "-o", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == ["gpo", "sccm"]


def test_two_runs_identical_bytes(example, tmp_path):
    for out in ("one", "two"):
        assert run("gpo", "-c", str(example / "mdegen.yaml"), "-o", str(tmp_path / out)) == 0
    assert _kit_files(tmp_path / "one" / "gpo") == _kit_files(tmp_path / "two" / "gpo")


def test_example_is_deterministic(tmp_path):
    for d in ("a", "b"):
        assert run("init", "--example", str(tmp_path / d)) == 0
    assert _kit_files(tmp_path / "a") == _kit_files(tmp_path / "b")


def test_init_refuses_to_overwrite(example, capsys):
    assert run("init", "--example", str(example)) == 2
    assert "already exist" in capsys.readouterr().err
    assert run("init", "--example", str(example), "--force") == 0


def test_init_starter(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("init") == 0
    assert b"version: 1" in (tmp_path / "mdegen.yaml").read_bytes()


def test_validate_lists_what_would_be_written(example, capsys):
    assert run("validate", "-c", str(example / "mdegen.yaml")) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "DomainSysvol/GPO/Machine/registry.pol" in out and "passive_mode" in out


def test_schema_is_json(capsys):
    assert run("schema") == 0
    assert json.loads(capsys.readouterr().out)["title"].startswith("mdegen")


def test_inspect_package_and_pol(example, tmp_path, capsys):
    pkg = example / starter.EXAMPLE_ONBOARDING
    assert run("inspect", str(pkg)) == 0
    assert "00000000-0000-0000-0000-000000000000" in capsys.readouterr().out
    assert run("inspect", "--json", str(pkg)) == 0
    json.loads(capsys.readouterr().out)
    assert run("gpo", "-c", str(example / "mdegen.yaml"), "-o", str(tmp_path / "out")) == 0
    capsys.readouterr()
    pol = sorted((tmp_path / "out" / "gpo" / "GPOs").rglob("registry.pol"))[0]
    assert run("inspect", str(pol)) == 0
    assert "ForceDefenderPassiveMode" in capsys.readouterr().out
    assert run("inspect", "--json", str(pol)) == 0
    assert any(e["name"] == "ForceDefenderPassiveMode" for e in json.loads(capsys.readouterr().out))


def test_inspect_bad_pol_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "registry.pol"
    bad.write_bytes(b"PReg\x01\x00\x00\x00[\x00junk")
    assert run("inspect", str(bad)) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "Traceback" not in err


def test_version(capsys):
    assert run("--version") == 0
    assert capsys.readouterr().out.startswith("mdegen ")


@pytest.mark.parametrize("command", ["init", "schema", "validate", "inspect", "gpo", "sccm-package"])
def test_help_shows_an_example(command, capsys):
    assert run(command, "--help") == 0
    assert "Example" in capsys.readouterr().out


# --- bad input: exit 2, a clear message, nothing written -------------------------------------------


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def _break(example: Path, how: str) -> str:
    """Spoil the example in one way; return a word the error message must contain."""
    cfg = example / "mdegen.yaml"
    pkg = example / starter.EXAMPLE_ONBOARDING
    text = cfg.read_text(encoding="utf-8")
    if how == "missing package":
        pkg.unlink()
        return "does not exist"
    if how == "corrupt zip":
        pkg.write_bytes(pkg.read_bytes()[:200])
        return "zip"
    if how == "zip entry with ..":
        pkg.write_bytes(_zip([("../WindowsDefenderATPOnboardingScript.cmd", synthetic.onboarding_script())]))
        return ".."
    if how == "yaml syntax":
        cfg.write_text(text + "settings: [\n", encoding="utf-8")
        return "YAML"
    if how == "unknown key":
        cfg.write_text(text.replace("passive_mode:", "passive_mod:"), encoding="utf-8")
        return "passive_mod"
    if how == "malformed guid":
        cfg.write_text(text.replace("9e6c4e1f-7d60", "9e6c4e1f-7d6"), encoding="utf-8")
        return "GUID"
    if how == "share not unc":
        cfg.write_text(text.replace("share: \\\\", "share: C:\\"), encoding="utf-8")
        return "UNC"
    if how == "local script":
        pkg.write_bytes(synthetic.onboarding_zip(kind="local"))
        return "Group Policy"
    if how == "expired offboarding":
        off = example / starter.example_offboarding_path()
        off.write_bytes(synthetic.offboarding_script(expires=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)))
        return "expired"
    if how == "offboarding of another org":
        off = example / starter.example_offboarding_path()
        off.write_bytes(synthetic.offboarding_script(
            org_id="11111111-2222-3333-4444-555555555555",
            expires=dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc)))
        return "org"
    raise AssertionError(how)


@pytest.mark.parametrize("how", [
    "missing package", "corrupt zip", "zip entry with ..", "yaml syntax", "unknown key", "malformed guid",
    "share not unc", "local script", "expired offboarding", "offboarding of another org",
])
@pytest.mark.parametrize("command", ["gpo", "sccm-package"])
def test_bad_input_exits_2_and_writes_nothing(how, command, example, tmp_path, capsys):
    word = _break(example, how)
    out = tmp_path / "out"
    assert run(command, "-c", str(example / "mdegen.yaml"), "-o", str(out)) == 2
    err = capsys.readouterr().err
    assert word.lower() in err.lower(), err
    assert "Traceback" not in err and err.startswith("mdegen: ")
    assert not out.exists() or not any(out.iterdir())
    # validate reports the same problem.
    assert run("validate", "-c", str(example / "mdegen.yaml")) == 2


def test_debug_shows_the_traceback(example):
    _break(example, "unknown key")
    with pytest.raises(MdegenError):
        run("--debug", "gpo", "-c", str(example / "mdegen.yaml"), "-o", "unused")


def test_failed_run_keeps_previous_kit(example, tmp_path):
    out = tmp_path / "out"
    assert run("gpo", "-c", str(example / "mdegen.yaml"), "-o", str(out)) == 0
    before = _kit_files(out / "gpo")
    _break(example, "unknown key")
    assert run("gpo", "-c", str(example / "mdegen.yaml"), "-o", str(out)) == 2
    assert _kit_files(out / "gpo") == before


def test_console_script_runs_from_any_folder(tmp_path):
    """The installed entry point works outside the source tree (templates travel in the package)."""
    exe = Path(sys.executable).with_name("mdegen")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "generator"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run(cmd + ["init", "--example", "ex"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(cmd + ["gpo", "-c", "ex/mdegen.yaml", "-o", "out"], cwd=tmp_path, capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "gpo" / "SHA256SUMS").exists()


@pytest.mark.skipif(not samba_available(), reason="Debian python3-samba not installed")
def test_every_registry_pol_mdegen_writes_passes_samba_strict():
    """Samba parses each golden registry.pol and re-packs it byte-identical, with our entries."""
    from generator.formats import regpol

    pols = sorted(scenarios.ROOT.rglob("registry.pol"))
    assert pols, "no registry.pol among the golden files"
    for pol in pols:
        doc = samba_read(pol)
        assert (doc["signature"], doc["version"], doc["repacked_identical"]) == ("PReg", 1, True), pol
        ours = regpol.loads(pol.read_bytes())
        assert [(k, n, t) for k, n, t, *_ in doc["entries"]] == [(e.key, e.name, e.type) for e in ours]


def test_inspect_reads_every_real_portal_file(shared_dir, capsys):
    """`mdegen inspect` reports every real portal file (tenant values are not asserted here)."""
    samples = sorted(p for p in (shared_dir / "reference" / "samples" / "mde-portal").rglob("*")
                     if p.is_file() and p.suffix.lower() in (".zip", ".cmd"))
    assert samples
    for path in samples:
        assert run("inspect", str(path)) == 0, path
        out = capsys.readouterr().out
        assert "Org id" in out and "Kind" in out
        assert run("inspect", "--json", str(path)) == 0, path
        assert json.loads(capsys.readouterr().out)
