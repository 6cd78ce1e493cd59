"""`secrets.env`: start the server with NAME=<content of a provider file>, without a Secret.

Two mechanisms, both pure data here (the renderer lays them out; docs/env-delivery.md says why):

- "wrapper" (default; every Kubernetes version): the server container's `command` becomes
  `/bin/sh -c LOADER mcp-env-loader NAME1 PATH1 ... -- <command...>` and its `args` stay as they
  are. LOADER is a constant script: it reads each file into its variable byte for byte (multi-line
  PEM and trailing newlines included), stops with a message on stderr and exit 78 when a file is
  missing or unreadable, then `exec`s "$@", the original command and arguments, unsplit. Needs a
  POSIX shell at /bin/sh in the server image and an explicit `command` (a `command` replaces the
  image's ENTRYPOINT, which cannot be known here).
- "fileKeyRef" (`secrets.envLoader.image` set; Kubernetes 1.35+, where the EnvFiles feature is
  beta and on by default): a restricted init container from that image writes the values into a
  Kubernetes env file on a memory-backed emptyDir, and the server's `env` reads them through
  `valueFrom.fileKeyRef`. The server image needs no shell and keeps its ENTRYPOINT. The kubelet's
  env-file format cannot carry a single quote or a CR LF pair, so the init container refuses such
  values (fails closed) instead of letting the kubelet change them.

Every string generated here reaches a container's command or args, where the kubelet expands
`$(NAME)` and turns `$$` into `$` (kubernetes/kubernetes third_party/forked/golang/expansion/
expand.go): the scripts contain neither, and file paths passed as data have `$` doubled.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .errors import Problem

Mode = Literal["wrapper", "fileKeyRef"]

# EnvFiles: alpha (off by default) in 1.34, beta (on by default) in 1.35; KEP-3721 kep.yaml
# (kubernetes/enhancements keps/sig-node/3721-support-for-env-files) and the kubernetes.io task
# "Define Environment Variable Values Using An Init Container" (v1.35 [beta]).
FILE_KEY_REF_SINCE = (1, 35)
# KEP-3721 "Env File": names are limited to 128 characters while the feature is alpha, and the
# env file to 64 KiB.
MAX_NAME_LENGTH = 128
MAX_ENV_FILE_BYTES = 64 * 1024

SHELL = "/bin/sh"
LOADER_NAME = "mcp-env-loader"        # $0 of the loader scripts: the prefix of their messages
ENV_VOLUME = "secret-env"             # memory emptyDir holding the env file (fileKeyRef mode)
ENV_DIR = "/mcp-env"                  # where the init container mounts it
ENV_FILE = "env"                      # the env file's path inside that volume
ENV_VOLUME_SIZE = "1Mi"               # the file is at most 64 KiB (KEP-3721)
INIT_CONTAINER = "load-secret-env"
EXIT_UNREADABLE = 78                  # EX_CONFIG (sysexits.h): the configuration cannot be used

# POSIX shell names (the XBD "Name" rule): the only text a loader puts into an assignment.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names a secret must not replace: the shell's and the dynamic loader's own controls, and the
# loader's scratch variables. (The runtime directories the bundle sets are
# scaffold.values.RESERVED_ENV, checked where every env name is.)
_UNSAFE_NAMES = frozenset({"PATH", "IFS", "ENV", "PS4", "SHELL"})
_UNSAFE_PREFIXES = ("LD_", "DYLD_", "BASH_FUNC_", "mcp_env_")

# Variables that change what code a process runs or whom it trusts, by mechanism: neither
# `env` nor `secrets.env` may set them (a value in the secret store is no more trusted than
# one in values.yaml, and either outlives the image's review). (mechanism, names, prefixes).
RUNTIME_CONTROL: tuple[tuple[str, frozenset[str], tuple[str, ...]], ...] = (
    # ld.so(8) ENVIRONMENT (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT); dyld(1) on macOS.
    ("the dynamic loader", frozenset(), ("LD_", "DYLD_")),
    # Code or modules an interpreter loads before the program: node(1) "Environment
    # variables" (NODE_OPTIONS takes --require), docs.python.org "Command line and
    # environment" (PYTHONPATH, PYTHONSTARTUP, PYTHONHOME, PYTHONUSERBASE, PYTHONWARNINGS
    # imports its category), the JDK's "java" tool docs (JAVA_TOOL_OPTIONS, _JAVA_OPTIONS,
    # JDK_JAVA_OPTIONS: -javaagent), perlrun(1) (PERL5OPT, PERL5LIB, PERLLIB), ruby(1)
    # (RUBYOPT, RUBYLIB).
    ("an interpreter's start-up", frozenset({
        "NODE_OPTIONS", "NODE_PATH", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME",
        "PYTHONUSERBASE", "PYTHONWARNINGS", "PYTHONEXECUTABLE", "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH", "PERL5OPT", "PERL5LIB", "PERLLIB",
        "RUBYOPT", "RUBYLIB"}), ()),
    # bash(1) INVOCATION (BASH_ENV; ENV in POSIX mode and for sh), exported functions,
    # SHELLOPTS/BASHOPTS, PROMPT_COMMAND.
    ("the shell", frozenset({"BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PROMPT_COMMAND",
                             "IFS", "PS4"}), ("BASH_FUNC_",)),
    # curl(1) ENVIRONMENT and Go's net/http ProxyFromEnvironment: every request through a
    # proxy the variable names (upper and lower case are both read).
    ("the HTTP proxy", frozenset({"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
                                  "http_proxy", "https_proxy", "all_proxy", "no_proxy"}), ()),
    # Whom TLS trusts: node(1) NODE_EXTRA_CA_CERTS, OpenSSL's SSL_CERT_FILE/SSL_CERT_DIR,
    # requests' REQUESTS_CA_BUNDLE, curl's CURL_CA_BUNDLE, gRPC's
    # GRPC_DEFAULT_SSL_ROOTS_FILE_PATH.
    ("the TLS trust store", frozenset({
        "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"}), ()),
    # glibc's own list of variables unsafe for privileged programs (elf/unsecvars.h):
    # GCONV_PATH loads iconv modules, LOCPATH/NLSPATH locale data, resolver and malloc hooks.
    ("the C library (iconv, locale, resolver)", frozenset({
        "GCONV_PATH", "LOCPATH", "NLSPATH", "GETCONF_DIR", "HOSTALIASES", "LOCALDOMAIN",
        "RES_OPTIONS", "RESOLV_HOST_CONF", "MALLOC_TRACE", "NIS_PATH", "TZDIR"}), ()),
)


def runtime_control(name: str) -> str | None:
    """The mechanism `name` controls (see RUNTIME_CONTROL), or None."""
    for mechanism, names, prefixes in RUNTIME_CONTROL:
        if name in names or name.startswith(prefixes or ("\0",)):
            return mechanism
    return None

# The one read loop both scripts share. `read -r` with an empty IFS keeps backslashes and
# leading/trailing blanks; every complete line gets its newline back, and the text after the last
# newline (read's non-zero return leaves it in the line variable) is appended as it is. So the
# variable holds the
# file exactly, trailing newlines included, which `$(cat f)` would strip. Only built-ins run, so a
# minimal image needs nothing but its shell. A NUL byte cannot be in an environment variable
# (exec passes C strings); the shells drop it.
_READ = r"""  if [ ! -e "$mcp_env_f" ]; then fail "$mcp_env_n: $mcp_env_f does not exist"; fi
  if [ ! -f "$mcp_env_f" ]; then fail "$mcp_env_n: $mcp_env_f is not a regular file"; fi
  if [ ! -r "$mcp_env_f" ]; then
    fail "$mcp_env_n: $mcp_env_f is not readable by uid `id -u 2>/dev/null || echo ?`"
  fi
  mcp_env_v=
  while IFS= read -r mcp_env_l; do
    CHECK_LINE
    mcp_env_v="$mcp_env_v$mcp_env_l
