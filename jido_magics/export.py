"""Exporting a conversation to a file: a Markdown transcript, a notebook with one Markdown cell
per message, or a plain JSON document.

Files are written as session files are (see :func:`jido_magics.persistence.atomic.write_atomic`)
and an existing file is never overwritten unless asked: without ``force`` the final step is a
hard link, which fails if the name exists, so even a file created meanwhile is kept. Only a
regular file is ever replaced: a symlink, FIFO, device or folder at the path is refused.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

from .core.clock import utc_now
from .core.errors import JidoError, shorten
from .core.ids import is_device_name
from .core.page import take_page
from .core.paths import display_path
from .core.transcript import message_cells, transcript_document, transcript_markdown

FORMATS: dict[str, str] = {"md": ".md", "ipynb": ".ipynb", "json": ".json"}
DEFAULT_FORMAT = "md"


class ExportError(JidoError):
    """An export could not be written; nothing was changed."""


def format_for(path: str | os.PathLike[str] | None, explicit: str | None) -> str:
    """The export format: the explicit one, else the output file's suffix, else Markdown."""
    if explicit:
        if explicit not in FORMATS:
            raise ExportError(
                f"Unknown export format '{shorten(explicit, 20)}': use md, ipynb or json."
            )
        return explicit
    if path is not None:
        suffix = Path(path).suffix.lower()
        for name, extension in FORMATS.items():
            if suffix == extension:
                return name
    return DEFAULT_FORMAT


def render(session: Any, fmt: str) -> bytes:
    """The bytes of ``session`` exported as ``fmt`` (``md``, ``ipynb`` or ``json``)."""
    exported_at = utc_now()
    # A lone surrogate (possible in text decoded from a model's JSON) has no UTF-8 form: in
    # JSON it is written as its \\u escape, which reads back the same; in Markdown as "?".
    if fmt == "md":
        return transcript_markdown(take_page(session, 0, None), exported_at).encode(
            "utf-8", "replace"
        )
    if fmt == "json":
        text = json.dumps(transcript_document(session, exported_at), indent=2, ensure_ascii=False)
        return (text + "\n").encode("utf-8", "backslashreplace")
    if fmt == "ipynb":
        return _notebook(session, exported_at).encode("utf-8", "backslashreplace")
    raise ExportError(f"Unknown export format '{shorten(fmt, 20)}': use md, ipynb or json.")


def _notebook(session: Any, exported_at: str) -> str:
    import nbformat  # lazy: only exports to a notebook need it

    snap = take_page(session, 0, None)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["title"] = snap.name
    notebook.metadata["jido_magics"] = {
        "session_id": snap.session_id,
        "name": snap.name,
        "provider": snap.provider,
        "model": snap.model,
        "messages": snap.total,
        "dropped": snap.dropped,
        "exported_at": exported_at,
    }
    # Plain cell dicts and one validation of the whole notebook: new_markdown_cell validates
    # every cell on its own, which made a 1000-message export several times slower. Cell ids
    # are the message ids (stable across exports of the same session) when valid and unique.
    used: set[str] = set()
    cells = []
    for index, (message_id, text) in enumerate(message_cells(snap)):
        cell_id = message_id if _CELL_ID.fullmatch(message_id) else f"message-{index + 1}"
        if cell_id in used:
            cell_id = f"message-{index + 1}-{secrets.token_hex(4)}"
        used.add(cell_id)
        cells.append({"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text})
    notebook.cells = [nbformat.from_dict(cell) for cell in cells]
    nbformat.validate(notebook)
    return nbformat.v4.writes(notebook) + "\n"


_CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def file_stem(session: Any) -> str:
    """A file name made from the session's name (``my chat`` -> ``my-chat``), else its id."""
    stem = _UNSAFE_FILE_CHARS.sub("-", session.name).strip("-.")[:60] or session.id
    if is_device_name(stem.split(".")[0]):  # Windows reserves them with any extension
        stem += "-session"
    return stem


def output_path(session: Any, fmt: str, output: str | None, folder: Path) -> Path:
    """Where to write: ``output`` (a file, or a folder to put the default name in), else the
    default name in ``folder``."""
    default_name = file_stem(session) + FORMATS[fmt]
    if output is None:
        return folder / default_name
    path = Path(os.path.expanduser(output))
    if path.is_dir():
        return path / default_name
    return path


def write_new_file(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``path`` atomically; refuse an existing file unless ``force``."""
    from .persistence.atomic import open_folder, write_atomic  # lazy: only an export writes

    folder = path.parent
    if not folder.is_dir():
        raise ExportError(
            f"Cannot write {display_path(path)}: the folder {display_path(folder)} does not exist."
        )
    _check_target(path, force)
    try:
        folder_fd = open_folder(folder, follow_symlinks=True)  # the user named this folder
        try:
            write_atomic(folder, path.name, [data], dir_fd=folder_fd, overwrite=force)
        finally:
            os.close(folder_fd)
    except FileExistsError:
        # The name was taken, or became something else than a file, during the write.
        _check_target(path, force)
        raise _exists(path) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ExportError(f"Cannot write {display_path(path)}: {reason}.") from exc


_SPECIAL_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_target(path: Path, force: bool) -> None:
    """An export only creates a file or (with ``force``) replaces a regular one: replacing a
    link, pipe, device or folder would swap a system object for a file."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ExportError(f"Cannot write {display_path(path)}: {exc.strerror}.") from exc
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _SPECIAL_KINDS if test(mode)), "not a regular file")
        raise ExportError(
            f"Cannot write {display_path(path)}: it is {kind}, and an export only creates a "
            "file or replaces a regular one (even with --force): choose another --output PATH."
        )
    if not force:
        raise _exists(path)


def _exists(path: Path) -> ExportError:
    return ExportError(
        f"{display_path(path)} already exists: add --force to overwrite it or choose --output PATH."
    )


def export_session(
    session: Any,
    fmt: str,
    *,
    output: str | None = None,
    folder: Path | None = None,
    force: bool = False,
) -> Path:
    """Export ``session`` as ``fmt`` to ``output`` (default: named after the session, in
    ``folder`` or the current folder); returns the path written."""
    path = output_path(session, fmt, output, folder or Path.cwd()).absolute()
    write_new_file(path, render(session, fmt), force=force)
    return path
