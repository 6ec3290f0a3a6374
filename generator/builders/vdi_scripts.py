"""Install-MdeVdiStartup.ps1 and Reset-MdeVdiImage.ps1: the VDI kit's scripts for the golden image.

``render_install_script`` writes the script an image builder runs (elevated, 64-bit Windows
PowerShell 5.1) on a pool's golden image, from the pool's kit folder that holds ``Startup\\`` (the
portal's files, byte for byte) beside it. It refuses a 32-bit PowerShell on 64-bit Windows (its
System32 is SysWOW64, whose GroupPolicy folder Windows never reads), an image that is onboarded or
has the onboarding package's value pending, and a VDI file registered in the other scripts INI
(Microsoft: one of the two entries, never both); checks (single entry) that no rename is pending,
checks every portal file against its SHA-256, copies the files into the local Group Policy object's
``Machine\\Scripts\\Startup`` folder and unblocks them, registers the startup entry in
``psscripts.ini`` (single entry, the PowerShell Scripts tab) or ``scripts.ini`` (multiple entries,
the Scripts tab), and registers the Scripts extension in the local ``gpt.ini`` with a raised
machine version. Its INI reader and the two merges (functions Read-GpIniFile, Merge-ScriptsIni and
Merge-GptIni near the top of the script) are written to follow generator/formats/gpscripts.py rule
for rule: what add_startup_script / add_machine_extension write from the same file is what the
script writes, and a file the codec refuses to read stops the script. One intended difference: a
scripts.ini / psscripts.ini without a byte-order mark is read in the image's ANSI code page (as
Windows reads it), where the codec reads ANSI as Windows-1252; gpt.ini is Windows-1252 in both,
byte for byte. (No PowerShell runs in the tests; the correspondence is by review.)

``render_reset_script`` writes the script that re-seals an image onboarded by mistake
(mde-2026.md §A): as SYSTEM, in the 64-bit PowerShell, offboard (the portal's offboarding script,
when the kit has one, if the image is onboarded or has the onboarding package's value pending), wait
for the sensor service to stop, then delete the cyber-data files, the identity values and the key
of generator/policy.py's RESEAL_VALUES / RESEAL_KEYS.

As in Import-MdeGpo.ps1, everything Python knows (config values, file hashes, registry facts of
generator/policy.py, folder and INI names, GUIDs, which checks apply) is written into one data block
at the top, each string as a PowerShell single-quoted literal through the ``ps`` filter (once);
``render_powershell`` turns a value the filter refuses into an error naming the field. The code
below the data block only refers to those variables.

Output: UTF-8 with BOM, CRLF line ends; the same arguments give the same bytes.
"""

from __future__ import annotations

import hashlib
import re

from generator.escaping import cmd_quoted_path, ini_value, plain
from generator.formats import gpscripts
from generator.kits import VDI as VDI_KIT
from generator.policy import (
    ATP_KEY,
    CYBER_DATA_FOLDER,
    ONBOARDING_INFO,
    ONBOARDING_STATE,
    RESEAL_KEYS,
    RESEAL_VALUES,
    SENSE_GUID,
    SENSE_KEY,
    SENSE_SERVICE,
    STATUS_KEY,
    hklm_path,
)
from generator.portal import VDI_SCRIPT_NAME
from generator.templating import render_powershell, text_file

INSTALL_TEMPLATE = "vdi/Install-MdeVdiStartup.ps1.j2"
INSTALL_SCRIPT_NAME = "Install-MdeVdiStartup.ps1"
RESET_TEMPLATE = "vdi/Reset-MdeVdiImage.ps1.j2"
RESET_SCRIPT_NAME = "Reset-MdeVdiImage.ps1"
# Where the kit puts the reset script: output/vdi/reseal/ beside the pool folders output/vdi/<pool>/
# (generator/builders/vdi.py writes it there). The messages name it from the kit's root.
RESEAL_FOLDER = "reseal"
RESEAL_SCRIPT_PATH = "\\".join((VDI_KIT.name, RESEAL_FOLDER, RESET_SCRIPT_NAME))

# The kit folder beside Install-MdeVdiStartup.ps1 that holds the portal's startup files.
KIT_STARTUP_FOLDER = "Startup"

# The Scripts client-side extension and its machine-side tool (formats.md §5, §8), as the codec
# the install script's merges mirror spells them.
SCRIPTS_CSE = gpscripts.SCRIPTS_CSE
SCRIPTS_MACHINE_TOOL = gpscripts.SCRIPTS_TOOL_MACHINE

