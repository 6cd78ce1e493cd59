"""Cilium and GKE egress policies, read in the terms the network rules judge.

``new`` emits a CiliumNetworkPolicy (``toFQDNs``) or a GKE FQDNNetworkPolicy for egress by host
name (scaffold/fqdnpolicy.py). ``check`` reads those kinds here: which pods a Cilium policy
isolates for egress (MCP-NET-002), and, per egress rule, its CIDRs (judged like ipBlocks by
scaffold/policy/network.py), what it opens to every destination (MCP-NET-004) and how it
reaches the node or cloud metadata without a CIDR (MCP-NET-005).

Facts from the Cilium policy language (docs.cilium.io, "Layer 3 Examples", "Layer 4
Examples", "DNS based"): a rule with only ``toPorts`` allows those ports to every destination;
the entities ``world`` (``world-ipv4``, ``world-ipv6``) are everything outside the cluster,
``all`` is everything, ``cluster`` every endpoint of the cluster; ``host`` is the local node
and ``remote-node`` the other nodes; ``toFQDNs`` ``matchPattern: "*"`` matches every name.
An FQDNNetworkPolicy is not counted as isolating a pod: GKE's documentation does not say that
one alone does, so MCP-NET-002 still asks for a NetworkPolicy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..fqdnpolicy import CILIUM_KIND, GKE_KIND
from .model import Context, Doc, Workload, as_dict, as_list, name_of, namespace_of, selector_matches

CILIUM_CLUSTERWIDE_KIND = "CiliumClusterwideNetworkPolicy"
CIDR_GROUP_KIND = "CiliumCIDRGroup"
# The label an EndpointSlice carries naming its Service (discovery.k8s.io/v1).
_SERVICE_NAME = "kubernetes.io/service-name"
CILIUM_KINDS = (CILIUM_KIND, CILIUM_CLUSTERWIDE_KIND)
KINDS = (*CILIUM_KINDS, GKE_KIND)

# Cilium label sources a pod's Kubernetes labels match under (k8s: and any:); the labels
# Cilium derives for a pod's namespace and ServiceAccount (pkg/k8s/apis/cilium.io/const.go).
_SOURCES = ("k8s:", "any:")
_NAMESPACE = "io.kubernetes.pod.namespace"
_SERVICE_ACCOUNT = "io.cilium.k8s.policy.serviceaccount"
# Selectors of a Cilium egress rule that name destinations; a rule with none of them (only
# toPorts, or icmps) reaches every destination.
_TO = ("toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toServices", "toFQDNs",
       "toGroups", "toNodes")
_OPEN_ENTITIES = {
    "world": "everything outside the cluster", "world-ipv4": "every IPv4 address outside "
    "the cluster", "world-ipv6": "every IPv6 address outside the cluster",
    "all": "every destination", "cluster": "every endpoint of the cluster"}
# The entities that reach cloud metadata: the world holds 169.254.169.254; the nodes answer
# for host-network proxies of it (GKE's metadata server, kube2iam) and reach it themselves.
_METADATA_ENTITIES = ("world", "world-ipv4", "world-ipv6", "all", "host", "remote-node")
# Names under .internal resolve to cloud metadata and node services
# (metadata.google.internal, the instance's own *.internal names).
_METADATA_TLD = "internal"

BlockKey = tuple[str, tuple[str, ...]]  # cidr, except: as network.py keys an ipBlock


@dataclass
class EgressRule:
    """One egress rule of a Cilium or GKE policy, as the network rules judge it."""

    doc: Doc
    path: str
    what: str
    blocks: list[tuple[str, BlockKey]] = field(default_factory=list)  # (path, block)
    open: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    metadata: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    dns_only: bool = False  # the rule's ports are port 53 and nothing else
    unjudged: list[tuple[str, str]] = field(default_factory=list)  # (path, why): MCP-NET-009


def _specs(doc: Doc) -> Iterator[tuple[str, dict[str, Any]]]:
    """A Cilium policy's rule sets: ``spec`` and every item of ``specs``."""
    if isinstance(doc.get("spec"), dict):
        yield "spec", doc["spec"]
    for i, spec in enumerate(as_list(doc.get("specs"))):
        if isinstance(spec, dict):
            yield f"specs[{i}]", spec


