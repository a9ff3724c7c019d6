"""The conversation lifecycle as pure functions.

Each action takes the conversation's current facts and `now`, and returns an Outcome: the facts
after the action, the parts it writes (in order) and the webhook topics it raises. Services
persist outcomes; they decide nothing about state themselves. The rules, and where the references
left a choice, are written down in docs/behaviour.md ("Conversation lifecycle").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class State(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    SNOOZED = "snoozed"


class LifecycleError(ValueError):
    """A rule forbids the action; `field` names the request field to blame."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Author:
    type: str  # admin | bot | user | lead
    admin_id: int | None = None
    contact_id: str | None = None
    # How the author is shown (a part's author object), when the caller looked it up; not
    # part of who the author is.
    name: str | None = field(default=None, compare=False)
    email: str | None = field(default=None, compare=False)

    @property
    def is_teammate(self) -> bool:
        return self.type == "admin"


@dataclass(frozen=True, slots=True)
class Assignee:
    """Who a part assigned the conversation to: {type: admin|team|nobody_admin, id}."""

    type: str
    id: int | None


@dataclass(frozen=True, slots=True)
class PartDraft:
    part_type: str
    author: Author
    created_at: int
    body: str | None = None
    assigned_to: Assignee | None = None
    attachments: tuple[dict[str, Any], ...] = ()
    metadata: dict[str, Any] | None = None
    event_details: dict[str, Any] | None = None
    state: State = State.OPEN  # the conversation's state once the part is written
    side: str | None = None  # an unassignment: which side (admin | team) it cleared


@dataclass(frozen=True, slots=True)
class Facts:
    """What the lifecycle rules read and write."""

    state: State
    admin_assignee_id: int | None
    team_assignee_id: int | None
    waiting_since: int | None
    snoozed_until: int | None
    read: bool
    visible: bool
    first_contact_reply_at: int | None
    teammate_ids: tuple[int, ...]
    part_count: int
    created_at: int
    # Owned by domain/statistics.py (a fold over the history, applied when outcomes are stored);
    # the lifecycle rules carry it through unchanged.
    statistics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    facts: Facts
    parts: tuple[PartDraft, ...] = ()
    topics: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- outcomes


def _with_parts(facts: Facts, outcome_facts: Facts, parts: tuple[PartDraft, ...]) -> Facts:
    count = facts.part_count + len(parts)
    teammates = list(outcome_facts.teammate_ids)
    for part in parts:
        if part.author.is_teammate and part.author.admin_id not in teammates:
            assert part.author.admin_id is not None
            teammates.append(part.author.admin_id)
    return replace(outcome_facts, part_count=count, teammate_ids=tuple(teammates))


def _outcome(before: Facts, after: Facts, parts: list[PartDraft], topics: list[str]) -> Outcome:
    stamped = tuple(replace(p, state=after.state) for p in parts)
    return Outcome(_with_parts(before, after, stamped), stamped, tuple(topics))


# ----------------------------------------------------------------------------- actions


def start_by_contact(facts: Facts, *, now: int) -> Facts:
    """A contact opened the conversation: its source message is the first contact reply."""
    return replace(
        facts,
        state=State.OPEN,
        waiting_since=now,
        read=False,
        visible=True,
        first_contact_reply_at=now,
    )


def contact_reply(
    facts: Facts,
    *,
    author: Author,
    now: int,
    body: str,
    attachments: tuple[dict[str, Any], ...] = (),
    metadata: dict[str, Any] | None = None,
) -> Outcome:
    """A contact comment. It reopens a closed conversation (the part is then an `open` part
    carrying the body), wakes a snoozed one, and starts the wait unless one is running."""
    reopened = facts.state is State.CLOSED
    first = facts.first_contact_reply_at is None
    after = replace(
        facts,
        state=State.OPEN,
        snoozed_until=None,
        waiting_since=facts.waiting_since if facts.waiting_since is not None else now,
        read=False,
        visible=True,
        first_contact_reply_at=facts.first_contact_reply_at if not first else now,
    )
    part = PartDraft(
        "open" if reopened else "comment",
        author,
        now,
        body=body,
        attachments=attachments,
        metadata=metadata,
    )
    topics = [
        "conversation.user.created" if first and not facts.visible else "conversation.user.replied"
    ]
    return _outcome(facts, after, [part], topics)


def _wake_if_snoozed_by_other(facts: Facts, actor: Author) -> tuple[State, int | None]:
    if facts.state is State.SNOOZED and facts.admin_assignee_id != actor.admin_id:
        return State.OPEN, None
    return facts.state, facts.snoozed_until


def admin_reply(
    facts: Facts,
    *,
    author: Author,
    now: int,
    part_type: str,
    body: str | None,
    attachments: tuple[dict[str, Any], ...] = (),
    metadata: dict[str, Any] | None = None,
) -> Outcome:
    """An admin comment or quick reply: ends the contact's wait; wakes a snoozed conversation
    unless the replier is its assignee. A closed conversation stays closed."""
    assert part_type in {"comment", "quick_reply"}
    state, snoozed_until = _wake_if_snoozed_by_other(facts, author)
    after = replace(facts, state=state, snoozed_until=snoozed_until, waiting_since=None)
    part = PartDraft(part_type, author, now, body=body, attachments=attachments, metadata=metadata)
    topics = ["conversation.admin.replied"]
    if facts.state is State.SNOOZED and state is State.OPEN:
        topics.append("conversation.admin.unsnoozed")
    return _outcome(facts, after, [part], topics)


