"""The records a kit is made of, independent of any file format.

Kits turn the resolved project into these plain, frozen records; the codecs under
``generator/formats/`` and the script renderers turn records into bytes. Records sit below the
codecs: a codec imports this module and never a kit. Every GUID in a record is derived from the
config (uuid5), every time from the release date.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Literal

# --- Group Policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WmiFilter:
    """A GPMC WMI filter: one WQL query against Win32_OperatingSystem."""

    id: uuid.UUID
    name: str
    description: str
    query: str                              # WQL, e.g. SELECT * FROM Win32_OperatingSystem WHERE ...
    namespace: str = "root\\CIMv2"


@dataclass(frozen=True)
class ImmediateTask:
    """A Group Policy Preferences immediate task (ImmediateTaskV2) that runs once as SYSTEM."""

    name: str
    uid: uuid.UUID
    command: str                            # what Task Scheduler starts (UNC path of the script)
    arguments: str
    description: str
    author: str
    changed: dt.datetime                    # 'changed' stamp GPMC writes (from the release date)


@dataclass(frozen=True)
class GpoPart:
    """What one client-side extension adds to a GPO backup: the (CSE, tool) GUID pairs for
    ``MachineExtensionGuids``, one extension block of Backup.xml (its file-system objects) and the
    files below ``Machine``. The backup writer only assembles parts, so a new kind of setting
    (startup scripts, a second Preferences item) is a new part and no change to the writer.
    Parts are made by the format modules that own their bytes (``formats/gpo_backup.py``)."""

    extension_pairs: tuple[tuple[str, str], ...]
    block_id: str                           # the Backup.xml GroupPolicyExtension bkp:ID (a CSE GUID)
    block_name: str                         # its bkp:DescName, as GPMC writes it
    # (FSObjectDir | FSObjectFile, path below Machine), in GPMC's order
    objects: tuple[tuple[Literal["FSObjectDir", "FSObjectFile"], tuple[str, ...]], ...]
    files: tuple[tuple[tuple[str, ...], bytes], ...]    # (path below Machine, bytes)
    one_line: bool                          # GPMC writes some blocks on one line, some indented


@dataclass(frozen=True)
class GpoDefinition:
    """One GPO of the kit, to be written as a GPMC backup and imported with Import-GPO."""

    role: Literal["onboarding", "offboarding"]
    target_name: str | None                 # None for the offboarding GPO (no OS targeting)
    display_name: str
    description: str
    gpo_id: uuid.UUID                       # the source GPO's GUID recorded in the backup
    backup_id: uuid.UUID                    # the backup folder's name; Import-GPO -BackupId
    backup_time: dt.datetime
    domain: str                             # AD DNS domain recorded as the backup's source domain
    parts: tuple[GpoPart, ...]              # machine settings, in Backup.xml block order
    wmi_filter: WmiFilter | None = None


def braced(guid: uuid.UUID) -> str:
    """{GUID} in upper case, as GPMC writes GPO and backup ids."""
    return "{" + str(guid).upper() + "}"


# --- Configuration Manager ---------------------------------------------------------------------


@dataclass(frozen=True)
class CmProgram:
    """A standard program of a ConfigMgr package (Package Definition File program section)."""

    section: str                     # the [section] name listed in Programs= (no commas)
    name: str                        # program name shown in the console (<= 50)
    command_line: str                # relative to the package source folder (<= 127)
    comment: str                     # (<= 127)
    estimated_run_minutes: int       # EstimatedRunTime / New-CMProgram -Duration
    estimated_disk_mb: int           # EstimatedDiskSpace
    # SupportedClients ranges: (platform, min version, max version), e.g.
    # ("Win NT (x64)", "10.00.17763.0000", "10.00.17763.9999")
    supported_clients: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class CmCollection:
    """A device collection with one WQL query membership rule."""

    name: str
    comment: str
    rule_name: str
    query: str                       # WQL over SMS_R_System


@dataclass(frozen=True)
class CmCompliance:
    """A non-remediating configuration item with script settings, and the baseline holding it."""

    ci_name: str
    baseline_name: str
    description: str
    # (setting name, discovery script file name, the SHA-256 New-MdeCmPackage.ps1 checks of that
    # file in compliance/, expected string result)
    settings: tuple[tuple[str, str, str, str], ...]


@dataclass(frozen=True)
class CmPackage:
    """One package (source folder, definition file, program, collection, deployment)."""

    role: Literal["onboarding", "offboarding"]
    target_name: str | None
    folder: str                      # source sub-folder name under packages/
    name: str                        # package name (<= 50)
    version: str                     # (<= 32)
    publisher: str                   # Manufacturer (<= 32)
    language: str                    # (<= 32)
    comment: str                     # description (<= 127 in the definition file)
    program: CmProgram
    files: tuple[tuple[str, bytes], ...]          # (file name, bytes) in the source folder
    collection: CmCollection | None = None        # None for offboarding: the admin picks the collection
    compliance: CmCompliance | None = None
    passive_mode: bool | None = None
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class CmAtpPolicy:
    """A Microsoft Defender for Endpoint policy of a current-branch site (Assets and Compliance >
    Endpoint Protection > Microsoft Defender ATP Policies), made from the portal's .onboarding or
    .offboarding file. An onboarding policy carries its target's collection and compliance baseline
    (as an onboarding package does); the offboarding policy has neither and is never deployed."""

    role: Literal["onboarding", "offboarding"]
    target_name: str | None
    name: str                        # the policy's name in the console
    description: str                 # what it is for; the script appends its fingerprint
    file_name: str                   # the .onboarding / .offboarding file in the kit's policy/ folder
    data: bytes
    sample_sharing: Literal["All", "None"] | None = None           # None only for offboarding
    telemetry: Literal["Normal", "Expedited"] | None = None        # None only for offboarding
    collection: CmCollection | None = None
    compliance: CmCompliance | None = None
    notes: tuple[str, ...] = field(default=())
