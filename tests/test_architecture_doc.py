"""docs/architecture.md cannot drift silently: every repository path and every
`module.name` it names in backticks exists (a path on disk; a name importable from the
scaffold package, attribute by attribute)."""

from __future__ import annotations

import importlib
import re

import pytest

from support import ROOT

DOC = ROOT / "docs" / "architecture.md"
# A backticked span is checked as a path when it starts with one of these folders.
TOP_DIRS = ("scaffold", "templates", "tests", "scripts", "bench", "docs", "examples", ".ci")
# A dotted name optionally followed by call arguments: `plan.build`, `plan.Manifest(name, ...)`.
DOTTED = re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?:\(.*\))?")
FILE_SUFFIXES = ("yaml", "yml", "json", "md", "py", "j2", "toml", "txt")

def _spans() -> list[str]:
    text = DOC.read_text("utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)  # diagrams are not names
    return re.findall(r"`([^`\n]+)`", text)


def _modules() -> set[str]:
    package = ROOT / "scaffold"
    names = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    return names | {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}


def named_paths() -> set[str]:
    """Backticked repository paths, placeholders (`<name>`) and globs left out."""
    return {s for s in _spans()
            if "/" in s and s.split("/")[0] in TOP_DIRS and not re.search(r"[<>*\s]", s)}


def named_objects() -> set[str]:
    """Backticked dotted names whose first part is a module of the scaffold package
    (file names such as values.yaml left out)."""
    modules = _modules()
    found = set()
    for span in _spans():
        match = DOTTED.fullmatch(span)
        if not match:
            continue
        name = match.group(1)
        parts = name.split(".")
        if parts[0] in modules and parts[-1] not in FILE_SUFFIXES:
            found.add(name)
    return found


def resolves(name: str) -> bool:
    """True if scaffold.<name> is a module, or an attribute (or dataclass field) reached from
    the longest importable module prefix."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module("scaffold." + ".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            fields = getattr(obj, "__dataclass_fields__", {})
            if hasattr(obj, attr):
                obj = getattr(obj, attr)
            elif attr in fields:
                return attr == parts[-1]
            else:
                return False
        return True
    return False


def test_the_doc_names_paths_and_functions() -> None:
    # The extraction itself works: a doc that lost its names would pass everything below.
    assert {"scaffold/plan.py", "templates/_pod.j2", "tests/test_render.py"} <= named_paths()
    assert {"plan.build", "verify.verify", "write.write_directory"} <= named_objects()


@pytest.mark.parametrize("path", sorted(named_paths()))
def test_every_named_path_exists(path: str) -> None:
    assert (ROOT / path).exists(), f"docs/architecture.md names {path}, which does not exist"


@pytest.mark.parametrize("name", sorted(named_objects()))
def test_every_named_function_exists(name: str) -> None:
    assert resolves(name), f"docs/architecture.md names {name}, which scaffold does not define"


def test_the_resolver_refuses_what_does_not_exist() -> None:
    assert resolves("plan.build") and resolves("plan.ServerPlan.files")
    assert resolves("plan.ServerPlan.outputs")  # a dataclass field
    assert not resolves("plan.paramters")
    assert not resolves("nosuchmodule.build")
    assert "values.yaml" not in named_objects()
