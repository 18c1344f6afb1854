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
come out as they went in; audio packets are copied untouched. The media I/O (PyAV
demux, decode, encode, mux) is in `_video_io.py`; this module is the pipeline.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from faceport.errors import (
    FaceportError,
    NoFaceInReference,
    NoFaceInTarget,
    TargetIndexOutOfRange,
    TaskCanceled,
)
from faceport.tasks import VideoInfo
from faceport.video_probe import probe_video

from ._backend import VideoFaceRenderer
from ._codec import decode_image
from ._detect import detect_faces
from ._identity import face_descriptor
from ._swap import SourceFaces, analyse_source
from ._track import GAP, FaceTracks, FrameFaces, Selection, TrackingSettings
from ._types import Frame
from ._video_io import EncodeSettings, Picture, VideoSink, decoded_items, open_input
from ._video_render import FaceRenderer, RenderSettings


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
    renderer_for: Callable[[SourceFaces], VideoFaceRenderer] | None = None,
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
    (raises `TaskCanceled`). The output file is removed on any failure. `renderer_for`
    makes the renderer that paints the analysed source's face onto followed faces (None:
    the classic one; the neural backend passes its own).

    Raises `NoFaceInSource`, `NoFaceInReference`, `NoFaceInTarget` (no selected face in
    the whole video), `TargetIndexOutOfRange`, `UnreadableVideo`, `TaskCanceled`.
    """
    started = time.perf_counter()
    analysed = analyse_source(source)
    reference = _reference_descriptor(reference_face) if reference_face is not None else None
    info = probe_video(video)
    renderer: VideoFaceRenderer = (
        renderer_for(analysed)
        if renderer_for is not None
        else FaceRenderer(analysed.frame, analysed.landmarks[0], settings.render)
    )
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
    renderer: VideoFaceRenderer,
    settings: VideoSettings,
    shared: _Shared,
    progress: Callable[[float], None] | None,
    should_stop: Callable[[], bool] | None,
) -> tuple[int, int]:
    rotation, expected_frames, size = info.rotation, info.frames, (info.width, info.height)
    depth = settings.queue_frames
    decoded: queue.Queue[Any] = queue.Queue(depth)
    tracked: queue.Queue[Any] = queue.Queue(depth)
    rendered: queue.Queue[Any] = queue.Queue(depth)
    counts = {"frames": 0, "swapped": 0}
    source = open_input(video)
    try:
        in_video = source.streams.video[0]
        in_video.thread_type = "AUTO"
        in_audio = source.streams.audio[0] if source.streams.audio else None
        encode = EncodeSettings(settings.x264_preset, settings.x264_crf, settings.encoder_threads)
        sink = VideoSink(output, in_video, in_audio, size, encode)
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
    busy = _Busy(shared, "decode")
    items = decoded_items(source, in_video, in_audio, rotation)
    while True:
        with busy:
            item = next(items, _END)
        shared.put(out, item)
        if item is _END:
            return


def _track(
    tracks: FaceTracks, inbox: queue.Queue[Any], out: queue.Queue[Any], shared: _Shared
) -> None:
    """Follow faces frame by frame; hold frames back while a face is missing, until it is
    found again (the gap is bridged) or given up (the gap's frames pass through)."""
    busy = _Busy(shared, "track")
    pending: deque[tuple[Picture, FrameFaces]] = deque()
    last_seen: dict[int, tuple[float, np.ndarray]] = {}
    while (item := shared.get(inbox)) is not _END:
        if not isinstance(item, Picture):
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
    pending: deque[tuple[Picture, FrameFaces]],
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
    renderer: VideoFaceRenderer,
    inbox: queue.Queue[Any],
    out: queue.Queue[Any],
    shared: _Shared,
    counts: dict[str, int],
) -> None:
    busy = _Busy(shared, "render")
    while (item := shared.get(inbox)) is not _END:
        if isinstance(item, Picture):
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


def _write(
    sink: VideoSink, inbox: queue.Queue[Any], shared: _Shared, counts: dict[str, int]
) -> None:
    busy = _Busy(shared, "encode")
    while (item := shared.get(inbox)) is not _END:
        with busy:
            if isinstance(item, Picture):
                sink.write_picture(item)
                shared.written += 1
            else:
                sink.write_audio(item)
    with busy:
        sink.flush()
