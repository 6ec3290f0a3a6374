"""Scenarios: one folder each under tests/scenarios/, run through every kit of the registry.

A scenario folder holds
    scenario.json      what it is about, and the synthetic portal packages to make for it
                       (``"init_example": true`` instead: the config and package of `mdegen init --example`)
    mdegen.yaml        its config (unless it is the example)
    <kit>/             per kit, the golden output: every file byte for byte, plus FILES.txt
    <kit>.error        per kit that must refuse the config: the expected error line

A new kit gets golden coverage in every scenario by running the suite once with
``--force-regen`` and reading the diff; a new scenario is a new folder.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from generator import cli, synthetic

ROOT = Path(__file__).resolve().parent / "scenarios"
TMP_MARK = "<scenario>"


@dataclass(frozen=True)
class Case:
    scenario: Path
    kit: object                     # generator.kits.Kit

    @property
    def id(self) -> str:
        return f"{self.scenario.name}-{self.kit.name}"


def scenario_dirs(root: Path = ROOT) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "scenario.json").is_file())


def cases(registry, root: Path = ROOT) -> list[Case]:
    """Every scenario with every kit of ``registry``."""
    return [Case(s, kit) for s in scenario_dirs(root) for kit in registry]


def _make(entry: dict) -> bytes:
    kind = entry["make"]
    if kind == "onboarding_zip":
        return synthetic.onboarding_zip()
    if kind == "offboarding_script":
        return synthetic.offboarding_script(expires=dt.datetime.fromisoformat(entry["expires"]))
    if kind == "vdi_zip":
        return synthetic.vdi_zip()
    agent_files = {"defenderdt": lambda: synthetic.fake_pe("DefenderDT.exe", signed=True),
                   "defenderdt_onboarding": synthetic.fake_defenderdt_onboarding,
                   "defenderdt_offboarding": lambda: synthetic.fake_defenderdt_offboarding(
                       expires=dt.datetime.fromisoformat(entry["expires"])),
                   "unified_msi": synthetic.fake_msi, "unified_script": synthetic.fake_install_ps1,
                   "mma_setup": lambda: synthetic.fake_pe("MMASetup-AMD64.exe", signed=True),
                   "configmgr_onboarding_zip": synthetic.configmgr_onboarding_zip,
                   "configmgr_offboarding_zip": lambda: synthetic.configmgr_offboarding_zip(
                       expires=dt.datetime.fromisoformat(entry["expires"]))}
    if kind in agent_files:
        return agent_files[kind]()
    raise ValueError(f"unknown package maker {kind!r}")


def materialise(scenario: Path, where: Path) -> Path:
    """Write the scenario's config and packages into ``where``; return the config's path."""
    spec = json.loads((scenario / "scenario.json").read_text(encoding="utf-8"))
    if spec.get("init_example"):
        assert cli.main(["init", "--example", str(where), "--force"]) == 0
        return where / "mdegen.yaml"
    where.mkdir(parents=True, exist_ok=True)
    (where / "mdegen.yaml").write_bytes((scenario / "mdegen.yaml").read_bytes())
    for entry in spec.get("packages", []):
        path = where / entry["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_make(entry))
    return where / "mdegen.yaml"


def kit_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def project_of(config, kit, *, today: dt.date):
    """The resolved project of a loaded config, with the packages ``kit`` reads, as at noon UTC of ``today``."""
    from generator import kits, project

    now = dt.datetime.combine(today, dt.time(12), dt.timezone.utc)
    return project.from_config(config, packages=kit.packages, now=now, purpose=kits.purpose_of([kit]),
                               source="mdegen.yaml")


def build_kit(config, kit, *, today: dt.date) -> dict[str, bytes]:
    """``kit``'s files for a loaded config, through the kit's check and build (no writer)."""
    p = project_of(config, kit, today=today)
    kit.check(p)
    return {f.path: f.data for f in kit.build(p)}
