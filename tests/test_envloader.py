"""secrets.env delivery, run for real: the generated commands execute under the real POSIX shells
against files laid out as the CSI driver lays them out, and a stand-in server reports the exact
argv and environment it received. The fileKeyRef pieces are validated against the strict 1.35
schemas, the init script is run for real, and its env file is read back by the kubelet's rules.

Two behaviours of the kubelet are re-implemented here as oracles (the kubelet itself cannot run in
a test): `$(VAR)` expansion of command and args (kubernetes/kubernetes
third_party/forked/golang/expansion/expand.go) and the env-file parser used by
`valueFrom.fileKeyRef` (kubernetes/kubernetes pkg/kubelet/util/env/env_util.go, the single-quote
revision whose tests are pkg/kubelet/util/env/env_util_test.go @ fa7ba8e2). The parser is also
checked against `bash --posix` sourcing the file, the same cross-check the kubelet's tests make.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import envloader, policy
from scaffold.envloader import EnvLoad

from kubelet import EnvFileError, kubelet_expand, kubelet_parse_env

# The POSIX shells a server image may carry as /bin/sh: dash (Debian's sh), busybox ash (Alpine,
# distroless "debug", busybox images; scripts/install-tools.py installs it) and bash in POSIX
# mode. All three are required: a missing one fails test_every_shell_is_installed, never skips.
SHELLS = [["sh"], ["busybox", "sh"], ["bash", "--posix"]]
SHELL_IDS = [" ".join(s) for s in SHELLS]


def test_every_shell_is_installed() -> None:
    missing = [s[0] for s in SHELLS if not shutil.which(s[0])]
    assert not missing, f"not installed: {missing}; run scripts/install-tools.py"

# Variables a shell itself puts into the environment of what it execs (PWD by dash and busybox,
# SHLVL and _ by bash): not part of what the loader delivers.
SHELL_ADDED = {b"PWD", b"OLDPWD", b"SHLVL", b"_"}

# The stand-in server: prints its argv and environment as hex, so every byte is compared.
SERVER = """import json, os, sys
json.dump({"argv": [os.fsencode(a).hex() for a in sys.argv[1:]],
           "env": {k.hex(): v.hex() for k, v in os.environb.items()}}, sys.stdout)
