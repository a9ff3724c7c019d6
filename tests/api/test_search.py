"""POST /conversations/search: every operator on every field type, nesting, pagination, the
full-text index kept in step with writes, and each error."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from parley.db import fulltext
from parley.db.database import Database
from parley.kit.clock import FrozenClock
from parley.kit.ids import IdFactory
from parley.services.workspaces import CreatedWorkspace
from tests.conftest import START, ValidatingClient
from tests.factories import (
    SUPERSCRIPT_TWO,
    arabic_indic,
    create_admin,
    create_contact,
    create_tag,
    create_team,
)

Query = dict[str, Any]


@dataclass
class Data:
    api: ValidatingClient
    db: Database
    clock: FrozenClock
    owner: int
    bob: int
    team: int
    carol: str
    dan: str
    billing: int
    vip: int
    label: dict[str, str] = field(default_factory=dict)  # conversation id -> name

    async def search(self, query: Query, **pagination: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"query": query}
        if pagination:
            body["pagination"] = pagination
        response = await self.api.post("/conversations/search", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def names(self, query: Query) -> list[str]:
        body = await self.search(query, per_page=150)
        assert body["total_count"] == len(body["conversations"])
        return [self.label[c["id"]] for c in body["conversations"]]

    async def error(self, body: Any, status: int = 400) -> dict[str, Any]:
        response = await self.api.post("/conversations/search", json=body)
        assert response.status_code == status, response.text
        error: dict[str, Any] = response.json()["errors"][0]
        return error


async def _post(api: ValidatingClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
async def data(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> Data:
    """c1 (carol, open, assigned to Bob, billing tag, custom attributes, rated), c2 (dan the
    lead, closed, high priority, both tags), c3 (carol, snoozed, team-assigned, a note), and an
    admin-initiated message nobody answered (invisible: never found)."""
    owner = workspace.owner_admin_id
    bob = await create_admin(db, workspace, clock, name="Bob Builder", email="bob@example.com")
    team = await create_team(db, workspace, clock, name="Support")
    carol = await create_contact(
        db, workspace, ids, clock, email="carol@example.com", external_id="carol-1", name="Carol"
    )
    dan = await create_contact(db, workspace, ids, clock, role="lead", email="Dan@Corp.example")
    billing = await create_tag(db, workspace, clock, name="billing")
    vip = await create_tag(db, workspace, clock, name="vip")
    d = Data(api, db, clock, owner, bob, team, carol, dan, billing, vip)

    async def start(contact: str, role: str, body: str) -> str:
        clock.advance(10)
        created = await _post(
            api, "/conversations", {"from": {"type": role, "id": contact}, "body": body}
        )
        return str(created["conversation_id"])

    async def reply(cid: str, body: str, kind: str = "comment") -> None:
        clock.advance(5)
        await _post(
            api,
            f"/conversations/{cid}/reply",
            {"message_type": kind, "type": "admin", "admin_id": str(owner), "body": body},
        )

    async def manage(cid: str, **payload: Any) -> None:
        clock.advance(5)
        await _post(
            api, f"/conversations/{cid}/parts", {"admin_id": str(owner), "type": "admin", **payload}
        )

    async def tag(cid: str, tag_id: int) -> None:
        await _post(api, f"/conversations/{cid}/tags", {"id": str(tag_id), "admin_id": owner})

    c1 = await start(carol, "user", "I need support with billing")
    await reply(c1, "<p>Sure &amp; <b>thanks</b> for waiting</p>")
    await manage(c1, message_type="assignment", assignee_id=str(bob))
    await tag(c1, billing)
    response = await api.put(
        f"/conversations/{c1}",
        json={"custom_attributes": {"plan": "pro", "seats": 5}},
    )
    assert response.status_code == 200, response.text

    c2 = await start(dan, "lead", "Hello there, my invoice is wrong")
    await reply(c2, "Fixed the invoice")
    await manage(c2, message_type="close")
    await tag(c2, billing)
    await tag(c2, vip)
    response = await api.put(
        f"/conversations/{c2}", json={"custom_attributes": {"plan": "free", "seats": 2}}
    )
    assert response.status_code == 200, response.text

    c3 = await start(carol, "user", "Password reset please")
    await reply(c3, "internal note about the résumé upload", kind="note")
    await manage(c3, message_type="assignment", type="team", assignee_id=str(team))
    await manage(c3, message_type="snoozed", snoozed_until=START + 100_000)

    clock.advance(10)
    await _post(
        api,
        "/messages",
        {"message_type": "inapp", "body": "Unanswered billing offer",
         "from": {"type": "admin", "id": owner}, "to": {"type": "lead", "id": dan}},
    )  # fmt: skip

    # The rating facts as services/timekeeping.rate stores them (render/ makes the wire shape).
    rating = {
        "rating": 5, "remark": "great help", "created_at": START + 50, "updated_at": START + 60,
        "contact_id": carol, "admin_id": str(owner),
    }  # fmt: skip
    async with db.transaction(write=True) as tx:
        await tx.execute(
            "UPDATE conversations SET conversation_rating = :r WHERE id = :id",
            {"r": orjson.dumps(rating).decode(), "id": int(c1)},
        )
        await tx.execute(
            "UPDATE conversations SET priority = 'high' WHERE id = :id", {"id": int(c2)}
        )
    d.label = {c1: "c1", c2: "c2", c3: "c3"}
    return d


def eq(field_: str, value: Any, operator: str = "=") -> Query:
    return {"field": field_, "operator": operator, "value": value}


async def check(data: Data, cases: list[tuple[Query, list[str]]]) -> None:
    failures = []
    for query, expected in cases:
        got = await data.names(query)
        if got != expected:
            failures.append(f"{query}: expected {expected}, got {got}")
    assert not failures, "\n".join(failures)


async def test_strings_every_operator(data: Data) -> None:
    await check(
        data,
        [
            (eq("state", "open"), ["c1"]),
            (eq("state", "open", "!="), ["c3", "c2"]),
            (eq("state", ["open", "snoozed"], "IN"), ["c3", "c1"]),
            (eq("state", ["open", "snoozed"], "NIN"), ["c2"]),
            (eq("state", "ooz", "~"), ["c3"]),
            (eq("state", "OOZ", "~"), ["c3"]),  # string operators ignore case
            (eq("state", "c", "!~"), ["c3", "c1"]),
            (eq("state", "clo", "^"), ["c2"]),
            (eq("state", "ed", "$"), ["c3", "c2"]),
            (eq("state", "%", "~"), []),  # LIKE wildcards are literal
            (eq("source.type", "conversation"), ["c3", "c2", "c1"]),
            (eq("channel_initiated", "conversation"), ["c3", "c2", "c1"]),
            (eq("source.delivered_as", "customer_initiated"), ["c3", "c2", "c1"]),
            (eq("source.subject", ""), ["c3", "c2", "c1"]),
            (eq("source.url", None), ["c3", "c2", "c1"]),
            (eq("source.url", None, "!="), []),
            (eq("source.author.type", "lead"), ["c2"]),
            (eq("source.author.type", ["user"], "IN"), ["c3", "c1"]),
            (eq("source.author.email", "carol@example.com"), ["c3", "c1"]),
            (eq("source.author.email", "corp.example", "$"), ["c2"]),
            (eq("source.author.email", "CAROL", "^"), ["c3", "c1"]),
            (eq("source.author.email", "carol@example.com", "!="), ["c2"]),
            (eq("source.author.name", "Carol"), ["c3", "c1"]),
            (eq("source.author.name", None), ["c2"]),  # a lead without a name
            (eq("source.author.name", "Carol", "!="), ["c2"]),
            (eq("source.author.id", data.dan), ["c2"]),
            (eq("source.author.id", data.carol[:6], "^"), ["c3", "c1"]),
        ],
    )


async def test_ids_and_lists(data: Data) -> None:
    c1 = next(k for k, v in data.label.items() if v == "c1")
    c2 = next(k for k, v in data.label.items() if v == "c2")
    await check(
        data,
        [
            (eq("id", c1), ["c1"]),
            (eq("id", int(c1)), ["c1"]),  # an integer id is read as its string
            (eq("id", [c1, c2, "nope"], "IN"), ["c2", "c1"]),
            (eq("id", c1, "!="), ["c3", "c2"]),
            (eq("id", [c1], "NIN"), ["c3", "c2"]),
            (eq("id", c1, "~"), ["c1"]),  # ids are 1, 2, 3 (and the invisible 4)
            (eq("source.id", "nope"), []),
            (eq("contact_ids", data.carol), ["c3", "c1"]),
            (eq("contact_ids", data.carol, "!="), ["c2"]),
            (eq("contact_ids", [data.dan, "x"], "IN"), ["c2"]),
            (eq("contact_ids", [data.dan], "NIN"), ["c3", "c1"]),
            (eq("contact_ids", data.dan[:5], "^"), ["c2"]),
            (eq("contact_ids", None), []),
            (eq("tag_ids", str(data.billing)), ["c2", "c1"]),
            (eq("tag_ids", data.vip), ["c2"]),
            (eq("tag_ids", [str(data.vip), "999"], "IN"), ["c2"]),
            (eq("tag_ids", [str(data.vip)], "NIN"), ["c3", "c1"]),
            (eq("tag_ids", str(data.billing), "!="), ["c3"]),
            (eq("tag_ids", None), ["c3"]),
            (eq("tag_ids", None, "!="), ["c2", "c1"]),
            (eq("tag_ids", str(data.vip), "~"), ["c2"]),
            (eq("teammate_ids", str(data.owner)), ["c3", "c2", "c1"]),
            (eq("teammate_ids", str(data.bob)), []),  # assigned, never took part
            (eq("teammate_ids", [str(data.bob)], "NIN"), ["c3", "c2", "c1"]),
            (eq("teammate_ids", None), []),
        ],
    )


async def test_integers_dates_and_booleans(data: Data) -> None:
    await check(
        data,
        [
            (eq("admin_assignee_id", data.bob), ["c1"]),
            (eq("admin_assignee_id", str(data.bob)), ["c1"]),  # numeric strings are coerced
            (eq("admin_assignee_id", None), ["c3", "c2"]),
            (eq("admin_assignee_id", 0), ["c3", "c2"]),  # 0 is nobody, as 2.16 renders it
            (eq("admin_assignee_id", [0, data.bob], "IN"), ["c3", "c2", "c1"]),
            (eq("admin_assignee_id", [0], "NIN"), ["c1"]),
            (eq("admin_assignee_id", data.bob, "!="), ["c3", "c2"]),
            (eq("team_assignee_id", data.team), ["c3"]),
            (eq("team_assignee_id", data.team, ">"), ["c3"]),
            (eq("team_assignee_id", data.team, "<"), ["c3"]),  # > and < include the bound
            (eq("created_at", START + 10), ["c1"]),
            (eq("created_at", START + 30, ">"), ["c3", "c2"]),
            (eq("created_at", START + 31, ">="), ["c3"]),
            (eq("created_at", str(START + 10), "<"), ["c1"]),
            (eq("created_at", START + 40, "<="), ["c2", "c1"]),
            (eq("created_at", [START + 10, START + 30], "IN"), ["c2", "c1"]),
            (eq("created_at", [START + 10], "NIN"), ["c3", "c2"]),
            (eq("snoozed_until", START + 100_000), ["c3"]),
            (eq("snoozed_until", None, "!="), ["c3"]),
            (eq("waiting_since", None), ["c2", "c1"]),  # c3's last word is the contact's
            (eq("waiting_since", START + 50), ["c3"]),
            (eq("open", True), ["c3", "c1"]),
            (eq("open", "false"), ["c2"]),
            (eq("open", True, "!="), ["c2"]),
            (eq("open", [True, False], "IN"), ["c3", "c2", "c1"]),
            (eq("read", False), ["c3", "c2", "c1"]),
            (eq("ai_agent_participated", False), ["c3", "c2", "c1"]),
            (eq("priority", "priority"), ["c2"]),  # the 2.14 wire values
            (eq("priority", "not_priority"), ["c3", "c1"]),
            (eq("priority", ["priority"], "NIN"), ["c3", "c1"]),
        ],
    )


async def test_priority_uses_the_levels_from_2_16(data: Data) -> None:
    response = await data.api.post(
        "/conversations/search",
        json={"query": eq("priority", "high")},
        headers={"Intercom-Version": "2.16"},
    )
    assert response.status_code == 200, response.text
    assert [data.label[c["id"]] for c in response.json()["conversations"]] == ["c2"]
    assert (await data.names(eq("priority", "high"))) == []  # 2.14 knows no levels


async def test_an_unknown_source_author_email_searches_as_each_version_renders_it(
    data: Data,
) -> None:
    """A lead without an email: 2.14 renders the source author's email as "", 2.16 as null, and
    `source.author.email` compares with what the requested version shows (as `priority` does)."""
    lead = await _post(data.api, "/contacts", {"role": "lead", "name": "No Email"})
    started = await _post(
        data.api, "/conversations", {"from": {"type": "lead", "id": lead["id"]}, "body": "Hi"}
    )
    cid = str(started["conversation_id"])
    data.label[cid] = "c4"
    for version, unknown in (("2.14", ""), ("2.16", None)):
        headers = {"Intercom-Version": version}
        shown = await data.api.get(f"/conversations/{cid}", headers=headers)
        assert shown.status_code == 200, shown.text
        assert shown.json()["source"]["author"]["email"] == unknown
        for operator, expected in (("=", ["c4"]), ("!=", ["c3", "c2", "c1"])):
            response = await data.api.post(
                "/conversations/search",
                json={"query": eq("source.author.email", unknown, operator)},
                headers=headers,
            )
            assert response.status_code == 200, response.text
            found = [data.label[c["id"]] for c in response.json()["conversations"]]
            assert found == expected, (version, operator)


async def test_statistics_rating_custom_attributes_and_ai_agent(data: Data) -> None:
    await check(
        data,
        [
            (eq("statistics.count_assignments", 1), ["c3", "c1"]),
            (eq("statistics.count_assignments", 1, "<"), ["c3", "c2", "c1"]),
            (eq("statistics.time_to_admin_reply", 5), ["c2", "c1"]),
            (eq("statistics.time_to_admin_reply", 6, ">"), []),
            (eq("statistics.time_to_admin_reply", None), ["c3"]),  # only a note
            (eq("statistics.last_close_at", 0, ">"), ["c2"]),
            (eq("statistics.last_closed_by_id", str(data.owner)), ["c2"]),
            (eq("statistics.last_closed_by_id", None), ["c3", "c1"]),
            (eq("statistics.first_contact_reply_at", START + 50), ["c3"]),
            (eq("conversation_rating.score", 5), ["c1"]),
            (eq("conversation_rating.score", 4, "<"), []),
            (eq("conversation_rating.remark", "help", "~"), ["c1"]),
            (eq("conversation_rating.contact_id", data.carol), ["c1"]),
            (eq("conversation_rating.admin_d", str(data.owner)), ["c1"]),
            (eq("conversation_rating.requested_at", START + 50), ["c1"]),
            (eq("conversation_rating.replied_at", START + 60, ">"), ["c1"]),
            (eq("conversation_rating.score", None), ["c3", "c2"]),
            (eq("custom_attributes.plan", "pro"), ["c1"]),
            (eq("custom_attributes.plan", "pro", "!="), ["c3", "c2"]),
            (eq("custom_attributes.plan", "r", "~"), ["c2", "c1"]),
            (eq("custom_attributes.plan", ["free", "x"], "IN"), ["c2"]),
            (eq("custom_attributes.seats", 5), ["c1"]),
            (eq("custom_attributes.seats", 2, "<"), ["c2"]),
            (eq("custom_attributes.seats", 1.5, ">"), ["c2", "c1"]),
            (eq("custom_attributes.seats", [2, 7], "IN"), ["c2"]),
            (eq("custom_attributes.seats", "5"), []),  # typed by the value: "5" is a string
            (eq("custom_attributes.plan", True), []),  # no boolean is stored
            (eq("custom_attributes.plan", True, "!="), ["c3", "c2", "c1"]),
            (eq("custom_attributes.plan", None), ["c3"]),
            (eq("custom_attributes.missing", None), ["c3", "c2", "c1"]),
            (eq("ai_agent.rating", 3), []),
            (eq("ai_agent.rating", None), ["c3", "c2", "c1"]),
            (eq("ai_agent.source_title", "x", "!~"), ["c3", "c2", "c1"]),
        ],
    )


async def test_words_in_source_and_part_bodies(data: Data) -> None:
    await check(
        data,
        [
            (eq("source.body", "support"), ["c1"]),
            (eq("source.body", "SUPPORT"), ["c1"]),
            (eq("source.body", "need support"), []),  # one word per value, as documented
            (eq("source.body", "supp"), []),
            (eq("source.body", "supp", "^"), ["c1"]),
            (eq("source.body", "need support", "~"), ["c1"]),  # a run of words
            (eq("source.body", "support need", "~"), []),
            (eq("source.body", "invoice", "!="), ["c3", "c1"]),
            (eq("source.body", ["invoice", "password"], "IN"), ["c3", "c2"]),
            (eq("source.body", ["invoice"], "NIN"), ["c3", "c1"]),
            (eq("source.body", "offer"), []),  # the invisible conversation
            (eq("source.body", "p"), []),  # markup is not text
            (eq("conversation_parts.body", "thanks"), ["c1"]),  # HTML stripped, entity decoded
            (eq("conversation_parts.body", "resume"), ["c3"]),  # accents folded
            (eq("conversation_parts.body", "internal note", "~"), ["c3"]),
            (eq("conversation_parts.body", "invoice"), ["c2"]),
            (eq("conversation_parts.body", "billing"), []),  # only in a source body
        ],
    )


async def test_nesting_and_groups(data: Data) -> None:
    open_ = eq("open", True)
    carol = eq("contact_ids", data.carol)
    billing = eq("tag_ids", str(data.billing))
    await check(
        data,
        [
            ({"operator": "AND", "value": [open_, carol]}, ["c3", "c1"]),
            ({"operator": "AND", "value": [open_, billing]}, ["c1"]),
            (
                {"operator": "OR", "value": [eq("state", "closed"), eq("state", "snoozed")]},
                ["c3", "c2"],
            ),
            (
                {
                    "operator": "AND",
                    "value": [
                        {"operator": "OR", "value": [eq("state", "closed"), carol]},
                        {"operator": "OR", "value": [billing, eq("source.body", "password")]},
                    ],
                },
                ["c3", "c2", "c1"],
            ),
            (
                {
                    "operator": "OR",
                    "value": [
                        {"operator": "AND", "value": [open_, billing]},
                        eq("priority", "priority"),
                    ],
                },
                ["c2", "c1"],
            ),
            ({"operator": "and", "value": [open_, eq("state", "open", "!=")]}, ["c3"]),
            ({"operator": "AND", "value": [eq("state", "open")] * 15}, ["c1"]),
        ],
    )


async def test_pagination_walk_and_last_page(data: Data) -> None:
    all_ = eq("source.type", "conversation")
    first = await data.search(all_, per_page=2)
    assert first["total_count"] == 3
    assert first["pages"]["page"] == 1
    assert first["pages"]["total_pages"] == 2
    assert first["pages"]["next"]["per_page"] == 2
    after = first["pages"]["next"]["starting_after"]
    decoded = orjson.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)))
    assert decoded == [int(first["conversations"][-1]["id"]), 2]
    second = await data.search(all_, per_page=2, starting_after=after)
    assert second["pages"]["page"] == 2
    assert "next" not in second["pages"]
    names = [data.label[c["id"]] for c in first["conversations"] + second["conversations"]]
    assert names == ["c3", "c2", "c1"]
    default = await data.search(all_)
    assert default["pages"]["per_page"] == 20
    assert "next" not in default["pages"]
    assert all("conversation_parts" not in c for c in default["conversations"])
    none = await data.search(eq("state", "nothing"))
    assert none["total_count"] == 0
    assert none["conversations"] == []
    assert none["pages"] == {"type": "pages", "page": 1, "per_page": 20, "total_pages": 1}


async def test_walk_is_stable_while_conversations_change(data: Data) -> None:
    """A walk neither repeats nor skips: updates do not move a conversation across the cursor
    and new ones sort before it."""
    for n in range(6):
        data.clock.advance(1)
        created = await _post(
            data.api,
            "/conversations",
            {"from": {"type": "user", "id": data.carol}, "body": f"more {n}"},
        )
        data.label[str(created["conversation_id"])] = f"m{n}"
    query = eq("contact_ids", data.carol)
    expected = await data.names(query)
    seen: list[str] = []
    after = None
    while True:
        page = await data.search(query, per_page=2, **({"starting_after": after} if after else {}))
        seen.extend(data.label.get(c["id"], "new") for c in page["conversations"])
        # Between pages: the oldest matching conversation is updated, a new one is created.
        data.clock.advance(1)
        oldest = next(k for k, v in data.label.items() if v == "c1")
        await _post(
            data.api,
            f"/conversations/{oldest}/reply",
            {"message_type": "note", "type": "admin", "admin_id": str(data.owner), "body": "x"},
        )
        await _post(
            data.api, "/conversations", {"from": {"type": "user", "id": data.carol}, "body": "new"}
        )
        if "next" not in page["pages"]:
            break
        after = page["pages"]["next"]["starting_after"]
    assert seen == expected


async def test_workspaces_are_isolated(data: Data, app: Any, other_workspace_token: Any) -> None:
    from tests.conftest import make_client

    other = await other_workspace_token()
    async with make_client(app, other.token) as client:
        response = await client.post(
            "/conversations/search", json={"query": eq("source.type", "conversation")}
        )
    assert response.status_code == 200
    assert response.json()["total_count"] == 0


async def _hidden_conversation(data: Data) -> int:
    """The fixture's unanswered admin-initiated message ("Unanswered billing offer"): the
    store's only hidden conversation."""
    async with data.db.transaction() as tx:
        found = await tx.fetch_val("SELECT id FROM conversations WHERE visible = :v", {"v": False})
    return int(found)