def _strip(key: Any) -> str:
    text = str(key)
    for source in _SOURCES:
        if text.startswith(source):
            return text[len(source):]
    return text


def _endpoint_selects(doc: Doc, spec: dict[str, Any], w: Workload) -> bool:
    """Whether a Cilium rule set's endpointSelector selects the pods of ``w``.

    Keys may carry a source prefix (``k8s:``); the namespace and ServiceAccount are labels
    to Cilium. A namespaced policy selects only pods of its own namespace; ``{}`` selects all
    of them (every pod of the cluster for a clusterwide policy)."""
    if "endpointSelector" not in spec:
        return False  # a nodeSelector (host) policy: no pod
    if doc.get("kind") == CILIUM_KIND and namespace_of(doc) != w.namespace:
        return False
    sel = as_dict(spec.get("endpointSelector"))
    translated = {
        "matchLabels": {_strip(k): v for k, v in as_dict(sel.get("matchLabels")).items()},
        "matchExpressions": [{**as_dict(e), "key": _strip(as_dict(e).get("key"))}
                             for e in as_list(sel.get("matchExpressions"))],
    }
    labels = {**w.labels, _NAMESPACE: w.namespace, _SERVICE_ACCOUNT: w.service_account}
    return selector_matches(translated, labels)


def _isolates(spec: dict[str, Any], direction: str) -> bool:
    # A rule set with rules (allow or deny) in a direction puts its endpoints in default-deny
    # for that direction, unless enableDefaultDeny says false for it ("Policy Enforcement
    # Modes", docs.cilium.io): `ingress: [{}]` is Cilium's default-deny.
    if as_dict(spec.get("enableDefaultDeny")).get(direction) is False:
        return False
    return bool(as_list(spec.get(direction)) or as_list(spec.get(f"{direction}Deny")))


def _isolated(ctx: Context, direction: str) -> set[int]:
    sets = [(doc, spec) for doc in ctx.of_kind(CILIUM_KIND, CILIUM_CLUSTERWIDE_KIND)
            for _, spec in _specs(doc) if _isolates(spec, direction)]
    return {id(w) for w in ctx.workloads
            if any(_endpoint_selects(doc, spec, w) for doc, spec in sets)}


def egress_isolated(ctx: Context) -> set[int]:
    """ids of the workloads a Cilium policy isolates for egress."""
    return _isolated(ctx, "egress")


def ingress_isolated(ctx: Context) -> set[int]:
    """ids of the workloads a Cilium policy isolates for ingress (a CCNP default-deny plus a
    CNP allowing the ingress controller is isolation, as a NetworkPolicy pair is)."""
    return _isolated(ctx, "ingress")


def _every_namespace(doc: Doc, selector: dict[str, Any]) -> bool:
    """Whether a toEndpoints selector reaches endpoints of every namespace.

    A namespaced policy pins its own namespace unless the selector names the namespace
    label; then (and in a clusterwide policy) only a matchLabels entry or an ``In`` term on
    it narrows, as for a namespaceSelector."""
    if _NAMESPACE in (_strip(k) for k in as_dict(selector.get("matchLabels"))):
        return False
    terms = [as_dict(e) for e in as_list(selector.get("matchExpressions"))
             if _strip(as_dict(e).get("key")) == _NAMESPACE]
    if any(t.get("operator") == "In" for t in terms):
        return False
    return bool(terms) or doc.get("kind") == CILIUM_CLUSTERWIDE_KIND


