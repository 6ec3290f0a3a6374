"""Test-MdeOnboarding.ps1 and its result format (issue 11): one script for every kit, a schema
that is valid JSON Schema, and results of every outcome that the schema accepts."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

import scenarios
from generator import cli, config, verification
from generator.escaping import ps_unquote_single

SCRIPT = verification.render_script().decode("utf-8-sig").replace("\r\n", "\n")


def _check(id_: str, status: str) -> dict:
    cls = dict(verification.CHECKS)[id_]
    bit = next(c.bit for c in verification.CLASSES if c.name == cls)
    return {"id": id_, "class": bit, "status": status, "expected": "1", "observed": "", "detail": "x"}


def _result(*checks: dict, **fields) -> dict:
    failed = sum({c["class"] for c in checks if c["status"] == "fail"})
    doc = {"schema": verification.SCHEMA_ID, "computer": "SRV01", "time": "2026-12-01T10:00:00Z",
           "expect": "Onboarded", "target": "Servers", "release": "2026.12.0", "agent": "none",
           "result": "fail" if failed else "pass", "exitCode": failed, "checks": list(checks)}
    return {**doc, **fields}


def test_the_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(verification.RESULT_SCHEMA)


@pytest.mark.parametrize("status", verification.STATUSES)
def test_a_result_of_each_outcome_validates(status):
    doc = _result(*(_check(c, status) for c, _ in verification.CHECKS))
    jsonschema.validate(doc, verification.RESULT_SCHEMA)


@pytest.mark.parametrize("change", [
    {"schema": "https://mdegen.invalid/schemas/result-0.json"},
    {"expect": "Maybe"},
    {"agent": "sccm"},
    {"exitCode": -1},
    {"time": "yesterday"},
    {"checks": [{"id": "no_such_check", "class": 1, "status": "pass", "expected": "", "observed": "", "detail": ""}]},
    {"checks": [{"id": "org_id", "class": 1, "status": "maybe", "expected": "", "observed": "", "detail": ""}]},
    {"extra": 1},
])
def test_the_schema_refuses_what_no_script_writes(change):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_result(_check("org_id", "pass"), **change), verification.RESULT_SCHEMA)


def test_the_script_uses_exactly_the_schema_check_ids_with_their_classes():
    used = set(re.findall(r"Add-CheckResult -Id '([a-z_]+)'", SCRIPT))
    assert used == {c for c, _ in verification.CHECKS}
    table = dict(re.findall(r"^\s+('[a-z_]+') = (\d+)$", SCRIPT, re.M))
    bits = {c.name: c.bit for c in verification.CLASSES}
    assert {ps_unquote_single(k): int(v) for k, v in table.items()} == {c: bits[k] for c, k in verification.CHECKS}
    for c in verification.CLASSES:                          # the help text documents every exit-code bit
        assert re.search(rf"^\s+{c.bit}\s+{c.name}: ", SCRIPT, re.M)
    assert "'" + verification.SCHEMA_ID + "'" in SCRIPT


def test_every_kit_ships_the_schema_it_prints():
    copies = {p.read_bytes() for p in scenarios.ROOT.rglob(verification.SCHEMA_FILE_NAME)}
    assert copies == {verification.schema_bytes()}
    assert json.loads(verification.schema_bytes()) == verification.RESULT_SCHEMA


def test_every_kit_carries_the_same_bytes():
    copies = {p.read_bytes() for p in scenarios.ROOT.rglob(verification.SCRIPT_NAME)}
    assert copies == {verification.render_script()}
    kits_with_it = {p.relative_to(scenarios.ROOT).parts[1] for p in scenarios.ROOT.rglob(verification.SCRIPT_NAME)}
    assert kits_with_it == {"gpo", "sccm", "vdi", "downlevel", "offboard"}


def test_the_handoff_command_quotes_every_value():
    settings = config.Settings(passive_mode=True, device_tag="Ops' & $team")
    line = verification.command(name="Old servers", settings=settings, agent="mma", org_id="0f0e0d0c-0b0a-4988-8776-655443322110",
                                release="2026.12.0", workspace_id="11111111-2222-3333-4444-555555555555")
    assert line == (r".\Test-MdeOnboarding.ps1 -OrgId 0f0e0d0c-0b0a-4988-8776-655443322110 -PassiveMode on "
                    "-DeviceTag 'Ops'' & $team' -Agent mma -WorkspaceId 11111111-2222-3333-4444-555555555555 "
                    "-Target 'Old servers' -Release '2026.12.0'")


def test_schema_results_prints_the_schema(capsys):
    assert cli.main(["schema", "--results"]) == 0
    assert json.loads(capsys.readouterr().out) == verification.RESULT_SCHEMA


def test_task_arguments_follow_windows_command_line_rules():
    settings = config.Settings(passive_mode=False, device_tag="Web & 'App' $x")
    args = verification.task_arguments(script_path=r"\\fs.contoso.com\MDE$\My Share\Test-MdeOnboarding.ps1", name="Old servers",
                                       settings=settings, agent=None, org_id=None, release="1", result_path="\\\\r\\Results$\\")
    assert args == ('-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "\\\\fs.contoso.com\\MDE$\\My Share\\Test-MdeOnboarding.ps1" '
                    "-PassiveMode:off -DeviceTag:\"Web & 'App' $x\" -Target:\"Old servers\" -Release:1 -ResultPath:\\\\r\\Results$\\")
    dash = verification.task_arguments(script_path="s.ps1", name="T", settings=config.Settings(device_tag="-Prod"),
                                       agent=None, org_id=None, release="1", result_path="r")
    assert "-DeviceTag:-Prod " in dash               # bound to DeviceTag, never read as a parameter name
    assert verification.argv_quoted("a b\\") == '"a b\\\\"'                  # the closing quote stays a quote
    with pytest.raises(ValueError, match="double quote"):
        verification.argv_quoted('say "hi"')


def test_passive_mode_off_accepts_an_absent_policy_value():
    """-PassiveMode off: 0 passes, and so does no value at all (the SCCM kit's Defender for Endpoint
    policy writes none, and an absent value forces nothing); 1 fails. The running mode is checked
    apart, against 'Normal'."""
    block = SCRIPT[SCRIPT.index("$passive = Get-Value -Key $Facts.PolicyKey"):SCRIPT.index("$event84 = ")]
    branches = re.findall(r"(if|elseif) \((.*)\) \{\n(?:\s*#.*\n)*\s*Add-CheckResult -Id 'passive_policy' -Status '([a-z-]+)'", block)
    assert [(cond, status) for _, cond, status in branches] == [
        ("-not $expectedPassive", "not-applicable"),
        ("[string] $passive -eq $expectedPassive", "pass"),
        ("$expectedPassive -eq '0' -and $null -eq $passive", "pass"),
    ]
    assert block.rstrip().endswith("-Detail ('{0} is not {1}' -f $Facts.PassiveValue, $expectedPassive)\n}".rstrip())
    assert "$expectedMode = @{ 'on' = 'Passive Mode'; 'off' = 'Normal'; 'unset' = '' }[$PassiveMode]" in SCRIPT
