"""The quick-start notebook is a complete, stored tour (nbval runs it; this checks its shape)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"


def notebook():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    return nb


def code_sources() -> list[str]:
    return [cell.source for cell in notebook().cells if cell.cell_type == "code"]


def tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


def test_the_tour_covers_every_step() -> None:
    source = "\n".join(code_sources())
    steps = ("new", "list", "switch", "show", "save", "resume", "export", "config", "ui")
    for step in (*steps, "fork", "retry", "undo"):
        assert re.search(rf"^%session {step}\b", source, re.M), step
    assert re.search(r"^%%?chat --code", source, re.M)
    assert "%load_ext jido_magics" in source and "%unload_ext jido_magics" in source
    assert re.search(r"^%%chat", source, re.M) and re.search(r"^%chat ", source, re.M)
    assert "--provider openai" not in source  # offline only


def test_outputs_are_stored_without_widget_state() -> None:
    nb = notebook()
    assert "widgets" not in nb.metadata
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    assert all("execution" not in cell.metadata for cell in code)
    assert sum(bool(cell.outputs) for cell in code) >= len(code) - 3


def test_error_cells_are_pinned() -> None:
    pinned = [c for c in notebook().cells if "raises-exception" in tags(c)]
    assert len(pinned) >= 3
    assert all("nbval-check-output" in tags(cell) for cell in pinned)
    outputs = [output.get("text", "") for cell in pinned for output in cell.outputs]
    assert all(text.startswith("UsageError: ") and text.count("\n") == 1 for text in outputs)


def test_markers_are_cell_tags_so_run_all_passes_error_cells() -> None:
    """A reader sees no ``# NBVAL_...`` lines, and every cell that shows an error carries the
    ``raises-exception`` tag, which JupyterLab's Run All (and nbval) honour."""
    for cell in notebook().cells:
        if cell.cell_type != "code":
            continue
        assert "NBVAL" not in cell.source, cell.source
        shows_error = any(
            output.output_type == "error" or output.get("text", "").startswith("UsageError: ")
            for output in cell.outputs
        )
        assert shows_error == ("raises-exception" in tags(cell)), cell.source


def test_compared_cells_print_no_ids_or_times() -> None:
    for cell in notebook().cells:
        if cell.cell_type != "code" or "nbval-ignore-output" in tags(cell):
            continue
        text = "".join(
            output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            for output in cell.outputs
        )
        if "nbval-check-output" in tags(cell):
            assert not re.search(r"\b[0-9a-f]{8}\b|\d{2}:\d{2}:\d{2}", text), cell.source
