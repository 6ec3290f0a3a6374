"""The SCCM kit's two routes (issue 14): a package and program, or a Microsoft Defender for Endpoint
policy made from the portal's ConfigMgr file; which one each target takes, and what each writes."""

from __future__ import annotations

import datetime as dt

import pytest

from generator import agents, cli, kits, project
from generator import cm_route
from generator.errors import ConfigError

NOW = dt.datetime(2026, 12, 2, tzinfo=dt.timezone.utc)


@pytest.fixture
def example(tmp_path):
    assert cli.main(["init", "--example", str(tmp_path / "ex"), "--force"]) == 0
    return tmp_path / "ex" / "mdegen.yaml"


def _edit(config, *pairs):
    text = config.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    config.write_text(text, encoding="utf-8")


def _routes(config) -> dict[str, tuple[str, str]]:
    p = project.load(config, packages=kits.SCCM.packages, now=NOW, purpose="SCCM onboarding")
    return {name: (c.route, c.reason) for name, c in cm_route.routes(p).items()}


def test_auto_takes_the_policy_where_it_does_the_whole_job(example):
    routes = _routes(example)
    assert routes["Servers"][0] == "policy" and "current-branch" in routes["Servers"][1]
    assert routes["Server 2012 R2 and 2016"] == ("package", "passive mode is on, and only the package sets it before onboarding")
    assert routes["Server 2008 R2"][0] == "package" and "does not onboard" in routes["Server 2008 R2"][1]


def test_auto_without_the_configmgr_file_is_the_package(example):
    _edit(example, ("  configmgr_onboarding:", "  # configmgr_onboarding:"),
          ("  configmgr_offboarding:", "  # configmgr_offboarding:"))
    routes = _routes(example)
    assert routes["Servers"] == ("package", "packages.configmgr_onboarding is not given (the policy is made from it)")


def test_the_unified_agent_without_passive_mode_takes_the_policy(example, tmp_path, capsys):
    _edit(example, ("    agent: unified\n", "    agent: unified\n    settings:\n      passive_mode: false\n"))
    assert _routes(example)["Server 2012 R2 and 2016"][0] == "policy"
    out = tmp_path / "out"
    assert cli.main(["sccm-package", "-c", str(example), "-o", str(out)]) == 0
    kit = out / "sccm"
    # The ConfigMgr client installs the unified agent itself: no package carries md4ws.msi.
    assert not (kit / "packages" / "MDE-Onboarding-Server-2012-R2-and-2016").exists()
    script = (kit / "New-MdeCmPackage.ps1").read_text(encoding="utf-8-sig")
    assert "MDE Client (recommended)" in script and "no cmdlet reads or sets it" in script
    assert "MDE Client (recommended)" in (kit / "HANDOFF.md").read_text(encoding="utf-8")


def test_a_target_may_choose_the_package(example, tmp_path):
    _edit(example, ("    os: [2019, 2022, 2025]\n", "    os: [2019, 2022, 2025]\n    sccm_route: package\n"))
    assert _routes(example)["Servers"] == ("package", "chosen in targets[0].sccm_route")
    out = tmp_path / "out"
    assert cli.main(["sccm-package", "-c", str(example), "-o", str(out)]) == 0
    # No target on the policy route: no policy, not even the offboarding one.
    assert not (out / "sccm" / "policy").exists()
    assert (out / "sccm" / "packages" / "MDE-Onboarding-Servers" / "MDE-Onboarding-Servers.sms").is_file()


def test_the_policy_is_made_from_the_portal_file_byte_for_byte(example, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["sccm-package", "-c", str(example), "-o", str(out)]) == 0
    zipped = example.parent / "packages" / "configmgr" / "WindowsDefenderATPOnboardingPackage.zip"
    blob = agents.read_agent_file(zipped, agents.AgentKind.DEFENDERDT_ONBOARDING)
    assert (out / "sccm" / "policy" / "WindowsDefenderATP.onboarding").read_bytes() == blob.data
    assert (out / "sccm" / "policy" / "WindowsDefenderATP_valid_until_2099-12-31.offboarding").is_file()


