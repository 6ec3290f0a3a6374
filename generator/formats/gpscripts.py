"""Group Policy startup/shutdown scripts: ``scripts.ini`` / ``psscripts.ini`` and the local
Group Policy object's ``gpt.ini`` ([MS-GPSCR] §2.2.2/§2.2.3, [MS-GPOL] §2.2.4/§3.3.5.4,
shared/reference/formats.md §5, §6, §8).

The API mirrors :mod:`plistlib`: :func:`loads` turns scripts.ini/psscripts.ini bytes into a
:class:`ScriptsIni`, :func:`dumps` turns one back into bytes; :func:`loads_gpt`/:func:`dumps_gpt`
do the same for gpt.ini and :class:`GptIni`.  :func:`add_startup_script` and
:func:`add_machine_extension` are the two merges the VDI install script performs on a golden
image (``%SystemRoot%\\System32\\GroupPolicy\\Machine\\Scripts\\psscripts.ini`` and
``%SystemRoot%\\System32\\GroupPolicy\\gpt.ini``).  Every problem is a :class:`GpScriptsError`;
reader errors start with ``line <n>:`` (1-based, the line after the byte-order mark is line 1).

scripts.ini / psscripts.ini as written (GPMC's form)::

    FF FE                                  byte-order mark, then UTF-16LE text
    (empty line)                           GPMC starts with CR LF: bytes FF FE 0D 00 0A 00 5B 00
    [ScriptsConfig]                        only when it has keys (psscripts.ini)
    StartExecutePSFirst=true               keys and values as given, in order
    [Startup]                              only when it has entries
    0CmdLine=Onboard-NonPersistentMachine.ps1
    0Parameters=                           always written, empty when there are none
    1CmdLine=...                           numbered 0, 1, 2, ... in order
    [Shutdown]                             only when it has entries
    [<other>]                              every other section, in the order read, verbatim

Every line ends with CR LF, the last one included: formats.md's example ends with one, and so does
the scripts.ini/psscripts.ini GPMC on Windows Server 2025 wrote in a capture a public project
publishes with its tests.  The leading empty line is kept because Samba's ``gpo_ini.c`` only takes a
file for UTF-16 when it starts ``FF FE 0D``.  [ScriptsConfig] comes first because that same GPMC
capture put it before [Startup]; Windows looks sections up by name, so the order carries no meaning.
An empty document is the mark and the empty line alone.

The reader takes what Windows takes: UTF-16LE with the mark (with or without the leading empty
line), UTF-8 with its mark, or ANSI without a mark, read as Windows-1252 with the five bytes 1252
leaves undefined mapped to U+0081.. so every byte stands for one character (a UTF-16BE mark is
refused).  CR LF or LF line ends; blank lines and ``;`` comment lines skipped (comments are not
kept: GPMC never writes any); spaces and tabs around section names, keys and values dropped, as
the Windows INI functions do; section and key names compared case-insensitively.  [Startup] and
[Shutdown] hold ``<n>CmdLine`` / ``<n>Parameters`` keys, n a decimal integer below 2**31
([MS-GPSCR] §2.2.2), in any order and with gaps: entries are kept in numeric order, which is the
order Windows runs them in ([MS-GPSCR] §3.2.5: lower numbers run first), and a CmdLine without
Parameters has empty parameters.  Refused, naming the line: a key before any section, a line that
is neither ``key=value`` nor ``[section]``, a section or a key repeated (``0CmdLine`` and
``00CmdLine`` are the same key), in [Startup]/[Shutdown] a key that is no ``<n>CmdLine`` or
``<n>Parameters``, a number that is not a decimal integer or is 2**31 or more, a Parameters key
without its CmdLine, a lone CR, a NUL, and bytes the encoding cannot decode.

ANSI is Windows-1252 here because this codec only ever sees files mdegen writes or test fixtures.
Windows itself reads an ANSI scripts.ini / psscripts.ini in the machine's ANSI code page, so the
VDI install script, which reads the image's existing files, decodes a scripts.ini / psscripts.ini
without a mark in the image's ANSI code page (``[System.Text.Encoding]::Default`` in Windows
PowerShell 5.1; cp1251 on a Cyrillic image), and writes it back as UTF-16LE like this codec.  That
is the one intended difference between the two; gpt.ini is read and written as Windows-1252 by
both, which keeps its bytes as they are.

The writer refuses, naming the section and entry or key: a value holding CR, LF or NUL or starting
or ending with a space or tab (the reader - Windows' or ours - would drop it), a key or section name
that is empty, holds ``[``, ``]``, ``=``, CR, LF or NUL, starts with ``;`` or has surrounding
spaces, a key or section repeated (ignoring case), another section named like one of the three
known ones, and text UTF-16 cannot carry (an unpaired surrogate).  Quotes are plain text both ways.

gpt.ini as written: ANSI (the same Windows-1252 mapping, so foreign ANSI bytes survive a rewrite
byte for byte whatever the machine's code page), no mark, CR LF after every line, sections and keys
exactly in the order held.  A fresh local gpt.ini is::

    [General]
    gPCFunctionalityVersion=2
    gPCMachineExtensionNames=[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B6664F-4972-11D1-A7CA-0000F87571E3}]
    Version=1

in that order because it is, line for line, the file Microsoft documents for running a startup
script through the local GPO (azure-docs "reset local password without agent");
``gPCUserExtensionNames`` is not written, the user half being unused.  ``Version`` is always
written: Samba's ``parse_gpt_ini`` takes a missing one for corruption, and without a bump Windows
does not pick up a changed scripts file (formats.md §5, edge case 1).

Merge rules of :func:`add_startup_script` (scripts.ini or psscripts.ini, [Startup] only):

1. A missing file is an empty document.  Otherwise read the file with the reader rules above; if
   it cannot be read, stop with the error and write nothing.
2. Look at the [Startup] entries.  If one has a CmdLine equal to ours - both with trailing
   whitespace removed, compared ignoring case character by character (ordinal, as Windows
   compares paths; PowerShell: ``[string]::Equals($a.TrimEnd(), $b.TrimEnd(),
   [StringComparison]::OrdinalIgnoreCase)``) - and Parameters exactly equal to ours
   (case-sensitive), stop: the file's bytes are returned untouched and nothing changed.
3. Otherwise add ours after the last [Startup] entry, i.e. at index highest existing index + 1,
   or 0 when there is none (the section is created).
4. Keep everything else as read: the other [Startup] entries in their numeric order, [Shutdown],
   the [ScriptsConfig] keys and values, and every other section with its keys in file order.
5. Write the whole file in GPMC's form (layout above): FF FE, UTF-16LE, an empty first line,
   [ScriptsConfig] if it has keys, [Startup], [Shutdown] if it has entries, the other sections in
   the order read; entries renumbered 0, 1, 2, ... in their order, each ``<n>CmdLine=`` then
   ``<n>Parameters=``; CR LF after every line.  So a file that was ANSI or UTF-8, or had gaps
   in its numbers (0, 5 become 0, 1, and ours 2), other spelling, spacing or comments, comes
   back re-encoded and renumbered as part of the change; a second run finds our entry (rule 2)
   and changes nothing.

Merge rules of :func:`add_machine_extension` (gpt.ini of the local GPO):

1. A missing file is ``[General]`` with ``gPCFunctionalityVersion=2``.  Otherwise read it with the
   reader rules above; if it cannot be read, stop with the error and write nothing.
2. In [General], read ``gPCMachineExtensionNames`` (absent or empty: no pairs) as
   ``[{CSE}{TOOL}...]`` groups, the first GUID of a group its CSE, the others its tools; and
   ``Version`` (absent: 0), a decimal integer 0..4294967295.
3. The names change when our (CSE, tool) pair is not among them (GUIDs compared ignoring case).
4. If the names do not change and ``changed`` (the scripts file changed) is false, stop: the
   file's bytes are returned untouched and nothing changed.
5. New names: the old pairs plus ours, one group per CSE, groups in ascending order of the
   upper-case CSE GUID, the tools of a group ascending and without repeats, every GUID braced and
   upper-case (:func:`generator.formats.gpo_backup.extension_guids`; foreign pairs are kept).
6. New Version: the machine half is the low 16 bits, the user half the high 16 bits; the machine
   half goes up by one, and from 65535 to 1 (never 0); the user half is kept.  Written in decimal.
7. Write every section and key in the order read, these two values replaced where they stand; a
   missing [General] goes first, a missing ``gPCMachineExtensionNames`` and then a missing
   ``Version`` are added at the end of [General].  ANSI, CR LF after every line, no mark.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, replace
from typing import Iterable

from generator.errors import MdegenError
from generator.formats.gpo_backup import GpoBackupError, extension_guids

__all__ = [
    "GpScriptsError", "ScriptsIni", "GptIni",
    "loads", "dumps", "loads_gpt", "dumps_gpt",
    "add_startup_script", "add_machine_extension",
    "parse_extension_names", "bump_machine_version", "same_command",
    "SCRIPTS_CSE", "SCRIPTS_TOOL_MACHINE", "SCRIPTS_PAIR", "MAX_SCRIPT_INDEX", "BOM",
]

SCRIPTS_CSE = "{42B5FAAE-6536-11D2-AE5A-0000F87571E3}"
SCRIPTS_TOOL_MACHINE = "{40B6664F-4972-11D1-A7CA-0000F87571E3}"
SCRIPTS_PAIR = (SCRIPTS_CSE, SCRIPTS_TOOL_MACHINE)

BOM = b"\xff\xfe"
MAX_SCRIPT_INDEX = 2**31 - 1          # [MS-GPSCR] §2.2.2: 0 <= n < 2**31
_MAX_VERSION = 0xFFFFFFFF

_STARTUP, _SHUTDOWN, _CONFIG = "Startup", "Shutdown", "ScriptsConfig"
_KNOWN = {_STARTUP.casefold(), _SHUTDOWN.casefold(), _CONFIG.casefold()}
_SCRIPT_KEY = re.compile(r"([0-9]+)(CmdLine|Parameters)", re.IGNORECASE | re.ASCII)
_DECIMAL = re.compile(r"[0-9]+", re.ASCII)
_GUID = r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}"
_GROUP = re.compile(r"\[((?:" + _GUID + r")+)\]")
_ONE_GUID = re.compile(_GUID)
_BLANKS = " \t"

Pairs = tuple[tuple[str, str], ...]
Sections = tuple[tuple[str, Pairs], ...]


class GpScriptsError(MdegenError, ValueError):
    """A scripts.ini, psscripts.ini or gpt.ini cannot be read, or a document cannot be written.

    ``line`` is the 1-based line the reader found the problem on (``None`` for the writer);
    ``reason`` is the message without the ``line <n>:`` prefix.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        self.reason = message
        self.line = line
        super().__init__(message if line is None else f"line {line}: {message}")


