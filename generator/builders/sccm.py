"""`mdegen sccm-package`: the Configuration Manager kit.

Per target, one package whose source folder holds the portal's onboarding script byte-exact and,
where passive mode is configured, a wrapper that sets ForceDefenderPassiveMode in the 64-bit view
first; a Package Definition File; a device collection; and a non-remediating compliance baseline.
An offboarding package (its own source folder) when an offboarding script is configured. Around
them: New-MdeCmPackage.ps1, the discovery scripts as files, and the handoff.

Layout under <output>/sccm/:
  packages/<folder>/          package source: scripts and the .sms definition
  compliance/*.ps1            discovery scripts of the configuration items
  New-MdeCmPackage.ps1, HANDOFF.md
"""

from __future__ import annotations

import re

from generator import __version__
from generator.artifacts import OutputFile
from generator.builders.cm_script import (
    COMPLIANCE_FOLDER,
    PACKAGES_FOLDER,
    SCRIPT_NAME,
    discovery_settings,
    render_cm_script,
    render_discovery_scripts,
)
from generator.builders.sccm_model import CmCompliance, CmPackage, CmProgram
from generator.builders.sccm_wrapper import PASSIVE_MODE_FAILED_EXIT, WRAPPER_NAME, render_passive_wrapper
from generator.config import SERVER_BUILDS, EffectiveTarget
from generator.errors import ConfigError, MdegenError
from generator.formats import pdf_sms
from generator.inputs import Inputs
from generator.targeting import cm_collection_for
from generator.templating import markdown_cell, render, to_crlf
from generator.writer import sha256_hex

KIT = "sccm"
PUBLISHER = "Microsoft"            # the scripts are Microsoft's; the package only carries them
LANGUAGE = "Neutral"
RUN_MINUTES = 15                   # the script waits about 75 s at most; 15 leaves room, never "Unknown"
PLATFORM = "Win NT (x64)"

_SHORT = {"2019": "2019", "2022": "2022", "2025": "2025", "sac": "SAC"}


def _stem(name: str) -> str:
    return re.sub(r"\s+", "-", name)


