"""What every kit's HANDOFF.md shares: the title line, the release facts, the checksum table and
the file's bytes (UTF-8, CRLF). Each kit's template includes ``common/handoff-title.md.j2`` and
``common/checksums.md.j2`` and adds its own sections."""

from __future__ import annotations

from collections.abc import Iterable

from generator import __version__, inventory
from generator.artifacts import OutputFile
from generator.policy import hklm_path
from generator.templating import markdown_cell, render, text_file
from generator.writer import sha256_hex

HANDOFF_NAME = "HANDOFF.md"

__all__ = ["HANDOFF_NAME", "checksum_rows", "covers", "handoff_file", "hklm_path"]


def checksum_rows(files: Iterable[OutputFile]) -> list[dict[str, str]]:
    return [{"path": f.path, "sha256": sha256_hex(f.data)} for f in files]


def covers(targets) -> str:
    """What a kit onboards, as its handoff's first sentence says: 'Windows Server 2019 and later',
    'the down-level servers (...)' or both."""
    parts = []
    if any(t.agent is None for t in targets):
        parts.append("Windows Server 2019 and later")
    if any(t.agent is not None for t in targets):
        parts.append("the down-level servers (2008 R2 SP1, 2012 R2, 2016, through their agent)")
    return " and ".join(parts)


def handoff_file(template: str, project, **context: object) -> OutputFile:
    """HANDOFF.md rendered from ``template`` with the release facts every handoff shows."""
    text = render(
        template,
        organization=markdown_cell(project.organization),
        release_version=project.release_version,
        release_date=project.release_date.isoformat(),
        mdegen_version=__version__,
        covers=covers(project.targets),
        ad_inventory_command=inventory.AD_EXPORT_COMMAND,
        cm_inventory_command=inventory.CM_EXPORT_COMMAND,
        **context,
    )
    return OutputFile(HANDOFF_NAME, text_file(text))
