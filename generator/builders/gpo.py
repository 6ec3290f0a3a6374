"""`mdegen gpo`: the Group Policy kit.

Per target, one onboarding GPO holding (a) the machine registry.pol with passive mode and the
configured settings and (b) the Preferences immediate task that runs the target's onboarding
payload (today the portal's onboarding script) from the share as SYSTEM. Both live in one GPO on purpose: the Registry extension is processed
before Preferences, so passive mode is in place before onboarding runs. When an offboarding package
is configured, one offboarding GPO runs it the same way. Around them: the ADMX/ADML, a WMI filter
per target, the files for the share, the import script and the handoff.

Layout under <output>/gpo/:
  GPOs/manifest.xml, GPOs/{backup id}/...     GPMC backups for Import-GPO
  WmiFilters/<target>.mof                      WMI filters GPMC can import
  share/                                       exactly what goes on the configured share
  PolicyDefinitions/                           ADMX + en-US ADML for the central store
  Import-MdeGpo.ps1, HANDOFF.md                for the AD admin
"""

from __future__ import annotations

from generator import launch, payloads
from generator import verification
from generator.artifacts import OutputFile
from generator.builders.agent_advice import exit_code_rows, payload_title
from generator.builders.import_script import render_import_script
from generator.builders.policy_definitions import build_policy_definitions
from generator.config import Settings
from generator.errors import ConfigError
from generator.formats import gpo_backup, regpol, wmi_mof
from generator.handoff import checksum_rows, handoff_file, hklm_path
from generator.payloads import HostedFile, Payload
from generator.policy import (
    ASR_MODE_DATA,
    ASR_RULES,
    ASR_RULES_KEY,
    RegistryValue,
    describe,
    inactive_in_passive_mode,
    registry_values,
    setting,
)
from generator.project import Project, ResolvedTarget, missing_ways_off, refuse_agent_targets
from generator.releases import DOMAIN_CONTROLLER, MEMBER_SERVER
from generator.records import GpoDefinition, ImmediateTask, WmiFilter, braced
from generator.targeting import wmi_filter_for
from generator.templating import markdown_cell, render, text_file

TASK_AUTHOR = "mdegen"
RESULTS_SHARE_EXAMPLE = r"\\<server>\MDE-Results$"     # a share of the admin's own, named in the handoff

# What the admin does about each of the portal script's error ids when the GPO task runs it.
_ADVICE = {
    5: "check the task runs as SYSTEM",
    10: "check the task runs as SYSTEM",
    15: "check the OS build is supported and up to date, then re-run",
    30: "re-run; check connectivity to the Defender cloud",
    35: "check connectivity, proxy, and the Sense event log",
    40: "check the Microsoft-Windows-SENSE/Operational log",
    65: "the task must run as NT AUTHORITY\\System",
    70: "download the packages of your own tenant",
}


# --- the kit's requirements -------------------------------------------------------------------


def check(project: Project) -> list[str]:
    refuse_agent_targets(project, "GPO")
    if project.share is None:
        raise ConfigError(r"is required for the Group Policy kit: the UNC path the GPO task runs the "
                          r"onboarding script from, e.g. \\fs01.contoso.com\MDE$\Onboarding",
                          path=project.source, field="share")
    return missing_ways_off(project, "GPO")


# --- registry.pol ---------------------------------------------------------------------------------


def _entry(value: RegistryValue) -> regpol.PolEntry:
    if value.kind == "dword":
        return regpol.PolEntry.dword(value.key, value.name, int(value.data))
    return regpol.PolEntry.sz(value.key, value.name, str(value.data))


def machine_policy_entries(settings: Settings, extra: tuple[RegistryValue, ...] = ()) -> list[regpol.PolEntry]:
    """registry.pol entries for the configured settings and the payload's ``extra`` policy values
    (those the settings do not already set), in regpol's canonical order."""
    values = registry_values(settings)
    values += [v for v in extra if (v.key, v.name) not in {(x.key, x.name) for x in values}]
    return regpol.canonical_order([_entry(v) for v in values])


# --- GPO definitions ------------------------------------------------------------------------------


def _share_path(project: Project, file_name: str) -> str:
    return project.share + "\\" + file_name


def _task(project: Project, payload: Payload, *, name: str, uid_parts: tuple[str, ...], description: str) -> ImmediateTask:
    command, arguments = launch.task_command(payload, project.share)
    return ImmediateTask(
        name=name,
        uid=project.guid("task", *uid_parts),
        command=command,
        arguments=arguments,
        description=description,
        author=TASK_AUTHOR,
        changed=project.release_time,
    )


