"""Numbers as clients send them: strings of ASCII digits, and integers a store can hold."""

from __future__ import annotations

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1  # SQLite's INTEGER and PostgreSQL's bigint: every key and id column


def is_digits(text: str) -> bool:
    """Whether `text` is one or more of the ASCII digits 0-9.

    Not `str.isdigit()`: it is also true for "²" (which `int()` refuses: a 500) and for other
    scripts' digits such as the Arabic-Indic "١", which `int()` reads as 1 (so "/conversations/١"
    was conversation 1)."""
    return text.isascii() and text.isdigit()


def parse_digits(text: str, max_length: int) -> int | None:
    """The number `text` spells in at most `max_length` ASCII digits; None for anything else
    (signs, spaces, other scripts' digits, longer strings: `int()` of thousands of digits is
    slow, then refused)."""
    if len(text) > max_length or not is_digits(text):
        return None
    return int(text)


def is_int64(value: object) -> bool:
    """Whether a decoded JSON value is an integer (a boolean is not) that fits a 64-bit column:
    binding a larger one fails in both drivers."""
    return (
        isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX
    )
