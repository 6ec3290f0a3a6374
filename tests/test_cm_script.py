"""New-MdeCmPackage.ps1 and the compliance discovery scripts (generator/builders/cm_script.py).

No PowerShell or ConfigMgr site here, so these tests check what can be checked without them, the
same way test_import_script.py does for the GPO kit: bytes (BOM, CRLF), syntax (tree-sitter-pwsh,
skipped when absent; the shared ps_syntax_check oracle when ../shared exists), that every config
value reaches PowerShell only as a single-quoted literal, that every site change is guarded by
ShouldProcess, the parameters the cmdlets get (current names only), and golden copies.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pwsh_syntax
from generator.builders.cm_script import (
    COMPLIANT,
    ONBOARDING_STATE_SCRIPT,
    SCRIPT_NAME,
    discovery_settings,
    passive_mode_script,
    policy_fingerprint,
    render_cm_script,
    render_discovery_scripts,
)
from generator.config import Target
from generator.escaping import PS_SINGLE_QUOTES, ps_single_quoted, ps_unquote_single
from generator.project import resolve_target
from generator.records import CmAtpPolicy, CmCollection, CmCompliance, CmPackage, CmProgram
from generator.targeting import cm_collection_wql

GOLDEN = Path(__file__).resolve().parent / "golden" / "cm-script"
BOM = b"\xef\xbb\xbf"

# Config values that would break out of, or be expanded in, anything but a verbatim literal.
ORGANIZATION = 'Contoso & O\u2019Neil "Labs" $corp 100%'
RELEASE = "2026.11 `rc1` <b>"


def _program(name: str, comment: str, command: str) -> CmProgram:
    return CmProgram(section="Onboard", name=name, command_line=command, comment=comment,
                     estimated_run_minutes=15, estimated_disk_mb=1)


def _onboarding(target: str, folder: str, name: str, comment: str, passive: bool | None, os: list[str]) -> CmPackage:
    return CmPackage(
        role="onboarding", target_name=target, folder=folder, name=name, version="2026.11.1",
        publisher="Microsoft & O'Neil", language="Neutral", comment=comment,
        program=_program("Onboard 'MDE' & $x", "Runs the onboarding script; `n %PATH% <b> \"q\"",
                         'WindowsDefenderATPOnboardingScript.cmd "%~dp0" & echo $env:X'),
        files=(("WindowsDefenderATPOnboardingScript.cmd", b"@echo off\r\nexit /b 0\r\n"),
               ("wrapper/Onboard-Mde.cmd", b"@echo off\r\n")),
        collection=CmCollection(
            name=f"MDE - {target} - Windows Server \u2018{'/'.join(os)}\u2019 & co",
            comment=f"Target '{target}': servers $x `n 50% <b> \"q\"",
            rule_name=f"MDE - {target} ($ & ')",
            query=cm_collection_wql(resolve_target(Target(name="T", os=os)))),
        compliance=CmCompliance(
            ci_name=f"MDE onboarding state {target} & 'x'",
            baseline_name=f"MDE baseline {target} \u2019$y\u2019 100%",
            description="Monitors OnboardingState = 1 & passive mode; `n $env:X <b> \"q\"",
            settings=discovery_settings(passive)),
        passive_mode=passive,
        notes=(f"Note for {target}: copy 'packages' & check $env:X `n 100% <b>",),
    )


PACKAGES = [
    _onboarding("Servers & ‘Core’", "onboarding & $core 100%", "MDE Onboarding O'Brien & Sons’ \"2019\"",
                "Onboards $env:COMPUTERNAME `n %PATH% <b> & 'x' \u2019y\u2019", None, ["2019"]),
    _onboarding("Passive `AV`", "onboarding passive `1`", "MDE Onboarding $(Get-Date) `$x 50%",
                "Second <onboarding> package; passive mode on & more", True, ["2022", "2025"]),
    CmPackage(
        role="offboarding", target_name=None, folder="offboarding ’valid’ & $x", name="MDE Offboarding \u2019$(Remove-Item C:\\)\u2019",
        version="2026.11.1", publisher="Microsoft", language="Neutral",
        comment='Offboards; never deploy where onboarding applies: "never" `$x <y> 100%',
        program=_program("Offboard & 'now'", "Offboarding `n <b> 100% \"q\"",
                         "WindowsDefenderATPOffboardingScript_valid_until_2026-11-08.cmd"),
        files=(("WindowsDefenderATPOffboardingScript_valid_until_2026-11-08.cmd", b"@echo off\r\n"),),
        notes=("Offboarding script expires 2026-11-08 & is 'sensitive' $x",),
    ),
]

# Defender for Endpoint policies (the policy route): one onboarding policy with its collection and
# baseline, and the offboarding policy, with values as awkward as the packages'.
POLICIES = [
    CmAtpPolicy(
        role="onboarding", target_name="DCs & \u2018Tier 0\u2019", name="MDE Policy O'Hara & $dc `n 100%",
        description='Onboards domain controllers; "never" <b> $env:X \u2019z\u2019',
        file_name="WindowsDefenderATP.onboarding", data=b'{"body":"fake"}', sample_sharing="None", telemetry="Expedited",
        collection=CmCollection(
            name="MDE - DCs \u2019$(whoami)\u2019 & co", comment="Domain controllers $x `n 50% <b> \"q\"",
            rule_name="MDE - DCs ($ & ')", query=cm_collection_wql(resolve_target(Target(name="T", os=["2019"])))),
        compliance=CmCompliance(
            ci_name="MDE onboarding state DCs & 'x'", baseline_name="MDE baseline DCs \u2019$y\u2019 100%",
            description="Monitors OnboardingState = 1 on DCs; `n $env:X <b> \"q\"", settings=discovery_settings(None)),
        notes=("Policy note: check 'client settings' & $env:X `n 100% <b>",),
    ),
    CmAtpPolicy(
        role="offboarding", target_name=None, name="MDE Offboarding policy \u2019$(Remove-Item D:\\)\u2019",
        description="OFFBOARDS; never deploy where onboarding is deployed `$x <y> 100%",
        file_name="WindowsDefenderATP_valid_until_2026-11-08.offboarding", data=b'{"body":"fake off"}',
    ),
]

STRING_FIELDS = ("target_name", "folder", "name", "version", "publisher", "language", "comment")
DANGEROUS = sorted({
    ORGANIZATION, RELEASE,
    *(getattr(p, f) for p in PACKAGES for f in STRING_FIELDS if getattr(p, f) and getattr(p, f) not in ("Neutral", "2026.11.1")),
    *(v for p in PACKAGES for v in (p.program.name, p.program.comment, p.program.command_line)),
    *(v for p in PACKAGES if p.collection for v in (p.collection.name, p.collection.comment, p.collection.rule_name, p.collection.query)),
    *(v for p in PACKAGES if p.compliance for v in (p.compliance.ci_name, p.compliance.baseline_name, p.compliance.description)),
    *(n for p in PACKAGES for n in p.notes),
    *(v for p in POLICIES for v in (p.target_name, p.name, f"{p.description} {policy_fingerprint(p)}", *p.notes) if v),
    *(v for p in POLICIES if p.collection for v in (p.collection.name, p.collection.comment, p.collection.rule_name)),
    *(v for p in POLICIES if p.compliance for v in (p.compliance.ci_name, p.compliance.baseline_name, p.compliance.description)),
} - {"Microsoft"})

# Cmdlets that change the site; each must sit inside `if ($PSCmdlet.ShouldProcess(...))`. The
# in-memory builders New-CMSchedule and New-CMDetectionClauseRegistryKeyValue are held to it too.
MUTATING = re.compile(r"^(new|set|add|start|remove|update|import|invoke)-cm", re.IGNORECASE)
READ_ONLY = {"invoke-cmwmiquery"}
EXPECTED_MUTATING = {
    "new-cmpackage", "set-cmpackage", "new-cmprogram", "set-cmprogram", "start-cmcontentdistribution",
    "update-cmdistributionpoint", "new-cmschedule", "new-cmdevicecollection", "set-cmcollection",
    "add-cmdevicecollectionquerymembershiprule", "new-cmpackagedeployment", "new-cmconfigurationitem",
    "set-cmconfigurationitem", "add-cmcompliancesettingscript", "set-cmcompliancesettingscript", "new-cmbaseline",
    "set-cmbaseline", "new-cmbaselinedeployment", "new-cmapplication", "new-cmdetectionclauseregistrykeyvalue",
    "add-cmscriptdeploymenttype", "set-cmscriptdeploymenttype", "new-cmapplicationdeployment",
    "new-cmadvancedthreatprotectionpolicy", "set-cmadvancedthreatprotectionpolicy", "new-cmconfigurationpolicydeployment",
}
# Deprecated or renamed cmdlets and enum values (shared/reference/sccm.md, "Deprecated/renamed").
DENY = ["Start-CMPackageDeployment", "Start-CMBaselineDeployment", "Start-CMApplicationDeployment",
        "Start-CMSoftwareUpdateDeployment", "Start-CMTaskSequenceDeployment", "RenameWithUnc",
        "WhereOrNotUserLoggedOn", "-SuppressProgramNotifications", "Get-WmiObject"]


def _render(packages=PACKAGES, policies=POLICIES, **overrides) -> bytes:
    kwargs = {"organization": ORGANIZATION, "release": RELEASE, **overrides}
    return render_cm_script(packages, policies, **kwargs)


@pytest.fixture(scope="module")
def script() -> bytes:
    return _render()


@pytest.fixture(scope="module")
def discovery() -> dict[str, bytes]:
    return dict(render_discovery_scripts([True, False]))


def _commands(script: bytes) -> list[tuple[str, str, object]]:
    """(lower-case name, full text, node) of every command in the script."""
    root, data = pwsh_syntax.tree(script)
    out = []
    for n in pwsh_syntax.walk(root):
        if n.type == "command":
            name = data[n.children[0].start_byte:n.children[0].end_byte].decode().lower()
            out.append((name, data[n.start_byte:n.end_byte].decode("utf-8"), n))
    return out


def _guarded_by_should_process(node, data: bytes) -> bool:
    n = node
    while n.parent is not None:
        parent = n.parent
        if n.type == "statement_block" and parent.type in ("if_statement", "elseif_clause"):
            condition = next(c for c in parent.children if c.type == "pipeline")
            if data[condition.start_byte:condition.end_byte].startswith(b"$PSCmdlet.ShouldProcess("):
                return True
        n = parent
    return False


def _ps_read_verbatim(text: str, start: int) -> tuple[int, str]:
    """PowerShell's rule for a '...' literal at text[start] (all five quote characters count)."""
    i, out = start + 1, []
    while i < len(text):
        if text[i] in PS_SINGLE_QUOTES:
            if i + 1 < len(text) and text[i + 1] in PS_SINGLE_QUOTES:
                out.append(text[i + 1])
                i += 2
                continue
            return i + 1, "".join(out)
        out.append(text[i])
        i += 1
    raise AssertionError("literal never closes")


