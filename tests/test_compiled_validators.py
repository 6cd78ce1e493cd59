"""The compiled validators give jsonschema's verdict, document for document.

Differential: every object of every example base, mutated thousands of ways (wrong types,
unknown and missing fields, trailing newlines, int/float/bool confusions, nulls, nesting),
under several Kubernetes versions, is judged by the compiled validator and by the jsonschema
validator verify.py words errors with; the values schema likewise. Property tests hold the
compiler to jsonschema keyword by keyword on hostile values. Then the cache: keyed, private,
atomic, optional."""

from __future__ import annotations

import copy
import json
import math
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import codecache, kubeschemas, render, schemacompiler, servers, values, verify

from support import EXAMPLES, ROOT, example_values

VERSIONS = ("1.29", "1.31", "1.33", kubeschemas.supported_versions()[-1])
MUTATIONS_PER_DOC = 120


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test module run compiles into its own cache, not the user's.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.delenv("MCP_SCAFFOLD_NO_CACHE", raising=False)
    codecache.directory.cache_clear()


def _example_docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in example_values():
        raw = values.read_file(str(path))
        if servers.has_servers(raw):  # a `servers:` tree: every base of it
            docs += verify.documents(render.render_tree(servers.validate(raw, str(path))))
        else:
            docs += verify.documents(render.render(values.validate(raw, str(path))))
    return docs


DOCS = _example_docs()


# --- mutations ---------------------------------------------------------------------------

def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*path, i))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        node = node[p]
    return node


def _replacements(value: Any) -> list[Any]:
    """What a value may be turned into: its type confused, stretched or emptied."""
    out: list[Any] = [None, True, False, 0, 1, -1, 1.0, 1.5, -0.0, float("nan"), float("inf"),
                      2**63, "", "x", "x\n", "1", "true", "null", [], {}, [value], {"x": value}]
    if isinstance(value, str):
        out += [value + "\n", "\n" + value, value + " ", value.upper(), value[:-1], value * 2]
    if isinstance(value, bool):
        out += [int(value), str(value).lower(), float(value)]
    elif isinstance(value, int):
        out += [float(value), value + 0.5, value != 0, str(value), -value, value * 10**9]
    if isinstance(value, list) and value:
        out += [value + value[:1], [*value, None], value[1:], [value[0]] * 3, [value]]
    if isinstance(value, dict):
        out += [{**value, "zzUnknown": 1}, {**value, "Name": "x"}, {k: None for k in value},
                {k: [v] for k, v in value.items()}]
        for key in value:
            out.append({k: v for k, v in value.items() if k != key})
    return out


def _mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """doc with one to three random changes somewhere inside."""
    out = copy.deepcopy(doc)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        paths = [p for p in _paths(out) if p]
        path = rng.choice(paths)
        parent = _get(out, path[:-1])
        if isinstance(parent, dict) and rng.random() < 0.1:
            del parent[path[-1]]  # a missing (maybe required) field
            continue
        parent[path[-1]] = copy.deepcopy(rng.choice(_replacements(parent[path[-1]])))
    return out


def _jsonschema_valid(validator: Any, doc: Any) -> bool:
    return next(iter(validator.iter_errors(doc)), None) is None


# --- the Kubernetes kinds ------------------------------------------------------------------

def test_every_rendered_kind_has_a_compiled_validator() -> None:
    kinds = {(d["kind"], d["apiVersion"]) for d in DOCS}
    assert ("Deployment", "apps/v1") in kinds
    assert ("SecretProviderClass", verify.SPC_API_VERSION) in kinds
    for version in VERSIONS:
        for kind, api in kinds:
            assert verify._compiled(version, kind, api) is not None, (version, kind)


@pytest.mark.parametrize("version", VERSIONS)
def test_compiled_verdicts_equal_jsonschema_on_mutated_objects(version: str) -> None:
    rng = random.Random(f"mcp-scaffold {version}")
    seen = {True: 0, False: 0}
    for doc in DOCS:
        key = (version, doc["kind"], doc["apiVersion"])
        compiled, validator = verify._compiled(*key), verify._validator(*key)
        assert compiled is not None and validator is not None
        for candidate in [doc, *(_mutate(doc, rng) for _ in range(MUTATIONS_PER_DOC))]:
            expected = _jsonschema_valid(validator, candidate)
            assert compiled(candidate) is expected, (key, json.dumps(candidate, default=str))
            seen[expected] += 1
    # Both verdicts are common: the mutations reach the schemas' constraints.
    assert seen[True] > 300 and seen[False] > 1000, seen


