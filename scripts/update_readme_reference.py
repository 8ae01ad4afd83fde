"""Rewrite README.md's command reference from the ``%session`` manual (``%session?``).

Run after changing a subcommand: ``.venv/bin/python scripts/update_readme_reference.py``.
tests/test_readme.py fails while the two differ.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START = "<!-- command-reference:start (scripts/update_readme_reference.py) -->"
END = "<!-- command-reference:end -->"


def reference_text() -> str:
    """The manual's subcommand section, dedented, as a fenced block."""
    from jido_magics.interface.magics import session_manual

    manual = session_manual()
    section = manual.split("Subcommands:\n", 1)[1].split("\nTalk to the active session", 1)[0]
    return "```text\n" + textwrap.dedent(section).strip("\n") + "\n```"


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"README.md lacks the markers {START!r} ... {END!r}", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    updated = f"{head}{START}\n{reference_text()}\n{END}{tail}"
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
        print("README.md: command reference updated")
    else:
        print("README.md: command reference already up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
