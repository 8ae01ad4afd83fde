"""The registry: creation, limits, names, targets, switching, closing, observers, threads."""

from __future__ import annotations

import threading

import pytest

from jido_magics.core import (
    AmbiguousTarget,
    DuplicateName,
    InvalidName,
    NoActiveSession,
    Registry,
    RegistryEvent,
    Session,
    SessionConfig,
    SessionLimitReached,
    SessionNotFound,
)


@pytest.fixture
def reg() -> Registry:
    """Four sessions with fixed ids, so no random id can match a target a test expects to miss."""
    r = Registry()
    for number, name in enumerate(("alpha", "alps", "beta", "My Chat"), start=1):
        r.add(Session(name, id=f"fixed{number}"))
    return r


def test_create_activates_and_keeps_creation_order() -> None:
    r = Registry()
    a = r.create("a")
    b = r.create("b")
    assert r.active is b and r.sessions == (a, b)
    c = r.create("c", activate=False)
    assert r.active is b and r.sessions[-1] is c


def test_default_names_fill_the_first_free_number() -> None:
    r = Registry()
    assert [r.create().name for _ in range(3)] == ["session-1", "session-2", "session-3"]
    r.close("session-2")
    assert r.create().name == "session-2"


def test_create_with_settings() -> None:
    s = Registry().create("x", provider="openai", model="gpt-4o-mini")
    assert (s.config.provider, s.config.model) == ("openai", "gpt-4o-mini")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (1, "alpha"),
        ("2", "alps"),
        (" 3 ", "beta"),
        ("ALPHA", "alpha"),
        ("my chat", "My Chat"),
        ("bet", "beta"),  # "t" is not hex, so no random id can match
        ("my", "My Chat"),
        ("alph", "alpha"),
    ],
)
def test_targets(reg: Registry, target: int | str, expected: str) -> None:
    assert reg.get(target).name == expected


def test_target_by_exact_id_and_id_prefix() -> None:
    r = Registry()
    r.add(Session("alpha", id="f00dcafe"))
    beta = r.add(Session("beta", id="c0ffee42"))
    assert r.get("c0ffee42") is beta
    assert r.get("c0f") is beta
    assert r.get("C0FFEE") is beta  # prefixes are case-insensitive


def test_exact_name_wins_over_prefix() -> None:
    r = Registry()
    r.create("al")
    r.create("alpha")
    assert r.get("al").name == "al"


def test_ambiguous_prefix_lists_candidates(reg: Registry) -> None:
    with pytest.raises(AmbiguousTarget) as info:
        reg.get("al")
    assert str(info.value) == (
        "Ambiguous session 'al': matches 'alpha', 'alps'; type more of the name or use its index."
    )


@pytest.mark.parametrize("target", [0, 5, "9", "zzz", "", "  ", "-1"])
def test_unknown_targets(reg: Registry, target: int | str) -> None:
    with pytest.raises(SessionNotFound) as info:
        reg.get(target)
    assert "\n" not in str(info.value)


def test_get_without_target_is_the_active_one(reg: Registry) -> None:
    assert reg.get() is reg.active
    with pytest.raises(NoActiveSession):
        Registry().get()


def test_switch_is_by_target_and_needs_sessions(reg: Registry) -> None:
    assert reg.switch("alps") is reg.active
    with pytest.raises(SessionNotFound):
        Registry().switch("x")


def test_eleventh_session_is_refused_without_change() -> None:
    r = Registry()
    for i in range(10):
        r.create(f"s{i}")
    active = r.active
    with pytest.raises(SessionLimitReached) as info:
        r.create("one more")
    assert "close one first" in str(info.value)
    assert len(r) == 10 and r.active is active


def test_max_sessions_is_configurable() -> None:
    r = Registry(max_sessions=2)
    r.create("a")
    r.create("b")
    with pytest.raises(SessionLimitReached):
        r.create("c")


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", InvalidName),
        ("   ", InvalidName),
        ("x" * 51, InvalidName),
        ("tab\there", InvalidName),
        ("ALPHA", DuplicateName),
        ("alpha ", DuplicateName),
    ],
)
def test_bad_names_change_nothing(reg: Registry, name: str, error: type[Exception]) -> None:
    before = (reg.sessions, reg.active)
    with pytest.raises(error):
        reg.create(name)
    with pytest.raises(error):
        reg.rename(name, "beta")
    assert (reg.sessions, reg.active) == before
    assert reg.get("beta").name == "beta"


def test_fifty_character_name_is_fine() -> None:
    assert Registry().create("x" * 50).name == "x" * 50


