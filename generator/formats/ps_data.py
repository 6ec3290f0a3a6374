"""Reads the data section of mdegen's own PowerShell scripts back into Python values.

Import-MdeGpo.ps1 and New-MdeCmPackage.ps1 carry what they create (GPOs, WMI filters, packages,
collections) as plain assignments at the start of a line, ``$Name = <value>``, where a value is a
single-quoted literal, ``$null``, ``$true``/``$false``, an integer, an array ``@( ... )`` or a
``[pscustomobject]@{ Key = value ... }``. `mdegen diff` needs those facts (which collection a
package is deployed to, which WMI filter a GPO gets) and they live nowhere else, so this reads
exactly that subset and nothing more; a script or an assignment outside it raises PsDataError.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from generator.errors import MdegenError
from generator.escaping import PS_SINGLE_QUOTES, ps_unquote_single


class PsDataError(MdegenError, ValueError):
    """Text that is not one of the values mdegen writes into its scripts' data section."""


_QUOTES = "".join(sorted(PS_SINGLE_QUOTES))
_TOKEN = re.compile(
    rf"(?P<string>[{_QUOTES}](?:[^{_QUOTES}]|[{_QUOTES}][{_QUOTES}])*[{_QUOTES}])"
    r"|(?P<open>@\(|\[pscustomobject\]@\{|@\{)"
    r"|(?P<close>[)}])"
    r"|(?P<sep>[;\n])"
    r"|(?P<assign>=)"
    r"|(?P<constant>\$(?:null|true|false)\b)"
    r"|(?P<number>-?\d+\b)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<comment>\#[^\n]*)"
    r"|(?P<space>[ \t\r]+)",
    re.IGNORECASE,
)
_ASSIGNMENT = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(?=@\(|\[pscustomobject\]@\{)", re.MULTILINE | re.IGNORECASE)
_CONSTANTS = {"$null": None, "$true": True, "$false": False}


def _tokens(text: str, start: int):
    pos = start
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise PsDataError(f"unexpected {text[pos]!r} at character {pos}")
        pos = m.end()
        if m.lastgroup not in ("space", "comment"):
            yield m.lastgroup, m.group(), pos


class _Reader:
    def __init__(self, text: str, start: int) -> None:
        self.tokens = _tokens(text, start)
        self.ahead = None

    def next(self):
        if self.ahead is not None:
            token, self.ahead = self.ahead, None
            return token
        try:
            return next(self.tokens)
        except StopIteration:
            raise PsDataError("the text ends inside a value") from None

    def peek(self):
        if self.ahead is None:
            self.ahead = self.next()
        return self.ahead

    def skip_separators(self) -> None:
        while self.peek()[0] == "sep":
            self.next()

    def value(self):
        kind, text, _ = self.next()
        if kind == "string":
            return ps_unquote_single(text)
        if kind == "constant":
            return _CONSTANTS[text.lower()]
        if kind == "number":
            return int(text)
        if kind == "open" and text == "@(":
            items = []
            while True:
                self.skip_separators()
                if self.peek()[0] == "close":
                    if self.next()[1] != ")":
                        raise PsDataError("an array ends with '}'")
                    return items
                items.append(self.value())
        if kind == "open":
            record = {}
            while True:
                self.skip_separators()
                kind, text, _ = self.next()
                if kind == "close":
                    if text != "}":
                        raise PsDataError("a hashtable ends with ')'")
                    return record
                if kind != "word" or self.next()[0] != "assign":
                    raise PsDataError(f"expected 'Key = value' in a hashtable, found {text!r}")
                record[text] = self.value()
        raise PsDataError(f"{text!r} is not a value of mdegen's data section")


def loads(text: str, names: Iterable[str]) -> dict[str, object]:
    """The value of the first ``$Name = @(...)`` or ``$Name = [pscustomobject]@{...}`` assignment at
    the start of a line, for each of ``names`` the text has (arrays as lists, records as dicts).
    Only those are read: the rest of a script is code, not data. PsDataError for one that does not read."""
    wanted = {n.lower() for n in names}
    values = {}
    for m in _ASSIGNMENT.finditer(text):
        name = m.group(1)
        if name.lower() not in wanted or name in values:
            continue
        try:
            values[name] = _Reader(text, m.end()).value()
        except (PsDataError, ValueError) as exc:
            line = text.count("\n", 0, m.start()) + 1
            raise PsDataError(f"line {line}: ${name}: {exc}") from None
    return values
