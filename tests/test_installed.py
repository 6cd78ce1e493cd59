"""What users install is what is tested.

The rest of the suite runs against an editable install, which finds any module in the source
tree: a package missing from the wheel (0.1.0's `scaffold/report`) stays invisible there. Here:

- the sdist and the wheel are built from the tracked files (PyPA `build`: the wheel is built
  from the sdist, as pip does for a source download), and the wheel holds every package,
  template and data file of the source tree;
- that wheel is installed into a fresh virtualenv (no editable finder, nothing of the checkout
  on sys.path) and every subcommand runs from it, in every output format;
- every command shown in README.md, in docs/ and in the README of every generated base is
  extracted from the file itself and run, in order, in a copy of the project as a user would,
  starting with the quick start's own `python3 -m venv .venv && .venv/bin/pip install .`.

Commands that need a cluster (`kubectl apply`, `logs`, `rollout`, `delete`) cannot be run
here and are not: only `mcp-scaffold …` and `kubectl kustomize …` lines are.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from support import ROOT, TOOLS, tool

pytestmark = pytest.mark.timeout(1200)

# The documents whose commands are run, in this order, in one scratch copy of the project.
DOCUMENTS = ("README.md", "docs/check.md", "docs/architecture.md", "docs/env-delivery.md")
# A fenced block's line or an inline code span is a command when it starts so.
_COMMAND = re.compile(r"(?:mcp-scaffold|kubectl kustomize|python3 -m venv|\.venv/bin/)\s")
# A synopsis (`[--format text|json]`, `PATH...`): its options are checked against --help.
_SYNOPSIS = re.compile(r"\[--|\.\.\.|\bIDS\b| \| --")


def _tracked_files() -> list[str]:
    """What a clone holds (tracked files, and new ones git does not ignore)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]


def _copy_project(dest: Path) -> Path:
    for name in _tracked_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return dest


