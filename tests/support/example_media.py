"""Write faceport/api/example_media.py: the reference's inline example media (see there)."""

from __future__ import annotations

import base64
import io
import textwrap
from pathlib import Path

import av
import numpy as np
from PIL import Image

from faceport import engine
from tests.support.images import astronaut_jpeg, grace_hopper_jpeg

TARGET = Path(__file__).resolve().parents[2] / "faceport" / "api" / "example_media.py"
HEADER = (TARGET.read_text().split("# ruff: noqa: E501")[0]) if TARGET.exists() else '"""..."""\n\n'


def face_crop(photo: bytes) -> bytes:
    """The photo's largest face with some margin, 128x136, as a small JPEG."""
    box = engine.detect_faces_in_image(photo)[0].to_dict()["box"]
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    cx, cy, half = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] * 1.1
    area = (int(cx - half), int(cy - half * 1.05), int(cx + half), int(cy + half * 1.15))
    out = io.BytesIO()
    image.crop(area).resize((128, 136), Image.Resampling.LANCZOS).save(out, "JPEG", quality=80)
    return out.getvalue()


def turning_clip(still: bytes) -> bytes:
    image = Image.open(io.BytesIO(still)).convert("RGB")
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = 128, 136, "yuv420p"
        stream.options = {"crf": "30", "preset": "veryslow"}
        for i in range(5):
            frame = image.rotate(i * 1.5, resample=Image.Resampling.BICUBIC, fillcolor=(40, 40, 60))
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.asarray(frame), "rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def constant(name: str, data: bytes, what: str) -> str:
    lines = textwrap.wrap(base64.b64encode(data).decode(), 92)
    body = "\n".join(f'    "{line}"' for line in lines)
    return f"# {what}\n{name} = (\n{body}\n)\n"


def main() -> None:
    astronaut, hopper = face_crop(astronaut_jpeg()), face_crop(grace_hopper_jpeg())
    parts = [
        constant("ASTRONAUT_JPEG_B64", astronaut, "128x136 JPEG: one face"),
        constant("HOPPER_JPEG_B64", hopper, "128x136 JPEG: one face"),
        constant("HOPPER_CLIP_MP4_B64", turning_clip(hopper), "128x136 H.264 MP4: 1 s, 5 frames"),
    ]
    TARGET.write_text(HEADER + "# ruff: noqa: E501\n\n" + "\n".join(parts))


if __name__ == "__main__":
    main()
