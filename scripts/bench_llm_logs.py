"""``llm logs -q WORD`` (simonw/llm) on the messages of perf_notebooks/saved_folder.ipynb, for
comparison with ``%session search``. Not part of the test suite: llm is not a dependency.

    python3 -m venv /tmp/llm-venv && /tmp/llm-venv/bin/pip install llm orjson
    /tmp/llm-venv/bin/python scripts/bench_llm_logs.py 30 100

Every conversation is logged through llm's own Python API with a local fake model (it
answers with the next assistant text: no network), so logs.db is what llm writes (0.36:
content-addressed tables and their full-text index). Each user + assistant pair is one llm
response; the API logs about 20 a second here, so keep the folder small (30 x 100). The
query is timed in process (``llm logs`` through click's test runner, output discarded) and
as a command (a new interpreter each time, as a user types it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "perf_notebooks"))


def main() -> int:
    sessions, messages = int(sys.argv[1]), int(sys.argv[2])
    scratch = Path(tempfile.mkdtemp(prefix="jido-llm-bench-"))
    try:
        return measure(sessions, messages, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def measure(sessions: int, messages: int, scratch: Path) -> int:
    os.environ["LLM_USER_PATH"] = str(scratch)
    import click.testing
    import folderkit as fk
    import llm
    import llm.cli
    import sqlite_utils
    from llm.migrations import migrate

    replies: Iterator[str] = iter(())

    class Fake(llm.Model):
        model_id = "fake-echo"

        def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any) -> Any:
            yield next(replies)

    class Plugin:
        @llm.hookimpl
        def register_models(self, register: Any) -> None:
            register(Fake())

    llm.plugins.pm.register(Plugin(), name="fake-echo")
    db = sqlite_utils.Database(scratch / "logs.db")
    migrate(db)
    model = llm.get_model("fake-echo")
    start = time.perf_counter()
    for texts in fk.conversations(sessions, messages):
        conversation = model.conversation()
        replies = iter(texts[1::2])
        for prompt in texts[0::2]:
            response = conversation.prompt(prompt)
            response.text()
            response.log_to_db(db)
    made = time.perf_counter() - start
    size = (scratch / "logs.db").stat().st_size
    print(f"logged {sessions} x {messages} messages in {made:.1f} s; logs.db {size / 1e6:.0f} MB")
    middle = list(fk.conversations(sessions, messages))[sessions // 2][0]
    words = {"rare": middle.split()[1], "medium": middle.split()[4], "common": "dataframe"}
    runner = click.testing.CliRunner()
    for kind, word in words.items():
        samples = []
        for _ in range(20):
            begin = time.perf_counter_ns()
            result = runner.invoke(llm.cli.cli, ["logs", "-q", word, "-n", "20"])
            samples.append(time.perf_counter_ns() - begin)
            assert result.exit_code == 0, result.output
        samples.sort()
        print(
            f"llm logs -q {kind} word, in process: p50 {samples[10] / 1e6:.1f} ms, "
            f"p95 {samples[18] / 1e6:.1f} ms"
        )
    llm_command = Path(sys.executable).parent / "llm"
    samples = []
    for _ in range(5):
        begin = time.perf_counter_ns()
        subprocess.run(
            [str(llm_command), "logs", "-q", words["rare"], "-n", "20"],
            check=True,
            capture_output=True,
        )
        samples.append(time.perf_counter_ns() - begin)
    samples.sort()
    print(f"llm logs -q rare word, as a command: p50 {samples[2] / 1e6:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
