"""Compile a JSON Schema into Python source for a yes/no predicate with the verdict of
jsonschema's Draft202012Validator built without a format checker (how verify.py and values.py
build theirs).

Why: jsonschema interprets a schema keyword by keyword (~2.5 ms per rendered server, after a
30-40 ms import); generated code answers "valid?" in microseconds, and jsonschema is imported
only to word the errors of a document the predicate rejects.

The semantics are jsonschema's, keyword by keyword (jsonschema/_keywords.py, _types.py and
_utils.py, python-jsonschema/jsonschema 4.x):
- "integer" admits a float with an integral value (1.0) and never a bool; "number" is any
  numbers.Number but a bool; "object" is a dict and "array" a list, nothing else.
- Draft 2020-12: "$ref" is a keyword like any other, so its siblings apply too (drafts 4-7
  ignored them; every schema here declares 2020-12 and is checked with Draft202012Validator).
- "pattern" is re.search: unanchored, and "$" also matches before a final newline.
- "enum" and "const" compare with jsonschema's `equal`: 1 == 1.0, True is neither 1 nor 1.0.
- "minimum" & co. fail only when the comparison holds (NaN passes them all).
- "format" asserts nothing (no format checker); unknown keywords (description, x-kubernetes-*)
  are annotations.
A keyword jsonschema applies but this compiler does not know, a "$ref" it cannot resolve
statically, or a nested "$id" makes the schema unsupported: `source` returns None and the
caller keeps jsonschema. tests/test_compiled_validators.py holds the two to the same verdicts.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Predicate = Callable[[Any], bool]

# Bump when the generated code changes: it is part of the cache key of compiled validators.
GENERATOR_VERSION = "3"

# Every keyword Draft202012Validator applies (its VALIDATORS; a test compares the two lists).
APPLIED = frozenset({
    "$dynamicRef", "$ref", "additionalProperties", "allOf", "anyOf", "const", "contains",
    "dependentRequired", "dependentSchemas", "enum", "exclusiveMaximum", "exclusiveMinimum",
    "format", "if", "items", "maxItems", "maxLength", "maxProperties", "maximum", "minItems",
    "minLength", "minProperties", "minimum", "multipleOf", "not", "oneOf", "pattern",
    "patternProperties", "prefixItems", "properties", "propertyNames", "required", "type",
    "unevaluatedItems", "unevaluatedProperties", "uniqueItems",
})
_SUPPORTED = frozenset({
    "$ref", "additionalProperties", "allOf", "anyOf", "const", "enum", "exclusiveMaximum",
    "exclusiveMinimum", "format", "if", "items", "maxItems", "maxLength", "maxProperties",
    "maximum", "minItems", "minLength", "minProperties", "minimum", "not", "oneOf", "pattern",
    "patternProperties", "prefixItems", "properties", "propertyNames", "required", "type",
    "uniqueItems",
})
# Keywords that need statements (loops over members), so their schema gets a function.
_APPLICATORS = ("properties", "patternProperties", "additionalProperties", "items",
                "prefixItems", "propertyNames")
_TYPES = {
    "string": "isinstance({v}, str)",
    "null": "{v} is None",
    "boolean": "isinstance({v}, bool)",
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "integer": "(isinstance({v}, int) and not isinstance({v}, bool)"
               " or isinstance({v}, float) and {v}.is_integer())",
    "number": "_number({v})",
}
_MAX_EXPRESSION_DEPTH = 6


class _Unsupported(Exception):
    """Raised inside the compiler only; `source` turns it into None."""


# --- runtime helpers (the generated code's globals) ---------------------------------------


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    import numbers  # Decimal, Fraction, complex: as jsonschema's is_number

    return isinstance(value, numbers.Number)


def equal(one: Any, two: Any) -> bool:
    """jsonschema's equality (_utils.equal): str only equals str, sequences and mappings
    compare member by member, and a bool never equals a number."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(k in two and equal(v, two[k]) for k, v in one.items())
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return bool(one == two)


def _enum(value: Any, allowed: tuple[Any, ...]) -> bool:
    return any(equal(each, value) for each in allowed)


class _Marker:
    """Stands for True or False while sorting, so neither compares equal to 1 or 0."""

    __slots__ = ()


