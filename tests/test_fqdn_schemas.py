"""The host-name policies mcp-scaffold emits (scaffold/fqdnpolicy.py) and the schemas it checks
them against.

CiliumNetworkPolicy: our schema (written by us) accepts and refuses what the upstream CRD's own
openAPIV3Schema does (cilium/cilium, shared/reference/cilium-ciliumnetworkpolicies-crd.yaml,
read here at test time), on a corpus of built objects and mutations of them. The CRD schema is
an OpenAPI v3 subset as the API server reads it: unknown fields refused wherever it lists
properties (kubectl's default strict field validation), x-kubernetes-int-or-string as integer or
string, nullable as null allowed, list-type set as unique items, patterns with Go's `$` (end of
text). Where ours is stricter on purpose, the case says why; it is never more lenient.

FQDNNetworkPolicy (GKE): there is no public copy of the CRD GKE installs (SOURCES.md), so our
schema is tested against hand-written cases from shared/reference/gke-fqdnnetworkpolicy.md,
the summary of Google's documentation, each saying which fact it checks."""

from __future__ import annotations

import copy
import functools
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scaffold import fqdnpolicy, verify, yamlio
from scaffold.errors import InputError
from scaffold.fqdnpolicy import check_host

from host_support import HOSTILE, LDH, hosts
from support import reference, run_tool, tool

# Any Kubernetes version kubernetes-validate bundles: only ObjectMeta is looked up there.
VERSION = "1.33"
Doc = dict[str, Any]

SELECTOR = {"app.kubernetes.io/instance": "github-mcp"}
LABELS = {"app.kubernetes.io/name": "github-mcp", "app.kubernetes.io/managed-by": "mcp-scaffold"}
HOSTS = [("api.github.com", [443]), ("*.githubassets.com", [443]),
         ("uploads.github.com", [8443, 443])]
KUBE_DNS = ("kube-system", {"k8s-app": "kube-dns"})


def cilium(hosts: list[tuple[str, list[int]]] = HOSTS) -> Doc:
    return fqdnpolicy.cilium_network_policy("github-mcp", "mcp-prod", SELECTOR, hosts,
                                            [KUBE_DNS], LABELS)


def gke(hosts: list[tuple[str, list[int]]] = HOSTS) -> Doc:
    return fqdnpolicy.fqdn_network_policy("github-mcp", "mcp-prod", SELECTOR, hosts, LABELS)


# --- the upstream CRD's schema, as the API server reads it -----------------------------------


def _go_pattern(pattern: str) -> str:
    # The API server matches with Go's regexp, where `$` is the end of the text; Python's `$`
    # also matches before a final "\n". (No CRD pattern has `$` inside a character class.)
    return re.sub(r"(?<!\\)\$", r"\\Z", pattern)


