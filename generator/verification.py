"""The verification script every onboarding kit ships, and the result format it writes.

``Test-MdeOnboarding.ps1`` is the same bytes in every kit (no config value is in it): each kit
passes its target's expected values as parameters (org id, passive mode, device tag, agent). It
writes one JSON document per run that follows :data:`RESULT_SCHEMA`, a versioned JSON Schema the
fleet report reads (``mdegen schema --results`` prints it). The check ids and classes below are
part of that contract: add new ones, never rename or renumber one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator import offboarding, payload_scripts, payloads, policy, prerequisites
from generator.launch import POWERSHELL_OPTIONS, argv_quoted
from generator.policy import hklm_path
from generator.templating import render_powershell, text_file

SCRIPT_NAME = "Test-MdeOnboarding.ps1"
TEMPLATE = "verify/Test-MdeOnboarding.ps1.j2"
SCHEMA_VERSION = 1
SCHEMA_ID = f"https://mdegen.invalid/schemas/result-{SCHEMA_VERSION}.json"


@dataclass(frozen=True)
class CheckClass:
    bit: int
    name: str
    text: str


# Exit-code bits: the script exits with the sum of the classes that failed.
CLASSES = (
    CheckClass(1, "tenant", "not onboarded (or not offboarded), another organisation, or the script's event is an error"),
    CheckClass(2, "sensor", "the Sense service does not run (or still starts automatically after offboarding)"),
    CheckClass(4, "antivirus", "Defender Antivirus: service, running mode or passive-mode policy not as expected"),
    CheckClass(8, "tag", "the device tag is not the configured one"),
    CheckClass(16, "agent", "the down-level agent is missing or reports a failure"),
    CheckClass(32, "connectivity", "the SENSE log shows connectivity errors since the last start"),
)
_BIT = {c.name: c.bit for c in CLASSES}

# Check id -> class. The order is the order of the result's checks.
CHECKS: tuple[tuple[str, str], ...] = (
    ("onboarding_state", "tenant"),
    ("org_id", "tenant"),
    ("script_event", "tenant"),
    ("onboarding_value", "tenant"),
    ("sense_service", "sensor"),
    ("sense_connectivity", "connectivity"),
    ("defender_service", "antivirus"),
    ("running_mode", "antivirus"),
    ("passive_policy", "antivirus"),
    ("passive_event", "antivirus"),
    ("prerequisites", "agent"),
    ("device_tag", "tag"),
    ("agent", "agent"),
)
STATUSES = ("pass", "fail", "not-applicable")

# Facts the script reads (mde-2026.md §F, mde-domain.md §1-§4).
SUCCESS_EVENT = 20                       # WDATPOnboarding / WDATPOffboarding: succeeded
CONTACTED_EVENT_ID = 4                   # SENSE/Operational: contacted the server
CONNECTIVITY_EVENT_IDS = (5, 15)         # SENSE/Operational: failed to contact the server, command channel
SCRIPT_FAILED_EXIT = 128                 # the script itself failed: no class uses this bit
PASSIVE_EVENT_ID = 84                    # Sense: "Force passive mode: %1, result code: %2"
UNINSTALL_KEYS = offboarding.UNINSTALL_KEYS

RESULT_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": f"mdegen verification result, version {SCHEMA_VERSION}",
    "description": "One run of Test-MdeOnboarding.ps1 on one server.",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "computer", "time", "expect", "target", "release", "agent", "result", "exitCode", "checks"],
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "computer": {"type": "string", "minLength": 1, "description": "The computer name (NetBIOS)."},
        "time": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", "description": "When it ran, UTC."},
        "expect": {"enum": ["Onboarded", "Offboarded"]},
        "target": {"type": "string", "description": "The mdegen target the server belongs to ('' when not given)."},
        "release": {"type": "string", "description": "The mdegen release ('' when not given)."},
        "agent": {"enum": ["none", "defenderdt", "unified", "mma"]},
        "result": {"enum": ["pass", "fail"]},
        "exitCode": {"type": "integer", "minimum": 0, "maximum": sum(c.bit for c in CLASSES),
                     "description": "The sum of the failed checks' classes."},
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "class", "status", "expected", "observed", "detail"],
                "properties": {
                    "id": {"enum": [c for c, _ in CHECKS]},
                    "class": {"enum": [c.bit for c in CLASSES]},
                    "status": {"enum": list(STATUSES)},
                    "expected": {"type": "string"},
                    "observed": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}


SCHEMA_FILE_NAME = "Test-MdeOnboarding.schema.json"


def schema_bytes() -> bytes:
    """The result schema as the kits ship it beside the script (UTF-8, LF, sorted keys: as
    manifest.json is written, so the same bytes everywhere)."""
    import json

    return (json.dumps(RESULT_SCHEMA, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def kit_files() -> list[tuple[str, bytes]]:
    """(name, bytes) of the verification files every kit carries at its top level."""
    return [(SCRIPT_NAME, render_script()), (SCHEMA_FILE_NAME, schema_bytes())]


def render_script() -> bytes:
    """Test-MdeOnboarding.ps1's bytes (UTF-8 with BOM, CRLF): the same for every config."""
    passive = policy.setting("passive_mode")
    tag = policy.setting("device_tag")
    context = {
        "schema_version": SCHEMA_VERSION,
        "script_failed": SCRIPT_FAILED_EXIT,
        "schema_id": SCHEMA_ID,
        "classes": CLASSES,
        "checks": [{"id": c, "bit": _BIT[cls]} for c, cls in CHECKS],
        "event_meanings": [(code, meaning) for code, meaning in payloads.PORTAL_ONBOARDING_EXIT_CODES],
        "facts": {
            "status_key": hklm_path(policy.STATUS_KEY),
            "state_value": policy.ONBOARDING_STATE,
            "org_id_value": "OrgId",
            "policy_key": hklm_path(passive.key),
            "passive_value": passive.value_name,
            "tag_key": hklm_path(tag.key),
            "tag_value": tag.value_name,
            "sense_service": policy.SENSE_SERVICE,
            "sense_service_path": policy.SENSE_SERVICE_PATH,
            "defender_service": "WinDefend",
            "onboarding_source": "WDATPOnboarding",
            "offboarding_source": "WDATPOffboarding",
            "success_event": SUCCESS_EVENT,
            "sense_log": "Microsoft-Windows-SENSE/Operational",
            "sense_provider": "Microsoft-Windows-SENSE",
            "connectivity_ids": CONNECTIVITY_EVENT_IDS,
            "contacted_id": CONTACTED_EVENT_ID,
            "passive_event_id": PASSIVE_EVENT_ID,
            "unified_name": "^Microsoft Defender for (Windows Server|Endpoint)",
            "uninstall_keys": UNINSTALL_KEYS,
            "defenderdt_logs": payloads.DEFENDERDT_LOG_FOLDER,
            "mma_com_class": payload_scripts.MMA_COM_CLASS,
            "onboarding_value": policy.ONBOARDING_INFO,
            "reboot_keys": prerequisites.FACTS["reboot_keys"],
            "defender_policy_key": prerequisites.FACTS["defender_policy"],
            "antispyware_value": prerequisites.FACTS["antispyware"],
            "install_marker_key": prerequisites.FACTS["install_marker_key"],
            "install_marker_value": prerequisites.FACTS["install_marker_value"],
        },
    }
    return text_file(render_powershell(TEMPLATE, context), bom=True)


