"""Tests for generator.formats.gpo_backup (GPMC backup files) and generator.formats.gpp_tasks
(GPP ScheduledTasks.xml).

The real GPMC backup and the GPP sample are read from the shared reference folder next to the
repository when it exists; those comparisons skip cleanly without it.  Every difference from the
real backup that is intended is listed in INTENDED_* below, so a new difference fails.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import replace
from pathlib import Path, PureWindowsPath

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from generator.records import GpoDefinition, ImmediateTask, WmiFilter, braced
from generator.errors import MdegenError
from generator.formats import gpo_backup, gpp_tasks, regpol
from generator.formats.gpo_backup import GpoBackupError
from generator.formats.gpp_tasks import GppTasksError

SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLES = SHARED / "reference" / "samples"
GPMC_ROOT = SAMPLES / "gpo-backup-sample" / "GPOs" / "BasicSecDefender"
GPMC_BACKUP = GPMC_ROOT / "{72D1AD12-B481-44E3-9529-AC7C658508B2}"
GPP_SAMPLE = SAMPLES / "gpp-scheduledtasks-sample" / "ADTierGuard-ScheduledTasks.xml"

BNS = "{http://www.microsoft.com/GroupPolicy/GPOOperations}"
MNS = "{http://www.microsoft.com/GroupPolicy/GPOOperations/Manifest}"
DECL = b'<?xml version="1.0" encoding="utf-8"?>'

CORE = "[{00000000-0000-0000-0000-000000000000}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]"
REGISTRY = "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]"
TASKS_XML = "DomainSysvol/GPO/Machine/Preferences/ScheduledTasks/ScheduledTasks.xml"
TASKS = "[{AADCED64-746C-4633-A97C-D61349046527}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]"

GPO_ID = uuid.UUID("3f2504e0-4f89-41d3-9a0c-0305e82c3301")
BACKUP_ID = uuid.UUID("9a7c1e55-2b6d-4c1a-8e0f-44d1b2c3a4e5")
TASK_UID = uuid.UUID("c0ffee00-1234-4abc-9def-0123456789ab")

PASSIVE_POL = regpol.dumps([regpol.PolEntry.dword(
    "Software\\Policies\\Microsoft\\Windows Advanced Threat Protection",
    "ForceDefenderPassiveMode", 1)])

# Differences from the real GPMC backup that are intended (see gpo_backup's module doc).
INTENDED_MISSING_OBJECT_CHILDREN = ["SecurityGroups"]       # DACL principals: none to record
INTENDED_MISSING_FS_ATTRIBUTES = {"SourceExpandedPath"}     # no source DC path exists
INTENDED_MISSING_FILES = {"gpreport.xml", "DomainSysvol/GPO/Machine/comment.cmtx"}
INTENDED_ADDED_FILES = {TASKS_XML}
INTENDED_EMPTY_CORE = {"SecurityDescriptor"}                # GPMC writes the source GPO's SD
INTENDED_MISSING_ADM_ENTRY = "%GPO_FSPATH%\\Adm\\*.*"       # has no Location: nothing restored
INTENDED_VALUE_DIFFERENCES = {"GPODomainGuid": gpo_backup.NIL_DOMAIN_GUID,
                              "GPODomainController": ""}    # source domain unknown


def make_task(**changes: object) -> ImmediateTask:
    task = ImmediateTask(
        name="Contoso MDE onboarding",
        uid=TASK_UID,
        command="\\\\fs01.contoso.example\\MDE\\WindowsDefenderATPOnboardingScript.cmd",
        arguments="",
        description="Runs the Defender for Endpoint onboarding script once as SYSTEM.",
        author="mdegen",
        changed=dt.datetime(2025, 3, 14, 9, 26, 53),
    )
    return replace(task, **changes)


_PASSIVE = object()


def make_gpo(*, registry_pol: bytes | None | object = _PASSIVE, task: ImmediateTask | None = None,
             **changes: object) -> GpoDefinition:
    """A GPO with a policy part (``registry_pol``'s entries; None: no policy part) and a task part."""
    pol = PASSIVE_POL if registry_pol is _PASSIVE else registry_pol
    parts = [gpo_backup.policy_part(regpol.loads(pol))] if pol is not None else []
    parts.append(gpo_backup.scheduled_tasks_part([task or make_task()]))
    gpo = GpoDefinition(
        role="onboarding",
        target_name="Windows Server 2019+",
        display_name="Contoso - MDE onboarding (Windows Server 2019+)",
        description="Onboards Windows Server 2019 and later to Microsoft Defender for Endpoint.",
        gpo_id=GPO_ID,
        backup_id=BACKUP_ID,
        backup_time=dt.datetime(2025, 3, 14, 9, 26, 53),
        domain="contoso.example",
        parts=tuple(parts),
        wmi_filter=WmiFilter(id=uuid.UUID(int=7), name="Server 2019+", description="",
                             query="SELECT * FROM Win32_OperatingSystem WHERE ProductType<>1"),
    )
    return replace(gpo, **changes)


def files_of(gpo: GpoDefinition) -> dict[str, bytes]:
    return {f.path: f.data for f in gpo_backup.backup_files(gpo)}


def rel(files: dict[str, bytes], name: str) -> bytes:
    return files[f"{braced(BACKUP_ID)}/{name}"]


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def tags(el: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in el if isinstance(c.tag, str)]


def cdata_elements(data: bytes, container: bytes) -> set[str]:
    """Names of the elements inside <container> whose content is a CDATA section."""
    start = data.index(b"<" + container + b">")
    end = data.index(b"</" + container + b">")
    return {m.decode() for m in re.findall(rb"<(\w+)><!\[CDATA\[", data[start:end])}


def empty_elements(data: bytes, container: bytes) -> set[str]:
    start = data.index(b"<" + container + b">")
    end = data.index(b"</" + container + b">")
    region = data[start:end]
    return ({m.decode() for m in re.findall(rb"<(\w+)/>", region)}
            | {m.decode() for m in re.findall(rb"<(\w+)></\1>", region)})


def short(attr: str) -> str:
    return etree.QName(attr).localname


@pytest.fixture
def gpmc() -> Path:
    if not GPMC_BACKUP.is_dir():
        pytest.skip("../shared GPMC backup sample is not present")
    return GPMC_BACKUP


@pytest.fixture
def gpp_sample() -> bytes:
    if not GPP_SAMPLE.is_file():
        pytest.skip("../shared GPP ScheduledTasks sample is not present")
    return GPP_SAMPLE.read_bytes()


# ---------------------------------------------------------------------------------------------
# (a) element-by-element comparison with the real GPMC backup
# ---------------------------------------------------------------------------------------------

def test_backup_xml_root_matches_gpmc(gpmc: Path) -> None:
    real_bytes = (gpmc / "Backup.xml").read_bytes()
    ours_bytes = rel(files_of(make_gpo()), "Backup.xml")
    real, ours = parse(real_bytes), parse(ours_bytes)
    assert ours.tag == real.tag == f"{BNS}GroupPolicyBackupScheme"
    assert ours.nsmap == real.nsmap
    assert dict(ours.attrib) == dict(real.attrib) == {
        f"{BNS}version": "2.0", f"{BNS}type": "GroupPolicyBackupTemplate"}
    # Same declaration bytes, no BOM; GPMC's copyright comment is intentionally not copied.
    assert real_bytes.startswith(DECL) and ours_bytes.startswith(DECL)
    assert ours_bytes[len(DECL):].startswith(b"<GroupPolicyBackupScheme ")
    assert b"<!--" not in ours_bytes
    # Same outer layout: root line, GroupPolicyObject on its own indented line, closing tag last.
    assert b"\n    <GroupPolicyObject>" in real_bytes and b"\n    <GroupPolicyObject>" in ours_bytes
    assert real_bytes.endswith(b"</GroupPolicyObject>\n</GroupPolicyBackupScheme>")
    assert ours_bytes.endswith(b"</GroupPolicyObject>\n</GroupPolicyBackupScheme>")
    assert b"\r" not in ours_bytes


@pytest.mark.parametrize("with_pol", [True, False])
def test_backup_xml_object_children_match_gpmc(gpmc: Path, with_pol: bool) -> None:
    real = parse((gpmc / "Backup.xml").read_bytes())
    gpo = make_gpo() if with_pol else make_gpo(registry_pol=None)
    ours = parse(rel(files_of(gpo), "Backup.xml"))
    assert tags(real) == tags(ours) == ["GroupPolicyObject"]
    real_children = tags(real[0])
    assert real_children == ["SecurityGroups", "FilePaths", "GroupPolicyCoreSettings",
                             "GroupPolicyExtension", "GroupPolicyExtension"]
    expected = [t for t in real_children if t not in INTENDED_MISSING_OBJECT_CHILDREN]
    if not with_pol:
        expected.remove("GroupPolicyExtension")          # no Registry block without registry.pol
    assert tags(ours[0]) == expected
    assert ours[0].find(f"{BNS}FilePaths") is not None and len(ours[0].find(f"{BNS}FilePaths")) == 0


def test_core_settings_match_gpmc(gpmc: Path) -> None:
    real_bytes = (gpmc / "Backup.xml").read_bytes()
    ours_bytes = rel(files_of(make_gpo()), "Backup.xml")
    real_core = parse(real_bytes).find(f"{BNS}GroupPolicyObject/{BNS}GroupPolicyCoreSettings")
    ours_core = parse(ours_bytes).find(f"{BNS}GroupPolicyObject/{BNS}GroupPolicyCoreSettings")
    assert tags(ours_core) == tags(real_core) == [
        "ID", "Domain", "SecurityDescriptor", "DisplayName", "Options", "UserVersionNumber",
        "MachineVersionNumber", "MachineExtensionGuids", "UserExtensionGuids", "WMIFilter"]
    # CDATA exactly where GPMC uses it.
    core = b"GroupPolicyCoreSettings"
    assert cdata_elements(ours_bytes, core) == cdata_elements(real_bytes, core) == {
        "ID", "Domain", "DisplayName", "Options", "UserVersionNumber", "MachineVersionNumber",
        "MachineExtensionGuids"}
    # Empty elements: GPMC's plus the SD we cannot know.
    assert (empty_elements(ours_bytes, core)
            == empty_elements(real_bytes, core) | INTENDED_EMPTY_CORE)
    for el in ours_core:
        if etree.QName(el).localname in INTENDED_EMPTY_CORE | {"UserExtensionGuids", "WMIFilter"}:
            assert not el.text and len(el) == 0 and not el.attrib
    # Value formats of GPMC: braced upper-case GUID, versions (hi == lo).
    assert re.fullmatch(r"\{[0-9A-F-]{36}\}", real_core.findtext(f"{BNS}ID"))
    for el in (real_core, ours_core):
        for name in ("UserVersionNumber", "MachineVersionNumber"):
            value = int(el.findtext(f"{BNS}{name}"))
            assert value >> 16 == value & 0xFFFF


def test_core_settings_values() -> None:
    gpo = make_gpo()
    core = parse(rel(files_of(gpo), "Backup.xml")).find(
        f"{BNS}GroupPolicyObject/{BNS}GroupPolicyCoreSettings")
    values = {etree.QName(c).localname: (c.text or "") for c in core}
    assert values == {
        "ID": "{3F2504E0-4F89-41D3-9A0C-0305E82C3301}",
        "Domain": "contoso.example",
        "SecurityDescriptor": "",
        "DisplayName": gpo.display_name,
        "Options": "1",
        "UserVersionNumber": "0",
        "MachineVersionNumber": "65537",
        "MachineExtensionGuids": CORE + REGISTRY + TASKS,
        "UserExtensionGuids": "",
        "WMIFilter": "",                     # attached by the import script, even with a filter
    }


def _fs_objects(root: etree._Element) -> dict[str, list[etree._Element]]:
    blocks = root.findall(f"{BNS}GroupPolicyObject/{BNS}GroupPolicyExtension")
    return {b.get(f"{BNS}ID"): b for b in blocks}


def test_extension_blocks_match_gpmc(gpmc: Path) -> None:
    real = _fs_objects(parse((gpmc / "Backup.xml").read_bytes()))
    ours = _fs_objects(parse(rel(files_of(make_gpo()), "Backup.xml")))
    assert list(ours) == list(real) == [gpo_backup.REGISTRY_CSE, gpo_backup.UNKNOWN_EXTENSION]
    for cse, block in ours.items():
        assert set(block.attrib) == set(real[cse].attrib) == {f"{BNS}ID", f"{BNS}DescName"}
        assert block.get(f"{BNS}DescName") == real[cse].get(f"{BNS}DescName")
    real_names = {"Registry", "Unknown Extension"}
    assert {b.get(f"{BNS}DescName") for b in ours.values()} == real_names
    # Registry block: GPMC's registry.pol entry (minus SourceExpandedPath), not the Adm entry.
    def entries(block: etree._Element) -> list[tuple[str, dict[str, str]]]:
        return [(e.tag, {short(a): v for a, v in e.attrib.items()}) for e in block]

    real_reg = entries(real[gpo_backup.REGISTRY_CSE])
    ours_reg = entries(ours[gpo_backup.REGISTRY_CSE])
    expected = [(t, {k: v for k, v in a.items() if k not in INTENDED_MISSING_FS_ATTRIBUTES})
                for t, a in real_reg if a["Path"] != INTENDED_MISSING_ADM_ENTRY]
    assert ours_reg == expected == [(f"{BNS}FSObjectFile", {
        "Path": "%GPO_MACH_FSPATH%\\registry.pol",
        "Location": "DomainSysvol\\GPO\\Machine\\registry.pol"})]
    # Every FSObject of ours has GPMC's attributes in GPMC's order, minus the intended ones.
    real_order = [short(a) for a in real[gpo_backup.UNKNOWN_EXTENSION][0].attrib]
    assert real_order == ["Path", "SourceExpandedPath", "Location"]
    for block in ours.values():
        for el in block:
            assert etree.QName(el).localname in {"FSObjectFile", "FSObjectDir"}
            assert [short(a) for a in el.attrib] == [
                a for a in real_order if a not in INTENDED_MISSING_FS_ATTRIBUTES]


def test_unknown_extension_entries_are_gpmc_preferences_entries() -> None:
    ours = _fs_objects(parse(rel(files_of(make_gpo()), "Backup.xml")))
    entries = [(etree.QName(e).localname, e.get(f"{BNS}Path"), e.get(f"{BNS}Location"))
               for e in ours[gpo_backup.UNKNOWN_EXTENSION]]
    assert entries == [
        ("FSObjectDir", "%GPO_MACH_FSPATH%\\Preferences",
         "DomainSysvol\\GPO\\Machine\\Preferences"),
        ("FSObjectDir", "%GPO_MACH_FSPATH%\\Preferences\\ScheduledTasks",
         "DomainSysvol\\GPO\\Machine\\Preferences\\ScheduledTasks"),
        ("FSObjectFile", "%GPO_MACH_FSPATH%\\Preferences\\ScheduledTasks\\ScheduledTasks.xml",
         "DomainSysvol\\GPO\\Machine\\Preferences\\ScheduledTasks\\ScheduledTasks.xml"),
    ]


def _listed_locations(backup_xml: bytes) -> tuple[set[str], set[str]]:
    root = parse(backup_xml)
    files, dirs = set(), set()
    for el in root.iter(f"{BNS}FSObjectFile", f"{BNS}FSObjectDir"):
        loc = el.get(f"{BNS}Location")
        if loc is None:
            continue
        path = el.get(f"{BNS}Path")
        # GPMC's rule: Path token + tail == Location prefix + same tail.
        assert path.startswith("%GPO_MACH_FSPATH%\\")
        assert loc.startswith("DomainSysvol\\GPO\\Machine\\")
        assert path.split("\\", 1)[1] == loc.split("\\", 3)[3]
        posix = PureWindowsPath(loc).as_posix()
        (files if etree.QName(el).localname == "FSObjectFile" else dirs).add(posix)
    return files, dirs


def test_files_match_gpmc_and_are_listed(gpmc: Path) -> None:
    real = {p.relative_to(gpmc).as_posix() for p in gpmc.rglob("*") if p.is_file()}
    ours_files = files_of(make_gpo())
    prefix = braced(BACKUP_ID) + "/"
    assert all(p.startswith(prefix) for p in ours_files)
    ours = {p[len(prefix):] for p in ours_files}
    assert ours == (real - INTENDED_MISSING_FILES) | INTENDED_ADDED_FILES
    # Every payload file is listed in Backup.xml, every listed dir is a parent of a file - in
    # GPMC's backup and in ours.
    for names, backup in ((real, (gpmc / "Backup.xml").read_bytes()),
                          (ours, rel(ours_files, "Backup.xml"))):
        files, dirs = _listed_locations(backup)
        payload = {n for n in names if n.startswith("DomainSysvol/")}
        assert files == payload
        assert all(any(f.startswith(d + "/") for f in files) for d in dirs)


def test_bkupinfo_matches_gpmc(gpmc: Path) -> None:
    real_bytes = (gpmc / "bkupInfo.xml").read_bytes()
    ours_bytes = rel(files_of(make_gpo()), "bkupInfo.xml")
    real, ours = parse(real_bytes), parse(ours_bytes)
    assert ours.tag == real.tag == f"{MNS}BackupInst"
    assert ours.nsmap == real.nsmap and dict(ours.attrib) == dict(real.attrib) == {}
    assert tags(ours) == tags(real) == ["GPOGuid", "GPODomain", "GPODomainGuid",
                                        "GPODomainController", "BackupTime", "ID", "Comment",
                                        "GPODisplayName"]
    # All children CDATA, single line, no declaration, one trailing LF - as GPMC.
    for data in (real_bytes, ours_bytes):
        assert re.findall(rb"<(\w+)><!\[CDATA\[", data) == [t.encode() for t in tags(real)]
        assert not data.startswith(b"<?xml") and data.startswith(b"<BackupInst ")
        assert data.count(b"\n") == 1 and data.endswith(b"</BackupInst>\n")
    # Value formats: GPMC writes the domain GUID braced lower-case, the time without zone.
    for el in (real, ours):
        assert re.fullmatch(r"\{[0-9a-f-]{36}\}", el.findtext(f"{MNS}GPODomainGuid"))
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", el.findtext(f"{MNS}BackupTime"))
    values = {etree.QName(c).localname: c.text or "" for c in ours}
    for name, value in INTENDED_VALUE_DIFFERENCES.items():
        assert values[name] == value


def test_manifest_matches_gpmc(gpmc: Path) -> None:
    real_bytes = (GPMC_ROOT / "manifest.xml").read_bytes()
    ours_bytes = gpo_backup.manifest_xml([make_gpo()])
    real, ours = parse(real_bytes), parse(ours_bytes)
    assert ours.tag == real.tag == f"{MNS}Backups"
    assert ours.nsmap == real.nsmap
    assert dict(ours.attrib) == dict(real.attrib) == {f"{MNS}version": "1.0"}
    assert tags(ours) == tags(real) == ["BackupInst"]
    assert tags(ours[0]) == tags(real[0]) == tags(parse((gpmc / "bkupInfo.xml").read_bytes()))
    for data in (real_bytes, ours_bytes):
        assert b"<BackupInst>" in data                       # no own xmlns on BackupInst
        assert not data.startswith(b"<?xml") and b"\n" not in data and data.endswith(b"</Backups>")
        assert len(re.findall(rb"<!\[CDATA\[", data)) == 8


def test_gpmc_sample_ids_agree(gpmc: Path) -> None:
    """The rule the generator follows holds in the real backup: folder == <ID> == manifest ID."""
    info = parse((gpmc / "bkupInfo.xml").read_bytes())
    manifest = parse((GPMC_ROOT / "manifest.xml").read_bytes())
    assert info.findtext(f"{MNS}ID") == gpmc.name == manifest.findtext(f"{MNS}BackupInst/{MNS}ID")
    backup = parse((gpmc / "Backup.xml").read_bytes())
    assert (backup.findtext(f".//{BNS}GroupPolicyCoreSettings/{BNS}ID")
            == info.findtext(f"{MNS}GPOGuid"))


# ---------------------------------------------------------------------------------------------
# (b) identifiers agree
# ---------------------------------------------------------------------------------------------

def test_folder_name_equals_ids() -> None:
    gpo = make_gpo()
    files = files_of(gpo)
    folders = {p.split("/", 1)[0] for p in files}
    assert folders == {"{9A7C1E55-2B6D-4C1A-8E0F-44D1B2C3A4E5}"}
    folder = folders.pop()
    info = parse(files[f"{folder}/bkupInfo.xml"])
    manifest = parse(gpo_backup.manifest_xml([gpo]))
    assert info.findtext(f"{MNS}ID") == folder == manifest.findtext(f"{MNS}BackupInst/{MNS}ID")
    backup = parse(files[f"{folder}/Backup.xml"])
    assert (backup.findtext(f".//{BNS}GroupPolicyCoreSettings/{BNS}ID")
            == info.findtext(f"{MNS}GPOGuid") == braced(GPO_ID))
    assert (backup.findtext(f".//{BNS}GroupPolicyCoreSettings/{BNS}DisplayName")
            == info.findtext(f"{MNS}GPODisplayName") == gpo.display_name)


def test_bkupinfo_exact_bytes() -> None:
    assert rel(files_of(make_gpo()), "bkupInfo.xml") == (
        b'<BackupInst xmlns="http://www.microsoft.com/GroupPolicy/GPOOperations/Manifest">'
        b"<GPOGuid><![CDATA[{3F2504E0-4F89-41D3-9A0C-0305E82C3301}]]></GPOGuid>"
        b"<GPODomain><![CDATA[contoso.example]]></GPODomain>"
        b"<GPODomainGuid><![CDATA[{00000000-0000-0000-0000-000000000000}]]></GPODomainGuid>"
        b"<GPODomainController><![CDATA[]]></GPODomainController>"
        b"<BackupTime><![CDATA[2025-03-14T09:26:53]]></BackupTime>"
        b"<ID><![CDATA[{9A7C1E55-2B6D-4C1A-8E0F-44D1B2C3A4E5}]]></ID>"
        b"<Comment><![CDATA[Onboards Windows Server 2019 and later to Microsoft Defender for "
        b"Endpoint.]]></Comment>"
        b"<GPODisplayName><![CDATA[Contoso - MDE onboarding (Windows Server 2019+)]]>"
        b"</GPODisplayName></BackupInst>\n")


def test_manifest_lists_several_backups_in_order() -> None:
    a = make_gpo()
    b = make_gpo(display_name="Contoso - MDE offboarding", role="offboarding", target_name=None,
                 gpo_id=uuid.UUID(int=11), backup_id=uuid.UUID(int=12), registry_pol=None)
    root = parse(gpo_backup.manifest_xml([a, b]))
    assert [i.findtext(f"{MNS}ID") for i in root] == [braced(a.backup_id), braced(b.backup_id)]
    with pytest.raises(GpoBackupError, match="already used"):
        gpo_backup.manifest_xml([a, replace(b, backup_id=a.backup_id)])


def test_registry_pol_unchanged_or_absent() -> None:
    files = files_of(make_gpo())
    assert rel(files, "DomainSysvol/GPO/Machine/registry.pol") == PASSIVE_POL
    no_pol = files_of(make_gpo(registry_pol=None))
    assert not any(p.endswith("registry.pol") for p in no_pol)
    assert b"registry.pol" not in rel(no_pol, "Backup.xml")
    assert b'bkp:DescName="Registry"' not in rel(no_pol, "Backup.xml")
    # A policy part is made from entries, so its registry.pol is valid by construction; an empty
    # one (a header-only file, outside the grammar) cannot be made.
    with pytest.raises(GpoBackupError, match="at least one"):
        gpo_backup.policy_part([])


def test_two_parts_cannot_write_one_file() -> None:
    gpo = make_gpo()
    with pytest.raises(GpoBackupError, match="two parts write"):
        gpo_backup.backup_files(replace(gpo, parts=gpo.parts + gpo.parts[-1:]))


def test_scheduled_tasks_file_is_the_task() -> None:
    data = rel(files_of(make_gpo()), TASKS_XML)
    assert data == gpp_tasks.dumps([make_task()])


# ---------------------------------------------------------------------------------------------
# (c) extension GUID strings
# ---------------------------------------------------------------------------------------------

def test_extension_guids_exact() -> None:
    with_pol = gpo_backup.machine_extension_pairs(make_gpo())
    tasks_only = gpo_backup.machine_extension_pairs(make_gpo(registry_pol=None))
    assert gpo_backup.extension_guids(with_pol) == (
        "[{00000000-0000-0000-0000-000000000000}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]"
        "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]"
        "[{AADCED64-746C-4633-A97C-D61349046527}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]")
    assert gpo_backup.extension_guids(tasks_only) == (
        "[{00000000-0000-0000-0000-000000000000}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]"
        "[{AADCED64-746C-4633-A97C-D61349046527}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]")
    backup = parse(rel(files_of(make_gpo(registry_pol=None)), "Backup.xml"))
    assert backup.findtext(f".//{BNS}MachineExtensionGuids") == CORE + TASKS


def test_extension_guids_merging_and_normalising() -> None:
    drives_tool = "2ea1a81b-48e5-45e9-8bb7-a6e3ac170006"
    pairs = [
        (uuid.UUID("aadced64-746c-4633-a97c-d61349046527"),
         "{cab54552-deea-4691-817e-ed4a4d1afc72}"),
        ("{00000000-0000-0000-0000-000000000000}", gpo_backup.GPP_TOOL),
        ("{00000000-0000-0000-0000-000000000000}", drives_tool),          # second tool, same CSE
        ("{00000000-0000-0000-0000-000000000000}", gpo_backup.GPP_TOOL),  # duplicate
    ]
    assert gpo_backup.extension_guids(pairs) == (
        "[{00000000-0000-0000-0000-000000000000}{2EA1A81B-48E5-45E9-8BB7-A6E3AC170006}"
        "{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]" + TASKS)
    assert gpo_backup.extension_guids([]) == ""
    with pytest.raises(GpoBackupError, match="not a GUID"):
        gpo_backup.extension_guids([("{nope}", gpo_backup.GPP_TOOL)])
    with pytest.raises(GpoBackupError, match="expected"):
        gpo_backup.extension_guids([("only one",)])


@given(st.lists(st.tuples(st.uuids(), st.uuids()), max_size=8), st.randoms())
def test_extension_guids_order_independent_and_sorted(pairs, rnd) -> None:
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    text = gpo_backup.extension_guids(pairs)
    assert text == gpo_backup.extension_guids(shuffled)
    groups = re.findall(r"\[([^\]]*)\]", text)
    cses = [g[:38] for g in groups]
    assert cses == sorted(cses) and len(set(cses)) == len(cses)
    for g in groups:
        tools = re.findall(r"\{[^}]*\}", g[38:])
        assert tools == sorted(set(tools)) and tools
    # Upper-case string order is the GUIDs' numeric order.
    assert [uuid.UUID(c) for c in cses] == sorted(uuid.UUID(c) for c in cses)


def test_version_number() -> None:
    assert gpo_backup.version_number(0) == 0
    assert gpo_backup.version_number(1) == 65537
    assert gpo_backup.version_number(5) == 327685          # the sample's MachineVersionNumber
    with pytest.raises(GpoBackupError):
        gpo_backup.version_number(0x10000)


# ---------------------------------------------------------------------------------------------
# (d) ScheduledTasks.xml
# ---------------------------------------------------------------------------------------------

def test_scheduled_tasks_exact_values() -> None:
    data = gpp_tasks.dumps([make_task()])
    text = data.decode("utf-8")
    assert 'clsid="{CC63F200-7309-4ba0-B154-A71CD118DBCC}"' in text
    assert 'clsid="{9756B581-76EC-4169-9AFC-0CA8D43ADB5F}"' in text
    root = parse(data)
    assert root.tag == "ScheduledTasks" and root.get("clsid") == gpp_tasks.ROOT_CLSID
    (item,) = root
    assert item.tag == "ImmediateTaskV2"
    assert dict(item.attrib) == {
        "clsid": "{9756B581-76EC-4169-9AFC-0CA8D43ADB5F}", "name": "Contoso MDE onboarding",
        "image": "0", "changed": "2025-03-14 09:26:53",
        "uid": "{C0FFEE00-1234-4ABC-9DEF-0123456789AB}", "userContext": "0", "removePolicy": "0"}
    props = item.find("Properties")
    assert dict(props.attrib) == {"action": "C", "name": "Contoso MDE onboarding",
                                  "runAs": "NT AUTHORITY\\System", "logonType": "S4U"}
    task = props.find("Task")
    assert task.get("version") == "1.3"
    assert tags(task) == ["RegistrationInfo", "Principals", "Settings", "Triggers", "Actions"]
    assert task.findtext("RegistrationInfo/Author") == "mdegen"
    principal = task.find("Principals/Principal")
    assert principal.get("id") == "Author"
    assert [(c.tag, c.text) for c in principal] == [
        ("UserId", "NT AUTHORITY\\System"), ("LogonType", "S4U"), ("RunLevel", "HighestAvailable")]
    settings_el = task.find("Settings")
    assert [(c.tag, c.text) for c in settings_el if c.tag != "IdleSettings"] == [
        ("MultipleInstancesPolicy", "IgnoreNew"), ("DisallowStartIfOnBatteries", "false"),
        ("StopIfGoingOnBatteries", "false"), ("AllowHardTerminate", "true"),
        ("StartWhenAvailable", "true"), ("AllowStartOnDemand", "true"), ("Enabled", "true"),
        ("Hidden", "false"), ("ExecutionTimeLimit", "PT1H"), ("Priority", "7"),
        ("DeleteExpiredTaskAfter", "PT0S")]
    assert tags(settings_el)[0] == "IdleSettings"
    assert [(c.tag, c.text) for c in settings_el.find("IdleSettings")] == [
        ("Duration", "PT5M"), ("WaitTimeout", "PT1H"), ("StopOnIdleEnd", "false"),
        ("RestartOnIdle", "false")]
    trigger = task.find("Triggers/TimeTrigger")
    assert [(c.tag, c.text) for c in trigger] == [
        ("StartBoundary", "%LocalTimeXmlEx%"), ("EndBoundary", "%LocalTimeXmlEx%"),
        ("Enabled", "true")]
    assert len(task.find("Triggers")) == 1
    actions = task.find("Actions")
    assert actions.get("Context") == "Author"
    assert [(c.tag, c.text) for c in actions.find("Exec")] == [
        ("Command", "\\\\fs01.contoso.example\\MDE\\WindowsDefenderATPOnboardingScript.cmd"),
        ("Arguments", None)]
    assert "<Arguments></Arguments>" in text            # GPMC writes empty values open/close


def test_scheduled_tasks_layout_bytes() -> None:
    data = gpp_tasks.dumps([make_task(description="line one\nline two")])
    assert data.startswith(DECL + b"\r\n<ScheduledTasks clsid=")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"</ImmediateTaskV2>\r\n</ScheduledTasks>")
    assert data.count(b"\n") == data.count(b"\r\n") == 3   # decl, inside description, before end
    body = data.split(b"\r\n")
    assert len(body) == 4 and body[1].startswith(b"<ScheduledTasks ")
    assert gpp_tasks.loads(data)[0]["description"] == "line one\nline two"


