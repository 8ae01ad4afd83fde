"""The figures of perf_notebooks/saved_folder.ipynb for any folder size, outside Jupyter.

    .venv/bin/python scripts/bench_saved_folder.py 300 1000      # sessions, messages each
    .venv/bin/python scripts/bench_saved_folder.py 3000 1000 --keep /tmp/big   # reuse later

Everything happens in a scratch folder (kept with --keep) with a throwaway key and cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "perf_notebooks"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("sessions", type=int)
    parser.add_argument("messages", type=int)
    parser.add_argument("--keep", help="scratch folder to use and keep (reused if filled)")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--cold", type=int, default=7, help="cold listings (each verifies all)")
    args = parser.parse_args()
    scratch = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="jido-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        return measure(args, scratch)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def measure(args: argparse.Namespace, scratch: Path) -> int:
    os.environ["JIDO_MAGICS_KEY_FILE"] = str(scratch / "key")
    os.environ["JIDO_MAGICS_CACHE_DIR"] = str(scratch / "cache")
    import folderkit as fk

    from jido_magics.persistence.store import SessionStore

    folder = scratch / "nb.sessions"
    store = SessionStore(folder)
    if not any(folder.glob("*.json")):
        start = time.perf_counter()
        fk.make_folder(store, args.sessions, args.messages)
        print(f"made {args.sessions} x {args.messages} in {time.perf_counter() - start:.1f} s")
    waited = fk.wait_until_settled(store)
    size = sum(p.stat().st_size for p in folder.glob("*.json"))
    print(f"folder: {size / 1e6:.0f} MB; waited {waited:.1f} s for the files to settle")
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_line_magic("load_ext", "jido_magics")
    shell.run_line_magic("config", f"SessionMagics.sessions_dir = {str(folder)!r}")
    found = fk.measure(
        shell, SessionStore(folder), scratch, iterations=args.iterations, cold=args.cold
    )
    fk.report(found)
    cpu = fk.Figures(shell, SessionStore(folder), scratch, iterations=args.iterations, cpu=True)
    fk.report({name: getattr(cpu, name)() for name in ("warm", "tab", "resume", "search")})
    fk.report_background(cpu)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
