"""The exception family every mdegen module raises for bad input.

Each error's message is written for the admin who runs mdegen: it names the file, line, field or
entry at fault and what is wrong. The CLI prints it and exits 2; nothing below the CLI prints.
"""

from __future__ import annotations


class MdegenError(Exception):
    """Base of all errors caused by input mdegen was given (config, packages, files)."""


class ConfigError(MdegenError):
    """The config file is unreadable, malformed or has a value mdegen refuses."""

    def __init__(self, message: str, *, path: object = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f":{line}"
            where += ": "
        if field:
            where += f"{field}: "
        super().__init__(where + message)
        self.reason = message


class PackageError(MdegenError):
    """A Defender portal package (zip or script) cannot be used as asked."""


class OutputError(MdegenError):
    """The output folder cannot be written as asked."""


class InventoryError(MdegenError):
    """An inventory or result file that cannot be read: the message names the file and line."""
