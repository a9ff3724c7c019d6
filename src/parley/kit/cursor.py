"""Opaque pagination cursors: base64 of a JSON array, as Intercom's own cursors are."""

from __future__ import annotations

import base64
import binascii

import orjson


class CursorError(ValueError):
    pass


def encode(values: list[int | str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode("ascii")


def decode(cursor: str, arity: int) -> list[int | str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeError, orjson.JSONDecodeError, ValueError) as exc:
        raise CursorError(cursor) from exc
    if (
        not isinstance(values, list)
        or len(values) != arity
        or not all(isinstance(v, int | str) for v in values)
    ):
        raise CursorError(cursor)
    return values
