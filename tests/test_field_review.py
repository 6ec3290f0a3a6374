"""Smaller findings of the field review of the GPO and SCCM kits (issue 8, items 15-18): each test
fails without its fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import scenarios
from generator import cli, config as config_mod, kits, portal, starter, synthetic
from generator.errors import ConfigError

TODAY = dt.date(2026, 11, 28)

BASE = """version: 1
organization: Contoso
release: {version: "2026.12.0", date: 2026-12-01}
packages: {onboarding: on.cmd}
share: \\\\fs01.contoso.com\\MDE$
"""


def _project(tmp_path: Path, text: str = BASE, script: bytes | None = None):
    (tmp_path / "on.cmd").write_bytes(synthetic.onboarding_script() if script is None else script)
    cfg = config_mod.loads(text, source="mdegen.yaml", base_dir=tmp_path)
    return scenarios.project_of(cfg, kits.GPO, today=TODAY)


# --- 15: warnings ---------------------------------------------------------------------------------


def test_unknown_asr_rule_is_warned(tmp_path):
    known = _project(tmp_path, BASE + "settings:\n  asr_rules: {9e6c4e1f-7d60-472f-ba1a-a39ef669e4b2: audit}\n")
    assert not [w for w in known.warnings if "asr_rules" in w]
    typo = _project(tmp_path, BASE + "settings:\n  asr_rules: {9e6c4e1f-7d60-472f-ba1a-a39ef669e4b3: audit}\n")
    (warning,) = [w for w in typo.warnings if "asr_rules" in w]
    assert "9e6c4e1f-7d60-472f-ba1a-a39ef669e4b3" in warning and "not an attack surface reduction rule" in warning


def test_lf_only_portal_script_is_warned_in_every_kit(tmp_path):
    lf = synthetic.onboarding_script().replace(b"\r\n", b"\n")
    for kit in kits.KITS:
        (tmp_path / "on.cmd").write_bytes(lf)
        cfg = config_mod.loads(BASE, source="mdegen.yaml", base_dir=tmp_path)
        warnings = scenarios.project_of(cfg, kit, today=TODAY).warnings
        assert any("LF-only line ends" in w and "mdegen.yaml:4: packages.onboarding" in w for w in warnings), kit.name
    assert not [w for w in _project(tmp_path).warnings if "LF-only" in w]


def test_expired_signing_certificate_is_warned(tmp_path):
    old = synthetic.onboarding_script(cert_not_after=dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc))
    (warning,) = [w for w in _project(tmp_path, script=old).warnings if "certificate" in w]
    assert "expired on 2024-03-01" in warning
    assert not [w for w in _project(tmp_path).warnings if "certificate" in w]


# --- 16: ]]> and path lengths ---------------------------------------------------------------------


def test_cdata_terminator_in_the_organisation_is_refused_for_every_kit():
    with pytest.raises(ConfigError) as info:
        config_mod.loads(BASE.replace("organization: Contoso", 'organization: "Contoso ]]> IT"'), source="x")
    assert info.value.field == "organization" and "]]>" in info.value.reason


@pytest.mark.parametrize("share, words", [
    ("\\\\fs01.contoso.com\\" + "s" * 81, "Windows allows 80"),
    ("\\\\fs01.contoso.com\\MDE\\" + "f" * 256, "Windows allows 255"),
    ("\\\\fs01.contoso.com\\MDE" + ("\\" + "f" * 60) * 3, "MAX_PATH"),
])
def test_share_paths_windows_cannot_use_are_refused(share, words):
    with pytest.raises(ConfigError) as info:
        config_mod.loads(BASE.replace("\\\\fs01.contoso.com\\MDE$", share), source="x")
    assert info.value.field == "share" and words in info.value.reason


def test_the_longest_accepted_share_keeps_every_script_path_within_max_path():
    share = "\\\\fs01.contoso.com\\MDE" + "\\" + "f" * (config_mod._MAX_SHARE_PATH - 23)
    cfg = config_mod.loads(BASE.replace("\\\\fs01.contoso.com\\MDE$", share), source="x")
    longest = cfg.share + "\\" + synthetic.offboarding_script_name(dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc))
    assert len(cfg.share) == config_mod._MAX_SHARE_PATH and len(longest) <= 259


# --- 17: the -LinkOU example -------------------------------------------------------------------------


def test_link_ou_example_fits_a_domain_controller_target(tmp_path):
    text = BASE + "targets:\n  - {name: DCs, domain_controllers: only}\n"
    handoff = scenarios.build_kit(config_mod.loads(text, source="x", base_dir=_dir(tmp_path)), kits.GPO,
                                  today=TODAY)["HANDOFF.md"].decode("utf-8")
    assert "'DCs' = 'OU=Domain Controllers,DC=contoso,DC=com'" in handoff and "OU=Servers" not in handoff


def _dir(tmp_path: Path) -> Path:
    (tmp_path / "on.cmd").write_bytes(synthetic.onboarding_script())
    return tmp_path


# --- 18: the example has an offboarding package ------------------------------------------------------


def test_example_includes_a_fake_offboarding_package_that_never_expires(tmp_path, capsys):
    assert cli.main(["init", "--example", str(tmp_path / "ex")]) == 0
    off = tmp_path / "ex" / starter.example_offboarding_path()
    pkg = portal.read_package(off)
    assert pkg.facts.org_id == synthetic.FAKE_ORG_ID and pkg.facts.expiration.year == 2099
    assert cli.main(["gpo", "-c", str(tmp_path / "ex" / "mdegen.yaml"), "-o", str(tmp_path / "out")]) == 0
    assert cli.main(["sccm-package", "-c", str(tmp_path / "ex" / "mdegen.yaml"), "-o", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "gpo" / "share" / off.name).read_bytes() == off.read_bytes()
    assert any(p.name.startswith("MDE-Offboarding-") for p in (tmp_path / "out" / "sccm" / "packages").iterdir())


# --- 7, 8: what the SCCM kit applies, and where its programs may run ----------------------------------


def test_sccm_says_which_settings_it_does_not_apply(tmp_path):
    text = BASE + "settings: {passive_mode: true, pua_protection: block, device_tag: Web}\n"
    cfg = config_mod.loads(text, source="mdegen.yaml", base_dir=_dir(tmp_path))
    project = scenarios.project_of(cfg, kits.SCCM, today=TODAY)
    (warning,) = kits.SCCM.check(project)
    assert "device_tag, pua_protection are not applied" in warning and "passive_mode" not in warning
    handoff = kits.SCCM.build(project)[-1].data.decode("utf-8")
    assert "| Servers | `device_tag` | a configuration item that sets the registry value" in handoff
    assert "| Servers | `pua_protection` | an antimalware policy |" in handoff
    only_passive = config_mod.loads(BASE + "settings: {passive_mode: true}\n", source="x", base_dir=tmp_path)
    assert kits.SCCM.check(scenarios.project_of(only_passive, kits.SCCM, today=TODAY)) == []


def test_sccm_programs_carry_no_platform_ranges(tmp_path):
    """The collection targets; the .sms and the setup script create the same program."""
    files = scenarios.build_kit(config_mod.loads(BASE, source="x", base_dir=_dir(tmp_path)), kits.SCCM, today=TODAY)
    sms = [data for path, data in files.items() if path.endswith(".sms")]
    assert sms and not any(b"SupportedClients" in data or b"MinVersion" in data for data in sms)


# --- 14: every message in mdegen's words, naming file, line and field ---------------------------------

_HEAD = 'version: 1\norganization: X\nrelease: {version: "1", date: 2026-01-01}\n'


@pytest.mark.parametrize("text, where, words", [
    ('version: "1"\n', "x:1: version: ", "must be the number 1, without quotes"),
    (_HEAD + "packages: {onboarding: 5}\n", "x:4: packages.onboarding: ", "must be a file path"),
    (_HEAD + "packages: {onboarding: a.zip}\ntargets: []\n", "x:5: targets: ", "must list at least one item"),
    (_HEAD + "packages: {onboarding: a.zip}\ntargets: [{name: A, domain_controllers: maybe}]\n",
     "x:5: targets[0].domain_controllers: ", "must be true, false or only"),
    (_HEAD + "packages: {}\nshare: 5\n", "x:4: packages.onboarding: ", "is required but missing (also check: share)"),
    (_HEAD + "packages: {onboarding: a.zip, offboarding_warn_days: 400}\n", "x:4: packages.offboarding_warn_days: ",
     "must be at most 365"),
])
def test_config_errors_are_in_mdegens_words(text, where, words):
    with pytest.raises(ConfigError) as info:
        config_mod.loads(text, source="x")
    assert str(info.value) == where + words or str(info.value).startswith(where + words), str(info.value)
    assert "Input should" not in str(info.value) and "more problem" not in str(info.value)


def test_package_errors_name_the_config_file_and_line(tmp_path, capsys):
    cfg = tmp_path / "mdegen.yaml"
    cfg.write_text(BASE.replace("on.cmd", "missing.cmd"), encoding="utf-8")
    assert cli.main(["gpo", "-c", str(cfg), "-o", str(tmp_path / "out")]) == 2
    assert f"{cfg}:4: packages.onboarding: " in capsys.readouterr().err


def test_an_expired_interactive_offboarding_script_reports_both(tmp_path, capsys):
    (tmp_path / "on.cmd").write_bytes(synthetic.onboarding_script())
    (tmp_path / "off.cmd").write_bytes(synthetic.offboarding_script(
        expires=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), interactive=True))
    cfg = tmp_path / "mdegen.yaml"
    cfg.write_text(BASE.replace("packages: {onboarding: on.cmd}", "packages: {onboarding: on.cmd, offboarding: off.cmd}"),
                   encoding="utf-8")
    assert cli.main(["sccm-package", "-c", str(cfg), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{cfg}:4: packages.offboarding: " in err and "EXPIRED" in err and "interactive" in err


@pytest.mark.parametrize("text, expected", [
    ('version: 1\nrelease: {version: "1", date: 2026-02-30}\n', "x:2: release.date: '2026-02-30' is not a date"),
    ("version: 1\norganization: a\norganization: b\n", "x:3: organization: duplicate key 'organization'"),
    ("version: 1\ntargets:\n  - name: A\n    name: B\n", "x:4: targets[0].name: duplicate key 'name'"),
])
def test_yaml_value_errors_name_the_field(text, expected):
    with pytest.raises(ConfigError) as info:
        config_mod.loads(text, source="x")
    assert str(info.value).startswith(expected), str(info.value)


def test_offboarding_expiry_warning_names_the_config_line(tmp_path):
    (tmp_path / "off.cmd").write_bytes(synthetic.offboarding_script(
        expires=dt.datetime.combine(TODAY, dt.time(18), dt.timezone.utc)))
    text = BASE.replace("packages: {onboarding: on.cmd}", "packages: {onboarding: on.cmd, offboarding: off.cmd}")
    now_based, release_based = [w for w in _project(tmp_path, text).warnings if "expires" in w]
    assert now_based.startswith("mdegen.yaml:4: packages.offboarding: ") and "expires in 6 hours" in now_based
    assert release_based.startswith("mdegen.yaml:4: packages.offboarding: ") and "after the release date" in release_based


# --- issue 10 groundwork: the agents' files are read and checked by validate ---------------------------


def _downlevel(tmp_path: Path, **files: bytes) -> Path:
    (tmp_path / "on.cmd").write_bytes(synthetic.onboarding_script())
    lines = [f"  {field}: {field}.bin" for field in files]
    for field, data in files.items():
        (tmp_path / f"{field}.bin").write_bytes(data)
    text = BASE.replace("packages: {onboarding: on.cmd}", "packages:\n  onboarding: on.cmd\n" + "\n".join(lines))
    text += "targets:\n  - {name: Old, os: [2012r2, 2016], agent: unified}\n"
    (tmp_path / "mdegen.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "mdegen.yaml"


def test_validate_reads_the_agent_files(tmp_path, capsys):
    config = _downlevel(tmp_path, unified_msi=synthetic.fake_msi("md4ws"), unified_script=synthetic.fake_install_ps1())
    assert cli.main(["validate", "-c", str(config)]) == 0          # the GPO and SCCM kits deploy it
    out = capsys.readouterr()
    assert "packages.unified_msi: unified_msi.bin (unified-msi" in out.out
    assert "packages.unified_script: unified_script.bin (unified-script" in out.out
    assert "gpo/share/md4ws.msi" in out.out and "sccm/packages/MDE-Onboarding-Old/Install-MdeUnifiedAgent.ps1" in out.out


def test_an_agent_file_that_is_not_what_it_claims_names_its_field(tmp_path, capsys):
    config = _downlevel(tmp_path, unified_msi=synthetic.fake_pe("not-an-msi"), unified_script=synthetic.fake_install_ps1())
    assert cli.main(["validate", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{config}:" in err and "packages.unified_msi: " in err


def test_a_missing_agent_file_names_its_field(tmp_path, capsys):
    config = _downlevel(tmp_path, unified_msi=synthetic.fake_msi("md4ws"))
    assert cli.main(["validate", "-c", str(config)]) == 2
    # Each kit that deploys the agent names the field (the SCCM kit's policy route would need no
    # agent file, so the config is not refused before the kits are asked).
    out = capsys.readouterr()
    assert "mdegen gpo: not possible with this config: " in out.out
    assert "packages.unified_script: is required for target 'Old' (agent: unified)" in out.out
    assert "cannot be built from this config" in out.err
