"""`mdegen offboard`: the way off for every route, per target.

- Windows Server 2019 and later and VDI pools: the portal's offboarding script, byte for byte
  (the offboarding GPO and SCCM package of the gpo and sccm kits run the same file).
- DefenderDT targets: DefenderDT.exe with the portal's .offboarding file, through two launchers:
  ``MdeOffboardAgent.cmd`` (-Offboard) and ``MdeUninstallAgent.cmd`` (-Uninstall).
- Unified-agent targets: ``Uninstall-MdeUnifiedAgent.ps1`` runs install.ps1 -Uninstall
  -OffboardingScript from a checked local copy.
- MMA targets: ``Remove-MdeMmaWorkspace.ps1`` (only the Defender workspace) and
  ``Uninstall-MdeMma.ps1`` (the product code found at run time).

Every file that carries an offboarding package's expiry states it in its folder name, and the
handoff gives the order of the steps per route and how to confirm each with Test-MdeOnboarding.ps1.

Layout under <output>/offboard/:
  portal-valid-until-<date>/      the portal's offboarding script
  <target>/                       the down-level target's way off
  Test-MdeOnboarding.ps1, HANDOFF.md
"""

from __future__ import annotations

from generator import cm_route, payloads, releases, verification
from generator.artifacts import OutputFile
from generator.builders.agent_advice import DEFENDERDT
from generator.builders.launcher import launcher_file
from generator.errors import ConfigError
from generator.handoff import checksum_rows, handoff_file
from generator.offboarding import (
    MMA_EXITS,
    OFFBOARD_LAUNCHER,
    REMOVE_WORKSPACE_NAME,
    UNIFIED_EXITS,
    UNINSTALL_LAUNCHER,
    UNINSTALL_MMA_NAME,
    UNINSTALL_UNIFIED_NAME,
    defenderdt_parts,
    mma_parts,
    unified_parts,
)
from generator.project import Project
from generator.templating import markdown_cell

_DEFENDERDT_OFF_ADVICE = {**DEFENDERDT, 3: "nothing: the server is not onboarded",
                          300: "see the tool's log; check connectivity", 301: "check the folder holds the .offboarding file",
                          302: "download a new offboarding package of your tenant (it expires after seven days)",
                          900: "see the tool's log; offboarding itself may have worked",
                          920: "remove the workspace with the MMA route's Remove-MdeMmaWorkspace.ps1"}


def _portal_needed(project: Project) -> bool:
    return any(t.agent is None for t in project.targets) or bool(project.pools)


def check(project: Project) -> list[str]:
    for t in project.targets:
        missing = project.missing_for_way_off(t) if t.agent is not None else []
        if missing:
            why = (": install.ps1 -Uninstall runs the portal's offboarding script"
                   if missing[0] == "packages.offboarding" else "")
            raise ConfigError(f"is required for offboarding target {t.name!r} (agent: {t.agent}){why}",
                              path=project.source, field=missing[0])
    if _portal_needed(project) and project.offboarding is None:
        raise ConfigError("is required for the offboard kit: the portal's offboarding package for Windows Server "
                          "2019 and later (Settings > Endpoints > Offboarding, Group Policy)", path=project.source,
                          field="packages.offboarding")
    return []


def _portal_folder(project: Project) -> str:
    return f"portal-valid-until-{project.offboarding_payload.valid_until_date}"


def _defenderdt_files(project: Project, base: str) -> list[OutputFile]:
    tool, blob, until = defenderdt_parts(project.agent_files)
    files = [OutputFile(f"{base}/{f.name}", f.data) for f in (tool, blob)]
    for uninstall, launcher in ((False, OFFBOARD_LAUNCHER), (True, UNINSTALL_LAUNCHER)):
        payload = payloads.defenderdt_offboarding(tool, blob, uninstall=uninstall, valid_until=until)
        n, data = launcher_file(payload, launcher)
        files.append(OutputFile(f"{base}/{n}", data))
    return files


def _unified_files(project: Project, base: str) -> list[OutputFile]:
    wrapper, script, off = unified_parts(project.agent_files, project.offboarding, project.offboarding_payload)
    return [OutputFile(f"{base}/{f.name}", f.data) for f in (script, off, wrapper)]


def _mma_files(project: Project, base: str) -> list[OutputFile]:
    return [OutputFile(f"{base}/{f.name}", f.data) for f in mma_parts(project.config.downlevel.workspace_id)]


_FILES = {releases.DEFENDERDT: _defenderdt_files, releases.UNIFIED: _unified_files, releases.MMA: _mma_files}


def _route_rows(project: Project) -> list[dict[str, object]]:
    rows = []
    for t in project.targets:
        if t.agent is None:
            continue
        rows.append({"name": markdown_cell(t.name), "stem": t.stem, "agent": t.agent,
                     "servers": markdown_cell(t.servers_long)})
    return rows


def _verify_rows(project: Project) -> list[dict[str, str]]:
    return verification.rows(project, expect="Offboarded")


def _sccm_policy_targets(project: Project) -> list[str]:
    """The targets the SCCM kit onboards with a Defender for Endpoint policy, where the config gives
    the ConfigMgr offboarding file too (the SCCM kit's offboarding policy is then a way off for them)."""
    if project.config.packages.configmgr_offboarding is None:
        return []
    try:
        chosen = cm_route.routes(project)
    except ConfigError:                 # the SCCM kit refuses these routes and says why
        return []
    return [markdown_cell(t.name) for t in project.targets if chosen[t.name].route == cm_route.POLICY_ROUTE]


def handoff(project: Project, files: list[OutputFile]) -> OutputFile:
    off = project.offboarding_payload
    defenderdt = next((f for f in files if f.path.endswith(".offboarding")), None)
    blob = getattr(project.agent_files.get("defenderdt_offboarding"), "blob", None)
    return handoff_file(
        "offboard/HANDOFF.md.j2", project,
        sccm_policy_targets=_sccm_policy_targets(project),
        portal=None if not _portal_needed(project) else {
            "folder": _portal_folder(project), "script": off.command, "expires": off.valid_until_text},
        targets=_route_rows(project),
        defenderdt_file=defenderdt.path.rsplit("/", 1)[-1] if defenderdt else "",
        defenderdt_expires=f"{blob.expiration:%Y-%m-%d %H:%M} UTC" if blob is not None and blob.expiration else "unknown",
        unified_expires=off.valid_until_text if off is not None else "",
        defenderdt_codes=[{"code": c, "meaning": m, "advice": _DEFENDERDT_OFF_ADVICE[c]}
                          for c, m in payloads.DEFENDERDT_OFFBOARDING_EXIT_CODES],
        mma_exits=MMA_EXITS, unified_exits=UNIFIED_EXITS,
        names={"remove": REMOVE_WORKSPACE_NAME, "uninstall_mma": UNINSTALL_MMA_NAME,
               "uninstall_unified": UNINSTALL_UNIFIED_NAME, "offboard": OFFBOARD_LAUNCHER,
               "uninstall": UNINSTALL_LAUNCHER},
        verify_rows=_verify_rows(project),
        checksums=checksum_rows(files),
    )


def build(project: Project) -> list[OutputFile]:
    """All files of the offboard kit, relative to <output>/offboard/."""
    files: list[OutputFile] = []
    if _portal_needed(project):
        off = project.offboarding_payload
        files += [OutputFile(f"{_portal_folder(project)}/{f.name}", f.data) for f in off.files]
    for t in project.targets:
        if t.agent is not None:
            files += _FILES[t.agent](project, t.stem)
    files += [OutputFile(name, data) for name, data in verification.kit_files()]
    return files + [handoff(project, files)]

