"""``%session trust PATH`` says what is wrong with that path and what to do: empty, not found,
a folder, a special file, not a session file; never "move it out of the sessions folder" for
a file that is not in it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from magic_helpers import one_line_usage_error, run


def test_an_empty_path_asks_for_one(shell) -> None:
    for line in ('trust ""', "trust '  '"):
        message = one_line_usage_error(shell, line)
        assert message.startswith("Give the path of the session file to trust")
        assert "sessions folder" not in message


def test_a_missing_file_says_where_it_looked(shell, workdir: Path) -> None:
    message = one_line_usage_error(shell, "trust nowhere.json")
    assert message.startswith("There is no file") and "nowhere.json" in message
    assert "looked in the current folder and" in message and "check the path" in message
    assert "There is no file /no/such/file.json to trust: check the path." == (
        one_line_usage_error(shell, "trust /no/such/file.json")
    )


def test_a_folder_asks_for_a_file_in_it(shell, workdir: Path) -> None:
    (workdir / "colleague.sessions").mkdir()
    for line in ("trust colleague.sessions", "trust ."):
        message = one_line_usage_error(shell, line)
        assert "is a folder: give the path of one session file in it" in message


def test_a_file_that_is_no_session_file_says_so_and_why(shell, workdir: Path) -> None:
    (workdir / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    message = one_line_usage_error(shell, f"trust {workdir / 'passwd'}")
    assert "is not a jido_magics session file (it does not start with the session header)" in (
        message
    )
    assert "trusting it cannot help" in message
    assert "move it out of the sessions folder" not in message
    (workdir / "empty.json").write_bytes(b"")
    assert "(it is empty)" in one_line_usage_error(shell, "trust empty.json")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_special_file_is_refused_without_reading_it(shell, workdir: Path) -> None:
    os.mkfifo(workdir / "pipe.json")
    message = one_line_usage_error(shell, "trust pipe.json")
    assert "is not a regular file, so not a session file" in message
    assert "sessions folder" not in message


def test_a_good_file_is_still_trusted(shell, registry, workdir: Path, capsys) -> None:
    run(shell, "new mine")
    registry.active.add_message("user", "hello")
    run(shell, "save")
    path = workdir / ".sessions" / f"{registry.active.id}.json"
    run(shell, f"trust {path}")
    assert "Trusted" in capsys.readouterr().out