def _dns_only(to_ports: Any) -> bool:
    """Whether a rule's toPorts open port 53 only (DNS to kube-dns: MCP-NET-007's matter)."""
    ports = [as_dict(p) for tp in as_list(to_ports) for p in as_list(as_dict(tp).get("ports"))]
    return bool(ports) and all(str(p.get("port")) == "53" and p.get("endPort") in (None, 53)
                               for p in ports)


def _all_names(pattern: Any) -> bool:
    """A DNS pattern matching every name: only wildcards and dots ("*", "*.*", "**.*")."""
    text = str(pattern).strip()
    return bool(text) and set(text) <= {"*", "."} and "*" in text


def _internal(name: Any) -> bool:
    labels = str(name).strip().lower().rstrip(".").split(".")
    return labels[-1] == _METADATA_TLD


def _cidr_key(text: Any, excepts: Any = ()) -> BlockKey | None:
    """A Cilium CIDR (a bare address is one host) as an ipBlock key."""
    if not isinstance(text, str):
        return None
    cidr = text.strip()
    if "/" not in cidr:
        try:
            address = ipaddress.ip_address(cidr)
        except ValueError:
            return None
        cidr = f"{address}/{address.max_prefixlen}"
    return cidr, tuple(str(e) for e in as_list(excepts))


def _cilium_rule(ctx: Context, doc: Doc, path: str, what: str, item: dict[str, Any],
                 way: str = "to") -> EgressRule:
    """One Cilium rule read in direction ``way`` ("to": egress, "from": ingress)."""
    out = EgressRule(doc, path, what, dns_only=_dns_only(item.get("toPorts")))
    anyone = "destination" if way == "to" else "source"
    selectors = _TO if way == "to" else (*("from" + k[2:] for k in _TO if k not in (
        "toServices", "toFQDNs")), "fromRequires")
    if not any(as_list(item.get(key)) for key in selectors) and (item.get("toPorts")
                                                                    or item.get("icmps")):
        out.open.append((path, f"{what} has no {way}* selector (only ports): every {anyone} "
                               "is allowed" + (", cloud metadata included" if way == "to"
                                               else "")))
    for i, peer in enumerate(as_list(item.get(f"{way}Endpoints"))):
        where = f"{path}.{way}Endpoints[{i}]"
        reserved = _reserved(as_dict(peer))
        if reserved is not None:
            _entity(out, where, what, reserved, way, "the reserved label")
        elif _every_namespace(doc, as_dict(peer)) and not _dns_only(item.get("toPorts")):
            out.open.append((where, f"{what} allows endpoints in every namespace"))
    for i, entity in enumerate(as_list(item.get(f"{way}Entities"))):
        _entity(out, f"{path}.{way}Entities[{i}]", what, str(entity), way, f"{way}Entities")
    for i, _ in enumerate(as_list(item.get(f"{way}Nodes"))):
        if way == "to":
            out.metadata.append((f"{path}.toNodes[{i}]", f"{what} allows toNodes: the nodes "
                                 "answer for host-network metadata proxies and reach "
                                 "169.254.169.254 themselves"))
    for i, cidr in enumerate(as_list(item.get(f"{way}CIDR"))):
        key = _cidr_key(cidr)
        if key is not None:
            out.blocks.append((f"{path}.{way}CIDR[{i}]", key))
    for i, entry in enumerate(as_list(item.get(f"{way}CIDRSet"))):
        e, where = as_dict(entry), f"{path}.{way}CIDRSet[{i}]"
        if "cidrGroupRef" in e:
            _cidr_group(ctx, out, where, what, e)
            continue
        key = _cidr_key(e.get("cidr"), e.get("except"))
        if key is not None:
            out.blocks.append((where, key))
    for i, _ in enumerate(as_list(item.get(f"{way}Groups"))):
        out.unjudged.append((f"{path}.{way}Groups[{i}]", f"{what} allows {way}Groups (a "
                             "cloud provider's security groups): the addresses are not in "
                             "the input"))
    if way == "to":
        for i, fqdn in enumerate(as_list(item.get("toFQDNs"))):
            f = as_dict(fqdn)
            _names(out, f"{path}.toFQDNs[{i}]", what, f.get("matchName"),
                   f.get("matchPattern"))
        for i, service in enumerate(as_list(item.get("toServices"))):
            _service(ctx, out, f"{path}.toServices[{i}]", what, doc, as_dict(service))
    return out


