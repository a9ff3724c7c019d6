"""Small text helpers for message bodies."""

from __future__ import annotations

import html
import re

_BLOCK_START = re.compile(r"^\s*<(p|div|ul|ol|h[1-6]|blockquote|pre|table|img)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6])\s*/?>", re.IGNORECASE)


def as_paragraphs(body: str, *, keep_html: bool = True) -> str:
    """Intercom stores a plain-text body wrapped as `<p>…</p>`; HTML bodies are kept as sent.

    Plain text is escaped, so a body can never smuggle markup in by being "plain".
    `keep_html=False`: the body is text whatever it looks like (a contact's message: "HTML is
    not supported"), so markup a contact typed is shown, never kept as markup."""
    if keep_html and _BLOCK_START.match(body):
        return body
    lines = [line for line in body.split("\n") if line.strip()]
    if not lines:
        return "<p></p>"
    return "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines)


def to_plaintext(body: str | None) -> str | None:
    """What `display_as=plaintext` shows: tags dropped, block ends as newlines, entities decoded."""
    if body is None:
        return None
    text = _BREAKS.sub("\n", body)
    text = _TAG.sub("", text)
    return html.unescape(text).strip()
