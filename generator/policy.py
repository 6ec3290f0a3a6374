"""The policy model: every registry value mdegen can set, in one table.

Each entry says which config setting drives it, where it lives in the registry, how a config value
becomes registry data, and which ADMX policy shows it in GPMC. Writers for the individual formats
(registry.pol, ADMX/ADML, later compliance checks and verification scripts) all read this table,
so a setting is described once.

Key paths are written as GPMC writes them in registry.pol (``Software\\Policies\\...``).
The Defender Antivirus values use the value names and data of Microsoft's in-box
``WindowsDefender.admx``, so GPMC shows them natively under Microsoft Defender Antivirus; the
Defender for Endpoint values (``Windows Advanced Threat Protection`` key) are shown by mdegen's
own ADMX (see generator/builders/policy_definitions.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from generator.config import Settings

ATP_KEY = r"Software\Policies\Microsoft\Windows Advanced Threat Protection"
ATP_TAGGING_KEY = ATP_KEY + r"\DeviceTagging"
DEFENDER_KEY = r"Software\Policies\Microsoft\Windows Defender"
RTP_KEY = DEFENDER_KEY + r"\Real-Time Protection"
SPYNET_KEY = DEFENDER_KEY + r"\Spynet"
SCAN_KEY = DEFENDER_KEY + r"\Scan"
ASR_KEY = DEFENDER_KEY + r"\Windows Defender Exploit Guard\ASR"
ASR_RULES_KEY = ASR_KEY + r"\Rules"
CFA_KEY = DEFENDER_KEY + r"\Windows Defender Exploit Guard\Controlled Folder Access"

# Not policy, but facts the kits check: the Defender for Endpoint sensor writes OnboardingState
# (REG_DWORD, 1 = onboarded) under this key once onboarding completed. Spelled as the policy keys
# are (registry.pol style); hklm_path() gives the SOFTWARE\... form of reg.exe and .NET.
SENSE_KEY = r"Software\Microsoft\Windows Advanced Threat Protection"
STATUS_KEY = SENSE_KEY + r"\Status"
ONBOARDING_STATE = "OnboardingState"
SENSE_SERVICE = "Sense"                 # the Defender for Endpoint sensor service
SENSE_SERVICE_PATH = r"SYSTEM\CurrentControlSet\Services\Sense"   # its Start is 2 while onboarded
# The value the portal's onboarding script writes under ATP_KEY (policy): where it is present, the
# sensor onboards at its next start, whether or not it has yet.
ONBOARDING_INFO = "OnboardingInfo"
# The sensor's identity on a machine: Onboard-NonPersistentMachine.ps1 derives senseGuid from the
# organisation and the machine name; an image that carries one makes every clone one device.
SENSE_GUID = "senseGuid"
# What re-sealing an image that was onboarded by mistake removes (mde-2026.md §A, Microsoft's
# configure-endpoints-vdi procedure as of 2026; senseId and the 2567E824/C9D38BBB values are newer
# than the 2023 list): values under SENSE_KEY, the key below it, and the files of the cyber-data folder.
RESEAL_VALUES = (SENSE_GUID, "senseId", "2567E824-34AB-4A74-90E9-BC0F8BDFAA4A",
                 "7DC0B629-D7F6-4DB3-9BF7-64D5AAF50F1A", "C9D38BBB-E9DD-4B27-8E6F-7DE97E68DAB9")
RESEAL_KEYS = (SENSE_KEY + r"\48A68F11-7A16-4180-B32C-7F974C7BD783",)
CYBER_DATA_FOLDER = r"%ProgramData%\Microsoft\Windows Defender Advanced Threat Protection\Cyber"

# The attack surface reduction rules Microsoft documents (attack-surface-reduction-rules-reference),
# by GUID (lower case, as mdegen writes them). A GUID outside this table is most likely a typo,
# which Defender ignores; the config is warned about it, not refused (a new rule may be newer
# than this table).
ASR_RULES: dict[str, str] = {
    "56a863a9-875e-4185-98a7-b882c64b5ce5": "Block abuse of exploited vulnerable signed drivers",
    "7674ba52-37eb-4a4f-a9a1-f0f9a1619a2c": "Block Adobe Reader from creating child processes",
    "d4f940ab-401b-4efc-aadc-ad5f3c50688a": "Block all Office applications from creating child processes",
    "9e6c4e1f-7d60-472f-ba1a-a39ef669e4b2": "Block credential stealing from the Windows local security authority subsystem",
    "be9ba2d9-53ea-4cdc-84e5-9b1eeee46550": "Block executable content from email client and webmail",
    "01443614-cd74-433a-b99e-2ecdc07bfc25": "Block executable files from running unless they meet a prevalence, age, "
                                            "or trusted list criterion",
    "5beb7efe-fd9a-4556-801d-275e5ffc04cc": "Block execution of potentially obfuscated scripts",
    "d3e037e1-3eb8-44c8-a917-57927947596d": "Block JavaScript or VBScript from launching downloaded executable content",
    "3b576869-a4ec-4529-8536-b80a7769e899": "Block Office applications from creating executable content",
    "75668c1f-73b5-4cf0-bb93-3ecf5cb7cc84": "Block Office applications from injecting code into other processes",
    "26190899-1602-49e8-8b27-eb1d0a1ce869": "Block Office communication application from creating child processes",
    "e6db77e5-3df2-4cf1-b95a-636979351e5b": "Block persistence through WMI event subscription",
    "d1e49aac-8f56-4280-b9ba-993a6d77406c": "Block process creations originating from PSExec and WMI commands",
    "33ddedf1-c6e0-47cb-833e-de6133960387": "Block rebooting machine in Safe Mode",
    "b2b3f03d-6a65-4f7b-a9c7-1c7ef74a9ba4": "Block untrusted and unsigned processes that run from USB",
    "c0033c00-d16d-4114-a5a0-dc9b3a7d2ceb": "Block use of copied or impersonated system tools",
    "a8f5898e-1dc8-49a9-9878-85004b8a61e6": "Block Webshell creation for Servers",
    "92e97fa1-2edf-4476-bdd6-9dd0b4dddc7b": "Block Win32 API calls from Office macros",
    "c1db55ab-c21a-4637-bb3f-a12568109d35": "Use advanced protection against ransomware",
}

# Data of the ASR rule values (REG_SZ, as WindowsDefender.admx's list writes them).
ASR_MODE_DATA = {"off": "0", "block": "1", "audit": "2", "warn": "6"}

ValueKind = Literal["dword", "sz"]


@dataclass(frozen=True)
class RegistryValue:
    """One value to set under HKLM (machine policy)."""

    key: str
    name: str
    kind: ValueKind
    data: int | str


@dataclass(frozen=True)
class AdmxPresentation:
    """How mdegen's own ADMX shows a setting (only for settings that in-box ADMX files lack)."""

    policy_name: str                       # ADMX policy name (letters, digits, underscore)
    display_name: str                      # en-US text shown in GPMC
    explain: str                           # en-US explain text an admin can act on
    element: Literal["toggle", "enum", "text"] = "toggle"
    enum_items: tuple[tuple[str, str], ...] = ()   # (label, REG_SZ data) for enum elements
    element_label: str = ""                # label of the enum/text box
    max_length: int = 0                    # text element limit


