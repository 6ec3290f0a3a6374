"""The computer inventories `mdegen plan` reads: an Active Directory export or a ConfigMgr export.

**Active Directory** (``AD_EXPORT_COMMAND``, which the GPO handoff gives): the columns ``Name``,
``OperatingSystem``, ``OperatingSystemVersion`` (``10.0 (17763)``) and ``PrimaryGroupID`` (516 for
a writable domain controller, 521 for a read-only one, 515 for other computers: without it a domain
controller cannot be told from a member server, so the column is required), and optionally
``DNSHostName``, ``Enabled``, ``LastLogonDate`` and ``DistinguishedName`` (a VDI pool's machines are
those below its ``ou``).

**ConfigMgr** (the command the SCCM handoff gives): one row per device with the columns
``Name``, ``Build`` (``SMS_R_System.Build``, ``10.0.17763``), ``ProductType`` and
``OperatingSystemSKU`` (``SMS_G_System_OPERATING_SYSTEM``: what the generated collection queries
test), and optionally ``Caption``, ``Active``, ``Obsolete`` and ``LastActiveTime``.

Either file may come from Windows PowerShell 5.1 (ASCII, or UTF-8 or UTF-16 with a BOM, and a
``#TYPE`` line without -NoTypeInformation) or PowerShell 7 (UTF-8 without a BOM), comma- or
semicolon-separated (``-UseCulture``); column names are matched ignoring case, as Import-Csv does.
The handoffs' commands write dates as ISO 8601; a plain Export-Csv writes them in the exporting
machine's culture (``1/15/2026 10:32:11 AM``, ``15.01.2026 10:32:11``, ``15/01/2026 10:32``), and a
file's slashed or dashed dates are read day first or month first only when one of its dates can
be read one way alone: a file whose dates are all ambiguous (every day 12 or less) is refused, never
guessed. A row that cannot be read is refused with the file, line and column.

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
    "  Select-Object Name,DNSHostName,OperatingSystem,OperatingSystemVersion,PrimaryGroupID,Enabled,\n"
    "    @{ n = 'LastLogonDate'; e = { if ($_.LastLogonDate) { $_.LastLogonDate.ToString('s') } } },DistinguishedName |\n"
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
    "    @{ n = 'Obsolete'; e = { $_.SMS_R_System.Obsolete } },\n"
    "    @{ n = 'LastActiveTime'; e = { if ($_.SMS_R_System.LastLogonTimestamp) { $_.SMS_R_System.LastLogonTimestamp.ToString('s') } } } |\n"
    "  Export-Csv -NoTypeInformation -Encoding UTF8 devices.csv")

AD_COLUMNS = ("Name", "OperatingSystem", "OperatingSystemVersion", "PrimaryGroupID")
AD_OPTIONAL = ("DNSHostName", "Enabled", "LastLogonDate", "DistinguishedName")
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
# Operating systems that are Windows without the word in their name: the WMI filters match them.
_WINDOWS_NAMES = ("windows", "hyper-v server", "azure stack hci")


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
        """The Win32_OperatingSystem properties the WMI filters query (empty for a computer that is
        no Windows or has no build or product type in the inventory). ``OperatingSystemSKU`` is None
        where a ConfigMgr export has none: hardware inventory has no value, and the collections'
        ``OperatingSystemSKU <> 175`` is then not true."""
        if not self.windows or self.build is None or self.product_type is None:
            return {}
        return {"BuildNumber": self.build, "ProductType": self.product_type, "OperatingSystemSKU": self.sku}


# --- text ------------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
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


def _rows(path: Path) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """(the header's line, its column names, (line, fields) of each row)."""
    try:
        text = _decode(path.read_bytes())
    except OSError as exc:
        raise InventoryError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    lines = text.splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].lstrip().startswith("#TYPE")):
        skip += 1
    if skip == len(lines):
        raise InventoryError(f"{path}: is empty: export the inventory with the handoff's command")
    first = lines[skip]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO("".join(lines[skip:])), delimiter=delimiter, strict=True)
    rows = []
    start = skip + 1
    try:
        header = next(reader)
        start = skip + reader.line_num + 1
        for fields in reader:
            if any(f.strip() for f in fields):
                rows.append((start, fields))
            start = skip + reader.line_num + 1
    except csv.Error:
        raise InventoryError(f"{path}:{start}: not CSV as Export-Csv writes it (a quote does not close, or a "
                             "stray one): export the inventory again with the handoff's command") from None
    return skip + 1, [h.strip() for h in header], rows


