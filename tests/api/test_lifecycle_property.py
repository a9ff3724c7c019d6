"""Property: random interleavings of contact replies, admin replies, notes, close/open/snooze
(with expiry through the controlled clock), assignments to admins, teams and nobody, contact
attach/detach, redaction and read, replayed through the API, leave every conversation exactly
as a small independent model of the rules (docs/behaviour.md, "Conversation lifecycle" and
"Time, statistics and SLAs") says: state, open, snoozed_until, waiting_since, read, assignees,
teammates, first_contact_reply, every part (type, author, assigned_to, state), updated_at and
every statistics member, the SLA status (wall clock and office hours), the webhook topics, the
list and search items, and the 1.x and 2.16 renderings of the same facts. Every response is
validated against the description (ValidatingClient)."""

from __future__ import annotations

import os
import statistics as pystats
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.db import admins, outbox
from parley.db.database import Database
from parley.kit.clock import ControlledClock, FrozenClock
from parley.kit.ids import IdFactory
from parley.services.workspaces import CreatedWorkspace
from tests.api.test_time import controlled, tapi, tapp  # noqa: F401 (fixtures)
from tests.conftest import ValidatingClient
from tests.factories import create_admin, create_contact, create_tag, create_team


@dataclass
class Cast:
    api: ValidatingClient
    clock: ControlledClock
    admins: list[int]
    bot: int
    team: int
    team2: int
    tag: int
    policy: str
    user: str
    lead: str
    db: Any = None
    hours_policy: str = ""
    workspace_id: str = ""


