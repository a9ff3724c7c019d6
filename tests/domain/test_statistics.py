"""Statistics, office hours and SLA trackers as pure folds over a conversation's history."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from parley.domain import sla
from parley.domain import statistics as st
from parley.domain.office_hours import OfficeHours, ScheduleError
from parley.domain.statistics import Event

T0 = 1_700_000_000
A, B = 7, 8  # admins
TEAM = 3


def contact(at: int, parts: int = 1) -> Event:
    return Event(T0 + at, st.CONTACT, parts=parts)


def reply(at: int, admin: int = A) -> Event:
    return Event(T0 + at, st.REPLY, actor=admin)


def close(at: int, admin: int = A) -> Event:
    return Event(T0 + at, st.CLOSE, actor=admin)


def assign(at: int, admin: int = A) -> Event:
    return Event(T0 + at, st.ASSIGN, actor=A, side="admin", target=admin)


def assign_team(at: int, team: int = TEAM) -> Event:
    return Event(T0 + at, st.ASSIGN, actor=A, side="team", target=team, target_name="Support")


def unassign(at: int, side: str = "admin") -> Event:
    return Event(T0 + at, st.UNASSIGN, actor=A, side=side)


def note(at: int) -> Event:
    return Event(T0 + at, st.OTHER, actor=A)


def snooze(at: int) -> Event:
    return Event(T0 + at, st.SNOOZE, actor=A)


def opened(at: int, bot: bool = False) -> Event:
    return Event(T0 + at, st.OPEN, actor=1 if bot else A)


def public(events: list[Event], hours: OfficeHours | None = None) -> dict[str, Any]:
    return st.compute(events, hours).stats


SOURCE = contact(0, parts=0)

TIMELINES: list[tuple[str, list[Event], dict[str, Any]]] = [
    (
        "contact only",
        [SOURCE],
        {
            "first_contact_reply_at": T0,
            "last_contact_reply_at": T0,
            "count_reopens": 0,
            "count_assignments": 0,
            "count_conversation_parts": 0,
        },
    ),
    (
        "assign, reply, close",
        [SOURCE, assign(30), note(40), reply(60), close(100)],
        {
            "time_to_assignment": 30,
            "first_assignment_at": T0 + 30,
            "last_assignment_at": T0 + 30,
            "count_assignments": 1,
            "first_admin_reply_at": T0 + 60,
            "time_to_admin_reply": 60,
            "last_assignment_admin_reply_at": T0 + 60,
            "last_admin_reply_at": T0 + 60,
            "median_time_to_reply": 60,
            "first_close_at": T0 + 100,
            "last_close_at": T0 + 100,
            "time_to_first_close": 100,
            "time_to_last_close": 100,
            "last_closed_by_id": str(A),
            "handling_time": 70,
            "count_conversation_parts": 4,
        },
    ),
    (
        "reassign after the first reply keeps time_to_assignment",
        [SOURCE, assign(10), reply(20), assign(50, B), reply(90, B)],
        {
            "time_to_assignment": 10,
            "count_assignments": 2,
            "last_assignment_at": T0 + 50,
            "last_assignment_admin_reply_at": T0 + 90,
            "first_admin_reply_at": T0 + 20,
        },
    ),
    (
        "reassign before the first reply: the last one counts",
        [SOURCE, assign(10), assign(40, B), reply(90, B)],
        {"time_to_assignment": 40, "first_assignment_at": T0 + 10, "count_assignments": 2},
    ),
    (
        "median over three waits",
        [SOURCE, reply(10), contact(100), reply(130), contact(300), reply(350)],
        {
            "median_time_to_reply": 30,
            "first_admin_reply_at": T0 + 10,
            "last_admin_reply_at": T0 + 350,
            "last_contact_reply_at": T0 + 300,
        },
    ),
    (
        "a second contact message keeps the earlier wait",
        [SOURCE, contact(50), reply(80)],
        {"median_time_to_reply": 80},
    ),
    (
        "several closes and reopens",
        [
            SOURCE,
            close(100),
            contact(200),
            close(260, B),
            opened(300),
            snooze(310),
            close(400),
            assign(500),
        ],
        {
            "first_close_at": T0 + 100,
            "last_close_at": T0 + 400,
            "time_to_first_close": 100,
            "time_to_last_close": 400,
            "last_closed_by_id": str(A),
            "count_reopens": 3,
        },
    ),
    (
        "handling: open and assigned to an admin, until the last close",
        [
            SOURCE,
            assign(100),
            snooze(200),
            opened(500, bot=True),
            unassign(600),
            assign(700, B),
            close(800),
            contact(900),
            close(1000),
        ],
        # 100..200 + 500..600 + 700..800, then reopened by the contact: 900..1000
        {"handling_time": 400, "count_reopens": 1},
    ),
    (
        "team assignment: first response per team",
        [SOURCE, assign_team(100), reply(160), assign_team(200, 4), note(250), reply(400)],
        {
            "assigned_team_first_response_time": [
                {"team_id": TEAM, "team_name": "Support", "response_time": 60},
                {"team_id": 4, "team_name": "Support", "response_time": 200},
            ],
            "count_assignments": 2,
        },
    ),
    (
        "notes and bot parts count as parts only",
        [SOURCE, note(10), Event(T0 + 20, st.OTHER, actor=1), note(30)],
        {"count_conversation_parts": 3, "first_contact_reply_at": T0},
    ),
]


@pytest.mark.parametrize(("events", "expected"), [(e, x) for _, e, x in TIMELINES],
                         ids=[n for n, _, _ in TIMELINES])  # fmt: skip
def test_timelines(events: list[Event], expected: dict[str, Any]) -> None:
    got = public(events)
    for key, value in expected.items():
        assert got.get(key) == value, key


def test_unreached_members_are_absent() -> None:
    got = public([SOURCE, note(5)])
    for key in ("first_admin_reply_at", "time_to_admin_reply", "first_close_at",
                "handling_time", "median_time_to_reply", "last_closed_by_id",
                "time_to_assignment"):  # fmt: skip
        assert key not in got


def test_a_conversation_without_events_counts_zero_parts() -> None:
    """An admin's new conversation has no event yet; its part count is 0, not absent (the SDKs
    read a missing member as None)."""
    assert public([])["count_conversation_parts"] == 0


def test_admin_started_counts_from_the_first_contact_reply() -> None:
    events = [assign(5), close(10), contact(50), reply(80), close(100)]
    got = public(events)
    assert got["first_contact_reply_at"] == T0 + 50
    assert got["count_assignments"] == 0  # the assignment came before the contact
    assert got["count_reopens"] == 0  # its reopening reply is the first contact reply
    assert got["time_to_admin_reply"] == 30
    assert got["first_close_at"] == T0 + 100  # the close before it does not count
    assert got["time_to_first_close"] == 50
    assert got["last_close_at"] == T0 + 100
    assert got["count_conversation_parts"] == 5


def test_backdated_events_are_placed_by_time() -> None:
    late = public([SOURCE, reply(100), contact(200), reply(50)])  # reply(50) written last
    assert late["first_admin_reply_at"] == T0 + 50
    assert late["time_to_admin_reply"] == 50
    assert late["last_admin_reply_at"] == T0 + 100


def test_in_order_detects_backdating() -> None:
    tally = st.compute([SOURCE, reply(100)], None)
    assert st.in_order(tally, [reply(100), contact(150)])
    assert not st.in_order(tally, [reply(99)])


KINDS = [contact, reply, close, assign, assign_team, unassign, note, snooze, opened]


@pytest.mark.parametrize("seed", range(40))
def test_incremental_fold_equals_recompute(seed: int) -> None:
    """Folding new events into a stored tally (the hot path), through a JSON round trip,
    gives exactly what a recompute from the whole history gives."""
    rnd = random.Random(seed)
    at = 0
    events = [SOURCE] if rnd.random() < 0.8 else []
    for _ in range(rnd.randint(1, 30)):
        at += rnd.choice([0, 1, 7, 60, 3600])
        make = rnd.choice(KINDS)
        events.append(make(at))  # type: ignore[operator]
    hours = OfficeHours.parse("Europe/Berlin", {"monday": [["09:00", "17:00"]]})
    for h in (None, hours):
        whole = st.compute(events, h)
        cut = rnd.randint(0, len(events))
        stored = st.compute(events[:cut], h).statistics()
        import orjson

        tally = st.Tally.from_statistics(orjson.loads(orjson.dumps(stored)))
        assert tally is not None
        st.fold(tally, events[cut:], h)
        assert tally.statistics() == whole.statistics()


# ----------------------------------------------------------------------------- office hours

BERLIN = OfficeHours.parse(
    "Europe/Berlin", {d: [["09:00", "17:00"]] for d in
                      ("monday", "tuesday", "wednesday", "thursday", "friday")}
)  # fmt: skip


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        ("2024-01-08T09:00:00+01:00", "2024-01-08T10:00:00+01:00", 3600),  # Monday morning
        ("2024-01-08T07:00:00+01:00", "2024-01-08T10:00:00+01:00", 3600),  # before opening
        ("2024-01-08T16:00:00+01:00", "2024-01-09T10:00:00+01:00", 7200),  # overnight
        ("2024-01-12T16:00:00+01:00", "2024-01-15T10:00:00+01:00", 7200),  # over the weekend
        ("2024-01-13T10:00:00+01:00", "2024-01-13T12:00:00+01:00", 0),  # Saturday
        ("2024-03-29T16:00:00+01:00", "2024-04-01T10:00:00+02:00", 7200),  # DST weekend
        ("2024-01-08T10:00:00+01:00", "2024-01-08T10:00:00+01:00", 0),
    ],
)
def test_office_seconds(start: str, end: str, seconds: int) -> None:
    assert BERLIN.seconds_between(ts(start), ts(end)) == seconds


def test_office_add_crosses_nights_and_weekends() -> None:
    friday_4pm = ts("2024-01-12T16:00:00+01:00")
    assert BERLIN.add(friday_4pm, 7200) == ts("2024-01-15T10:00:00+01:00")
    assert BERLIN.add(ts("2024-01-13T12:00:00+01:00"), 60) == ts("2024-01-15T09:01:00+01:00")
    never = OfficeHours.parse("UTC", {})
    assert never.add(T0, 60) is None


@pytest.mark.parametrize(
    ("zone", "schedule", "field"),
    [
        ("Mars/Olympus", {}, "time_zone"),
        ("UTC", {"someday": []}, "schedule"),
        ("UTC", {"monday": [["10:00", "09:00"]]}, "schedule.monday"),
        ("UTC", {"monday": [["09:00", "12:00"], ["11:00", "13:00"]]}, "schedule.monday"),
        ("UTC", {"monday": [["9am", "12:00"]]}, "schedule.monday"),
        ("UTC", {"monday": "09:00-17:00"}, "schedule.monday"),
    ],
)
def test_schedule_errors(zone: str, schedule: dict[str, Any], field: str) -> None:
    with pytest.raises(ScheduleError) as error:
        OfficeHours.parse(zone, schedule)
    assert error.value.field == field


def test_durations_subtract_out_of_office_hours() -> None:
    friday_4pm = ts("2024-01-12T16:00:00+01:00") - T0
    events = [contact(friday_4pm, parts=0), reply(friday_4pm + 3 * 86400 - 5 * 3600),
              close(friday_4pm + 3 * 86400 - 4 * 3600)]  # fmt: skip
    # reply Monday 11:00 -> 1 h on Friday + 2 h on Monday; close Monday 12:00
    got = public(events, BERLIN)
    assert got["time_to_admin_reply"] == 3 * 3600
    assert got["median_time_to_reply"] == 3 * 3600
    assert got["time_to_first_close"] == got["time_to_last_close"] == 4 * 3600
    wall = public(events)
    assert wall["time_to_admin_reply"] == 3 * 86400 - 5 * 3600


def _day_by_day(hours: OfficeHours, start: int, end: int) -> int:
    """Office seconds of [start, end) summed over every local day: the plain definition."""
    first = datetime.fromtimestamp(start, hours.zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end, hours.zone).date()
    return sum(max(0, min(b, end) - max(a, start)) for a, b in hours._spans(first, last))


# Casablanca: explicit transitions listed into the 2080s; Santiago and Lord Howe: DST at local
# midnight and by half an hour.
@pytest.mark.parametrize("zone", ["Africa/Casablanca", "America/Santiago", "Australia/Lord_Howe"])
def test_long_durations_in_office_hours_equal_the_sum_of_their_days(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A duration over centuries takes whole years from yearly totals (repeating every 400
    years from 2100) instead of walking each day: the same seconds, and a bounded walk."""
    hours = OfficeHours.parse(zone, {"monday": [["09:00", "17:30"]], "friday": [["00:00", "24:00"]],
                                     "sunday": [["01:30", "03:00"]]})  # fmt: skip
    start, end = ts("1971-03-27T22:15:00Z"), ts("2611-10-30T01:45:00Z")
    assert hours.seconds_between(start, end) == _day_by_day(hours, start, end)
    assert hours.seconds_between(start + 86400 * 400, end - 86400 * 100) == _day_by_day(
        hours, start + 86400 * 400, end - 86400 * 100
    )
    walked: list[int] = []
    spans = OfficeHours._spans

    def counting(self: OfficeHours, first: date, last: date) -> list[tuple[int, int]]:
        walked.append((last - first).days + 1)
        return spans(self, first, last)

    monkeypatch.setattr(OfficeHours, "_spans", counting)
    hours.seconds_between(ts("1970-01-02T00:00:00Z"), ts("9999-12-31T23:59:59Z"))
    assert sum(walked) <= 2 * 367 + 530 * 366  # a year at each end, each distinct year once
    walked.clear()
    hours.seconds_between(ts("1970-01-03T00:00:00Z"), ts("9999-12-30T23:59:59Z"))
    assert sum(walked) <= 2 * 367  # the years between are remembered


