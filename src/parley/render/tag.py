"""Tags."""

from __future__ import annotations

from typing import Any

from parley.db.database import Row


def tag_basic(row: Row) -> dict[str, Any]:
    return {"type": "tag", "id": str(row["id"]), "name": row["name"]}


def tag(
    tag_id: int | str, name: str, applied_at: int | None, applied_by: dict[str, Any] | None
) -> dict[str, Any]:
    """A tag as applied to something: `applied_by` is a reference ({type, id}) or None.

    An unknown `applied_by` is omitted rather than null: the description declares it
    `nullable` beside an `allOf`, which validators (and typed SDKs generated from it) read as
    "never null"."""
    out: dict[str, Any] = {"type": "tag", "id": str(tag_id), "name": name, "applied_at": applied_at}
    if applied_by is not None:
        out["applied_by"] = applied_by
    return out


def contact_tag(row: Row) -> dict[str, Any]:
    """A row of db.tags.for_contact / contact_application."""
    admin_id = row["applied_by_admin_id"]
    applied_by = None if admin_id is None else {"type": "admin", "id": str(admin_id)}
    return tag(row["id"], row["name"], row["applied_at"], applied_by)


def tag_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "list", "data": items}
