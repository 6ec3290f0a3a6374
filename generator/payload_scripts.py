"""mdegen's own scripts inside a payload: what runs on a server beside Microsoft's files.

``render_unified_wrapper`` writes Install-MdeUnifiedAgent.ps1, which copies install.ps1, md4ws.msi
and the onboarding script to a local folder, checks each copy's SHA-256, runs install.ps1 there
(it writes its logs beside itself, which SYSTEM cannot do on a share) and passes its exit code
through. Every value reaches PowerShell through the ``ps`` filter; a refused one names its field.
Output: UTF-8 with BOM, CRLF (formats.md, .ps1).
"""

from __future__ import annotations

from collections.abc import Sequence

from generator.templating import render_powershell, text_file

UNIFIED_TEMPLATE = "agents/Install-MdeUnifiedAgent.ps1.j2"
WRAPPER_LOG = "Install-MdeUnifiedAgent.log"
# The wrapper's own exit codes: none of install.ps1's (1-39), msiexec's (16xx, 3010, 1641) or the
# portal scripts' (multiples of 5), which install.ps1 passes through.
COPY_FAILED_EXIT = 81
HASH_MISMATCH_EXIT = 82


def render_unified_wrapper(*, organization: str, release: str, files: Sequence[tuple[str, str]],
                           install_script: str, onboarding_script: str, local_folder: str,
                           log_share: str | None) -> bytes:
    """The wrapper's bytes. ``files`` are (name, sha256) of the files it copies, ``install_script``
    and ``onboarding_script`` two of them; ``log_share`` a UNC folder or None (logs stay local)."""
    names = [name for name, _ in files]
    for needed in (install_script, onboarding_script):
        if needed not in names:
            raise ValueError(f"the unified agent's files do not include {needed!r}")
    context = {
        "organization": organization,
        "release": release,
        "files": [{"name": name, "sha256": sha.upper()} for name, sha in files],
        "install_script": install_script,
        "onboarding_script": onboarding_script,
        "local_folder": local_folder,
        "log_share": log_share or "",
        "wrapper_log": WRAPPER_LOG,
        "copy_failed": COPY_FAILED_EXIT,
        "hash_mismatch": HASH_MISMATCH_EXIT,
    }
    return text_file(render_powershell(UNIFIED_TEMPLATE, context), bom=True)
