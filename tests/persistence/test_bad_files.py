"""A corpus of bad session files (dozens of kinds, hundreds of generated variants): each gives
its own typed error, directly and through ``%session resume ID`` in a real shell (one-line
UsageError); none leaves a session behind, and none is modified."""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import random
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from IPython.core.error import UsageError
from reliability import (
    OTHER_KEY,
    PAYLOAD_AT,
    one_line,
    payload_of,
    plain_of,
    sign,
    small_session,
    snapshot,
)

from jido_magics.core import Session
from jido_magics.core.errors import JidoError
from jido_magics.persistence import (
    FileTooLarge,
    ForeignKey,
    InvalidPayload,
    KeyRing,
    MismatchedId,
    NotASessionFile,
    PersistenceError,
    SessionStore,
    Stale,
    StoreIOError,
    Tampered,
    UnknownVersion,
)
from jido_magics.persistence.envelope import DOMAIN, seal
from jido_magics.persistence.file_status import status_of
from jido_magics.persistence.reading import DEFAULT_MAX_BYTES

HEX = b"0123456789abcdef"
Expected = type[JidoError]


@dataclass
class Case:
    kind: str
    session_id: str
    expected: Expected
    #: Faults to inject while this file is read (None: none).
    fault: Callable[[], contextlib.AbstractContextManager] | None = None
    #: Generation the reading store must already have seen (for the stale kind).
    seen: int = 0
    extra: dict = field(default_factory=dict)


class Corpus:
    """Writes bad files into ``folder``, one session id per file, and records the expectation."""

    def __init__(self, folder: Path, keys: KeyRing) -> None:
        self.folder = folder
        self.keys = keys
        self.cases: list[Case] = []
        self._count = 0
        folder.mkdir(parents=True, exist_ok=True)

    def new_id(self, kind: str) -> str:
        self._count += 1
        slug = "".join(c if c.isalnum() else "-" for c in kind)[:40].strip("-")
        return f"b{self._count:04d}-{slug}"

    def path(self, session_id: str) -> Path:
        return self.folder / f"{session_id}.json"

    def good(self, session_id: str, generation: int = 1) -> bytes:
        return sign(self.keys, payload_of(small_session(session_id), generation))

    def add_bytes(
        self, kind: str, edit: Callable[[bytes, str], bytes], expected: Expected | None
    ) -> Case:
        """A file made by ``edit(good_bytes, id)``; ``expected`` None: ask the oracle below."""
        session_id = self.new_id(kind)
        good = self.good(session_id)
        data = edit(good, session_id)
        assert data != good, kind
        self.path(session_id).write_bytes(data)
        case = Case(kind, session_id, expected or envelope_oracle(data, good))
        self.cases.append(case)
        return case

    def add_signed(self, kind: str, make: Callable[[dict, str], bytes], expected: Expected):
        """A file whose payload ``make(plain_dict, id)`` returns, signed with the real key."""
        session_id = self.new_id(kind)
        payload = make(plain_of(small_session(session_id)), session_id)
        self.path(session_id).write_bytes(sign(self.keys, payload))
        self.cases.append(Case(kind, session_id, expected))

    def add_special(self, kind: str, make: Callable[[Path, str], None], expected: Expected, **kw):
        session_id = self.new_id(kind)
        make(self.path(session_id), session_id)
        self.cases.append(Case(kind, session_id, expected, **kw))


def envelope_oracle(data: bytes, good: bytes) -> Expected:
    """The error for a one-byte change of ``good`` at a known place (generated variants)."""
    if len(data) != len(good):
        return NotASessionFile
    (at,) = [i for i in range(len(data)) if data[i] != good[i]]
    new = data[at : at + 1]
    if 25 <= at < 41:  # kid
        return ForeignKey if new in HEX and new else NotASessionFile
    if 50 <= at < 114:  # sig
        return Tampered if new in HEX and new else NotASessionFile
    if at == 16:  # the version digit
        return UnknownVersion if new.isdigit() and new != b"1" else NotASessionFile
    if PAYLOAD_AT < at < len(good) - 3:  # inside the payload's braces
        return NotASessionFile if new == b"\n" else Tampered
    return NotASessionFile


