"""Tags: the workspace's tag set, and tags on contacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.db import contacts, conversations, tags
from parley.db.database import Row, Transaction, UniqueViolation
from parley.errors import InvalidParameter, NotFound
from parley.kit.numbers import parse_digits
from parley.services import contacts as contact_service
from parley.services.context import Context

RESOURCE_NOT_FOUND = "Resource Not Found"
INVALID_TAG_PARAMETERS = "invalid tag parameters"


def tag_not_found() -> NotFound:
    return NotFound(RESOURCE_NOT_FOUND)


def parse_tag_id(value: Any) -> int:
    """A tag id from a path or a body: an int or a numeric string. Anything else that is a
    string names no tag (404); other JSON types are a 400."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 < value < 2**63:
            raise tag_not_found()
        return value
    if isinstance(value, str):
        number = parse_digits(value.strip(), 18)
        if number is None:
            raise tag_not_found()
        return number
    raise InvalidParameter("id: must be a string", field="id")


def clean_name(value: Any) -> str:
    """Tag names are trimmed and must not be empty."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameter(INVALID_TAG_PARAMETERS, field="name")
    return value.strip()


async def require(tx: Transaction, ctx: Context, tag_id: int) -> Row:
    row = await tags.get(tx, ctx.workspace_id, tag_id)
    if row is None:
        raise tag_not_found()
    return row


async def list_tags(tx: Transaction, ctx: Context) -> list[Row]:
    return await tags.list_for_workspace(tx, ctx.workspace_id)


async def create_or_update(tx: Transaction, ctx: Context, *, name: str, tag_id: int | None) -> Row:
    """With an id: rename that tag. Without: the tag with that name, created if missing."""
    if tag_id is None:
        return await tags.ensure(tx, workspace_id=ctx.workspace_id, name=name, now=ctx.clock.now())
    row = await require(tx, ctx, tag_id)
    if row["name"] == name:
        return row
    holder = await tags.get_by_name(tx, ctx.workspace_id, name)
    if holder is not None and int(holder["id"]) != tag_id:  # itself: a concurrent same rename
        raise _name_taken()
    try:
        await tags.rename(tx, tag_id, name)
    except UniqueViolation:  # another tag took the name after the check (PostgreSQL)
        raise _name_taken() from None
    await conversations.drop_documents_showing_tag(tx, tag_id)
    return await require(tx, ctx, tag_id)


def _name_taken() -> InvalidParameter:
    return InvalidParameter("name: a tag with this name already exists", field="name")


@dataclass(frozen=True, slots=True)
class UserTagging:
    contact_id: str
    untag: bool = False


async def tag_users(tx: Transaction, ctx: Context, *, name: str, users: list[UserTagging]) -> Row:
    """Tag (or, with `untag`, untag) each contact with the named tag, creating the tag if
    needed. One unknown contact fails the whole request (404) and changes nothing."""
    targets: list[tuple[Row, bool]] = []
    for user in users:
        row = await contacts.get(tx, ctx.workspace_id, user.contact_id)
        if row is None:
            raise contact_service.not_found()
        targets.append((row, user.untag))
    now = ctx.clock.now()
    tag = await tags.ensure(tx, workspace_id=ctx.workspace_id, name=name, now=now)
    for row, untag in targets:
        if untag:
            await tags.detach_from_contact(tx, contact_id=row["id"], tag_id=int(tag["id"]))
        else:
            await tags.attach_to_contact(
                tx, contact_id=row["id"], tag_id=int(tag["id"]), now=now, admin_id=ctx.admin_id
            )
    return tag


async def get_tag(tx: Transaction, ctx: Context, tag_id: int) -> Row:
    return await require(tx, ctx, tag_id)


async def delete_tag(tx: Transaction, ctx: Context, tag_id: int) -> None:
    await tags.lock(tx, ctx.workspace_id, tag_id, exclusive=True)  # the tag, then conversations
    await require(tx, ctx, tag_id)
    await conversations.drop_documents_showing_tag(tx, tag_id)
    await tags.delete(tx, tag_id)


# ------------------------------------------------------------------ tags on a contact


async def contact_tags(tx: Transaction, ctx: Context, contact_id: str) -> list[Row]:
    await contact_service.require(tx, ctx, contact_id)
    return await tags.for_contact(tx, contact_id)


async def attach_to_contact(tx: Transaction, ctx: Context, contact_id: str, tag_ref: Any) -> Row:
    """`tag_ref`: the tag id as sent. The contact is checked first ("User Not Found"), then the
    tag ("Resource Not Found"). Returns the application row (id, name, applied_at,
    applied_by_admin_id)."""
    await contact_service.require(tx, ctx, contact_id)
    tag_id = parse_tag_id(tag_ref)
    await require(tx, ctx, tag_id)
    await tags.attach_to_contact(
        tx, contact_id=contact_id, tag_id=tag_id, now=ctx.clock.now(), admin_id=ctx.admin_id
    )
    applied = await tags.contact_application(tx, contact_id=contact_id, tag_id=tag_id)
    assert applied is not None
    return applied


async def detach_from_contact(
    tx: Transaction, ctx: Context, contact_id: str, tag_ref: Any
) -> tuple[Row, Row | None]:
    """Returns the tag and how it had been applied (None if it was not on the contact)."""
    await contact_service.require(tx, ctx, contact_id)
    tag_id = parse_tag_id(tag_ref)
    tag = await require(tx, ctx, tag_id)
    applied = await tags.contact_application(tx, contact_id=contact_id, tag_id=tag_id)
    await tags.detach_from_contact(tx, contact_id=contact_id, tag_id=tag_id)
    return tag, applied