"""

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
    "-----END PRIVATE KEY-----\n"
)

# NAME -> exact file content: everything a credential file can hold that a naive loader breaks.
HOSTILE: dict[str, bytes] = {
    "TLS_KEY": PEM.encode(),                                  # multi-line, trailing newline
    "QUOTES": b"it's \"quoted\" and 'single'",
    "DOLLARS": b"$HOME ${PATH} $(id) `id` $$ $1 $@ $*",       # no expansion of any kind
    "BACKSLASHES": b"C:\\new\\table \\\\ \\n \\",              # read -r keeps every backslash
    "EQUALS": b"a=b=c==",
    "DASH": b"-n -e --help",                                  # echo would eat these
    "UNICODE": "żółw 🐢 café".encode(),
    "LATIN1": b"\xe9t\xe9 \xff",                              # not UTF-8: bytes stay bytes
    "BLANKS": b"  lead and trail  \t",
    "NEWLINES": b"\n\nmiddle\n\n\n",                          # every newline kept, trailing too
    "CRLF": b"line1\r\nline2\r\n",
    "NO_EOL": b"no newline at end",
    "EMPTY": b"",
    "GLOB": b"* ? [a-z] ~",
    "SEMICOLON": b"x; rm -rf / & | > <",
}

# Arguments the server must receive unchanged (after the kubelet's own expansion, exactly as it
# would without the loader).
ARGS = ["--name", "with space", "semi;colon && rm -rf /", "$(NOT_DEFINED)", "$HOME", "'single'",
        '"double"', "*", "line\nbreak", "", "--", "-n", "back\\slash", "ünïcödé", "a=b",
        "$$(ESCAPED)"]


# --- helpers ------------------------------------------------------------------------------------


def csi_mount(root: Path, files: Mapping[str, bytes]) -> Path:
    """A directory laid out as the Secrets Store CSI driver's atomic writer leaves it: each name
    a symlink through ..data to a timestamped directory holding the file."""
    mount = root / "mnt" / "secrets"
    data = mount / "..2026_11_27_10_00_00.000000001"
    data.mkdir(parents=True)
    for name, content in files.items():
        (data / name).write_bytes(content)
        (data / name).chmod(0o400)
    (mount / "..data").symlink_to(data.name)
    for name in files:
        (mount / name).symlink_to(f"..data/{name}")
    return mount


def under_shell(command: list[str], shell: list[str]) -> list[str]:
    assert command[0] == envloader.SHELL, "the container runs the image's /bin/sh"
    return [*shell, *command[1:]]


def run(argv: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, env=dict(env), capture_output=True, timeout=60, check=False)


def received(proc: subprocess.CompletedProcess[bytes]) -> tuple[list[bytes], dict[bytes, bytes]]:
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    report = json.loads(proc.stdout)
    env = {bytes.fromhex(k): bytes.fromhex(v) for k, v in report["env"].items()}
    return ([bytes.fromhex(a) for a in report["argv"]],
            {k: v for k, v in env.items() if k not in SHELL_ADDED})


@pytest.fixture()
def server(tmp_path: Path) -> Path:
    path = tmp_path / "server.py"
    path.write_text(SERVER)
    return path


# -I: no PYTHON* variables or user site; -S: no site import (starts in a third of the time).
PYTHON = [sys.executable, "-I", "-S"]
BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": "/tmp", "LANG": "C.UTF-8"}


def wrapped(tmp_path: Path, server: Path, files: Mapping[str, bytes], names: Mapping[str, str],
            args: list[str], shell: list[str]) -> tuple[list[str], subprocess.CompletedProcess[bytes]]:
    """Render the wrapper for `names` (NAME -> file), expand it as the kubelet does with the
    container's declared env, and run command + args."""
    mount = csi_mount(tmp_path, files)
    command = [*PYTHON, str(server), "--flag"]
    container_env = dict(BASE_ENV)
    rendered = envloader.wrapper_command(command, envloader.loads(names, str(mount)))
    argv = [kubelet_expand(a, container_env) for a in [*rendered, *args]]
    return argv, run(under_shell(argv, shell), container_env)


# --- the wrapper, run -----------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS, ids=SHELL_IDS)
def test_wrapper_delivers_every_value_byte_for_byte(tmp_path: Path, server: Path,
                                                    shell: list[str]) -> None:
    files = {f"{name.lower()}.txt": content for name, content in HOSTILE.items()}
    names = {name: f"{name.lower()}.txt" for name in HOSTILE}
    _, proc = wrapped(tmp_path, server, files, names, ARGS, shell)
    argv, env = received(proc)

    expected_env = {k.encode(): v.encode() for k, v in BASE_ENV.items()}
    expected_env.update({name.encode(): content for name, content in HOSTILE.items()})
    assert env == expected_env  # nothing missing, nothing extra (the loop's own variables too)
    # The server's arguments are what the kubelet alone would have given it.
    assert argv == [b"--flag", *(os.fsencode(kubelet_expand(a, BASE_ENV)) for a in ARGS)]
    assert proc.stderr == b""


@pytest.mark.parametrize("shell", SHELLS, ids=SHELL_IDS)
def test_wrapper_reads_file_names_the_kubelet_would_otherwise_rewrite(
        tmp_path: Path, server: Path, shell: list[str]) -> None:
    # A provider may name a file with '$', spaces or '$(...)': the path reaches the shell as data,
    # its '$' doubled so that the kubelet's expansion gives it back as written.
    files = {"a $(HOME) b$$c": b"one", "-leading dash": b"two", "new\nline": b"three"}
    names = {"ONE": "a $(HOME) b$$c", "TWO": "-leading dash", "THREE": "new\nline"}
    _, proc = wrapped(tmp_path, server, files, names, [], shell)
    _, env = received(proc)
    assert (env[b"ONE"], env[b"TWO"], env[b"THREE"]) == (b"one", b"two", b"three")