async def test_a_tag_search_counts_only_the_visible_conversations_of_its_workspace(
    data: Data, app: Any, other_workspace_token: Any
) -> None:
    """A query that is one tag filter is counted from the tag index (db/search.py _tag_count):
    a hidden conversation carrying the tag, and another workspace's tag in the list, must count
    for nothing, with one tag or several."""
    from tests.conftest import make_client

    other = await other_workspace_token()
    async with make_client(app, other.token) as client:
        contact = await client.post("/contacts", json={"email": "o@example.com"})
        started = await client.post(
            "/conversations",
            json={"from": {"type": "user", "id": contact.json()["id"]}, "body": "other"},
        )
        foreign = await client.post("/tags", json={"name": "billing"})
        applied = await client.post(
            f"/conversations/{started.json()['conversation_id']}/tags",
            json={"id": foreign.json()["id"], "admin_id": other.owner_admin_id},
        )
        assert applied.status_code == 200, applied.text
    hidden = await _hidden_conversation(data)
    async with data.db.transaction(write=True) as tx:
        await tx.execute(
            "INSERT INTO conversation_tags"
            " (conversation_id, tag_id, applied_at, applied_by_type, applied_by_id)"
            " VALUES (:c, :t, 0, 'admin', :a)",
            {"c": hidden, "t": data.billing, "a": str(data.owner)},
        )
    foreign_id = foreign.json()["id"]
    await check(
        data,
        [
            (eq("tag_ids", str(data.billing)), ["c2", "c1"]),
            (eq("tag_ids", [str(data.billing), foreign_id], "IN"), ["c2", "c1"]),
            (eq("tag_ids", [str(data.billing), str(data.vip)], "IN"), ["c2", "c1"]),
            (eq("tag_ids", foreign_id), []),
        ],
    )


