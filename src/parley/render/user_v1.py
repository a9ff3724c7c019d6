"""1.x users and leads (Intercom-Version 1.0–1.4), the objects 1.x clients address.

A 1.x user is `{type: "user", id, user_id, email, ...}` (`user_id` is the 2.x `external_id`); a
lead is `{type: "contact", id, user_id: null, ...}` — 1.x called leads "contacts". Their JSON
Schema is in `src/parley/schemas/v1_conversation.json` (`user`).
"""

from __future__ import annotations

from typing import Any

import orjson

from parley.db.database import Row


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
