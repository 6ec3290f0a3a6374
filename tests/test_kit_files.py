"""Every file of every golden kit passes an independent parser for its format.

The golden folders are what mdegen writes for each scenario (tests/scenarios/<scenario>/<kit>/)
plus the renderers' own golden copies (tests/golden/), so checking them here checks every
generated .ps1, .cmd, .sms, .xml, .mof and registry.pol."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
from lxml import etree

import batch_syntax
import pwsh_syntax
import scenarios
from generator import kits
from generator.formats import pdf_sms, regpol, wmi_mof

TESTS = Path(__file__).parent
KIT_FILES = sorted(p for root in (scenarios.ROOT, TESTS / "golden") for p in root.glob("*/**/*")
                   if p.is_file() and p.name != "FILES.txt" and p.parent != root)


def _ids(paths):
    return [str(p.relative_to(TESTS)) for p in paths]


def _of(suffix: str) -> list[Path]:
    return [p for p in KIT_FILES if p.suffix.lower() == suffix]


def test_golden_kits_exist():
    found = {p.relative_to(scenarios.ROOT).parts[:2] for p in KIT_FILES if scenarios.ROOT in p.parents}
    for kit in kits.KITS:
        assert ("example", kit.name) in found, kit.name          # the example builds every kit
    for scenario in scenarios.scenario_dirs():
        for kit in kits.KITS:
            assert (scenario.name, kit.name) in found or (scenario / f"{kit.name}.error").is_file()


def test_golden_kits_hold_no_stale_file():
    """A golden kit folder holds what its FILES.txt lists and nothing else: --force-regen rewrites
    the files a kit writes, so one it no longer writes would linger, still checked by the oracles."""
    for listing in scenarios.ROOT.glob("*/*/FILES.txt"):
        listed = set(listing.read_text(encoding="utf-8").split()) | {"FILES.txt"}
        present = {p.relative_to(listing.parent).as_posix() for p in listing.parent.rglob("*") if p.is_file()}
        assert present <= listed, f"{listing.parent}: {sorted(present - listed)} are no longer written; delete them"


@pytest.mark.parametrize("path", _of(".ps1"), ids=_ids(_of(".ps1")))
def test_ps1_parses_and_is_utf8_bom_crlf(path):
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert pwsh_syntax.problems(data) == []


@pytest.mark.parametrize("path", _of(".cmd"), ids=_ids(_of(".cmd")))
def test_cmd_parses(path):
    data = path.read_bytes()
    data.decode("ascii")
    assert batch_syntax.problems(data) == []


@pytest.mark.parametrize("path", _of(".sms"), ids=_ids(_of(".sms")))
def test_sms_is_ini_with_every_program_section_and_limits(path):
    data = path.read_bytes()
    text = data.decode("ascii")
    assert b"\n" not in data.replace(b"\r\n", b"") and not text.startswith("\ufeff")
    ini = configparser.ConfigParser(strict=True, interpolation=None)
    ini.optionxform = str
    ini.read_string(text)
    assert ini["PDF"]["Version"] == "2.0"
    programs = [s.strip() for s in ini["Package Definition"]["Programs"].split(",")]
    assert programs and set(programs) == set(ini.sections()) - {"PDF", "Package Definition"}
    for key, limit in pdf_sms.PACKAGE_LIMITS.items():
        assert len(ini["Package Definition"].get(key, "")) <= limit, key
    for section in programs:
        for key, limit in pdf_sms.PROGRAM_LIMITS.items():
            assert len(ini[section].get(key, "")) <= limit, (section, key)
        assert ini[section]["Run"] == "Hidden" and ini[section]["AdminRightsRequired"] == "True"
        assert ini[section]["CanRunWhen"] == "AnyUserStatus" and ini[section]["UserInputRequired"] == "False"
        words = ini[section]["CommandLine"].split()
        started = words[words.index("-File") + 1] if words[0] == "powershell.exe" else ini[section]["CommandLine"]
        assert (path.parent / started).is_file()                       # relative to the source folder


@pytest.mark.parametrize("path", _of(".xml"), ids=_ids(_of(".xml")))
def test_xml_is_well_formed(path):
    etree.fromstring(path.read_bytes())


@pytest.mark.parametrize("path", _of(".mof"), ids=_ids(_of(".mof")))
def test_mof_reads_back(path):
    doc = wmi_mof.loads(path.read_bytes())
    assert doc["Rules"][0]["QueryLanguage"] == "WQL"


@pytest.mark.parametrize("path", _of(".pol"), ids=_ids(_of(".pol")))
def test_pol_round_trips(path):
    data = path.read_bytes()
    assert regpol.dumps(regpol.loads(data)) == data
