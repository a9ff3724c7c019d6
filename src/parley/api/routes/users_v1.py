"""1.x users: `POST /users` (create or update), `GET /users/{id}`, `GET /users?user_id=|email=`.

The scope a 1.x client needs to drive a conversation: make or find the user, then start the
conversation (`POST /messages` from the user, or `POST /conversations`) and reply as them by
`intercom_user_id`/`user_id`/`email`. These paths exist only in 1.x: from 2.0 (which replaced
users and leads with contacts) they answer 400 `intercom_version_invalid`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, field_validator

from parley.api.endpoint import Call
from parley.api.routing import route
from parley.errors import VersionInvalid
from parley.render import user_v1 as render
from parley.services import users_v1 as service


def _require_legacy(call: Call) -> None:
    if not call.version.is_legacy:
        raise VersionInvalid("Requested resource is not available in current API version.")


class UserBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: StrictStr | None = None
    user_id: StrictStr | None = None
    email: StrictStr | None = None
    name: StrictStr | None = None
    phone: StrictStr | None = None
    signed_up_at: StrictInt | None = None
    last_request_at: StrictInt | None = None
    unsubscribed_from_emails: bool | None = None
    custom_attributes: dict[str, Any] | None = None

    @field_validator("user_id", mode="before")
    @classmethod
    def _numeric_user_id(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


_FIELD_MAP = {
    "user_id": "external_id", "email": "email", "name": "name", "phone": "phone",
    "signed_up_at": "signed_up_at", "last_request_at": "last_seen_at",
    "unsubscribed_from_emails": "unsubscribed_from_emails",
    "custom_attributes": "custom_attributes",
}  # fmt: skip


async def upsert_user(call: Call) -> dict[str, Any]:
    _require_legacy(call)
    body = call.body(UserBody)
    fields = {
        _FIELD_MAP[name]: getattr(body, name)
        for name in body.model_fields_set
        if name in _FIELD_MAP and getattr(body, name) is not None
    }
    view = await service.upsert(call.tx, call.ctx, intercom_id=body.id, fields=fields)
    return render.user(view.row, view.tags)


async def get_user(call: Call) -> dict[str, Any]:
    _require_legacy(call)
    view = await service.get(call.tx, call.ctx, call.path["id"])
    return render.user(view.row, view.tags)


async def find_user(call: Call) -> dict[str, Any]:
    _require_legacy(call)
    view = await service.find(
        call.tx, call.ctx, user_id=call.query.get("user_id"), email=call.query.get("email")
    )
    return render.user(view.row, view.tags)


routes = [
    route("POST", "/users", upsert_user),
    route("GET", "/users", find_user),
    route("GET", "/users/{id}", get_user),
]
