"""Contacts: create, get, update, delete, list (cursor pagination), find by external_id,
archive and unarchive, isolation between workspaces."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from parley.db.database import Database
from parley.kit.clock import FrozenClock
from parley.services.workspaces import CreatedWorkspace
from tests.conftest import START, ValidatingClient, make_client
from tests.factories import SUPERSCRIPT_TWO, arabic_indic


async def _create(api: ValidatingClient, **fields: Any) -> dict[str, Any]:
    response = await api.post("/contacts", json=fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _count(api: ValidatingClient) -> int:
    listing = await api.get("/contacts")
    assert listing.status_code == 200
    total: int = listing.json()["total_count"]
    return total


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error.list"
    first: dict[str, Any] = body["errors"][0]
    return first


# ------------------------------------------------------------------ create and get


async def test_create_user_with_every_field_and_get_it_back(
    api: ValidatingClient, workspace: CreatedWorkspace
) -> None:
    owner = workspace.owner_admin_id
    created = await _create(
        api, role="user", email="Joe.Bloggs@Example.COM", external_id="ext-1", phone="+353 1 234",
        name="Joe Bloggs", avatar="https://example.org/joe.png", signed_up_at=START - 100,
        last_seen_at=START - 10, owner_id=owner, unsubscribed_from_emails=True,
        custom_attributes={"plan": "pro", "seats": 3, "ratio": 0.5, "paid": True, "note": None},
    )  # fmt: skip
    assert created["type"] == "contact"
    assert len(created["id"]) == 24
    assert created["workspace_id"] == workspace.workspace_id
    assert created["role"] == "user"
    assert created["email"] == "Joe.Bloggs@Example.COM"
    assert created["email_domain"] == "example.com"
    assert created["external_id"] == "ext-1"
    assert created["phone"] == "+353 1 234"
    assert created["name"] == "Joe Bloggs"
    assert created["avatar"] == {"type": "avatar", "image_url": "https://example.org/joe.png"}
    assert created["owner_id"] == owner
    assert created["unsubscribed_from_emails"] is True
    assert created["has_hard_bounced"] is False
    assert created["marked_email_as_spam"] is False
    assert created["signed_up_at"] == START - 100
    assert created["last_seen_at"] == START - 10
    assert created["created_at"] == created["updated_at"] == START
    assert created["last_replied_at"] is None
    assert created["last_contacted_at"] is None
    assert created["custom_attributes"] == {
        "plan": "pro", "seats": 3, "ratio": 0.5, "paid": True, "note": None,
    }  # fmt: skip
    assert created["enabled_push_messaging"] is None
    cid = created["id"]
    for kind in ("tags", "notes", "companies"):
        assert created[kind] == {
            "type": "list", "data": [], "url": f"/contacts/{cid}/{kind}", "total_count": 0,
            "has_more": False,
        }  # fmt: skip
    assert created["location"] == {
        "type": "location", "country": None, "region": None, "city": None,
        "country_code": None, "continent_code": None,
    }  # fmt: skip
    assert created["social_profiles"] == {"type": "list", "data": []}
    # Every key is present; unknown device data is null, not omitted.
    for key in ("browser", "os", "ios_device", "android_last_seen_at", "language_override"):
        assert key in created
        assert created[key] is None

    fetched = await api.get(f"/contacts/{cid}")
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_create_defaults_to_a_user_and_a_lead_needs_only_its_role(
    api: ValidatingClient,
) -> None:
    user = await _create(api, email="someone@example.com")
    assert user["role"] == "user"
    assert user["external_id"] is None
    assert user["avatar"] is None
    assert user["owner_id"] is None
    assert user["custom_attributes"] == {}
    lead = await _create(api, role="lead")
    assert lead["role"] == "lead"
    # email is a non-nullable string in the schema: a contact without one has "".
    assert lead["email"] == ""
    assert lead["email_domain"] == ""
    assert lead["id"] != user["id"]
    assert await _count(api) == 2


async def test_an_integer_external_id_is_kept_as_a_string(api: ValidatingClient) -> None:
    created = await _create(api, external_id=70)
    assert created["external_id"] == "70"
    found = await api.get("/contacts/find_by_external_id/70")
    assert found.json()["id"] == created["id"]
    error = _error(await api.post("/contacts", json={"external_id": "70"}), 409)
    assert error["code"] == "conflict"


async def test_owner_id_accepts_a_numeric_string_and_is_a_string_from_2_16(
    api: ValidatingClient, workspace: CreatedWorkspace
) -> None:
    created = await _create(api, email="o@example.com", owner_id=str(workspace.owner_admin_id))
    assert created["owner_id"] == workspace.owner_admin_id
    newer = await api.get(f"/contacts/{created['id']}", headers={"Intercom-Version": "2.16"})
    assert newer.status_code == 200
    assert newer.json()["owner_id"] == str(workspace.owner_admin_id)
    # Only ASCII 0-9 are digits: not "²", nor the owner's id in Arabic-Indic digits.
    for other_digits in (SUPERSCRIPT_TWO, arabic_indic(workspace.owner_admin_id)):
        response = await api.put(f"/contacts/{created['id']}", json={"owner_id": other_digits})
        assert _error(response, 400)["field"] == "owner_id"


@pytest.mark.parametrize(
    "body",
    [{}, {"name": "Nobody"}, {"email": None}, {"phone": "123", "custom_attributes": {"a": 1}}],
)
async def test_create_needs_an_email_external_id_or_role(
    api: ValidatingClient, body: dict[str, Any]
) -> None:
    error = _error(await api.post("/contacts", json=body), 400)
    assert error["code"] == "parameter_not_found"
    assert await _count(api) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": 5}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "two words@example.com"}, "email"),
        ({"role": "admin"}, "role"),
        ({"role": None, "email": "x@example.com"}, "role"),
        ({"role": 1}, "role"),
        ({"external_id": 1.5}, "external_id"),
        ({"external_id": True}, "external_id"),
        ({"external_id": "  "}, "external_id"),
        ({"email": "x@example.com", "name": 3}, "name"),
        ({"email": "x@example.com", "phone": ["1"]}, "phone"),
        ({"email": "x@example.com", "avatar": "not a url"}, "avatar"),
        ({"email": "x@example.com", "avatar": "ftp://example.org/a.png"}, "avatar"),
        ({"email": "x@example.com", "signed_up_at": "yesterday"}, "signed_up_at"),
        ({"email": "x@example.com", "signed_up_at": True}, "signed_up_at"),
        ({"email": "x@example.com", "last_seen_at": 1.5}, "last_seen_at"),
        ({"email": "x@example.com", "last_seen_at": -1}, "last_seen_at"),
        ({"email": "x@example.com", "signed_up_at": 10**20}, "signed_up_at"),
        ({"email": "x@example.com", "owner_id": True}, "owner_id"),
        ({"email": "x@example.com", "owner_id": 999999}, "owner_id"),
        ({"email": "x@example.com", "owner_id": "abc"}, "owner_id"),
        ({"email": "x@example.com", "owner_id": 10**30}, "owner_id"),
        ({"email": "x@example.com", "unsubscribed_from_emails": "yes"}, "unsubscribed_from_emails"),
        ({"email": "x@example.com", "custom_attributes": []}, "custom_attributes"),
        ({"email": "x@example.com", "custom_attributes": "a=1"}, "custom_attributes"),
        ({"email": "x@example.com", "custom_attributes": {"o": {"n": 1}}}, "custom_attributes.o"),
        ({"email": "x@example.com", "custom_attributes": {"rel": ["21"]}}, "custom_attributes.rel"),
        (
            {"email": "x@example.com", "custom_attributes": {"big": 2**64 - 1}},
            "custom_attributes.big",
        ),
        *(  # names that search could not reach
            ({"email": "x@example.com", "custom_attributes": {name: "v"}}, "custom_attributes")
            for name in (" ", 'a"b', "a\\b", "a\x00b")
        ),
    ],
)
async def test_create_rejects_bad_fields_naming_them_and_creates_nothing(
    api: ValidatingClient, body: dict[str, Any], field: str
) -> None:
    error = _error(await api.post("/contacts", json=body), 400)
    assert error["code"] == "parameter_invalid"
    assert error["field"] == field
    assert await _count(api) == 0


async def test_create_rejects_a_body_that_is_not_an_object(api: ValidatingClient) -> None:
    for content in (b"[1, 2]", b'"email"', b"{broken"):
        response = await api.post(
            "/contacts", content=content, headers={"content-type": "application/json"}
        )
        assert _error(response, 400)["code"] == "parameter_invalid"
    assert await _count(api) == 0


async def test_a_user_matching_an_existing_users_email_or_external_id_conflicts(
    api: ValidatingClient,
) -> None:
    existing = await _create(api, email="taken@example.com", external_id="u-1")
    message = f"A contact matching those details already exists with id={existing['id']}"
    for body in (
        {"email": "TAKEN@example.com"},
        {"email": "other@example.com", "external_id": "u-1"},
        {"role": "user", "external_id": "u-1"},
    ):
        error = _error(await api.post("/contacts", json=body), 409)
        assert error == {"code": "conflict", "message": message}
    assert await _count(api) == 1
    # Leads may share a user's email; a user with fresh details is fine.
    lead = await _create(api, role="lead", email="taken@example.com")
    assert lead["role"] == "lead"
    await _create(api, email="fresh@example.com", external_id="u-2")
    assert await _count(api) == 3


async def test_get_unknown_contact_is_404_user_not_found(api: ValidatingClient) -> None:
    for contact_id in ("0123456789abcdef01234567", "nope", "x" * 300):
        error = _error(await api.get(f"/contacts/{contact_id}"), 404)
        assert error == {"code": "not_found", "message": "User Not Found"}


# ------------------------------------------------------------------ update


async def test_update_changes_only_the_fields_sent(
    api: ValidatingClient, clock: FrozenClock
) -> None:
    created = await _create(
        api, email="a@example.com", name="Ann", phone="111",
        custom_attributes={"plan": "free", "seats": 1},
    )  # fmt: skip
    clock.advance(60)
    response = await api.put(
        f"/contacts/{created['id']}",
        json={"name": "Anne", "phone": None, "custom_attributes": {"plan": "pro", "new": True}},
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "Anne"
    assert updated["phone"] is None
    assert updated["email"] == "a@example.com"
    assert updated["custom_attributes"] == {"plan": "pro", "seats": 1, "new": True}
    assert updated["created_at"] == START
    assert updated["updated_at"] == START + 60
    assert updated["enabled_push_messaging"] is None
    assert (await api.get(f"/contacts/{created['id']}")).json() == updated

    # An empty update changes nothing, not even updated_at.
    clock.advance(60)
    same = await api.put(f"/contacts/{created['id']}", json={})
    assert same.status_code == 200
    assert same.json() == updated


async def test_update_email_changes_the_domain_and_a_lead_can_become_a_user(
    api: ValidatingClient,
) -> None:
    lead = await _create(api, role="lead", email="lead@old.example")
    response = await api.put(
        f"/contacts/{lead['id']}", json={"role": "user", "email": "lead@New.Example"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "user"
    assert response.json()["email_domain"] == "new.example"


async def test_a_user_cannot_become_a_lead(api: ValidatingClient) -> None:
    user = await _create(api, email="u@example.com")
    error = _error(await api.put(f"/contacts/{user['id']}", json={"role": "lead"}), 400)
    assert error["field"] == "role"
    assert (await api.get(f"/contacts/{user['id']}")).json()["role"] == "user"


async def test_update_conflicts_with_another_users_details_and_changes_nothing(
    api: ValidatingClient, clock: FrozenClock
) -> None:
    first = await _create(api, email="first@example.com", external_id="f")
    second = await _create(api, email="second@example.com", external_id="s", name="Second")
    lead = await _create(api, role="lead", email="FIRST@example.com")
    clock.advance(5)
    for contact, body in (
        (second, {"email": "First@Example.com", "name": "Changed"}),
        (second, {"external_id": "f"}),
        (lead, {"role": "user"}),  # the lead's email belongs to a user
    ):
        error = _error(await api.put(f"/contacts/{contact['id']}", json=body), 409)
        assert error["code"] == "conflict"
        assert error["message"].endswith(f"id={first['id']}")
    assert (await api.get(f"/contacts/{second['id']}")).json() == {
        **second, "enabled_push_messaging": None,
    }  # fmt: skip
    assert (await api.get(f"/contacts/{lead['id']}")).json()["role"] == "lead"
    # A user keeping its own details is not a conflict with itself.
    same = await api.put(f"/contacts/{first['id']}", json={"email": "first@example.com"})
    assert same.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "name"),
        ({"email": None}, "email"),
        ({"email": "broken"}, "email"),
        ({"role": "visitor"}, "role"),
        ({"external_id": None}, "external_id"),
        ({"signed_up_at": "2024-01-01"}, "signed_up_at"),
        ({"unsubscribed_from_emails": 1}, "unsubscribed_from_emails"),
        ({"owner_id": 424242}, "owner_id"),
        ({"custom_attributes": {"x": [1, 2]}}, "custom_attributes.x"),
    ],
)
async def test_update_rejects_bad_fields_and_changes_nothing(
    api: ValidatingClient, body: dict[str, Any], field: str
) -> None:
    created = await _create(api, email="keep@example.com", name="Keep")
    error = _error(await api.put(f"/contacts/{created['id']}", json=body), 400)
    assert error["field"] == field
    after = (await api.get(f"/contacts/{created['id']}")).json()
    assert after == {**created, "enabled_push_messaging": None}


async def test_update_unknown_contact_is_404(api: ValidatingClient) -> None:
    error = _error(await api.put("/contacts/0123456789abcdef01234567", json={"name": "x"}), 404)
    assert error == {"code": "not_found", "message": "User Not Found"}


async def test_update_owner_and_custom_attributes_null(
    api: ValidatingClient, workspace: CreatedWorkspace
) -> None:
    created = await _create(api, email="o@example.com", custom_attributes={"k": "v"})
    cid = created["id"]
    set_owner = await api.put(f"/contacts/{cid}", json={"owner_id": workspace.owner_admin_id})
    assert set_owner.json()["owner_id"] == workspace.owner_admin_id
    cleared = await api.put(f"/contacts/{cid}", json={"owner_id": None, "custom_attributes": None})
    assert cleared.json()["owner_id"] is None
    # custom_attributes: null sets nothing; attributes are merged, never wiped wholesale.
    assert cleared.json()["custom_attributes"] == {"k": "v"}
    avatar = await api.put(f"/contacts/{cid}", json={"avatar": "http://example.org/a.png"})
    assert avatar.json()["avatar"] == {"type": "avatar", "image_url": "http://example.org/a.png"}
    no_avatar = await api.put(f"/contacts/{cid}", json={"avatar": None})
    assert no_avatar.json()["avatar"] is None


# ------------------------------------------------------------------ delete


async def test_delete_removes_the_contact_its_tags_and_its_conversation_memberships(
    api: ValidatingClient, db: Database
) -> None:
    contact = await _create(api, email="gone@example.com", external_id="g-1")
    keep = await _create(api, email="stays@example.com")
    cid = contact["id"]
    tag = (await api.post("/tags", json={"name": "doomed"})).json()
    assert (await api.post(f"/contacts/{cid}/tags", json={"id": tag["id"]})).status_code == 200
    started = await api.post(
        "/conversations", json={"from": {"type": "user", "id": cid}, "body": "hello"}
    )
    assert started.status_code == 200, started.text
    async with db.transaction() as tx:
        before = await tx.fetch_val(
            "SELECT count(*) FROM conversation_contacts WHERE contact_id = :c", {"c": cid}
        )
    assert before == 1

    response = await api.delete(f"/contacts/{cid}")
    assert response.status_code == 200
    assert response.json() == {"type": "contact", "id": cid, "external_id": "g-1", "deleted": True}
    assert _error(await api.get(f"/contacts/{cid}"), 404)["message"] == "User Not Found"
    async with db.transaction() as tx:
        for table in ("contact_tags", "conversation_contacts"):
            left = await tx.fetch_val(
                f"SELECT count(*) FROM {table} WHERE contact_id = :c", {"c": cid}
            )
            assert left == 0, table
    # The tag itself and other contacts are untouched.
    assert (await api.get(f"/tags/{tag['id']}")).status_code == 200
    assert (await api.get(f"/contacts/{keep['id']}")).status_code == 200
    assert _error(await api.delete(f"/contacts/{cid}"), 404)["message"] == "User Not Found"


# ------------------------------------------------------------------ find by external_id


async def test_find_by_external_id_finds_users_only(api: ValidatingClient) -> None:
    user = await _create(api, email="u@example.com", external_id="a b-ç")
    await _create(api, role="lead", external_id="lead-ext")
    found = await api.get("/contacts/find_by_external_id/a%20b-%C3%A7")
    assert found.status_code == 200, found.text
    assert found.json()["id"] == user["id"]
    assert found.json()["enabled_push_messaging"] is None
    for external_id in ("lead-ext", "missing"):
        error = _error(await api.get(f"/contacts/find_by_external_id/{external_id}"), 404)
        assert error == {"code": "not_found", "message": "User Not Found"}


# ------------------------------------------------------------------ archive


async def test_archive_hides_from_the_list_but_not_from_get(
    api: ValidatingClient, clock: FrozenClock
) -> None:
    archived = await _create(api, email="old@example.com", external_id="old")
    kept = await _create(api, email="new@example.com")
    clock.advance(30)
    response = await api.post(f"/contacts/{archived['id']}/archive")
    assert response.status_code == 200
    assert response.json() == {
        "type": "contact", "id": archived["id"], "external_id": "old", "archived": True,
    }  # fmt: skip
    listing = (await api.get("/contacts")).json()
    assert [c["id"] for c in listing["data"]] == [kept["id"]]
    assert listing["total_count"] == 1
    still = await api.get(f"/contacts/{archived['id']}")
    assert still.status_code == 200
    assert still.json()["updated_at"] == START + 30
    # Archiving twice is harmless.
    again = await api.post(f"/contacts/{archived['id']}/archive")
    assert again.json()["archived"] is True

    restored = await api.post(f"/contacts/{archived['id']}/unarchive")
    assert restored.status_code == 200
    assert restored.json() == {
        "type": "contact", "id": archived["id"], "external_id": "old", "archived": False,
    }  # fmt: skip
    listing = (await api.get("/contacts")).json()
    assert {c["id"] for c in listing["data"]} == {archived["id"], kept["id"]}
    assert listing["total_count"] == 2


async def test_archive_and_unarchive_unknown_contact_is_404(api: ValidatingClient) -> None:
    for action in ("archive", "unarchive"):
        error = _error(await api.post(f"/contacts/0123456789abcdef01234567/{action}"), 404)
        assert error == {"code": "not_found", "message": "User Not Found"}


# ------------------------------------------------------------------ list and pagination


async def test_empty_list(api: ValidatingClient) -> None:
    body = (await api.get("/contacts")).json()
    assert body == {
        "type": "list", "data": [], "total_count": 0,
        "pages": {"type": "pages", "page": 1, "per_page": 10, "total_pages": 0},
    }  # fmt: skip


async def test_pagination_walk_visits_every_contact_once(
    api: ValidatingClient, clock: FrozenClock
) -> None:
    created: list[str] = []
    for i in range(25):
        # Pairs share an updated_at, so ties are broken by id.
        if i % 2 == 0:
            clock.advance(1)
        created.append((await _create(api, email=f"c{i}@example.com"))["id"])
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {"per_page": 10}
    while True:
        response = await api.get("/contacts", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total_count"] == 25
        seen.extend(c["id"] for c in body["data"])
        pages.append(body["pages"])
        if "next" not in body["pages"]:
            break
        assert body["pages"]["next"]["per_page"] == 10
        params = {"per_page": 10, "starting_after": body["pages"]["next"]["starting_after"]}
        assert len(pages) < 10, "the walk does not end"
    assert len(seen) == len(set(seen)) == 25
    assert set(seen) == set(created)
    assert [p["page"] for p in pages] == [1, 2, 3]
    assert all(p["total_pages"] == 3 and p["per_page"] == 10 for p in pages)
    assert [len(seen[:10]), len(seen[10:20]), len(seen[20:])] == [10, 10, 5]
    # Newest first.
    listing = (await api.get("/contacts", params={"per_page": 150})).json()
    updated = [c["updated_at"] for c in listing["data"]]
    assert updated == sorted(updated, reverse=True)
    assert updated[0] == START + 13
    assert "next" not in listing["pages"]


async def test_default_page_size_is_10_and_updates_do_not_reorder(
    api: ValidatingClient, clock: FrozenClock
) -> None:
    """Newest first by created_at: an update does not move a contact, so a cursor walk in
    progress neither repeats nor skips it (docs/behaviour.md, Search)."""
    ids = []
    for i in range(12):
        clock.advance(1)
        ids.append((await _create(api, email=f"d{i}@example.com"))["id"])
    body = (await api.get("/contacts")).json()
    assert len(body["data"]) == 10
    assert body["pages"]["per_page"] == 10
    assert body["pages"]["total_pages"] == 2
    assert body["data"][0]["id"] == ids[-1]
    clock.advance(1)
    await api.put(f"/contacts/{ids[0]}", json={"name": "touched"})
    assert (await api.get("/contacts")).json()["data"][0]["id"] == ids[-1]


async def test_the_cursor_is_opaque_base64_json(api: ValidatingClient) -> None:
    for i in range(3):
        await _create(api, email=f"b{i}@example.com")
    body = (await api.get("/contacts", params={"per_page": 2})).json()
    cursor = body["pages"]["next"]["starting_after"]
    decoded = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert decoded == [START, body["data"][-1]["id"], 2]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "151"}, "per_page"),
        ({"per_page": "ten"}, "per_page"),
        ({"per_page": "-5"}, "per_page"),
        ({"per_page": SUPERSCRIPT_TWO}, "per_page"),  # only ASCII 0-9 are digits
        ({"per_page": arabic_indic(10)}, "per_page"),
        ({"per_page": "0" * 5000}, "per_page"),  # more digits than int() reads
        ({"starting_after": "not-a-cursor"}, "starting_after"),
        ({"starting_after": base64.b64encode(b"[1, 2]").decode()}, "starting_after"),
        ({"starting_after": base64.b64encode(b'["a", "b", 1]').decode()}, "starting_after"),
        ({"starting_after": base64.b64encode(b"[1, 2, 3]").decode()}, "starting_after"),
        ({"starting_after": base64.b64encode(b'[true, "a", 2]').decode()}, "starting_after"),
        ({"starting_after": base64.b64encode(b'[1, "a", true]').decode()}, "starting_after"),
        (
            {"starting_after": base64.b64encode(b'[1, "a", 9223372036854775808]').decode()},
            "starting_after",
        ),
    ],
)
async def test_bad_list_parameters_are_400(
    api: ValidatingClient, params: dict[str, str], field: str
) -> None:
    error = _error(await api.get("/contacts", params=params), 400)
    assert error["code"] == "parameter_invalid"
    assert error["field"] == field


async def test_list_embeds_at_most_ten_tags_per_contact(api: ValidatingClient) -> None:
    contact = await _create(api, email="tagged@example.com")
    tag_ids = []
    for i in range(12):
        tag = await api.post("/tags", json={"name": f"t{i}", "users": [{"id": contact["id"]}]})
        tag_ids.append(tag.json()["id"])
    for body in (
        (await api.get("/contacts")).json()["data"][0],
        (await api.get(f"/contacts/{contact['id']}")).json(),
    ):
        tags = body["tags"]
        assert tags["total_count"] == 12
        assert tags["has_more"] is True
        assert tags["data"][0] == {"type": "tag", "id": tag_ids[0], "url": f"/tags/{tag_ids[0]}"}
        assert [t["id"] for t in tags["data"]] == tag_ids[:10]


# ------------------------------------------------------------------ auth and isolation


async def test_every_contact_endpoint_needs_a_token(
    api: ValidatingClient, anon: ValidatingClient
) -> None:
    contact = await _create(api, email="private@example.com", external_id="p")
    cid = contact["id"]
    calls = [
        ("GET", "/contacts", None), ("POST", "/contacts", {"email": "x@example.com"}),
        ("GET", f"/contacts/{cid}", None), ("PUT", f"/contacts/{cid}", {"name": "x"}),
        ("DELETE", f"/contacts/{cid}", None), ("GET", "/contacts/find_by_external_id/p", None),
        ("POST", f"/contacts/{cid}/archive", None), ("POST", f"/contacts/{cid}/unarchive", None),
    ]  # fmt: skip
    for method, path, body in calls:
        response = await anon.request(method, path, json=body)
        error = _error(response, 401)
        assert error == {"code": "unauthorized", "message": "Access Token Invalid"}, path
    assert (await api.get(f"/contacts/{cid}")).json()["name"] is None
    assert await _count(api) == 1


async def test_another_workspaces_contacts_are_invisible(
    api: ValidatingClient, app: Any, other_workspace_token: Any
) -> None:
    other = await other_workspace_token()
    async with make_client(app, other.token) as other_api:
        theirs = await _create(other_api, email="theirs@example.com", external_id="t")
        # The same details are free in this workspace: uniqueness is per workspace.
        mine = await _create(api, email="theirs@example.com", external_id="t")
        cid = theirs["id"]
        for response in (
            await api.get(f"/contacts/{cid}"),
            await api.put(f"/contacts/{cid}", json={"name": "hijacked"}),
            await api.delete(f"/contacts/{cid}"),
            await api.post(f"/contacts/{cid}/archive"),
            await api.post(f"/contacts/{cid}/unarchive"),
        ):
            assert _error(response, 404) == {"code": "not_found", "message": "User Not Found"}
        found = await api.get("/contacts/find_by_external_id/t")
        assert found.json()["id"] == mine["id"]
        listing = (await api.get("/contacts")).json()
        assert [c["id"] for c in listing["data"]] == [mine["id"]]
        unchanged = (await other_api.get(f"/contacts/{cid}")).json()
        assert unchanged == {**theirs, "enabled_push_messaging": None}
        assert (await other_api.get("/contacts")).json()["total_count"] == 1


async def test_nul_characters_are_refused_before_any_store_sees_them(api: ValidatingClient) -> None:
    """PostgreSQL's text cannot hold NUL (that was a 500) and SQLite's LIKE stops at it: a body
    string or key holding one is a 400 naming it, a path with one names nothing, a query string
    with one is a 400; nothing is written."""
    refused = await api.post("/contacts", json={"email": "n@example.com", "name": "a\x00b"})
    error = _error(refused, 400)
    assert (error["code"], error["field"]) == ("parameter_invalid", "name")
    nested = await api.post(
        "/contacts", json={"email": "n@example.com", "custom_attributes": {"k\x00": "v"}}
    )
    assert _error(nested, 400)["field"] == "custom_attributes"
    assert (await api.get("/contacts/abc%00")).status_code == 404
    _error(await api.get("/contacts?per_page=5&starting_after=%00"), 400)
    listed = await api.get("/contacts")
    assert listed.json()["data"] == []
