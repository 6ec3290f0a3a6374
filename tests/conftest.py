"""Shared fixtures. ``SHARED`` is the reference folder that sits beside the repository (CI clones
the repo next to a copy of it); tests that need it skip cleanly when it is absent.

Hypothesis runs with one of two profiles: ``quick`` (the default, for a developer's run) and
``thorough`` (more examples; `.ci/run` selects it with MDEGEN_HYPOTHESIS_PROFILE=thorough)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("quick", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("MDEGEN_HYPOTHESIS_PROFILE", "quick"))

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared (reference material) is not present")
    return SHARED


# --- Wine: one prefix for the whole run -------------------------------------------------------


class Wine:
    """Wine's cmd.exe and reg.exe in a private prefix, created once per test run (wineboot takes
    seconds): every test that runs a .cmd under Wine shares the ``wine`` fixture."""

    def __init__(self, prefix: Path) -> None:
        wine64 = Path("/usr/lib/wine/wine64")          # Debian: avoids the "wine32 is missing" banner
        self.exe = str(wine64) if os.access(wine64, os.X_OK) else (shutil.which("wine64") or shutil.which("wine"))
        self.env = {**os.environ, "WINEPREFIX": str(prefix), "WINEDEBUG": "-all",
                    "WINEDLLOVERRIDES": "mscoree,mshtml=", "DISPLAY": ""}

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
        # Output goes to files, not pipes: the wineserver that wine starts inherits the handles, and
        # a pipe would only reach EOF when that server exits, seconds after every call.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            r = subprocess.run([self.exe, *args], cwd=cwd, env=self.env, stdin=subprocess.DEVNULL,
                               stdout=out, stderr=err, timeout=timeout)
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(r.args, r.returncode, out.read(), err.read())

    def dword(self, key: str, name: str) -> int | None:
        """The REG_DWORD ``name`` under ``key`` (HKLM\\...) in the 64-bit view, or None when absent."""
        r = self.run("reg", "query", key, "/v", name, "/reg:64")
        m = re.search(rb"\s" + re.escape(name.encode()) + rb"\s+REG_DWORD\s+0x([0-9a-fA-F]+)", r.stdout)
        return int(m.group(1), 16) if (r.returncode == 0 and m) else None

    def delete(self, key: str, name: str) -> None:
        self.run("reg", "delete", key, "/v", name, "/f", "/reg:64")


@pytest.fixture(scope="session")
def wine(tmp_path_factory) -> Wine:
    if shutil.which("wine") is None:
        pytest.skip("Wine is not installed")
    w = Wine(tmp_path_factory.mktemp("wineprefix"))
    try:
        boot = w.run("wineboot", "-i", timeout=50)
        probe = w.run("cmd", "/c", "exit /b 3", timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"Wine did not start: {exc}")
    if boot.returncode != 0 or probe.returncode != 3:
        pytest.skip(f"Wine did not start cleanly (wineboot {boot.returncode}, cmd probe {probe.returncode})")
    yield w
    server = shutil.which("wineserver") or "/usr/lib/wine/wineserver"
    if os.access(server, os.X_OK):
        subprocess.run([server, "-k"], env=w.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=20)   # this prefix's server only
