"""Many servers in one namespace: inheritance, the tree `new` writes (streamed, listed,
written, replaced with --force), bad input naming servers[i].key, and two single-server bases
joining one namespace with createNamespace false, built together by the real kubectl."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffold import servers

from support import EXAMPLES, run_tool, tool

TEAM: dict[str, Any] = yaml.safe_load((EXAMPLES / "team.yaml").read_text())
MINIMAL: dict[str, Any] = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())


def _file(tmp_path: Path, data: dict[str, Any], name: str = "values.yaml") -> Path:
    f = tmp_path / name
    f.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return f


# --- inheritance ---------------------------------------------------------------------------


def test_mappings_merge_and_everything_else_is_replaced() -> None:
    shared = {"labels": {"team": "a", "cost": "x"}, "args": ["--a"], "port": 3000,
              "secrets": {"provider": "vault", "vault": {"vaultAddress": "https://v:8200"}}}
    server = {"labels": {"cost": "y"}, "args": ["--b"],
              "secrets": {"vault": {"roleName": "r"}}}
    merged = servers.merge(shared, server)
    assert merged == {"labels": {"team": "a", "cost": "y"}, "args": ["--b"], "port": 3000,
                      "secrets": {"provider": "vault",
                                  "vault": {"vaultAddress": "https://v:8200", "roleName": "r"}}}
    assert shared["labels"] == {"team": "a", "cost": "x"}  # the shared keys are not changed


def test_each_server_is_checked_after_inheritance() -> None:
    team = servers.validate(copy.deepcopy(TEAM), "team.yaml")
    by_name = {v["name"]: v for v in team.servers}
    assert list(by_name) == ["postgres-mcp", "fetch-mcp", "memory-mcp"]
    assert all(v["namespace"] == "team-ai" and v["createNamespace"] is False
               for v in team.servers)
    assert by_name["postgres-mcp"]["secrets"]["vault"]["vaultAddress"] == "https://vault.vault.svc:8200"
    assert by_name["postgres-mcp"]["port"] == 3000 and by_name["memory-mcp"]["port"] == 8080
    # Shared Vault settings reach only the servers that use Vault.
    assert "vault" not in by_name["memory-mcp"]["secrets"]
    assert all(v["labels"] == {"team": "ai-platform"} for v in team.servers)


# --- the tree ------------------------------------------------------------------------------


def test_output_dash_streams_the_whole_tree(tmp_path: Path, cli: Any) -> None:
    r = cli("new", "--values", str(EXAMPLES / "team.yaml"), "--output", "-")
    assert r.code == 0, r.err
    docs = [d for d in yaml.safe_load_all(r.out) if d]
    assert [d["kind"] for d in docs].count("Namespace") == 1
    assert sorted(d["metadata"]["name"] for d in docs if d["kind"] == "Deployment") == [
        "fetch-mcp", "memory-mcp", "postgres-mcp"]
    assert docs[0]["kind"] == "Namespace"  # applied first
    assert not (tmp_path / "deploy").exists()


def test_dry_run_lists_the_tree(tmp_path: Path, cli: Any) -> None:
    out = tmp_path / "team"
    r = cli("new", "--values", str(EXAMPLES / "team.yaml"), "--output", str(out), "--dry-run")
    assert r.code == 0, r.err
    listed = [line.split("\t")[0] for line in r.out.splitlines()]
    expected = sorted(p.relative_to(EXAMPLES / "team").as_posix()
                      for p in (EXAMPLES / "team").rglob("*") if p.is_file())
    assert sorted(str(Path(p).relative_to(out)) for p in listed) == expected
    assert not out.exists()


def test_the_tree_is_written_and_replaced_only_with_force(tmp_path: Path, cli: Any) -> None:
    out = tmp_path / "team"
    values = str(EXAMPLES / "team.yaml")
    assert cli("new", "--values", values, "--output", str(out)).code == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    golden = sorted(p.relative_to(EXAMPLES / "team").as_posix()
                    for p in (EXAMPLES / "team").rglob("*") if p.is_file())
    assert written == golden
    assert (out / "namespace" / "namespace.yaml").read_text() == (
        EXAMPLES / "team" / "namespace" / "namespace.yaml").read_text()
    r = cli("new", "--values", values, "--output", str(out))
    assert r.code == 2 and "--force" in r.err
    # A server dropped from the list: --force replaces the tree, its directory goes too.
    fewer = copy.deepcopy(TEAM)
    fewer["servers"] = fewer["servers"][:2]
    r = cli("new", "--values", str(_file(tmp_path, fewer)), "--output", str(out), "--force")
    assert r.code == 0, r.err
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["fetch-mcp", "namespace",
                                                                 "postgres-mcp"]


@pytest.mark.parametrize("where", ["fetch-mcp/notes.md", "namespace/extra.yaml", "mine/x.yaml",
                                   "fetch-mcp/sub/x.yaml"])
def test_force_refuses_a_tree_holding_files_it_did_not_write(tmp_path: Path, cli: Any,
                                                              where: str) -> None:
    out = tmp_path / "team"
    values = str(EXAMPLES / "team.yaml")
    assert cli("new", "--values", values, "--output", str(out)).code == 0
    (out / where).parent.mkdir(parents=True, exist_ok=True)
    (out / where).write_text("mine\n")
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    r = cli("new", "--values", values, "--output", str(out), "--force")
    assert r.code == 2 and "does not write" in r.err, r.err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    assert (out / where).read_text() == "mine\n"


def test_force_refuses_a_subdirectory_without_the_marker(tmp_path: Path, cli: Any) -> None:
    out = tmp_path / "team"
    values = str(EXAMPLES / "team.yaml")
    assert cli("new", "--values", values, "--output", str(out)).code == 0
    k = out / "memory-mcp" / "kustomization.yaml"
    k.write_text(k.read_text().replace("# mcp-scaffold: generated base\n", ""))
    r = cli("new", "--values", values, "--output", str(out), "--force")
    assert r.code == 2, r.err
    assert k.exists() and (out / "memory-mcp" / "deployment.yaml").exists()


# --- bad input -----------------------------------------------------------------------------

# (id, change to the team file, key the message must name, words it must contain)
BAD: list[tuple[str, Any, str, str]] = [
    ("server-sets-namespace", lambda d: d["servers"][0].update(namespace="other"),
     "servers[0].namespace", "top level"),
    ("server-sets-version", lambda d: d["servers"][1].update(kubernetesVersion="1.32"),
     "servers[1].kubernetesVersion", "top level"),
    ("server-sets-create-namespace", lambda d: d["servers"][2].update(createNamespace=True),
     "servers[2].createNamespace", "top level"),
    ("nested-servers", lambda d: d["servers"][0].update(servers=[]), "servers[0].servers",
     "top level"),
    ("same-name", lambda d: d["servers"][2].update(name="fetch-mcp"), "servers[2].name",
     "servers[1].name"),
    ("name-namespace", lambda d: d["servers"][0].update(name="namespace"), "servers[0].name",
     "directory"),
    # Names the tree already writes (scaffold/plan.py TREE_POLICY_NAMES and the
    # cloud-identity suffix): the server's NetworkPolicy would replace that one.
    ("name-dns", lambda d: d["servers"][0].update(name="dns"), "servers[0].name",
     "NetworkPolicy of the tree"),
    ("name-default-deny", lambda d: d["servers"][1].update(name="default-deny"),
     "servers[1].name", "NetworkPolicy of the tree"),
    ("name-cloud-identity", lambda d: d["servers"][2].update(
        name=d["servers"][0]["name"] + "-cloud-identity"), "servers[2].name",
     "cloud-identity NetworkPolicy"),
    ("top-name", lambda d: d.update(name="team"), "name", "servers[i].name"),
    ("server-image-tag", lambda d: d["servers"][1].update(image="ghcr.io/acme/x:1.0"),
     "servers[1].image", "digest"),
    ("server-missing-image", lambda d: d["servers"][1].pop("image"), "servers[1].image",
     "missing"),
    ("server-bad-port", lambda d: d["servers"][0].update(port=80), "servers[0].port", "1024"),
    ("server-unknown-key", lambda d: d["servers"][0].update(replcas=2), "servers[0].replcas",
     "replicas"),
    ("server-host-kubernetes", lambda d: d["servers"][1].update(
        externalEgress=[{"host": "api.github.com", "ports": [443]}]),
     "servers[1].externalEgress[0].host", "flavor"),
    ("server-not-mapping", lambda d: d["servers"].append("x"), "servers[3]", "mapping"),
    ("shared-bad-label", lambda d: d["labels"].update({"bad key": "x"}), "labels.bad key",
     "label key"),
    ("shared-namespace-default", lambda d: d.update(namespace="default"), "namespace",
     "default"),
    ("shared-flavor", lambda d: d.update(networkPolicy={"flavor": "calico"}),
     "networkPolicy.flavor", "cilium"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_team_values_exit_2_naming_the_key(case: tuple[Any, ...], tmp_path: Path,
                                               cli: Any) -> None:
    _, change, key, words = case
    data = copy.deepcopy(TEAM)
    change(data)
    f = _file(tmp_path, data)
    out = tmp_path / "out"
    r = cli("new", "--values", str(f), "--output", str(out), "--no-input")
    assert r.code == 2, r.err
    lines = r.err.strip().splitlines()
    hit = [ln for ln in lines if f": {key}: " in ln]
    assert hit and any(words.lower() in ln.lower() for ln in hit), lines
    assert len(hit) == len(set(hit))  # an inherited problem is named once
    assert "Traceback" not in r.err
    assert not out.exists() and list(tmp_path.iterdir()) == [f]


# --- createNamespace: false ------------------------------------------------------------------


def test_two_single_server_bases_share_a_namespace(tmp_path: Path, cli: Any) -> None:
    # One base creates the namespace, the other joins it: an overlay listing both builds with
    # the real kubectl into one Namespace and one default-deny.
    first = {**copy.deepcopy(MINIMAL), "name": "first-mcp"}
    second = {**copy.deepcopy(MINIMAL), "name": "second-mcp", "createNamespace": False}
    for data in (first, second):
        f = _file(tmp_path, data, f"{data['name']}.yaml")
        r = cli("new", "--values", str(f), "--output", str(tmp_path / data["name"]))
        assert r.code == 0, r.err
    joined = tmp_path / "second-mcp"
    assert not (joined / "namespace.yaml").exists()
    readme = (joined / "README.md").read_text()
    assert "createNamespace: false" in readme and "default-deny" in readme
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [../first-mcp, ../second-mcp]\n")
    proc = run_tool(tool("kubectl"), "kustomize", str(overlay))
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"] == [
        MINIMAL["namespace"]]
    deny = [d for d in docs if d["kind"] == "NetworkPolicy" and d["spec"]["podSelector"] == {}]
    assert [d["metadata"]["name"] for d in deny] == ["first-mcp-default-deny"]
    assert sorted(d["metadata"]["name"] for d in docs if d["kind"] == "Deployment") == [
        "first-mcp", "second-mcp"]


def test_two_bases_that_both_create_the_namespace_do_not_build(tmp_path: Path, cli: Any) -> None:
    # Why createNamespace exists: kustomize refuses the second Namespace.
    for name in ("first-mcp", "second-mcp"):
        f = _file(tmp_path, {**copy.deepcopy(MINIMAL), "name": name}, f"{name}.yaml")
        assert cli("new", "--values", str(f), "--output", str(tmp_path / name)).code == 0
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [../first-mcp, ../second-mcp]\n")
    proc = run_tool(tool("kubectl"), "kustomize", str(overlay))
    assert proc.returncode != 0 and "Namespace" in proc.stderr


def test_force_refuses_a_tree_whose_server_directory_is_a_link(tmp_path: Path, cli: Any) -> None:
    # A link to a generated-looking base elsewhere: never followed, never emptied.
    out = tmp_path / "team"
    values = str(EXAMPLES / "team.yaml")
    assert cli("new", "--values", values, "--output", str(out)).code == 0
    elsewhere = tmp_path / "elsewhere"
    (out / "memory-mcp").rename(elsewhere)
    (out / "memory-mcp").symlink_to(elsewhere, target_is_directory=True)
    kept = sorted(p.name for p in elsewhere.iterdir())
    r = cli("new", "--values", values, "--output", str(out), "--force")
    assert r.code == 2 and "memory-mcp" in r.err, r.err
    assert sorted(p.name for p in elsewhere.iterdir()) == kept
    assert (out / "memory-mcp").is_symlink()


@pytest.mark.parametrize("name", ["dns", "default-deny"])
def test_a_server_name_that_takes_the_name_of_another_object_is_refused(
        name: str, cli: Any, tmp_path: Path) -> None:
    data = yaml.safe_load((EXAMPLES / "team.yaml").read_text())
    data["servers"][2]["name"] = name
    (tmp_path / "team.yaml").write_text(yaml.safe_dump(data))
    result = cli("new", "--values", str(tmp_path / "team.yaml"), "--output", str(tmp_path / "t"))
    assert result.code == 2
    [line] = result.err.splitlines()
    assert line.startswith(f"mcp-scaffold: error: {tmp_path / 'team.yaml'}: servers[2].name: ")
    assert "NetworkPolicy" in line and line.endswith("choose another name")
    assert not (tmp_path / "t").exists()


def test_a_server_named_after_another_servers_object_is_refused(cli: Any, tmp_path: Path) -> None:
    data = yaml.safe_load((EXAMPLES / "team.yaml").read_text())
    data["servers"][1]["cloudIdentity"] = {"aws": {"roleArn": "arn:aws:iam::111122223333:role/f",
                                                   "mode": "pod-identity"}}
    data["servers"][2]["name"] = "fetch-mcp-cloud-identity"
    (tmp_path / "team.yaml").write_text(yaml.safe_dump(data))
    result = cli("new", "--values", str(tmp_path / "team.yaml"), "--output", str(tmp_path / "t"))
    assert result.code == 2
    assert "servers[2].name: 'fetch-mcp-cloud-identity'" in result.err


def test_objects_that_would_replace_each_other_are_found_on_the_rendered_tree() -> None:
    # The generic guard behind the name rule: any two objects of a rendered tree with the same
    # kind, namespace and name (here a hand-made collision the name rule does not know).
    from scaffold import render

    team = servers.validate(yaml.safe_load((EXAMPLES / "team.yaml").read_text()), "team.yaml")
    files = render.render_tree(team)
    clash = next(f for f in files if f.path == "memory-mcp/service.yaml")
    other = next(f for f in files if f.path == "fetch-mcp/service.yaml")
    import dataclasses

    files[files.index(clash)] = dataclasses.replace(
        clash, text=clash.text.replace("name: memory-mcp\n", "name: fetch-mcp\n", 1))
    assert other.is_manifest
    problems = servers.name_collisions(files, team)
    assert [p.key for p in problems] == ["servers[2].name"]