def _freeze_pairs(pairs: Iterable) -> Pairs:
    return tuple(tuple(p) if isinstance(p, list) else p for p in pairs)


def _freeze_sections(sections: Iterable) -> Sections:
    return tuple((s[0], _freeze_pairs(s[1])) if isinstance(s, (tuple, list)) and len(s) == 2
                 and isinstance(s[1], (tuple, list)) else s for s in sections)


@dataclass(frozen=True)
class ScriptsIni:
    """A scripts.ini or psscripts.ini: the machine-side script lists and everything else in it.

    ``startup`` and ``shutdown`` are (CmdLine, Parameters) pairs in run order; ``scripts_config``
    the (key, value) pairs of psscripts.ini's [ScriptsConfig] (``StartExecutePSFirst``,
    ``EndExecutePSFirst``: ``true``/``false``); ``other_sections`` every other section as
    (name, ((key, value), ...)), kept verbatim so that a merge never loses foreign content.
    Lists are accepted and stored as tuples.
    """

    startup: Pairs = ()
    shutdown: Pairs = ()
    scripts_config: Pairs = ()
    other_sections: Sections = ()

    def __post_init__(self) -> None:
        for name in ("startup", "shutdown", "scripts_config"):
            value = getattr(self, name)
            if isinstance(value, (tuple, list)):
                object.__setattr__(self, name, _freeze_pairs(value))
        if isinstance(self.other_sections, (tuple, list)):
            object.__setattr__(self, "other_sections", _freeze_sections(self.other_sections))


