"""One resolved project: the config loaded and checked once, its packages read once, each target
resolved once into a frozen record with everything a kit or a document reads.

Kits are pure functions of a :class:`Project`; nothing below re-derives a target's releases,
settings, GUIDs or labels. Loading reads only the packages the selected kits need and checks each
for unattended use; a kit's own requirements are its ``check`` (generator/kits.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as default_field
from pathlib import Path
from typing import TYPE_CHECKING

from generator import payloads, portal, releases
from generator.config import DEFAULT_TARGET_NAME, Config, Settings, Target
from generator.config import load as load_config
from generator.errors import ConfigError, PackageError
from generator.payloads import Payload
from generator.policy import ASR_RULES, inactive_in_passive_mode
from generator.portal import PackageKind, PortalPackage
from generator.releases import WindowsRelease

if TYPE_CHECKING:
    from generator.agents import AgentFile

# Namespace for uuid5-derived GUIDs (itself uuid5 of the DNS namespace and the tool's name).
_MDEGEN_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "mdegen.invalid")

PACKAGE_NAMES = ("onboarding", "offboarding", "vdi")
# The down-level agents' files: packages.<field> -> the kind generator.agents reads it as, and the
# files each agent needs.
AGENT_FILES = {"defenderdt": "defenderdt", "defenderdt_onboarding": "defenderdt-onboarding",
               "defenderdt_offboarding": "defenderdt-offboarding",
               "unified_msi": "unified-msi", "unified_script": "unified-script", "mma_setup": "mma-setup"}
# The ConfigMgr current-branch policy's files (the same signed blobs as DefenderDT's): read only where
# a command asks for them (validate; a kit that deploys them), so an expired one no other kit uses
# never stops that kit.
CONFIGMGR_FILES = {"configmgr_onboarding": "defenderdt-onboarding", "configmgr_offboarding": "defenderdt-offboarding"}
# What each onboarding / offboarding file is called in messages.
BLOB_FILES = {"defenderdt_onboarding": "the DefenderDT onboarding file",
              "configmgr_onboarding": "the ConfigMgr onboarding file",
              "defenderdt_offboarding": "the DefenderDT offboarding file",
              "configmgr_offboarding": "the ConfigMgr offboarding file"}
SCEP_RELEASES = ("2008r2", "2012r2")
AGENT_NEEDS = {releases.DEFENDERDT: ("defenderdt", "defenderdt_onboarding"),
               releases.UNIFIED: ("unified_msi", "unified_script"),
               releases.MMA: ("mma_setup",)}


def stable_guid(organization: str, *parts: str) -> uuid.UUID:
    """A GUID derived from the organisation and ``parts``: the same config gives the same GUIDs."""
    return uuid.uuid5(_MDEGEN_NAMESPACE, "\x1f".join((organization, *parts)))


def file_stem(name: str) -> str:
    """A target name as a file or folder name: white space becomes hyphens (names are restricted)."""
    return re.sub(r"\s+", "-", name)


# Short on purpose: it goes into ConfigMgr comments limited to 127 characters.
_PASSIVE_MODE_TEXT = {True: "passive mode on", False: "passive mode off", None: "passive mode not set"}


@dataclass(frozen=True)
class ResolvedTarget:
    """A target as every kit sees it: releases in canonical order, merged settings, labels."""

    index: int | None                       # position in the config's targets list (None: the default)
    name: str
    releases: tuple[WindowsRelease, ...]
    product_types: tuple[int, ...]          # ascending: 2 domain controller, 3 member server
    settings: Settings                      # top-level settings with the target's overrides
    onboarding: Payload | None = None       # None when no kit asked for the packages it needs (the
                                            # portal's, or the agent's files of a down-level target)
    agent: str | None = None                # defenderdt | unified | mma for 2008 R2 SP1, 2012 R2, 2016
    offboarding: Payload | None = None      # a down-level target's unattended way off, where its
                                            # packages are configured (generator/offboarding.py)

    @property
    def field(self) -> str:
        """Where the target is in the config, for error messages."""
        return "targets" if self.index is None else f"targets[{self.index}]"

    @property
    def stem(self) -> str:
        return file_stem(self.name)

    @property
    def builds(self) -> tuple[str, ...]:
        """Every build number of the target's releases, sorted as text, each once."""
        return releases.builds_of(self.releases)

    @property
    def excluded_skus(self) -> tuple[int, ...]:
        """OperatingSystemSKU values the target's queries exclude: those of its releases that report a
        member server's product type (multi-session). None when the target has no member servers."""
        if releases.MEMBER_SERVER not in self.product_types:
            return ()
        return tuple(sorted({s for r in self.releases for s in r.never_skus}))

    @property
    def server_kinds(self) -> str:
        return releases.server_kinds(self.product_types)

    @property
    def servers_short(self) -> str:
        """'Windows Server 2019, 2022, SAC member servers': names, collection names, comments."""
        return f"Windows Server {', '.join(r.short for r in self.releases)} {self.server_kinds}"

    @property
    def servers_long(self) -> str:
        """'Windows Server 2019, Windows Server 2022 (member servers)': GPO texts and handoffs."""
        return f"{', '.join(r.name for r in self.releases)} ({self.server_kinds})"

    @property
    def passive_mode_text(self) -> str:
        return _PASSIVE_MODE_TEXT[self.settings.passive_mode]


