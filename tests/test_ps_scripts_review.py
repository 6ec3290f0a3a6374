"""Field review of the kit scripts (issue items 5 and 6): Import-MdeGpo.ps1, New-MdeCmPackage.ps1
and the SCCM handoff. Each test fails without its fix.

No PowerShell here, so the tests read the scripts' syntax trees (tree-sitter-pwsh, skipped when
absent): ``_path`` gives the if/elseif/else conditions under which a statement runs, which is
what "only when the filter exists" or "only for packages that set passive mode" means.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

import pwsh_syntax
import scenarios
from generator import config as config_mod, kits, policy, synthetic
from generator.builders import cm_script as cm_script_module
from generator.builders.cm_script import SCRIPT_NAME as CM_SCRIPT, render_discovery_scripts
from generator.builders.import_script import SCRIPT_NAME as IMPORT_SCRIPT

TODAY = dt.date(2026, 11, 28)
# How the unsigned setup script is started (the console's own PowerShell runs AllSigned).
START_COMMAND = "powershell.exe -ExecutionPolicy Bypass -File .\\" + CM_SCRIPT
BASE = """version: 1
organization: Contoso
release: {version: "2026.12.0", date: 2026-12-01}
packages: {onboarding: on.cmd}
share: \\\\fs01.contoso.com\\MDE$
"""
# Three targets: passive mode on, off, and not set (the wrapper and the detection differ).
TARGETS = BASE + """targets:
  - {name: Web, os: [2019], settings: {passive_mode: true}}
  - {name: Files, os: [2022], settings: {passive_mode: false}}
  - {name: Other, os: [2025]}
