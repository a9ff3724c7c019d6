"""The one place Parley reads the time.

Everything that needs "now" receives a Clock; the composition root (CLI, app factory, tests)
decides which. Time is integer unix seconds throughout, because that is Intercom's wire format.
"""

from __future__ import annotations

import time
from typing import Protocol

# The last unix second Parley accepts or reaches (9999-12-31T23:59:59Z): the last that
# datetime, and so every rendering of a date, can show.
MAX_TIMESTAMP = 253_402_300_799


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


class ControlledClock:
    """A clock an operator can read, set, freeze and advance (`parley serve --controlled-clock`).

    Running, it follows `base` (the system clock) plus an offset, so time passes normally from
    wherever it was set; frozen, it stands still until set or advanced. The HTTP edge fires due
    timers right after every change (api/routes/parley_admin.py).
    """

    def __init__(self, base: Clock | None = None, *, start: int | None = None,
                 frozen: bool = False) -> None:  # fmt: skip
        self._base: Clock = base or SystemClock()
        self._offset = 0 if start is None else start - self._base.now()
        self._frozen_at: int | None = None
        if frozen:
            self._frozen_at = self._base.now() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> int:
        if self._frozen_at is not None:
            return self._frozen_at
        return self._base.now() + self._offset

    def set(self, value: int) -> None:
        if self._frozen_at is not None:
            self._frozen_at = value
        else:
            self._offset = value - self._base.now()

    def advance(self, seconds: int) -> None:
        self.set(self.now() + seconds)

    def freeze(self) -> None:
        self._frozen_at = self.now()

    def resume(self) -> None:
        """Run again from the current reading."""
        if self._frozen_at is not None:
            self._offset = self._frozen_at - self._base.now()
            self._frozen_at = None
