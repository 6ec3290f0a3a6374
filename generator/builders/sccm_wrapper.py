"""MdeOnboard.cmd: the ConfigMgr program that sets Defender passive mode, then onboards.

Microsoft's Group Policy onboarding script has no passive-mode option; on servers that run another
antivirus, Defender must be told to stay passive *before* onboarding (policy value
``ForceDefenderPassiveMode`` under ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Advanced Threat
Protection``, the same value as the portal's AtpConfiguration.admx checkbox). This wrapper sits in
the package folder beside the portal script and is the program's command line.

Behaviour (templates/sccm/MdeOnboard.cmd.j2, whose comments say why):

* writes the value with ``reg.exe add ... /reg:64``: the ConfigMgr client starts package programs
  in a 32-bit process on 64-bit Windows, and ``/reg:64`` targets the 64-bit view from either;
* on failure exits :data:`PASSIVE_MODE_FAILED_EXIT` (17) without onboarding. 17 is none of the
  portal script's codes (0, 5, 10, 15, 30, 35, 40, 65, 70; they are multiples of 5, so 17 cannot
  meet a future one), nor 1641/3010, which ConfigMgr reads as restart requests;
* otherwise hands control to ``"%~dp0<script>"`` without ``call``, so the program's exit code is
  the portal script's ``EXIT /B`` code itself, unchanged.

Output: ASCII, CRLF; the same arguments give the same bytes.
"""

from __future__ import annotations

import re

from generator.escaping import plain
from generator.policy import PASSIVE_MODE_KEY, PASSIVE_MODE_VALUE, hklm_path
from generator.templating import render, text_file

__all__ = ["render_passive_wrapper", "WRAPPER_NAME", "PASSIVE_MODE_FAILED_EXIT", "TEMPLATE"]

TEMPLATE = "sccm/MdeOnboard.cmd.j2"
WRAPPER_NAME = "MdeOnboard.cmd"
PASSIVE_MODE_FAILED_EXIT = 17
_SCRIPT_NAME = re.compile(r"[A-Za-z0-9._ -]+\.cmd\Z")

# The policy value the wrapper writes, from generator/policy.py. Constants, written into the .cmd
# as they are: plain() makes sure that needs no quoting (the key stands inside "...", the value
# name unquoted after /v, so it may not hold a space).
_POLICY_KEY = plain(hklm_path(PASSIVE_MODE_KEY))
_VALUE_NAME = plain(PASSIVE_MODE_VALUE, allow_space=False)


def render_passive_wrapper(script_name: str, *, passive_value: int = 1) -> bytes:
    """The wrapper's bytes: set ForceDefenderPassiveMode=``passive_value``, then run ``script_name``.

    ``script_name`` is the portal script's plain file name in the same folder (letters, digits,
    ``._ -``, ending in ``.cmd``; not the wrapper's own name, which would loop). ``passive_value``
    is 1 (passive) or 0 (active). Anything else raises ValueError naming the value.
    """
    if not isinstance(script_name, str) or not _SCRIPT_NAME.match(script_name):
        raise ValueError(
            f"script name {script_name!r} is not a plain .cmd file name "
            "(letters, digits, '.', '_', ' ', '-' followed by '.cmd')")
    if script_name.startswith((" ", ".")):
        raise ValueError(f"script name {script_name!r} starts with a space or dot")
    if script_name.casefold() == WRAPPER_NAME.casefold():
        raise ValueError(f"script name {script_name!r} is the wrapper's own name; it would run itself forever")
    if type(passive_value) is not int or passive_value not in (0, 1):
        raise ValueError(f"passive_value {passive_value!r} must be 1 (passive) or 0 (active)")
    text = render(TEMPLATE, script_name=script_name, passive_value=passive_value,
                  failure_exit=PASSIVE_MODE_FAILED_EXIT, wrapper_name=WRAPPER_NAME,
                  passive_key=_POLICY_KEY, passive_value_name=_VALUE_NAME)
    return text_file(text, encoding="ascii")