_TRUE, _FALSE = _Marker(), _Marker()


def _unbool(value: Any) -> Any:
    return _TRUE if value is True else _FALSE if value is False else value


def unique(items: list[Any]) -> bool:
    """jsonschema's uniqueItems verdict (_utils.uniq), the same algorithm: sort and compare
    neighbours; when the items cannot be sorted, compare every pair. (The two differ on NaN,
    so the order of attempts matters.)"""
    try:
        ordered = sorted(_unbool(i) for i in items)
        return not any(equal(a, b) for a, b in itertools.pairwise(ordered))
    except (NotImplementedError, TypeError):
        seen: list[Any] = []
        for item in map(_unbool, items):
            if any(equal(s, item) for s in seen):
                return False
            seen.append(item)
        return True


class _Pattern:
    """A regex compiled on its first search: loading a validator compiles none of them (the
    values schema has ~30, most for keys a document does not have)."""

    __slots__ = ("compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.compiled: re.Pattern[str] | None = None

    def search(self, text: str) -> re.Match[str] | None:
        if self.compiled is None:
            self.compiled = re.compile(self.pattern)
        return self.compiled.search(text)


RUNTIME: dict[str, Any] = {"_number": _number, "_equal": equal, "_enum": _enum,
                           "_unique": unique, "_pattern": _Pattern}


# --- the compiler --------------------------------------------------------------------------


class _Compiler:
    def __init__(self, documents: Mapping[str, Any]) -> None:
        self.documents = documents
        self.functions: list[str] = []
        self.by_target: dict[tuple[str, str], str] = {}
        self.by_body: dict[str, str] = {}
        self.constants: dict[str, str] = {}
        self.constant_lines: list[str] = []
        self.pending: list[tuple[str, Any, str]] = []

    # names --------------------------------------------------------------------------------

    def constant(self, code: str) -> str:
        """A module-level name for a constant expression (built once, at load)."""
        if code not in self.constants:
            name = f"_c{len(self.constants)}"
            self.constants[code] = name
            self.constant_lines.append(f"{name} = {code}")
        return self.constants[code]

    def define(self, body: list[str]) -> str:
        """A function with this body (one per distinct body); its name."""
        text = "\n".join("    " + line for line in body)
        if text not in self.by_body:
            name = f"_f{len(self.by_body)}"
            self.by_body[text] = name
            self.functions.append(f"def {name}(v):\n{text}\n")
        return self.by_body[text]

    def ref(self, ref: Any, base: str) -> str:
        from urllib.parse import unquote, urldefrag, urljoin

        if not isinstance(ref, str):
            raise _Unsupported("$ref")
        uri, fragment = urldefrag(urljoin(base, ref))
        if uri not in self.documents or (fragment and not fragment.startswith("/")):
            raise _Unsupported(f"$ref {ref}")  # other documents, anchors
        key = (uri, fragment)
        if key not in self.by_target:
            node = self.documents[uri]
            # As referencing's Resource.pointer: percent-decode, then ~1 and ~0.
            for segment in unquote(fragment).split("/")[1:]:
                segment = segment.replace("~1", "/").replace("~0", "~")
                if isinstance(node, list) and segment.isdigit():
                    node = node[int(segment)]
                elif isinstance(node, dict) and segment in node:
                    node = node[segment]
                else:
                    raise _Unsupported(f"$ref {ref}")
                if isinstance(node, dict) and "$id" in node:
                    raise _Unsupported("$id below a document root")
            name = f"_r{len(self.by_target)}"
            self.by_target[key] = name
            self.pending.append((name, node, uri))
        return self.by_target[key]

    # schemas ------------------------------------------------------------------------------

    def expression(self, node: Any, base: str, v: str, depth: int = 0) -> str:
        """A Python expression, true when v is valid under node."""
        if node is True or node == {}:
            return "True"
        if node is False:
            return "False"
        if not isinstance(node, dict):
            raise _Unsupported("schema is not an object or a boolean")
        if depth > _MAX_EXPRESSION_DEPTH or any(
                k in node and node[k] is not True for k in _APPLICATORS):
            return f"{self.function(node, base)}({v})"
        tests = self.tests(node, base, v, depth)
        return " and ".join(f"({t})" for t in tests) if tests else "True"

    def function(self, node: Any, base: str) -> str:
        body = self.body(node, base)
        m = re.fullmatch(r"if not \((_[rf]\d+)\(v\)\): return False", body[0])
        if len(body) == 2 and m:
            return m[1]  # a bare "$ref" (with annotations): the target's function itself
        return self.define(body)

    def tests(self, node: dict[str, Any], base: str, v: str, depth: int) -> list[str]:
        """Expressions for the keywords that need no loop (all must hold)."""
        for key in node:
            if key in APPLIED and key not in _SUPPORTED:
                raise _Unsupported(key)
        if "$id" in node and node is not self.documents.get(base):
            raise _Unsupported("$id below a document root")  # it would move the base URI
        out: list[str] = []
        if "type" in node:
            types = node["type"]
            types = [types] if isinstance(types, str) else types
            if not isinstance(types, list) or any(t not in _TYPES for t in types):
                raise _Unsupported("type")
            out.append(" or ".join(_TYPES[t].format(v=v) for t in types) or "False")
        if "enum" in node:
            allowed = node["enum"]
            if not isinstance(allowed, list):
                raise _Unsupported("enum")
            if allowed and all(isinstance(a, str) for a in allowed):
                out.append(f"isinstance({v}, str) and {v} in"
                           f" {self.constant(f'frozenset({sorted(allowed)!r})')}")
            else:
                out.append(f"_enum({v}, {self.constant(_literal(tuple(allowed)))})")
        if "const" in node:
            const = node["const"]
            if isinstance(const, str):
                out.append(f"isinstance({v}, str) and {v} == {const!r}")
            else:
                out.append(f"_equal({v}, {self.constant(_literal(const))})")
        if "pattern" in node:
            pattern = node["pattern"]
            if not isinstance(pattern, str):
                raise _Unsupported("pattern")
            try:
                re.compile(pattern)
            except re.error:
                raise _Unsupported("pattern") from None
            compiled = self.constant(f"_pattern({pattern!r})")
            out.append(f"not isinstance({v}, str) or {compiled}.search({v}) is not None")
        for key, kind, op in (("minLength", "str", "<"), ("maxLength", "str", ">"),
                              ("minItems", "list", "<"), ("maxItems", "list", ">"),
                              ("minProperties", "dict", "<"), ("maxProperties", "dict", ">")):
            if key in node:
                limit = node[key]
                if not isinstance(limit, int) or isinstance(limit, bool):
                    raise _Unsupported(key)
                out.append(f"not isinstance({v}, {kind}) or not len({v}) {op} {limit!r}")
        for key, op in (("minimum", "<"), ("maximum", ">"), ("exclusiveMinimum", "<="),
                        ("exclusiveMaximum", ">=")):
            if key in node:
                limit = node[key]
                if not isinstance(limit, int | float) or isinstance(limit, bool):
                    raise _Unsupported(key)
                out.append(f"not _number({v}) or not {v} {op} {self.constant(repr(limit))}")
        if node.get("uniqueItems"):
            out.append(f"not isinstance({v}, list) or _unique({v})")
        if "required" in node:
            required = node["required"]
            if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
                raise _Unsupported("required")
            if required:
                present = " and ".join(f"{r!r} in {v}" for r in dict.fromkeys(required))
                out.append(f"not isinstance({v}, dict) or {present}")
        if "$ref" in node:
            out.append(f"{self.ref(node['$ref'], base)}({v})")
        if "propertyNames" in node:
            # Every member name is an instance of the subschema (a string, so only string
            # keywords can fail it); a fresh name per depth, as nested schemas may repeat this.
            k = f"_k{depth}"
            names = self.expression(node["propertyNames"], base, k, depth + 1)
            if names != "True":
                out.append(f"not isinstance({v}, dict) or all(({names}) for {k} in {v})")
        out += self.combinators(node, base, v, depth)
        return out

    def combinators(self, node: dict[str, Any], base: str, v: str, depth: int) -> list[str]:
        out: list[str] = []

        def each(key: str) -> list[str]:
            subs = node[key]
            if not isinstance(subs, list):
                raise _Unsupported(key)
            return [self.expression(s, base, v, depth + 1) for s in subs]

        if "allOf" in node:
            out += each("allOf")
        if "anyOf" in node:
            out.append(" or ".join(f"({e})" for e in each("anyOf")) or "False")
        if "oneOf" in node:
            # Exactly one branch valid (jsonschema also evaluates them all).
            branches = each("oneOf")
            out.append(f"({' + '.join(f'bool({e})' for e in branches)}) == 1" if branches
                       else "False")
        if "not" in node:
            out.append(f"not ({self.expression(node['not'], base, v, depth + 1)})")
        if "if" in node:
            cond = self.expression(node["if"], base, v, depth + 1)
            then = self.expression(node.get("then", True), base, v, depth + 1)
            other = self.expression(node.get("else", True), base, v, depth + 1)
            if (then, other) != ("True", "True"):
                out.append(f"({then}) if ({cond}) else ({other})")
        return out

    def body(self, node: Any, base: str) -> list[str]:
        """Statements of a function of v that returns whether v is valid under node."""
        if node is True or node is False:
            return [f"return {node}"]
        if not isinstance(node, dict):
            raise _Unsupported("schema is not an object or a boolean")
        lines = [f"if not ({t}): return False" for t in self.tests(node, base, "v", 0)]
        lines += self.name_lines(node, base)
        lines += self.object_lines(node, base)
        lines += self.array_lines(node, base)
        return [*lines, "return True"]

    def name_lines(self, node: dict[str, Any], base: str) -> list[str]:
        # propertyNames: every member name of an object is an instance of the subschema.
        if "propertyNames" not in node:
            return []
        test = self.expression(node["propertyNames"], base, "k")
        if test == "True":
            return []
        return ["if isinstance(v, dict):", "    for k in v:",
                f"        if not ({test}): return False"]

    def object_lines(self, node: dict[str, Any], base: str) -> list[str]:
        props = node.get("properties", {})
        patterns = node.get("patternProperties", {})
        extra = node.get("additionalProperties", True)
        if not isinstance(props, dict) or not isinstance(patterns, dict):
            raise _Unsupported("properties")
        if not props and not patterns and extra is True:
            return []
        # One pass over the object's members: a member named in properties is checked by its
        # schema (a dict lookup, as jsonschema's `property in instance`), the others are the
        # "additional" ones unless a patternProperties regex finds them.
        table = {name: self.function(sub, base) for name, sub in props.items()
                 if sub is not True and sub != {}}
        loop: list[str] = []
        for pattern, sub in patterns.items():
            try:
                re.compile(pattern)
            except re.error:
                raise _Unsupported("patternProperties") from None
            compiled = self.constant(f"_pattern({pattern!r})")
            loop.append(f"if {compiled}.search(k) and not"
                        f" ({self.expression(sub, base, 'x')}): return False")
        allowed = self.expression(extra, base, "x")
        if allowed != "True":
            # jsonschema: extras are the members not in properties and not matched by the
            # patterns joined with "|" (find_additional_properties).
            tests = []
            if len(table) < len(props):  # some members are named but not in the table
                tests.append(f"k not in {self.constant(f'frozenset({sorted(props)!r})')}")
            if patterns:
                joined = "|".join(patterns)
                tests.append(f"not {self.constant(f'_pattern({joined!r})')}.search(k)")
            if allowed != "False":
                tests.append(f"not ({allowed})")
            loop.append(f"if {' and '.join(tests)}: return False" if tests else "return False")
        if not table and not loop:
            return []
        if not table:
            body = ["for k, x in v.items():", *("    " + line for line in loop)]
        elif not loop:
            body = ["for k, x in v.items():", f"    f = {self.constant(_table(table))}.get(k)",
                    "    if f is not None and not f(x): return False"]
        elif not patterns and len(loop) == 1:  # additionalProperties only
            body = ["for k, x in v.items():", f"    f = {self.constant(_table(table))}.get(k)",
                    "    if f is None:", "        " + loop[0],
                    "    elif not f(x): return False"]
        else:
            body = ["for k, x in v.items():", f"    f = {self.constant(_table(table))}.get(k)",
                    "    if f is not None and not f(x): return False",
                    *("    " + line for line in loop)]
        return ["if isinstance(v, dict):", *("    " + line for line in body)]

    def array_lines(self, node: dict[str, Any], base: str) -> list[str]:
        prefix = node.get("prefixItems", [])
        items = node.get("items", True)
        if not isinstance(prefix, list):
            raise _Unsupported("prefixItems")
        lines: list[str] = []
        for index, sub in enumerate(prefix):
            e = self.expression(sub, base, "x")
            if e != "True":
                lines += [f"if len(v) > {index}:", f"    x = v[{index}]",
                          f"    if not ({e}): return False"]
        rest = f"v[{len(prefix)}:]" if prefix else "v"
        if items is False:
            lines.append(f"if len(v) > {len(prefix)}: return False")
        elif items is not True:
            e = self.expression(items, base, "x")
            if e != "True":
                lines += [f"for x in {rest}:", f"    if not ({e}): return False"]
        return ["if isinstance(v, list):", *("    " + line for line in lines)] if lines else []

    def module(self, root: Any, base: str) -> str:
        entry = self.function(root, base)
        while self.pending:
            name, node, uri = self.pending.pop()
            self.functions.append(f"def {name}(v):\n" + "\n".join(
                "    " + line for line in self.body(node, uri)) + "\n")
        return "\n".join([*self.functions, *self.constant_lines, f"valid = {entry}", ""])


def _table(functions: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k!r}: {f}" for k, f in functions.items()) + "}"