@pytest.mark.parametrize("others_bound", [None, 0])
async def test_a_word_search_counts_only_the_visible_conversations_of_its_workspace(
    data: Data,
    app: Any,
    other_workspace_token: Any,
    monkeypatch: pytest.MonkeyPatch,
    others_bound: int | None,
) -> None:
    """A query that is one word filter is counted from the word index, minus the matches that
    are not the workspace's visible conversations (db/search.py _word_count): another
    workspace's and a hidden conversation's words (source and parts) count for nothing. With a
    bound of 0 others the general count runs instead, and must agree."""
    from tests.conftest import make_client

    if others_bound is not None:
        monkeypatch.setattr("parley.db.search.FEW", others_bound)
    other = await other_workspace_token()
    async with make_client(app, other.token) as client:
        contact = await client.post("/contacts", json={"email": "o@example.com"})
        started = await client.post(
            "/conversations",
            json={"from": {"type": "user", "id": contact.json()["id"]},
                  "body": "billing zebra quagga"},
        )  # fmt: skip
        replied = await client.post(
            f"/conversations/{started.json()['conversation_id']}/reply",
            json={"message_type": "comment", "type": "admin",
                  "admin_id": str(other.owner_admin_id), "body": "thanks zebra"},
        )  # fmt: skip
        assert replied.status_code == 200, replied.text
    c1 = next(k for k, v in data.label.items() if v == "c1")
    await _post(
        data.api, f"/conversations/{c1}/reply",
        {"message_type": "comment", "type": "admin", "admin_id": str(data.owner),
         "body": "a zebra crossing"},
    )  # fmt: skip
    hidden = await _hidden_conversation(data)  # it gets part words too
    async with data.db.transaction(write=True) as tx:
        await tx.execute(
            "INSERT INTO conversation_parts (conversation_id, part_type, body, created_at,"
            " updated_at, notified_at, author_type, author_admin_id, attachments, redacted, state)"
            " VALUES (:c, 'note', '<p>zebra thanks</p>', 0, 0, 0, 'admin', :a, '[]', :r, 'open')",
            {"c": hidden, "a": data.owner, "r": False},
        )
        part = await tx.fetch_val("SELECT MAX(id) FROM conversation_parts")
        await fulltext.add_part(tx, int(part), int(hidden), "<p>zebra thanks</p>")
    await check(
        data,
        [
            (eq("source.body", "billing"), ["c1"]),
            (eq("source.body", "quagga"), []),
            (eq("conversation_parts.body", "zebra"), ["c1"]),
            (eq("conversation_parts.body", ["zebra", "thanks"], "IN"), ["c1"]),
            (eq("conversation_parts.body", "zebra cross", "^"), ["c1"]),
            (eq("conversation_parts.body", "thanks zebra", "~"), []),
        ],
    )


