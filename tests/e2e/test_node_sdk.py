"""The official Node SDK (`intercom-client` from npm, pinned in tests/node/package-lock.json)
drives a conversation lifecycle against a real `parley serve`, unmodified
(tests/node/lifecycle.js). Skipped, saying why, where node or npm is missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.servers import clean_env, run_cli, serving

pytestmark = pytest.mark.slow

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
TOKEN = "node-sdk-token-0123456789"


def test_intercom_client_drives_a_conversation_lifecycle(tmp_path: Path) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the Node SDK test (Node 20 or later)")
    work = tmp_path / "node"
    work.mkdir()
    for name in ("package.json", "package-lock.json", "lifecycle.js"):
        shutil.copy(NODE_DIR / name, work / name)
    install = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=work, capture_output=True, text=True, timeout=300, env=clean_env(),
    )  # fmt: skip
    assert install.returncode == 0, f"npm ci failed:\n{install.stdout}\n{install.stderr}"
    data = tmp_path / "data"
    with serving(["--data-dir", str(data), "--bootstrap-token", TOKEN]) as server:
        server.wait_ready(TOKEN)
        made = run_cli(["teams", "create", "--name", "Billing", "--data-dir", str(data)])
        assert made.returncode == 0, made.stderr
        team_id = made.stdout.split("Created team ", 1)[1].split(" ", 1)[0]
        run = subprocess.run(
            [node, "lifecycle.js", server.base_url, TOKEN, team_id],
            cwd=work, capture_output=True, text=True, timeout=120, env=clean_env(),
        )  # fmt: skip
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n--- server ---\n{server.describe()}"
    assert '"ok":true' in run.stdout