@dataclass(frozen=True)
class PolicySetting:
    """One config setting and the registry values it sets."""

    field: str                              # attribute of config.Settings
    title: str                              # GPMC-style name of the setting, for reports
    key: str
    value_name: str
    shown_by: str                           # which ADMX file shows it in GPMC
    admx_policy: str                        # policy name in that ADMX
    encode: Callable[[Any], list[RegistryValue]]
    describe: Callable[[Any], str]
    admx: AdmxPresentation | None = field(default=None)


def _dword(key: str, name: str, mapping: dict[Any, int]) -> Callable[[Any], list[RegistryValue]]:
    return lambda v: [RegistryValue(key, name, "dword", mapping[v])]


def _words(mapping: dict[Any, str]) -> Callable[[Any], str]:
    return lambda v: mapping[v]


_ON_OFF = {True: "enabled", False: "disabled"}
_INVERTED = {True: 0, False: 1}         # "Disable..." values: the feature on means 0
_STRAIGHT = {True: 1, False: 0}

_TELEMETRY = {"normal": "Normal", "expedite": "Expedite"}


def _asr(rules: dict[str, str]) -> list[RegistryValue]:
    # ExploitGuard_ASR_Rules=1 is the policy's enabled state; each rule is a REG_SZ value named by
    # its GUID. The list is additive in WindowsDefender.admx, so GPMC writes no **delvals. here.
    values = [RegistryValue(ASR_KEY, "ExploitGuard_ASR_Rules", "dword", 1)]
    values += [RegistryValue(ASR_RULES_KEY, guid, "sz", ASR_MODE_DATA[mode]) for guid, mode in rules.items()]
    return values


