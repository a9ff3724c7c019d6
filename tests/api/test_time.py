"""Time through the API with the controlled clock: scripted timelines for every statistic and
SLA status, office hours, snooze timers, ratings, and the /_parley endpoints' error paths."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from parley.api.app import create_app
from parley.config import Settings
from parley.db import outbox
from parley.db.database import Database
from parley.kit.clock import ControlledClock, FrozenClock
from parley.kit.ids import IdFactory
from parley.services.workspaces import CreatedWorkspace
from parley.worker import timers
from tests.conftest import START, ValidatingClient, make_client
from tests.factories import create_admin, create_contact, create_team

# START (2023-11-14T22:13:20Z) is a Tuesday evening, out of 09:00-17:00 office hours.
HOURS_UTC = {d: [["09:00", "17:00"]] for d in
             ("monday", "tuesday", "wednesday", "thursday", "friday")}  # fmt: skip


@dataclass
class Timeline:
    api: ValidatingClient
    db: Database
    clock: ControlledClock
    ws: CreatedWorkspace
    admin: int
    other: int
    team: int
    contact: str
    cid: str = ""
    last_part: str = ""
    names: dict[str, int] = field(default_factory=dict)

    async def ok(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.api.request(method, path, **kwargs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def advance(self, seconds: int) -> dict[str, Any]:
        return await self.ok("POST", "/_parley/clock", json={"advance": seconds})

    async def start(self) -> None:
        message = await self.ok(
            "POST",
            "/conversations",
            json={"from": {"type": "user", "id": self.contact}, "body": "Hi"},
        )
        self.cid = str(message["conversation_id"])

    async def step(self, action: str, *args: Any) -> dict[str, Any]:
        cid = self.cid
        admin = str(self.admin)
        if action == "wait":
            await self.advance(args[0])
            return await self.get()
        if action == "contact":
            body = {"message_type": "comment", "type": "user", "intercom_user_id": self.contact,
                    "body": "more"}  # fmt: skip
            return await self._part(await self.ok("POST", f"/conversations/{cid}/reply", json=body))
        if action in {"reply", "note", "reply_by_other", "backdated_reply"}:
            body = {"message_type": "note" if action == "note" else "comment", "type": "admin",
                    "admin_id": str(self.other) if action == "reply_by_other" else admin,
                    "body": "ok"}  # fmt: skip
            if action == "backdated_reply":
                body["created_at"] = self.clock.now() - args[0]
            return await self._part(await self.ok("POST", f"/conversations/{cid}/reply", json=body))
        if action == "close":
            return await self._manage({"message_type": "close", "type": "admin"})
        if action == "open":
            return await self._manage({"message_type": "open"})
        if action == "snooze":
            return await self._manage(
                {"message_type": "snoozed", "snoozed_until": self.clock.now() + args[0]}
            )
        if action == "assign":
            target = {"me": self.admin, "other": self.other, "nobody": 0}[args[0]]
            return await self._manage({"message_type": "assignment", "type": "admin",
                                       "assignee_id": str(target)})  # fmt: skip
        if action == "assign_team":
            return await self._manage({"message_type": "assignment", "type": "team",
                                       "assignee_id": str(self.team)})  # fmt: skip
        if action == "redact_last":
            return await self.ok("POST", "/conversations/redact", json={
                "type": "conversation_part", "conversation_id": cid,
                "conversation_part_id": self.last_part})  # fmt: skip
        raise AssertionError(action)

    async def _manage(self, payload: dict[str, Any]) -> dict[str, Any]:
        body = {"admin_id": str(self.admin), **payload}
        return await self._part(
            await self.ok("POST", f"/conversations/{self.cid}/parts", json=body)
        )

    async def _part(self, conversation: dict[str, Any]) -> dict[str, Any]:
        parts = conversation["conversation_parts"]["conversation_parts"]
        if parts:
            self.last_part = parts[-1]["id"]
        return conversation

    async def get(self) -> dict[str, Any]:
        return await self.ok("GET", f"/conversations/{self.cid}")


@pytest.fixture
def controlled() -> ControlledClock:
    return ControlledClock(FrozenClock(START), start=START, frozen=True)


@pytest.fixture
def tapp(db: Database, controlled: ControlledClock, ids: IdFactory) -> Any:
    """The app with a controlled clock."""
    return create_app(Settings(controlled_clock=True), db=db, clock=controlled, ids=ids)


@pytest.fixture
async def tapi(tapp: Any, workspace: CreatedWorkspace) -> AsyncIterator[ValidatingClient]:
    async with make_client(tapp, workspace.token) as client:
        yield client


@pytest.fixture
async def tl(
    tapi: ValidatingClient,
    db: Database,
    controlled: ControlledClock,
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> Timeline:
    contact = await create_contact(db, workspace, ids, clock, email="tim@example.com")
    other = await create_admin(db, workspace, clock, name="Otto", email="otto@example.com")
    team = await create_team(db, workspace, clock, name="Support")
    return Timeline(tapi, db, controlled, workspace, workspace.owner_admin_id, other, team,
                    contact)  # fmt: skip


def stats_of(conversation: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = conversation["statistics"]
    return result


def expect(got: dict[str, Any], expected: dict[str, Any]) -> None:
    """`*_at` values are seconds after START; None means the member must be absent."""
    for key, value in expected.items():
        if value is None:
            assert key not in got, f"{key} should be absent, is {got.get(key)}"
        elif key.endswith("_at"):
            assert got.get(key) == START + value, f"{key}: {got.get(key)} != START+{value}"
        else:
            assert got.get(key) == value, f"{key}: {got.get(key)} != {value}"


ADMIN = "admin"  # placeholder for the owner admin's id in expectations

TIMELINES: list[tuple[str, list[tuple[Any, ...]], dict[str, Any]]] = [
    ("new", [], {
        "first_contact_reply_at": 0, "last_contact_reply_at": 0, "count_reopens": 0,
        "count_assignments": 0, "count_conversation_parts": 0, "first_admin_reply_at": None,
        "time_to_admin_reply": None, "median_time_to_reply": None, "first_close_at": None,
        "handling_time": None, "last_closed_by_id": None, "time_to_assignment": None}),
    ("reply and close", [("wait", 60), ("reply",), ("wait", 40), ("close",)], {
        "first_admin_reply_at": 60, "last_admin_reply_at": 60, "time_to_admin_reply": 60,
        "median_time_to_reply": 60, "first_close_at": 100, "last_close_at": 100,
        "time_to_first_close": 100, "time_to_last_close": 100, "last_closed_by_id": ADMIN,
        "count_conversation_parts": 2, "handling_time": None}),
    ("assign, reassign, reply", [("wait", 10), ("assign", "me"), ("wait", 20),
                                 ("assign", "other"), ("wait", 30), ("reply_by_other",)], {
        "time_to_assignment": 30, "first_assignment_at": 10, "last_assignment_at": 30,
        "count_assignments": 2, "last_assignment_admin_reply_at": 60,
        "time_to_admin_reply": 60}),
    ("reassign after the reply", [("wait", 10), ("assign", "me"), ("wait", 10), ("reply",),
                                  ("wait", 100), ("assign", "other")], {
        "time_to_assignment": 10, "last_assignment_at": 120, "count_assignments": 2,
        "last_assignment_admin_reply_at": None}),
    ("notes do not answer", [("wait", 30), ("note",), ("wait", 30), ("reply",)], {
        "first_admin_reply_at": 60, "time_to_admin_reply": 60, "median_time_to_reply": 60,
        "last_admin_reply_at": 60, "count_conversation_parts": 2}),
    ("median over waits", [("wait", 10), ("reply",), ("wait", 100), ("contact",),
                           ("wait", 30), ("reply",), ("wait", 100), ("contact",),
                           ("wait", 50), ("reply",)], {
        "median_time_to_reply": 30, "last_contact_reply_at": 240, "last_admin_reply_at": 290}),
    ("reopen and close again", [("wait", 10), ("close",), ("wait", 10), ("contact",),
                                ("wait", 10), ("close",), ("wait", 10), ("assign", "me"),
                                ("wait", 10), ("close",)], {
        "count_reopens": 2, "first_close_at": 10, "last_close_at": 50,
        "time_to_first_close": 10, "time_to_last_close": 50, "handling_time": 10}),
    ("snooze and open", [("wait", 10), ("assign", "me"), ("snooze", 1000), ("wait", 100),
                         ("open",), ("wait", 50), ("close",)], {
        "count_reopens": 0, "handling_time": 50, "time_to_last_close": 160}),
    ("snoozed from closed counts a reopen", [("close",), ("wait", 5), ("snooze", 100)], {
        "count_reopens": 1}),
    ("redaction changes nothing", [("wait", 20), ("reply",), ("redact_last",)], {
        "first_admin_reply_at": 20, "time_to_admin_reply": 20, "count_conversation_parts": 1}),
    ("backdated reply", [("wait", 100), ("reply",), ("wait", 100), ("backdated_reply", 170)], {
        "first_admin_reply_at": 30, "time_to_admin_reply": 30, "last_admin_reply_at": 100,
        "median_time_to_reply": 30, "count_conversation_parts": 2}),
    ("team first response", [("wait", 10), ("assign_team",), ("wait", 50), ("reply",)], {
        "assigned_team_first_response_time": "team:50",
        "assigned_team_first_response_time_in_office_hours": "team:50"}),
]  # fmt: skip


@pytest.mark.parametrize(("steps", "expected"), [(s, e) for _, s, e in TIMELINES],
                         ids=[n for n, _, _ in TIMELINES])  # fmt: skip
async def test_statistics_timelines(
    tl: Timeline, steps: list[tuple[Any, ...]], expected: dict[str, Any]
) -> None:
    await tl.start()
    for step in steps:
        await tl.step(*step)
    got = stats_of(await tl.get())
    resolved: dict[str, Any] = {}
    for key, value in expected.items():
        if value == ADMIN:
            value = str(tl.admin)
        if isinstance(value, str) and value.startswith("team:"):
            value = [{"team_id": tl.team, "team_name": "Support",
                      "response_time": int(value[5:])}]  # fmt: skip
        resolved[key] = value
    expect(got, resolved)


async def test_out_of_hours_replies_count_office_time_only(tl: Timeline) -> None:
    await tl.ok("PUT", "/_parley/office_hours", json={"time_zone": "UTC", "schedule": HOURS_UTC})
    await tl.start()  # Tuesday 22:13:20
    # Wednesday 10:00:00 UTC is 11 h 46 min 40 s later; one office hour has passed.
    await tl.step("wait", 11 * 3600 + 46 * 60 + 40)
    await tl.step("assign_team")
    await tl.step("reply")
    await tl.step("wait", 1800)
    got = stats_of(await tl.step("close"))
    assert got["time_to_admin_reply"] == 3600
    assert got["median_time_to_reply"] == 3600
    assert got["time_to_first_close"] == got["time_to_last_close"] == 5400
    assert got["time_to_assignment"] == 11 * 3600 + 46 * 60 + 40  # not adjusted
    assert got["assigned_team_first_response_time_in_office_hours"][0]["response_time"] == 0
    # Without office hours the same timeline is wall-clock.
    await tl.ok("DELETE", "/_parley/office_hours")
    await tl.start()
    await tl.step("wait", 7200)
    assert stats_of(await tl.step("reply"))["time_to_admin_reply"] == 7200


# ------------------------------------------------------------------------------ SLA


async def policy(tl: Timeline, **fields: Any) -> str:
    body = await tl.ok("POST", "/_parley/sla_policies", json=fields)
    return str(body["id"])


SLA_TIMELINES: list[tuple[str, list[tuple[Any, ...]], str | None]] = [
    ("applied", [], "active"),
    ("first response in time", [("wait", 60), ("reply",)], "hit"),
    ("deadline passed, nobody replied yet", [("wait", 500), ("note",)], "active"),
    ("missed shows at the next reply", [("wait", 500), ("reply",)], "missed"),
    ("next response missed", [("wait", 10), ("reply",), ("contact",), ("wait", 301),
                              ("reply",)], "missed"),
    ("closed in time", [("wait", 10), ("reply",), ("wait", 10), ("close",)], "hit"),
    ("closed late", [("wait", 10), ("reply",), ("wait", 4000), ("close",)], "missed"),
]  # fmt: skip


@pytest.mark.parametrize(("steps", "status"), [(s, e) for _, s, e in SLA_TIMELINES],
                         ids=[n for n, _, _ in SLA_TIMELINES])  # fmt: skip
async def test_sla_timelines(tl: Timeline, steps: list[tuple[Any, ...]], status: str) -> None:
    pid = await policy(tl, name="Gold", first_response_time=120, next_response_time=300,
                       time_to_close=3600)  # fmt: skip
    await tl.start()
    await tl.ok("POST", f"/_parley/conversations/{tl.cid}/sla", json={"sla_policy_id": pid})
    for step in steps:
        await tl.step(*step)
    assert (await tl.get())["sla_applied"] == {
        "type": "conversation_sla_summary", "sla_name": "Gold", "sla_status": status
    }  # fmt: skip


async def test_sla_applied_on_creation_and_cancelled(tl: Timeline) -> None:
    await policy(tl, name="Silver", first_response_time=60)
    await policy(tl, name="Auto", first_response_time=60, apply_to_new_conversations=True)
    listed = await tl.ok("GET", "/_parley/sla_policies")
    assert [p["name"] for p in listed["data"]] == ["Silver", "Auto"]
    await tl.start()
    assert (await tl.get())["sla_applied"]["sla_name"] == "Auto"
    await tl.step("wait", 10)
    await tl.step("reply")
    assert (await tl.get())["sla_applied"]["sla_status"] == "hit"
    removed = await tl.ok("DELETE", f"/_parley/conversations/{tl.cid}/sla")
    assert removed["sla_applied"] == {"type": "conversation_sla_summary", "sla_name": "Auto"}
    silver = listed["data"][0]["id"]
    reapplied = await tl.ok(
        "POST", f"/_parley/conversations/{tl.cid}/sla", json={"sla_policy_id": silver}
    )
    assert "sla_status" not in reapplied["sla_applied"]  # any cancelled event: no status
    assert (await tl.get())["sla_applied"] == reapplied["sla_applied"]  # validated by GET


@pytest.mark.parametrize("time_zone", ["Europe/Berlin", "UTC", "Pacific/Kiritimati"])
async def test_office_hours_measure_up_to_the_last_timestamp(tl: Timeline, time_zone: str) -> None:
    """Moments up to the last accepted one (9999-12-31T23:59:59Z, already the year 10000 east
    of UTC) are measured in office hours without overflowing the calendar: a reply dated then,
    and an SLA deadline past the calendar's end (never reached), were 500s."""
    every_day = {d: [["00:00", "24:00"]] for d in ("monday", "tuesday", "wednesday", "thursday",
                                                   "friday", "saturday", "sunday")}  # fmt: skip
    hours = {"time_zone": time_zone, "schedule": every_day}
    await tl.ok("PUT", "/_parley/office_hours", json=hours)
    last = 253402300799
    await tl.ok("POST", "/_parley/clock", json={"now": last - 3 * 86400})
    pid = await policy(tl, name="Late", first_response_time=4 * 86400, office_hours=True)
    await tl.start()
    applied = await tl.ok(
        "POST", f"/_parley/conversations/{tl.cid}/sla", json={"sla_policy_id": pid}
    )
    assert applied["sla_applied"]["sla_status"] == "active"
    reply = await tl.ok(
        "POST",
        f"/conversations/{tl.cid}/reply",
        json={"message_type": "comment", "type": "admin", "admin_id": str(tl.admin),
              "body": "from the end of time", "created_at": last},
    )  # fmt: skip
    assert reply["conversation_parts"]["conversation_parts"][-1]["created_at"] == last
    assert reply["statistics"]["first_admin_reply_at"] == last