@pytest.mark.parametrize("shell", SHELLS, ids=SHELL_IDS)
@pytest.mark.parametrize("damage", ["missing", "directory", "dangling-link"])
def test_wrapper_fails_closed_and_never_starts_the_server(tmp_path: Path, server: Path,
                                                          shell: list[str], damage: str) -> None:
    mount = csi_mount(tmp_path, {"good": b"fine"})
    if damage == "directory":
        (mount / "bad").mkdir()
    elif damage == "dangling-link":
        (mount / "bad").symlink_to("..data/gone")
    marker = tmp_path / "started"
    script = tmp_path / "server-marker.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    command = [*PYTHON, str(script)]
    rendered = envloader.wrapper_command(
        command, envloader.loads({"GOOD": "good", "BAD_ONE": "bad"}, str(mount)))
    proc = run(under_shell([kubelet_expand(a, BASE_ENV) for a in rendered], shell), BASE_ENV)

    assert proc.returncode == envloader.EXIT_UNREADABLE
    assert not marker.exists(), "the server started without its credential"
    message = {"missing": "does not exist", "directory": "is not a regular file",
               "dangling-link": "does not exist"}[damage]
    assert proc.stderr.decode() == f"mcp-env-loader: BAD_ONE: {mount}/bad {message}\n"
    assert proc.stdout == b""


@pytest.mark.parametrize("shell", SHELLS, ids=SHELL_IDS)
def test_wrapper_refuses_a_file_the_server_user_cannot_read(shell: list[str]) -> None:
    # As in the pod: a non-root UID, and a file the provider wrote 0400 for another owner.
    if os.geteuid() != 0:
        pytest.fail("this test switches to an unprivileged uid with setpriv and must run as root")
    root = Path(tempfile.mkdtemp(prefix="envloader-"))
    try:
        root.chmod(0o755)
        mount = csi_mount(root, {"t": b"secret"})
        for d in (root / "mnt", mount, *mount.iterdir()):
            if d.is_dir() and not d.is_symlink():
                d.chmod(0o755)
        marker = root / "started"
        rendered = envloader.wrapper_command(["/usr/bin/touch", str(marker)],
                                             envloader.loads({"TOKEN": "t"}, str(mount)))
        proc = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    *under_shell(rendered, shell)], BASE_ENV)
        assert proc.returncode == envloader.EXIT_UNREADABLE
        assert proc.stderr.decode() == \
            f"mcp-env-loader: TOKEN: {mount}/t is not readable by uid 65534\n"
        assert not marker.exists()
    finally:
        shutil.rmtree(root)


@pytest.mark.parametrize("shell", SHELLS, ids=SHELL_IDS)
def test_wrapper_keeps_the_servers_own_environment(tmp_path: Path, server: Path,
                                                   shell: list[str]) -> None:
    # Variables the container already has, named as a careless loop's scratch variables would
    # be, reach the server untouched, and the loop leaves none of its own behind.
    mount = csi_mount(tmp_path, {"t": b"secret"})
    env = {**BASE_ENV, "n": "keep-n", "v": "keep-v", "f": "keep-f", "l": "keep-l", "line": "k"}
    rendered = envloader.wrapper_command([*PYTHON, str(server)],
                                         envloader.loads({"TOKEN": "t"}, str(mount)))
    _, got = received(run(under_shell(rendered, shell), env))
    assert got == {k.encode(): v.encode() for k, v in env.items()} | {b"TOKEN": b"secret"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contents=st.lists(st.binary(max_size=300).filter(lambda b: b"\0" not in b),
                         min_size=1, max_size=4),
       args=st.lists(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0"),
                             max_size=30), max_size=5))