def onboarding_gpo(project: Project, target: ResolvedTarget, wmi: WmiFilter) -> GpoDefinition:
    # The payload's presets (passive mode) need no step of their own here: they are policy values
    # of the same GPO's registry.pol, which the Registry extension applies before Preferences.
    payload = target.onboarding
    missing = [v for v in payload.presets if v not in registry_values(target.settings)]
    if missing:
        raise ValueError(f"the onboarding payload of target {target.name!r} needs {', '.join(v.name for v in missing)} "
                         "set first, which this GPO's registry.pol does not set")
    script = _share_path(project, payload.command)
    what = "the onboarding script" if payload.agent is None else payload_title(payload)
    n_settings = len(describe(target.settings))
    description = (
        f"Onboards {target.servers_long} to Microsoft Defender for Endpoint: {n_settings} policy setting"
        f"{'s' if n_settings != 1 else ''} ({target.passive_mode_text}) and an immediate task that runs {script} "
        f"once as SYSTEM. {project.organization}, release {project.release_version}, generated by mdegen."
    )
    entries = machine_policy_entries(target.settings, payload.policy)
    parts = [gpo_backup.policy_part(entries)] if entries else []
    parts.append(gpo_backup.scheduled_tasks_part([_task(
        project, payload, name="MDE Onboarding", uid_parts=("onboarding", target.name),
        description=("Runs the Microsoft Defender for Endpoint onboarding script once as SYSTEM "
                     if payload.agent is None else
                     f"Runs {what} once as SYSTEM to install and onboard Microsoft Defender for Endpoint ")
                    + f"({project.organization}, release {project.release_version}).")]))
    return GpoDefinition(
        role="onboarding",
        target_name=target.name,
        display_name=f"MDE Onboarding - {target.name}",
        description=description,
        gpo_id=project.guid("gpo", "onboarding", target.name),
        backup_id=project.guid("backup", "onboarding", target.name),
        backup_time=project.release_time,
        domain=project.domain,
        parts=tuple(parts),
        wmi_filter=wmi,
    )


def offboarding_gpo(project: Project) -> GpoDefinition | None:
    payload = project.offboarding_payload
    if payload is None:
        return None
    until = payload.valid_until_date
    script = _share_path(project, payload.command)
    return GpoDefinition(
        role="offboarding",
        target_name=None,
        display_name=f"MDE Offboarding - valid until {until} - never link with onboarding",
        description=(
            f"OFFBOARDS servers from Microsoft Defender for Endpoint: an immediate task runs {script} once as "
            f"SYSTEM. The script stops working after {until}. Never link this GPO where an MDE Onboarding GPO "
            f"applies. {project.organization}, release {project.release_version}, generated by mdegen."
        ),
        gpo_id=project.guid("gpo", "offboarding", until),
        backup_id=project.guid("backup", "offboarding", until),
        backup_time=project.release_time,
        domain=project.domain,
        parts=(gpo_backup.scheduled_tasks_part([_task(
            project, payload, name="MDE Offboarding", uid_parts=("offboarding", until),
            description=f"Runs the Microsoft Defender for Endpoint offboarding script once as SYSTEM "
                        f"(valid until {until}).")]),),
    )


def agent_offboarding_gpos(project: Project) -> list[tuple[ResolvedTarget, GpoDefinition, Payload]]:
    """Per down-level target whose way off is configured: an offboarding GPO whose task runs it
    (DefenderDT -Offboard, install.ps1 -Uninstall, the MMA workspace's removal), filtered to the
    target's servers like its onboarding GPO."""
    out = []
    for t in project.targets:
        payload = t.offboarding
        if payload is None:
            continue
        until = f" - valid until {payload.valid_until_date}" if payload.valid_until else ""
        command, arguments = launch.task_command(payload, project.share)
        gpo = GpoDefinition(
            role="offboarding",
            target_name=t.name,
            display_name=f"MDE Offboarding - {t.name}{until} - never link with onboarding",
            description=(
                f"OFFBOARDS {t.servers_long} from Microsoft Defender for Endpoint: an immediate task runs {command} "
                f"{arguments} once as SYSTEM.{' The offboarding data stops working after ' + payload.valid_until_date + '.' if payload.valid_until else ''} "
                f"Never link this GPO where an MDE Onboarding GPO applies. {project.organization}, release "
                f"{project.release_version}, generated by mdegen."),
            gpo_id=project.guid("gpo", "offboarding", t.name, payload.valid_until_date),
            backup_id=project.guid("backup", "offboarding", t.name, payload.valid_until_date),
            backup_time=project.release_time,
            domain=project.domain,
            parts=(gpo_backup.scheduled_tasks_part([_task(
                project, payload, name="MDE Offboarding", uid_parts=("offboarding", t.name, payload.valid_until_date),
                description=f"Runs {payload.command} once as SYSTEM to offboard from Microsoft Defender for Endpoint.")]),),
            wmi_filter=wmi_filter_for(project, t),
        )
        out.append((t, gpo, payload))
    return out


