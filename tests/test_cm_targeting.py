"""ConfigMgr collection queries per target (generator/targeting.py: cm_collection_wql, cm_collection_for).

The queries are held against a table of resources as ConfigMgr holds them (discovery data in
SMS_R_System: OperatingSystemNameandVersion, Build; hardware inventory in
SMS_G_System_OPERATING_SYSTEM: ProductType, OperatingSystemSKU), by evaluating the generated WQL with
the small evaluator in tests/wql.py (shared with test_targeting.py). It follows WQL's typing: a quoted literal is compared *as a string*
(so "6.3.9600" > "10.0.17763"); ``test_evaluator_catches_the_traps`` proves it does. The server
releases, the configs and their expected sets (``_SERVERS``, ``make_config``, ``CASES``) are the ones
test_targeting.py holds the WMI filters to: a target must pick the same servers either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.records import CmCollection
from generator.config import Target
from generator.project import resolve, resolve_target
from generator.releases import BY_KEY, RELEASES
from generator.releases import MULTI_SESSION_SKU
from generator.targeting import CM_OS_CLASS, cm_collection_for, cm_collection_wql, filter_name
import wql
from test_targeting import _MULTI_SESSION, _SERVERS, CASES, EDITIONS, make_config
from wql import comparisons as _comparisons
from wql import parse_wql

# --- The shared WQL evaluator (tests/wql.py), read as this module's tests use it ----------------


def parse(text: str) -> tuple[str, Any]:
    q = parse_wql(text)
    return q.cls, q.where


def matches(query: str, row: dict[str, Any]) -> bool:
    return wql.matches(query, row, "SMS_R_System")


# --- Resources as ConfigMgr discovery reports them ----------------------------------------------


# What the OS name in discovery data says is deliberately not what decides: public reports show
# "Microsoft Windows NT Advanced Server" for Datacenter editions, member servers included, and a
# multi-session host reports "...NT Server". The table models that, so a query that trusted the
# name would pick the wrong resources here.
_SERVER_NAME = {"Standard": "Server", "Datacenter": "Advanced Server"}


@dataclass(frozen=True)
class Resource:
    caption: str
    os_name: str            # SMS_R_System.OperatingSystemNameandVersion
    build: str              # SMS_R_System.Build
    product_type: int       # SMS_G_System_OPERATING_SYSTEM.ProductType
    sku: int                # SMS_G_System_OPERATING_SYSTEM.OperatingSystemSKU
    inventoried: bool = True    # has hardware inventory yet
    resource_id: int = 0

    def row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"SMS_R_System": {"ResourceId": self.resource_id, "Name": self.caption,
                                                "OperatingSystemNameandVersion": self.os_name, "Build": self.build}}
        if self.inventoried:
            row[CM_OS_CLASS] = {"ResourceId": self.resource_id, "ProductType": self.product_type,
                                "OperatingSystemSKU": self.sku, "BuildNumber": self.build.rsplit(".", 1)[1]}
        return row

    @property
    def multi_session(self) -> bool:
        return self.sku == MULTI_SESSION_SKU


_WORKSTATIONS = [
    ("Windows 7 SP1", "6.1.7601"),
    ("Windows 8.1", "6.3.9600"),
    ("Windows 10 1607 / LTSB 2016", "10.0.14393"),
    ("Windows 10 1507", "10.0.10240"),
    ("Windows 10 1809 / LTSC 2019", "10.0.17763"),
    ("Windows 10 2004", "10.0.19041"),
    ("Windows 10 20H2", "10.0.19042"),
    ("Windows 11 24H2", "10.0.26100"),
]


def _nt(kind: str, version: str) -> str:
    major_minor = ".".join(version.split(".")[:2])
    return f"Microsoft Windows NT {kind} {major_minor}"


_ROWS: list[Resource] = (
    [Resource(f"{c} {e} member server", _nt(_SERVER_NAME[e], v), v, 3, sku)
     for c, v in _SERVERS for e, sku in EDITIONS.items()]
    + [Resource(f"{c} {e} domain controller", _nt("Advanced Server", v), v, 2, sku)
       for c, v in _SERVERS for e, sku in EDITIONS.items()]
    + [Resource(c, _nt("Workstation", v), v, 1, 4) for c, v in _WORKSTATIONS]
    + [Resource(c, _nt("Server", v), v, 3, MULTI_SESSION_SKU) for c, v in _MULTI_SESSION]
)
RESOURCES: list[Resource] = [Resource(**{**r.__dict__, "resource_id": i}) for i, r in enumerate(_ROWS, 16777220)]
# A new client before its first hardware inventory: in no collection yet (the inner join).
NOT_INVENTORIED = Resource("Windows Server 2019 new client", _nt("Server", "10.0.17763"), "10.0.17763", 3, 7,
                           inventoried=False, resource_id=16777219)


def matching(query: str) -> set[str]:
    return {r.caption for r in RESOURCES if matches(query, r.row())}


# --- the queries match exactly the intended resources -------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_collection_matches_exactly_the_intended_resources(case: str) -> None:
    targets, expected = CASES[case]
    cfg = make_config(targets)
    (eff,) = resolve(cfg).targets
    query = cm_collection_for(resolve(cfg), eff).query
    assert matching(query) == expected
    assert not any(matches(query, r.row()) for r in RESOURCES if r.product_type == 1 or r.multi_session)
    assert not matches(query, NOT_INVENTORIED.row())


_RELEASES = [r.key for r in RELEASES]
# A target holds releases that onboard by themselves, or down-level ones with an agent (mma onboards
# each of them), never both.
_OS_AND_AGENT = st.one_of(
    st.lists(st.sampled_from([r.key for r in RELEASES if not r.agents]), min_size=1, max_size=4, unique=True)
    .map(lambda os: (os, None)),
    st.lists(st.sampled_from([r.key for r in RELEASES if r.agents]), min_size=1, max_size=3, unique=True)
    .map(lambda os: (os, "mma")))
_TYPES = {False: {3}, True: {2, 3}, "only": {2}}


@given(spec=_OS_AND_AGENT,
       dcs=st.sampled_from([False, True, "only"]))
def test_any_target_matches_its_builds_and_kinds_only(spec: tuple[list[str], str | None], dcs: bool | str) -> None:
    os, agent = spec
    target = resolve_target(Target(name="T", os=os, agent=agent, domain_controllers=dcs))
    query = cm_collection_wql(target)
    builds = {v for r in os for v in BY_KEY[r].build_versions}
    for r in RESOURCES:
        expected = r.build in builds and r.product_type in _TYPES[dcs] and not r.multi_session
        assert matches(query, r.row()) == expected, r.caption
    # The same target however the config orders its releases: one query text.
    assert cm_collection_wql(resolve_target(Target(name="T", os=list(reversed(os)), agent=agent, domain_controllers=dcs))) == query


@given(spec=_OS_AND_AGENT,
       dcs=st.sampled_from([False, True, "only"]))
def test_queries_only_test_equality(spec: tuple[list[str], str | None], dcs: bool | str) -> None:
    """Structural guard: Build only by string equality (= or IN), never ordered or LIKE; product type
    and SKU only as numbers, the SKU only excluded; the OS name of discovery data never read."""
    os, agent = spec
    q = parse_wql(cm_collection_wql(resolve_target(Target(name="T", os=os, agent=agent, domain_controllers=dcs))))
    assert q.cls == "SMS_R_System" and [j.cls for j in q.joins] == [CM_OS_CLASS]
    assert q.joins[0].left == (CM_OS_CLASS, "ResourceId") and q.joins[0].right == ("SMS_R_System", "ResourceId")
    comparisons = _comparisons(q.where)
    assert {(c.cls, c.prop) for c in comparisons} <= {("SMS_R_System", "Build"), (CM_OS_CLASS, "ProductType"),
                                                      (CM_OS_CLASS, "OperatingSystemSKU")}
    for c in comparisons:
        if c.prop == "Build":
            assert c.op in ("=", "IN") and all(re.fullmatch(r"\d+\.\d\.\d{4,5}", v) for v in c.values)
            assert list(c.values) == sorted(c.values, key=lambda v: int(v.rsplit(".", 1)[1]))
        elif c.prop == "ProductType":
            assert c.op == "=" and len(c.values) == 1 and c.value in _TYPES[dcs]
        else:
            assert c.op == "<>" and c.values == (MULTI_SESSION_SKU,) and dcs != "only"
        assert (c.op == "IN") == (len(c.values) > 1)


def test_default_target_query_text() -> None:
    columns = ("SMS_R_System.ResourceID,SMS_R_System.ResourceType,SMS_R_System.Name,SMS_R_System.SMSUniqueIdentifier,"
               "SMS_R_System.ResourceDomainORWorkgroup,SMS_R_System.Client")
    join = ("from SMS_R_System inner join SMS_G_System_OPERATING_SYSTEM on "
            "SMS_G_System_OPERATING_SYSTEM.ResourceId = SMS_R_System.ResourceId")
    assert cm_collection_wql(resolve_target(Target(name="Servers"))) == (
        f"select {columns} {join} where SMS_G_System_OPERATING_SYSTEM.ProductType = 3 and "
        "SMS_G_System_OPERATING_SYSTEM.OperatingSystemSKU <> 175 and "
        'SMS_R_System.Build IN ("10.0.17763","10.0.20348","10.0.26100")')
    assert cm_collection_wql(resolve_target(Target(name="x", os=["2019"], domain_controllers=True))).endswith(
        "where (SMS_G_System_OPERATING_SYSTEM.ProductType = 2 or SMS_G_System_OPERATING_SYSTEM.ProductType = 3) and "
        'SMS_G_System_OPERATING_SYSTEM.OperatingSystemSKU <> 175 and SMS_R_System.Build = "10.0.17763"')
    assert cm_collection_wql(resolve_target(Target(name="y", os=["2022"], domain_controllers="only"))).endswith(
        'where SMS_G_System_OPERATING_SYSTEM.ProductType = 2 and SMS_R_System.Build = "10.0.20348"')


def test_evaluator_catches_the_traps() -> None:
    """Plausible but wrong queries. The evaluator must reject each, or these tests prove nothing."""
    base = "select * from SMS_R_System where "
    ordered = matching(base + 'SMS_R_System.OperatingSystemNameandVersion = "Microsoft Windows NT Server 10.0" '
                              'and SMS_R_System.Build >= "10.0.17763"')
    assert "Windows Server 2016 Standard member server" not in ordered           # "10.0.14393" < "10.0.17763"
    assert "Windows Server 2012 R2 Standard member server" not in ordered        # excluded by the OS name only
    assert "Windows Server 2012 R2 Standard member server" in matching(base + 'SMS_R_System.Build >= "10.0.17763"')
    # The OS name of discovery data: "Advanced Server" puts Datacenter member servers among the DCs,
    # and "Server" lets multi-session hosts in.
    by_name = base + 'SMS_R_System.OperatingSystemNameandVersion = "Microsoft Windows NT {}" and SMS_R_System.Build = "10.0.17763"'
    assert "Windows Server 2019 Datacenter member server" in matching(by_name.format("Advanced Server 10.0"))
    assert "Windows 10 Enterprise multi-session 1809" in matching(by_name.format("Server 10.0"))
    # Build alone lets the workstation with the same build in.
    assert "Windows 10 1809 / LTSC 2019" in matching(base + 'SMS_R_System.Build = "10.0.17763"')
    # ProductType alone lets the multi-session hosts in.
    join = ("select * from SMS_R_System inner join SMS_G_System_OPERATING_SYSTEM on "
            "SMS_G_System_OPERATING_SYSTEM.ResourceId = SMS_R_System.ResourceId where ")
    assert "Windows 10 Enterprise multi-session 1809" in matching(
        join + 'SMS_G_System_OPERATING_SYSTEM.ProductType = 3 and SMS_R_System.Build = "10.0.17763"')


def test_evaluator_semantics() -> None:
    row = Resource("x", "Microsoft Windows NT Server 10.0", "10.0.17763", 3, 7).row()["SMS_R_System"]
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
    (eff,) = resolve(cfg).targets
    c = cm_collection_for(resolve(cfg), eff)
    assert isinstance(c, CmCollection)
    assert c.name == filter_name(eff) == "MDE - Servers DC - Windows Server 2019, SAC member servers and domain controllers"
    assert c.rule_name == "MDE - Servers DC"
    assert c.query == cm_collection_wql(eff)
    for text in ("target 'Servers DC'", "Windows Server 2019 (10.0.17763)",
                 "Windows Server SAC 1803 and later (10.0.17134, 10.0.17763,", "member servers and domain controllers",
                 "Generated by mdegen for Contoso Ltd release 2026.11.1."):
        assert text in c.comment
    default = cm_collection_for(resolve(make_config()), resolve_target(Target(name="Servers")))
    assert default.name == "MDE - Servers - Windows Server 2019, 2022, 2025 member servers"
    assert default.comment.startswith("Defender for Endpoint onboarding, target 'Servers': Windows Server 2019 "
                                      "(10.0.17763), Windows Server 2022 (10.0.20348) and Windows Server 2025 "
                                      "(10.0.26100) member servers.")


def test_rule_name_does_not_depend_on_releases() -> None:
    """The script finds the rule by name; a release change must show up as a changed query, not as a
    second rule added beside the old one."""
    cfg = make_config()
    a = cm_collection_for(resolve(cfg), resolve_target(Target(name="Servers", os=["2019"])))
    b = cm_collection_for(resolve(cfg), resolve_target(Target(name="Servers", os=["2019", "2022"])))
    assert a.rule_name == b.rule_name and a.query != b.query
