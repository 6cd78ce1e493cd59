"""Import an MCP registry `server.json` (schema 2025-09-29) into values (DESIGN.md, "Importing a
server description").

The schema below is ours, written from the upstream schema's facts for the parts we read
(repo modelcontextprotocol/registry, path docs/reference/server-json/server.schema.json, commit
7c0bbf25bcdf794c4622afbf1b72b99d0281ca6b). It accepts and refuses what upstream does for those
parts, and is stricter in the places marked STRICTER, each because a value that upstream lets
through cannot be deployed safely (tests/test_serverjson.py holds the differential corpus).
Deployment facts the format lacks sit under `_meta["mcp-scaffold.io/deploy"]` (DEPLOY_SCHEMA).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import jsonschema

from scaffold import catalog, fqdnpolicy
from scaffold.digest import DIGEST_PATTERN
from scaffold.errors import InputError, Problem

DEPLOY_KEY = "mcp-scaffold.io/deploy"
_DEPLOY = f"_meta[{json.dumps(DEPLOY_KEY)}]"  # its JSON path, as problems name it
MAX_BYTES = 1_000_000  # a server.json is a few KiB; refuse a file that cannot be one

# Kubernetes' env var name rule before the relaxed 1.34 form (C identifier plus '-' and '.'):
# every supported cluster accepts it, and it keeps shell metacharacters out of the pod spec.
_ENV_NAME = r"^[A-Za-z_.-][A-Za-z0-9_.-]*$"
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
# One host-name grammar: the description's hosts become externalEgress hosts, which
# fqdnpolicy.check_host judges (so printer.local or 10.0.0.1.nip.io is refused there).
_HOST = fqdnpolicy.HOST_PATTERN
_HTTP_PATH = r"^/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*$"
_PORTS = {"type": "array", "minItems": 1, "uniqueItems": True,
          "items": {"type": "integer", "minimum": 1, "maximum": 65535}}
_STRINGS = {"type": "array", "items": {"type": "string"}}

# Upstream `Input` (defaults: isRequired/isSecret false, format "string").
_INPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "description": {"type": "string"},
        "isRequired": {"type": "boolean"},
        "isSecret": {"type": "boolean"},
        "format": {"enum": ["string", "number", "boolean", "filepath"]},
        "value": {"type": "string"},
        "default": {"type": "string"},
        "placeholder": {"type": "string"},
        "choices": _STRINGS,
    },
}
_INPUT_WITH_VARIABLES: dict[str, Any] = {
    "allOf": [_INPUT, {"properties": {"variables": {"type": "object",
                                                    "additionalProperties": _INPUT}}}],
}
_KEY_VALUE: dict[str, Any] = {
    "allOf": [_INPUT_WITH_VARIABLES],
    "required": ["name"],
    # STRICTER: upstream takes any string as a name; a pod env name must be one Kubernetes
    # accepts, and a header name must be an HTTP token.
    "properties": {"name": {"type": "string", "minLength": 1}},
}
_ENV_VAR: dict[str, Any] = {
    "allOf": [_KEY_VALUE], "properties": {"name": {"type": "string", "pattern": _ENV_NAME}}}
_HEADER: dict[str, Any] = {
    "allOf": [_KEY_VALUE],
    "properties": {"name": {"type": "string", "pattern": r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"}}}
# Upstream: anyOf Positional (needs value or valueHint) | Named (needs name). Written as
# if/then on `type` so an error names the failing key instead of "not valid under anyOf".
_ARGUMENT: dict[str, Any] = {
    "allOf": [_INPUT_WITH_VARIABLES],
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": ["positional", "named"]},
                   "isRepeated": {"type": "boolean"},
                   "valueHint": {"type": "string"},
                   "name": {"type": "string"}},
    "if": {"properties": {"type": {"const": "named"}}},
    # STRICTER: a named argument's name must be a flag (starts with '-', no '=' or space):
    # anything else would be a positional value or a second argument in disguise.
    "then": {"required": ["name"],
             "properties": {"name": {"pattern": r"^-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*$"}}},
    "else": {"anyOf": [{"required": ["value"]}, {"required": ["valueHint"]}]},
}
_HEADERS = {"type": "array", "items": _HEADER}
_TRANSPORT: dict[str, Any] = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": ["stdio", "streamable-http", "sse"]},
                   "url": {"type": "string"}, "headers": _HEADERS},
    "if": {"properties": {"type": {"enum": ["streamable-http", "sse"]}}},
    "then": {"required": ["url"]},
}
_REMOTE: dict[str, Any] = {
    "type": "object", "required": ["type", "url"],
    "properties": {"type": {"enum": ["streamable-http", "sse"]}, "url": {"type": "string"},
                   "headers": _HEADERS},
}
_PACKAGE: dict[str, Any] = {
    "type": "object",
    "required": ["registryType", "identifier", "transport"],
    "properties": {
        "registryType": {"enum": ["npm", "pypi", "nuget", "oci", "mcpb"]},
        "identifier": {"type": "string", "minLength": 1},
        "version": {"type": "string", "minLength": 1},
        "registryBaseUrl": {"type": "string"},
        "fileSha256": {"type": "string", "pattern": "^[a-f0-9]{64}$"},
        "runtimeHint": {"type": "string"},
        "transport": _TRANSPORT,
        "environmentVariables": {"type": "array", "items": _ENV_VAR},
        "packageArguments": {"type": "array", "items": _ARGUMENT},
        "runtimeArguments": {"type": "array", "items": _ARGUMENT},
    },
    "allOf": [
        {"if": {"properties": {"registryType": {"enum": ["npm", "pypi", "nuget"]}}},
         # Upstream: a specific version, "latest" refused.
         "then": {"required": ["version"],
                  "properties": {"version": {"not": {"const": "latest"}}}}},
        {"if": {"properties": {"registryType": {"const": "mcpb"}}},
         "then": {"required": ["fileSha256"]}},
        # STRICTER: upstream's description says an OCI reference "must include at least a tag
        # or digest" but its schema does not check it; a tagless reference means `latest`,
        # which is not a pinned image.
        {"if": {"properties": {"registryType": {"const": "oci"}}},
         "then": {"properties": {"identifier": {
             "pattern": r"^[^\s@]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?"
                        r"|@sha256:[0-9a-f]{64})$"}}}},
    ],
}

DEPLOY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "sources": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["repo", "path"],
            "properties": {"repo": {"type": "string", "pattern": r"^[\w.-]+/[\w.-]+$"},
                           "path": {"type": "string", "minLength": 1}}}},
        "transport": {"enum": ["streamable-http", "stdio"]},
        "command": _STRINGS,
        "args": _STRINGS,
        "env": {"type": "object", "propertyNames": {"pattern": _ENV_NAME},
                "additionalProperties": {"type": "string"}},
        "port": {"type": "integer", "minimum": 1024, "maximum": 65535},
        "path": {"type": "string", "pattern": _HTTP_PATH},
        "healthPath": {"type": "string", "pattern": _HTTP_PATH},
        "probeHeaders": {"type": "object", "additionalProperties": {"type": "string"},
                         "propertyNames": {"pattern": r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"}},
        "runtime": {"enum": ["generic", "node", "python"]},
        "image": {"type": "string", "minLength": 1},
        "workingDir": {"type": "string", "pattern": r"^/"},
        "volumes": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["mountPath"],
            "properties": {"mountPath": {"type": "string", "pattern": r"^/"},
                           "size": {"type": "string"}, "persistent": {"type": "boolean"}}}},
        "secretFiles": {"type": "array", "uniqueItems": True,
                        "items": {"type": "string", "pattern": _ENV_NAME}},
        "egress": {"type": "object", "additionalProperties": False, "properties": {
            "hosts": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["host", "ports"],
                "properties": {"host": {"type": "string", "pattern": _HOST}, "ports": _PORTS}}},
            "cidrs": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["cidr", "ports"],
                "properties": {"cidr": {"type": "string"}, "ports": _PORTS}}},
            "anyHost": {"type": "object", "additionalProperties": False, "required": ["ports"],
                        "properties": {"ports": _PORTS}},
        }},
        "apiAccess": {"type": "object", "additionalProperties": False, "properties": {
            "rules": {"type": "array", "items": {"type": "object"}},
            "namespaces": {"type": "array", "items": {"type": "string", "pattern": _DNS_LABEL}},
            "clusterRole": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$"},
            "clusterWide": {"type": "object", "additionalProperties": False,
                            "required": ["reason"],
                            "properties": {"reason": {"type": "string", "minLength": 1}}},
        }},
        "cloudIdentity": {"enum": ["aws", "gcp", "azure"]},
        "notes": _STRINGS,
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "description", "version"],
    "properties": {
        "$schema": {"type": "string"},
        "name": {"type": "string", "minLength": 3, "maxLength": 200,
                 "pattern": r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$"},
        "description": {"type": "string", "minLength": 1, "maxLength": 100},
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "version": {"type": "string", "maxLength": 255},
        "packages": {"type": "array", "items": _PACKAGE},
        "remotes": {"type": "array", "items": _REMOTE},
        "_meta": {"type": "object", "properties": {DEPLOY_KEY: DEPLOY_SCHEMA}},
    },
}

_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


@dataclass(frozen=True)
class ServerDescription:
    """A validated server.json: the document as read, where it came from, and its deploy hints."""

    data: dict[str, Any]
    source: str

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def deploy(self) -> dict[str, Any]:
        meta = self.data.get("_meta") or {}
        return dict(meta.get(DEPLOY_KEY) or {})


@dataclass(frozen=True)
class Question:
    """Something the description cannot decide: the wizard asks it, --no-input fails naming it
    unless it has a default. `key` is the dotted values key the answer goes to ("args[2]" is an
    index into `args`, which holds `template` until answered)."""

    key: str
    prompt: str
    source: str  # the JSON path in the server.json, or "" for what no description can know
    kind: Literal["text", "choice", "digest", "secret"] = "text"
    choices: tuple[str, ...] = ()
    default: str | None = None
    template: str | None = None  # the value with its {variable}s, the answer replaces it


@dataclass(frozen=True)
class Hint:
    """Something the user should know about the import; nothing to answer."""

    key: str
    message: str
    source: str = ""


@dataclass
class _Mapping:
    values: dict[str, Any] = field(default_factory=dict)
    asks: list[Question | Hint] = field(default_factory=list)


# --- reading ---------------------------------------------------------------------------------------


def _json_path(parts: Any) -> str:
    """packages[0].transport.type; a key that is not a plain word is quoted
    (_meta["mcp-scaffold.io/deploy"].port) so a hostile key cannot forge a path or a line."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "(document)"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            # Python keeps the last, other readers the first: refuse rather than guess.
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _message(error: jsonschema.ValidationError) -> str:
    v, expected = error.validator, cast(Any, error.validator_value)
    schema = cast(dict[str, Any], error.schema)
    if v in ("enum", "const"):
        allowed = expected if v == "enum" else [expected]
        return "must be one of: " + ", ".join(json.dumps(a) for a in allowed)
    if v == "type":
        return f"must be a {expected}, not {type(error.instance).__name__}"
    if v == "pattern":
        if "sha256" in str(expected):
            return "must be an image reference with a tag or a digest ([registry/]repo:tag[@sha256:<64 hex>])"
        return f"{json.dumps(error.instance)[:80]} does not match {expected}"
    if v == "not":
        return f"{json.dumps(error.instance)[:80]} is not allowed (a specific version is required)"
    if v in ("minLength", "maxLength", "minimum", "maximum", "minItems", "uniqueItems"):
        return f"{v} {expected}: {error.message[:120]}"
    if v == "anyOf" and schema.get("anyOf") == [{"required": ["value"]}, {"required": ["valueHint"]}]:
        return "a positional argument needs value or valueHint"
    return error.message[:200]


