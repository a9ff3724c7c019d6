"""Real `parley` processes for end-to-end tests: spawn `parley serve`, wait for it to answer,
collect its output, stop it; run one-shot CLI commands."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

TOKEN_RE = re.compile(r"prl_[A-Za-z0-9]{40}")


def parley_command() -> list[str]:
    """The installed `parley` script next to this interpreter, else `python -m parley`."""
    script = Path(sys.executable).with_name("parley")
    return [str(script)] if script.exists() else [sys.executable, "-m", "parley"]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment without any PARLEY_* setting (a developer's PARLEY_DATABASE_URL
    must not leak into a test), plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PARLEY_")}
    env["COLUMNS"] = "200"  # Rich: no wrapping of long lines in captured output
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_cli(
    args: list[str], *, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*parley_command(), *args],
        capture_output=True,
        text=True,
        env=clean_env(env),
        timeout=timeout,
        check=False,
    )


class ServerProcess:
    """A running `parley serve`; its stdout and stderr are collected by reader threads."""

    def __init__(self, args: list[str], env: Mapping[str, str] | None, port: int) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        # One client for every request: building one costs CPU (its SSL context) that a busy
        # poll would take from the server whose start-up it is timing.
        self.http = httpx.Client(base_url=self.base_url, timeout=10)
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            [*parley_command(), "serve", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(env),
        )
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self._stdout), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self._stderr), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _pump(stream: object, into: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            into.append(line)

    @property
    def stdout(self) -> str:
        return "".join(self._stdout)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def describe(self) -> str:
        return (
            f"exit status {self.proc.poll()}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        )

    def wait_for_token(self, timeout: float = 15) -> str:
        """The access token printed on first start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = TOKEN_RE.search(self.stdout)
            if match:
                return match.group(0)
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no access token printed\n{self.describe()}")

    def wait_ready(self, token: str, timeout: float = 15) -> float:
        """Poll GET /me until it answers 200; the seconds since the process was spawned."""
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {token}"}
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"parley serve exited early\n{self.describe()}")
            try:
                response = self.http.get("/me", headers=headers, timeout=2)
            except httpx.TransportError as exc:
                last = repr(exc)
            else:
                if response.status_code == 200:
                    return time.monotonic() - self.started_at
                last = f"{response.status_code} {response.text}"
            time.sleep(0.02)
        raise AssertionError(f"GET /me never answered 200 ({last})\n{self.describe()}")

    def get(self, path: str, token: str) -> httpx.Response:
        return self.http.get(path, headers={"Authorization": f"Bearer {token}"})

    def wait_exit(self, timeout: float = 30) -> int:
        """For a server expected to refuse to start."""
        try:
            status = self.proc.wait(timeout)
        finally:
            self.stop()
        return status

    def stop(self) -> int:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for thread in self._threads:
            thread.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with suppress(OSError):
                    stream.close()
        return int(self.proc.returncode)


@contextmanager
def serving(
    args: list[str], *, env: Mapping[str, str] | None = None, port: int | None = None
) -> Iterator[ServerProcess]:
    server = ServerProcess(args, env, port or free_port())
    try:
        yield server
    finally:
        server.stop()
