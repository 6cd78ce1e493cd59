"""`new` never loses data: --force replaces only a base the generator wrote, stop signals put
the previous base back, and links, files, unwritable parents and a second writer are refused
with exit 2. Each case runs the real installed command (or the real CLI in a child process
with one OS call paused, so a signal or a second writer arrives while the write is under way)
and compares every byte of what was there before."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scaffold.write import MARKER, base_file_names, carries_marker

from support import EXAMPLES, ROOT

MINIMAL = EXAMPLES / "minimal.yaml"
GOLDEN = EXAMPLES / "minimal"  # what `new --values examples/minimal.yaml` writes
# The command the package installs, beside the interpreter running the tests.
COMMAND = str(Path(sys.executable).parent / "mcp-scaffold")
ENV = {**os.environ, "MCP_SCAFFOLD_NO_CACHE": "1"}

# A child running the real CLI with one OS call, as scaffold.write makes it, paused on its Nth
# use: it prints "paused" and waits until its stdin is closed. Only write.py sees the hook (it
# gets its own copy of the os module). Stop signals start as a terminal gives them, whatever
# the test runner inherited.
_PAUSED_CHILD = """
import os, signal, sys, types
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGHUP, signal.SIG_DFL)
from scaffold import write
call, nth = sys.argv[1], int(sys.argv[2])
real = getattr(os, call)
seen = [0]
def paused(*args, **kwargs):
    seen[0] += 1
    if seen[0] == nth:
        sys.stdout.write("paused\\n")
        sys.stdout.flush()
        sys.stdin.read()
    return real(*args, **kwargs)
hooked = types.ModuleType("os")
hooked.__dict__.update(os.__dict__)
setattr(hooked, call, paused)
write.os = hooked
from scaffold.cli import main
sys.exit(main(sys.argv[3:]))
"""


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        drop_root_override: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMMAND, *args], cwd=cwd, env=env or ENV, capture_output=True,
                          text=True, timeout=120, check=False,
                          preexec_fn=_without_dac_override if drop_root_override else None)


def _without_dac_override() -> None:
    # Tests run as root, and root writes anywhere: drop CAP_DAC_OVERRIDE and
    # CAP_DAC_READ_SEARCH from the bounding set (PR_CAPBSET_DROP = 24, linux/prctl.h), so the
    # command exec'd next honours permission bits like any user. Not root: nothing to drop.
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH (linux/capability.h)
        if libc.prctl(24, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def paused_child(call: str, nth: int, *args: str, cwd: Path | None = None
                 ) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", _PAUSED_CHILD, call, str(nth), *args],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=ENV, cwd=cwd)
    assert child.stdout is not None
    line = child.stdout.readline()
    if line != "paused\n":
        _, err = child.communicate(timeout=120)
        pytest.fail(f"the child never reached {call} #{nth}: {line!r} {err}")
    return child


def finish(child: subprocess.Popen[str]) -> tuple[int, str]:
    _, err = child.communicate(input="", timeout=120)  # closing stdin lets the paused call go
    return child.returncode, err


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under root: file bytes, link targets, directories (so .git counts too)."""
    seen: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                seen[rel] = f"link -> {os.readlink(path)}"
            elif path.is_dir():
                seen[rel] = "dir"
            else:
                seen[rel] = path.read_bytes()
    return seen


def golden() -> dict[str, bytes | str]:
    return snapshot(GOLDEN)


def one_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcp-scaffold: error: "), err
    assert "internal error" not in err and "Traceback" not in err
    return lines[0]


def values_with(tmp: Path, **changes: object) -> Path:
    data = yaml.safe_load(MINIMAL.read_text())
    data.update(changes)
    path = tmp / "values-changed.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def base(at: Path, values: Path = MINIMAL) -> dict[str, bytes | str]:
    r = run("new", "--values", str(values), "--output", str(at))
    assert r.returncode == 0, r.stderr
    return snapshot(at)


def dot_entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# --- what --force may replace -------------------------------------------------------------


@pytest.mark.parametrize("output", [".", "absolute"])
def test_force_refuses_a_git_work_tree(tmp_path: Path, output: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    assert subprocess.run([*git, "init", "-q"], cwd=repo, check=False).returncode == 0
    (repo / "app.py").write_text("print('mine')\n")
    (repo / "src").mkdir()
    (repo / "src" / "lib.py").write_text("X = 1\n")
    shutil.copy(MINIMAL, repo / "v.yaml")
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "mine"], cwd=repo, check=True)
    before = snapshot(repo)
    assert any(k.startswith(".git/objects/") for k in before)

    r = run("new", "--values", "v.yaml", "--output", "." if output == "." else str(repo),
            "--force", cwd=repo)
    assert r.returncode == 2
    line = one_error(r.stderr)
    assert "git work tree" in line and "not a base written by mcp-scaffold" in line
    assert "with or without --force" in line
    assert snapshot(repo) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


