"""Install-MdeVdiStartup.ps1 and Reset-MdeVdiImage.ps1 (generator/builders/vdi_scripts.py).

No PowerShell here, so as for Import-MdeGpo.ps1 the tests check what can be read off the scripts:
bytes (BOM, CRLF), syntax (tree-sitter-pwsh, skipped when absent), that every config value reaches
PowerShell once, as a single-quoted literal of the data block, that the registry facts are
generator/policy.py's, that every change is guarded by ShouldProcess, that the reset script
refuses anything but SYSTEM before it changes anything, the renderers' refusals, and golden copies.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import pwsh_syntax
from generator import kits, policy, synthetic
from generator.formats import gpscripts
from generator.builders import vdi, vdi_scripts
from generator.builders.vdi_scripts import render_install_script, render_reset_script
from generator.escaping import ps_single_quoted, ps_unquote_single
from generator.templating import templates_root

GOLDEN = Path(__file__).resolve().parent / "golden" / "vdi-scripts"

# Config values that would break out of, or be expanded in, anything but a verbatim literal.
ORGANIZATION = 'Contoso & O\u2019Neil "Labs" $corp 100%'
RELEASE = "2026.12 \u2018rc1\u2019 `beta`"
POOL = "Pool 'A' $(Get-Date) 50%"

VDI_PS1 = "Onboard-NonPersistentMachine.ps1"
ONBOARDING_CMD = "WindowsDefenderATPOnboardingScript.cmd"
OFFBOARDING_CMD = "WindowsDefenderATPOffboardingScript_valid_until_2026-12-05.cmd"
SINGLE_FILES = [(VDI_PS1, synthetic.vdi_ps1()), (ONBOARDING_CMD, synthetic.onboarding_script())]
MULTIPLE_FILES = [(ONBOARDING_CMD, synthetic.onboarding_script())]


def _install(mode: str = "single", **overrides) -> bytes:
    kwargs = {
        "organization": ORGANIZATION, "release": RELEASE, "pool": POOL, "mode": mode,
        "startup_files": SINGLE_FILES if mode == "single" else MULTIPLE_FILES,
        "cmdline": VDI_PS1 if mode == "single" else ONBOARDING_CMD,
        **overrides,
    }
    return render_install_script(**kwargs)


def _reset(offboarding: str | None = OFFBOARDING_CMD, **overrides) -> bytes:
    return render_reset_script(**{"organization": ORGANIZATION, "release": RELEASE,
                                  "offboarding_script": offboarding, **overrides})


SCRIPTS = {
    "Install-MdeVdiStartup-single.ps1": lambda: _install("single"),
    "Install-MdeVdiStartup-multiple.ps1": lambda: _install("multiple"),
    "Reset-MdeVdiImage.ps1": lambda: _reset(),
    "Reset-MdeVdiImage-no-offboarding.ps1": lambda: _reset(None),
}


@pytest.fixture(scope="module", params=sorted(SCRIPTS))
def named_script(request) -> tuple[str, bytes]:
    return request.param, SCRIPTS[request.param]()


def _text(script: bytes) -> str:
    return script.decode("utf-8-sig")


def _data_block(script: bytes) -> tuple[int, int]:
    data = script[3:]
    return data.index(b"$Kit = [pscustomobject]@{"), data.index(b"# Helpers")


def _node_text(node, data: bytes) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8")


# --- bytes, syntax, golden --------------------------------------------------------------------

def test_utf8_bom_and_crlf_only(named_script) -> None:
    _, script = named_script
    assert script.startswith(b"\xef\xbb\xbf#Requires -Version 5.1\r\n#Requires -PSEdition Desktop\r\n"
                             b"#Requires -RunAsAdministrator\r\n")
    body = script[3:]
    assert b"\xef\xbb\xbf" not in body
    assert re.search(rb"(?<!\r)\n", body) is None, "bare LF"
    assert re.search(rb"\r(?!\n)", body) is None, "bare CR"
    body.decode("utf-8")
    assert script.endswith(b"exit 0\r\n")


def test_deterministic(named_script) -> None:
    name, script = named_script
    assert SCRIPTS[name]() == script


def test_golden(named_script, file_regression) -> None:
    name, script = named_script
    file_regression.check(script, binary=True, fullpath=GOLDEN / name)


def test_parses_with_tree_sitter_pwsh(named_script) -> None:
    pwsh_syntax.require_parser()
    assert pwsh_syntax.problems(named_script[1]) == []


def test_cmdlet_binding_and_one_line_param(named_script) -> None:
    text = _text(named_script[1])
    assert re.search(r"^\[CmdletBinding\(SupportsShouldProcess = \$true, ConfirmImpact = 'Medium'\)\]\r\nparam\(", text, re.M)
    assert len(re.findall(r"^param\(", text, re.M)) == 1
    assert "\r\nSet-StrictMode -Version 2\r\n$ErrorActionPreference = 'Stop'\r\n" in text


def test_shared_parts_are_included() -> None:
    for name in ("Install-MdeVdiStartup.ps1.j2", "Reset-MdeVdiImage.ps1.j2"):
        text = (templates_root() / "vdi" / name).read_text("utf-8")
        for part in ("kit-data", "helpers", "catch", "summary"):
            assert f'{{% include "common/{part}.ps1.j2" %}}' in text, (name, part)


# --- config values: once, as literals of the data block ---------------------------------------

DANGEROUS = (ORGANIZATION, RELEASE, POOL)


def test_config_values_only_in_single_quoted_literals(named_script) -> None:
    name, script = named_script
    tokens = pwsh_syntax.single_quoted_strings(script)
    start, end = _data_block(script)
    values = [ps_unquote_single(t.text) for t in tokens if start <= t.start < end]
    wanted = DANGEROUS if name.startswith("Install") else (ORGANIZATION, RELEASE)
    for value in wanted:
        assert values.count(value) == 1, value
    outside = bytearray(script[3:])
    for t in tokens:
        outside[t.start:t.end] = b" " * (t.end - t.start)
    rest = outside.decode("utf-8", "replace")
    for value in DANGEROUS:
        assert value not in rest
    for marker in ("O\u2019Neil", "Pool 'A'", "$(Get-Date)", "Contoso"):
        assert marker not in rest


def _quoted_values(monkeypatch, render) -> list[str]:
    return pwsh_syntax.quoted_values(monkeypatch, render)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_every_value_is_quoted_exactly_once(name, monkeypatch) -> None:
    """One quoting pass: the ps filter quotes each literal of the data block once, and nothing else
    quotes; outside the data block there is no literal that came from Python."""
    script = SCRIPTS[name]()
    start, end = _data_block(script)
    literals = [ps_unquote_single(t.text) for t in pwsh_syntax.single_quoted_strings(script) if start <= t.start < end]
    assert len(literals) >= 12
    assert sorted(_quoted_values(monkeypatch, SCRIPTS[name])) == sorted(literals)


def test_hostile_file_names_and_parameters_stay_literals(monkeypatch) -> None:
    name = "O'Brien $x & 100% \u2019y\u2019.cmd"
    params = "-Tag 'x' \u2018y\u2019 $env:PATH"
    render = lambda: _install("multiple", startup_files=[(name, b"x")], cmdline=name, parameters=params)  # noqa: E731
    script = render()
    pwsh_syntax.require_parser()
    assert pwsh_syntax.problems(script) == []
    start, end = _data_block(script)
    values = [ps_unquote_single(t.text) for t in pwsh_syntax.single_quoted_strings(script) if start <= t.start < end]
    assert values.count(name) == 3 and values.count(params) == 1        # file record, CmdLine, VdiFiles
    assert sorted(_quoted_values(monkeypatch, render)) == sorted(values)


# --- the data block: Python's decisions -------------------------------------------------------

def _block(script: bytes) -> str:
    start, end = _data_block(script)
    return script[3:][start:end].decode("utf-8")


def test_install_data_block_carries_mode_files_and_facts() -> None:
    single, multiple = _block(_install("single")), _block(_install("multiple"))
    assert f"    Name           = {ps_single_quoted(POOL)}\r\n" in single
    assert "    ScriptsIni      = 'psscripts.ini'\r\n" in single and "    CheckFinalName = $true\r\n" in single
    assert "    ScriptsIni      = 'scripts.ini'\r\n" in multiple and "    CheckFinalName = $false\r\n" in multiple
    assert f"    CmdLine        = '{VDI_PS1}'\r\n" in single and f"    CmdLine        = '{ONBOARDING_CMD}'\r\n" in multiple
    for name, data in SINGLE_FILES:
        assert f"[pscustomobject]@{{ Name = '{name}'; Sha256 = '{hashlib.sha256(data).hexdigest().upper()}' }}" in single
    assert f"Name = '{VDI_PS1}'" not in multiple                          # not a startup file of the kit
    for block in (single, multiple):
        assert f"    SenseKey              = '{policy.hklm_path(policy.SENSE_KEY)}'\r\n" in block
        assert f"    StatusKey             = '{policy.hklm_path(policy.STATUS_KEY)}'\r\n" in block
        assert f"    StateValue            = '{policy.ONBOARDING_STATE}'\r\n" in block
        assert f"    IdentityValue         = '{policy.SENSE_GUID}'\r\n" in block
        assert f"    SenseService          = '{policy.SENSE_SERVICE}'\r\n" in block
        assert f"    ScriptsCse      = '{gpscripts.SCRIPTS_CSE}'\r\n" in block
        assert f"    ScriptsTool     = '{gpscripts.SCRIPTS_TOOL_MACHINE}'\r\n" in block
        assert "    GptCodePage     = 1252\r\n" in block


def test_new_gpt_ini_is_the_codecs_merge_into_a_missing_file() -> None:
    assert vdi_scripts.GPT_NEW == (
        "[General]", "gPCFunctionalityVersion=2",
        "gPCMachineExtensionNames=[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B6664F-4972-11D1-A7CA-0000F87571E3}]",
        "Version=1")
    data, changed = gpscripts.add_machine_extension(None, gpscripts.SCRIPTS_CSE, gpscripts.SCRIPTS_TOOL_MACHINE, changed=True)
    assert changed and data == "".join(line + "\r\n" for line in vdi_scripts.GPT_NEW).encode("ascii")
    block = _block(_install())
    assert "    GptNew          = @(\r\n" + "".join(f"        '{line}'\r\n" for line in vdi_scripts.GPT_NEW) + "    )\r\n" in block


def test_a_new_scripts_ini_is_what_the_codec_writes() -> None:
    """Merge-ScriptsIni's layout for a missing file (empty first line, [Startup], both keys, CR LF
    after every line, UTF-16LE with FF FE) is the codec's."""
    for cmdline, params in ((VDI_PS1, ""), (ONBOARDING_CMD, "-x 1")):
        data, changed = gpscripts.add_startup_script(None, cmdline, params)
        text = f"\r\n[{vdi_scripts.STARTUP_SECTION}]\r\n0CmdLine={cmdline}\r\n0Parameters={params}\r\n"
        assert changed and data == b"\xff\xfe" + text.encode("utf-16-le")
    body = _function(_text(_install()), "Merge-ScriptsIni")
    assert "$lines.Add('')" in body and "(($lines -join \"`r`n\") + \"`r`n\")" in body