@dataclass(frozen=True)
class GptIni:
    """A gpt.ini: its sections as (name, ((key, value), ...)) in file order, keys in file order.

    The local GPO's keys live in [General]: ``gPCFunctionalityVersion``,
    ``gPCMachineExtensionNames``, ``gPCUserExtensionNames`` and ``Version``; :meth:`get` finds
    them ignoring case.  Unknown keys and sections are kept where they are.
    """

    sections: Sections = ()

    def __post_init__(self) -> None:
        if isinstance(self.sections, (tuple, list)):
            object.__setattr__(self, "sections", _freeze_sections(self.sections))

    def get(self, section: str, key: str) -> str | None:
        """The value of ``key`` in ``section`` (names compared ignoring case), or None."""
        for name, pairs in self.sections:
            if name.casefold() == section.casefold():
                for k, v in pairs:
                    if k.casefold() == key.casefold():
                        return v
        return None


# ---------------------------------------------------------------------------------------------
# Text encodings
# ---------------------------------------------------------------------------------------------

# Windows-1252, with the five bytes it leaves undefined (81 8D 8F 90 9D) standing for U+0081...,
# as MultiByteToWideChar maps them: one character per byte, both ways.
_ANSI_DECODE = {b: ch for b in range(0x80, 0xA0)
                if (ch := codecs.decode(bytes([b]), "cp1252", "ignore"))}
