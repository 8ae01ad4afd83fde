"""Kernel-side switch time with the session widget shown, two 1000-message sessions.

Runs the measurement inside a real ipykernel (started with jupyter_client, so every widget
change is serialized and sent on the IOPub socket as in JupyterLab), or with ``--in-process``
inside a plain InteractiveShell. A switch is timed from ``registry.switch`` (or the
``%session switch`` magic) until it returns: the registry change plus the widget's tab sync and
one page render, all synchronous.

    .venv/bin/python scripts/bench_widget_switch.py [--switches 200] [--in-process]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

MEASURE = r"""
import json, time, statistics
%load_ext jido_magics
import jido_magics
from jido_magics.interface.extension import extension_for
registry = jido_magics.get_registry()
_PARAGRAPH = ("Here is **some** `markdown` with a [link](https://example.com) and a list:\n\n"
              "- one item\n- another item\n\n")
def _text(i):
    body = f"Message {i}. " + _PARAGRAPH * 8
    return body[:1000]
for name in ("first", "second"):
    session = registry.create(name)
    for i in range(1000):
        session.add_message("user" if i % 2 == 0 else "assistant", _text(i))
get_ipython().run_line_magic("session", "ui")
view = extension_for(get_ipython()).session_view
assert view.wait_prewarmed(120)
def _percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]
def _stats(values):
    ms = [v * 1000 for v in values]
    return {"p50_ms": round(_percentile(ms, 0.50), 3), "p95_ms": round(_percentile(ms, 0.95), 3),
            "max_ms": round(max(ms), 3), "n": len(ms)}
t0 = time.perf_counter(); registry.switch("first"); first = time.perf_counter() - t0
api = []
for i in range(SWITCHES):
    t0 = time.perf_counter()
    registry.switch("second" if i % 2 == 0 else "first")
    api.append(time.perf_counter() - t0)
    assert view.page_label.value == "messages 951–1000 of 1000"
magic = []
import io, contextlib
for i in range(SWITCHES):
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        get_ipython().run_line_magic("session", "switch " + ("second" if i % 2 == 0 else "first"))
        magic.append(time.perf_counter() - t0)
clicks = []
ids = [registry.get("first").id, registry.get("second").id]
for i in range(SWITCHES):
    t0 = time.perf_counter()
    view.tabs.value = ids[i % 2]  # what a click on a session button does in the kernel
    clicks.append(time.perf_counter() - t0)
    assert registry.active.id == ids[i % 2]
colds = []
for i in range(10):
    view.render_cache.clear()  # as if the page had never been rendered nor prewarmed
    t0 = time.perf_counter()
    registry.switch("second" if i % 2 == 0 else "first")
    colds.append(time.perf_counter() - t0)
view.close()
bare = []
for i in range(SWITCHES):
    t0 = time.perf_counter()
    registry.switch("second" if i % 2 == 0 else "first")
    bare.append(time.perf_counter() - t0)
print("RESULT " + json.dumps({
    "first switch after prewarm_ms": round(first * 1000, 3),
    "switch to a never-rendered page (cache cleared)": _stats(colds),
    "registry.switch with widget": _stats(api),
    "%session switch with widget": _stats(magic),
    "click on a session button": _stats(clicks),
    "registry.switch, widget closed": _stats(bare),
}))
"""


def in_process(code: str) -> str:
    import io
    from contextlib import redirect_stdout

    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    out = io.StringIO()
    with redirect_stdout(out):
        result = shell.run_cell(code)
    result.raise_error()
    return out.getvalue()


def in_kernel(code: str) -> str:
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        lines: list[str] = []

        def keep(message: dict) -> None:
            if message["msg_type"] == "stream":
                lines.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                lines.append("\n".join(message["content"]["traceback"]))

        reply = client.execute_interactive(code, timeout=600, output_hook=keep)
        if reply["content"]["status"] != "ok":
            raise SystemExit("".join(lines))
        return "".join(lines)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=200)
    parser.add_argument("--in-process", action="store_true", help="plain InteractiveShell")
    args = parser.parse_args()
    # Keep the key file and Jupyter data away from the user's own folders.
    state = tempfile.mkdtemp(prefix="jido-bench-")
    os.environ.setdefault("JIDO_MAGICS_KEY_FILE", os.path.join(state, "session_key"))
    os.environ.setdefault("JUPYTER_DATA_DIR", os.path.join(state, "jupyter-data"))
    os.chdir(state)
    code = MEASURE.replace("SWITCHES", str(args.switches))
    output = in_process(code) if args.in_process else in_kernel(code)
    for line in output.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            where = "plain InteractiveShell" if args.in_process else "ipykernel (real comms)"
            print(f"{where}, two 1000-message sessions (~1 KB Markdown each), widget shown:")
            for key, value in result.items():
                print(f"  {key}: {value}")
            return
    sys.exit(f"no result in the output:\n{output[-3000:]}")


if __name__ == "__main__":
    main()