SPECIAL = "& ' \" < > $ % ;"


def test_escaping_round_trip() -> None:
    task = make_task(
        name=f"MDE {SPECIAL} onboarding %ComputerName%",
        command=f"\\\\fs01.contoso.example\\MDE share {SPECIAL.replace(chr(34), '')}\\run it.cmd",
        arguments=f'-File "C:\\a b\\x.ps1" -Tag {SPECIAL} ]]> --',
        description=f"Tab\there {SPECIAL} ]]> <![CDATA[ x ]]> &amp; \r\n\"end\"",
        author=f"CONTOSO\\{SPECIAL}",
    )
    data = gpp_tasks.dumps([task])
    item = parse(data)[0]
    exec_ = item.find("Properties/Task/Actions/Exec")
    assert item.get("name") == item.find("Properties").get("name") == task.name
    assert exec_.findtext("Command") == f'"{task.command}"'      # quoted: the path has spaces
    assert exec_.findtext("Arguments") == task.arguments
    assert item.findtext("Properties/Task/RegistrationInfo/Description") == task.description
    assert item.findtext("Properties/Task/RegistrationInfo/Author") == task.author
    (read,) = gpp_tasks.loads(data)
    assert ImmediateTask(**{k: read[k] for k in gpp_tasks.TASK_FIELDS}) == task
    assert b"&amp;" in data and b"&lt;" in data and b"&quot;" in data


