"""NetworkPolicy: every workload isolated both ways, no rule open to everyone, and cloud
metadata (IMDS, the ECS/EKS credential agents, Azure WireServer) unreachable through any
ipBlock.

NetworkPolicies only add allowances (the union of all policies selecting a pod), so the rules
judge what a pod can reach, not how a rule is spelled: the addresses of every ipBlock (cidr
less except) are added up per rule, per policy and over every policy selecting a pod; a
namespaceSelector is judged by the namespaces it can select; ports by the numbers they open.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .. import netranges
from ..netranges import Net
from . import cni, netkinds
from .intervals import ALL_PORTS, IntervalSet
from .model import (
    POD_SPEC,
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
    selector_matches,
)
from .registry import rule

P = "network"

# Every namespace carries this label, set by the API server to its name (immutable).
_NAME_LABEL = "kubernetes.io/metadata.name"
# Labels that every pod of a kind of controller carries, so Exists on them narrows nothing.
_UNIVERSAL_POD_LABELS = frozenset({"pod-template-hash", "controller-revision-hash"})
_DNS_PORT = 53


# ---- what one peer, one set of blocks, one ports list allows -------------------------------

def selects_nearly_all(selector: Any, universal: frozenset[str] = frozenset()) -> bool:
    """Whether a LabelSelector selects every object except those it names.

    A selector narrows only through a positive term: a matchLabels entry, an ``In``
    expression, or ``Exists`` on a label that not every object carries. ``{}``, ``NotIn``,
    ``DoesNotExist`` and ``Exists`` on a ``universal`` label (``kubernetes.io/metadata.name``
    for namespaces) match every object anyone creates later, so such a selector counts as
    "all": whoever can create a namespace (or label a pod) is inside it.
    """
    sel = as_dict(selector)
    if as_dict(sel.get("matchLabels")):
        return False
    for expr in as_list(sel.get("matchExpressions")):
        e = as_dict(expr)
        op = e.get("operator")
        if op == "In" or (op == "Exists" and e.get("key") not in universal):
            return False
    return True


BlockKey = tuple[str, tuple[str, ...]]  # an ipBlock as written: cidr, except


def _block_key(peer: dict[str, Any]) -> BlockKey | None:
    """An ipBlock peer as (cidr, excepts), or None when it has no parsable CIDR."""
    block = as_dict(peer.get("ipBlock"))
    if not block or netranges.parse(block.get("cidr")) is None:
        return None
    return block["cidr"], tuple(str(x) for x in as_list(block.get("except")))


# Policies repeat the same blocks (every generated base has the same internet rule): the set
# arithmetic runs once per distinct set of blocks, keyed by their text, so a long stream
# costs a lookup per rule.
@lru_cache(maxsize=4096)
def _reach(keys: tuple[BlockKey, ...]) -> tuple[Net, ...]:
    """The addresses a set of ipBlocks admits together (each cidr less its except)."""
    nets: list[Net] = []
    for cidr, excepts in keys:
        net = netranges.parse(cidr)
        if net is not None:
            nets += netranges.subtract(net, [e for e in map(netranges.parse, excepts) if e])
    return tuple(netranges.collapse(nets))


@lru_cache(maxsize=4096)
def _blocks_wide(keys: tuple[BlockKey, ...], ingress: bool) -> str:
    return _wide(_reach(keys), ingress)


def _wide(blocks: Iterable[Net], ingress: bool) -> str:
    """What a set of addresses covers that a rule must not open, or ''.

    Any direction: a whole private range (pods, nodes and services of the cluster live
    there). Ingress also: the whole internet of a family, the special ranges aside (egress
    to the internet on named ports is the bundle's external rule).
    """
    reach = netranges.collapse(blocks)
    if not reach:
        return ""
    for private in netranges.PRIVATE:
        if netranges.covers(reach, private):
            return f"the private range {private}"
    if ingress:
        special = [*netranges.PRIVATE, *netranges.JUDGED_UNREACHABLE, *netranges.BOGONS]
        for everyone in netranges.INTERNET:
            if any(n.version == everyone.version for n in reach) and netranges.covers(
                    [*reach, *special], everyone):
                return f"every internet address ({everyone})"
    return ""


def _port_ranges(ports: list[Any]) -> dict[str, list[tuple[int, int]]]:
    """Numeric port ranges per protocol (named ports name one port: left out)."""
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for entry in ports:
        e = as_dict(entry)
        protocol = str(e.get("protocol") or "TCP")
        port, end = e.get("port"), e.get("endPort")
        if "port" not in e or port is None:
            out[protocol].append(ALL_PORTS.spans[0])  # a protocol without a port: all of them
        elif isinstance(port, int) and not isinstance(port, bool):
            last = end if isinstance(end, int) and not isinstance(end, bool) else port
            out[protocol].append((port, max(port, last)))
    return out


@lru_cache(maxsize=4096)
def _ports_of(text: str) -> dict[str, IntervalSet]:
    return {protocol: IntervalSet.of(ranges)
            for protocol, ranges in _port_ranges(json.loads(text)).items()}


def _rule_ports(ports: Any) -> dict[str, IntervalSet]:
    """The numeric ports one rule opens per protocol (no ``ports``: every port of TCP, UDP
    and SCTP, the protocols a NetworkPolicy port may name); cached by the list's text, since
    every base repeats the same few lists."""
    items = as_list(ports)
    if not items:
        return {protocol: ALL_PORTS for protocol in ("TCP", "UDP", "SCTP")}
    try:
        text = json.dumps(items, sort_keys=True)
    except (TypeError, ValueError):
        return {}
    return _ports_of(text)


def opens_every_port(ports: Any) -> str:
    """Why a rule's ``ports`` admit every port of some protocol, or ''."""
    items = as_list(ports)
    if not items:
        return "has no 'ports': every port is open"
    for protocol, spans in _rule_ports(items).items():
        if spans.covers(ALL_PORTS):
            return f"opens every {protocol} port"
    return ""


def _dns_only(ports: Any) -> bool:
    """True when a rule's ports are port 53 and nothing else."""
    items = as_list(ports)
    return bool(items) and all(
        as_dict(e).get("port") == _DNS_PORT
        and as_dict(e).get("endPort") in (None, _DNS_PORT) for e in items)


@lru_cache(maxsize=4096)
def _metadata_reached(key: BlockKey) -> list[Net]:
    """The never-reachable ranges a block's addresses touch.

    A block wider than one host that touches a range counts whatever its except spells
    (0.0.0.0/0 less 169.254.169.254/32 still reaches the credential agents on 169.254.170.2
    and .23); a single host counts when it is a known credential endpoint, so a node-local
    service such as NodeLocal DNSCache (169.254.20.10/32) may be allowed by its address.
    """
    cidr, reach = netranges.parse(key[0]), _reach((key,))
    if cidr is None:
        return []
    if cidr.prefixlen == cidr.max_prefixlen:
        return [e for e in netranges.CREDENTIAL_ENDPOINTS if netranges.touches(reach, e)]
    return [r for r in netranges.JUDGED_UNREACHABLE if netranges.touches(reach, r)]


def _dns_to_resolver(key: BlockKey, dns_only: bool) -> bool:
    """A rule allowing only DNS to 169.254.169.254/32: GKE Cloud DNS's resolver, not IMDS."""
    return dns_only and netranges.parse(key[0]) == netranges.CLOUD_DNS_RESOLVER


# ---- per policy -------------------------------------------------------------------------

def _policy_types(spec: dict[str, Any]) -> list[str]:
    # Kubernetes defaults: Ingress always, Egress only if the spec has an egress section.
    explicit = as_list(spec.get("policyTypes"))
    if explicit:
        return [str(t) for t in explicit]
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


@dataclass
class _Policy:
    """One NetworkPolicy read once: its types and the addresses its ipBlocks admit."""

    doc: Doc
    types: frozenset[str]
    reach: dict[str, list[Net]] = field(default_factory=dict)  # direction -> addresses
    wide: dict[str, bool] = field(default_factory=dict)  # direction -> flagged inside
    # direction -> protocol -> the numeric ports its rules open, added up over the rules
    ports: dict[str, dict[str, IntervalSet]] = field(default_factory=dict)
    every_port: dict[str, bool] = field(default_factory=dict)  # some rule opens every port


_DIRECTIONS = (("Ingress", "ingress", "from"), ("Egress", "egress", "to"))


def _judge_policy(policy: Doc) -> tuple[_Policy, list[Hit]]:
    """A policy's types and reach, and its MCP-NET-003/004 findings (rules open to all).

    Whether a direction is already reported as open decides whether the policies selecting
    a pod are added up (:func:`_together`), so those findings are part of reading a policy.
    """
    spec = as_dict(policy.get("spec"))
    types = _policy_types(spec)
    info = _Policy(policy, frozenset(types))
    hits: list[Hit] = []
    who = f"NetworkPolicy {name_of(policy)}"
    for ptype, section, peers_key in _DIRECTIONS:
        ingress = ptype == "Ingress"
        open_rule = ingress_from_all if ingress else egress_to_all
        flagged = False
        keys_all: list[BlockKey] = []
        if ptype not in types:
            continue
        ports: dict[str, IntervalSet] = {}
        for index, item in enumerate(as_list(spec.get(section))):
            rule, path = as_dict(item), f"spec.{section}[{index}]"
            for protocol, spans in _rule_ports(rule.get("ports")).items():
                ports[protocol] = ports.get(protocol, IntervalSet()) | spans
            if opens_every_port(rule.get("ports")):
                info.every_port[ptype] = True
            what = f"{who} {section} rule {index}"
            peers = as_list(rule.get(peers_key))
            if not peers:
                flagged = True
                anyone = ("source may connect" if ingress
                          else "destination is allowed, cloud metadata included")
                hits.append(hit(open_rule, policy, path,
                                f"{what} has no '{peers_key}': any {anyone}"))
            keys_rule: list[BlockKey] = []
            rule_flagged = False
            for pi, peer in enumerate(peers):
                p, ppath = as_dict(peer), f"{path}.{peers_key}[{pi}]"
                if _all_namespaces(p) and not (not ingress and _dns_peer(p, rule)):
                    whom = ("every pod in every namespace" if _pods_open(p) else
                            f"pods selected by {_show(p.get('podSelector'))} in every "
                            "namespace")
                    rule_flagged = True
                    hits.append(hit(open_rule, policy, ppath,
                                    f"{what} allows {whom} (namespaceSelector "
                                    f"{_show(p.get('namespaceSelector'))} selects every "
                                    "namespace)"))
                key = _block_key(p)
                if key is None:
                    continue
                keys_rule.append(key)
                wide = _blocks_wide((key,), ingress)
                if wide:
                    rule_flagged = True
                    cidr = as_dict(p.get("ipBlock")).get("cidr")
                    hits.append(hit(open_rule, policy, f"{ppath}.ipBlock",
                                    f"{what} allows ipBlock {cidr}, which covers {wide} "
                                    "without excepting it"))
            if not rule_flagged:
                wide = _blocks_wide(tuple(keys_rule), ingress)
                if wide:
                    rule_flagged = True
                    hits.append(hit(open_rule, policy, path,
                                    f"{what} has ipBlocks that together cover {wide}"))
            flagged = flagged or rule_flagged
            keys_all += keys_rule
        info.reach[ptype] = list(_reach(tuple(keys_all)))
        info.ports[ptype] = ports
        if not flagged:
            wide = _blocks_wide(tuple(keys_all), ingress)
            if wide:
                flagged = True
                hits.append(hit(open_rule, policy, f"spec.{section}",
                                f"{who} {section} rules have ipBlocks that together cover "
                                f"{wide}"))
        info.wide[ptype] = flagged
    return info, hits


def _all_namespaces(peer: dict[str, Any]) -> bool:
    """Whether a peer's namespaceSelector selects every namespace (see selects_nearly_all)."""
    return "namespaceSelector" in peer and selects_nearly_all(
        peer.get("namespaceSelector"), frozenset({_NAME_LABEL}))


def _pods_open(peer: dict[str, Any]) -> bool:
    return "podSelector" not in peer or selects_nearly_all(
        peer.get("podSelector"), _UNIVERSAL_POD_LABELS)


def _dns_peer(peer: dict[str, Any], rule: dict[str, Any]) -> bool:
    """An egress peer allowing DNS only to selected pods in every namespace (MCP-NET-007,
    not the "all destinations" of MCP-NET-004)."""
    return not _pods_open(peer) and _dns_only(rule.get("ports"))


Section = tuple[Doc, str, str, str, dict[str, Any]]


def _sections(ctx: Context, ptype: str) -> list[Section]:
    """(policy, path, peers key, what, rule) for every rule of direction ``ptype`` of every
    policy whose policyTypes enforce it, in input order; read once per direction."""
    return ctx.shared(_ingress_sections if ptype == "Ingress" else _egress_sections)


def _ingress_sections(ctx: Context) -> list[Section]:
    return list(_read_sections(ctx, "Ingress"))


def _egress_sections(ctx: Context) -> list[Section]:
    return list(_read_sections(ctx, "Egress"))


def _read_sections(ctx: Context, ptype: str) -> Iterator[Section]:
    _, section, peers_key = next(d for d in _DIRECTIONS if d[0] == ptype)
    for policy in ctx.of_kind("NetworkPolicy"):
        spec = as_dict(policy.get("spec"))
        if ptype not in _policy_types(spec):
            continue
        for index, item in enumerate(as_list(spec.get(section))):
            yield (policy, f"spec.{section}[{index}]", peers_key,
                   f"NetworkPolicy {name_of(policy)} {section} rule {index}", as_dict(item))


def _show(selector: Any) -> str:
    sel = as_dict(selector)
    if not sel.get("matchLabels") and not sel.get("matchExpressions"):
        return "{}"
    parts = [f"{k}={v}" for k, v in as_dict(sel.get("matchLabels")).items()]
    for expr in as_list(sel.get("matchExpressions")):
        e = as_dict(expr)
        values = ",".join(str(v) for v in as_list(e.get("values")))
        parts.append(f"{e.get('key')} {e.get('operator')}" + (f" ({values})" if values else ""))
    return "{" + "; ".join(parts) + "}"


# ---- which policies select a pod: an index, so the work grows with the input, not its square

@dataclass
class _Group:
    """The policies that select every pod of a namespace (empty podSelector), added up once:
    a stream of bases that each bring a default-deny would otherwise cost its square."""

    members: list[_Policy] = field(default_factory=list)
    types: set[str] = field(default_factory=set)
    reach: dict[str, list[Net]] = field(default_factory=lambda: defaultdict(list))
    names: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    wide: dict[str, bool] = field(default_factory=lambda: defaultdict(bool))
    ports: dict[str, dict[str, IntervalSet]] = field(default_factory=lambda: defaultdict(dict))
    port_names: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    every_port: dict[str, bool] = field(default_factory=lambda: defaultdict(bool))

    def add(self, info: _Policy) -> None:
        self.members.append(info)
        self.types |= info.types
        for ptype, by_protocol in info.ports.items():
            if ptype not in info.types or not by_protocol:
                continue
            mine = self.ports[ptype]
            for protocol, spans in by_protocol.items():
                mine[protocol] = mine.get(protocol, IntervalSet()) | spans
            self.port_names[ptype].append(name_of(info.doc))
            self.every_port[ptype] = self.every_port[ptype] or info.every_port.get(ptype, False)
        for ptype, reach in info.reach.items():
            if ptype in info.types and reach:
                self.reach[ptype] = netranges.collapse([*self.reach[ptype], *reach])
                self.names[ptype].append(name_of(info.doc))
                self.wide[ptype] = self.wide[ptype] or info.wide.get(ptype, False)


class _Index:
    """The NetworkPolicies of each namespace, keyed by one term of their podSelector.

    A policy whose podSelector has a matchLabels entry (or an ``In`` term, or ``Exists``)
    can select only pods carrying that label, so a pod looks up its own labels instead of
    testing every policy in the input. Policies with an empty podSelector select every pod
    of the namespace: they are added up once per namespace (:class:`_Group`).
    """

    def __init__(self, policies: Iterable[_Policy]) -> None:
        self.keyed: dict[tuple[str, tuple[Any, Any]], list[_Policy]] = defaultdict(list)
        self.scanned: dict[str, list[_Policy]] = defaultdict(list)
        self.everyone: dict[str, _Group] = defaultdict(_Group)
        for info in policies:
            ns = namespace_of(info.doc)
            selector = as_dict(as_dict(info.doc.get("spec")).get("podSelector"))
            keys = _selector_keys(selector)
            if keys is None:
                if not selector.get("matchLabels") and not selector.get("matchExpressions"):
                    self.everyone[ns].add(info)
                else:
                    self.scanned[ns].append(info)
            for key in keys or ():
                self.keyed[(ns, key)].append(info)

    def selecting(self, w: Workload) -> tuple[_Group, list[_Policy]]:
        """The namespace-wide group and every other policy that selects the pods of ``w``."""
        found: dict[int, _Policy] = {}
        candidates: list[_Policy] = list(self.scanned.get(w.namespace, ()))
        for label, value in w.labels.items():
            for key in ((label, _hashable(value)), (label, _EXISTS)):
                candidates += self.keyed.get((w.namespace, key), ())
        for info in candidates:
            if id(info) not in found and selector_matches(
                    as_dict(info.doc.get("spec")).get("podSelector"), w.labels):
                found[id(info)] = info
        return self.everyone.get(w.namespace) or _Group(), list(found.values())


_EXISTS = object()


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


def _selector_keys(selector: dict[str, Any]) -> list[tuple[Any, Any]] | None:
    """Label (key, value) pairs of which a selected pod must carry at least one, or None."""
    labels = as_dict(selector.get("matchLabels"))
    if labels:
        key, value = next(iter(labels.items()))
        return [(key, _hashable(value))]
    for expr in as_list(selector.get("matchExpressions")):
        e = as_dict(expr)
        if e.get("operator") == "In":
            return [(e.get("key"), _hashable(v)) for v in as_list(e.get("values"))]
        if e.get("operator") == "Exists":
            return [(e.get("key"), _EXISTS)]
    return None


@dataclass
class _Network:
    """Every NetworkPolicy read once and, per workload, the policies that select it."""

    judged: list[tuple[_Policy, list[Hit]]]
    selected: list[tuple[Workload, _Group, list[_Policy]]]


def _network(ctx: Context) -> _Network:
    judged = [_judge_policy(p) for p in ctx.of_kind("NetworkPolicy")]
    index = _Index(info for info, _ in judged)
    # Pods on the host network bypass NetworkPolicy; MCP-PSS-001 reports them.
    return _Network(judged, [(w, *index.selecting(w)) for w in ctx.workloads])


def _isolation(ctx: Context, ptype: str, rule: Rule, why: str) -> Iterator[Hit]:
    # A Cilium policy with rules in a direction isolates the pods it selects for it too.
    isolated = ctx.shared(cni.egress_isolated if ptype == "Egress" else cni.ingress_isolated)
    for w, group, selecting in ctx.shared(_network).selected:
        if ptype not in group.types and not any(ptype in p.types for p in selecting) \
                and id(w) not in isolated:
            yield hit(rule, w.doc, w.template_meta_path + ".labels",
                      f"{w.kind} {w.name} is not selected by any NetworkPolicy with "
                      f"policyTypes {ptype}: {why}")


def _open(ctx: Context, ptype: str, rule: Rule) -> Iterator[Hit]:
    net = ctx.shared(_network)
    for w, group, selecting in net.selected:
        yield from _together(w, group, selecting, ptype, rule)
    for _, hits in net.judged:
        yield from (h for h in hits if h[1].rule == rule.id)


def _every_port(ctx: Context, ptype: str, rule: Rule) -> Iterator[Hit]:
    for policy, path, _, what, item in _sections(ctx, ptype):
        why = opens_every_port(item.get("ports"))
        if why:
            yield hit(rule, policy, path, f"{what} {why}")
    for w, group, selecting in ctx.shared(_network).selected:
        yield from _ports_together(w, group, selecting, ptype, rule)


def _ports_together(
    w: Workload, group: _Group, selecting: list[_Policy], ptype: str, rule: Rule
) -> Iterator[Hit]:
    """Ports add up: the rules of every policy selecting a pod, judged as one set per
    protocol (1-32767 in one rule and 32768-65535 in another open every port)."""
    parts = [p for p in selecting if ptype in p.types and p.ports.get(ptype)]
    if group.every_port.get(ptype) or any(p.every_port.get(ptype) for p in parts):
        return  # a rule alone opens every port: reported on its policy
    union: dict[str, IntervalSet] = dict(group.ports.get(ptype, {}))
    for p in parts:
        for protocol, spans in p.ports[ptype].items():
            union[protocol] = union.get(protocol, IntervalSet()) | spans
    for protocol in sorted(union):
        if union[protocol].covers(ALL_PORTS):
            # Named only when reported: a namespace-wide group may hold thousands of policies.
            names = sorted({*group.port_names.get(ptype, ()),
                            *(name_of(p.doc) for p in parts)})
            yield hit(rule, w.doc, w.template_meta_path + ".labels",
                      f"{w.kind} {w.name}: the {ptype.lower()} rules of NetworkPolicies "
                      f"{', '.join(names)}, which all select it, together open every "
                      f"{protocol} port")


_MEANING = """NetworkPolicies only add allowances, so the rules judge what a pod can reach,
not how a rule is spelled."""
_NAMESPACES = """A `namespaceSelector` counts as every namespace unless it has a positive
term: a `matchLabels` entry, an `In` expression, or `Exists` on a label other than
`kubernetes.io/metadata.name`; `{}`, `NotIn` a few names, `DoesNotExist` select every namespace
someone creates later."""
_BLOCKS = """`ipBlock`s are judged as the addresses they admit (`cidr` less every `except`),
added up per peer, per rule, over all rules of a policy, and over all policies that select the
same pod (reported on the workload). Covering a whole private range (10/8, 172.16/12,
192.168/16, 100.64/10, 127/8, fc00::/7, ::1) is open to all"""
_PORTS = """`ports` missing or empty, an entry with a protocol and no `port`, or numeric
ranges (`port`...`endPort`, in any number of pieces) covering 1-65535 for one protocol. Named
ports count as one port. The ports of every rule of every policy that selects the same pod
are added up per protocol too (reported on the workload): two rules, or two policies, whose
ranges together cover 1-65535 open every port."""
_WORKLOADS = [POD_SPEC]
_CNI_OPEN = """Cilium and GKE policies: a Cilium egress rule with only `toPorts` (no `to*`
selector), `toEntities` `world`, `world-ipv4`, `world-ipv6`, `all` or `cluster`, `toFQDNs`
`matchPattern: "*"` (any pattern of wildcards only) and GKE `matches` `pattern: "*"` allow
every destination; so does `toEndpoints` reaching every namespace (a namespace term other
than a matchLabels entry or `In`, or none in a clusterwide policy) except on port 53 only;
`toCIDR` and `toCIDRSet` (`cidr` less `except`) are judged as ipBlocks, per rule and per
policy."""
_CNI_METADATA = """In Cilium and GKE policies: `toCIDR`/`toCIDRSet` judged as ipBlocks,
`toEntities` `world` (and `world-ipv4`, `world-ipv6`, `all`), `host` or `remote-node` (the nodes
answer for host-network metadata proxies), host names under `.internal`
(`metadata.google.internal`) and patterns matching every name."""


@rule(
    "MCP-NET-001", P, "high", "Workload not isolated for Ingress", kinds=_WORKLOADS,
    fix="Add a NetworkPolicy in the workload's namespace that selects it with policyTypes "
    "[Ingress, Egress] (and a default-deny policy with podSelector: {}).",
    description="""Check a whole base or the `kubectl kustomize` output together: a policy
    in another file does not count. A CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy
    with `ingress` or `ingressDeny` rules (`ingress: [{}]` is Cilium's default-deny) whose
    `endpointSelector` selects the pods isolates them too.""",
)
def no_ingress_policy(ctx: Context) -> Iterator[Hit]:
    return _isolation(ctx, "Ingress", no_ingress_policy, "every pod may connect to it")


@rule(
    "MCP-NET-002", P, "high", "Workload not isolated for Egress", kinds=_WORKLOADS,
    fix="Add Egress to the policyTypes of a NetworkPolicy selecting the workload, with egress "
    "rules only to DNS, named downstream services and excepted external CIDRs.",
    description="""A CiliumNetworkPolicy (or CiliumClusterwideNetworkPolicy) with `egress` or
    `egressDeny` rules whose `endpointSelector` selects the pods isolates them too (keys may
    carry `k8s:`; `io.kubernetes.pod.namespace` is the namespace). A GKE FQDNNetworkPolicy
    does not count: GKE does not document that it isolates a pod on its own.""",
)
def no_egress_policy(ctx: Context) -> Iterator[Hit]:
    return _isolation(ctx, "Egress", no_egress_policy,
                      "it may connect anywhere, cloud metadata included")


@rule(
    "MCP-NET-003", P, "high", "Ingress rule allows all sources",
    kinds=["NetworkPolicy", POD_SPEC, *cni.CILIUM_KINDS],
    fix="Give every ingress rule a 'from' naming the ingress controller's namespace (and pods) "
    "with matchLabels kubernetes.io/metadata.name; never a namespaceSelector that only "
    "excludes (empty, NotIn, DoesNotExist), nor ipBlocks that together cover 0.0.0.0/0 or a "
    "private range.",
    description=f"""{_MEANING} {_NAMESPACES} {_BLOCKS}, and so is covering the whole internet
    of a family apart from the private, metadata and bogon ranges (240.0.0.0/4, multicast,
    documentation ranges: no one's on the internet). Two `/1` blocks are `0.0.0.0/0`. Cilium
    ingress rules too: `fromEntities` (or a `reserved:` label in `fromEndpoints`) `world`,
    `all` or `cluster`, a rule with only `toPorts`, `fromEndpoints` reaching every namespace,
    `fromCIDR`/`fromCIDRSet` judged as ipBlocks.""",
)
def ingress_from_all(ctx: Context) -> Iterator[Hit]:
    yield from _open(ctx, "Ingress", ingress_from_all)
    for rules in ctx.shared(cni.ingress_rules):
        yield from _cni_open(rules, ingress_from_all, True)


@rule(
    "MCP-NET-004", P, "high", "Egress rule allows all destinations",
    kinds=["NetworkPolicy", POD_SPEC, *cni.KINDS],
    fix="Give every egress rule a 'to' naming pods, namespaces (by matchLabels) or CIDRs; the "
    "ipBlocks selecting a pod must not together cover a private range (10/8, 172.16/12, "
    "192.168/16, 100.64/10, 127/8, fc00::/7): 0.0.0.0/0 and ::/0 must except them. In "
    "Cilium and GKE policies name the hosts (matchName, a narrow matchPattern), never '*', "
    "toEntities world/all/cluster or a rule with only toPorts.",
    description=f"""{_MEANING} {_NAMESPACES} A peer that pairs such a selector with a
    `podSelector` is still "pods with these labels in every namespace", except DNS
    (MCP-NET-007). {_BLOCKS}. Narrow private CIDRs such as the API server's `10.0.0.1/32` are
    fine. {_CNI_OPEN}""",
)
def egress_to_all(ctx: Context) -> Iterator[Hit]:
    yield from _open(ctx, "Egress", egress_to_all)
    for rules in ctx.shared(cni.egress_rules):
        yield from _cni_open(rules, egress_to_all, False)


def _cni_open(rules: list[cni.EgressRule], open_rule: Rule, ingress: bool) -> Iterator[Hit]:
    """MCP-NET-003/004 in one Cilium or GKE policy: what opens every source or destination,
    and its CIDRs judged as ipBlocks (per CIDR, per rule, over the policy)."""
    flagged = False
    for r in rules:
        rule_flagged = bool(r.open)
        yield from (hit(open_rule, r.doc, path, why) for path, why in r.open)
        for path, key in r.blocks:
            wide = _blocks_wide((key,), ingress)
            if wide:
                rule_flagged = True
                yield hit(open_rule, r.doc, path,
                          f"{r.what} allows CIDR {key[0]}, which covers {wide} without "
                          "excepting it")
        wide = "" if rule_flagged else _blocks_wide(tuple(k for _, k in r.blocks), ingress)
        if wide:
            rule_flagged = True
            yield hit(open_rule, r.doc, r.path,
                      f"{r.what} has CIDRs that together cover {wide}")
        flagged = flagged or rule_flagged
    keys = tuple(k for r in rules for _, k in r.blocks)
    wide = "" if flagged or not rules else _blocks_wide(keys, ingress)
    if wide:
        doc = rules[0].doc
        yield hit(open_rule, doc, "spec", f"{doc.get('kind')} {name_of(doc)} "
                  f"{'ingress' if ingress else 'egress'} "
                  f"rules have CIDRs that together cover {wide}")


@rule(
    "MCP-NET-005", P, "high", "ipBlock reaches the cloud metadata service",
    kinds=["NetworkPolicy", *cni.KINDS],
    fix="Except all of 169.254.0.0/16 and 168.63.129.16/32 (IPv4), fe80::/10 and fc00::/7 (or "
    "fd00:ec2::254/128 and fd20:ce::254/128) (IPv6) in every ipBlock that contains them; "
    "allow a node-local service (NodeLocal DNSCache) by its own /32. In Cilium and GKE "
    "policies the same for toCIDR/toCIDRSet, and no toEntities world/host/remote-node nor "
    "host names under .internal.",
    description=f"""Flags an egress `ipBlock` wider than one address whose admitted addresses
    touch 169.254.0.0/16 (IMDS 169.254.169.254, the ECS and EKS credential agents
    169.254.170.2 and 169.254.170.23), fe80::/10, fd00:ec2::254, fd20:ce::254 or the Azure
    WireServer 168.63.129.16, whatever the `except` list spells: excepting
    169.254.169.254/32 alone is not enough. A single-address block is flagged only when it is
    one of those credential endpoints, so NodeLocal DNSCache (`169.254.20.10/32`) may be
    allowed by its address. NetworkPolicy cannot stop host-network traffic; block IMDS at the
    node too (IMDSv2, hop limit 1). {_CNI_METADATA}""",
)
def metadata(ctx: Context) -> Iterator[Hit]:
    for policy, path, peers_key, what, item in _sections(ctx, "Egress"):
        for pi, peer in enumerate(as_list(item.get(peers_key))):
            key = _block_key(as_dict(peer))
            reached = _metadata_reached(key) if key is not None else []
            if key is not None and reached and not _dns_to_resolver(
                    key, _dns_only(item.get("ports"))):
                yield hit(metadata, policy, f"{path}.{peers_key}[{pi}].ipBlock",
                          f"{what} ipBlock {key[0]} reaches addresses in "
                          f"{', '.join(str(r) for r in reached)} (cloud metadata or "
                          "credential endpoints) that its except does not remove")
    for rules in ctx.shared(cni.egress_rules):
        for r in rules:
            for path, key in r.blocks:
                reached = _metadata_reached(key)
                if reached and not _dns_to_resolver(key, r.dns_only):
                    yield hit(metadata, r.doc, path,
                              f"{r.what} CIDR {key[0]} reaches addresses in "
                              f"{', '.join(str(n) for n in reached)} (cloud metadata or "
                              "credential endpoints) that its except does not remove")
            yield from (hit(metadata, r.doc, path, why) for path, why in r.metadata)


@rule(
    "MCP-NET-006", P, "medium", "Ingress rule without port restriction",
    kinds=["NetworkPolicy", POD_SPEC],
    fix="List the server port under 'ports' in every ingress rule (a protocol without a port, "
    "or an endPort range covering 1-65535, opens every port).",
    description=_PORTS,
)
def ingress_all_ports(ctx: Context) -> Iterator[Hit]:
    return _every_port(ctx, "Ingress", ingress_all_ports)


@rule(
    "MCP-NET-007", P, "medium", "DNS egress to matching pods in every namespace",
    kinds=["NetworkPolicy"],
    fix="Select the DNS namespace as well: namespaceSelector matchLabels "
    "kubernetes.io/metadata.name: kube-system together with podSelector k8s-app: kube-dns.",
    description="""Egress on port 53 only to selected pods (e.g. `k8s-app: kube-dns`) in
    every namespace: a pod with that label in any namespace receives the queries; pin the
    namespace with `kubernetes.io/metadata.name: kube-system`.""",
)
def dns_all_namespaces(ctx: Context) -> Iterator[Hit]:
    for policy, path, peers_key, what, item in _sections(ctx, "Egress"):
        for pi, peer in enumerate(as_list(item.get(peers_key))):
            p = as_dict(peer)
            if _all_namespaces(p) and _dns_peer(p, item):
                yield hit(dns_all_namespaces, policy, f"{path}.{peers_key}[{pi}]",
                          f"{what} allows DNS to pods selected by "
                          f"{_show(p.get('podSelector'))} in every namespace: any namespace "
                          "can run such a pod and answer")


@rule(
    "MCP-NET-008", P, "medium", "Egress rule without port restriction",
    kinds=["NetworkPolicy", POD_SPEC],
    fix="List the destination ports under 'ports' in every egress rule (e.g. TCP 443, UDP/TCP "
    "53); never a protocol without a port or an endPort range covering 1-65535.",
    description=_PORTS,
)
def egress_all_ports(ctx: Context) -> Iterator[Hit]:
    return _every_port(ctx, "Egress", egress_all_ports)


def _together(
    w: Workload, group: _Group, selecting: list[_Policy], ptype: str, rule: Rule
) -> Iterator[Hit]:
    """Allow rules add up: the ipBlocks of every policy selecting a pod, judged as one set."""
    parts = [p for p in selecting if ptype in p.types and p.reach.get(ptype)]
    names = [*group.names.get(ptype, ()), *(name_of(p.doc) for p in parts)]
    if len(names) < 2 or group.wide.get(ptype) or any(p.wide.get(ptype) for p in parts):
        return  # one policy alone is judged (and reported) on its own
    reach = [*group.reach.get(ptype, ()), *(n for p in parts for n in p.reach[ptype])]
    wide = _wide(reach, ptype == "Ingress")
    if wide:
        yield hit(rule, w.doc, w.template_meta_path + ".labels",
                  f"{w.kind} {w.name}: the {ptype.lower()} ipBlocks of NetworkPolicies "
                  f"{', '.join(sorted(names))}, which all select it, together cover {wide}")


@rule(
    "MCP-NET-009", P, "high", "Network policy the checker cannot judge",
    kinds=["NetworkPolicy", "GlobalNetworkPolicy", "ClusterNetworkPolicy",
           "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"],
    fix="Review what the policy allows and denies for the pods it selects by hand, then skip "
    "this finding with a reason (mcp-scaffold.io/skip: MCP-NET-009=<reason>), or express it "
    "as a Kubernetes or Cilium NetworkPolicy.",
    description="""Fail closed: a policy kind that can select the workloads and that the
    network model does not read is reported by name, since it may open (Calico, Antrea,
    AdminNetworkPolicy `Allow`) or close what the other rules judge. Kinds judged: the
    Kubernetes `networking.k8s.io` NetworkPolicy, Cilium `cilium.io` CiliumNetworkPolicy and
    CiliumClusterwideNetworkPolicy, GKE `networking.gke.io` FQDNNetworkPolicy. Reported: any
    other `*NetworkPolicy` kind, whatever its group (Calico `projectcalico.org` NetworkPolicy
    and GlobalNetworkPolicy, Antrea `crd.antrea.io` NetworkPolicy and ClusterNetworkPolicy,
    `policy.networking.k8s.io` AdminNetworkPolicy and BaselineAdminNetworkPolicy), when it is
    cluster-scoped or in a namespace that holds a workload of the input. In the Cilium
    policies read: a `cidrGroupRef` to a CiliumCIDRGroup not in the input, `toServices` to a
    Service not in the input (or selector-less without EndpointSlices or Endpoints in it, or
    by `k8sServiceSelector`), and `toGroups`/`fromGroups`.""",
)
def unjudged_policy(ctx: Context) -> Iterator[Hit]:
    namespaces = {w.namespace for w in ctx.workloads}
    if not namespaces:
        return
    for doc in ctx.documents:
        why = netkinds.unread(doc)
        if why and (not namespace_of(doc) or namespace_of(doc) in namespaces):
            yield hit(unjudged_policy, doc, "spec",
                      f"{why} {name_of(doc)}: the checker cannot judge what it allows or "
                      "denies for the pods it can select; review, or skip with a reason")
    for rules in (*ctx.shared(cni.egress_rules), *ctx.shared(cni.ingress_rules)):
        for r in rules:
            for path, why in r.unjudged:
                yield hit(unjudged_policy, r.doc, path,
                          f"{why}: the checker cannot judge it; review, or skip with a reason")