def _passive_word(value: bool | None) -> str:
    return {True: "on", False: "off", None: "unset"}[value]


def _parameters(quote, *, name: str, settings, agent: str | None, org_id: str | None, release: str,
                workspace_id: str | None, expect: str) -> list[str]:
    """The script's parameters for one target as ["-Name", value, ...], each value through ``quote``
    (the language of the command line it goes into)."""
    return [p for pair in _pairs(quote, name=name, settings=settings, agent=agent, org_id=org_id, release=release,
                                 workspace_id=workspace_id, expect=expect) for p in pair]


def _pairs(quote, *, name: str, settings, agent: str | None, org_id: str | None, release: str,
           workspace_id: str | None, expect: str) -> list[tuple[str, str]]:
    """The script's parameters for one target, each value through ``quote`` (the language of the
    command line it goes into). After offboarding only what must be gone is checked: no
    organisation, policy or tag."""
    parts = []
    if expect == "Offboarded":
        parts.append(("-Expect", "Offboarded"))
    else:
        if org_id:
            parts.append(("-OrgId", org_id))
        parts.append(("-PassiveMode", _passive_word(settings.passive_mode)))
        if settings.device_tag:
            parts.append(("-DeviceTag", quote(settings.device_tag)))
    if agent:
        parts.append(("-Agent", agent))
    if agent == "mma" and workspace_id:
        parts.append(("-WorkspaceId", workspace_id))
    return parts + [("-Target", quote(name)), ("-Release", quote(release))]


def command(*, name: str, settings, agent: str | None, org_id: str | None, release: str,
            workspace_id: str | None = None, expect: str = "Onboarded") -> str:
    """How a handoff shows running the script for one target or pool, from an elevated Windows
    PowerShell in the kit's folder: every value a PowerShell literal (escaping.ps_single_quoted)."""
    from generator.escaping import ps_single_quoted

    return " ".join([rf".\{SCRIPT_NAME}", *_parameters(
        ps_single_quoted, name=name, settings=settings, agent=agent, org_id=org_id, release=release,
        workspace_id=workspace_id, expect=expect)])


