"""The signed session store with real files and real fsync: codec, envelope, keys, store."""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import orjson
import pytest
from reliability import KEY, OTHER_KEY

from jido_magics.core import Caps, InvalidSessionId, Session, SessionConfig, Usage
from jido_magics.persistence import (
    Conflict,
    FileTooLarge,
    ForeignKey,
    InvalidPayload,
    KeyFileError,
    KeyRing,
    MismatchedId,
    NoSavedSession,
    NotASessionFile,
    SessionStore,
    Stale,
    StoreIOError,
    Tampered,
    UnknownVersion,
)
from jido_magics.persistence import reading as reading_module
from jido_magics.persistence.envelope import DOMAIN
from jido_magics.persistence.keys import default_key_path, kid_of, load_or_create_key
from jido_magics.persistence.location import notebook_path, sessions_folder

ENVELOPE = (
    rb'\{"jido_session":1,"kid":"([0-9a-f]{16})","sig":"([0-9a-f]{64})","payload":(\{[^\n]*\})\}\n'
)


def full_session() -> Session:
    """A session using every field: all roles and statuses, usage, reasoning, tools, drops."""
    config = SessionConfig(
        provider="openai",
        model="gpt-4o-mini",
        base_url="http://127.0.0.1:8000/v1",
        temperature=0.3,
        max_tokens=256,
        system_prompt="Be terse. «ünïcode» \n and newlines",
        context_budget=4096,
        api_key="sk-secret-never-written-123",
    )
    s = Session("analysis «1»", config=config, caps=Caps(5, 2, 2))
    for i in range(3):  # 6 messages with a cap of 5: one dropped
        s.add_message("user", f'question {i} with {{braces}} and "quotes"')
        reply = s.add_message(
            "assistant",
            f"answer {i}",
            model="gpt-4o-mini",
            usage=Usage(10 + i, 20 + i),
            status="complete" if i else "error",
        )
        s.add_reasoning_step(f"thinking about {i}", reply.id)
        call = s.add_tool_call("describe", {"name": f"df{i}", "nested": [1, {"a": None}]}, reply.id)
        s.update_tool_call(call, "completed", result=f"result {i}")
        s.add_usage(Usage(10 + i, 20 + i))
    s.add_message("tool", "tool output", tool_call_id=call.id)
    streaming = s.add_message("assistant", "partial", status="streaming")
    s.finish_message(streaming, "interrupted")
    return s


def state_of(s: Session) -> dict:
    """Everything a save must keep (api_key excluded)."""
    return {
        "id": s.id,
        "name": s.name,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "config": s.config.to_dict(),
        "messages": [m.to_dict() for m in s.messages],
        "reasoning_steps": [r.to_dict() for r in s.reasoning_steps],
        "tool_calls": [t.to_dict() for t in s.tool_calls],
        "usage": s.usage.to_dict(),
        "dropped": dict(s.dropped),
        "parent": s.parent,
    }


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert text and "\n" not in text and len(text) < 400, text
    assert KEY.hex() not in text and OTHER_KEY.hex() not in text
    return text


# -- round trip --------------------------------------------------------------------------------


def test_round_trip_keeps_every_field(store: SessionStore) -> None:
    s = full_session()
    assert s.dropped == {"messages": 3, "reasoning_steps": 1, "tool_calls": 1}
    path = store.save(s).path
    assert path == store.folder / f"{s.id}.json" and s.generation == 1 and not s.dirty
    loaded = store.load(s.id)
    assert loaded is not s
    assert state_of(loaded) == state_of(s)
    assert loaded.generation == 1 and not loaded.dirty
    assert loaded.config.api_key is None


def test_order_and_user_prompts_are_kept(store: SessionStore) -> None:
    s = Session("chat")
    for i in range(50):
        s.add_message("user" if i % 2 == 0 else "assistant", f"m{i}")
    store.save(s)
    loaded = store.load(s.id)
    assert [m.content for m in loaded.messages] == [f"m{i}" for i in range(50)]
    assert [m.role for m in loaded.messages][:2] == ["user", "assistant"]