# --- values ----------------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?")
_CULTURE = re.compile(r"(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?:,?\s+(\d{1,2}):(\d\d)(?::(\d\d))?\s*([AaPp]\.?[Mm]\.?)?)?")


def _parse_date(text: str, order: str | None) -> dt.datetime | None:
    """A date as Export-Csv writes one (``order``: "dmy" or "mdy" for slashed and dashed dates,
    as the file decides); None for an empty cell; ValueError naming the text for anything else."""
    text = text.strip()
    if not text:
        return None
    try:
        m = _ISO.fullmatch(text)
        if m:
            y, mo, d, hh, mm, ss, _ = m.groups()
            return dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        m = _CULTURE.fullmatch(text)
        if not m:
            raise ValueError
        a, sep, b, c, hh, mm, ss, ampm = m.groups()
        if len(a) == 4:                                   # 2026/01/15
            y, mo, d = int(a), int(b), int(c)
        elif sep == "." or order == "dmy":                # 15.01.2026 (German, Russian ...), 15/01/2026
            d, mo, y = int(a), int(b), int(c)
        elif order == "mdy":
            mo, d, y = int(a), int(b), int(c)
        else:
            raise _Ambiguous(repr(text))
        if y < 1000:
            raise ValueError
        hour = int(hh or 0)
        if ampm:
            hour = hour % 12 + (12 if ampm[0].lower() == "p" else 0)
        return dt.datetime(y, mo, d, hour, int(mm or 0), int(ss or 0))
    except _Ambiguous:
        raise
    except ValueError:
        raise ValueError(f"{text!r} is not a date") from None


class _Ambiguous(ValueError):
    pass


def _date_order(values: list[str]) -> str | None:
    """"dmy" or "mdy" for the file's slashed and dashed dates, when one of them decides; None when
    none does (then an ambiguous date is refused); ValueError when they contradict each other."""
    day_first = month_first = False
    for v in values:
        m = _CULTURE.fullmatch(v.strip())
        if m and m.group(2) in "/-" and len(m.group(1)) <= 2:
            day_first |= int(m.group(1)) > 12
            month_first |= int(m.group(3)) > 12
    if day_first and month_first:
        raise ValueError("its dates are day first in some rows and month first in others")
    return "dmy" if day_first else "mdy" if month_first else None


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
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise ValueError(f"{text!r} is not a number")
    return int(value)


def _cell(row: dict[str, str], column: str, parse):
    try:
        return parse(row.get(column, ""))
    except _Ambiguous as exc:
        raise ValueError(f"{column}: {exc} could be day/month or month/day, and no date of the file decides: "
                         "export the inventory with the handoff's command, which writes ISO dates") from None
    except ValueError as exc:
        raise ValueError(f"{column}: {exc}") from None


# --- the two formats -------------------------------------------------------------------------------


