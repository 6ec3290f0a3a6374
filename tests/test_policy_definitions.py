"""mdegen's ADMX/ADML: schema-valid, cross-referenced, in step with policy.py and WindowsDefender.admx.

Tests that read the shared reference copy (XSDs, Microsoft's and the portal's templates) skip when
it is absent; it is expected next to the repository as ``../shared``.
"""

from __future__ import annotations

import codecs
import typing
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from admx_schema import schema_errors
from generator import policy
from generator.builders import policy_definitions as pd
from generator.builders.policy_definitions import build_policy_definitions, check_references
from generator.config import AsrMode, Settings

SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLES = SHARED / "reference" / "samples"
SCHEMAS = SAMPLES / "admx-schema"
MS_SAMPLES = SAMPLES / "admx-samples"
PORTAL = SAMPLES / "mde-portal" / "octihex-Deploy" / "OptionalParamsPolicy"

PORTAL_NAMESPACE = "Microsoft.Policies.SenseConfig"
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\r\n'
ANY = object()   # "any data" / "any value name" in an option table


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"reference copy not available: {path}")
    return path


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return {f.path: f.data for f in build_policy_definitions()}


@pytest.fixture(scope="module")
def admx(files: dict[str, bytes]) -> bytes:
    return files[pd.ADMX_PATH]


@pytest.fixture(scope="module")
def adml(files: dict[str, bytes]) -> bytes:
    return files[pd.ADML_PATH]


def _parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def _lenient(data: bytes) -> etree._Element:
    """Parse a Microsoft file as gpedit does: tolerate its known defects (formats.md §2 edge case 4)."""
    return etree.fromstring(data, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))


def _policies(root: etree._Element) -> dict[str, etree._Element]:
    return {p.get("name"): p for p in root.findall("{*}policies/{*}policy")}


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _value_data(value: etree._Element) -> tuple[str, object]:
    """(registry kind, data) of an enabledValue/disabledValue/item value/trueValue/falseValue."""
    child = next(c for c in value if isinstance(c.tag, str))
    tag = _local(child)
    if tag == "decimal":
        return ("dword", int(child.get("value")))
    if tag == "longDecimal":
        return ("qword", int(child.get("value")))
    if tag == "string":
        return ("sz", child.text or "")
    if tag == "delete":
        return ("delete", None)
    raise AssertionError(f"unexpected value type <{tag}>")


def _options(pol: etree._Element) -> dict[tuple[str, object], set[tuple[str, object]]]:
    """{(key, valueName): {(kind, data), ...}} a policy can write; ANY stands for free data/names."""
    key = pol.get("key")
    out: dict[tuple[str, object], set[tuple[str, object]]] = {}
    name = pol.get("valueName")
    if name:
        slot = out.setdefault((key, name), set())
        for tag in ("enabledValue", "disabledValue"):
            v = pol.find(f"{{*}}{tag}")
            if v is not None:
                slot.add(_value_data(v))
        if pol.find("{*}enabledValue") is None:
            slot.add(("dword", 1))   # the editor's implied enabled value
    for el in pol.findall("{*}elements/*"):
        if not isinstance(el.tag, str):
            continue
        ekey, ename, tag = el.get("key", key), el.get("valueName"), _local(el)
        if tag == "enum":
            slot = out.setdefault((ekey, ename), set())
            slot.update(_value_data(item.find("{*}value")) for item in el.findall("{*}item"))
        elif tag == "boolean":
            slot = out.setdefault((ekey, ename), set())
            for t in ("trueValue", "falseValue"):
                v = el.find(f"{{*}}{t}")
                slot.add(_value_data(v) if v is not None else ("dword", int(t == "trueValue")))
        elif tag == "text":
            out.setdefault((ekey, ename), set()).add(("expand_sz" if el.get("expandable") == "true" else "sz", ANY))
        elif tag == "decimal":
            out.setdefault((ekey, ename), set()).add(("sz" if el.get("storeAsText") == "true" else "dword", ANY))
        elif tag == "list":
            out.setdefault((ekey, ANY), set()).add(("expand_sz" if el.get("expandable") == "true" else "sz", ANY))
    return out


def _allowed(value: policy.RegistryValue, options: dict) -> bool:
    for (key, name), choices in options.items():
        if key == value.key and (name is ANY or name == value.name):
            if (value.kind, value.data) in choices or (value.kind, ANY) in choices:
                return True
    return False


