"""The seeds' own client code against a real `faceport serve` (the real engine): HeyGen's
Python `faceswap()` + polling and its TypeScript `faceswapAndWait()` (Node 20's fetch),
changed only in the base URL; and a curl run of the other seed pages' examples, with the
example hosts pointed at a loopback file server and the seed's key swapped for a
faceport key."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import pytest

from tests.e2e.test_serve import Server, start_server, stop
from tests.support import images, seeds
from tests.support.live_server import free_port
from tests.support.video import ClipSpec, write_clip

CLIENTS = Path(__file__).parent / "seed_clients"
HEYGEN_BASE = "https://api.heygen.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("seed-clients") / "data", free_port())
    yield running
    stop(running)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    clip = write_clip(tmp_path_factory.mktemp("clip") / "c.mp4", ClipSpec(frames=12))
    with seeds.seed_files(clip=clip.read_bytes()) as base:
        yield base


def aimed_client(name: str, server: Server, tmp_path: Path) -> Path:
    """The seed client with only its base URL changed."""
    text = (CLIENTS / name).read_text()
    assert HEYGEN_BASE in text
    path = tmp_path / name
    path.write_text(text.replace(HEYGEN_BASE, server.url))
    return path


def check_video(url: str, tmp_path: Path) -> None:
    """The result downloads without a key and is the clip's 12 frames, swapped."""
    reply = httpx.get(url, timeout=30)
    assert reply.status_code == 200 and reply.content[4:8] == b"ftyp"
    path = tmp_path / "result.mp4"
    path.write_bytes(reply.content)
    with av.open(str(path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 12


def client_env(server: Server, files: str) -> dict[str, str]:
    return {
        **os.environ,
        "HEYGEN_API_KEY": server.api_key,
        "SOURCE_IMAGE_URL": f"{files}/face.jpg",
        "TARGET_VIDEO_URL": f"{files}/video.mp4",
        "POLL_INTERVAL_S": "0.5",
        "POLL_INTERVAL_MS": "500",
    }


def video_url(output: str) -> str:
    found = re.search(r"^VIDEO_URL (\S+)$", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def test_heygen_python_client_swaps_a_video(server: Server, files: str, tmp_path: Path) -> None:
    script = aimed_client("heygen_faceswap.py", server, tmp_path)
    run = subprocess.run(
        [sys.executable, str(script)],
        env=client_env(server, files),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr
    check_video(video_url(run.stdout), tmp_path)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node 20")
def test_heygen_typescript_client_swaps_a_video(server: Server, files: str, tmp_path: Path) -> None:
    script = aimed_client("heygen_faceswap.mjs", server, tmp_path)
    run = subprocess.run(
        ["node", str(script)],
        env=client_env(server, files),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr
    assert "Submitted face swap: task_" in run.stdout
    check_video(video_url(run.stdout), tmp_path)


def curl(*args: str) -> dict[str, object]:
    run = subprocess.run(
        ["curl", "--silent", "--show-error", *args], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    answer: dict[str, object] = json.loads(run.stdout)
    return answer


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_curl_runs_of_the_other_seed_examples(server: Server, files: str, tmp_path: Path) -> None:
    key = server.api_key
    base = server.url
    # API in One: the seed's curl, its key swapped for a faceport key
    created = curl(
        "-X", "POST", f"{base}{seeds.APIINONE_PATH}",
        "-H", f"Authorization: Bearer {key}",
        "-H", "Content-Type: application/json",
        "--data-raw", seeds.aimed(seeds.APIINONE_BODY, files),
    )  # fmt: skip
    assert created["code"] == 200
    # Zhiqite: the seed's curl, the empty key headers filled in
    key_id, _, secret = key.rpartition("_")
    record = curl(
        "--location", "--request", "POST", f"{base}{seeds.ZHIQITE_PATH}",
        "--header", f"X-Request-req-accessKeyId: {key_id}",
        "--header", f"X-Request-req-accessKeySecret: {secret}",
        "--header", "Content-Type: application/json",
        "--data-raw", seeds.aimed(seeds.ZHIQITE_BODY, files),
    )  # fmt: skip
    data = record["data"]
    assert isinstance(data, dict) and data["status"] == 1, record
    # MJ-proxy: the seed's curl as printed (empty images) is refused in the family's shape
    refused = curl(
        "--location", "--request", "POST", f"{base}{seeds.MJ_PATH}",
        "--header", f"mj-api-secret: {key}",
        "--header", "Content-Type: application/json",
        "--data-raw", seeds.MJ_BODY,
    )  # fmt: skip
    assert refused["code"] == 4
    # AILabTools: multipart upload, a BMP template
    bmp = tmp_path / "template.bmp"
    bmp.write_bytes(seeds.bmp(images.grace_hopper_jpeg()))
    donor = bmp.with_suffix(".jpg")
    donor.write_bytes(images.astronaut_jpeg())
    fused = curl(
        "--request", "POST", f"{base}{seeds.AILAB_PATH}",
        "--header", f"ailabapi-api-key: {key}",
        "--form", f"image_target=@{donor}",
        "--form", f"image_template=@{bmp}",
        "--form", "source_similarity=0.5",
    )  # fmt: skip
    assert fused["error_code"] == 0, fused
    # the queued API in One swap has finished by now
    task_id = created["data"]["task_id"]  # type: ignore[index]
    task = curl(f"{base}/api/v1/tasks/{task_id}", "-H", f"Authorization: Bearer {key}")
    assert task["data"]["status"] in ("processing", "created", "completed")  # type: ignore[index]