def test_wrapper_hostile_contents_and_args(tmp_path_factory: pytest.TempPathFactory,
                                           contents: list[bytes], args: list[str]) -> None:
    tmp = tmp_path_factory.mktemp("h")
    server = tmp / "server.py"
    server.write_text(SERVER)
    files = {f"f{i}": c for i, c in enumerate(contents)}
    names = {f"SECRET_{i}": f"f{i}" for i in range(len(contents))}
    for shell in SHELLS:
        shell_tmp = tmp / "_".join(shell)
        shell_tmp.mkdir()
        _, proc = wrapped(shell_tmp, server, files, names, args, shell)
        argv, env = received(proc)
        assert [env[f"SECRET_{i}".encode()] for i in range(len(contents))] == contents
        assert argv == [b"--flag", *(os.fsencode(kubelet_expand(a, BASE_ENV)) for a in args)]


def test_scripts_survive_the_kubelets_expansion() -> None:
    # Whatever the container defines, the kubelet leaves both scripts as written: they hold no
    # `$(` and no `$$`. A mapping that defines every name would change any reference.
    class Everything(dict[str, str]):
        def get(self, key: str, default: Any = None) -> str:
            return "REPLACED"

    for script in (envloader.WRAPPER_SCRIPT, envloader.ENV_FILE_SCRIPT):
        assert kubelet_expand(script, Everything()) == script


def test_the_expansion_oracle_follows_the_kubelet() -> None:
    # The cases of expand.go: defined, undefined, escaped, incomplete, lone operator.
    env = {"A": "x"}
    assert kubelet_expand("$(A)", env) == "x"
    assert kubelet_expand("$(B)", env) == "$(B)"
    assert kubelet_expand("$$(A)", env) == "$(A)"
    assert kubelet_expand("$$$(A)", env) == "$x"
    assert kubelet_expand("$(A", env) == "$(A"
    assert kubelet_expand("a$", env) == "a$"
    assert kubelet_expand("$HOME", env) == "$HOME"


def test_wrapper_leaves_command_and_args_to_the_server() -> None:
    items = envloader.loads({"B_TOKEN": "b", "A_TOKEN": "a"}, "/mnt/secrets/")
    command = envloader.wrapper_command(["/server", "--stdio"], items)
    assert command[:2] == ["/bin/sh", "-c"]
    assert command[3:] == ["mcp-env-loader", "A_TOKEN", "/mnt/secrets/a", "B_TOKEN",
                           "/mnt/secrets/b", "--", "/server", "--stdio"]
    with pytest.raises(ValueError):
        envloader.wrapper_command([], items)
    with pytest.raises(ValueError):
        envloader.wrapper_command(["/s"], [EnvLoad("BAD-NAME", "/mnt/secrets/a")])


# --- fileKeyRef: the init container, run ------------------------------------------------------


def run_init(tmp_path: Path, files: Mapping[str, bytes], names: Mapping[str, str],
             shell: list[str]) -> tuple[Path, subprocess.CompletedProcess[bytes]]:
    mount = csi_mount(tmp_path, files)
    env_dir = tmp_path / "mcp-env"
    env_dir.mkdir()
    command = envloader.env_file_command(envloader.loads(names, str(mount)), env_dir=str(env_dir))
    argv = [kubelet_expand(a, {}) for a in command]
    return env_dir / envloader.ENV_FILE, run(under_shell(argv, shell), {"PATH": BASE_ENV["PATH"]})


def bash_sources(path: Path, key: str) -> bytes:
    """What `bash --posix` makes of the file: the KEP's definition of the format."""
    proc = subprocess.run(["bash", "--posix", "-c", 'set -a && . "$1" && printf %s "${' + key + '}"',
                           "bash", str(path)], capture_output=True, check=True, timeout=60)
    return proc.stdout


# What the kubelet's format can carry: no single quote, no CR before LF.
CARRIED = {name: content for name, content in HOSTILE.items()
           if b"'" not in content and b"\r\n" not in content}


