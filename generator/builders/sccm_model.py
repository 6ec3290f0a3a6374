"""What the SCCM kit is made of, independent of any file format.

builders/sccm.py turns the config into these records; the Package Definition File writer
(formats/pdf_sms.py), the wrapper and the New-MdeCmPackage.ps1 renderer turn them into bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


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
    # (setting name, discovery script file name, discovery script text, expected string result)
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
