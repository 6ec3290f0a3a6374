"""`mdegen sccm-package`: the Configuration Manager kit.

Per target, one package whose source folder holds the portal's onboarding script byte-exact and,
where the onboarding payload needs passive mode set first, a wrapper that sets it in the 64-bit
view; a Package Definition File; a device collection; and a non-remediating compliance baseline.
An offboarding package (its own source folder) when an offboarding script is configured. Around
them: New-MdeCmPackage.ps1, the discovery scripts as files, and the handoff.

Layout under <output>/sccm/:
  packages/<folder>/          package source: scripts and the .sms definition
  compliance/*.ps1            discovery scripts of the configuration items
  New-MdeCmPackage.ps1, HANDOFF.md
"""

from __future__ import annotations

from generator import agents, launch, payloads
from generator import verification
from generator.artifacts import OutputFile
from generator.builders.agent_advice import exit_code_rows, payload_title
from generator.builders.launcher import launcher_file
from generator.builders.cm_script import (
    AGENT_OFFBOARDING_PREFIX,
    COMPLIANCE_FOLDER,
    OFFBOARDING_PACKAGE_PREFIX,
    OFFBOARDING_POLICY_PREFIX,
    PACKAGES_FOLDER,
    POLICY_FOLDER,
    SCRIPT_NAME,
    discovery_settings,
    render_cm_script,
    render_discovery_scripts,
)
from generator.builders.sccm_wrapper import PASSIVE_MODE_FAILED_EXIT, WRAPPER_NAME, render_passive_wrapper
from generator.errors import ConfigError
from generator.formats import pdf_sms
from generator.handoff import checksum_rows, handoff_file
from generator.payloads import Payload
from generator.policy import describe, setting
from generator.project import Project, ResolvedTarget, missing_ways_off, refuse_agent_targets
from generator.cm_route import PACKAGE_ROUTE, PASSIVE_REASON, POLICY_DASHBOARD, POLICY_ROUTE, RouteChoice, routes
from generator.records import CmAtpPolicy, CmCompliance, CmPackage, CmProgram
from generator.releases import MULTI_SESSION_SKU
from generator.targeting import cm_collection_for
from generator.templating import markdown_cell

PUBLISHER = "Microsoft"            # the scripts are Microsoft's; the package only carries them
LANGUAGE = "Neutral"
RUN_MINUTES = 15                   # the script waits about 75 s at most; 15 leaves room, never "Unknown"
AGENT_RUN_MINUTES = 60             # an agent installs updates and the Defender platform first
# No program carries SupportedClients (platform requirements): the per-build ranges the .sms used
# to give were no values of SMS_SupportedPlatforms (the fourth field is a service-pack level), and
# New-MdeCmPackage.ps1 sets none either, so the two routes would create different programs. The
# collection does the targeting, from the same facts as the GPO kit's WMI filters.

_PASSIVE_MODE = setting("passive_mode")

# What the admin does about each of the portal script's error ids when a ConfigMgr program runs it.
_ADVICE = {
    5: "check the program runs with administrative rights",
    10: "check the program runs with administrative rights",
    15: "often transient: the deployment reruns; check the OS build",
    30: "rerun; check connectivity to the Defender cloud",
    35: "check connectivity, proxy and the Sense event log",
    40: "check the Microsoft-Windows-SENSE/Operational log",
    65: "set *Run with administrative rights* on the program",
    70: "download the packages of your own tenant",
}


def onboarding_package_name(target_name: str) -> str:
    return f"MDE Onboarding - {target_name}"


# --- the kit's requirements -------------------------------------------------------------------


