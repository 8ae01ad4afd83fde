"""Read-only notebook tools the model may call: list variables, describe one, read recent
cells. Each result is bounded text; a failure is an error result, never an exception."""

from __future__ import annotations

import json
import reprlib
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.text import clip

#: No tool result is longer than this, whatever the namespace holds.
MAX_RESULT_CHARS = 6000
#: Deepest nesting of a model's tool arguments: a session file holds at most 255 levels in
#: all, and nothing a notebook tool takes needs more than a few.
MAX_ARGUMENT_DEPTH = 64
MAX_VARIABLES = 100
MAX_CELLS = 20
MAX_CELL_CHARS = 2000
MAX_REPR_CHARS = 2000

#: Names IPython puts in the user namespace that are not the user's variables.
_HIDDEN = frozenset({"In", "Out", "exit", "quit", "get_ipython", "open"})


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    ok: bool
    text: str


def _spec(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


TOOL_SPECS: list[dict[str, Any]] = [
    _spec(
        "list_variables",
        "List the user's notebook variables with their types and shapes or lengths.",
        {},
        [],
    ),
    _spec(
        "describe_variable",
        "Describe one notebook variable: type, shape, dtypes or columns, and a short repr.",
        {"name": {"type": "string", "description": "The variable's name."}},
        ["name"],
    ),
    _spec(
        "read_recent_cells",
        "Read the source of the most recently executed notebook cells.",
        {"count": {"type": "integer", "description": "How many cells (1-20, default 5)."}},
        [],
    ),
]

TOOL_NAMES: tuple[str, ...] = tuple(spec["function"]["name"] for spec in TOOL_SPECS)


def run_tool(name: str, arguments: Mapping[str, Any], namespace: Mapping[str, Any]) -> ToolOutcome:
    """Run the tool ``name``; unknown tools, bad arguments and failures give an error result."""
    tool = _TOOLS.get(name)
    if tool is None:
        return ToolOutcome(
            False, f"Unknown tool '{name[:60]}': available tools are {', '.join(TOOL_NAMES)}."
        )
    try:
        return tool(dict(arguments), namespace)
    except Exception as exc:  # a tool must answer the model, never crash the exchange
        return ToolOutcome(False, _bounded(f"{name} failed: {type(exc).__name__}: {exc}"))


def user_variables(namespace: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The user's own variables: no private names, modules or IPython's helpers."""
    found = []
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in _HIDDEN or isinstance(value, types.ModuleType):
            continue
        found.append((name, value))
    return found


def shape_of(value: Any) -> str:
    """``shape (3, 4)`` or ``len 12`` or ``""``, without running anything expensive."""
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
        return f"shape {shape}"
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)):
        return f"len {len(value)}"
    return ""


def type_name(value: Any) -> str:
    kind = type(value)
    module = kind.__module__
    return (
        kind.__qualname__ if module == "builtins" else f"{module.split('.')[0]}.{kind.__qualname__}"
    )


def _list_variables(arguments: dict[str, Any], namespace: Mapping[str, Any]) -> ToolOutcome:
    variables = user_variables(namespace)
    if not variables:
        return ToolOutcome(True, "The notebook has no user variables yet.")
    lines = []
    for name, value in variables[:MAX_VARIABLES]:
        shape = shape_of(value)
        lines.append(f"{name}: {type_name(value)}" + (f", {shape}" if shape else ""))
    if len(variables) > MAX_VARIABLES:
        lines.append(f"... and {len(variables) - MAX_VARIABLES} more")
    return ToolOutcome(True, _bounded("\n".join(lines)))


_short_repr = reprlib.Repr()
_short_repr.maxstring = 200
_short_repr.maxother = MAX_REPR_CHARS
for _attr in ("maxlist", "maxtuple", "maxdict", "maxset", "maxfrozenset", "maxdeque"):
    setattr(_short_repr, _attr, 20)


def _describe_variable(arguments: dict[str, Any], namespace: Mapping[str, Any]) -> ToolOutcome:
    name = arguments.get("name")
    if not isinstance(name, str) or not name:
        return ToolOutcome(False, "describe_variable needs a 'name' argument (a variable name).")
    if name not in namespace or name.startswith("_") or name in _HIDDEN:
        return ToolOutcome(False, f"No variable named '{name[:60]}' in the notebook.")
    value = namespace[name]
    lines = [f"name: {name}", f"type: {type_name(value)}"]
    shape = shape_of(value)
    if shape:
        lines.append(shape.replace(" ", ": ", 1))
    dtype = getattr(value, "dtype", None)
    if dtype is not None and not callable(dtype):
        lines.append(f"dtype: {dtype}")
    dtypes = getattr(value, "dtypes", None)
    columns = getattr(value, "columns", None)
    if dtypes is not None and columns is not None and not callable(dtypes):
        # pandas-like frames: name each column with its dtype, bounded
        names = list(columns)[:50]
        kinds = list(getattr(dtypes, "values", dtypes))[:50]
        pairs = list(zip(names, kinds, strict=False))
        lines.append("columns: " + ", ".join(f"{c} ({t})" for c, t in pairs))
    text = repr(value) if type(value).__module__ != "builtins" else _short_repr.repr(value)
    lines.append("repr: " + clip(text, MAX_REPR_CHARS))
    return ToolOutcome(True, _bounded("\n".join(lines)))


def _read_recent_cells(arguments: dict[str, Any], namespace: Mapping[str, Any]) -> ToolOutcome:
    count = arguments.get("count", 5)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        return ToolOutcome(False, "read_recent_cells takes 'count', a whole number from 1 to 20.")
    count = min(count, MAX_CELLS)
    history = namespace.get("In")
    if not isinstance(history, list):
        return ToolOutcome(False, "No cell history is available in this namespace.")
    cells = [(i, src) for i, src in enumerate(history) if isinstance(src, str) and src.strip()]
    if not cells:
        return ToolOutcome(True, "No cells have been run yet.")
    parts = [f"In [{i}]:\n{clip(src, MAX_CELL_CHARS)}" for i, src in cells[-count:]]
    return ToolOutcome(True, _bounded("\n\n".join(parts), keep_end=True))


def _bounded(text: str, *, keep_end: bool = False) -> str:
    if len(text) <= MAX_RESULT_CHARS:
        return text
    if keep_end:
        return "…" + text[-(MAX_RESULT_CHARS - 1) :]
    return clip(text, MAX_RESULT_CHARS)


def arguments_from_json(raw: str) -> dict[str, Any]:
    """Parse a tool call's arguments; raise ``ValueError`` when they are not a JSON object
    or are nested deeper than :data:`MAX_ARGUMENT_DEPTH` levels."""
    try:
        value = json.loads(raw) if raw.strip() else {}
    except RecursionError:
        raise ValueError("tool arguments are nested too deeply") from None
    if not isinstance(value, dict):
        raise ValueError("tool arguments must be a JSON object")
    if _depth_exceeds(value, MAX_ARGUMENT_DEPTH):
        raise ValueError("tool arguments are nested too deeply")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests containers more than ``limit`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


_TOOLS: dict[str, Callable[[dict[str, Any], Mapping[str, Any]], ToolOutcome]] = {
    "list_variables": _list_variables,
    "describe_variable": _describe_variable,
    "read_recent_cells": _read_recent_cells,
}
