"""Fixtures of the wizard tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def keys() -> Iterator[object]:
    """A pipe that every questionary prompt reads from (prompt_toolkit's documented test
    pattern); the test sends its whole script up front. Unread keys stay queued as typeahead
    for the next prompt. Scripts end with a Ctrl-C tripwire so an unexpected extra question
    raises instead of waiting forever."""
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        yield pipe