async def test_sla_applied_while_the_contact_waits_again_starts_a_first_response(
    tl: Timeline,
) -> None:
    """docs/behaviour.md: applying "starts ... a first-response target if the contact is
    waiting", also when a teammate had answered an earlier message."""
    pid = await policy(tl, name="FRT", first_response_time=120)
    await tl.start()
    await tl.step("wait", 10)
    await tl.step("reply")
    await tl.step("contact")  # waiting again
    await tl.ok("POST", f"/_parley/conversations/{tl.cid}/sla", json={"sla_policy_id": pid})
    assert (await tl.get())["sla_applied"]["sla_status"] == "active"
    await tl.step("wait", 1000)
    assert (await tl.step("reply"))["sla_applied"]["sla_status"] == "missed"


async def test_sla_on_office_hours_uses_office_time(tl: Timeline) -> None:
    await tl.ok("PUT", "/_parley/office_hours", json={"time_zone": "UTC", "schedule": HOURS_UTC})
    pid = await policy(tl, name="Hours", first_response_time=3600, office_hours=True)
    await tl.start()  # out of hours: the hour starts on Wednesday 09:00
    await tl.ok("POST", f"/_parley/conversations/{tl.cid}/sla", json={"sla_policy_id": pid})
    await tl.step("wait", 11 * 3600 + 46 * 60 + 30)  # Wednesday 09:59:50
    assert (await tl.step("reply"))["sla_applied"]["sla_status"] == "hit"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"first_response_time": 60}, 400, "parameter_not_found"),
        ({"name": "X"}, 400, "parameter_not_found"),
        ({"name": "X", "time_to_close": 0}, 400, "parameter_invalid"),
        ({"name": "X", "time_to_close": "60"}, 400, "parameter_invalid"),
        ({"name": "Dup", "time_to_close": 60}, 409, "conflict"),
        ({"name": "X", "time_to_close": 2**63}, 400, "parameter_invalid"),  # was a 500
        ({"name": "X", "first_response_time": 10**30}, 400, "parameter_invalid"),
    ],
)
async def test_sla_policy_errors(
    tl: Timeline, body: dict[str, Any], status: int, code: str
) -> None:
    await policy(tl, name="Dup", time_to_close=60)
    response = await tl.api.post("/_parley/sla_policies", json=body)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["code"] == code


