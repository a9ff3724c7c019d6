"""Admins (teammates) and the workspace they belong to."""

from __future__ import annotations

from typing import Any

from parley.db.database import Row
from parley.render.version import ApiVersion


def admin(
    row: Row, team_ids: list[int], *, with_avatar: bool = True, version: ApiVersion | None = None
) -> dict[str, Any]:
    """An admin; from 2.16 with `role` (null: Parley has no roles)."""
    out: dict[str, Any] = {
        "type": "admin",
        "id": str(row["id"]),
        "name": row["name"],
        "email": row["email"],
        "job_title": row["job_title"] or "",
        "away_mode_enabled": bool(row["away_mode_enabled"]),
        "away_mode_reassign": bool(row["away_mode_reassign"]),
        "away_status_reason_id": row["away_status_reason_id"],
        "has_inbox_seat": bool(row["has_inbox_seat"]),
        "team_ids": team_ids,
        "team_priority_level": None,
    }
    if with_avatar:
        out["avatar"] = row["avatar_url"]
    if version is not None and version.at_least("2.16"):
        out["role"] = None
    return out


def admin_with_app(row: Row, team_ids: list[int], workspace: Row) -> dict[str, Any]:
    """GET /me: the admin plus the app (workspace); avatar is an object here, per the spec."""
    return {
        "type": "admin",
        "id": str(row["id"]),
        "name": row["name"],
        "email": row["email"],
        "job_title": row["job_title"] or "",
        "away_mode_enabled": bool(row["away_mode_enabled"]),
        "away_mode_reassign": bool(row["away_mode_reassign"]),
        "has_inbox_seat": bool(row["has_inbox_seat"]),
        "team_ids": team_ids,
        "avatar": {"type": "avatar", "image_url": row["avatar_url"]},
        "email_verified": True,
        "app": {
            "type": "app",
            "id_code": workspace["id"],
            "name": workspace["name"],
            "region": workspace["region"],
            "timezone": workspace["timezone"],
            "created_at": workspace["created_at"],
            "identity_verification": False,
        },
    }


def admin_list(admins: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "admin.list", "admins": admins}


def author(row_type: str, row_id: str, name: str | None, email: str | None) -> dict[str, Any]:
    """A conversation part / source author (admin, bot, user, lead or team)."""
    return {
        "type": row_type,
        "id": row_id,
        "name": name,
        "email": email or "",
        "from_ai_agent": False,
        "is_ai_answer": False,
    }
