"""A small WQL evaluator for the targeting tests: GPO WMI filters on ``Win32_OperatingSystem``
(test_targeting.py) and ConfigMgr collection queries on ``SMS_R_System`` (test_cm_targeting.py).

Why it exists: a filter or collection query is only right if it picks exactly the intended machines,
and the classic way to get one wrong is to order build numbers as text. ``BuildNumber`` (WMI) and
``Build`` (ConfigMgr) are *strings*, so ``BuildNumber >= "17763"`` lets "9600" in and
``Build >= "10.0.17763"`` lets "6.3.9600" in. Checking the generated queries with Python's own
comparisons, or with numbers, would hide that; this evaluator follows WQL's typing on purpose so the
tests hold the queries against real version tables the way WMI and ConfigMgr would.

The subset it implements (anything else is a ``SyntaxError``)::

    SELECT * | prop [, prop ...] FROM <class> [INNER JOIN <class2> ON <class2>.p = <class>.p ...] WHERE <condition>
    condition := condition OR condition | condition AND condition | NOT condition | ( condition )
               | prop (= | <> | != | < | > | <= | >=) literal
               | prop LIKE "pattern"            -- % any run, _ one character, [a-z] / [^a-z] sets
               | prop IN (literal [, literal ...])
    prop      := Name | <class>.Name            -- a qualified name must name the FROM or a joined class
    literal   := "text" | 'text' (backslash escapes) | number

Semantics: a quoted literal is compared *as a string*, case-insensitively (so "9600" > "17763");
a bare number is compared as a number; ``IN`` is a chain of ``=``; ``LIKE`` is case-insensitive and
whole-value. Property names are looked up in the row exactly as spelled (a misspelt one is a
``KeyError``, which is what a test wants). A query without a join reads a row ``{property: value}``;
a query with joins (ConfigMgr's collection queries join hardware-inventory classes) reads a row
``{class: {property: value}}``, every property in it qualified, and an inner join drops the row when
the joined class is missing (no inventory yet) or the join keys differ. Not implemented: outer joins,
subselects, ``IS NULL``, ``ISA``, ``ASSOCIATORS``, ``__CLASS`` and other system properties,
date/time literals.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Callable, Union

__all__ = ["BoolOp", "Cmp", "Join", "Not", "Query", "comparisons", "evaluate", "matches", "parse_wql"]

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<op><=|>=|<>|!=|=|<|>)
  | (?P<punct>[(),*])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)
""", re.VERBOSE)

Literal = Union[str, int, float]


@dataclass(frozen=True)
class Cmp:
    prop: str                     # unqualified property name
    op: str                       # = <> < > <= >= LIKE IN
    values: tuple[Literal, ...]   # one value, or the IN list
    cls: str = ""                 # the class a qualified name names ("" when unqualified)

    @property
    def value(self) -> Literal:
        """The single operand of a comparison other than a several-valued IN."""
        if len(self.values) != 1:
            raise ValueError(f"{self.prop} {self.op} has {len(self.values)} values")
        return self.values[0]


@dataclass(frozen=True)
class Not:
    arg: Any


@dataclass(frozen=True)
class BoolOp:
    op: str                       # AND / OR
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Join:
    cls: str                      # the joined class
    left: tuple[str, str]         # (class, property) on each side of ON ... = ...
    right: tuple[str, str]


