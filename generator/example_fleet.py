"""The example's FAKE fleet: an Active Directory inventory and verification results.

`mdegen init --example` writes them beside the example config so that `mdegen plan` and
`mdegen report` have something to show. Every name is clearly fake (FAKE-..., contoso.example) and
the rows cover each case the plan decides: every target of the example, both VDI pools, a server
in a pool's OU (two routes), domain controllers (no target lists them), workstations,
multi-session hosts, releases no route onboards, a build outside the release table, a disabled
and two inactive accounts, and computers that are no Windows.
"""

from __future__ import annotations

import json

from generator.formats import csv_table

DOMAIN = "contoso.example"
_BASE = "DC=contoso,DC=example"
INVENTORY_NAME = "inventory.csv"
INVENTORY_COLUMNS = ("Name", "DNSHostName", "OperatingSystem", "OperatingSystemVersion", "PrimaryGroupID",
                     "Enabled", "LastLogonDate", "DistinguishedName")

# (name, operating system, version, primary group, enabled, last logon (en-US, as the table is easier to read so), OU)
COMPUTERS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("FAKE-WEB01", "Windows Server 2019 Datacenter", "10.0 (17763)", "515", "True", "1/15/2026 9:12:40 AM", "OU=Servers"),
    ("FAKE-WEB02", "Windows Server 2019 Standard", "10.0 (17763)", "515", "True", "1/14/2026 11:03:05 PM", "OU=Servers"),
    ("FAKE-APP01", "Windows Server 2022 Datacenter", "10.0 (20348)", "515", "True", "1/15/2026 7:45:00 AM", "OU=Servers"),
    ("FAKE-APP02", "Windows Server 2022 Datacenter: Azure Edition", "10.0 (20348)", "515", "True",
     "1/13/2026 4:20:11 PM", "OU=Servers"),
    ("FAKE-SQL01", "Windows Server 2022 Standard", "10.0 (20348)", "515", "True", "1/15/2026 2:00:59 AM", "OU=Servers"),
    ("FAKE-FILE01", "Windows Server 2025 Datacenter", "10.0 (26100)", "515", "True", "1/15/2026 10:30:00 AM", "OU=Servers"),
    ("FAKE-FILE02", "Windows Server 2025 Standard", "10.0 (26100)", "515", "True", "1/12/2026 8:08:08 AM", "OU=Servers"),
    ("FAKE-LEGACY01", "Windows Server 2012 R2 Standard", "6.3 (9600)", "515", "True", "1/15/2026 6:15:30 AM", "OU=Legacy"),
    ("FAKE-LEGACY02", "Windows Server 2016 Standard", "10.0 (14393)", "515", "True", "1/14/2026 6:15:30 AM", "OU=Legacy"),
    ("FAKE-LEGACY03", "Windows Server 2016 Datacenter", "10.0 (14393)", "515", "True", "1/11/2026 1:01:01 PM", "OU=Legacy"),
    ("FAKE-OLDAPP01", "Windows Server 2008 R2 Enterprise", "6.1 (7601)", "515", "True", "1/15/2026 3:33:33 AM", "OU=Legacy"),
    ("FAKE-OLDAPP02", "Windows Server 2008 R2 Standard", "6.1 (7600)", "515", "True", "1/10/2026 3:33:33 AM", "OU=Legacy"),
    ("FAKE-NT2012", "Windows Server 2012 Standard", "6.2 (9200)", "515", "True", "1/15/2026 5:00:00 AM", "OU=Legacy"),
    ("FAKE-NT2003", "Windows Server 2003", "5.2 (3790)", "515", "True", "1/9/2026 5:00:00 AM", "OU=Legacy"),
    ("FAKE-DC01", "Windows Server 2022 Standard", "10.0 (20348)", "516", "True", "1/15/2026 10:31:00 AM",
     "OU=Domain Controllers"),
    ("FAKE-DC02", "Windows Server 2019 Standard", "10.0 (17763)", "516", "True", "1/15/2026 10:29:00 AM",
     "OU=Domain Controllers"),
    ("FAKE-RODC01", "Windows Server 2019 Standard", "10.0 (17763)", "521", "True", "1/14/2026 9:00:00 PM",
     "OU=Domain Controllers"),
    ("FAKE-DC03", "Windows Server 2016 Standard", "10.0 (14393)", "516", "True", "1/15/2026 10:28:00 AM",
     "OU=Domain Controllers"),
    ("FAKE-CORE01", "Windows Server Datacenter", "10.0 (25398)", "515", "True", "1/15/2026 1:10:00 AM", "OU=Servers"),
    ("FAKE-PREVIEW01", "Windows Server 2025 Datacenter", "10.0 (26999)", "515", "True", "1/14/2026 1:10:00 AM", "OU=Lab"),
    ("FAKE-NOVER01", "Windows Server 2019 Standard", "", "515", "True", "1/13/2026 1:10:00 AM", "OU=Lab"),
    ("FAKE-PC001", "Windows 11 Enterprise", "10.0 (26100)", "515", "True", "1/15/2026 8:00:00 AM", "OU=Workstations"),
    ("FAKE-PC002", "Windows 10 Enterprise", "10.0 (19045)", "515", "True", "1/15/2026 8:05:00 AM", "OU=Workstations"),
    ("FAKE-LAPTOP01", "Windows 11 Pro", "10.0 (22631)", "515", "True", "1/8/2026 8:05:00 AM", "OU=Workstations"),
    ("FAKE-AVD01", "Windows 11 Enterprise multi-session", "10.0 (26100)", "515", "True", "1/15/2026 9:00:00 AM", "OU=AVD"),
    ("FAKE-AVD02", "Windows 10 Enterprise multi-session", "10.0 (19045)", "515", "True", "1/15/2026 9:02:00 AM", "OU=AVD"),
    ("FAKE-CTX001", "Windows 10 Enterprise", "10.0 (19045)", "515", "True", "1/15/2026 7:00:00 AM", "OU=Citrix,OU=VDI"),
    ("FAKE-CTX002", "Windows 10 Enterprise", "10.0 (19045)", "515", "True", "1/15/2026 7:01:00 AM", "OU=Citrix,OU=VDI"),
    ("FAKE-CTX-MS01", "Windows 11 Enterprise multi-session", "10.0 (26100)", "515", "True", "1/15/2026 7:02:00 AM",
     "OU=Citrix,OU=VDI"),
    ("FAKE-CTX-SRV01", "Windows Server 2022 Datacenter", "10.0 (20348)", "515", "True", "1/15/2026 7:03:00 AM",
     "OU=Citrix,OU=VDI"),
    ("FAKE-KIOSK01", "Windows 10 Enterprise LTSC", "10.0 (17763)", "515", "True", "1/15/2026 6:00:00 AM", "OU=Kiosks,OU=VDI"),
    ("FAKE-KIOSK02", "Windows 10 Enterprise LTSC", "10.0 (17763)", "515", "True", "1/14/2026 6:00:00 AM", "OU=Kiosks,OU=VDI"),
    ("FAKE-WEB99", "Windows Server 2019 Standard", "10.0 (17763)", "515", "False", "3/2/2025 10:00:00 AM", "OU=Servers"),
    ("FAKE-APP99", "Windows Server 2022 Standard", "10.0 (20348)", "515", "True", "6/1/2025 10:00:00 AM", "OU=Servers"),
    ("FAKE-NEW01", "", "", "515", "True", "", "OU=Servers"),
    ("FAKE-LNX01", "CentOS Stream", "9", "515", "True", "1/15/2026 4:44:44 AM", "OU=Linux"),
    ("FAKE-NAS01", "OneFS", "9.5.0.0", "515", "True", "1/15/2026 4:45:00 AM", "OU=Storage"),
)


