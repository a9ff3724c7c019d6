"""API versions: the 1.x model of seed 003 (conversations, lists, actions through /reply, users),
the 2.15/2.16 differences, and the per-workspace default version. Every 1.x response here is
validated by the client against src/parley/schemas/v1_conversation.json; 2.16 responses against
the official 2.16 description."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parley.db.database import Database
from parley.kit.clock import FrozenClock
from parley.kit.ids import IdFactory
from parley.render.conversation_v1 import WAITING_SENTINEL
from parley.services.workspaces import CreatedWorkspace
from tests.conftest import START, ValidatingClient
from tests.contract.openapi import ContractError, load_spec
from tests.contract.v1 import validate_v1_response
from tests.factories import create_admin, create_contact, create_tag, create_team

V1 = {"Intercom-Version": "1.0"}
V14 = {"Intercom-Version": "1.4"}
V215 = {"Intercom-Version": "2.15"}
V216 = {"Intercom-Version": "2.16"}


async def _contact(
    db: Database, ws: CreatedWorkspace, ids: IdFactory, clock: FrozenClock, **kw: Any
) -> str:
    return await create_contact(db, ws, ids, clock, **kw)


async def _start(api: ValidatingClient, contact: str, body: str = "Hello, I need help") -> str:
    response = await api.post(
        "/conversations", json={"from": {"type": "user", "id": contact}, "body": body}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["conversation_id"])


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ----------------------------------------------------------------------------- 1.x model


async def test_v1_conversation_is_the_seed_003_model_field_for_field(
    api: ValidatingClient,
    workspace: CreatedWorkspace,
    db: Database,
    ids: IdFactory,
    clock: FrozenClock,
) -> None:
    contact = await _contact(db, workspace, ids, clock, email="ann@example.com", name="Ann")
    cid = await _start(api, contact)
    admin = str(workspace.owner_admin_id)

    waiting = await _ok(await api.get(f"/conversations/{cid}", headers=V1))
    assert list(waiting) == [
        "type",
        "id",
        "created_at",
        "updated_at",
        "waiting_since",
        "snoozed_until",
        "conversation_message",
        "user",
        "customers",
        "assignee",
        "open",
        "state",
        "read",
        "customer_first_reply",
        "conversation_rating",
        "tags",
        "conversation_parts",
    ]
    assert waiting["waiting_since"] == START  # a customer is waiting: the real time
    assert waiting["user"] == {"type": "user", "id": contact}
    assert waiting["customers"] == [{"type": "user", "id": contact}]
    assert waiting["assignee"] == {"type": "nobody_admin", "id": None}
    message = waiting["conversation_message"]
    assert message["delivered_as"] == "customer_initiated"
    assert message["author"] == {
        "type": "user",
        "id": contact,
        "name": "Ann",
        "email": "ann@example.com",
    }
    assert message["body"] == "<p>Hello, I need help</p>"
    assert waiting["customer_first_reply"]["created_at"] == START
    assert waiting["conversation_rating"] == {
        "rating": None,
        "remark": None,
        "created_at": None,
        "customer": {"type": None, "id": None},
        "teammate": {"type": None, "id": None},
    }
    assert (waiting["open"], waiting["state"], waiting["read"]) == (True, "open", False)
    for key in ("source", "contacts", "admin_assignee_id", "priority", "statistics", "teammates"):
        assert key not in waiting

    tag = await create_tag(db, workspace, clock, name="vip")
    await api.post(f"/conversations/{cid}/tags", json={"id": str(tag), "admin_id": admin})
    clock.advance(30)
    replied = await _ok(
        await api.post(
            f"/conversations/{cid}/reply",
            headers=V1,
            json={"type": "admin", "message_type": "comment", "admin_id": admin, "body": "Hi"},
        )
    )
    assert replied["waiting_since"] == WAITING_SENTINEL == 64654125776  # nobody waits
    assert replied["tags"] == {
        "type": "tag.list",
        "tags": [{"type": "tag", "id": str(tag), "name": "vip"}],
    }
    parts = replied["conversation_parts"]
    assert parts["type"] == "conversation_part.list"
    assert parts["total_count"] == len(parts["conversation_parts"]) == 1
    assert parts["conversation_parts"][0]["author"]["type"] == "admin"
    assert "redacted" not in parts["conversation_parts"][0]

    # The same conversation in 2.14 keeps the 2.x model.
    two = await _ok(await api.get(f"/conversations/{cid}"))
    assert two["waiting_since"] is None
    assert "user" not in two
    assert "source" in two


async def test_v1_schema_refuses_a_2x_field() -> None:
    """The seed 003 schema is closed: a 2.x member in a 1.x response fails validation."""
    body = {
        "type": "conversation.list",
        "conversations": [],
        "pages": {"type": "pages", "next": None, "page": 1, "per_page": 20, "total_pages": 1},
        "total_count": 0,
    }
    with pytest.raises(ContractError, match="total_count"):
        validate_v1_response("GET", "/conversations", 200, body)
    with pytest.raises(ContractError, match=r"no 1\.x definition"):
        validate_v1_response("GET", "/tags", 200, {})


async def test_v1_actions_through_reply(
    api: ValidatingClient,
    workspace: CreatedWorkspace,
    db: Database,
    ids: IdFactory,
    clock: FrozenClock,
) -> None:
    contact = await _contact(db, workspace, ids, clock, email="bo@example.com")
    cid = await _start(api, contact)
    admin = str(workspace.owner_admin_id)
    team = await create_team(db, workspace, clock, name="Support")

    def act(message_type: str, **extra: Any) -> dict[str, Any]:
        return {"type": "admin", "admin_id": admin, "message_type": message_type, **extra}

    url = f"/conversations/{cid}/reply"
    assigned = await _ok(
        await api.post(url, headers=V14, json=act("assignment", assignee_id=admin))
    )
    assert assigned["assignee"] == {"type": "admin", "id": admin}
    assert assigned["conversation_parts"]["conversation_parts"][-1]["part_type"] == "assignment"
    until = START + 3600
    snoozed = await _ok(await api.post(url, headers=V14, json=act("snoozed", snoozed_until=until)))
    assert (snoozed["state"], snoozed["snoozed_until"], snoozed["open"]) == ("snoozed", until, True)
    opened = await _ok(await api.post(url, headers=V14, json=act("open")))
    assert opened["state"] == "open"
    closed = await _ok(await api.post(url, headers=V14, json=act("close", body="Bye")))
    assert (closed["state"], closed["open"]) == ("closed", False)
    assert closed["waiting_since"] == WAITING_SENTINEL  # closed after the user's message
    unassigned = await _ok(
        await api.post(url, headers=V14, json=act("assignment", assignee_id="0"))
    )
    assert unassigned["assignee"] == {"type": "nobody_admin", "id": None}
    assert unassigned["conversation_parts"]["conversation_parts"][-1]["assigned_to"] == {
        "type": "nobody_admin",
        "id": None,
    }
    teamed = await _ok(
        await api.post(
            f"/conversations/{cid}/parts",
            headers=V14,
            json={
                "type": "team",
                "admin_id": admin,
                "message_type": "assignment",
                "assignee_id": str(team),
            },
        )
    )
    assert teamed["assignee"] == {"type": "team", "id": str(team)}

    # 2.x: the reply endpoint does not manage (the description allows comment/note/quick_reply).
    refused = await api.post(url, json=act("close"))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "message_type"
    # 1.x errors still come back as an error.list (validated by the 1.x schema).
    missing = await api.post(url, headers=V1, json=act("snoozed"))
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "snoozed_until"


async def test_v1_assignment_through_reply_reaches_a_team_by_its_id(
    api: ValidatingClient,
    workspace: CreatedWorkspace,
    db: Database,
    ids: IdFactory,
    clock: FrozenClock,
) -> None:
    """1.2's "Assign to a team — … Just replace the admin ID with the team ID": 1.x bodies
    say `type: admin` (who acts), so an assignee_id that names no admin but a team assigns to
    that team. Admins and teams are numbered apart; an id naming both is the admin's."""
    contact = await _contact(db, workspace, ids, clock, email="tim@example.com")
    cid = await _start(api, contact)
    admin = str(workspace.owner_admin_id)
    listed = await _ok(await api.get("/admins"))
    admin_ids = {int(a["id"]) for a in listed["admins"]}
    teams = [await create_team(db, workspace, clock, name=f"Team {n}") for n in range(4)]
    while max(admin_ids) < max(teams):  # so that some team id is also an admin's
        admin_ids.add(
            await create_admin(db, workspace, clock, name="A", email=f"a{len(admin_ids)}@x.com")
        )
    team_only = next(t for t in teams if t not in admin_ids)
    shared = next(t for t in teams if t in admin_ids)
    url = f"/conversations/{cid}/reply"
    v12 = {"Intercom-Version": "1.2"}

    def assign(assignee_id: object) -> dict[str, Any]:
        return {"body": "Reassigning to team", "type": "admin", "admin_id": admin,
                "assignee_id": assignee_id, "message_type": "assignment"}  # fmt: skip

    teamed = await _ok(await api.post(url, headers=v12, json=assign(str(team_only))))
    assert teamed["assignee"] == {"type": "team", "id": str(team_only)}
    part = teamed["conversation_parts"]["conversation_parts"][-1]
    assert (part["part_type"], part["assigned_to"]) == (
        "assignment",
        {"type": "team", "id": str(team_only)},
    )
    assert part["body"] == "<p>Reassigning to team</p>"
    two = await _ok(await api.get(f"/conversations/{cid}"))
    assert (two["team_assignee_id"], two["admin_assignee_id"]) == (team_only, None)

    both = await _ok(await api.post(url, headers=v12, json=assign(shared)))
    assert both["assignee"] == {"type": "admin", "id": str(shared)}  # the admin wins
    two = await _ok(await api.get(f"/conversations/{cid}"))
    assert (two["team_assignee_id"], two["admin_assignee_id"]) == (team_only, shared)

    before = await _ok(await api.get(f"/conversations/{cid}", headers=V1))
    unknown = await api.post(url, headers=v12, json=assign(str(max(admin_ids | set(teams)) + 1)))
    assert unknown.status_code == 404, unknown.text
    error = unknown.json()["errors"][0]
    assert (error["code"], error["field"]) == ("assignee_not_found", "assignee_id")
    assert await _ok(await api.get(f"/conversations/{cid}", headers=V1)) == before

    # 2.x: `type` decides; a team's id is no admin's.
    refused = await api.post(
        f"/conversations/{cid}/parts",
        json={"type": "admin", "admin_id": admin, "message_type": "assignment",
              "assignee_id": str(team_only)},
    )  # fmt: skip
    assert refused.status_code == 404
    assert refused.json()["errors"][0]["code"] == "assignee_not_found"


