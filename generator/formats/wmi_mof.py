"""Write and read the ``.mof`` file of one GPMC WMI filter (GPMC > WMI Filters > Import / Export).

GPMC exports a filter with ``IWbemClassObject::GetObjectText`` of its ``MSFT_SomFilter`` instance
(root\\policy) and imports a file by compiling it with the MOF compiler into a scratch namespace
under root\\policy, then reading back the first ``MSFT_SomFilter`` instance. The same file can
also be compiled with ``mofcomp -N:root\\Policy <file>``. What :func:`dumps` writes mirrors an
export::

    instance of MSFT_SomFilter
    {
        Author = "mdegen";
        ChangeDate = "20261101000000.000000-000";
        CreationDate = "20261101000000.000000-000";
        Description = "...";
        Domain = "contoso.com";
        ID = "{3F2504E0-4F89-11D3-9A0C-0305E82C3301}";
        Name = "...";
        Rules = {
    instance of MSFT_Rule
    {
        Query = "SELECT * FROM Win32_OperatingSystem WHERE ...";
        QueryLanguage = "WQL";
        TargetNameSpace = "root\\\\CIMv2";
    }};
    };

Format decisions:

* Properties in alphabetical order, one per line, tab-indented, as GetObjectText lists them;
  ``Description`` is omitted when empty (GetObjectText leaves out NULL properties).
* No ``#pragma namespace``: GPMC chooses the namespace it compiles into, and a pragma would send
  the instance elsewhere. ``mofcomp`` needs ``-N:root\\Policy`` for the same reason.
* Dates are CIM DMTF datetimes ``yyyymmddHHMMSS.ffffff`` plus a UTC offset in minutes; GPMC
  writes UTC with the offset ``-000``, and so does this module (aware datetimes are converted to
  UTC, naive ones are taken as UTC).
* ``ID`` is the filter GUID in braces, upper case, as GPMC names the msWMI-Som object.
* Encoding UTF-16LE with a byte order mark, CRLF line ends. The MOF compiler reads UTF-16LE and
  plain ASCII/ANSI but not UTF-8, and UTF-16 carries any organisation name unchanged.
* Strings are double-quoted; ``\\`` and ``"`` are escaped with a backslash. Control characters
  (newline, tab, ...), line/paragraph separators and unpaired surrogates are refused with
  :class:`WmiMofError`: GPMC's boxes are single-line and the file must stay one property a line.

:func:`loads` reads exactly this subset back (also BOM-less UTF-16LE, ASCII, LF line ends and
adjacent-string concatenation, which real exports or hand edits may have) and returns a plain
dict; it raises :class:`WmiMofError` on anything else.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import unicodedata
from typing import Any

from generator.records import WmiFilter, braced
from generator.errors import MdegenError

__all__ = ["WmiMofError", "dumps", "loads", "mof_string", "dmtf_datetime"]

NEWLINE = "\r\n"
ENCODING = "utf-16-le"
BOM = codecs.BOM_UTF16_LE
FILTER_CLASS = "MSFT_SomFilter"
RULE_CLASS = "MSFT_Rule"
QUERY_LANGUAGE = "WQL"

# Canonical spelling of every property this module reads or writes (MOF names are case-insensitive).
FILTER_PROPERTIES = ("Author", "ChangeDate", "CreationDate", "Description", "Domain", "ID", "Name",
                     "Rules", "SourceOrganization")
RULE_PROPERTIES = ("Query", "QueryLanguage", "TargetNameSpace")
_REQUIRED_FILTER = ("Domain", "ID", "Name", "Rules")


class WmiMofError(MdegenError):
    """A WMI filter cannot be written as a GPMC .mof file, or a .mof file is not one mdegen reads."""


# --- Writing ------------------------------------------------------------------------------------


def _refuse(value: str, what: str) -> None:
    for i, ch in enumerate(value):
        cat = unicodedata.category(ch)
        if cat == "Cc" or ch in "\u2028\u2029":
            raise WmiMofError(f"{what} contains the control character U+{ord(ch):04X} at position {i}; "
                              "WMI filter texts must be a single line without control characters")
        if cat == "Cs":
            raise WmiMofError(f"{what} contains an unpaired surrogate U+{ord(ch):04X} at position {i}")


def mof_string(value: str, *, what: str = "value") -> str:
    """``value`` as a MOF string literal: in double quotes, ``\\`` and ``"`` backslash-escaped."""
    if not isinstance(value, str):
        raise WmiMofError(f"{what} must be text, not {type(value).__name__}")
    _refuse(value, what)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dmtf_datetime(value: dt.datetime) -> str:
    """A CIM DMTF datetime in UTC as GPMC writes it: ``20261101093000.000000-000``."""
    if not isinstance(value, dt.datetime):
        raise WmiMofError(f"the time stamp must be a datetime, not {type(value).__name__}")
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return (f"{value.year:04d}{value.month:02d}{value.day:02d}{value.hour:02d}{value.minute:02d}"
            f"{value.second:02d}.{value.microsecond:06d}-000")


