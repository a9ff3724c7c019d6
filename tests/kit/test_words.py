"""The words the full-text index sees (kit/words.py): both databases receive exactly these."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from parley.kit.words import body_words, document, query_words

WORD = re.compile(r"[^\W_]+")


def _as_defined(text: str) -> list[str]:
    """Casefold, NFKD, combining marks dropped, runs of letters and digits."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return WORD.findall("".join(ch for ch in decomposed if not unicodedata.combining(ch)))


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_takes_a_short_path_to_the_same_words(text: str) -> None:
    assert query_words(text) == _as_defined(text)


@given(st.text())
def test_any_text_folds_as_defined(text: str) -> None:
    assert query_words(text) == _as_defined(text)


def test_markup_entities_case_and_accents() -> None:
    assert body_words("<p>Caf&eacute; <b>CRÈME</b> brûlée_2, ﬁne</p>") == [
        "cafe", "creme", "brulee", "2", "fine"
    ]  # fmt: skip
    assert document("<p>Hello,&nbsp;World</p>") == "hello world"
    assert document(None) == document("") == document("<p></p>") == ""
