"""Contacts (users and leads), per the spec's `contact` schema and its examples.

Every key is present; absent values are null, except `email` and `email_domain`, which the
schema types as non-nullable strings and are therefore "" for a contact without an email."""

from __future__ import annotations

from typing import Any

import orjson

from parley.db.database import Row

EMBEDDED_LIMIT = 10  # "Up to 10 will be displayed here. Use the url to get more."

_BROWSER_FIELDS = ("browser", "browser_version", "browser_language", "os")
_DEVICE_FIELDS = (
    "android_app_name", "android_app_version", "android_device", "android_os_version",
    "android_sdk_version", "android_last_seen_at", "ios_app_name", "ios_app_version",
    "ios_device", "ios_os_version", "ios_sdk_version", "ios_last_seen_at",
)  # fmt: skip


def email_domain(email: str | None) -> str:
    if not email or "@" not in email:
        return ""
    return email.rsplit("@", 1)[1].lower()


def _addressable(
    contact_id: str, kind: str, items: list[dict[str, Any]], total: int
) -> dict[str, Any]:
    return {
        "type": "list",
        "data": items,
        "url": f"/contacts/{contact_id}/{kind}",
        "total_count": total,
        "has_more": total > len(items),
    }


def contact(row: Row, tag_ids: list[int], *, owner_id_as_str: bool = False) -> dict[str, Any]:
    """`tag_ids`: the contact's tags, in application order. `owner_id_as_str` from 2.16."""
    contact_id: str = row["id"]
    owner = row["owner_id"]
    if owner is not None:
        owner = str(owner) if owner_id_as_str else int(owner)
    avatar = row["avatar_url"]
    out: dict[str, Any] = {
        "type": "contact",
        "id": contact_id,
        "workspace_id": row["workspace_id"],
        "external_id": row["external_id"],
        "role": row["role"],
        "email": row["email"] or "",
        "email_domain": email_domain(row["email"]),
        "phone": row["phone"],
        "name": row["name"],
        "avatar": None if avatar is None else {"type": "avatar", "image_url": avatar},
        "owner_id": owner,
        "social_profiles": {"type": "list", "data": []},
        "has_hard_bounced": bool(row["has_hard_bounced"]),
        "marked_email_as_spam": bool(row["marked_email_as_spam"]),
        "unsubscribed_from_emails": bool(row["unsubscribed_from_emails"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "signed_up_at": row["signed_up_at"],
        "last_seen_at": row["last_seen_at"],
        "last_replied_at": row["last_replied_at"],
        "last_contacted_at": row["last_contacted_at"],
    }
    out["last_email_opened_at"] = None
    out["last_email_clicked_at"] = None
    out["language_override"] = row["language_override"]
    for key in _BROWSER_FIELDS:
        out[key] = None
    out["location"] = {
        "type": "location", "country": None, "region": None, "city": None,
        "country_code": None, "continent_code": None,
    }  # fmt: skip
    for key in _DEVICE_FIELDS:
        out[key] = None
    out["custom_attributes"] = orjson.loads(row["custom_attributes"])
    shown = [
        {"type": "tag", "id": str(tag_id), "url": f"/tags/{tag_id}"}
        for tag_id in tag_ids[:EMBEDDED_LIMIT]
    ]
    out["tags"] = _addressable(contact_id, "tags", shown, len(tag_ids))
    out["notes"] = _addressable(contact_id, "notes", [], 0)
    out["companies"] = _addressable(contact_id, "companies", [], 0)
    out["opted_out_subscription_types"] = _addressable(contact_id, "subscriptions", [], 0)
    out["opted_in_subscription_types"] = _addressable(contact_id, "subscriptions", [], 0)
    for key in ("utm_campaign", "utm_content", "utm_medium", "utm_source", "utm_term", "referrer"):
        out[key] = None
    return out


def contact_response(
    row: Row, tag_ids: list[int], *, owner_id_as_str: bool = False
) -> dict[str, Any]:
    """A single contact as create/get/update/find answer it: plus `enabled_push_messaging`."""
    out = contact(row, tag_ids, owner_id_as_str=owner_id_as_str)
    out["enabled_push_messaging"] = None
    return out


def reference(row: Row) -> dict[str, Any]:
    return {"type": "contact", "id": row["id"], "external_id": row["external_id"]}


def contact_deleted(row: Row) -> dict[str, Any]:
    return {**reference(row), "deleted": True}


def contact_archived(row: Row, archived: bool) -> dict[str, Any]:
    return {**reference(row), "archived": archived}


def contact_list(
    items: list[dict[str, Any]],
    *,
    total_count: int,
    page: int,
    per_page: int,
    next_cursor: str | None,
) -> dict[str, Any]:
    pages: dict[str, Any] = {
        "type": "pages",
        "page": page,
        "per_page": per_page,
        "total_pages": -(-total_count // per_page),
    }
    if next_cursor is not None:
        pages["next"] = {"per_page": per_page, "starting_after": next_cursor}
    return {"type": "list", "data": items, "total_count": total_count, "pages": pages}
