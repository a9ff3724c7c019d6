"""The seed's vocabulary: ~5,000 words drawn with a Zipf distribution, so that full-text figures
measured on a seeded store mean something.

Natural text follows Zipf's law: the word of frequency rank r occurs with probability about
1 / (r · H_N). A few words are everywhere ("the", "to", "i": single-word searches for them match
most conversations, as in a real inbox), a few hundred are common (a topic word such as "refund"
or "invoice" is in a few percent of messages), and most of the vocabulary is rare (a word at rank
3,000 is in well under 0.1% of messages).

The head of the ranking is real support-desk English: function words first, then the words of
support conversations. The long tail is made-up but pronounceable words (product names, error
codes, people's names, typos: what fills a real inbox's tail), generated deterministically so
that every seed with the same `--seed` writes the same text.
"""

from __future__ import annotations

import random
from bisect import bisect
from itertools import accumulate

SIZE = 5000
EXPONENT = 1.0

FUNCTION = (
    "the to i a and you it is of for that in my we this on can be have with not your our but "
    "are me so if do was at as an there please just will would all get no from or what when "
    "out up has any how been thanks hi hello one they about now still some also know like "
    "could here after again which then its only need should did them than more dont im cant "
    "see us yes ok"
).split()
SUPPORT = (
    "account help issue problem thank team email order app page error login password update "
    "time working support question customer user data report payment invoice refund billing "
    "plan subscription card charge price trial upgrade downgrade cancel renew export import "
    "settings dashboard notification mobile browser integration webhook api token key access "
    "permission admin workspace message reply chat inbox file upload download attachment link "
    "button screen form field search filter sync calendar contact profile address phone "
    "delivery shipping tracking package return exchange discount coupon receipt tax checkout "
    "cart product feature request bug crash slow broken missing wrong fixed new old first last "
    "next today yesterday tomorrow week month morning afternoon evening urgent asap soon later "
    "maybe probably definitely really already since because while where why who which "
    "still try tried check checked change changed set reset restart install uninstall version "
    "release server network connection timeout certificate domain dns redirect url website "
    "store shop item stock size color quantity warranty repair replacement damaged late early "
    "schedule meeting call demo onboarding training documentation guide article video tutorial "
    "feedback review rating complaint escalate manager colleague company business enterprise "
    "pro starter free seat seats license migration backup restore delete remove archive "
    "duplicate merge share invite role owner member group segment campaign newsletter "
    "unsubscribe spam bounce verify verification code sms twofactor authentication sso saml "
    "oauth google microsoft apple android ios windows mac linux chrome safari firefox "
    "spreadsheet csv pdf excel zapier slack salesforce hubspot shopify stripe paypal"
).split()

_ONSETS = (
    "b bl br c ch cl cr d dr f fl fr g gl gr h j k kl kr l m n p pl pr qu r s sc sh sk sl sm "
    "sn sp st str t th tr v w z"
).split()
_VOWELS = "a e i o u ai ea ee io ou oa ia y".split()
_CODAS = ("", "", "", "n", "r", "l", "s", "t", "x", "nd", "rk", "st", "m", "ng", "ck", "th")


def _tail(count: int, taken: set[str]) -> list[str]:
    rng = random.Random(20_261_130)
    out: list[str] = []
    while len(out) < count:
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
            for _ in range(rng.choice((2, 2, 2, 3)))
        )
        if word not in taken and 4 <= len(word) <= 14:
            taken.add(word)
            out.append(word)
    return out


def _ranked() -> tuple[str, ...]:
    head: list[str] = []
    seen: set[str] = set()
    for word in (*FUNCTION, *SUPPORT):
        if word not in seen:
            seen.add(word)
            head.append(word)
    return (*head, *_tail(SIZE - len(head), seen))


VOCABULARY: tuple[str, ...] = _ranked()  # by frequency rank, most frequent first
_CUMULATIVE = tuple(accumulate(1 / (rank**EXPONENT) for rank in range(1, len(VOCABULARY) + 1)))


def draw(rng: random.Random, count: int) -> list[str]:
    """`count` words, each independently with Zipf probability."""
    total = _CUMULATIVE[-1]
    return [VOCABULARY[bisect(_CUMULATIVE, rng.random() * total)] for _ in range(count)]


def rank(word: str) -> int:
    """A word's frequency rank (1 = most frequent)."""
    return VOCABULARY.index(word) + 1
