"""check reads CiliumNetworkPolicy and GKE FQDNNetworkPolicy for the network rules: which pods
a Cilium policy isolates for egress (MCP-NET-002), and what a host-name policy opens."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scaffold.policy import evaluate

import corpus

Doc = dict[str, Any]


def _bundle() -> tuple[list[Doc], Doc]:
    """The hardened bundle with a clean Cilium host-name policy (as `new` emits one)."""
    docs = corpus.hardened("mcp-cni")
    corpus._host_policy("CiliumNetworkPolicy", {
        "toFQDNs": [{"matchName": "api.github.com"}, {"matchPattern": "*.githubusercontent.com"}],
        "toPorts": corpus._HTTPS})(docs)
    return docs, docs[-1]


def _without_egress_policy(docs: list[Doc]) -> None:
    """Drop Egress from every NetworkPolicy: only a Cilium policy may isolate the pod now."""
    for doc in docs:
        if doc["kind"] == "NetworkPolicy":
            doc["spec"]["policyTypes"] = ["Ingress"]
            doc["spec"].pop("egress", None)


def _rules(docs: list[Doc]) -> set[str]:
    return {f.rule for f in evaluate(docs)}


def test_clean_cilium_policy_adds_no_finding() -> None:
    docs, _ = _bundle()
    assert evaluate(docs) == []


def test_cilium_egress_policy_isolates_the_pod() -> None:
    docs, _ = _bundle()
    _without_egress_policy(docs)
    assert "MCP-NET-002" not in _rules(docs)


@pytest.mark.parametrize("selector", [
    {"matchLabels": {"k8s:app.kubernetes.io/name": "mcp-cni",
                     "k8s:io.kubernetes.pod.namespace": "mcp-cni"}},
    {"matchLabels": {"app.kubernetes.io/name": "mcp-cni"}},
    {"matchExpressions": [{"key": "k8s:app.kubernetes.io/name", "operator": "In",
                           "values": ["mcp-cni"]}]},
    {},
])
def test_endpoint_selector_forms_select_the_pod(selector: Doc) -> None:
    docs, cnp = _bundle()
    _without_egress_policy(docs)
    cnp["spec"]["endpointSelector"] = selector
    assert "MCP-NET-002" not in _rules(docs)


@pytest.mark.parametrize("change", ["other-namespace", "other-label", "namespace-label",
                                    "ingress-only", "default-deny-off", "gke"])
def test_policies_that_do_not_isolate_the_pod(change: str) -> None:
    docs, cnp = _bundle()
    _without_egress_policy(docs)
    spec = cnp["spec"]
    if change == "other-namespace":
        cnp["metadata"]["namespace"] = "elsewhere"
    elif change == "other-label":
        spec["endpointSelector"] = {"matchLabels": {"k8s:app.kubernetes.io/name": "other"}}
    elif change == "namespace-label":
        spec["endpointSelector"] = {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "x"}}
    elif change == "ingress-only":
        spec["ingress"] = spec.pop("egress")
    elif change == "default-deny-off":
        spec["enableDefaultDeny"] = {"egress": False}
    else:  # GKE does not document that an FQDNNetworkPolicy alone isolates a pod
        docs[-1] = {"apiVersion": "networking.gke.io/v1alpha1", "kind": "FQDNNetworkPolicy",
                    "metadata": cnp["metadata"],
                    "spec": {"podSelector": {}, "egress": [
                        {"matches": [{"name": "api.github.com"}],
                         "ports": [{"protocol": "TCP", "port": 443}]}]}}
    assert "MCP-NET-002" in _rules(docs)


def test_clusterwide_policy_selects_by_namespace_label() -> None:
    docs, cnp = _bundle()
    _without_egress_policy(docs)
    cnp["kind"] = "CiliumClusterwideNetworkPolicy"
    del cnp["metadata"]["namespace"]
    cnp["spec"]["endpointSelector"] = {"matchLabels": {
        "k8s:io.kubernetes.pod.namespace": "mcp-cni"}}
    assert "MCP-NET-002" not in _rules(docs)


@pytest.mark.parametrize(("rule", "expected"), [
    ({"toFQDNs": [{"matchPattern": "*.*"}]}, {"MCP-NET-004", "MCP-NET-005"}),
    ({"toEntities": ["all"]}, {"MCP-NET-004", "MCP-NET-005"}),
    ({"toEntities": ["cluster"]}, {"MCP-NET-004"}),
    ({"toEntities": ["remote-node"]}, {"MCP-NET-005"}),
    ({"toCIDRSet": [{"cidr": "0.0.0.0/1"}, {"cidr": "128.0.0.0/1"}]},
     {"MCP-NET-004", "MCP-NET-005"}),
    ({"toCIDR": ["10.0.0.0/9", "10.128.0.0/9"]}, {"MCP-NET-004"}),
    ({"toCIDR": ["10.0.0.1"]}, set()),
    ({"toCIDRSet": [{"cidr": "0.0.0.0/0", "except": [
        "169.254.0.0/16", "168.63.129.16/32", "10.0.0.0/8", "172.16.0.0/12",
        "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8"]}]}, set()),
    ({"toFQDNs": [{"matchPattern": "*.internal"}]}, {"MCP-NET-005"}),
    ({"toEntities": ["kube-apiserver"]}, set()),
    ({"toEndpoints": [{"matchExpressions": [{"key": "k8s:io.kubernetes.pod.namespace",
                                             "operator": "Exists"}]}]}, {"MCP-NET-004"}),
    ({"toEndpoints": [{"matchExpressions": [{"key": "io.kubernetes.pod.namespace",
                                             "operator": "NotIn", "values": ["a"]}],
                       "matchLabels": {"app": "db"}}]}, {"MCP-NET-004"}),
    ({"toEndpoints": [{}]}, set()),
    ({"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "db",
                                       "k8s:app": "db"}}]}, set()),
])
def test_open_forms(rule: Doc, expected: set[str]) -> None:
    docs, cnp = _bundle()
    cnp["spec"]["egress"][1] = {**copy.deepcopy(rule), "toPorts": corpus._HTTPS}
    assert _rules(docs) == expected


def test_dns_proxy_rule_is_not_internet_egress() -> None:
    # The DNS rule `new` emits (toEndpoints kube-dns, rules.dns matchPattern "*") alone.
    docs, cnp = _bundle()
    del cnp["spec"]["egress"][1]
    assert evaluate(docs) == []


def test_clusterwide_endpoints_without_namespace_reach_every_namespace() -> None:
    docs, cnp = _bundle()
    cnp["kind"] = "CiliumClusterwideNetworkPolicy"
    del cnp["metadata"]["namespace"]
    cnp["spec"]["egress"][1] = {"toEndpoints": [{"matchLabels": {"app": "db"}}],
                                "toPorts": corpus._HTTPS}
    assert _rules(docs) == {"MCP-NET-004"}


@pytest.mark.parametrize("spec", [
    "text", {"endpointSelector": "x", "egress": "y"},
    {"endpointSelector": {"matchLabels": [1], "matchExpressions": [None, {"key": [1]}]},
     "egress": [None, 3, {"toEntities": [[1], {"a": 1}, None], "toCIDR": [None, 7, "x/y"],
                          "toCIDRSet": ["x", {"cidr": "10.0.0.0/8", "except": "z"}],
                          "toFQDNs": ["a", {"matchPattern": None}, {"matchName": 5}],
                          "toEndpoints": ["x", None], "toPorts": "p"}]},
])
@pytest.mark.parametrize("kind", ["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy",
                                  "FQDNNetworkPolicy"])
def test_malformed_policies_are_read_without_error(spec: Any, kind: str) -> None:
    docs, cnp = _bundle()
    cnp["kind"] = kind
    cnp["spec"] = spec
    cnp["specs"] = [spec, None]
    assert {f.pattern for f in evaluate(docs)} <= {"network"}