async def test_v1_list_paginates_by_page_number_with_next_urls(
    api: ValidatingClient,
    workspace: CreatedWorkspace,
    db: Database,
    ids: IdFactory,
    clock: FrozenClock,
) -> None:
    contact = await _contact(db, workspace, ids, clock, email="cy@example.com")
    made = []
    for n in range(3):
        made.append(await _start(api, contact, body=f"number {n}"))
        clock.advance(1)
    first = await _ok(await api.get("/conversations", params={"per_page": 2}, headers=V1))
    assert first["pages"] == {
        "type": "pages",
        "page": 1,
        "per_page": 2,
        "total_pages": 2,
        "next": "http://parley.test/conversations?per_page=2&page=2",
    }
    assert [c["id"] for c in first["conversations"]] == [made[2], made[1]]
    assert "tags" not in first["conversations"][0]
    assert "conversation_parts" not in first["conversations"][0]
    second = await _ok(await api.get(first["pages"]["next"], headers=V1))
    assert [c["id"] for c in second["conversations"]] == [made[0]]
    assert second["pages"]["next"] is None
    assert second["pages"]["page"] == 2
    beyond = await _ok(await api.get("/conversations", params={"page": 9}, headers=V1))
    assert beyond["conversations"] == []
    assert beyond["pages"]["next"] is None
    bad = await api.get("/conversations", params={"page": "0"}, headers=V1)
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "page"
    # 2.x keeps cursors; `page` is also understood there and the cursor continues from it.
    two = await _ok(await api.get("/conversations", params={"per_page": 2, "page": 2}))
    assert [c["id"] for c in two["conversations"]] == [made[0]]
    assert "next" not in two["pages"]


