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
    by_mdegen: bool = False             # mdegen's own script, not one of Microsoft's files

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
    # What follows the command. HERE in an argument stands for the folder the route hosts the files
    # in (a share, a package folder), so each route can write it its own way (generator/launch.py).
    arguments: tuple[str, ...] = ()
    agent: str | None = None                    # the down-level agent it installs (releases.AGENTS)
    # Policy values the agent wants where the route carries policy (the GPO's registry.pol); a
    # route without policy of its own names them in its handoff instead.
    policy: tuple[RegistryValue, ...] = ()
    log: str | None = None                      # where the payload leaves its log on the server

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


# --- down-level agents ------------------------------------------------------------------------

HERE = "{here}"

# DefenderDT's exit codes (mde-2026.md §D, Microsoft's table for tool 1.0.0.6), passed through by
# every route. What to do about each depends on the route; the handoffs add it.
DEFENDERDT_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (1, "another instance of the tool is running"),
    (2, "the device is already onboarded"),
    (5, "a new version of the tool is available"),
    (6, "the tool updated itself"),
    (10, "a restart is needed; the tool resumes after it"),
    (11, "a signature check failed"),
    (12, "a mitigation policy could not be applied"),
    (20, "a file was not found"),
    (30, "the tool's resource files are missing"),
    (40, "not running with administrative rights"),
    (50, "the operating system is not supported"),
    (70, "the configuration file has an error"),
    (80, "quality telemetry could not be sent"),
    (90, "a prerequisite check failed"),
    (100, "the tool's manifest is corrupt"),
    (200, "the sensor did not initialise"),
    (201, "the onboarding file is missing"),
    (210, "the antivirus engine did not reload"),
    (400, "a download failed"),
    (500, "the installation failed"),
    (600, "the update failed"),
    (610, "the update file is not supported"),
    (700, "system preparation failed"),
    (710, "a Windows feature could not be enabled"),
    (720, "System Center Endpoint Protection could not be uninstalled"),
    (730, "a sovereign-cloud error"),
    (740, "a sovereign-cloud error"),
    (1000, "an unspecified error"),
)
DEFENDERDT_LOG_FOLDER = r"C:\ProgramData\Microsoft\DefenderDeploymentTool"
DEFENDERDT_LOG = DEFENDERDT_LOG_FOLDER + r"\DefenderDeploymentTool-<computer name>.log"


def defenderdt_onboarding(tool: HostedFile, onboarding_file: HostedFile, settings: Settings,
                          *, proxy: str | None = None) -> Payload:
    """The Defender deployment tool run with its .onboarding file: it installs what the server
    lacks (prerequisites, the agent) and onboards it. -Quiet: no prompt (it runs unattended);
    -Passive: Defender Antivirus stays passive (the tool's own switch; the GPO's registry.pol sets
    the same policy value)."""
    arguments = [f"-File:{HERE}{onboarding_file.name}", "-Quiet"]
    if settings.passive_mode:
        arguments.append("-Passive")
    if proxy is not None:
        arguments.append(f"-Proxy:{proxy if '://' in proxy else 'http://' + proxy}")
    return Payload(role="onboarding", files=(tool, onboarding_file), command=tool.name, success=ONBOARDED,
                   exit_codes=DEFENDERDT_EXIT_CODES, arguments=tuple(arguments), agent="defenderdt",
                   log=DEFENDERDT_LOG)


# DefenderDT's codes when it offboards or uninstalls (the same table, mde-2026.md §D).
DEFENDERDT_OFFBOARDING_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (1, "another instance of the tool is running"),
    (3, "the device is not onboarded (nothing to offboard)"),
    (5, "a new version of the tool is available"),
    (6, "the tool updated itself"),
    (10, "a restart is needed; the tool resumes after it"),
    (11, "a signature check failed"),
    (40, "not running with administrative rights"),
    (90, "a prerequisite check failed"),
    (300, "offboarding failed"),
    (301, "the offboarding file is missing"),
    (302, "the offboarding file is not valid (expired, or of another organisation)"),
    (900, "the uninstallation failed"),
    (920, "the MMA workspace could not be removed"),
    (1000, "an unspecified error"),
)


def defenderdt_offboarding(tool: HostedFile, offboarding_file: HostedFile, *, uninstall: bool,
                           valid_until: dt.datetime | None) -> Payload:
    """DefenderDT with the portal's .offboarding file: -Offboard, or -Uninstall (offboards and
    removes the agent). -Yes answers its confirmation, -Quiet keeps it unattended."""
    return Payload(role="offboarding", files=(tool, offboarding_file), command=tool.name, success=OFFBOARDED,
                   exit_codes=DEFENDERDT_OFFBOARDING_EXIT_CODES,
                   arguments=("-Uninstall" if uninstall else "-Offboard", f"-File:{HERE}{offboarding_file.name}",
                              "-Yes", "-Quiet"),
                   agent="defenderdt", log=DEFENDERDT_LOG, valid_until=valid_until)


# Uninstall-MdeUnifiedAgent.ps1's: install.ps1's on -Uninstall, and mdegen's for the local copy.
UNIFIED_OFFBOARDING_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (20, "the unified agent is not installed"),
    (32, "the offboarding script was not found"),
    (33, "offboarding failed"),
    (38, "tamper protection blocks the removal"),
    (81, "mdegen's script could not copy the files to the local folder"),
    (82, "a copied file's SHA-256 is not the one mdegen recorded"),
    (84, "mdegen's work folder under C:\\ProgramData is not owned by SYSTEM or Administrators"),
    (85, "the server reports to another organisation"),
    (1603, "msiexec: the removal failed"),
    (3010, "msiexec: removed; a restart completes it"),
)
# Remove-MdeMmaWorkspace.ps1's (generator/builders/offboard.py MMA_EXITS).
MMA_OFFBOARDING_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (10, "the Microsoft Monitoring Agent is not installed"),
    (11, "the Defender workspace is not configured on the agent (nothing to remove)"),
    (12, "the agent's configuration object failed"),
)


