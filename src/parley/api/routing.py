"""Route declarations: a method, a path and a handler; reads run in read transactions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from parley.api.endpoint import Endpoint, Handler
from parley.errors import NotFound
from parley.kit.numbers import parse_digits


def route(
    method: str, path: str, handler: Handler, *, bulk: bool = False, since: str | None = None
) -> Route:
    """`bulk`: the write may change a great many rows (it retires the documents of every
    conversation showing a tag or a contact): see Database.transaction. `since`: the first API
    version that has the operation (earlier ones answer 400 intercom_version_invalid)."""
    endpoint = Endpoint(handler, write=method != "GET", bulk=bulk, since=since)
    return Route(path, endpoint, methods=[method], name=handler.__name__)


def numeric_id(value: str, *, message: str = "Resource Not Found", code: str = "not_found") -> int:
    """Path ids of integer-keyed resources: anything that is not a plain number cannot exist."""
    number = parse_digits(value, 18)
    if number is None:
        raise NotFound(message, code=code)
    return number


class IndexedRouter(Router):
    """Starlette's router, with the candidates for a request narrowed first.

    Starlette tries every route in order; with ~50 routes that scan was a visible share of a
    fast request. Only routes with the request's method, first path segment and number of
    segments can fully match it (or, for a route with a `:path` parameter, at least that many
    segments), so those are tried first, in their original order (the first full match is the
    one Starlette itself would pick). Anything else (405, redirects, 404) takes Starlette's path.
    """

    MAX_SEGMENTS = 16

    def __init__(self, routes: Sequence[BaseRoute], **kwargs: Any) -> None:
        super().__init__(routes=list(routes), **kwargs)
        fixed: dict[tuple[str, str, int], list[tuple[int, Route]]] = {}
        spanning: list[tuple[int, Route]] = []  # `:path` routes: any number of segments
        for position, candidate in enumerate(self.routes):
            if not isinstance(candidate, Route) or "{" in _first_segment(candidate.path):
                raise ValueError(f"IndexedRouter cannot index {candidate!r}")
            if ":path}" in candidate.path:
                spanning.append((position, candidate))
                continue
            for method in candidate.methods or ():
                key = (method, _first_segment(candidate.path), candidate.path.count("/"))
                fixed.setdefault(key, []).append((position, candidate))
        for position, candidate in spanning:
            first, least = _first_segment(candidate.path), candidate.path.count("/")
            for method in candidate.methods or ():
                # A bucket per segment count it can match, up to a bound (a longer path still
                # works: it finds no bucket and takes Starlette's scan).
                for count in range(least, self.MAX_SEGMENTS + 1):
                    fixed.setdefault((method, first, count), []).append((position, candidate))
        self._index = {key: [r for _, r in sorted(entries)] for key, entries in fixed.items()}

    def match(self, scope: Scope) -> tuple[Route, Scope] | None:
        """The route that fully matches an HTTP request, and its child scope (path params):
        what Route.matches gives for a full match, without its generality (the method is
        already part of the index key)."""
        if scope.get("root_path"):
            return None  # mounted under a prefix: Starlette's own matching strips it
        path = scope["path"]
        key = (scope["method"], _first_segment(path), path.count("/"))
        for candidate in self._index.get(key, ()):
            found = candidate.path_regex.match(path)
            if found is not None:
                params = found.groupdict()
                for name, convertor in candidate.param_convertors.items():
                    params[name] = convertor.convert(params[name])
                return candidate, {"endpoint": candidate.endpoint, "path_params": params}
        return None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self.match(scope)
            if found is not None:
                candidate, child_scope = found
                scope.setdefault("router", self)
                scope["route"] = candidate
                scope.update(child_scope)
                await candidate.handle(scope, receive, send)
                return
        await super().app(scope, receive, send)


class ParleyApp(Starlette):
    """Starlette, with a direct way in for the requests the router's index matches.

    Such a request goes straight to its route's Endpoint, which renders every error itself;
    Starlette's middleware (error pages, exception handlers) and routing layers, which it never
    needs, cost about a fifth of a GET served from its document. Everything else (lifespan,
    unknown paths, wrong methods, the routes that are not Endpoints) takes Starlette's way."""

    router: IndexedRouter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self.router.match(scope)
            if found is not None and isinstance(found[0].app, Endpoint):
                route, child_scope = found
                scope["app"] = self
                scope.update(child_scope)
                await route.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _first_segment(path: str) -> str:
    return path.split("/", 2)[1] if path.startswith("/") else path