def problems(data: Any) -> list[Problem]:
    """Every way `data` breaks our schema, one Problem per error naming its JSON path."""
    found = []
    for error in _VALIDATOR.iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = cast(dict[str, Any], error.schema).get("properties", {})
            for extra in sorted(k for k in error.instance if k not in allowed):
                found.append(Problem(_json_path([*path, str(extra)]), "is not a known key (allowed: "
                                     + ", ".join(sorted(allowed)) + ")"))
            continue
        if error.validator == "required" and isinstance(error.instance, dict):
            for key in cast(list[str], error.validator_value):
                if key not in error.instance:
                    found.append(Problem(_json_path([*path, key]), "is required"))
            continue
        found.append(Problem(_json_path(path), _message(error)))
    return found


def _unusable_strings(node: Any, path: list[Any]) -> Iterator[Problem]:
    """JSON escapes can spell what no process can receive: NUL (execve and environ end a string
    there) and lone surrogates (not encodable as UTF-8, so not writable to a manifest)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if _unusable(key):
                yield Problem(_json_path(path), "a key holds NUL or a lone surrogate")
            else:
                yield from _unusable_strings(value, [*path, key])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _unusable_strings(value, [*path, i])
    elif isinstance(node, str) and _unusable(node):
        yield Problem(_json_path(path), "holds NUL or a lone surrogate: no process can receive it")


def _unusable(text: str) -> bool:
    return "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)


def parse(text: str, source: str) -> ServerDescription:
    """A server.json from its text; InputError naming each problem."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise InputError([Problem("(document)", f"not valid JSON: {str(exc)[:200]}")], source) from None
    found = list(_unusable_strings(data, [])) or problems(data)
    if found:
        raise InputError(found, source)
    return ServerDescription(data, source)