# How a ConfigMgr site applies each setting this kit leaves out (Assets and Compliance > Endpoint
# Protection policies; a configuration item where no policy has the value).
_ROUTE = {
    "device_tag": "a configuration item that sets the registry value (no ConfigMgr policy has it)",
    "passive_mode": ("nothing, where no value was set before: absent, Defender Antivirus runs active; a server an "
                     "earlier release set to passive needs 0 written (the GPO kit's registry.pol, or a configuration "
                     "item)"),
    "sample_collection": "the Microsoft Defender for Endpoint policy (sample sharing)",
    "telemetry_latency": "the Microsoft Defender for Endpoint policy (telemetry reporting frequency)",
    "asr_rules": "an Exploit Guard policy (attack surface reduction)",
    "controlled_folder_access": "an Exploit Guard policy (controlled folder access)",
}
_ANTIMALWARE = "an antimalware policy"


def setting_route(field: str) -> str:
    return _ROUTE.get(field, _ANTIMALWARE)


# What the Defender for Endpoint policy itself carries (New-CMAdvancedThreatProtectionPolicy).
_POLICY_SETTINGS = ("sample_collection", "telemetry_latency")


def unapplied_settings(target: ResolvedTarget, route: str = PACKAGE_ROUTE) -> list[str]:
    """The target's configured settings this kit does not put on servers. On the package route all
    but passive mode, which the wrapper sets because onboarding depends on it; on the policy route
    all but sample sharing and the reporting frequency, which the policy carries (passive mode is
    never on there, see ``route_of``, but off is not written either). The rest are Group Policy
    values; a ConfigMgr site sets them with the GPO kit's registry.pol or its own antimalware policies."""
    applied = set(_POLICY_SETTINGS) if route == POLICY_ROUTE else {_PASSIVE_MODE.field}
    return [s.field for s, _ in describe(target.settings) if s.field not in applied]


# --- the route of each target ----------------------------------------------------------------

CONSOLE_POLICY_PATH = "Assets and Compliance > Endpoint Protection > Microsoft Defender ATP Policies"
# The client setting that makes the policy onboard 2012 R2 and 2016 (ConfigMgr 2207 and later).
UNIFIED_CLIENT_SETTING = ("Administration > Client Settings > Endpoint Protection > \"Microsoft Defender for Endpoint "
                          "client on Windows Server 2012 R2 and Windows Server 2016\" = MDE Client (recommended)")


def check(project: Project) -> list[str]:
    """The console limits package names to 50 characters: name the target whose name is too long.
    Settings the kit does not apply are warned about, target by target."""
    chosen = routes(project)
    refuse_agent_targets(project, "SCCM", [t for t in project.targets if chosen[t.name].route == PACKAGE_ROUTE])
    warnings = []
    for t in project.targets:
        left = unapplied_settings(t, chosen[t.name].route)
        if left:
            sets = ("sample sharing and the reporting frequency only (its policy's)" if chosen[t.name].route == POLICY_ROUTE
                    else "passive mode only")
            warnings.append(f"target {t.name!r}: the SCCM kit sets {sets}; {', '.join(left)} "
                            f"{'is' if len(left) == 1 else 'are'} not applied by it: deploy them with the GPO kit "
                            "(mdegen gpo) or the ConfigMgr policies the SCCM handoff names for each")
    warnings += missing_ways_off(project, "package")
    if any(c.route == POLICY_ROUTE for c in chosen.values()) and "configmgr_offboarding" not in project.agent_files:
        warnings.append("packages.configmgr_offboarding is not given: the SCCM kit has no offboarding policy for the "
                        "targets on the policy route (the offboarding package, where configured, offboards them too)")
    limit = pdf_sms.PACKAGE_LIMITS["Name"]
    for t in project.targets:
        name = onboarding_package_name(t.name)
        if len(name) > limit:
            raise ConfigError(
                f"the SCCM package name {name!r} would be {len(name)} characters; Configuration Manager allows "
                f"{limit}: shorten the target name to at most {limit - len(onboarding_package_name(''))} characters",
                path=project.source, field=f"{t.field}.name")
    return warnings


# --- packages -----------------------------------------------------------------------------------


