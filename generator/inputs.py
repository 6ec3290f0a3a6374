"""Everything a kit is built from: the validated config and the portal packages it names.

Reading the packages and checking them for their use happens here, once, so every builder gets
packages that are known to be usable (non-interactive, not expired, of one organisation).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from generator import portal
from generator.config import Config
from generator.errors import PackageError
from generator.policy import inactive_in_passive_mode
from generator.portal import PortalPackage


@dataclass(frozen=True)
class Inputs:
    config: Config
    onboarding: PortalPackage
    offboarding: PortalPackage | None = None
    vdi: PortalPackage | None = None
    warnings: tuple[str, ...] = field(default=())


def _read(config: Config, which: str) -> PortalPackage | None:
    path = config.package_path(which)
    if path is None:
        return None
    if not path.exists():
        raise PackageError(f"packages.{which}: {path} does not exist (paths are relative to the config file's folder)")
    if not path.is_file():
        raise PackageError(f"packages.{which}: {path} is not a file")
    try:
        return portal.read_package(path)
    except PackageError as exc:
        raise PackageError(f"packages.{which}: {exc}") from None


def load_inputs(config: Config, *, today: dt.date, purpose: str) -> Inputs:
    """Read and check the configured packages for unattended use (GPO task, SCCM program).

    ``today`` decides whether an offboarding script has expired; ``purpose`` names the use in
    error messages (for example "GPO onboarding").
    """
    warnings: list[str] = []
    onboarding = _read(config, "onboarding")
    assert onboarding is not None  # required by the config model
    if onboarding.kind is portal.PackageKind.OFFBOARDING:
        raise PackageError(f"packages.onboarding: {onboarding.source.name} is an offboarding script; "
                           "name it under packages.offboarding and give the onboarding package here")
    try:
        portal.check_unattended(onboarding, purpose)
    except PackageError as exc:
        raise PackageError(f"packages.onboarding: {exc}") from None

    offboarding = _read(config, "offboarding")
    if offboarding is not None:
        if offboarding.kind is not portal.PackageKind.OFFBOARDING:
            raise PackageError(f"packages.offboarding: {offboarding.source.name} is not an offboarding script "
                               f"(it is {offboarding.kind.value})")
        try:
            portal.check_unattended(offboarding, purpose.replace("onboarding", "offboarding"))
            warnings += portal.check_offboarding_expiry(offboarding, today, config.packages.offboarding_warn_days)
            portal.check_same_org(onboarding, offboarding)
        except PackageError as exc:
            raise PackageError(f"packages.offboarding: {exc}") from None

    vdi = _read(config, "vdi")
    if vdi is not None:
        if vdi.kind is not portal.PackageKind.VDI:
            raise PackageError(f"packages.vdi: {vdi.source.name} is not a VDI onboarding package "
                               "(a zip with Onboard-NonPersistentMachine.ps1)")
        try:
            portal.check_same_org(onboarding, vdi)
        except PackageError as exc:
            raise PackageError(f"packages.vdi: {exc}") from None

    for et in config.effective_targets():
        inactive = inactive_in_passive_mode(et.settings)
        if inactive:
            names = ", ".join(s.field for s in inactive)
            warnings.append(f"target {et.name!r}: passive mode is on, so Defender Antivirus does not enforce {names} "
                            "until passive mode ends")

    return Inputs(config=config, onboarding=onboarding, offboarding=offboarding, vdi=vdi, warnings=tuple(warnings))
