"""Fixtures of the persistence tests: the test key ring and a store in a fresh folder."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from reliability import KEY

from jido_magics.persistence import KeyRing, SessionStore, catalog


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


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verifications happen 'later': files written now count as settled, so a listing keeps
    them in the cache (as for a folder saved a while ago). A file must never change within
    the same clock tick afterwards (see test_saved_cache._changed)."""
    real = time.time_ns
    monkeypatch.setattr(catalog.time, "time_ns", lambda: real() + 10 * catalog.SETTLE_NS)