def inventory_csv() -> bytes:
    """The inventory as Windows PowerShell 5.1 writes it with the handoff's command (-Encoding UTF8:
    a BOM, CRLF, every field quoted; LastLogonDate as ToString('s') writes it)."""
    import datetime as dt

    rows = []
    for name, os_name, version, group, enabled, last, ou in COMPUTERS:
        last = dt.datetime.strptime(last, "%m/%d/%Y %I:%M:%S %p").isoformat() if last else ""
        rows.append({"Name": name, "DNSHostName": f"{name.lower()}.{DOMAIN}" if os_name else "",
                     "OperatingSystem": os_name, "OperatingSystemVersion": version, "PrimaryGroupID": group,
                     "Enabled": enabled, "LastLogonDate": last, "DistinguishedName": f"CN={name},{ou},{_BASE}"})
    return csv_table.dumps(INVENTORY_COLUMNS, rows)


# --- verification results --------------------------------------------------------------------------

RESULTS_FOLDER = "results"
EXAMPLE_ORG_ID = "00000000-0000-0000-0000-000000000000"
OTHER_ORG_ID = "11111111-1111-1111-1111-111111111111"        # FAKE too: "another tenant"
_PASS = {
    "onboarding_state": ("1", "1", "onboarded"),
    "org_id": (EXAMPLE_ORG_ID, EXAMPLE_ORG_ID, "the expected organisation"),
    "script_event": ("20", "20", "WDATPOnboarding event 20"),
    "onboarding_value": ("", "present", "OnboardingInfo is not compared while onboarded"),
    "sense_service": ("Running", "Running", "the sensor service runs"),
    "sense_connectivity": ("no errors", "no errors", "no connectivity errors since the last start"),
    "defender_service": ("Running", "Running", "Defender Antivirus runs"),
    "running_mode": ("Passive", "Passive", "the expected running mode"),
    "passive_policy": ("1", "1", "the passive-mode policy is as configured"),
    "passive_event": ("1", "1, result 0", "the sensor set the expected running mode"),
    "prerequisites": ("", "", "no down-level agent"),
    "device_tag": ("Servers", "Servers", "the configured tag"),
    "agent": ("", "", "no down-level agent"),
}
# (computer, target, agent, time, failed checks {id: (observed, detail)}, expect)
RESULTS: tuple[tuple[str, str, str, str, dict, str], ...] = (
    ("FAKE-WEB01", "Servers", "none", "2026-01-15T09:30:00Z", {}, "Onboarded"),
    ("FAKE-WEB02", "Servers", "none", "2026-01-15T09:31:00Z", {}, "Onboarded"),
    ("FAKE-APP01", "Servers", "none", "2026-01-15T09:32:00Z",
     {"onboarding_state": ("0", "not onboarded"),
      "script_event": ("35", "WDATPOnboarding event 35: the onboarding state value did not appear"),
      "sense_service": ("Stopped", "the sensor service does not run")}, "Onboarded"),
    ("FAKE-APP02", "Servers", "none", "2026-01-15T09:33:00Z",
     {"running_mode": ("Normal", "Defender Antivirus is active, passive mode was expected"),
      "passive_policy": ("absent", "no ForceDefenderPassiveMode policy value")}, "Onboarded"),
    ("FAKE-SQL01", "Servers", "none", "2026-01-15T09:34:00Z", {"device_tag": ("SQL", "another tag")}, "Onboarded"),
    ("FAKE-FILE01", "Servers", "none", "2026-01-15T09:35:00Z",
     {"org_id": (OTHER_ORG_ID, "onboarded to another organisation")}, "Onboarded"),
    ("FAKE-FILE02", "Servers", "none", "2026-01-02T09:36:00Z", {}, "Onboarded"),
    ("FAKE-LEGACY01", "Server 2012 R2 and 2016", "unified", "2026-01-15T08:10:00Z", {}, "Onboarded"),
    ("FAKE-LEGACY02", "Server 2012 R2 and 2016", "unified", "2026-01-15T08:11:00Z",
     {"agent": ("absent", "Microsoft Defender for Endpoint (md4ws.msi) is not installed")}, "Onboarded"),
    ("FAKE-OLDAPP01", "Server 2008 R2", "defenderdt", "2026-01-15T08:12:00Z",
     {"sense_connectivity": ("event 5", "SENSE event 5: failed to contact the server")}, "Onboarded"),
    ("FAKE-CTX001", "Citrix pool", "none", "2026-01-15T07:10:00Z", {}, "Onboarded"),
    ("FAKE-CTX-MS01", "Citrix pool", "none", "2026-01-15T07:12:00Z", {}, "Onboarded"),
    ("FAKE-KIOSK01", "Kiosks", "none", "2026-01-15T06:10:00Z", {}, "Onboarded"),
    ("FAKE-WEB99", "Servers", "none", "2026-01-14T10:00:00Z", {}, "Offboarded"),
)


