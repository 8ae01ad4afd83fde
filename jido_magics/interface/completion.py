"""Tab completion for ``%session`` and ``%chat``/``%%chat``: subcommands, options, open
session names (quoted when they need it), export formats and ``config`` keys.

One IPython matcher (matcher API v2) is added to the shell's completer on load and removed on
unload. It only answers on lines that start with those magics, and there it answers alone:
where nothing of ours fits it offers nothing new, never IPython's Python names or magics.
Elsewhere it returns nothing and lets IPython's own matchers work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from IPython.core.completer import SimpleCompletion, context_matcher

from ..agents.config_words import KEYS
from ..agents.providers import provider_names
from ..export import FORMATS
from .chat import CHAT_OPTIONS
from .commands import command_table
from .commands.command import Command

if TYPE_CHECKING:
    from .extension import Extension

MATCHER_ID = "jido_magics.session_matcher"
#: Subcommands whose TARGET names a saved file rather than an open session.
SAVED_TARGETS = frozenset({"resume", "delete"})
#: Values that are file paths: IPython's own path completion answers for them.
PATH_VALUES = frozenset({"PATH", "FILE", "FOLDER", "DIR"})
# ``%session ...``, also as ``x = %session list``; ``%%chat`` only on a cell's first line.
_MAGIC_LINE = re.compile(
    r"^\s*(?:[A-Za-z_][\w.]*\s*=\s*)?(%%?)(session|chat)(?=\s)(.*)$", re.DOTALL
)
_SAFE_WORD = re.compile(r"[A-Za-z0-9_.@%+=:,/-]+")


def split_partial(text: str) -> tuple[list[str], str, str]:
    """Split ``text`` like a shell into the finished words, the word being typed as typed (an
    open quote stays on it) and that word's value.
    ``'switch "my c'`` -> ``(['switch'], '"my c', 'my c')``."""
    words: list[str] = []
    current: list[str] = []  # the word's value, without quotes and escapes
    raw_start: int | None = None
    quote: str | None = None
    i = 0
    while i < len(text):
        char = text[i]
        if not quote and char.isspace():
            if raw_start is not None:
                words.append("".join(current))
                current, raw_start = [], None
        else:
            if raw_start is None:
                raw_start = i
            if char == quote:
                quote = None
            elif not quote and char in "\"'":
                quote = char
            elif char == "\\" and quote != "'" and i + 1 < len(text):
                i += 1  # a backslash keeps the next character, except in single quotes
                current.append(text[i])
            else:
                current.append(char)
        i += 1
    if raw_start is None:
        return words, "", ""
    return words, text[raw_start:], "".join(current)


def quoted(name: str, fragment: str) -> str:
    """``name`` as it must be typed: bare when safe, else in the quote the user opened (or
    double quotes)."""
    quote = fragment[:1] if fragment[:1] in ("'", '"') else ""
    if not quote and _SAFE_WORD.fullmatch(name):
        return name
    if quote == "'" and "'" not in name:
        return f"'{name}'"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _starting_with(candidates: Iterable[str], prefix: str) -> list[str]:
    folded = prefix.casefold()
    return [c for c in candidates if c.casefold().startswith(folded)]


def session_names(extension: Extension, fragment: str) -> list[str]:
    """Open sessions whose name (or id) starts with what was typed, ready to insert."""
    typed = split_partial(fragment)[2].casefold()
    found = []
    for session in extension.registry.sessions:
        if session.name.casefold().startswith(typed):
            found.append(quoted(session.name, fragment))
        elif typed and session.id.casefold().startswith(typed):
            found.append(session.id)
    return found


def saved_names(extension: Extension, fragment: str) -> list[str]:
    """Saved sessions of this notebook whose name (or id) starts with what was typed; a name
    saved more than once is offered as its ids, since the name alone would be ambiguous."""
    try:
        saved = extension.store.saved()
    except Exception:  # an unreadable folder: no completions rather than an error
        return []
    typed = split_partial(fragment)[2].casefold()
    counts: dict[str, int] = {}
    for item in saved:
        if item.name is not None:
            counts[item.name.casefold()] = counts.get(item.name.casefold(), 0) + 1
    found = []
    for item in saved:
        name = item.name
        if name is not None and name.casefold().startswith(typed):
            found.append(quoted(name, fragment) if counts[name.casefold()] == 1 else item.id)
        elif typed and item.id.casefold().startswith(typed):
            found.append(item.id)
    return list(dict.fromkeys(found))


def trashed_names(extension: Extension, fragment: str) -> list[str]:
    """Ids in the trash of this notebook's folder that start with what was typed."""
    from ..persistence.trash import trashed_ids

    return _starting_with(trashed_ids(extension.store), split_partial(fragment)[2])


def _takes_target(command: Command) -> bool:
    first = command.arguments[0] if command.arguments else None
    return first is not None and not first.is_option and first.value_name == "TARGET"


def _value_name(command: Command, option: str) -> str | None:
    """What ``option`` of ``command`` takes: ``PATH`` for ``--output``; None for a flag."""
    arg = command.options.get(option)
    return None if arg is None or arg.flag else arg.value_name


