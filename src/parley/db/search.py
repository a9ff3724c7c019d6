"""Search queries: the query tree (parley.domain.search) compiled to SQL for SQLite and
PostgreSQL, and the page and count queries that use it.

Semantics shared by every field (docs/behaviour.md, Search):
  * A negative operator is the exact negation of its positive: `!=` v is NOT (`=` v), `NIN` is
    NOT `IN`, `!~` is NOT `~`; a missing or null value therefore matches `!=`.
  * On a list field (contact_ids, teammate_ids, tag_ids) a positive operator matches when some
    element matches; `= null` means the list is empty.
  * `~ ^ $` are case-insensitive (lower() on both sides; ASCII letters only on SQLite).
  * Fields Parley never stores (ai_agent.*, contact device fields, segments) are null.

Every comparison value is a bound parameter; the only SQL text built from the request is made of
the catalog's own field names, so a query cannot inject SQL.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from parley.db import conversations, fulltext
from parley.db.database import Row, Transaction
from parley.domain.search import CUSTOM_PREFIX, NEGATIONS, Filter, Group, Kind, Node
from parley.kit.numbers import parse_digits
from parley.kit.words import query_words

TRUE = "(1 = 1)"
FALSE = "(1 = 0)"
_LIKE = {"~": "%{}%", "^": "{}%", "$": "%{}"}


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Compiler:
    """One query's SQL: parameters are collected as the tree is walked."""

    def __init__(self, dialect: str, workspace_id: str) -> None:
        self.dialect = dialect
        self.params: dict[str, Any] = {"ws": workspace_id}
        self._n = 0
        # Whether the filter reads members of JSON columns: costly per row, which decides how
        # PostgreSQL should find a page (conversation_page).
        self.reads_json = False
        # Whether the filter matches words (PostgreSQL: GIN bitmaps; conversation_count).
        self.full_text = False
        # The last word match compiled: (parts?, its parameter), for _word_count.
        self.words: tuple[bool, str] | None = None

    @property
    def pg(self) -> bool:
        return self.dialect == "postgresql"

    def param(self, value: Any) -> str:
        name = f"q{self._n}"
        self._n += 1
        self.params[name] = value
        return f":{name}"

    def node(self, node: Node, resolve: Callable[[Compiler, Filter], str]) -> str:
        if isinstance(node, Group):
            joiner = f" {node.operator} "
            return "(" + joiner.join(self.node(m, resolve) for m in node.members) + ")"
        return resolve(self, node)


def negated(positive: str) -> str:
    return f"(NOT COALESCE({positive}, {FALSE}))"


def _split(f: Filter) -> tuple[str, bool]:
    """The positive operator and whether the filter negates it."""
    if f.operator in NEGATIONS:
        return NEGATIONS[f.operator], True
    return f.operator, False


def scalar(q: Compiler, f: Filter, expr: str, *, null_as: Any = None, cast: str = "") -> str:
    """A predicate on one SQL value. `null_as`: what the renderer shows for SQL NULL (e.g. ""
    for an email); `cast`: a PostgreSQL cast for the parameters (e.g. "::bigint")."""
    operator, negate = _split(f)

    def p(value: Any) -> str:
        return q.param(value) + (cast if q.pg else "")

    if operator == "=":
        if f.value is None:
            sql = f"({expr} IS NULL)" if null_as is None else FALSE
        elif f.value == null_as:
            sql = f"({expr} IS NULL OR {expr} = {p(f.value)})"
        else:
            sql = f"({expr} = {p(f.value)})"
    elif operator == "IN":
        values = list(f.value)
        if not values:
            sql = FALSE
        else:
            sql = f"({expr} IN ({', '.join(p(v) for v in values)}))"
            if null_as is not None and null_as in values:
                sql = f"({sql} OR {expr} IS NULL)"
    elif operator in ("<", ">", "<=", ">="):
        sql = f"({expr} {operator} {p(f.value)})"
    else:  # ~ ^ $
        pattern = _LIKE[operator].format(_escape_like(str(f.value)))
        text = "::text" if q.pg else ""
        target = expr if null_as is None else f"COALESCE({expr}, {q.param(null_as)}{text})"
        sql = f"(lower({target}) LIKE lower({q.param(pattern)}{text}) ESCAPE '\\')"
    return negated(sql) if negate else sql


