"""Time in conversations: statistics and SLA trackers kept with every write, office hours, SLA
policies, ratings.

`account` is called by services.conversations for every outcome it stores: it folds the new
parts into the conversation's statistics tally (domain/statistics.py) and, when an SLA is applied,
into its tracker (domain/sla.py). The hot path reads nothing but the office hours, and those only
for a reply or a close; a backdated part, or a conversation without a tally, is recomputed from
its whole history.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from parley.db import conversations as store
from parley.db import outbox, timekeeping
from parley.db.database import Row, Transaction
from parley.domain import sla as sla_rules
from parley.domain import statistics as stats
from parley.domain.conversation import Facts, Outcome, PartDraft
from parley.domain.office_hours import OfficeHours, ScheduleError
from parley.errors import Conflict, InvalidParameter, NotFound, Unprocessable
from parley.services.context import Context


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# ------------------------------------------------------------------------ office hours


async def office_hours(tx: Transaction, workspace_id: str) -> OfficeHours | None:
    raw = await timekeeping.office_hours(tx, workspace_id)
    return None if raw is None else OfficeHours.from_json(orjson.loads(raw))


async def set_office_hours(
    tx: Transaction, ctx: Context, *, time_zone: str, schedule: dict[str, Any]
) -> OfficeHours:
    try:
        hours = OfficeHours.parse(time_zone, schedule)
    except ScheduleError as exc:
        raise InvalidParameter(str(exc), field=exc.field) from None
    await timekeeping.set_office_hours(
        tx, ctx.workspace_id, _dumps(hours.to_json()), ctx.clock.now()
    )
    return hours


async def clear_office_hours(tx: Transaction, ctx: Context) -> None:
    await timekeeping.clear_office_hours(tx, ctx.workspace_id)


# ------------------------------------------------------------------------ statistics


def _events(drafts: tuple[PartDraft, ...], team_names: dict[int, str]) -> list[stats.Event]:
    out = []
    for d in drafts:
        assigned = d.assigned_to
        out.append(
            stats.event_for_part(
                part_type=d.part_type,
                author_type=d.author.type,
                author_admin_id=d.author.admin_id,
                at=d.created_at,
                assigned_to_type=None if assigned is None else assigned.type,
                assigned_to_id=None if assigned is None else assigned.id,
                side=d.side,
                team_name=team_names.get(assigned.id)
                if assigned is not None and assigned.type == "team" and assigned.id is not None
                else None,
            )
        )
    return out


async def _history(tx: Transaction, conversation_id: int) -> list[stats.Event]:
    head, parts = await timekeeping.history(tx, conversation_id)
    events: list[stats.Event] = []
    if head is not None and head["source_author_type"] != "admin":
        events.append(stats.Event(int(head["created_at"]), stats.CONTACT, parts=0))
    for p in parts:
        target = p["assigned_to_id"]
        events.append(
            stats.event_for_part(
                part_type=p["part_type"],
                author_type=p["author_type"],
                author_admin_id=p["author_admin_id"],
                at=int(p["created_at"]),
                assigned_to_type=p["assigned_to_type"],
                assigned_to_id=None if target is None else int(target),
                side=p["assigned_side"],
                team_name=p["team_name"],
            )
        )
    return events


def initial_statistics(*, contact_started_at: int | None) -> dict[str, Any]:
    """The statistics of a new conversation: a contact's source message is its first reply."""
    events = [] if contact_started_at is None else [
        stats.Event(contact_started_at, stats.CONTACT, parts=0)
    ]  # fmt: skip
    return stats.compute(events, None).statistics()


