"""``%session fork|retry|undo`` in a real InteractiveShell, with the offline provider and the
local chat-completions server (``tests/sse_server.py``)."""

from __future__ import annotations

import orjson
import sse_server as sse
from magic_helpers import one_line_usage_error, run

from jido_magics.core.records import Parent


def cell(shell, source: str):
    return shell.run_cell(source, store_history=True)


def chat(shell, text: str) -> None:
    assert cell(shell, f"%chat {text}").success


def contents(session) -> list[tuple[str, str, str]]:
    return [(m.role, m.content, m.status) for m in session.messages]


def three_exchanges(shell, registry):
    run(shell, "new a")
    for text in ("one", "two", "three"):
        chat(shell, text)
    return registry.active


# -- fork ------------------------------------------------------------------------------------


def test_fork_at_1_at_n_and_at_the_last_message(shell, registry, capsys) -> None:
    a = three_exchanges(shell, registry)
    before = [m.to_dict() for m in a.messages]
    capsys.readouterr()
    run(shell, "fork a --at 1")
    first = registry.active
    assert first is not a and first.name == "a (fork)"
    assert contents(first) == contents(a)[:1]
    assert first.parent == Parent(a.id, 1)
    assert f"Forked 'a' at message 1 into 'a (fork)' ({first.id}), now active" in (
        capsys.readouterr().out
    )
    run(shell, "fork a --at 4")
    middle = registry.active
    assert middle.name == "a (fork) 2" and contents(middle) == contents(a)[:4]
    assert middle.parent == Parent(a.id, 4)
    run(shell, "fork a --at 6 last")
    last = registry.active
    assert last.name == "last" and contents(last) == contents(a)
    assert last.parent == Parent(a.id, 6)
    run(shell, "fork a")  # default: all
    assert contents(registry.active) == contents(a) and registry.active.parent.message == 6
    # the original is unchanged, and the copies are copies
    assert [m.to_dict() for m in a.messages] == before
    last.messages[0].content = "changed"
    assert a.messages[0].content == "one"
    # a fork holds unsaved messages: it is saved like any changed session
    assert last.dirty and middle.dirty


def test_fork_keeps_reasoning_steps_tool_calls_and_settings(shell, registry) -> None:
    run(shell, "new t --system 'Be terse.'")
    cell(shell, "x = 1")
    chat(shell, "which variables are there?")  # the offline provider calls list_variables
    chat(shell, "thanks")
    t = registry.active
    assert t.tool_calls and t.messages[2].role == "tool"
    t.add_reasoning_step("thinking", t.messages[1].id)
    run(shell, "fork --at 4")
    fork = registry.active
    assert [c.to_dict() for c in fork.tool_calls] == [c.to_dict() for c in t.tool_calls]
    assert [r.content for r in fork.reasoning_steps] == ["thinking"]
    assert fork.config == t.config and fork.config.system_prompt == "Be terse."
    run(shell, "fork t --at 1")  # before the tool call: none of it comes along
    assert registry.active.tool_calls == [] and registry.active.reasoning_steps == []


def test_a_reply_streaming_in_is_interrupted_in_the_fork_only(shell, registry) -> None:
    run(shell, "new a")
    a = registry.active
    a.add_message("user", "hello")
    reply = a.add_message("assistant", "half an ans", status="streaming")
    run(shell, "fork a")
    assert contents(registry.active)[-1] == ("assistant", "half an ans", "interrupted")
    assert reply.status == "streaming" and a.messages[-1] is reply


def test_fork_of_a_session_with_dropped_messages(shell, registry) -> None:
    shell.magics_manager.registry["SessionMagics"].max_messages = 4
    try:
        a = three_exchanges(shell, registry)
        assert a.dropped["messages"] == 2 and a.messages[0].content == "two"
        run(shell, "fork --at 1")
        fork = registry.active
        assert contents(fork) == [("user", "two", "complete")]  # 1 = the oldest kept
        assert fork.parent == Parent(a.id, 1) and fork.dropped["messages"] == 2
        run(shell, "fork a --at 4")
        assert contents(registry.active) == contents(a)
        message = one_line_usage_error(shell, "fork a --at 5")
        assert "use 1 to 4" in message
    finally:
        shell.magics_manager.registry["SessionMagics"].max_messages = 1000


