"""The wizard as a state machine: hypothesis drives the real question loop of `new` (the real
pipeline, every answer through the prompt's own validate as questionary does on Enter) with
random answers — valid ones, hostile text, empty answers, defaults — re-asking after each
refusal, choosing random branches (providers, egress rules, downstream services, stdio, the
start questions), confirming or declining. Whatever it does:

- no exception escapes but the tool's own (ScaffoldError: one line per problem, an exit code);
- a run that ends with "Write this base? yes" has written a base the real kubectl builds.

A prompt whose answers keep being refused is abandoned as a user would (Ctrl-C: Interrupted),
so every run ends."""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import pipeline, wizard
from scaffold.errors import Interrupted, ScaffoldError

from support import tool
from wizard_support import IMAGE

pytestmark = pytest.mark.timeout(600)

BRIDGE = "registry.example.com/mcp/supergateway-bundle:4.0.0@sha256:" + "7c" * 32
# An answer a person who knows the cluster would give, by words of the question.
GOOD: tuple[tuple[str, str], ...] = (
    ("Server name", "demo"), ("Namespace", "mcp-demo"), ("Bridge image", BRIDGE),
    ("Bridge binary", "/usr/local/bin/supergateway"), ("Bridge arguments", "--stdio, {command}"),
    ("image", IMAGE), ("Command", "node, /app/index.js"), ("Arguments", "serve"),
    ("Ingress controller namespace", "ingress-nginx"), ("cidr", "203.0.113.0/24"),
    ("Host name", "api.example.com"), ("TCP ports", "443"), ("Service name", "postgres"),
    ("Pod labels", "app=postgres"), ("API server CIDRs", "10.0.0.1/32"),
    ("ConfigMaps", "demo-config"), ("region", "us-east-1"), ("objectName", "prod/demo/db"),
    ("role ARN", "arn:aws:iam::111122223333:role/demo"), ("Reason", "reads every namespace"),
    ("apiGroups", "apps"), ("resources", "deployments"), ("verbs", "get, list"),
    ("Key vault name", "kv-demo-01"), ("Client ID", "11111111-2222-3333-4444-555555555555"),
    ("Tenant ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
    ("Google service account", "demo-mcp@acme-prod.iam.gserviceaccount.com"),
    ("resourceName", "projects/acme-prod/secrets/db/versions/latest"),
    ("objectAlias", "db-password"), ("Secret version", "projects/acme-prod/secrets/db/versions/1"),
    ("Object name", "db-password"), ("File name", "db"), ("File path", "db"),
    ("Vault address", "https://vault.vault.svc:8200"), ("Vault role", "demo"),
    ("Plain environment variables", "LOG_LEVEL=debug"), ("MCP endpoint path", "/mcp"),
    ("path", "/healthz"),
)
HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "'", "$(X)", "a\nb", "\x1b[2J", "0", "-1", "99999", "::/0",
                     "0.0.0.0/0", "169.254.169.254/32", "*.com", "a" * 300, "ÿ", "☃", ",,,",
                     "=", "k=", "DEFAULT", "latest"]),
)


# How the runs ended (read by the test after the property: most must write a base, or the
# property would be checked on almost nothing).
OUTCOMES: dict[str, int] = {}


class Abandoned(KeyboardInterrupt):
    """The user gave up on a question (as Ctrl-C)."""


def _good(message: str, seen: int = 1) -> str | None:
    """The known-good answer; the second time a question comes (another list entry), a name
    of its own (names, aliases and files must be unique)."""
    answer = next((answer for words, answer in GOOD if words in message), None)
    if answer is None or seen == 1 or not answer.replace("-", "").isalnum():
        return answer
    return f"{answer}{seen}"


def _driver(data: st.DataObject) -> dict[str, Callable[..., Any]]:
    added: dict[str, int] = {}
    seen: dict[str, int] = {}

    def text(message: str, *, default: str, instruction: str | None,
             validate: Callable[[str], bool | str]) -> str:
        seen[message] = seen.get(message, 0) + 1
        good = _good(message, seen[message])
        for _attempt in range(4):
            kind = data.draw(st.sampled_from(["good", "good", "good", "default", "hostile",
                                              "empty"]))
            answer = {"good": good or default, "default": default,
                      "empty": ""}.get(kind)
            if answer is None:
                answer = data.draw(HOSTILE)
            if validate(answer) is True:
                return answer
        # Refused four times: a person types what they know works, or gives up.
        for answer in (good, default):
            if answer is not None and validate(answer) is True:
                return answer
        raise Abandoned

    def select(message: str, choices: list[str], default: str | None) -> str:
        return data.draw(st.sampled_from(choices))

    def confirm(message: str, default: bool) -> bool:
        if message.startswith("Add "):
            # Lists stay short: at most two entries of each.
            added[message.split("?")[0][-20:]] = added.get(message.split("?")[0][-20:], 0) + 1
            if added[message.split("?")[0][-20:]] > 2:
                return False
        if message.startswith("Write this base"):
            return data.draw(st.sampled_from([True, True, True, False]))
        return data.draw(st.booleans())

    return {"_text": text, "_select": select, "_confirm": confirm,
            "_help": lambda text: None}


def test_most_random_journeys_end_in_a_written_base() -> None:
    OUTCOMES.clear()
    test_random_journeys_never_crash_and_every_finished_one_builds()
    print(OUTCOMES)
    assert OUTCOMES.get("written", 0) >= sum(OUTCOMES.values()) // 3, OUTCOMES


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_journeys_never_crash_and_every_finished_one_builds(data: st.DataObject) -> None:
    patched = _driver(data)
    originals = {name: getattr(wizard, name) for name in patched}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "base"
        try:
            for name, fn in patched.items():
                setattr(wizard, name, fn)
            code = pipeline.new(None, str(out), interactive=True, force=False, dry_run=False,
                                stdout=io.StringIO(), stderr=io.StringIO())
        except Interrupted:
            assert not out.exists()  # abandoned or declined: nothing written
            OUTCOMES["interrupted"] = OUTCOMES.get("interrupted", 0) + 1
            return
        except ScaffoldError as exc:
            assert exc.lines() and exc.exit_code in (1, 2)
            assert not out.exists()
            OUTCOMES[type(exc).__name__] = OUTCOMES.get(type(exc).__name__, 0) + 1
            return
        finally:
            for name, fn in originals.items():
                setattr(wizard, name, fn)
        assert code == 0
        OUTCOMES["written"] = OUTCOMES.get("written", 0) + 1
        built = subprocess.run([tool("kubectl"), "kustomize", str(out)], capture_output=True,
                               text=True, timeout=120, check=False)
        assert built.returncode == 0, built.stderr
