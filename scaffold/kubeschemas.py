"""kubernetes-validate's strict Kubernetes schemas: where they are, what they hold, and yes/no
validators compiled from them once per (version, kind) and kept in the user's cache.

The data is found the way the import system finds the package, without running it: `import
kubernetes_validate` imports jsonschema, referencing, attrs and PyYAML (~35 ms), and a valid
bundle needs none of them. jsonschema is imported only to word the errors of a document the
compiled validator rejects (verify.py)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from . import codecache, schemacompiler

# Where the schemas are, and which versions they cover: one definition, in the leaf module the
# CLI and `check` read without importing this one.
from .kubeversions import package_dir, schema_root
from .kubeversions import supported_versions as supported_versions

DEFINITIONS = "_definitions.json"
# The base URI kind schemas resolve "/api/_definitions.json" against.
DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"


def version_dir(version: str) -> Path:
    """The strict schemas (no unknown fields) of Kubernetes minor version "X.Y"."""
    return schema_root() / f"v{version}.0-local-strict"


@functools.cache
def file_name(kind: str, api_version: str) -> str:
    """The schema file of a kind: kubernetes-validate names rbac.authorization.k8s.io/v1
    Role "role-rbac-v1.json"."""
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group}.json"


def kind_schema_path(version: str, kind: str, api_version: str) -> Path:
    return version_dir(version) / file_name(kind, api_version)


@functools.cache
def definitions(version: str) -> dict[str, Any]:
    """The shared definitions every kind schema of a version refers to (1.4 MB: read once)."""
    result: dict[str, Any] = json.loads(
        version_dir(version).joinpath(DEFINITIONS).read_text("utf-8"))
    return result


@functools.cache
def _kv_version() -> str:
    version_file = package_dir() / "version.py"
    return version_file.read_text("utf-8") if version_file.is_file() else ""


def compiled_validator(version: str, kind: str, api_version: str,
                       schema: dict[str, Any] | None = None) -> schemacompiler.Predicate | None:
    """A yes/no validator with the verdict of the strict schema of kind (or of schema, a schema
    held in memory that refers to the version's definitions), or None if the schema file does
    not exist or the schema cannot be compiled."""
    path = kind_schema_path(version, kind, api_version)
    try:
        inputs = [_kv_version(), codecache.file_stamp(str(version_dir(version) / DEFINITIONS)),
                  codecache.file_stamp(str(path)) if schema is None
                  else schemacompiler.schema_key(schema)]
    except OSError:
        return None

    def make() -> tuple[Any, dict[str, Any]]:
        defs = definitions(version)
        root = schema if schema is not None else json.loads(path.read_text("utf-8"))
        return root, {defs.get("$id", DEFINITIONS_URI): defs}

    name = f"k8s-{version}-{file_name(kind, api_version).removesuffix('.json')}"
    return schemacompiler.cached_validator(name, inputs, make)
