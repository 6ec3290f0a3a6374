"""The ConfigMgr current-branch package's files (issue 14): WindowsDefenderATP.onboarding and its
.offboarding counterpart, alone or in the portal's zip, read like the scripts and checked alike."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
import io

import pytest

from generator import agents, cli, portal, synthetic
from generator.errors import PackageError

ONBOARDING = agents.AgentKind.DEFENDERDT_ONBOARDING
OFFBOARDING = agents.AgentKind.DEFENDERDT_OFFBOARDING
OTHER_ORG = "11111111-2222-3333-4444-555555555555"


def test_the_file_is_the_blob_the_scripts_carry(tmp_path):
    """The .onboarding file is the JSON envelope the portal's script writes as OnboardingInfo: the
    synthetic pair holds the same blob, and read from either the facts agree."""
    script = tmp_path / "WindowsDefenderATPOnboardingScript.cmd"
    script.write_bytes(synthetic.onboarding_script(version="2.11", datacenter="WestEurope"))
    bare = tmp_path / "WindowsDefenderATP.onboarding"
    bare.write_bytes(synthetic.fake_defenderdt_onboarding(version="2.11", datacenter="WestEurope"))
    assert synthetic.escape_for_cmd(bare.read_text(encoding="utf-8")).encode("ascii") in script.read_bytes()
    from_script = portal.read_package(script).facts
    facts = agents.read_agent_file(bare, ONBOARDING).blob
    assert (facts.org_id, facts.version, facts.datacenter) == (from_script.org_id, from_script.version, "WestEurope")


def test_alone_or_in_the_zip(tmp_path):
    zipped = tmp_path / "WindowsDefenderATPOnboardingPackage.zip"
    zipped.write_bytes(synthetic.configmgr_onboarding_zip(version="2.12", datacenter="US"))
    found = agents.read_agent_file(zipped, ONBOARDING)
    assert found.in_zip and found.name == "WindowsDefenderATP.onboarding" and found.blob.version == "2.12"
    expires = dt.datetime(2030, 1, 8, 12, tzinfo=dt.timezone.utc)
    off = tmp_path / "off.zip"
    off.write_bytes(synthetic.configmgr_offboarding_zip(expires=expires))
    assert agents.read_agent_file(off, OFFBOARDING).blob.expiration == expires
    with pytest.raises(PackageError, match=r"off\.zip: the zip holds no \.onboarding file"):
        agents.read_agent_file(off, ONBOARDING)


def test_inspect_shows_them(tmp_path, capsys):
    zipped = tmp_path / "WindowsDefenderATPOnboardingPackage.zip"
    zipped.write_bytes(synthetic.configmgr_onboarding_zip(version="2.12"))
    capsys.readouterr()
    assert cli.main(["inspect", "--json", str(zipped)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["org_id"], doc["version"], doc["datacenter"]) == (synthetic.FAKE_ORG_ID, "2.12", "WestEurope")
    off = tmp_path / "WindowsDefenderATP_valid_until_2020-01-01.offboarding"
    off.write_bytes(synthetic.fake_defenderdt_offboarding(expires=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)))
    assert cli.main(["inspect", str(off)]) == 0
    assert "EXPIRED on 2020-01-01" in capsys.readouterr().out


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b.replace(b"orgId", b"orgXd"),
                                    lambda b: b"\x00" + b])
def test_a_damaged_file_is_refused_naming_it(damage, tmp_path):
    bare = tmp_path / "WindowsDefenderATP.onboarding"
    bare.write_bytes(damage(synthetic.fake_defenderdt_onboarding()))
    with pytest.raises(PackageError, match=r"WindowsDefenderATP\.onboarding: "):
        agents.read_agent_file(bare, ONBOARDING)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("WindowsDefenderATP.onboarding", damage(synthetic.fake_defenderdt_onboarding()))
    (tmp_path / "p.zip").write_bytes(buffer.getvalue())
    with pytest.raises(PackageError, match=r"p\.zip: entry 'WindowsDefenderATP\.onboarding': "):
        agents.read_agent_file(tmp_path / "p.zip", ONBOARDING)


@pytest.mark.parametrize("make,message", [
    (lambda: synthetic.configmgr_offboarding_zip(expires=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)),
     "the ConfigMgr offboarding file EXPIRED on 2020-01-01"),
    (lambda: synthetic.configmgr_offboarding_zip(expires=dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc),
                                                 org_id=OTHER_ORG),
     f"the ConfigMgr offboarding file is of organisation {OTHER_ORG}"),
])
def test_an_expired_or_foreign_offboarding_file_exits_2_and_writes_nothing(make, message, tmp_path, capsys):
    assert cli.main(["init", "--example", str(tmp_path / "ex"), "--force"]) == 0
    config = tmp_path / "ex" / "mdegen.yaml"
    out = tmp_path / "out"
    assert cli.main(["sccm-package", "-c", str(config), "-o", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    target = config.parent / "packages" / "configmgr" / "WindowsDefenderATPOffboardingPackage_valid_until_2099-12-31.zip"
    target.write_bytes(make())
    capsys.readouterr()
    assert cli.main(["validate", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert "packages.configmgr_offboarding" in err and message in err
    # The SCCM kit makes the offboarding policy from it: it refuses the same way, and the previous
    # output stays as it was, byte for byte; a new output folder is not even created.
    assert cli.main(["sccm-package", "-c", str(config), "-o", str(out), "--force"]) == 2
    assert message in capsys.readouterr().err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert cli.main(["sccm-package", "-c", str(config), "-o", str(tmp_path / "new")]) == 2
    assert not (tmp_path / "new").exists()
    # A kit that does not deploy the file is not stopped by it: the GPO kit builds.
    assert cli.main(["gpo", "-c", str(config), "-o", str(tmp_path / "gpo")]) == 0


def test_a_foreign_onboarding_file_exits_2(tmp_path, capsys):
    assert cli.main(["init", "--example", str(tmp_path / "ex"), "--force"]) == 0
    config = tmp_path / "ex" / "mdegen.yaml"
    (config.parent / "packages" / "configmgr" / "WindowsDefenderATPOnboardingPackage.zip").write_bytes(
        synthetic.configmgr_onboarding_zip(org_id=OTHER_ORG))
    capsys.readouterr()
    assert cli.main(["validate", "-c", str(config)]) == 2
    assert f"the ConfigMgr onboarding file is of organisation {OTHER_ORG}" in capsys.readouterr().err


def test_an_expired_onboarding_file_is_refused_and_a_good_pair_is_used_by_the_sccm_kit(tmp_path, capsys):
    assert cli.main(["init", "--example", str(tmp_path / "ex"), "--force"]) == 0
    config = tmp_path / "ex" / "mdegen.yaml"
    capsys.readouterr()
    assert cli.main(["validate", "-c", str(config)]) == 0
    err = capsys.readouterr().err
    assert "configmgr" not in err                       # the SCCM kit deploys them: no "not used" warning
    (config.parent / "packages" / "configmgr" / "WindowsDefenderATPOnboardingPackage.zip").write_bytes(
        synthetic.configmgr_onboarding_zip(expires=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)))
    assert cli.main(["validate", "-c", str(config)]) == 2
    assert "the ConfigMgr onboarding file expired on 2020-01-01" in capsys.readouterr().err


def _zip(tmp_path, entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in entries:
            z.writestr(name, data)
    (tmp_path / "p.zip").write_bytes(buffer.getvalue())
    return tmp_path / "p.zip"


def test_zip_entries_by_suffix_in_any_case_one_only(tmp_path):
    blob = synthetic.fake_defenderdt_onboarding()
    assert agents.read_agent_file(_zip(tmp_path, [("Sub/WINDOWSDEFENDERATP.ONBOARDING", blob),
                                                  ("__MACOSX/Sub/._WINDOWSDEFENDERATP.ONBOARDING", b"\0\5")]),
                                  ONBOARDING).blob.org_id == synthetic.FAKE_ORG_ID
    with pytest.raises(PackageError, match=r"p\.zip: the zip holds more than one \.onboarding file"):
        agents.read_agent_file(_zip(tmp_path, [("a.onboarding", blob), ("b.onboarding", blob)]), ONBOARDING)


def test_inspect_names_the_reason_a_configmgr_zip_does_not_read(tmp_path, capsys):
    blob = synthetic.fake_defenderdt_onboarding()
    path = _zip(tmp_path, [("a.onboarding", blob), ("b.onboarding", blob)])
    capsys.readouterr()
    assert cli.main(["inspect", str(path)]) == 2
    assert "more than one .onboarding file" in capsys.readouterr().err