def task_arguments(*, script_path: str, name: str, settings, agent: str | None, org_id: str | None, release: str,
                   workspace_id: str | None = None, result_path: str) -> str:
    """The arguments of a task that runs the script with powershell.exe -File (no PowerShell
    quoting there: Windows' command-line rules). Each value is joined to its name with a colon:
    under -File a separate value that starts with a dash would be read as a parameter name."""
    pairs = _pairs(argv_quoted, name=name, settings=settings, agent=agent, org_id=org_id, release=release,
                   workspace_id=workspace_id, expect="Onboarded") + [("-ResultPath", argv_quoted(result_path))]
    return " ".join([POWERSHELL_OPTIONS, argv_quoted(script_path),
                     *(f"{n}:{v}" for n, v in pairs)])


def _org_id(project) -> str | None:
    """The tenant the servers must report to: the portal package's, else DefenderDT's."""
    if project.onboarding is not None:
        return project.onboarding.facts.org_id
    blob = getattr(project.agent_files.get("defenderdt_onboarding"), "blob", None)
    return blob.org_id if blob is not None else None


def task_rows(project, script_path: str, result_path: str) -> list[dict[str, str]]:
    """Per target: the arguments of a GPO task that collects its results on ``result_path``."""
    from generator.templating import markdown_cell

    downlevel = project.config.downlevel
    return [{"name": markdown_cell(t.name),
             "arguments": task_arguments(script_path=script_path, name=t.name, settings=t.settings, agent=t.agent,
                                         org_id=_org_id(project), release=project.release_version,
                                         workspace_id=downlevel.workspace_id if downlevel else None,
                                         result_path=result_path)}
            for t in project.targets]


def rows(project, expect: str = "Onboarded") -> list[dict[str, str]]:
    """One verification command per target of ``project``, for the handoffs."""
    from generator.templating import markdown_cell

    downlevel = project.config.downlevel
    return [{"name": markdown_cell(t.name),
             "command": command(name=t.name, settings=t.settings, agent=t.agent, org_id=_org_id(project),
                                release=project.release_version,
                                workspace_id=downlevel.workspace_id if downlevel else None, expect=expect)}
            for t in project.targets]


# The JSON Schema keywords RESULT_SCHEMA uses, each of which ``result_problems`` checks; a test
# keeps the schema to these, so the report never trusts a keyword nobody checks.
SCHEMA_KEYWORDS = frozenset({"$schema", "$id", "title", "description", "type", "additionalProperties", "required",
                             "properties", "const", "enum", "minLength", "pattern", "minimum", "maximum", "items"})
_TYPES = {"object": dict, "array": list, "string": str}


def result_problems(doc: object, schema: dict | None = None, where: str = "") -> list[str]:
    """What keeps ``doc`` from being a result of RESULT_SCHEMA (empty: it is one), each naming the
    place ("checks[3].status: ..."). Implements exactly SCHEMA_KEYWORDS."""
    schema = RESULT_SCHEMA if schema is None else schema
    at = where or "the result"
    kind = schema.get("type")
    if kind == "integer":
        if not isinstance(doc, int) or isinstance(doc, bool):
            return [f"{at}: is not an integer"]
    elif kind is not None and not isinstance(doc, _TYPES[kind]):
        return [f"{at}: is not a{'n' if kind[0] in 'aeiou' else ''} {kind}"]
    if "const" in schema and doc != schema["const"]:
        return [f"{at}: is not {schema['const']!r}"]
    if "enum" in schema and (isinstance(doc, bool) or doc not in schema["enum"]):
        return [f"{at}: {doc!r} is none of {', '.join(map(str, schema['enum']))}"]
    problems = []
    if isinstance(doc, str):
        if len(doc) < schema.get("minLength", 0):
            problems.append(f"{at}: is too short")
        # JSON Schema's $ ends the text; Python's would also match before a final line break
        pattern = schema.get("pattern", "").replace("$", r"\Z")
        if pattern and not re.search(pattern, doc):
            problems.append(f"{at}: {doc!r} is not of the form {schema['pattern']}")
    if isinstance(doc, int) and not isinstance(doc, bool):
        if doc < schema.get("minimum", doc) or doc > schema.get("maximum", doc):
            problems.append(f"{at}: {doc} is out of range")
    if isinstance(doc, dict):
        properties = schema.get("properties", {})
        problems += [f"{at}: lacks {name!r}" for name in schema.get("required", []) if name not in doc]
        if schema.get("additionalProperties") is False:
            problems += [f"{at}: has {name!r}, which the schema does not know" for name in doc if name not in properties]
        for name, sub in properties.items():
            if name in doc:
                problems += result_problems(doc[name], sub, f"{where}.{name}" if where else name)
    if isinstance(doc, list) and "items" in schema:
        for i, item in enumerate(doc):
            problems += result_problems(item, schema["items"], f"{where}[{i}]")
    return problems
