"""Following faces through a video: a face mesh in tracking mode on a crop that moves with
the face, landmark smoothing, and which faces to follow.

Per frame a followed face costs one face-mesh call on a small crop (no detector): the
crop is centred on the face's landmarks of the frame before, so the face sits in the
same place of every crop and mediapipe's own tracking (its ROI from the last landmarks)
holds. HOG detection runs only to find faces: at the start, while a face is lost, and
now and then to pick up faces that walk in (when every face or a person is wanted).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from ._identity import Descriptor, descriptor_distance, face_descriptor
from ._landmarks import crop_box_around_face
from ._types import Box, Frame, Landmarks


class OneEuroFilter:
    """The One-Euro filter (Casiez et al., CHI 2012) over a whole landmark set.

    A low-pass filter whose cutoff rises with speed: a face that holds still is smoothed
    hard (no jitter), a face that moves is followed closely (little lag). Points are in
    units of the face's size, so the same settings suit every resolution; the speed that
    sets the cutoff is the whole face's, so every point gets the same cutoff and the face
    keeps its shape.
    """

    def __init__(self, min_cutoff: float, beta: float, d_cutoff: float = 1.0) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self._t: float | None = None
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None

    @staticmethod
    def _alpha(dt: float, cutoff: float) -> float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, t: float, x: np.ndarray) -> np.ndarray:
        """Return the filtered value of sample `x` taken at time `t` (seconds)."""
        if self._t is None or self._x is None or self._dx is None:
            self._t, self._x, self._dx = t, x.astype(np.float64), np.zeros_like(x, np.float64)
            return x.copy()
        dt = max(t - self._t, 1e-3)
        dx = (x - self._x) / dt
        a_d = self._alpha(dt, self.d_cutoff)
        self._dx = a_d * dx + (1.0 - a_d) * self._dx
        speed = float(np.linalg.norm(self._dx.reshape(-1, 2).mean(axis=0)))
        a = self._alpha(dt, self.min_cutoff + self.beta * speed)
        self._x = a * x + (1.0 - a) * self._x
        self._t = t
        return self._x.astype(x.dtype)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when they do not overlap)."""
    inter = Box(
        max(a.left, b.left), max(a.top, b.top), min(a.right, b.right), min(a.bottom, b.bottom)
    )
    overlap = inter.area if inter.width > 0 and inter.height > 0 else 0
    union = a.area + b.area - overlap
    return overlap / union if union else 0.0


def landmarks_box(points: Landmarks) -> Box:
    """The bounding box of landmarks, in whole pixels."""
    low = np.floor(points.min(axis=0)).astype(int)
    high = np.ceil(points.max(axis=0)).astype(int)
    return Box(int(low[0]), int(low[1]), int(high[0]), int(high[1]))


class MeshFollower:
    """One face followed by its own mediapipe face mesh graph in tracking mode.

    `locate` cuts a square crop of `crop_side` pixels around where the face was (from a
    detector box, or from the landmarks of the frame before) and returns the 468 points
    in frame coordinates, or None when the mesh sees no face there.
    """

    def __init__(self, *, crop_side: int, margin: float) -> None:
        import mediapipe as mp

        self.crop_side = crop_side
        self.margin = margin
        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False,
            max_num_faces=1,
            refine_landmarks=False,
            min_detection_confidence=0.3,
            min_tracking_confidence=0.5,
        )

    def close(self) -> None:
        self._mesh.close()

    def crop_around(self, near: Landmarks | Box) -> tuple[float, float, float]:
        """(left, top, side) of the square crop for a face at `near`, in frame pixels."""
        if isinstance(near, Box):
            box = crop_box_around_face(near, (1 << 30, 1 << 30), 1.7)  # unclipped
            return float(box.left), float(box.top), float(max(box.width, box.height))
        low, high = near.min(axis=0), near.max(axis=0)
        centre = (low + high) / 2
        side = float(max(high - low)) * self.margin
        return float(centre[0] - side / 2), float(centre[1] - side / 2), side

    def locate(self, frame: Frame, near: Landmarks | Box) -> Landmarks | None:
        left, top, side = self.crop_around(near)
        if side < 8:
            return None
        scale = self.crop_side / side
        # one affine warp cuts and scales the crop; parts outside the frame come out black,
        # so the face keeps its place in the crop at the frame's edges too
        matrix = np.array([[scale, 0, -left * scale], [0, scale, -top * scale]], np.float32)
        crop = cv2.warpAffine(
            frame,
            matrix,
            (self.crop_side, self.crop_side),
            flags=cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR,
        )
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
        result = self._mesh.process(rgb)
        if not result.multi_face_landmarks:
            return None
        points = result.multi_face_landmarks[0].landmark
        normalised = np.array([(p.x, p.y) for p in points], dtype=np.float32)
        return (normalised * np.float32(side) + np.array([left, top], np.float32)).astype(
            np.float32
        )


