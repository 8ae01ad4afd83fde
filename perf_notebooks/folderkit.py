"""A folder of saved sessions and the measures of ``saved_folder.ipynb`` (also run by
``scripts/bench_saved_folder.py`` for sizes too big for CI).

Messages are ~1 KB of chat-like text. Each starts with words of three kinds so that searches
have known frequencies: a tag unique to the message, three *rare* words (from 100 000, so a
rare word is in about 3 messages per 100 000), one *medium* word (from 1 000: about one
message in 1 000), then common prose shared by every message.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import perfkit as pk

if TYPE_CHECKING:
    from jido_magics.persistence.store import SessionStore

RARE = 100_000
MEDIUM = 1_000
_COMMON = (
    "the model reads the dataframe and finds outliers in the price column describe shows a "
    "mean of twelve and a deviation of three so values above forty look wrong consider a log "
    "scale a robust score or fences from the quartiles then plot the residuals against time "
    "and check whether the pipeline drops rows with missing values before the join"
).split()


def rare_word(n: int) -> str:
    return f"rare{n:05d}x"


def medium_word(n: int) -> str:
    return f"medium{n:03d}y"


def _bodies(rng: random.Random, count: int = 64, size: int = 1024) -> list[str]:
    bodies = []
    for _ in range(count):
        words: list[str] = []
        length = 0
        while length < size:
            word = rng.choice(_COMMON)
            words.append(word)
            length += len(word) + 1
        bodies.append(" ".join(words))
    return bodies


def conversations(sessions: int, messages: int, *, seed: int = 13) -> Iterator[list[str]]:
    """The message texts of each of ``sessions`` conversations (``messages`` each, user and
    assistant in turn); the rare and medium words are drawn from ``seed``."""
    rng = random.Random(seed)
    bodies = _bodies(rng)
    for s in range(sessions):
        texts = []
        for i in range(messages):
            head = (
                f"[{s}.{i}] {rare_word(rng.randrange(RARE))} {rare_word(rng.randrange(RARE))} "
                f"{rare_word(rng.randrange(RARE))} {medium_word(rng.randrange(MEDIUM))} "
            )
            texts.append(head + bodies[(s * 31 + i) % len(bodies)][: 1024 - len(head)])
        yield texts


def make_folder(store: Any, sessions: int, messages: int, *, seed: int = 13) -> list[str]:
    """Save ``sessions`` sessions of ``messages`` ~1 KB messages into ``store``; returns
    their names (``topic 0001``…)."""
    from jido_magics import Session

    names = []
    for s, texts in enumerate(conversations(sessions, messages, seed=seed)):
        session = Session(f"topic {s:04d}")
        for i, text in enumerate(texts):
            session.add_message("user" if i % 2 == 0 else "assistant", text)
        store.save(session)
        names.append(session.name)
    return names


def wait_until_settled(store: SessionStore) -> float:
    """Sleep until every file is older than the cache's settle time (as a folder saved a
    while ago is); returns the seconds waited."""
    from jido_magics.persistence.catalog import SETTLE_NS

    newest = max(os.stat(p).st_ctime_ns for p in store.folder.glob("*.json"))
    wait = (newest + SETTLE_NS - time.time_ns()) / 1e9 + 0.05
    if wait > 0:
        time.sleep(wait)
    return max(wait, 0.0)


def verify_every_file(store: SessionStore) -> Callable[[], int]:
    """The floor of a cold listing: every file read, its HMAC checked, its payload parsed
    (nothing else: no schema, no records, no cache)."""
    key = store.keys.signing_key
    paths = sorted(str(p) for p in store.folder.glob("*.json"))

    def run() -> int:
        for path in paths:
            with open(path, "rb", buffering=0) as f:
                data = f.read()
            view = memoryview(data)
            payload = view[126 : len(data) - 2]
            mac = hmac.new(key, pk.SIGNING_DOMAIN, hashlib.sha256)
            mac.update(payload)
            if not hmac.compare_digest(mac.hexdigest().encode(), data[50:114]):
                raise ValueError(f"{path} does not verify")
            orjson.loads(payload)
        return len(paths)

    return run


def cold_listing(store: SessionStore, scratch: Path) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(make a new, empty cache database for ``store``, ``store.saved()``): the first listing
    of a folder the cache has never seen (the database's creation included), in a kernel that
    has not listed it either."""
    from jido_magics.persistence.cache import Cache
    from jido_magics.persistence.catalog import _memos

    counter = iter(range(1_000_000))

    def fresh_cache() -> None:
        _memos.pop(store, None)  # nor this kernel's memory of its last listing
        old = getattr(store, "cache", None)
        if old is not None:
            old.close()
        path = scratch / f"cold-{next(counter)}.sqlite3"
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):  # a kept scratch
            leftover.unlink(missing_ok=True)
        store.cache = Cache(path)  # type: ignore[attr-defined]

    return fresh_cache, store.saved


