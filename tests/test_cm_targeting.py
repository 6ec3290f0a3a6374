"""ConfigMgr collection queries per target (generator/targeting.py: cm_collection_wql, cm_collection_for).

The queries are held against a table of (OperatingSystemNameandVersion, Build) pairs as ConfigMgr
discovery reports them, by evaluating the generated WQL with a small evaluator written here. The
evaluator follows WQL's typing like the one in test_targeting.py: a quoted literal is compared *as a
string* (so "6.3.9600" > "10.0.17763"). That evaluator reads only Win32_OperatingSystem filters
(no IN, no class-qualified names, no column list), so this module carries its own for SMS_R_System.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.builders.sccm_model import CmCollection
from generator.config import SERVER_BUILDS, Config, Target
from generator.targeting import (
    CM_DOMAIN_CONTROLLER,
    CM_MEMBER_SERVER,
    cm_collection_for,
    cm_collection_wql,
    filter_name,
)

# --- A tiny WQL evaluator for collection queries ------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>"[^"]*"|'[^']*')
  | (?P<number>-?\d+(?![\w.]))
  | (?P<op><=|>=|<>|!=|=|<|>)
  | (?P<punct>[(),*])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)
""", re.VERBOSE)


@dataclass(frozen=True)
class Cmp:
    prop: str
    op: str                       # = <> < > <= >= LIKE IN
    values: tuple[Any, ...]       # one value, or the IN list


@dataclass(frozen=True)
class BoolOp:
    op: str                       # AND / OR / NOT
    args: tuple[Any, ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                raise SyntaxError(f"WQL: unexpected {text[pos:pos + 15]!r}")
            if m.lastgroup != "ws":
                self.toks.append((m.lastgroup, m.group()))
            pos = m.end()
        self.i = 0
        self.cls = ""

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def kw(self, word: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].upper() == word:
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: str | None = None) -> str:
        tok = self.peek()
        if not tok or tok[0] != kind or (value is not None and tok[1].upper() != value):
            raise SyntaxError(f"WQL: expected {value or kind}, found {tok}")
        self.i += 1
        return tok[1]

    def query(self) -> Any:
        self.expect("word", "SELECT")
        if not (self.peek() == ("punct", "*") and self.expect("punct")):
            self.expect("word")
            while self.peek() == ("punct", ","):
                self.i += 1
                self.expect("word")
        self.expect("word", "FROM")
        self.cls = self.expect("word")
        self.expect("word", "WHERE")
        where = self.or_()
        if self.peek() is not None:
            raise SyntaxError(f"WQL: trailing {self.peek()}")
        return where

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
            return BoolOp("NOT", (self.not_(),))
        if self.peek() == ("punct", "("):
            self.i += 1
            inner = self.or_()
            self.expect("punct", ")")
            return inner
        prop = self.expect("word")
        cls, _, name = prop.rpartition(".")
        if cls and cls.lower() != self.cls.lower():
            raise SyntaxError(f"WQL: {prop} is not a property of {self.cls}")
        if self.kw("LIKE"):
            return Cmp(name, "LIKE", (self.literal(),))
        if self.kw("IN"):
            self.expect("punct", "(")
            values = [self.literal()]
            while self.peek() == ("punct", ","):
                self.i += 1
                values.append(self.literal())
            self.expect("punct", ")")
            return Cmp(name, "IN", tuple(values))
        op = self.expect("op")
        return Cmp(name, "<>" if op == "!=" else op, (self.literal(),))

    def literal(self) -> Any:
        kind, lit = self.peek() or ("", "")
        self.i += 1
        if kind == "string":
            return lit[1:-1]
        if kind == "number":
            return int(lit)
        raise SyntaxError(f"WQL: expected a literal, found {lit!r}")


def parse(text: str) -> tuple[str, Any]:
    p = _Parser(text)
    where = p.query()
    return p.cls, where


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": lambda a, b: a < b,
    ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}


def _like(value: str, pattern: str) -> bool:
    rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.IGNORECASE | re.DOTALL) is not None