def missing_ways_off(project: "Project", what: str) -> list[str]:
    """Warnings for down-level targets that get no offboarding ``what`` (GPO, package) although
    the config offboards: the packages their way off needs are not configured."""
    if project.offboarding is None and "defenderdt_offboarding" not in project.agent_files:
        return []
    return [f"target {t.name!r}: no offboarding {what} for its {t.agent} agent: configure "
            f"{project.missing_for_way_off(t)[0]}"
            for t in project.targets if t.agent is not None and t.offboarding is None]


def refuse_agent_targets(project: "Project", kit_label: str, targets: Iterable[ResolvedTarget] | None = None) -> None:
    """Raise ConfigError naming the first down-level target (of ``targets``, default all) that lacks
    a file its payload needs."""
    for t in project.targets if targets is None else targets:
        if t.agent is not None and t.onboarding is None:
            missing = [f for f in AGENT_NEEDS[t.agent] if f not in project.agent_files]
            if t.agent == releases.UNIFIED and project.onboarding is None:
                missing.append("onboarding")        # the Group Policy script install.ps1 runs
            if t.agent == releases.MMA and (project.config.downlevel is None
                                            or project.config.downlevel.workspace_id is None):
                missing.append("downlevel.workspace_id")
            field = (missing[0] if "." in missing[0] else f"packages.{missing[0]}") if missing else f"{t.field}.agent"
            raise ConfigError(f"is required for target {t.name!r} (agent: {t.agent})", path=project.source, field=field)


def resolve_target(target: Target, settings: Settings | None = None, *, index: int | None = None,
                   onboarding: PortalPackage | None = None,
                   agent_payload: "Callable[[str, Settings, tuple[WindowsRelease, ...]], Payload | None] | None" = None,
                   ) -> ResolvedTarget:
    """One config target resolved: ``settings`` are the top-level settings it overrides;
    ``agent_payload(agent, settings, releases)`` gives a down-level target's payload (None: not
    available)."""
    merged = target.settings if settings is None else Settings.model_validate(
        {**settings.configured(), **target.settings.configured()})
    if target.agent:
        payload = (agent_payload(target.agent, merged, releases.canonical(target.os))
                   if agent_payload is not None else None)
    else:
        payload = None if onboarding is None else payloads.portal_onboarding(onboarding, merged)
    return ResolvedTarget(
        index=index,
        name=target.name,
        releases=releases.canonical(target.os),
        product_types=tuple(sorted(target.product_types())),
        settings=merged,
        onboarding=payload,
        agent=target.agent,
    )


@dataclass(frozen=True)
class ResolvedPool:
    """A VDI pool as the vdi kit sees it: its mode, merged settings (for its domain GPO) and payload."""

    index: int
    name: str
    mode: str                               # "single" | "multiple"
    domain_gpo: bool
    settings: Settings
    payload: Payload | None = None          # None when no VDI package was read

    @property
    def field(self) -> str:
        return f"vdi.pools[{self.index}]"

    @property
    def stem(self) -> str:
        return file_stem(self.name)


