"""Which network policy kinds the network model reads, and which it cannot judge.

A policy the model does not read can still change what a pod may reach: a Calico
``projectcalico.org/v3 NetworkPolicy`` with a narrow ``selector`` allows or denies traffic
by its own language, an AdminNetworkPolicy ``Allow`` wins over every NetworkPolicy. Reading
such an object as nothing (or, worse, as a Kubernetes NetworkPolicy because the kind is
spelled the same) passes a pod that is open. So every kind that can select pods and is not
read is a finding naming it (MCP-NET-009): "cannot judge; review, or skip with a reason".
"""

from __future__ import annotations

from .model import KIND_GROUPS, Doc, group_of

# (group, kind) of every policy kind the model reads (scaffold/policy/network.py, cni.py).
READ: frozenset[tuple[str, str]] = frozenset({
    (KIND_GROUPS["NetworkPolicy"], "NetworkPolicy"),
    (KIND_GROUPS["CiliumNetworkPolicy"], "CiliumNetworkPolicy"),
    (KIND_GROUPS["CiliumClusterwideNetworkPolicy"], "CiliumClusterwideNetworkPolicy"),
    (KIND_GROUPS["FQDNNetworkPolicy"], "FQDNNetworkPolicy"),
})

# Policy kinds, by their own documentation, that select pods and allow or deny their
# traffic, besides any kind named *NetworkPolicy: Calico (projectcalico.org/v3, and its
# crd.projectcalico.org/v1 storage) GlobalNetworkPolicy and NetworkPolicy
# (docs.tigera.io/calico/latest/reference/resources/), Antrea (crd.antrea.io)
# ClusterNetworkPolicy and NetworkPolicy (antrea.io/docs/main/docs/antrea-network-policy),
# the Kubernetes network-policy-api AdminNetworkPolicy and BaselineAdminNetworkPolicy
# (policy.networking.k8s.io/v1alpha1, network-policy-api.sigs.k8s.io), Cilium's host-less
# CiliumCIDRGroup is data, not a policy, and is not listed.
_POLICY_KINDS = frozenset({
    "NetworkPolicy", "GlobalNetworkPolicy", "ClusterNetworkPolicy", "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy", "StagedNetworkPolicy", "StagedGlobalNetworkPolicy",
    "StagedKubernetesNetworkPolicy",
})


def unread(doc: Doc) -> str:
    """Why ``doc`` is a policy kind the model cannot judge, or '' when it is none (or read).

    Any kind named ``*NetworkPolicy`` (or listed above) in a group the model does not read
    for that kind counts: Calico and Antrea reuse ``NetworkPolicy``, and an old
    ``extensions/v1beta1`` NetworkPolicy is no longer the Kubernetes kind either.
    """
    kind, group = doc.get("kind"), group_of(doc)
    if not isinstance(kind, str) or group is None:
        return ""
    if (group, kind) in READ:
        return ""
    if kind in _POLICY_KINDS or kind.endswith("NetworkPolicy"):
        return f"{kind} of API group {group or 'core'}"
    return ""