# ----------------------------------------------------------------------------- SLA

POLICY = sla.Policy("Gold", first_response_time=60, next_response_time=120, time_to_close=1000,
                    office_hours=False)  # fmt: skip


def tracked(events: list[Event], *, waiting: bool = True, policy: sla.Policy = POLICY,
            applied: int = 0) -> sla.Tracker:  # fmt: skip
    tracker = sla.apply(policy, at=T0 + applied, waiting_since=T0 if waiting else None,
                        responded=False, hours=None)  # fmt: skip
    return sla.fold(tracker, events, None)


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ([], "active"),
        ([reply(60)], "hit"),
        ([reply(61)], "missed"),
        ([note(500)], "active"),  # the deadline passed but no teammate replied yet
        ([reply(30), contact(100), reply(200)], "hit"),
        ([reply(30), contact(100), reply(221)], "missed"),
        ([reply(30), close(900)], "hit"),
        ([reply(30), close(1001)], "missed"),
        ([reply(30), contact(100), close(150)], "hit"),  # closed before the NRT deadline
        ([reply(30), contact(100), close(500)], "missed"),  # closed after it
        ([reply(30), contact(1500), reply(1510)], "missed"),  # TTC missed at that reply
    ],
)
def test_sla_status(events: list[Event], status: str) -> None:
    assert tracked(events).status() == status
    assert tracked(events).summary() == {
        "type": "conversation_sla_summary", "sla_name": "Gold", "sla_status": status
    }  # fmt: skip


