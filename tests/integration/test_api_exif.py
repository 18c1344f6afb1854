"""EXIF orientation through the native API with the real engine: a JPEG stored turned and
tagged to be shown upright is detected and swapped upright."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from faceport.adapters.local.runtime import LocalRuntime, build_local_runtime
from faceport.engine import decode_image
from faceport.settings import Settings
from tests.conftest import b64
from tests.support import images, variants
from tests.support.api_client import Api, call, new_account

UPRIGHT = images.grace_hopper_bgr()  # 512 wide, 600 high


@pytest.fixture
def real_runtime(settings: Settings) -> Iterator[LocalRuntime]:
    runtime = build_local_runtime(settings)  # the in-process engine
    runtime.start()
    yield runtime
    runtime.stop()


@pytest.fixture
def app(real_runtime: LocalRuntime) -> Api:
    accounts = real_runtime.accounts
    return Api(real_runtime.services, new_account(accounts, accounts, credits=100))


def face_centre(box: dict[str, int]) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


@pytest.mark.parametrize("orientation", [6, 8])
def test_detection_boxes_are_in_upright_coordinates(app: Api, orientation: int) -> None:
    upright = call(
        app, "POST", "/v1/face-detect", {"image": {"base64": b64(images.grace_hopper_jpeg())}}
    )
    tagged = variants.with_exif_orientation(UPRIGHT, orientation)
    turned = call(app, "POST", "/v1/face-detect", {"image": {"base64": b64(tagged)}})

    assert (upright.status, turned.status) == (200, 200)
    [expected] = upright.json()["result"]["faces"]
    [face] = turned.json()["result"]["faces"]
    x, y = face_centre(face["box"])
    ex, ey = face_centre(expected["box"])
    assert abs(x - ex) < 10 and abs(y - ey) < 10


def test_swap_result_is_upright(app: Api, real_runtime: LocalRuntime) -> None:
    tagged = variants.with_exif_orientation(UPRIGHT, 6)
    body = {
        "source": {"base64": b64(images.astronaut_jpeg())},
        "target": {"base64": b64(tagged)},
    }
    reply = call(app, "POST", "/v1/face-swap", body, {"Prefer": "wait=60"})
    task = reply.json()
    assert (reply.status, task["status"]) == (200, "succeeded"), task

    link = urlparse(task["result"]["url"])
    query = parse_qs(link.query)
    key = link.path.split("/files/", 1)[1]
    result = decode_image(real_runtime.blobs.open_signed(key, query["expires"][0], query["sig"][0]))

    assert result.shape == UPRIGHT.shape
    # away from the face the result is the upright photo (up to JPEG noise)
    corner = np.abs(result[:100, :100].astype(int) - UPRIGHT[:100, :100].astype(int))
    assert corner.mean() < 6
