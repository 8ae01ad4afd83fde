"""Save and load times of a 1000-message session (~1 KB each), with the floor of each.

Usage: .venv/bin/python scripts/bench_store.py [--runs 100] [--messages 1000] [--dir DIR]

The floor is the same bytes through the unavoidable work: orjson + HMAC + write/fsync/replace/
folder fsync (save), read + HMAC + parse (load). The ratio to the floor holds on a noisy machine.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a plain checkout

import orjson

from jido_magics.core import Caps, Session
from jido_magics.persistence import KeyRing, SessionStore, codec


def make_session(count: int) -> Session:
    s = Session("bench", caps=Caps(max(count, 1), 100, 500))
    for i in range(count):
        s.add_message("user" if i % 2 == 0 else "assistant", f"{i:06d} " + "lorem ipsum " * 84)
    return s


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {p50 * 1000:7.3f} ms  p95 {p95 * 1000:7.3f} ms  max {ordered[-1] * 1000:7.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--dir", default=None, help="folder to save in (default: a temp folder)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="jido-bench-", dir=args.dir))
    keys = KeyRing([os.urandom(32)])
    store = SessionStore(base / "bench.sessions", keys=keys)
    session = make_session(args.messages)
    path = store.save(session)
    size = path.stat().st_size

    save, load, save_floor, load_floor = [], [], [], []
    floor_dir = base / "floor"
    floor_dir.mkdir()
    plain = orjson.loads(codec.encode(session, 1, "2026-01-01T00:00:00.000000Z")[0])
    for _ in range(args.runs):
        start = time.perf_counter()
        store.save(session)
        save.append(time.perf_counter() - start)

        start = time.perf_counter()
        store.load(session.id)
        load.append(time.perf_counter() - start)

        start = time.perf_counter()
        payload = orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)
        sig = hmac.new(keys.signing_key, payload, hashlib.sha256).hexdigest()
        temp = floor_dir / "f.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.writev(fd, [sig.encode(), payload])
        os.fsync(fd)
        os.close(fd)
        os.replace(temp, floor_dir / "f.json")
        dfd = os.open(floor_dir, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
        save_floor.append(time.perf_counter() - start)

        start = time.perf_counter()
        data = (floor_dir / "f.json").read_bytes()
        hmac.new(keys.signing_key, data[64:], hashlib.sha256).hexdigest()
        orjson.loads(data[64:])
        load_floor.append(time.perf_counter() - start)

    where = base.parent
    print(f"{args.messages} messages, file {size / 1024:.0f} KiB, {args.runs} runs in {where}")
    print(f"save        {percentiles(save)}")
    print(f"save floor  {percentiles(save_floor)}")
    print(f"load        {percentiles(load)}")
    print(f"load floor  {percentiles(load_floor)}")
    ratio_save = statistics.median(save) / statistics.median(save_floor)
    ratio_load = statistics.median(load) / statistics.median(load_floor)
    print(f"ratio to floor (p50): save {ratio_save:.2f}, load {ratio_load:.2f}")
    shutil.rmtree(base)


if __name__ == "__main__":
    main()
