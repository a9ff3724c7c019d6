"""Field types shared by request bodies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from parley.kit.numbers import parse_digits


def _numeric_id(value: Any) -> int:
    """Intercom's descriptions type body ids as strings while their examples send numbers:
    accept both (spec-digest §6.1). Anything else is a 400 naming the field."""
    if isinstance(value, bool):
        raise ValueError("must be an id (a number or a numeric string)")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and (number := parse_digits(value.strip(), 18)) is not None:
        return number
    raise ValueError("must be an id (a number or a numeric string)")


NumericId = Annotated[int, BeforeValidator(_numeric_id)]
Timestamp = Annotated[int, Field(ge=0, le=253402300799)]  # unix seconds up to year 9999
