"""The session widget, kernel-side, in the real InteractiveShell: sync with the registry in both
directions, paging, the dropped notice, safe rendering of hostile model output, the throttle."""

from __future__ import annotations

import threading
import time
from html.parser import HTMLParser

import pytest
from IPython.utils.capture import capture_output
from magic_helpers import run

from jido_magics.core.page import take_page
from jido_magics.core.session import Session
from jido_magics.interface.extension import extension_for
from jido_magics.ui.render import (
    RenderCache,
    count_messages,
    is_safe_url,
    render_markdown,
    render_page,
)
from jido_magics.ui.throttle import Throttle

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def show_view(shell):
    """``%session ui`` and the view it displayed."""
    with capture_output() as captured:
        run(shell, "ui")
    view = extension_for(shell).session_view
    assert view is not None
    (output,) = captured.outputs
    assert output.data[WIDGET_MIME]["model_id"] == view.widget.model_id
    return view


def labels(view) -> list[str]:
    return [label for label, _ in view.tabs.options]


def fill(session, count: int, prefix: str = "message") -> None:
    for i in range(count):
        session.add_message("user" if i % 2 == 0 else "assistant", f"{prefix} {i}")


# -- the view follows the registry --------------------------------------------------------


def test_ui_shows_one_view_per_kernel(shell, registry) -> None:
    run(shell, "new alpha")
    first = show_view(shell)
    second = show_view(shell)
    assert first is second
    assert labels(first) == ["alpha"]
    assert first.tabs.value == registry.active.id


def test_widget_follows_create_switch_rename_close(shell, registry) -> None:
    view = show_view(shell)
    assert labels(view) == [] and view.tabs.value is None
    assert "No session is open" in view.conversation.value
    run(shell, "new alpha")
    run(shell, "new beta")
    alpha, beta = registry.sessions
    assert labels(view) == ["alpha", "beta"] and view.tabs.value == beta.id
    run(shell, "switch alpha")
    assert view.tabs.value == alpha.id and view.session is alpha
    run(shell, "rename first")
    assert labels(view) == ["first", "beta"] and view.tabs.value == alpha.id
    run(shell, "close --no-save")
    assert labels(view) == ["beta"] and view.tabs.value == beta.id and view.session is beta
    run(shell, "close --no-save")
    assert labels(view) == [] and view.tabs.value is None and view.session is None
    assert view.save_button.disabled and view.close_button.disabled


def test_magic_switch_moves_selection_and_page(shell, registry) -> None:
    run(shell, "new alpha")
    registry.active.add_message("user", "alpha's question")
    run(shell, "new beta")
    registry.active.add_message("user", "beta's question")
    view = show_view(shell)
    assert "beta's question" in view.conversation.value
    run(shell, "switch 1")
    assert view.tabs.value == registry.get("alpha").id
    assert "alpha's question" in view.conversation.value
    assert "beta's" not in view.conversation.value


def test_clicking_a_session_switches_the_registry(shell, registry) -> None:
    run(shell, "new alpha")
    run(shell, "new beta")
    view = show_view(shell)
    alpha = registry.get("alpha")
    view.tabs.value = alpha.id  # what a click in the browser does
    assert registry.active is alpha
    view.tabs.index = 1
    assert registry.active.name == "beta"
    shell.run_cell("%session list")  # the magics see the same active session
    assert registry.get(None).name == "beta"


def test_changes_from_python_and_other_threads_show(shell, registry) -> None:
    view = show_view(shell)
    session = registry.create("from-python")
    assert labels(view) == ["from-python"]
    worker = threading.Thread(target=session.add_message, args=("assistant", "from a thread"))
    worker.start()
    worker.join()
    assert "from a thread" in view.conversation.value
    assert "1/1000 messages" in view.status.value


def test_buttons_new_close_and_errors_in_status(shell, registry) -> None:
    extension_for(shell).magics.max_sessions = 2
    view = show_view(shell)
    view.close_button.click()
    assert "No session is open" in view.last_error
    assert "Error: No session is open" in view.status.value
    view.new_button.click()
    view.new_button.click()
    assert labels(view) == ["session-1", "session-2"] and registry.active.name == "session-2"
    assert view.last_error == ""
    view.new_button.click()  # a third is over the limit: one line in the status, no traceback
    assert "2 sessions are open" in view.last_error and len(registry) == 2
    view.close_button.click()
    assert labels(view) == ["session-1"] and view.last_error == ""


