"""The neural backend (FACEPORT_ENGINE=onnx) on stand-in models, through every way in:
the native API on the local runtime, the CLI, a video, and the SageMaker serving contract.

The stand-in swapper returns its target unchanged and the stand-in restorer inverts its
input, so `enhance: true` must turn the selected face's inside over, and a plain swap must
leave it (nearly) as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from faceport.adapters.local.engine import InProcessEngine, in_process_engine
from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.cli import main
from faceport.engine import TRAINED_ALGORITHMIC_MEDIA, decode_image, read_digital_source_type
from faceport.engine._find import find_faces
from faceport.engine._landmarks import five_point_landmarks
from faceport.engine._swap import DEFAULT_SETTINGS, find_options
from faceport.engine_protocol import EngineRequest, error_from_document
from faceport.errors import EnhanceNotAvailable, InvalidModelDir
from faceport.settings import Settings
from faceport.tasks import TaskParams
from tests.conftest import b64
from tests.integration.test_engine_serving import request, serving
from tests.support import images
from tests.support.api_client import Api, call, new_account
from tests.support.onnx_models import model_dir
from tests.support.video import ClipSpec, decoded_frames, write_clip

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Identity swapper, recognizer, inverting restorer; with a manifest."""
    return model_dir(tmp_path_factory.mktemp("models"), restorer=True, manifest=True)


@pytest.fixture(scope="module")
def engine(models: Path) -> InProcessEngine:
    return in_process_engine(Settings(engine="onnx", model_dir=models))


def inner_region(frame: np.ndarray, index: int = 0) -> tuple[slice, slice]:
    """Between the eyes and the mouth of face `index` of `frame`."""
    faces = find_faces(frame, find_options(DEFAULT_SETTINGS), thorough=True)
    five = five_point_landmarks(faces[index].landmarks)
    rows = slice(int(five[:2, 1].mean()), int(five[3:, 1].mean()))
    return rows, slice(int(five[0, 0]), int(five[1, 0]))


def inverted_inside(result: np.ndarray, target: np.ndarray, tolerance: float = 12) -> bool:
    inner = inner_region(target)
    return bool(np.abs(result[inner].astype(int) - (255 - target[inner])).mean() < tolerance)


# --- the API -----------------------------------------------------------------------------


def runtime_for(tmp_path: Path, **settings: Any) -> Iterator[tuple[Api, LocalRuntime]]:
    runtime = build_local_runtime(
        Settings(data_dir=tmp_path / "data", rate_limit_per_s=1000, **settings)
    )
    runtime.start()
    accounts = runtime.accounts
    yield Api(runtime.services, new_account(accounts, accounts, credits=1000)), runtime
    runtime.stop()


@pytest.fixture
def onnx_api(tmp_path: Path, models: Path) -> Iterator[tuple[Api, LocalRuntime]]:
    yield from runtime_for(tmp_path, engine="onnx", model_dir=models)


def swap(app: Api, **options: Any) -> dict[str, Any]:
    body = {
        "source": {"base64": b64(images.astronaut_jpeg())},
        "target": {"base64": b64(images.grace_hopper_jpeg())},
        **options,
    }
    reply = call(app, "POST", "/v1/face-swap", body, {"Prefer": "wait=30"})
    assert reply.status in (200, 202), reply.body
    return dict(reply.json())


def result_bytes(runtime: LocalRuntime, task: dict[str, Any]) -> bytes:
    key = task["result"]["url"].split("/files/")[1].split("?")[0]
    return runtime.blobs.get(key)


def test_the_api_swaps_on_the_onnx_engine_with_and_without_enhance(
    onnx_api: tuple[Api, LocalRuntime],
) -> None:
    app, runtime = onnx_api
    target = images.grace_hopper_bgr()
    plain, enhanced = swap(app), swap(app, enhance=True)

    assert (plain["status"], enhanced["status"]) == ("succeeded", "succeeded"), enhanced
    assert enhanced["params"]["enhance"] is True
    result = result_bytes(runtime, enhanced)
    assert read_digital_source_type(result) == TRAINED_ALGORITHMIC_MEDIA
    assert inverted_inside(decode_image(result), target)
    assert not inverted_inside(decode_image(result_bytes(runtime, plain)), target)