# --- bytes ------------------------------------------------------------------------------------

def _assert_bom_crlf(data: bytes, first_line: bytes) -> None:
    assert data.startswith(BOM + first_line + b"\r\n")
    body = data[len(BOM):]
    assert BOM not in body
    assert re.search(rb"(?<!\r)\n", body) is None, "bare LF"
    assert re.search(rb"\r(?!\n)", body) is None, "bare CR"
    body.decode("utf-8")
    assert data.endswith(b"\r\n")


def test_utf8_bom_and_crlf_only(script: bytes, discovery: dict[str, bytes]) -> None:
    _assert_bom_crlf(script, b"#Requires -Version 5.1")
    for data in discovery.values():
        _assert_bom_crlf(data, data[len(BOM):].split(b"\r\n", 1)[0])
        assert data.startswith(BOM + b"# Microsoft Defender for Endpoint: ")


def test_deterministic(script: bytes, discovery: dict[str, bytes]) -> None:
    assert _render() == script
    assert _render([dataclasses.replace(p) for p in PACKAGES]) == script
    assert dict(render_discovery_scripts([False, True, True])) == discovery
    assert [n for n, _ in render_discovery_scripts([False, True])] == [
        ONBOARDING_STATE_SCRIPT, "Get-MdePassiveMode-On.ps1", "Get-MdePassiveMode-Off.ps1"]


