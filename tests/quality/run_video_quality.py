"""`make quality`, video part: the video swap on short synthetic clips of development-set
photos, scored per clip.

Run: .venv/bin/python -m tests.quality.run_video_quality [--set name=value ...]
     (a RenderSettings field, e.g. shape_transfer=0, to compare with the defaults)

Each clip (tests/support/video.py: 30 frames, 640x480, the photo panning, zooming and
turning a little) is swapped with another person's portrait. Scores: identity (dlib's
descriptor distance of every fifth output frame's largest face to the source, median; low
is good), jitter and flicker of the face once the known camera motion is undone (both
tests/support/video.py; the input clip's own are printed for reference) and the swap's
wall time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from faceport.engine import VideoSettings, swap_face_video
from faceport.engine._video_render import RenderSettings
from tests.quality import devset
from tests.quality.run_quality import changed_settings
from tests.support import images, variants
from tests.support.identity import face_descriptor
from tests.support.video import (
    ClipSpec,
    decoded_frames,
    face_flicker,
    face_jitter,
    mouth_follows,
    write_clip,
)

Photo = Callable[[], np.ndarray]


def cases() -> list[tuple[str, np.ndarray, str, Photo, float]]:
    """(source name, source, target name, target photo, talk: ClipSpec.talk) per clip."""
    people = {portrait.name: portrait.frame for portrait in devset.portraits()}
    return [
        ("astronaut", images.astronaut_bgr(), "hopper", images.grace_hopper_bgr, 0.0),
        ("sample3/1", people["sample3/1"], "astronaut", images.astronaut_bgr, 0.0),
        ("lenna/0", people["lenna/0"], "sample6/3", lambda: people["sample6/3"], 0.0),
        ("takeo/0", people["takeo/0"], "sample4/2", lambda: people["sample4/2"], 0.0),
        ("hopper", images.grace_hopper_bgr(), "astronaut side-lit",
         lambda: devset.side_lit(images.astronaut_bgr()), 0.0),
        ("astronaut", images.astronaut_bgr(), "hopper talking", images.grace_hopper_bgr, 0.3),
        ("sample3/1", people["sample3/1"], "sample6/3 talking", lambda: people["sample6/3"],
         0.3),
    ]  # fmt: skip


def identity(path: Path, source: np.ndarray) -> float:
    """Median distance to `source` of every fifth frame's face (frames without one skipped)."""
    wanted = face_descriptor(source)
    distances = []
    for index, frame in enumerate(decoded_frames(path)):
        if index % 5 == 0:
            try:
                distances.append(float(np.linalg.norm(face_descriptor(frame) - wanted)))
            except ValueError:
                continue
    return statistics.median(distances) if distances else float("nan")


def jitter(path: Path, spec: ClipSpec) -> float:
    try:
        return face_jitter(path, spec, range(spec.frames))
    except ValueError:  # the judge found no face in two frames running
        return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="a RenderSettings field to change, to compare",
    )  # fmt: skip
    args = parser.parse_args()
    settings = VideoSettings(render=changed_settings(RenderSettings(), args.set))
    print(f"{'source > target':<28} {'res-src':>8} {'jitter':>7} {'flicker':>7} {'mouth':>6}"
          f" {'s':>5}   input jitter / flicker")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        for index, (source_name, source, target_name, photo, talk) in enumerate(cases()):
            spec = ClipSpec(width=640, height=480, frames=30, photo=photo, face_scale=0.9,
                            audio=False, talk=talk)  # fmt: skip
            clip = write_clip(Path(folder) / f"clip{index}.mp4", spec)
            output = Path(folder) / f"out{index}.mp4"
            start = time.perf_counter()
            swap_face_video(variants.encode_png(source), clip, output, settings=settings)
            seconds = time.perf_counter() - start
            scores = (identity(output, source), jitter(output, spec), face_flicker(output, spec))
            reference = f"{jitter(clip, spec):.4f} / {face_flicker(clip, spec):.2f}"
            mouth = f"{mouth_follows(output, clip):>6.2f}" if talk else f"{'-':>6}"
            print(f"{source_name + ' > ' + target_name:<28} {scores[0]:>8.3f} {scores[1]:>7.4f} "
                  f"{scores[2]:>7.2f} {mouth} {seconds:>5.2f}   {reference}")  # fmt: skip


if __name__ == "__main__":
    main()
