"""WMI filter targeting (generator/targeting.py) and its GPMC .mof file (generator/formats/wmi_mof.py).

The filters are held against a table of real Windows version/build/product-type triples by
evaluating the generated WQL with the small evaluator in tests/wql.py (shared with
test_cm_targeting.py). The evaluator follows WQL's typing on purpose: a quoted literal is compared
*as a string* (so "9600" > "17763"), a bare number as a number. A query that orders build numbers
as strings therefore fails these tests; ``test_evaluator_catches_string_ordering_trap`` proves it does.
"""

from __future__ import annotations

import codecs
import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.records import WmiFilter
from generator.config import Config, Target
from generator.project import resolve, resolve_target
from generator.releases import BY_KEY, MULTI_SESSION_SKU, RELEASES
from generator.errors import MdegenError
from generator.formats import wmi_mof
from generator.formats.wmi_mof import WmiMofError
from generator.targeting import wmi_filter_for, wql_for
from wql import comparisons as _comparisons
from wql import matches, parse_wql


def wql_matches(query: str, row: dict[str, Any]) -> bool:
    return matches(query, row, "Win32_OperatingSystem")


# --- Real OS triples -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Os:
    caption: str
    version: str
    build: str
    product_type: int
    sku: int                      # Win32_OperatingSystem.OperatingSystemSKU

    def row(self) -> dict[str, Any]:
        return {"Version": self.version, "BuildNumber": self.build, "ProductType": self.product_type,
                "OperatingSystemSKU": self.sku, "Caption": self.caption}

    @property
    def multi_session(self) -> bool:
        return self.sku == MULTI_SESSION_SKU

    @property
    def key(self) -> tuple[str, int]:
        return (self.build, self.product_type)


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
    ("Windows 7 SP1", "6.1.7601"),                  # the builds of 2008 R2 SP1, 2012 R2 and 2016
    ("Windows 8.1", "6.3.9600"),
    ("Windows 10 1607 / LTSB 2016", "10.0.14393"),
    ("Windows 10 1507", "10.0.10240"),
    ("Windows 10 1809 / LTSC 2019", "10.0.17763"),
    ("Windows 10 2004", "10.0.19041"),
    ("Windows 10 20H2", "10.0.19042"),
    ("Windows 10 22H2", "10.0.19045"),
    ("Windows 11 21H2", "10.0.22000"),
    ("Windows 11 22H2", "10.0.22621"),
    ("Windows 11 24H2", "10.0.26100"),
]
# Windows 10/11 Enterprise multi-session (Azure Virtual Desktop session hosts): ProductType 3 like a
# member server, OperatingSystemSKU 175, and builds that Server 2019, the SAC releases and Server 2025
# also have. No server target may match them.
_MULTI_SESSION = [
    ("Windows 10 Enterprise multi-session 1809", "10.0.17763"),
    ("Windows 10 Enterprise multi-session 1903", "10.0.18362"),
    ("Windows 10 Enterprise multi-session 1909", "10.0.18363"),
    ("Windows 10 Enterprise multi-session 2004", "10.0.19041"),
    ("Windows 10 Enterprise multi-session 20H2", "10.0.19042"),
    ("Windows 10 Enterprise multi-session 22H2", "10.0.19045"),
    ("Windows 11 Enterprise multi-session 22H2", "10.0.22621"),
    ("Windows 11 Enterprise multi-session 24H2", "10.0.26100"),
]
# Server editions by OperatingSystemSKU: Standard 7, Datacenter 8. Both must match alike.
EDITIONS = {"Standard": 7, "Datacenter": 8}
_ENTERPRISE = 4


def _build(version: str) -> str:
    return version.rsplit(".", 1)[1]


OS_TABLE: list[Os] = (
    [Os(f"{c} {e} member server", v, _build(v), 3, sku) for c, v in _SERVERS for e, sku in EDITIONS.items()]
    + [Os(f"{c} {e} domain controller", v, _build(v), 2, sku) for c, v in _SERVERS for e, sku in EDITIONS.items()]
    + [Os(c, v, _build(v), 1, _ENTERPRISE) for c, v in _WORKSTATIONS]
    + [Os(c, v, _build(v), 3, MULTI_SESSION_SKU) for c, v in _MULTI_SESSION]
)