def note(
    facts: Facts,
    *,
    author: Author,
    now: int,
    body: str,
    attachments: tuple[dict[str, Any], ...] = (),
) -> Outcome:
    """A note never changes state or waiting_since."""
    part = PartDraft("note", author, now, body=body, attachments=attachments)
    return _outcome(facts, facts, [part], ["conversation.admin.noted"])


def close(facts: Facts, *, author: Author, now: int, body: str | None) -> Outcome:
    after = replace(facts, state=State.CLOSED, snoozed_until=None, waiting_since=None)
    part = PartDraft("close", author, now, body=body)
    return _outcome(facts, after, [part], ["conversation.admin.closed"])


def snooze(facts: Facts, *, author: Author, now: int, until: int) -> Outcome:
    if until <= now:
        raise LifecycleError("snoozed_until must be in the future", field="snoozed_until")
    after = replace(facts, state=State.SNOOZED, snoozed_until=until)
    part = PartDraft("snoozed", author, now)
    return _outcome(facts, after, [part], ["conversation.admin.snoozed"])


def open_(facts: Facts, *, author: Author, now: int) -> Outcome:
    """Open a closed or snoozed conversation. Opening an open one changes nothing."""
    if facts.state is State.OPEN:
        return Outcome(facts)
    after = replace(facts, state=State.OPEN, snoozed_until=None)
    part = PartDraft("open", author, now)
    topic = (
        "conversation.admin.unsnoozed"
        if facts.state is State.SNOOZED
        else "conversation.admin.opened"
    )
    return _outcome(facts, after, [part], [topic])


def assign(
    facts: Facts, *, author: Author, now: int, assignee: Assignee, body: str | None
) -> Outcome:
    """Assign to an admin or a team, or to nobody (`Assignee('nobody_admin', None)` carries which
    side is cleared in `type`: use unassign_admin/unassign_team). Assigning a closed or snoozed
    conversation reopens it (`assign_and_reopen`)."""
    admin_id, team_id = facts.admin_assignee_id, facts.team_assignee_id
    if assignee.type == "admin":
        admin_id = assignee.id
    elif assignee.type == "team":
        team_id = assignee.id
    else:
        raise LifecycleError(f"unknown assignee type {assignee.type!r}", field="type")
    reopening = facts.state is not State.OPEN
    assigned_to = assignee if assignee.id is not None else Assignee("nobody_admin", None)
    after = replace(
        facts,
        admin_assignee_id=admin_id,
        team_assignee_id=team_id,
        state=State.OPEN,
        snoozed_until=None,
    )
    part = PartDraft(
        "assign_and_reopen" if reopening else "assignment",
        author,
        now,
        body=body,
        assigned_to=assigned_to,
        side=assignee.type,
    )
    topics = ["conversation.admin.assigned"]
    if not reopening and facts.state is State.OPEN:
        topics.append("conversation.admin.open.assigned")
    return _outcome(facts, after, [part], topics)


def then(first: Outcome, second: Outcome) -> Outcome:
    """Two outcomes as one write: `second` must have been computed from `first.facts`."""
    return Outcome(second.facts, first.parts + second.parts, first.topics + second.topics)


def reassign_from_away(replied: Outcome, *, bot: Author, now: int) -> Outcome:
    """After a contact's reply to a conversation whose admin is away and asked for their new
    replies to be reassigned (`away_mode_reassign`: "assign any new conversation replies to your
    default inbox"), the bot clears the admin side: the conversation is back in its team's
    inbox, or unassigned. One outcome, so the reply and its reassignment are written together."""
    cleared = assign(
        replied.facts, author=bot, now=now, assignee=Assignee("admin", None), body=None
    )
    return then(replied, cleared)


def priority_change(facts: Facts, *, author: Author, now: int) -> Outcome:
    """A changed priority is a `priority_changed` part (no body, nothing assigned) and the topic
    `conversation.priority.updated`, as Intercom's webhook for it shows. The priority itself is
    a column the caller writes."""
    return _outcome(facts, facts, [PartDraft("priority_changed", author, now)],
                    ["conversation.priority.updated"])  # fmt: skip


def attribute_updates(facts: Facts, *, bot: Author, now: int, changes: dict[str, Any]) -> Outcome:
    """One `conversation_attribute_updated_by_admin` part per changed attribute, by the bot."""
    parts = [
        PartDraft(
            "conversation_attribute_updated_by_admin",
            bot,
            now,
            event_details={"attribute": {"name": name}, "value": {"name": _display(value)}},
        )
        for name, value in changes.items()
    ]
    return _outcome(facts, facts, parts, [])


def participant_change(facts: Facts, *, author: Author, now: int, added: bool) -> Outcome:
    part = PartDraft("participant_added" if added else "participant_removed", author, now)
    topic = "conversation.contact.attached" if added else "conversation.contact.detached"
    return _outcome(facts, facts, [part], [topic])


def _display(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