async def test_redaction_removes_words_from_the_index(data: Data) -> None:
    c1 = next(k for k, v in data.label.items() if v == "c1")
    conversation = (await data.api.get(f"/conversations/{c1}")).json()
    reply = next(
        p for p in conversation["conversation_parts"]["conversation_parts"]
        if p["part_type"] == "comment"
    )  # fmt: skip
    assert await data.names(eq("conversation_parts.body", "waiting")) == ["c1"]
    await _post(
        data.api, "/conversations/redact",
        {"type": "conversation_part", "conversation_id": c1, "conversation_part_id": reply["id"]},
    )  # fmt: skip
    assert await data.names(eq("conversation_parts.body", "waiting")) == []
    assert await data.names(eq("conversation_parts.body", "deleted")) == []
    assert await data.names(eq("source.body", "billing")) == ["c1"]
    await _post(
        data.api, "/conversations/redact",
        {"type": "source", "conversation_id": c1, "source_id": conversation["source"]["id"]},
    )  # fmt: skip
    assert await data.names(eq("source.body", "billing")) == []
    assert await data.names(eq("source.body", "deleted")) == []
    response = await data.api.delete(f"/conversations/{c1}")
    assert response.status_code == 200
    assert await data.names(eq("conversation_parts.body", "thanks")) == []


