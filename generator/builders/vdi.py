"""`mdegen vdi`: what a golden-image builder needs to onboard non-persistent VDI machines.

Each boot of a non-persistent machine is a fresh clone, so the normal GPO task would either make
every clone one device (a cloned sensor identity) or flood the portal. Microsoft's procedure puts a
startup script in the golden image's local Group Policy: the portal's VDI package, either
``Onboard-NonPersistentMachine.ps1`` (single entry: one device per machine name) or its onboarding
``.cmd`` (multiple entries: a device per boot). The image itself is never onboarded.

Layout under <output>/vdi/:
  <pool>/Startup/                     the pool's payload, byte for byte (Microsoft-signed .ps1, .cmd)
  <pool>/Install-MdeVdiStartup.ps1    copies them into the image's local policy and registers them
  <pool>/LocalPolicy/                 the local policy files it produces on a clean image, to review
  reseal/Reset-MdeVdiImage.ps1        re-seals an image onboarded by mistake (+ the offboarding script)
  GPOs/, share/, Import-MdeGpo.ps1    the domain-GPO variant, for pools with domain_gpo: true
  PolicyDefinitions/                  ADMX + ADML for that variant's policy values
  HANDOFF.md
"""

from __future__ import annotations

from generator import verification
from generator.artifacts import OutputFile
from generator.builders.gpo import TASK_AUTHOR, backup_folder, machine_policy_entries
from generator.builders.import_script import render_import_script
from generator.builders.policy_definitions import build_policy_definitions
from generator.builders.vdi_scripts import (INSTALL_SCRIPT_NAME, KIT_STARTUP_FOLDER, RESEAL_FOLDER, RESET_SCRIPT_NAME,
                                            render_install_script, render_reset_script)
from generator.errors import ConfigError
from generator.formats import gpo_backup, gpscripts
from generator.handoff import checksum_rows, handoff_file
from generator.policy import ONBOARDING_STATE, SENSE_GUID, SENSE_SERVICE, STATUS_KEY, describe, hklm_path
from generator.project import Project, ResolvedPool
from generator.records import GpoDefinition, ImmediateTask, braced
from generator.templating import markdown_cell

LOCAL_POLICY = "LocalPolicy"
RESEAL = RESEAL_FOLDER
SHARE_FOLDER = "VDI"                 # below the configured share: the VDI package beside the GPO kit's files
_INI = {"single": "psscripts.ini", "multiple": "scripts.ini"}
# Where the image's local policy lives, as the handoff shows it.
LOCAL_GPO_ROOT = r"C:\Windows\System32\GroupPolicy"


def check(project: Project) -> list[str]:
    cfg = project.config
    if cfg.vdi is None:
        raise ConfigError("is required for the VDI kit: list the pools, e.g. `vdi: {pools: [{name: Pool A, "
                          "mode: single}]}`", path=project.source, field="vdi")
    if project.vdi is None:
        raise ConfigError("is required for the VDI kit: the portal's package 'VDI onboarding scripts for "
                          "non-persistent endpoints' (a zip with Onboard-NonPersistentMachine.ps1)",
                          path=project.source, field="packages.vdi")
    warnings = []
    for pool in project.pools:
        if pool.mode == "single" and project.vdi.vdi_script is None:
            raise ConfigError(f"single entry needs {project.vdi.source.name} to hold Onboard-NonPersistentMachine.ps1, "
                              "and it does not: download the VDI package again, or use mode: multiple",
                              path=project.source, field=f"{pool.field}.mode")
        if pool.domain_gpo and project.share is None:
            raise ConfigError(f"pool {pool.name!r} asks for a domain GPO, which runs the VDI script from the share: "
                              r"set share (e.g. \\fs01.contoso.com\MDE$)", path=project.source, field="share")
        if not pool.domain_gpo and describe(pool.settings):
            warnings.append(f"pool {pool.name!r}: the golden-image kit registers the startup script only; the "
                            "configured Defender settings reach these machines through a GPO (mdegen gpo, or "
                            "domain_gpo: true for the pool)")
    return warnings