def _eval(node: Any, row: dict[str, Any]) -> bool:
    if isinstance(node, BoolOp):
        results = [_eval(a, row) for a in node.args]
        return {"AND": all, "OR": any}[node.op](results) if node.op != "NOT" else not results[0]
    actual = row[node.prop]
    if node.op == "LIKE":
        return _like(str(actual), node.values[0])
    if node.op == "IN":
        return any(str(actual).casefold() == str(v).casefold() for v in node.values)
    (value,) = node.values
    if isinstance(value, str):
        # String literal: compared as text, case-insensitively. This is the trap.
        return _ORDER[node.op](str(actual).casefold(), value.casefold())
    return _ORDER[node.op](float(actual), float(value))


def matches(query: str, row: dict[str, Any]) -> bool:
    cls, where = parse(query)
    assert cls == "SMS_R_System"
    return _eval(where, row)


def _comparisons(node: Any) -> list[Cmp]:
    if isinstance(node, BoolOp):
        return [c for a in node.args for c in _comparisons(a)]
    return [node]


# --- Resources as ConfigMgr discovery reports them ----------------------------------------------


@dataclass(frozen=True)
class Resource:
    caption: str
    os_name: str      # SMS_R_System.OperatingSystemNameandVersion
    build: str        # SMS_R_System.Build

    def row(self) -> dict[str, Any]:
        return {"OperatingSystemNameandVersion": self.os_name, "Build": self.build, "Name": self.caption}


_SERVERS = [
    ("Windows Server 2008 R2 SP1", "6.1.7601"),
    ("Windows Server 2012", "6.2.9200"),
    ("Windows Server 2012 R2", "6.3.9600"),
    ("Windows Server 2016", "10.0.14393"),
    ("Windows Server, version 1709", "10.0.16299"),
    ("Windows Server, version 1803", "10.0.17134"),
    ("Windows Server 2019", "10.0.17763"),
    ("Windows Server, version 1903", "10.0.18362"),
    ("Windows Server, version 1909", "10.0.18363"),
    ("Windows Server, version 2004", "10.0.19041"),
    ("Windows Server, version 20H2", "10.0.19042"),
    ("Windows Server 2022", "10.0.20348"),
    ("Windows Server, version 23H2", "10.0.25398"),
    ("Windows Server 2025", "10.0.26100"),
]
_WORKSTATIONS = [
    ("Windows 7 SP1", "6.1.7601"),
    ("Windows 10 1507", "10.0.10240"),
    ("Windows 10 1809 / LTSC 2019", "10.0.17763"),
    ("Windows 10 2004", "10.0.19041"),
    ("Windows 10 20H2", "10.0.19042"),
    ("Windows 11 24H2", "10.0.26100"),
]


def _nt(kind: str, version: str) -> str:
    major_minor = ".".join(version.split(".")[:2])
    return f"Microsoft Windows NT {kind} {major_minor}"


RESOURCES: list[Resource] = (
    [Resource(f"{c} member server", _nt("Server", v), v) for c, v in _SERVERS]
    + [Resource(f"{c} domain controller", _nt("Advanced Server", v), v) for c, v in _SERVERS]
    + [Resource(c, _nt("Workstation", v), v) for c, v in _WORKSTATIONS]
)


def matching(query: str) -> set[str]:
    return {r.caption for r in RESOURCES if matches(query, r.row())}


def _member(*captions: str) -> set[str]:
    return {f"{c} member server" for c in captions}


def _dc(*captions: str) -> set[str]:
    return {f"{c} domain controller" for c in captions}


def make_config(targets: list[dict[str, Any]] | None = None, organization: str = "Contoso Ltd") -> Config:
    data: dict[str, Any] = {
        "version": 1,
        "organization": organization,
        "release": {"version": "2026.11.1", "date": dt.date(2026, 11, 1)},
        "packages": {"onboarding": "WindowsDefenderATPOnboardingPackage.zip"},
        "share": "\\\\fs01.contoso.com\\MDE$\\Onboarding",
    }
    if targets is not None:
        data["targets"] = targets
    return Config.model_validate(data)


_2019, _2022, _2025 = "Windows Server 2019", "Windows Server 2022", "Windows Server 2025"
_SAC = ["Windows Server, version 1803", "Windows Server 2019", "Windows Server, version 1903",
        "Windows Server, version 1909", "Windows Server, version 2004", "Windows Server, version 20H2",
        "Windows Server, version 23H2"]

