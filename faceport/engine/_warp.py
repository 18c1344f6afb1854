"""Piecewise-affine warp of a source face onto target landmarks."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ._landmarks import (
    IMAGE_LEFT_CHEEK_EDGE,
    IMAGE_RIGHT_CHEEK_EDGE,
    five_point_landmarks,
    mesh_triangles,
    turn_of,
)
from ._types import Box, Frame, Landmarks, Mask, Triangles


def align_points(points: Landmarks, reference: Landmarks) -> Landmarks:
    """Return `points` moved by the similarity transform that best fits them to `reference`."""
    matrix, _ = cv2.estimateAffinePartial2D(points, reference, method=cv2.LMEDS)
    if matrix is None:
        return points.copy()
    homogeneous = np.hstack([points, np.ones((len(points), 1), dtype=np.float32)])
    return (homogeneous @ matrix.T.astype(np.float32)).astype(np.float32)


def facing_camera(points: Landmarks, triangles: Triangles) -> np.ndarray:
    """Whether each triangle (all wound alike) faces the camera on `points`: it has the
    winding that most of the face's area has."""
    areas = _determinants(_edge_matrices(points[triangles].astype(np.float64)))
    return np.asarray(areas * np.sign(areas.sum()) > 0)


def triangulate_face_pair(source: Landmarks, target: Landmarks) -> Triangles:
    """The mesh's triangles (`_landmarks.mesh_triangles`) in the order to paint them on
    the target: first those that face away there (the far side of a turned face, folded
    under the near side), then those that face away in the source (a cheek it does not
    show), then the rest, so the warp's last word on a pixel is a surface both faces show.
    """
    triangles = mesh_triangles()
    target_shows, source_shows = (facing_camera(points, triangles) for points in (target, source))
    order = np.argsort(2 * target_shows.astype(np.int8) + source_shows, kind="stable")
    return triangles[order]


def face_roi(landmarks: Landmarks, frame_shape: tuple[int, ...], padding: int = 2) -> Box:
    """Return the bounding box of the landmarks, padded and clipped to the frame."""
    height, width = frame_shape[:2]
    low = np.floor(landmarks.min(axis=0)).astype(int) - padding
    high = np.ceil(landmarks.max(axis=0)).astype(int) + padding + 1
    return Box(
        left=max(0, int(low[0])),
        top=max(0, int(low[1])),
        right=min(width, int(high[0])),
        bottom=min(height, int(high[1])),
    )


def _edge_matrices(corners: np.ndarray) -> np.ndarray:
    """Each triangle's (M, 3, 2) corners as a (2, 2) matrix of its two edges from the
    first corner, as columns; float64."""
    return np.stack([corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]], axis=2).astype(
        np.float64
    )


def _determinants(edges: np.ndarray) -> np.ndarray:
    """Each (2, 2) matrix's determinant: twice the signed area of a triangle by its edges."""
    return np.asarray(edges[:, 0, 0] * edges[:, 1, 1] - edges[:, 0, 1] * edges[:, 1, 0])


