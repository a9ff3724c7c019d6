"""Stored conversation documents: the GET fast path must answer exactly what rendering the rows
would, and nothing that changes the rendering may leave a stale document behind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from parley.db import migrate
from parley.db.database import Database, _PgTransaction, _SqliteTransaction
from parley.kit.clock import FrozenClock
from parley.kit.ids import IdFactory
from parley.render import conversation as render
from parley.services import conversations as conversation_service
from parley.services.context import Context
from parley.services.workspaces import CreatedWorkspace
from tests.conftest import ValidatingClient, make_client
from tests.factories import create_contact, create_team


async def _document(db: Database, conversation_id: str) -> tuple[str | bytes | None, int]:
    """The conversation's current stored document (None when there is none) and revision."""
    async with db.transaction() as tx:
        row = await tx.fetch_one(
            "SELECT d.body, c.revision FROM conversations c LEFT JOIN conversation_documents d"
            " ON d.conversation_id = c.id AND d.revision = c.revision WHERE c.id = :id",
            {"id": int(conversation_id)},
        )
    assert row is not None
    return row["body"], int(row["revision"])


async def _drop(db: Database, conversation_id: str) -> None:
    async with db.transaction(write=True) as tx:
        await tx.execute(
            "DELETE FROM conversation_documents WHERE conversation_id = :id",
            {"id": int(conversation_id)},
        )


async def _conversation(api: ValidatingClient, contact: str, admin: int) -> str:
    started = await api.post(
        "/conversations", json={"from": {"type": "user", "id": contact}, "body": "hello"}
    )
    cid = str(started.json()["conversation_id"])
    reply = await api.post(
        f"/conversations/{cid}/reply",
        json={"message_type": "comment", "type": "admin", "admin_id": admin, "body": "hi"},
    )
    assert reply.status_code == 200
    return cid