CASES = {
    "default target": (None, _member(_2019, _2022, _2025)),
    "domain controllers in": ([{"name": "All servers", "domain_controllers": True}],
                              _member(_2019, _2022, _2025) | _dc(_2019, _2022, _2025)),
    "sac only": ([{"name": "SAC", "os": ["sac"]}], _member(*_SAC)),
    "sac with DCs": ([{"name": "SAC", "os": ["sac"], "domain_controllers": True}], _member(*_SAC) | _dc(*_SAC)),
    "2019 only": ([{"name": "2019", "os": ["2019"]}], _member(_2019)),
    "domain controllers only": ([{"name": "DCs", "os": ["2022", "2025"], "domain_controllers": "only"}],
                                _dc(_2022, _2025)),
    "2022 and 2025": ([{"name": "New", "os": ["2025", "2022"]}], _member(_2022, _2025)),
}


# --- the queries match exactly the intended resources -------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_collection_matches_exactly_the_intended_resources(case: str) -> None:
    targets, expected = CASES[case]
    cfg = make_config(targets)
    (eff,) = cfg.effective_targets()
    query = cm_collection_for(cfg, eff).query
    assert matching(query) == expected
    assert not any(matches(query, r.row()) for r in RESOURCES if "Workstation" in r.os_name)


_RELEASES = list(SERVER_BUILDS)
_KINDS = {False: {CM_MEMBER_SERVER}, True: {CM_MEMBER_SERVER, CM_DOMAIN_CONTROLLER}, "only": {CM_DOMAIN_CONTROLLER}}


@settings(max_examples=60, deadline=None)
@given(os=st.lists(st.sampled_from(_RELEASES), min_size=1, max_size=4, unique=True),
       dcs=st.sampled_from([False, True, "only"]))
def test_any_target_matches_its_builds_and_kinds_only(os: list[str], dcs: bool | str) -> None:
    target = Target(name="T", os=os, domain_controllers=dcs)
    query = cm_collection_wql(target)
    builds = {f"10.0.{b}" for r in os for b in SERVER_BUILDS[r]}
    for r in RESOURCES:
        assert matches(query, r.row()) == (r.build in builds and r.os_name in _KINDS[dcs]), r.caption
    # The same target however the config orders its releases: one query text.
    assert cm_collection_wql(Target(name="T", os=list(reversed(os)), domain_controllers=dcs)) == query


@settings(max_examples=60, deadline=None)
@given(os=st.lists(st.sampled_from(_RELEASES), min_size=1, max_size=4, unique=True),
       dcs=st.sampled_from([False, True, "only"]))
def test_queries_only_test_equality(os: list[str], dcs: bool | str) -> None:
    """Structural guard: Build and the OS name only by string equality (= or IN), never ordered or LIKE."""
    cls, where = parse(cm_collection_wql(Target(name="T", os=os, domain_controllers=dcs)))
    assert cls == "SMS_R_System"
    comparisons = _comparisons(where)
    assert {c.prop for c in comparisons} == {"Build", "OperatingSystemNameandVersion"}
    for c in comparisons:
        assert c.op in ("=", "IN") and all(isinstance(v, str) for v in c.values)
        if c.prop == "Build":
            assert all(re.fullmatch(r"10\.0\.\d{5}", v) for v in c.values)
            assert list(c.values) == sorted(c.values, key=lambda v: int(v.rsplit(".", 1)[1]))
        else:
            assert set(c.values) <= {CM_MEMBER_SERVER, CM_DOMAIN_CONTROLLER}
        assert (c.op == "IN") == (len(c.values) > 1)


def test_default_target_query_text() -> None:
    columns = ("SMS_R_System.ResourceID,SMS_R_System.ResourceType,SMS_R_System.Name,SMS_R_System.SMSUniqueIdentifier,"
               "SMS_R_System.ResourceDomainORWorkgroup,SMS_R_System.Client")
    assert cm_collection_wql(Target(name="Servers")) == (
        f"select {columns} from SMS_R_System where "
        'SMS_R_System.OperatingSystemNameandVersion = "Microsoft Windows NT Server 10.0" and '
        'SMS_R_System.Build IN ("10.0.17763","10.0.20348","10.0.26100")')
    assert cm_collection_wql(Target(name="x", os=["2019"], domain_controllers=True)).endswith(
        'where SMS_R_System.OperatingSystemNameandVersion IN ("Microsoft Windows NT Server 10.0",'
        '"Microsoft Windows NT Advanced Server 10.0") and SMS_R_System.Build = "10.0.17763"')


