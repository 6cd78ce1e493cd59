"""Key paths into values ('downstream[0].ports', 'env.X', 'args[2]'): parsed, read, set and
deleted in one place. A concrete path names one place in the answers; its schema path is the
same with the indexes dropped ('downstream[].ports'), as values.subschema/check_answer take it.

A leaf module: it imports nothing from the package (the wizard and the importer both use it;
before, the importer borrowed the wizard's private setter, the package's only import cycle)."""

from __future__ import annotations

import re
from typing import Any

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
# What get() returns for a path that names nothing (None is a value a mapping may hold).
MISSING: Any = object()


def parts(path: str) -> list[str | int]:
    """'a.b[2].c' -> ['a', 'b', 2, 'c']."""
    return [int(m[2]) if m[2] is not None else m[1] for m in _PART.finditer(path)]


def schema_path(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path)


def parent(path: str) -> str:
    return re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", path) if ("." in path or "[" in path) else ""


def last(path: str) -> str:
    names = [p for p in parts(path) if isinstance(p, str)]
    return names[-1] if names else ""


def get(data: Any, path: str) -> Any:
    node = data
    for part in parts(path):
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return MISSING
            node = node[part]
        else:
            if not isinstance(node, dict) or part not in node:
                return MISSING
            node = node[part]
    return node


def set_at(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at path, making what is missing on the way: a mapping for a name, a list
    (padded with empty entries) for an index."""
    steps = parts(path)
    node: Any = data
    for part, following in zip(steps, [*steps[1:], None], strict=True):
        fresh: Any = [] if isinstance(following, int) else {}
        if isinstance(part, int):
            while len(node) <= part:
                node.append({})
            if following is not None and not isinstance(node[part], dict | list):
                node[part] = fresh
        elif following is not None and not isinstance(node.get(part), dict | list):
            node[part] = fresh
        if following is None:
            node[part] = value
        else:
            node = node[part]


def delete(data: dict[str, Any], path: str) -> None:
    above = get(data, parent(path)) if parent(path) else data
    final = parts(path)[-1]
    if isinstance(above, dict) and isinstance(final, str):
        above.pop(final, None)
    elif isinstance(above, list) and isinstance(final, int) and final < len(above):
        del above[final]


def under(key: str, prefix: str) -> bool:
    """True if key is prefix or a path inside it."""
    return key == prefix or key.startswith((prefix + ".", prefix + "["))