async def test_a_write_keeps_the_document_and_get_serves_the_same_json(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> None:
    contact = await create_contact(db, workspace, ids, clock, email="d@x.org", name="Dee")
    cid = await _conversation(api, contact, workspace.owner_admin_id)
    text, _ = await _document(db, cid)
    assert text is not None
    fast = (await api.get(f"/conversations/{cid}")).json()
    await _drop(db, cid)
    slow = (await api.get(f"/conversations/{cid}")).json()
    assert fast == slow
    # The slow GET kept its rendering for next time.
    refilled, _ = await _document(db, cid)
    assert refilled is not None
    assert (await api.get(f"/conversations/{cid}")).json() == slow


async def test_other_versions_and_plaintext_are_rendered_not_served_from_the_document(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> None:
    contact = await create_contact(db, workspace, ids, clock, email="e@x.org")
    cid = await _conversation(api, contact, workspace.owner_admin_id)
    v216 = (await api.get(f"/conversations/{cid}", headers={"Intercom-Version": "2.16"})).json()
    assert v216["admin_assignee_id"] == 0
    plain = (await api.get(f"/conversations/{cid}", params={"display_as": "plaintext"})).json()
    assert plain["conversation_parts"]["conversation_parts"][-1]["body"] == "hi"


async def test_renaming_a_contact_updates_every_conversation_showing_it(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> None:
    contact = await create_contact(db, workspace, ids, clock, email="f@x.org", external_id="f-1")
    cid = await _conversation(api, contact, workspace.owner_admin_id)
    reply = await api.post(
        f"/conversations/{cid}/reply",
        json={"message_type": "comment", "type": "user", "intercom_user_id": contact, "body": "yo"},
    )
    assert reply.status_code == 200
    changed = await api.put(f"/contacts/{contact}", json={"external_id": "f-2", "name": "Fay"})
    assert changed.status_code == 200
    body = (await api.get(f"/conversations/{cid}")).json()
    assert body["contacts"]["contacts"][0]["external_id"] == "f-2"
    assert body["conversation_parts"]["conversation_parts"][-1]["author"]["name"] == "Fay"
    assert body["source"]["author"]["name"] == "Fay"
    # A change that no conversation shows leaves documents alone.
    kept, _ = await _document(db, cid)
    assert kept is not None
    assert (await api.put(f"/contacts/{contact}", json={"phone": "+100"})).status_code == 200
    assert (await _document(db, cid))[0] == kept


async def test_renaming_or_deleting_a_tag_updates_tagged_conversations(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> None:
    contact = await create_contact(db, workspace, ids, clock, email="g@x.org")
    cid = await _conversation(api, contact, workspace.owner_admin_id)
    tag = (await api.post("/tags", json={"name": "old"})).json()
    tagged = await api.post(
        f"/conversations/{cid}/tags", json={"id": tag["id"], "admin_id": workspace.owner_admin_id}
    )
    assert tagged.status_code == 200
    await api.get(f"/conversations/{cid}")  # keeps the document, with the tag
    assert (await api.post("/tags", json={"id": tag["id"], "name": "new"})).status_code == 200
    names = [t["name"] for t in (await api.get(f"/conversations/{cid}")).json()["tags"]["tags"]]
    assert names == ["new"]
    assert (await api.delete(f"/tags/{tag['id']}")).status_code == 200
    assert (await api.get(f"/conversations/{cid}")).json()["tags"]["tags"] == []


async def test_deleting_a_contact_drops_the_documents_that_show_it(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> None:
    first = await create_contact(db, workspace, ids, clock, email="h@x.org", name="Hal")
    second = await create_contact(db, workspace, ids, clock, email="i@x.org")
    cid = await _conversation(api, first, workspace.owner_admin_id)
    attached = await api.post(
        f"/conversations/{cid}/customers",
        json={"admin_id": workspace.owner_admin_id, "customer": {"intercom_user_id": second}},
    )
    assert attached.status_code == 200
    await api.get(f"/conversations/{cid}")
    assert (await api.delete(f"/contacts/{first}")).status_code == 200
    body: dict[str, Any] = (await api.get(f"/conversations/{cid}")).json()
    assert [c["id"] for c in body["contacts"]["contacts"]] == [second]


async def test_a_rendering_of_an_older_revision_is_never_kept(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> None:
    contact = await create_contact(db, workspace, ids, clock, email="j@x.org")
    cid = await _conversation(api, contact, workspace.owner_admin_id)
    _, revision = await _document(db, cid)
    note = await api.post(
        f"/conversations/{cid}/reply",
        json={
            "message_type": "note",
            "type": "admin",
            "admin_id": workspace.owner_admin_id,
            "body": "later",
        },
    )
    assert note.status_code == 200
    async with db.transaction(write=True) as tx:
        await conversation_service.keep_document(
            tx, _ctx(workspace), int(cid), b'{"stale": true}', revision
        )
    assert "stale" not in (await api.get(f"/conversations/{cid}")).json()


def _ctx(workspace: CreatedWorkspace) -> Context:
    return Context(FrozenClock(0), IdFactory(0), workspace.workspace_id, workspace.owner_admin_id)


async def test_an_id_is_never_handed_out_again_so_no_rendering_lands_on_another_conversation(
    app: Any,
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
    other_workspace_token: Any,
) -> None:
    """The newest conversation deleted, its id is not the next one's (SQLite used to reuse it).
    The race that made that a leak: a GET renders conversation X from a snapshot taken before
    X's deletion committed and keeps the rendering once it has; meanwhile another workspace
    creates a conversation, which took X's id and revision 0. The kept rendering must not
    become the new conversation's document."""
    other = await other_workspace_token()
    mine = await create_contact(db, workspace, ids, clock, email="a@x.org")
    theirs = await create_contact(db, other, ids, clock, email="b@x.org")
    started = await api.post(
        "/conversations", json={"from": {"type": "user", "id": mine}, "body": "secret of A"}
    )
    deleted = str(started.json()["conversation_id"])
    await _drop(db, deleted)  # so that the GET renders it and keeps the rendering afterwards
    async with make_client(app, other.token) as them:
        removal, creation, read = await asyncio.gather(
            api.delete(f"/conversations/{deleted}"),
            them.post(
                "/conversations", json={"from": {"type": "user", "id": theirs}, "body": "B's own"}
            ),
            api.get(f"/conversations/{deleted}"),
        )
        assert removal.status_code == 200
        assert creation.status_code == 200
        assert read.status_code in (200, 404)  # either side of the deletion's commit
        created = str(creation.json()["conversation_id"])
        assert int(created) > int(deleted)
        shown = (await them.get(f"/conversations/{created}")).json()
    assert shown["source"]["body"] == "<p>B's own</p>"
    assert (await api.get(f"/conversations/{deleted}")).status_code == 404


async def test_a_rendering_is_kept_only_in_its_own_workspace(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
    other_workspace_token: Any,
) -> None:
    other = await other_workspace_token()
    contact = await create_contact(db, workspace, ids, clock, email="c@x.org")
    cid = await _conversation(api, contact, workspace.owner_admin_id)
    await _drop(db, cid)
    _, revision = await _document(db, cid)
    async with db.transaction(write=True) as tx:
        await conversation_service.keep_document(
            tx, _ctx(other), int(cid), b'{"foreign": true}', revision
        )
    assert await _document(db, cid) == (None, revision)
    assert "foreign" not in (await api.get(f"/conversations/{cid}")).json()


async def test_a_rating_shows_the_raters_current_external_id(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> None:
    """The rating stores who rated, not how they looked then: a later rename shows."""
    contact = await create_contact(db, workspace, ids, clock, email="k@x.org", external_id="k-1")
    cid = await _conversation(api, contact, workspace.owner_admin_id)
    rated = await api.post(
        f"/_parley/conversations/{cid}/rating", json={"intercom_user_id": contact, "rating": 5}
    )
    assert rated.status_code == 200, rated.text
    assert (await api.put(f"/contacts/{contact}", json={"external_id": "k-2"})).status_code == 200
    rating = (await api.get(f"/conversations/{cid}")).json()["conversation_rating"]
    assert rating["contact"] == {"type": "contact", "id": contact, "external_id": "k-2"}
    assert rating["rating"] == 5


@contextmanager
def _reads_recorded() -> Iterator[list[str]]:
    """The SQL of every query made meanwhile, on either store."""
    reads: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        for cls in (_SqliteTransaction, _PgTransaction):
            for name in ("fetch_one", "fetch_all", "fetch_val"):
                original = getattr(cls, name)

                async def recorded(
                    self: Any, sql: str, *args: Any, _original: Any = original
                ) -> Any:
                    reads.append(sql)
                    return await _original(self, sql, *args)

                patch.setattr(cls, name, recorded)
        yield reads


async def _rendered_from_rows(api: ValidatingClient, db: Database, cid: str) -> Any:
    await _drop(db, cid)
    return (await api.get(f"/conversations/{cid}")).json()


async def test_writes_that_append_build_on_the_document_and_equal_a_full_rendering(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> None:
    """A reply or a manage action on a conversation whose document is current renders only its
    new parts and takes the rest from that document (no reading of every part, nor reading back
    the parts it wrote); what it answers and keeps must be what rendering every row answers."""
    contact = await create_contact(
        db, workspace, ids, clock, email="m@x.org", name="Em", external_id='ext "1" \\ ü'
    )
    team = await create_team(db, workspace, clock, name="Billing")
    admin = workspace.owner_admin_id
    cid = await _conversation(api, contact, admin)
    # Its contacts and tags are taken from the document it builds on: make them worth checking
    # (escapes in strings, two tags in their order, both kinds of author).
    for name in ('VIP "gold" },"priority":', "billing"):
        tag = (await api.post("/tags", json={"name": name})).json()
        tagged = await api.post(
            f"/conversations/{cid}/tags", json={"id": tag["id"], "admin_id": admin}
        )
        assert tagged.status_code == 200, tagged.text
    steps: list[dict[str, Any]] = [
        {"message_type": "note", "type": "admin", "admin_id": admin, "body": "<b>internal</b>"},
        {"message_type": "comment", "type": "user", "intercom_user_id": contact, "body": "ok?"},
        {"message_type": "assignment", "type": "team", "admin_id": admin, "assignee_id": team},
        {"message_type": "close", "type": "admin", "admin_id": admin, "body": "Done"},
        {"message_type": "comment", "type": "user", "intercom_user_id": contact, "body": "again"},
        {"message_type": "snoozed", "admin_id": admin, "snoozed_until": clock.now() + 3600},
        {"message_type": "open", "admin_id": admin},
        {"message_type": "open", "admin_id": admin},  # already open: nothing changes
        {"message_type": "assignment", "type": "admin", "admin_id": admin, "assignee_id": 0},
        {
            "message_type": "quick_reply",
            "type": "admin",
            "admin_id": admin,
            "reply_options": [{"text": "Yes", "uuid": "u-1"}],
        },
    ]
    for step in steps:
        await api.get(f"/conversations/{cid}")  # the document is current
        path = "parts" if step["message_type"] in {"assignment", "close", "snoozed", "open"} else ""
        url = f"/conversations/{cid}/{path or 'reply'}"
        with _reads_recorded() as reads:
            answered = await api.post(url, json=step)
        assert answered.status_code == 200, (step, answered.text)
        assert not [sql for sql in reads if "FROM conversation_parts p" in sql], step
        assert sum(" FROM conversations c LEFT JOIN" in sql for sql in reads) == 1, step
        assert not [sql for sql in reads if "FROM conversation_tags" in sql], step
        stored, _ = await _document(db, cid)
        assert stored is not None
        assert orjson.loads(stored) == answered.json()
        assert await _rendered_from_rows(api, db, cid) == answered.json(), step


async def test_building_on_the_document_keeps_only_the_most_recent_parts(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The 500-part cap, with a cap of 5 so that the test stays quick."""
    monkeypatch.setattr(conversation_service, "PART_LIMIT", 5)
    contact = await create_contact(db, workspace, ids, clock, email="n@x.org")
    cid = await _conversation(api, contact, workspace.owner_admin_id)  # 1 part: "hi"
    reply = {"message_type": "note", "type": "admin", "admin_id": workspace.owner_admin_id}
    for n in range(6):
        answered = await api.post(f"/conversations/{cid}/reply", json={**reply, "body": f"n{n}"})
        assert answered.status_code == 200
    shown = answered.json()["conversation_parts"]
    assert shown["total_count"] == 7
    assert [p["body"] for p in shown["conversation_parts"]] == [f"<p>n{n}</p>" for n in range(1, 6)]
    assert await _rendered_from_rows(api, db, cid) == answered.json()


async def test_the_rowid_migration_keeps_the_current_documents(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """0007 gives conversation_documents its workspace and keeps only current documents (a
    stored document is now served without checking the conversation's revision); on SQLite it
    rebuilds the table keyed by its rowid. A populated store keeps its current documents
    through the upgrade, and a stale one left by 0006 is not carried over."""
    contact = await create_contact(db, workspace, ids, clock, email="m@x.org")
    current = await _conversation(api, contact, workspace.owner_admin_id)
    stale = await _conversation(api, contact, workspace.owner_admin_id)
    before, _ = await _document(db, current)
    assert before is not None
    postgres_url = "" if db.dialect == "sqlite" else request.getfixturevalue("postgres_url")
    url = (  # the db fixture's store
        f"sqlite:///{tmp_path / 'parley.db'}" if db.dialect == "sqlite" else postgres_url
    )

    async def indexes() -> list[str]:
        if db.dialect != "sqlite":
            return []
        async with db.transaction() as tx:
            rows = await tx.fetch_all(
                "SELECT name FROM sqlite_master"
                " WHERE tbl_name = 'conversation_documents' AND type = 'index'"
            )
        return [str(row["name"]) for row in rows]

    async def layout() -> tuple[list[str], list[int]]:
        async with db.transaction() as tx:
            keyed = await tx.fetch_all(
                "SELECT conversation_id FROM conversation_documents WHERE workspace_id = :ws"
                + (" AND rowid = conversation_id" if db.dialect == "sqlite" else "")
                + " ORDER BY 1",
                {"ws": workspace.workspace_id},
            )
        return await indexes(), [int(r["conversation_id"]) for r in keyed]

    assert await layout() == ([], sorted([int(current), int(stale)]))
    await asyncio.to_thread(migrate.downgrade, url, "0006_statistics_indexes")
    try:
        if db.dialect == "sqlite":
            assert await indexes() == ["sqlite_autoindex_conversation_documents_1"]
        async with db.transaction(write=True) as tx:  # 0006 let a stale document stay behind
            await tx.execute(
                "UPDATE conversations SET revision = revision + 1 WHERE id = :id",
                {"id": int(stale)},
            )
    finally:  # the schema is the session's on PostgreSQL
        await asyncio.to_thread(migrate.upgrade, url)
    assert await layout() == ([], [int(current)])
    assert (await _document(db, current))[0] == before
    served = (await api.get(f"/conversations/{current}")).content
    assert served == (before if isinstance(before, bytes) else before.encode())
    stale_body = (await api.get(f"/conversations/{stale}")).json()  # rendered from the rows
    assert stale_body["id"] == stale


@pytest.mark.parametrize(
    "document",
    [
        b"{}",
        b'{"contacts":{"type":"contact.list","contacts":[]},"first_contact_reply":null}',
        b'{"contacts":{"type":"contact.list","contacts":[{"id":"1"}',
        b'{"contacts":{"type":"contact.list","contacts":{"id":1}},"first_contact_reply":null,'
        b'"tags":{"type":"tag.list","tags":[]},"priority":"not_priority"}',
        b'{"contacts":{"type":"contact.list","contacts":[}},"first_contact_reply":null,'
        b'"tags":{"type":"tag.list","tags":[]},"priority":"not_priority"}',
    ],
)
def test_a_document_of_another_shape_yields_no_relations(document: bytes) -> None:
    """The writer then reads the contacts and tags instead."""
    assert render.relations_in_document(document) is None


def test_relations_are_read_from_a_document() -> None:
    document = (
        b'{"type":"conversation","contacts":{"type":"contact.list","contacts":[{"type":"contact",'
        b'"id":"c1","external_id":"x \\"]},\\"first_contact_reply\\":"}]},'
        b'"first_contact_reply":null,"tags":{"type":"tag.list","tags":[{"type":"tag","id":"7",'
        b'"name":"n","applied_at":5,"applied_by":{"type":"admin","id":"2"}}]},'
        b'"priority":"not_priority"}'
    )
    found = render.relations_in_document(document)
    assert found is not None
    contacts, tags = found
    assert [render.contact_reference(c) for c in contacts] == [
        {"type": "contact", "id": "c1", "external_id": 'x "]},"first_contact_reply":'}
    ]
    assert [render.applied_tag(t) for t in tags] == [
        {
            "type": "tag",
            "id": "7",
            "name": "n",
            "applied_at": 5,
            "applied_by": {"type": "admin", "id": "2"},
        }
    ]


async def test_writes_that_retire_documents_are_bulk_writes(
    api: ValidatingClient,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Renaming or deleting a tag, and changing or deleting a contact, may retire the documents
    of a great many conversations: those requests ask for a bulk write (on SQLite, its journal
    on disk rather than in memory: Database.transaction); a reply does not."""
    contact = await create_contact(db, workspace, ids, clock, email="b@x.org")
    admin = workspace.owner_admin_id
    cid = await _conversation(api, contact, admin)
    tag = (await api.post("/tags", json={"name": "t"})).json()
    writes: list[bool] = []
    original = type(db).transaction

    def recorded(self: Any, *, write: bool = False, bulk: bool = False) -> Any:
        if write:
            writes.append(bulk)
        return original(self, write=write, bulk=bulk)

    monkeypatch.setattr(type(db), "transaction", recorded)
    requests = [
        api.post(
            f"/conversations/{cid}/reply",
            json={"message_type": "note", "type": "admin", "admin_id": admin, "body": "n"},
        ),
        api.post("/tags", json={"id": tag["id"], "name": "renamed"}),
        api.delete(f"/tags/{tag['id']}"),
        api.put(f"/contacts/{contact}", json={"name": "Bea"}),
        api.delete(f"/contacts/{contact}"),
    ]
    for request in requests:
        assert (await request).status_code == 200
    assert writes == [False, True, True, True, True]
