"""Real IPython kernels (``jupyter_client``) for tests that need separate kernel processes:
two kernels on one folder, a kernel killed with SIGKILL, shut down normally or restarted, the
payloads of a reply (``set_next_input``)."""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Colours of a traceback (kept out of the text tests read).
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Outcome:
    """What one cell did: its stdout (with its displays as last updated), its stderr (with the
    traceback of an exception), its reply status ("ok"/"error") and the whole reply."""

    out: str
    err: str
    status: str
    reply: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.out + self.err


class Kernel:
    """One kernel process started in ``cwd`` (the test's environment: key file, data folder)."""

    def __init__(self, cwd: Path, **env: str) -> None:
        from jupyter_client.manager import start_new_kernel

        # No notebook of the test run's own, unless the test names one.
        environ = {k: v for k, v in os.environ.items() if k != "JPY_SESSION_NAME"} | env
        self.manager, self.client = start_new_kernel(
            kernel_name="python3", cwd=str(cwd), env=environ, startup_timeout=60
        )
        self.env = environ
        self.alive = True
        self.run("import jido_magics")

    def restart(self) -> None:
        """A clean shutdown (atexit handlers run), then a new kernel process in its place."""
        self.manager.restart_kernel(now=False, env=self.env)
        self.client.wait_for_ready(timeout=60)
        self.run("import jido_magics")

    def run(self, code: str, timeout: float = 60) -> Outcome:
        msg_id = self.client.execute(code)
        out: list[str] = []
        err: list[str] = []
        displays: dict[str, int] = {}  # display id -> its place in out
        while True:
            msg: dict[str, Any] = self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                (out if content["name"] == "stdout" else err).append(content["text"])
            elif kind == "error":
                err.append(ANSI.sub("", "\n".join(content["traceback"])) + "\n")
            elif kind in ("execute_result", "display_data", "update_display_data"):
                text = content["data"].get("text/plain", "") + "\n"
                display_id = content.get("transient", {}).get("display_id")
                if display_id in displays:
                    out[displays[display_id]] = text
                    continue
                if display_id:
                    displays[display_id] = len(out)
                out.append(text)
            elif kind == "status" and content["execution_state"] == "idle":
                break
        while True:  # the reply to this request (an interrupted one may have left another)
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        return Outcome("".join(out), "".join(err), content["status"], content)

    def value(self, expression: str) -> str:
        """``print(expression)`` in the kernel; its stdout, stripped."""
        outcome = self.run(f"print({expression})")
        assert outcome.status == "ok", outcome.text
        return outcome.out.strip()

    def kill(self) -> None:
        """SIGKILL: no atexit, no autosave, as when the machine or the OOM killer stops it."""
        os.kill(self.manager.provisioner.pid, signal.SIGKILL)
        self.manager.provisioner.process.wait(timeout=30)
        self.stop()

    def shutdown(self) -> None:
        """A normal shutdown, as when the notebook is closed: atexit handlers run."""
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)
        self.alive = False

    def stop(self) -> None:
        if self.alive:
            self.client.stop_channels()
            self.manager.shutdown_kernel(now=True)
            self.alive = False