def test_rename_is_persisted(store: SessionStore) -> None:
    from jido_magics.core import Registry

    registry = Registry()
    s = registry.create("draft")
    s.add_message("user", "hi")
    store.save(s)
    registry.rename("final", s.id)
    assert s.dirty
    store.save(s)
    assert store.load(s.id).name == "final" and s.generation == 2


def test_api_key_is_never_written(store: SessionStore) -> None:
    s = full_session()
    data = store.save(s).path.read_bytes()
    assert b"sk-secret" not in data and b"api_key" not in data


def test_file_format_is_the_contract(store: SessionStore) -> None:
    import re

    s = full_session()
    data = store.save(s).path.read_bytes()
    match = re.fullmatch(ENVELOPE, data)
    assert match is not None and data.count(b"\n") == 1
    kid, sig, payload = match.groups()
    assert kid.decode() == hmac.new(KEY, b"jido-kid", hashlib.sha256).hexdigest()[:16]
    assert sig == hmac.new(KEY, DOMAIN + payload, hashlib.sha256).hexdigest().encode()
    assert DOMAIN == b"jido_magics/session/v1\n"
    plain = orjson.loads(payload)
    assert orjson.dumps(plain, option=orjson.OPT_SORT_KEYS) == payload
    assert set(plain) == {
        "format_version",
        "session_id",
        "generation",
        "saved_at",
        "name",
        "created_at",
        "updated_at",
        "config",
        "messages",
        "reasoning_steps",
        "tool_calls",
        "usage",
        "dropped",
        "parent",
    }
    assert (plain["format_version"], plain["session_id"], plain["generation"]) == (2, s.id, 1)
    assert plain["parent"] is None and "cost_usd" not in plain["usage"]
    assert plain["saved_at"].endswith("Z") and plain["messages"][0]["created_at"].endswith("Z")


def test_generation_increases_and_clean_sessions_stay_clean(store: SessionStore) -> None:
    s = Session("g")
    s.add_message("user", "one")
    for expected in (1, 2, 3):
        store.save(s)
        assert (s.generation, s.dirty) == (expected, False)
    loaded = store.load(s.id)
    assert loaded.generation == 3 and not loaded.dirty
    loaded.add_message("user", "two")
    store.save(loaded)
    assert loaded.generation == 4 and [m.content for m in store.load(s.id).messages] == [
        "one",
        "two",
    ]


def test_load_applies_given_caps_else_keeps_everything(store: SessionStore) -> None:
    s = Session("big", caps=Caps(2000, 100, 500))
    for i in range(1500):
        s.add_message("user", str(i))
    store.save(s)
    assert len(store.load(s.id).messages) == 1500
    small = store.load(s.id, caps=Caps(10, 100, 500))
    assert [m.content for m in small.messages] == [str(i) for i in range(1490, 1500)]


def test_only_the_session_file_is_written(store: SessionStore) -> None:
    s = full_session()
    for _ in range(3):
        s.add_message("user", "x")
        store.save(s)
    assert sorted(os.listdir(store.folder)) == [f"{s.id}.json"]


# -- failed saves ------------------------------------------------------------------------------


def _is_dir_fd(fd: int) -> bool:
    return stat.S_ISDIR(os.fstat(fd).st_mode)


FAULTS = {
    "open temp": ("open", lambda path, *a, **k: str(path).endswith(".tmp")),
    "write": ("writev", lambda *a, **k: True),
    "file fsync": ("fsync", lambda fd: not _is_dir_fd(fd)),
    "replace": ("replace", lambda *a, **k: True),
    "folder fsync": ("fsync", _is_dir_fd),
    "close": ("close", lambda fd: not _is_dir_fd(fd)),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO, errno.EACCES])
