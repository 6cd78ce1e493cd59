"""The network model (issue 18): kinds are (group, kind), a later object replaces an earlier
one as kubectl apply does, and a policy kind the model does not read is a finding."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest

from scaffold.check import run
from scaffold.policy import evaluate
from scaffold.policy.model import Context, identity, is_kind, last_applied
from scaffold.yamlio import dump

import corpus

Doc = dict[str, Any]


def _rules(docs: list[Doc]) -> set[str]:
    return {f.rule for f in evaluate(docs) if f.suppressed is None}


def _network_policies(docs: list[Doc]) -> list[Doc]:
    return [d for d in docs if d.get("kind") == "NetworkPolicy"]


@pytest.mark.parametrize("api_version", ["projectcalico.org/v3", "crd.projectcalico.org/v1",
                                         "crd.antrea.io/v1beta1", "extensions/v1beta1"])
def test_a_networkpolicy_of_another_group_isolates_nothing(api_version: str) -> None:
    # The issue's worst case: the pod's only policies are a CNI's NetworkPolicy spelled like
    # the Kubernetes default-deny; it was read as one, and the pod passed as isolated.
    docs = corpus.build(corpus.HARDENED)
    for doc in _network_policies(docs):
        doc["apiVersion"] = api_version
    assert _rules(docs) == {"MCP-NET-001", "MCP-NET-002", "MCP-NET-009"}


def test_of_kind_keeps_meaning_the_kind_of_its_own_group() -> None:
    docs = corpus.build(corpus.HARDENED)
    calico = copy.deepcopy(_network_policies(docs)[0])
    calico["apiVersion"] = "projectcalico.org/v3"
    calico["metadata"]["name"] = "calico"
    ctx = Context([*docs, calico], (1, 33))
    assert calico not in list(ctx.of_kind("NetworkPolicy"))
    assert len(list(ctx.of_kind("NetworkPolicy"))) == 2
    assert is_kind({"kind": "NetworkPolicy"}, "NetworkPolicy")  # no apiVersion: by kind
    assert not is_kind({"apiVersion": "example.com/v1", "kind": "Deployment"}, "Deployment")


def test_a_custom_deployment_kind_is_not_read_by_the_apps_path() -> None:
    docs = corpus.build(corpus.HARDENED)
    deployment = next(d for d in docs if d.get("kind") == "Deployment")
    ctx = Context(docs, (1, 33))
    assert [w.kind for w in ctx.workloads] == ["Deployment"]
    deployment["apiVersion"] = "example.com/v1"
    # Found by shape instead (its pod spec is still judged), not by the built-in path.
    assert len(Context(docs, (1, 33)).workloads) == 1


def test_last_applied_keeps_the_last_of_each_identity_in_place() -> None:
    a = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "n"}}
    b = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y", "namespace": "n"}}
    a2 = copy.deepcopy(a)
    other_ns = {**copy.deepcopy(a), "metadata": {"name": "x", "namespace": "m"}}
    other_group = {**copy.deepcopy(a), "apiVersion": "example.com/v1"}
    kept, replaced = last_applied([a, b, a2, other_ns, other_group])
    assert [id(d) for d in kept] == [id(b), id(a2), id(other_ns), id(other_group)]
    assert [(id(x), id(y)) for x, y in replaced] == [(id(a), id(a2))]
    assert identity(a) == ("", "ConfigMap", "n", "x")
    assert identity({"kind": "ConfigMap", "metadata": {"name": "x"}}) is None


def test_a_reapplied_policy_replaces_the_first_and_check_notes_it() -> None:
    docs = corpus.build("net-002-reapplied")
    assert _rules(docs) == {"MCP-NET-002"}
    stream = "---\n".join(dump(d) for d in docs)
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run(["-"], "json", stdout=stdout, stderr=stderr, stdin=io.StringIO(stream)) == 1
    notes = [line for line in stderr.getvalue().splitlines() if "is replaced by" in line]
    assert len(notes) == 2, stderr.getvalue()
    assert notes[0].startswith("note: -:") and "networking.k8s.io/v1 NetworkPolicy" in notes[0]
    assert "kubectl apply keeps the last" in notes[0]


def test_the_same_policy_twice_unchanged_changes_nothing() -> None:
    docs = corpus.build(corpus.HARDENED)
    docs += [copy.deepcopy(d) for d in _network_policies(docs)]
    assert _rules(docs) == set()


@pytest.mark.parametrize("api_version, kind, namespaced", [
    ("projectcalico.org/v3", "NetworkPolicy", True),
    ("projectcalico.org/v3", "GlobalNetworkPolicy", False),
    ("crd.projectcalico.org/v1", "GlobalNetworkPolicy", False),
    ("crd.antrea.io/v1beta1", "NetworkPolicy", True),
    ("crd.antrea.io/v1beta1", "ClusterNetworkPolicy", False),
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy", False),
    ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy", False),
    ("example.com/v1", "FancyNetworkPolicy", True),
])
def test_unread_policy_kinds_fail_closed(api_version: str, kind: str, namespaced: bool) -> None:
    docs = corpus.build(corpus.HARDENED)
    ns = next(d for d in docs if d.get("kind") == "Deployment")["metadata"]["namespace"]
    meta: Doc = {"name": "p", **({"namespace": ns} if namespaced else {})}
    docs.append({"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": {}})
    findings = [f for f in evaluate(docs) if f.rule == "MCP-NET-009"]
    assert len(findings) == 1 and findings[0].kind == kind
    assert kind in findings[0].message and "cannot judge" in findings[0].message
    assert _rules(docs) == {"MCP-NET-009"}


def test_an_unread_policy_in_a_namespace_without_workloads_is_not_reported() -> None:
    docs = corpus.build(corpus.HARDENED)
    docs.append({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
                 "metadata": {"name": "p", "namespace": "elsewhere"}, "spec": {}})
    assert _rules(docs) == set()


def test_an_unread_policy_can_be_skipped_with_a_reason() -> None:
    docs = corpus.build("net-009-calico")
    calico = docs[-1]
    calico["metadata"]["annotations"] = {
        "mcp-scaffold.io/skip": "MCP-NET-009=reviewed: selects no pod of the server"}
    assert _rules(docs) == set()


# ---- metadata: the single credential hosts, and GKE Cloud DNS's resolver -----------------

def _egress_rule(docs: list[Doc], rule: Doc) -> None:
    allow = next(d for d in _network_policies(docs) if d["spec"].get("egress"))
    allow["spec"]["egress"].append(rule)


_DNS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


@pytest.mark.parametrize("cidr, ports", [
    ("169.254.169.252/32", [{"protocol": "TCP", "port": 988}]),  # GKE metadata server
    ("100.100.100.200/32", [{"protocol": "TCP", "port": 80}]),   # Alibaba Cloud
    ("169.254.0.23/32", [{"protocol": "TCP", "port": 80}]),      # Tencent Cloud
    ("169.254.169.254/32", [{"protocol": "TCP", "port": 80}]),   # IMDS over HTTP
    ("169.254.169.254/32", [*_DNS, {"protocol": "TCP", "port": 80}]),
    ("100.100.100.0/24", [{"protocol": "TCP", "port": 443}]),    # a block around Alibaba's
])
def test_single_credential_hosts_are_metadata(cidr: str, ports: list[Doc]) -> None:
    docs = corpus.build(corpus.HARDENED)
    _egress_rule(docs, {"to": [{"ipBlock": {"cidr": cidr}}], "ports": ports})
    assert _rules(docs) == {"MCP-NET-005"}


def test_dns_only_to_the_gke_cloud_dns_resolver_is_not_metadata() -> None:
    docs = corpus.build(corpus.HARDENED)
    _egress_rule(docs, {"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}],
                         "ports": _DNS})
    assert _rules(docs) == set()


def test_dns_only_to_the_resolver_in_a_cilium_policy_is_not_metadata() -> None:
    docs = corpus.build(corpus.HARDENED)
    corpus._host_policy("CiliumNetworkPolicy", {
        "toCIDR": ["169.254.169.254/32"],
        "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"},
                               {"port": "53", "protocol": "TCP"}]}]})(docs)
    assert _rules(docs) == set()
    docs = corpus.build(corpus.HARDENED)
    corpus._host_policy("CiliumNetworkPolicy", {
        "toCIDR": ["169.254.169.254/32"],
        "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]})(docs)
    assert _rules(docs) == {"MCP-NET-005"}


# ---- "the internet" less addresses that are no one's is still the internet ----------------

_PRIVATE_AND_METADATA = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                         "127.0.0.0/8", "169.254.0.0/16", "168.63.129.16/32"]


@pytest.mark.parametrize("cidr, excepts", [
    ("0.0.0.0/0", [*_PRIVATE_AND_METADATA, "240.0.0.0/4"]),
    ("0.0.0.0/0", [*_PRIVATE_AND_METADATA, "224.0.0.0/4", "240.0.0.0/4", "0.0.0.0/8",
                   "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"]),
    ("::/0", ["fc00::/7", "fe80::/10", "::1/128", "ff00::/8"]),
    ("::/0", ["fc00::/7", "fe80::/10", "::1/128", "ff00::/8", "2001:db8::/32"]),
])
def test_ingress_from_the_internet_less_bogons_is_from_everyone(
        cidr: str, excepts: list[str]) -> None:
    docs = corpus.build(corpus.HARDENED)
    allow = next(d for d in _network_policies(docs) if d["spec"].get("ingress"))
    allow["spec"]["ingress"][0]["from"] = [{"ipBlock": {"cidr": cidr, "except": excepts}}]
    assert _rules(docs) == {"MCP-NET-003"}


def test_ingress_from_a_public_range_less_bogons_is_not_everyone() -> None:
    docs = corpus.build(corpus.HARDENED)
    allow = next(d for d in _network_policies(docs) if d["spec"].get("ingress"))
    allow["spec"]["ingress"][0]["from"] = [
        {"ipBlock": {"cidr": "0.0.0.0/1", "except": ["0.0.0.0/8", "10.0.0.0/8",
                                                     "100.64.0.0/10", "127.0.0.0/8"]}}]
    assert _rules(docs) == set()


# ---- ports add up over the rules and policies that select a pod --------------------------

def _server_policy(docs: list[Doc]) -> Doc:
    return next(d for d in _network_policies(docs) if d["spec"].get("ingress"))


def test_ingress_ports_of_two_rules_add_up_to_every_port() -> None:
    docs = corpus.build(corpus.HARDENED)
    ingress = _server_policy(docs)["spec"]["ingress"]
    ingress[0]["ports"] = [{"protocol": "TCP", "port": 1, "endPort": 40000}]
    ingress.append({**copy.deepcopy(ingress[0]),
                    "ports": [{"protocol": "TCP", "port": 40001, "endPort": 65535}]})
    assert _rules(docs) == {"MCP-NET-006"}
    finding = next(f for f in evaluate(docs) if f.rule == "MCP-NET-006")
    assert finding.kind == "Deployment" and "every TCP port" in finding.message


def test_egress_ports_of_two_policies_add_up_to_every_port() -> None:
    docs = corpus.build(corpus.HARDENED)
    allow = _server_policy(docs)
    allow["spec"]["egress"][2]["ports"] = [{"protocol": "TCP", "port": 1, "endPort": 32767}]
    second = copy.deepcopy(allow)
    second["metadata"]["name"] += "-more"
    second["spec"]["ingress"] = []
    second["spec"]["egress"] = [{**allow["spec"]["egress"][2],
                                 "ports": [{"protocol": "TCP", "port": 32768,
                                            "endPort": 65535}]}]
    docs.append(second)
    assert _rules(docs) == {"MCP-NET-008"}


def test_ports_that_leave_one_port_out_do_not_add_up() -> None:
    docs = corpus.build(corpus.HARDENED)
    ingress = _server_policy(docs)["spec"]["ingress"]
    ingress[0]["ports"] = [{"protocol": "TCP", "port": 1, "endPort": 40000}]
    ingress.append({**copy.deepcopy(ingress[0]),
                    "ports": [{"protocol": "TCP", "port": 40002, "endPort": 65535},
                              {"protocol": "UDP", "port": 40001}]})
    assert _rules(docs) == set()


def test_ports_of_a_policy_that_does_not_select_the_pod_do_not_count() -> None:
    docs = corpus.build(corpus.HARDENED)
    allow = _server_policy(docs)
    allow["spec"]["ingress"][0]["ports"] = [{"protocol": "TCP", "port": 1, "endPort": 40000}]
    other = copy.deepcopy(allow)
    other["metadata"]["name"] += "-other"
    other["spec"]["podSelector"] = {"matchLabels": {"app": "someone-else"}}
    other["spec"]["ingress"][0]["ports"] = [{"protocol": "TCP", "port": 40001,
                                             "endPort": 65535}]
    docs.append(other)
    assert _rules(docs) == set()


# ---- Cilium read in both directions, with the items the model resolves ------------------

def _cilium_only(docs: list[Doc]) -> tuple[Doc, Doc]:
    """The hardened bundle with its NetworkPolicies replaced by a Cilium-only isolation: a
    clusterwide default-deny and a CNP allowing the ingress controller, DNS and HTTPS."""
    for doc in _network_policies(docs):
        docs.remove(doc)
    md = next(d for d in docs if d.get("kind") == "Deployment")["metadata"]
    deny = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": f"{md['name']}-default-deny"},
            "spec": {"endpointSelector": {}, "ingress": [{}], "egress": [{}]}}
    allow = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
             "metadata": {"name": md["name"], "namespace": md["namespace"]},
             "spec": {
                 "endpointSelector": {"matchLabels": {"k8s:app.kubernetes.io/name": md["name"]}},
                 "ingress": [{"fromEndpoints": [{"matchLabels": {
                     "k8s:io.kubernetes.pod.namespace": "ingress-nginx"}}],
                     "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}]}],
                 "egress": [{"toEndpoints": [{"matchLabels": {
                     "k8s:io.kubernetes.pod.namespace": "kube-system",
                     "k8s:k8s-app": "kube-dns"}}],
                     "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}]}]}]}}
    docs += [deny, allow]
    return deny, allow


def test_a_cilium_only_isolation_is_isolation() -> None:
    docs = corpus.build(corpus.HARDENED)
    _cilium_only(docs)
    assert _rules(docs) == set()


def test_a_cilium_policy_without_ingress_rules_does_not_isolate_for_ingress() -> None:
    docs = corpus.build(corpus.HARDENED)
    deny, allow = _cilium_only(docs)
    del deny["spec"]["ingress"], allow["spec"]["ingress"]
    assert _rules(docs) == {"MCP-NET-001"}
    deny["spec"]["ingress"] = [{}]
    deny["spec"]["enableDefaultDeny"] = {"ingress": False}
    assert _rules(docs) == {"MCP-NET-001"}


@pytest.mark.parametrize("rule", [
    {"fromEntities": ["world"]},
    {"fromEntities": ["all"]},
    {"fromEntities": ["cluster"]},
    {"fromEndpoints": [{"matchLabels": {"reserved:world": ""}}]},
    {"fromCIDR": ["0.0.0.0/0"]},
    {"fromCIDRSet": [{"cidr": "0.0.0.0/1"}, {"cidr": "128.0.0.0/1"}]},
    {"toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}]},
])
def test_cilium_ingress_open_to_all_is_ingress_from_all(rule: Doc) -> None:
    docs = corpus.build(corpus.HARDENED)
    _, allow = _cilium_only(docs)
    allow["spec"]["ingress"].append(
        {"toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}], **rule})
    assert _rules(docs) == {"MCP-NET-003"}


@pytest.mark.parametrize("rule, expected", [
    ({"toEndpoints": [{"matchLabels": {"reserved:world": ""}}]},
     {"MCP-NET-004", "MCP-NET-005"}),
    ({"toEndpoints": [{"matchLabels": {"reserved:host": ""}}]}, {"MCP-NET-005"}),
    ({"toEndpoints": [{"matchLabels": {"reserved:remote-node": ""}}]}, {"MCP-NET-005"}),
    ({"toNodes": [{}]}, {"MCP-NET-005"}),
    ({"toFQDNs": [{"matchPattern": "*.com"}]}, {"MCP-NET-004"}),
    ({"toFQDNs": [{"matchPattern": "**.io"}]}, {"MCP-NET-004"}),
    ({"toFQDNs": [{"matchPattern": "metadata.google.*"}]}, {"MCP-NET-005"}),
    ({"toFQDNs": [{"matchPattern": "*.example.com"}]}, set()),
    ({"toFQDNs": [{"matchName": "api.example.com"}]}, set()),
    ({"toCIDRSet": [{"cidrGroupRef": "absent"}]}, {"MCP-NET-009"}),
    ({"toServices": [{"k8sService": {"serviceName": "absent", "namespace": "x"}}]},
     {"MCP-NET-009"}),
])
def test_cilium_egress_items(rule: Doc, expected: set[str]) -> None:
    docs = corpus.build(corpus.HARDENED)
    corpus._host_policy("CiliumNetworkPolicy", {**rule, "toPorts": corpus._HTTPS})(docs)
    assert _rules(docs) == expected


def test_gke_pattern_under_a_tld_is_every_destination() -> None:
    docs = corpus.build(corpus.HARDENED)
    corpus._host_policy("FQDNNetworkPolicy", {"matches": [{"pattern": "*.com"}],
                                              "ports": [{"protocol": "TCP", "port": 443}]})(docs)
    assert _rules(docs) == {"MCP-NET-004"}


@pytest.mark.parametrize("cidrs, expected", [
    (["0.0.0.0/0"], {"MCP-NET-004", "MCP-NET-005"}),
    (["169.254.169.254/32"], {"MCP-NET-005"}),
    (["203.0.113.7/32"], set()),
])
def test_cidr_group_read_from_the_input(cidrs: list[str], expected: set[str]) -> None:
    docs = corpus.build(corpus.HARDENED)
    docs.append({"apiVersion": "cilium.io/v2alpha1", "kind": "CiliumCIDRGroup",
                 "metadata": {"name": "egress"}, "spec": {"externalCIDRs": cidrs}})
    corpus._host_policy("CiliumNetworkPolicy", {"toCIDRSet": [{"cidrGroupRef": "egress"}],
                                                "toPorts": corpus._HTTPS})(docs)
    assert _rules(docs) == expected


def _service(name: str, ns: str, selector: Doc | None) -> Doc:
    spec: Doc = {"ports": [{"port": 80}]}
    if selector:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": spec}


def test_to_services_resolved_through_endpoint_slices() -> None:
    docs = corpus.build(corpus.HARDENED)
    ns = next(d for d in docs if d.get("kind") == "Deployment")["metadata"]["namespace"]
    docs.append(_service("meta", ns, None))
    docs.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                 "metadata": {"name": "meta-1", "namespace": ns,
                              "labels": {"kubernetes.io/service-name": "meta"}},
                 "addressType": "IPv4", "endpoints": [{"addresses": ["169.254.169.254"]}]})
    corpus._host_policy("CiliumNetworkPolicy", {
        "toServices": [{"k8sService": {"serviceName": "meta", "namespace": ns}}],
        "toPorts": corpus._HTTPS})(docs)
    assert _rules(docs) == {"MCP-NET-005"}


def test_to_services_of_a_selecting_service_are_pods() -> None:
    docs = corpus.build(corpus.HARDENED)
    ns = next(d for d in docs if d.get("kind") == "Deployment")["metadata"]["namespace"]
    docs.append(_service("db", ns, {"app": "db"}))
    corpus._host_policy("CiliumNetworkPolicy", {
        "toServices": [{"k8sService": {"serviceName": "db", "namespace": ns}}],
        "toPorts": corpus._HTTPS})(docs)
    assert _rules(docs) == set()


_ISSUE_18_CASES = [c for c in corpus.CASES if c.startswith((
    "net-002-reapplied", "net-009-", "net-006-two-rules", "net-008-two-policies",
    "net-003-bogons", "net-003-cilium-", "net-004-fqdn-tld", "net-004-fqdn-io",
    "net-004-gke-tld", "net-004-cidr-group", "net-005-cidr-group", "net-005-fqdn-wildcard",
    "net-005-reserved-host", "net-005-to-", "net-005-gke-metadata", "net-005-alibaba",
    "net-005-tencent"))]


def test_the_issue_18_cases_are_all_there() -> None:
    assert len(_ISSUE_18_CASES) == 23


@pytest.mark.parametrize("case", _ISSUE_18_CASES)
def test_each_network_model_case_is_flagged_only_with_its_rule(case: str) -> None:
    assert _rules(corpus.build(case)) == {corpus.CASES[case][0]}