async def test_v1_users_and_user_started_conversations(
    api: ValidatingClient,
    workspace: CreatedWorkspace,
    db: Database,
    ids: IdFactory,
    clock: FrozenClock,
) -> None:
    created = await _ok(
        await api.post(
            "/users", headers=V1, json={"user_id": "u-1", "email": "dee@example.com", "name": "Dee"}
        )
    )
    assert (created["type"], created["user_id"], created["name"]) == ("user", "u-1", "Dee")
    same = await _ok(await api.post("/users", headers=V1, json={"user_id": "u-1", "name": "D."}))
    assert same["id"] == created["id"]
    assert same["name"] == "D."
    by_email = await _ok(await api.get("/users", params={"email": "DEE@example.com"}, headers=V1))
    assert by_email["id"] == created["id"]
    assert (await _ok(await api.get(f"/users/{created['id']}", headers=V1)))["user_id"] == "u-1"

    lead = await _contact(db, workspace, ids, clock, role="lead", email="lee@example.com")
    assert (await api.get(f"/users/{lead}", headers=V1)).status_code == 404
    assert (await api.get("/users", params={"user_id": "nope"}, headers=V1)).status_code == 404
    missing = await api.post("/users", headers=V1, json={"name": "nobody"})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["code"] == "parameter_not_found"
    not_v2 = await api.get(f"/users/{created['id']}", headers=V216)
    assert not_v2.status_code == 400
    assert not_v2.json()["errors"][0]["code"] == "intercom_version_invalid"

    # A 1.x client starts the conversation as the user and replies by user_id.
    message = await _ok(
        await api.post(
            "/messages",
            headers=V1,
            json={"from": {"type": "user", "id": created["id"]}, "body": "Help!"},
        )
    )
    assert message["type"] == "user_message"
    cid = message["conversation_id"]
    reply = await _ok(
        await api.post(
            f"/conversations/{cid}/reply",
            headers=V1,
            json={
                "type": "user",
                "user_id": "u-1",
                "message_type": "comment",
                "body": "Still there?",
            },
        )
    )
    assert reply["conversation_parts"]["conversation_parts"][-1]["author"]["id"] == created["id"]
    # A lead in a conversation is a `lead` customer.
    attached = await _ok(
        await api.post(
            f"/conversations/{cid}/customers",
            headers=V1,
            json={
                "admin_id": str(workspace.owner_admin_id),
                "customer": {"intercom_user_id": lead},
            },
        )
    )
    assert attached["customers"] == [
        {"type": "user", "id": created["id"]},
        {"type": "lead", "id": lead},
    ]
    # From 2.0 a non-admin sender of POST /messages is refused, as the description says.
    refused = await api.post(
        "/messages",
        json={
            "from": {"type": "user", "id": created["id"]},
            "body": "Help!",
            "message_type": "inapp",
            "to": {"type": "user", "id": created["id"]},
        },
    )
    assert refused.status_code == 400


