"""Issue 11, defect 4: a renamed or moved notebook. A session keeps saving to the folder it was
loaded from or first saved to; ``%session resume`` names other sessions folders beside the
notebook; ``%session resume --from PATH [TARGET]`` lists or loads from another folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kernels import Kernel
from magic_helpers import extension_loaded, one_line_usage_error, run

from jido_magics.persistence import SessionStore


def notebook(workdir: Path, name: str) -> Path:
    path = workdir / name
    path.write_text("{}")
    return path


def test_a_renamed_notebook_keeps_saving_to_the_first_folder(
    shell, registry, workdir, capsys
) -> None:
    report = notebook(workdir, "report.ipynb")
    shell.user_ns["__session__"] = str(report)
    run(shell, "new analysis")
    s = registry.active
    s.add_message("user", "before the rename")
    run(shell, "save")
    final = workdir / "final.ipynb"
    os.rename(report, final)
    shell.user_ns["__session__"] = str(final)  # what Jupyter sets after a rename
    s.add_message("user", "after the rename")
    s.mark_exchange_complete()  # autosave
    run(shell, "save")
    assert "report.sessions" in capsys.readouterr().out
    assert not (workdir / "final.sessions").exists() and not (workdir / ".sessions").exists()
    run(shell, "new fresh")  # a session first saved now goes beside the renamed notebook
    run(shell, "save")
    assert os.listdir(workdir / "final.sessions") == [f"{registry.active.id}.json"]
    where = capsys.readouterr().out
    run(shell, "where")
    where = capsys.readouterr().out
    assert "final.sessions" in where and "report.sessions" in where
    store = SessionStore(workdir / "report.sessions")
    assert [m.content for m in store.load(s.id).messages] == [
        "before the rename",
        "after the rename",
    ]


def test_a_kernel_not_told_of_the_rename_keeps_its_notebook_folder(
    shell, registry, workdir, capsys
) -> None:
    """JupyterLab renames the file but the running kernel keeps its old ``__session__`` (and
    ``JPY_SESSION_NAME``), which now names no file: new sessions still go beside the notebook
    (its first folder), not to the ``.sessions`` every notebook-less kernel shares."""
    report = notebook(workdir, "report.ipynb")
    shell.user_ns["__session__"] = str(report)
    try:
        run(shell, "new before")
        run(shell, "save")
        os.rename(report, workdir / "final.ipynb")
        run(shell, "new after")
        run(shell, "save")
        assert sorted(os.listdir(workdir / "report.sessions")) == sorted(
            f"{s.id}.json" for s in registry.sessions
        )
        assert not (workdir / ".sessions").exists()
        capsys.readouterr()
        run(shell, "where")
        assert "report.sessions" in capsys.readouterr().out
    finally:
        shell.user_ns.pop("__session__", None)


def test_after_a_restart_resume_names_the_old_folder_and_loads_from_it(
    ipython_shell, workdir, capsys
) -> None:
    import jido_magics

    shell = ipython_shell
    report = notebook(workdir, "report.ipynb")
    shell.user_ns["__session__"] = str(report)
    with extension_loaded(shell):
        run(shell, "new analysis")
        session = jido_magics.get_registry().active
        session.add_message("user", "kept")
        run(shell, "save")
    final = workdir / "final.ipynb"
    os.rename(report, final)
    shell.user_ns["__session__"] = str(final)
    shell.run_line_magic("load_ext", "jido_magics")  # the restarted kernel
    try:
        listing = str(run(shell, "resume"))
        assert "No saved sessions in final.sessions" in listing
        assert "report.sessions (1 session)" in listing
        assert "%session resume --from report.sessions" in listing
        assert "analysis" in str(run(shell, "resume --from report.sessions"))
        assert "analysis" in str(run(shell, "resume --from report.ipynb"))  # the old name
        run(shell, "resume --from report.sessions analysis")
        registry = jido_magics.get_registry()
        assert registry.active.id == session.id and registry.active.messages[-1].content == "kept"
        registry.active.add_message("user", "continued")
        run(shell, "save")
        assert not (workdir / "final.sessions").exists()
        store = SessionStore(workdir / "report.sessions")
        assert store.load(session.id).messages[-1].content == "continued"
    finally:
        shell.run_line_magic("unload_ext", "jido_magics")
        shell.user_ns.pop("__session__", None)


def test_resume_from_mistakes_are_one_line(shell, registry, workdir) -> None:
    message = one_line_usage_error(shell, "resume --from nowhere")
    assert "nowhere" in message and "nor a sessions folder" in message
    (workdir / "empty.sessions").mkdir()
    message = one_line_usage_error(shell, "resume --from empty.sessions gone")
    assert "no saved sessions" in message.lower()
    assert registry.sessions == ()


def test_plain_ipython_names_other_folders_too(shell, registry, workdir) -> None:
    from jido_magics.core.session import Session

    SessionStore(workdir / "old.sessions").save(Session("elsewhere"))
    (workdir / "junk.sessions").mkdir()  # no session files: not named
    listing = str(run(shell, "resume"))
    assert "old.sessions (1 session)" in listing and "junk.sessions" not in listing


def test_real_kernel_saves_beside_the_notebook_and_at_shutdown(tmp_path) -> None:
    """A kernel started as Jupyter starts one (``JPY_SESSION_NAME`` = the notebook's path,
    which ipykernel also sets as ``__session__``) saves into ``report.sessions/`` beside the
    notebook, not into its working folder; a restart (a clean shutdown) saves the changes made
    since the last exchange, and the new kernel resumes them."""
    notebook_dir = tmp_path / "project"
    notebook_dir.mkdir()
    notebook = notebook_dir / "report.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    kernel = Kernel(elsewhere, JPY_SESSION_NAME=str(notebook))
    try:
        kernel.run("%load_ext jido_magics")
        assert str(notebook_dir / "report.sessions") in kernel.run("%session where").out
        kernel.run("%session new first")
        kernel.run("%chat hello")  # autosaved after the exchange
        kernel.run("%session rename renamed")
        kernel.run("jido_magics.get_registry().active.add_message('user', 'after the exchange')")
        kernel.restart()  # a clean shutdown, then a new kernel
        kernel.run("%load_ext jido_magics")
        assert "Resumed 'renamed'" in kernel.run("%session resume renamed").out
        kernel.run("import json\ns = jido_magics.get_registry().active")
        state = kernel.value("json.dumps([s.name, s.dirty, [m.content for m in s.messages]])")
        name, dirty, contents = json.loads(state)
        assert (name, dirty) == ("renamed", False)
        assert contents[0] == "hello" and contents[-1] == "after the exchange"
        assert len(contents) == 3
        assert os.listdir(elsewhere) == []
    finally:
        kernel.stop()
