"""The package's shape: no import cycle (at module level or inside functions), and the leaf
modules that hold shared facts import nothing else from the package, so any module can use
them. Read from the source (ast), not by importing."""

from __future__ import annotations

import ast
from pathlib import Path

from support import ROOT

PACKAGE = ROOT / "scaffold"
# One definition of each shared fact, importable from anywhere (no package imports of their
# own). kubeschemas and the providers are not leaves: they build on these.
LEAVES = {"scaffold.conventions", "scaffold.digest", "scaffold.netranges", "scaffold.kubeversions",
          "scaffold.safetext", "scaffold.keypath", "scaffold.errors", "scaffold.quantity",
          "scaffold.listen"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.with_suffix("").relative_to(ROOT).parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                whole = f"{module}.{alias.name}"
                found.add(whole if whole in known else module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def test_no_module_imports_itself_back() -> None:
    graph = _graph()
    cycles: list[list[str]] = []

    def walk(node: str, stack: list[str]) -> None:
        for nxt in sorted(graph[node]):
            # A package's own __init__ importing its submodules is not a cycle with them.
            if nxt in stack and not (stack[0].startswith(nxt + ".") or nxt == "scaffold"):
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in stack and nxt not in seen:
                seen.add(nxt)
                walk(nxt, [*stack, nxt])

    for start in sorted(graph):
        seen = {start}
        walk(start, [start])
    assert not cycles, cycles[:5]


def test_the_fact_modules_are_leaves() -> None:
    graph = _graph()
    assert set(graph) >= LEAVES
    # errors is the bottom of the package: a leaf may say what is wrong with its own Problem.
    allowed = {"scaffold", "scaffold.errors"}
    assert {leaf: sorted(graph[leaf]) for leaf in LEAVES if graph[leaf] - allowed} == {}
    assert graph["scaffold.errors"] - {"scaffold"} == set()
