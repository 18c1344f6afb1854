"""HeyGen's Python example from ../shared/seeds/heygen-faceswap-video.txt: `faceswap()`
verbatim, then the page's polling loop (its "Wait for ... to complete" step, reading the
faceswap's `output.video_url`). The test replaces the base URL https://api.heygen.com
with the faceport server's."""
# ruff: noqa

import requests
import os
import time


def faceswap(source_image_url: str, target_video_url: str) -> str:
    payload = {
        "workflow_type": "FaceswapNode",
        "input": {
            "source_image_url": source_image_url,
            "target_video_url": target_video_url,
        },
    }

    response = requests.post(
        "https://api.heygen.com/v1/workflows/executions",
        headers={
            "X-Api-Key": os.environ["HEYGEN_API_KEY"],
            "Content-Type": "application/json",
        },
        json=payload,
    )

    data = response.json()
    return data["data"]["execution_id"]


faceswap_execution_id = faceswap(
    source_image_url=os.environ["SOURCE_IMAGE_URL"],
    target_video_url=os.environ["TARGET_VIDEO_URL"],
)

while True:
    status = requests.get(
        f"https://api.heygen.com/v1/workflows/executions/{faceswap_execution_id}",
        headers={"X-Api-Key": os.environ["HEYGEN_API_KEY"]},
    ).json()["data"]
    if status["status"] == "completed":
        video_url = status["output"]["video_url"]
        break
    if status["status"] in ("failed", "not_found"):
        raise SystemExit(f"execution {status['status']}: {status}")
    time.sleep(float(os.environ["POLL_INTERVAL_S"]))

print(f"VIDEO_URL {video_url}")
