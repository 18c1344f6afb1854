"""`faceport remote ...` as a subprocess against the session's real server: results
written, progress shown, --json for scripts, and the local CLI's error rules (one line on
stderr, exit 2, no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_serve import Server
from tests.support.images import astronaut_jpeg, coffee_jpeg, grace_hopper_jpeg, two_faces_jpeg


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    files = {"astronaut": astronaut_jpeg(), "hopper": grace_hopper_jpeg()}
    files |= {"coffee": coffee_jpeg(), "two": two_faces_jpeg()}
    for name, data in files.items():
        (tmp_path / f"{name}.jpg").write_bytes(data)
    return {name: tmp_path / f"{name}.jpg" for name in files}


def remote(server: Server, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACEPORT_API_URL": server.url, "FACEPORT_API_KEY": key or server.api_key}
    return subprocess.run(
        [sys.executable, "-m", "faceport.cli", "remote", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_swap_writes_the_result_with_progress(
    live_server: Server, photos: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "swapped.jpg"
    done = remote(
        live_server, "swap", str(photos["astronaut"]), str(photos["hopper"]), "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG, as the extension says
    assert "succeeded" in done.stderr and "100%" in done.stderr  # the progress bar's last state
    assert str(out) in done.stdout


def test_json_output_and_task_commands(
    live_server: Server, photos: dict[str, Path], tmp_path: Path
) -> None:
    fused = remote(
        live_server,
        "fuse",
        str(photos["astronaut"]),
        str(photos["hopper"]),
        "-o",
        str(tmp_path / "fused.png"),
        "--similarity",
        "0.4",
        "--json",
    )
    assert fused.returncode == 0, fused.stderr
    task = json.loads(fused.stdout)
    assert task["status"] == "succeeded" and task["operation"] == "face_fusion"
    assert fused.stderr == ""  # --json: nothing but the JSON
    listed = json.loads(remote(live_server, "tasks", "ls", "--json", "--limit", "3").stdout)
    assert task["id"] in [t["id"] for t in listed["data"]]
    got = json.loads(remote(live_server, "tasks", "get", task["id"]).stdout)
    assert got["id"] == task["id"]
    table = remote(live_server, "tasks").stdout
    assert task["id"] in table
    account = json.loads(remote(live_server, "account", "--json").stdout)
    assert account["usage"]["face_fusion"]["count"] >= 1


def test_detect_prints_faces(live_server: Server, photos: dict[str, Path]) -> None:
    done = remote(live_server, "detect", str(photos["two"]))
    assert done.returncode == 0, done.stderr
    assert [f["index"] for f in json.loads(done.stdout)["faces"]] == [0, 1]


def test_user_errors_are_one_line_and_exit_2(
    live_server: Server, photos: dict[str, Path], tmp_path: Path
) -> None:
    source, target = str(photos["astronaut"]), str(photos["hopper"])
    cases = {
        "invalid_api_key": remote(live_server, "account", key="fpk_wrong"),
        "no_face_in_source": remote(
            live_server, "swap", str(photos["coffee"]), target, "-o", str(tmp_path / "x.png")
        ),
        "unsupported_output_format": remote(
            live_server, "swap", source, target, "-o", str(tmp_path / "x.gif")
        ),
        "not_found": remote(live_server, "tasks", "cancel", "task_nope"),
        "usage_error": remote(live_server, "swap", source, target),
    }
    for code, done in cases.items():
        assert done.returncode == 2, (code, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert lines[-1].startswith(f"faceport: {code}: "), (code, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.gif").exists()


def test_options_after_the_action(live_server: Server) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEPORT_API")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "faceport.cli",
            "remote",
            "account",
            "--api-url",
            live_server.url,
            "--api-key",
            live_server.api_key,
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "dev"
    unset = subprocess.run(
        [sys.executable, "-m", "faceport.cli", "remote", "account"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert unset.returncode == 2 and "FACEPORT_API_URL" in unset.stderr