def test_force_refuses_the_current_directory_that_is_not_a_base(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me\n")
    (tmp_path / "sub").mkdir()
    before = snapshot(tmp_path)
    r = run("new", "--values", str(MINIMAL), "--output", ".", "--force", cwd=tmp_path)
    assert r.returncode == 2
    assert "is not empty and is not a base written by mcp-scaffold" in one_error(r.stderr)
    assert snapshot(tmp_path) == before


def test_the_current_directory_that_is_a_base_is_regenerated_in_place(tmp_path: Path) -> None:
    # What every base README prints: `mcp-scaffold new --values values.yaml --output . --force`
    # from inside the base. The directory itself stays (the shell standing in it keeps working);
    # its files are the new base's.
    base(tmp_path / "b")
    data = yaml.safe_load((tmp_path / "b" / "values.yaml").read_text())
    data["labels"] = {"team": "regenerated"}
    (tmp_path / "b" / "values.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "v2.yaml").write_text(yaml.safe_dump(data))
    expected = base(tmp_path / "expected", tmp_path / "v2.yaml")
    inode = os.stat(tmp_path / "b").st_ino
    r = run("new", "--values", "values.yaml", "--output", ".", "--force", cwd=tmp_path / "b")
    assert r.returncode == 0, r.stderr
    assert os.stat(tmp_path / "b").st_ino == inode
    assert snapshot(tmp_path / "b") == expected
    assert dot_entries(tmp_path) == []
    # a tree's README says the same, from the tree's directory
    tree = tmp_path / "tree"
    r = run("new", "--values", str(EXAMPLES / "team.yaml"), "--output", str(tree))
    assert r.returncode == 0, r.stderr
    before = snapshot(tree)
    r = run("new", "--values", "values.yaml", "--output", ".", "--force", cwd=tree)
    assert r.returncode == 0, r.stderr
    assert snapshot(tree) == before and dot_entries(tmp_path) == []


def test_a_target_holding_the_current_directory_is_refused(tmp_path: Path) -> None:
    # Replacing it would leave the shell standing in a deleted directory.
    tree = tmp_path / "tree"
    assert run("new", "--values", str(EXAMPLES / "team.yaml"), "--output", str(tree)).returncode == 0
    before = snapshot(tree)
    r = run("new", "--values", "../values.yaml", "--output", "..", "--force",
            cwd=tree / "fetch-mcp")
    assert r.returncode == 2
    assert "holds the current directory" in one_error(r.stderr)
    assert snapshot(tree) == before
    before = base(tmp_path / "b")
    r = run("new", "--values", "b/values.yaml", "--output", "b/..", "--force", cwd=tmp_path)
    assert r.returncode == 2 and snapshot(tmp_path / "b") == before


@pytest.mark.parametrize("nth", [1, 4, 12])
def test_a_stop_while_the_current_directory_is_regenerated_puts_it_back(
        tmp_path: Path, nth: int) -> None:
    before = base(tmp_path / "b", values_with(tmp_path, replicas=2))
    child = paused_child("rename", nth, "new", "--values", "values.yaml", "--output", ".",
                         "--force", cwd=tmp_path / "b")
    child.send_signal(signal.SIGTERM)
    code, err = finish(child)
    assert code == 143, err
    assert snapshot(tmp_path / "b") == before
    assert dot_entries(tmp_path) == []


def test_force_refuses_the_directory_holding_the_values_file(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(MINIMAL, work / "v.yaml")
    (work / "deployment.yaml").write_text("# my own deployment\n")
    before = snapshot(work)
    r = run("new", "--values", str(work / "v.yaml"), "--output", str(work), "--force")
    assert r.returncode == 2
    line = one_error(r.stderr)
    assert f"holds the values file being read ({work / 'v.yaml'})" in line
    assert snapshot(work) == before


def test_force_refuses_a_home_directory(tmp_path: Path) -> None:
    home = tmp_path / "home" / "me"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE\n")
    (home / ".bashrc").write_text("alias k=kubectl\n")
    before = snapshot(home)
    r = run("new", "--values", str(MINIMAL), "--output", str(home), "--force",
            env={**ENV, "HOME": str(home)})
    assert r.returncode == 2
    assert "is your home directory" in one_error(r.stderr)
    assert snapshot(home) == before


def test_force_refuses_a_base_holding_files_the_generator_does_not_write(tmp_path: Path) -> None:
    out = tmp_path / "b"
    base(out)
    (out / "overlay-notes.md").write_text("mine\n")
    (out / "patches").mkdir()
    before = snapshot(out)
    r = run("new", "--values", str(MINIMAL), "--output", str(out), "--force")
    assert r.returncode == 2
    line = one_error(r.stderr)
    assert "overlay-notes.md" in line and "patches" in line and "does not write" in line
    assert snapshot(out) == before


def test_without_the_marker_a_kustomize_dir_is_not_a_base(tmp_path: Path) -> None:
    out = tmp_path / "b"
    base(out)
    kustomization = out / "kustomization.yaml"
    kustomization.write_text("\n".join(line for line in kustomization.read_text().splitlines()
                                       if "mcp-scaffold" not in line) + "\n")
    before = snapshot(out)
    r = run("new", "--values", str(MINIMAL), "--output", str(out), "--force")
    assert r.returncode == 2
    assert MARKER in one_error(r.stderr)
    assert snapshot(out) == before


def test_a_base_written_by_0_1_0_can_be_regenerated(tmp_path: Path) -> None:
    # 0.1.0 previews wrote no marker line; their first line names the generator instead.
    out = tmp_path / "b"
    base(out)
    kustomization = out / "kustomization.yaml"
    lines = kustomization.read_text().splitlines()
    assert lines[0] == MARKER
    legacy = ["# Kustomize base for echo-mcp, generated by mcp-scaffold from values.yaml.",
              *lines[4:]]
    kustomization.write_text("\n".join(legacy) + "\n")
    r = run("new", "--values", str(MINIMAL), "--output", str(out), "--force")
    assert r.returncode == 0, r.stderr
    assert snapshot(out) == golden()


def test_regenerating_in_place_reads_the_values_before_replacing_them(tmp_path: Path) -> None:
    out = tmp_path / "b"
    base(out, values_with(tmp_path, replicas=2))
    assert (out / "poddisruptionbudget.yaml").exists()
    data = yaml.safe_load((out / "values.yaml").read_text())
    data["replicas"] = 1
    (out / "values.yaml").write_text(yaml.safe_dump(data))
    r = run("new", "--values", str(out / "values.yaml"), "--output", str(out), "--force")
    assert r.returncode == 0, r.stderr
    # The file a single replica does not need is gone; the rest is what minimal.yaml gives.
    assert snapshot(out) == golden()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "values-changed.yaml"]


def test_every_file_new_writes_is_a_known_base_file() -> None:
    # Otherwise a base written today would be refused by the next --force.
    # A tree's directories (namespace/, one per server) are bases of their own.
    bases = [d for example in EXAMPLES.iterdir() if example.is_dir()
             for d in (example, *(s for s in example.iterdir() if s.is_dir()))]
    assert len(bases) > len([e for e in EXAMPLES.iterdir() if e.is_dir()])  # a tree is here
    for base in bases:
        assert {p.name for p in base.iterdir() if p.is_file()} <= base_file_names(), base
        text = (base / "kustomization.yaml").read_text()
        assert text.splitlines()[0] == MARKER and carries_marker(text)


# --- links, files, parents ------------------------------------------------------------------


def test_a_symlink_to_a_base_is_refused_and_both_are_kept(tmp_path: Path) -> None:
    real = tmp_path / "real"
    before = base(real)
    (tmp_path / "link").symlink_to("real")
    r = run("new", "--values", str(MINIMAL), "--output", str(tmp_path / "link"), "--force")
    assert r.returncode == 2
    line = one_error(r.stderr)
    assert "is a symbolic link (to real)" in line and "give the real directory" in line
    assert os.readlink(tmp_path / "link") == "real"
    assert snapshot(real) == before


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_dangling_symlink_is_refused_and_nothing_is_created(tmp_path: Path,
                                                               force: list[str]) -> None:
    (tmp_path / "link").symlink_to("nowhere/base")
    r = run("new", "--values", str(MINIMAL), "--output", str(tmp_path / "link"), *force)
    assert r.returncode == 2
    assert "is a symbolic link (to nowhere/base)" in one_error(r.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link"]


def test_a_symlink_to_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("mine\n")
    (tmp_path / "link").symlink_to("f")
    r = run("new", "--values", str(MINIMAL), "--output", str(tmp_path / "link"), "--force")
    assert r.returncode == 2 and "symbolic link" in one_error(r.stderr)
    assert (tmp_path / "f").read_text() == "mine\n"


def test_a_parent_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("mine\n")
    r = run("new", "--values", str(MINIMAL), "--output", str(tmp_path / "f" / "sub" / "b"))
    assert r.returncode == 2
    assert f"{tmp_path / 'f'} is not a directory" in one_error(r.stderr)
    assert snapshot(tmp_path) == {"f": b"mine\n"}


def test_an_unwritable_parent_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        r = run("new", "--values", str(MINIMAL), "--output", str(locked / "deeper" / "b"),
                drop_root_override=True)
        assert r.returncode == 2
        assert f"no permission to write in {locked}" in one_error(r.stderr)
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_a_base_in_an_unwritable_parent_is_kept(tmp_path: Path) -> None:
    # The base itself passes every check; the first write (the lock beside it) fails.
    locked = tmp_path / "locked"
    before = base(locked / "b")
    locked.chmod(0o555)
    try:
        r = run("new", "--values", str(values_with(tmp_path, replicas=2)), "--output",
                str(locked / "b"), "--force", drop_root_override=True)
        assert r.returncode == 2
        line = one_error(r.stderr)
        assert f"cannot write in {locked}" in line and "Permission denied" in line
    finally:
        locked.chmod(0o755)
    assert snapshot(locked / "b") == before and os.listdir(locked) == ["b"]


# --- one writer, stop signals ---------------------------------------------------------------


def test_a_second_writer_on_the_same_target_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "b"
    first = paused_child("fsync", 1, "new", "--values", str(MINIMAL), "--output", str(out))
    try:
        r = run("new", "--values", str(MINIMAL), "--output", str(out), "--force")
        assert r.returncode == 2
        assert f"another mcp-scaffold is writing {out}" in one_error(r.stderr)
    finally:
        code, err = finish(first)
    assert code == 0, err
    assert snapshot(out) == golden()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # no lock, staging or backup


def test_a_lock_file_left_by_a_killed_run_does_not_block(tmp_path: Path) -> None:
    (tmp_path / ".b.lock").write_text("")
    r = run("new", "--values", str(MINIMAL), "--output", str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


STOPS = [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]


@pytest.mark.parametrize(("signum", "code"), STOPS, ids=[s.name for s, _ in STOPS])
@pytest.mark.parametrize(("call", "nth"), [("fsync", 3), ("rename", 1)],
                         ids=["while-writing-files", "while-moving-the-old-base-aside"])
def test_a_stop_signal_puts_the_previous_base_back(
        tmp_path: Path, signum: signal.Signals, code: int, call: str, nth: int) -> None:
    out = tmp_path / "b"
    before = base(out, values_with(tmp_path, replicas=2))  # differs from what the run writes
    child = paused_child(call, nth, "new", "--values", str(MINIMAL), "--output", str(out),
                         "--force")
    child.send_signal(signum)
    returncode, err = finish(child)
    assert returncode == code, err
    assert err == f"mcp-scaffold: interrupted ({signum.name}); nothing was written\n"
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "values-changed.yaml"]


def test_a_signal_after_the_new_base_is_in_place_says_so(tmp_path: Path) -> None:
    out = tmp_path / "b"
    base(out, values_with(tmp_path, replicas=2))
    # The second rename puts the new base in place: past that point nothing is undone.
    child = paused_child("rename", 2, "new", "--values", str(MINIMAL), "--output", str(out),
                         "--force")
    child.send_signal(signal.SIGTERM)
    returncode, err = finish(child)
    assert returncode == 143
    assert err == f"mcp-scaffold: interrupted (SIGTERM) after {out} was written in full\n"
    assert snapshot(out) == golden()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "values-changed.yaml"]


def test_sigterm_before_writing_writes_nothing(tmp_path: Path) -> None:
    # Paused at the first os.lstat of the output: values read and checked, nothing written.
    out = tmp_path / "b"
    child = paused_child("lstat", 1, "new", "--values", str(MINIMAL), "--output", str(out))
    child.send_signal(signal.SIGTERM)
    returncode, err = finish(child)
    assert returncode == 143, err
    assert "nothing was written" in err
    assert list(tmp_path.iterdir()) == []


def test_the_installed_command_is_the_one_under_test() -> None:
    # The subprocess tests above must exercise this checkout, not another installation.
    r = subprocess.run([sys.executable, "-c", "import scaffold; print(scaffold.__file__)"],
                       capture_output=True, text=True, check=True)
    assert Path(r.stdout.strip()).parent == ROOT / "scaffold"
    assert Path(COMMAND).exists()
