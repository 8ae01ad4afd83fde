"""Save and load times of a 1000-message session (~1 KB each), with the floor of each.

Usage: .venv/bin/python scripts/bench_store.py [--runs 200] [--messages 1000] [--dir DIR]

The floor is ``perf_notebooks/perfkit.py``'s ``Floor`` (the one the persistence notebook divides
by): the same payload through only the unavoidable work, orjson + HMAC + writev/fsync/replace/
folder fsync (save), read + HMAC + ``compare_digest`` + parse (load). Each operation alternates
with its floor, so the ratio holds on a noisy machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a plain checkout
sys.path.insert(0, str(ROOT / "perf_notebooks"))

import perfkit as pk  # noqa: E402

from jido_magics.core import Caps, Session  # noqa: E402
from jido_magics.persistence import KeyRing, SessionStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--dir", default=None, help="folder to save in (default: a temp folder)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="jido-bench-", dir=args.dir))
    try:
        # A throwaway key: the benchmark never reads or creates the user's key file.
        store = SessionStore(base / "bench.sessions", keys=KeyRing([os.urandom(32)]))
        session = pk.fill(
            Session("bench", caps=Caps(max(args.messages, 1), 100, 500)), args.messages
        )
        path = store.save(session).path
        floor = pk.Floor.from_file(str(store.folder), store.keys.signing_key, str(path))
        floor.save()
        save = pk.time_with_floor(lambda: store.save(session), floor.save, args.runs, label="save")
        load = pk.time_with_floor(
            lambda: store.load(session.id), floor.load, args.runs, label="load"
        )
        size = path.stat().st_size
        print(f"{args.messages} messages, file {size / 1024:.0f} KiB, {args.runs} runs in {base}")
        pk.print_timings([save, load])
    finally:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