def test_rename_keeps_identity_and_allows_case_change(reg: Registry) -> None:
    alpha = reg.get("alpha")
    reg.rename("Alpha", "alpha")
    assert reg.get("Alpha") is alpha and alpha.name == "Alpha"
    reg.rename("first")
    assert reg.active.name == "first"


def test_close_picks_the_next_neighbour(reg: Registry) -> None:
    reg.switch("alps")
    closed = reg.close()
    assert closed.name == "alps" and reg.active.name == "beta"
    reg.close("My Chat")
    assert reg.active.name == "beta"
    reg.close("beta")
    assert reg.active.name == "alpha"
    reg.close()
    assert reg.active is None and reg.sessions == ()


def test_close_hook_can_veto(reg: Registry) -> None:
    def refuse(session: Session) -> None:
        raise RuntimeError("disk full")

    remove = reg.add_close_hook(refuse)
    with pytest.raises(RuntimeError):
        reg.close("beta")
    assert reg.get("beta")
    reg.close("beta", run_hooks=False)
    remove()
    reg.close("alps")
    assert [s.name for s in reg.sessions] == ["alpha", "My Chat"]


def test_add_opens_an_existing_session() -> None:
    r = Registry()
    s = Session("restored", id="abc123")
    r.add(s)
    assert r.active is s and r.get("abc123") is s
    with pytest.raises(DuplicateName):
        r.add(Session("restored"))
    with pytest.raises(DuplicateName):
        r.add(Session("other", id="abc123"))


def test_observers_see_changes_from_any_side(reg: Registry) -> None:
    events: list[tuple[str, str | None]] = []

    def observe(event: RegistryEvent) -> None:
        events.append((event.kind, event.session.name if event.session else None))

    unsubscribe = reg.subscribe(observe)
    s = reg.create("gamma")
    reg.switch("alpha")
    reg.switch("alpha")  # no change, no event
    reg.rename("ALPHA")
    s.add_message("user", "hi")
    reg.close("gamma")
    unsubscribe()
    reg.create("delta")
    assert events == [
        ("created", "gamma"),
        ("switched", "gamma"),
        ("switched", "alpha"),
        ("renamed", "ALPHA"),
        ("message", "gamma"),
        ("closed", "gamma"),
    ]


def test_a_failing_observer_does_not_break_the_registry(reg: Registry) -> None:
    seen: list[str] = []

    def broken(event: RegistryEvent) -> None:
        raise ValueError("bug")

    reg.subscribe(broken)
    reg.subscribe(lambda e: seen.append(e.kind))
    reg.switch("beta")
    assert reg.active.name == "beta" and seen == ["switched"]


def test_closed_session_no_longer_notifies(reg: Registry) -> None:
    beta = reg.get("beta")
    reg.close("beta")
    seen: list[str] = []
    reg.subscribe(lambda e: seen.append(e.kind))
    beta.add_message("user", "x")
    assert seen == []


def test_threads_switching_and_adding_at_once() -> None:
    r = Registry()
    sessions = [r.create(f"s{i}") for i in range(5)]
    stop = threading.Event()
    errors: list[BaseException] = []
    seen_active: set[str] = set()

    def switcher() -> None:
        try:
            while not stop.is_set():
                for s in sessions:
                    r.switch(s.id)
                    seen_active.add(r.active.id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def writer(s: Session) -> None:
        try:
            for i in range(300):
                s.add_message("user", str(i))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    switchers = [threading.Thread(target=switcher) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(s,)) for s in sessions]
    for t in switchers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in switchers:
        t.join()
    assert errors == []
    assert all([m.content for m in s.messages] == [str(i) for i in range(300)] for s in sessions)
    assert seen_active <= {s.id for s in sessions} and r.active in sessions


def test_an_all_digit_id_is_found_by_id_and_small_numbers_are_indexes() -> None:
    r = Registry()
    r.add(Session("first", id="12345678"))
    r.add(Session("second", id="abcdef01"))  # a random id could start with "7"
    assert r.get("12345678").name == "first"
    assert r.get("2").name == "second"
    assert r.get("1234").name == "first"  # not an index in range: a unique id prefix
    with pytest.raises(SessionNotFound, match="no session number 7"):
        r.get("7")


def test_config_factory_gives_new_sessions_their_settings() -> None:
    r = Registry(config_factory=lambda: SessionConfig(provider="openai", model="m"))
    assert (r.create("a").config.provider, r.create("b").config.model) == ("openai", "m")
    assert r.create("c", model="other").config.model == "other"
    assert r.create("d", config=SessionConfig()).config.provider == "offline"
