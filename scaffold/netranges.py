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
CREDENTIAL_ENDPOINTS: tuple[Net, ...] = _nets(
    "169.254.169.254/32", "169.254.170.2/32", "169.254.170.23/32", "fd00:ec2::254/128",
    "fd00:ec2::23/128", "fd20:ce::254/128") + WIRESERVER
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
