"""The GPO kit as a whole: every file parses in its own format, user values survive escaping in
every file they reach (or are refused naming the field), and targets stay independent."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from lxml import etree

import pwsh_syntax
import scenarios
from generator import config as config_mod
from generator import kits, synthetic
from generator.errors import ConfigError
from generator.escaping import ps_unquote_single
from generator.formats import gpp_tasks, regpol, wmi_mof

TODAY = dt.date(2026, 11, 28)
OFF_EXPIRES = dt.datetime(2099, 1, 31, 12, 0, tzinfo=dt.timezone.utc)

BASE = r"""
version: 1
organization: ORG
release:
  version: "2026.12.0"
  date: 2026-12-01
packages:
  onboarding: on.zip
  offboarding: off.cmd
share: SHARE
settings:
  passive_mode: true
  device_tag: TAG
targets:
  - name: TARGET
    os: [2019, 2022]
  - name: Other
    os: [2025]
"""

DEFAULTS = {"ORG": "Contoso", "SHARE": r"\\fs01.contoso.com\MDE$\Onboarding", "TAG": "Servers", "TARGET": "Web"}


def _kit(tmp_path: Path, **values: str) -> dict[str, bytes]:
    (tmp_path / "on.zip").write_bytes(synthetic.onboarding_zip())
    (tmp_path / "off.cmd").write_bytes(synthetic.offboarding_script(expires=OFF_EXPIRES))
    text = BASE
    for key, default in DEFAULTS.items():
        # JSON strings are valid YAML double-quoted scalars: any value arrives unchanged.
        text = text.replace(key, json.dumps(values.get(key, default)), 1)
    cfg = config_mod.loads(text, source="mdegen.yaml", base_dir=tmp_path)
    return scenarios.build_kit(cfg, kits.GPO, today=TODAY)


# --- decoding each format the way its consumer does --------------------------------------------------


def _xml_strings(data: bytes) -> list[str]:
    root = etree.fromstring(data)
    out = []
    for el in root.iter():
        out += [t for t in (el.text, el.tail) if t and t.strip()]
        out += list(el.attrib.values())
    return out


def _decoded(path: str, data: bytes) -> list[str]:
    """The strings a consumer of this file sees after its format's unescaping."""
    if path.endswith(".xml"):
        return _xml_strings(data)
    if path.endswith(".mof"):
        doc = wmi_mof.loads(data)
        return [str(v) for v in doc.values()] + [r["Query"] for r in doc["Rules"]]
    if path.endswith(".ps1"):
        assert data.startswith(b"\xef\xbb\xbf") and b"\n" not in data.replace(b"\r\n", b"")
        assert pwsh_syntax.problems(data) == [], path
        return [ps_unquote_single(t.text) for t in pwsh_syntax.single_quoted_strings(data)]
    if path.endswith(".pol"):
        return [str(e.value) for e in regpol.loads(data)] + [e.key for e in regpol.loads(data)]
    if path.endswith(".md"):
        return _markdown_text(data.decode("utf-8"))
    if path.endswith(".json"):
        return [json.dumps(json.loads(data), ensure_ascii=False)]
    return [data.decode("utf-8", errors="replace")]


# Outside code, a backslash escape gives its character and raw HTML (a tag such as <IT>) is
# swallowed by the renderer: a name that reaches Markdown unescaped is mangled.
_MD_INLINE = re.compile(r"\\(.)|<[A-Za-z/][^>]*>")


def _md_token(m: re.Match) -> str:
    return m.group(1) if m.group(1) is not None else ""


def _markdown_text(text: str) -> list[str]:
    """Markdown as a reader sees it: backslash escapes undone outside code; code spans and
    indented code blocks literal."""
    lines = []
    for line in text.split("\r\n"):
        if line.startswith("    "):
            lines.append(line[4:])
            continue
        parts = line.split("`")
        lines.append("".join(p if i % 2 else _MD_INLINE.sub(_md_token, p) for i, p in enumerate(parts)))
    return lines


def _carriers(kit: dict[str, bytes], value: str) -> set[str]:
    """Kinds of file whose decoded strings hold ``value``."""
    found = set()
    for path, data in kit.items():
        if any(value in s for s in _decoded(path, data)):
            found.add(_kind(path))
    return found