def warp_face_to_landmarks(
    source_frame: Frame,
    source_landmarks: Landmarks,
    target_landmarks: Landmarks,
    triangles: Triangles,
    roi: Box,
    *,
    min_source_share: float = 0.0,
    antialias_above: float = 0.0,
) -> tuple[Frame, Mask]:
    """Warp the source face so its landmarks land on the target's, inside `roi` of the target.

    Returns the warped pixels (shape of the ROI) and a mask of the pixels the triangles
    cover. Each ROI pixel is labelled with its triangle, every pixel gets that triangle's
    affine map back into the source, and a single `cv2.remap` samples the source: one pass
    over the ROI instead of one warp per triangle. With `min_source_share` > 0 the mask
    leaves out the triangles the source shows at less than that share of their area on
    the target (the two faces' sizes taken out): a sliver of a turned source's far cheek
    stretched over the target is a smear (ARCHITECTURE.md, "Engine quality v2", Smears).
    With `antialias_above` > 0, a source face more than that many times the target's size
    (in length) is sampled from a copy shrunk to the target's size (`_source_shrunk`).
    """
    origin = np.array([roi.left, roi.top], dtype=np.float32)
    target_local = target_landmarks - origin
    target_corners = target_local[triangles]  # (M, 3, 2)
    source_corners = source_landmarks[triangles]

    # affine per triangle in closed form: linear part = source edges @ inverse(target edges)
    target_edges, source_edges = _edge_matrices(target_corners), _edge_matrices(source_corners)
    determinant, source_determinant = _determinants(target_edges), _determinants(source_edges)
    # slivers have no usable inverse; leave them out (their neighbours cover the pixels)
    keep = np.abs(determinant) > 1e-3
    target_edges, source_edges = target_edges[keep], source_edges[keep]
    determinant, source_determinant = determinant[keep], source_determinant[keep]
    target_corners, source_corners = target_corners[keep], source_corners[keep]
    inverse = np.empty_like(target_edges)
    inverse[:, 0, 0] = target_edges[:, 1, 1]
    inverse[:, 0, 1] = -target_edges[:, 0, 1]
    inverse[:, 1, 0] = -target_edges[:, 1, 0]
    inverse[:, 1, 1] = target_edges[:, 0, 0]
    inverse /= determinant[:, None, None]
    linear = source_edges @ inverse  # (M, 2, 2)
    translation = source_corners[:, 0] - np.einsum("mij,mj->mi", linear, target_corners[:, 0])

    labels = np.zeros((roi.height, roi.width), dtype=np.int32)
    for label, corners in enumerate(np.rint(target_corners).astype(np.int32), start=1):
        cv2.fillConvexPoly(labels, corners, label)

    # the six affine coefficients of each pixel's triangle, gathered in one `take` (one
    # pass over the labels, not six); label 0 (no triangle) maps off the source, and those
    # pixels are outside the mask anyway
    table = np.empty((6, len(linear) + 1), dtype=np.float32)
    table[:, 0] = (0.0, 0.0, -1e5, 0.0, 0.0, -1e5)
    table[:, 1:] = np.stack(
        [linear[:, 0, 0], linear[:, 0, 1], translation[:, 0],
         linear[:, 1, 0], linear[:, 1, 1], translation[:, 1]]
    )  # fmt: skip
    a, b, c, d, e, f = np.take(table, labels.ravel(), axis=1).reshape(6, *labels.shape)
    xs = np.arange(roi.width, dtype=np.float32)[None, :]
    ys = np.arange(roi.height, dtype=np.float32)[:, None]
    map_x = a * xs
    map_x += b * ys
    map_x += c
    map_y = d * xs
    map_y += e * ys
    map_y += f
    scale = np.abs(source_determinant).sum() / max(float(np.abs(determinant).sum()), 1e-9)
    shrink = float(np.sqrt(scale))
    sampled = source_frame
    if antialias_above and shrink > antialias_above:
        sampled, map_x, map_y = _source_shrunk(source_frame, source_landmarks, shrink, map_x, map_y)
    # replicate, so a source face cut off by its frame edge smears rather than goes black
    warped = cv2.remap(sampled, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    source_share = np.abs(source_determinant) / np.maximum(np.abs(determinant), 1e-9)
    covers = np.zeros(len(linear) + 1, dtype=np.uint8)
    covers[1:] = np.where(source_share >= min_source_share * scale, 255, 0)
    return warped, covers[labels]


def _source_shrunk(
    source_frame: Frame,
    source_landmarks: Landmarks,
    shrink: float,
    map_x: np.ndarray,
    map_y: np.ndarray,
) -> tuple[Frame, np.ndarray, np.ndarray]:
    """The source's face region shrunk `shrink` times by area averaging, and the sampling
    maps moved onto it: a bilinear sample of a face several times the target's size picks
    one source pixel of many, and a thin line (a strand of hair, a crease) comes out dotted."""
    height, width = source_frame.shape[:2]
    margin = 2 + round(2 * shrink)
    left, top = np.floor(source_landmarks.min(axis=0)).astype(int) - margin
    right, bottom = np.ceil(source_landmarks.max(axis=0)).astype(int) + margin
    left, top = max(int(left), 0), max(int(top), 0)
    right, bottom = min(int(right), width), min(int(bottom), height)
    size = (max(1, round((right - left) / shrink)), max(1, round((bottom - top) / shrink)))
    shrunk = cv2.resize(source_frame[top:bottom, left:right], size, interpolation=cv2.INTER_AREA)
    scale_x, scale_y = size[0] / (right - left), size[1] / (bottom - top)
    # pixel centres: x in the crop maps to (x + 0.5) * scale - 0.5 in the shrunk copy
    return (
        shrunk,
        (map_x - (left - 0.5)) * scale_x - 0.5,
        (map_y - (top - 0.5)) * scale_y - 0.5,
    )


def shape_towards(
    source: Landmarks,
    target: Landmarks,
    amount: float,
    outline: tuple[int, ...],
    *,
    target_rest: Landmarks | None = None,
) -> Landmarks:
    """The target's landmarks moved `amount` of the way (0..1) to the source's shape, its
    `outline` points held where they are.

    Both faces are turned to the front first (`HeadView`), the source aligned onto the
    target there by a similarity and turned back as the target is, so position, size, roll
    and turn stay the target's and only the proportions change: at 1 the source's inner
    face (where its eyes, brows, nose and mouth sit, and how big they are) is placed
    rigidly, and only the band to the outline is bent to meet the target's jaw and hair line.
    With `target_rest` (the target's frontal points at rest, `rest_shape`), how far the
    target's frontal points are from it, its expression, is added to the source's.
    """
    source_view, target_view = HeadView.of(source), HeadView.of(target)
    target_frontal = target_view.frontal(target)
    frontal = align_points(source_view.frontal(source), target_frontal)
    if target_rest is not None:
        frontal = frontal + (target_frontal - align_points(target_rest, target_frontal))
    aligned = target_view.seen(frontal)
    shaped = (target + np.float32(amount) * (aligned - target)).astype(np.float32)
    shaped[list(outline)] = target[list(outline)]
    return shaped


def rest_shape(rest: Landmarks | None, points: Landmarks, weight: float) -> Landmarks:
    """The running rest shape of a followed face: `rest` moved `weight` of the way to
    `points` turned to the front (`HeadView.frontal`) and aligned onto it; the frontal
    points themselves for the first frame."""
    frontal = HeadView.of(points).frontal(points)
    if rest is None:
        return frontal
    return (rest + np.float32(weight) * (align_points(frontal, rest) - rest)).astype(np.float32)


def level_turn(points: Landmarks) -> float:
    """`_landmarks.turn_of` of the face with its eyes levelled first (tan of its
    `HeadView` yaw)."""
    return float(np.tan(HeadView.of(points).yaw))


@dataclass(frozen=True)
class HeadView:
    """How a face is turned, with the head taken as an upright cylinder: its axis through
    the middle of the cheek edges, turned by `yaw` (from the nose's offset between them;
    see ARCHITECTURE.md, "Engine quality v2"), in a frame where the eyes are level."""

    centre: np.ndarray  # what the frame's roll turns about
    roll: float
    axis: float  # the cylinder's axis, x in the levelled frame
    radius: float
    yaw: float

    @classmethod
    def of(cls, points: Landmarks) -> HeadView:
        """The view of the face with these landmarks."""
        eyes = five_point_landmarks(points)[:2]
        roll = float(np.arctan2(eyes[1, 1] - eyes[0, 1], eyes[1, 0] - eyes[0, 0]))
        centre = points.mean(axis=0)
        level = _rotated(points - centre, -roll)
        left, right = level[IMAGE_LEFT_CHEEK_EDGE, 0], level[IMAGE_RIGHT_CHEEK_EDGE, 0]
        axis, half_width = (left + right) / 2, max(abs(right - left) / 2, 1e-3)
        # the cheek edges are the cylinder's sides, seen at cos(yaw) of its radius; the
        # nose tip its front, seen at sin(yaw): their ratio, `turn_of`, is tan(yaw)
        yaw = float(np.arctan(turn_of(level)))
        return cls(centre, roll, float(axis), float(half_width / np.cos(yaw)), yaw)

    def frontal(self, points: Landmarks) -> Landmarks:
        """`points` as they would lie on the face turned to the front (levelled)."""
        level = _rotated(points - self.centre, -self.roll)
        return self._turned(level, -self.yaw)

    def seen(self, frontal: Landmarks) -> Landmarks:
        """Frontal points (`frontal`) as this face shows them: turned, rolled, in place."""
        return (_rotated(self._turned(frontal, self.yaw), self.roll) + self.centre).astype(
            np.float32
        )

    def _turned(self, level: np.ndarray, yaw: float) -> Landmarks:
        turned = level.astype(np.float32)
        angle = np.arcsin(np.clip((level[:, 0] - self.axis) / self.radius, -1.0, 1.0)) + yaw
        turned[:, 0] = self.axis + self.radius * np.sin(np.clip(angle, -np.pi / 2, np.pi / 2))
        return turned


def _rotated(points: np.ndarray, angle: float) -> np.ndarray:
    cos, sin = np.cos(angle), np.sin(angle)
    return (points @ np.array([[cos, sin], [-sin, cos]], np.float32)).astype(np.float32)
