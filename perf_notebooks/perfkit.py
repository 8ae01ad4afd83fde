"""Helpers for the performance notebooks: timing, percentiles, tables, memory and the save/load
floor (the same bytes through the unavoidable work, measured in the same run).

The notebooks import this module from their own folder: nbval and ``jupyter nbconvert`` start
the kernel with the notebook's folder as the working directory.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

MIB = 1024 * 1024
SIGNING_DOMAIN = b"jido_magics/session/v1\n"

# -- timing -------------------------------------------------------------------------------------


def percentile(samples: list[int], q: float) -> int:
    """Nearest-rank percentile (``q`` in 0..100) of nanosecond samples."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n*q/100), at least the first
    return ordered[int(rank) - 1]


@dataclass
class Timing:
    """Nanosecond samples of one measured operation, with its percentiles in milliseconds."""

    label: str
    samples: list[int]
    floor: Timing | None = None

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50) / 1e6

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95) / 1e6

    @property
    def max(self) -> float:
        return max(self.samples) / 1e6

    @property
    def ratio50(self) -> float:
        """p50 of the operation over p50 of its floor."""
        assert self.floor is not None
        return self.p50 / self.floor.p50

    @property
    def ratio95(self) -> float:
        """p95 of the operation over p95 of its floor."""
        assert self.floor is not None
        return self.p95 / self.floor.p95