def _kind(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name if not name.endswith(".mof") else "*.mof"


# Where each value must arrive (by file name) when mdegen accepts it.
EXPECTED = {
    "ORG": {"bkupInfo.xml", "manifest.xml", "ScheduledTasks.xml", "*.mof", "Import-MdeGpo.ps1", "HANDOFF.md",
            "README.txt"},
    "TARGET": {"Backup.xml", "bkupInfo.xml", "manifest.xml", "*.mof", "Import-MdeGpo.ps1", "HANDOFF.md"},
    "SHARE": {"ScheduledTasks.xml", "bkupInfo.xml", "manifest.xml", "Import-MdeGpo.ps1", "HANDOFF.md", "README.txt"},
    "TAG": {"registry.pol", "HANDOFF.md"},
}
FIELD = {"ORG": "organization", "TARGET": "targets[0].name", "SHARE": "share", "TAG": "settings.device_tag"}
# (field, character) pairs mdegen refuses, with the reason; every other pair must be carried intact.
REFUSED = {
    ("ORG", '"'), ("ORG", "%"),
    ("TARGET", "&"), ("TARGET", "'"), ("TARGET", '"'), ("TARGET", "%"), ("TARGET", "$"), ("TARGET", "<"),
    ("SHARE", "&"), ("SHARE", '"'), ("SHARE", "%"), ("SHARE", "<"),
    ("TAG", '"'), ("TAG", "%"),
}


def _sample(key: str, ch: str) -> str:
    if key == "SHARE":
        return rf"\\fs01.contoso.com\MDE$\On{ch}boarding"
    if ch == "<":
        return "A <b>B"             # forms an HTML tag where Markdown is not escaped
    return f"A{ch}B" if ch != " " else "A B"


@pytest.mark.parametrize("ch", ["&", "'", '"', "%", "$", "<", " "])
@pytest.mark.parametrize("key", ["ORG", "TARGET", "SHARE", "TAG"])
def test_value_is_escaped_in_every_file_or_refused(key, ch, tmp_path):
    value = _sample(key, ch)
    if (key, ch) in REFUSED:
        with pytest.raises(ConfigError) as info:
            _kit(tmp_path, **{key: value})
        assert info.value.field == FIELD[key]
        return
    kit = _kit(tmp_path, **{key: value})
    carriers = _carriers(kit, value)
    assert EXPECTED[key] <= carriers, f"{value!r} lost or mangled in {sorted(EXPECTED[key] - carriers)}"


def test_every_file_parses_in_its_format(tmp_path):
    kit = _kit(tmp_path, ORG="Fabrikam & Söhne <IT> 'Ops' $team", TAG="Web & 'App' <1> $x",
               SHARE=r"\\fs01.contoso.com\MDE$\Co's files")
    for path, data in kit.items():
        _decoded(path, data)          # raises on a malformed file
    kinds = {_kind(p) for p in kit}
    assert {"Backup.xml", "bkupInfo.xml", "manifest.xml", "ScheduledTasks.xml", "*.mof", "registry.pol",
            "Import-MdeGpo.ps1", "HANDOFF.md"} <= kinds


def test_exact_clsids_and_namespaces(tmp_path):
    kit = _kit(tmp_path)
    tasks = [p for p in kit if p.endswith("ScheduledTasks.xml")]
    assert len(tasks) == 3                        # two targets and the offboarding GPO
    for p in tasks:
        root = etree.fromstring(kit[p])
        assert root.tag == "ScheduledTasks" and root.get("clsid") == "{CC63F200-7309-4ba0-B154-A71CD118DBCC}"
        (item,) = root
        assert item.tag == "ImmediateTaskV2" and item.get("clsid") == "{9756B581-76EC-4169-9AFC-0CA8D43ADB5F}"
        props = item.find("Properties")
        assert (props.get("runAs"), props.get("logonType")) == ("NT AUTHORITY\\System", "S4U")
        assert item.findtext(".//RunLevel") == "HighestAvailable"
        assert gpp_tasks.loads(kit[p])[0]["command"].endswith(".cmd")
    for p in (p for p in kit if p.endswith("Backup.xml")):
        root = etree.fromstring(kit[p])
        assert root.tag == "{http://www.microsoft.com/GroupPolicy/GPOOperations}GroupPolicyBackupScheme"
        guids = root.findtext(".//{*}MachineExtensionGuids")
        assert "[{00000000-0000-0000-0000-000000000000}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]" in guids
        assert "[{AADCED64-746C-4633-A97C-D61349046527}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]" in guids
    manifest = etree.fromstring(kit["GPOs/manifest.xml"])
    assert manifest.tag == "{http://www.microsoft.com/GroupPolicy/GPOOperations/Manifest}Backups"


def test_backup_folders_match_their_ids(tmp_path):
    kit = _kit(tmp_path)
    for p in (p for p in kit if p.endswith("bkupInfo.xml")):
        folder = p.split("/")[1]
        assert etree.fromstring(kit[p]).findtext("{*}ID") == folder


def test_onboarding_gpo_holds_registry_and_task_together(tmp_path):
    kit = _kit(tmp_path)
    folders = {p.split("/")[1] for p in kit if p.startswith("GPOs/{")}
    with_pol = {p.split("/")[1] for p in kit if p.endswith("registry.pol")}
    with_task = {p.split("/")[1] for p in kit if p.endswith("ScheduledTasks.xml")}
    assert len(folders) == 3 and with_task == folders and len(with_pol) == 2   # offboarding: task only


def test_share_holds_the_portal_scripts_byte_exact(tmp_path):
    kit = _kit(tmp_path)
    assert kit["share/WindowsDefenderATPOnboardingScript.cmd"] == synthetic.onboarding_script()
    assert kit["share/off.cmd"] == synthetic.offboarding_script(expires=OFF_EXPIRES)
    assert "Read" in kit["share/README.txt"].decode()


def test_offboarding_gpo_name_carries_expiry_and_warning(tmp_path):
    kit = _kit(tmp_path)
    names = [etree.fromstring(kit[p]).findtext("{*}GPODisplayName") for p in kit if p.endswith("bkupInfo.xml")]
    (off,) = [n for n in names if "Offboarding" in n]
    assert "2099-01-31" in off and "never link" in off


def test_two_runs_identical(tmp_path):
    assert _kit(tmp_path) == _kit(tmp_path)


def test_changing_one_target_changes_only_its_files(tmp_path, monkeypatch):
    before = _kit(tmp_path)
    monkeypatch.setattr(__import__(__name__), "BASE",
                        BASE.replace("    os: [2025]\n", "    os: [2025]\n    settings: {passive_mode: false}\n"))
    after = _kit(tmp_path)
    diff = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    # Only the changed target's backup folder, and the kit-wide indexes that list every GPO.
    assert len({p.split("/")[1] for p in diff if p.startswith("GPOs/{")}) == 1, diff
    assert {p for p in diff if not p.startswith("GPOs/{")} <= {"HANDOFF.md", "GPOs/manifest.xml", "Import-MdeGpo.ps1"}
    assert any(p.endswith("registry.pol") for p in diff)


def test_passive_mode_beside_features_it_disables_is_warned(tmp_path):
    (tmp_path / "on.zip").write_bytes(synthetic.onboarding_zip())
    text = BASE.replace("  offboarding: off.cmd\n", "")
    for key, default in DEFAULTS.items():
        text = text.replace(key, json.dumps(default), 1)
    text = text.replace("  device_tag:", "  pua_protection: block\n  device_tag:")
    cfg = config_mod.loads(text, source="mdegen.yaml", base_dir=tmp_path)
    warnings = scenarios.project_of(cfg, kits.GPO, today=TODAY).warnings
    assert len(warnings) == 2 and all("pua_protection" in w for w in warnings)   # both targets
    off = config_mod.loads(text.replace("passive_mode: true", "passive_mode: false"), source="x", base_dir=tmp_path)
    assert scenarios.project_of(off, kits.GPO, today=TODAY).warnings == ()


def test_offboarding_link_refused_where_an_onboarding_gpo_already_applies(tmp_path):
    script = _kit(tmp_path)["Import-MdeGpo.ps1"].decode("utf-8-sig")
    guard = script.index("InheritedGpoLinks")
    link = script.index("New-GPLink", guard)
    assert "Stop-Import" in script[guard:link]          # the check stops before any link is made
