"""1.x leads at `/contacts` (Intercom-Version 1.0–1.4: 1.x called leads "contacts").

`GET/POST/PUT/DELETE /contacts[/{id}]` are the 2.x Contacts API in 2.x; `routes/contacts.py`
hands 1.x requests on those paths to the handlers here through `legacy_or`. The paths only 1.x
has (`PUT /contacts`, `DELETE /contacts?user_id=`, `POST /contacts/convert`) are registered
here and answer 400 `intercom_version_invalid` from 2.0 on.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, field_validator

from parley.api.endpoint import Call, Handler
from parley.api.routes.users_v1 import (
    UserBody,
    created_since,
    fields_of,
    page_request,
    render_page,
    require_legacy,
)
from parley.api.routing import route
from parley.db import legacy
from parley.render import user_v1 as render
from parley.services import leads_v1 as service
from parley.services import users_v1


def legacy_or(handler: Handler, legacy_handler: Handler) -> Handler:
    """`handler` for 2.x, `legacy_handler` for 1.x, on one route (named after `handler`)."""

    async def dispatch(call: Call) -> dict[str, Any] | bytes | None:
        return await (legacy_handler if call.version.is_legacy else handler)(call)

    dispatch.__name__ = handler.__name__
    return dispatch


def _string_id(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class LeadBody(BaseModel):
    """A 1.x lead: `id` or `user_id` name one to update; the rest are its attributes."""

    model_config = ConfigDict(extra="ignore")
    id: StrictStr | None = None
    user_id: StrictStr | None = None
    email: StrictStr | None = None
    name: StrictStr | None = None
    phone: StrictStr | None = None
    last_request_at: StrictInt | None = None
    unsubscribed_from_emails: bool | None = None
    custom_attributes: dict[str, Any] | None = None

    _ids = field_validator("id", "user_id", mode="before")(_string_id)


class LeadKey(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: StrictStr | None = None
    user_id: StrictStr | None = None

    _ids = field_validator("id", "user_id", mode="before")(_string_id)


class ConvertBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    contact: LeadKey
    user: UserBody


def _lead_fields(body: LeadBody) -> dict[str, Any]:
    # A lead's user_id is its identifier, never an attribute to set.
    return {k: v for k, v in fields_of(body).items() if k != "external_id"}


def _one(view: users_v1.UserView) -> dict[str, Any]:
    return render.user(view.row, view.tags)


async def list_leads(call: Call) -> dict[str, Any]:
    """`GET /contacts`: `?user_id=` the lead; `?email=` the leads with that email; else all
    leads (page numbers; `sort`, `order`, `created_since` as for users)."""
    user_id = call.query.get("user_id")
    if user_id:
        return _one(await service.find(call.tx, call.ctx, user_id))
    where = legacy.ContactFilter(role="lead", email=call.query.get("email") or None,
                                 created_since=created_since(call))  # fmt: skip
    page = await users_v1.list_page(call.tx, call.ctx, where, page_request(call))
    return render_page(call, page, leads=True)


async def create_or_update_lead(call: Call) -> dict[str, Any]:
    """`POST /contacts`: with `id` or `user_id`, update that lead; without, create one."""
    body = call.body(LeadBody)
    if body.id or body.user_id:
        view = await service.update(call.tx, call.ctx, intercom_id=body.id,
                                    user_id=body.user_id, fields=_lead_fields(body))  # fmt: skip
    else:
        view = await service.create(call.tx, call.ctx, _lead_fields(body))
    return _one(view)


async def update_lead_by_body(call: Call) -> dict[str, Any]:
    """`PUT /contacts` with `id` or `user_id` in the body (1.x SDKs saved leads this way too)."""
    require_legacy(call)
    body = call.body(LeadBody)
    view = await service.update(call.tx, call.ctx, intercom_id=body.id,
                                user_id=body.user_id, fields=_lead_fields(body))  # fmt: skip
    return _one(view)


async def show_lead(call: Call) -> dict[str, Any]:
    return _one(await service.get(call.tx, call.ctx, call.path["contact_id"]))


async def update_lead(call: Call) -> dict[str, Any]:
    body = call.body(LeadBody)
    view = await service.update(call.tx, call.ctx, intercom_id=call.path["contact_id"],
                                user_id=None, fields=_lead_fields(body))  # fmt: skip
    return _one(view)


async def delete_lead(call: Call) -> dict[str, Any]:
    view = await service.delete(call.tx, call.ctx, intercom_id=call.path["contact_id"],
                                user_id=None)  # fmt: skip
    return _one(view)


async def delete_lead_by_user_id(call: Call) -> dict[str, Any]:
    require_legacy(call)
    user_id = call.query.get("user_id") or None
    return _one(await service.delete(call.tx, call.ctx, intercom_id=None, user_id=user_id))


async def convert_lead(call: Call) -> dict[str, Any]:
    """`POST /contacts/convert {"contact": {id|user_id}, "user": {id|user_id|email, ...}}`."""
    require_legacy(call)
    body = call.body(ConvertBody)
    user = fields_of(body.user)
    if body.user.id:
        user["id"] = body.user.id
    view = await service.convert(call.tx, call.ctx, lead_id=body.contact.id,
                                 lead_user_id=body.contact.user_id, user=user)  # fmt: skip
    return _one(view)


routes = [
    route("PUT", "/contacts", update_lead_by_body, bulk=True),
    route("DELETE", "/contacts", delete_lead_by_user_id, bulk=True),
    route("POST", "/contacts/convert", convert_lead, bulk=True),
]
