"""Reads the data section of mdegen's own PowerShell scripts back into Python values.

Import-MdeGpo.ps1 and New-MdeCmPackage.ps1 carry what they create (GPOs, WMI filters, packages,
collections) as plain assignments at the start of a line, ``$Name = <value>``, where a value is a
single-quoted literal, ``$null``, ``$true``/``$false``, an integer, an array ``@( ... )`` or a
``[pscustomobject]@{ Key = value ... }``. `mdegen diff` needs those facts (which collection a
package is deployed to, which WMI filter a GPO gets) and they live nowhere else, so this reads
exactly that subset and nothing more; an assignment of the names asked for that does not read as
that subset raises PsDataError.
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
    r"|(?P<sep>[;\n,])"
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


_MAX_DEPTH = 16        # mdegen nests three deep; deeper text is not its own


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

    def separators(self, allowed: str) -> bool:
        """Skip separators (of ``allowed``); whether there was one."""
        found = False
        while self.peek()[0] == "sep":
            if self.peek()[1] not in allowed:
                raise PsDataError(f"{self.peek()[1]!r} does not separate the items here")
            self.next()
            found = True
        return found

    def value(self, depth: int = 0):
        if depth > _MAX_DEPTH:
            raise PsDataError("values are nested deeper than mdegen writes them")
        kind, text, _ = self.next()
        if kind == "string":
            return ps_unquote_single(text)
        if kind == "constant":
            return _CONSTANTS[text.lower()]
        if kind == "number":
            if len(text) > 18:
                raise PsDataError(f"the number {text[:20]}... is longer than mdegen writes")
            return int(text)
        if kind == "open" and text == "@(":
            items = []
            self.separators("\n,;")
            while self.peek()[0] != "close":
                items.append(self.value(depth + 1))
                if not self.separators("\n,;") and self.peek()[0] != "close":
                    raise PsDataError("two items of an array without a line break, ',' or ';' between them")
            if self.next()[1] != ")":
                raise PsDataError("an array ends with '}'")
            return items
        if kind == "open":
            record: dict[str, object] = {}
            self.separators("\n;")
            while self.peek()[0] != "close":
                kind, text, _ = self.next()
                if kind != "word" or self.next()[0] != "assign":
                    raise PsDataError(f"expected 'Key = value' in a hashtable, found {text!r}")
                if text.lower() in (k.lower() for k in record):
                    raise PsDataError(f"the key {text!r} is there twice")
                record[text] = self.value(depth + 1)
                if not self.separators("\n;") and self.peek()[0] != "close":
                    raise PsDataError("two entries of a hashtable without a line break or ';' between them")
            if self.next()[1] != "}":
                raise PsDataError("a hashtable ends with ')'")
            return record
        raise PsDataError(f"{text!r} is not a value of mdegen's data section")


def loads(text: str, names: Iterable[str]) -> dict[str, object]:
    """For each of ``names`` (PowerShell's variable names ignore case), the value of its first
    assignment at the start of a line, when that is an array ``@(...)`` or a record
    ``[pscustomobject]@{...}`` (arrays as lists, records as dicts), keyed as ``names`` spells it.
    A name the text does not assign so is absent. Only the first assignment is read: later ones are
    the script's code, not its data. PsDataError for one that does not read."""
    wanted = {n.lower(): n for n in names}
    values: dict[str, object] = {}
    for m in _ASSIGNMENT.finditer(text):
        name = wanted.get(m.group(1).lower())
        if name is None or name in values:
            continue
        try:
            values[name] = _Reader(text, m.end()).value()
        except (PsDataError, ValueError) as exc:
            line = text.count("\n", 0, m.start()) + 1
            raise PsDataError(f"line {line}: ${m.group(1)}: {exc}") from None
    return values