def test_reset_data_block_carries_the_reseal_list() -> None:
    block = _block(_reset())
    assert f"    CyberDataFolder    = '{policy.CYBER_DATA_FOLDER}'\r\n" in block
    assert "    ResealValues       = @(\r\n" + "".join(f"        '{v}'\r\n" for v in policy.RESEAL_VALUES) in block
    assert "    ResealKeys         = @(\r\n" + "".join(f"        '{policy.hklm_path(k)}'\r\n" for k in policy.RESEAL_KEYS) in block
    assert f"    File      = '{OFFBOARDING_CMD}'\r\n" in block
    for code, meaning in vdi_scripts.OFFBOARDING_EXIT_CODES:
        assert f"[pscustomobject]@{{ Code = {code}; Meaning = {ps_single_quoted(meaning)} }}" in block
    assert "$Offboarding = $null\r\n" in _block(_reset(None)) and "File      =" not in _block(_reset(None))


# --- behaviour that can be read off the scripts -----------------------------------------------

def _function(text: str, name: str) -> str:
    start = text.index(f"\r\nfunction {name} {{\r\n")
    return text[start:text.index("\r\n}\r\n", start)]


def test_merge_functions_sit_near_the_top_and_mirror_the_codec() -> None:
    text = _text(_install())
    main = text.index("# Main\r\n")
    for name in ("Read-GpIniFile", "Get-ScriptEntries", "Merge-ScriptsIni", "ConvertFrom-ExtensionNames", "Merge-GptIni"):
        body = _function(text, name)
        assert text.index(body) < main
        assert "# Mirrors generator/formats/gpscripts.py" in body, name