def test_verify_words_a_rejected_object_as_jsonschema_does() -> None:
    doc = copy.deepcopy(next(d for d in DOCS if d["kind"] == "Deployment"))
    doc["spec"]["replicas"] = "2"
    doc["spec"]["template"]["spec"]["hostNetwork"] = 1
    doc["spec"]["template"]["spec"]["containers"][0]["name"] = None
    doc["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy\n"] = "Always"
    failures = verify.schema_failures(doc, "1.33")
    assert failures == [
        f"Deployment/{doc['metadata']['name']}: {line}" for line in (
            "spec.replicas: '2' is not of type 'integer', 'null'",
            "spec.template.spec.containers[0]: Additional properties are not allowed"
            " ('imagePullPolicy\\n' was unexpected)",
            "spec.template.spec.containers[0].name: None is not of type 'string'",
            "spec.template.spec.hostNetwork: 1 is not of type 'boolean', 'null'",
        )]


# --- the values schema ---------------------------------------------------------------------

def test_values_schema_verdicts_equal_jsonschema() -> None:
    # values' own jsonschema validator: Draft 2020-12 with `pattern` read as ECMA-262 does
    # ("$" is the end of the text); the compiled one gets the schema rewritten to match.
    validator = values._validator()
    rng = random.Random("values")
    raw = [yaml.safe_load(p.read_text("utf-8")) for p in example_values()]
    seen = {True: 0, False: 0}
    for doc in raw:
        for candidate in [doc, *(_mutate(doc, rng) for _ in range(300))]:
            expected = _jsonschema_valid(validator, candidate)
            assert schemacompiler.passes("values", values._ecma_schema(), candidate) is expected, \
                json.dumps(candidate, default=str)
            seen[expected] += 1
    assert seen[True] > 100 and seen[False] > 500, seen


# --- keyword by keyword --------------------------------------------------------------------

def test_the_compiler_knows_every_keyword_jsonschema_applies() -> None:
    # A jsonschema release that applies a new keyword must be looked at: the compiler would
    # otherwise pass over it as an annotation.
    assert set(jsonschema.Draft202012Validator.VALIDATORS) == schemacompiler.APPLIED


