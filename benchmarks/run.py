"""Benchmark Parley end to end on one store and print the figures.

    python benchmarks/run.py                                  # seed 100k on SQLite, then measure
    python benchmarks/run.py --skip-seed                      # reuse benchmarks/data/sqlite-100000
    python benchmarks/run.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench \\
        --conversations 10000
    python benchmarks/run.py --skip-seed --profile            # plus py-spy profiles of GET/reply

What it does:

1. Seeds the store with `parley seed` (unless --skip-seed), then visits every conversation once
   so each keeps its stored document, as in service.
2. Starts `parley serve` as one process pinned to core 0 (`taskset -c 0`), waits until it
   answers, captures a real GET /conversations/{id} response and starts the ceiling server
   (benchmarks/ceiling.py: bare Starlette serving those bytes) pinned to the same core. Both
   stay up; an idle server costs nothing, and alternating between them in every round keeps
   slow drift of this shared machine out of the ratios.
3. Warms up (reads the SQLite file into the page cache, then a short wrk run per scenario).
4. For --rounds rounds, runs `taskset -c 1 wrk -t1 -c32 -d10s --latency` with the Lua scripts in
   benchmarks/lua for: the ceiling, GET /conversations/{id} (random ids), GET /conversations
   (first page, page 2 through its cursor, and a page in the middle of the list through a
   cursor), and POST /conversations/{id}/reply (admin comments on random conversations).
5. Reads the server's peak RSS (VmHWM in /proc/<pid>/status); with --profile, records py-spy
   profiles of the server during extra GET and reply runs (not counted in the figures).
6. Prints medians over the rounds against the targets and writes
   benchmarks/results/<time>-<store>-<n>/results.json (with the raw wrk output and profiles).

Reply runs add parts to the store (one per request); that is intended: it is what a reply does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LUA = HERE / "lua"
RESULTS = HERE / "results"

sys.path.insert(0, str(HERE))
import pyspy_summary  # noqa: E402

TARGETS = {"get": 0.50, "reply": 0.20}
RSS_TARGET_MB = 150.0


# ----------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class Config:
    url: str
    data_dir: Path | None
    label: str  # sqlite | postgresql
    conversations: int
    skip_seed: bool
    seed: int
    token: str
    duration: int
    rounds: int
    warmup: int
    connections: int
    threads: int
    timeout: str
    server_cpu: str
    wrk_cpu: str
    port: int
    ceiling_port: int
    scenarios: tuple[str, ...]
    profile: bool
    profile_duration: int
    out: Path


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        description="Benchmark Parley against the ceiling (see the module docstring)."
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--data-dir", type=Path, help="SQLite data dir (default benchmarks/data/sqlite-N)"
    )
    where.add_argument("--database-url", help="postgresql+asyncpg://user@host:port/db")
    parser.add_argument("--conversations", "-n", type=int, default=100_000)
    parser.add_argument("--skip-seed", action="store_true", help="reuse the existing store")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--token", default="bench-token")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--timeout", default="30s", help="wrk request timeout (slow list pages need > 2s)"
    )
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--wrk-cpu", default="1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--ceiling-port", type=int, default=8766)
    parser.add_argument(
        "--scenarios",
        default="get,reply,list,list_page2,list_middle",
        help=f"comma-separated subset of {','.join(SCENARIOS)} (floor_*: reply_floor.py)",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the server on get/reply")
    parser.add_argument("--profile-duration", type=int, default=8)
    args = parser.parse_args(argv)
    scenarios = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.database_url:
        url, data_dir, label = args.database_url, None, "postgresql"
    else:
        data_dir = (args.data_dir or HERE / "data" / f"sqlite-{args.conversations}").resolve()
        url, label = f"sqlite:///{data_dir / 'parley.db'}", "sqlite"
    stamp = datetime.fromtimestamp(_now(), tz=UTC).strftime("%Y%m%d-%H%M%S")
    return Config(
        url=url, data_dir=data_dir, label=label, conversations=args.conversations,
        skip_seed=args.skip_seed, seed=args.seed, token=args.token, duration=args.duration,
        rounds=args.rounds, warmup=args.warmup, connections=args.connections,
        threads=args.threads, timeout=args.timeout, server_cpu=args.server_cpu,
        wrk_cpu=args.wrk_cpu, port=args.port, ceiling_port=args.ceiling_port,
        scenarios=scenarios, profile=args.profile, profile_duration=args.profile_duration,
        out=RESULTS / f"{stamp}-{label}",  # completed with the number of conversations
    )  # fmt: skip


def _now() -> int:
    from parley.kit.clock import SystemClock

    return SystemClock().now()


# ----------------------------------------------------------------------------- the store


@dataclass(frozen=True, slots=True)
class StoreFacts:
    workspace_id: str
    conversations: int
    admin_ids: list[int]
    sample_id: int  # a conversation with the median number of parts, for the ceiling
    median_parts: int
    middle_cursor: str  # starting_after for a page in the middle of the list
    middle_page: int


async def _store_facts(config: Config) -> tuple[StoreFacts, list[int]]:
    from parley.db import tokens
    from parley.db.database import connect
    from parley.kit import cursor

    db = await connect(config.url)
    try:
        async with db.transaction() as tx:
            auth = await tokens.authenticate(tx, config.token)
            if auth is None:
                raise SystemExit(f"token {config.token!r} is unknown to {config.url}: seed first")
            ws = str(auth["workspace_id"])
            rows = await tx.fetch_all(
                "SELECT id, part_count FROM conversations WHERE workspace_id = :ws ORDER BY id",
                {"ws": ws},
            )
            if not rows:
                raise SystemExit("the store has no conversations: seed it first")
            ids = [int(row["id"]) for row in rows]
            counts = sorted(int(row["part_count"]) for row in rows)
            median_parts = counts[len(counts) // 2]
            sample_id = next(int(r["id"]) for r in rows if int(r["part_count"]) == median_parts)
            admin_rows = await tx.fetch_all(
                "SELECT id FROM admins WHERE workspace_id = :ws AND kind = 'admin' ORDER BY id",
                {"ws": ws},
            )
            visible = int(
                await tx.fetch_val(
                    "SELECT COUNT(*) FROM conversations WHERE workspace_id = :ws AND visible = :v",
                    {"ws": ws, "v": True},
                )
            )
            per_page = 20
            middle_page = max(1, visible // per_page // 2)
            # The last conversation of the page before, in the list's order (newest id first),
            # as the API's own cursors carry it: [updated_at, id, the page it leads to].
            position = await tx.fetch_one(
                "SELECT updated_at, id FROM conversations WHERE workspace_id = :ws"
                " AND visible = :v ORDER BY id DESC LIMIT 1 OFFSET :offset",
                {"ws": ws, "v": True, "offset": max(0, (middle_page - 1) * per_page - 1)},
            )
            assert position is not None
            middle = cursor.encode([int(position["updated_at"]), int(position["id"]), middle_page])
    finally:
        await db.close()
    return StoreFacts(
        workspace_id=ws, conversations=len(ids), admin_ids=[int(r["id"]) for r in admin_rows],
        sample_id=sample_id, median_parts=median_parts, middle_cursor=middle,
        middle_page=middle_page,
    ), ids  # fmt: skip


def warm_sqlite(config: Config) -> None:
    """Read the SQLite files so the page cache holds them: these machines page cold file pages
    out, and a random read that goes to disk stalls a whole event loop."""
    if config.data_dir is None:
        return
    for path in sorted(config.data_dir.glob("parley.db*")):
        with path.open("rb") as f:
            while f.read(1 << 20):
                pass


def seed(config: Config) -> None:
    command = [sys.executable, "-m", "parley", "seed", "--conversations",
               str(config.conversations), "--token", config.token, "--seed", str(config.seed),
               "--force"]  # fmt: skip
    if config.data_dir is not None:
        command += ["--data-dir", str(config.data_dir)]
    else:
        command += ["--database-url", config.url]
    print("$ " + shlex.join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO)


# ----------------------------------------------------------------------------- processes


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_floor(config: Config, name: str, body_file: Path, probe: str) -> Server:
    """benchmarks/reply_floor.py in the scenario's mode, pinned like parley serve; `store` on a
    copy of the store taken now (replies so far included), deleted when the run ends."""
    if config.data_dir is None:
        raise SystemExit("the floor scenarios run on SQLite only (--data-dir)")
    mode = name.removeprefix("floor_")
    port = config.ceiling_port + (1 if mode == "post" else 2)
    command = [
        "taskset", "-c", config.server_cpu, sys.executable, str(HERE / "reply_floor.py"),
        "--mode", mode, "--body-file", str(body_file), "--port", str(port),
    ]  # fmt: skip
    if mode == "store":
        copy = config.out / "floor-store"
        copy.mkdir()
        source = sqlite3.connect(config.data_dir / "parley.db")
        target = sqlite3.connect(copy / "parley.db")
        source.backup(target)  # consistent while parley serve has the store open
        target.close()
        source.close()
        command += ["--data-dir", str(copy)]
    return start_server(name, command, port, config.out / f"{name}.log", probe)


def start_server(name: str, command: list[str], port: int, log: Path, probe: str) -> Server:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            # Its answers would be taken for the new server's, and the new one fails to bind.
            raise SystemExit(f"something already listens on port {port}; stop it first")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    handle = log.open("wb")
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    server = Server(name, process, f"http://127.0.0.1:{port}", log)
    started = time.monotonic()
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode}; see {log}")
        try:
            status, _ = http_get(server.base + probe, token=None)
            if status == 200 or (status == 401 and name == "parley"):
                break
        except OSError:
            pass
        if time.monotonic() - started > 120:
            server.stop()
            raise SystemExit(f"{name} did not answer within 120s; see {log}")
        time.sleep(0.1)
    print(f"  {name} ready in {time.monotonic() - started:.1f}s (pid {server.pid})", flush=True)
    return server


def http_get(url: str, *, token: str | None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def visit_all(server: Server, ids: Sequence[int], token: str) -> tuple[int, float]:
    """GET every conversation once. `parley seed` writes rows, not renderings; a GET that has
    to render keeps its rendering as the conversation's document, as happens in service to any
    conversation written or read through the API. So the measured GETs see the steady state."""
    started = time.monotonic()

    def visit(cid: int) -> int:
        status, body = http_get(f"{server.base}/conversations/{cid}", token=token)
        if status != 200:
            raise SystemExit(f"GET /conversations/{cid} answered {status}: {body[:300]!r}")
        return status

    with ThreadPoolExecutor(8) as pool:
        visited = sum(1 for _ in pool.map(visit, ids))
    return visited, time.monotonic() - started


def _cpu_ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_idle(server: Server, *, timeout: float = 180.0) -> float:
    """Wait until the server has finished what a run left in flight: when wrk stops, requests
    it had sent are still being answered (seconds of work for a slow list page with 32
    connections), and that work must not be charged to the next run."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = _cpu_ticks(server.pid)
        time.sleep(0.25)
        if _cpu_ticks(server.pid) - before <= 1:  # at most ~10 ms of CPU in 250 ms
            break
    return time.monotonic() - started