async def test_sla_apply_errors(tl: Timeline) -> None:
    await tl.start()
    missing = await tl.api.post(f"/_parley/conversations/{tl.cid}/sla", json={"sla_policy_id": 999})
    assert missing.status_code == 404
    no_conversation = await tl.api.post("/_parley/conversations/999/sla", json={"sla_policy_id": 1})
    assert no_conversation.status_code == 404
    nothing_applied = await tl.api.delete(f"/_parley/conversations/{tl.cid}/sla")
    assert nothing_applied.status_code == 404


# ------------------------------------------------------------------------------ office hours


async def test_office_hours_api(tl: Timeline) -> None:
    empty = await tl.ok("GET", "/_parley/office_hours")
    assert empty["configured"] is False
    stored = await tl.ok(
        "PUT",
        "/_parley/office_hours",
        json={"time_zone": "Europe/Berlin", "schedule": {"monday": [["09:00", "17:00"]]}},
    )
    assert stored["schedule"]["monday"] == [["09:00", "17:00"]]
    assert stored["schedule"]["tuesday"] == []
    assert (await tl.ok("GET", "/_parley/office_hours"))["time_zone"] == "Europe/Berlin"
    bad = await tl.api.put(
        "/_parley/office_hours", json={"time_zone": "Nowhere/Land", "schedule": {}}
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "time_zone"
    bad_day = await tl.api.put(
        "/_parley/office_hours",
        json={"time_zone": "UTC", "schedule": {"monday": [["18:00", "09:00"]]}},
    )
    assert bad_day.status_code == 400
    assert bad_day.json()["errors"][0]["field"] == "schedule.monday"
    assert (await tl.ok("DELETE", "/_parley/office_hours"))["configured"] is False


# ------------------------------------------------------------------------------ timers


async def topics(tl: Timeline) -> list[str]:
    async with tl.db.transaction(write=False) as tx:
        return [row["topic"] for row in await outbox.pending(tx, tl.ws.workspace_id)]


async def test_advancing_past_a_snooze_opens_it_once(tl: Timeline) -> None:
    await tl.start()
    await tl.step("assign", "me")
    snoozed = await tl.step("snooze", 3600)
    assert snoozed["state"] == "snoozed"
    not_yet = await tl.advance(3599)
    assert not_yet["snoozes_opened"] == 0
    assert (await tl.get())["state"] == "snoozed"
    fired = await tl.advance(7200)
    assert fired["snoozes_opened"] == 1
    conversation = await tl.get()
    assert conversation["state"] == "open"
    assert conversation["snoozed_until"] is None
    part = conversation["conversation_parts"]["conversation_parts"][-1]
    assert part["part_type"] == "open"
    assert part["author"]["type"] == "bot"
    assert part["created_at"] == START + 3600  # when the snooze ended, not when it was noticed
    assert conversation["updated_at"] == START + 3599 + 7200
    again = await tl.advance(86400)
    assert again["snoozes_opened"] == 0
    assert not await timers.run_once(tl.db, tl.clock, IdFactory(seed=1))
    assert (await topics(tl)).count("conversation.admin.unsnoozed") == 1
    assert conversation["conversation_parts"]["total_count"] == 3
    assert "handling_time" not in stats_of(conversation)


async def test_a_restarted_server_still_opens_it_once(
    tl: Timeline, db: Database, ids: IdFactory, workspace: CreatedWorkspace
) -> None:
    await tl.start()
    await tl.step("snooze", 600)
    # A second app on the same database (a restart), with its own clock already past the snooze.
    later = ControlledClock(FrozenClock(START), start=START + 601, frozen=True)
    assert (await timers.run_once(db, later, ids)).total() == 1
    assert not await timers.run_once(db, later, ids)
    assert (await tl.advance(1000))["snoozes_opened"] == 0
    assert (await topics(tl)).count("conversation.admin.unsnoozed") == 1


async def test_a_snooze_woken_by_a_reply_does_not_fire(tl: Timeline) -> None:
    await tl.start()
    await tl.step("snooze", 600)
    await tl.step("contact")
    assert (await tl.advance(700))["snoozes_opened"] == 0
    assert [p["part_type"] for p in (await tl.get())["conversation_parts"]["conversation_parts"]
            ] == ["snoozed", "comment"]  # fmt: skip


# ------------------------------------------------------------------------------ clock


async def test_clock_read_set_freeze_advance(tl: Timeline) -> None:
    now = await tl.ok("GET", "/_parley/clock")
    assert now == {"type": "parley.clock", "now": START, "controlled": True, "frozen": True}
    moved = await tl.ok("POST", "/_parley/clock", json={"now": START + 5000})
    assert moved["now"] == START + 5000
    await tl.start()
    assert (await tl.get())["created_at"] == START + 5000  # writes follow the clock
    running = await tl.ok("POST", "/_parley/clock", json={"frozen": False})
    assert running["frozen"] is False
    assert running["now"] >= START + 5000
    frozen = await tl.ok("POST", "/_parley/clock", json={"frozen": True, "advance": 10})
    assert frozen["frozen"] is True


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"now": 1, "advance": 1}, 400, "advance"),
        ({"advance": -5}, 400, "advance"),
        ({"now": "soon"}, 400, "now"),
        ({"speed": 2}, 400, "speed"),
        ({"advance": 9223372036854775807}, 400, "advance"),
        ({"frozen": False, "advance": 253402300799 - START + 1}, 400, "advance"),
    ],
)
async def test_clock_errors(tl: Timeline, body: dict[str, Any], status: int, field: str) -> None:
    response = await tl.api.post("/_parley/clock", json=body)
    assert response.status_code == status, response.text
    assert response.json()["type"] == "error.list"
    assert response.json()["errors"][0]["field"] == field
    # A failed request leaves the clock as it was.
    assert await tl.ok("GET", "/_parley/clock") == {
        "type": "parley.clock", "now": START, "controlled": True, "frozen": True,
    }  # fmt: skip