def matching(query: str) -> set[str]:
    return {o.caption for o in OS_TABLE if wql_matches(query, o.row())}


def _member(*captions: str) -> set[str]:
    return {f"{c} {e} member server" for c in captions for e in EDITIONS}


def _dc(*captions: str) -> set[str]:
    return {f"{c} {e} domain controller" for c in captions for e in EDITIONS}


# --- Config helpers ------------------------------------------------------------------------------


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
    "2012 R2 and 2016, unified agent": ([{"name": "Old", "os": ["2016", "2012r2"], "agent": "unified"}],
                                        _member("Windows Server 2012 R2", "Windows Server 2016")),
    "2008 R2 SP1 DCs, DefenderDT": ([{"name": "Old DCs", "os": ["2008r2"], "agent": "defenderdt",
                                      "domain_controllers": "only"}], _dc("Windows Server 2008 R2 SP1")),
    "2016 members and DCs, MMA": ([{"name": "MMA", "os": ["2016"], "agent": "mma", "domain_controllers": True}],
                                  _member("Windows Server 2016") | _dc("Windows Server 2016")),
}


# --- (a) the filters match exactly the intended servers --------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_filter_matches_exactly_the_intended_rows(case: str) -> None:
    targets, expected = CASES[case]
    cfg = make_config(targets)
    (eff,) = resolve(cfg).targets
    query = wmi_filter_for(resolve(cfg), eff).query
    assert matching(query) == expected
    assert not any(wql_matches(query, o.row()) for o in OS_TABLE if o.product_type == 1 or o.multi_session)


def test_default_target_query_text() -> None:
    assert wql_for(resolve_target(Target(name="Servers"))) == (
        'SELECT * FROM Win32_OperatingSystem WHERE (BuildNumber = "17763" OR BuildNumber = "20348" '
        'OR BuildNumber = "26100") AND ProductType = 3 AND OperatingSystemSKU <> 175')
    assert wql_for(resolve_target(Target(name="x", os=["2019"], domain_controllers=True))) == (
        'SELECT * FROM Win32_OperatingSystem WHERE BuildNumber = "17763" AND (ProductType = 2 OR ProductType = 3) '
        'AND OperatingSystemSKU <> 175')
    # Domain controllers only: multi-session hosts report ProductType 3, so no SKU test is needed.
    assert wql_for(resolve_target(Target(name="y", os=["2022"], domain_controllers="only"))) == (
        'SELECT * FROM Win32_OperatingSystem WHERE BuildNumber = "20348" AND ProductType = 2')


_RELEASES = [r.key for r in RELEASES]
# A target holds releases that onboard by themselves, or down-level ones with an agent (mma onboards
# each of them), never both.
_OS_AND_AGENT = st.one_of(
    st.lists(st.sampled_from([r.key for r in RELEASES if not r.agents]), min_size=1, max_size=4, unique=True)
    .map(lambda os: (os, None)),
    st.lists(st.sampled_from([r.key for r in RELEASES if r.agents]), min_size=1, max_size=3, unique=True)
    .map(lambda os: (os, "mma")))


@given(spec=_OS_AND_AGENT,
       dcs=st.sampled_from([False, True, "only"]))
def test_any_target_matches_its_builds_and_product_types_only(spec: tuple[list[str], str | None], dcs: bool | str) -> None:
    os, agent = spec
    target = resolve_target(Target(name="T", os=os, agent=agent, domain_controllers=dcs))
    query = wql_for(target)
    builds = {b for r in os for b in BY_KEY[r].builds}
    ptypes = {"only": {2}, True: {2, 3}, False: {3}}[dcs]
    for o in OS_TABLE:
        expected = o.build in builds and o.product_type in ptypes and not o.multi_session
        assert wql_matches(query, o.row()) == expected, o.caption
    # Same builds however the config lists them: one query text.
    assert wql_for(resolve_target(Target(name="T", os=list(reversed(os)), agent=agent, domain_controllers=dcs))) == query