async def account(
    tx: Transaction, ctx: Context, conversation_id: int, outcome: Outcome
) -> tuple[Facts, dict[str, Any]]:
    """Fold an outcome's parts (already inserted) into the statistics and the SLA tracker.
    Returns the facts to store and any further conversation columns (`sla_applied`)."""
    facts = outcome.facts
    if not outcome.parts:
        return facts, {}
    team_names: dict[int, str] = {}
    for d in outcome.parts:
        a = d.assigned_to
        if a is not None and a.type == "team" and a.id is not None:
            team_names[a.id] = await timekeeping.team_name(tx, ctx.workspace_id, a.id) or ""
    events = _events(outcome.parts, team_names)
    tally = stats.Tally.from_statistics(facts.statistics)
    replay = tally is None or not stats.in_order(tally, events)
    sla_row = None
    if tally is None or tally.sla:
        sla_row = await timekeeping.tracker(tx, conversation_id)
    tracker = (
        None if sla_row is None else sla_rules.Tracker.from_json(orjson.loads(sla_row["tracker"]))
    )
    hours = None
    uses_hours = stats.needs_hours(events) or (tracker is not None and tracker.policy.office_hours)
    if replay or uses_hours:
        hours = await office_hours(tx, ctx.workspace_id)
    extra: dict[str, Any] = {}
    if replay:
        history = await _history(tx, conversation_id)
        tally = stats.compute(history, hours, sla=sla_row is not None)
        if sla_row is not None:
            initial = sla_rules.Tracker.from_json(orjson.loads(sla_row["initial"]))
            ordered = sorted(history, key=lambda e: e.at)
            tracker = sla_rules.fold(initial, ordered, hours)
    else:
        assert tally is not None
        stats.fold(tally, events, hours)
        if tracker is not None:
            sla_rules.fold(tracker, events, hours)
    if tracker is not None:
        await timekeeping.update_tracker(tx, conversation_id, _dumps(tracker.to_json()))
        extra["sla_applied"] = _dumps(tracker.summary())
    return replace(facts, statistics=tally.statistics()), extra


# ------------------------------------------------------------------------ SLA policies


def _policy_of(row: Row) -> sla_rules.Policy:
    return sla_rules.Policy(
        name=row["name"],
        first_response_time=row["first_response_time"],
        next_response_time=row["next_response_time"],
        time_to_close=row["time_to_close"],
        office_hours=bool(row["office_hours"]),
    )


async def create_policy(
    tx: Transaction,
    ctx: Context,
    *,
    name: str,
    first_response_time: int | None,
    next_response_time: int | None,
    time_to_close: int | None,
    office_hours: bool,
    apply_to_new_conversations: bool,
) -> Row:
    if not name.strip():
        raise InvalidParameter("name must not be empty", field="name")
    targets = {
        "first_response_time": first_response_time,
        "next_response_time": next_response_time,
        "time_to_close": time_to_close,
    }
    for key, value in targets.items():
        if value is not None and value <= 0:
            raise InvalidParameter(f"{key} must be a positive number of seconds", field=key)
    if all(v is None for v in targets.values()):
        raise InvalidParameter(
            "an SLA needs at least one of first_response_time, next_response_time, time_to_close",
            field="first_response_time",
            code="parameter_not_found",
        )
    if await timekeeping.policy_named(tx, ctx.workspace_id, name) is not None:
        raise Conflict(f"An SLA named {name!r} already exists")
    policy_id = await timekeeping.insert_policy(
        tx,
        {
            "workspace_id": ctx.workspace_id, "name": name, **targets,
            "office_hours": office_hours,
            "apply_to_new_conversations": apply_to_new_conversations,
            "created_at": ctx.clock.now(),
        },
    )  # fmt: skip
    row = await timekeeping.policy(tx, ctx.workspace_id, policy_id)
    assert row is not None
    return row


async def list_policies(tx: Transaction, ctx: Context) -> list[Row]:
    return await timekeeping.policies(tx, ctx.workspace_id)


async def _locked(tx: Transaction, ctx: Context, conversation_id: int) -> Row:
    row = await store.get(tx, ctx.workspace_id, conversation_id, lock=True)
    if row is None:
        raise NotFound("Resource Not Found")
    return row