def test_command_quoting() -> None:
    def command_of(cmd: str) -> str:
        return parse(gpp_tasks.dumps([make_task(command=cmd)])).findtext(".//Exec/Command")

    assert command_of("powershell.exe") == "powershell.exe"
    assert command_of("\\\\fs\\MDE\\Onboard.cmd") == "\\\\fs\\MDE\\Onboard.cmd"
    assert command_of("\\\\fs\\MDE kit\\Onboard.cmd") == '"\\\\fs\\MDE kit\\Onboard.cmd"'
    assert command_of("C:\\Program Files\\x y.exe") == '"C:\\Program Files\\x y.exe"'
    with pytest.raises(GppTasksError, match="U\\+0009"):
        gpp_tasks.dumps([make_task(command="C:\\x\ty.exe")])
    assert gpp_tasks.unquote_command('"a b"') == "a b" and gpp_tasks.unquote_command("a") == "a"
    with pytest.raises(GppTasksError, match="bare program path"):
        gpp_tasks.dumps([make_task(command='"\\\\fs\\MDE kit\\Onboard.cmd"')])


LINE_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
NAME_CHARS = st.characters(blacklist_categories=("Cs", "Cc"),
                           blacklist_characters="\\/:\ufffe\uffff")
TEXT_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff",
                           whitelist_categories=None).filter(
    lambda c: c in "\t\n" or ord(c) >= 0x20)