@given(spec=_OS_AND_AGENT, dcs=st.booleans())
def test_queries_never_order_strings(spec: tuple[list[str], str | None], dcs: bool) -> None:
    """Structural guard: BuildNumber/Version only by string equality, ProductType only as a number."""
    os, agent = spec
    q = parse_wql(wql_for(resolve_target(Target(name="T", os=os, agent=agent, domain_controllers=dcs))))
    for c in _comparisons(q.where):
        if c.prop in ("BuildNumber", "Version"):
            assert c.op == "=" and isinstance(c.value, str) and c.value.isdigit()
        elif c.prop == "OperatingSystemSKU":
            assert c.op == "<>" and c.value == MULTI_SESSION_SKU          # exclusion only, as a number
        else:
            assert c.prop == "ProductType" and c.op == "=" and isinstance(c.value, int) and c.value in (2, 3)


def test_evaluator_catches_string_ordering_trap() -> None:
    """A plausible but wrong filter: build numbers ordered as text. The evaluator must reject it."""
    bad = 'SELECT * FROM Win32_OperatingSystem WHERE BuildNumber >= "17763" AND ProductType = 3'
    got = matching(bad)
    assert "Windows Server 2012 R2 Standard member server" in got        # "9600" >= "17763" as text
    assert "Windows Server 2008 R2 SP1 Standard member server" in got    # "7601" too
    assert "Windows Server 2012 Standard member server" in got           # "9200" too
    assert got != CASES["default target"][1]
    # The same comparison written with a number is numeric, and then 9600 is rightly out.
    numeric = 'SELECT * FROM Win32_OperatingSystem WHERE BuildNumber >= 17763 AND ProductType = 3'
    assert "Windows Server 2012 R2 Standard member server" not in matching(numeric)
    # Version ordered as text has the same flaw.
    assert "Windows Server 2012 R2 Standard member server" in matching(
        'SELECT * FROM Win32_OperatingSystem WHERE Version >= "10.0.17763" AND ProductType = 3')
    # And "not a workstation" lets domain controllers in.
    loose = 'SELECT * FROM Win32_OperatingSystem WHERE BuildNumber = "17763" AND ProductType <> 1'
    assert "Windows Server 2019 Standard domain controller" in matching(loose)
    # And ProductType alone lets the multi-session hosts in: they report 3 like a member server.
    by_type = 'SELECT * FROM Win32_OperatingSystem WHERE BuildNumber = "17763" AND ProductType = 3'
    assert "Windows 10 Enterprise multi-session 1809" in matching(by_type)


def test_evaluator_semantics() -> None:
    row = {"Version": "10.0.17763", "BuildNumber": "17763", "ProductType": 3, "Caption": "x"}
    yes = [
        'Version LIKE "10.0.%"', 'Version LIKE "10._.17763"', 'Version LIKE "10.0.1776[0-9]"',
        'NOT ProductType = 1', '(ProductType = 2 OR ProductType = 3) AND NOT (BuildNumber = "1")',
        'ProductType >= 3', 'ProductType < 4', "BuildNumber = '17763'", 'BuildNumber <> "17764"',
        'Version like "10.0.%" and not ProductType = 1',
    ]
    no = ['Version LIKE "6.%"', 'Version LIKE "10._"', 'ProductType = 2', 'NOT (ProductType = 3)',
          'ProductType = 1 OR BuildNumber = "9600"', 'ProductType > 3', 'BuildNumber = "1776"']
    for clause in yes:
        assert wql_matches(f"SELECT * FROM Win32_OperatingSystem WHERE {clause}", row), clause
    for clause in no:
        assert not wql_matches(f"SELECT * FROM Win32_OperatingSystem WHERE {clause}", row), clause
    with pytest.raises(SyntaxError):
        parse_wql("SELECT * FROM Win32_OperatingSystem WHERE BuildNumber >=")


