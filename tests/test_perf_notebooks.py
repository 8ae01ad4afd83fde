"""The performance notebooks' shape and their helpers (no timing here: nbval runs the figures).

Each notebook's measuring cells print under the ``nbval-ignore-output`` tag and the next code cell
asserts; committed notebooks keep outputs and execution counts but no widget state. The floor
that save/load figures are divided by must do the real format's work, so its file is checked
with the product's own envelope reader.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

PERF_DIR = Path(__file__).resolve().parent.parent / "perf_notebooks"
NOTEBOOKS = ("session_switching", "memory", "persistence", "startup", "saved_folder")
MEASURES = ("pk.time_", "pk.measure_", "time_switching(", "fk.measure(")


def _perfkit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("perfkit", PERF_DIR / "perfkit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("perfkit", module)
    spec.loader.exec_module(module)
    return module


def _code_cells(name: str) -> list[dict]:
    notebook = json.loads((PERF_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
    assert "widgets" not in notebook.get("metadata", {}), f"{name}: widget state committed"
    return [c for c in notebook["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_executed_without_widget_state(name: str) -> None:
    cells = _code_cells(name)
    assert cells
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, f"{name}: a cell was not executed before committing"
    assert counts == sorted(counts), f"{name}: cells were executed out of order"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_measuring_cell_prints_ignored_output_then_an_assert(name: str) -> None:
    cells = _code_cells(name)
    ignored = 0
    for index, cell in enumerate(cells[1:], 1):  # the first cell sets up and defines helpers
        source = "".join(cell["source"])
        assert "NBVAL" not in source, f"{name} cell {index}: an nbval marker belongs in its tags"
        is_ignored = "nbval-ignore-output" in cell["metadata"].get("tags", [])
        if any(marker in source for marker in MEASURES):
            assert is_ignored, f"{name} cell {index} measures but its output is compared"
        if not is_ignored or "goal" in source:  # the closing figures-against-goals cell
            continue
        ignored += 1
        assert cell["outputs"], f"{name} cell {index}: its figures were not kept"
        following = "".join(cells[index + 1]["source"]) if index + 1 < len(cells) else ""
        assert "assert " in following, f"{name} cell {index}: no assert cell follows it"
    assert ignored >= 1


def test_percentile_is_nearest_rank() -> None:
    pk = _perfkit()
    samples = list(range(1, 101))
    assert pk.percentile(samples, 50) == 50
    assert pk.percentile(samples, 95) == 95
    assert pk.percentile(samples, 100) == 100
    assert pk.percentile([7], 95) == 7
    timing = pk.Timing("x", [2_000_000, 1_000_000, 3_000_000])
    assert (timing.p50, timing.max) == (2.0, 3.0)


def test_floor_writes_a_file_the_store_verifies(tmp_path: Path) -> None:
    """The floor is the real format's work on the same payload: the product's envelope reader
    accepts its file, and its load returns what the product saved."""
    pk = _perfkit()
    from jido_magics import Session
    from jido_magics.persistence import KeyRing, SessionStore
    from jido_magics.persistence.envelope import open_envelope, verify

    keys = KeyRing([os.urandom(32)])
    store = SessionStore(tmp_path / "store", keys=keys)
    session = pk.fill(Session("floor"), 5)
    path = store.save(session).path
    floor = pk.Floor.from_file(str(tmp_path), keys.signing_key, str(path))
    floor.save()
    floor_file = Path(floor.path)
    data = floor_file.read_bytes()
    verify(open_envelope(data, floor_file), keys, floor_file)
    assert data == path.read_bytes()  # the same bytes: sorted keys, same envelope
    assert floor.load()["messages"] == [m.to_dict() for m in session.messages]
    assert not list(tmp_path.glob(".floor*.tmp"))


def test_fill_gives_each_session_its_own_texts() -> None:
    pk = _perfkit()
    from jido_magics import Session

    first, second = pk.fill(Session("a"), 4), pk.fill(Session("b"), 4)
    texts = [m.content for m in (*first.messages, *second.messages)]
    assert len(set(texts)) == 8
    assert all(len(text) == 1024 and text.isascii() for text in texts)
    assert [m.role for m in first.messages] == ["user", "assistant"] * 2
