"""Writing: atomic, never over an existing output without --force, dry runs write nothing,
`-` is one YAML stream, and the same values give the same bytes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffold import write as write_mod

from support import EXAMPLES

VALUES = str(EXAMPLES / "github-mcp.yaml")


def _tree(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_writes_base_and_refuses_to_overwrite(tmp_path: Path, cli: Any) -> None:
    out = tmp_path / "deploy" / "github-mcp"
    r = cli("new", "--values", VALUES, "--output", str(out))
    assert r.code == 0, r.err
    first = _tree(out)
    assert "kustomization.yaml" in first and "deployment.yaml" in first
    (out / "deployment.yaml").write_text("# my edit\n")
    r = cli("new", "--values", VALUES, "--output", str(out))
    assert r.code == 2 and "--force" in r.err
    assert (out / "deployment.yaml").read_text() == "# my edit\n"
    r = cli("new", "--values", VALUES, "--output", str(out), "--force")
    assert r.code == 0
    assert _tree(out) == first
    assert [p.name for p in out.parent.iterdir()] == ["github-mcp"]  # no temp dirs left


def test_empty_existing_directory_is_fine(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "out").mkdir()
    assert cli("new", "--values", VALUES, "--output", str(tmp_path / "out")).code == 0


def test_output_that_is_a_file_is_refused(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "out").write_text("x")
    r = cli("new", "--values", VALUES, "--output", str(tmp_path / "out"), "--force")
    assert r.code == 2 and "not a directory" in r.err
    assert (tmp_path / "out").read_text() == "x"


def test_same_values_same_bytes(tmp_path: Path, cli: Any) -> None:
    cli("new", "--values", VALUES, "--output", str(tmp_path / "a"))
    cli("new", "--values", VALUES, "--output", str(tmp_path / "b"))
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_dry_run_lists_and_writes_nothing(tmp_path: Path, cli: Any) -> None:
    out = tmp_path / "out"
    r = cli("new", "--values", VALUES, "--output", str(out), "--dry-run")
    assert r.code == 0
    listed = [line.split("\t")[0] for line in r.out.splitlines()]
    assert str(out / "deployment.yaml") in listed and str(out / "values.yaml") in listed
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_stdout_stream_holds_every_object(cli: Any) -> None:
    r = cli("new", "--values", VALUES, "--output", "-")
    assert r.code == 0
    docs = [d for d in yaml.safe_load_all(r.out) if d]
    kinds = sorted(d["kind"] for d in docs)
    # three NetworkPolicies: the default-deny, the server's, and the ingress allow on its
    # downstream postgres in the same namespace
    assert kinds == sorted(["Namespace", "ServiceAccount", "Role", "RoleBinding", "NetworkPolicy",
                            "NetworkPolicy", "NetworkPolicy", "SecretProviderClass", "Deployment",
                            "Service", "PodDisruptionBudget"])
    assert r.err == ""  # status goes to stderr, and there is none for a stream


def test_interrupted_write_leaves_old_base_and_no_debris(
        tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    assert cli("new", "--values", VALUES, "--output", str(out)).code == 0
    before = _tree(out)
    real_rename = os.rename
    calls = []

    def interrupted_rename(src: Any, dst: Any) -> None:
        calls.append((src, dst))
        if len(calls) == 2:  # the old base has moved aside; the new one is about to go in
            raise KeyboardInterrupt
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", interrupted_rename)
    r = cli("new", "--values", VALUES, "--output", str(out), "--force")
    assert r.code == 130 and "nothing was written" in r.err
    monkeypatch.setattr(os, "rename", real_rename)
    assert _tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_interrupt_while_writing_files_leaves_nothing(
        tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", boom)
    r = cli("new", "--values", VALUES, "--output", str(tmp_path / "out"))
    assert r.code == 130
    assert list(tmp_path.iterdir()) == []


def test_default_output_is_deploy_name(tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("new", "--values", VALUES).code == 0
    assert (tmp_path / "deploy" / "github-mcp" / "kustomization.yaml").exists()


def test_schema_command_prints_the_schema(cli: Any) -> None:
    import json

    r = cli("schema")
    assert r.code == 0
    schema = json.loads(r.out)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
    assert {"name", "namespace", "image", "port", "secrets", "kubernetesVersion"} <= set(schema["properties"])


def test_provider_warnings_are_printed_but_do_not_stop(tmp_path: Path, cli: Any) -> None:
    data = yaml.safe_load((EXAMPLES / "vault-mcp.yaml").read_text())
    data["secrets"]["vault"]["objects"][0]["secretPath"] = "secret/github-mcp"
    f = tmp_path / "v.yaml"
    f.write_text(yaml.safe_dump(data))
    r = cli("new", "--values", str(f), "--output", "-")
    assert r.code == 0
    assert "warning:" in r.err and "secrets.vault.objects[0].secretPath" in r.err and "/data/" in r.err


def test_a_directory_that_changes_before_it_is_moved_aside_is_put_back(
        tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Someone writes into the base after it was checked (under the lock) and before it is
    # moved aside: what was moved is judged again, found changed, and put back.
    out = tmp_path / "out"
    assert cli("new", "--values", VALUES, "--output", str(out)).code == 0
    before = _tree(out)
    real_fsync_dir = write_mod._fsync_dir

    def meanwhile(path: Path) -> None:
        if not (out / "mine.txt").exists():
            (out / "mine.txt").write_text("mine\n")
        real_fsync_dir(path)

    monkeypatch.setattr(write_mod, "_fsync_dir", meanwhile)
    r = cli("new", "--values", str(EXAMPLES / "minimal.yaml"), "--output", str(out), "--force")
    assert r.code == 2
    assert "changed while the new base was being written" in r.err and "mine.txt" in r.err
    assert _tree(out) == {**before, "mine.txt": b"mine\n"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_file_that_appears_in_the_old_base_at_the_last_moment_is_kept(
        tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Past every check, the old base is removed by known names only, never recursively: a file
    # that slipped in is kept with its directory, and the user is told where.
    out = tmp_path / "out"
    assert cli("new", "--values", VALUES, "--output", str(out)).code == 0
    real_remove = write_mod._remove_known

    def slipped_in(directory: Path, names: list[str]) -> str | None:
        if directory.name.startswith(".out.old."):
            (directory / "late.txt").write_text("late\n")
        return real_remove(directory, names)

    monkeypatch.setattr(write_mod, "_remove_known", slipped_in)
    r = cli("new", "--values", str(EXAMPLES / "minimal.yaml"), "--output", str(out), "--force")
    assert r.code == 0, r.err
    assert _tree(out) == _tree(EXAMPLES / "minimal")
    kept = [p for p in tmp_path.iterdir() if p.name != "out"]
    assert len(kept) == 1 and _tree(kept[0]) == {"late.txt": b"late\n"}
    assert f"was kept at {kept[0]}" in r.err


def test_a_signal_during_the_questions_keeps_its_exit_code(
        cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The wizard turns any KeyboardInterrupt into Interrupted (exit 130); a SIGTERM under it
    # still exits 143, as it does everywhere else.
    import signal

    from scaffold import pipeline
    from scaffold.errors import Interrupted, Signalled

    def asked(*args: Any, **kwargs: Any) -> int:
        try:
            raise Signalled(signal.SIGTERM)
        except KeyboardInterrupt:
            raise Interrupted() from None

    monkeypatch.setattr(pipeline, "new", asked)
    r = cli("new", "--output", "-")
    assert r.code == 143 and r.err == "mcp-scaffold: interrupted (SIGTERM); nothing was written\n"
