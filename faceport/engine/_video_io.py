"""Video media I/O with PyAV: demux and decode to upright BGR pictures, and the output MP4
(H.264 encode, the input's timing kept, audio packets copied or re-encoded, mux).

The pipeline in `_video.py` drives these from its reader and writer threads; nothing here
knows about faces.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2

from faceport.errors import UnreadableVideo

from ._types import Frame

# audio codecs an MP4 file can carry as they are; anything else is re-encoded to AAC
MP4_AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "flac", "alac", "ac3", "eac3"})


@dataclass(frozen=True)
class EncodeSettings:
    """The output's H.264 encoder options."""

    x264_preset: str
    x264_crf: int
    encoder_threads: int


@dataclass
class Picture:
    """A decoded frame on its way through: upright BGR pixels and the input's timing."""

    index: int
    pts: int
    time_s: float
    duration: int
    pixels: Frame
    faces: dict[int, Any] = field(default_factory=dict)


def open_input(video: Path) -> Any:
    """The input container, opened for reading (raises `UnreadableVideo`)."""
    import av

    try:
        return av.open(str(video), mode="r")
    except av.FFmpegError as exc:
        raise UnreadableVideo(f"The video could not be read: {exc}.") from exc


def decoded_items(source: Any, in_video: Any, in_audio: Any, rotation: int) -> Iterator[Any]:
    """The input in demux order: a `Picture` per decoded frame (timestamps made to rise),
    and the audio packets as they are. Raises `UnreadableVideo` on a decoding error."""
    import av

    streams = [in_video] + ([in_audio] if in_audio is not None else [])
    index, last_pts = 0, None
    try:
        for packet in source.demux(streams):
            if packet.stream is in_audio:
                if packet.dts is not None:
                    yield packet
                continue
            for frame in packet.decode():
                picture = _picture(frame, index, rotation)
                # timestamps must rise for the encoder; a repeated one moves up by a tick
                if last_pts is not None and picture.pts <= last_pts:
                    picture.pts = last_pts + 1
                last_pts = picture.pts
                index += 1
                yield picture
    except av.FFmpegError as exc:
        raise UnreadableVideo(f"The video could not be decoded: {exc}.") from exc


def _upright(pixels: Frame, rotation: int) -> Frame:
    """Turn a decoded picture as its display matrix says (FFmpeg's counter-clockwise)."""
    turn = {
        90: cv2.ROTATE_90_COUNTERCLOCKWISE,
        180: cv2.ROTATE_180,
        270: cv2.ROTATE_90_CLOCKWISE,
    }.get(rotation)
    return pixels if turn is None else cv2.rotate(pixels, turn)


def _picture(frame: Any, index: int, rotation: int) -> Picture:
    pts = frame.pts if frame.pts is not None else index
    time_base = frame.time_base or Fraction(1, 1000)
    pixels = _upright(yuv_to_bgr(frame), rotation)
    return Picture(index, pts, float(pts * time_base), frame.duration or 0, pixels)


def yuv_to_bgr(frame: Any) -> Frame:
    """The decoded frame as BGR pixels, through 4:2:0 planes and OpenCV's BT.601 matrix.

    OpenCV converts 720p in a fraction of the time swscale takes, and `bgr_to_yuv` uses
    the same matrix on the way back, so pixels the swap leaves alone come out as they
    went in whatever matrix the file is tagged with (the output keeps the input's tags).
    Sides are made even (4:2:0 needs it), at most one pixel less.
    """
    width, height = frame.width // 2 * 2, frame.height // 2 * 2
    if frame.format.name != "yuv420p" or (width, height) != (frame.width, frame.height):
        frame = frame.reformat(width=width, height=height, format="yuv420p")
    return cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2BGR_I420)


def bgr_to_yuv(pixels: Frame) -> Any:
    """A yuv420p VideoFrame of BGR pixels (see `yuv_to_bgr`)."""
    import av

    return av.VideoFrame.from_ndarray(
        cv2.cvtColor(pixels, cv2.COLOR_BGR2YUV_I420), format="yuv420p"
    )


