"""`mdegen downlevel`: standalone installers for the down-level agents, for hand or script use
(RMM tools, remote shells), one folder per target that names an agent.

Each folder holds the target's payload (Microsoft's files byte-exact, mdegen's installer script
where the agent has one) with the launcher ``MdeInstallAgent.cmd`` that runs it from that folder,
``Test-MdePrerequisites.ps1`` with what the agent needs on the target's releases, and for targets
on the Microsoft Monitoring Agent ``Set-MdeScepCloudProtection.ps1``. Secrets (the MMA workspace
key, a proxy password) are never in the kit: the installer reads them at run time.

Layout under <output>/downlevel/:
  <target>/                  payload, MdeInstallAgent.cmd, Test-MdePrerequisites.ps1 [, SCEP script]
  HANDOFF.md
"""

from __future__ import annotations

from generator import payload_scripts, payloads, prerequisites, releases
from generator import verification
from generator.artifacts import OutputFile
from generator.builders.agent_advice import exit_code_rows, payload_title
from generator.builders.launcher import launcher_file
from generator.errors import ConfigError
from generator.handoff import checksum_rows, handoff_file, hklm_path
from generator.policy import SCEP_CLOUD_ADVANCED
from generator.project import Project, ResolvedTarget, mma_cloud_type, refuse_agent_targets
from generator.templating import markdown_cell, render_powershell, text_file

PREREQUISITES_NAME = "Test-MdePrerequisites.ps1"
PREREQUISITES_TEMPLATE = "downlevel/Test-MdePrerequisites.ps1.j2"
SCEP_NAME = "Set-MdeScepCloudProtection.ps1"
SCEP_TEMPLATE = "downlevel/Set-MdeScepCloudProtection.ps1.j2"
SCEP_ENGINE = r"%ProgramFiles%\Microsoft Security Client\MsMpEng.exe"
# The January 2017 anti-malware platform update (KB3209361) brings platform 4.10.209.0: INFERRED
# from the update's public release notes, not from the Defender docs; the script only warns below it.
SCEP_PLATFORM_MINIMUM = "4.10.209.0"


def _agent_targets(project: Project) -> list[ResolvedTarget]:
    return [t for t in project.targets if t.agent is not None]


def check(project: Project) -> list[str]:
    if not _agent_targets(project):
        raise ConfigError("name no down-level server for the downlevel kit: give a target with os 2008r2, 2012r2 "
                          "or 2016 and its agent (defenderdt, unified or mma)", path=project.source, field="targets")
    refuse_agent_targets(project, "downlevel")
    own = {n.casefold() for n in ("HANDOFF.md", "SHA256SUMS", "manifest.json", *(n for n, _ in verification.kit_files()))}
    for t in _agent_targets(project):
        if t.stem.casefold() in own:
            raise ConfigError(f"target name {t.name!r} is the name of one of the downlevel kit's own files: rename it",
                              path=project.source, field=f"{t.field}.name")
    return []


def _gateway(project: Project) -> str | None:
    """The tenant's Defender gateway, from the onboarding data (the portal package's, else DefenderDT's)."""
    if project.onboarding is not None and project.onboarding.facts.geo_location_url:
        return project.onboarding.facts.geo_location_url
    blob = getattr(project.agent_files.get("defenderdt_onboarding"), "blob", None)
    return blob.geo_location_url if blob is not None else None


def render_prerequisites(project: Project, target: ResolvedTarget) -> bytes:
    downlevel = project.config.downlevel
    workspace = downlevel.workspace_id if downlevel else None
    builds = []
    for r in target.releases:
        n = prerequisites.needs(r.key, target.agent)
        builds.append({"build": n.build, "name": n.name, "x64": n.x64, "dotnet_release": n.dotnet_release,
                       "dotnet35": n.dotnet35, "tls12_explicit": n.tls12_explicit, "strong_crypto": n.strong_crypto,
                       "antispyware_fails": n.antispyware_fails,
                       "hotfixes": [{"id": h.id, "why": h.why, "required": h.required} for h in n.hotfixes],
                       "file_versions": [{"path": f.path, "minimum": f.minimum, "why": f.why} for f in n.file_versions]})
    proxy = downlevel.proxy if downlevel and downlevel.proxy else ""
    if proxy and "://" not in proxy:
        proxy = "http://" + proxy
    context = {
        "organization": project.organization,
        "release": project.release_version,
        "target": target.name,
        "agent": target.agent,
        "proxy": proxy,
        "builds": builds,
        "urls": prerequisites.urls(target.agent, _gateway(project), workspace_id=workspace,
                                   cloud_type=mma_cloud_type(project.config, project.onboarding)),
        "facts": prerequisites.FACTS,
    }
    return text_file(render_powershell(PREREQUISITES_TEMPLATE, context), bom=True)


