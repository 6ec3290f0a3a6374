"""mdegen's own administrative template: ``MdegenDefenderForEndpoint.admx`` + en-US ``.adml``.

The template names the Defender for Endpoint values that mdegen writes to registry.pol and that no
in-box template shows (``policy.mdegen_admx_settings()``), so GPMC reports them as named settings
instead of "Extra Registry Settings". The Defender Antivirus values mdegen writes are shown by
Windows' own WindowsDefender.admx and are not repeated here.

The files are the same for every organisation: nothing in them comes from the config, so
``build_policy_definitions()`` takes no arguments and a central store can hold one copy whatever
GPOs use it.

Decisions:

* Target namespace ``Mdegen.Policies.DefenderForEndpoint`` (prefix ``mdegen``). Two templates must
  never claim one target namespace, so this is not the portal's ``Microsoft.Policies.SenseConfig``:
  the portal's AtpConfiguration.admx and this file can both sit in the central store. Three values
  (ForceDefenderPassiveMode, AllowSampleCollection, latency) then appear under both categories, which
  is harmless because both write identical data.
* The only reference into another file is the parent category ``windows:WindowsComponents``; the
  supportedOn definition is our own, so the template does not depend on the SUPPORTED_ names of a
  particular Windows.admx revision.
* Toggles always carry both enabledValue and disabledValue; enum and text policies carry their
  valueName on the element only, as the portal's template does (a policy-level valueName without
  enabledValue implies a DWORD 1 under that name, which would collide with the element's REG_SZ).

``check_references()`` checks what the XSD cannot: the cross-references between an ADMX and its
ADML. It reads leniently, so Microsoft's own files (broken ADML namespace, stray text, references
into other files) can be checked too.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from lxml import etree

from generator import policy
from generator.artifacts import OutputFile

PD_NS = "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"
TARGET_PREFIX = "mdegen"
TARGET_NAMESPACE = "Mdegen.Policies.DefenderForEndpoint"
WINDOWS_PREFIX = "windows"
WINDOWS_NAMESPACE = "Microsoft.Policies.Windows"

BASE_NAME = "MdegenDefenderForEndpoint"
ADMX_PATH = f"PolicyDefinitions/{BASE_NAME}.admx"
ADML_PATH = f"PolicyDefinitions/en-US/{BASE_NAME}.adml"

REVISION = "1.0"
SCHEMA_VERSION = "1.0"

CATEGORY = "MdegenDefenderForEndpoint"
PARENT_CATEGORY = f"{WINDOWS_PREFIX}:WindowsComponents"
SUPPORTED_ON = "SUPPORTED_WindowsServer2012R2_MDE"

XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'

_ADML_DISPLAY_NAME = "Microsoft Defender for Endpoint settings (mdegen)"
_ADML_DESCRIPTION = (
    "Administrative template for the Microsoft Defender for Endpoint registry values that mdegen "
    "writes to Group Policy. The Microsoft Defender Antivirus settings mdegen writes are shown by "
    "Windows' own WindowsDefender.admx."
)
_CATEGORY_DISPLAY = "Microsoft Defender for Endpoint (mdegen)"
_CATEGORY_EXPLAIN = (
    "Microsoft Defender for Endpoint settings written by mdegen under "
    "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Advanced Threat Protection.\n\n"
    "The Microsoft Defender Antivirus settings that mdegen writes are under Windows Components\\"
    "Microsoft Defender Antivirus (Windows' own template).\n\n"
    "If the Defender portal's AtpConfiguration.admx is also installed, passive mode, sample collection "
    "and the reporting frequency appear under its category too. Both templates describe the same "
    "registry values with the same data, so a value set through either one shows in both."
)
_SUPPORTED_DISPLAY = "Windows Server 2012 R2 and later with Microsoft Defender for Endpoint"


def _q(tag: str) -> str:
    return f"{{{PD_NS}}}{tag}"


def _sub(parent: etree._Element, tag: str, attrs: dict[str, str] | None = None,
         text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _q(tag))
    for name, value in (attrs or {}).items():   # insertion order = output order
        el.set(name, value)
    if text is not None:
        el.text = text
    return el


def is_item_name(value: str) -> bool:
    """True if ``value`` matches the ADMX itemName / string id pattern ``[\\p{L}\\p{N}_]+``."""
    return bool(value) and all(ch == "_" or unicodedata.category(ch)[0] in "LN" for ch in value)


def _id_part(label: str) -> str:
    return re.sub(r"_+", "_", "".join(ch if is_item_name(ch) else "_" for ch in label)).strip("_")


class _Strings:
    """The ADML string table in the order the ADMX first uses each string."""

    def __init__(self) -> None:
        self.table: dict[str, str] = {}

    def ref(self, string_id: str, text: str) -> str:
        if not is_item_name(string_id):
            raise ValueError(f"ADML string id {string_id!r} does not match [\\p{{L}}\\p{{N}}_]+")
        if string_id in self.table:
            raise ValueError(f"ADML string id {string_id!r} is defined twice")
        if not text:
            raise ValueError(f"ADML string {string_id!r} is empty")
        self.table[string_id] = text
        return f"$(string.{string_id})"


def _policy(policies: etree._Element, s: policy.PolicySetting, strings: _Strings,
            presentations: etree._Element) -> None:
    p = s.admx
    assert p is not None
    name = p.policy_name
    if not is_item_name(name):
        raise ValueError(f"ADMX policy name {name!r} does not match [\\p{{L}}\\p{{N}}_]+")
    if name != s.admx_policy:
        raise ValueError(f"setting {s.field}: admx.policy_name {name!r} differs from admx_policy {s.admx_policy!r}")

    attrs = {
        "name": name,
        "class": "Machine",
        "displayName": strings.ref(name, p.display_name),
        "explainText": strings.ref(f"{name}_Help", p.explain),
    }
    if p.element != "toggle":
        attrs["presentation"] = f"$(presentation.{name})"
    attrs["key"] = s.key
    if p.element == "toggle":
        attrs["valueName"] = s.value_name
    el = _sub(policies, "policy", attrs)
    _sub(el, "parentCategory", {"ref": CATEGORY})
    _sub(el, "supportedOn", {"ref": SUPPORTED_ON})

    if p.element == "toggle":
        _sub(_sub(el, "enabledValue"), "decimal", {"value": "1"})
        _sub(_sub(el, "disabledValue"), "decimal", {"value": "0"})
        return

    elements = _sub(el, "elements")
    presentation = _sub(presentations, "presentation", {"id": name})
    if p.element == "enum":
        if not p.enum_items:
            raise ValueError(f"setting {s.field}: enum policy {name} has no items")
        element_id = f"{name}_List"
        enum = _sub(elements, "enum", {"id": element_id, "valueName": s.value_name, "required": "true"})
        for label, data in p.enum_items:
            item = _sub(enum, "item", {"displayName": strings.ref(f"{name}_{_id_part(label)}", label)})
            _sub(_sub(item, "value"), "string", text=data)
        _sub(presentation, "dropdownList", {"refId": element_id, "noSort": "true", "defaultItem": "0"},
             text=p.element_label or p.display_name)
    elif p.element == "text":
        if p.max_length <= 0:
            raise ValueError(f"setting {s.field}: text policy {name} needs max_length > 0")
        element_id = f"{name}_Text"
        _sub(elements, "text", {"id": element_id, "key": s.key, "valueName": s.value_name,
                                "maxLength": str(p.max_length), "required": "true"})
        box = _sub(presentation, "textBox", {"refId": element_id})
        _sub(box, "label", text=p.element_label or p.display_name)
    else:
        raise ValueError(f"setting {s.field}: unknown ADMX element kind {p.element!r}")


def _serialize(root: etree._Element) -> bytes:
    """Declaration + 2-space indented UTF-8 (no BOM), CRLF line ends, final CRLF."""
    etree.indent(root, space="  ")
    body = etree.tostring(root, encoding="utf-8", xml_declaration=False)
    if b"\r" in body:
        raise ValueError("text must not contain carriage returns (line ends are added on output)")
    return (XML_DECLARATION + b"\n" + body + b"\n").replace(b"\n", b"\r\n")


def build_policy_definitions() -> list[OutputFile]:
    """The ADMX and en-US ADML for the settings of ``policy.mdegen_admx_settings()``."""
    strings = _Strings()

    admx = etree.Element(_q("policyDefinitions"), nsmap={None: PD_NS})
    admx.set("revision", REVISION)
    admx.set("schemaVersion", SCHEMA_VERSION)
    namespaces = _sub(admx, "policyNamespaces")
    _sub(namespaces, "target", {"prefix": TARGET_PREFIX, "namespace": TARGET_NAMESPACE})
    _sub(namespaces, "using", {"prefix": WINDOWS_PREFIX, "namespace": WINDOWS_NAMESPACE})
    _sub(admx, "resources", {"minRequiredRevision": REVISION})
    definitions = _sub(_sub(admx, "supportedOn"), "definitions")
    _sub(definitions, "definition", {"name": SUPPORTED_ON,
                                     "displayName": strings.ref(SUPPORTED_ON, _SUPPORTED_DISPLAY)})
    category = _sub(_sub(admx, "categories"), "category", {
        "name": CATEGORY,
        "displayName": strings.ref(CATEGORY, _CATEGORY_DISPLAY),
        "explainText": strings.ref(f"{CATEGORY}_Help", _CATEGORY_EXPLAIN),
    })
    _sub(category, "parentCategory", {"ref": PARENT_CATEGORY})

    presentations = etree.Element(_q("presentationTable"))
    settings = policy.mdegen_admx_settings()
    if settings:
        policies = _sub(admx, "policies")
        for s in settings:
            _policy(policies, s, strings, presentations)

    adml = etree.Element(_q("policyDefinitionResources"), nsmap={None: PD_NS})
    adml.set("revision", REVISION)
    adml.set("schemaVersion", SCHEMA_VERSION)
    _sub(adml, "displayName", text=_ADML_DISPLAY_NAME)
    _sub(adml, "description", text=_ADML_DESCRIPTION)
    resources = _sub(adml, "resources")
    table = _sub(resources, "stringTable")
    for string_id, text in strings.table.items():
        _sub(table, "string", {"id": string_id}, text=text)
    if len(presentations):
        resources.append(presentations)

    return [OutputFile(ADMX_PATH, _serialize(admx)), OutputFile(ADML_PATH, _serialize(adml))]


# --- Cross-reference check ----------------------------------------------------------------------

_STRING_REF = re.compile(r"\$\(string\.([^)]*)\)")
_PRESENTATION_REF = re.compile(r"\$\(presentation\.([^)]*)\)")


def _parse(data: bytes, what: str, problems: list[str]) -> etree._Element | None:
    """Strict parse, falling back to libxml2's recovery (Microsoft's WindowsDefender.adml declares
    a namespace with a space in it, which strict parsers refuse)."""
    try:
        return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        try:
            root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, recover=True))
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            problems.append(f"{what}: not XML: {exc}")
        return root


def _children(el: etree._Element | None, path: str) -> list[etree._Element]:
    """Elements along ``path`` (slash-separated local names), in any namespace."""
    if el is None:
        return []
    return el.findall("/".join(f"{{*}}{part}" for part in path.split("/")))


def _where(el: etree._Element) -> str:
    name = el.get("name") or el.get("id")
    return f"<{etree.QName(el).localname}{f' {name!r}' if name else ''}>"


def _duplicates(values: list[str | None], what: str, problems: list[str]) -> set[str]:
    counts = Counter(v for v in values if v is not None)
    for value, n in counts.items():
        if n > 1:
            problems.append(f"{what} {value!r} is defined {n} times")
    return set(counts)


def check_references(admx: bytes, adml: bytes) -> list[str]:
    """Problems in the cross-references between an ADMX file and its ADML (empty list = none).

    Checks: every ``$(string.X)`` of the ADMX is in the ADML stringTable and every string there is
    used; every ``$(presentation.X)`` is in the presentationTable and every presentation is used;
    every presentation control's ``refId`` names an element ``id`` of each policy that uses the
    presentation; every policy with elements has a presentation; unprefixed (or own-prefix)
    ``parentCategory``/``supportedOn`` refs name a category/definition of the file, other prefixes
    are declared in policyNamespaces; no duplicate policy, category, definition, string or
    presentation ids. References into other files (``windows:...``) are not followed.
    """
    problems: list[str] = []
    x = _parse(admx, "ADMX", problems)
    l = _parse(adml, "ADML", problems)
    if x is None or l is None:
        return problems

    # ADML tables.
    strings = _duplicates([s.get("id") for s in _children(l, "resources/stringTable/string")],
                          "ADML string id", problems)
    pres_els = _children(l, "resources/presentationTable/presentation")
    presentations = _duplicates([p.get("id") for p in pres_els], "ADML presentation id", problems)
    pres_by_id = {p.get("id"): p for p in pres_els}

    # ADMX names.
    target = _children(x, "policyNamespaces/target")
    own_prefix = target[0].get("prefix") if target else None
    using = {u.get("prefix") for u in _children(x, "policyNamespaces/using")}
    categories = _duplicates([c.get("name") for c in _children(x, "categories/category")],
                             "ADMX category", problems)
    definitions = _duplicates([d.get("name") for d in _children(x, "supportedOn/definitions/definition")],
                              "ADMX supportedOn definition", problems)
    policies = _children(x, "policies/policy")
    _duplicates([p.get("name") for p in policies], "ADMX policy", problems)

    # $(string.X) and $(presentation.X) anywhere in ADMX attributes.
    used_strings: set[str] = set()
    used_presentations: set[str] = set()
    for el in x.iter(etree.Element):
        for attr, value in el.attrib.items():
            for sid in _STRING_REF.findall(value):
                if sid not in strings and sid not in used_strings:
                    problems.append(f"ADMX {_where(el)} {attr}: $(string.{sid}) is not in the ADML stringTable")
                used_strings.add(sid)
            for pid in _PRESENTATION_REF.findall(value):
                if pid not in presentations and pid not in used_presentations:
                    problems.append(f"ADMX {_where(el)} {attr}: $(presentation.{pid}) is not in the ADML presentationTable")
                used_presentations.add(pid)
    for sid in sorted(strings - used_strings):
        problems.append(f"ADML string {sid!r} is not used by the ADMX")
    for pid in sorted(presentations - used_presentations):
        problems.append(f"ADML presentation {pid!r} is not used by the ADMX")

    # Presentation controls against the elements of each policy using them.
    for pol in policies:
        element_ids = [e.get("id") for e in _children(pol, "elements/*") if isinstance(e.tag, str)]
        ids = _duplicates(element_ids, f"ADMX policy {pol.get('name')!r}: element id", problems)
        refs = _PRESENTATION_REF.findall(pol.get("presentation", ""))
        if element_ids and not refs:
            problems.append(f"ADMX policy {pol.get('name')!r} has elements but no presentation")
        for pid in refs:
            pres = pres_by_id.get(pid)
            if pres is None:
                continue   # reported above
            for control in pres.iter(etree.Element):
                ref_id = control.get("refId")
                if ref_id is not None and ref_id not in ids:
                    problems.append(f"ADML presentation {pid!r}: <{etree.QName(control).localname} "
                                    f"refId={ref_id!r}> names no element of policy {pol.get('name')!r}")

    # parentCategory / supportedOn refs.
    def check_ref(el: etree._Element, kind: str, local: set[str]) -> None:
        ref = el.get("ref")
        if ref is None:
            return
        owner = el.getparent()
        prefix, _, name = ref.rpartition(":")
        if prefix and prefix != own_prefix:
            if prefix not in using:
                problems.append(f"ADMX {_where(owner)}: {kind} ref {ref!r} uses an undeclared prefix {prefix!r}")
            return   # defined in another file
        if name not in local:
            problems.append(f"ADMX {_where(owner)}: {kind} ref {ref!r} names no {kind} defined in this file")

    for el in x.iter("{*}parentCategory"):
        check_ref(el, "category", categories)
    for pol in policies:
        for el in _children(pol, "supportedOn"):
            check_ref(el, "supportedOn", definitions)
    return problems