def test_enhance_on_the_classic_engine_fails_and_charges_nothing(tmp_path: Path) -> None:
    for app, _ in runtime_for(tmp_path):
        task = swap(app, enhance=True)
        assert (task["status"], task["error"]["code"]) == ("failed", "enhance_not_available")
        account = call(app, "GET", "/v1/account").json()
        assert account["balance"] == 1000


def test_a_bad_model_dir_stops_the_runtime_before_it_starts(tmp_path: Path) -> None:
    with pytest.raises(InvalidModelDir, match=r"inswapper_128\.onnx is missing"):
        build_local_runtime(Settings(data_dir=tmp_path / "data", engine="onnx", model_dir=tmp_path))
    assert not (tmp_path / "data").exists()
    with pytest.raises(InvalidModelDir, match="needs FACEPORT_MODEL_DIR"):
        in_process_engine(Settings(engine="onnx"))


# --- the CLI -----------------------------------------------------------------------------


def test_cli_swap_and_engine_info_use_the_configured_engine(
    models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("FACEPORT_ENGINE", "onnx")
    monkeypatch.setenv("FACEPORT_MODEL_DIR", str(models))
    source, target = tmp_path / "a.jpg", tmp_path / "h.jpg"
    source.write_bytes(images.astronaut_jpeg())
    target.write_bytes(images.grace_hopper_jpeg())
    out = tmp_path / "out.png"

    assert main(["swap", str(source), str(target), "-o", str(out), "--enhance"]) == 0
    assert inverted_inside(decode_image(out.read_bytes()), images.grace_hopper_bgr())
    assert main(["engine-info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["engine"], info["provider"], info["enhance"]) == (
        "onnx",
        "CPUExecutionProvider",
        True,
    )


@pytest.mark.parametrize(
    "command",
    [["engine-info"], ["engine-serve", "--port", "0"], ["serve", "--port", "0"]],
    ids=lambda command: command[0],
)
def test_a_bad_model_dir_stops_the_start_with_one_line(
    command: list[str], models: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("inswapper_128.onnx", "w600k_r50.onnx", "GFPGANv1.4.onnx", "manifest.json"):
        (broken / name).write_bytes((models / name).read_bytes())
    (broken / "w600k_r50.onnx").write_bytes(b"tampered")
    env = {
        **os.environ,
        "FACEPORT_ENGINE": "onnx",
        "FACEPORT_MODEL_DIR": str(broken),
        "FACEPORT_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "faceport.cli", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if " INFO " not in line]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("faceport: invalid_model_dir: w600k_r50.onnx: sha256 ")


# --- video -------------------------------------------------------------------------------


def test_a_video_is_swapped_on_the_onnx_engine(engine: InProcessEngine, tmp_path: Path) -> None:
    spec = ClipSpec(frames=12, audio=False)
    clip = write_clip(tmp_path / "clip.mp4", spec)
    output = tmp_path / "out.mp4"
    seen: list[float] = []

    report = engine.swap_face_video(
        images.astronaut_jpeg(),
        clip,
        output,
        target_index=0,
        reference_face=None,
        progress=seen.append,
        should_stop=lambda: False,
        enhance=True,
    )

    assert report["frames"] == report["swapped_frames"] == 12
    before, after = list(decoded_frames(clip)), list(decoded_frames(output))
    assert len(after) == 12
    for index in (0, 11):  # H.264 both ways: a looser tolerance
        assert inverted_inside(after[index], before[index], tolerance=20)


# --- the SageMaker serving contract ------------------------------------------------------


@pytest.fixture
def served(engine: InProcessEngine) -> Iterator[tuple[str, int]]:
    with serving(engine) as address:
        yield address


def invocation(enhance: bool) -> bytes:
    inputs = {"source": images.astronaut_jpeg(), "target": images.grace_hopper_jpeg()}
    params = TaskParams(output_format="png", enhance=enhance)
    return (
        EngineRequest(operation="face_swap", params=params, inputs=inputs)
        .model_dump_json()
        .encode()
    )


def test_the_serving_contract_runs_the_onnx_engine(served: tuple[str, int]) -> None:
    status, content_type, body = request(served, "POST", "/invocations", invocation(True))

    assert (status, content_type) == (200, "image/png")
    assert inverted_inside(decode_image(body), images.grace_hopper_bgr())


def test_the_serving_contract_refuses_enhance_on_the_classic_engine() -> None:
    with serving(InProcessEngine()) as address:
        status, _, body = request(address, "POST", "/invocations", invocation(True))
    assert status == 422
    assert isinstance(error_from_document(body), EnhanceNotAvailable)
