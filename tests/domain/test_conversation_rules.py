"""The lifecycle rules, table-driven, without storage or HTTP. (Statistics are a fold over the
history of parts: tests/domain/test_statistics.py.)"""

from __future__ import annotations

from dataclasses import replace

import pytest

from parley.domain import conversation as rules
from parley.domain.conversation import Assignee, Author, Facts, State

T0 = 1_000_000
ADMIN = Author("admin", admin_id=7)
OTHER = Author("admin", admin_id=8)
BOT = Author("bot", admin_id=1)
USER = Author("user", contact_id="c" * 24)


def started(state: State = State.OPEN, **changes: object) -> Facts:
    base = Facts(
        state=State.OPEN,
        admin_assignee_id=None,
        team_assignee_id=None,
        waiting_since=None,
        snoozed_until=None,
        read=False,
        visible=False,
        first_contact_reply_at=None,
        teammate_ids=(),
        part_count=0,
        created_at=T0,
    )
    facts = rules.start_by_contact(base, now=T0)
    return replace(facts, state=state, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "part_type", "after"),
    [
        (State.OPEN, "comment", State.OPEN),
        (State.SNOOZED, "comment", State.OPEN),
        (State.CLOSED, "open", State.OPEN),
    ],
)
def test_contact_reply(state: State, part_type: str, after: State) -> None:
    facts = started(state, waiting_since=None)
    outcome = rules.contact_reply(facts, author=USER, now=T0 + 10, body="<p>hi</p>")
    assert [p.part_type for p in outcome.parts] == [part_type]
    assert outcome.parts[0].body == "<p>hi</p>"
    assert outcome.facts.state is after
    assert outcome.facts.snoozed_until is None
    assert outcome.facts.waiting_since == T0 + 10
    assert outcome.topics == ("conversation.user.replied",)


def test_contact_reply_keeps_an_earlier_wait() -> None:
    outcome = rules.contact_reply(started(), author=USER, now=T0 + 50, body="again")
    assert outcome.facts.waiting_since == T0


@pytest.mark.parametrize(
    ("state", "assignee", "actor", "after"),
    [
        (State.OPEN, None, ADMIN, State.OPEN),
        (State.SNOOZED, 7, ADMIN, State.SNOOZED),  # the assignee's own reply keeps the snooze
        (State.SNOOZED, 7, OTHER, State.OPEN),
        (State.SNOOZED, None, ADMIN, State.OPEN),
        (State.CLOSED, None, ADMIN, State.CLOSED),
    ],
)
def test_admin_reply(state: State, assignee: int | None, actor: Author, after: State) -> None:
    facts = started(state, admin_assignee_id=assignee, snoozed_until=T0 + 999)
    outcome = rules.admin_reply(facts, author=actor, now=T0 + 60, part_type="comment", body="ok")
    assert outcome.facts.state is after
    assert outcome.facts.waiting_since is None
    assert outcome.facts.teammate_ids == (actor.admin_id,)


@pytest.mark.parametrize("state", list(State))
def test_note_changes_nothing_but_parts_and_teammates(state: State) -> None:
    facts = started(state)
    outcome = rules.note(facts, author=ADMIN, now=T0 + 5, body="n")
    assert outcome.facts.state is state
    assert outcome.facts.waiting_since == facts.waiting_since
    assert outcome.facts.teammate_ids == (7,)
    assert outcome.facts.part_count == 1
    assert outcome.topics == ("conversation.admin.noted",)


def test_close_clears_timers() -> None:
    facts = started(State.SNOOZED, snoozed_until=T0 + 500)
    outcome = rules.close(facts, author=ADMIN, now=T0 + 100, body=None)
    assert outcome.facts.state is State.CLOSED
    assert outcome.facts.snoozed_until is None
    assert outcome.facts.waiting_since is None
    again = rules.close(
        rules.open_(outcome.facts, author=ADMIN, now=T0 + 200).facts,
        author=OTHER,
        now=T0 + 300,
        body="bye",
    )
    assert [p.part_type for p in again.parts] == ["close"]


def test_snooze_must_be_in_the_future() -> None:
    with pytest.raises(rules.LifecycleError) as error:
        rules.snooze(started(), author=ADMIN, now=T0, until=T0)
    assert error.value.field == "snoozed_until"
    outcome = rules.snooze(started(), author=ADMIN, now=T0, until=T0 + 1)
    assert outcome.facts.state is State.SNOOZED
    assert outcome.parts[0].state is State.SNOOZED


@pytest.mark.parametrize(
    ("state", "part_type", "topics"),
    [
        (
            State.OPEN,
            "assignment",
            ("conversation.admin.assigned", "conversation.admin.open.assigned"),
        ),
        (State.CLOSED, "assign_and_reopen", ("conversation.admin.assigned",)),
        (State.SNOOZED, "assign_and_reopen", ("conversation.admin.assigned",)),
    ],
)
def test_assign(state: State, part_type: str, topics: tuple[str, ...]) -> None:
    outcome = rules.assign(
        started(state), author=ADMIN, now=T0 + 30, assignee=Assignee("admin", 8), body=None
    )
    assert outcome.parts[0].part_type == part_type
    assert outcome.parts[0].assigned_to == Assignee("admin", 8)
    assert outcome.facts.admin_assignee_id == 8
    assert outcome.facts.state is State.OPEN
    assert outcome.topics == topics


def test_unassign_writes_nobody_admin() -> None:
    facts = started(admin_assignee_id=7, team_assignee_id=3)
    outcome = rules.assign(facts, author=ADMIN, now=T0, assignee=Assignee("team", None), body=None)
    assert outcome.facts.team_assignee_id is None
    assert outcome.facts.admin_assignee_id == 7
    assert outcome.parts[0].assigned_to == Assignee("nobody_admin", None)
    assert outcome.parts[0].side == "team"


def test_open_on_open_is_a_no_op() -> None:
    outcome = rules.open_(started(), author=ADMIN, now=T0)
    assert outcome.parts == ()
    assert outcome.topics == ()


def test_bot_parts_do_not_make_the_bot_a_teammate() -> None:
    outcome = rules.attribute_updates(started(), bot=BOT, now=T0, changes={"a": 1, "b": True})
    assert [p.event_details for p in outcome.parts] == [
        {"attribute": {"name": "a"}, "value": {"name": "1"}},
        {"attribute": {"name": "b"}, "value": {"name": "true"}},
    ]
    assert outcome.facts.teammate_ids == ()


def test_an_admin_started_conversation_appears_at_the_first_contact_reply() -> None:
    admin_started = Facts(
        state=State.OPEN,
        admin_assignee_id=None,
        team_assignee_id=None,
        waiting_since=None,
        snoozed_until=None,
        read=True,
        visible=False,
        first_contact_reply_at=None,
        teammate_ids=(7,),
        part_count=0,
        created_at=T0,
    )
    outcome = rules.close(admin_started, author=ADMIN, now=T0 + 5, body=None)
    reply = rules.contact_reply(outcome.facts, author=USER, now=T0 + 9, body="hey")
    assert reply.topics == ("conversation.user.created",)
    assert reply.facts.visible is True
    assert reply.facts.first_contact_reply_at == T0 + 9
