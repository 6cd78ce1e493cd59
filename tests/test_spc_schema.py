"""The SecretProviderClass schema mcp-scaffold validates against (written by us, in
scaffold/verify.py) accepts and refuses what the CRD's own schema does. The CRD is read from
the upstream copy (kubernetes-sigs/secrets-store-csi-driver, shared/reference), its v1
openAPIV3Schema made strict: unknown fields refused wherever it lists properties. Where ours is
stricter on purpose, the case says so and why; it is never more lenient."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scaffold import providers, verify

from support import EXAMPLES, reference

VERSION = "1.33"
Doc = dict[str, Any]

# The rendered examples, one per provider: the valid objects every mutation starts from.
BASES: dict[str, Doc] = {
    doc["spec"]["provider"]: doc for doc in (
        yaml.safe_load(f.read_text(encoding="utf-8"))
        for f in sorted(EXAMPLES.glob("*/secretproviderclass.yaml")))}

# Parameters each provider refuses to mount without (shared/reference/secrets-csi.md quotes the
# error each gives), and one it can do without.
REQUIRED = {"aws": ("objects",), "azure": ("keyvaultName", "tenantID", "objects"),
            "gcp": ("secrets",), "vault": ("roleName", "objects")}
OPTIONAL = {"aws": "region", "azure": "clientID", "gcp": "auth", "vault": "vaultAddress"}


def _strict(node: Any) -> Any:
    """node without descriptions, refusing unknown fields where it lists properties."""
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if k != "description"}
    if out.get("type") == "object" and "properties" in out:
        out.setdefault("additionalProperties", False)
    return out


@functools.cache
def crd_validator() -> jsonschema.Draft202012Validator:
    crd = yaml.safe_load(reference("secretproviderclass-crd.yaml").read_text(encoding="utf-8"))
    served = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    return jsonschema.Draft202012Validator(_strict(served["schema"]["openAPIV3Schema"]))


def crd_accepts(doc: Any) -> bool:
    return crd_validator().is_valid(doc)


def our_failures(doc: Any) -> list[str]:
    return verify.schema_failures(doc, VERSION)


# --- mutations -------------------------------------------------------------------------------

Mutation = Callable[[Doc], None]


def put(*path: str, value: Any) -> Mutation:
    def mutate(doc: Doc) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = copy.deepcopy(value)
    return mutate


def drop(*path: str) -> Mutation:
    def mutate(doc: Doc) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return mutate


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Mutation
    crd: bool  # the CRD's schema accepts
    ours: bool  # our schema accepts
    why: str = ""  # why ours refuses what the CRD accepts


SECRET_OBJECTS = "stricter: secretObjects copies the secrets into etcd as Secret objects"
OBJECT_META = "stricter: metadata is checked as ObjectMeta, as Kubernetes checks any object's"
ONLY_V1 = "stricter: the one version and kind this schema describes"
K8S_REQUIRES = "stricter: Kubernetes refuses an object without it"
SYNCED = {"secretName": "s", "type": "Opaque", "labels": {"a": "b"}, "annotations": {"c": "d"},
          "data": [{"key": "token", "objectName": "github-token"}]}

CASES = [
    Case("as rendered", lambda doc: None, crd=True, ours=True),
    Case("an extra string parameter", put("spec", "parameters", "x-extra", value="v"),
         crd=True, ours=True),
    Case("an empty string parameter", put("spec", "parameters", "x-extra", value=""),
         crd=True, ours=True),
    Case("status as an empty object", put("status", value={}), crd=True, ours=True),
    Case("status with fields (v1 lists none)", put("status", value={"byPod": []}),
         crd=True, ours=True),
    Case("annotations in metadata", put("metadata", "annotations", value={"a": "b"}),
         crd=True, ours=True),
    # Unknown fields, at each level that lists properties.
    Case("unknown field at the top", put("bogus", value=1), crd=False, ours=False),
    Case("unknown field in spec", put("spec", "bogus", value="x"), crd=False, ours=False),
    Case("misspelt field in spec", put("spec", "paramters", value={}), crd=False, ours=False),
    Case("unknown field in a secretObjects item",
         put("spec", "secretObjects", value=[{**SYNCED, "bogus": "x"}]), crd=False, ours=False),
    Case("unknown field in secretObjects data",
         put("spec", "secretObjects", value=[{**SYNCED, "data": [{"bogus": "x"}]}]),
         crd=False, ours=False),
    # Wrong types.
    Case("apiVersion a number", put("apiVersion", value=1), crd=False, ours=False),
    Case("kind a list", put("kind", value=["SecretProviderClass"]), crd=False, ours=False),
    Case("metadata a string", put("metadata", value="name"), crd=False, ours=False),
    Case("spec a string", put("spec", value="aws"), crd=False, ours=False),
    Case("spec a list", put("spec", value=[]), crd=False, ours=False),
    Case("provider a number", put("spec", "provider", value=1), crd=False, ours=False),
    Case("provider a list", put("spec", "provider", value=["aws"]), crd=False, ours=False),
    Case("parameters a string", put("spec", "parameters", value="a=b"), crd=False, ours=False),
    Case("parameters a list", put("spec", "parameters", value=[]), crd=False, ours=False),
    Case("parameter a YAML 1.1 boolean", put("spec", "parameters", "x", value=False),
         crd=False, ours=False),
    Case("parameter an integer", put("spec", "parameters", "x", value=8200),
         crd=False, ours=False),
    Case("parameter a float", put("spec", "parameters", "x", value=1.0), crd=False, ours=False),
    Case("parameter null", put("spec", "parameters", "x", value=None), crd=False, ours=False),
    Case("parameter a list", put("spec", "parameters", "x", value=["a"]), crd=False, ours=False),
    Case("parameter a mapping", put("spec", "parameters", "x", value={"a": "b"}),
         crd=False, ours=False),
    Case("status a string", put("status", value="ok"), crd=False, ours=False),
    Case("secretObjects a string", put("spec", "secretObjects", value="s"),
         crd=False, ours=False),
    Case("secretObjects item secretName a number",
         put("spec", "secretObjects", value=[{**SYNCED, "secretName": 1}]),
         crd=False, ours=False),
    # Where ours is stricter on purpose.
    Case("secretObjects empty", put("spec", "secretObjects", value=[]),
         crd=True, ours=False, why=SECRET_OBJECTS),
    Case("secretObjects syncing a Secret", put("spec", "secretObjects", value=[SYNCED]),
         crd=True, ours=False, why=SECRET_OBJECTS),
    Case("provider not one mcp-scaffold knows", put("spec", "provider", value="akeyless"),
         crd=True, ours=False, why="stricter: provider is one of the providers we render"),
    Case("provider missing", drop("spec", "provider"),
         crd=True, ours=False, why="stricter: the driver cannot mount without a provider"),
    Case("parameters missing", drop("spec", "parameters"),
         crd=True, ours=False, why="stricter: every provider requires some parameters"),
    Case("spec missing", drop("spec"),
         crd=True, ours=False, why="stricter: a SecretProviderClass without spec mounts nothing"),
    Case("metadata missing", drop("metadata"), crd=True, ours=False, why=K8S_REQUIRES),
    Case("apiVersion missing", drop("apiVersion"), crd=True, ours=False, why=K8S_REQUIRES),
    Case("kind missing", drop("kind"), crd=True, ours=False, why=K8S_REQUIRES),
    Case("unknown field in metadata", put("metadata", "bogus", value=1),
         crd=True, ours=False, why=OBJECT_META),
    Case("metadata.name a number", put("metadata", "name", value=1),
         crd=True, ours=False, why=OBJECT_META),
    Case("metadata.labels values numbers", put("metadata", "labels", value={"tier": 1}),
         crd=True, ours=False, why=OBJECT_META),
    Case("apiVersion v1alpha1", put("apiVersion", value="secrets-store.csi.x-k8s.io/v1alpha1"),
         crd=True, ours=False, why=ONLY_V1),
    Case("another kind", put("kind", value="SecretProviderClassPodStatus"),
         crd=True, ours=False, why=ONLY_V1),
]


def _provider_cases() -> list[tuple[str, Case]]:
    cases = [(p, c) for p in sorted(BASES) for c in CASES]
    for p, names in sorted(REQUIRED.items()):
        cases += [(p, Case(f"required parameter {n} missing", drop("spec", "parameters", n),
                           crd=True, ours=False,
                           why=f"stricter: the {p} provider refuses to mount without {n}"))
                  for n in names]
        cases.append((p, Case(f"optional parameter {OPTIONAL[p]} missing",
                              drop("spec", "parameters", OPTIONAL[p]), crd=True, ours=True)))
    return cases


PROVIDER_CASES = _provider_cases()


def test_the_corpus_starts_from_a_rendered_object_of_every_provider() -> None:
    assert sorted(BASES) == sorted(REQUIRED) == sorted(providers.NAMES)


def test_ours_is_stricter_only_where_a_case_says_why() -> None:
    for _, case in PROVIDER_CASES:
        assert case.crd or not case.ours, f"{case.name}: ours would accept what the CRD refuses"
        assert bool(case.why) == (case.crd != case.ours), case.name


@pytest.mark.parametrize(("provider", "case"), PROVIDER_CASES,
                         ids=[f"{p}: {c.name}" for p, c in PROVIDER_CASES])
def test_verdicts_match_the_crd(provider: str, case: Case) -> None:
    doc = copy.deepcopy(BASES[provider])
    case.mutate(doc)
    assert crd_accepts(doc) is case.crd
    failures = our_failures(doc)
    assert (not failures) is case.ours, failures


def test_refusals_name_the_field_and_the_reason() -> None:
    doc = copy.deepcopy(BASES["aws"])
    doc["spec"]["secretObjects"] = [SYNCED]
    assert our_failures(doc) == [
        f"SecretProviderClass/{doc['metadata']['name']}: spec: secretObjects is not allowed:"
        " it copies the secrets into etcd as Secret objects"]
    doc = copy.deepcopy(BASES["azure"])
    doc["spec"]["parameters"]["usePodIdentity"] = False
    del doc["spec"]["parameters"]["tenantID"]
    assert our_failures(doc) == [
        "SecretProviderClass/azure-mcp-secrets: spec.parameters: 'tenantID' is a required property",
        "SecretProviderClass/azure-mcp-secrets: spec.parameters.usePodIdentity: False is not of"
        " type 'string'"]


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=6)


@settings(max_examples=200, deadline=None)
@given(provider=st.sampled_from(sorted(BASES)), key=st.text(max_size=30), value=JSON)
def test_any_parameter_is_judged_as_the_crd_judges_it(provider: str, key: str,
                                                       value: Any) -> None:
    doc = copy.deepcopy(BASES[provider])
    if key in REQUIRED[provider] and not isinstance(value, str):
        key += "-x"  # replacing a required parameter would also be a missing one
    doc["spec"]["parameters"][key] = value
    assert crd_accepts(doc) is isinstance(value, str)
    assert (not our_failures(doc)) is isinstance(value, str)


@settings(max_examples=100, deadline=None)
@given(provider=st.sampled_from(sorted(BASES)), where=st.sampled_from(["", "spec"]),
       key=st.text(min_size=1, max_size=30), value=JSON)
def test_any_unknown_field_is_refused_by_both(provider: str, where: str, key: str,
                                              value: Any) -> None:
    doc = copy.deepcopy(BASES[provider])
    node = doc[where] if where else doc
    if key in node or key in ("status", "secretObjects", "parameters", "provider"):
        key = "x-" + key
    node[key] = value
    assert not crd_accepts(doc)
    assert our_failures(doc)