def test_scripts_ini_merge_rules() -> None:
    text = _text(_install())
    entries = _function(text, "Get-ScriptEntries")
    assert r"'^([0-9]+)(CmdLine|Parameters)\z', [System.Text.RegularExpressions.RegexOptions]::IgnoreCase" in entries
    assert "-gt 2147483647" in entries and "'System.Collections.Generic.SortedDictionary[long,object]'" in entries
    body = _function(text, "Merge-ScriptsIni")
    # gpscripts.py's same_command, in the PowerShell its docstring gives; Parameters case-sensitive.
    assert ("[string]::Equals($startup[$i].CmdLine.TrimEnd(), $CmdLine.TrimEnd(), [StringComparison]::OrdinalIgnoreCase) -and "
            "[string]::Equals($startup[$i].Parameters, $Parameters, [StringComparison]::Ordinal)") in body
    assert body.index("if ($config.Count -gt 0) {") < body.index("foreach ($list in $lists) {") < body.index("foreach ($section in $others) {")
    assert "'{0}CmdLine={1}' -f $i" in body and "'{0}Parameters={1}' -f $i" in body     # renumbered, both keys
    reader = _function(text, "Read-GpIniFile")
    for part in ("$bytes[0] -eq 0xFF -and $bytes[1] -eq 0xFE", "$bytes[0] -eq 0xFE -and $bytes[1] -eq 0xFF",
                 "$Ansi.GetString($bytes)", "$stripped.StartsWith(';')", "[StringComparer]::OrdinalIgnoreCase"):
        assert part in reader, part