async def _start(data: Data, body: str, label: str) -> str:
    created = await _post(
        data.api, "/conversations", {"from": {"type": "user", "id": data.carol}, "body": body}
    )
    cid = str(created["conversation_id"])
    data.label[cid] = label
    return cid


async def test_both_databases_index_the_words_kit_words_makes(
    data: Data, backend: str, request: pytest.FixtureRequest
) -> None:
    """Both stores are to receive the same words (kit/words.py), "which neither tokenizer
    splits further". PostgreSQL's to_tsvector/to_tsquery parser does split them again: at a
    character Python counts as part of a word but the parser does not (the Tamil number ten
    "௰"), and it drops a word of 2 KiB or more."""
    if backend == "postgresql":
        request.applymarker(pytest.mark.xfail(strict=True, reason="PostgreSQL re-parses words"))
    long_word = "q" * 3000
    await _start(data, f"alpha\u0bf0beta {long_word}", "w")
    await check(
        data,
        [
            (eq("source.body", "alpha\u0bf0beta"), ["w"]),
            (eq("source.body", "alpha"), []),
            (eq("source.body", "beta"), []),
            (eq("source.body", "bet", "^"), []),
            (eq("source.body", long_word), ["w"]),
        ],
    )


async def test_a_run_of_words_is_found_anywhere_in_a_long_body(
    data: Data, backend: str, request: pytest.FixtureRequest
) -> None:
    """`~` matches a run of consecutive words wherever it is. A PostgreSQL tsvector keeps 256
    positions of a word and none past 16383, so there a run after a word's 256th occurrence,
    or after the 16383rd word, is not found (SQLite finds both)."""
    if backend == "postgresql":
        request.applymarker(pytest.mark.xfail(strict=True, reason="tsvector position limits"))
    await _start(data, "order " * 300 + "order refund", "repeats")
    await _start(data, "filler " * 17_000 + "lost parcel", "long")
    await check(
        data,
        [
            (eq("source.body", "order refund", "~"), ["repeats"]),
            (eq("source.body", "lost parcel", "~"), ["long"]),
        ],
    )