# Cilium's reserved identities, selectable as `reserved:<name>` labels in to/fromEndpoints
# (pkg/labels/reserved.go); read as the entity of the same name.
_RESERVED = "reserved:"


def _reserved(selector: dict[str, Any]) -> str | None:
    for key in as_dict(selector.get("matchLabels")):
        if str(key).startswith(_RESERVED):
            return str(key)[len(_RESERVED):]
    for expr in as_list(selector.get("matchExpressions")):
        key = str(as_dict(expr).get("key"))
        if key.startswith(_RESERVED) and as_dict(expr).get("operator") in ("Exists", "In"):
            return key[len(_RESERVED):]
    return None


def _entity(out: EgressRule, where: str, what: str, entity: str, way: str,
            spelled: str) -> None:
    if entity in _OPEN_ENTITIES:
        out.open.append((where, f"{what} allows {spelled} {entity}: "
                                f"{_OPEN_ENTITIES[entity]}"))
    if way == "to" and entity in _METADATA_ENTITIES:
        out.metadata.append((where, f"{what} allows {spelled} {entity}, which reaches "
                                    "cloud metadata (169.254.169.254) or the node that "
                                    "serves it"))


def _cidr_group(ctx: Context, out: EgressRule, where: str, what: str,
                entry: dict[str, Any]) -> None:
    """A cidrGroupRef read through the CiliumCIDRGroup of that name in the input (its
    spec.externalCIDRs); a group not in the input cannot be judged."""
    name = entry.get("cidrGroupRef")
    groups = [g for g in ctx.of_kind(CIDR_GROUP_KIND) if name_of(g) == name]
    if not groups:
        out.unjudged.append((where, f"{what} allows cidrGroupRef {name!r}, a CiliumCIDRGroup "
                                    "that is not in the input"))
        return
    for cidr in as_list(as_dict(groups[-1].get("spec")).get("externalCIDRs")):
        key = _cidr_key(cidr, entry.get("except"))
        if key is not None:
            out.blocks.append((where, key))


def _service(ctx: Context, out: EgressRule, where: str, what: str, doc: Doc,
             entry: dict[str, Any]) -> None:
    """toServices through the Services and EndpointSlices (or Endpoints) of the input: a
    Service with a selector sends to pods; one without sends to the addresses of its
    EndpointSlices, judged as CIDRs (a metadata address among them is MCP-NET-005)."""
    ref = as_dict(entry.get("k8sService"))
    if not ref:
        out.unjudged.append((where, f"{what} allows toServices by selector: the services it "
                                    "selects are not judged"))
        return
    name = ref.get("serviceName")
    namespace = ref.get("namespace") or namespace_of(doc)
    services = [s for s in ctx.of_kind("Service")
                if name_of(s) == name and namespace_of(s) == namespace]
    if not services:
        out.unjudged.append((where, f"{what} allows toServices {namespace}/{name}, a Service "
                                    "that is not in the input"))
        return
    if as_dict(as_dict(services[-1].get("spec")).get("selector")):
        return  # its backends are pods the selector picks: inside the cluster
    addresses: list[Any] = []
    for eps in ctx.of_kind("EndpointSlice"):
        labels = as_dict(as_dict(eps.get("metadata")).get("labels"))
        if namespace_of(eps) == namespace and labels.get(_SERVICE_NAME) == name:
            for endpoint in as_list(eps.get("endpoints")):
                addresses += as_list(as_dict(endpoint).get("addresses"))
    for ep in ctx.of_kind("Endpoints"):
        if namespace_of(ep) == namespace and name_of(ep) == name:
            for subset in as_list(ep.get("subsets")):
                addresses += [as_dict(a).get("ip")
                              for a in as_list(as_dict(subset).get("addresses"))]
    if not addresses:
        out.unjudged.append((where, f"{what} allows toServices {namespace}/{name}, a Service "
                                    "without a selector whose endpoints are not in the "
                                    "input"))
    for address in addresses:
        key = _cidr_key(address)
        if key is not None:
            out.blocks.append((where, key))


