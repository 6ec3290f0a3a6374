"""`mdegen offboard` (issue 11): the way off per route, and the input it refuses."""

from __future__ import annotations

import datetime as dt

import pytest

import scenarios
from generator import cli, synthetic

DOWNLEVEL = scenarios.ROOT / "downlevel"
OTHER_ORG = "11111111-2222-3333-4444-555555555555"


def _cfg(tmp_path):
    return scenarios.materialise(DOWNLEVEL, tmp_path / "cfg")


def test_every_route_gets_its_way_off(tmp_path):
    cfg = _cfg(tmp_path)
    out = tmp_path / "out"
    assert cli.main(["offboard", "-c", str(cfg), "-o", str(out)]) == 0
    kit = out / "offboard"
    assert (kit / "portal-valid-until-2099-01-31" / "WindowsDefenderATPOffboardingScript_valid_until_2099-01-31.cmd").is_file()
    assert {p.name for p in (kit / "Server-2008-R2").iterdir()} == {
        "DefenderDT.exe", "WindowsDefenderATP_valid_until_2099-01-31.offboarding", "MdeOffboardAgent.cmd", "MdeUninstallAgent.cmd"}
    assert {p.name for p in (kit / "Server-2012-R2-MMA").iterdir()} == {"Remove-MdeMmaWorkspace.ps1", "Uninstall-MdeMma.ps1"}
    assert "Uninstall-MdeUnifiedAgent.ps1" in {p.name for p in (kit / "Server-2016").iterdir()}
    offboard = (kit / "Server-2008-R2" / "MdeOffboardAgent.cmd").read_text(encoding="ascii")
    assert '-Offboard -File:"%~dp0WindowsDefenderATP_valid_until_2099-01-31.offboarding" -Yes -Quiet' in offboard
    remove = (kit / "Server-2012-R2-MMA" / "Remove-MdeMmaWorkspace.ps1").read_text(encoding="utf-8-sig")
    assert "ConfirmImpact = 'High'" in remove and "'0f0e0d0c-0b0a-4988-8776-655443322110'" in remove
    uninstall = (kit / "Server-2012-R2-MMA" / "Uninstall-MdeMma.ps1").read_text(encoding="utf-8-sig")
    assert not any(c in uninstall for c in ("8A7F2C51", "774E20C6", "88EE688B"))   # product codes: found at run time


@pytest.mark.parametrize("which, data, words", [
    ("WindowsDefenderATP_valid_until_2099-01-31.offboarding",
     synthetic.fake_defenderdt_offboarding(expires=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)), "EXPIRED"),
    ("WindowsDefenderATP_valid_until_2099-01-31.offboarding",
     synthetic.fake_defenderdt_offboarding(org_id=OTHER_ORG, expires=dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc)),
     "same tenant"),
    ("WindowsDefenderATP_valid_until_2099-01-31.offboarding", synthetic.fake_defenderdt_onboarding(), "onboarding blob"),
    ("WindowsDefenderATPOffboardingScript_valid_until_2099-01-31.cmd",
     synthetic.offboarding_script(expires=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)), "EXPIRED"),
    ("WindowsDefenderATPOffboardingScript_valid_until_2099-01-31.cmd",
     synthetic.offboarding_script(org_id=OTHER_ORG, expires=dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc)),
     "different Defender organisations"),
])
def test_bad_offboarding_packages_exit_2_naming_the_file(tmp_path, capsys, which, data, words):
    cfg = _cfg(tmp_path)
    (cfg.parent / "packages" / which).write_bytes(data)
    out = tmp_path / "out"
    assert cli.main(["offboard", "-c", str(cfg), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and "packages." in err and not out.exists()


def test_a_workspace_id_that_is_not_a_guid_exits_2(tmp_path, capsys):
    cfg = _cfg(tmp_path)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("0f0e0d0c-0b0a-4988-8776-655443322110", "my-workspace"),
                   encoding="utf-8")
    assert cli.main(["offboard", "-c", str(cfg), "-o", str(tmp_path / "out")]) == 2
    assert "downlevel.workspace_id" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_an_offboarding_package_that_expires_soon_after_the_release_date_is_warned(tmp_path, capsys):
    cfg = _cfg(tmp_path)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("date: 2026-12-01", "date: 2099-01-30"), encoding="utf-8")
    assert cli.main(["offboard", "-c", str(cfg), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "the offboarding package expires on 2099-01-31, less than 3 days after the release date 2099-01-30" in err
    assert "the DefenderDT offboarding file expires on 2099-01-31, less than 3 days" in err


def test_a_down_level_target_without_its_way_off_is_warned(tmp_path, capsys):
    cfg = _cfg(tmp_path)
    text = cfg.read_text(encoding="utf-8").replace(
        "  defenderdt_offboarding: packages/WindowsDefenderATP_valid_until_2099-01-31.offboarding\n", "")
    cfg.write_text(text, encoding="utf-8")
    for command in ("gpo", "sccm-package"):
        assert cli.main([command, "-c", str(cfg), "-o", str(tmp_path / "out")]) == 0
        err = capsys.readouterr().err
        assert "target 'Server 2008 R2': no offboarding" in err and "configure packages.defenderdt_offboarding" in err