"
  done < "$mcp_env_f" || fail "$mcp_env_n: cannot read $mcp_env_f"
  mcp_env_v="$mcp_env_v$mcp_env_l"
"""

_PROLOGUE = r"""fail() {
  printf '%s: %s\n' "$0" "$1" >&2
  exit EXIT
}
""".replace("EXIT", str(EXIT_UNREADABLE))

# Names and paths arrive as data (argv pairs up to `--`), never as script text.
_PAIRS = r"""while :; do
  if [ "$#" -eq 0 ]; then fail "internal error: no -- after the NAME FILE pairs"; fi
  if [ "$1" = "--" ]; then shift; break; fi
  if [ "$#" -lt 2 ]; then fail "internal error: $1 has no file"; fi
  mcp_env_n=$1
  mcp_env_f=$2
  shift 2
  case $mcp_env_n in
    ''|[!A-Za-z_]*|*[!A-Za-z0-9_]*|mcp_env_*) fail "internal error: bad name $mcp_env_n" ;;
  esac
READ
STORE
done
"""

# Wrapper: each value goes straight into the environment `exec` hands the server.
WRAPPER_SCRIPT = (
    _PROLOGUE
    + _PAIRS.replace("READ", _READ.replace("    CHECK_LINE\n", "").rstrip("\n"))
    .replace("STORE", '  export "$mcp_env_n=$mcp_env_v"')
    + 'if [ "$#" -eq 0 ]; then fail "internal error: no command to run"; fi\n'
    + "unset mcp_env_n mcp_env_f mcp_env_v mcp_env_l\n"
    + 'exec "$@"\n'
)

# Init container: the same loop, checking what the kubelet's env-file parser would alter, then
# one write of NAME='value' lines (the single-quoted form is the only one the kubelet accepts).
_CHECK_CRLF = (
    '    case $mcp_env_l in *"$cr") fail "$mcp_env_n: $mcp_env_f has a CR LF line end, which'
    ' the kubelet\'s env-file parser would drop (use the default loader, or store the value'
    ' without CR)" ;; esac'
)
ENV_FILE_SCRIPT = (
    _PROLOGUE
    + "umask 077\n"
    + "cr=`printf '\\r'`\n"
    + 'out=$1\n'
    + 'shift\n'
    + 'LC_ALL=C\n'
    + 'export LC_ALL\n'
    + 'content=\n'
    + _PAIRS.replace("READ", _READ.replace("    CHECK_LINE", _CHECK_CRLF).rstrip("\n"))
    .replace("STORE",
             "  case $mcp_env_v in *\\'*) fail \"$mcp_env_n: $mcp_env_f holds a single quote,"
             " which a Kubernetes env file cannot carry (use the default loader)\" ;; esac\n"
             "  content=\"$content$mcp_env_n='$mcp_env_v'\n\"")
    + 'if [ "${#content}" -gt ' + str(MAX_ENV_FILE_BYTES) + ' ]; then\n'
    + '  fail "the env file would exceed ' + str(MAX_ENV_FILE_BYTES)
    + ' bytes, the kubelet\'s limit (KEP-3721)"\n'
    + 'fi\n'
    + 'printf \'%s\' "$content" > "$out" || fail "cannot write $out"\n'
)


@dataclass(frozen=True, order=True)
class EnvLoad:
    """One `secrets.env` entry: the variable and the absolute path of the provider's file."""

    name: str
    path: str


