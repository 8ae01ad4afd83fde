"""``%session show`` and ``%session export`` and the notebook display of sessions, in a real
InteractiveShell with real files."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from magic_helpers import one_line_usage_error as usage_error
from magic_helpers import run
from markdown_it import MarkdownIt

from jido_magics.core import Session
from jido_magics.core.page import PAGE_SIZE
from jido_magics.export import ExportError, write_new_file


def fill(session, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        session.add_message("user" if i % 2 == 0 else "assistant", f"message {i}")


def with_extras(session):
    """A user question and an answer with a reasoning step and a completed tool call."""
    session.add_message("user", "How many rows?")
    answer = session.add_message("assistant", "There are **3** rows.", model="offline-1")
    session.add_reasoning_step("Count the rows of df.", answer.id)
    call = session.add_tool_call("describe_variable", {"name": "df"}, answer.id)
    session.update_tool_call(call, "completed", "DataFrame 3x2")
    return answer


def formats(shell, obj) -> dict[str, str]:
    """What a notebook receives for ``obj``: every formatter on, as in a kernel (the terminal
    shell enables only text/plain)."""
    formatter = shell.display_formatter
    before = formatter.active_types
    formatter.active_types = list(formatter.formatters)
    try:
        data, _ = formatter.format(obj)
    finally:
        formatter.active_types = before
    return data


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^\[(\d+)\]", text, flags=re.MULTILINE)]


# -- show --------------------------------------------------------------------------------------


def test_show_defaults_to_the_newest_page(shell, registry) -> None:
    s = registry.create("analysis")
    fill(s, 120)
    page = run(shell, "show")
    assert (page.number, page.pages) == (3, 3)
    assert numbers(str(page)) == list(range(101, 121))
    assert "page 3 of 3, messages 101–120 of 120" in str(page)
    assert "message 119" in page._repr_markdown_()
    assert "message 99" not in page._repr_markdown_()


def test_show_pages_count_from_the_oldest(shell, registry) -> None:
    s = registry.create("analysis")
    fill(s, 120)
    first = run(shell, "show --page 1")
    assert numbers(str(first)) == list(range(1, PAGE_SIZE + 1))
    assert f"Newer: %session show {s.id} --page 2" in str(first) and "Older" not in str(first)
    second = run(shell, "show analysis --page 2")
    assert numbers(str(second)) == list(range(51, 101))
    assert f"Older: %session show {s.id} --page 1" in str(second)
    assert f"*Newer:* `%session show {s.id} --page 3`" in second._repr_markdown_()
    markdown = second._repr_markdown_()
    assert markdown.index("message 50") < markdown.index("message 99")


@pytest.mark.parametrize(
    ("count", "page", "expected"),
    [
        (120, "4", "Page 4 does not exist: session 'analysis' has pages 1 to 3"),
        (120, "0", "Page 0 does not exist: session 'analysis' has pages 1 to 3"),
        (120, "-1", "Page -1 does not exist"),
        (0, "2", "Page 2 does not exist: session 'analysis' has only page 1"),
        (50, "2", "has only page 1 (50 messages"),
        (120, "two", "invalid int value: 'two'"),
    ],
)
def test_show_bad_page_is_one_line_with_the_range(shell, registry, count, page, expected) -> None:
    fill(registry.create("analysis"), count)
    assert expected in usage_error(shell, f"show --page={page}")


def test_show_an_empty_session_and_no_session(shell, registry) -> None:
    assert "No session is open" in usage_error(shell, "show")
    registry.create("empty")
    page = run(shell, "show")
    assert "no messages yet" in str(page) and "no messages yet" in page._repr_markdown_()


def test_show_another_session_without_switching(shell, registry) -> None:
    a = registry.create("alpha")
    a.add_message("user", "from alpha")
    registry.create("beta")
    page = run(shell, "show alp")
    assert "from alpha" in str(page) and registry.active.name == "beta"
    assert "No open session matches 'gamma'" in usage_error(shell, "show gamma")


def test_show_folds_reasoning_and_tool_calls(shell, registry) -> None:
    with_extras(registry.create("analysis"))
    page = run(shell, "show")
    markdown = page._repr_markdown_()
    assert "**#1 · User**" in markdown and "**#2 · Assistant**" in markdown
    assert "There are **3** rows." in markdown
    assert "<details><summary>Reasoning (1 step)</summary>" in markdown
    assert "<details><summary>Tool call: describe_variable (completed)</summary>" in markdown
    assert markdown.count("<details>") == markdown.count("</details>") == 2
    assert markdown.index("Count the rows") < markdown.index("There are")
    text = str(page)
    assert "(1 reasoning step; tool call describe_variable (completed))" in text
    assert "Count the rows" not in text  # folded in the text form too


def test_show_says_how_many_messages_were_dropped(shell, registry) -> None:
    shell.run_line_magic("config", "SessionMagics.max_messages = 60")
    try:
        s = registry.create("capped")
        fill(s, 75)
        page = run(shell, "show --page 1")
        assert "15 earlier messages dropped" in str(page)
        assert "15 earlier messages dropped" in page._repr_markdown_()
        assert numbers(str(page))[0] == 1 and "message 15" in str(page)
    finally:
        shell.run_line_magic("config", "SessionMagics.max_messages = 1000")


def test_show_displays_as_markdown_in_the_shell(shell, registry) -> None:
    registry.create("analysis").add_message("user", "hello *world*")
    data = formats(shell, run(shell, "show"))
    assert "hello *world*" in data["text/markdown"]
    assert "[1] user" in data["text/plain"] and "hello *world*" in data["text/plain"]


def test_show_marks_unfinished_messages(shell, registry) -> None:
    s = registry.create("analysis")
    s.add_message("user", "hi")
    s.add_message("assistant", "partial rep", status="interrupted")
    page = run(shell, "show")
    assert "*interrupted*" in page._repr_markdown_()
    assert "assistant · " in str(page) and "· interrupted" in str(page)


# -- rendering stays inert ---------------------------------------------------------------------

HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
    "[click](javascript:alert(3)) [also]( JaVaScRiPt:alert(4)) <javascript:alert(5)>\n\n"
    "[ref]: javascript:alert(6)\n\n[ref]\n\n"
    "</details><iframe src=//evil></iframe>\n\n"
    "Keep `a < b` and\n\n```html\n<b>code</b>\n```\n\n"
    "```\nan unclosed fence <b>"
)


def rendered_html(markdown: str) -> str:
    """Render like a notebook does: raw HTML allowed, and (worse than most) any link scheme."""
    md = MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True
    return md.render(markdown)


def assert_inert(html: str) -> None:
    lowered = html.lower()
    for bad in ("<script", "<img", "<iframe", 'href="javascript:', "href='javascript:"):
        assert bad not in lowered


def test_hostile_content_renders_inert(shell, registry) -> None:
    s = registry.create("analysis")
    s.add_message("assistant", HOSTILE)
    s.add_message("user", "after the fence")
    markdown = run(shell, "show")._repr_markdown_()
    html = rendered_html(markdown)
    assert_inert(html)
    assert "<code>a &lt; b</code>" in html  # code spans keep their text
    assert "&lt;b&gt;code&lt;/b&gt;" in html  # so do fenced blocks
    # The unclosed fence was closed: the next message is not swallowed by it.
    assert "<strong>#2 · User</strong>" in html
    assert html.count("<details>") == html.count("</details>")


# -- export ------------------------------------------------------------------------------------


def exported(capsys) -> Path:
    out = capsys.readouterr().out
    match = re.search(r"to (.+)\.$", out.strip())
    assert match, out
    return Path(match.group(1)).absolute()


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_export_markdown_beside_the_notebook_named_after_the_session(
    shell, registry, workdir, capsys
) -> None:
    s = registry.create("my chat")
    fill(s, 3)
    with_extras(s)
    run(shell, "export")
    path = exported(capsys)
    assert path == workdir / "my-chat.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my chat\n")
    positions = [text.index(f"message {i}") for i in range(3)]
    assert positions == sorted(positions) and positions[-1] < text.index("How many rows?")
    assert "<details><summary>Reasoning (1 step)</summary>" in text
    assert "<details><summary>Tool call: describe_variable (completed)</summary>" in text
    assert no_temp_files(workdir)


def test_export_never_overwrites_without_force(shell, registry, workdir, capsys) -> None:
    fill(registry.create("analysis"), 2)
    target = workdir / "analysis.md"
    target.write_bytes(b"precious")
    message = usage_error(shell, "export")
    assert (
        message
        == "analysis.md already exists: add --force to overwrite it or choose --output PATH."
    )
    assert target.read_bytes() == b"precious"
    run(shell, "export --force")
    assert exported(capsys) == target
    assert "message 1" in target.read_text(encoding="utf-8")
    assert no_temp_files(workdir)


def test_export_notebook_one_markdown_cell_per_message(shell, registry, workdir, capsys) -> None:
    s = registry.create("analysis")
    fill(s, 4)
    with_extras(s)
    run(shell, "export --format ipynb")
    path = exported(capsys)
    assert path.name == "analysis.ipynb"
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert [cell.cell_type for cell in notebook.cells] == ["markdown"] * 6
    assert [
        re.search(r"message \d|How many|There are", cell.source).group() for cell in notebook.cells
    ] == ["message 0", "message 1", "message 2", "message 3", "How many", "There are"]
    assert "<details>" in notebook.cells[-1].source
    assert notebook.metadata["jido_magics"]["session_id"] == s.id


def test_export_json_is_chronological_and_has_no_api_key(shell, registry, workdir, capsys) -> None:
    s = registry.create("analysis", model="m1")
    s.set_config(s.config.updated({"api_key": "sk-very-secret-key"}))
    fill(s, 5)
    answer = with_extras(s)
    run(shell, "export --format json --output conv.json")
    path = exported(capsys)
    raw = path.read_bytes()
    assert b"sk-very-secret-key" not in raw and b"api_key" not in raw
    document = json.loads(raw)
    assert document["format"] == "jido_magics.transcript" and document["version"] == 1
    assert document["session"]["id"] == s.id and document["session"]["config"]["model"] == "m1"
    contents = [m["content"] for m in document["messages"]]
    assert contents[:5] == [f"message {i}" for i in range(5)]
    times = [m["created_at"] for m in document["messages"]]
    assert times == sorted(times)
    assert document["reasoning_steps"][0]["message_id"] == answer.id
    assert document["tool_calls"][0]["result"] == "DataFrame 3x2"


@pytest.mark.parametrize(
    ("output", "expected_name", "kind"),
    [
        ("out.ipynb", "out.ipynb", "ipynb"),
        ("out.JSON", "out.JSON", "json"),
        ("notes.txt", "notes.txt", "md"),
    ],
)
def test_export_format_follows_the_output_suffix(
    shell, registry, workdir, capsys, output, expected_name, kind
) -> None:
    fill(registry.create("analysis"), 2)
    run(shell, f"export --output {output}")
    path = exported(capsys)
    assert path == workdir / expected_name
    raw = path.read_text(encoding="utf-8")
    if kind == "ipynb":
        assert len(nbformat.reads(raw, as_version=4).cells) == 2
    elif kind == "json":
        assert len(json.loads(raw)["messages"]) == 2
    else:
        assert raw.startswith("# analysis")


def test_export_to_a_folder_and_another_session(shell, registry, workdir, capsys) -> None:
    fill(registry.create("alpha"), 1)
    registry.create("beta")
    (workdir / "exports").mkdir()
    run(shell, "export alpha --output exports --format json")
    assert exported(capsys) == workdir / "exports" / "alpha.json"
    assert registry.active.name == "beta"


def test_export_mistakes_are_one_line(shell, registry, workdir) -> None:
    assert "No session is open" in usage_error(shell, "export")
    registry.create("analysis")
    assert "invalid choice: 'pdf'" in usage_error(shell, "export --format pdf")
    message = usage_error(shell, "export --output missing/dir/out.md")
    assert "does not exist" in message
    assert list(workdir.iterdir()) == []


def test_export_names_from_odd_session_names(shell, registry, workdir, capsys) -> None:
    registry.create("../../etc/passwd")
    run(shell, "export")
    assert exported(capsys) == workdir / "etc-passwd.md"
    registry.create("...")
    run(shell, "export")
    assert exported(capsys) == workdir / f"{registry.active.id}.md"
    registry.create("NUL")
    run(shell, "export")
    assert exported(capsys) == workdir / "NUL-session.md"


def test_failed_write_keeps_the_old_file_and_no_temp(shell, registry, workdir, monkeypatch) -> None:
    fill(registry.create("analysis"), 2)
    target = workdir / "analysis.md"
    target.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", broken_fsync)
        message = usage_error(shell, "export --force")
    assert "Cannot write" in message and "Input/output error" in message
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in workdir.iterdir()) == ["analysis.md"]
    run(shell, "export --force")
    assert target.read_bytes() != b"old"


def test_a_file_appearing_after_the_check_is_not_clobbered(tmp_path, monkeypatch) -> None:
    target = tmp_path / "t.md"
    target.write_bytes(b"arrived meanwhile")

    # The existence check misses it (as in a race); the final hard link must still refuse.
    def missing(path: object, *args: object, **kwargs: object) -> os.stat_result:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    monkeypatch.setattr(os, "lstat", missing)
    with pytest.raises(ExportError, match="already exists"):
        write_new_file(target, b"new", force=False)
    assert target.read_bytes() == b"arrived meanwhile"
    assert [p.name for p in tmp_path.iterdir()] == ["t.md"]


def test_export_file_is_readable_like_any_new_file(tmp_path) -> None:
    target = tmp_path / "t.md"
    write_new_file(target, b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


# -- how sessions display ----------------------------------------------------------------------


def test_session_displays_a_summary(shell, registry) -> None:
    s = registry.create("analysis", model="gpt-4o-mini")
    fill(s, 5)
    data = formats(shell, s)
    markdown, html = data["text/markdown"], data["text/html"]
    assert markdown.startswith(f"**analysis** · `{s.id}` · offline/gpt-4o-mini")
    assert "5 messages, 0 reasoning steps, 0 tool calls" in markdown
    assert "message 4" in markdown and "message 2" in markdown and "message 1" not in markdown
    assert "<strong>analysis</strong>" in html and "message 4" in html and "message 1" not in html
    assert data["text/plain"] == repr(s)


def test_session_display_escapes_names_and_content() -> None:
    s = Session("<b>bold</b>")
    s.add_message("assistant", "<img src=x onerror=alert(1)> [x](javascript:alert(2))")
    html = s._repr_html_()
    assert "<img" not in html and "<b>bold" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;b&gt;bold" in html
    assert_inert(rendered_html(s._repr_markdown_()))
    assert "<b>" not in rendered_html(s._repr_markdown_())


def test_session_list_text_is_a_table(shell, registry) -> None:
    registry.create("alpha")
    registry.create("beta")
    data = formats(shell, run(shell, "list"))
    lines = data["text/plain"].splitlines()
    assert lines[0].split()[:3] == ["#", "name", "id"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "2"]


def test_export_goes_beside_the_running_notebook(shell, registry, workdir, capsys) -> None:
    folder = workdir / "project"
    folder.mkdir()
    notebook = folder / "report.ipynb"
    notebook.write_text("{}", encoding="utf-8")
    shell.user_ns["__session__"] = str(notebook)
    try:
        fill(registry.create("analysis"), 1)
        run(shell, "export")
        assert exported(capsys) == folder / "analysis.md"
    finally:
        shell.user_ns.pop("__session__", None)


def test_notebook_cell_ids_are_message_ids_and_unique(tmp_path) -> None:
    from jido_magics.core import Message
    from jido_magics.export import export_session

    s = Session("ids")
    first = s.add_message("user", "one")
    s.add_message("assistant", "two")
    path = export_session(s, "ipynb", folder=tmp_path)
    notebook = nbformat.read(path, as_version=4)
    assert [c.id for c in notebook.cells] == [m.id for m in s.messages]
    # A loaded session could repeat an id; the notebook must stay valid all the same.
    twin = Session(
        "twins",
        messages=[Message(first.id, "user", "a", first.created_at)] * 2
        + [Message("bad id!", "user", "b", first.created_at)],
    )
    notebook = nbformat.reads(
        export_session(twin, "ipynb", folder=tmp_path).read_text(encoding="utf-8"), 4
    )
    nbformat.validate(notebook)
    ids = [c.id for c in notebook.cells]
    assert len(set(ids)) == 3 and ids[0] == first.id and ids[2] == "message-3"


@pytest.mark.parametrize("fmt", ["md", "ipynb", "json"])
def test_export_text_without_a_utf8_form(tmp_path, fmt: str) -> None:
    from jido_magics.export import export_session

    s = Session("odd")
    s.add_message("assistant", "half a pair: \ud800 and é")
    raw = export_session(s, fmt, folder=tmp_path).read_bytes()
    text = raw.decode("utf-8")  # valid UTF-8 whatever the content
    if fmt == "json":
        assert json.loads(text)["messages"][0]["content"] == "half a pair: \ud800 and é"
    elif fmt == "ipynb":
        assert "\ud800" in nbformat.reads(text, as_version=4).cells[0].source
    else:
        assert "half a pair: ? and é" in text
