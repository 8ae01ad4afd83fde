"""The thin IPython magics over the core: ``%session`` and ``%%chat``."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import (
    Magics,
    line_cell_magic,
    line_magic,
    magics_class,
    no_var_expand,
)
from traitlets import Bool, Int, TraitError, Unicode, observe, validate

from ..core.controls import visible_controls
from ..core.errors import JidoError, unknown_choice
from ..core.records import Caps
from ..core.registry import DEFAULT_MAX_SESSIONS
from .chat import run_chat
from .commands import command_table
from .extension_settings import ExtensionSettings
from .parsing import split_words

if TYPE_CHECKING:
    from .extension import Extension


MANUAL_HEAD = """Manage named LLM conversation sessions in this kernel.

Usage: %session SUBCOMMAND [ARGS]

A TARGET is a session's 1-based index (see %session list), its id, its name
(case-insensitive), or a unique prefix of a name or id. Without a TARGET a
command acts on the active session. Quote names with spaces: %session new "my chat".

Subcommands:
"""

MANUAL_TAIL = """
Talk to the active session with %%chat (cell) or %chat TEXT (line); see %chat?.

Settings (in an IPython profile, e.g. c.SessionMagics.max_sessions = 10):
max_sessions, max_messages, max_reasoning_steps, max_tool_calls, autosave,
default_provider, default_model, sessions_dir, startup_hint, background_index.
"""


#: Traitlets the extension reads from its ``ExtensionSettings`` (kept current from here).
SETTINGS = tuple(f.name for f in fields(ExtensionSettings))
#: The traitlets' defaults, each said once where it is used without the magics.
_SETTINGS = ExtensionSettings()
_CAPS = Caps()


def session_manual() -> str:
    """The manual of ``%session``, built from the command table."""
    lines = [MANUAL_HEAD]
    for command in command_table().values():
        lines.append(f"  {command.synopsis}")
        lines.append(f"      {command.summary}")
        for detail in filter(None, command.details.splitlines()):
            lines.append(f"      {detail}")
    lines.append(MANUAL_TAIL)
    return "\n".join(lines)


@magics_class
class SessionMagics(Magics):
    """``%session`` and ``%%chat``. Settings are traitlets so IPython profiles configure them."""

    max_sessions = Int(DEFAULT_MAX_SESSIONS, help="How many sessions may be open at once.").tag(
        config=True
    )
    max_messages = Int(_CAPS.max_messages, help="Messages kept per session; older ones drop.").tag(
        config=True
    )
    max_reasoning_steps = Int(
        _CAPS.max_reasoning_steps, help="Reasoning steps kept per session."
    ).tag(config=True)
    max_tool_calls = Int(_CAPS.max_tool_calls, help="Tool calls kept per session.").tag(config=True)
    autosave = Bool(
        _SETTINGS.autosave,
        help="Save changed sessions after every exchange and at exit (a close always saves).",
    ).tag(config=True)
    default_provider = Unicode(
        _SETTINGS.default_provider,
        help="Provider of new sessions (default: $JIDO_MAGICS_PROVIDER, else 'offline').",
    ).tag(config=True)
    default_model = Unicode(
        _SETTINGS.default_model,
        help="Model of new sessions (default: $JIDO_MAGICS_MODEL, else the provider's).",
    ).tag(config=True)
    sessions_dir = Unicode(
        _SETTINGS.sessions_dir, help="Folder for saved sessions (default: beside the notebook)."
    ).tag(config=True)
    startup_hint = Bool(
        _SETTINGS.startup_hint,
        help="At %load_ext, say how many saved sessions are beside the notebook.",
    ).tag(config=True)
    background_index = Bool(
        _SETTINGS.background_index,
        help="Index saved sessions for %session search in a background thread after %load_ext, "
        "saves and loads (off: a search indexes what it needs when it runs).",
    ).tag(config=True)

    def __init__(self, shell: Any, extension: Extension, **kwargs: Any) -> None:
        # Set before the traitlets init: a profile's settings fire the observers during it.
        self.extension = extension
        super().__init__(shell, **kwargs)
        self._apply_limits()
        for name in SETTINGS:
            setattr(extension.settings, name, getattr(self, name))

    # -- settings --------------------------------------------------------------------------

    @validate("max_sessions", "max_messages", "max_reasoning_steps", "max_tool_calls")
    def _check_positive(self, proposal: Any) -> int:
        if proposal["value"] < 1:
            raise TraitError(f"{proposal['trait'].name} must be at least 1.")
        return proposal["value"]

    @observe("max_sessions", "max_messages", "max_reasoning_steps", "max_tool_calls")
    def _limits_changed(self, change: Any) -> None:
        self._apply_limits()

    @observe(*SETTINGS)
    def _setting_changed(self, change: Any) -> None:
        setattr(self.extension.settings, change["name"], change["new"])

    def _apply_limits(self) -> None:
        registry = self.extension.registry
        registry.max_sessions = self.max_sessions
        caps = Caps(self.max_messages, self.max_reasoning_steps, self.max_tool_calls)
        if caps != registry.caps:
            registry.caps = caps

    # -- magics ----------------------------------------------------------------------------

    @line_magic
    def session(self, line: str) -> Any:
        words = split_words_or_usage(line)
        if not words:
            raise UsageError("%session needs a subcommand, e.g. %session new NAME; see %session?.")
        table = command_table()
        command = table.get(words[0])
        if command is None:
            word = visible_controls(words[0][:40])
            raise UsageError(unknown_choice("subcommand", word, table, " (see %session?)"))
        try:
            args = command.parser().parse(words[1:])
            return command.run(self.extension, args)
        except JidoError as exc:
            raise UsageError(visible_controls(str(exc))) from exc

    @no_var_expand  # braces and $ in a prompt are sent as typed; see --interpolate
    @line_cell_magic
    def chat(self, line: str, cell: str | None = None) -> Any:
        """Send a message to the active session and stream the reply.

        Usage:
          %%chat [--session TARGET] [--interpolate] [--code] [--error]
          the cell body is the message
          %chat [OPTIONS] TEXT

        --session TARGET  talk to another open session without switching.
        --interpolate     replace {name} with repr(name) from the namespace; without it,
                          braces are sent as typed.
        --code            ask for code only; the reply is kept in the session and its code
                          (fences stripped, several blocks joined) goes into a new cell
                          below this one (printed in a terminal).
        --error           send the last exception a cell raised (type, message, traceback,
                          the cell's source) with TEXT (default: "Explain this error and
                          how to fix it.").
        With no session open, the first %chat creates one named 'chat'.
        Retry, undo or fork a conversation with %session retry|undo|fork (see %session?).
        """
        try:
            return run_chat(self.extension, line, cell)
        except JidoError as exc:
            raise UsageError(visible_controls(str(exc))) from exc


def split_words_or_usage(line: str) -> list[str]:
    try:
        return split_words(line)
    except JidoError as exc:
        raise UsageError(visible_controls(str(exc))) from exc


SessionMagics.session.__doc__ = session_manual()
