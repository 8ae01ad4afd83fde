"""Issue 11: the "nothing lost" property. Random sequences of chat / new / close / resume /
save / delete / undelete / kill across two real kernels (``jupyter_client``) on one sessions
folder; afterwards every message acknowledged to the user (a ``%chat`` cell that finished)
exists in some verified file (the folder or its trash) or in a session open in a live kernel.
Every step is either done or refused in one line: never a traceback."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest
from kernels import Kernel, Outcome

from jido_magics.persistence import SessionStore
from jido_magics.persistence.trash import trashed

OPEN_CONTENTS = (
    "import json; print(json.dumps([m.content for s in jido_magics.get_registry().sessions "
    "for m in s.messages]))"
)
_TRASHED = re.compile(r"([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.\d{8}T\d{6}Z(?:-\d+)?\.json")


class World:
    """Two kernels on one folder, and what the user was told."""

    def __init__(self, workdir: Path, rng: random.Random) -> None:
        self.workdir = workdir
        self.folder = workdir / ".sessions"
        self.rng = rng
        self.kernels = [self._start(), self._start()]
        self.acknowledged: list[str] = []
        self.steps: list[str] = []
        self.counter = 0

    def _start(self) -> Kernel:
        kernel = Kernel(self.workdir)
        loaded = kernel.run("%load_ext jido_magics")
        assert loaded.status == "ok", loaded.text
        return kernel

    def saved_ids(self) -> list[str]:
        if not self.folder.exists():
            return []
        return sorted(n[:-5] for n in os.listdir(self.folder) if n.endswith(".json"))

    def trashed_ids(self) -> list[str]:
        trash = self.folder / ".trash"
        if not trash.exists():
            return []
        return sorted({m.group(1) for n in os.listdir(trash) if (m := _TRASHED.fullmatch(n))})

    def run(self, index: int, code: str) -> Outcome:
        self.steps.append(f"{'AB'[index]}: {code}")
        outcome = self.kernels[index].run(code)
        assert "Traceback" not in outcome.text, (self.steps, outcome.text)
        if outcome.status != "ok":  # refused: one plain line
            assert outcome.err.startswith("UsageError: "), (self.steps, outcome.text)
            assert outcome.err.count("\n") == 1, (self.steps, outcome.text)
        return outcome

    def step(self) -> None:
        index = self.rng.randrange(2)
        action = self.rng.choices(
            ["chat", "new", "close", "resume", "save", "delete", "undelete", "kill"],
            weights=[8, 2, 2, 4, 2, 2, 2, 1],
        )[0]
        self.counter += 1
        if action == "chat":
            text = f"message-{self.counter}"
            outcome = self.run(index, f"%chat {text}")
            if outcome.status == "ok" and "offline" in outcome.out.lower():
                self.acknowledged.append(text)
        elif action == "new":
            self.run(index, f"%session new s{self.counter}")
        elif action == "close":
            self.run(index, "%session close")
        elif action == "save":
            self.run(index, "%session save")
        elif action == "resume" and self.rng.random() < 0.5:
            # what the users did: open the session the other kernel is working on
            other = self.kernels[1 - index].run(
                "print(getattr(jido_magics.get_registry().active, 'id', ''))"
            )
            if other.out.strip() in self.saved_ids():
                self.run(index, f"%session resume {other.out.strip()}")
        elif action in ("resume", "delete"):
            ids = self.saved_ids()
            if ids:
                self.run(index, f"%session {action} {self.rng.choice(ids)}")
        elif action == "undelete":
            ids = self.trashed_ids()
            if ids:
                self.run(index, f"%session undelete {self.rng.choice(ids)}")
        elif action == "kill":
            self.steps.append(f"{'AB'[index]}: SIGKILL")
            self.kernels[index].kill()
            self.kernels[index] = self._start()

    def in_open_sessions(self) -> set[str]:
        kept: set[str] = set()
        for kernel in self.kernels:
            outcome = kernel.run(OPEN_CONTENTS)
            assert outcome.status == "ok", outcome.text
            kept.update(json.loads(outcome.out))
        return kept

    def in_files(self) -> set[str]:
        kept: set[str] = set()
        store = SessionStore(self.folder)
        for item in store.saved():
            if item.ok:
                kept.update(m.content for m in store.peek(item.path).messages)
        for entry in trashed(store):
            if entry.saved.ok:
                kept.update(m.content for m in store.peek(entry.path).messages)
        return kept

    def stop(self) -> None:
        for kernel in self.kernels:
            kernel.stop()


def check_nothing_lost(workdir: Path, seed: int, steps: int) -> None:
    world = World(workdir, random.Random(seed))
    try:
        world.run(0, "%session new first")
        world.run(0, "%chat message-0")
        world.acknowledged.append("message-0")
        for _ in range(steps):
            world.step()
        kept = world.in_open_sessions() | world.in_files()
        lost = [text for text in world.acknowledged if text not in kept]
        assert not lost, (seed, lost, world.steps)
        for kernel in world.kernels:  # the notebooks are closed: the exit-saves run
            kernel.shutdown()
        kept = world.in_files()
    finally:
        world.stop()
    lost = [text for text in world.acknowledged if text not in kept]
    assert not lost, ("after shutdown", seed, lost, world.steps)
    assert len(world.acknowledged) > 3, world.steps  # the sequence really chatted


@pytest.mark.parametrize("seed", [7, 42])
def test_nothing_acknowledged_is_lost_across_two_kernels(workdir, seed) -> None:
    check_nothing_lost(workdir, seed, steps=50)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 99, 2026])
def test_nothing_lost_longer_sequences(workdir, seed) -> None:
    check_nothing_lost(workdir, seed, steps=80)
