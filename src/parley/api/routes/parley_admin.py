"""Parley's own API for time (not part of Intercom's): the controllable clock, office hours,
SLA policies and their application to conversations, and the contact-side conversation rating.

- `GET /_parley/clock`; `POST /_parley/clock {now?, advance?, frozen?}` (only with a
  controlled clock: `parley serve --controlled-clock`). After a change, due snoozes fire before
  the answer.
- `GET|PUT|DELETE /_parley/office_hours` (`{time_zone, schedule: {monday: [["09:00",
  "17:00"]], ...}}`).
- `GET|POST /_parley/sla_policies`; `POST|DELETE /_parley/conversations/{id}/sla`.
- `POST /_parley/conversations/{id}/rating {intercom_user_id|user_id|email, rating, remark?}`.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parley.api.endpoint import (
    Call,
    error_response,
    json_response,
    parse_model,
    read_body,
    request_credentials,
)
from parley.api.fields import NumericId, Timestamp
from parley.api.routing import numeric_id, route
from parley.api.state import AppState
from parley.db import tokens
from parley.db.database import Row
from parley.domain.office_hours import OfficeHours
from parley.errors import InvalidParameter, MissingParameter, NotFound, ParleyError, Unauthorized
from parley.kit.clock import MAX_TIMESTAMP, ControlledClock
from parley.kit.numbers import INT64_MAX
from parley.render import conversation as render
from parley.services import conversations as conversation_service
from parley.services import timekeeping as service
from parley.worker import timers

log = logging.getLogger("parley.api")

# ------------------------------------------------------------------------ clock


class ClockBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: Timestamp | None = None
    advance: StrictInt | None = Field(default=None, ge=0)
    frozen: StrictBool | None = None


def _clock_json(state: AppState, fired: int | None = None) -> dict[str, Any]:
    clock = state.clock
    controlled = isinstance(clock, ControlledClock)
    out: dict[str, Any] = {
        "type": "parley.clock",
        "now": clock.now(),
        "controlled": controlled,
        "frozen": clock.frozen if isinstance(clock, ControlledClock) else False,
    }
    if fired is not None:
        out["snoozes_opened"] = fired
    return out


async def _authenticate(state: AppState, request: Request) -> str:
    """The token's workspace (the version and the credentials checked as an Endpoint does)."""
    token, _ = request_credentials(request.scope)
    async with state.db.transaction(write=False) as tx:
        auth = await tokens.authenticate(tx, token)
    if auth is None:
        raise Unauthorized()
    return str(auth["workspace_id"])


async def clock_endpoint(request: Request) -> Response:
    """Not a `route()`: moving the clock fires timers, each in its own transaction, after the
    request's authentication transaction has ended.

    The controlled clock is the server's one clock (every workspace's time: it is meant for a
    server that a developer or a CI job drives); the answer counts only the caller's
    workspace's conversations that the move opened."""
    state: AppState = request.app.state.parley
    request_id = state.ids.request_id()
    try:
        workspace_id = await _authenticate(state, request)
        if request.method == "GET":
            return json_response(200, _clock_json(state), request_id)
        clock = state.clock
        if not isinstance(clock, ControlledClock):
            raise ParleyError(
                "The clock is the system clock; start parley serve with --controlled-clock "
                "(PARLEY_CONTROLLED_CLOCK=true) to set it",
                code="clock_not_controlled",
                status=409,
            )
        raw = await read_body(request, state.settings)
        try:
            data = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            raise InvalidParameter("There was a problem in the JSON you submitted") from None
        body = parse_model(ClockBody, data)
        if body.now is not None and body.advance is not None:
            raise InvalidParameter("give either now or advance, not both", field="advance")
        if body.advance is not None and clock.now() + body.advance > MAX_TIMESTAMP:
            # Checked before anything moves: a failed request leaves the clock where it was.
            raise InvalidParameter(
                f"advance: the clock cannot go past {MAX_TIMESTAMP} (the year 9999)",
                field="advance",
            )
        if body.frozen is True:
            clock.freeze()
        if body.now is not None:
            clock.set(body.now)
        if body.advance is not None:
            clock.advance(body.advance)
        if body.frozen is False:
            clock.resume()
        fired = await timers.run_once(state.db, clock, state.ids)
        return json_response(200, _clock_json(state, fired[workspace_id]), request_id)
    except ParleyError as error:
        return error_response(error, request_id)
    except Exception:
        log.exception("unhandled error in %s /_parley/clock (request %s)", request.method,
                      request_id)  # fmt: skip
        return error_response(ParleyError(), request_id)


# ------------------------------------------------------------------------ office hours


class OfficeHoursBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    time_zone: StrictStr
    schedule: dict[str, Any]


