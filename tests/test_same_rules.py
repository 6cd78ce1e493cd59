"""`new` refuses exactly what `check` flags, for the rules both apply to values: credential
env names and image digests have one definition each."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from scaffold import policy, render, values
from scaffold.errors import ValuesError

from support import EXAMPLES

BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
NAMES = ["GITHUB_TOKEN", "DB_PASSWORD", "API_KEY", "apiKey", "GITHUBTOKEN", "DBPASSWORD",
         "CLIENT_SECRET", "JWT", "BEARER", "PRIVATE_KEY", "MAX_TOKENS", "TOKENIZER",
         "KEYCLOAK_URL", "MONKEY", "LOG_LEVEL", "SECRET_PATH", "TOKEN_DIR", "PASSWORDLESS"]


def _findings(v: dict[str, Any]) -> set[str]:
    docs = [d for f in render.render(v) if f.is_manifest for d in yaml.safe_load_all(f.text) if d]
    return {f.rule for f in policy.evaluate(docs, v["kubernetesVersion"])}


@pytest.mark.parametrize("name", NAMES)
def test_credential_env_names(name: str) -> None:
    data = copy.deepcopy(BASE)
    data["env"] = {name: "s3cr3t-value"}
    try:
        values.validate(data)
        refused = False
    except ValuesError as exc:
        assert [p.key for p in exc.problems] == [f"env.{name}"]
        refused = True
    # Render past the values check to see what `check` makes of the same env var.
    full = values.with_defaults(copy.deepcopy(data))
    flagged = "MCP-SEC-003" in _findings(full)
    assert refused == flagged


@pytest.mark.parametrize("digest", ["sha256:" + "a" * 64, "sha256:" + "A" * 64, "sha256:abc",
                                    "sha512:" + "a" * 128, "md5:" + "a" * 32])
def test_image_digests(digest: str) -> None:
    data = copy.deepcopy(BASE)
    data["image"] = f"registry.example.com/mcp/echo:0.3.1@{digest}"
    refused = values.check_image(data["image"]) is not None
    flagged = "MCP-IMG-002" in _findings(values.with_defaults(data))
    assert refused == flagged