def load(path_or_name: str) -> ServerDescription:
    """A server.json from a file path, or a built-in catalog entry by NAME."""
    path = Path(path_or_name)
    if path.is_file():
        try:
            if path.stat().st_size > MAX_BYTES:
                raise InputError([Problem("--from", f"{path_or_name} is larger than {MAX_BYTES}"
                                          " bytes: not a server.json")])
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError([Problem("--from", f"cannot read {path_or_name}: {exc}")]) from None
        return parse(text, path_or_name)
    if path_or_name in catalog.names():
        return parse(catalog.text(path_or_name), f"catalog:{path_or_name}")
    raise InputError([Problem("--from", f"{path_or_name!r} is neither a file nor a catalog entry"
                              " (catalog: " + ", ".join(catalog.names()) + ")")])


# --- mapping ---------------------------------------------------------------------------------------


_VARIABLE = re.compile(r"\{([A-Za-z0-9_.-]+)\}")


def _substitute(template: str, variables: dict[str, Any]) -> tuple[str, list[str]]:
    """Upstream rule: `{name}` is replaced from `variables` (their value, else default); a name
    not there stays as written. Returns the text and the variables still needing an answer."""
    unresolved: list[str] = []

    def repl(match: re.Match[str]) -> str:
        var = variables.get(match.group(1))
        if not isinstance(var, dict):
            return match.group(0)
        chosen = var.get("value", var.get("default"))
        if chosen is None:
            unresolved.append(match.group(1))
            return match.group(0)
        return str(chosen)

    return _VARIABLE.sub(repl, template), unresolved


