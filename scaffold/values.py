"""The values: load a file, check it against values.schema.json and the semantic rules, fill
defaults. The same checks serve the values file and the wizard (check_answer)."""

from __future__ import annotations

import copy
import difflib
import functools
import ipaddress
import json
import posixpath
import re
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from . import (
    conventions,
    envloader,
    fqdnpolicy,
    kubeschemas,
    listen,
    netranges,
    providers,
    schemacompiler,
)
from . import quantity as quantities
from .credentials import credential_reason
from .digest import DIGEST_FORM, DIGEST_PATTERN
from .errors import InputError, Problem, ProblemCode, ValuesError
from .safetext import printable
from .yamlio import load_one

Values = dict[str, Any]

# Every pattern here is used with fullmatch: Python's `$` also matches before a final "\n".
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Image references as the distribution grammar defines them, with a mandatory digest.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN = rf"(?:{_HOST}(?:\.{_HOST})*(?::[0-9]+)?/)?"
IMAGE = re.compile(
    rf"(?P<repo>{_DOMAIN}{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    rf"@(?P<digest>{DIGEST_PATTERN})"
)
# Env vars the bundle sets itself (runtime dirs), and the label keys every object gets from
# it: a user value may not replace them.
RESERVED_ENV = conventions.RESERVED_ENV
GENERATED_LABELS = conventions.GENERATED_LABELS
# Never in a name, path, address or identifier: C0 and C1 controls, DEL, and the Unicode line
# and paragraph separators (YAML and terminals break lines at them, so a reviewer does not see
# what the manifest holds). NEL (U+0085) is a C1 control.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Free text (env values, command, args) may span lines (a script, a PEM block): tab, LF, CR
# and U+2028/9 are text there. NUL never (exec(2) takes C strings: it cuts the value short),
# nor the other controls (invisible when the manifest is reviewed; terminal escapes).
_FREE_TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Top-level keys whose list items or mapping values are free text.
_FREE_TEXT = ("env", "command", "args")
# Nested keys whose list items are free text too (the bridge passes them on like args).
_FREE_TEXT_NESTED = (("bridge", "args"),)
# Mount paths the secrets volume must neither be, sit under, nor sit above: the dirs the
# bundle mounts itself (/tmp, the HOME of node/python runtimes, the API token under
# /var/run/secrets, where the EKS and Azure workload-identity webhooks also put their tokens),
# kernel and device trees, and the files the kubelet bind-mounts into every container. /run
# is /var/run in most images (a symlink), so its secrets dir is the token dir too.
_MOUNT_RESERVED_TREES = (conventions.TMP, conventions.HOME, "/var/run/secrets", "/run/secrets",
                         "/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname",
                         "/etc/resolv.conf", conventions.BRIDGE_DIR)
# System dirs a mount would hide (the image's programs, libraries and configuration); a
# directory of its own below them (/etc/mcp) is fine.
_MOUNT_RESERVED_DIRS = ("/", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/var", "/run",
                        "/home", "/root", "/boot", "/opt")


@functools.cache
def schema() -> dict[str, Any]:
    """values.schema.json as a dict (read once)."""
    text = resources.files("scaffold").joinpath("values.schema.json").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def schema_text() -> str:
    """values.schema.json exactly as shipped."""
    return resources.files("scaffold").joinpath("values.schema.json").read_text("utf-8")


def _ecma_pattern(pattern: str) -> str:
    """A schema pattern with `$` read as ECMA-262 reads it (the dialect JSON Schema prescribes,
    and editors use): the end of the text. Python's `$` also matches before a final newline,
    so "name\\n" would pass `^[a-z]+$` under re.search (which jsonschema's `pattern` uses)."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
        i += 1
    return "".join(out)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(_ecma_pattern(pattern))


@functools.cache
def _ecma_schema() -> dict[str, Any]:
    """The schema with every `pattern` rewritten by _ecma_pattern, so the compiled validator
    (whose `pattern` is Python's re.search, as jsonschema's is) reads them as _validator does."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: _ecma_pattern(v) if k == "pattern" and isinstance(v, str) else walk(v)
                    for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    result: dict[str, Any] = walk(schema())
    return result


@functools.cache
def _validator_class() -> Any:
    import jsonschema  # deferred: only values checking pays for it

    def pattern(validator: Any, patrn: str, instance: Any, _schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "string") and not _compiled(patrn).search(instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")

    return jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": pattern})  # type: ignore[no-untyped-call]


@functools.cache
def _validator() -> Any:
    return _validator_class()(schema())


@functools.cache
def supported_versions() -> tuple[str, ...]:
    """Kubernetes minor versions whose strict schemas the installed kubernetes-validate bundles."""
    return kubeschemas.supported_versions()


# --- loading -------------------------------------------------------------------------------


def read_file(path: str) -> Values:
    """Read a values file into a mapping (not yet checked). InputError if it cannot be."""
    try:
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        raise InputError([Problem("", "no such file", ProblemCode.UNREADABLE)], path) from None
    except IsADirectoryError:
        raise InputError([Problem("", "is a directory, not a values file",
                                  ProblemCode.UNREADABLE)], path) from None
    except UnicodeDecodeError:
        raise InputError([Problem("", "is not UTF-8 text", ProblemCode.UNREADABLE)], path) from None
    except OSError as exc:
        raise InputError([Problem("", f"cannot be read: {exc.strerror}",
                                  ProblemCode.UNREADABLE)], path) from None
    data = load_one(text, path)
    if data is None:
        raise InputError(
            [Problem("", "is empty; a values file is a mapping of keys (see `mcp-scaffold schema`)",
                     ProblemCode.EMPTY)], path
        )
    if not isinstance(data, dict):
        raise InputError(
            [Problem("", f"must be a mapping of keys, not a {_type_name(data)}", ProblemCode.TYPE)],
            path
        )
    return data


# --- schema errors -----------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list",
            dict: "mapping", type(None): "null"}.get(type(value), type(value).__name__)


def _segment(part: Any) -> str:
    # A key holding a line break or control character is shown quoted, so every problem
    # stays on one line.
    text = str(part)
    return json.dumps(text) if _CONTROL.search(text) else text


def _key_path(parts: Any) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{_segment(part)}" if out else _segment(part)
    return out


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    # json.dumps escapes C0 controls only; C1 and U+2028/9 would break the line too.
    text = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text if len(text) <= 60 else text[:57] + "..."