@dataclass(frozen=True)
class Project:
    """Everything the kits are built from."""

    config: Config
    source: str                             # the config file, for error messages
    targets: tuple[ResolvedTarget, ...]
    onboarding: PortalPackage | None = None
    offboarding: PortalPackage | None = None
    vdi: PortalPackage | None = None
    offboarding_payload: Payload | None = None
    pools: tuple[ResolvedPool, ...] = ()
    agent_files: "dict[str, AgentFile]" = default_field(default_factory=dict)   # packages field -> file
    warnings: tuple[str, ...] = ()

    @property
    def organization(self) -> str:
        return self.config.organization

    @property
    def release_version(self) -> str:
        return self.config.release.version

    @property
    def release_date(self) -> dt.date:
        return self.config.release.date

    @property
    def release_time(self) -> dt.datetime:
        """Every stamp in output derives from the release date (midnight, no time zone)."""
        return dt.datetime.combine(self.config.release.date, dt.time(0, 0, 0))

    @property
    def share(self) -> str | None:
        return self.config.share

    @property
    def domain(self) -> str | None:
        return self.config.ad_domain

    def guid(self, *parts: str) -> uuid.UUID:
        return stable_guid(self.config.organization, *parts)

    def missing_for_way_off(self, target: ResolvedTarget) -> list[str]:
        """The config fields ``target``'s way off needs and this config lacks (generator/offboarding.py)."""
        from generator import offboarding     # the agents' readers and templates: only where agents are

        return offboarding.missing_for_way_off(
            target.agent, agent_files=self.agent_files, portal_offboarding=self.offboarding,
            workspace_id=self.config.downlevel.workspace_id if self.config.downlevel else None)


# --- loading ----------------------------------------------------------------------------------


def _where(config: Config, source: str, which: str) -> str:
    """'mdegen.yaml:6: packages.offboarding': where a package is named, for its errors."""
    line = config.line_of("packages", which)
    return f"{source}{f':{line}' if line else ''}: packages.{which}"


def _read(config: Config, source: str, which: str) -> PortalPackage | None:
    path = config.package_path(which)
    if path is None:
        return None
    where = _where(config, source, which)
    if not path.exists():
        raise PackageError(f"{where}: {path} does not exist (paths are relative to the config file's folder)")
    if not path.is_file():
        raise PackageError(f"{where}: {path} is not a file")
    try:
        return portal.read_package(path)
    except PackageError as exc:
        raise PackageError(f"{where}: {exc}") from None


def _checked(config: Config, source: str, which: str, *checks) -> None:
    """Run every check; report all their problems at once (an expired script may be interactive too)."""
    problems = []
    for check in checks:
        try:
            check()
        except PackageError as exc:
            problems.append(str(exc))
    if problems:
        raise PackageError(f"{_where(config, source, which)}: " + "; also: ".join(problems))


def read_agent_files(config: Config, source: str = "<config>", extra: dict | None = None) -> dict:
    """Every configured agent file, read and checked by content (generator.agents), and each file a
    target's agent needs present: {packages field: AgentFile}. Errors name the config line."""
    from generator import agents

    found = {}
    for field, kind in {**AGENT_FILES, **(extra or {})}.items():
        path = config.package_path(field)
        if path is None:
            continue
        where = _where(config, source, field)
        if not path.is_file():
            raise PackageError(f"{where}: {path} does not exist or is not a file "
                               "(paths are relative to the config file's folder)")
        try:
            found[field] = agents.read_agent_file(path, kind)
        except PackageError as exc:
            raise PackageError(f"{where}: {exc}") from None
    for i, target in enumerate(config.targets or ()):
        # A unified-agent target may be onboarded by the SCCM kit's policy, which needs none of the
        # agent's files (the ConfigMgr client installs the agent): each kit that deploys them
        # refuses the config without them (refuse_agent_targets).
        for field in () if target.agent == releases.UNIFIED else AGENT_NEEDS.get(target.agent, ()):
            if field not in found:
                raise ConfigError(f"is required for target {target.name!r} (agent: {target.agent})",
                                  path=source, field=f"packages.{field}")
        if target.agent == releases.MMA:
            embedded_secrets(config, source)            # an embedding opt-in's files, checked early
        if target.agent == releases.MMA and (config.downlevel is None or config.downlevel.workspace_id is None):
            raise ConfigError(f"is required for target {target.name!r} (agent: mma): the Log Analytics workspace id "
                              "from the portal's onboarding page (its key is read by the installer at run time)",
                              path=source, field="downlevel.workspace_id")
    return found


