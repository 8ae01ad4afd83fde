"""``%session new|list|switch|rename|close``: managing open sessions."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...agents.config_words import checked_provider
from ...core.errors import NO_SESSION_OPEN
from ...core.phrases import model_label, saved_state
from ...core.session import Session
from ...core.text import usd
from ..text_table import TextTable
from .command import OPTIONAL_TARGET, SESSION_OPTION, TARGET, Arg, Command

if TYPE_CHECKING:
    from ..extension import Extension


def _run_new(ext: Extension, args: argparse.Namespace) -> None:
    settings = {
        key: getattr(args, key)
        for key in ("provider", "model", "base_url", "system_prompt")
        if getattr(args, key) is not None
    }
    if "provider" in settings:
        # checked now, not at the first %chat, so a typo is caught where it was made
        settings["provider"] = checked_provider(settings["provider"])
    session = ext.registry.create(args.name, **settings)
    print(f"Created session '{session.name}' ({session.id}), now active. {describe_model(session)}")


def describe_model(session: Session) -> str:
    config = session.config
    return f"Provider: {config.provider}" + (f", model: {config.model}." if config.model else ".")


@dataclass(frozen=True, repr=False)  # the table is its repr
class SessionListing(TextTable):
    """What ``%session list`` returns: its text form is a table of the open sessions."""

    rows: tuple[tuple[str, ...], ...]

    HEADERS = (
        "#",
        "",
        "name",
        "id",
        "messages",
        "reasoning",
        "tools",
        "provider/model",
        "state",
        "cost",
    )

    @classmethod
    def of(cls, sessions: tuple[Session, ...], active: Session | None) -> SessionListing:
        rows = []
        for index, s in enumerate(sessions, 1):
            with s.lock:
                model = model_label(s.config.provider, s.config.model)
                rows.append(
                    (
                        str(index),
                        "*" if s is active else "",
                        s.name,
                        s.id,
                        str(len(s.messages)),
                        str(len(s.reasoning_steps)),
                        str(len(s.tool_calls)),
                        model,
                        saved_state(s),
                        "" if s.usage.cost_usd is None else usd(s.usage.cost_usd),
                    )
                )
        return cls(tuple(rows))

    def empty_text(self) -> str:
        return NO_SESSION_OPEN


def _run_list(ext: Extension, args: argparse.Namespace) -> SessionListing:
    return SessionListing.of(ext.registry.sessions, ext.registry.active)


def _run_switch(ext: Extension, args: argparse.Namespace) -> None:
    session = ext.registry.switch(args.target)
    print(f"Active session: '{session.name}' ({session.id}).")


def _run_rename(ext: Extension, args: argparse.Namespace) -> None:
    session = ext.registry.get(args.target)
    old = session.name
    ext.registry.rename(args.new_name, session.id)
    print(f"Renamed '{old}' to '{session.name}'.")


def _run_close(ext: Extension, args: argparse.Namespace) -> None:
    session = ext.registry.close(args.target, run_hooks=not args.no_save)
    active = ext.registry.active
    after = f" Active session: '{active.name}'." if active else " No session is open now."
    print(f"Closed session '{session.name}'.{after}")


COMMANDS = [
    Command(
        "new",
        (
            Arg("name", nargs="?"),
            Arg("--provider", metavar="P"),
            Arg("--model", metavar="M"),
            Arg("--base-url", metavar="URL"),
            Arg("--system", metavar="TEXT", dest="system_prompt"),
        ),
        "create a session and make it active (quote names with spaces)",
        _run_new,
    ),
    Command(
        "list",
        (),
        "open sessions: index, active mark (*), name, id, counts, provider/model, saved state, "
        "cost (when the provider knows the price)",
        _run_list,
    ),
    Command(
        "switch",
        TARGET,
        "make another session active",
        _run_switch,
    ),
    Command(
        "rename",
        (Arg("new_name"), SESSION_OPTION),
        "rename the active (or named) session; the new name is saved with it",
        _run_rename,
    ),
    Command(
        "close",
        (*OPTIONAL_TARGET, Arg("--no-save", flag=True)),
        "save (unless --no-save) and close the active (or named) session",
        _run_close,
        details=(
            "While a reply streams in, close, rename and delete of that session refuse:\n"
            "wait for the reply or interrupt it."
        ),
    ),
]
