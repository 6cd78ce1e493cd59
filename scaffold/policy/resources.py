"""Resources and probes: a pod without limits can starve its node; one without probes keeps
receiving traffic while broken.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import quantity
from .model import POD_SPEC, Container, Context, Hit, Rule, Workload, as_dict, hit
from .registry import rule

P = "resources"


def _containers(ctx: Context) -> Iterator[tuple[Workload, Container, str]]:
    for w in ctx.workloads:
        for c in w.containers:
            if c.field != "ephemeralContainers":  # debug containers declare no resources
                yield w, c, f"{w.kind} {w.name} container {c.name}"


def unset_quantity(value: Any, zero_is_none: bool = True) -> str | None:
    """Why a limit or size written as ``value`` limits nothing, or None if it sets one.

    Judged by value, as the kubelet reads it: ``0``, ``"0"``, ``0Mi`` and ``0.0`` are all
    zero, and a zero limit or emptyDir sizeLimit is no limit at all (the kubelet sets no CFS
    quota or memory limit for 0, and evicts on no size: kubernetes/kubernetes
    pkg/kubelet/kuberuntime/kuberuntime_container_linux.go, pkg/kubelet/eviction
    localVolumeEviction). A request of zero is a request (``zero_is_none=False``). A value
    that is no quantity is refused by the API server, so it sets nothing either."""
    if value is None:
        return "unset"
    amount = quantity.parse(value)
    if amount is None:
        return f"{value!r} is not a Kubernetes quantity"
    if amount < 0 or (zero_is_none and amount == 0):
        return f"{value!r} is zero, which is no limit"
    return None


def _resources(ctx: Context, key: str, rule: Rule) -> Iterator[Hit]:
    for w, c, where in _containers(ctx):
        values = as_dict(as_dict(c.spec.get("resources")).get(key))
        unset = {r: why for r in ("cpu", "memory")
                 if (why := unset_quantity(values.get(r), key == "limits")) is not None}
        if unset:
            shown = " and ".join(r if why == "unset" else f"{r} ({why})"
                                 for r, why in unset.items())
            yield hit(rule, w.doc, f"{c.path}.resources.{key}",
                      f"{where} has no {key} for {shown}")


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
    description="""Judged by value as a Kubernetes quantity: a limit of zero in any spelling
    (`0`, `"0"`, `0Mi`, `0.0`) is no limit to the kubelet.""",
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