def _result(computer: str, target: str, agent: str, time: str, failed: dict, expect: str) -> dict:
    from generator import verification

    bits = {c.name: c.bit for c in verification.CLASSES}
    checks = []
    for check_id, cls in verification.CHECKS:
        expected, observed, detail = _PASS[check_id]
        status = "pass"
        if check_id in ("prerequisites", "agent") and agent != "none":
            expected, observed, detail = agent, agent, f"the {agent} agent reports no failure"
        elif check_id in ("prerequisites", "agent") or (expect == "Offboarded" and check_id not in (
                "onboarding_state", "sense_service", "onboarding_value")):
            status = "not-applicable"
        if target == "Kiosks" and check_id in ("running_mode", "passive_policy", "passive_event", "device_tag"):
            expected = observed = {"running_mode": "Normal", "passive_policy": "0", "passive_event": "0",
                                   "device_tag": "Kiosks"}[check_id]
        if expect == "Offboarded" and check_id == "onboarding_state":
            expected, observed, detail = "0", "0", "offboarded"
        if expect == "Offboarded" and check_id == "sense_service":
            expected, observed, detail = "Stopped, not automatic", "Stopped", "the sensor service is stopped"
        if expect == "Offboarded" and check_id == "onboarding_value":
            expected, observed, detail = "absent", "absent", "no OnboardingInfo policy value"
        if check_id in failed:
            status = "fail"
            observed, detail = failed[check_id]
        checks.append({"id": check_id, "class": bits[cls], "status": status, "expected": expected,
                       "observed": observed, "detail": detail})
    exit_code = 0
    for c in checks:
        if c["status"] == "fail":
            exit_code |= c["class"]
    return {"schema": verification.SCHEMA_ID, "computer": computer, "time": time, "expect": expect,
            "target": target, "release": "2026.1.0", "agent": agent, "result": "fail" if exit_code else "pass",
            "exitCode": exit_code, "checks": checks}


def results() -> list[tuple[str, bytes]]:
    """(file name, bytes) of each example result, as the script writes it (compact JSON, UTF-8)."""
    return [(f"{RESULTS_FOLDER}/{row[0]}.json",
             json.dumps(_result(*row), separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
            for row in RESULTS]