def test_save_button_saves_and_says_what_it_set_aside(shell, registry) -> None:
    run(shell, "new alpha")
    registry.active.add_message("user", "keep me")
    view = show_view(shell)
    view.save_button.click()
    assert view.last_error == "" and not registry.active.dirty
    assert "Saved &#x27;alpha&#x27; (generation 1)." in view.status.value
    assert "saved (gen 1)" in view.status.value
    path = extension_for(shell).store.path_for(registry.active.id)
    path.write_bytes(b"edited by hand\n")
    registry.active.add_message("user", "and me")
    view.save_button.click()
    assert view.last_error == "" and "(generation 2)." in view.status.value
    assert "could not be verified; it was kept as .sessions/" in view.status.value


def test_status_line_shows_model_counts_tokens_and_state(shell, registry) -> None:
    run(shell, "new alpha --provider openai --model gpt-test")
    view = show_view(shell)
    session = registry.active
    session.add_message("user", "hi")
    session.add_reasoning_step("thinking")
    from jido_magics.core.records import Usage

    session.add_usage(Usage(12, 34))
    status = view.status.value
    for part in ("openai/gpt-test", "1/1000 messages", "1/100 reasoning", "0/500 tool calls"):
        assert part in status
    assert "tokens 12 in / 34 out" in status and "not saved" in status


def test_send_from_the_widget_streams_the_offline_reply(shell, registry) -> None:
    run(shell, "new alpha")
    view = show_view(shell)
    view.input.value = "What is in **df**?"
    view.send_button.click()
    session = registry.active
    assert [m.role for m in session.messages] == ["user", "assistant"]
    assert session.messages[1].status == "complete"
    page = view.conversation.value
    assert count_messages(page) == 2
    assert "What is in <strong>df</strong>?" in page and "offline" in page
    assert view.input.value == "" and not view.send_button.disabled and view.last_error == ""


def test_send_needs_text_and_a_session(shell, registry) -> None:
    view = show_view(shell)
    view.input.value = "hello"
    view.send_button.click()
    assert "No session is open" in view.last_error and view.input.value == "hello"
    run(shell, "new alpha")
    view.input.value = "   "
    view.send_button.click()
    assert view.last_error == "Type a message first." and len(registry.active.messages) == 0


def test_unload_closes_the_view_and_stops_observing(shell, registry) -> None:
    from ipywidgets.widgets.widget import _instances as open_widgets

    run(shell, "new alpha")
    before = set(open_widgets)
    view = show_view(shell)
    assert len(open_widgets) > len(before)
    shell.run_line_magic("unload_ext", "jido_magics")
    try:
        assert view.closed and view.widget.comm is None
        assert set(open_widgets) <= before  # every widget, layout and style model closed
        registry.create("after")  # the old registry no longer reaches the closed view
        assert labels(view) == ["alpha"]
    finally:
        shell.run_line_magic("load_ext", "jido_magics")


# -- paging and bounds --------------------------------------------------------------------


def test_paging_older_and_newer(shell, registry) -> None:
    session = registry.create("long")
    fill(session, 120)
    view = show_view(shell)
    assert view.page_label.value == "messages 71–120 of 120" and view.newer_button.disabled
    page = view.conversation.value
    assert count_messages(page) == 50 and "message 119" in page and "message 69<" not in page
    view.older_button.click()
    assert view.page_label.value == "messages 21–70 of 120" and view.offset == 20
    view.older_button.click()
    assert view.page_label.value == "messages 1–50 of 120" and view.older_button.disabled
    assert "message 0<" in view.conversation.value
    session.add_message("user", "new while reading")  # the older page stays put
    assert view.offset == 0
    view.newer_button.click()
    assert view.offset == 50
    view.newer_button.click()
    assert view.page_label.value == "messages 72–121 of 121" and view.newer_button.disabled
    view.older_button.click()
    run(shell, "new other")
    run(shell, "switch long")  # a switch always shows the newest page
    assert view.page_label.value == "messages 72–121 of 121"


def test_dropped_notice_on_the_oldest_page(shell, registry) -> None:
    extension_for(shell).magics.max_messages = 60
    session = registry.create("capped")
    fill(session, 75)
    assert session.dropped["messages"] == 15
    view = show_view(shell)
    assert "earlier messages dropped" not in view.conversation.value  # newest page: 11–60
    assert "60/60 messages (15 dropped)" in view.status.value
    view.older_button.click()
    page = view.conversation.value
    assert "15 earlier messages dropped" in page
    assert page.index("15 earlier messages dropped") < page.index("message 15<")