GAP = "gap"
"""A followed face missing in a frame, maybe bridged later (see `FaceTracks`)."""


@dataclass
class Track:
    """One followed face: its mesh, smoothing filter, last landmarks and misses in a row."""

    id: int
    follower: MeshFollower
    smoother: OneEuroFilter
    raw: Landmarks
    smooth: Landmarks
    scale: float  # the face's height when found: the unit the smoother works in
    misses: int = 0
    alive: bool = True


@dataclass(frozen=True)
class TrackingSettings:
    """Knobs of face following; times are in seconds of video."""

    detect_max_side: int = 512
    detect_min_score: float = 0.1
    mesh_crop_side: int = 256
    mesh_margin: float = 1.6
    search_interval_s: float = 0.2  # detection while a wanted face is missing
    new_face_interval_s: float = 0.5  # detection for faces walking in ("all", a person)
    bridge_max_frames: int = 6  # misses in a row that are bridged if the face comes back
    min_cutoff: float = 1.0  # One-Euro: Hz at rest
    beta: float = 2.0  # One-Euro: extra Hz per face-size/s of speed
    same_person_distance: float = 0.6
    max_faces: int = 8
    cut_difference: float = 30.0  # mean grey-level change of a thumbnail that means a cut


Selection = int | str  # a face index (0 = largest in the first frame with faces) or "all"


@dataclass
class FrameFaces:
    """The faces to swap in one frame: track id -> landmarks (None: not in this frame;
    GAP: missing, to be bridged or dropped once the track's fate is known)."""

    time_s: float
    faces: dict[int, Any] = field(default_factory=dict)

    def resolved(self) -> bool:
        return all(value is not GAP for value in self.faces.values())


