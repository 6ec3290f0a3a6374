"""How a route starts a payload: the command line of a GPO task and of a ConfigMgr program.

A payload names the file it starts and its arguments, with ``payloads.HERE`` standing for the
folder the route hosts the files in. Each route writes that folder its own way: the GPO task as
the share's UNC path, the ConfigMgr program through a launcher .cmd as ``%~dp0`` (the package's
cache folder, known only on the client). A .ps1 runs in the 64-bit Windows PowerShell with
``-ExecutionPolicy Bypass``: mdegen's scripts are not signed, and a share named by its fully
qualified name counts as the Internet zone, where RemoteSigned would refuse them.
"""

from __future__ import annotations

from generator.payloads import HERE, Payload

POWERSHELL = r"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe"
POWERSHELL_OPTIONS = "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File"
CMD_FOLDER = "%~dp0"                    # a .cmd's own folder, with its trailing backslash


def kind_of(payload: Payload) -> str:
    """'cmd', 'exe' or 'ps1': how the command's file is started."""
    ext = payload.command.rsplit(".", 1)[-1].lower()
    if ext not in ("cmd", "exe", "ps1"):
        raise ValueError(f"a payload cannot start {payload.command!r} (a .cmd, .exe or .ps1 only)")
    return ext


def argv_quoted(value: str) -> str:
    """``value`` as one argument of a Windows command line (CommandLineToArgvW's rules, which
    powershell.exe -File and Task Scheduler follow): quoted where it holds white space, backslashes
    before the closing quote doubled. A double quote inside is refused: no value mdegen passes may
    hold one (device tags and names are checked for it)."""
    if '"' in value:
        raise ValueError(f"{value!r} holds a double quote, which a command-line argument cannot carry here")
    if value and not any(c.isspace() for c in value):
        return value
    trailing = len(value) - len(value.rstrip("\\"))
    return '"' + value + "\\" * trailing + '"'


def arguments(payload: Payload, folder: str, *, always_quote: bool = False) -> str:
    """The payload's arguments with HERE replaced by ``folder`` (ending in a backslash). A path is
    quoted after its option's colon (``-File:"..."``), which Windows' argument rules read as the
    same argument; only where it needs quotes, unless ``always_quote``."""
    out = []
    for arg in payload.arguments:
        if HERE in arg:
            prefix, rest = arg.split(HERE, 1)
            path = folder + rest
            # %~dp0 (always_quote) is cmd.exe's, quoted whatever it expands to.
            out.append(f'{prefix}"{path}"' if always_quote else prefix + argv_quoted(path))
        else:
            out.append(arg)
    return " ".join(out)


def task_command(payload: Payload, share: str) -> tuple[str, str]:
    """(command, arguments) of a GPO immediate task that runs ``payload`` from ``share``."""
    path = share + "\\" + payload.command
    args = arguments(payload, share + "\\")
    if kind_of(payload) == "ps1":
        return POWERSHELL, " ".join(a for a in (POWERSHELL_OPTIONS, argv_quoted(path), args) if a)
    return path, args


def needs_launcher(payload: Payload) -> bool:
    """Whether a folder-relative route (a ConfigMgr program, a standalone kit) starts ``payload``
    through a launcher .cmd: an .exe with arguments (its paths are known only on the client) and
    every .ps1 (the launcher picks the 64-bit Windows PowerShell from a 32-bit host)."""
    kind = kind_of(payload)
    return kind == "ps1" or (kind == "exe" and bool(payload.arguments))


def program_command_line(payload: Payload, launcher: str | None = None) -> str:
    """A ConfigMgr program's command line (relative to the package folder): the payload's .cmd
    itself, or ``launcher`` (a .cmd beside it, see ``launcher_line``) where it needs one."""
    if needs_launcher(payload):
        if launcher is None:
            raise ValueError(f"{payload.command} needs a launcher .cmd in a folder-relative route")
        return launcher
    return payload.command


# The 64-bit Windows PowerShell from a 32-bit cmd.exe (ConfigMgr's client, many RMM agents) is
# %SystemRoot%\Sysnative; from a 64-bit one, System32. The launcher sets this variable first.
POWERSHELL_VARIABLE = "MDE_POWERSHELL"


def launcher_line(payload: Payload) -> str:
    """The one command of a launcher .cmd: the payload beside it with its arguments."""
    args = arguments(payload, CMD_FOLDER, always_quote=True)
    if kind_of(payload) == "ps1":
        if HERE in " ".join(payload.arguments):
            raise ValueError("a .ps1 payload finds its files itself; its arguments cannot name the folder")
        line = f'"%{POWERSHELL_VARIABLE}%" {POWERSHELL_OPTIONS} "{CMD_FOLDER}{payload.command}" {args}'
    else:
        line = f'"{CMD_FOLDER}{payload.command}" {args}'
    return line.rstrip()
