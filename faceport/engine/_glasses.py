"""Taking the target's glasses frame out where the new face fades into the target.

Inside the face region the source covers whatever the target wore. Where the blend
feathers out, at the temples, the target shows through, and with it the outer corners of
a glasses frame, which then float half-visible next to the new eyes. Those frame pixels
(thin dark lines at eye level, near the face's edge) are filled from their surroundings
before blending, so the feather mixes the new face with glasses-free skin and hair.
"""

from __future__ import annotations

import cv2
import numpy as np

from ._types import Frame, Landmarks, Mask


def eye_band(shape: tuple[int, ...], eye_centres: Landmarks, above: float, below: float) -> Mask:
    """Pixels within `above` / `below` inter-ocular distances of the line through the eyes
    (measured across it, so a rolled head gets a rolled band)."""
    band = np.zeros(shape[:2], np.uint8)
    left, right = eye_centres[0].astype(np.float64), eye_centres[1].astype(np.float64)
    axis = right - left
    iod = float(np.hypot(*axis))
    if iod < 1e-6:
        return band
    along = axis / iod * (shape[0] + shape[1])  # far enough to cross the whole image
    down = np.array([-axis[1], axis[0]]) / iod  # down the face for an upright head
    corners = [
        left - along - above * iod * down,
        left + along - above * iod * down,
        left + along + below * iod * down,
        left - along + below * iod * down,
    ]
    cv2.fillConvexPoly(band, np.rint(corners).astype(np.int32), 255)
    return band


def across_eye_line(eye_centres: Landmarks, size: int) -> np.ndarray:
    """A `size` x `size` structuring element: a one-pixel line through its centre at right
    angles to the line through the eyes (vertical for an upright head)."""
    left, right = eye_centres[0].astype(np.float64), eye_centres[1].astype(np.float64)
    axis = (right - left) / max(float(np.hypot(*(right - left))), 1e-6)
    half = (size - 1) / 2
    reach = half / max(abs(axis[0]), abs(axis[1]))  # to the square's edge at any angle
    ends = [(round(half + axis[1] * reach * k), round(half - axis[0] * reach * k)) for k in (-1, 1)]
    element = np.zeros((size, size), np.uint8)
    cv2.line(element, ends[0], ends[1], 1, 1)
    return element


