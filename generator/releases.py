"""The Windows Server releases mdegen knows: one table, read by the config, the targeting and the kits.

Each row says how a release identifies itself (version, build numbers, the product types it can
report), what it needs before the portal's onboarding script can onboard it (``agent``), and the
operating-system SKUs that share its build numbers but must never match a server target.

This module is plain data with no third-party import, so the CLI's start-up and the config model
can both read it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

# Win32_OperatingSystem.ProductType
WORKSTATION = 1
DOMAIN_CONTROLLER = 2
MEMBER_SERVER = 3

# Win32_OperatingSystem.OperatingSystemSKU of Windows 10 and 11 Enterprise multi-session (Azure
# Virtual Desktop session hosts, PRODUCT_SERVERRDSH). They report ProductType 3 like a member server
# and share builds with server releases (17763, 18362-19042, 26100), so a server target must
# exclude them by SKU; ConfigMgr's hardware inventory carries the same value
# (SMS_G_System_OPERATING_SYSTEM.OperatingSystemSKU, as Microsoft's AVD collection recipe uses).
MULTI_SESSION_SKU = 175


@dataclass(frozen=True)
class WindowsRelease:
    """One Windows Server release as mdegen targets it."""

    key: str                        # the config's spelling: targets[].os
    name: str                       # "Windows Server 2019"
    short: str                      # "2019", for compact names ("Windows Server 2019, 2022, SAC")
    version: str                    # NT version: "10.0"
    builds: tuple[str, ...]         # Win32_OperatingSystem.BuildNumber values, as strings
    # The agents that can onboard it (issue 10's routes), first installed, then onboarded: empty
    # where the portal's onboarding script onboards it by itself.
    agents: tuple[str, ...] = ()
    # Win32_OperatingSystem.OperatingSystemSKU values that report a server product type with one of
    # these builds but are no server (Windows 10/11 Enterprise multi-session: 175).
    never_skus: tuple[int, ...] = ()

    @property
    def build_versions(self) -> tuple[str, ...]:
        """'10.0.<build>' per build, as ConfigMgr's SMS_R_System.Build spells them."""
        return tuple(f"{self.version}.{b}" for b in self.builds)


# The agents of the down-level releases (mde-2026.md §B-§D, as of 2026): the Defender deployment
# tool (DefenderDT.exe with a .onboarding file; 2008 R2 SP1's MMA-free agent, and it installs or
# upgrades the unified agent), the unified agent (md4ws.msi with Microsoft's install.ps1; 2012 R2
# and 2016 only) and the retired Microsoft Monitoring Agent, kept as the legacy route.
DEFENDERDT = "defenderdt"
UNIFIED = "unified"
MMA = "mma"
AGENTS = (DEFENDERDT, UNIFIED, MMA)

# Releases the portal's onboarding script onboards by itself (no agent first) and, first, the
# down-level releases that need an agent. SAC covers the Semi-Annual Channel releases 1803 to 20H2
# and the Annual Channel 23H2; 1809 shares build 17763 with Server 2019. The order is the canonical
# order of every list mdegen writes. Windows 7 SP1, 8.1 and 10 1607 share the down-level builds:
# only ProductType (1) tells them apart, as for the newer releases.
# Every release excludes multi-session by SKU, also 2022 whose build no multi-session release has
# today: one rule for all is easier to read in GPMC than a rule that depends on the build list.
RELEASES: tuple[WindowsRelease, ...] = (
    WindowsRelease("2008r2", "Windows Server 2008 R2 SP1", "2008 R2", "6.1", ("7601",), agents=(DEFENDERDT, MMA)),
    WindowsRelease("2012r2", "Windows Server 2012 R2", "2012 R2", "6.3", ("9600",), agents=(DEFENDERDT, UNIFIED, MMA)),
    WindowsRelease("2016", "Windows Server 2016", "2016", "10.0", ("14393",), agents=(DEFENDERDT, UNIFIED, MMA)),
    WindowsRelease("2019", "Windows Server 2019", "2019", "10.0", ("17763",), never_skus=(MULTI_SESSION_SKU,)),
    WindowsRelease("2022", "Windows Server 2022", "2022", "10.0", ("20348",), never_skus=(MULTI_SESSION_SKU,)),
    WindowsRelease("2025", "Windows Server 2025", "2025", "10.0", ("26100",), never_skus=(MULTI_SESSION_SKU,)),
    WindowsRelease("sac", "Windows Server SAC 1803 and later", "SAC", "10.0",
                   ("17134", "17763", "18362", "18363", "19041", "19042", "25398"), never_skus=(MULTI_SESSION_SKU,)),
)
BY_KEY: dict[str, WindowsRelease] = {r.key: r for r in RELEASES}

# Other spellings admins use for the down-level releases.
ALIASES = {"2008 r2": "2008r2", "2008r2sp1": "2008r2", "2008 r2 sp1": "2008r2", "2012 r2": "2012r2"}
# Releases no route onboards: Windows Server 2012 (not R2) and earlier are out of support.
UNSUPPORTED = frozenset({"2012", "2008", "2003"})

DEFAULT_RELEASES = ("2019", "2022", "2025")


def canonical(keys: object) -> tuple[WindowsRelease, ...]:
    """The releases named by ``keys``, in the table's order (not the config's)."""
    wanted = set(keys)  # type: ignore[call-overload]
    return tuple(r for r in RELEASES if r.key in wanted)


def builds_of(releases: "tuple[WindowsRelease, ...] | list[WindowsRelease]") -> tuple[str, ...]:
    """Every build number of ``releases``, sorted as text, each once."""
    return tuple(sorted({b for r in releases for b in r.builds}))


def server_kinds(product_types: tuple[int, ...]) -> str:
    """'member servers', 'member servers and domain controllers' or 'domain controllers'."""
    kinds = set(product_types)
    if kinds == {DOMAIN_CONTROLLER}:
        return "domain controllers"
    if kinds == {MEMBER_SERVER, DOMAIN_CONTROLLER}:
        return "member servers and domain controllers"
    return "member servers"


def joined(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
