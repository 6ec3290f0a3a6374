"""The shape of the code that later kits rely on: layers, the kit registry, a cheap start-up."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import scenarios
from generator import cli, kits

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "generator"


def _imports(path: Path, package: str | None = None) -> set[str]:
    """Every module a file imports, at any depth (functions included), as dotted names: relative
    imports resolved against the file's package, and importlib.import_module("...") literals."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if package is None:
        package = ".".join(path.resolve().relative_to(REPO).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - (node.level - 1)] if package else []
                base = ".".join(parent + ([base] if base else []))
            if base:
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


# Modules a codec may build on: records, errors, escaping and the small shared pieces. Never a kit,
# the kit registry, the project or the config model.
_BELOW_CODECS = ("generator.formats", "generator.records", "generator.errors", "generator.escaping",
                 "generator.artifacts")


@pytest.mark.parametrize("path", sorted((GENERATOR / "formats").glob("*.py")), ids=lambda p: p.name)
def test_codecs_import_no_kit(path):
    ours = {m for m in _imports(path) if m.startswith("generator")}
    bad = {m for m in ours if not m.startswith(_BELOW_CODECS) and m != "generator"}
    assert not bad, f"{path.name} imports {sorted(bad)}: codecs sit below kits, the project and the config"


def test_records_import_nothing_of_ours():
    assert not {m for m in _imports(GENERATOR / "records.py") if m.startswith("generator")}


def test_the_layer_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from generator.builders.gpo import build\n", encoding="utf-8")
    assert "generator.builders.gpo" in _imports(bad, "")
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from ..builders import gpo\nimport importlib\nimportlib.import_module('generator.kits')\n",
                      encoding="utf-8")
    assert {"generator.builders", "generator.builders.gpo", "generator.kits"} <= _imports(sneaky, "generator.formats")


# --- the kit registry ---------------------------------------------------------------------------


DUMMY = kits.Kit(
    name="dummy",
    command="dummy-kit",
    summary="Write a dummy kit (test only).",
    writes="NOTES.txt",
    label="dummy",
    packages=("onboarding",),
    module="dummy_kit",
)


@pytest.fixture
def with_dummy(monkeypatch):
    monkeypatch.setattr(kits, "KITS", kits.KITS + (DUMMY,))
    return kits.KITS


def test_a_registered_kit_is_a_command(with_dummy, capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "dummy-kit" in out and "Write a dummy kit" in out
    for kit in with_dummy:
        assert kit.command in out


def test_a_registered_kit_runs_and_is_validated(with_dummy, tmp_path, capsys):
    config = scenarios.materialise(scenarios.ROOT / "example", tmp_path / "cfg")
    assert cli.main(["dummy-kit", "-c", str(config), "-o", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "dummy" / "NOTES.txt").read_text(encoding="utf-8").startswith("Contoso Example Ltd")
    manifest = json.loads((tmp_path / "out" / "dummy" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kit"] == "dummy"
    capsys.readouterr()
    assert cli.main(["validate", "-c", str(config)]) == 0
    assert "mdegen dummy-kit would write:\n  dummy/NOTES.txt" in capsys.readouterr().out


def test_a_registered_kit_gets_a_scenario_case_each(with_dummy):
    cases = scenarios.cases(with_dummy)
    dummy = [c for c in cases if c.kit is DUMMY]
    assert [c.scenario for c in dummy] == scenarios.scenario_dirs()
    assert {c.id for c in dummy} == {f"{s.name}-dummy" for s in scenarios.scenario_dirs()}


def test_a_registered_kit_without_golden_files_fails_its_scenario(with_dummy, tmp_path, capsys, file_regression):
    import test_scenarios

    root = tmp_path / "scenarios"
    (root / "example").mkdir(parents=True)
    (root / "example" / "scenario.json").write_bytes((scenarios.ROOT / "example" / "scenario.json").read_bytes())
    (case,) = [c for c in scenarios.cases(with_dummy, root) if c.kit is DUMMY]
    with pytest.raises(pytest.fail.Exception, match="golden files differ"):
        test_scenarios.check_case(case, tmp_path / "run", capsys, file_regression)
    assert (root / "example" / "dummy" / "NOTES.txt").is_file()      # written for review, as --force-regen would
    test_scenarios.check_case(case, tmp_path / "again", capsys, file_regression)


def test_the_registry_is_consistent():
    kits.check_registry(kits.KITS)


@pytest.mark.parametrize("bad, words", [
    (DUMMY.__class__(**{**DUMMY.__dict__, "section": "dummy"}), "config section 'dummy'"),
    (DUMMY.__class__(**{**DUMMY.__dict__, "packages": ("installer",)}), "no entry for"),
    (DUMMY.__class__(**{**DUMMY.__dict__, "command": "gpo"}), "share a command"),
])
def test_the_registry_check_can_fail(bad, words):
    with pytest.raises(ValueError, match=words):
        kits.check_registry(kits.KITS + (bad,))


# --- start-up -----------------------------------------------------------------------------------

_HEAVY = ("pydantic", "lxml", "jinja2", "yaml", "generator.config", "importlib.metadata")


# `mdegen gpo --help` is not listed: typer itself imports pydantic (typer._adapters) when it builds a
# command's parameters, whatever mdegen imports.
@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_listing_commands_imports_no_heavy_module(args):
    code = ("import sys; from generator import cli; rc = cli.main(%r); "
            "print(sorted({m if m.startswith(('generator', 'importlib.')) else m.split('.')[0] for m in sys.modules}))" % (args,))
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    loaded = r.stdout.strip().splitlines()[-1]
    assert not [m for m in _HEAVY if f"'{m}'" in loaded], loaded


def test_version_is_answered_before_the_cli_framework_loads():
    code = "import sys; from generator import entry; entry.main(['--version']); print(sorted(sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    first, loaded = r.stdout.splitlines()[0], r.stdout.splitlines()[-1]
    assert first.startswith("mdegen ")
    assert "'typer'" not in loaded and "'generator.cli'" not in loaded


def test_version_is_written_once():
    import generator

    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and 'attr = "generator.__version__"' in pyproject
    assert generator.__version__.count(".") == 2
