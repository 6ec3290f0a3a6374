"""CSV for admins' spreadsheets: what `mdegen plan` and `mdegen report` write.

UTF-8 with a BOM (Excel on Windows reads UTF-8 only with one), CRLF line ends, every field in
double quotes with inner quotes doubled (as Export-Csv writes, so Import-Csv reads it back). The
values come from inventories and results, which computers write themselves (a computer account can
set its own operatingSystem attribute), so two kinds of text are defused:

* a field that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) gets a leading
  ``'``: a spreadsheet would otherwise run it as a formula (CSV injection);
* control, bidirectional and other hidden characters are shown as ``\\n``, ``\\xNN`` or ``\\uNNNN``:
  one row stays one line, and what a cell shows is what it holds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _hidden(ch: str) -> bool:
    """A character that is invisible, reorders the text around it, breaks a line, cannot be
    encoded (a lone surrogate) or may not stand in XML (U+FFFE, U+FFFF)."""
    o = ord(ch)
    return (o < 0x20 or 0x7F <= o <= 0x9F or 0xD800 <= o <= 0xDFFF or o in (0x2028, 0x2029)
            or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069 or 0x200B <= o <= 0x200F or 0xFDD0 <= o <= 0xFDEF
            or (o & 0xFFFE) == 0xFFFE)         # the noncharacters U+xxFFFE and U+xxFFFF of every plane


def visible(text: str) -> str:
    """``text`` with every hidden character (see ``_hidden``) written out: ``\\n``, ``\\x1b``, ``\\u202e``."""
    return "".join((_NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"))
                   if _hidden(ch) else ch for ch in text)


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        text = "'" + text
    return visible(text)


def dumps(columns: Iterable[str], rows: Iterable[Mapping[str, object]]) -> bytes:
    columns = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    return (BOM + buffer.getvalue()).encode("utf-8")