# --- the golden-image kit of one pool ---------------------------------------------------------


def _pool_files(project: Project, pool: ResolvedPool) -> list[OutputFile]:
    payload = pool.payload
    base = pool.stem
    files = [OutputFile(f"{base}/{KIT_STARTUP_FOLDER}/{f.name}", f.data) for f in payload.files]
    ini_name = _INI[pool.mode]
    # What the install script leaves on a clean image: the reviewer reads exactly what lands.
    ini, _ = gpscripts.add_startup_script(None, payload.command)
    gpt, _ = gpscripts.add_machine_extension(None, gpscripts.SCRIPTS_CSE, gpscripts.SCRIPTS_TOOL_MACHINE, changed=True)
    files.append(OutputFile(f"{base}/{LOCAL_POLICY}/Machine/Scripts/{ini_name}", ini))
    files.append(OutputFile(f"{base}/{LOCAL_POLICY}/gpt.ini", gpt))
    files.append(OutputFile(f"{base}/{INSTALL_SCRIPT_NAME}", render_install_script(
        organization=project.organization, release=project.release_version, pool=pool.name, mode=pool.mode,
        startup_files=[(f.name, f.data) for f in payload.files], cmdline=payload.command)))
    return files


def _reseal_files(project: Project) -> list[OutputFile]:
    off = project.offboarding_payload
    files = []
    if off is not None:
        files += [OutputFile(f"{RESEAL}/{f.name}", f.data) for f in off.files]
    files.append(OutputFile(f"{RESEAL}/{RESET_SCRIPT_NAME}", render_reset_script(
        organization=project.organization, release=project.release_version,
        offboarding_script=None if off is None else off.command)))
    return files


# --- the domain-GPO variant -------------------------------------------------------------------


def _share_path(project: Project, name: str) -> str:
    return f"{project.share}\\{SHARE_FOLDER}\\{name}"


def _vdi_task(project: Project, pool: ResolvedPool, script: str) -> ImmediateTask:
    """Single entry from a domain GPO, as Microsoft documents it: an immediate task as SYSTEM that
    runs Onboard-NonPersistentMachine.ps1 from the share with execution policy Bypass (a computer
    startup script would depend on the machine's execution policy and the share's zone). It runs
    again at each policy refresh; the script then exits 4 (already onboarded) and changes nothing."""
    literal = "'" + script.replace("'", "''") + "'"          # a PowerShell single-quoted string
    return ImmediateTask(
        name="MDE VDI Onboarding",
        uid=project.guid("task", "vdi", pool.name),
        command="powershell.exe",
        arguments=f'-NoProfile -ExecutionPolicy Bypass -Command "& {literal}"',
        description=f"Runs Onboard-NonPersistentMachine.ps1 from the share as SYSTEM for VDI pool '{pool.name}' "
                    f"({project.organization}, release {project.release_version}).",
        author=TASK_AUTHOR,
        changed=project.release_time,
    )


def pool_gpo(project: Project, pool: ResolvedPool) -> GpoDefinition:
    payload = pool.payload
    script = _share_path(project, payload.command)
    entries = machine_policy_entries(pool.settings)
    parts = [gpo_backup.policy_part(entries)] if entries else []
    if pool.mode == "single":
        parts.append(gpo_backup.scheduled_tasks_part([_vdi_task(project, pool, script)]))
        runs = f"an immediate task runs {script} as SYSTEM"
    else:
        ini, _ = gpscripts.add_startup_script(None, script)
        parts.append(gpo_backup.startup_scripts_part(_INI[pool.mode], ini))
        runs = f"a computer startup script runs {script}"
    n = len(describe(pool.settings))
    mode = "single entry per machine name" if pool.mode == "single" else "a new device entry per boot"
    return GpoDefinition(
        role="onboarding",
        target_name=pool.name,
        display_name=f"MDE VDI Onboarding - {pool.name}",
        description=(f"Onboards the non-persistent VDI machines of pool '{pool.name}' to Microsoft Defender for "
                     f"Endpoint at each start ({mode}): {runs}; "
                     f"{n} policy setting{'s' if n != 1 else ''}. Link it to the pool's OU only. "
                     f"{project.organization}, release {project.release_version}, generated by mdegen."),
        gpo_id=project.guid("gpo", "vdi", pool.name),
        backup_id=project.guid("backup", "vdi", pool.name),
        backup_time=project.release_time,
        domain=project.domain,
        parts=tuple(parts),
    )