def _env(*bins: Path) -> dict[str, str]:
    """The caller's environment as a user has it: the given bin directories first, the real
    tools next, and nothing of the test run's own virtualenv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MCP_SCAFFOLD_DEBUG")}
    own = Path(sys.prefix) / "bin"
    rest = [p for p in env.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if p and Path(p) != own and not Path(p).resolve().is_relative_to(ROOT)]
    env["PATH"] = os.pathsep.join([*map(str, bins), str(TOOLS), *rest])
    return env


def _run(argv: list[str] | str, cwd: Path, env: dict[str, str], stdin: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    # A document's line runs in bash as a user's shell would run it (pipes, redirections).
    command = ["bash", "-o", "pipefail", "-c", argv] if isinstance(argv, str) else argv
    return subprocess.run(command,
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
                          input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                          check=False)


def _ok(result: subprocess.CompletedProcess[str], what: str, code: int = 0) -> str:
    assert "Traceback" not in result.stderr, f"{what}: {result.stderr}"
    assert result.returncode == code, (
        f"{what}: exit {result.returncode} (expected {code})\n{result.stdout[-2000:]}\n"
        f"{result.stderr[-4000:]}")
    return result.stdout


@dataclass(frozen=True)
class Installed:
    """The wheel built from the sdist, and a fresh virtualenv it is installed into."""

    wheel: Path
    sdist: Path
    venv: Path

    @property
    def program(self) -> str:
        return str(self.venv / "bin" / "mcp-scaffold")


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    src = _copy_project(tmp_path_factory.mktemp("src"))
    dist = tmp_path_factory.mktemp("dist")
    env = _env()
    _ok(_run([sys.executable, "-m", "build", "--outdir", str(dist), str(src)], src, env),
        "python -m build (sdist, then the wheel from it)")
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    venv = tmp_path_factory.mktemp("venv") / "v"
    _ok(_run(["python3", "-m", "venv", str(venv)], src, env), "venv")
    _ok(_run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
              "--disable-pip-version-check", str(wheel)], src, env), "pip install the wheel")
    return Installed(wheel, sdist, venv)


def test_the_wheel_holds_every_package_template_and_data_file(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    packages = sorted(str(p.parent.relative_to(ROOT)) for p in (ROOT / "scaffold").rglob(
        "__init__.py") if "__pycache__" not in p.parts)
    assert "scaffold/report" in packages  # the package 0.1.0's wheel lacked
    for package in packages:
        assert f"{package}/__init__.py" in names, f"{package} is not in the wheel"
    for path in (ROOT / "scaffold").rglob("*"):
        if path.suffix in (".py", ".json", ".typed"):
            assert str(path.relative_to(ROOT)) in names, f"{path} is not in the wheel"
    for path in (ROOT / "templates").iterdir():
        if path.is_file():
            assert f"scaffold/templates/{path.name}" in names, f"{path} is not in the wheel"


def test_the_installed_copy_is_the_wheel_not_the_checkout(installed: Installed,
                                                          tmp_path: Path) -> None:
    out = _ok(_run([str(installed.venv / "bin" / "python"), "-c",
                    "import scaffold, scaffold.report, scaffold.templates, sys;"
                    "print(scaffold.__file__); print(*sys.path, sep='\\n')"],
                   tmp_path, _env()), "import")
    first, *path = out.splitlines()
    assert Path(first).is_relative_to(installed.venv), first
    assert not any(entry and Path(entry).resolve().is_relative_to(ROOT) for entry in path)
    site = next((installed.venv / "lib").glob("python*/site-packages"))
    assert not list(site.glob("__editable__*")) and not list(site.glob("*.egg-link"))


def _changelog_version() -> str:
    # An unreleased section (the one being written) is not the installed version.
    match = re.search(r"^## (\d+\.\d+\.\d+)\b(?! \(unreleased\))",
                      (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert match
    return match[1]


def test_every_subcommand_runs_from_the_installed_wheel(installed: Installed,
                                                        tmp_path: Path) -> None:
    env = _env(installed.venv / "bin")
    prog = installed.program
    version = _ok(_run([prog, "--version"], tmp_path, env), "--version")
    assert version == f"mcp-scaffold {_changelog_version()}\n"
    assert installed.wheel.name.startswith(f"mcp_scaffold-{_changelog_version()}-")
    for sub in ([], ["new"], ["check"], ["rules"], ["catalog"], ["schema"]):
        assert "exit codes" in _ok(_run([prog, *sub, "--help"], tmp_path, env), f"{sub} --help") \
            or sub in (["rules"], ["catalog"], ["schema"])
    check_help = _ok(_run([prog, "check", "--help"], tmp_path, env), "check --help")
    assert "1 findings" in " ".join(check_help.split())
    assert "--output" not in check_help  # new's text is not check's
    for fmt in ("text", "json"):
        _ok(_run([prog, "rules", "--format", fmt], tmp_path, env), f"rules {fmt}")
        _ok(_run([prog, "catalog", "--format", fmt], tmp_path, env), f"catalog {fmt}")
    json.loads(_ok(_run([prog, "rules", "--format", "json"], tmp_path, env), "rules"))
    json.loads(_ok(_run([prog, "schema"], tmp_path, env), "schema"))

    values = ROOT / "examples" / "github-mcp.yaml"
    stream = _ok(_run([prog, "new", "--values", str(values), "--output", "-"], tmp_path, env),
                 "new --output -")
    assert len(list(yaml.safe_load_all(stream))) >= 8
    dry = _run([prog, "new", "--values", str(values), "--output", "b", "--dry-run"], tmp_path,
               env)
    assert "kustomization.yaml" in _ok(dry, "new --dry-run") + dry.stderr
    assert not (tmp_path / "b").exists()
    _ok(_run([prog, "new", "--values", str(values), "--output", "b"], tmp_path, env), "new")
    assert (tmp_path / "b" / "kustomization.yaml").is_file()
    for fmt in ("text", "json", "sarif"):
        out = _ok(_run([prog, "check", "b", "--format", fmt], tmp_path, env), f"check {fmt}")
        if fmt != "text":
            json.loads(out)
    built = _ok(_run([tool("kubectl"), "kustomize", "b"], tmp_path, env), "kubectl kustomize")
    assert "No findings" in _ok(_run([prog, "check", "-"], tmp_path, env, stdin=built), "stdin")
    # findings are 1, and bad input 2, from the installed copy too
    corpus = ROOT / "tests" / "policy" / "corpus" / "net-005"
    _ok(_run([prog, "check", str(corpus)], tmp_path, env), "check findings", code=1)
    _ok(_run([prog, "check", "no-such-path"], tmp_path, env), "check missing", code=2)
    # --force regenerates from inside the base, as the base README says
    _ok(_run([prog, "new", "--values", "values.yaml", "--output", ".", "--force"],
             tmp_path / "b", env), "regenerate from inside the base")
    # --from a catalog entry, and a servers: tree
    _ok(_run([prog, "new", "--from", "everything", "--values",
              str(ROOT / "tests" / "data" / "from-everything" / "values.yaml"), "--output",
              "everything"], tmp_path, env), "new --from everything")
    _ok(_run([prog, "new", "--values", str(ROOT / "examples" / "team.yaml"), "--output", "team"],
             tmp_path, env), "new (servers: tree)")
    _ok(_run([tool("kubectl"), "kustomize", "team"], tmp_path, env), "kubectl kustomize tree")
    _ok(_run([prog, "check", "team", "everything"], tmp_path, env), "check tree")


# ---------------------------------------------------------------------------------------------
# The commands the documents show


@dataclass(frozen=True)
class Shown:
    document: str
    line: int
    command: str


def _commands(document: str, text: str) -> Iterator[Shown]:
    """Each command of a document: the lines of fenced blocks, and inline code spans, that
    start like a command (see _COMMAND). Synopses are yielded too; the test tells them apart."""
    fenced = re.compile(r"^```[\w-]*\n(.*?)^```", re.M | re.S)
    spans = []
    for block in fenced.finditer(text):
        spans.append((block.start(), block.end()))
        first = text.count("\n", 0, block.start(1)) + 1
        for offset, line in enumerate(block.group(1).splitlines()):
            line = line.strip()
            if _COMMAND.match(line + " "):
                yield Shown(document, first + offset, line)
    for match in re.finditer(r"`([^`\n]+)`", text):
        if any(a <= match.start() < b for a, b in spans):
            continue
        command = match.group(1).strip()
        # `mcp-scaffold new` alone names the command in prose; a command has an argument.
        if _COMMAND.match(command + " ") and re.search(r"\s-", command):
            yield Shown(document, text.count("\n", 0, match.start()) + 1, command)


def _options(help_text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_text))


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's copy of the project, with the files the documents' commands name as
    placeholders: `v.yaml`, `my.yaml`, `./server.json`, `overlays/prod`, `k8s/`."""
    home = _copy_project(tmp_path_factory.mktemp("project"))
    shutil.copy(ROOT / "examples" / "minimal.yaml", home / "v.yaml")
    my = yaml.safe_load((ROOT / "tests" / "data" / "from-everything" / "values.yaml").read_text())
    (home / "my.yaml").write_text(yaml.safe_dump(my))
    (home / "server.json").write_text(json.dumps({
        "name": "io.github.acme/weather", "description": "Weather", "version": "1.2.0",
        "packages": [{"registryType": "oci",
                      "identifier": "ghcr.io/acme/weather:1.2.0@sha256:" + "a" * 64,
                      "transport": {"type": "streamable-http",
                                    "url": "http://localhost:9000/mcp"}}]}))
    (home / "overlays" / "prod").mkdir(parents=True)
    (home / "overlays" / "prod" / "kustomization.yaml").write_text(
        "resources:\n- ../../deploy/github-mcp\n")
    shutil.copytree(ROOT / "examples" / "minimal", home / "k8s")
    return home


