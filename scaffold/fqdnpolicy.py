"""Egress by host name: the host-name check, the objects mcp-scaffold emits for the CNIs that
enforce host names (Cilium `CiliumNetworkPolicy` with `toFQDNs`, GKE Dataplane V2
`FQDNNetworkPolicy`), and the JSON Schemas those objects are verified against.

The schemas describe exactly what the builders below emit, no more: strict (unknown fields
refused), host names checked as whole strings. They were written for mcp-scaffold from the
facts of the upstream definitions, not copied:

- CiliumNetworkPolicy: repo cilium/cilium, path
  pkg/k8s/apis/cilium.io/client/crds/v2/ciliumnetworkpolicies.yaml, commit
  02904c9bb25567e06b55639622528a8b8c829f25 (Apache-2.0). tests/test_fqdn_schemas.py compares
  verdicts with that CRD's own openAPIV3Schema on a corpus.
- FQDNNetworkPolicy (networking.gke.io/v1alpha1): no public copy of the CRD GKE installs
  exists; the fields follow Google's "Control Pod egress traffic using FQDN network policies"
  (https://cloud.google.com/kubernetes-engine/docs/how-to/fqdn-network-policies), summarised in
  shared/reference/gke-fqdnnetworkpolicy.md. Not the archived open-source controller of the
  same kind (GoogleCloudPlatform/gke-fqdnnetworkpolicies-golang), whose `egress[].to[].fqdns[]`
  shape GKE does not read.

A wildcard means the same on both: `*.example.com` is one label under example.com
(api.example.com, not a.b.example.com and not example.com itself). Cilium documents `*` as
"0 or more DNS valid characters" that never cross a `.`; Google documents `*` as one label.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from . import netranges
from .errors import InputError, Problem

CILIUM_API_VERSION = "cilium.io/v2"
CILIUM_KIND = "CiliumNetworkPolicy"
GKE_API_VERSION = "networking.gke.io/v1alpha1"
GKE_KIND = "FQDNNetworkPolicy"

# Cilium's label source for Kubernetes labels, and the label holding a pod's namespace
# (Cilium docs, "Kubernetes" policy examples: "k8s:io.kubernetes.pod.namespace"). Without the
# namespace label a toEndpoints selector only selects pods in the policy's own namespace.
CILIUM_K8S_SOURCE = "k8s:"
CILIUM_NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace"

MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63
# Top-level domains that never name a public API: they resolve inside the cluster or the node
# or to cloud metadata (metadata.google.internal is 169.254.169.254; RFC 6761/6762 localhost
# and local; ICANN's 2024 reservation of internal for private use; arpa holds reverse-lookup
# names, not hosts). Metadata and private ranges must stay unreachable, whatever a name says.
SPECIAL_TLDS = ("arpa", "internal", "local", "localhost")

# The API server evaluates CRD patterns with Go's regexp, where `$` is the end of the text;
# jsonschema evaluates them with Python's re.search, where `$` also matches before a final
# "\n". (?!\n) makes the patterns below whole-string under both.
_END = r"(?!\n)$"
_LABEL = rf"[a-z0-9](?:[-a-z0-9]{{0,{MAX_LABEL_LENGTH - 2}}}[a-z0-9])?"
# The last label holds a letter: "1.2.3.4" is an address, not a name.
_TLD = rf"(?=[-a-z0-9]*[a-z]){_LABEL}"
# At least two labels: a single label ("postgres") is looked up through the cluster's search
# domains, so it names an in-cluster Service, and "*.com" would be a whole top-level domain.
_NAME = rf"(?:{_LABEL}\.)+{_TLD}"
EXACT_PATTERN = rf"^{_NAME}{_END}"
WILDCARD_PATTERN = rf"^\*\.{_NAME}{_END}"
HOST_PATTERN = rf"^(?:\*\.)?{_NAME}{_END}"
SPECIAL_PATTERN = rf"\.(?:{'|'.join(SPECIAL_TLDS)}){_END}"
_HOST_RE = re.compile(HOST_PATTERN)


def _show(text: str) -> str:
    # ASCII-only JSON: a control or look-alike character is shown, never printed raw.
    shown = json.dumps(text)
    return shown if len(shown) <= 70 else shown[:66] + '..."'


# Wildcard-DNS services: every name under them resolves to the address its labels spell
# (nip.io's own page: "10.0.0.1.nip.io maps to 10.0.0.1", dashed "10-0-0-1.nip.io" too;
# sslip.io likewise), so a rule for one of their names is a rule for an address, private and
# metadata ones included. Not public suffixes (the PSL does not list them): named here. The
# CiliumNetworkPolicy's egressDeny closes what this list misses.
WILDCARD_DNS_SERVICES = ("nip.io", "sslip.io", "xip.io", "traefik.me", "lvh.me",
                         "localtest.me")
# Four decimal octets in a row, separated by dots or dashes, inside a name
# (169.254.169.254.nip.io, api-10-0-0-1.sslip.io).
_EMBEDDED_IPV4 = re.compile(r"(?:^|[.-])(?:\d{1,3}[.-]){3}\d{1,3}(?=$|[.-])")


@functools.cache
def _public_suffixes() -> Any:
    # Deferred: the list is read from the package's bundled snapshot (no network) on first use.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=False)  # the private section too: github.io, s3...


def _reach_problem(text: str, name: str, wildcard: bool) -> str | None:
    """What a syntactically good host would reach that an IP rule may not."""
    if _EMBEDDED_IPV4.search(name):
        return (f"{_show(text)} spells an IP address in its labels: wildcard-DNS services"
                " resolve such names to that address; use a cidr rule for a public address")
    for service in WILDCARD_DNS_SERVICES:
        if name == service or name.endswith("." + service):
            return (f"{_show(text)} is under {service}, a wildcard-DNS service that resolves"
                    " names to the address they spell (private and metadata ones too)")
    if wildcard and _public_suffixes().is_public(name):
        return (f"{_show(text)} is a wildcard over {name}, a public suffix (Public Suffix"
                " List): anyone can register a name under it; list the exact hosts")
    return None


def is_wildcard(host: str) -> bool:
    """Whether a host accepted by check_host is a `*.` wildcard."""
    return host.startswith("*.")


def check_host(text: str) -> str | None:
    """None if text is a host name mcp-scaffold enforces egress to, else what is allowed.

    Allowed: an exact DNS name of at least two labels (api.github.com) or a wildcard whose
    `*.` is the whole first label, over at least two labels (*.atlassian.net: one label
    deep). Lowercase letters, digits and hyphens only, each label 1-63 characters not
    starting or ending with a hyphen, at most 253 characters, judged as a whole string.
    Refused rather than normalised, so one host has one spelling in every rule and in
    `check`: upper case, a trailing dot, non-ASCII (internationalised names go in their
    xn-- form). Refused because they are not public API hosts: IP addresses, `*`,
    single-label names, names under .internal, .local, .localhost, .arpa.

    Refused because they reach what IP rules cannot: a wildcard over a public suffix (the
    Public Suffix List, ICANN and private sections: *.co.uk, *.github.io), a name that spells
    an IP address (10.0.0.1.nip.io, 10-0-0-1.sslip.io) and names under wildcard-DNS
    services."""
    if not text:
        return "must be a host name such as api.example.com or a wildcard such as *.example.com"
    if any(not ("!" <= c <= "~") for c in text):
        return (f"{_show(text)} contains a space, control or non-ASCII character: write"
                " internationalised names in their xn-- (punycode) form")
    if text != text.lower():
        return f"{_show(text)}: write host names in lower case: {_show(text.lower())}"
    if text.endswith("."):
        return f"{_show(text)}: drop the trailing dot: {_show(text.rstrip('.'))}"
    if text.strip("*.") == "":
        return (f"{_show(text)} is every host on the internet: list the hosts the server"
                " calls")
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        pass
    else:
        return f"{_show(text)} is an IP address, not a host name: use a cidr rule (address/32)"
    wildcard = is_wildcard(text)
    name = text[2:] if wildcard else text
    if "*" in name:
        return (f"{_show(text)}: a wildcard is only allowed as the whole first label, as in"
                " *.example.com (one label deep, not example.com itself)")
    if len(text) > MAX_HOST_LENGTH:
        return f"{_show(text)} is longer than {MAX_HOST_LENGTH} characters"
    labels = name.split(".")
    for label in labels:
        if not label:
            return f"{_show(text)} has an empty label (two dots, or a leading dot)"
        if len(label) > MAX_LABEL_LENGTH:
            return f"{_show(text)}: label {_show(label)} is longer than {MAX_LABEL_LENGTH} characters"
        if not re.fullmatch(_LABEL, label):
            return (f"{_show(text)}: label {_show(label)} must be letters, digits and '-',"
                    " not starting or ending with '-'")
    if len(labels) < 2:
        if wildcard:
            return (f"{_show(text)} is a whole top-level domain: put at least two labels after"
                    " '*.', as in *.example.com")
        return (f"{_show(text)} is a single-label name, which the cluster's search domains turn"
                " into an in-cluster Service: write the full name (api.example.com), or allow"
                " in-cluster services by their labels under egress")
    if labels[-1].isdigit():
        return f"{_show(text)} ends in a number: an address is not a host name, use a cidr rule"
    if labels[-1] in SPECIAL_TLDS:
        return (f"{_show(text)} is under .{labels[-1]}, which names cluster, node or cloud"
                " metadata addresses (metadata.google.internal is 169.254.169.254), never a"
                " public API: reach in-cluster services by their labels under egress")
    if not _HOST_RE.search(text):  # a backstop: the checks above say why in words
        return f"{_show(text)} is not a host name such as api.example.com or *.example.com"
    return _reach_problem(text, name, wildcard)


# --- builders ----------------------------------------------------------------------------------

HostPorts = tuple[str, Sequence[int]]


# Cilium's CRD allows at most 40 entries in one toPorts[].ports list.
MAX_PORTS = 40

# What a host name may never reach, whatever its DNS answer holds: the ranges every IP rule
# excepts (metadata, link-local, WireServer, private, CGNAT, loopback, ULA). toFQDNs allows
# the addresses in the answer, and a name whose DNS someone else controls
# (169.254.169.254.nip.io, a wildcard's subdomain) can answer with any of them; the
# NetworkPolicy's `except` lists do not limit another policy's allows, which add up. An
# egressDeny rule does: "Any rule inserted here will be denied regardless of the allowed
# egress rules in the 'egress' field" (cilium/cilium CRD ciliumnetworkpolicies.yaml,
# spec.egressDeny; docs.cilium.io "Deny Policies": deny takes precedence over allow). Its
# toCIDR applies only to "connections destined for outside of the cluster and not targeting
# the host" (same CRD, toCIDR), so the DNS rule's kube-dns pods stay reachable.
DENIED_TO_HOSTS: tuple[str, ...] = tuple(
    str(n) for n in netranges.collapse((*netranges.NEVER_REACHABLE, *netranges.PRIVATE)))


def _checked(hosts: Iterable[HostPorts]) -> list[tuple[str, list[int]]]:
    out: list[tuple[str, list[int]]] = []
    problems: list[Problem] = []
    for i, (host, ports) in enumerate(hosts):
        msg = check_host(host) if isinstance(host, str) else "must be a host name (a string)"
        if msg:
            problems.append(Problem(f"externalEgress[{i}].host", msg))
        numbers = [p for p in ports if isinstance(p, int) and not isinstance(p, bool)
                   and 1 <= p <= 65535]
        if not ports or len(numbers) != len(ports) or len(set(numbers)) > MAX_PORTS:
            problems.append(Problem(f"externalEgress[{i}].ports", "must be a non-empty list of"
                                    f" at most {MAX_PORTS} port numbers 1-65535"))
        out.append((host, sorted(set(numbers))))
    if problems:
        raise InputError(problems)
    return out


def _metadata(name: str, namespace: str, labels: Mapping[str, str] | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = dict(sorted(labels.items()))
    return meta


def policy_name(server: str) -> str:
    """metadata.name of the host-name policy of a server (beside its NetworkPolicy `server`)."""
    return f"{server}-fqdn"


def cilium_network_policy(server: str, namespace: str, selector: Mapping[str, str],
                          hosts: Sequence[HostPorts],
                          dns: Sequence[tuple[str, Mapping[str, str]]],
                          labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The CiliumNetworkPolicy letting the pods matched by selector reach hosts, each on its
    TCP ports, and sending their DNS through Cilium's DNS proxy.

    dns: (namespace, pod labels) of every DNS server the pods ask (kube-dns; also the
    node-local-dns pods where NodeLocal DNSCache runs behind a Local Redirect Policy).
    toFQDNs allows only addresses Cilium's DNS proxy saw in an answer, so DNS must pass the
    proxy: that is what the `rules.dns` on the DNS rule does. Its pattern is "*": the
    NetworkPolicy already allows all DNS to those pods (rules add up, so a narrower pattern
    would close nothing), and a narrower one would refuse the search-domain expansions
    (api.github.com.<ns>.svc.cluster.local) a pod's resolver tries first; a refused answer
    can end the lookup."""
    checked = _checked(hosts)
    if not dns:
        raise InputError([Problem("dns", "the pods' DNS servers are needed: toFQDNs allows only"
                                  " addresses Cilium's DNS proxy saw in an answer")])
    dns_rules: list[dict[str, Any]] = [
        {"toEndpoints": [{"matchLabels": {
            CILIUM_NAMESPACE_LABEL: ns,
            **{CILIUM_K8S_SOURCE + k: v for k, v in sorted(pod_labels.items())}}}
            for ns, pod_labels in dns],
         "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"},
                                {"port": "53", "protocol": "TCP"}],
                      "rules": {"dns": [{"matchPattern": "*"}]}}]}]
    # One rule per host, in the order given: toFQDNs may not share a rule with other To*
    # selectors (the CRD's description of toFQDNs says so).
    host_rules = [
        {"toFQDNs": [{"matchPattern": host} if is_wildcard(host) else {"matchName": host}],
         "toPorts": [{"ports": [{"port": str(p), "protocol": "TCP"} for p in ports]}]}
        for host, ports in checked]
    return {
        "apiVersion": CILIUM_API_VERSION,
        "kind": CILIUM_KIND,
        "metadata": _metadata(policy_name(server), namespace, labels),
        "spec": {
            "endpointSelector": {"matchLabels": dict(sorted(selector.items()))},
            "egress": dns_rules + host_rules,
            "egressDeny": [{"toCIDR": list(DENIED_TO_HOSTS)}],
        },
    }