def gpo_definitions(project: Project) -> list[tuple[ResolvedTarget | None, GpoDefinition]]:
    """Each GPO of the kit with the target it onboards (None for the offboarding GPO)."""
    pairs: list[tuple[ResolvedTarget | None, GpoDefinition]] = [
        (t, onboarding_gpo(project, t, wmi_filter_for(project, t))) for t in project.targets]
    off = offboarding_gpo(project)
    return pairs + ([(None, off)] if off else [])


# --- files ----------------------------------------------------------------------------------------


def _share_files(project: Project, agent_offs: list[tuple[ResolvedTarget, GpoDefinition, Payload]]) -> list[OutputFile]:
    hosting = [t.onboarding for t in project.targets]
    if project.offboarding_payload is not None:
        hosting.append(project.offboarding_payload)
    hosting += [payload for _, _, payload in agent_offs]
    # Targets share files (the portal script, an agent's installer): the share holds each once.
    # Two different files under one name would make one target run the other's: refuse that.
    by_name: dict[str, HostedFile] = {}
    for f in (f for p in hosting for f in p.files):
        if f.name in by_name and by_name[f.name].data != f.data:
            raise ValueError(f"two payloads put different files named {f.name!r} on the share")
        by_name[f.name] = f
    hosted = list(by_name.values())
    # The verification script too, for a GPO task that collects results (see the handoff).
    hosted.append(HostedFile(verification.SCRIPT_NAME, verification.render_script(), by_mdegen=True))
    files = [OutputFile(f"share/{f.name}", f.data) for f in hosted]
    mdegen_names = [f.name for f in hosted if f.by_mdegen]
    text = render("gpo/share-README.txt.j2", share=project.share, names=[f.name for f in hosted],
                  mdegen_names=mdegen_names,
                  organization=project.organization, release=project.release_version)
    files.append(OutputFile("share/README.txt", text_file(text)))
    return files


def _settings_rows(settings: Settings) -> list[dict[str, str]]:
    inactive = {s.field for s in inactive_in_passive_mode(settings)}
    return [
        {"title": markdown_cell(s.title),
         "value": markdown_cell(text) + (" (inactive while passive mode is on)" if s.field in inactive else ""),
         "key": hklm_path(s.key), "value_name": s.value_name, "shown_by": s.shown_by}
        for s, text in describe(settings)
    ]


def _ou_example(project: Project, target: ResolvedTarget) -> str:
    """The -LinkOU value to show for ``target`` (a PowerShell literal or array of literals): domain
    controllers live in their built-in OU, so a target with both kinds needs both OUs."""
    dn = ",".join(f"DC={part}" for part in project.domain.split("."))
    ous = []
    if MEMBER_SERVER in target.product_types:
        ous.append(f"'OU=Servers,{dn}'")
    if DOMAIN_CONTROLLER in target.product_types:
        ous.append(f"'OU=Domain Controllers,{dn}'")
    return ous[0] if len(ous) == 1 else "@(" + ", ".join(ous) + ")"


def _mof_path(target: ResolvedTarget) -> str:
    return f"WmiFilters/{target.stem}.mof"