def _config_values(field: str) -> list[typing.Any]:
    """Every value (or a representative set) a config field can take, validated by Settings."""
    args = typing.get_args(Settings.model_fields[field].annotation)
    if bool in args:
        raw: list[typing.Any] = [True, False]
    elif field == "asr_rules":
        raw = [{"56A863A9-875E-4185-98A7-B882C64B5CE5": mode} for mode in typing.get_args(AsrMode)]
    elif field == "device_tag":
        raw = ["Tier0 servers"]
    else:
        raw = [v for a in args if typing.get_origin(a) is typing.Literal for v in typing.get_args(a)]
    assert raw, f"no config values found for {field}"
    return [getattr(Settings(**{field: v}), field) for v in raw]


# --- (a) schema ---------------------------------------------------------------------------------

@pytest.mark.parametrize("schema_set", ["rkttu-AdmxParser", "FSLogix-admxgen"])
@pytest.mark.parametrize("which", [pd.ADMX_PATH, pd.ADML_PATH])
def test_valid_against_admx_schema(files: dict[str, bytes], schema_set: str, which: str) -> None:
    schema_dir = _need(SCHEMAS / schema_set / "PolicyDefinitionFiles.xsd").parent
    assert schema_errors(files[which], schema_dir) == []


@pytest.mark.parametrize("schema_set", ["rkttu-AdmxParser", "FSLogix-admxgen"])
def test_schema_helper_rejects_invalid_files(admx: bytes, adml: bytes, schema_set: str) -> None:
    schema_dir = _need(SCHEMAS / schema_set / "PolicyDefinitionFiles.xsd").parent
    bad_value = admx.replace(b'<decimal value="0"/>', b'<decimal value="-1"/>', 1)
    assert bad_value != admx and schema_errors(bad_value, schema_dir)
    no_supported_on = admx.replace(b'<supportedOn ref="', b'<seeAlso ref="', 1)
    assert schema_errors(no_supported_on, schema_dir)
    no_description = adml.replace(b"<description>", b"<descriptionX>").replace(b"</description>", b"</descriptionX>")
    assert schema_errors(no_description, schema_dir)


# --- (b) cross-references -----------------------------------------------------------------------

def test_references_are_complete(admx: bytes, adml: bytes) -> None:
    assert check_references(admx, adml) == []


