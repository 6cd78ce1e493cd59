"""The program (python -m scaffold, the console script) exits without tearing the heap down:
every byte still reaches the reader and the exit code is main()'s, also when the reader has
gone away or argparse ends the run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from support import EXAMPLES, ROOT

PROGRAM = [sys.executable, "-m", "scaffold"]


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*PROGRAM, *args], capture_output=True, cwd=ROOT, timeout=120,
                          check=False)


def test_output_and_exit_codes_are_main_s(cli: Callable[..., Any]) -> None:
    new = ("new", "--values", str(EXAMPLES / "github-mcp.yaml"), "--output", "-")
    proc = _run(*new)
    in_process = cli(*new)
    assert proc.returncode == 0 == in_process.code
    assert proc.stdout.decode() == in_process.out
    assert len(proc.stdout) > 10_000

    assert _run("--help").returncode == 0
    assert b"exit codes:" in _run("--help").stdout
    assert _run("--version").stdout == f"mcp-scaffold {_newest_changelog_version()}\n".encode()
    usage = _run("bogus")
    assert usage.returncode == 2 and b"invalid choice" in usage.stderr
    assert _run().returncode == 2
    findings = _run("check", str(ROOT / "tests" / "policy" / "corpus" / "net-005"))
    assert findings.returncode == 1 and b"MCP-NET-005" in findings.stdout
    bad = _run("new", "--values", str(ROOT / "no-such-file.yaml"), "--output", "-")
    assert bad.returncode == 2
    assert bad.stderr.decode().endswith("no-such-file.yaml: no such file\n")


def _newest_changelog_version() -> str:
    # An unreleased section (the one being written) is not the installed version.
    match = re.search(r"^## (\d+\.\d+\.\d+)\b(?! \(unreleased\))",
                      (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert match, "CHANGELOG.md has no '## X.Y.Z' section"
    return match[1]


def test_a_reader_that_went_away_is_exit_1_without_a_traceback() -> None:
    read, write = os.pipe()
    os.close(read)  # nobody will read: the first flush fails with EPIPE
    proc = subprocess.run([*PROGRAM, "schema"], stdout=write, stderr=subprocess.PIPE,
                          cwd=ROOT, timeout=120, check=False)
    os.close(write)
    assert proc.returncode == 1
    assert proc.stderr == b""