def test_filter_record() -> None:
    cfg = make_config([{"name": "Servers DC", "os": ["sac", "2019"], "domain_controllers": True}])
    (eff,) = resolve(cfg).targets
    f = wmi_filter_for(resolve(cfg), eff)
    assert f.id == resolve(cfg).guid("wmi-filter", "Servers DC")
    assert f.name == "MDE - Servers DC - Windows Server 2019, SAC member servers and domain controllers"
    assert f.namespace == "root\\CIMv2"
    for text in ("Windows Server 2019 (build 17763)", "17134, 17763, 18362, 18363, 19041, 19042, 25398",
                 "ProductType 3", "ProductType 2",
                 "Workstations and Windows 10/11 Enterprise multi-session hosts (OperatingSystemSKU 175) never match",
                 "Generated by mdegen for Contoso Ltd release 2026.11.1"):
        assert text in f.description
    default = wmi_filter_for(resolve(make_config()), resolve_target(Target(name="Servers")))
    assert default.name == "MDE - Servers - Windows Server 2019, 2022, 2025 member servers"
    assert ("Domain controllers, workstations and Windows 10/11 Enterprise multi-session hosts "
            "(OperatingSystemSKU 175) never match") in default.description
    assert default.id != f.id
    assert wmi_filter_for(resolve(make_config(organization="Fabrikam")), resolve_target(Target(name="Servers"))).id != default.id


# --- (b) MOF escaping ----------------------------------------------------------------------------

CREATED = dt.datetime(2026, 11, 1, 0, 0, 0)
GUID = uuid.UUID("3f2504e0-4f89-11d3-9a0c-0305e82c3301")


def _filter(**kw: Any) -> WmiFilter:
    base = WmiFilter(id=GUID, name="MDE - Servers", description="plain",
                     query='SELECT * FROM Win32_OperatingSystem WHERE BuildNumber = "17763" AND ProductType = 3')
    return replace(base, **kw)


_NASTY = 'He said "hi" \\ C:\\Temp\\ it\'s A&B <x> $env:X %PATH% \\"end\\\\'


def test_escaping_round_trips() -> None:
    f = _filter(name="Name " + _NASTY, description="Desc " + _NASTY + " Müller – ✓ 𝄞")
    data = wmi_mof.dumps(f, domain="corp.contoso.com", author='O\'Brien "admin"\\x', created=CREATED)
    back = wmi_mof.loads(data)
    assert back["Name"] == f.name
    assert back["Description"] == f.description
    assert back["Author"] == 'O\'Brien "admin"\\x'
    assert back["Domain"] == "corp.contoso.com"
    assert back["ID"] == "{3F2504E0-4F89-11D3-9A0C-0305E82C3301}"
    assert back["Rules"] == [{"Query": f.query, "QueryLanguage": "WQL", "TargetNameSpace": "root\\CIMv2"}]
    text = data[2:].decode("utf-16-le")
    assert '\\"hi\\"' in text and "C:\\\\Temp\\\\" in text
    assert 'TargetNameSpace = "root\\\\CIMv2";' in text
    assert 'BuildNumber = \\"17763\\"' in text


@pytest.mark.parametrize("bad", ["line\nbreak", "cr\rhere", "tab\there", "nul\x00", "del\x7f", "c1\x85",
                                 "sep\u2028x", "lone \ud800 surrogate"])
@pytest.mark.parametrize("where", ["name", "description", "query", "domain", "author"])
def test_control_characters_refused(bad: str, where: str) -> None:
    f = _filter(**{where: bad}) if where in ("name", "description", "query") else _filter()
    kw = {"domain": "contoso.com", "author": "mdegen", "created": CREATED}
    if where in ("domain", "author"):
        kw[where] = bad
    with pytest.raises(WmiMofError) as info:
        wmi_mof.dumps(f, **kw)  # type: ignore[arg-type]
    assert isinstance(info.value, MdegenError)
    assert "U+" in str(info.value)


@pytest.mark.parametrize("where", ["name", "query", "domain", "author"])
def test_empty_required_text_refused(where: str) -> None:
    f = _filter(**{where: " "}) if where in ("name", "query") else _filter()
    kw: dict[str, Any] = {"domain": "contoso.com", "author": "mdegen", "created": CREATED}
    if where in ("domain", "author"):
        kw[where] = ""
    with pytest.raises(WmiMofError, match="must not be empty"):
        wmi_mof.dumps(f, **kw)


def test_empty_description_omitted() -> None:
    data = wmi_mof.dumps(_filter(description=""), domain="contoso.com", author="mdegen", created=CREATED)
    assert "Description" not in data.decode("utf-16")
    assert "Description" not in wmi_mof.loads(data)