async def apply_policy(
    tx: Transaction, ctx: Context, conversation_id: int, policy_id: int, *, row: Row | None = None
) -> None:
    """Apply an SLA to a conversation. One applies at a time: replacing one cancels it."""
    row = row or await _locked(tx, ctx, conversation_id)
    policy_row = await timekeeping.policy(tx, ctx.workspace_id, policy_id)
    if policy_row is None:
        raise NotFound("SLA not found", code="not_found", field="sla_policy_id")
    now = ctx.clock.now()
    previous = await timekeeping.tracker(tx, conversation_id)
    cancelled = previous is not None  # replacing an SLA cancels the one it replaces
    policy = _policy_of(policy_row)
    hours = await office_hours(tx, ctx.workspace_id) if policy.office_hours else None
    statistics = dict(orjson.loads(row["statistics"]))
    tracker = sla_rules.apply(
        policy,
        at=now,
        waiting_since=row["waiting_since"],
        responded="first_admin_reply_at" in statistics,
        hours=hours,
        cancelled=cancelled,
    )
    text = _dumps(tracker.to_json())
    await timekeeping.put_tracker(
        tx, conversation_id, policy_id=policy_id, initial=text, tracker=text
    )
    tally = stats.Tally.from_statistics(statistics)
    if tally is not None:
        tally.sla = True
        statistics = tally.statistics()
    await store.update(
        tx,
        conversation_id,
        {
            "sla_applied": _dumps(tracker.summary()),
            "statistics": _dumps(statistics),
            "updated_at": now,
        },
    )


async def remove_policy(tx: Transaction, ctx: Context, conversation_id: int) -> None:
    """Remove the conversation's SLA: a cancelled event, so its status is null from now on."""
    await _locked(tx, ctx, conversation_id)
    current = await timekeeping.tracker(tx, conversation_id)
    if current is None:
        raise NotFound("No SLA is applied to this conversation", code="not_found")
    now = ctx.clock.now()
    tracker = sla_rules.cancel(
        sla_rules.Tracker.from_json(orjson.loads(current["tracker"])), at=now
    )
    text = _dumps(tracker.to_json())
    await timekeeping.put_tracker(
        tx, conversation_id, policy_id=current["policy_id"], initial=text, tracker=text
    )
    await store.update(
        tx, conversation_id, {"sla_applied": _dumps(tracker.summary()), "updated_at": now}
    )


async def apply_on_create(tx: Transaction, ctx: Context, conversation_id: int) -> None:
    """The creation rule: a policy marked apply_to_new_conversations (the oldest, if several)
    is applied to every conversation a contact starts."""
    policy_row = await timekeeping.policy_for_new_conversations(tx, ctx.workspace_id)
    if policy_row is not None:
        await apply_policy(tx, ctx, conversation_id, int(policy_row["id"]))


# ------------------------------------------------------------------------ rating


async def rate(
    tx: Transaction,
    ctx: Context,
    conversation_id: int,
    *,
    contact: Row,
    rating: int,
    remark: str | None,
) -> None:
    """A contact rates the conversation (1-5, optional remark); rating again updates it.
    `created_at` is when the rating was requested: the last close, else the rating itself."""
    row = await _locked(tx, ctx, conversation_id)
    if not 1 <= rating <= 5:
        raise InvalidParameter("rating must be between 1 and 5", field="rating")
    participants = (await store.contacts_of(tx, [conversation_id])).get(conversation_id, [])
    if str(contact["id"]) not in {str(p["id"]) for p in participants}:
        raise Unprocessable(
            "The contact is not a participant in this conversation", field="intercom_user_id"
        )
    now = ctx.clock.now()
    statistics = orjson.loads(row["statistics"])
    previous = (
        None if row["conversation_rating"] is None else orjson.loads(row["conversation_rating"])
    )
    # Facts only: render/ makes the wire shape (the contact's external_id is looked up then, so
    # it never goes stale).
    value: dict[str, Any] = {
        "rating": rating,
        "remark": remark or "",
        "created_at": previous["created_at"]
        if previous
        else int(statistics.get("last_close_at") or now),
        "updated_at": now,
        "contact_id": str(contact["id"]),
        "admin_id": None if row["admin_assignee_id"] is None else str(row["admin_assignee_id"]),
    }
    await store.update(
        tx, conversation_id, {"conversation_rating": _dumps(value), "updated_at": now}
    )
    await outbox.append(
        tx,
        workspace_id=ctx.workspace_id,
        topic="conversation.rating.added",
        now=now,
        payload={"conversation_id": str(conversation_id)},
    )
