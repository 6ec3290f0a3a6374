"""The computer inventories `mdegen plan` reads: an Active Directory export or a ConfigMgr export.

**Active Directory** (the command the GPO handoff gives)::

    Get-ADComputer -Filter * -Properties OperatingSystem,OperatingSystemVersion,PrimaryGroupID,Enabled,LastLogonDate,DistinguishedName |
      Select-Object Name,DNSHostName,OperatingSystem,OperatingSystemVersion,PrimaryGroupID,Enabled,LastLogonDate,DistinguishedName |
      Export-Csv -NoTypeInformation -Encoding UTF8 inventory.csv

``OperatingSystemVersion`` reads like ``10.0 (17763)``; ``PrimaryGroupID`` is 516 for a writable
domain controller and 521 for a read-only one (515 for other computers).

**ConfigMgr** (the command the SCCM handoff gives): one row per device with the columns
``Name``, ``Build`` (``SMS_R_System.Build``, ``10.0.17763``), ``ProductType`` and
``OperatingSystemSKU`` (``SMS_G_System_OPERATING_SYSTEM``: what the generated collection queries
test), and optionally ``Caption``, ``Active``, ``Obsolete`` and ``LastActiveTime``.

Either file may come from Windows PowerShell 5.1 (ASCII, or UTF-8 or UTF-16 with a BOM, and a
``#TYPE`` line without -NoTypeInformation) or PowerShell 7 (UTF-8 without a BOM); dates may be ISO
8601 or in the exporting machine's culture (``1/15/2026 10:32:11 AM``, ``15.01.2026 10:32:11``,
``15/01/2026 10:32``): a file's slashed dates are read day first when one of them can only be read
so, else month first. A row that cannot be read is refused with the file, line and column.

Each computer is described as WMI would describe it (``BuildNumber``, ``ProductType``,
``OperatingSystemSKU``): the plan decides with the same rules as the generated WMI filters.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from generator import releases
from generator.errors import InventoryError

# The export commands the handoffs give (a line that ends with | continues on the next one). Tests
# run both through the PowerShell oracles.
AD_EXPORT_COMMAND = (
    "Get-ADComputer -Filter * -Properties OperatingSystem,OperatingSystemVersion,PrimaryGroupID,Enabled,"
    "LastLogonDate,DistinguishedName |\n"
    "  Select-Object Name,DNSHostName,OperatingSystem,OperatingSystemVersion,PrimaryGroupID,Enabled,LastLogonDate,"
    "DistinguishedName |\n"
    "  Export-Csv -NoTypeInformation -Encoding UTF8 inventory.csv")
CM_EXPORT_COMMAND = (
    "Get-CimInstance -ComputerName '<SMS Provider>' -Namespace 'root\\SMS\\site_<site code>' -Query "
    "('SELECT SMS_R_System.Name, SMS_R_System.Build, SMS_R_System.Active, SMS_R_System.Obsolete, '"
    " + 'SMS_R_System.LastLogonTimestamp, SMS_G_System_OPERATING_SYSTEM.Caption, '"
    " + 'SMS_G_System_OPERATING_SYSTEM.ProductType, SMS_G_System_OPERATING_SYSTEM.OperatingSystemSKU '"
    " + 'FROM SMS_R_System INNER JOIN SMS_G_System_OPERATING_SYSTEM '"
    " + 'ON SMS_G_System_OPERATING_SYSTEM.ResourceID = SMS_R_System.ResourceId') |\n"
    "  Select-Object @{ n = 'Name'; e = { $_.SMS_R_System.Name } }, @{ n = 'Build'; e = { $_.SMS_R_System.Build } },\n"
    "    @{ n = 'ProductType'; e = { $_.SMS_G_System_OPERATING_SYSTEM.ProductType } },\n"
    "    @{ n = 'OperatingSystemSKU'; e = { $_.SMS_G_System_OPERATING_SYSTEM.OperatingSystemSKU } },\n"
    "    @{ n = 'Caption'; e = { $_.SMS_G_System_OPERATING_SYSTEM.Caption } }, @{ n = 'Active'; e = { $_.SMS_R_System.Active } },\n"
    "    @{ n = 'Obsolete'; e = { $_.SMS_R_System.Obsolete } }, @{ n = 'LastActiveTime'; e = { $_.SMS_R_System.LastLogonTimestamp } } |\n"
    "  Export-Csv -NoTypeInformation -Encoding UTF8 devices.csv")

AD_COLUMNS = ("Name", "OperatingSystem", "OperatingSystemVersion")
AD_OPTIONAL = ("DNSHostName", "PrimaryGroupID", "Enabled", "LastLogonDate", "DistinguishedName")
CM_COLUMNS = ("Name", "Build", "ProductType")
CM_OPTIONAL = ("OperatingSystemSKU", "Caption", "Active", "Obsolete", "LastActiveTime")

DC_GROUPS = {"516": "domain controller", "521": "read-only domain controller"}
# Builds of Windows Server releases no Defender for Endpoint route onboards.
UNSUPPORTED_BUILDS = {"3790": "Windows Server 2003", "6001": "Windows Server 2008", "6002": "Windows Server 2008",
                      "6003": "Windows Server 2008", "7600": "Windows Server 2008 R2 without SP1",
                      "9200": "Windows Server 2012"}
# Win32_OperatingSystem.OperatingSystemSKU an inventory row gets when the export has no SKU: only
# multi-session (175) matters to the filters, so the others are the common editions' values.
_SKU_SERVER = 7             # PRODUCT_STANDARD_SERVER
_SKU_WORKSTATION = 4        # PRODUCT_ENTERPRISE
_MULTI_SESSION_NAMES = ("multi-session", "multisession", "for virtual desktops")


@dataclass(frozen=True)
class Computer:
    line: int                       # the row's line in the file (for messages)
    name: str
    dns_host_name: str
    operating_system: str           # as exported: "Windows Server 2019 Datacenter", a ConfigMgr caption
    operating_system_version: str   # as exported: "10.0 (17763)", "10.0.17763"
    build: str | None               # "17763"
    product_type: int | None        # Win32_OperatingSystem.ProductType: 1 workstation, 2 DC, 3 server
    sku: int | None                 # Win32_OperatingSystem.OperatingSystemSKU (175: multi-session)
    windows: bool                   # the OS is Windows at all
    enabled: bool | None            # None: the export does not say
    last_logon: dt.datetime | None
    distinguished_name: str

    @property
    def multi_session(self) -> bool:
        return self.sku == releases.MULTI_SESSION_SKU

    @property
    def role(self) -> str:
        if not self.windows:
            return "not Windows" if self.operating_system else "unknown"
        if self.product_type == releases.DOMAIN_CONTROLLER:
            return "domain controller"
        if self.multi_session:
            return "multi-session host"
        return {releases.MEMBER_SERVER: "member server", releases.WORKSTATION: "workstation"}.get(
            self.product_type, "unknown")

    def wmi(self) -> dict[str, object]:
        """The Win32_OperatingSystem properties the WMI filters query (empty for a computer
        that is no Windows or has no build in the inventory)."""
        if not self.windows or self.build is None or self.product_type is None:
            return {}
        sku = self.sku if self.sku is not None else (
            _SKU_WORKSTATION if self.product_type == releases.WORKSTATION else _SKU_SERVER)
        return {"BuildNumber": self.build, "ProductType": self.product_type, "OperatingSystemSKU": sku}


# --- text ------------------------------------------------------------------------------------------


def _decode(data: bytes, path: Path) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    if len(data) >= 4 and data[1:4:2] == b"\0\0" and data[0] and data[2]:      # UTF-16 LE without a BOM
        return data.decode("utf-16-le", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")      # Windows PowerShell's "Default": the ANSI code page


def _rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        text = _decode(path.read_bytes(), path)
    except OSError as exc:
        raise InventoryError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    lines = text.splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].lstrip().startswith("#TYPE")):
        skip += 1
    reader = csv.reader(io.StringIO("".join(lines[skip:])), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise InventoryError(f"{path}: is empty: export the inventory with the handoff's command")
        rows = []
        for fields in reader:
            if any(f.strip() for f in fields):
                rows.append((skip + reader.line_num, fields))
    except csv.Error as exc:
        raise InventoryError(f"{path}:{skip + reader.line_num}: not CSV as Export-Csv writes it ({exc})") from None
    return [h.strip() for h in header], rows


# --- values ----------------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?$")
_CULTURE = re.compile(r"^(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?:,?\s+(\d{1,2}):(\d\d)(?::(\d\d))?\s*([AaPp]\.?[Mm]\.?)?)?$")


def _parse_date(text: str, day_first: bool) -> dt.datetime | None:
    """A date as Export-Csv writes one; None for an empty cell; ValueError for anything else."""
    text = text.strip()
    if not text:
        return None
    m = _ISO.match(text)
    if m:
        y, mo, d, hh, mm, ss, _ = m.groups()
        return dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    m = _CULTURE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a date")
    a, sep, b, c, hh, mm, ss, ampm = m.groups()
    if len(a) == 4:                                   # 2026/01/15
        y, mo, d = int(a), int(b), int(c)
    elif sep == ".":                                  # 15.01.2026 (German, Russian ...)
        d, mo, y = int(a), int(b), int(c)
    elif day_first:
        d, mo, y = int(a), int(b), int(c)
    else:
        mo, d, y = int(a), int(b), int(c)
    hour = int(hh or 0)
    if ampm:
        hour = hour % 12 + (12 if ampm[0].lower() == "p" else 0)
    return dt.datetime(y, mo, d, hour, int(mm or 0), int(ss or 0))


def _day_first(values: list[str]) -> bool:
    """Whether the file's slashed dates are day first: yes when one can only be read so."""
    for v in values:
        m = _CULTURE.match(v.strip())
        if m and m.group(2) == "/" and len(m.group(1)) <= 2 and int(m.group(1)) > 12:
            return True
    return False