def constant_null(f: Filter) -> str:
    """A field that is always null (rendered null or absent)."""
    operator, negate = _split(f)
    matches = operator == "=" and f.value is None
    return TRUE if matches != negate else FALSE


def membership(q: Compiler, f: Filter, elements: str, element: str, *, empty: str) -> str:
    """A list field. `elements`: SQL selecting the list's rows, `{}` standing for the element
    predicate (e.g. "c.id IN (SELECT conversation_id FROM conversation_tags WHERE {})");
    `element`: the element's text; `empty`: the predicate "the list is empty"."""
    operator, negate = _split(f)
    if operator == "=" and f.value is None:
        sql = empty
    else:
        inner = Filter(f.field, f.kind, operator, f.value, f.path)
        sql = "(" + elements.format(scalar(q, inner, element)) + ")"
    return negated(sql) if negate else sql


# ------------------------------------------------------------------------------ full text


def _fts5(words: list[str], *, prefix: bool = False) -> str:
    return '"' + " ".join(words) + '"' + (" *" if prefix else "")


def _tsquery(words: list[str], *, prefix: bool = False) -> str:
    return " <-> ".join(words) + (":*" if prefix else "")


def words_predicate(q: Compiler, f: Filter, *, parts: bool) -> str:
    """Word match through the full-text index: `=`/`IN` one word, `~` a run of words, `^` a run
    of words whose last is a prefix. A value with no words matches nothing."""
    operator, negate = _split(f)
    build = _tsquery if q.pg else _fts5
    if operator == "IN":
        singles = [w for w in (query_words(v) for v in f.value) if len(w) == 1]
        text = (" | " if q.pg else " OR ").join(build(w) for w in singles)
    else:
        words = query_words(str(f.value))
        if operator == "=" and len(words) != 1:
            words = []
        text = build(words, prefix=operator == "^") if words else ""
    if not text:
        sql = FALSE
    else:
        match = q.param(text)
        q.words = (parts, match)
        if q.pg:
            q.full_text = True
            table = "conversation_part_words" if parts else "conversation_source_words"
            sql = (
                f"(c.id IN (SELECT conversation_id FROM {table}"
                f" WHERE words @@ to_tsquery('simple', {match})))"
            )
        elif parts:
            # The conversation is in the FTS rowid's high bits (db/fulltext.py, part_key).
            sql = (
                f"(c.id IN (SELECT {fulltext.part_conversation('rowid')}"
                f" FROM conversation_part_fts WHERE conversation_part_fts MATCH {match}))"
            )
        else:
            sql = (
                "(c.id IN (SELECT rowid FROM conversation_source_fts"
                f" WHERE conversation_source_fts MATCH {match}))"
            )
    return negated(sql) if negate else sql


# ------------------------------------------------------------------------------ JSON values


def json_path(q: Compiler, column: str, keys: Sequence[str], *, as_int: bool) -> str:
    """A member of a JSON text column, as text (or as an integer). The statistics expressions
    match the expression indexes of migrations 0002 and 0006 exactly."""
    q.reads_json = True
    if q.pg:
        if len(keys) == 1:
            text = f"({column}::jsonb ->> '{keys[0]}')"
        else:
            text = f"({column}::jsonb #>> '{{{','.join(keys)}}}')"
        return f"({text}::bigint)" if as_int else text
    return f"json_extract({column}, '$.{'.'.join(keys)}')"


