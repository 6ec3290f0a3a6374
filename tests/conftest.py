"""Shared fixtures. ``SHARED`` is the reference folder that sits beside the repository (CI clones
the repo next to a copy of it); tests that need it skip cleanly when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared (reference material) is not present")
    return SHARED