class VideoSink:
    """The output MP4: H.264 video with the input's timing, the input's audio copied."""

    def __init__(
        self,
        path: Path,
        in_video: Any,
        in_audio: Any,
        size: tuple[int, int],
        settings: EncodeSettings,
    ) -> None:
        import av

        self._path = path
        self._container = av.open(str(path), mode="w", format="mp4")
        self._in_video = in_video
        self._settings = settings
        self._closed = False
        self._durations: dict[int, int] = {}  # pts -> duration, once known
        self._last_pts: int | None = None
        self._last_duration = 0
        # every stream before the first packet: the header is written with the first
        self._open_video(*size)
        self._audio: Any = None
        self._audio_encoder: Any = None
        if in_audio is not None:
            self._add_audio(in_audio)

    def _add_audio(self, in_audio: Any) -> None:
        import av

        if in_audio.codec_context.name in MP4_AUDIO_CODECS:
            self._audio = self._container.add_stream_from_template(in_audio)
            return
        # not storable in MP4 as it is: decode and re-encode as AAC
        self._audio = self._container.add_stream("aac", rate=in_audio.codec_context.sample_rate)
        self._audio_decoder = in_audio.codec_context
        self._resampler = av.AudioResampler(
            format="fltp",
            layout=in_audio.codec_context.layout,
            rate=in_audio.codec_context.sample_rate,
        )
        self._audio_encoder = self._audio

    def _open_video(self, width: int, height: int) -> None:
        in_ctx = self._in_video.codec_context
        rate = self._in_video.average_rate or self._in_video.guessed_rate or Fraction(30, 1)
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height = width // 2 * 2, height // 2 * 2
        stream.pix_fmt = "yuv420p"
        stream.time_base = self._in_video.time_base
        stream.codec_context.time_base = self._in_video.time_base
        stream.codec_context.thread_count = self._settings.encoder_threads
        # the input's colour tags: players show the output as they showed the input
        for name in ("colorspace", "color_range", "color_primaries", "color_trc"):
            value = getattr(in_ctx, name, None)
            if value:
                setattr(stream.codec_context, name, value)
        stream.options = {
            "preset": self._settings.x264_preset,
            "crf": str(self._settings.x264_crf),
        }
        self._video = stream

    def write_picture(self, picture: Picture) -> None:
        frame = bgr_to_yuv(picture.pixels)
        frame.pts = picture.pts
        frame.time_base = self._in_video.time_base
        if self._last_pts is not None:
            self._durations[self._last_pts] = picture.pts - self._last_pts
        self._last_pts, self._last_duration = picture.pts, picture.duration
        self._mux_video(self._video.encode(frame))

    def _mux_video(self, packets: list[Any]) -> None:
        # x264 does not pass frame durations on; a frame lasts until the next one, and the
        # last one until the input's video ended, or the muxer's guess makes the output's
        # duration (and average frame rate) drift from the input's
        for packet in packets:
            packet.duration = self._durations.pop(packet.pts, 0)
        self._container.mux(packets)

    def _input_end(self) -> int | None:
        """When the input's video stream ends, in its time base (None: it does not say)."""
        stream = self._in_video
        if not stream.duration:
            return None
        return int((stream.start_time or 0) + stream.duration)

    def write_audio(self, packet: Any) -> None:
        if self._audio_encoder is None:
            packet.stream = self._audio
            self._container.mux(packet)
            return
        for decoded in self._audio_decoder.decode(packet):
            for resampled in self._resampler.resample(decoded):
                self._container.mux(self._audio_encoder.encode(resampled))

    def flush(self) -> None:
        if self._last_pts is not None:
            end = self._input_end()
            last = end - self._last_pts if end is not None else self._last_duration
            self._durations[self._last_pts] = max(1, last)
        self._mux_video(self._video.encode(None))
        if self._audio_encoder is not None:
            self._container.mux(self._audio_encoder.encode(None))

    def close(self, *, discard: bool) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._container.close()
        except Exception:
            if not discard:
                raise
        if discard:
            self._path.unlink(missing_ok=True)
