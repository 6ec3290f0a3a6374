"""Read the packages an admin downloads from the Microsoft Defender portal.

A *portal package* is what Settings > Endpoints > Device management > Onboarding (or Offboarding)
hands out: a zip holding a ``.cmd`` script (plus, for some deployment methods, a VDI PowerShell
script or an ``OptionalParamsPolicy`` ADMX/ADML pair), or that ``.cmd`` on its own. This module
reads one into a :class:`PortalPackage`: every file byte-exact (mdegen copies them into its output
unchanged, because the VDI script is Authenticode-signed and the ``.cmd`` carries a signed blob),
which kind of package it is, and the facts in the signed blob (org id, geo, version, certificate
and expiry dates).

Reading and judging are separate. :func:`read_package` refuses only what it cannot read safely
(unsafe or corrupt zips, no recognisable script, a malformed blob); whether a package fits a
purpose is asked afterwards with :func:`check_unattended`, :func:`check_offboarding_expiry` and
:func:`check_same_org`, so ``mdegen inspect`` can report any package plainly. Nothing here prints
or reads the clock: callers pass ``now`` (an aware datetime).

Accepted inputs:

* a portal zip (any name; recognised by content, not only by its ``.zip`` suffix);
* a bare script (``.cmd``/``.bat`` or any other name), recognised by content, so a renamed
  ``WindowsDefender.cmd`` is still the Group Policy onboarding script;
* a folder holding an extracted package (the VDI kind needs the zip or such a folder, because
  ``Onboard-NonPersistentMachine.ps1`` only works beside its onboarding script; a bare ``.ps1``
  is refused with a message that says so).

Signatures are not validated (that is Microsoft-internal); the blob's facts are reported as found.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import json
import os
import re
import stat
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath
from struct import error as struct_error   # raised by zipfile on some truncated headers
from typing import Any

from generator.errors import PackageError

# --- Names and limits ---------------------------------------------------------------------------

GP_SCRIPT_NAME = "WindowsDefenderATPOnboardingScript.cmd"
LOCAL_SCRIPT_NAME = "WindowsDefenderATPLocalOnboardingScript.cmd"
OFFBOARDING_SCRIPT_PATTERN = "WindowsDefenderATPOffboardingScript_valid_until_YYYY-MM-DD.cmd"
VDI_SCRIPT_NAME = "Onboard-NonPersistentMachine.ps1"
OPTIONAL_PARAMS_DIR = "OptionalParamsPolicy"
CONFIGMGR_BLOB_SUFFIXES = (".onboarding", ".offboarding")

ONBOARDING_VALUE = "OnboardingInfo"
OFFBOARDING_VALUE = "696C1FA1-4030-4FA4-8713-FAF9B2EA7C0A"

DEFAULT_MAX_ENTRY_BYTES = 4 * 1024 * 1024      # real scripts are ~16 KB, the VDI .ps1 a few dozen KB
DEFAULT_MAX_TOTAL_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_ENTRIES = 64                       # real packages hold 1 to 5 entries

PORTAL_ONBOARDING_PATH = "Settings > Endpoints > Device management > Onboarding"
PORTAL_OFFBOARDING_PATH = "Settings > Endpoints > Device management > Offboarding"
PORTAL_GP_METHOD = "Group Policy"
PORTAL_SCCM_METHOD = "Microsoft Configuration Manager 2012/2012 R2/1511/1602"

_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# The parsing recipe of mde-domain.md §1: the `reg add` line that writes the signed blob.
_BLOB_RE = re.compile(
    rb'/v\s+(OnboardingInfo|696C1FA1-4030-4FA4-8713-FAF9B2EA7C0A)\s+/t\s+REG_SZ\s+/f\s+/d\s+"(.*?)"\s*>',
    re.IGNORECASE)
# The same line without the trailing redirection (a hand-edited script): up to the line's last quote.
_BLOB_LOOSE_RE = re.compile(
    rb'/v\s+(OnboardingInfo|696C1FA1-4030-4FA4-8713-FAF9B2EA7C0A)\s+/t\s+REG_SZ\s+/f\s+/d\s+"([^\r\n]*)"[ \t]*\r?$',
    re.IGNORECASE | re.MULTILINE)
_UNESCAPE_RE = re.compile(rb'\\(["\\])')

# The Local Script's own policy value (besides its prompt and pause, see _interactive_reasons).
_DEMO_LATENCY_RE = re.compile(rb'/v\s+latency\s+/t\s+REG_SZ\s+/f\s+/d\s+"?Demo"?', re.IGNORECASE)
_VALID_UNTIL_RE = re.compile(r"valid_until_(\d{4})-(\d{2})-(\d{2})", re.IGNORECASE)

_WINDOWS_BAD_CHARS = set('<>:"|?*') | {chr(c) for c in range(32)}
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}


# --- Public data --------------------------------------------------------------------------------


class PackageKind(str, Enum):
    """What a portal package is for. The GP package's OptionalParamsPolicy ADMX/ADML is not a
    kind of its own: it travels inside a GP (or VDI) package, see ``PortalPackage.optional_params_policy``."""

    GP_ONBOARDING = "gp-onboarding"        # Group Policy / SCCM 2012-1602 script, non-interactive
    LOCAL_ONBOARDING = "local-onboarding"  # Local Script: consent prompt, pause, latency=Demo
    VDI = "vdi"                            # onboarding script + Onboard-NonPersistentMachine.ps1
    OFFBOARDING = "offboarding"            # writes the offboarding blob; Local variant pauses

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    PackageKind.GP_ONBOARDING: "Group Policy / SCCM onboarding script",
    PackageKind.LOCAL_ONBOARDING: "Local Script onboarding (single machine)",
    PackageKind.VDI: "VDI onboarding (non-persistent machines)",
    PackageKind.OFFBOARDING: "offboarding script",
}


@dataclass(frozen=True)
class BlobFacts:
    """What the signed blob of a script says. Signatures are not checked."""

    value_name: str                          # "OnboardingInfo" or the offboarding value GUID
    org_id: str                              # as written in the blob (a GUID)
    previous_org_ids: tuple[str, ...] = ()   # onboarding body "previousOrgIds"
    org_ids: tuple[str, ...] = ()            # offboarding body "orgIds"
    geo_location_url: str | None = None
    datacenter: str | None = None
    vortex_geo_location: str | None = None
    version: str | None = None
    package_guid: str | None = None          # 2.x blobs only
    device_type: str | None = None           # seen in Linux blobs only
    expiration: dt.datetime | None = None    # offboarding only, UTC, from the FILETIME
    cert_not_before: dt.datetime | None = None
    cert_not_after: dt.datetime | None = None
    cert_subject_cn: str | None = None
    cloud: str = "unknown"                   # commercial | gcc | gcc-high | unknown (hint from the URL)

    @property
    def is_offboarding(self) -> bool:
        return self.value_name.upper() == OFFBOARDING_VALUE

    @property
    def is_government(self) -> bool:
        """A hint only: inferred from geoLocationUrl/datacenter/vortexGeoLocation."""
        return self.cloud in ("gcc", "gcc-high")


@dataclass(frozen=True)
class PortalPackage:
    """One package as read from disk. ``files`` holds every file byte-exact, in zip order
    (folders: sorted by path), each by its '/'-separated path inside the package."""

    source: Path
    kind: PackageKind
    script_name: str                         # file name of the .cmd
    script: bytes                            # the .cmd, byte-exact
    files: tuple[tuple[str, bytes], ...]
    facts: BlobFacts
    interactive: bool                        # waits for keyboard input (prompt, pause, choice)
    is_zip: bool
    sha256: str                              # of the source file (folder: of the script file)
    script_path: str = ""                    # the .cmd's path inside the package
    is_folder: bool = False
    optional_params_policy: tuple[str, ...] = ()   # paths under OptionalParamsPolicy/ (GP package)
    vdi_script: str | None = None            # path of Onboard-NonPersistentMachine.ps1, if present
    local_signs: tuple[str, ...] = ()        # why it is interactive / the Local Script, e.g. "`pause` (line 170)"
    notes: tuple[str, ...] = ()              # plain remarks for `mdegen inspect`

    def file(self, path: str) -> bytes:
        """The bytes of the file at ``path`` (case-insensitive, as Windows sees it)."""
        want = path.replace("\\", "/").casefold()
        for name, data in self.files:
            if name.casefold() == want:
                return data
        raise KeyError(path)


# --- Reading ------------------------------------------------------------------------------------


def read_package(path: Path, *, max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
                 max_entries: int = DEFAULT_MAX_ENTRIES,
                 max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES) -> PortalPackage:
    """Read a portal zip, a bare script or an extracted package folder.

    Raises PackageError (naming the file, and the zip entry where relevant) for anything it
    cannot read safely; never judges fitness for a purpose (see the check_* functions).
    """
    path = Path(path)
    limits = _Limits(max_entry_bytes=min(max_entry_bytes, max_total_bytes),
                     max_total_bytes=max_total_bytes, max_entries=max_entries)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise PackageError(f"{path}: does not exist") from None
    except OSError as e:
        raise PackageError(f"{path}: cannot read: {e.strerror or e}") from None

    if stat.S_ISDIR(st.st_mode):
        files = _read_folder(path, limits)
        return _assemble(path, files, is_zip=False, is_folder=True, sha256=None)
    if not stat.S_ISREG(st.st_mode):
        raise PackageError(f"{path}: not a regular file or folder")
    if st.st_size > limits.max_total_bytes:
        raise PackageError(f"{path}: file is {st.st_size} bytes, more than the limit of "
                           f"{limits.max_total_bytes} bytes for a portal package")
    data = _read_file(path, limits.max_total_bytes)
    digest = hashlib.sha256(data).hexdigest()

    looks_zip = data[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
    if path.suffix.lower() == ".zip" or looks_zip:
        files = _read_zip(path, data, limits)
        return _assemble(path, files, is_zip=True, is_folder=False, sha256=digest)

    if path.name.casefold() == VDI_SCRIPT_NAME.casefold() or path.suffix.lower() == ".ps1":
        raise PackageError(
            f"{path}: a PowerShell script on its own is not a portal package. For VDI onboarding "
            f"pass the portal's VDI zip, or the folder that holds {VDI_SCRIPT_NAME} beside "
            f"{GP_SCRIPT_NAME}")
    if path.suffix.lower() in CONFIGMGR_BLOB_SUFFIXES:
        raise PackageError(f"{path}: {_CONFIGMGR_HINT}")
    if len(data) > limits.max_entry_bytes:
        raise PackageError(f"{path}: file is {len(data)} bytes, more than the limit of "
                           f"{limits.max_entry_bytes} bytes for one script")
    if not _find_blobs(data):
        empty = " (the file is empty)" if not data.strip() else ""
        raise PackageError(f"{path}: not a Defender portal script{empty}: {_EXPECTED_SCRIPT}")
    return _assemble(path, [(path.name, data)], is_zip=False, is_folder=False, sha256=digest)


@dataclass(frozen=True)
class _Limits:
    max_entry_bytes: int
    max_total_bytes: int
    max_entries: int


_EXPECTED_SCRIPT = (
    f"expected {GP_SCRIPT_NAME} (Group Policy / SCCM), {LOCAL_SCRIPT_NAME} (Local Script), "
    f"{OFFBOARDING_SCRIPT_PATTERN}, or the VDI package's {GP_SCRIPT_NAME} with {VDI_SCRIPT_NAME}: "
    f"a .cmd file with a `reg add ... /v {ONBOARDING_VALUE} /t REG_SZ /f /d \"...\"` line "
    f"(or the offboarding value {OFFBOARDING_VALUE})")

_CONFIGMGR_HINT = (
    "this is a Configuration Manager current-branch blob (.onboarding/.offboarding), which mdegen "
    "does not deploy. Download the package again from the Microsoft Defender portal: "
    f"{PORTAL_ONBOARDING_PATH}, choose the operating system and the deployment method "
    f"\"{PORTAL_GP_METHOD}\" (or \"{PORTAL_SCCM_METHOD}\" for SCCM)")


def _read_file(path: Path, cap: int) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(cap + 1)
    except OSError as e:
        raise PackageError(f"{path}: cannot read: {e.strerror or e}") from None
    if len(data) > cap:
        raise PackageError(f"{path}: file is larger than the limit of {cap} bytes for a portal package")
    return data


def _check_entry_name(source: Path, raw: str) -> str:
    """Validate a zip entry or folder-relative name as Windows would see it; return it '/'-separated."""
    where = f"{source}: entry {raw!r}"
    if "\x00" in raw:
        raise PackageError(f"{where}: name contains a NUL character")
    name = raw.replace("\\", "/")
    if name.startswith("/"):
        raise PackageError(f"{where}: absolute path (starts with a slash or backslash); "
                           "a package may only hold relative paths")
    if re.match(r"^[A-Za-z]:", name):
        raise PackageError(f"{where}: path starts with a drive letter; a package may only hold relative paths")
    body = name[:-1] if name.endswith("/") else name
    if not body:
        raise PackageError(f"{where}: empty name")
    for part in body.split("/"):
        if part == "..":
            raise PackageError(f"{where}: path contains a '..' component, which would point outside the package")
        if part in ("", "."):
            raise PackageError(f"{where}: path has an empty or '.' component")
        bad = sorted({c for c in part if c in _WINDOWS_BAD_CHARS})
        if bad:
            shown = ", ".join(repr(c) for c in bad)
            raise PackageError(f"{where}: name contains characters Windows does not allow in file names ({shown})")
        if part[-1] in " .":
            raise PackageError(f"{where}: a name part ends with a space or dot, which Windows strips")
        if part.split(".")[0].rstrip(" ").casefold() in _WINDOWS_RESERVED:
            raise PackageError(f"{where}: {part!r} is a reserved device name on Windows")
    return name


def _read_zip(source: Path, data: bytes, limits: _Limits) -> list[tuple[str, bytes]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError,
            NotImplementedError, IndexError, KeyError, struct_error) as e:
        raise PackageError(f"{source}: not a readable zip archive "
                           f"(corrupt, truncated or not a zip at all: {e})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise PackageError(f"{source}: zip holds {len(infos)} entries, more than the limit of "
                               f"{limits.max_entries}; a portal package holds a handful")
        if not infos:
            raise PackageError(f"{source}: the zip is empty: {_EXPECTED_SCRIPT}")

        seen: dict[str, str] = {}
        dirs: set[str] = set()
        plan: list[tuple[zipfile.ZipInfo, str]] = []
        declared_total = 0
        for info in infos:
            name = _check_entry_name(source, info.filename)
            where = f"{source}: entry {info.filename!r}"
            if info.flag_bits & 0x1 or info.flag_bits & 0x40:
                raise PackageError(f"{where}: entry is encrypted; portal packages are not, so this is not one")
            mode = info.external_attr >> 16
            ftype = stat.S_IFMT(mode)
            if stat.S_ISLNK(mode):
                raise PackageError(f"{where}: entry is a symbolic link; a package may only hold regular files")
            if info.external_attr & 0x400:   # FILE_ATTRIBUTE_REPARSE_POINT (Windows-made zips)
                raise PackageError(f"{where}: entry is a reparse point (link); a package may only hold regular files")
            is_dir = name.endswith("/") or ftype == stat.S_IFDIR
            if ftype not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise PackageError(f"{where}: entry is a special file (mode {oct(mode)}); "
                                   "a package may only hold regular files")
            key = name.rstrip("/").casefold()
            if key in seen:
                raise PackageError(f"{where}: duplicate of entry {seen[key]!r} (names are case-insensitive "
                                   "on Windows); a package must hold each file once")
            seen[key] = info.filename
            if is_dir:
                dirs.add(key)
                continue
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED,
                                          zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
                raise PackageError(f"{where}: unsupported compression method {info.compress_type}")
            if info.file_size > limits.max_entry_bytes:
                raise PackageError(f"{where}: declares {info.file_size} bytes uncompressed, more than "
                                   f"the limit of {limits.max_entry_bytes} bytes for one file")
            declared_total += info.file_size
            if declared_total > limits.max_total_bytes:
                raise PackageError(f"{source}: entries declare more than the limit of "
                                   f"{limits.max_total_bytes} bytes uncompressed in total")
            plan.append((info, name))

        file_keys = {name.casefold() for _, name in plan}
        for _, name in plan:
            parts = name.casefold().split("/")
            for i in range(1, len(parts)):
                parent = "/".join(parts[:i])
                if parent in file_keys:
                    raise PackageError(f"{source}: entry {name!r} lies below {parent!r}, which is a file")

        out: list[tuple[str, bytes]] = []
        total = 0
        for info, name in plan:
            where = f"{source}: entry {info.filename!r}"
            chunks: list[bytes] = []
            got = 0
            try:
                with zf.open(info) as fh:
                    while True:
                        chunk = fh.read(64 * 1024)
                        if not chunk:
                            break
                        got += len(chunk)
                        if got > limits.max_entry_bytes:
                            raise PackageError(f"{where}: unpacks to more than the limit of "
                                               f"{limits.max_entry_bytes} bytes for one file")
                        if total + got > limits.max_total_bytes:
                            raise PackageError(f"{source}: entries unpack to more than the limit of "
                                               f"{limits.max_total_bytes} bytes in total")
                        chunks.append(chunk)
            except PackageError:
                raise
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                    NotImplementedError, RuntimeError, struct_error, LookupError) as e:
                raise PackageError(f"{where}: cannot unpack (corrupt zip: {e})") from None
            if got != info.file_size:
                raise PackageError(f"{where}: unpacked {got} bytes but the zip declares {info.file_size}; "
                                   "the zip is corrupt")
            total += got
            out.append((name, b"".join(chunks)))
        return out


def _read_folder(root: Path, limits: _Limits) -> list[tuple[str, bytes]]:
    found: list[tuple[str, Path]] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for d in list(dirnames):
            if (here / d).is_symlink():
                raise PackageError(f"{root}: {(here / d).relative_to(root).as_posix()!r} is a symbolic "
                                   "link; a package folder may only hold regular files and folders")
        for f in filenames:
            p = here / f
            rel = p.relative_to(root).as_posix()
            _check_entry_name(root, rel)
            if p.is_symlink():
                raise PackageError(f"{root}: {rel!r} is a symbolic link; a package folder may only hold regular files")
            found.append((rel, p))
            if len(found) > limits.max_entries:
                raise PackageError(f"{root}: folder holds more than {limits.max_entries} files; "
                                   "a portal package holds a handful")
    found.sort(key=lambda t: (t[0].casefold(), t[0]))
    seen: dict[str, str] = {}
    out: list[tuple[str, bytes]] = []
    for rel, p in found:
        key = rel.casefold()
        if key in seen:
            raise PackageError(f"{root}: {rel!r} and {seen[key]!r} differ only in case, "
                               "which Windows sees as the same file")
        seen[key] = rel
        data = _read_file(p, limits.max_entry_bytes)
        total += len(data)
        if total > limits.max_total_bytes:
            raise PackageError(f"{root}: files hold more than the limit of {limits.max_total_bytes} bytes in total")
        out.append((rel, data))
    if not out:
        raise PackageError(f"{root}: the folder is empty: {_EXPECTED_SCRIPT}")
    return out


def _find_blobs(data: bytes) -> list[tuple[str, bytes]]:
    found = [(m.group(1).decode("ascii"), m.group(2)) for m in _BLOB_RE.finditer(data)]
    if not found:
        found = [(m.group(1).decode("ascii"), m.group(2)) for m in _BLOB_LOOSE_RE.finditer(data)]
    return found


def _assemble(source: Path, files: list[tuple[str, bytes]], *, is_zip: bool, is_folder: bool,
              sha256: str | None) -> PortalPackage:
    bare = not is_zip and not is_folder       # a single file given by name: any extension will do
    scripts = [(name, data) for name, data in files
               if (bare or name.lower().endswith((".cmd", ".bat"))) and _find_blobs(data)]
    if not scripts:
        names = [n for n, _ in files]
        configmgr = [n for n in names if n.lower().endswith(CONFIGMGR_BLOB_SUFFIXES)]
        if configmgr:
            raise PackageError(f"{source}: holds {configmgr[0]!r}: {_CONFIGMGR_HINT}")
        listing = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
        what = "zip" if is_zip else "folder"
        raise PackageError(f"{source}: the {what} holds no Defender onboarding or offboarding script "
                           f"(found: {listing}): {_EXPECTED_SCRIPT}")
    if len(scripts) > 1:
        raise PackageError(f"{source}: holds more than one Defender script ("
                           + ", ".join(n for n, _ in scripts)
                           + "); a portal package holds exactly one. Pass each package separately")
    script_path, script = scripts[0]
    entry = script_path if (is_zip or is_folder) else None
    where = f"{source}: entry {entry!r}" if entry else f"{source}"
    script_name = PurePosixPath(script_path).name
    notes: list[str] = []

    facts, fact_notes = _read_blob(where, script)
    notes.extend(fact_notes)

    reasons = _interactive_reasons(script)
    interactive = bool(reasons)
    signs = list(reasons)
    demo = _DEMO_LATENCY_RE.search(script)
    if demo:
        line = script.count(b"\n", 0, demo.start()) + 1
        signs.append(f"writes the Local Script's latency=Demo value (line {line})")
    lowered = script_name.casefold()

    if facts.is_offboarding:
        kind = PackageKind.OFFBOARDING
        if "onboarding" in lowered and "offboarding" not in lowered:
            notes.append(f"the file name {script_name!r} says onboarding, but the script writes the "
                         "offboarding value; mdegen goes by the content")
        m = _VALID_UNTIL_RE.search(script_name)
        if m and facts.expiration is not None:
            named = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
            if named != facts.expiration.date().isoformat():
                notes.append(f"the file name says valid until {named}, but the blob's expirationTimestamp is "
                             f"{_fmt_dt(facts.expiration)}; the blob is authoritative")
    else:
        if "offboarding" in lowered:
            notes.append(f"the file name {script_name!r} says offboarding, but the script writes "
                         f"{ONBOARDING_VALUE}; mdegen goes by the content")
        if "localonboarding" in lowered:
            signs.append(f"named like the Local Script ({LOCAL_SCRIPT_NAME})")
        kind = PackageKind.LOCAL_ONBOARDING if signs else PackageKind.GP_ONBOARDING

    folder = str(PurePosixPath(script_path).parent).casefold()
    folder = "" if folder == "." else folder
    vdi_script: str | None = None
    for name, _ in files:
        p = PurePosixPath(name)
        if p.name.casefold() == VDI_SCRIPT_NAME.casefold():
            parent = str(p.parent).casefold()
            if (parent if parent != "." else "") == folder:
                vdi_script = name
            else:
                notes.append(f"{name!r} is not beside the script {script_path!r}; it would not find it")
    if vdi_script is not None:
        if kind is PackageKind.GP_ONBOARDING:
            kind = PackageKind.VDI
            if script_name.casefold() != GP_SCRIPT_NAME.casefold():
                notes.append(f"{VDI_SCRIPT_NAME} looks for {GP_SCRIPT_NAME}, but the script is named "
                             f"{script_name!r}")
        else:
            notes.append(f"{VDI_SCRIPT_NAME} is present, but the script is the {kind.label}, "
                         "so this is not a usable VDI package")

    prefix = OPTIONAL_PARAMS_DIR.casefold() + "/"
    if folder:
        prefix = folder + "/" + prefix
    optional = tuple(name for name, _ in files if name.casefold().startswith(prefix))

    if script.startswith(b"\xef\xbb\xbf"):
        notes.append("the script starts with a UTF-8 byte order mark, which cmd.exe reads as part of the first command")
    if _line_ends(script) == "lf":
        notes.append("the script has LF-only line ends (the portal ships CRLF; a repository may have converted "
                     "them); cmd.exe can mis-find labels in LF-only files, so prefer the file as downloaded")

    if sha256 is None:  # a folder: the script file's hash, which an admin can check with Get-FileHash
        sha256 = hashlib.sha256(script).hexdigest()
    return PortalPackage(
        source=source, kind=kind, script_name=script_name, script=script, files=tuple(files),
        facts=facts, interactive=interactive, is_zip=is_zip, sha256=sha256, script_path=script_path,
        is_folder=is_folder, optional_params_policy=optional, vdi_script=vdi_script,
        local_signs=tuple(signs), notes=tuple(notes))


def _interactive_reasons(script: bytes) -> list[str]:
    """Commands that wait for the keyboard: `pause`, `choice`, and `set /p` reading the console
    (not `set /p x=<file`). Comments, echo text and quoted strings are ignored."""
    reasons: list[str] = []
    for number, raw in enumerate(script.split(b"\n"), start=1):
        line = raw.rstrip(b"\r").decode("latin-1")
        line = re.sub(r'"[^"]*"?', '""', line)          # quoted text is data, not commands
        for segment in re.split(r"&&|\|\||[&|()]", line):
            words = segment.strip().lstrip("@").split()
            if not words:
                continue
            first = words[0].lower()
            if first.startswith(("echo", "rem", "::", ":", "goto", "title")):
                continue
            lowered = [w.lstrip("@").lower() for w in words]
            for i, word in enumerate(lowered):
                if word in ("pause", "pause.exe"):
                    reasons.append(f"`pause` (line {number})")
                    break
                if word in ("choice", "choice.exe"):
                    reasons.append(f"`choice` prompt (line {number})")
                    break
                if word == "set" and i + 1 < len(lowered) and lowered[i + 1] == "/p" and "<" not in segment:
                    reasons.append(f"consent prompt `set /p` (line {number})")
                    break
                if word == "set":          # `set x=pause` assigns text
                    break
    return reasons


def _line_ends(data: bytes) -> str:
    crlf = data.count(b"\r\n")
    lf = data.count(b"\n") - crlf
    if crlf and lf:
        return "crlf+lf"
    if crlf:
        return "crlf"
    if lf:
        return "lf"
    return "none"


# --- The blob -----------------------------------------------------------------------------------


def _read_blob(where: str, script: bytes) -> tuple[BlobFacts, list[str]]:
    blobs = _find_blobs(script)
    names = {name.upper() for name, _ in blobs}
    if len(names) > 1:
        raise PackageError(f"{where}: writes both the onboarding and the offboarding value; "
                           "a portal script writes one of them")
    if len(blobs) > 1:
        raise PackageError(f"{where}: writes the {blobs[0][0]} value {len(blobs)} times; "
                           "a portal script writes it once")
    value_name, raw = blobs[0]
    label = "offboarding value" if value_name.upper() == OFFBOARDING_VALUE else value_name
    try:
        text = _UNESCAPE_RE.sub(rb"\1", raw).decode("utf-8")
        envelope = json.loads(text)
    except UnicodeDecodeError:
        raise PackageError(f"{where}: the {label} data is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise PackageError(f"{where}: the {label} data is not valid JSON ({e.msg} at character {e.pos})") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("body"), str):
        raise PackageError(f"{where}: the {label} data is not a signed blob (no \"body\" text)")
    try:
        body = json.loads(envelope["body"])
    except json.JSONDecodeError as e:
        raise PackageError(f"{where}: the {label} blob's body is not valid JSON "
                           f"({e.msg} at character {e.pos})") from None
    if not isinstance(body, dict):
        raise PackageError(f"{where}: the {label} blob's body is not a JSON object")

    def text_field(key: str) -> str | None:
        v = body.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise PackageError(f"{where}: the {label} blob's {key!r} is not text")
        return str(v)

    def guid_list(key: str) -> tuple[str, ...]:
        v = body.get(key)
        if v is None:
            return ()
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise PackageError(f"{where}: the {label} blob's {key!r} is not a list of GUIDs")
        return tuple(v)

    org_id = body.get("orgId")
    if not isinstance(org_id, str) or not org_id:
        raise PackageError(f"{where}: the {label} blob has no orgId")
    if not _GUID_RE.match(org_id):
        raise PackageError(f"{where}: the {label} blob's orgId {org_id!r} is not a GUID")

    expiration = None
    if "expirationTimestamp" in body:
        ft = body["expirationTimestamp"]
        if isinstance(ft, str) and ft.isdigit():
            ft = int(ft)
        if isinstance(ft, bool) or not isinstance(ft, int):
            raise PackageError(f"{where}: the {label} blob's expirationTimestamp is not a Windows FILETIME number")
        expiration = filetime_to_datetime(ft)
        if expiration is None:
            raise PackageError(f"{where}: the {label} blob's expirationTimestamp {ft} is out of range")

    notes: list[str] = []
    not_before = not_after = cn = None
    cert_b64 = envelope.get("cert")
    if isinstance(cert_b64, str) and cert_b64:
        try:
            der = base64.b64decode(cert_b64, validate=True)
            not_before, not_after, cn = parse_certificate(der)
        except (binascii.Error, ValueError) as e:
            notes.append(f"the blob's signing certificate could not be read ({e})")
    else:
        notes.append("the blob has no signing certificate (\"cert\")")

    geo = text_field("geoLocationUrl")
    datacenter = text_field("datacenter")
    vortex = text_field("vortexGeoLocation")
    facts = BlobFacts(
        value_name=value_name, org_id=org_id,
        previous_org_ids=guid_list("previousOrgIds"), org_ids=guid_list("orgIds"),
        geo_location_url=geo, datacenter=datacenter, vortex_geo_location=vortex,
        version=text_field("version"), package_guid=text_field("packageGuid"),
        device_type=text_field("deviceType"), expiration=expiration,
        cert_not_before=not_before, cert_not_after=not_after, cert_subject_cn=cn,
        cloud=cloud_hint(geo, datacenter, vortex))
    return facts, notes


def filetime_to_datetime(ft: int) -> dt.datetime | None:
    """Windows FILETIME (100 ns ticks since 1601-01-01 UTC) to an aware UTC datetime; None if out of range."""
    if ft <= 0:
        return None
    try:
        return _FILETIME_EPOCH + dt.timedelta(microseconds=ft // 10)
    except OverflowError:
        return None


def datetime_to_filetime(when: dt.datetime) -> int:
    """The inverse of :func:`filetime_to_datetime` (naive datetimes are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    delta = when - _FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


_GCC_REGIONS = {"usmt", "usmv"}           # inferred from observed blobs (mde-domain.md §5)
_GCC_HIGH_REGIONS = {"usgt", "usgv"}


def cloud_hint(geo_location_url: str | None, datacenter: str | None = None,
               vortex_geo_location: str | None = None) -> str:
    """commercial | gcc | gcc-high | unknown, from the blob's geo fields. A hint, not a fact:
    the region tokens for government clouds are inferred from observed blobs."""
    region = None
    host = ""
    if geo_location_url:
        m = re.match(r"^[a-z]+://([^/:]+)", geo_location_url.strip(), re.IGNORECASE)
        host = m.group(1).lower() if m else ""
        r = re.match(r"^winatp-gw-([a-z0-9]+)\.", host)
        region = r.group(1) if r else None
    dc = (datacenter or "").lower()
    vortex = (vortex_geo_location or "").upper()
    if region in _GCC_HIGH_REGIONS or host.endswith(".microsoft.us") or vortex.startswith("FFL") \
            or dc.startswith("usgov"):
        return "gcc-high"
    if region in _GCC_REGIONS:
        return "gcc"
    if region and host.endswith(".microsoft.com"):
        return "commercial"
    return "unknown"


# --- A minimal DER walker for X.509 certificates ------------------------------------------------


def _der_next(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """The TLV at ``pos``: (tag, content_start, content_end). ValueError if malformed."""
    if pos + 2 > end:
        raise ValueError("truncated DER")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte DER tags are not expected in a certificate header")
    first = buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise ValueError("indefinite length is not DER")
    else:
        n = first & 0x7F
        if n > 4 or pos + n > end:
            raise ValueError("bad DER length")
        length = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    if pos + length > end:
        raise ValueError("DER element runs past its container")
    return tag, pos, pos + length


def _der_expect(buf: bytes, pos: int, end: int, tag: int, what: str) -> tuple[int, int]:
    t, s, e = _der_next(buf, pos, end)
    if t != tag:
        raise ValueError(f"expected {what} (tag 0x{tag:02x}), found tag 0x{t:02x}")
    return s, e


def _der_time(buf: bytes, pos: int, end: int) -> tuple[dt.datetime, int]:
    tag, s, e = _der_next(buf, pos, end)
    text = buf[s:e].decode("ascii", errors="replace")
    if tag == 0x17:     # UTCTime YYMMDDHHMM[SS]Z
        m = re.fullmatch(r"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z", text)
        if not m:
            raise ValueError(f"bad UTCTime {text!r}")
        yy = int(m.group(1))
        year = 1900 + yy if yy >= 50 else 2000 + yy
        parts = [year] + [int(g) for g in m.groups()[1:5]] + [int(m.group(6) or 0)]
    elif tag == 0x18:   # GeneralizedTime YYYYMMDDHHMMSS[.f]Z
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z", text)
        if not m:
            raise ValueError(f"bad GeneralizedTime {text!r}")
        parts = [int(g) for g in m.groups()]
    else:
        raise ValueError(f"expected a time (tag 0x17 or 0x18), found tag 0x{tag:02x}")
    try:
        return dt.datetime(*parts, tzinfo=dt.timezone.utc), e
    except ValueError:
        raise ValueError(f"impossible date {text!r}") from None


_OID_CN = bytes([0x55, 0x04, 0x03])
_STRING_DECODERS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be"}


def _der_cn(buf: bytes, start: int, end: int) -> str | None:
    pos = start
    while pos < end:
        s_set, e_set = _der_expect(buf, pos, end, 0x31, "RelativeDistinguishedName SET")
        inner = s_set
        while inner < e_set:
            s_atv, e_atv = _der_expect(buf, inner, e_set, 0x30, "AttributeTypeAndValue")
            s_oid, e_oid = _der_expect(buf, s_atv, e_atv, 0x06, "attribute OID")
            if buf[s_oid:e_oid] == _OID_CN:
                tag, s_v, e_v = _der_next(buf, e_oid, e_atv)
                codec = _STRING_DECODERS.get(tag, "latin-1")
                return buf[s_v:e_v].decode(codec, errors="replace")
            inner = e_atv
        pos = e_set
    return None


def parse_certificate(der: bytes) -> tuple[dt.datetime, dt.datetime, str | None]:
    """(notBefore, notAfter, subject CN) of a DER X.509 certificate. ValueError if malformed.

    Walks Certificate -> tbsCertificate -> [0] version?, serialNumber, signature, issuer,
    validity, subject; nothing else is decoded and nothing is verified.
    """
    s_cert, e_cert = _der_expect(der, 0, len(der), 0x30, "Certificate SEQUENCE")
    s_tbs, e_tbs = _der_expect(der, s_cert, e_cert, 0x30, "tbsCertificate SEQUENCE")
    pos = s_tbs
    tag, _s, e = _der_next(der, pos, e_tbs)
    if tag == 0xA0:     # [0] EXPLICIT version
        pos = e
    _s, pos = _der_expect(der, pos, e_tbs, 0x02, "serialNumber INTEGER")
    _s, pos = _der_expect(der, pos, e_tbs, 0x30, "signature AlgorithmIdentifier")
    _s, pos = _der_expect(der, pos, e_tbs, 0x30, "issuer Name")
    s_val, e_val = _der_expect(der, pos, e_tbs, 0x30, "validity SEQUENCE")
    pos = e_val
    not_before, p = _der_time(der, s_val, e_val)
    not_after, _p = _der_time(der, p, e_val)
    cn = None
    if pos < e_tbs:
        s_sub, e_sub = _der_expect(der, pos, e_tbs, 0x30, "subject Name")
        cn = _der_cn(der, s_sub, e_sub)
    return not_before, not_after, cn


# --- Use checks ---------------------------------------------------------------------------------


def _portal_advice(pkg: PortalPackage) -> str:
    page = PORTAL_OFFBOARDING_PATH if pkg.kind is PackageKind.OFFBOARDING else PORTAL_ONBOARDING_PATH
    return (f"Download the package again from the Microsoft Defender portal: {page}, choose the "
            f"operating system and the deployment method \"{PORTAL_GP_METHOD}\" (or "
            f"\"{PORTAL_SCCM_METHOD}\" for SCCM)")


def check_unattended(pkg: PortalPackage, purpose: str) -> None:
    """Raise PackageError if ``pkg`` cannot run unattended (hidden, as SYSTEM) for ``purpose``
    (e.g. "the GPO startup task"): the Local Script, or any script that waits for input."""
    if pkg.kind is not PackageKind.LOCAL_ONBOARDING and not pkg.interactive:
        return
    why = "; ".join(pkg.local_signs) or "Local Script variant"
    what = ("the interactive Local Script" if pkg.kind is PackageKind.LOCAL_ONBOARDING
            else f"an interactive {pkg.kind.label}")
    raise PackageError(
        f"{pkg.source}: {pkg.script_name} is {what} ({why}). It is made for one machine at a "
        f"time and would hang or misbehave when {purpose} runs it hidden. {_portal_advice(pkg)}")


def _in(delta: dt.timedelta) -> str:
    """'in 5 hours', 'in 1 day', 'in 3 days' (rounded down; 'in less than an hour')."""
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return "in less than an hour"
    if hours < 24:
        return f"in {hours} hour{'s' if hours != 1 else ''}"
    days = hours // 24
    return f"in {days} day{'s' if days != 1 else ''}"


def _utc(now: dt.datetime) -> dt.datetime:
    if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be an aware datetime, not {now!r}")
    return now.astimezone(dt.timezone.utc)


def check_offboarding_expiry(pkg: PortalPackage, now: dt.datetime, warn_days: int) -> list[str]:
    """Raise PackageError if the offboarding package expired before ``now`` (an aware datetime: the
    blob's expiry is an instant, compared in UTC, not a local date); return warnings (one when it
    expires within ``warn_days`` days, or has no expiry in its blob)."""
    if pkg.kind is not PackageKind.OFFBOARDING:
        raise PackageError(f"{pkg.source}: is a {pkg.kind.label}, not an offboarding package "
                           f"({OFFBOARDING_SCRIPT_PATTERN})")
    exp = pkg.facts.expiration
    if exp is None:
        return [f"{pkg.source}: the offboarding blob has no expirationTimestamp, so mdegen cannot tell "
                "when the portal stops accepting it"]
    left = exp - _utc(now)
    if left <= dt.timedelta(0):
        raise PackageError(
            f"{pkg.source}: the offboarding package EXPIRED on {_fmt_dt(exp)}; devices reject an expired "
            "offboarding blob. "
            f"Download a new one from the Microsoft Defender portal: {PORTAL_OFFBOARDING_PATH} "
            "(it is valid for a few days only, so download it shortly before you build)")
    if left <= dt.timedelta(days=warn_days):
        return [f"{pkg.source}: the offboarding package expires {_in(left)}, at {_fmt_dt(exp)}; deploy it "
                "before then or download a new one"]
    return []


def check_same_org(onboarding: PortalPackage, offboarding: PortalPackage) -> None:
    """Raise PackageError if the two packages belong to different Defender organisations."""
    a, b = onboarding.facts.org_id, offboarding.facts.org_id
    if uuid.UUID(a) != uuid.UUID(b):
        raise PackageError(
            f"the packages belong to different Defender organisations: {onboarding.source} has org id "
            f"{a}, {offboarding.source} has org id {b}. Download both from the same tenant's portal")


# --- Reporting ----------------------------------------------------------------------------------


def _fmt_dt(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(when: dt.datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def facts_as_dict(pkg: PortalPackage) -> dict[str, Any]:
    """Everything ``mdegen inspect --json`` reports, JSON-safe (datetimes as ISO 8601 UTC)."""
    f = pkg.facts
    return {
        "source": str(pkg.source),
        "sha256": pkg.sha256,
        "container": "zip" if pkg.is_zip else ("folder" if pkg.is_folder else "file"),
        "kind": pkg.kind.value,
        "kind_label": pkg.kind.label,
        "script_name": pkg.script_name,
        "script_path": pkg.script_path,
        "script_size": len(pkg.script),
        "line_ends": _line_ends(pkg.script),
        "interactive": pkg.interactive,
        "local_signs": list(pkg.local_signs),
        "unattended_ok": pkg.kind is not PackageKind.LOCAL_ONBOARDING and not pkg.interactive,
        "vdi_script": pkg.vdi_script,
        "optional_params_policy": list(pkg.optional_params_policy),
        "files": [{"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                  for name, data in pkg.files],
        "blob": {
            "value_name": f.value_name,
            "org_id": f.org_id,
            "previous_org_ids": list(f.previous_org_ids),
            "org_ids": list(f.org_ids),
            "geo_location_url": f.geo_location_url,
            "datacenter": f.datacenter,
            "vortex_geo_location": f.vortex_geo_location,
            "cloud": f.cloud,
            "is_government": f.is_government,
            "version": f.version,
            "package_guid": f.package_guid,
            "device_type": f.device_type,
            "expiration": _iso(f.expiration),
            "cert_not_before": _iso(f.cert_not_before),
            "cert_not_after": _iso(f.cert_not_after),
            "cert_subject_cn": f.cert_subject_cn,
        },
        "notes": list(pkg.notes),
    }


def format_facts(pkg: PortalPackage, now: dt.datetime) -> str:
    """A readable, aligned table of the package's facts for ``mdegen inspect PACKAGE``."""
    f = pkg.facts
    rows: list[tuple[str, str]] = []
    container = "zip" if pkg.is_zip else ("folder" if pkg.is_folder else "script file")
    rows.append(("Package", f"{pkg.source} ({container})"))
    rows.append(("SHA-256", pkg.sha256))
    rows.append(("Kind", pkg.kind.label))
    rows.append(("Script", f"{pkg.script_path} ({len(pkg.script)} bytes, line ends {_line_ends(pkg.script)})"))
    if pkg.kind is PackageKind.LOCAL_ONBOARDING or pkg.interactive:
        why = "; ".join(pkg.local_signs) or "Local Script variant"
        label = "interactive Local script" if pkg.kind is PackageKind.LOCAL_ONBOARDING else "interactive script"
        rows.append(("Unattended", f"NO - {label}: not usable for GPO/SCCM ({why})"))
    else:
        rows.append(("Unattended", "yes (no prompt or pause)"))
    rows.append(("Org id", f.org_id))
    if f.previous_org_ids:
        rows.append(("Previous orgs", ", ".join(f.previous_org_ids)))
    if f.org_ids and list(f.org_ids) != [f.org_id]:
        rows.append(("Org ids", ", ".join(f.org_ids)))
    if not f.is_offboarding:
        rows.append(("Datacenter", f.datacenter or "-"))
        rows.append(("Geo URL", f.geo_location_url or "-"))
        rows.append(("Vortex geo", f.vortex_geo_location or "-"))
        gov = " (government cloud, inferred)" if f.is_government else ""
        rows.append(("Cloud", f"{f.cloud}{gov}"))
    rows.append(("Blob version", f.version or "-"))
    if f.package_guid:
        rows.append(("Package GUID", f.package_guid))
    if f.device_type:
        rows.append(("Device type", f.device_type))
    if f.is_offboarding:
        if f.expiration is None:
            rows.append(("Expires", "unknown (no expirationTimestamp)"))
        else:
            left = f.expiration - _utc(now)
            if left <= dt.timedelta(0):
                rows.append(("Expires", f"EXPIRED on {f.expiration.date().isoformat()} ({_fmt_dt(f.expiration)})"))
            else:
                rows.append(("Expires", f"{_fmt_dt(f.expiration)} ({_in(left)})"))
    if f.cert_not_after is not None:
        cn = f"CN={f.cert_subject_cn}, " if f.cert_subject_cn else ""
        past = " (past)" if f.cert_not_after < _utc(now) else ""
        rows.append(("Signing cert", f"{cn}valid {f.cert_not_before.date().isoformat() if f.cert_not_before else '?'}"
                     f" to {f.cert_not_after.date().isoformat()}{past}"))
    if pkg.vdi_script:
        rows.append(("VDI script", pkg.vdi_script))
    if pkg.optional_params_policy:
        rows.append(("Optional ADMX", ", ".join(pkg.optional_params_policy)))
    rows.append(("Files", f"{len(pkg.files)}"))
    for name, data in pkg.files:
        rows.append(("", f"{name} ({len(data)} bytes)"))
    for note in pkg.notes:
        rows.append(("Note", note))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}".rstrip() for k, v in rows) + "\n"