def test_golden(script: bytes, discovery: dict[str, bytes], file_regression) -> None:
    file_regression.check(script, binary=True, fullpath=GOLDEN / SCRIPT_NAME)


@pytest.mark.parametrize("name", [ONBOARDING_STATE_SCRIPT, "Get-MdePassiveMode-On.ps1", "Get-MdePassiveMode-Off.ps1"])
def test_golden_discovery(name: str, discovery: dict[str, bytes], file_regression) -> None:
    file_regression.check(discovery[name], binary=True, fullpath=GOLDEN / name)


# --- syntax -----------------------------------------------------------------------------------

def test_parses_with_tree_sitter_pwsh(script: bytes, discovery: dict[str, bytes]) -> None:
    pwsh_syntax.require_parser()
    assert pwsh_syntax.problems(script) == []
    for name, data in discovery.items():
        assert pwsh_syntax.problems(data) == [], name


def test_shared_ps51_oracle(script: bytes, discovery: dict[str, bytes], shared_dir: Path, tmp_path: Path) -> None:
    pwsh_syntax.require_parser()
    files = []
    for name, data in [(SCRIPT_NAME, script), *discovery.items()]:
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    run = subprocess.run([sys.executable, str(shared_dir / "oracles" / "ps_syntax_check.py"), "--ps51", *files],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_header_param_block(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert re.search(r"^\[CmdletBinding\(SupportsShouldProcess = \$true[^)]*\)\]\r\nparam\(\r\n", text, re.M)
    assert len(re.findall(r"^param\(", text, re.M)) == 1
    assert "\r\nSet-StrictMode -Version 2\r\n$ErrorActionPreference = 'Stop'\r\n" in text
    assert ("    [Parameter(Mandatory = $true)]\r\n    [ValidatePattern('^[A-Za-z0-9]{3}$')]\r\n"
            "    [string] $SiteCode,") in text
    source = re.search(r"\[Parameter\(Mandatory = \$true\)\]\r\n    \[ValidatePattern\('([^']*)'\)\]\r\n    \[string\] \$SourcePath,", text)
    assert source
    unc = re.compile(source.group(1))        # .NET and Python read this pattern alike
    assert unc.match(r"\\fs01.contoso.com\Sources$\MDE") and unc.match(r"\\srv\share")
    for bad in (r"C:\kit", r"\\srv", r"\\srv\\", "srv\\share", r"\srv\share"):
        assert not unc.match(bad), bad
    for name in ("$SiteServer", "$DistributionPointGroup", "$LimitingCollection", "$Deploy", "$CreateApplication"):
        assert re.search(r"^    \[[a-z]+\] " + re.escape(name) + r"\b", text, re.M), name
    assert "[string] $LimitingCollection = 'All Systems'," in text
    assert "[Parameter(Mandatory = $true)]\r\n    [ValidateNotNullOrEmpty()]\r\n    [string] $DistributionPointGroup," in text


# --- config values only as single-quoted literals ---------------------------------------------

def test_config_values_only_in_single_quoted_literals(script: bytes) -> None:
    tokens = pwsh_syntax.single_quoted_strings(script)
    values = [ps_unquote_single(t.text) for t in tokens]
    for value in DANGEROUS:
        assert value in values, f"{value!r} is not a literal of its own"
        assert ps_single_quoted(value) in {t.text for t in tokens}
    outside = bytearray(script[len(BOM):])
    for t in tokens:
        outside[t.start:t.end] = b" " * (t.end - t.start)
    rest = outside.decode("utf-8", "replace")
    for value in DANGEROUS:
        assert value not in rest, f"{value!r} appears outside a single-quoted literal"
    for marker in ("O'Brien", "O\u2019Neil", "Remove-Item C:", "$env:COMPUTERNAME", "10.0.17763", "Contoso", "Passive `AV`"):
        assert marker not in rest


def test_grammar_and_powershell_agree_on_every_literal(script: bytes) -> None:
    """tree-sitter-pwsh ignores the typographic quotes; PowerShell does not. Every literal must end
    at the same place under both readings."""
    data = script[len(BOM):]
    text = data.decode("utf-8")
    for t in pwsh_syntax.single_quoted_strings(script):
        start = len(data[:t.start].decode("utf-8"))
        end = len(data[:t.end].decode("utf-8"))
        assert _ps_read_verbatim(text, start) == (end, ps_unquote_single(t.text)), t.text


def test_values_sit_in_the_data_block(script: bytes, discovery: dict[str, bytes]) -> None:
    text = script.decode("utf-8-sig")
    block = text[text.index("$Kit = [pscustomobject]@{"):text.index("# Helpers")]
    assert f"Organization = {ps_single_quoted(ORGANIZATION)}\r\n" in block
    for p in PACKAGES:
        assert f"        Name           = {ps_single_quoted(p.name)}\r\n" in block
        assert f"        CommandLine    = {ps_single_quoted(p.program.command_line)}\r\n" in block
        for name, data in p.files:
            digest = hashlib.sha256(data).hexdigest().upper()
            assert f"Name = {ps_single_quoted(name.replace('/', chr(92)))}; Sha256 = '{digest}'" in block
    assert "        Duration       = 15\r\n        DiskSpaceMB    = 1\r\n" in block
    assert block.count("        Collection     = $null\r\n") == 1          # the offboarding package
    assert block.count("        Compliance     = $null\r\n") == 1
    assert block.count("        TargetName     = $null\r\n") == 1
    # The discovery hashes are what the script computes from the kit's files (UTF-8 without BOM).
    for name, data in discovery.items():
        if name in block:
            digest = hashlib.sha256(data[len(BOM):]).hexdigest().upper()
            assert f"File     = '{name}'\r\n                    Sha256   = '{digest}'\r\n" in block
    assert block.count(f"Expected = '{COMPLIANT}'") == 4          # three package settings, one policy's
    # What the Application's detection checks: passive mode only where the package sets it.
    assert re.findall(r"\r\n        PassiveMode    = ([^\r\n]*)\r\n", block) == ["$null", "1", "$null"]
    assert re.findall(r"\r\n        Detection      = ([^\r\n]*)\r\n", block) == [
        "'OnboardingState = 1 (64-bit)'", "'OnboardingState = 1 and ForceDefenderPassiveMode = 1 (64-bit)'", "$null"]
    assert passive_mode_script(True) in block and passive_mode_script(False) not in block


def test_every_value_is_quoted_exactly_once(script: bytes, monkeypatch) -> None:
    """One quoting pass: the ps filter quotes each literal of the data block once, plus the four
    registry facts from policy.py the code uses and the start command; nothing else quotes (no
    check pre-pass)."""
    from generator import policy

    rendered = []
    seen = pwsh_syntax.quoted_values(monkeypatch, lambda: rendered.append(_render()))
    assert rendered == [script]
    data = script[len(BOM):]
    start, end = data.index(b"$Kit = [pscustomobject]@{"), data.index(b"# Helpers")
    literals = [ps_unquote_single(t.text) for t in pwsh_syntax.single_quoted_strings(script) if start <= t.start < end]
    assert len(literals) > 40
    start_literal = re.search(r"^\$StartCommand = ('[^\r\n]*')\r$", data.decode("utf-8"), re.M).group(1)
    assert sorted(seen) == sorted(literals + [policy.hklm_path(policy.STATUS_KEY), policy.ONBOARDING_STATE,
                                              policy.hklm_path(policy.PASSIVE_MODE_KEY), policy.PASSIVE_MODE_VALUE,
                                              ps_unquote_single(start_literal)])


def test_registry_facts_come_from_policy(script: bytes, discovery: dict[str, bytes]) -> None:
    from generator import policy

    text = script.decode("utf-8-sig")
    assert f"$OnboardingStatusKey = '{policy.hklm_path(policy.STATUS_KEY)}'\r\n" in text
    assert f"-ValueName '{policy.ONBOARDING_STATE}' " in text
    assert f"$PassiveModeKey = '{policy.hklm_path(policy.PASSIVE_MODE_KEY)}'\r\n" in text
    assert f"-ValueName '{policy.PASSIVE_MODE_VALUE}' " in text
    passive = discovery[passive_mode_script(True)].decode("utf-8-sig")
    assert f"# Writes exactly one line: 'Compliant' when HKLM\\{policy.hklm_path(policy.ATP_KEY)}\r\n" in passive
    assert f"$valueName = '{policy.setting('passive_mode').value_name}'\r\n" in passive


# --- behaviour that can be read off the script ------------------------------------------------

def test_every_site_change_goes_through_should_process(script: bytes) -> None:
    _, data = pwsh_syntax.tree(script)
    changes = [(name, text, n) for name, text, n in _commands(script) if MUTATING.match(name) and name not in READ_ONLY]
    assert {name for name, _, _ in changes} == EXPECTED_MUTATING
    for name, text, n in changes:
        assert _guarded_by_should_process(n, data), f"{name} at line {n.start_point[0] + 1} is not guarded"
        if not name.startswith("new-cmschedule") and name != "new-cmdetectionclauseregistrykeyvalue":
            # The cmdlets do not prompt a second time once ShouldProcess said yes.
            assert text.rstrip().endswith("-Confirm:$false"), text
    assert not any(name.startswith("remove-cm") for name, _, _ in _commands(script))   # never deletes
    text = data.decode()
    assert "[CmdletBinding(SupportsShouldProcess = $true" in text


def test_read_only_calls_are_not_skipped_by_whatif(script: bytes) -> None:
    commands = _commands(script)
    for name, text, _ in commands:
        if name in ("invoke-cmwmiquery", "new-psdrive"):
            assert "-WhatIf:$false" in text, text
    assert any(name == "invoke-cmwmiquery" for name, _, _ in commands)


@pytest.mark.parametrize("token", DENY)
def test_no_deprecated_cmdlets_or_values(script: bytes, token: str) -> None:
    assert token.lower() not in script.decode("utf-8-sig").lower()


def test_set_cmprogram_uses_current_parameter_names(script: bytes) -> None:
    for name, text, _ in _commands(script):
        if name == "set-cmprogram":
            assert "-StandardProgram " in text and "-ProgramName " in text and "-StandardProgramName" not in text


# Parameters each cmdlet call must carry (names and values from the cmdlet reference, sccm.md).
REQUIRED = {
    "new-cmpackage": ["-Name $p.Name", "-Description", "-Manufacturer", "-Language", "-Version", "-Path $sourceFolder"],
    "set-cmpackage": ["-Id $pkg.PackageID", "-Path $sourceFolder", "-Version"],
    "new-cmprogram": ["-PackageId $pkg.PackageID", "-StandardProgramName $p.ProgramName", "-CommandLine $p.CommandLine",
                      "-RunType Hidden", "-ProgramRunType WhetherOrNotUserIsLoggedOn", "-RunMode RunWithAdministrativeRights",
                      "-UserInteraction $false", "-Duration $p.Duration", "-DriveMode RunWithUnc"],
    "set-cmprogram": ["-StandardProgram", "-AfterRunningType NoActionRequired", "-Comment $p.ProgramComment"],
    "start-cmcontentdistribution": ["-DistributionPointGroupName $DistributionPointGroup"],
    "new-cmdevicecollection": ["-LimitingCollectionName $LimitingCollection", "-RefreshType Periodic", "-RefreshSchedule $refresh",
                               "-Comment $p.Collection.Comment"],
    "add-cmdevicecollectionquerymembershiprule": ["-CollectionId $coll.CollectionID", "-RuleName $p.Collection.RuleName",
                                                  "-QueryExpression $p.Collection.Query"],
    "new-cmpackagedeployment": ["-StandardProgram", "-DeployPurpose Required", "-RerunBehavior RerunIfFailedPreviousAttempt",
                                "-Schedule $schedule", "-CollectionId $coll.CollectionID", "-ProgramName $p.ProgramName",
                                "-FastNetworkOption DownloadContentFromDistributionPointAndRunLocally",
                                "-SlowNetworkOption DownloadContentFromDistributionPointAndLocally"],
    "new-cmconfigurationitem": ["-CreationType WindowsOS", "-Name $c.CiName"],
    "add-cmcompliancesettingscript": ["-DataType String", "-DiscoveryScriptLanguage PowerShell", "-DiscoveryScriptText $scriptText",
                                      "-Is64Bit", "-ValueRule", "-ExpectedValue $s.Expected", "-ExpressionOperator IsEquals",
                                      "-RuleName", "-NoncomplianceSeverity"],
    "set-cmcompliancesettingscript": ["-SettingName $s.Name", "-DiscoveryScriptText $scriptText", "-Is64Bit $true"],
    "new-cmbaseline": ["-Name $c.BaselineName"],
    "set-cmbaseline": ["-Id $baseline.CI_ID"],
    "new-cmbaselinedeployment": ["-InputObject $baseline", "-CollectionId $coll.CollectionID", "-EnableEnforcement $false"],
    # Which key and value each clause reads: test_ps_scripts_review.py.
    "new-cmdetectionclauseregistrykeyvalue": ["-Hive LocalMachine", "-PropertyType Integer", "-Value",
                                              "-ExpressionOperator IsEquals", "-Is64Bit"],
    "add-cmscriptdeploymenttype": ["-AddDetectionClause $detection", "-InstallationBehaviorType InstallForSystem",
                                   "-LogonRequirementType WhetherOrNotUserLoggedOn", "-UserInteractionMode Hidden",
                                   "-ContentLocation $sourceFolder"],
    "new-cmapplicationdeployment": ["-DeployAction Install", "-DeployPurpose Required", "-CollectionId $coll.CollectionID"],
}


@pytest.mark.parametrize("cmdlet", sorted(REQUIRED))
def test_cmdlet_parameters(script: bytes, cmdlet: str) -> None:
    calls = [text for name, text, _ in _commands(script) if name == cmdlet]
    assert calls, cmdlet
    for text in calls:
        for part in REQUIRED[cmdlet]:
            assert re.search(re.escape(part) + r"(\s|$)", text), f"{cmdlet}: {part} missing in {text}"


def test_configuration_items_are_not_remediated(script: bytes) -> None:
    for name, text, _ in _commands(script):
        assert "-Remediat" not in text, text
        if name == "new-cmbaselinedeployment":
            assert "-EnableEnforcement $false" in text


def test_discovery_script_is_hash_checked_and_marked(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert "$complianceRoot = $kitRoot.TrimEnd('\\') + '\\compliance'" in text
    assert "(Get-TextSha256 -Text $text) -ne $s.Sha256" in text
    assert "$marker = 'mdegen discovery script SHA-256 ' + $s.Sha256" in text
    assert "([string] $current.SDMPackageXML).Contains($marker)" in text
    assert "(Get-FileHash -LiteralPath (Get-FileSystemPath -Path $path) -Algorithm SHA256).Hash -ne $f.Sha256" in text


def test_module_site_and_location(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert text.index("Get-Module -ListAvailable -Name ConfigurationManager") < text.index("$env:SMS_ADMIN_UI_PATH")
    assert "Get-PSDrive -Name $SiteCode -PSProvider CMSite -ErrorAction SilentlyContinue" in text
    assert "New-PSDrive -Name $SiteCode -PSProvider CMSite -Root $SiteServer -WhatIf:$false -Confirm:$false" in text
    assert "Push-Location -LiteralPath ($SiteCode + ':\\')\r\n    $pushed = $true" in text
    assert "finally {\r\n    if ($pushed) {\r\n        Pop-Location\r\n    }\r\n}" in text
    # tree-sitter does not report a try without catch; make sure there is none.
    root, data = pwsh_syntax.tree(script)
    for n in pwsh_syntax.walk(root):
        if n.type == "try_statement":
            assert any(c.type == "catch_clauses" for c in n.children), data[n.start_byte:n.start_byte + 60]


def test_distribution_is_detected_per_group(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert "SELECT * FROM SMS_DPGroupContentInfo WHERE GroupID = ''{0}'' AND PackageID = ''{1}''" in text
    assert "elseif (Test-InDpGroup -GroupId $dpGroupId -PackageId $pkg.PackageID) {" in text
    assert "Update-CMDistributionPoint -PackageId $pkg.PackageID -Confirm:$false" in text


def test_collection_rule_is_never_replaced(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert "Test-SameQuery -A ([string] $_.QueryExpression) -B $p.Collection.Query" in text
    assert "Stop-Setup -Step $step -Object $object -Reason ('The rule exists with another query: {0}'" in text


def test_nothing_deployed_without_deploy_and_offboarding_never(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert text.count("elseif (-not $Deploy) {") == 4               # program, baseline, application, policy
    assert "if ($p.Route -eq 'package' -and $p.Role -eq 'onboarding' -and $null -ne $p.Collection) {" in text
    assert "if ($p.Route -eq 'package' -and $CreateApplication -and $p.Role -eq 'onboarding') {" in text
    assert "Offboarding package ''{0}'' is never deployed by this script. Never deploy it to a collection where" in text
    # Every deployment cmdlet sits in a block that onboarding packages only reach.
    root, data = pwsh_syntax.tree(script)
    for name, cmd_text, n in _commands(script):
        if name.endswith("deployment") and name.startswith("new-cm"):
            guards, m = [], n
            while m.parent is not None:
                if m.type == "statement_block" and m.parent.type in ("if_statement", "elseif_clause"):
                    cond = next(c for c in m.parent.children if c.type == "pipeline")
                    guards.append(data[cond.start_byte:cond.end_byte].decode())
                m = m.parent
            assert any("$p.Role -eq 'onboarding'" in g or "$null -ne $p.Compliance" in g for g in guards), cmd_text


def test_summary_texts(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert "Nothing to change: the site already matches the kit." in text
    assert "created/updated: {0}, unchanged: {1}, declined: {2}" in text
    for outcome in ("'created'", "'updated'", "'unchanged'", "'not deployed'"):
        assert outcome in text


def test_printed_command_quotes_like_powershell(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert "return (\"'\" + ($Text -replace '[''\\u2018\\u2019\\u201A\\u201B]', '$0$0') + \"'\")" in text
    # The same rule, applied here, gives ps_single_quoted's result.
    for value in ("Offboard & 'now'", "it\u2019s \u2018x\u2019"):
        assert "'" + re.sub("['\u2018\u2019\u201a\u201b]", lambda m: m.group() * 2, value) + "'" == ps_single_quoted(value)


# --- discovery scripts ------------------------------------------------------------------------

def test_discovery_scripts_read_the_64_bit_view_and_write_one_line(discovery: dict[str, bytes]) -> None:
    for name, data in discovery.items():
        text = data.decode("utf-8-sig")
        assert "[Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', 'Registry64')" in text, name
        assert "Get-ItemProperty" not in text and "HKLM:" not in text      # the provider reads the host's view
        root, src = pwsh_syntax.tree(data)
        outputs = [src[n.start_byte:n.end_byte].decode() for n in pwsh_syntax.walk(root) if n.type == "command"
                   and src[n.children[0].start_byte:n.children[0].end_byte].decode().lower() in ("write-output", "write-host", "echo")]
        assert outputs == ["Write-Output $result"], name
        assert text.rstrip().endswith("Write-Output $result")
        assert "$result = 'Compliant'" in text
        assert "-replace '[\\r\\n]+', ' '" in text                       # error text stays on one line
    state = discovery[ONBOARDING_STATE_SCRIPT].decode("utf-8-sig")
    assert "$keyPath = 'SOFTWARE\\Microsoft\\Windows Advanced Threat Protection\\Status'" in state
    assert "$valueName = 'OnboardingState'" in state and "elseif ([int] $value -eq 1) {" in state
    for passive, expected in ((True, 1), (False, 0)):
        text = discovery[passive_mode_script(passive)].decode("utf-8-sig")
        assert "$keyPath = 'SOFTWARE\\Policies\\Microsoft\\Windows Advanced Threat Protection'" in text
        assert "$valueName = 'ForceDefenderPassiveMode'" in text
        assert f"\r\n$expected = {expected}\r\n" in text


def test_discovery_settings_match_the_files() -> None:
    files = dict(render_discovery_scripts([True]))
    settings = discovery_settings(True)
    assert [s[1] for s in settings] == [ONBOARDING_STATE_SCRIPT, "Get-MdePassiveMode-On.ps1"]
    for _, file_name, digest, expected in settings:
        text = files[file_name].decode("utf-8-sig").replace("\r\n", "\n").replace("\n", "\r\n")
        assert digest == hashlib.sha256(text.encode("utf-8")).hexdigest().upper() and expected == COMPLIANT
    assert [s[1] for s in discovery_settings(None)] == [ONBOARDING_STATE_SCRIPT]


# --- renderer refusals ------------------------------------------------------------------------

def _replace(i: int, **kw) -> list[CmPackage]:
    out = list(PACKAGES)
    out[i] = dataclasses.replace(out[i], **kw)
    return out


@pytest.mark.parametrize("packages, message", [
    (_replace(0, name="two\nlines"), "packages[0].name: contains a line feed"),
    (_replace(0, name="x" * 51), "packages[0].name: is 51 characters long; Configuration Manager allows 50"),
    (_replace(1, name=PACKAGES[0].name.upper()), "packages[1]: package name"),
    (_replace(0, role="both"), "packages[0].role"),
    (_replace(2, passive_mode=True), "packages[2].passive_mode: only an onboarding package sets passive mode"),
    (_replace(0, passive_mode=1), "packages[0].passive_mode: 1 is not true, false or unset"),
    (_replace(2, collection=PACKAGES[0].collection), "packages[2].collection: the offboarding package gets no collection"),
    (_replace(2, compliance=PACKAGES[0].compliance), "packages[2].compliance"),
    (_replace(0, folder="a\\b"), "packages[0].folder"),
    (_replace(0, folder=".."), "packages[0].folder"),
    (_replace(0, files=(("../x.cmd", b""),)), "packages[0].files[0]"),
    (_replace(0, files=(("a:b.cmd", b""),)), "packages[0].files[0]"),
    (_replace(0, files=()), "packages[0].files: the source folder would be empty"),
    (_replace(0, program=dataclasses.replace(PACKAGES[0].program, estimated_run_minutes=0)),
     "packages[0].program.estimated_run_minutes"),
    (_replace(0, program=dataclasses.replace(PACKAGES[0].program, command_line="x" * 128)),
     "packages[0].program.command_line: is 128 characters long"),
    (_replace(1, collection=PACKAGES[0].collection), "packages[1]: collection name"),
    (_replace(0, compliance=dataclasses.replace(PACKAGES[0].compliance, settings=())),
     "packages[0].compliance.settings: the configuration item has no setting"),
    (_replace(0, compliance=dataclasses.replace(
        PACKAGES[0].compliance, settings=((*PACKAGES[0].compliance.settings[0][:2], "0" * 64, COMPLIANT),))),
     "packages[1].compliance.settings[0] file name: 'Get-MdeOnboardingState.ps1' has other content"),
    (_replace(0, compliance=dataclasses.replace(
        PACKAGES[0].compliance, settings=((*PACKAGES[0].compliance.settings[0][:2], "not a hash", COMPLIANT),))),
     "packages[0].compliance.settings[0] script hash"),
])
def test_renderer_refuses_bad_records(packages, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        _render(packages)


def _policy(i: int, **changes) -> list[CmAtpPolicy]:
    return [dataclasses.replace(p, **changes) if j == i else p for j, p in enumerate(POLICIES)]


@pytest.mark.parametrize("packages, policies, message", [
    ([], [], "packages: the kit has no package and no policy"),
    (PACKAGES, _policy(0, role="both"), "policies[0].role"),
    (PACKAGES, _policy(0, name="two\nlines"), "policies[0].name: contains a line feed"),
    (PACKAGES, _policy(1, name=POLICIES[0].name.upper()), "policies[1]: policy name"),
    (PACKAGES, _policy(0, collection=None), "policies[0].collection: an onboarding policy needs the collection"),
    (PACKAGES, _policy(1, collection=POLICIES[0].collection), "policies[1].collection: the offboarding policy gets no"),
    (PACKAGES, _policy(0, collection=PACKAGES[0].collection), "policies[0]: collection name"),
    (PACKAGES, _policy(0, compliance=PACKAGES[0].compliance), "policies[0]: configuration item name"),
    (PACKAGES, _policy(0, file_name="WindowsDefenderATP.offboarding"), "policies[0].file_name: "),
    (PACKAGES, _policy(0, file_name="..\\x.onboarding"), "policies[0].file_name: "),
    (PACKAGES, _policy(0, data=b""), "policies[0].data: the policy's file is empty"),
    (PACKAGES, _policy(0, sample_sharing="Some"), "policies[0].sample_sharing: 'Some' is not one of All, None"),
    (PACKAGES, _policy(0, telemetry=None), "policies[0].telemetry: None is not one of Normal, Expedited"),
    (PACKAGES, _policy(1, telemetry="Normal"), "policies[1].telemetry: 'Normal' is not one of Normal, Expedited (an offboarding policy has none)"),
    (PACKAGES, _policy(0, description="x" * 600), "policies[0].description: is "),
    ([], _policy(0, notes=("a\u202eb",)), "policies[0].notes[0]: contains an invisible bidirectional-text control"),
])
def test_renderer_refuses_bad_policies(packages, policies, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        _render(packages, policies)


def test_renderer_refuses_control_characters_in_organization() -> None:
    with pytest.raises(ValueError, match=r"^organization: contains an invisible bidirectional-text control \(U\+202E\)"):
        _render(organization="Contoso\u202e")


def test_render_discovery_refuses_non_booleans() -> None:
    with pytest.raises(ValueError, match="passive_modes"):
        render_discovery_scripts([1])


# --- the policy route -------------------------------------------------------------------------

def test_policies_sit_in_their_own_data_block(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    block = text[text.index("$Policies = @("):text.index("$KitObjects = @($Packages) + @($Policies)")]
    on, off = POLICIES
    assert f"        Name          = {ps_single_quoted(on.name)}\r\n" in block
    assert f"        Description   = {ps_single_quoted(on.description + ' ' + policy_fingerprint(on))}\r\n" in block
    assert "        SampleSharing = 'None'\r\n        Telemetry     = 'Expedited'\r\n" in block
    assert f"        Sha256        = '{hashlib.sha256(on.data).hexdigest().upper()}'\r\n" in block
    # The offboarding policy has no settings, no collection and no baseline.
    assert block.count("        SampleSharing = $null\r\n        Telemetry     = $null\r\n") == 1
    assert block.count("        Collection    = $null\r\n") == 1 and block.count("        Compliance    = $null\r\n") == 1
    assert policy_fingerprint(on) == f"[sample sharing None, reporting Expedited, file SHA-256 {hashlib.sha256(on.data).hexdigest().upper()[:16]}]"
    assert policy_fingerprint(off).startswith("[file SHA-256 ")


def test_a_changed_policy_file_or_setting_changes_the_fingerprint() -> None:
    on = POLICIES[0]
    others = {policy_fingerprint(dataclasses.replace(on, data=b"other")),
              policy_fingerprint(dataclasses.replace(on, sample_sharing="All")),
              policy_fingerprint(dataclasses.replace(on, telemetry="Normal"))}
    assert policy_fingerprint(on) not in others and len(others) == 3


def test_the_offboarding_policy_is_created_only_when_asked_and_never_deployed(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert "[switch] $CreateOffboardingPolicy" in text
    assert "if ($p.Role -eq 'offboarding' -and -not $CreateOffboardingPolicy) {" in text
    root, data = pwsh_syntax.tree(script)
    deploys = [n for name, _, n in _commands(script) if name == "new-cmconfigurationpolicydeployment"]
    assert len(deploys) == 1
    guards, m = [], deploys[0]
    while m.parent is not None:
        if m.type == "statement_block" and m.parent.type in ("if_statement", "elseif_clause"):
            guards.append(data[next(c for c in m.parent.children if c.type == "pipeline").start_byte:m.start_byte].decode())
        m = m.parent
    assert any(g.startswith("$p.Role -eq 'onboarding'") for g in guards)
    assert any(g.startswith("$p.Route -eq 'policy'") for g in guards)
    # Before it deploys a program, an Application or a policy, the script looks in the collection
    # for the target's other route and for offboarding packages and policies of any release, found
    # by the names the kit gives them, and stops when one is deployed there.
    for route, deploy in (("package", "New-CMPackageDeployment"), ("package", "New-CMApplicationDeployment"),
                          ("policy", "New-CMConfigurationPolicyDeployment")):
        at = text.index(f"$null = {deploy} ")
        check = text.rindex("($conflict = Get-RouteConflict -Route ", 0, at)
        assert text[check:].startswith(f"($conflict = Get-RouteConflict -Route '{route}' -Name $p.Name "), deploy
        assert text.count("elseif (", check, at) <= 2, deploy       # the check is in the same if/elseif chain
    assert text.count("Get-RouteConflict -Route '") == 3
    # On a deployment that exists already, the same look only warns (a re-run changes nothing).
    assert text.count("Write-RouteConflict -Route '") == 3
    assert "$OffboardingPackagePrefixes = @(\r\n    'MDE Offboarding until '\r\n    'MDE Offboard - '\r\n)" in text
    assert "$OffboardingPolicyPrefix = 'MDE Offboarding policy until '" in text
    assert "Get-CMPackage -Name ($prefix + '*') -Fast" in text
    # A setting of mdegen's an item no longer should hold (the old route's passive-mode check) stops it.
    assert "$SettingNames = @(\r\n    'Defender for Endpoint onboarding state'\r\n    'Defender Antivirus passive mode policy'\r\n)" in text
    assert "Reason 'The configuration item holds this setting from an earlier release;" in text


def test_without_packages_the_script_needs_no_share() -> None:
    text = _render([], POLICIES).decode("utf-8-sig")
    assert "[Parameter(Mandatory = $true)]\r\n    [ValidatePattern('^\\\\\\\\[^\\\\]+\\\\[^\\\\]+')]" not in text
    assert "    [string] $SourcePath = '',\r\n" in text and "    [string] $DistributionPointGroup = '',\r\n" in text
    assert "$Packages = @(\r\n)\r\n" in text
    assert " -SourcePath <UNC>" not in text
    with_packages = _render(PACKAGES, []).decode("utf-8-sig")
    assert "    [string] $SourcePath,\r\n" in with_packages and "CreateOffboardingPolicy" not in with_packages