def _schema_problems(err: Any) -> Iterator[Problem]:
    key = _key_path(err.absolute_path)
    sub = err.schema if isinstance(err.schema, dict) else {}
    allowed = sub.get("x-allowed")
    kind = err.validator
    if kind == "required":
        for name in err.validator_value:
            if isinstance(err.instance, dict) and name not in err.instance:
                yield Problem(f"{key}.{_segment(name)}" if key else _segment(name), "is required",
                              ProblemCode.REQUIRED)
        return
    if kind == "additionalProperties":
        known = sorted(sub.get("properties", {}))
        for extra in sorted(k for k in err.instance if k not in known):
            close = difflib.get_close_matches(str(extra), known, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(known)}"
            yield Problem(f"{key}.{_segment(extra)}" if key else _segment(extra),
                          f"unknown key{hint}", ProblemCode.UNKNOWN_KEY)
        return
    got = f"got {_show(err.instance)}"
    if kind == "type":
        want = err.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        want = {"object": "mapping", "array": "list"}.get(want, want)
        article = "an" if want[:1] in ("a", "e", "i", "o", "u") else "a"  # "an integer"
        text = f"must be {article} {want}, {got} ({_type_name(err.instance)})"
        if want == "string" and isinstance(err.instance, bool | int | float):
            text += "; quote it"
        yield Problem(key, text + (f"; allowed: {allowed}" if allowed else ""), ProblemCode.TYPE)
    elif kind == "enum":
        yield Problem(key, f"must be one of {', '.join(map(str, err.validator_value))}, {got}",
                      ProblemCode.ENUM)
    elif kind in ("minimum", "maximum"):
        yield Problem(key, f"must be between {sub.get('minimum')} and {sub.get('maximum')}, {got}",
                      ProblemCode.RANGE)
    elif kind in ("minItems", "minProperties", "minLength"):
        yield Problem(key, "must not be empty", ProblemCode.EMPTY)
    elif kind == "uniqueItems":
        yield Problem(key, f"must not repeat an item, {got}", ProblemCode.DUPLICATE)
    elif allowed:
        too_long = kind in ("maxLength", "maxItems", "maxProperties")
        yield Problem(key, f"must be {allowed}, {got}",
                      ProblemCode.RANGE if too_long else ProblemCode.PATTERN)
    else:
        yield Problem(key, err.message,
                      ProblemCode.PATTERN if kind == "pattern" else ProblemCode.INVALID)


def schema_problems(data: Any) -> list[Problem]:
    """Every way data breaks values.schema.json, one Problem per key."""
    problems: list[Problem] = []
    if schemacompiler.passes("values", _ecma_schema(), data):
        return problems  # the compiled verdict: jsonschema is only needed to word errors
    for err in _validator().iter_errors(data):
        problems.extend(_schema_problems(err))
    return problems


# --- defaults ----------------------------------------------------------------------------------


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its local $ref (if any) merged in."""
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = schema()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return merged


def _fill(node: dict[str, Any], data: Any) -> Any:
    node = resolve(node)
    if isinstance(data, dict) and "properties" in node:
        # Rebuilt in the schema's key order, so a written values file reads like the reference.
        ordered: dict[str, Any] = {}
        for name, sub in node["properties"].items():
            sub_r = resolve(sub)
            if name not in data and "default" in sub_r:
                ordered[name] = copy.deepcopy(sub_r["default"])
            elif name in data:
                ordered[name] = data[name]
            if name in ordered:
                ordered[name] = _fill(sub_r, ordered[name])
        ordered.update((k, val) for k, val in data.items() if k not in ordered)
        return ordered
    elif isinstance(data, list) and isinstance(node.get("items"), dict):
        return [_fill(node["items"], item) for item in data]
    return data


def with_defaults(data: Values) -> Values:
    """A copy of data with every schema default filled in, recursively."""
    result: Values = _fill(schema(), copy.deepcopy(data))
    return result


# --- semantic checks (one function per rule; the wizard calls the same ones) ----------------------


def check_image(image: str) -> str | None:
    """None if image is pinned by a full digest (DIGEST_FORM), else what is allowed."""
    if "@" not in image:
        return f"must be pinned by digest: repo[:tag]@{DIGEST_FORM} (a tag can be moved)"
    m = IMAGE.fullmatch(image)
    if not m:
        digest = image.rsplit("@", 1)[1]
        if not re.fullmatch(DIGEST_PATTERN, digest):
            return f"digest {_show(digest)} is not {DIGEST_FORM}"
        return f"is not a valid image reference: repo[:tag]@{DIGEST_FORM}"
    if m["tag"] == "latest":
        return "the tag 'latest' says nothing about what the digest pins: drop it or use the version tag"
    return None


def image_tag(image: str) -> str | None:
    """The tag part of a valid image reference, if any."""
    m = IMAGE.fullmatch(image)
    return m["tag"] if m else None


def check_namespace(namespace: str) -> str | None:
    """None if the namespace may hold the server."""
    if namespace == "default" or namespace.startswith("kube-"):
        return "must not be 'default' or a kube-* system namespace: give the server its own"
    return None


def parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | str:
    """The network, or a message saying what is wrong with the text."""
    if "/" not in text:
        return f"{_show(text)} has no prefix length; a single address is {text}/32 (or /128)"
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return f"{_show(text)} is not an IPv4 or IPv6 CIDR"
        return f"{_show(text)} has host bits set; did you mean {net}?"


def check_cidr(text: str) -> str | None:
    """None if text is a canonical CIDR that does not sit inside a metadata/link-local range."""
    net = parse_cidr(text)
    if isinstance(net, str):
        return net
    for blocked in netranges.NEVER_REACHABLE:
        if net.version == blocked.version and net.subnet_of(blocked):  # type: ignore[arg-type]
            return f"{net} is inside {blocked} (cloud metadata / link-local): never reachable"
    return None


def check_api_cidr(text: str) -> str | None:
    """None if text is one API server address as a host route (/32 or /128)."""
    message = check_cidr(text)
    if message:
        return message
    net = ipaddress.ip_network(text)
    if net.prefixlen != net.max_prefixlen:
        host = "/32" if net.version == 4 else "/128"
        return (f"{net} is a range, not an API server: list each API server address as a host"
                f" route (<address>{host}); find them with: kubectl get endpoints kubernetes"
                " -n default")
    return None


def check_egress_cidr(text: str) -> str | None:
    """None if text may be an externalEgress destination: outside the metadata ranges and not
    inside a private range. A CIDR that holds a whole private range (0.0.0.0/0, 8.0.0.0/6)
    is an internet rule: the bundle excepts the private and metadata ranges from it."""
    message = check_cidr(text)
    if message:
        return message
    net = ipaddress.ip_network(text)
    for private in netranges.PRIVATE:
        if net.version == private.version and net.subnet_of(private):  # type: ignore[arg-type]
            return (f"{net} is inside the private range {private} (pods, nodes, services,"
                    " loopback): externalEgress reaches addresses outside the cluster network;"
                    " allow in-cluster services with downstream")
    return None


def _egress_set_problems(rules: Any) -> list[Problem]:
    """The externalEgress CIDRs judged as one set: pieces that together make the whole
    internet of a family (two /1 blocks) are refused, so the internet is always written as
    0.0.0.0/0 or ::/0 and rendered as one rule whose excepts are plain to read."""
    if not isinstance(rules, list):
        return []
    nets: list[tuple[int, netranges.Net]] = []
    for i, rule in enumerate(rules):
        cidr = rule.get("cidr") if isinstance(rule, dict) else None
        if isinstance(cidr, str) and not _CONTROL.search(cidr) and not check_egress_cidr(cidr):
            nets.append((i, ipaddress.ip_network(cidr)))
    out: list[Problem] = []
    for internet in netranges.INTERNET:
        family = [(i, n) for i, n in nets if n.version == internet.version]
        if any(n == internet for _, n in family):
            continue
        if family and netranges.covers([n for _, n in family], internet):
            others = ", ".join(f"externalEgress[{i}].cidr" for i, _ in family[:-1])
            out.append(Problem(f"externalEgress[{family[-1][0]}].cidr",
                               f"with {others} covers every IPv{internet.version} address:"
                               f" write one rule {internet} (the internet; private and metadata"
                               " ranges excepted)", ProblemCode.CONFLICT))
    return out


def check_byte_quantity(text: str) -> str | None:
    """None if text is a quantity of bytes (memory, ephemeral storage, an emptyDir size)."""
    if quantities.is_milli(text):
        number = text[:-1]
        return (f"{text} is in milli-units: {quantity(text):g} bytes; write"
                f" {number}Mi (mebibytes) or {number}M (megabytes)")
    return None


def _writable_path_entry(v: Values, value: str) -> str | None:
    """The first PATH entry under a directory the pod can write: /tmp, the runtime dirs the
    bundle sets (HOME, caches) and every volume."""
    writable = [conventions.TMP, *(d for _, d in conventions.RUNTIME_ENV[v["runtime"]]),
                *(vol["mountPath"] for vol in v["volumes"])]
    for entry in value.split(":"):
        normal = "/" + posixpath.normpath(entry).lstrip("/") if entry else "."
        if entry == "" or not entry.startswith("/"):
            return f"{entry or '(empty: the working directory)'!s}"
        for w in writable:
            if isinstance(w, str) and w.startswith("/") and _under(normal, w.rstrip("/") or "/"):
                return normal
    return None


def check_mount_path(text: str) -> str | None:
    """None if text is a directory of its own for a volume: absolute, without '.' or '..'
    segments, written in its normal form, and clear of the paths the bundle, the kubelet and
    the image need (judged after normalising, so //tmp and /var//run/secrets count)."""
    if not text.startswith("/"):
        return "must be an absolute path such as /mnt/secrets"
    if ".." in text.split("/"):
        return "must not have '..' segments"
    # posixpath.normpath keeps a leading '//' (POSIX leaves its meaning open); Linux reads it
    # as '/'.
    normal = "/" + posixpath.normpath(text).lstrip("/")
    shown = "" if normal == text else f" ({text} is {normal})"
    if normal in _MOUNT_RESERVED_DIRS:
        return (f"{normal} is a system directory that the mount would hide{shown}; use a"
                " directory of its own such as /mnt/secrets")
    for tree in _MOUNT_RESERVED_TREES:
        if normal == tree or normal.startswith(tree + "/") or tree.startswith(normal.rstrip("/") + "/"):
            return (f"{normal} overlaps {tree}, which the bundle, the kubelet or the kernel"
                    f" mounts{shown}; use a directory of its own such as /mnt/secrets")
    if normal != text:
        return f"write it in its normal form: {normal}"
    return None


# Where the code a process loads lives: interpreters' module directories, the system's
# programs and libraries, the dynamic loader's configuration and the TLS trust store. A
# writable volume there (an emptyDir outlives a container restart, a claim every restart)
# lets one compromised process plant what every later start runs or trusts
# (sitecustomize.py in site-packages, a CA in /etc/ssl/certs, /etc/ld.so.preload).
_CODE_TREES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ssl",
               "/etc/pki", "/etc/ca-certificates", "/etc/ld.so.preload", "/etc/ld.so.conf",
               "/etc/ld.so.conf.d", "/etc/ld.so.cache", "/etc/alternatives")