def test_failed_save_changes_nothing_and_retry_works(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch, fault: str, code: int
) -> None:
    s = full_session()
    path = store.save(s).path
    old = path.read_bytes()
    s.add_message("user", "new text")
    before = (s.generation, s.revision, s.saved_revision, state_of(s))
    function, should_fail = FAULTS[fault]
    real = getattr(os, function)
    hits = []

    def faulty(*args, **kwargs):
        if should_fail(*args, **kwargs):
            hits.append(args)
            if function == "close":
                real(*args, **kwargs)  # close really, then report the error as the OS would
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, function, faulty)
        with pytest.raises(StoreIOError) as info:
            store.save(s)
    assert hits
    assert path.name in one_line(info.value) and "report.sessions" in str(info.value)
    assert path.read_bytes() == old
    assert os.listdir(store.folder) == [path.name]
    assert (s.generation, s.revision, s.saved_revision, state_of(s)) == before and s.dirty
    store.save(s)
    assert s.generation == 2 and not s.dirty
    assert store.load(s.id).messages[-1].content == "new text"


@pytest.mark.parametrize("fault", ["write", "replace", "folder fsync"])
def test_failed_first_save_leaves_no_file(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    s = full_session()
    function, should_fail = FAULTS[fault]
    real = getattr(os, function)

    def faulty(*args, **kwargs):
        if should_fail(*args, **kwargs):
            raise OSError(errno.EIO, "injected")
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, function, faulty)
        with pytest.raises(StoreIOError):
            store.save(s)
    assert os.listdir(store.folder) == [] and s.generation == 0 and s.dirty


# -- bad files -----------------------------------------------------------------------------------


def _flip_payload_byte(data: bytes) -> bytes:
    at = data.index(b"answer 2") + 3
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _edit_sig(data: bytes) -> bytes:
    at = data.index(b'"sig":"') + 7
    return data[:at] + (b"0" if data[at : at + 1] != b"0" else b"1") + data[at + 1 :]


def _edit_kid(data: bytes) -> bytes:
    at = data.index(b'"kid":"') + 7
    return data[:at] + b"0123456789abcdef" + data[at + 16 :]