async def test_v1_messages_name_users_and_leads_by_user_id_or_email(
    api: ValidatingClient, workspace: CreatedWorkspace
) -> None:
    """1.x: "The sending user or lead is identified by their user_id, email or id values in
    the from field"; "Receiving Users are identified by a user_id, id, or email field in the to
    object". Exactly one of them; by user_id or email a contact of the kind `type` names."""
    user = await _ok(
        await api.post("/users", headers=V1, json={"user_id": "u-1", "email": "u1@example.com"})
    )
    uid = user["id"]
    # A lead may share the user's email (leads are not checked against users).
    created = await _ok(await api.post("/contacts", headers=V1, json={"email": "u1@example.com"}))
    lead, lead_user_id = created["id"], created["user_id"]
    v12 = {"Intercom-Version": "1.2"}

    async def started_by(sender: dict[str, Any]) -> dict[str, Any]:
        message = await _ok(
            await api.post("/messages", headers=v12, json={"from": sender, "body": "x"})
        )
        assert message["type"] == "user_message"
        return await _ok(await api.get(f"/conversations/{message['conversation_id']}", headers=V1))

    for sender, expected in [
        ({"type": "user", "user_id": "u-1"}, {"type": "user", "id": uid}),
        ({"type": "user", "email": "U1@example.com"}, {"type": "user", "id": uid}),
        ({"type": "lead", "email": "u1@example.com"}, {"type": "lead", "id": lead}),
        ({"type": "lead", "user_id": lead_user_id}, {"type": "lead", "id": lead}),
    ]:
        assert (await started_by(sender))["user"] == expected, sender

    admin = str(workspace.owner_admin_id)
    email = {"message_type": "email", "subject": "Hey", "body": "Ponies", "template": "plain",
             "from": {"type": "admin", "id": admin},
             "create_conversation_without_contact_reply": True}  # fmt: skip
    for to in ({"type": "user", "email": "u1@example.com"}, {"type": "user", "user_id": "u-1"}):
        message = await _ok(await api.post("/messages", headers=v12, json={**email, "to": to}))
        assert message["type"] == "admin_message"
        conversation = await _ok(
            await api.get(f"/conversations/{message['conversation_id']}", headers=V1)
        )
        assert conversation["user"] == {"type": "user", "id": uid}, to

    before = (await _ok(await api.get("/conversations", headers=V1)))["conversations"]
    refused: list[tuple[dict[str, Any], int, str]] = [
        ({"from": {"type": "user", "user_id": "nobody"}, "body": "x"}, 404, "from.user_id"),
        ({"from": {"type": "user", "email": "no@example.com"}, "body": "x"}, 404, "from.email"),
        # by user_id or email, a user is not a lead: only leads are looked at
        ({"from": {"type": "lead", "user_id": "u-1"}, "body": "x"}, 404, "from.user_id"),
        ({"from": {"type": "user"}, "body": "x"}, 400, "from.id"),
        # several: the most specific decides (id, then user_id, then email)
        ({"from": {"type": "user", "id": "nobody", "email": "u1@example.com"}, "body": "x"}, 404,
         "from.id"),
        ({**email, "to": {"type": "user", "email": "no@example.com"}}, 404, "to.email"),
        ({**email, "to": {"type": "user", "user_id": "nobody"}}, 404, "to.user_id"),
        ({**email, "to": {"type": "user"}}, 400, "to.id"),
        ({**email, "to": {"type": "user", "user_id": "nobody", "email": "u1@example.com"}}, 404,
         "to.user_id"),
    ]  # fmt: skip
    for body, status, field in refused:
        response = await api.post("/messages", headers=v12, json=body)
        assert response.status_code == status, (body, response.text)
        error = response.json()["errors"][0]
        assert error["field"] == field, (body, error)
        if status == 404:
            assert error["message"] == "User Not Found"
    assert (await _ok(await api.get("/conversations", headers=V1)))["conversations"] == before

    # 2.x takes them too (a superset of its description's `to`, whose answer is unchanged).
    message = await _ok(
        await api.post(
            "/messages",
            headers=V216,
            json={**email, "to": {"type": "user", "email": "u1@example.com"}},
        )
    )
    two = await _ok(await api.get(f"/conversations/{message['conversation_id']}", headers=V216))
    assert two["contacts"]["contacts"][0]["id"] == uid


