"""Probing an input video with PyAV: size as displayed, duration, frames, audio; and the
video limits. Used by the workflow's prepare step, so a video over a limit fails with the
limit's code before any face work starts. Imports PyAV only (no numpy), and only when
called, so the API never loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faceport.errors import UnreadableVideo, VideoResolutionTooHigh, VideoTooLong
from faceport.settings import Settings
from faceport.tasks import VideoInfo


def probe_video(path: Path) -> VideoInfo:
    """Open the video, decode its first frame, and describe it.

    Raises `UnreadableVideo` for anything that is not a decodable video: a corrupt or
    truncated file, no video stream, or a codec the decoder lacks.
    """
    import av

    try:
        with av.open(str(path), mode="r") as container:
            return _describe(container)
    except av.FFmpegError as exc:
        raise UnreadableVideo(f"The video could not be read: {exc}.") from exc
    raise AssertionError("unreachable")  # mypy: the with block may swallow exceptions


def _describe(container: Any) -> VideoInfo:
    if not container.streams.video:
        raise UnreadableVideo("The file has no video stream.")
    stream = container.streams.video[0]
    first = next(container.decode(stream), None)
    if first is None:
        raise UnreadableVideo("The video stream has no frames that decode.")
    rotation = _normal_rotation(first.rotation)
    width, height = first.width, first.height
    if rotation in (90, 270):
        width, height = height, width
    frames, duration_s = _frames_and_duration(container, stream)
    rate = stream.average_rate or stream.guessed_rate
    frame_rate = float(rate) if rate else (frames / duration_s if duration_s else 0.0)
    return VideoInfo(
        width=width,
        height=height,
        duration_s=round(duration_s, 3),
        frames=frames,
        frame_rate=round(frame_rate, 3),
        rotation=rotation,
        has_audio=bool(container.streams.audio),
    )


def _normal_rotation(degrees: float) -> int:
    """A display rotation as 0, 90, 180 or 270 (counter-clockwise, as FFmpeg reports it)."""
    return round(degrees / 90) % 4 * 90


def _frames_and_duration(container: Any, stream: Any) -> tuple[int, float]:
    """The stream's frame count and duration from its header, or from its packets when the
    header does not say (no decoding either way)."""
    if stream.frames and stream.duration and stream.time_base:
        return int(stream.frames), float(stream.duration * stream.time_base)
    container.seek(0)
    count, end = 0, 0.0
    for packet in container.demux(stream):
        if packet.size == 0 or packet.pts is None:
            continue
        count += 1
        end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    return count, max(0.0, end - start)


def check_video_limits(info: VideoInfo, settings: Settings) -> None:
    """Raise `VideoTooLong` or `VideoResolutionTooHigh` if the video is over a limit."""
    if info.duration_s > settings.max_video_duration_s:
        raise VideoTooLong(
            f"The video lasts {info.duration_s:.1f} s; at most "
            f"{settings.max_video_duration_s:g} s are allowed.",
            limit=settings.max_video_duration_s,
        )
    if info.width * info.height > settings.max_video_pixels:
        raise VideoResolutionTooHigh(
            f"The video is {info.width}x{info.height}; at most {settings.max_video_pixels} "
            "pixels per frame are allowed.",
            limit=settings.max_video_pixels,
        )
