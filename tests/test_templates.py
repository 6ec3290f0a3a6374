"""The templates themselves: registry facts come from generator/policy.py, PowerShell helpers exist
once, and the one PowerShell environment (generator/templating.py) quotes and names fields.

(a) No template under templates/ (except templates/synthetic/, the stand-ins for Microsoft's portal
files, which must look like the real ones) spells a registry key path or a value name that
generator/policy.py defines: templates get them as variables, so policy.py stays their one source.
(b) Every PowerShell function of the .ps1 templates is defined in exactly one template.
(c) The PowerShell environment: ``ps`` exists only there, ``locate`` finds a value's field,
``plain`` refuses what would need quoting.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from generator import policy
from generator.escaping import plain
from generator.templating import environment, locate, powershell_environment, render_powershell, templates_root

TEMPLATES = templates_root()
SYNTHETIC = TEMPLATES / "synthetic"
CHECKED = sorted(p for p in TEMPLATES.rglob("*") if p.is_file() and SYNTHETIC not in p.parents)


# --- (a) registry facts only from policy.py ---------------------------------------------------

def _key_tails() -> list[str]:
    """Every key path policy.py defines, without its leading 'Software\\' (registry.pol spells it
    'Software\\Policies\\...', admins and reg.exe 'HKLM\\SOFTWARE\\Policies\\...': the tail is common)."""
    keys = {v for k, v in vars(policy).items() if k.endswith("_KEY") and isinstance(v, str)}
    keys |= {s.key for s in policy.SETTINGS}
    tails = set()
    for key in keys:
        assert key.lower().startswith("software\\"), key
        tails.add(key[len("software\\"):])
    return sorted(tails, key=len, reverse=True)


def _value_names() -> list[str]:
    names = {s.value_name for s in policy.SETTINGS} | {policy.ONBOARDING_STATE, policy.PASSIVE_MODE_VALUE}
    names |= set(policy.RESEAL_VALUES) | {policy.SENSE_GUID}
    names |= {key.rsplit("\\", 1)[1] for key in policy.RESEAL_KEYS}       # the identity key's GUID name
    return sorted(names)


def _ordinary_word(name: str) -> bool:
    """'Group', 'latency': a value name that is also an everyday word (one lower-case word, maybe
    capitalised). Unlike 'ForceDefenderPassiveMode' such a word turns up in prose ("a group of
    servers", "Group Policy", "low latency"), so it only counts in a registry-ish context."""
    return re.fullmatch(r"[A-Z]?[a-z]+", name) is not None


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for tail in _key_tails():
        # Not inside a longer name on either side; backslashes were collapsed before matching.
        out.append((f"key {tail!r}", re.compile(r"(?<![A-Za-z0-9_])" + re.escape(tail) + r"(?![A-Za-z0-9_])", re.I)))
    for name in _value_names():
        n = re.escape(name)
        if _ordinary_word(name):
            # Registry-ish contexts only: quoted alone ('Group', "Group", `Group` as a Markdown code
            # span), the value switch of reg.exe (/v Group), or a PowerShell -Name / -ValueName argument.
            rx = rf"(['\"`]){n}\1|/v\s+{n}\b|-(?:Value)?Name\s+{n}\b"
        else:
            rx = rf"\b{n}\b"
        out.append((f"value name {name!r}", re.compile(rx, re.I)))
    return out


PATTERNS = _patterns()


def registry_findings(text: str) -> list[str]:
    """'line N: key ...' / 'line N: value name ...' for every registry fact of policy.py in ``text``."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        flat = re.sub(r"\\+", r"\\", line)          # 'HKLM\\\\SOFTWARE\\\\...' in a string counts too
        for what, rx in PATTERNS:
            if rx.search(flat):
                found.append(f"line {number}: {what}: {line.strip()}")
    return found


def test_registry_facts_are_known() -> None:
    tails = _key_tails()
    assert r"Policies\Microsoft\Windows Advanced Threat Protection" in tails
    assert r"Microsoft\Windows Advanced Threat Protection\Status" in tails
    assert {"ForceDefenderPassiveMode", "OnboardingState", "Group", "latency"} <= set(_value_names())


@pytest.mark.parametrize("line", [
    r'reg query "HKLM\SOFTWARE\Microsoft\Windows Advanced Threat Protection\Status" /v x',
    r"Key = 'Software\Policies\Microsoft\Windows Defender\Spynet'",
    r'$path = "HKLM:\\SOFTWARE\\POLICIES\\Microsoft\\Windows Advanced Threat Protection\\DeviceTagging"',
    r"Sets ForceDefenderPassiveMode = 1 before onboarding.",
    r"Check that `OnboardingState` is 1.",
    r"reg add HKLM\x /v latency /t REG_SZ /d Expedite",
    r"Get-ItemProperty -Path $key -Name 'Group'",
    r"the `Group` value is the tag",
    r"{# spelled in a template comment: PUAProtection #}",
])
def test_findings_catch_registry_facts(line: str) -> None:
    """The check can fail: each line spells a key or value name of policy.py."""
    assert registry_findings("first line\n" + line + "\n"), line


@pytest.mark.parametrize("line", [
    "Group Policy refreshes every 90 minutes; the group of servers to onboard.",
    "Expedite means lower latency at the cost of CPU.",
    "Get-MdeOnboardingState.ps1 and $OnboardingStatusKey",
    r"HKLM\{{ status_key }} holds {{ onboarding_state }} = 1",
    r"'\\{0}\SYSVOL\{1}\Policies\PolicyDefinitions'",
    '"Group Policy" for the onboarding package',
])
def test_findings_leave_prose_and_variables_alone(line: str) -> None:
    assert registry_findings(line) == []


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_templates_spell_no_registry_fact_of_policy(path: Path) -> None:
    found = registry_findings(path.read_text(encoding="utf-8"))
    assert found == [], (f"{path.relative_to(TEMPLATES)} spells registry facts of generator/policy.py; "
                         "pass them in as template variables:\n  " + "\n  ".join(found))


def test_synthetic_templates_are_the_only_ones_skipped() -> None:
    skipped = {p for p in TEMPLATES.rglob("*") if p.is_file()} - set(CHECKED)
    assert skipped and all(SYNTHETIC in p.parents for p in skipped)
    assert any(p.name == "Import-MdeGpo.ps1.j2" for p in CHECKED)


# --- (b) PowerShell helpers once --------------------------------------------------------------

def test_every_powershell_function_is_defined_in_one_template() -> None:
    defined: dict[str, list[str]] = {}
    for path in CHECKED:
        if path.name.endswith(".ps1.j2"):
            for m in re.finditer(r"^\s*function\s+([\w{}\s-]+?)\s*\{\s*$", path.read_text(encoding="utf-8"), re.M):
                defined.setdefault(m.group(1).lower(), []).append(path.relative_to(TEMPLATES).as_posix())
    assert "add-result" in defined and "{{ stop_function }}" in defined
    twice = {name: files for name, files in defined.items() if len(files) > 1}
    assert twice == {}, twice
    assert defined["add-result"] == ["common/helpers.ps1.j2"]


@pytest.mark.parametrize("name", ["gpo/Import-MdeGpo.ps1.j2", "sccm/New-MdeCmPackage.ps1.j2"])
def test_kit_scripts_include_the_shared_parts(name: str) -> None:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    for part in ("kit-data", "helpers", "catch", "summary"):
        assert f'{{% include "common/{part}.ps1.j2" %}}' in text, part


# --- (c) the PowerShell environment -----------------------------------------------------------

def test_ps_filter_only_in_the_powershell_environment() -> None:
    assert powershell_environment() is powershell_environment()
    assert "ps" in powershell_environment().filters and "ps" not in environment().filters
    assert powershell_environment().from_string("{{ v | ps }}").render(v="it's") == "'it''s'"
    with pytest.raises(jinja2.TemplateAssertionError):
        environment().from_string("{{ v | ps }}")


def test_locate_names_the_field() -> None:
    context = {"organization": "Contoso", "gpos": [{"display_name": "a"}, {"display_name": "b\n", "x": None}],
               "files": [("n", "b\n")]}
    assert locate("b\n", context) == "gpos[1].display_name"
    assert locate("Contoso", context) == "organization"
    assert locate("missing", context) is None


def test_render_powershell_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^gpos\[0\]\.display_name: contains a line feed \(U\+000A\) at character 2"):
        render_powershell("gpo/Import-MdeGpo.ps1.j2", {
            "organization": "o", "release": "r", "wmi_filters": [], "admx_files": [],
            "gpos": [{"role": "onboarding", "display_name": "a\nb", "description": "", "backup_id": "{X}",
                      "target_name": None, "wmi_filter_name": None}]})


@pytest.mark.parametrize("value", ["SOFTWARE\\Microsoft\\Windows Advanced Threat Protection", "OnboardingState", "a.b_c-1"])
def test_plain_accepts_fixed_names(value: str) -> None:
    assert plain(value) == value


@pytest.mark.parametrize("value", ["", "it's", "a\u2019b", "50%", "a#>b", 'a"b', "a\nb", " lead", "a  b", "caf\u00e9", "!x"])
def test_plain_refuses_what_needs_quoting(value: str) -> None:
    with pytest.raises(ValueError):
        plain(value)
    with pytest.raises(ValueError):
        plain("Force Mode", allow_space=False)
