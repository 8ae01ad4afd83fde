"""Ctrl-C during the save that follows a reply (issue 11, defect 9): the messages say what
really happened, a save is never cut by a first Ctrl-C, and an autosave that an interrupt
cut short is retried when the cell ends, and reported if it fails. A real shell and a real
SSE server on 127.0.0.1; the interrupt is a real SIGINT, or one raised inside os.fsync."""

from __future__ import annotations

import errno
import os
import signal

import sse_server as sse
from magic_helpers import run

from jido_magics.persistence.store import SessionStore


def saved_reply(workdir, session_id: str) -> tuple[str, str]:
    loaded = SessionStore(workdir / ".sessions").load(session_id)
    reply = loaded.messages[-1]
    return reply.content, reply.status


def test_a_first_ctrl_c_waits_for_the_save(shell, registry, chat_server, workdir, capsys):
    run(shell, f"new s --provider openai --model m --base-url {chat_server.url}")
    chat_server.push(sse.reply("The whole ", "answer."))
    real_fsync = os.fsync
    sent: list[int] = []

    def fsync_with_ctrl_c(fd: int) -> None:
        if not sent:  # Ctrl-C as the reply's file is being written
            sent.append(fd)
            os.kill(os.getpid(), signal.SIGINT)
        real_fsync(fd)

    os.fsync = fsync_with_ctrl_c
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as in a kernel
    try:
        capsys.readouterr()
        result = shell.run_cell("%chat Tell me")
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    finally:
        os.fsync = real_fsync
        signal.signal(signal.SIGINT, handler)
    assert sent and result.success
    out = capsys.readouterr().out
    assert out == (
        "The whole answer.\n"
        "Interrupted after the reply was complete: all of it is kept, and saved.\n"
    )
    session = registry.active
    assert not session.dirty
    assert saved_reply(workdir, session.id) == ("The whole answer.", "complete")


def test_an_autosave_cut_by_an_interrupt_is_retried_when_the_cell_ends(
    shell, registry, chat_server, workdir, capsys
) -> None:
    run(shell, f"new s --provider openai --model m --base-url {chat_server.url}")
    chat_server.push(sse.reply("The whole ", "answer."))
    real_fsync = os.fsync
    calls: list[int] = []

    def fsync_interrupted_once(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:  # a Ctrl-C that stops the save (a second one, or a hard one)
            raise KeyboardInterrupt
        real_fsync(fd)

    os.fsync = fsync_interrupted_once
    try:
        capsys.readouterr()
        result = shell.run_cell("%chat Tell me")
    finally:
        os.fsync = real_fsync
    assert result.success
    out = capsys.readouterr().out
    assert out == (
        "The whole answer.\n"
        "Interrupted after the reply was complete: all of it is kept. Autosave did not finish: "
        "it is retried when this cell ends.\n"
        "Saved session 's' after the interrupt (generation 1).\n"
    )
    session = registry.active
    assert not session.dirty
    assert saved_reply(workdir, session.id) == ("The whole answer.", "complete")


def test_a_retry_that_fails_is_reported(shell, registry, chat_server, workdir, capsys) -> None:
    run(shell, f"new s --provider openai --model m --base-url {chat_server.url}")
    chat_server.push(sse.reply("An answer."))
    real_fsync = os.fsync
    calls: list[int] = []

    def fsync_failing(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise KeyboardInterrupt
        raise OSError(errno.EIO, "Input/output error")

    os.fsync = fsync_failing
    try:
        capsys.readouterr()
        shell.run_cell("%chat Tell me")
    finally:
        os.fsync = real_fsync
    captured = capsys.readouterr()
    assert "Autosave did not finish: it is retried when this cell ends." in captured.out
    assert "Saved session" not in captured.out
    [warning] = [line for line in captured.err.splitlines() if line.strip()]
    assert warning.startswith("Autosave of session 's' failed after the interrupt: ")
    assert "Input/output error" in warning
    session = registry.active
    assert session.dirty  # nothing pretends it is saved; the next chance saves it
    shell.run_cell("%session save")
    assert saved_reply(workdir, session.id) == ("An answer.", "complete")


def test_nothing_is_retried_when_no_save_was_cut(shell, registry, chat_server, capsys) -> None:
    run(shell, f"new s --provider openai --model m --base-url {chat_server.url}")
    chat_server.push(sse.reply("Fine."))
    capsys.readouterr()
    shell.run_cell("%chat hi")
    shell.run_cell("1 + 1")
    assert "after the interrupt" not in capsys.readouterr().out


def test_a_ctrl_c_during_the_save_before_a_close_keeps_it_open_and_saved(
    shell, registry, workdir
) -> None:
    run(shell, "new c")
    session = registry.active
    session.add_message("user", "typed before the close")
    real_fsync = os.fsync
    sent: list[int] = []

    def fsync_with_ctrl_c(fd: int) -> None:
        if not sent:
            sent.append(fd)
            os.kill(os.getpid(), signal.SIGINT)
        real_fsync(fd)

    os.fsync = fsync_with_ctrl_c
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = shell.run_cell("%session close")
    finally:
        os.fsync = real_fsync
        signal.signal(signal.SIGINT, handler)
    assert sent and isinstance(result.error_in_exec, KeyboardInterrupt)
    assert registry.active is session and not session.dirty  # the save finished, then stopped
    loaded = SessionStore(workdir / ".sessions").load(session.id)
    assert [m.content for m in loaded.messages] == ["typed before the close"]
    run(shell, "close")  # the next close is clean: no conflict with its own file
    assert registry.sessions == ()
