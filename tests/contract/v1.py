"""Validates 1.x responses (Intercom-Version 1.0–1.4) against Parley's JSON Schema of the 1.x
model, src/parley/schemas/v1_conversation.json (written from seed 003).

Every 1.x response the test client sees comes here (see conftest). An operation this module has
no 1.x definition for is a failure, not a pass: a test may only speak 1.x where the schema says
what 1.x looks like.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from tests.contract.openapi import ContractError

_CONVERSATION = re.compile(r"^/conversations/[^/]+$")
_CONVERSATION_ACTION = re.compile(r"^/conversations/[^/]+/(reply|parts|customers)$")
_DETACH = re.compile(r"^/conversations/[^/]+/customers/[^/]+$")
_USER = re.compile(r"^/users/[^/]+$")
_LEAD = re.compile(r"^/contacts/[^/]+$")
_ADMIN = re.compile(r"^/admins/[^/]+$")


@cache
def schema() -> dict[str, Any]:
    text = resources.files("parley").joinpath("schemas/v1_conversation.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    Draft202012Validator.check_schema(loaded)
    return loaded


@cache
def _validator(definition: str) -> Draft202012Validator:
    root = schema()
    return Draft202012Validator(
        {"$ref": f"#/$defs/{definition}", "$defs": root["$defs"]}, format_checker=FormatChecker()
    )


def definition_for(method: str, path: str, status: int) -> str | None:
    """The $defs member a 1.x response must match; None where there is nothing to check."""
    method = method.upper()
    if status >= 400:
        return "error_list"
    if method == "GET" and (path == "/me" or _ADMIN.match(path)):
        return "admin"
    if (method, path) == ("GET", "/admins"):
        return "admin_list"
    if (method, path) == ("GET", "/conversations"):
        return "conversation_list"
    if (method, path) in {("POST", "/conversations"), ("POST", "/messages")}:
        return "message"
    if (method, path) == ("POST", "/conversations/redact"):
        return "conversation"
    if method in {"GET", "PUT"} and _CONVERSATION.match(path):
        return "conversation"
    if method == "POST" and _CONVERSATION_ACTION.match(path):
        return "conversation"
    if method == "DELETE" and _DETACH.match(path):
        return "conversation"
    if (method, path) == ("POST", "/users") or (method == "GET" and _USER.match(path)):
        return "user"
    if (method, path) == ("GET", "/users"):
        return "user_lookup"
    if (method, path) == ("GET", "/contacts"):
        return "lead_lookup"
    if (method, path) == ("POST", "/contacts/convert"):
        return "user"
    if (method, path) in {("POST", "/contacts"), ("PUT", "/contacts"), ("DELETE", "/contacts")}:
        return "lead"
    if method in {"GET", "PUT", "DELETE"} and _LEAD.match(path):
        return "lead"
    return None


def validate_v1_response(method: str, path: str, status: int, body: Any) -> None:
    definition = definition_for(method, path, status)
    if definition is None:
        raise ContractError(f"{method} {path}: no 1.x definition in v1_conversation.json")
    errors = sorted(_validator(definition).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        details = "\n".join(
            f"  at {'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:300]}"
            for e in errors[:10]
        )
        raise ContractError(f"{method} {path} -> {status} violates the 1.x schema ({definition}):\n"
                            f"{details}")  # fmt: skip


def spec_version(version: str) -> str:
    """The official description a 2.x response is checked against: 2.16 for 2.16; 2.14 for
    every other 2.x (Parley renders 2.0–2.13 as 2.14, and 2.15 adds only nullable members —
    `company` among them — to what Parley emits, which the open 2.14 schemas admit). The
    preview version, `Unstable` or `Preview`, is answered as 2.16."""
    return "2.16" if version in ("2.16", "Unstable", "Preview") else "2.14"