def _edit(data: bytes, change: Callable[[etree._Element], None]) -> bytes:
    root = _parse(data)
    change(root)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def _drop_string(string_id: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        (el,) = root.xpath("//*[local-name()='string'][@id=$id]", id=string_id)
        el.getparent().remove(el)
    return change


def _add_string(root: etree._Element) -> None:
    table = root.find("{*}resources/{*}stringTable")
    etree.SubElement(table, f"{{{pd.PD_NS}}}string", id="Leftover").text = "Not used"


def _duplicate_policy(root: etree._Element) -> None:
    first = root.find("{*}policies/{*}policy")
    root.find("{*}policies").append(etree.fromstring(etree.tostring(first)))


def _replace(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        assert data.count(old) >= 1, old
        return data.replace(old, new, 1)
    return change


FAULTS = {
    "missing string": (None, lambda b: _edit(b, _drop_string("DeviceTag")),
                       "$(string.DeviceTag) is not in the ADML stringTable"),
    "missing explain string": (None, lambda b: _edit(b, _drop_string("TelemetryReportingFrequency_Help")),
                               "$(string.TelemetryReportingFrequency_Help) is not in the ADML stringTable"),
    "wrong refId": (None, _replace(b'refId="DeviceTag_Text"', b'refId="DeviceTag_Txt"'),
                    "refId='DeviceTag_Txt'> names no element of policy 'DeviceTag'"),
    "refId of another policy": (None, _replace(b'refId="DeviceTag_Text"', b'refId="TelemetryReportingFrequency_List"'),
                                "names no element of policy 'DeviceTag'"),
    "unknown presentation": (_replace(b"$(presentation.DeviceTag)", b"$(presentation.NoSuchPresentation)"), None,
                             "$(presentation.NoSuchPresentation) is not in the ADML presentationTable"),
    "unused string": (None, lambda b: _edit(b, _add_string), "ADML string 'Leftover' is not used"),
    "duplicate policy": (lambda b: _edit(b, _duplicate_policy), None, "ADMX policy 'ForceDefenderPassiveMode' is defined 2 times"),
    "unknown category": (_replace(b'<parentCategory ref="MdegenDefenderForEndpoint"/>',
                                  b'<parentCategory ref="NoSuchCategory"/>'), None,
                         "category ref 'NoSuchCategory' names no category defined in this file"),
    "undeclared prefix": (_replace(b'ref="windows:WindowsComponents"', b'ref="win:WindowsComponents"'), None,
                          "undeclared prefix 'win'"),
    "unknown supportedOn": (_replace(b'<supportedOn ref="SUPPORTED_WindowsServer2012R2_MDE"/>',
                                     b'<supportedOn ref="SUPPORTED_Nowhere"/>'), None,
                            "supportedOn ref 'SUPPORTED_Nowhere' names no supportedOn defined in this file"),
    "elements without presentation": (_replace(b' presentation="$(presentation.DeviceTag)"', b""), None,
                                      "ADMX policy 'DeviceTag' has elements but no presentation"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_check_references_finds_planted_fault(admx: bytes, adml: bytes, fault: str) -> None:
    edit_admx, edit_adml, expected = FAULTS[fault]
    bad_admx = edit_admx(admx) if edit_admx else admx
    bad_adml = edit_adml(adml) if edit_adml else adml
    problems = check_references(bad_admx, bad_adml)
    assert any(expected in p for p in problems), problems


def test_check_references_reports_unparseable_input(admx: bytes) -> None:
    assert check_references(admx, b"") != []


def test_check_references_reads_microsoft_files_leniently() -> None:
    # Microsoft's files have leftovers (unused strings) but no broken references; their quirks
    # (ADML namespace with a space, refs into Windows.admx, stray text) must not be reported.
    pairs = [(MS_SAMPLES / "Windows.admx", MS_SAMPLES / "en-US" / "Windows.adml"),
             (MS_SAMPLES / "WindowsDefender.admx", MS_SAMPLES / "en-US" / "WindowsDefender.adml")]
    for admx_path, adml_path in pairs:
        problems = check_references(_need(admx_path).read_bytes(), _need(adml_path).read_bytes())
        assert [p for p in problems if "is not used by the ADMX" not in p] == [], admx_path.name
    portal = check_references(_need(PORTAL / "AtpConfiguration.admx").read_bytes(),
                              _need(PORTAL / "en-US" / "AtpConfiguration.adml").read_bytes())
    assert portal == []


# --- (c) in step with policy.py -----------------------------------------------------------------

def test_one_policy_per_mdegen_setting(admx: bytes) -> None:
    expected = [s.admx_policy for s in policy.mdegen_admx_settings()]
    assert list(_policies(_parse(admx))) == expected
    assert {s.field for s in policy.SETTINGS if s.shown_by == policy.MDEGEN_ADMX} == \
        {s.field for s in policy.mdegen_admx_settings()}


@pytest.mark.parametrize("setting", policy.mdegen_admx_settings(), ids=lambda s: s.field)
def test_admx_writes_what_encode_writes(admx: bytes, setting: policy.PolicySetting) -> None:
    pol = _policies(_parse(admx))[setting.admx_policy]
    assert setting.admx is not None
    kind = setting.admx.element
    if kind == "toggle":
        (on,) = setting.encode(True)
        (off,) = setting.encode(False)
        assert (pol.get("key"), pol.get("valueName")) == (on.key, on.name) == (off.key, off.name)
        assert _value_data(pol.find("{*}enabledValue")) == (on.kind, on.data)
        assert _value_data(pol.find("{*}disabledValue")) == (off.kind, off.data)
        assert pol.find("{*}elements") is None
        return
    (element,) = [e for e in pol.findall("{*}elements/*") if isinstance(e.tag, str)]
    key = element.get("key", pol.get("key"))
    assert pol.get("valueName") is None   # valueName on the element only
    assert element.get("required") == "true"
    if kind == "enum":
        assert _local(element) == "enum"
        offered = {_value_data(item.find("{*}value")) for item in element.findall("{*}item")}
        written = set()
        for v in _config_values(setting.field):
            for rv in setting.encode(v):
                assert (rv.key, rv.name) == (key, element.get("valueName"))
                written.add((rv.kind, rv.data))
        assert written == offered   # every config value has an item and no item is dead
    else:
        assert _local(element) == "text" and element.get("expandable") in (None, "false")
        for v in _config_values(setting.field):
            assert setting.encode(v) == [policy.RegistryValue(key, element.get("valueName"), "sz", v)]
        assert element.get("maxLength") == str(setting.admx.max_length)


def test_device_tag_limit_matches_config(admx: bytes) -> None:
    (text,) = _policies(_parse(admx))["DeviceTag"].findall("{*}elements/{*}text")
    limit = int(text.get("maxLength"))
    Settings(device_tag="x" * limit)
    with pytest.raises(ValueError):
        Settings(device_tag="x" * (limit + 1))


def test_adml_texts_come_from_the_model(adml: bytes) -> None:
    strings = {s.get("id"): s.text for s in _parse(adml).findall("{*}resources/{*}stringTable/{*}string")}
    for s in policy.mdegen_admx_settings():
        assert s.admx is not None
        assert strings[s.admx.policy_name] == s.admx.display_name
        assert strings[f"{s.admx.policy_name}_Help"] == s.admx.explain   # newlines kept
        for label, _data in s.admx.enum_items:
            assert label in strings.values()
    assert all(pd.is_item_name(i) for i in strings)


# --- (d) namespace ------------------------------------------------------------------------------

def test_target_namespace_is_our_own(admx: bytes) -> None:
    (target,) = _parse(admx).findall("{*}policyNamespaces/{*}target")
    assert (target.get("prefix"), target.get("namespace")) == ("mdegen", "Mdegen.Policies.DefenderForEndpoint")
    assert target.get("namespace") != PORTAL_NAMESPACE


def test_target_namespace_differs_from_every_sample(admx: bytes) -> None:
    (target,) = _parse(admx).findall("{*}policyNamespaces/{*}target")
    others = {}
    for path in sorted(_need(SAMPLES).rglob("*.admx")):
        for t in _lenient(path.read_bytes()).findall("{*}policyNamespaces/{*}target"):
            others[t.get("namespace")] = path.name
    assert PORTAL_NAMESPACE in others and "Microsoft.Policies.Windows" in others
    assert target.get("namespace").casefold() not in {ns.casefold() for ns in others}


def test_only_windows_components_is_borrowed(admx: bytes) -> None:
    root = _parse(admx)
    (using,) = root.findall("{*}policyNamespaces/{*}using")
    assert (using.get("prefix"), using.get("namespace")) == ("windows", "Microsoft.Policies.Windows")
    prefixed = {el.get("ref") for el in root.iter("{*}parentCategory", "{*}supportedOn") if ":" in (el.get("ref") or "")}
    assert prefixed == {"windows:WindowsComponents"}
    windows = _lenient(_need(MS_SAMPLES / "Windows.admx").read_bytes())
    assert "WindowsComponents" in {c.get("name") for c in windows.findall("{*}categories/{*}category")}


# --- (e) Defender Antivirus settings exist in WindowsDefender.admx ------------------------------

WINDOWS_DEFENDER_SETTINGS = [s for s in policy.SETTINGS if s.shown_by == policy.WINDOWS_DEFENDER_ADMX]


@pytest.fixture(scope="module")
def windows_defender() -> dict[str, etree._Element]:
    return _policies(_lenient(_need(MS_SAMPLES / "WindowsDefender.admx").read_bytes()))


@pytest.mark.parametrize("setting", WINDOWS_DEFENDER_SETTINGS, ids=lambda s: s.field)
def test_defender_setting_matches_windows_defender_admx(windows_defender: dict, setting: policy.PolicySetting) -> None:
    pol = windows_defender.get(setting.admx_policy)
    assert pol is not None, f"WindowsDefender.admx has no policy {setting.admx_policy}"
    assert (pol.get("key"), pol.get("valueName")) == (setting.key, setting.value_name)
    options = _options(pol)
    for v in _config_values(setting.field):
        for rv in setting.encode(v):
            assert _allowed(rv, options), f"{setting.field}={v!r} writes {rv}, not offered by {setting.admx_policy}"


# --- (f) bytes ----------------------------------------------------------------------------------

def test_output_paths() -> None:
    assert [f.path for f in build_policy_definitions()] == [
        "PolicyDefinitions/MdegenDefenderForEndpoint.admx",
        "PolicyDefinitions/en-US/MdegenDefenderForEndpoint.adml",
    ]


def test_bytes_are_deterministic_and_canonical(files: dict[str, bytes]) -> None:
    assert {f.path: f.data for f in build_policy_definitions()} == files
    for path, data in files.items():
        assert data.startswith(DECLARATION), path
        assert not data.startswith(codecs.BOM_UTF8)
        data.decode("utf-8")
        assert data.endswith(b">\r\n")
        assert data.count(b"\n") == data.count(b"\r\n") == data.count(b"\r"), "every line ends in CRLF"
        assert b"\t" not in data
        # 2-space indentation: re-indenting the parsed tree gives the same bytes.
        root = _parse(data)
        etree.indent(root, space="  ")
        body = etree.tostring(root, encoding="utf-8").replace(b"\n", b"\r\n")
        assert data == DECLARATION + body + b"\r\n"
        assert root.get("revision") == "1.0" and root.get("schemaVersion") == "1.0"
        assert root.nsmap == {None: pd.PD_NS}


# --- (g) golden files ---------------------------------------------------------------------------

@pytest.mark.parametrize("which", [pd.ADMX_PATH, pd.ADML_PATH], ids=["admx", "adml"])
def test_golden(files: dict[str, bytes], file_regression, which: str) -> None:
    name = Path(which)
    # binary: byte-exact, so CRLF line ends are pinned (text mode would normalise them).
    file_regression.check(files[which], binary=True, basename=name.stem, extension=name.suffix)