def _agent_payload(config: Config, agent: str, settings: Settings, chosen: tuple[WindowsRelease, ...],
                   agent_files: dict, onboarding: PortalPackage | None) -> Payload | None:
    """A down-level target's payload from the agent's files (hosted under Microsoft's names,
    whatever the download was called), or None when a file it needs was not read."""
    from generator import agents, payload_scripts

    def hosted(field: str, name: str) -> payloads.HostedFile | None:
        f = agent_files.get(field)
        return None if f is None else payloads.HostedFile(name, f.data)

    downlevel = config.downlevel
    if agent == releases.DEFENDERDT:
        tool = hosted("defenderdt", agents.DEFENDERDT_NAME)
        blob = hosted("defenderdt_onboarding", agents.DEFENDERDT_ONBOARDING_NAME)
        if tool is None or blob is None:
            return None
        return payloads.defenderdt_onboarding(tool, blob, settings, proxy=downlevel.proxy if downlevel else None)
    if agent == releases.UNIFIED:
        script = hosted("unified_script", agents.UNIFIED_SCRIPT_NAME)
        msi = hosted("unified_msi", agents.UNIFIED_MSI_NAME)
        if script is None or msi is None or onboarding is None:
            return None
        cmd = payloads.HostedFile(onboarding.script_name, onboarding.script)
        wrapper = payloads.HostedFile(payloads.UNIFIED_WRAPPER_NAME, payload_scripts.render_unified_wrapper(
            organization=config.organization, release=config.release.version,
            files=[(f.name, f.sha256) for f in (script, msi, cmd)], install_script=script.name,
            onboarding_script=cmd.name, local_folder=payloads.UNIFIED_LOCAL_FOLDER,
            log_share=downlevel.log_share if downlevel else None), by_mdegen=True)
        return payloads.unified_onboarding(wrapper, script, msi, cmd, settings)
    if agent == releases.MMA:
        setup = agent_files.get("mma_setup")
        if setup is None or downlevel is None or downlevel.workspace_id is None:
            return None
        # Hosted under Microsoft's name for its architecture, whatever the download was renamed to.
        name = agents.MMA_SETUP_NAMES[1 if setup.pe is not None and setup.pe.machine == "x86" else 0]
        hosted_setup = payloads.HostedFile(name, setup.data)
        key, password = embedded_secrets(config)
        installer = payloads.HostedFile(payload_scripts.mma_installer_name(bool(key)), payload_scripts.render_mma_installer(
            organization=config.organization, release=config.release.version,
            workspace_id=downlevel.workspace_id, cloud_type=mma_cloud_type(config, onboarding),
            proxy_url=downlevel.proxy, proxy_user=downlevel.proxy_user, setup_name=hosted_setup.name,
            setup_sha256=hosted_setup.sha256, local_folder=payloads.MMA_LOCAL_FOLDER,
            embedded_key=key, embedded_password=password), by_mdegen=True)
        # System Center Endpoint Protection runs on 2008 R2 and 2012 R2; 2016 has Defender Antivirus.
        scep = any(r.key in SCEP_RELEASES for r in chosen)
        return payloads.mma_onboarding(installer, hosted_setup, scep=scep)
    return None


_WORKSPACE_KEY = re.compile(r"^[A-Za-z0-9+/]{20,}={0,2}$")


def embedded_secrets(config: Config, source: str = "<config>") -> tuple[str, str]:
    """(workspace key, proxy password) to embed, read from the files the config names when it opts
    in with embed_secrets; ("", "") otherwise. Refused, naming the field, when a file is missing or
    does not hold what it should. The values are never printed."""
    downlevel = config.downlevel
    if downlevel is None or not downlevel.embed_secrets:
        return "", ""
    values = []
    for field, path in (("workspace_key_file", downlevel.workspace_key_file),
                        ("proxy_password_file", downlevel.proxy_password_file)):
        if path is None:
            values.append("")
            continue
        full = config.resolve_path(path)
        try:
            lines = full.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError):
            raise ConfigError(f"{full} cannot be read as a text file", path=source, field=f"downlevel.{field}") from None
        value = lines[0].strip() if lines else ""
        if field == "workspace_key_file" and not _WORKSPACE_KEY.match(value):
            raise ConfigError(f"{full} does not hold a workspace key (one line of Base64, as the portal shows it)",
                              path=source, field=f"downlevel.{field}")
        if field == "proxy_password_file" and (not value or '"' in value or re.search(r"[\x00-\x1f]", value)):
            raise ConfigError(f"{full} does not hold a proxy password setup.exe can take (one line, no \")",
                              path=source, field=f"downlevel.{field}")
        values.append(value)
    return values[0], values[1]


