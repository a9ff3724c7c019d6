"""Validates responses against Intercom's official OpenAPI descriptions (vendored in the package).

Every response the test client sees goes through `validate_response` (see conftest), the way
Zulip checks every response against its own spec. The operation is found by method and path; the
body is validated against the schema declared for its status, and every error body against the
spec's `error` schema, whether or not the operation declares that status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator


class ContractError(AssertionError):
    pass


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]


@cache
def load_spec(version: str) -> dict[str, Any]:
    """The description as published, plus one repair (see _nullable_refs)."""
    text = resources.files("parley").joinpath(f"openapi/{version}.yaml").read_text("utf-8")
    spec: dict[str, Any] = yaml.load(text, Loader=yaml.CSafeLoader)
    _nullable_refs(spec)
    return spec


def _nullable_refs(node: Any) -> None:
    """`{$ref: X, nullable: true}` means "X or null" to the spec's authors and to Intercom's own
    server (e.g. conversation_part.assigned_to is null when the part changed no assignment), but
    OpenAPI 3.0 ignores siblings of $ref. Say what the authors meant, in a form validators
    honour."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if isinstance(value, dict) and "$ref" in value and value.get("nullable") is True:
                node[key] = {"anyOf": [{"$ref": value["$ref"]}, {"enum": [None]}]}
            elif isinstance(value, dict) and "allOf" in value and value.get("nullable") is True:
                # The same intent written as {nullable: true, allOf: [{$ref}]} (tag.applied_by):
                # the allOf members are not nullable, so null would be refused.
                _nullable_refs(value)
                node[key] = {"anyOf": [value, {"enum": [None]}]}
            else:
                _nullable_refs(value)
    elif isinstance(node, list):
        for item in node:
            _nullable_refs(item)


@cache
def _operations(version: str) -> list[Operation]:
    spec = load_spec(version)
    ops: list[Operation] = []
    for template, item in spec["paths"].items():
        regex = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        for method, op in item.items():
            if method in {"get", "post", "put", "delete", "patch"}:
                ops.append(Operation(method.upper(), template, re.compile(regex), op))
    # Literal segments beat templated ones: /conversations/search before /conversations/{id}.
    ops.sort(key=lambda o: (o.template.count("{"), -len(o.template)))
    return ops


def find_operation(method: str, path: str, version: str = "2.14") -> Operation | None:
    for op in _operations(version):
        if op.method == method.upper() and op.pattern.match(path):
            return op
    return None


@cache
def _validator(version: str, pointer: str) -> OAS30Validator:
    spec = load_spec(version)
    schema: dict[str, Any] = {"allOf": [{"$ref": pointer}], "components": spec["components"]}
    return OAS30Validator(schema)


def _schema_pointer(op: Operation, status: int, version: str) -> str | None:
    declared = op.spec["responses"][str(status)]
    content = declared.get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    if "$ref" in schema:
        return str(schema["$ref"])
    # An inline schema (e.g. createConversation's allOf message + conversation_id): give it a name
    # among the components so that its own $refs resolve against the same document.
    key = "x-parley-inline-" + re.sub(r"\W+", "_", f"{op.method}{op.template}{status}")
    load_spec(version)["components"]["schemas"].setdefault(key, schema)
    return f"#/components/schemas/{key}"


def validate_response(
    method: str, path: str, status: int, body: Any, *, version: str = "2.14"
) -> None:
    """Raise ContractError if `body` is not what the official description promises."""
    if status >= 400:
        pointer: str | None = "#/components/schemas/error"
        if not isinstance(body, dict) or not body.get("request_id"):
            raise ContractError(f"{method} {path} -> {status}: error without request_id: {body!r}")
    else:
        op = find_operation(method, path, version)
        if op is None:
            raise ContractError(f"{method} {path}: no such operation in the {version} description")
        if str(status) not in op.spec.get("responses", {}):
            raise ContractError(f"{method} {path}: status {status} is not documented")
        pointer = _schema_pointer(op, status, version)
    if pointer is None:
        return
    errors = sorted(_validator(version, pointer).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        details = "\n".join(
            f"  at {'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:300]}"
            for e in errors[:10]
        )
        raise ContractError(f"{method} {path} -> {status} violates the {version} spec:\n{details}")
