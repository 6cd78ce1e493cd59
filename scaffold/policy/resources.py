"""Resources and probes: a pod without limits can starve its node; one without probes keeps
receiving traffic while broken.
"""

from __future__ import annotations

from collections.abc import Iterator

from .model import POD_SPEC, Container, Context, Hit, Rule, Workload, as_dict, hit
from .registry import rule

P = "resources"


def _containers(ctx: Context) -> Iterator[tuple[Workload, Container, str]]:
    for w in ctx.workloads:
        for c in w.containers:
            if c.field != "ephemeralContainers":  # debug containers declare no resources
                yield w, c, f"{w.kind} {w.name} container {c.name}"


def _resources(ctx: Context, key: str, rule: Rule) -> Iterator[Hit]:
    for w, c, where in _containers(ctx):
        values = as_dict(as_dict(c.spec.get("resources")).get(key))
        missing = [r for r in ("cpu", "memory") if not values.get(r)]
        if missing:
            yield hit(rule, w.doc, f"{c.path}.resources.{key}",
                      f"{where} has no {key} for {' and '.join(missing)}")


def _probe(ctx: Context, key: str, rule: Rule) -> Iterator[Hit]:
    for w, c, where in _containers(ctx):
        # Init containers run to completion, and so do Jobs: probes do not apply.
        if c.field == "containers" and not w.is_batch and not c.spec.get(key):
            yield hit(rule, w.doc, f"{c.path}.{key}", f"{where} has no {key}")


@rule(
    "MCP-RES-001", P, "medium", "Container without CPU/memory requests", kinds=[POD_SPEC],
    fix="Set resources.requests.cpu and resources.requests.memory.",
    description="""Wants explicit requests even though Kubernetes copies limits into missing
    requests: the scheduling intent should be visible in review.""",
)
def requests(ctx: Context) -> Iterator[Hit]:
    return _resources(ctx, "requests", requests)


@rule(
    "MCP-RES-002", P, "medium", "Container without CPU/memory limits", kinds=[POD_SPEC],
    fix="Set resources.limits.cpu and resources.limits.memory.",
)
def limits(ctx: Context) -> Iterator[Hit]:
    return _resources(ctx, "limits", limits)


@rule(
    "MCP-RES-003", P, "low", "Container without readinessProbe", kinds=[POD_SPEC],
    fix="Add a readinessProbe (httpGet on a readiness path, or tcpSocket on the server port).",
)
def readiness(ctx: Context) -> Iterator[Hit]:
    return _probe(ctx, "readinessProbe", readiness)


@rule(
    "MCP-RES-004", P, "low", "Container without livenessProbe", kinds=[POD_SPEC],
    fix="Add a livenessProbe that differs from the readinessProbe.",
)
def liveness(ctx: Context) -> Iterator[Hit]:
    return _probe(ctx, "livenessProbe", liveness)
