"""Read the files the down-level Defender agents need, as downloaded from Microsoft.

:mod:`generator.portal` reads the portal's onboarding and offboarding *scripts*; this module reads
the *agents* and their side files (mde-2026.md §B-§D, mde-domain.md §1-§4):

========================= ==================================================================
kind                      file
========================= ==================================================================
``defenderdt``            ``DefenderDT.exe``, the Defender deployment tool (a PE program)
``defenderdt-onboarding`` ``WindowsDefenderATP.onboarding``, the DefenderDT package's file
``unified-msi``           ``md4ws.msi``, the unified agent for Server 2012 R2 / 2016
``unified-script``        Microsoft's ``install.ps1`` helper for ``md4ws.msi``
``mma-setup``             ``MMASetup-AMD64.exe`` / ``MMASetup-i386.exe`` (Log Analytics agent)
========================= ==================================================================

:func:`read_agent_file` reads one file as the kind the caller names, and refuses it when its
content says otherwise (the name alone is never trusted). :func:`read_agent_package` reads a zip
that holds such files and finds each one by its content. Each file read becomes one frozen
:class:`AgentFile`, byte-exact (mdegen copies these files unchanged: the programs, the MSI and
``install.ps1`` are Authenticode-signed). Every problem is a :class:`~generator.errors.PackageError`
whose message names the file (and zip entry) and says what to download instead. Signatures are
not verified; mdegen reports whether one is present. Nothing here prints or reads the clock.

What is checked, per kind:

* programs (``defenderdt``, ``mma-setup``): ``MZ``, the ``PE\\0\\0`` signature at the offset stored at
  0x3C, a COFF header and an optional header (PE32 or PE32+) that fit in the file. Recorded: the
  machine (x64 / x86 / ARM64), whether the security data directory (entry 4) has a non-zero size
  (an Authenticode signature is present), and the ``OriginalFilename`` of the version resource when
  one is found. A program whose version resource names the *other* agent is refused. Telling
  DefenderDT from MMASetup inside a zip goes by that name, then by the entry's file name (a
  program's purpose cannot be read from its headers); the result says which, in ``inferred``.
* ``unified-msi``: the OLE compound-file signature ``D0 CF 11 E0 A1 B1 1A E1`` and a sane header.
  The root storage's CLSID is read when the directory is in reach; the Windows Installer's
  database CLSID {000C1084-0000-0000-C000-000000000046} (general knowledge, not in the reference
  files) only decides a note; a patch (.msp) or transform (.mst) is refused.
* ``unified-script``: UTF-8 text (BOM optional) that mentions ``md4ws.msi`` and ends in an
  Authenticode comment block ``# SIG # Begin signature block`` ... ``# SIG # End signature block``.
  A script without that block, with text after it, or with non-comment lines inside it, is a
  changed or unsigned copy and is refused (mdefordownlevelserver #4: copy-pasting breaks the
  signature). The script's version: the reference names version 1.20231204.0 (mde-2026.md §C) but
  not the line that holds it, so mdegen takes the first ``<n>.<yyyymmdd>.<n>`` token before the
  signature block and marks it *inferred*. The known parameter names found are recorded.
* ``defenderdt-onboarding``, the ``WindowsDefenderATP.onboarding`` file. What the reference says:
  it is "the signed blob" (mde-domain.md §1, "not found" among the samples: no real one was
  observed), the same file serves ConfigMgr current branch, Intune and DefenderDT, and the
  DefenderDT package has an expiry of 7 days to 1 year and an access key passed as ``-Key:``
  (mde-2026.md §D). Public Intune how-tos have the admin open it in a text editor and paste all of
  it as the onboarding blob. *Inferred* from these: the file is the same JSON envelope as the
  ``OnboardingInfo`` value of the portal's ``.cmd`` (``{"body": "<JSON>", "sig", "sha256sig",
  "cert", "chain"}``) without the .cmd escaping. So mdegen requires a JSON document, reads
  ``orgId``, the geo fields, ``version``, ``packageGuid`` and the certificate dates from it when it
  has that shape (all marked *inferred*), and an expiry only if the body carries an
  ``expirationTimestamp`` FILETIME as the offboarding blob does (where the DefenderDT package
  keeps its expiry is not documented; also *inferred*). The access key is not in the file (it is a
  command-line argument). Refused: an empty file, binary data, a program or zip, a portal
  ``.cmd`` script, text that is not JSON, and an offboarding blob (body with ``orgIds`` and no
  ``geoLocationUrl``, the shape of the observed offboarding blobs).

Zips are read with :func:`generator.portal._read_zip` and its entry-name checks (no absolute
paths, no ``..``, no links or special files, no duplicates, limits on entries and on declared and
actual unpacked sizes), with this module's larger limits: the agents are megabytes, not the
kilobytes of a portal script.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import json
import re
import stat
import struct
import uuid
import zipfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePosixPath

from generator.errors import PackageError
# Private helpers of the portal reader, reused so both readers apply the same zip safety rules:
# _read_zip (limits, entry names, links, encryption, sizes), _Limits, _find_blobs (the .cmd blob
# line), _GUID_RE, and _line_ends/_fmt_dt so both report line ends and times alike. The public
# ones parse the blob's certificate and FILETIME.
from generator import portal
from generator.portal import (ONBOARDING_VALUE, PORTAL_ONBOARDING_PATH, BlobFacts, _find_blobs, _fmt_dt, _GUID_RE,
                              _Limits, _line_ends, _read_zip, cloud_hint, filetime_to_datetime, parse_certificate)

# --- Names and limits ---------------------------------------------------------------------------

DEFENDERDT_NAME = "DefenderDT.exe"
DEFENDERDT_ONBOARDING_NAME = "WindowsDefenderATP.onboarding"


def offboarding_file_name(expiration: dt.datetime | None) -> str:
    """What a kit calls an .offboarding file it hosts: the portal's name, with the UTC date it expires."""
    return f"WindowsDefenderATP_valid_until_{expiration:%Y-%m-%d}.offboarding" if expiration else "WindowsDefenderATP.offboarding"
