"""A repository round trip as an admin's release goes: committed, then cloned, with Git for
Windows' default core.autocrlf=true (which converts line ends unless .gitattributes says not to)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

GIT = shutil.which("git")


def commit_and_clone(folder: Path, clone: Path) -> Path:
    """Commit everything in ``folder`` as a new repository and clone it to ``clone``."""
    def git(*args: str, cwd: Path) -> None:
        subprocess.run([GIT, "-c", "core.autocrlf=true", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       cwd=cwd, check=True, capture_output=True)

    git("init", "-q", cwd=folder)
    git("add", "-A", cwd=folder)
    git("commit", "-q", "-m", "release", cwd=folder)
    git("clone", "-q", str(folder), str(clone), cwd=clone.parent)
    return clone
