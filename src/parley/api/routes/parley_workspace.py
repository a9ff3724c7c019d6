"""Parley's own admin API for the workspace a token belongs to (not part of Intercom's API):
`GET /_parley/workspace` and `PUT /_parley/workspace {default_version}` — the Intercom-Version a
request gets when it sends none (the CLI's `parley workspaces set-version`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictStr

from parley.api.endpoint import Call
from parley.api.routing import route
from parley.config import API_VERSIONS
from parley.errors import InvalidParameter
from parley.services import workspaces as service


class WorkspaceBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    default_version: StrictStr


def _render(row: Any) -> dict[str, Any]:
    return {
        "type": "parley.workspace",
        "id": row["id"],
        "name": row["name"],
        "default_version": row["default_version"],
        "versions": list(API_VERSIONS),
    }


async def get_workspace(call: Call) -> dict[str, Any]:
    return _render(await service.resolve(call.tx, call.ctx.workspace_id))


async def update_workspace(call: Call) -> dict[str, Any]:
    body = call.body(WorkspaceBody)
    if body.default_version not in API_VERSIONS:
        raise InvalidParameter(
            f"default_version must be one of {', '.join(API_VERSIONS)}", field="default_version"
        )
    await service.set_default_version(call.tx, call.ctx.workspace_id, body.default_version)
    return _render(await service.resolve(call.tx, call.ctx.workspace_id))


routes = [
    route("GET", "/_parley/workspace", get_workspace),
    route("PUT", "/_parley/workspace", update_workspace),
]