def index_new_file(
    store: SessionStore, session_id: str
) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(forget the file's text, index it as a new file: verified read + FTS rows), for one
    file of ``store`` listed in its cache."""
    from jido_magics.persistence.cache import stamp_of
    from jido_magics.persistence.catalog import Listing, cache_for
    from jido_magics.persistence.saved_search import index_file

    listing = Listing(store)
    item = next(s for s in listing.saved if s.id == session_id)
    stamp = stamp_of(listing.fingerprints[session_id])
    cache = cache_for(store)

    def forget() -> None:
        with cache.using() as db:  # untimed: a new file has no rows yet
            key = db.execute("SELECT key FROM files WHERE file_id=?", (session_id,)).fetchone()[0]
            db.execute(
                "DELETE FROM text WHERE rowid BETWEEN ? AND ?",
                (key << 32, (key << 32) | 0xFFFFFFFF),
            )
            db.execute("UPDATE files SET indexed='' WHERE key=?", (key,))

    def index() -> int:
        return index_file(store, item, stamp)

    return forget, index


def measure(
    shell: Any, store: SessionStore, scratch: Path, *, iterations: int = 100, cold: int = 7
) -> dict[str, pk.Timing]:
    """Every figure of the notebook, through the magics of ``shell`` (whose sessions folder
    is ``store.folder``, ``store`` being another object) where a user would type them."""
    from IPython.core.completer import provisionalcompleter
    from IPython.utils.capture import capture_output

    import jido_magics

    registry = jido_magics.get_registry()

    def magic(line: str) -> Any:
        with capture_output():
            return shell.run_line_magic("session", line)

    files = len(list(store.folder.glob("*.json")))
    found: dict[str, pk.Timing] = {}
    fresh_cache, listing = cold_listing(store, scratch)
    found["cold"] = pk.time_with_floor(
        listing,
        verify_every_file(store),
        cold,
        label=f"listing, cold ({files} files)",
        warmup=1,
        before=fresh_cache,
    )
    str(magic("resume"))  # the kernel's cache, filled once
    found["warm"] = pk.time_calls(
        lambda: str(magic("resume")), iterations, label="listing, warm (%session resume)"
    )
    line = "%session resume "

    def tab() -> list[Any]:
        with provisionalcompleter():
            return list(shell.Completer.completions(line, len(line)))

    assert len(tab()) == min(files, 500)  # IPython shows at most 500 (MATCHES_LIMIT)
    found["tab"] = pk.time_calls(tab, iterations, label=f"TAB after {line!r} ({files} names)")
    listed = magic("resume").saved
    middle = listed[len(listed) // 2]

    def close_it() -> None:
        if registry.find_by_id(middle.id) is not None:
            magic(f'close "{middle.name}" --no-save')

    found["resume"] = pk.time_calls(
        lambda: magic(f'resume "{middle.name}"'),
        iterations,
        label=f"resume NAME ({middle.message_count} messages)",
        before=close_it,
    )
    close_it()
    rare = store.load(middle.id).messages[0].content.split()[1]
    medium = store.load(middle.id).messages[0].content.split()[4]
    start = time.perf_counter_ns()
    hits = magic(f"search {rare}")
    first = pk.Timing("first search (indexes every file)", [time.perf_counter_ns() - start])
    assert any(h.session_id == middle.id and h.number == 1 for h in hits.hits)
    found["first search"] = first
    found["search"] = pk.time_calls(
        lambda: magic(f"search {rare}"), iterations, label=f"search a rare word ({len(hits)} hits)"
    )
    found["search medium"] = pk.time_calls(
        lambda: magic(f"search {medium}"), iterations, label="search a medium word (limit 20)"
    )
    found["search common"] = pk.time_calls(
        lambda: magic("search dataframe"), 20, label="search a word in every message (limit 20)"
    )
    forget, index = index_new_file(store, middle.id)
    found["index"] = pk.time_with_floor(
        index,
        lambda: store.load(middle.id),
        max(20, iterations // 5),
        label=f"index a new file ({middle.message_count} messages) vs its load",
        before=forget,
    )
    return found


def report(found: dict[str, pk.Timing]) -> None:
    pk.print_timings(found.values())


def cpu_times(shell: Any, store: SessionStore, iterations: int = 50) -> dict[str, pk.Timing]:
    """Process CPU time of the interactive commands (the keys of ``measure``'s): on a busy
    machine the wall time includes waiting for a core, this does not."""
    from IPython.core.completer import provisionalcompleter
    from IPython.utils.capture import capture_output

    def magic(line: str) -> Any:
        with capture_output():
            return shell.run_line_magic("session", line)

    def tab() -> list[Any]:
        with provisionalcompleter():
            return list(shell.Completer.completions("%session resume ", 16))

    listed = magic("resume").saved
    middle = listed[len(listed) // 2]
    rare = store.load(middle.id).messages[0].content.split()[1]
    commands = {
        "warm": ("listing, warm", lambda: str(magic("resume"))),
        "tab": ("TAB after '%session resume '", tab),
        "resume": ("resume NAME", lambda: magic(f'resume "{middle.name}"')),
        "search": ("search a rare word", lambda: magic(f"search {rare}")),
    }
    found = {}
    for key, (label, fn) in commands.items():
        samples = []
        for _ in range(iterations):
            start = time.process_time_ns()
            fn()
            samples.append(time.process_time_ns() - start)
            if key == "resume":  # untimed, as in measure()
                magic(f'close "{middle.name}" --no-save')
        found[key] = pk.Timing(f"{label} (CPU time)", samples)
    return found