_ANSI_TO_TEXT = {b: ord(ch) for b, ch in _ANSI_DECODE.items()}     # for str.translate on latin-1
_TEXT_TO_ANSI = {ord(ch): b for b, ch in _ANSI_DECODE.items()}


def _decode_ansi(data: bytes) -> str:
    return data.decode("latin-1").translate(_ANSI_TO_TEXT)


def _encode_ansi(text: str) -> bytes:
    out = bytearray()
    for ch in text:
        code = ord(ch)
        if code in _TEXT_TO_ANSI:
            out.append(_TEXT_TO_ANSI[code])
        elif code < 0x100 and not 0x80 <= code < 0xA0 or code in (0x81, 0x8D, 0x8F, 0x90, 0x9D):
            out.append(code)
        else:
            raise UnicodeEncodeError("cp1252", text, len(out), len(out) + 1,
                                     f"{_describe(ch)} has no ANSI (Windows-1252) byte")
    return bytes(out)


def _line_of(text_before: str) -> int:
    return text_before.count("\n") + 1


def _decode(data: bytes) -> tuple[str, bool]:
    """(text without the byte-order mark, True when it was ANSI)."""
    if data.startswith(BOM):
        body = data[2:]
        try:
            return codecs.decode(body, "utf-16-le"), False
        except UnicodeDecodeError as exc:
            line = _line_of(codecs.decode(body[:exc.start - exc.start % 2], "utf-16-le", "replace"))
            what = ("the file ends in the middle of a UTF-16 character" if exc.end >= len(body)
                    and len(body) % 2 else "an unpaired UTF-16 surrogate")
            raise GpScriptsError(f"{what} (the file starts with the UTF-16LE mark FF FE)",
                                 line) from None
    if data.startswith(b"\xfe\xff"):
        raise GpScriptsError("the file starts with the UTF-16BE mark FE FF; Windows writes "
                             "these files as UTF-16LE (FF FE) or ANSI", 1)
    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError as exc:
            line = body[:exc.start].count(b"\n") + 1
            raise GpScriptsError(f"byte 0x{body[exc.start]:02X} is not valid UTF-8 (the file "
                                 "starts with the UTF-8 mark EF BB BF)", line) from None
    return _decode_ansi(data), True


# ---------------------------------------------------------------------------------------------
# The INI reader both files share
# ---------------------------------------------------------------------------------------------

@dataclass
class _Section:
    name: str
    line: int | None
    keys: list[list]            # [key, value, line]