_CODE_DIRS = frozenset({"site-packages", "dist-packages", "node_modules", "__pycache__",
                        "lib-dynload", "gems", "vendor"})


def check_volume_path(text: str) -> str | None:
    """check_mount_path, and clear of the paths code is loaded from (a volume is writable)."""
    found = check_mount_path(text)
    if found:
        return found
    for tree in _CODE_TREES:
        if _under(text, tree):
            return (f"{text} is under {tree}, where programs, libraries or trusted certificates"
                    " are loaded from: a writable volume there lets a process plant what every"
                    " later start runs; use a data directory such as /data")
    for part in text.split("/"):
        if part in _CODE_DIRS or re.fullmatch(r"python[0-9]+(?:\.[0-9]+)?", part):
            return (f"{text} is inside a {part} directory, which an interpreter loads code"
                    " from: a writable volume there lets a process plant what every later"
                    " start runs; use a data directory such as /data")
    return None


def check_control(text: str, free_text: bool = False) -> str | None:
    """None if text holds no control character (free text may hold tab and line breaks)."""
    bad = (_FREE_TEXT_CONTROL if free_text else _CONTROL).search(text)
    if not bad:
        return None
    code = f"U+{ord(bad.group()):04X}"
    if free_text:
        return (f"contains the control character {code}; free text may hold tabs and line"
                " breaks, not NUL or other control characters")
    if bad.start() == len(text) - 1 and text.endswith("\n"):
        return ("ends with a line break (a YAML '|' block keeps it: write '|-' or a plain"
                " scalar); names, paths and identifiers hold no control characters")
    return (f"contains the control character {code}; names, paths and identifiers hold no"
            " control characters (line breaks, tabs, NUL, U+2028/U+2029)")


def _control_problems(data: Any) -> list[Problem]:
    """Every string (and mapping key) holding a control character, at its key."""
    out: list[Problem] = []

    def walk(node: Any, parts: list[Any], free: bool) -> None:
        child_free = free or (len(parts) == 1 and parts[0] in _FREE_TEXT) or (
            tuple(parts) in _FREE_TEXT_NESTED)
        if isinstance(node, dict):
            for k, sub in node.items():
                message = check_control(k) if isinstance(k, str) else None
                if message:
                    out.append(Problem(_key_path([*parts, k]), f"the key {message}",
                                       ProblemCode.CONTROL_CHAR))
                walk(sub, [*parts, k], child_free)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, [*parts, i], child_free)
        elif isinstance(node, str):
            message = check_control(node, free)
            if message:
                out.append(Problem(_key_path(parts), message, ProblemCode.CONTROL_CHAR))

    walk(data, [], False)
    return out


def egress_excepts(cidr: str) -> list[str]:
    """The ranges an ipBlock for cidr must except so it never reaches metadata or, for the
    whole internet, private networks."""
    return [str(n) for n in netranges.internet_excepts(ipaddress.ip_network(cidr))]


