"""``%session export --force`` replaces only a regular file: a symlink, a FIFO,
a device or a folder at the output path is refused and left exactly as it was."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from magic_helpers import one_line_usage_error as usage_error
from magic_helpers import run


@pytest.fixture
def analysis(shell, registry):
    session = registry.create("analysis")
    session.add_message("user", "hello")
    return session


def refused(shell, output: Path, kind: str) -> None:
    for force in ("", " --force"):
        message = usage_error(shell, f"export --output {output}{force}")
        assert f"it is {kind}, and an export only creates a file or replaces a regular one" in (
            message
        )


def no_temp_files(folder: Path) -> None:
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_a_symlink_is_refused_and_its_target_kept(shell, analysis, workdir) -> None:
    target = workdir / "precious.txt"
    target.write_text("keep me")
    link = workdir / "link.md"
    link.symlink_to(target)
    refused(shell, link, "a symbolic link")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "keep me"
    no_temp_files(workdir)


def test_a_dangling_symlink_is_refused(shell, analysis, workdir) -> None:
    link = workdir / "dangling.md"
    link.symlink_to(workdir / "nowhere.md")
    refused(shell, link, "a symbolic link")
    assert link.is_symlink() and not (workdir / "nowhere.md").exists()


def test_a_fifo_is_refused_without_opening_it(shell, analysis, workdir) -> None:
    fifo = workdir / "pipe.md"
    os.mkfifo(fifo)
    refused(shell, fifo, "a named pipe (FIFO)")  # opening it to write would block here
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    no_temp_files(workdir)


def test_a_device_is_refused(shell, analysis, workdir) -> None:
    device = workdir / "null.md"
    try:  # a character device of our own (root may make one): /dev itself is never touched
        os.mknod(device, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        device = Path("/dev/null")  # refused by the lstat check alone, before any write
    before = os.lstat(device)
    refused(shell, device, "a device")
    after = os.lstat(device)
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_folder_at_the_default_name_is_refused(shell, analysis, workdir) -> None:
    (workdir / "out" / "analysis.md").mkdir(parents=True)
    message = usage_error(shell, f"export --output {workdir / 'out'} --force")
    assert "it is a folder" in message
    assert (workdir / "out" / "analysis.md").is_dir()


def test_a_regular_file_is_still_replaced_with_force(shell, analysis, workdir, capsys) -> None:
    target = workdir / "analysis.md"
    target.write_text("old")
    assert "already exists: add --force" in usage_error(shell, "export")
    run(shell, "export --force")
    assert target.read_text().startswith("# analysis")
    assert not target.is_symlink()
