"""1.x users and leads (Intercom-Version 1.0–1.4), the objects 1.x clients address.

A 1.x user is `{type: "user", id, user_id, email, ...}` (`user_id` is the 2.x `external_id`); a
lead is `{type: "contact", id, user_id, anonymous: true, ...}` — 1.x called leads "contacts";
its `user_id` is the identifier Parley generated for it (a UUID, kept as the 2.x
`external_id`). Their JSON Schema is in `src/parley/schemas/v1_conversation.json` (`user`,
`lead`, `user_list`, `lead_list`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from parley.db.database import Row
from parley.render.conversation_v1 import pages


def user(row: Row, tag_names: list[tuple[int, str]]) -> dict[str, Any]:
    is_user = row["role"] == "user"
    avatar = row["avatar_url"]
    return {
        "type": "user" if is_user else "contact",
        "id": str(row["id"]),
        "user_id": row["external_id"],
        "anonymous": not is_user,
        "email": row["email"] or "",
        "phone": row["phone"],
        "name": row["name"],
        "pseudonym": None,
        "avatar": {"type": "avatar", "image_url": avatar},
        "app_id": row["workspace_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "signed_up_at": row["signed_up_at"],
        "last_request_at": row["last_seen_at"],
        "session_count": 0,
        "unsubscribed_from_emails": bool(row["unsubscribed_from_emails"]),
        "marked_email_as_spam": bool(row["marked_email_as_spam"]),
        "has_hard_bounced": bool(row["has_hard_bounced"]),
        "custom_attributes": orjson.loads(row["custom_attributes"]),
        "location_data": {},
        "social_profiles": {"type": "social_profile.list", "social_profiles": []},
        "companies": {"type": "company.list", "companies": []},
        "segments": {"type": "segment.list", "segments": []},
        "tags": {
            "type": "tag.list",
            "tags": [{"type": "tag", "id": str(i), "name": n} for i, n in tag_names],
        },
    }


def user_list(
    items: list[dict[str, Any]],
    *,
    leads: bool,
    total_count: int,
    page: int,
    per_page: int,
    url: str,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`user.list` (`GET /users`) or `contact.list` (`GET /contacts`, leads): page numbers with
    `pages.next` a URL, and `total_count`."""
    kind = "contact" if leads else "user"
    return {
        "type": f"{kind}.list",
        "total_count": total_count,
        f"{kind}s": items,
        "pages": pages(
            total_count=total_count, page=page, per_page=per_page, url=url, params=params
        ),
    }