def check_label_key(key: str) -> str | None:
    """None if key is a valid Kubernetes label key."""
    prefix, _, name = key.rpartition("/")
    if "/" in prefix:
        return f"label key {_show(key)} has more than one '/'"
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.fullmatch(prefix)):
        return f"label key prefix {_show(prefix)} must be a DNS subdomain of at most 253 characters"
    if not name or len(name) > 63 or not LABEL_NAME.fullmatch(name):
        return (f"label key {_show(key)}: the name must be 1-63 letters, digits, '-', '_' or '.',"
                " starting and ending with a letter or digit")
    return None


def check_label_value(value: str) -> str | None:
    """None if value is a valid Kubernetes label value."""
    if value and (len(value) > 63 or not LABEL_NAME.fullmatch(value)):
        return (f"label value {_show(value)} must be at most 63 letters, digits, '-', '_' or '.',"
                " starting and ending with a letter or digit")
    return None


def quantity(text: str) -> float:
    """A Kubernetes quantity as a number (cores or bytes); ValueError if it is none."""
    value = quantities.parse(text)
    if value is None:
        raise ValueError(text)
    return float(value)


def check_kubernetes_version(version: str) -> str | None:
    """None if kubernetes-validate bundles strict schemas for version."""
    versions = supported_versions()
    if version not in versions:
        return f"must be one of the versions with bundled schemas: {versions[0]} to {versions[-1]}"
    return None


def _labels_problems(key: str, labels: dict[str, str]) -> Iterator[Problem]:
    for k, v in labels.items():
        for msg in (check_label_key(k), check_label_value(v)):
            if msg:
                yield Problem(f"{key}.{k}", msg, ProblemCode.PATTERN)


def semantic_problems(v: Values) -> list[Problem]:
    """Rules the schema cannot express, on values with defaults filled in."""
    out: list[Problem] = []

    def add(key: str, msg: str, code: ProblemCode) -> None:
        out.append(Problem(key, msg, code))

    out.extend(field_problems(v))
    for key in ("labels", "ingress.podLabels", "dns.podLabels"):
        section, _, sub = key.partition(".")
        labels = v[section][sub] if sub else v[section]
        out.extend(_labels_problems(key, labels))
    for k in v["labels"]:
        if k in GENERATED_LABELS:
            add(f"labels.{k}", "is set by mcp-scaffold on every object; choose another key",
                ProblemCode.RESERVED)
    for i, d in enumerate(v["downstream"]):
        out.extend(_labels_problems(f"downstream[{i}].podLabels", d["podLabels"]))
    names = [d["name"] for d in v["downstream"]]
    for i, n in enumerate(names):
        if n in names[:i]:
            add(f"downstream[{i}].name", f"{n!r} is used twice; each rule needs its own name",
                ProblemCode.DUPLICATE)

    cidrs = [r.get("cidr") for r in v["externalEgress"]]
    for i, c in enumerate(cidrs):
        if c is not None and c in cidrs[:i]:
            add(f"externalEgress[{i}].cidr", f"{c} is listed twice; merge the ports into one entry",
                ProblemCode.DUPLICATE)
    api_access = bool(v["configMaps"]) or has_rbac(v)
    if api_access and not v["apiServer"]["cidrs"]:
        add("apiServer.cidrs", "is required when configMaps or rbac is set (egress to the API"
            " server); find it with: kubectl get endpoints kubernetes -n default",
            ProblemCode.CONFLICT)
    if v["apiServer"]["cidrs"] and not api_access:
        add("apiServer.cidrs", "is set but configMaps and rbac are empty: without API access"
            " there is no API server egress to allow; remove it or list the ConfigMaps",
            ProblemCode.CONFLICT)

    for name in v["env"]:
        if not ENV_NAME.fullmatch(name):
            add(f"env.{name}",
                "must be a valid env var name: letters, digits and '_', not starting with a digit",
                ProblemCode.PATTERN)
        elif name in RESERVED_ENV:
            add(f"env.{name}", "is set by the bundle (runtime dirs); choose another name",
                ProblemCode.RESERVED)
        elif name in v["secrets"]["files"]:
            add(f"env.{name}", "is also a key of secrets.files; each env var is set once",
                ProblemCode.DUPLICATE)
        elif mechanism := envloader.runtime_control(name):
            add(f"env.{name}", f"controls {mechanism}, which decides what code the server runs"
                " or whom it trusts; build it into the image instead", ProblemCode.RESERVED)
        elif name == "PATH" and (into := _writable_path_entry(v, str(v["env"][name]))):
            add(f"env.{name}", f"lists {into}, a directory the pod can write (it survives a"
                " container restart): a process could plant what later starts run",
                ProblemCode.RESERVED)
        elif why := credential_reason(name, str(v["env"][name])):  # the detector `check` uses
            add(f"env.{name}", f"holds {why}; a literal env value is stored in etcd:"
                " put it in the secret store and list it under secrets.files", ProblemCode.CREDENTIAL)

    for which in ("requests", "limits"):
        for res, q in v["resources"][which].items():
            try:
                quantity(q)
            except ValueError:
                add(f"resources.{which}.{res}", "is not a Kubernetes quantity", ProblemCode.PATTERN)
    for res in ("cpu", "memory", "ephemeral-storage"):
        try:
            if quantity(v["resources"]["requests"][res]) > quantity(v["resources"]["limits"][res]):
                add(f"resources.requests.{res}", f"must not exceed resources.limits.{res}",
                    ProblemCode.CONFLICT)
        except ValueError:
            pass
    if (budget := disk_budget(v)) is not None:
        parts, limit = budget
        if sum(size for _, size in parts[:2]) > limit:
            add("tmpSize", _budget_message(parts[:2], limit), ProblemCode.CONFLICT)

    out.extend(_secrets_problems(v))
    out.extend(transport_problems(v))
    # A stdio server behind a bridge talks over a pipe: only the bridge's address matters.
    out.extend(listen.problems([] if v["transport"] == "stdio" else v["args"], v["env"],
                               (v.get("bridge") or {}).get("args", [])))
    out.extend(storage_problems(v))
    out.extend(host_egress_problems(v))
    out.extend(secret_env_problems(v))
    out.extend(cloud_identity_problems(v))
    out.extend(rbac_problems(v))
    return out