DEFS = {"$defs": {
    "intOrString": {"oneOf": [{"type": ["string", "null"]}, {"type": ["integer", "null"]}]},
    "node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"},
                                              "v": {"type": "integer"}},
             "additionalProperties": False},
}}
SCHEMAS: list[Any] = [
    True, False, {}, {"type": "integer"}, {"type": "number"}, {"type": ["boolean", "null"]},
    {"type": "string", "pattern": "^[a-z]+$"}, {"pattern": "b"}, {"type": "array"},
    {"propertyNames": {"pattern": "^[a-z]+$"}}, {"type": "object", "propertyNames": {"maxLength": 2}},
    {"propertyNames": False}, {"propertyNames": {"enum": ["a", "b"]}, "additionalProperties": True},
    {"enum": ["a", 1, None, [1, "x"], {"k": True}]}, {"enum": ["apps/v1"]}, {"enum": [1.0]},
    {"const": 1}, {"const": True}, {"const": "x"}, {"const": {"a": [1, 2.0]}},
    {"minimum": 1, "maximum": 3}, {"exclusiveMinimum": 0, "exclusiveMaximum": 1.5},
    {"minLength": 2, "maxLength": 3}, {"minItems": 1, "maxItems": 2, "uniqueItems": True},
    {"minProperties": 1, "maxProperties": 2}, {"required": ["a", "b"]},
    {"properties": {"a": {"type": "string"}, "b": True, "c": False},
     "additionalProperties": False},
    {"properties": {"a": {"type": "string"}}, "patternProperties": {"^x-": {"type": "integer"}},
     "additionalProperties": {"type": "boolean"}},
    {"patternProperties": {"^a": {"minimum": 2}, "b$": {"maximum": 1}},
     "additionalProperties": False},
    {"items": {"type": "integer"}}, {"prefixItems": [{"type": "string"}, {"const": 1}]},
    {"prefixItems": [{"type": "string"}], "items": False},
    {"allOf": [{"type": "integer"}, {"minimum": 2}]}, {"anyOf": [{"type": "string"}, {"minimum": 5}]},
    {"anyOf": []}, {"oneOf": []}, {"allOf": []},
    {"oneOf": [{"type": "integer"}, {"type": "number"}]}, {"not": {"type": "null"}},
    {"if": {"type": "integer"}, "then": {"minimum": 3}, "else": {"type": "string"}},
    {"if": {"required": ["a"]}, "then": {"required": ["b"]}},
    # Draft 2020-12: "$ref" siblings apply (drafts 4-7 ignored them).
    {**DEFS, "$ref": "#/$defs/intOrString", "type": "string"},
    {**DEFS, "$ref": "#/$defs/node"},
    {**DEFS, "properties": {"p": {"$ref": "#/$defs/intOrString", "description": "d"}}},
    {"type": "string", "format": "date-time"}, {"format": "ipv4", "x-kubernetes-int-or-string": 1},
    {"propertyNames": {"pattern": "^[a-b]+$", "maxLength": 1}}, {"propertyNames": False},
    {"properties": {"a": {"propertyNames": {"enum": ["b", "c"]}}}, "propertyNames": {"minLength": 1}},
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "a", "ab", "abc", "apps/v1", "apps/v1\n", "x-1", "b", "1", "abcd\n",
                       "date"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["a", "b", "c", "v", "next", "p", "x-a", "ab", "ba"]),
                      inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(SCHEMAS))), JSON)
def test_compiled_verdicts_equal_jsonschema_keyword_by_keyword(index: int, instance: Any) -> None:
    schema = SCHEMAS[index]
    source = schemacompiler.source(schema)
    assert source is not None, schema
    expected = _jsonschema_valid(jsonschema.Draft202012Validator(schema), instance)
    assert schemacompiler.load(source)(instance) is expected, (schema, instance)


@pytest.mark.parametrize(("schema", "instance", "valid"), [
    ({"type": "integer"}, 1.0, True),           # an integral float is an integer
    ({"type": "integer"}, True, False),         # a bool is not
    ({"type": "number"}, False, False),
    ({"enum": [1]}, True, False),               # True is not 1 ...
    ({"enum": [1]}, 1.0, True),                 # ... but 1.0 is
    ({"pattern": "^a$"}, "a\n", True),          # re.search: "$" before a final newline
    ({"pattern": "b"}, "abc", True),            # unanchored
    ({"minimum": 1}, math.nan, True),           # NaN fails no comparison
    ({"uniqueItems": True}, [1, True], True),
    ({"uniqueItems": True}, [1, 1.0], False),
    ({"format": "ipv4"}, "not an address", True),  # formats assert nothing
    ({**DEFS, "$ref": "#/$defs/intOrString", "type": "string"}, 3, False),  # siblings apply
    ({**DEFS, "$ref": "#/$defs/intOrString"}, None, False),  # null matches both branches
])
def test_semantics_that_are_easy_to_get_wrong(schema: Any, instance: Any, valid: bool) -> None:
    assert _jsonschema_valid(jsonschema.Draft202012Validator(schema), instance) is valid
    source = schemacompiler.source(schema)
    assert source is not None
    assert schemacompiler.load(source)(instance) is valid


@pytest.mark.parametrize("schema", [
    {"multipleOf": 2}, {"contains": {"type": "string"}}, {"dependentRequired": {"a": ["b"]}},
    {"unevaluatedProperties": False}, {"$ref": "https://example.com/other.json"},
    {"$defs": {"a": {"$anchor": "x"}}, "$ref": "#x"},
    {"properties": {"a": {"$id": "https://example.com/a", "type": "string"}}},
    {"type": "decimal"},
])
def test_what_it_cannot_compile_is_left_to_jsonschema(schema: Any) -> None:
    assert schemacompiler.source(schema) is None
    assert schemacompiler.passes(f"unsupported-{json.dumps(schema)}", schema, 1) is False


