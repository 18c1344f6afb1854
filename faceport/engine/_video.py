"""Video face swap: decode, follow faces, swap, encode, on overlapping threads.

    reader ──► tracker ──► renderer ──► writer        (bounded queues between them)
    PyAV demux   face mesh    warp, colour,  libx264 encode,
    + decode     on a crop,   blend in       mux; audio packets
    to BGR       smoothing,   place          copied as they are
                 bridging

Each stage is one thread; the heavy calls in every stage (FFmpeg, OpenCV, mediapipe,
numpy on whole arrays) release the GIL, so the four overlap on two cores. Frames are
streamed: at most a few dozen are alive at once, whatever the video's length. Every
frame keeps its timestamp, so frame count, frame rate (constant or variable) and duration
come out as they went in; audio packets are copied untouched.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from faceport.errors import (
    FaceportError,
    NoFaceInReference,
    NoFaceInTarget,
    TargetIndexOutOfRange,
    TaskCanceled,
    UnreadableVideo,
)
from faceport.tasks import VideoInfo
from faceport.video_probe import probe_video

from ._codec import decode_image
from ._detect import detect_faces
from ._identity import face_descriptor
from ._swap import analyse_source
from ._track import GAP, FaceTracks, FrameFaces, Selection, TrackingSettings
from ._types import Frame
from ._video_render import FaceRenderer, RenderSettings

# audio codecs an MP4 file can carry as they are; anything else is re-encoded to AAC
MP4_AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "flac", "alac", "ac3", "eac3"})


@dataclass(frozen=True)
class VideoSettings:
    """Tuning of the video swap; the defaults are what the benchmark ran with."""

    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    render: RenderSettings = field(default_factory=RenderSettings)
    x264_preset: str = "superfast"
    x264_crf: int = 20
    encoder_threads: int = 2
    queue_frames: int = 4


DEFAULT_VIDEO_SETTINGS = VideoSettings()


@dataclass(frozen=True)
class VideoSwapReport:
    """What a video swap did, and where its time went (busy seconds per stage)."""

    frames: int
    swapped_frames: int
    faces_followed: int
    detections: int
    cuts: int
    seconds: float
    busy_s: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Stop(Exception):
    """Raised inside a stage when the pipeline is stopping (error elsewhere or cancel)."""


@dataclass
class _Shared:
    stop: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    written: int = 0
    busy: dict[str, float] = field(default_factory=dict)

    def fail(self, error: BaseException) -> None:
        if self.error is None and not isinstance(error, _Stop):
            self.error = error
        self.stop.set()

    def put(self, channel: queue.Queue[Any], item: Any) -> None:
        while True:
            if self.stop.is_set():
                raise _Stop()
            try:
                channel.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def get(self, channel: queue.Queue[Any]) -> Any:
        while True:
            if self.stop.is_set():
                raise _Stop()
            try:
                return channel.get(timeout=0.1)
            except queue.Empty:
                continue


_END = object()


@dataclass
class _Picture:
    """A decoded frame on its way through: upright BGR pixels and the input's timing."""

    index: int
    pts: int
    time_s: float
    duration: int
    pixels: Frame
    faces: dict[int, Any] = field(default_factory=dict)


def _upright(pixels: Frame, rotation: int) -> Frame:
    """Turn a decoded picture as its display matrix says (FFmpeg's counter-clockwise)."""
    turn = {
        90: cv2.ROTATE_90_COUNTERCLOCKWISE,
        180: cv2.ROTATE_180,
        270: cv2.ROTATE_90_CLOCKWISE,
    }.get(rotation)
    return pixels if turn is None else cv2.rotate(pixels, turn)