def _secrets_problems(v: Values) -> list[Problem]:
    out: list[Problem] = []
    s = v["secrets"]
    provider = s["provider"]
    for other in providers.NAMES:
        if other != provider and other in s:
            out.append(Problem(f"secrets.{other}", f"is set but secrets.provider is {provider!r}",
                               ProblemCode.CONFLICT))
    files = s["files"]
    if provider == "none":
        if files:
            out.append(Problem("secrets.files", "needs a secrets.provider to produce the files",
                               ProblemCode.CONFLICT))
        return out
    if provider not in s:
        # CONFLICT, not REQUIRED: the answer depends on another key, so --no-input keeps this
        # message (which says why) rather than the generic "is missing".
        out.append(Problem(f"secrets.{provider}", f"is required when secrets.provider is {provider!r}",
                           ProblemCode.CONFLICT))
        return out
    # A file named in args (`--env-file /mnt/secrets/app.env`) is a way in too: with nothing
    # produced, every path under the mount in args is reported, so any report means one.
    in_args = bool(envloader.args_file_problem_list(v["args"], s["mountPath"], set()))
    if not files and not s["env"] and not in_args:
        out.append(Problem("secrets.files", "must map at least one *_FILE env var to a file (or"
                           " secrets.env a variable, or args name a file), or the server has no"
                           " way to find its secrets", ProblemCode.EMPTY))
    module = providers.get(provider)
    out.extend(module.problems(s[provider], v))
    if provider == "aws":
        for i, obj in enumerate(s["aws"]["objects"]):
            # The provider's default pathTranslation turns '/' into '_' (aws.py refuses the
            # '.' and '..' names this makes; here the names the CSI driver's writer refuses).
            name = obj["objectName"].replace("/", "_")
            if "objectAlias" not in obj and name.startswith("..") and ".." not in name.split("_"):
                out.append(Problem(f"secrets.aws.objects[{i}].objectName",
                                   f"becomes the file {name!r}, which starts with '..' (the CSI"
                                   " driver keeps its own ..data files there); give it an"
                                   " objectAlias", ProblemCode.INVALID))
    produced = module.produced_files(s[provider])
    seen: dict[str, str] = {}
    for env, name in files.items():
        key = f"secrets.files.{env}"
        if not ENV_NAME.fullmatch(env) or not env.endswith("_FILE"):
            out.append(Problem(key, "env var name must be letters, digits and '_' and end in _FILE",
                               ProblemCode.PATTERN))
        if name in seen:
            out.append(Problem(key, f"file {name!r} is already given to {seen[name]}",
                               ProblemCode.DUPLICATE))
        seen.setdefault(name, env)
        if name not in produced:
            choices = ", ".join(sorted(produced)) or "none"
            out.append(Problem(key, f"no secrets.{provider} object produces file {name!r};"
                               f" produced: {choices}", ProblemCode.CONFLICT))
    return out


# --- transport, bridge, volumes, workingDir, probe headers (contract v2) --------------------


# Bridge argument placeholders (see the schema's bridge.args).
BRIDGE_PLACEHOLDERS = ("{port}", "{path}", "{command}")


def _plain_path(text: str, example: str) -> str | None:
    """None if text is an absolute path in normal form without '..' segments."""
    if not text.startswith("/"):
        return f"must be an absolute path such as {example}"
    if ".." in text.split("/"):
        return "must not have '..' segments"
    normal = "/" + posixpath.normpath(text).lstrip("/")
    if normal != text:
        return f"write it in its normal form: {normal}"
    return None


def check_executable_path(text: str) -> str | None:
    """None if text names a file by absolute path (the bridge binary in its image)."""
    message = _plain_path(text, "/usr/local/bin/bridge")
    if message:
        return message
    if text == "/":
        return "must name a file, not the root directory"
    return None


def check_working_dir(text: str) -> str | None:
    """None if text may be the container's working directory."""
    message = _plain_path(text, "/home/mcp")
    if message:
        return message
    for tree in ("/proc", "/sys", "/dev"):
        if text == tree or text.startswith(tree + "/"):
            return f"{text} is a kernel or device tree, not a working directory"
    return None


def _under(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree.rstrip("/") + "/")


def transport_problems(v: Values) -> list[Problem]:
    """transport stdio needs a bridge and the server's own command; streamable-http, no bridge."""
    out: list[Problem] = []
    bridge = v.get("bridge")
    if v["transport"] != "stdio":
        if bridge is not None:
            out.append(Problem("bridge", "is set but transport is 'streamable-http' (the server"
                               " serves HTTP itself); remove it or set transport: stdio"))
        return out
    if bridge is None:
        out.append(Problem("bridge", "is required when transport is 'stdio': a digest-pinned"
                           " image and the path of a stdio <-> Streamable HTTP bridge in it"))
    if not v["command"]:
        out.append(Problem("command", "is required when transport is 'stdio': the bridge runs"
                           " in place of the image's ENTRYPOINT and starts this command"))
    if v["secrets"].get("env") and not v["secrets"].get("envLoader", {}).get("image"):
        # The bridge starts the server from its own command line, so the wrapper that loads
        # secrets.env around the server's command would be bypassed: only the kubelet's
        # fileKeyRef (which sets the container's environment) reaches a bridged server.
        out.append(Problem("secrets.env", "with transport 'stdio' the bridge starts the server,"
                           " so the env loader cannot wrap it: set secrets.envLoader.image"
                           " (fileKeyRef delivery, Kubernetes 1.35+) or use secrets.files",
                           ProblemCode.CONFLICT))
    if bridge is not None:
        holders = [i for i, a in enumerate(bridge["args"]) if "{command}" in a]
        for i in holders[1:]:
            out.append(Problem(f"bridge.args[{i}]", "holds {command} a second time; the"
                               " server is started once"))
        for i in holders[:1]:
            # The bridge runs this argument with a shell after the kubelet expanded it: a
            # $(NAME) beside {command} would put NAME's value, quotes and all, into that shell
            # ({command} itself is expanded and quoted by mcp-scaffold; see plan.bridge_args).
            if re.search(r"(?<!\$)(?:\$\$)*\$\(", bridge["args"][i].replace("{command}", "")):
                out.append(Problem(f"bridge.args[{i}]", "holds $( beside {command}: the bridge"
                                   " runs this argument with a shell after the kubelet expanded"
                                   " it; put the reference in command or args (write $$( for a"
                                   " literal $()"))
    return out


def storage_problems(v: Values) -> list[Problem]:
    """volumes: paths of their own, claims only for one replica; probe headers only on HTTP."""
    out: list[Problem] = []
    taken: list[tuple[str, str]] = []
    if v["secrets"]["provider"] != "none":
        taken.append(("secrets.mountPath", v["secrets"]["mountPath"]))
    for i, vol in enumerate(v["volumes"]):
        key = f"volumes[{i}]"
        path = vol["mountPath"]
        for other_key, other in taken:
            if _under(path, other) or _under(other, path):
                out.append(Problem(f"{key}.mountPath", f"{path} overlaps {other_key} ({other});"
                                   " each volume needs a directory of its own"))
        taken.append((f"{key}.mountPath", path))
        if vol["persistent"] and v["replicas"] > 1:
            # ReadWriteOnce: one node mounts the claim, so a second replica elsewhere never
            # starts, and replicas sharing one data file would corrupt it anyway.
            out.append(Problem(f"{key}.persistent", f"a ReadWriteOnce claim serves one pod, but"
                               f" replicas is {v['replicas']}: set replicas: 1 (or use an"
                               " emptyDir and shared storage the server supports)"))
        if "storageClassName" in vol and not vol["persistent"]:
            out.append(Problem(f"{key}.storageClassName", "is set but the volume is an emptyDir"
                               " (persistent: false); only a claim has a storage class"))
    for probe, spec in v["probes"].items():
        headers = spec.get("headers") or {}
        if headers and not spec.get("path"):
            out.append(Problem(f"probes.{probe}.headers", "needs probes." + probe + ".path: a"
                               " probe without a path is a TCP check and sends no headers"))
        # Names as the API server takes them (letters, digits, '-': IsHTTPHeaderName in
        # kubernetes/apimachinery pkg/util/validation/validation.go, the schema's pattern).
        seen: dict[str, str] = {}
        for name in headers:
            if name.lower() in seen:
                out.append(Problem(f"probes.{probe}.headers.{name}", f"repeats"
                                   f" {seen[name.lower()]} (header names ignore case)"))
            seen.setdefault(name.lower(), name)
    if (budget := disk_budget(v)) is not None:
        parts, limit = budget
        base = sum(size for _, size in parts[:2])
        if base <= limit < sum(size for _, size in parts):
            out.append(Problem("volumes", _budget_message(parts, limit)))
    return out