def test_gpt_ini_merge_rules() -> None:
    text = _text(_install())
    body = _function(text, "Merge-GptIni")
    assert "$machine = $version % 65536" in body and "$user = $version - $machine" in body
    assert "if ($machine -eq 65535) {\r\n        $machine = 1\r\n    }" in body
    assert "'System.Collections.Generic.SortedDictionary[string,object]' ([StringComparer]::Ordinal)" in body
    assert "'System.Collections.Generic.SortedSet[string]' ([StringComparer]::Ordinal)" in body
    assert "if ($listed -and -not $ScriptsChanged) {" in body
    assert "$Sections.Insert(0, $general)" in body
    names = _function(text, "ConvertFrom-ExtensionNames")
    assert "'\\G\\[((?:' + $guid + ')+)\\]'" in names and "ToUpperInvariant()" in names and "$guids.Count -lt 2" in names
    assert gpscripts.bump_machine_version((2 << 16) | 0xFFFF) == (2 << 16) | 1       # the rule the script mirrors


def test_ini_files_are_written_as_gpmc_writes_them() -> None:
    text = _text(_install())
    assert ("Write-IniFile -Path $iniPath -Text $iniMerged.Text -Encoding (New-Object System.Text.UnicodeEncoding($false, $true)) -Hidden"
            in text)
    assert "Write-IniFile -Path $gptPath -Text $merged.Text -Encoding $GptAnsi\r\n" in text
    assert ("$GptAnsi = [System.Text.Encoding]::GetEncoding($LocalGpo.GptCodePage, "
            "[System.Text.EncoderFallback]::ExceptionFallback, [System.Text.DecoderFallback]::ExceptionFallback)") in text
    writer = _function(text, "Write-IniFile")
    assert "[System.IO.File]::SetAttributes($Path, [System.IO.FileAttributes]::Normal)" in writer   # WriteAllText refuses hidden files
    # gpt.ini is bumped when the scripts INI is to change (also under -WhatIf), and written before it:
    # a run that stops between the two leaves the entry still to add, so the next run bumps again.
    assert "-ScriptsChanged $iniMerged.Changed" in text
    assert text.index("Write-IniFile -Path $gptPath") < text.index("Write-IniFile -Path $iniPath")


def test_install_refuses_an_onboarded_image_in_the_64_bit_view() -> None:
    text = _text(_install())
    assert "[Microsoft.Win32.RegistryView]::Registry64" in _function(text, "Get-HklmValue")
    assert "HKLM:" not in text and "Get-ItemProperty" not in text
    step = text[text.index("$step = 'Check that the image is not onboarded'"):text.index("# 2. Single entry")]
    for check in ("Get-HklmValue -Key $Facts.StatusKey -Name $Facts.StateValue",
                  "Get-HklmValue -Key $Facts.SenseKey -Name $Facts.IdentityValue",
                  "Get-Service -Name $Facts.SenseService -ErrorAction SilentlyContinue"):
        assert check in step
    assert "Never boot this image onto the network while it is onboarded" in step
    assert "run the kit''s {0} as SYSTEM" in step and "$Facts.ResetScript, $Facts.SystemCommand" in step
    assert text.index(step) < text.index("$PSCmdlet.ShouldProcess(")


def test_single_entry_checks_the_name_and_reminds() -> None:
    text = _text(_install("single"))
    check = text[text.index("if ($Pool.CheckFinalName) {"):text.index("# 3. The other scripts INI")]
    assert "Get-HklmValue -Key $Facts.ComputerNameKey -Name $Facts.ComputerNameValue" in check
    assert "Get-HklmValue -Key $Facts.ActiveComputerNameKey -Name $Facts.ComputerNameValue" in check
    assert "Stop-VdiSetup" in check and "Reminder (single entry)" in check
    assert "    ActiveComputerNameKey = 'SYSTEM\\CurrentControlSet\\Control\\ComputerName\\ActiveComputerName'\r\n" in text


def test_install_checks_hashes_before_copying() -> None:
    text = _text(_install())
    check = text.index("$step = 'Check the startup files of the kit'")
    assert "if ($hash -ne $file.Sha256) {" in text[check:text.index("$step = 'Copy the startup files'")]
    assert check < text.index("Copy-Item -LiteralPath $source -Destination $target")


CHANGING_COMMANDS = {"new-item", "copy-item", "remove-item", "start-process", "write-inifile", "unblock-file"}
CHANGING_METHODS = {"DeleteValue", "DeleteSubKeyTree"}
WRITER_ONLY_METHODS = {"WriteAllText", "SetAttributes"}          # only inside Write-IniFile


