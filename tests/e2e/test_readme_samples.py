"""The README's code samples, run as a reader would run them against the session's real
server: curl, the Python SDK (both samples) and JavaScript's fetch under Node."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_serve import Server
from tests.support.images import astronaut_jpeg, grace_hopper_jpeg

README = Path(__file__).resolve().parents[2] / "README.md"
_SAMPLE = re.compile(r"<!-- tested: (\w+) -->\n```\w+\n(.*?)```", re.DOTALL)


def samples() -> dict[str, str]:
    return dict(_SAMPLE.findall(README.read_text()))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "samples").mkdir()
    (tmp_path / "build").mkdir()
    (tmp_path / "samples" / "astronaut.jpg").write_bytes(astronaut_jpeg())
    (tmp_path / "samples" / "grace_hopper.jpg").write_bytes(grace_hopper_jpeg())
    return tmp_path


def run(command: list[str], workdir: Path, server: Server) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACEPORT_API_URL": server.url, "FACEPORT_API_KEY": server.api_key}
    return subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_readme_has_its_samples() -> None:
    assert set(samples()) == {"curl", "python", "javascript", "quickstart"}


@pytest.mark.parametrize("name", ["curl", "python", "javascript", "quickstart"])
def test_sample_runs(name: str, workdir: Path, live_server: Server) -> None:
    code = samples()[name]
    if name == "curl":
        if shutil.which("curl") is None:
            pytest.skip("curl is not installed")
        done = run(["bash", "-euo", "pipefail", "-c", code], workdir, live_server)
    elif name == "javascript":
        node = shutil.which("node")
        if node is None:
            pytest.skip("node is not installed")
        (workdir / "sample.mjs").write_text(code)
        done = run([node, "sample.mjs"], workdir, live_server)
    else:
        done = run([sys.executable, "-c", code], workdir, live_server)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "failed:" not in done.stdout and "refused:" not in done.stdout, done.stdout
    result = workdir / "build" / ("swapped.png" if name == "quickstart" else "swapped.jpg")
    magic = b"\x89PNG" if name == "quickstart" else b"\xff\xd8\xff"
    assert result.read_bytes().startswith(magic)
