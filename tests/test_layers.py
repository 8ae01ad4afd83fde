"""The package's layers as the README's "For engineers" table states them, and no import
circle. Every import counts: at the top, inside a function and under ``TYPE_CHECKING``."""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "jido_magics"
README = (ROOT / "README.md").read_text(encoding="utf-8")
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    target: str  # dotted name as imported (resolved when relative)
    lazy: bool  # inside a function or under ``if TYPE_CHECKING``


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports_of(name: str, path: Path) -> list[Import]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(name, alias.name, lazy) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append(Import(name, target, lazy))
            for alias in node.names:  # ``from . import command`` imports a module
                if f"{target}.{alias.name}" in MODULES:
                    found.append(Import(name, f"{target}.{alias.name}", lazy))
        inner = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inner = True
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


IMPORTS = [found for name, path in MODULES.items() for found in _imports_of(name, path)]


def own_module(target: str) -> str | None:
    """The module of this package that ``target`` names (``a.b.C`` -> ``a.b``), else None."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


# -- the README's table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    path: str  # "jido_magics/core/" or "jido_magics/export.py"
    eager: frozenset[str]  # layers ("core") and distributions' modules ("orjson")
    lazy: frozenset[str]  # allowed only inside functions
    anything: bool  # "everything"

    def holds(self, module: str) -> bool:
        path = "/".join(module.split(".")) + ("/" if MODULES[module].name == "__init__.py" else "")
        file = str(MODULES[module].relative_to(ROOT))
        return file == self.path or (self.path.endswith("/") and path.startswith(self.path))


def table_rows() -> list[Row]:
    match = re.search(r"^## For engineers\n(.*?)(?=^## |\Z)", README, re.MULTILINE | re.DOTALL)
    assert match, "README has no '## For engineers' section"
    rows = []
    for line in match.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`jido_magics"):
            continue
        path, allowed = cells[0].strip("`"), cells[2]
        lazy: set[str] = set()
        for inside in re.findall(r"\(([^)]*)\)", allowed):
            words = inside.partition(":")[0].split()  # "(a, b lazily: why)"
            assert words[-1] == "lazily", f"{path}: write '(a, b lazily)', not '({inside})'"
            lazy |= {w.strip(",`") for w in words[:-1]}
        eager = {w.strip(" `") for w in re.sub(r"\([^)]*\)", "", allowed).split(",") if w.strip()}
        anything = "everything" in eager
        rows.append(
            Row(
                path,
                frozenset(eager - {"stdlib", "everything"}),
                frozenset(lazy),
                anything,
            )
        )
    assert rows, "the 'For engineers' table has no jido_magics rows"
    return rows


ROWS = table_rows()
LAYERS = {row.path: row for row in ROWS}


def row_of(module: str) -> Row:
    """The most specific row for ``module`` (a file's own row before its folder's)."""
    rows = [row for row in ROWS if row.holds(module)]
    assert rows, f"{module} is in no row of README's 'For engineers' table"
    return max(rows, key=lambda row: len(row.path))


def layer_of(target: str) -> str:
    """What a table cell calls ``target``: a layer ("core", "export") or a top-level module."""
    own = own_module(target)
    if own is None:
        return target.split(".")[0]
    row = row_of(own)
    return row.path.removeprefix("jido_magics/").removesuffix("/").removesuffix(".py")


def names_of(target: str) -> set[str]:
    """Every entry that names ``target``: its layer, and for our modules also each dotted
    prefix inside the package (``persistence.atomic`` names ``persistence.atomic.write``)."""
    own = own_module(target)
    if own is None:
        return {layer_of(target)}
    parts = own.split(".")[1:]
    return {layer_of(target)} | {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def test_every_module_is_in_the_table() -> None:
    for module in MODULES:
        row_of(module)


def not_allowed(imports: list[Import]) -> list[str]:
    """The imports the table does not allow, one line each."""
    wrong = []
    for found in imports:
        row = row_of(found.importer)
        own = own_module(found.target)
        if row.anything or found.target.split(".")[0] in STDLIB:
            continue
        if own is not None and row_of(own) is row:
            continue  # within the row's own folder or file
        layer = layer_of(found.target)
        names = names_of(found.target)
        if names & row.eager or (found.lazy and names & row.lazy):
            continue
        how = "lazily " if found.lazy else ""
        wrong.append(f"{found.importer} imports {how}{found.target} ({layer}): row {row.path}")
    return wrong


def test_every_import_is_one_the_table_allows() -> None:
    wrong = not_allowed(IMPORTS)
    assert not wrong, "\n".join(wrong)


def test_the_table_check_refuses_what_the_table_does_not_say() -> None:
    """The check can fail: orjson in the core, openai at the top of agents (the table says
    lazily), the interface from the ui; the same lazy import of openai is allowed."""
    refused = [
        Import("jido_magics.core.ids", "orjson", lazy=False),
        Import("jido_magics.agents.exchange", "openai", lazy=False),
        Import("jido_magics.ui.view", "jido_magics.interface.magics", lazy=True),
    ]
    assert len(not_allowed(refused)) == len(refused)
    assert not not_allowed([Import("jido_magics.agents.exchange", "openai", lazy=True)])


def test_everything_the_table_allows_is_imported() -> None:
    """No stale entry: each layer and module a row names is imported by that row's modules
    (and one it names as lazy is imported lazily)."""
    used: dict[str, set[str]] = {row.path: set() for row in ROWS}
    for found in IMPORTS:
        row = row_of(found.importer)
        target_row = own_module(found.target)
        if target_row is None or row_of(target_row) is not row:
            used[row.path] |= names_of(found.target)
    for row in ROWS:
        unused = (row.eager | row.lazy) - used[row.path]
        assert not unused, f"README row {row.path} names {sorted(unused)}, which it never imports"


# -- circles -----------------------------------------------------------------------------------


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for found in IMPORTS:
        target = own_module(found.target)
        if target is not None and target != found.importer:
            graph[found.importer].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for after in sorted(graph[node]):
            if after not in index:
                visit(after)
                low[node] = min(low[node], low[after])
            elif after in on_stack:
                low[node] = min(low[node], index[after])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle() -> None:
    found = circles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(group) for group in found)


def test_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
