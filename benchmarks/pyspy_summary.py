"""Summarise a py-spy `--format raw` profile (collapsed stacks) as text tables.

    python benchmarks/pyspy_summary.py benchmarks/results/<run>/profile-get.txt [--top 25]

Prints, as a share of all samples: time by the package of the innermost frame (where the CPU
was: `parley/db/database.py` is the SQLite C code its fetch_* methods call), the functions with
the most self time, and the functions with the most inclusive time (time under them,
counted once per sample). Line numbers are dropped so a function is one row.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r":\d+\)$")

# Innermost-frame buckets, checked in order: the first prefix that matches names the bucket.
BUCKETS = (
    ("parley/db/database.py", "parley db driver (SQL execution, sqlite3/asyncpg calls)"),
    ("parley/db/", "parley db (query functions)"),
    ("parley/render/", "parley render (row -> dict)"),
    ("parley/services/", "parley services"),
    ("parley/domain/", "parley domain rules"),
    ("parley/api/", "parley api edge (endpoint, routing, orjson)"),
    ("parley/kit/", "parley kit"),
    ("parley/", "parley (other)"),
    ("asyncpg/", "asyncpg"),
    ("pydantic", "pydantic"),
    ("starlette/", "starlette"),
    ("uvicorn/", "uvicorn"),
    ("httptools", "httptools"),
    ("asyncio/", "asyncio"),
    ("dataclasses.py", "dataclasses (replace)"),
)


# Leaf frames of threads that are waiting, not working. py-spy's idle detection misses a thread
# blocked in Event.wait(timeout) (e.g. Parley's WAL checkpointer between checkpoints).
IDLE_LEAVES = ("Condition.wait (threading.py)", "Event.wait (threading.py)")


@dataclass(frozen=True, slots=True)
class Summary:
    samples: int
    idle: int  # samples of waiting threads, left out of every table
    buckets: list[tuple[str, int]]
    self_time: list[tuple[str, int]]
    inclusive: list[tuple[str, int]]


def _frame_key(frame: str) -> str:
    return _LINE.sub(")", frame.strip())


def _bucket(frame: str) -> str:
    for prefix, name in BUCKETS:
        if prefix in frame:
            return name
    return "other: " + frame.split("(", 1)[-1].rstrip(")")


def summarise(text: str, *, top: int = 25) -> Summary:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    buckets: Counter[str] = Counter()
    total = idle = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_key(f) for f in stack.split(";") if f.strip()]
        if not frames:
            continue
        if frames[-1] in IDLE_LEAVES:
            idle += count
            continue
        total += count
        self_time[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        buckets[_bucket(frames[-1])] += count
    return Summary(
        total,
        idle,
        buckets.most_common(),
        self_time.most_common(top),
        [row for row in inclusive.most_common() if _interesting(row[0])][:top],
    )


def _interesting(frame: str) -> bool:
    """Inclusive rows worth showing: Parley's own functions (the framework's outer frames
    enclose every request; their own cost is in the tables above)."""
    return "(parley/" in frame and not any(
        marker in frame for marker in ("parley/__main__", "parley/cli.py")
    )


def render(summary: Summary, *, title: str = "", top: int = 25) -> str:
    total = max(1, summary.samples)
    counted = f"{summary.samples} samples"
    if summary.idle:
        counted += f"; {summary.idle} samples of waiting threads left out"
    lines = [f"{title} ({counted})" if title else counted]

    def table(name: str, rows: Sequence[tuple[str, int]]) -> None:
        lines.append("")
        lines.append(name)
        for key, count in rows:
            lines.append(f"  {100 * count / total:5.1f}%  {key}")

    table("Where the CPU was (innermost frame's package):", summary.buckets)
    table("Self time (innermost frame):", summary.self_time[:top])
    table("Inclusive time of Parley's functions (time under them):", summary.inclusive[:top])
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Summarise a py-spy raw profile.")
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    summary = summarise(args.profile.read_text(), top=args.top)
    print(render(summary, title=str(args.profile), top=args.top))


if __name__ == "__main__":
    main()
