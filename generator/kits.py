"""The kit registry: every kit mdegen can write, listed once.

A kit is a pure function from the resolved project to a list of files. Each entry here says what
the kit is called (its output folder and its command), what it is for, which portal packages it
reads, and which module implements it. The module provides

    check(project) -> list[str]        warnings; raises ConfigError naming the field it needs
    build(project) -> list[OutputFile] the kit's files (the writer adds manifest and sums)

The CLI registers one command per entry, and ``validate`` (and later ``build``) iterate
:data:`KITS`. Implementations are imported only when a kit runs, so listing the kits (``--help``)
costs nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.artifacts import OutputFile
    from generator.project import Project


@dataclass(frozen=True)
class Kit:
    name: str                       # output folder and manifest "kit" (output/<name>/)
    command: str                    # the CLI command
    summary: str                    # one line for --help
    writes: str                     # what the folder holds, for the command's help
    label: str                      # short name in messages: "GPO onboarding", "cannot build the GPO kit"
    packages: tuple[str, ...]       # packages.<name> entries of the config it reads
    module: str                     # implementation: check(project), build(project)
    section: str | None = None      # its own config section (a field of config.Config), if any
    audience: str = "admins"        # who it is handed to: the release index (generator/release.py)
    order: int = 1                  # 1: a way on; 2: the way off, used only for servers that leave

    def implementation(self) -> ModuleType:
        return importlib.import_module(self.module)

    def check(self, project: "Project") -> list[str]:
        """Warnings for this kit; raises ConfigError (naming the field) when it cannot be built."""
        return list(self.implementation().check(project))

    def build(self, project: "Project") -> list["OutputFile"]:
        """The kit's files. A format writer's refusal becomes a ConfigError: every value in the
        kit comes from the config, so the config is what the admin must change."""
        from generator.errors import ConfigError, MdegenError

        try:
            return list(self.implementation().build(project))
        except ConfigError:
            raise
        except (MdegenError, ValueError) as exc:
            raise ConfigError(f"cannot build the {self.label} kit: {exc}", path=project.source) from None


# The down-level agents' files (project.AGENT_FILES): the kits that deploy agents read them.
AGENT_PACKAGES = ("defenderdt", "defenderdt_onboarding", "unified_msi", "unified_script", "mma_setup")

GPO = Kit(
    name="gpo",
    command="gpo",
    summary="Write the Group Policy kit: GPO backups per target, WMI filters, share files, ADMX/ADML.",
    writes="GPOs/ (GPMC backups for Import-GPO), WmiFilters/, share/,\n  PolicyDefinitions/ (ADMX + en-US ADML), "
           "Import-MdeGpo.ps1, HANDOFF.md,\n  manifest.json and SHA256SUMS",
    label="GPO",
    packages=("onboarding", "offboarding", *AGENT_PACKAGES, "defenderdt_offboarding"),
    module="generator.builders.gpo",
    audience="Active Directory admins",
)

SCCM = Kit(
    name="sccm",
    command="sccm-package",
    summary="Write the Configuration Manager kit: packages or Defender for Endpoint policies, collections, compliance checks.",
    writes="packages/ (source folders with the .sms definitions),\n  policy/ (the portal's .onboarding/.offboarding files), compliance/ (discovery scripts), "
           "New-MdeCmPackage.ps1, HANDOFF.md,\n  manifest.json and SHA256SUMS",
    label="SCCM",
    packages=("onboarding", "offboarding", *AGENT_PACKAGES, "defenderdt_offboarding",
              "configmgr_onboarding", "configmgr_offboarding"),
    module="generator.builders.sccm",
    audience="Configuration Manager admins",
)

VDI = Kit(
    name="vdi",
    command="vdi",
    summary="Write the VDI kit: golden-image startup scripts per pool, a re-seal script, a domain-GPO variant.",
    writes="<pool>/ (Startup/ files, Install-MdeVdiStartup.ps1, LocalPolicy/),\n  reseal/Reset-MdeVdiImage.ps1, "
           "GPOs/ and share/ for domain_gpo pools, HANDOFF.md,\n  manifest.json and SHA256SUMS",
    label="VDI",
    packages=("onboarding", "vdi", "offboarding"),
    module="generator.builders.vdi",
    audience="VDI image builders",
    section="vdi",
)

DOWNLEVEL = Kit(
    name="downlevel",
    command="downlevel",
    summary="Write the down-level kit: standalone agent installers and prerequisite checks for 2008 R2 SP1, 2012 R2, 2016.",
    writes="<target>/ (the agent's files, MdeInstallAgent.cmd, Test-MdePrerequisites.ps1),\n  HANDOFF.md, "
           "manifest.json and SHA256SUMS",
    label="downlevel",
    packages=("onboarding", *AGENT_PACKAGES),
    module="generator.builders.downlevel",
    audience="whoever installs down-level servers by hand or by RMM",
    section="downlevel",
)

OFFBOARD = Kit(
    name="offboard",
    command="offboard",
    summary="Write the offboarding kit: the way off for every route (portal script, DefenderDT, unified agent, MMA).",
    writes="portal-valid-until-<date>/ (the portal's offboarding script), <target>/ (per down-level target),\n  "
           "Test-MdeOnboarding.ps1, HANDOFF.md, manifest.json and SHA256SUMS",
    label="offboard",
    packages=("onboarding", "offboarding", "vdi", *AGENT_PACKAGES, "defenderdt_offboarding"),
    module="generator.builders.offboard",
    audience="whoever takes servers off, only when they are to leave",
    order=2,
)

KITS: tuple[Kit, ...] = (GPO, SCCM, VDI, DOWNLEVEL, OFFBOARD)


def check_registry(registry: tuple[Kit, ...]) -> None:
    """Raise ValueError where two kits share a name or command, a kit reads a package the config
    has no entry for, or names a config section the config model does not have (so that a kit's
    own settings are always covered by `mdegen schema` and by unknown-key errors)."""
    from generator.config import Config, Packages

    for attr in ("name", "command"):
        values = [getattr(k, attr) for k in registry]
        if len(set(values)) != len(values):
            raise ValueError(f"two kits share a {attr}: {values}")
    for kit in registry:
        unknown = [p for p in kit.packages if p not in Packages.model_fields or p == "offboarding_warn_days"]
        if unknown:
            raise ValueError(f"kit {kit.name!r} reads packages the config has no entry for: {unknown}")
        if kit.section is not None and kit.section not in Config.model_fields:
            raise ValueError(f"kit {kit.name!r} names config section {kit.section!r}, which config.Config lacks")


def packages_for(kits: tuple[Kit, ...] | list[Kit]) -> tuple[str, ...]:
    """The packages any of ``kits`` reads, each once."""
    return tuple(dict.fromkeys(p for k in kits for p in k.packages))


def purpose_of(kits: tuple[Kit, ...] | list[Kit]) -> str:
    """'GPO onboarding', 'GPO and SCCM onboarding': how package errors name the use."""
    from generator.releases import joined

    return f"{joined([k.label for k in kits])} onboarding"
