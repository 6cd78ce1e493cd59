"""The hardening rules as a policy engine over Kubernetes documents.

``evaluate(documents)`` judges the whole set together: a pod is checked with the
NetworkPolicies, ServiceAccounts, Roles, bindings and Namespace around it. The same function
guards the generator (which writes nothing while a finding remains) and backs
``mcp-scaffold check``.

Kept free of heavy imports (no jsonschema, no Jinja2): ``check`` starts fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from .. import kubeversions
from ..errors import InputError, Problem, ProblemCode
from . import image, network, pod_security, rbac, resources, secrets
from .model import PATTERNS, SEVERITIES, Context, Doc, Finding, Hit, Rule, as_dict

__all__ = [
    "PATTERNS",
    "RULES",
    "SEVERITIES",
    "SKIP_ANNOTATION",
    "Finding",
    "Rule",
    "evaluate",
    "evaluate_objects",
    "parse_kube_version",
    "skips",
]

SKIP_ANNOTATION = "mcp-scaffold.io/skip"

_MODULES: tuple[tuple[tuple[Rule, ...], Callable[[Context], Iterator[Hit]]], ...] = (
    (rbac.RULES, rbac.check),
    (network.RULES, network.check),
    (secrets.RULES, secrets.check),
    (pod_security.RULES, pod_security.check),
    (image.RULES, image.check),
    (resources.RULES, resources.check),
)
RULES: dict[str, Rule] = {r.id: r for rules, _ in _MODULES for r in rules}


def parse_kube_version(text: str) -> tuple[int, int]:
    """(major, minor) of a Kubernetes version such as "1.33", "v1.33" or "1.33.2"."""
    version = kubeversions.parse(text)
    if version is None:
        raise InputError([Problem("--kube-version", f"{text!r} is not a Kubernetes version"
                                  f" like {kubeversions.DEFAULT}", ProblemCode.USAGE)])
    return version


def skips(doc: Doc) -> tuple[dict[str, str], list[str]]:
    """The suppressions an object declares, and the problems with malformed ones.

    The annotation holds one ``RULE-ID=reason`` per line; a reason is required so every
    exception explains itself in review.
    """
    value = as_dict(as_dict(doc.get("metadata")).get("annotations")).get(SKIP_ANNOTATION)
    found: dict[str, str] = {}
    problems: list[str] = []
    if value is None:
        return found, problems
    for line in str(value).splitlines():
        entry = line.strip()
        if not entry:
            continue
        rule, sep, reason = entry.partition("=")
        rule, reason = rule.strip(), reason.strip()
        if rule not in RULES:
            problems.append(f"{SKIP_ANNOTATION}: unknown rule id {rule!r}")
        elif not sep or not reason:
            problems.append(f"{SKIP_ANNOTATION}: {rule} needs a reason ({rule}=<reason>)")
        else:
            found[rule] = reason
    return found, problems


def evaluate_objects(
    documents: list[dict[str, Any]], kube_version: str = kubeversions.DEFAULT
) -> list[tuple[dict[str, Any], Finding]]:
    """Like :func:`evaluate`, with each finding paired with the document it is about.

    ``check`` uses the pairing to name the file and line of each finding; two objects with
    the same kind and name (a base and an overlay) keep their own findings.
    """
    version = parse_kube_version(kube_version)
    docs = [d for d in documents if isinstance(d, dict)]
    ctx = Context(docs, version)
    order = {id(d): i for i, d in enumerate(docs)}
    rule_order = {rule_id: i for i, rule_id in enumerate(RULES)}
    seen: set[tuple[int, Finding]] = set()
    ranked: list[tuple[int, int, str, Doc, Finding]] = []
    for _, check in _MODULES:
        for doc, finding in check(ctx):
            reason = skips(doc)[0].get(finding.rule)
            if reason is not None:
                finding = replace(finding, suppressed=reason)
            if (id(doc), finding) in seen:
                continue
            seen.add((id(doc), finding))
            rank = order.get(id(doc), len(docs))
            ranked.append((rank, rule_order[finding.rule], finding.path, doc, finding))
    ranked.sort(key=lambda item: item[:3])
    return [(item[3], item[4]) for item in ranked]


def evaluate(
    documents: list[dict[str, Any]], kube_version: str = kubeversions.DEFAULT
) -> list[Finding]:
    """Every finding of every rule on ``documents`` (Kubernetes objects as dicts).

    Findings that an object suppresses with a well-formed ``mcp-scaffold.io/skip`` annotation
    are returned with ``suppressed`` set to the reason; callers decide whether those count
    (``check`` does not fail on them). Raises InputError for an unparsable ``kube_version``.
    """
    return [finding for _, finding in evaluate_objects(documents, kube_version)]
