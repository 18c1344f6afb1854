"""Alignment to the ArcFace 5-point template, the soft face mask, and paste-back.

The neural models see faces only as square crops on insightface's template: the 5 points
(eye centres, nose tip, mouth corners) mapped by a similarity transform (Umeyama's least
squares: rotation, uniform scale, shift) onto fixed positions. Pasting back runs the
inverse transform over the face's bounding box only, so the rest of the frame is never
touched.
"""

from __future__ import annotations

import cv2
import numpy as np

from .._blend import alpha_blend_roi
from .._types import Box, Frame, Landmarks, Mask

# insightface's ArcFace template for 112x112 crops: eyes, nose tip, mouth corners
ARCFACE_TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def template_points(size: int) -> Landmarks:
    """The template for a `size` crop, as insightface's `norm_crop` scales it: multiples of
    112 scale it, other sizes scale it as 128 and shift it right by 8/128 of the side."""
    if size % 112 == 0:
        return ARCFACE_TEMPLATE_112 * np.float32(size / 112)
    ratio = size / 128
    return ARCFACE_TEMPLATE_112 * np.float32(ratio) + np.array([8 * ratio, 0], np.float32)


def similarity_matrix(source: Landmarks, destination: Landmarks) -> np.ndarray:
    """The 2x3 similarity transform taking `source` points closest to `destination`
    (least squares, Umeyama 1991: no shear, no reflection)."""
    src = source.astype(np.float64)
    dst = destination.astype(np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    signs = np.array([1.0, 1.0 if np.linalg.det(covariance) >= 0 else -1.0])
    rotation = u @ np.diag(signs) @ vt
    scale = float(singular @ signs) / float((src_c**2).sum(axis=1).mean())
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]])


def aligned_crop(frame: Frame, five_points: Landmarks, size: int) -> tuple[Frame, np.ndarray]:
    """The `size` x `size` crop of `frame` with `five_points` on the template, and the
    2x3 matrix that maps frame pixels to crop pixels."""
    matrix = similarity_matrix(five_points, template_points(size))
    crop = cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    return crop, matrix


def crop_face_mask(
    points: Landmarks, matrix: np.ndarray, size: int, *, forehead_keep: float = 0.7
) -> Mask:
    """A soft mask in crop coordinates over the face of the 468 mesh `points` (frame
    pixels): their hull with the forehead lowered (the target's hair line stays), faded
    out before the crop's edge so no crop border can show."""
    local = cv2.transform(points.reshape(-1, 1, 2).astype(np.float64), matrix).reshape(-1, 2)
    eye_y = float(template_points(size)[:2, 1].mean())
    above = local[:, 1] < eye_y
    local[above, 1] = eye_y - (eye_y - local[above, 1]) * forehead_keep
    hull = cv2.convexHull(np.round(local).astype(np.int32))
    mask = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(mask, hull, 255)
    feather = max(2, size // 16)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=feather // 2)
    edge = np.zeros_like(mask)
    edge[feather:-feather, feather:-feather] = 255
    mask = np.minimum(mask, edge)
    return cv2.GaussianBlur(mask, (0, 0), sigmaX=feather / 2)


def paste_back_in_place(
    frame: Frame, crop: Frame, matrix: np.ndarray, mask: Mask
) -> tuple[Box, Mask] | None:
    """Lay `crop` (made with `matrix` by `aligned_crop`) back onto `frame` through the
    inverse transform, weighted by `mask`; writes into `frame`, returns the box it read and
    wrote and the weights there (the frame is unchanged wherever they are 0). None when the
    mask is empty or falls outside the frame."""
    inverse = cv2.invertAffineTransform(matrix)
    x, y, w, h = cv2.boundingRect(mask)  # only where the mask reaches: less to warp
    corners = np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]], np.float64)
    mapped = cv2.transform(corners.reshape(-1, 1, 2), inverse).reshape(-1, 2)
    height, width = frame.shape[:2]
    left, top = (max(0, int(np.floor(v))) for v in mapped.min(axis=0))
    right = min(width, int(np.ceil(mapped[:, 0].max())) + 1)
    bottom = min(height, int(np.ceil(mapped[:, 1].max())) + 1)
    if w == 0 or right - left < 2 or bottom - top < 2:
        return None
    roi = Box(left, top, right, bottom)
    local = inverse.copy()
    local[:, 2] -= (left, top)
    shape = (roi.width, roi.height)
    face = cv2.warpAffine(crop, local, shape, flags=cv2.INTER_LINEAR, borderValue=0)
    weights = cv2.warpAffine(mask, local, shape, flags=cv2.INTER_LINEAR, borderValue=0)
    view = frame[top:bottom, left:right]
    view[...] = alpha_blend_roi(view, face, weights)
    return roi, weights
