"""Images: pinned by a well-formed digest and always pulled, so the pod runs exactly the
image that was reviewed and a node cache cannot hand it someone else's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..digest import DIGEST_FORM, DIGEST_PATTERN  # re-exported: one definition
from .model import POD_SPEC, Context, Doc, Hit, as_dict, as_list, hit
from .registry import rule

P = "image"


def valid_digest(digest: str) -> bool:
    """Whether ``digest`` is a whole, well-formed digest (no trailing newline or suffix)."""
    return re.fullmatch(DIGEST_PATTERN, digest) is not None


def split_image(image: str) -> tuple[str, str, str | None]:
    """(repository, tag, digest) of an image reference; tag '' when absent."""
    ref, _, digest = image.partition("@")
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:], digest if "@" in image else None
    return ref, "", digest if "@" in image else None


@dataclass(frozen=True)
class _Image:
    """One image reference (a container's or an image volume's), split once for the four image rules."""

    doc: Doc
    where: str
    path: str  # of the reference
    image: str
    tag: str
    digest: str | None
    pull_policy: Any
    pull_policy_path: str


def _images(ctx: Context) -> list[_Image]:
    """Every image a pod spec makes the kubelet pull: each container's (init, regular and
    ephemeral: Workload.containers) and each image volume's ``image.reference`` (KEP-4639;
    its ``pullPolicy`` is the volume's imagePullPolicy)."""
    found = []
    for w in ctx.workloads:
        for c in w.containers:
            image = c.spec.get("image")
            if not isinstance(image, str):
                continue
            _, tag, digest = split_image(image)
            found.append(_Image(w.doc, f"{w.kind} {w.name} container {c.name}",
                                f"{c.path}.image", image, tag, digest,
                                c.spec.get("imagePullPolicy"), f"{c.path}.imagePullPolicy"))
        for index, volume in enumerate(as_list(w.spec.get("volumes"))):
            source = as_dict(as_dict(volume).get("image"))
            image = source.get("reference")
            if not isinstance(image, str):
                continue
            path = f"{w.spec_path}.volumes[{index}].image"
            _, tag, digest = split_image(image)
            found.append(_Image(w.doc, f"{w.kind} {w.name} image volume "
                                f"{as_dict(volume).get('name')}", f"{path}.reference", image,
                                tag, digest, source.get("pullPolicy"), f"{path}.pullPolicy"))
    return found


@rule(
    "MCP-IMG-001", P, "high", "Image not pinned by digest", kinds=[POD_SPEC],
    fix="Pin the image as repo[:tag]@sha256:<64 hex> (e.g. from `crane digest` or "
    "`docker buildx imagetools inspect`).",
    description="""The image rules (MCP-IMG-001 to 004) judge every image a pod spec pulls:
    init, regular and ephemeral containers, and image volumes (`volumes[].image.reference`,
    whose `pullPolicy` stands for imagePullPolicy).""",
)
def no_digest(ctx: Context) -> Iterator[Hit]:
    for i in ctx.shared(_images):
        if i.digest is None:
            yield hit(no_digest, i.doc, i.path,
                      f"{i.where} image {i.image} is not pinned by digest")


@rule(
    "MCP-IMG-002", P, "high", "Malformed image digest", kinds=[POD_SPEC],
    fix="Use a full digest: @sha256: followed by exactly 64 lowercase hex characters (or "
    "@sha512: and 128).",
    description="""Accepts `sha256:` with 64 and `sha512:` with 128 lowercase hex characters
    (the algorithms the OCI image spec registers), as the whole rest of the reference: a
    trailing newline or anything else after the digest is malformed. `mcp-scaffold new`
    applies the same definition to its values.""",
)
def bad_digest(ctx: Context) -> Iterator[Hit]:
    for i in ctx.shared(_images):
        if i.digest is not None and not valid_digest(i.digest):
            yield hit(bad_digest, i.doc, i.path,
                      f"{i.where} image digest {i.digest!r} is not {DIGEST_FORM}")


@rule(
    "MCP-IMG-003", P, "medium", "Image uses the latest tag", kinds=[POD_SPEC],
    fix="Use a version tag together with the digest (repo:1.2.3@sha256:...).",
)
def latest(ctx: Context) -> Iterator[Hit]:
    for i in ctx.shared(_images):
        if i.tag == "latest" or (not i.tag and i.digest is None):
            yield hit(latest, i.doc, i.path,
                      f"{i.where} image {i.image} uses the latest tag"
                      + ("" if i.tag else " implicitly"))


@rule(
    "MCP-IMG-004", P, "medium", "imagePullPolicy is not Always", kinds=[POD_SPEC],
    fix="Set imagePullPolicy: Always so every start re-checks registry credentials and the "
    "digest.",
    description="""Wants `imagePullPolicy: Always` even with a digest: the pull re-checks
    the pod's registry credentials, so a cached private image cannot be reused by another
    tenant.""",
)
def pull_policy(ctx: Context) -> Iterator[Hit]:
    for i in ctx.shared(_images):
        if i.pull_policy != "Always":
            shown = "unset" if i.pull_policy is None else repr(i.pull_policy)
            yield hit(pull_policy, i.doc, i.pull_policy_path,
                      f"{i.where} imagePullPolicy is {shown}, not Always")
