"""MdeOnboard.cmd, the ConfigMgr program that sets passive mode and then onboards
(generator/builders/sccm_wrapper.py, templates/sccm/MdeOnboard.cmd.j2).

(a) bytes and syntax (tree-sitter-batch); (b) what the script does, read from its lines: the
registry write in the 64-bit view, the failure exit, the hand-over to the portal script;
(c) argument validation; (d) golden file; (e) where Wine is installed: run it with stand-in portal
scripts and check the exit code and the registry value.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import batch_syntax
from conftest import Wine
from generator.builders.sccm_wrapper import (
    PASSIVE_MODE_FAILED_EXIT,
    WRAPPER_NAME,
    render_passive_wrapper,
)

PORTAL_SCRIPT = "WindowsDefenderATPOnboardingScript.cmd"
POLICY_KEY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows Advanced Threat Protection"
PORTAL_EXIT_CODES = {0, 5, 10, 15, 30, 35, 40, 65, 70}     # mde-domain.md §1.1, sccm.md §4.2
RESTART_CODES = {1641, 3010}


@pytest.fixture(scope="module")
def script() -> bytes:
    return render_passive_wrapper(PORTAL_SCRIPT)


def commands(data: bytes) -> list[str]:
    """The non-comment, non-blank lines of the script."""
    lines = data.decode("ascii").split("\r\n")
    return [ln for ln in lines if ln.strip() and not re.match(r"\s*(rem\b|::)", ln, re.I)]


# --- (a) bytes and syntax ---------------------------------------------------------------------


def test_ascii_crlf_no_bom(script: bytes) -> None:
    script.decode("ascii")
    assert not script.startswith(b"\xef\xbb\xbf")
    assert script.count(b"\n") == script.count(b"\r\n") == script.count(b"\r")
    assert script.endswith(b"\r\n")
    assert script.startswith(b"@echo off\r\n")


@pytest.mark.parametrize("passive_value", [0, 1])
def test_tree_sitter_parses_without_errors(passive_value: int) -> None:
    assert batch_syntax.problems(render_passive_wrapper(PORTAL_SCRIPT, passive_value=passive_value)) == []


def test_checker_catches_problems() -> None:
    """The checker itself: a broken block and a dangling goto are reported."""
    batch_syntax.require_parser()
    found = batch_syntax.problems(b"@echo off\r\ngoto :nowhere\r\nif a==b (\r\n")
    assert any("syntax error" in p for p in found)
    assert any("undefined label" in p for p in found)
    assert batch_syntax.problems(b"call :Sub\r\ngoto :eof\r\n:sub\r\nexit /b 0\r\n") == []


def test_jump_targets_exist(script: bytes) -> None:
    labels = {ln.strip()[1:].lower() for ln in commands(script) if ln.strip().startswith(":")}
    for ln in commands(script):
        m = re.match(r"\s*(?:goto|call)\s+:(\S+)", ln, re.I)
        if m:
            assert m.group(1).lower() in labels | {"eof"}, ln


# --- (b) behaviour, from the lines ------------------------------------------------------------


def test_registry_write_uses_the_64_bit_view(script: bytes) -> None:
    reg = [ln for ln in commands(script) if re.search(r"\breg(\.exe)?\"?\s+add\b", ln, re.I)]
    assert len(reg) == 1
    line = reg[0]
    assert line.startswith('"%windir%\\System32\\reg.exe" add ')  # full path: nothing in the package folder can stand in
    assert f'"{POLICY_KEY}"' in line
    assert "/v ForceDefenderPassiveMode /t REG_DWORD /d 1 /f" in line
    assert re.search(r"\s/reg:64(\s|$)", line)
    assert "/reg:32" not in script.decode("ascii")


def test_failure_exit_code(script: bytes) -> None:
    assert PASSIVE_MODE_FAILED_EXIT not in PORTAL_EXIT_CODES | RESTART_CODES
    assert PASSIVE_MODE_FAILED_EXIT % 5 != 0            # the portal's codes are multiples of 5
    cmds = commands(script)
    reg_at = next(i for i, ln in enumerate(cmds) if "ForceDefenderPassiveMode" in ln)
    assert cmds[reg_at + 1] == f"if errorlevel 1 exit /b {PASSIVE_MODE_FAILED_EXIT}"
    assert f"{PASSIVE_MODE_FAILED_EXIT} = mdegen" in script.decode("ascii")   # documented in the header


def test_hands_over_to_the_portal_script_last(script: bytes) -> None:
    cmds = commands(script)
    assert cmds[-1] == f'"%~dp0{PORTAL_SCRIPT}"'         # no CALL: its EXIT /B code is the program's
    assert cmds[0] == "@echo off"
    assert sum(PORTAL_SCRIPT in ln for ln in cmds) == 1
    assert not any(re.match(r"\s*(setlocal|call|start)\b", ln, re.I) for ln in cmds)


def test_passive_value_zero() -> None:
    data = render_passive_wrapper(PORTAL_SCRIPT, passive_value=0)
    assert "/v ForceDefenderPassiveMode /t REG_DWORD /d 0 /f /reg:64" in data.decode("ascii")


def test_deterministic() -> None:
    assert render_passive_wrapper(PORTAL_SCRIPT) == render_passive_wrapper(PORTAL_SCRIPT)


# --- (c) arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [PORTAL_SCRIPT, "Onboard v2_final-1.cmd", "a.cmd", "DeviceComplianceOnboardingScript.cmd"])
def test_good_script_names(name: str) -> None:
    data = render_passive_wrapper(name)
    assert commands(data)[-1] == f'"%~dp0{name}"'
    if batch_syntax._parser() is not None:               # the syntax check is optional here
        assert batch_syntax.problems(data) == []


@pytest.mark.parametrize("name", [
    "", ".cmd", "x.bat", "x.CMD ", "x.cmd.txt", "..\\x.cmd", "sub/x.cmd", "C:x.cmd", "x%y%.cmd", "x&y.cmd",
    "x^y.cmd", "x!y.cmd", 'x"y.cmd', "x(1).cmd", "x\n.cmd", "x.cmd\n", "caf\u00e9.cmd", " x.cmd", ".x.cmd",
    WRAPPER_NAME, WRAPPER_NAME.lower(),
])
def test_bad_script_names(name: str) -> None:
    with pytest.raises(ValueError) as info:
        render_passive_wrapper(name)
    assert repr(name) in str(info.value)


def test_script_name_must_be_text() -> None:
    with pytest.raises(ValueError):
        render_passive_wrapper(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [2, -1, True, False, "1", 1.0, None])
def test_bad_passive_values(value) -> None:
    with pytest.raises(ValueError) as info:
        render_passive_wrapper(PORTAL_SCRIPT, passive_value=value)
    assert repr(value) in str(info.value)


# --- (d) golden -------------------------------------------------------------------------------


def test_golden(script: bytes, file_regression) -> None:
    file_regression.check(script, binary=True, basename="MdeOnboard", extension=".cmd")


# --- (e) Wine ---------------------------------------------------------------------------------


def _kit(folder: Path, stand_in_exit: int, passive_value: int = 1) -> Path:
    """The wrapper beside a stand-in portal script that leaves a marker and exits ``stand_in_exit``."""
    folder.mkdir()
    (folder / WRAPPER_NAME).write_bytes(render_passive_wrapper(PORTAL_SCRIPT, passive_value=passive_value))
    (folder / PORTAL_SCRIPT).write_bytes(
        f'@echo off\r\necho ran> "%~dp0ran.txt"\r\nexit /b {stand_in_exit}\r\n'.encode("ascii"))
    return folder


@pytest.mark.parametrize(("stand_in_exit", "passive_value"), [(40, 1), (0, 1), (15, 0)])
def test_wine_exit_code_and_registry(wine: Wine, tmp_path: Path, stand_in_exit: int, passive_value: int) -> None:
    kit = _kit(tmp_path / "kit", stand_in_exit, passive_value)
    wine.delete(POLICY_KEY, "ForceDefenderPassiveMode")
    assert wine.dword(POLICY_KEY, "ForceDefenderPassiveMode") is None
    r = wine.run("cmd", "/c", WRAPPER_NAME, cwd=kit)
    assert r.returncode == stand_in_exit, r.stdout + r.stderr
    assert (kit / "ran.txt").exists()
    assert wine.dword(POLICY_KEY, "ForceDefenderPassiveMode") == passive_value


def test_wine_registry_failure_exits_own_code(wine: Wine, tmp_path: Path) -> None:
    """reg.exe not found (windir pointed elsewhere): the wrapper exits 17 and never onboards."""
    kit = _kit(tmp_path / "kit", 40)
    r = wine.run("cmd", "/c", rf"set windir=C:\no-such-folder&& {WRAPPER_NAME}", cwd=kit)
    assert r.returncode == PASSIVE_MODE_FAILED_EXIT, r.stdout + r.stderr
    assert not (kit / "ran.txt").exists()
