"""Tags: the workspace's tags (create, rename, find, list, delete, tag many contacts) and the
tags of a contact (list, attach, detach)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from parley.db.database import Database
from parley.kit.clock import FrozenClock
from parley.services.workspaces import CreatedWorkspace
from tests.conftest import START, ValidatingClient, make_client
from tests.factories import SUPERSCRIPT_TWO, arabic_indic

NOT_FOUND = {"code": "not_found", "message": "Resource Not Found"}
USER_NOT_FOUND = {"code": "not_found", "message": "User Not Found"}
UNKNOWN_CONTACT = "0123456789abcdef01234567"


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error.list"
    assert body["request_id"]
    first: dict[str, Any] = body["errors"][0]
    return first


async def _tag(api: ValidatingClient, name: str) -> dict[str, Any]:
    response = await api.post("/tags", json={"name": name})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _contact(api: ValidatingClient, email: str) -> str:
    response = await api.post("/contacts", json={"email": email})
    assert response.status_code == 200, response.text
    contact_id: str = response.json()["id"]
    return contact_id


async def _names(api: ValidatingClient) -> list[str]:
    body = (await api.get("/tags")).json()
    assert body["type"] == "list"
    return [t["name"] for t in body["data"]]


async def _contact_tag_ids(api: ValidatingClient, contact_id: str) -> list[str]:
    response = await api.get(f"/contacts/{contact_id}/tags")
    assert response.status_code == 200
    return [t["id"] for t in response.json()["data"]]


# ------------------------------------------------------------------ the workspace's tags


async def test_create_trims_the_name_and_reuses_an_existing_tag(api: ValidatingClient) -> None:
    created = await _tag(api, "  VIP ")
    assert created == {"type": "tag", "id": created["id"], "name": "VIP"}
    assert created["id"].isdigit()
    again = await _tag(api, "VIP")
    assert again == created
    other = await _tag(api, "Churned")
    assert other["id"] != created["id"]
    listing = (await api.get("/tags")).json()
    assert listing == {"type": "list", "data": [created, other]}


@pytest.mark.parametrize(
    "body",
    [{}, {"test": "invalid"}, {"name": ""}, {"name": "   "}, {"name": 5}, {"name": None},
     {"name": ["a"]}],
)  # fmt: skip
async def test_create_without_a_usable_name_is_400(
    api: ValidatingClient, body: dict[str, Any]
) -> None:
    error = _error(await api.post("/tags", json=body), 400)
    assert error["code"] == "parameter_invalid"
    assert error["message"] == "invalid tag parameters"
    assert await _names(api) == []


async def test_create_with_a_body_that_is_not_an_object_is_400(api: ValidatingClient) -> None:
    for content in (b"[]", b'"name"', b"{nope"):
        response = await api.post(
            "/tags", content=content, headers={"content-type": "application/json"}
        )
        assert _error(response, 400)["code"] == "parameter_invalid"
    assert await _names(api) == []


async def test_create_with_an_id_renames_that_tag(api: ValidatingClient) -> None:
    tag = await _tag(api, "Old name")
    renamed = await api.post("/tags", json={"id": tag["id"], "name": " New name "})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {"type": "tag", "id": tag["id"], "name": "New name"}
    # The id may be sent as a number too; renaming to the same name is a no-op.
    same = await api.post("/tags", json={"id": int(tag["id"]), "name": "New name"})
    assert same.json() == renamed.json()
    assert (await api.get(f"/tags/{tag['id']}")).json()["name"] == "New name"
    assert await _names(api) == ["New name"]


async def test_rename_errors_change_nothing(api: ValidatingClient) -> None:
    first = await _tag(api, "First")
    await _tag(api, "Second")
    other_digits = (SUPERSCRIPT_TWO, arabic_indic(first["id"]))  # only 0-9 are digits
    for tag_id in ("999999", "abc", 999999, "99999999999999999999999", *other_digits):
        error = _error(await api.post("/tags", json={"id": tag_id, "name": "X"}), 404)
        assert error == NOT_FOUND
    error = _error(await api.post("/tags", json={"id": first["id"], "name": "Second"}), 400)
    assert error["code"] == "parameter_invalid"
    assert error["field"] == "name"
    error = _error(await api.post("/tags", json={"id": True, "name": "X"}), 400)
    assert error["field"] == "id"
    assert await _names(api) == ["First", "Second"]


async def test_tag_multiple_users_creates_the_tag_and_tags_them(
    api: ValidatingClient, clock: FrozenClock, workspace: CreatedWorkspace
) -> None:
    first = await _contact(api, "one@example.com")
    second = await _contact(api, "two@example.com")
    clock.advance(10)
    response = await api.post(
        "/tags", json={"name": "Beta", "users": [{"id": first}, {"id": second}]}
    )
    assert response.status_code == 200, response.text
    tag = response.json()
    assert tag["name"] == "Beta"
    for contact_id in (first, second):
        applied = (await api.get(f"/contacts/{contact_id}/tags")).json()["data"]
        assert applied == [{
            "type": "tag", "id": tag["id"], "name": "Beta", "applied_at": START + 10,
            "applied_by": {"type": "admin", "id": str(workspace.owner_admin_id)},
        }]  # fmt: skip
    # Tagging again is idempotent; `untag: true` removes the tag from that contact.
    again = await api.post("/tags", json={"name": "Beta", "users": [{"id": first}]})
    assert again.json() == tag
    untag = await api.post("/tags", json={"name": "Beta", "users": [{"id": first, "untag": True}]})
    assert untag.status_code == 200
    assert await _contact_tag_ids(api, first) == []
    assert await _contact_tag_ids(api, second) == [tag["id"]]


async def test_tag_multiple_users_with_an_unknown_user_changes_nothing(
    api: ValidatingClient,
) -> None:
    known = await _contact(api, "known@example.com")
    response = await api.post(
        "/tags", json={"name": "Fresh", "users": [{"id": known}, {"id": UNKNOWN_CONTACT}]}
    )
    assert _error(response, 404) == USER_NOT_FOUND
    assert await _names(api) == []
    assert await _contact_tag_ids(api, known) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "T", "users": "all"}, "users"),
        ({"name": "T", "users": ["abc"]}, "users"),
        ({"name": "T", "users": [{}]}, "users.id"),
        ({"name": "T", "users": [{"id": True}]}, "users.id"),
        ({"name": "T", "users": [{"id": "x", "untag": "yes"}]}, "users.untag"),
        ({"name": "T", "users": [], "companies": []}, None),
        ({"name": "T", "users": [], "id": "1"}, "id"),
        ({"name": "T", "companies": "acme"}, "companies"),
    ],
)
async def test_malformed_tagging_requests_are_400(
    api: ValidatingClient, body: dict[str, Any], field: str | None
) -> None:
    error = _error(await api.post("/tags", json=body), 400)
    assert error["code"] == "parameter_invalid"
    assert error.get("field") == field
    assert await _names(api) == []


async def test_tagging_companies_is_404_because_parley_has_none(api: ValidatingClient) -> None:
    for companies in ([{"company_id": "123"}], [{"id": "abc", "untag": True}]):
        response = await api.post("/tags", json={"name": "Acme", "companies": companies})
        error = _error(response, 404)
        assert error == {"code": "company_not_found", "message": "Company Not Found"}
    assert await _names(api) == []


async def test_find_tag(api: ValidatingClient) -> None:
    tag = await _tag(api, "Findable")
    found = await api.get(f"/tags/{tag['id']}")
    assert found.status_code == 200
    assert found.json() == tag
    for tag_id in ("999999", "abc", "1" * 30, SUPERSCRIPT_TWO, arabic_indic(tag["id"])):
        assert _error(await api.get(f"/tags/{tag_id}"), 404) == NOT_FOUND


async def test_delete_tag_removes_it_from_contacts_and_conversations(
    api: ValidatingClient, db: Database, workspace: CreatedWorkspace
) -> None:
    doomed = await _tag(api, "Doomed")
    kept = await _tag(api, "Kept")
    contact = await _contact(api, "c@example.com")
    for tag in (doomed, kept):
        attached = await api.post(f"/contacts/{contact}/tags", json={"id": tag["id"]})
        assert attached.status_code == 200
    message = await api.post(
        "/conversations", json={"from": {"type": "user", "id": contact}, "body": "hi"}
    )
    assert message.status_code == 200, message.text
    conversation_id = message.json()["conversation_id"]
    tagged = await api.post(
        f"/conversations/{conversation_id}/tags",
        json={"id": doomed["id"], "admin_id": str(workspace.owner_admin_id)},
    )
    assert tagged.status_code == 200, tagged.text

    response = await api.delete(f"/tags/{doomed['id']}")
    assert response.status_code == 200
    assert response.content == b""
    assert _error(await api.get(f"/tags/{doomed['id']}"), 404) == NOT_FOUND
    assert await _names(api) == ["Kept"]
    assert await _contact_tag_ids(api, contact) == [kept["id"]]
    async with db.transaction() as tx:
        for table in ("contact_tags", "conversation_tags"):
            left = await tx.fetch_val(
                f"SELECT count(*) FROM {table} WHERE tag_id = :t", {"t": int(doomed["id"])}
            )
            assert left == 0, table
    assert _error(await api.delete(f"/tags/{doomed['id']}"), 404) == NOT_FOUND
    assert _error(await api.delete("/tags/abc"), 404) == NOT_FOUND


# ------------------------------------------------------------------ tags of a contact


async def test_attach_list_and_detach_a_contacts_tags(
    api: ValidatingClient, clock: FrozenClock, workspace: CreatedWorkspace
) -> None:
    contact = await _contact(api, "t@example.com")
    tag = await _tag(api, "Customer")
    empty = await api.get(f"/contacts/{contact}/tags")
    assert empty.json() == {"type": "list", "data": []}
    clock.advance(5)
    applied = {
        "type": "tag", "id": tag["id"], "name": "Customer", "applied_at": START + 5,
        "applied_by": {"type": "admin", "id": str(workspace.owner_admin_id)},
    }  # fmt: skip
    attached = await api.post(f"/contacts/{contact}/tags", json={"id": tag["id"]})
    assert attached.status_code == 200, attached.text
    assert attached.json() == applied
    # Attaching again (id as a number) keeps the first application.
    clock.advance(5)
    again = await api.post(f"/contacts/{contact}/tags", json={"id": int(tag["id"])})
    assert again.json() == applied
    listing = await api.get(f"/contacts/{contact}/tags")
    assert listing.json() == {"type": "list", "data": [applied]}
    embedded = (await api.get(f"/contacts/{contact}")).json()["tags"]
    assert embedded["data"] == [{"type": "tag", "id": tag["id"], "url": f"/tags/{tag['id']}"}]
    assert embedded["total_count"] == 1

    detached = await api.delete(f"/contacts/{contact}/tags/{tag['id']}")
    assert detached.status_code == 200
    assert detached.json() == applied
    assert await _contact_tag_ids(api, contact) == []
    # Detaching a tag the contact does not have answers the bare tag.
    not_applied = await api.delete(f"/contacts/{contact}/tags/{tag['id']}")
    assert not_applied.status_code == 200
    assert not_applied.json() == tag
    assert (await api.get(f"/tags/{tag['id']}")).status_code == 200


async def test_contact_tag_not_found_errors(api: ValidatingClient) -> None:
    contact = await _contact(api, "nf@example.com")
    tag = await _tag(api, "Real")
    # An unknown contact is "User Not Found", whatever the tag; an unknown tag is
    # "Resource Not Found".
    assert _error(await api.get(f"/contacts/{UNKNOWN_CONTACT}/tags"), 404) == USER_NOT_FOUND
    for tag_id in (tag["id"], "999999"):
        response = await api.post(f"/contacts/{UNKNOWN_CONTACT}/tags", json={"id": tag_id})
        assert _error(response, 404) == USER_NOT_FOUND
        response = await api.delete(f"/contacts/{UNKNOWN_CONTACT}/tags/{tag_id}")
        assert _error(response, 404) == USER_NOT_FOUND
    # Only ASCII 0-9 are digits: "²" is no number, the real tag's id in Arabic-Indic digits
    # names no tag (a string that is not a number names no tag, as "abc").
    for tag_id in ("999999", "abc", SUPERSCRIPT_TWO, arabic_indic(tag["id"])):
        response = await api.post(f"/contacts/{contact}/tags", json={"id": tag_id})
        assert _error(response, 404) == NOT_FOUND
        response = await api.delete(f"/contacts/{contact}/tags/{tag_id}")
        assert _error(response, 404) == NOT_FOUND
    assert await _contact_tag_ids(api, contact) == []


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "parameter_not_found", "id"),
        ({"id": None}, "parameter_not_found", "id"),
        ({"id": True}, "parameter_invalid", "id"),
        ({"id": {"id": 1}}, "parameter_invalid", "id"),
        ({"id": 1.5}, "parameter_invalid", "id"),
    ],
)
async def test_attach_with_a_bad_id_is_400(
    api: ValidatingClient, body: dict[str, Any], code: str, field: str
) -> None:
    contact = await _contact(api, "bad@example.com")
    await _tag(api, "Any")
    error = _error(await api.post(f"/contacts/{contact}/tags", json=body), 400)
    assert error["code"] == code
    assert error["field"] == field
    assert await _contact_tag_ids(api, contact) == []


# ------------------------------------------------------------------ auth and isolation


async def test_every_tag_endpoint_needs_a_token(
    api: ValidatingClient, anon: ValidatingClient
) -> None:
    tag = await _tag(api, "Secret")
    contact = await _contact(api, "s@example.com")
    calls = [
        ("GET", "/tags", None), ("POST", "/tags", {"name": "New"}),
        ("POST", "/tags", {"name": "Secret", "users": [{"id": contact}]}),
        ("GET", f"/tags/{tag['id']}", None), ("DELETE", f"/tags/{tag['id']}", None),
        ("GET", f"/contacts/{contact}/tags", None),
        ("POST", f"/contacts/{contact}/tags", {"id": tag["id"]}),
        ("DELETE", f"/contacts/{contact}/tags/{tag['id']}", None),
    ]  # fmt: skip
    for method, path, body in calls:
        error = _error(await anon.request(method, path, json=body), 401)
        assert error == {"code": "unauthorized", "message": "Access Token Invalid"}, path
    assert await _names(api) == ["Secret"]
    assert await _contact_tag_ids(api, contact) == []


async def test_another_workspaces_tags_are_invisible(
    api: ValidatingClient, app: Any, other_workspace_token: Any
) -> None:
    other = await other_workspace_token()
    mine_contact = await _contact(api, "mine@example.com")
    async with make_client(app, other.token) as other_api:
        theirs = await _tag(other_api, "Shared name")
        their_contact = await _contact(other_api, "theirs@example.com")
        # The same name in this workspace is a different tag.
        mine = await _tag(api, "Shared name")
        assert mine["id"] != theirs["id"]
        tid = theirs["id"]
        assert _error(await api.get(f"/tags/{tid}"), 404) == NOT_FOUND
        assert _error(await api.delete(f"/tags/{tid}"), 404) == NOT_FOUND
        renamed = await api.post("/tags", json={"id": tid, "name": "Hijacked"})
        assert _error(renamed, 404) == NOT_FOUND
        attached = await api.post(f"/contacts/{mine_contact}/tags", json={"id": tid})
        assert _error(attached, 404) == NOT_FOUND
        detached = await api.delete(f"/contacts/{mine_contact}/tags/{tid}")
        assert _error(detached, 404) == NOT_FOUND
        for response in (
            await api.get(f"/contacts/{their_contact}/tags"),
            await api.post(f"/contacts/{their_contact}/tags", json={"id": mine["id"]}),
            await api.post("/tags", json={"name": "X", "users": [{"id": their_contact}]}),
        ):
            assert _error(response, 404) == USER_NOT_FOUND
        assert await _names(api) == ["Shared name"]
        assert (await other_api.get("/tags")).json()["data"] == [theirs]
        assert await _contact_tag_ids(other_api, their_contact) == []


async def test_concurrent_renames_and_taggings_are_never_given_up_on(
    api: ValidatingClient, workspace: CreatedWorkspace
) -> None:
    """Renames of tags shared by many conversations, run at the same time as those
    conversations are tagged and untagged: on PostgreSQL a rename locked its tag, then the
    conversations in no particular order, while tagging locks its conversation, then (the
    foreign key) the tag. The cycles were deadlocks, retried three times and then answered
    409. Every request must succeed (as each does on SQLite) and every conversation must show
    its tags' final names."""
    contact = await _contact(api, "many-tags@example.com")
    admin_id = str(workspace.owner_admin_id)
    tag_ids = [(await _tag(api, f"shared {i}"))["id"] for i in range(3)]
    conversations = []
    for _ in range(20):
        started = await api.post(
            "/conversations", json={"from": {"type": "user", "id": contact}, "body": "hi"}
        )
        assert started.status_code == 200, started.text
        conversation_id = started.json()["conversation_id"]
        for tag_id in tag_ids:
            tagged = await api.post(
                f"/conversations/{conversation_id}/tags", json={"id": tag_id, "admin_id": admin_id}
            )
            assert tagged.status_code == 200, tagged.text
        assert (await api.get(f"/conversations/{conversation_id}")).status_code == 200
        conversations.append(conversation_id)

    async def rename(round_: int, tag_id: str) -> Any:
        return await api.post("/tags", json={"id": tag_id, "name": f"shared {tag_id} r{round_}"})

    async def retag(conversation_id: str, tag_id: str) -> list[Any]:
        untagged = await api.request(
            "DELETE", f"/conversations/{conversation_id}/tags/{tag_id}",
            json={"admin_id": admin_id},
        )  # fmt: skip
        tagged = await api.post(
            f"/conversations/{conversation_id}/tags", json={"id": tag_id, "admin_id": admin_id}
        )
        return [untagged, tagged]

    for round_ in range(3):
        responses = await asyncio.gather(
            *[rename(round_, tag_id) for tag_id in tag_ids for _ in range(4)],
            *[retag(c, tag_ids[i % 3]) for i, c in enumerate(conversations)],
        )
        flat = [r for item in responses for r in (item if isinstance(item, list) else [item])]
        assert [r.status_code for r in flat if r.status_code != 200] == [], [
            r.text for r in flat if r.status_code != 200
        ]
    final = {tag_id: f"shared {tag_id} r2" for tag_id in tag_ids}
    for conversation_id in conversations:
        shown = (await api.get(f"/conversations/{conversation_id}")).json()
        assert {t["id"]: t["name"] for t in shown["tags"]["tags"]} == final


async def test_two_tags_renamed_to_one_name_at_once(api: ValidatingClient) -> None:
    """Both renames check the name before either has written it; the later one's UPDATE then
    met the unique index (PostgreSQL) and was answered 409 `conflict`. It is the 400 that
    the same request gets when the other tag already has the name (and gets on SQLite)."""
    first, second = await _tag(api, "first"), await _tag(api, "second")
    for round_ in range(5):
        responses = await asyncio.gather(
            api.post("/tags", json={"id": first["id"], "name": f"same {round_}"}),
            api.post("/tags", json={"id": second["id"], "name": f"same {round_}"}),
        )
        assert sorted(r.status_code for r in responses) == [200, 400], [r.text for r in responses]
        refused = next(r for r in responses if r.status_code == 400)
        error = _error(refused, 400)
        assert error["code"] == "parameter_invalid"
        assert error["field"] == "name"
