"""The launcher .cmd of a payload in a folder-relative route (a ConfigMgr package, the downlevel
kit's folders): it starts the payload from its own folder (``%~dp0``) and, for a .ps1, in the
64-bit Windows PowerShell also from a 32-bit host. Output: ASCII, CRLF."""

from __future__ import annotations

from generator import launch
from generator.payloads import Payload
from generator.templating import render, text_file

LAUNCHER_NAME = "MdeInstallAgent.cmd"
LAUNCHER_TEMPLATE = "agents/launch.cmd.j2"


_PURPOSE = {"onboarding": "Installs and onboards Defender for Endpoint.",
            "offboarding": "OFFBOARDS this server from Defender for Endpoint.",
            "uninstall": "OFFBOARDS this server from Defender for Endpoint and uninstalls the agent."}


def launcher_file(payload: Payload, name: str = LAUNCHER_NAME) -> tuple[str, bytes]:
    """(file name, bytes) of ``payload``'s launcher, called ``name``."""
    purpose = _PURPOSE["uninstall" if "-Uninstall" in payload.arguments else payload.role]
    text = render(LAUNCHER_TEMPLATE, launcher_name=name, purpose=purpose, command=payload.command,
                  command_line=launch.launcher_line(payload), powershell=launch.kind_of(payload) == "ps1",
                  powershell_variable=launch.POWERSHELL_VARIABLE)
    return name, text_file(text, encoding="ascii")
