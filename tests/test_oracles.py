"""Every script mdegen writes, through the independent checkers in ../shared/oracles/ (README there).

A .ps1 that parses can still fail on every run: ps_cmdlet_check.py checks each cmdlet call against
Microsoft's documented parameters, parameter sets, mandatory parameters and accepted values.
Findings of either kind fail the test: an error is a script that would stop on a real server, and a
warning is work to read (where one turns out to be the checker's limit, list it in ACCEPTED_WARNINGS
with the reason). The files checked are the golden copies, which are byte for byte what mdegen
writes for every scenario and kit. Skipped where ../shared is absent; CI has it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED

TESTS = Path(__file__).resolve().parent
ORACLES = SHARED / "oracles"
PS1 = sorted(p for root in (TESTS / "scenarios", TESTS / "golden") for p in root.rglob("*.ps1"))
CMD = sorted(p for root in (TESTS / "scenarios", TESTS / "golden", TESTS / "test_sccm_wrapper")
             for p in root.rglob("*.cmd"))
# Portal scripts are Microsoft's (synthetic stand-ins here), copied byte for byte: not ours to check.
OURS_CMD = [p for p in CMD if not p.name.startswith("WindowsDefenderATP")]

# (file name, text of the finding) -> why it is accepted. Empty: no finding is accepted today.
ACCEPTED_WARNINGS: dict[tuple[str, str], str] = {}


def _oracle(script: str, *args: str) -> subprocess.CompletedProcess:
    path = ORACLES / script
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, timeout=120)


def _findings(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": error:" in line or ": warning:" in line]


def test_there_are_scripts_to_check():
    assert len(PS1) >= 10 and len(OURS_CMD) >= 3


def test_every_ps1_passes_the_cmdlet_check(shared_dir):
    r = _oracle("ps_cmdlet_check.py", "--ps51", "--quiet", *map(str, PS1))
    findings = [f for f in _findings(r.stdout + r.stderr)
                if not any(name in f and text in f for name, text in ACCEPTED_WARNINGS)]
    assert not findings, "\n".join(findings)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_ps1_passes_the_ps51_syntax_check(shared_dir):
    r = _oracle("ps_syntax_check.py", "--ps51", *map(str, PS1))
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_cmd_passes_the_batch_syntax_check(shared_dir):
    r = _oracle("cmd_syntax_check.py", *map(str, OURS_CMD))
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_cmdlet_check_catches_what_it_should(shared_dir, tmp_path):
    """The checker is live here: the call the field review found (a parameter the cmdlet lacks)."""
    bad = tmp_path / "bad.ps1"
    bad.write_bytes(b"\xef\xbb\xbfGet-CMDeviceCollection -Name 'x' -DisableWildcardHandling\r\n")
    r = _oracle("ps_cmdlet_check.py", "--ps51", "--quiet", str(bad))
    assert r.returncode == 1 and "no such parameter" in r.stdout + r.stderr


def test_the_inventory_export_commands_pass_both_checks(shared_dir, tmp_path):
    """The commands the GPO and SCCM handoffs give for `mdegen plan`'s inventory."""
    from generator import inventory

    script = tmp_path / "Export-Inventory.ps1"
    script.write_text(inventory.AD_EXPORT_COMMAND + "\r\n" + inventory.CM_EXPORT_COMMAND + "\r\n", encoding="utf-8-sig")
    for checker in ("ps_syntax_check.py", "ps_cmdlet_check.py"):
        r = _oracle(checker, "--ps51", str(script))
        assert r.returncode == 0 and not _findings(r.stdout + r.stderr), r.stdout + r.stderr