class FaceTracks:
    """Which faces of a video to swap, followed frame by frame.

    `selection`: an index (0 = largest face in the first frame where faces appear; that
    person is then followed, and found again after losing them by their descriptor),
    "all", or, with `reference`, every face whose descriptor is within
    `same_person_distance` of it. `detect(frame)` returns boxes largest first.
    """

    def __init__(
        self,
        settings: TrackingSettings,
        detect: Callable[[Frame, bool], list[Box]],
        *,
        selection: Selection = 0,
        reference: Descriptor | None = None,
    ) -> None:
        self.settings = settings
        self._detect = detect
        self.selection = selection
        self.reference = reference
        self.tracks: list[Track] = []
        self._spare: list[MeshFollower] = []
        self._next_id = 0
        self._last_detect_t = -math.inf
        self._rejected: list[Box] = []
        self.detections = 0
        self.faces_seen_max = 0  # most faces in one detection (to explain an index miss)
        self._thumbnail: np.ndarray | None = None
        self.cuts = 0
        self.tracks_started = 0
        # the face picked by index, kept as a small crop: who it is is worked out only if
        # it is lost and has to be recognised (the descriptor model costs a load)
        self._followed: tuple[Frame, Box] | Descriptor | None = None

    def close(self) -> None:
        for follower in [t.follower for t in self.tracks] + self._spare:
            follower.close()
        self.tracks, self._spare = [], []

    # -- per frame ------------------------------------------------------------------------

    def step(self, frame: Frame, t: float) -> tuple[FrameFaces, dict[int, bool]]:
        """Follow every live track into `frame` (shown at `t` seconds); detect if it is time.

        Returns this frame's faces and, for tracks whose gap ended, what becomes of the
        gap's GAP entries: True, the face came back (interpolate across the gap), or False,
        it was given up (no face in those frames).
        """
        faces = FrameFaces(time_s=t)
        settled: dict[int, bool] = {}
        if self._is_cut(frame):
            # a new shot: nothing is bridged across it and every face is looked for anew
            # (the mesh would follow whoever now stands where the face was)
            self.cuts += 1
            for track in self.tracks:
                track.alive = False
                settled[track.id] = False
            self._retire_dead()
            self._last_detect_t = -math.inf
        for track in self.tracks:
            near = track.raw
            points = track.follower.locate(frame, near)
            if points is None:
                track.misses += 1
                if track.misses > self.settings.bridge_max_frames:
                    track.alive = False
                    settled[track.id] = False
                    faces.faces[track.id] = None
                else:
                    faces.faces[track.id] = GAP
                continue
            if track.misses:
                settled[track.id] = True
            track.misses = 0
            track.raw = points
            track.smooth = self._smooth(track, t, points)
            faces.faces[track.id] = track.smooth
        self._retire_dead()

        if self._time_to_detect(t):
            self._last_detect_t = t
            for track in self._find_new_faces(frame, t):
                faces.faces[track.id] = track.smooth
        return faces, settled

    def _retire_dead(self) -> None:
        for track in [t for t in self.tracks if not t.alive]:
            self._spare.append(track.follower)
        self.tracks = [t for t in self.tracks if t.alive]

    def _is_cut(self, frame: Frame) -> bool:
        """True when the picture changed too much since the frame before to be one shot."""
        # a strided sample is enough to tell shots apart and costs nothing
        step = max(1, min(frame.shape[0], frame.shape[1]) // 48)
        thumbnail = frame[::step, ::step, 1].astype(np.int16)
        before, self._thumbnail = self._thumbnail, thumbnail
        if before is None:
            return False
        return float(np.abs(thumbnail - before).mean()) > self.settings.cut_difference

    @staticmethod
    def _smooth(track: Track, t: float, points: Landmarks) -> Landmarks:
        scale = np.float32(track.scale)
        return (track.smoother(t, points / scale) * scale).astype(np.float32)

    def _wants_new_faces(self) -> bool:
        if self.selection == "all" or self.reference is not None:
            return len(self.tracks) < self.settings.max_faces
        return not self.tracks  # one face followed: search only while it is missing

    def _time_to_detect(self, t: float) -> bool:
        if not self._wants_new_faces() and not any(track.misses for track in self.tracks):
            return False
        missing = not self.tracks or any(track.misses for track in self.tracks)
        interval = self.settings.search_interval_s if missing else self.settings.new_face_interval_s
        return t - self._last_detect_t >= interval - 1e-6

    # -- finding faces ---------------------------------------------------------------------

    def _find_new_faces(self, frame: Frame, t: float) -> list[Track]:
        # the quick pass finds the larger faces; small ones need the thorough pass, which
        # costs about four times as much: only when faces beyond the largest are wanted
        largest_only = self.reference is None and self.selection == 0
        boxes = self._detect(frame, not largest_only)
        self.detections += 1
        self.faces_seen_max = max(self.faces_seen_max, len(boxes))
        followed = [landmarks_box(track.raw) for track in self.tracks]
        fresh = [b for b in boxes if all(iou(b, f) < 0.3 for f in followed)]
        started: list[Track] = []
        rejected: list[Box] = []
        for box in fresh:
            if not self._wants_new_faces():
                break
            track = self._admit(frame, box, boxes, t, rejected)
            if track is not None:
                started.append(track)
        self._rejected = rejected
        return started

    def _admit(
        self, frame: Frame, box: Box, boxes: list[Box], t: float, rejected: list[Box]
    ) -> Track | None:
        """Start a track on `box` if the selection wants that face."""
        if self.reference is None and self.selection == "all":
            return self._start(frame, box, t)
        if self.reference is None and self._followed is None:
            # the first frame with faces picks the face by its index
            assert isinstance(self.selection, int)
            if self.selection >= len(boxes) or boxes[self.selection] != box:
                return None
            track = self._start(frame, box, t)
            if track is not None:
                self._followed = (_face_crop(frame, box), box)
            return track
        if any(iou(box, r) > 0.5 for r in self._rejected):
            rejected.append(box)  # the same stranger as last time: do not ask again
            return None
        distance = descriptor_distance(face_descriptor(frame, box), self._wanted())
        if distance >= self.settings.same_person_distance:
            rejected.append(box)
            return None
        return self._start(frame, box, t)

    def _wanted(self) -> Descriptor:
        """The descriptor of the person to swap: the reference, or the face picked first."""
        if self.reference is not None:
            return self.reference
        if isinstance(self._followed, tuple):
            crop, box = self._followed
            self._followed = face_descriptor(crop, _box_in_crop(box))
        assert self._followed is not None
        return self._followed

    def _start(self, frame: Frame, box: Box, t: float) -> Track | None:
        follower = (
            self._spare.pop()
            if self._spare
            else MeshFollower(
                crop_side=self.settings.mesh_crop_side, margin=self.settings.mesh_margin
            )
        )
        points = follower.locate(frame, box)
        if points is not None:
            # once more on the crop later frames will use, so the mesh's tracking starts
            # from a face placed as it will be from now on
            points = follower.locate(frame, points)
        if points is None:
            self._spare.append(follower)
            return None
        smoother = OneEuroFilter(self.settings.min_cutoff, self.settings.beta)
        scale = max(float(np.ptp(points[:, 1])), 1.0)
        track = Track(
            id=self._next_id,
            follower=follower,
            smoother=smoother,
            raw=points,
            smooth=points,
            scale=scale,
        )
        track.smooth = self._smooth(track, t, points)
        self._next_id += 1
        self.tracks_started += 1
        self.tracks.append(track)
        return track


def _face_crop(frame: Frame, box: Box) -> Frame:
    """A copy of the frame around `box`, enough for `face_descriptor` (see `_box_in_crop`)."""
    pad = max(box.width, box.height)
    return frame[
        max(0, box.top - pad) : box.bottom + pad, max(0, box.left - pad) : box.right + pad
    ].copy()


def _box_in_crop(box: Box) -> Box:
    pad = max(box.width, box.height)
    left, top = max(0, box.left - pad), max(0, box.top - pad)
    return Box(box.left - left, box.top - top, box.right - left, box.bottom - top)
