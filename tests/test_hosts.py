"""Egress by host name through the values file: networkPolicy.flavor picks the object that
enforces externalEgress[].host (a CiliumNetworkPolicy or a GKE FQDNNetworkPolicy), verify
checks it against fqdnpolicy's strict schemas, and the plain NetworkPolicy never opens the
host's port to the internet."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scaffold import fqdnpolicy, render, values, verify
from scaffold.errors import ValuesError, VerificationError
from scaffold.render import RenderedFile

from host_support import HOSTILE, hosts
from support import EXAMPLES

BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
HOSTS = [{"host": "api.github.com", "ports": [443]}, {"host": "*.githubassets.com", "ports": [443]},
         {"cidr": "203.0.113.0/24", "ports": [8443]}]


def _values(flavor: str, egress: list[dict[str, Any]] = HOSTS, **more: Any) -> values.Values:
    data = {**copy.deepcopy(BASE), "externalEgress": egress, "networkPolicy": {"flavor": flavor},
            **more}
    return values.validate(data, "test")


def _docs(files: list[RenderedFile]) -> list[dict[str, Any]]:
    return verify.verify(files, "1.33")


@pytest.mark.parametrize(("flavor", "kind", "file"), [
    ("cilium", fqdnpolicy.CILIUM_KIND, "ciliumnetworkpolicy.yaml"),
    ("gke", fqdnpolicy.GKE_KIND, "fqdnnetworkpolicy.yaml")])
def test_the_flavor_emits_its_host_policy(flavor: str, kind: str, file: str) -> None:
    files = render.render(_values(flavor))
    docs = _docs(files)
    assert file in [f.path for f in files]
    kustomization = yaml.safe_load(next(f.text for f in files if f.path == "kustomization.yaml"))
    assert file in kustomization["resources"]
    policy = next(d for d in docs if d["kind"] == kind)
    assert policy["metadata"]["name"] == f"{BASE['name']}-fqdn"
    text = yaml.safe_dump(policy)
    assert "api.github.com" in text and "'*.githubassets.com'" in text
    if flavor == "cilium":
        dns = policy["spec"]["egress"][0]
        assert dns["toEndpoints"][0]["matchLabels"] == {
            "k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}
        assert dns["toPorts"][0]["rules"] == {"dns": [{"matchPattern": "*"}]}
    readme = next(f.text for f in files if f.path == "README.md")
    assert ("DNS proxy" if flavor == "cilium" else "Dataplane V2") in readme


@pytest.mark.parametrize("flavor", ["cilium", "gke"])
def test_the_network_policy_holds_no_rule_for_the_hosts(flavor: str) -> None:
    docs = _docs(render.render(_values(flavor)))
    policy = next(d for d in docs if d["kind"] == "NetworkPolicy"
                  and d["metadata"]["name"] == BASE["name"])
    blocks = [peer["ipBlock"] for rule in policy["spec"]["egress"] for peer in rule["to"]
              if "ipBlock" in peer]
    # Only the cidr rule; nothing opens 443 to an address range, let alone the internet.
    assert [b["cidr"] for b in blocks] == ["203.0.113.0/24"]
    ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}
    assert 443 not in ports


def test_kubernetes_flavor_without_hosts_emits_no_host_policy() -> None:
    files = render.render(_values("kubernetes", [{"cidr": "203.0.113.0/24", "ports": [443]}]))
    assert not {"ciliumnetworkpolicy.yaml", "fqdnnetworkpolicy.yaml"} & {f.path for f in files}


def test_a_flavor_without_hosts_is_a_warning() -> None:
    v = _values("cilium", [{"cidr": "203.0.113.0/24", "ports": [443]}])
    assert [p.key for p in values.warnings(v)] == ["networkPolicy.flavor"]


def test_verify_refuses_a_host_policy_that_breaks_our_schema() -> None:
    files = render.render(_values("cilium"))
    broken = [dataclasses.replace(f, text=f.text.replace("matchName: api.github.com", "matchName: '*'"))
              if f.path == "ciliumnetworkpolicy.yaml" else f for f in files]
    assert broken != files
    with pytest.raises(VerificationError) as exc:
        verify.verify(broken, "1.33")
    text = "\n".join(exc.value.lines())
    assert "CiliumNetworkPolicy/" in text and "matchName" in text
    assert "an exact lower-case DNS name" in text  # the schema's x-allowed, not a regex


@settings(max_examples=60, deadline=None)
@given(host=hosts(), flavor=st.sampled_from(["cilium", "gke"]))
def test_any_valid_host_renders_and_verifies(host: str, flavor: str) -> None:
    docs = _docs(render.render(_values(flavor, [{"host": host, "ports": [443]}])))
    kinds = [d["kind"] for d in docs]
    assert (fqdnpolicy.CILIUM_KIND if flavor == "cilium" else fqdnpolicy.GKE_KIND) in kinds
    assert host in yaml.safe_dump_all(docs, width=1000)


@settings(max_examples=100, deadline=None)
@given(host=hosts(), bad=HOSTILE, where=st.integers(min_value=0))
def test_a_hostile_host_is_refused_at_its_key(host: str, bad: str, where: int) -> None:
    i = where % (len(host) + 1)
    text = host[:i] + bad + host[i:]
    with pytest.raises(ValuesError) as exc:
        _values("cilium", [{"host": text, "ports": [443]}])
    assert "externalEgress[0].host" in {p.key for p in exc.value.problems}