def custom_attribute(q: Compiler, f: Filter, column: str) -> str:
    """custom_attributes.NAME, compared as the JSON type of the searched value: a stored value
    of another type (or none) is null for the comparison."""
    name = f.field[len(CUSTOM_PREFIX) :]
    q.reads_json = True
    if q.pg:
        key = q.param(name)
        member = f"({column}::jsonb -> {key})"
        text = f"({column}::jsonb ->> {key})"
        typed = {
            Kind.STRING: (f"jsonb_typeof({member}) = 'string'", text, ""),
            Kind.NUMBER: (f"jsonb_typeof({member}) = 'number'", f"{text}::numeric", "::numeric"),
            Kind.BOOLEAN: (f"jsonb_typeof({member}) = 'boolean'", f"{text}::boolean", "::boolean"),
            Kind.NULL: ("TRUE", text, ""),
        }[f.kind]
    else:
        path = q.param(f'$."{name}"')
        value = f"json_extract({column}, {path})"
        kind = f"json_type({column}, {path})"
        typed = {
            Kind.STRING: (f"{kind} = 'text'", value, ""),
            Kind.NUMBER: (f"{kind} IN ('integer', 'real')", value, ""),
            Kind.BOOLEAN: (f"{kind} IN ('true', 'false')", value, ""),
            Kind.NULL: ("1 = 1", value, ""),
        }[f.kind]
    guard, expr, cast = typed
    value_expr = f"(CASE WHEN {guard} THEN {expr} END)"
    if f.kind is Kind.NUMBER and q.pg:
        # asyncpg sends numeric parameters as Decimal-compatible text; ints and floats both fit.
        f = Filter(f.field, f.kind, f.operator, _decimal(f.value), f.path)
    return scalar(q, f, value_expr, cast=cast)


def _decimal(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, tuple):
        return tuple(Decimal(str(v)) for v in value)
    return Decimal(str(value))


# ------------------------------------------------------------------------------ conversations

_STAT_INT = {"last_closed_by_id": False}
# Statistics PostgreSQL also stores as generated columns `stat_<key>` (migration 0008), indexed
# with workspace_id, visible and id so that a range's count and page ids are index-only.
_STAT_COLUMNS = ("time_to_admin_reply", "last_close_at")


def conversation_filter(modern: bool) -> Callable[[Compiler, Filter], str]:
    """The resolver for conversation fields; `modern`: the 2.16 wire (priority levels)."""

    def resolve(q: Compiler, f: Filter) -> str:
        name = f.field
        if name.startswith(CUSTOM_PREFIX):
            return custom_attribute(q, f, "c.custom_attributes")
        if name.startswith("ai_agent."):
            return constant_null(f)
        if name.startswith("statistics."):
            key = name.split(".", 1)[1]
            as_int = _STAT_INT.get(key, True)
            if q.pg and key in _STAT_COLUMNS:
                q.reads_json = True  # the same plan choice as the JSON expression's
                return scalar(q, f, f"c.stat_{key}", cast="::bigint")
            return scalar(
                q, f, json_path(q, "c.statistics", [key], as_int=as_int),
                cast="::bigint" if as_int else "",
            )  # fmt: skip
        if name.startswith("conversation_rating."):
            return _rating(q, f)
        handler = _CONVERSATION.get(name)
        assert handler is not None, name
        return handler(q, f, modern)

    return resolve


_RATING = {
    "requested_at": (["created_at"], True),
    "replied_at": (["updated_at"], True),
    "score": (["rating"], True),
    "remark": (["remark"], False),
    "contact_id": (["contact_id"], False),
    "admin_d": (["admin_id"], False),
    "admin_id": (["admin_id"], False),
}


def _rating(q: Compiler, f: Filter) -> str:
    keys, as_int = _RATING[f.field.split(".", 1)[1]]
    expr = json_path(q, "c.conversation_rating", keys, as_int=as_int)
    return scalar(q, f, expr, cast="::bigint" if as_int else "")


def _conversation_id(q: Compiler, f: Filter, modern: bool) -> str:
    operator, negate = _split(f)
    if operator in ("=", "IN"):
        values = [f.value] if operator == "=" else list(f.value)
        numbers = [
            n for v in values if isinstance(v, str) and (n := parse_digits(v, 18)) is not None
        ]
        inner = Filter(f.field, Kind.INTEGER, "IN", tuple(numbers), f.path)
        sql = scalar(q, inner, "c.id", cast="::bigint")
        return negated(sql) if negate else sql
    return scalar(q, f, "CAST(c.id AS TEXT)")


