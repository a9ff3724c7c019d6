"""SLA targets on one conversation, as a fold over the same events as the statistics.

A policy has up to three targets (seconds): first response, next response and time to close,
measured on office hours or on the wall clock. Applying a policy starts the time-to-close target,
and a first-response target if the contact is waiting. Each contact message that starts a wait
starts a response target (first response until a teammate has replied, next response after).

- A teammate reply settles every response target: `hit` at or before its deadline, else `missed`
  (so a miss shows at the next teammate reply, not when the deadline passes), and misses any
  other target whose deadline has passed.
- A close settles time to close (hit/missed) and misses the response targets already past their
  deadline; the others end without an event (nobody owes an answer to a closed conversation).
- Removing or replacing the SLA cancels it: from then on the status is null (Intercom's rule:
  any cancelled SLA event makes `sla_status` null).

Status: null if any event was cancelled, else `missed` if any was missed, else `hit` if any was
hit, else `active`. Pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley.domain.office_hours import OfficeHours, deadline
from parley.domain.statistics import CLOSE, CONTACT, REPLY, Event

FIRST_RESPONSE = "first_response_time"
NEXT_RESPONSE = "next_response_time"
TIME_TO_CLOSE = "time_to_close"


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    first_response_time: int | None
    next_response_time: int | None
    time_to_close: int | None
    office_hours: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "first_response_time": self.first_response_time,
            "next_response_time": self.next_response_time,
            "time_to_close": self.time_to_close,
            "office_hours": self.office_hours,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Policy:
        return cls(**value)


@dataclass(slots=True)
class Tracker:
    policy: Policy
    applied_at: int
    pending: list[list[Any]] = field(default_factory=list)  # [target, start, deadline | None]
    events: list[list[Any]] = field(default_factory=list)  # [target, hit|missed|cancelled, at]
    waiting: bool = False
    responded: bool = False
    cancelled: bool = False  # a previous SLA on this conversation was removed or replaced

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy.to_json(), "applied_at": self.applied_at,
            "pending": self.pending, "events": self.events, "waiting": self.waiting,
            "responded": self.responded, "cancelled": self.cancelled,
        }  # fmt: skip

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Tracker:
        data = dict(value)
        data["policy"] = Policy.from_json(data["policy"])
        return cls(**data)

    def status(self) -> str | None:
        outcomes = {e[1] for e in self.events}
        if self.cancelled or "cancelled" in outcomes:
            return None
        if "missed" in outcomes:
            return "missed"
        if "hit" in outcomes:
            return "hit"
        return "active"

    def summary(self) -> dict[str, Any]:
        """`sla_applied`. A null status is left out: the description types it non-null."""
        out: dict[str, Any] = {"type": "conversation_sla_summary", "sla_name": self.policy.name}
        status = self.status()
        if status is not None:
            out["sla_status"] = status
        return out


def apply(
    policy: Policy,
    *,
    at: int,
    waiting_since: int | None,
    responded: bool,
    hours: OfficeHours | None,
    cancelled: bool = False,
) -> Tracker:
    tracker = Tracker(policy, at, responded=responded, cancelled=cancelled)
    if policy.time_to_close is not None:
        tracker.pending.append(
            [TIME_TO_CLOSE, at, _deadline(policy, hours, at, policy.time_to_close)]
        )
    if waiting_since is not None:
        # A contact waiting when the SLA is applied is owed a first response, whether or not a
        # teammate answered before (docs/behaviour.md, "SLA targets"); later waits follow
        # `responded`.
        _start_response(tracker, at, hours, target=FIRST_RESPONSE)
    return tracker


def cancel(tracker: Tracker, *, at: int) -> Tracker:
    for target, _start, _deadline_at in tracker.pending:
        tracker.events.append([target, "cancelled", at])
    if not tracker.pending:
        tracker.events.append(["sla", "cancelled", at])
    tracker.pending = []
    tracker.cancelled = True
    return tracker


def fold(tracker: Tracker, events: list[Event], hours: OfficeHours | None) -> Tracker:
    for event in events:
        if event.at < tracker.applied_at:
            continue
        if event.kind == CONTACT:
            if not tracker.waiting:
                _start_response(tracker, event.at, hours)
        elif event.kind == REPLY:
            tracker.waiting = False
            tracker.responded = True
            keep: list[list[Any]] = []
            for target, start, due in tracker.pending:
                late = due is not None and event.at > due
                if target in {FIRST_RESPONSE, NEXT_RESPONSE}:
                    tracker.events.append([target, "missed" if late else "hit", event.at])
                elif late:
                    tracker.events.append([target, "missed", event.at])
                else:
                    keep.append([target, start, due])
            tracker.pending = keep
        elif event.kind == CLOSE:
            tracker.waiting = False
            for target, _start, due in tracker.pending:
                late = due is not None and event.at > due
                if target == TIME_TO_CLOSE:
                    tracker.events.append([target, "missed" if late else "hit", event.at])
                elif late:
                    tracker.events.append([target, "missed", event.at])
            tracker.pending = []
    return tracker


def _start_response(
    tracker: Tracker, at: int, hours: OfficeHours | None, *, target: str | None = None
) -> None:
    tracker.waiting = True
    if target is None:
        target = NEXT_RESPONSE if tracker.responded else FIRST_RESPONSE
    limit = getattr(tracker.policy, target)
    if limit is not None:
        tracker.pending.append([target, at, _deadline(tracker.policy, hours, at, limit)])


def _deadline(policy: Policy, hours: OfficeHours | None, start: int, seconds: int) -> int | None:
    return deadline(hours if policy.office_hours else None, start, seconds)
