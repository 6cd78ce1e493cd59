"""Reading and writing YAML. Two readings share one parser and one set of input limits:

* the strict reading, for our own files (values): PyYAML's YAML 1.1 types, duplicate keys are
  errors, output is stable;
* the kubectl reading (:func:`load_kubectl`), for ``check``: a stream is split and typed the
  way ``kubectl apply -f`` does it, so the objects ``check`` judges are the JSON kubectl sends.

Both refuse alias-expansion bombs and deep nesting with one line (exit 2) before anything walks
the data.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from decimal import Decimal
from typing import Any

import yaml

from .errors import InputError, Problem

# Input limits, for values and manifests alike. Real manifests nest under 30 levels (the
# Cilium network-policy CRD, 383 KB, is 28 deep) and use few aliases; a generated stream of
# 5,000 bases is 3.2 million nodes and none from aliases. So plain nodes are not limited (their
# number is bounded by the file size) but the nodes aliases add are: every reference counts the
# whole subtree it repeats, so a "billion laughs" document of a few hundred bytes is refused as
# soon as its count passes the limit, before anything walks it. kubectl refuses such documents
# too ("document contains excessive aliasing": go-yaml v2 decode.go, allowedAliasRatio).
MAX_DEPTH = 100
MAX_ALIAS_NODES = 1_000_000


class LimitError(yaml.YAMLError):
    """The input nests too deep or its aliases expand too far: refused before it is walked."""


def _too_deep() -> LimitError:
    return LimitError(f"nested deeper than {MAX_DEPTH} levels (no manifest or values file"
                      " needs that many)")


def _too_many(count: int) -> LimitError:
    return LimitError(f"aliases expand to at least {count:,} nodes, more than the"
                      f" {MAX_ALIAS_NODES:,} allowed: refused as an alias-expansion bomb")


class _DepthGuard:
    """Refuses nesting deeper than MAX_DEPTH while PyYAML's composer (which recurses, a few
    frames a level) builds the nodes: a clear error instead of a RecursionError."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _too_deep()
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1


class _StrictLoader(_DepthGuard, yaml.SafeLoader):
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


def _build(loader: Any, node: yaml.Node, made: dict[int, Any], depth: int = 1) -> Any:
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
    if depth > MAX_DEPTH:
        raise _too_deep()
    depth += 1
    if kind is yaml.MappingNode and node.tag == _MAP:
        _flow_on_one_line(node)
        mapping: dict[Any, Any] = {}
        made[id(node)] = _BUILDING
        for key_node, value_node in node.value:
            key = (key_node.value if type(key_node) is yaml.ScalarNode and key_node.tag == _STR
                   else _build(loader, key_node, made, depth))
            try:
                if key in mapping:
                    raise _NotFastSafe
            except TypeError:
                raise _NotFastSafe from None
            mapping[key] = (value_node.value if type(value_node) is yaml.ScalarNode
                            and value_node.tag == _STR else _build(loader, value_node, made, depth))
        made[id(node)] = mapping
        return mapping
    if kind is yaml.SequenceNode and node.tag == _SEQ:
        _flow_on_one_line(node)
        sequence: list[Any] = []
        made[id(node)] = sequence
        for item in node.value:
            sequence.append(item.value if type(item) is yaml.ScalarNode and item.tag == _STR
                            else _build(loader, item, made, depth))
        return sequence
    raise _NotFastSafe


def _fast_load_all(text: str) -> list[Any]:
    loader = _FastStrictLoader(text)
    try:
        docs = []
        while loader.check_node():
            docs.append(_build(loader, loader.get_node(), {}))
        return docs
    except (_NotFastSafe, RecursionError):
        return list(yaml.load_all(text, Loader=_FastStrictLoader))  # strict safe loader
    finally:
        loader.dispose()


# An alias token: '*' then an anchor name, at the start of a node (not "*" in quotes or [*]).
_ALIAS = re.compile(r"(?:^|[\s\[{,])\*[^\s,\[\]{}]", re.M)


