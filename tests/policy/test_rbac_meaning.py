"""RBAC rules judge what a binding or rule grants, not how it is spelled: subjects that include
the server through a Group or User, namespace defaults of ServiceAccount subjects, wildcards
and '*/subresource', RoleBindings to ClusterRoles in and out of the input."""

from __future__ import annotations

from typing import Any

import pytest

from scaffold.policy import Finding, evaluate

import corpus

RBAC = "rbac.authorization.k8s.io"
Doc = dict[str, Any]


def _docs() -> list[Doc]:
    return corpus.build(corpus.HARDENED)


def _sa(docs: list[Doc]) -> tuple[str, str]:
    md = next(d for d in docs if d["kind"] == "ServiceAccount")["metadata"]
    return md["namespace"], md["name"]


def _rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def _crb(subject: Doc, role: str = "cluster-admin") -> Doc:
    return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "grant"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": [subject]}


def _rb(namespace: str, subject: Doc, role: str, kind: str = "ClusterRole") -> Doc:
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
            "metadata": {"name": "grant", "namespace": namespace},
            "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role},
            "subjects": [subject]}


def _role(kind: str, name: str, rules: list[Doc], namespace: str | None = None) -> Doc:
    md: Doc = {"name": name}
    if namespace:
        md["namespace"] = namespace
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": md, "rules": rules}


# subject builder (ns, sa) -> subject, and whether it includes the server's ServiceAccount
SUBJECTS = [
    ("sa", lambda ns, sa: {"kind": "ServiceAccount", "name": sa, "namespace": ns}, True),
    ("group-all-sas", lambda ns, sa: {"kind": "Group", "apiGroup": RBAC,
                                      "name": "system:serviceaccounts"}, True),
    ("group-sas-in-ns", lambda ns, sa: {"kind": "Group", "apiGroup": RBAC,
                                        "name": f"system:serviceaccounts:{ns}"}, True),
    ("group-authenticated", lambda ns, sa: {"kind": "Group", "apiGroup": RBAC,
                                            "name": "system:authenticated"}, True),
    ("group-unauthenticated", lambda ns, sa: {"kind": "Group", "apiGroup": RBAC,
                                              "name": "system:unauthenticated"}, True),
    ("user-sa", lambda ns, sa: {"kind": "User", "apiGroup": RBAC,
                                "name": f"system:serviceaccount:{ns}:{sa}"}, True),
    ("user-anonymous", lambda ns, sa: {"kind": "User", "apiGroup": RBAC,
                                       "name": "system:anonymous"}, True),
    ("user-unauthenticated", lambda ns, sa: {"kind": "User", "apiGroup": RBAC,
                                             "name": "system:unauthenticated"}, True),
    ("group-sas-other-ns", lambda ns, sa: {"kind": "Group", "apiGroup": RBAC,
                                           "name": "system:serviceaccounts:other"}, False),
    ("user-sa-other-ns", lambda ns, sa: {"kind": "User", "apiGroup": RBAC,
                                         "name": f"system:serviceaccount:other:{sa}"}, False),
    ("user-other-sa", lambda ns, sa: {"kind": "User", "apiGroup": RBAC,
                                      "name": f"system:serviceaccount:{ns}:someone"}, False),
    ("user-person", lambda ns, sa: {"kind": "User", "apiGroup": RBAC, "name": "alice"}, False),
    ("group-masters", lambda ns, sa: {"kind": "Group", "apiGroup": RBAC,
                                      "name": "system:masters"}, False),
    ("sa-other-ns", lambda ns, sa: {"kind": "ServiceAccount", "name": sa,
                                    "namespace": "other"}, False),
]


@pytest.mark.parametrize(("form", "subject", "includes"), SUBJECTS, ids=[s[0] for s in SUBJECTS])
def test_cluster_admin_through_any_subject_form(form: str, subject: Any, includes: bool) -> None:
    docs = _docs()
    docs.append(_crb(subject(*_sa(docs))))
    findings = [f for f in evaluate(docs) if f.rule == "MCP-RBAC-004"]
    assert bool(findings) is includes, findings
    assert all(f.severity == "high" and f.path == "subjects[0]" for f in findings)


def test_service_account_subject_namespace_defaults_to_the_rolebinding_only() -> None:
    docs = _docs()
    ns, sa = _sa(docs)
    subject = {"kind": "ServiceAccount", "name": sa}  # no namespace
    # RoleBinding: the subject is in the binding's namespace.
    assert _rules(evaluate([*docs, _rb(ns, subject, "mcp-reader")])) == {"MCP-RBAC-004"}
    assert evaluate([*docs, _rb("other", subject, "mcp-reader")]) == []
    # ClusterRoleBinding: a ServiceAccount subject must name its namespace; without one it
    # matches nobody (the API refuses it), whatever the binding's metadata says.
    crb = _crb(subject)
    crb["metadata"]["namespace"] = ns
    assert evaluate([*docs, crb]) == []


