"""POST /conversations/search and POST /contacts/search (read-only transactions)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from parley.api.endpoint import Call, Endpoint, Handler
from parley.render import contact as render_contact
from parley.render import conversation as render
from parley.services import search as service


async def search_conversations(call: Call) -> dict[str, Any]:
    query, per_page, after = service.parse_request(
        call.json, default_per_page=service.CONVERSATIONS_PER_PAGE
    )
    page = await service.conversations(
        call.tx, call.ctx, query=query, per_page=per_page, starting_after=after,
        version=call.version,
    )  # fmt: skip
    items = [
        render.conversation(
            view.row, contacts=view.contacts, tags=view.tags, parts=None, version=call.version
        )
        for view in page.items
    ]
    return render.conversation_list(
        items, total_count=page.total_count, page=page.page, per_page=page.per_page,
        next_cursor=page.next_cursor,
    )  # fmt: skip


async def search_contacts(call: Call) -> dict[str, Any]:
    query, per_page, after = service.parse_request(
        call.json, default_per_page=service.CONTACTS_PER_PAGE
    )
    page = await service.contacts(
        call.tx, call.ctx, query=query, per_page=per_page, starting_after=after
    )
    owner_id_as_str = call.version.at_least("2.16")
    return render_contact.contact_list(
        [render_contact.contact(v.row, v.tag_ids, owner_id_as_str=owner_id_as_str)
         for v in page.views],
        total_count=page.total_count, page=page.page, per_page=page.per_page,
        next_cursor=page.next_cursor,
    )  # fmt: skip


def _read(path: str, handler: Handler) -> Route:
    """A POST that only reads: it runs in a read transaction. Search came with 2.0."""
    endpoint = Endpoint(handler, write=False, since="2.0")
    return Route(path, endpoint, methods=["POST"], name=handler.__name__)


routes = [
    _read("/conversations/search", search_conversations),
    _read("/contacts/search", search_contacts),
]
