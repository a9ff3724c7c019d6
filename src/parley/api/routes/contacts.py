"""/contacts: create, get, update, delete, list, find by external_id, archive, unarchive."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr, field_validator

from parley.api.endpoint import Call
from parley.api.routes import leads_v1
from parley.api.routes.leads_v1 import legacy_or
from parley.api.routing import route
from parley.errors import InvalidParameter
from parley.kit.numbers import parse_digits
from parley.render import contact as render_contact
from parley.services import contacts as contact_service
from parley.services.contacts import ContactView


class ContactBody(BaseModel):
    """create_contact_request / update_contact_request. Unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore")
    role: StrictStr | None = None
    email: StrictStr | None = None
    external_id: StrictStr | None = None
    phone: StrictStr | None = None
    name: StrictStr | None = None
    avatar: StrictStr | None = None
    signed_up_at: StrictInt | None = None
    last_seen_at: StrictInt | None = None
    owner_id: Any = None  # an int, or a numeric string (2.16 types it str): checked by the service
    unsubscribed_from_emails: StrictBool | None = None
    custom_attributes: dict[str, Any] | None = None

    @field_validator("external_id", mode="before")
    @classmethod
    def _numeric_external_id(cls, value: Any) -> Any:
        """An id: a JSON integer is accepted and kept as its decimal string."""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    def sent(self) -> dict[str, Any]:
        """The fields the client sent, with their values (null included)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def _render(call: Call, view: ContactView) -> dict[str, Any]:
    return render_contact.contact_response(
        view.row, view.tag_ids, owner_id_as_str=call.version.at_least("2.16")
    )


def _per_page(call: Call) -> int:
    raw = call.query.get("per_page")
    if raw is None or raw == "":
        return contact_service.DEFAULT_PER_PAGE
    per_page = parse_digits(raw, 9)
    if per_page is None or not 1 <= per_page <= contact_service.MAX_PER_PAGE:
        raise InvalidParameter(
            f"per_page: must be an integer from 1 to {contact_service.MAX_PER_PAGE}",
            field="per_page",
        )
    return per_page


async def list_contacts(call: Call) -> dict[str, Any]:
    page = await contact_service.list_page(
        call.tx, call.ctx, per_page=_per_page(call),
        starting_after=call.query.get("starting_after") or None,
    )  # fmt: skip
    owner_id_as_str = call.version.at_least("2.16")
    return render_contact.contact_list(
        [render_contact.contact(v.row, v.tag_ids, owner_id_as_str=owner_id_as_str)
         for v in page.views],
        total_count=page.total_count, page=page.page, per_page=page.per_page,
        next_cursor=page.next_cursor,
    )  # fmt: skip


async def create_contact(call: Call) -> dict[str, Any]:
    body = call.body(ContactBody)
    return _render(call, await contact_service.create(call.tx, call.ctx, body.sent()))


async def show_contact(call: Call) -> dict[str, Any]:
    return _render(call, await contact_service.get(call.tx, call.ctx, call.path["contact_id"]))


async def update_contact(call: Call) -> dict[str, Any]:
    body = call.body(ContactBody)
    view = await contact_service.update(call.tx, call.ctx, call.path["contact_id"], body.sent())
    return _render(call, view)


async def delete_contact(call: Call) -> dict[str, Any]:
    row = await contact_service.delete(call.tx, call.ctx, call.path["contact_id"])
    return render_contact.contact_deleted(row)


async def show_contact_by_external_id(call: Call) -> dict[str, Any]:
    view = await contact_service.find_user_by_external_id(
        call.tx, call.ctx, call.path["external_id"]
    )
    return _render(call, view)


async def archive_contact(call: Call) -> dict[str, Any]:
    row = await contact_service.set_archived(call.tx, call.ctx, call.path["contact_id"], True)
    return render_contact.contact_archived(row, True)


async def unarchive_contact(call: Call) -> dict[str, Any]:
    row = await contact_service.set_archived(call.tx, call.ctx, call.path["contact_id"], False)
    return render_contact.contact_archived(row, False)


# Under 1.x these paths are the 1.x Leads API (routes/leads_v1.py).
routes = [
    route("GET", "/contacts", legacy_or(list_contacts, leads_v1.list_leads)),
    route(
        "POST", "/contacts", legacy_or(create_contact, leads_v1.create_or_update_lead), bulk=True
    ),
    route(
        "GET",
        "/contacts/find_by_external_id/{external_id:path}",
        show_contact_by_external_id,
        since="2.0",  # 1.x contacts are leads, found by GET /contacts?user_id=
    ),
    route("GET", "/contacts/{contact_id}", legacy_or(show_contact, leads_v1.show_lead)),
    route(
        "PUT", "/contacts/{contact_id}", legacy_or(update_contact, leads_v1.update_lead), bulk=True
    ),
    route(
        "DELETE",
        "/contacts/{contact_id}",
        legacy_or(delete_contact, leads_v1.delete_lead),
        bulk=True,
    ),
    route("POST", "/contacts/{contact_id}/archive", archive_contact, since="2.0"),
    route("POST", "/contacts/{contact_id}/unarchive", unarchive_contact, since="2.0"),
]
