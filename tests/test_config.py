"""The config model: what it accepts, what it refuses, and how it names the fault."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from generator import config
from generator.project import resolve
from generator.errors import ConfigError
from generator.starter import starter_config

GOOD = r"""
version: 1
organization: Contoso & Sons
release:
  version: "2026.11.1"
  date: 2026-11-28
packages:
  onboarding: pkg/WindowsDefenderATPOnboardingPackage.zip
share: \\fs01.contoso.com\MDE$\Onboarding
settings:
  passive_mode: true
  pua_protection: off
  asr_rules:
    56A863A9-875E-4185-98A7-B882C64B5CE5: audit
"""


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config.loads(text, source="mdegen.yaml")
    return info.value


def test_good_config_loads():
    cfg = config.loads(GOOD, source="mdegen.yaml", base_dir=Path("/cfg"))
    assert cfg.organization == "Contoso & Sons"
    assert cfg.release.date.isoformat() == "2026-11-28"
    assert cfg.share == r"\\fs01.contoso.com\MDE$\Onboarding"
    # YAML 1.2 booleans: 'off' stays the word, not False.
    assert cfg.settings.pua_protection == "off"
    # Registry value names are case-insensitive: rule GUIDs are normalised to lower case.
    assert list(cfg.settings.asr_rules) == ["56a863a9-875e-4185-98a7-b882c64b5ce5"]
    assert cfg.package_path("onboarding") == Path("/cfg/pkg/WindowsDefenderATPOnboardingPackage.zip")
    assert cfg.package_path("offboarding") is None


def test_settings_default_to_not_configured():
    cfg = config.loads(GOOD.split("settings:")[0], source="x")
    assert cfg.settings.configured() == {}


@pytest.mark.parametrize("old,new,field,line,words", [
    ("passive_mode", "pasive_mode", "settings.pasive_mode", 11, "unknown key"),
    ("passive_mode: true", "passive_mode: yes", "settings.passive_mode", 11, "true or false"),
    ("56A863A9", "zz", "settings.asr_rules", 13, "not a GUID"),
    ("fs01.contoso.com", "fs01", "share", 9, "fully qualified"),
    (r"\\fs01.contoso.com\MDE$\Onboarding", r"C:\MDE", "share", 9, "UNC path"),
    (r"\Onboarding", r"\On%boarding%", "share", 9, "%"),
    (r"\\fs01.contoso.com", r"\\10.0.0.1", "share", 9, "fully qualified"),
    ('"2026.11.1"', "1.10", "release.version", 5, "quote"),
    ("2026-11-28", "'28.11.2026'", "release.date", 6, "YYYY-MM-DD"),
    ("organization: Contoso & Sons", 'organization: "Contoso\\nSons"', "organization", 3, "control characters"),
    ("organization: Contoso & Sons", 'organization: 50% off', "organization", 3, "%"),
    ("pua_protection: off", "pua_protection: maybe", "settings.pua_protection", 12, "must be one of"),
    ("  onboarding: pkg/WindowsDefenderATPOnboardingPackage.zip\n", "  vdi: x.zip\n", "packages.onboarding", 7, "required"),
    ("  onboarding: pkg/WindowsDefenderATPOnboardingPackage.zip\n", "", "packages", 7, "mapping"),
])
def test_bad_values_name_file_line_and_field(old, new, field, line, words):
    assert old in GOOD
    err = _error(GOOD.replace(old, new, 1))
    assert err.field == field
    assert err.line == line
    assert words in err.reason
    assert str(err).startswith(f"mdegen.yaml:{line}: {field}: ")


def test_yaml_syntax_error_names_line():
    err = _error(GOOD + "  foo: [\n")
    assert "YAML syntax error" in str(err) and err.line is not None


def test_duplicate_key_refused():
    err = _error(GOOD + "share: \\\\other.contoso.com\\x\n")
    assert "duplicate key 'share'" in str(err)


def test_unsupported_version():
    err = _error(GOOD.replace("version: 1", "version: 2"))
    assert err.field == "version" and "version 1" in err.reason


def test_device_tag_limits():
    base = GOOD + "  device_tag: {}\n"
    assert config.loads(base.format("'Tier 0 & \"x\"'".replace('"x"', "x")), source="x").settings.device_tag == "Tier 0 & x"
    assert "200" in _error(base.format("a" * 201)).reason
    assert _error(base.format("'50%'")).field == "settings.device_tag"


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "nope.yaml")


def test_empty_file():
    assert "empty" in _error("").reason


def test_base_dir_is_not_a_config_key():
    assert _error(GOOD + "base_dir: /etc\n").field == "base_dir"


def test_schema_lists_every_setting():
    schema = config.json_schema()
    text = json.dumps(schema)
    for name in config.Settings.model_fields:
        assert name in text
    assert "base_dir" not in schema["properties"]
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("example", [False, True])
def test_starter_configs_are_valid(example):
    import datetime as dt
    text = starter_config(example=example, today=dt.date(2026, 11, 28)).decode()
    cfg = config.loads(text, source="starter")
    if example:
        # The example turns every setting on, so it exercises the whole policy model.
        assert set(cfg.settings.configured()) == set(config.Settings.model_fields)
    else:
        assert cfg.settings.configured() == {"passive_mode": True}


def test_share_refuses_cmd_metacharacters():
    for bad in ("MDE&Co", "MDE^1"):
        err = _error(GOOD.replace("MDE$", bad))
        assert err.field == "share" and "cmd.exe" in err.reason


def test_share_is_optional_in_the_config():
    # Only the Group Policy kit reads it; the kit's own check names it (tests/scenarios/no-share).
    no_share = "\n".join(line for line in GOOD.splitlines() if not line.startswith("share:")) + "\n"
    cfg = config.loads(no_share, source="x")
    assert cfg.share is None and cfg.ad_domain is None


def test_domain_defaults_to_share_servers_domain():
    assert config.loads(GOOD, source="x").ad_domain == "contoso.com"
    assert config.loads(GOOD + "domain: Corp.Contoso.COM\n", source="x").ad_domain == "corp.contoso.com"
    assert _error(GOOD + "domain: 'contoso com'\n").field == "domain"


TARGETS = GOOD + """targets:
  - name: Web
    os: [2019, 2022]
    settings: {device_tag: Web, passive_mode: false}
  - name: DCs
    os: [2022]
    domain_controllers: true
