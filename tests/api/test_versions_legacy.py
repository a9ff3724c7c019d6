"""1.x (Intercom-Version 1.0–1.4) beyond conversations: the Leads API at /contacts, the user
list, and the 1.x filters of GET /conversations. Every 1.x response is validated by the client
against src/parley/schemas/v1_conversation.json (lead, user, user_list, lead_list, ...)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from parley.db.database import Database
from parley.kit.clock import FrozenClock
from parley.kit.ids import IdFactory
from parley.render.conversation_v1 import WAITING_SENTINEL
from parley.services.workspaces import CreatedWorkspace
from tests.conftest import START, ValidatingClient, make_client
from tests.factories import SUPERSCRIPT_TWO, arabic_indic, create_contact

V1 = {"Intercom-Version": "1.0"}
V14 = {"Intercom-Version": "1.4"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["errors"][0]
    return error


# ----------------------------------------------------------------------------- leads


async def test_v1_leads_at_contacts(api: ValidatingClient, clock: FrozenClock) -> None:
    lead = await _ok(
        await api.post(
            "/contacts",
            headers=V14,
            json={"email": "win@truth.org", "name": "Winston", "custom_attributes": {"a": 1}},
        )
    )
    assert (lead["type"], lead["anonymous"], lead["name"]) == ("contact", True, "Winston")
    assert UUID.match(lead["user_id"]), lead["user_id"]
    assert lead["custom_attributes"] == {"a": 1}
    lid, luid = lead["id"], lead["user_id"]

    assert (await _ok(await api.get(f"/contacts/{lid}", headers=V14)))["user_id"] == luid
    found = await _ok(await api.get("/contacts", params={"user_id": luid}, headers=V14))
    assert found["id"] == lid

    clock.advance(10)
    by_id = await _ok(
        await api.post("/contacts", headers=V14, json={"id": lid, "custom_attributes": {"b": 2}})
    )
    assert by_id["updated_at"] == START + 10
    assert by_id["custom_attributes"] == {"a": 1, "b": 2}
    by_user_id = await _ok(
        await api.post("/contacts", headers=V14, json={"user_id": luid, "name": "O'Brien"})
    )
    assert (by_user_id["id"], by_user_id["name"], by_user_id["user_id"]) == (lid, "O'Brien", luid)
    put = await _ok(await api.put("/contacts", headers=V14, json={"user_id": luid, "phone": "1"}))
    assert put["phone"] == "1"
    put_path = await _ok(await api.put(f"/contacts/{lid}", headers=V14, json={"name": "Julia"}))
    assert (put_path["name"], put_path["phone"]) == ("Julia", "1")

    # Leads are listed by email (not unique among leads); users are not leads.
    twin = await _ok(await api.post("/contacts", headers=V1, json={"email": "WIN@truth.org"}))
    await api.post("/users", headers=V1, json={"email": "win@truth.org", "user_id": "u"})
    listed = await _ok(await api.get("/contacts", params={"email": "win@truth.org"}, headers=V1))
    assert listed["type"] == "contact.list"
    assert listed["total_count"] == 2
    assert [c["id"] for c in listed["contacts"]] == [twin["id"], lid]  # newest first
    everyone = await _ok(await api.get("/contacts", params={"per_page": 1}, headers=V1))
    assert everyone["total_count"] == 2
    assert everyone["pages"]["next"] == "http://parley.test/contacts?per_page=1&page=2"
    second = await _ok(await api.get(everyone["pages"]["next"], headers=V1))
    assert [c["id"] for c in second["contacts"]] == [lid]
    assert second["pages"]["next"] is None

    # Errors.
    user = await _ok(await api.get("/users", params={"user_id": "u"}, headers=V1))
    assert _error(await api.get(f"/contacts/{user['id']}", headers=V1), 404)["message"] == (
        "Contact Not Found"
    )
    assert _error(await api.get("/contacts", params={"user_id": "x"}, headers=V1), 404)
    assert _error(await api.post("/contacts", headers=V1, json={"id": "nope", "name": "x"}), 404)
    assert _error(await api.put("/contacts", headers=V1, json={"name": "x"}), 400)["field"] == "id"
    bad_email = await api.post("/contacts", headers=V1, json={"email": "not-an-email"})
    assert _error(bad_email, 400)["field"] == "email"
    bad_page = await api.get("/contacts", params={"per_page": "61"}, headers=V1)
    assert _error(bad_page, 400)["field"] == "per_page"

    # Delete answers the lead as it was; by id and by user_id.
    gone = await _ok(await api.delete(f"/contacts/{lid}", headers=V1))
    assert gone["id"] == lid
    assert (await api.get(f"/contacts/{lid}", headers=V1)).status_code == 404
    gone_too = await _ok(
        await api.delete("/contacts", params={"user_id": twin["user_id"]}, headers=V1)
    )
    assert gone_too["id"] == twin["id"]
    assert (await _ok(await api.get("/contacts", headers=V1)))["contacts"] == []
    assert _error(await api.delete("/contacts", params={"user_id": "x"}, headers=V1), 404)


async def test_contacts_stay_2x_in_2x(api: ValidatingClient) -> None:
    """The same paths keep the 2.x Contacts API for 2.x; the 1.x-only paths refuse 2.x."""
    lead = await _ok(await api.post("/contacts", headers=V1, json={"name": "Lee"}))
    seen = await _ok(await api.get(f"/contacts/{lead['id']}"))
    assert (seen["type"], seen["role"], seen["external_id"]) == ("contact", "lead", lead["user_id"])
    made = await _ok(await api.post("/contacts", json={"email": "two@example.com"}))
    assert made["role"] == "user"
    listed = await _ok(await api.get("/contacts"))
    assert listed["type"] == "list"
    assert {c["id"] for c in listed["data"]} == {lead["id"], made["id"]}
    # A 2.x user's id is not a 1.x lead.
    assert (await api.get(f"/contacts/{made['id']}", headers=V1)).status_code == 404
    for response in (
        await api.put("/contacts", json={"id": lead["id"], "name": "x"}),
        await api.delete("/contacts", params={"user_id": lead["user_id"]}),
        await api.post("/contacts/convert", json={"contact": {"id": lead["id"]}, "user": {}}),
    ):
        assert _error(response, 400)["code"] == "intercom_version_invalid"
    deleted = await _ok(await api.delete(f"/contacts/{lead['id']}"))
    assert deleted["deleted"] is True


async def test_operations_that_came_with_2_0_refuse_1x(api: ValidatingClient) -> None:
    """Search and the Contacts API's own paths came with 2.0 (where 1.x's `/contacts` is the
    Leads API): under 1.x they answer 400 intercom_version_invalid, and change nothing."""
    made = await _ok(await api.post("/contacts", json={"email": "new@example.com"}))
    tag = await _ok(await api.post("/tags", json={"name": "Later"}))
    query = {"query": {"field": "id", "operator": "=", "value": "1"}}
    for response in (
        await api.post("/conversations/search", headers=V14, json=query),
        await api.post("/contacts/search", headers=V1, json=query),
        await api.get("/contacts/find_by_external_id/x", headers=V14),
        await api.post(f"/contacts/{made['id']}/archive", headers=V14),
        await api.post(f"/contacts/{made['id']}/unarchive", headers=V14),
        await api.get(f"/contacts/{made['id']}/tags", headers=V14),
        await api.post(f"/contacts/{made['id']}/tags", headers=V14, json={"id": tag["id"]}),
        await api.delete(f"/contacts/{made['id']}/tags/{tag['id']}", headers=V14),
    ):
        error = _error(response, 400)
        assert error["code"] == "intercom_version_invalid"
        assert error["message"] == "Requested resource is not available in current API version."
    seen = await _ok(await api.get(f"/contacts/{made['id']}"))
    assert seen["tags"]["data"] == []
    assert seen.get("archived") is not True


async def test_v1_leads_are_per_workspace(
    api: ValidatingClient, app: Any, other_workspace_token: Any
) -> None:
    lead = await _ok(await api.post("/contacts", headers=V1, json={"name": "Mine"}))
    other = await other_workspace_token()
    async with make_client(app, other.token) as them:
        assert (await them.get(f"/contacts/{lead['id']}", headers=V1)).status_code == 404
        by_uid = await them.get("/contacts", params={"user_id": lead["user_id"]}, headers=V1)
        assert by_uid.status_code == 404
        assert (await _ok(await them.get("/contacts", headers=V1)))["total_count"] == 0


async def test_v1_convert_lead_to_new_user_and_into_existing_user(
    api: ValidatingClient, workspace: CreatedWorkspace
) -> None:
    lead = await _ok(await api.post("/contacts", headers=V1, json={"email": "l@example.com"}))
    user = await _ok(
        await api.post(
            "/contacts/convert",
            headers=V1,
            json={"contact": {"user_id": lead["user_id"]}, "user": {"user_id": "new-1"}},
        )
    )
    assert (user["type"], user["id"], user["user_id"], user["anonymous"]) == (
        "user",
        lead["id"],
        "new-1",
        False,
    )
    assert user["email"] == "l@example.com"
    assert (await _ok(await api.get(f"/users/{lead['id']}", headers=V1)))["user_id"] == "new-1"
    assert (await api.get(f"/contacts/{lead['id']}", headers=V1)).status_code == 404

    # Into an existing user: the lead's conversation becomes the user's; the lead goes.
    other = await _ok(await api.post("/contacts", headers=V1, json={"name": "Visitor"}))
    message = await _ok(
        await api.post(
            "/messages", headers=V1, json={"from": {"type": "lead", "id": other["id"]}, "body": "Q"}
        )
    )
    cid = message["conversation_id"]
    before = await _ok(await api.get(f"/conversations/{cid}", headers=V1))
    assert before["customers"] == [{"type": "lead", "id": other["id"]}]
    merged = await _ok(
        await api.post(
            "/contacts/convert",
            headers=V1,
            json={"contact": {"id": other["id"]}, "user": {"email": "L@example.com"}},
        )
    )
    assert merged["id"] == lead["id"]  # the existing user (found by email)
    after = await _ok(await api.get(f"/conversations/{cid}", headers=V1))
    assert after["customers"] == [{"type": "user", "id": lead["id"]}]
    author = after["conversation_message"]["author"]
    assert (author["type"], author["id"]) == ("user", lead["id"])
    assert (await api.get(f"/contacts/{other['id']}", headers=V1)).status_code == 404
    two = await _ok(await api.get(f"/conversations/{cid}"))  # the 2.x view agrees
    assert [c["id"] for c in two["contacts"]["contacts"]] == [lead["id"]]
    assert (two["source"]["author"]["type"], two["source"]["author"]["id"]) == ("user", lead["id"])

    missing = await api.post(
        "/contacts/convert", headers=V1, json={"contact": {"id": lead["id"]}, "user": {}}
    )
    assert _error(missing, 404)  # the (former) lead is a user now: no such lead
    third = await _ok(await api.post("/contacts", headers=V1, json={}))
    no_user = await api.post(
        "/contacts/convert", headers=V1, json={"contact": {"id": third["id"]}, "user": {}}
    )
    assert _error(no_user, 400)["field"] == "user"
    no_contact = await api.post("/contacts/convert", headers=V1, json={"user": {"email": "x@y.z"}})
    assert _error(no_contact, 400)["field"] == "contact"


async def test_a_converted_lead_shows_as_a_user_in_what_it_wrote(api: ValidatingClient) -> None:
    """The lead becomes a user (same id): its conversation's source and its replies show it as
    the user it is, not as the lead it was, in 1.x and 2.x alike."""
    lead = await _ok(await api.post("/contacts", headers=V1, json={"name": "Lee"}))
    message = await _ok(
        await api.post(
            "/messages", headers=V1, json={"from": {"type": "lead", "id": lead["id"]}, "body": "Q"}
        )
    )
    cid = message["conversation_id"]
    reply = {"type": "user", "intercom_user_id": lead["id"], "message_type": "comment", "body": "?"}
    await _ok(await api.post(f"/conversations/{cid}/reply", json=reply))
    await _ok(await api.get(f"/conversations/{cid}"))  # a stored document, to be retired
    await _ok(
        await api.post(
            "/contacts/convert",
            headers=V1,
            json={"contact": {"id": lead["id"]}, "user": {"user_id": "lee-1"}},
        )
    )
    one = await _ok(await api.get(f"/conversations/{cid}", headers=V1))
    author = one["conversation_message"]["author"]
    assert (author["type"], author["id"]) == ("user", lead["id"])
    two = await _ok(await api.get(f"/conversations/{cid}"))
    assert two["source"]["author"]["type"] == "user"
    authors = [p["author"] for p in two["conversation_parts"]["conversation_parts"]]
    assert [(a["type"], a["id"]) for a in authors] == [("user", lead["id"])]


# ----------------------------------------------------------------------------- users list


async def test_v1_user_list_pages_sorts_and_email(
    api: ValidatingClient, clock: FrozenClock
) -> None:
    made = []
    for n in range(3):
        body = {"user_id": f"u{n}", "email": f"u{n}@example.com", "name": f"U{n}"}
        made.append((await _ok(await api.post("/users", headers=V1, json=body)))["id"])
        clock.advance(100)
    await api.post("/contacts", headers=V1, json={"email": "u0@example.com"})  # a lead: unlisted

    first = await _ok(await api.get("/users", params={"per_page": 2}, headers=V14))
    assert (first["type"], first["total_count"]) == ("user.list", 3)
    assert [u["id"] for u in first["users"]] == [made[2], made[1]]  # newest first
    assert first["pages"] == {
        "type": "pages",
        "next": "http://parley.test/users?per_page=2&page=2",
        "page": 1,
        "per_page": 2,
        "total_pages": 2,
    }
    rest = await _ok(await api.get(first["pages"]["next"], headers=V14))
    assert [u["id"] for u in rest["users"]] == [made[0]]
    assert rest["pages"]["next"] is None
    ascending = await _ok(await api.get("/users", params={"order": "asc"}, headers=V14))
    assert [u["id"] for u in ascending["users"]] == made

    await api.post("/users", headers=V1, json={"user_id": "u0", "name": "touched"})
    by_update = await _ok(await api.get("/users", params={"sort": "updated_at"}, headers=V14))
    assert by_update["users"][0]["id"] == made[0]
    # created_since: days back from now (START + 300); all three are within a day.
    assert (await _ok(await api.get("/users", params={"created_since": 1}, headers=V14)))[
        "total_count"
    ] == 3
    clock.advance(3 * 86_400)
    recent = await _ok(await api.get("/users", params={"created_since": 2}, headers=V14))
    assert recent["total_count"] == 0

    # ?email=: the list from 1.1 on (users only), the user itself in 1.0.
    listed = await _ok(await api.get("/users", params={"email": "U1@example.com"}, headers=V14))
    assert [u["id"] for u in listed["users"]] == [made[1]]
    single = await _ok(await api.get("/users", params={"email": "u1@example.com"}, headers=V1))
    assert (single["type"], single["id"]) == ("user", made[1])
    nobody = await _ok(await api.get("/users", params={"email": "no@example.com"}, headers=V14))
    assert (nobody["total_count"], nobody["users"], nobody["pages"]["total_pages"]) == (0, [], 1)

    for params, field in (
        ({"sort": "name"}, "sort"),
        ({"order": "up"}, "order"),
        ({"per_page": "0"}, "per_page"),
        ({"page": "x"}, "page"),
        ({"created_since": "soon"}, "created_since"),
        # Only ASCII 0-9 are digits: not "²", nor Arabic-Indic digits (which int() reads).
        *(({name: other}, name) for name in ("per_page", "page", "created_since")
          for other in (SUPERSCRIPT_TWO, arabic_indic(1))),
    ):  # fmt: skip
        assert _error(await api.get("/users", params=params, headers=V14), 400)["field"] == field
    refused = await api.get("/users")
    assert _error(refused, 400)["code"] == "intercom_version_invalid"


# ----------------------------------------------------------------------------- conversations


async def test_v1_conversation_list_filters(
    api: ValidatingClient,
    workspace: CreatedWorkspace,
    db: Database,
    ids: IdFactory,
    clock: FrozenClock,
) -> None:
    ann = await create_contact(db, workspace, ids, clock, email="ann@example.com", external_id="a")
    lee = await create_contact(db, workspace, ids, clock, role="lead", email="lee@example.com")
    admin = str(workspace.owner_admin_id)

    async def start(contact: str, body: str) -> str:
        made = await _ok(
            await api.post(
                "/conversations", json={"from": {"type": "user", "id": contact}, "body": body}
            )
        )
        clock.advance(10)
        return str(made["conversation_id"])

    c1 = await start(ann, "first")  # created START
    c2 = await start(lee, "second")  # START + 10
    c3 = await start(ann, "third")  # START + 20
    part = {"type": "admin", "admin_id": admin}
    await api.post(
        f"/conversations/{c1}/parts",
        json={**part, "message_type": "assignment", "assignee_id": admin},
    )  # updated START + 30
    clock.advance(10)
    await api.post(
        f"/conversations/{c2}/reply", json={**part, "message_type": "comment", "body": "hi"}
    )  # updated START + 40, nobody waits
    clock.advance(10)
    await api.post(f"/conversations/{c3}/parts", json={**part, "message_type": "close"})
    await api.put(f"/conversations/{c3}", json={"read": True})  # updated START + 50

    async def ids_of(**params: Any) -> list[str]:
        page = await _ok(await api.get("/conversations", params=params, headers=V14))
        return [c["id"] for c in page["conversations"]]

    assert await ids_of() == [c3, c2, c1]  # updated_at, newest first
    assert await ids_of(type="user", intercom_user_id=ann) == [c3, c1]
    assert await ids_of(type="user", user_id="a") == [c3, c1]
    assert await ids_of(type="user", email="ANN@example.com") == [c3, c1]
    assert await ids_of(type="user", intercom_user_id=lee) == [c2]
    assert await ids_of(type="admin", admin_id=admin) == [c1]
    assert await ids_of(type="admin", admin_id="nobody") == [c3, c2]
    assert await ids_of(admin_id=admin) == [c3, c2, c1]  # admin_id without type=admin: ignored
    assert await ids_of(open="false") == [c3]
    assert await ids_of(open="true") == [c2, c1]
    assert await ids_of(unread="true") == [c2, c1]
    assert await ids_of(unread="false") == [c3]
    assert await ids_of(sort="created_at", order="asc") == [c1, c2, c3]
    assert await ids_of(sort="created_at") == [c3, c2, c1]
    # waiting_since as 1.x shows it: c1's customer waits (START); c2, c3 wait for nobody (the
    # sentinel), so ascending puts c1 first.
    assert await ids_of(sort="waiting_since", order="asc") == [c1, c2, c3]
    assert await ids_of(sort="waiting_since") == [c3, c2, c1]
    assert await ids_of(before=START + 40) == [c1]  # updated strictly before
    assert await ids_of(before=START + 41) == [c2, c1]

    waiting = await _ok(
        await api.get("/conversations", params={"sort": "waiting_since"}, headers=V14)
    )
    assert [c["waiting_since"] for c in waiting["conversations"]] == [
        WAITING_SENTINEL,
        WAITING_SENTINEL,
        START,
    ]
    plain = await _ok(
        await api.get(
            "/conversations", params={"display_as": "plaintext", "type": "user",
                                      "intercom_user_id": lee}, headers=V1,
        )
    )  # fmt: skip
    assert plain["conversations"][0]["conversation_message"]["body"] == "second"
    html = await _ok(await api.get("/conversations", params={"per_page": 1}, headers=V1))
    assert html["conversations"][0]["conversation_message"]["body"] == "<p>third</p>"
    # seed 003: the url "will be blank" where a conversation has none (an API-started one)
    assert html["conversations"][0]["conversation_message"]["url"] == ""
    assert html["conversations"][0]["customer_first_reply"]["url"] == ""

    # pages.next keeps the filters.
    page1 = await _ok(
        await api.get(
            "/conversations",
            params={"type": "admin", "admin_id": "nobody", "per_page": 1},
            headers=V14,
        )
    )
    nxt = page1["pages"]["next"]
    assert parse_qs(urlsplit(nxt).query) == {
        "type": ["admin"], "admin_id": ["nobody"], "per_page": ["1"], "page": ["2"],
    }  # fmt: skip
    page2 = await _ok(await api.get(nxt, headers=V14))
    assert [c["id"] for c in page2["conversations"]] == [c2]
    assert page2["pages"]["next"] is None

    # 2.x ignores the 1.x filters, as Intercom does.
    two = await _ok(
        await api.get(
            "/conversations",
            params={"type": "admin", "admin_id": "nobody", "open": "false", "sort": "created_at",
                    "order": "asc", "before": "1"},
        )
    )  # fmt: skip
    assert {c["id"] for c in two["conversations"]} == {c1, c2, c3}
    assert two["total_count"] == 3

    for params, status, field in (
        ({"type": "team"}, 400, "type"),
        ({"type": "admin"}, 400, "admin_id"),
        ({"type": "admin", "admin_id": "abc"}, 400, "admin_id"),
        ({"type": "admin", "admin_id": "999999"}, 404, "admin_id"),
        ({"type": "user"}, 400, "intercom_user_id"),
        ({"open": "yes"}, 400, "open"),
        ({"unread": "1"}, 400, "unread"),
        ({"before": "yesterday"}, 400, "before"),
        ({"before": SUPERSCRIPT_TWO}, 400, "before"),  # only ASCII 0-9 are digits
        ({"before": arabic_indic(START)}, 400, "before"),
        ({"type": "admin", "admin_id": SUPERSCRIPT_TWO}, 400, "admin_id"),
        ({"type": "admin", "admin_id": arabic_indic(workspace.owner_admin_id)}, 400, "admin_id"),
        ({"sort": "id"}, 400, "sort"),
        ({"order": "up"}, 400, "order"),
        ({"display_as": "html"}, 400, "display_as"),  # "a bad value of any of them is 400"
    ):
        error = _error(await api.get("/conversations", params=params, headers=V14), status)
        assert error["field"] == field, (params, error)
    unknown = await api.get(
        "/conversations", params={"type": "user", "email": "no@example.com"}, headers=V14
    )
    assert _error(unknown, 404)["message"] == "User Not Found"


async def test_v1_conversation_filters_stay_in_the_workspace(
    api: ValidatingClient,
    app: Any,
    workspace: CreatedWorkspace,
    db: Database,
    ids: IdFactory,
    clock: FrozenClock,
    other_workspace_token: Any,
) -> None:
    ann = await create_contact(db, workspace, ids, clock, email="ann@example.com")
    await api.post("/conversations", json={"from": {"type": "user", "id": ann}, "body": "x"})
    other = await other_workspace_token()
    async with make_client(app, other.token) as them:
        theirs = await them.get(
            "/conversations", params={"type": "user", "intercom_user_id": ann}, headers=V1
        )
        assert theirs.status_code == 404
        mine = await them.get(
            "/conversations",
            params={"type": "admin", "admin_id": str(workspace.owner_admin_id)},
            headers=V1,
        )
        assert mine.status_code == 404
        assert (await _ok(await them.get("/conversations", headers=V1)))["conversations"] == []