def test_dates_are_dmtf_utc() -> None:
    aware = dt.datetime(2026, 11, 1, 2, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    back = wmi_mof.loads(wmi_mof.dumps(_filter(), domain="c.com", author="a", created=aware))
    assert back["CreationDate"] == back["ChangeDate"] == "20261101003005.123456-000"


# --- (c) deterministic bytes, encoding, line ends ---------------------------------------------------


def test_deterministic_bytes_and_layout() -> None:
    cfg = make_config()
    (eff,) = resolve(cfg).targets
    one = wmi_mof.dumps(wmi_filter_for(resolve(cfg), eff), domain="contoso.com", author="mdegen", created=CREATED)
    two = wmi_mof.dumps(wmi_filter_for(resolve(make_config()), resolve(make_config()).targets[0]),
                        domain="contoso.com", author="mdegen", created=CREATED)
    assert one == two
    assert one.startswith(codecs.BOM_UTF16_LE)
    text = one[2:].decode("utf-16-le")
    assert "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")
    assert text.endswith("};\r\n")
    assert "#pragma" not in text
    names = [line.split(" = ")[0].strip() for line in text.split("\r\n") if " = " in line]
    assert names == ["Author", "ChangeDate", "CreationDate", "Description", "Domain", "ID", "Name",
                     "Rules", "Query", "QueryLanguage", "TargetNameSpace"]


def test_loads_reads_an_export_style_file() -> None:
    """What GPMC export or a hand edit may produce: no BOM, LF ends, a leading blank line,
    other capitalisation, concatenated strings."""
    text = ('\ninstance of MSFT_SomFilter\n{\n\tauthor = "admin@contoso.com";\n'
            '\tChangeDate = "20240815143230.000000-000";\n\tDomain = "contoso.com";\n'
            '\tID = "{09B5B9BD-40F6-4092-B2CB-FA3FBCC54921}";\n\tName = "Servers " "only";\n'
            '\tRules = {\ninstance of MSFT_Rule\n{\n'
            '\tQuery = "SELECT * FROM Win32_OperatingSystem WHERE ProductType = 3";\n'
            '\tQueryLanguage = "WQL";\n\tTargetNamespace = "root\\\\CIMv2";\n}};\n};\n')
    for data in (text.encode("utf-16-le"), text.encode("ascii")):
        got = wmi_mof.loads(data)
        assert got["Author"] == "admin@contoso.com"
        assert got["Name"] == "Servers only"
        assert got["Rules"][0]["TargetNameSpace"] == "root\\CIMv2"


@pytest.mark.parametrize("data, message", [
    (codecs.BOM_UTF8 + b"instance of MSFT_SomFilter {};", "UTF-8"),
    (b"instance of MSFT_Rule { };", "MSFT_SomFilter"),
    (b'instance of MSFT_SomFilter { Name = "x"; };', "lacks"),
    (b'instance of MSFT_SomFilter { Name = "x"; Name = "y"; };', "twice"),
    (b'instance of MSFT_SomFilter { Colour = "x"; };', "no property"),
    (b'#pragma namespace("\\\\\\\\.\\\\root\\\\policy")\ninstance of MSFT_SomFilter { };', "unexpected"),
    (b'instance of MSFT_SomFilter { Name = "x\n"; };', "unexpected"),
    (b'instance of MSFT_SomFilter { Name = "a\\q"; };', "escape"),
    (b'instance of MSFT_SomFilter { Name = "x"; Domain = "d"; ID = "i"; Rules = { instance of MSFT_Rule '
     b'{ Query = "q"; QueryLanguage = "XQL"; TargetNameSpace = "n"; }}; };', "WQL"),
    (b'instance of MSFT_SomFilter { Name = "x"; }; instance of MSFT_SomFilter { };', "one filter"),
    (b"\xff\xfe\x00\xd8", "neither"),
])
def test_loads_refuses_other_input(data: bytes, message: str) -> None:
    with pytest.raises(WmiMofError, match=message):
        wmi_mof.loads(data)


# --- (d) golden file ------------------------------------------------------------------------------


def test_golden_default_target(file_regression) -> None:
    cfg = make_config()
    (eff,) = resolve(cfg).targets
    data = wmi_mof.dumps(wmi_filter_for(resolve(cfg), eff), domain="contoso.com",
                         author="mdegen", created=dt.datetime.combine(cfg.release.date, dt.time()))
    file_regression.check(data, binary=True, basename="default_target", extension=".mof")
