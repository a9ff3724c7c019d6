"""Property: for random queries over a random dataset, POST /conversations/search returns exactly
the conversations that the same filter selects when evaluated in Python over the rendered
conversations (GET /conversations/{id}), in id-descending order, with the right total_count."""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.db.database import Database
from parley.kit.clock import FrozenClock
from parley.kit.ids import IdFactory
from parley.services.workspaces import CreatedWorkspace
from tests.conftest import START, ValidatingClient
from tests.factories import create_admin, create_contact, create_tag, create_team

VOCABULARY = ["billing", "refund", "login", "error", "thanks", "please", "broken", "invoice"]
NEGATIONS = {"!=": "=", "NIN": "IN", "!~": "~"}


@dataclass
class Dataset:
    api: ValidatingClient
    conversations: list[dict[str, Any]]  # rendered, with parts; newest first
    admins: list[int]
    teams: list[int]
    tags: list[int]
    contacts: list[str]
    times: list[int]


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 5)))


@pytest.fixture
async def dataset(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> Dataset:
    rng = random.Random(20261130)
    owner = workspace.owner_admin_id
    admins = [owner, await create_admin(db, workspace, clock, name="Al Agent", email="al@x.io")]
    teams = [await create_team(db, workspace, clock, name="Tier 1")]
    tags = [await create_tag(db, workspace, clock, name=n) for n in ("red", "green", "blue")]
    contacts = [
        await create_contact(db, workspace, ids, clock, email="u1@example.com", name="Uma"),
        await create_contact(db, workspace, ids, clock, role="lead", email="l1@corp.io"),
        await create_contact(db, workspace, ids, clock, role="lead"),
    ]
    roles = ["user", "lead", "lead"]

    async def ok(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await api.request(method, path, json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    created: list[str] = []
    for _ in range(14):
        clock.advance(rng.randint(1, 50))
        k = rng.randrange(3)
        body = {"from": {"type": roles[k], "id": contacts[k]}, "body": _sentence(rng)}
        cid = str((await ok("POST", "/conversations", body))["conversation_id"])
        created.append(cid)
        for _ in range(rng.randint(0, 4)):
            clock.advance(rng.randint(1, 30))
            admin = str(rng.choice(admins))
            action = rng.randrange(8)
            if action == 0:
                await ok(
                    "POST",
                    f"/conversations/{cid}/reply",
                    {
                        "message_type": "comment",
                        "type": "admin",
                        "admin_id": admin,
                        "body": f"<p>{_sentence(rng)} &amp; <b>{rng.choice(VOCABULARY)}</b></p>",
                    },
                )
            elif action == 1:
                await ok(
                    "POST",
                    f"/conversations/{cid}/reply",
                    {
                        "message_type": "note",
                        "type": "admin",
                        "admin_id": admin,
                        "body": _sentence(rng),
                    },
                )
            elif action == 2:
                await ok(
                    "POST",
                    f"/conversations/{cid}/reply",
                    {
                        "message_type": "comment",
                        "type": roles[k],
                        "intercom_user_id": contacts[k],
                        "body": _sentence(rng),
                    },
                )
            elif action == 3:
                await ok(
                    "POST",
                    f"/conversations/{cid}/parts",
                    {"message_type": "close", "type": "admin", "admin_id": admin},
                )
            elif action == 4:
                await ok(
                    "POST",
                    f"/conversations/{cid}/parts",
                    {
                        "message_type": "snoozed",
                        "admin_id": admin,
                        "snoozed_until": clock.now() + 1000,
                    },
                )
            elif action == 5:
                kind = rng.choice(["admin", "team"])
                target = rng.choice(admins if kind == "admin" else teams)
                await ok(
                    "POST",
                    f"/conversations/{cid}/parts",
                    {
                        "message_type": "assignment",
                        "type": kind,
                        "admin_id": admin,
                        "assignee_id": str(target),
                    },
                )
            elif action == 6:
                await ok(
                    "POST",
                    f"/conversations/{cid}/tags",
                    {"id": str(rng.choice(tags)), "admin_id": admin},
                )
            else:
                await ok(
                    "PUT",
                    f"/conversations/{cid}",
                    {
                        "custom_attributes": {
                            "plan": rng.choice(["free", "pro", "team"]),
                            "seats": rng.randint(1, 4),
                        }
                    },
                )
    # Redact one part and one source: their words stop matching.
    first = (await api.get(f"/conversations/{created[0]}")).json()
    await ok(
        "POST",
        "/conversations/redact",
        {"type": "source", "conversation_id": created[0], "source_id": first["source"]["id"]},
    )
    rendered = [(await api.get(f"/conversations/{cid}")).json() for cid in reversed(created)]
    times = sorted({c[k] for c in rendered for k in ("created_at", "updated_at")})
    return Dataset(api, rendered, admins, teams, tags, contacts, times)  # fmt: skip


# ------------------------------------------------------------------------------ evaluation


def _words(body: str | None) -> list[str]:
    if not body:
        return []
    return re.findall(r"[a-z0-9]+", html.unescape(re.sub(r"<[^>]*>", " ", body)).lower())


def _run(doc: list[str], query: list[str], *, prefix: bool) -> bool:
    n = len(query)
    for i in range(len(doc) - n + 1):
        window = doc[i : i + n]
        if window[:-1] == query[:-1] and (
            window[-1].startswith(query[-1]) if prefix else window[-1] == query[-1]
        ):
            return True
    return False


def _doc_matches(doc: list[str], operator: str, value: Any) -> bool:
    if operator == "=":
        q = _words(value)
        return len(q) == 1 and q[0] in doc
    if operator == "IN":
        return any(_doc_matches(doc, "=", v) for v in value)
    q = _words(value)
    return bool(q) and _run(doc, q, prefix=operator == "^")


def _scalar(x: Any, operator: str, value: Any) -> bool:
    if operator == "=":
        return bool(x == value)
    if operator == "IN":
        return x is not None and x in value
    if x is None:
        return False
    if operator in ("<", "<="):
        return bool(x <= value)
    if operator in (">", ">="):
        return bool(x >= value)
    text, needle = str(x).lower(), str(value).lower()
    if operator == "~":
        return needle in text
    if operator == "^":
        return text.startswith(needle)
    return text.endswith(needle)


LISTS = {"contact_ids", "tag_ids", "teammate_ids"}


def _value(conversation: dict[str, Any], field: str) -> Any:
    if field == "contact_ids":
        return [c["id"] for c in conversation["contacts"]["contacts"]]
    if field == "tag_ids":
        return [t["id"] for t in conversation["tags"]["tags"]]
    if field == "teammate_ids":
        return [t["id"] for t in conversation["teammates"]["teammates"]]
    if field.startswith("source.author."):
        return conversation["source"]["author"][field.rsplit(".", 1)[1]]
    if field == "channel_initiated":
        return conversation["source"]["type"]
    if field.startswith("source."):
        return conversation["source"][field.split(".", 1)[1]]
    if field.startswith(("statistics.", "custom_attributes.")):
        group, key = field.split(".", 1)
        return conversation[group].get(key)
    return conversation[field]


def matches(conversation: dict[str, Any], query: dict[str, Any]) -> bool:
    if "field" not in query:
        results = [matches(conversation, member) for member in query["value"]]
        return all(results) if query["operator"] == "AND" else any(results)
    field, operator, value = query["field"], query["operator"], query["value"]
    negate = operator in NEGATIONS
    operator = NEGATIONS.get(operator, operator)
    if field == "source.body":
        source = conversation["source"]
        doc = [] if source["redacted"] else _words(source["body"])
        found = _doc_matches(doc, operator, value)
    elif field == "conversation_parts.body":
        parts = conversation["conversation_parts"]["conversation_parts"]
        found = any(
            _doc_matches(_words(p["body"]), operator, value) for p in parts if not p["redacted"]
        )
    elif field in LISTS:
        elements = _value(conversation, field)
        if operator == "=" and value is None:
            found = not elements
        else:
            found = any(_scalar(e, operator, value) for e in elements)
    else:
        x = _value(conversation, field)
        if field.startswith("custom_attributes.") and value is not None:
            sample = value[0] if isinstance(value, list) and value else value
            if isinstance(sample, str) != isinstance(x, str):
                x = None  # typed by the searched value: another type never matches
        found = _scalar(x, operator, value)
    return found != negate


# ------------------------------------------------------------------------------ strategies


EQUALITY = ["=", "!=", "IN", "NIN"]
STRINGS = [*EQUALITY, "~", "!~", "^", "$"]
ORDER = [*EQUALITY, "<", ">", "<=", ">="]


def _leaf(field: str, ops: list[str], values: st.SearchStrategy[Any]) -> Any:
    """A filter on `field` with one of `ops` and a value (a list of one to three for IN/NIN)."""

    def build(op: str, value: Any, more: list[Any]) -> dict[str, Any]:
        if op in ("IN", "NIN"):
            value = [value, *more]
        return {"field": field, "operator": op, "value": value}

    return st.builds(build, st.sampled_from(ops), values, st.lists(values, max_size=2))


def _filters(d: Dataset) -> st.SearchStrategy[dict[str, Any]]:
    f, equality, strings, order = _leaf, EQUALITY, STRINGS, ORDER
    times = st.sampled_from(d.times) | st.integers(min(d.times) - 5, max(d.times) + 5)
    word = st.sampled_from([*VOCABULARY, "bill", "nothing"])
    phrase = st.lists(word, min_size=1, max_size=2).map(" ".join)
    text = st.sampled_from(["o", "e", "l", "co", "ed", "user", "lead", "admin", "@", "Uma"])
    non_list = [op for op in strings if op not in ("IN", "NIN")]
    return st.one_of(
        f("state", strings, st.sampled_from(["open", "closed", "snoozed", "s", "o"])),
        f("open", equality, st.booleans()),
        f("read", equality, st.booleans()),
        f("admin_assignee_id", order, st.sampled_from(d.admins)),
        f("team_assignee_id", ["=", "!="], st.sampled_from([*d.teams, None])),
        f("created_at", order, times),
        f("updated_at", order, times),
        f("waiting_since", ["=", "!="], st.just(None)),
        f("snoozed_until", ["<", ">"], times),
        f("contact_ids", strings, st.sampled_from(d.contacts)),
        f("contact_ids", ["=", "!="], st.just(None)),
        f("tag_ids", strings, st.sampled_from([str(t) for t in d.tags])),
        f("teammate_ids", equality, st.sampled_from([str(a) for a in d.admins])),
        f("source.author.email", strings, st.sampled_from(["u1@example.com", "l1@corp.io", ""])),
        f("source.author.name", non_list, text),
        f("source.author.type", strings, text),
        f("source.body", ["=", "!=", "IN", "NIN"], word),
        f("source.body", ["~", "!~", "^"], phrase),
        f("conversation_parts.body", ["=", "!=", "IN", "NIN"], word),
        f("conversation_parts.body", ["~", "!~", "^"], phrase),
        f("statistics.count_reopens", order, st.integers(0, 2)),
        f("statistics.count_assignments", order, st.integers(0, 3)),
        f("statistics.time_to_admin_reply", order, st.integers(0, 60)),
        f("statistics.last_close_at", ["<", ">"], times),
        f("priority", strings, st.sampled_from(["priority", "not_priority", "prio"])),
        f("custom_attributes.plan", strings, st.sampled_from(["free", "pro", "team", "r"])),
        f("custom_attributes.seats", order, st.integers(0, 5)),
        f("custom_attributes.seats", ["=", "!="], st.sampled_from(["2", None])),
        f("id", strings, st.sampled_from([c["id"] for c in d.conversations] + ["1", "x"])),
        f("source.type", strings, st.sampled_from(["conversation", "email", "CONV"])),
        f("channel_initiated", strings, st.sampled_from(["conversation", "versation"])),
        f("source.delivered_as", strings, st.sampled_from(["customer_initiated", "customer"])),
        f("source.author.id", strings, st.sampled_from(d.contacts)),
        f("statistics.last_closed_by_id", strings, st.sampled_from([str(a) for a in d.admins])),
        f("statistics.first_close_at", order, times),
    )


def _nested(leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A filter, or AND/OR groups of filters two levels deep (the documented nesting)."""

    def group(members: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.builds(
            lambda op, value: {"operator": op, "value": value},
            st.sampled_from(["AND", "OR"]),
            st.lists(members, min_size=1, max_size=3),
        )

    return leaf | group(leaf) | group(leaf | group(leaf))


def queries(d: Dataset) -> st.SearchStrategy[dict[str, Any]]:
    return _nested(_filters(d))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_search_equals_python_evaluation(dataset: Dataset, data: st.DataObject) -> None:
    query = data.draw(queries(dataset))
    expected = [c["id"] for c in dataset.conversations if matches(c, query)]
    got: list[str] = []
    pagination: dict[str, Any] = {"per_page": 5}
    while True:
        response = await dataset.api.post(
            "/conversations/search", json={"query": query, "pagination": pagination}
        )
        assert response.status_code == 200, (query, response.text)
        body = response.json()
        assert body["total_count"] == len(expected), query
        got.extend(c["id"] for c in body["conversations"])
        if "next" not in body["pages"]:
            break
        pagination = {"per_page": 5, "starting_after": body["pages"]["next"]["starting_after"]}
    assert got == expected, query


# ------------------------------------------------------------------------------ contacts

DAY = 86_400
CONTACT_DAYS = ("created_at", "updated_at", "signed_up_at", "last_seen_at")


@dataclass
class Contacts:
    api: ValidatingClient
    contacts: list[dict[str, Any]]  # rendered (GET /contacts/{id}), not archived
    tags: list[str]
    days: list[int]


@pytest.fixture
async def contact_dataset(
    api: ValidatingClient, clock: FrozenClock, workspace: CreatedWorkspace
) -> Contacts:
    """Users and leads with and without each attribute, custom attributes of every JSON type
    (one name holding several types), several contacts per second and per day, tags, and an
    archived contact (never found)."""
    rng = random.Random(20261201)
    owner = workspace.owner_admin_id
    tags = []
    for name in ("red", "blue"):
        response = await api.post("/tags", json={"name": name})
        assert response.status_code == 200, response.text
        tags.append(str(response.json()["id"]))
    ids: list[str] = []
    for i in range(16):
        clock.advance(rng.choice([0, 0, 7, 3_600, DAY]))
        role = rng.choice(["user", "lead"])
        body: dict[str, Any] = {"role": role}
        if rng.random() < 0.8:
            body["email"] = f"{rng.choice(['ann', 'Bob', 'c_d', '50%'])}{i}@" + rng.choice(
                ["acme.example", "ACME.example", "other.io"]
            )
        if role == "user" and rng.random() < 0.6:
            body["external_id"] = f"{rng.choice(['ext', 'EXT'])}-{i}"
        for key, values in (
            ("name", ["Ann Archer", "ann", "Bob", "c_d e", "100% real"]),
            ("phone", ["+100", "+44 20"]),
            ("language_override", ["en", "fr"]),
            ("owner_id", [owner]),
            ("unsubscribed_from_emails", [True, False]),
            ("signed_up_at", [0, START - DAY, START + 1, START + 2 * DAY - 1]),
            ("last_seen_at", [START, START + DAY]),
        ):
            if rng.random() < 0.5:
                body[key] = rng.choice(values)
        custom = {
            key: rng.choice(values)
            for key, values in (
                ("plan", ["free", "Pro", "pro", ""]),
                ("seats", [0, 1, 2, -3, 2.5, 2**53 + 1]),
                ("beta", [True, False]),
                ("mixed", ["1", 1, True, None, 1.5]),
            )
            if rng.random() < 0.6
        }
        if custom:
            body["custom_attributes"] = custom
        response = await api.post("/contacts", json=body)
        assert response.status_code == 200, (body, response.text)
        ids.append(str(response.json()["id"]))
    for cid in ids:
        if rng.random() < 0.4:
            response = await api.post(f"/contacts/{cid}/tags", json={"id": rng.choice(tags)})
            assert response.status_code == 200, response.text
    response = await api.post(f"/contacts/{ids[3]}/archive")
    assert response.status_code == 200, response.text
    clock.advance(5)
    rendered = [(await api.get(f"/contacts/{cid}")).json() for cid in ids if cid != ids[3]]
    days = sorted({c[k] for c in rendered for k in CONTACT_DAYS if c[k] is not None})
    return Contacts(api, rendered, tags, days)


def _contact_value(contact: dict[str, Any], field: str) -> Any:
    if field == "avatar":
        return (contact["avatar"] or {}).get("image_url")
    if field.startswith("custom_attributes."):
        return contact["custom_attributes"].get(field.split(".", 1)[1])
    if field.startswith("location."):
        return contact["location"][field.split(".", 1)[1]]
    return contact[field]


def _json_type(value: Any) -> str:
    return "boolean" if isinstance(value, bool) else type(value).__name__.replace("int", "float")


def contact_matches(contact: dict[str, Any], query: dict[str, Any]) -> bool:
    if "field" not in query:
        results = [contact_matches(contact, member) for member in query["value"]]
        return all(results) if query["operator"] == "AND" else any(results)
    field, operator, value = query["field"], query["operator"], query["value"]
    if field == "tag_id":
        tagged = value in [t["id"] for t in contact["tags"]["data"]]
        return bool(tagged == (operator == "="))
    if field in CONTACT_DAYS:  # the whole UTC day of `value`: = that day, > after, < before
        x = contact[field]
        start = value - value % DAY
        if x is None:
            return False
        in_day = {"=": start <= x < start + DAY, ">": x >= start + DAY}
        return bool(in_day.get(operator, x < start))
    negate = operator in NEGATIONS
    operator = NEGATIONS.get(operator, operator)
    x = _contact_value(contact, field)
    if field.startswith("custom_attributes.") and value is not None:
        sample = value[0] if isinstance(value, list) else value
        if x is not None and _json_type(x) != _json_type(sample):
            x = None  # typed by the searched value: another type never matches
    if operator == "=":
        found = x == value and (x is None or _json_type(x) == _json_type(value))
    elif operator == "IN":
        found = x is not None and any(x == v and _json_type(x) == _json_type(v) for v in value)
    elif x is None:
        found = False
    elif operator in ("<", ">", "<=", ">="):  # contacts: < and > exclude the bound
        found = {"<": x < value, ">": x > value, "<=": x <= value, ">=": x >= value}[operator]
    else:
        text, needle = str(x).lower(), str(value).lower()
        found = {"~": needle in text, "^": text.startswith(needle), "$": text.endswith(needle)}[
            operator
        ]
    return found != negate


def _contact_filters(d: Contacts) -> st.SearchStrategy[dict[str, Any]]:
    f, equality, strings, order = _leaf, EQUALITY, STRINGS, ORDER
    text = st.sampled_from(["ann", "ANN", "bob", "c_d", "50%", "%", "_", "acme", ".example", ""])
    days = st.sampled_from(d.days) | st.integers(max(0, min(d.days) - DAY), max(d.days) + DAY)
    nullable = [
        f(name, ["=", "!="], st.just(None))
        for name in ("name", "phone", "external_id", "owner_id", "custom_attributes.mixed")
    ]
    return st.one_of(
        f("role", strings, st.sampled_from(["user", "lead", "use", "LEAD"])),
        f("name", strings, text | st.sampled_from(["Ann Archer", "100% real", "c_d e"])),
        f("email", strings, text | st.sampled_from([c["email"] for c in d.contacts])),
        f("email_domain", strings, st.sampled_from(["acme.example", "other.io", "ACME", ""])),
        f("phone", strings, st.sampled_from(["+100", "+44 20", "+", "20"])),
        f("external_id", strings, st.sampled_from(["ext", "EXT-1", "-1", "ext-2"])),
        f("language_override", strings, st.sampled_from(["en", "fr", "e"])),
        f("owner_id", order, st.integers(0, 3)),
        f("unsubscribed_from_emails", equality, st.booleans()),
        f("browser", strings, text),
        f("id", ["=", "!=", "IN", "NIN"], st.sampled_from([c["id"] for c in d.contacts])),
        st.builds(
            lambda field, op, day: {"field": field, "operator": op, "value": day},
            st.sampled_from(CONTACT_DAYS),
            st.sampled_from(["=", "<", ">"]),
            days,
        ),
        f("tag_id", ["=", "!="], st.sampled_from(d.tags)),
        f("custom_attributes.plan", strings, st.sampled_from(["free", "pro", "PRO", "r", ""])),
        f("custom_attributes.seats", order, st.sampled_from([0, 1, 2, -3, 2.5, 2**53 + 1, 3])),
        f("custom_attributes.beta", equality, st.booleans()),
        f("custom_attributes.mixed", equality, st.sampled_from(["1", "true"])),
        f("custom_attributes.mixed", order, st.sampled_from([1, 1.5, 0])),
        f("custom_attributes.mixed", equality, st.booleans()),
        *nullable,
    )


def contact_queries(d: Contacts) -> st.SearchStrategy[dict[str, Any]]:
    return _nested(_contact_filters(d))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_contact_search_equals_python_evaluation(
    contact_dataset: Contacts, data: st.DataObject
) -> None:
    """POST /contacts/search returns the contacts the filter selects in Python over GET
    /contacts/{id}, newest first (created_at, then id, descending), with the right
    total_count, over a walk of every page."""
    d = contact_dataset
    query = data.draw(contact_queries(d))
    per_page = data.draw(st.integers(1, 6))
    ordered = sorted(d.contacts, key=lambda c: (c["created_at"], c["id"]), reverse=True)
    expected = [c["id"] for c in ordered if contact_matches(c, query)]
    got: list[str] = []
    pagination: dict[str, Any] = {"per_page": per_page}
    while True:
        response = await d.api.post(
            "/contacts/search", json={"query": query, "pagination": pagination}
        )
        assert response.status_code == 200, (query, response.text)
        body = response.json()
        assert body["total_count"] == len(expected), query
        got.extend(c["id"] for c in body["data"])
        if "next" not in body["pages"]:
            break
        pagination = {
            "per_page": per_page,
            "starting_after": body["pages"]["next"]["starting_after"],
        }
    assert got == expected, query
