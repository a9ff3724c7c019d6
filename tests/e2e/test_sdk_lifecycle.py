"""A whole conversation lifecycle driven by the official Python SDK (python-intercom) against a
real `parley serve` process: what an integrator's code does, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from intercom import (
    AdminReplyConversationRequest,
    ContactReplyIntercomUserIdRequest,
    CreateContactRequestWithEmail,
    CreateOrUpdateTagRequest,
    Intercom,
    SingleFilterSearchRequest,
    StartingAfterPaging,
)
from intercom.conversations import (
    ConversationsManageRequestBody_Assignment,
    ConversationsManageRequestBody_Close,
    ConversationsManageRequestBody_Open,
    ConversationsManageRequestBody_Snoozed,
    CreateConversationRequestFrom,
)
from intercom.core.api_error import ApiError

from tests.e2e.conftest import fresh_postgres_database
from tests.e2e.servers import ServerProcess, run_cli, serving

pytestmark = pytest.mark.slow

TOKEN = "sdk-lifecycle-token-0123456789"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The storage flags of the served process: the embedded default, then PostgreSQL."""
    if request.param == "sqlite":
        return ["--data-dir", str(tmp_path_factory.mktemp("sdk") / "data")]
    return ["--database-url", fresh_postgres_database("_e2e_sdk")]


@pytest.fixture(scope="module")
def server(store: list[str]) -> Iterator[ServerProcess]:
    with serving([*store, "--bootstrap-token", TOKEN, "--migrate"]) as running:
        running.wait_ready(TOKEN)
        yield running


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[Intercom]:
    # The SDK's own httpx client is never closed; pass one we close (unclosed sockets fail the
    # run under filterwarnings=error).
    with httpx.Client(timeout=30) as http:
        yield Intercom(token=TOKEN, base_url=server.base_url, httpx_client=http)


@pytest.fixture(scope="module")
def teammate_id(server: ServerProcess, store: list[str]) -> str:
    """A second admin, made with the CLI while the server runs."""
    made = run_cli(["admins", "create", "--name", "Sam Support", "--email", "sam@example.com",
                    *store])  # fmt: skip
    assert made.returncode == 0, made.stderr
    return made.stdout.split("Created admin ", 1)[1].split(" ", 1)[0]


def part_types(conversation: Any) -> list[str]:
    return [part.part_type for part in conversation.conversation_parts.conversation_parts]


def last_part(conversation: Any) -> Any:
    return conversation.conversation_parts.conversation_parts[-1]


def test_sdk_identifies_the_token_admin(client: Intercom) -> None:
    me = client.admins.identify()
    assert me is not None
    assert me.email == "owner@example.com"
    assert me.app is not None
    assert me.app.name == "My Workspace"


