"""Conversation statistics as a fold over the conversation's history.

The history is an ordered list of Events (the contact's source message, then one event per part,
by time and then id). `fold(tally, events, hours)` is the only place a statistic is decided;
`compute(events)` is the fold from nothing. Writes fold just their new events into the tally kept
with the conversation (no part is re-read on the hot path); a write whose time is earlier than
the last folded event (a backdated reply), or a conversation without a tally, is recomputed from
its whole history by the service. The definitions, and where Parley decided, are in
docs/behaviour.md ("Time, statistics and SLAs"). Pure: no clock, no I/O.
"""

from __future__ import annotations

import statistics as pystats
from dataclasses import dataclass, field
from typing import Any

from parley.domain.office_hours import OfficeHours, duration

TALLY = "_tally"  # the key of the fold's state inside the stored statistics object

# Event kinds
CONTACT = "contact"  # a text part from a contact (its source message, a reply, a reopening reply)
REPLY = "reply"  # an admin comment or quick reply
CLOSE = "close"
OPEN = "open"
SNOOZE = "snooze"
ASSIGN = "assign"  # to an admin or a team (side), target = its id
UNASSIGN = "unassign"  # side cleared
OTHER = "other"  # notes, participants, attribute updates: counted as parts, nothing else


@dataclass(frozen=True, slots=True)
class Event:
    at: int
    kind: str
    actor: int | None = None  # the admin (or bot) who wrote it
    side: str | None = None  # admin | team, for ASSIGN / UNASSIGN
    target: int | None = None  # the assignee, for ASSIGN
    target_name: str | None = None  # a team's name, for ASSIGN to a team
    parts: int = 1  # parts it adds (0 for the source message)


def event_for_part(
    *,
    part_type: str,
    author_type: str,
    author_admin_id: int | None,
    at: int,
    assigned_to_type: str | None = None,
    assigned_to_id: int | None = None,
    side: str | None = None,
    team_name: str | None = None,
) -> Event:
    """The statistics meaning of a stored (or about to be stored) part."""
    if author_type not in {"admin", "bot"}:
        if part_type in {"comment", "open", "quick_reply"}:
            return Event(at, CONTACT)
        return Event(at, OTHER)
    if part_type in {"comment", "quick_reply"}:
        return Event(at, REPLY if author_type == "admin" else OTHER, actor=author_admin_id)
    if part_type == "close":
        return Event(at, CLOSE, actor=author_admin_id)
    if part_type == "open":
        return Event(at, OPEN, actor=author_admin_id)
    if part_type == "snoozed":
        return Event(at, SNOOZE, actor=author_admin_id)
    if part_type in {"assignment", "assign_and_reopen"}:
        if assigned_to_type in {"admin", "team"} and assigned_to_id is not None:
            return Event(
                at, ASSIGN, actor=author_admin_id, side=assigned_to_type,
                target=assigned_to_id, target_name=team_name,
            )  # fmt: skip
        return Event(at, UNASSIGN, actor=author_admin_id, side=side or "admin")
    return Event(at, OTHER, actor=author_admin_id)


@dataclass(slots=True)
class Tally:
    """The fold's state: what the next event needs to know. Stored as JSON with the statistics."""

    stats: dict[str, Any] = field(default_factory=dict)  # the public members reached so far
    state: str = "open"
    admin: int | None = None
    team: int | None = None
    wait: int | None = None  # start of the contact's unanswered wait
    replies: list[int] = field(default_factory=list)  # each wait's (office-hours) duration
    handled: int = 0  # seconds open and assigned to an admin, so far
    handling_from: int | None = None
    admin_assigned: bool = False
    # team id -> [assigned_at, name, response time, response time in office hours]
    teams: dict[str, list[Any]] = field(default_factory=dict)
    last_at: int | None = None
    sla: bool = False  # an SLA is applied: the service loads and folds it too

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state, "admin": self.admin, "team": self.team, "wait": self.wait,
            "replies": self.replies, "handled": self.handled,
            "handling_from": self.handling_from, "admin_assigned": self.admin_assigned,
            "teams": self.teams, "last_at": self.last_at, "sla": self.sla,
        }  # fmt: skip

    @classmethod
    def from_statistics(cls, stored: dict[str, Any]) -> Tally | None:
        raw = stored.get(TALLY)
        if raw is None:
            return None
        public = {k: v for k, v in stored.items() if not k.startswith("_")}
        return cls(stats=public, **raw)

    def statistics(self) -> dict[str, Any]:
        """The object stored in conversations.statistics: public members plus the tally."""
        return {**self.stats, TALLY: self.to_json()}


def fold(tally: Tally, events: list[Event], hours: OfficeHours | None) -> Tally:
    """Apply events (in order) to a tally, in place; returns it."""
    for event in events:
        _step(tally, event, hours)
    return tally


def compute(events: list[Event], hours: OfficeHours | None, *, sla: bool = False) -> Tally:
    ordered = sorted(events, key=lambda e: e.at)  # stable: equal times keep history order
    # Counted from the start: a conversation an admin started has no event yet, and the SDKs
    # read a missing count as None.
    return fold(Tally(stats={"count_conversation_parts": 0}, sla=sla), ordered, hours)