async def test_the_clock_is_every_workspaces_but_its_answer_counts_only_the_callers(
    tl: Timeline,
    tapp: Any,
    db: Database,
    clock: FrozenClock,
    ids: IdFactory,
    other_workspace_token: Any,
) -> None:
    """The controlled clock is the server's one clock: moving it opens every workspace's due
    snoozes (docs/behaviour.md). The caller learns only how many of its own opened."""
    other = await other_workspace_token()
    theirs = await create_contact(db, other, ids, clock, email="them@example.com")
    async with make_client(tapp, other.token) as them:
        started = await them.post(
            "/conversations", json={"from": {"type": "user", "id": theirs}, "body": "Hi"}
        )
        cid = started.json()["conversation_id"]
        snoozed = await them.post(
            f"/conversations/{cid}/parts",
            json={"message_type": "snoozed", "admin_id": str(other.owner_admin_id),
                  "snoozed_until": START + 600},
        )  # fmt: skip
        assert snoozed.status_code == 200, snoozed.text
        await tl.start()
        await tl.step("snooze", 600)
        assert (await tl.advance(700))["snoozes_opened"] == 1  # its own, not theirs
        assert (await them.get(f"/conversations/{cid}")).json()["state"] == "open"


async def test_clock_needs_a_token_and_a_controlled_clock(
    tl: Timeline, api: ValidatingClient, anon: ValidatingClient
) -> None:
    assert (await anon.get("/_parley/clock")).status_code == 401
    system = await api.get("/_parley/clock")  # the default app: not controlled
    assert system.json()["controlled"] is False
    refused = await api.post("/_parley/clock", json={"advance": 10})
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "clock_not_controlled"