"""


def _kit(tmp_path: Path, kit, text: str = TARGETS) -> dict[str, bytes]:
    (tmp_path / "on.cmd").write_bytes(synthetic.onboarding_script())
    cfg = config_mod.loads(text, source="mdegen.yaml", base_dir=tmp_path)
    return scenarios.build_kit(cfg, kit, today=TODAY)


@pytest.fixture(scope="module")
def gpo_kit(tmp_path_factory) -> dict[str, bytes]:
    return _kit(tmp_path_factory.mktemp("gpo"), kits.GPO)


@pytest.fixture(scope="module")
def sccm_kit(tmp_path_factory) -> dict[str, bytes]:
    return _kit(tmp_path_factory.mktemp("sccm"), kits.SCCM)


@pytest.fixture(scope="module")
def import_script(gpo_kit) -> bytes:
    pwsh_syntax.require_parser()
    return gpo_kit[IMPORT_SCRIPT]


@pytest.fixture(scope="module")
def cm_script(sccm_kit) -> bytes:
    pwsh_syntax.require_parser()
    return sccm_kit[CM_SCRIPT]


# --- reading the tree -------------------------------------------------------------------------

def _text(node, data: bytes) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8")


def _condition(clause, data: bytes) -> str:
    return _text(next(c for c in clause.children if c.type == "pipeline"), data)


def _path(node, data: bytes) -> list[tuple[str, bool]]:
    """(condition, taken) of every if/elseif/else around ``node``, innermost first: an `if` or
    `elseif` block means its condition held and the earlier ones of the chain did not; an `else`
    block means none held."""
    out: list[tuple[str, bool]] = []
    n = node
    while n.parent is not None:
        parent = n.parent
        if n.type == "statement_block" and parent.type in ("if_statement", "elseif_clause", "else_clause"):
            statement = parent if parent.type == "if_statement" else parent.parent
            if parent.type == "elseif_clause":
                statement = statement.parent                    # elseif_clauses -> if_statement
            chain = [statement] + [c for k in statement.children if k.type == "elseif_clauses"
                                   for c in k.children if c.type == "elseif_clause"]
            if parent.type == "else_clause":
                out += [(_condition(c, data), False) for c in chain]
            else:
                i = chain.index(parent)
                out.append((_condition(parent, data), True))
                out += [(_condition(c, data), False) for c in chain[:i]]
        n = parent
    return out


def _commands(script: bytes, name: str) -> list[tuple[str, object]]:
    root, data = pwsh_syntax.tree(script)
    return [(_text(n, data), n) for n in pwsh_syntax.walk(root) if n.type == "command"
            and _text(n.children[0], data).lower() == name.lower()]


# --- 5(a): Windows PowerShell only; the description is read back -------------------------------

def test_import_script_requires_windows_powershell(import_script: bytes) -> None:
    text = import_script.decode("utf-8-sig")
    header = text[:text.index("<#")]
    assert "#Requires -PSEdition Desktop\r\n" in header
    help_text = text[text.index("<#"):text.index("#>")]
    assert "PowerShell 7" in help_text and "powershell.exe" in help_text


def test_gpo_description_counts_as_updated_only_once_it_reads_back(import_script: bytes) -> None:
    text = import_script.decode("utf-8-sig")
    step = text[text.index("$step = 'Set GPO description'"):text.index("$step = 'Attach WMI filter'")]
    assert step.index("$gpo.Description = $def.Description") < step.index("Get-GPO -Guid $gpo.Id -Domain $dns -Server $dc")
    assert "if (-not [string]::Equals($written, $def.Description, [StringComparison]::Ordinal)) {" in step
    assert step.index("[StringComparison]::Ordinal)) {\r\n                    Stop-Import") \
        < step.index("Add-Result -Kind 'GPO description' -Name $def.DisplayName -Outcome 'updated'")


# --- 5(b): a WMI filter is attached only when it exists -----------------------------------------

def test_a_filter_id_is_recorded_only_for_a_filter_that_exists(import_script: bytes) -> None:
    root, data = pwsh_syntax.tree(import_script)
    records = [n for n in pwsh_syntax.walk(root) if n.type == "assignment_expression"
               and _text(n.children[0], data).startswith("$filterIds[")]
    assert len(records) == 2
    for n in records:
        value = _text(n, data)
        if "Get-AdValue -Object $existing[0] -Name 'msWMI-ID'" in value:
            assert ("$existing.Count -eq 1", True) in _path(n, data)          # found in AD
            continue
        # Created in this run: after New-ADObject succeeded, never on -WhatIf or a declined -Confirm.
        assert value == "$filterIds[$filter.Name] = $filter.Id"
        path = _path(n, data)
        assert any(c.startswith("$PSCmdlet.ShouldProcess(") and taken for c, taken in path), path
        block = n
        while block.type != "statement_list":
            block = block.parent
        assert "New-ADObject -Name $filter.Id" in data[block.start_byte:n.start_byte].decode()


def test_the_filter_link_is_written_only_for_a_known_filter(import_script: bytes) -> None:
    _, data = pwsh_syntax.tree(import_script)
    (attach,) = [(t, n) for t, n in _commands(import_script, "Set-ADObject") if "gPCWQLFilter" in t]
    path = _path(attach[1], data)
    assert ("-not $filterIds.ContainsKey($def.WmiFilterName)", False) in path, path
    assert any(c.startswith("$PSCmdlet.ShouldProcess(") and taken for c, taken in path), path
    root, _ = pwsh_syntax.tree(import_script)
    lookups = [n for n in pwsh_syntax.walk(root) if n.type == "element_access"
               and _text(n, data) == "$filterIds[$def.WmiFilterName]"]
    assert lookups and all(("-not $filterIds.ContainsKey($def.WmiFilterName)", False) in _path(n, data) for n in lookups)
    # Where it is not known, a result line says why nothing was attached.
    skips = [(t, n) for t, n in _commands(import_script, "Add-Result")
             if ("-not $filterIds.ContainsKey($def.WmiFilterName)", True) in _path(n, data)]
    assert len(skips) == 1
    assert "-Kind 'WMI filter link'" in skips[0][0] and "Get-SkippedOutcome -Planned 'created'" in skips[0][0]
    assert "does not exist in the domain" in skips[0][0]


# --- 5(c): culture-invariant dates ------------------------------------------------------------

DATE_FORMAT = re.compile(r"yyyy|MM|dd|HH|mm|ss|ff")


def _generated_scripts(gpo_kit, sccm_kit) -> dict[str, bytes]:
    scripts = {IMPORT_SCRIPT: gpo_kit[IMPORT_SCRIPT], CM_SCRIPT: sccm_kit[CM_SCRIPT]}
    scripts.update(render_discovery_scripts([True, False]))
    return scripts


def test_dates_are_formatted_culture_invariantly(gpo_kit, sccm_kit) -> None:
    pwsh_syntax.require_parser()
    formatted = 0
    for name, script in _generated_scripts(gpo_kit, sccm_kit).items():
        root, data = pwsh_syntax.tree(script)
        for n in pwsh_syntax.walk(root):
            if n.type == "invocation_expression" and _text(n, data).count(".ToString(") and \
                    any(c.type == "member_name" and _text(c, data) == "ToString" for c in n.children):
                args = next(c for c in n.children if c.type == "argument_list")
                if DATE_FORMAT.search(_text(args, data)):
                    formatted += 1
                    assert "[Globalization.CultureInfo]::InvariantCulture" in _text(args, data), (name, _text(n, data))
        text = data.decode("utf-8")
        assert not re.search(r"Get-Date[^\r\n]*-Format|-UFormat", text), name
        assert not re.search(r"'\{\d+:[^}]*(yyyy|HH)", text), name          # -f '{0:yyyy...}'
    assert formatted >= 1                                                   # the WMI filter stamp


def test_wmi_filter_dates_keep_the_gpmc_layout(import_script: bytes) -> None:
    text = import_script.decode("utf-8-sig")
    assert ("$stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddHHmmss.ffffff', "
            "[Globalization.CultureInfo]::InvariantCulture) + '-000'") in text
    assert "'msWMI-CreationDate' = $stamp" in text and "'msWMI-ChangeDate'   = $stamp" in text


# --- 6(a): All Signed sites: what to set, no signing advice ------------------------------------

def _handoff_section(handoff: str, heading: str) -> str:
    start = handoff.index(heading)
    end = handoff.find("\n## ", start + 1)
    return handoff[start:end if end >= 0 else None]


def test_sccm_handoff_gives_a_route_that_works_on_all_signed_sites(sccm_kit) -> None:
    handoff = sccm_kit["HANDOFF.md"].decode("utf-8").replace("\r\n", "\n")
    assert not re.search(r"\bsign(ed)? (the|these|its) (discovery )?scripts|signed copies|sign them", handoff, re.I)
    paragraph = " ".join(next(p for p in handoff.split("\n\n") if "PowerShell execution policy" in p).split())
    assert "*All Signed*" in paragraph and "custom client setting" in paragraph and "*Bypass*" in paragraph
    assert "MDE collections" in paragraph
    assert "hash" in paragraph                            # why signing them cannot work


# --- 6(b): how to start the unsigned setup script ----------------------------------------------

def test_start_command_is_the_renderers() -> None:
    assert getattr(cm_script_module, "START_COMMAND", None) == START_COMMAND


def test_cm_script_help_says_how_to_start_it(cm_script: bytes) -> None:
    text = cm_script.decode("utf-8-sig")
    help_text = text[text.index("<#"):text.index("#>")]
    synopsis = help_text[help_text.index(".SYNOPSIS"):help_text.index(".DESCRIPTION")]
    assert "-ExecutionPolicy Bypass" in synopsis
    assert START_COMMAND in help_text[help_text.index(".DESCRIPTION"):help_text.index(".PARAMETER")]
    examples = re.findall(r"\.EXAMPLE\r\n    ([^\r\n]*)", help_text)
    assert len(examples) >= 2 and all(e.startswith(START_COMMAND + " -SiteCode ") for e in examples), examples
    assert "AllSigned" in help_text


def test_cm_script_fix_texts_never_send_admins_to_the_console_powershell(cm_script: bytes) -> None:
    text = cm_script.decode("utf-8-sig")
    assert f"$StartCommand = '{START_COMMAND} " in text
    for line in text.splitlines():
        if "-Fix " in line:
            assert "start PowerShell from the console" not in line and "Connect via Windows PowerShell)" not in line, line
    assert ".\\New-MdeCmPackage.ps1 -SiteCode <code>" not in text.replace(START_COMMAND, "")


def test_module_load_failure_says_how_to_start_the_script(cm_script: bytes) -> None:
    root, data = pwsh_syntax.tree(cm_script)
    imports = _commands(cm_script, "Import-Module")
    assert len(imports) == 2
    for _, n in imports:
        t = n
        while t.type != "try_statement":
            t = t.parent
        catch = _text(next(c for c in t.children if c.type == "catch_clauses"), data)
        assert "Stop-Setup -Step $step -Object $object -Reason $_.Exception.Message -Fix $loadFix" in catch, catch
    (fix,) = [line.strip() for line in data.decode().splitlines() if line.strip().startswith("$loadFix = ")]
    assert fix.endswith("' -f $StartCommand") and "AllSigned" in fix and "not signed" in fix
    missing = [t for t, n in _commands(cm_script, "Stop-Setup") if "neither in PSModulePath" in t]
    assert len(missing) == 1 and "$StartCommand" in missing[0]


def test_sccm_handoff_commands_start_the_script_with_bypass(sccm_kit) -> None:
    section = _handoff_section(sccm_kit["HANDOFF.md"].decode("utf-8"), "## 2. Create the objects")
    commands = [line.strip() for line in section.splitlines() if CM_SCRIPT in line and line.startswith("    ")]
    assert len(commands) == 3
    assert all(c.startswith(START_COMMAND + " -SiteCode ") for c in commands), commands
    assert "AllSigned" in section or "All Signed" in section


# --- 6(c): the Application's detection covers passive mode --------------------------------------

def _data_block(script: bytes) -> str:
    text = script.decode("utf-8-sig")
    return text[text.index("$Packages = @("):text.index("# Helpers")]


def test_packages_carry_the_passive_value_detection_checks(cm_script: bytes) -> None:
    block = _data_block(cm_script)
    values = re.findall(r"\r\n        PassiveMode    = ([^\r\n]*)\r\n", block)
    assert values == ["1", "0", "$null"]                           # Web, Files, Other
    details = re.findall(r"\r\n        Detection      = ([^\r\n]*)\r\n", block)
    state, passive = policy.ONBOARDING_STATE, policy.PASSIVE_MODE_VALUE
    assert details == [f"'{state} = 1 and {passive} = 1 (64-bit)'", f"'{state} = 1 and {passive} = 0 (64-bit)'",
                       f"'{state} = 1 (64-bit)'"]


def test_detection_requires_passive_mode_where_the_package_sets_it(cm_script: bytes) -> None:
    _, data = pwsh_syntax.tree(cm_script)
    text = data.decode("utf-8")
    assert f"$PassiveModeKey = '{policy.hklm_path(policy.PASSIVE_MODE_KEY)}'\r\n" in text
    clauses = _commands(cm_script, "New-CMDetectionClauseRegistryKeyValue")
    state = [(t, n) for t, n in clauses if "-KeyName $OnboardingStatusKey" in t]
    passive = [(t, n) for t, n in clauses if "-KeyName $PassiveModeKey" in t]
    assert len(state) == 1 and len(passive) == 1 and len(clauses) == 2
    assert f"-ValueName '{policy.ONBOARDING_STATE}' " in state[0][0] and "-ExpectedValue 1 " in state[0][0]
    t, n = passive[0]
    for part in (f"-ValueName '{policy.PASSIVE_MODE_VALUE}'", "-PropertyType Integer", "-Value",
                 "-ExpectedValue $p.PassiveMode", "-ExpressionOperator IsEquals", "-Is64Bit"):
        assert re.search(re.escape(part) + r"(\s|$)", t), part
    assert ("$null -eq $p.PassiveMode", False) in _path(n, data)
    assert text.index("$passiveClause = New-CMDetectionClauseRegistryKeyValue") \
        < text.index("$connector = @{ LogicalName = $passiveClause.Setting.LogicalName; Connector = 'And' }")

    types = _commands(cm_script, "Add-CMScriptDeploymentType")
    assert len(types) == 2
    for t, n in types:
        path = _path(n, data)
        assert "-AddDetectionClause $detection " in t
        if ("$null -eq $p.PassiveMode", True) in path:
            assert "-DetectionClauseConnector" not in t                  # one clause: OnboardingState
        else:
            assert ("$null -eq $p.PassiveMode", False) in path
            assert "-DetectionClauseConnector @($connector) " in t      # both clauses, AND
    assert "$detection += $passiveClause" in text


def test_deployment_type_results_name_the_whole_detection(cm_script: bytes) -> None:
    text = cm_script.decode("utf-8-sig")
    step = text[text.index("$step = 'Add the script deployment type'"):text.index("$step = 'Distribute the application content'")]
    assert "'detection: {{" not in step and "'detection: OnboardingState = 1 (64-bit)'" not in step
    assert step.count("-Detail ('detection: ' + $p.Detection)") == 3
    assert "detection {2}' -f $p.CommandLine, $sourceFolder, $p.Detection" in step


def test_sccm_handoff_says_the_detection_covers_passive_mode(tmp_path, sccm_kit) -> None:
    section = _handoff_section(sccm_kit["HANDOFF.md"].decode("utf-8"), "## 2. Create the objects")
    flat = " ".join(section.split())
    assert f"`{policy.PASSIVE_MODE_VALUE}`" in flat and "already onboarded" in flat
    assert "never changes the detection rule of an existing deployment type" in flat
    plain = _kit(tmp_path, kits.SCCM, BASE)["HANDOFF.md"].decode("utf-8")       # no passive mode configured
    assert policy.PASSIVE_MODE_VALUE not in " ".join(_handoff_section(plain, "## 2. Create the objects").split())