def _author(q: Compiler, f: Filter, attribute: str, null_as: Any) -> str:
    """source.author.name/email: the author is an admin (or the bot) or a contact; the
    subqueries let the indexes on the source author columns do the work."""
    operator, negate = _split(f)
    inner = Filter(f.field, f.kind, operator, f.value, f.path)
    contact = scalar(q, inner, f"k.{attribute}", null_as=null_as)
    admin = scalar(q, inner, f"a.{attribute}", null_as=null_as)
    # One id set from two index lookups (an OR of the two would scan every conversation).
    sql = (
        "(c.id IN (SELECT s.id FROM conversations s WHERE s.source_author_contact_id IN"
        f" (SELECT k.id FROM contacts k WHERE k.workspace_id = :ws AND {contact})"
        " UNION ALL SELECT s.id FROM conversations s WHERE s.source_author_admin_id IN"
        f" (SELECT a.id FROM admins a WHERE a.workspace_id = :ws AND {admin})))"
    )
    return negated(sql) if negate else sql


def _author_email(q: Compiler, f: Filter, modern: bool) -> str:
    """An unknown email is "" below 2.16 and null from 2.16 (render._source_author_216), and
    `= null` / `!= null` compare with what the requested version renders, as `priority` does."""
    if modern and f.value is None:
        f = Filter(f.field, f.kind, f.operator, "", f.path)
    return _author(q, f, "email", "")


def _author_id(q: Compiler, f: Filter, modern: bool) -> str:
    return scalar(
        q, f, "COALESCE(CAST(c.source_author_admin_id AS TEXT), c.source_author_contact_id)"
    )


def _author_type(q: Compiler, f: Filter, modern: bool) -> str:
    expr = (
        "(CASE WHEN c.source_author_type = 'admin' THEN (SELECT CASE WHEN a.kind = 'bot'"
        " THEN 'bot' ELSE 'admin' END FROM admins a WHERE a.id = c.source_author_admin_id)"
        " ELSE c.source_author_type END)"
    )
    return scalar(q, f, expr)


def _priority(q: Compiler, f: Filter, modern: bool) -> str:
    expr = (
        "c.priority"
        if modern
        else "(CASE WHEN c.priority = 'none' THEN 'not_priority' ELSE 'priority' END)"
    )
    return scalar(q, f, expr)


def _assignee(column: str) -> Callable[[Compiler, Filter, bool], str]:
    """0 is "nobody" (how 2.16 renders unassigned): it searches as null in every version."""

    def resolve(q: Compiler, f: Filter, modern: bool) -> str:
        value = f.value
        if isinstance(value, tuple):
            if 0 in value:
                rest = tuple(v for v in value if v != 0)
                negate = f.operator == "NIN"
                inner = Filter(f.field, f.kind, "IN", rest, f.path)
                sql = f"({column} IS NULL OR {scalar(q, inner, column, cast='::bigint')})"
                return negated(sql) if negate else sql
        elif value == 0 and f.operator in ("=", "!="):
            f = Filter(f.field, f.kind, f.operator, None, f.path)
        return scalar(q, f, column, cast="::bigint")

    return resolve


def _column(column: str, cast: str = "") -> Callable[[Compiler, Filter, bool], str]:
    return lambda q, f, modern: scalar(q, f, column, cast=cast)


def _contact_ids(q: Compiler, f: Filter, modern: bool) -> str:
    return membership(
        q, f, "c.id IN (SELECT cc.conversation_id FROM conversation_contacts cc WHERE {})",
        "cc.contact_id",
        empty="(NOT EXISTS (SELECT 1 FROM conversation_contacts cc"
        " WHERE cc.conversation_id = c.id))",
    )  # fmt: skip


def _tag_numbers(value: Any, operator: str) -> tuple[int, ...]:
    """The tag ids of an `=` or `IN` value, as integers (so that the tag index serves the
    lookup); an id that is not a number matches no tag."""
    values = [value] if operator == "=" else list(value)
    return tuple(sorted({n for v in values if (n := parse_digits(v, 18)) is not None}))


def _tag_ids(q: Compiler, f: Filter, modern: bool) -> str:
    operator, negate = _split(f)
    empty = "(NOT EXISTS (SELECT 1 FROM conversation_tags ct WHERE ct.conversation_id = c.id))"
    if operator in ("=", "IN") and f.value is not None:
        inner = Filter(f.field, Kind.INTEGER, "IN", _tag_numbers(f.value, operator), f.path)
        sql = (
            "(c.id IN (SELECT ct.conversation_id FROM conversation_tags ct WHERE "
            + scalar(q, inner, "ct.tag_id", cast="::bigint")
            + "))"
        )
        return negated(sql) if negate else sql
    return membership(
        q, f, "c.id IN (SELECT ct.conversation_id FROM conversation_tags ct WHERE {})",
        "CAST(ct.tag_id AS TEXT)", empty=empty,
    )  # fmt: skip


