"""Where a notebook's sessions are saved: ``dir/report.sessions/`` for ``dir/report.ipynb``.

The notebook comes from, in order: an explicit setting, the kernel's ``__session__`` variable,
the ``JPY_SESSION_NAME`` environment variable (each only when it names an existing ``.ipynb``),
else there is none and sessions go to ``./.sessions/`` in the current folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SESSION_NAME_ENV = "JPY_SESSION_NAME"
PLAIN_FOLDER = ".sessions"
SUFFIX = ".sessions"


def _existing_notebook(value: Any) -> Path | None:
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        return None
    path = Path(os.fspath(value)).expanduser()
    if path.suffix != ".ipynb":
        return None
    try:
        return path.absolute() if path.is_file() else None
    except OSError:  # e.g. a name too long for the file system
        return None


def notebook_path(
    explicit: str | os.PathLike[str] | None = None,
    user_ns: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path | None:
    """The running notebook's path, or None (plain IPython, or not found)."""
    environ = os.environ if environ is None else environ
    for candidate in (
        explicit,
        None if user_ns is None else user_ns.get("__session__"),
        environ.get(SESSION_NAME_ENV),
    ):
        found = _existing_notebook(candidate)
        if found is not None:
            return found
    return None


def folder_for_notebook(notebook: Path) -> Path:
    """``report.ipynb`` → ``report.sessions`` beside it."""
    return notebook.with_name(notebook.stem + SUFFIX)


def folder_from(given: str, cwd: Path) -> Path | None:
    """The sessions folder ``given`` names: a notebook (``report.ipynb``, which may be gone
    since) → ``report.sessions`` beside it; a folder → itself; else None."""
    path = cwd / Path(given).expanduser()
    if path.suffix == ".ipynb":
        return folder_for_notebook(path)
    return path if path.is_dir() else None


def other_folders(folder: Path) -> list[tuple[Path, int]]:
    """Sessions folders beside ``folder`` (``*.sessions``, ``.sessions``) that hold saved
    session files, with how many, by name: where a renamed notebook's sessions are."""
    from ..core.ids import is_valid_session_id

    found = []
    try:
        with os.scandir(folder.parent) as entries:
            candidates = [
                Path(e.path)
                for e in entries
                if e.name.endswith(SUFFIX) and e.name != folder.name and e.is_dir()
            ]
    except OSError:
        return []
    for candidate in sorted(candidates):
        try:
            names = os.listdir(candidate)
        except OSError:
            continue
        count = sum(1 for n in names if n.endswith(".json") and is_valid_session_id(n[:-5]))
        if count:
            found.append((candidate, count))
    return found


def sessions_folder(
    *,
    folder: str | os.PathLike[str] | None = None,
    notebook: str | os.PathLike[str] | None = None,
    user_ns: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Path:
    """The sessions folder: ``folder`` when set, else the notebook's, else ``.sessions``.

    Relative paths are taken from ``cwd`` (default: the current folder)."""
    base = Path.cwd() if cwd is None else Path(os.fspath(cwd))
    if folder:
        return base / Path(os.fspath(folder)).expanduser()  # an absolute folder stays as is
    found = notebook_path(notebook, user_ns, environ)
    if found is not None:
        return folder_for_notebook(found)
    return base / PLAIN_FOLDER