def complete_session_line(
    extension: Extension, words: list[str], fragment: str
) -> list[str] | None:
    """Completions for ``%session`` given the finished words after it and the partial one;
    None where a file path is typed (IPython's own path completion answers there)."""
    table = command_table()
    if not words:
        return _starting_with(table, fragment)
    command = table.get(words[0])
    if command is None:
        return []
    previous = words[-1] if len(words) > 1 else ""
    takes = _value_name(command, previous)
    if takes is not None:
        if takes in PATH_VALUES:
            return None
        return _option_value(extension, previous, fragment, words)
    if fragment.startswith("--") and "=" in fragment:
        option, _, value = fragment.partition("=")
        if _value_name(command, option) in PATH_VALUES:
            return None
        return [f"{option}={v}" for v in _option_value(extension, option, value, words)]
    if fragment.startswith("-"):
        return _starting_with(command.options, fragment)
    typed = _positionals(words[1:], command)
    if command.name == "config":
        return _config_pairs(extension, fragment)
    if command.name == "models":
        return [] if typed else _model_providers(fragment)
    first = command.positionals[0] if command.positionals else None
    if first is not None and first.value_name in PATH_VALUES and not typed:
        return None
    if not _takes_target(command) or typed:
        return []
    if command.name in SAVED_TARGETS:
        return saved_names(extension, fragment)
    if command.name == "undelete":
        return trashed_names(extension, fragment)
    return session_names(extension, fragment)


def _option_value(extension: Extension, option: str, fragment: str, words: list[str]) -> list[str]:
    """Values of ``option`` that start with ``fragment`` (none for free text and paths)."""
    if option == "--session":
        return session_names(extension, fragment)
    if option == "--format":
        return _starting_with(FORMATS, fragment)
    if option == "--provider":
        return _starting_with(_providers(), fragment)
    if option == "--model":
        chosen = words[words.index("--provider") + 1] if "--provider" in words[:-1] else None
        return _models(chosen or extension.registry.config_factory().provider, fragment)
    return []


def _models(provider: str, fragment: str) -> list[str]:
    """Known model names of ``provider`` (``%session models``) that start with ``fragment``."""
    from ..agents.providers.catalog import known_models

    return _starting_with(known_models(provider.strip().lower()), fragment)


def _model_providers(fragment: str) -> list[str]:
    """What ``%session models`` takes: our providers, then LiteLLM's prefixes."""
    from ..agents.providers.catalog import by_family

    return _starting_with([*_providers(), *by_family()], fragment)


def _providers() -> list[str]:
    return list(provider_names())


def _config_pairs(extension: Extension, fragment: str) -> list[str]:
    """``%session config`` keys as ``key=``, provider names after ``provider=`` and the active
    session's provider's model names after ``model=``."""
    key, equals, value = fragment.partition("=")
    if not equals:
        return _starting_with((f"{name}=" for name in KEYS), fragment)
    if key.lower() == "provider":
        return _starting_with((f"provider={name}" for name in _providers()), fragment)
    active = extension.registry.active
    if key.lower() == "model" and active is not None:
        return [f"model={name}" for name in _models(active.config.provider, value)]
    return []


def _positionals(words: list[str], command: Command) -> list[str]:
    """The positional words among ``words`` (options and their values left out)."""
    found = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = _value_name(command, word) is not None
        else:
            found.append(word)
    return found


def complete_chat_line(extension: Extension, words: list[str], fragment: str) -> list[str]:
    """Completions for the options of ``%chat``/``%%chat`` (before the message text)."""
    expecting_target = False
    for word in words:
        if expecting_target:
            expecting_target = False
        elif word == "--session":
            expecting_target = True
        elif not word.startswith("-"):
            return []  # the message text has started
    if expecting_target:
        return session_names(extension, fragment)
    if fragment.startswith("--session="):
        return ["--session=" + name for name in session_names(extension, fragment[10:])]
    if fragment.startswith("-"):
        return _starting_with(CHAT_OPTIONS, fragment)
    return []


def completions_for(extension: Extension, text_until_cursor: str) -> tuple[list[str], str] | None:
    """The completions for a line typed up to the cursor and the fragment they replace, or
    None when the line is not one of our magics."""
    match = _MAGIC_LINE.match(text_until_cursor)
    if match is None:
        return None
    percent, magic, rest = match.groups()
    words, fragment, _ = split_partial(rest)
    if magic == "session":
        found = complete_session_line(extension, words, fragment) if percent == "%" else None
        return None if found is None else (found, fragment)
    return complete_chat_line(extension, words, fragment), fragment


def make_matcher(extension: Extension) -> Any:
    """An IPython v2 matcher bound to ``extension``."""

    @context_matcher(priority=100, identifier=MATCHER_ID)
    def session_matcher(context: Any) -> dict[str, Any]:
        try:
            found = completions_for(extension, context.text_until_cursor)
        except Exception:  # completion must never break typing
            found = None
        if found is None:
            return {"completions": [], "suppress": False}
        texts, fragment = found
        if not texts:
            # Nothing of ours fits. IPython suppresses its own matchers (Python names, other
            # magics) only for a matcher with completions, so offer what was typed: a no-op.
            texts = [fragment]
        return {
            "completions": [SimpleCompletion(text, type="jido_magics") for text in texts],
            "matched_fragment": fragment,
            "suppress": True,
            "ordered": True,
        }

    return session_matcher


def install_completer(extension: Extension) -> None:
    """Add the matcher to the shell's completer; unloading the extension removes it."""
    completer = getattr(extension.shell, "Completer", None)
    if completer is None:  # a shell without completion (e.g. some embedded ones)
        return
    matcher = make_matcher(extension)
    completer.custom_matchers.append(matcher)

    def remove() -> None:
        completer.custom_matchers[:] = [m for m in completer.custom_matchers if m is not matcher]

    extension.add_cleanup(remove)
