"""Access tokens, stored as SHA-256 hashes."""

from __future__ import annotations

import functools
import hashlib

from parley.db.database import Row, Transaction

# The longest token whose hash is remembered. The cache holds its keys, and a request's
# Authorization header has no length limit (uvicorn took a 32 MB one): remembering every
# token sent let anyone without a token pin 256 of them, gigabytes, in the server's memory.
# Generated tokens have 44 characters; a longer one is hashed again on each request.
REMEMBERED_TOKEN_LENGTH = 256


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_remembered = functools.lru_cache(maxsize=256)(_sha256)


def hash_token(token: str) -> str:
    # Remembered for the tokens in use: every request hashes its token.
    if len(token) > REMEMBERED_TOKEN_LENGTH:
        return _sha256(token)
    return _remembered(token)


def hint_of(token: str) -> str:
    """What `parley tokens list` shows of a token so that its owner can tell it apart: at most
    its first 8 characters and at most a quarter of it (`prl_` and 4 random characters of a
    generated token; nothing of a short token chosen with --bootstrap-token, which a longer
    hint would give away, or nearly)."""
    return token[: min(8, len(token) // 4)]


async def insert(
    tx: Transaction, *, workspace_id: str, admin_id: int, name: str, token: str, now: int
) -> int:
    token_id = await tx.fetch_val(
        "INSERT INTO access_tokens (workspace_id, admin_id, name, token_hash, token_hint,"
        " created_at, revoked_at) VALUES (:ws, :admin, :name, :hash, :hint, :now, NULL)"
        " RETURNING id",
        {"ws": workspace_id, "admin": admin_id, "name": name, "hash": hash_token(token),
         "hint": hint_of(token), "now": now},
    )  # fmt: skip
    return int(token_id)


async def authenticate(tx: Transaction, token: str) -> Row | None:
    """The token's workspace and admin, or None for an unknown or revoked token."""
    return await tx.fetch_one_memo(
        "SELECT t.id AS token_id, t.workspace_id, t.admin_id, w.default_version"
        " FROM access_tokens t JOIN workspaces w ON w.id = t.workspace_id"
        " WHERE t.token_hash = :hash AND t.revoked_at IS NULL",
        {"hash": hash_token(token)},
    )


async def list_all(tx: Transaction, workspace_id: str | None = None) -> list[Row]:
    select = (
        "SELECT t.*, a.email AS admin_email FROM access_tokens t JOIN admins a ON a.id = t.admin_id"
    )
    if workspace_id is None:
        return await tx.fetch_all(select + " ORDER BY t.id")
    return await tx.fetch_all(
        select + " WHERE t.workspace_id = :ws ORDER BY t.id", {"ws": workspace_id}
    )


async def revoke(tx: Transaction, token_id: int, now: int) -> int:
    return await tx.execute(
        "UPDATE access_tokens SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL",
        {"now": now, "id": token_id},
    )
