"""GPMC backup files (what Backup-GPO writes and Import-GPO reads) for one :class:`GpoDefinition`.

:func:`backup_files` returns the files of one backup, relative to the backup root folder (the
folder passed to ``Import-GPO -Path``; the kit calls it ``GPOs/``)::

    {BACKUPID}/Backup.xml                                                   always
    {BACKUPID}/bkupInfo.xml                                                 always
    {BACKUPID}/DomainSysvol/GPO/Machine/...    the files of each part, e.g. registry.pol
                                               (policy_part) and Preferences/ScheduledTasks/
                                               ScheduledTasks.xml (scheduled_tasks_part)

:func:`manifest_xml` writes ``manifest.xml``, the index of all backups in the root folder, and
:func:`extension_guids` the ``[{CSE}{TOOL}...]`` string of ``MachineExtensionGuids``.  Every
problem is a :class:`GpoBackupError`.  Output is a pure function of the definition: the same
GpoDefinition gives the same bytes.

The reference is the real GPMC backup in ``shared/reference/samples/gpo-backup-sample`` (MS
Defender baseline, backed up by GPMC) plus, for the Preferences part, a GPMC backup of a GPO that
holds only an ImmediateTaskV2 (embedded verbatim in a public IPv6-rollout script) and Microsoft's
own ActiveDirectoryTierModel backups.  ``tests/test_gpo_backup.py`` compares our files with the
shared sample element by element and lists every intended difference.

File formats (as the samples, byte for byte where it matters):

* ``Backup.xml``: UTF-8 without BOM, ``<?xml version="1.0" encoding="utf-8"?>`` (double quotes,
  so written as a constant - lxml would write single quotes), LF line breaks and GPMC's
  indentation around ``GroupPolicyObject`` and the extension blocks, no trailing newline.  Root
  ``GroupPolicyBackupScheme`` in ``http://www.microsoft.com/GroupPolicy/GPOOperations`` (default
  namespace, and again as prefix ``bkp`` for the attributes) with ``bkp:version="2.0"
  bkp:type="GroupPolicyBackupTemplate"``.  GPMC's leading ``<!-- Copyright (c) Microsoft
  Corporation... -->`` comment is not written: it is Microsoft's text and carries no data.
* ``bkupInfo.xml``: one line, no XML declaration, one trailing LF (as both real samples);
  ``manifest.xml``: one line, no declaration, no trailing newline.  Without a declaration an XML
  parser reads UTF-8, so non-ASCII display names are written as UTF-8 (which is what GPMC writes)
  and parse back unchanged - the tests check it.

Decisions (with the evidence found):

* **GroupPolicyObject children**: ``FilePaths`` (empty), ``GroupPolicyCoreSettings``, then the
  extension blocks.  ``SecurityGroups`` is not written: it lists the principals of the source
  GPO's DACL for migration tables, which a generated GPO has none of; Level.io's hand-made
  backups, imported with ``Import-GPO -BackupGpoName`` in customers' domains, omit it too.
* **GroupPolicyCoreSettings** children in GPMC's order, CDATA exactly where GPMC uses it:
  ``ID`` (GPO GUID, braced upper), ``Domain`` (``gpo.domain``), ``SecurityDescriptor`` (empty -
  GPMC writes the source GPO's hex SD, which does not exist here; Import-GPO never applies it,
  and the Level.io backups carry an empty one), ``DisplayName``, ``Options``,
  ``UserVersionNumber``, ``MachineVersionNumber``, ``MachineExtensionGuids``,
  ``UserExtensionGuids`` (empty), ``WMIFilter`` (empty: the import script links the filter, which
  has to exist in the target domain first; GPMC would add ``WMIFilterName`` after it).
* **Options = 1** (user configuration disabled): the kit is machine-only, Microsoft's own
  baseline backup in shared/ carries 1, and disabling an unused half is the documented GP
  practice (faster processing).  Where the target GPO keeps its own status (Import-GPO into an
  existing GPO), the value is harmless either way.
* **Versions** as GPMC writes them in a backup: ``(n << 16) | n`` per half (AD version in the high
  word, SYSVOL version in the low word; every real backup inspected has hi == lo), n = 1 for the
  machine half (it always holds the task) and 0 for the empty user half: 65537 and 0.
  Import-GPO bumps the versions of the target GPO itself.
* **MachineExtensionGuids** = :func:`machine_extension_pairs`: the pairs of the GPO's parts
  (Preferences core and Scheduled Tasks for a task, Registry for a registry.pol), via
  :func:`extension_guids`.
* **Extension blocks**: a ``Registry`` block (``{35378EAC-...}``) with the ``FSObjectFile`` for
  ``registry.pol`` when there is one, then the ``Unknown Extension`` block (``{F15C46CD-...}``)
  with ``FSObjectDir`` ``Preferences``, ``FSObjectDir`` ``Preferences\\ScheduledTasks`` and the
  ``FSObjectFile`` ``Preferences\\ScheduledTasks\\ScheduledTasks.xml`` - exactly the entries and
  order GPMC wrote in the real backup of a task-only GPO.  Not written: GPMC's
  ``%GPO_FSPATH%\\Adm\\*.*`` entry (it has no ``bkp:Location``: nothing is restored from it) and,
  without a registry.pol, the Registry block that GPMC writes for that Adm entry alone.
* **No ``bkp:SourceExpandedPath``**: it records the UNC path of the source GPO on a source DC
  (``\\\\dc\\sysvol\\domain\\Policies\\{GUID}\\Machine\\...``), which does not exist for a generated
  GPO; a made-up path would be misleading.  Import-GPO restores from ``bkp:Location`` (relative
  to the backup folder) into ``bkp:Path`` (``%GPO_MACH_FSPATH%`` is expanded for the target), and
  the Level.io backups that omit the attribute import fine.
* **bkupInfo.xml / manifest.xml** children in GPMC's order, all CDATA: ``GPOGuid``,
  ``GPODomain``, ``GPODomainGuid``, ``GPODomainController``, ``BackupTime``
  (``YYYY-MM-DDTHH:MM:SS`` from ``gpo.backup_time``, aware values in UTC), ``ID`` (backup id =
  folder name), ``Comment`` (``gpo.description``; Backup-GPO documents at most 2,047
  characters, so longer text is refused), ``GPODisplayName``.  The source domain's GUID and DC
  are unknown when generating: ``GPODomainGuid`` is the nil GUID in GPMC's braced lower-case
  form (it still parses as a GUID for tools that read it) and ``GPODomainController`` is empty.
  Import-GPO does not need them: the GPMC backup object (IGPMBackup / Backup-GPO output) exposes
  only ID, GPO id, domain, display name, time, comment and directory; public backups made in one
  domain (Level.io's "level.local", a "dummy.domain" URA template) are imported with these fields
  pointing at a domain and DC that do not exist in the target.
* **CDATA**: a value containing ``]]>`` cannot sit in one CDATA section.  libxml2 would silently
  split it into two sections, which a reader that takes only the first CDATA node would truncate;
  such text is refused with an error naming the field instead.  Characters XML 1.0 cannot carry
  are refused the same way.  An empty display name is refused (``Import-GPO -BackupGpoName``
  finds backups by it).

See ``extension_guids`` for how the CSE/tool pairs are ordered and merged.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Iterable

from lxml import etree

from generator.artifacts import OutputFile
from generator.errors import MdegenError
from generator.formats import gpp_tasks, regpol
from generator.records import GpoDefinition, GpoPart, ImmediateTask, braced

__all__ = [
    "GpoBackupError", "backup_files", "backup_xml", "bkupinfo_xml", "manifest_xml",
    "extension_guids", "machine_extension_pairs", "version_number", "format_backup_time",
    "BACKUP_NS", "MANIFEST_NS", "CORE_PAIR", "REGISTRY_PAIR", "SCHEDULED_TASKS_PAIR",
    "REGISTRY_CSE", "UNKNOWN_EXTENSION", "OPTIONS_USER_DISABLED", "NIL_DOMAIN_GUID",
    "MAX_COMMENT_LENGTH", "REGISTRY_POL", "SCHEDULED_TASKS_XML", "policy_part", "scheduled_tasks_part",
    "startup_scripts_part", "SCRIPTS_CSE", "SCRIPTS_TOOL_MACHINE", "SCRIPTS_PAIR",
]

BACKUP_NS = "http://www.microsoft.com/GroupPolicy/GPOOperations"
MANIFEST_NS = "http://www.microsoft.com/GroupPolicy/GPOOperations/Manifest"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'

NIL = "{00000000-0000-0000-0000-000000000000}"
GPP_TOOL = "{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}"
REGISTRY_CSE = "{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
REGISTRY_TOOL_MACHINE = "{D02B1F72-3407-48AE-BA88-E8213C6761F1}"
SCHEDULED_TASKS_CSE = "{AADCED64-746C-4633-A97C-D61349046527}"
UNKNOWN_EXTENSION = "{F15C46CD-82A0-4C2D-A210-5D0D3182A418}"

CORE_PAIR = (NIL, GPP_TOOL)
REGISTRY_PAIR = (REGISTRY_CSE, REGISTRY_TOOL_MACHINE)
SCHEDULED_TASKS_PAIR = (SCHEDULED_TASKS_CSE, GPP_TOOL)

OPTIONS_USER_DISABLED = 1
NIL_DOMAIN_GUID = "{" + str(uuid.UUID(int=0)) + "}"
MAX_COMMENT_LENGTH = 2047

#: Paths inside the backup folder (below DomainSysvol/GPO/Machine) and in the GPO (Windows form).
REGISTRY_POL = ("registry.pol",)
PREFERENCES = ("Preferences",)
SCHEDULED_TASKS_DIR = ("Preferences", "ScheduledTasks")
SCHEDULED_TASKS_XML = ("Preferences", "ScheduledTasks", "ScheduledTasks.xml")

_MACHINE_TOKEN = "%GPO_MACH_FSPATH%"
_MACHINE_LOCATION = "DomainSysvol\\GPO\\Machine"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class GpoBackupError(MdegenError):
    """A GPO backup cannot be written from this definition."""


# ---------------------------------------------------------------------------------------------
# Small pieces
# ---------------------------------------------------------------------------------------------

def _guid(value: uuid.UUID | str, what: str) -> str:
    if isinstance(value, uuid.UUID):
        return braced(value)
    if isinstance(value, str):
        try:
            return braced(uuid.UUID(value.strip()))
        except ValueError:
            pass
    raise GpoBackupError(f"{what}: {value!r} is not a GUID")


def extension_guids(pairs: Iterable[tuple[uuid.UUID | str, uuid.UUID | str]]) -> str:
    """The ``gPCMachineExtensionNames``-style string for (CSE GUID, tool GUID) pairs.

    One ``[{CSE}{TOOL}{TOOL}...]`` group per CSE, groups in ascending CSE order, tool GUIDs of a
    group in ascending order and without duplicates; GUIDs are written braced and upper-case.
    Pairs naming the same CSE are merged into one group; a tool shared by several CSEs (the GPP
    tool ``{CAB54552-...}`` of the core pseudo-CSE and of Scheduled Tasks) is repeated in each
    group, never merged across groups.  That is the shape GPMC writes: a real GPO with GPP
    tasks, admin templates and security settings reads
    ``[{00000000-...}{CAB54552-...}][{35378EAC-...}{D02B1F72-...}][{827D319E-...}{803E14A0-...}]
    [{AADCED64-...}{CAB54552-...}]`` (MS-GPOL §2.2.4 pairs, MS-GPOL §3.2.1.24 ascending CSE
    order), and the GPP editor adds further Preferences tools inside the one core group
    (``[{00000000-...}{tool1}{tool2}]``, sorted).  Which tools belong in the core group is the
    caller's choice: GPMC puts only Preferences tools there (not the Administrative Templates tool
    ``{D02B1F72-...}``).  Ascending order is the order of the upper-case GUID strings, which equals
    the numeric order of the GUID fields.  An empty input gives ``""``.
    """
    groups: dict[str, set[str]] = {}
    for i, pair in enumerate(pairs):
        try:
            cse, tool = pair
        except (TypeError, ValueError):
            raise GpoBackupError(f"extension pair {i}: expected (CSE GUID, tool GUID), "
                                 f"got {pair!r}") from None
        groups.setdefault(_guid(cse, f"extension pair {i} CSE"), set()).add(
            _guid(tool, f"extension pair {i} tool"))
    return "".join("[" + cse + "".join(sorted(groups[cse])) + "]" for cse in sorted(groups))


def machine_extension_pairs(gpo: GpoDefinition) -> list[tuple[str, str]]:
    """The CSE pairs of a GPO: those of its parts (GPP core and Scheduled Tasks for a task,
    Registry for a registry.pol), merged by :func:`extension_guids`."""
    return [pair for part in gpo.parts for pair in part.extension_pairs]


# ---------------------------------------------------------------------------------------------
# Parts: what each kind of machine setting brings to a backup
# ---------------------------------------------------------------------------------------------

def policy_part(entries: Iterable[regpol.PolEntry]) -> GpoPart:
    """Administrative-template settings: ``Machine\\registry.pol`` and the Registry block, which
    GPMC writes indented over several lines. ``entries`` must not be empty (a header-only
    registry.pol is outside the format's grammar): leave the part out instead."""
    entries = list(entries)
    if not entries:
        raise GpoBackupError("a policy part needs at least one registry.pol entry")
    return GpoPart(
        extension_pairs=(REGISTRY_PAIR,),
        block_id=REGISTRY_CSE,
        block_name="Registry",
        objects=(("FSObjectFile", REGISTRY_POL),),
        files=((REGISTRY_POL, regpol.dumps(entries)),),
        one_line=False,
    )


SCRIPTS_CSE = "{42B5FAAE-6536-11D2-AE5A-0000F87571E3}"
SCRIPTS_TOOL_MACHINE = "{40B6664F-4972-11D1-A7CA-0000F87571E3}"
SCRIPTS_PAIR = (SCRIPTS_CSE, SCRIPTS_TOOL_MACHINE)
# GPMC writes the Scripts block's ID with a lower-case "d" in its third group (formats.md §3,
# verified in real backups); the extension pair in MachineExtensionGuids is upper case as usual.
_SCRIPTS_BLOCK_ID = "{42B5FAAE-6536-11d2-AE5A-0000F87571E3}"
SCRIPTS_DIR = ("Scripts",)


def startup_scripts_part(ini_name: str, ini: bytes) -> GpoPart:
    """Computer startup scripts: ``Machine\\Scripts\\scripts.ini`` or ``psscripts.ini`` (the bytes of
    generator.formats.gpscripts) in the Scripts block. The scripts themselves are named by UNC path
    in the ini, so the GPO holds no script file; a minimal backup with only the ini imports (the
    Level.io backups, formats.md §3)."""
    if ini_name.casefold() not in ("scripts.ini", "psscripts.ini"):
        raise GpoBackupError(f"{ini_name!r} is neither scripts.ini nor psscripts.ini")
    path = SCRIPTS_DIR + (ini_name,)
    return GpoPart(
        extension_pairs=(SCRIPTS_PAIR,),
        block_id=_SCRIPTS_BLOCK_ID,
        block_name="Scripts",
        objects=(("FSObjectFile", path),),
        files=((path, ini),),
        one_line=False,
    )


def scheduled_tasks_part(tasks: list[ImmediateTask]) -> GpoPart:
    """Preferences immediate tasks: ``Machine\\Preferences\\ScheduledTasks\\ScheduledTasks.xml`` and the
    entries GPMC wrote, on one line, in the real backup of a task-only GPO."""
    try:
        xml = gpp_tasks.dumps(tasks)
    except gpp_tasks.GppTasksError as exc:
        raise GpoBackupError(str(exc)) from None
    return GpoPart(
        extension_pairs=(CORE_PAIR, SCHEDULED_TASKS_PAIR),
        block_id=UNKNOWN_EXTENSION,
        block_name="Unknown Extension",
        objects=(("FSObjectDir", PREFERENCES), ("FSObjectDir", SCHEDULED_TASKS_DIR),
                 ("FSObjectFile", SCHEDULED_TASKS_XML)),
        files=((SCHEDULED_TASKS_XML, xml),),
        one_line=True,
    )


def version_number(n: int) -> int:
    """A ``*VersionNumber`` as GPMC writes it in Backup.xml: AD version << 16 | SYSVOL version."""
    if not 0 <= n <= 0xFFFF:
        raise GpoBackupError(f"GPO version {n} is outside 0..65535")
    return (n << 16) | n


def format_backup_time(value: dt.datetime) -> str:
    """``BackupTime`` as GPMC writes it: ``YYYY-MM-DDTHH:MM:SS`` (aware values in UTC)."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}")


def _checked(gpo: GpoDefinition, field: str, value: object) -> str:
    who = f"GPO {getattr(gpo, 'display_name', '?')!r}"
    if not isinstance(value, str):
        raise GpoBackupError(f"{who}: {field}: must be a string, not {type(value).__name__}")
    if "]]>" in value:
        raise GpoBackupError(f"{who}: {field}: contains ']]>', which cannot be written inside "
                             "the CDATA section GPMC uses for this value; remove it")
    bad = _NOT_XML.search(value)
    if bad:
        raise GpoBackupError(f"{who}: {field}: holds the character U+{ord(bad.group()):04X} "
                             f"at position {bad.start()}, which XML 1.0 cannot represent")
    return value


def _validate(gpo: GpoDefinition) -> None:
    if not isinstance(gpo, GpoDefinition):
        raise GpoBackupError(f"expected a GpoDefinition, got {type(gpo).__name__}")
    who = f"GPO {gpo.display_name!r}"
    for field in ("gpo_id", "backup_id"):
        if not isinstance(getattr(gpo, field), uuid.UUID):
            raise GpoBackupError(f"{who}: {field}: must be a uuid.UUID")
    if not isinstance(gpo.backup_time, dt.datetime):
        raise GpoBackupError(f"{who}: backup_time: must be a datetime")
    name = _checked(gpo, "display name", gpo.display_name)
    if not name.strip():
        raise GpoBackupError("GPO display name: must not be empty "
                             "(Import-GPO -BackupGpoName finds the backup by it)")
    if "\n" in name or "\r" in name:
        raise GpoBackupError(f"{who}: display name: must be a single line")
    _checked(gpo, "domain", gpo.domain)
    comment = _checked(gpo, "description (bkupInfo Comment)", gpo.description)
    if len(comment) > MAX_COMMENT_LENGTH:
        raise GpoBackupError(f"{who}: description (bkupInfo Comment): {len(comment)} characters, "
                             f"GPMC backup comments hold at most {MAX_COMMENT_LENGTH}")
    if not gpo.parts:
        raise GpoBackupError(f"{who}: the GPO has no machine settings (no part)")
    # Parts are made by this module's part functions from entries and tasks, so their bytes are
    # valid by construction; only what the backup itself cannot carry is checked here.
    seen: set[tuple[str, ...]] = set()
    for part in gpo.parts:
        for path, _ in part.files:
            if path in seen:
                raise GpoBackupError(f"{who}: two parts write Machine/{'/'.join(path)}")
            seen.add(path)


# ---------------------------------------------------------------------------------------------
# Backup.xml
# ---------------------------------------------------------------------------------------------

def _b(tag: str) -> str:
    return f"{{{BACKUP_NS}}}{tag}"


def _sub(parent: etree._Element, tag: str, cdata: str | None = None,
         text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _b(tag))
    if cdata is not None:
        el.text = etree.CDATA(cdata)
    elif text is not None:
        el.text = text
    return el


def _fs_object(block: etree._Element, kind: str, parts: tuple[str, ...]) -> etree._Element:
    el = etree.SubElement(block, _b(kind))
    el.set(_b("Path"), "\\".join((_MACHINE_TOKEN,) + parts))
    el.set(_b("Location"), "\\".join((_MACHINE_LOCATION,) + parts))
    return el


def _extension(parent: etree._Element, cse: str, desc: str) -> etree._Element:
    block = etree.SubElement(parent, _b("GroupPolicyExtension"))
    block.set(_b("ID"), cse)
    block.set(_b("DescName"), desc)
    return block


def backup_xml(gpo: GpoDefinition) -> bytes:
    """The Backup.xml bytes for *gpo* (see the module doc for every element)."""
    _validate(gpo)
    root = etree.Element(_b("GroupPolicyBackupScheme"), nsmap={None: BACKUP_NS, "bkp": BACKUP_NS})
    root.set(_b("version"), "2.0")
    root.set(_b("type"), "GroupPolicyBackupTemplate")
    root.text = "\n    "
    gpo_el = _sub(root, "GroupPolicyObject")
    gpo_el.tail = "\n"
    _sub(gpo_el, "FilePaths")
    core = _sub(gpo_el, "GroupPolicyCoreSettings")
    _sub(core, "ID", braced(gpo.gpo_id))
    _sub(core, "Domain", gpo.domain)
    _sub(core, "SecurityDescriptor")
    _sub(core, "DisplayName", gpo.display_name)
    _sub(core, "Options", str(OPTIONS_USER_DISABLED))
    _sub(core, "UserVersionNumber", str(version_number(0)))
    _sub(core, "MachineVersionNumber", str(version_number(1)))
    _sub(core, "MachineExtensionGuids", extension_guids(machine_extension_pairs(gpo)))
    _sub(core, "UserExtensionGuids")
    _sub(core, "WMIFilter")
    # GPMC's layout: an indented block (Registry) starts on a line of its own at 8 spaces, its
    # objects at 12; a one-line block (Unknown Extension) starts at 4. The element before a block
    # ends with the block's indentation.
    previous = core
    for part in gpo.parts:
        previous.tail = "\n    " if part.one_line else "\n        "
        block = _extension(gpo_el, part.block_id, part.block_name)
        objects = [_fs_object(block, kind, path) for kind, path in part.objects]
        if not part.one_line:
            block.text = "\n            "
            for obj in objects[:-1]:
                obj.tail = "\n            "
            objects[-1].tail = "\n        "
            block.tail = "\n    "
        previous = block
    return XML_DECLARATION + etree.tostring(root, encoding="utf-8", xml_declaration=False)


# ---------------------------------------------------------------------------------------------
# bkupInfo.xml and manifest.xml
# ---------------------------------------------------------------------------------------------

def _m(tag: str) -> str:
    return f"{{{MANIFEST_NS}}}{tag}"


def _backup_inst(parent: etree._Element | None, gpo: GpoDefinition) -> etree._Element:
    values = (
        ("GPOGuid", braced(gpo.gpo_id)),
        ("GPODomain", gpo.domain),
        ("GPODomainGuid", NIL_DOMAIN_GUID),
        ("GPODomainController", ""),
        ("BackupTime", format_backup_time(gpo.backup_time)),
        ("ID", braced(gpo.backup_id)),
        ("Comment", gpo.description),
        ("GPODisplayName", gpo.display_name),
    )
    if parent is None:
        inst = etree.Element(_m("BackupInst"), nsmap={None: MANIFEST_NS})
    else:
        inst = etree.SubElement(parent, _m("BackupInst"))
    for tag, value in values:
        etree.SubElement(inst, _m(tag)).text = etree.CDATA(value)
    return inst


def bkupinfo_xml(gpo: GpoDefinition) -> bytes:
    """The bkupInfo.xml bytes: one ``BackupInst`` line, no declaration, trailing LF."""
    _validate(gpo)
    return etree.tostring(_backup_inst(None, gpo), encoding="utf-8",
                          xml_declaration=False) + b"\n"


def manifest_xml(gpos: list[GpoDefinition]) -> bytes:
    """The manifest.xml bytes indexing the backups of *gpos* (in the order given)."""
    gpos = list(gpos)
    root = etree.Element(_m("Backups"), nsmap={None: MANIFEST_NS, "mfst": MANIFEST_NS})
    root.set(_m("version"), "1.0")
    seen: dict[uuid.UUID, str] = {}
    for gpo in gpos:
        _validate(gpo)
        if gpo.backup_id in seen:
            raise GpoBackupError(f"GPO {gpo.display_name!r}: backup id {braced(gpo.backup_id)} "
                                 f"is already used by GPO {seen[gpo.backup_id]!r}")
        seen[gpo.backup_id] = gpo.display_name
        _backup_inst(root, gpo)
    return etree.tostring(root, encoding="utf-8", xml_declaration=False)


# ---------------------------------------------------------------------------------------------
# The whole backup
# ---------------------------------------------------------------------------------------------

def backup_files(gpo: GpoDefinition) -> list[OutputFile]:
    """All files of *gpo*'s backup, relative to the backup root folder (see module doc)."""
    folder = braced(gpo.backup_id)
    machine = f"{folder}/DomainSysvol/GPO/Machine"
    files = [
        OutputFile(f"{folder}/Backup.xml", backup_xml(gpo)),
        OutputFile(f"{folder}/bkupInfo.xml", bkupinfo_xml(gpo)),
    ]
    files += [OutputFile(f"{machine}/{'/'.join(path)}", data) for part in gpo.parts for path, data in part.files]
    return files
