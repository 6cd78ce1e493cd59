"""The fast libyaml path of yamlio reads YAML exactly as the strict pure-Python PyYAML loader
does (same objects, same refusals), and dump() round-trips."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import yamlio
from scaffold.errors import InputError

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
    st.sampled_from(["yes", "no", "on", "0755", "1e3", "2024-01-01", "~", "null", "<<", "?", "-",
                     "a: b", "# c", "!tag", "&a", "*a", "|", ">", "\t", "\ufeff", "\x85", "[", "{"]),
)
KEYS = st.one_of(st.text(max_size=8), st.integers(), st.booleans())
TREES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)), max_leaves=12)
TEXTS = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["a: 1\na: 2\n", "a: &x [1, 2]\nb: *x\n", "<<: {a: 1}\nb: 2\n",
                     "? [a]\n: 1\n", "a: !!str 3\n", "a: |#\n  x\n", "a: [1,\n 2]\n",
                     "--- 1\n--- 2\n", "x: {a: 1, a: 2}\n", "&r [*r]\n", "a:\tb\n",
                     "\ufeffa: 1\n", "a: 'x\x85y'\n", "[1, [2, {3: 4}]]\n", "%YAML 1.1\n--- a\n"]),
)
SLOW = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _reference(text: str) -> Any:
    try:
        docs = list(yaml.load_all(text, Loader=yamlio._StrictLoader))
        for doc in docs:
            yamlio._measure(doc)
        return ("ok", docs)
    except yaml.YAMLError:
        return ("error", None)


def _fast(text: str) -> Any:
    try:
        return ("ok", yamlio._load_all(text))
    except yaml.YAMLError:
        return ("error", None)


def _check(text: str) -> None:
    ref, fast = _reference(text), _fast(text)
    assert ref[0] == fast[0], (text, ref, fast)
    if ref[0] == "ok":
        assert _same(ref[1], fast[1]), (text, ref[1], fast[1])


@SLOW
@given(tree=TREES, flow=st.sampled_from([True, False, None]), start=st.booleans(),
       unicode=st.booleans())
def test_dumped_trees_read_the_same(tree: Any, flow: bool | None, start: bool, unicode: bool) -> None:
    text = yaml.safe_dump(tree, default_flow_style=flow, explicit_start=start, allow_unicode=unicode)
    _check(text)
    _check(yamlio.dump(tree))


@SLOW
@given(text=TEXTS)
def test_arbitrary_text_reads_the_same(text: str) -> None:
    _check(text)


@pytest.mark.parametrize("text", ["? [a]\n: 1\n", "? {a: 1}\n: 2\n", "&r [*r]\n", "a: &m {b: *m}\n"])
def test_unusable_structures_are_input_errors(text: str) -> None:
    with pytest.raises(InputError, match=r"cannot be a key|recursive"):
        yamlio.load_all(text, "t")


@pytest.mark.parametrize("text", ["a: 1\na: 2\n", "x: {a: 1, a: 2}\n", "- {b: 1}\n- {b: 1, b: 2}\n"])
def test_duplicate_keys_are_refused_on_both_paths(text: str) -> None:
    with pytest.raises(InputError, match="duplicate key"):
        yamlio.load_all(text, "t")


@SLOW
@given(tree=TREES)
def test_dump_round_trips(tree: Any) -> None:
    if not isinstance(tree, dict):
        tree = {"k": tree}
    assert _same(yamlio.load_one(yamlio.dump(tree), "t"), tree)


KUBECTL_TEXTS = [
    "apiVersion: v1\nkind: Pod\nspec: {a: y, b: 0o17, c: '1', d: 1_000, e: ~, f: 1:20}\n",
    "x: &b {hostNetwork: true}\nspec:\n  hostNetwork: false\n  <<: *b\n---\n\ufeffa: [1, 2]\n",
    "a: !!int '3'\nb: !!str yes\nc: !!binary aGk=\n",
]


@pytest.mark.parametrize("text", KUBECTL_TEXTS)
def test_kubectl_reading_without_libyaml_is_the_same(text: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fast = [(d.value, d.line) for d in yamlio.load_kubectl(text, "t")]
    monkeypatch.setattr(yamlio, "_COMPOSER", yamlio._PureKubectlComposer)
    assert [(d.value, d.line) for d in yamlio.load_kubectl(text, "t")] == fast


def test_kubectl_reading_without_libyaml_refuses_deep_nesting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlio, "_COMPOSER", yamlio._PureKubectlComposer)
    with pytest.raises(InputError, match="deeper than"):
        yamlio.load_kubectl("a: " + "[" * 3000 + "]" * 3000 + "\n", "t")
