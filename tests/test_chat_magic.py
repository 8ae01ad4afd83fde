"""``%%chat``, ``%chat`` and ``%session config`` in a real InteractiveShell."""

from __future__ import annotations

from typing import Any

import pytest
import sse_server as sse
from IPython.core.error import UsageError
from magic_helpers import one_line_usage_error, run

from jido_magics.agents.events import Done, TextDelta
from jido_magics.agents.providers import register_provider
from jido_magics.agents.providers.offline import LABEL


def cell(shell, source: str):
    """Run ``source`` as a notebook cell would."""
    return shell.run_cell(source, store_history=True)


def one_usage_error(capsys) -> str:
    """The single ``UsageError: ...`` line IPython printed, with no traceback."""
    captured = capsys.readouterr()
    lines = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("UsageError: ")]
    assert len(errors) == 1, lines
    assert "Traceback" not in captured.out + captured.err
    return errors[0].removeprefix("UsageError: ")


# -- %%chat and %chat ----------------------------------------------------------------------


def test_first_chat_creates_a_session_named_chat(shell, registry, capsys) -> None:
    assert registry.active is None
    result = cell(shell, "%%chat\nSummarise what df holds.\n")
    assert result.success and result.result is None
    out = capsys.readouterr().out
    assert out.startswith("(Created session 'chat', provider offline.)\n")
    assert LABEL in out and "\u201cSummarise what df holds.\u201d" in out
    session = registry.active
    assert session.name == "chat"
    assert [(m.role, m.status) for m in session.messages] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert session.messages[0].content == "Summarise what df holds."
    assert out.rstrip("\n").endswith(session.messages[1].content)


def test_line_chat_keeps_quotes_braces_and_dollars(shell, registry, capsys) -> None:
    cell(shell, "x = 42")
    cell(shell, "%session new helper")
    cell(shell, '%chat What\'s {x} and $x? "quoted"')
    assert registry.active.messages[0].content == 'What\'s {x} and $x? "quoted"'
    assert "What's {x} and $x?" in capsys.readouterr().out


def test_a_question_mark_at_the_end_is_part_of_the_message(shell, registry, capsys) -> None:
    cell(shell, "%session new q")
    cell(shell, "df = 1\n%chat Which columns of df have missing values?")
    cell(shell, "if True:\n    %chat why?")
    assert [m.content for m in registry.active.messages if m.role == "user"] == [
        "Which columns of df have missing values?",
        "why?",
    ]
    assert "Object `values` not found" not in capsys.readouterr().out


def test_unload_removes_the_input_transform(shell) -> None:
    from jido_magics.interface.chat import protect_chat_lines

    assert protect_chat_lines in shell.input_transformers_cleanup
    shell.run_line_magic("unload_ext", "jido_magics")
    try:
        assert protect_chat_lines not in shell.input_transformers_cleanup
    finally:
        shell.run_line_magic("load_ext", "jido_magics")


def test_braces_are_sent_as_typed_without_interpolate(shell, registry) -> None:
    cell(shell, "df = [1, 2]")
    cell(shell, "%%chat\nformat: {df} and {'a': 1} and {{x}}")
    assert registry.active.messages[0].content == "format: {df} and {'a': 1} and {{x}}"


def test_interpolate_replaces_names_with_their_repr(shell, registry) -> None:
    cell(shell, "df = [1, 2]\nname = 'Ada'\nclass P:\n    size = 3\np = P()")
    cell(shell, "%%chat --interpolate\n{df} {name} {p.size} {{literal}} {'a': 1}")
    assert registry.active.messages[0].content == "[1, 2] 'Ada' 3 {literal} {'a': 1}"
    cell(shell, "%chat --interpolate len {df}")
    assert registry.active.messages[2].content == "len [1, 2]"


def test_interpolating_an_unknown_name_is_one_line_and_sends_nothing(shell, registry, capsys):
    cell(shell, "%%chat --interpolate\nwhat is {missing}?")
    assert "no variable named 'missing'" in one_usage_error(capsys)
    assert registry.sessions == ()  # not even the default session was created


def test_session_option_talks_to_another_session_without_switching(shell, registry) -> None:
    cell(shell, '%session new "other one"')
    cell(shell, "%session new main")
    cell(shell, '%%chat --session "other one"\nhello other')
    cell(shell, "%chat --session=1 and again")
    assert registry.active.name == "main" and len(registry.active.messages) == 0
    other = registry.get("other one")
    assert [m.content for m in other.messages if m.role == "user"] == ["hello other", "and again"]