def render_scep_script() -> bytes:
    context = {"engine": SCEP_ENGINE, "platform_minimum": SCEP_PLATFORM_MINIMUM,
               "policy_key": SCEP_CLOUD_ADVANCED.key, "value_name": SCEP_CLOUD_ADVANCED.name,
               "value": SCEP_CLOUD_ADVANCED.data}
    return text_file(render_powershell(SCEP_TEMPLATE, context), bom=True)


def target_files(project: Project, target: ResolvedTarget) -> list[OutputFile]:
    payload = target.onboarding
    base = target.stem
    files = [OutputFile(f"{base}/{f.name}", f.data) for f in payload.files]
    name, data = launcher_file(payload)
    files.append(OutputFile(f"{base}/{name}", data))
    files.append(OutputFile(f"{base}/{PREREQUISITES_NAME}", render_prerequisites(project, target)))
    if SCEP_CLOUD_ADVANCED in payload.policy:
        files.append(OutputFile(f"{base}/{SCEP_NAME}", render_scep_script()))
    return files


def handoff(project: Project, files: list[OutputFile]) -> OutputFile:
    downlevel = project.config.downlevel
    rows, tables = [], {}
    for t in _agent_targets(project):
        rows.append({"name": markdown_cell(t.name), "stem": t.stem, "servers": markdown_cell(t.servers_long),
                     "agent": t.agent, "runs": payload_title(t.onboarding), "log": t.onboarding.log,
                     "passive": t.settings.passive_mode})
        tables.setdefault(t.agent, {"title": payload_title(t.onboarding), "rows": exit_code_rows(t.onboarding, {})})
    return handoff_file(
        "downlevel/HANDOFF.md.j2", project,
        targets=rows,
        exit_code_tables=list(tables.values()),
        any_mma=any(t.agent == releases.MMA for t in _agent_targets(project)),
        any_scep=any(SCEP_CLOUD_ADVANCED in t.onboarding.policy for t in _agent_targets(project)),
        proxy_user=downlevel is not None and downlevel.proxy_user is not None,
        key_variable=payload_scripts.MMA_KEY_VARIABLE, key_file=payload_scripts.MMA_KEY_FILE,
        password_variable=payload_scripts.PROXY_PASSWORD_VARIABLE, password_file=payload_scripts.PROXY_PASSWORD_FILE,
        scep_key=hklm_path(SCEP_CLOUD_ADVANCED.key), scep_value=SCEP_CLOUD_ADVANCED.name, scep_data=SCEP_CLOUD_ADVANCED.data,
        scep_name=SCEP_NAME, prerequisites_name=PREREQUISITES_NAME,
        success=_agent_targets(project)[0].onboarding.success,
        success_key=hklm_path(_agent_targets(project)[0].onboarding.success.key),
        verify_rows=[r for r, t in zip(verification.rows(project), project.targets) if t.agent is not None],
        mma_embedded=any(t.agent == "mma" and t.onboarding.command != payloads.MMA_INSTALLER_NAME for t in project.targets),
        mma_installer=next((t.onboarding.command for t in project.targets if t.agent == "mma"), ""),
        checksums=checksum_rows(files),
    )


def build(project: Project) -> list[OutputFile]:
    """All files of the downlevel kit, relative to <output>/downlevel/."""
    files: list[OutputFile] = []
    for t in _agent_targets(project):
        files += target_files(project, t)
    files += [OutputFile(name, data) for name, data in verification.kit_files()]
    return files + [handoff(project, files)]