def test_evaluator_catches_the_traps() -> None:
    """Plausible but wrong queries. The evaluator must reject each, or these tests prove nothing."""
    base = "select * from SMS_R_System where "
    ordered = matching(base + 'SMS_R_System.OperatingSystemNameandVersion = "Microsoft Windows NT Server 10.0" '
                              'and SMS_R_System.Build >= "10.0.17763"')
    assert "Windows Server 2016 member server" not in ordered                 # "10.0.14393" < "10.0.17763"
    assert "Windows Server 2012 R2 member server" not in ordered              # excluded by the OS name only
    assert "Windows Server 2012 R2 member server" in matching(base + 'SMS_R_System.Build >= "10.0.17763"')  # "6.3..." > "10.0..."
    # "%Server%" lets domain controllers ("Advanced Server") in.
    loose = matching(base + 'SMS_R_System.OperatingSystemNameandVersion LIKE "%Server 10.0" '
                            'and SMS_R_System.Build = "10.0.17763"')
    assert "Windows Server 2019 domain controller" in loose
    # Build alone lets the workstation with the same build in.
    assert "Windows 10 1809 / LTSC 2019" in matching(base + 'SMS_R_System.Build = "10.0.17763"')


def test_evaluator_semantics() -> None:
    row = Resource("x", CM_MEMBER_SERVER, "10.0.17763").row()
    base = "select SMS_R_System.Name from SMS_R_System where "
    yes = ['SMS_R_System.Build = "10.0.17763"', 'SMS_R_System.Build IN ("1","10.0.17763")',
           'NOT SMS_R_System.Build = "1"', 'Build like "10.0.%"',
           '(SMS_R_System.Build = "1" OR SMS_R_System.Build = "10.0.17763") AND NOT (Build <> "10.0.17763")',
           'SMS_R_System.OperatingSystemNameandVersion = "microsoft windows nt server 10.0"']
    no = ['SMS_R_System.Build IN ("1","2")', 'SMS_R_System.Build = "10.0.1776"', 'Build LIKE "6.%"']
    for clause in yes:
        assert matches(base + clause, row), clause
    for clause in no:
        assert not matches(base + clause, row), clause
    with pytest.raises(SyntaxError):
        parse(base + "SMS_G_System_OPERATING_SYSTEM.BuildNumber = \"17763\"")     # another class
    with pytest.raises(SyntaxError):
        parse(base + "SMS_R_System.Build IN (")


# --- the record ---------------------------------------------------------------------------------


def test_collection_record() -> None:
    cfg = make_config([{"name": "Servers DC", "os": ["sac", "2019"], "domain_controllers": True}])
    (eff,) = cfg.effective_targets()
    c = cm_collection_for(cfg, eff)
    assert isinstance(c, CmCollection)
    assert c == cm_collection_for(cfg, eff.target)          # Target and EffectiveTarget alike
    assert c.name == filter_name(eff) == "MDE - Servers DC - Windows Server 2019, SAC member servers and domain controllers"
    assert c.rule_name == "MDE - Servers DC"
    assert c.query == cm_collection_wql(eff)
    for text in ("target 'Servers DC'", "Windows Server 2019 (10.0.17763)",
                 "Windows Server SAC 1803 and later (10.0.17134, 10.0.17763,", "member servers and domain controllers",
                 "Generated by mdegen for Contoso Ltd release 2026.11.1."):
        assert text in c.comment
    default = cm_collection_for(make_config(), Target(name="Servers"))
    assert default.name == "MDE - Servers - Windows Server 2019, 2022, 2025 member servers"
    assert default.comment.startswith("Defender for Endpoint onboarding, target 'Servers': Windows Server 2019 "
                                      "(10.0.17763), Windows Server 2022 (10.0.20348) and Windows Server 2025 "
                                      "(10.0.26100) member servers.")


def test_rule_name_does_not_depend_on_releases() -> None:
    """The script finds the rule by name; a release change must show up as a changed query, not as a
    second rule added beside the old one."""
    cfg = make_config()
    a = cm_collection_for(cfg, Target(name="Servers", os=["2019"]))
    b = cm_collection_for(cfg, Target(name="Servers", os=["2019", "2022"]))
    assert a.rule_name == b.rule_name and a.query != b.query
