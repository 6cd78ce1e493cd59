"""The wizard asks for an egress rule by host name when no CIDR is given, and then for the
network policy flavor that enforces it."""

from __future__ import annotations

from typing import Any

import pytest
from test_questions import PROVIDERS, basics, run

from scaffold import values

from wizard_support import ENTER, choose, line

pytestmark = pytest.mark.timeout(60)

FLAVORS = values.subschema("networkPolicy.flavor")["enum"]


def test_a_host_rule_and_its_flavor(keys: Any) -> None:
    script = (basics() + ENTER + "n" + "n" + "n"  # no configMaps, rbac, cloudIdentity, downstream
              + "y" + ENTER + line("api.github.com") + line("443") + choose(FLAVORS, "cilium")
              + "y" + line("203.0.113.0/24") + line("8443")
              + "n" + choose(PROVIDERS, "none") + ENTER + "y")
    v = run(keys, script)
    assert v["externalEgress"] == [{"host": "api.github.com", "ports": [443]},
                                   {"cidr": "203.0.113.0/24", "ports": [8443]}]
    assert v["networkPolicy"] == {"flavor": "cilium"}
