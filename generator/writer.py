"""The one place that puts files on disk.

A kit (``gpo``, ``sccm`` ...) is written whole into ``<output>/<kit>/``: first into a temporary
folder beside it, then swapped into place, so a failed or killed run leaves the previous kit (or
nothing) and never a half-written one, and the next run removes what an interrupted one left. Every kit carries ``manifest.json`` (each file, its size and
SHA-256) and ``SHA256SUMS`` (accepted by ``sha256sum -c``). A non-empty kit folder that mdegen did
not write is refused unless ``force``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from generator import __version__
from generator.artifacts import OutputFile
from generator.config import Config
from generator.errors import OutputError

MANIFEST_NAME = "manifest.json"
SUMS_NAME = "SHA256SUMS"
# Git must not change a byte of a kit: with core.autocrlf=true (Git for Windows' default) it would
# turn the LF files to CRLF and the CRLF files' line ends on commit, and SHA256SUMS would no longer
# match. "-text" switches every conversion off for every file of the kit.
GITATTRIBUTES_NAME = ".gitattributes"
GITATTRIBUTES = (b"# mdegen: git must not change a byte of this kit; SHA256SUMS pins every byte, line ends included.\n"
                 b"* -text\n")
GENERATOR_MARK = "mdegen"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(kit: str, config: Config, files: Iterable[OutputFile], extra: dict | None = None) -> bytes:
    """manifest.json: deterministic (sorted keys, no time stamps but the release date), LF line ends.
    ``extra`` adds facts of a release (its config's hash, its input packages)."""
    doc = {
        "generator": GENERATOR_MARK,
        "generator_version": __version__,
        "kit": kit,
        "organization": config.organization,
        "release": {"version": config.release.version, "date": config.release.date.isoformat()},
        **(extra or {}),
        "files": [{"path": f.path, "size": len(f.data), "sha256": sha256_hex(f.data)} for f in files],
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def sums_bytes(files: Iterable[OutputFile]) -> bytes:
    """SHA256SUMS in GNU coreutils' text format, paths relative to the kit folder."""
    return "".join(f"{sha256_hex(f.data)}  {f.path}\n" for f in files).encode("utf-8")


def finish_kit(kit: str, config: Config, files: list[OutputFile], extra: dict | None = None) -> list[OutputFile]:
    """Add manifest.json and SHA256SUMS to a kit's files (sorted by path, duplicates refused)."""
    seen: dict[str, str] = {}
    for f in files:
        folded = f.path.casefold()     # Windows file systems are case-insensitive
        if folded in seen:
            raise OutputError(f"two files would be written to {f.path!r} (also {seen[folded]!r})")
        if f.path in (MANIFEST_NAME, SUMS_NAME, GITATTRIBUTES_NAME):
            raise OutputError(f"{f.path} is reserved for the kit's checksums")
        seen[folded] = f.path
    files = [*files, OutputFile(GITATTRIBUTES_NAME, GITATTRIBUTES)]
    ordered = sorted(files, key=lambda f: PurePosixPath(f.path).parts)
    manifest = OutputFile(MANIFEST_NAME, manifest_bytes(kit, config, ordered, extra))
    with_manifest = ordered + [manifest]
    return with_manifest + [OutputFile(SUMS_NAME, sums_bytes(with_manifest))]


def _manifest(folder: Path) -> dict | None:
    """The folder's manifest.json when it is one mdegen wrote (the right shape), else None."""
    try:
        doc = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("generator") != GENERATOR_MARK:
        return None
    files = doc.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("path"), str) for f in files):
        return None
    return doc


def _remove(folder: Path) -> None:
    """Remove a leftover folder, read-only files included (each may hold the tenant's onboarding
    script, so they must not pile up); what still cannot be removed is left for the next run."""
    def writable_then_retry(func, path, _exc):
        try:
            os.chmod(path, 0o700 if os.path.isdir(path) else 0o600)
            parent = os.path.dirname(path)
            os.chmod(parent, 0o700)
            func(path)
        except OSError:
            pass

    shutil.rmtree(folder, onerror=writable_then_retry)


def _added_files(folder: Path, manifest: dict) -> list[str]:
    """Files in a previous kit folder that its manifest does not list: someone put them there."""
    listed = {f["path"] for f in manifest["files"]} | {MANIFEST_NAME, SUMS_NAME}
    found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())
    return [p for p in found if p not in listed]