def _replace(old: bytes, new: bytes) -> Callable[[bytes, str], bytes]:
    def edit(data: bytes, _id: str) -> bytes:
        assert old in data, old
        return data.replace(old, new, 1)

    return edit


def _at(offset: int, new: bytes, length: int = 1) -> Callable[[bytes, str], bytes]:
    return lambda d, _id: d[:offset] + new + d[offset + length :]


def _sig(data: bytes) -> bytes:
    return data[50:114]


def _signed_with(key: bytes, *, domain: bytes = DOMAIN, kid_of_key: KeyRing | None = None):
    """Envelope with the kid of ``kid_of_key`` and a MAC made with ``key`` over domain+payload."""
    import hashlib
    import hmac

    def edit(data: bytes, _id: str) -> bytes:
        payload = data[PAYLOAD_AT:-2]
        mac = hmac.new(key, domain + payload, hashlib.sha256).hexdigest().encode()
        return data[:50] + mac + data[114:]

    return edit


@contextlib.contextmanager
def _fail_open(name: str, code: int) -> Iterator[None]:
    real = os.open

    def faulty(path, *args, **kwargs):
        if os.fspath(path).endswith(name):
            raise OSError(code, os.strerror(code))
        return real(path, *args, **kwargs)

    os.open = faulty
    try:
        yield
    finally:
        os.open = real


@contextlib.contextmanager
def _fail_read(name: str, code: int) -> Iterator[None]:
    real_open, real_read = os.open, os.read
    fds: set[int] = set()

    def opening(path, *args, **kwargs):
        fd = real_open(path, *args, **kwargs)
        if os.fspath(path).endswith(name):
            fds.add(fd)
        return fd

    def reading(fd, *args):
        if fd in fds:
            raise OSError(code, os.strerror(code))
        return real_read(fd, *args)

    os.open, os.read = opening, reading
    try:
        yield
    finally:
        os.open, os.read = real_open, real_read


def _flip_payload(rng: random.Random) -> Callable[[bytes, str], bytes]:
    def edit(d: bytes, _id: str) -> bytes:
        at = rng.randrange(PAYLOAD_AT + 1, len(d) - 3)
        return d[:at] + bytes([d[at] ^ (1 << rng.randrange(8))]) + d[at + 1 :]

    return edit


def _random_kid(rng: random.Random) -> Callable[[bytes, str], bytes]:
    return lambda d, _id: d[:25] + bytes(rng.choice(HEX) for _ in range(16)) + d[41:]