def test_rolebinding_to_a_cluster_role_in_the_input_is_judged_by_its_rules() -> None:
    docs = _docs()
    ns, sa = _sa(docs)
    subject = {"kind": "ServiceAccount", "name": sa, "namespace": ns}
    reader = _role("ClusterRole", "mcp-reader", [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["x"],
         "verbs": ["get"]}])
    assert evaluate([*docs, reader, _rb(ns, subject, "mcp-reader")]) == []
    reader["rules"].append({"apiGroups": [""], "resources": ["secrets"],
                            "resourceNames": ["x"], "verbs": ["get"]})
    findings = evaluate([*docs, reader, _rb(ns, subject, "mcp-reader")])
    assert {(f.kind, f.rule) for f in findings} == {("ClusterRole", "MCP-RBAC-006")}
    # The same ClusterRole bound cluster-wide is flagged on the binding as well.
    findings = evaluate([*docs, reader, _crb(subject, "mcp-reader")])
    assert {(f.kind, f.rule) for f in findings} == {
        ("ClusterRole", "MCP-RBAC-006"), ("ClusterRoleBinding", "MCP-RBAC-004")}


@pytest.mark.parametrize(("role", "expected"), [
    ("cluster-admin", {"MCP-RBAC-005", "MCP-RBAC-006", "MCP-RBAC-007", "MCP-RBAC-008",
                       "MCP-RBAC-009", "MCP-RBAC-010", "MCP-RBAC-011"}),
    ("admin", {"MCP-RBAC-006", "MCP-RBAC-007", "MCP-RBAC-008", "MCP-RBAC-009",
               "MCP-RBAC-010"}),
    ("edit", {"MCP-RBAC-006", "MCP-RBAC-007", "MCP-RBAC-008", "MCP-RBAC-009",
              "MCP-RBAC-010"}),
    ("view", {"MCP-RBAC-010"}),
    ("some-custom-role", {"MCP-RBAC-004"}),
])
def test_rolebinding_to_a_cluster_role_not_in_the_input(role: str, expected: set[str]) -> None:
    docs = _docs()
    ns, sa = _sa(docs)
    findings = evaluate([*docs, _rb(ns, {"kind": "ServiceAccount", "name": sa}, role)])
    assert _rules(findings) == expected
    assert {f.kind for f in findings} == {"RoleBinding"}