def remove_glasses_frame(
    target: Frame,
    weights: Mask,
    eye_centres: Landmarks,
    *,
    darkness: float = 0.5,
    reach: float = 0.05,
) -> tuple[Frame, Mask]:
    """Fill in what looks like a glasses frame the blend would let show in `target` (a
    face ROI); return the filled-in ROI and the mask of the pixels that changed.

    Frame pixels are thin lines at eye level, at most `darkness` times as bright as the
    grey-level closing around them (the image with every dark line along the eye line
    thinner than the kernel filled in from above and below, `across_eye_line`: skin and
    hair are brighter than that, a frame's plastic or metal is not), where the face
    weight is below full, no further than
    `reach` inter-ocular distances outside the face region. They take the value of the
    closing, smoothed. Without such lines (no glasses) the target comes back as it was,
    with an empty mask.
    """
    iod = float(np.linalg.norm(eye_centres[1] - eye_centres[0]))
    zone = eye_band(target.shape, eye_centres, 0.5, 0.5)
    zone[weights == 255] = 0
    # distance to the face region (weights > 0) instead of a dilation: one pass, any
    # reach; only around the band (what lies further than `reach` cannot be nearest)
    x, y, w, h = cv2.boundingRect(zone)
    grow = round(reach * iod) + 1
    near = (slice(max(0, y - grow), y + h + grow), slice(max(0, x - grow), x + w + grow))
    outside = cv2.threshold(weights[near], 0, 255, cv2.THRESH_BINARY_INV)[1]
    distance = cv2.distanceTransform(outside, cv2.DIST_L2, 3)
    zone[near] = cv2.bitwise_and(zone[near], cv2.compare(distance, reach * iod, cv2.CMP_LE))
    left, top, width, height = cv2.boundingRect(zone)
    if width == 0:
        return target, zone
    # work on the zone's box only (plus the kernel's reach): the sides of the face at eye
    # level, a fraction of the ROI
    kernel = max(3, round(0.2 * iod)) | 1
    top, left = max(0, top - kernel), max(0, left - kernel)
    bottom, right = top + height + 2 * kernel, left + width + 2 * kernel
    box = (slice(top, bottom), slice(left, right))
    patch = target[box]
    # a closing along a line across the eye line fills dark structures that run along it
    # thinner than the line (an arm, a rim's top and bottom) from above and below; hair at
    # the temples falls across the eye line and stays hair (a square kernel filled the
    # gaps between its strands too, leaving flat blocks of fill; ARCHITECTURE.md, Glasses)
    closed = cv2.morphologyEx(patch, cv2.MORPH_CLOSE, across_eye_line(eye_centres, kernel))
    gray = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY).astype(np.float32)
    around = cv2.cvtColor(closed, cv2.COLOR_BGR2GRAY).astype(np.float32)
    dark = cv2.bitwise_and(cv2.compare(gray, around * np.float32(darkness), cv2.CMP_LT), zone[box])
    mask = np.zeros_like(zone)
    # a frame's anti-aliased rim is a pixel or two wider than its dark core
    mask[box] = cv2.dilate(dark, np.ones((3, 3), np.uint8))
    if not mask.any():
        return target, mask
    # the closing steps from one column to the next: a blur of a third of its size hides that
    smooth = max(3, kernel // 3)
    filled = cv2.blur(closed, (smooth, smooth))
    cleaned = target.copy()
    cv2.copyTo(filled, mask[box], cleaned[box])
    return cleaned, mask


def _box_in_face_frame(
    anchor: np.ndarray, axis: np.ndarray, across: float, down: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Frame coordinates (xs, ys), 15 x 15, of a face-aligned box: `across` inter-ocular
    distances either side of `anchor` along the eye axis, rows from `down[0]` to `down[1]`
    inter-ocular distances down the face (a rolled head gets a rolled box)."""
    iod = float(np.hypot(*axis))
    unit = axis / iod
    normal = np.array([-unit[1], unit[0]])
    columns = np.linspace(-across, across, 15, dtype=np.float32) * iod
    rows = np.linspace(down[0], down[1], 15, dtype=np.float32) * iod
    xs = anchor[0] + unit[0] * columns[None, :] + normal[0] * rows[:, None]
    ys = anchor[1] + unit[1] * columns[None, :] + normal[1] * rows[:, None]
    return xs, ys


def _row_means(lines: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Mean of `lines` along each row of a box from `_box_in_face_frame`, its coordinates
    already moved into `lines`' own."""
    sampled = cv2.remap(lines, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return sampled.mean(axis=1)


def glasses_score(frame: Frame, eye_centres: Landmarks) -> float:
    """How strongly the face whose eyes are at `eye_centres` looks like it wears glasses.

    A frame is a thin dark line crossing the nose between the eyes (the bridge) and
    running under each eye (the lower rims), where bare skin is smooth. Lines are measured
    with a black-hat filter (each pixel's darkness against its grey-level closing),
    averaged along each row of a box on the bridge and one under each eye; the weakest of
    the three boxes' darkest rows (a crease under one eye or a shadow on the nose is not
    enough) is divided by the line strength of the cheeks below (plus 2 grey levels), so
    wrinkled or grainy skin, lined everywhere, does not pass for a frame. Bare faces
    score 0.1-1.2, frames 1.4 and up; the threshold (`EngineSettings.glasses_min_score`)
    and its false-positive rate on the quality set are in ARCHITECTURE.md.
    """
    left, right = eye_centres[0].astype(np.float64), eye_centres[1].astype(np.float64)
    axis = right - left
    iod = float(np.hypot(*axis))
    if iod < 4:
        return 0.0
    centre = (left + right) / 2
    boxes = [
        _box_in_face_frame(centre, axis, 0.12, (-0.3, 0.1)),  # the bridge
        *(_box_in_face_frame(eye, axis, 0.25, (0.15, 0.5)) for eye in (left, right)),  # rims
        *(_box_in_face_frame(eye, axis, 0.25, (0.6, 0.9)) for eye in (left, right)),  # cheeks
    ]
    size = max(3, round(0.12 * iod)) | 1
    # the line filter only where the boxes sample it, plus the reach of its closing (a
    # dilation then an erosion), so each sample is what the filter on the frame would give
    xs = np.concatenate([box[0].ravel() for box in boxes])
    ys = np.concatenate([box[1].ravel() for box in boxes])
    height, width = frame.shape[:2]
    x0, x1 = (int(np.clip(v, 0, width)) for v in (xs.min() - 2 * size, xs.max() + 2 * size + 2))
    y0, y1 = (int(np.clip(v, 0, height)) for v in (ys.min() - 2 * size, ys.max() + 2 * size + 2))
    if x1 <= x0 or y1 <= y0:
        return 0.0
    gray = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    lines = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel).astype(np.float32)
    rows = [_row_means(lines, box_xs - x0, box_ys - y0) for box_xs, box_ys in boxes]
    bridge, rims, cheeks = rows[0].max(), [r.max() for r in rows[1:3]], [r.mean() for r in rows[3:]]
    return float(min(bridge, *rims) / (max(cheeks) + 2.0))
