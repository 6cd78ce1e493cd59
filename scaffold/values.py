"""The values: load a file, check it against values.schema.json and the semantic rules, fill
defaults. The same checks serve the values file and the wizard (check_answer)."""

from __future__ import annotations

import copy
import difflib
import functools
import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from . import kubeschemas, netranges, providers, schemacompiler
from .errors import InputError, Problem, ValuesError
from .policy.image import DIGEST_PATTERN
from .policy.secrets import credential_name
from .yamlio import load_one

Values = dict[str, Any]

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Image references as the distribution grammar defines them, with a mandatory sha256 digest.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN = rf"(?:{_HOST}(?:\.{_HOST})*(?::[0-9]+)?/)?"
IMAGE = re.compile(
    rf"^(?P<repo>{_DOMAIN}{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    rf"@(?P<digest>{DIGEST_PATTERN})$"
)
# Env vars the bundle sets itself (runtime dirs); a user value would silently override them.
RESERVED_ENV = {"HOME", "TMPDIR", "XDG_CACHE_HOME", "NPM_CONFIG_CACHE", "UV_CACHE_DIR",
                "PIP_CACHE_DIR", "PYTHONDONTWRITEBYTECODE"}
# Label keys every object gets from the bundle; extra labels may not replace them.
GENERATED_LABELS = {"app.kubernetes.io/name", "app.kubernetes.io/instance",
                    "app.kubernetes.io/version", "app.kubernetes.io/component",
                    "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
_SUFFIX = {None: 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


@functools.cache
def schema() -> dict[str, Any]:
    """values.schema.json as a dict (read once)."""
    text = resources.files("scaffold").joinpath("values.schema.json").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def schema_text() -> str:
    """values.schema.json exactly as shipped."""
    return resources.files("scaffold").joinpath("values.schema.json").read_text("utf-8")


@functools.cache
def _validator() -> Any:
    import jsonschema  # deferred: only values checking pays for it

    return jsonschema.Draft202012Validator(schema())


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
        raise InputError([Problem("", "no such file")], path) from None
    except IsADirectoryError:
        raise InputError([Problem("", "is a directory, not a values file")], path) from None
    except UnicodeDecodeError:
        raise InputError([Problem("", "is not UTF-8 text")], path) from None
    except OSError as exc:
        raise InputError([Problem("", f"cannot be read: {exc.strerror}")], path) from None
    data = load_one(text, path)
    if data is None:
        raise InputError(
            [Problem("", "is empty; a values file is a mapping of keys (see `mcp-scaffold schema`)")], path
        )
    if not isinstance(data, dict):
        raise InputError(
            [Problem("", f"must be a mapping of keys, not a {_type_name(data)}")], path
        )
    return data


# --- schema errors -----------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list",
            dict: "mapping", type(None): "null"}.get(type(value), type(value).__name__)


def _key_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _schema_problems(err: Any) -> Iterator[Problem]:
    key = _key_path(err.absolute_path)
    sub = err.schema if isinstance(err.schema, dict) else {}
    allowed = sub.get("x-allowed")
    kind = err.validator
    if kind == "required":
        for name in err.validator_value:
            if isinstance(err.instance, dict) and name not in err.instance:
                yield Problem(f"{key}.{name}" if key else name, "is required")
        return
    if kind == "additionalProperties":
        known = sorted(sub.get("properties", {}))
        for extra in sorted(k for k in err.instance if k not in known):
            close = difflib.get_close_matches(str(extra), known, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(known)}"
            yield Problem(f"{key}.{extra}" if key else str(extra), f"unknown key{hint}")
        return
    got = f"got {_show(err.instance)}"
    if kind == "type":
        want = err.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        want = {"object": "mapping", "array": "list"}.get(want, want)
        text = f"must be a {want}, {got} ({_type_name(err.instance)})"
        if want == "string" and isinstance(err.instance, bool | int | float):
            text += "; quote it"
        yield Problem(key, text + (f"; allowed: {allowed}" if allowed else ""))
    elif kind == "enum":
        yield Problem(key, f"must be one of {', '.join(map(str, err.validator_value))}, {got}")
    elif kind in ("minimum", "maximum"):
        yield Problem(key, f"must be between {sub.get('minimum')} and {sub.get('maximum')}, {got}")
    elif kind in ("minItems", "minProperties", "minLength"):
        yield Problem(key, "must not be empty")
    elif kind == "uniqueItems":
        yield Problem(key, f"must not repeat an item, {got}")
    elif allowed:
        yield Problem(key, f"must be {allowed}, {got}")
    else:
        yield Problem(key, err.message)


def schema_problems(data: Any) -> list[Problem]:
    """Every way data breaks values.schema.json, one Problem per key."""
    problems: list[Problem] = []
    if schemacompiler.passes("values", schema(), data):
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
    """None if image is pinned by a full sha256 digest, else what is allowed."""
    if "@" not in image:
        return "must be pinned by digest: repo[:tag]@sha256:<64 lowercase hex> (a tag can be moved)"
    m = IMAGE.match(image)
    if not m:
        digest = image.rsplit("@", 1)[1]
        if not re.fullmatch(DIGEST_PATTERN, digest):
            return f"digest {_show(digest)} is not sha256:<64 lowercase hex>"
        return "is not a valid image reference: repo[:tag]@sha256:<64 lowercase hex>"
    if m["tag"] == "latest":
        return "the tag 'latest' says nothing about what the digest pins: drop it or use the version tag"
    return None


def image_tag(image: str) -> str | None:
    """The tag part of a valid image reference, if any."""
    m = IMAGE.match(image)
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


def egress_excepts(cidr: str) -> list[str]:
    """The ranges an ipBlock for cidr must except so it never reaches metadata or, for the
    whole internet, private networks."""
    return [str(n) for n in netranges.internet_excepts(ipaddress.ip_network(cidr))]


def check_label_key(key: str) -> str | None:
    """None if key is a valid Kubernetes label key."""
    prefix, _, name = key.rpartition("/")
    if "/" in prefix:
        return f"label key {_show(key)} has more than one '/'"
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return f"label key prefix {_show(prefix)} must be a DNS subdomain of at most 253 characters"
    if not name or len(name) > 63 or not LABEL_NAME.match(name):
        return (f"label key {_show(key)}: the name must be 1-63 letters, digits, '-', '_' or '.',"
                " starting and ending with a letter or digit")
    return None


def check_label_value(value: str) -> str | None:
    """None if value is a valid Kubernetes label value."""
    if value and (len(value) > 63 or not LABEL_NAME.match(value)):
        return (f"label value {_show(value)} must be at most 63 letters, digits, '-', '_' or '.',"
                " starting and ending with a letter or digit")
    return None


def quantity(text: str) -> float:
    """A Kubernetes quantity as a number (cores or bytes)."""
    m = _QUANTITY.match(text)
    if not m:
        raise ValueError(text)
    return float(m[1]) * _SUFFIX[m[2]]


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
                yield Problem(f"{key}.{k}", msg)


def semantic_problems(v: Values) -> list[Problem]:
    """Rules the schema cannot express, on values with defaults filled in."""
    out: list[Problem] = []

    def add(key: str, msg: str | None) -> None:
        if msg:
            out.append(Problem(key, msg))

    add("image", check_image(v["image"]))
    add("namespace", check_namespace(v["namespace"]))
    add("kubernetesVersion", check_kubernetes_version(v["kubernetesVersion"]))
    for key in ("labels", "ingress.podLabels", "dns.podLabels"):
        section, _, sub = key.partition(".")
        labels = v[section][sub] if sub else v[section]
        out.extend(_labels_problems(key, labels))
    for k in v["labels"]:
        if k in GENERATED_LABELS:
            add(f"labels.{k}", "is set by mcp-scaffold on every object; choose another key")
    for i, d in enumerate(v["downstream"]):
        out.extend(_labels_problems(f"downstream[{i}].podLabels", d["podLabels"]))
    names = [d["name"] for d in v["downstream"]]
    for i, n in enumerate(names):
        if n in names[:i]:
            add(f"downstream[{i}].name", f"{n!r} is used twice; each rule needs its own name")

    for i, cidr in enumerate(v["apiServer"]["cidrs"]):
        add(f"apiServer.cidrs[{i}]", check_cidr(cidr))
    for i, rule in enumerate(v["externalEgress"]):
        add(f"externalEgress[{i}].cidr", check_cidr(rule["cidr"]))
    cidrs = [r["cidr"] for r in v["externalEgress"]]
    for i, c in enumerate(cidrs):
        if c in cidrs[:i]:
            add(f"externalEgress[{i}].cidr", f"{c} is listed twice; merge the ports into one entry")
    if v["configMaps"] and not v["apiServer"]["cidrs"]:
        add("apiServer.cidrs", "is required when configMaps is not empty (egress to the API server);"
            " find it with: kubectl get endpoints kubernetes -n default")
    if v["apiServer"]["cidrs"] and not v["configMaps"]:
        add("apiServer.cidrs", "is set but configMaps is empty: without API access there is no"
            " API server egress to allow; remove it or list the ConfigMaps")

    for name in v["env"]:
        if not ENV_NAME.match(name):
            add(f"env.{name}",
                "must be a valid env var name: letters, digits and '_', not starting with a digit")
        elif name in RESERVED_ENV:
            add(f"env.{name}", "is set by the bundle (runtime dirs); choose another name")
        elif name in v["secrets"]["files"]:
            add(f"env.{name}", "is also a key of secrets.files; each env var is set once")
        elif credential_name(name):  # the same rule `check` applies
            add(f"env.{name}", "looks like a credential; a literal env value is stored in etcd:"
                " put it in the secret store and list it under secrets.files")

    for which in ("requests", "limits"):
        for res, q in v["resources"][which].items():
            try:
                quantity(q)
            except ValueError:
                add(f"resources.{which}.{res}", "is not a Kubernetes quantity")
    for res in ("cpu", "memory", "ephemeral-storage"):
        try:
            if quantity(v["resources"]["requests"][res]) > quantity(v["resources"]["limits"][res]):
                add(f"resources.requests.{res}", f"must not exceed resources.limits.{res}")
        except ValueError:
            pass
    try:
        disk = quantity(v["tmpSize"]) * (2 if v["runtime"] != "generic" else 1)
        if disk > quantity(v["resources"]["limits"]["ephemeral-storage"]):
            add("tmpSize", "the writable emptyDirs (/tmp, and HOME for node/python) must fit in"
                " resources.limits.ephemeral-storage")
    except ValueError:
        pass

    out.extend(_secrets_problems(v))
    return out


def _secrets_problems(v: Values) -> list[Problem]:
    out: list[Problem] = []
    s = v["secrets"]
    provider = s["provider"]
    for other in providers.NAMES:
        if other != provider and other in s:
            out.append(Problem(f"secrets.{other}", f"is set but secrets.provider is {provider!r}"))
    files = s["files"]
    if provider == "none":
        if files:
            out.append(Problem("secrets.files", "needs a secrets.provider to produce the files"))
        return out
    if provider not in s:
        out.append(Problem(f"secrets.{provider}", f"is required when secrets.provider is {provider!r}"))
        return out
    if not files:
        out.append(Problem("secrets.files", "must map at least one *_FILE env var to a file, or the"
                           " server has no way to find its secrets"))
    mount = s["mountPath"]
    if mount in ("/", "/tmp", "/home/mcp") or mount.startswith(("/var/run/secrets", "/tmp/")) \
            or "/../" in mount + "/" or "/./" in mount + "/":
        out.append(Problem("secrets.mountPath", "must be its own directory, not /, /tmp, a path"
                           " with '.' or '..', or the service-account token path"))
    module = providers.get(provider)
    out.extend(module.problems(s[provider], v))
    produced = module.produced_files(s[provider])
    seen: dict[str, str] = {}
    for env, name in files.items():
        key = f"secrets.files.{env}"
        if not ENV_NAME.match(env) or not env.endswith("_FILE"):
            out.append(Problem(key, "env var name must be letters, digits and '_' and end in _FILE"))
        if name in seen:
            out.append(Problem(key, f"file {name!r} is already given to {seen[name]}"))
        seen.setdefault(name, env)
        if name not in produced:
            choices = ", ".join(sorted(produced)) or "none"
            out.append(Problem(key, f"no secrets.{provider} object produces file {name!r};"
                               f" produced: {choices}"))
    return out


def validate(data: Any, source: str = "") -> Values:
    """Check raw values (schema, then semantic rules) and return them with defaults filled.

    Raises ValuesError listing every problem, one per key."""
    if not isinstance(data, dict):
        raise ValuesError([Problem("", f"must be a mapping of keys, not a {_type_name(data)}")], source)
    problems = schema_problems(data)
    if problems:
        # Still report the field rules that can be judged, so one run lists every problem.
        bad = {p.key for p in problems}
        for key, rule in FIELD_CHECKS.items():
            value = data.get(key)
            if key not in bad and isinstance(value, str):
                message = rule(value)
                if message:
                    problems.append(Problem(key, message))
        raise ValuesError(problems, source)
    values = with_defaults(data)
    problems = semantic_problems(values)
    if problems:
        raise ValuesError(problems, source)
    return values


def warnings(v: Values) -> list[Problem]:
    """Things worth saying that do not stop the bundle (e.g. a KV v2 path without /data/)."""
    provider = v["secrets"]["provider"]
    if provider == "none":
        return []
    module = providers.get(provider)
    check = getattr(module, "warnings", None)
    return list(check(v["secrets"][provider], v)) if check else []


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


FIELD_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "image": check_image,
    "namespace": check_namespace,
    "kubernetesVersion": check_kubernetes_version,
    "apiServer.cidrs[]": check_cidr,
    "externalEgress[].cidr": check_cidr,
}


def check_answer(path: str, value: Any) -> str | None:
    """Check one answer exactly as the values file would be: the key's schema, then its
    semantic rule. None if it is fine, else the message to show."""
    import jsonschema  # deferred with the validator

    sub = {**subschema(path), "$defs": schema()["$defs"]}
    validator = jsonschema.Draft202012Validator(sub)
    for err in validator.iter_errors(value):
        for problem in _schema_problems(err):
            return problem.message
    rule = FIELD_CHECKS.get(path)
    return rule(value) if rule else None
