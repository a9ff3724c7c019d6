"""Conversations through the API: every endpoint, the lifecycle rules, and each error path."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel, StrictInt, StrictStr

from parley.api.endpoint import parse_model
from parley.db import conversations as conversation_store
from parley.db import outbox
from parley.db.database import Database, TransientConflict
from parley.errors import InvalidParameter
from parley.kit.clock import FrozenClock
from parley.kit.ids import IdFactory
from parley.services import conversations as conversation_service
from parley.services.context import Context
from parley.services.workspaces import CreatedWorkspace
from tests.conftest import ValidatingClient
from tests.factories import (
    SUPERSCRIPT_TWO,
    arabic_indic,
    create_admin,
    create_contact,
    create_tag,
    create_team,
)


@dataclass
class World:
    api: ValidatingClient
    db: Database
    clock: FrozenClock
    ids: IdFactory
    ws: CreatedWorkspace
    admin: int
    contact: str

    async def start(self, body: str = "Hello, I need help") -> str:
        response = await self.api.post(
            "/conversations", json={"from": {"type": "user", "id": self.contact}, "body": body}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["conversation_id"])

    async def get(self, cid: str, **params: Any) -> dict[str, Any]:
        response = await self.api.get(f"/conversations/{cid}", params=params)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def admin_reply(
        self,
        cid: str,
        body: str = "On it",
        *,
        kind: str = "comment",
        admin: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        payload = {
            "message_type": kind,
            "type": "admin",
            "admin_id": str(admin or self.admin),
            "body": body,
            **extra,
        }
        response = await self.api.post(f"/conversations/{cid}/reply", json=payload)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def contact_reply(self, cid: str, body: str = "Any news?") -> dict[str, Any]:
        payload = {
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": self.contact,
            "body": body,
        }
        response = await self.api.post(f"/conversations/{cid}/reply", json=payload)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def manage(self, cid: str, **payload: Any) -> dict[str, Any]:
        response = await self.api.post(
            f"/conversations/{cid}/parts", json={"admin_id": str(self.admin), **payload}
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
async def world(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> World:
    contact = await create_contact(
        db, workspace, ids, clock, email="carol@example.com", external_id="carol-1", name="Carol"
    )
    return World(api, db, clock, ids, workspace, workspace.owner_admin_id, contact)


def part_types(conversation: dict[str, Any]) -> list[str]:
    return [p["part_type"] for p in conversation["conversation_parts"]["conversation_parts"]]


def last_part(conversation: dict[str, Any]) -> dict[str, Any]:
    part: dict[str, Any] = conversation["conversation_parts"]["conversation_parts"][-1]
    return part


# ------------------------------------------------------------------------------ create


async def test_a_contacts_markup_is_text_never_kept_as_html(world: World) -> None:
    """A contact's message and replies are text ("The content of the message. HTML is not
    supported.", create_conversation_request; "The text body of the comment." for contact
    replies): markup an end user typed is escaped like any text, even when it starts with a
    block element, so no inbox that shows bodies runs it. An admin's HTML is kept as sent."""
    typed = '<p>hi</p><img src=x onerror="alert(1)"><script>alert(2)</script>'
    escaped = (
        '<p>&lt;p&gt;hi&lt;/p&gt;&lt;img src=x onerror="alert(1)"&gt;'
        "&lt;script&gt;alert(2)&lt;/script&gt;</p>"
    )
    response = await world.api.post(
        "/conversations", json={"from": {"type": "user", "id": world.contact}, "body": typed}
    )
    assert response.status_code == 200
    assert response.json()["body"] == escaped
    cid = str(response.json()["conversation_id"])
    assert (await world.get(cid))["source"]["body"] == escaped
    replied = await world.contact_reply(cid, "<div onmouseover=alert(3)>x</div>")
    assert last_part(replied)["body"] == "<p>&lt;div onmouseover=alert(3)&gt;x&lt;/div&gt;</p>"
    answered = await world.admin_reply(cid, "<p>Fixed &amp; <b>done</b></p>")
    assert last_part(answered)["body"] == "<p>Fixed &amp; <b>done</b></p>"
    plain = await world.get(cid, display_as="plaintext")
    assert plain["source"]["body"] == typed  # shown as the contact typed it


async def test_create_from_contact_returns_a_user_message(world: World) -> None:
    response = await world.api.post(
        "/conversations", json={"from": {"type": "user", "id": world.contact}, "body": "Hi <b>"}
    )
    assert response.status_code == 200
    message = response.json()
    assert message["type"] == "user_message"
    assert message["message_type"] == "inapp"
    assert message["body"] == "<p>Hi &lt;b&gt;</p>"  # plain text is escaped, never rendered
    conversation = await world.get(message["conversation_id"])
    assert conversation["state"] == "open"
    assert conversation["open"] is True
    assert conversation["read"] is False
    assert conversation["waiting_since"] == world.clock.now()
    assert conversation["source"]["id"] == message["id"]
    assert conversation["source"]["delivered_as"] == "customer_initiated"
    assert conversation["source"]["author"]["id"] == world.contact
    assert conversation["source"]["author"]["type"] == "user"
    assert conversation["contacts"]["contacts"] == [
        {"type": "contact", "id": world.contact, "external_id": "carol-1"}
    ]
    assert conversation["first_contact_reply"] == {
        "created_at": world.clock.now(),
        "type": "conversation",
        "url": None,
    }
    assert conversation["admin_assignee_id"] is None
    assert conversation["priority"] == "not_priority"
    assert conversation["conversation_parts"]["total_count"] == 0
    assert conversation["statistics"]["first_contact_reply_at"] == world.clock.now()