UNIFIED_MSI_NAME = "md4ws.msi"
UNIFIED_SCRIPT_NAME = "install.ps1"
MMA_SETUP_NAMES = ("MMASetup-AMD64.exe", "MMASetup-i386.exe")

# Upper bounds with head room: MMASetup and md4ws.msi are tens of megabytes, DefenderDT a few.
DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_TOTAL_BYTES = 1024 * 1024 * 1024
DEFAULT_MAX_ENTRIES = 64

SIG_BEGIN = "# SIG # Begin signature block"
SIG_END = "# SIG # End signature block"

OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
MSI_DATABASE_CLSID = uuid.UUID("000C1084-0000-0000-C000-000000000046")
_OTHER_INSTALLER_CLSIDS = {
    uuid.UUID("000C1086-0000-0000-C000-000000000046"): "a Windows Installer patch (.msp)",
    uuid.UUID("000C1082-0000-0000-C000-000000000046"): "a Windows Installer transform (.mst)",
}

MACHINES = {0x8664: "x64", 0x014C: "x86", 0xAA64: "ARM64"}

# install.ps1's parameter names (mde-2026.md §C, mde-domain.md §4; -Log/-Etl in older versions).
UNIFIED_SCRIPT_PARAMETERS = ("RemoveMMA", "OnboardingScript", "OffboardingScript", "UI", "Passive",
                             "NoMSILog", "NoEtl", "ExtraWebRequestOptions", "DevMode", "Uninstall",
                             "Log", "Etl")

_PORTAL_DEFENDERDT = f"{PORTAL_ONBOARDING_PATH}, operating system \"Windows\", Defender deployment tool"
_PORTAL_DOWNLEVEL = f"{PORTAL_ONBOARDING_PATH}, operating system \"Windows Server 2012 R2 and 2016\""


class AgentKind(str, Enum):
    """Which agent file a file is."""

    DEFENDERDT = "defenderdt"
    DEFENDERDT_ONBOARDING = "defenderdt-onboarding"
    DEFENDERDT_OFFBOARDING = "defenderdt-offboarding"
    UNIFIED_MSI = "unified-msi"
    UNIFIED_SCRIPT = "unified-script"
    MMA_SETUP = "mma-setup"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def download(self) -> str:
        """Where to get a good copy: the end of every refusal about this kind."""
        return _DOWNLOADS[self]


_LABELS = {
    AgentKind.DEFENDERDT: "Defender deployment tool (DefenderDT.exe)",
    AgentKind.DEFENDERDT_ONBOARDING: "onboarding file (WindowsDefenderATP.onboarding, for DefenderDT or ConfigMgr)",
    AgentKind.DEFENDERDT_OFFBOARDING: "offboarding file (.offboarding, for DefenderDT or ConfigMgr)",
    AgentKind.UNIFIED_MSI: "unified agent installer (md4ws.msi)",
    AgentKind.UNIFIED_SCRIPT: "unified agent helper script (install.ps1)",
    AgentKind.MMA_SETUP: "Log Analytics agent setup (MMASetup)",
}

_DOWNLOADS = {
    AgentKind.DEFENDERDT: f"Download {DEFENDERDT_NAME} again from the Microsoft Defender portal: {_PORTAL_DEFENDERDT}",
    AgentKind.DEFENDERDT_ONBOARDING: (
        f"Download the Defender deployment tool package from the Microsoft Defender portal ({_PORTAL_DEFENDERDT}), "
        "or for ConfigMgr the deployment method \"Microsoft Endpoint Configuration Manager current branch and "
        f"later\", and pass its {DEFENDERDT_ONBOARDING_NAME} file (or the zip) as downloaded"),
    AgentKind.DEFENDERDT_OFFBOARDING: (
        "Download the offboarding package from the Microsoft Defender portal (Settings > Endpoints > Offboarding: "
        "Defender deployment tool, or Microsoft Endpoint Configuration Manager current branch and later) shortly "
        "before you use it: it expires after seven days"),
    AgentKind.UNIFIED_MSI: (
        f"Download the installation package {UNIFIED_MSI_NAME} again from the Microsoft Defender portal: "
        f"{_PORTAL_DOWNLEVEL} (where that download fails, DefenderDT fetches {UNIFIED_MSI_NAME} itself)"),
    AgentKind.UNIFIED_SCRIPT: (
        f"a changed or unsigned copy: download it again from the portal ({_PORTAL_DOWNLEVEL}) or from "
        "github.com/microsoft/mdefordownlevelserver as a file or zip; never copy and paste its text"),
    AgentKind.MMA_SETUP: (
        "Download MMASetup-AMD64.exe (https://go.microsoft.com/fwlink/?LinkId=828603) or MMASetup-i386.exe "
        "(https://go.microsoft.com/fwlink/?LinkId=828604) again"),
}


# --- Public data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeFacts:
    """The headers of a PE program (nothing is executed or verified)."""

    machine: str                       # "x64", "x86", "ARM64" or "unknown (0x....)"
    machine_code: int
    pe32_plus: bool                    # optional-header magic 0x20B (64-bit image)
    signed: bool                       # security data directory (entry 4) has a non-zero size
    signature_offset: int = 0          # file offset of the WIN_CERTIFICATE data
    signature_size: int = 0
    is_dll: bool = False
    original_filename: str | None = None   # from the version resource, when found


@dataclass(frozen=True)
class MsiFacts:
    """The compound-file header of an MSI."""

    major_version: int                 # 3 (512-byte sectors) or 4 (4096-byte sectors)
    sector_size: int
    root_clsid: str | None = None      # the root storage's CLSID, when the directory is in reach
    installer_database: bool | None = None   # root CLSID is the Windows Installer database's


