"""ParleyError -> Intercom's `error.list`."""

from __future__ import annotations

from typing import Any

from parley.errors import ParleyError


def error_list(request_id: str, errors: list[ParleyError]) -> dict[str, Any]:
    rendered: list[dict[str, Any]] = []
    for error in errors:
        item: dict[str, Any] = {"code": error.code, "message": error.message}
        if error.field is not None:
            item["field"] = error.field
        rendered.append(item)
    return {"type": "error.list", "request_id": request_id, "errors": rendered}