def _package_comment(target: ResolvedTarget) -> str:
    """The package's comment, at most 127 characters (the console's limit): the long form where it
    fits, shorter forms for targets with many releases and both server kinds."""
    limit = pdf_sms.PACKAGE_LIMITS["Comment"]
    mode = target.passive_mode_text
    forms = (f"Onboards {target.servers_short} to Defender for Endpoint; {mode}. mdegen",
             f"Onboards {target.servers_short} to MDE; {mode}. mdegen",
             f"MDE onboarding: {target.servers_short}; {mode}")
    return next((f for f in forms if len(f) <= limit), forms[-1][:limit])


def _passive_preset(payload: Payload) -> bool | None:
    """The passive-mode value the program must set before the script runs, if the payload has one.
    A ConfigMgr program has no policy of its own, so the wrapper renders this preset."""
    values = [v for v in payload.presets if (v.key, v.name) == (_PASSIVE_MODE.key, _PASSIVE_MODE.value_name)]
    if len(values) != len(payload.presets):
        raise ValueError("the onboarding payload needs registry values set first that the SCCM wrapper cannot set")
    return bool(values[0].data) if values else None


def _program_comment(payload: Payload, mode: str) -> str:
    if payload.agent is None:
        return f"Runs the Defender for Endpoint onboarding script ({mode}); exit code = script error id"
    return f"Installs and onboards with {payload.command} ({mode}); exit code = its own, unchanged"


def onboarding_package(project: Project, target: ResolvedTarget) -> CmPackage:
    payload = target.onboarding
    passive = _passive_preset(payload)
    files = [(f.name, f.data) for f in payload.files]
    command = payload.command
    if passive is not None:
        files.append((WRAPPER_NAME, render_passive_wrapper(payload.command, passive_value=int(passive))))
        command = WRAPPER_NAME
    elif launch.needs_launcher(payload):
        name, data = launcher_file(payload)
        files.append((name, data))
        command = launch.program_command_line(payload, name)
    mode = target.passive_mode_text
    return CmPackage(
        role="onboarding",
        target_name=target.name,
        folder=f"MDE-Onboarding-{target.stem}",
        name=onboarding_package_name(target.name),
        version=project.release_version,
        publisher=PUBLISHER,
        language=LANGUAGE,
        comment=_package_comment(target),
        program=CmProgram(
            section="Onboard",
            name="Onboard",
            command_line=command,
            comment=_program_comment(payload, mode),
            estimated_run_minutes=RUN_MINUTES if payload.agent is None else AGENT_RUN_MINUTES,
            estimated_disk_mb=_disk_mb(files),
        ),
        files=tuple(files),
        collection=cm_collection_for(project, target),
        compliance=CmCompliance(
            ci_name=onboarding_package_name(target.name),
            baseline_name=onboarding_package_name(target.name),
            description=f"Reports whether {target.servers_short} are onboarded to Defender for Endpoint"
                        + ("" if passive is None else f" and have {mode}") + ". Non-remediating. mdegen",
            settings=discovery_settings(passive),
        ),
        passive_mode=passive,
    )


def offboarding_package(project: Project) -> CmPackage | None:
    payload = project.offboarding_payload
    if payload is None:
        return None
    until = payload.valid_until_date
    return CmPackage(
        role="offboarding",
        target_name=None,
        folder=f"MDE-Offboarding-{until}",
        name=f"{OFFBOARDING_PACKAGE_PREFIX}{until}",
        version=f"valid until {until}",
        publisher=PUBLISHER,
        language=LANGUAGE,
        comment=f"OFFBOARDS from Defender for Endpoint. Expires {until}. Never deploy where onboarding is deployed",
        program=CmProgram(
            section="Offboard",
            name="Offboard",
            command_line=payload.command,
            comment=f"Runs the Defender for Endpoint offboarding script (valid until {until})",
            estimated_run_minutes=RUN_MINUTES,
            estimated_disk_mb=1,
        ),
        files=tuple((f.name, f.data) for f in payload.files),
    )


OFFBOARD_LAUNCHER = "MdeOffboardAgent.cmd"


