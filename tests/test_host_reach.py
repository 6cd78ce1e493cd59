"""Host rules cannot reach what IP rules cannot: names that spell an address, wildcard-DNS
services and wildcards over public suffixes are refused at their key; the CiliumNetworkPolicy
denies metadata, link-local and private ranges whatever a DNS answer holds."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from typing import Any

import pytest
import yaml

from scaffold import fqdnpolicy, netranges, render, values
from scaffold.errors import ValuesError

DIGEST = "sha256:" + "a" * 64
BASE: dict[str, Any] = {
    "name": "h", "namespace": "mcp-x", "image": f"registry.example.com/x:1@{DIGEST}",
    "port": 8080, "ingress": {"namespace": "ingress-nginx"},
    "networkPolicy": {"flavor": "cilium"},
}

REFUSED = ["169.254.169.254.nip.io", "10.0.0.1.nip.io", "10-0-0-1.sslip.io",
           "api-192-168-1-1.example.com", "*.nip.io", "*.sslip.io", "x.nip.io", "*.co.uk",
           "*.com.au", "*.github.io", "*.s3.amazonaws.com", "printer.local"]


@pytest.mark.parametrize("host", REFUSED)
def test_a_host_that_reaches_what_ip_rules_cannot_is_refused_at_its_key(host: str) -> None:
    raw = {**BASE, "externalEgress": [{"host": host, "ports": [443]}]}
    with pytest.raises(ValuesError) as exc:
        values.validate(raw, "test")
    assert [p.key for p in exc.value.problems] == ["externalEgress[0].host"]


@pytest.mark.parametrize("host", ["api.github.com", "*.atlassian.net", "*.amazonaws.com",
                                  "v1-2-3.example.com", "a.b"])
def test_ordinary_hosts_pass(host: str) -> None:
    assert fqdnpolicy.check_host(host) is None


def test_the_public_suffix_list_is_read_offline() -> None:
    # No socket can be opened: the bundled snapshot is all the check reads.
    code = ("import socket\n"
            "def refuse(*a, **k):\n    raise OSError('network used')\n"
            "socket.socket = refuse; socket.create_connection = refuse\n"
            "socket.getaddrinfo = refuse\n"
            "from scaffold.fqdnpolicy import check_host\n"
            "assert check_host('*.co.uk') and 'public suffix' in check_host('*.co.uk')\n"
            "assert check_host('*.example.co.uk') is None\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr


def _cnp(raw: dict[str, Any]) -> dict[str, Any]:
    for f in render.render(values.validate(raw, "test")):
        for doc in yaml.safe_load_all(f.text):
            if doc and doc.get("kind") == "CiliumNetworkPolicy":
                return dict(doc)
    raise AssertionError("no CiliumNetworkPolicy")


def test_the_cilium_policy_denies_metadata_and_private_ranges() -> None:
    cnp = _cnp({**BASE, "externalEgress": [{"host": "api.github.com", "ports": [443]}]})
    deny = cnp["spec"]["egressDeny"]
    nets = [ipaddress.ip_network(c) for rule in deny for c in rule["toCIDR"]]
    assert all("toPorts" not in rule for rule in deny)  # every port
    for target in (*netranges.NEVER_REACHABLE, *netranges.PRIVATE):
        assert netranges.covers(nets, target), target
    for address in ("169.254.169.254", "10.0.0.1", "192.168.1.1", "127.0.0.1",
                    "fd00:ec2::254", "168.63.129.16"):
        assert any(ipaddress.ip_address(address) in n for n in nets), address