def test_sla_first_response_starts_at_the_next_contact_message_when_none_waits() -> None:
    tracker = tracked([contact(500), reply(555)], waiting=False)
    assert tracker.events[0][:2] == ["first_response_time", "hit"]


def test_sla_applied_to_a_waiting_contact_starts_first_response_after_earlier_answers() -> None:
    # docs/behaviour.md: "Applying starts time to close, and a first-response target if the
    # contact is waiting" -- also when a teammate answered before the SLA was applied.
    policy = sla.Policy("FRT", first_response_time=60, next_response_time=None,
                        time_to_close=None, office_hours=False)  # fmt: skip
    tracker = sla.apply(policy, at=T0 + 100, waiting_since=T0 + 90, responded=True, hours=None)
    assert [p[0] for p in tracker.pending] == ["first_response_time"]
    assert sla.fold(tracker, [reply(200)], None).status() == "missed"
    # the next wait after that is a next-response one (the policy has none: no target)
    later = sla.fold(tracker, [contact(300)], None)
    assert later.pending == []


def test_cancelled_sla_has_no_status() -> None:
    tracker = sla.cancel(tracked([reply(10)]), at=T0 + 20)
    assert tracker.status() is None
    assert "sla_status" not in tracker.summary()
    again = sla.apply(POLICY, at=T0 + 30, waiting_since=None, responded=True, hours=None,
                      cancelled=True)  # fmt: skip
    assert sla.fold(again, [contact(40), reply(50)], None).status() is None


def test_sla_on_office_hours() -> None:
    friday_4pm = ts("2024-01-12T16:00:00+01:00")
    policy = sla.Policy("Hours", first_response_time=2 * 3600, next_response_time=None,
                        time_to_close=None, office_hours=True)  # fmt: skip
    tracker = sla.apply(policy, at=friday_4pm, waiting_since=friday_4pm, responded=False,
                        hours=BERLIN)  # fmt: skip
    assert tracker.pending[0][2] == ts("2024-01-15T10:00:00+01:00")
    monday_945 = Event(ts("2024-01-15T09:45:00+01:00"), st.REPLY, actor=A)
    assert sla.fold(tracker, [monday_945], BERLIN).status() == "hit"
