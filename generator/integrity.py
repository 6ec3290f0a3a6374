"""`mdegen verify`: is a kit (or a folder of kits) still what mdegen wrote?

Recomputes every checksum of a kit's SHA256SUMS and reports changed, missing and extra files, then
re-reads every artifact with mdegen's own codecs (registry.pol, the XML files, the ini files,
.sms, .mof, JSON) and reports any that no longer parse. Nothing here prints; the CLI reports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from generator.errors import MdegenError, OutputError
from generator.writer import SUMS_NAME, sha256_hex


@dataclass
class KitReport:
    folder: Path
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)     # (path, what the codec said)

    @property
    def intact(self) -> bool:
        return not (self.changed or self.missing or self.extra or self.unreadable)


def _read_sums(folder: Path) -> list[tuple[str, str]]:
    """(sha256, path) of each line of the kit's SHA256SUMS; OutputError for a line that is not one."""
    pairs = []
    text = (folder / SUMS_NAME).read_bytes().decode("utf-8", "replace")
    for number, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\r")
        if not line:
            continue
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not path:
            raise OutputError(f"{folder / SUMS_NAME}:{number}: not a line of sha256sum's format")
        if PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts:
            raise OutputError(f"{folder / SUMS_NAME}:{number}: {path!r} is outside the kit")
        pairs.append((digest, path))
    return pairs


def read_xml(data: bytes):
    """An XML file of a kit, parsed without entity expansion or network access (lxml raises on
    text that is not well-formed)."""
    from lxml import etree

    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def _parse(path: str, data: bytes) -> None:
    """Re-read ``data`` with the codec of its kind; raise what the codec raises."""
    from generator.formats import gpscripts, pdf_sms, regpol, wmi_mof

    name = PurePosixPath(path).name.lower()
    suffix = PurePosixPath(path).suffix.lower()
    if suffix == ".pol":
        regpol.loads(data)
    elif suffix in (".xml", ".admx", ".adml"):
        read_xml(data)
    elif name == "gpt.ini":
        gpscripts.loads_gpt(data)
    elif name in ("scripts.ini", "psscripts.ini"):
        gpscripts.loads(data)
    elif suffix == ".sms":
        pdf_sms.loads(data)
    elif suffix == ".mof":
        wmi_mof.loads(data)
    elif suffix == ".json":
        json.loads(data.decode("utf-8"))


def verify_kit(folder: Path) -> KitReport:
    """The report of one kit folder (one that holds SHA256SUMS)."""
    report = KitReport(folder)
    listed = _read_sums(folder)
    names = {p for _, p in listed}
    for digest, path in listed:
        file = folder / path
        if not file.is_file():
            report.missing.append(path)
            continue
        data = file.read_bytes()
        report.checked += 1
        if sha256_hex(data) != digest:
            report.changed.append(path)
        try:
            _parse(path, data)
        except (MdegenError, ValueError, UnicodeDecodeError) as exc:
            report.unreadable.append((path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        except Exception as exc:        # lxml's XMLSyntaxError and kin: the file does not parse
            report.unreadable.append((path, f"{type(exc).__name__}: {exc}"))
    for file in sorted(folder.rglob("*")):
        rel = file.relative_to(folder).as_posix()
        if file.is_file() and rel != SUMS_NAME and rel not in names and not rel.startswith(".git/"):
            report.extra.append(rel)
    return report


def kit_folders(path: Path) -> list[Path]:
    """``path`` itself when it is a kit, else the kits directly below it (a release folder)."""
    if not path.is_dir():
        raise OutputError(f"{path}: no such folder")
    if (path / SUMS_NAME).is_file():
        return [path]
    found = sorted(p for p in path.iterdir() if p.is_dir() and (p / SUMS_NAME).is_file())
    if not found:
        raise OutputError(f"{path}: holds no mdegen kit (no {SUMS_NAME} in it or in a folder below it)")
    return found


def differences(folder: Path, files) -> list[str]:
    """What writing ``files`` (OutputFile: path, data) to ``folder`` would change, one text per file
    as diff writes it: a unified diff for text, one line for binary files, added and removed files."""
    import difflib

    wanted = {f.path: f.data for f in files}
    present = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()} \
        if folder.is_dir() else {}
    out = []
    for path in sorted(set(wanted) | set(present), key=lambda p: PurePosixPath(p).parts):
        old = present[path].read_bytes() if path in present else None
        new = wanted.get(path)
        if old == new:
            continue
        label_old = f"a/{path}" if old is not None else "/dev/null"
        label_new = f"b/{path}" if new is not None else "/dev/null"
        try:
            if b"\0" in (old or b"") or b"\0" in (new or b""):
                raise UnicodeDecodeError("utf-8", b"", 0, 1, "NUL bytes: a binary (or UTF-16) file")
            old_text = [] if old is None else old.decode("utf-8-sig").splitlines(keepends=True)
            new_text = [] if new is None else new.decode("utf-8-sig").splitlines(keepends=True)
        except UnicodeDecodeError:
            out.append(f"Binary files {label_old} and {label_new} differ\n")
            continue
        if old is not None and new is not None and old_text == new_text:
            out.append(f"Files {label_old} and {label_new} differ in encoding or line ends only\n")
            continue
        diff = "".join(difflib.unified_diff(old_text, new_text, label_old, label_new))
        out.append(diff if diff.endswith("\n") else diff + "\n")
    return out
