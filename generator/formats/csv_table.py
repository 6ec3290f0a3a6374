"""CSV for admins' spreadsheets: what `mdegen plan` and `mdegen report` write.

UTF-8 with a BOM (Excel on Windows reads UTF-8 only with one), CRLF line ends, every field in
double quotes with inner quotes doubled (as Export-Csv writes, so Import-Csv reads it back). The
values come from inventories and results, which computers write themselves (a computer account can
set its own operatingSystem attribute), so two kinds of text are defused:

* a field that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) gets a leading
  ``'``: a spreadsheet would otherwise run it as a formula (CSV injection);
* control characters are shown as ``\\n``, ``\\r``, ``\\t`` or ``\\xNN``: one row stays one line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: str) -> str:
    """``text`` with every control character written out (``\\n``, ``\\x1b`` ...)."""
    return "".join(_NAMED.get(ch, f"\\x{ord(ch):02x}") if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in text)


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