def test_fork_mistakes_are_one_line_and_change_nothing(shell, registry) -> None:
    run(shell, "new a")
    assert "it has no messages" in one_line_usage_error(shell, "fork --at 1")
    chat(shell, "hi")
    for line, words in (
        ("fork --at 0", "use 1 to 2"),
        ("fork --at 3", "use 1 to 2"),
        ("fork a --at x", "--at"),
        ("fork nope", "nope"),
        ("fork a A", "already open"),
        ("fork a b c", "not 3 words"),
        ("fork a 12", "only of digits"),
    ):
        assert words in one_line_usage_error(shell, line)
    assert [s.name for s in registry.sessions] == ["a"]


def test_fork_then_save_and_resume_keeps_parent(shell, registry, workdir, capsys) -> None:
    a = three_exchanges(shell, registry)
    run(shell, "fork a --at 2 branch")
    fork = registry.active
    run(shell, "save")
    plain = orjson.loads((workdir / ".sessions" / f"{fork.id}.json").read_bytes()[126:-2])
    assert plain["parent"] == {"session_id": a.id, "message": 2}
    run(shell, "close branch")
    run(shell, "resume branch")
    resumed = registry.active
    assert resumed is not fork and resumed.id == fork.id
    assert resumed.parent == Parent(a.id, 2) and contents(resumed) == contents(a)[:2]
    capsys.readouterr()
    print(run(shell, "show"))
    assert "Forked from 'a' at message 2." in capsys.readouterr().out
    run(shell, "close a")
    assert f"Forked from session {a.id} at message 2." in str(run(shell, "show"))
    markdown = run(shell, "show")._repr_markdown_()
    assert f"Forked from session {a.id} at message 2" in markdown


# -- retry -----------------------------------------------------------------------------------


def test_retry_twice_keeps_both_old_replies_out_of_the_context(
    shell, registry, chat_server, capsys
) -> None:
    cell(shell, f"%session new r --provider openai --model m --base-url {chat_server.url}")
    chat_server.push(sse.reply("Paris."), sse.reply("first answer"))
    chat(shell, "Capital of France?")
    chat(shell, "And of Spain?")
    chat_server.push(sse.reply("second answer"), sse.reply("Madrid."))
    capsys.readouterr()
    run(shell, "retry")
    run(shell, "retry")
    assert capsys.readouterr().out == "second answer\nMadrid.\n"
    r = registry.active
    assert contents(r) == [
        ("user", "Capital of France?", "complete"),
        ("assistant", "Paris.", "complete"),
        ("user", "And of Spain?", "complete"),
        ("assistant", "first answer", "superseded"),
        ("assistant", "second answer", "superseded"),
        ("assistant", "Madrid.", "complete"),
    ]
    expected_context = [
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
        ("user", "And of Spain?"),
    ]
    for request in chat_server.requests[2:]:  # both retries
        sent = [(m["role"], m["content"]) for m in request["messages"] if m["role"] != "system"]
        assert sent == expected_context
    chat_server.push(sse.reply("ok"))
    chat(shell, "Thanks")
    sent = [m["content"] for m in chat_server.requests[-1]["messages"]]
    assert "first answer" not in sent and "second answer" not in sent and "Madrid." in sent
    # folded in show (text and Markdown) and in the Markdown export
    text = str(run(shell, "show"))
    assert "first answer" not in text and text.count("superseded reply, replaced by retry") == 2
    markdown = run(shell, "show")._repr_markdown_()
    assert markdown.count("<summary>Superseded reply (replaced by retry)</summary>") == 2