# ------------------------------------------------------------------------------ rating


async def test_rating(tl: Timeline) -> None:
    await tl.start()
    await tl.step("assign", "other")
    await tl.step("wait", 100)
    await tl.step("close")
    await tl.step("wait", 50)
    path = f"/_parley/conversations/{tl.cid}/rating"
    rated = await tl.ok("POST", path, json={"intercom_user_id": tl.contact, "rating": 4,
                                            "remark": "quick"})  # fmt: skip
    assert rated["conversation_rating"] == {
        "rating": 4, "remark": "quick", "created_at": START + 100, "updated_at": START + 150,
        "contact": {"type": "contact", "id": tl.contact, "external_id": None},
        "teammate": {"type": "admin", "id": str(tl.other)},
    }  # fmt: skip
    await tl.step("wait", 10)
    again = await tl.ok("POST", path, json={"email": "tim@example.com", "rating": 5})
    assert again["conversation_rating"]["rating"] == 5
    assert again["conversation_rating"]["remark"] == ""
    assert again["conversation_rating"]["created_at"] == START + 100
    assert again["conversation_rating"]["updated_at"] == START + 160
    assert (await topics(tl)).count("conversation.rating.added") == 2
    assert (await tl.get())["conversation_rating"] == again["conversation_rating"]  # validated


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"rating": 6}, 400, "parameter_invalid"),
        ({"rating": 0}, 400, "parameter_invalid"),
        ({"rating": "5"}, 400, "parameter_invalid"),
        ({}, 400, "parameter_not_found"),
        ({"rating": 3, "intercom_user_id": None}, 400, "parameter_not_found"),
        ({"rating": 3, "email": "nobody@example.com"}, 404, "not_found"),
        ({"rating": 3, "email": "stranger@example.com"}, 422, "parameter_invalid"),
    ],
)
async def test_rating_errors(
    tl: Timeline, clock: FrozenClock, ids: IdFactory, body: dict[str, Any], status: int, code: str
) -> None:
    await create_contact(tl.db, tl.ws, ids, clock, email="stranger@example.com")
    await tl.start()
    payload = {"intercom_user_id": tl.contact, **body} if "email" not in body else body
    if "intercom_user_id" in body and body["intercom_user_id"] is None:
        payload = {"rating": 3}
    response = await tl.api.post(f"/_parley/conversations/{tl.cid}/rating", json=payload)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["code"] == code
    unknown = await tl.api.post("/_parley/conversations/424242/rating",
                                json={"intercom_user_id": tl.contact, "rating": 3})  # fmt: skip
    assert unknown.status_code == 404


