"""The widget's provider and model picker: shows the active session's provider and model and
sets both with the same validation as ``%session config`` (all or nothing).

The model box suggests known names (``%session models``): for ``litellm`` first the provider
prefixes (``anthropic/``…), then, once one is typed, that prefix's names, so the browser never
receives thousands of options. The picker follows the registry: a switch, or a settings change
made anywhere, shows at once; typing is never overwritten by other changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..agents.providers import provider_names
from ..agents.providers.keys import family
from ..core.registry import (
    EVENT_ADDED,
    EVENT_CLOSED,
    EVENT_CREATED,
    EVENT_SWITCHED,
    Registry,
    RegistryEvent,
)
from ..core.session import CHANGE_CONFIG, Session
from .parts import add_classes, button

#: ``act(action)``: run a user action, showing its error as one line (the view's status line).
Act = Callable[[Callable[[], Any]], Any]
_FOLLOW = frozenset({EVENT_SWITCHED, EVENT_CREATED, EVENT_ADDED, EVENT_CLOSED})


class ModelPicker:
    """A provider dropdown, a model box and an Apply button for the active session."""

    def __init__(self, registry: Registry, act: Act) -> None:
        self._registry = registry
        self._act = act
        self.provider = widgets.Dropdown(
            options=list(provider_names()),
            description="Provider",
            layout=widgets.Layout(width="14em"),
        )
        self.model = widgets.Combobox(
            placeholder="model, e.g. anthropic/claude-sonnet-4-5",
            ensure_option=False,
            description="Model",
            layout=widgets.Layout(width="28em"),
        )
        self.apply_button = button(
            "Apply", "check", "Use this provider and model for the active session"
        )
        self.widget = widgets.HBox(
            [self.provider, self.model, self.apply_button],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        add_classes(
            (
                (self.widget, "jido-model-picker"),
                (self.provider, "jido-provider"),
                (self.model, "jido-model"),
                (self.apply_button, "jido-apply-model"),
            )
        )
        self.provider.observe(lambda _: self._suggest(), names="value")
        self.model.observe(lambda _: self._suggest(), names="value")
        self.apply_button.on_click(lambda _: self.apply())
        self._unsubscribe = registry.subscribe(self._on_event)
        self.show(registry.active)

    def show(self, session: Session | None) -> None:
        """Show ``session``'s provider and model (or nothing, disabled, without one)."""
        disabled = session is None
        for part in (self.provider, self.model, self.apply_button):
            part.disabled = disabled
        if session is None:
            self.model.value = ""
            return
        config = session.config
        if config.provider not in self.provider.options:  # registered after the picker
            self.provider.options = list(provider_names())
        self.provider.value = config.provider
        self.model.value = config.model or ""

    def apply(self) -> Session | None:
        """Set the chosen provider and model on the active session, as
        ``%session config provider=P model=M`` would; an error leaves it unchanged."""

        def change() -> Session:
            from ..agents.config_words import apply_settings

            session = self._registry.require_active()
            provider = self.provider.value or ""
            apply_settings(session, [f"provider={provider}", f"model={self.model.value.strip()}"])
            return session

        return self._act(change)

    def close(self) -> None:
        self._unsubscribe()

    def _on_event(self, event: RegistryEvent) -> None:
        active = self._registry.active
        if event.kind in _FOLLOW or (event.kind == CHANGE_CONFIG and event.session is active):
            self.show(active)

    def _suggest(self) -> None:
        """Known names for the chosen provider: prefixes first for ``litellm``."""
        from ..agents.providers.catalog import by_family, known_models

        provider = self.provider.value or ""
        prefix = family(self.model.value)
        if provider == "litellm" and not prefix:
            options = [f"{name}/" for name in by_family()]
        elif provider == "litellm":
            options = list(known_models("litellm", prefix))
        else:
            options = list(known_models(provider))
        if options != list(self.model.options):
            self.model.options = options
