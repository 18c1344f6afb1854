"""The seed pages' own example requests (../shared/seeds/), verbatim: paths, headers and
bodies as the pages print them. Only the example hosts are pointed elsewhere (`aimed`),
at a loopback server that serves test photos and a clip under the same paths."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from tests.support import images
from tests.support.file_server import serve_files

# apiinone-face-swap.txt, "示例请求"
APIINONE_PATH = "/api/v1/images/tools/face-swap"
APIINONE_HEADERS = {"Authorization": "Bearer aio_your_api_key", "Content-Type": "application/json"}
APIINONE_BODY = """{
  "model": "face-swap",
  "image": "https://example.com/target-photo.jpg",
  "face_image": "https://example.com/source-face.jpg",
  "target_index": 0,
  "output_format": "png"
}"""

# zhiqite-roop-face-swap.txt, "Request Example" (curl's `--header 'Name;'` sends it empty)
ZHIQITE_PATH = "/AIGCImgOpenServ/saas/tool/roop"
ZHIQITE_HEADERS = {
    "X-Request-req-accessKeyId": "",
    "X-Request-req-accessKeySecret": "",
    "Content-Type": "application/json",
}
ZHIQITE_TARGET = (
    "/Output-Img2/DALL%C2%B7E%202023-11-20%2010.06.53%20-%20Photo-realistic%20illustration"
    "%20of%20Liming%20from%20image%20x1%2C%20leaving%20his%20hometown%20and%20embarking%20on"
    "%20a%20journey%20to%20the%20Xinjiang%20Production%20and%20Construction%20Corp.png"
)
ZHIQITE_BODY = (
    """{
    "sourceUrl": "https://dbt-aigc.oss-cn-hangzhou.aliyuncs.com/Output-Img2/dalle_face.png",
    "targetUrl": "https://dbt-aigc.oss-cn-hangzhou.aliyuncs.com"""
    + ZHIQITE_TARGET
    + """",
    "businessTaskId": "111612"
}"""
)

# mjproxy-insightface-swap.txt, "请求示例"
MJ_PATH = "/mj/insight-face/swap"
MJ_HEADERS = {"Content-Type": "application/json"}
MJ_BODY = """{
    "sourceBase64": "",
    "targetBase64": "",
    "accountFilter": {
        "instanceId": "string"
    },
    "notifyHook": "string",
    "state": "string"
}"""

# heygen-faceswap-video.txt, "curl" and "Basic Face Swap"
HEYGEN_PATH = "/v1/workflows/executions"
HEYGEN_BODIES = [
    '{"workflow_type": "FaceswapNode", "input": {"source_image_url": '
    '"https://example.com/face.jpg", "target_video_url": "https://example.com/video.mp4"}}',
    """{
    "workflow_type": "FaceswapNode",
    "input": {
      "source_image_url": "https://example.com/face-photo.jpg",
      "target_video_url": "https://example.com/original-video.mp4"
    }
  }""",
    """{
    "workflow_type": "FaceswapNode",
    "input": {
      "source_image_url": "https://example.com/headshot.jpg",
      "target_video_url": "https://example.com/presentation.mp4"
    }
  }""",
]
HEYGEN_STATUS_PATH = "/v1/workflows/executions/node-gw-f1s2w3p4"

# ailabtools-face-fusion.txt: multipart fields image_target, image_template, source_similarity
AILAB_PATH = "/api/portrait/effects/face-fusion"

EXAMPLE_HOSTS = ("https://example.com", "https://dbt-aigc.oss-cn-hangzhou.aliyuncs.com")


def aimed(text: str, base: str) -> str:
    """`text` with the seed's example hosts replaced by `base`."""
    for host in EXAMPLE_HOSTS:
        text = text.replace(host, base)
    return text


def bmp(jpeg: bytes) -> bytes:
    """The same picture as a BMP (a seed input format)."""
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).convert("RGB").save(out, format="BMP")
    return out.getvalue()


@contextmanager
def seed_files(clip: bytes = b"") -> Iterator[str]:
    """Serve a face photo at every image path the seeds use, and `clip` at their video
    paths; yields the base URL."""
    face, other = images.astronaut_jpeg(), images.grace_hopper_jpeg()
    files = {
        "/target-photo.jpg": other,
        "/source-face.jpg": face,
        "/Output-Img2/dalle_face.png": face,
        ZHIQITE_TARGET: other,
        "/face.jpg": face,
        "/face-photo.jpg": face,
        "/headshot.jpg": face,
    }
    for name in ("/video.mp4", "/original-video.mp4", "/presentation.mp4"):
        files[name] = clip
    with serve_files(files) as base:
        yield base