def _parse(data: bytes) -> list[_Section]:
    if isinstance(data, str) or not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, not {type(data).__name__}")
    text, ansi = _decode(bytes(data))
    sections: list[_Section] = []
    seen_sections: dict[str, _Section] = {}
    seen_keys: dict[str, int] = {}
    current: _Section | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if "\x00" in line:
            hint = " (a UTF-16 file without its FF FE mark?)" if ansi else ""
            raise GpScriptsError(f"a NUL character{hint}", number)
        if "\r" in line:
            raise GpScriptsError("a carriage return without a line feed", number)
        stripped = line.strip(_BLANKS)
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                raise GpScriptsError(f"a section header must end with ']': {stripped!r}", number)
            name = stripped[1:-1].strip(_BLANKS)
            if not name or "[" in name or "]" in name:
                raise GpScriptsError(f"{stripped!r} is not a valid section header", number)
            folded = name.casefold()
            if folded in seen_sections:
                first = seen_sections[folded]
                raise GpScriptsError(f"section [{name}] repeats [{first.name}] from line "
                                     f"{first.line}", number)
            current = seen_sections[folded] = _Section(name, number, [])
            sections.append(current)
            seen_keys = {}
            continue
        if "=" not in stripped:
            raise GpScriptsError(f"expected 'key=value' or '[section]', got {stripped!r}", number)
        key, value = (part.strip(_BLANKS) for part in stripped.split("=", 1))
        if not key:
            raise GpScriptsError(f"a key is missing before '=': {stripped!r}", number)
        if current is None:
            raise GpScriptsError(f"key {key!r} comes before any [section]", number)
        folded = key.casefold()
        if folded in seen_keys:
            raise GpScriptsError(f"key {key!r} repeats a key from line {seen_keys[folded]} in "
                                 f"[{current.name}]", number)
        seen_keys[folded] = number
        current.keys.append([key, value, number])
    return sections


def _script_entries(section: _Section) -> Pairs:
    """[Startup]/[Shutdown] keys -> (CmdLine, Parameters) pairs in numeric order."""
    found: dict[int, dict[str, tuple[str, str, int]]] = {}
    for key, value, number in section.keys:
        m = _SCRIPT_KEY.fullmatch(key)
        if m is None:
            low = key.casefold()
            for kind in ("cmdline", "parameters"):
                if low.endswith(kind) and len(low) > len(kind):
                    prefix = key[:-len(kind)]
                    raise GpScriptsError(f"[{section.name}] key {key!r}: {prefix!r} is not a "
                                         "decimal integer", number)
            raise GpScriptsError(f"[{section.name}] key {key!r} is not <n>CmdLine or "
                                 "<n>Parameters", number)
        index = int(m.group(1))
        if index > MAX_SCRIPT_INDEX:
            raise GpScriptsError(f"[{section.name}] key {key!r}: {index} is not below 2**31",
                                 number)
        kind = m.group(2).casefold()
        slot = found.setdefault(index, {})
        if kind in slot:
            first_key, _, first_line = slot[kind]
            raise GpScriptsError(f"[{section.name}] key {key!r} repeats {first_key!r} from line "
                                 f"{first_line} (the same number)", number)
        slot[kind] = (key, value, number)
    entries = []
    for index in sorted(found):
        slot = found[index]
        if "cmdline" not in slot:
            key, _, number = slot["parameters"]
            raise GpScriptsError(f"[{section.name}] key {key!r} has no {index}CmdLine", number)
        entries.append((slot["cmdline"][1], slot["parameters"][1] if "parameters" in slot else ""))
    return tuple(entries)


def loads(data: bytes) -> ScriptsIni:
    """Read scripts.ini or psscripts.ini bytes (see the module docstring for what is accepted)."""
    doc: dict[str, object] = {"startup": (), "shutdown": (), "scripts_config": ()}
    others = []
    for section in _parse(data):
        folded = section.name.casefold()
        if folded == _STARTUP.casefold():
            doc["startup"] = _script_entries(section)
        elif folded == _SHUTDOWN.casefold():
            doc["shutdown"] = _script_entries(section)
        elif folded == _CONFIG.casefold():
            doc["scripts_config"] = tuple((k, v) for k, v, _ in section.keys)
        else:
            others.append((section.name, tuple((k, v) for k, v, _ in section.keys)))
    return ScriptsIni(other_sections=tuple(others), **doc)