@pytest.mark.parametrize("shell", SHELLS, ids=SHELL_IDS)
def test_init_container_env_file_reads_back_exactly(tmp_path: Path, shell: list[str]) -> None:
    assert {"TLS_KEY", "DOLLARS", "NEWLINES", "UNICODE", "BACKSLASHES"} <= set(CARRIED)
    files = {f"{n.lower()}.txt": c for n, c in CARRIED.items()}
    names = {n: f"{n.lower()}.txt" for n in CARRIED}
    out, proc = run_init(tmp_path, files, names, shell)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_bytes().decode("utf-8", "surrogateescape")
    for name, content in CARRIED.items():
        assert kubelet_parse_env(text, name).encode("utf-8", "surrogateescape") == content, name
        assert bash_sources(out, name) == content, name


@pytest.mark.parametrize("shell", SHELLS, ids=SHELL_IDS)
@pytest.mark.parametrize(("content", "why"), [
    (b"it's", "holds a single quote, which a Kubernetes env file cannot carry"),
    (b"a\r\nb", "has a CR LF line end, which the kubelet's env-file parser would drop"),
    (b"x" * (envloader.MAX_ENV_FILE_BYTES + 1), "the env file would exceed 65536 bytes"),
])
def test_init_container_refuses_what_the_kubelet_would_change(
        tmp_path: Path, shell: list[str], content: bytes, why: str) -> None:
    out, proc = run_init(tmp_path, {"ok": b"fine", "bad": content},
                         {"A_OK": "ok", "B_BAD": "bad"}, shell)
    assert proc.returncode == envloader.EXIT_UNREADABLE
    assert why in proc.stderr.decode()
    assert proc.stderr.decode().startswith("mcp-env-loader: ")
    assert not out.exists(), "a partial env file would start the server with some values"


@pytest.mark.parametrize("shell", SHELLS, ids=SHELL_IDS)
def test_init_container_fails_closed_on_a_missing_file(tmp_path: Path, shell: list[str]) -> None:
    out, proc = run_init(tmp_path, {"ok": b"fine"}, {"A_OK": "ok", "B_GONE": "gone"}, shell)
    assert proc.returncode == envloader.EXIT_UNREADABLE
    assert "B_GONE: " in proc.stderr.decode() and "does not exist" in proc.stderr.decode()
    assert not out.exists()


@pytest.mark.parametrize(("text", "key", "expected"), [
    ("A='x'\nB='y' # note\n", "B", "y"),
    ("  A='multi\nline\n'\n", "A", "multi\nline\n"),
    ("A= 'x'\n", "A", ""),
    ("# c\n\nA='#not a comment'\n", "A", "#not a comment"),
    ("A='x'\n", "B", ""),
])
def test_the_env_file_oracle_follows_the_kubelet(text: str, key: str, expected: str) -> None:
    # Cases from the kubelet's own table (env_util_test.go).
    assert kubelet_parse_env(text, key) == expected


@pytest.mark.parametrize("text", ["A=x\n", 'A="x"\n', "A='x''y'\n", "A='x\n", "A ='x'\n", "='x'\n"])
def test_the_env_file_oracle_refuses_what_the_kubelet_refuses(text: str) -> None:
    with pytest.raises(EnvFileError):
        kubelet_parse_env(text, "A")


# --- fileKeyRef: the objects, against the strict schemas and the policy ----------------------

IMAGE = "registry.example.com/tools/loader:1.0@sha256:" + "a" * 64
RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi", "ephemeral-storage": "16Mi"},
             "limits": {"cpu": "100m", "memory": "64Mi", "ephemeral-storage": "32Mi"}}


def pod(server_container: dict[str, Any], init: list[dict[str, Any]],
        volumes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "mcp", "namespace": "mcp", "labels": {"app": "mcp"}},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "initContainers": init,
            "containers": [server_container],
            "volumes": [{"name": "secrets",
                         "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True,
                                 "volumeAttributes": {"secretProviderClass": "mcp-secrets"}}},
                        *volumes],
        },
    }


