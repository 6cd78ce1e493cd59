"""Tag-only images resolved to digests through the OCI distribution API (DESIGN.md Contract v3,
"Images are resolved, not pasted").

The standard library's urllib, not a client library: the candidates on PyPI were tried
(shared/reference/oci-registry-facts.md §5): `python-dxf` refuses any auth over plain HTTP and
breaks on manifests without `mediaType` (umoci writes none), `oras` hides the manifest digest and
retries a refused connection for ~131 s, `opencontainers` has no Basic auth. What is needed here
is three GETs and two auth schemes, and each library would add requests and more to a
four-dependency budget.

Facts used (OCI distribution-spec, and distribution 2.8 as tested in the reference file):
every manifest GET sends all four manifest types (2.8 answers 404 for an OCI manifest or index
the Accept header lacks, and converts a Docker v2 manifest to schema1 when it is missing); the
digest pinned is sha256 of the bytes received, checked against Docker-Content-Digest; an index
pins the index digest (every platform) while the config is read from its linux/amd64 entry.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Problem, ValuesError
from .safetext import printable

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES = MANIFEST_TYPES[0::2]
# The OCI image spec's limit for a manifest (4 MiB, "manifests ... SHOULD NOT exceed"); configs
# of real images are a few KiB, so the same bound keeps a hostile registry from filling memory.
MAX_BYTES = 4 * 1024 * 1024
TIMEOUT = 20.0
# Kubernetes nodes are overwhelmingly linux/amd64; the index digest is pinned either way, so
# this choice only decides whose Entrypoint/Cmd/User are read (not the machine running `new`).
PLATFORM = ("linux", "amd64")
DOCKER_HUB = "registry-1.docker.io"
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"

# The keys whose images are resolved (dotted paths in the values).
IMAGE_KEYS = ("image", "bridge.image", "secrets.envLoader.image")


class ImageError(Exception):
    """Why an image could not be resolved (one line, no traceback)."""


@dataclass(frozen=True)
class Reference:
    """A tag-only image reference split as docker does (distribution/reference normalize.go)."""

    text: str
    host: str          # the registry to contact
    auth_key: str      # the key of ~/.docker/config.json `auths`
    repository: str    # the path on that registry
    tag: str


@dataclass
class Resolved:
    """A pinned image and what its config says."""

    pinned: str
    config: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


_REF = re.compile(r"(?P<name>[A-Za-z0-9._/:-]+?)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?")


def parse(text: str) -> Reference:
    """Split a tag-only reference; ImageError if it is not one."""
    m = _REF.fullmatch(text)
    if not m or "@" in text:
        raise ImageError("is not an image reference repo[:tag]")
    name, tag = m["name"], m["tag"] or "latest"
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
        auth_key = host
    else:
        host, path = DOCKER_HUB, name if rest else f"library/{name}"
        auth_key = DOCKER_HUB_AUTH_KEY
    if host == "docker.io":
        host, auth_key = DOCKER_HUB, DOCKER_HUB_AUTH_KEY
    return Reference(text, host, auth_key, path, tag)


def is_loopback(host: str) -> bool:
    """Whether host (no port) is a loopback name or address: the only place plain HTTP goes,
    as Docker treats 127.0.0.0/8 as an insecure registry (docker daemon/config insecure-registries)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _hostname(netloc: str) -> str:
    return urllib.parse.urlsplit(f"//{netloc}").hostname or ""


