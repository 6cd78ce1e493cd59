"""The one image-digest rule, shared by `new` (values) and `check` (policy.image).

Kept free of package imports so that checking values does not load the policy package.
"""

from __future__ import annotations

# The OCI image spec (opencontainers/image-spec, descriptor.md "Registered algorithms")
# registers sha256 (which every implementation must support) and sha512, each as lowercase hex
# of the full length; both pin the content, so both are accepted. Other algorithms, uppercase
# or short hex are not. Anchored with \Z: a digest always ends an image reference, and `$`
# would let a trailing newline through wherever the pattern is used (values.IMAGE embeds it).
DIGEST_PATTERN = r"(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})\Z"
DIGEST_FORM = "sha256:<64 lowercase hex> or sha512:<128 lowercase hex>"
