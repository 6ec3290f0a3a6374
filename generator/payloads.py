"""Payloads: what runs on a server, independent of the route that delivers it.

A payload is the files a route hosts (byte-exact, with their hashes), the command it starts, how
success shows on the server (a registry value), the exit codes the command returns, and what must
be in place before it runs. Deployment kits render payloads: the GPO kit's immediate task starts
the command from the share, the SCCM program from the package folder; a route that cannot set
policy values itself renders ``presets`` (the SCCM wrapper sets passive mode first). A new agent
(unified agent, DefenderDT, MMA) is a new payload constructor here and no change to the kits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Literal

from generator import policy
from generator.config import Settings
from generator.policy import RegistryValue
from generator.portal import PortalPackage


@dataclass(frozen=True)
class HostedFile:
    """A file a route puts beside the command (a share, a package source folder), byte-exact."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class SuccessCheck:
    """The registry value that shows the payload worked (64-bit view, REG_DWORD)."""

    key: str                    # registry.pol spelling, e.g. Software\Microsoft\...\Status
    value_name: str
    expected: int

    @property
    def text(self) -> str:
        return f"{self.value_name} = {self.expected}"


@dataclass(frozen=True)
class Payload:
    role: Literal["onboarding", "offboarding"]
    files: tuple[HostedFile, ...]
    command: str                                # the file (one of ``files``) the route starts
    success: SuccessCheck
    exit_codes: tuple[tuple[int, str], ...]     # (code, what it means), besides 0 = success
    # Policy values that must be set before ``command`` runs. A route with policy of its own (the
    # GPO's registry.pol, processed before Preferences) has them already; others set them first.
    presets: tuple[RegistryValue, ...] = ()
    valid_until: dt.datetime | None = None      # offboarding scripts expire

    @property
    def valid_until_date(self) -> str:
        """'YYYY-MM-DD' of the expiry, as names and descriptions show it ('unknown' if absent)."""
        return self.valid_until.date().isoformat() if self.valid_until else "unknown"

    @property
    def valid_until_text(self) -> str:
        """The expiry to the minute, as the handoffs show it."""
        return self.valid_until.strftime("%Y-%m-%d %H:%M UTC") if self.valid_until else "unknown"


# The portal onboarding script's error ids (its exit code and the Application-log event id),
# mde-domain.md §1. What an admin does about each depends on the route; kits add that.
PORTAL_ONBOARDING_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (5, "a previous offboarding value could not be deleted"),
    (10, "the onboarding value could not be written"),
    (15, "the Defender for Endpoint service (SENSE) did not start"),
    (30, "timed out waiting for the service"),
    (35, "the onboarding state value did not appear"),
    (40, "onboarding state is not 1"),
    (65, "not running with administrative rights"),
    (70, "an offboarding script of another organisation"),
)

ONBOARDED = SuccessCheck(policy.STATUS_KEY, policy.ONBOARDING_STATE, 1)
OFFBOARDED = SuccessCheck(policy.STATUS_KEY, policy.ONBOARDING_STATE, 0)


def portal_onboarding(package: PortalPackage, settings: Settings) -> Payload:
    """The portal's Group Policy onboarding script, run as it is. Passive mode, where configured,
    must be set before it runs: the script has no option for it."""
    presets: tuple[RegistryValue, ...] = ()
    if settings.passive_mode is not None:
        presets = tuple(policy.setting("passive_mode").encode(settings.passive_mode))
    return Payload(
        role="onboarding",
        files=(HostedFile(package.script_name, package.script),),
        command=package.script_name,
        success=ONBOARDED,
        exit_codes=PORTAL_ONBOARDING_EXIT_CODES,
        presets=presets,
    )


def portal_offboarding(package: PortalPackage) -> Payload:
    """The portal's offboarding script, valid until the date in its name and blob."""
    return Payload(
        role="offboarding",
        files=(HostedFile(package.script_name, package.script),),
        command=package.script_name,
        success=OFFBOARDED,
        exit_codes=(),
        valid_until=package.facts.expiration,
    )


# Onboard-NonPersistentMachine.ps1's exit codes (mde-domain.md, the script as observed).
VDI_SINGLE_ENTRY_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (1, "not running as administrator"),
    (2, "the onboarding script is missing beside it"),
    (3, "the organisation id could not be read from the onboarding script"),
    (4, "a senseGuid is already set and the sensor service is not stopped (already onboarded)"),
    (5, "the onboarding script failed"),
)


def portal_vdi(package: PortalPackage, mode: str) -> Payload:
    """The portal's VDI package for one pool. Single entry: Onboard-NonPersistentMachine.ps1 (which
    derives a per-name device identity) runs the onboarding script beside it; multiple entries: the
    onboarding script itself, a new device per boot. Both files are Microsoft's, byte for byte."""
    script = HostedFile(package.script_name, package.script)
    if mode == "single":
        if package.vdi_script is None:
            raise ValueError("the VDI package holds no Onboard-NonPersistentMachine.ps1")
        ps1 = HostedFile(package.vdi_script.rsplit("/", 1)[-1], package.file(package.vdi_script))
        return Payload(role="onboarding", files=(ps1, script), command=ps1.name, success=ONBOARDED,
                       exit_codes=VDI_SINGLE_ENTRY_EXIT_CODES)
    if mode == "multiple":
        return Payload(role="onboarding", files=(script,), command=script.name, success=ONBOARDED,
                       exit_codes=PORTAL_ONBOARDING_EXIT_CODES)
    raise ValueError(f"unknown VDI mode {mode!r}")
