"""How a search page asks PostgreSQL for its rows (db/search.py conversation_page): the same
rows either way, but the wrong plan costs 10–100×. These check the choice, not the planner."""

from __future__ import annotations

from typing import Any

from parley.db import search as sql
from parley.domain import search as language


class Recording:
    """A PostgreSQL transaction that records the page query instead of running it, in a
    workspace of `population` visible conversations."""

    dialect = "postgresql"

    def __init__(self, population: int) -> None:
        self.statements: list[str] = []
        self.population = population

    async def fetch_val(self, statement: str, params: Any = None) -> Any:
        assert "conversation_counts" in statement  # the kept count, nothing heavier
        return self.population

    async def fetch_all(self, statement: str, params: Any = None) -> list[Any]:
        self.statements.append(statement)
        return []


def _compiled(query: dict[str, Any]) -> sql.Compiled:
    node = language.parse(query, language.CONVERSATIONS)
    return sql.compile_conversations("postgresql", "ws", node, modern=False)


async def _order(compiled: sql.Compiled, *, matches: int, population: int, limit: int = 21) -> str:
    tx = Recording(population)
    await sql.conversation_page(
        tx,  # type: ignore[arg-type]
        compiled,
        select="SELECT c.* FROM conversations c",
        limit=limit,
        after=None,
        matches=matches,
    )
    return tx.statements[0].split("ORDER BY ", 1)[1]


RANGE = {
    "operator": "AND",
    "value": [
        {"field": "statistics.time_to_admin_reply", "operator": ">", "value": 2000},
        {"field": "statistics.time_to_admin_reply", "operator": "<", "value": 2060},
    ],
}
WORD = {"field": "source.body", "operator": "~", "value": "invoice"}


async def test_a_filter_reading_json_finds_its_matches_first_below_the_walks_cost() -> None:
    compiled = _compiled(RANGE)
    assert compiled.reads_json
    # sqrt(21 × 1M) ≈ 4.6k: 3.9k matches are found and sorted, not walked to.
    assert (await _order(compiled, matches=3_900, population=1_000_000)).startswith("(c.id + 0)")
    assert (await _order(compiled, matches=9_000, population=1_000_000)).startswith("c.id DESC")


async def test_a_cheap_filter_walks_the_ids_above_few_matches() -> None:
    compiled = _compiled(WORD)
    assert not compiled.reads_json
    assert (await _order(compiled, matches=1_500, population=1_000_000)).startswith("(c.id + 0)")
    order = await _order(compiled, matches=10_000, population=1_000_000, limit=151)
    assert order.startswith("c.id DESC")
