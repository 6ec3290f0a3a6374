"""The reviewed config file (``mdegen.yaml``): its model, its loader and its error messages.

The model is strict: unknown keys are errors (a typo must not silently disable a setting), every
Defender setting defaults to "not configured" (mdegen writes nothing for it), and every string that
later reaches a script, XML or INI file is checked here so builders can rely on it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from generator import releases
from generator.errors import ConfigError

CONFIG_VERSION = 1

# Characters that no name, tag or path mdegen writes may hold: control characters (newlines break
# every line-based format) and NUL. Per-field rules below refuse more where a format needs it.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters such as a newline or tab")
    if value != value.strip():
        raise ValueError("must not start or end with white space")
    if not value:
        raise ValueError("must not be empty")
    return value


PlainText = Annotated[str, AfterValidator(_no_control)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --- Release ------------------------------------------------------------------------------------

_RELEASE_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}$")


class Release(StrictModel):
    """The release this output belongs to: the only source of dates and stamps in output."""

    version: str = Field(description="Release version string, e.g. '2026.11.1' (quote it in YAML).")
    date: dt.date = Field(description="Release date (YYYY-MM-DD); every time stamp in output derives from it.")

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not _RELEASE_VERSION.match(v):
            raise ValueError(
                "must be 1-32 characters of letters, digits and . + _ - starting with a letter or digit")
        return v


# --- Portal packages ----------------------------------------------------------------------------


class Packages(StrictModel):
    """The files downloaded from the Defender portal. Relative paths resolve against the config's folder."""

    onboarding: Path = Field(description="Onboarding package: the portal zip or the bare WindowsDefenderATPOnboardingScript.cmd "
                                         "(deployment method 'Group Policy').")
    offboarding: Path | None = Field(default=None, description="Optional offboarding package (zip or "
                                     "WindowsDefenderATPOffboardingScript_valid_until_YYYY-MM-DD.cmd).")
    vdi: Path | None = Field(default=None, description="Optional VDI onboarding package (zip with Onboard-NonPersistentMachine.ps1).")
    offboarding_warn_days: int = Field(default=3, ge=0, le=365, description="Warn when the offboarding "
                                       "script expires within this many days (an expired one is an error).")
    # The down-level agents' files (targets with an agent), each read by content.
    defenderdt: Path | None = Field(default=None, description="DefenderDT.exe, the Defender deployment tool "
                                    "(targets with agent: defenderdt).")
    defenderdt_onboarding: Path | None = Field(default=None, description="The DefenderDT package's "
                                               "WindowsDefenderATP.onboarding file, or the zip holding it (agent: defenderdt).")
    defenderdt_offboarding: Path | None = Field(default=None, description="The DefenderDT offboarding package's "
                                                ".offboarding file or its zip, for `mdegen offboard` (agent: defenderdt; it "
                                                "expires after seven days).")
    unified_msi: Path | None = Field(default=None, description="md4ws.msi, the unified agent's installer from the "
                                     "portal (agent: unified).")
    unified_script: Path | None = Field(default=None, description="Microsoft's install.ps1 for the unified agent, "
                                        "signed, byte for byte (agent: unified).")
    mma_setup: Path | None = Field(default=None, description="MMASetup-AMD64.exe, the Microsoft Monitoring Agent "
                                   "setup (agent: mma).")
    # The Configuration Manager current-branch policy route (Assets and Compliance > Endpoint Protection).
    configmgr_onboarding: Path | None = Field(default=None, description="The portal's package for \"Microsoft "
                                              "Endpoint Configuration Manager current branch and later\" (the zip) "
                                              "or its WindowsDefenderATP.onboarding file, for the Defender for "
                                              "Endpoint onboarding policy; read and checked, no kit deploys it yet.")
    configmgr_offboarding: Path | None = Field(default=None, description="The matching offboarding package (zip) "
                                               "or its .offboarding file, for the offboarding policy (it expires after "
                                               "seven days); read and checked by validate, no kit deploys it yet.")

    @field_validator("onboarding", "offboarding", "vdi", "defenderdt", "defenderdt_onboarding", "defenderdt_offboarding",
                     "unified_msi", "unified_script", "mma_setup", "configmgr_onboarding", "configmgr_offboarding",
                     mode="before")
    @classmethod
    def _path(cls, v: Any) -> Any:
        if isinstance(v, str):
            if not v.strip() or _CONTROL.search(v):
                raise ValueError("must be a file path without control characters")
            return Path(v)
        return v


# --- Share --------------------------------------------------------------------------------------