def openapi(node: Any) -> Any:
    """A CRD's OpenAPI v3 schema node as a JSON Schema with the API server's verdicts."""
    if isinstance(node, list):
        return [openapi(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":  # names of fields, not keywords
            out[key] = {name: openapi(sub) for name, sub in value.items()}
        elif key in ("description", "format", "default", "nullable") or key.startswith("x-kubernetes-"):
            continue  # documentation, defaulting, or handled below
        elif key == "pattern":
            out[key] = _go_pattern(value)
        else:
            out[key] = openapi(value)
    if node.get("x-kubernetes-int-or-string"):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    if (out.get("type") == "object" and "properties" in out and "additionalProperties" not in out
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@functools.cache
def crd_validator() -> jsonschema.Draft202012Validator:
    crd = yaml.safe_load(reference("cilium-ciliumnetworkpolicies-crd.yaml").read_text("utf-8"))
    assert (crd["spec"]["group"], crd["spec"]["names"]["kind"]) == ("cilium.io", "CiliumNetworkPolicy")
    served = next(v for v in crd["spec"]["versions"] if v["name"] == "v2")
    assert served["served"]
    return jsonschema.Draft202012Validator(openapi(served["schema"]["openAPIV3Schema"]))


def crd_accepts(doc: Any) -> bool:
    return crd_validator().is_valid(doc)


@functools.cache
def our_validator(kind: str, api_version: str) -> jsonschema.Draft202012Validator:
    # As scaffold/verify.py builds its validators: ObjectMeta resolves through the registry of
    # kubernetes-validate's definitions for the version.
    _, registry = verify._definitions(VERSION)
    schema = fqdnpolicy.SCHEMAS[(kind, api_version)]()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def cilium_failures(doc: Doc) -> list[str]:
    validator = our_validator(fqdnpolicy.CILIUM_KIND, fqdnpolicy.CILIUM_API_VERSION)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def gke_failures(doc: Doc) -> list[str]:
    validator = our_validator(fqdnpolicy.GKE_KIND, fqdnpolicy.GKE_API_VERSION)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


# --- mutations -------------------------------------------------------------------------------

Mutation = Callable[[Doc], None]
Key = str | int


def _node(doc: Doc, path: tuple[Key, ...]) -> Any:
    node: Any = doc
    for key in path:
        node = node[key]
    return node


def put(*path: Key, value: Any) -> Mutation:
    def mutate(doc: Doc) -> None:
        _node(doc, path[:-1])[path[-1]] = copy.deepcopy(value)
    return mutate


def replace(value: Doc) -> Mutation:
    def mutate(doc: Doc) -> None:
        doc.clear()
        doc.update(copy.deepcopy(value))
    return mutate


def drop(*path: Key) -> Mutation:
    def mutate(doc: Doc) -> None:
        del _node(doc, path[:-1])[path[-1]]
    return mutate


def append(*path: Key, value: Any) -> Mutation:
    def mutate(doc: Doc) -> None:
        _node(doc, path).append(copy.deepcopy(value))
    return mutate


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Mutation
    crd: bool  # the CRD's schema accepts
    ours: bool  # our schema accepts
    why: str = ""  # why ours refuses what the CRD accepts


# Paths into the built object: egress[0] is the DNS rule, [1] the exact name, [2] the wildcard.
DNS = ("spec", "egress", 0)
NAME = ("spec", "egress", 1)
WILD = ("spec", "egress", 2)
NAME_PORT = (*NAME, "toPorts", 0, "ports", 0)

K8S_REQUIRES = "stricter: Kubernetes refuses an object without it"
OBJECT_META = "stricter: metadata is checked as ObjectMeta, as Kubernetes checks any object's"
NOT_EMITTED = "stricter: a field mcp-scaffold never emits (the schema describes what it emits)"
HOST = "stricter: whole-string host names (check_host): "
PORT = "stricter: ports are whole-string numbers 1-65535; Cilium's pattern is anchored on one side only"
LOCAL_DNS = ("kube-system", {"k8s-app": "node-local-dns"})

CILIUM_CASES = [
    Case("as built", lambda doc: None, crd=True, ours=True),
    Case("a second DNS server (node-local-dns pods)",
         append(*DNS, "toEndpoints", value={"matchLabels": {
             "k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "node-local-dns"}}),
         crd=True, ours=True),
    Case("two names in one toFQDNs rule",
         append(*NAME, "toFQDNs", value={"matchName": "api.example.com"}), crd=True, ours=True),
    Case("UDP", put(*NAME_PORT, "protocol", value="UDP"), crd=True, ours=True),
    Case("ANY", put(*NAME_PORT, "protocol", value="ANY"), crd=True, ours=True),
    Case("DNS over ANY", put(*DNS, "toPorts", 0, "ports", value=[{"port": "53", "protocol": "ANY"}]),
         crd=True, ours=True),
    Case("port 65535", put(*NAME_PORT, "port", value="65535"), crd=True, ours=True),
    Case("port 1", put(*NAME_PORT, "port", value="1"), crd=True, ours=True),
    Case("40 ports", put(*NAME, "toPorts", 0, "ports",
                         value=[{"port": str(p), "protocol": "TCP"} for p in range(1, 41)]),
         crd=True, ours=True),
    Case("annotations in metadata", put("metadata", "annotations", value={"a": "b"}),
         crd=True, ours=True),
    Case("a punycode name", put(*NAME, "toFQDNs", 0, "matchName", value="xn--bcher-kva.de"),
         crd=True, ours=True),
    # Unknown fields, at each level we emit.
    Case("unknown field at the top", put("bogus", value=1), crd=False, ours=False),
    Case("unknown field in spec", put("spec", "egres", value=[]), crd=False, ours=False),
    Case("unknown field in an egress rule", put(*NAME, "toFQDN", value=[]), crd=False, ours=False),
    Case("unknown field in a toFQDNs item", put(*NAME, "toFQDNs", 0, "matchname", value="a.b"),
         crd=False, ours=False),
    Case("unknown field in toPorts", put(*NAME, "toPorts", 0, "port", value="443"),
         crd=False, ours=False),
    Case("unknown field in a port", put(*NAME_PORT, "proto", value="TCP"), crd=False, ours=False),
    Case("unknown field in endpointSelector", put("spec", "endpointSelector", "matchlabels", value={}),
         crd=False, ours=False),
    Case("unknown field in rules", put(*DNS, "toPorts", 0, "rules", "dnss", value=[]),
         crd=False, ours=False),
    Case("unknown field in a dns rule", put(*DNS, "toPorts", 0, "rules", "dns", 0, "pattern", value="*"),
         crd=False, ours=False),
    # Wrong types and values.
    Case("spec a string", put("spec", value="egress"), crd=False, ours=False),
    Case("egress a mapping", put("spec", "egress", value={}), crd=False, ours=False),
    Case("toFQDNs a string", put(*NAME, "toFQDNs", value="api.github.com"), crd=False, ours=False),
    Case("matchName a number", put(*NAME, "toFQDNs", 0, "matchName", value=1), crd=False, ours=False),
    Case("port a number", put(*NAME_PORT, "port", value=443), crd=False, ours=False),
    Case("protocol in lower case", put(*NAME_PORT, "protocol", value="tcp"), crd=False, ours=False),
    Case("protocol ICMP", put(*NAME_PORT, "protocol", value="ICMP"), crd=False, ours=False),
    Case("a label value a number", put("spec", "endpointSelector", "matchLabels", "tier", value=1),
         crd=False, ours=False),
    Case("a label value with '/'", put("spec", "endpointSelector", "matchLabels", "tier", value="a/b"),
         crd=False, ours=False),
    Case("a label value of 64 characters",
         put("spec", "endpointSelector", "matchLabels", "tier", value="a" * 64), crd=False, ours=False),
    Case("matchName with a space", put(*NAME, "toFQDNs", 0, "matchName", value="api github.com"),
         crd=False, ours=False),
    Case("matchName with a final newline", put(*NAME, "toFQDNs", 0, "matchName", value="api.github.com\n"),
         crd=False, ours=False),
    Case("matchName non-ASCII", put(*NAME, "toFQDNs", 0, "matchName", value="bücher.de"),
         crd=False, ours=False),
    Case("matchName and matchPattern in one item",
         put(*NAME, "toFQDNs", 0, "matchPattern", value="*.github.com"), crd=False, ours=False),
    Case("a toFQDNs item with neither", put(*NAME, "toFQDNs", 0, value={}), crd=False, ours=False),
    Case("41 ports", put(*NAME, "toPorts", 0, "ports",
                         value=[{"port": str(p), "protocol": "TCP"} for p in range(1, 42)]),
         crd=False, ours=False),
    Case("endpointSelector missing", drop("spec", "endpointSelector"), crd=False, ours=False),
    Case("egress missing", drop("spec", "egress"), crd=True, ours=False,
         why="stricter: the CRD wants one of egress/egressDeny/...; ours always has both"),
    Case("egressDeny missing", drop("spec", "egressDeny"), crd=True, ours=False,
         why="stricter: the deny rule keeps host answers out of metadata and private ranges"),
    Case("egressDeny narrowed", put("spec", "egressDeny", 0, "toCIDR", value=["10.0.0.0/8"]),
         crd=True, ours=False, why="stricter: every range an IP rule excepts is denied"),
    Case("metadata missing", drop("metadata"), crd=False, ours=False),
    Case("metadata a string", put("metadata", value="x"), crd=False, ours=False),
    Case("rules with dns and http", put(*DNS, "toPorts", 0, "rules", "http", value=[{}]),
         crd=False, ours=False),
    # Where ours is stricter on purpose.
    Case("apiVersion missing", drop("apiVersion"), crd=True, ours=False, why=K8S_REQUIRES),
    Case("kind missing", drop("kind"), crd=True, ours=False, why=K8S_REQUIRES),
    Case("apiVersion cilium.io/v1", put("apiVersion", value="cilium.io/v1"), crd=True, ours=False,
         why="stricter: the one version and kind this schema describes"),
    Case("kind CiliumClusterwideNetworkPolicy", put("kind", value="CiliumClusterwideNetworkPolicy"),
         crd=True, ours=False, why="stricter: the one version and kind this schema describes"),
    Case("unknown field in metadata", put("metadata", "bogus", value=1), crd=True, ours=False,
         why=OBJECT_META),
    Case("metadata.name a number", put("metadata", "name", value=1), crd=True, ours=False,
         why=OBJECT_META),
    Case("status", put("status", value={}), crd=True, ours=False,
         why=NOT_EMITTED + "; the API server drops status on create"),
    Case("matchPattern '*'", put(*WILD, "toFQDNs", 0, "matchPattern", value="*"), crd=True, ours=False,
         why=HOST + "'*' is every host, as open as 0.0.0.0/0"),
    Case("matchPattern '*.com'", put(*WILD, "toFQDNs", 0, "matchPattern", value="*.com"),
         crd=True, ours=False, why=HOST + "a wildcard over a whole top-level domain"),
    Case("matchPattern with '*' inside a label",
         put(*WILD, "toFQDNs", 0, "matchPattern", value="api-*.github.com"), crd=True, ours=False,
         why=HOST + "the wildcard is the whole first label, the form GKE and Cilium read alike"),
    Case("matchPattern '**.' (any depth)",
         put(*WILD, "toFQDNs", 0, "matchPattern", value="**.github.com"), crd=True, ours=False,
         why=HOST + "one label deep only, the form GKE and Cilium read alike"),
    Case("matchPattern without a wildcard",
         put(*WILD, "toFQDNs", 0, "matchPattern", value="api.github.com"), crd=True, ours=False,
         why="stricter: exact names are emitted as matchName, so a pattern always has its '*.'"),
    Case("matchName in upper case", put(*NAME, "toFQDNs", 0, "matchName", value="API.github.com"),
         crd=True, ours=False, why=HOST + "one spelling (lower case) for every rule and `check`"),
    Case("matchName with a trailing dot", put(*NAME, "toFQDNs", 0, "matchName", value="api.github.com."),
         crd=True, ours=False, why=HOST + "one spelling, without the root dot"),
    Case("matchName with '_'", put(*NAME, "toFQDNs", 0, "matchName", value="_dmarc.github.com"),
         crd=True, ours=False, why=HOST + "host names are letters, digits and hyphens"),
    Case("matchName a label starting with '-'",
         put(*NAME, "toFQDNs", 0, "matchName", value="-api.github.com"), crd=True, ours=False,
         why=HOST + "a label neither starts nor ends with '-'"),
    Case("matchName with two dots", put(*NAME, "toFQDNs", 0, "matchName", value="api..github.com"),
         crd=False, ours=False),
    Case("matchName a single label", put(*NAME, "toFQDNs", 0, "matchName", value="postgres"),
         crd=True, ours=False, why=HOST + "search domains turn it into an in-cluster Service"),
    Case("matchName an IPv4 address", put(*NAME, "toFQDNs", 0, "matchName", value="169.254.169.254"),
         crd=True, ours=False, why=HOST + "an address is not a name (and this one is metadata)"),
    Case("matchName metadata.google.internal",
         put(*NAME, "toFQDNs", 0, "matchName", value="metadata.google.internal"), crd=True, ours=False,
         why=HOST + "it resolves to cloud metadata"),
    Case("matchName under .cluster.local",
         put(*NAME, "toFQDNs", 0, "matchName", value="postgres.mcp.svc.cluster.local"), crd=True,
         ours=False, why=HOST + "toFQDNs does not apply to in-cluster addresses"),
    Case("matchName with a 64-character label",
         put(*NAME, "toFQDNs", 0, "matchName", value="a" * 64 + ".github.com"), crd=True, ours=False,
         why=HOST + "a DNS label has at most 63 characters"),
    Case("matchName of 254 characters",
         put(*NAME, "toFQDNs", 0, "matchName", value=".".join(["a" * 62] * 4) + ".ab"), crd=True,
         ours=False, why=HOST + "a DNS name has at most 253 characters"),
    Case("port 0", put(*NAME_PORT, "port", value="0"), crd=True, ours=False,
         why=PORT + " (Cilium reads 0 as every port)"),
    Case("port 99999", put(*NAME_PORT, "port", value="99999"), crd=True, ours=False, why=PORT),
    Case("port 443 with a suffix", put(*NAME_PORT, "port", value="443x"), crd=True, ours=False, why=PORT),
    Case("a named port", put(*NAME_PORT, "port", value="https"), crd=True, ours=False, why=PORT),
    Case("protocol SCTP", put(*NAME_PORT, "protocol", value="SCTP"), crd=True, ours=False,
         why="stricter: API calls are TCP (or UDP for QUIC)"),
    Case("protocol missing", drop(*NAME_PORT, "protocol"), crd=True, ours=False,
         why="stricter: always stated (Cilium's default is ANY)"),
    Case("endPort", put(*NAME_PORT, "endPort", value=500), crd=True, ours=False, why=NOT_EMITTED),
    Case("toPorts missing on a host rule", drop(*NAME, "toPorts"), crd=True, ours=False,
         why="stricter: without toPorts every port of the host is open"),
    Case("toFQDNs beside toEndpoints in one rule",
         put(*NAME, "toEndpoints", value=[{"matchLabels": {"k8s:app": "x"}}]), crd=True, ours=False,
         why="stricter: Cilium refuses toFQDNs with other To* selectors (CRD description)"),
    Case("toEntities world", put(*NAME, "toEntities", value=["world"]), crd=True, ours=False,
         why=NOT_EMITTED + "; world is the whole internet"),
    Case("toCIDR", put(*NAME, "toCIDR", value=["0.0.0.0/0"]), crd=True, ours=False, why=NOT_EMITTED),
    Case("an empty egress list", put("spec", "egress", value=[]), crd=True, ours=False,
         why="stricter: a policy that allows nothing is not emitted"),
    Case("an empty toFQDNs list", put(*NAME, "toFQDNs", value=[]), crd=True, ours=False,
         why="stricter: a rule without a host is not emitted"),
    Case("an empty endpointSelector", put("spec", "endpointSelector", value={}), crd=True,
         ours=False, why="stricter: an empty selector selects every pod of the namespace"),
    Case("matchExpressions", put("spec", "endpointSelector", "matchExpressions",
                                 value=[{"key": "a", "operator": "Exists"}]),
         crd=True, ours=False, why=NOT_EMITTED),
    Case("nodeSelector instead of endpointSelector",
         lambda doc: doc["spec"].update(nodeSelector=doc["spec"].pop("endpointSelector")),
         crd=True, ours=False, why=NOT_EMITTED + "; it selects nodes, not the server"),
    Case("an ingress rule", put("spec", "ingress", value=[{}]), crd=True, ours=False, why=NOT_EMITTED),
    Case("enableDefaultDeny", put("spec", "enableDefaultDeny", value={"egress": False}), crd=True,
         ours=False, why=NOT_EMITTED + "; it would let other egress through"),
    Case("specs", put("specs", value=[]), crd=True, ours=False, why=NOT_EMITTED),
    Case("a label key with a source other than k8s",
         put(*DNS, "toEndpoints", 0, "matchLabels", "reserved:host", value=""), crd=True, ours=False,
         why="stricter: only Kubernetes pod labels are selected"),
    Case("DNS rule without the namespace label",
         drop(*DNS, "toEndpoints", 0, "matchLabels", "k8s:io.kubernetes.pod.namespace"), crd=True,
         ours=False, why="stricter: without it Cilium looks for DNS pods in the server's namespace"),
    Case("DNS rule on port 5353", put(*DNS, "toPorts", 0, "ports", 0, "port", value="5353"),
         crd=True, ours=False, why="stricter: DNS is port 53"),
    Case("DNS rule without rules", drop(*DNS, "toPorts", 0, "rules"), crd=True, ours=False,
         why="stricter: without rules.dns the DNS proxy learns no address and toFQDNs allows nothing"),
    Case("DNS rule with a narrower pattern",
         put(*DNS, "toPorts", 0, "rules", "dns", 0, "matchPattern", value="api.github.com"),
         crd=True, ours=False,
         why="stricter: '*' is emitted (see cilium_network_policy: narrower closes nothing)"),
]


@pytest.mark.parametrize("case", CILIUM_CASES, ids=[c.name for c in CILIUM_CASES])
def test_ours_is_stricter_only_where_a_case_says_why(case: Case) -> None:
    assert case.crd or not case.ours, "ours would accept what the CRD refuses"
    assert bool(case.why) == (case.crd != case.ours)


@pytest.mark.parametrize("case", CILIUM_CASES, ids=[c.name for c in CILIUM_CASES])
def test_cilium_verdicts_match_the_crd(case: Case) -> None:
    doc = cilium()
    case.mutate(doc)
    assert crd_accepts(doc) is case.crd
    failures = cilium_failures(doc)
    assert (not failures) is case.ours, failures


def test_refusals_name_the_field_and_what_is_allowed() -> None:
    doc = cilium()
    doc["spec"]["egress"][2]["toFQDNs"][0]["matchPattern"] = "*"
    doc["spec"]["egress"][1]["toPorts"][0]["ports"][0]["port"] = "99999"
    validator = our_validator(fqdnpolicy.CILIUM_KIND, fqdnpolicy.CILIUM_API_VERSION)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    assert [(list(e.absolute_path), e.schema.get("x-allowed")) for e in errors] == [
        (["spec", "egress", 1, "toPorts", 0, "ports", 0, "port"],
         'a port number 1-65535 written as a string, such as "443"'),
        (["spec", "egress", 2, "toFQDNs", 0, "matchPattern"],
         "a wildcard '*.' over two or more labels, such as *.example.com (one label deep)")]
    doc = gke()
    doc["spec"]["egress"][0]["matches"][0]["name"] = "metadata.google.internal"
    errors = list(our_validator(fqdnpolicy.GKE_KIND, fqdnpolicy.GKE_API_VERSION).iter_errors(doc))
    assert [(list(e.absolute_path), e.validator) for e in errors] == [
        (["spec", "egress", 0, "matches", 0, "name"], "not")]
    assert "169.254.169.254" in (check_host(errors[0].instance) or "")


def test_the_crd_reading_is_not_vacuous() -> None:
    # The conversion keeps what decides verdicts: patterns, enums, oneOf, required fields.
    schema = crd_validator().schema
    assert isinstance(schema, dict)
    egress = schema["properties"]["spec"]["properties"]["egress"]["items"]
    fqdn = egress["properties"]["toFQDNs"]["items"]
    assert fqdn["properties"]["matchName"]["pattern"].endswith(r"\Z")
    assert fqdn["additionalProperties"] is False and len(fqdn["oneOf"]) == 2
    assert schema["required"] == ["metadata"]


def test_the_openapi_reading_follows_the_api_server() -> None:
    schema = jsonschema.Draft202012Validator(openapi({
        "type": "object", "properties": {
            "n": {"x-kubernetes-int-or-string": True, "pattern": "^[0-9]+$"},
            "s": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
            "o": {"type": "string", "nullable": True, "description": "documentation"},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                     "properties": {"a": {"type": "string"}}}}}))
    assert schema.is_valid({"n": 1}) and schema.is_valid({"n": "12"}) and schema.is_valid({"o": None})
    assert schema.is_valid({"free": {"a": "x", "b": 1}})
    assert not schema.is_valid({"n": "12\n"})  # Go's `$` is the end of the text
    assert not schema.is_valid({"n": 1.5}) and not schema.is_valid({"s": ["a", "a"]})
    assert not schema.is_valid({"o": 1}) and not schema.is_valid({"bogus": 1})


@pytest.mark.parametrize("build", [cilium, gke])
def test_the_schemas_plug_into_verify_as_the_secretproviderclass_schema_does(
        build: Callable[..., Doc]) -> None:
    # verify._validator inlines definitions and resolves ObjectMeta through its registry; the
    # integrator adds fqdnpolicy.SCHEMAS to its lookup by (kind, apiVersion).
    defs, registry = verify._definitions(VERSION)
    doc = build()
    schema = verify._inline(fqdnpolicy.SCHEMAS[(doc["kind"], doc["apiVersion"])](),
                            defs.get("$defs", {}), {}, ())
    assert "$ref" not in schema["properties"]["metadata"]  # ObjectMeta was inlined
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    assert not list(validator.iter_errors(doc))
    doc["metadata"]["labels"] = {"tier": 1}
    assert [list(e.absolute_path) for e in validator.iter_errors(doc)] == [
        ["metadata", "labels", "tier"]]


# --- GKE -------------------------------------------------------------------------------------

# shared/reference/gke-fqdnnetworkpolicy.md, "Example shape".
GKE_DOC_EXAMPLE: Doc = {
    "apiVersion": "networking.gke.io/v1alpha1", "kind": "FQDNNetworkPolicy",
    "metadata": {"name": "example-egress", "namespace": "example"},
    "spec": {"podSelector": {"matchLabels": {"app": "example"}},
             "egress": [{"matches": [{"name": "api.github.com"}, {"pattern": "*.googleapis.com"}],
                         "ports": [{"protocol": "TCP", "port": 443}]}]}}

GKE_RULE = ("spec", "egress", 0)
# (name, mutation of the built object, accepted, the fact of the summary doc it checks)
GKE_CASES: list[tuple[str, Mutation, bool, str]] = [
    ("as built", lambda doc: None, True, "egress[].matches[] name|pattern, ports {protocol, port}"),
    ("the doc's example shape", replace(GKE_DOC_EXAMPLE),
     True, "the example of the summary"),
    ("UDP", put(*GKE_RULE, "ports", 0, "protocol", value="UDP"), True, "NetworkPolicy-style ports"),
    ("the archived controller's to[].fqdns[] shape",
     put(*GKE_RULE, value={"to": [{"fqdns": ["api.github.com"]}],
                           "ports": [{"protocol": "TCP", "port": 443}]}),
     False, "'Do not confuse with': GKE reads matches[], not to[].fqdns[]"),
    ("apiVersion v1alpha3", put("apiVersion", value="networking.gke.io/v1alpha3"), False,
     "the built-in feature is served as v1alpha1"),
    ("an ingress rule", put("spec", "ingress", value=[]), False, "only egress is described"),
    ("name and pattern in one match", put(*GKE_RULE, "matches", 0, "pattern", value="*.github.com"),
     False, "each entry carries one of name or pattern"),
    ("a wildcard as name", put(*GKE_RULE, "matches", 0, value={"name": "*.github.com"}), False,
     "name is one exact FQDN"),
    ("pattern '*.com'", put("spec", "egress", 1, "matches", 0, value={"pattern": "*.com"}), False,
     "check_host: a whole top-level domain"),
    ("pattern '*'", put("spec", "egress", 1, "matches", 0, value={"pattern": "*"}), False,
     "check_host: every host"),
    ("name metadata.google.internal",
     put(*GKE_RULE, "matches", 0, value={"name": "metadata.google.internal"}),
     False, "check_host: cloud metadata"),
    ("port a string", put(*GKE_RULE, "ports", 0, "port", value="443"), False,
     "we emit port numbers (NetworkPolicy would also take a named port)"),
    ("port 0", put(*GKE_RULE, "ports", 0, "port", value=0), False, "ports are 1-65535"),
    ("ports missing", drop(*GKE_RULE, "ports"), False,
     "omitted ports presumably mean every port (summary): always emitted"),
    ("podSelector empty", put("spec", "podSelector", value={}), False, "selects every pod"),
    ("unknown field in spec", put("spec", "policyTypes", value=["Egress"]), False, "no such field"),
    ("unknown field in a match", put(*GKE_RULE, "matches", 0, "fqdn", value="a.b"), False, "strict"),
    ("metadata missing", drop("metadata"), False, "every object has metadata"),
]


@pytest.mark.parametrize(("name", "mutate", "accepted", "fact"), GKE_CASES,
                         ids=[c[0] for c in GKE_CASES])
def test_gke_schema_follows_the_documented_fields(name: str, mutate: Mutation, accepted: bool,
                                                  fact: str) -> None:
    doc = gke()
    mutate(doc)
    failures = gke_failures(doc)
    assert (not failures) is accepted, (fact, failures)


# --- builders --------------------------------------------------------------------------------


def test_cilium_policy_as_built() -> None:
    doc = cilium([("api.github.com", [443, 443]), ("*.atlassian.net", [8443, 443])])
    assert doc == {
        "apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "github-mcp-fqdn", "namespace": "mcp-prod",
                     "labels": {"app.kubernetes.io/managed-by": "mcp-scaffold",
                                "app.kubernetes.io/name": "github-mcp"}},
        "spec": {
            "endpointSelector": {"matchLabels": {"app.kubernetes.io/instance": "github-mcp"}},
            "egress": [
                {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system",
                                                  "k8s:k8s-app": "kube-dns"}}],
                 "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"},
                                        {"port": "53", "protocol": "TCP"}],
                              "rules": {"dns": [{"matchPattern": "*"}]}}]},
                {"toFQDNs": [{"matchName": "api.github.com"}],
                 "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]},
                {"toFQDNs": [{"matchPattern": "*.atlassian.net"}],
                 "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"},
                                        {"port": "8443", "protocol": "TCP"}]}]}],
            "egressDeny": [{"toCIDR": [
                "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "168.63.129.16/32",
                "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7",
                "fe80::/10"]}]}}