def _measure(root: Any) -> None:
    """Refuse a built document whose aliases expand past MAX_ALIAS_NODES or MAX_DEPTH, or
    that contains itself ("&r [*r]": nothing downstream can walk it). Anchored nodes are built
    once and shared, so a memo of each collection's expanded size and height makes this linear
    in the text; each reference still counts the whole subtree it repeats."""
    if not isinstance(root, dict | list):
        return
    sizes: dict[int, tuple[int, int]] = {}
    open_: set[int] = set()
    written = 0  # nodes as written (each collection once): what aliases add is the rest
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = list(node.values()) + list(node) if isinstance(node, dict) else node
        if done:
            size, height, written = 1, 1, written + 1
            for child in children:
                if isinstance(child, dict | list):
                    s, h = sizes[id(child)]
                    size, height = size + s, max(height, h + 1)
                else:
                    size, written = size + 1, written + 1
            sizes[key] = (size, height)
            open_.discard(key)
            if height > MAX_DEPTH:
                raise _too_deep()
            # Everything under this node was written before it (post-order), so this is a
            # lower bound of what aliases add to the whole document: refused early and soundly.
            if size - written > MAX_ALIAS_NODES:
                raise _too_many(size - written)
            continue
        if key in sizes:
            continue
        if key in open_:
            raise yaml.constructor.ConstructorError(None, None, "an alias refers to the"
                                                    " collection that contains it (recursive)")
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if isinstance(c, dict | list))


def _load_all(text: str) -> list[Any]:
    docs = _parse_all(text)
    if "&" in text and _ALIAS.search(text):  # only aliases repeat or enclose a subtree
        for doc in docs:
            _measure(doc)
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
    if isinstance(exc, LimitError):
        return str(exc)
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


# ---- the kubectl reading -------------------------------------------------------------------
#
# `kubectl apply -f` reads a file with k8s.io/apimachinery/pkg/util/yaml YAMLOrJSONDecoder: a
# stream that starts with "{" is read as JSON objects (falling back to YAML if the first or
# second one fails); otherwise YAMLReader splits it at every line that starts with "---" (only
# spaces or a comment may follow), and each chunk goes through sigs.k8s.io/yaml (go-yaml v2:
# YAML 1.1 booleans y/n/on/off, Go integer syntax, "<<" merges) into JSON, which
# unstructured.UnstructuredJSONScheme decodes with integers as int64 and other numbers as
# float64. go-yaml skips a byte-order mark at the start of each chunk and decodes only the first
# document of a chunk. The readings below were confirmed with kubectl itself
# (tests/test_check_reading.py runs it); where kubectl silently picks one of two readings
# (duplicate keys: the last wins; content after "..." is dropped) the reading is refused here,
# exit 2, so a reviewer and the gate never see different objects.

_PLAIN = "kubectl:plain"
_MERGE = _TAG + "merge"
_SEPARATOR_LINE = re.compile(r"^---(.*)$", re.M)
_GO_BOOLS = {**dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True",
                              "TRUE"), True),
             **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False",
                              "FALSE"), False)}
_GO_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_GO_NOT_FINITE = frozenset((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
                            "-.INF", ".nan", ".NaN", ".NAN"))
# strconv.ParseInt(s, 0, 64) after go-yaml removes every "_": sign, then 0x / 0o / 0b / 0 (octal)
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")  # yamlStyleFloat
_INT64 = 1 << 63
_RESOLVED_PLAIN: dict[str, Any] = {}


