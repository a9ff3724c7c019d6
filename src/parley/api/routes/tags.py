"""/tags, and the tags of a contact (/contacts/{id}/tags)."""

from __future__ import annotations

from typing import Any

from parley.api.endpoint import Call
from parley.api.routing import route
from parley.errors import InvalidParameter, NotFound
from parley.render import tag as render_tag
from parley.services import tags as tag_service
from parley.services.tags import INVALID_TAG_PARAMETERS, UserTagging


def _invalid(field: str | None = None) -> InvalidParameter:
    return InvalidParameter(INVALID_TAG_PARAMETERS, field=field)


def _users(value: Any) -> list[UserTagging]:
    if not isinstance(value, list):
        raise _invalid("users")
    out: list[UserTagging] = []
    for item in value:
        if not isinstance(item, dict):
            raise _invalid("users")
        user_id = item.get("id")
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            user_id = str(user_id)
        if not isinstance(user_id, str) or not user_id:
            raise _invalid("users.id")
        untag = item.get("untag", False)
        if not isinstance(untag, bool):
            raise _invalid("users.untag")
        out.append(UserTagging(user_id, untag))
    return out


async def list_tags(call: Call) -> dict[str, Any]:
    rows = await tag_service.list_tags(call.tx, call.ctx)
    return render_tag.tag_list([render_tag.tag_basic(row) for row in rows])


async def create_tag(call: Call) -> dict[str, Any]:
    """One of: {name, id?} create-or-rename; {name, users: [{id}]} tag contacts;
    {name, companies: [...]} (Parley has no companies, so any company is unknown)."""
    body = call.json
    if not isinstance(body, dict):
        raise _invalid()
    name = tag_service.clean_name(body.get("name"))
    users, companies = body.get("users"), body.get("companies")
    if users is not None and companies is not None:
        raise _invalid()
    if companies is not None:
        if not isinstance(companies, list) or not all(isinstance(c, dict) for c in companies):
            raise _invalid("companies")
        if companies:
            raise NotFound("Company Not Found", code="company_not_found")
    if users is not None:
        if body.get("id") is not None:
            raise _invalid("id")
        row = await tag_service.tag_users(call.tx, call.ctx, name=name, users=_users(users))
        return render_tag.tag_basic(row)
    raw_id = body.get("id")
    tag_id = None if raw_id is None else tag_service.parse_tag_id(raw_id)
    row = await tag_service.create_or_update(call.tx, call.ctx, name=name, tag_id=tag_id)
    return render_tag.tag_basic(row)


async def find_tag(call: Call) -> dict[str, Any]:
    tag_id = tag_service.parse_tag_id(call.path["tag_id"])
    return render_tag.tag_basic(await tag_service.get_tag(call.tx, call.ctx, tag_id))


async def delete_tag(call: Call) -> None:
    tag_id = tag_service.parse_tag_id(call.path["tag_id"])
    await tag_service.delete_tag(call.tx, call.ctx, tag_id)
    return None


async def list_contact_tags(call: Call) -> dict[str, Any]:
    rows = await tag_service.contact_tags(call.tx, call.ctx, call.path["contact_id"])
    return render_tag.tag_list([render_tag.contact_tag(row) for row in rows])


async def attach_tag_to_contact(call: Call) -> dict[str, Any]:
    contact_id = call.path["contact_id"]
    body = call.json
    if not isinstance(body, dict):
        raise InvalidParameter("Request body must be a JSON object")
    if body.get("id") is None:
        raise InvalidParameter("id is required", field="id", code="parameter_not_found")
    row = await tag_service.attach_to_contact(call.tx, call.ctx, contact_id, body["id"])
    return render_tag.contact_tag(row)


async def detach_tag_from_contact(call: Call) -> dict[str, Any]:
    contact_id = call.path["contact_id"]
    tag, applied = await tag_service.detach_from_contact(
        call.tx, call.ctx, contact_id, call.path["tag_id"]
    )
    return render_tag.tag_basic(tag) if applied is None else render_tag.contact_tag(applied)


routes = [
    route("GET", "/tags", list_tags),
    route("POST", "/tags", create_tag, bulk=True),
    route("GET", "/tags/{tag_id}", find_tag),
    route("DELETE", "/tags/{tag_id}", delete_tag, bulk=True),
    # The 2.0 Contacts API's (1.x tagged users and leads through POST /tags).
    route("GET", "/contacts/{contact_id}/tags", list_contact_tags, since="2.0"),
    route("POST", "/contacts/{contact_id}/tags", attach_tag_to_contact, since="2.0"),
    route("DELETE", "/contacts/{contact_id}/tags/{tag_id}", detach_tag_from_contact, since="2.0"),
]