def disk_budget(v: Values) -> tuple[list[tuple[str, float]], float] | None:
    """What the pod's emptyDirs may fill, one entry per mount ((what, bytes); /tmp and HOME
    first), and resources.limits.ephemeral-storage they must fit in. None when a size is not
    a quantity (reported at its key)."""
    try:
        tmp = quantity(v["tmpSize"])
        parts: list[tuple[str, float]] = [(conventions.TMP, tmp)]
        parts.append((f"HOME {conventions.HOME}", tmp if v["runtime"] != "generic" else 0.0))
        if v["transport"] == "stdio":
            parts.append((f"the bridge {conventions.BRIDGE_DIR}",
                          quantity(conventions.BRIDGE_SIZE)))
        parts += [(vol["mountPath"], quantity(vol["size"])) for vol in v["volumes"]
                  if not vol["persistent"]]
        return parts, quantity(v["resources"]["limits"]["ephemeral-storage"])
    except (ValueError, KeyError):
        return None


def _budget_message(parts: list[tuple[str, float]], limit: float) -> str:
    """The sum and the limit, in numbers: what to raise, and by how much."""
    shown = ", ".join(f"{what} {_mebibytes(size)}" for what, size in parts if size)
    return (f"the emptyDirs need {_mebibytes(sum(size for _, size in parts))} ({shown}), more"
            f" than resources.limits.ephemeral-storage {_mebibytes(limit)}: raise the limit or"
            " make the emptyDirs smaller")


def _mebibytes(size: float) -> str:
    return f"{size / 2**20:g}Mi"


def writable_paths(v: Values) -> list[str]:
    """The directories the server may write to: /tmp, HOME for node/python, the volumes."""
    paths = [conventions.TMP]
    if v["runtime"] in conventions.HOME_RUNTIMES:
        paths.append(conventions.HOME)
    return paths + [vol["mountPath"] for vol in v["volumes"]]


def storage_warnings(v: Values) -> Iterator[Problem]:
    """A working directory the server cannot write to is allowed (many images run from a
    read-only /app), but servers that write relative paths fail there: say so."""
    wd = v.get("workingDir")
    if wd and not any(_under(wd, p) for p in writable_paths(v)):
        yield Problem("workingDir", f"{wd} is on the read-only root filesystem: a server that"
                      " writes relative paths fails; put it under a volume, /tmp or HOME")


# --- egress by host name (networkPolicy.flavor, externalEgress[].host) ---------------------------

# What enforces host names, per flavor, for the messages below.
_FLAVOR_NEEDS = {"cilium": "Cilium with its DNS proxy (toFQDNs)",
                 "gke": "GKE Dataplane V2 with FQDN network policy enabled"}


def _is_internet(cidr: str) -> bool:
    # A rule holding a whole private range is an internet rule (plan.ExternalEgress.internet).
    net = ipaddress.ip_network(cidr)
    return any(net.version == p.version and p.subnet_of(net)  # type: ignore[arg-type]
               for p in netranges.PRIVATE)


def host_egress_problems(v: Values) -> list[Problem]:
    """externalEgress rules judged with networkPolicy.flavor: each rule is a cidr or a host;
    a host needs a flavor that enforces host names; a host's port must not also be open to
    the whole internet (allow rules add up, so the host rule would restrict nothing)."""
    out: list[Problem] = []
    flavor = v["networkPolicy"]["flavor"]
    rules = v["externalEgress"]
    wide: dict[int, int] = {}  # port -> index of an internet rule opening it
    for i, rule in enumerate(rules):
        if "cidr" in rule and not check_egress_cidr(rule["cidr"]) and _is_internet(rule["cidr"]):
            for port in rule["ports"]:
                wide.setdefault(port, i)
    hosts: list[str] = []
    for i, rule in enumerate(rules):
        key = f"externalEgress[{i}]"
        if ("cidr" in rule) == ("host" in rule):
            out.append(Problem(key, "must have exactly one of cidr (an address range) or host"
                               " (a DNS name such as api.example.com)"))
            continue
        host = rule.get("host")
        if host is None:
            continue
        if flavor == "kubernetes":
            out.append(Problem(f"{key}.host", "NetworkPolicy has no host names, so"
                               " networkPolicy.flavor 'kubernetes' cannot enforce this rule: set"
                               " networkPolicy.flavor to 'cilium' (Cilium with its DNS proxy)"
                               " or 'gke' (GKE Dataplane V2 FQDN network policy), or write the"
                               " API's published address ranges as cidr rules"))
        if host in hosts:
            out.append(Problem(f"{key}.host", f"{host} is listed twice; merge the ports into one"
                               " entry"))
        hosts.append(host)
        for port in rule["ports"]:
            if port in wide:
                out.append(Problem(f"{key}.host", f"port {port} is already open to the whole"
                                   f" internet by externalEgress[{wide[port]}].cidr, so this"
                                   " rule restricts nothing (allow rules add up): drop that"
                                   " cidr rule or this one"))
    if flavor == "cilium" and hosts and v["dns"]["nodeLocalCache"]:
        out.append(Problem("dns.nodeLocalCache", "cannot be combined with host rules on"
                           " Cilium: toFQDNs allows only addresses Cilium's DNS proxy saw, and"
                           " DNS sent to NodeLocal DNSCache's link-local address bypasses it"
                           " unless node-local-dns runs behind a Cilium Local Redirect Policy;"
                           " set it to false (Cilium then redirects kube-dns traffic itself)"))
    return out


