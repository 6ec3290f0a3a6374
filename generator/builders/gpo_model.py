"""What the GPO kit is made of, independent of any file format.

builders/gpo.py turns the config into these plain records; the format modules
(formats/gpo_backup.py, formats/gpp_tasks.py, formats/wmi_mof.py) and the import-script renderer
turn the records into bytes. Every GUID here is derived from the config (uuid5), every time from
the release date.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal


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
    registry_pol: bytes | None              # Machine\registry.pol, None when no setting is configured
    task: ImmediateTask
    wmi_filter: WmiFilter | None = None


def braced(guid: uuid.UUID) -> str:
    """{GUID} in upper case, as GPMC writes GPO and backup ids."""
    return "{" + str(guid).upper() + "}"