def _guarded_by_should_process(node, data: bytes) -> bool:
    n = node
    while n.parent is not None:
        parent = n.parent
        if n.type == "statement_block" and parent.type in ("if_statement", "elseif_clause"):
            condition = next(c for c in parent.children if c.type == "pipeline")
            if _node_text(condition, data).startswith("$PSCmdlet.ShouldProcess("):
                return True
        n = parent
    return False


def _enclosing_function(node, data: bytes) -> str | None:
    n = node
    while n is not None:
        if n.type == "function_statement":
            return _node_text(next(c for c in n.children if c.type == "function_name"), data)
        n = n.parent
    return None


def _changes(script: bytes):
    root, data = pwsh_syntax.tree(script)
    out = []
    for n in pwsh_syntax.walk(root):
        if n.type == "command":
            name = _node_text(n.children[0], data).lower()
            if name in CHANGING_COMMANDS:
                out.append((name, n))
        elif n.type == "invocation_expression":
            member = next((c for c in n.children if c.type == "member_name"), None)
            if member is not None and _node_text(member, data) in CHANGING_METHODS | WRITER_ONLY_METHODS:
                out.append((_node_text(member, data), n))
    return out, data


@pytest.mark.parametrize("name, expected", [
    ("Install-MdeVdiStartup-single.ps1", {"new-item", "copy-item", "unblock-file", "write-inifile", "WriteAllText",
                                          "SetAttributes"}),
    ("Reset-MdeVdiImage.ps1", {"start-process", "remove-item", "DeleteValue", "DeleteSubKeyTree"}),
])
def test_every_change_goes_through_should_process(name, expected) -> None:
    pwsh_syntax.require_parser()
    changes, data = _changes(SCRIPTS[name]())
    assert {c for c, _ in changes} == expected
    for change, n in changes:
        where = f"{change} at line {n.start_point[0] + 1}"
        if change in WRITER_ONLY_METHODS:
            assert _enclosing_function(n, data) == "Write-IniFile", where
        else:
            assert _guarded_by_should_process(n, data), f"{where} is not guarded"
    for line in data.decode("utf-8").splitlines():
        if re.match(r"\s*(\$\w+ = |\$null = )?(New-Item|Copy-Item|Remove-Item|Unblock-File) ", line):
            assert "-Confirm:$false" in line, line


def test_reset_refuses_unless_system_before_any_change() -> None:
    pwsh_syntax.require_parser()
    for script in (_reset(), _reset(None)):
        text = script[3:].decode("utf-8")
        check = text.index("if (-not $account.IsSystem) {")
        assert "$account = [Security.Principal.WindowsIdentity]::GetCurrent()" in text[:check]
        refusal = text[check:text.index("\r\n    }\r\n", check)]
        assert "Stop-VdiReset -Step $step" in refusal and "$Image.SystemCommand" in refusal
        assert "    SystemCommand      = 'PsExec.exe -s -i powershell.exe -ExecutionPolicy Bypass -File'\r\n" in text
        changes, data = _changes(script)
        first = min(n.start_byte for _, n in changes)
        should = data.index(b"$PSCmdlet.ShouldProcess(")
        assert len(text[:check].encode("utf-8")) < min(first, should)
        before = text[text.index("# Main\r\n"):check]
        assert "$Force" not in before and "Get-Service" not in before and "OpenBaseKey" not in before


def test_reset_without_offboarding_needs_force() -> None:
    text = _text(_reset(None))
    branch = text[text.index("if ($null -eq $Offboarding) {"):text.index("elseif (-not $onboarded -and -not $running) {")]
    assert "packages.offboarding" in branch and "if (-not $Force) {" in branch and "Stop-VdiReset" in branch
    assert re.search(r"param\(\r\n    \[switch\] \$Force\r\n\)", text)


def test_reset_runs_offboarding_with_cmd_and_explains_exit_codes() -> None:
    text = _text(_reset())
    assert "Start-Process -FilePath $env:ComSpec -ArgumentList ('/d /c \"\"{0}\"\"' -f $offboardingPath) -Wait -PassThru -NoNewWindow" in text
    assert "if ($code -ne 0) {" in text and "$meaning = $known.Meaning" in text
    wait = text[text.index("$step = 'Wait for the sensor service to stop'"):text.index("$step = 'Delete the cyber-data files'")]
    assert "Start-Sleep -Seconds $Image.PollSeconds" in wait and "$service.Refresh()" in wait
    assert "    ServiceWaitSeconds = 300\r\n" in text
    assert "[Environment]::ExpandEnvironmentVariables($Image.CyberDataFolder)" in text
    assert text.count("-Outcome 'absent'") == 4                     # service, files, values, keys
    assert "The image can be sealed now" in text