def server_container(**extra: Any) -> dict[str, Any]:
    return {
        "name": "mcp-server", "image": IMAGE, "imagePullPolicy": "Always",
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "resources": RESOURCES,
        "volumeMounts": [{"name": "secrets", "mountPath": "/mnt/secrets", "readOnly": True}],
        **extra,
    }


def file_key_ref_pod() -> dict[str, Any]:
    items = envloader.loads({"NOTION_TOKEN": "notion-token", "TLS_KEY": "tls.key"}, "/mnt/secrets")
    init = envloader.env_file_init_container(
        items, IMAGE, secrets_volume="secrets", mount_path="/mnt/secrets",
        run_as_user=65532, run_as_group=65532, resources=RESOURCES)
    container = server_container(env=envloader.file_key_env(items))
    container["volumeMounts"] = []  # the server needs neither the files nor the env file
    return pod(container, [init], [envloader.env_file_volume()])


def test_file_key_ref_pod_passes_the_strict_1_35_schema() -> None:
    assert kubernetes_validate.validate(file_key_ref_pod(), "1.35.0", strict=True)


def test_file_key_ref_is_unknown_to_the_1_33_schema() -> None:
    # The version gate is real: before EnvFiles the field does not exist.
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(file_key_ref_pod(), "1.33.0", strict=True)


@pytest.mark.parametrize("version", ["1.29.0", "1.33.0", "1.35.0"])
def test_wrapper_pod_passes_the_strict_schemas(version: str) -> None:
    items = envloader.loads({"NOTION_TOKEN": "notion-token"}, "/mnt/secrets")
    container = server_container(command=envloader.wrapper_command(["/app/server"], items),
                                 args=["--transport", "http"])
    assert kubernetes_validate.validate(pod(container, [], []), version, strict=True)


def test_the_env_pieces_break_no_policy_rule() -> None:
    # The project's own rules (Pod Security restricted and the scanners' container rules): the
    # init container and the env volume add no finding.
    findings = [f for f in policy.evaluate([file_key_ref_pod()], "1.35")
                if "initContainers" in f.path or "volumes[1]" in f.path]
    assert findings == []


def test_env_file_volume_keeps_secrets_in_memory() -> None:
    volume = envloader.env_file_volume()
    assert volume["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Mi"}
    init = file_key_ref_pod()["spec"]["initContainers"][0]
    assert init["securityContext"]["readOnlyRootFilesystem"] is True
    assert {m["name"]: m.get("readOnly", False) for m in init["volumeMounts"]} == \
        {"secrets": True, envloader.ENV_VOLUME: False}


# --- choosing the mechanism, and the names -----------------------------------------------------


@pytest.mark.parametrize(("version", "image", "command", "key"), [
    ("1.34", IMAGE, ["/s"], "secrets.envLoader.image"),
    ("1.33", IMAGE, [], "secrets.envLoader.image"),
    ("1.33", None, [], "command"),
    ("1.36", None, [], "command"),
    ("1.33", None, ["-x"], "command[0]"),
    ("latest", IMAGE, [], "secrets.envLoader.image"),
])
def test_mode_problems_name_the_key(version: str, image: str | None, command: list[str],
                                    key: str) -> None:
    problems = envloader.mode_problems(version, image, command)
    assert [p.key for p in problems] == [key]


@pytest.mark.parametrize(("version", "image", "command"), [
    ("1.35", IMAGE, []), ("1.36", IMAGE, ["/s"]), ("1.29", None, ["/s"]), ("1.35", None, ["node"]),
])
def test_mode_works(version: str, image: str | None, command: list[str]) -> None:
    assert envloader.mode_problems(version, image, command) == []
    assert envloader.mode_for(image) == ("fileKeyRef" if image else "wrapper")


