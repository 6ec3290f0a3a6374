"""Write and read ConfigMgr Package Definition Files (``.sms``), the input of the console's
*Create Package from Definition* wizard and of ``New-CMPackage -FromDefinition``.

The API mirrors :mod:`plistlib`: :func:`dumps`/:func:`dump` turn a :class:`CmPackage` into bytes,
:func:`loads`/:func:`load` read any small INI file into ordered sections of ordered keys, and every
problem is a :class:`PdfError`. :func:`sections` is the validated dict that :func:`dumps` writes,
so ``loads(dumps(p)) == sections(p)``.

What is written (shared/reference/formats.md §7, sccm.md §2)::

    [PDF]
    Version=2.0

    [Package Definition]
    Name=...                  Version=...   Publisher=...   Language=...   Comment=...
    Programs=<section>[,<section>...]

    [<section>]               one per program, named exactly as listed in Programs=
    Name=...  CommandLine=...  Comment=...
    Run=Hidden  EstimatedDiskSpace=<n>MB  EstimatedRunTime=<minutes>
    SupportedClients=<platform>[,<platform>...]        only when ranges are given
    <platform> MinVersion<n>=...  <platform> MaxVersion<n>=...   n counts from 1 per platform
    CanRunWhen=AnyUserStatus  UserInputRequired=False  AdminRightsRequired=True
    UseInstallAccount=False  DriveLetterConnection=False  Assignment=FirstUser  Disabled=False

(one key a line, in that order; a blank line between sections). Fixed program settings, and why:

* ``Run=Hidden``: the onboarding script runs as SYSTEM and nobody is meant to see or answer it.
* ``CanRunWhen=AnyUserStatus``: servers usually have nobody logged on; the default (UserLoggedOn)
  would leave them waiting. With it the console forces ``UserInputRequired=False`` and
  ``AdminRightsRequired=True``, which are written out anyway so the file says what it does (the
  portal script also exits 65 without admin rights).
* ``UseInstallAccount=False``: run as the local System account; the script needs local admin
  rights only, nothing on the network beyond the package content the client fetches.
* ``DriveLetterConnection=False``: UNC access; the wrapper finds its files through ``%~dp0``.
* ``Assignment=FirstUser``: "run once for the computer", the only value valid with AnyUserStatus.
* ``Disabled=False``; ``AfterRunning`` is **absent** (= no action): onboarding needs no restart and
  the documented values (SMSRestart, ProgramRestart, SMSLogoff) all mean one.
* ``SupportedClients`` is absent when the program has no ranges (= no platform check); an empty
  ``SupportedClients=`` could be read as "no platform".
* ``Programs=`` is joined with a bare ``,`` as in the public samples, so a reader that does not
  trim spaces still finds the sections. No ``Icon``, ``StartIn``, ``ContainsNoFiles``,
  ``DependentProgram`` or MIF keys are written.

Encoding: ASCII, CRLF, no BOM (formats.md §7). The current doc allows "ASCII or UTF-8" but the
SMS-era doc said ASCII (read as the ANSI code page), and no reader can mistake plain ASCII; a
non-ASCII character is refused with an error naming the field, never transliterated.

Every value is checked, and refused with an error naming the package, section, field and the
problem (mdegen never cuts or rewrites a value silently):

* the console's lengths: package Name 50, Version 32, Publisher 32, Language 32, Comment 127;
  program Name 50, CommandLine 127, StartIn 127, Comment 127 (see :data:`PACKAGE_LIMITS`,
  :data:`PROGRAM_LIMITS`); Name and Publisher of the package and Name and CommandLine of a
  program must not be empty;
* what INI cannot carry: control characters (CR, LF, NUL, TAB ...), leading or trailing spaces
  (readers strip them), a value that starts with ``;`` (some readers take it for a comment), and a
  value wholly enclosed in one pair of ``"`` or ``'`` (GetPrivateProfileString drops that pair);
* ``%`` in CommandLine: the client expands ``%NAME%`` environment variables there (the public
  samples rely on ``%Public%``), so a literal percent sign cannot be carried. Elsewhere ``%`` and
  ``&``, ``'``, ``"``, ``$`` are plain text to INI and to ConfigMgr and are written as given.
  (CommandLine is otherwise passed to the client verbatim: when it runs a .cmd, cmd.exe operators
  such as ``&`` or ``>`` act, which is the caller's business, as in the samples' ``> log``.)
* section names: not empty, no ``[``, ``]`` or ``,``, no surrounding spaces, unique ignoring case,
  and not ``PDF``, ``Package Definition`` or ``DEFAULT`` (configparser's special section);
  program Names unique ignoring case;
* SupportedClients: platforms like ``Win NT (x64)`` (letters, digits, space, ``()._-``; no ``,``,
  ``=``, ``:``, brackets), versions of four dot-separated numbers, min <= max;
  EstimatedRunTime an int >= 1 (minutes), EstimatedDiskSpace an int >= 0 (MB).

:func:`loads` is a strict small INI reader: UTF-8 (so ASCII) without BOM, CRLF or LF line ends,
``[section]`` lines, ``key=value`` lines (spaces around key and value are trimmed, as Windows
does), blank lines and ``;`` comment lines; anything else, a key outside a section, and a section or
a key repeated (ignoring case, as Windows compares them) is a :class:`PdfError` naming the line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import IO

from generator.records import CmPackage, CmProgram
from generator.errors import MdegenError
from generator.escaping import refuse_control

__all__ = [
    "PdfError", "dumps", "dump", "loads", "load", "sections",
    "PACKAGE_LIMITS", "PROGRAM_LIMITS", "PDF_VERSION", "PACKAGE_SECTION", "PDF_SECTION",
]

PDF_SECTION = "PDF"
PACKAGE_SECTION = "Package Definition"
PDF_VERSION = "2.0"

# Lengths the ConfigMgr console accepts (package-definition-files.md).
PACKAGE_LIMITS = {"Name": 50, "Version": 32, "Publisher": 32, "Language": 32, "Comment": 127}
PROGRAM_LIMITS = {"Name": 50, "CommandLine": 127, "StartIn": 127, "Comment": 127}

_PACKAGE_REQUIRED = frozenset({"Name", "Publisher"})
_PROGRAM_REQUIRED = frozenset({"Name", "CommandLine"})
_EXPANDED = frozenset({"CommandLine", "StartIn"})       # the client expands %NAME% in these

# The fixed program settings (see the module docstring for why each).
_PROGRAM_FIXED_HEAD = (("Run", "Hidden"),)
_PROGRAM_FIXED_TAIL = (
    ("CanRunWhen", "AnyUserStatus"),
    ("UserInputRequired", "False"),
    ("AdminRightsRequired", "True"),
    ("UseInstallAccount", "False"),
    ("DriveLetterConnection", "False"),
    ("Assignment", "FirstUser"),
    ("Disabled", "False"),
)

_RESERVED_SECTIONS = {s.casefold() for s in (PDF_SECTION, PACKAGE_SECTION, "DEFAULT")}
_PLATFORM = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ()._-]*\Z")
_VERSION = re.compile(r"[0-9]{1,5}(?:\.[0-9]{1,5}){3}\Z")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


class PdfError(MdegenError, ValueError):
    """A package cannot be written as a Package Definition File, or a file cannot be read as INI.

    ``field`` (e.g. ``"CommandLine"``), ``section`` (e.g. ``"Onboard"``) and ``line`` (reader, 1-based)
    are set when known.
    """

    def __init__(self, message: str, *, field: str | None = None, section: str | None = None,
                 line: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.section = section
        self.line = line


# --- writer -------------------------------------------------------------------------------------


class _Checker:
    """Validates values of one package, naming it in every message."""

    def __init__(self, package_name: object) -> None:
        self.prefix = f"package {package_name!r}"

    def fail(self, section: str, field: str, problem: str, label: str | None = None) -> PdfError:
        return PdfError(f"{self.prefix}: [{section}] {label or field} {problem}", field=field, section=section)

    def text(self, section: str, field: str, value: object, *, limit: int | None = None,
             required: bool = False, label: str | None = None) -> str:
        def fail(problem: str) -> PdfError:
            return self.fail(section, field, problem, label)

        if not isinstance(value, str):
            raise fail(f"must be text, not {type(value).__name__}")
        try:
            refuse_control(value, "an INI value", allow_tab=False)
        except ValueError as exc:
            raise fail(str(exc)) from None
        for i, ch in enumerate(value):
            if ord(ch) > 0x7F:
                raise fail((
                    f"contains {ch!r} (U+{ord(ch):04X}) at character {i + 1}, which is not ASCII; the "
                    ".sms file is written as ASCII (older ConfigMgr readers take it as the ANSI code "
                    "page), so use plain ASCII text"))
        if required and not value:
            raise fail("is empty; the console requires a value")
        if limit is not None and len(value) > limit:
            raise fail((
                f"is {len(value)} characters long; the ConfigMgr console allows at most {limit} "
                "(mdegen never shortens a value: make it shorter)"))
        if value != value.strip(" "):
            raise fail("starts or ends with a space, which INI readers strip")
        if value.startswith(";"):
            raise fail("starts with ';', which some INI readers take for a comment")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            raise fail((
                f"is wholly enclosed in {value[0]} quotes, which the Windows INI reader "
                "(GetPrivateProfileString) removes"))
        if field in _EXPANDED and "%" in value:
            raise fail((
                f"contains '%' at character {value.index('%') + 1}; the ConfigMgr client expands "
                "%NAME% environment variables in a program's command line, so a literal percent "
                "sign cannot be carried"))
        return value

    def section_name(self, name: object, seen: dict[str, str]) -> str:
        where = PACKAGE_SECTION
        field = "Programs"
        if not isinstance(name, str):
            raise self.fail(where, field, f"lists a section name that is not text ({type(name).__name__})")
        self.text(where, field, name, required=True, label=f"section name {name!r}")
        for ch in "[],":
            if ch in name:
                raise self.fail(where, field, (
                    f"section name {name!r} contains {ch!r}, which "
                    + ("Programs= uses to separate sections" if ch == "," else "cannot appear in an INI section name")))
        key = name.casefold()
        if key in _RESERVED_SECTIONS:
            raise self.fail(where, field, f"section name {name!r} is reserved (PDF, Package Definition, DEFAULT)")
        if key in seen:
            raise self.fail(where, field, f"section name {name!r} repeats {seen[key]!r} (INI ignores case)")
        seen[key] = name
        return name

    def count(self, section: str, field: str, value: object, minimum: int) -> int:
        if type(value) is not int or value < minimum:
            raise self.fail(section, field, f"must be a whole number >= {minimum}, not {value!r}")
        return value

    def platforms(self, section: str, ranges: object) -> list[tuple[str, str]]:
        """SupportedClients and the numbered MinVersion/MaxVersion keys, in order."""
        field = "SupportedClients"
        if not isinstance(ranges, (tuple, list)):
            raise self.fail(section, field, f"must be a tuple of (platform, min, max), not {type(ranges).__name__}")
        by_platform: dict[str, list[tuple[str, str]]] = {}
        spelled: dict[str, str] = {}
        for entry in ranges:
            if not (isinstance(entry, (tuple, list)) and len(entry) == 3 and all(isinstance(x, str) for x in entry)):
                raise self.fail(section, field, f"entry {entry!r} is not (platform, min version, max version)")
            platform, low, high = entry
            if not _PLATFORM.match(platform) or platform != platform.strip():
                raise self.fail(section, field, (
                    f"platform {platform!r} is not a platform name such as 'Win NT (x64)' (letters, "
                    "digits, spaces and ()._- only; it becomes part of a key name)"))
            if platform.casefold() in spelled and spelled[platform.casefold()] != platform:
                raise self.fail(section, field, f"platform {platform!r} differs from {spelled[platform.casefold()]!r} only in case")
            spelled[platform.casefold()] = platform
            for label, version in (("minimum", low), ("maximum", high)):
                if not _VERSION.match(version):
                    raise self.fail(section, field, (
                        f"{label} version {version!r} for {platform!r} is not four dot-separated numbers "
                        "such as 10.00.17763.0000"))
            if tuple(map(int, low.split("."))) > tuple(map(int, high.split("."))):
                raise self.fail(section, field, f"range {low}..{high} for {platform!r} has its minimum above its maximum")
            by_platform.setdefault(platform, []).append((low, high))
        if not by_platform:
            return []
        out = [(field, ",".join(by_platform))]
        for platform, pairs in by_platform.items():
            for n, (low, high) in enumerate(pairs, start=1):
                out.append((f"{platform} MinVersion{n}", low))
                out.append((f"{platform} MaxVersion{n}", high))
        return out


def sections(package: CmPackage, programs: Sequence[CmProgram] | None = None) -> dict[str, dict[str, str]]:
    """The validated content of the definition file, as ``loads`` would read it back.

    ``programs`` replaces ``(package.program,)`` when given (one section per program, in order).
    Raises :class:`PdfError` naming the package, section and field of the first bad value.
    """
    check = _Checker(getattr(package, "name", package))
    progs = (package.program,) if programs is None else tuple(programs)
    if not progs:
        raise check.fail(PACKAGE_SECTION, "Programs", "is empty; a package definition needs at least one program")

    pkg: dict[str, str] = {}
    for field, value in (("Name", package.name), ("Version", package.version), ("Publisher", package.publisher),
                         ("Language", package.language), ("Comment", package.comment)):
        pkg[field] = check.text(PACKAGE_SECTION, field, value, limit=PACKAGE_LIMITS[field],
                                required=field in _PACKAGE_REQUIRED)

    seen_sections: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    program_sections: dict[str, dict[str, str]] = {}
    for prog in progs:
        if not isinstance(prog, CmProgram):
            raise check.fail(PACKAGE_SECTION, "Programs", f"holds {type(prog).__name__}, not a CmProgram")
        sec = check.section_name(prog.section, seen_sections)
        body: dict[str, str] = {}
        body["Name"] = check.text(sec, "Name", prog.name, limit=PROGRAM_LIMITS["Name"], required=True)
        if prog.name.casefold() in seen_names:
            raise check.fail(sec, "Name", f"{prog.name!r} is also the name of program [{seen_names[prog.name.casefold()]}]; names must be unique in a package")
        seen_names[prog.name.casefold()] = sec
        body["CommandLine"] = check.text(sec, "CommandLine", prog.command_line,
                                         limit=PROGRAM_LIMITS["CommandLine"], required=True)
        body["Comment"] = check.text(sec, "Comment", prog.comment, limit=PROGRAM_LIMITS["Comment"])
        body.update(_PROGRAM_FIXED_HEAD)
        body["EstimatedDiskSpace"] = f"{check.count(sec, 'EstimatedDiskSpace', prog.estimated_disk_mb, 0)}MB"
        body["EstimatedRunTime"] = str(check.count(sec, "EstimatedRunTime", prog.estimated_run_minutes, 1))
        body.update(check.platforms(sec, prog.supported_clients))
        body.update(_PROGRAM_FIXED_TAIL)
        program_sections[sec] = body

    pkg["Programs"] = ",".join(program_sections)
    return {PDF_SECTION: {"Version": PDF_VERSION}, PACKAGE_SECTION: pkg, **program_sections}


def _serialize(content: dict[str, dict[str, str]]) -> bytes:
    blocks = []
    for name, keys in content.items():
        lines = [f"[{name}]"] + [f"{k}={v}" for k, v in keys.items()]
        blocks.append("\r\n".join(lines) + "\r\n")
    text = "\r\n".join(blocks)
    # Last line of defence; sections() has already refused all of these with a better message.
    if any(c in text.replace("\r\n", "") for c in "\r\n\x00"):
        raise PdfError("internal error: a line break or NUL reached the .sms writer")
    return text.encode("ascii")


def dumps(package: CmPackage, programs: Sequence[CmProgram] | None = None) -> bytes:
    """The Package Definition File for ``package`` (ASCII, CRLF, no BOM); same input, same bytes.

    ``programs``, when given, replaces ``(package.program,)``: one section per program, listed in
    ``Programs=`` in the given order.
    """
    return _serialize(sections(package, programs))


def dump(package: CmPackage, fp: IO[bytes], programs: Sequence[CmProgram] | None = None) -> None:
    """Write :func:`dumps` output to the binary file object ``fp``."""
    fp.write(dumps(package, programs))


# --- reader -------------------------------------------------------------------------------------


def loads(data: bytes) -> dict[str, dict[str, str]]:
    """Read an INI file into ``{section: {key: value}}``, both in file order. See the module doc."""
    if isinstance(data, str) or not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"loads() takes bytes, not {type(data).__name__}")
    data = bytes(data)
    for bom in _BOMS:
        if data.startswith(bom):
            raise PdfError("line 1: the file starts with a byte-order mark; a .sms file has none", line=1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise PdfError(f"line {line}: byte 0x{data[exc.start]:02X} is not valid UTF-8/ASCII text", line=line) from None

    out: dict[str, dict[str, str]] = {}
    section_lines: dict[str, tuple[str, int]] = {}     # casefolded name -> (name, line)
    key_lines: dict[str, tuple[str, int]] = {}
    current: dict[str, str] | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        for bad, what in (("\r", "a carriage return without a line feed"), ("\x00", "a NUL character")):
            if bad in line:
                raise PdfError(f"line {number}: contains {what}", line=number)
        stripped = line.strip(" \t")
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                raise PdfError(f"line {number}: a section header must end with ']': {stripped!r}", line=number)
            name = stripped[1:-1].strip(" \t")
            if not name or "[" in name or "]" in name:
                raise PdfError(f"line {number}: {stripped!r} is not a valid section header", line=number)
            if name.casefold() in section_lines:
                first, at = section_lines[name.casefold()]
                raise PdfError(f"line {number}: section [{name}] repeats [{first}] from line {at}", line=number)
            section_lines[name.casefold()] = (name, number)
            current = out[name] = {}
            key_lines = {}
            continue
        if "=" not in stripped:
            raise PdfError(f"line {number}: expected 'key=value', '[section]' or a '; comment', got {stripped!r}",
                           line=number)
        key, value = (part.strip(" \t") for part in stripped.split("=", 1))
        if not key:
            raise PdfError(f"line {number}: a key is missing before '='", line=number)
        if current is None:
            raise PdfError(f"line {number}: key {key!r} comes before any [section]", line=number)
        if key.casefold() in key_lines:
            first, at = key_lines[key.casefold()]
            raise PdfError(f"line {number}: key {key!r} repeats {first!r} from line {at} in the same section",
                           line=number)
        key_lines[key.casefold()] = (key, number)
        current[key] = value
    return out


def load(fp: IO[bytes]) -> dict[str, dict[str, str]]:
    """:func:`loads` on the content of the binary file object ``fp``."""
    return loads(fp.read())
