"""The one wrapper every API route goes through.

It owns the request's life: request id, JSON parsing, the transaction (auth inside it, so a
request costs one BEGIN/COMMIT), the Intercom-Version, error rendering. Handlers receive a Call
and return the rendered dict; they never build a Response or touch HTTP errors themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from parley.api.state import AppState
from parley.config import Settings
from parley.db import tokens
from parley.db.database import Transaction, TransientConflict, UniqueViolation
from parley.errors import (
    Conflict,
    InvalidParameter,
    MissingParameter,
    NotFound,
    ParleyError,
    PayloadTooLarge,
    Unauthorized,
    VersionInvalid,
)
from parley.kit.numbers import is_digits
from parley.render.errors import error_list
from parley.render.version import VERSIONS, ApiVersion
from parley.services.context import Context

log = logging.getLogger("parley.api")

M = TypeVar("M", bound=BaseModel)
JSON_TYPE = "application/json; charset=utf-8"
JSON_TYPE_BYTES = JSON_TYPE.encode()


class Call:
    """One API request as a handler sees it: its transaction and context, the version, the
    path parameters and the parsed JSON body."""

    __slots__ = ("_request", "after_commit", "ctx", "json", "path", "receive", "scope", "tx",
                 "version")  # fmt: skip

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        tx: Transaction,
        ctx: Context,
        version: ApiVersion,
        json: Any,  # the parsed JSON body (None when there was none)
        request: Request | None = None,  # Starlette's view, if the endpoint made one already
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.tx = tx
        self.ctx = ctx
        self.version = version
        self.path: Mapping[str, str] = scope["path_params"]
        self.json = json
        self._request = request
        # Writes to run in a transaction of their own once this request's has committed (e.g.
        # a GET keeping the document it rendered); their failure cannot fail the request.
        self.after_commit: list[Callable[[Transaction], Awaitable[object]]] = []

    @property
    def request(self) -> Request:
        """Starlette's view of the request (URL, query string), made on first use."""
        if self._request is None:
            self._request = Request(self.scope, self.receive)
        return self._request

    @property
    def query(self) -> Mapping[str, str]:
        """The query string, parsed on first use (most requests never look, and most have
        none: then no Request is made for it)."""
        if not self.scope["query_string"]:
            return _NO_QUERY
        return self.request.query_params

    def body(self, model: type[M]) -> M:
        """Validate the JSON body against a request model; errors name the field."""
        return parse_model(model, {} if self.json is None else self.json)


_NO_QUERY: Mapping[str, str] = MappingProxyType({})

# A handler returns the rendered dict, bytes it already serialised, or None for an empty body.
Handler = Callable[[Call], Awaitable[dict[str, Any] | bytes | None]]