def _supported_clients(builds: list[str] | tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    # One version range per build: the platform check then admits exactly these builds.
    return tuple((PLATFORM, f"10.00.{b}.0000", f"10.00.{b}.9999") for b in builds)


def onboarding_package_name(target_name: str) -> str:
    return f"MDE Onboarding - {target_name}"


def _servers_text(et: EffectiveTarget) -> str:
    releases = ", ".join(_SHORT[r] for r in et.target.os)
    return f"Windows Server {releases} {et.target.server_kinds()}"


def onboarding_package(inputs: Inputs, et: EffectiveTarget) -> CmPackage:
    cfg = inputs.config
    script = inputs.onboarding.script_name
    passive = et.settings.passive_mode
    files: list[tuple[str, bytes]] = [(script, inputs.onboarding.script)]
    command = script
    if passive is not None:
        files.append((WRAPPER_NAME, render_passive_wrapper(script, passive_value=int(passive))))
        command = WRAPPER_NAME
    mode = {True: "passive mode on", False: "passive mode off", None: "passive mode not set"}[passive]
    return CmPackage(
        role="onboarding",
        target_name=et.name,
        folder=f"MDE-Onboarding-{_stem(et.name)}",
        name=onboarding_package_name(et.name),
        version=cfg.release.version,
        publisher=PUBLISHER,
        language=LANGUAGE,
        comment=f"Onboards {_servers_text(et)} to Defender for Endpoint; {mode}. mdegen",
        program=CmProgram(
            section="Onboard",
            name="Onboard",
            command_line=command,
            comment=f"Runs the Defender for Endpoint onboarding script ({mode}); exit code = script error id",
            estimated_run_minutes=RUN_MINUTES,
            estimated_disk_mb=1,
            supported_clients=_supported_clients(et.target.builds()),
        ),
        files=tuple(files),
        collection=cm_collection_for(cfg, et.target),
        compliance=CmCompliance(
            ci_name=onboarding_package_name(et.name),
            baseline_name=onboarding_package_name(et.name),
            description=f"Reports whether {_servers_text(et)} are onboarded to Defender for Endpoint"
                        + ("" if passive is None else f" and have {mode}") + ". Non-remediating. mdegen",
            settings=discovery_settings(passive),
        ),
        passive_mode=passive,
    )


def offboarding_package(inputs: Inputs) -> CmPackage | None:
    pkg = inputs.offboarding
    if pkg is None:
        return None
    expires = pkg.facts.expiration
    until = expires.date().isoformat() if expires else "unknown"
    all_builds = sorted({b for builds in SERVER_BUILDS.values() for b in builds})
    return CmPackage(
        role="offboarding",
        target_name=None,
        folder=f"MDE-Offboarding-{until}",
        name=f"MDE Offboarding until {until}",
        version=f"valid until {until}",
        publisher=PUBLISHER,
        language=LANGUAGE,
        comment=f"OFFBOARDS from Defender for Endpoint. Expires {until}. Never deploy where onboarding is deployed",
        program=CmProgram(
            section="Offboard",
            name="Offboard",
            command_line=pkg.script_name,
            comment=f"Runs the Defender for Endpoint offboarding script (valid until {until})",
            estimated_run_minutes=RUN_MINUTES,
            estimated_disk_mb=1,
            supported_clients=_supported_clients(all_builds),
        ),
        files=((pkg.script_name, pkg.script),),
    )


def _check_name_lengths(inputs: Inputs) -> None:
    """The console limits package names to 50 characters: name the target whose name is too long."""
    limit = pdf_sms.PACKAGE_LIMITS["Name"]
    for i, et in enumerate(inputs.config.effective_targets()):
        name = onboarding_package_name(et.name)
        if len(name) > limit:
            raise ConfigError(
                f"the SCCM package name {name!r} would be {len(name)} characters; Configuration Manager allows "
                f"{limit}: shorten the target name to at most {limit - len(onboarding_package_name(''))} characters",
                field=f"targets[{i}].name")


def cm_packages(inputs: Inputs) -> list[CmPackage]:
    _check_name_lengths(inputs)
    packages = [onboarding_package(inputs, et) for et in inputs.config.effective_targets()]
    off = offboarding_package(inputs)
    return packages + ([off] if off else [])


def _package_files(p: CmPackage) -> list[OutputFile]:
    base = f"{PACKAGES_FOLDER}/{p.folder}"
    files = [OutputFile(f"{base}/{name}", data) for name, data in p.files]
    files.append(OutputFile(f"{base}/{p.folder}.sms", pdf_sms.dumps(p)))
    return files


def handoff(inputs: Inputs, packages: list[CmPackage], files: list[OutputFile]) -> OutputFile:
    cfg = inputs.config
    servers = {et.name: _servers_text(et) for et in cfg.effective_targets()}
    rows = []
    for p in packages:
        rows.append({
            "name": markdown_cell(p.name),
            "servers": markdown_cell(servers[p.target_name] if p.target_name else "the collection you deploy it to"),
            "command_line": p.program.command_line,
            "folder": p.folder,
            "collection": markdown_cell(p.collection.name) if p.collection else "",
            "query": p.collection.query if p.collection else "",
            "baseline": markdown_cell(p.compliance.baseline_name) if p.compliance else "",
        })
    off = next((p for p in packages if p.role == "offboarding"), None)
    text = render(
        "sccm/HANDOFF.md.j2",
        organization=markdown_cell(cfg.organization),
        release_version=cfg.release.version,
        release_date=cfg.release.date.isoformat(),
        mdegen_version=__version__,
        packages=rows,
        any_wrapper=any(p.passive_mode is not None for p in packages),
        wrapper_name=WRAPPER_NAME,
        wrapper_exit_code=PASSIVE_MODE_FAILED_EXIT,
        offboarding=None if off is None else {
            "name": markdown_cell(off.name),
            "expires": inputs.offboarding.facts.expiration.strftime("%Y-%m-%d %H:%M UTC")
            if inputs.offboarding.facts.expiration else "unknown",
        },
        checksums=[{"path": f.path, "sha256": sha256_hex(f.data)} for f in files],
    )
    return OutputFile("HANDOFF.md", to_crlf(text).encode("utf-8"))


def build_sccm_kit(inputs: Inputs) -> list[OutputFile]:
    """All files of the sccm kit, relative to <output>/sccm/ (the writer adds manifest and sums)."""
    cfg = inputs.config
    try:
        packages = cm_packages(inputs)
        files: list[OutputFile] = []
        for p in packages:
            files += _package_files(p)
        passive_modes = [p.passive_mode for p in packages if p.passive_mode is not None]
        files += [OutputFile(f"{COMPLIANCE_FOLDER}/{name}", data) for name, data in render_discovery_scripts(passive_modes)]
        files.append(OutputFile(SCRIPT_NAME, render_cm_script(packages, organization=cfg.organization,
                                                              release=cfg.release.version)))
    except ConfigError:
        raise
    except (MdegenError, ValueError) as exc:
        # Format writers refuse what their format cannot carry; every value comes from the config.
        raise ConfigError(f"cannot build the SCCM kit: {exc}") from None
    return files + [handoff(inputs, packages, files)]