def _teammate_ids(q: Compiler, f: Filter, modern: bool) -> str:
    if q.pg:
        elements = (
            "EXISTS (SELECT 1 FROM jsonb_array_elements_text(c.teammate_ids::jsonb) AS t(v)"
            " WHERE {})"
        )
        element = "t.v"
    else:
        elements = "EXISTS (SELECT 1 FROM json_each(c.teammate_ids) t WHERE {})"
        element = "CAST(t.value AS TEXT)"
    return membership(q, f, elements, element, empty="(c.teammate_ids = '[]')")


_CONVERSATION: dict[str, Callable[[Compiler, Filter, bool], str]] = {
    "id": _conversation_id,
    "created_at": _column("c.created_at", "::bigint"),
    "updated_at": _column("c.updated_at", "::bigint"),
    "waiting_since": _column("c.waiting_since", "::bigint"),
    "snoozed_until": _column("c.snoozed_until", "::bigint"),
    "source.type": _column("c.source_type"),
    "channel_initiated": _column("c.source_type"),
    "source.id": _column("c.source_id"),
    "source.delivered_as": _column("c.source_delivered_as"),
    "source.subject": _column("c.source_subject"),
    "source.url": _column("c.source_url"),
    "source.body": lambda q, f, m: words_predicate(q, f, parts=False),
    "conversation_parts.body": lambda q, f, m: words_predicate(q, f, parts=True),
    "source.author.id": _author_id,
    "source.author.type": _author_type,
    "source.author.name": lambda q, f, m: _author(q, f, "name", None),
    "source.author.email": _author_email,
    "contact_ids": _contact_ids,
    "teammate_ids": _teammate_ids,
    "tag_ids": _tag_ids,
    "admin_assignee_id": _assignee("c.admin_assignee_id"),
    "team_assignee_id": _assignee("c.team_assignee_id"),
    "open": _column("(c.state <> 'closed')"),
    "read": _column("c.read"),
    "state": _column("c.state"),
    "priority": _priority,
    "ai_agent_participated": _column("c.ai_agent_participated"),
}


@dataclass(frozen=True, slots=True)
class Compiled:
    where: str
    params: dict[str, Any]
    count: str | None = None  # a cheaper exact count than COUNT(*) over `where`, if there is one
    reads_json: bool = False  # the filter reads members of JSON columns (costly per row)
    full_text: bool = False  # the filter matches words
    # (a bounded count of the conversations outside the workspace's visible ones, the count to
    # use when that is at most FEW): a query that is one word filter (_word_count)
    word_count: tuple[str, str] | None = None


def compile_conversations(
    dialect: str, workspace_id: str, node: Node | None, *, modern: bool
) -> Compiled:
    q = Compiler(dialect, workspace_id)
    q.params["visible"] = True
    where = "c.workspace_id = :ws AND c.visible = :visible"
    if node is not None:
        where += " AND " + q.node(node, conversation_filter(modern))
    return Compiled(
        where, q.params, _tag_count(q, node), q.reads_json, q.full_text, _word_count(q, node)
    )


def _tag_count(q: Compiler, node: Node | None) -> str | None:
    """The count of a query that is one positive tag filter (`tag_ids` = or IN), read from the
    tag index alone. The general count checks every match against the conversations
    (workspace, visible): 120 ms for the 64k conversations of two tags at 1M. Here the
    workspace is the tags' own (a tag is applied only within its workspace) and the few hidden
    conversations (admin-initiated, unanswered) are taken out as a set."""
    if not isinstance(node, Filter) or node.field != "tag_ids" or node.value is None:
        return None
    if node.operator not in ("=", "IN"):
        return None
    numbers = _tag_numbers(node.value, node.operator)
    if not numbers:
        return None
    marks = ", ".join(q.param(n) for n in numbers)
    q.params["hidden"] = False
    counted = "COUNT(*)" if len(numbers) == 1 else "COUNT(DISTINCT ct.conversation_id)"
    return (
        f"SELECT {counted} FROM conversation_tags ct"
        " WHERE ct.tag_id IN (SELECT t.id FROM tags t WHERE t.workspace_id = :ws"
        f" AND t.id IN ({marks}))"
        " AND ct.conversation_id NOT IN (SELECT h.id FROM conversations h"
        " WHERE h.workspace_id = :ws AND h.visible = :hidden)"
    )


