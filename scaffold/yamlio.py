"""Reading and writing YAML the strict way: duplicate keys are errors, output is stable."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .errors import InputError, Problem


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys instead of keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        mark = key_node.start_mark
        try:
            duplicate = key in seen
        except TypeError:  # a list or mapping as a key ("? [a]"): no manifest has one
            raise yaml.constructor.ConstructorError(
                None, None, f"a {type(key).__name__} cannot be a key (line {mark.line + 1})", mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


class _NotFastSafe(Exception):
    """The text uses a corner of YAML where libyaml and PyYAML may disagree."""


# libyaml (about 10x faster) and pure-Python PyYAML read some corners of YAML differently:
# tags ('!'), comments glued to block scalar headers ('|#'), tabs, byte-order marks, the
# YAML 1.1 line breaks (NEL, LS, PS), control characters, and flow collections ([...] {...})
# that span lines. Text free of them is parsed by libyaml; anything else, and every error (for
# PyYAML's messages), goes through PyYAML, so results and errors are PyYAML's either way.
_NOT_FAST = re.compile(
    r"[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]|!|[|>][-+0-9]*#"
)
_FastBase: Any = getattr(yaml, "CSafeLoader", None)
_RESOLVED: dict[Any, str] = {}


def _flow_on_one_line(node: yaml.Node) -> None:
    if getattr(node, "flow_style", False) and node.start_mark.line != node.end_mark.line:
        raise _NotFastSafe


if _FastBase is not None:

    class _FastStrictLoader(_FastBase):  # type: ignore[misc]
        """libyaml's parser with the strict constructor (duplicate keys are errors), and the
        implicit tag of each scalar memoised: without path resolvers it depends only on
        (node kind, value, implicit flags), and looking it up dominated parsing."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if self.yaml_path_resolvers:
                return super().resolve(kind, value, implicit)
            key = (kind, value, implicit)
            try:
                return _RESOLVED[key]
            except KeyError:
                pass
            except TypeError:  # unhashable: not memoised
                return super().resolve(kind, value, implicit)
            tag = super().resolve(kind, value, implicit)
            if len(_RESOLVED) > 100_000:
                _RESOLVED.clear()
            _RESOLVED[key] = tag
            return tag

    def _fast_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> Any:
        _flow_on_one_line(node)
        return _construct_mapping(loader, node, deep)

    def _fast_sequence(loader: Any, node: yaml.SequenceNode, deep: bool = False) -> Any:
        _flow_on_one_line(node)
        return loader.construct_sequence(node, deep=deep)

    _FastStrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _fast_mapping)
    _FastStrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
                                      _fast_sequence)


_TAG = "tag:yaml.org,2002:"
_MAP, _SEQ, _STR = _TAG + "map", _TAG + "seq", _TAG + "str"
_BUILDING = object()
_SCALARS = {_TAG + t: getattr(yaml.SafeLoader, f"construct_yaml_{t}")
            for t in ("null", "bool", "int", "float", "timestamp")}


def _build(loader: Any, node: yaml.Node, made: dict[int, Any]) -> Any:
    """The object a node stands for, as the strict constructor makes it (an anchored node
    becomes one shared object), minus its per-node bookkeeping. _NotFastSafe for anything but
    plain maps, lists and scalars, and for duplicate or unhashable keys: the constructor then
    decides."""
    kind = type(node)
    if kind is yaml.ScalarNode:
        if node.tag == _STR:
            return node.value
        construct = _SCALARS.get(node.tag)
        if construct is None:
            raise _NotFastSafe
        return construct(loader, node)
    if id(node) in made:
        if made[id(node)] is _BUILDING:  # the strict constructor refuses recursive mappings
            raise _NotFastSafe
        return made[id(node)]
    if kind is yaml.MappingNode and node.tag == _MAP:
        _flow_on_one_line(node)
        mapping: dict[Any, Any] = {}
        made[id(node)] = _BUILDING
        for key_node, value_node in node.value:
            key = (key_node.value if type(key_node) is yaml.ScalarNode and key_node.tag == _STR
                   else _build(loader, key_node, made))
            try:
                if key in mapping:
                    raise _NotFastSafe
            except TypeError:
                raise _NotFastSafe from None
            mapping[key] = (value_node.value if type(value_node) is yaml.ScalarNode
                            and value_node.tag == _STR else _build(loader, value_node, made))
        made[id(node)] = mapping
        return mapping
    if kind is yaml.SequenceNode and node.tag == _SEQ:
        _flow_on_one_line(node)
        sequence: list[Any] = []
        made[id(node)] = sequence
        for item in node.value:
            sequence.append(item.value if type(item) is yaml.ScalarNode and item.tag == _STR
                            else _build(loader, item, made))
        return sequence
    raise _NotFastSafe


