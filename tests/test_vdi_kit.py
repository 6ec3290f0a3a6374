"""`mdegen vdi` as a whole: Microsoft's files byte for byte, and each bad input refused with exit 2,
a message naming the field, and nothing written."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

import scenarios
from generator import cli, starter, synthetic


@pytest.fixture
def example(tmp_path) -> Path:
    assert cli.main(["init", "--example", str(tmp_path / "ex")]) == 0
    return tmp_path / "ex"


def test_portal_files_are_byte_identical_to_the_zip(example, tmp_path):
    assert cli.main(["vdi", "-c", str(example / "mdegen.yaml"), "-o", str(tmp_path / "out")]) == 0
    kit = scenarios.kit_files(tmp_path / "out" / "vdi")
    with zipfile.ZipFile(BytesIO((example / starter.EXAMPLE_VDI).read_bytes())) as zf:
        inside = {name: zf.read(name) for name in zf.namelist()}
    copies = {path: data for path, data in kit.items() if "/Startup/" in path or path.startswith("share/")}
    assert copies and all(data == inside[path.rsplit("/", 1)[1]] for path, data in copies.items())
    # single entry carries both files, multiple entry the script alone
    assert {p.rsplit("/", 1)[1] for p in copies if p.startswith("Citrix-pool/")} == set(inside) - {"OptionalParamsPolicy"}
    assert [p.rsplit("/", 1)[1] for p in copies if p.startswith("Kiosks/")] == ["WindowsDefenderATPOnboardingScript.cmd"]


def _config(example: Path, **changes) -> Path:
    text = (example / "mdegen.yaml").read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    (example / "mdegen.yaml").write_text(text, encoding="utf-8")
    return example / "mdegen.yaml"


@pytest.mark.parametrize("name", ["Pool & Co", "100% VDI", 'Pool "A"', "O'Brien", "Pool $x", "Pool <1>"])
def test_pool_names_scripts_cannot_carry_are_refused(example, tmp_path, capsys, name):
    config = _config(example, **{"name: Citrix pool": f"name: {json.dumps(name)}"})
    assert cli.main(["vdi", "-c", str(config), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "vdi.pools[0].name" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("how, field", [
    ("missing package", "packages.vdi"),
    ("not a VDI package", "vdi.pools[0].mode"),
    ("an offboarding script", "packages.vdi"),
    ("no .ps1 for single entry", "vdi.pools[0].mode"),
    ("another organisation", "packages.vdi"),
    ("no vdi section", "vdi"),
])
def test_bad_vdi_input_exits_2_naming_the_field(example, tmp_path, capsys, how, field):
    pkg = example / starter.EXAMPLE_VDI
    if how == "missing package":
        pkg.unlink()
    elif how == "not a VDI package":
        pkg.write_bytes(synthetic.onboarding_zip())        # the GP package: no .ps1 for the single-entry pool
    elif how == "an offboarding script":
        pkg.write_bytes(synthetic.offboarding_zip(expires=starter.EXAMPLE_OFFBOARDING_EXPIRES))
    elif how == "no .ps1 for single entry":
        # the VDI package with only its .cmd: read as a plain onboarding package, so the single-entry
        # pool cannot get the .ps1 it needs
        pkg.write_bytes(synthetic.package_zip([("WindowsDefenderATPOnboardingScript.cmd", synthetic.onboarding_script())]))
    elif how == "another organisation":
        pkg.write_bytes(synthetic.vdi_zip(org_id="11111111-2222-3333-4444-555555555555"))
    elif how == "no vdi section":
        text = (example / "mdegen.yaml").read_text(encoding="utf-8")
        (example / "mdegen.yaml").write_text(text.split("\nvdi:\n")[0] + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["vdi", "-c", str(example / "mdegen.yaml"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert f"{field}:" in last and last.startswith("mdegen: ") and "Traceback" not in err, err
    assert not out.exists()


@pytest.mark.parametrize("name", ["reseal", "GPOs", "share", "PolicyDefinitions", "CON", "lpt1", "Pool."])
def test_pool_names_that_clash_with_the_kit_or_windows_are_refused(example, tmp_path, capsys, name):
    config = _config(example, **{"name: Citrix pool": f"name: {json.dumps(name)}"})
    assert cli.main(["vdi", "-c", str(config), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "vdi.pools" in err and "cannot name a folder" in err, err
    assert not (tmp_path / "out").exists()


def test_single_entry_domain_gpo_is_an_immediate_task_with_bypass(tmp_path, capsys):
    config = scenarios.materialise(scenarios.ROOT / "vdi-domain", tmp_path / "cfg")
    assert cli.main(["vdi", "-c", str(config), "-o", str(tmp_path / "out")]) == 0
    kit = scenarios.kit_files(tmp_path / "out" / "vdi")
    (tasks,) = [data for path, data in kit.items() if path.endswith("ScheduledTasks.xml")]
    from generator.formats import gpp_tasks

    (task,) = gpp_tasks.loads(tasks)
    assert task["command"] == "powershell.exe"
    assert task["arguments"] == ("-NoProfile -ExecutionPolicy Bypass -Command "
                                 "\"& '\\\\files.fabrikam.example\\Defender$\\MDE Co''s\\VDI\\Onboard-NonPersistentMachine.ps1'\"")
    assert not [p for p in kit if p.endswith("psscripts.ini") and p.startswith("GPOs/")]