# At or below this many matches, PostgreSQL is always told not to walk the id index for the
# order (see conversation_page); and at most this many conversations outside a workspace's
# visible ones let a word filter be counted from the word index (_word_count).
FEW = 2000

# The ids of the conversations that are not the workspace's visible ones: its hidden ones and
# every other workspace's, as three index ranges (an OR, or a `<>`, is a scan of them all).
_OTHERS = (
    "SELECT h.id FROM conversations h WHERE h.workspace_id = :ws AND h.visible = :hidden"
    " UNION ALL SELECT h.id FROM conversations h WHERE h.workspace_id < :ws"
    " UNION ALL SELECT h.id FROM conversations h WHERE h.workspace_id > :ws"
)


def _word_count(q: Compiler, node: Node | None) -> tuple[str, str] | None:
    """The count of a query that is one positive word filter, from the word index: the number
    of conversations with matching words, minus those among them that are not the workspace's
    visible ones. The general count checks every matched conversation against (workspace,
    visible): ~92k probes for a topic word's parts at 1M (75 of SQLite's 88 ms; on PostgreSQL a
    join with the workspace's million index entries). Every indexed body belongs to a stored
    conversation (the index is written and emptied with it), so the subtraction is exact; it is
    cheap while the others are few (FEW), which is checked first (conversation_count): a store
    holding one workspace has only its hidden ones (admin-initiated, unanswered)."""
    if not isinstance(node, Filter) or q.words is None:
        return None
    if node.field not in ("source.body", "conversation_parts.body"):
        return None
    if node.operator not in ("=", "IN", "~", "^"):
        return None
    parts, match = q.words
    q.params["hidden"] = False
    bound = f"SELECT COUNT(*) FROM (SELECT o.id FROM ({_OTHERS}) o LIMIT {FEW + 1}) b"
    if q.pg:
        table = "conversation_part_words" if parts else "conversation_source_words"
        counted = "COUNT(DISTINCT w.conversation_id)" if parts else "COUNT(*)"
        matched = f"SELECT {counted} FROM {table} w WHERE w.words @@ to_tsquery('simple', {match})"
        other = (
            f"EXISTS (SELECT 1 FROM {table} w WHERE w.conversation_id = o.id"
            f" AND w.words @@ to_tsquery('simple', {match}))"
        )
    elif parts:
        key = fulltext.part_conversation("rowid")
        matched = (
            f"SELECT COUNT(DISTINCT {key}) FROM conversation_part_fts"
            f" WHERE conversation_part_fts MATCH {match}"
        )
        # A conversation's part keys are one range of rowids (db/fulltext.py, part_key).
        other = (
            "EXISTS (SELECT 1 FROM conversation_part_fts WHERE conversation_part_fts MATCH"
            f" {match} AND rowid BETWEEN (o.id << {fulltext.PART_BITS})"
            f" AND (o.id << {fulltext.PART_BITS}) + {(1 << fulltext.PART_BITS) - 1})"
        )
    else:
        matched = (
            "SELECT COUNT(*) FROM conversation_source_fts"
            f" WHERE conversation_source_fts MATCH {match}"
        )
        other = (
            "EXISTS (SELECT 1 FROM conversation_source_fts WHERE conversation_source_fts MATCH"
            f" {match} AND rowid = o.id)"
        )
    counted_sql = f"SELECT ({matched}) - (SELECT COUNT(*) FROM ({_OTHERS}) o WHERE {other})"
    return bound, counted_sql


