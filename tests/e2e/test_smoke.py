"""`make smoke` against a local `faceport serve` (a real process, the real engine): every
check passes or skips with its reason, and a broken key makes it fail with exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.test_serve import free_port, start_server, stop

ROOT = Path(__file__).resolve().parents[2]


def smoke(url: str, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.smoke.run_smoke", "--url", url, "--key", key],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip


def test_smoke_passes_on_a_local_server_and_fails_on_a_bad_key(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", free_port())
    try:
        good = smoke(server.url, server.api_key)
        bad = smoke(server.url, "fpk_0000000000000000_" + "0" * 40)
    finally:
        stop(server)
    rows = {line.split()[0]: line for line in good.stdout.splitlines()}
    assert good.returncode == 0, good.stdout + good.stderr
    for check in ("account", "readme", "webhook"):
        assert " PASS " in rows[check], good.stdout
    assert " PASS " in rows["dialect"] or "SKIP  the deployment has no dialect" in rows["dialect"]
    assert bad.returncode == 1 and "FAIL" in bad.stdout, bad.stdout
    print(good.stdout)
