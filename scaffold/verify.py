"""Verify rendered objects before anything is written: parse every document back, validate
built-in kinds against kubernetes-validate's strict schemas for the target version, the
SecretProviderClass against a schema derived from its CRD, CiliumNetworkPolicy and
FQDNNetworkPolicy against fqdnpolicy's strict schemas, then run the policy rules.

A document is first put to a validator compiled from its schema (kubeschemas.py,
schemacompiler.py: the same verdict, in microseconds, from the user's cache); only a document
it rejects goes through jsonschema, which words the errors. jsonschema validators are built
once per (kind, apiVersion, version) and reused; each version's 1.4 MB definitions file is
read once, and only when jsonschema or the compiler needs it."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from . import fqdnpolicy, kubeschemas, providers, schemacompiler, yamlio
from .errors import InputError, VerificationError
from .render import RenderedFile

SPC_API_VERSION = "secrets-store.csi.x-k8s.io/v1"



@functools.cache
def _definitions(version: str) -> Any:
    from referencing import Registry, Resource

    defs = kubeschemas.definitions(version)
    resource: Resource[Any] = Resource.from_contents(defs)
    return defs, resource @ Registry()


@functools.cache
def _crd_schema(version: str) -> dict[str, Any]:
    """JSON Schema for SecretProviderClass v1: the CRD's fields, strict, plus the rules a
    provider enforces only at mount time (so a bundle that would not mount fails here)."""
    # Written for mcp-scaffold from the facts (field names, types, served version v1) of the
    # CRD in kubernetes-sigs/secrets-store-csi-driver,
    # deploy/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml (= config/crd/bases/...,
    # controller-gen v0.16.3). tests/test_spc_schema.py compares verdicts with that CRD's
    # own schema. Unknown fields are refused wherever the CRD lists properties.
    string = {"type": "string"}
    strings = {"type": "object", "additionalProperties": string}
    return {
        # Same base URI as the built-in kinds, so "/api/_definitions.json" resolves alike.
        "$id": "https://kubernetes.io/api/secretproviderclass/v1",
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {**string, "enum": [SPC_API_VERSION]},
            "kind": {**string, "enum": ["SecretProviderClass"]},
            # The CRD says only "object"; Kubernetes checks metadata as any object's.
            "metadata": {
                "$ref": "/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "required": ["provider", "parameters"],
                "properties": {
                    "provider": {**string, "enum": sorted(providers.NAMES)},
                    "parameters": strings,
                    # Declared so that its presence is reported once, by the "not" below.
                    "secretObjects": {"type": "array"},
                },
                # secretObjects copies the secrets back into etcd as Secret objects: never.
                "not": {"required": ["secretObjects"]},
                "allOf": [
                    {"if": {"properties": {"provider": {"const": p}}},
                     "then": {"properties": {"parameters": {
                         "required": list(providers.get(p).REQUIRED_PARAMETERS)}}}}
                    for p in sorted(providers.NAMES)
                ],
            },
            "status": {"type": "object"},
        },
    }


_DEFS_REF = "/api/_definitions.json#/$defs/"
# Keywords whose value is a map of names to subschemas, a subschema, or a list of subschemas.
_SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
_SCHEMA_ONE = {"items", "not", "additionalProperties", "if", "then", "else", "contains",
               "propertyNames", "unevaluatedProperties", "unevaluatedItems", "additionalItems"}
_SCHEMA_LIST = {"allOf", "anyOf", "oneOf", "prefixItems"}


def _inline(node: Any, defs: dict[str, Any], memo: dict[str, Any], stack: tuple[str, ...],
            in_defs: bool = False) -> Any:
    """node with each {"$ref": definition, "description": ...} replaced by the definition
    (inlined alike), so validation skips the registry lookup at every step. Errors, paths and
    messages are the same: a $ref yields its target's errors unchanged. References that
    recurse, or carry validating siblings, stay references (made absolute: they may now sit
    outside the definitions file)."""
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = (ref[len(_DEFS_REF):] if ref.startswith(_DEFS_REF)
                else ref[len("#/$defs/"):] if in_defs and ref.startswith("#/$defs/") else None)
        if name is not None and name in defs and name not in stack and all(
                k in ("$ref", "description") or k.startswith("x-kubernetes-") for k in node):
            if name not in memo:
                memo[name] = _inline(defs[name], defs, memo, (*stack, name), True)
            return memo[name]
        if name is not None:
            node = {**node, "$ref": _DEFS_REF + name}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: _inline(v, defs, memo, stack, in_defs) for k, v in value.items()}
        elif key in _SCHEMA_ONE:
            out[key] = _inline(value, defs, memo, stack, in_defs)
        elif key in _SCHEMA_LIST and isinstance(value, list):
            out[key] = [_inline(v, defs, memo, stack, in_defs) for v in value]
        else:
            out[key] = value
    return out


@functools.cache
def _inlined_memo(version: str) -> dict[str, Any]:
    return {}


@functools.cache
def _compiled(version: str, kind: str, api_version: str) -> schemacompiler.Predicate | None:
    if (kind, api_version) == ("SecretProviderClass", SPC_API_VERSION):
        return kubeschemas.compiled_validator(version, kind, api_version, _crd_schema(version))
    if (kind, api_version) in fqdnpolicy.SCHEMAS:
        return kubeschemas.compiled_validator(version, kind, api_version,
                                              fqdnpolicy.SCHEMAS[(kind, api_version)]())
    return kubeschemas.compiled_validator(version, kind, api_version)


@functools.cache
def _validator(version: str, kind: str, api_version: str) -> Any:
    import jsonschema

    defs, registry = _definitions(version)
    if (kind, api_version) == ("SecretProviderClass", SPC_API_VERSION):
        schema = _crd_schema(version)
    elif (kind, api_version) in fqdnpolicy.SCHEMAS:
        # The host-name policies for Cilium and GKE: our own strict schemas of what we emit.
        schema = fqdnpolicy.SCHEMAS[(kind, api_version)]()
    else:
        path = kubeschemas.kind_schema_path(version, kind, api_version)
        if not path.is_file():
            return None
        schema = json.loads(path.read_text("utf-8"))
    schema = _inline(schema, defs.get("$defs", {}), _inlined_memo(version), ())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _where(doc: dict[str, Any]) -> str:
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    return f"{doc.get('kind', '?')}/{meta.get('name', '?')}"


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out.lstrip(".") or "(document)"


def schema_failures(doc: Any, version: str) -> list[str]:
    """Why doc is not a valid object of its kind for Kubernetes version (empty if it is)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str) \
            or not isinstance(doc.get("apiVersion"), str):
        return [f"{_where(doc if isinstance(doc, dict) else {})}: not a Kubernetes object"]
    if schemacompiler.accepts(_compiled(version, doc["kind"], doc["apiVersion"]), doc):
        return []
    validator = _validator(version, doc["kind"], doc["apiVersion"])
    if validator is None:
        return [f"{_where(doc)}: no schema for {doc['kind']} {doc['apiVersion']} in Kubernetes"
                f" {version}"]
    return [f"{_where(doc)}: {_path(e.absolute_path)}: {_message(e)}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))]


def _message(err: Any) -> str:
    if err.validator == "not" and err.validator_value == {"required": ["secretObjects"]}:
        return "secretObjects is not allowed: it copies the secrets into etcd as Secret objects"
    allowed = err.schema.get("x-allowed") if isinstance(err.schema, dict) else None
    if allowed:  # our schemas say what is allowed in words instead of a regular expression
        return f"must be {allowed}, got {json.dumps(err.instance)[:80]}"
    text: str = err.message
    return text if len(text) <= 200 else text[:197] + "..."


def documents(files: list[RenderedFile]) -> list[dict[str, Any]]:
    """Parse the manifests of a bundle back into objects, in file order."""
    docs: list[dict[str, Any]] = []
    for f in files:
        if not f.is_manifest:
            continue
        try:
            docs.extend(yamlio.load_all(f.text, f.path))
        except InputError as exc:
            raise VerificationError([f"{f.path}: {line}" for line in exc.lines()]) from None
    return docs


def verify(files: list[RenderedFile], version: str) -> list[dict[str, Any]]:
    """Check a rendered bundle; return its objects, or raise VerificationError naming every
    failing object and field. Nothing is written by this module."""
    failures: list[str] = []
    for f in files:
        if f.path.endswith(".yaml") and not f.is_manifest:
            try:
                yamlio.load_one(f.text, f.path)
            except InputError as exc:
                failures += [f"{f.path}: {line}" for line in exc.lines()]
    docs = documents(files)
    for doc in docs:
        failures += schema_failures(doc, version)
    if not failures:
        failures += _policy_failures(docs, version)
    if failures:
        raise VerificationError(failures)
    return docs


def _policy_failures(docs: list[dict[str, Any]], version: str) -> list[str]:
    # The same rules `mcp-scaffold check` applies; a generated bundle must have no finding
    # except the ones the values asked for and the generator acknowledges on the object itself
    # (plan.ACKNOWLEDGED_RULES: rbac's list/watch, clusterWide's reason, the cloud identity's
    # node-local endpoint), which `check` reports as acknowledged.
    from .plan import ACKNOWLEDGED_RULES
    from .policy import evaluate

    return [f"{f.kind}/{f.name}: {f.path}: [{f.rule}] {f.message}" for f in evaluate(docs, version)
            if not (f.suppressed and f.rule in ACKNOWLEDGED_RULES)]