def test_a_1000_message_session_renders_one_page(shell, registry) -> None:
    big = registry.create("big")
    fill(big, 1000)
    small = registry.create("small")
    fill(small, 10)
    view = show_view(shell)
    assert count_messages(view.conversation.value) == 10
    run(shell, "switch big")
    assert count_messages(view.conversation.value) == 50
    assert view.page_label.value == "messages 951–1000 of 1000"
    assert "message 949<" not in view.conversation.value


def test_snapshot_copies_only_the_page() -> None:
    from jido_magics.core.session import Session

    session = Session("s")
    fill(session, 300)
    page = take_page(session, None, 50)
    assert (page.offset, page.total, len(page.entries)) == (250, 300, 50)
    assert take_page(session, 0, 50).messages[0].content == "message 0"


def test_reasoning_and_tool_calls_fold_under_their_message(shell, registry) -> None:
    session = registry.create("tools")
    session.add_message("user", "how big is df?")
    reply = session.add_message("assistant", "It has 3 rows.")
    session.add_reasoning_step("Look at **df** first.", reply.id)
    call = session.add_tool_call("describe_variable", {"name": "df"}, reply.id)
    session.update_tool_call(call, "completed", "<DataFrame 3x2>")
    view = show_view(shell)
    page = view.conversation.value
    block = page[page.index('<div class="jido-msg jido-assistant') :]
    assert '<details class="jido-reasoning"><summary>Reasoning (1 step)</summary>' in block
    assert "<strong>df</strong>" in block
    assert '<details class="jido-tools"><summary>Tool call (1)</summary>' in block
    assert "describe_variable" in block and "&lt;DataFrame 3x2&gt;" in block
    assert "<DataFrame" not in page


# -- hostile model output -----------------------------------------------------------------

ALLOWED_TAGS = {
    "style", "div", "span", "p", "strong", "em", "code", "pre", "a", "img", "ul", "ol", "li",
    "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br", "table", "thead", "tbody",
    "tr", "th", "td", "s", "details", "summary",
}  # fmt: skip

INJECTIONS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<iframe src='javascript:alert(1)'></iframe>",
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](data:image/png;base64,AAAA)",
    "[click](&#106;avascript:alert(1))",
    "[click](<java\tscript:alert(1)>)",
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    '![x](x" onerror="alert(1))',
    '[t](http://example.com "\\" onclick=\\"alert(1)")',
    '```"><script>alert(1)</script>\ncode\n```',
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "<style>*{display:none}</style>",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_inert(page_html: str, *, allow_style_tags: int = 0) -> None:
    collector = _Collector()
    collector.feed(page_html)
    styles = 0
    for tag, attrs in collector.tags:
        assert tag in ALLOWED_TAGS, (tag, page_html)
        styles += tag == "style"
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, page_html)
            if name in ("href", "src"):
                assert is_safe_url(value or ""), (tag, name, value)
            if name == "style":
                assert "url(" not in (value or "") and tag != "div", (tag, value)
    assert styles == allow_style_tags, page_html


@pytest.mark.parametrize("payload", INJECTIONS)
def test_hostile_markdown_renders_inert(payload: str) -> None:
    assert_inert(render_markdown(payload))


def test_hostile_model_output_is_inert_in_the_widget(shell, registry) -> None:
    session = registry.create("hostile")
    for payload in INJECTIONS:
        session.add_message("assistant", payload)
        session.add_reasoning_step(payload, session.messages[-1].id)
    session.add_tool_call("<script>x</script>", {"<img src=x onerror=1>": "</pre><script>"})
    view = show_view(shell)
    assert_inert(view.conversation.value, allow_style_tags=1)  # only the widget's own style
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in view.conversation.value
    assert_inert(view.status.value)


def test_safe_links_still_work() -> None:
    rendered = render_markdown("[docs](https://example.com/a?b=1) and [rel](./x.md)")
    assert '<a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow"' in rendered
    assert '<a href="./x.md"' in rendered
    table = render_markdown("| a | b |\n|:-:|--:|\n| 1 | 2 |")
    assert '<th style="text-align:center">a</th>' in table
    assert_inert(table)


def test_render_cache_reuses_message_bodies() -> None:
    from jido_magics.core.session import Session

    session = Session("s")
    fill(session, 60)
    cache = RenderCache(max_entries=100)
    first = render_page(take_page(session, None), cache)
    assert len(cache) == 50
    assert render_page(take_page(session, None), cache) == first
    session.append_text(session.messages[-1], " more")  # changed text misses the cache
    assert "message 59 more" in render_page(take_page(session, None), cache)
    assert count_messages(render_page(take_page(Session("empty")))) == 0