# ----------------------------------------------------------------------------- 2.15 / 2.16


async def test_the_preview_version_is_answered_as_the_newest(
    api: ValidatingClient,
    workspace: CreatedWorkspace,
    db: Database,
    ids: IdFactory,
    clock: FrozenClock,
) -> None:
    """Intercom's preview version: `Unstable` in intercom-client's version option, `Preview` in
    Intercom's docs, case-sensitive. Answered as 2.16, the newest version Parley renders; an SDK
    configured with it must not fail on every call."""
    contact = await _contact(db, workspace, ids, clock, name="Pia")
    cid = await _start(api, contact)
    newest = await _ok(await api.get(f"/conversations/{cid}", headers=V216))
    for name in ("Unstable", "Preview", " Preview\t"):  # whitespace is not the value's
        got = await _ok(await api.get(f"/conversations/{cid}", headers={"Intercom-Version": name}))
        assert got == newest, name
    for name in ("unstable", "preview", "PREVIEW"):
        refused = await api.get(f"/conversations/{cid}", headers={"Intercom-Version": name})
        assert refused.status_code == 400, name
        assert refused.json()["errors"][0]["code"] == "intercom_version_invalid"


async def test_216_assignees_priority_company_channel_and_source_author(
    api: ValidatingClient,
    workspace: CreatedWorkspace,
    db: Database,
    ids: IdFactory,
    clock: FrozenClock,
) -> None:
    contact = await _contact(db, workspace, ids, clock, name="Eve")
    cid = await _start(api, contact)
    old = await _ok(await api.get(f"/conversations/{cid}"))
    assert (old["admin_assignee_id"], old["priority"]) == (None, "not_priority")
    assert "company" not in old
    assert "channel" not in old
    assert old["source"]["author"]["email"] == ""
    v215 = await _ok(await api.get(f"/conversations/{cid}", headers=V215))
    assert v215["company"] is None
    assert "channel" not in v215
    new = await _ok(await api.get(f"/conversations/{cid}", headers=V216))
    assert (new["admin_assignee_id"], new["team_assignee_id"], new["priority"]) == (0, 0, "none")
    assert new["company"] is None
    assert new["channel"] == {"initial": "messenger", "current": "messenger"}
    assert new["source"]["author"] == {"type": "user", "id": contact, "name": "Eve", "email": None}

    # Setting priority (an extension): levels from 2.16, priority/not_priority before.
    set_high = await _ok(
        await api.put(f"/conversations/{cid}", headers=V216, json={"priority": "urgent"})
    )
    assert set_high["priority"] == "urgent"
    assert (await _ok(await api.get(f"/conversations/{cid}")))["priority"] == "priority"
    cleared = await _ok(await api.put(f"/conversations/{cid}", json={"priority": "not_priority"}))
    assert cleared["priority"] == "not_priority"
    starred = await _ok(await api.put(f"/conversations/{cid}", json={"priority": "priority"}))
    assert starred["priority"] == "priority"
    assert (await _ok(await api.get(f"/conversations/{cid}", headers=V216)))["priority"] == "high"
    for version, value in (("2.14", "urgent"), ("2.16", "priority")):
        bad = await api.put(
            f"/conversations/{cid}", headers={"Intercom-Version": version}, json={"priority": value}
        )
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["field"] == "priority"