@dataclass(frozen=True)
class ScriptFacts:
    """What install.ps1's text says."""

    version: str | None                # inferred: first <n>.<yyyymmdd>.<n> before the signature
    parameters: tuple[str, ...]        # known parameter names found as $Name in the text
    bom: bool
    line_ends: str                     # "crlf", "lf", "crlf+lf" or "none"
    signature_lines: int               # base64 comment lines inside the signature block
    nothing_after_signature: bool      # the file ends right after the End line (and its line end)


@dataclass(frozen=True)
class AgentFile:
    """One agent file as read. ``data`` is byte-exact; ``inferred`` names the facts that rest on
    inference rather than on the documented or observed format (see the module docstring)."""

    source: Path                       # the file given, or the zip that holds it
    kind: AgentKind
    name: str                          # the file name, or the entry path inside the zip
    size: int
    sha256: str
    data: bytes = field(repr=False, compare=False)
    pe: PeFacts | None = None          # defenderdt, mma-setup
    msi: MsiFacts | None = None        # unified-msi
    script: ScriptFacts | None = None  # unified-script
    blob: BlobFacts | None = None      # defenderdt-onboarding, when the JSON has the envelope shape
    inferred: tuple[str, ...] = ()     # e.g. ("kind", "org_id", "expiration", "version")
    notes: tuple[str, ...] = ()
    in_zip: bool = False

    @property
    def file_name(self) -> str:
        return PurePosixPath(self.name).name


@dataclass(frozen=True)
class AgentPackage:
    """A zip of agent files. ``files`` holds an AgentFile per recognised entry, in zip order;
    ``others`` the entries that are none of the kinds (e.g. a portal .cmd, read by portal.py)."""

    source: Path
    sha256: str
    files: tuple[AgentFile, ...]
    others: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def all(self, kind: AgentKind | str) -> tuple[AgentFile, ...]:
        k = AgentKind(kind)
        return tuple(f for f in self.files if f.kind is k)

    def get(self, kind: AgentKind | str) -> AgentFile | None:
        """The file of ``kind`` (for mma-setup with two architectures: the x64 one), or None."""
        found = self.all(kind)
        if not found:
            return None
        return next((f for f in found if f.pe and f.pe.machine == "x64"), found[0])

    @property
    def kinds(self) -> tuple[AgentKind, ...]:
        return tuple(dict.fromkeys(f.kind for f in self.files))


# --- Reading ------------------------------------------------------------------------------------


def read_agent_file(path: Path, kind: AgentKind | str, *,
                    max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> AgentFile:
    """Read ``path`` as the agent file ``kind`` (an :class:`AgentKind` or its value).

    Raises PackageError naming the file for anything that is not that kind by content."""
    path = Path(path)
    try:
        k = AgentKind(kind)
    except ValueError:
        raise ValueError(f"kind must be one of {', '.join(x.value for x in AgentKind)}, not {kind!r}") from None
    if k in _SUFFIX_OF:
        # A signed blob is a few KB, and so is the portal's zip of it: the portal reader's limits.
        max_bytes = min(max_bytes, portal.DEFAULT_MAX_TOTAL_BYTES)
    data = _read_regular(path, max_bytes)
    if _looks_zip(data) and k in _SUFFIX_OF:
        return _read_from_zip(path, data, k)
    if _looks_zip(data):
        raise PackageError(f"{path}: is a zip archive, not the {k.label} itself; extract it, or pass the "
                           "zip as an agent package (read_agent_package)")
    return _read_as(path, str(path), path.name, data, k, by_name=False, in_zip=False)


# The files that may be given inside the portal's zip, by the suffix of their entry.
_SUFFIX_OF = {AgentKind.DEFENDERDT_ONBOARDING: ".onboarding", AgentKind.DEFENDERDT_OFFBOARDING: ".offboarding"}


def _read_from_zip(path: Path, data: bytes, kind: AgentKind) -> AgentFile:
    """The one ``*.onboarding`` (or ``*.offboarding``) entry of a portal zip, read as ``kind``
    (macOS's ``__MACOSX/._*`` shadow entries aside)."""
    limits = _Limits(max_entry_bytes=portal.DEFAULT_MAX_ENTRY_BYTES, max_total_bytes=portal.DEFAULT_MAX_TOTAL_BYTES,
                     max_entries=DEFAULT_MAX_ENTRIES)
    entries = [(n, b) for n, b in _read_zip(path, data, limits)
               if not n.endswith("/") and not n.startswith("__MACOSX/") and not PurePosixPath(n).name.startswith("._")]
    found = [(n, b) for n, b in entries if n.casefold().endswith(_SUFFIX_OF[kind])]
    if len(found) != 1:
        names = ", ".join(n for n, _ in entries[:10]) or "nothing"
        what = "no" if not found else "more than one"
        raise PackageError(f"{path}: the zip holds {what} {_SUFFIX_OF[kind]} file (it holds: {names}). "
                           f"{_download(kind)}")
    name, blob = found[0]
    return _read_as(path, f"{path}: entry {name!r}", name, blob, kind, by_name=False, in_zip=True)


def blob_kind(path: Path) -> AgentKind | None:
    """The kind of signed-blob file ``path`` is or holds, by name: a ``.onboarding`` or
    ``.offboarding`` file, or a zip with such an entry (what `mdegen inspect` reads it as); else None."""
    path = Path(path)
    for kind, suffix in _SUFFIX_OF.items():
        if path.name.casefold().endswith(suffix):
            return kind
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n.casefold() for n in zf.namelist() if not n.startswith("__MACOSX/")]
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        return None
    for kind, suffix in _SUFFIX_OF.items():
        if any(n.endswith(suffix) for n in names):
            return kind
    return None


