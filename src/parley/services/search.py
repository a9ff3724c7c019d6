"""Search and list use cases: POST /conversations/search, POST /contacts/search, and the cursor
walks of GET /conversations and GET /contacts.

Order and cursors (docs/behaviour.md, Search): results come in an order over keys that never
change — conversations by id descending (newest first), contacts by created_at then id
descending — and the cursor is the base64 JSON of the last item's key and the page number. A
walk therefore never returns an item twice and never skips an item that matched throughout the
walk, however the data changes meanwhile: an update cannot move an item across the cursor, and
items created during the walk sort before it (they were not there when it started). The cursor's
last member is the number of the page it opens.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parley.db import conversations as store
from parley.db import search as sql
from parley.db import tags, workspaces
from parley.db.database import Transaction
from parley.domain import search as language
from parley.errors import InvalidParameter, MissingParameter
from parley.kit import cursor
from parley.kit.numbers import parse_digits
from parley.render.version import ApiVersion
from parley.services.contacts import ContactPage, ContactView
from parley.services.context import Context
from parley.services.conversations import ConversationPage, with_relations

MAX_PER_PAGE = 150
MAX_KEY = 2**63 - 1
CONVERSATIONS_PER_PAGE = 20
CONTACTS_PER_PAGE = 50


def _bad_cursor(field: str) -> InvalidParameter:
    return InvalidParameter(f"{field}: is not a valid cursor", field=field)


def parse_request(body: Any, *, default_per_page: int) -> tuple[Any, int, str | None]:
    """A search body's query (still raw), per_page and starting_after."""
    if not isinstance(body, dict):
        raise InvalidParameter("Request body must be a JSON object")
    if body.get("query") is None:
        raise MissingParameter("query is required", field="query")
    pagination = body.get("pagination")
    if pagination is None:
        return body["query"], default_per_page, None
    if not isinstance(pagination, dict):
        raise InvalidParameter("pagination: must be an object", field="pagination")
    per_page = pagination.get("per_page", default_per_page)
    if per_page is None:
        per_page = default_per_page
    elif isinstance(per_page, str):  # a numeric string is read as its number
        per_page = parse_digits(per_page, 9)  # None: refused just below
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= 150:
        raise InvalidParameter(
            "pagination.per_page: must be an integer from 1 to 150", field="pagination.per_page"
        )
    after = pagination.get("starting_after")
    if after is not None and not isinstance(after, str):
        raise _bad_cursor("pagination.starting_after")
    return body["query"], per_page, after or None


def _cursor(value: str, field: str, arity: int) -> list[int | str]:
    try:
        decoded = cursor.decode(value, arity)
    except cursor.CursorError:
        raise _bad_cursor(field) from None
    page = decoded[-1]
    if not isinstance(page, int) or not 1 <= page <= MAX_KEY:
        raise _bad_cursor(field)
    return decoded


# ------------------------------------------------------------------------------ conversations


async def conversations(
    tx: Transaction,
    ctx: Context,
    *,
    query: Any | None,
    per_page: int,
    starting_after: str | None,
    version: ApiVersion,
    cursor_field: str = "pagination.starting_after",
) -> ConversationPage:
    """Visible conversations matching `query` (all when None), newest first."""
    node = None if query is None else language.parse(query, language.CONVERSATIONS)
    after: int | None = None
    page = 1
    if starting_after:
        last_id, page_value = _cursor(starting_after, cursor_field, 2)
        if not isinstance(last_id, int) or not 1 <= last_id <= MAX_KEY:
            raise _bad_cursor(cursor_field)
        after, page = last_id, int(page_value)
    compiled = sql.compile_conversations(
        tx.dialect, ctx.workspace_id, node, modern=version.at_least("2.16")
    )
    # The count first: it is needed anyway, an empty result needs no page query, and its size
    # guides the page query's plan (db/search.py, conversation_page).
    total = await sql.conversation_count(tx, compiled)
    rows = []
    if total:
        rows = await sql.conversation_page(
            tx, compiled, select=store.SELECT, limit=per_page + 1, after=after, matches=total
        )
    more = len(rows) > per_page
    rows = rows[:per_page]
    items = await with_relations(tx, rows)
    next_cursor = cursor.encode([int(rows[-1]["id"]), page + 1]) if more else None
    return ConversationPage(items, total, page, per_page, next_cursor)


# ------------------------------------------------------------------------------ contacts


async def _timezone(tx: Transaction, ctx: Context) -> ZoneInfo:
    row = await workspaces.get(tx, ctx.workspace_id)
    try:
        return ZoneInfo(str(row["timezone"])) if row is not None else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def contacts(
    tx: Transaction,
    ctx: Context,
    *,
    query: Any | None,
    per_page: int,
    starting_after: str | None,
    cursor_field: str = "pagination.starting_after",
) -> ContactPage:
    """Listed (not archived) contacts matching `query` (all when None), newest first."""
    node = None if query is None else language.parse(query, language.CONTACTS)
    after: tuple[int, str] | None = None
    page = 1
    if starting_after:
        created_at, last_id, page_value = _cursor(starting_after, cursor_field, 3)
        if not (isinstance(created_at, int) and isinstance(last_id, str)) or not (
            0 <= created_at <= MAX_KEY
        ):
            raise _bad_cursor(cursor_field)
        after, page = (created_at, last_id), int(page_value)
    tz = await _timezone(tx, ctx) if node is not None else ZoneInfo("UTC")
    compiled = sql.compile_contacts(tx.dialect, ctx.workspace_id, node, tz)
    rows = await sql.contact_page(tx, compiled, limit=per_page + 1, after=after)
    more = len(rows) > per_page
    rows = rows[:per_page]
    applied = await tags.for_contacts(tx, [row["id"] for row in rows])
    views = [ContactView(row, [int(t["id"]) for t in applied[row["id"]]]) for row in rows]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = cursor.encode([int(last["created_at"]), str(last["id"]), page + 1])
    total = await sql.contact_count(tx, compiled)
    return ContactPage(views, total, page, per_page, next_cursor)