def time_calls(
    fn: Callable[[], Any],
    iterations: int,
    *,
    label: str = "",
    warmup: int = 3,
    before: Callable[[], Any] | None = None,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> Timing:
    """Call ``fn`` ``iterations`` times, timing each call alone with ``clock`` (wall time;
    ``time.process_time_ns``: the CPU time of the process).

    ``before`` runs untimed before every call (to set up state the call consumes). The garbage
    collector runs before the loop and stays enabled, as in real use. What ``fn`` returns is
    freed after the clock stops (a loaded session is kept by its caller, not dropped at once).
    """
    for _ in range(warmup):
        if before is not None:
            before()
        fn()
    gc.collect()
    samples = []
    for _ in range(iterations):
        if before is not None:
            before()
        start = clock()
        result = fn()
        end = clock()
        del result  # released untimed: a caller keeps what the operation returns
        samples.append(end - start)
    return Timing(label, samples)


def time_alternating(
    first: Callable[[], Any],
    second: Callable[[], Any],
    iterations: int,
    *,
    labels: tuple[str, str] = ("", ""),
    warmup: int = 3,
    before: Callable[[], Any] | None = None,
) -> tuple[Timing, Timing]:
    """Time ``first`` and ``second`` alternately, so both see the same machine load.
    ``before`` runs untimed before each of them."""
    for _ in range(warmup):
        for fn in (first, second):
            if before is not None:
                before()
            fn()
    gc.collect()
    clock = time.perf_counter_ns
    samples: tuple[list[int], list[int]] = ([], [])
    for _ in range(iterations):
        for fn, taken in zip((first, second), samples, strict=True):
            if before is not None:
                before()
            start = clock()
            result = fn()
            end = clock()
            del result  # released untimed, as in time_calls
            taken.append(end - start)
    return Timing(labels[0], samples[0]), Timing(labels[1], samples[1])


def time_with_floor(
    fn: Callable[[], Any],
    floor: Callable[[], Any],
    iterations: int,
    *,
    label: str = "",
    warmup: int = 3,
    before: Callable[[], Any] | None = None,
) -> Timing:
    """Time ``fn`` and its ``floor`` alternately; the floor's timing hangs on ``.floor``."""
    done, base = time_alternating(
        fn, floor, iterations, labels=(label, f"{label} floor"), warmup=warmup, before=before
    )
    done.floor = base
    return done


def print_timings(timings: Iterable[Timing], *, unit: str = "ms") -> None:
    """A table of p50/p95/max (and floor and ratio when measured) per operation."""
    rows = list(timings)
    scale = {"ms": 1.0, "us": 1000.0}[unit]
    has_floor = any(t.floor is not None for t in rows)
    width = max([len(t.label) for t in rows] + [9])
    head = f"{'operation':<{width}}  {'n':>5}  {'p50 ' + unit:>10}  {'p95 ' + unit:>10}"
    head += f"  {'max ' + unit:>10}"
    if has_floor:
        head += f"  {'floor p50':>10}  {'floor p95':>10}  {'ratio p50':>9}  {'ratio p95':>9}"
    print(head)
    print("-" * len(head))
    for t in rows:
        line = f"{t.label:<{width}}  {t.n:>5}  {t.p50 * scale:>10.4f}  {t.p95 * scale:>10.4f}"
        line += f"  {t.max * scale:>10.4f}"
        if t.floor is not None:
            line += f"  {t.floor.p50 * scale:>10.4f}  {t.floor.p95 * scale:>10.4f}"
            line += f"  {t.ratio50:>9.2f}  {t.ratio95:>9.2f}"
        print(line)


# -- memory -------------------------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            resident = int(f.read().split()[1])
    except OSError:
        return 0
    return resident * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Held:
    """Memory that a built object graph holds: Python allocations (tracemalloc) and RSS."""

    label: str
    traced: int
    rss: int
    text: int = 0

    @property
    def traced_mb(self) -> float:
        return self.traced / MIB

    @property
    def text_mb(self) -> float:
        return self.text / MIB

    @property
    def over_text(self) -> float:
        return self.traced / self.text if self.text else float("nan")


def measure_held(label: str, build: Callable[[], Any]) -> tuple[Held, Any]:
    """Memory held by what ``build()`` returns (kept alive), measured with tracemalloc after a
    full collection, and the RSS growth beside it. Returns the figure and the built object."""
    gc.collect()
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        rss_before = rss_bytes()
        built = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        rss_after = rss_bytes()
    finally:
        if started_here:
            tracemalloc.stop()
    return Held(label, after - before, rss_after - rss_before), built


def measure_retained(label: str, cycle: Callable[[], Any], cycles: int, warmup: int = 5) -> Held:
    """Memory left behind by ``cycles`` runs of ``cycle()`` (which must clean up after itself):
    what a leak would grow. Caches filled by the first runs are excluded by ``warmup``."""
    for _ in range(warmup):
        cycle()
    held, _ = measure_held(label, lambda: [cycle() for _ in range(cycles)] and None)
    return held


def text_bytes(sessions: Iterable[Any]) -> int:
    """UTF-8 size of the message texts the sessions hold."""
    return sum(len(m.content.encode()) for s in sessions for m in s.messages)


def print_memory(rows: Iterable[Held]) -> None:
    rows = list(rows)
    width = max([len(r.label) for r in rows] + [9])
    head = (
        f"{'case':<{width}}  {'held MB':>9}  {'held KB':>10}  {'RSS +MB':>8}  "
        f"{'text MB':>8}  {'held/text':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        ratio = f"{r.over_text:>9.2f}" if r.text else f"{'-':>9}"
        text = f"{r.text_mb:>8.2f}" if r.text else f"{'-':>8}"
        print(
            f"{r.label:<{width}}  {r.traced_mb:>9.3f}  {r.traced / 1024:>10.1f}  "
            f"{r.rss / MIB:>8.2f}  {text}  {ratio}"
        )


# -- content ------------------------------------------------------------------------------------

_WORDS = (
    "The model reads the dataframe and finds outliers in column 'price': df.describe() shows "
    "mean 12.5 and std 3.1, so values above 40 look wrong. Consider a log scale, a robust "
    "z-score, or IQR fences (Q1 - 1.5*IQR, Q3 + 1.5*IQR).\n```python\nq1, q3 = "
    "df.price.quantile([0.25, 0.75])\n```\n"
)


def message_text(i: int, size: int = 1024, *, non_ascii: bool = False, tag: str = "") -> str:
    """``size`` characters of chat-like text (prose and code), different for each ``i`` (and
    ``tag``) so no two messages share a string or a rendering. ASCII by default, as ~1 KB means
    1 KB; ``non_ascii`` adds an em dash, which makes CPython store every character of the string
    in 2 bytes."""
    head = f"[{tag}{i}] " + ("\u2014 " if non_ascii else "")
    body = (_WORDS * (size // len(_WORDS) + 2))[: max(0, size - len(head))]
    return head + body


def fill(
    session: Any, count: int, size: int = 1024, *, non_ascii: bool = False, tag: str | None = None
) -> Any:
    """Add ``count`` alternating user/assistant messages of ``size`` characters, tagged with
    the session's id so that two sessions never hold the same texts."""
    tag = f"{session.id}:" if tag is None else tag
    for i in range(count):
        role = "user" if i % 2 == 0 else "assistant"
        session.add_message(role, message_text(i, size, non_ascii=non_ascii, tag=tag))
    return session


# -- the save/load floor ------------------------------------------------------------------------


class Floor:
    """The unavoidable work of a save or a load of one session file, on the same bytes.

    save: ``orjson.dumps`` of the plain payload dict, HMAC-SHA256, the envelope, then write,
    flush, ``fsync``, ``os.replace`` and ``fsync`` of the folder.
    load: read the file, HMAC over the payload bytes, ``compare_digest``, ``orjson.loads``.
    Nothing else (no records, no schema checks, no locks): the product's figure over this one is
    its overhead.
    """

    def __init__(self, folder: str, key: bytes, payload_dict: dict[str, Any]) -> None:
        self.folder = folder
        self.key = key
        self.kid = hmac.new(key, b"jido-kid", hashlib.sha256).hexdigest()[:16].encode()
        self.plain = payload_dict
        self.path = os.path.join(folder, "floor.json")
        self.tmp = os.path.join(folder, ".floor.json.tmp")

    @classmethod
    def from_file(cls, folder: str, key: bytes, session_file: str) -> Floor:
        """A floor for the payload a real session file holds."""
        with open(session_file, "rb") as f:
            data = f.read()
        start = data.index(b'"payload":') + len(b'"payload":')
        payload = data[start : data.rindex(b"}")]
        return cls(folder, key, orjson.loads(payload))

    def save(self) -> None:
        payload = orjson.dumps(self.plain, option=orjson.OPT_SORT_KEYS)
        sig = _signature(self.key, payload)
        head = b'{"jido_session":1,"kid":"' + self.kid + b'","sig":"' + sig + b'","payload":'
        # The least work: one writev of the three parts (no joined copy), fsync, rename, and
        # fsync of the folder so the rename is durable.
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.writev(fd, (head, payload, b"}\n"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self.tmp, self.path)
        folder = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def load(self) -> Any:
        with open(self.path, "rb", buffering=0) as f:
            data = f.read()
        view = memoryview(data)  # slices without copying the payload
        start = data.index(b'"payload":') + len(b'"payload":')
        sig_start = data.index(b'"sig":"') + len(b'"sig":"')
        payload = view[start : len(data) - 2]
        if not hmac.compare_digest(_signature(self.key, payload), data[sig_start : sig_start + 64]):
            raise ValueError("floor file does not verify")
        return orjson.loads(payload)

    @property
    def file_size(self) -> int:
        return os.path.getsize(self.path)


def _signature(key: bytes, payload: bytes | memoryview) -> bytes:
    """HMAC-SHA256 over the domain and the payload, fed in two parts (no concatenated copy)."""
    mac = hmac.new(key, SIGNING_DOMAIN, hashlib.sha256)
    mac.update(payload)
    return mac.hexdigest().encode()


# -- a fresh interpreter ------------------------------------------------------------------------


def time_in_subprocess(
    code: str, runs: int = 7, *, setup: str = "", cwd: str | None = None, label: str = ""
) -> Timing:
    """Wall time of ``code`` in a fresh interpreter, measured inside it with ``perf_counter_ns``
    after the untimed ``setup`` (so start-up is excluded), over ``runs`` interpreters."""
    program = (
        setup
        + "\nimport time as _t\n_s = _t.perf_counter_ns()\n"
        + code
        + "\nprint('ELAPSED_NS', _t.perf_counter_ns() - _s)\n"
    )
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", program],
            check=True,
            capture_output=True,
            text=True,
            cwd=cwd,
        ).stdout
        line = [x for x in out.splitlines() if x.startswith("ELAPSED_NS ")][-1]
        samples.append(int(line.split()[1]))
    return Timing(label or "fresh interpreter", samples)