def test_conversation_lifecycle(client: Intercom, teammate_id: str) -> None:
    me = client.admins.identify()
    assert me is not None
    owner = str(me.id)

    contact = client.contacts.create(
        request=CreateContactRequestWithEmail(email="jane@example.com", name="Jane Doe")
    )
    assert contact.id
    assert contact.email == "jane@example.com"
    assert contact.role == "user"

    message = client.conversations.create(
        from_=CreateConversationRequestFrom(type="user", id=contact.id),
        body="Hello, I need help with my order",
    )
    assert message.type == "user_message"
    assert message.conversation_id
    cid = message.conversation_id

    conversation = client.conversations.find(cid)
    assert conversation.id == cid
    assert conversation.state == "open"
    assert conversation.open is True
    assert conversation.source is not None
    assert "I need help" in (conversation.source.body or "")
    assert conversation.contacts is not None
    assert conversation.contacts.contacts is not None
    assert [c.id for c in conversation.contacts.contacts] == [contact.id]
    created_at = conversation.created_at
    assert created_at is not None

    replied = client.conversations.reply(
        cid,
        request=AdminReplyConversationRequest(
            message_type="comment", admin_id=owner, body="Happy to help!"
        ),
    )
    part = last_part(replied)
    assert part.part_type == "comment"
    assert "Happy to help!" in part.body
    assert part.author.type == "admin"
    assert part.author.id == owner

    noted = client.conversations.reply(
        cid,
        request=AdminReplyConversationRequest(
            message_type="note", admin_id=owner, body="<p>VIP customer</p>"
        ),
    )
    assert last_part(noted).part_type == "note"
    assert noted.state == "open"

    assigned = client.conversations.manage(
        cid,
        request=ConversationsManageRequestBody_Assignment(
            type="admin", admin_id=owner, assignee_id=teammate_id
        ),
    )
    assert assigned.admin_assignee_id == int(teammate_id)
    part = last_part(assigned)
    assert part.part_type == "assignment"
    assert part.assigned_to is not None
    assert str(part.assigned_to.id) == teammate_id

    snoozed = client.conversations.manage(
        cid,
        request=ConversationsManageRequestBody_Snoozed(
            admin_id=owner, snoozed_until=created_at + 3600
        ),
    )
    assert snoozed.state == "snoozed"
    assert snoozed.open is True
    assert snoozed.snoozed_until == created_at + 3600
    assert last_part(snoozed).part_type == "snoozed"

    opened = client.conversations.manage(
        cid, request=ConversationsManageRequestBody_Open(admin_id=owner)
    )
    assert opened.state == "open"
    assert opened.snoozed_until is None
    assert last_part(opened).part_type == "open"

    closed = client.conversations.manage(
        cid, request=ConversationsManageRequestBody_Close(admin_id=owner, body="Goodbye :)")
    )
    assert closed.state == "closed"
    assert closed.open is False
    assert last_part(closed).part_type == "close"

    reopened = client.conversations.reply(
        cid,
        request=ContactReplyIntercomUserIdRequest(
            intercom_user_id=contact.id, body="Actually, one more thing"
        ),
    )
    assert reopened.state == "open"
    assert reopened.open is True
    part = last_part(reopened)
    assert part.part_type == "open"
    assert "one more thing" in part.body
    assert part.author.type == "user"
    assert part.author.id == contact.id

    tag = client.tags.create(request=CreateOrUpdateTagRequest(name="vip"))
    assert tag.name == "vip"
    assert tag.id
    tagged = client.tags.tag_conversation(cid, tag_id=tag.id, admin_id=owner)
    assert tagged.id == tag.id
    assert tagged.name == "vip"

    full = client.conversations.find(cid)
    assert full.tags is not None
    assert [t.name for t in full.tags.tags or []] == ["vip"]
    assert part_types(full) == ["comment", "note", "assignment", "snoozed", "open", "close", "open"]
    assert full.conversation_parts is not None
    assert full.conversation_parts.total_count == 7
    assert full.admin_assignee_id == int(teammate_id)
    assert full.statistics is not None
    assert full.statistics.count_reopens == 1

    # Two more conversations, then every one of them through the SDK's pager, one per page.
    others = [
        client.conversations.create(
            from_=CreateConversationRequestFrom(type="user", id=contact.id), body=f"Ticket {n}"
        ).conversation_id
        for n in range(2)
    ]
    pager = client.conversations.list(per_page=1)
    seen = [conversation.id for conversation in pager]
    assert sorted(seen) == sorted([cid, *others])
    assert len(list(client.conversations.list(per_page=1).iter_pages())) == 3

    # Search, paged by hand (the SDK's own search pager re-asks for the first page: README).
    query = SingleFilterSearchRequest(field="source.author.email", operator="=",
                                      value="jane@example.com")  # fmt: skip
    found: list[str] = []
    after: str | None = None
    for _ in range(5):
        page = client.conversations.search(
            query=query, pagination=StartingAfterPaging(per_page=1, starting_after=after)
        )
        found += [conversation.id for conversation in page.items]
        after = page.response.pages.next.starting_after if page.response.pages.next else None
        if after is None:
            break
    assert sorted(found) == sorted([cid, *others])

    deleted = client.conversations.delete_conversation(int(cid))
    assert deleted.id == cid
    assert deleted.deleted is True
    assert deleted.object == "conversation"
    with pytest.raises(ApiError) as missing:
        client.conversations.find(cid)
    assert missing.value.status_code == 404
    assert sorted(c.id for c in client.conversations.list(per_page=20)) == sorted(others)


@pytest.fixture(scope="module")
def team_id(server: ServerProcess, store: list[str], teammate_id: str) -> str:
    """A team with the second admin in it, made with the CLI while the server runs."""
    made = run_cli(["teams", "create", "--name", "Billing", "--member", teammate_id, *store])
    assert made.returncode == 0, made.stderr
    return made.stdout.split("Created team ", 1)[1].split(" ", 1)[0]


def test_sdk_reads_the_per_team_first_response_times(
    client: Intercom, teammate_id: str, team_id: str
) -> None:
    """python-intercom (and intercom-client) read the wall-clock per-team list as
    `assigned_team_first_response_time_by_team`; it must not come back as None."""
    contact = client.contacts.create(
        request=CreateContactRequestWithEmail(email="teamwork@example.com")
    )
    cid = client.conversations.create(
        from_=CreateConversationRequestFrom(type="user", id=contact.id), body="Billing question"
    ).conversation_id
    client.conversations.manage(
        cid,
        request=ConversationsManageRequestBody_Assignment(
            type="team", admin_id=teammate_id, assignee_id=team_id
        ),
    )
    client.conversations.reply(
        cid,
        request=AdminReplyConversationRequest(
            message_type="comment", admin_id=teammate_id, body="Billing here"
        ),
    )
    statistics = client.conversations.find(cid).statistics
    assert statistics is not None
    for times in (
        statistics.assigned_team_first_response_time_by_team,
        statistics.assigned_team_first_response_time_in_office_hours,
    ):
        assert times is not None
        assert [(t.team_id, t.team_name) for t in times] == [(int(team_id), "Billing")]
        assert times[0].response_time is not None
        assert times[0].response_time >= 0