BAD_FILES = {
    "payload byte": (_flip_payload_byte, Tampered),
    "signature": (_edit_sig, Tampered),
    "kid": (_edit_kid, ForeignKey),
    "truncated": (lambda d: d[: len(d) // 2], NotASessionFile),
    "no newline": (lambda d: d[:-1], NotASessionFile),
    "empty": (lambda d: b"", NotASessionFile),
    "bom": (lambda d: b"\xef\xbb\xbf" + d, NotASessionFile),
    "crlf": (lambda d: d[:-1] + b"\r\n", NotASessionFile),
    "trailing garbage": (lambda d: d + b"x", NotASessionFile),
    "unknown version": (
        lambda d: d.replace(b'"jido_session":1', b'"jido_session":2', 1),
        UnknownVersion,
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_gives_its_typed_error_and_changes_nothing(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    edit, error = BAD_FILES[kind]
    s = full_session()
    path = store.save(s).path
    bad = edit(path.read_bytes())
    path.write_bytes(bad)
    calls = []
    fake = SimpleNamespace(
        loads=lambda data: calls.append(data) or orjson.loads(data),
        JSONDecodeError=orjson.JSONDecodeError,
    )
    monkeypatch.setattr(reading_module, "orjson", fake)
    fresh = SessionStore(store.folder, keys=store.keys)  # a second kernel, same key
    for candidate in (store, fresh):
        with pytest.raises(error) as info:
            candidate.load(s.id)
        text = one_line(info.value)
        assert f"report.sessions/{s.id}.json" in text
    assert path.read_bytes() == bad
    assert calls == [], "the parser ran on a file whose MAC failed"
    assert os.listdir(store.folder) == [path.name]


def test_parser_runs_once_on_a_good_file(store: SessionStore, monkeypatch) -> None:
    s = full_session()
    store.save(s)
    calls = []
    fake = SimpleNamespace(
        loads=lambda data: calls.append(1) or orjson.loads(data),
        JSONDecodeError=orjson.JSONDecodeError,
    )
    monkeypatch.setattr(reading_module, "orjson", fake)
    store.load(s.id)
    assert calls == [1]


def test_foreign_key_message_names_the_kid_and_trust(folder: Path, keys: KeyRing) -> None:
    theirs = SessionStore(folder, keys=KeyRing([OTHER_KEY]))
    s = full_session()
    path = theirs.save(s).path
    with pytest.raises(ForeignKey) as info:
        SessionStore(folder, keys=keys).load(s.id)
    text = one_line(info.value)
    assert "signed with a different key" in text and kid_of(OTHER_KEY) in text
    assert "%session trust" in text and "tampered" not in text
    assert info.value.kid == kid_of(OTHER_KEY) and path.exists()


def test_copy_under_another_id_is_refused(store: SessionStore) -> None:
    s = full_session()
    path = store.save(s).path
    copy = store.folder / "other-id.json"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(MismatchedId) as info:
        store.load("other-id")
    assert s.id in one_line(info.value) and "other-id.json" in str(info.value)
    assert copy.read_bytes() == path.read_bytes()


def test_older_generation_is_stale_even_after_close(store: SessionStore) -> None:
    s = full_session()
    path = store.save(s).path
    first = path.read_bytes()
    s.add_message("user", "later")
    store.save(s)
    del s  # "closed": the store still remembers generation 2
    path.write_bytes(first)
    with pytest.raises(Stale) as info:
        store.load(path.stem)
    assert "generation 1" in one_line(info.value) and "generation 2" in str(info.value)
    assert path.read_bytes() == first
    # Another kernel never saw generation 2 and may load it.
    assert SessionStore(store.folder, keys=store.keys).load(path.stem).generation == 1


def test_valid_mac_over_bad_payloads(store: SessionStore, keys: KeyRing) -> None:
    from jido_magics.persistence.envelope import seal

    store.folder.mkdir(parents=True)
    good = orjson.loads(seal(keys, b"{}")[126:-2])
    assert good == {}
    cases = {
        "notjson": (b"{not json}", InvalidPayload),
        "nan": (b'{"a":NaN}', InvalidPayload),
        "missing": (b'{"format_version":1}', InvalidPayload),
        "noversion": (b'{"generation":1}', InvalidPayload),
        "textversion": (b'{"format_version":"1"}', InvalidPayload),
        "version": (b'{"format_version":7}', UnknownVersion),
    }
    for session_id, (payload, error) in cases.items():
        (store.folder / f"{session_id}.json").write_bytes(seal(keys, payload))
        with pytest.raises(error):
            store.load(session_id)
    s = full_session()
    plain = orjson.loads(store.save(s).path.read_bytes()[126:-2])
    for field, value in [
        ("messages", [{"id": "x"}]),
        ("name", ""),
        ("generation", 0),
        ("generation", 2**64 - 1),
        ("usage", {"input_tokens": 2**53, "output_tokens": 0}),
        ("created_at", "yesterday"),
        ("dropped", {"messages": -1, "reasoning_steps": 0, "tool_calls": 0}),
        ("config", {"provider": "openai", "api_key": "sk-x"}),
        ("usage", {"input_tokens": True, "output_tokens": 0}),
    ]:
        edited = dict(plain, **{field: value})
        payload = orjson.dumps(edited, option=orjson.OPT_SORT_KEYS)
        store.path_for(s.id).write_bytes(seal(keys, payload))
        with pytest.raises(InvalidPayload) as info:
            store.load(s.id)
        one_line(info.value)


def test_signed_but_not_canonical_payloads(store: SessionStore, keys: KeyRing) -> None:
    from jido_magics.persistence.envelope import seal

    s = full_session()
    payload = store.save(s).path.read_bytes()[126:-2]
    edits = {
        "duplicate key": payload.replace(b'{"config":', b'{"name":"evil","config":', 1),
        "spacing": payload.replace(b'"generation":1', b'"generation": 1', 1),
        "escape": payload.replace(b"answer 2", b"answer \\u0032", 1),
    }
    for kind, edited in edits.items():
        assert edited != payload, kind
        store.path_for(s.id).write_bytes(seal(keys, edited))
        with pytest.raises(InvalidPayload) as info:
            store.load(s.id)
        assert "canonical" in one_line(info.value), kind


def test_save_sets_aside_a_signed_file_that_would_not_load(store: SessionStore, keys) -> None:
    from jido_magics.persistence.envelope import seal

    s = full_session()
    plain = orjson.loads(store.save(s).path.read_bytes()[126:-2])
    bad = seal(keys, orjson.dumps(dict(plain, name="a\x00b"), option=orjson.OPT_SORT_KEYS))
    store.path_for(s.id).write_bytes(bad)
    fresh = Session("fresh", id=s.id)  # generation 0: a valid file would be a conflict
    fresh.add_message("user", "new")
    SessionStore(store.folder, keys=keys).save(fresh)
    aside = [p for p in store.folder.iterdir() if ".rejected-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == bad


def test_symlink_is_never_followed(store: SessionStore, tmp_path: Path) -> None:
    s = full_session()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"precious")
    store.folder.mkdir()
    store.path_for(s.id).symlink_to(outside)
    with pytest.raises(NotASessionFile) as info:
        store.load(s.id)
    assert "symbolic link" in one_line(info.value)
    store.save(s)  # sets the link aside, writes a real file
    assert outside.read_bytes() == b"precious"
    assert not store.path_for(s.id).is_symlink() and store.load(s.id).name == s.name
    aside = [p for p in store.folder.iterdir() if ".rejected-" in p.name]
    assert len(aside) == 1 and aside[0].is_symlink()


def test_directory_and_size_cap(folder: Path, keys: KeyRing) -> None:
    store = SessionStore(folder, keys=keys, max_bytes=2000)
    s = full_session()
    for _ in range(20):
        s.add_message("user", "x" * 100)
    big = SessionStore(folder, keys=keys).save(s).path  # saved by a kernel with the default cap
    with pytest.raises(FileTooLarge) as info:
        store.load(s.id)
    assert "2000-byte limit" in one_line(info.value) and big.exists()
    (folder / "adir.json").mkdir()
    with pytest.raises(NotASessionFile):
        store.load("adir")


def test_missing_file(store: SessionStore) -> None:
    with pytest.raises(NoSavedSession) as info:
        store.load("nothere")
    assert "%session resume" in one_line(info.value)
    with pytest.raises(NoSavedSession):
        store.delete("nothere")


@pytest.mark.parametrize(
    "bad_id", ["..", "../x", "a/b", "a\\b", "a\x00b", ".hidden", "x" * 65, "ａｂｃ", "", "-a"]
)
def test_bad_ids_are_refused_before_any_file_system_call(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch, bad_id: str
) -> None:
    s = Session("victim")
    calls = []
    for name in ("stat", "lstat", "open", "scandir", "mkdir", "unlink", "rename", "replace"):
        real = getattr(os, name)
        monkeypatch.setattr(
            os, name, lambda *a, _r=real, _n=name, **k: calls.append(_n) or _r(*a, **k)
        )
    s.id = bad_id
    for action in (
        lambda: store.load(bad_id),
        lambda: store.delete(bad_id),
        lambda: store.save(s),
        lambda: store.path_for(bad_id),
    ):
        with pytest.raises(InvalidSessionId):
            action()
    assert calls == []


# -- save rules ----------------------------------------------------------------------------------


def test_rejected_file_is_set_aside_never_overwritten(store: SessionStore) -> None:
    s = full_session()
    path = store.save(s).path
    tampered = _flip_payload_byte(path.read_bytes())
    path.write_bytes(tampered)
    s.add_message("user", "after tampering")
    saved = store.save(s)
    names = sorted(os.listdir(store.folder))
    assert len(names) == 2 and names[0] == path.name
    import re

    assert re.fullmatch(rf"{s.id}\.rejected-\d{{8}}T\d{{6}}Z\.json", names[1])
    assert (store.folder / names[1]).read_bytes() == tampered
    assert store.load(s.id).messages[-1].content == "after tampering"
    assert [x.id for x in store.saved()] == [s.id]  # set-aside files are not sessions
    assert saved.set_aside == store.folder / names[1] and saved.path == path
    assert saved.generation == s.generation == 2
    assert store.save(s).set_aside is None  # only the save that set it aside says so


def test_conflict_between_two_kernels(folder: Path, keys: KeyRing) -> None:
    kernel_a, kernel_b = SessionStore(folder, keys=keys), SessionStore(folder, keys=keys)
    s = full_session()
    path = kernel_a.save(s).path
    other = kernel_b.load(s.id)
    other.add_message("user", "from kernel b")
    kernel_b.save(other)
    newer = path.read_bytes()
    s.add_message("user", "from kernel a")
    with pytest.raises(Conflict) as info:
        kernel_a.save(s)
    text = one_line(info.value)
    assert "generation 2" in text and "--force" in text
    assert path.read_bytes() == newer and s.dirty and s.generation == 1
    kernel_a.save(s, force=True)
    assert s.generation == 3
    assert kernel_a.load(s.id).messages[-1].content == "from kernel a"


def test_same_generation_written_elsewhere_is_a_conflict(folder: Path, keys: KeyRing) -> None:
    kernel_a, kernel_b = SessionStore(folder, keys=keys), SessionStore(folder, keys=keys)
    s = full_session()
    path = kernel_a.save(s).path
    first = path.read_bytes()
    s.add_message("user", "a's second")
    kernel_a.save(s)  # generation 2
    path.write_bytes(first)  # someone rolls the file back to generation 1 ...
    other = kernel_b.load(s.id)
    other.add_message("user", "b's second")
    kernel_b.save(other)  # ... and kernel b writes its own generation 2
    theirs = path.read_bytes()
    s.add_message("user", "a's third")
    with pytest.raises(Conflict) as info:
        kernel_a.save(s)
    assert "generation 2 saved by another kernel" in one_line(info.value)
    assert path.read_bytes() == theirs


def test_a_touched_or_copied_back_file_is_still_ours(store: SessionStore) -> None:
    s = full_session()
    path = store.save(s).path
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data)  # same bytes, new inode and times
    s.add_message("user", "more")
    store.save(s)
    assert s.generation == 2


def test_threads_saving_one_session(store: SessionStore) -> None:
    s = Session("busy")
    generations: list[int] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                s.add_message("user", f"{n}-{i}")
                store.save(s)
                generations.append(
                    orjson.loads(store.path_for(s.id).read_bytes()[126:-2])["generation"]
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert s.generation == 80
    loaded = SessionStore(store.folder, keys=store.keys).load(s.id)
    assert loaded.generation == 80 and len(loaded.messages) == 80


# -- listing, delete, trust ----------------------------------------------------------------------


def test_saved_lists_newest_first_with_status(folder: Path, keys: KeyRing) -> None:
    store = SessionStore(folder, keys=keys)
    old, new, bad = Session("old"), Session("new"), Session("bad")
    for s in (old, new, bad):
        s.add_message("user", "hi")
    store.save(old)
    time.sleep(0.002)
    store.save(new)
    store.save(bad)
    bad_path = store.path_for(bad.id)
    bad_path.write_bytes(_edit_sig(bad_path.read_bytes()))
    SessionStore(folder, keys=KeyRing([OTHER_KEY])).save(Session("theirs"))
    (folder / "notes.txt").write_text("ignored")
    (folder / "junk.json").write_text("{}\n")
    listing = store.saved()
    by_name = {x.name or x.id: x for x in listing}
    assert [x.name for x in listing if x.ok] == ["new", "old"]
    assert by_name["new"].message_count == 1 and by_name["new"].generation == 1
    assert by_name[bad.id].status == "tampered" and by_name[bad.id].problem
    assert by_name["junk"].status == "not a session file"
    assert sorted(x.status for x in listing) == sorted(
        ["ok", "ok", "tampered", "other key", "not a session file"]
    )


def test_delete(store: SessionStore) -> None:
    s = full_session()
    path = store.save(s).path
    trashed = store.delete(s.id)
    assert trashed.parent == store.folder / ".trash" and trashed.name.startswith(f"{s.id}.")
    assert not path.exists() and store.saved() == []


def test_trust_resigns_with_the_local_key(folder: Path, keys: KeyRing) -> None:
    theirs = SessionStore(folder, keys=KeyRing([OTHER_KEY]))
    s = full_session()
    path = theirs.save(s).path
    payload = path.read_bytes()[126:-2]
    ours = SessionStore(folder, keys=keys)
    assert ours.trust(path) == path
    assert path.read_bytes()[126:-2] == payload
    assert state_of(ours.load(s.id)) == state_of(s)
    assert ours.trust(path) == path  # already trusted: unchanged
    with pytest.raises(ForeignKey):
        theirs.load(s.id)


def test_trust_copies_a_file_from_elsewhere(folder: Path, keys: KeyRing, tmp_path: Path) -> None:
    elsewhere = SessionStore(tmp_path / "downloads", keys=KeyRing([OTHER_KEY]))
    s = full_session()
    source = elsewhere.save(s).path
    ours = SessionStore(folder, keys=keys)
    target = ours.trust(source)
    assert target == ours.path_for(s.id) and source.exists()
    assert ours.load(s.id).name == s.name
    with pytest.raises(Conflict):
        ours.trust(source)
    with pytest.raises(NotASessionFile):
        (tmp_path / "plain.json").write_text("hello\n")
        ours.trust(tmp_path / "plain.json")


# -- keys ----------------------------------------------------------------------------------------


def test_key_file_location_and_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JIDO_MAGICS_KEY_FILE")
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    path = default_key_path()
    assert path == tmp_path / "data" / "jido_magics" / "session_key"
    ring = KeyRing.load()
    text = path.read_bytes()
    assert len(text) == 65 and text.endswith(b"\n") and text[:64] == text[:64].lower()
    assert bytes.fromhex(text[:64].decode()) == ring.signing_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ring.kid == hmac.new(ring.signing_key, b"jido-kid", hashlib.sha256).hexdigest()[:16]
    assert text[:64].decode() not in repr(ring) and ring.kid in repr(ring)
    assert KeyRing.load().kid == ring.kid  # read back, not recreated
    monkeypatch.setenv("JIDO_MAGICS_KEY_FILE", str(tmp_path / "team" / "key"))
    assert default_key_path() == tmp_path / "team" / "key"
    assert KeyRing.load().kid != ring.kid


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key"
    key = load_or_create_key(path)
    for mode in (0o640, 0o604, 0o660):
        path.chmod(mode)
        with pytest.raises(KeyFileError) as info:
            load_or_create_key(path)
        assert "chmod 600" in one_line(info.value) and key.hex() not in str(info.value)
    path.chmod(0o600)
    assert load_or_create_key(path) == key


def test_damaged_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"ABCDEF" * 20 + b"\n")
    os.close(fd)
    with pytest.raises(KeyFileError) as info:
        load_or_create_key(path)
    assert "ABCDEF" not in one_line(info.value)


def test_an_old_empty_key_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "key"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    os.utime(path, (time.time() - 3600, time.time() - 3600))
    with pytest.raises(KeyFileError) as info:
        load_or_create_key(path)
    assert "64 lowercase hex digits" in one_line(info.value)


def test_a_store_with_a_bad_key_changes_nothing(folder: Path, tmp_path, monkeypatch) -> None:
    key_path = tmp_path / "key"
    key_path.write_text("0" * 64 + "\n")
    key_path.chmod(0o644)
    monkeypatch.setenv("JIDO_MAGICS_KEY_FILE", str(key_path))
    with pytest.raises(KeyFileError):
        SessionStore(folder).save(full_session())
    assert not folder.exists()


# -- location ------------------------------------------------------------------------------------


def test_location_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env: dict[str, str] = {}
    assert sessions_folder(environ=env) == tmp_path / ".sessions"
    (tmp_path / "nb").mkdir()
    report = tmp_path / "nb" / "report.ipynb"
    report.write_text("{}")
    other = tmp_path / "other.ipynb"
    other.write_text("{}")
    assert sessions_folder(user_ns={"__session__": str(report)}, environ=env) == (
        tmp_path / "nb" / "report.sessions"
    )
    env["JPY_SESSION_NAME"] = str(other)
    assert sessions_folder(user_ns={}, environ=env) == tmp_path / "other.sessions"
    # __session__ wins over the environment; names that are no notebook are skipped
    assert notebook_path(None, {"__session__": str(report)}, env) == report
    assert notebook_path(None, {"__session__": "missing.ipynb"}, env) == other
    assert notebook_path(None, {"__session__": str(tmp_path / "nb")}, {}) is None
    assert notebook_path("nb/report.ipynb", {"__session__": str(other)}, env) == report
    assert sessions_folder(folder="custom", environ=env) == tmp_path / "custom"


_SAVE_LOOP = """
import sys
from pathlib import Path
from jido_magics.core import Session
from jido_magics.persistence import KeyRing, SessionStore
store = SessionStore(Path(sys.argv[1]), keys=KeyRing([bytes(range(32))]))
s = store.load(sys.argv[2])
print("ready", flush=True)
while True:
    s.add_message("user", "x" * 5000)
    store.save(s)
"""


def test_killed_saves_leave_the_old_or_new_generation(store: SessionStore) -> None:
    import random
    import signal

    s = full_session()
    store.save(s)
    for trial in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", _SAVE_LOOP, str(store.folder), s.id],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(random.uniform(0.0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        fresh = SessionStore(store.folder, keys=store.keys)  # the next kernel
        loaded = fresh.load(s.id)
        assert loaded.generation >= 1 and all(m.status for m in loaded.messages)
        loaded.add_message("user", "after the crash")
        fresh.save(loaded)  # also clears what the killed save left behind
        assert os.listdir(store.folder) == [f"{s.id}.json"], trial


def test_leftovers_of_a_killed_save_are_removed(store: SessionStore) -> None:
    s = full_session()
    store.save(s)
    other = store.folder / ".other.json.0badc0de.tmp"
    for name in (f".{s.id}.json.deadbeef.tmp", f".{s.id}.json.deadbeef.old", other.name):
        (store.folder / name).write_text("partial")
    s.add_message("user", "x")
    SessionStore(store.folder, keys=store.keys).load(s.id)
    fresh = SessionStore(store.folder, keys=store.keys)
    fresh.save(fresh.load(s.id))
    assert sorted(os.listdir(store.folder)) == sorted([f"{s.id}.json", other.name])


def test_persistence_imports_only_core_orjson_and_the_standard_library() -> None:
    script = (
        "import sys; before = set(sys.modules); import jido_magics.persistence; "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    tops = {line.split(".")[0] for line in out.stdout.split()}
    extra = {m for m in tops - set(sys.stdlib_module_names) if not m.startswith("_")}
    assert extra <= {"jido_magics", "orjson"}, extra
