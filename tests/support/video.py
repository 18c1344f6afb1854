"""Synthetic test videos made from the packaged photos: a face that pans, zooms and turns a
little, an optional cut to a stretch without a face, an optional tone as the audio track.

Every frame's camera motion is known (`frame_transform`), so tests can map landmarks found
in an output frame back onto the still photo, where the true face does not move at all.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tests.quality.scoring import inter_ocular
from tests.support import images
from tests.support.identity import landmarks68


@dataclass(frozen=True)
class ClipSpec:
    """What to render; `no_face` lists [start, end) frame ranges that show a faceless photo."""

    width: int = 480
    height: int = 360
    fps: int = 15
    frames: int = 30
    photo: Callable[[], np.ndarray] = images.grace_hopper_bgr
    face_scale: float = 0.55  # photo height as a fraction of the frame height
    pan_px: float = 40.0  # horizontal travel over the clip, in output pixels
    zoom: float = 0.10  # relative growth over the clip
    turn_deg: float = 4.0  # in-plane rotation at the end of the clip
    no_face: Sequence[tuple[int, int]] = ()
    audio: bool = True
    rotation_tag: int = 0  # 90: stored turned a quarter left, displayed upright
    frame_durations: Sequence[int] | None = None  # in 1/fps/2 ticks: variable frame rate
    crf: int = 18
    # the mouth opened by up to this many inter-ocular distances, three times over the
    # clip (0: a still face), so a swap can be judged on following the target's speech
    talk: float = 0.0


def frame_transform(spec: ClipSpec, index: int) -> np.ndarray:
    """The 2x3 affine map from photo pixels to output pixels of frame `index`."""
    photo = spec.photo()
    t = index / max(1, spec.frames - 1)
    scale = spec.face_scale * spec.height / photo.shape[0] * (1.0 + spec.zoom * t)
    angle = spec.turn_deg * math.sin(math.pi * t)
    centre = (photo.shape[1] / 2, photo.shape[0] / 2)
    matrix = cv2.getRotationMatrix2D(centre, angle, scale)
    matrix[0, 2] += spec.width / 2 - centre[0] - spec.pan_px / 2 + spec.pan_px * t
    matrix[1, 2] += spec.height / 2 - centre[1]
    return matrix


def render_frame(spec: ClipSpec, index: int) -> np.ndarray:
    """Frame `index` of the clip as BGR."""
    if any(start <= index < end for start, end in spec.no_face):
        return cv2.resize(images.coffee_bgr(), (spec.width, spec.height))
    photo = spec.photo()
    if spec.talk > 0:
        t = index / max(1, spec.frames - 1)
        photo = opened_mouth(photo, spec.talk * (0.5 - 0.5 * math.cos(2 * math.pi * 3 * t)))
    return cv2.warpAffine(
        photo,
        frame_transform(spec, index),
        (spec.width, spec.height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,  # a mirrored border would add faces
    )


def opened_mouth(photo: np.ndarray, opening: float) -> np.ndarray:
    """`photo` with its largest face's jaw dropped by `opening` inter-ocular distances:
    everything below the lips' line, out to the jaw and down to the chin, moved down, and
    the gap painted as a dark mouth (dlib's 68 points say where)."""
    points = _still_landmarks68(photo.tobytes(), photo.shape)
    iod = inter_ocular(points)
    line = (points[62, 1] + points[66, 1]) / 2
    centre, half = points[[48, 54], 0].mean(), abs(points[54, 0] - points[48, 0]) * 0.8
    chin = points[8, 1]
    ys, xs = np.mgrid[0 : photo.shape[0], 0 : photo.shape[1]].astype(np.float32)
    across = np.clip(1.0 - np.abs(xs - centre) / half, 0.0, 1.0)
    across = across * across * (3 - 2 * across)
    down = np.clip((chin + 0.5 * iod - ys) / (0.5 * iod), 0.0, 1.0)
    drop = opening * iod * across * down
    moved = cv2.remap(photo, xs, ys - drop * (ys >= line), cv2.INTER_LINEAR)
    gap = ((ys >= line) & (ys < line + drop))[..., None]
    return np.where(gap, (photo[int(line), int(centre)] * 0.25).astype(np.uint8), moved)


@functools.cache
def _still_landmarks68(data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    frame = np.frombuffer(data, np.uint8).reshape(shape)
    found = landmarks68(frame)
    if found is None:
        raise ValueError("the photo shows no face")
    return found


def mouth_opening(frame: np.ndarray) -> float | None:
    """The gap between the inner lips of the largest face, in inter-ocular distances."""
    points = landmarks68(frame)
    if points is None:
        return None
    return float(np.linalg.norm(points[66] - points[62])) / inter_ocular(points)


def mouth_follows(output: Path, clip: Path) -> float:
    """How far the output's mouth opens and closes with the clip's: the slope of the
    output's inner-lip gap over the input's, frame by frame (dlib's 68 points; 1 = as
    the target speaks, 0 = not at all)."""
    pairs = [
        (opened, shown)
        for opened, shown in zip(
            map(mouth_opening, decoded_frames(clip)), map(mouth_opening, decoded_frames(output)),
            strict=True,
        )
        if opened is not None and shown is not None
    ]  # fmt: skip
    if len(pairs) < 3:
        return float("nan")
    opened, shown = np.array(pairs).T
    return float(np.polyfit(opened, shown, 1)[0])


def frame_pts(spec: ClipSpec) -> list[int]:
    """Presentation times of the frames in the video stream's time base (1 / (2 fps))."""
    durations = spec.frame_durations or [2] * spec.frames
    pts, now = [], 0
    for index in range(spec.frames):
        pts.append(now)
        now += durations[index % len(durations)]
    return pts


def write_clip(path: Path, spec: ClipSpec) -> Path:
    """Encode the clip as H.264 MP4 (with an AAC tone when `spec.audio`) and return `path`."""
    time_base = Fraction(1, spec.fps * 2)
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=spec.fps)
        video.width, video.height = spec.width, spec.height
        if spec.rotation_tag:
            video.width, video.height = spec.height, spec.width
        video.pix_fmt = "yuv420p"
        video.time_base = time_base
        video.codec_context.time_base = time_base
        video.options = {"crf": str(spec.crf), "preset": "veryfast"}
        audio = container.add_stream("aac", rate=48_000) if spec.audio else None
        if audio is not None:
            audio.layout = "mono"
        for index, pts in enumerate(frame_pts(spec)):
            picture = render_frame(spec, index)
            if spec.rotation_tag:
                picture = cv2.rotate(picture, cv2.ROTATE_90_COUNTERCLOCKWISE)
            frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
            frame.pts, frame.time_base = pts, time_base
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            seconds = (frame_pts(spec)[-1] + 2) * float(time_base)
            _write_tone(container, audio, seconds)
    if spec.rotation_tag:
        set_display_rotation(path, spec.rotation_tag)
    return path


def _write_tone(
    container: av.container.OutputContainer, stream: av.AudioStream, seconds: float
) -> None:
    rate = 48_000
    samples = np.arange(round(seconds * rate), dtype=np.float32) / rate
    tone = (0.2 * np.sin(2 * np.pi * 440.0 * samples)).astype(np.float32)
    block = 1024
    for start in range(0, len(tone), block):
        chunk = tone[start : start + block][None, :]
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate, frame.pts = rate, start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def set_display_rotation(path: Path, degrees: int) -> None:
    """Rewrite the video track's tkhd matrix so players turn the picture `degrees` (90)
    clockwise (FFmpeg reports it as a rotation of -90).

    MP4 keeps rotation as a 3x3 matrix in the track header; patching its 36 bytes is how a
    phone's portrait clip looks to a decoder, without re-encoding anything.
    """
    if degrees != 90:
        raise ValueError("only 90 degrees is supported here")
    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")  # the first track is the video track
    if at < 0 or data[at + 4] != 0:
        raise ValueError("no version-0 tkhd box found")
    matrix_at = at + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 8 + 2 + 2 + 2 + 2
    one, minus_one, w = 0x00010000, 0xFFFF0000, 0x40000000
    values = (0, one, 0, minus_one, 0, 0, 0, 0, w)
    data[matrix_at : matrix_at + 36] = b"".join(v.to_bytes(4, "big") for v in values)
    path.write_bytes(bytes(data))


def decoded_frames(path: Path) -> Iterator[np.ndarray]:
    """The frames of a video as BGR, as displayed (rotation applied by the caller)."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="bgr24")


def face_jitter(path: Path, spec: ClipSpec, frames: Sequence[int]) -> float:
    """How much the face moves on the still photo between consecutive frames, measured
    with dlib's 5-point shape predictor (independent of the engine's landmarks).

    Each frame's 5 points are mapped back onto the photo with the inverse of the frame's
    known camera motion; there a real face does not move, so what is left is jitter. The
    result is the median over consecutive pairs of the mean point displacement, as a
    fraction of the distance between the eyes.
    """
    wanted = set(frames)
    points: dict[int, np.ndarray] = {}
    for index, frame in enumerate(decoded_frames(path)):
        if index in wanted:
            found = five_points(frame)
            if found is not None:
                inverse = cv2.invertAffineTransform(frame_transform(spec, index))
                points[index] = cv2.transform(found[None], inverse)[0]
    steps = []
    for index in sorted(points):
        if index + 1 in points:
            before, after = points[index], points[index + 1]
            eyes = float(np.linalg.norm(before[0] - before[2]))
            steps.append(float(np.linalg.norm(after - before, axis=1).mean()) / eyes)
    if not steps:
        raise ValueError("no consecutive frames with a face")
    return float(np.median(steps))


def five_points(frame: np.ndarray) -> np.ndarray | None:
    """dlib's 5 landmarks (eye corners, nose) of the largest face, or None."""
    from tests.support.identity import _models

    detector, predictor, _ = _models()
    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    rects = detector(rgb, 0)
    if len(rects) == 0:
        return None
    shape = predictor(rgb, max(rects, key=lambda rect: rect.area()))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def face_flicker(path: Path, spec: ClipSpec) -> float:
    """How much the face region changes between consecutive frames once the known camera
    motion is undone: the median over frame pairs of the mean absolute grey-level change
    inside the photo's face box. For the input this is compression and resampling noise;
    a swapped face that jitters or flickers in tone adds to it."""
    from tests.support.identity import _models

    photo = spec.photo()
    detector = _models()[0]
    rect = max(detector(np.ascontiguousarray(photo[:, :, ::-1]), 1), key=lambda r: r.area())
    box = (slice(max(0, rect.top()), rect.bottom()), slice(max(0, rect.left()), rect.right()))
    before, changes = None, []
    for index, frame in enumerate(decoded_frames(path)):
        inverse = cv2.invertAffineTransform(frame_transform(spec, index))
        still = cv2.warpAffine(frame, inverse, (photo.shape[1], photo.shape[0]))
        face = still[box].astype(np.float32)
        if before is not None:
            changes.append(float(np.abs(face - before).mean()))
        before = face
    return float(np.median(changes))
