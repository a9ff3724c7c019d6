"""Conversation attribute definitions (2.16) and the check they impose on conversation values.

A definition names a key of `conversations.custom_attributes` and types its values: once an
attribute is defined, `PUT /conversations/{id}` must send values of its type (a list attribute
takes one of its live option labels; an archived attribute cannot be set). Keys nobody defined
stay free-form, as they are in 2.14 (docs/behaviour.md, "API versions").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from parley.db import conversation_attributes as store
from parley.db.database import Row, Transaction
from parley.errors import InvalidParameter, NotFound, Unprocessable
from parley.services.context import Context

DATA_TYPES = ("string", "integer", "list", "decimal", "boolean", "datetime", "relationship",
              "files")  # fmt: skip


def not_found() -> NotFound:
    return NotFound("Conversation attribute not found", code="conversation_attribute_not_found")


async def require(tx: Transaction, ctx: Context, attribute_id: int) -> Row:
    row = await store.get(tx, ctx.workspace_id, attribute_id)
    if row is None:
        raise not_found()
    return row


async def list_all(tx: Transaction, ctx: Context, *, include_archived: bool) -> list[Row]:
    return await store.list_for_workspace(tx, ctx.workspace_id, include_archived=include_archived)


def _option(ctx: Context, label: str) -> dict[str, Any]:
    # A UUID from the (seedable) id factory, as the description's option ids are.
    return {"id": ctx.ids.uuid(), "label": label, "archived": False}


def _label(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Unprocessable(f"{field} must be a non-empty string", field=field)
    return value.strip()


async def create(
    tx: Transaction,
    ctx: Context,
    *,
    name: str,
    data_type: str,
    description: str | None,
    required: bool,
    visible_to_team_ids: list[str],
    multiline: bool | None,
    options: list[str] | None,
) -> Row:
    """Invalid input is 422 `parameter_invalid`, the status the description gives this call."""
    name = _label(name, "name")
    if data_type not in DATA_TYPES:
        raise Unprocessable(
            f"data_type '{data_type}' is not valid. Allowed types: {', '.join(DATA_TYPES)}",
            field="data_type",
        )
    if data_type == "relationship":
        raise Unprocessable(
            "relationship attributes need custom objects, which Parley does not have",
            field="data_type",
        )
    if await store.get_by_name(tx, ctx.workspace_id, name) is not None:
        raise Unprocessable(f"A conversation attribute named {name!r} already exists", field="name")
    labels = [_label(label, "options.label") for label in options or []]
    if data_type == "list" and not labels:
        raise Unprocessable("A list attribute needs at least one option", field="options")
    if len(set(labels)) != len(labels):
        raise Unprocessable("Option labels must be unique", field="options")
    values = {
        "name": name,
        "description": description or "",
        "data_type": data_type,
        "required": required,
        "visible_to_team_ids": orjson.dumps(visible_to_team_ids).decode(),
        "archived": False,
        "multiline": bool(multiline) if data_type == "string" else None,
        "options": (
            orjson.dumps([_option(ctx, label) for label in labels]).decode()
            if data_type == "list"
            else None
        ),
        "reference": None,
        "admin_id": ctx.admin_id,
    }
    attribute_id = await store.insert(tx, ctx.workspace_id, values, ctx.clock.now())
    return await require(tx, ctx, attribute_id)


async def update(
    tx: Transaction, ctx: Context, attribute_id: int, changes: Mapping[str, Any]
) -> Row:
    """`changes` holds only the keys sent: name, description, multiline, required,
    visible_to_team_ids (validated types). A name used by another attribute is a 400."""
    row = await require(tx, ctx, attribute_id)
    values: dict[str, Any] = {}
    if "name" in changes:
        name = changes["name"]
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameter("name must be a non-empty string", field="name")
        other = await store.get_by_name(tx, ctx.workspace_id, name.strip())
        if other is not None and int(other["id"]) != attribute_id:
            raise InvalidParameter(
                f"A conversation attribute named {name.strip()!r} already exists", field="name"
            )
        values["name"] = name.strip()
    if "description" in changes:
        values["description"] = changes["description"]
    if "required" in changes:
        values["required"] = changes["required"]
    if "visible_to_team_ids" in changes:
        values["visible_to_team_ids"] = orjson.dumps(changes["visible_to_team_ids"]).decode()
    if "multiline" in changes and row["data_type"] == "string":
        values["multiline"] = changes["multiline"]
    if values:
        await store.update(tx, attribute_id, values, ctx.clock.now())
    return await require(tx, ctx, attribute_id)


async def archive(tx: Transaction, ctx: Context, attribute_id: int) -> Row:
    row = await require(tx, ctx, attribute_id)
    if not row["archived"]:
        await store.update(tx, attribute_id, {"archived": True}, ctx.clock.now())
    return await require(tx, ctx, attribute_id)


async def _list_attribute(tx: Transaction, ctx: Context, attribute_id: int) -> list[Any]:
    row = await require(tx, ctx, attribute_id)
    if row["data_type"] != "list":
        raise Unprocessable("Options exist only on list attributes", field="data_type")
    return list(orjson.loads(row["options"] or "[]"))


async def _save_options(
    tx: Transaction, ctx: Context, attribute_id: int, options: list[Any]
) -> Row:
    await store.update(tx, attribute_id, {"options": orjson.dumps(options).decode()},
                       ctx.clock.now())  # fmt: skip
    return await require(tx, ctx, attribute_id)


def _find_option(options: list[Any], option_id: str) -> dict[str, Any]:
    for option in options:
        if option["id"] == option_id:
            return dict(option)
    raise NotFound("Option not found", code="not_found")


async def add_option(tx: Transaction, ctx: Context, attribute_id: int, label: Any) -> Row:
    options = await _list_attribute(tx, ctx, attribute_id)
    text = _label(label, "label")
    if any(o["label"] == text and not o["archived"] for o in options):
        raise Unprocessable(f"An option labelled {text!r} already exists", field="label")
    return await _save_options(tx, ctx, attribute_id, [*options, _option(ctx, text)])


async def rename_option(
    tx: Transaction, ctx: Context, attribute_id: int, option_id: str, label: Any
) -> Row:
    options = await _list_attribute(tx, ctx, attribute_id)
    _find_option(options, option_id)
    text = _label(label, "label")
    if any(o["label"] == text and o["id"] != option_id and not o["archived"] for o in options):
        raise Unprocessable(f"An option labelled {text!r} already exists", field="label")
    updated = [{**o, "label": text} if o["id"] == option_id else o for o in options]
    return await _save_options(tx, ctx, attribute_id, updated)


async def archive_option(tx: Transaction, ctx: Context, attribute_id: int, option_id: str) -> Row:
    options = await _list_attribute(tx, ctx, attribute_id)
    _find_option(options, option_id)
    updated = [{**o, "archived": True} if o["id"] == option_id else o for o in options]
    return await _save_options(tx, ctx, attribute_id, updated)


# ------------------------------------------------------------------ values on conversations


def _fits(row: Row, value: Any) -> bool:
    kind = row["data_type"]
    if kind in {"string", "files"}:
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "decimal":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "datetime":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "list":
        live = {o["label"] for o in orjson.loads(row["options"] or "[]") if not o["archived"]}
        return isinstance(value, str) and value in live
    return False  # relationship: Parley has no custom objects


async def check_values(tx: Transaction, ctx: Context, values: Mapping[str, Any]) -> None:
    """Values of defined attributes must have their type; null clears any attribute."""
    for name, value in values.items():
        row = await store.get_by_name(tx, ctx.workspace_id, name)
        if row is None or value is None:
            continue
        field = f"custom_attributes.{name}"
        if row["archived"]:
            raise InvalidParameter(f"custom attribute {name!r} is archived", field=field)
        if not _fits(row, value):
            expected = row["data_type"]
            if expected == "list":
                expected = "one of its option labels"
            raise InvalidParameter(f"custom attribute {name!r} must be {expected}", field=field)
