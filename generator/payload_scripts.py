"""mdegen's own scripts inside a payload: what runs on a server beside Microsoft's files.

``render_unified_wrapper`` writes Install-MdeUnifiedAgent.ps1, which copies install.ps1, md4ws.msi
and the onboarding script to a local folder, checks each copy's SHA-256, runs install.ps1 there
(it writes its logs beside itself, which SYSTEM cannot do on a share) and passes its exit code
through. Every value reaches PowerShell through the ``ps`` filter; a refused one names its field.
Output: UTF-8 with BOM, CRLF (formats.md, .ps1).
"""

from __future__ import annotations

from collections.abc import Sequence

from generator import policy
from generator.templating import render_powershell, text_file

UNIFIED_TEMPLATE = "agents/Install-MdeUnifiedAgent.ps1.j2"
WRAPPER_LOG = "Install-MdeUnifiedAgent.log"
# The wrapper's own exit codes: none of install.ps1's (1-39), msiexec's (16xx, 3010, 1641) or the
# portal scripts' (multiples of 5), which install.ps1 passes through.
COPY_FAILED_EXIT = 81
HASH_MISMATCH_EXIT = 82
NOT_ONBOARDED_EXIT = 83
UNSAFE_FOLDER_EXIT = 84
# Files install.ps1 picks up when they sit beside it (mde-domain.md §4: the 2016 platform update).
UNIFIED_OPTIONAL_FILES = ("UpdatePlatform.exe",)
STATE_WAIT_SECONDS = 120           # the portal script itself waits about 75 s for the sensor


def private_folders(local_folder: str) -> list[str]:
    """``local_folder`` and its parents below %ProgramData% (C:\\ProgramData\\mdegen, then ...\\unified),
    outermost first: each is created or checked as SYSTEM's and Administrators' only."""
    parts = local_folder.split("\\")
    if len(parts) < 4 or parts[1].lower() != "programdata":
        raise ValueError(f"{local_folder!r} is not a folder below C:\\ProgramData\\<name>")
    return ["\\".join(parts[:i]) for i in range(3, len(parts) + 1)]


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
        "not_onboarded": NOT_ONBOARDED_EXIT,
        "unsafe_folder": UNSAFE_FOLDER_EXIT,
        "folders": private_folders(local_folder),
        "optional_files": list(UNIFIED_OPTIONAL_FILES),
        "sense_service_key": policy.SENSE_SERVICE_PATH,
        "status_key": policy.STATUS_KEY,
        "state_value": policy.ONBOARDING_STATE,
        "state_wait_seconds": STATE_WAIT_SECONDS,
    }
    return text_file(render_powershell(UNIFIED_TEMPLATE, context), bom=True)


MMA_TEMPLATE = "agents/Install-MdeMma.ps1.j2"
# Where the secrets come from at run time (never from the kit): an environment variable, else a
# file given or placed beside the script by the admin.
MMA_KEY_VARIABLE = "MDE_MMA_WORKSPACE_KEY"
MMA_KEY_FILE = "MdeWorkspaceKey.txt"
PROXY_PASSWORD_VARIABLE = "MDE_PROXY_PASSWORD"
PROXY_PASSWORD_FILE = "MdeProxyPassword.txt"
MMA_SERVICE = "HealthService"
MMA_LOG = "Install-MdeMma.log"
MMA_COM_CLASS = "AgentConfigManager.MgmtSvcCfg"
# The installer's own exit codes: none of setup.exe's (msiexec's 16xx, 3010, 1641).
MMA_EXITS = {"copy_failed": 81, "hash_mismatch": 82, "extract_failed": 83, "no_key": 84, "bad_key": 85,
             "no_password": 86, "com_failed": 87, "unsafe_folder": 88}


def render_mma_installer(*, organization: str, release: str, workspace_id: str, cloud_type: int,
                         proxy_url: str | None, proxy_user: str | None, setup_name: str, setup_sha256: str,
                         local_folder: str, embedded_key: str = "", embedded_password: str = "") -> bytes:
    """Install-MdeMma.ps1's bytes: the Microsoft Monitoring Agent with the Defender workspace, or
    the workspace added to an installed agent. The key and proxy password are read at run time;
    ``embedded_key``/``embedded_password`` (the config's explicit opt-in only) are the fallback."""
    if cloud_type not in (0, 1, 2):
        raise ValueError(f"cloud type {cloud_type!r} is none of 0 (commercial), 1 (US Government), 2 (21Vianet)")
    context = {
        "organization": organization,
        "release": release,
        "workspace_id": workspace_id,
        "cloud_type": cloud_type,
        "proxy_url": proxy_url or "",
        "proxy_user": proxy_user or "",
        "setup_name": setup_name,
        "setup_sha256": setup_sha256.upper(),
        "local_folder": local_folder,
        "folders": private_folders(local_folder),
        "log": MMA_LOG,
        "key_variable": MMA_KEY_VARIABLE,
        "key_file": MMA_KEY_FILE,
        "password_variable": PROXY_PASSWORD_VARIABLE,
        "password_file": PROXY_PASSWORD_FILE,
        "service": MMA_SERVICE,
        "com_class": MMA_COM_CLASS,
        "exits": MMA_EXITS,
        "embedded_key": embedded_key,
        "embedded_password": embedded_password,
    }
    return text_file(render_powershell(MMA_TEMPLATE, context), bom=True)


def mma_installer_name(embedded: bool) -> str:
    """Install-MdeMma.ps1, or Install-MdeMma-SECRET.ps1 when it carries the key: the name warns."""
    return "Install-MdeMma-SECRET.ps1" if embedded else "Install-MdeMma.ps1"