def _disk_mb(files: list[tuple[str, bytes]]) -> int:
    """The package's EstimatedDiskSpace: its files' size in whole MB, rounded up, at least 1."""
    return max(1, -(-sum(len(data) for _, data in files) // (1024 * 1024)))


def _fitting(*forms: str) -> str:
    """The first form within the console's 127-character comment limit (the last one always is)."""
    limit = pdf_sms.PACKAGE_LIMITS["Comment"]
    return next((f for f in forms if len(f) <= limit), forms[-1][:limit])


def agent_offboarding_packages(project: Project) -> list[tuple[ResolvedTarget, CmPackage]]:
    """Per down-level target whose way off is configured: an offboarding package (no collection,
    no deployment: the admin deploys it by hand to the servers to take off)."""
    out = []
    for t in project.targets:
        payload = t.offboarding
        if payload is None:
            continue
        files = [(f.name, f.data) for f in payload.files]
        name, data = launcher_file(payload, OFFBOARD_LAUNCHER)
        files.append((name, data))
        until = f"; expires {payload.valid_until_date}" if payload.valid_until else ""
        out.append((t, CmPackage(
            role="offboarding",
            target_name=None,
            folder=f"MDE-Offboarding-{t.stem}",
            name=f"{AGENT_OFFBOARDING_PREFIX}{t.name}",
            version=f"valid until {payload.valid_until_date}" if payload.valid_until else project.release_version,
            publisher=PUBLISHER,
            language=LANGUAGE,
            comment=_fitting(f"OFFBOARDS {t.servers_short} ({t.agent}){until}. Never deploy with onboarding",
                             f"OFFBOARDS {t.name} ({t.agent}){until}. Never deploy with onboarding",
                             f"OFFBOARDS ({t.agent}){until}. Never deploy with onboarding"),
            program=CmProgram(
                section="Offboard",
                name="Offboard",
                command_line=launch.program_command_line(payload, name),
                comment=f"Offboards with {payload.command}; exit code = its own, unchanged",
                estimated_run_minutes=AGENT_RUN_MINUTES,
                estimated_disk_mb=_disk_mb(files),
            ),
            files=tuple(files),
        )))
    return out


def cm_packages(project: Project, chosen: dict[str, RouteChoice]) -> list[tuple[ResolvedTarget | None, CmPackage]]:
    """Each package of the kit with the target it onboards (None for the offboarding package): the
    targets on the package route (``chosen``: ``cm_route.routes``)."""
    packages: list[tuple[ResolvedTarget | None, CmPackage]] = [
        (t, onboarding_package(project, t)) for t in project.targets if chosen[t.name].route == PACKAGE_ROUTE]
    off = offboarding_package(project)
    return packages + ([(None, off)] if off else [])


# --- Defender for Endpoint policies (current branch) -----------------------------------------------

# The policy's settings from the target's: a setting left unconfigured gets Defender's own default
# (samples are shared, telemetry is reported at the normal frequency), so the policy says it outright.
_SAMPLE_SHARING = {True: "All", False: "None", None: "All"}
_TELEMETRY = {"normal": "Normal", "expedite": "Expedited", None: "Normal"}


def onboarding_policy(project: Project, target: ResolvedTarget) -> CmAtpPolicy:
    """The onboarding policy of a target on the policy route: the portal's .onboarding file, the
    target's sample sharing and reporting frequency, its collection and compliance baseline."""
    blob = project.agent_files["configmgr_onboarding"]
    name = onboarding_package_name(target.name)
    notes = ()
    if target.agent is not None:                    # 2012 R2 / 2016: the ConfigMgr client installs the agent
        notes = (f"{target.servers_short} onboard through this policy only where the client settings deployed to them "
                 f"have {UNIFIED_CLIENT_SETTING}; no cmdlet reads or sets it, so check it in the console",)
    return CmAtpPolicy(
        role="onboarding",
        target_name=target.name,
        name=name,
        description=f"Onboards {target.servers_short} to Defender for Endpoint. mdegen",
        file_name=agents.DEFENDERDT_ONBOARDING_NAME,
        data=blob.data,
        sample_sharing=_SAMPLE_SHARING[target.settings.sample_collection],
        telemetry=_TELEMETRY[target.settings.telemetry_latency],
        collection=cm_collection_for(project, target),
        compliance=CmCompliance(
            ci_name=name,
            baseline_name=name,
            description=f"Reports whether {target.servers_short} are onboarded to Defender for Endpoint. "
                        "Non-remediating. mdegen",
            settings=discovery_settings(None),
        ),
        notes=notes,
    )


def offboarding_policy(project: Project, chosen: dict[str, RouteChoice]) -> CmAtpPolicy | None:
    """The offboarding policy from the portal's .offboarding file, where one is configured and a
    target is on the policy route: created only when the admin asks, never deployed by the script."""
    blob = project.agent_files.get("configmgr_offboarding")
    if blob is None or all(c.route == PACKAGE_ROUTE for c in chosen.values()):
        return None
    until = blob.blob.expiration if blob.blob is not None else None
    date = f"{until:%Y-%m-%d}" if until else "unknown"
    return CmAtpPolicy(
        role="offboarding",
        target_name=None,
        name=f"{OFFBOARDING_POLICY_PREFIX}{date}",
        description=f"OFFBOARDS from Defender for Endpoint. Expires {date}. Never deploy where onboarding is deployed. mdegen",
        file_name=agents.offboarding_file_name(until),
        data=blob.data,
    )


def cm_policies(project: Project, chosen: dict[str, RouteChoice]) -> list[tuple[ResolvedTarget | None, CmAtpPolicy]]:
    """Each Defender for Endpoint policy of the kit with the target it onboards (None: offboarding)."""
    policies: list[tuple[ResolvedTarget | None, CmAtpPolicy]] = [
        (t, onboarding_policy(project, t)) for t in project.targets if chosen[t.name].route == POLICY_ROUTE]
    off = offboarding_policy(project, chosen)
    return policies + ([(None, off)] if off else [])


def _package_files(p: CmPackage) -> list[OutputFile]:
    base = f"{PACKAGES_FOLDER}/{p.folder}"
    files = [OutputFile(f"{base}/{name}", data) for name, data in p.files]
    files.append(OutputFile(f"{base}/{p.folder}.sms", pdf_sms.dumps(p)))
    return files


def handoff(project: Project, chosen: dict[str, RouteChoice], packages: list[tuple[ResolvedTarget | None, CmPackage]],
            files: list[OutputFile], agent_offs: list[tuple[ResolvedTarget, CmPackage]] = (),
            policies: list[tuple[ResolvedTarget | None, CmAtpPolicy]] = ()) -> OutputFile:
    rows = []
    for t, p in packages:
        rows.append({
            "name": markdown_cell(p.name),
            "servers": markdown_cell(t.servers_short if t else "the collection you deploy it to"),
            "command_line": p.program.command_line,
            "folder": p.folder,
            "collection": markdown_cell(p.collection.name) if p.collection else "",
            "query": p.collection.query if p.collection else "",
            "baseline": markdown_cell(p.compliance.baseline_name) if p.compliance else "",
        })
    off = next((p for t, p in packages if t is None), None)
    package_targets = [t for t in project.targets if chosen[t.name].route == PACKAGE_ROUTE]
    tables = {}
    for t in package_targets:
        tables.setdefault(t.onboarding.agent, {"title": payload_title(t.onboarding), "portal": t.agent is None,
                                              "rows": exit_code_rows(t.onboarding, _ADVICE)})
    policy_rows = [{
        "name": markdown_cell(p.name),
        "servers": markdown_cell(t.servers_short),
        "sample_sharing": p.sample_sharing,
        "telemetry": p.telemetry,
        "collection": markdown_cell(p.collection.name),
        "query": p.collection.query,
        "baseline": markdown_cell(p.compliance.baseline_name),
        "client_setting": t.agent is not None,
        "passive_off": t.settings.passive_mode is False,
    } for t, p in policies if t is not None]
    off_policy = next((p for t, p in policies if t is None), None)
    baselines = [r["baseline"] for r in rows if r["baseline"]] + [r["baseline"] for r in policy_rows]
    return handoff_file(
        "sccm/HANDOFF.md.j2", project,
        routes=[{"name": markdown_cell(t.name), "servers": markdown_cell(t.servers_short),
                 "route": chosen[t.name].route, "reason": markdown_cell(chosen[t.name].reason)} for t in project.targets],
        policies=policy_rows,
        offboarding_policy=None if off_policy is None else {"name": markdown_cell(off_policy.name),
                                                            "file": off_policy.file_name},
        console_policy_path=CONSOLE_POLICY_PATH,
        policy_dashboard=POLICY_DASHBOARD,
        unified_client_setting=UNIFIED_CLIENT_SETTING,
        policy_folder=POLICY_FOLDER,
        first_baseline=baselines[0],
        package_targets=bool(package_targets),
        passive_would_move=[markdown_cell(t.name) for t in package_targets if chosen[t.name].reason == PASSIVE_REASON],
        packages=rows,
        any_wrapper=any(p.passive_mode is not None for _, p in packages),
        wrapper_name=WRAPPER_NAME,
        wrapper_exit_code=PASSIVE_MODE_FAILED_EXIT,
        multi_session_sku=MULTI_SESSION_SKU,
        passive_value_name=_PASSIVE_MODE.value_name,
        success=payloads.ONBOARDED,
        exit_code_tables=list(tables.values()),
        agent_run_minutes=AGENT_RUN_MINUTES,
        agent_packages=[{"name": markdown_cell(p.name), "runs": payload_title(t.onboarding), "log": t.onboarding.log}
                        for t, p in packages if t is not None and t.agent is not None],
        any_mma=any(t.agent == "mma" for t in package_targets),
        proxy_user=project.config.downlevel is not None and project.config.downlevel.proxy_user is not None,
        portal_targets=any(t.agent is None for t in package_targets),
        agent_targets=any(t.agent is not None for t in package_targets),
        unapplied=[{"name": markdown_cell(t.name), "setting": f, "route": setting_route(f)}
                   for t in project.targets for f in unapplied_settings(t, chosen[t.name].route)],
        offboarding=None if off is None else {
            "name": markdown_cell(off.name),
            "expires": project.offboarding_payload.valid_until_text,
        },
        verify_rows=verification.rows(project),
        agent_offboarding=[{"name": markdown_cell(p.name), "target": markdown_cell(t.name),
                            "servers": markdown_cell(t.servers_short), "command_line": p.program.command_line,
                            "folder": p.folder} for t, p in agent_offs],
        mma_embedded=any(t.agent == "mma" and t.onboarding.command != payloads.MMA_INSTALLER_NAME for t in package_targets),
        mma_installer=next((t.onboarding.command for t in package_targets if t.agent == "mma"), ""),
        checksums=checksum_rows(files),
    )


def build(project: Project) -> list[OutputFile]:
    """All files of the sccm kit, relative to <output>/sccm/ (the writer adds manifest and sums)."""
    chosen = routes(project)
    pairs = cm_packages(project, chosen)
    agent_offs = agent_offboarding_packages(project)
    packages = [p for _, p in pairs] + [p for _, p in agent_offs]
    files: list[OutputFile] = []
    for p in packages:
        files += _package_files(p)
    policy_pairs = cm_policies(project, chosen)
    policies = [p for _, p in policy_pairs]
    # One file per name: every onboarding policy is made from the same .onboarding file.
    files += [OutputFile(f"{POLICY_FOLDER}/{name}", data) for name, data in {p.file_name: p.data for p in policies}.items()]
    passive_modes = [p.passive_mode for p in packages if p.passive_mode is not None]
    files += [OutputFile(f"{COMPLIANCE_FOLDER}/{name}", data) for name, data in render_discovery_scripts(passive_modes)]
    files += [OutputFile(name, data) for name, data in verification.kit_files()]
    files.append(OutputFile(SCRIPT_NAME, render_cm_script(packages, policies, organization=project.organization,
                                                          release=project.release_version)))
    return files + [handoff(project, chosen, pairs, files, agent_offs, policy_pairs)]
