"""`GET /conversations` under 1.x (Intercom-Version 1.0–1.4): the 1.x filters and sorts, page
numbers. `routes/conversations.py` hands 1.x list requests here; 2.x ignores these parameters,
as Intercom does.

Parameters: `type` (`user` with `intercom_user_id`, `user_id` or `email`; `admin` with
`admin_id`, a number or `nobody`), `open`, `unread` (`true`/`false`), `before` (unix seconds:
conversations last updated before then), `sort` (`created_at`, `updated_at` — the default —,
`waiting_since`), `order` (`desc` — the default — or `asc`), `display_as=plaintext`, `page`,
`per_page`. Identifiers that do not belong to the given `type` are ignored.
"""

from __future__ import annotations

from typing import Any

from parley.api.endpoint import Call
from parley.api.routes.users_v1 import choice_param, list_url, positive_param
from parley.db import legacy
from parley.errors import InvalidParameter, MissingParameter
from parley.kit.numbers import parse_digits
from parley.render import conversation as render
from parley.render import conversation_v1
from parley.services import conversations_v1 as service

MAX_PER_PAGE = 150


def _flag(call: Call, name: str) -> bool | None:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in ("true", "false"):
        raise InvalidParameter(f"{name} must be true or false", field=name)
    return raw == "true"


def _timestamp(call: Call, name: str) -> int | None:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return None
    timestamp = parse_digits(raw, 12)
    if timestamp is None:
        raise InvalidParameter(f"{name} must be a unix timestamp", field=name)
    return timestamp


async def _filter(call: Call) -> legacy.ConversationFilter:
    kind = choice_param(call, "type", ("user", "admin"), "")
    contact_id: str | None = None
    admin_id: int | None = None
    unassigned = False
    if kind == "user":
        key = service.CustomerKey(
            intercom_user_id=call.query.get("intercom_user_id") or None,
            user_id=call.query.get("user_id") or None,
            email=call.query.get("email") or None,
        )
        contact_id = await service.customer_id(call.tx, call.ctx, key)
    elif kind == "admin":
        raw = call.query.get("admin_id")
        if not raw:
            raise MissingParameter("type=admin needs admin_id", field="admin_id")
        if raw == "nobody":
            unassigned = True
        elif (admin_id := parse_digits(raw, 18)) is not None:
            await service.require_admin(call.tx, call.ctx, admin_id)
        else:
            raise InvalidParameter("admin_id must be an admin id or nobody", field="admin_id")
    return legacy.ConversationFilter(
        contact_id=contact_id,
        admin_id=admin_id,
        unassigned=unassigned,
        open=_flag(call, "open"),
        unread=_flag(call, "unread"),
        before=_timestamp(call, "before"),
    )


async def list_conversations(call: Call) -> dict[str, Any]:
    where = await _filter(call)
    plaintext = choice_param(call, "display_as", ("plaintext",), "") == "plaintext"
    page = await service.list_page(
        call.tx,
        call.ctx,
        where,
        sort=choice_param(call, "sort", tuple(legacy.CONVERSATION_SORTS), "updated_at"),
        descending=choice_param(call, "order", ("asc", "desc"), "desc") == "desc",
        page=positive_param(call, "page", 1, 1_000_000),
        per_page=positive_param(call, "per_page", 20, MAX_PER_PAGE),
    )
    items = [
        render.conversation(
            v.row, contacts=v.contacts, tags=v.tags, parts=None, version=call.version,
            plaintext=plaintext,
        )
        for v in page.items
    ]  # fmt: skip
    return conversation_v1.conversation_list(
        items, total_count=page.total_count, page=page.page, per_page=page.per_page,
        url=list_url(call), params=call.query,
    )  # fmt: skip