# --- renderer refusals ------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, where", [
    ({"pool": "two\nlines"}, "pool: contains a line feed"),
    ({"pool": ""}, "pool: is empty"),
    ({"organization": "Contoso\u202e"}, "organization: contains an invisible bidirectional-text control"),
    ({"mode": "both"}, "mode: 'both' is neither 'single' nor 'multiple'"),
    ({"startup_files": [("sub/x.ps1", b"")]}, "startup_files[0]: 'sub/x.ps1' is not a plain Windows file name"),
    ({"startup_files": [SINGLE_FILES[0], ("a\\b.cmd", b"")]}, "startup_files[1]: 'a\\\\b.cmd' is not a plain"),
    ({"startup_files": [SINGLE_FILES[0], ("x\u2028.cmd", b"")]}, "startup_files[1]: contains a line separator"),
    ({"startup_files": [SINGLE_FILES[0], (VDI_PS1.upper(), b"")]}, "startup_files[1]: 'ONBOARD-NONPERSISTENTMACHINE.PS1' is also"),
    ({"startup_files": []}, "startup_files: the kit has no startup file"),
    ({"cmdline": "Other.ps1"}, "cmdline: 'Other.ps1' is not one of startup_files"),
    ({"cmdline": ONBOARDING_CMD}, "cmdline: 'WindowsDefenderATPOnboardingScript.cmd' is not a .ps1"),
    ({"cmdline": VDI_PS1 + " "}, "cmdline: 'Onboard-NonPersistentMachine.ps1 ' starts or ends with white space"),
    ({"parameters": "a\rb"}, "parameters: contains a carriage return"),
])
def test_install_renderer_refuses_naming_the_field(overrides, where) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(where)):
        _install(**{"mode": "single", **overrides})


def test_multiple_entries_refuse_a_ps1() -> None:
    with pytest.raises(ValueError, match=r"^cmdline: 'Onboard-NonPersistentMachine.ps1' is a \.ps1"):
        _install("multiple", startup_files=SINGLE_FILES, cmdline=VDI_PS1)


@pytest.mark.parametrize("overrides, where", [
    ({"offboarding": "sub\\off.cmd"}, "offboarding_script: 'sub\\\\off.cmd' is not a plain Windows file name"),
    ({"offboarding": "../off.cmd"}, "offboarding_script:"),
    ({"offboarding": "off%x%.cmd"}, "offboarding_script: contains a percent sign"),
    ({"offboarding": "off.ps1"}, "offboarding_script: 'off.ps1' is not a .cmd file"),
    ({"release": "r\n1"}, "release: contains a line feed"),
])
def test_reset_renderer_refuses_naming_the_field(overrides, where) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(where)):
        _reset(**overrides)


# --- the independent review's findings --------------------------------------------------------

def _main_offset(text: str) -> int:
    return text.index("# Main\r\n")


def _if_block(text: str, start: str) -> str:
    """The if statement that starts with ``start`` (at the indentation of the main try), to its '}'."""
    at = text.index(start)
    return text[at:text.index("\r\n    }\r\n", at)]


PS64 = r"%SystemRoot%\Sysnative\WindowsPowerShell\v1.0\powershell.exe"
BITNESS = "if ([Environment]::Is64BitOperatingSystem -and -not [Environment]::Is64BitProcess) {"


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_32_bit_powershell_on_64_bit_windows_stops_before_anything(name) -> None:
    r"""1. A 32-bit PowerShell sees System32\GroupPolicy redirected to SysWOW64: stop first."""
    script = SCRIPTS[name]()
    text = _text(script)
    assert f"PowerShell64 = '{PS64}'\r\n" in re.sub(r" +=", " =", _block(script))
    assert vdi_scripts.POWERSHELL_64_FROM_32 == PS64
    refusal = _if_block(text, BITNESS)
    assert re.search(r"Stop-Vdi(Setup|Reset) -Step \$step", refusal)
    assert "$Facts.PowerShell64" in refusal or "$Image.PowerShell64" in refusal
    for word in ("32-bit", "SysWOW64", "64-bit Windows PowerShell", "from a 32-bit process"):
        assert word in refusal, word
    check = text.index(BITNESS)
    assert _main_offset(text) < check
    for later in ("$kitRoot = $PSScriptRoot", "Get-HklmValue -Key", "$account = [Security.Principal.WindowsIdentity]",
                  "OpenBaseKey(", "Get-Service", "$PSCmdlet.ShouldProcess("):
        if text.find(later, _main_offset(text)) >= 0:
            assert check < text.index(later, _main_offset(text)), later