def mma_cloud_type(config: Config, onboarding: PortalPackage | None) -> int:
    """OPINSIGHTS_WORKSPACE_AZURE_CLOUD_TYPE: the configured cloud, or with ``auto`` US Government
    (1) when the onboarding package is of a government tenant (inferred from its geo fields)."""
    from generator.config import MMA_CLOUD_TYPES

    cloud = config.downlevel.cloud if config.downlevel else "auto"
    if cloud == "auto":
        return 1 if onboarding is not None and onboarding.facts.is_government else 0
    return MMA_CLOUD_TYPES[cloud]


def agent_warnings(config: Config, source: str, agent_files: dict, onboarding: PortalPackage | None,
                   now: dt.datetime) -> list[str]:
    """What the agent files' readers noticed, and the DefenderDT onboarding file's expiry (an
    expired one is refused) and organisation (another tenant's is refused)."""
    notes = []
    for which, f in agent_files.items():
        notes += [f"{_where(config, source, which)}: {note}" for note in f.notes]
    onboarding_orgs = [onboarding.facts.org_id] if onboarding is not None else []
    for field in ("defenderdt_onboarding", "configmgr_onboarding"):
        blob = getattr(agent_files.get(field), "blob", None)
        if blob is None:
            continue
        where, what = _where(config, source, field), BLOB_FILES[field]
        if blob.expiration is not None:
            left = blob.expiration - now.astimezone(dt.timezone.utc)
            if left <= dt.timedelta(0):
                raise PackageError(f"{where}: {what} expired on {blob.expiration:%Y-%m-%d}; download a new package "
                                   "from the portal (Settings > Endpoints > Onboarding)")
            if left <= dt.timedelta(days=config.packages.offboarding_warn_days):
                notes.append(f"{where}: {what} expires on {blob.expiration:%Y-%m-%d}; deploy before then or "
                             "download a new package")
        if blob.org_id and onboarding_orgs and blob.org_id.lower() != onboarding_orgs[0].lower():
            raise PackageError(f"{where}: {what} is of organisation {blob.org_id}, the onboarding package of "
                               f"{onboarding_orgs[0]}: download both from the same tenant")
        if blob.org_id:
            onboarding_orgs.append(blob.org_id)
    for field in ("defenderdt_offboarding", "configmgr_offboarding"):
        off = getattr(agent_files.get(field), "blob", None)
        if off is None:
            continue
        where, what = _where(config, source, field), BLOB_FILES[field]
        if off.expiration is None:
            notes.append(f"{where}: {what} holds no expiry mdegen can read; the portal's expire after seven days")
        else:
            left = off.expiration - now.astimezone(dt.timezone.utc)
            if left <= dt.timedelta(0):
                raise PackageError(f"{where}: {what} EXPIRED on {off.expiration:%Y-%m-%d}; download a new one "
                                   "from the portal shortly before you use it")
            if left <= dt.timedelta(days=config.packages.offboarding_warn_days):
                notes.append(f"{where}: {what} expires on {off.expiration:%Y-%m-%d}; use it before then or "
                             "download a new one")
        notes += release_date_warning(config, where, what, off.expiration)
        if any(o.lower() != off.org_id.lower() for o in onboarding_orgs):
            raise PackageError(f"{where}: {what} is of organisation {off.org_id}, the onboarding data of "
                               f"{onboarding_orgs[0]}: download both from the same tenant")
    return notes


def release_date_warning(config: Config, where: str, what: str, expires: dt.datetime | None) -> list[str]:
    """A warning when ``expires`` leaves less than offboarding_warn_days after the release date: the
    release is handed over on that date, and the package stops working soon after."""
    if expires is None:
        return []
    release = dt.datetime.combine(config.release.date, dt.time(0, 0), dt.timezone.utc)
    left = expires - release
    if left < dt.timedelta(days=config.packages.offboarding_warn_days):
        return [f"{where}: {what} expires on {expires:%Y-%m-%d}, less than {config.packages.offboarding_warn_days} "
                f"days after the release date {config.release.date}: download a new one shortly before you hand "
                "the release over"]
    return []