def _credentials(auth_key: str) -> tuple[str, str] | None:
    """Basic credentials from the docker config (`auths.<key>.auth`, or username/password).
    Credential helpers (credsStore/credHelpers) are not run: an image that needs them is
    refused with the registry's 401, naming the image."""
    base = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    try:
        data = json.loads((Path(base) / "config.json").read_text())
    except (OSError, ValueError):
        return None
    entry = (data.get("auths") or {}).get(auth_key) if isinstance(data, dict) else None
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("auth"), str):
        try:
            user, _, pw = base64.b64decode(entry["auth"]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, pw
    if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
        return entry["username"], entry["password"]
    return None


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by _Client itself, so each hop is held to the scheme rule."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _Client:
    def __init__(self, ref: Reference) -> None:
        self.ref = ref
        self.scheme = "http" if is_loopback(_hostname(ref.host)) else "https"
        self.creds = _credentials(ref.auth_key)
        self.authorization: str | None = None
        self.opener = urllib.request.build_opener(_NoRedirect)

    def _check_url(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "https":
            return
        if parts.scheme == "http" and is_loopback(parts.hostname or ""):
            return
        raise ImageError(f"refused {printable(url)}: plain HTTP only to a loopback registry")

    def _open(self, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        for _hop in range(5):
            self._check_url(url)
            req = urllib.request.Request(url, headers=headers)
            try:
                with self.opener.open(req, timeout=TIMEOUT) as resp:
                    return resp.status, {k.lower(): v for k, v in resp.headers.items()}, \
                        _read(resp)
            except urllib.error.HTTPError as exc:
                hdrs = {k.lower(): v for k, v in exc.headers.items()}
                if exc.code in (301, 302, 303, 307, 308) and "location" in hdrs:
                    url = urllib.parse.urljoin(url, hdrs["location"])
                    # A blob redirect goes to storage: the registry's token is not for it.
                    headers = {k: v for k, v in headers.items() if k != "Authorization"}
                    continue
                return exc.code, hdrs, _read(exc)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                raise ImageError(f"cannot reach {self.ref.host}: {printable(str(reason))}") from None
        raise ImageError("too many redirects")

    def get(self, path: str, accept: str) -> tuple[dict[str, str], bytes]:
        url = f"{self.scheme}://{self.ref.host}/v2/{self.ref.repository}/{path}"
        for _attempt in range(2):
            headers = {"Accept": accept}
            if self.authorization:
                headers["Authorization"] = self.authorization
            status, hdrs, body = self._open(url, headers)
            if status == 401 and _attempt == 0:
                self._authenticate(hdrs.get("www-authenticate", ""))
                continue
            if status == 200:
                return hdrs, body
            if status == 404:
                raise ImageError("not found in the registry")
            if status in (401, 403):
                raise ImageError(f"the registry refused access (HTTP {status}); give credentials"
                                 " in ~/.docker/config.json `auths` (credential helpers are not"
                                 " run)")
            raise ImageError(f"the registry answered HTTP {status}")
        raise ImageError("the registry refused the credentials")

    def _authenticate(self, header: str) -> None:
        scheme, params = _challenge(header)
        if scheme == "basic":
            if not self.creds:
                raise ImageError("the registry needs credentials: none for"
                                 f" {printable(self.ref.auth_key)} in ~/.docker/config.json"
                                 " `auths` (credential helpers are not run)")
            self.authorization = "Basic " + base64.b64encode(
                ":".join(self.creds).encode()).decode()
            return
        if scheme != "bearer" or "realm" not in params:
            raise ImageError(f"unsupported authentication challenge {printable(header)!r}")
        query: dict[str, str] = {k: params[k] for k in ("service", "scope") if k in params}
        if "scope" not in query:
            query["scope"] = f"repository:{self.ref.repository}:pull"
        url = params["realm"] + ("&" if "?" in params["realm"] else "?") + \
            urllib.parse.urlencode(query)
        headers = {}
        if self.creds:
            headers["Authorization"] = "Basic " + base64.b64encode(
                ":".join(self.creds).encode()).decode()
        status, _hdrs, body = self._open(url, headers)
        if status != 200:
            raise ImageError(f"the token service answered HTTP {status}")
        try:
            answer = json.loads(body)
            token = answer.get("token") or answer.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise ImageError("the token service gave no token")
        self.authorization = f"Bearer {token}"


def _read(resp: Any) -> bytes:
    body: bytes = resp.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise ImageError(f"the registry sent more than {MAX_BYTES} bytes (refused)")
    return body


def _verified(body: bytes, expected: str | None, what: str) -> str:
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if expected is not None and expected != digest:
        raise ImageError(f"the {what} the registry sent does not match its digest"
                         f" {printable(expected)} (refused)")
    return digest


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise ImageError(f"the {what} is not JSON") from None
    if not isinstance(data, dict):
        raise ImageError(f"the {what} is not a JSON object")
    return data


def _media_type(hdrs: dict[str, str], data: dict[str, Any]) -> str:
    # umoci writes no mediaType in the body; the Content-Type header is the registry's word.
    mt = data.get("mediaType")
    return mt if isinstance(mt, str) else hdrs.get("content-type", "").split(";")[0].strip()


def resolve(text: str) -> Resolved:
    """Pin a tag-only reference to the digest of what its tag names now, and read the config."""
    ref = parse(text)
    client = _Client(ref)
    hdrs, body = client.get(f"manifests/{ref.tag}", ", ".join(MANIFEST_TYPES))
    mt = _media_type(hdrs, _json(body, "manifest"))
    if mt not in MANIFEST_TYPES:
        # A schema1 answer has a digest other than the header's; nothing in it is trusted.
        raise ImageError(f"the registry answered with manifest type {printable(mt)!r}")
    pinned_digest = _verified(body, hdrs.get("docker-content-digest"), "manifest")
    result = Resolved(f"{text}@{pinned_digest}")
    manifest = _json(body, "manifest")
    if mt in INDEX_TYPES:
        entry = _platform_entry(manifest)
        if entry is None:
            result.notes.append(f"the index has no {'/'.join(PLATFORM)} manifest: its config"
                                " was not read")
            return result
        child_hdrs, child = client.get(f"manifests/{entry}", ", ".join(MANIFEST_TYPES))
        _verified(child, entry, "manifest")
        manifest = _json(child, "manifest")
        if _media_type(child_hdrs, manifest) in INDEX_TYPES:
            raise ImageError("the index names another index for its platform (refused)")
    config = manifest.get("config")
    digest = config.get("digest") if isinstance(config, dict) else None
    if not isinstance(digest, str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise ImageError("the manifest names no sha256 config digest")
    _h, blob = client.get(f"blobs/{digest}", "application/octet-stream, */*")
    _verified(blob, digest, "config")
    inner = _json(blob, "config").get("config")
    result.config = inner if isinstance(inner, dict) else {}
    return result


def _platform_entry(index: dict[str, Any]) -> str | None:
    for item in index.get("manifests") or []:
        if not isinstance(item, dict):
            continue
        plat = item.get("platform") or {}
        if isinstance(plat, dict) and (plat.get("os"), plat.get("architecture")) == PLATFORM:
            digest = item.get("digest")
            if isinstance(digest, str) and re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
                return digest
    return None


# --- the values: which images, what the base needs from their config ---------------------------


def _get(raw: dict[str, Any], dotted: str) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _set(raw: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = raw
    for part in parents:
        node = node[part]
    node[last] = value


def tag_only(raw: dict[str, Any]) -> list[str]:
    """The image keys of raw that hold a reference with no digest."""
    return [k for k in IMAGE_KEYS
            if isinstance(_get(raw, k), str) and "@" not in _get(raw, k) and _get(raw, k)]


def _needs_command(raw: dict[str, Any]) -> bool:
    # The stdio bridge runs the server as its child, and the secrets.env wrapper execs it: both
    # replace the image's ENTRYPOINT, so they need the start command (values.py, envloader.py).
    if raw.get("transport") == "stdio":
        return True
    secrets = raw.get("secrets")
    return (isinstance(secrets, dict) and bool(secrets.get("env"))
            and not _get(raw, "secrets.envLoader.image"))


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def resolve_values(raw: dict[str, Any], source: str) -> tuple[dict[str, Any], list[str]]:
    """raw with every tag-only image pinned (and `command` filled from the image where the base
    needs it); the warnings. ValuesError naming each image that could not be resolved."""
    problems: list[Problem] = []
    warnings: list[str] = []
    out = json.loads(json.dumps(raw))
    for key in tag_only(raw):
        text = _get(raw, key)
        try:
            res = resolve(text)
        except ImageError as exc:
            problems.append(Problem(key, f"{printable(text)}: {exc}"))
            continue
        _set(out, key, res.pinned)
        warnings += [f"{key}: {printable(text)}: {n}" for n in res.notes]
        if key == "image" and res.config:
            warnings += _fill_and_compare(out, res.config, printable(text))
    if problems:
        raise ValuesError(problems, source)
    return out, warnings


def _fill_and_compare(out: dict[str, Any], config: dict[str, Any], shown: str) -> list[str]:
    warnings: list[str] = []
    entrypoint, cmd = _strings(config.get("Entrypoint")), _strings(config.get("Cmd"))
    if _needs_command(out) and not out.get("command"):
        # Kubernetes: command replaces ENTRYPOINT and args replaces CMD (a container's command
        # given without args drops CMD), so both are written when args is not given.
        if entrypoint:
            out["command"] = entrypoint
            if "args" not in out and cmd:
                out["args"] = cmd
        elif cmd and "args" not in out:
            out["command"] = cmd
    user = config.get("User")
    run_as = out.get("runAsUser", 65532)
    if isinstance(user, str):
        name = user.split(":", 1)[0]
        if name in ("", "0", "root"):
            warnings.append(f"image: {shown} runs as root; the pod runs it as runAsUser"
                            f" {run_as}: files only root may write (HOME, caches) will not be"
                            " writable")
        elif name.isdigit() and int(name) != run_as:
            warnings.append(f"image: {shown} runs as user {printable(name)}; the pod sets"
                            f" runAsUser {run_as}: files the image gave its user may not be"
                            " writable")
    workdir = config.get("WorkingDir")
    if isinstance(out.get("workingDir"), str) and isinstance(workdir, str) and workdir \
            and out["workingDir"] != workdir:
        warnings.append(f"workingDir: {printable(out['workingDir'])} replaces the image's"
                        f" WORKDIR {printable(workdir)}")
    ports = config.get("ExposedPorts")
    port = out.get("port", 8080)
    if out.get("transport", "streamable-http") != "stdio" and isinstance(ports, dict) and ports \
            and f"{port}/tcp" not in ports and str(port) not in ports:
        shown_ports = ", ".join(sorted(printable(str(p)) for p in ports))
        warnings.append(f"port: {port} is not among the image's ExposedPorts ({shown_ports})")
    return warnings
