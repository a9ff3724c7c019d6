"""Office hours: a weekly schedule in a time zone, and time measured inside it.

Intercom subtracts the time outside office hours from some durations (time to first admin reply,
to first/last close, the median time to reply) and runs SLA timers on office hours when the SLA
says so. A workspace without a schedule is always in office hours: durations are wall-clock.
Pure: no clock, no I/O. Local times are resolved with zoneinfo, so DST days are 23 or 25 hours.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])$")  # ASCII: \d matches other digits
# Scanning stops after this many days (a schedule with no interval is never open).
_HORIZON_DAYS = 3660


class ScheduleError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class OfficeHours:
    time_zone: str
    # (weekday 0=Monday, start minute, end minute), end exclusive, end <= 1440
    intervals: tuple[tuple[int, int, int], ...]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    # ------------------------------------------------------------------ wire form

    @classmethod
    def parse(cls, time_zone: str, schedule: dict[str, Any]) -> OfficeHours:
        """From `{"monday": [["09:00", "17:00"], ...], ...}`; days left out are closed."""
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(f"unknown time zone {time_zone!r}", "time_zone") from None
        intervals: list[tuple[int, int, int]] = []
        for day, spans in schedule.items():
            if day not in DAYS:
                raise ScheduleError(f"unknown day {day!r}; use {', '.join(DAYS)}", "schedule")
            if not isinstance(spans, list):
                raise ScheduleError(f"{day} must be a list of [start, end]", f"schedule.{day}")
            for span in spans:
                if (
                    not isinstance(span, list)
                    or len(span) != 2
                    or not all(isinstance(v, str) for v in span)
                ):
                    raise ScheduleError(
                        f'{day}: each interval is ["HH:MM", "HH:MM"]', f"schedule.{day}"
                    )
                start, end = _minutes(span[0], day), _minutes(span[1], day)
                if start >= end:
                    raise ScheduleError(
                        f"{day}: {span[0]} is not before {span[1]}", f"schedule.{day}"
                    )
                intervals.append((DAYS.index(day), start, end))
        intervals.sort()
        for a, b in itertools.pairwise(intervals):
            if a[0] == b[0] and b[1] < a[2]:
                raise ScheduleError(f"{DAYS[a[0]]}: intervals overlap", f"schedule.{DAYS[a[0]]}")
        return cls(time_zone, tuple(intervals))

    def schedule(self) -> dict[str, list[list[str]]]:
        out: dict[str, list[list[str]]] = {day: [] for day in DAYS}
        for weekday, start, end in self.intervals:
            out[DAYS[weekday]].append([_hhmm(start), _hhmm(end)])
        return out

    def to_json(self) -> dict[str, Any]:
        return {"time_zone": self.time_zone, "intervals": [list(i) for i in self.intervals]}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> OfficeHours:
        return cls(
            value["time_zone"], tuple((int(d), int(s), int(e)) for d, s, e in value["intervals"])
        )

    # ------------------------------------------------------------------ measuring

    def _spans(self, first: date, last: date) -> list[tuple[int, int]]:
        """The open spans (unix seconds) of the local days first..last, in order."""
        zone = self.zone
        spans: list[tuple[int, int]] = []
        day = first
        while day <= last:
            weekday = day.weekday()
            for wd, start, end in self.intervals:
                if wd != weekday:
                    continue
                a = _local_seconds(day, start, zone)
                b = _local_seconds(day, end, zone)
                if b > a:
                    spans.append((a, b))
            if day == date.max:
                break  # 9999-12-31: no later day exists
            day += timedelta(days=1)
        return spans

    def is_open(self, at: int) -> bool:
        return self.seconds_between(at, at + 1) == 1

    def seconds_between(self, start: int, end: int) -> int:
        """Seconds of [start, end) that fall inside office hours.

        Day by day within the first and the last local year; the whole years between come from
        `_year_total` (a reply may be dated anywhere from 1970 to 9999: walked day by day, that
        was seconds of the event loop per call). A span never crosses a local midnight, so the
        whole years' spans all lie inside [start, end) and need no clipping."""
        if end <= start:
            return 0
        zone = self.zone
        first = _local_date(start, zone)
        last = _local_date(end, zone)
        if last.year - first.year < 2:
            return _clipped(self._spans(first - timedelta(days=1), last), start, end)
        head = self._spans(first - timedelta(days=1), date(first.year, 12, 31))
        tail = self._spans(date(last.year, 1, 1), last)
        years = sum(
            _year_total(self, _cycle_year(year)) for year in range(first.year + 1, last.year)
        )
        return _clipped(head, start, end) + years + _clipped(tail, start, end)

    def add(self, start: int, seconds: int) -> int | None:
        """The moment `seconds` of office time have passed since `start` (None: never)."""
        if seconds <= 0:
            return start
        zone = self.zone
        day = _local_date(start, zone) - timedelta(days=1)
        remaining = seconds
        for _ in range(_HORIZON_DAYS // 7 + 1):
            last = date.max if date.max - day < timedelta(days=6) else day + timedelta(days=6)
            for a, b in self._spans(day, last):
                a = max(a, start)
                if b <= a:
                    continue
                if b - a >= remaining:
                    return a + remaining
                remaining -= b - a
            if last == date.max:
                return None  # the calendar ends before the time has passed
            day += timedelta(days=7)
        return None


def _clipped(spans: list[tuple[int, int]], start: int, end: int) -> int:
    return sum(max(0, min(b, end) - max(a, start)) for a, b in spans)


# From this year on, every zone's years repeat every 400 (the Gregorian calendar's cycle):
# tzdata lists explicit transitions at most into the 2080s (Africa/Casablanca's), and after its
# last one a zone follows a yearly rule whose dates depend only on the year's calendar.
_CYCLE_FROM = 2100
_CYCLE_YEARS = 400


def _cycle_year(year: int) -> int:
    """A year whose office time equals `year`'s: itself before _CYCLE_FROM, else its twin in
    the first cycle."""
    return year if year < _CYCLE_FROM else _CYCLE_FROM + (year - _CYCLE_FROM) % _CYCLE_YEARS


@functools.lru_cache(maxsize=8192)
def _year_total(hours: OfficeHours, year: int) -> int:
    """The office seconds of the local days of `year` (at most ~530 distinct years a schedule)."""
    return sum(b - a for a, b in hours._spans(date(year, 1, 1), date(year, 12, 31)))


def duration(hours: OfficeHours | None, start: int, end: int) -> int:
    """Wall-clock seconds, or office-hours seconds when a schedule is given."""
    if hours is None:
        return max(0, end - start)
    return hours.seconds_between(start, end)


def deadline(hours: OfficeHours | None, start: int, seconds: int) -> int | None:
    if hours is None:
        return start + seconds
    return hours.add(start, seconds)


def _minutes(text: str, day: str) -> int:
    match = _HHMM.match(text)
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise ScheduleError(f"{day}: {text!r} is not a time HH:MM (00:00-24:00)", f"schedule.{day}")
    return int(match.group(1)) * 60 + int(match.group(2))


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _local_date(at: int, zone: ZoneInfo) -> date:
    """The local date of the moment `at`. Timestamps go up to 9999-12-31T23:59:59Z, which east
    of UTC is already in the year 10000, past `date.max`: the calendar stops at its last day
    (the hours after it count as closed) instead of raising OverflowError (a 500)."""
    try:
        return datetime.fromtimestamp(at, zone).date()
    except (OverflowError, ValueError):
        return date.max


def _local_seconds(day: date, minutes: int, zone: ZoneInfo) -> int:
    """_local as unix seconds; the midnight ending 9999-12-31 is past datetime's range."""
    if minutes >= 1440 and day == date.max:
        return int(_local(day, 0, zone).timestamp()) + 86400
    return int(_local(day, minutes, zone).timestamp())


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """Local wall time `minutes` after the day's midnight; 24:00 is the next midnight."""
    if minutes >= 1440:
        nxt = day + timedelta(days=1)
        return datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=zone)