def _json_number(value: int | float) -> int | float:
    """The number as kubectl sends it: JSON re-read as int64 when it is a whole number in range
    (Go prints float64 1000.0 as 1000, and 1e21 and up with an exponent), else float64."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LimitError("a number that is not finite (.inf, .nan): kubectl cannot send it")
        if value.is_integer() and abs(value) < 1e21:
            # Go writes the shortest digits that read back, then zeros: the int64 test is on
            # that text (-9223372036854775809.0 prints as -9223372036854776000: out of range).
            printed = int(Decimal(repr(value)))
            if -_INT64 <= printed < _INT64:
                return printed
        return value
    return value if -_INT64 <= value < _INT64 else float(value)


def _go_plain(text: str) -> Any:
    """A plain (unquoted, untagged) scalar as go-yaml v2's resolve() types it."""
    found = _RESOLVED_PLAIN.get(text, _RESOLVED_PLAIN)
    if found is not _RESOLVED_PLAIN:
        return found
    value: Any = text
    if text in _GO_BOOLS:
        value = _GO_BOOLS[text]
    elif text in _GO_NULLS:
        value = None
    elif text in _GO_NOT_FINITE:
        raise LimitError(f"{text} is not a finite number: kubectl cannot send it (quote it)")
    elif text[:1] == "." and _GO_FLOAT.match(text):
        value = _json_number(float(text))
    elif text[0] in "+-0123456789":
        plain = text.replace("_", "")
        number = _GO_INT.match(plain)
        if number:
            sign, digits = number.groups()
            prefix = digits[1:2].lower()
            if digits[:1] == "0" and prefix in ("x", "o", "b"):
                magnitude = int(digits[2:], {"x": 16, "o": 8, "b": 2}[prefix])
            else:
                magnitude = int(digits, 8 if digits[:1] == "0" else 10)
            parsed = -magnitude if sign == "-" else magnitude
            # ParseInt (int64), then ParseUint (no sign) up to 2**64; anything else: a float.
            if -_INT64 <= parsed < _INT64 or (not sign and parsed < 1 << 64):
                value = _json_number(parsed)
            elif _GO_FLOAT.match(plain):
                value = _json_number(float(plain))
        elif _GO_FLOAT.match(plain):
            number_value = float(plain)
            if math.isfinite(number_value):  # ParseFloat fails out of range: stays a string
                value = _json_number(number_value)
    if len(_RESOLVED_PLAIN) > 100_000:
        _RESOLVED_PLAIN.clear()
    _RESOLVED_PLAIN[text] = value
    return value


def _json_key(key: Any, mark: Any) -> str:
    # sigs.k8s.io/yaml yaml.go convertToJSONableObject: JSON keys are strings.
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    what = "null" if key is None else type(key).__name__
    raise yaml.constructor.ConstructorError(
        None, None, f"a {what} cannot be a key in a manifest (line {mark.line + 1}); quote it",
        mark)