@pytest.mark.parametrize(
    "source, error",
    [
        ("%%chat --session nope\nhi", "No open session matches 'nope'"),
        ("%%chat --verbose\nhi", "unknown option '--verbose'"),
        ("%%chat --session\nhi", "--session needs a TARGET"),
        ("%%chat extra words\nhi", "write the message in the cell"),
        ("%%chat\n   \n", "Nothing to send"),
        ("%chat", "Nothing to send"),
    ],
)
def test_mistakes_are_one_line_usage_errors(shell, registry, capsys, source, error) -> None:
    cell(shell, "%session new s")
    capsys.readouterr()
    cell(shell, source)
    assert error in one_usage_error(capsys)
    assert len(registry.active.messages) == 0


def test_the_magic_raises_plain_usage_error(shell) -> None:
    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic("chat", "--session nope", "hi")
    assert type(caught.value) is UsageError


def test_reply_streams_into_the_output_as_it_arrives(shell, registry, capsys) -> None:
    seen_while_streaming: list[str] = []

    class Probe:
        name = "probe"

        def check(self, config: Any) -> None:
            pass

        def stream(self, request: Any):
            yield TextDelta("first part, ")
            seen_while_streaming.append(capsys.readouterr().out)  # before the rest exists
            yield TextDelta("second part.")
            yield Done("stop", "probe-1")

    restore = register_provider("probe", Probe)
    try:
        cell(shell, "%session new p --provider probe")
        capsys.readouterr()
        cell(shell, "%chat go")
    finally:
        restore()
    assert seen_while_streaming == ["first part, "]
    assert capsys.readouterr().out == "second part.\n"


def test_interrupt_keeps_the_partial_reply_and_prints_one_line(shell, registry, capsys) -> None:
    class Interrupted:
        name = "interrupted"

        def check(self, config: Any) -> None:
            pass

        def stream(self, request: Any):
            yield TextDelta("so far")
            raise KeyboardInterrupt  # what Ctrl-C does while the socket is read

    restore = register_provider("interrupted", Interrupted)
    try:
        cell(shell, "%session new i --provider interrupted")
        capsys.readouterr()
        result = cell(shell, "%chat go")
    finally:
        restore()
    assert result.success
    out = capsys.readouterr().out
    assert (
        out == "so far\nInterrupted: the partial reply is kept, marked 'interrupted', and saved.\n"
    )
    assert [(m.content, m.status) for m in registry.active.messages] == [
        ("go", "complete"),
        ("so far", "interrupted"),
    ]


# -- against a real OpenAI-compatible server ------------------------------------------------


def test_chat_against_a_local_server_with_reasoning_and_tools(
    shell, registry, chat_server, capsys
) -> None:
    cell(
        shell, f"%session new local --provider openai --model llama3.2 --base-url {chat_server.url}"
    )
    cell(shell, "data = {'a': 1}")
    chat_server.push(
        sse.Stream(
            [
                sse.reasoning("Look at data."),
                sse.tool_call(0, "call_1", "describe_variable", '{"name": "data"}'),
                sse.finish("tool_calls"),
            ]
        ),
        sse.reply("data ", "has one key."),
    )
    capsys.readouterr()
    result = cell(shell, "%%chat\nWhat is in data?")
    assert result.success
    out = capsys.readouterr().out
    assert out == (
        "[reasoning] Look at data.\n"
        "\n"
        '[tool describe_variable({"name": "data"}): completed]\n'
        "\n"
        "data has one key.\n"
    )
    session = registry.active
    assert session.tool_calls[0].result.startswith("name: data\ntype: dict")
    assert session.reasoning_steps[0].content == "Look at data."
    assert chat_server.requests[0]["model"] == "llama3.2"


