"""1.x users: `POST /users` (create or update), `GET /users/{id}`, `GET /users?user_id=|email=`,
`GET /users` (the list, by page number).

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
from parley.db import legacy
from parley.errors import InvalidParameter, VersionInvalid
from parley.kit.numbers import parse_digits
from parley.render import user_v1 as render
from parley.services import users_v1 as service

DEFAULT_PER_PAGE = 50  # 1.x: "defaults to 50, max is 60"
MAX_PER_PAGE = 60


def require_legacy(call: Call) -> None:
    if not call.version.is_legacy:
        raise VersionInvalid("Requested resource is not available in current API version.")


def positive_param(call: Call, name: str, default: int, maximum: int) -> int:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return default
    number = parse_digits(raw, 9)
    if number is None or not 1 <= number <= maximum:
        raise InvalidParameter(f"{name} must be an integer from 1 to {maximum}", field=name)
    return number


def choice_param(call: Call, name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        raise InvalidParameter(f"{name} must be one of: {', '.join(allowed)}", field=name)
    return raw


def page_request(call: Call, *, per_page: int = DEFAULT_PER_PAGE) -> service.PageRequest:
    """`page`, `per_page` (1–60), `sort` (created_at, updated_at, signed_up_at,
    last_request_at) and `order` (asc, desc; default desc) of a 1.x user or lead list."""
    return service.PageRequest(
        page=positive_param(call, "page", 1, 1_000_000),
        per_page=positive_param(call, "per_page", per_page, MAX_PER_PAGE),
        sort=choice_param(call, "sort", tuple(legacy.CONTACT_SORTS), "created_at"),
        descending=choice_param(call, "order", ("asc", "desc"), "desc") == "desc",
    )


def created_since(call: Call) -> int | None:
    """`created_since`: created within that many days (of the workspace clock)."""
    raw = call.query.get("created_since")
    if raw is None or raw == "":
        return None
    days = parse_digits(raw, 6)
    if days is None:
        raise InvalidParameter("created_since must be a number of days", field="created_since")
    return call.ctx.clock.now() - days * 86_400


def list_url(call: Call) -> str:
    return str(call.request.url.replace(query=""))


def render_page(call: Call, page: service.UserPage, *, leads: bool) -> dict[str, Any]:
    return render.user_list(
        [render.user(v.row, v.tags) for v in page.views],
        leads=leads, total_count=page.total_count, page=page.page, per_page=page.per_page,
        url=list_url(call), params=call.query,
    )  # fmt: skip


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


def fields_of(body: BaseModel) -> dict[str, Any]:
    """The sent, non-null fields of a 1.x user or lead body, as contact service fields."""
    return {
        _FIELD_MAP[name]: getattr(body, name)
        for name in body.model_fields_set
        if name in _FIELD_MAP and getattr(body, name) is not None
    }


async def upsert_user(call: Call) -> dict[str, Any]:
    require_legacy(call)
    body = call.body(UserBody)
    fields = fields_of(body)
    view = await service.upsert(call.tx, call.ctx, intercom_id=body.id, fields=fields)
    return render.user(view.row, view.tags)


async def get_user(call: Call) -> dict[str, Any]:
    require_legacy(call)
    view = await service.get(call.tx, call.ctx, call.path["id"])
    return render.user(view.row, view.tags)


async def find_user(call: Call) -> dict[str, Any]:
    """`?user_id=`: that user. `?email=`: that user in 1.0; from 1.1 the list of users with that
    email (1.1 listed leads too; 1.2 made it users only, which Parley does for 1.1 as well).
    Neither: the list of users."""
    require_legacy(call)
    user_id, email = call.query.get("user_id"), call.query.get("email")
    if user_id or (email and call.version.label == "1.0"):
        view = await service.find(call.tx, call.ctx, user_id=user_id, email=email)
        return render.user(view.row, view.tags)
    where = legacy.ContactFilter(role="user", email=email or None,
                                 created_since=created_since(call))  # fmt: skip
    page = await service.list_page(call.tx, call.ctx, where, page_request(call))
    return render_page(call, page, leads=False)


routes = [
    route("POST", "/users", upsert_user, bulk=True),
    route("GET", "/users", find_user),
    route("GET", "/users/{id}", get_user),
]