async def test_bad_queries_are_400_naming_the_problem(data: Data) -> None:
    nested3 = {"operator": "AND", "value": [
        {"operator": "OR", "value": [{"operator": "AND", "value": [eq("state", "open")]}]},
    ]}  # fmt: skip
    cases: list[tuple[Any, str, str]] = [
        ({"query": eq("nope", "x")}, "query.field", "not a searchable conversation field"),
        ({"query": eq("state", "x", "<")}, "query.operator", "< is not valid for state"),
        ({"query": eq("open", True, "~")}, "query.operator", "~ is not valid for open"),
        ({"query": eq("source.body", "x", "$")}, "query.operator", "$ is not valid"),
        ({"query": eq("created_at", "yesterday")}, "query.value", "must be a unix timestamp"),
        ({"query": eq("created_at", 1.5)}, "query.value", "must be a unix timestamp"),
        ({"query": eq("admin_assignee_id", True)}, "query.value", "must be an integer"),
        ({"query": eq("open", "yes")}, "query.value", "must be a boolean"),
        ({"query": eq("state", True)}, "query.value", "must be a string"),
        ({"query": eq("state", ["open"])}, "query.value", "cannot be an array"),
        ({"query": eq("state", "open", "IN")}, "query.value", "must be an array"),
        ({"query": eq("state", [None], "IN")}, "query.value[0]", "cannot be null"),
        ({"query": eq("state", "open", "LIKE")}, "query.operator", "must be one of"),
        ({"query": {"field": "state", "operator": "="}}, "query.value", "is required"),
        ({"query": eq("custom_attributes.x", {"a": 1})}, "query.value", "must be a string"),
        ({"query": eq("custom_attributes.x", ["a", 1], "IN")}, "query.value", "same type"),
        ({"query": eq("custom_attributes.x", "a", ">")}, "query.operator", "> is not valid"),
        ({"query": eq('custom_attributes.a"b', "a")}, "query.field", "quotes"),
        ({"query": eq("custom_attributes.a\x00b", "a")}, "query.field", "NUL"),
        ({"query": eq("custom_attributes. ", "a")}, "query.field", "must not be empty"),
        # SQLite's LIKE stops at a NUL: "~ \x00" matched everything.
        ({"query": eq("state", "\x00", "~")}, "query.value", "NUL"),
        ({"query": eq("state", "open\x00zzz", "^")}, "query.value", "NUL"),
        ({"query": nested3}, "query.value[0].value[0]", "nested at most 2 levels"),
        (
            {"query": {"operator": "AND", "value": [eq("state", "open")] * 16}},
            "query.value",
            "at most 15",
        ),
        ({"query": {"operator": "AND", "value": []}}, "query.value", "non-empty"),
        ({"query": {"operator": "XOR", "value": [eq("state", "open")]}}, "query.operator", "AND"),
        (
            {"query": {"operator": "AND", "value": [eq("state", "open"), eq("x", 1)]}},
            "query.value[1].field",
            "not a searchable",
        ),
        ({"query": "state=open"}, "query", "must be an object"),
        (
            {"query": eq("state", "open"), "pagination": {"per_page": 151}},
            "pagination.per_page",
            "from 1 to 150",
        ),
        (
            {"query": eq("state", "open"), "pagination": {"per_page": 0}},
            "pagination.per_page",
            "from 1 to 150",
        ),
        *(  # only ASCII 0-9 are digits
            (
                {"query": eq("state", "open"), "pagination": {"per_page": other}},
                "pagination.per_page",
                "from 1 to 150",
            )
            for other in (SUPERSCRIPT_TWO, arabic_indic(10))
        ),
        (
            {"query": eq("state", "open"), "pagination": {"starting_after": "!!!"}},
            "pagination.starting_after",
            "not a valid cursor",
        ),
        (
            {"query": eq("state", "open"), "pagination": {"starting_after": "WyJhIiwgMV0="}},
            "pagination.starting_after",
            "not a valid cursor",
        ),
        (
            {"query": eq("state", "open"), "pagination": {"starting_after": "WzEsIDBd"}},
            "pagination.starting_after",
            "not a valid cursor",
        ),
        ({"query": eq("state", "open"), "pagination": "all"}, "pagination", "must be an object"),
    ]
    failures = []
    for body, field_, message in cases:
        error = await data.error(body)
        if (
            error["code"] != "parameter_invalid"
            or error["field"] != field_
            or message not in error["message"]
        ):
            failures.append(f"{body}: {error}")
    assert not failures, "\n".join(failures)
    missing = await data.error({"pagination": {"per_page": 5}})
    assert (missing["code"], missing["field"]) == ("parameter_not_found", "query")
    response = await data.api.post("/conversations/search", content=b"{nope")
    assert response.status_code == 400


