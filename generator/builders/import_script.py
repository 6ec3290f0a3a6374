"""Import-MdeGpo.ps1: the script the AD admin runs to import the GPO kit into a domain.

The script sits at the root of ``<output>/gpo/`` beside ``GPOs/`` (the backups), ``PolicyDefinitions/``
and ``WmiFilters/`` and finds them through ``$PSScriptRoot``. Everything the config contributes (GPO
names and descriptions, WMI filter names and queries, the organisation, file names) is written into
one data block at the top, each value as a PowerShell single-quoted literal (the ``ps`` filter of
``generator.templating.powershell_environment``, which quotes each value once and whose refusals
``render_powershell`` turns into errors naming the record and field); the code below it only refers
to those variables.

Output: UTF-8 with BOM (Windows PowerShell 5.1 reads a BOM-less script as the ANSI code page) and
CRLF line ends; the same records give the same bytes.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable

from generator.records import GpoDefinition, WmiFilter, braced
from generator.templating import render_powershell, text_file

TEMPLATE = "gpo/Import-MdeGpo.ps1.j2"
SCRIPT_NAME = "Import-MdeGpo.ps1"
POLICY_DEFINITIONS = "PolicyDefinitions/"


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
    return "\\".join(parts)


def _filter_record(f: WmiFilter) -> dict[str, str]:
    return {"id": braced(f.id), "name": f.name, "description": f.description, "namespace": f.namespace,
            "query": f.query}


def _unique_filters(gpos: Iterable[GpoDefinition]) -> tuple[list[dict[str, str]], list[str]]:
    """The WMI filters the GPOs use, once each, in order of first use, and where each was first
    used (``gpos[i].wmi_filter``, for error messages). The script finds filters by name, so two
    different filters may not share a name (nor one ID carry two names)."""
    by_name: dict[str, tuple[WmiFilter, dict[str, str], str]] = {}
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
        by_name[key] = (f, _filter_record(f), where)
        by_id[fid] = f.name
    return [record for _, record, _ in by_name.values()], [where for _, _, where in by_name.values()]


def _gpo_record(g: GpoDefinition, where: str) -> dict[str, str | None]:
    if g.role not in ("onboarding", "offboarding"):
        raise ValueError(f"{where}.role: {g.role!r} is neither 'onboarding' nor 'offboarding'")
    return {
        "role": g.role,
        "display_name": g.display_name,
        "description": g.description,
        "backup_id": braced(g.backup_id),
        "target_name": g.target_name,
        "wmi_filter_name": None if g.wmi_filter is None else g.wmi_filter.name,
    }


def _field_namer(filter_wheres: list[str]) -> Callable[[str], str]:
    """Context path -> the name error messages use: ``wmi_filters[k].query`` is the filter of the GPO
    that first used it (``gpos[i].wmi_filter.query``), ``admx_files[j]`` is ``admx_files``."""
    def name(path: str) -> str:
        m = re.fullmatch(r"wmi_filters\[(\d+)\](.*)", path)
        if m:
            return filter_wheres[int(m.group(1))] + m.group(2)
        m = re.fullmatch(r"(gpos\[\d+\])\.wmi_filter_name", path)
        if m:
            return m.group(1) + ".wmi_filter.name"
        if re.fullmatch(r"admx_files\[\d+\]", path):
            return "admx_files"
        return path
    return name


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
    wmi_filters, filter_wheres = _unique_filters(gpos)
    context = {
        "organization": organization,
        "release": release,
        "wmi_filters": wmi_filters,
        "gpos": records,
        "admx_files": [_admx_relative(p) for p in admx_files],
    }
    text = render_powershell(TEMPLATE, context, field_name=_field_namer(filter_wheres))
    return text_file(text, encoding="utf-8", bom=True)
