"""Render checked values into the files of a Kustomize base: one Jinja2 template per object.

Python works out what the objects hold (labels, excepts, mounts); the templates lay it out.
Every user value reaches the YAML through the |q filter (a JSON-quoted scalar) or |yaml (a
YAML dumper), so no value can add keys or change type."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from . import providers, yamlio
from .values import Values, check_label_value, egress_excepts, image_tag

# kube-validate schemas gained PodDisruptionBudget.spec.unhealthyPodEvictionPolicy in 1.27.
_PDB_EVICTION_POLICY_SINCE = (1, 27)
_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
_HOME = "/home/mcp"


@dataclass(frozen=True)
class RenderedFile:
    """One file of the base: its name in the output directory and its text."""

    path: str
    text: str

    @property
    def is_manifest(self) -> bool:
        """True for files that hold Kubernetes objects (applied by kustomize)."""
        return self.path.endswith(".yaml") and self.path not in ("kustomization.yaml", "values.yaml")


# A plain (unquoted) scalar only where every YAML 1.1 and 1.2 reader agrees it is this string:
# starts with a letter, no ':', '#', spaces or flow characters, and is no boolean/null word.
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9._/-]*$")
_NOT_PLAIN = {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "nan", "inf"}


def _q(value: Any) -> str:
    # JSON is YAML: a quoted string cannot break out of its scalar, numbers stay numbers.
    if isinstance(value, bool | int) and not isinstance(value, float):
        return json.dumps(value)
    if not isinstance(value, str):
        raise TypeError(f"refusing to interpolate a {type(value).__name__}; use |yaml")
    if _PLAIN.match(value) and value.lower() not in _NOT_PLAIN:
        return value
    return _UNPRINTABLE.sub(_escape, json.dumps(value, ensure_ascii=False))


# Characters YAML may not carry raw (or reads as line breaks inside a quoted scalar); JSON
# already escapes C0 controls. Escaped as \uXXXX, which a YAML double-quoted scalar decodes.
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _yaml(value: dict[str, Any], indent: int) -> str:
    # Embedded lists inside SecretProviderClass parameters are strings holding YAML that the
    # provider parses: dump them, then dump the mapping of strings.
    flat = {k: v if isinstance(v, str) else yamlio.dump(v) for k, v in value.items()}
    pad = " " * indent
    return "\n".join(pad + line if line else line for line in yamlio.dump(flat).splitlines())


def _spaces(count: int) -> str:
    # Indentation only: an int, so it can carry nothing from the values.
    if not isinstance(count, int):
        raise TypeError("spaces takes an int")
    return " " * count


def _bytecode_cache(jinja2: Any, options: dict[str, Any]) -> Any:
    """Compiled templates on disk, so a new process skips compiling them (~30 ms). Jinja keys
    each entry by template path and source checksum (its magic by Jinja and Python version) and
    writes it atomically; the directory is keyed by the Jinja version and the options that
    change compiled code. MCP_SCAFFOLD_NO_CACHE=1, or an unwritable cache, disables it."""
    if os.environ.get("MCP_SCAFFOLD_NO_CACHE"):
        return None
    key = hashlib.sha256(f"{jinja2.__version__} {sorted(options.items())}".encode()).hexdigest()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "mcp-scaffold", f"jinja-{key[:16]}")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if not os.access(directory, os.W_OK):
            return None
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(directory)


@functools.cache
def _environment() -> Any:
    import jinja2  # deferred: only rendering pays for it

    root = resources.files("scaffold.templates")
    options: dict[str, Any] = {
        "autoescape": False,  # YAML, not HTML: values are quoted by |q instead
        "keep_trailing_newline": True,
        "trim_blocks": False,
        "lstrip_blocks": False,
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_bytecode_cache(jinja2, options),
        **options,
    )
    env.filters["q"] = _q
    env.filters["yaml"] = _yaml
    env.filters["spaces"] = _spaces
    return env


def _context(v: Values) -> dict[str, Any]:
    name = v["name"]
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
    }
    tag = image_tag(v["image"])

    if tag and check_label_value(tag) is None:
        labels["app.kubernetes.io/version"] = tag
    labels["app.kubernetes.io/component"] = "mcp-server"
    labels["app.kubernetes.io/part-of"] = "mcp-servers"
    labels["app.kubernetes.io/managed-by"] = "mcp-scaffold"
    labels.update(sorted(v["labels"].items()))
    selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}

    version = v["kubernetesVersion"]
    namespace_labels = {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": f"v{version}",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": f"v{version}",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": f"v{version}",
        "app.kubernetes.io/managed-by": "mcp-scaffold",
        **dict(sorted(v["labels"].items())),
    }

    secrets = v["secrets"]
    provider_name = secrets["provider"] if secrets["provider"] != "none" else ""
    module = providers.get(provider_name) if provider_name else None
    block = secrets.get(provider_name, {})
    pod_labels = dict(labels)
    if module is not None and hasattr(module, "pod_labels"):
        pod_labels.update(module.pod_labels(block))

    api_access = bool(v["configMaps"])
    home = _HOME if v["runtime"] != "generic" else ""
    mounts = [{"name": "tmp", "path": "/tmp", "read_only": False}]
    if home:
        mounts.append({"name": "home", "path": home, "read_only": False})
    if api_access:
        mounts.append({"name": "api-token", "path": _TOKEN_PATH, "read_only": True})
    if module is not None:
        mounts.append({"name": "secrets", "path": secrets["mountPath"], "read_only": True})

    env = [{"name": k, "value": val} for k, val in sorted(v["env"].items())]
    if home:
        env += [{"name": "HOME", "value": home},
                {"name": "XDG_CACHE_HOME", "value": f"{home}/.cache"}]
    if v["runtime"] == "node":
        env += [{"name": "NPM_CONFIG_CACHE", "value": f"{home}/.npm"}]
    if v["runtime"] == "python":
        env += [{"name": "UV_CACHE_DIR", "value": f"{home}/.cache/uv"},
                {"name": "PIP_CACHE_DIR", "value": f"{home}/.cache/pip"},
                {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}]
    env += [{"name": "TMPDIR", "value": "/tmp"}]
    secret_files = [{"env": k, "path": f"{secrets['mountPath'].rstrip('/')}/{f}"}
                    for k, f in sorted(secrets["files"].items())]
    env += [{"name": f["env"], "value": f["path"]} for f in secret_files]

    external = []
    for rule in v["externalEgress"]:
        external.append({"cidr": rule["cidr"], "ports": rule["ports"],
                         "except": egress_excepts(rule["cidr"]),
                         "internet": rule["cidr"] in ("0.0.0.0/0", "::/0")})
    downstream = [{**d, "namespace": d.get("namespace", v["namespace"])} for d in v["downstream"]]

    major, minor = (int(x) for x in version.split("."))
    if not v["ingress"]["podLabels"]:
        ingress_note = (f"An ingress controller in namespace `{v['ingress']['namespace']}`; every"
                        " pod there may connect (set ingress.podLabels to narrow it).")
    else:
        ingress_note = f"An ingress controller in namespace `{v['ingress']['namespace']}`."
    return {
        "v": v,
        "labels": labels,
        "pod_labels": pod_labels,
        "selector": selector,
        "policy_selector": {"app.kubernetes.io/instance": name},
        "namespace_labels": namespace_labels,
        "sa_annotations": module.sa_annotations(block) if module else {},
        "api_access": api_access,
        "api_blocks": [{"cidr": c, "except": egress_excepts(c)} for c in v["apiServer"]["cidrs"]],
        "home": home,
        "mounts": mounts,
        "env": env,
        "provider": provider_name,
        "spc_name": f"{name}-secrets",
        "spc_parameters": module.parameters(block, v) if module else {},
        "secret_files": secret_files,
        "prerequisites": module.prerequisites(block, v) if module else [],
        "external": external,
        "downstream": downstream,
        "pdb_eviction_policy": (major, minor) >= _PDB_EVICTION_POLICY_SINCE,
        "ingress_note": ingress_note,
        "probe_paths": {k: p.get("path", "") for k, p in v["probes"].items()},
    }


def manifest_names(v: Values) -> list[str]:
    """The object files of the base, in apply order (kustomization lists them so)."""
    names = ["namespace.yaml", "serviceaccount.yaml"]
    if v["configMaps"]:
        names += ["role.yaml", "rolebinding.yaml"]
    names.append("networkpolicy.yaml")
    if v["secrets"]["provider"] != "none":
        names.append("secretproviderclass.yaml")
    names += ["deployment.yaml", "service.yaml"]
    if v["replicas"] >= 2:
        names.append("poddisruptionbudget.yaml")
    return names


_VALUES_HEADER = (
    "# The answers that produced this base. Regenerate it with:\n"
    "#   mcp-scaffold new --values values.yaml --output <this dir> --force\n"
    "# Every key is described by `mcp-scaffold schema`.\n"
)


def render(v: Values) -> list[RenderedFile]:
    """The files of the base for checked values, in a fixed order; same values, same bytes."""
    env = _environment()
    ctx = _context(v)
    names = manifest_names(v)
    files = [RenderedFile(n, env.get_template(f"{n}.j2").render(ctx)) for n in names]
    files.append(RenderedFile("kustomization.yaml",
                              env.get_template("kustomization.yaml.j2").render(
                                  ctx, resources=names)))
    files.append(RenderedFile("values.yaml", _VALUES_HEADER + yamlio.dump(v)))
    all_names = [f.path for f in files] + ["README.md"]
    files.append(RenderedFile("README.md",
                              env.get_template("README.md.j2").render(ctx, files=all_names)))
    return files


def stream(files: list[RenderedFile]) -> str:
    """The Kubernetes objects of a base as one multi-document YAML stream."""
    return "---\n".join(f.text if f.text.endswith("\n") else f.text + "\n"
                        for f in files if f.is_manifest)
