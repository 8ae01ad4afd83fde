"""Fixtures of the persistence tests: the test key ring and a store in a fresh folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability import KEY

from jido_magics.persistence import KeyRing, SessionStore


@pytest.fixture
def keys() -> KeyRing:
    return KeyRing([KEY])


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sessions folder (not made yet) in the test's current folder: messages name files
    relative to it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path / "report.sessions"


@pytest.fixture
def store(folder: Path, keys: KeyRing) -> SessionStore:
    return SessionStore(folder, keys=keys)
