"""The objects listing commands return: IPython prints them as text (a table, aligned)."""

from __future__ import annotations

from typing import ClassVar


class ShownAsText:
    """A mixin: the object's repr, and what IPython prints, is its ``__str__``."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # type: ignore[attr-defined]


class TextTable(ShownAsText):
    """A mixin for a frozen dataclass with a ``rows`` field: its text form is ``HEADERS`` and
    ``rows`` in aligned columns, or :meth:`empty_text` when there are no rows."""

    HEADERS: ClassVar[tuple[str, ...]] = ()
    rows: tuple[tuple[str, ...], ...]

    def empty_text(self) -> str:
        return "(nothing to list)"

    def __str__(self) -> str:
        if not self.rows:
            return self.empty_text()
        table = [self.HEADERS, *self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(self.HEADERS))]
        lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table)
        return "\n".join(line.rstrip() for line in lines)

    def __len__(self) -> int:
        return len(self.rows)
