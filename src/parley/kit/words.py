"""Words of a message body, as the full-text index sees them.

Both databases index the same thing: the body with its HTML tags dropped and entities decoded,
case-folded, accents removed, split into runs of letters and digits. Splitting here (not in the
database) keeps SQLite FTS5 and PostgreSQL tsvector in exact agreement: each receives the words
joined by single spaces, which neither tokenizer splits further.
"""

from __future__ import annotations

import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[^\W_]+")


def _fold(text: str) -> str:
    if text.isascii():  # most bodies: nothing to decompose, casefold is lower (a reply's ~20 µs)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def query_words(text: str) -> list[str]:
    """The words of a search value (no markup is stripped from a value)."""
    return _WORD.findall(_fold(text))


def body_words(body: str | None) -> list[str]:
    """The words of a stored HTML body."""
    if not body:
        return []
    return query_words(html.unescape(_TAG.sub(" ", body)))


def document(body: str | None) -> str:
    """What the index receives for a body: its words joined by spaces ("" for none)."""
    return " ".join(body_words(body))