def _literal(value: Any) -> str:
    """value as a Python expression (JSON values only)."""
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _Unsupported("non-finite number")
        return repr(value)
    if isinstance(value, list | tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if value else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    raise _Unsupported(f"constant of type {type(value).__name__}")


def source(root: Any, documents: Mapping[str, Any] | None = None) -> str | None:
    """Python source defining `valid(instance) -> bool` for the schema root (its "$id", if
    any, is its base URI); documents maps the absolute URIs "$ref"s may point into to their
    contents. None if the schema uses what this compiler does not know."""
    base = root.get("$id", "") if isinstance(root, dict) else ""
    if not isinstance(base, str):
        return None
    try:
        return _Compiler({**(documents or {}), base: root}).module(root, base)
    except (_Unsupported, RecursionError):
        return None


def load(code: Any) -> Predicate:
    """The predicate of compiled source (a code object, or source text)."""
    namespace = dict(RUNTIME)
    exec(code, namespace)
    predicate: Predicate = namespace["valid"]
    return predicate


def schema_key(schema: Any) -> str:
    """Canonical text of a schema held in memory, for cache keys."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"), default=repr)


def cached_validator(name: str, inputs: Sequence[str],
                     make: Callable[[], tuple[Any, Mapping[str, Any]]]) -> Predicate | None:
    """The compiled validator of the schema make() returns (root, documents), from the user's
    cache when one was compiled from the same inputs: inputs must identify everything make()
    reads (file stamps, or the schema's own text). None if the schema cannot be compiled."""
    from . import __version__, codecache

    def make_source() -> str | None:
        root, documents = make()
        return source(root, documents)

    # This generator's source file is part of the key, so an edit in a checkout counts too.
    key = codecache.key([GENERATOR_VERSION, __version__, codecache.file_stamp(__file__),
                         *inputs])
    code = codecache.compiled(name, key, make_source)
    return None if code is None else load(code)


_IN_MEMORY: dict[str, Predicate | None] = {}


def accepts(check: Predicate | None, instance: Any) -> bool:
    """True if the compiled validator accepts instance; False when it rejects it, does not
    exist, or fails (then jsonschema decides, and words the errors)."""
    if check is None:
        return False
    try:
        return check(instance) is True
    except Exception:  # e.g. a key jsonschema's regexes cannot read either: let it decide
        return False


def passes(name: str, schema: Any, instance: Any) -> bool:
    """accepts() with the compiled validator of schema, a document held in memory (one schema
    per name in a process)."""
    if name not in _IN_MEMORY:
        _IN_MEMORY[name] = cached_validator(name, [schema_key(schema)], lambda: (schema, {}))
    return accepts(_IN_MEMORY[name], instance)