def test_vdi_file_names_are_decided_in_python() -> None:
    """2. The names a conflicting entry in the other INI would run, whatever the mode."""
    files = vdi_scripts._vdi_file_names
    assert files([VDI_PS1, ONBOARDING_CMD], VDI_PS1) == [VDI_PS1, ONBOARDING_CMD]
    assert files([ONBOARDING_CMD], ONBOARDING_CMD) == [VDI_PS1, ONBOARDING_CMD]
    assert files(["x.cmd"], '"C:\\Kit\\x.cmd" ') == [VDI_PS1, "x.cmd"]
    assert files([VDI_PS1.lower(), ONBOARDING_CMD], VDI_PS1.lower()) == [VDI_PS1, ONBOARDING_CMD]


@pytest.mark.parametrize("mode, own_tab, other, other_tab", [
    ("single", "PowerShell Scripts", "scripts.ini", "Scripts"),
    ("multiple", "Scripts", "psscripts.ini", "PowerShell Scripts"),
])
def test_install_refuses_a_vdi_file_registered_in_the_other_ini(mode, own_tab, other, other_tab) -> None:
    """2. Microsoft: register one of the two, never both. Stop before any change."""
    script = _install(mode)
    text, block = _text(script), _block(script)
    assert f"    OtherIni        = '{other}'\r\n" in block and f"    OtherTab        = '{other_tab}'\r\n" in block
    assert f"    ScriptsTab      = '{own_tab}'\r\n" in block
    assert f"    VdiFiles        = @(\r\n        '{VDI_PS1}'\r\n        '{ONBOARDING_CMD}'\r\n    )\r\n" in block
    step = text[text.index("$step = 'Check the other scripts INI'"):text.index("$step = 'Check the startup files of the kit'")]
    assert "\r\n    $otherPath = Join-Path $scriptsDir $LocalGpo.OtherIni\r\n" in text
    for part in ("Read-GpIniFile -Path $otherPath -Ansi $ScriptsAnsi",
                 "Get-ScriptEntries -Section $section",
                 "$LocalGpo.StartupSection", "$LocalGpo.ShutdownSection",
                 "foreach ($vdiFile in $LocalGpo.VdiFiles) {",
                 "[string]::Equals((Get-CommandFileName -CmdLine $other.CmdLine), $vdiFile, [StringComparison]::OrdinalIgnoreCase)"):
        assert part in step, part
    refusal = step[step.index("Stop-VdiSetup -Step $step -Object $otherPath -Reason ('{0} registers"):]
    for word in ("Microsoft", "not to register both", "random identity", "per-name",
                 "Computer Configuration > Windows Settings > Scripts (Startup/Shutdown)", "$LocalGpo.OtherTab",
                 "remove"):
        assert word in refusal, word
    assert text.index(step) < text.index("$PSCmdlet.ShouldProcess(")
    leaf = _function(text, "Get-CommandFileName")
    assert ".Trim().Trim([char] '\"').Trim()" in leaf and "LastIndexOfAny([char[]] @('\\', '/'))" in leaf


def test_install_refuses_a_pending_onboarding() -> None:
    """3. The onboarding package's value under the policy key: the sensor onboards at its next start."""
    script = _install()
    text, block = _text(script), _block(script)
    assert f"    AtpKey                = '{policy.hklm_path(policy.ATP_KEY)}'\r\n" in block
    assert f"    PendingValue          = '{policy.ONBOARDING_INFO}'\r\n" in block
    step = text[text.index("$step = 'Check that the image is not onboarded'"):text.index("# 2. Single entry")]
    assert "$pending = Get-HklmValue -Key $Facts.AtpKey -Name $Facts.PendingValue" in step
    refusal = step[step.index("if ($null -ne $pending) {"):]
    for word in ("next start", "onboarding GPO", "OU", "$Facts.ResetScript", "$Facts.SystemCommand", "Stop-VdiSetup"):
        assert word in refusal, word
    assert text.index(step) < text.index("$PSCmdlet.ShouldProcess(")


def test_reset_counts_a_pending_onboarding_as_onboarded() -> None:
    """3. Offboard when the value is there, although OnboardingState is not 1 yet."""
    for script in (_reset(), _reset(None)):
        block = _block(script)
        assert f"    AtpKey             = '{policy.hklm_path(policy.ATP_KEY)}'\r\n" in block
        assert f"    PendingValue       = '{policy.ONBOARDING_INFO}'\r\n" in block
    text = _text(_reset())
    decision = text[text.index("$step = 'Offboard the image'"):text.index("if ($null -eq $Offboarding) {")]
    assert "$atpKey = $hklm.OpenSubKey($Image.AtpKey)" in decision
    assert "$pending = $null -ne $atpKey.GetValue($Image.PendingValue)" in decision
    assert "$onboarded = ($null -ne $state -and [string] $state -eq '1') -or $pending" in decision
    skip = text[text.index("elseif (-not $onboarded -and -not $running) {"):]
    assert "$Image.PendingValue" in skip[:skip.index("\r\n    }")]