def _package_warnings(where: str, pkg: PortalPackage, now: dt.datetime) -> list[str]:
    """What is odd about a package that can still be used: line ends a copy changed, a signing
    certificate past its end date."""
    notes = []
    script = pkg.script
    if b"\n" in script and b"\r\n" not in script:
        notes.append(f"{where}: {pkg.script_name} has LF-only line ends: it was changed on its way (a git checkout "
                     "or an editor); cmd.exe can misread such a script. Download the package again and keep it "
                     "byte for byte (in git: mark it binary or -text)")
    not_after = pkg.facts.cert_not_after
    if not_after is not None and not_after < now:
        notes.append(f"{where}: the certificate that signed {pkg.script_name}'s onboarding data expired on "
                     f"{not_after:%Y-%m-%d}; download a current package from the portal")
    return notes


def read_packages(config: Config, needed: tuple[str, ...], *, now: dt.datetime, purpose: str,
                  source: str = "<config>") -> tuple[dict[str, PortalPackage | None], list[str]]:
    """Read the ``needed`` packages once and check them for unattended use by ``purpose`` (for
    example "GPO onboarding"): kinds, interactivity, expiry (at ``now``, an aware datetime), one
    organisation."""
    found: dict[str, PortalPackage | None] = {name: None for name in PACKAGE_NAMES}
    warnings: list[str] = []
    for which in PACKAGE_NAMES:
        if which in needed:
            found[which] = _read(config, source, which)
            if found[which] is not None:
                warnings += _package_warnings(_where(config, source, which), found[which], now)
    onboarding, offboarding, vdi = found["onboarding"], found["offboarding"], found["vdi"]
    if onboarding is not None:
        if onboarding.kind is PackageKind.OFFBOARDING:
            raise PackageError(f"{_where(config, source, 'onboarding')}: {onboarding.source.name} is an offboarding "
                               "script; name it under packages.offboarding and give the onboarding package here")
        _checked(config, source, "onboarding", lambda: portal.check_unattended(onboarding, purpose))
    if offboarding is not None:
        if offboarding.kind is not PackageKind.OFFBOARDING:
            raise PackageError(f"{_where(config, source, 'offboarding')}: {offboarding.source.name} is not an "
                               f"offboarding script (it is {offboarding.kind.value})")
        where = _where(config, source, "offboarding")
        _checked(config, source, "offboarding",
                 lambda: warnings.extend(f"{where}: {w}" for w in portal.check_offboarding_expiry(
                     offboarding, now, config.packages.offboarding_warn_days)),
                 lambda: portal.check_unattended(offboarding, purpose.replace("onboarding", "offboarding")),
                 lambda: onboarding is None or portal.check_same_org(onboarding, offboarding))
        warnings += release_date_warning(config, where, "the offboarding package", offboarding.facts.expiration)
    if vdi is not None:
        # The VDI package holds the onboarding script and Onboard-NonPersistentMachine.ps1. One with the
        # script alone serves multiple-entry pools; the vdi kit refuses it for a single-entry pool,
        # naming that pool's mode.
        if vdi.kind not in (PackageKind.VDI, PackageKind.GP_ONBOARDING):
            raise PackageError(f"{_where(config, source, 'vdi')}: {vdi.source.name} is not a VDI onboarding package "
                               f"(a zip with Onboard-NonPersistentMachine.ps1; it is {vdi.kind.value})")
        if onboarding is not None:
            _checked(config, source, "vdi", lambda: portal.check_same_org(onboarding, vdi))
    return found, warnings


