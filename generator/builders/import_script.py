"""Import-MdeGpo.ps1: the script the AD admin runs to import the GPO kit into a domain.

The script sits at the root of ``<output>/gpo/`` beside ``GPOs/`` (the backups), ``PolicyDefinitions/``
and ``WmiFilters/`` and finds them through ``$PSScriptRoot``. Everything the config contributes (GPO
names and descriptions, WMI filter names and queries, the organisation, file names) is written into
one data block at the top, each value as a PowerShell single-quoted literal
(``generator.escaping.ps_single_quoted``); the code below it only refers to those variables.

Output: UTF-8 with BOM (Windows PowerShell 5.1 reads a BOM-less script as the ANSI code page) and
CRLF line ends; the same records give the same bytes.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Iterable

import jinja2

from generator.builders.gpo_model import GpoDefinition, WmiFilter, braced
from generator.escaping import ps_single_quoted
from generator.templating import environment, to_crlf

TEMPLATE = "gpo/Import-MdeGpo.ps1.j2"
SCRIPT_NAME = "Import-MdeGpo.ps1"
POLICY_DEFINITIONS = "PolicyDefinitions/"
UTF8_BOM = b"\xef\xbb\xbf"


@functools.cache
def _environment() -> jinja2.Environment:
    """The shared environment plus the ``ps`` filter, as an overlay (the shared one is untouched)."""
    env = environment().overlay()
    env.filters["ps"] = ps_single_quoted
    return env


def _check(value: str, where: str) -> str:
    """Fail early, naming the record and field, for a value ps_single_quoted would refuse."""
    try:
        ps_single_quoted(value)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return value


def _admx_relative(path: str) -> str:
    """'PolicyDefinitions/en-US/X.adml' -> 'en-US\\X.adml' (relative to the kit's and the store's folder)."""
    if not path.startswith(POLICY_DEFINITIONS):
        raise ValueError(f"admx_files: {path!r} is not below {POLICY_DEFINITIONS}")
    rest = path[len(POLICY_DEFINITIONS):]
    parts = rest.split("/")
    if not rest or "\\" in rest or posixpath.normpath(rest) != rest or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"admx_files: {path!r} is not a plain relative path below {POLICY_DEFINITIONS}")
    if any(":" in p for p in parts):
        raise ValueError(f"admx_files: {path!r} holds a colon, which Windows file names cannot")
    return _check("\\".join(parts), "admx_files")


def _filter_record(f: WmiFilter, where: str) -> dict[str, str]:
    return {
        "id": braced(f.id),
        "name": _check(f.name, f"{where}.name"),
        "description": _check(f.description, f"{where}.description"),
        "namespace": _check(f.namespace, f"{where}.namespace"),
        "query": _check(f.query, f"{where}.query"),
    }


def _unique_filters(gpos: Iterable[GpoDefinition]) -> list[dict[str, str]]:
    """The WMI filters the GPOs use, once each, in order of first use. The script finds filters by
    name, so two different filters may not share a name (nor one ID carry two names)."""
    by_name: dict[str, tuple[WmiFilter, dict[str, str]]] = {}
    by_id: dict[str, str] = {}
    for i, gpo in enumerate(gpos):
        f = gpo.wmi_filter
        if f is None:
            continue
        where = f"gpos[{i}].wmi_filter"
        key = f.name.casefold()
        if key in by_name:
            if by_name[key][0] != f:
                raise ValueError(f"{where}: another WMI filter of the kit is also named {f.name!r}; "
                                 "filters are found by name, so names must be unique")
            continue
        fid = braced(f.id)
        if fid in by_id:
            raise ValueError(f"{where}: id {fid} is already used by WMI filter {by_id[fid]!r}")
        by_name[key] = (f, _filter_record(f, where))
        by_id[fid] = f.name
    return [record for _, record in by_name.values()]


def _gpo_record(g: GpoDefinition, where: str) -> dict[str, str | None]:
    if g.role not in ("onboarding", "offboarding"):
        raise ValueError(f"{where}.role: {g.role!r} is neither 'onboarding' nor 'offboarding'")
    return {
        "role": g.role,
        "display_name": _check(g.display_name, f"{where}.display_name"),
        "description": _check(g.description, f"{where}.description"),
        "backup_id": braced(g.backup_id),
        "target_name": None if g.target_name is None else _check(g.target_name, f"{where}.target_name"),
        "wmi_filter_name": None if g.wmi_filter is None else g.wmi_filter.name,
    }


def render_import_script(gpos: list[GpoDefinition], *, organization: str, release: str,
                         admx_files: list[str]) -> bytes:
    """The bytes of Import-MdeGpo.ps1 for these GPOs: UTF-8 with BOM, CRLF, deterministic.

    ``admx_files`` are kit paths below ``PolicyDefinitions/`` (e.g. the ``OutputFile.path`` values
    of build_policy_definitions()). Raises ValueError, naming the record and field, for a value the
    script cannot carry (control characters, duplicate GPO names, clashing WMI filters, odd paths).
    """
    if not gpos:
        raise ValueError("gpos: the kit has no GPO to import")
    seen: dict[str, int] = {}
    records = []
    for i, g in enumerate(gpos):
        where = f"gpos[{i}]"
        key = g.display_name.casefold()
        if key in seen:
            raise ValueError(f"{where}.display_name: {g.display_name!r} is also the name of gpos[{seen[key]}]; "
                             "GPOs are found by name, so names must be unique")
        seen[key] = i
        if not g.display_name.strip():
            raise ValueError(f"{where}.display_name: is empty")
        records.append(_gpo_record(g, where))
    targets: dict[str, int] = {}
    for i, g in enumerate(gpos):
        if g.role == "onboarding" and g.target_name is not None:
            key = g.target_name.casefold()
            if key in seen and seen[key] != i:
                raise ValueError(f"gpos[{i}].target_name: {g.target_name!r} is the display name of another GPO; "
                                 "-LinkOU could not tell them apart")
            if key in targets:
                raise ValueError(f"gpos[{i}].target_name: {g.target_name!r} is also the target of gpos[{targets[key]}]")
            targets[key] = i
    text = _environment().get_template(TEMPLATE).render(
        organization=_check(organization, "organization"),
        release=_check(release, "release"),
        wmi_filters=_unique_filters(gpos),
        gpos=records,
        admx_files=[_admx_relative(p) for p in admx_files],
    )
    return UTF8_BOM + to_crlf(text).encode("utf-8")