# --- the cache ---------------------------------------------------------------------------------

def _entries(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "mcp-scaffold").glob("*.code"))


def test_compiled_once_then_loaded_from_the_private_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    codecache.directory.cache_clear()
    first = kubeschemas.compiled_validator("1.33", "ServiceAccount", "v1")
    assert first is not None
    [entry] = _entries(tmp_path)
    assert entry.startswith("k8s-1.33-serviceaccount-v1-")
    assert (tmp_path / "mcp-scaffold").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "mcp-scaffold" / entry).stat().st_mode & 0o777 == 0o600

    def no_generation(*args: Any) -> None:
        raise AssertionError("generated again despite a cache entry")

    monkeypatch.setattr(schemacompiler, "source", no_generation)
    again = kubeschemas.compiled_validator("1.33", "ServiceAccount", "v1")
    assert again is not None
    assert again({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"}})
    assert not again({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": 1}})


def test_a_changed_input_is_a_new_key_and_a_damaged_entry_is_rebuilt(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    codecache.directory.cache_clear()
    schema = {"type": "object", "required": ["a"]}
    one = schemacompiler.cached_validator("t", [schemacompiler.schema_key(schema)],
                                          lambda: (schema, {}))
    changed = {"type": "object", "required": ["b"]}
    two = schemacompiler.cached_validator("t", [schemacompiler.schema_key(changed)],
                                          lambda: (changed, {}))
    assert one is not None and two is not None
    assert one({"a": 1}) and not two({"a": 1})
    assert len(_entries(tmp_path)) == 2
    for name in _entries(tmp_path):
        (tmp_path / "mcp-scaffold" / name).write_bytes(b"\xe3garbage")
    again = schemacompiler.cached_validator("t", [schemacompiler.schema_key(schema)],
                                            lambda: (schema, {}))
    assert again is not None and again({"a": 1}) and not again({"b": 1})


def test_a_file_stamp_moves_with_every_write(tmp_path: Path) -> None:
    f = tmp_path / "schema.json"
    f.write_text("{}")
    before = codecache.file_stamp(str(f))
    st = f.stat()
    f.write_text("[]")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, mtime set back
    assert codecache.file_stamp(str(f)) != before


def test_no_cache_or_a_cache_not_ours_compiles_in_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("MCP_SCAFFOLD_NO_CACHE", "1")
    codecache.directory.cache_clear()
    check = kubeschemas.compiled_validator("1.33", "Namespace", "v1")
    assert check is not None and check({"apiVersion": "v1", "kind": "Namespace"})
    assert not (tmp_path / "mcp-scaffold").exists()

    monkeypatch.delenv("MCP_SCAFFOLD_NO_CACHE")
    shared = tmp_path / "mcp-scaffold"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)  # others could plant code here: never load from it
    codecache.directory.cache_clear()
    assert codecache.directory() is None
    assert kubeschemas.compiled_validator("1.33", "Namespace", "v1") is not None
    assert _entries(tmp_path) == []
    codecache.directory.cache_clear()


# --- what a command imports ------------------------------------------------------------------

def _imported(*args: str, env: dict[str, str]) -> list[str]:
    code = ("import sys, io; from scaffold.cli import main\n"
            "out = sys.stdout; sys.stdout = io.StringIO()\n"
            f"try: rc = main({list(args)!r})\n"
            "except SystemExit as e: rc = e.code\n"
            "sys.stdout = out\n"
            "print(rc, sorted(m for m in ('jsonschema', 'referencing', 'kubernetes_validate',"
            " 'jinja2', 'yaml') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env}, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().split(maxsplit=1)


def test_a_valid_bundle_never_imports_jsonschema(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    new = ("new", "--values", str(EXAMPLES / "github-mcp.yaml"), "--output", "-")
    for _ in range(2):  # compiling into the cache, then loading from it
        assert _imported(*new, env=env) == ["0", "['jinja2', 'yaml']"]
    assert _imported("--help", env=env) == ["0", "[]"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nnamespace: y\nimage: nope\ningress: {namespace: z}\nreplicas: '2'\n")
    # A rejected document is worded by jsonschema, exactly as before.
    assert _imported("new", "--values", str(bad), "--output", "-", env=env)[0] == "2"
