"""Opaque pagination cursors: base64 of a JSON array, as Intercom's own cursors are."""

from __future__ import annotations

import base64
import binascii

import orjson

from parley.kit.numbers import is_int64


class CursorError(ValueError):
    pass


def encode(values: list[int | str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode("ascii")


def decode(cursor: str, arity: int) -> list[int | str]:
    """The `arity` values of a cursor: strings, or integers a 64-bit key can hold (anything
    else, a boolean included, is no position of ours: binding it would fail in the drivers)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeError, orjson.JSONDecodeError, ValueError) as exc:
        raise CursorError(cursor) from exc
    if (
        not isinstance(values, list)
        or len(values) != arity
        or not all(isinstance(v, str) or is_int64(v) for v in values)
    ):
        raise CursorError(cursor)
    return values