def test_every_command_the_documents_show_runs(project: Path) -> None:
    shown = [c for doc in DOCUMENTS for c in _commands(doc, (ROOT / doc).read_text())]
    assert shown[0].command.startswith("python3 -m venv .venv && .venv/bin/pip install ."), (
        "the README's first command installs the tool")
    env = _env(project / ".venv" / "bin")
    ran = 0
    for item in shown:
        where = f"{item.document}:{item.line}: {item.command}"
        if _SYNOPSIS.search(item.command):
            words = item.command.split()
            sub = words[1] if len(words) > 1 and not words[1].startswith("-") else None
            helped = _ok(_run(["mcp-scaffold", *([sub] if sub else []), "--help"], project, env),
                         where)
            missing = _options(item.command) - _options(helped)
            assert not missing, f"{where}: {sorted(missing)} not in --help"
            continue
        _ok(_run(item.command, project, env), where)
        ran += 1
    assert ran >= 12, ran
    assert (project / "deploy" / "github-mcp" / "kustomization.yaml").is_file()
    assert json.loads((project / "results.sarif").read_text())["version"] == "2.1.0"


def test_every_command_a_generated_readme_shows_runs(installed: Installed,
                                                     tmp_path: Path) -> None:
    """The base README and the tree README print how to apply, regenerate and review: run
    what can run here, from the directory the README is in, and the tree still builds."""
    env = _env(installed.venv / "bin")
    _ok(_run(["mcp-scaffold", "new", "--values", str(ROOT / "examples" / "github-mcp.yaml"),
              "--output", "base"], tmp_path, env), "new")
    _ok(_run(["mcp-scaffold", "new", "--values", str(ROOT / "examples" / "team.yaml"),
              "--output", "tree"], tmp_path, env), "new tree")
    readmes = sorted([*tmp_path.glob("*/README.md"), *tmp_path.glob("tree/*/README.md")])
    assert len(readmes) >= 5
    ran = 0
    for readme in readmes:
        for item in _commands(str(readme.relative_to(tmp_path)), readme.read_text()):
            _ok(_run(item.command, readme.parent, env), f"{item.document}:{item.line}: "
                f"{item.command}")
            ran += 1
    assert ran >= 2 * len(readmes) - 1
    for built in ("base", "tree"):
        _ok(_run([tool("kubectl"), "kustomize", built], tmp_path, env), f"{built} still builds")
    assert "No findings" in _ok(_run("kubectl kustomize tree | mcp-scaffold check -", tmp_path,
                                     env), "tree check")
