"""Built-in server.json entries (one `<name>.json` each, MCP registry format 2025-09-29 with
`_meta["mcp-scaffold.io/deploy"]`), each written from that server's own repository: the
entry's `sources` say which files."""

from __future__ import annotations

import json
from importlib import resources


def names() -> list[str]:
    """The catalog's entry names, sorted."""
    return sorted(p.name[:-5] for p in resources.files(__name__).iterdir()
                  if p.name.endswith(".json"))


def text(name: str) -> str:
    """The JSON text of entry `name` (one of names())."""
    if name not in names():
        raise KeyError(name)
    return resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")


def summary() -> list[tuple[str, str, str]]:
    """(name, description, first source repo) per entry, for `mcp-scaffold catalog`."""
    out = []
    for name in names():
        data = json.loads(text(name))
        sources = data.get("_meta", {}).get("mcp-scaffold.io/deploy", {}).get("sources", [])
        out.append((name, str(data.get("description", "")),
                    str(sources[0]["repo"]) if sources else ""))
    return out