def loads(env: Mapping[str, str], mount_path: str) -> list[EnvLoad]:
    """The entries of `secrets.env` (NAME -> file name under mount_path), sorted by name."""
    base = mount_path.rstrip("/") or "/"
    return sorted(EnvLoad(name, posixpath.join(base, file)) for name, file in env.items())


def name_problems(env: Mapping[str, str]) -> list[Problem]:
    """Names `secrets.env` may not use: one problem per name, keyed secrets.env.NAME."""
    out = []
    for name in sorted(env):
        key = f"secrets.env.{name}"
        if not _NAME.match(name):
            out.append(Problem(key, "must be a shell variable name: letters, digits and '_', not"
                               " starting with a digit"))
        elif len(name) > MAX_NAME_LENGTH:
            out.append(Problem(key, f"is longer than {MAX_NAME_LENGTH} characters, the kubelet's"
                               " limit for env-file keys"))
        elif name in _UNSAFE_NAMES or name.startswith(_UNSAFE_PREFIXES):
            out.append(Problem(key, "controls the shell or the dynamic loader; a secret must"
                               " not replace it"))
        elif mechanism := runtime_control(name):
            out.append(Problem(key, f"controls {mechanism}; a secret must not replace it"))
    return out


def _version(text: str) -> tuple[int, int]:
    # The values schema checks the form; anything else reads as too old for fileKeyRef.
    try:
        major, minor = text.split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return (0, 0)