@given(
    name=st.text(NAME_CHARS, min_size=1, max_size=40).filter(
        lambda s: s.strip() and s[0] != " " and s not in (".", "..")),
    command=st.text(LINE_CHARS.filter(lambda c: c != '"'), min_size=1, max_size=40).filter(
        lambda s: s.strip() == s and s),
    arguments=st.text(TEXT_CHARS, max_size=60),
    description=st.text(TEXT_CHARS, max_size=60),
    author=st.text(LINE_CHARS, max_size=30),
    changed=st.datetimes(min_value=dt.datetime(1601, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    uid=st.uuids(),
)
def test_round_trip_property(name, command, arguments, description, author, changed, uid) -> None:
    task = ImmediateTask(name=name, uid=uid, command=command, arguments=arguments,
                         description=description, author=author,
                         changed=changed.replace(microsecond=0))
    data = gpp_tasks.dumps([task])
    assert data == gpp_tasks.dumps([task])
    (read,) = gpp_tasks.loads(data)
    assert ImmediateTask(**{k: read[k] for k in gpp_tasks.TASK_FIELDS}) == task


@pytest.mark.parametrize("changes, field", [
    ({"name": ""}, "name"),
    ({"name": " leading"}, "name"),
    ({"name": "a\\b"}, "name"),
    ({"name": "a/b"}, "name"),
    ({"name": "a:b"}, "name"),
    ({"name": ".."}, "name"),
    ({"name": "two\nlines"}, "name"),
    ({"command": ""}, "command"),
    ({"command": " x.cmd"}, "command"),
    ({"command": "a\x07.cmd"}, "command"),
    ({"author": "a\nb"}, "author"),
    ({"arguments": "bell\x07"}, "arguments"),
    ({"description": "nul\x00"}, "description"),
    ({"uid": "not-a-uuid"}, "uid"),
    ({"changed": "2025-01-01"}, "changed"),
])
def test_scheduled_tasks_refusals(changes: dict, field: str) -> None:
    with pytest.raises(GppTasksError, match=rf"task 0.*{field}"):
        gpp_tasks.dumps([make_task(**changes)])


def test_scheduled_tasks_list_checks() -> None:
    with pytest.raises(GppTasksError, match="no task"):
        gpp_tasks.dumps([])
    a, b = make_task(), make_task(name="Other", uid=uuid.UUID(int=1))
    assert [t["name"] for t in gpp_tasks.loads(gpp_tasks.dumps([a, b]))] == [a.name, b.name]
    with pytest.raises(GppTasksError, match="uid.*already used"):
        gpp_tasks.dumps([a, replace(b, uid=a.uid)])
    with pytest.raises(GppTasksError, match="name.*already used"):
        gpp_tasks.dumps([a, replace(b, name=a.name.upper())])
    assert issubclass(GppTasksError, MdegenError) and issubclass(GpoBackupError, MdegenError)


def test_changed_formatting() -> None:
    aware = dt.datetime(2025, 1, 1, 1, 2, 3, 999, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert gpp_tasks.format_changed(aware) == "2024-12-31 23:02:03"
    assert gpp_tasks.format_changed(dt.datetime(987, 6, 5, 4, 3, 2)) == "0987-06-05 04:03:02"


def test_loads_refuses_foreign_bytes() -> None:
    with pytest.raises(GppTasksError, match="well-formed"):
        gpp_tasks.loads(b"<ScheduledTasks")
    with pytest.raises(GppTasksError, match="root element"):
        gpp_tasks.loads(b"<Groups/>")
    with pytest.raises(GppTasksError, match="root clsid"):
        gpp_tasks.loads(b'<ScheduledTasks clsid="{CC63F200-7309-4ba0-B154-A0CE23244B27}"/>')
    with pytest.raises(GppTasksError, match="Properties"):
        gpp_tasks.loads(f'<ScheduledTasks clsid="{gpp_tasks.ROOT_CLSID}"><ImmediateTaskV2/>'
                        "</ScheduledTasks>".encode())
    evil = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<ScheduledTasks clsid="{CC63F200-7309-4ba0-B154-A71CD118DBCC}">&e;</ScheduledTasks>')
    assert gpp_tasks.loads(evil) == []


def test_structure_against_gpp_sample(gpp_sample: bytes) -> None:
    """Element order inside Task/Settings/Principal compared with the shared GPP sample."""
    sample = parse(gpp_sample)
    ours = parse(gpp_tasks.dumps([make_task()]))
    assert ours.tag == sample.tag and ours.get("clsid") == sample.get("clsid")
    s_item, o_item = sample.find("TaskV2"), ours[0]
    # Same item attributes except: sample is a TaskV2 with disabled=, ours an ImmediateTaskV2.
    assert [a for a in s_item.attrib if a != "disabled"] == [
        a for a in o_item.attrib if a not in ("userContext", "removePolicy")]
    s_task, o_task = s_item.find("Properties/Task"), o_item.find("Properties/Task")
    assert list(s_item.find("Properties").attrib) == list(o_item.find("Properties").attrib)
    assert s_item.find("Properties").get("runAs") == o_item.find("Properties").get("runAs")
    assert s_item.find("Properties").get("logonType") == o_item.find("Properties").get("logonType")
    # Intended: Triggers before Actions (GPMC exports); the hand-written sample has them swapped.
    assert tags(s_task) == ["RegistrationInfo", "Principals", "Settings", "Actions", "Triggers"]
    assert tags(o_task) == ["RegistrationInfo", "Principals", "Settings", "Triggers", "Actions"]
    assert tags(s_task.find("RegistrationInfo")) == tags(o_task.find("RegistrationInfo"))
    assert tags(s_task.find("Principals/Principal")) == tags(o_task.find("Principals/Principal"))
    assert tags(s_task.find("Settings/IdleSettings")) == tags(o_task.find("Settings/IdleSettings"))
    assert tags(s_task.find("Actions/Exec")) == tags(o_task.find("Actions/Exec"))
    # Settings: every element both have comes in the same relative order (all sample tasks).
    ours_settings = tags(o_task.find("Settings"))
    for task in sample.iter("Task"):
        theirs = tags(task.find("Settings"))
        common = [t for t in theirs if t in ours_settings]
        assert common == [t for t in ours_settings if t in theirs]
        assert set(ours_settings) - set(theirs) <= {"StartWhenAvailable", "DeleteExpiredTaskAfter"}
    # The reader reads the sample (TaskV2 items, comments ignored).
    read = gpp_tasks.loads(gpp_sample)
    assert len(read) == 5 and {r["item"] for r in read} == {"TaskV2"}
    assert {r["run_as"] for r in read} == {"NT AUTHORITY\\System"}
    assert read[0]["triggers"][0]["type"] == "CalendarTrigger"


# ---------------------------------------------------------------------------------------------
# (e) well-formed, (f) deterministic, encodings
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("with_pol", [True, False])
def test_every_xml_file_is_well_formed(with_pol: bool) -> None:
    gpo = make_gpo() if with_pol else make_gpo(registry_pol=None)
    outputs = dict(files_of(gpo))
    outputs["manifest.xml"] = gpo_backup.manifest_xml([gpo])
    xml = [p for p in outputs if p.endswith(".xml")]
    assert len(xml) == 4
    strict = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
    for path in xml:
        etree.fromstring(outputs[path], strict)
        outputs[path].decode("utf-8")
        assert not outputs[path].startswith(b"\xef\xbb\xbf")


def test_deterministic_bytes() -> None:
    first = gpo_backup.backup_files(make_gpo())
    second = gpo_backup.backup_files(make_gpo())
    assert [(f.path, f.data) for f in first] == [(f.path, f.data) for f in second]
    assert gpo_backup.manifest_xml([make_gpo()]) == gpo_backup.manifest_xml([make_gpo()])
    assert [f.path.split("/", 1)[1] for f in first] == [
        "Backup.xml", "bkupInfo.xml", "DomainSysvol/GPO/Machine/registry.pol",
        "DomainSysvol/GPO/Machine/Preferences/ScheduledTasks/ScheduledTasks.xml"]


def test_non_ascii_values_are_utf8_and_parse() -> None:
    gpo = make_gpo(display_name="Contoso – MDE Ønboarding 日本",
                   description="Für Server „2019“",
                   domain="corp.contoso.example")
    files = files_of(gpo)
    manifest = gpo_backup.manifest_xml([gpo])
    for data in (rel(files, "bkupInfo.xml"), manifest):
        assert not data.startswith(b"<?xml")
        assert "Ønboarding 日本".encode("utf-8") in data
        root = parse(data)
        inst = root if root.tag == f"{MNS}BackupInst" else root[0]
        assert inst.findtext(f"{MNS}GPODisplayName") == gpo.display_name
        assert inst.findtext(f"{MNS}Comment") == gpo.description
    backup = parse(rel(files, "Backup.xml"))
    assert backup.findtext(f".//{BNS}DisplayName") == gpo.display_name


def test_backup_time_aware_is_utc() -> None:
    gpo = make_gpo(backup_time=dt.datetime(2025, 3, 14, 9, 26, 53, 5,
                                           tzinfo=dt.timezone(dt.timedelta(hours=-5))))
    info = parse(rel(files_of(gpo), "bkupInfo.xml"))
    assert info.findtext(f"{MNS}BackupTime") == "2025-03-14T14:26:53"


# ---------------------------------------------------------------------------------------------
# (g) ']]>' and other refusals
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, field", [
    ({"display_name": "A ]]> B"}, "display name"),
    ({"description": "x]]>y"}, "description"),
    ({"domain": "contoso]]>.example"}, "domain"),
])
def test_cdata_terminator_is_refused(changes: dict, field: str) -> None:
    gpo = make_gpo(**changes)
    for build in (gpo_backup.backup_files, lambda g: gpo_backup.manifest_xml([g]),
                  gpo_backup.bkupinfo_xml, gpo_backup.backup_xml):
        with pytest.raises(GpoBackupError, match=rf"{field}.*\]\]>"):
            build(gpo)


def test_cdata_terminator_in_task_text_is_fine() -> None:
    # ScheduledTasks.xml uses no CDATA: ']]>' is escaped ('>' -> '&gt;') and reads back.
    gpo = make_gpo(task=make_task(description="a ]]> b", arguments="]]>"))
    data = rel(files_of(gpo), TASKS_XML)
    assert b"]]&gt;" in data and b"]]>" not in data
    assert gpp_tasks.loads(data)[0]["description"] == "a ]]> b"


@pytest.mark.parametrize("changes, message", [
    ({"display_name": "  "}, "must not be empty"),
    ({"display_name": "a\nb"}, "single line"),
    ({"display_name": "bell\x07"}, "U\\+0007"),
    ({"description": "x" * 2048}, "at most 2047"),
    ({"gpo_id": "not a uuid"}, "gpo_id"),
    ({"task": make_task(name="a/b")}, "name"),
])
def test_backup_refusals(changes: dict, message: str) -> None:
    with pytest.raises(GpoBackupError, match=message):
        gpo_backup.backup_files(make_gpo(**changes))