@pytest.mark.parametrize(
    "response, reason",
    [
        (sse.Status(401, "bad key"), "refused the API key (HTTP 401)"),
        (sse.Status(500, "boom"), "answered HTTP 500: boom"),
        (sse.Stream([sse.content("Half"), "data: {garbage"]), "malformed stream"),
        (sse.Stream([sse.content("Half"), sse.content("!")], drop_after=1), "broke during"),
    ],
)
def test_failures_are_one_line_and_keep_the_session_consistent(
    shell, registry, chat_server, capsys, response, reason
) -> None:
    cell(shell, f"%session new f --provider openai --model m --base-url {chat_server.url}")
    chat_server.push(response)
    capsys.readouterr()
    cell(shell, "%chat hello")
    assert reason in one_usage_error(capsys)
    user, assistant = registry.active.messages
    assert (user.content, assistant.status) == ("hello", "error")
    chat_server.push(sse.reply("ok"))
    cell(shell, "%chat again")
    assert registry.active.messages[-1].content == "ok"


def test_timeout_is_one_line(shell, registry, chat_server, capsys, monkeypatch) -> None:
    monkeypatch.setenv("JIDO_MAGICS_TIMEOUT", "0.3")
    cell(shell, f"%session new t --provider openai --model m --base-url {chat_server.url}")
    chat_server.push(sse.Stall(30))
    capsys.readouterr()
    cell(shell, "%chat hello")
    assert "(timeout)" in one_usage_error(capsys)
    assert registry.active.messages[-1].status == "error"


# -- %session config -------------------------------------------------------------------------


def test_config_shows_settings_without_the_key(shell, registry, capsys) -> None:
    cell(shell, "%session new s")
    cell(shell, "%session config api_key=sk-very-secret-123456")
    capsys.readouterr()
    cell(shell, "%session config")
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines()[1:-1]}
    assert list(rows) == [
        "provider",
        "model",
        "base_url",
        "temperature",
        "max_tokens",
        "system",
        "context_budget",
        "api_key",
    ]
    assert rows["provider"] == "offline" and rows["api_key"] == "set"
    assert rows["context_budget"] == "8192 tokens"
    assert rows["model"] == "(the provider's default)"
    assert "very-secret" not in out
    cell(shell, "%session config provider=openai")
    capsys.readouterr()
    cell(shell, "%session config")
    assert "model           (none: %session config model=NAME)" in capsys.readouterr().out
    assert "very-secret" not in repr(registry.active) + repr(registry.active.config)


def test_config_sets_several_values_with_quotes(shell, registry, capsys) -> None:
    cell(shell, "%session new s")
    capsys.readouterr()
    cell(shell, '%session config temperature=0.2 max_tokens=512 system="You are terse."')
    config = registry.active.config
    assert (config.temperature, config.max_tokens, config.system_prompt) == (
        0.2,
        512,
        "You are terse.",
    )
    assert "Updated session 's'" in capsys.readouterr().out
    cell(shell, "%session config provider=openai model=llama3.2 base_url=http://h:1/v1")
    config = registry.active.config
    assert (config.provider, config.model, config.base_url) == (
        "openai",
        "llama3.2",
        "http://h:1/v1",
    )
    cell(shell, "%session config temperature= system=")
    assert (registry.active.config.temperature, registry.active.config.system_prompt) == (
        None,
        None,
    )


@pytest.mark.parametrize(
    "pairs, error",
    [
        ("temperature=0.5 max_tokens=lots", "'max_tokens' must be a whole number"),
        ("temperature=3 model=x", "'temperature' must be a number from 0 to 2"),
        ("model=x provider=nope", "Unknown provider 'nope'"),
        ("model=x colour=red", "Unknown setting 'colour'"),
        ("model=x base_url=ftp://h", "must start with http://"),
        ("model=x context_budget=10", "at least 64 tokens"),
        ("model", "write KEY=VALUE"),
    ],
)
def test_config_is_all_or_nothing(shell, registry, capsys, pairs, error) -> None:
    cell(shell, "%session new s")
    before = registry.active.config
    capsys.readouterr()
    cell(shell, f"%session config {pairs}")
    assert error in one_usage_error(capsys)
    assert registry.active.config == before and registry.active.config.model is None


def test_config_of_another_session(shell, registry) -> None:
    cell(shell, "%session new a")
    cell(shell, "%session new b")
    cell(shell, "%session config --session a model=m-a")
    assert (registry.get("a").config.model, registry.get("b").config.model) == ("m-a", None)


def test_config_needs_a_session(shell, capsys) -> None:
    cell(shell, "%session config")
    assert "No session is open" in one_usage_error(capsys)


# -- a real kernel ------------------------------------------------------------------------------


