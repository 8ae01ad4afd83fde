"""The one atomic writer (persistence/atomic.py) that session files and exports share: its
no-overwrite mode and its refusal to replace anything but a regular file, on real files."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from jido_magics.persistence.atomic import write_atomic


def test_without_overwrite_an_existing_file_is_kept(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        write_atomic(tmp_path, "a.md", [b"new"], overwrite=False)
    assert (tmp_path / "a.md").read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.md"]  # no temp file left


def test_without_overwrite_a_new_file_is_created_whole(tmp_path: Path) -> None:
    write_atomic(tmp_path, "b.md", [b"new ", b"file"], overwrite=False)
    assert (tmp_path / "b.md").read_bytes() == b"new file"
    assert os.listdir(tmp_path) == ["b.md"]
    assert (tmp_path / "b.md").stat().st_nlink == 1  # the temp name is gone


def test_without_hard_links_the_fallback_still_refuses(tmp_path: Path, monkeypatch) -> None:
    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    (tmp_path / "a.md").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        write_atomic(tmp_path, "a.md", [b"new"], overwrite=False)
    write_atomic(tmp_path, "c.md", [b"new"], overwrite=False)
    assert (tmp_path / "a.md").read_bytes() == b"old"
    assert (tmp_path / "c.md").read_bytes() == b"new"
    assert sorted(os.listdir(tmp_path)) == ["a.md", "c.md"]


@pytest.mark.parametrize("overwrite", [True, False])
def test_only_a_regular_file_is_ever_replaced(tmp_path: Path, overwrite: bool) -> None:
    (tmp_path / "elsewhere").write_bytes(b"theirs")
    (tmp_path / "link.json").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "folder.json").mkdir()
    for name in ("link.json", "folder.json"):
        with pytest.raises(FileExistsError):
            write_atomic(tmp_path, name, [b"new"], overwrite=overwrite)
    assert (tmp_path / "link.json").is_symlink() and (tmp_path / "folder.json").is_dir()
    assert (tmp_path / "elsewhere").read_bytes() == b"theirs"
    assert sorted(os.listdir(tmp_path)) == ["elsewhere", "folder.json", "link.json"]


def test_overwrite_replaces_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"old")
    write_atomic(tmp_path, "a.json", [b"new"])
    assert (tmp_path / "a.json").read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["a.json"]