def _nonempty(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise WmiMofError(f"{what} must not be empty")
    return value


def dumps(filter: WmiFilter, *, domain: str, author: str, created: dt.datetime) -> bytes:  # noqa: A002
    """The .mof bytes of ``filter`` as GPMC imports them (UTF-16LE with BOM, CRLF line ends).

    ``domain`` is the AD DNS domain recorded in the filter, ``author`` its Author (GPMC writes
    ``user@domain``), ``created`` both its CreationDate and ChangeDate.
    """
    stamp = dmtf_datetime(created)
    props: list[tuple[str, str]] = [
        ("Author", mof_string(_nonempty(author, "the author"), what="the author")),
        ("ChangeDate", mof_string(stamp)),
        ("CreationDate", mof_string(stamp)),
    ]
    if filter.description:
        props.append(("Description", mof_string(filter.description, what="the filter description")))
    props += [
        ("Domain", mof_string(_nonempty(domain, "the domain"), what="the domain")),
        ("ID", mof_string(braced(filter.id))),
        ("Name", mof_string(_nonempty(filter.name, "the filter name"), what="the filter name")),
    ]
    rule = [
        ("Query", mof_string(_nonempty(filter.query, "the WQL query"), what="the WQL query")),
        ("QueryLanguage", mof_string(QUERY_LANGUAGE)),
        ("TargetNameSpace", mof_string(_nonempty(filter.namespace, "the namespace"), what="the namespace")),
    ]
    lines = [f"instance of {FILTER_CLASS}", "{"]
    lines += [f"\t{name} = {value};" for name, value in props]
    lines += ["\tRules = {", f"instance of {RULE_CLASS}", "{"]
    lines += [f"\t{name} = {value};" for name, value in rule]
    lines += ["}};", "};", ""]
    return BOM + NEWLINE.join(lines).encode(ENCODING)


# --- Reading ------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\\r\n]|\\.)*")
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}();=,])
""", re.VERBOSE)
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r"}


def _decode(data: bytes) -> str:
    if not isinstance(data, (bytes, bytearray)):
        raise WmiMofError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    try:
        if data.startswith(BOM):
            return data[len(BOM):].decode(ENCODING)
        if data.startswith(codecs.BOM_UTF16_BE):
            return data[2:].decode("utf-16-be")
        if data.startswith(codecs.BOM_UTF8):
            raise WmiMofError("the file is UTF-8 with a byte order mark; the MOF compiler GPMC uses "
                              "does not read UTF-8: save it as Unicode (UTF-16LE) or ASCII")
        # Without a BOM: UTF-16LE shows as a NUL after each ASCII character, else ASCII.
        if len(data) >= 2 and data[1] == 0 and data[0] != 0:
            return data.decode(ENCODING)
        return data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise WmiMofError(f"the file is neither UTF-16LE nor ASCII text (byte {exc.start})") from None


def _unescape(literal: str, pos: int) -> str:
    body = literal[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "xX":
            m = re.match(r"[0-9A-Fa-f]{1,4}", body[i + 2:])
            if not m:
                raise WmiMofError(f"bad \\x escape in the string at character {pos}")
            out.append(chr(int(m.group(), 16)))
            i += 2 + len(m.group())
        else:
            raise WmiMofError(f"unknown escape \\{nxt} in the string at character {pos}")
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                snippet = text[pos:pos + 20].split("\n")[0]
                raise WmiMofError(f"unexpected text at line {text.count(chr(10), 0, pos) + 1}: {snippet!r} "
                                  "(mdegen reads a single MSFT_SomFilter instance as GPMC exports it)")
            kind = m.lastgroup or ""
            if kind != "ws":
                self.tokens.append((kind, m.group(), pos))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None or tok[0] != kind or (value is not None and tok[1].lower() != value.lower()):
            want = value or kind
            got = "end of file" if tok is None else repr(tok[1])
            raise WmiMofError(f"expected {want!r} but found {got}")
        self.i += 1
        return tok

    def string(self) -> str:
        # MOF concatenates adjacent string literals.
        kind, lit, pos = self.take("string")
        parts = [_unescape(lit, pos)]
        while (tok := self.peek()) is not None and tok[0] == "string":
            self.i += 1
            parts.append(_unescape(tok[1], tok[2]))
        return "".join(parts)

    def instance(self, cls: str, names: tuple[str, ...]) -> dict[str, Any]:
        self.take("ident", "instance")
        self.take("ident", "of")
        _, found, _ = self.take("ident")
        if found.lower() != cls.lower():
            raise WmiMofError(f"expected an instance of {cls}, found one of {found}")
        self.take("punct", "{")
        canon = {n.lower(): n for n in names}
        out: dict[str, Any] = {}
        while (tok := self.peek()) is not None and tok[1] != "}":
            _, raw, _ = self.take("ident")
            name = canon.get(raw.lower())
            if name is None:
                raise WmiMofError(f"{cls} has no property {raw!r} that mdegen reads")
            if name in out:
                raise WmiMofError(f"{cls} sets {name} twice")
            self.take("punct", "=")
            if name == "Rules":
                out[name] = self.rules()
            else:
                out[name] = self.string()
            self.take("punct", ";")
        self.take("punct", "}")
        return out

    def rules(self) -> list[dict[str, Any]]:
        self.take("punct", "{")
        rules = [self.instance(RULE_CLASS, RULE_PROPERTIES)]
        while (tok := self.peek()) is not None and tok[1] == ",":
            self.i += 1
            rules.append(self.instance(RULE_CLASS, RULE_PROPERTIES))
        self.take("punct", "}")
        return rules


def loads(data: bytes) -> dict[str, Any]:
    """Parse a GPMC WMI filter .mof into ``{"Name": ..., "ID": ..., "Rules": [{"Query": ...}], ...}``.

    Keys use the canonical spelling of :data:`FILTER_PROPERTIES` / :data:`RULE_PROPERTIES`;
    values are the unescaped strings (dates stay DMTF text). Name, ID, Domain and at least one
    rule with Query, QueryLanguage "WQL" and TargetNameSpace are required.
    """
    parser = _Parser(_decode(data))
    result = parser.instance(FILTER_CLASS, FILTER_PROPERTIES)
    parser.take("punct", ";")
    if parser.peek() is not None:
        raise WmiMofError(f"unexpected {parser.peek()[1]!r} after the MSFT_SomFilter instance "  # type: ignore[index]
                          "(one filter per file)")
    missing = [p for p in _REQUIRED_FILTER if p not in result]
    if missing:
        raise WmiMofError(f"the filter lacks {', '.join(missing)}")
    for n, rule in enumerate(result["Rules"], 1):
        lacking = [p for p in RULE_PROPERTIES if p not in rule]
        if lacking:
            raise WmiMofError(f"rule {n} lacks {', '.join(lacking)}")
        if rule["QueryLanguage"].upper() != QUERY_LANGUAGE:
            raise WmiMofError(f"rule {n} has QueryLanguage {rule['QueryLanguage']!r}; GPMC only runs WQL")
    return result
