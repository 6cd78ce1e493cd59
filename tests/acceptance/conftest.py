"""Fixtures for the acceptance suite: bases rendered by the real `mcp-scaffold new` from the
examples, and the everything server running from one (shared by the tests that only talk to
it, to keep the suite fast)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness import Running, render_example, run_pod
from support import EXAMPLES


@pytest.fixture
def rendered(tmp_path: Path) -> Callable[[str], Path]:
    """Render examples/<stem>.yaml and return the base directory."""
    return lambda stem: render_example(EXAMPLES / f"{stem}.yaml", tmp_path / stem)


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """examples/everything.yaml, rendered and running, with a test value in its credential file."""
    base = render_example(EXAMPLES / "everything.yaml", tmp_path_factory.mktemp("base") / "everything")
    with run_pod(base, {"upstream-token": "test-upstream-token-5f2a"}) as pod:
        yield pod
