"""create_app(): the ASGI application. No globals are created at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from parley.api.endpoint import error_response, request_version
from parley.api.routes import (
    admins,
    contacts,
    conversation_attributes,
    conversations,
    leads_v1,
    messages,
    parley_admin,
    parley_workspace,
    search,
    tags,
    users_v1,
)
from parley.api.routing import IndexedRouter, ParleyApp
from parley.api.state import AppState
from parley.config import Settings
from parley.db import database
from parley.errors import NotFound, ParleyError
from parley.kit.clock import Clock, ControlledClock, SystemClock
from parley.kit.ids import IdFactory
from parley.worker.timers import Timer

log = logging.getLogger("parley")


def _routes() -> list[BaseRoute]:
    # conversation_attributes before conversations: /conversations/attributes is not an id.
    return [
        *admins.routes,
        *conversation_attributes.routes,
        *search.routes,
        *conversations.routes,
        *messages.routes,
        *contacts.routes,
        *tags.routes,
        *users_v1.routes,
        *leads_v1.routes,
        *parley_workspace.routes,
        *parley_admin.routes,
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods still answer in Intercom's error format."""
    state: AppState = request.app.state.parley
    request_id = state.ids.request_id()
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status in (404, 405):
        # An unknown Intercom-Version is refused on every path, as Endpoints refuse it.
        try:
            request_version(request.scope)
        except ParleyError as error:
            return error_response(error, request_id)
    if status == 404:
        return error_response(NotFound(), request_id)
    if status == 405:
        return error_response(
            ParleyError("Method Not Allowed", code="method_not_allowed", status=405), request_id
        )
    return error_response(ParleyError(status=status), request_id)


def create_app(
    settings: Settings,
    *,
    db: database.Database | None = None,
    clock: Clock | None = None,
    ids: IdFactory | None = None,
) -> Starlette:
    """Build the app. A database passed in is used as is (tests); otherwise the app connects to
    settings.resolved_database_url on startup and closes it on shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = db is None
        state: AppState = app.state.parley
        if owned:
            state.db = await database.connect(settings.resolved_database_url)
        timer = None
        if settings.timer_interval > 0:  # the snooze timer (worker/timers.py)
            timer = Timer(state.db, state.clock, state.ids, settings.timer_interval)
            timer.start()
        try:
            yield
        finally:
            if timer is not None:
                await timer.stop()
            if owned:
                await state.db.close()

    app = ParleyApp(lifespan=lifespan, exception_handlers={HTTPException: _http_error})
    # No redirect for a trailing slash: Intercom answers such a path 404, and a 307 has no
    # error.list body.
    app.router = IndexedRouter(_routes(), lifespan=lifespan, redirect_slashes=False)
    app.state.parley = AppState(
        settings=settings,
        db=db,  # type: ignore[arg-type]  # set in lifespan when not given
        clock=clock or (ControlledClock() if settings.controlled_clock else SystemClock()),
        ids=ids or IdFactory(),
    )
    return app
