"""Teams."""

from __future__ import annotations

from typing import Any

from parley.db.database import Row


def team(row: Row, admin_ids: list[int]) -> dict[str, Any]:
    return {
        "type": "team",
        "id": str(row["id"]),
        "name": row["name"],
        "admin_ids": admin_ids,
        "admin_priority_level": None,
        "assignment_limit": row["assignment_limit"],
        "distribution_method": row["distribution_method"],
    }


def team_list(teams: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "team.list", "teams": teams}