def handoff(project: Project, gpos: list[tuple[ResolvedTarget | None, GpoDefinition]],
            files: list[OutputFile], agent_offs: list[tuple[ResolvedTarget, GpoDefinition, Payload]] = ()) -> OutputFile:
    targets = []
    for t, gpo in gpos:
        if t is None:
            continue
        rules = t.settings.asr_rules or {}
        targets.append({
            "name": markdown_cell(t.name),
            "name_ps": t.name,             # target names cannot hold quotes (config.Target)
            "ou_example": _ou_example(project, t),
            "gpo": markdown_cell(gpo.display_name),
            "backup_id": braced(gpo.backup_id),
            "servers": markdown_cell(t.servers_long),
            "wmi_name": markdown_cell(gpo.wmi_filter.name),
            "wmi_query": gpo.wmi_filter.query,
            "mof": _mof_path(t),
            "settings": _settings_rows(t.settings),
            "passive_mode": t.settings.passive_mode,
            "asr_rules": [{"guid": g, "mode": m, "data": ASR_MODE_DATA[m],
                           "name": markdown_cell(ASR_RULES.get(g, "(not a rule Microsoft documents)"))}
                          for g, m in rules.items()],
            "has_pol": any(part.block_id == gpo_backup.REGISTRY_CSE for part in gpo.parts),
            "agent": t.agent,
            "runs": payload_title(t.onboarding),
            **dict(zip(("task_command", "task_arguments"), launch.task_command(t.onboarding, project.share))),
            "log": t.onboarding.log,
            "proxy_user": project.config.downlevel is not None and project.config.downlevel.proxy_user is not None,
            "agent_policy": [{"key": hklm_path(v.key), "name": v.name, "data": v.data} for v in t.onboarding.policy],
        })
    off = next((g for t, g in gpos if t is None), None)
    offboarding = project.offboarding_payload
    # One exit-code table per kind of payload, in the order the targets first use them.
    tables = {}
    for t in project.targets:
        tables.setdefault(t.onboarding.agent, {"title": payload_title(t.onboarding),
                                              "rows": exit_code_rows(t.onboarding, _ADVICE)})
    return handoff_file(
        "gpo/HANDOFF.md.j2", project,
        domain=project.domain,
        share=project.share,
        any_dcs=any(DOMAIN_CONTROLLER in t.product_types for t in project.targets),
        targets=targets,
        portal_targets=any(t.agent is None for t in project.targets),
        agent_targets=any(t.agent is not None for t in project.targets),
        log_share=project.config.downlevel.log_share if project.config.downlevel else None,
        offboarding=None if off is None else {
            "gpo": markdown_cell(off.display_name),
            "backup_id": braced(off.backup_id),
            "script": offboarding.command,
            "expires": offboarding.valid_until_text,
        },
        exit_code_tables=list(tables.values()),
        success=project.targets[0].onboarding.success,
        success_key=hklm_path(project.targets[0].onboarding.success.key),
        passive_value_name=setting("passive_mode").value_name,
        asr_key=hklm_path(ASR_RULES_KEY),
        verify_rows=verification.rows(project),
        verify_task=[{**r, "command": launch.POWERSHELL} for r in verification.task_rows(
            project, _share_path(project, verification.SCRIPT_NAME), RESULTS_SHARE_EXAMPLE)],
        agent_offboarding=[{"gpo": markdown_cell(g.display_name), "backup_id": braced(g.backup_id),
                            "name": markdown_cell(t.name), "servers": markdown_cell(t.servers_long),
                            "wmi_name": markdown_cell(g.wmi_filter.name),
                            "command": " ".join(launch.task_command(p, project.share)).strip()}
                           for t, g, p in agent_offs],
        mma_embedded=any(t.agent == "mma" and t.onboarding.command != payloads.MMA_INSTALLER_NAME for t in project.targets),
        mma_installer=next((t.onboarding.command for t in project.targets if t.agent == "mma"), ""),
        checksums=checksum_rows(files),
    )


def backup_folder(definitions: list[GpoDefinition]) -> list[OutputFile]:
    """The GPMC backup folder of ``definitions`` (GPOs/{id}/..., GPOs/manifest.xml), as Import-GPO
    and Import-MdeGpo.ps1 read it: shared by every kit that writes GPOs."""
    files = [OutputFile(f"GPOs/{f.path}", f.data) for gpo in definitions for f in gpo_backup.backup_files(gpo)]
    files.append(OutputFile("GPOs/manifest.xml", gpo_backup.manifest_xml(definitions)))
    return files


def build(project: Project) -> list[OutputFile]:
    """All files of the gpo kit, relative to <output>/gpo/ (the writer adds manifest and sums)."""
    gpos = gpo_definitions(project)
    agent_offs = agent_offboarding_gpos(project)
    definitions = [g for _, g in gpos] + [g for _, g, _ in agent_offs]
    policy_definitions = list(build_policy_definitions())
    files = list(policy_definitions) + backup_folder(definitions)
    for t, gpo in gpos:
        if t is not None:
            files.append(OutputFile(_mof_path(t), wmi_mof.dumps(gpo.wmi_filter, domain=project.domain,
                                                               author=TASK_AUTHOR, created=project.release_time)))
    files += _share_files(project, agent_offs)
    files += [OutputFile(name, data) for name, data in verification.kit_files()]
    files.append(OutputFile("Import-MdeGpo.ps1", render_import_script(
        definitions, organization=project.organization, release=project.release_version,
        admx_files=[f.path for f in policy_definitions])))
    return files + [handoff(project, gpos, files, agent_offs)]