def script_offboarding(script: HostedFile, others: tuple[HostedFile, ...], *, agent: str,
                       exit_codes: tuple[tuple[int, str], ...], valid_until: dt.datetime | None) -> Payload:
    """One of mdegen's offboarding scripts with the files it uses, run unattended (-Unattended: a
    GPO task or ConfigMgr program cannot answer its confirmation)."""
    return Payload(role="offboarding", files=(script, *others), command=script.name, success=OFFBOARDED,
                   exit_codes=exit_codes, arguments=("-Unattended",), agent=agent, valid_until=valid_until)


# install.ps1's exit codes (mde-2026.md §C, the script's own table; 1, 5, 17 and 21-23 are unused,
# 11 is never emitted, 31 only warned) and those of mdegen's wrapper, which runs it from a local copy.
UNIFIED_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (3, "not running with administrative rights"),
    (4, "no connection to the internet (a required update could not be downloaded)"),
    (6, "an invalid parameter"),
    (10, "the operating system is not supported"),
    (12, "a restart is pending"),
    (13, "a requirement is not met (an update, the Defender feature or its version)"),
    (14, "the server is in an unexpected state"),
    (15, "md4ws.msi's signature is not valid"),
    (16, "md4ws.msi is missing beside install.ps1"),
    (18, "install.ps1's folder is not writable"),
    (30, "the onboarding script was not found"),
    (35, "the server is onboarded already (the Sense service starts automatically)"),
    (36, "md4ws.msi is in use by another process"),
    (37, "the onboarding script is the local one (it waits for a key press)"),
    (39, "a DisableAntiSpyware policy turns Defender Antivirus off"),
    (81, "mdegen's wrapper could not copy the files to the local folder"),
    (82, "a copied file's SHA-256 is not the one mdegen recorded"),
    (83, "install.ps1 exited 0 but the server is not onboarded (the onboarding script failed)"),
    (84, "mdegen's work folder under C:\\ProgramData is not owned by SYSTEM or Administrators"),
    (1603, "msiexec: the installation failed (see install-<computer>.log)"),
    (1618, "msiexec: another installation is running"),
    (3010, "msiexec: installed, a restart is needed; install.ps1 stops before onboarding"),
)
UNIFIED_WRAPPER_NAME = "Install-MdeUnifiedAgent.ps1"
UNIFIED_LOCAL_FOLDER = r"C:\ProgramData\mdegen\unified"


def unified_onboarding(wrapper: HostedFile, script: HostedFile, msi: HostedFile, onboarding: HostedFile,
                       settings: Settings) -> Payload:
    """install.ps1 with md4ws.msi and the portal's Group Policy onboarding script, started by
    mdegen's wrapper: install.ps1 writes its logs beside itself, which SYSTEM cannot do on a share,
    so the wrapper copies the files to a local folder, checks their hashes and runs it there."""
    return Payload(role="onboarding", files=(wrapper, script, msi, onboarding), command=wrapper.name,
                   success=ONBOARDED, exit_codes=UNIFIED_EXIT_CODES,
                   arguments=("-Passive",) if settings.passive_mode else (), agent="unified",
                   log=UNIFIED_LOCAL_FOLDER + r"\InstallPS1-<computer name>.<time>.log")


# Install-MdeMma.ps1's exit codes: setup.exe's (Windows Installer's; Microsoft documents none of its
# own, mde-2026.md §B) and mdegen's (generator/payload_scripts.py MMA_EXITS).
MMA_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (81, "mdegen's installer could not copy the setup program to the local folder"),
    (82, "the copied setup program's SHA-256 is not the one mdegen recorded"),
    (83, "the setup program could not be extracted"),
    (84, "no workspace key was found at run time"),
    (85, "the workspace key found is not a workspace key"),
    (86, "no proxy password was found at run time"),
    (87, "the installed agent's configuration object (AgentConfigManager.MgmtSvcCfg) failed"),
    (88, "mdegen's work folder under C:\\ProgramData is not owned by SYSTEM or Administrators"),
    (1603, "setup.exe: the installation failed"),
    (1618, "setup.exe: another installation is running"),
    (1641, "setup.exe: installed; the server restarts"),
    (3010, "setup.exe: installed; a restart completes it"),
)
MMA_INSTALLER_NAME = "Install-MdeMma.ps1"
MMA_LOCAL_FOLDER = r"C:\ProgramData\mdegen\mma"
MMA_LOG = MMA_LOCAL_FOLDER + r"\Install-MdeMma.log"


def mma_onboarding(installer: HostedFile, setup: HostedFile, *, scep: bool = False) -> Payload:
    """mdegen's Install-MdeMma.ps1 beside Microsoft's MMASetup: the agent reports to the Defender
    workspace, whose key the installer reads at run time (never from the kit). ``scep``: the
    servers may keep System Center Endpoint Protection, whose cloud membership must be Advanced."""
    return Payload(role="onboarding", files=(installer, setup), command=installer.name, success=ONBOARDED,
                   exit_codes=MMA_EXIT_CODES, agent="mma", log=MMA_LOG,
                   policy=(policy.SCEP_CLOUD_ADVANCED,) if scep else ())