def loads_gpt(data: bytes) -> GptIni:
    """Read gpt.ini bytes: every section and key in file order (reader rules of the module doc)."""
    return GptIni(tuple((s.name, tuple((k, v) for k, v, _ in s.keys)) for s in _parse(data)))


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------

_NAMES = {"\r": "a carriage return", "\n": "a line feed", "\x00": "a NUL character",
          "\t": "a tab", " ": "a space"}


def _describe(ch: str) -> str:
    return f"{_NAMES.get(ch, 'the character')} (U+{ord(ch):04X})"


def _value_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"must be a str, not {type(value).__name__}"
    for ch in "\r\n\x00":
        if ch in value:
            return f"contains {_describe(ch)}"
    if value[:1] in (" ", "\t") or value[-1:] in (" ", "\t"):
        ch = value[0] if value[:1] in (" ", "\t") else value[-1]
        where = "starts" if value[:1] in (" ", "\t") else "ends"
        return f"{where} with {_describe(ch)}, which a reader drops"
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return "contains an unpaired surrogate (no UTF-16 form)"
    return None


def _name_problem(name: object) -> str | None:
    if not isinstance(name, str):
        return f"must be a str, not {type(name).__name__}"
    if not name:
        return "is empty"
    for ch in "[]=\r\n\x00":
        if ch in name:
            return f"contains {_describe(ch) if ch in _NAMES else repr(ch)}"
    if name.startswith(";"):
        return "starts with ';' (a reader takes the line for a comment)"
    if name != name.strip(_BLANKS):
        return "has leading or trailing spaces or tabs, which a reader drops"
    if any("\ud800" <= ch <= "\udfff" for ch in name):
        return "contains an unpaired surrogate (no UTF-16 form)"
    return None


def _pairs_of(value: object, where: str) -> Pairs:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise GpScriptsError(f"{where}: expected a tuple of pairs, not {type(value).__name__}")
    for i, pair in enumerate(value):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise GpScriptsError(f"{where} entry {i}: expected a pair, got {pair!r}")
    return tuple(tuple(p) for p in value)


def _key_lines(section: str, pairs: Pairs) -> list[str]:
    lines, seen = [], set()
    for i, (key, value) in enumerate(pairs):
        problem = _name_problem(key)
        if problem:
            raise GpScriptsError(f"[{section}] key {i} ({key!r}) {problem}")
        if key.casefold() in seen:
            raise GpScriptsError(f"[{section}] key {key!r} is there twice (keys compare ignoring "
                                 "case)")
        seen.add(key.casefold())
        problem = _value_problem(value)
        if problem:
            raise GpScriptsError(f"[{section}] key {key!r}: the value {problem}")
        lines.append(f"{key}={value}")
    return lines


def _section_header(name: object, seen: set[str], reserved: set[str]) -> str:
    problem = _name_problem(name)
    if problem:
        raise GpScriptsError(f"section name {name!r} {problem}")
    if name.casefold() in reserved:
        raise GpScriptsError(f"section [{name}] is held by its own field, not among the others")
    if name.casefold() in seen:
        raise GpScriptsError(f"section [{name}] is there twice (names compare ignoring case)")
    seen.add(name.casefold())
    return f"[{name}]"


def _other_lines(sections: object, reserved: set[str], where: str) -> list[str]:
    if isinstance(sections, (str, bytes)) or not isinstance(sections, (tuple, list)):
        raise GpScriptsError(f"{where}: expected a tuple of (name, pairs), not "
                             f"{type(sections).__name__}")
    lines: list[str] = []
    seen: set[str] = set()
    for i, section in enumerate(sections):
        if not isinstance(section, (tuple, list)) or len(section) != 2:
            raise GpScriptsError(f"{where} {i}: expected (name, pairs), got {section!r}")
        name, pairs = section
        lines.append(_section_header(name, seen, reserved))
        lines += _key_lines(name, _pairs_of(pairs, f"[{name}]"))
    return lines