"""


def test_targets_merge_settings_over_the_top_level():
    cfg = config.loads(TARGETS.replace("os: [2022]\n    domain", "os: [2025]\n    domain"), source="x")
    web, dcs = resolve(cfg).targets
    assert web.settings.device_tag == "Web" and web.settings.passive_mode is False
    assert web.settings.pua_protection == "off"          # inherited
    assert dcs.settings.passive_mode is True and dcs.product_types == (2, 3)
    assert web.builds == ("17763", "20348")
    assert (web.field, dcs.field) == ("targets[0]", "targets[1]")


def test_default_target():
    (only,) = resolve(config.loads(GOOD, source="x")).targets
    assert only.name == "Servers" and only.builds == ("17763", "20348", "26100")
    assert only.product_types == (3,)


def test_overlapping_targets_refused():
    err = _error(TARGETS)
    assert err.field == "targets" and "20348" in err.reason and "exactly one" in err.reason


@pytest.mark.parametrize("release", ["2016", "2012r2", "'2008 R2'", "'2012 R2'"])
def test_down_level_releases_need_their_agent(release):
    err = _error(GOOD + f"targets:\n  - name: Old\n    os: [{release}]\n")
    assert err.field == "targets[0].agent" and "need" in err.reason and "agent" in err.reason
    cfg = config.loads(GOOD + f"targets:\n  - name: Old\n    os: [{release}]\n    agent: defenderdt\n", source="x")
    assert cfg.targets[0].agent == "defenderdt"


@pytest.mark.parametrize("targets, field, words", [
    ("[{name: A, os: [2008r2], agent: unified}]", "targets[0].agent", "unified does not onboard 2008r2"),
    ("[{name: A, os: [2016, 2019], agent: mma}]", "targets[0].agent", "not both"),
    ("[{name: A, os: [2019], agent: mma}]", "targets[0].agent", "remove agent"),
    ("[{name: A, os: [2012]}]", "targets[0].os", "out of support"),
    ("[{name: A, os: [2016], agent: sccm}]", "targets[0].agent", "must be one of"),
])
def test_agent_choices_are_checked_per_release(targets, field, words):
    err = _error(GOOD + f"targets: {targets}\n")
    assert err.field == field and words in err.reason, (err.field, err.reason)


def test_agent_targets_without_their_files_or_workspace_name_the_missing_field(tmp_path):
    from generator import kits, synthetic
    import scenarios

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "WindowsDefenderATPOnboardingPackage.zip").write_bytes(synthetic.onboarding_zip())
    (tmp_path / "pkg" / "MMASetup-AMD64.exe").write_bytes(synthetic.fake_pe("MMASetup-AMD64.exe", signed=True))
    mma = GOOD.replace("share:", "  mma_setup: pkg/MMASetup-AMD64.exe\nshare:") + \
        "targets:\n  - {name: Old, os: [2016], agent: mma}\n"
    unified = GOOD + "targets:\n  - {name: Old, os: [2016], agent: unified}\n"
    for kit in (kits.GPO, kits.SCCM):
        for text, field in ((mma, "downlevel.workspace_id"), (unified, "packages.unified_msi")):
            # Refused where the config is read (mma) or by the kit that deploys the agent (unified: the
            # SCCM kit's policy route needs none of its files).
            with pytest.raises(ConfigError) as info:
                kit.check(scenarios.project_of(config.loads(text, source="mdegen.yaml", base_dir=tmp_path), kit,
                                               today=dt.date(2026, 11, 28)))
            assert info.value.field == field and "'Old' (agent: " in info.value.reason


@pytest.mark.parametrize("downlevel, field, words", [
    ("{workspace_id: not-a-guid}", "downlevel.workspace_id", "must be a workspace id"),
    ("{proxy: 'http://user:secret@proxy.contoso.com:8080'}", "downlevel.proxy", "must not hold a user name or password"),
    ("{proxy: proxy.contoso.com}", "downlevel.proxy", "host:port"),
    ("{proxy: 'proxy.contoso.com:99999'}", "downlevel.proxy", "host:port"),
    ("{proxy_user: 'a b'}", "downlevel.proxy_user", "must be a user name"),
    ("{cloud: mars}", "downlevel.cloud", "commercial"),
    ("{log_share: 'C:\\logs'}", "downlevel.log_share", "UNC"),
])
def test_downlevel_settings_are_checked(downlevel, field, words):
    err = _error(GOOD + f"downlevel: {downlevel}\n")
    assert err.field == field and words in err.reason, (err.field, err.reason)


def test_downlevel_settings_accept_what_the_agents_take():
    cfg = config.loads(GOOD + "downlevel: {workspace_id: 11111111-2222-3333-4444-55555555AAAA, "
                       "proxy: 'http://proxy.contoso.com:8080/', proxy_user: 'CONTOSO\\svc-proxy'}\n",
                       source="mdegen.yaml")
    assert cfg.downlevel.workspace_id == "11111111-2222-3333-4444-55555555aaaa"
    assert cfg.downlevel.proxy == "http://proxy.contoso.com:8080" and cfg.downlevel.cloud == "auto"


def test_target_names():
    assert "used twice" in _error(GOOD + "targets:\n  - {name: A, os: [2019]}\n  - {name: a, os: [2022]}\n").reason
    assert _error(GOOD + "targets:\n  - {name: 'A/B'}\n").field == "targets[0].name"


def test_starter_targets_example_is_valid_when_uncommented():
    text = starter_config().decode()
    commented = text.split("# targets:")[1].split("\n\n")[0]        # the block, up to the next blank line
    block = "targets:" + "\n".join(line[2:] if line.startswith("# ") else line for line in commented.split("\n"))
    cfg = config.loads(text + "\n" + block, source="starter")
    assert [t.name for t in resolve(cfg).targets] == ["Member servers", "Domain controllers"]