# \\server.domain.tld\share[\folder...]: a fully qualified server name, as the Defender docs ask,
# because computer accounts resolve short names unreliably across domains and sites.
_FQDN_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_FQDN = rf"{_FQDN_LABEL}(?:\.{_FQDN_LABEL})+"
# Share and folder names: Windows forbids " / \ [ ] : | < > + = ; , ? * in share names; mdegen also
# refuses % (cmd.exe would expand it) and control characters. $ (hidden shares), & and ' are
# allowed and escaped in every language they reach.
_SEGMENT = r"[^\\/\"\[\]:|<>+=;,?*%\x00-\x1f\x7f]+"
_UNC = re.compile(rf"^\\\\(?P<server>{_FQDN})\\(?P<share>{_SEGMENT})(?P<rest>(?:\\{_SEGMENT})*)\\?$")


def _unc(value: str) -> str:
    m = _UNC.match(value)
    if not m:
        if not value.startswith("\\\\"):
            raise ValueError(r"must be a UNC path such as \\fs01.contoso.com\MDE$\Onboarding")
        server = value[2:].split("\\", 1)[0]
        if "." not in server:
            raise ValueError(f"server {server!r} must be a fully qualified name such as fs01.contoso.com")
        if "%" in value:
            raise ValueError("must not contain % (cmd.exe would expand it)")
        raise ValueError(r'must be \\server.domain\share[\folder...] without " / [ ] : | < > + = ; , ? * % or control characters')
    if "`" in value:
        raise ValueError("must not contain ` (PowerShell's escape character)")
    if "&" in value or "^" in value:
        # cmd.exe runs the onboarding script from this path; & and ^ are its command separator and
        # escape character, and quoting does not protect them everywhere the path travels.
        raise ValueError("must not contain & or ^ (cmd.exe, which runs the scripts from the share, treats them specially)")
    if re.fullmatch(r"[0-9.]+", m.group("server")):
        raise ValueError("must name the file server by its fully qualified DNS name, not an IP address")
    if any(seg in (".", "..") or seg.endswith((" ", ".")) for seg in value[2:].split("\\") if seg):
        raise ValueError("folder names must not be '.', '..' or end with a space or dot")
    value = value.rstrip("\\")
    if len(m.group("share")) > _MAX_SHARE_NAME:
        raise ValueError(f"the share name {m.group('share')!r} is {len(m.group('share'))} characters; "
                         f"Windows allows {_MAX_SHARE_NAME}")
    long_segment = next((seg for seg in value[2:].split("\\") if len(seg) > _MAX_NAME), None)
    if long_segment is not None:
        raise ValueError(f"the folder name {long_segment[:20]!r}... is {len(long_segment)} characters; Windows "
                         f"allows {_MAX_NAME}")
    if len(value) > _MAX_SHARE_PATH:
        raise ValueError(f"is {len(value)} characters; at most {_MAX_SHARE_PATH} keep the scripts' full paths on it "
                         f"within Windows' {_MAX_PATH}-character limit (MAX_PATH)")
    return value


# Windows limits: a share name has at most 80 characters (NNLEN), a file or folder name 255, a full
# path 259 plus its terminating NUL (MAX_PATH, which cmd.exe and Task Scheduler keep to). The longest
# file mdegen puts on the share is the portal's offboarding script, so the share path keeps room
# for a backslash and its name.
_MAX_SHARE_NAME = 80
_MAX_NAME = 255
_MAX_PATH = 260
_LONGEST_SHARE_FILE = len("WindowsDefenderATPOffboardingScript_valid_until_YYYY-MM-DD.cmd")
_MAX_SHARE_PATH = _MAX_PATH - 1 - 1 - _LONGEST_SHARE_FILE

UncPath = Annotated[str, AfterValidator(_unc)]


# --- Defender settings --------------------------------------------------------------------------

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DEVICE_TAG = re.compile(r"^[^\x00-\x1f\x7f\"%]{1,200}$")

AsrMode = Literal["off", "block", "audit", "warn"]