def host_egress_warnings(v: Values) -> list[Problem]:
    """A flavor that enforces host names, with no host rule to enforce."""
    flavor = v["networkPolicy"]["flavor"]
    if flavor != "kubernetes" and not any("host" in r for r in v["externalEgress"]):
        return [Problem("networkPolicy.flavor", f"changes nothing: no externalEgress rule has a"
                        f" host, so no {_FLAVOR_NEEDS[flavor]} policy is emitted")]
    if flavor == "gke":
        # An FQDNNetworkPolicy only allows (shared/reference/gke-fqdnnetworkpolicy.md): there
        # is no deny to put beside it, and allows from several policies add up, so the
        # NetworkPolicy's except lists do not limit what a host's DNS answer holds.
        return [Problem("networkPolicy.flavor", "gke: an FQDNNetworkPolicy has no deny rule, so"
                        " a listed host whose DNS answers a private or metadata address is"
                        " reachable there; list only hosts whose DNS you trust, or use cilium"
                        " (its policy denies those ranges)")]
    return []


# --- secrets.env, cloudIdentity, rbac (contract v2) ----------------------------------------------

def secret_env_problems(v: Values) -> list[Problem]:
    """secrets.env and secrets.envLoader (scaffold/envloader.py does the loading), and the
    files named in args: every one must be a file the provider produces."""
    s = v["secrets"]
    env: dict[str, str] = s["env"]
    provider = s["provider"]
    out: list[Problem] = []
    produced: set[str] = set()
    if provider != "none" and provider in s:
        produced = providers.get(provider).produced_files(s[provider])
        out += envloader.args_file_problem_list(v["args"], s["mountPath"], produced)
    if not env:
        if "envLoader" in s:
            out.append(Problem("secrets.envLoader", "changes nothing without secrets.env; remove it"))
        return out
    if provider == "none":
        return [*out, Problem("secrets.env", "needs a secrets.provider to produce the files")]
    out += envloader.name_problems(env)
    for name, file in sorted(env.items()):
        key = f"secrets.env.{name}"
        if name in RESERVED_ENV:
            out.append(Problem(key, "is set by the bundle (runtime dirs); choose another name"))
        elif name in v["env"]:
            out.append(Problem(key, "is also a key of env; each env var is set once"))
        elif name in s["files"]:
            out.append(Problem(key, "is also a key of secrets.files; each env var is set once"))
        if produced and file not in produced:
            out.append(Problem(key, f"no secrets.{provider} object produces file {file!r};"
                               f" produced: {', '.join(sorted(produced)) or 'none'}"))
    loader = s.get("envLoader", {}).get("image")
    out += envloader.mode_problems(v["kubernetesVersion"], loader, v["command"])
    out += envloader.reference_problems(v["command"], v["args"], env,
                                        (v.get("bridge") or {}).get("args", []))
    return out


# Where the identity webhooks put the credential: one identity per ServiceAccount annotation.
_SHARED_ANNOTATION = {"aws": "roleArn", "azure": "clientID", "gcp": "gcpServiceAccount"}


def cloud_identity_problems(v: Values) -> list[Problem]:
    """cloudIdentity must agree with the CSI provider's identity on the one ServiceAccount."""
    ident: dict[str, Any] = v.get("cloudIdentity") or {}
    out: list[Problem] = []
    s = v["secrets"]
    for cloud, block in ident.items():
        field = _SHARED_ANNOTATION[cloud]
        mine = block.get(field)
        theirs = s.get(cloud, {}).get(field) if s["provider"] == cloud else None
        if theirs and mine != theirs:
            out.append(Problem(f"cloudIdentity.{cloud}.{field}",
                               f"differs from secrets.{cloud}.{field}: the ServiceAccount carries"
                               " one identity, which the server and the CSI provider share; use"
                               " the same value"))
        if cloud == "aws" and s["provider"] == "aws" and (
                s["aws"].get("usePodIdentity", False) != (block["mode"] == "pod-identity")):
            out.append(Problem("cloudIdentity.aws.mode", "must match secrets.aws.usePodIdentity:"
                               " one ServiceAccount uses either IRSA or EKS Pod Identity"))
    return out


def has_rbac(v: Values) -> bool:
    """True when rbac grants anything (rules or a ClusterRole)."""
    r = v.get("rbac") or {}
    return bool(r.get("rules") or r.get("clusterRole"))


READ_VERBS = ("get", "list", "watch")
# Never granted by `new`, whatever the verbs: reading them is taking over the cluster or the
# workloads (kubernetes.io "RBAC good practices": secrets, nodes/proxy, pods/exec...).
_FORBIDDEN_RESOURCES = {
    "secrets": "secrets: read them from the secret store through secrets.files or secrets.env",
    "pods/exec": "pods/exec runs code in other pods",
    "pods/attach": "pods/attach attaches to other pods' processes",
    "pods/portforward": "pods/portforward tunnels past the NetworkPolicy",
    "pods/ephemeralcontainers": "pods/ephemeralcontainers adds containers to other pods",
    "serviceaccounts/token": "serviceaccounts/token mints tokens for other ServiceAccounts",
    "nodes": "nodes is cluster-scoped; a Role cannot grant it and it reveals the whole cluster",
}


def _rule_problems(i: int, rule: dict[str, Any]) -> Iterator[Problem]:
    key = f"rbac.rules[{i}]"
    for field in ("apiGroups", "resources", "verbs", "resourceNames"):
        if any("*" in item for item in rule.get(field, [])):
            yield Problem(f"{key}.{field}", "holds a wildcard '*': list exactly what the server"
                          " reads")
    bad = [verb for verb in rule["verbs"] if verb not in READ_VERBS and "*" not in verb]
    if bad:
        yield Problem(f"{key}.verbs", f"{', '.join(bad)} is not read-only; allowed: get, list,"
                      " watch")
    for res in rule["resources"]:
        base = res.partition("/")[0]
        why = _FORBIDDEN_RESOURCES.get(res) or (_FORBIDDEN_RESOURCES["nodes"]
                                                if base == "nodes" else None)
        if why is None and (res == "proxy" or res.endswith("/proxy")):
            why = f"{res} proxies requests past the NetworkPolicy"
        if why is None and base == "secrets":
            why = _FORBIDDEN_RESOURCES["secrets"]
        if why:
            yield Problem(f"{key}.resources", f"{res} is never granted: {why}")


def rbac_problems(v: Values) -> list[Problem]:
    """rbac: read-only rules and an explicit reason for cluster-wide access. (clusterRole is
    `view` only, by the schema: a ClusterRole that is not in the base cannot be judged.)"""
    r: dict[str, Any] = v.get("rbac") or {}
    out: list[Problem] = []
    for i, rule in enumerate(r.get("rules", [])):
        out.extend(_rule_problems(i, rule))
    reason = r.get("clusterWide", {}).get("reason")
    if reason is not None and not reason.strip():
        out.append(Problem("rbac.clusterWide.reason", "must say why the server needs every"
                           " namespace; it is recorded on the ClusterRoleBinding"))
    if r and not has_rbac(v):
        out.append(Problem("rbac", "grants nothing: give rules or clusterRole"))
    if "clusterWide" in r and r.get("namespaces"):
        out.append(Problem("rbac.namespaces", "changes nothing with clusterWide (the binding"
                           " covers every namespace); remove one of them"))
    for i, ns in enumerate(r.get("namespaces", [])):
        if ns == v["namespace"]:
            out.append(Problem(f"rbac.namespaces[{i}]", "is the server's own namespace, which"
                               " always gets the grant; remove it"))
    return out