def test_gke_policy_as_built() -> None:
    doc = gke([("api.github.com", [443]), ("*.atlassian.net", [443])])
    assert doc["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/instance": "github-mcp"}},
        "egress": [{"matches": [{"name": "api.github.com"}], "ports": [{"protocol": "TCP", "port": 443}]},
                   {"matches": [{"pattern": "*.atlassian.net"}],
                    "ports": [{"protocol": "TCP", "port": 443}]}]}
    assert doc["metadata"]["name"] == "github-mcp-fqdn"


def test_the_output_does_not_depend_on_mapping_order() -> None:
    forward = fqdnpolicy.cilium_network_policy(
        "s", "ns", {"a": "1", "b": "2"}, HOSTS, [("kube-system", {"x": "1", "k8s-app": "kube-dns"})],
        {"m": "1", "l": "2"})
    backward = fqdnpolicy.cilium_network_policy(
        "s", "ns", {"b": "2", "a": "1"}, HOSTS, [("kube-system", {"k8s-app": "kube-dns", "x": "1"})],
        {"l": "2", "m": "1"})
    assert yamlio.dump(forward) == yamlio.dump(backward)
    assert list(forward["spec"]["endpointSelector"]["matchLabels"]) == ["a", "b"]


def test_a_second_dns_server_gets_its_own_selector() -> None:
    doc = fqdnpolicy.cilium_network_policy("s", "ns", SELECTOR, HOSTS, [KUBE_DNS, LOCAL_DNS])
    assert doc["spec"]["egress"][0]["toEndpoints"] == [
        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}},
        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system",
                         "k8s:k8s-app": "node-local-dns"}}]
    assert "labels" not in doc["metadata"]
    assert not cilium_failures(doc) and crd_accepts(doc)


