"""The snooze timer: opens snoozed conversations whose `snoozed_until` has passed.

It runs inside every server process (started by the app's lifespan) and needs no requests to
arrive. Its state is the database itself — a conversation is due while it is `snoozed` with
`snoozed_until <= now` — so a restart loses nothing, and several processes on one database open
each conversation once: each due conversation is claimed in its own write transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite) and re-checked under the lock
(services.conversations.wake). The time is the app's clock, so a controlled clock drives it too:
the clock endpoints call `run_once` right after moving time.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter

from parley.db import admins
from parley.db import timekeeping as store
from parley.db.database import Database
from parley.kit.clock import Clock
from parley.kit.ids import IdFactory
from parley.services import conversations
from parley.services.context import Context

log = logging.getLogger("parley.timers")
BATCH = 100


async def run_once(
    db: Database, clock: Clock, ids: IdFactory, now: int | None = None
) -> Counter[str]:
    """Open every conversation due at `now` (the clock's reading by default), in every
    workspace; how many opened, by workspace."""
    at = clock.now() if now is None else now
    opened: Counter[str] = Counter()
    while True:
        # A background read: a scan every second must not keep the reading snapshot open.
        async with db.transaction(write=False, background=True) as tx:
            due = await store.due_snoozes(tx, at, BATCH)
        progressed = False
        for row in due:
            conversation_id, workspace_id = int(row["id"]), str(row["workspace_id"])
            async with db.transaction(write=True) as tx:
                if not await store.claim_snoozed(tx, conversation_id, at):
                    continue  # another process holds it, or it was opened meanwhile
                bot = await admins.bot(tx, workspace_id)
                ctx = Context(clock=clock, ids=ids, workspace_id=workspace_id,
                              admin_id=int(bot["id"]))  # fmt: skip
                if await conversations.wake(tx, ctx, conversation_id, now=at):
                    opened[workspace_id] += 1
                    progressed = True
        if len(due) < BATCH or not progressed:
            return opened


class Timer:
    """The background task: `run_once` every `interval` seconds, and at once when poked."""

    def __init__(self, db: Database, clock: Clock, ids: IdFactory, interval: float) -> None:
        self.db, self.clock, self.ids, self.interval = db, clock, ids, interval
        self._poke = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="parley-snooze-timer")

    def poke(self) -> None:
        self._poke.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _loop(self) -> None:
        log.debug("snooze timer started in process %s", os.getpid())
        while True:
            try:
                opened = await run_once(self.db, self.clock, self.ids)
                if opened:
                    log.info("snooze timer opened %d conversation(s)", opened.total())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("snooze timer failed; retrying")
            try:
                await asyncio.wait_for(self._poke.wait(), self.interval)
            except TimeoutError:
                pass
            self._poke.clear()