@dataclass(frozen=True)
class Query:
    cls: str
    columns: tuple[str, ...]      # () for SELECT *
    where: Any
    joins: tuple[Join, ...] = ()


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                raise SyntaxError(f"WQL: unexpected {text[pos:pos + 15]!r}")
            if m.lastgroup != "ws":
                self.toks.append((m.lastgroup or "", m.group()))
            pos = m.end()
        self.i = 0
        self.cls = ""
        self.classes: dict[str, str] = {}      # lower-case name -> name as written

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def kw(self, word: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].upper() == word:
            self.i += 1
            return True
        return False

    def punct(self, ch: str) -> bool:
        if self.peek() == ("punct", ch):
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: str | None = None) -> str:
        tok = self.peek()
        if not tok or tok[0] != kind or (value is not None and tok[1].upper() != value):
            raise SyntaxError(f"WQL: expected {value or kind}, found {tok}")
        self.i += 1
        return tok[1]

    def query(self) -> Query:
        self.expect("word", "SELECT")
        columns: list[str] = []
        if not self.punct("*"):
            columns.append(self.expect("word"))
            while self.punct(","):
                columns.append(self.expect("word"))
        self.expect("word", "FROM")
        self.cls = self.class_name()
        joins = []
        while self.kw("INNER"):
            self.expect("word", "JOIN")
            joined = self.class_name()
            self.expect("word", "ON")
            left = self.qualified(self.expect("word"))
            self.expect("op", "=")
            right = self.qualified(self.expect("word"))
            joins.append(Join(joined, left, right))
        self.expect("word", "WHERE")
        where = self.or_()
        if self.peek() is not None:
            raise SyntaxError(f"WQL: trailing {self.peek()}")
        return Query(self.cls, tuple(self.prop(c) for c in columns), where, tuple(joins))

    def class_name(self) -> str:
        name = self.expect("word")
        if "." in name:
            raise SyntaxError(f"WQL: {name!r} is not a class name")
        self.classes[name.lower()] = name
        return name

    def qualified(self, name: str) -> tuple[str, str]:
        cls, _, prop = name.rpartition(".")
        if not cls or cls.lower() not in self.classes:
            raise SyntaxError(f"WQL: {name} does not name a property of a class of the query")
        return self.classes[cls.lower()], prop

    def prop(self, name: str) -> str:
        return self.qualified_prop(name)[1]

    def qualified_prop(self, name: str) -> tuple[str, str]:
        cls, _, prop = name.rpartition(".")
        if cls and cls.lower() not in self.classes:
            raise SyntaxError(f"WQL: {name} is not a property of {self.cls}")
        return (self.classes[cls.lower()] if cls else ""), prop

    def or_(self) -> Any:
        args = [self.and_()]
        while self.kw("OR"):
            args.append(self.and_())
        return args[0] if len(args) == 1 else BoolOp("OR", tuple(args))

    def and_(self) -> Any:
        args = [self.not_()]
        while self.kw("AND"):
            args.append(self.not_())
        return args[0] if len(args) == 1 else BoolOp("AND", tuple(args))

    def not_(self) -> Any:
        if self.kw("NOT"):
            return Not(self.not_())
        if self.punct("("):
            inner = self.or_()
            self.expect("punct", ")")
            return inner
        cls, prop = self.qualified_prop(self.expect("word"))
        if self.kw("LIKE"):
            pattern = self.literal()
            if not isinstance(pattern, str):
                raise SyntaxError(f"WQL: LIKE takes a string pattern, found {pattern!r}")
            _like_regex(pattern)                      # a malformed pattern is a syntax error now
            return Cmp(prop, "LIKE", (pattern,), cls)
        if self.kw("IN"):
            self.expect("punct", "(")
            values = [self.literal()]
            while self.punct(","):
                values.append(self.literal())
            self.expect("punct", ")")
            return Cmp(prop, "IN", tuple(values), cls)
        op = self.expect("op")
        return Cmp(prop, "<>" if op == "!=" else op, (self.literal(),), cls)

    def literal(self) -> Literal:
        kind, lit = self.peek() or ("", "")
        if kind == "string":
            self.i += 1
            return re.sub(r"\\(.)", r"\1", lit[1:-1], flags=re.DOTALL)
        if kind == "number":
            self.i += 1
            return float(lit) if "." in lit else int(lit)
        raise SyntaxError(f"WQL: expected a literal, found {lit!r}")


def parse_wql(text: str) -> Query:
    """Parse one WQL query of the subset above; a ``SyntaxError`` for anything outside it."""
    return _Parser(text).query()


@functools.lru_cache(maxsize=None)
def _like_regex(pattern: str) -> re.Pattern[str]:
    rx, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%":
            rx += ".*"
        elif ch == "_":
            rx += "."
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise SyntaxError(f"WQL: unclosed [ in LIKE pattern {pattern!r}")
            body = pattern[i + 1:end]
            negate = body.startswith("^")
            body = re.escape(body[1:] if negate else body).replace("\\-", "-")
            rx += "[" + ("^" if negate else "") + body + "]"
            i = end
        else:
            rx += re.escape(ch)
        i += 1
    return re.compile(rx, re.IGNORECASE | re.DOTALL)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": lambda a, b: a < b,
    ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}


def _compare(op: str, actual: Any, value: Literal) -> bool:
    if isinstance(value, str):
        # String literal: compared as text, case-insensitively, as WMI does. This is the trap.
        return _ORDER[op](str(actual).casefold(), value.casefold())
    return _ORDER[op](float(actual), float(value))


def evaluate(node: Any, row: dict[str, Any], joined: bool = False) -> bool:
    """The truth of a parsed WHERE condition for one instance, given as {property: value} (or, for a
    query with joins, {class: {property: value}})."""
    if isinstance(node, BoolOp):
        results = [evaluate(a, row, joined) for a in node.args]
        return all(results) if node.op == "AND" else any(results)
    if isinstance(node, Not):
        return not evaluate(node.arg, row, joined)
    assert isinstance(node, Cmp)
    if joined:
        if not node.cls:
            raise SyntaxError(f"WQL: {node.prop} must be qualified in a query with joins")
        actual = row[node.cls][node.prop]
    else:
        actual = row[node.prop]
    if node.op == "LIKE":
        return _like_regex(str(node.value)).fullmatch(str(actual)) is not None
    if node.op == "IN":
        return any(_compare("=", actual, v) for v in node.values)
    return _compare(node.op, actual, node.value)


def matches(query: str, row: dict[str, Any], cls: str) -> bool:
    """Whether ``query`` (which must select from ``cls``) selects the instance ``row``."""
    q = parse_wql(query)
    if q.cls.lower() != cls.lower():
        raise AssertionError(f"WQL: query reads {q.cls}, expected {cls}")
    if not q.joins:
        nested = row.get(q.cls)
        return evaluate(q.where, nested if isinstance(nested, dict) else row)
    for j in q.joins:
        if j.cls not in row:
            return False                      # inner join: no instance of the joined class
        (lc, lp), (rc, rp) = j.left, j.right
        if row[lc][lp] != row[rc][rp]:
            return False
    return evaluate(q.where, row, joined=True)


def comparisons(node: Any) -> list[Cmp]:
    """Every comparison in a parsed condition, left to right."""
    if isinstance(node, BoolOp):
        return [c for a in node.args for c in comparisons(a)]
    if isinstance(node, Not):
        return comparisons(node.arg)
    return [node]
