"""Route declarations: a method, a path and a handler; reads run in read transactions."""

from __future__ import annotations

from starlette.routing import Route

from parley.api.endpoint import Handler, endpoint
from parley.errors import NotFound


def route(method: str, path: str, handler: Handler) -> Route:
    return Route(path, endpoint(handler, write=method != "GET"), methods=[method],
                 name=handler.__name__)  # fmt: skip


def numeric_id(value: str, *, message: str = "Resource Not Found", code: str = "not_found") -> int:
    """Path ids of integer-keyed resources: anything that is not a plain number cannot exist."""
    if not value.isdigit() or len(value) > 18:
        raise NotFound(message, code=code)
    return int(value)
