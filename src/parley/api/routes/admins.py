"""GET /me, /admins, /admins/{id}, PUT /admins/{id}/away; GET /teams, /teams/{id}."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool

from parley.api.endpoint import Call
from parley.api.fields import Int64
from parley.api.routing import numeric_id, route
from parley.render import admin as render_admin
from parley.render import team as render_team
from parley.services import admins as admin_service


async def identify_admin(call: Call) -> dict[str, Any]:
    view, workspace = await admin_service.me(call.tx, call.ctx)
    return render_admin.admin_with_app(view.row, view.team_ids, workspace)


async def list_admins(call: Call) -> dict[str, Any]:
    with_avatar = call.query.get("display_avatar", "").lower() == "true"
    views = await admin_service.list_admins(call.tx, call.ctx)
    return render_admin.admin_list(
        [
            render_admin.admin(v.row, v.team_ids, with_avatar=with_avatar, version=call.version)
            for v in views
        ]
    )


async def retrieve_admin(call: Call) -> dict[str, Any]:
    admin_id = numeric_id(call.path["admin_id"], message="Admin not found", code="admin_not_found")
    view = await admin_service.get_admin(call.tx, call.ctx, admin_id)
    return render_admin.admin(view.row, view.team_ids, version=call.version)


class AwayRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    away_mode_enabled: StrictBool
    away_mode_reassign: StrictBool
    away_status_reason_id: Int64 | None = None  # stored as sent, never looked up


async def set_away_admin(call: Call) -> dict[str, Any]:
    admin_id = numeric_id(
        call.path["admin_id"], message="Admin for admin_id not found", code="admin_not_found"
    )
    body = call.body(AwayRequest)
    view = await admin_service.set_away(
        call.tx, call.ctx, admin_id, enabled=body.away_mode_enabled,
        reassign=body.away_mode_reassign, reason_id=body.away_status_reason_id,
    )  # fmt: skip
    return render_admin.admin(view.row, view.team_ids, version=call.version)


async def list_teams(call: Call) -> dict[str, Any]:
    views = await admin_service.list_teams(call.tx, call.ctx)
    return render_team.team_list([render_team.team(v.row, v.admin_ids) for v in views])


async def retrieve_team(call: Call) -> dict[str, Any]:
    team_id = numeric_id(call.path["team_id"], message="Team not found", code="team_not_found")
    view = await admin_service.get_team(call.tx, call.ctx, team_id)
    return render_team.team(view.row, view.admin_ids)


routes = [
    route("GET", "/me", identify_admin),
    route("GET", "/admins", list_admins),
    route("GET", "/admins/{admin_id}", retrieve_admin),
    route("PUT", "/admins/{admin_id}/away", set_away_admin),
    route("GET", "/teams", list_teams),
    route("GET", "/teams/{team_id}", retrieve_team),
]
