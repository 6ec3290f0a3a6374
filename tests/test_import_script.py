"""Import-MdeGpo.ps1 and the quoting helpers it relies on.

The script cannot run here (no PowerShell), so these tests check what can be checked without it:
bytes (BOM, CRLF), syntax (tree-sitter-pwsh, skipped when absent), that every config value reaches
PowerShell only as a correctly doubled single-quoted literal (by the grammar's tokens and by a model
of PowerShell's own tokenizer rule, which also knows the typographic quotes the grammar does not),
that every change is guarded by ShouldProcess, and a golden copy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pwsh_syntax
from generator.builders.import_script import SCRIPT_NAME, render_import_script
from generator.escaping import (
    PS_SINGLE_QUOTES,
    cmd_quoted_path,
    ini_value,
    ps_single_quoted,
    ps_unquote_single,
    refuse_control,
)
from generator.records import GpoDefinition, WmiFilter, braced

GOLDEN = Path(__file__).resolve().parent / "golden" / "import-script"
NS = uuid.UUID("00000000-0000-0000-0000-000000000000")
WHEN = dt.datetime(2025, 6, 1, 12, 0, 0)
ADMX_FILES = ["PolicyDefinitions/MdegenDefenderForEndpoint.admx",
              "PolicyDefinitions/en-US/MdegenDefenderForEndpoint.adml"]

# Config values that would break out of, or be expanded in, anything but a verbatim literal.
ORGANIZATION = 'Contoso & O\u2019Neil "Labs" $corp 100%'
RELEASE = "2025.06 \u2018rc1\u2019 `beta`"
FILTER_2019 = WmiFilter(
    id=uuid.uuid5(NS, "filter-2019"),
    name="MDE Server 2019 ($ & %)",
    description="Windows Server 2019; won't match \u201aclients\u201b `n <b>",
    query='SELECT * FROM Win32_OperatingSystem WHERE Version LIKE "10.0.17763%" AND ProductType <> 1',
)
FILTER_2022 = WmiFilter(
    id=uuid.uuid5(NS, "filter-2022"),
    name="MDE Server 2022 & later",
    description="",
    query="SELECT * FROM Win32_OperatingSystem WHERE Version LIKE '10.0.2%' AND ProductType <> 1",
)


def _gpo(role, target, name, description, wmi_filter) -> GpoDefinition:
    return GpoDefinition(
        role=role, target_name=target, display_name=name, description=description,
        gpo_id=uuid.uuid5(NS, "gpo:" + name), backup_id=uuid.uuid5(NS, "backup:" + name),
        backup_time=WHEN, domain="corp.example.com", parts=(), wmi_filter=wmi_filter,
    )


GPOS = [
    _gpo("onboarding", "Windows Server 2019", 'MDE Onboarding O\'Brien & Sons\u2019 "2019"',
         "Onboards $env:COMPUTERNAME `n %PATH% <b> & 'x' \u2019y\u2019 \"z\"", FILTER_2019),
    _gpo("onboarding", "Windows Server 2022 & later", "MDE Onboarding 2022 $(Get-Date) `$x",
         "Second <onboarding> GPO; 50% & more", FILTER_2022),
    _gpo("offboarding", None, "MDE Offboarding \u2019$(Remove-Item C:\\)\u2019",
         'Offboards; never link where onboarding applies: "never" `$x <y> 100%', None),
]

DANGEROUS = sorted({
    ORGANIZATION, RELEASE,
    *(g.display_name for g in GPOS), *(g.description for g in GPOS),
    *(g.target_name for g in GPOS if g.target_name),
    *(f.name for f in (FILTER_2019, FILTER_2022)),
    FILTER_2019.description, FILTER_2019.query, FILTER_2022.query,
})


def _render(gpos=GPOS, **overrides) -> bytes:
    kwargs = {"organization": ORGANIZATION, "release": RELEASE, "admx_files": ADMX_FILES, **overrides}
    return render_import_script(gpos, **kwargs)


@pytest.fixture(scope="module")
def script() -> bytes:
    return _render()


def ps_read_verbatim(text: str, start: int) -> tuple[int, str]:
    """PowerShell's rule for a '...' literal opening at text[start]: (index after it, its value).

    A quote character (' U+2018 U+2019 U+201A U+201B) followed by another stands for the second;
    a lone one closes the literal. Written from the language's rule, independently of escaping.py.
    """
    assert text[start] in PS_SINGLE_QUOTES
    i, out = start + 1, []
    while i < len(text):
        ch = text[i]
        if ch in PS_SINGLE_QUOTES:
            if i + 1 < len(text) and text[i + 1] in PS_SINGLE_QUOTES:
                out.append(text[i + 1])
                i += 2
                continue
            return i + 1, "".join(out)
        out.append(ch)
        i += 1
    raise AssertionError("literal never closes")


# --- bytes ------------------------------------------------------------------------------------

def test_utf8_bom_and_crlf_only(script: bytes) -> None:
    assert script.startswith(b"\xef\xbb\xbf#Requires -Version 5.1\r\n")
    body = script[3:]
    assert b"\xef\xbb\xbf" not in body
    assert re.search(rb"(?<!\r)\n", body) is None, "bare LF"
    assert re.search(rb"\r(?!\n)", body) is None, "bare CR"
    body.decode("utf-8")
    assert script.endswith(b"\r\n")


def test_deterministic(script: bytes) -> None:
    assert _render() == script
    assert _render([dataclasses.replace(g) for g in GPOS]) == script


def test_golden(script: bytes, file_regression) -> None:
    file_regression.check(script, binary=True, fullpath=GOLDEN / SCRIPT_NAME)


# --- syntax -----------------------------------------------------------------------------------

def test_parses_with_tree_sitter_pwsh(script: bytes) -> None:
    pwsh_syntax.require_parser()
    assert pwsh_syntax.problems(script) == []


def test_header_requires_strict_mode_and_one_line_param(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert "#Requires -Version 5.1\r\n#Requires -PSEdition Desktop\r\n#Requires -Modules GroupPolicy, ActiveDirectory\r\n" in text
    assert re.search(r"^\[CmdletBinding\(SupportsShouldProcess = \$true[^)]*\)\]\r\nparam\(\r\n", text, re.M)
    assert len(re.findall(r"^param\(", text, re.M)) == 1          # the script's own, on one line
    assert "\r\nSet-StrictMode -Version 2\r\n$ErrorActionPreference = 'Stop'\r\n" in text
    for name in ("$Domain", "$LinkOU", "$EnableLinks", "$SkipCentralStore", "$Server"):
        assert re.search(r"^    \[[a-z]+\] " + re.escape(name) + r"\b", text, re.M), name
    assert re.search(r"\[Parameter\(Mandatory = \$true\)\]\r\n    \[ValidatePattern\([^\r\n]*\)\]\r\n    \[string\] \$Domain", text)


# --- config values only as single-quoted literals ---------------------------------------------

def test_config_values_only_in_single_quoted_literals(script: bytes) -> None:
    tokens = pwsh_syntax.single_quoted_strings(script)
    values = [ps_unquote_single(t.text) for t in tokens]
    for value in DANGEROUS:
        assert value in values, f"{value!r} is not a literal of its own"
        assert ps_single_quoted(value) in {t.text for t in tokens}

    # Outside the literals nothing of a config value is left: not in comments, not in "...".
    data = script[3:]
    outside = bytearray(data)
    for t in tokens:
        outside[t.start:t.end] = b" " * (t.end - t.start)
    rest = outside.decode("utf-8", "replace")
    for value in DANGEROUS:
        assert value not in rest, f"{value!r} appears outside a single-quoted literal"
    for marker in ("O'Brien", "O\u2019Neil", "Remove-Item C:", "$env:COMPUTERNAME", "10.0.17763", "Contoso"):
        assert marker not in rest


def test_grammar_and_powershell_agree_on_every_literal(script: bytes) -> None:
    """tree-sitter-pwsh ignores the typographic quotes; PowerShell does not. Every literal must end
    at the same place under both readings, so no value can be cut short by PowerShell."""
    data = script[3:]
    text = data.decode("utf-8")
    for t in pwsh_syntax.single_quoted_strings(script):
        start = len(data[:t.start].decode("utf-8"))
        end = len(data[:t.end].decode("utf-8"))
        assert ps_read_verbatim(text, start) == (end, ps_unquote_single(t.text)), t.text


def test_values_sit_in_the_data_block(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    block = text[text.index("$Kit = [pscustomobject]@{"):text.index("# Helpers")]
    assert f"Organization = {ps_single_quoted(ORGANIZATION)}\r\n" in block
    for g in GPOS:
        assert f"DisplayName   = {ps_single_quoted(g.display_name)}\r\n" in block
        assert f"BackupId      = '{braced(g.backup_id)}'\r\n" in block
    assert "TargetName    = $null\r\n" in block and "WmiFilterName = $null\r\n" in block   # offboarding
    assert f"Id          = '{braced(FILTER_2019.id)}'\r\n" in block
    assert "    'en-US\\MdegenDefenderForEndpoint.adml'\r\n" in block


def _quoted_values(monkeypatch, render) -> list[str]:
    return pwsh_syntax.quoted_values(monkeypatch, render)


def test_every_value_is_quoted_exactly_once(script: bytes, monkeypatch) -> None:
    """One quoting pass: the ps filter quotes each literal of the data block once, and nothing else
    quotes (no check pre-pass)."""
    data = script[3:]
    start, end = data.index(b"$Kit = [pscustomobject]@{"), data.index(b"# Helpers")
    literals = [ps_unquote_single(t.text) for t in pwsh_syntax.single_quoted_strings(script) if start <= t.start < end]
    assert len(literals) > 20
    assert sorted(_quoted_values(monkeypatch, _render)) == sorted(literals)


def test_a_shared_wmi_filter_is_listed_once() -> None:
    gpos = [GPOS[0], dataclasses.replace(GPOS[1], wmi_filter=FILTER_2019), GPOS[2]]
    text = _render(gpos).decode("utf-8-sig")
    assert text.count(f"Id          = '{braced(FILTER_2019.id)}'") == 1
    assert text.count(f"WmiFilterName = {ps_single_quoted(FILTER_2019.name)}") == 2


# --- behaviour that can be read off the script ------------------------------------------------

CHANGING_COMMANDS = {"new-adobject", "set-adobject", "import-gpo", "new-gplink", "copy-item", "new-item"}


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


def test_every_change_goes_through_should_process(script: bytes) -> None:
    root, data = pwsh_syntax.tree(script)
    changes = []
    for n in pwsh_syntax.walk(root):
        if n.type == "command":
            name = data[n.children[0].start_byte:n.children[0].end_byte].decode().lower()
            if name in CHANGING_COMMANDS:
                changes.append((name, n))
        elif n.type == "left_assignment_expression":
            if data[n.start_byte:n.end_byte] == b"$gpo.Description":
                changes.append(("description", n))
    assert {name for name, _ in changes} == CHANGING_COMMANDS | {"description"}
    for name, n in changes:
        assert _guarded_by_should_process(n, data), f"{name} at line {n.start_point[0] + 1} is not guarded"
    text = data.decode()
    # The cmdlets do not prompt a second time once ShouldProcess said yes.
    for line in text.splitlines():
        if re.match(r"\s*(\$\w+ = |\$null = )?(New-ADObject|Set-ADObject|Import-GPO|New-GPLink|Copy-Item|New-Item) ", line):
            assert "-Confirm:$false" in line, line


def test_links_disabled_unless_asked_and_offboarding_never_enabled(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert "$linkEnabled = 'No'\r\n        if ($EnableLinks -and $def.Role -eq 'onboarding') {\r\n            $linkEnabled = 'Yes'" in text
    assert "-LinkEnabled $linkEnabled" in text
    # Offboarding is linked only by its display name (never by a target name) and is warned about.
    assert "if ($Gpo.Role -eq 'onboarding' -and $null -ne $Gpo.TargetName) {" in text
    assert "Never link it where an onboarding GPO applies" in text


def test_idempotence_and_summary_texts(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert "Nothing to change: the domain already matches the kit." in text
    for outcome in ("'created'", "'updated'", "'unchanged'"):
        assert outcome in text
    assert "Compare-GpoFiles -BackupRoot $backupGpoDir -SysvolRoot $gpoFolder" in text
    assert "Where-Object { $_.GpoId -eq $gpo.Id }" in text       # existing links are left alone
    assert "Test-Path -LiteralPath $store -PathType Container" in text   # central store only if it exists


def test_wmi_rule_layout_matches_gpmc() -> None:
    """msWMI-Parm2 as GPMC writes one rule: count;len(lang);len(ns);len(query);lang;ns;query;
    e.g. 1;3;10;55;WQL;root\\CIMv2;Select * from Win32_ComputerSystem where DomainRole = 5;"""
    text = _render().decode("utf-8-sig")
    assert ("return ('1;{0};{1};{2};{3};{4};{5};' -f $language.Length, $Namespace.Length, "
            "$Query.Length, $language, $Namespace, $Query)") in text
    query = "Select * from Win32_ComputerSystem where DomainRole = 5"
    assert "1;{0};{1};{2};{3};{4};{5};".format(3, 10, len(query), "WQL", "root\\CIMv2", query) == \
        "1;3;10;55;WQL;root\\CIMv2;Select * from Win32_ComputerSystem where DomainRole = 5;"


def test_script_locates_the_kit_with_psscriptroot(script: bytes) -> None:
    text = script.decode("utf-8-sig")
    assert "$kitRoot = $PSScriptRoot" in text
    assert "Join-Path $kitRoot 'GPOs'" in text and "Join-Path $kitRoot 'PolicyDefinitions'" in text


# --- renderer refusals ------------------------------------------------------------------------

@pytest.mark.parametrize("change, where", [
    (lambda gs: [dataclasses.replace(gs[0], description="two\nlines"), *gs[1:]], "gpos[0].description: contains a line feed"),
    (lambda gs: [gs[0], dataclasses.replace(gs[1], display_name=gs[0].display_name.upper())], "gpos[1].display_name"),
    (lambda gs: [gs[0], dataclasses.replace(gs[1], wmi_filter=dataclasses.replace(FILTER_2022, name=FILTER_2019.name))],
     "gpos[1].wmi_filter: another WMI filter"),
    (lambda gs: [gs[0], dataclasses.replace(gs[1], wmi_filter=dataclasses.replace(FILTER_2022, id=FILTER_2019.id))],
     "gpos[1].wmi_filter: id"),
    (lambda gs: [dataclasses.replace(gs[0], wmi_filter=dataclasses.replace(FILTER_2019, query="a\rb")), *gs[1:]],
     "gpos[0].wmi_filter.query: contains a carriage return"),
    (lambda gs: [], "gpos: the kit has no GPO"),
])
def test_renderer_refuses_bad_records(change, where) -> None:
    with pytest.raises(ValueError, match=re.escape(where)):
        _render(change(GPOS))


@pytest.mark.parametrize("path", ["MdegenDefenderForEndpoint.admx", "PolicyDefinitions/../x.admx",
                                  "PolicyDefinitions/a\\b.admx", "PolicyDefinitions/", "PolicyDefinitions/c:x.admx"])
def test_renderer_refuses_odd_admx_paths(path) -> None:
    with pytest.raises(ValueError, match="admx_files"):
        _render(admx_files=[path])


def test_renderer_refuses_control_characters_in_organization() -> None:
    with pytest.raises(ValueError, match=r"^organization: contains an invisible bidirectional-text control \(U\+202E\)"):
        _render(organization="Contoso\u202e")


# --- ps_single_quoted -------------------------------------------------------------------------

@pytest.mark.parametrize("value, literal", [
    ("", "''"),
    ("plain", "'plain'"),
    ("O'Brien", "'O''Brien'"),
    ("it\u2019s", "'it\u2019\u2019s'"),
    ("\u2018a\u2019 \u201ab\u201b", "'\u2018\u2018a\u2019\u2019 \u201a\u201ab\u201b\u201b'"),
    ("'", "''''"),
    ('$x `n "y" %z% & <a>', "'$x `n \"y\" %z% & <a>'"),
    ("tab\there", "'tab\there'"),
])
def test_ps_single_quoted_doubles_every_single_quote(value, literal) -> None:
    assert ps_single_quoted(value) == literal
    assert ps_unquote_single(literal) == value
    assert ps_read_verbatim(literal + " x", 0) == (len(literal), value)


@pytest.mark.parametrize("value, problem", [
    ("a\nb", "a line feed (U+000A) at character 2"),
    ("a\r", "a carriage return (U+000D) at character 2"),
    ("\x00", "a NUL character (U+0000)"),
    ("x\x1by", "a control character (U+001B)"),
    ("x\x85", "a next-line character (U+0085)"),
    ("x\u2028", "a line separator (U+2028)"),
    ("abc\u202e", "an invisible bidirectional-text control (U+202E) at character 4"),
    ("\ud800", "an unpaired surrogate (U+D800)"),
])
def test_ps_single_quoted_refuses_line_breaks_and_controls(value, problem) -> None:
    with pytest.raises(ValueError, match=re.escape(f"contains {problem}") + r".*a PowerShell string cannot hold"):
        ps_single_quoted(value)


_REFUSED = set(map(chr, range(0x20))) - {"\t"} | set(map(chr, range(0x7F, 0xA0))) | {
    "\u2028", "\u2029", "\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}
HOSTILE = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("'\u2018\u2019\u201a\u201b\"`$%&<>|;(){}[]@#\\ \t-+=,.*?\u00a0\ufeff")),
        st.characters(exclude_categories=("Cs",), exclude_characters="".join(_REFUSED)),
    ),
    max_size=40,
)


@given(HOSTILE)
def test_ps_single_quoted_cannot_be_broken_out_of(value: str) -> None:
    pwsh_syntax.require_parser()
    literal = ps_single_quoted(value)
    src = f"$x = {literal}\n$y = 1\n"
    assert pwsh_syntax.problems(src) == []
    tokens = pwsh_syntax.single_quoted_strings(src)
    assert [t.text for t in tokens] == [literal]          # one token, exactly the literal
    assert ps_unquote_single(tokens[0].text) == value
    assert ps_read_verbatim(src, len("$x = ")) == (len("$x = ") + len(literal), value)


@given(HOSTILE, st.sampled_from(sorted(_REFUSED)), HOSTILE)
def test_ps_single_quoted_refuses_any_control(before: str, bad: str, after: str) -> None:
    with pytest.raises(ValueError, match=r"U\+[0-9A-F]{4}"):
        ps_single_quoted(before + bad + after)


# --- refuse_control, cmd_quoted_path, ini_value -----------------------------------------------

def test_refuse_control_returns_the_value_and_names_the_context() -> None:
    assert refuse_control("a\tb \u00e9", "an INI value") == "a\tb \u00e9"
    with pytest.raises(ValueError, match=r"^contains a tab \(U\+0009\) at character 2, which a cmd\.exe path cannot hold$"):
        refuse_control("a\tb", "a cmd.exe path", allow_tab=False)


@pytest.mark.parametrize("path", [
    "\\\\fs01\\mde\\Onboard.cmd", "C:\\Program Files (x86)\\Mde\\x.cmd", "\\\\srv\\share$\\a b@c,d;e.cmd",
    "D:\\caf\u00e9\\x.cmd",
])
def test_cmd_quoted_path_accepts_ordinary_paths(path) -> None:
    assert cmd_quoted_path(path) == f'"{path}"'


@pytest.mark.parametrize("path, problem", [
    ('C:\\a"b', "a double quote at character 5"),
    ("C:\\%TEMP%\\x", "a percent sign at character 4"),
    ("C:\\Hi!\\x", "an exclamation mark at character 6"),
    ("C:\\a^b", "a caret at character 5"),
    ("\\\\srv\\R&D\\x.cmd", "an ampersand at character 8"),
    ("C:\\a|b", "a pipe sign"),
    ("C:\\a<b", "a less-than sign"),
    ("C:\\a>b", "a greater-than sign"),
    ("C:\\a\nb", "a line feed (U+000A)"),
    ("C:\\a\rb", "a carriage return (U+000D)"),
    ("C:\\a\x00b", "a NUL character (U+0000)"),
    ("C:\\a\tb", "a tab (U+0009)"),
])
def test_cmd_quoted_path_refuses_what_cmd_would_act_on(path, problem) -> None:
    with pytest.raises(ValueError, match="^contains " + re.escape(problem)):
        cmd_quoted_path(path)


@pytest.mark.parametrize("path, problem", [("", "is empty"), ("C:\\dir\\", "ends with a backslash")])
def test_cmd_quoted_path_refuses_empty_and_trailing_backslash(path, problem) -> None:
    with pytest.raises(ValueError, match="^" + problem):
        cmd_quoted_path(path)


def test_ini_value() -> None:
    assert ini_value('a = "b" ; c\td') == 'a = "b" ; c\td'
    for bad, problem in (("a\rb", "carriage return"), ("a\nb", "line feed"), ("a\x00b", "NUL character")):
        with pytest.raises(ValueError, match=f"^contains a {problem} .*, which an INI value cannot hold$"):
            ini_value(bad)


def test_ps_unquote_single_rejects_non_literals() -> None:
    for bad in ("abc", "'a'b'", "'"):
        with pytest.raises(ValueError):
            ps_unquote_single(bad)
