"""The one wrapper every API route goes through.

It owns the request's life: request id, JSON parsing, the transaction (auth inside it, so a
request costs one BEGIN/COMMIT), the Intercom-Version, error rendering. Handlers receive a Call
and return the rendered dict; they never build a Response or touch HTTP errors themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from parley.api.state import AppState
from parley.db import tokens
from parley.db.database import Transaction, UniqueViolation
from parley.errors import (
    Conflict,
    InvalidParameter,
    MissingParameter,
    ParleyError,
    Unauthorized,
    VersionInvalid,
)
from parley.render.errors import error_list
from parley.render.version import VERSIONS, ApiVersion
from parley.services.context import Context

log = logging.getLogger("parley.api")

M = TypeVar("M", bound=BaseModel)
JSON_TYPE = "application/json; charset=utf-8"


@dataclass(slots=True)
class Call:
    request: Request
    tx: Transaction
    ctx: Context
    version: ApiVersion
    path: Mapping[str, str]
    json: Any  # the parsed JSON body (None when there was none)
    # Writes to run in a transaction of their own once this request's has committed (e.g. a GET
    # keeping the document it rendered); their failure cannot fail the request.
    after_commit: list[Callable[[Transaction], Awaitable[object]]] = field(default_factory=list)

    @property
    def query(self) -> Mapping[str, str]:
        """The query string, parsed on first use (most requests never look)."""
        return self.request.query_params

    def body(self, model: type[M]) -> M:
        """Validate the JSON body against a request model; errors name the field."""
        return parse_model(model, {} if self.json is None else self.json)


# A handler returns the rendered dict, bytes it already serialised, or None for an empty body.
Handler = Callable[[Call], Awaitable[dict[str, Any] | bytes | None]]


def parse_model(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise InvalidParameter("Request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def validation_error(exc: ValidationError) -> ParleyError:
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"] if not isinstance(part, int)) or None
    kind = first["type"]
    if kind == "missing":
        return MissingParameter(f"{field} is required", field=field)
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return InvalidParameter(f"{field}: {message}" if field else message, field=field)


def json_response(status: int, content: dict[str, Any] | bytes | None, request_id: str) -> Response:
    if content is None:
        body = b""
    elif isinstance(content, bytes):
        body = content
    else:
        body = orjson.dumps(content)
    return Response(
        body, status_code=status, media_type=JSON_TYPE, headers={"X-Request-Id": request_id}
    )


def error_response(error: ParleyError, request_id: str) -> Response:
    return json_response(error.status, error_list(request_id, [error]), request_id)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


def endpoint(handler: Handler, *, write: bool) -> Callable[[Request], Awaitable[Response]]:
    async def asgi_endpoint(request: Request) -> Response:
        state: AppState = request.app.state.parley
        request_id = state.ids.request_id()
        try:
            version_header = request.headers.get("intercom-version")
            if version_header is not None and version_header not in VERSIONS:
                raise VersionInvalid(
                    f"The requested version could not be found: {version_header!r}",
                    field="Intercom-Version",
                )
            token = _bearer(request)
            # GETs carry no body worth reading: skip the receive round on the hottest path.
            raw = b"" if request.method == "GET" else await request.body()
            parsed: Any = None
            if raw.strip():
                try:
                    parsed = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    raise InvalidParameter(
                        "There was a problem in the JSON you submitted"
                    ) from None
            async with state.db.transaction(write=write) as tx:
                auth = await tokens.authenticate(tx, token)
                if auth is None:
                    raise Unauthorized()
                version = VERSIONS[version_header or auth["default_version"]]
                ctx = Context(
                    clock=state.clock,
                    ids=state.ids,
                    workspace_id=auth["workspace_id"],
                    admin_id=int(auth["admin_id"]),
                )
                call = Call(request, tx, ctx, version, request.path_params, parsed)
                content = await handler(call)
        except ParleyError as error:
            return error_response(error, request_id)
        except UniqueViolation:
            # A concurrent request created the same thing first; its check saw nothing.
            conflict = Conflict("A resource matching those details already exists")
            return error_response(conflict, request_id)
        except Exception:
            log.exception(
                "unhandled error in %s %s (request %s)",
                request.method,
                request.url.path,
                request_id,
            )
            return error_response(ParleyError(), request_id)
        for work in call.after_commit:
            try:
                async with state.db.transaction(write=True) as tx:
                    await work(tx)
            except Exception:
                log.exception("after-commit work failed (request %s)", request_id)
        return json_response(200, content, request_id)

    return asgi_endpoint