def validate(data: Any, source: str = "") -> Values:
    """Check raw values (schema, then semantic rules) and return them with defaults filled.

    Raises ValuesError listing every problem, one per key."""
    if not isinstance(data, dict):
        raise ValuesError([Problem("", f"must be a mapping of keys, not a {_type_name(data)}",
                                   ProblemCode.TYPE)], source)
    problems = _control_problems(data)
    # A control character also breaks the key's pattern: say it once, the clearer way.
    bad = {p.key for p in problems}
    problems += [p for p in schema_problems(data) if p.key not in bad]
    if problems:
        # Still report the field rules that can be judged, so one run lists every problem.
        problems += field_problems(data, {p.key for p in problems})
        raise ValuesError(problems, source)
    values = with_defaults(data)
    problems = semantic_problems(values)
    if problems:
        raise ValuesError(problems, source)
    return values


def _default(path: str) -> Any:
    return subschema(path).get("default")


def _no_effect(v: Values) -> Iterator[Problem]:
    """Keys set to something other than their default that the rendered bundle never reads.
    (A block of a provider other than secrets.provider is refused, not warned about.)"""
    if not v["configMaps"] and not has_rbac(v):
        for key in ("port", "tokenExpirationSeconds"):
            if v["apiServer"][key] != _default(f"apiServer.{key}"):
                yield Problem(f"apiServer.{key}", "changes nothing: configMaps is empty, so the"
                              " server has no API access (no API egress rule, no token)",
                              ProblemCode.NO_EFFECT)
    if v["secrets"]["provider"] == "none" and v["secrets"]["mountPath"] != _default("secrets.mountPath"):
        yield Problem("secrets.mountPath", "changes nothing: secrets.provider is 'none', so"
                      " nothing is mounted", ProblemCode.NO_EFFECT)
    vault = v["secrets"].get("vault")
    if v["secrets"]["provider"] == "vault" and vault:
        https = vault["vaultAddress"].startswith("https://")
        if https and vault.get("allowInsecureHttp"):
            yield Problem("secrets.vault.allowInsecureHttp", "changes nothing: vaultAddress is"
                          " already https://", ProblemCode.NO_EFFECT)
        if not https and "vaultCACertPath" in vault:
            yield Problem("secrets.vault.vaultCACertPath", "changes nothing: vaultAddress is"
                          " plain http://, so no TLS certificate is checked", ProblemCode.NO_EFFECT)


def warnings(v: Values) -> list[Problem]:
    """Things worth saying that do not stop the bundle (e.g. a KV v2 path without /data/, a key
    that changes nothing)."""
    out = list(_no_effect(v)) + list(storage_warnings(v)) + host_egress_warnings(v)
    provider = providers.lookup(v["secrets"]["provider"])  # None for "none"
    if provider is not None:
        out += provider.warnings(v["secrets"][provider.name], v)
    # A warning may quote a value (an imported description's, too): printed escaped.
    return [Problem(printable(p.key), printable(p.message), p.code) for p in out]


def load(path: str) -> Values:
    """Read, check and complete a values file."""
    return validate(read_file(path), path)


# --- the wizard's entry point ---------------------------------------------------------------------


def subschema(path: str) -> dict[str, Any]:
    """The schema node of a dotted key path ('secrets.aws.region', 'downstream[].ports')."""
    node = resolve(schema())
    for part in path.split("."):
        many = part.endswith("[]")
        node = resolve(node["properties"][part.removesuffix("[]")])
        if many:
            node = resolve(node["items"])
    return node


# The rules that judge one value alone, by key path ('[]': every item of a list). They run on
# raw values too (every rule whose value is there), so a run with schema problems still
# reports them all.
FIELD_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "image": check_image,
    "namespace": check_namespace,
    "kubernetesVersion": check_kubernetes_version,
    "apiServer.cidrs[]": check_api_cidr,
    "externalEgress[].cidr": check_egress_cidr,
    "externalEgress[].host": fqdnpolicy.check_host,
    "tmpSize": check_byte_quantity,
    "resources.requests.memory": check_byte_quantity,
    "resources.limits.memory": check_byte_quantity,
    "resources.requests.ephemeral-storage": check_byte_quantity,
    "resources.limits.ephemeral-storage": check_byte_quantity,
    "secrets.mountPath": check_mount_path,
    "bridge.image": check_image,
    "bridge.binary": check_executable_path,
    "volumes[].mountPath": check_volume_path,
    "volumes[].size": check_byte_quantity,
    "workingDir": check_working_dir,
    "secrets.envLoader.image": check_image,
}


def _at(node: Any, parts: list[str], shown: str) -> Iterator[tuple[str, Any]]:
    """(key, value) of every value at a FIELD_CHECKS path that data holds."""
    if not parts:
        yield shown, node
        return
    name = parts[0].removesuffix("[]")
    if not isinstance(node, dict) or name not in node:
        return
    key = f"{shown}.{name}" if shown else name
    if parts[0].endswith("[]"):
        if isinstance(node[name], list):
            for i, item in enumerate(node[name]):
                yield from _at(item, parts[1:], f"{key}[{i}]")
    else:
        yield from _at(node[name], parts[1:], key)


def field_problems(data: Any, skip: set[str] | frozenset[str] = frozenset()) -> list[Problem]:
    """What FIELD_CHECKS (and the externalEgress set rule) find in data, raw or complete;
    keys in skip (already reported) and values with control characters are left out."""
    out: list[Problem] = []
    for path, rule in FIELD_CHECKS.items():
        for key, value in _at(data, path.split("."), ""):
            if key in skip or not isinstance(value, str) or _CONTROL.search(value):
                continue
            message = rule(value)
            if message:
                out.append(Problem(key, message, ProblemCode.INVALID))
    if isinstance(data, dict):
        out += [p for p in _egress_set_problems(data.get("externalEgress")) if p.key not in skip]
    return out


def check_answer(path: str, value: Any) -> str | None:
    """Check one answer exactly as the values file would be: the key's schema, then its
    semantic rule. None if it is fine, else the message to show."""
    if isinstance(value, str):
        message = check_control(value, path.split(".")[0].removesuffix("[]") in _FREE_TEXT
                                or path.startswith("bridge.args"))
        if message:
            return message
    sub = {**subschema(path), "$defs": schema()["$defs"]}
    validator = _validator_class()(sub)
    for err in validator.iter_errors(value):
        for problem in _schema_problems(err):
            return problem.message
    rule = FIELD_CHECKS.get(path)
    return rule(value) if rule else None