def mode_for(loader_image: str | None) -> Mode:
    """The mechanism: fileKeyRef when `secrets.envLoader.image` is given, else the wrapper."""
    return "fileKeyRef" if loader_image else "wrapper"


def mode_problems(kubernetes_version: str, loader_image: str | None,
                  command: Sequence[str]) -> list[Problem]:
    """Why the chosen mechanism cannot work for these values (empty when it can)."""
    if mode_for(loader_image) == "fileKeyRef":
        if _version(kubernetes_version) < FILE_KEY_REF_SINCE:
            return [Problem("secrets.envLoader.image",
                            "loads secrets.env through env[].valueFrom.fileKeyRef, which needs"
                            " kubernetesVersion 1.35 or later (the EnvFiles feature is alpha and"
                            " off by default in 1.34); raise kubernetesVersion, or remove"
                            " envLoader.image to load them with the server image's /bin/sh")]
        return []
    if command and command[0].startswith("-"):
        return [Problem("command[0]", "must be the program to run; the loader's `exec` would"
                        " read a leading '-' as its own option")]
    if not command:
        return [Problem("command",
                        "is required with secrets.env: the loader runs /bin/sh in the server"
                        " image and then execs this command, and a container command replaces"
                        " the image's ENTRYPOINT; give the entrypoint (see `docker inspect`), or"
                        " set secrets.envLoader.image (Kubernetes 1.35+) to keep it")]
    return []


def _data(text: str) -> str:
    # The kubelet expands $(VAR) and turns $$ into $ in command and args (expand.go); doubling
    # every $ makes it hand the shell the text as written.
    return text.replace("$", "$$")


def _pairs(items: Iterable[EnvLoad]) -> list[str]:
    out = []
    for item in items:
        if not _NAME.match(item.name):
            raise ValueError(f"{item.name!r} is not a shell variable name")
        if "\0" in item.path or not item.path.startswith("/"):
            raise ValueError(f"{item.path!r} is not an absolute path")
        out += [item.name, _data(item.path)]
    return [*out, "--"]


def wrapper_command(command: Sequence[str], items: Sequence[EnvLoad],
                    shell: str = SHELL) -> list[str]:
    """The server container's new `command`; its `args` stay exactly as they were.

    The original command follows `--` untouched: the kubelet expands it as it did before, and
    the script passes it to `exec` as "$@", so nothing is split, globbed or re-parsed."""
    if not command:
        raise ValueError("the wrapper needs the server's command (see mode_problems)")
    return [shell, "-c", WRAPPER_SCRIPT, LOADER_NAME, *_pairs(items), *command]