# Mode -> the INI file the startup entry goes to: the PowerShell Scripts tab (psscripts.ini) runs
# Onboard-NonPersistentMachine.ps1; the Scripts tab (scripts.ini) runs the onboarding .cmd.
SCRIPTS_INI = {"single": "psscripts.ini", "multiple": "scripts.ini"}
# The tab of gpedit.msc (Computer Configuration > Windows Settings > Scripts (Startup/Shutdown) >
# Startup) that shows each INI file's entries.
SCRIPTS_TAB = {"psscripts.ini": "PowerShell Scripts", "scripts.ini": "Scripts"}
# Mode -> the other INI file, which must register no VDI file (Microsoft: never both entries).
OTHER_MODE = {"single": "multiple", "multiple": "single"}

# The local Group Policy object (formats.md §5-§6), below %SystemRoot%.
LOCAL_GPO_FOLDER = r"System32\GroupPolicy"
SCRIPTS_FOLDER = r"Machine\Scripts"
STARTUP_FOLDER = "Startup"            # below SCRIPTS_FOLDER
# The sections of scripts.ini / psscripts.ini the merge knows, as gpscripts.py writes them.
STARTUP_SECTION, SHUTDOWN_SECTION, CONFIG_SECTION = "Startup", "Shutdown", "ScriptsConfig"
# gpt.ini's ANSI, as gpscripts.py reads and writes it: Windows-1252 whatever the machine's code page,
# one character per byte, so a rewrite keeps every byte it does not change. (A scripts INI without
# a mark is read in the image's ANSI code page instead, as Windows reads it: see the module doc.)
GPT_CODE_PAGE = 1252
GPT_INI = "gpt.ini"
GPT_SECTION = "General"
GPT_NAMES_KEY = "gPCMachineExtensionNames"
GPT_VERSION_KEY = "Version"
# A missing gpt.ini is written as this (the merge of the Scripts pair into an empty file).
GPT_NEW = ("[" + GPT_SECTION + "]", "gPCFunctionalityVersion=2",
           f"{GPT_NAMES_KEY}=[{SCRIPTS_CSE}{SCRIPTS_MACHINE_TOOL}]", f"{GPT_VERSION_KEY}=1")

# Where Windows keeps the computer name: the configured one, and the one in use until the next
# restart. They differ while a rename is pending.
COMPUTER_NAME_KEY = r"SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName"
ACTIVE_COMPUTER_NAME_KEY = r"SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName"
COMPUTER_NAME_VALUE = "ComputerName"

# How to get a SYSTEM PowerShell on the image (mde-2026.md §A: the re-seal needs SYSTEM).
SYSTEM_COMMAND = "PsExec.exe -s -i powershell.exe -ExecutionPolicy Bypass -File"
# The 64-bit Windows PowerShell as a 32-bit process (a task sequence's Run Command Line step) reaches
# it: Sysnative is the alias of the real System32, which the file system redirector leaves alone.
POWERSHELL_64_FROM_32 = r"%SystemRoot%\Sysnative\WindowsPowerShell\v1.0\powershell.exe"
# The alternate data stream that carries a file's Mark of the Web (Unblock-File deletes it).
ZONE_STREAM = "Zone.Identifier"

# The reset script waits this long for the sensor service to stop, polling every POLL_SECONDS.
SERVICE_WAIT_SECONDS = 300
POLL_SECONDS = 5

# Exit codes of the portal's offboarding script besides 0 (mde-2026.md §E, the 2024 file).
OFFBOARDING_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (15, "the sensor service did not stop within 100 seconds after offboarding; restart the image "
         "without network access and run this script again"),
    (70, "the image is onboarded to another organisation than the one of this offboarding script "
         "(Status OrgId differs); use the offboarding script of that organisation"),
)
# What the reset script says about any other exit code (mde-2026.md §E: SENSE event 29 is an
# expired or unreadable offboarding package, which the portal's packages are after seven days).
OFFBOARDING_UNKNOWN = ("see the Application event log (source WDATPOffboarding) and the SENSE event log; "
                       "SENSE event 29 means the offboarding package has expired (download a new one, it is "
                       "valid for seven days)")

_BAD_NAME = re.compile(r'[\x00-\x1f"*:<>?|\\/\[\]]')
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?\Z", re.I)