def peak_rss_mb(pid: int) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = int(rest.split()[0]) / 1024  # kB -> MB
    return values


# ----------------------------------------------------------------------------- wrk


@dataclass
class Measure:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]
    # CPU (in cores) used during the run by everything but the server and wrk: other work on
    # a shared machine. Near 0 on a quiet machine; above ~0.5 the figures are disturbed.
    others: float = 0.0


@dataclass
class Scenario:
    name: str
    label: str
    script: str
    args: list[str]
    server: str = "parley"  # or "ceiling"
    rounds: list[Measure] = field(default_factory=list)

    def median(self, key: str) -> float:
        return float(statistics.median(getattr(m, key) for m in self.rounds))

    def spread(self) -> tuple[float, float]:
        rates = [m.rps for m in self.rounds]
        return min(rates), max(rates)


SCENARIOS = ("get", "reply", "list", "list_page2", "list_middle", "floor_post", "floor_store")
# Served by benchmarks/reply_floor.py (SQLite only; `floor_store` writes to a copy of the store).
FLOOR_SCENARIOS = ("floor_post", "floor_store")


def _busy_ticks() -> int:
    """CPU ticks spent by the whole machine (every CPU, not idle or iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4]


def run_wrk(
    config: Config,
    server: Server,
    script: str,
    args: list[str],
    duration: int,
    log: Path,
) -> Measure:
    base = server.base
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    busy, served = _busy_ticks(), _cpu_ticks(server.pid)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    command = [
        "taskset", "-c", config.wrk_cpu, "wrk", f"-t{config.threads}",
        f"-c{config.connections}", f"-d{duration}s", "--latency", "--timeout", config.timeout,
        "-s", str(LUA / script), base, "--", *args,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_seconds = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    server_seconds = (_cpu_ticks(server.pid) - served) / ticks_per_second
    machine_seconds = (_busy_ticks() - busy) / ticks_per_second
    others = max(0.0, machine_seconds - server_seconds - wrk_seconds) / elapsed
    with log.open("a") as f:
        f.write(f"$ {shlex.join(command)}\n{result.stdout}{result.stderr}")
        f.write(f"(other CPU load during the run: {others:.2f} cores)\n\n")
    if result.returncode != 0:
        raise SystemExit(f"wrk failed ({result.returncode}): {result.stderr.strip()}")
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise SystemExit(f"no WRK_JSON line in wrk's output:\n{result.stdout}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    errors = {k: int(v) for k, v in data["errors"].items() if v}
    return Measure(
        requests=int(data["requests"]),
        rps=float(data["rps"]),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
        others=others,
    )


def profile(
    config: Config, server: Server, scenario: Scenario, log: Path
) -> pyspy_summary.Summary | None:
    """py-spy the server while wrk drives `scenario`; these runs are not counted."""
    output = config.out / f"profile-{scenario.name}.txt"
    command = [
        "taskset", "-c", config.wrk_cpu, "wrk", f"-t{config.threads}",
        f"-c{config.connections}", f"-d{config.profile_duration + 3}s", "--timeout",
        config.timeout, "-s", str(LUA / scenario.script), server.base, "--", *scenario.args,
    ]  # fmt: skip
    with log.open("a") as f:
        f.write(f"$ {shlex.join(command)}  # profiling\n")
    wait_idle(server)
    load = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)
        spy = [
            "py-spy", "record", "--pid", str(server.pid), "--duration",
            str(config.profile_duration), "--rate", "250", "--format", "raw", "-o", str(output),
        ]  # fmt: skip
        done = subprocess.run(spy, capture_output=True, text=True, check=False)
    finally:
        load.wait()
        wait_idle(server)
    if done.returncode != 0 or not output.exists():
        print(f"  py-spy failed: {done.stderr.strip()[-500:]}")
        return None
    summary = pyspy_summary.summarise(output.read_text())
    text = pyspy_summary.render(summary, title=f"{scenario.label}: py-spy, server pid")
    (config.out / f"profile-{scenario.name}.summary.txt").write_text(text + "\n")
    return summary


# ----------------------------------------------------------------------------- reporting


def _fmt_ms(value: float) -> str:
    return f"{value:,.1f}ms" if value < 1000 else f"{value / 1000:,.2f}s"


def report(
    config: Config,
    facts: StoreFacts,
    scenarios: list[Scenario],
    ceiling: Scenario,
    rss: dict[str, float],
) -> tuple[str, dict[str, Any]]:
    ceiling_rps = ceiling.median("rps")
    lines = [
        "",
        f"Parley benchmark: {config.label}, {facts.conversations:,} conversations "
        f"(median {facts.median_parts} parts); "
        f"{config.rounds} rounds x {config.duration}s; wrk -t{config.threads} "
        f"-c{config.connections} on core {config.wrk_cpu}; one server process on core "
        f"{config.server_cpu}; medians.",
        "",
        f"{'scenario':<44} {'req/s':>9} {'(min-max)':>17} {'p50':>9} {'p99':>9} "
        f"{'vs ceiling':>10} {'paired':>7} {'target':>8} {'':>5} {'others':>7}",
    ]
    verdicts: dict[str, Any] = {}
    for scenario in [ceiling, *scenarios]:
        low, high = scenario.spread()
        ratio = scenario.median("rps") / ceiling_rps if ceiling_rps else 0.0
        target = TARGETS.get(scenario.name)
        verdict = ""
        if target is not None:
            verdict = "OK" if ratio >= target else "MISS"
            verdicts[scenario.name] = {"ratio": ratio, "target": target, "met": ratio >= target}
        errors = sum(sum(m.errors.values()) for m in scenario.rounds)
        lines.append(
            f"{scenario.label:<44} {scenario.median('rps'):>9,.0f} "
            f"{f'({low:,.0f}-{high:,.0f})':>17} {_fmt_ms(scenario.median('p50_ms')):>9} "
            f"{_fmt_ms(scenario.median('p99_ms')):>9} {100 * ratio:>9.1f}% "
            f"{100 * paired_ratio(scenario, ceiling):>6.1f}% "
            f"{f'>= {100 * target:.0f}%' if target is not None else '':>8} {verdict:>5} "
            f"{scenario.median('others'):>7.2f}" + (f"  ({errors} errors)" if errors else "")
        )
    peak = rss.get("VmHWM", 0.0)
    rss_ok = peak < RSS_TARGET_MB
    verdicts["peak_rss"] = {"mb": peak, "target_mb": RSS_TARGET_MB, "met": rss_ok}
    lines += [
        "",
        "vs ceiling: median req/s over the ceiling's median req/s (the targets apply to it);"
        " paired: the median of each round's ratio to that round's ceiling run, steadier when"
        " the machine's load changes between rounds; others: CPU cores used meanwhile by other"
        " processes on the machine (median), above ~0.5 the figures are disturbed.",
        "",
        f"Peak RSS of the parley server (VmHWM, after all measured runs): {peak:.1f} MB "
        f"(VmRSS now {rss.get('VmRSS', 0.0):.1f} MB); target < {RSS_TARGET_MB:.0f} MB: "
        + ("OK" if rss_ok else "MISS"),
    ]
    return "\n".join(lines), verdicts


def paired_ratio(scenario: Scenario, ceiling: Scenario) -> float:
    ratios = [m.rps / c.rps for m, c in zip(scenario.rounds, ceiling.rounds, strict=False) if c.rps]
    return float(statistics.median(ratios)) if ratios else 0.0


def _git() -> dict[str, str]:
    def run(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "commit": run("rev-parse", "--short", "HEAD"),
        "dirty_files_in_src": str(len(run("status", "--porcelain", "src").splitlines())),
    }


# ----------------------------------------------------------------------------- main


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # runs the finally blocks: servers stop


def main(argv: Sequence[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _terminate)
    config = parse_args(argv)
    if not config.skip_seed:
        seed(config)
    elif config.data_dir is not None and not (config.data_dir / "parley.db").exists():
        raise SystemExit(f"--skip-seed: no store at {config.data_dir}")

    facts, conversation_ids = asyncio.run(_store_facts(config))
    config = replace(config, out=config.out.with_name(f"{config.out.name}-{facts.conversations}"))
    config.out.mkdir(parents=True, exist_ok=True)
    wrk_log = config.out / "wrk.log"
    ids_file = config.out / "conversation-ids.txt"
    ids_file.write_text("".join(f"{cid}\n" for cid in conversation_ids))
    print(
        f"Store: {config.label} ({config.url}), workspace {facts.workspace_id}, "
        f"{facts.conversations:,} conversations, median {facts.median_parts} parts, "
        f"admins {facts.admin_ids}",
        flush=True,
    )
    warm_sqlite(config)

    serve = [
        "taskset", "-c", config.server_cpu, sys.executable, "-m", "parley", "serve",
        "--port", str(config.port), "--bootstrap-token", config.token, "--log-level", "warning",
    ]  # fmt: skip
    serve += (
        ["--data-dir", str(config.data_dir)]
        if config.data_dir is not None
        else ["--database-url", config.url]
    )
    print("$ " + shlex.join(serve), flush=True)
    probe = f"/conversations/{facts.sample_id}"
    parley = start_server("parley", serve, config.port, config.out / "parley.log", probe)
    ceiling_server: Server | None = None
    floor_servers: list[Server] = []
    try:
        status, sample = http_get(parley.base + probe, token=config.token)
        if status != 200:
            raise SystemExit(f"GET {probe} answered {status}: {sample[:300]!r}")
        body_file = config.out / "sample-conversation.json"
        body_file.write_bytes(sample)
        status, first_page = http_get(
            parley.base + "/conversations?per_page=20", token=config.token
        )
        if status != 200:
            raise SystemExit(f"GET /conversations answered {status}: {first_page[:300]!r}")
        page2 = json.loads(first_page)["pages"]["next"]["starting_after"]
        print(f"  sample conversation {facts.sample_id}: {len(sample):,} bytes", flush=True)
        visited, seconds = visit_all(parley, conversation_ids, config.token)
        print(f"  visited {visited:,} conversations in {seconds:.1f}s", flush=True)

        ceiling_command = [
            "taskset", "-c", config.server_cpu, sys.executable, str(HERE / "ceiling.py"),
            "--body-file", str(body_file), "--port", str(config.ceiling_port),
        ]  # fmt: skip
        ceiling_server = start_server(
            "ceiling", ceiling_command, config.ceiling_port, config.out / "ceiling.log", probe
        )

        auth = [f"token={config.token}"]
        ids = [f"ids={ids_file}", f"seed={config.seed}"]
        admins = "admins=" + ",".join(str(a) for a in facts.admin_ids)
        every = {
            "get": Scenario("get", "GET /conversations/{id}", "get_conversation.lua",
                            [*auth, *ids]),
            "list": Scenario("list", "GET /conversations?per_page=20 (page 1)", "fixed_get.lua",
                             [*auth, "path=/conversations?per_page=20"]),
            "list_page2": Scenario(
                "list_page2", "GET /conversations (page 2, cursor)", "fixed_get.lua",
                [*auth, f"path=/conversations?per_page=20&starting_after={page2}"]),
            "list_middle": Scenario(
                "list_middle", f"GET /conversations (page {facts.middle_page}, cursor)",
                "fixed_get.lua",
                [*auth, f"path=/conversations?per_page=20&starting_after={facts.middle_cursor}"]),
            "reply": Scenario("reply", "POST /conversations/{id}/reply (admin)", "reply.lua",
                              [*auth, *ids, admins]),
            "floor_post": Scenario("floor_post", "floor: the reply POST, parsed, no work",
                                   "reply.lua", [*auth, *ids, admins], server="floor_post"),
            "floor_store": Scenario("floor_store", "floor: the reply's rows and document only",
                                    "reply.lua", [*auth, *ids, admins], server="floor_store"),
        }  # fmt: skip
        scenarios = [every[name] for name in SCENARIOS if name in config.scenarios]
        ceiling = Scenario(
            "ceiling", "ceiling: bare Starlette, same bytes", "get_conversation.lua",
            [*auth, *ids], server="ceiling",
        )  # fmt: skip
        servers = {"parley": parley, "ceiling": ceiling_server}
        for scenario in scenarios:
            if scenario.name in FLOOR_SCENARIOS:
                floor = start_floor(config, scenario.name, body_file, probe)
                floor_servers.append(floor)
                servers[scenario.name] = floor

        print(f"Warm-up: {config.warmup}s per scenario", flush=True)
        for scenario in [ceiling, *scenarios]:
            if config.warmup > 0:
                server = servers[scenario.server]
                run_wrk(config, server, scenario.script, scenario.args, config.warmup,
                        wrk_log)  # fmt: skip
                wait_idle(server)

        for round_number in range(1, config.rounds + 1):
            warm_sqlite(config)
            for scenario in [ceiling, *scenarios]:
                server = servers[scenario.server]
                measure = run_wrk(config, server, scenario.script, scenario.args,
                                  config.duration, wrk_log)  # fmt: skip
                settle = wait_idle(server)
                scenario.rounds.append(measure)
                errors = f"  others {measure.others:.2f} cores"
                errors += f"  errors {measure.errors}" if measure.errors else ""
                if settle > 1:
                    errors += f"  (server busy {settle:.1f}s after wrk stopped)"
                print(
                    f"  round {round_number}/{config.rounds}  {scenario.label:<44}"
                    f" {measure.rps:>9,.0f} req/s  p50 {_fmt_ms(measure.p50_ms):>8}"
                    f"  p99 {_fmt_ms(measure.p99_ms):>8}{errors}",
                    flush=True,
                )
        rss = peak_rss_mb(parley.pid)

        profiles: dict[str, Any] = {}
        if config.profile:
            for scenario in scenarios:
                if scenario.name in ("get", "reply", "list"):
                    print(f"Profiling {scenario.label} with py-spy...", flush=True)
                    summary = profile(config, parley, scenario, wrk_log)
                    if summary is not None:
                        profiles[scenario.name] = asdict(summary)
    finally:
        for floor in floor_servers:
            floor.stop()
        if ceiling_server is not None:
            ceiling_server.stop()
        parley.stop()
        shutil.rmtree(config.out / "floor-store", ignore_errors=True)

    table, verdicts = report(config, facts, scenarios, ceiling, rss)
    for name in profiles:
        print()
        print((config.out / f"profile-{name}.summary.txt").read_text().rstrip())
    print(table)
    results = {
        "date": datetime.fromtimestamp(_now(), tz=UTC).isoformat(),
        "store": {"label": config.label, "url": config.url, "conversations": facts.conversations,
                  "median_parts": facts.median_parts, "workspace_id": facts.workspace_id},
        "git": _git(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "settings": {"duration_s": config.duration, "rounds": config.rounds,
                     "warmup_s": config.warmup, "connections": config.connections,
                     "threads": config.threads, "server_cpu": config.server_cpu,
                     "wrk_cpu": config.wrk_cpu, "timeout": config.timeout},
        "sample_bytes": len(sample),
        "scenarios": {
            s.name: {"label": s.label, "median_rps": s.median("rps"),
                     "median_p50_ms": s.median("p50_ms"), "median_p99_ms": s.median("p99_ms"),
                     "ratio_vs_ceiling": s.median("rps") / ceiling.median("rps"),
                     "paired_ratio_vs_ceiling": paired_ratio(s, ceiling),
                     "median_other_load_cores": s.median("others"),
                     "rounds": [asdict(m) for m in s.rounds]}
            for s in [ceiling, *scenarios]
        },
        "peak_rss_mb": rss,
        "targets": verdicts,
        "profiles": profiles,
    }  # fmt: skip
    (config.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nResults: {config.out / 'results.json'}")


if __name__ == "__main__":
    main()
