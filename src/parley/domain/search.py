"""The search query language (`POST /conversations/search`, `POST /contacts/search`): parsing and
validation into a small tree, with no SQL and no I/O (db/search.py compiles the tree).

A query is a single filter `{field, operator, value}` or a group `{operator: AND|OR, value: [..]}`
whose members are filters or groups (mixed arrays accepted, as the 2.11 schema had them). Groups
nest at most 2 levels and hold at most 15 members. Every problem is a 400 `parameter_invalid`
whose message and `field` name the place in the query (`query.value[1].operator`).

Field kinds and their operators:

| kind | operators | values |
|---|---|---|
| string | = != IN NIN ~ !~ ^ $ | string (an integer is read as its decimal string); null: = != |
| words (`source.body`, `conversation_parts.body`) | = != IN NIN ~ !~ ^ | string |
| integer, date | = != IN NIN < > <= >= | integer or numeric string; null with = != |
| boolean | = != IN NIN | true/false (or "true"/"false"); null with = != |
| day (contact dates) | = < > | integer or numeric string (matched by calendar day) |
| member (contact `tag_id`, `segment_id`) | = != | string or integer id |
| custom (`custom_attributes.*`) | by the value's JSON type: string, number or boolean rules | |
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from parley.errors import InvalidParameter
from parley.kit.clock import MAX_TIMESTAMP
from parley.kit.numbers import is_int64

MAX_DEPTH = 2
MAX_GROUP = 15
MAX_LIST = 500
MAX_INT = 2**63 - 1
# A calendar day (contact dates) is one of years 1970-9999, as every stored timestamp is: Python's
# dates end with 9999, and a day of a timestamp before 1970 would be a day no contact has.
CUSTOM_PREFIX = "custom_attributes."


class Kind(Enum):
    STRING = "string"
    WORDS = "words"
    INTEGER = "integer"
    DATE = "date"
    BOOLEAN = "boolean"
    DAY = "day"
    MEMBER = "member"
    CUSTOM = "custom"  # resolved per filter to STRING, NUMBER, BOOLEAN or NULL
    NUMBER = "number"  # a custom attribute compared as a number (int or float)
    NULL = "null"  # a custom attribute compared with null


_EQUALITY = ("=", "!=", "IN", "NIN")
_ORDER = ("<", ">", "<=", ">=")
_TEXT = ("~", "!~", "^", "$")
OPERATORS: dict[Kind, tuple[str, ...]] = {
    Kind.STRING: (*_EQUALITY, *_TEXT),
    Kind.WORDS: (*_EQUALITY, "~", "!~", "^"),
    Kind.INTEGER: (*_EQUALITY, *_ORDER),
    Kind.DATE: (*_EQUALITY, *_ORDER),
    Kind.NUMBER: (*_EQUALITY, *_ORDER),
    Kind.BOOLEAN: _EQUALITY,
    Kind.DAY: ("=", "<", ">"),
    Kind.MEMBER: ("=", "!="),
    Kind.NULL: ("=", "!="),
}
ALL_OPERATORS = (*_EQUALITY, *_ORDER, *_TEXT)
NEGATIONS = {"!=": "=", "NIN": "IN", "!~": "~"}
_INTEGER_TEXT = re.compile(r"^-?[0-9]{1,19}$")  # not \d: it matches other scripts' digits too


@dataclass(frozen=True, slots=True)
class Catalog:
    """The searchable fields of one resource. With `inclusive_bounds`, `>` and `<` include the
    bound (the conversation table documents them as "Greater (or equal)"/"Lower (or equal)")."""

    resource: str
    fields: Mapping[str, Kind]
    inclusive_bounds: bool


@dataclass(frozen=True, slots=True)
class Filter:
    field: str  # as sent, e.g. "statistics.count_reopens", "custom_attributes.plan"
    kind: Kind  # resolved: never CUSTOM
    operator: str  # one of ALL_OPERATORS; `>`/`<` already turned into `>=`/`<=` if inclusive
    value: Any  # a scalar (None for null), or a tuple for IN/NIN
    path: str  # where it was in the query, for messages


@dataclass(frozen=True, slots=True)
class Group:
    operator: str  # AND | OR
    members: tuple[Node, ...]


Node = Filter | Group


def _bad(path: str, message: str) -> InvalidParameter:
    return InvalidParameter(f"{path}: {message}", field=path)


def parse(raw: Any, catalog: Catalog) -> Node:
    """The query tree, or InvalidParameter naming the first problem found."""
    return _node(raw, catalog, "query", 0)


def _node(raw: Any, catalog: Catalog, path: str, depth: int) -> Node:
    if not isinstance(raw, dict):
        raise _bad(path, "must be an object: a filter {field, operator, value} or a group")
    if "field" in raw:
        return _filter(raw, catalog, path)
    operator = raw.get("operator")
    if not isinstance(operator, str) or operator.upper() not in ("AND", "OR"):
        raise _bad(
            f"{path}.operator", "a group's operator must be AND or OR (a filter needs a field)"
        )
    if depth >= MAX_DEPTH:
        raise _bad(path, f"groups can be nested at most {MAX_DEPTH} levels deep")
    members = raw.get("value")
    if not isinstance(members, list) or not members:
        raise _bad(f"{path}.value", "a group's value must be a non-empty array of filters")
    if len(members) > MAX_GROUP:
        raise _bad(f"{path}.value", f"a group can hold at most {MAX_GROUP} filters")
    return Group(
        operator.upper(),
        tuple(
            _node(member, catalog, f"{path}.value[{i}]", depth + 1)
            for i, member in enumerate(members)
        ),
    )


def field_kind(name: str, catalog: Catalog) -> Kind | None:
    kind = catalog.fields.get(name)
    if kind is None and name.startswith(CUSTOM_PREFIX) and len(name) > len(CUSTOM_PREFIX):
        return Kind.CUSTOM
    return kind


def _filter(raw: dict[str, Any], catalog: Catalog, path: str) -> Filter:
    name = raw["field"]
    if not isinstance(name, str):
        raise _bad(f"{path}.field", "must be a string")
    kind = field_kind(name, catalog)
    if kind is None:
        raise _bad(f"{path}.field", f"{name!r} is not a searchable {catalog.resource} field")
    if kind is Kind.CUSTOM:
        problem = attribute_name_problem(name.removeprefix("custom_attributes."))
        if problem is not None:
            raise _bad(f"{path}.field", problem)
    operator = raw.get("operator")
    if not isinstance(operator, str) or operator.upper() not in ALL_OPERATORS:
        raise _bad(
            f"{path}.operator", f"must be one of {', '.join(ALL_OPERATORS)}; got {operator!r}"
        )
    operator = operator.upper()
    if "value" not in raw:
        raise _bad(f"{path}.value", "is required")
    value = raw["value"]
    listed = operator in ("IN", "NIN")
    if listed != isinstance(value, list):
        message = (
            "must be an array for IN and NIN" if listed else f"cannot be an array for {operator}"
        )
        raise _bad(f"{path}.value", message)
    if kind is Kind.CUSTOM:
        kind = _custom_kind(value, f"{path}.value")
    if operator not in OPERATORS[kind]:
        raise _bad(
            f"{path}.operator",
            f"{operator} is not valid for {name} ({kind.value}); use one of"
            f" {', '.join(OPERATORS[kind])}",
        )
    if listed:
        if len(value) > MAX_LIST:
            raise _bad(f"{path}.value", f"at most {MAX_LIST} values")
        coerced: Any = tuple(
            _value(kind, item, f"{path}.value[{i}]", nullable=False) for i, item in enumerate(value)
        )
    else:
        coerced = _value(kind, value, f"{path}.value", nullable=operator in ("=", "!="))
    if catalog.inclusive_bounds and operator in ("<", ">"):
        operator += "="
    return Filter(name, kind, operator, coerced, path)


def attribute_name_problem(name: str) -> str | None:
    """Why `name` cannot be a custom attribute's, or None. The rule for writing one (contacts
    and conversations) and for searching by one, so that every stored attribute can be
    searched: not blank, and none of the characters a SQLite JSON path cannot quote (`"`, `\\`)
    or that ends a C string (NUL)."""
    if not name.strip():
        return "custom attribute names must not be empty"
    if '"' in name or "\\" in name or "\x00" in name:
        return "custom attribute names cannot contain quotes, backslashes or NUL characters"
    return None


def attribute_value_problem(value: Any) -> str | None:
    """Why `value` cannot be a custom attribute's value, or None. The rule for writing one
    (contacts and conversations), so that every stored value can be searched: a string, a
    boolean, a float or an integer that a 64-bit search value holds, or null (which clears)."""
    if value is not None and not isinstance(value, str | int | float | bool):
        return "must be a string, number, boolean or null"
    if isinstance(value, int) and not isinstance(value, bool) and not is_int64(value):
        return "number out of range"
    return None


def _custom_kind(value: Any, path: str) -> Kind:
    """A custom attribute is typed by the value searched for (docs/behaviour.md, Search)."""
    items = value if isinstance(value, list) else [value]
    kinds = {_json_kind(item) for item in items}
    if len(kinds) > 1:
        raise _bad(path, "the values of one filter must all have the same type")
    kind = kinds.pop() if kinds else Kind.STRING
    if kind is None:
        raise _bad(path, "must be a string, number, boolean or null")
    return kind


def _json_kind(value: Any) -> Kind | None:
    if value is None:
        return Kind.NULL
    if isinstance(value, bool):
        return Kind.BOOLEAN
    if isinstance(value, int | float):
        return Kind.NUMBER
    if isinstance(value, str):
        return Kind.STRING
    return None


def _value(kind: Kind, value: Any, path: str, *, nullable: bool) -> Any:
    if value is None:
        if nullable and kind not in (Kind.DAY, Kind.MEMBER, Kind.WORDS):
            return None
        raise _bad(path, "cannot be null here")
    if kind in (Kind.STRING, Kind.WORDS, Kind.MEMBER):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str):
            if "\x00" in value:  # SQLite's LIKE would stop reading the pattern there
                raise _bad(path, "cannot contain NUL characters")
            return value
        raise _bad(path, f"must be a string; got {_type_name(value)}")
    if kind in (Kind.INTEGER, Kind.DATE, Kind.DAY):
        if isinstance(value, str) and _INTEGER_TEXT.match(value.strip()):
            value = int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > MAX_INT:
                raise _bad(path, "is out of range")
            if kind is Kind.DAY and not 0 <= value <= MAX_TIMESTAMP:
                raise _bad(path, f"must be a unix timestamp from 0 to {MAX_TIMESTAMP}")
            return value
        expected = "a unix timestamp" if kind is not Kind.INTEGER else "an integer"
        raise _bad(path, f"must be {expected}; got {_type_name(value)}")
    if kind is Kind.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _bad(path, f"must be a boolean; got {_type_name(value)}")
    if kind is Kind.NUMBER:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, int) and abs(value) > MAX_INT:
                raise _bad(path, "is out of range")
            if isinstance(value, float) and value != value:  # NaN cannot arrive in JSON; be sure
                raise _bad(path, "must be a number")
            return value
        raise _bad(path, f"must be a number; got {_type_name(value)}")
    return value  # Kind.NULL: only None reaches here, handled above


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


# ------------------------------------------------------------------------------ catalogs

_S, _I, _D, _B = Kind.STRING, Kind.INTEGER, Kind.DATE, Kind.BOOLEAN

STATISTICS: dict[str, Kind] = {
    "time_to_assignment": _I, "time_to_admin_reply": _I, "time_to_first_close": _I,
    "time_to_last_close": _I, "median_time_to_reply": _I, "first_contact_reply_at": _D,
    "first_assignment_at": _D, "first_admin_reply_at": _D, "first_close_at": _D,
    "last_assignment_at": _D, "last_assignment_admin_reply_at": _D,
    "last_contact_reply_at": _D, "last_admin_reply_at": _D, "last_close_at": _D,
    "last_closed_by_id": _S, "count_reopens": _I, "count_assignments": _I,
    "count_conversation_parts": _I,
}  # fmt: skip

CONVERSATION_FIELDS: dict[str, Kind] = {
    "id": _S, "created_at": _D, "updated_at": _D,
    "source.type": _S, "source.id": _S, "source.delivered_as": _S, "source.subject": _S,
    "source.body": Kind.WORDS, "source.author.id": _S, "source.author.type": _S,
    "source.author.name": _S, "source.author.email": _S, "source.url": _S,
    "contact_ids": _S, "teammate_ids": _S, "admin_assignee_id": _I, "team_assignee_id": _I,
    "channel_initiated": _S, "open": _B, "read": _B, "state": _S, "waiting_since": _D,
    "snoozed_until": _D, "tag_ids": _S, "priority": _S,
    **{f"statistics.{key}": kind for key, kind in STATISTICS.items()},
    "conversation_rating.requested_at": _D, "conversation_rating.replied_at": _D,
    "conversation_rating.score": _I, "conversation_rating.remark": _S,
    "conversation_rating.contact_id": _S, "conversation_rating.admin_d": _S,
    "conversation_rating.admin_id": _S,  # the evident spelling of the description's admin_d
    "ai_agent_participated": _B, "ai_agent.resolution_state": _S,
    "ai_agent.last_answer_type": _S, "ai_agent.rating": _I, "ai_agent.rating_remark": _S,
    "ai_agent.source_type": _S, "ai_agent.source_title": _S,
    # Parley's extension: the words of the conversation's parts (replies, notes...).
    "conversation_parts.body": Kind.WORDS,
}  # fmt: skip

CONTACT_DAY_FIELDS = (
    "created_at", "updated_at", "signed_up_at", "last_seen_at", "last_replied_at",
    "last_contacted_at", "last_email_opened_at", "last_email_clicked_at",
    "android_last_seen_at", "ios_last_seen_at",
)  # fmt: skip
CONTACT_NULL_STRINGS = (
    "browser", "browser_version", "browser_language", "os", "location.country",
    "location.region", "location.city", "android_app_name", "android_app_version",
    "android_device", "android_os_version", "android_sdk_version", "ios_app_name",
    "ios_app_version", "ios_device", "ios_os_version", "ios_sdk_version",
)  # fmt: skip

CONTACT_FIELDS: dict[str, Kind] = {
    "id": _S, "role": _S, "name": _S, "avatar": _S, "owner_id": _I, "email": _S,
    "email_domain": _S, "phone": _S, "external_id": _S, "language_override": _S,
    "unsubscribed_from_emails": _B, "marked_email_as_spam": _B, "has_hard_bounced": _B,
    "tag_id": Kind.MEMBER, "segment_id": Kind.MEMBER,
    **{name: Kind.DAY for name in CONTACT_DAY_FIELDS},
    **{name: _S for name in CONTACT_NULL_STRINGS},
}  # fmt: skip

CONVERSATIONS = Catalog("conversation", CONVERSATION_FIELDS, inclusive_bounds=True)
CONTACTS = Catalog("contact", CONTACT_FIELDS, inclusive_bounds=False)