@pytest.mark.parametrize("build", [cilium, gke])
def test_builders_refuse_bad_hosts_and_ports_naming_the_key(build: Callable[..., Doc]) -> None:
    with pytest.raises(InputError) as err:
        build([("api.github.com", [443]), ("*", [443]), ("api.example.com", [0, 443]),
               ("api.example.org", []), ("a.example.net", ["443", 443]),
               ("b.example.net", list(range(1, 42))), (None, [443])])
    allowed = "must be a non-empty list of at most 40 port numbers 1-65535"
    assert err.value.lines() == [
        'externalEgress[1].host: "*" is every host on the internet: list the hosts the server calls',
        f"externalEgress[2].ports: {allowed}", f"externalEgress[3].ports: {allowed}",
        f"externalEgress[4].ports: {allowed}", f"externalEgress[5].ports: {allowed}",
        "externalEgress[6].host: must be a host name (a string)"]


def test_cilium_policy_needs_a_dns_server() -> None:
    with pytest.raises(InputError) as err:
        fqdnpolicy.cilium_network_policy("s", "ns", SELECTOR, HOSTS, [])
    assert [p.key for p in err.value.problems] == ["dns"]


def test_kubectl_kustomize_builds_the_emitted_objects(tmp_path: Path) -> None:
    objects = [cilium(), gke()]
    (tmp_path / "cilium.yaml").write_text(yamlio.dump(objects[0]), encoding="utf-8")
    (tmp_path / "gke.yaml").write_text(yamlio.dump(objects[1]), encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - cilium.yaml\n  - gke.yaml\n", encoding="utf-8")
    result = run_tool(tool("kubectl"), "kustomize", str(tmp_path))
    assert result.returncode == 0, result.stderr
    built = list(yaml.safe_load_all(result.stdout))
    assert sorted(built, key=lambda d: d["kind"]) == objects  # CiliumNetworkPolicy < FQDNNetworkPolicy


# --- host names ------------------------------------------------------------------------------

VALID = ["api.github.com", "*.atlassian.net", "api.notion.com", "xn--bcher-kva.de", "a.b.co",
         "1password.com", "x--y.example", "*.s3.example.com", "a" * 63 + ".com",
         ".".join(["a" * 63] * 3) + "." + "b" * 61]  # 253 characters
INVALID = ["", "*", "*.", "**", "*.com", ".com", "com", "localhost", "api.github.com.",
           "API.github.com", "api.github.com\n", "\napi.github.com", "api.github.com\r",
           "api.\tgithub.com", "api github.com", "api.github.com\x00", "api.gith\u200bub.com",
           "\u0430pi.github.com",  # a Cyrillic a
           "bücher.de", "1.2.3.4", "::1", "[::1]", "2001:db8::1", "10.0.0.1.", "a.123",
           "api.github.com:443", "https://api.github.com", "api.github.com/", "a..b.com",
           "-a.example.com", "a-.example.com", "a_b.example.com", "api-*.github.com",
           "*.*.github.com", "**.github.com", "*github.com", "a.*.github.com",
           "metadata.google.internal", "kubernetes.default.svc.cluster.local", "x.localhost",
           "1.0.0.127.in-addr.arpa", "a" * 64 + ".com", ".".join(["a" * 63] * 3) + "." + "b" * 62]


@pytest.mark.parametrize("text", VALID)
def test_check_host_accepts(text: str) -> None:
    assert check_host(text) is None


@pytest.mark.parametrize("text", INVALID, ids=[repr(t)[:40] for t in INVALID])
def test_check_host_refuses(text: str) -> None:
    message = check_host(text)
    assert message, text
    assert "\n" not in message and "\x00" not in message and message.isprintable()


def test_check_host_says_what_to_write() -> None:
    assert check_host("API.GitHub.com") == (
        '"API.GitHub.com": write host names in lower case: "api.github.com"')
    assert check_host("api.github.com.") == (
        '"api.github.com.": drop the trailing dot: "api.github.com"')
    assert check_host("1.2.3.4") == (
        '"1.2.3.4" is an IP address, not a host name: use a cidr rule (address/32)')
    assert check_host("api.github.com\n") == (
        '"api.github.com\\n" contains a space, control or non-ASCII character: write'
        " internationalised names in their xn-- (punycode) form")
    message = check_host("metadata.google.internal")
    assert message and "169.254.169.254" in message


@settings(max_examples=200, deadline=None)
@given(host=hosts())
def test_valid_names_pass_everywhere(host: str) -> None:
    assert check_host(host) is None
    doc = cilium([(host, [443])])
    assert not cilium_failures(doc)
    assert crd_accepts(doc)
    assert not gke_failures(gke([(host, [443])]))


@settings(max_examples=300, deadline=None)
@given(host=hosts(), bad=HOSTILE, where=st.integers(min_value=0))
def test_a_hostile_character_anywhere_is_refused(host: str, bad: str, where: int) -> None:
    i = where % (len(host) + 1)
    text = host[:i] + bad + host[i:]
    message = check_host(text)
    assert message, repr(text)
    doc = cilium()
    doc["spec"]["egress"][1]["toFQDNs"][0]["matchName"] = text
    doc["spec"]["egress"][2]["toFQDNs"][0]["matchPattern"] = text
    assert cilium_failures(doc)
    with pytest.raises(InputError):
        gke([(text, [443])])


@settings(max_examples=100, deadline=None)
@given(host=hosts(), size=st.integers(64, 200))
def test_a_label_longer_than_63_is_refused(host: str, size: int) -> None:
    text = host.replace("*.", "*." + "a" * size + ".", 1) if host.startswith("*.") \
        else "a" * size + "." + host
    assert check_host(text)


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(LDH + ".-*_A\n é:"), max_size=40) | st.text(max_size=40))
def test_any_text_check_host_accepts_is_a_plain_public_name(text: str) -> None:
    if check_host(text) is not None:
        with pytest.raises(InputError):
            cilium([(text, [443])])
        return
    name = text.removeprefix("*.")
    labels = name.split(".")
    assert set(name) <= set(LDH + ".-"), text
    assert len(text) <= 253 and len(labels) >= 2
    assert all(1 <= len(label) <= 63 and not label.startswith("-") and not label.endswith("-")
               for label in labels)
    assert not labels[-1].isdigit() and labels[-1] not in fqdnpolicy.SPECIAL_TLDS
    with pytest.raises(ValueError):
        ipaddress.ip_address(name)
    assert not cilium_failures(cilium([(text, [443])]))


@settings(max_examples=100, deadline=None)
@given(entries=st.lists(st.tuples(hosts(), st.lists(st.integers(1, 65535), min_size=1, max_size=5)),
                        min_size=1, max_size=5))
def test_builder_outputs_validate(entries: list[tuple[str, list[int]]]) -> None:
    doc = cilium(entries)
    assert not cilium_failures(doc) and crd_accepts(doc)
    rules = doc["spec"]["egress"][1:]
    assert [r["toPorts"][0]["ports"] for r in rules] == [
        [{"port": str(p), "protocol": "TCP"} for p in sorted(set(ports))] for _, ports in entries]
    assert not gke_failures(gke(entries))