async def conversation_page(
    tx: Transaction,
    compiled: Compiled,
    *,
    select: str,
    limit: int,
    after: int | None,
    matches: int | None = None,
) -> list[Row]:
    """`select`: the conversation SELECT … FROM conversations c … (db/conversations.py).

    `matches`: the exact count, when already known. PostgreSQL's planner, given ORDER BY id
    LIMIT n, likes to walk the primary key backwards until n rows pass the filter — right for a
    broad filter, disastrous for a selective one whose size it cannot estimate (an email
    matching 9 conversations walked 988k rows, 1.4 s). Knowing the count, a small result set is
    ordered by `c.id + 0`, which the index cannot provide: the planner then finds the matches
    first and sorts them (top-N). The order is the same.

    Small means at most FEW, or, when the filter reads JSON members (statistics, custom
    attributes: parsed for every row the walk reads), fewer than the walk would read: matches
    spread over the ids, the walk reads about n × population / matches rows to find n, the
    other way reads the matches, so the walk wins only above sqrt(n × population) matches
    (population: the workspace's visible conversations, a read of their kept count)
    (4.6k of 1M for a page of 21; a statistics range of 3.9k matches walked 5k rows, 97 ms). A
    cheap filter walks faster than random row reads (a 10k-match walk's pages: 18 ms walking,
    94 ms the other way), so it keeps FEW.

    Found first, the page selects the 20 newest ids among the matches, then their rows: the
    ids can come from an index alone (a statistics range: 3.9k matches at 1M), where reading the
    matches' rows to sort them cost ~4k random heap reads."""
    where = compiled.where
    params = {**compiled.params, "limit": limit}
    if after is not None:
        where += " AND c.id < :after"
        params["after"] = after
    if (
        tx.dialect == "postgresql"
        and matches is not None
        and await _few(tx, compiled, matches, limit)
    ):
        return await tx.fetch_all(
            f"{select} WHERE c.id IN (SELECT c.id FROM conversations c WHERE {where}"
            " ORDER BY (c.id + 0) DESC LIMIT :limit) ORDER BY c.id DESC",
            params,
        )
    return await tx.fetch_all(f"{select} WHERE {where} ORDER BY c.id DESC LIMIT :limit", params)


async def _few(tx: Transaction, compiled: Compiled, matches: int, limit: int) -> bool:
    if matches <= FEW:
        return True
    if not compiled.reads_json:
        return False
    population = await conversations.count_visible(tx, compiled.params["ws"])
    return matches <= math.isqrt(limit * population)


# PostgreSQL's work_mem for counting word matches: with the default 4 MB a bitmap of ~100k
# matched rows (a topic word's parts at 1M conversations) turns lossy, and every row of its
# lossy pages is read and matched again (266k rows, ~15% of the count's time). Set for the
# connection: the pool's release resets it (asyncpg runs RESET ALL), and search reads run
# without a transaction block, where SET LOCAL would not last to the next statement.
FULL_TEXT_WORK_MEM = "64MB"


async def conversation_count(tx: Transaction, compiled: Compiled) -> int:
    sql = compiled.count or f"SELECT COUNT(*) FROM conversations c WHERE {compiled.where}"
    if compiled.full_text and tx.dialect == "postgresql":
        await tx.execute(f"SET work_mem = '{FULL_TEXT_WORK_MEM}'")
    if compiled.word_count is not None:
        bound, counted = compiled.word_count
        if int(await tx.fetch_val(bound, compiled.params)) <= FEW:
            return int(await tx.fetch_val(counted, compiled.params))
    return int(await tx.fetch_val(sql, compiled.params))


# ------------------------------------------------------------------------------ contacts


def _day_bounds(value: int, tz: ZoneInfo) -> tuple[int, int]:
    """The workspace-timezone calendar day containing `value` (a timestamp of 1970-9999, as the
    language checks): [start, end).

    Python's dates end with 9999-12-31: that day has no next midnight for datetime, and east of
    UTC the last hours of 9999 are local 10000-01-01, which datetime cannot hold. Those days are
    counted in seconds from the midnight before them (no zone changes its offset at New Year)."""
    try:
        moment = datetime.fromtimestamp(value, tz)
    except (OverflowError, ValueError):  # local 10000-01-01: the day after local 9999-12-31
        start = _midnight(datetime.fromtimestamp(value - DAY_SECONDS, tz))
        return int(start.timestamp()) + DAY_SECONDS, int(start.timestamp()) + 2 * DAY_SECONDS
    start = _midnight(moment)
    if start.date() == date.max:
        return int(start.timestamp()), int(start.timestamp()) + DAY_SECONDS
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp())