def secret_file_name(env_name: str) -> str:
    """The file a secret env var's value is read from: GITHUB_PERSONAL_ACCESS_TOKEN ->
    github-personal-access-token (a path-reading GRAFANA_..._TOKEN_FILE -> grafana-..-token)."""
    base = re.sub(r"_FILE$", "", env_name, flags=re.IGNORECASE) or env_name
    name = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    return name[:253].rstrip("-") or "secret"


def _dns_label(server_name: str) -> str:
    tail = server_name.rsplit("/", 1)[-1].lower()
    return re.sub(r"[^a-z0-9]+", "-", tail).strip("-")[:63].strip("-")


def _choose_package(packages: list[dict[str, Any]], index: int | None, source: str) -> int:
    if not packages:
        raise InputError([Problem("packages", "no package to deploy (a server offered only as"
                                  " `remotes` runs elsewhere): add an oci, npm or pypi package")],
                         source)
    if index is None:
        kinds = [p["registryType"] for p in packages]
        for preferred in ("oci", "npm", "pypi"):
            if preferred in kinds:
                return kinds.index(preferred)
        index = 0
    if not 0 <= index < len(packages):
        raise InputError([Problem("packages", f"has {len(packages)} entries; no package {index}")],
                         source)
    kind = packages[index]["registryType"]
    if kind not in ("oci", "npm", "pypi"):
        raise InputError([Problem(f"packages[{index}].registryType",
                                  f"{kind} packages cannot be deployed here: choose an oci, npm or"
                                  " pypi package")], source)
    return index