def env_file_volume() -> dict[str, Any]:
    """The memory-backed emptyDir the init container writes the env file into."""
    return {"name": ENV_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": ENV_VOLUME_SIZE}}


def env_file_command(items: Sequence[EnvLoad], shell: str = SHELL,
                     env_dir: str = ENV_DIR) -> list[str]:
    """The init container's `command`: writes env_dir/ENV_FILE from the provider files."""
    return [shell, "-c", ENV_FILE_SCRIPT, LOADER_NAME, _data(posixpath.join(env_dir, ENV_FILE)),
            *_pairs(items)]


def env_file_init_container(
    items: Sequence[EnvLoad], image: str, *, secrets_volume: str, mount_path: str,
    run_as_user: int, run_as_group: int, resources: Mapping[str, Any],
) -> dict[str, Any]:
    """The restricted init container (fileKeyRef mode): Pod Security `restricted` and the
    scanners' container rules, the provider's volume read-only, the env volume writable."""
    return {
        "name": INIT_CONTAINER,
        "image": image,
        "imagePullPolicy": "Always",
        "command": env_file_command(items),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": run_as_user,
            "runAsGroup": run_as_group,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": {k: dict(v) for k, v in resources.items()},
        "volumeMounts": [
            {"name": secrets_volume, "mountPath": mount_path, "readOnly": True},
            {"name": ENV_VOLUME, "mountPath": ENV_DIR},
        ],
    }


def file_key_env(items: Sequence[EnvLoad]) -> list[dict[str, Any]]:
    """The server container's `env` entries (fileKeyRef mode). The server does not mount the
    env volume: the kubelet reads the file itself when it starts the container."""
    return [{"name": item.name,
             "valueFrom": {"fileKeyRef": {"volumeName": ENV_VOLUME, "path": ENV_FILE,
                                          "key": item.name, "optional": False}}}
            for item in items]


# --- item 2: files named in args ---------------------------------------------------------------

# A path starts at the beginning of an argument, after a separator a flag value may use
# (`--env-file=/p`, `a:/p`, `x,/p`, `k=v;/p`, quotes, brackets), or right after a short option
# glued to its value (`-f/p`).
_PATH_START = re.compile(r"(?:^|(?<=[=:,;\s\"'(\[{@])|(?<=^-[A-Za-z0-9]))/")
# ... and runs to the next such separator.
_PATH_END = re.compile(r"[:,;\s\"')\]}]")


def _paths_in(arg: str, mount: str) -> list[str]:
    # Not every occurrence of the mount text: in https://host/mnt/secrets/x it is part of a URL.
    found = []
    for start in (m.start() for m in _PATH_START.finditer(arg)):
        end_match = _PATH_END.search(arg, start)
        path = arg[start:end_match.start() if end_match else len(arg)]
        if path:
            found.append(path)
    return found


def args_file_problem_list(args: Sequence[str], mount_path: str,
                           produced: set[str]) -> list[Problem]:
    """Each argument that names a file under the secrets mount which the provider does not
    produce: one problem per argument, keyed args[i]. Paths are compared after normalising
    `//`, `.` and `..`, as the kernel resolves them."""
    mount = posixpath.normpath("/" + mount_path.strip("/")) if mount_path.strip("/") else "/"
    out = []
    for i, arg in enumerate(args):
        bad = []
        for path in _paths_in(arg, mount):
            norm = posixpath.normpath(path)
            if norm == mount or not norm.startswith(mount + "/"):
                continue  # the directory itself, or a path outside it
            rel = norm[len(mount) + 1:]
            if rel not in produced and path not in bad:
                bad.append(path)
        if bad:
            choices = ", ".join(sorted(produced)) or "none"
            names = ", ".join(bad)
            out.append(Problem(f"args[{i}]", f"names {names} under the secrets mount"
                               f" {mount}, which no secrets provider object produces;"
                               f" produced: {choices}"))
    return out


def args_file_problems(args: list[str], mount_path: str, produced: set[str]) -> list[str]:
    """args_file_problem_list as text, one line per bad argument ("args[i]: ...")."""
    return [str(p) for p in args_file_problem_list(args, mount_path, produced)]


def reference_problems(command: Sequence[str], args: Sequence[str],
                       names: Iterable[str], bridge_args: Sequence[str] = ()) -> list[Problem]:
    """`$(NAME)` of a secrets.env name in command, args or bridge.args (the bridge is PID 1 of
    the same container): with fileKeyRef the kubelet may expand it as it does declared env
    values and put the secret in the process's argv (readable in /proc by every process in the
    container); with the wrapper the server gets the literal text. Either is wrong."""
    wanted = set(names)
    out = []
    for field, values in (("command", command), ("args", args), ("bridge.args", bridge_args)):
        for i, text in enumerate(values):
            # $$(X) is the kubelet's escape for a literal $(X) (expand.go): not a reference.
            refs = {m[1] for m in re.finditer(r"(?<!\$)(?:\$\$)*\$\(([^)]*)\)", text)} & wanted
            if refs:
                out.append(Problem(f"{field}[{i}]", f"references $({sorted(refs)[0]}), a"
                                   " secrets.env variable; the server reads it from its"
                                   " environment, never from its arguments"))
    return out