def _domain_files(project: Project, gpos: list[tuple[ResolvedPool, GpoDefinition]]) -> list[OutputFile]:
    if not gpos:
        return []
    definitions = [g for _, g in gpos]
    policy_definitions = list(build_policy_definitions())
    files = list(policy_definitions) + backup_folder(definitions)
    hosted = {f.name: f for pool, _ in gpos for f in pool.payload.files}
    files += [OutputFile(f"share/{SHARE_FOLDER}/{f.name}", f.data) for f in hosted.values()]
    files.append(OutputFile("Import-MdeGpo.ps1", render_import_script(
        definitions, organization=project.organization, release=project.release_version,
        admx_files=[f.path for f in policy_definitions])))
    return files


# --- the kit --------------------------------------------------------------------------------


def handoff(project: Project, gpos: list[tuple[ResolvedPool, GpoDefinition]], files: list[OutputFile]) -> OutputFile:
    pools = []
    by_pool = {pool.name: gpo for pool, gpo in gpos}
    for pool in project.pools:
        gpo = by_pool.get(pool.name)
        pools.append({
            "name": markdown_cell(pool.name),
            "stem": pool.stem,
            "mode": pool.mode,
            "command": pool.payload.command,
            "files": [f.name for f in pool.payload.files],
            "ini": _INI[pool.mode],
            "exit_codes": [{"code": c, "meaning": m} for c, m in pool.payload.exit_codes],
            "gpo": None if gpo is None else {"name": markdown_cell(gpo.display_name), "backup_id": braced(gpo.backup_id),
                                              "script": _share_path(project, pool.payload.command),
                                              "how": "immediate task as SYSTEM" if pool.mode == "single"
                                              else "computer startup script"},
        })
    off = project.offboarding_payload
    return handoff_file(
        "vdi/HANDOFF.md.j2", project,
        pools=pools,
        verify_rows=[{"name": markdown_cell(p.name), "command": verification.command(
            name=p.name, settings=p.settings, agent=None,
            org_id=project.onboarding.facts.org_id if project.onboarding else None,
            release=project.release_version)} for p in project.pools],
        local_root=LOCAL_GPO_ROOT,
        status_key=hklm_path(STATUS_KEY),
        onboarding_state=ONBOARDING_STATE,
        sense_guid=SENSE_GUID,
        sense_service=SENSE_SERVICE,
        share=project.share,
        share_folder=SHARE_FOLDER,
        domain=project.domain,
        offboarding=None if off is None else {"script": off.command, "expires": off.valid_until_text},
        checksums=checksum_rows(files),
    )


def build(project: Project) -> list[OutputFile]:
    """All files of the vdi kit, relative to <output>/vdi/ (the writer adds manifest and sums)."""
    files: list[OutputFile] = []
    for pool in project.pools:
        files += _pool_files(project, pool)
    files += _reseal_files(project)
    gpos = [(pool, pool_gpo(project, pool)) for pool in project.pools if pool.domain_gpo]
    files += _domain_files(project, gpos)
    files += [OutputFile(name, data) for name, data in verification.kit_files()]
    return files + [handoff(project, gpos, files)]
