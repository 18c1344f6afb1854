"""Drawing the source face onto followed faces, frame after frame.

The image swap's stages (the source's inner-face proportions, piecewise-affine warp, blend
mask, local colour and shading, the boundary match, feathered blend), each frame on its
own: the local transfer follows the target's light as it is in that frame. The source is
analysed once; the mesh's triangles are put in paint order for each frame (a face that
turns changes which of them it hides). With `local_colour` off, the global LAB transfer's
gain and offset are smoothed over time instead, so the face's tone does not flicker."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ._colour import transfer_local_shading
from ._landmarks import FACE_OVAL, inter_ocular_distance
from ._swap import blend_face, warp_face_with_weights, weights_on_skin
from ._types import Frame, Landmarks, Mask
from ._warp import face_roi, rest_shape, shape_towards, triangulate_face_pair


@dataclass(frozen=True)
class RenderSettings:
    feather_fraction: float = 0.08
    hull_scale: float = 0.96
    forehead_scale: float = 0.85
    colour_smoothing: float = 0.25  # weight of the newest frame's colour statistics
    max_gain: float = 2.0
    shape_transfer: float = 1.0  # as EngineSettings.shape_transfer (_warp.shape_towards)
    # as the EngineSettings of the same names (the skin mask, the highlight knee and the
    # smears left out did not pay on the video clips of make quality; ARCHITECTURE.md,
    # "Engine quality v2")
    skin_mask: bool = False
    local_colour: bool = True
    local_colour_sigma: float = 0.3
    boundary_sigma: float = 0.1
    detail_feather: float = 0.4
    highlight_knee: float = 0.0
    min_source_share: float = 0.0
    keep_target_mouth: bool = True
    antialias_above: float = 1.2
    # the target's expression (its points' offset from their running mean over about
    # this many frames, _warp.rest_shape) added to the source's proportions; 0 = the
    # source's expression, frozen as the photo has it
    expression_frames: int = 90


@dataclass
class _FaceState:
    gain: np.ndarray | None = None  # LAB per-channel gain and offset, smoothed over frames
    offset: np.ndarray | None = None
    rest: Landmarks | None = None  # the face's frontal points at rest (_warp.rest_shape)
    frames: int = 0


class FaceRenderer:
    """Swaps one source face onto followed faces; keeps per-face state between frames.

    Call `render` in frame order (the colour smoothing depends on it).
    """

    def __init__(self, source: Frame, source_points: Landmarks, settings: RenderSettings) -> None:
        self.source = source
        self.source_points = source_points
        self.settings = settings
        self._faces: dict[int, _FaceState] = {}

    def forget(self, keep: set[int]) -> None:
        """Drop the state of faces not in `keep` (their tracks ended)."""
        for face_id in set(self._faces) - keep:
            del self._faces[face_id]

    def render(self, frame: Frame, face_id: int, points: Landmarks) -> bool:
        """Swap the face at `points` in `frame`, in place. False if it is off the frame."""
        roi = face_roi(points, frame.shape)
        if roi.width < 8 or roi.height < 8:
            return False
        state = self._faces.setdefault(face_id, _FaceState())
        if self.settings.shape_transfer > 0:
            points = shape_towards(
                self.source_points, points, self.settings.shape_transfer, FACE_OVAL,
                target_rest=self._rest(state, points),
            )  # fmt: skip
        warped, weights = warp_face_with_weights(
            self.source,
            self.source_points,
            points,
            triangulate_face_pair(self.source_points, points),
            roi,
            self.settings,
        )
        if not weights.any():
            return False
        target = frame[roi.top : roi.bottom, roi.left : roi.right]
        inter_ocular = inter_ocular_distance(points)
        if self.settings.skin_mask:
            weights = weights_on_skin(
                weights, target, warped, points, roi, inter_ocular, self.settings.feather_fraction
            )
        if self.settings.local_colour:
            sigma = self.settings.local_colour_sigma * inter_ocular
            recoloured = transfer_local_shading(
                warped, target, weights, sigma=sigma, knee=self.settings.highlight_knee
            )
        else:
            recoloured = self._recolour(state, warped, target, weights)
        target[...] = blend_face(
            target, recoloured, weights,
            boundary_sigma=self.settings.boundary_sigma * inter_ocular,
            detail_feather=self.settings.detail_feather,
        )  # fmt: skip
        return True

    def _rest(self, state: _FaceState, points: Landmarks) -> Landmarks | None:
        """The face's rest shape with this frame's points in it (a running mean that
        settles to the last `expression_frames`), or None with the expression off."""
        if self.settings.expression_frames <= 0:
            return None
        state.frames += 1
        weight = 1.0 / min(state.frames, self.settings.expression_frames)
        state.rest = rest_shape(state.rest, points, weight)
        return state.rest

    def _recolour(self, state: _FaceState, face: Frame, target: Frame, mask: Mask) -> Frame:
        face_lab = cv2.cvtColor(face, cv2.COLOR_BGR2LAB)
        # the statistics from every other pixel: the same numbers at a quarter of the cost
        sample = (slice(None, None, 2), slice(None, None, 2))
        sample_mask = np.ascontiguousarray(mask[sample])
        target_lab = cv2.cvtColor(np.ascontiguousarray(target[sample]), cv2.COLOR_BGR2LAB)
        face_mean, face_std = cv2.meanStdDev(
            np.ascontiguousarray(face_lab[sample]), mask=sample_mask
        )
        target_mean, target_std = cv2.meanStdDev(target_lab, mask=sample_mask)
        limit = self.settings.max_gain
        gain = np.clip(target_std / np.maximum(face_std, 1e-3), 1 / limit, limit).ravel()
        offset = target_mean.ravel() - face_mean.ravel() * gain
        if state.gain is not None and state.offset is not None:
            keep = 1.0 - self.settings.colour_smoothing
            gain = keep * state.gain + (1.0 - keep) * gain
            offset = keep * state.offset + (1.0 - keep) * offset
        state.gain, state.offset = gain, offset
        levels = np.arange(256, dtype=np.float64)
        channels = [
            cv2.LUT(channel, np.clip(levels * g + o, 0, 255).astype(np.uint8))
            for channel, g, o in zip(cv2.split(face_lab), gain, offset, strict=True)
        ]
        return cv2.cvtColor(cv2.merge(channels), cv2.COLOR_LAB2BGR)
