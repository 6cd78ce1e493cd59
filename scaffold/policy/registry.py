"""The rule registry: one :class:`~.model.Rule` per rule id, registered where it is defined.

A rule module decorates each check function with :func:`rule`; importing the module (the list
in ``scaffold/policy/__init__.py``) registers it, as Checkov registers a check on import.
Everything that lists rules (``evaluate``, ``mcp-scaffold rules``, the SARIF rule table, the
table in docs/check.md) reads :func:`registered`, so a rule exists in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .model import PATTERNS, SEVERITIES, Check, Rule

_RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    pattern: str,
    severity: str,
    title: str,
    *,
    kinds: Iterable[str],
    fix: str,
    description: str = "",
) -> Callable[[Check], Rule]:
    """Register the decorated check as rule ``rule_id``; the name then holds the Rule.

    The check yields findings of this rule only (``hit(<that name>, ...)``). A duplicate id,
    an unknown pattern or severity, or a rule without kinds, title or fix is a bug of ours:
    it fails at import, so no release can ship it.
    """

    def register(check: Check) -> Rule:
        made = Rule(rule_id, pattern, severity, title, fix, tuple(kinds), check,
                    " ".join(description.split()))
        if rule_id in _RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        if pattern not in PATTERNS or severity not in SEVERITIES:
            raise ValueError(f"rule {rule_id}: unknown pattern {pattern!r} or severity "
                             f"{severity!r}")
        if not (made.kinds and made.title and made.fix):
            raise ValueError(f"rule {rule_id} needs kinds, a title and a fix")
        _RULES[rule_id] = made
        return made

    return register


def registered() -> dict[str, Rule]:
    """Every registered rule by id, ordered by pattern (as PATTERNS lists them), then id."""
    ordered = sorted(_RULES.values(), key=lambda r: (PATTERNS.index(r.pattern), r.id))
    return {r.id: r for r in ordered}
