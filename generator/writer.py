"""The one place that puts files on disk.

A kit (``gpo``, later ``sccm`` ...) is written whole into ``<output>/<kit>/``: first into a
temporary folder beside it, then moved into place, so a failed run leaves the previous kit (or
nothing) and never a half-written one. Every kit carries ``manifest.json`` (each file, its size and
SHA-256) and ``SHA256SUMS`` (accepted by ``sha256sum -c``). A non-empty kit folder that mdegen did
not write is refused unless ``force``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from generator import __version__
from generator.artifacts import OutputFile
from generator.config import Config
from generator.errors import OutputError

MANIFEST_NAME = "manifest.json"
SUMS_NAME = "SHA256SUMS"
GENERATOR_MARK = "mdegen"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(kit: str, config: Config, files: Iterable[OutputFile]) -> bytes:
    """manifest.json: deterministic (sorted keys, no time stamps but the release date), LF line ends."""
    doc = {
        "generator": GENERATOR_MARK,
        "generator_version": __version__,
        "kit": kit,
        "organization": config.organization,
        "release": {"version": config.release.version, "date": config.release.date.isoformat()},
        "files": [{"path": f.path, "size": len(f.data), "sha256": sha256_hex(f.data)} for f in files],
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def sums_bytes(files: Iterable[OutputFile]) -> bytes:
    """SHA256SUMS in GNU coreutils' text format, paths relative to the kit folder."""
    return "".join(f"{sha256_hex(f.data)}  {f.path}\n" for f in files).encode("utf-8")


def finish_kit(kit: str, config: Config, files: list[OutputFile]) -> list[OutputFile]:
    """Add manifest.json and SHA256SUMS to a kit's files (sorted by path, duplicates refused)."""
    seen: dict[str, str] = {}
    for f in files:
        folded = f.path.casefold()     # Windows file systems are case-insensitive
        if folded in seen:
            raise OutputError(f"two files would be written to {f.path!r} (also {seen[folded]!r})")
        if f.path in (MANIFEST_NAME, SUMS_NAME):
            raise OutputError(f"{f.path} is reserved for the kit's checksums")
        seen[folded] = f.path
    ordered = sorted(files, key=lambda f: PurePosixPath(f.path).parts)
    manifest = OutputFile(MANIFEST_NAME, manifest_bytes(kit, config, ordered))
    with_manifest = ordered + [manifest]
    return with_manifest + [OutputFile(SUMS_NAME, sums_bytes(with_manifest))]


def _written_by_mdegen(folder: Path) -> bool:
    try:
        doc = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("generator") == GENERATOR_MARK


def write_kit(output: Path, kit: str, files: list[OutputFile], *, force: bool = False) -> Path:
    """Write ``files`` as ``<output>/<kit>/``, replacing a previous mdegen kit there.

    ``files`` must already include the manifest and sums (see finish_kit). Returns the kit folder.
    """
    target = output / kit
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise OutputError(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not _written_by_mdegen(target) and not force:
        raise OutputError(f"{target} is not empty and was not written by mdegen; "
                          "choose another --output or pass --force to replace it")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {output}: {exc.strerror}") from None

    staging = Path(tempfile.mkdtemp(prefix=f".{kit}.partial-", dir=output))
    try:
        for f in files:
            dest = staging.joinpath(*PurePosixPath(f.path).parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "wb") as fh:
                fh.write(f.data)
        os.chmod(staging, 0o755)
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{kit}.old-", dir=output))
            os.replace(target, retired / kit)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