@pytest.mark.parametrize("name", ["9LIVES", "A-B", "A B", "", "PATH", "LD_PRELOAD", "IFS",
                                  "mcp_env_v", "BASH_FUNC_x%%", "X" * 129, "NOTIÖN"])
def test_bad_names_are_refused(name: str) -> None:
    problems = envloader.name_problems({name: "f", "GOOD_NAME": "g"})
    assert [p.key for p in problems] == [f"secrets.env.{name}"]


# --- item 2: files named in args ----------------------------------------------------------------

PRODUCED = {"app.env", "token"}


@pytest.mark.parametrize(("args", "bad"), [
    (["--env-file", "/mnt/secrets/app.env"], []),
    (["--env-file=/mnt/secrets/app.env"], []),
    (["/mnt/secrets/./x/../app.env"], []),                # the kernel resolves it to app.env
    (["--dir=/mnt/secrets", "/mnt/secrets/"], []),        # the directory, not a file
    (["/mnt/secrets/../etc/passwd", "/mnt/secretsX/y"], []),  # outside the mount
    (["--env-file", "/mnt/secrets/other.env"], [1]),
    (["--env-file=/mnt/secrets/other.env"], [0]),
    (["-e/mnt/secrets/other.env"], [0]),                  # short option glued to its value
    (["/mnt/secrets//other.env"], [0]),
    (["/mnt/./secrets/other.env"], [0]),
    (["--files=/mnt/secrets/token,/mnt/secrets/other"], [0]),
    (["--path=/a:/mnt/secrets/other"], [0]),
    (["x", "--config={\"f\":\"/mnt/secrets/other\"}"], [1]),
    (["/mnt/secrets/app.env", "y", "/mnt/secrets/nope"], [2]),
    (["--url=https://example.com/mnt/secrets/other"], []),  # a URL path, not a file
    (["--url=file:///mnt/secrets/other"], [0]),             # a file URL is the file
])
def test_args_files_must_be_produced(args: list[str], bad: list[int]) -> None:
    messages = envloader.args_file_problems(args, "/mnt/secrets", PRODUCED)
    assert [m.split(":", 1)[0] for m in messages] == [f"args[{i}]" for i in bad]
    for m in messages:
        assert "which no secrets provider object produces; produced: app.env, token" in m


def test_args_file_message_names_the_argument_and_path() -> None:
    assert envloader.args_file_problems(["--a=/mnt/secrets/x,/mnt/secrets/y"], "/mnt/secrets/",
                                        set()) == [
        "args[0]: names /mnt/secrets/x, /mnt/secrets/y under the secrets mount /mnt/secrets,"
        " which no secrets provider object produces; produced: none"]


@given(prefix=st.sampled_from(["", "--f=", "-f", "a,", "x:", "'"]),
       name=st.text(st.characters(categories=["L", "N"], include_characters="._-"),
                    min_size=1, max_size=12))
def test_args_any_spelling_of_an_unproduced_file_is_caught(prefix: str, name: str) -> None:
    produced = {"only"}
    arg = f"{prefix}/mnt/secrets/{name}"
    problems = envloader.args_file_problems([arg], "/mnt/secrets", produced)
    norm = os.path.normpath(f"/mnt/secrets/{name}")
    inside = norm.startswith("/mnt/secrets/")
    expected = inside and norm[len("/mnt/secrets/"):] not in produced
    assert bool(problems) == expected


@pytest.mark.parametrize(("args", "flagged"), [
    (["--token=$(NOTION_TOKEN)"], ["args[0]"]),
    (["$$(NOTION_TOKEN)"], []),                  # the kubelet's escape: a literal $(NOTION_TOKEN)
    (["$$$(NOTION_TOKEN)"], ["args[0]"]),
    (["$(OTHER)", "$NOTION_TOKEN"], []),
])
def test_secret_references_in_args_are_refused(args: list[str], flagged: list[str]) -> None:
    problems = envloader.reference_problems([], args, ["NOTION_TOKEN"])
    assert [p.key for p in problems] == flagged