async def test_create_errors(world: World, anon: ValidatingClient) -> None:
    unknown = await world.api.post(
        "/conversations", json={"from": {"type": "user", "id": "a" * 24}, "body": "x"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["message"] == "User Not Found"
    missing = await world.api.post("/conversations", json={"from": {"type": "user", "id": "x"}})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "body"
    wrong = await world.api.post(
        "/conversations", json={"from": {"type": "admin", "id": world.contact}, "body": "x"}
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["field"] == "from.type"
    not_object = await world.api.post("/conversations", json=[1, 2])
    assert not_object.status_code == 400
    assert (await anon.post("/conversations", json={})).status_code == 401
    listing = (await world.api.get("/conversations")).json()
    assert listing["total_count"] == 0  # nothing was left behind by the failures


# ------------------------------------------------------------------------------ replies


async def test_admin_reply_clears_waiting_and_records_teammate(world: World) -> None:
    cid = await world.start()
    world.clock.advance(60)
    conversation = await world.admin_reply(cid, "We are looking into it")
    assert part_types(conversation) == ["comment"]
    part = last_part(conversation)
    assert part["body"] == "<p>We are looking into it</p>"
    assert part["author"]["type"] == "admin"
    assert part["author"]["id"] == str(world.admin)
    assert part["author"]["name"] == "Olivia Owner"
    assert conversation["waiting_since"] is None
    assert conversation["teammates"]["admins"] == [{"type": "admin", "id": str(world.admin)}]
    assert conversation["statistics"]["first_admin_reply_at"] == world.clock.now()
    assert conversation["statistics"]["time_to_admin_reply"] == 60
    assert conversation["updated_at"] == world.clock.now()


async def test_waiting_since_starts_at_first_unanswered_contact_reply(world: World) -> None:
    cid = await world.start()
    start = world.clock.now()
    world.clock.advance(30)
    conversation = await world.contact_reply(cid)
    assert conversation["waiting_since"] == start
    world.clock.advance(30)
    await world.admin_reply(cid)
    world.clock.advance(30)
    conversation = await world.contact_reply(cid)
    assert conversation["waiting_since"] == world.clock.now()
    assert conversation["statistics"]["last_contact_reply_at"] == world.clock.now()


async def test_note_changes_neither_state_nor_waiting_since(world: World) -> None:
    cid = await world.start()
    closed = await world.manage(cid, message_type="close", type="admin")
    waiting = closed["waiting_since"]
    conversation = await world.admin_reply(cid, "internal <b>only</b>", kind="note")
    assert last_part(conversation)["part_type"] == "note"
    assert last_part(conversation)["body"] == "<p>internal &lt;b&gt;only&lt;/b&gt;</p>"
    assert conversation["state"] == "closed"
    assert conversation["waiting_since"] == waiting
    reopened = await world.contact_reply(cid)
    noted = await world.admin_reply(cid, "<p>html note</p>", kind="note")
    assert noted["waiting_since"] == reopened["waiting_since"] is not None
    assert last_part(noted)["body"] == "<p>html note</p>"


async def test_quick_reply_and_attachments(world: World) -> None:
    cid = await world.start()
    options = [
        {"text": "Yes", "uuid": "11111111-1111-4111-8111-111111111111"},
        {"text": "No", "uuid": "22222222-2222-4222-8222-222222222222"},
    ]
    conversation = await world.admin_reply(cid, "", kind="quick_reply", reply_options=options)
    part = last_part(conversation)
    assert part["part_type"] == "quick_reply"
    assert part["body"] is None
    assert [o["text"] for o in part["metadata"]["quick_reply_options"]] == ["Yes", "No"]
    conversation = await world.admin_reply(
        cid, "see attached", attachment_urls=["https://example.com/files/report.pdf"]
    )
    attachment = last_part(conversation)["attachments"][0]
    assert attachment["name"] == "report.pdf"
    assert attachment["content_type"] == "application/pdf"
    # With attachments a comment needs no body (and whitespace alone is none).
    conversation = await world.admin_reply(
        cid, " \n", attachment_urls=["https://example.com/files/photo.png"]
    )
    assert last_part(conversation)["body"] is None
    assert last_part(conversation)["attachments"][0]["name"] == "photo.png"
    bad = await world.api.post(
        f"/conversations/{cid}/reply",
        json={"message_type": "quick_reply", "type": "admin", "admin_id": world.admin},
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "reply_options"


async def test_contact_can_reply_by_email_user_id_and_to_last(world: World) -> None:
    cid = await world.start()
    await world.admin_reply(cid)
    for identifier in ({"email": "carol@example.com"}, {"user_id": "carol-1"}):
        response = await world.api.post(
            f"/conversations/{cid}/reply",
            json={"message_type": "comment", "type": "user", "body": "again", **identifier},
        )
        assert response.status_code == 200
        assert last_part(response.json())["author"]["id"] == world.contact
    last = await world.api.post(
        "/conversations/last/reply",
        json={
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": world.contact,
            "body": "to the last one",
        },
    )
    assert last.status_code == 200
    assert last.json()["id"] == cid
    admin_last = await world.api.post(
        "/conversations/last/reply",
        json={"message_type": "comment", "type": "admin", "admin_id": world.admin, "body": "x"},
    )
    assert admin_last.status_code == 404


async def test_contact_quick_reply_selection_is_a_comment_with_the_uuid(world: World) -> None:
    cid = await world.start()
    uuid = "33333333-3333-4333-8333-333333333333"
    response = await world.api.post(
        f"/conversations/{cid}/reply",
        json={
            "message_type": "quick_reply",
            "type": "user",
            "intercom_user_id": world.contact,
            "reply_options": [{"text": "Yes please", "uuid": uuid}],
        },
    )
    assert response.status_code == 200
    part = last_part(response.json())
    assert part["part_type"] == "comment"
    assert part["body"] == "<p>Yes please</p>"
    assert part["metadata"] == {"quick_reply_uuid": uuid}


async def test_reply_errors(world: World) -> None:
    cid = await world.start()
    cases: list[tuple[str, dict[str, Any], int, str | None]] = [
        (cid, {"message_type": "comment", "admin_id": world.admin, "body": "x"}, 400, "type"),
        (
            cid,
            {"message_type": "shout", "type": "admin", "admin_id": world.admin, "body": "x"},
            400,
            "message_type",
        ),
        (cid, {"message_type": "comment", "type": "admin", "body": "x"}, 400, "admin_id"),
        (
            cid,
            {"message_type": "comment", "type": "admin", "admin_id": "abc", "body": "x"},
            400,
            "admin_id",
        ),
        (
            cid,
            {"message_type": "comment", "type": "admin", "admin_id": 987654, "body": "x"},
            404,
            "admin_id",
        ),
        (cid, {"message_type": "comment", "type": "admin", "admin_id": world.admin}, 400, "body"),
        (
            cid,
            {"message_type": "note", "type": "admin", "admin_id": world.admin, "body": ""},
            400,
            "body",
        ),
        *(  # whitespace alone is no body, as for contact replies and messages
            (
                cid,
                {"message_type": kind, "type": "admin", "admin_id": world.admin, "body": blank},
                400,
                "body",
            )
            for kind in ("comment", "note")
            for blank in ("   ", "\n", " \t\n ")
        ),
        (cid, {"message_type": "comment", "type": "user", "body": "x"}, 400, None),
        (
            cid,
            {"message_type": "comment", "type": "user", "email": "who@x.org", "body": "x"},
            404,
            None,
        ),
        (
            "424242",
            {"message_type": "comment", "type": "admin", "admin_id": world.admin, "body": "x"},
            404,
            None,
        ),
        (
            "nonsense",
            {"message_type": "comment", "type": "admin", "admin_id": world.admin, "body": "x"},
            404,
            None,
        ),
        (
            cid,
            {
                "message_type": "comment",
                "type": "admin",
                "admin_id": world.admin,
                "body": "x",
                "created_at": "yesterday",
            },
            400,
            "created_at",
        ),
    ]
    for target, payload, status, field in cases:
        response = await world.api.post(f"/conversations/{target}/reply", json=payload)
        assert response.status_code == status, (payload, response.text)
        if field:
            assert response.json()["errors"][0].get("field") == field, (payload, response.text)
    conversation = await world.get(cid)
    assert conversation["conversation_parts"]["total_count"] == 0
    stranger = await create_contact(world.db, world.ws, world.ids, world.clock, email="s@x.org")
    response = await world.api.post(
        f"/conversations/{cid}/reply",
        json={
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": stranger,
            "body": "hi",
        },
    )
    assert response.status_code == 422


async def test_contact_reply_missing_fields_are_named(world: World) -> None:
    """A missing body or contact is 400 parameter_not_found naming the field (docs/behaviour.md,
    Errors), as the rating endpoint and an admin reply answer."""
    cid = await world.start()
    for payload, field in (
        ({"intercom_user_id": world.contact}, "body"),
        ({"intercom_user_id": world.contact, "body": "  "}, "body"),
        ({"body": "hi"}, "intercom_user_id"),
    ):
        response = await world.api.post(
            f"/conversations/{cid}/reply",
            json={"message_type": "comment", "type": "user", **payload},
        )
        assert response.status_code == 400, response.text
        error = response.json()["errors"][0]
        assert (error["code"], error.get("field")) == ("parameter_not_found", field), payload
    assert (await world.get(cid))["conversation_parts"]["total_count"] == 0


@pytest.mark.parametrize("path", ["/conversations/{cid}/reply", "/conversations/{cid}/parts",
                                  "/conversations/redact"])  # fmt: skip
@pytest.mark.parametrize("raw", [b"[]", b'[{"type": "admin"}]', b'"close"', b"5"])
async def test_a_body_that_is_not_an_object_is_refused_as_such(
    world: World, path: str, raw: bytes
) -> None:
    """These routes read a key of the body before choosing its model: a body that is not an
    object is still the documented 400 parameter_invalid, not "type is required"."""
    cid = await world.start()
    response = await world.api.post(
        path.format(cid=cid), content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["code"] == "parameter_invalid", response.text
    assert error["message"] == "Request body must be a JSON object"


# ------------------------------------------------------------------------------ lifecycle


async def test_close_with_body_then_contact_reply_reopens(world: World) -> None:
    cid = await world.start()
    conversation = await world.manage(cid, message_type="close", type="admin", body="Goodbye :)")
    part = last_part(conversation)
    assert part["part_type"] == "close"
    assert part["body"] == "<p>Goodbye :)</p>"
    assert part["state"] == "closed"
    assert conversation["state"] == "closed"
    assert conversation["open"] is False
    assert conversation["waiting_since"] is None
    assert conversation["statistics"]["last_closed_by_id"] == str(world.admin)
    world.clock.advance(100)
    conversation = await world.contact_reply(cid, "Actually, one more thing")
    part = last_part(conversation)
    assert part["part_type"] == "open"
    assert part["body"] == "<p>Actually, one more thing</p>"
    assert part["author"]["type"] == "user"
    assert conversation["state"] == "open"
    assert conversation["waiting_since"] == world.clock.now()
    assert conversation["statistics"]["count_reopens"] == 1


async def test_snooze_keeps_open_true_and_needs_a_future_time(world: World) -> None:
    cid = await world.start()
    until = world.clock.now() + 3600
    conversation = await world.manage(cid, message_type="snoozed", snoozed_until=until)
    assert conversation["state"] == "snoozed"
    assert conversation["open"] is True
    assert conversation["snoozed_until"] == until
    assert last_part(conversation)["part_type"] == "snoozed"
    assert last_part(conversation)["body"] is None
    for bad in (world.clock.now(), world.clock.now() - 10):
        response = await world.api.post(
            f"/conversations/{cid}/parts",
            json={"message_type": "snoozed", "admin_id": world.admin, "snoozed_until": bad},
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "snoozed_until"
    opened = await world.manage(cid, message_type="open")
    assert opened["state"] == "open"
    assert opened["snoozed_until"] is None
    assert last_part(opened)["part_type"] == "open"
    again = await world.manage(cid, message_type="open")
    assert part_types(again) == part_types(opened)  # opening an open conversation is a no-op


async def test_replies_unsnooze_unless_by_the_assignee(world: World) -> None:
    cid = await world.start()
    other = await create_admin(world.db, world.ws, world.clock, name="Ann", email="ann@x.org")
    await world.manage(cid, message_type="assignment", type="admin", assignee_id=str(world.admin))
    until = world.clock.now() + 3600
    await world.manage(cid, message_type="snoozed", snoozed_until=until)
    by_assignee = await world.admin_reply(cid, "still snoozed")
    assert by_assignee["state"] == "snoozed"
    noted = await world.admin_reply(cid, "a note", kind="note", admin=other)
    assert noted["state"] == "snoozed"  # notes never change state
    by_other = await world.admin_reply(cid, "waking it", admin=other)
    assert by_other["state"] == "open"
    assert by_other["snoozed_until"] is None
    await world.manage(cid, message_type="snoozed", snoozed_until=until)
    by_contact = await world.contact_reply(cid)
    assert by_contact["state"] == "open"


async def test_assign_to_admin_team_and_nobody(world: World) -> None:
    cid = await world.start()
    team = await create_team(world.db, world.ws, world.clock, name="Billing")
    conversation = await world.manage(
        cid,
        message_type="assignment",
        type="admin",
        assignee_id=str(world.admin),
        body="Taking this",
    )
    part = last_part(conversation)
    assert part["part_type"] == "assignment"
    assert part["assigned_to"] == {"type": "admin", "id": str(world.admin)}
    assert part["body"] == "<p>Taking this</p>"
    assert conversation["admin_assignee_id"] == world.admin
    conversation = await world.manage(cid, message_type="assignment", type="team", assignee_id=team)
    assert conversation["team_assignee_id"] == team
    assert conversation["admin_assignee_id"] == world.admin  # both can be set
    conversation = await world.manage(cid, message_type="assignment", type="admin", assignee_id="0")
    assert conversation["admin_assignee_id"] is None
    assert last_part(conversation)["assigned_to"] == {"type": "nobody_admin", "id": None}
    assert conversation["statistics"]["count_assignments"] == 2
    unassigned_216 = await world.api.get(
        f"/conversations/{cid}", headers={"Intercom-Version": "2.16"}
    )
    assert unassigned_216.json()["admin_assignee_id"] == 0
    assert unassigned_216.json()["priority"] == "none"


@pytest.mark.parametrize(("away", "reassign"), [(True, True), (True, False), (False, True)])
async def test_a_contact_reply_to_an_away_admin_who_asked_goes_back_to_the_team_inbox(
    world: World, away: bool, reassign: bool
) -> None:
    """PUT /admins/{id}/away's away_mode_reassign: "assign any new conversation replies to your
    default inbox". A contact's reply to a conversation assigned to an admin who is away and
    asked for it is followed by the bot's assignment to nobody on the admin side: the team
    (if any) keeps it. Away without asking, or asking while not away, changes nothing; an
    admin's own reply is no new reply to reassign."""
    cid = await world.start()
    team = await create_team(world.db, world.ws, world.clock, name="Support")
    await world.manage(cid, message_type="assignment", type="team", assignee_id=str(team))
    await world.manage(cid, message_type="assignment", type="admin", assignee_id=str(world.admin))
    set_away = await world.api.put(
        f"/admins/{world.admin}/away",
        json={"away_mode_enabled": away, "away_mode_reassign": reassign},
    )
    assert set_away.status_code == 200, set_away.text
    assert (await world.admin_reply(cid))["admin_assignee_id"] == world.admin
    before = (await world.get(cid))["conversation_parts"]["total_count"]

    replied = await world.contact_reply(cid, "Still there?")
    parts = replied["conversation_parts"]["conversation_parts"]
    assert replied["team_assignee_id"] == team
    if away and reassign:
        assert replied["admin_assignee_id"] is None
        assert replied["conversation_parts"]["total_count"] == before + 2
        comment, reassigned = parts[-2:]
        assert (comment["part_type"], comment["author"]["type"]) == ("comment", "user")
        assert reassigned["part_type"] == "assignment"
        assert reassigned["author"]["type"] == "bot"
        assert reassigned["assigned_to"] == {"type": "nobody_admin", "id": None}
        assert replied["state"] == "open"
        assert replied["waiting_since"] == comment["created_at"]  # the contact still waits
    else:
        assert replied["admin_assignee_id"] == world.admin
        assert replied["conversation_parts"]["total_count"] == before + 1
    assert await world.get(cid) == replied  # the stored document is the same rendering


async def test_assigning_a_closed_conversation_reopens_it(world: World) -> None:
    cid = await world.start()
    await world.manage(cid, message_type="close", type="admin")
    conversation = await world.manage(
        cid, message_type="assignment", type="admin", assignee_id=world.admin
    )
    assert last_part(conversation)["part_type"] == "assign_and_reopen"
    assert conversation["state"] == "open"
    assert conversation["statistics"]["count_reopens"] == 1


async def test_manage_errors(world: World) -> None:
    cid = await world.start()
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        ({}, 400, "message_type"),
        ({"message_type": "explode", "admin_id": world.admin}, 400, "message_type"),
        ({"message_type": "close", "admin_id": world.admin}, 400, "type"),
        ({"message_type": "snoozed", "admin_id": world.admin}, 400, "snoozed_until"),
        (
            {"message_type": "snoozed", "admin_id": world.admin, "snoozed_until": "soon"},
            400,
            "snoozed_until",
        ),
        (
            {"message_type": "assignment", "type": "admin", "admin_id": world.admin},
            400,
            "assignee_id",
        ),
        (
            {
                "message_type": "assignment",
                "type": "admin",
                "admin_id": world.admin,
                "assignee_id": "999999",
            },
            404,
            "assignee_id",
        ),
        (
            {
                "message_type": "assignment",
                "type": "team",
                "admin_id": world.admin,
                "assignee_id": "999999",
            },
            404,
            "assignee_id",
        ),
        (
            {
                "message_type": "assignment",
                "type": "robot",
                "admin_id": world.admin,
                "assignee_id": "1",
            },
            400,
            "type",
        ),
        ({"message_type": "open", "admin_id": "404040"}, 404, "admin_id"),
    ]
    for payload, status, field in cases:
        response = await world.api.post(f"/conversations/{cid}/parts", json=payload)
        assert response.status_code == status, (payload, response.text)
        assert response.json()["errors"][0].get("field") == field, (payload, response.text)
    missing = await world.api.post(
        "/conversations/77777/parts", json={"message_type": "open", "admin_id": world.admin}
    )
    assert missing.status_code == 404
    conversation = await world.get(cid)
    assert conversation["conversation_parts"]["total_count"] == 0
    assert conversation["state"] == "open"


# ------------------------------------------------------------------------------ read paths


async def test_display_as_plaintext(world: World) -> None:
    cid = await world.start("Hello\nthere")
    await world.admin_reply(cid, "<p>Fixed &amp; <b>done</b></p>")
    conversation = await world.get(cid, display_as="plaintext")
    assert conversation["source"]["body"] == "Hello\nthere"
    assert last_part(conversation)["body"] == "Fixed & done"


async def test_list_walks_every_conversation_once_with_cursors(world: World) -> None:
    created = []
    for n in range(7):
        world.clock.advance(10)
        created.append(await world.start(f"conversation {n}"))
    seen: list[str] = []
    params: dict[str, Any] = {"per_page": 3}
    pages = 0
    while True:
        body = (await world.api.get("/conversations", params=params)).json()
        pages += 1
        assert body["total_count"] == 7
        assert body["pages"]["page"] == pages
        assert body["pages"]["total_pages"] == 3
        assert all("conversation_parts" not in c for c in body["conversations"])
        seen.extend(c["id"] for c in body["conversations"])
        if "next" not in body["pages"]:
            break
        params = {"per_page": 3, "starting_after": body["pages"]["next"]["starting_after"]}
    assert pages == 3
    assert seen == list(reversed(created))  # most recently updated first


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


async def test_list_errors(world: World) -> None:
    for params in (
        {"per_page": 0},
        {"per_page": 151},
        {"per_page": "ten"},
        {"starting_after": "!!!"},
        {"starting_after": "WzFd"},
        # A position no 64-bit key holds; booleans are not numbers.
        {"starting_after": _cursor([0, 2**63, 2])},
        {"starting_after": _cursor([True, True, 2])},
        {"starting_after": _cursor([0, 1, True])},
        {"starting_after": _cursor([True, 1])},
    ):
        response = await world.api.get("/conversations", params=params)
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["field"] in {"per_page", "starting_after"}


async def test_only_ascii_digits_are_digits(world: World) -> None:
    """str.isdigit() is true for "²" (which int() refuses) and for other scripts' digits (which
    int() reads: "١" is 1): neither is a number here. A path id is then unknown (404), a value
    a 400 naming it, and nothing changes."""
    cid = await world.start()
    tag = await create_tag(world.db, world.ws, world.clock, name="Digits")
    before = await world.get(cid)
    reply = {"message_type": "comment", "type": "admin", "admin_id": world.admin, "body": "x"}
    opened = {"message_type": "open", "admin_id": world.admin}
    for other in (SUPERSCRIPT_TWO, arabic_indic(cid)):
        assert (await world.api.get(f"/conversations/{other}")).status_code == 404
        response = await world.api.post(f"/conversations/{other}/reply", json=reply)
        assert response.status_code == 404, response.text
        response = await world.api.post(f"/conversations/{other}/parts", json=opened)
        assert response.status_code == 404, response.text
        for name in ("per_page", "page"):
            response = await world.api.get("/conversations", params={name: other})
            assert response.status_code == 400, (name, response.text)
            assert response.json()["errors"][0]["field"] == name
    reply_path, tags_path = f"/conversations/{cid}/reply", f"/conversations/{cid}/tags"
    redact = {"type": "conversation_part", "conversation_part_id": "1"}
    cases: list[tuple[str, dict[str, Any], str]] = [
        (reply_path, {**reply, "admin_id": SUPERSCRIPT_TWO}, "admin_id"),
        (reply_path, {**reply, "admin_id": arabic_indic(world.admin)}, "admin_id"),
        (tags_path, {"id": SUPERSCRIPT_TWO, "admin_id": world.admin}, "id"),
        (tags_path, {"id": arabic_indic(tag), "admin_id": world.admin}, "id"),
        (
            "/conversations/redact",
            {**redact, "conversation_id": SUPERSCRIPT_TWO},
            "conversation_id",
        ),
        (
            "/conversations/redact",
            {**redact, "conversation_id": arabic_indic(cid)},
            "conversation_id",
        ),
    ]
    for path, body, field in cases:
        response = await world.api.post(path, json=body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["errors"][0]
        assert error["field"] == field
        assert "int()" not in error["message"]  # no Python internals
    assert await world.get(cid) == before


async def test_ids_too_large_for_a_key_are_unknown_ids(world: World) -> None:
    """A body id no 64-bit key can hold (2^63, which JSON still carries as an integer, or a
    numeric string as long) is answered as an unknown id of that field is, never with a 500,
    and changes nothing."""
    cid = await world.start()
    tag = await create_tag(world.db, world.ws, world.clock, name="Big")
    part = last_part(await world.admin_reply(cid))["id"]
    before = await world.get(cid)
    reply = {"message_type": "comment", "type": "admin", "admin_id": world.admin, "body": "x"}
    assign = {"message_type": "assignment", "type": "admin", "admin_id": world.admin}
    tagging = {"id": tag, "admin_id": world.admin}
    attach = {"admin_id": world.admin, "customer": {"email": "new@example.com"}}
    redact = {"type": "conversation_part", "conversation_id": cid, "conversation_part_id": part}
    message = {"message_type": "inapp", "body": "x", "from": {"type": "admin", "id": world.admin},
               "to": {"type": "user", "id": world.contact}}  # fmt: skip
    cases: list[tuple[str, dict[str, Any], str]] = [
        (f"/conversations/{cid}/reply", reply, "admin_id"),
        (f"/conversations/{cid}/parts", {**assign, "assignee_id": world.admin}, "admin_id"),
        (f"/conversations/{cid}/parts", assign, "assignee_id"),
        (f"/conversations/{cid}/parts", {**assign, "type": "team"}, "assignee_id"),
        (f"/conversations/{cid}/tags", tagging, "id"),
        (f"/conversations/{cid}/tags", tagging, "admin_id"),
        (f"/conversations/{cid}/customers", attach, "admin_id"),
        ("/conversations/redact", redact, "conversation_id"),
        ("/conversations/redact", redact, "conversation_part_id"),
        ("/messages", message, "from.id"),
    ]
    for path, body, field in cases:
        answers = []
        for value in (999_999, 2**63, str(2**63), "9" * 30):  # unknown, then too large
            if field == "from.id":
                sent = {**body, "from": {**body["from"], "id": value}}
            else:
                sent = {**body, field: value}
            response = await world.api.post(path, json=sent)
            error = response.json()["errors"][0]
            answers.append((response.status_code, error["code"], error.get("field")))
        assert answers[0][0] == 404, (path, field, answers)
        assert answers == [answers[0]] * 4, (path, field, answers)
    assert await world.get(cid) == before


async def test_retrieve_caps_parts_at_the_500_most_recent(world: World) -> None:
    cid = await world.start()
    # 502 notes written through the service in one transaction (through HTTP each response
    # would carry up to 500 parts, and validating them all makes the test needlessly slow).
    ctx = Context(world.clock, world.ids, world.ws.workspace_id, world.admin)
    async with world.db.transaction(write=True) as tx:
        for n in range(502):
            await conversation_service.admin_reply(
                tx,
                ctx,
                cid,
                admin_id=world.admin,
                message_type="note",
                body=f"reply {n}",
                created_at=None,
                reply_options=None,
                attachment_urls=[],
                attachment_files=[],
            )
    conversation = await world.get(cid)
    parts = conversation["conversation_parts"]["conversation_parts"]
    assert len(parts) == 500
    assert conversation["conversation_parts"]["total_count"] == 502
    assert parts[0]["body"] == "<p>reply 2</p>"
    assert parts[-1]["body"] == "<p>reply 501</p>"


# ------------------------------------------------------------------------------ update/delete


async def test_update_read_title_and_custom_attributes(world: World) -> None:
    cid = await world.start()
    response = await world.api.put(
        f"/conversations/{cid}",
        json={
            "read": True,
            "title": "Refund",
            "custom_attributes": {"issue_type": "billing", "n": 3},
        },
    )
    assert response.status_code == 200
    conversation = response.json()
    assert conversation["read"] is True
    assert conversation["title"] == "Refund"
    assert conversation["custom_attributes"] == {"issue_type": "billing", "n": 3}
    parts = conversation["conversation_parts"]["conversation_parts"]
    assert [p["part_type"] for p in parts] == ["conversation_attribute_updated_by_admin"] * 2
    assert parts[0]["author"]["type"] == "bot"
    assert parts[0]["event_details"] == {
        "attribute": {"name": "issue_type"},
        "value": {"name": "billing"},
    }
    same = (
        await world.api.put(
            f"/conversations/{cid}", json={"custom_attributes": {"issue_type": "billing"}}
        )
    ).json()
    assert same["conversation_parts"]["total_count"] == 2  # unchanged values write no part
    # A name that search could not reach is refused (the rule search applies to names).
    for name in ("", "  ", 'a"b', "a\\b", "a\x00b"):
        refused = await world.api.put(
            f"/conversations/{cid}", json={"custom_attributes": {name: "x"}}
        )
        assert refused.status_code == 400, (name, refused.text)
        assert refused.json()["errors"][0]["field"] == "custom_attributes"
    # null removes an attribute (the description allows no null value); clearing one that is
    # not set changes nothing.
    cleared = await world.api.put(
        f"/conversations/{cid}", json={"custom_attributes": {"n": None, "never_set": None}}
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["custom_attributes"] == {"issue_type": "billing"}
    parts = cleared.json()["conversation_parts"]["conversation_parts"]
    assert cleared.json()["conversation_parts"]["total_count"] == 3
    assert parts[-1]["event_details"] == {"attribute": {"name": "n"}, "value": {"name": None}}
    assert (await world.api.get(f"/conversations/{cid}")).json()["custom_attributes"] == {
        "issue_type": "billing"
    }
    for payload, field in (
        ({"read": "yes"}, "read"),
        ({"title": 5}, "title"),
        ({"custom_attributes": {"x": {"nested": 1}}}, "custom_attributes.x"),
        ({"custom_attributes": [1]}, "custom_attributes"),
        # no 64-bit column or search value holds these (a contact's are refused alike)
        ({"custom_attributes": {"ok": 1, "big": 2**63}}, "custom_attributes.big"),
        ({"custom_attributes": {"ok": 1, "big": 2**64 - 1}}, "custom_attributes.big"),
    ):
        bad = await world.api.put(f"/conversations/{cid}", json=payload)
        assert bad.status_code == 400, payload
        assert bad.json()["errors"][0]["field"] == field
    assert (await world.get(cid))["custom_attributes"] == {"issue_type": "billing"}
    assert (await world.api.put("/conversations/999999", json={"read": True})).status_code == 404


async def test_delete(world: World) -> None:
    cid = await world.start()
    await world.admin_reply(cid)
    response = await world.api.delete(f"/conversations/{cid}")
    assert response.status_code == 200
    assert response.json() == {"id": cid, "object": "conversation", "deleted": True}
    assert (await world.api.get(f"/conversations/{cid}")).status_code == 404
    assert (await world.api.delete(f"/conversations/{cid}")).status_code == 404


# ------------------------------------------------------------------------------ contacts


async def test_attach_and_detach_contacts(world: World) -> None:
    cid = await world.start()
    other = await create_contact(world.db, world.ws, world.ids, world.clock, email="d@x.org")
    response = await world.api.post(
        f"/conversations/{cid}/customers",
        json={"admin_id": world.admin, "customer": {"intercom_user_id": other}},
    )
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["contacts"]["contacts"]] == [world.contact, other]
    assert body["customers"] == [
        {"type": "user", "id": world.contact},
        {"type": "user", "id": other},
    ]
    assert last_part(body)["part_type"] == "participant_added"
    # An unknown email makes a lead, as POST /contacts would: the email trimmed.
    by_email = await world.api.post(
        f"/conversations/{cid}/customers",
        json={"admin_id": world.admin, "customer": {"email": " new.lead@example.com\n"}},
    )
    assert by_email.status_code == 200
    lead = by_email.json()["customers"][-1]
    assert lead["type"] == "lead"
    assert (await world.api.get(f"/contacts/{lead['id']}")).json()["email"] == (
        "new.lead@example.com"
    )
    # ... and the same email, sent again with spaces, finds that lead.
    again = await world.api.post(
        f"/conversations/{cid}/customers",
        json={"admin_id": world.admin, "customer": {"email": "new.lead@example.com "}},
    )
    assert again.status_code == 200
    assert again.json()["customers"] == by_email.json()["customers"]
    detached = await world.api.request(
        "DELETE", f"/conversations/{cid}/customers/{other}", json={"admin_id": world.admin}
    )
    assert detached.status_code == 200
    assert other not in [c["id"] for c in detached.json()["contacts"]["contacts"]]
    assert last_part(detached.json())["part_type"] == "participant_removed"


async def test_contact_errors_and_the_last_contact_stays(world: World) -> None:
    cid = await world.start()
    last = await world.api.request(
        "DELETE", f"/conversations/{cid}/customers/{world.contact}", json={"admin_id": world.admin}
    )
    assert last.status_code == 422
    assert last.json()["errors"][0] == {
        "code": "parameter_invalid",
        "message": "Removing the last customer is not allowed",
    }
    stranger = await world.api.request(
        "DELETE", f"/conversations/{cid}/customers/{'b' * 24}", json={"admin_id": world.admin}
    )
    assert stranger.status_code == 404
    assert stranger.json()["errors"][0]["message"] == "User Not Found"
    for payload in (
        {"admin_id": world.admin},
        {"admin_id": world.admin, "customer": {}},
        {"customer": {"email": "a@b.c"}},
        {"admin_id": world.admin, "customer": {"email": "a@b.c", "user_id": "u"}},
    ):
        response = await world.api.post(f"/conversations/{cid}/customers", json=payload)
        assert response.status_code == 400, payload
    unknown = await world.api.post(
        f"/conversations/{cid}/customers",
        json={"admin_id": world.admin, "customer": {"user_id": "nobody"}},
    )
    assert unknown.status_code == 404
    # An unknown email makes a lead only if it is an email, as POST /contacts checks it.
    contacts_before = (await world.api.get("/contacts")).json()["total_count"]
    for email in ("not an email", "   ", "a@b@c"):
        response = await world.api.post(
            f"/conversations/{cid}/customers",
            json={"admin_id": world.admin, "customer": {"email": email}},
        )
        assert response.status_code == 400, (email, response.text)
        assert response.json()["errors"][0]["field"] == "customer.email"
    assert (await world.api.get("/contacts")).json()["total_count"] == contacts_before
    assert len((await world.get(cid))["contacts"]["contacts"]) == 1


# ------------------------------------------------------------------------------ tags


async def test_tag_and_untag(world: World) -> None:
    cid = await world.start()
    tag = await create_tag(world.db, world.ws, world.clock, name="vip")
    response = await world.api.post(
        f"/conversations/{cid}/tags", json={"id": str(tag), "admin_id": str(world.admin)}
    )
    assert response.status_code == 200
    assert response.json() == {
        "type": "tag",
        "id": str(tag),
        "name": "vip",
        "applied_at": world.clock.now(),
        "applied_by": {"type": "admin", "id": str(world.admin)},
    }
    conversation = await world.get(cid)
    assert [t["name"] for t in conversation["tags"]["tags"]] == ["vip"]
    removed = await world.api.request(
        "DELETE", f"/conversations/{cid}/tags/{tag}", json={"admin_id": world.admin}
    )
    assert removed.status_code == 200
    assert removed.json()["id"] == str(tag)
    assert (await world.get(cid))["tags"]["tags"] == []
    again = await world.api.request(
        "DELETE", f"/conversations/{cid}/tags/{tag}", json={"admin_id": world.admin}
    )
    assert again.status_code == 404
    assert again.json()["errors"][0]["code"] == "tag_not_found"
    no_conversation = await world.api.post(
        "/conversations/5555/tags", json={"id": tag, "admin_id": world.admin}
    )
    assert no_conversation.status_code == 404
    assert no_conversation.json()["errors"][0]["message"] == "Conversation not found"
    no_tag = await world.api.post(
        f"/conversations/{cid}/tags", json={"id": "31337", "admin_id": world.admin}
    )
    assert no_tag.status_code == 404
    no_admin = await world.api.post(f"/conversations/{cid}/tags", json={"id": tag})
    assert no_admin.status_code == 400


# ------------------------------------------------------------------------------ redact


async def test_redact_part_and_source(world: World) -> None:
    cid = await world.start("my card number is 4242")
    conversation = await world.contact_reply(cid, "and my password is hunter2")
    part_id = last_part(conversation)["id"]
    world.clock.advance(5)
    response = await world.api.post(
        "/conversations/redact",
        json={"type": "conversation_part", "conversation_id": cid, "conversation_part_id": part_id},
    )
    assert response.status_code == 200
    part = last_part(response.json())
    assert part["body"] == "<p><i>This message was deleted</i></p>"
    assert part["redacted"] is True
    assert part["updated_at"] == world.clock.now()
    source_id = response.json()["source"]["id"]
    response = await world.api.post(
        "/conversations/redact",
        json={"type": "source", "conversation_id": cid, "source_id": source_id},
    )
    assert response.status_code == 200
    assert response.json()["source"]["redacted"] is True
    assert "4242" not in response.text


async def test_redact_errors(world: World) -> None:
    cid = await world.start()
    snoozed = await world.manage(cid, message_type="snoozed", snoozed_until=world.clock.now() + 60)
    bodiless = last_part(snoozed)["id"]
    not_redactable = await world.api.post(
        "/conversations/redact",
        json={
            "type": "conversation_part",
            "conversation_id": cid,
            "conversation_part_id": bodiless,
        },
    )
    assert not_redactable.status_code == 400
    assert not_redactable.json()["errors"][0]["code"] == "conversation_part_not_redactable"
    missing = await world.api.post(
        "/conversations/redact",
        json={"type": "conversation_part", "conversation_id": cid, "conversation_part_id": "999"},
    )
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "conversation_part_or_message_not_found"
    for payload in ({}, {"type": "everything"}, {"type": "source", "conversation_id": cid}):
        assert (await world.api.post("/conversations/redact", json=payload)).status_code == 400
    message = await world.api.post(
        "/messages",
        json={
            "message_type": "inapp",
            "body": "hi",
            "from": {"type": "admin", "id": world.admin},
            "to": {"type": "user", "id": world.contact},
            "create_conversation_without_contact_reply": True,
        },
    )
    admin_conversation = message.json()["conversation_id"]
    admin_source = (await world.get(admin_conversation))["source"]["id"]
    refused = await world.api.post(
        "/conversations/redact",
        json={"type": "source", "conversation_id": admin_conversation, "source_id": admin_source},
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "conversation_part_not_redactable"


# ------------------------------------------------------------------------------ messages


async def test_admin_message_hidden_until_the_contact_replies(world: World) -> None:
    response = await world.api.post(
        "/messages",
        json={
            "message_type": "in_app",
            "body": "Welcome aboard",
            "from": {"type": "admin", "id": str(world.admin)},
            "to": {"type": "user", "id": world.contact},
        },
    )
    assert response.status_code == 200
    message = response.json()
    assert message["type"] == "admin_message"
    assert message["message_type"] == "inapp"
    assert "conversation_id" not in message
    assert (await world.api.get("/conversations")).json()["total_count"] == 0
    conversation = await world.contact_reply("last", "Thanks!")
    assert conversation["source"]["id"] == message["id"]
    assert conversation["source"]["delivered_as"] == "admin_initiated"
    assert conversation["source"]["author"]["id"] == str(world.admin)
    assert (await world.api.get("/conversations")).json()["total_count"] == 1


async def test_total_count_follows_every_way_a_conversation_appears_or_goes(
    world: World,
) -> None:
    """total_count is kept as conversations are created, revealed and deleted (not counted per
    page): it must always be the number of visible conversations there are."""

    async def total() -> int:
        listed = (await world.api.get("/conversations", params={"per_page": 150})).json()
        assert listed["total_count"] == len(listed["conversations"])
        async with world.db.transaction() as tx:
            counted = await tx.fetch_val(
                "SELECT COUNT(*) FROM conversations WHERE workspace_id = :ws AND visible = :v",
                {"ws": world.ws.workspace_id, "v": True},
            )
        assert listed["total_count"] == counted
        return int(listed["total_count"])

    started = [await world.start(f"help {n}") for n in range(10)]  # ids over every shard
    assert await total() == 10
    message = {
        "message_type": "in_app",
        "body": "Welcome",
        "from": {"type": "admin", "id": str(world.admin)},
        "to": {"type": "user", "id": world.contact},
    }
    assert (await world.api.post("/messages", json=message)).status_code == 200
    assert await total() == 10  # an admin's message is hidden until the contact replies
    await world.contact_reply("last", "Thanks!")
    assert await total() == 11
    await world.admin_reply(started[0])
    await world.manage(started[1], message_type="close", type="admin")
    assert await total() == 11
    for cid in started[:4]:
        assert (await world.api.delete(f"/conversations/{cid}")).status_code == 200
    assert await total() == 7
    failed = await world.api.delete(f"/conversations/{started[0]}")  # already gone
    assert failed.status_code == 404
    assert await total() == 7


async def test_admin_email_with_conversation(world: World) -> None:
    response = await world.api.post(
        "/messages",
        json={
            "message_type": "email",
            "subject": "Your invoice",
            "body": "Attached.",
            "template": "plain",
            "from": {"type": "admin", "id": world.admin},
            "to": {"type": "user", "id": world.contact},
            "create_conversation_without_contact_reply": True,
        },
    )
    assert response.status_code == 200
    message = response.json()
    assert message["subject"] == "Your invoice"
    assert message["message_type"] == "email"
    conversation = await world.get(message["conversation_id"])
    assert conversation["source"]["type"] == "email"
    assert conversation["source"]["subject"] == "Your invoice"
    assert conversation["teammates"]["admins"] == [{"type": "admin", "id": str(world.admin)}]


async def test_message_errors(world: World) -> None:
    base = {
        "from": {"type": "admin", "id": world.admin},
        "to": {"type": "user", "id": world.contact},
    }
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**base, "message_type": "inapp"}, 400, "Body is required"),
        (
            {**base, "message_type": "email", "body": "x"},
            422,
            "No subject supplied for email message",
        ),
        ({**base, "message_type": "fax", "body": "x"}, 400, ""),
        ({"message_type": "inapp", "body": "x", "to": base["to"]}, 400, ""),
        (
            {**base, "message_type": "inapp", "body": "x", "to": {"type": "user", "id": "c" * 24}},
            404,
            "User Not Found",
        ),
        (
            {**base, "message_type": "inapp", "body": "x", "from": {"type": "admin", "id": 999}},
            404,
            "Admin not found",
        ),
    ]
    for payload, status, message in cases:
        response = await world.api.post("/messages", json=payload)
        assert response.status_code == status, (payload, response.text)
        if message:
            assert response.json()["errors"][0]["message"] == message


async def test_message_recipient_errors_name_the_field_the_client_sent(world: World) -> None:
    """`to` is one recipient or a list of them (a union): its errors name `to.id`, `to.type`
    or `to`, never the label pydantic gives a union member (`to.Recipient.id`)."""
    base = {"message_type": "inapp", "body": "x", "from": {"type": "admin", "id": world.admin}}
    cases: list[tuple[Any, str, str]] = [
        ({"type": "user"}, "to.id", "parameter_not_found"),
        ({"type": "robot", "id": world.contact}, "to.type", "parameter_invalid"),
        ({"type": "user", "id": 7}, "to.id", "parameter_invalid"),
        ([{"type": "user"}], "to.id", "parameter_not_found"),
        ([{"type": "robot", "id": world.contact}], "to.type", "parameter_invalid"),
        (5, "to", "parameter_invalid"),
        ("someone", "to", "parameter_invalid"),
    ]
    for to, field, code in cases:
        response = await world.api.post("/messages", json={**base, "to": to})
        assert response.status_code == 400, (to, response.text)
        error = response.json()["errors"][0]
        assert (error["field"], error["code"]) == (field, code), (to, error)
        assert "Recipient" not in error["message"], error
        assert "ContactRef" not in error["message"], error
    assert (await world.api.get("/conversations")).json()["total_count"] == 0


def test_union_labels_never_reach_a_field_but_client_keys_do() -> None:
    """No route has a union under keys the client names yet (custom attributes are checked by
    the services), so the rule is shown on a model: a key spelt like a label (`Plan`, `str`)
    is the client's and stays; the labels pydantic adds (`str`, `int`) go."""

    class Body(BaseModel):
        custom_attributes: dict[str, StrictStr | StrictInt]

    for key in ("Plan", "str", "list[Recipient]"):
        with pytest.raises(InvalidParameter) as raised:
            parse_model(Body, {"custom_attributes": {key: [1]}})
        assert raised.value.field == f"custom_attributes.{key}"
        assert raised.value.message.startswith(f"custom_attributes.{key}: ")


# ------------------------------------------------------------------------------ isolation & outbox


async def test_other_workspaces_see_nothing(
    world: World, app: Any, other_workspace_token: Any
) -> None:
    from tests.conftest import make_client

    cid = await world.start()
    other = await other_workspace_token()
    async with make_client(app, other.token) as intruder:
        assert (await intruder.get(f"/conversations/{cid}")).status_code == 404
        assert (await intruder.get("/conversations")).json()["total_count"] == 0
        reply = await intruder.post(
            f"/conversations/{cid}/reply",
            json={
                "message_type": "comment",
                "type": "admin",
                "admin_id": other.owner_admin_id,
                "body": "hijack",
            },
        )
        assert reply.status_code == 404
        assert (await intruder.delete(f"/conversations/{cid}")).status_code == 404
    assert (await world.get(cid))["conversation_parts"]["total_count"] == 0


async def test_outbox_records_events_in_the_same_transaction(world: World) -> None:
    cid = await world.start()
    await world.admin_reply(cid)
    await world.manage(cid, message_type="close", type="admin")
    failed = await world.api.post(
        f"/conversations/{cid}/parts",
        json={"message_type": "snoozed", "admin_id": world.admin, "snoozed_until": 1},
    )
    assert failed.status_code == 400
    async with world.db.transaction() as tx:
        topics = [row["topic"] for row in await outbox.pending(tx, world.ws.workspace_id)]
    assert topics == [
        "conversation.user.created",
        "conversation.admin.replied",
        "conversation.admin.closed",
    ]


async def test_a_priority_change_is_a_part_and_a_topic(world: World) -> None:
    """As Intercom's conversation.priority.updated webhook shows: a `priority_changed` part
    (no body, nothing assigned; by the bot, as the request names no admin) and the topic. Setting
    the priority it already has writes neither."""
    cid = await world.start()
    changed = await world.api.put(f"/conversations/{cid}", json={"priority": "priority"})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    part = last_part(body)
    assert (part["part_type"], part["body"], part["assigned_to"]) == (
        "priority_changed",
        None,
        None,
    )
    assert part["author"]["type"] == "bot"
    assert body["conversation_parts"]["total_count"] == 1
    again = await world.api.put(f"/conversations/{cid}", json={"priority": "priority"})
    assert again.json()["conversation_parts"]["total_count"] == 1
    both = await world.api.put(
        f"/conversations/{cid}", json={"priority": "not_priority", "custom_attributes": {"a": 1}}
    )
    shown = both.json()["conversation_parts"]["conversation_parts"]
    assert [p["part_type"] for p in shown] == [
        "priority_changed", "conversation_attribute_updated_by_admin", "priority_changed"
    ]  # fmt: skip
    assert both.json()["statistics"]["count_conversation_parts"] == 3
    async with world.db.transaction() as tx:
        topics = [row["topic"] for row in await outbox.pending(tx, world.ws.workspace_id)]
    assert topics.count("conversation.priority.updated") == 2


async def test_a_duplicate_user_that_slips_past_the_check_is_a_409_and_changes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service looks for a matching user first; a concurrent create can slip between that
    check and the insert. The unique index decides, and the loser gets a 409, not a 500."""
    from parley.services import contacts as contact_service

    async def no_check(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(contact_service, "_check_unique_user", no_check)
    response = await world.api.post("/contacts", json={"email": "CAROL@example.com"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "conflict"
    listing = (await world.api.get("/contacts")).json()
    assert [c["email"] for c in listing["data"]] == ["carol@example.com"]


@pytest.mark.parametrize("failures", [1, 2, 3])
async def test_a_write_the_database_gave_up_on_is_run_again(
    world: World, monkeypatch: pytest.MonkeyPatch, failures: int
) -> None:
    """PostgreSQL rolls one transaction of a lock cycle back (deadlock_detected): the edge runs
    the request again, up to three times in all, then answers 409; a failed attempt leaves
    nothing behind (here it fails after writing its close part)."""
    cid = await world.start()
    before = await world.get(cid)
    close = conversation_service.close
    attempts: list[int] = []

    async def close_then_give_up(*args: Any, **kwargs: Any) -> Any:
        applied = await close(*args, **kwargs)
        attempts.append(1)
        if len(attempts) <= failures:
            raise TransientConflict("deadlock detected")
        return applied

    monkeypatch.setattr(conversation_service, "close", close_then_give_up)
    response = await world.api.post(
        f"/conversations/{cid}/parts",
        json={"message_type": "close", "type": "admin", "admin_id": str(world.admin)},
    )
    if failures < 3:
        assert response.status_code == 200, response.text
        assert len(attempts) == failures + 1
        after = await world.get(cid)
        assert after["state"] == "closed"
        assert after["conversation_parts"]["total_count"] == 1  # one close part, not several
    else:
        assert response.status_code == 409, response.text
        assert response.json()["errors"][0]["code"] == "conflict"
        assert len(attempts) == 3
        assert await world.get(cid) == before


async def test_a_row_locked_elsewhere_does_not_hang_the_server(
    world: World, backend: str, request: pytest.FixtureRequest
) -> None:
    """PostgreSQL: another session (an operator's psql, a stalled process) holds a
    conversation's row lock. The replies to it wait for the lock; without a bound, each held a
    pooled connection for as long as the lock was held, the pool ran dry, and every other
    request of the server (GET /me) waited as well. A lock wait now ends after the lock
    timeout (a 5xx error.list, as SQLite's busy timeout), and the server answers meanwhile."""
    if backend != "postgresql":
        pytest.skip("a row lock held by another session: PostgreSQL")
    import asyncpg

    from parley.api.app import create_app
    from parley.config import Settings
    from parley.db.database import PostgresDatabase
    from tests.conftest import make_client

    url: str = request.getfixturevalue("postgresql_url_fixture")
    cid = await world.start()
    small = await PostgresDatabase.connect(
        url, min_size=1, max_size=4, lock_timeout=1, acquire_timeout=5
    )
    holder = await asyncpg.connect(url)
    try:
        app = create_app(Settings(), db=small, clock=world.clock, ids=world.ids)
        async with make_client(app, world.ws.token) as api:
            async with holder.transaction():
                await holder.execute(
                    f"SELECT id FROM conversations WHERE id = {int(cid)} FOR UPDATE"
                )
                note = {
                    "message_type": "note",
                    "type": "admin",
                    "admin_id": str(world.admin),
                    "body": "n",
                }
                replies = [
                    asyncio.create_task(api.post(f"/conversations/{cid}/reply", json=note))
                    for _ in range(8)
                ]
                me = await asyncio.wait_for(api.get("/me"), timeout=20)
                assert me.status_code == 200, me.text
                answered = await asyncio.wait_for(asyncio.gather(*replies), timeout=20)
            for reply in answered:
                assert reply.status_code == 500, reply.text
                assert reply.json()["type"] == "error.list"
            after = await api.post(f"/conversations/{cid}/reply", json={**note, "body": "now"})
            assert after.status_code == 200, after.text
    finally:
        await holder.close()
        await small.close()


async def test_a_rendering_shows_one_moment_of_the_conversation(
    world: World, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """A GET rendered from the rows (any version but the stored document's, display_as, a
    missing document) reads the row, then the parts, contacts and tags. On PostgreSQL those
    were separate statements each seeing the latest commit, so a reply committed between them
    showed in the parts but not in the row: `total_count` 1 over two parts, statistics
    counting one. SQLite's read snapshot never mixed them."""
    if backend != "postgresql":
        # A SQLite read never yields between its statements (the driver is synchronous), so no
        # write of this process can come between them; this test makes one come, which a
        # write batch, letting the reading snapshot go, would allow.
        pytest.skip("commits between a read's statements: PostgreSQL")
    cid = await world.start()
    await world.admin_reply(cid, kind="note", body="first")
    parts_of = conversation_store.parts_of
    meanwhile: list[bool] = []

    async def parts_after_a_reply(*args: Any, **kwargs: Any) -> Any:
        if not meanwhile:
            meanwhile.append(True)
            await world.admin_reply(cid, kind="note", body="meanwhile")
        return await parts_of(*args, **kwargs)

    monkeypatch.setattr(conversation_store, "parts_of", parts_after_a_reply)
    shown = await world.get(cid, display_as="plaintext")
    assert meanwhile
    parts = shown["conversation_parts"]
    assert parts["total_count"] == len(parts["conversation_parts"]), parts
    assert shown["statistics"]["count_conversation_parts"] == parts["total_count"]
    monkeypatch.undo()
    after = await world.get(cid, display_as="plaintext")
    assert after["conversation_parts"]["total_count"] == 2