def read_agent_package(path: Path, *, max_entries: int = DEFAULT_MAX_ENTRIES,
                       max_entry_bytes: int = DEFAULT_MAX_FILE_BYTES,
                       max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES) -> AgentPackage:
    """Read a zip holding agent files (e.g. md4ws.msi with install.ps1, or DefenderDT.exe with its
    WindowsDefenderATP.onboarding) and recognise each entry by content."""
    path = Path(path)
    limits = _Limits(max_entry_bytes=min(max_entry_bytes, max_total_bytes),
                     max_total_bytes=max_total_bytes, max_entries=max_entries)
    data = _read_regular(path, max_total_bytes)
    if not _looks_zip(data):
        raise PackageError(f"{path}: not a zip archive; pass a single agent file with its kind "
                           f"(read_agent_file), or the zip as downloaded: {_EXPECTED}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            empty = not zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError,
            IndexError, KeyError, struct.error):
        empty = False      # a corrupt zip: _read_zip below words the error
    if empty:
        raise PackageError(f"{path}: the zip is empty: {_EXPECTED}")
    entries = _read_zip(path, data, limits)

    files: list[AgentFile] = []
    others: list[str] = []
    notes: list[str] = []
    for name, blob in entries:
        if name.endswith("/"):
            continue
        where = f"{path}: entry {name!r}"
        kind, by_name = _classify(name, blob)
        if kind is None:
            others.append(name)
            if _looks_zip(blob):
                notes.append(f"{name!r} is a zip inside the zip; mdegen does not open nested archives")
            elif _find_blobs(blob):
                notes.append(f"{name!r} is a portal onboarding/offboarding script (mdegen reads it as a "
                             "portal package, not as an agent file)")
            elif _is_pe(blob):
                notes.append(f"{name!r} is a program mdegen cannot identify as DefenderDT or MMASetup "
                             "(neither its version resource nor its name says which)")
            continue
        files.append(_read_as(path, where, name, blob, kind, by_name=by_name, in_zip=True))

    if not files:
        listing = ", ".join(others[:10]) + (" ..." if len(others) > 10 else "")
        raise PackageError(f"{path}: the zip holds no agent file (found: {listing}): {_EXPECTED}")
    for k in AgentKind:
        same = [f for f in files if f.kind is k]
        machines = [f.pe.machine if f.pe else None for f in same]
        if len(same) > 1 and (k is not AgentKind.MMA_SETUP or len(set(machines)) != len(machines)):
            raise PackageError(f"{path}: holds more than one {k.label} ("
                               + ", ".join(f.name for f in same) + "); pass a zip with one of each")
    return AgentPackage(source=path, sha256=hashlib.sha256(data).hexdigest(), files=tuple(files),
                        others=tuple(others), notes=tuple(notes))


_EXPECTED = (f"expected {DEFENDERDT_NAME}, {DEFENDERDT_ONBOARDING_NAME}, {UNIFIED_MSI_NAME}, "
             f"{UNIFIED_SCRIPT_NAME} (Microsoft's, signed) or {' / '.join(MMA_SETUP_NAMES)}")