def _fast_load_all(text: str) -> list[Any]:
    loader = _FastStrictLoader(text)
    try:
        docs = []
        while loader.check_node():
            docs.append(_build(loader, loader.get_node(), {}))
        return docs
    except _NotFastSafe:
        return list(yaml.load_all(text, Loader=_FastStrictLoader))  # strict safe loader
    finally:
        loader.dispose()


# An alias token: '*' then an anchor name, at the start of a node (not "*" in quotes or [*]).
_ALIAS = re.compile(r"(?:^|[\s\[{,])\*[^\s,\[\]{}]", re.M)


def _refuse_cycles(node: Any, open_: set[int]) -> None:
    # "&r [*r]" builds a list that contains itself; nothing downstream can walk it.
    if isinstance(node, dict | list):
        if id(node) in open_:
            raise yaml.constructor.ConstructorError(None, None, "an alias refers to the"
                                                    " collection that contains it (recursive)")
        open_.add(id(node))
        for child in node.values() if isinstance(node, dict) else node:
            _refuse_cycles(child, open_)
        open_.discard(id(node))


def _load_all(text: str) -> list[Any]:
    docs = _parse_all(text)
    if "&" in text and _ALIAS.search(text):  # only an alias to an anchor can make a cycle
        for doc in docs:
            _refuse_cycles(doc, set())
    return docs


def _parse_all(text: str) -> list[Any]:
    if _FastBase is not None and not _NOT_FAST.search(text) \
            and not ("?" in text and ("[" in text or "{" in text)):  # '?' in flow: differs too
        try:
            return _fast_load_all(text)
        except Exception:  # PyYAML below decides, with its own message
            pass
    return list(yaml.load_all(text, Loader=_StrictLoader))  # strict safe loader


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"invalid YAML: {where}{problem}"


def load_one(text: str, source: str) -> Any:
    """Parse one YAML document strictly; InputError (one line) if it is not valid YAML."""
    try:
        docs = _load_all(text)
    except yaml.YAMLError as exc:
        raise InputError([Problem("", _describe(exc))], source) from None
    docs = [d for d in docs if d is not None]
    if len(docs) > 1:
        raise InputError([Problem("", "holds several YAML documents; give one")], source)
    return docs[0] if docs else None


def load_all(text: str, source: str) -> list[Any]:
    """Parse every document of a YAML stream strictly (empty documents are dropped)."""
    try:
        docs = _load_all(text)
    except yaml.YAMLError as exc:
        raise InputError([Problem("", _describe(exc))], source) from None
    return [d for d in docs if d is not None]


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings as literal blocks and indents lists."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def analyze_scalar(self, scalar: str) -> Any:
        # The costliest step of dumping; a pure function of the scalar and allow_unicode (the
        # emitter only reads the analysis), so repeated keys and values reuse it.
        key = (scalar, self.allow_unicode)
        found = _ANALYSED.get(key)
        if found is None:
            found = super().analyze_scalar(scalar)
            if len(_ANALYSED) > 100_000:
                _ANALYSED.clear()
            _ANALYSED[key] = found
        return found


_ANALYSED: dict[tuple[str, Any], Any] = {}


# Unicode line separators that PyYAML writes raw in plain, single-quoted and block scalars,
# where readers fold them; its double-quoted style escapes them (\N, \L, \P).
_LINE_SEPARATORS = frozenset("\x85\u2028\u2029")


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if _LINE_SEPARATORS.intersection(data):
        style: str | None = '"'
    else:
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