def _script_lines(section: str, entries: object) -> list[str]:
    entries = _pairs_of(entries, f"[{section}]")
    if not entries:
        return []
    lines = [f"[{section}]"]
    for i, (cmdline, parameters) in enumerate(entries):
        for what, value in (("CmdLine", cmdline), ("Parameters", parameters)):
            problem = _value_problem(value)
            if problem:
                raise GpScriptsError(f"[{section}] entry {i} {what} {problem}")
        lines += [f"{i}CmdLine={cmdline}", f"{i}Parameters={parameters}"]
    return lines


def dumps(doc: ScriptsIni) -> bytes:
    """scripts.ini/psscripts.ini bytes for ``doc`` in GPMC's form (module docstring); same
    document, same bytes."""
    if not isinstance(doc, ScriptsIni):
        raise GpScriptsError(f"expected a ScriptsIni, not {type(doc).__name__}")
    lines = [""]
    config = _pairs_of(doc.scripts_config, f"[{_CONFIG}]")
    if config:
        lines += [f"[{_CONFIG}]"] + _key_lines(_CONFIG, config)
    lines += _script_lines(_STARTUP, doc.startup)
    lines += _script_lines(_SHUTDOWN, doc.shutdown)
    lines += _other_lines(doc.other_sections, _KNOWN, "other section")
    return BOM + codecs.encode("\r\n".join(lines) + "\r\n", "utf-16-le")


def dumps_gpt(doc: GptIni) -> bytes:
    """gpt.ini bytes for ``doc``: ANSI, CR LF after every line, no mark, order as held."""
    if not isinstance(doc, GptIni):
        raise GpScriptsError(f"expected a GptIni, not {type(doc).__name__}")
    lines = _other_lines(doc.sections, set(), "section")
    text = "".join(line + "\r\n" for line in lines)
    try:
        return _encode_ansi(text)
    except UnicodeEncodeError as exc:
        line = _line_of(text[:exc.start])
        raise GpScriptsError(f"gpt.ini line {line} ({lines[line - 1]!r}): {exc.reason}") from None


# ---------------------------------------------------------------------------------------------
# Merges
# ---------------------------------------------------------------------------------------------

def _fold(text: str) -> str:
    """Upper case character by character (ordinal ignore-case; 'ß' stays 'ß')."""
    return "".join(up if len(up := ch.upper()) == 1 else ch for ch in text)


def same_command(a: str, b: str) -> bool:
    """Whether two CmdLine values name the same script the way Windows compares paths: trailing
    whitespace removed, then equal ignoring case character by character."""
    return _fold(a.rstrip()) == _fold(b.rstrip())


def _checked_argument(what: str, value: object, *, empty_ok: bool) -> str:
    problem = _value_problem(value)
    if problem is None and not empty_ok and not value:
        problem = "is empty"
    if problem:
        raise GpScriptsError(f"the startup script's {what} {problem}")
    return value      # type: ignore[return-value]


def add_startup_script(existing: bytes | None, cmdline: str,
                       parameters: str = "") -> tuple[bytes, bool]:
    """Register ``cmdline`` with ``parameters`` in [Startup] (merge rules in the module docstring).

    Returns the file's new bytes and whether anything changed; unchanged means the very bytes
    given are returned.
    """
    cmdline = _checked_argument("CmdLine", cmdline, empty_ok=False)
    parameters = _checked_argument("Parameters", parameters, empty_ok=True)
    doc = ScriptsIni() if existing is None else loads(existing)
    for known_cmdline, known_parameters in doc.startup:
        if same_command(known_cmdline, cmdline) and known_parameters == parameters:
            return (existing if isinstance(existing, bytes) else bytes(existing)), False
    merged = replace(doc, startup=doc.startup + ((cmdline, parameters),))
    return dumps(merged), True