@pytest.mark.parametrize("edit, field, words", [
    # Every target on the policy: the 2012 R2/2016 target has passive mode on.
    (("version: 1\n", "version: 1\nsccm:\n  route: policy\n"), "sccm.route", "cannot set ForceDefenderPassiveMode"),
    # The policy for 2008 R2 with DefenderDT: refused where the config is read.
    (("    agent: defenderdt\n", "    agent: defenderdt\n    sccm_route: policy\n"), "targets[2].sccm_route",
     "onboards 2012r2 and 2016 with the unified agent and 2019 and later only"),
    # The policy without the file it is made from.
    (("  configmgr_onboarding:", "  # configmgr_onboarding:"), "packages.configmgr_onboarding",
     "is required by targets[0].sccm_route: policy"),
])
def test_a_policy_route_that_cannot_work_exits_2_and_writes_nothing(example, tmp_path, capsys, edit, field, words):
    _edit(example, edit)
    if field == "packages.configmgr_onboarding":
        _edit(example, ("  configmgr_offboarding:", "  # configmgr_offboarding:"),
              ("    os: [2019, 2022, 2025]\n", "    os: [2019, 2022, 2025]\n    sccm_route: policy\n"))
    capsys.readouterr()
    assert cli.main(["sccm-package", "-c", str(example), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert field in err and words in err, err
    assert not (tmp_path / "out").exists()


def test_route_of_refuses_a_policy_for_an_agent_it_does_not_install(example):
    _edit(example, ("version: 1\n", "version: 1\nsccm:\n  route: policy\n"),
          ("    agent: unified\n", "    agent: unified\n    sccm_route: package\n"))
    p = project.load(example, packages=kits.SCCM.packages, now=NOW, purpose="SCCM onboarding")
    with pytest.raises(ConfigError, match=r"does not onboard target 'Server 2008 R2'.*set sccm_route: package"):
        cm_route.routes(p)


def test_the_plan_names_each_target_s_sccm_route(example, tmp_path, capsys):
    out = tmp_path / "plan"
    capsys.readouterr()
    assert cli.main(["plan", "-c", str(example), "--inventory", str(example.parent / "inventory.csv"), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Servers: GPO or SCCM policy" in text and "Server 2008 R2: GPO or SCCM package" in text
    # Routes the SCCM kit would refuse: the plan still plans, says SCCM alone and names the reason.
    _edit(example, ("version: 1\n", "version: 1\nsccm:\n  route: policy\n"))
    assert cli.main(["plan", "-c", str(example), "--inventory", str(example.parent / "inventory.csv"), "-o",
                     str(tmp_path / "plan2")]) == 0
    text = capsys.readouterr().out
    assert "Servers: GPO or SCCM\n" in text and "the SCCM kit refuses this config's routes" in text


def test_a_policy_route_needs_none_of_the_unified_agent_s_files(tmp_path, capsys):
    import scenarios

    config = scenarios.materialise(scenarios.ROOT / "sccm-policy", tmp_path / "site")
    _edit(config, ("  unified_msi: packages/md4ws.msi\n", ""), ("  unified_script: packages/install.ps1\n", ""))
    assert cli.main(["sccm-package", "-c", str(config), "-o", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "sccm" / "policy" / "WindowsDefenderATP.onboarding").is_file()
    # The kits that deploy the agent still refuse, naming the file.
    capsys.readouterr()
    assert cli.main(["gpo", "-c", str(config), "-o", str(tmp_path / "gpo")]) == 2
    assert "packages.unified_msi: is required for target 'Server 2012 R2 and 2016' (agent: unified)" in capsys.readouterr().err
    # So does the SCCM kit once the target is on the package route.
    _edit(config, ("  route: policy\n", "  route: package\n"))
    assert cli.main(["sccm-package", "-c", str(config), "-o", str(tmp_path / "out2")]) == 2
    assert "packages.unified_msi: is required" in capsys.readouterr().err
