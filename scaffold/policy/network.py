"""NetworkPolicy: every workload isolated both ways, no rule open to everyone, and cloud
metadata (IMDS) unreachable through any ipBlock.

NetworkPolicies only add allowances (the union of all policies selecting a pod), so
"metadata is blocked" means: no ipBlock that covers it lacks an ``except`` for it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from .model import (
    Context,
    Doc,
    Hit,
    Rule,
    Workload,
    as_dict,
    as_list,
    hit,
    name_of,
    namespace_of,
    selector_is_empty,
    selector_matches,
)

P = "network"
NO_INGRESS_POLICY = Rule(
    "MCP-NET-001", P, "high", "Workload not isolated for Ingress",
    "Add a NetworkPolicy in the workload's namespace that selects it with policyTypes "
    "[Ingress, Egress] (and a default-deny policy with podSelector: {}).",
)
NO_EGRESS_POLICY = Rule(
    "MCP-NET-002", P, "high", "Workload not isolated for Egress",
    "Add Egress to the policyTypes of a NetworkPolicy selecting the workload, with egress "
    "rules only to DNS, named downstream services and excepted external CIDRs.",
)
INGRESS_FROM_ALL = Rule(
    "MCP-NET-003", P, "high", "Ingress rule allows all sources",
    "Give every ingress rule a 'from' naming the ingress controller's namespace (and pods); "
    "never an empty namespaceSelector or 0.0.0.0/0.",
)
EGRESS_TO_ALL = Rule(
    "MCP-NET-004", P, "high", "Egress rule allows all destinations",
    "Give every egress rule a 'to' naming pods, namespaces or CIDRs; a 0.0.0.0/0 or ::/0 "
    "ipBlock must except the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, "
    "fc00::/7).",
)
METADATA = Rule(
    "MCP-NET-005", P, "high", "ipBlock reaches the cloud metadata service",
    "Add 169.254.0.0/16 (IPv4) and fc00::/7 or fd00:ec2::254/128 (IPv6) to the ipBlock's "
    "except list.",
)
INGRESS_ALL_PORTS = Rule(
    "MCP-NET-006", P, "medium", "Ingress rule without port restriction",
    "List the server port under 'ports' in every ingress rule.",
)

RULES = (
    NO_INGRESS_POLICY, NO_EGRESS_POLICY, INGRESS_FROM_ALL, EGRESS_TO_ALL, METADATA,
    INGRESS_ALL_PORTS,
)

METADATA_ADDRESSES = tuple(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "fd20:ce::254")
)
# Ranges that hold pods, nodes and services on common clusters: a rule covering one of them
# in full reaches everything in the cluster, not "the internet".
PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(value: Any) -> Network | None:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None


def _policy_types(spec: dict[str, Any]) -> list[str]:
    # Kubernetes defaults: Ingress always, Egress only if the spec has an egress section.
    explicit = as_list(spec.get("policyTypes"))
    if explicit:
        return [str(t) for t in explicit]
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


def _selects(policy: Doc, w: Workload) -> bool:
    spec = as_dict(policy.get("spec"))
    return namespace_of(policy) == w.namespace and selector_matches(
        spec.get("podSelector"), w.labels
    )


def check(ctx: Context) -> Iterator[Hit]:
    """All network findings for the documents in ``ctx``."""
    policies = list(ctx.of_kind("NetworkPolicy"))
    for w in ctx.workloads:
        # Pods on the host network bypass NetworkPolicy; MCP-PSS-001 reports them.
        types: set[str] = set()
        for policy in policies:
            if _selects(policy, w):
                types.update(_policy_types(as_dict(policy.get("spec"))))
        if "Ingress" not in types:
            yield hit(NO_INGRESS_POLICY, w.doc, w.template_meta_path + ".labels",
                      f"{w.kind} {w.name} is not selected by any NetworkPolicy with "
                      "policyTypes Ingress: every pod may connect to it")
        if "Egress" not in types:
            yield hit(NO_EGRESS_POLICY, w.doc, w.template_meta_path + ".labels",
                      f"{w.kind} {w.name} is not selected by any NetworkPolicy with "
                      "policyTypes Egress: it may connect anywhere, cloud metadata included")
    for policy in policies:
        yield from _policy(policy)


def _covers_private(net: Network, excepts: list[Network]) -> Network | None:
    for private in PRIVATE_RANGES:
        if private.version != net.version or not private.subnet_of(net):  # type: ignore[arg-type]
            continue
        if not any(e.version == net.version and private.subnet_of(e)  # type: ignore[arg-type]
                   for e in excepts):
            return private
    return None


def _policy(policy: Doc) -> Iterator[Hit]:
    spec = as_dict(policy.get("spec"))
    who = f"NetworkPolicy {name_of(policy)}"
    types = _policy_types(spec)
    if "Ingress" in types:
        for index, item in enumerate(as_list(spec.get("ingress"))):
            rule, path = as_dict(item), f"spec.ingress[{index}]"
            peers = as_list(rule.get("from"))
            if not peers:
                yield hit(INGRESS_FROM_ALL, policy, path,
                          f"{who} ingress rule {index} has no 'from': any source may connect")
            for pi, peer in enumerate(peers):
                reason = _open_peer(as_dict(peer), ingress=True)
                if reason:
                    yield hit(INGRESS_FROM_ALL, policy, f"{path}.from[{pi}]",
                              f"{who} ingress rule {index} allows {reason}")
            if not as_list(rule.get("ports")):
                yield hit(INGRESS_ALL_PORTS, policy, path,
                          f"{who} ingress rule {index} has no 'ports': every port is open")
    if "Egress" in types:
        for index, item in enumerate(as_list(spec.get("egress"))):
            rule, path = as_dict(item), f"spec.egress[{index}]"
            peers = as_list(rule.get("to"))
            if not peers:
                yield hit(EGRESS_TO_ALL, policy, path,
                          f"{who} egress rule {index} has no 'to': any destination is allowed, "
                          "cloud metadata included")
            for pi, peer in enumerate(peers):
                p = as_dict(peer)
                reason = _open_peer(p, ingress=False)
                if reason:
                    yield hit(EGRESS_TO_ALL, policy, f"{path}.to[{pi}]",
                              f"{who} egress rule {index} allows {reason}")
                block = as_dict(p.get("ipBlock"))
                net = _network(block.get("cidr")) if block else None
                if net is None:
                    continue
                excepts = [e for e in (_network(x) for x in as_list(block.get("except"))) if e]
                for address in METADATA_ADDRESSES:
                    if address.version == net.version and address in net and not any(
                        e.version == address.version and address in e for e in excepts
                    ):
                        yield hit(METADATA, policy, f"{path}.to[{pi}].ipBlock",
                                  f"{who} egress rule {index} ipBlock {block.get('cidr')} "
                                  f"reaches the metadata address {address} (not in except)")


def _open_peer(peer: dict[str, Any], ingress: bool) -> str:
    """Why a peer admits everyone, or '' if it is narrow enough."""
    if "namespaceSelector" in peer and selector_is_empty(peer.get("namespaceSelector")):
        return "every namespace (empty namespaceSelector)"
    block = as_dict(peer.get("ipBlock"))
    if not block:
        return ""
    net = _network(block.get("cidr"))
    if net is None:
        return ""
    if ingress:
        return f"every address ({block.get('cidr')})" if net.prefixlen == 0 else ""
    excepts = [e for e in (_network(x) for x in as_list(block.get("except"))) if e]
    private = _covers_private(net, excepts)
    if private is not None:
        return (f"ipBlock {block.get('cidr')}, which covers the cluster range {private} "
                "without excepting it")
    return ""
