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


class Figures:
    """Each figure of the notebook, through the magics of ``shell`` (whose sessions folder
    is ``store.folder``, ``store`` being another object) where a user would type them. Each
    method measures one figure anew (``best_of`` measures a missed one again); ``measure``
    runs them all once, in order: the cold listing first, the first search before the
    others."""

    def __init__(
        self,
        shell: Any,
        store: SessionStore,
        scratch: Path,
        *,
        iterations: int,
        cold: int = 7,
        cpu: bool = False,
    ) -> None:
        import jido_magics

        self.shell, self.store, self.scratch = shell, store, scratch
        self.iterations, self.cold_runs = iterations, cold
        #: CPU time of the process instead of wall time (warm, tab, resume, search): on a
        #: machine busier than its cores the wall time is mostly the wait for a core.
        self.cpu = cpu
        self.registry = jido_magics.get_registry()
        self.files = len(list(store.folder.glob("*.json")))
        self._middle: Any = None

    def magic(self, line: str) -> Any:
        from IPython.utils.capture import capture_output

        with capture_output():
            return self.shell.run_line_magic("session", line)

    @property
    def middle(self) -> Any:
        """The listed session in the middle of the folder (newest first)."""
        if self._middle is None:
            listed = self.magic("resume").saved
            self._middle = listed[len(listed) // 2]
        return self._middle

    def words(self) -> tuple[str, str]:
        """(a rare word, a medium word) of the middle session's first message."""
        first = self.store.load(self.middle.id).messages[0].content.split()
        return first[1], first[4]

    def _time(self, fn: Callable[[], Any], iterations: int, label: str, **how: Any) -> pk.Timing:
        if self.cpu:
            how["clock"] = time.process_time_ns
            label += " (CPU time)"
        return pk.time_calls(fn, iterations, label=label, **how)

    def cold(self) -> pk.Timing:
        fresh_cache, listing = cold_listing(self.store, self.scratch)
        return pk.time_with_floor(
            listing,
            verify_every_file(self.store),
            self.cold_runs,
            label=f"listing, cold ({self.files} files)",
            warmup=1,
            before=fresh_cache,
        )

    def warm(self) -> pk.Timing:
        str(self.magic("resume"))  # the kernel's cache, filled once
        return self._time(
            lambda: str(self.magic("resume")), self.iterations, "listing, warm (%session resume)"
        )

    def tab(self) -> pk.Timing:
        from IPython.core.completer import provisionalcompleter

        line = "%session resume "

        def tab() -> list[Any]:
            with provisionalcompleter():
                return list(self.shell.Completer.completions(line, len(line)))

        assert len(tab()) == min(self.files, 500)  # IPython shows at most 500 (MATCHES_LIMIT)
        return self._time(tab, self.iterations, f"TAB after {line!r} ({self.files} names)")

    def resume(self) -> pk.Timing:
        middle = self.middle

        def close_it() -> None:
            if self.registry.find_by_id(middle.id) is not None:
                self.magic(f'close "{middle.name}" --no-save')

        found = self._time(
            lambda: self.magic(f'resume "{middle.name}"'),
            self.iterations,
            f"resume NAME ({middle.message_count} messages)",
            before=close_it,
        )
        close_it()
        return found

    def first_search(self) -> pk.Timing:
        """The first search after the folder was made: it indexes every file."""
        rare, _ = self.words()
        start = time.perf_counter_ns()
        hits = self.magic(f"search {rare}")
        took = time.perf_counter_ns() - start
        # A big folder holds the word in more messages than the newest 20 shown.
        assert len(hits) == min(20, len(self.magic(f"search {rare} --limit 1000")))
        mine = self.magic(f'search {rare} --session "{self.middle.name}"')
        assert any(h.session_id == self.middle.id and h.number == 1 for h in mine.hits)
        return pk.Timing(f"first search (indexes {self.files} files)", [took])

    def search(self) -> pk.Timing:
        rare, _ = self.words()
        hits = len(self.magic(f"search {rare}"))
        return self._time(
            lambda: self.magic(f"search {rare}"),
            self.iterations,
            f"search a rare word ({hits} hits)",
        )

    def search_medium(self) -> pk.Timing:
        _, medium = self.words()
        return self._time(
            lambda: self.magic(f"search {medium}"),
            self.iterations,
            "search a medium word (limit 20)",
        )

    def search_common(self) -> pk.Timing:
        return self._time(
            lambda: self.magic("search dataframe"), 20, "search a word in every message (limit 20)"
        )

    def index(self) -> pk.Timing:
        middle = self.middle
        forget, index = index_new_file(self.store, middle.id)
        return pk.time_with_floor(
            index,
            lambda: self.store.load(middle.id),
            max(20, self.iterations // 5),
            label=f"index a new file ({middle.message_count} messages) vs its load",
            before=forget,
        )

    def measure(self) -> dict[str, pk.Timing]:
        """Every figure but the background indexer's, with that indexer off: it would index
        the files these figures change (see :meth:`background`)."""
        self.extension.settings.background_index = False
        names = ("cold", "warm", "tab", "resume", "first search", "search")
        names += ("search medium", "search common", "index")
        return {name: getattr(self, name.replace(" ", "_"))() for name in names}

    @property
    def extension(self) -> Any:
        from jido_magics.interface.extension import extension_for

        return extension_for(self.shell)

    def save_indexed_later(self) -> pk.Timing:
        """``%session save`` of a changed 1000-message session with the background indexer on,
        against the same save with it off (its floor): what indexing adds to a save the user
        waits for. Changes the middle session's file (measure it last)."""
        settings = self.extension.settings
        self.magic(f'resume "{self.middle.name}"')
        session = self.registry.active
        notes = iter(range(1_000_000))

        def save(background: bool) -> Any:
            settings.background_index = background
            return self.magic("save")

        try:
            return pk.time_with_floor(
                lambda: save(True),
                lambda: save(False),
                self.iterations,
                label=f"save, indexed in the background ({len(session.messages)} messages)",
                before=lambda: session.add_message("user", f"note {next(notes)}"),
            )
        finally:
            settings.background_index = False
            self.magic(f'close "{session.name}" --no-save')

    def background(self) -> tuple[pk.Timing, float, float, pk.Timing]:
        """The whole folder indexed by the background thread (its text forgotten first) while
        this thread lists it warm every 50 ms: (those listings, seconds until indexed, CPU
        seconds of the indexing thread, the first search afterwards)."""
        from jido_magics.persistence.catalog import cache_for

        ext = self.extension
        indexer = ext.indexer
        with cache_for(ext.store).using() as db:  # as if the folder had never been searched
            db.execute("DELETE FROM text")
            db.execute("UPDATE files SET indexed=''")
        str(self.magic("resume"))
        ext.settings.background_index, delay, indexer.delay = True, indexer.delay, 0.0
        samples = []
        try:
            process, mine, start = time.process_time(), time.thread_time(), time.perf_counter()
            ext.index_later(ext.store)
            while not indexer.wait_idle(0.05):  # a listing every 50 ms, as keys are typed
                begin = time.perf_counter_ns()
                str(self.magic("resume"))
                samples.append(time.perf_counter_ns() - begin)
            took = time.perf_counter() - start
            worker = (time.process_time() - process) - (time.thread_time() - mine)
        finally:
            ext.settings.background_index, indexer.delay = False, delay
        rare, _ = self.words()
        assert unindexed(ext.store) == 0
        begin = time.perf_counter_ns()
        self.magic(f"search {rare}")
        first = pk.Timing(
            "first search after it (indexes nothing)", [time.perf_counter_ns() - begin]
        )
        listing = pk.Timing("listing, warm, while the folder is indexed", samples)
        return listing, took, worker, first


def measure(
    shell: Any, store: SessionStore, scratch: Path, *, iterations: int = 100, cold: int = 7
) -> dict[str, pk.Timing]:
    """Every figure once (see :class:`Figures`)."""
    return Figures(shell, store, scratch, iterations=iterations, cold=cold).measure()


def best_of(
    figures: Figures,
    found: dict[str, pk.Timing],
    name: str,
    met: Callable[[pk.Timing], bool],
    attempts: int = 3,
) -> pk.Timing:
    """``found[name]`` (measured now when missing), or when it misses its goal (``met``
    false), the best of up to ``attempts`` measures in all (a burst of load on a shared
    machine inflates one run's p95; every run is a full run of the figure, with its floor
    measured in the same run). ``found`` is updated; the runs that missed are printed."""
    measure = getattr(figures, name.replace(" ", "_"))
    timing = found[name] if name in found else measure()
    for attempt in range(2, attempts + 1):
        if met(timing):
            break
        print(f"{timing.label}: p95 {timing.p95:.2f} ms missed its goal; run {attempt}")
        again = measure()
        timing = again if met(again) or _score(again) < _score(timing) else timing
    found[name] = timing
    return timing


def _score(timing: pk.Timing) -> float:
    return timing.ratio95 if timing.floor is not None else timing.p95


def report(found: dict[str, pk.Timing]) -> None:
    pk.print_timings(found.values())


def unindexed(store: SessionStore) -> int:
    """How many of the folder's verified files a search would have to index first."""
    from jido_magics.persistence.catalog import Listing
    from jido_magics.persistence.saved_search import to_index

    return len(to_index(Listing(store, for_search=True)))


def report_background(figures: Figures) -> tuple[pk.Timing, pk.Timing]:
    """Print the background indexer's figures; returns (save with it on vs off, the warm
    listing while it indexes the folder)."""
    listing, took, worker, first = figures.background()
    save = figures.save_indexed_later()  # changes a file: after the folder's figures
    pk.print_timings([save, listing, first])
    print(
        f"background indexing of {figures.files} files: {took:.1f} s, "
        f"{worker:.1f} s of its thread's CPU ({worker / figures.files * 1e3:.0f} ms a file)"
    )
    return save, listing