DAY_SECONDS = 86_400


def _midnight(moment: datetime) -> datetime:
    """The local midnight that begins `moment`'s day."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


_CONTACT_COLUMNS = {
    "id": "k.id", "role": "k.role", "name": "k.name", "avatar": "k.avatar_url",
    "phone": "k.phone", "external_id": "k.external_id",
    "language_override": "k.language_override",
}  # fmt: skip
_CONTACT_DAYS = {
    "created_at": "k.created_at", "updated_at": "k.updated_at",
    "signed_up_at": "k.signed_up_at", "last_seen_at": "k.last_seen_at",
    "last_replied_at": "k.last_replied_at", "last_contacted_at": "k.last_contacted_at",
}  # fmt: skip


def contact_filter(tz: ZoneInfo) -> Callable[[Compiler, Filter], str]:
    def resolve(q: Compiler, f: Filter) -> str:
        name = f.field
        if name.startswith(CUSTOM_PREFIX):
            return custom_attribute(q, f, "k.custom_attributes")
        if name in _CONTACT_COLUMNS:
            return scalar(q, f, _CONTACT_COLUMNS[name])
        if name == "email":
            return scalar(q, f, "k.email", null_as="")
        if name == "email_domain":
            domain = (
                "lower(split_part(k.email, '@', 2))"
                if q.pg
                else "lower(substr(k.email, instr(k.email, '@') + 1))"
            )
            return scalar(q, f, f"(CASE WHEN k.email LIKE '%@%' THEN {domain} END)", null_as="")
        if name == "owner_id":
            return scalar(q, f, "k.owner_id", cast="::bigint")
        if name in ("unsubscribed_from_emails", "marked_email_as_spam", "has_hard_bounced"):
            return scalar(q, f, f"k.{name}")
        if f.kind is Kind.DAY:
            column = _CONTACT_DAYS.get(name)
            if column is None:
                return FALSE  # never recorded by Parley: null, which no day matches
            start, end = _day_bounds(f.value, tz)
            if f.operator == "=":
                return f"({column} >= {q.param(start)} AND {column} < {q.param(end)})"
            if f.operator == ">":
                return f"({column} >= {q.param(end)})"
            return f"({column} < {q.param(start)})"
        if name == "tag_id":
            negate = f.operator == "!="
            tag = parse_digits(str(f.value), 18)
            sql = (
                "(k.id IN (SELECT kt.contact_id FROM contact_tags kt"
                f" WHERE kt.tag_id = {q.param(-1 if tag is None else tag)}"  # -1: no tag's id
                f"{'::bigint' if q.pg else ''}))"
            )
            return negated(sql) if negate else sql
        # segment_id and the device/browser/location fields: Parley records none of them.
        if f.kind is Kind.MEMBER:
            return FALSE if f.operator == "=" else TRUE
        return constant_null(f)

    return resolve


def compile_contacts(dialect: str, workspace_id: str, node: Node | None, tz: ZoneInfo) -> Compiled:
    q = Compiler(dialect, workspace_id)
    q.params["archived"] = False
    where = "k.workspace_id = :ws AND k.archived = :archived"
    if node is not None:
        where += " AND " + q.node(node, contact_filter(tz))
    return Compiled(where, q.params)


async def contact_page(
    tx: Transaction, compiled: Compiled, *, limit: int, after: tuple[int, str] | None
) -> list[Row]:
    where = compiled.where
    params = {**compiled.params, "limit": limit}
    if after is not None:
        where += " AND (k.created_at < :a_at OR (k.created_at = :a_at AND k.id < :a_id))"
        params["a_at"], params["a_id"] = after
    return await tx.fetch_all(
        f"SELECT k.* FROM contacts k WHERE {where}"
        " ORDER BY k.created_at DESC, k.id DESC LIMIT :limit",
        params,
    )


async def contact_count(tx: Transaction, compiled: Compiled) -> int:
    return int(
        await tx.fetch_val(
            f"SELECT COUNT(*) FROM contacts k WHERE {compiled.where}", compiled.params
        )
    )
