"""What each down-level agent needs on each release, as Test-MdePrerequisites.ps1 checks it.

Facts from ../shared/reference/mde-2026.md §B-§D and mde-domain.md §2 (Microsoft's down-level
docs, install.ps1's own probes). Where an update can be superseded by a later one, the check is the
file version install.ps1 itself tests; otherwise the hotfix id, and a missing one is a warning (a
later update may have replaced it). A requirement the agent installs itself (install.ps1 fetches its
updates from Windows Update, DefenderDT its prerequisites) is a warning, never a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator import releases


@dataclass(frozen=True)
class Hotfix:
    id: str
    why: str
    required: bool = True


@dataclass(frozen=True)
class FileVersion:
    path: str                  # with environment variables, expanded on the server
    minimum: str
    why: str


@dataclass(frozen=True)
class Needs:
    build: str
    name: str
    x64: bool = True
    dotnet_release: int = 0    # .NET Framework 4.x "Release" at least (0: not needed)
    dotnet35: bool = False
    tls12_explicit: bool = False   # the SCHANNEL client must be switched on (off by default)
    strong_crypto: bool = False    # .NET must use TLS 1.2 (SchUseStrongCrypto)
    antispyware_fails: bool = False
    hotfixes: tuple[Hotfix, ...] = ()
    file_versions: tuple[FileVersion, ...] = ()


NET_452 = 379893               # .NET Framework 4.5.2's Release value
_SSU = Hotfix("KB4490628", "servicing stack update (March 2019 or later)")
_SHA2 = Hotfix("KB4474419", "SHA-2 code signing support")
_ROLLUP = Hotfix("KB4074598", "February 2018 monthly rollup or later")
# The 2026 docs name this update only by its title; KB3080149 is the id the earlier docs gave it.
_TELEMETRY_7601 = Hotfix("KB3080149", "update for customer experience and diagnostic telemetry")
_UCRT = FileVersion(r"%SystemRoot%\System32\ucrtbase.dll", "0.0.0.0", "Universal C Runtime (KB2999226)")
_TDH = FileVersion(r"%SystemRoot%\System32\tdh.dll", "6.3.9600.17958", "telemetry update (KB3080149)")
_NTOSKRNL = FileVersion(r"%SystemRoot%\System32\ntoskrnl.exe", "6.3.9600.17736", "kernel update (KB3045999)")
# "service:<name>": the program the service runs (install.ps1 reads WinDefend's image path too).
_WINDEFEND = FileVersion("service:WinDefend", "4.10.14393.2515", "Defender Antivirus platform 4.10.14393.2515 or later")

_NEEDS: dict[tuple[str, str], Needs] = {
    ("2008r2", releases.DEFENDERDT): Needs("7601", "Windows Server 2008 R2 SP1", dotnet35=True, tls12_explicit=True,
                                           hotfixes=(_SSU, _SHA2)),
    ("2008r2", releases.MMA): Needs("7601", "Windows Server 2008 R2 SP1", dotnet_release=NET_452, tls12_explicit=True,
                                    strong_crypto=True, hotfixes=(_ROLLUP, _SSU, _SHA2, _TELEMETRY_7601)),
    ("2012r2", releases.DEFENDERDT): Needs("9600", "Windows Server 2012 R2"),
    ("2012r2", releases.UNIFIED): Needs("9600", "Windows Server 2012 R2", antispyware_fails=True,
                                        file_versions=(_UCRT, _TDH, _NTOSKRNL)),
    ("2012r2", releases.MMA): Needs("9600", "Windows Server 2012 R2", dotnet_release=NET_452, strong_crypto=True,
                                    file_versions=(_TDH,)),
    ("2016", releases.DEFENDERDT): Needs("14393", "Windows Server 2016"),
    ("2016", releases.UNIFIED): Needs("14393", "Windows Server 2016", antispyware_fails=True, file_versions=(_WINDEFEND,)),
    ("2016", releases.MMA): Needs("14393", "Windows Server 2016", dotnet_release=NET_452, strong_crypto=True),
}


def needs(release_key: str, agent: str) -> Needs:
    """What ``agent`` needs on ``release_key``; KeyError for a pair no route supports."""
    return _NEEDS[(release_key, agent)]


# Registry locations the script reads (below HKLM).
FACTS = {
    "net_full": r"SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full",
    "net35": r"SOFTWARE\Microsoft\NET Framework Setup\NDP\v3.5",
    "tls12_client": r"SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client",
    "net_strong": (r"SOFTWARE\Microsoft\.NETFramework\v4.0.30319", r"SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v4.0.30319"),
    "defender_policy": r"SOFTWARE\Policies\Microsoft\Windows Defender",
    "antispyware": "DisableAntiSpyware",
    "reboot_keys": (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending",
                    r"SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired"),
    # install.ps1's own marker (it exits 12 while the value is there).
    "install_marker_key": r"SOFTWARE\Microsoft\Microsoft Defender for Endpoint Install",
    "install_marker_value": "PendingReboot",
    "session_manager": r"SYSTEM\CurrentControlSet\Control\Session Manager",
    "services_key": r"SYSTEM\CurrentControlSet\Services",
    "results_folder": r"C:\ProgramData\mdegen",
}

# Endpoints each agent reaches besides the tenant's gateway (the onboarding data's geo URL).
_OMS_DOMAIN = {0: "oms.opinsights.azure.com", 1: "oms.opinsights.azure.us", 2: "oms.opinsights.azure.cn"}
_AGENT_URLS = {
    releases.DEFENDERDT: ("https://definitionupdates.microsoft.com/",),
    releases.UNIFIED: ("https://go.microsoft.com/",),
    releases.MMA: (),
}


def urls(agent: str, gateway: str | None, *, workspace_id: str | None = None, cloud_type: int = 0) -> list[str]:
    """The URLs the connectivity check requests for ``agent``."""
    out = [gateway] if gateway else []
    out += _AGENT_URLS[agent]
    if agent == releases.MMA and workspace_id:
        out.append(f"https://{workspace_id}.{_OMS_DOMAIN[cloud_type]}/")
    return out