async def test_216_admin_role_and_contact_owner_id(
    api: ValidatingClient, workspace: CreatedWorkspace
) -> None:
    admin = f"/admins/{workspace.owner_admin_id}"
    assert "role" not in (await _ok(await api.get(admin)))
    assert (await _ok(await api.get(admin, headers=V216)))["role"] is None
    listed = await _ok(await api.get("/admins", headers=V216))
    assert all(a["role"] is None for a in listed["admins"])
    owner = workspace.owner_admin_id
    made = await _ok(
        await api.post("/contacts", json={"email": "o@example.com", "owner_id": owner})
    )
    assert made["owner_id"] == owner
    seen = await _ok(await api.get(f"/contacts/{made['id']}", headers=V216))
    assert seen["owner_id"] == str(owner)


# ----------------------------------------------------------------------------- attributes


async def test_216_conversation_attributes_crud_options_and_values(
    api: ValidatingClient,
    workspace: CreatedWorkspace,
    db: Database,
    ids: IdFactory,
    clock: FrozenClock,
) -> None:
    created = await _ok(
        await api.post(
            "/conversations/attributes",
            headers=V216,
            json={
                "name": "tier",
                "data_type": "list",
                "description": "Customer tier",
                "options": [{"label": "Gold"}, {"label": "Silver"}],
            },
        )
    )
    assert created["type"] == "conversation_attribute"
    assert isinstance(created["id"], int)
    assert [o["label"] for o in created["options"]] == ["Gold", "Silver"]
    assert created["admin_id"] == str(workspace.owner_admin_id)
    aid = created["id"]
    counter = await _ok(
        await api.post(
            "/conversations/attributes",
            headers=V216,
            json={"name": "count", "data_type": "integer"},
        )
    )
    duplicate = await api.post(
        "/conversations/attributes", headers=V216, json={"name": "tier", "data_type": "string"}
    )
    assert duplicate.status_code == 422
    bad_type = await api.post(
        "/conversations/attributes", headers=V216, json={"name": "x", "data_type": "nope"}
    )
    assert bad_type.status_code == 422
    assert "Allowed types" in bad_type.json()["errors"][0]["message"]
    missing = await api.post(
        "/conversations/attributes", headers=V216, json={"data_type": "string"}
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "name"

    renamed = await _ok(
        await api.put(
            f"/conversations/attributes/{aid}",
            headers=V216,
            json={"description": "Tier", "required": True},
        )
    )
    assert (renamed["description"], renamed["required"]) == ("Tier", True)
    with_bronze = await _ok(
        await api.post(
            f"/conversations/attributes/{aid}/options", headers=V216, json={"label": "Bronze"}
        )
    )
    bronze = with_bronze["options"][-1]["id"]
    relabelled = await _ok(
        await api.put(
            f"/conversations/attributes/{aid}/options/{bronze}",
            headers=V216,
            json={"label": "Copper"},
        )
    )
    assert relabelled["options"][-1]["label"] == "Copper"
    gone = await _ok(
        await api.delete(f"/conversations/attributes/{aid}/options/{bronze}", headers=V216)
    )
    assert gone["options"][-1]["archived"] is True
    assert (
        await api.delete(f"/conversations/attributes/{aid}/options/nope", headers=V216)
    ).status_code == 404
    not_list = await api.post(
        f"/conversations/attributes/{counter['id']}/options", headers=V216, json={"label": "x"}
    )
    assert not_list.status_code == 422

    # Values on conversations follow the definitions; undefined keys stay free.
    contact = await _contact(db, workspace, ids, clock)
    cid = await _start(api, contact)
    ok = await _ok(
        await api.put(
            f"/conversations/{cid}",
            json={"custom_attributes": {"tier": "Gold", "count": 3, "free": "anything"}},
        )
    )
    assert ok["custom_attributes"] == {"tier": "Gold", "count": 3, "free": "anything"}
    for value in ("Copper", "Platinum", 3):
        wrong = await api.put(f"/conversations/{cid}", json={"custom_attributes": {"tier": value}})
        assert wrong.status_code == 400
        assert wrong.json()["errors"][0]["field"] == "custom_attributes.tier"
    wrong_int = await api.put(f"/conversations/{cid}", json={"custom_attributes": {"count": "3"}})
    assert wrong_int.status_code == 400

    archived = await _ok(await api.delete(f"/conversations/attributes/{aid}", headers=V216))
    assert archived["archived"] is True
    listed = await _ok(await api.get("/conversations/attributes", headers=V216))
    assert [a["name"] for a in listed["data"]] == ["count"]
    everything = await _ok(
        await api.get(
            "/conversations/attributes", headers=V216, params={"include_archived": "true"}
        )
    )
    assert [a["name"] for a in everything["data"]] == ["tier", "count"]
    frozen = await api.put(f"/conversations/{cid}", json={"custom_attributes": {"tier": "Silver"}})
    assert frozen.status_code == 400

    for path in ("/conversations/attributes/999999", "/conversations/attributes/abc"):
        missing_attr = await api.get(path, headers=V216)
        assert missing_attr.status_code == 404
        assert missing_attr.json()["errors"][0]["code"] == "conversation_attribute_not_found"
    older = await api.get("/conversations/attributes")
    assert older.status_code == 400
    assert older.json()["errors"][0]["code"] == "intercom_version_invalid"


async def test_conversation_attributes_are_per_workspace(
    api: ValidatingClient, app: Any, other_workspace_token: Any
) -> None:
    from tests.conftest import make_client

    created = await _ok(
        await api.post(
            "/conversations/attributes", headers=V216, json={"name": "mine", "data_type": "string"}
        )
    )
    other = await other_workspace_token()
    async with make_client(app, other.token) as them:
        seen = await them.get(f"/conversations/attributes/{created['id']}", headers=V216)
        assert seen.status_code == 404
        assert (await _ok(await them.get("/conversations/attributes", headers=V216)))["data"] == []


# ----------------------------------------------------------------------------- default version


async def test_workspace_default_version_admin_api(
    api: ValidatingClient,
    app: Any,
    workspace: CreatedWorkspace,
    db: Database,
    ids: IdFactory,
    clock: FrozenClock,
    other_workspace_token: Any,
) -> None:
    shown = await _ok(await api.get("/_parley/workspace"))
    assert (shown["id"], shown["default_version"]) == (workspace.workspace_id, "2.14")
    contact = await _contact(db, workspace, ids, clock)
    cid = await _start(api, contact)
    changed = await _ok(await api.put("/_parley/workspace", json={"default_version": "1.4"}))
    assert changed["default_version"] == "1.4"
    # Header-less requests now get 1.x (validated here: the client assumes 2.14 without one).
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://parley.test",
        headers={"Authorization": f"Bearer {workspace.token}"},
    ) as bare:
        legacy = await bare.get(f"/conversations/{cid}")
        validate_v1_response("GET", f"/conversations/{cid}", legacy.status_code, legacy.json())
        assert legacy.json()["assignee"] == {"type": "nobody_admin", "id": None}
    # A header still wins.
    assert "source" in await _ok(
        await api.get(f"/conversations/{cid}", headers={"Intercom-Version": "2.14"})
    )
    bad = await api.put("/_parley/workspace", json={"default_version": "3.0"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "default_version"
    missing = await api.put("/_parley/workspace", json={})
    assert missing.status_code == 400
    # Another workspace is untouched.
    other = await other_workspace_token()
    async with make_client_for(app, other.token) as them:
        assert (await _ok(await them.get("/_parley/workspace")))["default_version"] == "2.14"
    async with make_client_for(app, None) as anon:
        assert (
            await anon.put("/_parley/workspace", json={"default_version": "2.16"})
        ).status_code == 401
    await api.put("/_parley/workspace", json={"default_version": "2.14"})


def make_client_for(app: Any, token: str | None) -> ValidatingClient:
    from tests.conftest import make_client

    return make_client(app, token)


async def test_every_official_version_is_accepted_and_an_unknown_one_is_400_on_every_path(
    api: ValidatingClient,
) -> None:
    """The 2.16 description's `intercom_version` enum, each accepted; a version outside it is
    400 intercom_version_invalid wherever it is sent: routes, Parley's own routes (the clock
    included, which is no Endpoint), paths nothing serves and methods a path does not have —
    before their 404/405."""
    official = load_spec("2.16")["components"]["schemas"]["intercom_version"]["enum"]
    assert len(official) == 22
    for version in official:
        response = await api.get("/me", headers={"Intercom-Version": version})
        assert response.status_code == 200, (version, response.text)
    unknown = {"Intercom-Version": "2.17"}
    for method, path in (
        ("GET", "/me"),
        ("GET", "/conversations/1"),
        ("GET", "/_parley/workspace"),
        ("GET", "/_parley/clock"),
        ("POST", "/_parley/clock"),
        ("GET", "/no/such/path"),  # 404 without a version
        ("DELETE", "/me"),  # 405 without a version
        ("POST", "/contacts/merge"),  # 405 without a version
    ):
        response = await api.request(method, path, headers=unknown)
        assert response.status_code == 400, (method, path, response.text)
        body = response.json()
        assert body["errors"][0]["code"] == "intercom_version_invalid", (method, path)
        assert response.headers["x-request-id"] == body["request_id"]
    # Known versions keep their 404/405.
    assert (await api.get("/no/such/path", headers=V14)).status_code == 404
    assert (await api.delete("/me", headers=V216)).status_code == 405