@dataclass
class Model:
    """The conversation as docs/behaviour.md says it must be (independent of the code)."""

    now: int
    admin_started: bool
    state: str = "open"
    snoozed_until: int | None = None
    waiting_since: int | None = None
    read: bool = False
    admin: int | None = None
    team: int | None = None
    teammates: list[int] = field(default_factory=list)
    first_contact_reply_at: int | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)
    updated_at: int = 0
    contacts: list[str] = field(default_factory=list)
    log: list[tuple[Any, ...]] = field(default_factory=list)  # (at, kind, actor, side, target)
    team_names: dict[int, str] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    tagged: bool = False
    applied_at: int = 0
    hours: bool = False
    visible: bool = True
    priority: str = "not_priority"

    def part(self, part_type: str, author: tuple[str, str], *, body: bool, at: int | None = None,
             assigned_to: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.parts.append({"part_type": part_type, "author": author, "body": body,
                           "assigned_to": assigned_to, "state": self.state,
                           "redacted": False})  # fmt: skip
        if author[0] == "admin" and int(author[1]) not in self.teammates:
            self.teammates.append(int(author[1]))

    def event_part(self, part_type: str, author: tuple[str, int], now: int) -> None:
        """A part that no statistic but the part count looks at (an attach, an attribute or
        priority change), by an admin or the bot."""
        self.part(part_type, (author[0], str(author[1])), body=False)
        self.log.append((now, "other", author[1], None, None))

    def sla_status(self) -> str:
        """The SLA (first 120 s, next 300 s, close 3600 s, applied at the start) by the rules
        written in docs/behaviour.md ("SLA targets")."""
        applied = self.log[0][0] if self.log and self.log[0][1] == "source" else self.applied_at

        def deadline_of(at: int, limit: int) -> int:
            return office_add(at, limit) if self.hours else at + limit

        pending: list[tuple[str, int]] = [("close", deadline_of(applied, 3600))]
        outcomes: list[str] = []
        responded = False
        waiting = False
        if self.log and self.log[0][1] == "source":
            pending.append(("first", deadline_of(applied, 120)))
            waiting = True
        for at, kind, *_ in sorted(self.log, key=lambda e: e[0]):
            if at < applied or kind == "source":
                continue
            if kind == "contact" and not waiting:
                waiting = True
                pending.append(
                    ("next" if responded else "first", deadline_of(at, 300 if responded else 120))
                )
            elif kind == "reply":
                waiting, responded = False, True
                keep = []
                for target, due in pending:
                    if target in {"first", "next"}:
                        outcomes.append("missed" if at > due else "hit")
                    elif at > due:
                        outcomes.append("missed")
                    else:
                        keep.append((target, due))
                pending = keep
            elif kind == "close":
                waiting = False
                for target, due in pending:
                    if target == "close":
                        outcomes.append("missed" if at > due else "hit")
                    elif at > due:
                        outcomes.append("missed")
                pending = []
        return "missed" if "missed" in outcomes else "hit" if "hit" in outcomes else "active"

    def statistics(self) -> dict[str, Any]:
        """Every member, from the log, by the written definitions."""
        s: dict[str, Any] = {}
        state, admin, wait = "open", None, None
        replies: list[int] = []
        handled, since, ever_admin = 0, None, False
        fcr: int | None = None  # the first contact reply
        teams: dict[int, list[Any]] = {}

        def office(a: int, b: int) -> int:
            return office_seconds(a, b) if self.hours else max(0, b - a)

        def handling(at: int, new_state: str, new_admin: int | None) -> None:
            nonlocal handled, since
            if since is not None:
                handled += at - since
                since = None
            if new_state == "open" and new_admin is not None:
                since = at

        for at, kind, actor, side, target in sorted(self.log, key=lambda e: e[0]):
            s["count_conversation_parts"] = s.get("count_conversation_parts", 0) + (
                kind != "source"
            )
            started = fcr is not None
            since_first = 0 if fcr is None else fcr
            new_state = state
            if kind in {"source", "contact"}:
                if fcr is None:
                    fcr = at
                    s["first_contact_reply_at"] = at
                    s["count_reopens"] = 0
                    s["count_assignments"] = 0
                s["last_contact_reply_at"] = at
                if wait is None:
                    wait = at
                new_state = "open"
            elif kind == "reply":
                s["last_admin_reply_at"] = at
                if started:
                    if "first_admin_reply_at" not in s:
                        s["first_admin_reply_at"] = at
                        s["time_to_admin_reply"] = office(since_first, at)
                    if "last_assignment_at" in s and "last_assignment_admin_reply_at" not in s:
                        s["last_assignment_admin_reply_at"] = at
                    for entry in teams.values():
                        if entry[1] is None:
                            entry[1] = at - entry[0]
                            entry[2] = office(entry[0], at)
                    answered = sorted(
                        (v[0], k, v[1], v[2]) for k, v in teams.items() if v[1] is not None
                    )
                    s["assigned_team_first_response_time"] = [
                        {"team_id": k, "team_name": self.team_names[k], "response_time": r}
                        for _, k, r, _o in answered
                    ]
                    s["assigned_team_first_response_time_in_office_hours"] = [
                        {"team_id": k, "team_name": self.team_names[k], "response_time": o}
                        for _, k, _r, o in answered
                    ]
                if wait is not None:
                    replies.append(office(wait, at))
                    s["median_time_to_reply"] = int(pystats.median(replies))
                    wait = None
                if state == "snoozed" and actor != admin:
                    new_state = "open"
            elif kind == "close":
                wait = None
                new_state = "closed"
            elif kind == "open":
                new_state = "open"
            elif kind == "snooze":
                new_state = "snoozed"
            elif kind in {"assign", "unassign"}:
                if kind == "assign" and started:
                    s["count_assignments"] += 1
                    s.setdefault("first_assignment_at", at)
                    s["last_assignment_at"] = at
                    s.pop("last_assignment_admin_reply_at", None)
                    if "first_admin_reply_at" not in s:
                        s["time_to_assignment"] = at - since_first
                    if side == "team" and target not in teams:
                        teams[target] = [at, None, None]
                new_state = "open"
            if state == "closed" and new_state != "closed" and started:
                s["count_reopens"] += 1
            new_admin = admin
            if kind in {"assign", "unassign"} and side == "admin":
                new_admin = target
                ever_admin = ever_admin or target is not None
            handling(at, new_state, new_admin)
            state, admin = new_state, new_admin
            if kind == "close":
                s["last_close_at"] = at
                s["last_closed_by_id"] = str(actor)
                if started:
                    if "first_close_at" not in s:
                        s["first_close_at"] = at
                        s["time_to_first_close"] = office(since_first, at)
                    s["time_to_last_close"] = office(since_first, at)
                if ever_admin:
                    s["handling_time"] = handled
        return s


SCHEDULE = {
    "monday": [["09:00", "12:00"], ["13:00", "17:30"]],
    "tuesday": [["00:00", "24:00"]],
    "wednesday": [["08:15", "08:16"]],
    "friday": [["22:00", "24:00"]],
    "saturday": [["00:00", "01:00"]],
}
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def office_seconds(start: int, end: int) -> int:
    """Seconds of [start, end) inside SCHEDULE (UTC): 1970-01-01 was a Thursday."""
    total = 0
    for day in range(start // 86400 - 1, end // 86400 + 1):
        for a, b in SCHEDULE.get(DAYS[(day + 3) % 7], []):
            lo = day * 86400 + int(a[:2]) * 3600 + int(a[3:]) * 60
            hi = day * 86400 + int(b[:2]) * 3600 + int(b[3:]) * 60
            total += max(0, min(hi, end) - max(lo, start))
    return total


def office_add(start: int, seconds: int) -> int:
    """The moment `seconds` of office time (SCHEDULE) have passed since `start`."""
    day = start // 86400 - 1
    while True:
        for a, b in SCHEDULE.get(DAYS[(day + 3) % 7], []):
            lo = max(start, day * 86400 + int(a[:2]) * 3600 + int(a[3:]) * 60)
            hi = day * 86400 + int(b[:2]) * 3600 + int(b[3:]) * 60
            if hi <= lo:
                continue
            if hi - lo >= seconds:
                return lo + seconds
            seconds -= hi - lo
        day += 1


def check(got: dict[str, Any], m: Model, cast: Cast, history: list[Any]) -> None:
    where = f"after {history}"
    assert got["state"] == m.state, where
    assert got["open"] == (m.state != "closed"), where
    assert got["snoozed_until"] == m.snoozed_until, where
    assert got["waiting_since"] == m.waiting_since, where
    assert got["read"] == m.read, where
    assert got["admin_assignee_id"] == m.admin, where
    assert got["team_assignee_id"] == m.team, where
    assert [t["id"] for t in got["teammates"]["admins"]] == [str(t) for t in m.teammates], where
    assert got["updated_at"] == m.updated_at, where
    assert [c["id"] for c in got["contacts"]["contacts"]] == m.contacts, where
    if m.first_contact_reply_at is None:
        assert got["first_contact_reply"] is None, where
    else:
        assert got["first_contact_reply"]["created_at"] == m.first_contact_reply_at, where
    parts = got["conversation_parts"]["conversation_parts"]
    assert got["conversation_parts"]["total_count"] == len(m.parts), where
    shown = [(p["part_type"], (p["author"]["type"], p["author"]["id"]), p["assigned_to"],
              p["state"], p["redacted"]) for p in parts]  # fmt: skip
    wanted = [(p["part_type"], p["author"], p["assigned_to"], p["state"], p["redacted"])
              for p in m.parts]  # fmt: skip
    assert shown == wanted, where
    assert got["sla_applied"] == {
        "type": "conversation_sla_summary",
        "sla_name": "Hours" if m.hours else "Gold",
        "sla_status": m.sla_status(),
    }, where
    stats = {k: v for k, v in got["statistics"].items() if k != "type"}
    wanted_stats = m.statistics()
    wanted_stats.setdefault("assigned_team_first_response_time", [])
    wanted_stats.setdefault("assigned_team_first_response_time_in_office_hours", [])
    # the SDKs' (Preview) name for the wall-clock list, sent as well (docs/behaviour.md)
    wanted_stats["assigned_team_first_response_time_by_team"] = wanted_stats[
        "assigned_team_first_response_time"
    ]
    assert stats == wanted_stats, where


ACTIONS = st.one_of(
    st.tuples(st.just("wait"), st.sampled_from([0, 1, 30, 600, 4000, 20000, 90000])),
    st.tuples(st.just("contact"), st.sampled_from(["user", "lead"])),
    st.tuples(st.just("reply"), st.integers(0, 1)),
    st.tuples(st.just("note"), st.integers(0, 1)),
    st.tuples(st.just("close"), st.integers(0, 1)),
    st.tuples(st.just("open"), st.integers(0, 1)),
    st.tuples(st.just("snooze"), st.integers(0, 1), st.sampled_from([60, 600, 3600])),
    st.tuples(
        st.just("assign"),
        st.integers(0, 1),
        st.sampled_from(["a0", "a1", "team", "team2", "nobody", "noteam"]),
    ),
    st.tuples(st.just("attach"), st.integers(0, 1)),
    st.tuples(st.just("detach"), st.integers(0, 1)),
    st.tuples(st.just("redact")),
    st.tuples(st.just("read")),
    st.tuples(st.just("breply"), st.integers(0, 1), st.sampled_from([1, 100, 5000])),
    st.tuples(st.just("bcontact"), st.sampled_from([1, 100, 5000])),
    st.tuples(st.just("quick"), st.integers(0, 1)),
    st.tuples(st.just("redact_source")),
    st.tuples(st.just("rewind"), st.sampled_from([1, 50, 3000])),
    st.tuples(
        st.just("attr"), st.sampled_from(["a", "b"]), st.sampled_from([None, 1, "x"]), st.booleans()
    ),
    st.tuples(st.just("tag")),
    st.tuples(st.just("untag")),
    st.tuples(st.just("priority"), st.sampled_from(["priority", "not_priority"])),
)


async def replay(
    cast: Cast,
    start: str,
    actions: list[tuple[Any, ...]],
    hours: bool = False,
    legacy: bool = False,
) -> None:
    api, clock = cast.api, cast.clock

    async def ok(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await api.request(method, path, json=body)
        assert response.status_code == 200, (method, path, body, response.text)
        result: dict[str, Any] = response.json()
        return result

    await ok("POST", "/_parley/clock", {"advance": 1000})
    if hours:
        await ok("PUT", "/_parley/office_hours", {"time_zone": "UTC", "schedule": SCHEDULE})
    else:
        await api.delete("/_parley/office_hours")
    now = clock.now()
    if start == "contact":
        started = await ok(
            "POST", "/conversations", {"from": {"type": "user", "id": cast.user}, "body": "Hi"}
        )
        cid = str(started["conversation_id"])
        m = Model(now, False, waiting_since=now, first_contact_reply_at=now, updated_at=now,
                  contacts=[cast.user], log=[(now, "source", None, None, None)])  # fmt: skip
    else:
        message = await ok("POST", "/messages", {
            "message_type": "inapp", "body": "Hello", "from": {"type": "admin",
            "id": str(cast.admins[0])}, "to": {"type": "user", "id": cast.user},
            "create_conversation_without_contact_reply": start == "admin"})  # fmt: skip
        if start == "admin":
            cid = str(message["conversation_id"])
        else:
            async with cast.db.transaction(write=False) as tx:
                cid = str(await tx.fetch_val("SELECT max(id) FROM conversations"))
        m = Model(now, True, read=True, updated_at=now, contacts=[cast.user],
                  teammates=[cast.admins[0]])  # fmt: skip
    m.team_names = {cast.team: "Support", cast.team2: "Billing"}
    m.hours = hours
    m.visible = start != "hidden"
    if start != "contact":
        await ok(
            "POST",
            f"/_parley/conversations/{cid}/sla",
            {"sla_policy_id": cast.hours_policy if hours else cast.policy},
        )
        m.applied_at = now
    created = now
    history: list[Any] = [start]

    async def manage(payload: dict[str, Any]) -> dict[str, Any]:
        if not legacy:
            return await ok("POST", f"/conversations/{cid}/parts", payload)
        # 1.x: actions through /reply with `type: admin` (a team through /parts, `type: team`)
        path = "parts" if payload["type"] == "team" else "reply"
        response = await api.post(
            f"/conversations/{cid}/{path}", json=payload, headers={"Intercom-Version": "1.4"}
        )
        assert response.status_code == 200, (payload, response.text)
        return await ok("GET", f"/conversations/{cid}")

    async def topics() -> list[str]:
        async with cast.db.transaction(write=False) as tx:
            return [
                r["topic"]
                for r in await outbox.pending(tx, cast.workspace_id)
                if f'"conversation_id":"{cid}"' in r["payload"]
            ]

    for action in actions:
        history.append(action)
        kind = action[0]
        now = clock.now()
        got: dict[str, Any] | None = None
        seen = len(await topics())
        expected: list[str] = []
        if kind == "wait":
            await ok("POST", "/_parley/clock", {"advance": action[1]})
            now = clock.now()
            if m.state == "snoozed" and m.snoozed_until is not None and m.snoozed_until <= now:
                until = m.snoozed_until
                m.state, m.snoozed_until, m.updated_at = "open", None, now
                m.part("open", ("bot", str(cast.bot)), body=False)
                expected.append("conversation.admin.unsnoozed")
                m.log.append((until, "open", cast.bot, None, None))
            got = await ok("GET", f"/conversations/{cid}")
        elif kind == "rewind":
            await ok("POST", "/_parley/clock", {"now": now - action[1]})
            got = await ok("GET", f"/conversations/{cid}")
        elif kind in {"contact", "bcontact"}:
            role = "user" if kind == "bcontact" else action[1]
            who = cast.user if role == "user" else cast.lead
            if who not in m.contacts:
                continue
            at = now if kind == "contact" else max(created, now - action[1])
            got = await ok(
                "POST",
                f"/conversations/{cid}/reply",
                {
                    "message_type": "comment",
                    "type": role,
                    "intercom_user_id": who,
                    "body": "help",
                    **({"created_at": at} if kind == "bcontact" else {}),
                },
            )
            part_type = "open" if m.state == "closed" else "comment"
            expected.append(
                "conversation.user.created" if not m.visible else "conversation.user.replied"
            )
            m.visible = True
            if m.first_contact_reply_at is None:
                m.first_contact_reply_at = at
            m.state, m.snoozed_until, m.read, m.updated_at = "open", None, False, now
            if m.waiting_since is None:
                m.waiting_since = at
            m.part(part_type, (role, who), body=True)
            m.log.append((at, "contact", None, None, None))
        elif kind in {"reply", "note", "breply", "quick"}:
            admin = cast.admins[action[1]]
            at = now if kind != "breply" else max(created, now - action[2])
            reply: dict[str, Any] = {
                "message_type": {"note": "note", "quick": "quick_reply"}.get(kind, "comment"),
                "type": "admin", "admin_id": str(admin), "body": "ok"}  # fmt: skip
            if kind == "breply":
                reply["created_at"] = at
            if kind == "quick":
                reply["reply_options"] = [{"text": "Yes", "uuid": "u-1"}]
            got = await ok("POST", f"/conversations/{cid}/reply", reply)
            m.updated_at = now
            if kind != "note":
                m.waiting_since = None
                expected.append("conversation.admin.replied")
                if m.state == "snoozed" and m.admin != admin:
                    m.state, m.snoozed_until = "open", None
                    expected.append("conversation.admin.unsnoozed")
                m.part(
                    "quick_reply" if kind == "quick" else "comment",
                    ("admin", str(admin)),
                    body=True,
                )
                m.log.append((at, "reply", admin, None, None))
            else:
                m.part("note", ("admin", str(admin)), body=True)
                expected.append("conversation.admin.noted")
                m.log.append((now, "note", admin, None, None))
        elif kind in {"close", "open", "snooze"}:
            admin = cast.admins[action[1]]
            payload: dict[str, Any] = {
                "admin_id": str(admin),
                "type": "admin",
                "message_type": "snoozed" if kind == "snooze" else kind,
            }
            if kind == "snooze":
                payload["snoozed_until"] = now + action[2]
            got = await manage(payload)
            if kind == "open" and m.state == "open":
                pass  # a no-op
            else:
                m.updated_at = now
                expected.append(
                    {
                        "close": "conversation.admin.closed",
                        "snooze": "conversation.admin.snoozed",
                    }.get(
                        kind,
                        (
                            "conversation.admin.unsnoozed"
                            if m.state == "snoozed"
                            else "conversation.admin.opened"
                        ),
                    )
                )
                if kind == "close":
                    m.state, m.snoozed_until, m.waiting_since = "closed", None, None
                elif kind == "open":
                    m.state, m.snoozed_until = "open", None
                else:
                    m.state, m.snoozed_until = "snoozed", now + action[2]
                m.part("snoozed" if kind == "snooze" else kind, ("admin", str(admin)),
                       body=False)  # fmt: skip
                m.log.append((now, kind, admin, None, None))
        elif kind == "assign":
            admin = cast.admins[action[1]]
            target = action[2]
            side = "team" if target in {"team", "team2", "noteam"} else "admin"
            assignee = {"a0": cast.admins[0], "a1": cast.admins[1], "team": cast.team,
                        "team2": cast.team2, "nobody": 0, "noteam": 0}[target]  # fmt: skip
            got = await manage({
                "message_type": "assignment", "type": side, "admin_id": str(admin),
                "assignee_id": str(assignee)})  # fmt: skip
            part_type = "assignment" if m.state == "open" else "assign_and_reopen"
            expected.append("conversation.admin.assigned")
            if m.state == "open":
                expected.append("conversation.admin.open.assigned")
            m.state, m.snoozed_until, m.updated_at = "open", None, now
            if side == "admin":
                m.admin = assignee or None
            else:
                m.team = assignee or None
            assigned_to = ({"type": side, "id": str(assignee)} if assignee
                           else {"type": "nobody_admin", "id": None})  # fmt: skip
            m.part(part_type, ("admin", str(admin)), body=False, assigned_to=assigned_to)
            m.log.append((now, "assign" if assignee else "unassign", admin, side,
                          assignee or None))  # fmt: skip
        elif kind == "attach":
            admin = cast.admins[action[1]]
            got = await ok(
                "POST",
                f"/conversations/{cid}/customers",
                {"admin_id": str(admin), "customer": {"intercom_user_id": cast.lead}},
            )
            if cast.lead not in m.contacts:
                m.contacts.append(cast.lead)
                m.updated_at = now
                m.event_part("participant_added", ("admin", admin), now)
                expected.append("conversation.contact.attached")
        elif kind == "detach":
            admin = cast.admins[action[1]]
            if cast.lead not in m.contacts:
                continue
            got = await ok(
                "DELETE", f"/conversations/{cid}/customers/{cast.lead}", {"admin_id": str(admin)}
            )
            m.contacts.remove(cast.lead)
            m.updated_at = now
            m.event_part("participant_removed", ("admin", admin), now)
            expected.append("conversation.contact.detached")
        elif kind == "redact":
            current = await ok("GET", f"/conversations/{cid}")
            parts = current["conversation_parts"]["conversation_parts"]
            with_body = [i for i, p in enumerate(m.parts) if p["body"]]
            if not with_body:
                continue
            index = with_body[-1]
            got = await ok("POST", "/conversations/redact", {
                "type": "conversation_part", "conversation_id": cid,
                "conversation_part_id": parts[index]["id"]})  # fmt: skip
            m.parts[index]["redacted"] = True
            expected.append("conversation_part.redacted")
            m.updated_at = now
        elif kind == "redact_source":
            if start != "contact":
                continue
            current = await ok("GET", f"/conversations/{cid}")
            got = await ok("POST", "/conversations/redact", {
                "type": "source", "conversation_id": cid,
                "source_id": current["source"]["id"]})  # fmt: skip
            assert got["source"]["redacted"] is True
            expected.append("conversation_part.redacted")
            m.updated_at = now
        elif kind == "attr":
            _, name, value, with_read = action
            body: dict[str, Any] = {"custom_attributes": {name: value}}
            if with_read:
                body["read"] = True
            got = await ok("PUT", f"/conversations/{cid}", body)
            changed = (name in m.attrs) if value is None else m.attrs.get(name, object()) != value
            if changed:
                if value is None:
                    del m.attrs[name]
                else:
                    m.attrs[name] = value
                m.event_part("conversation_attribute_updated_by_admin", ("bot", cast.bot), now)
            if with_read:
                m.read = True
            m.updated_at = now  # custom_attributes was sent
            assert got["custom_attributes"] == m.attrs, history
        elif kind in {"tag", "untag"}:
            if kind == "tag":
                await ok(
                    "POST",
                    f"/conversations/{cid}/tags",
                    {"id": str(cast.tag), "admin_id": str(cast.admins[0])},
                )
                if not m.tagged:
                    m.tagged, m.updated_at = True, now
                    expected.append("conversation_part.tag.created")
            else:
                untagged = await api.request(
                    "DELETE",
                    f"/conversations/{cid}/tags/{cast.tag}",
                    json={"admin_id": str(cast.admins[0])},
                )
                assert untagged.status_code == (200 if m.tagged else 404), untagged.text
                if m.tagged:
                    m.tagged, m.updated_at = False, now
            got = await ok("GET", f"/conversations/{cid}")
        elif kind == "priority":
            got = await ok("PUT", f"/conversations/{cid}", {"priority": action[1]})
            if action[1] != m.priority:
                m.priority, m.updated_at = action[1], now
                # a part by the bot (this request names no admin) and its webhook topic
                m.event_part("priority_changed", ("bot", cast.bot), now)
                expected.append("conversation.priority.updated")
            assert got["priority"] == action[1]
        elif kind == "read":
            got = await ok("PUT", f"/conversations/{cid}", {"read": True})
            m.read, m.updated_at = True, now
        assert got is not None
        assert (await topics())[seen:] == expected, history
        check(got, m, cast, history)
        full = await ok("GET", f"/conversations/{cid}")
        check(full, m, cast, history)
        del full["conversation_parts"]
        listed = (await ok("GET", "/conversations?per_page=1"))["conversations"]
        found = await ok(
            "POST",
            "/conversations/search",
            {"query": {"field": "id", "operator": "=", "value": cid}},
        )
        if m.visible:
            assert listed[0] == full, history
            assert found["conversations"] == [full], history
        else:
            assert cid not in [c["id"] for c in listed], history
            assert found["conversations"] == [], history
        v1 = (await api.get(f"/conversations/{cid}", headers={"Intercom-Version": "1.4"})).json()
        assert v1["waiting_since"] == (
            64654125776 if m.waiting_since is None else m.waiting_since
        ), history
        assert v1["assignee"] == (
            {"type": "admin", "id": str(m.admin)}
            if m.admin is not None
            else {"type": "team", "id": str(m.team)}
            if m.team is not None
            else {"type": "nobody_admin", "id": None}
        ), history
        assert (v1["open"], v1["state"], v1["read"]) == (m.state != "closed", m.state, m.read), (
            history
        )
        new = (await api.get(f"/conversations/{cid}", headers={"Intercom-Version": "2.16"})).json()
        assert (new["admin_assignee_id"], new["team_assignee_id"]) == (m.admin or 0, m.team or 0), (
            history
        )


@pytest.fixture
async def cast(
    tapi: ValidatingClient,  # noqa: F811
    db: Database,
    controlled: ControlledClock,  # noqa: F811
    clock: FrozenClock,
    ids: IdFactory,
    workspace: CreatedWorkspace,
) -> Cast:
    """Two admins, two teams, a tag, a user and a lead, and two SLA policies: "Gold" (wall
    clock, applied to every conversation a contact starts) and "Hours" (office hours)."""
    ws = workspace
    other = await create_admin(db, ws, clock, name="Otto", email="otto@example.com")
    team = await create_team(db, ws, clock, name="Support")
    team2 = await create_team(db, ws, clock, name="Billing")
    tag = await create_tag(db, ws, clock, name="vip")
    targets = {"first_response_time": 120, "next_response_time": 300, "time_to_close": 3600}
    gold = await tapi.post(
        "/_parley/sla_policies",
        json={"name": "Gold", **targets, "apply_to_new_conversations": True},
    )
    hours = await tapi.post(
        "/_parley/sla_policies", json={"name": "Hours", **targets, "office_hours": True}
    )
    user = await create_contact(db, ws, ids, clock, email="u@example.com")
    lead = await create_contact(db, ws, ids, clock, role="lead", email="l@example.com")
    async with db.transaction(write=False) as tx:
        bot = int((await admins.bot(tx, ws.workspace_id))["id"])
    return Cast(tapi, controlled, [ws.owner_admin_id, other], bot, team, team2, tag,
                str(gold.json()["id"]), user, lead, db=db, workspace_id=ws.workspace_id,
                hours_policy=str(hours.json()["id"]))  # fmt: skip


# Examples and their length can be raised for a longer hunt:
# PARLEY_PROPERTY_EXAMPLES=1000 PARLEY_PROPERTY_ACTIONS=60.
@settings(
    max_examples=int(os.environ.get("PARLEY_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(start=st.sampled_from(["contact", "admin", "hidden"]),
       actions=st.lists(ACTIONS, max_size=int(os.environ.get("PARLEY_PROPERTY_ACTIONS", "25"))),
       hours=st.booleans(), offset=st.integers(0, 7 * 86400), legacy=st.booleans())  # fmt: skip
async def test_random_lifecycles_match_the_model(
    cast: Cast, start: str, actions: list[tuple[Any, ...]], hours: bool, offset: int,
    legacy: bool,
) -> None:  # fmt: skip
    """Each example is a new conversation in the same workspace, at a later time."""
    await cast.api.post("/_parley/clock", json={"advance": offset})
    if hours and start == "contact":
        start = "admin"  # the office-hours SLA is applied by hand, not on creation
    await replay(cast, start, actions, hours, legacy)
