"""New-MdeCmPackage.ps1 and the compliance discovery scripts of the SCCM kit.

``render_cm_script`` turns the kit's ``CmPackage`` records into the script the ConfigMgr admin runs
(Windows PowerShell 5.1 with the ConfigurationManager module). Like Import-MdeGpo.ps1 it carries
everything the config contributes (names, descriptions, command lines, collection queries, file
hashes) in one data block at the top, each string as a PowerShell single-quoted literal (the ``ps``
filter of ``generator.templating.powershell_environment``, which quotes each value once and whose
refusals ``render_powershell`` turns into errors naming the record and field); the code below only
refers to those variables. Registry paths and value names come from generator/policy.py.

``render_discovery_scripts`` writes the configuration items' discovery scripts. Their contract
with the CI rule: each writes exactly one line, ``Compliant`` (``COMPLIANT``) when the server is as
it should be, otherwise a short reason ("Not onboarded: OnboardingState is 0"). The rule is a
string value rule "equals Compliant", so ConfigMgr shows the reason as the actual value of a
noncompliant server. Both read the registry in the 64-bit view explicitly
(``RegistryKey.OpenBaseKey('LocalMachine', 'Registry64')``), whatever the bitness of the host.

Kit layout the script relies on:
    New-MdeCmPackage.ps1
    compliance/<discovery script>      (COMPLIANCE_FOLDER; read by the script, hash-checked)
    packages/<CmPackage.folder>/<file> (copied by the admin below -SourcePath; hash-checked)

How the script tells "exists and current" from "missing" or "changed" (it finds objects by name):
* content on the DP group: a row in SMS_DPGroupContentInfo with the group's GroupID and the
  package's (or Application's) PackageID, read with Invoke-CMWmiQuery; a changed version or
  source path refreshes the DPs with Update-CMDistributionPoint;
* collection rule: Get-CMDeviceCollectionQueryMembershipRule by rule name; the same query (white
  space and case aside) is current, another query stops the script (it never replaces a rule);
* compliance setting: the discovery script text sent to ConfigMgr starts with a comment holding the
  SHA-256 of the kit's file, so a current setting is found in the CI's SDMPackageXML;
* CI in baseline: the CI's logical name (the last part of its ModelName) in the baseline's
  SDMPackageXML;
* deployments: any deployment of the program / baseline / Application to the collection counts as
  present and is left as it is.
With -CreateApplication and -Deploy the Application is deployed instead of the program, so the
onboarding script does not run twice on a server. The Application's detection rule is what the
program ensures (``detection_text``): OnboardingState = 1 and, where the package sets passive mode,
ForceDefenderPassiveMode = the package's value, both in the 64-bit view, joined by AND; otherwise a
server onboarded before the Application would count as installed and never get passive mode.

The script is not signed, and the console's "Connect via Windows PowerShell" session runs
AllSigned: its help and fix texts say to start it with ``START_COMMAND``.

Output: UTF-8 with BOM (Windows PowerShell 5.1 reads a BOM-less script as the ANSI code page) and
CRLF line ends; the same records give the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
import re
from collections.abc import Callable, Iterable

from generator.escaping import plain
from generator.policy import ONBOARDING_STATE, PASSIVE_MODE_KEY, PASSIVE_MODE_VALUE, STATUS_KEY, hklm_path
from generator.formats import pdf_sms
from generator.records import CmAtpPolicy, CmCollection, CmCompliance, CmPackage
from generator.templating import render_powershell, text_file

TEMPLATE = "sccm/New-MdeCmPackage.ps1.j2"
SCRIPT_NAME = "New-MdeCmPackage.ps1"
COMPLIANCE_FOLDER = "compliance"
PACKAGES_FOLDER = "packages"
POLICY_FOLDER = "policy"             # the Defender for Endpoint policies' files, beside the script

# How the admin starts the unsigned script (the SCCM handoff spells the same command).
START_COMMAND = "powershell.exe -ExecutionPolicy Bypass -File .\\" + SCRIPT_NAME

COMPLIANT = "Compliant"
# The compliance settings mdegen puts in a configuration item. The script stops where an item holds
# one of them that this release's item does not (a target that moved to the policy route, or whose
# passive mode is no longer set): it would keep reporting, and the script never deletes.
ONBOARDING_SETTING = "Defender for Endpoint onboarding state"
PASSIVE_SETTING = "Defender Antivirus passive mode policy"
# How the kit's offboarding objects are named: the script finds those of any release by these
# prefixes before it deploys an onboarding route to a collection.
OFFBOARDING_PACKAGE_PREFIX = "MDE Offboarding until "
AGENT_OFFBOARDING_PREFIX = "MDE Offboard - "
OFFBOARDING_POLICY_PREFIX = "MDE Offboarding policy until "
ONBOARDING_STATE_SCRIPT = "Get-MdeOnboardingState.ps1"
_ONBOARDING_TEMPLATE = "sccm/Get-MdeOnboardingState.ps1.j2"
_PASSIVE_TEMPLATE = "sccm/Get-MdePassiveMode.ps1.j2"

# What ConfigMgr accepts: the Package Definition File's limits, which New-CMPackage and
# New-CMProgram enforce the same way (shared/reference/sccm.md §1.1-1.2).
_MAX = {"name": pdf_sms.PACKAGE_LIMITS["Name"], "version": pdf_sms.PACKAGE_LIMITS["Version"],
        "publisher": pdf_sms.PACKAGE_LIMITS["Publisher"], "language": pdf_sms.PACKAGE_LIMITS["Language"],
        "comment": pdf_sms.PACKAGE_LIMITS["Comment"], "program.name": pdf_sms.PROGRAM_LIMITS["Name"],
        "program.command_line": pdf_sms.PROGRAM_LIMITS["CommandLine"], "program.comment": pdf_sms.PROGRAM_LIMITS["Comment"]}
_MAX_RUN_MINUTES = 720          # "Unknown" in the console; more would collide with maintenance windows
# A Defender for Endpoint policy's name and description: the console's limits for configuration items
# (the policy is one), inferred; mdegen's own texts stay well below them.
_MAX_POLICY_NAME = 256
_MAX_POLICY_DESCRIPTION = 512
_POLICY_VALUES = {"sample_sharing": ("All", "None"), "telemetry": ("Normal", "Expedited")}

# Characters Windows does not allow in a file or folder name.
_BAD_NAME = re.compile(r'[\x00-\x1f"*:<>?|\\/]')


# The registry facts the three templates print, from generator/policy.py (the one place they are
# spelled). Where one stands alone as a literal the template quotes it with `ps`; in comments and
# inside a longer literal it is written as it is, which plain() allows: fixed ASCII names without
# quotes, '#' or control characters.
_REGISTRY = {
    "status_key": plain(hklm_path(STATUS_KEY)),
    "onboarding_state": plain(ONBOARDING_STATE),
    "passive_key": plain(hklm_path(PASSIVE_MODE_KEY)),
    "passive_value_name": plain(PASSIVE_MODE_VALUE),
}


def _script_bytes(text: str) -> bytes:
    return text_file(text, encoding="utf-8", bom=True)


# --- discovery scripts ------------------------------------------------------------------------


def passive_mode_script(passive: bool) -> str:
    """File name of the discovery script that expects ForceDefenderPassiveMode = 1 (True) or 0 (False)."""
    return "Get-MdePassiveMode-On.ps1" if passive else "Get-MdePassiveMode-Off.ps1"


def render_discovery_scripts(passive_modes: Iterable[bool] = ()) -> list[tuple[str, bytes]]:
    """The compliance discovery scripts as ``(file name, bytes)``: UTF-8 with BOM, CRLF.

    Always ``Get-MdeOnboardingState.ps1`` (OnboardingState = 1); then one passive-mode script per
    distinct value in ``passive_modes`` (on before off), named by ``passive_mode_script``. They go
    to the kit's ``compliance/`` folder, where New-MdeCmPackage.ps1 reads them.
    """
    for passive in passive_modes:
        if not isinstance(passive, bool):
            raise ValueError(f"passive_modes: {passive!r} is not true or false")
    names = [ONBOARDING_STATE_SCRIPT] + [passive_mode_script(p) for p in sorted(set(passive_modes), reverse=True)]
    return [(name, _discovery_script(name)) for name in names]


@functools.cache
def _discovery_script(name: str) -> bytes:
    """One discovery script's bytes, rendered once per process: the kit writes them to compliance/
    and the configuration items carry their hash, both from this one rendering."""
    if name == ONBOARDING_STATE_SCRIPT:
        return _script_bytes(render_powershell(_ONBOARDING_TEMPLATE, _REGISTRY))
    expected = {passive_mode_script(True): 1, passive_mode_script(False): 0}[name]
    return _script_bytes(render_powershell(_PASSIVE_TEMPLATE, {**_REGISTRY, "expected": expected}))


def discovery_settings(passive_mode: bool | None) -> tuple[tuple[str, str, str, str], ...]:
    """``CmCompliance.settings`` for an onboarding package: the onboarding state, and the passive-mode
    policy when the package sets one, each with the SHA-256 New-MdeCmPackage.ps1 checks of the file
    ``render_discovery_scripts`` writes (the text itself is not carried)."""
    names = [(ONBOARDING_SETTING, ONBOARDING_STATE_SCRIPT)]
    if passive_mode is not None:
        names.append((PASSIVE_SETTING, passive_mode_script(passive_mode)))
    return tuple((setting, file_name, script_sha256(_discovery_script(file_name)), COMPLIANT)
                 for setting, file_name in names)


# --- New-MdeCmPackage.ps1 ---------------------------------------------------------------------


def _check(value: str, where: str, *, max_len: int | None = None, required: bool = False) -> str:
    """Fail early, naming the record and field, for a value that is not text, is empty although
    required, or is longer than ConfigMgr allows. (Whether PowerShell can carry it is the ``ps``
    filter's question, asked once, when the script is rendered.)"""
    if not isinstance(value, str):
        raise ValueError(f"{where}: {value!r} is not text")
    if required and not value.strip():
        raise ValueError(f"{where}: is empty")
    if max_len is not None and len(value) > max_len:
        raise ValueError(f"{where}: is {len(value)} characters long; Configuration Manager allows {max_len}")
    return value


def _count(value: object, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where}: {value!r} is not a whole number from {low} to {high}")
    return value


def _file_name(name: str, where: str) -> str:
    """One plain file or folder name (no separators, nothing Windows refuses)."""
    _check(name, where, required=True)
    if _BAD_NAME.search(name) or name in (".", "..") or name.endswith((" ", ".")):
        raise ValueError(f"{where}: {name!r} is not a plain Windows file name")
    return name


def _relative_path(path: str, where: str) -> str:
    """'sub/x.cmd' -> 'sub\\x.cmd', each part a plain Windows name."""
    if "\\" in path or path.startswith("/") or posixpath.normpath(path) != path:
        raise ValueError(f"{where}: {path!r} is not a plain relative path")
    return "\\".join(_file_name(part, where) for part in path.split("/"))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest().upper()


def script_sha256(data: bytes) -> str:
    """The hash New-MdeCmPackage.ps1 computes for a discovery script file: of its text as UTF-8
    without the BOM, with CRLF line ends."""
    return _sha256(text_file(data.decode("utf-8-sig"), encoding="utf-8"))


_SHA256 = re.compile(r"[0-9A-F]{64}\Z")


def _collection_record(c: CmCollection, where: str) -> dict[str, str]:
    return {
        "name": _check(c.name, f"{where}.name", required=True),
        "comment": _check(c.comment, f"{where}.comment"),
        "rule_name": _check(c.rule_name, f"{where}.rule_name", required=True),
        "query": _check(c.query, f"{where}.query", required=True),
    }


def _compliance_record(c: CmCompliance, where: str, texts: dict[str, tuple[str, str]]) -> dict[str, object]:
    if not c.settings:
        raise ValueError(f"{where}.settings: the configuration item has no setting")
    settings, seen = [], set()
    for i, setting in enumerate(c.settings):
        w = f"{where}.settings[{i}]"
        name, file_name, digest, expected = setting
        _check(name, f"{w} name", required=True)
        if name.casefold() in seen:
            raise ValueError(f"{w}: another setting of this configuration item is also named {name!r}")
        seen.add(name.casefold())
        _file_name(file_name, f"{w} file name")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise ValueError(f"{w} script hash: {digest!r} is not an upper-case SHA-256")
        if texts.setdefault(file_name.casefold(), (digest, w))[0] != digest:
            raise ValueError(f"{w} file name: {file_name!r} has other content in {texts[file_name.casefold()][1]}")
        settings.append({"name": name, "file": file_name, "sha256": digest,
                         "expected": _check(expected, f"{w} expected result", required=True)})
    return {
        "ci_name": _check(c.ci_name, f"{where}.ci_name", required=True),
        "baseline_name": _check(c.baseline_name, f"{where}.baseline_name", required=True),
        "description": _check(c.description, f"{where}.description"),
        "settings": settings,
    }


def passive_detection_value(p: CmPackage, where: str = "package") -> int | None:
    """The ForceDefenderPassiveMode value the Application's detection requires for this package:
    1 or 0 where the package (its wrapper) sets passive mode, None where it does not."""
    if p.passive_mode is None:
        return None
    if not isinstance(p.passive_mode, bool):
        raise ValueError(f"{where}.passive_mode: {p.passive_mode!r} is not true, false or unset")
    if p.role != "onboarding":
        raise ValueError(f"{where}.passive_mode: only an onboarding package sets passive mode")
    return int(p.passive_mode)


def detection_text(passive: int | None) -> str:
    """What the Application's detection rule checks, for the script's messages."""
    text = f"{ONBOARDING_STATE} = 1"
    if passive is not None:
        text += f" and {PASSIVE_MODE_VALUE} = {passive}"
    return text + " (64-bit)"


def _package_record(p: CmPackage, where: str, texts: dict[str, tuple[str, str]]) -> dict[str, object]:
    if p.role not in ("onboarding", "offboarding"):
        raise ValueError(f"{where}.role: {p.role!r} is neither 'onboarding' nor 'offboarding'")
    if p.role == "offboarding" and p.collection is not None:
        raise ValueError(f"{where}.collection: the offboarding package gets no collection; "
                         "the script never deploys it (the admin picks the servers to offboard)")
    if p.role == "offboarding" and p.compliance is not None:
        raise ValueError(f"{where}.compliance: an onboarding-state baseline makes no sense for the offboarding package")
    prog = p.program
    passive = passive_detection_value(p, where)
    files = []
    for i, (name, data) in enumerate(p.files):
        if not isinstance(data, bytes):
            raise ValueError(f"{where}.files[{i}]: the content is not bytes")
        files.append({"name": _relative_path(name, f"{where}.files[{i}]"), "sha256": _sha256(data)})
    if not files:
        raise ValueError(f"{where}.files: the source folder would be empty")
    if len({f["name"].casefold() for f in files}) != len(files):
        raise ValueError(f"{where}.files: a file name is listed twice")
    return {
        "route": "package",
        "role": p.role,
        "target_name": None if p.target_name is None else _check(p.target_name, f"{where}.target_name"),
        "folder": _file_name(p.folder, f"{where}.folder"),
        "name": _check(p.name, f"{where}.name", max_len=_MAX["name"], required=True),
        "version": _check(p.version, f"{where}.version", max_len=_MAX["version"]),
        "manufacturer": _check(p.publisher, f"{where}.publisher", max_len=_MAX["publisher"]),
        "language": _check(p.language, f"{where}.language", max_len=_MAX["language"]),
        "description": _check(p.comment, f"{where}.comment", max_len=_MAX["comment"]),
        "program_name": _check(prog.name, f"{where}.program.name", max_len=_MAX["program.name"], required=True),
        "command_line": _check(prog.command_line, f"{where}.program.command_line",
                               max_len=_MAX["program.command_line"], required=True),
        "program_comment": _check(prog.comment, f"{where}.program.comment", max_len=_MAX["program.comment"]),
        "duration": _count(prog.estimated_run_minutes, f"{where}.program.estimated_run_minutes", 1, _MAX_RUN_MINUTES),
        "disk_mb": _count(prog.estimated_disk_mb, f"{where}.program.estimated_disk_mb", 0, 1024 * 1024),
        "files": files,
        "notes": [_check(n, f"{where}.notes[{i}]") for i, n in enumerate(p.notes)],
        "passive_mode": passive,
        "detection": detection_text(passive) if p.role == "onboarding" else None,
        "collection": None if p.collection is None else _collection_record(p.collection, f"{where}.collection"),
        "compliance": None if p.compliance is None else _compliance_record(p.compliance, f"{where}.compliance", texts),
    }


def policy_fingerprint(p: CmAtpPolicy, digest: str | None = None) -> str:
    """What New-MdeCmPackage.ps1 appends to a policy's description, so that a second run tells a
    current policy (same file, same settings) from one to update: the settings and the file's hash
    (``digest``, when the caller has it already)."""
    settings = "" if p.sample_sharing is None else f"sample sharing {p.sample_sharing}, reporting {p.telemetry}, "
    return f"[{settings}file SHA-256 {(digest or _sha256(p.data))[:16]}]"


def _policy_record(p: CmAtpPolicy, where: str, texts: dict[str, tuple[str, str]]) -> dict[str, object]:
    if p.role not in ("onboarding", "offboarding"):
        raise ValueError(f"{where}.role: {p.role!r} is neither 'onboarding' nor 'offboarding'")
    if p.role == "offboarding" and (p.collection is not None or p.compliance is not None):
        raise ValueError(f"{where}.collection: the offboarding policy gets no collection and no baseline; "
                         "the script never deploys it (the admin picks the servers to offboard)")
    if p.role == "onboarding" and p.collection is None:
        raise ValueError(f"{where}.collection: an onboarding policy needs the collection it is deployed to")
    suffix = ".onboarding" if p.role == "onboarding" else ".offboarding"
    if not _file_name(p.file_name, f"{where}.file_name").lower().endswith(suffix):
        raise ValueError(f"{where}.file_name: {p.file_name!r} is not a {suffix} file")
    if not isinstance(p.data, bytes) or not p.data:
        raise ValueError(f"{where}.data: the policy's file is empty or not bytes")
    for key, allowed in _POLICY_VALUES.items():
        value = getattr(p, key)
        if (value is None) != (p.role == "offboarding") or (value is not None and value not in allowed):
            raise ValueError(f"{where}.{key}: {value!r} is not one of {', '.join(allowed)}"
                             + (" (an offboarding policy has none)" if p.role == "offboarding" else ""))
    digest = _sha256(p.data)
    description = f"{_check(p.description, f'{where}.description')} {policy_fingerprint(p, digest)}".lstrip()
    return {
        "route": "policy",
        "role": p.role,
        "target_name": None if p.target_name is None else _check(p.target_name, f"{where}.target_name"),
        "name": _check(p.name, f"{where}.name", max_len=_MAX_POLICY_NAME, required=True),
        "description": _check(description, f"{where}.description", max_len=_MAX_POLICY_DESCRIPTION),
        "file": p.file_name,
        "sha256": digest,
        "sample_sharing": p.sample_sharing,
        "telemetry": p.telemetry,
        "notes": [_check(n, f"{where}.notes[{i}]") for i, n in enumerate(p.notes)],
        "collection": None if p.collection is None else _collection_record(p.collection, f"{where}.collection"),
        "compliance": None if p.compliance is None else _compliance_record(p.compliance, f"{where}.compliance", texts),
    }


# Keys of the package records (the template's names) -> the CmPackage fields error messages name.
_PACKAGE_FIELDS = {"manufacturer": "publisher", "description": "comment", "program_name": "program.name",
                   "command_line": "program.command_line", "program_comment": "program.comment"}
_SETTING_PARTS = {"name": " name", "file": " file name", "expected": " expected result"}


def _field_name(path: str) -> str:
    """A path in the template context (``packages[0].program_name``) as the record field it came
    from (``packages[0].program.name``), the way the other checks name fields."""
    m = re.fullmatch(r"((packages|policies)\[\d+\])\.(\w+)(.*)", path)
    if m is None:
        return path
    record, kind, key, rest = m.groups()
    if kind == "policies":
        return f"{record}.{'file_name' if key == 'file' else key}{rest}"
    if key == "files":                                   # files[j].name -> files[j]
        return f"{record}.files{rest.removesuffix('.name')}"
    setting = re.fullmatch(r"\.settings(\[\d+\])\.(\w+)", rest) if key == "compliance" else None
    if setting:                                          # settings[k].file -> settings[k] file name
        return f"{record}.compliance.settings{setting.group(1)}{_SETTING_PARTS.get(setting.group(2), '.' + setting.group(2))}"
    return f"{record}.{_PACKAGE_FIELDS.get(key, key)}{rest}"


def _unique(records: list[tuple[str, dict[str, object]]], key: Callable[[dict[str, object]], str | None],
            what: str) -> None:
    seen: dict[str, str] = {}
    for where, r in records:
        value = key(r)
        if value is None:
            continue
        if value.casefold() in seen:
            raise ValueError(f"{where}: {what} {value!r} is also used by {seen[value.casefold()]}; "
                             "the script finds objects by name, so names must be unique")
        seen[value.casefold()] = where


def render_cm_script(packages: list[CmPackage], policies: list[CmAtpPolicy] = (), *, organization: str,
                     release: str) -> bytes:
    """The bytes of New-MdeCmPackage.ps1 for these packages and Defender for Endpoint policies:
    UTF-8 with BOM, CRLF, deterministic.

    Raises ValueError, naming the record and field, for a value the script cannot carry (control
    characters, names too long for ConfigMgr, duplicate names, odd file names, a collection or
    baseline on the offboarding package or policy).
    """
    if not packages and not policies:
        raise ValueError("packages: the kit has no package and no policy")
    texts: dict[str, tuple[str, str]] = {}
    records = [_package_record(p, f"packages[{i}]", texts) for i, p in enumerate(packages)]
    policy_records = [_policy_record(p, f"policies[{i}]", texts) for i, p in enumerate(policies)]
    labelled = [(f"packages[{i}]", r) for i, r in enumerate(records)]
    labelled_policies = [(f"policies[{i}]", r) for i, r in enumerate(policy_records)]
    both = labelled + labelled_policies
    _unique(labelled, lambda r: r["name"], "package name")
    _unique(labelled_policies, lambda r: r["name"], "policy name")
    _unique(both, lambda r: r["collection"] and r["collection"]["name"], "collection name")
    _unique(both, lambda r: r["compliance"] and r["compliance"]["ci_name"], "configuration item name")
    _unique(both, lambda r: r["compliance"] and r["compliance"]["baseline_name"], "baseline name")
    context = {
        "organization": _check(organization, "organization"),
        "release": _check(release, "release"),
        "packages": records,
        "policies": policy_records,
        "offboarding_policy": any(r["role"] == "offboarding" for r in policy_records),
        "start_command": plain(START_COMMAND),
        "policy_folder": plain(POLICY_FOLDER),
        "setting_names": [ONBOARDING_SETTING, PASSIVE_SETTING],
        "offboarding_package_prefixes": [OFFBOARDING_PACKAGE_PREFIX, AGENT_OFFBOARDING_PREFIX],
        "offboarding_policy_prefix": OFFBOARDING_POLICY_PREFIX,
        **_REGISTRY,
    }
    return _script_bytes(render_powershell(TEMPLATE, context, field_name=_field_name))