async def test_search_needs_a_token(anon: ValidatingClient) -> None:
    response = await anon.post("/conversations/search", json={"query": eq("state", "open")})
    assert response.status_code == 401


async def test_list_cursor_carries_the_page_and_accepts_the_earlier_form(data: Data) -> None:
    """GET /conversations: the cursor is [updated_at, id, next page] (no count per page); a
    cursor of the earlier [updated_at, id] form still continues the walk at the right page."""

    def b64(value: Any) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).decode()

    async def listing(**params: Any) -> dict[str, Any]:
        response = await data.api.get("/conversations", params=params)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    first = await listing(per_page=1)
    after = first["pages"]["next"]["starting_after"]
    last = first["conversations"][-1]
    decoded = orjson.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)))
    assert decoded == [last["updated_at"], int(last["id"]), 2]
    second = await listing(per_page=1, starting_after=after)
    assert second["pages"]["page"] == 2
    assert second["total_count"] == 3
    third = await listing(per_page=1, starting_after=second["pages"]["next"]["starting_after"])
    assert third["pages"]["page"] == 3
    assert "next" not in third["pages"]
    names = [data.label[p["conversations"][0]["id"]] for p in (first, second, third)]
    assert names == ["c3", "c2", "c1"]
    # The earlier form: the page number is counted from the position.
    old = await listing(per_page=1, starting_after=b64([0, int(second["conversations"][0]["id"])]))
    assert old["pages"]["page"] == 3
    assert [data.label[c["id"]] for c in old["conversations"]] == ["c1"]
    assert "next" not in old["pages"]
    for bad in (b64([1, 2, 0]), b64(["a", 2, 3]), b64([1]), "%%%"):
        response = await data.api.get("/conversations", params={"starting_after": bad})
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["code"] == "parameter_invalid"


