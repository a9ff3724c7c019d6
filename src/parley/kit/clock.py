"""The one place Parley reads the time.

Everything that needs "now" receives a Clock; the composition root (CLI, app factory, tests)
decides which. Time is integer unix seconds throughout, because that is Intercom's wire format.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """Current time as unix seconds."""
        ...


class SystemClock:
    def now(self) -> int:
        return int(time.time())  # noqa: TID251 - the single sanctioned read of the system clock


class FrozenClock:
    """A clock that only moves when told to: for tests and for the controllable-clock mode."""

    def __init__(self, start: int) -> None:
        self._now = start

    def now(self) -> int:
        return self._now

    def set(self, value: int) -> None:
        self._now = value

    def advance(self, seconds: int) -> None:
        self._now += seconds