def test_interrupting_the_kernel_keeps_the_partial_reply(workdir, chat_server) -> None:
    """Ctrl-C (SIGINT from the kernel manager) while the socket waits for the next chunk."""
    from jupyter_client.manager import start_new_kernel

    chat_server.push(sse.Stream([sse.content("Half a "), sse.content("reply")], stall_after=1))
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(workdir))
    try:
        shown: list[str] = []  # the reply's display, as a front end shows it after updates

        def execute(code: str, *, interrupt_on: str | None = None) -> tuple[str, str]:
            msg_id = client.execute(code)
            out = []
            interrupted = False
            while True:
                msg = client.get_iopub_msg(timeout=60)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
                if msg["msg_type"] in ("display_data", "update_display_data"):
                    shown[:] = [msg["content"]["data"]["text/plain"]]
                    if interrupt_on and interrupt_on in shown[0] and not interrupted:
                        manager.interrupt_kernel()
                        interrupted = True
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            reply = client.get_shell_msg(timeout=60)
            return "".join(out), reply["content"]["status"]

        execute("%load_ext jido_magics")
        execute(f"%session new k --provider openai --model m --base-url {chat_server.url}")
        out, status = execute("%chat Tell me a story?", interrupt_on="Half a ")
        assert status == "ok"
        assert out == "Interrupted: the partial reply is kept, marked 'interrupted', and saved.\n"
        assert shown == ["Half a \n"]
        out, _ = execute(
            "import jido_magics\n"
            "print([(m.content, m.status) for m in jido_magics.get_registry().active.messages])"
        )
        assert out.strip() == "[('Tell me a story?', 'complete'), ('Half a ', 'interrupted')]"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


# -- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, expected",
    [
        ("-1 is odd?", (None, False, "-1 is odd?")),
        ("--interpolate --session 'my chat' hi {x}", ("my chat", True, "hi {x}")),
        ('--session="my chat" "quoted" text', ("my chat", False, '"quoted" text')),
        ("  it's   spaced  ", (None, False, "it's   spaced")),
    ],
)
def test_line_options_are_read_only_at_the_start(line, expected) -> None:
    from jido_magics.interface.chat import parse_chat

    options = parse_chat(line, None)
    assert (options.target, options.interpolate, options.text) == expected


SECRET = "sk-proj-AbCdEfGhIjKlMnOpQrSt0123"


def test_config_errors_never_echo_an_api_key(shell, capsys) -> None:
    """A space after ``api_key=`` (or a forgotten ``api_key=``) left the key as a bare word,
    which the error quoted into the cell output."""
    run(shell, "new s")
    for line in (
        f"config api_key= {SECRET}",
        f"config {SECRET}",
        f"config model=x {SECRET}",
        f"config api_key {SECRET}",
    ):
        message = one_line_usage_error(shell, line)
        assert "KEY=VALUE" in message and SECRET[:12] not in message, message
    # a bare setting name is still quoted, since it helps and cannot be a secret
    assert "'model'" in one_line_usage_error(shell, "config model")
    assert SECRET[:12] not in capsys.readouterr().out


def test_chat_lines_inside_string_literals_are_left_alone(shell) -> None:
    """The ``%chat`` input transform rewrote every line starting with ``%chat``, also inside a
    triple-quoted string, silently changing the user's data; real ``%chat`` lines around such
    strings (apostrophes included) still run."""
    import jido_magics

    source = (
        'doc = """Usage:\n'
        "%chat hello\n"
        '"""\n'
        "other = '''\n"
        "  %chat indented, it's text\n"
        "'''\n"
        "def f():\n"
        '    """Docstring with\n'
        "    %chat inside\n"
        '    """\n'
        "%chat it's a real one\n"
        "text = \"a '''quote''' in a string\"  # and ''' in a comment\n"
        "%chat second real one\n"
    )
    result = shell.run_cell(source, store_history=True)
    assert result.success, result.error_in_exec or result.error_before_exec
    assert shell.user_ns["doc"] == "Usage:\n%chat hello\n"
    assert shell.user_ns["other"] == "\n  %chat indented, it's text\n"
    assert "%chat inside" in shell.user_ns["f"].__doc__
    sent = [m.content for m in jido_magics.get_registry().active.messages if m.role == "user"]
    assert sent == ["it's a real one", "second real one"]
