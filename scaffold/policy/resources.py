"""Resources and probes: a pod without limits can starve its node; one without probes keeps
receiving traffic while broken.
"""

from __future__ import annotations

from collections.abc import Iterator

from .model import Context, Hit, Rule, as_dict, hit

P = "resources"
REQUESTS = Rule(
    "MCP-RES-001", P, "medium", "Container without CPU/memory requests",
    "Set resources.requests.cpu and resources.requests.memory.",
)
LIMITS = Rule(
    "MCP-RES-002", P, "medium", "Container without CPU/memory limits",
    "Set resources.limits.cpu and resources.limits.memory.",
)
READINESS = Rule(
    "MCP-RES-003", P, "low", "Container without readinessProbe",
    "Add a readinessProbe (httpGet on a readiness path, or tcpSocket on the server port).",
)
LIVENESS = Rule(
    "MCP-RES-004", P, "low", "Container without livenessProbe",
    "Add a livenessProbe that differs from the readinessProbe.",
)

RULES = (REQUESTS, LIMITS, READINESS, LIVENESS)


def check(ctx: Context) -> Iterator[Hit]:
    """All resources findings for the documents in ``ctx``."""
    for w in ctx.workloads:
        for c in w.containers:
            if c.field == "ephemeralContainers":
                continue  # debug containers cannot declare resources or probes
            where = f"{w.kind} {w.name} container {c.name}"
            res = as_dict(c.spec.get("resources"))
            for key, rule in (("requests", REQUESTS), ("limits", LIMITS)):
                values = as_dict(res.get(key))
                missing = [r for r in ("cpu", "memory") if not values.get(r)]
                if missing:
                    yield hit(rule, w.doc, f"{c.path}.resources.{key}",
                              f"{where} has no {key} for {' and '.join(missing)}")
            if c.field != "containers" or w.is_batch:
                continue
            for key, rule in (("readinessProbe", READINESS), ("livenessProbe", LIVENESS)):
                if not c.spec.get(key):
                    yield hit(rule, w.doc, f"{c.path}.{key}", f"{where} has no {key}")
