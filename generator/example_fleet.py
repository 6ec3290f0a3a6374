"""The example's FAKE fleet: an Active Directory inventory and verification results.

`mdegen init --example` writes them beside the example config so that `mdegen plan` and
`mdegen report` have something to show. Every name is clearly fake (FAKE-..., contoso.example) and
the rows cover each case the plan decides: every target of the example, both VDI pools, a server
in a pool's OU (two routes), domain controllers (no target lists them), workstations,
multi-session hosts, releases no route onboards, a build outside the release table, a disabled
and two inactive accounts, and computers that are no Windows.
"""

from __future__ import annotations

from generator.formats import csv_table

DOMAIN = "contoso.example"
_BASE = "DC=contoso,DC=example"
INVENTORY_NAME = "inventory.csv"
INVENTORY_COLUMNS = ("Name", "DNSHostName", "OperatingSystem", "OperatingSystemVersion", "PrimaryGroupID",
                     "Enabled", "LastLogonDate", "DistinguishedName")

# (name, operating system, version, primary group, enabled, last logon as en-US Export-Csv writes it, OU)
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
    a BOM, CRLF, every field quoted), in an en-US culture."""
    rows = []
    for name, os_name, version, group, enabled, last, ou in COMPUTERS:
        rows.append({"Name": name, "DNSHostName": f"{name.lower()}.{DOMAIN}" if os_name else "",
                     "OperatingSystem": os_name, "OperatingSystemVersion": version, "PrimaryGroupID": group,
                     "Enabled": enabled, "LastLogonDate": last, "DistinguishedName": f"CN={name},{ou},{_BASE}"})
    return csv_table.dumps(INVENTORY_COLUMNS, rows)
