"""`mdegen gpo`: the Group Policy kit.

First stage (issue "Core"): the ADMX/ADML that make mdegen's values visible in GPMC, and the machine
registry.pol holding passive mode and the configured Defender settings. The GPO-backup stage adds
backups around the same registry.pol, so the pieces here are separate functions.
"""

from __future__ import annotations

from generator import __version__
from generator.artifacts import OutputFile
from generator.builders.policy_definitions import build_policy_definitions
from generator.config import Settings
from generator.formats import regpol
from generator.inputs import Inputs
from generator.policy import ASR_MODE_DATA, ASR_RULES_KEY, RegistryValue, describe, registry_values
from generator.templating import markdown_cell, render, to_crlf
from generator.writer import sha256_hex

KIT = "gpo"
MACHINE_POL = "Machine/registry.pol"


def _entry(value: RegistryValue) -> regpol.PolEntry:
    if value.kind == "dword":
        return regpol.PolEntry.dword(value.key, value.name, int(value.data))
    return regpol.PolEntry.sz(value.key, value.name, str(value.data))


def machine_policy_entries(settings: Settings) -> list[regpol.PolEntry]:
    """registry.pol entries for the configured settings, in regpol's canonical order."""
    return regpol.canonical_order([_entry(v) for v in registry_values(settings)])


def machine_registry_pol(settings: Settings) -> bytes | None:
    """The machine registry.pol bytes, or None when no setting is configured (no file is written:
    a header-only registry.pol is outside the format's grammar)."""
    entries = machine_policy_entries(settings)
    return regpol.dumps(entries) if entries else None


def _hklm_path(key: str) -> str:
    """A policy key as admins type it after HKLM\\ (registry.pol spells it Software\\...)."""
    return "SOFTWARE" + key[len("Software"):] if key.startswith("Software\\") else key


def handoff(inputs: Inputs, files: list[OutputFile]) -> OutputFile:
    cfg = inputs.config
    settings = [
        {"title": markdown_cell(s.title), "value": markdown_cell(text), "key": _hklm_path(s.key),
         "value_name": s.value_name, "shown_by": s.shown_by}
        for s, text in describe(cfg.settings)
    ]
    text = render(
        "gpo/HANDOFF.md.j2",
        organization=markdown_cell(cfg.organization),
        release_version=cfg.release.version,
        release_date=cfg.release.date.isoformat(),
        mdegen_version=__version__,
        has_pol=any(f.path == MACHINE_POL for f in files),
        settings=settings,
        passive_mode=bool(cfg.settings.passive_mode),
        asr_key=_hklm_path(ASR_RULES_KEY),
        asr_rules=[{"guid": g, "mode": m, "data": ASR_MODE_DATA[m]} for g, m in (cfg.settings.asr_rules or {}).items()],
        checksums=[{"path": f.path, "sha256": sha256_hex(f.data)} for f in files],
    )
    return OutputFile("HANDOFF.md", to_crlf(text).encode("utf-8"))


def build_gpo_kit(inputs: Inputs) -> list[OutputFile]:
    """All files of the gpo kit, relative to <output>/gpo/ (the writer adds manifest and sums)."""
    files = list(build_policy_definitions())
    pol = machine_registry_pol(inputs.config.settings)
    if pol is not None:
        files.append(OutputFile(MACHINE_POL, pol))
    return files + [handoff(inputs, files)]
