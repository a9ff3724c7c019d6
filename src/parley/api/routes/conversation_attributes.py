"""2.16 conversation attributes: `/conversations/attributes` CRUD and list options.

Registered before the conversation routes, so that `/conversations/attributes` is not read as a
conversation id. Below 2.16 these resources do not exist: 400 `intercom_version_invalid`, as
Intercom answers for resources of another version.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from parley.api.endpoint import Call, validation_error
from parley.api.routing import route
from parley.errors import InvalidParameter, Unprocessable, VersionInvalid
from parley.kit.numbers import parse_digits
from parley.render import conversation_attribute as render
from parley.services import conversation_attributes as service


def _require_216(call: Call) -> None:
    if not call.version.at_least("2.16"):
        raise VersionInvalid("Requested resource is not available in current API version.")


def _attribute_id(call: Call) -> int:
    raw = call.path["id"]
    attribute_id = parse_digits(raw, 18)
    if attribute_id is None:
        raise service.not_found()
    return attribute_id


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OptionIn(Body):
    label: StrictStr


class CreateAttribute(Body):
    name: StrictStr
    data_type: StrictStr
    description: StrictStr | None = None
    required: StrictBool = False
    visible_to_team_ids: list[StrictStr] = Field(default_factory=list)
    multiline: StrictBool | None = None
    options: list[OptionIn] | None = None


class UpdateAttribute(Body):
    name: StrictStr | None = None
    description: StrictStr | None = None
    multiline: StrictBool | None = None
    required: StrictBool | None = None
    visible_to_team_ids: list[StrictStr] | None = None


def _as_422(model: type[Body], data: Any) -> Any:
    """Create's documented failure is 422 parameter_invalid, so its validation answers that."""
    if not isinstance(data, dict):
        raise Unprocessable("Request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = validation_error(exc, data)
        raise Unprocessable(error.message, field=error.field) from None


async def list_attributes(call: Call) -> dict[str, Any]:
    _require_216(call)
    raw = call.query.get("include_archived")
    if raw not in {None, "true", "false"}:
        raise InvalidParameter("include_archived must be true or false", field="include_archived")
    rows = await service.list_all(call.tx, call.ctx, include_archived=raw == "true")
    return render.conversation_attribute_list(rows)


async def create_attribute(call: Call) -> dict[str, Any]:
    _require_216(call)
    body: CreateAttribute = _as_422(CreateAttribute, {} if call.json is None else call.json)
    row = await service.create(
        call.tx,
        call.ctx,
        name=body.name,
        data_type=body.data_type,
        description=body.description,
        required=body.required,
        visible_to_team_ids=body.visible_to_team_ids,
        multiline=body.multiline,
        options=None if body.options is None else [o.label for o in body.options],
    )
    return render.conversation_attribute(row)


async def get_attribute(call: Call) -> dict[str, Any]:
    _require_216(call)
    return render.conversation_attribute(
        await service.require(call.tx, call.ctx, _attribute_id(call))
    )


async def update_attribute(call: Call) -> dict[str, Any]:
    _require_216(call)
    attribute_id = _attribute_id(call)
    body = call.body(UpdateAttribute)
    changes = {k: getattr(body, k) for k in body.model_fields_set if getattr(body, k) is not None}
    row = await service.update(call.tx, call.ctx, attribute_id, changes)
    return render.conversation_attribute(row)


async def archive_attribute(call: Call) -> dict[str, Any]:
    _require_216(call)
    return render.conversation_attribute(
        await service.archive(call.tx, call.ctx, _attribute_id(call))
    )


async def add_option(call: Call) -> dict[str, Any]:
    _require_216(call)
    attribute_id = _attribute_id(call)
    body: OptionIn = _as_422(OptionIn, {} if call.json is None else call.json)
    row = await service.add_option(call.tx, call.ctx, attribute_id, body.label)
    return render.conversation_attribute(row)


async def rename_option(call: Call) -> dict[str, Any]:
    _require_216(call)
    attribute_id = _attribute_id(call)
    body: OptionIn = _as_422(OptionIn, {} if call.json is None else call.json)
    row = await service.rename_option(
        call.tx, call.ctx, attribute_id, call.path["option_id"], body.label
    )
    return render.conversation_attribute(row)


async def archive_option(call: Call) -> dict[str, Any]:
    _require_216(call)
    row = await service.archive_option(
        call.tx, call.ctx, _attribute_id(call), call.path["option_id"]
    )
    return render.conversation_attribute(row)


routes = [
    route("GET", "/conversations/attributes", list_attributes),
    route("POST", "/conversations/attributes", create_attribute),
    route("GET", "/conversations/attributes/{id}", get_attribute),
    route("PUT", "/conversations/attributes/{id}", update_attribute),
    route("DELETE", "/conversations/attributes/{id}", archive_attribute),
    route("POST", "/conversations/attributes/{id}/options", add_option),
    route("PUT", "/conversations/attributes/{id}/options/{option_id}", rename_option),
    route("DELETE", "/conversations/attributes/{id}/options/{option_id}", archive_option),
]