def _read_regular(path: Path, cap: int) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise PackageError(f"{path}: does not exist") from None
    except OSError as e:
        raise PackageError(f"{path}: cannot read: {e.strerror or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise PackageError(f"{path}: not a regular file")
    if st.st_size > cap:
        raise PackageError(f"{path}: file is {st.st_size} bytes, more than the limit of {cap} bytes")
    try:
        with path.open("rb") as fh:
            data = fh.read(cap + 1)
    except OSError as e:
        raise PackageError(f"{path}: cannot read: {e.strerror or e}") from None
    if len(data) > cap:
        raise PackageError(f"{path}: file is larger than the limit of {cap} bytes")
    return data


def _looks_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def _is_pe(data: bytes) -> bool:
    if len(data) < 0x40 or data[:2] != b"MZ":
        return False
    off = struct.unpack_from("<I", data, 0x3C)[0]
    return off + 4 <= len(data) and data[off:off + 4] == b"PE\0\0"


def _classify(name: str, data: bytes) -> tuple[AgentKind | None, bool]:
    """(kind, decided_by_name) for a zip entry, from its content; the name only tells programs apart."""
    if data[:8] == OLE_SIGNATURE:
        return AgentKind.UNIFIED_MSI, False
    if _is_pe(data):
        who = _agent_of(_original_filename(data))
        if who is not None:
            return who, False
        return _agent_of(PurePosixPath(name).name), True
    text = _text_or_none(data)
    if text is None:
        return None, False
    if "md4ws" in text.casefold() and (SIG_BEGIN in text or (_PARAM_RE.search(text) and "$OnboardingScript" in text)):
        return AgentKind.UNIFIED_SCRIPT, False
    if not _find_blobs(data) and _looks_like_json_blob(text):
        return AgentKind.DEFENDERDT_ONBOARDING, False
    return None, False


_PARAM_RE = re.compile(r"^\s*param\s*\(", re.IGNORECASE | re.MULTILINE)


def _agent_of(name: str | None) -> AgentKind | None:
    if not name:
        return None
    low = name.casefold()
    if "defenderdt" in low or "activatemde" in low:      # older builds were activateMDE.exe (§D)
        return AgentKind.DEFENDERDT
    if "mmasetup" in low or "momagent" in low:
        return AgentKind.MMA_SETUP
    return None


def _text_or_none(data: bytes) -> str | None:
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if b"\x00" in body[:65536]:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _looks_like_json_blob(text: str) -> bool:
    s = text.strip()
    if not s.startswith("{"):
        return False
    try:
        doc = json.loads(s)
    except json.JSONDecodeError:
        return False
    return isinstance(doc, dict) and isinstance(doc.get("body"), str)


def _read_as(source: Path, where: str, name: str, data: bytes, kind: AgentKind, *, by_name: bool,
             in_zip: bool) -> AgentFile:
    if not data:
        raise PackageError(f"{where}: the file is empty, not the {kind.label}. {_download(kind)}")
    reader = _READERS[kind]
    facts, inferred, notes = reader(where, name, data, kind)
    if by_name:
        inferred = ("kind",) + inferred
        notes = (f"identified as the {kind.label} by its file name (it has no version resource naming it)",) + notes
    return AgentFile(source=source, kind=kind, name=name, size=len(data),
                     sha256=hashlib.sha256(data).hexdigest(), data=data, inferred=inferred, notes=notes,
                     in_zip=in_zip, **facts)


def _download(kind: AgentKind) -> str:
    text = kind.download
    return text[0].upper() + text[1:]


# --- Programs (PE) ------------------------------------------------------------------------------


def _read_program(where: str, name: str, data: bytes, kind: AgentKind) -> tuple[dict, tuple[str, ...], tuple[str, ...]]:
    what = kind.label
    if data[:2] != b"MZ":
        hint = ""
        if _text_or_none(data) is not None:
            hint = " (it is text"
            if _find_blobs(data):
                hint += ": a portal onboarding/offboarding script"
            elif data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
                hint += ": probably an HTML page saved instead of the download"
            hint += ")"
        raise PackageError(f"{where}: not a Windows program (no 'MZ' header){hint}, so not the {what}. "
                           f"{_download(kind)}")
    if len(data) < 0x40:
        raise PackageError(f"{where}: only {len(data)} bytes, too short for a program's DOS header "
                           f"(a truncated download?). {_download(kind)}")
    e_lfanew = struct.unpack_from("<I", data, 0x3C)[0]
    if e_lfanew + 4 > len(data) or data[e_lfanew:e_lfanew + 4] != b"PE\0\0":
        raise PackageError(f"{where}: has an 'MZ' header but no PE header at offset 0x{e_lfanew:X} (an old DOS "
                           f"program, or a damaged or truncated file), so not the {what}. {_download(kind)}")
    coff = e_lfanew + 4
    opt = coff + 20
    if opt + 2 > len(data):
        raise PackageError(f"{where}: the PE header is cut off (a truncated download?). {_download(kind)}")
    machine_code, _nsect, _ts, _sym, _nsym, opt_size, characteristics = struct.unpack_from("<HHIIIHH", data, coff)
    magic = struct.unpack_from("<H", data, opt)[0]
    if magic == 0x20B:
        count_at, dirs_at = 108, 112
    elif magic == 0x10B:
        count_at, dirs_at = 92, 96
    else:
        raise PackageError(f"{where}: the PE optional header has an unknown magic 0x{magic:X} (expected 0x10B or "
                           f"0x20B), so it is not a Windows program. {_download(kind)}")
    if opt_size < dirs_at:
        raise PackageError(f"{where}: the PE optional header is too small ({opt_size} bytes) for a Windows "
                           f"program. {_download(kind)}")
    if opt + dirs_at > len(data):
        raise PackageError(f"{where}: the PE optional header is cut off (a truncated download?). {_download(kind)}")
    n_dirs = struct.unpack_from("<I", data, opt + count_at)[0]
    n_dirs = min(n_dirs, (opt_size - dirs_at) // 8, 16)
    if opt + dirs_at + 8 * n_dirs > len(data):
        raise PackageError(f"{where}: the PE data directories are cut off (a truncated download?). "
                           f"{_download(kind)}")
    sig_off = sig_size = 0
    if n_dirs > 4:
        sig_off, sig_size = struct.unpack_from("<II", data, opt + dirs_at + 4 * 8)
    machine = MACHINES.get(machine_code, f"unknown (0x{machine_code:04X})")
    original = _original_filename(data)
    notes: list[str] = []
    inferred: list[str] = []

    other = _agent_of(original)
    if other is not None and other is not kind:
        raise PackageError(f"{where}: its version resource names it {original!r}, the {other.label}, not the "
                           f"{what}. {_download(kind)}")
    if original is not None and other is None:
        notes.append(f"the version resource's OriginalFilename is {original!r}")
    if sig_size and sig_off + sig_size > len(data):
        notes.append(f"the signature directory points past the end of the file (offset {sig_off}, {sig_size} "
                     "bytes): a truncated download?")
    if characteristics & 0x2000:
        notes.append("the PE header marks it as a DLL, not a program")
    if not sig_size:
        notes.append("it carries no Authenticode signature (Microsoft signs its downloads)")
    if machine_code not in MACHINES:
        notes.append(f"machine type 0x{machine_code:04X} is none of x64, x86, ARM64")
    if kind is AgentKind.MMA_SETUP:
        name_arch = None
        low = PurePosixPath(name).name.casefold()
        if "amd64" in low:
            name_arch = "x64"
        elif "i386" in low:
            name_arch = "x86"
        if name_arch and name_arch != machine:
            notes.append(f"the file name says {name_arch}, but the program is built for {machine}; "
                         "mdegen goes by the content")
    pe = PeFacts(machine=machine, machine_code=machine_code, pe32_plus=magic == 0x20B, signed=sig_size > 0,
                 signature_offset=sig_off, signature_size=sig_size, is_dll=bool(characteristics & 0x2000),
                 original_filename=original)
    return {"pe": pe}, tuple(inferred), tuple(notes)


_ORIGINAL_KEY = "OriginalFilename\0".encode("utf-16-le")


def _original_filename(data: bytes) -> str | None:
    """The value after the first UTF-16LE ``OriginalFilename`` key (a VS_VERSIONINFO String), if any."""
    at = data.find(_ORIGINAL_KEY)
    while at >= 0 and at % 2:
        at = data.find(_ORIGINAL_KEY, at + 1)
    if at < 0:
        return None
    pos = at + len(_ORIGINAL_KEY)
    while pos + 2 <= len(data) and data[pos:pos + 2] == b"\0\0":      # padding to a 32-bit boundary
        pos += 2
    end = pos
    while end + 2 <= len(data) and data[end:end + 2] != b"\0\0" and end - pos < 520:
        end += 2
    try:
        value = data[pos:end].decode("utf-16-le").strip()
    except UnicodeDecodeError:
        return None
    return value if value and value.isprintable() else None


# --- The MSI ------------------------------------------------------------------------------------


def _read_msi(where: str, name: str, data: bytes, kind: AgentKind) -> tuple[dict, tuple[str, ...], tuple[str, ...]]:
    if data[:8] != OLE_SIGNATURE:
        found = data[:8].hex(" ").upper() or "nothing"
        what = ""
        if data[:2] == b"MZ":
            what = " (it is a Windows program)"
        elif _text_or_none(data) is not None:
            what = " (it is text)"
        raise PackageError(f"{where}: not a Windows Installer package: it starts with {found}{what}, not the "
                           f"compound-file signature D0 CF 11 E0 A1 B1 1A E1. {_download(kind)}")
    if len(data) < 512:
        raise PackageError(f"{where}: only {len(data)} bytes, shorter than a compound-file header "
                           f"(a truncated download?). {_download(kind)}")
    minor, major, byte_order, sector_shift = struct.unpack_from("<HHHH", data, 0x18)
    if byte_order != 0xFFFE or (major, sector_shift) not in ((3, 9), (4, 12)):
        raise PackageError(f"{where}: the compound-file header is damaged (version {major}, byte order "
                           f"0x{byte_order:04X}, sector shift {sector_shift}). {_download(kind)}")
    sector = 1 << sector_shift
    first_dir = struct.unpack_from("<I", data, 0x30)[0]
    notes: list[str] = []
    clsid: uuid.UUID | None = None
    at = (first_dir + 1) * sector
    if first_dir < 0xFFFFFFFA and at + 128 <= len(data):
        entry_type = data[at + 0x42]
        if entry_type == 5:      # the root storage
            clsid = uuid.UUID(bytes_le=data[at + 0x50:at + 0x60])
    if clsid in _OTHER_INSTALLER_CLSIDS:
        raise PackageError(f"{where}: is {_OTHER_INSTALLER_CLSIDS[clsid]}, not the {kind.label}. "
                           f"{_download(kind)}")
    if clsid is None:
        notes.append("the root storage could not be read; mdegen checked the compound-file header only")
    elif clsid != MSI_DATABASE_CLSID:
        notes.append(f"the root storage's CLSID {{{str(clsid).upper()}}} is not the Windows Installer "
                     "database's; it may be another kind of compound file")
    msi = MsiFacts(major_version=major, sector_size=sector,
                   root_clsid=None if clsid is None else "{" + str(clsid).upper() + "}",
                   installer_database=None if clsid is None else clsid == MSI_DATABASE_CLSID)
    return {"msi": msi}, (), tuple(notes)


# --- install.ps1 ---------------------------------------------------------------------------------

# SHA-256 of Microsoft's published install.ps1, by version: a copy of a listed version with another
# hash was changed (a copy-paste, an editor re-saving it) and fails its signature on the server.
# Empty: the reference files hold no published hash yet. Add a row (version -> lower-case hex)
# when one is verified against Microsoft's own download.
PUBLISHED_SCRIPT_SHA256: dict[str, str] = {}

_VERSION_RE = re.compile(r"(?<![\d.])(\d{1,3}\.(?:19|20)\d{6}\.\d{1,6})(?!\.?\d)")


def _decode_text(where: str, data: bytes, kind: AgentKind) -> tuple[str, bool]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PackageError(f"{where}: is UTF-16 text; Microsoft ships the {kind.label} as UTF-8, so this copy "
                           f"was re-saved. {_download(kind)}")
    if data[:2] == b"MZ" or data[:8] == OLE_SIGNATURE or b"\x00" in data:
        raise PackageError(f"{where}: binary data, not the text of the {kind.label}. {_download(kind)}")
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        return data[3 if bom else 0:].decode("utf-8"), bom
    except UnicodeDecodeError as e:
        raise PackageError(f"{where}: not UTF-8 text (byte {e.start}); not the {kind.label}. "
                           f"{_download(kind)}") from None


def _read_script(where: str, name: str, data: bytes, kind: AgentKind) -> tuple[dict, tuple[str, ...], tuple[str, ...]]:
    text, bom = _decode_text(where, data, kind)
    if not text.strip():
        raise PackageError(f"{where}: holds only white space, not the {kind.label}. {_download(kind)}")
    if _find_blobs(data):
        raise PackageError(f"{where}: is a portal onboarding/offboarding .cmd script, not the {kind.label} "
                           f"(pass the .cmd as the onboarding package). {_download(kind)}")
    if "md4ws" not in text.casefold():
        raise PackageError(f"{where}: never mentions {UNIFIED_MSI_NAME}, so it is not the {kind.label} (another "
                           f"script?). {_download(kind)}")
    lines = text.splitlines(keepends=True)
    stripped = [ln.rstrip("\r\n").strip() for ln in lines]
    begins = [i for i, s in enumerate(stripped) if s == SIG_BEGIN]
    ends = [i for i, s in enumerate(stripped) if s == SIG_END]
    if not begins or not ends:
        raise PackageError(f"{where}: has no Authenticode signature block ({SIG_BEGIN!r} ... {SIG_END!r}): "
                           f"{kind.download}")
    if len(begins) > 1 or len(ends) > 1 or ends[0] < begins[0]:
        raise PackageError(f"{where}: its signature block markers are duplicated or out of order: "
                           f"{kind.download}")
    b, e = begins[0], ends[0]
    inside = stripped[b + 1:e]
    bad = next((b + 2 + i for i, s in enumerate(inside) if not s.startswith("#")), None)
    if bad is not None:
        raise PackageError(f"{where}: line {bad} inside the signature block is not a comment: {kind.download}")
    after = "".join(lines[e + 1:])
    if after.strip():
        line = e + 2 + next(i for i, ln in enumerate(lines[e + 1:]) if ln.strip())
        raise PackageError(f"{where}: text follows the signature block (line {line}); PowerShell only honours a "
                           f"signature block at the end of the script: {kind.download}")
    notes: list[str] = []
    nothing_after = after == ""
    if not nothing_after:
        notes.append("blank lines follow the signature block; the signed copy ends with its End line, so "
                     "this copy may have been changed")
    if not inside:
        notes.append("the signature block is empty")
    head = "".join(lines[:b])
    m = _VERSION_RE.search(head)
    version = m.group(1) if m else None
    params = tuple(p for p in UNIFIED_SCRIPT_PARAMETERS
                   if re.search(rf"\${re.escape(p)}\b", head, re.IGNORECASE))
    if "OnboardingScript" not in params:
        notes.append("no $OnboardingScript parameter found; an unexpected version of install.ps1")
    published = PUBLISHED_SCRIPT_SHA256.get(version or "")
    if published is not None and hashlib.sha256(data).hexdigest() != published:
        raise PackageError(f"{where}: is install.ps1 {version}, but not byte for byte the one Microsoft published "
                           f"(SHA-256 {published}): a changed copy fails its signature. {_download(kind)}")
    script = ScriptFacts(version=version, parameters=params, bom=bom, line_ends=_line_ends(data),
                         signature_lines=len(inside), nothing_after_signature=nothing_after)
    return {"script": script}, ("version",) if version else (), tuple(notes)


# --- WindowsDefenderATP.onboarding ---------------------------------------------------------------


def _read_onboarding(where: str, name: str, data: bytes, kind: AgentKind) -> tuple[dict, tuple[str, ...], tuple[str, ...]]:
    if _find_blobs(data):
        raise PackageError(f"{where}: is a portal .cmd script (it writes the blob with `reg add`), not the "
                           f"{kind.label}; the .cmd is for Group Policy / SCCM. {_download(kind)}")
    if data[:2] == b"MZ" or data[:8] == OLE_SIGNATURE:
        raise PackageError(f"{where}: is a program or installer, not the {kind.label}. {_download(kind)}")
    notes: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise PackageError(f"{where}: binary data, not the {kind.label}. {_download(kind)}") from None
        notes.append("the file is UTF-16 text (re-saved?); mdegen read it as such")
    else:
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        if b"\x00" in body:
            raise PackageError(f"{where}: binary data, not the {kind.label}. {_download(kind)}")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise PackageError(f"{where}: binary data (not UTF-8 at byte {e.start}), not the {kind.label}. "
                               f"{_download(kind)}") from None
    if not text.strip():
        raise PackageError(f"{where}: the file is empty, not the {kind.label}. {_download(kind)}")
    low = text.lstrip().casefold()
    if low.startswith(("@echo", "echo off", "rem ", "::")) or "reg add" in low or "reg.exe add" in low:
        raise PackageError(f"{where}: is a batch (.cmd) script, not the {kind.label}. {_download(kind)}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise PackageError(f"{where}: not the JSON document the {kind.label} is taken to be ({e.msg} at "
                           f"character {e.pos}; the format is inferred, see mdegen's docs). {_download(kind)}") from None
    if not isinstance(doc, dict):
        raise PackageError(f"{where}: a JSON {type(doc).__name__}, not the JSON object of the {kind.label}. "
                           f"{_download(kind)}")
    if not isinstance(doc.get("body"), str):
        notes.append("the JSON has no \"body\" text, so it is not the signed-blob shape mdegen knows; its "
                     "facts are not read (the file is still copied byte for byte)")
        return {}, (), tuple(notes)
    blob, more = _blob_facts(where, doc, kind)
    notes.extend(more)
    inferred = ["format", "org_id", "datacenter", "version"]
    if blob.expiration is not None:
        inferred.append("expiration")
    return {"blob": blob}, tuple(inferred), tuple(notes)


def _blob_facts(where: str, envelope: dict, kind: AgentKind) -> tuple[BlobFacts, list[str]]:
    try:
        body = json.loads(envelope["body"])
    except json.JSONDecodeError as e:
        raise PackageError(f"{where}: the blob's body is not valid JSON ({e.msg} at character {e.pos}). "
                           f"{_download(kind)}") from None
    if not isinstance(body, dict):
        raise PackageError(f"{where}: the blob's body is not a JSON object. {_download(kind)}")
    offboarding_shape = "orgIds" in body and "geoLocationUrl" not in body
    if kind is AgentKind.DEFENDERDT_ONBOARDING and offboarding_shape:
        raise PackageError(f"{where}: holds an offboarding blob (orgIds, no geoLocationUrl), not the "
                           f"onboarding one; offboarding files come from the Offboarding page. {_download(kind)}")
    if kind is AgentKind.DEFENDERDT_OFFBOARDING and not offboarding_shape:
        raise PackageError(f"{where}: holds an onboarding blob (geoLocationUrl, no orgIds), not an offboarding "
                           f"one; it would onboard the servers. {_download(kind)}")
    org_id = body.get("orgId")
    if not isinstance(org_id, str) or not _GUID_RE.match(org_id):
        raise PackageError(f"{where}: the blob's body has no orgId GUID. {_download(kind)}")

    def text_field(key: str) -> str | None:
        v = body.get(key)
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            return None
        return str(v)

    notes: list[str] = []
    expiration = None
    ft = body.get("expirationTimestamp")
    if isinstance(ft, str) and ft.isdigit():
        ft = int(ft)
    if isinstance(ft, int) and not isinstance(ft, bool):
        expiration = filetime_to_datetime(ft)
        if expiration is None:
            notes.append(f"the blob's expirationTimestamp {ft} is out of range")
    elif ft is not None:
        notes.append("the blob's expirationTimestamp is not a Windows FILETIME number")
    not_before = not_after = cn = None
    cert = envelope.get("cert")
    if isinstance(cert, str) and cert:
        try:
            not_before, not_after, cn = parse_certificate(base64.b64decode(cert, validate=True))
        except (binascii.Error, ValueError) as e:
            notes.append(f"the blob's signing certificate could not be read ({e})")
    else:
        notes.append("the blob has no signing certificate (\"cert\")")
    prev = body.get("previousOrgIds")
    geo, dc, vortex = text_field("geoLocationUrl"), text_field("datacenter"), text_field("vortexGeoLocation")
    facts = BlobFacts(
        value_name=ONBOARDING_VALUE, org_id=org_id,
        previous_org_ids=tuple(x for x in prev if isinstance(x, str)) if isinstance(prev, list) else (),
        geo_location_url=geo, datacenter=dc, vortex_geo_location=vortex,
        version=text_field("version"), package_guid=text_field("packageGuid"),
        device_type=text_field("deviceType"), expiration=expiration,
        cert_not_before=not_before, cert_not_after=not_after, cert_subject_cn=cn,
        cloud=cloud_hint(geo, dc, vortex))
    return facts, notes


_READERS = {
    AgentKind.DEFENDERDT: _read_program,
    AgentKind.MMA_SETUP: _read_program,
    AgentKind.UNIFIED_MSI: _read_msi,
    AgentKind.UNIFIED_SCRIPT: _read_script,
    AgentKind.DEFENDERDT_ONBOARDING: _read_onboarding,
    AgentKind.DEFENDERDT_OFFBOARDING: _read_onboarding,
}


# --- Reporting ----------------------------------------------------------------------------------


def _file_rows(f: AgentFile, now: dt.datetime | None) -> list[tuple[str, str]]:
    def mark(key: str) -> str:
        return " (inferred)" if key in f.inferred else ""

    rows: list[tuple[str, str]] = [
        ("File", f"{f.name} (in {f.source})" if f.in_zip else str(f.source)),
        ("Kind", f.kind.label + mark("kind")),
        ("Size", f"{f.size} bytes"),
        ("SHA-256", f.sha256),
    ]
    if f.pe:
        rows.append(("Machine", f"{f.pe.machine} ({'PE32+' if f.pe.pe32_plus else 'PE32'})"))
        rows.append(("Signature", f"Authenticode directory present ({f.pe.signature_size} bytes; not verified)"
                     if f.pe.signed else "none"))
        if f.pe.original_filename:
            rows.append(("Original name", f.pe.original_filename))
    if f.msi:
        rows.append(("Compound file", f"version {f.msi.major_version}, {f.msi.sector_size}-byte sectors"))
        if f.msi.root_clsid:
            what = "Windows Installer database" if f.msi.installer_database else "not the Windows Installer's"
            rows.append(("Root CLSID", f"{f.msi.root_clsid} ({what})"))
    if f.script:
        s = f.script
        rows.append(("Version", (s.version or "-") + mark("version")))
        rows.append(("Parameters", ", ".join(f"-{p}" for p in s.parameters) or "-"))
        rows.append(("Encoding", f"UTF-8{' with BOM' if s.bom else ''}, line ends {s.line_ends}"))
        rows.append(("Signature", f"# SIG # block at the end, {s.signature_lines} lines (not verified)"))
        rows.append(("After block", "nothing" if s.nothing_after_signature else "blank lines"))
    if f.kind in (AgentKind.DEFENDERDT_ONBOARDING, AgentKind.DEFENDERDT_OFFBOARDING):
        rows.append(("Format", ("signed JSON blob" if f.blob else "JSON, shape not recognised") + mark("format")))
    if f.blob:
        b = f.blob
        rows.append(("Org id", b.org_id + mark("org_id")))
        rows.append(("Datacenter", (b.datacenter or "-") + mark("datacenter")))
        rows.append(("Cloud", f"{b.cloud} (hint)"))
        rows.append(("Blob version", (b.version or "-") + mark("version")))
        if b.package_guid:
            rows.append(("Package GUID", b.package_guid))
        if b.expiration is None:
            rows.append(("Expires", "unknown (not in the file)"))
        else:
            when = _fmt_dt(b.expiration)
            if now is not None and b.expiration <= now.astimezone(dt.timezone.utc):
                when = f"EXPIRED on {when}"
            rows.append(("Expires", when + mark("expiration")))
        if b.cert_not_after is not None:
            cn = f"CN={b.cert_subject_cn}, " if b.cert_subject_cn else ""
            start = b.cert_not_before.date().isoformat() if b.cert_not_before else "?"
            rows.append(("Signing cert", f"{cn}valid {start} to {b.cert_not_after.date().isoformat()}"))
    if f.inferred:
        rows.append(("Inferred", ", ".join(f.inferred)))
    for note in f.notes:
        rows.append(("Note", note))
    return rows


def format_agent_facts(f: AgentFile | AgentPackage, now: dt.datetime | None = None) -> str:
    """A readable, aligned table of an agent file's (or a zip's) facts for ``mdegen inspect``.
    ``now`` (an aware datetime), when given, marks an expired onboarding file."""
    if isinstance(f, AgentFile):
        rows = _file_rows(f, now)
    else:
        rows = [("Package", f"{f.source} (zip)"), ("SHA-256", f.sha256),
                ("Holds", ", ".join(x.kind.value for x in f.files))]
        for x in f.files:
            rows.append(("", ""))
            rows.extend(_file_rows(x, now))
        if f.others:
            rows.append(("", ""))
            rows.append(("Other files", ", ".join(f.others)))
        for note in f.notes:
            rows.append(("Note", note))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}".rstrip() for k, v in rows) + "\n"