def parse_model(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise InvalidParameter("Request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data) from None


@dataclass(frozen=True, slots=True)
class _Located:
    """One pydantic error, placed in the request body it is about."""

    error: ErrorDetails
    path: tuple[str, ...]  # the body's keys leading to the value (list indexes left out)
    rejected_form: bool  # a union member refused the value's very form (`to: 5`)


def _locate(error: ErrorDetails, data: Any) -> _Located:
    """Follow an error's `loc` through the body it came from. pydantic puts a label into `loc`
    for every union member it tried (`ContactRef`, `list[ContactRef]`, `str`...): names of
    Parley's types, never the client's. A label is told from a key by the body itself, not by
    its spelling, so a client's key (a custom attribute `Plan`) is never mistaken for one: a
    key or index leads to a value the client sent; a label leads nowhere. The one real name
    that leads nowhere is the last of a `missing` error: the field the client left out."""
    loc = error["loc"]
    missing = error["type"] == "missing"
    path: list[str] = []
    node = data
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            node = node[part]  # indexes are not part of a field's name
        elif isinstance(part, str) and isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif missing and last:
            path.append(str(part))
        elif last:
            return _Located(error, tuple(path), rejected_form=True)
    return _Located(error, tuple(path), rejected_form=False)


def validation_error(exc: ValidationError, data: Any) -> ParleyError:
    """The first of pydantic's errors as a 400 naming the field (`data`: the validated body)."""
    located = [_locate(error, data) for error in exc.errors(include_url=False)]
    first = located[0]
    # A union's members fail together, each with its own errors; the member that refused the
    # value's form says least (a list `to` is no single recipient): prefer one that got inside.
    alternatives = [e for e in located if e.path[: len(first.path)] == first.path]
    chosen = next((e for e in alternatives if not e.rejected_form), first)
    field = ".".join(chosen.path) or None
    if chosen.error["type"] == "missing":
        return MissingParameter(f"{field} is required", field=field)
    if chosen.rejected_form:  # pydantic's message names a type of Parley's
        message = "Input should be one of the forms this field accepts"
    else:
        message = chosen.error["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
    return InvalidParameter(f"{field}: {message}" if field else message, field=field)


def json_response(status: int, content: dict[str, Any] | bytes | None, request_id: str) -> Response:
    """A Starlette Response, for the few routes that are not Endpoints (and Starlette's own
    404/405 handlers)."""
    body = _serialise(content)
    return Response(
        body, status_code=status, media_type=JSON_TYPE, headers={"X-Request-Id": request_id}
    )


def error_response(error: ParleyError, request_id: str) -> Response:
    return json_response(error.status, error_list(request_id, [error]), request_id)


def _check_version(version_header: str | None) -> None:
    if version_header is not None and version_header not in VERSIONS:
        raise VersionInvalid(
            f"The requested version could not be found: {version_header!r}",
            field="Intercom-Version",
        )


def request_credentials(scope: Scope) -> tuple[str, str | None]:
    """The request's bearer token and its Intercom-Version (None: not sent), checked: a version
    that is sent must be a known one (400 `intercom_version_invalid`), and there must be one
    well-formed bearer credential (401). Endpoints and Parley's own routes that are not
    Endpoints (the clock) read them here."""
    authorization, version_header = _headers(scope)
    _check_version(version_header)
    return _bearer(authorization), version_header


def request_version(scope: Scope) -> str | None:
    """The request's Intercom-Version, checked as request_credentials checks it: for answers
    that need no credentials (the 404/405 of paths and methods nothing serves)."""
    version_header = _headers(scope)[1]
    _check_version(version_header)
    return version_header


def _headers(scope: Scope) -> tuple[str | None, str | None]:
    """The Authorization and Intercom-Version headers, read straight off the ASGI scope."""
    authorization = version = None
    credentials = 0
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value.decode("latin-1")
            credentials += 1
        elif name == b"intercom-version":
            # Whitespace around a field value is not part of it (RFC 9110, 5.5).
            version = value.decode("latin-1").strip(" \t")
    if credentials > 1:
        # Authorization is a singleton field: with two, which one acted would depend on who
        # reads them (a proxy or Starlette takes the first, this loop took the last). Neither.
        authorization = None
    return authorization, version


def _bearer(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


async def read_body(request: Request, settings: Settings) -> bytes:
    """The request's body, refused (413) past `settings.max_body_bytes` before it is all read:
    by its Content-Length when it declares one, else as it streams in."""
    limit = settings.max_body_bytes
    too_large = PayloadTooLarge(f"The request body is larger than {limit} bytes")
    declared = request.headers.get("content-length", "")
    if is_digits(declared) and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


class Endpoint:
    """A route's ASGI application: the request's whole life around its handler.

    It is a plain ASGI callable (Starlette mounts it as is, and the app's index calls it
    directly): its own headers parsing and a two-message response cost a fraction of building
    a Request and a Response, which was a visible share of a GET served from its document."""

    __slots__ = ("bulk", "handler", "since", "write")

    def __init__(
        self, handler: Handler, *, write: bool, bulk: bool = False, since: str | None = None
    ) -> None:
        self.handler = handler
        self.write = write
        self.bulk = bulk  # a write that may change a great many rows (Database.transaction)
        self.since = since  # the first API version with this operation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, body, request_id = await self.respond(scope, receive)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", JSON_TYPE_BYTES),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def respond(self, scope: Scope, receive: Receive) -> tuple[int, bytes, str]:
        state: AppState = scope["app"].state.parley
        request_id = state.ids.request_id()
        try:
            token, version_header = request_credentials(scope)
            # GETs carry no body worth reading: no Request, no receive round on the hottest path.
            request = None if scope["method"] == "GET" else Request(scope, receive)
            raw = b"" if request is None else await read_body(request, state.settings)
            parsed: Any = None
            if raw.strip():
                try:
                    parsed = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    raise InvalidParameter(
                        "There was a problem in the JSON you submitted"
                    ) from None
                if b"\\u0000" in raw:  # cheap first: a NUL needs that escape in JSON text
                    _refuse_nul(parsed, "")
            _refuse_nul_in_url(scope)
            # Only a write can be given up on by the database (reads take no locks).
            attempts = ATTEMPTS if self.write else 1
            for attempt in range(1, attempts + 1):
                try:
                    call, content = await self._run(
                        state, scope, receive, token, version_header, parsed, request
                    )
                    break
                except TransientConflict:
                    # PostgreSQL broke a lock cycle with a concurrent write (a reply locks the
                    # conversation then its contact, a contact rename the other way round) by
                    # rolling this transaction back: run it again.
                    if attempt == attempts:
                        raise
                    log.info("request %s retried after a transient conflict", request_id)
        except ParleyError as error:
            return _error(error, request_id)
        except ClientDisconnect:
            # Gone before its body arrived: nothing was done, and no one is left to answer.
            log.info("client disconnected mid-request (request %s)", request_id)
            return _error(InvalidParameter("The client disconnected"), request_id)
        except UniqueViolation:
            # A concurrent request created the same thing first; its check saw nothing.
            return _error(Conflict("A resource matching those details already exists"), request_id)
        except TransientConflict:
            return _error(
                Conflict("The request conflicted with concurrent ones; try again"), request_id
            )
        except Exception:
            log.exception(
                "unhandled error in %s %s (request %s)", scope["method"], scope["path"], request_id
            )
            return _error(ParleyError(), request_id)
        for work in call.after_commit:
            try:
                async with state.db.transaction(write=True) as tx:
                    await work(tx)
            except Exception:
                log.exception("after-commit work failed (request %s)", request_id)
        return 200, _serialise(content), request_id

    async def _run(
        self,
        state: AppState,
        scope: Scope,
        receive: Receive,
        token: str,
        version_header: str | None,
        parsed: Any,
        request: Request | None,
    ) -> tuple[Call, dict[str, Any] | bytes | None]:
        """One attempt at the request: its transaction, authentication included."""
        async with state.db.transaction(write=self.write, bulk=self.bulk) as tx:
            auth = await tokens.authenticate(tx, token)
            if auth is None:
                raise Unauthorized()
            version = VERSIONS[version_header or auth["default_version"]]
            if self.since is not None and not version.at_least(self.since):
                raise VersionInvalid("Requested resource is not available in current API version.")
            ctx = Context(
                clock=state.clock,
                ids=state.ids,
                workspace_id=auth["workspace_id"],
                admin_id=int(auth["admin_id"]),
            )
            call = Call(scope, receive, tx, ctx, version, parsed, request)
            return call, await self.handler(call)


ATTEMPTS = 3  # tries of a request whose transaction the database gave up on


def _refuse_nul(value: Any, path: str) -> None:
    """A 400 naming the first string of a request body that holds a NUL character (a key or a
    value). No store keeps one: PostgreSQL's text refuses it (a 500 before this), SQLite's LIKE
    and JSON paths stop at it."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidParameter(_NUL_MESSAGE, field=path or None)
    elif isinstance(value, dict):
        for key, item in value.items():
            field = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                raise InvalidParameter(_NUL_MESSAGE, field=path or None)
            _refuse_nul(item, field)
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item, path)


def _refuse_nul_in_url(scope: Scope) -> None:
    """The URL's counterpart of _refuse_nul: a path parameter with a NUL names nothing (404); a
    query string with one is a 400."""
    if "\x00" in scope["path"]:  # only a path parameter can hold it: the route matched
        raise NotFound("Resource Not Found")
    if b"%00" in scope["query_string"]:
        raise InvalidParameter(_NUL_MESSAGE)


_NUL_MESSAGE = "NUL characters are not allowed"


def _serialise(content: dict[str, Any] | bytes | None) -> bytes:
    if content is None:
        return b""
    if isinstance(content, bytes):
        return content
    return orjson.dumps(content)


def _error(error: ParleyError, request_id: str) -> tuple[int, bytes, str]:
    return error.status, orjson.dumps(error_list(request_id, [error])), request_id