def _image(m: _Mapping, package: dict[str, Any], deploy: dict[str, Any], where: str) -> None:
    kind = package["registryType"]
    if kind == "oci":
        ref, src = package["identifier"], f"{where}.identifier"
    else:
        runtime = "node" if kind == "npm" else "python"
        m.values["runtime"] = deploy.get("runtime", runtime)
        m.asks.append(Hint("image", f"{kind} package {package['identifier']}@{package.get('version')}"
                           f" runs with runtime {runtime}: an image holding it is needed"
                           " (the base never downloads packages at start)", where))
        ref, src = deploy.get("image"), f"{_DEPLOY}.image"
    if not ref:
        m.asks.append(Question("image", "Image holding the server (repo:tag@sha256:<64 hex>)",
                               src, kind="digest"))
    elif re.search(rf"@{DIGEST_PATTERN}", ref):
        m.values["image"] = ref
    else:
        m.asks.append(Question("image", f"digest needed: {ref} is tag-only; give"
                               f" {ref}@sha256:<64 hex>", src, kind="digest", default=None,
                               template=ref))


def _env(m: _Mapping, package: dict[str, Any], deploy: dict[str, Any], where: str) -> None:
    path_readers = set(deploy.get("secretFiles", []))
    for i, var in enumerate(package.get("environmentVariables", [])):
        name, src = var["name"], f"{where}.environmentVariables[{i}]"
        if var.get("isSecret"):
            group = "files" if name in path_readers else "env"
            secrets = m.values.setdefault("secrets", {})
            taken = {f for g in ("env", "files") for f in secrets.get(g, {}).values()}
            file_name, n = secret_file_name(name), 2
            while file_name in taken:  # A_B and A-B must not share one file
                file_name, n = f"{secret_file_name(name)}-{n}", n + 1
            secrets.setdefault(group, {})[name] = file_name
            if "value" in var or "default" in var:
                m.asks.append(Hint(f"secrets.{group}.{name}", "the description's value is ignored:"
                                   " a secret comes from the secret store, never from a manifest",
                                   src))
            continue
        if "value" in var or ("default" in var and not var.get("choices")):
            text, unresolved = _substitute(var.get("value", var.get("default", "")),
                                           var.get("variables", {}))
            if unresolved:
                m.asks.append(Question(f"env.{name}", f"{name}: {var.get('description', '')}"
                                       f" (fill in {', '.join('{' + u + '}' for u in unresolved)})",
                                       src, template=text))
            else:
                m.values.setdefault("env", {})[name] = text
        elif var.get("choices"):
            m.asks.append(Question(f"env.{name}", f"{name}: {var.get('description', '')}", src,
                                   kind="choice", choices=tuple(var["choices"]),
                                   default=var.get("default")))
        elif var.get("isRequired"):
            m.asks.append(Question(f"env.{name}", f"{name}: {var.get('description', '')}", src))
        else:
            m.asks.append(Hint(f"env.{name}", f"optional, not set: {var.get('description', '')}", src))
        if var.get("format") == "filepath":
            m.asks.append(Hint(f"env.{name}", "holds a file path: that file must exist in the"
                               " container (a volume or the image)", src))