def _office_hours(hours: OfficeHours | None) -> dict[str, Any]:
    if hours is None:
        return {"type": "parley.office_hours", "configured": False, "time_zone": None,
                "schedule": None}  # fmt: skip
    return {"type": "parley.office_hours", "configured": True, "time_zone": hours.time_zone,
            "schedule": hours.schedule()}  # fmt: skip


async def get_office_hours(call: Call) -> dict[str, Any]:
    return _office_hours(await service.office_hours(call.tx, call.ctx.workspace_id))


async def put_office_hours(call: Call) -> dict[str, Any]:
    body = call.body(OfficeHoursBody)
    hours = await service.set_office_hours(
        call.tx, call.ctx, time_zone=body.time_zone, schedule=body.schedule
    )
    return _office_hours(hours)


async def delete_office_hours(call: Call) -> dict[str, Any]:
    await service.clear_office_hours(call.tx, call.ctx)
    return _office_hours(None)


# ------------------------------------------------------------------------ SLA policies


# Seconds, stored as sent: a number no 64-bit column holds is a 400, not the driver's 500.
Seconds = Annotated[StrictInt, Field(le=INT64_MAX)]


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: StrictStr
    first_response_time: Seconds | None = None
    next_response_time: Seconds | None = None
    time_to_close: Seconds | None = None
    office_hours: StrictBool = False
    apply_to_new_conversations: StrictBool = False


def _policy(row: Row) -> dict[str, Any]:
    return {
        "type": "parley.sla_policy",
        "id": str(row["id"]),
        "name": row["name"],
        "first_response_time": row["first_response_time"],
        "next_response_time": row["next_response_time"],
        "time_to_close": row["time_to_close"],
        "office_hours": bool(row["office_hours"]),
        "apply_to_new_conversations": bool(row["apply_to_new_conversations"]),
        "created_at": row["created_at"],
    }


async def create_policy(call: Call) -> dict[str, Any]:
    body = call.body(PolicyBody)
    row = await service.create_policy(
        call.tx, call.ctx, name=body.name, first_response_time=body.first_response_time,
        next_response_time=body.next_response_time, time_to_close=body.time_to_close,
        office_hours=body.office_hours, apply_to_new_conversations=body.apply_to_new_conversations,
    )  # fmt: skip
    return _policy(row)


async def list_policies(call: Call) -> dict[str, Any]:
    rows = await service.list_policies(call.tx, call.ctx)
    return {"type": "list", "data": [_policy(r) for r in rows]}


class ApplyBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sla_policy_id: NumericId


async def _conversation(call: Call, conversation_id: int) -> dict[str, Any]:
    view = await conversation_service.view(call.tx, call.ctx, conversation_id)
    return render.conversation(
        view.row, contacts=view.contacts, tags=view.tags, parts=view.parts, version=call.version
    )


async def apply_sla(call: Call) -> dict[str, Any]:
    conversation_id = numeric_id(call.path["conversation_id"])
    body = call.body(ApplyBody)
    await service.apply_policy(call.tx, call.ctx, conversation_id, body.sla_policy_id)
    return await _conversation(call, conversation_id)


async def remove_sla(call: Call) -> dict[str, Any]:
    conversation_id = numeric_id(call.path["conversation_id"])
    await service.remove_policy(call.tx, call.ctx, conversation_id)
    return await _conversation(call, conversation_id)


# ------------------------------------------------------------------------ rating


class RatingBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    intercom_user_id: StrictStr | None = None
    user_id: StrictStr | None = None
    email: StrictStr | None = None
    rating: StrictInt
    remark: StrictStr | None = None


async def rate(call: Call) -> dict[str, Any]:
    conversation_id = numeric_id(call.path["conversation_id"])
    body = call.body(RatingBody)
    if body.intercom_user_id is None and body.user_id is None and body.email is None:
        raise MissingParameter(
            "one of intercom_user_id, user_id or email is required", field="intercom_user_id"
        )
    contact = await conversation_service.find_contact(
        call.tx, call.ctx, intercom_user_id=body.intercom_user_id, user_id=body.user_id,
        email=body.email,
    )  # fmt: skip
    if contact is None:
        raise NotFound("User Not Found")
    await service.rate(
        call.tx, call.ctx, conversation_id, contact=contact, rating=body.rating, remark=body.remark
    )
    return await _conversation(call, conversation_id)


routes = [
    Route("/_parley/clock", clock_endpoint, methods=["GET", "POST"], name="clock"),
    route("GET", "/_parley/office_hours", get_office_hours),
    route("PUT", "/_parley/office_hours", put_office_hours),
    route("DELETE", "/_parley/office_hours", delete_office_hours),
    route("GET", "/_parley/sla_policies", list_policies),
    route("POST", "/_parley/sla_policies", create_policy),
    route("POST", "/_parley/conversations/{conversation_id}/sla", apply_sla),
    route("DELETE", "/_parley/conversations/{conversation_id}/sla", remove_sla),
    route("POST", "/_parley/conversations/{conversation_id}/rating", rate),
]