# -- throttle -----------------------------------------------------------------------------


class FakeTime:
    """A clock the test moves and a scheduler whose callbacks the test fires."""

    def __init__(self) -> None:
        self.now = 100.0
        self.scheduled: list[tuple[float, object, list[bool]]] = []

    def clock(self) -> float:
        return self.now

    def schedule(self, delay: float, callback):
        cancelled = [False]
        self.scheduled.append((delay, callback, cancelled))

        class Handle:
            def cancel(self) -> None:
                cancelled[0] = True

        return Handle()

    def fire(self) -> int:
        """Advance to and run every due, uncancelled callback; returns how many ran."""
        due, self.scheduled = self.scheduled, []
        ran = 0
        for delay, callback, cancelled in due:
            self.now += delay
            if not cancelled[0]:
                callback()
                ran += 1
        return ran


def test_throttle_runs_first_call_then_one_trailing_run() -> None:
    fake = FakeTime()
    runs: list[float] = []
    throttle = Throttle(
        lambda: runs.append(fake.now), 0.05, clock=fake.clock, schedule=fake.schedule
    )
    throttle()
    assert runs == [100.0]
    fake.now += 0.01
    for _ in range(20):
        throttle()  # a burst within the interval: one trailing run scheduled
    assert runs == [100.0] and len(fake.scheduled) == 1 and throttle.pending
    assert fake.scheduled[0][0] == pytest.approx(0.04)
    assert fake.fire() == 1 and runs == [100.0, pytest.approx(100.05)]
    assert not throttle.pending
    fake.now += 0.2
    throttle()  # quiet for longer than the interval: runs at once
    assert len(runs) == 3 and fake.scheduled == []


def test_throttle_flush_cancel_and_ran() -> None:
    fake = FakeTime()
    runs: list[int] = []
    throttle = Throttle(lambda: runs.append(1), 0.05, clock=fake.clock, schedule=fake.schedule)
    throttle()
    throttle()
    assert throttle.flush() and len(runs) == 2 and not throttle.flush()
    assert fake.fire() == 0  # the flushed timer does nothing
    throttle()
    throttle.cancel()
    assert fake.fire() == 0 and len(runs) == 2
    fake.now += 1
    throttle()
    assert len(runs) == 3
    throttle()
    throttle.ran()  # an immediate render elsewhere replaces the trailing one
    assert fake.fire() == 0 and len(runs) == 3


def test_streaming_updates_are_throttled_with_a_trailing_render(shell, registry) -> None:
    from jido_magics.ui.view import SessionView

    fake = FakeTime()
    session = registry.create("stream")
    view = SessionView(registry, clock=fake.clock, schedule=fake.schedule)
    try:
        reply = session.add_message("assistant", "", status="streaming")
        assert "streaming…" in view.conversation.value  # a new message renders at once
        for word in ("one ", "two ", "three ", "four"):
            session.append_text(reply, word)  # no time passes: deltas wait for one render
        assert "one" not in view.conversation.value and len(fake.scheduled) == 1
        fake.fire()
        assert "one two three four" in view.conversation.value
        fake.now += 1
        session.append_text(reply, " five")  # quiet for longer than the interval: at once
        assert "four five" in view.conversation.value and fake.scheduled == []
        session.append_text(reply, "!")  # still within the interval of the trailing run
        session.finish_message(reply)
        session.mark_exchange_complete()  # the end of an exchange renders at once
        assert "five!" in view.conversation.value and "streaming…" not in view.conversation.value
        assert fake.fire() == 0
        other = registry.create("other")  # a switch renders at once, never throttled
        assert view.session is other and "No messages yet" in view.conversation.value
    finally:
        view.close()


# -- prewarming -----------------------------------------------------------------------------


def test_other_sessions_pages_are_prewarmed(shell, registry) -> None:
    first = registry.create("first")
    fill(first, 80, "first")
    second = registry.create("second")
    fill(second, 80, "second")
    view = show_view(shell)
    assert view.wait_prewarmed(60)
    cache = view.render_cache
    assert len(cache) == 100  # the newest page of both sessions, nothing older
    run(shell, "switch first")
    assert len(cache) == 100 and "first 79" in view.conversation.value


