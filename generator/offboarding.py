"""The down-level ways off that mdegen renders, as payloads: what the offboarding kit, and the GPO
and SCCM kits' offboarding GPOs and packages, run on a server.

- DefenderDT: DefenderDT.exe with the portal's .offboarding file (-Offboard; -Uninstall by hand).
- Unified agent: Uninstall-MdeUnifiedAgent.ps1 runs install.ps1 -Uninstall -OffboardingScript from
  a checked local copy.
- MMA: Remove-MdeMmaWorkspace.ps1 removes only the Defender workspace; Uninstall-MdeMma.ps1 (by
  hand) removes the agent, its product code found at run time.

The unattended way off of a target (:func:`target_offboarding`) is resolved once, with the project.
"""

from __future__ import annotations

from generator import agents, payload_scripts, payloads, releases
from generator.policy import STATUS_KEY, hklm_path
from generator.templating import render_powershell, text_file

REMOVE_WORKSPACE_NAME = "Remove-MdeMmaWorkspace.ps1"
UNINSTALL_MMA_NAME = "Uninstall-MdeMma.ps1"
UNINSTALL_UNIFIED_NAME = "Uninstall-MdeUnifiedAgent.ps1"
OFFBOARD_LAUNCHER = "MdeOffboardAgent.cmd"
UNINSTALL_LAUNCHER = "MdeUninstallAgent.cmd"
MMA_DISPLAY_NAME = "Microsoft Monitoring Agent"
MMA_EXITS = {"no_agent": 10, "absent": 11, "com_failed": 12, "not_installed": 10, "other_workspaces": 13}
UNIFIED_LOCAL_FOLDER = r"C:\ProgramData\mdegen\unified-offboard"
UNIFIED_EXITS = {"copy_failed": 81, "hash_mismatch": 82, "unsafe_folder": 84, "other_org": 85}
UNINSTALL_KEYS = (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall",
                  r"SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall")


def _hosted(agent_files: dict, field: str, name: str) -> payloads.HostedFile:
    return payloads.HostedFile(name, agent_files[field].data)


def defenderdt_parts(agent_files: dict):
    off = agent_files["defenderdt_offboarding"]
    until = off.blob.expiration if off.blob is not None else None
    tool = _hosted(agent_files, "defenderdt", agents.DEFENDERDT_NAME)
    return tool, payloads.HostedFile(agents.offboarding_file_name(until), off.data), until


def unified_parts(agent_files: dict, portal_offboarding, offboarding_payload: payloads.Payload) -> tuple[payloads.HostedFile, ...]:
    script = _hosted(agent_files, "unified_script", agents.UNIFIED_SCRIPT_NAME)
    off = payloads.HostedFile(portal_offboarding.script_name, portal_offboarding.script)
    context = {
        "local_folder": UNIFIED_LOCAL_FOLDER,
        "folders": payload_scripts.private_folders(UNIFIED_LOCAL_FOLDER),
        "install_script": script.name,
        "offboarding_script": off.name,
        "wrapper_log": "Uninstall-MdeUnifiedAgent.log",
        "files": [{"name": f.name, "sha256": f.sha256.upper()} for f in (script, off)],
        "valid_until": offboarding_payload.valid_until_text,
        "exits": UNIFIED_EXITS,
        # The offboarding blob's organisations: its orgId and the orgIds list it also accepts.
        "org_ids": list(dict.fromkeys([portal_offboarding.facts.org_id, *portal_offboarding.facts.org_ids])),
        "status_key": hklm_path(STATUS_KEY),
    }
    wrapper = text_file(render_powershell("offboard/Uninstall-MdeUnifiedAgent.ps1.j2", context), bom=True)
    return payloads.HostedFile(UNINSTALL_UNIFIED_NAME, wrapper, by_mdegen=True), script, off


def mma_parts(workspace_id: str) -> tuple[payloads.HostedFile, payloads.HostedFile]:
    common = {"workspace_id": workspace_id, "service": payload_scripts.MMA_SERVICE,
              "com_class": payload_scripts.MMA_COM_CLASS, "exits": MMA_EXITS, "display_name": MMA_DISPLAY_NAME,
              "uninstall_keys": UNINSTALL_KEYS}
    remove = render_powershell("offboard/Remove-MdeMmaWorkspace.ps1.j2", common)
    uninstall = render_powershell("offboard/Uninstall-MdeMma.ps1.j2", common)
    return (payloads.HostedFile(REMOVE_WORKSPACE_NAME, text_file(remove, bom=True), by_mdegen=True),
            payloads.HostedFile(UNINSTALL_MMA_NAME, text_file(uninstall, bom=True), by_mdegen=True))


def missing_for_way_off(agent: str, *, agent_files: dict, portal_offboarding, workspace_id: str | None) -> list[str]:
    """The config fields a down-level agent's way off needs and the config lacks, in the order an
    admin adds them; [] when it can be built."""
    if agent == releases.DEFENDERDT:
        return [f"packages.{f}" for f in ("defenderdt", "defenderdt_offboarding") if f not in agent_files]
    if agent == releases.UNIFIED:
        return ((["packages.unified_script"] if "unified_script" not in agent_files else [])
                + (["packages.offboarding"] if portal_offboarding is None else []))
    if agent == releases.MMA:
        return [] if workspace_id else ["downlevel.workspace_id"]
    return []


def target_offboarding(agent: str | None, *, agent_files: dict, portal_offboarding,
                       offboarding_payload: payloads.Payload | None, workspace_id: str | None) -> payloads.Payload | None:
    """The way off a route can run unattended for a down-level target (the GPO kit's offboarding
    GPO, the SCCM kit's offboarding package): DefenderDT -Offboard, Uninstall-MdeUnifiedAgent.ps1,
    Remove-MdeMmaWorkspace.ps1 (only the workspace; the agent's removal stays a decision by hand).
    None when the packages it needs are not configured (missing_for_way_off)."""
    if agent is None or missing_for_way_off(agent, agent_files=agent_files, portal_offboarding=portal_offboarding,
                                            workspace_id=workspace_id):
        return None
    if agent == releases.DEFENDERDT:
        tool, blob, until = defenderdt_parts(agent_files)
        return payloads.defenderdt_offboarding(tool, blob, uninstall=False, valid_until=until)
    if agent == releases.UNIFIED:
        wrapper, script, off = unified_parts(agent_files, portal_offboarding, offboarding_payload)
        return payloads.script_offboarding(wrapper, (script, off), agent=releases.UNIFIED,
                                           exit_codes=payloads.UNIFIED_OFFBOARDING_EXIT_CODES,
                                           valid_until=offboarding_payload.valid_until)
    if agent == releases.MMA:
        remove, _ = mma_parts(workspace_id)
        return payloads.script_offboarding(remove, (), agent=releases.MMA,
                                           exit_codes=payloads.MMA_OFFBOARDING_EXIT_CODES, valid_until=None)
    return None