class Settings(StrictModel):
    """Policy values written to registry.pol. Every one is optional: absent means "not configured"."""

    passive_mode: bool | None = Field(default=None, description="ForceDefenderPassiveMode: true puts Defender "
                                      "Antivirus in passive mode (a third-party antivirus stays primary); false writes 0.")
    device_tag: str | None = Field(default=None, description="MDE device tag (DeviceTagging\\Group), up to 200 characters.")
    sample_collection: bool | None = Field(default=None, description="MDE AllowSampleCollection (sample sharing for deep analysis).")
    telemetry_latency: Literal["normal", "expedite"] | None = Field(default=None, description="MDE telemetry reporting frequency.")
    cloud_protection: Literal["disabled", "basic", "advanced"] | None = Field(default=None, description="Join Microsoft MAPS "
                                                                               "(Spynet\\SpynetReporting 0/1/2); 'advanced' is recommended.")
    sample_submission: Literal["always_prompt", "send_safe_samples", "never_send", "send_all_samples"] | None = Field(
        default=None, description="Send file samples (Spynet\\SubmitSamplesConsent 0-3); 'send_safe_samples' is recommended.")
    pua_protection: Literal["off", "block", "audit"] | None = Field(default=None, description="Potentially unwanted application detection (PUAProtection 0/1/2).")
    realtime_protection: bool | None = Field(default=None, description="true writes DisableRealtimeMonitoring=0 (real-time protection on).")
    behavior_monitoring: bool | None = Field(default=None, description="true writes DisableBehaviorMonitoring=0.")
    scan_downloads: bool | None = Field(default=None, description="Scan all downloaded files and attachments: true writes DisableIOAVProtection=0.")
    monitor_file_activity: bool | None = Field(default=None, description="Monitor file and program activity: true writes DisableOnAccessProtection=0.")
    signature_check_before_scan: bool | None = Field(default=None, description="Check for the latest security intelligence before a scheduled scan.")
    asr_rules: dict[str, AsrMode] | None = Field(default=None, description="Attack surface reduction rules: rule GUID -> off | block | audit | warn.")
    controlled_folder_access: Literal["off", "block", "audit", "block_disk_modification", "audit_disk_modification"] | None = Field(
        default=None, description="Controlled folder access (EnableControlledFolderAccess 0/1/2/3/4).")

    @field_validator("device_tag")
    @classmethod
    def _tag(cls, v: str | None) -> str | None:
        if v is None:
            return v
        _no_control(v)
        if not _DEVICE_TAG.match(v):
            raise ValueError('must be 1-200 characters without control characters, " or %')
        return v

    @field_validator("asr_rules")
    @classmethod
    def _asr(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        if v is None:
            return v
        seen: dict[str, str] = {}
        for rule in v:
            if not _GUID.match(rule):
                raise ValueError(f"rule {rule!r} is not a GUID such as 56a863a9-875e-4185-98a7-b882c64b5ce5")
            low = rule.lower()
            if low in seen:
                raise ValueError(f"rule {rule!r} is listed twice (also as {seen[low]!r})")
            seen[low] = rule
        if not v:
            raise ValueError("is empty: list at least one rule or remove the key")
        # Registry value names are case-insensitive; mdegen writes the lower-case form.
        return {rule.lower(): mode for rule, mode in sorted(v.items(), key=lambda kv: kv[0].lower())}

    def configured(self) -> dict[str, Any]:
        """The settings that are configured (not None), in declaration order."""
        return {name: getattr(self, name) for name in type(self).model_fields if getattr(self, name) is not None}


# --- Targets --------------------------------------------------------------------------------------

_TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$")


def _object_name(v: str) -> str:
    """A target's or pool's name: it reaches GPO, file, collection and package names."""
    if not _TARGET_NAME.match(v) or v != v.strip():
        raise ValueError("must be 1-40 letters, digits, spaces, dots, underscores or hyphens, starting with a letter or digit")
    return v


ObjectName = Annotated[str, AfterValidator(_object_name)]

_DN = re.compile(r"^(?:OU|CN|DC)=[^,=+<>#;\\\"\x00-\x1f]+(?:,\s?(?:OU|CN|DC)=[^,=+<>#;\\\"\x00-\x1f]+)*$", re.IGNORECASE)


def _distinguished_name(v: str) -> str:
    """An OU's distinguished name, as Get-ADComputer's DistinguishedName ends with it."""
    if not _DN.fullmatch(v) or len(v) > 512:
        raise ValueError("must be a distinguished name of OU=, CN= and DC= parts, e.g. OU=Kiosks,OU=VDI,DC=contoso,DC=com "
                         "(no escaped characters)")
    return v


DistinguishedName = Annotated[str, AfterValidator(_distinguished_name)]
DEFAULT_TARGET_NAME = "Servers"

# The releases a target may name: the keys of the release table (generator/releases.py).
ServerRelease = Literal[tuple(r.key for r in releases.RELEASES)]  # type: ignore[valid-type]


def policy_route_serves(os: list[str], agent: str | None) -> bool:
    """Whether ConfigMgr's Defender for Endpoint policy onboards these releases with this agent: 2019
    and later by themselves; 2012 R2 and 2016 through the client setting that installs the unified
    agent (sccm.md section 3.4). Not 2008 R2, DefenderDT or the Microsoft Monitoring Agent."""
    chosen = releases.canonical(os)
    if agent is None:
        return all(not r.agents for r in chosen)
    return agent == releases.UNIFIED


class Target(StrictModel):
    """A group of servers with its own GPO and WMI filter."""

    name: ObjectName = Field(description="Target name (letters, digits, space . _ -; up to 40), used in GPO and file names.")
    os: list[ServerRelease] = Field(default_factory=lambda: list(releases.DEFAULT_RELEASES), min_length=1,
                                    description="Windows Server releases this target covers: 2019, 2022, 2025, sac.")
    domain_controllers: bool | Literal["only"] = Field(
        default=False, description="false: member servers only (ProductType 3); true: member servers and domain "
                                   "controllers (ProductType 2); only: domain controllers only, e.g. for a GPO of their own.")
    agent: Literal["defenderdt", "unified", "mma"] | None = Field(
        default=None, validate_default=True, description="For 2008r2, 2012r2 and 2016 (which need an agent before they onboard): defenderdt "
                                  "(the Defender deployment tool), unified (md4ws.msi with install.ps1; 2012r2 and 2016 "
                                  "only) or mma (the retired Microsoft Monitoring Agent, for old estates).")
    settings: Settings = Field(default_factory=Settings, description="Overrides of the top-level settings for this target.")
    sccm_route: Literal["package", "policy"] | None = Field(
        default=None, description="How `mdegen sccm-package` onboards this target, overriding sccm.route: package "
                                  "(a package and program run the onboarding payload) or policy (a Microsoft Defender "
                                  "for Endpoint policy from packages.configmgr_onboarding; 2012r2 and 2016 with the "
                                  "unified agent, 2019 and later).")

    @field_validator("os", mode="before")
    @classmethod
    def _os(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        out = []
        choices = ", ".join(r.key for r in releases.RELEASES)
        for item in v:
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                raise ValueError(f"{item!r} is not a release: list release names such as {choices}")
            text = str(item).strip().lower().replace("windows server", "").strip()
            text = releases.ALIASES.get(text, text)
            if text in releases.UNSUPPORTED:
                raise ValueError(f"{item!r}: Windows Server {text} is out of support and no Defender for Endpoint "
                                 "route onboards it; the oldest release is 2008r2 (SP1)")
            out.append(text)
        if len(set(out)) != len(out):
            raise ValueError("lists a release twice")
        return out

    @field_validator("agent")
    @classmethod
    def _agent(cls, v: str | None, info: ValidationInfo) -> str | None:
        chosen = releases.canonical(info.data.get("os") or ())
        if not chosen:
            return v                                        # os itself failed: reported there
        needing = [r for r in chosen if r.agents]
        if needing and len(needing) != len(chosen):
            raise ValueError("a target holds either releases that need an agent (2008r2, 2012r2, 2016) or releases "
                             "that onboard by themselves (2019 and later), not both: split it into two targets")
        if not needing:
            if v is not None:
                raise ValueError(f"{', '.join(r.key for r in chosen)} {'onboards' if len(chosen) == 1 else 'onboard'} "
                                 "without an agent: remove agent")
            return v
        if v is None:
            raise ValueError(f"{', '.join(r.key for r in chosen)} {'needs' if len(chosen) == 1 else 'need'} an agent "
                             "before onboarding: set agent to "
                             "defenderdt, unified (2012r2 and 2016 only) or mma")
        wrong = [r.key for r in chosen if v not in r.agents]
        if wrong:
            raise ValueError(f"{v} does not onboard {', '.join(wrong)}: use "
                             + " or ".join(a for a in releases.AGENTS if all(a in r.agents for r in chosen)))
        return v

    @field_validator("sccm_route")
    @classmethod
    def _sccm_route(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v == "policy" and info.data.get("os") and not policy_route_serves(info.data["os"], info.data.get("agent")):
            raise ValueError("policy: the Configuration Manager Defender for Endpoint policy onboards 2012r2 and 2016 "
                             "with the unified agent and 2019 and later only; use package for this target")
        return v

    def builds(self) -> tuple[str, ...]:
        return releases.builds_of(releases.canonical(self.os))

    def product_types(self) -> tuple[int, ...]:
        if self.domain_controllers == "only":
            return (releases.DOMAIN_CONTROLLER,)
        if self.domain_controllers:
            return (releases.DOMAIN_CONTROLLER, releases.MEMBER_SERVER)
        return (releases.MEMBER_SERVER,)


# --- VDI pools (the vdi kit's own section) -------------------------------------------------------


class VdiPool(StrictModel):
    """A pool of non-persistent VDI machines cloned from one golden image."""

    name: ObjectName = Field(description="Pool name (letters, digits, space . _ -; up to 40), used in folder and GPO names.")
    mode: Literal["single", "multiple"] = Field(description="single: one portal device per machine name "
                                                "(Onboard-NonPersistentMachine.ps1; machine names must be reused "
                                                "across rebuilds); multiple: a new device per boot (the onboarding .cmd).")
    domain_gpo: bool = Field(default=False, description="Also write an Import-GPO-ready GPO whose computer startup "
                             "script runs the VDI script from the share (instead of the image's local policy).")
    settings: Settings = Field(default_factory=Settings, description="Overrides of the top-level settings for the "
                               "pool's domain GPO.")
    ou: DistinguishedName | None = Field(default=None, description="The Active Directory OU that holds the pool's "
                                         "machines, e.g. OU=Kiosks,OU=VDI,DC=contoso,DC=com; `mdegen plan` counts "
                                         "the computers below it as the pool's.")


# The VDI kit's own top-level names (a pool's folder sits beside them) and the names Windows keeps
# for devices.
_RESERVED_POOL_NAMES = {"reseal", "gpos", "share", "policydefinitions", "handoff.md", "sha256sums", "manifest.json",
                        "import-mdegpo.ps1", "test-mdeonboarding.ps1",
                        "test-mdeonboarding.schema.json"}
_WINDOWS_DEVICE_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


class Vdi(StrictModel):
    """Settings of `mdegen vdi`."""

    pools: list[VdiPool] = Field(min_length=1, description="The VDI pools, each with its own golden-image kit.")

    @field_validator("pools")
    @classmethod
    def _pools(cls, v: list[VdiPool]) -> list[VdiPool]:
        seen: dict[str, str] = {}
        for p in v:
            stem = re.sub(r"\s+", "-", p.name).casefold()
            if stem in _RESERVED_POOL_NAMES or stem.split(".")[0] in _WINDOWS_DEVICE_NAMES or stem.endswith("."):
                raise ValueError(f"pool name {p.name!r} cannot name a folder of the VDI kit (it is one of the kit's "
                                 "own names, a Windows device name or ends with a dot)")
            if stem in seen:
                raise ValueError(f"pool names {seen[stem]!r} and {p.name!r} give the same folder name")
            seen[stem] = p.name
        return v


# --- Down-level agents (the downlevel kit's section, read by every kit that deploys an agent) -----

# host:port or http(s)://host:port: what MMA's OPINSIGHTS_PROXY_URL and DefenderDT's -Proxy: take.
# Credentials are refused here: a password in a URL would land in every file that carries it.
_PROXY = re.compile(rf"^(?:(?P<scheme>https?)://)?(?P<host>{_FQDN}|{_FQDN_LABEL}|\d{{1,3}}(?:\.\d{{1,3}}){{3}})"
                    r":(?P<port>\d{1,5})/?$")
_PROXY_USER = re.compile(r"^[A-Za-z0-9._\\@-]{1,104}$")
# The cloud a Microsoft Monitoring Agent workspace lives in: OPINSIGHTS_WORKSPACE_AZURE_CLOUD_TYPE.
MMA_CLOUD_TYPES = {"commercial": 0, "usgov": 1, "china": 2}


def _proxy(value: str) -> str:
    if "@" in value:
        raise ValueError("must not hold a user name or password (user:password@host): give proxy_user, and the "
                         "scripts ask for the password at run time")
    m = _PROXY.match(value)
    if not m or not 0 < int(m.group("port")) < 65536:
        raise ValueError("must be host:port or http://host:port, e.g. proxy.contoso.com:8080")
    return value.rstrip("/")


class Downlevel(StrictModel):
    """Settings of the down-level agents (targets with an agent) and of `mdegen downlevel`."""

    workspace_id: str | None = Field(default=None, description="The Log Analytics workspace id the Microsoft Monitoring "
                                     "Agent reports Defender for Endpoint data to (agent: mma), from the portal's "
                                     "onboarding page. Its key is never written: the scripts read it at run time.")
    cloud: Literal["auto", "commercial", "usgov", "china"] = Field(
        default="auto", description="The agent's cloud: auto (US Government when the onboarding package is of a "
                                    "government tenant, else commercial), commercial, usgov or china (21Vianet; "
                                    "cloud type 2 is documented only in the Azure China docs).")
    proxy: Annotated[str, AfterValidator(_proxy)] | None = Field(
        default=None, description="The proxy the agents reach Defender through, host:port or http://host:port "
                                  "(no credentials in it).")
    proxy_user: str | None = Field(default=None, description="The proxy's user name, when it asks for one (MMA); the "
                                   "password is read at run time, never written.")
    log_share: UncPath | None = Field(default=None, description=r"A UNC folder computer accounts may write to, where "
                                      r"the unified agent's payload copies install.ps1's logs, e.g. "
                                      r"\\fs01.contoso.com\MDE-Logs$. Without it the logs stay on each server.")

    embed_secrets: bool = Field(default=False, description="Opt-in: write the workspace key (and proxy password) "
                                "into the MMA installer, named Install-MdeMma-SECRET.ps1, for routes that cannot "
                                "place a file at run time. Keep such output out of git.")
    workspace_key_file: Path | None = Field(default=None, validate_default=True, description="With embed_secrets: the "
                                            "file (one line) mdegen reads the workspace key from; relative to the "
                                            "config's folder.")
    proxy_password_file: Path | None = Field(default=None, description="With embed_secrets: the file mdegen reads "
                                             "the proxy password from.")

    @field_validator("workspace_key_file")
    @classmethod
    def _embedding(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        embed = info.data.get("embed_secrets")
        if embed and v is None:
            raise ValueError("is required with embed_secrets: true (the file mdegen reads the key from)")
        if v is not None and embed is False:
            raise ValueError("is read only with embed_secrets: true; without it the installer reads the key at run "
                             "time: remove workspace_key_file")
        return v

    @field_validator("workspace_key_file", "proxy_password_file", mode="before")
    @classmethod
    def _secret_path(cls, v: Any) -> Any:
        if isinstance(v, str):
            if not v.strip() or _CONTROL.search(v):
                raise ValueError("must be a file path without control characters")
            return Path(v)
        return v

    @field_validator("workspace_id")
    @classmethod
    def _workspace(cls, v: str | None) -> str | None:
        if v is not None and not _GUID.match(v):
            raise ValueError("must be a workspace id (a GUID such as 11111111-2222-3333-4444-555555555555)")
        return None if v is None else v.lower()

    @field_validator("proxy_user")
    @classmethod
    def _user(cls, v: str | None) -> str | None:
        if v is not None and (not _PROXY_USER.match(v) or v.endswith("\\")):
            raise ValueError(r"must be a user name (letters, digits, . _ - @ \; up to 104; not ending in \)")
        return v


# --- The whole file -----------------------------------------------------------------------------


class Sccm(StrictModel):
    """Settings of `mdegen sccm-package`."""

    route: Literal["auto", "package", "policy"] = Field(
        default="auto", description="auto: the Microsoft Defender for Endpoint policy (current branch) for each target "
        "it can onboard when packages.configmgr_onboarding is given and passive mode is not on, else the package; "
        "package: a package and program for every target (sites without an Endpoint Protection point, older than 2002, "
        "or than 2207 for 2012r2 and 2016; System Center 2012 R2); policy: the "
        "policy for every target (refused for a target it cannot onboard). A target's sccm_route overrides it.")


class Config(StrictModel):
    """mdegen.yaml, version 1."""

    version: Literal[1] = Field(description="Config format version; always 1.")
    organization: PlainText = Field(max_length=64, description="Organisation name shown in GPO names, ADMX texts and handoff documents.")
    release: Release
    packages: Packages
    share: UncPath | None = Field(default=None, description=r"UNC path with a fully qualified server name where "
                                  r"the scripts will be hosted, e.g. \\fs01.contoso.com\MDE$\Onboarding (needed by "
                                  r"the Group Policy kit).")
    domain: str | None = Field(default=None, description="Active Directory DNS domain the GPOs are for (recorded in the "
                               "GPO backups); defaults to the share server's domain, e.g. contoso.com for fs01.contoso.com.")
    settings: Settings = Field(default_factory=Settings, description="Defender policy values; each absent one is not configured.")
    targets: list[Target] | None = Field(default=None, min_length=1, description="Groups of servers, each with its own GPO "
                                         "and WMI filter; when absent, one target 'Servers' covers 2019, 2022 and 2025 "
                                         "member servers.")

    sccm: Sccm = Field(default_factory=lambda: Sccm(), description="Settings of `mdegen sccm-package`: the route "
                       "each target onboards by.")
    downlevel: Downlevel | None = Field(default=None, description="The down-level agents' settings: MMA workspace, "
                                        "cloud, proxy, log share (targets with an agent, `mdegen downlevel`).")
    vdi: Vdi | None = Field(default=None, description="VDI pools for `mdegen vdi` (non-persistent machines "
                            "onboarded at each boot by a startup script in their golden image).")

    # Where the file was read from; relative package paths resolve against its folder.
    base_dir: Path = Field(default=Path("."), exclude=True, description="(internal)")
    # The line of each value in the file, by field location, so that later checks (packages, kits)
    # can name the line as the loader's own errors do.
    _lines: dict[tuple[Any, ...], int] = PrivateAttr(default_factory=dict)

    def line_of(self, *loc: Any) -> int | None:
        """The line of the value at ``loc`` (e.g. ``("packages", "offboarding")``) in the file read."""
        return self._lines.get(tuple(loc))

    @field_validator("organization")
    @classmethod
    def _org(cls, v: str) -> str:
        if "%" in v or '"' in v:
            raise ValueError('must not contain % or " (they cannot be carried safely into batch scripts)')
        if "]]>" in v:
            raise ValueError("must not contain ]]> (GPO backups carry the name in XML CDATA sections, which it would end)")
        return v

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(_FQDN, v):
            raise ValueError("must be a DNS domain name such as contoso.com")
        return v

    @property
    def ad_domain(self) -> str | None:
        """The AD DNS domain: the configured one, else the share server's name without its host label."""
        if self.domain:
            return self.domain.lower()
        if self.share is None:
            return None
        server = self.share[2:].split("\\", 1)[0]
        return server.split(".", 1)[1].lower()

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: list[Target] | None) -> list[Target] | None:
        if v is None:
            return v
        names: dict[str, str] = {}
        covered: dict[tuple[str, int], str] = {}
        for t in v:
            if t.name.casefold() in names:
                raise ValueError(f"target name {t.name!r} is used twice")
            names[t.name.casefold()] = t.name
            for build in t.builds():
                for ptype in t.product_types():
                    other = covered.get((build, ptype))
                    if other is not None:
                        kind = "domain controllers" if ptype == 2 else "member servers"
                        raise ValueError(f"targets {other!r} and {t.name!r} both cover build {build} {kind}; "
                                         "a server must get exactly one onboarding GPO")
                    covered[(build, ptype)] = t.name
        return v

    def package_path(self, which: str) -> Path | None:
        return self.resolve_path(getattr(self.packages, which))

    def resolve_path(self, p: Path | None) -> Path | None:
        """A path of the config, relative to its folder."""
        if p is None:
            return None
        return p if p.is_absolute() else (self.base_dir / p)


# --- Loading ------------------------------------------------------------------------------------


def _refuse_duplicate_keys(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            # A complex key (`? [a, b]`) cannot name a setting, and would not even hash.
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word, not a list or mapping", key_node.start_mark)
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


def _date_or_error(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    # PyYAML turns a date-shaped scalar that is no date (2026-02-30) into a bare ValueError.
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date ({exc})", node.start_mark) from None


def _loader(base: type) -> type:
    """``base`` (libyaml's CSafeLoader or PyYAML's SafeLoader) with mdegen's rules: YAML 1.2
    booleans (only true/false: YAML 1.1 turns on/off/yes/no into booleans, which would make
    ``pua_protection: off`` a confusing type error), duplicate and complex keys refused, impossible
    dates reported. The resolver and constructor are Python either way, so the rules are the same."""
    loader = type(f"Mdegen{base.__name__}", (base,), {})
    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _refuse_duplicate_keys)
    loader.add_constructor("tag:yaml.org,2002:timestamp", _date_or_error)
    return loader


# libyaml's parser where PyYAML was built with it (several times faster; its nodes carry line
# numbers too); the pure-Python one words syntax errors more fully, so it explains a failure.
_PyYamlLoader = _loader(yaml.SafeLoader)
_YamlLoader = _loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _parse_yaml(text: str, loader_class: type) -> tuple[yaml.Node | None, Any]:
    """One parse: the node tree gives line numbers for errors, and the data is built from it."""
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (a pydantic error location), or its nearest parent."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    # Point at the key itself when the value is a nested block.
                    node = v
                    line = (k.start_mark.line + 1) if not isinstance(v, yaml.ScalarNode) else (v.start_mark.line + 1)
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _field_name(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# pydantic names the member of a union it tried in the error location ('bool', "literal['only']",
# 'function-after[...]'); mdegen reports the field itself.
_UNION_TAG = re.compile(r"^(?:bool|str|int|float|none|dict|list|[\w-]+\[.*\])$")


def _field_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(p for p in loc if not (isinstance(p, str) and _UNION_TAG.match(p)))


# What each alternative of a union accepts, in words, for "must be X, Y or Z".
_ACCEPTS = {"bool_type": ("true", "false"), "string_type": ("text",), "int_type": ("a whole number",),
            "dict_type": ("a mapping",), "list_type": ("a list",), "is_instance_of": ("a file path",)}


def _alternatives(errors: list[dict[str, Any]]) -> str:
    words: list[str] = []
    for err in errors:
        if err["type"] == "literal_error":
            found = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
            words += found or [str(err.get("ctx", {}).get("expected", ""))]
        else:
            words += _ACCEPTS.get(err["type"], ())
    words = list(dict.fromkeys(w for w in words if w))
    if not words:
        return _message(errors[0])
    return "must be " + (words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1])


def _message(err: dict[str, Any]) -> str:
    """One pydantic error in mdegen's own words."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key (check its spelling; see `mdegen schema` for the allowed keys)"
    if kind == "missing":
        return "is required but missing"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be a mapping of keys (indented key: value lines)"
    if kind == "bool_type":
        return "must be true or false"
    if kind.startswith("date_"):
        return "must be a date written YYYY-MM-DD, without quotes"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return "must be one of: " + ", ".join(expected) if expected else "is not one of the allowed values"
    if kind == "string_type":
        if isinstance(err.get("input"), (int, float)) and not isinstance(err.get("input"), bool):
            return "must be text; quote the value in YAML (e.g. \"1.10\")"
        return "must be text"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number"
    if kind == "list_type":
        return "must be a list, e.g. [2019, 2022]"
    if kind == "too_short":
        return "must list at least one item (or leave the key out)"
    if kind == "is_instance_of":
        return "must be a file path"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    # Anything else: pydantic's sentence, reworded to read like the rest.
    return msg.replace("Input should be", "must be").replace("Value should", "must")


def _validation_error(exc: ValidationError, root: yaml.Node | None, source: str) -> ConfigError:
    """The first problem, in mdegen's words, naming file, line and field; the other fields too."""
    errors = exc.errors(include_url=False)
    loc = _field_loc(tuple(errors[0]["loc"]))
    here = [e for e in errors if _field_loc(tuple(e["loc"])) == loc]
    msg = _alternatives(here) if len(here) > 1 else _message(here[0])
    others = list(dict.fromkeys(_field_name(_field_loc(tuple(e["loc"]))) for e in errors
                                if _field_loc(tuple(e["loc"])) != loc))
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        msg += f" (also check: {shown})"
    return ConfigError(msg, path=source, line=_line_of(root, loc), field=_field_name(loc))


def loads(text: str, *, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Parse and validate config text. Raises ConfigError naming the file, line and field."""
    try:
        try:
            root, data = _parse_yaml(text, _YamlLoader)
        except yaml.YAMLError:
            if _YamlLoader is _PyYamlLoader:
                raise
            root, data = _parse_yaml(text, _PyYamlLoader)    # raises again, with the fuller message
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        # A constructor's refusal (duplicate key, impossible date) is no syntax error: say it plainly,
        # and name the field where the document's structure is readable (it is: only a value failed).
        if isinstance(exc, yaml.constructor.ConstructorError):
            raise ConfigError(problem, path=source, line=line, field=_field_at(text, mark)) from None
        raise ConfigError(f"YAML syntax error: {problem}", path=source, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML syntax error: {exc}", path=source) from None
    if data is None:
        raise ConfigError("the file is empty; run `mdegen init` for a starter config", path=source)
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping of keys (version:, organization:, ...)", path=source, line=1)
    if "base_dir" in data:
        raise ConfigError("unknown key (check its spelling; see `mdegen schema` for the allowed keys)",
                          path=source, line=_line_of(root, ("base_dir",)), field="base_dir")
    if "version" in data and data["version"] != CONFIG_VERSION:
        version = data["version"]
        if isinstance(version, str) and version.strip() == str(CONFIG_VERSION):
            reason = f"must be the number {CONFIG_VERSION}, without quotes"
        else:
            reason = f"unsupported config version {version!r}; this mdegen reads version {CONFIG_VERSION}"
        raise ConfigError(reason, path=source, line=_line_of(root, ("version",)), field="version")
    try:
        # Strict validation: YAML already gives ints, booleans and dates; a quoted "true" is an
        # error rather than a guess. Paths are the one conversion (see Packages._path).
        cfg = Config.model_validate({**data, "base_dir": base_dir or Path(".")})
    except ValidationError as exc:
        raise _validation_error(exc, root, source) from None
    cfg._lines = _lines(root)
    return cfg


def _field_at(text: str, mark: yaml.Mark | None) -> str | None:
    """The field whose key or value node starts at ``mark`` (None when unknown)."""
    if mark is None:
        return None
    try:
        root = yaml.compose(text, Loader=_PyYamlLoader)
    except yaml.YAMLError:
        return None
    found: list[tuple[Any, ...]] = []

    def walk(node: yaml.Node, loc: tuple[Any, ...]) -> None:
        if (node.start_mark.line, node.start_mark.column) == (mark.line, mark.column) and loc:
            found.append(loc)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                if (key.start_mark.line, key.start_mark.column) == (mark.line, mark.column):
                    found.append(loc + (name,))
                walk(value, loc + (name,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, loc + (i,))

    if root is not None:
        walk(root, ())
    found = [loc for loc in found if "?" not in loc]         # a complex key has no name to give
    return _field_name(max(found, key=len)) if found else None


def _lines(root: yaml.Node | None) -> dict[tuple[Any, ...], int]:
    """Line of every key's value, by its location in the document (mappings and lists)."""
    found: dict[tuple[Any, ...], int] = {}

    def walk(node: yaml.Node, loc: tuple[Any, ...]) -> None:
        found[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    walk(value, loc + (key.value,))
                    found[loc + (key.value,)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, loc + (i,))

    if root is not None:
        walk(root, ())
    return found


def load(path: Path) -> Config:
    """Read and validate ``path``; relative package paths resolve against its folder."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("config file not found; run `mdegen init` to write a starter config", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the config file: {exc.strerror}", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", path=path) from None
    return loads(text, source=str(path), base_dir=path.resolve().parent)


def json_schema() -> dict[str, Any]:
    """JSON Schema of the config file, for editors (YAML language servers) and review."""
    schema = Config.model_json_schema(mode="validation")
    schema.get("properties", {}).pop("base_dir", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mdegen configuration (mdegen.yaml)"
    return schema
