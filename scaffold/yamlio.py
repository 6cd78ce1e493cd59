"""Reading and writing YAML the strict way: duplicate keys are errors, output is stable."""

from __future__ import annotations

from typing import Any

import yaml

from .errors import InputError, Problem


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys instead of keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key; the base constructor reports it
            duplicate = False
        if duplicate:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"invalid YAML: {where}{problem}"


def load_one(text: str, source: str) -> Any:
    """Parse one YAML document strictly; InputError (one line) if it is not valid YAML."""
    try:
        docs = list(yaml.load_all(text, Loader=_StrictLoader))  # noqa: S506 - strict safe loader
    except yaml.YAMLError as exc:
        raise InputError([Problem("", _describe(exc))], source) from None
    docs = [d for d in docs if d is not None]
    if len(docs) > 1:
        raise InputError([Problem("", "holds several YAML documents; give one")], source)
    return docs[0] if docs else None


def load_all(text: str, source: str) -> list[Any]:
    """Parse every document of a YAML stream strictly (empty documents are dropped)."""
    try:
        docs = list(yaml.load_all(text, Loader=_StrictLoader))  # noqa: S506 - strict safe loader
    except yaml.YAMLError as exc:
        raise InputError([Problem("", _describe(exc))], source) from None
    return [d for d in docs if d is not None]


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings as literal blocks and indents lists."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_representer)


def dump(data: Any) -> str:
    """Serialise data as block-style YAML in insertion order; round-trips through load_one."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