class _KubectlBuilder:
    """Builds the JSON value of one composed document as sigs.k8s.io/yaml does, counting nodes
    (an alias counts its whole subtree each time) and depth against the input limits."""

    def __init__(self) -> None:
        self.made: dict[int, tuple[Any, int, int]] = {}
        self.count = 0  # nodes as written
        self.added = 0  # nodes aliases add
        self.deepest = 0

    def build(self, node: yaml.Node, depth: int = 1) -> Any:
        self.count += 1
        if type(node) is yaml.ScalarNode:
            if node.tag == _PLAIN:
                return _go_plain(node.value)
            if node.tag == _STR:
                return node.value
            return self._tagged(node)
        if depth > MAX_DEPTH:
            raise _too_deep()
        memo = self.made.get(id(node))
        if memo is not None:  # an alias: go-yaml decodes the anchored node again
            self.count -= 1
            built, size, height = memo
            if built is _BUILDING:
                raise yaml.constructor.ConstructorError(
                    None, None, "an alias refers to the collection that contains it (recursive)",
                    node.start_mark)
            if depth + height - 1 > MAX_DEPTH:
                raise _too_deep()
            self.deepest = max(self.deepest, depth + height - 1)
            self.added += size
            if self.added > MAX_ALIAS_NODES:
                raise _too_many(self.added)
            return built
        self.made[id(node)] = (_BUILDING, 0, 0)
        start_added, start_count = self.added, self.count - 1
        saved_deepest, self.deepest = self.deepest, depth
        if type(node) is yaml.SequenceNode:
            if node.tag != _SEQ and node.tag.startswith(_TAG):
                raise _bad_tag(node)
            value: Any = [self.build(item, depth + 1) for item in node.value]
        else:
            if node.tag != _MAP and node.tag.startswith(_TAG):
                raise _bad_tag(node)
            value = self._mapping(node, depth)  # type: ignore[arg-type]
        height = self.deepest - depth + 1
        self.deepest = max(saved_deepest, self.deepest)
        size = (self.count - start_count) + (self.added - start_added)
        self.made[id(node)] = (value, size, height)
        return value

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        # go-yaml v2 decode.go mapping(): pairs apply in order, a "<<" merge sets every key of
        # the merged map (a later explicit key or merge overrides it, and it overrides earlier
        # ones); in a merged list the first map wins. kubectl keeps the last of two equal keys;
        # here an explicit key written twice is refused instead.
        result: dict[str, Any] = {}
        explicit: set[str] = set()
        for key_node, value_node in node.value:
            if type(key_node) is yaml.ScalarNode and (
                    key_node.tag == _MERGE or (key_node.tag == _PLAIN and key_node.value == "<<")):
                self._merge(result, value_node, depth)
                continue
            key = _json_key(self.build(key_node, depth + 1), key_node.start_mark)
            if key in explicit:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (line {mark.line + 1}); kubectl would"
                    " silently keep the last one", mark)
            explicit.add(key)
            result[key] = self.build(value_node, depth + 1)
        return result

    def _merge(self, into: dict[str, Any], node: yaml.Node, depth: int) -> None:
        sources = node.value if type(node) is yaml.SequenceNode else [node]
        built = [self.build(source, depth + 1) for source in sources]
        if not built or not all(isinstance(b, dict) for b in built) or \
                (type(node) is not yaml.SequenceNode and not isinstance(built[0], dict)):
            raise yaml.constructor.ConstructorError(
                None, None, "map merge requires map or sequence of maps as the value",
                node.start_mark)
        for mapping in reversed(built):
            into.update(mapping)

    def _tagged(self, node: yaml.ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if not tag.startswith(_TAG) or tag in (_STR, _TAG + "timestamp"):
            return text  # a local tag (!foo) or a timestamp: the text itself
        if tag == _TAG + "binary":
            try:
                return base64.b64decode(text, validate=False).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                raise _bad_tag(node) from None
        value = _go_plain(text)
        wanted = {_TAG + "int": (int,), _TAG + "float": (int, float), _TAG + "bool": (bool,),
                  _TAG + "null": (type(None),)}.get(tag)
        if wanted is None or isinstance(value, bool) != (bool in wanted) or \
                not isinstance(value, wanted):
            raise _bad_tag(node)
        return _json_number(float(value)) if tag == _TAG + "float" else value  # type: ignore[arg-type]


def _bad_tag(node: yaml.Node) -> yaml.YAMLError:
    mark = node.start_mark
    return yaml.constructor.ConstructorError(
        None, None, f"cannot read {node.tag} {getattr(node, 'value', '')!r} as kubectl does"
        f" (line {mark.line + 1})", mark)


def _kubectl_resolve(self: Any, kind: Any, value: Any, implicit: Any) -> str:
    # Every plain scalar is typed later by _go_plain, as go-yaml does, not by PyYAML's rules.
    if kind is yaml.ScalarNode:
        return _PLAIN if implicit[0] else _STR
    return _MAP if kind is yaml.MappingNode else _SEQ


class _PureKubectlComposer(_DepthGuard, yaml.reader.Reader, yaml.scanner.Scanner,
                           yaml.parser.Parser, yaml.composer.Composer, yaml.resolver.BaseResolver):
    """PyYAML's own composer, for when libyaml is missing."""

    resolve = _kubectl_resolve

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.resolver.BaseResolver.__init__(self)


_CBase: Any = getattr(yaml, "CBaseLoader", None)
if _CBase is not None:
    class _KubectlComposer(_CBase):  # type: ignore[misc]
        """libyaml's parser (go-yaml is a port of it: tabs in flow collections, "|#" headers and
        line breaks read alike) with every plain scalar left for _go_plain."""

        resolve = _kubectl_resolve
    _COMPOSER: Any = _KubectlComposer
else:  # pragma: no cover - PyYAML without libyaml
    _COMPOSER = _PureKubectlComposer


class KubectlDocument:
    """One document as kubectl reads it: its JSON value and the line it starts on (1-based)."""

    __slots__ = ("line", "value")

    def __init__(self, value: Any, line: int) -> None:
        self.value, self.line = value, line


def _kubectl_chunk(chunk: str, first_line: int) -> KubectlDocument | None:
    if chunk.startswith("\ufeff"):  # go-yaml skips a byte-order mark at the start of its input
        chunk = chunk[1:]
    loader = _COMPOSER(chunk)
    try:
        if not loader.check_node():
            return None
        node = loader.get_node()
        if loader.check_node():
            raise yaml.composer.ComposerError(
                None, None, "a second YAML document without a '---' line before it: kubectl"
                " reads only the first (put '---' on its own line)",
                loader.get_node().start_mark)
    finally:
        loader.dispose()
    if node is None:
        return None
    value = _KubectlBuilder().build(node)
    return KubectlDocument(value, first_line + node.start_mark.line)


class _DuplicateJSONKey(Exception):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateJSONKey(f"duplicate key {key!r}; kubectl would silently keep the"
                                    " last one")
        result[key] = value
    return result


def _not_json(constant: str) -> Any:
    raise ValueError(constant)  # NaN, Infinity: not JSON for Go


_JSON = json.JSONDecoder(object_pairs_hook=_json_object, parse_constant=_not_json,
                         parse_float=lambda text: _json_number(float(text)),
                         parse_int=lambda text: _json_number(int(text)))
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _json_prefix(text: str) -> tuple[list[KubectlDocument], int]:
    """The JSON objects a stream starting with "{" begins with, and where YAML takes over.
    Like YAMLOrJSONDecoder: after two objects a JSON error is final; before, YAML rereads."""
    docs: list[KubectlDocument] = []
    pos = _JSON_SPACE.match(text, 0).end()  # type: ignore[union-attr]
    while pos < len(text):
        try:
            value, end = _JSON.raw_decode(text, pos)
        except ValueError as exc:
            if len(docs) > 1:
                raise yaml.YAMLError(f"invalid JSON: {exc}") from None
            break
        except RecursionError:
            raise _too_deep() from None
        _measure(value) if isinstance(value, dict | list) else None
        docs.append(KubectlDocument(value, text.count("\n", 0, pos) + 1))
        pos = _JSON_SPACE.match(text, end).end()  # type: ignore[union-attr]
    return docs, pos


def _kubectl_stream(text: str) -> list[KubectlDocument]:
    docs: list[KubectlDocument] = []
    start = 0
    if text.lstrip()[:1] == "{":
        try:
            docs, start = _json_prefix(text)
        except _DuplicateJSONKey as exc:
            raise yaml.YAMLError(f"invalid JSON: {exc}") from None
        if start >= len(text):
            return docs
    line = text.count("\n", 0, start) + 1
    chunk_start, chunk_line = start, line
    for sep in _SEPARATOR_LINE.finditer(text, start):
        rest = sep.group(1).strip()
        sep_line = line + text.count("\n", start, sep.start())
        line, start = sep_line, sep.start()
        if rest and not rest.startswith("#"):
            raise yaml.YAMLError(f"line {sep_line}: invalid document separator '---{sep.group(1)}'"
                                 " (kubectl refuses the file: only a comment may follow '---')")
        doc = _kubectl_chunk(text[chunk_start:sep.start()], chunk_line)
        if doc is not None:
            docs.append(doc)
        chunk_start, chunk_line = sep.end() + 1, sep_line + 1
    doc = _kubectl_chunk(text[chunk_start:], chunk_line)
    if doc is not None:
        docs.append(doc)
    return docs


def load_kubectl(text: str, source: str) -> list[KubectlDocument]:
    """Every document of a file or stream as ``kubectl apply -f`` reads it (its JSON value and
    first line), empty documents dropped. InputError (one line) when kubectl would refuse the
    file, when it would silently choose between two readings, or past the input limits."""
    try:
        return _kubectl_stream(text)
    except yaml.YAMLError as exc:
        raise InputError([Problem("", _describe(exc))], source) from None
    except RecursionError:
        raise InputError([Problem("", str(_too_deep()))], source) from None


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
