"""POST /contacts/search: the contact fields, calendar-day dates, tags, custom attributes,
pagination and errors."""

from __future__ import annotations

from typing import Any

import pytest

from parley.db.database import Database
from parley.kit.clock import FrozenClock
from parley.services.workspaces import CreatedWorkspace
from tests.conftest import START, ValidatingClient
from tests.factories import SUPERSCRIPT_TWO, arabic_indic

DAY = 86_400
LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z


def eq(field: str, value: Any, operator: str = "=") -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


async def _create(api: ValidatingClient, **body: Any) -> str:
    response = await api.post("/contacts", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


@pytest.fixture
async def people(api: ValidatingClient, clock: FrozenClock) -> dict[str, str]:
    """ann (user, day 0), ben (lead, day 1, tagged), cat (user, day 2, archived: never found)."""
    ann = await _create(
        api, role="user", email="ann@acme.example", external_id="a-1", name="Ann Archer",
        custom_attributes={"score": 7.5, "beta": True, "plan": "pro"},
    )  # fmt: skip
    clock.advance(DAY)
    ben = await _create(api, role="lead", name="Ben", phone="+100", unsubscribed_from_emails=True)
    clock.advance(DAY)
    cat = await _create(api, role="user", email="cat@other.example")
    response = await api.post(f"/contacts/{cat}/archive")
    assert response.status_code == 200
    tag = await api.post("/tags", json={"name": "vip"})
    assert tag.status_code == 200, tag.text
    tagged = await api.post(f"/contacts/{ben}/tags", json={"id": tag.json()["id"]})
    assert tagged.status_code == 200, tagged.text
    return {ann: "ann", ben: "ben", "tag": tag.json()["id"]}


async def _names(api: ValidatingClient, people: dict[str, str], query: Any) -> list[str]:
    response = await api.post("/contacts/search", json={"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_count"] == len(body["data"])
    return [people[c["id"]] for c in body["data"]]


async def test_contact_fields(api: ValidatingClient, people: dict[str, str]) -> None:
    tag = people["tag"]
    cases: list[tuple[dict[str, Any], list[str]]] = [
        (eq("email", "ann@acme.example"), ["ann"]),
        (eq("email", ""), ["ben"]),  # no email renders as ""
        (eq("email", "acme", "~"), ["ann"]),
        (eq("email_domain", "acme.example"), ["ann"]),
        (eq("email_domain", "acme.example", "!="), ["ben"]),
        (eq("role", "lead"), ["ben"]),
        (eq("role", ["user", "lead"], "IN"), ["ben", "ann"]),
        (eq("name", "ann", "^"), ["ann"]),
        (eq("name", "Ben", "!="), ["ann"]),
        (eq("name", None), []),
        (eq("external_id", "a-1"), ["ann"]),
        (eq("phone", "+100"), ["ben"]),
        (eq("owner_id", None), ["ben", "ann"]),
        (eq("owner_id", 5, ">"), []),
        (eq("unsubscribed_from_emails", True), ["ben"]),
        (eq("has_hard_bounced", False), ["ben", "ann"]),
        (eq("tag_id", tag), ["ben"]),
        (eq("tag_id", int(tag)), ["ben"]),
        (eq("tag_id", tag, "!="), ["ann"]),
        (eq("segment_id", "1"), []),
        (eq("segment_id", "1", "!="), ["ben", "ann"]),
        (eq("browser", None), ["ben", "ann"]),
        (eq("location.city", "Paris"), []),
        (eq("custom_attributes.score", 7.5), ["ann"]),
        (eq("custom_attributes.score", 7, ">"), ["ann"]),
        (eq("custom_attributes.score", 7.5, ">"), []),  # contact bounds are strict
        (eq("custom_attributes.beta", True), ["ann"]),
        (eq("custom_attributes.beta", True, "!="), ["ben"]),
        (eq("custom_attributes.plan", "PR", "^"), ["ann"]),
        (eq("custom_attributes.plan", None), ["ben"]),
        (
            {"operator": "OR", "value": [eq("role", "lead"), eq("name", "Ann", "~")]},
            ["ben", "ann"],
        ),
        ({"operator": "AND", "value": [eq("role", "user"), eq("email", "cat", "^")]}, []),
    ]
    failures = []
    for query, expected in cases:
        got = await _names(api, people, query)
        if got != expected:
            failures.append(f"{query}: expected {expected}, got {got}")
    assert not failures, "\n".join(failures)


async def test_dates_match_by_calendar_day(api: ValidatingClient, people: dict[str, str]) -> None:
    # The test workspace's timezone is UTC; START is 22:13:20 on its day.
    day0 = START - START % DAY
    cases: list[tuple[dict[str, Any], list[str]]] = [
        (eq("created_at", day0 + 5), ["ann"]),  # any moment of the day
        (eq("created_at", str(day0 + DAY + 100)), ["ben"]),
        (eq("created_at", day0 + 10, ">"), ["ben"]),  # from the next day on
        (eq("created_at", day0 + DAY, "<"), ["ann"]),  # before the day
        (eq("last_email_opened_at", day0), []),
    ]
    for query, expected in cases:
        assert await _names(api, people, query) == expected, query


@pytest.mark.parametrize("timezone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"])
async def test_the_last_days_of_9999_are_days(
    api: ValidatingClient,
    db: Database,
    workspace: CreatedWorkspace,
    people: dict[str, str],
    timezone: str,
) -> None:
    """Python's dates end with 9999-12-31, which has no next midnight, and east of UTC its last
    hours are local 10000-01-01: those days are days too (no contact was created in them)."""
    async with db.transaction(write=True) as tx:
        await tx.execute(
            "UPDATE workspaces SET timezone = :tz WHERE id = :ws",
            {"tz": timezone, "ws": workspace.workspace_id},
        )
    for moment in (LAST_SECOND, LAST_SECOND - 12 * 3600, LAST_SECOND - DAY):
        assert await _names(api, people, eq("created_at", moment)) == []
        assert await _names(api, people, eq("created_at", moment, ">")) == []
        assert await _names(api, people, eq("created_at", moment, "<")) == ["ben", "ann"]


async def test_pagination_defaults_to_50_and_walks(
    api: ValidatingClient, people: dict[str, str]
) -> None:
    response = await api.post("/contacts/search", json={"query": eq("role", "lead", "!=")})
    assert response.json()["pages"]["per_page"] == 50
    first = await api.post(
        "/contacts/search",
        json={"query": eq("id", "", "~"), "pagination": {"per_page": 1}},
    )
    body = first.json()
    assert body["total_count"] == 2
    assert body["pages"]["total_pages"] == 2
    assert [people[c["id"]] for c in body["data"]] == ["ben"]
    after = body["pages"]["next"]["starting_after"]
    second = await api.post(
        "/contacts/search",
        json={"query": eq("id", "", "~"), "pagination": {"per_page": 1, "starting_after": after}},
    )
    body = second.json()
    assert [people[c["id"]] for c in body["data"]] == ["ann"]
    assert body["pages"]["page"] == 2
    assert "next" not in body["pages"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (eq("created_at", 1, "!="), "query.operator", "!= is not valid for created_at"),
        (eq("created_at", [1], "IN"), "query.operator", "IN is not valid"),
        (eq("created_at", 1, ">="), "query.operator", ">= is not valid"),
        (eq("tag_id", ["1"], "IN"), "query.operator", "IN is not valid for tag_id"),
        (eq("source.body", "x"), "query.field", "not a searchable contact field"),
        (eq("custom_attributes.a\x00", "x"), "query.field", "NUL"),
        (eq("name", "\x00nobody", "~"), "query.value", "NUL"),
        (eq("email", 5.5), "query.value", "must be a string"),
        (eq("unsubscribed_from_emails", 1), "query.value", "must be a boolean"),
        # A calendar day is one of years 1970-9999.
        (eq("created_at", LAST_SECOND + 1), "query.value", "must be a unix timestamp from 0"),
        (eq("created_at", 2**62, ">"), "query.value", "must be a unix timestamp from 0"),
        (eq("updated_at", str(LAST_SECOND + 1)), "query.value", "must be a unix timestamp"),
        (eq("signed_up_at", -1, "<"), "query.value", "must be a unix timestamp from 0"),
    ],
)
async def test_bad_contact_queries(
    api: ValidatingClient, query: dict[str, Any], field: str, message: str
) -> None:
    response = await api.post("/contacts/search", json={"query": query})
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["code"] == "parameter_invalid"
    assert error["field"] == field
    assert message in error["message"]


@pytest.mark.parametrize("per_page", [SUPERSCRIPT_TWO, arabic_indic(10)])
async def test_per_page_is_ascii_digits_only(api: ValidatingClient, per_page: str) -> None:
    body = {"query": eq("role", "user"), "pagination": {"per_page": per_page}}
    response = await api.post("/contacts/search", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["code"] == "parameter_invalid"
    assert error["field"] == "pagination.per_page"