def _args(m: _Mapping, package: dict[str, Any], where: str, start: int) -> list[str]:
    out: list[str] = []
    for i, arg in enumerate(package.get("packageArguments", [])):
        src = f"{where}.packageArguments[{i}]"
        named = arg["type"] == "named"
        raw = arg.get("value", arg.get("default"))
        if raw is None:
            label = arg.get("name") if named else arg.get("valueHint")
            if not arg.get("isRequired"):
                m.asks.append(Hint("args", f"optional argument {label} not set", src))
                continue
            raw = "{" + str(arg.get("valueHint") or str(label).lstrip("-")) + "}"
            text, unresolved = raw, [raw[1:-1]]
        else:
            text, unresolved = _substitute(raw, arg.get("variables", {}))
        # The format's rule for a named argument is `--flag={value}` (upstream NamedArgument).
        item = f"{arg['name']}={text}" if named else text
        if unresolved:
            choices = tuple(arg.get("choices", ()))
            m.asks.append(Question(f"args[{start + len(out)}]",
                                   f"argument {item}: {arg.get('description', '')}".rstrip(": "),
                                   src, kind="choice" if choices else "text", choices=choices,
                                   template=item))
        out.append(item)
    if package.get("runtimeArguments"):
        m.asks.append(Hint("args", "runtimeArguments are for the runtime command (docker, npx,"
                           " uvx), which the image's entrypoint replaces: not carried over",
                           f"{where}.runtimeArguments"))
    return out


def _transport(m: _Mapping, package: dict[str, Any], deploy: dict[str, Any], where: str) -> None:
    declared = package["transport"]["type"]
    transport = deploy.get("transport", declared)
    if transport == "sse":
        raise InputError([Problem(f"{where}.transport.type", "sse cannot be served: the base speaks"
                                  " streamable-http or stdio behind a bridge (set"
                                  f" {_DEPLOY}.transport if the server has either)")])
    m.values["transport"] = transport
    if transport == "stdio":
        m.asks.append(Hint("bridge", "stdio server: it runs behind the stdio <-> Streamable HTTP"
                           " bridge in the same pod (set bridge)", f"{where}.transport"))
        m.values["path"] = deploy.get("path", "/mcp")
        if "port" in deploy:
            m.values["port"] = deploy["port"]
        return
    url = package["transport"].get("url", "") if declared == "streamable-http" else ""
    # Upstream: "{name}" in the URL names an argument's valueHint or name, or an env var.
    url, _ = _substitute(url, _url_variables(package))
    from_url = re.match(r"^[a-z]+://[^/:]*(?::(\d+))?(/[^?#]*)?", url)
    port = deploy.get("port") or (int(from_url.group(1)) if from_url and from_url.group(1) else None)
    path = deploy.get("path") or (from_url.group(2) if from_url and from_url.group(2) else None)
    if port is not None:
        m.values["port"] = port
    if path:
        m.values["path"] = path
    else:
        m.asks.append(Question("path", "HTTP path of the MCP endpoint", f"{where}.transport.url",
                               default="/mcp"))


