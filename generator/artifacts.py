"""The unit every builder returns: one file of a kit, as a relative path and its exact bytes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class OutputFile:
    """A file to write, relative to the kit folder (always '/'-separated, never absolute)."""

    path: str
    data: bytes

    def __post_init__(self) -> None:
        p = PurePosixPath(self.path)
        if p.is_absolute() or ".." in p.parts or "\\" in self.path or not self.path:
            raise ValueError(f"output path must be relative and inside the kit: {self.path!r}")
