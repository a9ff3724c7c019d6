"""Admins, teams, auth and the version header."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from parley.api.app import create_app
from parley.config import Settings
from parley.db import teams
from parley.db.database import Database
from parley.kit.clock import FrozenClock
from parley.kit.ids import IdFactory
from parley.services import admins as admin_service
from parley.services.workspaces import CreatedWorkspace
from tests.conftest import ValidatingClient, make_client
from tests.factories import SUPERSCRIPT_TWO, arabic_indic


async def _team_with_owner(db: Database, clock: FrozenClock, ws: CreatedWorkspace) -> int:
    async with db.transaction(write=True) as tx:
        return await admin_service.create_team(
            tx, clock=clock, workspace_id=ws.workspace_id, name="Support",
            member_ids=[ws.owner_admin_id],
        )  # fmt: skip


async def test_me_identifies_the_token_admin_and_app(
    api: ValidatingClient, workspace: CreatedWorkspace
) -> None:
    response = await api.get("/me")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(workspace.owner_admin_id)
    assert body["email"] == "owner@example.com"
    assert body["app"]["id_code"] == workspace.workspace_id
    assert body["avatar"] == {"type": "avatar", "image_url": None}


async def test_missing_or_unknown_token_is_401(anon: ValidatingClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = await anon.get("/me", headers=headers)
        assert response.status_code == 401
        body = response.json()
        assert body["type"] == "error.list"
        assert body["errors"] == [{"code": "unauthorized", "message": "Access Token Invalid"}]
        assert response.headers["x-request-id"] == body["request_id"]


async def test_a_long_unknown_token_is_401_and_not_remembered(
    anon: ValidatingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A header has no length limit (uvicorn takes megabytes): the hashes of the tokens in use
    are remembered, but remembering every token sent let a client without one pin hundreds of
    huge strings in the server's memory."""
    import hashlib
    import secrets

    hashed: list[int] = []
    sha256 = hashlib.sha256

    def counting(data: bytes = b"", **kwargs: Any) -> Any:
        hashed.append(len(data))
        return sha256(data, **kwargs)

    monkeypatch.setattr(hashlib, "sha256", counting)
    long_token = secrets.token_hex(50_000)
    short_token = secrets.token_hex(20)
    for _ in range(2):
        for token in (long_token, short_token):
            response = await anon.get("/me", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401
            assert response.json()["errors"][0]["code"] == "unauthorized"
    assert hashed.count(len(long_token)) == 2  # hashed each time: never kept
    assert hashed.count(len(short_token)) == 1  # a token of usual length is remembered


async def test_two_authorization_headers_are_401_whichever_comes_first(
    anon: ValidatingClient, workspace: CreatedWorkspace, other_workspace_token: Any
) -> None:
    """Authorization is a singleton field. A proxy (or Starlette) reads the first of two, the
    API read the last and /_parley/clock the first: the same request acted as one workspace
    here and as another there. Two credentials are none."""
    other = await other_workspace_token()
    mine, theirs = f"Bearer {workspace.token}", f"Bearer {other.token}"
    for first, second in ((mine, "Bearer nope"), ("Bearer nope", mine), (mine, theirs)):
        for path in ("/me", "/_parley/clock"):
            request = anon.build_request(
                "GET", path, headers=[("Authorization", first), ("Authorization", second)]
            )
            assert request.headers.get_list("authorization") == [first, second]
            response = await anon.send(request)
            assert response.status_code == 401, (path, first, second)
            assert response.json()["errors"][0]["code"] == "unauthorized"
    assert (await anon.get("/me", headers={"Authorization": mine})).status_code == 200


async def test_unknown_version_is_400_and_every_known_one_is_accepted(
    api: ValidatingClient,
) -> None:
    response = await api.get("/me", headers={"Intercom-Version": "3.0"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "intercom_version_invalid"
    for version in ("1.0", "1.4", "2.0", "2.11", "2.14", "2.15", "2.16"):
        assert (await api.get("/me", headers={"Intercom-Version": version})).status_code == 200


async def test_list_admins_excludes_the_bot_and_shows_avatars_only_on_request(
    api: ValidatingClient, workspace: CreatedWorkspace, db: Database, clock: FrozenClock
) -> None:
    team_id = await _team_with_owner(db, clock, workspace)
    body = (await api.get("/admins")).json()
    assert body["type"] == "admin.list"
    assert [a["id"] for a in body["admins"]] == [str(workspace.owner_admin_id)]
    assert body["admins"][0]["team_ids"] == [team_id]
    assert "avatar" not in body["admins"][0]
    body = (await api.get("/admins", params={"display_avatar": "true"})).json()
    assert body["admins"][0]["avatar"] is None


async def test_retrieve_admin_and_404s(api: ValidatingClient, workspace: CreatedWorkspace) -> None:
    ok = await api.get(f"/admins/{workspace.owner_admin_id}")
    assert ok.status_code == 200
    assert ok.json()["name"] == "Olivia Owner"
    # Only ASCII 0-9 are digits: "²" is no number and the owner's id in Arabic-Indic digits
    # names no admin.
    for bad in ("999999", "abc", SUPERSCRIPT_TWO, arabic_indic(workspace.owner_admin_id)):
        missing = await api.get(f"/admins/{bad}")
        assert missing.status_code == 404
        assert missing.json()["errors"][0] == {
            "code": "admin_not_found",
            "message": "Admin not found",
        }


async def test_set_away(api: ValidatingClient, workspace: CreatedWorkspace) -> None:
    path = f"/admins/{workspace.owner_admin_id}/away"
    response = await api.put(path, json={"away_mode_enabled": True, "away_mode_reassign": True})
    assert response.status_code == 200
    assert response.json()["away_mode_enabled"] is True
    assert response.json()["away_mode_reassign"] is True
    bad = await api.put(path, json={"away_mode_enabled": "yes", "away_mode_reassign": False})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "away_mode_enabled"
    missing = await api.put(path, json={"away_mode_enabled": True})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "away_mode_reassign"
    # away_status_reason_id is stored as sent: one no 64-bit column holds is refused.
    too_large = await api.put(
        path,
        json={"away_mode_enabled": False, "away_mode_reassign": False,
              "away_status_reason_id": 2**63},
    )  # fmt: skip
    assert too_large.status_code == 400
    assert too_large.json()["errors"][0]["field"] == "away_status_reason_id"
    assert (await api.get(f"/admins/{workspace.owner_admin_id}")).json()["away_mode_enabled"]


async def test_malformed_json_is_400_and_changes_nothing(
    api: ValidatingClient, workspace: CreatedWorkspace
) -> None:
    path = f"/admins/{workspace.owner_admin_id}/away"
    response = await api.put(
        path, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parameter_invalid"
    assert (await api.get(f"/admins/{workspace.owner_admin_id}")).json()[
        "away_mode_enabled"
    ] is False


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
async def test_a_body_past_the_limit_is_413_and_changes_nothing(
    db: Database, clock: FrozenClock, ids: IdFactory, workspace: CreatedWorkspace, declared: bool
) -> None:
    """A body is read into memory whole, so its size is bounded (PARLEY_MAX_BODY_BYTES): past
    the limit it is refused, by its Content-Length before any of it is read, or as it streams
    in when it declares none."""
    app = create_app(Settings(max_body_bytes=1000), db=db, clock=clock, ids=ids)
    path = f"/admins/{workspace.owner_admin_id}/away"
    payload = orjson.dumps({"away_mode_enabled": True, "away_mode_reassign": False,
                            "padding": "x" * 2000})  # fmt: skip

    async def streamed() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 256):
            yield payload[start : start + 256]

    async with make_client(app, workspace.token) as api:
        response = await api.put(
            path, content=payload if declared else streamed(),
            headers={"content-type": "application/json"},
        )  # fmt: skip
        assert response.status_code == 413, response.text
        error = response.json()["errors"][0]
        assert error["code"] == "parameter_invalid"
        assert error["message"] == "The request body is larger than 1000 bytes"
        admin = (await api.get(f"/admins/{workspace.owner_admin_id}")).json()
        assert admin["away_mode_enabled"] is False
        small = await api.put(path, json={"away_mode_enabled": True, "away_mode_reassign": False})
        assert small.status_code == 200, small.text


async def test_teams(
    api: ValidatingClient, workspace: CreatedWorkspace, db: Database, clock: FrozenClock
) -> None:
    team_id = await _team_with_owner(db, clock, workspace)
    listing = (await api.get("/teams")).json()
    assert listing["type"] == "team.list"
    assert listing["teams"][0]["admin_ids"] == [workspace.owner_admin_id]
    one = (await api.get(f"/teams/{team_id}")).json()
    assert one["name"] == "Support"
    for bad in ("424242", SUPERSCRIPT_TWO, arabic_indic(team_id)):
        missing = await api.get(f"/teams/{bad}")
        assert missing.status_code == 404
        assert missing.json()["errors"][0]["code"] == "team_not_found"


async def test_workspaces_are_isolated(
    api: ValidatingClient, workspace: CreatedWorkspace, other_workspace_token: Any, db: Database,
    clock: FrozenClock,
) -> None:  # fmt: skip
    other = await other_workspace_token()
    team_id = await _team_with_owner(db, clock, workspace)
    assert (await api.get(f"/admins/{other.owner_admin_id}")).status_code == 404
    async with db.transaction() as tx:
        assert await teams.get(tx, other.workspace_id, team_id) is None


async def test_unknown_route_and_method_use_error_list(api: ValidatingClient) -> None:
    # Not validated against an operation (there is none), but still an error.list.
    response = await api.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    response = await api.delete("/me")
    assert response.status_code == 405
    assert response.json()["type"] == "error.list"
    # A trailing slash is another path (no redirect, which would have no error.list body).
    response = await api.get("/me/")
    assert response.status_code == 404
    assert response.json()["type"] == "error.list"