def test_prewarmer_renders_each_requested_session_once() -> None:
    from jido_magics.core.session import Session
    from jido_magics.ui.prewarm import Prewarmer

    gate = threading.Event()
    warmed: list[str] = []

    def warm(session: Session) -> None:
        gate.wait(10)
        warmed.append(session.name)

    warmer = Prewarmer(warm)
    a, b = Session("a"), Session("b")
    warmer.request([a])
    warmer.request([b, b, a])  # queued while "a" renders: each renders once more at most
    assert not warmer.wait(0.01)
    gate.set()
    assert warmer.wait(10)
    assert sorted(warmed) in (["a", "a", "b"], ["a", "b"])
    warmer.stop()
    warmer.request([a])
    assert warmer.wait(1) and len(warmed) <= 3


# -- sending to a real chat-completions server and from %%chat ---------------------------------


@pytest.fixture
def remote(registry, chat_server):
    return registry.create(
        "remote", provider="openai", model="m-1", base_url=chat_server.url, api_key="sk-test"
    )


def test_widget_send_shows_reasoning_folded_and_hostile_reply_inert(shell, remote, chat_server):
    import sse_server as sse

    chat_server.push(
        sse.Stream(
            [
                sse.reasoning("Let me *think*."),
                sse.content("<img src=x onerror=alert(1)> and "),
                sse.content("[a](javascript:alert(1)) **done**"),
                sse.finish(),
                sse.usage(7, 5),
            ]
        )
    )
    view = show_view(shell)
    view.input.value = "Say something nasty."
    view.send_button.click()
    page = view.conversation.value
    assert view.last_error == "" and count_messages(page) == 2
    assert '<summary>Reasoning (1 step)</summary><div class="jido-step"><p>Let me <em>' in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<strong>done</strong>" in page
    assert_inert(page, allow_style_tags=1)
    assert "openai/m-1" in view.status.value and "tokens 7 in / 5 out" in view.status.value


def test_widget_send_failure_is_one_line_in_the_status(shell, remote, chat_server) -> None:
    import sse_server as sse

    chat_server.push(sse.Status(500, "the model fell over"))
    view = show_view(shell)
    view.input.value = "hello?"
    view.send_button.click()
    assert view.last_error and "\n" not in view.last_error
    assert "Error: " in view.status.value and "Traceback" not in view.status.value
    assert [m.status for m in remote.messages] == ["complete", "error"]
    assert view.input.value == "" and not view.send_button.disabled  # the prompt was kept
    assert "error" in view.conversation.value
    chat_server.push(sse.reply("Back again."))
    view.send("retry")  # the session stays usable; success clears the error
    assert view.last_error == "" and "Back again." in view.conversation.value


def test_chat_magic_reply_shows_in_the_widget(shell, registry) -> None:
    run(shell, "new alpha")
    run(shell, "new beta")
    view = show_view(shell)
    shell.run_cell("%%chat\nHello from a cell")
    assert "Hello from a cell" in view.conversation.value
    assert count_messages(view.conversation.value) == 2
    shell.run_cell("%chat --session alpha a note for alpha")  # not shown: page unchanged
    assert "a note for alpha" not in view.conversation.value
    assert view.wait_prewarmed(60)
    run(shell, "switch alpha")
    assert "a note for alpha" in view.conversation.value


def test_concurrent_writers_and_switches_end_consistent(shell, registry) -> None:
    first, second = registry.create("first"), registry.create("second")
    view = show_view(shell)
    errors: list[BaseException] = []

    def write(session, tag: str) -> None:
        try:
            for i in range(150):
                session.add_message("user", f"{tag} {i}")
                if i % 10 == 0:
                    reply = session.add_message("assistant", "", status="streaming")
                    session.append_text(reply, f"reply {tag} {i}")
                    session.finish_message(reply)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [
        threading.Thread(target=write, args=(session, f"{session.name}-{n}"))
        for n in range(2)
        for session in (first, second)
    ]
    for worker in workers:
        worker.start()
    for i in range(200):
        registry.switch("first" if i % 2 else "second")
    for worker in workers:
        worker.join()
    view.flush()
    assert not errors
    active = registry.active
    assert view.session is active and view.tabs.value == active.id
    total = len(active.messages)
    newest = active.messages[-1].content

    def shows_the_newest_page() -> bool:
        return (
            view.page_label.value == f"messages {total - 49}–{total} of {total}"
            and newest in view.conversation.value
        )

    # A throttled trailing render may still be on its way from the timer thread.
    deadline = time.monotonic() + 10
    while not shows_the_newest_page() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert shows_the_newest_page(), (view.page_label.value, newest)