def _text(value: object, where: str, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: {value!r} is not text")
    if required and not value.strip():
        raise ValueError(f"{where}: is empty")
    return value


def _file_name(name: object, where: str) -> str:
    """One plain Windows file name: no path separator, nothing Windows refuses, no wildcard brackets."""
    _text(name, where)
    assert isinstance(name, str)
    if _BAD_NAME.search(name) or name in (".", "..") or name.endswith((" ", ".")) or name != name.strip() \
            or _RESERVED.match(name):
        raise ValueError(f"{where}: {name!r} is not a plain Windows file name (no path separators, "
                         "no \" * : < > ? | [ ] or control characters)")
    return name


def _ini(value: str, where: str) -> str:
    """A scripts.ini value: one line, and no white space at either end (Windows trims it off)."""
    try:
        ini_value(value)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if value != value.strip():
        raise ValueError(f"{where}: {value!r} starts or ends with white space, which Windows drops when it reads the INI file")
    return value


def _registry() -> dict[str, object]:
    """The registry facts of generator/policy.py, as .NET and reg.exe spell them below HKLM."""
    return {
        "sense_key": plain(hklm_path(SENSE_KEY)),
        "status_key": plain(hklm_path(STATUS_KEY)),
        "onboarding_state": plain(ONBOARDING_STATE),
        "sense_guid": plain(SENSE_GUID),
        "sense_service": plain(SENSE_SERVICE),
        "atp_key": plain(hklm_path(ATP_KEY)),
        "onboarding_info": plain(ONBOARDING_INFO),
        "powershell_64": POWERSHELL_64_FROM_32,
    }


def _vdi_file_names(startup_names: list[str], cmdline: str) -> list[str]:
    """The file names (no folder) an entry of the other INI must not run: Onboard-NonPersistentMachine.ps1
    and the onboarding .cmd, whichever mode the pool uses. That is Microsoft's VDI script name, the
    file the command line runs, and every script among the startup files (single entry: the .ps1
    and the .cmd beside it), each once (ignoring case; the first spelling kept)."""
    leaf = re.split(r"[\\/]", cmdline.strip().strip('"').strip())[-1]
    names = [VDI_SCRIPT_NAME, leaf] + [n for n in startup_names if n.lower().endswith((".ps1", ".cmd", ".bat"))]
    out: list[str] = []
    for name in names:
        if name and name.casefold() not in {n.casefold() for n in out}:
            out.append(name)
    return out


def render_install_script(*, organization: str, release: str, pool: str, mode: str,
                          startup_files: list[tuple[str, bytes]], cmdline: str, parameters: str = "") -> bytes:
    """The bytes of Install-MdeVdiStartup.ps1 for one pool: UTF-8 with BOM, CRLF, deterministic.

    ``startup_files`` are (file name, bytes) of the portal files the kit puts in ``Startup\\``
    beside the script; ``cmdline`` and ``parameters`` are the startup entry (a file name relative
    to the Startup folder must be one of them). ``mode`` 'single' registers it in psscripts.ini
    (a .ps1), 'multiple' in scripts.ini (not a .ps1). Raises ValueError naming the field for a
    value the script cannot carry.
    """
    _text(pool, "pool")
    if mode not in SCRIPTS_INI:
        raise ValueError(f"mode: {mode!r} is neither 'single' nor 'multiple'")
    if not isinstance(startup_files, (list, tuple)) or not startup_files:
        raise ValueError("startup_files: the kit has no startup file")
    files, seen = [], {}
    for i, item in enumerate(startup_files):
        where = f"startup_files[{i}]"
        if not isinstance(item, tuple) or len(item) != 2 or not isinstance(item[1], (bytes, bytearray)):
            raise ValueError(f"{where}: is not a (file name, bytes) pair")
        name = _file_name(item[0], where)
        if name.casefold() in seen:
            raise ValueError(f"{where}: {name!r} is also the name of startup_files[{seen[name.casefold()]}]")
        seen[name.casefold()] = i
        files.append({"name": name, "sha256": hashlib.sha256(bytes(item[1])).hexdigest().upper()})

    _ini(_text(cmdline, "cmdline"), "cmdline")
    _ini(_text(parameters, "parameters", required=False), "parameters")
    if "\\" not in cmdline and "/" not in cmdline and cmdline.casefold() not in seen:
        raise ValueError(f"cmdline: {cmdline!r} is not one of startup_files; a relative command line "
                         "names a file of the Startup folder")
    is_ps1 = cmdline.lower().endswith(".ps1")
    if mode == "single" and not is_ps1:
        raise ValueError(f"cmdline: {cmdline!r} is not a .ps1; single entry registers a PowerShell script (psscripts.ini)")
    if mode == "multiple" and is_ps1:
        raise ValueError(f"cmdline: {cmdline!r} is a .ps1, which scripts.ini would open instead of running; "
                         "multiple entries register the onboarding .cmd")

    other_ini = SCRIPTS_INI[OTHER_MODE[mode]]
    context = {
        "organization": organization,
        "release": release,
        "pool": pool,
        "mode": mode,
        "cmdline": cmdline,
        "parameters": parameters,
        "check_final_name": mode == "single",
        "startup_files": files,
        "local_gpo": {
            "folder": LOCAL_GPO_FOLDER,
            "kit_startup": KIT_STARTUP_FOLDER,
            "scripts_folder": SCRIPTS_FOLDER,
            "startup_folder": STARTUP_FOLDER,
            "scripts_ini": SCRIPTS_INI[mode],
            "scripts_tab": SCRIPTS_TAB[SCRIPTS_INI[mode]],
            "other_ini": other_ini,
            "other_tab": SCRIPTS_TAB[other_ini],
            "vdi_files": _vdi_file_names([f["name"] for f in files], cmdline),
            "startup_section": STARTUP_SECTION,
            "shutdown_section": SHUTDOWN_SECTION,
            "config_section": CONFIG_SECTION,
            "gpt_ini": GPT_INI,
            "gpt_section": GPT_SECTION,
            "gpt_names_key": GPT_NAMES_KEY,
            "gpt_version_key": GPT_VERSION_KEY,
            "gpt_new": list(GPT_NEW),
            "scripts_cse": SCRIPTS_CSE,
            "scripts_tool": SCRIPTS_MACHINE_TOOL,
            "gpt_code_page": GPT_CODE_PAGE,
        },
        "facts": {
            **_registry(),
            "computer_name_key": COMPUTER_NAME_KEY,
            "active_computer_name_key": ACTIVE_COMPUTER_NAME_KEY,
            "computer_name_value": COMPUTER_NAME_VALUE,
            "reset_script": RESEAL_SCRIPT_PATH,
            "system_command": SYSTEM_COMMAND,
            "zone_stream": ZONE_STREAM,
        },
    }
    text = render_powershell(INSTALL_TEMPLATE, context, field_name=_install_field)
    return text_file(text, encoding="utf-8", bom=True)


def _install_field(path: str) -> str:
    m = re.fullmatch(r"(startup_files\[\d+\])\.name", path)
    return m.group(1) if m else path


def render_reset_script(*, organization: str, release: str, offboarding_script: str | None) -> bytes:
    """The bytes of Reset-MdeVdiImage.ps1: UTF-8 with BOM, CRLF, deterministic.

    ``offboarding_script`` is the file name of the portal's offboarding .cmd beside the script, or
    None when the kit has none (the script then asks for -Force before it cleans up). Raises
    ValueError naming the field for a value the script cannot carry.
    """
    offboarding = None
    if offboarding_script is not None:
        _file_name(offboarding_script, "offboarding_script")
        try:
            cmd_quoted_path(offboarding_script)
        except ValueError as exc:
            raise ValueError(f"offboarding_script: {exc}") from None
        if not offboarding_script.lower().endswith((".cmd", ".bat")):
            raise ValueError(f"offboarding_script: {offboarding_script!r} is not a .cmd file")
        offboarding = {
            "file": offboarding_script,
            "exit_codes": [{"code": code, "meaning": meaning} for code, meaning in OFFBOARDING_EXIT_CODES],
            "unknown": OFFBOARDING_UNKNOWN,
        }
    context = {
        "organization": organization,
        "release": release,
        "offboarding": offboarding,
        "facts": {
            **_registry(),
            "cyber_data_folder": CYBER_DATA_FOLDER,
            "reseal_values": [plain(v) for v in RESEAL_VALUES],
            "reseal_keys": [plain(hklm_path(k)) for k in RESEAL_KEYS],
            "system_command": SYSTEM_COMMAND,
            "script_in_kit": RESEAL_SCRIPT_PATH,
        },
        "service_wait_seconds": SERVICE_WAIT_SECONDS,
        "poll_seconds": POLL_SECONDS,
    }
    text = render_powershell(RESET_TEMPLATE, context)
    return text_file(text, encoding="utf-8", bom=True)
