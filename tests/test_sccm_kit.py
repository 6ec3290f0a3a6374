"""The SCCM kit as a whole: limits refused with the field named, values escaped where they land."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import pwsh_syntax
import scenarios
from generator import config as config_mod
from generator import kits, synthetic
from generator.builders.sccm_wrapper import WRAPPER_NAME
from generator.errors import ConfigError
from generator.escaping import ps_unquote_single

TODAY = dt.date(2026, 11, 28)

BASE = """
version: 1
organization: ORG
release: {version: "2026.12.0", date: 2026-12-01}
packages: {onboarding: on.zip}
share: \\\\fs01.contoso.com\\MDE$
settings: {passive_mode: PASSIVE}
targets:
  - name: TARGET
"""


def _kit(tmp_path, org="Contoso", target="Servers", passive="true"):
    (tmp_path / "on.zip").write_bytes(synthetic.onboarding_zip())
    text = BASE.replace("ORG", json.dumps(org)).replace("TARGET", json.dumps(target)).replace("PASSIVE", passive)
    cfg = config_mod.loads(text, source="mdegen.yaml", base_dir=tmp_path)
    return scenarios.build_kit(cfg, kits.SCCM, today=TODAY)


def test_target_name_too_long_for_the_console_is_refused_naming_the_field(tmp_path):
    assert _kit(tmp_path, target="x" * 33)                       # 17 + 33 = 50: fits
    with pytest.raises(ConfigError) as info:
        _kit(tmp_path, target="x" * 34)
    assert info.value.field == "targets[0].name" and "50" in str(info.value)


@pytest.mark.parametrize("org", ["Fabrikam & Co", "O'Brien IT", "Cost $avers", "A <b>B</b>", "Söhne ’quoted’"])
def test_organization_reaches_the_script_as_a_literal(org, tmp_path):
    script = _kit(tmp_path, org=org)["New-MdeCmPackage.ps1"]
    assert pwsh_syntax.problems(script) == []
    literals = [ps_unquote_single(t.text) for t in pwsh_syntax.single_quoted_strings(script)]
    assert org in literals


@pytest.mark.parametrize("bad", ['Say "hi"', "100% IT"])
def test_organization_characters_batch_cannot_carry_are_refused(bad, tmp_path):
    with pytest.raises(ConfigError) as info:
        _kit(tmp_path, org=bad)
    assert info.value.field == "organization"


@pytest.mark.parametrize("passive,wrapper", [("true", True), ("false", True), ("null", False)])
def test_wrapper_only_where_passive_mode_is_configured(passive, wrapper, tmp_path):
    kit = _kit(tmp_path, passive=passive)
    folder = "packages/MDE-Onboarding-Servers"
    assert (f"{folder}/{WRAPPER_NAME}" in kit) is wrapper
    sms = kit[f"{folder}/MDE-Onboarding-Servers.sms"].decode("ascii")
    assert f"CommandLine={WRAPPER_NAME if wrapper else 'WindowsDefenderATPOnboardingScript.cmd'}" in sms
    if wrapper:
        value = "1" if passive == "true" else "0"
        assert f"/d {value} /f /reg:64".encode() in kit[f"{folder}/{WRAPPER_NAME}"]
    # The portal's script is always there, byte for byte.
    assert kit[f"{folder}/WindowsDefenderATPOnboardingScript.cmd"] == synthetic.onboarding_script()


def test_site_code_must_be_three_letters_or_digits(tmp_path):
    """The script's -SiteCode validation, read from the generated script and applied as .NET would."""
    import re

    script = _kit(tmp_path)["New-MdeCmPackage.ps1"].decode("utf-8-sig")
    pattern = re.search(r"\[ValidatePattern\('([^']*)'\)\]\r\n    \[string\] \$SiteCode,", script).group(1)
    site_code = re.compile(pattern)
    for good in ("ABC", "P01", "x9z"):
        assert site_code.match(good), good
    for bad in ("AB", "ABCD", "A-C", "AB ", "", "A$C"):
        assert not site_code.match(bad), bad