def _url_variables(package: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for arg in package.get("packageArguments", []):
        for key in (arg.get("valueHint"), str(arg.get("name", "")).lstrip("-") or None):
            if key and ("value" in arg or "default" in arg):
                found[key] = {"value": _substitute(arg.get("value", arg.get("default", "")),
                                                   arg.get("variables", {}))[0]}
    for var in package.get("environmentVariables", []):
        if not var.get("isSecret") and ("value" in var or "default" in var):
            found[var["name"]] = {"value": var.get("value", var.get("default"))}
    return found


def _deploy(m: _Mapping, deploy: dict[str, Any]) -> None:
    if "command" in deploy:
        m.values["command"] = list(deploy["command"])
    if "healthPath" in deploy:
        probe: dict[str, Any] = {"path": deploy["healthPath"]}
        if deploy.get("probeHeaders"):
            probe["headers"] = dict(deploy["probeHeaders"])
        m.values["probes"] = {"liveness": dict(probe), "readiness": dict(probe)}
    for key in ("workingDir", "volumes"):
        if key in deploy:
            m.values[key] = json.loads(json.dumps(deploy[key]))
    egress = deploy.get("egress", {})
    rules = [{"host": h["host"], "ports": list(h["ports"])} for h in egress.get("hosts", [])]
    rules += [{"cidr": c["cidr"], "ports": list(c["ports"])} for c in egress.get("cidrs", [])]
    if "anyHost" in egress:
        # The internet only: netranges' private and metadata exceptions apply to 0.0.0.0/0.
        rules += [{"cidr": "0.0.0.0/0", "ports": list(egress["anyHost"]["ports"])}]
        m.asks.append(Hint("externalEgress", "the server calls hosts chosen at run time: the"
                           " internet is open on these ports, private ranges stay closed"))
    if rules:
        m.values["externalEgress"] = rules
    if egress.get("hosts"):
        m.asks.append(Question("networkPolicy.flavor", "Host names in egress need a policy that"
                               " enforces them", f"{_DEPLOY}.egress.hosts",
                               kind="choice", choices=("cilium", "gke")))
    access = deploy.get("apiAccess")
    if access:
        m.values["rbac"] = json.loads(json.dumps(access))
        m.asks.append(Question("apiServer.cidrs", "API server address(es) as CIDRs",
                               f"{_DEPLOY}.apiAccess"))
    cloud = deploy.get("cloudIdentity")
    if cloud:
        key, prompt = {"aws": ("cloudIdentity.aws.roleArn", "IAM role ARN the server assumes"),
                       "gcp": ("cloudIdentity.gcp.gcpServiceAccount", "GCP service account"),
                       "azure": ("cloudIdentity.azure.clientID", "Azure client ID")}[cloud]
        m.asks.append(Question(key, prompt, f"{_DEPLOY}.cloudIdentity"))
    for note in deploy.get("notes", []):
        m.asks.append(Hint("", note, f"{_DEPLOY}.notes"))


def to_values(desc: ServerDescription, *, package_index: int | None = None
              ) -> tuple[dict[str, Any], list[Question | Hint]]:
    """Values (Contract v2 shape) and what is left to ask or tell. package_index None picks the
    first oci package, else the first npm, else the first pypi one."""
    packages = desc.data.get("packages", [])
    index = _choose_package(packages, package_index, desc.source)
    package, deploy, where = packages[index], desc.deploy, f"packages[{index}]"
    m = _Mapping()
    label = _dns_label(desc.name)
    if re.fullmatch(_DNS_LABEL, label):
        m.values["name"] = label
    else:
        m.asks.append(Question("name", "Name of the server's objects (DNS label)", "name"))
    m.asks.append(Question("namespace", "Namespace to deploy into", ""))
    try:
        _image(m, package, deploy, where)
        _transport(m, package, deploy, where)
        _env(m, package, deploy, where)
        for name, value in deploy.get("env", {}).items():
            m.values.setdefault("env", {})[name] = value
        head = list(deploy.get("args", []))
        args = head + _args(m, package, where, len(head))
        if args:
            m.values["args"] = args
        _deploy(m, deploy)
    except InputError as exc:
        raise InputError(exc.problems, exc.source or desc.source) from None
    if "secrets" in m.values:
        m.asks.append(Question("secrets.provider", "Secret store holding the credentials", "",
                               kind="choice", choices=("aws", "azure", "gcp", "vault")))
        m.asks.append(Hint("secrets", "the provider's objects must produce the files named in"
                           " secrets.env/secrets.files: " + ", ".join(sorted(
                               {**m.values["secrets"].get("env", {}),
                                **m.values["secrets"].get("files", {})}.values()))))
    return m.values, m.asks


def merge(imported: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """`given` (a --values file) over `imported`, key by key: mappings merge recursively, any
    other value in `given` (lists included: replaced, never concatenated) wins whole."""
    out = dict(imported)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _answered(values: dict[str, Any], key: str) -> bool:
    node: Any = values
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", key):
        if part.startswith("["):
            i = int(part[1:-1])
            if not isinstance(node, list) or i >= len(node):
                return False
            node = node[i]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def remaining(asks: list[Question | Hint], values: dict[str, Any]) -> list[Question]:
    """The questions a merged values dict does not answer yet. An `args[i]` question counts as
    answered once args[i] no longer holds the question's template (--values replaced args)."""
    out = []
    for ask in asks:
        if not isinstance(ask, Question):
            continue
        if ask.key.startswith("args["):
            i = int(ask.key[5:-1])
            current = values.get("args")
            if not (isinstance(current, list) and i < len(current) and current[i] == ask.template):
                continue
        elif _answered(values, ask.key):
            continue
        out.append(ask)
    return out