def _ad_computer(line: int, row: dict[str, str], order: str | None) -> Computer:
    os_name = row["OperatingSystem"].strip()
    version = row["OperatingSystemVersion"].strip()
    m = re.fullmatch(r"\d+\.\d+\s*\((\d+)\)", version)
    build = m.group(1) if m else None
    lowered = os_name.lower()
    windows = any(n in lowered for n in _WINDOWS_NAMES)
    group = _cell(row, "PrimaryGroupID", _integer)
    multi = any(n in lowered for n in _MULTI_SESSION_NAMES)
    if not windows:
        product_type = None
    elif group is None:
        raise ValueError("PrimaryGroupID is empty: without it a domain controller cannot be told from a member server")
    elif str(group) in DC_GROUPS:
        product_type = releases.DOMAIN_CONTROLLER
    elif "server" in lowered or "hci" in lowered or multi:
        product_type = releases.MEMBER_SERVER     # multi-session hosts report 3, as member servers do
    else:
        product_type = releases.WORKSTATION
    sku = releases.MULTI_SESSION_SKU if multi else (
        _SKU_WORKSTATION if product_type == releases.WORKSTATION else _SKU_SERVER)
    return Computer(line, row["Name"].strip(), row.get("DNSHostName", "").strip(), os_name, version, build,
                    product_type, sku if windows else None, windows, _cell(row, "Enabled", _flag),
                    _cell(row, "LastLogonDate", lambda v: _parse_date(v, order)), row.get("DistinguishedName", "").strip())


def _cm_computer(line: int, row: dict[str, str], order: str | None) -> Computer:
    version = row["Build"].strip()
    m = re.fullmatch(r"\d+\.\d+\.(\d+)(?:\.\d+)?", version)
    build = m.group(1) if m else None
    product_type = _cell(row, "ProductType", _integer)
    if product_type not in (None, 1, 2, 3):
        raise ValueError(f"ProductType: {product_type} is none of 1, 2, 3")
    sku = _cell(row, "OperatingSystemSKU", _integer)
    caption = row.get("Caption", "").strip()
    if sku is None and any(n in caption.lower() for n in _MULTI_SESSION_NAMES):
        sku = releases.MULTI_SESSION_SKU
    active, obsolete = _cell(row, "Active", _flag), _cell(row, "Obsolete", _flag)
    enabled = None if active is None and obsolete is None else not (obsolete or active is False)
    windows = product_type is not None or any(n in caption.lower() for n in _WINDOWS_NAMES) or build is not None
    return Computer(line, row["Name"].strip(), "", caption, version, build, product_type, sku, windows, enabled,
                    _cell(row, "LastActiveTime", lambda v: _parse_date(v, order)), "")


@dataclass(frozen=True)
class Inventory:
    kind: str                       # "Active Directory" or "ConfigMgr"
    computers: list[Computer]
    dated: bool                     # the export has a logon (or last active) date column


def read_inventory(path: Path) -> Inventory:
    """The computers of the export at ``path``; InventoryError naming the file and line."""
    header_line, header, rows = _rows(path)
    canonical = {c.lower(): c for c in (*AD_COLUMNS, *AD_OPTIONAL, *CM_COLUMNS, *CM_OPTIONAL)}
    names = [canonical.get(h.lower(), h) for h in header]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InventoryError(f"{path}:{header_line}: the column {twice[0]} is there twice")
    columns = set(names)
    if all(c in columns for c in AD_COLUMNS):
        kind, make, date_column = "Active Directory", _ad_computer, "LastLogonDate"
    elif all(c in columns for c in CM_COLUMNS):
        kind, make, date_column = "ConfigMgr", _cm_computer, "LastActiveTime"
    else:
        raise InventoryError(f"{path}:{header_line}: has neither the Active Directory columns "
                             f"({', '.join(AD_COLUMNS)}) nor the ConfigMgr columns ({', '.join(CM_COLUMNS)}); it has: "
                             f"{', '.join(header)}: export it with the handoff's command")
    records = []
    for line, fields in rows:
        if len(fields) != len(names):
            raise InventoryError(f"{path}:{line}: has {len(fields)} fields, the header {len(names)}")
        records.append((line, dict(zip(names, fields))))
    try:
        order = _date_order([r.get(date_column, "") for _, r in records])
    except ValueError as exc:
        raise InventoryError(f"{path}: {date_column}: {exc}: export the inventory with the handoff's command, "
                             "which writes ISO dates") from None
    computers = []
    for line, record in records:
        if not record["Name"].strip():
            raise InventoryError(f"{path}:{line}: Name is empty")
        try:
            computers.append(make(line, record, order))
        except ValueError as exc:
            raise InventoryError(f"{path}:{line}: {exc}") from None
    return Inventory(kind, computers, date_column in columns)