def _names(out: EgressRule, where: str, what: str, name: Any, pattern: Any) -> None:
    """A host name or pattern as the addresses it may resolve to: a pattern matching every
    name under a top-level domain (``*.com``, ``**.io``) is the internet (anyone can register
    such a name and point it anywhere); one whose last label is a wildcard
    (``metadata.google.*``) matches ``.internal`` names too."""
    if pattern is not None and _all_names(pattern):
        out.open.append((where, f"{what} allows every host name (pattern {pattern!r}): "
                                "every destination"))
        out.metadata.append((where, f"{what} allows every host name (pattern {pattern!r}), "
                                    "metadata.google.internal included"))
        return
    if pattern is not None:
        labels = str(pattern).strip().lower().rstrip(".").split(".")
        fixed = [label for label in labels if "*" not in label]
        if "*" in labels[-1]:
            out.metadata.append((where, f"{what} allows pattern {pattern!r}, whose top-level "
                                        "domain is a wildcard: names under .internal (cloud "
                                        "metadata) match it"))
        elif len(fixed) <= 1 and not _internal(pattern):
            out.open.append((where, f"{what} allows every name under .{labels[-1]} (pattern "
                                    f"{pattern!r}): anyone can register one and point it at "
                                    "any address, so every destination"))
    for text in (name, pattern):
        if text is not None and _internal(text):
            out.metadata.append((where, f"{what} allows {text!r}: names under "
                                        ".internal are cloud metadata and node services"))


def _gke_rule(doc: Doc, path: str, what: str, item: dict[str, Any]) -> EgressRule:
    out = EgressRule(doc, path, what)
    for i, match in enumerate(as_list(item.get("matches"))):
        m = as_dict(match)
        _names(out, f"{path}.matches[{i}]", what, m.get("name"), m.get("pattern"))
    return out


def egress_rules(ctx: Context) -> list[list[EgressRule]]:
    """Per Cilium or GKE policy (in input order), its egress rules read."""
    out: list[list[EgressRule]] = []
    for doc in ctx.of_kind(*KINDS):
        who = f"{doc.get('kind')} {name_of(doc)}"
        rules: list[EgressRule] = []
        if doc.get("kind") == GKE_KIND:
            spec = as_dict(doc.get("spec"))
            for i, item in enumerate(as_list(spec.get("egress"))):
                rules.append(_gke_rule(doc, f"spec.egress[{i}]", f"{who} egress rule {i}",
                                       as_dict(item)))
        else:
            for where, spec in _specs(doc):
                for i, item in enumerate(as_list(spec.get("egress"))):
                    rules.append(_cilium_rule(ctx, doc, f"{where}.egress[{i}]",
                                              f"{who} egress rule {i}", as_dict(item)))
        out.append(rules)
    return out


def ingress_rules(ctx: Context) -> list[list[EgressRule]]:
    """Per Cilium policy (in input order), its ingress allow rules read (``from*``)."""
    out: list[list[EgressRule]] = []
    for doc in ctx.of_kind(CILIUM_KIND, CILIUM_CLUSTERWIDE_KIND):
        who = f"{doc.get('kind')} {name_of(doc)}"
        out.append([_cilium_rule(ctx, doc, f"{where}.ingress[{i}]", f"{who} ingress rule {i}",
                                 as_dict(item), "from")
                    for where, spec in _specs(doc)
                    for i, item in enumerate(as_list(spec.get("ingress")))])
    return out
