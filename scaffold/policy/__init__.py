"""The hardening rules as a policy engine over Kubernetes documents.

``evaluate(documents)`` judges the whole set together: a pod is checked with the
NetworkPolicies, ServiceAccounts, Roles, bindings and Namespace around it. The same function
guards the generator (which writes nothing while a finding remains) and backs
``mcp-scaffold check``.

Kept free of heavy imports (no jsonschema, no Jinja2): ``check`` starts fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from .. import kubeversions
from ..errors import InputError, Problem, ProblemCode
from . import image, network, pod_security, rbac, resources, secrets
from .model import PATTERNS, SEVERITIES, Context, Doc, Finding, Rule, as_dict, last_applied
from .registry import registered

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
    "select_rules",
    "skips",
]

SKIP_ANNOTATION = "mcp-scaffold.io/skip"

# The rule modules, listed once: importing one registers its rules (registry.rule). Their
# order is PATTERNS' order, the order of the rule table and of findings on one object.
RULE_MODULES = (rbac, network, secrets, pod_security, image, resources)
RULES: dict[str, Rule] = registered()


def parse_kube_version(text: str) -> tuple[int, int]:
    """(major, minor) of a Kubernetes version such as "1.33", "v1.33" or "1.33.2"."""
    version = kubeversions.parse(text)
    if version is None:
        raise InputError([Problem("--kube-version", f"{text!r} is not a Kubernetes version"
                                  f" like {kubeversions.DEFAULT}", ProblemCode.USAGE)])
    # The same versions `new` accepts: the rules' version-dependent facts (Pod Security
    # levels, fields) are known for those, and judging for another would be a guess.
    supported = kubeversions.supported_versions()
    if f"{version[0]}.{version[1]}" not in supported:
        raise InputError([Problem("--kube-version", f"{text!r}: must be one of the versions"
                                  f" mcp-scaffold knows, {supported[0]} to {supported[-1]}",
                                  ProblemCode.USAGE)])
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


def select_rules(select: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Rule]:
    """The rules to run: those ``select`` names (all when it names none) less those ``skip``
    names, in registry order. Each entry is a rule id or a pattern name.

    Skip wins over select, so ``--select network --skip MCP-NET-006`` runs the network rules
    but one. An entry that names no rule and no pattern is an InputError listing what does.
    """
    chosen = _named("--select", select)
    dropped = _named("--skip", skip)
    return [r for r in RULES.values()
            if (not chosen or r.id in chosen) and r.id not in dropped]


def _named(option: str, entries: Iterable[str]) -> set[str]:
    """The rule ids that ``entries`` (ids or pattern names) stand for."""
    ids: set[str] = set()
    problems: list[Problem] = []
    for entry in entries:
        if entry in RULES:
            ids.add(entry)
        elif entry in PATTERNS:
            ids.update(r.id for r in RULES.values() if r.pattern == entry)
        else:
            problems.append(Problem(option, f"{entry!r} is neither a rule id nor a pattern "
                                    f"(patterns: {', '.join(PATTERNS)}; rule ids: "
                                    f"{', '.join(RULES)}; `mcp-scaffold rules` lists them)"))
    if problems:
        raise InputError(problems)
    return ids


def evaluate_objects(
    documents: list[dict[str, Any]],
    kube_version: str = kubeversions.DEFAULT,
    rules: Iterable[Rule] | None = None,
) -> list[tuple[dict[str, Any], Finding]]:
    """Like :func:`evaluate`, with each finding paired with the document it is about.

    ``check`` uses the pairing to name the file and line of each finding; two objects with
    the same kind and name (a base and an overlay) keep their own findings. ``rules``
    (default: every rule) limits the run, as ``--select``/``--skip`` do.
    """
    version = parse_kube_version(kube_version)
    # What kubectl apply leaves: a later object of the same group, kind, namespace and name
    # replaces the earlier one (Context judges the last; check notes each on stderr).
    docs = last_applied([d for d in documents if isinstance(d, dict)])[0]
    ctx = Context(docs, version)
    order = {id(d): i for i, d in enumerate(docs)}
    rule_order = {rule_id: i for i, rule_id in enumerate(RULES)}
    seen: set[tuple[int, Finding]] = set()
    ranked: list[tuple[int, int, str, Doc, Finding]] = []
    for rule in RULES.values() if rules is None else rules:
        for doc, finding in rule.check(ctx):
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
