"""Re-run a notebook in place and store its outputs, without widget state or timings, so the
stored outputs are what nbval compares (cells tagged ``nbval-check-output``) and diffs stay small.

Usage: ``.venv/bin/python scripts/execute_notebook.py notebooks/quickstart.ipynb``
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path


def scratch_copy(folder: Path | str, into: Path | str) -> Path:
    """A copy of ``folder`` in the temporary folder ``into`` for a notebook to run in, so what
    it saves stays out of the source tree; the folder's siblings (``../tests``) are linked
    beside it, as a notebook may import from them."""
    folder = Path(folder).resolve()
    copy = Path(into) / folder.name
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.sessions"))
    for sibling in folder.parent.iterdir():
        if sibling != folder and not sibling.name.startswith("."):
            (Path(into) / sibling.name).symlink_to(sibling)
    return copy


def execute(path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    scratch = scratch_copy(path.parent, tempfile.mkdtemp(prefix="execute-notebook-"))
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(scratch)}},
        allow_errors=False,  # stops at an error, as Run All does, unless tagged raises-exception
        store_widget_state=False,
    )
    try:
        client.execute()
    finally:
        shutil.rmtree(scratch.parent, ignore_errors=True)  # the links, not what they point to
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    for name in paths:
        execute(Path(name))
        print(f"executed {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