async def test_a_body_too_large_for_a_tsvector_is_stored_and_its_start_found(data: Data) -> None:
    """A note of 150,000 distinct words (1.3 MB, a pasted log; bodies may be 10 MiB): on
    PostgreSQL to_tsvector refused it ("string is too long for tsvector", over 1 MB) and the
    reply was a 500. It is stored whole; its words are indexed as far as a tsvector holds them
    (all of them on SQLite), so the first is found. A word of 2047 bytes or more, which
    to_tsvector leaves out, does not fail the write either."""
    cid = next(c for c, name in data.label.items() if name == "c1")
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = [
        "".join(letters[(n // 26**k) % 26] for k in range(4)) + "zq" + str(n)
        for n in range(150_000)
    ]
    body = " ".join(["firstword", *words, "a" * 3000])
    for text in (body, "short " + "b" * 2047):
        response = await data.api.post(
            f"/conversations/{cid}/reply",
            json={"message_type": "note", "type": "admin", "admin_id": str(data.owner),
                  "body": text},
        )  # fmt: skip
        assert response.status_code == 200, response.text[:300]
    shown = (await data.api.get(f"/conversations/{cid}")).json()
    assert shown["conversation_parts"]["conversation_parts"][-2]["body"] == f"<p>{body}</p>"
    assert await data.names({"field": "conversation_parts.body", "operator": "=",
                             "value": "firstword"}) == ["c1"]  # fmt: skip
    assert await data.names({"field": "conversation_parts.body", "operator": "~",
                             "value": "firstword " + words[0]}) == ["c1"]  # fmt: skip
