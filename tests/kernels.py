"""Real IPython kernels (``jupyter_client``) for tests that need separate kernel processes:
two kernels on one folder, a kernel killed with SIGKILL, a kernel shut down normally."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Outcome:
    """What one cell did: its stdout and stderr text and its reply status ("ok"/"error")."""

    out: str
    err: str
    status: str

    @property
    def text(self) -> str:
        return self.out + self.err


class Kernel:
    """One kernel process started in ``cwd`` (the test's environment: key file, data folder)."""

    def __init__(self, cwd: Path, **env: str) -> None:
        from jupyter_client.manager import start_new_kernel

        environ = {**os.environ, **env}
        environ.pop("JPY_SESSION_NAME", None)
        self.manager, self.client = start_new_kernel(
            kernel_name="python3", cwd=str(cwd), env=environ, startup_timeout=60
        )
        self.alive = True
        self.run("import jido_magics")

    def run(self, code: str, timeout: float = 60) -> Outcome:
        msg_id = self.client.execute(code)
        out: list[str] = []
        err: list[str] = []
        while True:
            msg: dict[str, Any] = self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                (out if content["name"] == "stdout" else err).append(content["text"])
            elif kind == "error":
                err.append(f"{content['ename']}: {content['evalue']}\n")
            elif kind in ("execute_result", "display_data"):
                out.append(content["data"].get("text/plain", "") + "\n")
            elif kind == "status" and content["execution_state"] == "idle":
                break
        while True:  # the reply to this request (an interrupted one may have left another)
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        return Outcome("".join(out), "".join(err), reply["content"]["status"])

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