def parse_extension_names(text: str, line: int | None = None) -> Pairs:
    """``[{CSE}{TOOL}...][...]`` -> the (CSE, tool) pairs it names, braced upper-case, in order.

    The inverse of :func:`generator.formats.gpo_backup.extension_guids` (for input in its form).
    ``""`` gives ``()``.  Anything else - a group with a CSE and no tool, text between groups, a
    malformed GUID - is a :class:`GpScriptsError` (with ``line`` when given).
    """
    pairs: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _GROUP.match(text, pos)
        if m is None:
            raise GpScriptsError(f"extension names {text!r}: expected '[{{CSE GUID}}{{tool "
                                 f"GUID}}...]' at character {pos + 1}", line)
        guids = [g.upper() for g in _ONE_GUID.findall(m.group(1))]
        if len(guids) < 2:
            raise GpScriptsError(f"extension names {text!r}: group {m.group(0)} names a CSE and "
                                 "no tool GUID", line)
        pairs += [(guids[0], tool) for tool in guids[1:]]
        pos = m.end()
    return tuple(pairs)


def bump_machine_version(version: int) -> int:
    """gpt.ini ``Version`` after a machine-side change: the low 16 bits (machine) go up by one,
    65535 wraps to 1 (never 0); the high 16 bits (user) are kept ([MS-GPOL] §3.3.5.4)."""
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= _MAX_VERSION:
        raise GpScriptsError(f"Version {version!r} is not an integer in 0..{_MAX_VERSION}")
    machine = version & 0xFFFF
    machine = 1 if machine == 0xFFFF else machine + 1
    return (version & 0xFFFF0000) | machine


def _normalised_pair(cse: str, tool: str) -> tuple[str, str]:
    try:
        (pair,) = parse_extension_names(extension_guids([(cse, tool)]))
    except GpoBackupError as exc:
        raise GpScriptsError(str(exc)) from None
    return pair


def add_machine_extension(existing: bytes | None, cse: str, tool: str, *,
                          changed: bool) -> tuple[bytes, bool]:
    """Register the (CSE, tool) pair in gpt.ini's ``gPCMachineExtensionNames`` and bump the
    machine half of ``Version`` (merge rules in the module docstring).

    ``changed`` says the scripts file was changed (a new version must make Windows re-read it).
    Returns the file's new bytes and whether anything changed; unchanged means the very bytes
    given are returned.
    """
    if not isinstance(changed, bool):
        raise TypeError(f"changed must be a bool, not {type(changed).__name__}")
    ours = _normalised_pair(cse, tool)
    if existing is None:
        sections = [_Section("General", None, [["gPCFunctionalityVersion", "2", None]])]
    else:
        sections = _parse(existing)
    general = next((s for s in sections if s.name.casefold() == "general"), None)
    if general is None:
        general = _Section("General", None, [])
        sections.insert(0, general)
    names_item = next((k for k in general.keys if k[0].casefold() == "gpcmachineextensionnames"),
                      None)
    version_item = next((k for k in general.keys if k[0].casefold() == "version"), None)
    pairs = parse_extension_names(names_item[1], names_item[2]) if names_item else ()
    version = 0
    if version_item is not None:
        if not _DECIMAL.fullmatch(version_item[1]) or int(version_item[1]) > _MAX_VERSION:
            raise GpScriptsError(f"Version {version_item[1]!r} is not a decimal integer in "
                                 f"0..{_MAX_VERSION}", version_item[2])
        version = int(version_item[1])
    if ours in pairs and not changed:
        return (existing if isinstance(existing, bytes) else bytes(existing)), False
    try:
        names = extension_guids(list(pairs) + [ours])
    except GpoBackupError as exc:           # cannot happen: every GUID has been checked
        raise GpScriptsError(str(exc)) from None
    if names_item is None:
        names_item = ["gPCMachineExtensionNames", "", None]
        general.keys.append(names_item)
    if version_item is None:
        version_item = ["Version", "0", None]
        general.keys.append(version_item)
    names_item[1] = names
    version_item[1] = str(bump_machine_version(version))
    doc = GptIni(tuple((s.name, tuple((k, v) for k, v, _ in s.keys)) for s in sections))
    return dumps_gpt(doc), True