def _flag(text: str) -> bool | None:
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    if not value:
        return None
    raise ValueError(f"{text!r} is neither True nor False")


def _integer(text: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValueError(f"{text!r} is not a number")
    return int(value)


# --- the two formats -------------------------------------------------------------------------------


def _ad_computer(line: int, row: dict[str, str], day_first: bool) -> Computer:
    os_name = row["OperatingSystem"].strip()
    version = row["OperatingSystemVersion"].strip()
    m = re.match(r"^\d+\.\d+\s*\((\d+)\)$", version)
    build = m.group(1) if m else None
    windows = "windows" in os_name.lower()
    group = row.get("PrimaryGroupID", "").strip()
    if group and not group.isdigit():
        raise ValueError(f"PrimaryGroupID: {group!r} is not a number")
    lowered = os_name.lower()
    multi = any(n in lowered for n in _MULTI_SESSION_NAMES)
    if not windows:
        product_type = None
    elif group in DC_GROUPS:
        product_type = releases.DOMAIN_CONTROLLER
    elif "server" in lowered or multi:
        product_type = releases.MEMBER_SERVER     # multi-session hosts report 3, as member servers do
    else:
        product_type = releases.WORKSTATION
    try:
        last = _parse_date(row.get("LastLogonDate", ""), day_first)
    except ValueError as exc:
        raise ValueError(f"LastLogonDate: {exc}") from None
    try:
        enabled = _flag(row.get("Enabled", ""))
    except ValueError as exc:
        raise ValueError(f"Enabled: {exc}") from None
    return Computer(line, row["Name"].strip(), row.get("DNSHostName", "").strip(), os_name, version, build,
                    product_type, releases.MULTI_SESSION_SKU if multi else None, windows,
                    enabled, last, row.get("DistinguishedName", "").strip())


def _cm_computer(line: int, row: dict[str, str], day_first: bool) -> Computer:
    version = row["Build"].strip()
    m = re.match(r"^\d+\.\d+\.(\d+)$", version)
    build = m.group(1) if m else None
    try:
        product_type = _integer(row["ProductType"])
        sku = _integer(row.get("OperatingSystemSKU", ""))
    except ValueError as exc:
        raise ValueError(f"ProductType or OperatingSystemSKU: {exc}") from None
    if product_type not in (None, 1, 2, 3):
        raise ValueError(f"ProductType: {product_type} is none of 1, 2, 3")
    caption = row.get("Caption", "").strip()
    try:
        active, obsolete = _flag(row.get("Active", "")), _flag(row.get("Obsolete", ""))
    except ValueError as exc:
        raise ValueError(f"Active or Obsolete: {exc}") from None
    try:
        last = _parse_date(row.get("LastActiveTime", ""), day_first)
    except ValueError as exc:
        raise ValueError(f"LastActiveTime: {exc}") from None
    enabled = None if active is None and obsolete is None else not (obsolete or active is False)
    return Computer(line, row["Name"].strip(), "", caption, version, build, product_type, sku,
                    product_type is not None, enabled, last, "")


def read_inventory(path: Path) -> tuple[str, list[Computer]]:
    """("Active Directory" or "ConfigMgr", the computers) of the export at ``path``."""
    header, rows = _rows(path)
    columns = set(header)
    if all(c in columns for c in AD_COLUMNS):
        kind, make, date_column = "Active Directory", _ad_computer, "LastLogonDate"
    elif all(c in columns for c in CM_COLUMNS):
        kind, make, date_column = "ConfigMgr", _cm_computer, "LastActiveTime"
    else:
        raise InventoryError(f"{path}:1: has neither the Active Directory columns ({', '.join(AD_COLUMNS)}) "
                             f"nor the ConfigMgr columns ({', '.join(CM_COLUMNS)}); it has: {', '.join(header)}")
    records = []
    for line, fields in rows:
        if len(fields) != len(header):
            raise InventoryError(f"{path}:{line}: has {len(fields)} fields, the header {len(header)}")
        records.append((line, dict(zip(header, fields))))
    day_first = _day_first([r.get(date_column, "") for _, r in records])
    computers = []
    for line, record in records:
        if not record["Name"].strip():
            raise InventoryError(f"{path}:{line}: Name is empty")
        try:
            computers.append(make(line, record, day_first))
        except ValueError as exc:
            raise InventoryError(f"{path}:{line}: {exc}") from None
    return kind, computers