def build_corpus(folder: Path, keys: KeyRing, seed: int = 8) -> Corpus:
    rng = random.Random(seed)
    c = Corpus(folder, keys)
    other = KeyRing([OTHER_KEY])
    # -- whole-file kinds --------------------------------------------------------------------
    c.add_bytes("empty", lambda d, i: b"", NotASessionFile)
    c.add_bytes("truncated half", lambda d, i: d[: len(d) // 2], NotASessionFile)
    c.add_bytes("no final newline", lambda d, i: d[:-1], NotASessionFile)
    c.add_bytes("bom", lambda d, i: b"\xef\xbb\xbf" + d, NotASessionFile)
    c.add_bytes("crlf copy", lambda d, i: d[:-1] + b"\r\n", NotASessionFile)
    c.add_bytes("trailing garbage", lambda d, i: d + b"garbage", NotASessionFile)
    c.add_bytes("trailing newline", lambda d, i: d + b"\n", NotASessionFile)
    c.add_bytes("leading space", lambda d, i: b" " + d, NotASessionFile)
    c.add_bytes("two copies", lambda d, i: d + d, NotASessionFile)
    c.add_bytes("pretty envelope", _replace(b'"kid":"', b'"kid": "'), NotASessionFile)
    c.add_bytes("nul in header", _at(3, b"\x00"), NotASessionFile)
    c.add_bytes("utf-16 copy", lambda d, i: d.decode().encode("utf-16"), NotASessionFile)
    c.add_bytes("gzip copy", lambda d, i: gzip.compress(d, mtime=0), NotASessionFile)
    c.add_bytes("plain json", lambda d, i: d[PAYLOAD_AT:-2] + b"\n", NotASessionFile)
    c.add_bytes("payload array", lambda d, i: d[:PAYLOAD_AT] + b"[1]}\n", NotASessionFile)
    c.add_bytes("payload missing", lambda d, i: d[: PAYLOAD_AT - 11] + b"}\n", NotASessionFile)
    c.add_bytes("no kid", _replace(b'"kid":"', b'"kix":"'), NotASessionFile)
    c.add_bytes("no sig", lambda d, i: d[:41] + d[114:], NotASessionFile)
    c.add_bytes("extra field", _replace(b'"payload":', b'"x":1,"payload":'), NotASessionFile)
    c.add_bytes(
        "reordered fields",
        lambda d, i: b'{"jido_session":1,"sig":"%s","kid":"%s"%s' % (_sig(d), d[25:41], d[115:]),
        NotASessionFile,
    )
    # -- version ------------------------------------------------------------------------------
    c.add_bytes("unknown version 2", _replace(b'"jido_session":1', b'"jido_session":2'), None)
    c.add_bytes("version 0", _replace(b'"jido_session":1', b'"jido_session":0'), UnknownVersion)
    c.add_bytes(
        "version 123456789",
        _replace(b'"jido_session":1', b'"jido_session":123456789'),
        UnknownVersion,
    )
    c.add_bytes("version text", _replace(b'"jido_session":1', b'"jido_session":"1"'), None)
    # -- key id and signature ----------------------------------------------------------------
    c.add_bytes("other kid", _at(25, b"0123456789abcdef", 16), ForeignKey)
    c.add_bytes(
        "uppercase kid", lambda d, i: d[:25] + b"A" + d[26:41].upper() + d[41:], NotASessionFile
    )
    c.add_bytes("sig edited", _at(50, b"0" * 8, 8), Tampered)
    c.add_bytes("sig all zero", _at(50, b"0" * 64, 64), Tampered)
    c.add_bytes("sig non-hex", _at(60, b"g"), NotASessionFile)
    c.add_bytes("sig non-ascii", _at(60, "é".encode(), 2), NotASessionFile)
    c.add_bytes(
        "sig uppercase", lambda d, i: d[:50] + b"A" + _sig(d)[1:].upper() + d[114:], NotASessionFile
    )
    c.add_bytes("sig short", lambda d, i: d[:50] + _sig(d)[:63] + d[114:], NotASessionFile)
    c.add_bytes("sig long", lambda d, i: d[:50] + _sig(d) + b"0" + d[114:], NotASessionFile)
    c.add_bytes("signed with other key", lambda d, i: seal(other, d[PAYLOAD_AT:-2]), ForeignKey)
    c.add_bytes("other key's mac, our kid", _signed_with(OTHER_KEY), Tampered)
    c.add_bytes("mac without domain", _signed_with(keys.signing_key, domain=b""), Tampered)
    c.add_bytes(
        "mac with other domain",
        _signed_with(keys.signing_key, domain=b"jido_magics/session/v2\n"),
        Tampered,
    )
    # -- edits of the payload without re-signing ----------------------------------------------
    c.add_bytes("payload edited", _replace(b"answer 2", b"answer 3"), Tampered)
    c.add_bytes("payload byte removed", _replace(b"answer 2", b"answer2"), Tampered)
    c.add_bytes("payload invalid utf-8", _replace("ü".encode(), b"\xff\xfe"), Tampered)
    c.add_bytes("payload nan", _replace(b'"temperature":null', b'"temperature":NaN'), Tampered)
    c.add_bytes(
        "payload duplicate key",
        _replace(b'"name":"victim"', b'"name":"victim","name":"evil"'),
        Tampered,
    )

    # -- valid MAC (the real key) over a bad payload -------------------------------------------
    def signed_raw(raw: bytes):
        return lambda plain, i: raw

    def signed_edit(old: bytes, new: bytes):
        def make(plain: dict, i: str) -> bytes:
            payload = orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)
            assert old in payload, old
            return payload.replace(old, new, 1)

        return make

    def with_field(key: str, value) -> Callable[[dict, str], bytes]:
        return lambda plain, i: orjson.dumps({**plain, key: value}, option=orjson.OPT_SORT_KEYS)

    def without(key: str) -> Callable[[dict, str], bytes]:
        return lambda plain, i: orjson.dumps(
            {k: v for k, v in plain.items() if k != key}, option=orjson.OPT_SORT_KEYS
        )

    c.add_signed("signed non-json", signed_raw(b"{not json}"), InvalidPayload)
    c.add_signed("signed empty object", signed_raw(b"{}"), InvalidPayload)
    c.add_signed(
        "signed nan", signed_edit(b'"temperature":null', b'"temperature":NaN'), InvalidPayload
    )
    c.add_signed(
        "signed infinity",
        signed_edit(b'"max_tokens":null', b'"max_tokens":Infinity'),
        InvalidPayload,
    )
    c.add_signed(
        "signed 1e400", signed_edit(b'"max_tokens":null', b'"max_tokens":1e400'), InvalidPayload
    )
    c.add_signed("signed invalid utf-8", signed_edit("ü".encode(), b"\xff"), InvalidPayload)
    c.add_signed("signed lone surrogate", signed_edit(b"thinking", b"\\ud800"), InvalidPayload)
    c.add_signed("signed raw control char", signed_edit(b"thinking", b"a\x01b"), InvalidPayload)
    c.add_signed("signed nul in name", with_field("name", "vic\x00tim"), InvalidPayload)
    c.add_signed(
        "signed duplicate key",
        signed_edit(b'"name":"victim"', b'"name":"victim","name":"evil"'),
        InvalidPayload,
    )
    c.add_signed(
        "signed duplicate nested key",
        signed_edit(b'"role":"user"', b'"role":"user","role":"system"'),
        InvalidPayload,
    )
    c.add_signed("signed trailing data", lambda p, i: orjson.dumps(p) + b" {}", InvalidPayload)
    deep = b'{"config":' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001
    c.add_signed("signed deep nesting", signed_raw(deep), InvalidPayload)
    c.add_signed(
        "signed deep nesting in arguments",
        signed_edit(b'"arguments":{', b'"arguments":{"x":' + b"[" * 5000 + b"]" * 5000 + b","),
        InvalidPayload,
    )
    c.add_signed("signed format 3", with_field("format_version", 3), UnknownVersion)
    c.add_signed("signed format 0", with_field("format_version", 0), UnknownVersion)
    c.add_signed(
        "signed parent id",
        with_field("parent", {"session_id": "../x", "message": 1}),
        InvalidPayload,
    )
    c.add_signed(
        "signed parent extra",
        with_field("parent", {"session_id": "a", "message": 1, "x": 1}),
        InvalidPayload,
    )
    c.add_signed(
        "signed cost null",
        with_field("usage", {"input_tokens": 0, "output_tokens": 0, "cost_usd": None}),
        InvalidPayload,
    )
    c.add_signed(
        "signed cost negative",
        with_field("usage", {"input_tokens": 0, "output_tokens": 0, "cost_usd": -1.0}),
        InvalidPayload,
    )
    c.add_signed(
        "signed cost text",
        with_field("usage", {"input_tokens": 0, "output_tokens": 0, "cost_usd": "1"}),
        InvalidPayload,
    )
    c.add_signed("signed format text", with_field("format_version", "1"), InvalidPayload)
    c.add_signed("signed extra field", with_field("owner", "mallory"), InvalidPayload)
    c.add_signed("signed generation 0", with_field("generation", 0), InvalidPayload)
    c.add_signed("signed generation huge", with_field("generation", 2**64 - 1), InvalidPayload)
    c.add_signed("signed generation float", with_field("generation", 1.0), InvalidPayload)
    c.add_signed(
        "signed usage huge",
        with_field("usage", {"input_tokens": 2**64 - 1, "output_tokens": 0}),
        InvalidPayload,
    )
    c.add_signed("signed hostile session id", with_field("session_id", "../x"), InvalidPayload)
    c.add_signed("signed api key", with_field("config", {"api_key": "sk-x"}), InvalidPayload)
    c.add_signed("signed bad time", with_field("saved_at", "yesterday"), InvalidPayload)
    c.add_signed("signed messages object", with_field("messages", {}), InvalidPayload)
    c.add_signed("signed bad role", signed_edit(b'"role":"user"', b'"role":"root"'), InvalidPayload)
    for key in sorted(plain_of(small_session())):
        if key != "parent":  # optional (format 2)
            c.add_signed(f"signed without {key}", without(key), InvalidPayload)
        if key not in ("format_version", "generation", "session_id"):
            for value in (None, 12, "x", [], {}):
                if (key, value) in (("name", "x"), ("config", {}), ("parent", None)) or (
                    value == [] and key in ("messages", "reasoning_steps", "tool_calls")
                ):
                    continue  # valid: any name, default settings, an empty history
                c.add_signed(f"signed {key}={value!r}", with_field(key, value), InvalidPayload)

    # -- valid files that do not belong here ------------------------------------------------
    def renamed(path: Path, session_id: str) -> None:
        path.write_bytes(c.good("someone-else"))

    def older(path: Path, session_id: str) -> None:
        path.write_bytes(c.good(session_id, generation=3))

    c.add_special("valid file of another id", renamed, MismatchedId)
    c.add_special("older generation", older, Stale, seen=4)
    # -- not regular files -------------------------------------------------------------------
    outside = folder.parent / "outside-target.json"
    outside.write_bytes(c.good("outside-target"))

    def symlink_to_valid(path: Path, session_id: str) -> None:
        path.write_bytes(c.good(session_id))
        real = folder.parent / f"real-{session_id}.json"
        path.rename(real)
        path.symlink_to(real)

    def sparse_over_cap(path: Path, session_id: str) -> None:
        path.write_bytes(c.good(session_id))
        os.truncate(path, DEFAULT_MAX_BYTES + 1)

    def unix_socket(path: Path, session_id: str) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.getcwd()
        os.chdir(path.parent)  # socket paths are limited to ~100 bytes
        try:
            sock.bind(path.name)
        finally:
            os.chdir(old)
            sock.close()

    c.add_special("symlink to a valid file", symlink_to_valid, NotASessionFile)
    c.add_special("symlink outside", lambda p, i: p.symlink_to(outside), NotASessionFile)
    c.add_special(
        "dangling symlink", lambda p, i: p.symlink_to(p.with_suffix(".gone")), NotASessionFile
    )
    c.add_special("symlink loop", lambda p, i: p.symlink_to(p), NotASessionFile)
    c.add_special("directory", lambda p, i: p.mkdir(), NotASessionFile)
    c.add_special("fifo", lambda p, i: os.mkfifo(p), NotASessionFile)
    c.add_special("unix socket", unix_socket, NotASessionFile)
    c.add_special("over the size cap", sparse_over_cap, FileTooLarge)

    def good_file(path: Path, session_id: str) -> None:
        path.write_bytes(c.good(session_id))

    for kind, code, injector in [
        ("unreadable (EACCES)", errno.EACCES, _fail_open),
        ("unreadable (EPERM)", errno.EPERM, _fail_open),
        ("read error (EIO)", errno.EIO, _fail_read),
        ("read error (EISDIR)", errno.EISDIR, _fail_read),
    ]:
        session_id = c.new_id(kind)
        good_file(c.path(session_id), session_id)
        name = f"{session_id}.json"
        c.cases.append(
            Case(kind, session_id, StoreIOError, fault=lambda n=name, e=code, f=injector: f(n, e))
        )
    # -- generated variants ------------------------------------------------------------------
    probe = c.good("b0000-probe")
    size = len(probe)
    for cut in sorted(set(range(0, size, 5)) | {size - 1, size - 2, size - 3, PAYLOAD_AT}):
        c.add_bytes(f"truncated #{cut}", lambda d, i, n=cut: d[:n], NotASessionFile)
    regions = {
        "head": [i for i in range(0, 25) if i != 16] + [41, 42, 43, 48, 49, 114, 115, 124, 125],
        "version digit": [16],
        "kid": list(range(25, 41)),
        "sig": list(range(50, 114)),
        "tail": [size - 3, size - 2, size - 1],
    }
    for region, offsets in regions.items():
        for offset in offsets:
            bit = rng.randrange(8)
            c.add_bytes(
                f"bit flip #{region} {offset}.{bit}",
                lambda d, i, o=offset, b=bit: d[:o] + bytes([d[o] ^ (1 << b)]) + d[o + 1 :],
                None,
            )
    for n in range(200):  # offsets drawn per file: files of other ids differ in length
        c.add_bytes(f"bit flip payload #{n}", _flip_payload(random.Random(seed * 1000 + n)), None)
    for n in range(40):
        c.add_bytes(f"random kid #{n}", _random_kid(random.Random(seed * 2000 + n)), ForeignKey)
    return c


@pytest.fixture
def corpus(workdir: Path) -> Corpus:
    """The corpus in ``workdir/.sessions``, where the shell's store looks."""
    return build_corpus(workdir / ".sessions", KeyRing.load())


def _kinds(corpus: Corpus) -> set[str]:
    """Kinds before the generated variants (the numbered and per-offset ones)."""
    return {c.kind for c in corpus.cases if "#" not in c.kind}


def test_corpus_size(corpus: Corpus) -> None:
    assert len(_kinds(corpus)) >= 30
    assert len(corpus.cases) >= 500
    assert len({c.session_id for c in corpus.cases}) == len(corpus.cases)
    assert {c.expected for c in corpus.cases} == {
        NotASessionFile,
        UnknownVersion,
        ForeignKey,
        Tampered,
        InvalidPayload,
        MismatchedId,
        Stale,
        FileTooLarge,
        StoreIOError,
    }


def _state(corpus: Corpus) -> dict[str, tuple]:
    return {name: snapshot(corpus.folder / name) for name in sorted(os.listdir(corpus.folder))}


def _prepare_seen(store: SessionStore, corpus: Corpus) -> None:
    """Make ``store`` remember a newer generation for the stale kind (it saved or loaded it)."""
    keys = store.keys
    for case in corpus.cases:
        if case.seen:
            path = corpus.path(case.session_id)
            stale = path.read_bytes()
            path.write_bytes(sign(keys, payload_of(small_session(case.session_id), case.seen)))
            assert store.load(case.session_id).generation == case.seen
            path.write_bytes(stale)


def test_each_bad_file_gives_its_typed_error(corpus: Corpus) -> None:
    keys = KeyRing.load()
    store = SessionStore(corpus.folder, keys=keys)
    _prepare_seen(store, corpus)
    before = _state(corpus)
    wrong = []
    refused: dict[str, PersistenceError] = {}
    for case in corpus.cases:
        seen = store.seen_generation(case.session_id)
        with case.fault() if case.fault else contextlib.nullcontext():
            try:
                store.load(case.session_id)
            except JidoError as exc:
                if case.fault is None and isinstance(exc, PersistenceError):
                    refused[case.session_id] = exc
                if type(exc) is not case.expected:
                    wrong.append((case.kind, type(exc).__name__, case.expected.__name__, str(exc)))
                    continue
                text = one_line(exc, keys)
                assert f"{case.session_id}.json" in text, (case.kind, text)
            else:
                wrong.append((case.kind, "accepted", case.expected.__name__, ""))
        if store.seen_generation(case.session_id) != seen:
            wrong.append((case.kind, "changed the generation seen"))
    assert wrong == [], "\n".join(map(str, wrong))
    assert _state(corpus) == before
    # The listing survives the whole corpus and calls none of it "ok" (the files read with an
    # injected fault are good files).
    listing = store.saved()
    assert {s.id for s in listing} == {c.session_id for c in corpus.cases}
    assert {s.id for s in listing if s.ok} == _faulty_ids(corpus)
    # Each refused file is listed with its load's status and sentence (the listing checks
    # without building the session: it must refuse the same files the same way).
    listed = {s.id: (s.status, s.problem) for s in listing if s.id in refused}
    assert listed == {
        i: (status_of(exc), None if isinstance(exc, Stale) else str(exc))
        for i, exc in refused.items()
    }
    assert _state(corpus) == before


def _faulty_ids(corpus: Corpus) -> set[str]:
    return {c.session_id for c in corpus.cases if c.fault is not None}


def test_each_bad_file_is_one_usage_error_in_the_shell(shell, registry, corpus: Corpus) -> None:
    from jido_magics.interface.extension import extension_for

    store = extension_for(shell).store
    assert store.folder == corpus.folder
    _prepare_seen(store, corpus)
    before = _state(corpus)
    failures = []
    for case in corpus.cases:
        with case.fault() if case.fault else contextlib.nullcontext():
            try:
                shell.run_line_magic("session", f"resume {case.session_id}")
            except UsageError as exc:
                text = one_line(exc, store.keys)
                if f"{case.session_id}.json" not in text or "Traceback" in text:
                    failures.append((case.kind, text))
            except BaseException as exc:  # anything else would reach the user as a traceback
                failures.append((case.kind, repr(exc)))
            else:
                failures.append((case.kind, "resumed"))
        if registry.sessions != ():
            failures.append((case.kind, "left a session open"))
            for s in registry.sessions:
                registry.close(s.id)
    assert failures == []
    assert _state(corpus) == before
    listing = shell.run_line_magic("session", "resume")
    assert len(listing) == len(corpus.cases)
    assert {row[2] for row in listing.rows if row[3] == "ok"} == _faulty_ids(corpus)
    assert _state(corpus) == before


def test_a_save_sets_a_bad_file_aside_and_keeps_its_bytes(corpus: Corpus) -> None:
    """Saving over a rejected file renames it (never overwrites), for every kind."""
    keys = KeyRing.load()
    store = SessionStore(corpus.folder, keys=keys)
    for case in corpus.cases:
        if case.fault or case.seen:
            continue
        path = corpus.path(case.session_id)
        before = snapshot(path)
        session = Session("replacement", id=case.session_id)
        session.add_message("user", "new content")
        store.save(session)
        assert store.load(case.session_id).messages[0].content == "new content"
        aside = [
            p for p in corpus.folder.iterdir() if p.name.startswith(f"{case.session_id}.rejected-")
        ]
        assert len(aside) == 1, case.kind
        assert snapshot(aside[0]) == before, case.kind  # the same file, renamed


def test_trusting_each_bad_file_is_one_line_or_a_loadable_file(shell, registry, corpus) -> None:
    """``%session trust FILE`` on every bad file: a one-line UsageError, or (the user vouched
    for it) a file this kernel then loads. Nothing else reaches the user."""
    from jido_magics.interface.extension import extension_for

    store = extension_for(shell).store
    failures = []
    trusted = 0
    for case in corpus.cases:
        with case.fault() if case.fault else contextlib.nullcontext():
            try:
                shell.run_line_magic("session", f"trust {case.session_id}.json")
            except UsageError as exc:
                one_line(exc, store.keys)
                continue
            except BaseException as exc:
                failures.append((case.kind, repr(exc)))
                continue
        trusted += 1
        try:
            store.load(case.session_id)
        except JidoError as exc:
            failures.append((case.kind, f"trusted but not loadable: {exc}"))
    assert failures == [], "\n".join(map(str, failures))
    assert registry.sessions == ()
    assert trusted >= 100  # tampered and foreign files the user vouched for
