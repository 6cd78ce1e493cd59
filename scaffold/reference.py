"""The values reference table (Markdown) generated from values.schema.json, so the README
never drifts from the schema: `python -m scaffold.reference` prints it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .values import resolve, schema


def _type(node: dict[str, Any]) -> str:
    if "enum" in node:
        return " \\| ".join(f"`{e}`" for e in node["enum"])
    kind = node.get("type", "object")
    if kind == "array":
        item = resolve(node.get("items", {}))
        return f"list of {item.get('type', 'object')}"
    if kind == "object" and "additionalProperties" in node and isinstance(
            node["additionalProperties"], dict):
        return "map of string"
    return str(kind)


def _rows(node: dict[str, Any], prefix: str, required: set[str]) -> Iterator[str]:
    for name, sub in node.get("properties", {}).items():
        sub = resolve(sub)
        key = f"{prefix}{name}"
        text = sub.get("description") or sub.get("title") or ""
        allowed = sub.get("x-allowed")
        if allowed and allowed not in text:
            text = f"{text} Allowed: {allowed}." if text else f"Allowed: {allowed}."
        default = f"`{json.dumps(sub['default'])}`" if "default" in sub else (
            "**required**" if name in required else "")
        cell = text.replace("|", "\\|")
        yield f"| `{key}` | {_type(sub)} | {default} | {cell} |"
        inner = sub
        suffix = "."
        if sub.get("type") == "array" and isinstance(sub.get("items"), dict):
            inner = resolve(sub["items"])
            suffix = "[]."
        if "properties" in inner:
            yield from _rows(inner, f"{key}{suffix}", set(inner.get("required", [])))


def table() -> str:
    """The whole values reference as a Markdown table."""
    root = schema()
    head = "| key | type | default | meaning |\n| --- | --- | --- | --- |\n"
    return head + "\n".join(_rows(root, "", set(root.get("required", [])))) + "\n"


if __name__ == "__main__":
    print(table(), end="")