def test_a_bom_less_scripts_ini_is_read_in_the_images_ansi_code_page() -> None:
    """4. Windows reads an ANSI scripts.ini in the machine's code page; gpt.ini stays byte-preserving 1252."""
    text = _text(_install())
    assert ("$ScriptsAnsi = [System.Text.Encoding]::GetEncoding([System.Text.Encoding]::Default.CodePage, "
            "[System.Text.EncoderFallback]::ExceptionFallback, [System.Text.DecoderFallback]::ExceptionFallback)") in text
    reader = _function(text, "Read-GpIniFile")
    assert "param([string] $Path, [System.Text.Encoding] $Ansi)" in reader and "$Ansi.GetString($bytes)" in reader
    # PowerShell variable names ignore case: nothing else in the reader may be called $ansi.
    code = "\n".join(line for line in reader.splitlines() if not line.lstrip().startswith("#"))
    assert re.findall(r"\$ansi\b", code, re.I) == ["$Ansi", "$Ansi"]
    assert "$AnsiEncoding" not in text and "1252" not in text[_main_offset(text):]
    calls = re.findall(r"Read-GpIniFile -Path \$(\w+) -Ansi \$(\w+)\r\n", text)
    assert sorted(calls) == [("gptPath", "GptAnsi"), ("iniPath", "ScriptsAnsi"), ("otherPath", "ScriptsAnsi")]
    assert text.count("Read-GpIniFile -Path") == 3
    assert vdi_scripts.GPT_CODE_PAGE == 1252
    # gpt.ini is read and written in the same 1252, which the codec maps byte for byte: foreign bytes survive.
    foreign = bytes(range(0x80, 0x100))
    data = b"[General]\r\ndisplayName=" + foreign + b"\r\nVersion=3\r\n"
    out, changed = gpscripts.add_machine_extension(data, gpscripts.SCRIPTS_CSE, gpscripts.SCRIPTS_TOOL_MACHINE, changed=True)
    assert changed and b"\r\ndisplayName=" + foreign + b"\r\n" in out


def test_gpscripts_docstring_names_the_one_intended_difference() -> None:
    """4. The codec reads ANSI as Windows-1252; the install script reads an ANSI scripts INI in the image's code page."""
    doc = " ".join(gpscripts.__doc__.split())
    for part in ("[System.Text.Encoding]::Default", "the one intended difference", "files mdegen writes or test fixtures",
                 "image's ANSI code page"):
        assert part in doc, part
    module = " ".join(vdi_scripts.__doc__.split())
    assert "image's ANSI code page" in module


def test_copied_startup_files_are_unblocked() -> None:
    """5. Mark of the Web: unblock each copy, and a copy left blocked by an earlier run."""
    text = _text(_install())
    copy = text[text.index("$step = 'Copy the startup files'"):text.index("$step = 'Register the startup script'")]
    c = copy.index("Copy-Item -LiteralPath $source -Destination $target -Force -Confirm:$false")
    assert copy.index("Unblock-File -LiteralPath $target -Confirm:$false", c) < copy.index("Add-Result", c)
    assert "Get-Item -LiteralPath $target -Stream $Facts.ZoneStream -ErrorAction SilentlyContinue" in copy
    assert "    ZoneStream            = 'Zone.Identifier'\r\n" in _block(_install())
    assert copy.count("Unblock-File -LiteralPath $target -Confirm:$false") == 2     # guarded: see the ShouldProcess test


def test_refusals_name_the_reseal_script_where_the_kit_puts_it() -> None:
    r"""6. The kit writes vdi\reseal\Reset-MdeVdiImage.ps1 beside the pool folders vdi\<pool>\."""
    assert vdi_scripts.RESEAL_SCRIPT_PATH == "\\".join((kits.VDI.name, vdi.RESEAL, vdi_scripts.RESET_SCRIPT_NAME))
    assert vdi_scripts.RESEAL_SCRIPT_PATH == r"vdi\reseal\Reset-MdeVdiImage.ps1"
    for script in (_install("single"), _install("multiple")):
        text = _text(script)
        assert "    ResetScript           = 'vdi\\reseal\\Reset-MdeVdiImage.ps1'\r\n" in _block(script)
        assert "<kit folder>" not in text
        refusals = re.findall(r"-Fix \('[^\r\n]*\$Facts\.ResetScript[^\r\n]*", text)
        assert len(refusals) == 2 and all("<kit>\\{0}" in r and "vdi\\<pool>\\" in r for r in refusals)
    for script in (_reset(), _reset(None)):
        text = _text(script)
        assert "    ScriptInKit        = 'vdi\\reseal\\Reset-MdeVdiImage.ps1'\r\n" in _block(script)
        assert "<kit folder>" not in text
        assert "$scriptPath = '<kit>\\' + $Image.ScriptInKit" in text