async def test_other_workspaces_cannot_touch_time_settings(
    tl: Timeline, app: Any, other_workspace_token: Any
) -> None:
    await tl.start()
    other = await other_workspace_token()
    async with make_client(app, other.token) as client:
        response = await client.post(
            f"/_parley/conversations/{tl.cid}/rating",
            json={"intercom_user_id": tl.contact, "rating": 3},
        )
        assert response.status_code == 404
        policies = await client.get("/_parley/sla_policies")
        assert policies.json()["data"] == []


async def test_replacing_an_sla_cancels_it_and_deleting_the_conversation_drops_it(
    tl: Timeline,
) -> None:
    first = await policy(tl, name="First", first_response_time=60)
    second = await policy(tl, name="Second", time_to_close=60)
    await tl.start()
    path = f"/_parley/conversations/{tl.cid}/sla"
    applied = await tl.ok("POST", path, json={"sla_policy_id": first})
    assert applied["sla_applied"]["sla_status"] == "active"
    replaced = await tl.ok("POST", path, json={"sla_policy_id": int(second)})
    assert replaced["sla_applied"] == {"type": "conversation_sla_summary", "sla_name": "Second"}
    deleted = await tl.api.delete(f"/conversations/{tl.cid}")
    assert deleted.status_code == 200, deleted.text
    async with tl.db.transaction(write=False) as tx:
        left = await tx.fetch_val("SELECT COUNT(*) FROM conversation_slas")
    assert int(left) == 0