def test_retry_after_a_failed_reply_and_with_nothing_to_retry(
    shell, registry, chat_server, capsys
) -> None:
    cell(shell, f"%session new f --provider openai --model m --base-url {chat_server.url}")
    assert "Nothing to retry" in one_line_usage_error(shell, "retry")
    chat_server.push(sse.Status(500, "boom"), sse.reply("fine"))
    cell(shell, "%chat hello")
    capsys.readouterr()
    run(shell, "retry")
    assert contents(registry.active) == [
        ("user", "hello", "complete"),
        ("assistant", "", "superseded"),
        ("assistant", "fine", "complete"),
    ]


def test_retry_with_the_offline_provider_answers_the_same_question(shell, registry) -> None:
    run(shell, "new o")
    chat(shell, "hello")
    run(shell, "retry")
    o = registry.active
    assert [m.status for m in o.messages] == ["complete", "superseded", "complete"]
    # the new reply saw only the user message as context, as the first one did
    assert o.messages[1].content == o.messages[2].content
    assert "I received 0 earlier messages" in o.messages[2].content


# -- undo ------------------------------------------------------------------------------------


def test_undo_after_a_failed_reply(shell, registry, chat_server, capsys) -> None:
    cell(shell, f"%session new u --provider openai --model m --base-url {chat_server.url}")
    chat_server.push(sse.reply("ok"), sse.Status(500, "boom"))
    chat(shell, "first")
    cell(shell, "%chat second {x}")
    assert contents(registry.active)[-1] == ("assistant", "", "error")
    capsys.readouterr()
    run(shell, "undo")
    out = capsys.readouterr().out
    assert out == (
        "Removed the last exchange of 'u' (your message and 1 reply). Your message was:\n"
        "second {x}\n"
    )
    assert contents(registry.active) == [
        ("user", "first", "complete"),
        ("assistant", "ok", "complete"),
    ]
    assert registry.active.dirty


def test_undo_after_code_gives_back_only_what_was_typed(shell, registry, capsys) -> None:
    """``%chat --code`` adds an instruction to the message it sends; undo gives back the
    user's own words, to send again."""
    run(shell, "new c")
    cell(shell, "%chat --code plot a sine wave")
    assert registry.active.messages[0].content != "plot a sine wave"  # the instruction was sent
    capsys.readouterr()
    run(shell, "undo")
    assert capsys.readouterr().out.endswith("Your message was:\nplot a sine wave\n")


def test_undo_removes_tool_calls_and_reasoning_of_the_exchange(shell, registry) -> None:
    run(shell, "new t")
    chat(shell, "hello")
    chat(shell, "list the variables")
    t = registry.active
    assert len(t.tool_calls) == 1 and len(t.messages) == 6
    t.add_reasoning_step("kept", t.messages[1].id)
    t.add_reasoning_step("removed", t.messages[3].id)
    run(shell, "undo t")
    assert [m.role for m in t.messages] == ["user", "assistant"] and t.messages[
        0
    ].content == "hello"
    assert t.tool_calls == [] and [r.content for r in t.reasoning_steps] == ["kept"]
    run(shell, "undo")
    assert len(t.messages) == 0
    assert "Nothing to undo" in one_line_usage_error(shell, "undo")


def test_exports_fold_superseded_replies_and_name_the_parent(shell, registry, workdir) -> None:
    run(shell, "new x")
    chat(shell, "hello")
    run(shell, "retry")
    run(shell, "fork x --at 3 y")
    run(shell, "export y --format md")
    markdown = (workdir / "y.md").read_text()
    assert markdown.count("<summary>Superseded reply (replaced by retry)</summary>") == 1
    assert "*Forked from 'x' at message 3.*" in markdown
    run(shell, "export y --format json")
    document = orjson.loads((workdir / "y.json").read_bytes())
    assert [m["status"] for m in document["messages"]] == ["complete", "superseded", "complete"]


def test_undo_and_retry_refuse_while_a_reply_streams_in(shell, registry) -> None:
    run(shell, "new b")
    chat(shell, "hi")
    b = registry.active
    b.begin_answer()  # what an exchange does while its reply streams in
    try:
        assert "still answering" in one_line_usage_error(shell, "undo")
        assert "still answering" in one_line_usage_error(shell, "retry")
    finally:
        b.end_answer()
    assert [m.status for m in b.messages] == ["complete", "complete"]
