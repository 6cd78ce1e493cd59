"""Images: pinned by a well-formed digest and always pulled, so the pod runs exactly the
image that was reviewed and a node cache cannot hand it someone else's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .model import Context, Hit, Rule, hit

P = "image"
NO_DIGEST = Rule(
    "MCP-IMG-001", P, "high", "Image not pinned by digest",
    "Pin the image as repo[:tag]@sha256:<64 hex> (e.g. from `crane digest` or "
    "`docker buildx imagetools inspect`).",
)
BAD_DIGEST = Rule(
    "MCP-IMG-002", P, "high", "Malformed image digest",
    "Use a full digest: @sha256: followed by exactly 64 lowercase hex characters (or "
    "@sha512: and 128).",
)
LATEST = Rule(
    "MCP-IMG-003", P, "medium", "Image uses the latest tag",
    "Use a version tag together with the digest (repo:1.2.3@sha256:...).",
)
PULL_POLICY = Rule(
    "MCP-IMG-004", P, "medium", "imagePullPolicy is not Always",
    "Set imagePullPolicy: Always so every start re-checks registry credentials and the digest.",
)

RULES = (NO_DIGEST, BAD_DIGEST, LATEST, PULL_POLICY)

# The one digest rule, shared with `new` (values.check_image). The OCI image spec
# (opencontainers/image-spec, descriptor.md "Registered algorithms") registers sha256 (which
# every implementation must support) and sha512, each as lowercase hex of the full length;
# both pin the content, so both are accepted. Other algorithms, uppercase or short hex are not.
# Anchored with \Z: a digest always ends an image reference, and `$` would let a trailing
# newline through wherever the pattern is used (values.IMAGE embeds it).
DIGEST_PATTERN = r"(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})\Z"
DIGEST_FORM = "sha256:<64 lowercase hex> or sha512:<128 lowercase hex>"


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


def check(ctx: Context) -> Iterator[Hit]:
    """All image findings for the documents in ``ctx``."""
    for w in ctx.workloads:
        for c in w.containers:
            image = c.spec.get("image")
            if not isinstance(image, str):
                continue
            where = f"{w.kind} {w.name} container {c.name}"
            _, tag, digest = split_image(image)
            if digest is None:
                yield hit(NO_DIGEST, w.doc, f"{c.path}.image",
                          f"{where} image {image} is not pinned by digest")
            elif not valid_digest(digest):
                yield hit(BAD_DIGEST, w.doc, f"{c.path}.image",
                          f"{where} image digest {digest!r} is not {DIGEST_FORM}")
            if tag == "latest" or (not tag and digest is None):
                yield hit(LATEST, w.doc, f"{c.path}.image",
                          f"{where} image {image} uses the latest tag"
                          + ("" if tag else " implicitly"))
            policy = c.spec.get("imagePullPolicy")
            if policy != "Always":
                shown = "unset" if policy is None else repr(policy)
                yield hit(PULL_POLICY, w.doc, f"{c.path}.imagePullPolicy",
                          f"{where} imagePullPolicy is {shown}, not Always")
