"""1.x leads (Intercom-Version 1.0–1.4), which 1.x addressed at `/contacts`.

A lead is a contact with role `lead`. 1.x gives every lead a `user_id` of its own making (a
UUID): Parley generates one at creation and keeps it as the contact's `external_id`, so a lead
can be found and updated by it. Leads are not unique by email (1.x lists them by email).
`convert` turns a lead into a user, or merges it into the user it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parley.db import contacts, conversations, legacy
from parley.db.database import Row, Transaction
from parley.errors import MissingParameter, NotFound
from parley.services import contacts as contact_service
from parley.services import users_v1
from parley.services.context import Context
from parley.services.users_v1 import UserView


def not_found() -> NotFound:
    return NotFound("Contact Not Found")


async def _lead(tx: Transaction, ctx: Context, contact_id: str) -> Row:
    row = await contacts.get(tx, ctx.workspace_id, contact_id)
    if row is None or row["role"] != "lead":
        raise not_found()
    return row


async def _lead_by_user_id(tx: Transaction, ctx: Context, user_id: str) -> Row:
    row = await legacy.find_lead_by_user_id(tx, ctx.workspace_id, user_id)
    if row is None:
        raise not_found()
    return row


async def _resolve(
    tx: Transaction, ctx: Context, *, intercom_id: str | None, user_id: str | None
) -> Row:
    """The lead named by `id` (preferred) or `user_id`."""
    if intercom_id:
        return await _lead(tx, ctx, intercom_id)
    if user_id:
        return await _lead_by_user_id(tx, ctx, user_id)
    raise MissingParameter("id or user_id is required", field="id")


async def get(tx: Transaction, ctx: Context, contact_id: str) -> UserView:
    """`GET /contacts/{id}`: leads only; a user's id is 404, as in 1.x."""
    return await users_v1.view(tx, await _lead(tx, ctx, contact_id))


async def find(tx: Transaction, ctx: Context, user_id: str) -> UserView:
    """`GET /contacts?user_id=`."""
    return await users_v1.view(tx, await _lead_by_user_id(tx, ctx, user_id))


async def create(tx: Transaction, ctx: Context, fields: Mapping[str, Any]) -> UserView:
    """`POST /contacts` without identifiers: a new lead with a generated `user_id`. No
    identifying information is required."""
    generated = ctx.ids.uuid()  # UUID-shaped, as 1.x lead user_ids are
    created = await contact_service.create(
        tx, ctx, {**fields, "role": "lead", "external_id": generated}
    )
    return await users_v1.view(tx, created.row)


async def update(
    tx: Transaction,
    ctx: Context,
    *,
    intercom_id: str | None,
    user_id: str | None,
    fields: Mapping[str, Any],
) -> UserView:
    """`POST /contacts` (or `PUT`) with `id` or `user_id`: update that lead."""
    row = await _resolve(tx, ctx, intercom_id=intercom_id, user_id=user_id)
    updated = await contact_service.update(tx, ctx, str(row["id"]), fields)
    return await users_v1.view(tx, updated.row)


async def delete(
    tx: Transaction, ctx: Context, *, intercom_id: str | None, user_id: str | None
) -> UserView:
    """`DELETE /contacts/{id}` (or `?user_id=`): answers the lead as it was."""
    row = await _resolve(tx, ctx, intercom_id=intercom_id, user_id=user_id)
    view = await users_v1.view(tx, row)
    await contact_service.delete(tx, ctx, str(row["id"]))
    return view


async def convert(
    tx: Transaction,
    ctx: Context,
    *,
    lead_id: str | None,
    lead_user_id: str | None,
    user: Mapping[str, Any],
) -> UserView:
    """`POST /contacts/convert`: the lead (by `id` or `user_id`) becomes a user. If a user
    matching `user` (by `id`, `user_id` or `email`) exists, the lead is merged into it
    (conversations, tags, authorship) and deleted; otherwise the lead itself becomes a user with
    the given identifiers (its generated `user_id` is replaced when `user_id` is given)."""
    lead = await _resolve(tx, ctx, intercom_id=lead_id, user_id=lead_user_id)
    intercom_id, external_id, email = user.get("id"), user.get("external_id"), user.get("email")
    if not intercom_id and not external_id and not email:
        raise MissingParameter("user: one of id, user_id or email is required", field="user")
    target: Row | None
    if intercom_id:
        target = await contacts.get(tx, ctx.workspace_id, str(intercom_id))
        if target is None or target["role"] != "user":
            raise users_v1.not_found()
    elif external_id:
        target = await contacts.find_user_by_external_id(tx, ctx.workspace_id, external_id)
    else:
        target = None
    if target is None and email:
        target = await contacts.find_user_by_email(tx, ctx.workspace_id, email)
    lead_id_str = str(lead["id"])
    if target is None:
        fields = {k: v for k, v in user.items() if k != "id"}
        converted = await contact_service.update(tx, ctx, lead_id_str, {**fields, "role": "user"})
        return await users_v1.view(tx, converted.row)
    target_id = str(target["id"])
    await legacy.merge_contact(tx, ctx.workspace_id, from_id=lead_id_str, into_id=target_id)
    # What the lead wrote is now the user's, and shows it as a user.
    await conversations.set_contact_author_type(tx, ctx.workspace_id, target_id, "user")
    await contact_service.delete(tx, ctx, lead_id_str)  # also drops documents showing the lead
    await conversations.drop_documents_showing_contact(tx, ctx.workspace_id, target_id)
    return await users_v1.view(tx, await contact_service.require(tx, ctx, target_id))
