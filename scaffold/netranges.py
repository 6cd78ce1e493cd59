"""The address ranges a server must never reach, and set arithmetic over CIDRs.

One definition, used by the values checks and the templates (what `new` excepts) and by the
network rules (what `check` demands). Rules judge sets of addresses, not spellings: two
`/1` blocks are "everyone" just as `0.0.0.0/0` is, and an `except` list counts only for the
addresses it really removes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(*texts: str) -> tuple[Net, ...]:
    return tuple(ipaddress.ip_network(t) for t in texts)


# Cloud metadata and credential endpoints. 169.254.0.0/16 holds AWS/GCP/Azure IMDS
# (169.254.169.254) and the ECS/EKS credential agents (169.254.170.2, 169.254.170.23);
# fd00:ec2::254 is AWS IMDS over IPv6, fd20:ce::254 GCP's; fe80::/10 is IPv6 link-local.
METADATA: tuple[Net, ...] = _nets("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128",
                                  "fd20:ce::254/128")
# Azure WireServer: not link-local, yet it serves the VM agent's configuration (and, on
# older agents, certificates) to anything on the node's network.
WIRESERVER: tuple[Net, ...] = _nets("168.63.129.16/32")
# Never reachable from a server, whatever a rule says.
NEVER_REACHABLE: tuple[Net, ...] = METADATA + WIRESERVER
# The single addresses inside those ranges that hand out credentials or instance identity:
# IMDS (AWS/GCP/Azure/OCI) and its IPv6 forms, the ECS task credentials endpoint
# (169.254.170.2), the EKS Pod Identity agent (169.254.170.23, fd00:ec2::23), WireServer.
# A rule may allow another single address in those ranges (NodeLocal DNSCache's
# 169.254.20.10), never one of these.
# Besides: the GKE metadata server that Workload Identity runs on each node
# (169.254.169.252, port 988), Tencent Cloud's metadata service (169.254.0.23,
# intl.cloud.tencent.com/document/product/213/4934, metadata.tencentyun.com) and Alibaba
# Cloud's (100.100.100.200, alibabacloud.com/help/en/ecs/user-guide/view-instance-metadata;
# it serves RAM role credentials).
ALIBABA_METADATA: tuple[Net, ...] = _nets("100.100.100.200/32")
CREDENTIAL_ENDPOINTS: tuple[Net, ...] = _nets(
    "169.254.169.254/32", "169.254.170.2/32", "169.254.170.23/32", "169.254.169.252/32",
    "169.254.0.23/32", "fd00:ec2::254/128", "fd00:ec2::23/128", "fd20:ce::254/128",
) + WIRESERVER + ALIBABA_METADATA
# What `check` demands no egress rule reach: the never-reachable ranges and Alibaba's
# metadata host, which sits in 100.64.0.0/10 (carrier-grade NAT, excepted as private by the
# generated bases, so `new`'s except lists need no entry of their own for it).
JUDGED_UNREACHABLE: tuple[Net, ...] = NEVER_REACHABLE + ALIBABA_METADATA
# GKE with Cloud DNS points every pod's resolv.conf at 169.254.169.254 (the node's metadata
# server answers DNS there): DNS alone to that address is name resolution, not the
# credential endpoint, which is HTTP on port 80 (issue tektoncd/operator#4000 shows the
# resolv.conf; GKE "Using Cloud DNS for GKE").
CLOUD_DNS_RESOLVER: Net = ipaddress.ip_network("169.254.169.254/32")
# Addresses that are no one's on the internet (IANA special-purpose registries, RFC 6890):
# "this network", IETF protocol assignments, documentation, benchmarking, multicast and the
# reserved 240.0.0.0/4 (broadcast included); IPv6 unspecified, IPv4-mapped, discard-only,
# documentation and multicast. "The internet less these" is still the internet.
BOGONS: tuple[Net, ...] = _nets(
    "0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/128", "::ffff:0:0/96", "100::/64", "2001:db8::/32", "ff00::/8")
# Ranges that hold pods, nodes, services and loopback on common clusters: "the internet"
# (0.0.0.0/0, ::/0) excepts them.
PRIVATE: tuple[Net, ...] = _nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                 "100.64.0.0/10", "127.0.0.0/8", "fc00::/7", "::1/128")
INTERNET: tuple[Net, ...] = _nets("0.0.0.0/0", "::/0")


def parse(text: object) -> Net | None:
    """The network a CIDR text names (host bits ignored, as the API server's reading of an
    ipBlock does not depend on them), or None when it is not a CIDR."""
    if not isinstance(text, str) or "/" not in text:
        return None
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def collapse(nets: Iterable[Net]) -> list[Net]:
    """The smallest list of CIDRs covering exactly the union of ``nets`` (both families)."""
    items = list(nets)
    v4 = [n for n in items if n.version == 4]
    v6 = [n for n in items if n.version == 6]
    return [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]


def subtract(net: Net, excepts: Iterable[Net]) -> list[Net]:
    """``net`` less every address in ``excepts``, as collapsed CIDRs (an ipBlock's reach)."""
    remaining: list[Net] = [net]
    for exc in excepts:
        if exc.version != net.version:
            continue
        nxt: list[Net] = []
        for piece in remaining:
            if not piece.overlaps(exc):
                nxt.append(piece)
            elif piece.subnet_of(exc):  # type: ignore[arg-type]
                continue
            else:  # exc lies inside piece
                nxt.extend(piece.address_exclude(exc))  # type: ignore[arg-type]
        remaining = nxt
    return collapse(remaining)


def covers(reach: Iterable[Net], target: Net) -> bool:
    """Whether the union of ``reach`` contains every address of ``target``.

    After collapsing, a union that contains an aligned block contains it inside one of the
    collapsed blocks (collapsing merges every pair of sibling blocks)."""
    return any(n.version == target.version and target.subnet_of(n)  # type: ignore[arg-type]
               for n in collapse(reach))


def touches(reach: Iterable[Net], target: Net) -> bool:
    """Whether the union of ``reach`` contains any address of ``target``."""
    return any(n.version == target.version and n.overlaps(target)
               for n in reach)


def internet_excepts(net: Net) -> list[Net]:
    """What an egress ipBlock for ``net`` must except: every never-reachable range inside it
    and, when it reaches a whole private range (0.0.0.0/0, two /1s...), the private ranges."""
    blocked = list(NEVER_REACHABLE)
    if any(p.version == net.version and p.subnet_of(net) for p in PRIVATE):  # type: ignore[arg-type]
        blocked += PRIVATE
    out = [b for b in blocked if b.version == net.version and b != net
           and b.subnet_of(net)]  # type: ignore[arg-type]
    out.sort(key=lambda n: (int(n.network_address), n.prefixlen))
    return out
