"""Field types shared by request bodies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field


def _numeric_id(value: Any) -> int:
    """Intercom's descriptions type body ids as strings while their examples send numbers:
    accept both (spec-digest §6.1). Anything else is a 400 naming the field."""
    if isinstance(value, bool):
        raise ValueError("must be an id (a number or a numeric string)")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 18:
        return int(value.strip())
    raise ValueError("must be an id (a number or a numeric string)")


NumericId = Annotated[int, BeforeValidator(_numeric_id)]
MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z
Timestamp = Annotated[int, Field(ge=0, le=MAX_TIMESTAMP)]  # unix seconds up to year 9999