def test_aggregated_cluster_role_cannot_be_judged_from_the_input() -> None:
    docs = _docs()
    ns, sa = _sa(docs)
    aggregated = _role("ClusterRole", "mcp-aggregated", [])
    aggregated["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]}
    findings = evaluate([*docs, aggregated,
                         _rb(ns, {"kind": "ServiceAccount", "name": sa}, "mcp-aggregated")])
    assert _rules(findings) == {"MCP-RBAC-004"}
    assert "aggregat" in findings[0].message


@pytest.mark.parametrize(("rule", "expected"), [
    # resources '*' in the core group includes secrets and every subresource
    ({"apiGroups": [""], "resources": ["*"], "resourceNames": ["x"], "verbs": ["get"]},
     {"MCP-RBAC-005", "MCP-RBAC-006", "MCP-RBAC-007"}),
    ({"apiGroups": ["*"], "resources": ["secrets"], "resourceNames": ["x"], "verbs": ["get"]},
     {"MCP-RBAC-005", "MCP-RBAC-006"}),
    # secrets are core-group objects: the same name in another group is not them
    ({"apiGroups": ["apps"], "resources": ["secrets"], "resourceNames": ["x"],
      "verbs": ["get"]}, set()),
    # RBAC compares exactly: 'Secrets' and 'GET' grant nothing
    ({"apiGroups": [""], "resources": ["Secrets"], "resourceNames": ["x"], "verbs": ["get"]},
     set()),
    ({"apiGroups": [""], "resources": ["*/proxy"], "resourceNames": ["x"], "verbs": ["get"]},
     {"MCP-RBAC-005", "MCP-RBAC-007"}),
    ({"apiGroups": [""], "resources": ["*/exec"], "resourceNames": ["x"], "verbs": ["create"]},
     {"MCP-RBAC-005", "MCP-RBAC-007", "MCP-RBAC-008"}),
    ({"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "resourceNames": ["x"],
      "verbs": ["patch"]}, {"MCP-RBAC-007", "MCP-RBAC-008"}),
    # verbs '*' is every verb: writes, escalation, reads
    ({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["x"], "verbs": ["*"]},
     {"MCP-RBAC-005", "MCP-RBAC-008", "MCP-RBAC-009"}),
    ({"apiGroups": [""], "resources": ["serviceaccounts/token"], "resourceNames": ["x"],
      "verbs": ["create"]}, {"MCP-RBAC-008", "MCP-RBAC-011"}),
    ({"apiGroups": [""], "resources": ["serviceaccounts/token"], "resourceNames": ["x"],
      "verbs": ["get"]}, set()),
    ({"apiGroups": [""], "resources": ["*/token"], "resourceNames": ["x"], "verbs": ["*"]},
     {"MCP-RBAC-005", "MCP-RBAC-008", "MCP-RBAC-009", "MCP-RBAC-011"}),
])
def test_role_rules_by_meaning(rule: Doc, expected: set[str]) -> None:
    docs = _docs()
    ns, _ = _sa(docs)
    assert _rules(evaluate([*docs, _role("Role", "extra", [rule], ns)])) == expected


@pytest.mark.parametrize(("urls", "expected"), [
    (["/healthz", "/version"], set()),
    (["*"], {"MCP-RBAC-005"}),
    (["/api/*"], {"MCP-RBAC-005"}),
])
def test_non_resource_urls(urls: list[str], expected: set[str]) -> None:
    docs = _docs()
    role = _role("ClusterRole", "urls", [{"nonResourceURLs": urls, "verbs": ["get"]}])
    assert _rules(evaluate([*docs, role])) == expected


def test_rolebinding_to_a_role_not_in_the_input_is_unjudgeable() -> None:
    docs = _docs()
    ns, _ = _sa(docs)
    role = next(d for d in docs if d["kind"] == "Role")
    without = [d for d in docs if d is not role]
    findings = evaluate(without)
    assert _rules(findings) == {"MCP-RBAC-004"}
    assert findings[0].kind == "RoleBinding" and findings[0].path == "roleRef"
    assert f"Role {role['metadata']['name']!r}" in findings[0].message
    assert "not in the input" in findings[0].message
    # A Role of that name in another namespace is not the one the binding names.
    moved = {**role, "metadata": {**role["metadata"], "namespace": "elsewhere"}}
    assert _rules(evaluate([*without, moved])) == {"MCP-RBAC-004"}
    # A binding whose subjects are not the server's is none of its business.
    other = {"kind": "ServiceAccount", "name": "someone-else", "namespace": ns}
    lone = _rb(ns, other, "absent", kind="Role")
    assert evaluate([*docs, lone]) == []


@pytest.mark.parametrize("rules", [[], [{"apiGroups": [""], "resources": ["pods"],
                                         "verbs": ["get", "list", "watch"]}]])
def test_view_gets_one_verdict_with_and_without_its_object(rules: list[Doc]) -> None:
    docs = _docs()
    ns, sa = _sa(docs)
    binding = _rb(ns, {"kind": "ServiceAccount", "name": sa}, "view")
    # The object as the cluster holds it: aggregated from system:aggregate-to-view.
    view = _role("ClusterRole", "view", rules)
    view["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {
        "rbac.authorization.k8s.io/aggregate-to-view": "true"}}]}
    without = evaluate([*docs, binding])
    with_object = evaluate([*docs, view, binding])
    assert _rules(without) == _rules(with_object) == {"MCP-RBAC-010"}


_TOKEN = {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}
_CA = {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}


@pytest.mark.parametrize(("mount_path", "volume", "flagged"), [
    # The bound, expiring token where clients look for it: what `new` writes for API access.
    ("/var/run/secrets/kubernetes.io/serviceaccount", {"projected": {"sources": [_TOKEN, _CA]}},
     False),
    ("/var/run/secrets/kubernetes.io/serviceaccount", {"secret": {"secretName": "tok"}}, True),
    ("/run/secrets/kubernetes.io/serviceaccount", {"secret": {"secretName": "tok"}}, True),
    ("/var/run/secrets/kubernetes.io/serviceaccount/", {"emptyDir": {"sizeLimit": "1Mi"}},
     True),
    ("/var/run/secrets", {"secret": {"secretName": "tok"}}, True),
    ("/var/run/secrets/kubernetes.io/serviceaccount/token", {"csi": {"driver": "x"}}, True),
    ("/var/run/secrets/kubernetes.io/serviceaccount",
     {"projected": {"sources": [_TOKEN, {"secret": {"name": "tok"}}]}}, True),
    ("/var/run/secrets/kubernetes.io/serviceaccount", {"projected": {"sources": [_CA]}}, True),
    ("/var/run/secrets/other", {"secret": {"secretName": "tok"}}, False),
])
def test_token_judged_by_mount_path(mount_path: str, volume: Doc, flagged: bool) -> None:
    docs = _docs()
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    pod["volumes"].append({"name": "by-hand", **volume})
    pod["containers"][0]["volumeMounts"].append({"name": "by-hand", "mountPath": mount_path,
                                                 "readOnly": True})
    findings = [f for f in evaluate(docs) if f.rule != "MCP-PSS-005"]
    assert _rules(findings) == ({"MCP-RBAC-002"} if flagged else set())
    if flagged:
        assert findings[0].path.endswith("volumeMounts[3]") and "by-hand" in findings[0].message