# --- replacing a folder without a moment in which it is missing ---------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one system call (Linux renameat2 RENAME_EXCHANGE): after it, each path
    names the other's folder, and there is no moment at which either path is missing. False where
    the platform, C library or file system has no such call; the caller then falls back."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _leftovers(output: Path, kit: str) -> list[Path]:
    """Folders an interrupted run left: a staging copy, or a previous kit set aside."""
    return sorted(p for p in output.glob(f".{kit}.*-*") if p.is_dir() and
                  p.name.startswith((f".{kit}.partial-", f".{kit}.old-")))


def _recover(output: Path, kit: str) -> None:
    """Finish what an interrupted run left. Where the kit folder is missing (a run died between the
    two renames of the fallback), the previous kit set aside in ``.<kit>.old-*`` is put back; then
    every leftover folder (each may hold a copy of the tenant's onboarding script) is removed."""
    target = output / kit
    if not target.exists():
        for old in _leftovers(output, kit):
            if old.name.startswith(f".{kit}.old-") and _manifest(old / kit) is not None:
                os.replace(old / kit, target)
                break
    for leftover in _leftovers(output, kit):
        _remove(leftover)


class _OutputLock:
    """One mdegen at a time per output folder: an advisory lock on the folder itself (released by
    the system when the process ends, however it ends), so a second run fails with a message
    instead of removing the first one's staging folder. POSIX only; elsewhere no lock is taken."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.fd: int | None = None

    def __enter__(self) -> "_OutputLock":
        try:
            import fcntl
        except ImportError:            # Windows: no advisory lock on a folder
            return self
        self.fd = os.open(self.output, os.O_RDONLY)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self.fd)
            self.fd = None
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise OutputError(f"another mdegen is writing to {self.output} right now; "
                                  "run again when it has finished") from None
            # A file system without locks (NFS without lockd, some CIFS or FUSE mounts): go on
            # unguarded rather than refuse for a reason that is not true.
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)          # closing releases the lock


def write_kit(output: Path, kit: str, files: list[OutputFile], *, force: bool = False) -> Path:
    """Write ``files`` as ``<output>/<kit>/``, replacing a previous mdegen kit there.

    ``files`` must already include the manifest and sums (see finish_kit). Returns the kit folder.
    Whatever happens, even a kill at any moment, ``<output>/<kit>`` then holds either the previous
    kit or the new one, complete (on Linux by swapping the two folders in one system call; elsewhere
    the next run puts a set-aside previous kit back). A previous kit folder that holds files its
    manifest does not list, or a non-empty folder mdegen did not write, is replaced only with
    ``force``.
    """
    target = output / kit
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise OutputError(f"{target} exists and is not a folder")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {output}: {exc.strerror}") from None
    try:
        with _OutputLock(output):
            _recover(output, kit)
            if target.is_dir() and any(target.iterdir()) and not force:
                manifest = _manifest(target)
                if manifest is None:
                    raise OutputError(f"{target} is not empty and was not written by mdegen; "
                                      "choose another --output or pass --force to replace it")
                added = _added_files(target, manifest)
                if added:
                    shown = ", ".join(added[:5]) + (f" and {len(added) - 5} more" if len(added) > 5 else "")
                    raise OutputError(f"{target} holds files mdegen did not write ({shown}); a new kit would "
                                      "remove them: move them elsewhere, or pass --force to replace the folder")
            _replace(output, kit, target, files)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def _replace(output: Path, kit: str, target: Path, files: list[OutputFile]) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{kit}.partial-", dir=output))
    try:
        for f in files:
            dest = staging.joinpath(*PurePosixPath(f.path).parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "wb") as fh:
                fh.write(f.data)
        os.chmod(staging, 0o755)
        if not target.exists():
            os.replace(staging, target)
        elif _exchange(staging, target):
            _remove(staging)                                    # now the previous kit
        else:
            retired = Path(tempfile.mkdtemp(prefix=f".{kit}.old-", dir=output))
            os.replace(target, retired / kit)
            try:
                os.replace(staging, target)
            except BaseException:
                # An error between the two renames (a virus scanner holding a fresh file, say):
                # the previous kit goes back before anything else happens.
                if not target.exists():
                    os.replace(retired / kit, target)
                raise
            _remove(retired)
    except BaseException:
        _remove(staging)
        raise


def write_file(path: Path, data: bytes) -> None:
    """One file written whole: into a temporary file beside it, then renamed over it, so a kill
    leaves the previous file or none, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
