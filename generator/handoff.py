"""What every kit's HANDOFF.md shares: the title line, the release facts, the checksum table and
the file's bytes (UTF-8, CRLF). Each kit's template includes ``common/handoff-title.md.j2`` and
``common/checksums.md.j2`` and adds its own sections."""

from __future__ import annotations

from collections.abc import Iterable

from generator import __version__
from generator.artifacts import OutputFile
from generator.policy import hklm_path
from generator.templating import markdown_cell, render, text_file
from generator.writer import sha256_hex

HANDOFF_NAME = "HANDOFF.md"

__all__ = ["HANDOFF_NAME", "checksum_rows", "handoff_file", "hklm_path"]


def checksum_rows(files: Iterable[OutputFile]) -> list[dict[str, str]]:
    return [{"path": f.path, "sha256": sha256_hex(f.data)} for f in files]


def handoff_file(template: str, project, **context: object) -> OutputFile:
    """HANDOFF.md rendered from ``template`` with the release facts every handoff shows."""
    text = render(
        template,
        organization=markdown_cell(project.organization),
        release_version=project.release_version,
        release_date=project.release_date.isoformat(),
        mdegen_version=__version__,
        **context,
    )
    return OutputFile(HANDOFF_NAME, text_file(text))