def swap_face_video(
    source: bytes,
    video: Path,
    output: Path,
    *,
    target_index: Selection = 0,
    reference_face: bytes | None = None,
    settings: VideoSettings = DEFAULT_VIDEO_SETTINGS,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> VideoSwapReport:
    """Swap the largest face of the `source` image onto faces of `video`; write H.264 MP4.

    Faces to swap: `target_index` N (0 = largest face in the first frame where faces
    appear; that person is then followed, and found again by identity after being lost),
    "all" faces, or with `reference_face` (an image of a person) every face of that person.
    Frames without a selected face pass through unchanged; a face lost for a few frames
    is bridged by interpolating its landmarks. The output keeps every frame's timestamp
    and the audio as it was; a display rotation is applied to the pixels (the output is
    upright and carries none).

    `progress(fraction)` is called now and then from this thread; `should_stop()` is
    polled a few times a second and True stops the work within a fraction of a second
    (raises `TaskCanceled`). The output file is removed on any failure.

    Raises `NoFaceInSource`, `NoFaceInReference`, `NoFaceInTarget` (no selected face in
    the whole video), `TargetIndexOutOfRange`, `UnreadableVideo`, `TaskCanceled`.
    """
    started = time.perf_counter()
    analysed = analyse_source(source)
    reference = _reference_descriptor(reference_face) if reference_face is not None else None
    info = probe_video(video)
    renderer = FaceRenderer(analysed.frame, analysed.landmarks[0], settings.render)
    tracking = settings.tracking

    def detect(frame: Frame, thorough: bool) -> list[Any]:
        return detect_faces(
            frame,
            max_side=tracking.detect_max_side,
            min_score=tracking.detect_min_score,
            thorough=thorough,
        )

    tracks = FaceTracks(tracking, detect, selection=target_index, reference=reference)
    shared = _Shared()
    try:
        frames, swapped = _run_pipeline(
            video, output, info, tracks, renderer, settings, shared, progress, should_stop
        )
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    finally:
        tracks.close()
    if swapped == 0:
        output.unlink(missing_ok=True)
        raise _nothing_swapped(target_index, reference is not None, tracks.faces_seen_max)
    return VideoSwapReport(
        frames=frames,
        swapped_frames=swapped,
        faces_followed=tracks.tracks_started,
        detections=tracks.detections,
        cuts=tracks.cuts,
        seconds=round(time.perf_counter() - started, 3),
        busy_s={name: round(value, 3) for name, value in shared.busy.items()},
    )


def _reference_descriptor(image: bytes) -> np.ndarray:
    frame = decode_image(image)
    boxes = detect_faces(frame, max_side=640, thorough=True)
    if not boxes:
        raise NoFaceInReference()
    return face_descriptor(frame, boxes[0])


def _nothing_swapped(selection: Selection, by_reference: bool, faces_seen: int) -> FaceportError:
    if faces_seen == 0:
        return NoFaceInTarget("No face was found in the video.")
    if by_reference:
        return NoFaceInTarget("No face in the video matches the reference face.")
    if isinstance(selection, int) and selection >= faces_seen:
        return TargetIndexOutOfRange(
            f"target_index {selection} is out of range: the video shows at most "
            f"{faces_seen} face{'s' if faces_seen != 1 else ''} at once.",
            faces_found=faces_seen,
            target_index=selection,
        )
    return NoFaceInTarget("No face of the video could be followed.")


def _run_pipeline(
    video: Path,
    output: Path,
    info: VideoInfo,
    tracks: FaceTracks,
    renderer: FaceRenderer,
    settings: VideoSettings,
    shared: _Shared,
    progress: Callable[[float], None] | None,
    should_stop: Callable[[], bool] | None,
) -> tuple[int, int]:
    import av

    rotation, expected_frames, size = info.rotation, info.frames, (info.width, info.height)
    depth = settings.queue_frames
    decoded: queue.Queue[Any] = queue.Queue(depth)
    tracked: queue.Queue[Any] = queue.Queue(depth)
    rendered: queue.Queue[Any] = queue.Queue(depth)
    counts = {"frames": 0, "swapped": 0}
    try:
        source = av.open(str(video), mode="r")
    except av.FFmpegError as exc:
        raise UnreadableVideo(f"The video could not be read: {exc}.") from exc
    try:
        in_video = source.streams.video[0]
        in_video.thread_type = "AUTO"
        in_audio = source.streams.audio[0] if source.streams.audio else None
        sink = _Sink(output, in_video, in_audio, size, settings)
        stages = [
            ("decode", lambda: _read(source, in_video, in_audio, rotation, decoded, shared)),
            ("track", lambda: _track(tracks, decoded, tracked, shared)),
            ("render", lambda: _render(renderer, tracked, rendered, shared, counts)),
            ("encode", lambda: _write(sink, rendered, shared, counts)),
        ]
        threads = [
            threading.Thread(target=_stage, args=(body, shared), name=f"video-{name}")
            for name, body in stages
        ]
        for thread in threads:
            thread.start()
        _supervise(threads, shared, expected_frames, progress, should_stop)
        sink.close(discard=shared.error is not None or shared.stop.is_set())
    finally:
        source.close()
    if shared.error is not None:
        raise shared.error
    if shared.stop.is_set():
        raise TaskCanceled()
    return counts["frames"], counts["swapped"]


def _stage(body: Callable[[], None], shared: _Shared) -> None:
    try:
        body()
    except BaseException as error:
        shared.fail(error)


def _supervise(
    threads: list[threading.Thread],
    shared: _Shared,
    expected_frames: int,
    progress: Callable[[float], None] | None,
    should_stop: Callable[[], bool] | None,
) -> None:
    """Wait for the stages, reporting progress and polling for a cancel meanwhile."""
    while any(thread.is_alive() for thread in threads):
        threads[-1].join(0.2)
        if should_stop is not None and not shared.stop.is_set() and should_stop():
            shared.stop.set()
        if progress is not None and expected_frames:
            progress(min(1.0, shared.written / expected_frames))
    for thread in threads:
        thread.join()


class _Busy:
    """Adds the seconds spent inside `with` blocks to `shared.busy[name]`."""

    def __init__(self, shared: _Shared, name: str) -> None:
        self.shared, self.name, self.start = shared, name, 0.0

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        elapsed = time.perf_counter() - self.start
        self.shared.busy[self.name] = self.shared.busy.get(self.name, 0.0) + elapsed


def _read(
    source: Any,
    in_video: Any,
    in_audio: Any,
    rotation: int,
    out: queue.Queue[Any],
    shared: _Shared,
) -> None:
    import av

    busy = _Busy(shared, "decode")
    streams = [in_video] + ([in_audio] if in_audio is not None else [])
    index, last_pts = 0, None
    try:
        packets = source.demux(streams)
        while True:
            with busy:
                packet = next(packets, None)
                if packet is None:
                    break
                if packet.stream is in_audio:
                    item: Any = packet if packet.dts is not None else None
                    pictures = []
                else:
                    item = None
                    pictures = [
                        _picture(f, index + n, rotation) for n, f in enumerate(packet.decode())
                    ]
            if item is not None:
                shared.put(out, item)
            for picture in pictures:
                # timestamps must rise for the encoder; a repeated one moves up by a tick
                if last_pts is not None and picture.pts <= last_pts:
                    picture.pts = last_pts + 1
                last_pts = picture.pts
                shared.put(out, picture)
                index += 1
    except av.FFmpegError as exc:
        raise UnreadableVideo(f"The video could not be decoded: {exc}.") from exc
    shared.put(out, _END)


def _picture(frame: Any, index: int, rotation: int) -> _Picture:
    pts = frame.pts if frame.pts is not None else index
    time_base = frame.time_base or Fraction(1, 1000)
    pixels = _upright(yuv_to_bgr(frame), rotation)
    return _Picture(index, pts, float(pts * time_base), frame.duration or 0, pixels)


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


def _track(
    tracks: FaceTracks, inbox: queue.Queue[Any], out: queue.Queue[Any], shared: _Shared
) -> None:
    """Follow faces frame by frame; hold frames back while a face is missing, until it is
    found again (the gap is bridged) or given up (the gap's frames pass through)."""
    busy = _Busy(shared, "track")
    pending: deque[tuple[_Picture, FrameFaces]] = deque()
    last_seen: dict[int, tuple[float, np.ndarray]] = {}
    while (item := shared.get(inbox)) is not _END:
        if not isinstance(item, _Picture):
            shared.put(out, item)  # audio goes straight on
            continue
        with busy:
            faces, settled = tracks.step(item.pixels, item.time_s)
            pending.append((item, faces))
            for track_id, came_back in settled.items():
                start = last_seen.get(track_id) if came_back else None
                _settle_gap(pending, track_id, start, faces)
            for track_id, points in faces.faces.items():
                if isinstance(points, np.ndarray):
                    last_seen[track_id] = (item.time_s, points)
        while pending and pending[0][1].resolved():
            picture, frame_faces = pending.popleft()
            picture.faces = frame_faces.faces
            shared.put(out, picture)
    for picture, frame_faces in pending:  # faces still missing at the end: not bridged
        picture.faces = {k: (None if v is GAP else v) for k, v in frame_faces.faces.items()}
        shared.put(out, picture)
    shared.put(out, _END)


def _settle_gap(
    pending: deque[tuple[_Picture, FrameFaces]],
    track_id: int,
    start: tuple[float, np.ndarray] | None,
    now: FrameFaces,
) -> None:
    """Fill a track's GAP entries: interpolated between the gap's ends, or None."""
    end = now.faces.get(track_id)
    for picture, faces in pending:
        if faces.faces.get(track_id) is not GAP:
            continue
        if start is None or not isinstance(end, np.ndarray):
            faces.faces[track_id] = None
            continue
        start_t, start_points = start
        span = max(now.time_s - start_t, 1e-6)
        weight = np.float32((picture.time_s - start_t) / span)
        faces.faces[track_id] = start_points + (end - start_points) * weight


def _render(
    renderer: FaceRenderer,
    inbox: queue.Queue[Any],
    out: queue.Queue[Any],
    shared: _Shared,
    counts: dict[str, int],
) -> None:
    busy = _Busy(shared, "render")
    while (item := shared.get(inbox)) is not _END:
        if isinstance(item, _Picture):
            with busy:
                drawn = [
                    renderer.render(item.pixels, face_id, points)
                    for face_id, points in item.faces.items()
                    if isinstance(points, np.ndarray)
                ]
                counts["frames"] += 1
                counts["swapped"] += any(drawn)
                if item.index % 64 == 0:
                    renderer.forget({k for k, v in item.faces.items() if v is not None})
        shared.put(out, item)
    shared.put(out, _END)


def _write(sink: _Sink, inbox: queue.Queue[Any], shared: _Shared, counts: dict[str, int]) -> None:
    busy = _Busy(shared, "encode")
    while (item := shared.get(inbox)) is not _END:
        with busy:
            if isinstance(item, _Picture):
                sink.write_picture(item)
                shared.written += 1
            else:
                sink.write_audio(item)
    with busy:
        sink.flush()


class _Sink:
    """The output MP4: H.264 video with the input's timing, the input's audio copied."""

    def __init__(
        self,
        path: Path,
        in_video: Any,
        in_audio: Any,
        size: tuple[int, int],
        settings: VideoSettings,
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

    def write_picture(self, picture: _Picture) -> None:
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