def _describe_asr(rules: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for mode in rules.values():
        counts[mode] = counts.get(mode, 0) + 1
    return f"{len(rules)} rule{'s' if len(rules) != 1 else ''} (" + ", ".join(
        f"{n} {mode}" for mode, n in sorted(counts.items())) + ")"


WINDOWS_DEFENDER_ADMX = "WindowsDefender.admx (in-box)"
MDEGEN_ADMX = "mdegen ADMX"

SETTINGS: tuple[PolicySetting, ...] = (
    PolicySetting(
        field="passive_mode",
        title="Defender for Endpoint: force Microsoft Defender Antivirus into passive mode",
        key=ATP_KEY, value_name="ForceDefenderPassiveMode",
        shown_by=MDEGEN_ADMX, admx_policy="ForceDefenderPassiveMode",
        encode=_dword(ATP_KEY, "ForceDefenderPassiveMode", _STRAIGHT),
        describe=_words({True: "on (passive mode)", False: "off (active mode)"}),
        admx=AdmxPresentation(
            policy_name="ForceDefenderPassiveMode",
            display_name="Force Microsoft Defender Antivirus into passive mode",
            explain=(
                "Sets ForceDefenderPassiveMode under HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Advanced "
                "Threat Protection.\n\n"
                "Enabled (1): Microsoft Defender Antivirus runs in passive mode once the server is onboarded to "
                "Microsoft Defender for Endpoint. Use this when another antivirus product stays the primary one. "
                "The value must be in place before onboarding: keep this policy in the same GPO as the onboarding "
                "task (the Registry extension is processed before Preferences).\n\n"
                "Disabled (0): Defender Antivirus is not forced into passive mode and runs in active mode unless "
                "another antivirus product is registered.\n\n"
                "Not configured: this GPO writes nothing. Group Policy removes a value it set itself once the "
                "policy no longer applies, but a value written another way (the installer's FORCEPASSIVEMODE=1, a "
                "script) stays. To take servers out of passive mode reliably, set this policy to Disabled.\n\n"
                "Check on a server: Get-WinEvent -FilterHashtable @{ProviderName='Microsoft-Windows-Sense'; Id=84} "
                "shows 'Force passive mode: 1' after the Defender for Endpoint service applied it; "
                "Get-MpComputerStatus reports AMRunningMode 'Passive Mode'.\n\n"
                "With tamper protection on, a server whose Defender Antivirus already runs in active mode does not "
                "switch to passive mode when this value appears: set the value before onboarding.\n\n"
                "In passive mode Defender Antivirus does not enforce attack surface reduction rules, controlled "
                "folder access, PUA protection or cloud-delivered protection.\n\n"
                "Applies to Windows Server 2019 and later, and to Windows Server 2012 R2 and 2016 with the modern "
                "unified solution. Generated by mdegen."
            ),
        ),
    ),
    PolicySetting(
        field="sample_collection",
        title="Defender for Endpoint: sample collection (AllowSampleCollection)",
        key=ATP_KEY, value_name="AllowSampleCollection",
        shown_by=MDEGEN_ADMX, admx_policy="AllowSampleCollection",
        encode=_dword(ATP_KEY, "AllowSampleCollection", _STRAIGHT),
        describe=_words(_ON_OFF),
        admx=AdmxPresentation(
            policy_name="AllowSampleCollection",
            display_name="Allow sample collection for Deep Analysis",
            explain=(
                "Sets AllowSampleCollection under HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Advanced Threat "
                "Protection.\n\n"
                "Enabled (1): Defender for Endpoint may collect files from this server for Deep Analysis in the "
                "Microsoft Defender portal. This is the recommended setting and also the behaviour when the value "
                "is absent.\n\n"
                "Disabled (0): file samples are not collected; Deep Analysis of files from this server is not "
                "available.\n\n"
                "The portal's Group Policy package offers the same value through the AtpConfiguration.admx in its "
                "OptionalParamsPolicy folder. Generated by mdegen."
            ),
        ),
    ),
    PolicySetting(
        field="telemetry_latency",
        title="Defender for Endpoint: telemetry reporting frequency (latency)",
        key=ATP_KEY, value_name="latency",
        shown_by=MDEGEN_ADMX, admx_policy="TelemetryReportingFrequency",
        encode=lambda v: [RegistryValue(ATP_KEY, "latency", "sz", _TELEMETRY[v])],
        describe=lambda v: _TELEMETRY[v],
        admx=AdmxPresentation(
            policy_name="TelemetryReportingFrequency",
            display_name="Telemetry reporting frequency",
            element="enum",
            element_label="Reporting frequency:",
            enum_items=(("Normal", "Normal"), ("Expedite", "Expedite")),
            explain=(
                "Sets the REG_SZ value latency under HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Advanced Threat "
                "Protection.\n\n"
                "Normal: the default reporting frequency; right for servers.\n"
                "Expedite: the sensor reports more often, at the cost of more network and CPU use. Use it only "
                "for a small group of high-risk servers, and only for a limited time.\n\n"
                "Not configured or Disabled: the sensor uses Normal. Generated by mdegen."
            ),
        ),
    ),
    PolicySetting(
        field="device_tag",
        title="Defender for Endpoint: device tag (DeviceTagging\\Group)",
        key=ATP_TAGGING_KEY, value_name="Group",
        shown_by=MDEGEN_ADMX, admx_policy="DeviceTag",
        encode=lambda v: [RegistryValue(ATP_TAGGING_KEY, "Group", "sz", v)],
        describe=lambda v: repr(v),
        admx=AdmxPresentation(
            policy_name="DeviceTag",
            display_name="Device tag",
            element="text",
            element_label="Tag:",
            max_length=200,
            explain=(
                "Sets the REG_SZ value Group under HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Advanced Threat "
                "Protection\\DeviceTagging.\n\n"
                "Enabled: the Microsoft Defender portal shows the text as a tag on every server this GPO applies "
                "to, so device groups and filters can use it. One tag per server, up to 200 characters. The tag "
                "appears in the portal after the next sensor report, which can take up to a day.\n\n"
                "Disabled: the Group value is deleted, which removes the tag from servers this GPO applies to.\n\n"
                "Not configured: this GPO does not touch the value. Generated by mdegen."
            ),
        ),
    ),
    PolicySetting(
        field="cloud_protection",
        title="Microsoft Defender Antivirus: Join Microsoft MAPS",
        key=SPYNET_KEY, value_name="SpynetReporting",
        shown_by=WINDOWS_DEFENDER_ADMX, admx_policy="SpynetReporting",
        encode=_dword(SPYNET_KEY, "SpynetReporting", {"disabled": 0, "basic": 1, "advanced": 2}),
        describe=_words({"disabled": "Disabled", "basic": "Basic MAPS", "advanced": "Advanced MAPS"}),
    ),
    PolicySetting(
        field="sample_submission",
        title="Microsoft Defender Antivirus: Send file samples when further analysis is required",
        key=SPYNET_KEY, value_name="SubmitSamplesConsent",
        shown_by=WINDOWS_DEFENDER_ADMX, admx_policy="SubmitSamplesConsent",
        encode=_dword(SPYNET_KEY, "SubmitSamplesConsent",
                      {"always_prompt": 0, "send_safe_samples": 1, "never_send": 2, "send_all_samples": 3}),
        describe=_words({"always_prompt": "Always prompt", "send_safe_samples": "Send safe samples",
                         "never_send": "Never send", "send_all_samples": "Send all samples"}),
    ),
    PolicySetting(
        field="pua_protection",
        title="Microsoft Defender Antivirus: Configure detection for potentially unwanted applications",
        key=DEFENDER_KEY, value_name="PUAProtection",
        shown_by=WINDOWS_DEFENDER_ADMX, admx_policy="Root_PUAProtection",
        encode=_dword(DEFENDER_KEY, "PUAProtection", {"off": 0, "block": 1, "audit": 2}),
        describe=_words({"off": "Off", "block": "Block", "audit": "Audit"}),
    ),
    PolicySetting(
        field="realtime_protection",
        title="Microsoft Defender Antivirus: Turn off real-time protection",
        key=RTP_KEY, value_name="DisableRealtimeMonitoring",
        shown_by=WINDOWS_DEFENDER_ADMX, admx_policy="DisableRealtimeMonitoring",
        encode=_dword(RTP_KEY, "DisableRealtimeMonitoring", _INVERTED),
        describe=_words({True: "real-time protection on (policy Disabled)", False: "real-time protection off (policy Enabled)"}),
    ),
    PolicySetting(
        field="behavior_monitoring",
        title="Microsoft Defender Antivirus: Turn on behavior monitoring",
        key=RTP_KEY, value_name="DisableBehaviorMonitoring",
        shown_by=WINDOWS_DEFENDER_ADMX, admx_policy="RealtimeProtection_DisableBehaviorMonitoring",
        encode=_dword(RTP_KEY, "DisableBehaviorMonitoring", _INVERTED),
        describe=_words(_ON_OFF),
    ),
    PolicySetting(
        field="scan_downloads",
        title="Microsoft Defender Antivirus: Scan all downloaded files and attachments",
        key=RTP_KEY, value_name="DisableIOAVProtection",
        shown_by=WINDOWS_DEFENDER_ADMX, admx_policy="RealtimeProtection_DisableIOAVProtection",
        encode=_dword(RTP_KEY, "DisableIOAVProtection", _INVERTED),
        describe=_words(_ON_OFF),
    ),
    PolicySetting(
        field="monitor_file_activity",
        title="Microsoft Defender Antivirus: Monitor file and program activity on your computer",
        key=RTP_KEY, value_name="DisableOnAccessProtection",
        shown_by=WINDOWS_DEFENDER_ADMX, admx_policy="RealtimeProtection_DisableOnAccessProtection",
        encode=_dword(RTP_KEY, "DisableOnAccessProtection", _INVERTED),
        describe=_words(_ON_OFF),
    ),
    PolicySetting(
        field="signature_check_before_scan",
        title="Microsoft Defender Antivirus: Check for the latest security intelligence before running a scheduled scan",
        key=SCAN_KEY, value_name="CheckForSignaturesBeforeRunningScan",
        shown_by=WINDOWS_DEFENDER_ADMX, admx_policy="CheckForSignaturesBeforeRunningScan",
        encode=_dword(SCAN_KEY, "CheckForSignaturesBeforeRunningScan", _STRAIGHT),
        describe=_words(_ON_OFF),
    ),
    PolicySetting(
        field="asr_rules",
        title="Microsoft Defender Antivirus: Configure Attack Surface Reduction rules",
        key=ASR_KEY, value_name="ExploitGuard_ASR_Rules",
        shown_by=WINDOWS_DEFENDER_ADMX, admx_policy="ExploitGuard_ASR_Rules",
        encode=_asr,
        describe=_describe_asr,
    ),
    PolicySetting(
        field="controlled_folder_access",
        title="Microsoft Defender Antivirus: Configure Controlled folder access",
        key=CFA_KEY, value_name="EnableControlledFolderAccess",
        shown_by=WINDOWS_DEFENDER_ADMX, admx_policy="ExploitGuard_ControlledFolderAccess_EnableControlledFolderAccess",
        encode=_dword(CFA_KEY, "EnableControlledFolderAccess",
                      {"off": 0, "block": 1, "audit": 2, "block_disk_modification": 3, "audit_disk_modification": 4}),
        describe=_words({"off": "Disabled", "block": "Block", "audit": "Audit mode",
                         "block_disk_modification": "Block disk modification only",
                         "audit_disk_modification": "Audit disk modification only"}),
    ),
)

_BY_FIELD = {s.field: s for s in SETTINGS}


def hklm_path(key: str) -> str:
    """A key as registry.pol spells it (``Software\\...``) in the form admins, reg.exe and .NET use
    after ``HKLM\\`` (``SOFTWARE\\...``)."""
    return "SOFTWARE" + key[len("Software"):] if key.startswith("Software\\") else key


def setting(field_name: str) -> PolicySetting:
    return _BY_FIELD[field_name]


# The passive-mode policy value, as the SETTINGS row spells it, for the scripts that write or check
# it outside registry.pol (the SCCM wrapper, the compliance discovery script).
PASSIVE_MODE_KEY = setting("passive_mode").key
PASSIVE_MODE_VALUE = setting("passive_mode").value_name


# System Center Endpoint Protection's Cloud Protection Service membership, Advanced (2): what the
# down-level docs ask of servers that keep SCEP beside the Microsoft Monitoring Agent (KB3209361).
# The location is INFERRED (mirrors Defender's Spynet\SpynetReporting; seen in public hardening
# scripts, not in Microsoft's documentation); handoffs say so.
SCEP_SPYNET_KEY = r"SOFTWARE\Policies\Microsoft\Microsoft Antimalware\SpyNet"
SCEP_CLOUD_ADVANCED = RegistryValue(SCEP_SPYNET_KEY, "SpyNetReporting", "dword", 2)


def registry_values(settings: Settings) -> list[RegistryValue]:
    """The values the configured settings set, in the order of SETTINGS."""
    values: list[RegistryValue] = []
    for s in SETTINGS:
        v = getattr(settings, s.field)
        if v is not None:
            values.extend(s.encode(v))
    return values


def describe(settings: Settings) -> list[tuple[PolicySetting, str]]:
    """(setting, readable value) for every configured setting, for reports and handoff texts."""
    return [(s, s.describe(getattr(settings, s.field))) for s in SETTINGS if getattr(settings, s.field) is not None]


# Defender Antivirus features that do nothing while it runs in passive mode (Microsoft's
# antivirus compatibility table): configuring them beside passive mode is allowed, because they
# take effect when passive mode ends, but the admin is told.
INACTIVE_IN_PASSIVE_MODE = ("cloud_protection", "pua_protection", "asr_rules", "controlled_folder_access")


def inactive_in_passive_mode(settings: Settings) -> list[PolicySetting]:
    """The configured settings that passive mode makes ineffective (none when passive mode is not on)."""
    if settings.passive_mode is not True:
        return []
    return [setting(f) for f in INACTIVE_IN_PASSIVE_MODE if getattr(settings, f) is not None]


def mdegen_admx_settings() -> list[PolicySetting]:
    """The settings that mdegen's own ADMX must define (those no in-box ADMX shows)."""
    return [s for s in SETTINGS if s.admx is not None]


def _check_model() -> None:
    # Every Settings field has exactly one row, so a new field cannot be silently ignored.
    fields = set(Settings.model_fields)
    rows = [s.field for s in SETTINGS]
    missing = fields - set(rows)
    if missing or len(rows) != len(set(rows)) or set(rows) - fields:
        raise AssertionError(f"policy table out of step with config.Settings: {sorted(missing)}")


_check_model()
