"""The rules on the corpus (one hardened bundle, one bundle per rule) and on edge cases."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from scaffold.errors import InputError
from scaffold.policy import PATTERNS, RULES, Finding, evaluate, skips
from scaffold.yamlio import load_all

import corpus

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def test_every_rule_has_a_corpus_case() -> None:
    covered = {rule for rule, _, _ in corpus.CASES.values()}
    assert covered == set(RULES), f"rules without a case: {set(RULES) - covered}"


def test_rule_metadata_is_complete() -> None:
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule.pattern in PATTERNS
        assert rule.severity in ("high", "medium", "low")
        assert rule.title and rule.fix.endswith(".")


def test_hardened_bundle_is_clean() -> None:
    assert evaluate(corpus.build(corpus.HARDENED)) == []


@pytest.mark.parametrize("case", list(corpus.CASES))
def test_case_flags_its_rule_and_only_its_pattern(case: str) -> None:
    rule, _, _ = corpus.CASES[case]
    findings = evaluate(corpus.build(case))
    assert rule in {f.rule for f in findings}, findings
    assert {f.pattern for f in findings} == {RULES[rule].pattern}, findings
    for f in findings:
        assert f.fix and f.message and f.path and f.kind and f.name
        assert f.suppressed is None


@pytest.mark.parametrize("case", corpus.all_cases())
def test_corpus_files_are_current(case: str) -> None:
    stored = corpus.CORPUS / case / "manifests.yaml"
    assert stored.read_text(encoding="utf-8") == corpus.render(case), (
        "corpus out of date: run python tests/policy/corpus.py"
    )
    assert load_all(stored.read_text(encoding="utf-8"), str(stored)) == corpus.build(case)


def _example_bases() -> list[Path]:
    return sorted(p.parent for p in EXAMPLES.glob("*/kustomization.yaml"))


@pytest.mark.parametrize("base", _example_bases(), ids=lambda p: p.name)
def test_example_bases_are_clean(base: Path) -> None:
    docs: list[dict[str, Any]] = []
    for file in sorted(base.glob("*.yaml")):
        docs += [d for d in load_all(file.read_text(encoding="utf-8"), str(file))
                 if isinstance(d, dict) and "apiVersion" in d]
    assert evaluate(docs) == []


# ---- targeted behaviour ---------------------------------------------------------------------

def _docs() -> list[dict[str, Any]]:
    return corpus.build(corpus.HARDENED)


def _kind(docs: list[dict[str, Any]], kind: str, index: int = 0) -> dict[str, Any]:
    return [d for d in docs if d["kind"] == kind][index]


def _pod(docs: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = _kind(docs, "Deployment")["spec"]["template"]["spec"]
    return spec


def _egress(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = _kind(docs, "NetworkPolicy", 1)["spec"]["egress"]
    return rules


def _rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def test_finding_is_frozen() -> None:
    finding = evaluate(corpus.build("img-001"))[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.rule = "x"  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(Finding)] == [
        "rule", "pattern", "severity", "kind", "name", "namespace", "path", "message", "fix",
        "suppressed",
    ]


def test_api_server_egress_with_projected_token_is_allowed() -> None:
    docs = _docs()
    assert any("projected" in v for v in _pod(docs)["volumes"])
    assert {"ipBlock": {"cidr": "10.0.0.1/32"}} in _egress(docs)[2]["to"]
    assert evaluate(docs) == []


def test_ipv6_metadata_needs_an_except() -> None:
    docs = _docs()
    _egress(docs)[3]["to"][1]["ipBlock"]["except"] = ["fe80::/10"]
    findings = evaluate(docs)
    assert _rules(findings) == {"MCP-NET-004", "MCP-NET-005"}
    assert any("fd00:ec2::254" in f.message for f in findings)


def test_metadata_except_as_slash_32_is_enough() -> None:
    docs = _docs()
    _egress(docs)[3]["to"][0]["ipBlock"]["except"] = [
        "169.254.169.254/32", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]
    assert evaluate(docs) == []


def test_link_local_cidr_reaching_metadata_is_flagged() -> None:
    docs = _docs()
    _egress(docs)[1]["to"][0]["ipBlock"]["cidr"] = "169.254.0.0/16"
    assert _rules(evaluate(docs)) == {"MCP-NET-005"}


def test_wide_private_cidr_is_all_destinations() -> None:
    docs = _docs()
    _egress(docs)[2]["to"][0]["ipBlock"]["cidr"] = "10.0.0.0/8"
    assert _rules(evaluate(docs)) == {"MCP-NET-004"}


def test_policy_in_another_namespace_does_not_isolate() -> None:
    docs = _docs()
    for policy in [d for d in docs if d["kind"] == "NetworkPolicy"]:
        policy["metadata"]["namespace"] = "elsewhere"
    assert _rules(evaluate(docs)) == {"MCP-NET-001", "MCP-NET-002"}


def test_match_expressions_select_the_pod() -> None:
    docs = _docs()
    policy = _kind(docs, "NetworkPolicy", 1)
    docs.remove(_kind(docs, "NetworkPolicy", 0))  # the default-deny selects every pod
    name = policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
    policy["spec"]["podSelector"] = {"matchExpressions": [
        {"key": "app.kubernetes.io/name", "operator": "In", "values": [name]}]}
    assert evaluate(docs) == []
    policy["spec"]["podSelector"]["matchExpressions"][0]["operator"] = "NotIn"
    assert _rules(evaluate(docs)) == {"MCP-NET-001", "MCP-NET-002"}


def test_sysctl_allowed_depends_on_version() -> None:
    docs = _docs()
    _pod(docs)["securityContext"]["sysctls"] = [{"name": "net.ipv4.tcp_rmem", "value": "1"}]
    assert evaluate(docs, "1.32") == []
    assert _rules(evaluate(docs, "1.31")) == {"MCP-PSS-011"}


def test_selinux_container_engine_t_from_1_31() -> None:
    docs = _docs()
    _pod(docs)["securityContext"]["seLinuxOptions"] = {"type": "container_engine_t"}
    assert evaluate(docs, "1.31") == []
    assert _rules(evaluate(docs, "1.30")) == {"MCP-PSS-008"}


def test_user_namespace_relaxes_run_as_checks_from_1_35() -> None:
    docs = _docs()
    pod = _pod(docs)
    pod["hostUsers"] = False
    pod["containers"][0]["securityContext"]["runAsUser"] = 0
    assert evaluate(docs, "1.35") == []
    assert _rules(evaluate(docs, "1.34")) == {"MCP-PSS-016", "MCP-PSS-017"}


def test_init_and_ephemeral_containers_are_checked() -> None:
    docs = _docs()
    pod = _pod(docs)
    init = copy.deepcopy(pod["containers"][0])
    init.update(name="init", image="busybox:1.36")
    del init["readinessProbe"], init["livenessProbe"]
    pod["initContainers"] = [init]
    assert _rules(evaluate(docs)) == {"MCP-IMG-001"}  # probes are not required of init
    debug = {"name": "debug", "image": f"busybox:1.36@{corpus.DIGEST}",
             "imagePullPolicy": "Always", "securityContext": {"privileged": True}}
    pod["ephemeralContainers"] = [debug]
    assert "MCP-PSS-002" in _rules(evaluate(docs))


def test_pod_level_security_context_is_enough_for_pss() -> None:
    docs = _docs()
    sc = _pod(docs)["containers"][0]["securityContext"]
    for key in ("runAsNonRoot", "runAsUser", "runAsGroup", "seccompProfile"):
        del sc[key]
    assert evaluate(docs) == []


def test_other_workload_kinds() -> None:
    docs = _docs()
    deployment = _kind(docs, "Deployment")
    template = deployment["spec"]["template"]
    cron = {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {**deployment["metadata"], "name": "nightly"},
            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {
                "template": copy.deepcopy(template)}}}}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {**copy.deepcopy(template["metadata"]),
                        "name": "single", "namespace": deployment["metadata"]["namespace"]},
           "spec": copy.deepcopy(template["spec"])}
    cron_spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    del cron_spec["containers"][0]["readinessProbe"]  # jobs need no probes
    assert evaluate([*docs, cron, pod]) == []
    pod["spec"]["hostPID"] = True
    cron_spec["automountServiceAccountToken"] = True
    findings = evaluate([*docs, cron, pod])
    assert {(f.kind, f.rule) for f in findings} == {
        ("Pod", "MCP-PSS-001"), ("CronJob", "MCP-RBAC-002")}
    cron_path = next(f.path for f in findings if f.kind == "CronJob")
    assert cron_path.startswith("spec.jobTemplate.spec.template.spec")


def test_rolebinding_to_clusterrole_is_flagged() -> None:
    docs = _docs()
    binding = _kind(docs, "RoleBinding")
    # A ClusterRole neither in the input nor built-in: what it grants cannot be judged.
    binding["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                          "name": "mcp-reader"}
    assert _rules(evaluate(docs)) == {"MCP-RBAC-004"}


def test_credential_heuristics() -> None:
    docs = _docs()
    env = _pod(docs)["containers"][0]["env"]
    env += [{"name": "MAX_TOKENS", "value": "4096"}, {"name": "TOKENIZER", "value": "bpe"},
            {"name": "API_KEY_PATH", "value": "/mnt/secrets/key"},
            {"name": "AUTH_ENABLED", "value": "true"}]
    assert evaluate(docs) == []
    env.append({"name": "OpenAIApiKey", "value": "sk-abc"})
    assert _rules(evaluate(docs)) == {"MCP-SEC-003"}


def test_suppression_annotation() -> None:
    docs = corpus.build("img-004")
    deployment = _kind(docs, "Deployment")
    deployment["metadata"]["annotations"] = {
        "mcp-scaffold.io/skip": "MCP-IMG-004=digest pinned; node cache is trusted\n"}
    findings = evaluate(docs)
    assert [(f.rule, f.suppressed) for f in findings] == [
        ("MCP-IMG-004", "digest pinned; node cache is trusted")]


def test_suppression_needs_a_reason_and_a_known_rule() -> None:
    doc = {"metadata": {"annotations": {"mcp-scaffold.io/skip": "MCP-IMG-004\nMCP-NOPE-1=x"}}}
    found, problems = skips(doc)
    assert found == {}
    assert len(problems) == 2 and "needs a reason" in " ".join(problems)


def test_malformed_objects_do_not_crash() -> None:
    weird: list[Any] = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": None, "spec": "x"},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "spec": {"template": {"spec": {"containers": [None, "x", {"securityContext": []}],
                                        "volumes": ["x", {"emptyDir": None}]}}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "spec": {"egress": [{"to": [{"ipBlock": {"cidr": "not-a-cidr"}}]}], "ingress": "x"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "rules": [None, {}]},
        {"kind": "Secret", "data": []},
        "not a dict",
    ]
    findings = evaluate(weird)
    assert all(isinstance(f, Finding) for f in findings)


def test_bad_kube_version() -> None:
    with pytest.raises(InputError):
        evaluate([], "latest")
    assert evaluate([], "v1.33.2") == []