def fqdn_network_policy(server: str, namespace: str, selector: Mapping[str, str],
                        hosts: Sequence[HostPorts],
                        labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The GKE FQDNNetworkPolicy letting the pods matched by selector reach hosts, each on
    its TCP ports. GKE learns the addresses from kube-dns / Cloud DNS itself: no DNS rule
    (the NetworkPolicy's DNS egress still lets the pods ask)."""
    checked = _checked(hosts)
    return {
        "apiVersion": GKE_API_VERSION,
        "kind": GKE_KIND,
        "metadata": _metadata(policy_name(server), namespace, labels),
        "spec": {
            "podSelector": {"matchLabels": dict(sorted(selector.items()))},
            "egress": [
                {"matches": [{"pattern": host} if is_wildcard(host) else {"name": host}],
                 "ports": [{"protocol": "TCP", "port": p} for p in ports]}
                for host, ports in checked],
        },
    }


# --- schemas -----------------------------------------------------------------------------------

_OBJECT_META = {"$ref": "/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
_STRING = {"type": "string"}
# Kubernetes label values (the Cilium CRD states the same pattern and length for matchLabels).
_LABEL_VALUE = {**_STRING, "maxLength": 63,
                "pattern": rf"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?{_END}"}
# A Kubernetes label key: optional DNS-subdomain prefix and '/', then a 1-63 character name.
_LABEL_KEY = (r"(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*/)?"
              r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")


def _object(required: Sequence[str], properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": list(required),
            "properties": properties, **more}


def _array(items: dict[str, Any], max_items: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "minItems": 1, "items": items}
    if max_items is not None:
        out["maxItems"] = max_items
    return out


def _match_labels(key_pattern: str, required: Sequence[str] = ()) -> dict[str, Any]:
    # Never empty: an empty selector selects every pod (of the namespace, or of the cluster).
    return _object(["matchLabels"], {"matchLabels": {
        "type": "object", "minProperties": 1, "required": list(required),
        # "k8s:" + a 253-character prefix + "/" + a 63-character name.
        "propertyNames": {"pattern": f"^{key_pattern}{_END}", "maxLength": 4 + 253 + 1 + 63},
        "additionalProperties": _LABEL_VALUE}})


def _top(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        # Same base URI as kubernetes-validate's schemas (and verify's SecretProviderClass
        # schema), so "/api/_definitions.json" resolves against the same registry.
        "$id": f"https://kubernetes.io/api/{kind.lower()}/{api_version.rsplit('/', 1)[-1]}",
        **_object(["apiVersion", "kind", "metadata", "spec"], {
            "apiVersion": {**_STRING, "enum": [api_version]},
            "kind": {**_STRING, "enum": [kind]},
            # The CRDs say only "object"; the API server checks metadata as any object's.
            "metadata": _OBJECT_META,
            "spec": spec,
        }),
    }


def _port_string() -> dict[str, Any]:
    # Whole-string 1-65535. Cilium's own pattern is anchored only on one side of its "|", so it
    # also takes "99999" and "0" (which Cilium reads as every port); named ports are not emitted.
    return {**_STRING, "pattern": r"^(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}"
                                  rf"|65[0-4][0-9]{{2}}|655[0-2][0-9]|6553[0-5]){_END}",
            "x-allowed": 'a port number 1-65535 written as a string, such as "443"'}


def _host(pattern: str, allowed: str) -> dict[str, Any]:
    # x-allowed: what a refusal should say instead of the regular expression (the same
    # annotation values.schema.json uses); check_host(value) says why in words.
    return {**_STRING, "maxLength": MAX_HOST_LENGTH, "pattern": pattern,
            "not": {"pattern": SPECIAL_PATTERN}, "x-allowed": allowed}


_EXACT = _host(EXACT_PATTERN, "an exact lower-case DNS name of two or more labels, such as"
               " api.example.com")
_WILDCARD = _host(WILDCARD_PATTERN, "a wildcard '*.' over two or more labels, such as"
                  " *.example.com (one label deep)")


def _either(wildcard_key: str, wildcard: dict[str, Any], exact_key: str,
            exact: dict[str, Any]) -> dict[str, Any]:
    # One of two keys, chosen by if/then/else rather than oneOf, so that a refusal names the
    # field and the reason instead of "not valid under any of the given schemas".
    return {"if": {"required": [wildcard_key]},
            "then": _object([wildcard_key], {wildcard_key: wildcard}),
            "else": _object([exact_key], {exact_key: exact})}


@functools.cache
def cilium_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) for the CiliumNetworkPolicy objects cilium_network_policy emits."""
    ports = _array(_object(["port", "protocol"], {
        "port": _port_string(),
        "protocol": {**_STRING, "enum": ["TCP", "UDP", "ANY"]}}), max_items=40)
    fqdn_rule = _object(["toFQDNs", "toPorts"], {
        "toFQDNs": _array(_either("matchPattern", _WILDCARD,
                                  "matchName", _EXACT)),
        "toPorts": _array(_object(["ports"], {"ports": ports}))})
    dns_rule = _object(["toEndpoints", "toPorts"], {
        "toEndpoints": _array(_match_labels(rf"{CILIUM_K8S_SOURCE}{_LABEL_KEY}",
                                            required=[CILIUM_NAMESPACE_LABEL])),
        "toPorts": _array(_object(["ports", "rules"], {
            "ports": _array(_object(["port", "protocol"], {
                "port": {**_STRING, "const": "53"},
                "protocol": {**_STRING, "enum": ["UDP", "TCP", "ANY"]}}), max_items=40),
            "rules": _object(["dns"], {"dns": _array(_object(["matchPattern"], {
                # Every name: see cilium_network_policy for why this is not narrower.
                "matchPattern": {**_STRING, "const": "*"}}))})}))})
    deny_rule = _object(["toCIDR"], {"toCIDR": {
        "type": "array", "const": list(DENIED_TO_HOSTS)}})
    return _top(CILIUM_API_VERSION, CILIUM_KIND, _object(
        ["endpointSelector", "egress", "egressDeny"], {
            "endpointSelector": _match_labels(rf"(?:{CILIUM_K8S_SOURCE})?{_LABEL_KEY}"),
            "egress": _array({"if": {"required": ["toFQDNs"]}, "then": fqdn_rule,
                              "else": dns_rule}),
            "egressDeny": {**_array(deny_rule), "minItems": 1, "maxItems": 1},
        }))


@functools.cache
def gke_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) for the FQDNNetworkPolicy objects fqdn_network_policy emits."""
    rule = _object(["matches", "ports"], {
        "matches": _array(_either("pattern", _WILDCARD, "name", _EXACT)),
        "ports": _array(_object(["protocol", "port"], {
            "protocol": {**_STRING, "enum": ["TCP", "UDP"]},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535}}))})
    return _top(GKE_API_VERSION, GKE_KIND, _object(["podSelector", "egress"], {
        "podSelector": _match_labels(_LABEL_KEY),
        "egress": _array(rule),
    }))


# (kind, apiVersion) -> schema, for verify's validator lookup.
SCHEMAS: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {
    (CILIUM_KIND, CILIUM_API_VERSION): cilium_schema,
    (GKE_KIND, GKE_API_VERSION): gke_schema,
}