def resolve(config: Config, *, source: str = "<config>", packages: dict[str, PortalPackage | None] | None = None,
            warnings: list[str] | tuple[str, ...] = (), agent_files: "dict[str, AgentFile] | None" = None) -> Project:
    """The project of an already loaded config and its (already read and checked) packages."""
    packages = packages or {}
    onboarding = packages.get("onboarding")
    offboarding = packages.get("offboarding")
    agent_files = dict(agent_files or {})

    def agent_payload(agent: str, settings: Settings, chosen: tuple[WindowsRelease, ...]) -> Payload | None:
        return _agent_payload(config, agent, settings, chosen, agent_files, onboarding)

    offboarding_payload = None if offboarding is None else payloads.portal_offboarding(offboarding)
    if config.targets:
        targets = tuple(resolve_target(t, config.settings, index=i, onboarding=onboarding, agent_payload=agent_payload)
                        for i, t in enumerate(config.targets))
        if any(t.agent for t in targets):
            # Each down-level target's way off, resolved with it (the agents' readers and templates
            # load only for configs with agents).
            from generator.offboarding import target_offboarding

            workspace = config.downlevel.workspace_id if config.downlevel else None
            targets = tuple(t if t.agent is None else dataclasses.replace(t, offboarding=target_offboarding(
                t.agent, agent_files=agent_files, portal_offboarding=offboarding,
                offboarding_payload=offboarding_payload, workspace_id=workspace)) for t in targets)
    else:
        targets = (resolve_target(Target(name=DEFAULT_TARGET_NAME), config.settings, onboarding=onboarding),)
    notes = list(warnings)
    unknown = sorted({g for t in targets for g in (t.settings.asr_rules or {}) if g not in ASR_RULES})
    for guid in unknown:
        notes.append(f"settings.asr_rules: {guid} is not an attack surface reduction rule Microsoft documents; "
                     "Defender ignores a rule it does not know (check the GUID against the ASR rules reference)")
    for t in targets:
        if t.agent == releases.MMA and t.settings.passive_mode:
            notes.append(f"target {t.name!r}: passive mode is configured, but with the Microsoft Monitoring Agent "
                         "ForceDefenderPassiveMode does nothing (on 2012 R2 and 2016 it works only with the unified "
                         "agent): Defender Antivirus on 2016 stays active beside another antivirus")
        inactive = inactive_in_passive_mode(t.settings)
        if inactive:
            names = ", ".join(s.field for s in inactive)
            notes.append(f"target {t.name!r}: passive mode is on, so Defender Antivirus does not enforce {names} "
                         "until passive mode ends")
    if config.downlevel is not None and config.downlevel.embed_secrets and any(t.agent == releases.MMA for t in targets):
        notes.append("downlevel.embed_secrets: the MMA workspace key is written into Install-MdeMma-SECRET.ps1 in "
                     "every kit that deploys the mma agent: keep that output out of git and off shares others read")
    vdi = packages.get("vdi")
    pools = tuple(
        ResolvedPool(index=i, name=p.name, mode=p.mode, domain_gpo=p.domain_gpo,
                     settings=Settings.model_validate({**config.settings.configured(), **p.settings.configured()}),
                     payload=None if vdi is None or (p.mode == "single" and vdi.vdi_script is None)
                     else payloads.portal_vdi(vdi, p.mode))
        for i, p in enumerate(config.vdi.pools)) if config.vdi is not None else ()
    return Project(
        config=config,
        source=source,
        targets=targets,
        pools=pools,
        onboarding=onboarding,
        offboarding=offboarding,
        vdi=packages.get("vdi"),
        offboarding_payload=offboarding_payload,
        agent_files=agent_files,
        warnings=tuple(notes),
    )


def from_config(config: Config, *, packages: tuple[str, ...], now: dt.datetime, purpose: str,
                source: str = "<config>") -> Project:
    """The project of a loaded config: the ``packages`` a kit needs (portal packages and agent
    files) read and checked, then resolved."""
    found, warnings = read_packages(config, packages, now=now, purpose=purpose, source=source)
    agent_files = {}
    extra = {f: k for f, k in CONFIGMGR_FILES.items() if f in packages}
    if any(p in AGENT_FILES for p in packages) or extra:
        agent_files = read_agent_files(config, source, extra)
        warnings += agent_warnings(config, source, agent_files, found.get("onboarding"), now)
    return resolve(config, source=source, packages=found, warnings=warnings, agent_files=agent_files)


def load(path: Path, *, packages: tuple[str, ...], now: dt.datetime, purpose: str) -> Project:
    """Load the config at ``path``, read the ``packages`` it names that a kit needs, resolve."""
    return from_config(load_config(path), packages=packages, now=now, purpose=purpose, source=str(path))