def needs_hours(events: list[Event]) -> bool:
    """Whether folding these events measures a duration that office hours adjust."""
    return any(e.kind in {REPLY, CLOSE} for e in events)


def in_order(tally: Tally, events: list[Event]) -> bool:
    """True when the events come after everything folded so far (no recompute needed)."""
    if tally.last_at is None:
        return True
    return all(e.at >= tally.last_at for e in events)


# ----------------------------------------------------------------------------- the rules


def _step(t: Tally, e: Event, hours: OfficeHours | None) -> None:
    s = t.stats
    started = "first_contact_reply_at" in s  # counting starts at the first contact reply
    before = t.state
    s["count_conversation_parts"] = int(s.get("count_conversation_parts", 0)) + e.parts

    if e.kind == CONTACT:
        if not started:
            s["first_contact_reply_at"] = e.at
            s.setdefault("count_reopens", 0)
            s.setdefault("count_assignments", 0)
        s["last_contact_reply_at"] = e.at
        if t.wait is None:
            t.wait = e.at
        _move(t, "open", e.at, started)
    elif e.kind == REPLY:
        s["last_admin_reply_at"] = e.at
        if started:
            start = int(s["first_contact_reply_at"])
            if "first_admin_reply_at" not in s:
                s["first_admin_reply_at"] = e.at
                s["time_to_admin_reply"] = duration(hours, start, e.at)
            if "last_assignment_at" in s and "last_assignment_admin_reply_at" not in s:
                s["last_assignment_admin_reply_at"] = e.at
            for entry in t.teams.values():
                if entry[2] is None:
                    entry[2] = max(0, e.at - int(entry[0]))
                    entry[3] = duration(hours, int(entry[0]), e.at)
            _team_arrays(t)
        if t.wait is not None:
            t.replies.append(duration(hours, t.wait, e.at))
            s["median_time_to_reply"] = int(pystats.median(t.replies))
            t.wait = None
        if before == "snoozed" and e.actor != t.admin:
            _move(t, "open", e.at, started)
    elif e.kind == CLOSE:
        t.wait = None
        _move(t, "closed", e.at, started)
        s["last_close_at"] = e.at
        if e.actor is not None:
            s["last_closed_by_id"] = str(e.actor)
        if started:
            start = int(s["first_contact_reply_at"])
            if "first_close_at" not in s:
                s["first_close_at"] = e.at
                s["time_to_first_close"] = duration(hours, start, e.at)
            s["time_to_last_close"] = duration(hours, start, e.at)
        if t.admin_assigned:
            s["handling_time"] = t.handled
    elif e.kind in {OPEN, SNOOZE}:
        _move(t, "open" if e.kind == OPEN else "snoozed", e.at, started)
    elif e.kind == ASSIGN:
        if e.side == "admin":
            _set_admin(t, e.target, e.at)
        else:
            t.team = e.target
        _move(t, "open", e.at, started)
        if started:
            s["count_assignments"] = int(s.get("count_assignments", 0)) + 1
            s.setdefault("first_assignment_at", e.at)
            s["last_assignment_at"] = e.at
            s.pop("last_assignment_admin_reply_at", None)
            if "first_admin_reply_at" not in s:
                s["time_to_assignment"] = max(0, e.at - int(s["first_contact_reply_at"]))
            if e.side == "team" and e.target is not None and str(e.target) not in t.teams:
                t.teams[str(e.target)] = [e.at, e.target_name or "", None, None]
    elif e.kind == UNASSIGN:
        if e.side == "admin":
            _set_admin(t, None, e.at)
        else:
            t.team = None
        _move(t, "open", e.at, started)
    t.last_at = e.at if t.last_at is None else max(t.last_at, e.at)


def _move(t: Tally, state: str, at: int, started: bool) -> None:
    if t.state == "closed" and state != "closed" and started:
        t.stats["count_reopens"] = int(t.stats.get("count_reopens", 0)) + 1
    _handling(t, at, state, t.admin)
    t.state = state


def _set_admin(t: Tally, admin: int | None, at: int) -> None:
    _handling(t, at, t.state, admin)
    t.admin = admin
    if admin is not None:
        t.admin_assigned = True


def _handling(t: Tally, at: int, state: str, admin: int | None) -> None:
    """A teammate handles the conversation while it is open and assigned to them."""
    active = state == "open" and admin is not None
    if t.handling_from is not None and (not active or admin != t.admin):
        t.handled += max(0, at - t.handling_from)
        t.handling_from = None
    if active and t.handling_from is None:
        t.handling_from = at


def _team_arrays(t: Tally) -> None:
    answered = [(int(k), v) for k, v in t.teams.items() if v[2] is not None]
    answered.sort(key=lambda kv: (kv[1][0], kv[0]))
    t.stats["assigned_team_first_response_time"] = [
        {"team_id": k, "team_name": v[1], "response_time": v[2]} for k, v in answered
    ]
    t.stats["assigned_team_first_response_time_in_office_hours"] = [
        {"team_id": k, "team_name": v[1], "response_time": v[3]} for k, v in answered
    ]
